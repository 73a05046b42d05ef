"""survomics.cox.cox_screen against R survival 3.5-3 (TCGA-ACC) and by construction.

The expected numbers come from R (``tests/data/reference/tcga_acc``) or from refitting
the same feature in another way (alone, on its complete cases, with another block size);
none is written down here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.multitest import multipletests

from survomics.cox import benjamini_hochberg, cox_screen

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
EXPRESSION = ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv"
STATS = ("coef", "se", "z", "p_wald", "p_lrt", "p_score")
ESTIMATES = ("coef", "se", "z", "p_wald", "p_lrt")
COLUMNS = {
    "feature": pl.String,
    "n": pl.Int64,
    "events": pl.Int64,
    "coef": pl.Float64,
    "se": pl.Float64,
    "z": pl.Float64,
    "p_wald": pl.Float64,
    "p_lrt": pl.Float64,
    "p_score": pl.Float64,
    "iterations": pl.Int64,
    "converged": pl.Boolean,
    "status": pl.String,
}


@pytest.fixture(scope="module")
def acc() -> dict:
    """log2(x + 1) expression (patients x genes) with R's overall-survival endpoint."""
    endpoint = pl.read_csv(REF / "os_endpoint.tsv", separator="\t")
    expr = pl.read_csv(EXPRESSION, separator="\t")
    samples = [c for c in expr.columns if c != "feature"]
    patients = [s[:12] for s in samples]
    assert len(set(patients)) == len(patients)  # one sample per patient
    aligned = pl.DataFrame({"patient": patients}).join(
        endpoint, on="patient", how="left", maintain_order="left"
    )
    assert aligned["time"].null_count() == 0
    return {
        "x": np.log2(expr.select(samples).to_numpy().T.astype(np.float64) + 1.0),
        "time": aligned["time"].to_numpy().astype(np.float64),
        "event": aligned["event"].to_numpy(),
        "names": expr["feature"].to_list(),
    }


def _max_rel(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matches_r_coxph_on_every_gene(acc: dict, ties: str) -> None:
    ours = cox_screen(
        acc["x"],
        acc["time"],
        acc["event"],
        ties=ties,  # type: ignore[arg-type]
        feature_names=acc["names"],
    )
    ref = pl.read_csv(REF / f"univariate_cox_expression_log2p1_{ties}.tsv", separator="\t")
    both = ref.join(ours, on="feature", how="left", suffix="_ours")
    assert both.height == ref.height == 198
    assert (both["status"] == "ok").all()
    assert both["converged"].all()
    for col in STATS:
        expected = both[col].to_numpy()
        actual = both[f"{col}_ours"].to_numpy()
        # rtol 1e-6 (R stops at a relative log-likelihood change of 1e-9); the tiny atol
        # only matters for p-values that underflow towards 0.
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-300, err_msg=col)
        assert _max_rel(actual, expected) < 1e-6
    np.testing.assert_array_equal(both["n_ours"], both["n"])
    np.testing.assert_array_equal(both["events_ours"], both["events"])
    q = benjamini_hochberg(both["p_wald_ours"].to_numpy())
    np.testing.assert_allclose(q, both["q_bh"], rtol=1e-6)


def test_result_schema_and_default_names(acc: dict) -> None:
    x = acc["x"][:, :5]
    result = cox_screen(x, acc["time"], acc["event"])
    assert result.schema == pl.Schema(COLUMNS)
    assert result["feature"].to_list() == ["0", "1", "2", "3", "4"]
    named = cox_screen(x, acc["time"], acc["event"], feature_names=acc["names"][:5])
    assert named["feature"].to_list() == acc["names"][:5]
    for col in STATS:
        np.testing.assert_array_equal(named[col], result[col])


# ---------------------------------------------------------------------------------------
# Degenerate features
# ---------------------------------------------------------------------------------------


def survival_sample(n: int = 90, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One prognostic feature, continuous times, about 70% events."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    time = rng.exponential(np.exp(-0.7 * x))
    event = (rng.random(n) < 0.7).astype(float)
    return x, time, event


def degenerate_matrix(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> dict:
    n = x.size
    few = np.full(n, np.nan)
    few[:2] = [0.1, 0.2]
    return {
        "good": x,
        "constant": np.full(n, 2.5),
        "no_events": np.where(event == 0, x, np.nan),
        "too_few_samples": few,
        # Whoever dies has the largest value of their risk set: the MLE is +infinity.
        "separated": -time,
        # A binary feature carried by the events only: the MLE is +infinity.
        "events_only": event.copy(),
        "good_again": x,
    }


def test_each_degenerate_status() -> None:
    x, time, event = survival_sample()
    columns = degenerate_matrix(x, time, event)
    result = cox_screen(
        np.column_stack(list(columns.values())), time, event, feature_names=list(columns)
    )
    status = dict(zip(result["feature"], result["status"], strict=True))
    assert status == {
        "good": "ok",
        "constant": "constant",
        "no_events": "no_events",
        "too_few_samples": "too_few_samples",
        "separated": "monotone_likelihood",
        "events_only": "monotone_likelihood",
        "good_again": "ok",
    }
    bad = result.filter(pl.col("status") != "ok")
    for col in ESTIMATES:
        assert bad[col].is_nan().all(), col
    assert not bad["converged"].any()
    assert result.filter(pl.col("status") == "ok")["converged"].all()
    # The score test at 0 exists for a diverging estimate, not without variation or events.
    assert bad.filter(pl.col("status") == "monotone_likelihood")["p_score"].is_finite().all()
    for undefined in ("constant", "no_events"):
        assert bad.filter(pl.col("status") == undefined)["p_score"].is_nan().all()
    counts = dict(zip(result["feature"], result["n"], strict=True))
    assert counts["too_few_samples"] == 2
    assert counts["no_events"] == int((event == 0).sum())
    events = dict(zip(result["feature"], result["events"], strict=True))
    assert events["no_events"] == 0
    assert events["good"] == int(event.sum())


def test_degenerate_features_do_not_change_the_others() -> None:
    x, time, event = survival_sample()
    columns = degenerate_matrix(x, time, event)
    together = cox_screen(np.column_stack(list(columns.values())), time, event)
    alone = cox_screen(x[:, None], time, event)
    for col in STATS:
        for row in (0, len(columns) - 1):  # the good feature, first and last
            assert together[col][row] == pytest.approx(alone[col][0], rel=1e-12), col
    assert together["iterations"][0] == alone["iterations"][0]


def test_iteration_limit_gives_not_converged() -> None:
    rng = np.random.default_rng(17)
    n = 120
    x = rng.normal(size=n)
    time = rng.exponential(np.exp(-2.5 * x))  # a strong effect needs several iterations
    event = np.ones(n)
    full = cox_screen(x[:, None], time, event).row(0, named=True)
    assert full["status"] == "ok"
    assert full["iterations"] >= 2
    capped = cox_screen(x[:, None], time, event, max_iter=1).row(0, named=True)
    assert capped["status"] == "not_converged"
    assert not capped["converged"]
    assert np.isnan(capped["coef"])
    assert capped["p_score"] == pytest.approx(full["p_score"], rel=1e-12)


def test_feature_collinear_with_covariates_is_singular() -> None:
    x, time, event = survival_sample(100, seed=4)
    other = np.random.default_rng(1).normal(size=100)
    covariates = np.column_stack([2.0 * x + 1.0, np.random.default_rng(2).normal(size=100)])
    result = cox_screen(np.column_stack([x, other]), time, event, covariates=covariates)
    assert result["status"].to_list() == ["singular", "ok"]
    singular = result.row(0, named=True)
    for col in ESTIMATES:
        assert np.isnan(singular[col]), col
    assert not singular["converged"]
    alone = cox_screen(other[:, None], time, event, covariates=covariates)
    for col in STATS:
        assert result[col][1] == pytest.approx(alone[col][0], rel=1e-12), col


# ---------------------------------------------------------------------------------------
# Invariances: block size, missing values, excluded samples
# ---------------------------------------------------------------------------------------


def tied_sample(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features with 10% missing values; times from 14 distinct values (heavy ties)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    time = rng.integers(1, 15, n).astype(float)
    x[:, : p // 2] += 0.3 * time[:, None] / 14
    x[rng.random(x.shape) < 0.1] = np.nan
    event = (rng.random(n) < 0.6).astype(float)
    return x, time, event


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("adjusted", [False, True], ids=["plain", "covariates"])
def test_block_size_does_not_change_results(ties: str, adjusted: bool) -> None:
    x, time, event = tied_sample(70, 15, seed=11)
    rng = np.random.default_rng(12)
    kw: dict = {"ties": ties, "strata": rng.integers(0, 2, 70)}
    if adjusted:
        kw["covariates"] = rng.normal(size=(70, 2))
    reference = cox_screen(x, time, event, **kw)
    assert (reference["status"] == "ok").sum() >= 10
    for block in (1, 7):
        other = cox_screen(x, time, event, block_size=block, **kw)
        assert other["status"].equals(reference["status"])
        assert other["n"].equals(reference["n"])
        for col in STATS:
            np.testing.assert_allclose(other[col], reference[col], rtol=1e-12, err_msg=col)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_missing_values_equal_the_complete_case_fit(ties: str) -> None:
    x, time, event = tied_sample(90, 6, seed=5)
    strata = np.random.default_rng(6).integers(0, 2, 90)
    covariates = np.random.default_rng(7).normal(size=(90, 2))
    for cov in (None, covariates):
        together = cox_screen(x, time, event, ties=ties, strata=strata, covariates=cov)  # type: ignore[arg-type]
        for j in range(x.shape[1]):
            keep = ~np.isnan(x[:, j])
            alone = cox_screen(
                x[keep, j : j + 1],
                time[keep],
                event[keep],
                ties=ties,  # type: ignore[arg-type]
                strata=strata[keep],
                covariates=None if cov is None else cov[keep],
            ).row(0, named=True)
            row = together.row(j, named=True)
            assert row["status"] == alone["status"] == "ok"
            assert row["n"] == alone["n"] == keep.sum()
            assert row["events"] == alone["events"]
            for col in STATS:
                assert row[col] == pytest.approx(alone[col], rel=1e-10), (j, col)


def test_samples_with_missing_time_event_or_covariate_are_left_out() -> None:
    x, time, event = survival_sample(80, seed=9)
    covariates = np.random.default_rng(3).normal(size=(80, 1))
    t, e, c = time.copy(), event.copy(), covariates.copy()
    t[0], e[1], c[2, 0] = np.nan, np.nan, np.nan
    with_missing = cox_screen(x[:, None], t, e, covariates=c).row(0, named=True)
    dropped = cox_screen(x[3:, None], time[3:], event[3:], covariates=covariates[3:]).row(
        0, named=True
    )
    assert with_missing["n"] == dropped["n"] == 77
    for col in STATS:
        assert with_missing[col] == pytest.approx(dropped[col], rel=1e-10), col


def test_boolean_events_and_integer_matrix() -> None:
    x, time, event = survival_sample(60, seed=2)
    values = np.round(x * 10)
    as_float = cox_screen(values[:, None], time, event)
    as_int = cox_screen(values.astype(np.int64)[:, None], time, event.astype(bool))
    for col in STATS:
        assert as_int[col][0] == pytest.approx(as_float[col][0], rel=1e-12), col


def test_invalid_inputs_are_rejected() -> None:
    x, time, event = survival_sample(40)
    with pytest.raises(ValueError, match="ties"):
        cox_screen(x[:, None], time, event, ties="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        cox_screen(x[:, None], -time, event)
    with pytest.raises(ValueError, match="one value per row"):
        cox_screen(x[:, None], time[:-1], event)
    with pytest.raises(ValueError, match="0 or 1"):
        cox_screen(x[:, None], time, event * 2)


# ---------------------------------------------------------------------------------------
# Benjamini-Hochberg
# ---------------------------------------------------------------------------------------


def test_benjamini_hochberg_ignores_missing_p_values() -> None:
    rng = np.random.default_rng(4)
    p = rng.random(200) ** 3
    p[rng.random(200) < 0.2] = np.nan
    tested = ~np.isnan(p)
    q = benjamini_hochberg(p)
    assert np.isnan(q[~tested]).all()
    expected = multipletests(p[tested], method="fdr_bh")[1]
    np.testing.assert_allclose(q[tested], expected, rtol=1e-12)
    assert np.isnan(benjamini_hochberg(np.full(3, np.nan))).all()
