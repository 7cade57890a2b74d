"""convergence and verify_grid on executors: results and errors identical to the serial run.

The reference of every comparison is the serial run (``executor=None``), whose values the rest
of the suite checks against closed forms; here the threads and the process pool must give the
same ``to_dict()`` bit for bit, raise the same errors, and refuse what a process pool cannot
take before any work is done.
"""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from symgrad.errors import ConfigError, LimitExceeded, ParseError


def _raise_limit() -> None:
    msg = "too many"
    raise LimitExceeded(msg, limit="grid_points", value=5, allowed=4)


def test_errors_with_keyword_attributes_cross_a_process_boundary() -> None:
    """LimitExceeded and ParseError keep their message and attributes through pickle."""
    parse = ParseError("bad text", reason="unknown_function", text="foo(x)", column=1)
    for error in (parse, ConfigError("a bad option")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert (back.args, back.__dict__) == (error.args, error.__dict__)
    with ProcessPoolExecutor(1) as pool, pytest.raises(LimitExceeded) as caught:
        pool.submit(_raise_limit).result()
    assert str(caught.value) == "too many"
    assert (caught.value.limit, caught.value.value, caught.value.allowed) == ("grid_points", 5, 4)
