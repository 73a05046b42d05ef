"""Image-derived feature tables: radiomics and pathology-slide embeddings.

Tools that extract features from images write one row per image (or per patient) and
one column per feature: pyradiomics' batch mode (columns from the input list such as
``Image`` and ``Mask``, ``diagnostics_*`` columns, then ``original_shape_*``,
``original_firstorder_*``, ``original_glcm_*``... features), or a slide-embedding
pipeline (``slide_id``, ``patient``, ``emb_0`` ... ``emb_767``). This reader turns such a
table into features x patients:

- the file is a delimited table: comma-separated if its name ends in ``.csv`` (or
  ``.csv.gz``), tab-separated otherwise (``.tsv``, ``.txt``, and their ``.gz``); the sheet's
  ``sep`` overrides; fields may be quoted (pyradiomics writes ``"(0.7, 0.7, 5.0)"``);
  audit lines count one line per row (a quoted field spanning lines would shift them);
- the ``patient_column`` option names the patient id column (default: the first column);
  a row without a patient id is left out (level ``row``, reason ``missing_patient_id``);
- every other column whose present values all parse as numbers is a feature; the other
  columns (image and mask paths, slide ids, pyradiomics' version and hash diagnostics...)
  are ignored and listed in ONE audit record (level ``feature``, reason
  ``non_numeric_column``); a column with no value at all is ignored the same way (reason
  ``empty_column``). Numeric ``diagnostics_*`` columns of pyradiomics (voxel counts,
  image mean...) are numbers and are kept as features: remove them from the file if
  they are not wanted;
- a patient with several rows (several images, lesions or slides) gets one value per
  feature by the ``aggregate`` option: ``mean`` (default), ``median``, ``max`` (missing
  values ignored) or ``first`` (the values of the patient's first row, as they are); one
  audit record per such patient (level ``patient``, reason ``images_aggregated``, e.g.
  ``3 images (lines 4, 9, 12) -> mean``) so that the reduction is visible;
- output columns are the patients in order of first appearance; the ids are TCGA
  barcodes if every one parses as one (the TCGA sample rules then apply), else patient
  ids (``id_type`` patient).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError
from survomics.formats import RawMatrix
from survomics.ids import parse_tcga_barcode

if TYPE_CHECKING:
    from survomics.specs import FileSpec

AGGREGATES = ("mean", "median", "max", "first")
"""Rules of the ``aggregate`` option for a patient with several rows."""


def _separator(spec: FileSpec, path: Path) -> str:
    if spec.sep is not None:
        return spec.sep
    name = path.name.lower().removesuffix(".gz")
    return "," if name.endswith(".csv") else "\t"


def _read(spec: FileSpec, path: Path) -> pl.DataFrame:
    """Every column as a stripped String, missing tokens null; ``_line`` = source line."""
    if not path.is_file():
        raise InputError(path, "file not found", fix="check the path in the cohort sheet")
    sep = _separator(spec, path)
    try:
        frame = pl.read_csv(path, separator=sep, infer_schema=False, quote_char='"')
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(
            path,
            f"cannot be read as a table separated by {sep!r} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})",
            fix="check the separator (`.csv` = comma, else tab; or set `sep`) and that every "
            "row has as many fields as the header",
        ) from None
    if frame.width < 2:
        raise InputError(
            path,
            f"the header has a single column with separator {sep!r}",
            fix="set the sheet's `sep` to the file's real separator",
            line=1,
        )
    na = list(spec.na_values)
    return frame.with_columns(
        pl.when(pl.all().str.strip_chars().is_in(na))
        .then(None)
        .otherwise(pl.all().str.strip_chars())
        .name.keep()
    ).with_row_index("_line", offset=2)


def _options(spec: FileSpec, header: list[str]) -> tuple[str, str]:
    column = spec.option("patient_column", header[0])
    assert column is not None
    if column not in header:
        raise InputError(
            spec.path,
            f"patient_column '{column}' is not a column of the file; columns are {header[:10]}",
            fix="set `patient_column` in the row's options to the patient id column",
            column="options",
        )
    aggregate = (spec.option("aggregate") or "mean").strip()
    if aggregate not in AGGREGATES:
        raise InputError(
            spec.path,
            f"`aggregate={aggregate}` is not one of {', '.join(AGGREGATES)}",
            fix="set `aggregate` to mean (default), median, max or first",
            column="options",
        )
    return column, aggregate


def read_image_features(spec: FileSpec) -> RawMatrix:
    """Read a radiomics / pathology-embedding table as features x patients.

    Parameters
    ----------
    spec
        The row of the cohort sheet; options ``patient_column`` and ``aggregate``.

    Returns
    -------
    RawMatrix
        ``feature`` + one Float64 column per patient; audit records of the ignored
        columns, rows without patient and patients whose images were aggregated.

    Raises
    ------
    InputError
        Unreadable or ragged file, unknown patient column, invalid ``aggregate``, or no
        numeric column.
    """
    path = Path(spec.path)
    frame = _read(spec, path)
    header = [c for c in frame.columns if c != "_line"]
    column, aggregate = _options(spec, header)
    record = functools.partial(AuditRecord, spec.cohort, spec.modality, spec.path)
    records: list[AuditRecord] = [
        record(int(line), "row", "", "missing_patient_id", f"column '{column}' is empty")
        for line in frame.filter(pl.col(column).is_null())["_line"]
    ]
    frame = frame.filter(pl.col(column).is_not_null())
    features: list[str] = []
    text: list[str] = []
    empty: list[str] = []
    for name in header:
        if name == column:
            continue
        values = frame[name]
        if values.null_count() == values.len():
            empty.append(name)
        elif values.cast(pl.Float64, strict=False).null_count() == values.null_count():
            features.append(name)
        else:
            text.append(name)
    if text:
        records.append(
            record(
                1,
                "feature",
                ",".join(text),
                "non_numeric_column",
                f"{len(text)} non-numeric column(s) ignored: {', '.join(text)}",
            )
        )
    if empty:
        records.append(
            record(
                1,
                "feature",
                ",".join(empty),
                "empty_column",
                f"{len(empty)} column(s) without any value ignored: {', '.join(empty)}",
            )
        )
    if not features:
        raise InputError(
            path,
            f"no numeric feature column besides patient column '{column}'",
            fix="check the separator and `patient_column`; feature columns must hold numbers",
            line=1,
        )
    numeric = frame.select(
        pl.col(column).alias("_patient"), "_line", *(pl.col(f).cast(pl.Float64) for f in features)
    )
    rule = {
        "mean": pl.col(features).mean(),
        "median": pl.col(features).median(),
        "max": pl.col(features).max(),
        "first": pl.col(features).first(),
    }[aggregate]
    grouped = numeric.group_by("_patient", maintain_order=True).agg(
        pl.col("_line").alias("_lines"), rule
    )
    for patient, lines in zip(grouped["_patient"], grouped["_lines"], strict=True):
        if len(lines) > 1:
            listed = ", ".join(str(n) for n in lines)
            records.append(
                record(
                    int(lines[0]),
                    "patient",
                    patient,
                    "images_aggregated",
                    f"{len(lines)} images (lines {listed}) -> {aggregate}",
                )
            )
    patients = grouped["_patient"].to_list()
    values = grouped.select(features).to_numpy()
    out = pl.DataFrame(
        [pl.Series("feature", features, dtype=pl.String)]
        + [
            pl.Series(p, values[i], dtype=pl.Float64, nan_to_null=True)
            for i, p in enumerate(patients)
        ]
    )
    is_tcga = all(parse_tcga_barcode(p) is not None for p in patients)
    return RawMatrix(
        frame=out,
        records=tuple(records),
        sources=(spec.path,),
        id_type="tcga_barcode" if is_tcga else "patient",
    )


__all__ = ["AGGREGATES", "read_image_features"]
