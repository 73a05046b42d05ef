"""AnnData ``.h5ad`` files: bulk matrices and single-cell data pseudobulked per patient.

An ``.h5ad`` file (the HDF5 serialisation of :class:`anndata.AnnData`) holds a matrix
``X`` of *observations* (rows, ``obs``) x *variables* (columns, ``var``), optional
``layers`` (other matrices of the same shape, e.g. ``counts``), dense or sparse (CSR/CSC),
and per-observation annotations (the ``obs`` table). Two uses are supported:

Bulk (no ``patient_column`` option)
    ``obs`` are samples (``obs_names`` are the sample ids, e.g. TCGA barcodes) and
    ``var`` are features (``var_names``). The values of ``X`` (or of the layer named by
    the ``layer`` option) become ``feature`` + one Float64 column per sample. The sheet's
    ``id_type`` decides how sample ids map to patients.
Single-cell (``patient_column=<obs column>``)
    ``obs`` are cells; the obs column names each cell's patient. Cells are summed per
    patient and gene (``aggregate=sum``, the default, for counts: a pseudobulk count
    matrix that the ``log_cpm`` or ``deseq2`` transform can normalise) or averaged
    (``aggregate=mean``, for already normalised values), with
    :func:`scanpy.get.aggregate`. Decisions, each in the audit:

    - cells without a patient (missing value, or a token of the sheet's ``na_values``)
      are left out: one record, level ``row``, reason ``missing_patient``, with their
      count;
    - a patient with fewer than ``min_cells`` cells (default 10) is excluded: its
      pseudobulk is too noisy; level ``patient``, reason ``too_few_cells``, with the
      count and the threshold.

    Output columns are the patients (sorted). The ids are TCGA barcodes if every one
    parses as one (the sample rules then apply), else patient ids (``id_type`` patient).

Options are validated before the file is read (``min_cells`` a positive integer,
``aggregate`` sum or mean, ``min_cells``/``aggregate`` only with ``patient_column``), and
after (``layer`` and ``patient_column`` must exist, naming the ones that do): each
problem is an :class:`~survomics.errors.InputError` naming the file and the ``options``
column.

Memory
    The file is read whole with :func:`anndata.read_h5ad` (not backed): the matrix must
    fit in memory. A sparse single-cell matrix stays sparse (its CSR arrays, about 12
    bytes per non-zero value) and only the patients x genes pseudobulk is dense; a bulk
    matrix is densified block by block of samples into the float64 output (8 bytes per
    value, e.g. 4.8 GB for 10,000 samples x 60,000 genes) on top of the file's own
    matrix. For single-cell atlases larger than memory, pseudobulk them upstream and
    give the bulk result.

scanpy and anndata are imported only when an ``.h5ad`` row is read, so that the rest of
the package does not depend on them.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError
from survomics.formats import RawMatrix
from survomics.ids import parse_tcga_barcode

if TYPE_CHECKING:
    from survomics.specs import FileSpec

AGGREGATES = ("sum", "mean")
"""Pseudobulk rules of the ``aggregate`` option."""

DEFAULT_MIN_CELLS = 10
"""Default ``min_cells``: fewer cells than this excludes a patient from the pseudobulk."""

_BLOCK_VALUES = 8 * 2**20
_KEY = "_survomics_patient"


def _options_error(spec: FileSpec, problem: str, fix: str) -> InputError:
    return InputError(spec.path, problem, fix=fix, column="options")


def _parse_options(spec: FileSpec) -> tuple[str | None, int, str, str | None]:
    """``(patient_column, min_cells, aggregate, layer)`` with their values checked."""
    patient_column = spec.option("patient_column")
    raw_min = spec.option("min_cells")
    aggregate = spec.option("aggregate")
    layer = spec.option("layer")
    if patient_column is None and (raw_min is not None or aggregate is not None):
        raise _options_error(
            spec,
            "`min_cells`/`aggregate` only apply to single-cell data, but no `patient_column` "
            "is set",
            "add `patient_column=<obs column naming each cell's patient>` to the row's "
            "options, or remove `min_cells`/`aggregate` for a bulk matrix",
        )
    min_cells = DEFAULT_MIN_CELLS
    if raw_min is not None:
        try:
            min_cells = int(raw_min)
        except ValueError:
            min_cells = 0
        if min_cells < 1 or str(min_cells) != raw_min.strip():
            raise _options_error(
                spec,
                f"`min_cells={raw_min}` is not a positive integer",
                "set `min_cells` to a whole number of cells >= 1 (default 10)",
            )
    agg = "sum" if aggregate is None else aggregate.strip()
    if agg not in AGGREGATES:
        raise _options_error(
            spec,
            f"`aggregate={aggregate}` is not one of {', '.join(AGGREGATES)}",
            "use `aggregate=sum` for counts (default) or `aggregate=mean`",
        )
    if layer is not None and layer.strip() in {"", "X"}:
        layer = None
    return patient_column, min_cells, agg, layer


def _read(spec: FileSpec) -> Any:
    import anndata  # noqa: PLC0415 - optional dependency, only for .h5ad rows

    path = Path(spec.path)
    if not path.is_file():
        raise InputError(path, "file not found", fix="check the path in the cohort sheet")
    try:
        with warnings.catch_warnings():
            # duplicate obs names are reported below as an InputError naming the file
            warnings.filterwarnings("ignore", message=r".* names are not unique")
            return anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            path,
            f"cannot be read as an AnnData .h5ad file ({type(exc).__name__}: {exc})",
            fix="check that the file is a complete .h5ad written by anndata "
            "(re-export it with `adata.write_h5ad`)",
        ) from None


def _matrix(spec: FileSpec, adata: Any, layer: str | None) -> Any:
    if layer is None:
        if adata.X is None:
            raise _options_error(
                spec,
                f"the file has no X matrix (layers: {sorted(adata.layers.keys())})",
                "set `layer=<name>` in the row's options to one of the layers",
            )
        return adata.X
    if layer not in adata.layers:
        raise _options_error(
            spec,
            f"layer '{layer}' not found; the file has X and layers {sorted(adata.layers.keys())}",
            "set `layer` to one of these (or remove it to use X)",
        )
    return adata.layers[layer]


def _dense_rows(matrix: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of a dense or sparse matrix as a C-ordered float64 array."""
    import scipy.sparse  # noqa: PLC0415 - anndata's dependency, imported with it

    block = matrix[start:stop]
    if scipy.sparse.issparse(block):
        block = block.toarray()
    return np.ascontiguousarray(np.asarray(block, dtype=np.float64))


def _frame(features: list[str], columns: list[str], matrix: Any) -> pl.DataFrame:
    """``feature`` + one Float64 column per row of ``matrix`` (columns x features)."""
    series: list[pl.Series] = [pl.Series("feature", features, dtype=pl.String)]
    step = max(1, _BLOCK_VALUES // max(1, len(features)))
    for start in range(0, len(columns), step):
        block = _dense_rows(matrix, start, start + step)
        series += [
            pl.Series(name, block[i], dtype=pl.Float64)
            for i, name in enumerate(columns[start : start + step])
        ]
    return pl.DataFrame(series)


def _unique(spec: FileSpec, names: list[str], axis: str) -> None:
    dupes = sorted(n for n, k in Counter(names).items() if k > 1)
    if dupes:
        raise InputError(
            spec.path,
            f"{axis} names are not unique (e.g. {dupes[:5]})",
            fix=f"make them unique (`adata.{axis}_names_make_unique()`) and write the file again",
        )


def _read_bulk(spec: FileSpec, adata: Any, layer: str | None) -> RawMatrix:
    matrix = _matrix(spec, adata, layer)
    samples = [str(s) for s in adata.obs_names]
    _unique(spec, samples, "obs")
    frame = _frame([str(v) for v in adata.var_names], samples, matrix)
    return RawMatrix(frame=frame, sources=(spec.path,), id_type=None)


def _patients(spec: FileSpec, adata: Any, column: str) -> np.ndarray:
    """Each cell's patient id as a string, ``None`` where missing."""
    if column not in adata.obs.columns:
        raise _options_error(
            spec,
            f"obs column '{column}' not found; obs columns are {list(adata.obs.columns)[:20]}",
            "set `patient_column` to the obs column naming each cell's patient",
        )
    raw = adata.obs[column]
    text = raw.astype("string").str.strip()
    values: np.ndarray = text.to_numpy(dtype=object, na_value=None)
    missing = raw.isna().to_numpy() | np.isin(values, list(spec.na_values))
    values[missing] = None
    return values


def _read_single_cell(
    spec: FileSpec, adata: Any, *, column: str, min_cells: int, aggregate: str, layer: str | None
) -> RawMatrix:
    import pandas as pd  # noqa: PLC0415 - anndata's dependency, imported with it
    import scanpy  # noqa: PLC0415 - optional dependency, only for .h5ad rows

    _matrix(spec, adata, layer)  # checks the layer exists
    patients = _patients(spec, adata, column)
    records: list[AuditRecord] = []
    present = np.array([p is not None for p in patients], dtype=bool)
    n_missing = int((~present).sum())
    if n_missing:
        records.append(
            AuditRecord(
                spec.cohort,
                spec.modality,
                spec.path,
                None,
                "row",
                "",
                "missing_patient",
                f"{n_missing} of {len(patients)} cells have no patient in obs column '{column}'",
            )
        )
    ids, counts = np.unique(patients[present].astype(str), return_counts=True)
    records += [
        AuditRecord(
            spec.cohort,
            spec.modality,
            spec.path,
            None,
            "patient",
            str(pid),
            "too_few_cells",
            f"{int(n)} cells < min_cells {min_cells}",
        )
        for pid, n in zip(ids, counts, strict=True)
        if n < min_cells
    ]
    kept = ids[counts >= min_cells]
    if kept.size == 0:
        raise _options_error(
            spec,
            f"no patient has at least min_cells={min_cells} cells (largest: "
            f"{int(counts.max()) if counts.size else 0} cells)",
            "lower `min_cells`, or check `patient_column`",
        )
    keep = present.copy()
    keep[present] = np.isin(patients[present].astype(str), kept)
    adata.obs[_KEY] = pd.Categorical(
        np.where(keep, patients, None), categories=[str(k) for k in kept]
    )
    pseudo = scanpy.get.aggregate(adata[keep], by=_KEY, func=aggregate, layer=layer)
    names = [str(p) for p in pseudo.obs_names]
    frame = _frame([str(v) for v in adata.var_names], names, pseudo.layers[aggregate])
    is_tcga = all(parse_tcga_barcode(p) is not None for p in names)
    return RawMatrix(
        frame=frame,
        records=tuple(records),
        sources=(spec.path,),
        id_type="tcga_barcode" if is_tcga else "patient",
    )


def read_h5ad(spec: FileSpec) -> RawMatrix:
    """Read an ``.h5ad`` row: a bulk matrix, or single cells pseudobulked per patient.

    Parameters
    ----------
    spec
        The row of the cohort sheet; options ``patient_column``, ``min_cells``,
        ``aggregate``, ``layer`` (see the module docstring).

    Returns
    -------
    RawMatrix
        ``feature`` + one Float64 column per sample (bulk) or patient (single-cell).

    Raises
    ------
    InputError
        Unreadable file, invalid option value, unknown layer or obs column, duplicate
        obs names, or no patient with enough cells.
    """
    patient_column, min_cells, aggregate, layer = _parse_options(spec)
    adata = _read(spec)
    if patient_column is None:
        return _read_bulk(spec, adata, layer)
    return _read_single_cell(
        spec, adata, column=patient_column, min_cells=min_cells, aggregate=aggregate, layer=layer
    )


__all__ = ["AGGREGATES", "DEFAULT_MIN_CELLS", "read_h5ad"]
