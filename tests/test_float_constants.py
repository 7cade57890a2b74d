"""Compound constants in float64 code: folded once to the double nearest their exact value.

The oracle is mpmath in a private 60-digit context, rounded to float64 by Python's ``float``
(correct rounding of an mpf with 200 bits): never symgrad's own ``.at()``.
"""

from __future__ import annotations

import subprocess
import sys

import mpmath
import numpy as np
import pytest

import symgrad

CTX = mpmath.MPContext()
CTX.dps = 60

EVALUATORS = ["numpy"] + [
    name for name in ("numexpr", "symengine") if __import__("importlib").util.find_spec(name)
]


@pytest.mark.parametrize(
    ("text", "constant"),
    [
        ("x*sin(1e20)", lambda: CTX.sin(CTX.mpf(10) ** 20)),  # an integer beyond int64
        ("x*sin(1e23)", lambda: CTX.sin(CTX.mpf(10) ** 23)),  # 10**23 is not a double
        ("x*pi/3", lambda: CTX.pi / 3),
        ("x*sqrt(2)", lambda: CTX.sqrt(2)),
        ("x*exp(800)*1e-300", lambda: CTX.exp(800) * CTX.mpf(10) ** -300),  # beyond float range
        ("x*cos(sqrt(1e40))", lambda: CTX.cos(CTX.mpf(10) ** 20)),
    ],
)
@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_constant_times_x_is_the_double_nearest_the_exact_constant(
    text: str, constant: object, evaluator: str
) -> None:
    f = symgrad.function(text)
    g = symgrad.Compiled(f.components, f.variables, evaluator=evaluator)
    expected = float(constant())  # type: ignore[operator]
    got = np.ravel(g(np.array([1.0, 2.0, -0.5])))
    np.testing.assert_array_equal(got, [expected, 2 * expected, -0.5 * expected])
    assert f(1.0) == expected  # the scalar call too


def test_gradient_coefficients_are_folded_as_well() -> None:
    g = symgrad.gradient("x*sin(1e20)*y")
    s = float(CTX.sin(CTX.mpf(10) ** 20))
    np.testing.assert_array_equal(g(1.0, 2.0), [2.0 * s, s])


def test_a_sum_with_a_folded_constant_keeps_its_other_terms() -> None:
    f = symgrad.function("2*(x + sin(1e20)*y) + 3")
    s = float(CTX.sin(CTX.mpf(10) ** 20))
    assert f(2.0, 1.0) == pytest.approx(2 * (2.0 + s) + 3, rel=4e-16)


def test_check_of_a_huge_integer_constant_runs_and_passes() -> None:
    assert symgrad.check("sin(1e23)*x**2", "x=0.5").status.value == "pass"
    assert symgrad.check("x*sin(1e20) + y**2", "x=0.5, y=1").status.value == "pass"


def test_cli_check_of_a_huge_integer_constant_exits_0_without_a_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", "check", "x*sin(1e20)", "--at", "x=0.5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "\npass: " in run.stdout


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_a_constant_beyond_float_range_is_not_folded_into_a_finite_wrong_value(
    evaluator: str,
) -> None:
    """exp(x - 745) underflows to a subnormal of a few bits (or 0); scaling it by a folded
    exp(745) gave 1.75 for exp(0) = 1.  Left to NumPy, exp(745) is inf: float64 shows that it
    cannot compute this, and no finite value is wrong."""
    f = symgrad.function("exp(x - 745)*exp(745)", variables="x")
    g = symgrad.Compiled(f.components, f.variables, evaluator=evaluator)
    x = np.array([0.0, -1.0, 1.0, 2.5])
    got = np.ravel(g(x))
    finite = np.isfinite(got)
    np.testing.assert_allclose(got[finite], np.exp(x[finite]), rtol=1e-12)
    assert not finite.all()
