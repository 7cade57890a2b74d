"""The one domain grammar: ``NAME=LOW:HIGH`` items or a mapping, bounds rounded once to float."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from symgrad.errors import ConfigError, InputError
from symgrad.expr import parse_domain


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("x=-2:2, y=0:1/2", {"x": (-2.0, 2.0), "y": (0.0, 0.5)}),
        ("t = 0 : 2*pi", {"t": (0.0, 2 * math.pi)}),
        ("x=-pi/2:pi/2", {"x": (-math.pi / 2, math.pi / 2)}),
        ("a=0.1:0.3", {"a": (float(Fraction(1, 10)), float(Fraction(3, 10)))}),
        ({"x": (-2, 2), "y": "0:0.5"}, {"x": (-2.0, 2.0), "y": (0.0, 0.5)}),
        ({"x": (0.25, Fraction(3, 4))}, {"x": (0.25, 0.75)}),
    ],
)
def test_domains_read_exactly(spec: Any, expected: dict[str, tuple[float, float]]) -> None:
    """Text and mappings give the bounds an exact computation rounds once, in the given order."""
    box = parse_domain(spec)
    assert box == expected
    assert list(box) == list(expected)


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        ("x=1", ConfigError, "NAME=LOW:HIGH"),
        ("x:1", ConfigError, "NAME=LOW:HIGH"),
        ("", ConfigError, "NAME=LOW:HIGH"),
        ("x=2:1", ConfigError, "LOW < HIGH"),
        ("x=0:1,x=2:3", ConfigError, "distinct"),
        ("x=a:b", ConfigError, "finite constants"),
        ("x=0:2*y", ConfigError, "finite constants"),
        ("x=0:oo", ConfigError, "not a constant"),
        ("x=0:1e999", ConfigError, "not a constant"),
        ({"x": (1,)}, ConfigError, "(low, high)"),
        ({"x": (0, math.inf)}, ConfigError, "finite"),
        ({"x": (True, 2)}, InputError, "numbers"),
        (42, InputError, "mapping"),
    ],
)
def test_bad_domains_are_one_clear_error(spec: Any, error: type[Exception], words: str) -> None:
    """Every malformed domain is a ConfigError (content) or InputError (type), on one line."""
    with pytest.raises(error) as info:
        parse_domain(spec)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_names_must_be_among_the_variables() -> None:
    assert parse_domain("y=0:1", variables="x y") == {"y": (0.0, 1.0)}
    with pytest.raises(ConfigError, match="not among the variables"):
        parse_domain("z=0:1", variables="x y")
