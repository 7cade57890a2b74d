"""symgrad.for_scipy against scipy.optimize's own Rosenbrock and a hand-written Jacobian.

The oracles are independent of symgrad: ``scipy.optimize.rosen``, ``rosen_der``, ``rosen_hess``
and ``rosen_hess_prod`` (hand-coded in SciPy), and the damped sine's Jacobian written out by
hand.  The optimizers are deterministic, so iterates driven by symgrad's derivatives must
match those driven by the references.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import symgrad
from symgrad.errors import ConfigError, InputError, MissingExtra

optimize = pytest.importorskip("scipy.optimize")
sparse = pytest.importorskip("scipy.sparse")

DAMPED = "A*exp(-sigma*t)*sin(omega*t) - y"
BIG = symgrad.Limits(max_work=50_000_000)  # Rosenbrock with hundreds of variables


def rosenbrock(n: int) -> str:
    """SciPy's rosen as text, over x[0] ... x[n-1]."""
    terms = (f"100*(x[{i + 1}] - x[{i}]**2)**2 + (1 - x[{i}])**2" for i in range(n - 1))
    return " + ".join(terms)


def point(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, n)


def assert_close_to(got: np.ndarray, want: np.ndarray, scale: float | None = None) -> None:
    """Equal up to a few roundings of the largest term (the sums are ordered differently).

    ``scale`` is the size of the terms summed (a sum that cancels is still rounded at the size
    of its terms); by default the largest value wanted.
    """
    scale = scale or float(np.max(np.abs(want))) or 1.0
    assert_allclose(got, want, rtol=0, atol=16 * np.finfo(float).eps * scale)


def check_rosenbrock(n: int) -> None:
    problem = symgrad.for_scipy(rosenbrock(n), limits=BIG)
    assert [v.name for v in problem.wrt] == [f"x_{i}" for i in range(n)]  # natural order
    x = point(n, seed=n)
    value = problem.fun(x)
    assert type(value) is float
    assert_close_to(np.array(value), np.array(optimize.rosen(x)))
    gradient = problem.jac(x)
    assert gradient.shape == (n,)
    assert_close_to(gradient, optimize.rosen_der(x))
    hessian = problem.hess(x)
    assert hessian.shape == (n, n)
    assert_close_to(hessian, optimize.rosen_hess(x))
    p = point(n, seed=n + 1)
    assert_close_to(problem.hessp(x, p), optimize.rosen_hess_prod(x, p))


@pytest.mark.parametrize("n", [2, 3, 13])
def test_rosenbrock_matches_scipy(n: int) -> None:
    check_rosenbrock(n)


@pytest.mark.slow
@pytest.mark.parametrize("n", [50, 101, 200])
def test_rosenbrock_matches_scipy_large(n: int) -> None:
    check_rosenbrock(n)


def test_sparse_hessian_is_rosen_hess_with_only_the_band_compiled() -> None:
    n = 30
    dense = symgrad.for_scipy(rosenbrock(n))
    banded = symgrad.for_scipy(rosenbrock(n), sparse=True)
    x, p = point(n, 5), point(n, 6)
    hessian = banded.hess(x)
    assert isinstance(hessian, sparse.csr_array)
    assert hessian.nnz == 3 * n - 2  # tridiagonal: nothing else compiled or stored
    assert_close_to(hessian.toarray(), optimize.rosen_hess(x))
    assert_close_to(banded.hessp(x, p), optimize.rosen_hess_prod(x, p))
    assert_allclose(hessian.toarray(), dense.hess(x), rtol=0, atol=0)


def newton_cg_path(fun, jac, hessp, x0):
    """Newton-CG from x0 and the iterates it visits."""
    path: list[np.ndarray] = []
    result = optimize.minimize(
        fun,
        x0,
        jac=jac,
        hessp=hessp,
        method="Newton-CG",
        callback=lambda xk: path.append(xk.copy()),
    )
    return result, np.array(path)


def test_newton_cg_iterates_match_scipys_derivatives() -> None:
    """Newton-CG driven by symgrad follows the path of scipy's hand-coded derivatives."""
    n = 12
    problem = symgrad.for_scipy(rosenbrock(n), sparse=True)
    x0 = np.full(n, -0.5)
    ours, our_path = newton_cg_path(problem.fun, problem.jac, problem.hessp, x0)
    theirs, their_path = newton_cg_path(
        optimize.rosen, optimize.rosen_der, optimize.rosen_hess_prod, x0
    )
    assert ours.success
    assert theirs.success
    assert len(our_path) == len(their_path) == ours.nit
    # rounding differences of the last bits grow slowly over ~60 inexact CG steps
    assert_allclose(our_path, their_path, rtol=1e-6, atol=1e-9)
    assert_allclose(ours.x, theirs.x, rtol=1e-6)
    assert_allclose(ours.x, np.ones(n), atol=1e-3)  # Newton-CG's default xtol=1e-5


def test_trust_exact_with_dense_hessian_follows_scipys_derivatives() -> None:
    problem = symgrad.for_scipy(rosenbrock(6))
    ours = optimize.minimize(
        problem.fun, np.zeros(6), jac=problem.jac, hess=problem.hess, method="trust-exact"
    )
    theirs = optimize.minimize(
        optimize.rosen,
        np.zeros(6),
        jac=optimize.rosen_der,
        hess=optimize.rosen_hess,
        method="trust-exact",
    )
    assert ours.success
    assert (ours.nit, ours.nfev, ours.njev) == (theirs.nit, theirs.nfev, theirs.njev)
    assert_allclose(ours.x, theirs.x, rtol=1e-9)
    assert_allclose(ours.x, np.ones(6), atol=1e-4)  # scipy's default gtol=1e-5


def damped_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261205)
    t = np.linspace(0.0, 10.0, 60)
    y = 2.5 * np.exp(-0.3 * t) * np.sin(1.7 * t) + 0.05 * rng.normal(size=t.size)
    return t, y


def hand_jacobian(theta: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N, 3): d/d(A, sigma, omega) of A e^(-sigma t) sin(omega t) - y, written by hand."""
    a, s, w = theta
    decay, wave = np.exp(-s * t), np.sin(w * t)
    return np.column_stack([decay * wave, -a * t * decay * wave, a * t * decay * np.cos(w * t)])


def hand_residuals(theta: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    a, s, w = theta
    return a * np.exp(-s * t) * np.sin(w * t) - y


@pytest.mark.parametrize(("method", "use_sparse"), [("lm", False), ("trf", False), ("trf", True)])
def test_least_squares_iterates_match_a_hand_written_jacobian(
    method: str, use_sparse: bool
) -> None:
    """The Jacobian is evaluated at the same sequence of iterates as with the hand-written one."""
    t, y = damped_data()
    fit = symgrad.for_scipy([DAMPED], wrt="A sigma omega", args="t y", sparse=use_sparse)
    x0 = np.array([1.0, 0.1, 1.5])
    assert fit.fun(x0, t, y).shape == (t.size,)
    jac = fit.jac(x0, t, y)
    dense = jac.toarray() if use_sparse else jac
    assert dense.shape == (t.size, 3)
    assert_allclose(dense, hand_jacobian(x0, t, y), rtol=1e-14, atol=1e-300)

    def recording(jacobian, seen):  # the iterates are where the Jacobian is asked for
        def wrapped(theta, *data):
            seen.append(theta.copy())
            return jacobian(theta, *data)

        return wrapped

    ours: list[np.ndarray] = []
    theirs: list[np.ndarray] = []
    options = {"method": method, "args": (t, y)}
    if use_sparse:
        options["tr_solver"] = "lsmr"
    a = optimize.least_squares(fit.fun, x0, jac=recording(fit.jac, ours), **options)
    hand = (
        (lambda th, tt, yy: sparse.csr_array(hand_jacobian(th, tt, yy)))
        if use_sparse
        else hand_jacobian
    )
    b = optimize.least_squares(hand_residuals, x0, jac=recording(hand, theirs), **options)
    assert a.success
    assert b.success
    assert (a.nfev, a.njev) == (b.nfev, b.njev)
    assert len(ours) == len(theirs)
    assert_allclose(np.array(ours), np.array(theirs), rtol=1e-9)
    assert_allclose(a.x, [2.5, 0.3, 1.7], rtol=0.05)


def test_several_residuals_are_stacked_residual_by_residual() -> None:
    fit = symgrad.for_scipy(["a*t - y", "b*t**2"], wrt="a b", args="t y")
    t, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    assert fit.fun([2.0, 3.0], t, y).tolist() == [1.5, 3.5, 5.5, 3.0, 12.0, 27.0]
    want = [[1, 0], [2, 0], [3, 0], [0, 1], [0, 4], [0, 9]]
    assert fit.jac([2.0, 3.0], t, y).tolist() == want
    sparse_fit = symgrad.for_scipy(["a*t - y", "b*t**2"], wrt="a b", args="t y", sparse=True)
    assert sparse_fit.jac([2.0, 3.0], t, y).toarray().tolist() == want


def test_an_objective_over_data_is_summed() -> None:
    """Σ_k (a - t_k)²: the objective, gradient and Hessian summed over the data points."""
    loss = symgrad.for_scipy("(a - t)**2 + b**2", wrt="a b", args="t")
    t = np.array([1.0, 2.0, 6.0])
    assert loss.fun([3.0, 1.0], t) == (4 + 1 + 9) + 3 * 1.0
    assert loss.jac([3.0, 1.0], t).tolist() == [2 * (2 + 1 - 3), 3 * 2.0]
    assert loss.hess([3.0, 1.0], t).tolist() == [[6.0, 0.0], [0.0, 6.0]]
    result = optimize.minimize(
        loss.fun, [0.0, 1.0], args=(t,), jac=loss.jac, hess=loss.hess, method="Newton-CG"
    )
    assert_allclose(result.x, [3.0, 0.0], atol=1e-8)  # the mean of t


def test_one_unknown_keeps_scipys_shapes() -> None:
    problem = symgrad.for_scipy("(x - 2)**4")
    assert problem.jac(np.array([3.0])).tolist() == [4.0]
    assert problem.hess(np.array([3.0])).tolist() == [[12.0]]


def test_bad_calls_are_input_errors() -> None:
    problem = symgrad.for_scipy(rosenbrock(3))
    with pytest.raises(InputError, match=r"1-D array of the 3 unknowns"):
        problem.jac(np.ones(4))
    fit = symgrad.for_scipy([DAMPED], wrt="A sigma omega", args="t y")
    with pytest.raises(InputError, match=r"args are \['t', 'y'\]"):
        fit.fun(np.ones(3), np.ones(2))
    with pytest.raises(ConfigError, match="least_squares takes fun and jac"):
        fit.hess(np.ones(3), np.ones(2), np.ones(2))
    with pytest.raises(InputError, match="neither in wrt"):
        symgrad.for_scipy([DAMPED], wrt="A sigma omega", args="t")
    with pytest.raises(ConfigError, match="sparse"):
        symgrad.for_scipy("x**2", sparse="yes")  # type: ignore[arg-type]


def test_sparse_without_scipy_is_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)  # import scipy.sparse now fails
    with pytest.raises(MissingExtra, match=r"symgrad\[scipy\]"):
        symgrad.for_scipy("x**2 + y**2", sparse=True)
    assert symgrad.for_scipy("x**2 + y**2").jac(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]


def test_derivatives_are_built_on_first_use() -> None:
    """BFGS asks only for fun and jac: the Hessian is never differentiated or compiled."""
    problem = symgrad.for_scipy(rosenbrock(4))
    optimize.minimize(problem.fun, np.zeros(4), jac=problem.jac, method="BFGS")
    assert "_gradient" in vars(problem)
    assert "_hessian" not in vars(problem)


# ---------------------------------------------------------------- red team: shapes and order
def quadratic_text(q: np.ndarray, d: np.ndarray) -> str:
    """Σ q_ij x[i] x[j] + Σ d_i sin(x[i]) as text, coefficients as exact decimals."""
    n = len(d)
    terms = [f"({float(q[i, j])!r})*x[{i}]*x[{j}]" for i in range(n) for j in range(n) if q[i, j]]
    terms += [f"({float(d[i])!r})*sin(x[{i}])" for i in range(n) if d[i]]
    return " + ".join(terms) or "0*x[0]"


def quadratic_case(seed: int, n: int, density: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = np.round(rng.normal(size=(n, n)), 3) * (rng.random((n, n)) < density)
    d = np.round(rng.normal(size=n), 3) * (rng.random(n) < 0.7)
    q[n - 1, n - 1] = q[n - 1, n - 1] or 0.5  # every variable written, so wrt has all n
    return q, d


OBJECTIVES = {"seed": st.integers(0, 2**32 - 1), "n": st.integers(1, 13)}
OBJECTIVES["density"] = st.floats(0.05, 1.0)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(**OBJECTIVES)
def test_random_objectives_match_hand_derivatives(seed: int, n: int, density: float) -> None:
    check_random_objective(seed, n, density)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(**OBJECTIVES)
def test_random_objectives_match_hand_derivatives_many(seed: int, n: int, density: float) -> None:
    check_random_objective(seed, n, density)


def check_random_objective(seed: int, n: int, density: float) -> None:
    """Gradient (Q + Qᵀ)x + d∘cos x and Hessian Q + Qᵀ − diag(d∘sin x), dense and sparse.

    Up to 13 variables, so x[10] .. x[12] test the natural order; random sparsity tests that
    the sparse pattern puts every value at its own row and column.
    """
    q, d = quadratic_case(seed, n, density)
    text = quadratic_text(q, d)
    x = np.random.default_rng(seed + 1).uniform(-2.0, 2.0, n)
    sym = q + q.T
    want_grad = sym @ x + d * np.cos(x)
    want_hess = sym - np.diag(d * np.sin(x))
    dense = symgrad.for_scipy(text, wrt=symgrad.vector("x", n))
    banded = symgrad.for_scipy(text, wrt=symgrad.vector("x", n), sparse=True)
    # the sizes of the terms each entry sums, times the number of terms
    terms = 2 * n + 1
    grad_scale = terms * float(np.max(np.abs(sym) @ np.abs(x) + np.abs(d)))
    hess_scale = terms * float(np.max(np.abs(sym)) + np.max(np.abs(d)))
    fun_scale = terms * n * float(np.abs(x) @ np.abs(q) @ np.abs(x) + np.abs(d).sum())
    assert_close_to(dense.jac(x), want_grad, grad_scale)
    assert_close_to(dense.hess(x), want_hess, hess_scale)
    assert_close_to(banded.hess(x).toarray(), want_hess, hess_scale)
    want_fun = np.array(x @ q @ x + d @ np.sin(x))
    assert_close_to(np.array(dense.fun(x)), want_fun, fun_scale)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 13))
def test_a_planted_coefficient_error_is_seen(seed: int, n: int) -> None:
    """The comparison above is sharp: one coefficient changed by 1e-3 changes the gradient."""
    q, d = quadratic_case(seed, n, 0.5)
    planted = q.copy()
    planted[0, n - 1] += 1e-3
    x = np.random.default_rng(seed + 1).uniform(0.5, 2.0, n)
    got = symgrad.for_scipy(quadratic_text(planted, d), wrt=symgrad.vector("x", n)).jac(x)
    want = (q + q.T) @ x + d * np.cos(x)
    scale = (2 * n + 1) * float(np.max(np.abs(q + q.T) @ np.abs(x) + np.abs(d)))
    with pytest.raises(AssertionError):  # the tolerance of the test above
        assert_close_to(got, want, scale)
