"""The ``symgrad`` command line: ``main(argv) -> int``.

Exit codes (stable; CI pipelines depend on them): 0 ran and every verdict is pass/exact; 1 ran
and a check failed or was inconclusive; 2 bad input or usage, with one clear line on stderr.
Data goes to stdout, messages and progress to stderr.  Only this module prints.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from symgrad import __version__
from symgrad._files import write_atomic
from symgrad.checks import check
from symgrad.derive import Compiled, gradient, hessian, jacobian
from symgrad.errors import ConfigError, LimitExceeded, ParseError, SymgradError
from symgrad.expr import validate_name
from symgrad.fd import Stencil, convergence
from symgrad.grids import gci, verify_grid
from symgrad.output import report
from symgrad.teaching import steps

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], tuple[str, int]]
RESULT_FORMATS = ("text", "markdown", "json")


# Options whose values may start with "-" (negative numbers, lists such as -2,-1,0,1,2).
_VALUE_OPTIONS = frozenset(
    {"--at", "--domain", "--offsets", "--values", "--cells", "--spacing", "--steps", "--step"}
)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"symgrad: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(_join_values(sys.argv[1:] if argv is None else list(argv)))
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0)
    handler: Handler = args.handler
    try:
        with _time_limit(args.timeout):
            output, code = handler(args)
    except SymgradError as exc:
        _report_error(exc)
        return 2
    sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return code


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """``--timeout``: stop a runaway job with ``LimitExceeded(timeout)`` (exit 2).

    A real-time alarm interrupts Python code, SymPy and mpmath (big-integer arithmetic polls for
    signals); it needs a POSIX main thread, elsewhere the limit is not enforced.
    """
    main = threading.current_thread() is threading.main_thread()
    if seconds is None or seconds <= 0 or not hasattr(signal, "setitimer") or not main:
        yield
        return
    limit: float = seconds

    def expire(signum: int, frame: object) -> None:  # noqa: ARG001 - the signal API's shape
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    except _Expired:
        msg = f"stopped after the --timeout of {limit:g} s; simplify the input or raise the limit"
        raise LimitExceeded(msg, limit="timeout", value=limit, allowed=limit) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Expired(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` on the way swallows it."""


def _join_values(argv: list[str]) -> list[str]:
    """``--offsets -2,-1`` → ``--offsets=-2,-1``: argparse would read ``-2,-1`` as an option."""
    joined: list[str] = []
    items = iter(argv)
    for item in items:
        if item in _VALUE_OPTIONS:
            value = next(items, None)
            joined.append(item if value is None else f"{item}={value}")
        else:
            joined.append(item)
    return joined


def _report_error(exc: SymgradError) -> None:
    """One clear line on stderr; the caret snippet of a parse error only on a terminal."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    sys.stderr.write(f"symgrad: error: {first}\n")
    if isinstance(exc, ParseError) and exc.snippet and sys.stderr.isatty():
        sys.stderr.write(exc.snippet + "\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgrad",
        description="Symbolic derivatives, compiled to NumPy, cross-checked at high precision.",
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop any command that runs longer (exit 2); for untrusted input in pipelines",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for name, summary, handler in (
        ("grad", "gradient of a scalar expression", _run_grad),
        ("hessian", "Hessian (second partials) of an expression", _run_hessian),
        ("jacobian", "Jacobian of several expressions", _run_jacobian),
    ):
        _add_symbolic(commands, name, summary, handler)
    _add_check(commands)
    _add_converge(commands)
    _add_verify_grid(commands)
    _add_gci(commands)
    _add_stencil(commands)
    _add_steps(commands)
    _add_report(commands)
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
    if name == "grad":
        sub.add_argument(
            "--plot",
            help="also draw it: a gradient field (two variables) or secant and tangent lines "
            "(one variable), as PNG, SVG or PDF",
        )
        sub.add_argument("--domain", help="plot box for two variables (default: -2:2 each)")
        sub.add_argument("--at", help="tangent point for one variable, e.g. x=1 (default 1)")


def _run_grad(args: argparse.Namespace) -> tuple[str, int]:
    compiled = gradient(args.expr, args.vars)
    if args.plot:
        _plot_gradient(args, [v.name for v in compiled.variables])
    return _render_symbolic(compiled, "gradient", args.format), 0


def _plot_gradient(args: argparse.Namespace, names: list[str]) -> None:
    """The teaching picture of a gradient: a field over contours, or secant and tangent."""
    from symgrad.output import plot_gradient_field, plot_secant_tangent, save_figure  # noqa: PLC0415

    path = _output_path(args.plot)
    if len(names) == 2:
        domain = args.domain or ",".join(f"{n}=-2:2" for n in names)
        figure = plot_gradient_field(args.expr, domain, variables=names)
    elif len(names) == 1:
        x0 = args.at.partition("=")[2] if args.at else "1"
        figure = plot_secant_tangent(args.expr, x0, variable=names[0])
    else:
        msg = f"--plot draws one- or two-variable gradients; this one has {len(names)} variables"
        raise ConfigError(msg)
    save_figure(figure, path)


def _run_hessian(args: argparse.Namespace) -> tuple[str, int]:
    return _render_symbolic(hessian(args.expr, args.vars), "hessian", args.format), 0


def _run_jacobian(args: argparse.Namespace) -> tuple[str, int]:
    return _render_symbolic(jacobian(args.expr, args.vars), "jacobian", args.format), 0


def _render_symbolic(compiled: Compiled, key: str, fmt: str) -> str:
    """Text, LaTeX or the documented JSON (docs/reference/json.md) for gradient, Hessian and Jacobian."""
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


# -- check, converge ---------------------------------------------------------------------------


def _add_check(commands: Any) -> None:
    sub = _command(commands, "check", "cross-check the gradient at a point", _run_check)
    sub.add_argument("expr", help="expression, e.g. 'sin(x+y)*exp(-z**2)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=0.3,y=0.7 (exact decimals)")
    sub.add_argument("--vars", help="variable order (default: sorted by name)")
    sub.add_argument(
        "--kind", default="gradient", help="gradient, hessian, or a partial like 'x x y'"
    )
    sub.add_argument("--dps", type=int, default=50, help="digits of the exact values (default 50)")
    sub.add_argument("--scheme", default="central:4", help="referee stencil, e.g. central:4")
    sub.add_argument("--step", help="finite-difference step (default: chosen from --dps)")
    sub.add_argument(
        "--plot",
        help="also draw the error against step size (float64 and high precision) of forward, "
        "central and complex-step differences for the first variable",
    )
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_check(args: argparse.Namespace) -> tuple[str, int]:
    path = _output_path(args.plot) if args.plot else None
    result = check(
        args.expr,
        args.at,
        kind=args.kind,
        dps=args.dps,
        scheme=args.scheme,
        step=args.step,
        variables=args.vars,
    )
    if path is not None:
        from symgrad.output import plot_step_error, save_figure  # noqa: PLC0415

        first = gradient(args.expr, args.vars).variables[0].name
        save_figure(plot_step_error(args.expr, args.at, first, variables=args.vars), path)
    return _render_result(result, args.format)


def _add_converge(commands: Any) -> None:
    sub = _command(
        commands, "converge", "observed order of finite-difference schemes", _run_converge
    )
    sub.add_argument("expr", help="expression, e.g. 'sin(x)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=1")
    sub.add_argument("--wrt", help="the partial, e.g. x or 'x y' (default: the only variable)")
    sub.add_argument("--vars", help="variable order (default: sorted by name)")
    sub.add_argument("--schemes", default="forward:1,central:2,central:4,complex")
    sub.add_argument("--steps", default="1e-1:1e-12:23", help="FIRST:LAST:COUNT, geometric")
    sub.add_argument("--dps", type=int, default=60)
    sub.add_argument("--precision", choices=("mp", "float64"), default="mp")
    sub.add_argument("--plot", help="also write a convergence plot (PNG, SVG or PDF)")
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_converge(args: argparse.Namespace) -> tuple[str, int]:
    result = convergence(
        args.expr,
        args.at,
        args.wrt,
        schemes=[s for s in args.schemes.split(",") if s.strip()],
        steps=args.steps,
        dps=args.dps,
        precision=args.precision,
        variables=args.vars,
        progress=_Progress.for_terminal("converge"),
    )
    if args.plot:
        from symgrad.output import plot_convergence, save_figure  # noqa: PLC0415

        save_figure(plot_convergence(result), _output_path(args.plot))
    return _render_result(result, args.format)


# -- verify-grid -------------------------------------------------------------------------------


def _add_verify_grid(commands: Any) -> None:
    sub = _command(commands, "verify-grid", "observed order of a grid derivative scheme", _run_grid)
    sub.add_argument("expr", help="manufactured field, e.g. 'sin(x+0.3)*exp(y/2)'")
    sub.add_argument("--domain", required=True, help="box, e.g. x=-1:1,y=-1:1")
    sub.add_argument("--sizes", default="17,33,65,129", help="points per axis on each level")
    sub.add_argument("--scheme", default="numpy", help="numpy, numpy:edge_order=2 or MODULE:FUNC")
    sub.add_argument(
        "--expect-order",
        help="expected order: one number for interior and boundary, or INTERIOR,BOUNDARY",
    )
    sub.add_argument(
        "--boundary-width", type=int, help="layers of boundary points (default: the scheme's)"
    )
    sub.add_argument("--vars", help="axis order (default: the domain's order)")
    sub.add_argument("--exact", choices=("float64", "mp"), default="float64")
    sub.add_argument("--plot", help="also write an error-vs-spacing plot")
    sub.add_argument("--format", choices=RESULT_FORMATS, default="text")


def _run_grid(args: argparse.Namespace) -> tuple[str, int]:
    scheme: Any = args.scheme
    if not scheme.startswith("numpy"):
        scheme = _import_scheme(scheme)
    result = verify_grid(
        args.expr,
        args.domain,
        _numbers("--sizes", args.sizes, int),
        scheme,
        expect_order=_expected_orders(args.expect_order),
        boundary_width=args.boundary_width,
        variables=args.vars,
        exact=args.exact,
    )
    if args.plot:
        from symgrad.output import plot_grid_convergence, save_figure  # noqa: PLC0415

        save_figure(plot_grid_convergence(result), _output_path(args.plot))
    return _render_result(result, args.format)


def _expected_orders(text: str | None) -> float | tuple[float, float] | None:
    """``"2"`` → 2.0; ``"4,2"`` → (4.0, 2.0) for interior and boundary."""
    if text is None:
        return None
    numbers = _numbers("--expect-order", text, float)
    if len(numbers) == 1:
        return float(numbers[0])
    if len(numbers) == 2:
        return (float(numbers[0]), float(numbers[1]))
    msg = f"--expect-order takes one number or INTERIOR,BOUNDARY (got {text[:80]!r})"
    raise ConfigError(msg)


def _import_scheme(spec: str) -> Callable[..., Any]:
    """``MODULE:FUNC`` → the user's own scheme function (their code, imported by name)."""
    module_name, _, func_name = spec.partition(":")
    parts = module_name.split(".")
    try:
        for part in [*parts, func_name]:
            validate_name(part)
    except ParseError as exc:
        msg = f"--scheme must be numpy, numpy:edge_order=2 or MODULE:FUNC (got {spec[:80]!r})"
        raise ConfigError(msg) from exc
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # like python -m: schemes next to the user's files
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"cannot import module {module_name!r} for --scheme: {exc}"
        raise ConfigError(msg) from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        msg = f"module {module_name!r} has no function {func_name!r} for --scheme"
        raise ConfigError(msg)
    return func  # type: ignore[no-any-return]


# -- steps, report ------------------------------------------------------------------------------


def _add_steps(commands: Any) -> None:
    sub = _command(commands, "steps", "differentiate step by step (for learning)", _run_steps)
    sub.add_argument("expr", help="expression, e.g. 'x**2*sin(x)'")
    sub.add_argument("--wrt", help="variable (default: the only one)")
    sub.add_argument("--order", type=int, default=1, help="derivative order (default 1)")
    sub.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text")


def _run_steps(args: argparse.Namespace) -> tuple[str, int]:
    result = steps(args.expr, args.wrt, args.order)
    renderers: dict[str, Callable[[], str]] = {
        "text": result.to_text,
        "latex": result.to_latex,
        "markdown": result.to_markdown,
        "json": result.to_json,
    }
    return renderers[args.format](), 0


def _add_report(commands: Any) -> None:
    sub = _command(commands, "report", "the whole workbench on one expression", _run_report)
    sub.add_argument("expr", help="expression, e.g. 'sin(x+y)*exp(-z**2)'")
    sub.add_argument("--at", required=True, help="the point, e.g. x=0.3,y=0.7,z=0.5")
    sub.add_argument("--vars", help="variable order (default: sorted by name)")
    sub.add_argument("--dps", type=int, default=50)
    sub.add_argument("--output", help="write the report here: .html (default), .md or .json")
    sub.add_argument("--format", choices=("text", "markdown", "json", "html"), default="text")


def _run_report(args: argparse.Namespace) -> tuple[str, int]:
    result = report(
        args.expr,
        args.at,
        dps=args.dps,
        variables=args.vars,
        progress=_Progress.for_terminal("report"),
    )
    if args.output:
        path = _output_path(args.output)
        kind = {".md": "markdown", ".json": "json"}.get(path.suffix.lower(), "html")
        content = {"markdown": result.to_markdown, "json": result.to_json, "html": result.to_html}[
            kind
        ]()
        write_atomic(path, content)
        summary = f"{result.status}: {result.reason}\nreport written to {path}"
        return summary, 0 if result.status.ok else 1
    if args.format == "html":
        return result.to_html(), 0 if result.status.ok else 1
    return _render_result(result, args.format)


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


def _output_path(text: str) -> Path:
    """An output file whose directory exists (checked before any long computation ends)."""
    path = Path(text).expanduser()
    if not path.parent.is_dir():
        msg = f"cannot write {text!r}: the directory {str(path.parent)!r} does not exist"
        raise ConfigError(msg)
    return path


class _Progress:
    """A one-line progress indicator on stderr, only when it is a terminal and not in CI."""

    def __init__(self, label: str) -> None:
        self.label = label

    @classmethod
    def for_terminal(cls, label: str) -> Callable[..., None] | None:
        if not sys.stderr.isatty() or os.environ.get("CI"):
            return None
        return cls(label)

    def __call__(self, *args: Any) -> None:
        *stage, done, total = args
        what = stage[0] if stage else self.label
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{what}: {done}/{total}{end}")
        sys.stderr.flush()


def _render_result(result: Any, fmt: str) -> tuple[str, int]:
    """Any result object in the chosen format; exit 0 when its verdict is pass or exact."""
    renderers = {"text": result.to_text, "markdown": result.to_markdown, "json": result.to_json}
    return renderers[fmt](), 0 if result.status.ok else 1
