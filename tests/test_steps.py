"""The modelling rule functions: one ``cv_fold`` job per repeat, and ``cv_gather``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from survomics.config import _fill_defaults, load_schema
from survomics.model import steps
from survomics.model.core import fold_seed, load_cohort, run_fold
from survomics.model.splits import fold_patients

FOLDS, REPEATS = 3, 2
MODEL = "a_coxnet"


def _modelling() -> dict[str, Any]:
    """Small modelling settings with the schema's defaults filled in."""
    cfg: dict[str, Any] = {
        "modelling": {
            "seed": 7,
            "covariates": ["age"],
            "outer_folds": FOLDS,
            "outer_repeats": REPEATS,
            "inner_folds": 2,
            "preprocessing": {"top_k": None, "select_top_k": 5},
            "coxnet": {"n_alphas": 8},
            "models": {MODEL: {"kind": "coxnet", "modalities": ["a"], "clinical": True}},
            "evaluation": {"time_unit": "days", "horizons": [300, 600], "calibration_horizon": 300},
        }
    }
    _fill_defaults(cfg, load_schema("config.schema.yaml"))
    return copy.deepcopy(cfg["modelling"])


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A simulated cohort (60 patients, 20 features of modality ``a``) and its splits."""
    tmp = tmp_path_factory.mktemp("steps")
    rng = np.random.default_rng(3)
    n, p = 60, 20
    patients = [f"P{i:03d}" for i in range(n)]
    x = rng.normal(size=(n, p))
    t_event = rng.exponential(700 * np.exp(-0.9 * x[:, 0]))
    t_censor = rng.exponential(1200, n)
    pl.DataFrame(
        {
            "patient_id": patients,
            "os_time": np.ceil(np.minimum(t_event, t_censor)),
            "os_event": (t_event <= t_censor).astype(np.int64),
            "age": rng.normal(60, 10, n),
        }
    ).write_parquet(tmp / "clinical.parquet")
    pl.DataFrame({"feature": [f"g{j}" for j in range(p)]}).hstack(
        pl.DataFrame(x.T, schema=patients)
    ).write_parquet(tmp / "a.parquet")
    modelling = _modelling()
    steps.cv_splits(
        clinical=tmp / "clinical.parquet",
        endpoint="os",
        folds=FOLDS,
        repeats=REPEATS,
        seed=modelling["seed"],
        horizons=modelling["evaluation"]["horizons"],
        time_unit=modelling["evaluation"]["time_unit"],
        grid_points=modelling["evaluation"]["grid_points"],
        out_splits=tmp / "splits.tsv",
        out_grid=tmp / "grid.tsv",
    )
    files = {"dir": tmp, "clinical": tmp / "clinical.parquet", "a": tmp / "a.parquet"}
    for repeat in range(REPEATS):
        out = tmp / "cv" / MODEL / f"r{repeat}"
        out.mkdir(parents=True)
        steps.cv_fold(
            model=MODEL,
            repeat=repeat,
            modelling=modelling,
            clinical=files["clinical"],
            omics={"a": files["a"]},
            endpoint="os",
            splits=tmp / "splits.tsv",
            grid=tmp / "grid.tsv",
            out_predictions=out / "predictions.parquet",
            out_selected=out / "selected.tsv",
            out_excluded=out / "excluded.tsv",
        )
    return files


def test_one_job_per_repeat_gives_each_fold_its_own_fit(cohort: dict[str, Path]) -> None:
    """Each fold's rows equal run_fold of that split with fold_seed(seed, repeat, fold)."""
    modelling = _modelling()
    spec = steps._spec(MODEL, modelling)
    data, _ = load_cohort(
        clinical=cohort["clinical"], omics={"a": cohort["a"]}, endpoint="os", covariates=("age",)
    )
    table = pl.read_csv(cohort["dir"] / "splits.tsv", separator="\t")
    times = pl.read_csv(cohort["dir"] / "grid.tsv", separator="\t")["time"].to_numpy()
    for repeat in range(REPEATS):
        out = cohort["dir"] / "cv" / MODEL / f"r{repeat}"
        predictions = pl.read_parquet(out / "predictions.parquet")
        selected = pl.read_csv(
            out / "selected.tsv", separator="\t", schema_overrides={"fold": pl.Int32}
        )
        assert predictions.columns[:3] == ["fold", "patient_id", "risk"]
        assert predictions["fold"].dtype == pl.Int32
        assert sorted(predictions["fold"].unique().to_list()) == list(range(FOLDS))
        assert pl.read_csv(out / "excluded.tsv", separator="\t").columns == [
            "fold",
            "patient_id",
            "reason",
        ]
        for fold in range(FOLDS):
            train, test = fold_patients(table, repeat=repeat, fold=fold)
            direct = run_fold(
                spec,
                data,
                train=train,
                test=test,
                times=times,
                seed=fold_seed(modelling["seed"], repeat, fold),
            )
            part = predictions.filter(pl.col("fold") == fold).drop("fold")
            assert_frame_equal(part, direct.predictions)
            assert sorted(part["patient_id"].to_list()) == sorted(test)
            chosen = selected.filter(pl.col("fold") == fold)
            assert chosen["feature"].to_list() == direct.selected["feature"].to_list()
            np.testing.assert_allclose(
                chosen["coef"].to_numpy(), direct.selected["coef"].to_numpy()
            )


def test_gather_reads_per_repeat_files(cohort: dict[str, Path]) -> None:
    """Out-of-fold predictions: every patient once per repeat, in its own test fold."""
    tmp = cohort["dir"]
    runs = [tmp / "cv" / MODEL / f"r{r}" for r in range(REPEATS)]
    out = tmp / "gathered"
    out.mkdir()
    modelling = _modelling()
    steps.cv_gather(
        model=MODEL,
        predictions=[r / "predictions.parquet" for r in runs],
        selected=[r / "selected.tsv" for r in runs],
        clinical=cohort["clinical"],
        endpoint="os",
        grid=tmp / "grid.tsv",
        evaluation=modelling["evaluation"],
        out_predictions=out / "oof.parquet",
        out_metrics=out / "metrics.tsv",
        out_calibration=out / "calibration.tsv",
        out_groups=out / "groups.tsv",
        out_groups_km=out / "groups_km.tsv",
        out_groups_logrank=out / "logrank.tsv",
        out_selection=out / "selection.tsv",
    )
    oof = pl.read_parquet(out / "oof.parquet")
    assert oof.columns[:4] == ["repeat", "fold", "patient_id", "risk"]
    assert oof.schema["repeat"] == pl.Int32
    assert oof.schema["fold"] == pl.Int32
    assert oof.height == REPEATS * 60
    assert oof.group_by("repeat", "patient_id").len()["len"].max() == 1
    tests = pl.read_csv(tmp / "splits.tsv", separator="\t").filter(pl.col("role") == "test")
    wrong = oof.join(tests, on=["repeat", "fold", "patient_id"], how="anti")
    assert wrong.height == 0
    metrics = pl.read_csv(out / "metrics.tsv", separator="\t")
    assert sorted(metrics["repeat"].unique().to_list()) == list(range(REPEATS))
    selection = pl.read_csv(out / "selection.tsv", separator="\t")
    assert selection.columns[:3] == ["repeat", "fold", "modality"]
    per_repeat = sum(pl.read_csv(r / "selected.tsv", separator="\t").height for r in runs)
    assert selection.height == per_repeat
    assert selection.select("repeat", "fold").unique().height == REPEATS * FOLDS


def test_unknown_repeat_is_an_error(cohort: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeat 9"):
        steps.cv_fold(
            model=MODEL,
            repeat=9,
            modelling=_modelling(),
            clinical=cohort["clinical"],
            omics={"a": cohort["a"]},
            endpoint="os",
            splits=cohort["dir"] / "splits.tsv",
            grid=cohort["dir"] / "grid.tsv",
            out_predictions=tmp_path / "p.parquet",
            out_selected=tmp_path / "s.tsv",
            out_excluded=tmp_path / "e.tsv",
        )
