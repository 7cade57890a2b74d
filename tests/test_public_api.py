"""The public namespace: sorted, complete, documented, and nothing leaks."""

from __future__ import annotations

import inspect

import symgrad

REQUIRED = {
    "Stencil",
    "finite_difference",
    "check",
    "check_gradient",
    "convergence",
    "verify_grid",
    "verify_operator",
    "analyze_stencil",
    "gci",
    "steps",
    "report",
    "parse",
    "gradient",
    "jacobian",
    "hessian",
    "derivative",
    "laplacian",
    "vector",
    "for_scipy",
    "clear_cache",
    "cache_info",
    "Compiled",
    "Status",
    "SymgradError",
    "ParseError",
    "LimitExceeded",
    "UnsupportedError",
    "InputError",
    "ConfigError",
}


def test_all_is_sorted_and_unique() -> None:
    """``symgrad.__all__`` is sorted and has no duplicates."""
    assert list(symgrad.__all__) == sorted(set(symgrad.__all__))


def test_required_names_are_public() -> None:
    """The names docs/reference/api.md documents are exported."""
    assert set(symgrad.__all__) >= REQUIRED


def test_every_public_name_exists_and_is_documented() -> None:
    """Each public name resolves and has a docstring of its own."""
    for name in symgrad.__all__:
        obj = getattr(symgrad, name)
        assert inspect.getdoc(obj), f"symgrad.{name} has no docstring"


def test_nothing_else_leaks() -> None:
    """Public-looking attributes of the package are exactly ``__all__`` plus submodules."""
    public = {n for n in dir(symgrad) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(symgrad, n))}
    assert public - modules == set(symgrad.__all__)


def test_every_public_function_has_an_example() -> None:
    """Public functions carry a runnable Examples section (run by --doctest-modules)."""
    for name in symgrad.__all__:
        obj = getattr(symgrad, name)
        if inspect.isfunction(obj):
            assert "Examples" in (inspect.getdoc(obj) or ""), f"symgrad.{name} has no Examples"
