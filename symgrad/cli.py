"""The ``symgrad`` command line: ``main(argv) -> int``.

Exit codes (stable; CI pipelines depend on them): 0 ran and every verdict is pass/exact; 1 ran
and a check failed or was inconclusive; 2 bad input or usage, with one clear line on stderr.
Data goes to stdout, messages to stderr.  Only this module prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from symgrad import __version__
from symgrad.codegen import Compiled
from symgrad.derivatives import gradient, hessian, jacobian
from symgrad.errors import ParseError, SymgradError

__all__ = ["main"]

FORMATS_SYMBOLIC = ("text", "latex", "json")

Handler = Callable[[argparse.Namespace], tuple[str, int]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        output, code = handler(args)
    except SymgradError as exc:
        _report_error(exc)
        return 2
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return code


def _report_error(exc: SymgradError) -> None:
    """One clear line on stderr; the caret snippet of a parse error only on a terminal."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    sys.stderr.write(f"symgrad: error: {first}\n")
    if isinstance(exc, ParseError) and exc.snippet and sys.stderr.isatty():
        sys.stderr.write(exc.snippet + "\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symgrad",
        description="Symbolic derivatives, compiled to NumPy, cross-checked at high precision.",
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    _add_symbolic(commands, "grad", "gradient of a scalar expression", _run_grad)
    _add_symbolic(commands, "hessian", "Hessian (second partials) of an expression", _run_hessian)
    _add_symbolic(commands, "jacobian", "Jacobian of several expressions", _run_jacobian)
    return parser


def _add_symbolic(
    commands: Any, name: str, summary: str, handler: Handler
) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    if name == "jacobian":
        sub.add_argument("expr", nargs="+", help="expressions, e.g. 'x*y' 'x+y'")
    else:
        sub.add_argument("expr", help="expression, e.g. '2*x**2 + 3*y**2 - 4*z'")
    sub.add_argument("--vars", help="variable order, e.g. x,y,z (default: sorted by name)")
    sub.add_argument("--format", choices=FORMATS_SYMBOLIC, default="text")
    sub.set_defaults(handler=handler)
    return sub


def _run_grad(args: argparse.Namespace) -> tuple[str, int]:
    return _render_symbolic(gradient(args.expr, args.vars), "gradient", args.format), 0


def _run_hessian(args: argparse.Namespace) -> tuple[str, int]:
    return _render_symbolic(hessian(args.expr, args.vars), "hessian", args.format), 0


def _run_jacobian(args: argparse.Namespace) -> tuple[str, int]:
    return _render_symbolic(jacobian(args.expr, args.vars), "jacobian", args.format), 0


def _render_symbolic(compiled: Compiled, key: str, fmt: str) -> str:
    """Text, LaTeX or the JSON of DESIGN.md for gradient, Hessian and Jacobian."""
    names = [v.name for v in compiled.variables]
    if fmt == "json":
        return json.dumps({"variables": names, key: compiled.to_strings()}, indent=2)
    cells = compiled.to_latex() if fmt == "latex" else compiled.to_strings()
    if fmt == "latex":
        return _latex_block(cells, key)
    lines = [f"{key} in ({', '.join(names)}):"]
    if key == "gradient":
        lines += [f"  d/d{n} = {c}" for n, c in zip(names, cells, strict=True)]
    else:
        width = max(len(c) for row in cells for c in row)
        lines += ["  [ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]
    return "\n".join(lines)


def _latex_block(cells: Any, key: str) -> str:
    """A LaTeX column vector (gradient) or matrix (Hessian, Jacobian)."""
    rows = [[c] for c in cells] if key == "gradient" else cells
    body = " \\\\ ".join(" & ".join(row) for row in rows)
    return f"\\begin{{pmatrix}} {body} \\end{{pmatrix}}"
