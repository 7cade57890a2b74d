"""Test a hand-written gradient in your own pytest suite with ``symgrad.check_gradient``.

An optimizer needs f(p) and ∇f(p), and a sign slip in ∇f is silent: the optimizer still runs,
just badly.  Two checks catch it:

* ``symgrad.check_gradient(grad, "expression")`` compares your code with the exact symbolic
  gradient at 200 seeded random points; the verdict names the wrong entry and a point where it
  is wrong, and ``raise_if_failed()`` turns a failure into an ``AssertionError`` for pytest.
* ``symgrad.taylor_test(f, grad, x0)`` needs no expression: the remainder
  |f(x0 + h·v) − f(x0) − h·∇f(x0)·v| falls as h² for a right gradient and as h for a wrong one.

This file is a pytest module whose tests also run as a script:

    python -m pytest examples/check_gradient_in_pytest.py    # as tests
    python examples/check_gradient_in_pytest.py              # as a script (no pytest needed)
"""

import numpy as np

import symgrad

try:
    import pytest

    raises = pytest.raises
except ImportError:  # run as a script without pytest: a minimal stand-in for pytest.raises
    import re
    from contextlib import contextmanager

    @contextmanager
    def raises(expected, match=None):
        """Fail unless the block raises ``expected`` with a message matching ``match``."""
        try:
            yield
        except expected as error:
            if match is not None and not re.search(match, str(error)):
                msg = f"{match!r} not found in {str(error)!r}"
                raise AssertionError(msg) from error
        else:
            msg = f"DID NOT RAISE {expected.__name__}"
            raise AssertionError(msg)


# --- The code under test: f(x, y) = exp(−x² − y²)·cos(3xy) and its gradient, by hand ---------
EXPRESSION = "exp(-x**2 - y**2) * cos(3*x*y)"


def objective(p):
    """f at p = (x, y), as an optimizer calls it."""
    x, y = p
    return np.exp(-(x**2) - y**2) * np.cos(3 * x * y)


def gradient(p):
    """∇f at p: ∂f/∂x = −e(2x·cos + 3y·sin), ∂f/∂y = −e(2y·cos + 3x·sin)."""
    x, y = p
    e, c, s = np.exp(-(x**2) - y**2), np.cos(3 * x * y), np.sin(3 * x * y)
    return np.array([-e * (2 * x * c + 3 * y * s), -e * (2 * y * c + 3 * x * s)])


def gradient_with_sign_bug(p):
    """The same with one slip: the 3x·sin term of ∂f/∂y has the wrong sign."""
    x, y = p
    e, c, s = np.exp(-(x**2) - y**2), np.cos(3 * x * y), np.sin(3 * x * y)
    return np.array([-e * (2 * x * c + 3 * y * s), -e * (2 * y * c - 3 * x * s)])


# --- The tests -----------------------------------------------------------------------------
def test_gradient_agrees_with_exact():
    """The hand-written gradient agrees with the exact one at 200 random points."""
    result = symgrad.check_gradient(gradient, EXPRESSION, call="packed")
    print(result)
    result.raise_if_failed()  # the idiom for a test suite: returns the result when it passes
    assert result.worst["rel_error"] < 1e-12


def test_sign_bug_is_caught_and_named():
    """The sign slip fails, and the report names the wrong entry, d/dy, and a point."""
    result = symgrad.check_gradient(gradient_with_sign_bug, EXPRESSION, call="packed")
    print(result)
    assert result.status is symgrad.Status.FAIL
    assert result.worst["entry"] == "d/dy"
    assert [e.status for e in result.entries] == [symgrad.Status.PASS, symgrad.Status.FAIL]
    # raise_if_failed() raises symgrad.CheckFailed, an AssertionError: pytest reports it as a
    # failed assertion whose message starts with the verdict and the wrong entry.
    with raises(AssertionError, match=r"^fail: d/dy is wrong at \("):
        result.raise_if_failed()


def test_taylor_remainder_orders():
    """The Taylor remainder falls as h² with the right gradient and as h with the buggy one."""
    right = symgrad.taylor_test(objective, gradient, [0.3, 0.7])
    wrong = symgrad.taylor_test(objective, gradient_with_sign_bug, [0.3, 0.7])
    for label, result in (("right gradient", right), ("buggy gradient", wrong)):
        print(f"{label}: {result.status.value}: {result.reason}")
        pairs = zip(result.step_sizes[::3], result.remainders[::3], strict=True)
        print("   " + "   ".join(f"r({h:.0e}) = {r:.2e}" for h, r in pairs))
    assert right.status is symgrad.Status.PASS
    assert abs(right.observed_order - 2) < 0.05
    assert wrong.status is symgrad.Status.FAIL
    assert abs(wrong.observed_order - 1) < 0.05


if __name__ == "__main__":
    for test in (
        test_gradient_agrees_with_exact,
        test_sign_bug_is_caught_and_named,
        test_taylor_remainder_orders,
    ):
        print(f"--- {test.__name__}: {test.__doc__}")
        test()
        print(f"ok: {test.__name__}\n")
    print("all claims verified")
