"""The feature x treatment interaction screen against a full Cox model with an interaction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from statsmodels.duration.hazard_regression import PHReg

from survomics.errors import InputError
from survomics.model.steps import predictive_screen


def _cohort(tmp_path: Path, *, n: int = 240, seed: int = 3) -> dict[str, Path]:
    """Simulated cohort: feature f0 is predictive (effect only in the 'yes' arm)."""
    rng = np.random.default_rng(seed)
    patients = [f"P{i:04d}" for i in range(n)]
    arm = np.where(rng.random(n) < 0.5, "yes", "no")
    x = rng.normal(size=(6, n))
    risk = np.where(arm == "yes", 1.0 * x[0], 0.0) + 0.4 * x[1]
    event_time = rng.exponential(500 * np.exp(-risk))
    censor = rng.exponential(900, n)
    time = np.ceil(np.minimum(event_time, censor) / 30) * 30  # ties
    event = (event_time <= censor).astype(np.int8)
    treatment = [None if i < 5 else a for i, a in enumerate(arm.tolist())]  # 5 unknown
    clinical = pl.DataFrame(
        {"patient_id": patients, "os_time": time, "os_event": event, "radio": treatment},
        schema_overrides={"radio": pl.String},
    )
    matrix = pl.DataFrame({"feature": [f"f{j}" for j in range(6)]}).with_columns(
        pl.Series(p, x[:, i]) for i, p in enumerate(patients)
    )
    paths = {"clinical": tmp_path / "clinical.parquet", "matrix": tmp_path / "m.parquet"}
    clinical.write_parquet(paths["clinical"])
    matrix.write_parquet(paths["matrix"])
    return paths


def _run(tmp_path: Path, paths: dict[str, Path], treatment: str = "radio") -> dict[str, Path]:
    out = {k: tmp_path / f"{k}.tsv" for k in ("table", "km", "excluded")}
    predictive_screen(
        modality="m",
        matrix=paths["matrix"],
        clinical=paths["clinical"],
        endpoint="os",
        treatment=treatment,
        ties="efron",
        out_table=out["table"],
        out_km=out["km"],
        out_excluded=out["excluded"],
    )
    return out


def test_interaction_equals_wald_test_of_stratified_interaction_model(tmp_path: Path) -> None:
    paths = _cohort(tmp_path)
    out = _run(tmp_path, paths)
    table = pl.read_csv(out["table"], separator="\t")
    clinical = pl.read_parquet(paths["clinical"]).drop_nulls("radio")
    matrix = pl.read_parquet(paths["matrix"])
    arm = (clinical["radio"] == "yes").to_numpy().astype(float)
    for row in table.iter_rows(named=True):
        x = matrix.filter(pl.col("feature") == row["feature"]).select(
            clinical["patient_id"].to_list()
        )
        x = x.to_numpy().ravel()
        fit = PHReg(
            clinical["os_time"].to_numpy(),
            np.column_stack([x, x * arm]),
            status=clinical["os_event"].to_numpy(),
            strata=arm,
            ties="efron",
        ).fit(tol=1e-14)
        z = fit.params[1] / fit.bse[1]
        assert row["interaction_chisq"] == pytest.approx(z**2, rel=1e-6)
        assert row["coef_yes"] - row["coef_no"] == pytest.approx(fit.params[1], rel=1e-7)
    # The planted predictive feature comes first, and is significant.
    assert table["feature"][0] == "f0"
    assert table["q"][0] < 0.01
    excluded = pl.read_csv(out["excluded"], separator="\t")
    assert excluded.height == 5
    assert set(excluded["reason"]) == {"missing_radio"}
    km = pl.read_csv(out["km"], separator="\t")
    assert set(km["feature"]) == {"f0"}
    assert km["stratum"].n_unique() == 4  # two arms x high/low


def test_single_arm_is_a_clear_error(tmp_path: Path) -> None:
    paths = _cohort(tmp_path)
    clinical = pl.read_parquet(paths["clinical"]).with_columns(pl.lit("yes").alias("radio"))
    clinical.write_parquet(paths["clinical"])
    with pytest.raises(InputError, match="needs two or more"):
        _run(tmp_path, paths)
    assert not (tmp_path / "table.tsv").exists()
