"""Symbolic stencil analysis: a stencil's formal order and leading error term, by Taylor expansion.

A stencil on a grid with spacings ``h_k`` takes weights ``w_o`` on offsets ``o`` (integers or
fractions, one per axis) and claims to approximate a linear operator with constant coefficients,
``L u = Σ_β a_β ∂^β u`` (a partial, the Laplacian).  Expanding every value in a Taylor series
about the stencil's point,

    Σ_o w_o u(x + o·h) = Σ_α c_α ∂^α u(x),   c_α = Σ_o w_o Π_k (o_k h_k)^(α_k) / α_k!,

so the error is ``Σ_α (c_α - a_α) ∂^α u``: exact rationals times monomials in the spacings.
Numbers as weights are in units of the spacing (``Stencil``'s convention): the stencil is
``h^-m Σ w_o u(x + o h)``, m the operator's highest order; when a weight is written with the
spacing symbols (``"1/h**2"``), every weight is taken as written (rationals times integer
powers of the spacings).  Grouping the error by its power of h gives

* the **formal order** p: the lowest power with a non-zero error (negative or zero: the stencil
  is *inconsistent*, it does not approximate the operator at all);
* the **leading error term**: the group of power p, e.g. ``h**2*(u_xxxx + u_yyyy)/12`` for the
  5-point Laplacian;
* the **order on harmonic fields** (2-D and 3-D): the lowest power whose error, written as a
  polynomial in the symbols ``ξ_k`` of ``∂_k``, is not divisible by ``Σ ξ_k²``.  By Fischer's
  decomposition a constant-coefficient operator annihilates every harmonic function exactly
  when its symbol is a multiple of ``Σ ξ_k²``, so such a term vanishes where ``Δu = 0`` (the
  9-point Laplacian's ``h²/12 Δ²u``).

One-sided boundary closures are analysed the same way: the offsets are relative to the point
where the closure stands (``{0: 1, 1: -2, 2: 1}`` for ``u_xx`` at a left face: order 1, leading
term ``h*u_xxx``).  For one axis this agrees with :class:`symgrad.Stencil`'s accuracy and error
coefficient, which a :class:`~symgrad.Stencil` given here is analysed for.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy

from symgrad._limits import check_count
from symgrad.errors import ConfigError, InputError
from symgrad.expr import derivative_notation, parse, parse_variables
from symgrad.fd._stencils import _RATIONAL_TEXT, Stencil
from symgrad.results import Status, TableResult

__all__ = ["MAX_ANALYSIS_ORDER", "MAX_STENCIL_POINTS", "StencilAnalysis", "analyze_stencil"]

#: Highest power of h beyond the operator's order that is searched for an error term.
MAX_ANALYSIS_ORDER = 12
#: Points of a stencil (the Taylor table has points x multi-indices entries).
MAX_STENCIL_POINTS = 125
#: Largest offset (and offset denominator) in grid steps.
MAX_OFFSET = 1000
_AXES = ("x", "y", "z")


@dataclass(frozen=True)
class StencilAnalysis(TableResult):
    """Formal order and leading error term of a stencil, from :func:`symgrad.analyze_stencil`.

    Rendered as a table of the error's terms by power of h (``to_text``, ``to_markdown``,
    ``to_html``) and as JSON (``to_dict``).

    Attributes
    ----------
    status : Status
        ``pass``: consistent (order at least 1, or at least ``expected_order`` when given);
        ``fail``: inconsistent (order 0 or below) or below ``expected_order``;
        ``inconclusive``: no error term up to ``h^max_order``.
    reason : str
        One sentence: the order and the leading term.
    operator : str
        The operator the stencil claims, e.g. ``"laplacian"`` or ``"u_xx"``.
    variables, spacing : tuple of str
        The axes and their spacing symbols.
    order : int or None
        The formal order p (None when no error term was found up to ``max_order``).
    leading_term : str
        The error's term of order p, e.g. ``"h**2*(u_xxxx + u_yyyy)/12"`` (``u_xxyy`` is
        ∂⁴u/∂x²∂y²), factored.
    terms : dict
        The error's terms by power of h, up to the first non-zero one and ``max_order``.
    harmonic_order : int or None
        In 2-D and 3-D, the order on harmonic fields (``Δu = 0``): higher than ``order`` when
        the leading term vanishes there.
    expected_order : int or None
        The order the user claims, if given.
    """

    status: Status
    reason: str
    operator: str
    variables: tuple[str, ...]
    spacing: tuple[str, ...]
    order: int | None
    leading_term: str
    terms: dict[int, str] = field(default_factory=dict)
    harmonic_order: int | None = None
    expected_order: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field under its own name; ``status`` by value, ``terms`` keyed by the power."""
        return {
            "status": self.status.value,
            "reason": self.reason,
            "operator": self.operator,
            "variables": list(self.variables),
            "spacing": list(self.spacing),
            "order": self.order,
            "leading_term": self.leading_term,
            "terms": {str(k): v for k, v in self.terms.items()},
            "harmonic_order": self.harmonic_order,
            "expected_order": self.expected_order,
        }

    def _title(self) -> str:
        return f"analyze_stencil: {self.operator} on {', '.join(self.variables)}"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        return ["power of h", "error term"], [[f"h^{p}", t] for p, t in self.terms.items()]

    def _notes(self) -> list[str]:
        return ["u_xxy is ∂³u/∂x²∂y, and so on"]


def analyze_stencil(
    weights: Mapping[Any, Any] | Stencil,
    operator: str | Sequence[str | int] | None = None,
    *,
    variables: str | Sequence[str] | None = None,
    spacing: str | Sequence[str] | None = None,
    expect_order: int | None = None,
    max_order: int = 8,
) -> StencilAnalysis:
    """State a stencil's formal order and leading error term exactly (module docstring).

    Parameters
    ----------
    weights : mapping or Stencil
        ``{offset: weight}`` in 1-D, ``{(i, j): weight}`` or ``{(i, j, k): weight}`` in 2-D and
        3-D.  Offsets are integers or fractions (``"1/2"`` for staggered points); weights are
        numbers (ints, Fractions, rational strings such as ``"-1/12"``; floats are taken as
        their exact binary values) in units of the spacing, or strings in the spacing symbols
        (``"1/h**2"``), parsed safely, never evaluated.  A :class:`symgrad.Stencil` is analysed
        for its own derivative.
    operator : str or sequence
        ``"laplacian"``, a partial: ``"x,x"``, ``"x,y"``, ``("x", 3)``, or the
        manufactured-source notation, a linear combination of ``u`` and its partials with
        numeric coefficients: ``"D(u, x, 2) + D(u, y, 2)"``, ``"D(u, x, y) - 2*u"`` (read by
        :func:`symgrad.expr.derivative_notation`, never evaluated; numeric weights are in units
        of h^-m for the highest order m: mixing orders needs weights written with the spacing
        symbols); default the Stencil's derivative.
    variables : str or sequence, optional
        Axis names (default ``x``, ``y``, ``z`` as many as the offsets have).
    spacing : str or sequence, optional
        Spacing symbols, one per axis or one for all (default ``h`` for all axes).
    expect_order : int, optional
        The order the stencil is claimed to have: the verdict fails below it.
    max_order : int
        Powers of h searched beyond the leading order 0 (at most ``MAX_ANALYSIS_ORDER``).

    Returns
    -------
    StencilAnalysis

    Raises
    ------
    ConfigError, InputError, ParseError, LimitExceeded
        Bad offsets, weights, operator or options; more than ``MAX_STENCIL_POINTS`` points.

    Examples
    --------
    >>> five = {(0, 0): -4, (1, 0): 1, (-1, 0): 1, (0, 1): 1, (0, -1): 1}
    >>> a = analyze_stencil(five, "laplacian")
    >>> a.order, a.leading_term
    (2, 'h**2*(u_xxxx + u_yyyy)/12')
    >>> analyze_stencil({0: 1, 1: -2, 2: 1}, "x,x").leading_term  # a one-sided closure
    'h*u_xxx'
    """
    table, operator = _table(weights, operator)
    check_count(
        "stencil_points",
        len(table),
        MAX_STENCIL_POINTS,
        "stencil points",
        "analyse a smaller stencil",
    )
    offsets = _offsets(table)
    d = len(offsets[0])
    names = _names(variables, d)
    steps = _spacing(spacing, d)
    xi = tuple(sympy.Symbol(f"xi_{n}") for n in names)
    symbol, orders = _symbol(operator, names, xi)
    m = orders[1]
    values = _weights(table, steps, m)
    depth = _depth(max_order)
    expect = _expect(expect_order)
    groups = _error_groups(offsets, values, symbol, xi, steps, m + depth + 1)
    return _result(groups, names, steps, xi, _label(operator, names), depth, expect)


# --------------------------------------------------------------------------- validation
def _table(weights: object, operator: Any) -> tuple[Mapping[Any, Any], Any]:
    """``{offset: weight}`` and the operator (a Stencil's own derivative by default)."""
    if isinstance(weights, Stencil):
        table = dict(zip(weights.offsets, weights.weights, strict=True))
        return table, ("x", weights.derivative) if operator is None else operator
    if isinstance(weights, Mapping):
        return weights, operator
    msg = f"weights: give {{offset: weight}} or a symgrad.Stencil (got {type(weights).__name__})"
    raise InputError(msg)


def _offsets(table: Mapping[Any, Any]) -> list[tuple[Fraction, ...]]:
    """Offsets as tuples of Fractions, all of one dimension (1 to 3), at least one."""
    found = []
    for key in table:
        parts = key if isinstance(key, tuple) else (key,)
        offset = tuple(_fraction(p, "offset") for p in parts)
        if any(abs(o) > MAX_OFFSET or o.denominator > MAX_OFFSET for o in offset):
            msg = f"offset {key!r:.60}: coordinates must lie within ±{MAX_OFFSET} grid steps"
            raise ConfigError(msg)
        found.append(offset)
    if not found or len({len(o) for o in found}) != 1 or not 1 <= len(found[0]) <= 3:
        msg = "weights: give 1 or more offsets, all with 1, 2 or 3 coordinates"
        raise ConfigError(msg)
    if len(set(found)) != len(found):
        msg = "weights: an offset is listed twice"
        raise ConfigError(msg)
    return found


def _fraction(value: object, what: str) -> Fraction:
    """An exact rational: int, Fraction, float (its binary value), rational text, SymPy Rational."""
    if isinstance(value, numbers.Rational) and not isinstance(value, bool | sympy.Basic):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, float) and math.isfinite(value):
        return Fraction(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, str) and _RATIONAL_TEXT.fullmatch(value.strip()):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            pass
    msg = f"{what}: must be an exact number such as 1, -2 or '1/2' (got {value!r:.60})"
    raise ConfigError(msg)


def _names(variables: object, d: int) -> tuple[str, ...]:
    if variables is None:
        return _AXES[:d]
    names = tuple(s.name for s in parse_variables(variables))  # type: ignore[arg-type]
    if len(names) != d:
        msg = f"variables: {len(names)} names for offsets with {d} coordinates"
        raise ConfigError(msg)
    return names


def _spacing(spacing: object, d: int) -> tuple[sympy.Symbol, ...]:
    """One positive symbol per axis (``h`` for all by default; one name shared by all)."""
    if spacing is None:
        spacing = "h"
    steps = parse_variables(spacing)  # type: ignore[arg-type]
    steps = steps * d if len(steps) == 1 else steps
    if len(steps) != d:
        msg = f"spacing: give one name, or one per axis ({d}), got {len(steps)}"
        raise ConfigError(msg)
    return tuple(sympy.Symbol(s.name, positive=True) for s in steps)


def _weights(table: Mapping[Any, Any], steps: tuple[sympy.Symbol, ...], m: int) -> list[sympy.Expr]:
    """Weights as exact SymPy numbers over h^m, or as written in the spacing symbols."""
    out: list[sympy.Expr] = []
    symbolic = False
    for raw in table.values():
        if isinstance(raw, str) and any(c.isalpha() for c in raw):
            expr = parse(raw).xreplace({sympy.Symbol(s.name, real=True): s for s in steps})
            unknown = expr.free_symbols - set(steps)
            if not unknown and not _laurent(expr, steps):
                msg = (
                    f"weights: {raw!r:.60} must be a sum of rational multiples of powers of "
                    f"the spacing {[s.name for s in steps]}, e.g. '-2/h**2'"
                )
                raise ConfigError(msg)
            if unknown:
                msg = f"weights: {raw!r:.60} names {sorted(map(str, unknown))}, not a spacing symbol {[s.name for s in steps]}"
                raise ConfigError(msg)
            out.append(expr)
            symbolic = True
        else:
            f = _fraction(raw, "weight")
            out.append(sympy.Rational(f.numerator, f.denominator))
    if symbolic:
        return out
    if len(set(steps)) > 1:
        msg = (
            "weights: numbers are in units of one spacing h; with a spacing per axis write the "
            "weights with the spacing symbols, e.g. '1/hx**2'"
        )
        raise ConfigError(msg)
    return [w / steps[0] ** m for w in out]


def _laurent(expr: sympy.Expr, steps: tuple[sympy.Symbol, ...]) -> bool:
    """Whether ``expr`` expands to rationals times integer powers of the spacing symbols."""
    for term in sympy.Add.make_args(sympy.expand(expr)):
        coeff, rest = term.as_coeff_Mul()
        powers = rest.as_powers_dict() if rest != 1 else {}
        if not isinstance(coeff, sympy.Rational) or not all(
            base in steps and isinstance(exp, sympy.Integer) for base, exp in powers.items()
        ):
            return False
    return True


def _depth(max_order: object) -> int:
    if (
        isinstance(max_order, bool)
        or not isinstance(max_order, int)
        or not 1 <= max_order <= MAX_ANALYSIS_ORDER
    ):
        msg = f"max_order: must be an integer 1..{MAX_ANALYSIS_ORDER} (got {max_order!r:.60})"
        raise ConfigError(msg)
    return max_order


def _expect(expect_order: object) -> int | None:
    if expect_order is None:
        return None
    if isinstance(expect_order, bool) or not isinstance(expect_order, int) or expect_order < 1:
        msg = f"expect_order: must be a positive integer (got {expect_order!r:.60})"
        raise ConfigError(msg)
    return expect_order


def _symbol(
    operator: object, names: tuple[str, ...], xi: tuple[sympy.Symbol, ...]
) -> tuple[sympy.Expr, tuple[int, int]]:
    """The operator's symbol P(ξ) and its lowest and highest derivative orders."""
    if isinstance(operator, str) and operator.strip().lower() == "laplacian":
        return sympy.Add(*(x**2 for x in xi)), (2, 2)
    if _is_notation(operator):
        return _notation_symbol(str(operator), names, xi)
    axes = _partial_axes(operator, names)
    return sympy.Mul(*(xi[k] for k in axes)), (len(axes), len(axes))


def _is_notation(operator: object) -> bool:
    return isinstance(operator, str) and "D" in operator and "(" in operator


def _notation_symbol(
    text: str, names: tuple[str, ...], xi: tuple[sympy.Symbol, ...]
) -> tuple[sympy.Expr, tuple[int, int]]:
    """``D(u, x, 2) + D(u, y, 2)`` as its symbol ``ξ_x² + ξ_y²``: a linear combination of
    ``u`` and its partials with exact rational coefficients (floats by their binary values),
    read by :func:`symgrad.expr.derivative_notation` (never evaluated)."""
    rewritten, table = derivative_notation(text, "")
    holders = {sympy.Symbol(p, real=True): wrt for p, wrt in table.items()}
    axes = {n: xi[k] for k, n in enumerate(names)}
    template = parse(rewritten)
    outside = sorted({s.name for wrt in holders.values() for s in wrt} - set(names))
    others = sorted(s.name for s in template.free_symbols - set(holders))
    try:
        poly = None if others else sympy.Poly(template, *holders)
    except sympy.PolynomialError:  # sin(D(u, x)): not a polynomial in u's derivatives
        poly = None
    if outside or poly is None or poly.total_degree() != 1 or poly.coeff_monomial(1) != 0:
        why = (
            f"differentiates along {outside}, not among the axes {list(names)}"
            if outside
            else f"names {others}: coefficients must be numbers"
            if others
            else "must be a linear combination of u and D(u, ...) with numeric coefficients"
        )
        msg = f"operator: {text!r:.60} {why}"
        raise ConfigError(msg)
    total: sympy.Expr = sympy.S.Zero
    orders = []
    for holder, wrt in holders.items():
        coeff = poly.coeff_monomial(holder)
        if coeff != 0:
            exact = coeff if isinstance(coeff, sympy.Rational) else sympy.Rational(float(coeff))
            total += exact * sympy.Mul(*(axes[s.name] for s in wrt))
            orders.append(len(wrt))
    if not orders or total == 0:
        msg = f"operator: {text!r:.60} takes no derivative of u; write D(u, x), D(u, x, 2), ..."
        raise ConfigError(msg)
    return sympy.expand(total), (min(orders), max(orders))


def _partial_axes(operator: object, names: tuple[str, ...]) -> list[int]:
    """``"x,x"``, ``"x,y"``, ``("x", 3)``: the axis of each derivative taken."""
    items: list[Any] = []
    if isinstance(operator, str) and len(operator) <= 200:  # "x,x" or "x 3": names and small counts
        items = [_count_or_name(t) for t in operator.replace(",", " ").split()]
    elif isinstance(operator, Sequence) and not isinstance(operator, str):
        items = list(itertools.islice(operator, 64))
    axes: list[int] = []
    for item in items:
        if (
            isinstance(item, int)
            and not isinstance(item, bool)
            and axes
            and 1 <= item <= MAX_ANALYSIS_ORDER
        ):
            axes += [axes[-1]] * (item - 1)
        elif isinstance(item, str) and item in names:
            axes.append(names.index(item))
        else:
            axes = []
            break
    if not axes or len(axes) > MAX_ANALYSIS_ORDER:
        msg = (
            f"operator: give 'laplacian' or a partial such as 'x,x', 'x,y' or ('x', 3) along "
            f"{list(names)} (order at most {MAX_ANALYSIS_ORDER}; got {operator!r:.60})"
        )
        raise ConfigError(msg)
    return axes


def _count_or_name(token: str) -> str | int:
    """A count (1 to 3 ASCII digits) as an int, anything else as the name it may be."""
    return int(token) if token.isascii() and token.isdigit() and len(token) <= 3 else token


def _label(operator: object, names: tuple[str, ...]) -> str:
    if isinstance(operator, str) and operator.strip().lower() == "laplacian":
        return "laplacian"
    if _is_notation(operator):
        return " ".join(str(operator).split())
    return "u_" + "".join(names[k] for k in _partial_axes(operator, names))


# --------------------------------------------------------------------------- the analysis
#: A weight or Taylor coefficient: exponents of the distinct spacing symbols -> rational.
Laurent = dict[tuple[int, ...], Fraction]
#: The error terms of one power of h: (α, exponents) -> rational coefficient of h^e ∂^α u.
Group = dict[tuple[tuple[int, ...], tuple[int, ...]], Fraction]


def _error_groups(
    offsets: list[tuple[Fraction, ...]],
    weights: list[sympy.Expr],
    symbol: sympy.Expr,
    xi: tuple[sympy.Symbol, ...],
    steps: tuple[sympy.Symbol, ...],
    top: int,
) -> dict[int, Group]:
    """The error ``Σ_α (c_α - a_α) ∂^α u`` for ``|α| <= top``, grouped by its power of h.

    Exact rational arithmetic throughout (Fractions, not SymPy: a 125-point 3-D stencil to
    order 12 takes about a second).
    """
    unique = tuple(dict.fromkeys(steps))
    where = [unique.index(s) for s in steps]
    wanted = {
        tuple(int(e) for e in alpha): Fraction(int(c.p), int(c.q))
        for alpha, c in sympy.Poly(symbol, *xi).terms()
    }
    # integers over common denominators: offsets p/q, weight coefficients w/den
    q = math.lcm(*(o.denominator for off in offsets for o in off))
    laurent = [_laurent_terms(w, unique) for w in weights]
    den = math.lcm(*(c.denominator for w in laurent for c in w.values()))
    ints = [{e: int(c * den) for e, c in w.items()} for w in laurent]
    powers = [[[int(o * q) ** a for a in range(top + 1)] for o in off] for off in offsets]
    groups: dict[int, Group] = {}
    for n in range(top + 1):
        for alpha in _multi_indices(len(xi), n):
            shift = [0] * len(unique)
            for k, a in enumerate(alpha):
                shift[where[k]] += a
            total: dict[tuple[int, ...], int] = {}
            for table, weight in zip(powers, ints, strict=True):
                moment = math.prod(table[k][a] for k, a in enumerate(alpha))
                for exps, w in weight.items() if moment else ():
                    key = tuple(e + s for e, s in zip(exps, shift, strict=True))
                    total[key] = total.get(key, 0) + w * moment
            scale = den * q**n * math.prod(math.factorial(a) for a in alpha)
            coeffs = {key: Fraction(v, scale) for key, v in total.items()}
            plain = (0,) * len(unique)
            coeffs[plain] = coeffs.get(plain, Fraction(0)) - wanted.get(alpha, Fraction(0))
            for key, c in coeffs.items():
                if c:
                    groups.setdefault(sum(key), {})[alpha, key] = c
    return groups


def _laurent_terms(weight: sympy.Expr, unique: tuple[sympy.Symbol, ...]) -> Laurent:
    """A weight (rationals times integer powers of the spacings) as exponents -> rational."""
    out: Laurent = {}
    for term in sympy.Add.make_args(sympy.expand(weight)):
        coeff, rest = term.as_coeff_Mul()
        powers = rest.as_powers_dict() if rest != 1 else {}
        key = tuple(int(powers.get(s, 0)) for s in unique)
        out[key] = out.get(key, Fraction(0)) + Fraction(int(coeff.p), int(coeff.q))
    return out


def _group_expr(
    group: Group, xi: tuple[sympy.Symbol, ...], unique: tuple[sympy.Symbol, ...]
) -> sympy.Expr:
    """The group as a polynomial in ξ with coefficients in the spacings."""
    return sympy.Add(
        *(
            sympy.Rational(c.numerator, c.denominator)
            * sympy.Mul(*(h**e for h, e in zip(unique, exps, strict=True)))
            * sympy.Mul(*(x**a for x, a in zip(xi, alpha, strict=True)))
            for (alpha, exps), c in group.items()
        )
    )


def _multi_indices(d: int, n: int) -> list[tuple[int, ...]]:
    """Every α with d entries summing to n, in lexicographic order (x before y)."""
    return sorted(
        (a for a in itertools.product(range(n + 1), repeat=d) if sum(a) == n), reverse=True
    )


def _result(
    groups: dict[int, Group],
    names: tuple[str, ...],
    steps: tuple[sympy.Symbol, ...],
    xi: tuple[sympy.Symbol, ...],
    operator: str,
    depth: int,
    expect: int | None,
) -> StencilAnalysis:
    """The order, leading term, harmonic order and verdict from the error groups."""
    unique = tuple(dict.fromkeys(steps))
    found = sorted(p for p, g in groups.items() if p <= depth and g)
    exprs = {p: _group_expr(groups[p], xi, unique) for p in found}
    terms = {p: _text(exprs[p], names, xi) for p in found[:3]}
    order = found[0] if found else None
    harmonic = _harmonic_order(exprs, xi) if len(xi) > 1 else None
    leading = terms.get(order, "0") if order is not None else "0"
    if order is None:
        status = Status.INCONCLUSIVE
        reason = (
            f"no error term up to h^{depth}: the stencil is exact that far; raise max_order to "
            "find its order"
        )
    else:
        status, reason = _verdict(order, leading, harmonic, len(xi), depth, operator, expect)
    spacing = tuple(s.name for s in steps)
    return StencilAnalysis(
        status, reason, operator, names, spacing, order, leading, terms, harmonic, expect
    )


def _verdict(
    order: int,
    leading: str,
    harmonic: int | None,
    d: int,
    depth: int,
    operator: str,
    expect: int | None,
) -> tuple[Status, str]:
    """Consistent (pass), inconsistent or below the expected order (fail), with the reason."""
    text = f"order {order}, leading error term {leading}"
    if order <= 0:
        return Status.FAIL, f"inconsistent: {text}; the stencil does not approximate {operator}"
    if harmonic is not None and harmonic > order:
        text += f", which vanishes on harmonic fields (Δu = 0): order {harmonic} there"
    elif d > 1 and harmonic is None:
        text += f", which vanishes on harmonic fields, with no error term there up to h^{depth}"
    if expect is not None and order < expect:
        return Status.FAIL, f"{text}, below the expected order {expect}"
    return Status.PASS, text


def _harmonic_order(exprs: dict[int, sympy.Expr], xi: tuple[sympy.Symbol, ...]) -> int | None:
    """The lowest power whose error symbol is not a multiple of Σ ξ_k² (None: none found)."""
    laplace = sympy.Add(*(x**2 for x in xi))
    for p in sorted(exprs):
        if sympy.expand(sympy.rem(exprs[p], laplace, *xi)) != 0:
            return p
    return None


def _text(group: sympy.Expr, names: tuple[str, ...], xi: tuple[sympy.Symbol, ...]) -> str:
    """The error group with ξ^α written as derivatives ``u_xxyy``, factored."""
    poly = sympy.Poly(sympy.expand(group), *xi)
    total = sympy.S.Zero
    for alpha, coeff in poly.terms():
        name = (
            "u_" + "".join(n * a for n, a in zip(names, alpha, strict=True)) if any(alpha) else "u"
        )
        total += coeff * sympy.Symbol(name)
    return str(sympy.factor(total))
