"""Fuzz symgrad's parser: coverage-guided with atheris, or a plain random driver without it.

Run from the repository root (atheris is a tool, not a dependency of symgrad)::

    pip install atheris
    python fuzz/fuzz_parser.py -atheris_runs=100000    # libFuzzer options after the script
    python fuzz/fuzz_parser.py --random 100000         # no atheris needed: random text

Both drive the same entry, :func:`test_one_input`, with bytes decoded as UTF-8 text.  The
contract it checks is the parser's: any text is parsed or refused with a
``symgrad.errors.SymgradError`` (``ParseError`` for text that is not an expression), and nothing
in it is executed.  An audit hook (:func:`sys.addaudithook`) watches the parse: running code
compiled from a string (``exec``/``eval``/``compile`` of anything but a module file), starting a
process or loading a shared library is a finding, as is any other exception.  atheris saves the
input of a finding as ``crash-*``; the random driver prints it and stops with exit status 1.

Without atheris (no wheel for the platform), ``--random N`` draws N texts from four sources in
turn: expressions generated from the grammar, mutations of valid expressions (characters
inserted, deleted, duplicated, swapped), token soup over the grammar's vocabulary, and random
Unicode; ``--seed`` picks the sequence.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from typing import Any

try:  # coverage feedback from symgrad's own code (SymPy's 20,000 functions would take minutes)
    import atheris
except ImportError:
    atheris = None
if atheris is not None and "--random" not in sys.argv:
    with atheris.instrument_imports(include=["symgrad"]):
        from symgrad.errors import SymgradError
        from symgrad.expr import parse
else:
    from symgrad.errors import SymgradError
    from symgrad.expr import parse

SEEDS = [
    "2*x**2 + 3*y**2 - 4*z", "sin(x + 0.3)*exp(-y^2)", "atan2(y, x)", "log(x, 2) + sqrt(x)",
    "max(x, y) - min(x, 1/2)", "abs(x)^3", "-x^2", "(-8)^(1/3)*x", "1e-3*cosh(x)/tanh(y)",
    "E*x + pi*y + e", "x0*x1*x2", "Heaviside(x)", "erf(x)*gamma(y)", "asin(2)*x", "1/(x - 1)",
    "x[0] + x[1]", "2x", "x y", ".5e+3*x", "sec(x)**-2", "exp(exp(exp(x)))",
]  # fmt: skip
VOCABULARY = [
    "x", "y", "z", "x0", "1", "0", "2.5", "1e308", "1e-400", ".5", "pi", "E", "e", "I", "oo",
    "nan", "inf", "+", "-", "*", "/", "^", "**", "(", ")", "[", "]", ",", " ", "=", ".", "_",
    "sin", "cos", "exp", "log", "sqrt", "abs", "max", "min", "atan2", "Heaviside", "gamma",
    "__import__", "'os'", "lambda", "eval", "exec", ";", "\\", "\x00", "é", "\u212f", "\u221a", "\u00d7",
]  # fmt: skip
FUNCTIONS = [
    "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "atan", "asin", "acos", "sinh", "cosh",
    "tanh", "atanh", "max", "min", "atan2", "erf", "gamma", "sec", "cot", "Heaviside", "sign",
]  # fmt: skip
_UNSAFE_EVENTS = {
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "subprocess.Popen",
    "ctypes.dlopen",
    "builtins.input",
}


class Finding(Exception):
    """The parser broke its contract on one input."""


class _Watch:
    """An audit hook that records unsafe events while ``active`` (hooks cannot be removed)."""

    def __init__(self) -> None:
        self.active = False
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or sys.is_finalizing():
            return
        if event in _UNSAFE_EVENTS or (event == "exec" and _from_a_string(args)):
            self.seen.append(f"{event}{str(args)[:120]}")


def _from_a_string(args: tuple[Any, ...]) -> bool:
    """``exec`` of code that was not compiled from a module file (SymPy imports lazily)."""
    code = args[0] if args else None
    filename = getattr(code, "co_filename", "<?>")
    return not isinstance(filename, str) or filename.startswith("<")


WATCH = _Watch()
sys.addaudithook(WATCH)


def test_one_input(data: bytes) -> None:
    """The fuzzing entry: parse ``data`` as UTF-8 text; a contract breach raises ``Finding``."""
    text = data.decode("utf-8", errors="replace")
    WATCH.seen.clear()
    WATCH.active = True
    try:
        parse(text)
    except SymgradError:
        pass
    except RecursionError as exc:
        msg = f"RecursionError on {text[:200]!r}"
        raise Finding(msg) from exc
    except Exception as exc:
        msg = f"{type(exc).__name__}: {exc!s:.200} on {text[:200]!r}"
        raise Finding(msg) from exc
    finally:
        WATCH.active = False
    if WATCH.seen:
        msg = f"unsafe events {WATCH.seen[:3]} while parsing {text[:200]!r}"
        raise Finding(msg)


# -- the plain random driver ----------------------------------------------------------------


def _grammar(rng: random.Random, depth: int = 0) -> str:
    """A random expression of the grammar (mostly valid; a few calls get a wrong arity)."""
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(["x", "y", "z", "2", "0.5", "1e-3", "3/4", "pi", "E", ".5e2", "10"])
    kind = rng.randrange(3)
    if kind == 0:
        return rng.choice(["-", "+", ""]) + f"({_grammar(rng, depth + 1)})"
    if kind == 1:
        op = rng.choice(["+", "-", "*", "/", "^", "**"])
        return f"{_grammar(rng, depth + 1)} {op} {_grammar(rng, depth + 1)}"
    name = rng.choice(FUNCTIONS)
    args = ", ".join(_grammar(rng, depth + 1) for _ in range(rng.choice([1, 1, 1, 2])))
    return f"{name}({args})"


def _mutant(rng: random.Random) -> str:
    text = list(rng.choice(SEEDS) if rng.random() < 0.5 else _grammar(rng))
    for _ in range(rng.randrange(0, 4)):
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(4)
        if op == 0:
            text.insert(i, rng.choice(VOCABULARY))
        elif op == 1 and text:
            del text[min(i, len(text) - 1)]
        elif op == 2 and text:
            j = rng.randrange(len(text))
            text[i:i] = text[j : j + rng.randrange(1, 12)]
        elif text:
            j = rng.randrange(len(text))
            k = min(i, len(text) - 1)
            text[j], text[k] = text[k], text[j]
    return "".join(text)


def _soup(rng: random.Random) -> str:
    return "".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(1, 30)))


def _unicode(rng: random.Random) -> str:
    alphabet = [chr(rng.randrange(0x20, 0x7F)) for _ in range(8)] + ["(", ")", "*", "x"]
    alphabet += [chr(rng.randrange(0, 0x3000)) for _ in range(4)]
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))


SOURCES: tuple[Callable[[random.Random], str], ...] = (_grammar, _mutant, _soup, _unicode)


def random_driver(count: int, seed: int) -> int:
    """Run ``count`` random texts through :func:`test_one_input`; 1 at the first finding."""
    rng = random.Random(seed)
    start = time.monotonic()
    for n in range(count):
        text = SOURCES[n % len(SOURCES)](rng)
        try:
            test_one_input(text.encode("utf-8", errors="surrogatepass"))
        except Finding as exc:
            sys.stderr.write(f"finding after {n + 1} inputs: {exc}\n")
            return 1
    seconds = time.monotonic() - start
    sys.stderr.write(f"{count} parser inputs (seed {seed}), 0 findings, {seconds:.0f} s\n")
    return 0


def main(argv: list[str]) -> int:
    """``--random N [--seed S]`` runs the plain driver; anything else goes to atheris."""
    if argv[1:2] == ["--random"]:
        options = argparse.ArgumentParser(prog="fuzz_parser.py")
        options.add_argument("--random", type=int, required=True, metavar="N")
        options.add_argument("--seed", type=int, default=0)
        args = options.parse_args(argv[1:])
        return random_driver(args.random, args.seed)
    if atheris is None:
        sys.stderr.write("atheris is not installed: pip install atheris, or use --random N\n")
        return 2
    parse("x + 1")  # SymPy's lazy imports happen now, not inside the first fuzzed input
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
