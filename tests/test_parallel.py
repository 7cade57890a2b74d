"""The executor plumbing: order kept, errors passed through, bad executors refused."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from fractions import Fraction

import pytest

from symgrad._parallel import check_executor, run_pieces
from symgrad.errors import ConfigError, InputError


def _harmonic(n: int) -> Fraction:
    return sum((Fraction(1, k) for k in range(1, n + 1)), Fraction(0))


def _refuse(n: int) -> int:
    if n == 3:
        msg = "three is refused"
        raise InputError(msg)
    return n


def test_results_come_back_in_the_serial_order() -> None:
    pieces = [(n,) for n in (40, 1, 25, 7, 3)]
    serial = run_pieces(None, _harmonic, pieces)
    assert serial[1] == 1
    assert serial[3] == Fraction(363, 140)  # H_7
    with ThreadPoolExecutor(3) as pool:
        assert run_pieces(pool, _harmonic, pieces) == serial
    with ProcessPoolExecutor(2) as pool:
        assert run_pieces(pool, _harmonic, pieces) == serial


def test_an_error_in_a_piece_reaches_the_caller_unchanged() -> None:
    with ThreadPoolExecutor(2) as pool, pytest.raises(InputError, match="three is refused"):
        run_pieces(pool, _refuse, [(1,), (3,), (5,)])


def test_only_executors_are_accepted() -> None:
    assert check_executor(None) is None
    with ThreadPoolExecutor(1) as pool:
        assert check_executor(pool) is pool
    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        check_executor(4)
