"""survomics.model.evaluate against scikit-survival, lifelines, R and direct computation.

Expected numbers come from R (``tests/data/reference/tcga_acc``), from calling the
underlying library directly, or from an independent computation written here (pairwise
counts, closed forms without censoring); none is typed in by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test as lifelines_logrank
from lifelines.utils import concordance_index
from sklearn.metrics import roc_auc_score
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.util import Surv

from survomics import km
from survomics.model import evaluate as ev

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
EXPRESSION = ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv"


def _simulate(n: int, *, seed: int, censoring: bool = True) -> dict[str, np.ndarray]:
    """Cox data: hazard exp(x), exponential baseline, optional exponential censoring."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    true_time = rng.exponential(np.exp(-x))
    if censoring:
        cens = rng.exponential(1.5, size=n)
        time, event = np.minimum(true_time, cens), (true_time <= cens).astype(np.int64)
    else:
        time, event = true_time, np.ones(n, dtype=np.int64)
    times = np.quantile(time, np.linspace(0.05, 0.9, 25))
    survival = np.exp(-np.outer(np.exp(x), times))  # the true model's S(t | x)
    return {"x": x, "time": time, "event": event, "times": times, "survival": survival}


@pytest.fixture(scope="module")
def sim() -> dict[str, np.ndarray]:
    return _simulate(300, seed=11)


@pytest.fixture(scope="module")
def tied() -> dict[str, np.ndarray]:
    """Coarsened times and scores: ties in time (event/event, event/censored) and in risk."""
    data = _simulate(250, seed=5)
    return {
        "time": np.ceil(data["time"] * 10) / 10,
        "event": data["event"],
        "risk": np.round(data["x"]),
    }


def _brute_force_c(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's C by counting pairs (R survival::concordance rules)."""
    shorter = time[:, None] < time[None, :]
    same_time = (time[:, None] == time[None, :]) & (event[None, :] == 0)
    comparable = (event[:, None] == 1) & (shorter | same_time)
    concordant = comparable & (risk[:, None] > risk[None, :])
    tie = comparable & (risk[:, None] == risk[None, :])
    return float((concordant.sum() + tie.sum() / 2) / comparable.sum())


def _y(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    return Surv.from_arrays(event.astype(bool), time)


# ---------------------------------------------------------------------------------------
# Harrell's C
# ---------------------------------------------------------------------------------------


def test_harrell_c_equals_sksurv_lifelines_and_pair_count(sim: dict) -> None:
    t, e, x = sim["time"], sim["event"], sim["x"]
    ours = ev.harrell_c(time=t, event=e, risk=x)
    direct = concordance_index_censored(e.astype(bool), t, x, tied_tol=0.0)[0]
    assert ours == direct
    # lifelines scores predicted times: higher risk = shorter time, so negate.
    assert ours == pytest.approx(concordance_index(t, -x, e), abs=1e-12)
    assert ours == pytest.approx(_brute_force_c(t, e, x), abs=1e-12)


def test_harrell_c_with_ties_equals_pair_count_and_km(tied: dict) -> None:
    t, e, r = tied["time"], tied["event"], tied["risk"]
    assert np.unique(t).size < t.size
    assert np.unique(r).size < 10
    ours = ev.harrell_c(time=t, event=e, risk=r)
    assert ours == pytest.approx(_brute_force_c(t, e, r), abs=1e-12)
    assert ours == pytest.approx(km.harrell_c(t, e, r), abs=1e-15)


def test_harrell_c_extremes_and_random(sim: dict) -> None:
    t, e = sim["time"], sim["event"]
    assert ev.harrell_c(time=t, event=e, risk=-t) == 1.0
    assert ev.harrell_c(time=t, event=e, risk=t) == 0.0
    assert ev.harrell_c(time=t, event=e, risk=np.zeros_like(t)) == 0.5
    big = _simulate(3000, seed=3)
    noise = np.random.default_rng(4).normal(size=3000)
    c = ev.harrell_c(time=big["time"], event=big["event"], risk=noise)
    assert abs(c - 0.5) < 0.03


@pytest.fixture(scope="module")
def acc_cdk1() -> dict[str, np.ndarray]:
    """CDK1 log2(x + 1) expression of the 79 TCGA-ACC patients and R's endpoint."""
    endpoint = pl.read_csv(REF / "os_endpoint.tsv", separator="\t")
    expr = pl.read_csv(EXPRESSION, separator="\t")
    samples = [c for c in expr.columns if c != "feature"]
    row = expr.filter(pl.col("feature") == "CDK1").select(samples)
    data = pl.DataFrame(
        {"patient": [s[:12] for s in samples], "x": row.to_numpy()[0].astype(np.float64)}
    ).join(endpoint, on="patient", how="inner", maintain_order="left")
    assert data.height == 79
    return {
        "time": data["time"].to_numpy().astype(np.float64),
        "event": data["event"].to_numpy(),
        "x": np.log2(data["x"].to_numpy() + 1.0),
    }


def test_harrell_c_matches_r_on_cdk1(acc_cdk1: dict) -> None:
    ref = pl.read_csv(REF / "harrell_c.tsv", separator="\t")
    expected = ref.filter(pl.col("score") == "expression_log2p1_CDK1")["harrell_c"].item()
    ours = ev.harrell_c(time=acc_cdk1["time"], event=acc_cdk1["event"], risk=acc_cdk1["x"])
    assert ours == pytest.approx(expected, rel=1e-12, abs=0)


def test_harrell_c_degenerate_is_nan() -> None:
    t = np.array([1.0, 2.0, 3.0])
    assert np.isnan(ev.harrell_c(time=t, event=[0, 0, 0], risk=[1.0, 2.0, 3.0]))
    # Events tied at the last time: no comparable pair.
    assert np.isnan(ev.harrell_c(time=[1.0, 3.0, 3.0], event=[0, 1, 1], risk=[1.0, 2.0, 3.0]))
    assert np.isnan(ev.harrell_c(time=[2.0], event=[1], risk=[0.0]))


# ---------------------------------------------------------------------------------------
# Uno's C and time-dependent AUC
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [None, 0.8])
def test_uno_c_equals_sksurv(sim: dict, tau: float | None) -> None:
    t, e, x = sim["time"], sim["event"], sim["x"]
    train = _simulate(400, seed=12)
    ours = ev.uno_c(
        train_time=train["time"], train_event=train["event"], time=t, event=e, risk=x, tau=tau
    )
    assert t.max() <= train["time"].max()  # else nan (tested below)
    direct = concordance_index_ipcw(
        _y(train["time"], train["event"]), _y(t, e), x, tau=tau, tied_tol=0
    )
    assert ours == direct[0]
    assert 0.6 < ours < 0.8


def test_uno_c_without_censoring_is_harrell_c() -> None:
    # No censoring: every weight 1/G(t)^2 is 1 and Uno's C is Harrell's C.
    data = _simulate(200, seed=8, censoring=False)
    t, e, x = data["time"], data["event"], data["x"]
    uno = ev.uno_c(train_time=t, train_event=e, time=t, event=e, risk=x, tau=None)
    assert uno == pytest.approx(_brute_force_c(t, e, x), abs=1e-12)


def test_uno_c_degenerate_is_nan(sim: dict) -> None:
    t, e, x = sim["time"], sim["event"], sim["x"]
    none = np.zeros_like(e)
    assert np.isnan(ev.uno_c(train_time=t, train_event=e, time=t, event=none, risk=x, tau=None))
    assert np.isnan(ev.uno_c(train_time=t, train_event=none, time=t, event=e, risk=x, tau=None))
    # tau before the first event: nothing to compare.
    first = t[e == 1].min()
    assert np.isnan(ev.uno_c(train_time=t, train_event=e, time=t, event=e, risk=x, tau=first))
    # Follow-up beyond the training data: censoring distribution unknown there.
    short = t < np.median(t)
    assert np.isnan(
        ev.uno_c(train_time=t[short], train_event=e[short], time=t, event=e, risk=x, tau=None)
    )


def test_uno_c_nan_when_censoring_curve_is_zero_at_an_event() -> None:
    # Last training observation censored: G drops to 0 there; a test event at that time
    # would get weight 1/0.
    train_t = np.array([1.0, 2.0, 3.0, 4.0])
    train_e = np.array([1, 0, 1, 0])
    t = np.array([1.0, 2.5, 4.0])
    e = np.array([1, 0, 1])
    r = np.array([3.0, 2.0, 1.0])
    value = ev.uno_c(train_time=train_t, train_event=train_e, time=t, event=e, risk=r, tau=None)
    assert np.isnan(value)
    with pytest.raises(ValueError, match="censoring survival function is zero"):
        concordance_index_ipcw(_y(train_t, train_e), _y(t, e), r)


def test_time_dependent_auc_equals_sksurv(sim: dict) -> None:
    t, e, x = sim["time"], sim["event"], sim["x"]
    horizons = [0.7, 0.2, 0.4]
    ours = ev.time_dependent_auc(
        train_time=t, train_event=e, time=t, event=e, risk=x, horizons=horizons
    )
    assert list(ours) == horizons
    scores, _ = cumulative_dynamic_auc(_y(t, e), _y(t, e), x, sorted(horizons), tied_tol=0)
    for h, score in zip(sorted(horizons), scores, strict=True):
        assert ours[h] == score


def test_time_dependent_auc_without_censoring_is_mann_whitney_auc() -> None:
    data = _simulate(300, seed=9, censoring=False)
    t, e, x = data["time"], data["event"], data["x"]
    horizons = [float(np.quantile(t, q)) for q in (0.25, 0.5, 0.75)]
    ours = ev.time_dependent_auc(
        train_time=t, train_event=e, time=t, event=e, risk=x, horizons=horizons
    )
    for h in horizons:
        assert ours[h] == pytest.approx(roc_auc_score(t <= h, x), abs=1e-12)


def test_time_dependent_auc_outside_follow_up_is_nan(sim: dict) -> None:
    t, e, x = sim["time"], sim["event"], sim["x"]
    first_event = t[e == 1].min()
    horizons = [t.max(), t.max() + 1, t.min() / 2, -1.0, 0.5, first_event / 2]
    ours = ev.time_dependent_auc(
        train_time=t, train_event=e, time=t, event=e, risk=x, horizons=horizons
    )
    assert np.isnan([ours[h] for h in horizons if h != 0.5]).all()
    assert 0.5 < ours[0.5] < 1.0
    with pytest.raises(ValueError, match="within follow-up"):  # what sksurv would do
        cumulative_dynamic_auc(_y(t, e), _y(t, e), x, [t.max()])


# ---------------------------------------------------------------------------------------
# Integrated Brier score
# ---------------------------------------------------------------------------------------


def test_integrated_brier_equals_sksurv_on_the_valid_grid(sim: dict) -> None:
    t, e, s, grid = sim["time"], sim["event"], sim["survival"], sim["times"]
    ours = ev.integrated_brier(train_time=t, train_event=e, time=t, event=e, survival=s, times=grid)
    assert ours == integrated_brier_score(_y(t, e), _y(t, e), s, grid)
    # Grid points outside [min(time), max(time)) are dropped, with their columns.
    wide = np.r_[t.min() / 2, grid, t.max(), t.max() * 2]
    wide_s = np.column_stack([np.ones(t.size), s, np.zeros((t.size, 2))])
    assert (
        ev.integrated_brier(
            train_time=t, train_event=e, time=t, event=e, survival=wide_s, times=wide
        )
        == ours
    )


def test_integrated_brier_of_the_empirical_curve_without_censoring() -> None:
    # Without censoring, predicting everyone the empirical survival p(t) gives a Brier
    # score of p(1 - p) at t (a Bernoulli variance); the IBS is its trapezoidal mean.
    data = _simulate(400, seed=10, censoring=False)
    t, e, grid = data["time"], data["event"], data["times"]
    p = (t[:, None] > grid[None, :]).mean(axis=0)
    s = np.broadcast_to(p, (t.size, grid.size))
    ours = ev.integrated_brier(train_time=t, train_event=e, time=t, event=e, survival=s, times=grid)
    bs = p * (1 - p)
    expected = np.sum((bs[1:] + bs[:-1]) / 2 * np.diff(grid)) / (grid[-1] - grid[0])
    assert ours == pytest.approx(expected, abs=1e-12)
    # The true model does better than the marginal curve, which does better than 0.5.
    true_ibs = ev.integrated_brier(
        train_time=t, train_event=e, time=t, event=e, survival=data["survival"], times=grid
    )
    half = ev.integrated_brier(
        train_time=t, train_event=e, time=t, event=e, survival=np.full_like(s, 0.5), times=grid
    )
    assert true_ibs < ours < half
    assert half == pytest.approx(0.25, abs=1e-12)


def test_integrated_brier_degenerate_is_nan(sim: dict) -> None:
    t, e, s, grid = sim["time"], sim["event"], sim["survival"], sim["times"]
    late = grid + t.max()  # entirely beyond follow-up
    assert np.isnan(
        ev.integrated_brier(train_time=t, train_event=e, time=t, event=e, survival=s, times=late)
    )
    one = ev.integrated_brier(
        train_time=t, train_event=e, time=t, event=e, survival=s[:, :1], times=grid[:1]
    )
    assert np.isnan(one)
    none = np.zeros_like(e)
    assert np.isnan(
        ev.integrated_brier(train_time=t, train_event=e, time=t, event=none, survival=s, times=grid)
    )


# ---------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------


def test_calibration_groups_and_observed_km(sim: dict) -> None:
    t, e = sim["time"], sim["event"]
    column = 12
    horizon, pred = float(sim["times"][column]), sim["survival"][:, column]
    table = ev.calibration(time=t, event=e, survival_at_horizon=pred, horizon=horizon, groups=4)
    assert table.columns == list(ev.CALIBRATION_COLUMNS)
    assert table["group"].to_list() == [1, 2, 3, 4]
    assert table["n"].to_list() == [75, 75, 75, 75]
    order = np.argsort(pred, kind="stable")
    for k, members in enumerate(np.array_split(order, 4)):
        row = table.row(k, named=True)
        assert row["events"] == e[members].sum()
        assert row["predicted"] == pytest.approx(pred[members].mean(), abs=1e-15)
        fit = KaplanMeierFitter().fit(t[members], e[members])
        observed = float(fit.survival_function_at_times(horizon).iloc[0])
        assert row["observed"] == pytest.approx(observed, abs=1e-12)
        assert row["lower_95"] <= row["observed"] <= row["upper_95"]
    # Groups of increasing predicted survival; the true model is well calibrated.
    assert np.all(np.diff(table["predicted"].to_numpy()) > 0)
    error = ev.calibration_error(table)
    n = table["n"].to_numpy()
    diff = np.abs(table["predicted"].to_numpy() - table["observed"].to_numpy())
    assert error == pytest.approx(np.sum(n * diff) / n.sum(), abs=1e-15)
    assert error < 0.1


def test_calibration_error_detects_miscalibration() -> None:
    data = _simulate(2000, seed=21)
    t, e = data["time"], data["event"]
    horizon, pred = float(data["times"][10]), data["survival"][:, 10]
    good = ev.calibration_error(
        ev.calibration(time=t, event=e, survival_at_horizon=pred, horizon=horizon, groups=5)
    )
    bad = ev.calibration_error(
        ev.calibration(time=t, event=e, survival_at_horizon=pred**3, horizon=horizon, groups=5)
    )
    assert good < 0.03
    assert bad > 0.1


def test_calibration_beyond_follow_up_is_null() -> None:
    t = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
    e = np.array([1, 0, 0, 1, 0, 0])
    pred = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    table = ev.calibration(time=t, event=e, survival_at_horizon=pred, horizon=5.0, groups=2)
    assert table["observed"].to_list()[0] is None  # group 1 followed up to time 3 only
    assert table["observed"][1] == 1.0
    assert ev.calibration_error(table) == pytest.approx(abs(0.8 - 1.0), abs=1e-15)
    nothing = ev.calibration(time=t[:3], event=e[:3], survival_at_horizon=pred[:3], horizon=5.0)
    assert table.height == 2
    assert nothing.height == 3  # fewer patients than groups: one group each
    assert np.isnan(ev.calibration_error(nothing.filter(pl.col("group") > 1)))


# ---------------------------------------------------------------------------------------
# Risk groups
# ---------------------------------------------------------------------------------------


def test_risk_groups_split_at_the_median_with_ties_low() -> None:
    groups = ev.risk_groups(risk=[5.0, 1.0, 3.0, 3.0, 3.0, 4.0])
    assert groups.tolist() == ["high", "low", "low", "low", "low", "high"]
    assert set(ev.risk_groups(risk=np.ones(4)).tolist()) == {"low"}
    rng = np.random.default_rng(0)
    balanced = ev.risk_groups(risk=rng.normal(size=101))
    assert (balanced == "high").sum() == 50


def test_risk_group_logrank_equals_km_and_lifelines(sim: dict) -> None:
    t, e = sim["time"], sim["event"]
    groups = ev.risk_groups(risk=sim["x"])
    chisq, p = ev.risk_group_logrank(time=t, event=e, groups=groups)
    direct = km.logrank_test(t, e, groups)
    assert (chisq, p) == (direct.chisq, direct.p)
    high = groups == "high"
    other = lifelines_logrank(t[high], t[~high], e[high], e[~high])
    assert chisq == pytest.approx(other.test_statistic, rel=1e-10)
    assert p == pytest.approx(other.p_value, rel=1e-8)
    assert p < 1e-6


def test_risk_group_logrank_degenerate_is_nan() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.isnan(ev.risk_group_logrank(time=t, event=[1, 1, 0, 1], groups=["low"] * 4)).all()
    assert np.isnan(
        ev.risk_group_logrank(time=t, event=[0, 0, 0, 0], groups=["low", "high"] * 2)
    ).all()
    # The only "high" patient leaves before the first event: nobody of it at risk.
    values = ev.risk_group_logrank(time=t, event=[0, 1, 1, 0], groups=["high"] + ["low"] * 3)
    assert np.isnan(values).all()


# ---------------------------------------------------------------------------------------
# One repeat
# ---------------------------------------------------------------------------------------


def _repeat_args(data: dict, **changes: object) -> dict:
    args = {
        "time": data["time"],
        "event": data["event"],
        "risk": data["x"],
        "survival": data["survival"],
        "times": data["times"],
        "horizons": [0.3, 0.6, 1.2],
        "tau": None,
        "calibration_horizon": float(data["times"][12]),
        "train_time": data["time"],
        "train_event": data["event"],
    }
    args.update(changes)
    return args


def test_evaluate_repeat_combines_the_metrics(sim: dict) -> None:
    args = _repeat_args(sim)
    values = ev.evaluate_repeat(**args)
    assert list(values) == [
        "harrell_c",
        "uno_c",
        "auc_0.3",
        "auc_0.6",
        "auc_1.2",
        "mean_auc",
        "ibs",
        "calibration_error",
        "logrank_p",
    ]
    t, e, x = sim["time"], sim["event"], sim["x"]
    assert values["harrell_c"] == ev.harrell_c(time=t, event=e, risk=x)
    assert values["uno_c"] == ev.uno_c(
        train_time=t, train_event=e, time=t, event=e, risk=x, tau=None
    )
    scores, mean_auc = cumulative_dynamic_auc(_y(t, e), _y(t, e), x, [0.3, 0.6, 1.2], tied_tol=0)
    assert [values["auc_0.3"], values["auc_0.6"], values["auc_1.2"]] == scores.tolist()
    assert values["mean_auc"] == mean_auc
    assert values["ibs"] == ev.integrated_brier(
        train_time=t, train_event=e, time=t, event=e, survival=sim["survival"], times=sim["times"]
    )
    table = ev.calibration(
        time=t, event=e, survival_at_horizon=sim["survival"][:, 12], horizon=sim["times"][12]
    )
    assert values["calibration_error"] == ev.calibration_error(table)
    groups = ev.risk_groups(risk=x)
    assert values["logrank_p"] == ev.risk_group_logrank(time=t, event=e, groups=groups)[1]


def test_evaluate_repeat_degenerate_gives_nan(sim: dict) -> None:
    none = np.zeros_like(sim["event"])
    values = ev.evaluate_repeat(**_repeat_args(sim, event=none))
    defined = {"calibration_error"}  # KM survival is 1 without events: still comparable
    assert all(np.isnan(v) for k, v in values.items() if k not in defined)
    beyond = ev.evaluate_repeat(
        **_repeat_args(sim, horizons=[sim["time"].max() * 2], calibration_horizon=1e6)
    )
    assert np.isnan(beyond[f"auc_{sim['time'].max() * 2:g}"])
    assert np.isnan(beyond["mean_auc"])
    assert np.isnan(beyond["calibration_error"])
    assert np.isfinite(beyond["harrell_c"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"risk": np.r_[np.nan, np.zeros(299)]}, "risk has missing"),
        ({"risk": np.zeros(10)}, "risk has shape"),
        ({"survival": np.zeros((300, 3))}, "survival has shape"),
        ({"survival": np.full((300, 25), 1.5)}, r"\[0, 1\]"),
        ({"times": np.linspace(1, 0.1, 25)}, "strictly increasing"),
        ({"event": np.full(300, 2)}, "event must be 0/1"),
        ({"time": np.r_[-1.0, np.ones(299)]}, "non-negative"),
        ({"horizons": [np.nan]}, "horizons"),
        ({"tau": 0.0}, "tau"),
        ({"train_event": np.zeros(3)}, "train_event has shape"),
    ],
)
def test_evaluate_repeat_rejects_malformed_input(sim: dict, change: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ev.evaluate_repeat(**_repeat_args(sim, **change))


# ---------------------------------------------------------------------------------------
# Summary across repeats
# ---------------------------------------------------------------------------------------


def test_summarise_mean_percentiles_and_exact_values() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for model in ("cox", "coxnet"):
        for repeat in (2, 0, 1, 4, 3):  # unsorted repeats
            for metric in ("harrell_c", "ibs"):
                rows.append((model, repeat, metric, float(rng.uniform())))
    per_repeat = pl.DataFrame(rows, schema=["model", "repeat", "metric", "value"], orient="row")
    table = ev.summarise(per_repeat)
    assert table.columns == list(ev.SUMMARY_COLUMNS)
    assert table.select("model", "metric").rows() == [
        ("cox", "harrell_c"),
        ("cox", "ibs"),
        ("coxnet", "harrell_c"),
        ("coxnet", "ibs"),
    ]
    for row in table.iter_rows(named=True):
        part = per_repeat.filter(
            (pl.col("model") == row["model"]) & (pl.col("metric") == row["metric"])
        ).sort("repeat")
        v = part["value"].to_numpy()
        assert row["n_repeats"] == 5
        assert row["mean"] == np.mean(v)
        assert (row["lower"], row["upper"]) == tuple(np.percentile(v, [2.5, 97.5]))
        parsed = [float(s) for s in row["values"].split(";")]
        assert parsed == v.tolist()  # bit-exact round trip, in repeat order


def test_summarise_skips_nan_and_rejects_duplicates() -> None:
    per_repeat = pl.DataFrame(
        {
            "model": ["m"] * 4,
            "repeat": [0, 1, 2, 0],
            "metric": ["a", "a", "a", "b"],
            "value": [0.5, float("nan"), 0.7, float("nan")],
        }
    )
    table = ev.summarise(per_repeat)
    a = table.row(0, named=True)
    assert a["n_repeats"] == 2
    assert a["mean"] == np.mean([0.5, 0.7])
    assert a["values"] == "0.5;nan;0.69999999999999996"
    b = table.row(1, named=True)
    assert b["n_repeats"] == 0
    assert np.isnan(b["mean"])
    with pytest.raises(ValueError, match="more than one value"):
        ev.summarise(pl.concat([per_repeat, per_repeat.head(1)]))
    with pytest.raises(ValueError, match="lacks columns"):
        ev.summarise(per_repeat.drop("repeat"))
