"""The ``symgrad`` command line: ``main(argv) -> int``.

Exit codes (stable; CI pipelines depend on them): 0 ran and every verdict is pass/exact; 1 ran
and a check failed or was inconclusive; 2 bad input or usage, with one clear line on stderr.
Data goes to stdout, messages and progress to stderr.  Only this module prints.
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
from symgrad.errors import ConfigError, ParseError, SymgradError
from symgrad.gci import gci
from symgrad.stencils import Stencil

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], tuple[str, int]]
RESULT_FORMATS = ("text", "markdown", "json")


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
    for name, summary, handler in (
        ("grad", "gradient of a scalar expression", _run_grad),
        ("hessian", "Hessian (second partials) of an expression", _run_hessian),
        ("jacobian", "Jacobian of several expressions", _run_jacobian),
    ):
        _add_symbolic(commands, name, summary, handler)
    _add_stencil(commands)
    _add_gci(commands)
    return parser


def _command(commands: Any, name: str, summary: str, handler: Handler) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    sub.set_defaults(handler=handler)
    return sub


# -- grad, hessian, jacobian ------------------------------------------------------------------


def _add_symbolic(commands: Any, name: str, summary: str, handler: Handler) -> None:
    sub = _command(commands, name, summary, handler)
    if name == "jacobian":
        sub.add_argument("expr", nargs="+", help="expressions, e.g. 'x*y' 'x+y'")
    else:
        sub.add_argument("expr", help="expression, e.g. '2*x**2 + 3*y**2 - 4*z'")
    sub.add_argument("--vars", help="variable order, e.g. x,y,z (default: sorted by name)")
    sub.add_argument("--format", choices=("text", "latex", "json"), default="text")


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
    if fmt == "latex":
        cells = compiled.to_latex()
        rows = [[c] for c in cells] if key == "gradient" else cells
        body = " \\\\ ".join(" & ".join(row) for row in rows)
        return f"\\begin{{pmatrix}} {body} \\end{{pmatrix}}"
    cells = compiled.to_strings()
    lines = [f"{key} in ({', '.join(names)}):"]
    if key == "gradient":
        lines += [f"  d/d{n} = {c}" for n, c in zip(names, cells, strict=True)]
    else:
        width = max(len(c) for row in cells for c in row)
        lines += ["  [ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells]
    return "\n".join(lines)


# -- stencil ------------------------------------------------------------------------------------


def _add_stencil(commands: Any) -> None:
    sub = _command(
        commands, "stencil", "exact finite-difference weights and error term", _run_stencil
    )
    sub.add_argument("--derivative", type=int, required=True, help="derivative order m")
    how = sub.add_mutually_exclusive_group(required=True)
    how.add_argument("--accuracy", type=int, help="accuracy order p")
    how.add_argument("--offsets", help="stencil offsets in steps, e.g. -2,-1,0,1,2 or -1/2,1/2")
    sub.add_argument("--kind", choices=("central", "forward", "backward"), default="central")
    sub.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text")


def _run_stencil(args: argparse.Namespace) -> tuple[str, int]:
    if args.offsets is not None:
        stencil = Stencil.from_offsets(args.derivative, args.offsets)
    else:
        stencil = getattr(Stencil, args.kind)(args.derivative, args.accuracy)
    renderers: dict[str, Callable[[], str]] = {
        "text": stencil.to_text,
        "latex": stencil.latex,
        "markdown": stencil.to_markdown,
        "json": lambda: json.dumps(stencil.to_dict(), indent=2),
    }
    return renderers[args.format](), 0


# -- gci ------------------------------------------------------------------------------------------


def _add_gci(commands: Any) -> None:
    sub = _command(commands, "gci", "Grid Convergence Index from three or more solutions", _run_gci)
    sub.add_argument("--values", required=True, help="solutions, e.g. 6.063,5.972,5.863")
    sizes = sub.add_mutually_exclusive_group(required=True)
    sizes.add_argument("--cells", help="cell counts, e.g. 18000,8000,4500 (needs --dim)")
    sizes.add_argument("--spacing", help="representative spacings, e.g. 0.01,0.02,0.04")
    sub.add_argument("--dim", type=int, help="dimension for --cells")
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_gci(args: argparse.Namespace) -> tuple[str, int]:
    values = _numbers("--values", args.values, float)
    if args.cells is not None:
        if args.dim is None:
            msg = "--cells needs --dim (the number of space dimensions, 1 to 3)"
            raise ConfigError(msg)
        result = gci(values, cells=_numbers("--cells", args.cells, int), dim=args.dim)
    else:
        result = gci(values, spacing=_numbers("--spacing", args.spacing, float))
    return _render_result(result, args.format)


# -- shared helpers -------------------------------------------------------------------------


def _numbers(option: str, text: str, kind: Callable[[str], Any]) -> list[Any]:
    """A comma-separated list of numbers, with a message naming the option when it is not."""
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        msg = f"{option} must be comma-separated numbers (got {text[:80]!r})"
        raise ConfigError(msg) from exc


def _render_result(result: Any, fmt: str) -> tuple[str, int]:
    """Any result object in the chosen format; exit 0 when its verdict is pass or exact."""
    renderers = {"text": result.to_text, "markdown": result.to_markdown, "json": result.to_json}
    return renderers[fmt](), 0 if result.status.ok else 1
