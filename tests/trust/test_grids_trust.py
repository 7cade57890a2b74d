"""Red team for verify_grid: correct schemes never fail, planted wrong schemes never pass.

Fields are random sums of products of exp, sin, cos and cubic polynomials with decimal
coefficients, rates in [-1.5, 1.5] and frequencies in [-3, 3], on random boxes of side 1 to 3 in
1-D and 2-D.  Every oracle comes from this file's own reasoning about the scheme, with SymPy
derivatives evaluated by ``sympy.lambdify`` (never symgrad's code):

* ``numpy.gradient`` with ``edge_order`` e is second order inside and order e on the faces its
  stencil is one-sided on (for d/dx_k: the faces normal to x_k); it must never ``fail``.  It may
  be ``inconclusive`` only where the data cannot decide: the leading boundary error term
  ``∂^(e+1)f/∂x_k^(e+1)`` nearly vanishes on those faces, the errors sit at the rounding floor,
  or the orders are still drifting when the refinement budget runs out (the reason says which).
* Planted wrong schemes must never ``pass`` or be ``exact`` on a field that exposes the mistake:
  a missing spacing (the output is h times the derivative), a flipped sign, a first-order
  boundary claimed as second order, an output shifted by one point, and three schemes that are
  right only in the interior (periodic wrap-around at the ends, zeroed faces, and - in 2-D -
  zeroed transverse faces, where the stencil of d/dy is central but the scheme is not).
* Under an offset of 1e12 float64 rounding of the values (half an ulp, 2^-14, over h) hides
  most truncation errors.  A region may then be ``exact`` only where numpy's true order makes
  it exact for f (SymPy: ``∂^(p+1)f/∂x_k^(p+1) ≡ 0``); a wrong claim (first-order boundary
  claimed second) must not pass, a true one must not fail.
* Reported L∞ errors of the finest level match this file's own recomputation: the interior is
  the points at least one point away from every face; component k's boundary is the faces
  normal to axis k; the transverse region (2-D) the remaining points on the other faces.

The large-count versions carry ``@pytest.mark.slow`` (run them with ``pytest -m slow``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import Status

NAMES = ("x", "y")
SYMBOLS = sympy.symbols("x y", real=True)
Choose = Callable[[int, int], int]
Array = np.ndarray[Any, np.dtype[np.float64]]

#: A region may be inconclusive as "degenerate" when its leading error term on the faces is
#: below this fraction of the term's size over the whole box.
NEAR_DEGENERATE = 0.05
#: Relative agreement of reported and recomputed L∞ errors (two float64 evaluations of the
#: same formulas), plus an absolute slack of a few ulps of the values differenced.
SAME = 1e-7
#: Added to a field so that float64 rounding of its values hides the truncation error.
OFFSET = 1e12


SLOW_MARK = pytest.mark.slow
QUICK = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


# ------------------------------------------------------------------------------ fields
@dataclass(frozen=True)
class Field:
    """A test field: its text, its box (low, high) per axis, and SymPy form for the oracles."""

    text: str
    bounds: tuple[tuple[float, float], ...]

    @property
    def dim(self) -> int:
        return len(self.bounds)

    @property
    def domain(self) -> str:
        return ",".join(f"{n}={lo}:{hi}" for n, (lo, hi) in zip(NAMES, self.bounds, strict=False))

    @property
    def expr(self) -> sympy.Expr:
        local = dict(zip(NAMES, SYMBOLS, strict=True))
        return sympy.sympify(self.text, locals=local)

    def axes(self, n: int) -> list[Array]:
        return [np.linspace(lo, hi, n) for lo, hi in self.bounds]

    def evaluate(self, expr: sympy.Expr, n: int) -> Array:
        """``expr`` on the n-point grid of this box (indexing='ij'), as a full float64 array."""
        symbols = SYMBOLS[: self.dim]
        fn = sympy.lambdify(symbols, expr, modules="numpy")
        grid = np.meshgrid(*self.axes(n), indexing="ij")
        return np.broadcast_to(np.asarray(fn(*grid), dtype=np.float64), grid[0].shape).copy()

    def derivative(self, k: int, times: int = 1) -> sympy.Expr:
        return sympy.diff(self.expr, SYMBOLS[k], times)


def build_field(choose: Choose, dim: int) -> Field:
    """A random smooth field from integer choices (Hypothesis draws or a seeded generator)."""

    def number(lo: float, hi: float) -> float:
        return choose(round(lo * 10), round(hi * 10)) / 10

    def linear(lo: float, hi: float) -> str:
        return " + ".join(f"{number(lo, hi)}*{v}" for v in NAMES[:dim])

    def factor() -> str:
        kind = ("poly", "exp", "sin", "cos")[choose(0, 3)]
        if kind == "poly":
            v = NAMES[choose(0, dim - 1)]
            coefs = [number(-2, 2) for _ in range(choose(2, 4))]
            return "(" + " + ".join(f"({c})*{v}**{i}" for i, c in enumerate(coefs)) + ")"
        if kind == "exp":
            return f"exp({linear(-1.5, 1.5)})"
        return f"{kind}({linear(-3, 3)} + {number(0, 6.2)})"

    terms = []
    for _ in range(choose(1, 3)):
        product = "*".join(factor() for _ in range(choose(1, 2)))
        terms.append(f"({number(-2, 2)})*{product}")
    bounds = []
    for _ in range(dim):
        lo = choose(-4, 2) / 2
        bounds.append((lo, lo + choose(2, 6) / 2))
    return Field(" + ".join(terms), tuple(bounds))


@st.composite
def fields(draw: st.DrawFn, dims: Sequence[int] = (1, 2)) -> Field:
    dim = draw(st.sampled_from(list(dims)))
    return build_field(lambda lo, hi: draw(st.integers(lo, hi)), dim)


# ----------------------------------------------------------------------------- schemes
def gradient(f: Array, h: Sequence[float], edge_order: int = 1) -> list[Array]:
    """numpy.gradient with the spacing: the reference scheme, as a list of components."""
    g = np.gradient(f, *h, edge_order=edge_order)
    return [g] if f.ndim == 1 else list(g)


def face(k: int, ndim: int, end: int) -> tuple[slice | int, ...]:
    """Index of the face normal to axis k at ``end`` (0 or -1)."""
    return tuple(end if j == k else slice(None) for j in range(ndim))


def missing_spacing(f: Array, h: Sequence[float]) -> list[Array]:
    g = np.gradient(f)
    return [g] if f.ndim == 1 else list(g)


def wrong_sign(f: Array, h: Sequence[float]) -> list[Array]:
    return [-g for g in gradient(f, h)]


def first_order_boundary(f: Array, h: Sequence[float]) -> list[Array]:
    return gradient(f, h, edge_order=1)


def shifted_by_one(f: Array, h: Sequence[float]) -> list[Array]:
    return [np.roll(g, 1, axis=k) for k, g in enumerate(gradient(f, h))]


def periodic_ends(f: Array, h: Sequence[float]) -> list[Array]:
    """Central differences everywhere, wrapping around at the ends (right only inside)."""
    return [(np.roll(f, -1, axis=k) - np.roll(f, 1, axis=k)) / (2 * h[k]) for k in range(f.ndim)]


def zeroed_faces(f: Array, h: Sequence[float]) -> list[Array]:
    """numpy.gradient with every component set to 0 on its own faces."""
    out = gradient(f, h)
    for k, g in enumerate(out):
        g[face(k, f.ndim, 0)] = 0.0
        g[face(k, f.ndim, -1)] = 0.0
    return out


def zeroed_transverse(f: Array, h: Sequence[float]) -> list[Array]:
    """numpy.gradient with each component set to 0 on the faces normal to the other axes only.

    The corners belong to the component's own faces and keep numpy's values, so only the
    transverse region can catch this scheme.
    """
    out = gradient(f, h)
    for k, g in enumerate(out):
        for j in range(f.ndim):
            for end in (0, -1):
                if j != k:
                    index: list[slice | int] = [slice(None)] * f.ndim
                    index[k], index[j] = slice(1, -1), end
                    g[tuple(index)] = 0.0
    return out


def derivative_visible(field: Field, k: int) -> bool:
    """∂f/∂x_k is not negligible on the grid (so a factor or sign error shows)."""
    values = field.evaluate(field.derivative(k), 33)
    return float(np.abs(values).max()) > 1e-6 * (
        1 + float(np.abs(field.evaluate(field.expr, 33)).max())
    )


def term_on_faces(
    field: Field, k: int, times: int, faces_of: int | None = None
) -> tuple[float, float]:
    """(max on the faces normal to ``faces_of`` (default k), max over the box) of ∂^times f/∂x_k^times."""
    values = np.abs(field.evaluate(field.derivative(k, times), 65))
    j = k if faces_of is None else faces_of
    on_faces = max(
        float(values[face(j, field.dim, 0)].max()), float(values[face(j, field.dim, -1)].max())
    )
    return on_faces, float(values.max())


def slope_on_own_faces(field: Field, k: int) -> bool:
    """∂f/∂x_k is not negligible on the faces normal to k: zeroing it there shows."""
    return term_on_faces(field, k, 1)[0] > 1e-6


def slope_on_other_faces(field: Field, k: int) -> bool:
    """∂f/∂x_k is not negligible on a face normal to another axis (its corners aside)."""
    return any(term_on_faces(field, k, 1, j)[0] > 1e-6 for j in range(field.dim) if j != k)


def faces_curved(field: Field, k: int) -> bool:
    """f_kk is not small on the faces normal to k: a first-order error there shows."""
    on_faces, everywhere = term_on_faces(field, k, 2)
    return on_faces > NEAR_DEGENERATE * everywhere and on_faces > 1e-6


def interior_curved(field: Field, k: int) -> bool:
    """f_kk is not negligible: a shift by one point errs by about h f_kk."""
    _, everywhere = term_on_faces(field, k, 2)
    return everywhere > 1e-6


def ends_differ(field: Field, k: int) -> bool:
    """The field is not periodic along k: a wrapped stencil at the ends errs by O(1/h)."""
    f = field.evaluate(field.expr, 33)
    return float(np.abs(f[face(k, field.dim, 0)] - f[face(k, field.dim, -1)]).max()) > 1e-6


@dataclass(frozen=True)
class Planted:
    """A wrong scheme, the orders it is claimed to have, and when a field exposes it."""

    name: str
    scheme: Callable[[Array, Sequence[float]], list[Array]]
    claimed: tuple[float, float]
    exposed: Callable[[Field, int], bool]
    dims: tuple[int, ...] = (1, 2)


PLANTED = (
    Planted("missing spacing", missing_spacing, (2, 1), derivative_visible),
    Planted("wrong sign", wrong_sign, (2, 1), derivative_visible),
    Planted("first-order boundary claimed second", first_order_boundary, (2, 2), faces_curved),
    Planted("shifted by one point", shifted_by_one, (2, 1), interior_curved),
    Planted("wrapped ends", periodic_ends, (2, 1), ends_differ),
    Planted("zeroed faces", zeroed_faces, (2, 1), slope_on_own_faces),
    Planted("zeroed transverse faces", zeroed_transverse, (2, 1), slope_on_other_faces, (2,)),
)


# ------------------------------------------------------------------------------ oracles
def undecidable(field: Field, result: Any, edge_order: int) -> bool:
    """Whether an inconclusive verdict on a correct numpy.gradient is one the data forces.

    Accepted: the reason names the rounding floor, a degenerate field or a refinement budget,
    and this file's own computation agrees where it can (a degenerate boundary term is checked).
    """
    for k, comp in enumerate(result.components):
        for region in regions(comp):
            if region.status is not Status.INCONCLUSIVE:
                continue
            reason = region.reason
            if "degenerate" in reason or "vanishes" in reason:
                on_faces, everywhere = term_on_faces(field, k, edge_order + 1)
                if not on_faces <= NEAR_DEGENERATE * everywhere:
                    return False
            elif not ("floor" in reason or "budget" in reason):
                return False
    return True


def regions(comp: Any) -> list[Any]:
    """The judged regions of a component (interior, boundary, and transverse where present)."""
    extra = getattr(comp, "transverse", None)
    return [comp.interior, comp.boundary] + ([extra] if extra is not None else [])


def recomputed_linf(field: Field, n: int, approx: list[Array], k: int) -> dict[str, float]:
    """L∞ errors of component k on the finest grid, by region, from this file's own masks."""
    error = np.abs(approx[k] - field.evaluate(field.derivative(k), n))
    inner = np.zeros(error.shape, dtype=bool)
    inner[(slice(1, -1),) * field.dim] = True
    own = np.zeros(error.shape, dtype=bool)
    own[face(k, field.dim, 0)] = True
    own[face(k, field.dim, -1)] = True
    out = {"interior": float(error[inner].max()), "boundary": float(error[own].max())}
    if field.dim > 1:
        out["transverse"] = float(error[~inner & ~own].max())
    return out


def values_agree(field: Field, result: Any, scheme: Callable[..., list[Array]]) -> bool:
    """Reported finest-level L∞ errors equal this file's recomputation in every region."""
    n = result.sizes[-1]
    axes = field.axes(n)
    f = field.evaluate(field.expr, n)
    approx = scheme(f, [a[1] - a[0] for a in axes])
    slack = 64 * np.finfo(np.float64).eps * float(np.abs(f).max()) * n
    for k, comp in enumerate(result.components):
        want = recomputed_linf(field, n, approx, k)
        got = {
            "interior": comp.interior.errors["Linf"][-1],
            "boundary": comp.boundary.errors["Linf"][-1],
        }
        if "transverse" in want and getattr(comp, "transverse", None) is not None:
            got["transverse"] = comp.transverse.errors["Linf"][-1]
        for where, value in got.items():
            if not math.isclose(value, want[where], rel_tol=SAME, abs_tol=slack):
                return False
    return True


def judge_correct(field: Field, edge_order: int) -> str:
    """Outcome class of a correct numpy.gradient: correct, false fail or wrong value."""
    result = symgrad.verify_grid(field.text, field.domain, scheme=f"numpy:edge_order={edge_order}")
    if result.status is Status.FAIL:
        return "false fail"
    if result.status is Status.INCONCLUSIVE and not undecidable(field, result, edge_order):
        return "false fail"
    scheme = lambda f, h: gradient(f, h, edge_order)
    return "correct" if values_agree(field, result, scheme) else "wrong value"


def exact_for(field: Field, order: float, k: int) -> bool:
    """A scheme of this order is exact for f along axis k: ∂^(⌊p⌋+1)f/∂x_k^(⌊p⌋+1) ≡ 0."""
    return sympy.simplify(field.derivative(k, math.floor(order) + 1)) == 0


def judge_offset(field: Field, edge_order: int, claimed: tuple[float, float]) -> str:
    """Outcome class of numpy.gradient on ``OFFSET + f``, claimed to have orders ``claimed``.

    The offset puts the rounding floor (about 64 ε · 1e12 / h) above most truncation errors.
    ``exact`` is true only for a region where numpy's true order (2 inside, edge_order on the
    faces) makes it exact for f; ``fail`` is false for a true claim; ``pass`` is false for a
    wrong claim on a field whose faces show the first-order term.
    """
    text = f"{OFFSET:g} + {field.text}"
    result = symgrad.verify_grid(
        text, field.domain, scheme=f"numpy:edge_order={edge_order}", expect_order=claimed
    )
    truth = (2, edge_order)
    for k, comp in enumerate(result.components):
        for region, claim, true in zip(regions(comp), claimed, truth, strict=False):
            if region.status is Status.EXACT and not exact_for(field, true, k):
                return "false pass"
            if region.status is Status.PASS and claim > true and faces_curved(field, k):
                return "false pass"
            if region.status is Status.FAIL and claim <= true:
                return "false fail"
    return "correct"


def judge_planted(field: Field, planted: Planted) -> str | None:
    """Outcome class of a planted wrong scheme (None when the field does not expose it)."""
    if not any(planted.exposed(field, k) for k in range(field.dim)):
        return None
    result = symgrad.verify_grid(
        field.text, field.domain, scheme=planted.scheme, expect_order=planted.claimed
    )
    if result.status in (Status.PASS, Status.EXACT):
        return "false pass"
    return "correct" if values_agree(field, result, planted.scheme) else "wrong value"


# -------------------------------------------------------------------------------- tests
@QUICK
@given(field=fields(), edge_order=st.sampled_from([1, 2]))
def test_correct_numpy_gradient_never_fails(field: Field, edge_order: int) -> None:
    """A correct numpy.gradient is never failed, and its reported errors are right."""
    assert judge_correct(field, edge_order) == "correct"


@QUICK
@given(field=fields(), which=st.integers(0, len(PLANTED) - 1))
def test_planted_wrong_scheme_never_passes(field: Field, which: int) -> None:
    """A planted wrong scheme is never passed or called exact on a field that exposes it."""
    planted = PLANTED[which]
    assume(field.dim in planted.dims)
    outcome = judge_planted(field, planted)
    assume(outcome is not None)
    assert outcome == "correct"


@QUICK
@given(field=fields(), edge_order=st.sampled_from([1, 2]), lie=st.booleans())
def test_rounding_floor_is_never_called_exact_without_evidence(
    field: Field, edge_order: int, lie: bool
) -> None:
    """Under a 1e12 offset nothing hidden by rounding is called exact, passed or failed falsely."""
    claimed = (2.0, 2.0) if lie else (2.0, float(edge_order))
    assert judge_offset(field, edge_order, claimed) == "correct"


@SLOW_MARK
@SLOW
@given(field=fields(), edge_order=st.sampled_from([1, 2]))
def test_correct_numpy_gradient_never_fails_many(field: Field, edge_order: int) -> None:
    """The large-count version of the correct-scheme property."""
    assert judge_correct(field, edge_order) == "correct"


@SLOW_MARK
@SLOW
@given(field=fields(), which=st.integers(0, len(PLANTED) - 1))
def test_planted_wrong_scheme_never_passes_many(field: Field, which: int) -> None:
    """The large-count version of the planted-scheme property."""
    planted = PLANTED[which]
    assume(field.dim in planted.dims)
    outcome = judge_planted(field, planted)
    assume(outcome is not None)
    assert outcome == "correct"


@SLOW_MARK
@SLOW
@given(field=fields(), edge_order=st.sampled_from([1, 2]), lie=st.booleans())
def test_rounding_floor_is_never_called_exact_without_evidence_many(
    field: Field, edge_order: int, lie: bool
) -> None:
    """The large-count version of the rounding-floor property."""
    claimed = (2.0, 2.0) if lie else (2.0, float(edge_order))
    assert judge_offset(field, edge_order, claimed) == "correct"
