""".h5ad reader: bulk layout, single-cell pseudobulk against numpy, audit, options, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from survomics.errors import InputError
from survomics.formats import read_matrix
from survomics.formats.anndata import read_h5ad
from survomics.ingest import load_omics
from survomics.specs import FileSpec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "formats" / "anndata"
BULK = DATA / "bulk_acc.h5ad"
CELLS = DATA / "singlecell.h5ad"
SOURCE = ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv"


def spec(path: Path, **options: str) -> FileSpec:
    return FileSpec(
        cohort="acc",
        modality="expression",
        path=str(path),
        format="h5ad",
        options=tuple(options.items()),
    )


def cells() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Dense counts, patient labels (None = missing) and gene names of the fixture."""
    import anndata

    adata = anndata.read_h5ad(CELLS)
    labels = np.array(
        [None if isinstance(p, float) else str(p) for p in adata.obs["patient"].tolist()],
        dtype=object,
    )
    return adata.X.toarray().astype(np.float64), labels, list(map(str, adata.var_names))


def groupby(x: np.ndarray, labels: np.ndarray, how: str) -> dict[str, np.ndarray]:
    out = {}
    for patient in sorted({p for p in labels if p is not None}):
        rows = x[labels == patient]
        out[patient] = rows.sum(axis=0) if how == "sum" else rows.mean(axis=0)
    return out


# --- bulk -------------------------------------------------------------------------------


def test_bulk_is_features_x_samples_of_the_source_matrix() -> None:
    raw = read_h5ad(spec(BULK))
    source = pl.read_csv(SOURCE, separator="\t").head(100)
    samples = source.columns[1:31]
    assert raw.frame.columns == ["feature", *samples]
    assert raw.frame["feature"].to_list() == source["feature"].to_list()
    assert all(raw.frame.schema[s] == pl.Float64 for s in samples)
    np.testing.assert_array_equal(raw.frame.select(samples).to_numpy(), source.select(samples))
    assert raw.id_type is None  # the sheet decides
    assert raw.records == ()
    assert raw.sources == (str(BULK),)


def test_bulk_layer_option() -> None:
    log2 = read_h5ad(spec(BULK, layer="log2")).frame
    x = read_h5ad(spec(BULK, layer="X")).frame
    np.testing.assert_allclose(log2.drop("feature"), np.log2(x.drop("feature").to_numpy() + 1))


def test_bulk_sparse_equals_dense(tmp_path: Path) -> None:
    import anndata

    adata = anndata.read_h5ad(BULK)
    adata.X = sp.csc_matrix(adata.X)
    adata.write_h5ad(tmp_path / "sparse.h5ad")
    assert read_h5ad(spec(tmp_path / "sparse.h5ad")).frame.equals(read_h5ad(spec(BULK)).frame)


def test_bulk_through_ingest_maps_tcga_barcodes_to_patients() -> None:
    raw = read_matrix(spec(BULK))
    patients = [c[:12] for c in raw.frame.columns[1:]]
    out, records = load_omics(spec(BULK), patients=patients[:20], excluded_patients={})
    assert out.columns == ["feature", *patients[:20]]
    assert {r.reason for r in records} == {"patient_not_in_clinical"}
    assert len(records) == 10


# --- single cell ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sum", "mean"])
def test_pseudobulk_equals_numpy_groupby(how: str) -> None:
    x, labels, genes = cells()
    expected = groupby(x, labels, how)
    raw = read_h5ad(spec(CELLS, patient_column="patient", aggregate=how, min_cells="1"))
    assert raw.frame["feature"].to_list() == genes
    assert raw.frame.columns[1:] == sorted(expected)
    for patient, values in expected.items():
        np.testing.assert_allclose(raw.frame[patient].to_numpy(), values, rtol=1e-12)
    assert raw.id_type == "tcga_barcode"  # TCGA patient barcodes


def test_min_cells_excludes_and_audits_patients() -> None:
    _, labels, _ = cells()
    sizes = {p: int((labels == p).sum()) for p in {q for q in labels if q is not None}}
    raw = read_h5ad(spec(CELLS, patient_column="patient"))
    small = sorted(p for p, n in sizes.items() if n < 10)
    assert small  # the fixture has patients below the default threshold
    assert raw.frame.columns[1:] == sorted(p for p, n in sizes.items() if n >= 10)
    too_few = [r for r in raw.records if r.reason == "too_few_cells"]
    assert [r.id for r in too_few] == small
    assert all(r.level == "patient" for r in too_few)
    assert [r.detail for r in too_few] == [f"{sizes[p]} cells < min_cells 10" for p in small]
    missing = [r for r in raw.records if r.reason == "missing_patient"]
    assert len(missing) == 1
    assert missing[0].detail.startswith(f"{int(sum(p is None for p in labels))} of {len(labels)}")
    strict = read_h5ad(spec(CELLS, patient_column="patient", min_cells="40"))
    assert strict.frame.columns[1:] == sorted(p for p, n in sizes.items() if n >= 40)
    np.testing.assert_array_equal(
        strict.frame.drop("feature").to_numpy(),
        raw.frame.select(strict.frame.columns[1:]).to_numpy(),
    )


def test_pseudobulk_of_layer_and_dense_matrix_equal_sparse_x(tmp_path: Path) -> None:
    import anndata

    base = read_h5ad(spec(CELLS, patient_column="patient")).frame
    layer = read_h5ad(spec(CELLS, patient_column="patient", layer="counts")).frame
    assert layer.equals(base)
    adata = anndata.read_h5ad(CELLS)
    adata.X = adata.X.toarray()
    del adata.layers["counts"]
    adata.write_h5ad(tmp_path / "dense.h5ad")
    dense = read_h5ad(spec(tmp_path / "dense.h5ad", patient_column="patient")).frame
    assert dense.equals(base)


def test_non_tcga_patients_are_patient_ids(tmp_path: Path) -> None:
    import anndata

    adata = anndata.read_h5ad(CELLS)
    adata.obs["donor"] = adata.obs["patient"].cat.rename_categories(lambda p: f"donor_{p[-4:]}")
    adata.obs.loc[adata.obs_names[:3], "donor"] = np.nan
    adata.write_h5ad(tmp_path / "donors.h5ad")
    raw = read_h5ad(spec(tmp_path / "donors.h5ad", patient_column="donor", min_cells="1"))
    assert raw.id_type == "patient"
    assert all(c.startswith("donor_") for c in raw.frame.columns[1:])
    x, _labels, _ = cells()
    donors = adata.obs["donor"].astype(object).to_numpy()
    donors = np.array([None if isinstance(d, float) else d for d in donors], dtype=object)
    for donor, values in groupby(x, donors, "sum").items():
        np.testing.assert_array_equal(raw.frame[donor].to_numpy(), values)


def test_pseudobulk_through_ingest_with_log_cpm() -> None:
    raw = read_h5ad(spec(CELLS, patient_column="patient"))
    patients = raw.frame.columns[1:]
    sheet = FileSpec(
        cohort="acc",
        modality="expression",
        path=str(CELLS),
        format="h5ad",
        transform="log_cpm",
        options=(("patient_column", "patient"),),
    )
    out, records = load_omics(sheet, patients=patients, excluded_patients={})
    assert out.columns == ["feature", *patients]
    counts = raw.frame.drop("feature").to_numpy()
    libs = counts.sum(axis=0)
    prior = 0.5 * libs / libs.mean()
    expected = np.log2((counts + prior) / (libs + 2 * prior) * 1e6)
    np.testing.assert_allclose(out.drop("feature").to_numpy(), expected, rtol=1e-12)
    assert {r.reason for r in records} == {"missing_patient", "too_few_cells"}


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"patient_column": "patient", "min_cells": "0"}, "`min_cells=0` is not a positive"),
        ({"patient_column": "patient", "min_cells": "2.5"}, "`min_cells=2.5` is not a positive"),
        ({"patient_column": "patient", "min_cells": "ten"}, "`min_cells=ten` is not a positive"),
        ({"patient_column": "patient", "aggregate": "median"}, "`aggregate=median` is not one"),
        ({"min_cells": "5"}, "no `patient_column` is set"),
        ({"patient_column": "donor"}, "obs column 'donor' not found"),
        ({"patient_column": "patient", "layer": "raw"}, "layer 'raw' not found"),
        ({"patient_column": "patient", "min_cells": "100"}, "no patient has at least"),
    ],
)
def test_invalid_options_are_input_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        read_h5ad(spec(CELLS, **options))
    assert str(err.value).startswith(f"{CELLS}, column 'options': ")
    assert "Fix: " in str(err.value)


def test_unknown_bulk_layer_lists_the_layers() -> None:
    with pytest.raises(InputError, match=r"layer 'counts' not found; .* layers \['log2'\]"):
        read_h5ad(spec(BULK, layer="counts"))


def test_not_an_h5ad_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.h5ad"
    path.write_text("feature\tA\n")
    with pytest.raises(InputError, match=r"cannot be read as an AnnData \.h5ad file"):
        read_h5ad(spec(path))
    with pytest.raises(InputError, match="file not found"):
        read_h5ad(spec(tmp_path / "absent.h5ad"))


def test_duplicate_sample_names_are_an_input_error(tmp_path: Path) -> None:
    import anndata

    adata = anndata.read_h5ad(BULK)
    adata.obs_names = [adata.obs_names[0]] * adata.n_obs
    adata.write_h5ad(tmp_path / "dup.h5ad")
    with pytest.raises(InputError, match=r"obs names are not unique \(e\.g\. \['TCGA-OR-A5J1"):
        read_h5ad(spec(tmp_path / "dup.h5ad"))
