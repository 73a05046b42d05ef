"""The modelling core: R agreement, leakage, planted signal, determinism, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.model.core import (
    CohortData,
    ModalitySettings,
    ModelSpec,
    align_for_scoring,
    build_model,
    cross_validate,
    fold_seed,
    load_model,
    run_fold,
    save_model,
)
from survomics.model.evaluate import harrell_c
from survomics.model.splits import fold_patients, outer_splits

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
TIMES = np.array([200.0, 500.0, 1000.0])


def simulate(
    *,
    n: int = 200,
    p: int = 100,
    planted: dict[str, tuple[int, ...]] | None = None,
    effect: float = 0.8,
    seed: int = 0,
    missing_modality: float = 0.0,
) -> tuple[CohortData, np.ndarray]:
    """Two modalities ``a`` and ``b`` of ``p`` features; planted features drive the hazard.

    Returns the data and the true linear predictor (the oracle risk).
    """
    rng = np.random.default_rng(seed)
    planted = planted if planted is not None else {}
    patients = tuple(f"P{i:04d}" for i in range(n))
    omics = {}
    lp = np.zeros(n)
    for modality in ("a", "b"):
        x = rng.normal(size=(n, p))
        for j in planted.get(modality, ()):
            lp += effect * x[:, j]
        frame = pd.DataFrame(
            x, index=pd.Index(patients), columns=[f"{modality}{j}" for j in range(p)]
        )
        if missing_modality:
            frame = frame.loc[rng.random(n) >= missing_modality]
        omics[modality] = frame
    age = rng.normal(60, 10, n)
    lp_all = lp + 0.02 * (age - 60)
    t_event = rng.exponential(700 * np.exp(-lp_all))
    t_censor = rng.exponential(1200, n)
    time = np.ceil(np.minimum(t_event, t_censor))
    event = (t_event <= t_censor).astype(float)
    clinical = pd.DataFrame({"age": age}, index=pd.Index(patients))
    return CohortData(patients, time, event, clinical, omics), lp_all


def oof_c(data: CohortData, oof: pl.DataFrame) -> float:
    truth = pl.DataFrame({"patient_id": data.patients, "t": data.time, "e": data.event})
    values = []
    for _, part in oof.join(truth, on="patient_id").group_by("repeat", maintain_order=True):
        values.append(
            harrell_c(
                time=part["t"].to_numpy(), event=part["e"].to_numpy(), risk=part["risk"].to_numpy()
            )
        )
    return float(np.mean(values))


def test_clinical_model_reproduces_r_coxph() -> None:
    """coxph(Surv(time, event) ~ age + stage) on the 90 ACC patients with a stage."""
    endpoint = pl.read_csv(REF / "os_endpoint.tsv", separator="\t").drop_nulls("stage")
    ref = pl.read_csv(REF / "multivariable_cox_age_stage.tsv", separator="\t")
    patients = tuple(endpoint["patient"].to_list())
    clinical = endpoint.select("age", "stage").to_pandas()
    clinical.index = pd.Index(patients)
    data = CohortData(
        patients,
        endpoint["time"].to_numpy().astype(float),
        endpoint["event"].to_numpy().astype(float),
        clinical,
        {},
    )
    spec = ModelSpec(name="clinical", kind="clinical", covariates=("age", "stage"))
    model = build_model(spec).fit(data, seed=1)
    ours = {f: c for _, f, c in model.selected_features().iter_rows()}
    term = ref.columns[0]
    for row in ref.iter_rows(named=True):
        name = row[term]
        key = "age" if name == "age" else "stage=" + name.removeprefix("stage")
        assert ours[key] == pytest.approx(row["coef"], rel=1e-6), name


def test_leakage_free_cv_of_pure_noise_gives_c_near_half() -> None:
    """p >> n noise with a real endpoint: honest CV ~0.5, a leaky variant is inflated."""
    data, _ = simulate(n=120, p=2000, planted={}, seed=3)
    data = CohortData(data.patients, data.time, data.event, data.clinical, {"a": data.omics["a"]})
    settings = {"a": ModalitySettings(top_k=None, select_top_k=20)}
    spec = ModelSpec(name="m", kind="coxnet", modalities=("a",), settings=settings, n_alphas=10)
    splits = outer_splits(data.event, list(data.patients), folds=3, repeats=2, seed=5)
    honest = oof_c(data, cross_validate(spec, data, splits, times=TIMES, seed=5))
    assert abs(honest - 0.5) <= 0.07

    # Leaky: choose the 20 best features by univariate Cox on ALL patients, then CV.
    from survomics.cox import cox_screen

    x = data.omics["a"].to_numpy()
    screen = cox_screen(x, data.time, data.event, feature_names=list(data.omics["a"].columns))
    best = screen.sort("p_wald")["feature"].head(20).to_list()
    leaky_data = CohortData(
        data.patients, data.time, data.event, data.clinical, {"a": data.omics["a"][best]}
    )
    leaky_spec = ModelSpec(
        name="leaky",
        kind="coxnet",
        modalities=("a",),
        settings={"a": ModalitySettings(top_k=None, selection="none")},
        n_alphas=10,
    )
    leaky = oof_c(leaky_data, cross_validate(leaky_spec, leaky_data, splits, times=TIMES, seed=5))
    assert leaky > 0.57
    assert leaky > honest + 0.05


def test_planted_features_are_selected_and_fusion_is_near_the_oracle() -> None:
    planted = {"a": (0, 1, 2), "b": (0, 1)}
    data, oracle = simulate(n=300, p=200, planted=planted, seed=7)
    settings = {m: ModalitySettings(top_k=None, select_top_k=10) for m in ("a", "b")}
    spec = ModelSpec(
        name="early", kind="early_fusion", modalities=("a", "b"), settings=settings, n_alphas=15
    )
    splits = outer_splits(data.event, list(data.patients), folds=3, repeats=2, seed=2)
    frequency: dict[tuple[str, str], int] = {}
    n_splits = 0
    for repeat, fold in splits.select("repeat", "fold").unique().iter_rows():
        train, test = fold_patients(splits, repeat=repeat, fold=fold)
        result = run_fold(
            spec, data, train=train, test=test, times=TIMES, seed=fold_seed(2, repeat, fold)
        )
        n_splits += 1
        for m, f, _ in result.selected.iter_rows():
            frequency[m, f] = frequency.get((m, f), 0) + 1
    for modality, columns in planted.items():
        for j in columns:
            assert frequency.get((modality, f"{modality}{j}"), 0) / n_splits >= 0.8
    oof = cross_validate(spec, data, splits, times=TIMES, seed=2)
    oracle_c = harrell_c(time=data.time, event=data.event, risk=oracle)
    assert oof_c(data, oof) >= oracle_c - 0.03


@pytest.mark.parametrize("kind", ["coxnet", "rsf", "gbsa", "early_fusion", "late_fusion"])
def test_fold_is_deterministic_and_blind_to_test_patients(kind: str) -> None:
    data, _ = simulate(n=90, p=40, planted={"a": (0,), "b": (1,)}, seed=1, missing_modality=0.1)
    modalities = ("a",) if kind in ("coxnet", "rsf", "gbsa") else ("a", "b")
    spec = ModelSpec(
        name="m",
        kind=kind,  # type: ignore[arg-type]
        modalities=modalities,
        covariates=("age",) if kind.endswith("fusion") else (),
        settings={m: ModalitySettings(top_k=30, select_top_k=8) for m in modalities},
        n_alphas=8,
        rsf_trees=20,
        gbsa_trees=20,
    )
    train, test = list(data.patients[:60]), list(data.patients[60:])
    first = run_fold(spec, data, train=train, test=test, times=TIMES, seed=4)
    again = run_fold(spec, data, train=train, test=test, times=TIMES, seed=4)
    assert first.predictions.equals(again.predictions)
    # Changing every test patient's omics values changes nothing learned.
    omics = {m: f.copy() for m, f in data.omics.items()}
    for frame in omics.values():
        rows = frame.index.isin(test)
        frame.loc[rows] = frame.loc[rows].to_numpy() * 10 + 3
    changed = CohortData(data.patients, data.time, data.event, data.clinical, omics)
    other = run_fold(spec, changed, train=train, test=test, times=TIMES, seed=4)
    assert other.selected.equals(first.selected)
    # Eligibility: single-modality models skip patients without it, fusions keep them.
    has_a = data.has_modality("a")[60:]
    n_test = len(test)
    if kind in ("coxnet", "rsf", "gbsa"):
        assert first.predictions.height == int(has_a.sum())
        assert first.excluded.height == n_test - int(has_a.sum())
    else:
        assert first.predictions.height == n_test
    survival = first.predictions.select(pl.selectors.starts_with("s_")).to_numpy()
    assert ((survival >= 0) & (survival <= 1)).all()
    assert (np.diff(survival, axis=1) <= 1e-12).all()
    assert np.isfinite(first.predictions["risk"].to_numpy()).all()


def test_frozen_model_round_trip_and_alignment(tmp_path: Path) -> None:
    data, _ = simulate(n=100, p=30, planted={"a": (0, 1)}, seed=9)
    spec = ModelSpec(
        name="m",
        kind="coxnet",
        modalities=("a",),
        settings={"a": ModalitySettings(top_k=None, select_top_k=5)},
        n_alphas=8,
    )
    model = build_model(spec).fit(data, seed=3)
    path = tmp_path / "model.joblib"
    save_model(model, path, spec=spec, config_hash="abc", training_patients=data.patients, extra={})
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["config_hash"] == "abc"
    assert sidecar["features"]["a"] == model.feature_names_in()["a"]
    assert sidecar["training_patients"] == 100
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_risk(data), model.predict_risk(data))

    used = model.feature_names_in()["a"]
    dropped = used[:1]
    other = CohortData(
        data.patients,
        data.time,
        data.event,
        data.clinical,
        {"a": data.omics["a"].drop(columns=dropped)},
    )
    aligned, report = align_for_scoring(loaded, other)
    assert report["feature"].to_list() == dropped
    assert np.isfinite(loaded.predict_risk(aligned)).all()

    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(InputError, match="SHA-256"):
        load_model(path)


def test_outer_splits_are_stratified_and_seeded() -> None:
    data, _ = simulate(n=101, p=2, seed=2)
    splits = outer_splits(data.event, list(data.patients), folds=5, repeats=3, seed=11)
    again = outer_splits(data.event, list(data.patients), folds=5, repeats=3, seed=11)
    assert splits.equals(again)
    other = outer_splits(data.event, list(data.patients), folds=5, repeats=3, seed=12)
    assert not splits.equals(other)
    tests = splits.filter(pl.col("role") == "test")
    assert (tests.group_by("repeat", "patient_id").len()["len"] == 1).all()
    assert tests.height == 3 * 101
    events = dict(zip(data.patients, data.event, strict=True))
    rate = data.event.mean()
    for (_, _), part in tests.group_by("repeat", "fold"):
        fold_rate = np.mean([events[p] for p in part["patient_id"]])
        assert abs(fold_rate - rate) < 0.1


def test_coxnet_path_is_truncated_where_sksurv_overflows() -> None:
    """A real ACC training fold (26 patients x 50 genes) on which sksurv's path overflows.

    glmnet stops such a path early; survomics cuts it to the reachable penalties, notes it,
    and tunes over those only.
    """
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.util import Surv

    from survomics.model.core import _Notes, _TunedCoxnet

    frame = pl.read_csv(ROOT / "tests" / "data" / "coxnet_overflow.tsv", separator="\t")
    x = frame.drop("time", "event").to_numpy()
    time = frame["time"].to_numpy()
    event = frame["event"].to_numpy()
    alphas = 0.7879365185978658 * np.logspace(0, -4, 10)
    y = Surv.from_arrays(event > 0, time)
    with pytest.raises(ArithmeticError):
        CoxnetSurvivalAnalysis(l1_ratio=0.5, alphas=alphas, max_iter=100_000).fit(x, y)

    net = _TunedCoxnet(l1_ratio=0.5, n_alphas=10, inner_folds=2)
    notes = _Notes()
    path = net._fit_path(x, y, alphas, notes=notes, what="coxnet")
    assert 1 <= len(path.alphas_) < alphas.size
    np.testing.assert_array_equal(path.alphas_, alphas[: len(path.alphas_)])
    assert any("truncated" in n for n in notes.items)

    tuned = net.fit(x, time, event, seed=1, notes=_Notes(), what="coxnet")
    assert tuned.alpha_ in set(tuned.model_.alphas_)
    assert np.isfinite(tuned.predict(x)).all()
