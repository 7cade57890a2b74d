"""Expression trees walked or rebuilt children first, without recursion (trees may be deep)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["bottom_up", "compound_nodes"]


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


def compound_nodes(exprs: Iterable[Any]) -> Iterator[Any]:
    """Each node with operands of the trees ``exprs``, a shared subtree once, without recursion.

    A root without operands (an atom, a plain number) yields nothing.
    """
    seen: set[Any] = set()
    stack = list(exprs)
    while stack:
        node = stack.pop()
        args = getattr(node, "args", ())
        if node in seen or not args:
            continue
        seen.add(node)
        stack.extend(args)
        yield node
