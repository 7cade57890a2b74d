"""Renamed keywords: the old name still works, warns naming the new one, and changes nothing.

"steps" are the teaching steps of ``symgrad.steps``; the step sizes h of a sweep are
``step_sizes`` (``--step-sizes`` on the command line).  References: the forward-difference
errors of exp at 0, (e^h − 1)/h − 1, in a private mpmath context.
"""

from __future__ import annotations

import json
from typing import Any

import mpmath
import pytest

from symgrad.cli import main
from symgrad.errors import ConfigError
from symgrad.fd import (
    convergence,
    finite_difference,
    finite_difference_gradient,
    fit_order,
    pairwise_orders,
)
from symgrad.output import report

H = ["0.1", "0.05", "0.025"]


def _exp_forward_errors() -> list[mpmath.mpf]:
    ctx = mpmath.MPContext()
    ctx.dps = 100
    return [abs(ctx.expm1(ctx.mpf(h)) / ctx.mpf(h) - 1) for h in H]


def test_convergence_old_steps_keyword_warns_and_gives_the_same_result() -> None:
    """steps= is step_sizes= with a DeprecationWarning; both give the closed-form errors."""
    new = convergence("exp(x)", "x=0", schemes=["forward:1"], step_sizes=H, dps=30)
    with pytest.warns(DeprecationWarning, match="use step_sizes= instead"):
        old = convergence("exp(x)", "x=0", schemes=["forward:1"], steps=H, dps=30)
    assert old.to_dict() == new.to_dict()
    for got, want in zip(new.schemes[0].errors, _exp_forward_errors(), strict=True):
        assert abs(got - want) <= want * mpmath.mpf(10) ** -25


def test_giving_both_names_is_refused() -> None:
    """steps= and step_sizes= together: one sentence naming the new keyword."""
    with pytest.raises(ConfigError, match="give step_sizes only"):
        convergence("exp(x)", "x=0", schemes=["forward:1"], step_sizes=H, steps=H)


def test_scheme_convergence_steps_attribute_is_a_deprecated_alias() -> None:
    """SchemeConvergence.steps warns and returns step_sizes (the JSON key stays ``steps``)."""
    s = convergence("exp(x)", "x=0", schemes=["forward:1"], step_sizes=H, dps=30).schemes[0]
    assert s.step_sizes == (0.1, 0.05, 0.025)
    assert s.to_dict()["steps"] == [0.1, 0.05, 0.025]
    with pytest.warns(DeprecationWarning, match="SchemeConvergence.step_sizes"):
        assert s.steps == (0.1, 0.05, 0.025)


def test_report_old_steps_keyword_warns_and_gives_the_same_result() -> None:
    """report(steps=) is report(step_sizes=) with a DeprecationWarning."""
    new = report("x**3", "x=0.5", step_sizes=H, plots=False, dps=20)
    with pytest.warns(DeprecationWarning, match="use step_sizes= instead"):
        old = report("x**3", "x=0.5", steps=H, plots=False, dps=20)
    assert old.to_dict() == new.to_dict()
    # central:2 on x³ errs by exactly h² (f''' = 6, C = 1/6)
    central = next(s for s in new.convergence[0].schemes if s.scheme == "central:2")
    assert [float(e) for e in central.errors] == pytest.approx([0.01, 0.0025, 0.000625])


def test_cli_step_sizes_and_its_older_name_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """--step-sizes and --steps are one option; the help shows the new name."""
    outputs = []
    for option in ("--step-sizes", "--steps"):
        argv = ["converge", "exp(x)", "--at", "x=0", "--schemes", "forward:1", option, ",".join(H)]
        assert main([*argv, "--dps", "30", "--format", "json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    errors = outputs[0]["schemes"][0]["errors"]
    assert errors == pytest.approx([float(e) for e in _exp_forward_errors()], rel=1e-12)
    assert main(["converge", "--help"]) == 0
    assert "--step-sizes STEP_SIZES" in capsys.readouterr().out


def test_finite_difference_old_point_keyword_warns_and_gives_the_same_result() -> None:
    """point= is at= with a DeprecationWarning; the value is cos(1) to the digits asked."""
    ctx = mpmath.MPContext()
    ctx.dps = 60
    new = finite_difference("sin(x)", at="x=1", dps=30)
    with pytest.warns(DeprecationWarning, match="use at= instead") as caught:
        old = finite_difference("sin(x)", point="x=1", dps=30)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert old.to_dict() == new.to_dict()
    assert abs(new.value - ctx.cos(1)) <= ctx.mpf(10) ** -29


def test_finite_difference_gradient_old_point_keyword_warns() -> None:
    """finite_difference_gradient(point=) too; d/dx, d/dy of x*y**2 at (1, 2) are 4 and 4."""
    with pytest.warns(DeprecationWarning, match="use at= instead"):
        old = finite_difference_gradient("x*y**2", point="x=1, y=2", dps=20)
    new = finite_difference_gradient("x*y**2", "x=1, y=2", dps=20)
    assert [r.to_dict() for r in old] == [r.to_dict() for r in new]
    assert [abs(r.value - 4) <= 1e-18 for r in new] == [True, True]


def test_a_point_is_required_once() -> None:
    """No point, or both names: one sentence, a ConfigError."""
    with pytest.raises(ConfigError, match="needs the point"):
        finite_difference("sin(x)")
    with pytest.raises(ConfigError, match="give at only"):
        finite_difference("sin(x)", "x=1", point="x=1")


def test_pairwise_orders_and_fit_order_take_step_sizes() -> None:
    """pairwise_orders/fit_order: step_sizes= (positional too); E = h² gives orders of exactly 2."""
    h, e = [0.1, 0.05, 0.025], [1e-2, 2.5e-3, 6.25e-4]  # E = h² exactly, in every digit shown
    assert pairwise_orders(h, e) == pytest.approx([2.0, 2.0], abs=1e-12)
    assert pairwise_orders(step_sizes=h, errors=e) == pytest.approx([2.0, 2.0], abs=1e-12)
    assert fit_order(step_sizes=h, errors=e) == pytest.approx(2.0, abs=1e-12)
    assert fit_order(h, e) == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("function", [pairwise_orders, fit_order])
def test_orders_old_steps_keyword_warns_and_gives_the_same_result(function: Any) -> None:
    """steps= is step_sizes= with a DeprecationWarning at the caller's line; E = 3h gives 1."""
    h, e = [1e-1, 1e-2, 1e-3], [3e-1, 3e-2, 3e-3]
    with pytest.warns(DeprecationWarning, match="use step_sizes= instead") as caught:
        old = function(steps=h, errors=e)
    assert caught[0].filename == __file__
    assert old == function(step_sizes=h, errors=e)
    assert old == pytest.approx(1.0 if function is fit_order else [1.0, 1.0], abs=1e-12)


@pytest.mark.parametrize("function", [pairwise_orders, fit_order])
def test_orders_need_the_step_sizes_once(function: Any) -> None:
    """Both names, or no step sizes: one sentence, a ConfigError."""
    h, e = [0.1, 0.05], [4e-3, 1e-3]
    with pytest.raises(ConfigError, match="give step_sizes only"):
        function(h, e, steps=h)
    with pytest.raises(ConfigError, match="needs step_sizes and errors"):
        function(errors=e)
