"""Early fusion on a small simulated cohort: finite, monotone survival curves.

A weakly penalised elastic-net Cox model on ~60 patients and ~100 features has a linear
predictor spanning some 70 log units. scikit-survival's Breslow estimator then loses every
digit of its risk-set sums, so the baseline hazard turned negative and the predicted
survival infinite (``cv_gather`` stopped with "survival has missing or infinite values").
"""

from __future__ import annotations

import contextlib

import numpy as np
import polars as pl
import pytest
import yaml
from sksurv.linear_model.coxph import BreslowEstimator

from survomics.config import load_settings
from survomics.ingest import load_clinical, load_omics
from survomics.model.core import (
    CohortData,
    ModalitySettings,
    ModelSpec,
    NonFiniteSurvivalError,
    _breslow_log_hazard,
    _check_survival,
    _cox_survival,
    build_model,
    fold_seed,
    load_cohort,
)
from survomics.model.splits import fold_patients, outer_splits
from survomics.simulate import simulate_cohort

MODALITIES = ("expression", "methylation", "copy_number")
COVARIATES = ("years_to_birth", "pathologic_stage")
SEED = 20261123


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> CohortData:
    """The bench cohort that failed (120 patients, 400 genes/probes), ingested."""
    out = tmp_path_factory.mktemp("fusion")
    sim = simulate_cohort(
        out_dir=out, n_patients=120, n_genes=400, n_probes=400, n_mut_genes=400, seed=1
    )
    with contextlib.chdir(out):  # sheet paths are relative to the working directory
        settings = load_settings(
            yaml.safe_load(sim["config"].read_text()), config_path=sim["config"], base=out
        )
        clinical, records = load_clinical(settings.clinical("sim"), settings.endpoint("sim"))
        clinical.write_parquet(out / "clinical.parquet")
        excluded = {r.id: r.reason for r in records if r.level == "patient"}
        paths = {}
        for modality in MODALITIES:
            frame, _ = load_omics(
                settings.omics("sim", modality),
                patients=clinical["patient_id"].to_list(),
                excluded_patients=excluded,
            )
            paths[modality] = out / f"{modality}.parquet"
            frame.write_parquet(paths[modality])
    data, _ = load_cohort(
        clinical=out / "clinical.parquet", omics=paths, endpoint="os", covariates=COVARIATES
    )
    return data


def test_breslow_matches_sksurv_when_well_conditioned() -> None:
    rng = np.random.default_rng(0)
    n = 80
    lp = rng.normal(size=n)
    time = np.ceil(rng.exponential(500, n))  # ties included
    event = (rng.random(n) < 0.7).astype(float)
    times, log_h = _breslow_log_hazard(lp, time, event)
    ref = BreslowEstimator().fit(lp, event, time)
    at_events = np.isin(ref.cum_baseline_hazard_.x, times)
    np.testing.assert_array_equal(times, ref.cum_baseline_hazard_.x[at_events])
    np.testing.assert_allclose(np.exp(log_h), ref.cum_baseline_hazard_.y[at_events], rtol=1e-12)
    grid = np.array([0.0, 50.0, 300.0, 1000.0, 5000.0])
    ours = _cox_survival(lp[:5], times, log_h, grid)
    theirs = np.vstack(
        [fn(np.clip(grid, fn.x[0], fn.x[-1])) for fn in ref.get_survival_function(lp[:5])]
    )
    theirs[:, grid < ref.cum_baseline_hazard_.x[0]] = 1.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_breslow_is_exact_whatever_the_spread() -> None:
    """Two patients, risk ratio e^800: H0 = 1/exp(lp) at the first death, sum after."""
    lp = np.array([-400.0, 400.0, 0.0])
    time = np.array([10.0, 5.0, 20.0])
    event = np.array([1.0, 1.0, 1.0])
    times, log_h = _breslow_log_hazard(lp, time, event)
    np.testing.assert_array_equal(times, [5.0, 10.0, 20.0])
    # at 5: all at risk, 1/e^400; at 10: {-400, 0} at risk, + 1/(e^-400 + 1); at 20: + 1
    np.testing.assert_allclose(log_h[0], -400.0, rtol=1e-15)
    np.testing.assert_allclose(np.exp(log_h[1:]), [1.0, 2.0], rtol=1e-12)
    s = _cox_survival(lp, times, log_h, np.array([1.0, 5.0, 10.0, 30.0]))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[:, 0], 1.0)
    np.testing.assert_allclose(s[1], [1.0, np.exp(-1.0), 0.0, 0.0])
    np.testing.assert_allclose(s[2, 1:], [1.0, np.exp(-1.0), np.exp(-2.0)], rtol=1e-12)


def test_check_survival_names_the_model() -> None:
    good = np.array([[1.0, 0.5, 0.5, 0.0]])
    _check_survival(good, model="m")
    for bad in ([[1.0, np.inf, 0.5, 0.2]], [[1.0, 0.5, 0.7, 0.2]], [[1.2, 0.5, 0.4, 0.2]]):
        with pytest.raises(NonFiniteSurvivalError, match=r"model 'early_fusion'.*Fix:"):
            _check_survival(np.array(bad), model="early_fusion")


def test_early_fusion_survival_is_finite_on_simulated_cohort(cohort: CohortData) -> None:
    settings = ModalitySettings(top_k=2000, variability="mad", selection="univariate")
    spec = ModelSpec(
        name="early_fusion",
        kind="early_fusion",
        modalities=MODALITIES,
        covariates=COVARIATES,
        settings=dict.fromkeys(MODALITIES, settings),
    )
    splits = outer_splits(cohort.event, list(cohort.patients), folds=2, repeats=1, seed=SEED)
    train, test = fold_patients(splits, repeat=0, fold=1)
    model = build_model(spec).fit(cohort.subset(train), seed=fold_seed(SEED, 0, 1))
    net = model.estimator

    # the failure: a weak penalty (the inner CV's choice), a linear predictor spanning
    # ~70 log units on the training patients, and scikit-survival's Breslow baseline
    # hazard for it wrong by orders of magnitude (its running risk-set sums cancel out;
    # inside the Coxnet fit it even went negative, so survival = exp(+big) = inf)
    fitted = cohort.subset(train)
    lp = net.predict(model._x(fitted))
    assert lp.max() - lp.min() > 40
    events = np.unique(fitted.time[fitted.event > 0])
    exact = np.cumsum(  # sums of positive terms: no cancellation
        [
            ((fitted.time == u) & (fitted.event > 0)).sum() / np.exp(lp[fitted.time >= u]).sum()
            for u in events
        ]
    )
    ref = BreslowEstimator().fit(lp, fitted.event > 0, fitted.time)
    sksurv_last = ref.cum_baseline_hazard_.y[-1]
    assert not np.isclose(sksurv_last, exact[-1], rtol=0.5)  # the bug worked around
    np.testing.assert_array_equal(net.event_times_, events)
    np.testing.assert_allclose(np.exp(net.log_baseline_hazard_), exact, rtol=1e-9)

    held = cohort.subset(test)
    grid = np.quantile(cohort.time, np.linspace(0.05, 0.95, 40))
    survival = model.predict_survival(held, grid)
    assert survival.shape == (len(test), grid.size)
    assert np.isfinite(survival).all()
    assert ((survival >= 0) & (survival <= 1)).all()
    assert (np.diff(survival, axis=1) <= 0).all()
    # higher risk, lower survival at every time; the curves are not all degenerate
    risk = model.predict_risk(held)
    low, high = np.argmin(risk), np.argmax(risk)
    assert (survival[high] <= survival[low]).all()
    assert 0.05 < float(np.median(survival[:, grid.size // 2])) < 0.95
    # the same curves as the Breslow estimate from first principles at one time
    t = grid[grid.size // 2]
    h0 = exact[np.searchsorted(events, t, side="right") - 1]
    np.testing.assert_allclose(
        survival[:, grid.size // 2], np.exp(-h0 * np.exp(risk)), rtol=1e-6, atol=1e-12
    )


def test_predictions_frame_is_finite(cohort: CohortData) -> None:
    """run_fold's output carries only finite probabilities (what cv_gather requires)."""
    from survomics.model.core import run_fold

    spec = ModelSpec(
        name="early_fusion", kind="early_fusion", modalities=MODALITIES, covariates=COVARIATES
    )
    splits = outer_splits(cohort.event, list(cohort.patients), folds=2, repeats=1, seed=SEED)
    train, test = fold_patients(splits, repeat=0, fold=0)
    result = run_fold(
        spec, cohort, train=train, test=test, times=np.array([365.0, 1095.0]), seed=3, split="r0f0"
    )
    values = result.predictions.select(pl.selectors.starts_with("s_")).to_numpy()
    assert np.isfinite(values).all()
    assert np.isfinite(result.predictions["risk"].to_numpy()).all()
