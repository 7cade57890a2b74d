"""The pipeline flows one way: a module imports only from the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

# parse -> symbolic -> codegen -> finite differences -> checks -> render -> CLI
ORDER = [
    "errors",
    "results",
    "grammar",
    "parse",
    "symbolic",
    "codegen",
    "derivatives",
    "stencils",
    "fd_core",
    "finite_diff",
    "check_results",
    "check",
    "check_gradient",
    "taylor",
    "sweeps",
    "convergence",
    "grid_diagnostics",
    "grids",
    "filters",
    "mms",
    "gci",
    "step_rules",
    "steps",
    "render",
    "figures",
    "teaching_plots",
    "plots",
    "report",
    "cli",
    "__init__",
    "__main__",
]


def symgrad_imports(path: Path) -> set[str]:
    """Names of symgrad modules imported anywhere in ``path`` (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "symgrad":
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "symgrad" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_module_has_a_place_in_the_pipeline() -> None:
    """A new module must be placed in ORDER, so that its layer is a decision."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules - set(ORDER) == set()


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("*.py")))
def test_imports_only_earlier_stages(module: str) -> None:
    """Each module imports symgrad modules only from earlier stages of the pipeline."""
    position = ORDER.index(module)
    imported = symgrad_imports(PACKAGE / f"{module}.py") - {"__version__"}
    later = {m for m in imported if m in ORDER and ORDER.index(m) >= position}
    assert later == set(), f"{module} imports later stages {sorted(later)}"
