"""Public names of a package loaded from their modules on first use (PEP 562).

A package's ``__init__`` lists where each public name lives and installs the two module hooks::

    __getattr__, __dir__ = lazy_names(__name__, globals(), __all__, {"_plots": ("plot",)})

so that importing the package imports none of its modules: ``symgrad report`` needs the report
but not the matplotlib figures or the grid verifiers that live beside it.  A name is imported
from its module (``"symgrad.output._plots"``; a key without a leading dot or underscore is taken
as an absolute module) when first read, then kept in the package's namespace.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: the top-level package uses this module, and importing typing would
# cost the command line's start-up more than the rest of it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, MutableMapping
    from typing import Any


def lazy_names(
    package: str,
    namespace: MutableMapping[str, Any],
    public: Iterable[str],
    modules: Mapping[str, Iterable[str]],
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (see the module docstring)."""
    origin = {
        name: f"{package}.{module}" if module.startswith("_") else module
        for module, names in modules.items()
        for name in names
    }
    listed = frozenset(public)

    def getattr_(name: str) -> object:
        module = origin.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *listed})

    return getattr_, dir_
