"""Export a cohort's harmonized data as one MuData ``.h5mu`` file.

The harmonized Parquet files of a cohort (``results/{cohort}/data/``) become one
:class:`mudata.MuData` for users of the scverse tools (muon, scanpy, mofapy2...):

- each ``{modality}.parquet`` (``feature`` + one Float64 column per patient) becomes a
  modality (``mdata.mod[modality]``): an :class:`anndata.AnnData` with obs = the
  patients (its columns, in clinical order), var = the features (in file order) and a dense
  float64 ``X`` (missing values NaN). MuData needs variable names unique across
  modalities (a gene is often in expression *and* copy number), so ``var_names`` are
  ``{modality}:{feature}`` (muon's convention) and ``var["feature"]`` keeps the id;
- ``clinical.parquet`` (``patient_id`` + the endpoint and clinical columns) becomes the
  MuData's global ``.obs``, joined on the patient id. MuData's global observations are
  the union of the modalities' ones, so a clinical patient without any omics data cannot
  be a row of ``.obs``: those patients are listed, in clinical order, in
  ``mdata.uns["patients_without_omics"]`` (nothing is dropped silently). The rows of
  ``.obs`` follow the clinical table's order. A modality patient absent from the
  clinical table means the harmonized files are inconsistent: an
  :class:`~survomics.errors.InputError`.

Column types survive the round trip with two caveats of the formats involved: String
columns are stored as categoricals (anndata's convention for string columns; a missing
value is a missing category), and
mudata's reader applies pandas ``convert_dtypes`` to the global ``.obs``, so a Float64
column whose present values are all whole numbers and that has a missing value (e.g.
``os_time`` in days) reads back as pandas ``Int64``; the values are unchanged.

The file is written atomically (a temporary file beside the output, then
:func:`os.replace`, via :func:`survomics.io.atomic_path`). Its bytes are deterministic:
anndata's writer does not record HDF5 object timestamps and mudata writes a fixed
512-byte header (format version, creator, mudata version), so the same inputs and the
same package versions give the same file (tested by writing twice, a second apart).
A different mudata/anndata/h5py version may change the bytes.

mudata and anndata are imported only when exporting, so the rest of the package does not
depend on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from survomics.errors import InputError
from survomics.io import atomic_path

PATIENT_ID = "patient_id"
"""Patient id column of ``clinical.parquet``."""


def _pandas_column(series: pl.Series) -> Any:
    """A polars column as a pandas array keeping its type and its missing values."""
    import pandas as pd  # noqa: PLC0415 - optional dependency (anndata's)

    dtype = series.dtype
    values = series.to_list()
    if dtype.is_integer():
        return pd.array(values, dtype=str(dtype))  # Int8 -> pandas "Int8", UInt32 -> "UInt32"...
    if dtype == pl.Boolean:
        return pd.array(values, dtype="boolean")
    if dtype.is_float():
        return series.cast(pl.Float64).to_numpy()
    return pd.Categorical([None if v is None else str(v) for v in values])


def _clinical(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    if PATIENT_ID not in frame.columns:
        raise InputError(
            path,
            f"no '{PATIENT_ID}' column (columns: {frame.columns[:10]})",
            fix="give the harmonized clinical table of the cohort (results/{cohort}/data/"
            "clinical.parquet)",
            column=PATIENT_ID,
        )
    ids = frame[PATIENT_ID]
    if ids.null_count() or ids.is_duplicated().any():
        raise InputError(
            path,
            "patient ids are missing or repeated",
            fix="re-run the ingest step that writes this file",
            column=PATIENT_ID,
        )
    return frame.with_columns(pl.col(PATIENT_ID).cast(pl.String))


def _modality(name: str, path: Path, clinical_ids: set[str]) -> Any:
    import anndata  # noqa: PLC0415 - optional dependency, only for the export
    import pandas as pd  # noqa: PLC0415 - optional dependency (anndata's)

    frame = pl.read_parquet(path)
    if "feature" not in frame.columns:
        raise InputError(
            path,
            f"no 'feature' column (columns: {frame.columns[:10]})",
            fix=f"give the harmonized matrix of modality '{name}' "
            f"(results/{{cohort}}/data/{name}.parquet)",
            column="feature",
        )
    patients = [c for c in frame.columns if c != "feature"]
    unknown = [p for p in patients if p not in clinical_ids]
    if unknown:
        raise InputError(
            path,
            f"patient(s) {unknown[:5]} of modality '{name}' are not in the clinical table",
            fix="re-run the ingest step of the cohort: the harmonized files disagree",
            column=unknown[0],
        )
    values = frame.select(pl.col(patients).cast(pl.Float64)).to_numpy()
    x = np.ascontiguousarray(values.T, dtype=np.float64)
    features = frame["feature"].cast(pl.String).to_list()
    return anndata.AnnData(
        X=x,
        obs=pd.DataFrame(index=pd.Index(patients, dtype=object)),
        var=pd.DataFrame(
            {"feature": np.array(features, dtype=object)},
            index=pd.Index([f"{name}:{f}" for f in features], dtype=object),
        ),
    )


def export_mudata(
    *, clinical: str | Path, modalities: Mapping[str, str | Path], out: str | Path
) -> None:
    """Write a cohort's harmonized clinical table and matrices as one ``.h5mu`` file.

    Parameters
    ----------
    clinical
        ``clinical.parquet``: ``patient_id`` + clinical columns.
    modalities
        Modality name -> its harmonized ``{modality}.parquet`` (``feature`` + one column
        per patient); the modalities are written in this order.
    out
        The ``.h5mu`` file to write (atomically).

    Raises
    ------
    InputError
        A file without its id column, no modality, or a modality patient missing from
        the clinical table.
    """
    import mudata  # noqa: PLC0415 - optional dependency, only for the export
    import pandas as pd  # noqa: PLC0415 - optional dependency (anndata's)

    if not modalities:
        raise InputError(
            out,
            "no modality to export",
            fix="list at least one harmonized modality matrix",
        )
    clin = _clinical(Path(clinical))
    order = clin[PATIENT_ID].to_list()
    ids = set(order)
    mods = {name: _modality(name, Path(path), ids) for name, path in modalities.items()}
    with mudata.set_options(pull_on_update=False):
        mdata = mudata.MuData(mods)
        present = set(map(str, mdata.obs_names))
        ordered = [p for p in order if p in present]
        if [str(p) for p in mdata.obs_names] != ordered:
            mdata = mdata[ordered].copy()
        kept = clin.filter(pl.col(PATIENT_ID).is_in(ordered))
        obs = pd.DataFrame(
            {c: _pandas_column(kept[c]) for c in kept.columns if c != PATIENT_ID},
            index=pd.Index(kept[PATIENT_ID].to_list(), dtype=object),
        )
        mdata.obs = obs
        mdata.uns["patients_without_omics"] = np.array(
            [p for p in order if p not in present], dtype=object
        )
        with atomic_path(out) as tmp:
            mudata.write_h5mu(tmp, mdata)


__all__ = ["PATIENT_ID", "export_mudata"]
