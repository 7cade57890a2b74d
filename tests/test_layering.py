"""The floor plan: packages depend on each other along a DAG, and only through public names.

A *unit* is a subpackage (``expr``, ``derive``, ``fd``, ``checks``, ``grids``, ``teaching``,
``output``) or a top-level module (``errors``, ``results``, ``_precision``, ``_files``,
``_limits``, ``_parallel``, ``_lazy_names``, ``_figures``, ``cli``).  ``ALLOWED`` lists what each unit may import; the rules checked here:

* no unit imports one that is not in its ``ALLOWED`` set (so nothing imports upward, and the
  sibling packages ``checks``, ``grids`` and ``teaching`` stay independent of each other);
* across units, imports go through a package's ``__init__`` and never name an underscore name;
* inside a package every module is private (``_name.py``) and the ``__init__`` says what is public;
* no exported name shadows a module.
"""

from __future__ import annotations

import ast
import importlib
from graphlib import TopologicalSorter
from pathlib import Path

import pytest

import symgrad

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

BASE = frozenset(
    {"errors", "results", "_precision", "_files", "_limits", "_parallel", "_lazy_names"}
)
# unit -> the units it may import (the pipeline: parse -> derive -> fd -> checks; grids and
# teaching beside checks; output and the CLI on top)
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "results": frozenset({"errors"}),
    "_precision": frozenset({"errors"}),
    "_files": frozenset({"errors"}),
    "_limits": frozenset({"errors"}),
    "_parallel": frozenset({"errors"}),
    "_lazy_names": frozenset(),
    "_figures": BASE,
    "expr": BASE,
    "derive": BASE | {"expr"},
    "fd": BASE | {"expr", "derive"},
    "checks": BASE | {"expr", "derive", "fd"},
    "grids": BASE | {"expr", "derive"},
    "teaching": BASE | {"expr", "derive", "fd", "_figures"},
    "output": BASE | {"expr", "derive", "fd", "checks", "grids", "teaching", "_figures"},
    "cli": BASE | {"expr", "derive", "fd", "checks", "grids", "teaching", "output", "__init__"},
    "__init__": BASE | {"expr", "derive", "fd", "checks", "grids", "teaching", "output"},
    "__main__": frozenset({"cli"}),
}
SIBLINGS = [("checks", "grids"), ("checks", "teaching"), ("grids", "teaching")]


def unit_of(path: Path) -> str:
    """The unit a source file belongs to: its package, or its own name at the top level."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def imports(source: str) -> list[tuple[str, str]]:
    """``(module, name)`` of every symgrad import in ``source``, lazy imports included."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "symgrad":
                found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, "") for a in node.names if a.name.split(".")[0] == "symgrad")
    return found


def violations(unit: str, source: str) -> list[str]:
    """Every import of ``source`` (a file of ``unit``) that breaks the floor plan."""
    found = []
    for module, name in imports(source):
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else ("__init__" if name == "__version__" else name)
        if target == unit:
            continue
        if target not in ALLOWED.get(unit, frozenset()):
            found.append(f"{unit} imports {target} ({module})")
        if len(parts) > 2:
            found.append(f"{unit} reaches inside {target}: {module}")
        if name.startswith("_") and name != "__version__":
            found.append(f"{unit} imports the private name {name} from {module}")
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_place() -> None:
    """A new package or top-level module must be placed in ALLOWED, so that its layer is a decision."""
    assert {unit_of(p) for p in SOURCES} - set(ALLOWED) == set()


def test_allowed_dependencies_form_a_dag() -> None:
    """The allowed graph has no cycle (TopologicalSorter raises CycleError on one)."""
    order = list(TopologicalSorter(ALLOWED).static_order())
    assert order.index("expr") < order.index("derive") < order.index("fd") < order.index("checks")


@pytest.mark.parametrize("pair", SIBLINGS, ids="-".join)
def test_sibling_packages_are_independent(pair: tuple[str, str]) -> None:
    a, b = pair
    assert b not in ALLOWED[a]
    assert a not in ALLOWED[b]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_floor_plan(path: Path) -> None:
    """Each file imports only allowed units, through their public names."""
    assert violations(unit_of(path), path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("unit", "source", "expected"),
    [
        ("expr", "from symgrad.fd import finite_difference", "expr imports fd"),
        ("grids", "from symgrad.checks import check", "grids imports checks"),
        ("checks", "from symgrad.fd._engine import FDResult", "reaches inside fd"),
        ("checks", "from symgrad.fd import _EPS", "private name _EPS"),
        ("derive", "def f():\n    import symgrad.output._report", "derive imports output"),
    ],
)
def test_the_checker_catches_upward_and_private_imports(
    unit: str, source: str, expected: str
) -> None:
    """The rules can fail: each planted bad import is reported."""
    assert any(expected in v for v in violations(unit, source))


def test_modules_inside_packages_are_private() -> None:
    """Inside a package every module except ``__init__`` starts with an underscore."""
    public = [
        str(p.relative_to(PACKAGE))
        for p in SOURCES
        if p.parent != PACKAGE and p.name != "__init__.py" and not p.name.startswith("_")
    ]
    assert public == []


@pytest.mark.parametrize(
    "package", sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
)
def test_package_exports_exist_and_shadow_no_module(package: str) -> None:
    """Every name in a package's ``__all__`` exists, and none is the name of one of its modules."""
    module = importlib.import_module(f"symgrad.{package}")
    assert module.__all__, f"symgrad.{package} says nothing is public"
    assert all(hasattr(module, name) for name in module.__all__)
    submodules = {p.stem for p in (PACKAGE / package).glob("*.py")}
    assert set(module.__all__) & submodules == set()


def test_top_level_names_shadow_no_module() -> None:
    """``symgrad.check`` and friends are functions, and no module of that name exists."""
    units = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir()
    }
    assert set(symgrad.__all__) & units == set()
