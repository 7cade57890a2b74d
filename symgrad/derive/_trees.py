"""Expression trees rebuilt children first, without recursion (trees may be deep)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["bottom_up"]


def bottom_up(root: Any, memo: dict[Any, Any], build: Callable[[Any, list[Any]], Any]) -> bool:
    """``memo[node] = build(node, built arguments)`` for every node of ``root`` not in ``memo``,
    children first, without recursion (deep trees) and each shared node once.

    False, and nothing more built, as soon as ``build`` returns None (an unsupported node).
    """
    stack = [root]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        pending = [a for a in node.args if a not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        built = build(node, [memo[a] for a in node.args])
        if built is None:
            return False
        memo[node] = built
    return True
