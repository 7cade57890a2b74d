"""Shared test configuration: headless plotting and a guard on mpmath's global context."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import mpmath
import pytest

# Plots render headlessly, here and in the subprocesses that run the examples.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _mpmath_global_untouched() -> Iterator[None]:
    """Every test leaves mpmath.mp exactly as it found it (precision is a parameter)."""
    before = (mpmath.mp.prec, mpmath.mp.dps)
    yield
    assert (mpmath.mp.prec, mpmath.mp.dps) == before, "symgrad changed mpmath.mp"


@pytest.fixture(autouse=True)
def _fresh_compiled_cache() -> None:
    """Every test starts with an empty cache of compiled results (symgrad.derive.clear_cache):
    a test that hides an extra (SciPy) or patches a cap sees its own job built."""
    derive = sys.modules.get("symgrad.derive")  # not imported here: CLI start-up tests
    if derive is not None:
        derive.clear_cache()
