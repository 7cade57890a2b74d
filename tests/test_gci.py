"""Tests for symgrad.gci: the Grid Convergence Index of Celik et al. (2008).

Oracles, in order of authority:

* closed forms: data built as ``φ_i = φ_exact + C h_i^p`` exactly, for which the procedure must
  return ``p`` and ``φ_exact`` themselves (a derivation check), and Roache's identities;
* Celik et al. (2008), Table 1, first column, as transcribed by the pyGCS project
  (its README uses that column): inputs and the values it prints;
* an independent implementation, oscar-monsalve/GCI (README, "Examples"), run on the inputs of
  Celik's Table 1 (first and third columns), to the four decimals it prints.

The primary Table 1 is not reproduced here, so no number here is claimed
as printed in the paper itself; see the provenance note on each table below.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import json
import math
import random
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad.cli import main
from symgrad.errors import CheckFailed, ConfigError, InputError, LimitExceeded, SymgradError
from symgrad.grids import GCIResult, gci
from symgrad.results import Status

# Tolerances, one table: closed-form references are exact up to float64 rounding of the inputs.
RTOL_CLOSED_FORM = 1e-12  # p, φ_ext and the indices for φ = φ_exact + C h^p
RTOL_PROPERTY = 1e-8  # p recovered from random power-law data (Hypothesis)

DESIGN_KEYS = {"p", "extrapolated", "e_a", "e_ext", "gci_fine", "gci_coarse", "oscillatory"}

# Celik et al. (2008), Table 1, column 1 (2-D, dimensionless reattachment length), inputs and
# outputs as printed in tomrobin-teschner/pyGCS README.md at commit 04e28c3b ("# order = 1.53",
# "# extrapolated value = 6.1685", "# GCI_21 = 2.17%", "# GCI_32 = 4.11%", "# asymptotic GCI =
# 1.015"); its tests/test_GCI.py asserts the same bands.
CELIK_1_CELLS = (18000, 8000, 4500)
CELIK_1_VALUES = (6.063, 5.972, 5.863)
PYGCS_PRINTED = [
    ("p", 1.0, "1.53"),
    ("extrapolated", 1.0, "6.1685"),
    ("gci_fine", 100.0, "2.17"),  # percent
    ("gci_fine32", 100.0, "4.11"),  # percent; pyGCS's GCI_32
    ("asymptotic_ratio", 1.0, "1.015"),
]

# oscar-monsalve/GCI README at commit 15480d90, "Examples" 1 and 2: its table for the inputs of Celik's Table 1,
# columns 1 (monotone) and 3 (oscillatory; cells 18000, 4500, 980).  Percent rows are in percent.
# Its "Asymptotic_range" row is (r21^p GCI_21)/GCI_32, the reciprocal of our asymptotic_ratio.
MONSALVE = {
    "monotone": (
        CELIK_1_VALUES,
        CELIK_1_CELLS,
        {"r21": "1.5000", "r32": "1.3333", "p": "1.5340", "extrapolated": "6.1685",
         "e_a%": "1.5009", "e_ext%": "1.7102", "gci_fine%": "2.1750", "gci_fine32%": "4.1129",
         "1/asymptotic_ratio": "0.9850"},
    ),
    "oscillatory": (
        (6.0042, 5.9624, 6.0909),
        (18000, 4500, 980),
        {"r21": "2.0000", "r32": "2.1429", "p": "1.5077", "extrapolated": "6.0269",
         "e_a%": "0.6962", "e_ext%": "0.3762", "gci_fine%": "0.4720", "gci_fine32%": "1.2499",
         "1/asymptotic_ratio": "1.0739"},
    ),
}  # fmt: skip


def printed(value: float, text: str) -> bool:
    """True when ``value`` rounds to ``text`` at the number of decimals ``text`` shows."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{value:.{decimals}f}" == text


def power_law(phi_exact: float, c: float, p: float, h: tuple[float, ...]) -> list[float]:
    """Solutions ``φ_i = φ_exact + C h_i^p``: the closed-form reference."""
    return [phi_exact + c * x**p for x in h]


# --- published worked example and an independent implementation --------------------------------


@pytest.mark.parametrize(
    ("field", "scale", "text"), PYGCS_PRINTED, ids=[r[0] for r in PYGCS_PRINTED]
)
def test_celik_table1_column1_as_printed_by_pygcs(field: str, scale: float, text: str) -> None:
    """Celik's Table 1 first column reproduces pyGCS's printed p, φ_ext, GCI_21, GCI_32, ratio."""
    res = gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)
    assert printed(scale * getattr(res, field), text)


def test_celik_table1_column1_verdict_and_ratios() -> None:
    """The first column converges monotonically, passes, and has r21 = 3/2, r32 = 4/3 exactly."""
    res = gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)
    assert res.status is Status.PASS
    assert (res.convergence, res.oscillatory) == ("monotone", False)
    assert res.r21 == pytest.approx(1.5, rel=1e-15, abs=0)
    assert res.r32 == pytest.approx(4 / 3, rel=1e-15, abs=0)
    assert res.iterations > 0  # r21 != r32: Celik's fixed-point iteration ran


@pytest.mark.parametrize("case", sorted(MONSALVE))
def test_celik_table1_inputs_match_independent_implementation(case: str) -> None:
    """Every row oscar-monsalve/GCI prints for Celik's inputs agrees to its four decimals."""
    values, cells, table = MONSALVE[case]
    res = gci(values, cells=cells, dim=2)
    ours = {
        "r21": res.r21, "r32": res.r32, "p": res.p, "extrapolated": res.extrapolated,
        "e_a%": 100 * res.e_a, "e_ext%": 100 * res.e_ext, "gci_fine%": 100 * res.gci_fine,
        "gci_fine32%": 100 * res.gci_fine32, "1/asymptotic_ratio": 1 / res.asymptotic_ratio,
    }  # fmt: skip
    assert {k: v for k, v in table.items() if not printed(ours[k], v)} == {}


def test_celik_table1_oscillatory_column_is_inconclusive() -> None:
    """Celik's oscillatory column (ε32/ε21 < 0) is flagged oscillatory and inconclusive."""
    values, cells, _ = MONSALVE["oscillatory"]
    res = gci(values, cells=cells, dim=2)
    assert res.oscillatory is True
    assert res.status is Status.INCONCLUSIVE
    assert "oscillatory" in res.reason


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_input_order_does_not_matter(seed: int) -> None:
    """Values given coarse-first or shuffled, paired with their cells, give the same result."""
    pairs = list(zip(CELIK_1_VALUES, CELIK_1_CELLS, strict=True))
    random.Random(seed).shuffle(pairs)
    shuffled = gci([v for v, _ in pairs], cells=[n for _, n in pairs], dim=2)
    assert shuffled == gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)
    assert shuffled.values == CELIK_1_VALUES  # reported fine to coarse


# --- closed-form references ----------------------------------------------------------------------

SYNTHETIC = [  # (h, p, C, φ_exact): non-constant ratios, one where the fixed point cannot contract
    ((1.0, 1.5, 2.4), 2.0, 0.25, 1.0),
    ((1.0, 1.5, 2.4), 2.0, -3.0, 0.5),
    ((1.0, 1.3, 3.9), 2.0, 0.25, 1.0),
    ((1.0, 3.0, 3.9), 2.0, 0.25, 1.0),  # ε21 > ε32 although converging: r21 >> r32
    ((0.5, 1.5, 1.95), 1.0, 1.0, 2.0),
]


@pytest.mark.parametrize(("h", "p", "c", "phi_exact"), SYNTHETIC)
def test_power_law_recovers_order_and_limit(
    h: tuple[float, ...], p: float, c: float, phi_exact: float
) -> None:
    """For φ_i = φ_exact + C h_i^p exactly, p and φ_ext equal p and φ_exact to 1e-12."""
    res = gci(power_law(phi_exact, c, p, h), spacing=h)
    assert res.status is Status.PASS
    assert res.p == pytest.approx(p, rel=RTOL_CLOSED_FORM, abs=0)
    assert res.extrapolated == pytest.approx(phi_exact, rel=RTOL_CLOSED_FORM, abs=0)


@pytest.mark.parametrize(("h", "p", "c", "phi_exact"), SYNTHETIC)
def test_power_law_indices_have_closed_forms(
    h: tuple[float, ...], p: float, c: float, phi_exact: float
) -> None:
    """Power law: GCI_fine |φ1|/Fs = |C| h1^p, e_ext = |C h1^p/φ_exact|, coarse = r^p fine."""
    phi = power_law(phi_exact, c, p, h)
    res = gci(phi, spacing=h, safety_factor=1.25)
    error1 = abs(c) * h[0] ** p  # |φ1 - φ_exact|
    assert res.gci_fine * abs(phi[0]) / 1.25 == pytest.approx(error1, rel=RTOL_CLOSED_FORM, abs=0)
    assert res.e_ext == pytest.approx(error1 / abs(phi_exact), rel=RTOL_CLOSED_FORM, abs=0)
    assert res.e_a == pytest.approx(abs((phi[0] - phi[1]) / phi[0]), rel=1e-15, abs=0)
    ratio = res.gci_coarse / res.gci_fine
    assert ratio == pytest.approx((h[1] / h[0]) ** p, rel=RTOL_CLOSED_FORM, abs=0)


@pytest.mark.parametrize(("h", "p", "c", "phi_exact"), SYNTHETIC)
def test_three_grid_asymptotic_ratio_is_phi1_over_phi2(
    h: tuple[float, ...], p: float, c: float, phi_exact: float
) -> None:
    """With three monotone grids Roache's ratio is φ1/φ2 identically."""
    phi = power_law(phi_exact, c, p, h)
    res = gci(phi, spacing=h)
    assert res.asymptotic_ratio == pytest.approx(phi[0] / phi[1], rel=RTOL_CLOSED_FORM, abs=0)
    assert res.asymptotic_range is None  # not testable independently with three grids


def test_bisection_fallback_when_the_iteration_cannot_contract() -> None:
    """For r21 = 1.3, r32 = 3 Celik's iteration diverges; the fallback still finds p = 2."""
    h = (1.0, 1.3, 3.9)
    res = gci(power_law(1.0, 0.25, 2.0, h), spacing=h)
    assert res.iterations == -1
    assert res.p == pytest.approx(2.0, rel=RTOL_CLOSED_FORM, abs=0)


def test_order_solves_the_power_law_equation_from_a_singular_start() -> None:
    """ε32 = ε21 with r21 > r32 (start p = 0, where q is 0/0): p still solves eq. (3a)-(3b)."""
    res = gci([10.0, 11.0, 12.0], spacing=[1.0, 2.0, 2.5])
    r21, r32, p = res.r21, res.r32, res.p
    assert res.status is Status.PASS
    assert r21**p * (r32**p - 1) / (r21**p - 1) == pytest.approx(1.0, rel=RTOL_CLOSED_FORM, abs=0)


def test_constant_ratio_matches_roache_and_aitken_closed_forms() -> None:
    """Constant r: p = ln(ε32/ε21)/ln r, φ_ext = f1 - ε21²/(f3 - 2f2 + f1)."""
    f = (0.4, 0.43, 0.5)
    res = gci(f, spacing=(0.1, 0.2, 0.4))
    p = math.log((f[2] - f[1]) / (f[1] - f[0])) / math.log(2)
    aitken = f[0] - (f[1] - f[0]) ** 2 / (f[2] - 2 * f[1] + f[0])
    assert res.iterations == 0  # q(p) = 0: no iteration needed
    assert res.p == pytest.approx(p, rel=RTOL_CLOSED_FORM, abs=0)
    assert res.extrapolated == pytest.approx(aitken, rel=RTOL_CLOSED_FORM, abs=0)


def test_cell_counts_give_exact_ratios() -> None:
    """Ratios come from the counts, h ∝ N^(-1/dim): 3-D counts 8000, 1000, 125 give r = 2, 2."""
    h = (1.0, 2.0, 4.0)
    res = gci(power_law(3.0, 0.5, 2.0, h), cells=(8000, 1000, 125), dim=3)
    assert res.r21 == pytest.approx(2.0, rel=1e-15, abs=0)
    assert res.r32 == pytest.approx(2.0, rel=1e-15, abs=0)
    assert res.p == pytest.approx(2.0, rel=RTOL_CLOSED_FORM, abs=0)
    assert res.cells == (8000, 1000, 125)


# --- verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "spacing", "status", "convergence"),
    [
        ((1.0, 1.1, 0.8), (1.0, 2.0, 4.0), Status.INCONCLUSIVE, "oscillatory"),
        ((2.5, 2.5, 2.5), (1.0, 2.0, 4.0), Status.EXACT, "exact"),
        ((1.0, 1.0 + 2**-52, 1.0), (1.0, 2.0, 4.0), Status.EXACT, "exact"),
        ((1.0, 1.5, 1.6), (1.0, 2.0, 4.0), Status.FAIL, "divergent"),
        ((1.0, 0.5, 0.8), (1.0, 2.0, 4.0), Status.FAIL, "oscillatory-divergent"),
        ((1.0, 1.0, 1.2), (1.0, 2.0, 4.0), Status.INCONCLUSIVE, "stagnant"),
        ((1.0, 1.2, 1.2), (1.0, 2.0, 4.0), Status.INCONCLUSIVE, "stagnant"),
    ],
    ids=["oscillatory", "equal", "equal-to-rounding", "divergent", "osc-divergent",
         "stagnant-fine", "stagnant-coarse"],
)  # fmt: skip
def test_convergence_kinds_and_verdicts(
    values: tuple[float, ...], spacing: tuple[float, ...], status: Status, convergence: str
) -> None:
    """Each kind of behaviour gets its verdict and a reason, never an exception or a crash."""
    res = gci(values, spacing=spacing)
    assert (res.status, res.convergence) == (status, convergence)
    assert res.oscillatory is convergence.startswith("oscillatory")
    assert res.reason.endswith(".")
    assert res.reason.count(". ") == 0  # one sentence


def test_exact_solutions_report_zero_uncertainty() -> None:
    """Equal solutions: p undefined (null in JSON), φ_ext = φ1 and every GCI exactly 0."""
    res = gci([2.5, 2.5, 2.5], cells=[400, 100, 25], dim=2)
    assert math.isnan(res.p)
    assert (res.extrapolated, res.gci_fine, res.gci_coarse, res.e_ext) == (2.5, 0.0, 0.0, 0.0)
    assert res.to_dict()["p"] is None
    assert res.ok


def test_divergence_with_non_constant_ratios_fails() -> None:
    """Errors growing as h shrinks (φ = 1 + h^-0.5, r21 = 1.3, r32 = 3) are a fail."""
    h = (1.0, 1.3, 3.9)
    res = gci(power_law(1.0, 1.0, -0.5, h), spacing=h)
    assert res.status is Status.FAIL
    assert math.isnan(res.p)


def test_unsolvable_apparent_order_is_inconclusive() -> None:
    """An oscillatory triplet whose eq. (3a) has no root in (0, 64] reports that, p = NaN."""
    res = gci([10.0, 11.0, 6.0], spacing=[1.0, 1.5, 9.0])
    assert res.status is Status.INCONCLUSIVE
    assert math.isnan(res.p)
    assert "no root" in res.reason


@pytest.mark.parametrize("p", [0.2, 10.0])
def test_implausible_order_is_inconclusive(p: float) -> None:
    """An apparent order outside order_range (default [0.5, 8]) is inconclusive, not pass."""
    h = (1.0, 1.5, 2.25)
    res = gci(power_law(1.0, 0.01, p, h), spacing=h)
    assert res.p == pytest.approx(p, rel=1e-9, abs=0)
    assert res.status is Status.INCONCLUSIVE
    assert "outside" in res.reason


def test_small_refinement_ratio_warns_in_reason() -> None:
    """r < 1.3 is not an error; the reason names it and Celik's recommended minimum."""
    h = (1.0, 1.2, 1.44)
    res = gci(power_law(1.0, 0.5, 2.0, h), spacing=h)
    assert res.status is Status.PASS
    assert "1.2 < 1.3" in res.reason


# --- four or more grids --------------------------------------------------------------------------


def test_four_grids_in_asymptotic_range_pass() -> None:
    """A power law on four grids: equal orders per triplet, range confirmed, pass."""
    h = (1.0, 1.4, 2.1, 3.0)
    phi = power_law(1.0, 0.3, 2.0, h)
    res = gci(phi, spacing=h)
    assert res.status is Status.PASS
    assert res.asymptotic_range is True
    assert res.p_triplets == pytest.approx((2.0, 2.0), rel=RTOL_CLOSED_FORM, abs=0)
    # With equal orders Roache's ratio is again φ1/φ2.
    assert res.asymptotic_ratio == pytest.approx(phi[0] / phi[1], rel=RTOL_CLOSED_FORM, abs=0)


def test_four_grids_outside_asymptotic_range_are_inconclusive() -> None:
    """φ = 1 + h + 2h^3: p drifts from about 1.45 to 2.05 between triplets, so inconclusive."""
    h = (0.1, 0.2, 0.4, 0.8)
    phi = [1.0 + x + 2.0 * x**3 for x in h]
    res = gci(phi, spacing=h)
    assert res.asymptotic_range is False
    assert res.status is Status.INCONCLUSIVE
    assert "asymptotic range" in res.reason
    assert res.p_triplets[1] > res.p_triplets[0]


def test_four_grids_with_coarse_oscillation_are_inconclusive() -> None:
    """If a coarser triplet oscillates the asymptotic range is not shown."""
    h = (1.0, 2.0, 4.0, 8.0)
    phi = [*power_law(1.0, 0.1, 2.0, h[:3]), 0.0]
    res = gci(phi, spacing=h)
    assert res.convergence == "monotone"
    assert res.asymptotic_range is False
    assert res.status is Status.INCONCLUSIVE


# --- input validation ----------------------------------------------------------------------------

V3 = (1.0, 2.0, 3.0)
GOOD = {"spacing": (1.0, 2.0, 4.0)}
CELLS = {"cells": (400, 100, 25), "dim": 2}
INVALID = [  # (id, values, keyword arguments, error, fragment of the message)
    ("two-values", (1.0, 2.0), {"spacing": (1.0, 2.0)}, ConfigError, "values: need"),
    ("both", V3, {**GOOD, **CELLS}, ConfigError, "both"),
    ("neither", V3, {}, ConfigError, "neither"),
    ("dim-with-spacing", V3, {**GOOD, "dim": 2}, ConfigError, "dim with spacing"),
    ("cells-no-dim", V3, {"cells": (400, 100, 25)}, ConfigError, "dim:"),
    ("dim-zero", V3, {**CELLS, "dim": 0}, ConfigError, "dim:"),
    ("dim-float", V3, {**CELLS, "dim": 2.0}, ConfigError, "dim:"),
    ("dim-bool", V3, {**CELLS, "dim": True}, ConfigError, "dim:"),
    ("lengths", V3, {"spacing": (1.0, 2.0, 4.0, 8.0)}, ConfigError, "spacing: need"),
    ("nan-value", (1.0, math.nan, 3.0), GOOD, ConfigError, "values[1]"),
    ("inf-spacing", V3, {"spacing": (1.0, math.inf, 4.0)}, ConfigError, "spacing[1]"),
    ("huge-int", (1.0, 2.0, 10**400), GOOD, ConfigError, "values[2]"),
    (
        "zero-spacing",
        V3,
        {"spacing": (0.0, 2.0, 4.0)},
        ConfigError,
        "spacing[0]: must be finite and > 0",
    ),
    ("negative-cells", V3, {**CELLS, "cells": (400, -100, 25)}, ConfigError, "cells[1]"),
    ("fractional-cells", V3, {**CELLS, "cells": (400, 100.5, 25)}, ConfigError, "whole"),
    ("same-size", V3, {"spacing": (1.0, 2.0, 1.0)}, ConfigError, "same size"),
    ("fs-zero", V3, {**GOOD, "safety_factor": 0.0}, ConfigError, "safety_factor"),
    ("fs-nan", V3, {**GOOD, "safety_factor": math.nan}, ConfigError, "safety_factor"),
    ("order-range", V3, {**GOOD, "order_range": (2.0, 1.0)}, ConfigError, "order_range"),
    ("tol", V3, {**GOOD, "asymptotic_tol": -0.1}, ConfigError, "asymptotic_tol"),
    ("text-values", "1,2,3", GOOD, InputError, "values: must be a sequence"),
    ("text-entry", (1.0, "2", 3.0), GOOD, InputError, "values[1]"),
    ("bool-entry", (1.0, True, 3.0), GOOD, InputError, "values[1]"),
    ("none-entry", (1.0, None, 3.0), GOOD, InputError, "values[1]"),
    ("scalar", 3.0, GOOD, InputError, "values"),
]


@pytest.mark.parametrize(
    ("values", "kwargs", "error", "fragment"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_bad_input_raises_a_clear_error(
    values: object, kwargs: dict[str, object], error: type[Exception], fragment: str
) -> None:
    """Bad input raises ConfigError/InputError naming the parameter and what was received."""
    with pytest.raises(error) as info:
        gci(values, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError if error is ConfigError else TypeError)


def test_numpy_inputs_are_accepted() -> None:
    """NumPy arrays and scalars work like lists of floats and ints."""
    res = gci(np.array(CELIK_1_VALUES), cells=np.array(CELIK_1_CELLS), dim=np.int64(2))
    assert res == gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)


# --- the result object ---------------------------------------------------------------------------


def test_json_has_design_keys_fractions_and_no_nan() -> None:
    """to_dict has the documented keys; relative quantities are fractions; JSON has no NaN."""
    res = gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)
    data = res.to_dict()
    assert DESIGN_KEYS | {"status", "reason"} <= set(data)
    assert data["status"] == "pass"
    assert 0.02 < data["gci_fine"] < 0.03  # 2.17 %, as a fraction
    stagnant = gci([1.0, 1.0, 1.2], spacing=[1.0, 2.0, 4.0]).to_json()
    parsed = json.loads(stagnant, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert parsed["p"] is None
    assert parsed["extrapolated"] is None


def test_text_and_markdown_renderings() -> None:
    """The text table and the Markdown table show the grids, p, φ_ext, GCI and the verdict."""
    res = gci([1.0, 1.2, 1.4, 1.9], spacing=[1.0, 2.0, 4.0, 8.0])
    text, markdown = res.to_text(), res.to_markdown()
    for piece in ("apparent order p", "GCI_fine^21", "p per triplet", str(res.status)):
        assert piece in text
    assert markdown.startswith(f"**{res.status}**")
    assert "| quantity | value |" in markdown
    assert res._repr_mimebundle_()["text/markdown"] == markdown


def test_result_is_frozen_and_raise_if_failed_follows_status() -> None:
    """The result is immutable; raise_if_failed returns a pass and raises on inconclusive."""
    good = gci(CELIK_1_VALUES, cells=CELIK_1_CELLS, dim=2)
    assert good.raise_if_failed() is good
    with pytest.raises(dataclasses.FrozenInstanceError):
        good.p = 2.0  # type: ignore[misc]
    oscillating = gci([1.0, 1.1, 0.8], spacing=[1.0, 2.0, 4.0])
    with pytest.raises(CheckFailed, match="oscillatory"):
        oscillating.raise_if_failed()
    assert isinstance(good, GCIResult)


def test_docstring_examples_run() -> None:
    """The Examples in symgrad.gci's docstrings run and print what they show."""
    # the package exports the function gci, which shadows the module attribute symgrad.gci
    module = importlib.import_module("symgrad.grids._gci")
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0
    assert outcome.failed == 0


# --- properties ----------------------------------------------------------------------------------

ratios = st.floats(min_value=1.3, max_value=3.0)
nonzero_c = st.floats(min_value=0.1, max_value=10.0) | st.floats(min_value=-10.0, max_value=-0.1)


@settings(max_examples=300, deadline=None)
@given(
    p=st.floats(min_value=0.5, max_value=4.0),
    h1=st.floats(min_value=0.5, max_value=2.0),
    r21=ratios,
    r32=ratios,
    phi_exact=st.floats(min_value=-10.0, max_value=10.0),
    c=nonzero_c,
)
def test_property_power_law_order_recovered(
    p: float, h1: float, r21: float, r32: float, phi_exact: float, c: float
) -> None:
    """For random p in [0.5, 4], ratios in [1.3, 3], φ_exact and C != 0, p comes back to 1e-8."""
    h = (h1, h1 * r21, h1 * r21 * r32)
    res = gci(power_law(phi_exact, c, p, h), spacing=h)
    assert res.convergence == "monotone"
    assert res.p == pytest.approx(p, rel=RTOL_PROPERTY, abs=0)
    scale = max(abs(phi_exact), abs(c) * h[2] ** p)
    assert abs(res.extrapolated - phi_exact) <= RTOL_PROPERTY * scale
    if p >= 0.5 + 1e-6:
        assert res.status is Status.PASS


@settings(max_examples=100, deadline=None)
@given(p=st.floats(min_value=0.5, max_value=4.0), rs=st.lists(ratios, min_size=3, max_size=3))
def test_property_four_grid_power_law_confirms_range(p: float, rs: list[float]) -> None:
    """Four grids of an exact power law always confirm the asymptotic range."""
    h = (1.0, rs[0], rs[0] * rs[1], rs[0] * rs[1] * rs[2])
    res = gci(power_law(2.0, 0.5, p, h), spacing=h)
    assert res.asymptotic_range is True
    assert res.p_triplets == pytest.approx((p, p), rel=RTOL_PROPERTY, abs=0)


# --- digits near convergence and bands relative to zero ------------------------------------------


def celik_at_60_digits(phi: list[float], h: list[float], p_start: float) -> dict[str, float]:
    """Celik's steps 3-5 at 60 digits on the same float inputs, in a private mpmath context."""
    ctx = mpmath.MPContext()
    ctx.dps = 60
    f1, f2, f3 = (ctx.mpf(v) for v in phi)
    r21, r32 = ctx.mpf(h[1]) / ctx.mpf(h[0]), ctx.mpf(h[2]) / ctx.mpf(h[1])
    ratio = (f3 - f2) / (f2 - f1)
    p = ctx.findroot(lambda q: r21**q * (r32**q - 1) / (r21**q - 1) - ratio, p_start)
    ext = (r21**p * f1 - f2) / (r21**p - 1)
    e_a = abs((f1 - f2) / f1)
    return {
        "p": float(p),
        "extrapolated": float(ext),
        "e_ext": float(abs((ext - f1) / ext)),
        "gci_fine": float(ctx.mpf("1.25") * e_a / (r21**p - 1)),
    }


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    p=st.floats(min_value=0.8, max_value=4.0),
    r21=ratios,
    r32=ratios,
    exponent=st.integers(min_value=-15, max_value=-6),
    c=nonzero_c,
)
def test_property_converged_sequences_keep_the_digits_of_e_ext(
    p: float, r21: float, r32: float, exponent: int, c: float
) -> None:
    """φ = 1 + C·10^k·h^p with 10^k down to 1e-15: φ agrees with φ_ext to 1e-15 and e_ext,
    GCI_fine and φ_ext still equal Celik's formulas at 60 digits to 1e-9 (no cancellation);
    where a difference is zero to rounding no p is claimed and the result is inconclusive."""
    h = [1.0, r21, r21 * r32]
    phi = [1 + c * 10.0**exponent * v**p for v in h]
    # differences of a few ulps carry rounding, not the order p (they may even round to 0):
    # the property is about sequences whose differences float64 holds to 1/32 or better
    assume(min(abs(phi[1] - phi[0]), abs(phi[2] - phi[1])) > 32 * 2.0**-52)
    want = celik_at_60_digits(phi, h, p)
    res = gci(phi, spacing=h)
    if not math.isfinite(res.p):  # differences of a few ulps are zero to rounding: no p claimed
        assert res.status is Status.INCONCLUSIVE, res.reason
        return
    for key, value in want.items():
        assert getattr(res, key) == pytest.approx(value, rel=1e-9, abs=0), key


def test_e_ext_of_a_sequence_converged_to_1e_14_has_its_digits() -> None:
    """φ_i = 1 + 4^i·1e-14 on h = 1, 2, 4: e_ext = 9.96740e-15 (Celik at 60 digits), where
    (φ_ext - φ1)/φ_ext by subtraction of floats gives 9.99201e-15."""
    phi, h = [1 + 1e-14, 1 + 4e-14, 1 + 16e-14], [1.0, 2.0, 4.0]
    res = gci(phi, spacing=h)
    assert res.e_ext == pytest.approx(celik_at_60_digits(phi, h, 2.0)["e_ext"], rel=1e-9, abs=0)
    assert f"{res.e_ext:.5e}" == "9.96740e-15"


def test_zero_finest_value_has_no_relative_band_and_is_inconclusive() -> None:
    """φ = 0, 0.1, 0.5 on h = 1, 2, 4: p = 2 (ε32/ε21 = 4), e_a = |0.1/0| undefined, so no
    relative band; the reason gives the absolute band 1.25·0.1/(2² - 1) = 0.0416667."""
    res = gci([0.0, 0.1, 0.5], spacing=[1.0, 2.0, 4.0])
    assert res.status is Status.INCONCLUSIVE
    assert res.p == pytest.approx(2.0, rel=1e-15, abs=0)
    assert "0.0416667" in res.reason
    assert "φ1 = 0 " in res.reason
    data = res.to_dict()
    assert (data["e_a"], data["gci_fine"], data["asymptotic_ratio"]) == (None, None, None)
    assert res.extrapolated == pytest.approx(-0.1 / 3, rel=1e-15, abs=0)


def test_zero_finest_value_on_four_grids_is_inconclusive() -> None:
    """Four grids of φ = 0.1 (h^2 - 1) at h = 1, 2, 4, 8: asymptotic range confirmed, no band."""
    h = [1.0, 2.0, 4.0, 8.0]
    res = gci([0.1 * (v * v - 1) for v in h], spacing=h)
    assert res.asymptotic_range is True
    assert res.status is Status.INCONCLUSIVE
    assert math.isnan(res.asymptotic_ratio)  # its denominator GCI_fine^21 is undefined
    assert "0.125" in res.reason  # 1.25·|0 - 0.3|/(2² - 1)


def test_a_band_beyond_float_range_is_inconclusive_and_a_finite_one_passes() -> None:
    """φ1 = 1e-320: e_a = 0.1/1e-320 overflows, no finite band; φ1 = 1e-300: GCI_fine is
    1.25·(0.1 - 1e-300)/1e-300/3 = 4.1667e298, a finite band (±0.0417 absolute): pass."""
    tiny = gci([1e-320, 0.1, 0.5], spacing=[1.0, 2.0, 4.0])
    assert tiny.status is Status.INCONCLUSIVE
    assert "0.0416667" in tiny.reason
    small = gci([1e-300, 0.1, 0.5], spacing=[1.0, 2.0, 4.0])
    assert small.status is Status.PASS
    assert small.gci_fine * 1e-300 == pytest.approx(0.125 / 3, rel=1e-12, abs=0)


def test_cli_exit_code_of_a_zero_finest_value_is_one(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line follows the verdict: inconclusive, exit code 1."""
    code = main(["gci", "--values", "0,0.1,0.5", "--spacing", "1,2,4", "--format", "json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "inconclusive"


# --- the change between grids that stays the same, the grid cap, refused values ----------------


def _ctx(dps: int = 60) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


@pytest.mark.parametrize(
    ("values", "spacing", "convergence"),
    [
        ((1.0, 2.0, 3.0), (1.0, 2.0, 4.0), "constant"),
        ((1.0, 2.0, 1.0), (1.0, 2.0, 4.0), "oscillatory-constant"),
        ((5.0, 4.0, 3.0), (0.1, 0.2, 0.4), "constant"),
    ],
)
def test_equal_differences_at_one_ratio_are_a_constant_change_not_a_divergence(
    values: tuple[float, ...], spacing: tuple[float, ...], convergence: str
) -> None:
    """|ε32| = |ε21| with r21 = r32: p = 0 exactly (ε32/ε21 = ln r32/ln r21 = 1)."""
    res = gci(values, spacing=spacing)
    assert (res.status, res.convergence, res.p) == (Status.INCONCLUSIVE, convergence, 0.0)
    assert "stays the same" in res.reason
    assert "grows" not in res.reason
    assert math.isnan(res.extrapolated)
    assert math.isnan(res.gci_fine)


def test_a_constant_change_per_unit_of_ln_h_with_unequal_ratios_is_p_zero() -> None:
    """φ = 7 - 3 ln h on h = 1, 2, 3 (the p -> 0 limit of a power law): ε32/ε21 = ln 1.5/ln 2,
    computed here at 60 digits; a change a little faster than that is a divergence."""
    ctx = _ctx()
    h = (1.0, 2.0, 3.0)
    phi = [float(7 - 3 * ctx.log(x)) for x in h]
    res = gci(phi, spacing=h)
    assert (res.status, res.convergence) == (Status.INCONCLUSIVE, "constant")
    assert float(ctx.log(1.5) / ctx.log(2)) == pytest.approx(
        (phi[2] - phi[1]) / (phi[1] - phi[0]), rel=1e-14
    )
    growing = [phi[0], phi[1], phi[1] + 0.9 * (phi[2] - phi[1])]  # ε32/ε21 below ln 1.5/ln 2
    assert gci(growing, spacing=h).status is Status.FAIL


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=-100.0, max_value=100.0),
    b=st.floats(min_value=0.01, max_value=10.0) | st.floats(min_value=-10.0, max_value=-0.01),
    p=st.floats(min_value=-2.0, max_value=3.0),
    r=st.lists(st.floats(min_value=1.3, max_value=3.0), min_size=2, max_size=2),
)
def test_property_the_verdict_follows_the_sign_of_the_order(
    a: float, b: float, p: float, r: list[float]
) -> None:
    """φ = a + b h^p (p != 0) or a + b ln h (p = 0), evaluated at 60 digits: a growing change
    (p < 0) never passes, a constant one (p = 0) is never called divergent, a vanishing one
    (p >= 0.5) is never a fail.  The sequence itself is the oracle."""
    ctx = _ctx()
    h = [ctx.mpf(1) / 10, ctx.mpf(r[0]) / 10, ctx.mpf(r[0]) * ctx.mpf(r[1]) / 10]
    if abs(p) < 0.05:
        p = 0.0
    phi = [float(a + b * (ctx.log(x) if p == 0 else x**p)) for x in h]
    if len(set(phi)) < 3 or min(abs(phi[1] - phi[0]), abs(phi[2] - phi[1])) < 1e-9 * max(
        1.0, *map(abs, phi)
    ):
        return  # differences at the rounding of the values: a different question
    res = gci(phi, spacing=[float(x) for x in h])
    if p < -0.05:
        assert res.status is not Status.PASS, res.reason
    if p == 0:
        assert res.convergence == "constant", res.reason
        assert res.status is Status.INCONCLUSIVE
    if p >= 0.5:
        assert res.status is not Status.FAIL, res.reason
        assert res.convergence == "monotone"


def test_more_grids_than_the_cap_are_refused_before_any_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20,000 grids: LimitExceeded naming the count, with no entry converted and no triplet solved."""
    import symgrad.grids._gci as module

    calls: list[str] = []
    real, triplet = module._real, module._triplet

    def counted_real(*args: Any, **kwargs: Any) -> float:
        calls.append("real")
        return real(*args, **kwargs)

    def counted_triplet(*args: Any) -> Any:
        calls.append("triplet")
        return triplet(*args)

    monkeypatch.setattr(module, "_real", counted_real)
    monkeypatch.setattr(module, "_triplet", counted_triplet)
    h = [1.0 + k for k in range(20_000)]
    with pytest.raises(LimitExceeded) as err:
        gci([1 + 1e-12 * s * s for s in h], spacing=h)
    assert err.value.limit == "grids"
    assert "20,000 values" in str(err.value)
    assert calls == []


def test_a_generator_of_too_many_grids_is_read_only_to_the_cap() -> None:
    read: list[int] = []

    def values() -> Any:
        for k in range(10**6):
            read.append(k)
            yield 1.0 + k

    with pytest.raises(LimitExceeded, match="1,001 or more values"):
        gci(values(), spacing=range(1, 10**6 + 1))
    assert len(read) == 1001


def test_the_cap_itself_is_allowed_and_exact_power_laws_keep_their_order() -> None:
    """1,000 grids of φ = 2 + 3 h² on h = 1, 2, ..., 1000: p = 2 on the finest triplet."""
    h = [1.0 + k for k in range(1000)]
    res = gci([2 + 3 * s * s for s in h], spacing=h)
    assert len(res.p_triplets) == 998
    assert res.p == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(10**400, "1.000000e+400"), (-(3 * 10**500), "-3.000000e+500"), (-(2**64), "-1.844674e+19")],
)
def test_a_refused_long_integer_is_named_in_scientific_notation(value: int, shown: str) -> None:
    with pytest.raises(SymgradError) as err:
        gci([1.0, 3.0, 2.0], spacing=[1, 2, value])
    assert f"(got {shown})" in str(err.value)


def test_a_long_refused_value_is_cut_with_an_ellipsis() -> None:
    with pytest.raises(InputError) as err:
        gci([1.0, "7" * 100, 2.0], spacing=[1, 2, 4])  # type: ignore[list-item]
    assert "'777777777777777777777777777777777777..." in str(err.value)


@pytest.mark.parametrize("dim", [0, 4, 10**9, 10**400, 2.0, True])
def test_cells_need_a_dimension_of_one_to_three(dim: object) -> None:
    """h = N^(-1/dim) for the space dimensions of a grid: 1, 2 or 3.  At dim = 10**9 the
    ratios would be 2**(1e-9), where rounding decides the convergence kind."""
    with pytest.raises(ConfigError, match=r"dim: the number of space dimensions, 1, 2 or 3"):
        gci([1.0, 2.0, 3.0], cells=[100, 50, 25], dim=dim)
