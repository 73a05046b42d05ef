"""UCSC Xena files: genomic matrices, clinical (phenotype) matrices and survival tables.

Genomic matrix (sheet ``format: xena``)
    Tab-separated, one row per feature (gene, probe, antibody), one column per sample;
    the first column holds the feature ids whatever its header says (``sample`` on the
    TCGA legacy hub, ``Gene Symbol``, ``Ensembl_ID``, ``xena_sample``... — or the sheet's
    ``id_column``). A ``.gz`` file is decompressed. ``NA``, ``NaN``, empty cells and the
    row's ``na_values`` are missing. Xena names samples by TCGA barcode (15 characters on
    the legacy hub, 16 on the GDC hub): ``id_type`` is ``tcga_barcode`` when every sample
    id parses as one, otherwise the sheet's ``id_type`` stands. Values are taken as they
    are (the hubs usually serve log2(x + 1) already: keep ``transform: none``).

Clinical matrix (sheet ``format: xena_clinical``)
    One row per *sample* (first column ``sampleID``, ``sample``, or the sheet's
    ``id_column``), one column per attribute. Survival models need one row per patient,
    so rows are collapsed: the patient is the ``_PATIENT`` column when present, else the
    first 12 characters of the TCGA barcode (with ``id_type: patient``, the sample id
    itself). A patient's kept row is its primary tumour (type ``01``) if any, then other
    tumour types (``02``-``09``) in order, then any other sample, ties broken by vial
    and file order; every other row is audited (level ``sample``, reason
    ``duplicate_sample``, naming the kept sample). The returned id column is
    ``_PATIENT`` (added when the file has none); ``_line`` is the kept row's file line.

Survival table (option ``survival``)
    The curated layout (``sample``, ``_PATIENT``, ``OS``, ``OS.time``, ``DSS``,
    ``DSS.time``, ``DFI``, ``DFI.time``, ``PFI``, ``PFI.time``...; times in days, events
    1/0) is joined by patient: its rows are collapsed the same way, and two samples of
    one patient with different non-missing values stop with an error naming both lines.
    Its columns replace same-named clinical columns (the survival table is the curated
    source). A patient of the survival table without a clinical row is audited (level
    ``patient``, reason ``survival_without_clinical``); a clinical patient without a
    survival row keeps missing values, which the endpoint derivation audits.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError, check_unique_columns
from survomics.formats import RawMatrix, RawTable
from survomics.formats._text import is_tcga, string_rows
from survomics.ids import parse_tcga_barcode
from survomics.specs import FileSpec

PATIENT_COLUMN = "_PATIENT"
SAMPLE_COLUMNS = ("sampleID", "sample")
"""Sample id column names of Xena clinical matrices and survival tables, in preference."""
_MISSING = ("NA", "NaN", "")
_INTERNAL = ("__patient", "__group", "__vial", "__kept_line")


def _bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except FileNotFoundError:
        raise InputError(path, "file not found", fix="check the path in the cohort sheet") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            path,
            f"cannot be decompressed ({exc})",
            fix="the gzip file is truncated or corrupt: download it again",
        ) from None


def _lines(path: Path) -> list[str]:
    data = _bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"is not UTF-8 (byte {data[exc.start]:#x})",
            fix="re-save the file as UTF-8",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _check_header(path: Path, header: list[str]) -> None:
    if len(header) < 2:
        raise InputError(
            path,
            "the header has a single column with separator '\\t'",
            fix="a Xena file is tab-separated: check the file",
            line=1,
        )
    check_unique_columns(header, path=path, line=1)


def _string_table(path: Path, na_values: tuple[str, ...]) -> pl.DataFrame:
    """A tab-separated file as String columns (missing tokens null) + ``_line``."""
    lines = _lines(path)
    if not lines or not lines[0].strip():
        raise InputError(path, "the file is empty", fix="check the path in the cohort sheet")
    header = [h.strip() for h in lines[0].split("\t")]
    _check_header(path, header)
    na = set(na_values) | set(_MISSING)
    return string_rows(lines[1:], header=header, first_line=2, na=na, path=path)


# --------------------------------------------------------------------------- matrix
def read_matrix(spec: FileSpec) -> RawMatrix:
    """Read a Xena genomic matrix (features x samples, ``.gz`` allowed).

    Raises
    ------
    InputError
        Missing or corrupt file, one-column header, duplicate sample columns, ragged rows,
        non-numeric cells.
    """
    path = Path(spec.path)
    data = _bytes(path)
    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    header = [h.strip() for h in first.split("\t")]
    _check_header(path, header)
    id_col = spec.id_column or header[0]
    if id_col not in header:
        raise InputError(
            path,
            f"id column '{id_col}' not found; columns are {header[:5]}",
            fix="leave `id_column` empty (the first column holds the feature ids)",
            line=1,
            column=id_col,
        )
    samples = [h for h in header if h != id_col]
    na = [*spec.na_values, *_MISSING]
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            separator="\t",
            has_header=False,
            skip_rows=1,
            new_columns=header,
            schema={h: (pl.String if h == id_col else pl.Float64) for h in header},
            null_values=na,
            quote_char=None,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
        _locate_bad_cell(path, spec, samples, id_col, exc)
        raise  # pragma: no cover - _locate_bad_cell always raises
    frame = frame.select(pl.col(id_col).str.strip_chars().alias("feature"), *samples)
    return RawMatrix(
        frame=frame,
        sources=(spec.path,),
        id_type="tcga_barcode" if is_tcga(samples) else None,
    )


def _locate_bad_cell(
    path: Path, spec: FileSpec, samples: list[str], id_col: str, exc: Exception
) -> None:
    strings = _string_table(path, spec.na_values)
    for col in samples:
        bad = strings[col].cast(pl.Float64, strict=False).is_null() & strings[col].is_not_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise InputError(
                path,
                f"non-numeric value {strings[col][row]!r} (feature '{strings[id_col][row]}')",
                fix="correct the value or add the token to `na_values` in the cohort sheet",
                line=int(strings["_line"][row]),
                column=col,
            )
    raise InputError(path, f"cannot be read as a matrix ({exc})", fix="check the file's format")


# --------------------------------------------------------------------------- clinical
def _sample_column(path: Path, frame: pl.DataFrame, wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in frame.columns:
            raise InputError(
                path,
                f"id column '{wanted}' not found; columns are {frame.columns[:10]}",
                fix="set `id_column` to the sample id column (sampleID) or leave it empty",
                line=1,
                column=wanted,
            )
        return wanted
    return next((c for c in SAMPLE_COLUMNS if c in frame.columns), frame.columns[0])


def _with_patient(
    path: Path, frame: pl.DataFrame, sample_col: str, *, by_sample: bool
) -> pl.DataFrame:
    """Add ``__patient`` and the sample preference (``__group``, ``__vial``) columns."""
    patients: list[str | None] = []
    ranks: list[tuple[int, str]] = []
    given = frame[PATIENT_COLUMN].to_list() if PATIENT_COLUMN in frame.columns else None
    for i, (sample, line) in enumerate(zip(frame[sample_col], frame["_line"], strict=True)):
        code = parse_tcga_barcode(sample) if sample is not None else None
        patient = given[i] if given is not None and given[i] is not None else None
        if patient is None:
            if by_sample:
                patient = sample
            elif code is not None:
                patient = code.patient
            elif sample is not None:
                raise InputError(
                    path,
                    f"sample id '{sample}' is not a TCGA barcode and the file has no "
                    f"{PATIENT_COLUMN} column",
                    fix="set `id_type: patient` if the ids are patient ids, or add a "
                    f"{PATIENT_COLUMN} column",
                    line=int(line),
                    column=sample_col,
                )
        patients.append(patient)
        kind = code.sample_type if code is not None else None
        if kind == 1:
            group = 0
        elif kind is not None and 1 < kind < 10:  # tumour types 02-09
            group = kind
        elif kind is None:
            group = 10
        else:
            group = 11
        ranks.append((group, (code.vial or "") if code is not None else ""))
    return frame.with_columns(
        pl.Series("__patient", patients, dtype=pl.String),
        pl.Series("__group", [r[0] for r in ranks], dtype=pl.Int64),
        pl.Series("__vial", [r[1] for r in ranks], dtype=pl.String),
    )


def _collapse(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Kept rows (first by preference per patient) and dropped rows with their kept row."""
    ranked = frame.filter(pl.col("__patient").is_not_null()).sort("__group", "__vial", "_line")
    first = ranked.group_by("__patient", maintain_order=True).agg(
        pl.col("_line").first().alias("__kept_line")
    )
    marked = frame.join(first, on="__patient", how="left")
    # rows without any id stay: the clinical loader audits them (missing_patient_id)
    kept = marked.filter(
        pl.col("__patient").is_null() | (pl.col("_line") == pl.col("__kept_line"))
    ).sort("_line")
    dropped = marked.filter(
        pl.col("__kept_line").is_not_null() & (pl.col("_line") != pl.col("__kept_line"))
    ).sort("_line")
    return kept, dropped


def _survival(spec: FileSpec, path: Path) -> tuple[pl.DataFrame, list[int]]:
    """The survival table as one row per patient (``__patient`` + its columns).

    Also returns the lines of rows that name no sample nor patient.
    """
    table = _string_table(path, spec.na_values)
    sample_col = _sample_column(path, table, None)
    table = _with_patient(path, table, sample_col, by_sample=spec.id_type == "patient")
    values = [
        c for c in table.columns if c not in {sample_col, PATIENT_COLUMN, "_line", *_INTERNAL}
    ]
    long = (
        table.select("__patient", "_line", *values)
        .unpivot(index=["__patient", "_line"], variable_name="__column", value_name="__value")
        .drop_nulls()
        .sort("_line")
    )
    distinct = long.unique(
        subset=["__patient", "__column", "__value"], keep="first", maintain_order=True
    )
    clash = distinct.filter(pl.len().over("__patient", "__column") > 1)
    if clash.height:
        patient, column = clash["__patient"][0], clash["__column"][0]
        pair = clash.filter((pl.col("__patient") == patient) & (pl.col("__column") == column))
        (v1, l1), (v2, l2) = pair.select("__value", "_line").rows()[:2]
        raise InputError(
            path,
            f"patient {patient} has {column}={v1!r} on line {l1} but {column}={v2!r} on line {l2}",
            fix="survival is per patient: make the samples of one patient agree (or remove "
            "the wrong row)",
            line=int(l2),
            column=column,
        )
    collapsed = (
        table.sort("__group", "__vial", "_line")
        .group_by("__patient", maintain_order=True)
        .agg([pl.col(c).drop_nulls().first() for c in values])
        .filter(pl.col("__patient").is_not_null())
    )
    return collapsed, table.filter(pl.col("__patient").is_null())["_line"].to_list()


def read_clinical(spec: FileSpec) -> RawTable:
    """Read a Xena clinical matrix as one row per patient (+ an optional survival table).

    Returns
    -------
    RawTable
        String columns, ``_line`` (the kept sample's line), id column ``_PATIENT``;
        records of the collapsed samples and of survival-only patients.

    Raises
    ------
    InputError
        Missing file, ragged rows, a non-TCGA sample id without ``_PATIENT``, conflicting
        survival values between samples of one patient.
    """
    path = Path(spec.path)
    frame = _string_table(path, spec.na_values)
    sample_col = _sample_column(path, frame, spec.id_column)
    frame = _with_patient(path, frame, sample_col, by_sample=spec.id_type == "patient")
    kept, dropped = _collapse(frame)
    kept_sample = dict(zip(kept["__patient"], kept[sample_col], strict=True))
    kept_sample.pop(None, None)
    records = [
        AuditRecord(
            spec.cohort,
            "clinical",
            spec.path,
            int(line),
            "sample",
            sample or "",
            "duplicate_sample",
            f"patient {patient} has several samples; kept {kept_sample[patient]} "
            f"(line {kept_line})",
        )
        for sample, patient, line, kept_line in dropped.select(
            sample_col, "__patient", "_line", "__kept_line"
        ).iter_rows()
    ]
    out = kept.with_columns(pl.col("__patient").alias(PATIENT_COLUMN))
    sources = [spec.path]
    survival_path = spec.option("survival")
    if survival_path is not None:
        survival, no_id = _survival(spec, Path(survival_path))
        sources.append(survival_path)
        records += [
            AuditRecord(
                spec.cohort,
                "clinical",
                survival_path,
                line,
                "row",
                "",
                "missing_patient_id",
                "the survival row has no sample nor patient id",
            )
            for line in no_id
        ]
        clinical_patients = set(out["__patient"].drop_nulls())
        records += [
            AuditRecord(
                spec.cohort,
                "clinical",
                survival_path,
                None,
                "patient",
                patient,
                "survival_without_clinical",
                f"patient {patient} is in the survival table but not in {path.name}",
            )
            for patient in survival["__patient"]
            if patient not in clinical_patients
        ]
        replaced = [c for c in survival.columns if c != "__patient" and c in out.columns]
        out = out.drop(replaced).join(survival, on="__patient", how="left")
    columns = [c for c in out.columns if c not in {"_line", *_INTERNAL}]
    if PATIENT_COLUMN not in frame.columns:
        columns = [PATIENT_COLUMN, *[c for c in columns if c != PATIENT_COLUMN]]
    result = out.select(*columns, pl.col("_line").cast(pl.Int64))
    return RawTable(
        frame=result, id_column=PATIENT_COLUMN, records=tuple(records), sources=tuple(sources)
    )


def input_files(spec: FileSpec) -> list[str]:
    """The file of the row, plus the survival table of a clinical row."""
    survival = spec.option("survival") if spec.modality == "clinical" else None
    return [spec.path, *([survival] if survival is not None else [])]


__all__ = ["PATIENT_COLUMN", "SAMPLE_COLUMNS", "input_files", "read_clinical", "read_matrix"]
