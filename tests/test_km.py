"""survomics.km against R survival 3.5-3 (TCGA-ACC reference) and by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import SurvfuncRight

from survomics import km

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
EXPRESSION = ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv"
RTOL = 1e-6


def _tsv(name: str) -> pl.DataFrame:
    return pl.read_csv(REF / name, separator="\t")


@pytest.fixture(scope="module")
def endpoint() -> pl.DataFrame:
    return _tsv("os_endpoint.tsv")


@pytest.fixture(scope="module")
def staged(endpoint: pl.DataFrame) -> pl.DataFrame:
    """The 90 patients with a stage (R's na.omit for the clinical analyses)."""
    return endpoint.filter(pl.col("stage").is_not_null())


def _assert_close(actual: np.ndarray, expected: np.ndarray, *, what: str) -> float:
    """Equal missingness and rtol agreement; return the max relative deviation."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=what)
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=RTOL, atol=0, err_msg=what)
    scale = np.where(expected[ok] == 0, 1.0, np.abs(expected[ok]))
    return float(np.max(np.abs(actual[ok] - expected[ok]) / scale, initial=0.0))


def _float(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Float64).fill_null(np.nan).to_numpy()


# --------------------------------------------------------------------------------------
# Agreement with R
# --------------------------------------------------------------------------------------


def test_kaplan_meier_matches_r_survfit_by_stage(staged: pl.DataFrame) -> None:
    ref = _tsv("kaplan_meier_by_stage.tsv").with_columns(pl.col("time").cast(pl.Float64))
    ours = km.kaplan_meier(staged["time"], staged["event"], group=staged["stage"])
    assert ours.columns == list(km.KM_COLUMNS)
    assert ours["stratum"].unique(maintain_order=True).to_list() == sorted(
        staged["stage"].unique().to_list()
    )
    # summary(survfit) lists the event times; our frame has every distinct time.
    at_events = ours.filter(pl.col("n_event") > 0).drop("n_censor")
    joined = ref.join(at_events, on=["stratum", "time"], how="full", suffix="_py")
    assert joined.height == ref.height == at_events.height
    assert joined["stratum_py"].null_count() == 0
    assert joined["stratum"].null_count() == 0
    assert joined["n_risk"].to_list() == joined["n_risk_py"].to_list()
    assert joined["n_event"].to_list() == joined["n_event_py"].to_list()
    for column in ("survival", "std_err", "lower_95", "upper_95"):
        _assert_close(_float(joined, f"{column}_py"), _float(joined, column), what=column)


def test_km_medians_match_r(staged: pl.DataFrame) -> None:
    ref = _tsv("kaplan_meier_medians.tsv")
    ours = km.km_medians(staged["time"], staged["event"], group=staged["stage"])
    assert ours.columns == list(km.MEDIAN_COLUMNS)
    assert ours["stratum"].to_list() == ref["stratum"].to_list()
    _assert_close(_float(ours, "median"), _float(ref, "median_survival"), what="median")
    counts = staged.group_by("stage").agg(pl.len(), pl.col("event").sum()).sort("stage")
    assert ours["n"].to_list() == counts["len"].to_list()
    assert ours["events"].to_list() == counts["event"].to_list()


def test_logrank_matches_r_survdiff(staged: pl.DataFrame) -> None:
    ref = _tsv("logrank_by_stage.tsv").row(0, named=True)
    result = km.logrank_test(staged["time"], staged["event"], staged["stage"])
    assert result.df == ref["df"]
    _assert_close(np.array([result.chisq]), np.array([ref["chisq"]]), what="chisq")
    _assert_close(np.array([result.p]), np.array([ref["p"]]), what="p")
    # Observed counts are the events; observed and expected totals agree by construction.
    events = dict(staged.group_by("stage").agg(pl.col("event").sum()).iter_rows())
    assert result.observed == pytest.approx({k: float(v) for k, v in events.items()})
    assert sum(result.expected.values()) == pytest.approx(sum(result.observed.values()))
    assert list(result.n) == sorted(events)


@pytest.fixture(scope="module")
def age_stage(endpoint: pl.DataFrame) -> tuple[km.Design, np.ndarray, np.ndarray]:
    design = km.dummy_design(endpoint, numeric=["age"], categorical=["stage"])
    kept = list(design.kept)
    time = endpoint["time"].to_numpy()[kept]
    event = endpoint["event"].to_numpy()[kept]
    return design, time, event


def test_dummy_design_codes_like_r(
    endpoint: pl.DataFrame, age_stage: tuple[km.Design, np.ndarray, np.ndarray]
) -> None:
    design, _, _ = age_stage
    ref = _tsv("multivariable_cox_age_stage.tsv")
    assert design.matrix.columns == ref["term"].to_list()
    missing = endpoint.with_row_index().filter(pl.col("stage").is_null())["index"].to_list()
    assert list(design.dropped) == missing
    assert len(design.kept) + len(design.dropped) == endpoint.height
    assert design.reference == {"stage": "stage i"}
    stage = endpoint["stage"].to_numpy()[list(design.kept)]
    assert (design.matrix["stagestage iv"].to_numpy() == (stage == "stage iv")).all()


def test_cox_fit_matches_r_coxph(age_stage: tuple[km.Design, np.ndarray, np.ndarray]) -> None:
    design, time, event = age_stage
    ref = _tsv("multivariable_cox_age_stage.tsv")
    ours = km.cox_fit(time, event, design.matrix, ties="efron")
    assert ours.columns == list(km.COX_COLUMNS)
    assert ours["term"].to_list() == ref["term"].to_list()
    for column in ("coef", "hr", "se", "p", "lower_95", "upper_95"):
        _assert_close(_float(ours, column), _float(ref, column), what=column)
    np.testing.assert_allclose(ours["z"].to_numpy(), ref["coef"] / ref["se"], rtol=RTOL)


def _reference_c(name: str) -> float:
    return float(_tsv("harrell_c.tsv").filter(pl.col("score") == name)["harrell_c"][0])


def test_harrell_c_of_multivariable_lp_matches_r(
    age_stage: tuple[km.Design, np.ndarray, np.ndarray],
) -> None:
    design, time, event = age_stage
    coef = km.cox_fit(time, event, design.matrix)["coef"].to_numpy()
    lp = design.matrix.to_numpy() @ coef
    expected = _reference_c("multivariable_lp_age_stage")
    assert km.harrell_c(time, event, lp) == pytest.approx(expected, rel=RTOL, abs=0)


def test_harrell_c_of_cdk1_expression_matches_r(endpoint: pl.DataFrame) -> None:
    matrix = pl.read_csv(EXPRESSION, separator="\t")
    row = matrix.filter(pl.col("feature") == "CDK1").drop("feature")
    cdk1 = pl.DataFrame(
        {
            "patient": [barcode[:12] for barcode in row.columns],
            "x": np.log2(row.to_numpy()[0].astype(np.float64) + 1.0),
        }
    )
    data = endpoint.join(cdk1, on="patient", how="inner")
    assert data.height == 79
    expected = _reference_c("expression_log2p1_CDK1")
    observed = km.harrell_c(data["time"], data["event"], data["x"])
    assert observed == pytest.approx(expected, rel=RTOL, abs=0)


# --------------------------------------------------------------------------------------
# Hand checks and edge cases
# --------------------------------------------------------------------------------------

# time 1: 1 death of 6; time 2: 1 censored; time 3: 2 deaths of 4; time 4: 1 death of 2,
# 1 censored at the same time (still at risk); no one left after.
SMALL_TIME = np.array([1.0, 2.0, 3.0, 3.0, 4.0, 4.0])
SMALL_EVENT = np.array([1, 0, 1, 1, 1, 0])


def test_single_stratum_equals_hand_product_limit_and_statsmodels() -> None:
    frame = km.kaplan_meier(SMALL_TIME, SMALL_EVENT)
    assert frame["stratum"].unique().to_list() == ["all"]
    assert frame["time"].to_list() == [1.0, 2.0, 3.0, 4.0]
    assert frame["n_risk"].to_list() == [6, 5, 4, 2]
    assert frame["n_event"].to_list() == [1, 0, 2, 1]
    assert frame["n_censor"].to_list() == [0, 1, 0, 1]
    s1 = 1 - 1 / 6
    s3 = s1 * (1 - 2 / 4)
    s4 = s3 * (1 - 1 / 2)
    greenwood = np.cumsum([1 / (6 * 5), 0.0, 2 / (4 * 2), 1 / (2 * 1)])
    survival = np.array([s1, s1, s3, s4])
    np.testing.assert_allclose(frame["survival"].to_numpy(), survival, rtol=1e-12)
    std_err = survival * np.sqrt(greenwood)
    np.testing.assert_allclose(frame["std_err"].to_numpy(), std_err, rtol=1e-12)
    z = 1.959963984540054
    lower = survival * np.exp(-z * np.sqrt(greenwood))
    upper = np.minimum(survival * np.exp(z * np.sqrt(greenwood)), 1.0)
    np.testing.assert_allclose(frame["lower_95"].to_numpy(), lower, rtol=1e-12)
    np.testing.assert_allclose(frame["upper_95"].to_numpy(), upper, rtol=1e-12)

    reference = SurvfuncRight(SMALL_TIME, SMALL_EVENT)
    events = frame.filter(pl.col("n_event") > 0)
    np.testing.assert_allclose(events["time"].to_numpy(), reference.surv_times)
    np.testing.assert_allclose(events["survival"].to_numpy(), reference.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(events["std_err"].to_numpy(), reference.surv_prob_se, rtol=1e-12)
    np.testing.assert_array_equal(events["n_risk"].to_numpy(), reference.n_risk)


def test_censoring_only_stratum_stays_at_one() -> None:
    frame = km.kaplan_meier([5.0, 3.0, 8.0], [0, 0, 0])
    assert frame["survival"].to_list() == [1.0, 1.0, 1.0]
    assert frame["std_err"].to_list() == [0.0, 0.0, 0.0]
    assert frame["lower_95"].to_list() == [1.0, 1.0, 1.0]
    assert frame["upper_95"].to_list() == [1.0, 1.0, 1.0]
    medians = km.km_medians([5.0, 3.0, 8.0], [0, 0, 0])
    assert medians.row(0) == ("all", 3, 0, None, None, None)


def test_all_events_stratum_reaches_zero_with_missing_se_like_r() -> None:
    frame = km.kaplan_meier([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1])
    np.testing.assert_allclose(frame["survival"].to_numpy(), [0.75, 0.5, 0.25, 0.0])
    last = frame.row(-1, named=True)
    assert (last["std_err"], last["lower_95"], last["upper_95"]) == (None, None, None)
    assert frame["std_err"].null_count() == 1
    # S = 0.5 exactly on [2, 3): R takes the midpoint to the next event time.
    assert km.km_medians([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1])["median"][0] == 2.5


def test_median_flat_at_half_to_the_end_is_its_start_like_r_minmin() -> None:
    # S = 0.5 from t = 2 and never drops again: print.survfit reports 2.
    assert km.km_medians([1.0, 2.0, 3.0, 4.0], [1, 1, 0, 0])["median"][0] == 2.0


def test_median_followup_is_reverse_km_median() -> None:
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.array([1, 0, 0, 1, 0, 0])
    # Censoring is the event: reverse S = 1 at 1 (a death), 4/5 at 2, 3/5 at 3, 3/5 at 4
    # (a death), 3/10 at 5 -> first <= 0.5 at 5.
    assert km.median_followup(time, event) == 5.0
    reverse = km.km_medians(time, 1 - event)["median"][0]
    assert km.median_followup(time, event) == reverse


@pytest.mark.parametrize(
    "group",
    [
        ["a", None, "b", "a"],
        np.array([1.0, np.nan, 2.0, 1.0]),
        pl.Series(["a", None, "b", "a"]),
    ],
    ids=["list-none", "numpy-nan", "polars-null"],
)
def test_group_with_missing_values_is_rejected(group: object) -> None:
    time, event = [1.0, 2.0, 3.0, 4.0], [1, 0, 1, 1]
    with pytest.raises(ValueError, match=r"group has 1 missing values \(rows \[1\]\)"):
        km.kaplan_meier(time, event, group=group)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing values"):
        km.logrank_test(time, event, group)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [
        ([1.0, np.nan], [1, 0], "missing or infinite"),
        ([1.0, -2.0], [1, 0], "negative"),
        ([1.0, 2.0], [1, 2], "0/1"),
        ([1.0, 2.0], np.array([1, None], dtype=object), "0/1"),
        ([1.0, 2.0], [1], "differ in length"),
    ],
)
def test_invalid_survival_data_is_rejected(time: list, event: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        km.kaplan_meier(time, event)


def test_strata_sorted_by_value_and_independent_of_row_order() -> None:
    rng = np.random.default_rng(7)
    time = rng.integers(1, 50, size=60).astype(float)
    event = rng.integers(0, 2, size=60)
    group = rng.choice([10, 2, 1], size=60)
    frame = km.kaplan_meier(time, event, group=group)
    assert frame["stratum"].unique(maintain_order=True).to_list() == ["1", "2", "10"]
    order = rng.permutation(60)
    assert frame.equals(km.kaplan_meier(time[order], event[order], group=group[order]))


def test_logrank_ignores_groups_without_anyone_at_risk_at_events() -> None:
    time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5]
    event = [1, 0, 1, 1, 0, 1, 0]
    group = ["a", "a", "a", "b", "b", "b", "c"]  # "c" is censored before any event
    with_c = km.logrank_test(time, event, group)
    without_c = km.logrank_test(time[:-1], event[:-1], group[:-1])
    assert with_c.df == 1
    assert with_c.expected["c"] == 0.0
    assert with_c.chisq == pytest.approx(without_c.chisq, rel=1e-12)


def test_logrank_needs_two_groups() -> None:
    with pytest.raises(ValueError, match="at least two groups"):
        km.logrank_test([1.0, 2.0], [1, 1], ["a", "a"])


def test_cox_fit_rejects_collinear_or_non_numeric_design() -> None:
    time, event = np.arange(1.0, 9.0), np.array([1, 0, 1, 1, 0, 1, 1, 0])
    x = np.array([0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4, 0.8])
    with pytest.raises(ValueError, match="collinear"):
        km.cox_fit(time, event, pl.DataFrame({"x": x, "x2": 2 * x}))
    with pytest.raises(ValueError, match="numeric"):
        km.cox_fit(time, event, pl.DataFrame({"s": ["a"] * 8}))


def test_cox_fit_reports_non_convergence() -> None:
    # x = 1 exactly for the five earliest deaths: the likelihood is monotone in beta.
    time, event = np.arange(1.0, 11.0), np.array([1] * 5 + [0] * 5)
    with pytest.raises(RuntimeError, match="did not converge"):
        km.cox_fit(time, event, pl.DataFrame({"x": [1.0] * 5 + [0.0] * 5}))


def test_dummy_design_reference_override_and_errors() -> None:
    frame = pl.DataFrame(
        {"age": [50.0, float("nan"), 60.0, 70.0], "arm": ["b", "a", "a", "c"]},
    )
    design = km.dummy_design(frame, numeric=["age"], categorical=["arm"], reference={"arm": "c"})
    assert design.dropped == (1,)
    assert design.kept == (0, 2, 3)
    assert design.matrix.columns == ["age", "arma", "armb"]
    assert design.matrix["arma"].to_list() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="reference level 'z'"):
        km.dummy_design(frame, numeric=[], categorical=["arm"], reference={"arm": "z"})
    with pytest.raises(ValueError, match="not in the frame"):
        km.dummy_design(frame, numeric=["weight"], categorical=[])


def test_harrell_c_counts_exact_score_ties_as_half() -> None:
    # One comparable pair per earlier death; scores tie exactly for the first pair.
    time, event = [1.0, 2.0, 3.0], [1, 1, 0]
    assert km.harrell_c(time, event, [1.0, 1.0, 0.0]) == pytest.approx((0.5 + 1 + 1) / 3)
    # A score difference of 1e-9 is not a tie (scikit-survival's default would say so).
    assert km.harrell_c(time, event, [1.0 + 1e-9, 1.0, 0.0]) == 1.0


@pytest.mark.parametrize(
    ("time", "event"),
    [([1.0, 2.0], [0, 0]), ([0.0, 1.0, 0.0, 1.0], [0, 1, 0, 1])],
    ids=["no-event", "events-tied-at-the-end"],
)
def test_harrell_c_without_comparable_pair_is_rejected(time: list, event: list) -> None:
    with pytest.raises(ValueError, match="no comparable pair"):
        km.harrell_c(time, event, np.arange(len(time), dtype=float))


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

survival_data = st.integers(min_value=2, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 20), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(survival_data)
def test_km_invariants(data: tuple[list[int], list[int], list[str]]) -> None:
    time, event, group = data
    frame = km.kaplan_meier(time, event, group=group)
    assert frame["n_event"].sum() == sum(event)
    assert frame["n_event"].sum() + frame["n_censor"].sum() == len(time)
    for (_,), part in frame.group_by("stratum", maintain_order=True):
        s = part["survival"].to_numpy()
        assert np.all(np.diff(s) <= 0)
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(part["n_risk"].to_numpy()) < 0)
        ok = part.filter(pl.col("lower_95").is_not_null())
        assert (ok["lower_95"] <= ok["survival"] + 1e-12).all()
        assert (ok["survival"] <= ok["upper_95"] + 1e-12).all()
        assert (ok["upper_95"] <= 1.0).all()


@settings(max_examples=40, deadline=None)
@given(survival_data, st.lists(st.floats(-5, 5, allow_nan=False), min_size=30, max_size=30))
def test_harrell_c_reverses_with_the_score(
    data: tuple[list[int], list[int], list[str]], raw: list[float]
) -> None:
    time, event, _ = data
    score = np.asarray(raw[: len(time)])
    try:
        c = km.harrell_c(time, event, score)
    except ValueError:
        return  # no comparable pair
    assert 0.0 <= c <= 1.0
    assert km.harrell_c(time, event, -score) == pytest.approx(1.0 - c, abs=1e-12)
