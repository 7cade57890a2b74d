"""Renamed keywords and attributes: the old name still works, with a ``DeprecationWarning``.

In symgrad "steps" are the teaching steps of :func:`symgrad.steps`; the step sizes h of a finite
difference are ``step_sizes``, and the point of every finite difference is ``at``.  The old
spellings keep working for a while; each use names the new one.
"""

from __future__ import annotations

import warnings
from typing import TypeVar

from symgrad.errors import ConfigError

__all__ = ["renamed_keyword", "warn_renamed"]

_T = TypeVar("_T")


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (at the caller's caller by default)."""
    msg = f"{old} is deprecated; use {new} instead"
    warnings.warn(msg, DeprecationWarning, stacklevel=stacklevel)


def renamed_keyword(
    old: str, old_value: _T | None, new: str, new_value: _T, default: _T, *, stacklevel: int = 4
) -> _T:
    """The value of a keyword given under its ``new`` name or, with a warning, its ``old`` one.

    ``old_value`` is None when the old keyword was not given.  Giving both (the new one with a
    value other than its ``default``) is a :class:`~symgrad.errors.ConfigError`.  The warning
    points ``stacklevel`` frames up: the default is the caller of the function that calls this.
    """
    if old_value is None:
        return new_value
    if new_value is not default:
        msg = f"give {new} only ({old} is its deprecated name)"
        raise ConfigError(msg)
    warn_renamed(f"the keyword {old}=", f"{new}=", stacklevel=stacklevel)
    return old_value
