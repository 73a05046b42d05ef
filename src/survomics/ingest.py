"""Read clinical tables and omics matrices into the survomics Parquet contract.

Clinical tables
    All cells are read as strings (ids keep leading zeros), missing tokens become null,
    the endpoint is derived (:mod:`survomics.endpoint`), and every other column gets a
    type: Int64 when every value is an integer literal, Float64 when every value is a
    number, else String (also when a value has a leading zero such as ``007``).

Omics matrices
    Read in one polars call with an explicit schema (id column String, every other column
    Float64) — the fast path; on a parse failure the file is re-read as strings only to
    locate the first bad cell for the error message. Samples map to patients
    (:mod:`survomics.ids`); the result is features x patients with one Float64 column per
    kept patient, in the order of the clinical table.

Every exclusion is returned as an :class:`~survomics.audit.AuditRecord`; every problem a
user must fix raises :class:`~survomics.errors.InputError` naming file, line and column.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from survomics.audit import AuditRecord
from survomics.endpoint import derive_endpoint
from survomics.errors import InputError
from survomics.ids import select_samples
from survomics.specs import EndpointSpec, FileSpec

_INT = re.compile(r"^[+-]?\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def _separator(spec: FileSpec) -> str:
    return spec.sep or ("," if spec.format == "csv" else "\t")


def _text(path: Path) -> str:
    """Whole text of a (gzipped) file, BOM removed, CRLF normalised."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            path,
            f"cannot be decompressed ({exc})",
            fix="the gzip file is truncated or corrupt: download or copy it again",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            f"is not UTF-8 (byte {raw[exc.start]:#x})",
            fix="re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
            line=line,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_columns(header: Sequence[str], sep: str, path: Path) -> None:
    """A one-column header means the separator is wrong."""
    if len(header) < 2:
        raise InputError(
            path,
            f"the header has a single column with separator {sep!r}",
            fix="set the sheet's `format`/`sep` to the file's real separator",
            line=1,
        )


def read_strings(spec: FileSpec, *, path: Path) -> pl.DataFrame:
    """Read a table with every column as String; missing tokens become null.

    Raises
    ------
    InputError
        On an unreadable file, an empty file, duplicate column names or ragged rows.
    """
    if spec.format == "parquet":
        frame = pl.read_parquet(path)
        return frame.with_columns(pl.all().cast(pl.String)).with_columns(
            pl.when(pl.all().str.strip_chars().is_in(list(spec.na_values)))
            .then(None)
            .otherwise(pl.all().str.strip_chars())
            .name.keep()
        )
    text = _text(path)
    lines = text.split("\n")
    if not lines or not lines[0].strip():
        raise InputError(path, "the file is empty", fix="check the path in the cohort sheet")
    sep = _separator(spec)
    header = [h.strip() for h in lines[0].split(sep)]
    _check_columns(header, sep, path)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(
            path,
            f"duplicate column name(s) {dupes[:5]}",
            fix="give every column a unique name",
            line=1,
        )
    for lineno, line in enumerate(lines[1:], start=2):
        if line and line.count(sep) != len(header) - 1:
            raise InputError(
                path,
                f"row has {line.count(sep) + 1} fields but the header has {len(header)}",
                fix="repair the row (missing or extra separators)",
                line=lineno,
            )
    body = [ln for ln in lines[1:] if ln != ""]
    columns = list(zip(*(ln.split(sep) for ln in body), strict=True)) if body else []
    na = set(spec.na_values)
    data = {
        name: [None if v.strip() in na else v.strip() for v in col]
        for name, col in zip(header, columns or [[] for _ in header], strict=True)
    }
    return pl.DataFrame(data, schema=dict.fromkeys(header, pl.String))


def _infer(column: pl.Series) -> pl.Series:
    """Type a String column: Int64, Float64, or left as String."""
    values = column.drop_nulls()
    if values.len() == 0:
        return column
    as_list = values.to_list()
    if any(_LEADING_ZERO.match(v) for v in as_list):
        return column
    if all(_INT.match(v) for v in as_list):
        return column.cast(pl.Int64, strict=False)
    floats = column.cast(pl.Float64, strict=False)
    if floats.null_count() == column.null_count():
        return floats
    return column


def _id_column(spec: FileSpec, header: Sequence[str], path: Path) -> str:
    if spec.id_column is None:
        return header[0]
    if spec.id_column not in header:
        raise InputError(
            path,
            f"id column '{spec.id_column}' not found; columns are {list(header)[:10]}",
            fix="set `id_column` in the cohort sheet to one of the file's columns",
            line=1,
            column=spec.id_column,
        )
    return spec.id_column


def load_clinical(spec: FileSpec, endpoint: EndpointSpec) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Read a clinical table and derive its survival endpoint.

    Parameters
    ----------
    spec
        The clinical row of the cohort sheet.
    endpoint
        The endpoint definition the row names.

    Returns
    -------
    tuple
        The clinical frame (``patient_id``, ``{name}_time`` in days, ``{name}_event``,
        then the other columns, typed; rows in file order) and the audit records of the
        excluded rows and patients.

    Raises
    ------
    InputError
        Unreadable file, missing columns, duplicate patient ids, unknown event codings,
        non-numeric times, or no patient / no event left.
    """
    path = Path(spec.path)
    frame = read_strings(spec, path=path)
    id_col = _id_column(spec, frame.columns, path)
    first_line = 2
    records: list[AuditRecord] = []
    frame = frame.with_row_index("_line", offset=first_line)
    missing_id = frame.filter(pl.col(id_col).is_null())
    records += [
        AuditRecord(
            spec.cohort,
            "clinical",
            spec.path,
            int(line),
            "row",
            "",
            "missing_patient_id",
            "the row has no patient id",
        )
        for line in missing_id["_line"]
    ]
    frame = frame.filter(pl.col(id_col).is_not_null())
    dup = frame.filter(pl.col(id_col).is_duplicated())
    if dup.height:
        pid = dup[id_col][0]
        lines = dup.filter(pl.col(id_col) == pid)["_line"].to_list()
        raise InputError(
            path,
            f"patient id '{pid}' appears on lines {lines}",
            fix="keep one row per patient (merge or remove the duplicates)",
            line=int(lines[1]),
            column=id_col,
        )
    derived, exclusions = derive_endpoint(
        frame.drop("_line"), endpoint, path=spec.path, id_column=id_col, first_line=first_line
    )
    excluded_ids = {e.id for e in exclusions}
    records += [
        AuditRecord(spec.cohort, "clinical", spec.path, e.line, "patient", e.id, e.reason, e.detail)
        for e in exclusions
    ]
    name = endpoint.name
    keep = ~pl.Series(frame[id_col].to_list()).is_in(list(excluded_ids))
    others = [c for c in frame.columns if c not in {id_col, "_line"}]
    out = pl.DataFrame(
        {
            "patient_id": frame[id_col],
            f"{name}_time": derived["time_days"],
            f"{name}_event": derived["event"],
        }
    ).with_columns(frame.select(others))
    out = out.filter(keep)
    if out.height == 0:
        raise InputError(
            path,
            "no patient is left after deriving the endpoint (see the audit reasons)",
            fix="check the endpoint columns and their coding in config.yaml",
        )
    if int(out[f"{name}_event"].sum()) == 0:
        raise InputError(
            path,
            f"no events among the {out.height} patients kept: survival models are impossible",
            fix="check the event column and its coding (1/0, dead/alive, 1:DECEASED...)",
        )
    typed = out.with_columns([_infer(out[c]) for c in others])
    return typed.with_columns(
        pl.col(f"{name}_time").cast(pl.Float64), pl.col(f"{name}_event").cast(pl.Int8)
    ), records


def _read_numeric(spec: FileSpec, path: Path, header: Sequence[str], id_col: str) -> pl.DataFrame:
    """Fast path: one polars read with an explicit schema; locate bad cells on failure."""
    schema = {h: (pl.String if h == id_col else pl.Float64) for h in header}
    try:
        return pl.read_csv(
            path,
            separator=_separator(spec),
            has_header=False,
            skip_rows=1,
            new_columns=list(header),
            schema=schema,
            null_values=list(spec.na_values),
            quote_char=None,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError, OSError):
        pass
    strings = read_strings(spec, path=path)
    for col in header:
        if col == id_col:
            continue
        parsed = strings[col].cast(pl.Float64, strict=False)
        bad = parsed.is_null() & strings[col].is_not_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise InputError(
                path,
                f"non-numeric value {strings[col][row]!r} (feature '{strings[id_col][row]}')",
                fix="correct the value or add the token to `na_values` in the cohort sheet",
                line=row + 2,
                column=col,
            )
    raise InputError(path, "cannot be read as a numeric matrix", fix="check the file's format")


def _header(spec: FileSpec, path: Path) -> list[str]:
    if spec.format == "parquet":
        return list(pl.read_parquet_schema(path))
    first = _text(path).split("\n", 1)[0] if path.suffix == ".gz" else None
    if first is None:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            first = fh.readline().rstrip("\r\n")
    return [h.strip() for h in first.split(_separator(spec))]


def _matrix(spec: FileSpec, path: Path) -> tuple[pl.DataFrame, str]:
    """The file as features x samples (``feature`` + Float64 sample columns)."""
    if spec.format == "parquet":
        raw = pl.read_parquet(path)
        id_col = _id_column(spec, raw.columns, path)
        frame = raw.with_columns(pl.col(id_col).cast(pl.String)).with_columns(
            pl.exclude(id_col).cast(pl.Float64)
        )
    else:
        header = _header(spec, path)
        _check_columns(header, _separator(spec), path)
        id_col = _id_column(spec, header, path)
        if spec.orientation == "samples_x_features":
            frame = read_strings(spec, path=path)
            frame = frame.with_columns(pl.exclude(id_col).cast(pl.Float64, strict=False))
        else:
            frame = _read_numeric(spec, path, header, id_col)
    frame = frame.with_columns(pl.col(id_col).str.strip_chars())
    if spec.orientation == "samples_x_features":
        samples = frame[id_col].to_list()
        features = [c for c in frame.columns if c != id_col]
        values = frame.select(features).to_numpy().T
        frame = pl.DataFrame(
            {"feature": features} | {s: values[:, i] for i, s in enumerate(samples)},
            schema={"feature": pl.String} | dict.fromkeys(samples, pl.Float64),
        )
        return frame, id_col
    return frame.rename({id_col: "feature"}) if id_col != "feature" else frame, id_col


_TRANSFORMS = {
    "log2p1": (lambda x: (x + 1.0).log(2), lambda x: x >= 0, "x >= 0"),
    "log2": (lambda x: x.log(2), lambda x: x > 0, "x > 0"),
    "log10p1": (lambda x: (x + 1.0).log(10), lambda x: x >= 0, "x >= 0"),
}


def load_omics(
    spec: FileSpec,
    *,
    patients: Sequence[str],
    excluded_patients: Mapping[str, str],
    tumour_types: Sequence[int] = (1, 2, 3, 4, 5, 6, 7, 8, 9),
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Read one omics matrix as features x patients.

    Parameters
    ----------
    spec
        The matrix's row of the cohort sheet.
    patients
        The clinical table's included patients; output columns follow this order.
    excluded_patients
        Patients excluded from the clinical table, with their reason.
    tumour_types
        Eligible TCGA sample types in order of preference.

    Returns
    -------
    tuple
        ``feature`` + one Float64 column per kept patient, and the audit records.

    Raises
    ------
    InputError
        Unreadable file, non-numeric cell, duplicate feature ids, values outside the
        transform's domain, or no patient in common with the clinical table.
    """
    path = Path(spec.path)
    frame, _ = _matrix(spec, path)
    records: list[AuditRecord] = []
    frame = frame.with_row_index("_line", offset=2)
    empty = frame.filter(pl.col("feature").is_null() | (pl.col("feature") == ""))
    records += [
        AuditRecord(
            spec.cohort,
            spec.modality,
            spec.path,
            int(line),
            "row",
            "",
            "missing_feature_id",
            "the row has no feature id",
        )
        for line in empty["_line"]
    ]
    frame = frame.filter(pl.col("feature").is_not_null() & (pl.col("feature") != ""))
    dup = frame.filter(pl.col("feature").is_duplicated())
    if dup.height:
        fid = dup["feature"][0]
        lines = dup.filter(pl.col("feature") == fid)["_line"].to_list()
        raise InputError(
            path,
            f"feature id '{fid}' appears on lines {lines}",
            fix="make feature ids unique (rename or remove the duplicate rows)",
            line=int(lines[1]),
            column="feature",
        )
    frame = frame.drop("_line")
    samples = [c for c in frame.columns if c != "feature"]
    selection = select_samples(
        samples, id_type=spec.id_type, tumour_types=tumour_types, path=spec.path
    )
    for sample, _patient, reason, detail in selection.excluded:
        records.append(
            AuditRecord(
                spec.cohort, spec.modality, spec.path, None, "sample", sample, reason, detail
            )
        )
    wanted = set(patients)
    for patient, sample in sorted(selection.chosen.items()):
        if patient in wanted:
            continue
        if patient in excluded_patients:
            reason, detail = (
                "patient_excluded",
                f"patient {patient} was excluded from the clinical table: "
                f"{excluded_patients[patient]}",
            )
        else:
            reason, detail = "patient_not_in_clinical", f"patient {patient} has no clinical row"
        records.append(
            AuditRecord(
                spec.cohort, spec.modality, spec.path, None, "sample", sample, reason, detail
            )
        )
    kept = [(p, selection.chosen[p]) for p in patients if p in selection.chosen]
    if not kept:
        raise InputError(
            path,
            "no sample matches a patient of the clinical table",
            fix="check `id_type` in the cohort sheet and that the ids name the same patients",
            line=1,
        )
    out = frame.select(pl.col("feature"), *[pl.col(s).cast(pl.Float64).alias(p) for p, s in kept])
    if spec.transform != "none":
        func, valid, domain = _TRANSFORMS[spec.transform]
        cols = [p for p, _ in kept]
        bad = out.select(
            pl.any_horizontal([(~valid(pl.col(c))).fill_null(value=False) for c in cols])
        ).to_series()
        if bad.any():
            row = int(bad.arg_true()[0])
            vals = out.row(row, named=True)
            col = next(c for c in cols if vals[c] is not None and not _ok(vals[c], domain))
            raise InputError(
                path,
                f"value {vals[col]} of feature '{vals['feature']}' is outside the domain "
                f"of transform {spec.transform} ({domain})",
                fix="use `transform: none` for this file, or check the data",
                line=None,
                column=dict(kept)[col],
            )
        out = out.with_columns([func(pl.col(c)) for c in cols])
    return out, records


def _ok(value: float, domain: str) -> bool:
    return bool(value >= 0) if domain == "x >= 0" else bool(value > 0)


__all__ = ["load_clinical", "load_omics", "read_strings"]
