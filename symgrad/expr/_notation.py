"""The derivative notation ``D(u, x, 2) + D(u, y, 2)``, read without evaluating any text.

Operators are written with ``u`` for the unknown and ``D(u, x)``, ``D(u, x, 2)``,
``D(u, x, y)`` (``D(u, x, 2, y)``, ...) for its partial derivatives: the manufactured-source
notation of :func:`symgrad.manufactured_source`, also read by :func:`symgrad.verify_operator`
and :func:`symgrad.analyze_stencil`.  :func:`derivative_notation` replaces every ``D(...)`` call
and every bare ``u`` by a fresh placeholder name that occurs in neither text, and returns the
rewritten text (for the safe parser, :func:`symgrad.expr.parse`) with a table from each
placeholder to the variables its derivative is taken along (empty for ``u`` itself).  The
variable names are validated; counts are 1 to ``MAX_NOTATION_ORDER`` and so is the total
order of one ``D``.
"""

from __future__ import annotations

import re

import sympy

from symgrad.errors import InputError, LimitExceeded, ParseError
from symgrad.expr._parse import validate_name

__all__ = ["MAX_NOTATION_ORDER", "derivative_notation"]

#: The highest total order of one ``D(u, ...)``.
MAX_NOTATION_ORDER = 12
_D_CALL = re.compile(r"\bD\s*\(\s*u\s*,([^()]*)\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def derivative_notation(
    operator: object, other: object = "u"
) -> tuple[str, dict[str, tuple[sympy.Symbol, ...]]]:
    """Replace ``D(u, ...)`` calls and bare ``u`` by fresh names that occur in neither text.

    Parameters
    ----------
    operator : str
        The operator, e.g. ``"D(u, t) - nu*(D(u, x, 2) + D(u, y, 2))"``.
    other : str
        A second text the placeholder names must not clash with (the solution's).

    Returns
    -------
    (str, dict)
        The rewritten text and ``{placeholder: (variables...)}`` (``()`` for ``u``).

    Raises
    ------
    InputError, ParseError, LimitExceeded
        Not strings; a malformed ``D(...)``; a ``D`` of order over ``MAX_NOTATION_ORDER``.

    Examples
    --------
    >>> text, table = derivative_notation("D(u, x, 2) + 3*u")
    >>> text, {k: [s.name for s in v] for k, v in table.items()}
    ('Dterm0 + 3*Dtermu', {'Dterm0': ['x', 'x'], 'Dtermu': []})
    """
    if not isinstance(operator, str) or not isinstance(other, str):
        msg = f"operator, solution: must be strings (got {type(operator).__name__}, {type(other).__name__})"
        raise InputError(msg)
    words = set(_WORD.findall(operator + " " + other))
    base = "Dterm"
    while any(w.startswith(base) for w in words):
        base += "x"
    table: dict[str, tuple[sympy.Symbol, ...]] = {}

    def replace(match: re.Match[str]) -> str:
        name = f"{base}{len(table)}"
        table[name] = _derivative_spec(match[1], operator, match.start() + 1)
        return name

    text = _D_CALL.sub(replace, operator)
    left = re.search(r"\bD\s*\(|\bu\s*\(", text)
    if left:
        msg = "write derivatives as D(u, x), D(u, x, 2) or D(u, x, y), and u alone for the solution"
        raise ParseError(
            msg, reason="bad_derivative", text=operator, column=operator.find(left[0]) + 1
        )
    table[f"{base}u"] = ()
    return re.sub(r"\bu\b", f"{base}u", text), table


def _derivative_spec(args: str, text: str, column: int) -> tuple[sympy.Symbol, ...]:
    """``" x, 2, y"`` -> (x, x, y): names validated, counts 1..12, total order at most 12."""
    wrt: list[sympy.Symbol] = []
    for item in (a.strip() for a in args.split(",")):
        if item.isdigit() and wrt and 1 <= int(item) <= MAX_NOTATION_ORDER:
            wrt.extend([wrt[-1]] * (int(item) - 1))
        elif item.isdigit() or not item:
            msg = f"D(u, ...) takes variables, each optionally followed by a count 1..{MAX_NOTATION_ORDER}"
            raise ParseError(msg, reason="bad_derivative", text=text, column=column)
        else:
            wrt.append(sympy.Symbol(validate_name(item), real=True))
    if len(wrt) > MAX_NOTATION_ORDER:
        msg = f"D(u, ...) of order {len(wrt)}; at most {MAX_NOTATION_ORDER} is allowed"
        raise LimitExceeded(
            msg, limit="derivative_order", value=len(wrt), allowed=MAX_NOTATION_ORDER
        )
    return tuple(wrt)
