"""check on a sum: a part's kink, jump, pole or domain edge is worded as for f itself.

The referee differences only the terms of a sum that hold the differentiated variables; when
that part fails at the point, the reason must name f's whole point and the partial exactly as
differencing f whole does, and then the terms of f the part is made of.  Expectations are
written by hand: the one-sided derivatives are those of the closed forms (d/dy |y| = ±1 at 0,
d/dy (x·|y − 1|) = ±x at y = 1, ∂²|y·z|/∂y∂z = ±1 at y = 0, z > 0).
"""

from __future__ import annotations

import pytest

from symgrad import check
from symgrad.checks import _terms
from symgrad.results import Status

AT = "x=0.5, y=0, z=2"
ABS_Y = "kink at x=0.5, y=0, z=2 in d/dy: left derivative -1, right derivative 1"

CASES = [
    # (f, point, kind, component, the whole-f wording, the terms it names)
    ("abs(y) + x*z", AT, "gradient", "d/dy", ABS_Y, "in Abs(y), the term of f that holds y"),
    (
        "sign(y) + x*z",
        AT,
        "gradient",
        "d/dy",
        "d/dy does not converge from both sides of x=0.5, y=0, z=2",
        "in sign(y), the term of f that holds y",
    ),
    (
        "Heaviside(y) + x*z",
        AT,
        "gradient",
        "d/dy",
        "d/dy does not converge from both sides of x=0.5, y=0, z=2",
        "in Heaviside(y), the term of f that holds y",
    ),
    (
        "x*z + abs(y - 1)*x",
        "x=0.5, y=1, z=2",
        "gradient",
        "d/dy",
        "kink at x=0.5, y=1, z=2 in d/dy: left derivative -0.5, right derivative 0.5",
        "in x*Abs(y - 1), the term of f that holds y",
    ),
    ("abs(y) + x*z", AT, "hessian", "d2/dy2", ABS_Y, "in Abs(y), the term of f that holds y"),
    (
        "x**2 + abs(y*z)",
        AT,
        "hessian",
        "d2/dydz",
        "kink at x=0.5, y=0, z=2 in d2/dydz: left derivative -1, right derivative 1",
        "in Abs(y*z), the term of f that holds y or z",
    ),
    (
        "abs(y) + x*y + z**2",
        AT,
        "y",
        "d/dy",
        "kink at x=0.5, y=0, z=2 in d/dy: left derivative -0.5, right derivative 1.5",
        "in x*y + Abs(y), the terms of f that hold y",
    ),
    (
        "abs(x) + 1",
        "x=0",
        "gradient",
        "d/dx",
        "kink at x=0: left derivative -1, right derivative 1",
        "in Abs(x), the term of f that holds x",
    ),
]


def _reason(f: str, at: str, kind: str, label: str) -> tuple[Status, str]:
    r = check(f, at, kind=kind)
    (component,) = [c for c in r.points[0].components if c.label == label]
    return r.status, component.reason


@pytest.mark.parametrize(("f", "at", "kind", "label", "whole", "terms"), CASES)
def test_a_parts_failure_names_the_whole_point_and_the_terms(
    f: str, at: str, kind: str, label: str, whole: str, terms: str
) -> None:
    """The hand-written sentence, and the same words as differencing f whole, plus the terms."""
    status, reason = _reason(f, at, kind, label)
    assert status is Status.INCONCLUSIVE
    assert reason == f"{whole} ({terms})"


@pytest.mark.parametrize(("f", "at", "kind", "label", "whole", "terms"), CASES)
def test_the_wording_is_that_of_f_differenced_whole(
    monkeypatch: pytest.MonkeyPatch, f: str, at: str, kind: str, label: str, whole: str, terms: str
) -> None:
    """With the split turned off the referee words the same failure without the terms."""
    monkeypatch.setattr(_terms, "SPLIT_SUMS", False)
    status, reason = _reason(f, at, kind, label)
    assert status is Status.INCONCLUSIVE
    assert reason == whole


def test_the_verdicts_sentence_leads_with_the_component() -> None:
    """CheckResult.reason: the component's label, then its sentence."""
    r = check("abs(y) + x*z", AT)
    assert r.reason == f"d/dy: {ABS_Y} (in Abs(y), the term of f that holds y)"


def test_a_jacobian_row_is_named() -> None:
    """Row 1, |y| + x: its part for y is |y|, and the sentence names f1."""
    r = check(["abs(y) + x", "x*y"], "x=0.5, y=0", kind="jacobian")
    assert r.reason == (
        "df1/dy: kink at x=0.5, y=0 in d/dy: left derivative -1, right derivative 1 "
        "(in Abs(y), the term of f1 that holds y)"
    )


@pytest.mark.parametrize(
    ("f", "want"),
    [
        ("1/y + x*z", "f has a pole at x=0.5, y=0, z=2, so d/dy is undefined there"),
        ("log(y) + x*z", "f has a pole at x=0.5, y=0, z=2, so d/dy is undefined there"),
        (
            "sqrt(y) + x*z",
            "the symbolic d/dy is infinite at x=0.5, y=0, z=2 although f is finite there",
        ),
    ],
)
def test_poles_and_domain_edges_name_the_whole_point(f: str, want: str) -> None:
    """f or the derivative fails at the point itself: f's point, before any differencing."""
    status, reason = _reason(f, AT, "y", "d/dy")
    assert status is Status.INCONCLUSIVE
    assert reason == want


def test_a_long_part_is_cut() -> None:
    """|y|·1e-300 prints with a 300-digit denominator: the sentence shows 80 characters of it."""
    status, reason = _reason("x**3 + abs(y)*1e-300 + z", "x=1e-150, y=0, z=2", "y", "d/dy")
    assert status is Status.INCONCLUSIVE
    assert reason.startswith(
        "kink at x=1e-150, y=0, z=2 in d/dy: left derivative -1e-300, right derivative 1e-300 "
        "(in Abs(y)/1000"
    )
    shown = reason.split("(in ", 1)[1].split(", the term of f", 1)[0]
    assert len(shown) == _terms.TERMS_SHOWN
    assert shown.endswith("...")
    assert reason.endswith(", the term of f that holds y)")
