"""A bounded cache from a constructor's text inputs to its compiled result.

``finite_difference_gradient("...", point)`` in a loop, or a check called again with the same
text, would parse, differentiate and compile the same expression at every call.  The public
constructors (``gradient``, ``hessian``, ...) therefore keep their last ``CACHE_SIZE`` results,
keyed by everything that decides the result: the constructor, the text, ``variables``, ``wrt``,
``args``, the derivative's order, the ``Limits`` and the symbolic engine actually used.  A
repeated call returns the *same* :class:`~symgrad.derive.Compiled` object, which is treated as
immutable (``returning()`` makes a copy).  The least recently used entry is dropped first.

Only text inputs are cached: a key is built from strings, numbers, symbols (by name and
assumptions) and ``Limits``, and a call with anything else (a SymPy expression, an array of
texts) is simply not cached.  Failures are never cached: a refused job is refused again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, NamedTuple, TypeVar

import sympy

from symgrad.derive._cost import Limits

__all__ = ["CACHE_SIZE", "CacheInfo", "TextCache", "cache_key"]

#: How many compiled results the constructors keep (least recently used dropped first).
CACHE_SIZE = 128

_T = TypeVar("_T")
_SCALARS = (str, int, bool, type(None))


class CacheInfo(NamedTuple):
    """Counts of the constructors' cache: calls answered from it, calls that built, entries."""

    hits: int
    misses: int
    size: int
    maxsize: int


def cache_key(parts: object) -> Hashable | None:
    """A hashable key equal exactly when ``parts`` are equal, or ``None`` if not cacheable.

    Every value is tagged with its type (``True`` and ``1`` are different keys); SymPy symbols by
    name and assumptions; sequences element by element.  A SymPy expression, an array or any
    other object makes the call uncacheable.
    """
    if isinstance(parts, _SCALARS):
        return (type(parts).__name__, parts)
    if isinstance(parts, sympy.Symbol):
        return ("Symbol", parts.name, tuple(sorted(parts.assumptions0.items())))
    if isinstance(parts, Limits):
        return ("Limits", parts)
    if isinstance(parts, list | tuple):
        items = [cache_key(p) for p in parts]
        return None if any(i is None for i in items) else ("seq", tuple(items))
    return None


class TextCache(Generic[_T]):
    """A thread-safe least-recently-used cache of at most ``maxsize`` built values."""

    def __init__(self, maxsize: int = CACHE_SIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, _T] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, parts: object, build: Callable[[], _T]) -> _T:
        """The value cached for ``parts``, or ``build()`` (cached when it returns)."""
        key = cache_key(parts)
        if key is None:
            return build()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self._hits += 1
                return self._entries[key]
        value = build()
        with self._lock:
            self._misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Drop every entry and reset the counts."""
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        """The current counts."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries), self.maxsize)
