"""MuData export: the .h5mu read back with mudata equals the harmonized Parquet files."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.mudata_export import export_mudata

ROOT = Path(__file__).resolve().parents[1]
ACC = ROOT / "data" / "tcga_acc"


def harmonized(tmp_path: Path) -> tuple[Path, dict[str, Path], pl.DataFrame]:
    """Parquet files laid out as ingest writes them, from real TCGA-ACC tables.

    Clinical: typed columns (String, Int8, Int64, Float64, Boolean) with missing values;
    two patients have no omics data. Expression: 40 genes x the first 20 patients (one
    value missing); copy number: 30 genes (same names as expression genes) x patients
    10..25, so the modalities overlap only partly and their patients' union is not
    clinical order.
    """
    clinical_raw = pl.read_csv(ACC / "clinical_patient.tsv", separator="\t", infer_schema=False)
    ids = clinical_raw[clinical_raw.columns[0]].head(28).to_list()
    clinical = pl.DataFrame(
        {
            "patient_id": ids,
            "os_time": [float(i * 30) if i % 5 else None for i in range(28)],
            "os_event": pl.Series([i % 2 for i in range(28)], dtype=pl.Int8),
            "years_to_birth": pl.Series([40 + i if i % 7 else None for i in range(28)]),
            "purity": [0.5 + i / 100 for i in range(28)],
            "gender": ["male" if i % 3 else None for i in range(28)],
            "radiation": pl.Series([bool(i % 2) if i % 4 else None for i in range(28)]),
        }
    )
    expr = pl.read_csv(ACC / "expression_rsem_normalized.tsv", separator="\t").head(40)
    expression = pl.DataFrame({"feature": expr["feature"]}).with_columns(
        pl.Series(p, expr[expr.columns[k + 1]].cast(pl.Float64)) for k, p in enumerate(ids[:20])
    )
    expression = expression.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col(ids[4])).alias(ids[4])
    )
    cnv = pl.read_csv(ACC / "copy_number_gistic.tsv", separator="\t").head(30)
    copy_number = pl.DataFrame({"feature": expr["feature"].head(30)}).with_columns(
        pl.Series(p, cnv[cnv.columns[k + 1]].cast(pl.Float64))
        for k, p in enumerate([*ids[20:26], *ids[10:20]])
    )
    # copy number first: the union of the modalities' patients is not in clinical order
    paths = {"copy_number": tmp_path / "cn.parquet", "expression": tmp_path / "expression.parquet"}
    expression.write_parquet(paths["expression"])
    copy_number.write_parquet(paths["copy_number"])
    clinical.write_parquet(tmp_path / "clinical.parquet")
    return tmp_path / "clinical.parquet", paths, clinical


def plain(value: Any) -> Any:
    """A pandas/numpy cell as a Python value, missing as None."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def read(path: Path) -> Any:
    import mudata

    with mudata.set_options(pull_on_update=False):
        return mudata.read_h5mu(path)


def test_round_trip_equals_the_parquet_content(tmp_path: Path) -> None:
    clinical, paths, table = harmonized(tmp_path)
    out = tmp_path / "out" / "acc.h5mu"
    export_mudata(clinical=clinical, modalities=paths, out=out)
    mdata = read(out)
    assert list(mdata.mod) == ["copy_number", "expression"]
    for name, path in paths.items():
        frame = pl.read_parquet(path)
        mod = mdata.mod[name]
        present = set(frame.columns[1:])
        patients = [p for p in table["patient_id"] if p in present]  # clinical order
        assert list(mod.obs_names) == patients
        assert list(mod.var["feature"]) == frame["feature"].to_list()
        assert list(mod.var_names) == [f"{name}:{f}" for f in frame["feature"]]
        np.testing.assert_array_equal(np.asarray(mod.X), frame.select(patients).to_numpy().T)
    assert np.isnan(mdata.mod["expression"].X).sum() == 1
    # .obs: the clinical rows of the patients with omics, in clinical order
    with_omics = table["patient_id"].to_list()[:26]
    assert list(mdata.obs_names) == with_omics
    assert list(mdata.uns["patients_without_omics"]) == table["patient_id"].to_list()[26:]
    kept = table.filter(pl.col("patient_id").is_in(with_omics))
    obs = mdata.obs
    assert list(obs.columns) == kept.columns[1:]
    for column in kept.columns[1:]:
        got = [plain(v) for v in obs[column].astype(object)]
        want = kept[column].to_list()
        if kept.schema[column] == pl.Float64:  # os_time reads back as Int64 (see the module)
            np.testing.assert_array_equal(
                np.array(got, dtype=float), np.array(want, dtype=float), err_msg=column
            )
        else:
            assert got == want, column


def test_output_bytes_are_deterministic_and_no_temporary_is_left(tmp_path: Path) -> None:
    clinical, paths, _ = harmonized(tmp_path)
    first, second = tmp_path / "a" / "c.h5mu", tmp_path / "b" / "c.h5mu"
    export_mudata(clinical=clinical, modalities=paths, out=first)
    time.sleep(1.1)  # HDF5 timestamps have a one-second resolution
    export_mudata(clinical=clinical, modalities=paths, out=second)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]
    assert sorted(p.name for p in first.parent.iterdir()) == ["c.h5mu"]
    assert first.read_bytes()[:14] == b"MuData (format"


def test_inconsistent_inputs_are_input_errors_and_write_nothing(tmp_path: Path) -> None:
    clinical, paths, table = harmonized(tmp_path)
    out = tmp_path / "out" / "c.h5mu"
    table.filter(pl.col("patient_id") != table["patient_id"][0]).write_parquet(clinical)
    with pytest.raises(InputError, match=r"patient\(s\) \['TCGA-.*'\] of modality 'expression'"):
        export_mudata(clinical=clinical, modalities=paths, out=out)
    assert not out.exists()
    table.drop("patient_id").write_parquet(clinical)
    with pytest.raises(InputError, match="no 'patient_id' column"):
        export_mudata(clinical=clinical, modalities=paths, out=out)
    table.write_parquet(clinical)
    pl.DataFrame({"gene": ["a"]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="no 'feature' column"):
        export_mudata(clinical=clinical, modalities={"x": tmp_path / "bad.parquet"}, out=out)
    with pytest.raises(InputError, match="no modality to export"):
        export_mudata(clinical=clinical, modalities={}, out=out)
    assert not out.exists()
