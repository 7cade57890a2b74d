"""Domains: a box ``{name: (low, high)}`` from ``"x=-1:1, y=0:2*pi"`` or a mapping.

The one grammar of a domain, shared by gradient checks, grid verification and the teaching
figures: comma-separated ``NAME=LOW:HIGH`` items, each bound a constant expression read by the
safe parser (``-1``, ``1/2``, ``2*pi``) and rounded once to float64.  A mapping gives each name
a ``(low, high)`` pair or a ``"low:high"`` string.  Every content error is a
:class:`~symgrad.errors.ConfigError` that quotes what was received; a value that is neither text
nor a mapping is an :class:`~symgrad.errors.InputError`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

from symgrad.errors import ConfigError, InputError, SymgradError, quote
from symgrad.expr._parse import parse, parse_variables, validate_name

__all__ = ["parse_domain"]

_ITEM = re.compile(r"\s*([^=:,]+?)\s*=\s*([^=:,]+):([^=:,]+)")
_EXAMPLE = "write NAME=LOW:HIGH per axis, separated by commas, e.g. 'x=-1:1,y=0:2*pi'"


def parse_domain(
    spec: str | Mapping[Any, Any], variables: str | Sequence[str] | None = None
) -> dict[str, tuple[float, float]]:
    """The box ``{name: (low, high)}`` that ``spec`` describes, in the order given.

    Parameters
    ----------
    spec : str or mapping
        ``"x=-1:1, y=0:2*pi"``, or ``{"x": (-1, 1), "y": "0:2*pi"}``.
    variables : str or sequence of str, optional
        When given, every name of the domain must be one of them.

    Returns
    -------
    dict
        Validated names to finite float bounds with ``low < high``.

    Raises
    ------
    ConfigError
        Unreadable text, a bound that is not a finite constant, ``low >= high``, a name given
        twice or not among ``variables``.
    InputError
        ``spec`` is neither text nor a mapping, or a bound is neither text nor a real number.

    Examples
    --------
    >>> parse_domain("x=-2:2, y=0:1/2")
    {'x': (-2.0, 2.0), 'y': (0.0, 0.5)}
    >>> parse_domain({"t": "0:pi"})
    {'t': (0.0, 3.141592653589793)}
    """
    given: object = spec  # checked at run time too: the annotation is a promise, not a proof
    if isinstance(given, str):
        found = [_ITEM.fullmatch(part) for part in given.split(",")]
        if not given.strip() or not all(found):
            msg = f"domain: cannot read {quote(given)}; {_EXAMPLE}"
            raise ConfigError(msg)
        raw = [(m[1], m[2], m[3]) for m in found if m]
    elif isinstance(given, Mapping):
        raw = [(str(getattr(k, "name", k)), *_pair(k, v)) for k, v in given.items()]
    else:
        msg = f"domain: must be text such as 'x=-1:1' or a mapping (got {type(given).__name__})"
        raise InputError(msg)
    box: dict[str, tuple[float, float]] = {}
    for name, low, high in raw:
        key = validate_name(name.strip())
        if key in box:
            msg = f"domain: {key} is given twice; give each axis once (distinct names)"
            raise ConfigError(msg)
        box[key] = (_bound(key, low), _bound(key, high))
        if not box[key][0] < box[key][1]:
            msg = f"domain: {key} needs LOW < HIGH (got {box[key][0]:g}:{box[key][1]:g})"
            raise ConfigError(msg)
    allowed = None if variables is None else [s.name for s in parse_variables(variables)]
    unknown = [name for name in box if allowed is not None and name not in allowed]
    if unknown:
        msg = f"domain: {', '.join(unknown)} not among the variables {allowed}"
        raise ConfigError(msg)
    return box


def _pair(key: object, bounds: object) -> tuple[object, object]:
    if isinstance(bounds, str):
        parts = bounds.split(":")
        if len(parts) == 2:
            return parts[0], parts[1]
    elif isinstance(bounds, Sequence) and len(bounds) == 2:
        return bounds[0], bounds[1]
    msg = f"domain: {key!s} must map to (low, high) or 'low:high' (got {bounds!r:.60})"
    raise ConfigError(msg)


def _bound(name: str, value: object) -> float:
    """A finite bound: a real number, or text for a constant expression such as ``2*pi``."""
    if isinstance(value, bool) or not isinstance(value, str | numbers.Real):
        msg = f"domain: bounds of {name} must be numbers (got {value!r:.60})"
        raise InputError(msg)
    if isinstance(value, str):
        try:
            expr = parse(value.strip())
        except SymgradError as exc:
            msg = f"domain: bound {quote(value.strip())} of {name} is not a constant: {str(exc).splitlines()[0]}"
            raise ConfigError(msg) from exc
        number = math.nan if expr.free_symbols else float(expr)
    else:
        number = float(value)
    if not math.isfinite(number):
        msg = f"domain: bounds of {name} must be finite constants (got {value!r:.60})"
        raise ConfigError(msg)
    return number
