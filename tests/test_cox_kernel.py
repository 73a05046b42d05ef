"""The compiled univariate kernel against R and statsmodels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.duration.hazard_regression import PHReg

from survomics._cox_kernel import fit_sorted

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "reference" / "tcga_acc"


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_kernel_matches_r(ties: str) -> None:
    endpoint = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")
    expr = pl.read_csv(ROOT / "data/tcga_acc/expression_rsem_normalized.tsv", separator="\t")
    samples = expr.columns[1:]
    aligned = pl.DataFrame({"patient": [s[:12] for s in samples]}).join(
        endpoint, on="patient", how="left", maintain_order="left"
    )
    x = np.log2(expr.select(samples).to_numpy().T + 1.0)
    fit = fit_sorted(x, aligned["time"].to_numpy(), aligned["event"].to_numpy(), ties=ties)
    ref = pl.read_csv(REFERENCE / f"univariate_cox_expression_log2p1_{ties}.tsv", separator="\t")
    assert ref["feature"].to_list() == expr["feature"].to_list()
    np.testing.assert_allclose(fit["beta"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(1 / np.sqrt(fit["info"]), ref["se"], rtol=1e-6)
    assert fit["converged"].all()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(15, 60),
    n_times=st.integers(3, 30),
    ties=st.sampled_from(["efron", "breslow"]),
    stratified=st.booleans(),
)
def test_kernel_agrees_with_statsmodels(
    seed: int, n: int, n_times: int, ties: str, stratified: bool
) -> None:
    rng = np.random.default_rng(seed)
    time = rng.integers(0, n_times, n).astype(float)
    event = (rng.random(n) < 0.6).astype(float)
    x = rng.normal(size=(n, 2)) + 0.05 * time[:, None]
    x[rng.random((n, 2)) < 0.15] = np.nan
    strata = rng.integers(0, 3, n) if stratified else None
    fit = fit_sorted(x, time, event, strata=strata, ties=ties)
    for j in range(2):
        keep = ~np.isnan(x[:, j])
        if event[keep].sum() < 2 or keep.sum() < 5:
            continue
        model = PHReg(
            time[keep], x[keep, j : j + 1], status=event[keep], ties=ties,
            strata=None if strata is None else strata[keep],
        )  # fmt: skip
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                ref = model.fit(tol=1e-14)
        except Exception:  # statsmodels cannot fit this draw: nothing to compare
            continue
        if not fit["converged"][j] or abs(ref.params[0]) > 8:
            continue
        assert fit["beta"][j] == pytest.approx(ref.params[0], rel=1e-8, abs=1e-8)
        assert 1 / np.sqrt(fit["info"][j]) == pytest.approx(ref.bse[0], rel=1e-6)


def test_kernel_is_independent_of_thread_count_and_layout() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 300))
    time = rng.integers(1, 40, 200).astype(float)
    event = (rng.random(200) < 0.6).astype(float)
    a = fit_sorted(x, time, event)
    b = fit_sorted(np.asfortranarray(x), time, event)
    c = fit_sorted(x[:, ::-1], time, event)
    for key in ("beta", "info", "loglik"):
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], c[key][::-1])


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_taylor_acceptance_is_exact_to_rounding(ties: str) -> None:
    """The Taylor-started, Taylor-finished fit equals plain Newton run to 1e-13."""
    rng = np.random.default_rng(11)
    n, p = 400, 600
    x = rng.normal(size=(n, p)) * rng.uniform(0.1, 5.0, p) + rng.normal(0, 3, p)
    x[rng.random((n, p)) < 0.05] = np.nan
    risk = 0.6 * np.nan_to_num(x[:, 0] - np.nanmean(x[:, 0])) / np.nanstd(x[:, 0])
    time = np.ceil(rng.exponential(20 * np.exp(-risk)))  # heavy ties
    event = (rng.random(n) < 0.6).astype(float)
    fast = fit_sorted(x, time, event, ties=ties)
    plain = fit_sorted(x, time, event, ties=ties, accept=0.0, step_tol=1e-13)
    assert fast["converged"].all()
    assert plain["converged"].all()
    np.testing.assert_allclose(fast["beta"], plain["beta"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(fast["info"], plain["info"], rtol=1e-9)
    np.testing.assert_allclose(fast["loglik"], plain["loglik"], rtol=1e-13)
    # The point of the Taylor steps: most features need a single evaluation with exp.
    assert np.median(fast["iterations"]) <= 2
    assert np.median(plain["iterations"]) >= 3


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("stratified", [False, True])
def test_closed_form_evaluation_at_zero_equals_the_tied_event_loop(
    ties: str, stratified: bool
) -> None:
    """For features without NaN the evaluation at 0 uses per-group constants only."""
    from survomics._cox_kernel import _evaluate, _evaluate_zero, zero_constants

    rng = np.random.default_rng(5)
    n = 300
    time = rng.integers(1, 12, n).astype(float)  # about 25 tied events per time
    event = (rng.random(n) < 0.7).astype(float)
    strata = rng.integers(0, 3, n) if stratified else np.zeros(n, dtype=np.int64)
    order = np.lexsort((time, strata))
    t, s = time[order], strata[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new)
    group_start = np.append(starts, n).astype(np.int64)
    stratum_start = np.ones(starts.size + 1, dtype=np.int8)
    stratum_start[1:-1] = s[starts[1:]] != s[starts[:-1]]
    ev = event[order]
    consts, loglik0 = zero_constants(ev, group_start, stratum_start, ties == "efron")
    for _ in range(5):
        x = rng.normal(size=n) * 3.0
        xc = (x - x.mean())[order]
        loop = _evaluate(
            xc, np.ones(n), ev, group_start, stratum_start, 0.0, 0.0, ties == "efron",
            np.empty(n), np.empty(n, dtype=np.int64),
        )  # fmt: skip
        closed = _evaluate_zero(xc, ev, group_start, stratum_start, consts, loglik0)
        np.testing.assert_allclose(closed, loop, rtol=1e-11, atol=1e-9)


def test_vectorized_exponential_is_exact_to_an_ulp() -> None:
    from survomics._cox_kernel import _weights

    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0, 50, 100_000), [0.0, -1e-300, 1e-300, 699.9, -699.9]])
    valid = np.ones(x.size)
    valid[::7] = 0.0
    w = np.empty(x.size)
    bits = np.empty(x.size, dtype=np.int64)
    _weights(x, valid, 1.0, 0.0, w, bits)
    expected = valid * np.exp(np.minimum(x, 0.0))
    big = expected > 1e-300
    np.testing.assert_allclose(w[big], expected[big], rtol=5e-16)
    assert (w[~big] <= 1e-300).all()


def test_adjusted_kernel_is_independent_of_threads_and_feature_order() -> None:
    """Covariate-adjusted fits: each feature's arithmetic is sequential, so results are
    bit-identical whatever the thread count, the chunking and the column order."""
    import numba

    from survomics.cox import cox_screen

    rng = np.random.default_rng(5)
    x = rng.normal(size=(180, 301))
    x[rng.random(x.shape) < 0.05] = np.nan
    time = rng.integers(1, 40, 180).astype(float)
    event = (rng.random(180) < 0.6).astype(float)
    z = rng.normal(size=(180, 2))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = cox_screen(x, time, event, covariates=z)
        numba.set_num_threads(before)
        many = cox_screen(x, time, event, covariates=z)
        reversed_ = cox_screen(x[:, ::-1], time, event, covariates=z)
    finally:
        numba.set_num_threads(before)
    for key in ("coef", "se", "p_lrt", "p_score"):
        np.testing.assert_array_equal(one[key].to_numpy(), many[key].to_numpy())
        np.testing.assert_array_equal(one[key].to_numpy(), reversed_[key].to_numpy()[::-1])


@pytest.mark.parametrize("adjusted", [False, True], ids=["plain", "covariates"])
def test_compiled_engine_memory_stays_below_a_fraction_of_the_matrix(adjusted: bool) -> None:
    """A samples x features (C-ordered) matrix with an unusable sample would need a
    transposed copy; the engine copies one block of columns at a time instead."""
    import tracemalloc

    from survomics.cox import cox_screen

    rng = np.random.default_rng(6)
    n, p = 400, 6000
    x = rng.normal(size=(n, p))  # 19 MB, C-ordered
    time = rng.integers(1, 60, n).astype(float)
    time[0] = np.nan  # one sample left out: the kept rows are gathered
    event = (rng.random(n) < 0.6).astype(float)
    kw = {"covariates": rng.normal(size=(n, 2))} if adjusted else {}
    small = cox_screen(x[:, :20], time, event, **kw)  # compile outside the trace
    tracemalloc.start()
    try:
        result = cox_screen(x, time, event, block_size=250, **kw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * x.nbytes, f"peak {peak / x.nbytes:.2f} x the matrix"
    assert result.height == p
    assert result["coef"].to_list()[:20] == small["coef"].to_list()
