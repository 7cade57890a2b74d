"""Names that must mean what a reader thinks: variable order, ``e``, cancelled names, points.

Every expected value is independent of symgrad: exact rationals of a closed form written here,
or mpmath in a private context at 60 digits.

* Numbered variables are ordered as numbers (``x2`` before ``x10``) in every result: the API
  (gradient, Hessian, Jacobian, check) and the CLI's JSON.
* ``e`` is Euler's number unless ``variables`` declares it; the parsed expression prints
  ``exp(x)`` or ``E`` so the reading is visible.
* A variable written in the text stays a variable when SymPy cancels it (``x - x``): gradient
  and check agree on the variables.
* A point may carry as many digits as the largest precision needs (the exact value of a
  double has up to 767); an expression literal keeps its 30-digit cap.
* A constant whose value is not a finite real number (``asin(2)``, ``(-8)^(1/3)``,
  ``log(x, 1)``) is refused with UnsupportedError naming it, in every entry point.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main
from symgrad.errors import InputError, LimitExceeded, ParseError, SymgradError, UnsupportedError


def _ctx() -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = 60
    return ctx


# ------------------------------------------------------------------- numbered variables
def _rosen_text(n: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(n - 1))


def _rosen_der(p: list[Fraction]) -> list[Fraction]:
    """The Rosenbrock gradient in exact arithmetic (the closed form scipy's rosen_der uses)."""
    n, g = len(p), [Fraction(0)] * len(p)
    for i in range(n - 1):
        g[i] += -400 * p[i] * (p[i + 1] - p[i] ** 2) - 2 * (1 - p[i])
        g[i + 1] += 200 * (p[i + 1] - p[i] ** 2)
    return g


def test_twelve_variable_gradient_is_in_numeric_order() -> None:
    """g(*p) of the 12-variable Rosenbrock function is rosen_der(p), component by component."""
    g = symgrad.gradient(_rosen_text(12))
    assert [v.name for v in g.variables] == [f"x{i}" for i in range(12)]
    p = [Fraction(k, 8) - 1 for k in range(12)]  # dyadic: exact in float64
    want = _rosen_der(p)
    got = g(*[float(v) for v in p])
    assert got.tolist() == [float(w) for w in want]  # every term is exact in float64


def test_hessian_jacobian_and_check_use_the_same_order() -> None:
    """Hessian rows, Jacobian columns and check components follow x1, x2, x10."""
    names = ["x1", "x2", "x10"]
    h = symgrad.hessian("x1*x2^2*x10^3")
    assert [v.name for v in h.variables] == names
    # d2/dx2 dx10 of x1*x2^2*x10^3 is 6*x1*x2*x10^2: row x2, column x10
    assert h.to_strings()[1][2] == "6*x1*x10**2*x2"
    j = symgrad.jacobian(["x10", "x2 + x1"])
    assert j.to_strings() == [["0", "0", "1"], ["1", "1", "0"]]
    r = symgrad.check("x10^2 + 3*x2 + x1", "x1=1, x2=2, x10=3")
    assert [c.variable for c in r.components] == names
    assert [float(c.symbolic) for c in r.components] == [1.0, 3.0, 6.0]


def test_cli_json_lists_variables_in_numeric_order(capsys: pytest.CaptureFixture[str]) -> None:
    """`symgrad grad --format json` gives the same order as the API."""
    assert main(["grad", "x10 + 2*x2 + 3*x1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"variables": ["x1", "x2", "x10"], "gradient": ["3", "2", "1"]}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 10**6), min_size=2, max_size=8, unique=True))
def test_numbered_names_sort_by_number(indices: list[int]) -> None:
    """For any set of indices, the variables come out in increasing numeric order."""
    text = " + ".join(f"v{i}" for i in indices)
    got = [v.name for v in symgrad.gradient(text).variables]
    assert got == [f"v{i}" for i in sorted(indices)]


def test_mixed_names_order() -> None:
    """Letters compare as text, digit runs as numbers: a, a2, a10, a10b, a_1, b1."""
    g = symgrad.gradient("b1 + a_1 + a10b + a10 + a2 + a")
    assert [v.name for v in g.variables] == ["a", "a2", "a10", "a10b", "a_1", "b1"]


def test_explicit_order_is_kept() -> None:
    """An explicit variable list is never re-sorted."""
    g = symgrad.gradient("x1 + 2*x10", variables="x10 x1")
    assert g.to_strings() == ["2", "1"]


# --------------------------------------------------------------------------------- e
def test_e_is_eulers_number_by_default() -> None:
    """x*e^x is x*exp(x): one variable, derivative (x + 1)*e^x, printed with exp."""
    g = symgrad.gradient("x*e^x")
    assert [v.name for v in g.variables] == ["x"]
    assert g.to_strings() == ["x*exp(x) + exp(x)"]
    assert str(symgrad.parse("x*e^x")) == "x*exp(x)"
    assert str(symgrad.parse("2*e")) == "2*E"
    ctx = _ctx()
    want = (ctx.mpf("0.75") + 1) * ctx.exp(ctx.mpf("0.75"))
    got = g.at("x=0.75", dps=40)[0]
    assert abs(ctx.convert(got) - want) <= ctx.mpf(10) ** -39 * abs(want)


def test_e_declared_is_a_variable() -> None:
    """variables='x e' keeps e a variable: d/dx (x*e^x) = e^x*(1 + x*log e), d/de = x^2*e^(x-1)."""
    g = symgrad.gradient("x*e^x", variables="x e")
    assert [v.name for v in g.variables] == ["x", "e"]
    ctx = _ctx()
    x, e = ctx.mpf("1.5"), ctx.mpf(2)
    want = [e**x * (1 + x * ctx.log(e)), x**2 * e ** (x - 1)]
    got = g.at("x=1.5, e=2", dps=40)
    for a, b in zip(got, want, strict=True):
        assert abs(ctx.convert(a) - b) <= ctx.mpf(10) ** -39 * abs(b)


def test_check_agrees_with_gradient_about_e() -> None:
    """check reads e the same way: Euler's number, or a variable when declared."""
    assert symgrad.check("x*e^x", "x=0.5").status.value == "pass"
    with pytest.raises(InputError, match="e"):
        symgrad.check("x*e^x", "x=0.5, e=2")
    r = symgrad.check("x*e^x", "x=0.5, e=2", variables="x e")
    assert [c.variable for c in r.components] == ["x", "e"]


def test_e_called_like_a_function_is_a_constant() -> None:
    """e(x) is refused as a constant used as a function."""
    with pytest.raises(ParseError, match="constant"):
        symgrad.parse("e(x)")


def test_capital_e_stays_a_constant_and_reserved() -> None:
    """E is Euler's number and can never be declared a variable."""
    with pytest.raises(ParseError) as info:
        symgrad.gradient("E*x", variables="x E")
    assert info.value.reason == "reserved_name"


# ------------------------------------------------------------------- cancelled names
def test_cancelled_variable_is_kept_by_gradient_and_check() -> None:
    """(x - x) + y has the variables x and y everywhere; d/dx is exactly 0."""
    g = symgrad.gradient("(x - x) + y")
    assert [v.name for v in g.variables] == ["x", "y"]
    assert g.to_strings() == ["0", "1"]
    with pytest.raises(InputError, match="'x'"):
        symgrad.check("(x - x) + y", "y=2")
    r = symgrad.check("(x - x) + y", "x=1, y=2")
    assert r.status.value == "pass"
    assert [float(c.symbolic) for c in r.components] == [0.0, 1.0]


@pytest.mark.parametrize("text", ["x/x*y", "0*x + y", "x^0*y", "y + x - x"])
def test_function_arguments_follow_the_written_names(text: str) -> None:
    """A function of text takes one argument per written name, whatever SymPy cancels."""
    f = symgrad.function(text)
    assert [v.name for v in f.variables] == ["x", "y"]
    assert float(f(5.0, 2.0)) == 2.0


def test_derivative_with_respect_to_a_cancelled_name_is_zero() -> None:
    """d/dx of y + x - x is 0 (not an error that x is unknown)."""
    assert symgrad.derivative("y + x - x", "x").to_strings() == "0"


# ---------------------------------------------------------------------------- points
DOUBLE_PI_2 = "1.5707963267948965579989817342720925807952880859375"


def test_point_with_the_exact_value_of_a_double() -> None:
    """The 50-digit exact value of float(pi/2) is accepted and used exactly."""
    assert Fraction(DOUBLE_PI_2) == Fraction(np.pi / 2)
    r = symgrad.check("sin(x)", f"x={DOUBLE_PI_2}", dps=60)
    assert r.status.value == "pass"
    ctx = _ctx()
    got = symgrad.function("x").at(f"x={DOUBLE_PI_2}", dps=60)
    assert ctx.convert(got[()]) == ctx.mpf(DOUBLE_PI_2)


def test_point_digits_follow_the_largest_precision() -> None:
    """1,000 significant digits (the largest dps) are accepted; more are refused at once."""
    digits = "0." + "3" * 1000
    value = symgrad.function("x").at(f"x={digits}", dps=1000)[()]
    ctx = mpmath.MPContext()
    ctx.dps = 1010
    assert abs(ctx.convert(value) - ctx.mpf(digits)) <= ctx.mpf(10) ** -1000
    with pytest.raises(ParseError) as info:
        symgrad.function("x").at("x=0." + "3" * 1001, dps=50)
    assert info.value.reason == "literal_too_large"


def test_expression_literals_keep_their_cap() -> None:
    """An expression literal with 31 significant digits is still refused."""
    with pytest.raises(ParseError) as info:
        symgrad.parse("x + 1." + "1" * 30)
    assert info.value.reason == "literal_too_large"


# ------------------------------------------------------------------ non-real constants
REFUSED = [
    ("asin(2)*x", "asin(2)"),
    ("acos(3)", "acos(3)"),
    ("atanh(2)*x", "atanh(2)"),
    ("acosh(1/2)*x", "acosh(1/2)"),
    ("(-8)^(1/3)*x", "(-8)^(1/3)"),
    ("(-2)^pi*x", "(-2)^pi"),
    ("x + asin(2) - asin(2)", "asin(2)"),
    ("abs(asin(2))*x", "asin(2)"),
    ("asin(1 + 2^-1000)*x", "asin"),
    ("log(x, 0)", "base"),
    ("log(x, 1)", "base"),
    ("log(x, 2 - 1)", "base"),
    ("log(x, -2)", "base"),
    ("log(x, 1/2 - 1)", "base"),
]


@pytest.mark.parametrize(("text", "named"), REFUSED, ids=[t for t, _ in REFUSED])
def test_non_real_constants_are_refused(text: str, named: str) -> None:
    """Each is UnsupportedError with the constant (or the log base) in the message."""
    with pytest.raises(UnsupportedError) as info:
        symgrad.gradient(text)
    message = str(info.value)
    assert named.replace(" ", "") in message.replace(" ", "").replace("**", "^")


@pytest.mark.parametrize(
    "call",
    [
        lambda: symgrad.function("(-8)^(1/3)*x")(1.0),
        lambda: symgrad.gradient("(-8)^(1/3)*x")(1.0),
        lambda: symgrad.check("(-8)^(1/3)*x", "x=1"),
        lambda: symgrad.report("(-8)^(1/3)*x", "x=1"),
        lambda: symgrad.finite_difference("asin(2)*x", "x=1"),
    ],
    ids=["function", "gradient", "check", "report", "finite_difference"],
)
def test_every_entry_point_refuses_a_complex_constant(call: object) -> None:
    """No entry point returns a value (the real part) or raises a raw TypeError."""
    with pytest.raises(UnsupportedError):
        call()  # type: ignore[operator]


def _real_oracle(text: str) -> Fraction | float:
    """The derivative of c*x is c: mpmath's value of each constant below."""
    ctx = _ctx()
    values = {
        "asin(1)*x": ctx.pi / 2,
        "acos(-1)*x": +ctx.pi,
        "acosh(1)*x": ctx.mpf(0),
        "atanh(1/2)*x": ctx.atanh(ctx.mpf(1) / 2),
        "(-8)^2*x": ctx.mpf(64),
        "(-8)^(-1)*x": ctx.mpf(-1) / 8,
        "8^(1/3)*x": ctx.mpf(2),
        "asin(1 - 2^-1000)*x": ctx.asin(1 - ctx.mpf(2) ** -1000),
        "log(x, 1/2)": 1 / (ctx.mpf("0.5") * ctx.log(ctx.mpf(1) / 2)),
        "log(x, pi - 3)": 1 / (ctx.mpf("0.5") * ctx.log(ctx.pi - 3)),
        "log(x, E)": 1 / ctx.mpf("0.5"),
    }
    return values[text]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "text",
    ["asin(1)*x", "acos(-1)*x", "acosh(1)*x", "atanh(1/2)*x", "(-8)^2*x", "(-8)^(-1)*x",
     "8^(1/3)*x", "asin(1 - 2^-1000)*x", "log(x, 1/2)", "log(x, pi - 3)", "log(x, E)"],
)  # fmt: skip
def test_real_constants_at_the_edge_are_accepted(text: str) -> None:
    """Constants on the boundary of a domain, or just inside it, are real and accepted."""
    ctx = _ctx()
    got = ctx.convert(symgrad.gradient(text).at("x=0.5", dps=50)[0])
    want = _real_oracle(text)
    assert abs(got - want) <= ctx.mpf(10) ** -49 * (1 + abs(want))


def test_refusals_are_symgrad_errors_not_limits() -> None:
    """A complex constant is an UnsupportedError, never mistaken for a size limit."""
    with pytest.raises(SymgradError) as info:
        symgrad.parse("asin(2)")
    assert not isinstance(info.value, LimitExceeded)
    assert re.search(r"not a real number|no real value", str(info.value))
