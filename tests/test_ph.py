"""survomics.km.ph_test against R survival 3.5-3 ``cox.zph`` and by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from statsmodels.duration.hazard_regression import PHReg

from survomics import km

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
RTOL = 1e-6
TRANSFORMS = ("km", "rank", "identity", "log")


def _tsv(name: str) -> pl.DataFrame:
    return pl.read_csv(REF / name, separator="\t")


@pytest.fixture(scope="module")
def staged() -> pl.DataFrame:
    """The 90 patients with a stage (R's na.omit for the clinical analyses)."""
    return _tsv("os_endpoint.tsv").filter(pl.col("stage").is_not_null())


@pytest.fixture(scope="module")
def design(staged: pl.DataFrame) -> km.Design:
    return km.dummy_design(staged, numeric=["age"], categorical=["stage"])


@pytest.fixture(scope="module")
def terms(design: km.Design) -> dict[str, list[str]]:
    """R's assign: age, then the three stage dummies (stage i is the reference)."""
    assert design.reference == {"stage": "stage i"}
    stage = [c for c in design.matrix.columns if c != "age"]
    assert stage == ["stagestage ii", "stagestage iii", "stagestage iv"]
    return {"age": ["age"], "stage": stage}


def _simulate(
    rng: np.random.Generator, n: int, *, reverse_at: float | None = None
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """Exponential times, a continuous and a three-level covariate, uniform censoring.

    With ``reverse_at``, the binary part of the effect (level ``b`` vs ``a``) has hazard
    ratio 4 before that time and 1/4 after it (non-proportional hazards); otherwise all
    effects are constant (proportional hazards). Times are rounded to give ties.
    """
    z = rng.normal(size=n)
    level = rng.integers(0, 3, size=n)
    lp = 0.5 * z + 0.4 * (level == 2)
    base = np.exp(lp)
    if reverse_at is None:
        t_event = rng.exponential(1.0 / base)
    else:
        hr_early = np.where(level == 1, 4.0, 1.0)
        hr_late = np.where(level == 1, 0.25, 1.0)
        # Piecewise-constant hazard: invert the cumulative hazard at an Exp(1) draw.
        target = rng.exponential(size=n)
        early_rate = base * hr_early
        late_rate = base * hr_late
        before = target < early_rate * reverse_at
        t_event = np.where(
            before,
            target / early_rate,
            reverse_at + (target - early_rate * reverse_at) / late_rate,
        )
    t_censor = rng.uniform(0.0, 3.0, size=n)
    time = np.round(np.minimum(t_event, t_censor), 2) + 0.01
    event = (t_event <= t_censor).astype(np.int64)
    frame = pl.DataFrame({"z": z, "level": np.array(["a", "b", "c"])[level]})
    matrix = km.dummy_design(frame, numeric=["z"], categorical=["level"]).matrix
    return time, event, matrix


SIM_TERMS = {"z": ["z"], "level": ["levelb", "levelc"]}


# --------------------------------------------------------------------------------------
# Agreement with R
# --------------------------------------------------------------------------------------


def test_ph_test_matches_r_cox_zph_km(
    staged: pl.DataFrame, design: km.Design, terms: dict[str, list[str]]
) -> None:
    ref = _tsv("proportional_hazards_test_age_stage.tsv")
    ours = km.ph_test(staged["time"], staged["event"], design.matrix, terms=terms)
    assert ours.columns == list(km.PH_COLUMNS)
    assert ours["term"].to_list() == ref["term"].to_list() == ["age", "stage", "GLOBAL"]
    assert ours["df"].to_list() == ref["df"].to_list()
    for column in ("chisq", "p"):
        np.testing.assert_allclose(
            ours[column].to_numpy(), ref[column].to_numpy(), rtol=RTOL, atol=0, err_msg=column
        )


def test_ph_test_with_r_coefficients_is_exact(
    staged: pl.DataFrame, design: km.Design, terms: dict[str, list[str]]
) -> None:
    """Given R's own coefficients, only rounding separates the two computations."""
    ref = _tsv("proportional_hazards_test_age_stage.tsv")
    coef = _tsv("multivariable_cox_age_stage.tsv")
    assert coef["term"].to_list() == design.matrix.columns
    ours = km.ph_test(
        staged["time"], staged["event"], design.matrix, terms=terms, coef=coef["coef"]
    )
    for column in ("chisq", "p"):
        np.testing.assert_allclose(
            ours[column].to_numpy(), ref[column].to_numpy(), rtol=1e-12, atol=0, err_msg=column
        )


# --------------------------------------------------------------------------------------
# By construction: the score test of the Cox model with X * g(t) added
# --------------------------------------------------------------------------------------


def _transformed_times(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    """R's ``cox.zph`` time transforms, from the definitions (``km`` via kaplan_meier)."""
    if transform == "identity":
        return time
    if transform == "log":
        return np.log(time)
    if transform == "rank":
        return rankdata(time)
    curve = km.kaplan_meier(time, event)
    times, survival = curve["time"].to_numpy(), curve["survival"].to_numpy()
    # Left-continuous: S just before t is S at the last distinct time before t (1 if none).
    before = np.searchsorted(times, time, side="left") - 1
    return 1.0 - np.where(before >= 0, survival[np.maximum(before, 0)], 1.0)


def _counting_process_chisq(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    *,
    transform: str,
    ties: str,
    index: list[int],
) -> float:
    """The score test from statsmodels PHReg on data split at every event time.

    Each subject gets one row per event time it is at risk at, with covariates
    ``[x, x * g(t_k)]`` (``g`` centred over the events as R does); the score and the
    Hessian of that model at ``(beta, 0)`` give the test of the interactions in ``index``.
    """
    g = _transformed_times(time, event, transform)
    g = g - g[event == 1].mean()
    death_times = np.unique(time[event == 1])
    g_at = np.array([g[(time == u) & (event == 1)][0] for u in death_times])
    rows = []
    for i in range(time.size):
        previous = 0.0
        for k, u in enumerate(death_times[death_times <= time[i]]):
            # Enter between the previous event time and this one: the same risk set at
            # every event time whether PHReg counts entry times as at risk or not.
            status = float(event[i] == 1 and u == time[i])
            rows.append([(previous + u) / 2, u, status, *x[i], *(x[i] * g_at[k])])
            previous = u
    split = np.array(rows)
    model = PHReg(split[:, 1], split[:, 3:], status=split[:, 2], entry=split[:, 0], ties=ties)
    params = np.concatenate([beta, np.zeros(x.shape[1])])
    p = x.shape[1]
    keep = [*range(p), *(p + j for j in index)]
    score = np.concatenate([np.zeros(p), model.score(params)[[p + j for j in index]]])
    information = -model.hessian(params)[np.ix_(keep, keep)]
    return float(score @ np.linalg.solve(information, score))


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_ph_test_is_the_score_test_of_time_interactions(transform: str, ties: str) -> None:
    time, event, matrix = _simulate(np.random.default_rng(7), 60)
    assert np.unique(time[event == 1]).size < event.sum()  # tied event times present
    ours = km.ph_test(time, event, matrix, terms=SIM_TERMS, transform=transform, ties=ties)
    beta = km.cox_fit(time, event, matrix, ties=ties)["coef"].to_numpy()
    x = matrix.to_numpy()
    columns = matrix.columns
    for name, index in [
        *((n, [columns.index(c) for c in cs]) for n, cs in SIM_TERMS.items()),
        ("GLOBAL", list(range(len(columns)))),
    ]:
        expected = _counting_process_chisq(
            time, event, x, beta, transform=transform, ties=ties, index=index
        )
        row = ours.filter(pl.col("term") == name)
        np.testing.assert_allclose(row["chisq"][0], expected, rtol=1e-8, err_msg=name)
        assert row["df"][0] == len(index)


# --------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------


def test_proportional_hazards_data_are_not_rejected_on_average() -> None:
    rng = np.random.default_rng(2024)
    p_values = []
    for _ in range(25):
        time, event, matrix = _simulate(rng, 100)
        result = km.ph_test(time, event, matrix, terms=SIM_TERMS)
        p_values.append(result.filter(pl.col("term") == "GLOBAL")["p"][0])
    p = np.array(p_values)
    assert 0.35 < p.mean() < 0.65
    assert np.mean(p < 0.05) <= 0.15


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_a_reversing_effect_is_detected(transform: str) -> None:
    time, event, matrix = _simulate(np.random.default_rng(11), 300, reverse_at=0.4)
    result = km.ph_test(time, event, matrix, terms=SIM_TERMS, transform=transform)
    p = dict(zip(result["term"], result["p"], strict=True))
    assert p["level"] < 0.01
    assert p["GLOBAL"] < 0.01


def test_default_terms_are_the_design_columns(
    staged: pl.DataFrame, design: km.Design, terms: dict[str, list[str]]
) -> None:
    by_term = km.ph_test(staged["time"], staged["event"], design.matrix, terms=terms)
    by_column = km.ph_test(
        staged["time"], staged["event"], design.matrix, transform="identity", ties="breslow"
    )
    assert by_column["term"].to_list() == [*design.matrix.columns, "GLOBAL"]
    assert by_column["df"].to_list() == [1, 1, 1, 1, 4]
    assert np.isfinite(by_column["chisq"].to_numpy()).all()
    assert ((by_column["p"] > 0) & (by_column["p"] <= 1)).all()
    default = km.ph_test(staged["time"], staged["event"], design.matrix)
    # The age test and the global test do not depend on how the other columns are grouped.
    for name in ("age", "GLOBAL"):
        np.testing.assert_allclose(
            default.filter(pl.col("term") == name)["chisq"][0],
            by_term.filter(pl.col("term") == name)["chisq"][0],
            rtol=1e-12,
        )


def test_single_covariate_term_equals_global(staged: pl.DataFrame) -> None:
    result = km.ph_test(staged["time"], staged["event"], staged.select("age"))
    assert result["term"].to_list() == ["age", "GLOBAL"]
    assert result["chisq"][0] == pytest.approx(result["chisq"][1], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    transform=st.sampled_from(["km", "rank"]),
    ties=st.sampled_from(["efron", "breslow"]),
)
def test_km_and_rank_depend_on_the_order_of_times_only(
    seed: int, transform: str, ties: str
) -> None:
    """Row order and a strictly increasing map of the times leave the test unchanged.

    Checked at arbitrary coefficients (the fitted ones are invariant too), so that the
    test exercises ph_test alone.
    """
    rng = np.random.default_rng(seed)
    time, event, matrix = _simulate(rng, 60)
    if np.unique(time[event == 1]).size < 2:
        return
    coef = rng.normal(scale=0.5, size=matrix.width)
    options = {"terms": SIM_TERMS, "transform": transform, "ties": ties, "coef": coef}
    base = km.ph_test(time, event, matrix, **options)  # type: ignore[arg-type]
    perm = rng.permutation(time.size)
    moved = km.ph_test(
        np.exp(3 * time[perm]),
        event[perm],
        matrix[perm.tolist()],
        **options,  # type: ignore[arg-type]
    )
    assert moved["term"].to_list() == base["term"].to_list()
    np.testing.assert_allclose(moved["chisq"].to_numpy(), base["chisq"].to_numpy(), rtol=1e-7)


# --------------------------------------------------------------------------------------
# Input errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"terms": {"age": ["age"]}}, "in no term"),
        ({"terms": {"a": ["age"], "b": ["age", "stagestage ii"]}}, "is in terms"),
        ({"terms": {"age": "age"}}, "as a list"),
        ({"terms": {"age": ["age"], "stage": []}}, "no columns"),
        ({"terms": {"age": ["age", "sex"]}}, "not in the design"),
        ({"terms": {"GLOBAL": ["age"]}}, "reserved"),
        ({"transform": "sqrt"}, "transform must be"),
        ({"ties": "exact"}, "ties must be"),
        ({"coef": [0.1, 0.2]}, "coef must be"),
    ],
)
def test_invalid_arguments_are_rejected(
    staged: pl.DataFrame, design: km.Design, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        km.ph_test(staged["time"], staged["event"], design.matrix, **kwargs)  # type: ignore[arg-type]


def test_invalid_data_are_rejected() -> None:
    x = pl.DataFrame({"x": [0.0, 1.0, 0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="same at every event time"):
        km.ph_test([1, 1, 2, 3, 4], [1, 1, 0, 0, 0], x, coef=[0.0])
    with pytest.raises(ValueError, match="no events"):
        km.ph_test([1, 2, 3, 4, 5], [0, 0, 0, 0, 0], x, coef=[0.0])
    with pytest.raises(ValueError, match="rows"):
        km.ph_test([1, 2, 3], [1, 0, 1], x, coef=[0.0])
    with pytest.raises(ValueError, match="missing or infinite"):
        km.ph_test([1, 2, 3, 4, 5], [1, 0, 1, 1, 0], x.with_columns(x=pl.lit(np.nan)))
    with pytest.raises(ValueError, match="positive event times"):
        km.ph_test([0, 2, 3, 4, 5], [1, 0, 1, 1, 0], x, coef=[0.0], transform="log")
