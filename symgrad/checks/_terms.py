"""The part of f a partial derivative sees: a sum's terms grouped by the variables they use.

When f (or a Jacobian row) is a sum after parsing, f = t_1 + ... + t_m, split it, for a partial
∂^α with differentiated variables S = {k : α_k > 0}, as::

    f = g_S + r_S,    g_S = the sum of the terms in which some variable of S occurs

r_S, the sum of the other terms, does not change when only the variables of S move.  Every
finite difference along the axes of S, central or one-sided, plain or mixed, at any step, is a
combination of values of f at points that differ from the point only in those variables, with
weights that sum to zero (m ≥ 1): r_S cancels from it exactly.  So differencing g_S measures
the very quantities differencing f measures: the same exact stencil values, hence the same
truncation errors and the same one-sided derivatives for the kink probe (the first derivatives
along each axis of S included), and ∂^α f = ∂^α g_S wherever f is defined; only the rounding
errors are g_S's own.  The referee of :func:`symgrad.check` differences g_S instead of f, and
its verdicts mean what they meant.  A stencil point is inside
f's domain exactly when it is inside g_S's (f is finite at the point, so r_S is).  When no term
holds a variable of S, f does not depend on them and the partial is exactly 0 (a variable that
is declared but not written, or cancelled by SymPy).

The cost is what makes this worth doing: for a sum of local terms (Rosenbrock,
Σ sin(x_i)·x_{i+1}) each g_S has a bounded number of terms, so the n components of a gradient
cost O(n) evaluations of bounded size instead of O(n) evaluations of the whole O(n)-term f:
the check grows linearly with the number of variables, not quadratically.  Only g_S's own
variables are passed to the referee, renamed sg0part, sg1part, ... in f's order, so that the
parts of a sum of repeated terms share one compiled function (the middle parts of Rosenbrock
are one expression in sg0part, sg1part, sg2part): compiling costs per distinct shape of part,
not per variable.  The referee's sentences name the variables by their own names again;
where a part fails (a kink, a jump, a domain edge) they are worded as for f itself, at f's
whole point and naming the partial, and end with the terms of f the part is made of
(``kink at x=0.5, y=0, z=2 in d/dy: ... (in Abs(y), the term of f that holds y)``).

The size of f still matters where it limits the comparison: the precision floor of a
component is relative to the function differenced, and the check takes the smaller of |f| and
|g_S| there, so a tolerance is never looser than differencing f itself would give.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import sympy

from symgrad.derive import Compiled

__all__ = ["Part", "Terms"]

#: Split sums into the parts each partial sees (tests set it to False to difference f itself).
SPLIT_SUMS = True

# a part's own variables: sg0part, sg1part, ... (f's variables in f's order); a letter after
# the number, so that a label such as d2/dsg0part2 reads back unambiguously
_OWN_NAME = re.compile(r"sg(\d+)part")
# the part's point as the referee prints it: sg0part=0.5, sg1part=-1e-30
_COORDINATE = r"sg\d+part=[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_OWN_POINT = re.compile(rf"{_COORDINATE}(?:, {_COORDINATE})*")
# a kink of a one-variable function is worded without the partial: "kink at x=0: ..."
_BARE_KINK = re.compile(rf"kink at ({_OWN_POINT.pattern}): ")
#: A part's terms are shown up to this many characters in a reason.
TERMS_SHOWN = 80


class Part(NamedTuple):
    """What the referee differences for one group of variables.

    ``function`` is g_S, over its own variables sg0part, sg1part, ..., which are f's variables
    at the positions ``keep``; None when no term holds a variable of the group (f does not
    depend on them: the partial is exactly 0).  ``whole`` says that g_S is f itself, over f's variables.
    """

    function: Compiled | None
    keep: tuple[int, ...]
    whole: bool
    terms: tuple[sympy.Expr, ...] = ()  # g_S's terms, in f's variables
    group: tuple[int, ...] = ()  # S: the differentiated variables (f's positions)

    def names(self, names: Sequence[str]) -> list[str]:
        """The names the referee is to be given the part's variables by."""
        if self.whole:
            return list(names)
        return [_own(i) for i in range(len(self.keep))]

    def named(self, text: str, names: Sequence[str]) -> str:
        """A sentence of the referee about the part, with f's variable ``names`` in it."""
        if self.whole:
            return text
        return _OWN_NAME.sub(lambda m: names[self.keep[int(m.group(1))]], text)

    def told(self, text: str, names: Sequence[str], where: str, label: str, row: str) -> str:
        """Why the referee failed on the part, worded as for f itself, and the terms it saw.

        The referee prints the part's own point (only its variables) and words a kink of a
        one-variable part without the partial; the sentence gets f's whole point ``where`` and
        the partial's ``label`` back, as differencing f (named ``row``) would word it, and ends
        with the terms of f the part is made of (a kink at y=0 of f = |y| + x*z is in |y|).
        """
        if self.whole:
            return text
        if len(names) > 1:
            text = _BARE_KINK.sub(lambda m: f"kink at {m.group(1)} in {label}: ", text)
        text = self.named(_OWN_POINT.sub(lambda _: where, text), names)
        return f"{text} ({self._shown(names, row)})"

    def _shown(self, names: Sequence[str], row: str) -> str:
        """``in abs(y), the term of f that holds y``: the part's terms, cut to TERMS_SHOWN."""
        shown = str(sympy.Add(*self.terms))
        if len(shown) > TERMS_SHOWN:
            shown = shown[: TERMS_SHOWN - 3] + "..."
        one = len(self.terms) == 1
        what = f"the term of {row} that holds" if one else f"the terms of {row} that hold"
        return f"in {shown}, {what} {_listed([names[k] for k in self.group])}"


@dataclass
class Terms:
    """One row of f as a sum of terms, and the part g_S of it for each group S, compiled once.

    Parts of the same shape (the same expression in their own variables) share one compiled
    function, also across checks (the last 256 shapes are kept).
    """

    row: Compiled
    terms: tuple[sympy.Expr, ...]
    holders: tuple[frozenset[int], ...]  # per variable: the terms in which it occurs
    uses: tuple[frozenset[int], ...]  # per term: the variables that occur in it
    parts: dict[tuple[int, ...], Part] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Compiled) -> Terms:
        """Split ``row`` (a compiled scalar function) into its top-level terms."""
        expr = row.components[0]
        position = {s: i for i, s in enumerate(row.variables)}
        terms = expr.args if SPLIT_SUMS and isinstance(expr, sympy.Add) else (expr,)
        uses = [{position.get(s, -1) for s in t.free_symbols} for t in terms]
        if any(-1 in used for used in uses):  # a symbol that is not a variable: keep f whole
            terms, uses = (expr,), [set(range(len(row.variables)))]
        held: list[list[int]] = [[] for _ in row.variables]
        for t, used in enumerate(uses):
            for k in used:
                held[k].append(t)
        holders = tuple(frozenset(h) for h in held)
        return cls(row, tuple(terms), holders, tuple(frozenset(u) for u in uses))

    def part(self, counts: tuple[int, ...]) -> Part:
        """g_S for the variables differentiated by ``counts`` (compiled on first use)."""
        group = tuple(k for k, c in enumerate(counts) if c)
        if group not in self.parts:
            self.parts[group] = self._build(group)
        return self.parts[group]

    def _build(self, group: tuple[int, ...]) -> Part:
        if any(not self.holders[k] for k in group):
            # f does not depend on a differentiated variable: the partial is exactly 0 (the
            # part would be differenced along the other variables only, a different partial)
            return Part(None, (), whole=False)
        everything = frozenset(range(len(self.terms)))
        chosen = frozenset().union(*(self.holders[k] for k in group))
        if chosen == everything:
            return Part(self.row, tuple(range(len(self.row.variables))), whole=True)
        if not chosen:
            return Part(None, (), whole=False)
        keep = tuple(sorted(frozenset().union(*(self.uses[t] for t in chosen))))
        old = tuple(self.row.variables[k] for k in keep)
        picked = tuple(self.terms[t] for t in sorted(chosen))
        return Part(_part(picked, old), keep, whole=False, terms=picked, group=group)


@functools.lru_cache(maxsize=1024)
def _part(terms: tuple[sympy.Expr, ...], old: tuple[sympy.Symbol, ...]) -> Compiled:
    """The sum of ``terms`` over its own variables (f's ``old`` ones renamed), compiled."""
    own = [sympy.Symbol(_own(i), **v.assumptions0) for i, v in enumerate(old)]
    shape = sympy.Add(*terms).xreplace(dict(zip(old, own, strict=True)))
    return _compiled(shape, tuple(own))


def _own(i: int) -> str:
    return f"sg{i}part"


def _listed(names: Sequence[str]) -> str:
    """``x``, ``x or y``, ``x, y or z``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


@functools.lru_cache(maxsize=256)
def _compiled(shape: sympy.Expr, own: tuple[sympy.Symbol, ...]) -> Compiled:
    """The compiled part of this shape, shared by every check (a part is a small expression)."""
    return Compiled(shape, own, "function")
