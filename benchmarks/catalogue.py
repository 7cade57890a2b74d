"""The hostile-input catalogue: hundreds of bad inputs through the CLI and the API, one table.

Run (niced; a few minutes)::

    nice -n 19 python benchmarks/catalogue.py [--only cli|api] [--limit N]

Every input runs in a :func:`symgrad.run_limited` worker with a 10 s wall-clock limit and a
1 GiB memory cap (the figures the hardening targets), and is sorted into one column:

* **clear error**: a ``SymgradError`` (API), or exit 2 with exactly one line on stderr (CLI);
* **ran**: a result (API), exit 0 or 1 (CLI) — a bad input that is still answerable;
* **traceback**: any other exception, or a traceback, more lines or stdout on exit 2;
* **over time** / **over memory**: the worker was stopped at 10 s or 1 GiB;
* **injected**: code inside an input ran.  Inputs that would create a canary file or start a
  process are included; an audit hook in the worker records ``os.system``, ``subprocess``,
  ``os.exec*`` and ``exec`` of any code that names ``__import__``, ``system``, ``eval``,
  ``exec``, ``subprocess`` or ``popen``, and the canary file must not exist
  afterwards.

The categories follow the hardening brief: huge counts, deep nesting, min/max and products and
Hessians of wide products, bad steps, timeouts, orders and outputs, files in the way, an
unwritable directory, ``/dev/full``, user schemes that raise or name ``os``, API calls with
objects of the wrong kind, undefined constants and points outside the domain.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import math
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import table

import symgrad
from symgrad.errors import LimitExceeded, SymgradError

TIMEOUT, MEMORY = 10.0, 2**30
CANARY = Path(tempfile.gettempdir()) / "symgrad-catalogue-canary"
INJECT = [
    f"__import__('os').system('touch {CANARY}')",
    "exec('import os')",
    "eval('1')*x",
    "x.__class__",
    "().__class__.__bases__[0]",
    "lambda: 0",
    "open('/etc/passwd')",
    f"x + __import__('subprocess').run(['touch', '{CANARY}'])",
    "x; import os",
    "globals()",
]
HUGE = ["x**10**10", "x^9999999999", "9" * 5000 + "*x", "x" + "+x" * 20000, "(" * 5000 + "x" + ")" * 5000,
        "sin(" * 3000 + "x" + ")" * 3000, "exp(exp(exp(exp(exp(x)))))", "x**(1/3)**(1/3)**(1/3)",
        "1e999999*x", "factorial(10**9)*x"]  # fmt: skip
WIDE = ["max(" + ",".join(f"x{i}" for i in range(16)) + ")",
        "*".join(f"max(x{i},x{i + 1})" for i in range(4)),
        "*".join(f"x{i}" for i in range(100)),
        "sin(" + "+".join(f"x{i}**2" for i in range(100)) + ")",
        "min(" + ",".join(f"x{i}" for i in range(40)) + ")*max(y,z)",
        "abs(" + "+".join(f"abs(x{i})" for i in range(30)) + ")",
        "*".join(f"(x{i}+1)" for i in range(60))]  # fmt: skip
UNDEFINED = ["asin(2)*x", "acos(3)", "atanh(2)*x", "(-8)^(1/3)*x", "log(x, 0)", "log(x, 1)",
             "sqrt(-1)*x", "atan2(0, 0)*x", "0/0*x", "1/0*x", "zoo*x", "oo*x", "nan*x",
             "log(0)*x", "(-2)^pi*x", "acosh(1/2)*y"]  # fmt: skip
OUTSIDE = [("log(x)", "x=-1"), ("sqrt(x)", "x=-1"), ("1/x", "x=0"), ("asin(x)", "x=2"),
           ("log(x)", "x=0"), ("x**x", "x=-0.5"), ("atanh(x)", "x=1"), ("acosh(x)", "x=0.5"),
           ("tan(x)", "x=1.5707963267948966"), ("1/(x-1)", "x=1")]  # fmt: skip
BAD_NUMBERS = ["0", "-1", "nan", "inf", "-inf", "1e-400", "1e400", "0/0", "1/0", "abc", "", "1e-9",
               "10**9", "-0.0"]  # fmt: skip


# -- the worker side --------------------------------------------------------------------------


#: Names the injection inputs use; SymPy, NumPy and dataclasses also run generated code
#: (``<lambdifygenerated>``, ``<string>``), but never code naming these.
_INJECTED_NAMES = {"__import__", "system", "eval", "exec", "subprocess", "popen"}


def _names(code: Any) -> tuple[str, ...]:
    """The names used by code compiled from a string (a module's own code is not suspect)."""
    if not str(getattr(code, "co_filename", "")).startswith("<"):
        return ()
    names = getattr(code, "co_names", ())
    return tuple(n for n in names if isinstance(n, str))


def _watch() -> list[str]:
    seen: list[str] = []

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn"):
            seen.append(event)
        elif event == "exec" and args and _INJECTED_NAMES & set(_names(args[0])):
            seen.append(f"exec of code naming {sorted(_INJECTED_NAMES & set(_names(args[0])))}")

    sys.addaudithook(hook)
    return seen


def cli_case(argv: list[str], cwd: str, stdout_path: str | None) -> tuple[int, str, str, list[str]]:
    """In the worker: ``symgrad argv`` in ``cwd``; (code, stdout, stderr, unsafe events)."""
    from symgrad.cli import main  # noqa: PLC0415 - in the worker

    seen = _watch()
    os.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        target: Any = out
        if stdout_path is not None:
            target = stack.enter_context(open(stdout_path, "w", encoding="utf-8"))  # noqa: PTH123
        with contextlib.redirect_stdout(target), contextlib.redirect_stderr(err):
            try:
                code = int(main(argv))
            except BaseException as exc:  # noqa: BLE001 - the finding
                err.write(f"Traceback (escaped): {type(exc).__name__}: {exc}\n")
                code = -1
    return code, out.getvalue(), err.getvalue(), seen


def api_case(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str, list[str]]:
    """In the worker: ``symgrad.<name>(*args, **kwargs)``; (outcome, detail, unsafe events)."""
    seen = _watch()
    try:
        result = getattr(symgrad, name)(*args, **kwargs)
        if callable(result) and name in ("gradient", "hessian", "jacobian", "derivative"):
            result.to_strings()
    except SymgradError as exc:
        return "error", str(exc).splitlines()[0][:120], seen
    except BaseException as exc:  # noqa: BLE001 - the finding
        return "traceback", f"{type(exc).__name__}: {str(exc)[:160]}", seen
    return "ran", type(result).__name__, seen


# -- the catalogue ----------------------------------------------------------------------------

Case = tuple[str, tuple[Any, ...]]  # ("cli", (argv, stdout_path)) or ("api", (name, args, kwargs))


def cli_cases(work: Path) -> list[Case]:
    """Command lines in every category (paths relative to the work directory ``work``)."""
    argvs: list[list[str]] = []
    for text in HUGE + WIDE + INJECT + UNDEFINED:
        argvs += [["grad", text], ["hessian", text], ["check", text, "--at", "x=0.5"]]
    for text in WIDE:
        argvs.append(["jacobian", text, text])
    for expr, at in OUTSIDE:
        argvs += [["check", expr, "--at", at], ["converge", expr, "--at", at],
                  ["report", expr, "--at", at]]  # fmt: skip
    for value in BAD_NUMBERS:
        argvs += [["check", "x**2", "--at", "x=1", "--step", value],
                  ["--timeout", value, "grad", "x"],
                  ["verify-grid", "sin(x)", "--domain", "x=0:1", "--expect-order", value],
                  ["steps", "x**2", "--order", value], ["check", "x**2", "--at", f"x={value}"],
                  ["check", "x**2", "--at", "x=1", "--dps", value],
                  ["converge", "sin(x)", "--at", "x=1", "--step-sizes", f"1e-1:{value}:5"],
                  ["stencil", "--derivative", value, "--accuracy", "2"],
                  ["gci", "--values", f"1,2,{value}", "--spacing", "1,2,4"],
                  ["verify-grid", "sin(x)", "--domain", f"x=0:{value}"],
                  ["--isolate", "--max-memory", value, "grad", "x"]]  # fmt: skip
    for sizes in [
        "3,5",
        "2,3",
        "1,2",
        "5,5",
        "9,5",
        "17,33,65,129,257,513,1025,2049,4097",
        "99999,199999",
        "-5,9",
        "5",
        "",
        "1e3,2e3",
        "3,5,9,17,33,65,129,257,513,1025",
    ]:
        argvs += [["verify-grid", "sin(x)*cos(y)", "--domain", "x=0:1,y=0:1", "--sizes", sizes],
                  ["verify-grid", "log(x)", "--domain", "x=-1:1", "--sizes", sizes]]  # fmt: skip
    for order in ["17", "100", "10**9", "-1", "0", "1e3"]:
        argvs += [["steps", "sin(x)", "--order", order], ["check", "sin(x)", "--at", "x=1",
                  "--kind", " ".join(["x"] * int(float(order)) if order.isdigit() and
                  int(order) < 200 else ["x"])]]  # fmt: skip
    outputs = ["dir.html", "user.html", "missing/r.html", "/dev/full", "/proc/r.html", "r.txt",
               "r", ".", "pipe.html", "r.md", "/", "dir.html/", "\x00.html"]  # fmt: skip
    for out in outputs:
        argvs += [["report", "x**2", "--at", "x=1", "--output", out],
                  ["grad", "x**2", "--plot", out.replace(".html", ".png")],
                  ["check", "x**2", "--at", "x=1", "--plot", out.replace(".html", ".svg")]]  # fmt: skip
    for scheme in [
        "os:system",
        "subprocess:run",
        "raising:scheme",
        "raising:missing",
        "importer:scheme",
        "sys:exit",
        "builtins:eval",
        "json:loads",
        ":",
        "a:b:c",
        "nonexistent:f",
        "raising:shape",
        "raising:exits",
        "numpy:edge_order=9",
    ]:
        argvs.append(["verify-grid", "sin(x)", "--domain", "x=0:1", "--scheme", scheme])
    cases: list[Case] = [("cli", (argv, None)) for argv in argvs]
    cases += [("cli", (["grad", "x**2"], "/dev/full")), ("cli", (["--help"], "/dev/full"))]
    del work  # the files are made by prepare()
    return cases


def api_cases() -> list[Case]:
    import numpy as np  # noqa: PLC0415
    import sympy  # noqa: PLC0415

    x, y = sympy.symbols("x y")
    deep: Any = x
    for _ in range(3000):
        deep = sympy.sin(deep, evaluate=False)
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for text in HUGE + WIDE + INJECT + UNDEFINED:
        calls += [("gradient", (text,), {}), ("hessian", (text,), {}), ("parse", (text,), {})]
    for obj in [sympy.Eq(x, 1), sympy.Matrix([x, y]), deep, sympy.Function("f")(x), x < 1,
                sympy.Integral(x, x), None, 3, 2.5, b"x", ["x"], {"x": 1}, np.array([1.0]),
                object(), sympy.I * x, sympy.zoo]:  # fmt: skip
        calls += [("gradient", (obj,), {}), ("parse", (obj,), {})]
    for order in [10**9, 10**4, 17, -1, 0, 2.5, math.inf, "x"]:
        calls.append(("derivative", ("x**3", "x", order), {}))
    for n in [10**7, 10**9, 0, -1, 2.5]:
        calls.append(
            (
                "check_gradient",
                (
                    "x**2",
                    lambda_free_gradient,
                ),
                {"n_points": n},
            )
        )
    for expr, at in OUTSIDE:
        calls += [("check", (expr, at), {}), ("convergence", (expr, at), {})]
    for step in [0, math.nan, math.inf, -1e-3, 1e-400, "abc"]:
        calls.append(("check", ("x**2", "x=1"), {"step": step}))
    for eo in [math.inf, math.nan, 1e308, -1, 0, (2, math.inf), "2", 16]:
        calls.append(("verify_grid", ("sin(x)", "x=0:1"), {"expect_order": eo}))
    for sizes in [(3, 5), (2, 3), (10**9, 2 * 10**9), (5, 5), (-1, 3), (3.5, 5), "17,33", ()]:
        calls.append(("verify_grid", ("sin(x)*y", "x=0:1,y=0:1", sizes), {}))
    for domain in ["x=-1e308:1e308", "x=0:0", "x=1:0", "x=-1:1", {"x": (0, math.inf)}, None, "x"]:
        calls.append(("verify_grid", ("log(x)", domain), {}))
    for width in [0, -1, 10**9, 2.5, None, 100]:
        calls.append(("verify_grid", ("sin(x)", "x=0:1"), {"boundary_width": width}))
    for at in ["x=1e400", "x=nan", "x=", "y=1", "x=1,x=2", "x=1/0", "x=" + "9" * 5000]:
        calls += [("check", ("x**2", at), {}), ("report", ("x**2", at), {})]
    return [("api", call) for call in calls]


def lambda_free_gradient(x: Any) -> Any:
    """A user's gradient code for check_gradient (module level: the worker receives it)."""
    return 2 * x


def prepare(work: Path) -> None:
    """Files in the way: a directory named like the output, a user's file, a pipe, schemes."""
    (work / "dir.html").mkdir(exist_ok=True)
    (work / "dir.png").mkdir(exist_ok=True)
    (work / "user.html").write_text("the user's page")
    (work / "user.png").write_bytes(b"the user's picture")
    if not (work / "pipe.html").exists():
        os.mkfifo(work / "pipe.html")
    (work / "raising.py").write_text(
        "import numpy as np\n"
        "def scheme(f, h):\n    raise RuntimeError('boom')\n"
        "def shape(f, h):\n    return np.zeros(3)\n"
        "def exits(f, h):\n    raise SystemExit(3)\n"
    )
    (work / "importer.py").write_text(f"import os\nos.system('touch {CANARY}')\n")


# -- running and sorting ----------------------------------------------------------------------


def classify(kind: str, payload: tuple[Any, ...], work: Path) -> tuple[str, str, bool]:
    """(column, detail, injected) for one case, run in a limited worker."""
    try:
        if kind == "cli":
            argv, stdout_path = payload
            code, out, err, seen = symgrad.run_limited(
                cli_case, argv, str(work), stdout_path, timeout=TIMEOUT, max_memory=MEMORY
            )
            column = _cli_column(code, out, err)
            detail = err.strip().splitlines()[-1][:160] if err.strip() else f"exit {code}"
        else:
            name, args, kwargs = payload
            outcome, detail, seen = symgrad.run_limited(
                api_case, name, args, kwargs, timeout=TIMEOUT, max_memory=MEMORY
            )
            column = {"error": "clear error", "ran": "ran", "traceback": "traceback"}[outcome]
    except LimitExceeded as exc:
        column = "over time" if exc.limit == "timeout" else "over memory"
        return column, str(exc)[:120], False
    except SymgradError as exc:  # the job could not be sent (an unpicklable argument)
        return "clear error", str(exc)[:120], False
    injected = bool(seen) or CANARY.exists()
    CANARY.unlink(missing_ok=True)
    return column, detail, injected


def _cli_column(code: int, out: str, err: str) -> str:
    if code == 2:
        one_line = err.count("\n") == 1 and err.startswith("symgrad: error: ") and not out
        return "clear error" if one_line else "traceback"
    if code in (0, 1) and "Traceback" not in err:
        return "ran"
    return "traceback"


def main() -> None:
    options = argparse.ArgumentParser(description="the hostile-input catalogue")
    options.add_argument("--only", choices=("cli", "api"))
    options.add_argument("--limit", type=int, default=0, help="run only the first N cases")
    args = options.parse_args()
    CANARY.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(work)
        cases = [c for c in cli_cases(work) + api_cases() if args.only in (None, c[0])]
        cases = cases[: args.limit] if args.limit else cases
        counts: Counter[tuple[str, str]] = Counter()
        injected: Counter[str] = Counter()
        findings = []
        for n, (kind, payload) in enumerate(cases, start=1):
            column, detail, inj = classify(kind, payload, work)
            counts[kind, column] += 1
            injected[kind] += inj
            if column in ("traceback", "over time", "over memory") or inj:
                findings.append(f"{kind} {column}: {_show(payload)} -> {detail}")
            if n % 50 == 0:
                sys.stderr.write(f"{n}/{len(cases)}\n")
    columns = ["clear error", "ran", "traceback", "over time", "over memory"]
    rows = [["via", "tried", *columns, "injected"]]
    for kind in ("cli", "api", "all"):
        kinds = ("cli", "api") if kind == "all" else (kind,)
        row = [sum(counts[k, c] for k in kinds for c in columns) for _ in [0]]
        row += [sum(counts[k, c] for k in kinds) for c in columns]
        row.append(sum(injected[k] for k in kinds))
        rows.append([kind, *map(str, row)])
    print(table(rows))
    for finding in findings:
        print(finding)


def _show(payload: tuple[Any, ...]) -> str:
    return " ".join(repr(p)[:100] for p in itertools.islice(payload, 3))


if __name__ == "__main__":
    main()
