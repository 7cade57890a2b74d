"""Grid Convergence Index: discretization uncertainty from three or more grid solutions.

Implements the five-step procedure of Celik, Ghia, Roache, Freitas, Coleman & Raad (2008),
"Procedure for estimation and reporting of uncertainty due to discretization in CFD
applications", J. Fluids Eng. 130(7):078001, with Roache's (1994, 1998) safety factor and
coarse-grid index.  Formulas are cited by the paper's step numbers; the labels (3a)-(3c) of the
apparent-order equations are those of Celik et al. (2008), eqs. 3-5.

Grids are numbered fine to coarse, ``h1 < h2 < h3``, with ``r21 = h2/h1``, ``r32 = h3/h2``,
``ε21 = φ2 - φ1`` and ``ε32 = φ3 - φ2``.  Relative quantities are fractions, never percent.
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from symgrad._limits import check_count
from symgrad.errors import ConfigError, InputError
from symgrad.results import Result, Status

__all__ = ["GCIResult", "gci"]

_ROUNDING = 8 * 2.0**-52  # |ε| <= 8 ulp of max|φ|: the solutions "agree to rounding"
_P_TOL, _MAX_ITER = 1e-14, 200  # fixed-point stop: |Δp| <= _P_TOL max(1, p)
_P_MAX = 64.0  # the bisection fallback searches p in (0, _P_MAX]
_MIN_RATIO = 1.3  # Celik et al. (2008), step 2: r > 1.3, "based on experience"
_FAILED = (ValueError, OverflowError, ZeroDivisionError)
#: Solutions (grids) of one study: each consecutive triplet is solved for its order.
MAX_GRIDS = 1000


@dataclass(frozen=True)
class GCIResult(Result):
    """Outcome of a grid-convergence study; the estimates refer to the finest three grids.

    Attributes
    ----------
    p, extrapolated, e_a, e_ext, gci_fine : float
        Celik's reported quantities: apparent order (step 3, NaN when undefined),
        ``φ_ext^21 = (r21^p φ1 - φ2)/(r21^p - 1)`` (step 4), ``|(φ1 - φ2)/φ1|``,
        ``|(φ_ext - φ1)/φ_ext|`` and ``GCI_fine^21 = Fs e_a/(r21^p - 1)``, the band on φ1
        (step 5).
    gci_coarse, gci_fine32 : float
        Roache's coarse-grid index ``r21^p GCI_fine^21`` (the band on φ2), and the fine-grid
        index of the 3-2 pair, ``Fs |(φ2 - φ3)/φ2|/(r32^p - 1)`` (NASA's ``GCI_23``).
    asymptotic_ratio : float
        Roache's check ``GCI_fine^32/(r21^p GCI_fine^21)``, near φ1/φ2 in the asymptotic range.
        With three grids it equals φ1/φ2 for any monotone data, so it is
        reported, not judged; with four or more, ``GCI_fine^32`` uses the order of grids 2-3-4.
    oscillatory, convergence : bool, str
        ``ε32/ε21 < 0`` (sign term ``s = -1``); ``monotone``, ``oscillatory``, ``divergent``,
        ``oscillatory-divergent``, ``constant`` or ``oscillatory-constant`` (the change per
        unit of ``ln h`` stays the same to rounding: p = 0, no convergence observed),
        ``exact`` or ``stagnant`` (one of ε21, ε32 is zero).
    r21, r32, h, values, cells
        Refinement ratios (from counts or spacings, never rounded); sizes, solutions and cell
        counts (None with spacings) sorted fine to coarse.
    iterations, p_triplets, asymptotic_range
        Fixed-point iterations (0: direct, -1: bisection fallback); the order of each
        consecutive triplet; with four or more grids, whether all converge monotonically with
        orders within ``asymptotic_tol`` of the finest (None with three: not testable).
    """

    status: Status
    reason: str
    p: float
    extrapolated: float
    e_a: float
    e_ext: float
    gci_fine: float
    gci_coarse: float
    gci_fine32: float
    asymptotic_ratio: float
    oscillatory: bool
    convergence: str
    r21: float
    r32: float
    h: tuple[float, ...]
    values: tuple[float, ...]
    cells: tuple[int, ...] | None
    safety_factor: float
    iterations: int
    p_triplets: tuple[float, ...]
    asymptotic_range: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name (the ``gci`` keys of docs/reference/json.md); NaN and inf become None."""
        return {k: _jsonable(v) for k, v in vars(self).items()} | {"status": self.status.value}

    def to_text(self) -> str:
        """A table in the layout of Celik et al. (2008), Table 1, for people."""
        lines = [f"GCI (Celik et al. 2008), {len(self.values)} grids: {self.status}"]
        lines.append(f"  {'grid':>4}  {'h':>12}  {'cells':>10}  {'phi':>14}")
        for i, (hi, phi) in enumerate(zip(self.h, self.values, strict=True)):
            cells = str(self.cells[i]) if self.cells else "-"
            lines.append(f"  {i + 1:>4}  {hi:>12.6g}  {cells:>10}  {phi:>14.8g}")
        lines += [f"  {label:<38} {text}" for label, text in self._rows()]
        return "\n".join([*lines, f"reason: {self.reason}"])

    def to_markdown(self) -> str:
        """The verdict, the reason and a Markdown table."""
        rows = [("h (fine to coarse)", ", ".join(f"{x:.6g}" for x in self.h))]
        rows += [("φ (fine to coarse)", ", ".join(f"{x:.8g}" for x in self.values))]
        body = "\n".join(f"| {k} | {v} |" for k, v in [*rows, *self._rows()])
        return f"**{self.status}**: {self.reason}\n\n| quantity | value |\n| --- | --- |\n{body}\n"

    def _rows(self) -> list[tuple[str, str]]:
        rows = [
            ("refinement ratios r21, r32", f"{self.r21:.6g}, {self.r32:.6g}"),
            ("convergence", self.convergence),
            ("apparent order p", f"{self.p:.6g}"),
            ("extrapolated value phi_ext^21", f"{self.extrapolated:.8g}"),
            ("approximate relative error e_a^21", _percent(self.e_a)),
            ("extrapolated relative error e_ext^21", _percent(self.e_ext)),
            (f"GCI_fine^21 (Fs = {self.safety_factor:g})", _percent(self.gci_fine)),
            ("GCI_coarse^21", _percent(self.gci_coarse)),
            ("GCI_fine^32", _percent(self.gci_fine32)),
            ("GCI_fine^32 / (r21^p GCI_fine^21)", f"{self.asymptotic_ratio:.6g}"),
        ]
        if len(self.p_triplets) > 1:
            rows.append(("p per triplet", ", ".join(f"{x:.6g}" for x in self.p_triplets)))
            rows.append(("asymptotic range", "confirmed" if self.asymptotic_range else "not shown"))
        return rows


def gci(
    values: Sequence[float],
    *,
    cells: Sequence[int] | None = None,
    dim: int | None = None,
    spacing: Sequence[float] | None = None,
    safety_factor: float = 1.25,
    order_range: tuple[float, float] = (0.5, 8.0),
    asymptotic_tol: float = 0.1,
) -> GCIResult:
    """Estimate discretization uncertainty by the procedure of Celik et al. (2008).

    Parameters
    ----------
    values : sequence of float
        One quantity computed on three or more grids, listed in the same order as ``cells`` or
        ``spacing`` (any order: the grids are sorted by ``h``, finest first).
    cells, dim : sequence of int, int
        Cell counts and spatial dimension (1, 2 or 3): ``h_i = (1/N_i)^(1/dim)`` (step 1; the
        domain size cancels in the ratios ``r = (N_fine/N_coarse)^(1/dim)``).
    spacing : sequence of float
        Representative cell sizes ``h_i`` instead.  Give exactly one of ``cells`` and ``spacing``.
    safety_factor : float
        ``Fs``: 1.25 for three or more grids (Roache 1998).
    order_range : (float, float)
        Apparent orders outside this closed range are ``inconclusive`` (pre-asymptotic grids or
        coincidental cancellation).
    asymptotic_tol : float
        With four or more solutions, the largest relative spread ``|p_k - p_1|/p_1`` of the
        triplet orders that confirms the asymptotic range.

    Returns
    -------
    GCIResult
        ``pass``: monotone convergence, ``p`` in ``order_range`` and (four or more solutions)
        the asymptotic range confirmed.  ``inconclusive``: oscillatory convergence, stagnation,
        ``p`` unsolvable or out of range, range not confirmed, a change between grids that
        stays the same (``p = 0`` to rounding: no convergence observed), or φ1 = 0 (no finite
        band relative to φ1; the reason gives the absolute band ``Fs |φ1 - φ2|/(r21^p - 1)``).
        ``fail``: divergence (the change per unit of ``ln h`` grows beyond rounding as h
        decreases).
        ``exact``: all solutions agree to rounding (the GCIs are then 0).

    Raises
    ------
    ConfigError
        Fewer than three values, mismatched lengths, a bad combination of ``cells``, ``dim``
        and ``spacing``, non-finite or non-positive numbers, or two grids of the same size.
    InputError
        Entries that are not real numbers (strings, booleans, ...).
    LimitExceeded
        More than ``MAX_GRIDS`` values, cells or spacings (``limit="grids"``), refused before
        any is read further.

    Examples
    --------
    Celik et al. (2008), Table 1, first column (2-D grids, reattachment length):

    >>> res = gci([6.063, 5.972, 5.863], cells=[18000, 8000, 4500], dim=2)
    >>> res.status.value, round(res.p, 2), round(res.extrapolated, 4)
    ('pass', 1.53, 6.1685)
    >>> round(100 * res.gci_fine, 2)  # GCI_fine^21 in percent
    2.17
    """
    opts = (safety_factor, order_range, asymptotic_tol)
    phi, h, counts = _gci_iv(values, cells, dim, spacing, opts)
    fs = float(safety_factor)
    triplets = [_triplet(phi[k : k + 3], h[k : k + 3]) for k in range(len(phi) - 2)]
    kind, p, iterations = triplets[0]
    est = _estimates(phi, h, p, fs, exact=kind == "exact")
    if len(triplets) > 1 and kind != "exact":
        # Roache's check made independent: GCI_fine^32 with the order of grids 2-3-4.
        g32 = _estimates(phi[1:], h[1:], triplets[1][1], fs)["gci_fine"]
        est["asymptotic_ratio"] = _roache_ratio(g32, (h[1] / h[0]) ** p, est["gci_fine"])
    fields: dict[str, Any] = {
        "p": p,
        **est,
        "oscillatory": kind.startswith("oscillatory"),
        "convergence": kind,
        "r21": h[1] / h[0],
        "r32": h[2] / h[1],
        "h": h,
        "values": phi,
        "cells": counts,
        "safety_factor": fs,
        "iterations": iterations,
        "p_triplets": tuple(t[1] for t in triplets),
        "asymptotic_range": _asymptotic(triplets, asymptotic_tol) if len(triplets) > 1 else None,
    }
    return GCIResult(*_verdict(fields, order_range), **fields)


def _triplet(phi: Sequence[float], h: Sequence[float]) -> tuple[str, float, int]:
    """Classify one triplet and solve for its apparent order: (kind, p, iterations)."""
    e21, e32 = phi[1] - phi[0], phi[2] - phi[1]
    r21, r32 = h[1] / h[0], h[2] / h[1]
    tiny = _ROUNDING * max(abs(x) for x in phi)
    if abs(e21) <= tiny and abs(e32) <= tiny:
        return "exact", math.nan, 0
    if abs(e21) <= tiny or abs(e32) <= tiny:
        # Celik step 3: with ε21 or ε32 "very close to zero" the procedure does not apply.
        return "stagnant", math.nan, 0
    s = math.copysign(1.0, e32 / e21)  # eq. (3c)
    ratio = abs(e32 / e21)
    # With φ_k = φ_ext + C h_k^p, ε32/ε21 = g(p) = r21^p (r32^p - 1)/(r21^p - 1);
    # g increases strictly from g(0+) = ln r32/ln r21, so a ratio below g(0+) admits only
    # p < 0: the differences grow (per unit of ln h) as the grid is refined.  At g(0+), to
    # the rounding of ε21 and ε32, the change per unit of ln h stays the same: p = 0.
    sign = "" if s > 0 else "oscillatory-"
    at_zero = math.log(r32) / math.log(r21)
    if abs(ratio - at_zero) <= at_zero * tiny * (1 / abs(e21) + 1 / abs(e32)):
        return f"{sign}constant", 0.0, 0
    if ratio < at_zero:
        return f"{sign}divergent", math.nan, 0
    p, iterations = _apparent_order(ratio, s, r21, r32)
    return ("monotone" if s > 0 else "oscillatory"), p, iterations


def _apparent_order(ratio: float, s: float, r21: float, r32: float) -> tuple[float, int]:
    """Celik's fixed-point iteration for p, with bisection as a safety net: (p, iterations).

    The map ``p -> |ln ratio + q(p)|/ln r21`` stops contracting when r32 and r21 differ a lot
    (its slope is ``r21^p/(r21^p - 1) - (ln r32/ln r21) r32^p/(r32^p - 1)`` for s = 1).
    """
    p = abs(math.log(ratio)) / math.log(r21)  # start from q = 0
    if r21 == r32:  # eq. (3b) gives q = 0: p is direct
        return p, 0
    for k in range(1, _MAX_ITER + 1):
        try:
            new = abs(math.log(ratio) + _q(p, s, r21, r32)) / math.log(r21)  # eq. (3a)
        except _FAILED:
            break
        if abs(new - p) <= _P_TOL * max(1.0, new):
            if abs(_residual(new, ratio, s, r21, r32)) <= 1e-9:
                return new, k
            break  # the absolute value in (3a) chose the mirror root p ln r21 = -(ln ratio + q)
        p = new
    return _bisect(ratio, s, r21, r32), -1


def _q(p: float, s: float, r21: float, r32: float) -> float:
    """Eq. (3b): ``q(p) = ln((r21^p - s)/(r32^p - s))``."""
    return math.log((r21**p - s) / (r32**p - s))


def _residual(p: float, ratio: float, s: float, r21: float, r32: float) -> float:
    """Misfit of eq. (3a); for s = 1 without its absolute value, as the power law requires.

    For s = 1 this is ``ln g(p) - ln ratio``, strictly increasing in p; for s = -1 (no model
    behind it) Celik's form ``p ln r21 - |ln ratio + q(p)|`` is kept.
    """
    inner = math.log(ratio) + _q(p, s, r21, r32)
    return p * math.log(r21) - (inner if s > 0 else abs(inner))


def _bisect(ratio: float, s: float, r21: float, r32: float) -> float:
    """A root of ``_residual`` in (0, _P_MAX] by bracketing and bisection; NaN when none."""
    try:
        lo, hi = 1e-9, 1.0
        while _residual(hi, ratio, s, r21, r32) < 0:
            if hi >= _P_MAX:
                return math.nan
            lo, hi = hi, 2 * hi
        if _residual(lo, ratio, s, r21, r32) > 0:
            return math.nan
        while lo < (mid := 0.5 * (lo + hi)) < hi:
            lo, hi = (mid, hi) if _residual(mid, ratio, s, r21, r32) < 0 else (lo, mid)
    except _FAILED:
        return math.nan
    return 0.5 * (lo + hi)


def _estimates(
    phi: Sequence[float], h: Sequence[float], p: float, fs: float, *, exact: bool = False
) -> dict[str, Any]:
    """Steps 4-5 of Celik et al. on the finest three grids, plus Roache's coarse-grid index.

    Written without cancellation: ``r^p - 1`` as ``expm1(p ln r)`` and ``φ_ext - φ1`` as
    ``(φ1 - φ2)/(r21^p - 1)`` (step 4 rearranged; ``φ1 - φ2`` is exact where φ1 and φ2 are
    close), so e_ext keeps its digits when the solutions agree to many of theirs.
    """
    e_a = _rel(phi[0] - phi[1], phi[0])  # step 5: e_a^21
    if not p > 0:  # p = 0 (a constant change): r^p - 1 = 0, nothing to extrapolate
        p = math.nan
    if exact:
        zero = dict.fromkeys(("e_ext", "gci_fine", "gci_coarse", "gci_fine32"), 0.0)
        return zero | {"extrapolated": phi[0], "e_a": e_a, "asymptotic_ratio": math.nan}
    rp1 = _power_minus_one(h[1] / h[0], p)  # r21^p - 1; NaN propagates when p is undefined
    change = (phi[0] - phi[1]) / rp1  # φ_ext - φ1
    ext = phi[0] + change  # step 4: φ_ext^21 = (r21^p φ1 - φ2)/(r21^p - 1)
    fine = fs * e_a / rp1  # step 5: GCI_fine^21
    fine32 = fs * _rel(phi[1] - phi[2], phi[1]) / _power_minus_one(h[2] / h[1], p)
    return {
        "extrapolated": ext,
        "e_a": e_a,
        "e_ext": _rel(change, ext),  # step 5: e_ext^21
        "gci_fine": fine,
        "gci_coarse": fine * (rp1 + 1),  # Roache (1994): Fs |ε| r^p/(r^p - 1)
        "gci_fine32": fine32,
        "asymptotic_ratio": _roache_ratio(fine32, rp1 + 1, fine),
    }


def _power_minus_one(r: float, p: float) -> float:
    """``r^p - 1`` without cancellation for r^p near 1."""
    return math.expm1(p * math.log(r))


def _roache_ratio(fine32: float, rp: float, fine: float) -> float:
    """``GCI_fine^32/(r21^p GCI_fine^21)``; NaN when either index is undefined or GCI_fine is 0."""
    if not (math.isfinite(fine32) and math.isfinite(fine)) or fine == 0:
        return math.nan
    return fine32 / (rp * fine)


def _asymptotic(triplets: Sequence[tuple[str, float, int]], tol: float) -> bool:
    """All triplets converge monotonically with orders within ``tol`` (relative) of the finest."""
    if any(kind != "monotone" for kind, _, _ in triplets):
        return False
    p1 = triplets[0][1]
    return all(abs(p - p1) <= tol * p1 for _, p, _ in triplets)


# Verdict keys -> status and a one-sentence template: what was seen, then what to do.
_STATUS = {"exact": Status.EXACT, "divergent": Status.FAIL, "pass": Status.PASS}
_REASONS = {
    "exact": "the solutions agree to rounding on every grid: the quantity is grid-independent "
    "and there is nothing to extrapolate",
    "stagnant": "one of ε21 and ε32 is zero to rounding and the other is not, so p is undefined "
    "(Celik step 3); check iterative convergence and round-off, or add a grid",
    "divergent": "{convergence} behaviour: the change between grids (per unit of ln h) grows as "
    "h decreases, so no order p > 0 fits; check the solver, the boundary conditions and the "
    "grid family",
    "constant": "{convergence} change: the change between grids stays the same (per unit of "
    "ln h, to rounding) as h decreases, so the apparent order is p = 0 and no convergence is "
    "observed; refine further, and check iterative convergence and the grid family",
    "no_root": "the apparent-order equation (Celik eq. 3a) has no root in (0, {pmax:g}] for this "
    "{convergence} sequence; add grids or use a least-squares fit",
    "oscillatory": "oscillatory convergence (ε32/ε21 < 0): p = {p:.4g} and GCI_fine = {gci} are "
    "unreliable; refine further or use a least-squares procedure (Eça & Hoekstra 2014)",
    "order": "apparent order p = {p:.4g} is outside [{lo:g}, {hi:g}]: the grids are probably not "
    "in the asymptotic range; refine further",
    "range": "the finest triplet converges with p = {p:.4g} but the asymptotic range is not shown "
    "(order per triplet: {orders}); refine further before trusting GCI_fine",
    "band": "monotone convergence with p = {p:.4g}, but φ1 = {phi1:.6g} leaves the relative "
    "band GCI_fine = Fs e_a/(r21^p - 1) without a finite value (e_a divides by φ1), so there is "
    "no relative band to report φ1 with; the absolute band Fs |φ1 - φ2|/(r21^p - 1) is {band:.6g}",
    "pass": "monotone convergence with p = {p:.4g}, extrapolated value {extrapolated:.6g}: "
    "report φ1 with GCI_fine = {gci}",
}


def _verdict(f: dict[str, Any], order_range: tuple[float, float]) -> tuple[Status, str]:
    """One status and one sentence (what was seen, what to do) from the result's fields."""
    kind, p, (lo, hi) = f["convergence"], f["p"], order_range
    if kind.removeprefix("oscillatory-") in ("exact", "stagnant", "divergent", "constant"):
        key = kind.removeprefix("oscillatory-")
    elif not math.isfinite(p):
        key = "no_root"
    elif kind == "oscillatory":
        key = "oscillatory"
    elif not lo <= p <= hi:
        key = "order"
    elif f["asymptotic_range"] is False:
        key = "range"
    else:  # a band relative to φ1 = 0 (or one beyond float range) cannot be reported
        key = "pass" if math.isfinite(f["gci_fine"]) else "band"
    orders = ", ".join(f"{x:.4g}" for x in f["p_triplets"])
    phi1, phi2 = f["values"][:2]
    band = (
        f["safety_factor"] * abs(phi1 - phi2) / _power_minus_one(f["r21"], p)
        if key == "band"
        else math.nan
    )
    text = _REASONS[key].format(
        **f, lo=lo, hi=hi, pmax=_P_MAX, gci=_percent(f["gci_fine"]), orders=orders,
        phi1=phi1, band=band,
    )  # fmt: skip
    return _STATUS.get(key, Status.INCONCLUSIVE), f"{text}{_ratio_note(f['h'])}."


def _ratio_note(h: Sequence[float]) -> str:
    """A warning clause when a refinement ratio is below the 1.3 Celik et al. recommend."""
    smallest = min(b / a for a, b in itertools.pairwise(h))
    if smallest >= _MIN_RATIO:
        return ""
    return (
        f" (note: refinement ratio {smallest:.4g} < {_MIN_RATIO}, the minimum Celik et al. "
        "recommend, so round-off and iteration errors may dominate)"
    )


def _rel(num: float, den: float) -> float:
    """``|num/den|``, with ``|x/0| = inf`` for x != 0 and 0/0 = 0 (no change at all)."""
    if den == 0:
        return math.inf if num else 0.0
    return abs(num / den)


def _percent(x: float) -> str:
    return f"{x:.6g} ({100 * x:.4g}%)" if math.isfinite(x) else "n/a"


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return [_jsonable(v) for v in value] if isinstance(value, tuple) else value


def _gci_iv(
    values: object, cells: object, dim: object, spacing: object, opts: tuple[object, ...]
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...] | None]:
    """Validate every argument once; return (values, h, cells) sorted by h, finest first."""
    phi = _reals("values", values)
    if len(phi) < 3:
        msg = f"values: need solutions on at least 3 grids (got {len(phi)}); add a grid refined "
        raise ConfigError(msg + "or coarsened by r > 1.3.")
    if (cells is None) == (spacing is None) or (dim is not None and spacing is not None):
        got = "dim with spacing" if cells is None else "both cells and spacing"
        got = "neither" if cells is None and spacing is None else got
        msg = f"cells, spacing: give either cells= with dim=, or spacing= alone (got {got})."
        raise ConfigError(msg)
    name = "cells" if cells is not None else "spacing"
    counts, h = _cell_sizes(cells, dim) if cells is not None else (None, _reals(name, spacing, 0))
    if len(h) != len(phi):
        msg = f"{name}: need one entry per value (got {len(h)} entries for {len(phi)} values)."
        raise ConfigError(msg)
    _options(*opts)
    order = sorted(range(len(h)), key=h.__getitem__)
    for a, b in itertools.pairwise(order):
        if h[a] == h[b]:
            msg = f"{name}: entries {a} and {b} give grids of the same size (refinement ratio 1)"
            raise ConfigError(msg + "; use distinct grids, ideally with r > 1.3.")
    sorted_counts = None if counts is None else tuple(counts[i] for i in order)
    return tuple(phi[i] for i in order), tuple(h[i] for i in order), sorted_counts


def _options(safety_factor: object, order_range: object, asymptotic_tol: object) -> None:
    """The numeric options: Fs > 0, 0 < low < high, tolerance >= 0."""
    _real("safety_factor", safety_factor, above=0)
    lo_hi = _reals("order_range", order_range)
    if len(lo_hi) != 2 or not 0 < lo_hi[0] < lo_hi[1]:
        msg = f"order_range: must be (low, high) with 0 < low < high (got {order_range!r})."
        raise ConfigError(msg)
    if _real("asymptotic_tol", asymptotic_tol) < 0:
        msg = f"asymptotic_tol: must be >= 0 (got {asymptotic_tol!r})."
        raise ConfigError(msg)


def _reals(name: str, seq: object, above: float | None = None) -> tuple[float, ...]:
    """A sequence of finite floats (each ``> above`` when given); see ``_real``."""
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Iterable):
        msg = f"{name}: must be a sequence of numbers (got {type(seq).__name__})."
        raise InputError(msg)
    if isinstance(seq, Sized):  # counted before any entry is read
        check_count("grids", len(seq), MAX_GRIDS, f"{name} (grids)", "give fewer grids")
    items = list(itertools.islice(seq, MAX_GRIDS + 1))
    check_count("grids", len(items), MAX_GRIDS, f"or more {name} (grids)", "give fewer grids")
    return tuple(_real(f"{name}[{i}]", x, above=above) for i, x in enumerate(items))


def _real(where: str, x: object, *, above: float | None = None) -> float:
    """A finite float: InputError for the wrong kind of value, ConfigError for a bad value."""
    if isinstance(x, bool) or not isinstance(x, Real):
        msg = f"{where}: must be a real number (got {shown(x)} of type {type(x).__name__})."
        raise InputError(msg)
    try:
        v = float(x)
    except OverflowError:  # an int beyond the float range
        v = math.inf
    if not math.isfinite(v) or (above is not None and v <= above):
        bound = "" if above is None else f" and > {above:g}"
        msg = f"{where}: must be finite{bound} (got {shown(x)})."
        raise ConfigError(msg)
    return v


def shown(x: object, width: int = 40) -> str:
    """A value for a message: integers of more than 15 digits in scientific notation
    (``1.000000e+400``, never cut to fewer digits), other reprs cut at ``width`` characters
    with ``...`` saying so."""
    if isinstance(x, Integral) and abs(int(x)) >= 10**15:
        return format(decimal.Decimal(int(x)), ".6e")
    text = repr(x)
    return text if len(text) <= width else f"{text[: width - 3]}..."


def _cell_sizes(cells: object, dim: object) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Whole positive cell counts and step 1's ``h = (1/N)^(1/dim)`` (the domain size cancels)."""
    xs = _reals("cells", cells, above=0)
    for i, x in enumerate(xs):
        if not x.is_integer():
            msg = f"cells[{i}]: must be a whole number (got {x!r}); for sizes use spacing=."
            raise ConfigError(msg)
    if isinstance(dim, bool) or not isinstance(dim, Integral) or not 1 <= int(dim) <= 3:
        msg = (
            f"dim: the number of space dimensions, 1, 2 or 3 (got {shown(dim)}); required with "
            "cells= (for other grids give the sizes with spacing=)."
        )
        raise ConfigError(msg)
    counts = tuple(int(x) for x in xs)
    return counts, tuple(n ** (-1.0 / int(dim)) for n in counts)
