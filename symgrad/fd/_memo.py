"""Answers remembered per live object (a compiled function, a stencil) in bounded caches.

Keyed by ``id``: each entry keeps its object, so an id reused after garbage collection is
recognised as another object and answered again; a cache past its size is emptied whole.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["remembered"]


def remembered(
    cache: dict[Hashable, tuple[Any, Any]],
    owner: object,
    build: Callable[[], T],
    key: Hashable = None,
    size: int = 256,
) -> T:
    """``build()`` once per live ``owner`` (and ``key``, default ``id(owner)``)."""
    key = id(owner) if key is None else key
    known = cache.get(key)
    if known is None or known[0] is not owner:
        if len(cache) > size:
            cache.clear()
        known = cache[key] = (owner, build())
    answer: T = known[1]
    return answer
