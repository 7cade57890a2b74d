"""Hypothesis strategies shared by the property tests: smooth expressions and exact points."""

from __future__ import annotations

from hypothesis import strategies as st

VARIABLES = ("x", "y")


def smooth_expressions(variables: tuple[str, ...] = VARIABLES) -> st.SearchStrategy[str]:
    """Text of smooth expressions of ``variables``, with modest magnitudes on [-2, 2]^n."""
    leaves = st.sampled_from(variables) | st.sampled_from(["2", "3", "0.5", "1.25"])

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda t: f"({t[0]}) + ({t[1]})"),
            pairs.map(lambda t: f"({t[0]})*({t[1]})"),
            children.map(lambda c: f"sin({c})"),
            children.map(lambda c: f"exp(({c})/4)"),
            children.map(lambda c: f"log(1 + ({c})^2)"),
            children.map(lambda c: f"atan({c})"),
            children.map(lambda c: f"({c})^2"),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def points(variables: tuple[str, ...] = VARIABLES) -> st.SearchStrategy[str]:
    """Exact decimal points in [-2, 2]^n, as the text the CLI takes: ``"x=0.37, y=-1.2"``."""
    coordinate = st.integers(-200, 200).map(lambda k: f"{k / 100:.2f}")
    return st.tuples(*(coordinate for _ in variables)).map(
        lambda values: ", ".join(f"{n}={v}" for n, v in zip(variables, values, strict=True))
    )
