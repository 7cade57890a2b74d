"""Bounded work in the checks: every count is refused before the work it protects.

The caps come from ``symgrad.Limits`` (``max_points``, ``max_values``, ``max_checks``, and
``max_work`` passed on to the priced derivative constructors).  Each refusal is asserted by the
work that did *not* happen: the user's code is never called and SymPy never differentiates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symgrad
from symgrad.checks import _gradient, _point
from symgrad.errors import ConfigError, LimitExceeded
from symgrad.results import Status


class Counted:
    """A callable that counts its calls (for the user's code and symgrad's constructors)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.fixture
def derive_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counted]:
    """Count every differentiation the checks ask derive for."""
    counted = {}
    for module in (_gradient, _point):
        for name in ("gradient", "hessian", "jacobian", "derivative"):
            if hasattr(module, name):
                wrapper = Counted(getattr(module, name))
                monkeypatch.setattr(module, name, wrapper)
                counted[f"{module.__name__}.{name}"] = wrapper
    return counted


def no_derivative_taken(calls: dict[str, Counted]) -> bool:
    return all(c.calls == 0 for c in calls.values())


def test_ten_million_random_points_are_refused_before_anything(
    derive_calls: dict[str, Counted],
) -> None:
    """n_points=10**7 would evaluate 10**7 exact derivatives: refused, naming the cap."""
    user = Counted(lambda x: 2 * x)
    with pytest.raises(LimitExceeded, match=r"max_points") as info:
        symgrad.check_gradient(user, "x**2", n_points=10**7)
    assert (info.value.limit, info.value.value, info.value.allowed) == ("points", 10**7, 100_000)
    assert user.calls == 0
    assert no_derivative_taken(derive_calls)


def test_the_points_compared_are_exactly_the_points_asked_for() -> None:
    """At the cap every requested point is drawn and compared: the seeded draws themselves."""
    limits = symgrad.Limits(max_points=20)
    r = symgrad.check_gradient(lambda x: 2 * x, "x**2", n_points=20, limits=limits)
    drawn = np.random.default_rng(0).uniform(-2.0, 2.0, size=(20, 1))  # the documented draw
    assert r.status is Status.PASS
    assert r.n_points == 20
    assert r.points.tolist() == drawn.tolist()
    assert r.reason.startswith("d/dx agrees with the exact gradient at 20 points")
    with pytest.raises(LimitExceeded, match="21 points to check"):
        symgrad.check_gradient(lambda x: 2 * x, "x**2", n_points=21, limits=limits)


@pytest.mark.parametrize(
    "at",
    [np.zeros((100_001, 2)), {"x": np.arange(100_001.0), "y": 0.5}],
    ids=["array", "mapping"],
)
def test_given_points_over_the_cap_are_refused_before_the_users_code_runs(
    at: Any, derive_calls: dict[str, Counted]
) -> None:
    """Given points are counted as soon as their shape is known (a mapping before broadcasting)."""
    user = Counted(lambda x, y: np.array([y, x]))
    with pytest.raises(LimitExceeded, match="100,001 points") as info:
        symgrad.check_gradient(user, "x*y", at=at)
    assert info.value.limit == "points"
    assert user.calls == 0
    assert no_derivative_taken(derive_calls)


def test_points_times_entries_are_capped_before_differentiating(
    derive_calls: dict[str, Counted],
) -> None:
    """A Hessian of 10 variables has 100 entries: 10,001 points are 1,000,100 values."""
    expr = " + ".join(f"x{i}**2" for i in range(10))
    user = Counted(lambda *xs: np.zeros((10, 10)))
    with pytest.raises(LimitExceeded, match=r"max_values") as info:
        symgrad.check_gradient(user, expr, kind="hessian", n_points=10_001)
    assert (info.value.limit, info.value.value, info.value.allowed) == (
        "values",
        1_000_100,
        1_000_000,
    )
    assert user.calls == 0
    assert no_derivative_taken(derive_calls)
    # a Jacobian of 2 rows and 3 variables: 6 entries per point
    limits = symgrad.Limits(max_values=11)
    with pytest.raises(LimitExceeded, match=r"2 points times 6 entries"):
        symgrad.check_gradient(
            user, ["x*y", "y*z"], kind="jacobian", at=np.ones((2, 3)), limits=limits
        )


def test_check_caps_points_times_components_before_differentiating(
    derive_calls: dict[str, Counted],
) -> None:
    """check: 556 points of a 3-variable Hessian are 5,004 components, over 5,000."""
    at = ["x=1, y=2, z=3"] * 556
    with pytest.raises(LimitExceeded, match=r"max_checks") as info:
        symgrad.check("x*y*z", at, kind="hessian")
    assert (info.value.limit, info.value.value, info.value.allowed) == ("checks", 5004, 5000)
    assert no_derivative_taken(derive_calls)


def test_check_at_its_cap_checks_every_component() -> None:
    """max_checks=4: two points of a 2-variable gradient are checked (y, x exactly), three not."""
    limits = symgrad.Limits(max_checks=4)
    r = symgrad.check("x*y", ["x=1, y=2", "x=3, y=5"], limits=limits)
    assert r.status is Status.PASS
    symbolic = [[c.symbolic for c in p.components] for p in r.points]
    assert symbolic == [[2, 1], [5, 3]]
    with pytest.raises(LimitExceeded, match="6 components"):
        symgrad.check("x*y", ["x=1, y=2"] * 3, limits=limits)
    # one partial is one component per point
    assert symgrad.check("x*y", ["x=1, y=2"] * 4, kind="x y", limits=limits).status is Status.PASS


def test_limits_reach_the_priced_derivatives() -> None:
    """max_work is passed on: a budget of one node operation refuses the differentiation."""
    tiny = symgrad.Limits(max_work=1)
    with pytest.raises(LimitExceeded) as info:
        symgrad.check("sin(x)*y", "x=1, y=2", limits=tiny)
    assert info.value.limit == "work"
    with pytest.raises(LimitExceeded) as info:
        symgrad.check_gradient(lambda x, y: np.array([y, x]), "x*y", n_points=5, limits=tiny)
    assert info.value.limit == "work"


@pytest.mark.parametrize("field", ["max_points", "max_values", "max_checks"])
@pytest.mark.parametrize("bad", [0, -5, True, 2.5, "10"])
def test_limits_fields_are_validated(field: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=field):
        symgrad.Limits(**{field: bad})  # type: ignore[arg-type]


def test_limits_must_be_a_limits_object() -> None:
    with pytest.raises(ConfigError, match=r"symgrad\.Limits"):
        symgrad.check("x", "x=1", limits={"max_checks": 5})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"symgrad\.Limits"):
        symgrad.check_gradient(lambda x: 1.0, "x", limits=5)  # type: ignore[arg-type]
