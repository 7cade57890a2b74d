"""Point cross-checks: the symbolic derivative against an independent high-precision referee.

For every component (gradient, Hessian or Jacobian entry, or one partial) at every point,
:func:`check` compares the **exact** value (the symbolic derivative at ``dps`` digits) with the
**referee**, an arbitrary-precision finite difference *of f itself* (Hessian entries by second and
mixed stencils of f, never by differencing the symbolic gradient, which would share any error of
the symbolic step).  It also scores the compiled **float64** function, evaluated at the
float64-rounded point, in ulps of the exact derivative at that same binary point, so that rounding
the input is not counted as an evaluation error.  Exact values carry ``dps`` proven digits
(:meth:`symgrad.Compiled.exact_values`): a derivative formula may cancel (as
``-1/sqrt(1 - x**2)`` does near x = 1), and a fixed number of guard digits would then let the
"exact" side be wrong; where the digits cannot be proven, the component is ``unreliable``.

Rules, per component (combined with :func:`symgrad.results.combine`)::

    point_status  verdict       when
    ok            pass          |exact - fd| <= tol and tol <= 10^-(dps/2)·|exact| (resolved)
    mismatch      fail          |exact - fd| > tol, tol = max(κ·error_estimate, 10^-(dps-3)·scale)
    domain        inconclusive  f is not real at the point (log(x) at -1), or no stencil fits
    pole          inconclusive  f or the derivative is infinite there (1/x at 0, sqrt(x)' at 0)
    nonsmooth     inconclusive  forward and backward differences disagree (abs(x) at 0)
    overflow      inconclusive  float64 gives inf or nan where the exact value is finite
    unreliable    inconclusive  the referee cannot resolve the component, or the exact value
                                cannot be certified

Domain, pole, kink and overflow points are *inconclusive*, not failures: there the derivative is
undefined or float64 cannot hold it, so neither side can be shown wrong.  ``scale`` is the largest
of |exact|, |fd| and |f| near the point over max(1, |x|)^m, because a difference quotient of order
m cancels the leading digits of f: its precision floor is relative to f, not to the derivative.

A referee *resolves* a component when its tolerance is at most 10^-(dps/2) of the exact value
(an exact 0 is resolved by any agreement): otherwise an ``ok`` would pass an error as large as
the value itself (``x**3`` at 1e-150: the default step, relative to max(1, |x|), is 1e-14, and
f(x ± h) ~ 1e-41 cancels 3x² = 3e-300 entirely).  An unresolved component gets better referees
before it is called ``unreliable``: the same difference in t = x/c, c a power of two near each
small differentiated |x| (a step relative to |x|), then as many more digits as the tolerance
missed by (up to 1000).  A mismatch found with a step much wider than |x| is confirmed that way
too.

The one-sided kink probe (backward:2 against forward:2, for the partial itself and, for higher
partials, for the first derivative along each differentiated axis) runs only when f contains abs,
sign, min, max, Heaviside or Piecewise, or when the central difference is unreliable.  A kink
is one-sided derivatives that differ; a function such as |x|³ or x·|x| is not smooth but is
differentiable (both one-sided derivatives 0) and passes.  A one-sided difference that misses
its digits still counts when it settles (its value moves by less than its estimate when the step
shrinks a millionfold); one that grows as the step shrinks is a jump.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import sympy

from symgrad._precision import MAX_DPS, check_dps, thread_context
from symgrad.checks._results import (
    _KINDS,
    _NONSMOOTH,
    RANK,
    TOLERANCES,
    CheckResult,
    ComponentCheck,
    PointCheck,
    Tolerances,
    mp_text,
    point_text,
    short,
)
from symgrad.derive import Compiled, derivative, function, gradient, hessian, jacobian
from symgrad.errors import ConfigError, LimitExceeded
from symgrad.expr import Source, VariablesSpec, resolve
from symgrad.fd import FDResult, finite_difference, order_of, stencils_for
from symgrad.results import Status, combine

__all__ = [
    "TOLERANCES",
    "CheckResult",
    "ComponentCheck",
    "PointCheck",
    "Tolerances",
    "check",
]


# -- the check ----------------------------------------------------------------------------------


def check(
    expr: Source | Sequence[Source],
    at: Any,
    *,
    kind: str | Sequence[str | int] = "gradient",
    dps: int = 50,
    scheme: str = "central:4",
    step: Any = None,
    variables: VariablesSpec = None,
) -> CheckResult:
    """Cross-check a symbolic derivative against arbitrary-precision finite differences.

    Parameters
    ----------
    expr : str, sympy.Expr or list of them
        The function (a list for ``kind="jacobian"``).
    at : str, mapping, or a list or tuple of them
        One point (``"x=0.3, y=0.7"``; decimals are exact) or several.
    kind : {"gradient", "hessian", "jacobian"} or wrt
        What to check; anything else names one partial, e.g. ``"x x y"`` or ``("x", 2, "y")``.
    dps : int
        Digits of the exact values and of the finite differences.
    scheme : str
        The finite-difference stencil (``"central:4"``, ``"forward:2"``, ...) or ``"complex"``.
    step : number or str, optional
        A fixed finite-difference step; by default one is chosen from ``dps``.
    variables : str or sequence, optional
        Variable order; by default the free symbols sorted by name.

    Returns
    -------
    CheckResult
        The verdict and, per point and component, the exact value, the finite difference, their
        errors, the float64 value and its error in ulps, and a ``point_status`` (rules in the
        module docstring: domain, pole, kink and overflow points are inconclusive, not failures).

    Examples
    --------
    >>> r = check("sin(x+y)*exp(-z**2)", "x=0.3, y=0.7, z=0.5")
    >>> r.status.value, [c.variable for c in r.components]
    ('pass', ['x', 'y', 'z'])
    >>> r = check("abs(x)", "x=0")
    >>> r.status.value, r.components[0].point_status
    ('inconclusive', 'nonsmooth')
    >>> r.reason
    'd/dx: kink at x=0: left derivative -1, right derivative 1'
    """
    job = _Job.make(expr, kind, check_dps(dps), scheme, step, variables)
    specs = list(at) if isinstance(at, list | tuple) else [at]
    if not specs:
        msg = "at must give at least one point, e.g. at='x=0.3, y=0.7' (got an empty sequence)"
        raise ConfigError(msg)
    exact_points = [job.exact.point_values(s) for s in specs]
    float_points = [[_to_float(v) for v in p] for p in exact_points]
    # every point's float64 values in one vectorized call: shape (components, points)
    f64 = job.exact(*np.array(float_points, dtype=np.float64).T).reshape(len(job.entries), -1)
    points = tuple(
        job.check_point(p, fp, f64[:, i])
        for i, (p, fp) in enumerate(zip(exact_points, float_points, strict=True))
    )
    worst = max(points, key=lambda p: (RANK[p.status], p.worst.badness))
    c, status = worst.worst, combine(p.status for p in points)
    reason = f"{c.label}: {c.reason}"
    if status is Status.PASS:
        n = len(job.entries)
        what = f"all {n} components agree" if n > 1 else "the derivative agrees"
        where = f"{len(points)} points" if len(points) > 1 else point_text(worst.point)
        reason = (
            f"{what} with the finite differences at {where} (closest to its tolerance: "
            f"{c.label} at {point_text(worst.point)}, relative error {short(c.rel_error, 2)})"
        )
    return CheckResult(status, reason, job.dps, job.scheme, job.kind, job.text, points)


class _Entry(NamedTuple):
    pos: int  # position among the flattened components
    variable: str
    label: str
    row: int  # which expression (Jacobian row) is differentiated
    counts: tuple[int, ...]  # how often along each variable


class _Eval(NamedTuple):
    value: Any  # a finite real mpmath number, or None
    status: str  # "ok", "pole", "domain" or "unreliable" (digits that cannot be certified)


class _Referee(NamedTuple):
    value: Any
    estimate: Any
    step: Any
    status: str  # "ok", "unreliable", "domain", "pole" or "nonsmooth"
    text: str  # the reason when not ok; a note to append when ok
    sides: tuple[Any, Any] = (None, None)  # one-sided derivatives of a nonsmooth referee


class _Side(NamedTuple):
    """A one-sided derivative: its value and error estimate, or why there is none."""

    value: Any = None
    estimate: Any = None
    diverges: bool = False  # the one-sided quotient grows as the step shrinks (a jump)


@dataclass
class _At:
    """One point, evaluated once: f (per row) and the derivative, also at the float64 point."""

    values: list[sympy.Rational]
    where: str
    rows: list[_Eval]
    exact: list[_Eval]
    at_float: list[_Eval]
    f64: np.ndarray
    cache: dict[Any, FDResult] = field(default_factory=dict)


@dataclass
class _Job:
    """The compiled pieces shared by every point of one check, and the per-component rules.

    A job may differentiate in scaled variables: with ``scales`` c, f(x) = f(c·t) is differenced
    in t at t = x/c, so that a step relative to |t| ~ 1 is a step relative to |x| (c is a power
    of two, so nothing is rounded), and the results are divided by Π c^m.  ``dps`` is the
    referee's precision; the exact values keep the ``exact_dps`` digits they were computed at.
    """

    exact: Compiled
    rows: list[Compiled]  # f, or each Jacobian row, as a function of its own
    entries: list[_Entry]
    kind: str
    text: str
    dps: int
    scheme: str
    step: Any
    singles: list[Compiled] | None = None
    exact_dps: int = 0
    scales: tuple[sympy.Rational, ...] = ()
    note: str = ""  # how this referee differs from the default one

    @classmethod
    def make(
        cls, expr: Any, kind: Any, dps: int, scheme: str, step: Any, variables: VariablesSpec
    ) -> _Job:
        scheme = _validate_scheme(scheme)
        exprs = [expr] if isinstance(expr, str | sympy.Expr) else list(expr)
        if kind != "jacobian" and len(exprs) != 1:
            msg = f"a list of {len(exprs)} expressions needs kind='jacobian' (got kind={kind!r})"
            raise ConfigError(msg)
        # parsed once: f and its derivative have the same variables (a name that cancels, as x
        # in (x - x) + y, is dropped from both, as gradient() drops it)
        parsed, names = resolve(exprs, variables)
        if kind == "jacobian":
            exact = jacobian(list(parsed), names)
        elif kind in _KINDS:
            exact = (gradient if kind == "gradient" else hessian)(parsed[0], names)
        else:
            wrt = [kind] if isinstance(kind, str) else list(kind)
            exact = derivative(parsed[0], *wrt, variables=names)
        rows = [function(e, names) for e in parsed]
        entries = _entries(exact, kind)
        name = kind if kind in _KINDS else f"partial {entries[0].label}"
        text = str([str(r.exprs) for r in rows]) if kind == "jacobian" else str(rows[0].exprs)
        return cls(exact, rows, entries, name, text, dps, scheme, step, exact_dps=dps)

    @property
    def nonsmooth(self) -> bool:
        return any(r.components[0].has(*_NONSMOOTH) for r in self.rows)

    def evaluate(self, values: Sequence[Any]) -> list[_Eval]:
        """The exact components; one at a time only when evaluating them together raises."""
        together = _evaluate(self.exact, values, self.dps)
        if len(together) == len(self.entries):
            return together
        if self.singles is None:
            self.singles = [Compiled(c, self.exact.variables) for c in self.exact.components]
        return [_evaluate(s, values, self.dps)[0] for s in self.singles]

    def check_point(self, values: list[Any], floats: list[float], f64: Any) -> PointCheck:
        """Every component at one point."""
        ctx, names = thread_context(self.dps), [s.name for s in self.exact.variables]
        exact_point = [ctx.mpf(v.p) / v.q for v in values]
        point = {x: str(mp_text(v, self.dps)) for x, v in zip(names, exact_point, strict=True)}
        rows = [_evaluate(r, values, self.dps)[0] for r in self.rows]
        at = _At(values, point_text(point), rows, self.evaluate(values), self.evaluate(floats), f64)
        return PointCheck(point, tuple(self.component(e, at) for e in self.entries))

    def component(self, e: _Entry, at: _At) -> ComponentCheck:
        """Classify one component at one point (the rules of the module docstring)."""
        f0, exact = at.rows[e.row], at.exact[e.pos]
        fname = f"f{e.row + 1}" if self.kind == "jacobian" else "f"
        known: dict[str, Any] = {"variable": e.variable, "label": e.label}
        known["float64"] = float(at.f64[e.pos])
        if f0.status != "ok":
            what = "is not real (outside its domain)" if f0.status == "domain" else "has a pole"
            why = f"{fname} {what} at {at.where}, so {e.label} is undefined there"
            return ComponentCheck(point_status=f0.status, reason=why, **known)
        if exact.status != "ok":
            what = {"domain": "is not real", "pole": "is infinite"}.get(
                exact.status, "cannot be evaluated to the digits asked (its formula cancels)"
            )
            why = f"the symbolic {e.label} {what} at {at.where} although {fname} is finite there"
            return ComponentCheck(point_status=exact.status, reason=why, **known)
        known["symbolic"] = exact.value
        first = self.judge(e, at, known)
        # a mismatch found with a step much wider than some |x| is confirmed with a step
        # relative to |x| before it fails
        confirm = first.point_status == "mismatch" and self.scaled(e, at) is not None
        if self.resolves(first) and not confirm:
            return first
        return self.rescue(e, at, known, first)

    def judge(self, e: _Entry, at: _At, known: dict[str, Any]) -> ComponentCheck:
        """Referee, kink probe and comparison, with this job's step, scaling and digits."""
        ref, kink = self.referee(e, at), ""
        sides: tuple[Any, Any] = ref.sides
        if ref.status == "nonsmooth":
            kink = ref.text
        elif ref.status in ("ok", "unreliable") and (ref.status != "ok" or self.nonsmooth):
            kink, sides = self.probe(e, at)
        known = known | {"left": sides[0], "right": sides[1]}
        if kink:
            return ComponentCheck(point_status="nonsmooth", reason=kink, **known)
        if ref.status == "unreliable" and sides[0] is not None:
            # the one-sided differences agree (no kink): they referee instead
            mean, half = (sides[0] + sides[1]) / 2, abs(sides[0] - sides[1]) / 2
            ref = ref._replace(value=mean, estimate=half + ref.estimate, status="ok")
            ref = ref._replace(text=" (from one-sided differences)")
        if ref.status != "ok":
            return ComponentCheck(point_status=ref.status, reason=ref.text, **known)
        return self.compare(e, at, ref, known)

    def resolves(self, c: ComponentCheck) -> bool:
        """Could this referee have seen an error?  ok and mismatch need tol ≪ |exact|.

        The tolerance must be at most 10^-(dps/2) of the exact value (an exact 0 is resolved
        by any tolerance the agreement was found within); anything else is not resolved.
        """
        if c.point_status not in ("ok", "mismatch"):
            return c.point_status != "unreliable"
        if not c.symbolic:
            return True
        digits = self.exact_dps // TOLERANCES.resolution_digits
        return bool(
            c.tolerance <= thread_context(self.exact_dps).mpf(10) ** -digits * abs(c.symbolic)
        )

    def rescue(
        self, e: _Entry, at: _At, known: dict[str, Any], first: ComponentCheck
    ) -> ComponentCheck:
        """A better-scaled referee where the default one cannot resolve the component.

        First a step relative to |x| (when a differentiated |x| < 1), then more digits (as many
        as the tolerance missed by, up to the precision limit).  A mismatch found with a step
        far larger than |x| is confirmed the same way.  Nothing resolves: ``unreliable``.
        """
        job, last = self, first
        for attempt in range(3):  # scaled (if any x is small), then more digits, twice at most
            better = self.scaled(e, at) if attempt == 0 else job.deeper(last)
            if better is None:
                continue
            job = better
            result = job.judge(e, replace(at, cache={}), known)
            if self.resolves(result) and result.point_status in ("ok", "mismatch"):
                note = f" (referee: {job.note})" if job.note else ""
                return replace(result, reason=result.reason + note)
            last = result if result.tolerance is not None else last
        if first.point_status == "mismatch":
            return first
        return self.unresolved(e, at, known, last, job)

    def unresolved(
        self, e: _Entry, at: _At, known: dict[str, Any], last: ComponentCheck, job: _Job
    ) -> ComponentCheck:
        """The component cannot be resolved: say how close the referee came."""
        if last.tolerance is None or last.point_status not in ("ok", "mismatch"):
            return last
        digits = self.exact_dps // TOLERANCES.resolution_digits
        why = (
            f"the finite difference cannot resolve {e.label} at {at.where}: it agrees only within "
            f"±{short(last.tolerance, 2)}, more than 10^-{digits} of the value "
            f"{short(known['symbolic'], 6)}"
        )
        if job is not self:
            why += f", even with {job.note}"
        fields = {k: getattr(last, k) for k in ("finite_difference", "error_estimate", "tolerance")}
        fields |= {"abs_error": last.abs_error, "rel_error": last.rel_error}
        return ComponentCheck(point_status="unreliable", reason=why, **(known | fields))

    def scaled(self, e: _Entry, at: _At) -> _Job | None:
        """This job differentiating in t = x/c, c a power of two near each small |x|."""
        scales = []
        for v, c in zip(at.values, e.counts, strict=True):
            size = abs(v)
            scales.append(sympy.Rational(2) ** _log2_floor(size) if c and 0 < size < 1 else 1)
        if all(c == 1 for c in scales):
            return None
        swap = {s: c * s for s, c in zip(self.exact.variables, scales, strict=True) if c != 1}
        rows = [Compiled(r.components[0].xreplace(swap), r.variables) for r in self.rows]
        note = (
            "steps relative to |x| ("
            + ", ".join(
                f"{s.name} = 2^{_log2_floor(abs(v))}·t"
                for s, v, c in zip(self.exact.variables, at.values, scales, strict=True)
                if c != 1
            )
            + ")"
        )
        return replace(self, rows=rows, scales=tuple(scales), note=note)

    def deeper(self, last: ComponentCheck) -> _Job | None:
        """This job with as many more digits as ``last`` missed the resolution target by."""
        if last.tolerance is None or not last.symbolic or not last.tolerance:
            return None
        ctx = thread_context(self.exact_dps)
        target = ctx.mpf(10) ** -(self.exact_dps // TOLERANCES.resolution_digits)
        missing = float(ctx.log10(last.tolerance / (target * abs(last.symbolic))))
        dps = min(MAX_DPS, self.dps + math.ceil(max(missing, 0.0)) + 3)
        if dps <= self.dps:
            return None
        note = f"{self.note} and {dps} digits" if self.note else f"{dps} digits"
        return replace(self, dps=dps, note=note)

    def compare(self, e: _Entry, at: _At, ref: _Referee, known: dict[str, Any]) -> ComponentCheck:
        """ok or mismatch by the tolerance rule; then float64 in ulps, or an overflow."""
        exact, f64, at_float = known["symbolic"], known["float64"], at.at_float[e.pos]
        err = abs(exact - ref.value)
        floor = self.floor(e, at, ref.step, exact, ref.value)
        # the exact value itself is correct to exact_dps digits, whatever the referee's digits
        accuracy = thread_context(self.exact_dps).mpf(10) ** (
            TOLERANCES.digits_lost - self.exact_dps
        )
        tol = max(TOLERANCES.fd_safety * ref.estimate, floor, accuracy * abs(exact))
        status, why = "ok", f"agrees at {at.where} within {short(tol, 3)}{ref.text}"
        if err > tol:
            status = "mismatch"
            why = (
                f"at {at.where} the symbolic value is {short(exact, 17)} but the finite "
                f"difference gives {short(ref.value, 17)} ± {short(ref.estimate, 2)}{ref.text}"
            )
        elif not math.isfinite(f64) and at_float.status == "ok":
            status = "overflow"
            why = f"float64 gives {f64} at {at.where} where the exact value is "
            why += short(at_float.value)
        known = known | {"point_status": status, "reason": why, "finite_difference": ref.value}
        known |= {"error_estimate": ref.estimate, "abs_error": err, "tolerance": tol}
        known["rel_error"] = err / abs(exact) if exact else (err if not err else None)
        return ComponentCheck(float64_ulp_error=_ulps(f64, at_float), **known)

    def fd(
        self, row: int, counts: tuple[int, ...], at: _At, scheme: str, step: Any = None
    ) -> FDResult:
        """A finite difference of one row of f at the point (cached: Hessians reuse them).

        In scaled variables the values are divided back to derivatives in x; the step stays in t.
        """
        key = (row, counts, scheme, step)
        if key not in at.cache:
            names = [s.name for s in self.exact.variables]
            wrt = [item for x, c in zip(names, counts, strict=True) if c for item in (x, c)]
            point = dict(zip(names, self.point(at), strict=True))
            method = "mp-complex" if scheme == "complex" else "mp"
            stencil = "central:2" if method != "mp" else scheme  # ignored by the complex step
            result = finite_difference(
                self.rows[row],
                point,
                wrt,
                scheme=stencil,
                method=method,
                step=self.step if step is None else step,
                dps=self.dps,
            )
            at.cache[key] = self.unscale(result, counts)
        return at.cache[key]

    def point(self, at: _At) -> list[sympy.Rational]:
        """The point in this job's variables (t = x/c when scaled)."""
        if not self.scales:
            return list(at.values)
        return [v / c for v, c in zip(at.values, self.scales, strict=True)]

    def factor(self, counts: Sequence[int]) -> Any:
        """Π c^m: a derivative in t is this times the derivative in x."""
        total = math.prod(
            (c**m for c, m in zip(self.scales, counts, strict=True)), start=sympy.Integer(1)
        )
        return thread_context(self.dps).mpf(total.p) / total.q

    def unscale(self, result: FDResult, counts: Sequence[int]) -> FDResult:
        """A result in t as one in x: values and estimates divided by Π c^m."""
        if not self.scales:
            return result
        factor = self.factor(counts)
        names = ("value", "error_estimate", "left", "right")
        found = {k: getattr(result, k) for k in names if getattr(result, k, None) is not None}
        scaled: dict[str, Any] = {k: np.array(v / factor, dtype=object) for k, v in found.items()}
        return replace(result, **scaled)

    def referee(self, e: _Entry, at: _At) -> _Referee:
        """The scheme's finite difference; a one-sided one when its stencil leaves the domain."""
        fd = self.fd(e.row, e.counts, at, self.scheme)
        why = f"the finite difference at {at.where} is unreliable: {fd.reason}"
        if fd.status == "nonsmooth":  # the referee's kink probe: its reason names the partial
            left, right = (_first(getattr(fd, side, None)) for side in ("left", "right"))
            return _Referee(None, None, fd.step, "nonsmooth", fd.reason, (left, right))
        if fd.status in ("ok", "unreliable"):
            text = why if fd.status == "unreliable" else ""
            return _Referee(fd.value[()], fd.error_estimate[()], fd.step, fd.status, text)
        # f is finite at the point itself (checked before): only stencil points left the domain
        accuracy = 4 if self.scheme == "complex" else int(self.scheme.split(":")[1])
        for side in ("forward", "backward"):
            alt = self.fd(e.row, e.counts, at, f"{side}:{accuracy}")
            if alt.status == "ok":
                note = f" ({side}:{accuracy}: the {self.scheme} stencil leaves the domain)"
                return _Referee(alt.value[()], alt.error_estimate[()], alt.step, "ok", note)
        why = f"every stencil around {at.where} leaves the domain of f: {fd.reason}"
        return _Referee(None, None, 0, fd.status, why)

    def probe(self, e: _Entry, at: _At) -> tuple[str, tuple[Any, Any]]:
        """Backward against forward differences, of the partial and of each first derivative.

        A one-sided difference that misses its digits still counts when it settles: its value
        changes by no more than its error estimate when the step shrinks a millionfold (|x|^3
        at 0, whose one-sided derivatives are both 0).  One that grows instead is a jump.
        Returns the kink's description ('' when there is none) and the one-sided values.
        """
        n = len(e.counts)
        firsts = [tuple(int(i == j) for j in range(n)) for i in range(n) if e.counts[i]]
        sides: tuple[Any, Any] = (None, None)
        for counts in dict.fromkeys([e.counts, *firsts]):
            bwd, fwd = (self.one_sided(e.row, counts, at, side) for side in ("backward", "forward"))
            label = _label(counts, [s.name for s in self.exact.variables])
            if (bwd.diverges or fwd.diverges) and self.nonsmooth:
                # a one-sided quotient that never settles, with abs, sign, ... in f: a jump, or
                # a kink closer to the point than the stencil is wide
                return f"{label} does not converge from both sides of {at.where}", sides
            if bwd.value is None or fwd.value is None:
                continue
            left, right = bwd.value, fwd.value
            sides = (left, right) if counts == e.counts else sides
            step = self.fd(e.row, counts, at, "forward:2").step
            gap = abs(right - left) - self.floor(e._replace(counts=counts), at, step, left, right)
            if gap > TOLERANCES.fd_safety * (bwd.estimate + fwd.estimate):
                where = f" in {label}" if "," in at.where or counts != e.counts else ""
                both = f"left derivative {short(left)}, right derivative {short(right)}"
                return f"kink at {at.where}{where}: {both}", (left, right)
        return "", sides

    def one_sided(self, row: int, counts: tuple[int, ...], at: _At, side: str) -> _Side:
        """The second-order one-sided difference, if it settles (see :meth:`probe`)."""
        fd = self.fd(row, counts, at, f"{side}:2")
        if fd.status not in ("ok", "unreliable"):
            return _Side()
        value, estimate = fd.value[()], fd.error_estimate[()]
        if fd.status == "ok":
            return _Side(value, estimate)
        far = self.fd(row, counts, at, f"{side}:2", step=fd.step)
        near = self.fd(row, counts, at, f"{side}:2", step=fd.step / 10**6)
        if far.status != "ok" or near.status != "ok":
            return _Side()
        moved = abs(near.value[()] - far.value[()])
        if moved > TOLERANCES.fd_safety * far.error_estimate[()]:
            return _Side(diverges=True)
        return _Side(value, estimate)

    def floor(self, e: _Entry, at: _At, step: Any, *values: Any) -> Any:
        """10^-(dps-3) × the largest of |values| and |f| within 2 steps, over max(1, |t|)^m.

        Computed in this job's variables t (values are derivatives in x, so times Π c^m), and
        returned in x again.
        """
        ctx, fn = self.rows[e.row].mp_function(self.dps)
        base = [ctx.mpf(v.p) / v.q for v in self.point(at)]
        factor = self.factor(e.counts) if self.scales else ctx.one
        sizes = [abs(v) * factor for v in values] + [abs(at.rows[e.row].value)]
        for i in (i for i, c in enumerate(e.counts) if c):
            shifted = ([b + s * step if j == i else b for j, b in enumerate(base)] for s in (-2, 2))
            sizes += [_size(ctx, fn, args) for args in shifted]
        powers = [max(ctx.one, abs(b)) ** c for b, c in zip(base, e.counts, strict=True)]
        scale = max(sizes) / math.prod(powers) / factor
        return scale * ctx.mpf(10) ** (TOLERANCES.digits_lost - self.dps)


def _first(value: Any) -> Any:
    """The first component of an FD side value (an array or a number), or None."""
    if value is None:
        return None
    return np.asarray(value, dtype=object).reshape(-1)[0]


def _log2_floor(size: sympy.Rational) -> int:
    """⌊log2 size⌋ for a positive rational (exactly, with integers)."""
    p, q = int(size.p), int(size.q)
    k = p.bit_length() - q.bit_length()
    return k if (p << max(0, -k)) >= (q << max(0, k)) else k - 1


def _validate_scheme(scheme: object) -> str:
    """``"complex"`` or a stencil scheme that :mod:`symgrad.fd._finite_diff` accepts."""
    if not isinstance(scheme, str):
        msg = f"scheme must be a string such as 'central:4' or 'complex' (got {scheme!r})"
        raise ConfigError(msg)
    text = scheme.strip().lower()
    if text != "complex":
        stencils_for(text, (1,))  # raises ConfigError, with the scheme help, for anything else
    return text


def _entries(exact: Compiled, kind: Any) -> list[_Entry]:
    """Names, row and partial of every component, in row-major order."""
    names = [s.name for s in exact.variables]
    n = len(names)
    unit = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    if kind == "gradient":
        return [_Entry(j, x, f"d/d{x}", 0, unit[j]) for j, x in enumerate(names)]
    if kind == "hessian":  # labelled in row, column order: entry (y, x) reads d2/dydx
        return [
            _Entry(i * n + j, f"{x},{y}", "d2/d" + (f"{x}2" if i == j else f"{x}d{y}"), 0, both)
            for i, x in enumerate(names)
            for j, y in enumerate(names)
            for both in [tuple(a + b for a, b in zip(unit[i], unit[j], strict=True))]
        ]
    if kind == "jacobian":
        return [
            _Entry(r * n + j, f"f{r + 1}/{x}", f"df{r + 1}/d{x}", r, unit[j])
            for r in range(exact.shape[0])
            for j, x in enumerate(names)
        ]
    counts = order_of(kind, exact.variables)
    variable = ",".join(x for x, c in zip(names, counts, strict=True) for _ in range(c))
    return [_Entry(0, variable, _label(counts, names), 0, counts)]


def labels(exact: Compiled, kind: str) -> list[str]:
    """Readable names of the components of ``exact``: ``d/dx``, ``d2/dxdy``, ``df2/dx``, ..."""
    return [e.label for e in _entries(exact, kind)]


def _label(counts: Sequence[int], names: Sequence[str]) -> str:
    """``d/dx``, ``d2/dx2``, ``d2/dxdy``, ``d3/dx2dy``."""
    below = [f"d{x}" + (str(c) if c > 1 else "") for x, c in zip(names, counts, strict=True) if c]
    m = sum(counts)
    return f"d{m if m > 1 else ''}/{''.join(below)}"


def _to_float(value: sympy.Rational) -> float:
    """The float64 nearest a rational (integer true division rounds correctly)."""
    try:
        return int(value.p) / int(value.q)
    except OverflowError:
        return math.copysign(math.inf, int(value.p))


def _evaluate(compiled: Compiled, values: Sequence[Any], dps: int) -> list[_Eval]:
    """Every component of ``compiled`` correct to ``dps`` digits, classified.

    ``values`` are Rationals or floats (taken at their exact binary value).  When evaluating
    several components together raises, returns [] so that the caller can go one at a time.
    """
    if not all(math.isfinite(v) for v in values if isinstance(v, float)):
        return [_Eval(None, "domain")] * len(compiled.components)
    try:
        raw = settled(compiled, values, dps)
    except (ArithmeticError, ValueError, TypeError) as exc:
        if len(compiled.components) > 1:
            return []
        if isinstance(exc, LimitExceeded) and exc.limit == "unreliable":
            return [_Eval(None, "unreliable")]  # the digits cannot be certified
        pole = isinstance(exc, ZeroDivisionError) or "pole" in str(exc)
        return [_Eval(None, "pole" if pole else "domain")]
    return [_classify(thread_context(dps), v) for v in raw]


def settled(compiled: Compiled, values: Sequence[Any], dps: int) -> list[Any]:
    """The components at ``dps`` correct digits (see :meth:`Compiled.exact_values`)."""
    return compiled.exact_values(values, dps)


def _size(ctx: Any, fn: Any, args: list[Any]) -> Any:
    """|f| at ``args`` (its first component), or 0 where it is not a finite real number."""
    try:
        value = _classify(ctx, fn(*args)[0]).value
    except (ArithmeticError, ValueError, TypeError):
        value = None
    return ctx.zero if value is None else abs(value)


def _classify(ctx: Any, value: Any) -> _Eval:
    """ok (finite real), domain (not real, or NaN) or pole (infinite)."""
    value = ctx.convert(value)
    if hasattr(value, "_mpc_"):
        if value.imag:
            return _Eval(None, "domain")
        value = value.real
    if ctx.isnan(value):
        return _Eval(None, "domain")
    return _Eval(None, "pole") if ctx.isinf(value) else _Eval(ctx.mpf(value), "ok")


def _ulps(f64: float, at_float: _Eval) -> float:
    """|float64 − exact| in ulps of the exact value (NaN when either is not finite)."""
    nearest = float(at_float.value) if at_float.status == "ok" else math.nan
    if not (math.isfinite(f64) and math.isfinite(nearest)):
        return math.nan
    error = abs(thread_context(30).mpf(f64) - at_float.value)
    return float(error / float(np.spacing(abs(nearest))))
