"""Security: nothing a user types is executed, and hostile input is refused before the work.

Rows number the catalogue of hostile inputs below; the payloads are the classic Python sandbox escapes.
Each injection payload would create a marker file if anything evaluated it.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy

import symgrad
from symgrad.errors import LimitExceeded, ParseError, SymgradError, UnsupportedError
from symgrad.expr import MAX_DEPTH, MAX_NONSMOOTH, parse, parse_number, parse_point, parse_variables

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

# (template with {m} for the marker path, reason, column) — the injection rows of the catalogue
INJECTIONS = [
    ("__import__('os').system('touch {m}')", "forbidden_character", 1),
    ("__import__('pathlib').Path('{m}').touch()", "forbidden_character", 1),
    ("().__class__.__base__.__subclasses__()", "forbidden_character", 3),
    (
        "Symbol.__new__.__globals__['__builtins__']['__import__']('pathlib').Path('{m}').touch()",
        "forbidden_character",
        7,
    ),
    (
        "sin.eval.__globals__['__builtins__']['exec']('open(\"{m}\", \"w\")')",
        "forbidden_character",
        4,
    ),
    (
        "__\U0001d4be\U0001d4c2\U0001d4c5\U0001d45c\U0001d4c7\U0001d4c9__('pathlib').Path('{m}').touch()",
        "non_ascii",
        3,
    ),
    ("Symbol.__new__.__\uff47lobals__", "non_ascii", 18),
    (
        "__import__(chr(112)+chr(97)+chr(116)+chr(104)+chr(108)+chr(105)+chr(98))",
        "forbidden_character",
        1,
    ),
    ("chr(112)+chr(97)", "unknown_function", 1),
    ("(lambda: __import__('pathlib').Path('{m}').touch())()", "forbidden_character", 8),
    ("'__gl'+'obals__'", "forbidden_character", 1),
    ("x.diff(x)", "forbidden_character", 2),
    ("x.__class__.__mro__", "forbidden_character", 2),
    ("getattr(__import__('pathlib'),'Path')('{m}').touch()", "forbidden_character", 9),
    ("x + __import__('pathlib').Path('{m}').touch()", "forbidden_character", 5),
    ("(y := __import__('pathlib').Path('{m}').touch())", "forbidden_character", 4),
    (
        (
            "[c for c in ().__class__.__base__.__subclasses__() if c.__name__=='_wrap_close'][0]"
            ".__init__.__globals__['system']('touch {m}')"
        ),
        "forbidden_character",
        1,
    ),
    ("eval(\"__import__('os')\")", "forbidden_character", 6),
    ("exec(x)", "unknown_function", 1),
    ("open(x)", "unknown_function", 1),
    ("import", "reserved_name", 1),
    ("f'{{x}}'", "forbidden_character", 2),
    ("x\n__import__('pathlib').Path('{m}').touch()", "forbidden_character", 2),
]


@pytest.mark.parametrize(
    ("template", "reason", "column"),
    INJECTIONS,
    ids=[f"{i}:{t[:30]}" for i, (t, *_) in enumerate(INJECTIONS)],
)
def test_injection_corpus_never_executes(
    tmp_path: Path, template: str, reason: str, column: int
) -> None:
    """Every payload is refused with the expected reason and column, and nothing runs."""
    marker = tmp_path / "marker"
    payload = template.format(m=marker)
    for source in (payload, np.str_(payload)):  # row 11: NumPy strings are str subclasses
        with pytest.raises(ParseError) as info:
            parse(source)
        assert (info.value.reason, info.value.column) == (reason, column)
    assert not marker.exists()


@pytest.mark.parametrize(
    "call",
    [parse_number, parse_point, parse_variables, lambda text: parse("x", variables=[text])],
    ids=["parse_number", "parse_point", "parse_variables", "variables"],
)
def test_every_text_entry_point_refuses_payloads(
    tmp_path: Path, call: Callable[[str], object]
) -> None:
    """Row 10: variable names, points and numbers from users never run either."""
    marker = tmp_path / "marker"
    with pytest.raises(ParseError):
        call(f"__import__('pathlib').Path('{marker}').touch()")
    assert not marker.exists()


@pytest.mark.parametrize(
    "name",
    ["__import__('os')", "x; import os", "sin", "lambda", "a b", "x" * 100, "\uff58"],
)
def test_symbol_names_validated_at_api_boundary(name: str) -> None:
    """SymPy objects whose symbol names are not safe identifiers are refused."""
    with pytest.raises(ParseError) as info:
        parse(sympy.Symbol(name) + 1)
    assert info.value.reason in {"invalid_name", "reserved_name", "name_too_long"}
    with pytest.raises(ParseError):
        parse("x", variables=[sympy.Symbol(name)])
    with pytest.raises(ParseError):
        parse_point({sympy.Symbol(name): 1})


def test_sympy_objects_that_hide_code_are_refused() -> None:
    """Dummy symbols and undefined functions cannot smuggle names into generated code."""
    with pytest.raises(UnsupportedError):
        parse(sympy.Dummy("__import__('os')") * 2)
    with pytest.raises(UnsupportedError):
        parse(sympy.Function("__import__")(sympy.Symbol("x")))


def _flat_sum(terms: int) -> str:
    return "+".join(f"x{i}" for i in range(terms))


# (input, exception, limit or reason) — the denial-of-service rows that concern parsing
DOS = [
    pytest.param("10**10**10", LimitExceeded, "exponent_too_large", id="row14 10**10**10"),
    pytest.param("10^10^10", LimitExceeded, "exponent_too_large", id="row14 10^10^10"),
    pytest.param("((9^9)^9999)^9999", LimitExceeded, "exponent_too_large", id="row15 tower 9999"),
    pytest.param("((9^9)^999)^999", LimitExceeded, "constant_too_large", id="row15 tower 999"),
    pytest.param("9**9**9", LimitExceeded, "exponent_too_large", id="row16 9**9**9"),
    pytest.param("x**10**10", LimitExceeded, "exponent_too_large", id="row17 x**10**10"),
    pytest.param("(2^1000*x)^1000", LimitExceeded, "constant_too_large", id="coefficient power"),
    pytest.param("(3^pi)^(10^6/pi)", LimitExceeded, "exponent_too_large", id="irrational tower"),
    pytest.param("exp(x + 10^30*log(3))", LimitExceeded, "constant_too_large", id="exp of log"),
    pytest.param("exp(10^6)", LimitExceeded, "exponent_too_large", id="exp(10^6)"),
    pytest.param("x^exp(exp(10))", LimitExceeded, "exponent_too_large", id="x^exp(exp(10))"),
    pytest.param("factorial(10**9)", ParseError, "unknown_function", id="row18 factorial"),
    pytest.param("gamma(10**7)", LimitExceeded, "constant_too_large", id="row18 gamma"),
    pytest.param("binomial(10**7, 5*10**6)", ParseError, "unknown_function", id="row18 binomial"),
    pytest.param("fibonacci(10**8)", ParseError, "unknown_function", id="row18 fibonacci"),
    pytest.param("Mod(7**(10**9),13)", ParseError, "unknown_function", id="row19 Mod"),
    pytest.param("1e999999999", ParseError, "literal_too_large", id="row21 1e999999999"),
    pytest.param("1e10000000", ParseError, "literal_too_large", id="row21 1e10000000"),
    pytest.param("1" * 5000, ParseError, "literal_too_large", id="row22 5000 digits"),
    pytest.param("0." + "0" * 5000 + "1", ParseError, "literal_too_large", id="tiny literal"),
    pytest.param("(" * 201 + "x" + ")" * 201, LimitExceeded, "too_deep", id="row24 201 parens"),
    pytest.param("(" * 10**5 + "x" + ")" * 10**5, LimitExceeded, "too_long", id="row25 1e5 parens"),
    pytest.param("-" * 10**5 + "x", LimitExceeded, "too_long", id="row26 1e5 minuses"),
    pytest.param("-" * 100 + "x", LimitExceeded, "too_deep", id="row26 100 minuses"),
    pytest.param("x" + "**x" * 1000, LimitExceeded, "too_deep", id="row27 power chain"),
    pytest.param("x" + "^-x" * 100, LimitExceeded, "too_deep", id="signed power chain"),
    pytest.param(_flat_sum(20_000), LimitExceeded, "too_long", id="row28 20000 terms"),
    pytest.param(_flat_sum(30_000), LimitExceeded, "too_long", id="row29 30000 terms"),
    pytest.param("+".join("x" * 26_000), LimitExceeded, "too_many_nodes", id="51999 tokens"),
    pytest.param("x+" * 500_000 + "1", LimitExceeded, "too_long", id="row30 1 MB"),
    pytest.param("sin(" * 300 + "x" + ")" * 300, LimitExceeded, "too_deep", id="row31 sin x300"),
    pytest.param(
        "max(" + ",".join(f"x{i}" for i in range(300)) + ")", ParseError, "arity", id="row32 max"
    ),
    pytest.param(
        "+".join("max(" + ",".join(f"x{i}_{j}" for j in range(16)) + ")" for i in range(20)),
        LimitExceeded,
        "too_many_nodes",
        id="20 max of 16",
    ),
    pytest.param("abs(" * 40 + "x" + "-1)" * 40, LimitExceeded, "too_many_nodes", id="abs x40"),
    pytest.param("x" * 100, ParseError, "name_too_long", id="row33 100-char name"),
    pytest.param("x" * 10**6, LimitExceeded, "too_long", id="row33 1e6-char name"),
]


def sympy_calls(fn: Callable[[], object]) -> int:
    """How many Python functions of SymPy ``fn()`` calls: the work it does, counted, not timed."""
    calls = 0

    def profile(frame: Any, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call" and f"{os.sep}sympy{os.sep}" in frame.f_code.co_filename:
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    except SymgradError:
        pass
    finally:
        sys.setprofile(None)
    return calls


# One SymPy Max of 16 symbols costs about 230,000 calls: far more than any refusal may spend.
WORK_BUDGET = 100_000


@pytest.mark.parametrize(("text", "error", "kind"), DOS)
def test_denial_of_service_inputs_refused_before_the_work(
    text: str, error: type[SymgradError], kind: str
) -> None:
    """Each hostile input is refused with the exact limit or reason, within a fixed work budget.

    The work is counted in SymPy function calls, so the test holds on a loaded machine; the
    seconds are measured by ``benchmarks/bench_refusal.py``.
    """
    with pytest.raises(error) as info:
        parse(text)
    found = info.value.limit if isinstance(info.value, LimitExceeded) else info.value.reason
    assert found == kind
    assert sympy_calls(lambda: parse(text)) < WORK_BUDGET


def test_the_work_counter_sees_expensive_sympy_work() -> None:
    """The budget is meaningful: one 16-argument Max built directly exceeds it."""
    symbols = sympy.symbols("a0:16", real=True)
    assert sympy_calls(lambda: sympy.Max(*symbols)) > WORK_BUDGET


@pytest.mark.parametrize(
    "text",
    [
        "abs(" * 40 + "x" + "-1)" * 40,
        "+".join("max(" + ",".join(f"x{i}_{j}" for j in range(16)) + ")" for i in range(20)),
        "+".join(f"abs(x{i})" for i in range(MAX_NONSMOOTH + 1)),
    ],
    ids=["nested abs", "20 max of 16", "33 abs"],
)
def test_nonsmooth_caps_refuse_from_the_tokens_alone(text: str) -> None:
    """abs/min/max caps are checked on the tokens, before SymPy builds a single function call."""
    built: list[object] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("Abs", "Max", "Min", "sign"):
            original = getattr(sympy, name)
            patch.setattr(sympy, name, lambda *a, _f=original: built.append(a) or _f(*a))
        with pytest.raises(LimitExceeded) as info:
            parse(text)
    assert info.value.limit == "too_many_nodes"
    assert built == []


def test_too_deep_reports_the_column() -> None:
    """Row 24: the depth error names the column where the 65th level opens."""
    with pytest.raises(LimitExceeded) as info:
        parse("(" * 201 + "x" + ")" * 201)
    assert info.value.allowed == MAX_DEPTH
    assert f"column {MAX_DEPTH + 1}" in str(info.value)


def test_errors_never_print_huge_numbers() -> None:
    """Messages quote at most 80 characters of input and never a long integer."""
    for text in ("1" * 5000, "x" * 100, "((9^9)^999)^999", "9**9**9"):
        with pytest.raises(SymgradError) as info:
            parse(text)
        assert len(str(info.value).splitlines()[0]) <= 200
        assert "1" * 90 not in str(info.value)


# look-alikes are refused, never silently read as other letters
CONFUSABLES = [
    ("x \u2212 1", "U+2212", 3),  # minus sign
    ("\uff58 + 1", "U+FF58", 1),  # full-width x
    ("\u0445 + 1", "U+0445", 1),  # Cyrillic ha
    ("x\u00b2", "U+00B2", 2),  # superscript two
    ("x\u200b+1", "U+200B", 2),  # zero-width space
    ("\ufeffx", "U+FEFF", 1),  # byte-order mark
    ("x\u202e+1", "U+202E", 2),  # right-to-left override
    ("\U0001d465 + 1", "U+1D465", 1),  # mathematical italic x (NFKC folds it to x)
    ("x\u00a0+ 1", "U+00A0", 2),  # no-break space
]


@pytest.mark.parametrize(
    ("text", "code", "column"), CONFUSABLES, ids=[c for _, c, _ in CONFUSABLES]
)
def test_unicode_confusables_rejected(text: str, code: str, column: int) -> None:
    """Non-ASCII characters are refused with reason non_ascii, their code point and column."""
    with pytest.raises(ParseError) as info:
        parse(text)
    assert (info.value.reason, info.value.column) == ("non_ascii", column)
    assert code in str(info.value)


# calls that evaluate text are banned from the package source.
BANNED_CALLS = {"eval", "exec", "compile", "sympify", "S", "parse_expr", "parse_latex"}
BANNED_METHODS = BANNED_CALLS - {"compile"} | {"loads", "load"}  # re.compile is harmless


def _banned_calls(path: Path) -> list[str]:
    """Every call in ``path`` to a function that evaluates text or unpickles data."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BANNED_CALLS:
                found.append(f"{path.name}:{node.lineno}: {func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in BANNED_METHODS:
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                if func.attr in BANNED_CALLS or owner in {"pickle", "yaml", "marshal", "dill"}:
                    found.append(f"{path.name}:{node.lineno}: {owner}.{func.attr}()")
        if isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Call):
            func = node.context_expr.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "evaluate":  # SymPy's evaluate(False) leaks through the global cache
                found.append(f"{path.name}:{node.context_expr.lineno}: with evaluate(...)")
    return found


def test_no_eval_calls_in_source() -> None:
    """No module of the package calls eval, exec, compile, sympify, S, parse_expr, parse_latex."""
    files = sorted(PACKAGE.rglob("*.py"))
    assert any(f.name == "_parse.py" for f in files)
    offenders = [call for path in files for call in _banned_calls(path)]
    assert offenders == []


def test_the_scan_finds_banned_calls(tmp_path: Path) -> None:
    """The source scan itself flags each banned spelling (so an empty result means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import re, sympy, pickle\n"
        "eval('1'); exec('1'); compile('1', 'f', 'eval'); sympy.sympify('x'); S('x')\n"
        "sympy.parse_expr('x'); pickle.loads(b''); re.compile('x')\n"
        "with sympy.evaluate(False):\n    pass\n"
    )
    assert len(_banned_calls(sample)) == 8


def test_run_limited_refuses_a_job_too_deep_to_send() -> None:
    """An argument nested deeper than pickle can go (sin(sin(...(x))) 3000 deep) is one
    ConfigError before any worker starts, not a RecursionError (found by the catalogue)."""
    deep: Any = sympy.Symbol("x")
    for _ in range(3000):
        deep = sympy.sin(deep, evaluate=False)
    with pytest.raises(symgrad.ConfigError, match="picklable"):
        symgrad.run_limited(symgrad.gradient, deep, timeout=30)
