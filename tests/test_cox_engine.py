"""The vectorized Cox engine against R (survival 3.5-3) and statsmodels ``PHReg``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from survomics.cox import benjamini_hochberg, cox_screen

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "reference" / "tcga_acc"


@pytest.fixture(scope="module")
def acc_expression() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """log2(x+1) expression of the bundled cohort with the R endpoint (79 patients)."""
    endpoint = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")
    expr = pl.read_csv(
        ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv", separator="\t"
    )
    samples = [c for c in expr.columns if c != "feature"]
    aligned = pl.DataFrame({"patient": [s[:12] for s in samples]}).join(
        endpoint, on="patient", how="left", maintain_order="left"
    )
    x = np.log2(expr.select(samples).to_numpy().T + 1.0)
    return x, aligned["time"].to_numpy(), aligned["event"].to_numpy(), expr["feature"].to_list()


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matches_r_coxph(acc_expression: tuple, ties: str) -> None:
    x, time, event, names = acc_expression
    ours = cox_screen(x, time, event, ties=ties, feature_names=names)  # type: ignore[arg-type]
    ref = pl.read_csv(REFERENCE / f"univariate_cox_expression_log2p1_{ties}.tsv", separator="\t")
    both = ref.join(ours, on="feature", suffix="_ours")
    assert both.height == ref.height
    assert (both["status"] == "ok").all()
    for col in ("coef", "se", "z", "p_wald", "p_lrt", "p_score"):
        np.testing.assert_allclose(both[f"{col}_ours"], both[col], rtol=1e-6, err_msg=col)
    np.testing.assert_array_equal(both["n_ours"], both["n"])
    np.testing.assert_array_equal(both["events_ours"], both["events"])
    q = benjamini_hochberg(both["p_wald_ours"].to_numpy())
    np.testing.assert_allclose(q, both["q_bh"], rtol=1e-6)


def statsmodels_fit(
    x: np.ndarray, time: np.ndarray, event: np.ndarray, ties: str, strata: np.ndarray | None
) -> tuple[float, float]:
    keep = ~np.isnan(x)
    model = PHReg(
        time[keep],
        x[keep, None],
        status=event[keep],
        ties=ties,
        strata=None if strata is None else strata[keep],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = model.fit(tol=1e-14, maxiter=200)
    return float(fit.params[0]), float(fit.bse[0])


@st.composite
def survival_data(draw: st.DrawFn) -> dict:
    n = draw(st.integers(min_value=12, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    n_times = draw(st.integers(min_value=3, max_value=n))  # few distinct times: heavy ties
    time = rng.integers(0, n_times, n).astype(float)
    event = (rng.random(n) < draw(st.floats(0.3, 0.9))).astype(float)
    x = rng.normal(size=(n, 3)) + rng.normal(size=(n, 1)) * 0.3 * time[:, None] / n_times
    missing = rng.random((n, 3)) < draw(st.floats(0.0, 0.25))
    x[missing] = np.nan
    strata = rng.integers(0, draw(st.integers(1, 3)), n) if draw(st.booleans()) else None
    return {"x": x, "time": time, "event": event, "strata": strata}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=survival_data(), ties=st.sampled_from(["efron", "breslow"]))
def test_agrees_with_statsmodels_phreg(data: dict, ties: str) -> None:
    ours = cox_screen(data["x"], data["time"], data["event"], ties=ties, strata=data["strata"])  # type: ignore[arg-type]
    for j in range(data["x"].shape[1]):
        row = ours.row(j, named=True)
        if row["status"] != "ok":
            continue
        try:
            coef, se = statsmodels_fit(
                data["x"][:, j], data["time"], data["event"], ties, data["strata"]
            )
        except Exception:  # statsmodels cannot fit this draw: nothing to compare
            assume(False)
            return
        assert row["coef"] == pytest.approx(coef, rel=1e-8, abs=1e-8)
        assert row["se"] == pytest.approx(se, rel=1e-6, abs=1e-8)


def simple_data(n: int = 60, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    time = rng.exponential(np.exp(-0.7 * x[:, 0]))
    event = (rng.random(n) < 0.7).astype(float)
    return x, time, event


def test_degenerate_features_are_flagged_and_do_not_affect_others() -> None:
    x, time, event = simple_data()
    n = time.size
    # Whoever dies has the largest value in the risk set: the likelihood is monotone.
    separated = -time
    rare = np.zeros(n)
    rare[np.flatnonzero(event == 0)[0]] = 1.0  # carried by one censored patient
    few = np.full(n, np.nan)
    few[:2] = [0.1, 0.2]
    no_event = np.where(event == 0, x[:, 0], np.nan)
    matrix = np.column_stack([x[:, 0], np.ones(n), rare, few, no_event, x[:, 0]])
    result = cox_screen(matrix, time, event)
    statuses = result["status"].to_list()
    assert statuses == [
        "ok",
        "constant",
        "monotone_likelihood",
        "too_few_samples",
        "no_events",
        "ok",
    ]
    alone = cox_screen(x, time, event)
    for col in ("coef", "se", "p_wald", "p_lrt", "p_score"):
        assert result[col][0] == pytest.approx(alone[col][0], rel=1e-12)
        assert result[col][5] == pytest.approx(alone[col][0], rel=1e-12)
    bad = result.filter(pl.col("status") != "ok")
    assert bad["coef"].is_nan().all()
    assert not bad["converged"].any()
    sep = cox_screen(separated[:, None], time, event)
    assert sep["status"][0] == "monotone_likelihood"
    assert np.isnan(sep["coef"][0])


def test_block_size_does_not_change_results() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(50, 23))
    x[rng.random(x.shape) < 0.1] = np.nan
    time = rng.integers(1, 15, 50).astype(float)
    event = (rng.random(50) < 0.6).astype(float)
    reference = cox_screen(x, time, event)
    for block in (1, 7):
        other = cox_screen(x, time, event, block_size=block)
        assert other["status"].equals(reference["status"])
        for col in ("coef", "se", "p_wald", "p_lrt", "p_score"):
            np.testing.assert_allclose(other[col], reference[col], rtol=1e-12)


def test_missing_values_equal_complete_case_fit() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 1))
    time = rng.integers(1, 20, 80).astype(float)
    event = (rng.random(80) < 0.6).astype(float)
    x[rng.random(80) < 0.3, 0] = np.nan
    keep = ~np.isnan(x[:, 0])
    with_nan = cox_screen(x, time, event).row(0, named=True)
    complete = cox_screen(x[keep], time[keep], event[keep]).row(0, named=True)
    assert with_nan["n"] == keep.sum()
    for col in ("coef", "se", "p_wald", "p_lrt", "p_score"):
        assert with_nan[col] == pytest.approx(complete[col], rel=1e-12)


def test_strata_give_separate_baselines() -> None:
    x, time, event = simple_data(90, seed=8)
    strata = np.repeat([0, 1, 2], 30)
    ours = cox_screen(x, time * (1 + strata), event, strata=strata).row(0, named=True)
    coef, se = statsmodels_fit(x[:, 0], time * (1 + strata), event, "efron", strata)
    assert ours["coef"] == pytest.approx(coef, rel=1e-8)
    assert ours["se"] == pytest.approx(se, rel=1e-6)


def test_input_validation() -> None:
    x, time, event = simple_data()
    with pytest.raises(ValueError, match="ties"):
        cox_screen(x, time, event, ties="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        cox_screen(x, -time, event)
    with pytest.raises(ValueError, match="one value per row"):
        cox_screen(x, time[:-1], event)


def test_benjamini_hochberg_matches_definition() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    q = benjamini_hochberg(p)
    m = 4
    finite = p[~np.isnan(p)]
    order = np.argsort(finite)
    expected = np.empty(m)
    expected[order] = np.minimum.accumulate((finite[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    np.testing.assert_allclose(q[~np.isnan(p)], np.minimum(expected, 1))
    assert np.isnan(q[1])


def statsmodels_adjusted(
    x: np.ndarray,
    z: np.ndarray,
    *,
    time: np.ndarray,
    event: np.ndarray,
    ties: str,
    strata: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Feature + covariates and covariates-only fits on the feature's complete cases."""
    keep = ~np.isnan(x)
    kw = {"status": event[keep], "ties": ties, "strata": None if strata is None else strata[keep]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = PHReg(time[keep], np.column_stack([x[keep], z[keep]]), **kw).fit(tol=1e-14)
        null = PHReg(time[keep], z[keep], **kw).fit(tol=1e-14)
    return full.params, full.bse, float(full.llf), float(null.llf)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=survival_data(), ties=st.sampled_from(["efron", "breslow"]), k=st.integers(1, 3))
def test_covariate_adjusted_agrees_with_statsmodels(data: dict, ties: str, k: int) -> None:
    rng = np.random.default_rng(int(data["time"].sum()) + k)
    n = data["time"].size
    assume(n >= 20)
    z = rng.normal(size=(n, k))
    z[:, 0] += 0.5 * np.nan_to_num(data["x"][:, 0])  # correlated with the first feature
    ours = cox_screen(
        data["x"],
        data["time"],
        data["event"],
        ties=ties,
        covariates=z,
        strata=data["strata"],  # type: ignore[arg-type]
    )
    compared = 0
    for j in range(data["x"].shape[1]):
        row = ours.row(j, named=True)
        if row["status"] != "ok":
            continue
        try:
            params, bse, llf, llf0 = statsmodels_adjusted(
                data["x"][:, j],
                z,
                time=data["time"],
                event=data["event"],
                ties=ties,
                strata=data["strata"],
            )
        except Exception:  # statsmodels cannot fit this draw: nothing to compare
            continue
        assert row["coef"] == pytest.approx(params[0], rel=1e-8, abs=1e-8)
        assert row["se"] == pytest.approx(bse[0], rel=1e-6, abs=1e-8)
        lrt = max(2 * (llf - llf0), 0.0)
        expected = float(stats.chi2.sf(lrt, 1))
        assert row["p_lrt"] == pytest.approx(expected, rel=1e-6, abs=1e-12)
        compared += 1
    assume(compared > 0)


def test_score_test_equals_r_without_covariates_and_is_restricted_with_them() -> None:
    x, time, event = simple_data(120, seed=21)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(120, 2))
    plain = cox_screen(x, time, event).row(0, named=True)
    zero = cox_screen(x, time, event, covariates=np.zeros((120, 0))).row(0, named=True)
    assert zero["p_score"] == pytest.approx(plain["p_score"], rel=1e-12)
    adjusted = cox_screen(x, time, event, covariates=z).row(0, named=True)
    # The score and Wald tests of the same hypothesis agree closely in a regular model.
    assert adjusted["p_score"] == pytest.approx(adjusted["p_wald"], rel=0.5)


def test_feature_collinear_with_covariates_is_singular() -> None:
    x, time, event = simple_data(80, seed=4)
    z = np.column_stack([2.0 * x[:, 0] + 1.0, np.random.default_rng(1).normal(size=80)])
    good = np.random.default_rng(2).normal(size=(80, 1))
    result = cox_screen(np.column_stack([x[:, 0], good[:, 0]]), time, event, covariates=z)
    assert result["status"].to_list() == ["singular", "ok"]
    assert np.isnan(result["coef"][0])


def test_missing_covariates_drop_the_sample_everywhere() -> None:
    x, time, event = simple_data(70, seed=9)
    z = np.random.default_rng(3).normal(size=(70, 1))
    z[:5, 0] = np.nan
    with_nan = cox_screen(x, time, event, covariates=z).row(0, named=True)
    dropped = cox_screen(x[5:], time[5:], event[5:], covariates=z[5:]).row(0, named=True)
    assert with_nan["n"] == 65
    assert with_nan["coef"] == pytest.approx(dropped["coef"], rel=1e-12)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("k", [0, 1, 3], ids=["plain", "1-covariate", "3-covariates"])
def test_compiled_and_numpy_engines_agree(ties: str, k: int) -> None:
    """The compiled kernels (univariate and covariate-adjusted) equal the NumPy engine:
    statuses, counts and every estimate, with missing values, strata and degenerate
    features (constant, no events, collinear with a covariate, separating)."""
    rng = np.random.default_rng(17)
    n = 150
    x = rng.normal(size=(n, 40))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = 1.0  # constant
    time = rng.integers(1, 25, n).astype(float)
    event = (rng.random(n) < 0.55).astype(float)
    x[:, 5] = np.where(event == 1, np.nan, x[:, 5])  # no events among complete cases
    z = rng.normal(size=(n, k)) if k else None
    if z is not None:
        x[:, 7] = 3.0 * z[:, 0] - 1.0  # collinear with a covariate: singular
        x[:, 8] = -time + 0.01 * rng.normal(size=n)  # orders the times: monotone likelihood
    strata = rng.integers(0, 2, n)
    for s in (None, strata):
        kw = {"ties": ties, "strata": s, "covariates": z}
        fast = cox_screen(x, time, event, **kw)  # type: ignore[arg-type]
        slow = cox_screen(x, time, event, engine="numpy", **kw)  # type: ignore[arg-type]
        assert fast["status"].to_list() == slow["status"].to_list()
        assert fast["n"].to_list() == slow["n"].to_list()
        for col in ("coef", "se", "p_wald", "p_lrt", "p_score"):
            np.testing.assert_allclose(fast[col], slow[col], rtol=1e-7, err_msg=col)
