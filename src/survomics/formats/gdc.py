r"""Readers of GDC portal downloads: STAR - Counts carts, ``clinical.tsv``, BCR Biotab.

STAR - Counts (``format: gdc_star_counts``)
    The sheet's ``path`` is the portal's sample sheet (``gdc_sample_sheet.<date>.tsv``:
    ``File ID``, ``File Name``, ``Data Category``, ``Data Type``, ``Project ID``,
    ``Case ID``, ``Sample ID``, ``Sample Type``...; only ``File ID``, ``File Name``,
    ``Data Type`` and ``Sample ID`` are required). Each file is found as
    ``<directory>/<File ID>/<File Name>`` (an extracted cart) or ``<directory>/<File Name>``
    (files copied flat), ``directory`` defaulting to the sample sheet's folder. A file
    (``*.rna_seq.augmented_star_gene_counts.tsv``) has a ``# gene-model: GENCODE v36``
    line, the header ``gene_id gene_name gene_type unstranded stranded_first
    stranded_second tpm_unstranded fpkm_unstranded fpkm_uq_unstranded``, four STAR
    counters (``N_unmapped``, ``N_multimapping``, ``N_noFeature``, ``N_ambiguous``) and one
    row per gene. Decisions:

    - the four ``N_*`` counters are alignment summaries, not genes: they are left out
      (not an exclusion, so not in the audit);
    - option ``column`` picks the value column (``unstranded`` default);
    - option ``gene_id``: ``gene_id`` (default, versioned Ensembl ids, unique) or
      ``gene_name``; with ``gene_name`` the rows of a repeated symbol (PAR_Y copies,
      ``Y_RNA``...) are **summed** (right for counts; for TPM/FPKM it is the expression of
      the symbol as a whole) and each summed symbol gets an audit record
      (``summed_gene_ids``, level ``feature``); a missing name falls back to the gene id;
    - columns are named by ``Sample ID`` (a TCGA sample barcode, ``id_type``
      ``tcga_barcode``), in sheet order;
    - sheet rows whose ``Data Type`` is not ``Gene Expression Quantification`` are
      audited (``not_gene_expression``), rows naming several samples (pooled,
      ``"S1, S2"``) or none are audited (``multiple_samples``, ``missing_sample_id``);
    - two files of one sample (technical replicates): the first by ``File Name`` is kept,
      the others are audited (``duplicate_file``);
    - a listed file absent from both places, a file without the chosen column, a
      non-numeric value, or a gene list that differs from the first file's (same genes in
      the same order) stops with an :class:`~survomics.errors.InputError`.

    Each file is read by one polars call (three columns), into a preallocated numpy
    matrix: 1,000 files x 60,660 genes is I/O bound.

GDC clinical (``format: gdc_clinical``)
    ``clinical.tsv`` of a cart: one row per case x treatment (several rows per case), with
    ``'--`` for missing (read as null on top of the row's ``na_values``). Rows are
    collapsed to one per ``case_submitter_id`` (the TCGA patient barcode; the row's
    ``id_column`` overrides it): a value identical across a case's rows (or missing in
    some) is kept; a column whose values differ (``treatment_type``,
    ``treatment_or_therapy``...) gets the distinct values joined by ``;`` in sorted order;
    ``_line`` is the case's first line. 2024+ exports name columns ``<entity>.<field>``
    (``cases.submitter_id``, ``demographic.vital_status``,
    ``diagnoses.days_to_last_follow_up``): the prefix is stripped so one endpoint config
    serves both layouts (``cases.submitter_id`` becomes ``case_submitter_id``). Where
    stripping would make two columns one (``diagnoses.submitter_id``,
    ``treatments.submitter_id``), those columns keep their dotted names: an error would
    reject every real export, which always has several ``*.submitter_id``.

BCR Biotab (``format: biotab``)
    ``nationwidechildrens.org_clinical_patient_<tcga>.txt``: a header, then two more header
    rows (CDE names, ``CDE_ID:...``) that are skipped, then one row per patient
    (``bcr_patient_barcode``). ``[Not Available]``, ``[Not Applicable]``, ``[Unknown]``,
    ``[Discrepancy]``, ``[Not Evaluated]`` and ``[Completed]`` are missing. Option
    ``follow_up``: a follow-up file (``..._clinical_follow_up_v4.0_<tcga>.txt``, same three
    header rows, several rows per patient) updates ``vital_status``, the time of death and
    the last contact (TCGA DCC names ``days_to_death``/``days_to_last_followup`` or GDC
    names ``death_days_to``/``last_contact_days_to``, whichever the file has):

    - a death in the patient row or any follow-up wins: ``vital_status`` becomes ``Dead``
      with its time of death; two different times of death for one patient stop with an
      error naming both lines (no rule can tell which is right);
    - the last contact is the largest over the patient row and its follow-ups; without a
      death the vital status is that of the latest record;
    - each patient whose values changed gets an audit record (``follow_up_update``, level
      ``patient``, old -> new; not an exclusion), each follow-up row of a patient absent
      from the patient file one (``follow_up_without_patient``, level ``row``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError
from survomics.formats import RawMatrix, RawTable
from survomics.ingest import read_strings
from survomics.specs import FileSpec

COUNT_COLUMNS = (
    "unstranded",
    "stranded_first",
    "stranded_second",
    "tpm_unstranded",
    "fpkm_unstranded",
    "fpkm_uq_unstranded",
)
"""Value columns of an augmented STAR gene counts file (option ``column``)."""
STAR_COUNTERS = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")
"""STAR alignment summary rows at the top of each file: not genes, left out."""
GENE_EXPRESSION = "Gene Expression Quantification"
SHEET_COLUMNS = ("File ID", "File Name", "Data Type", "Sample ID")
GDC_MISSING = "'--"
BIOTAB_MISSING = (
    "[Not Available]",
    "[Not Applicable]",
    "[Unknown]",
    "[Discrepancy]",
    "[Not Evaluated]",
    "[Completed]",
)
BIOTAB_HEADER_ROWS = 2
"""Header rows after the column names in a Biotab file (CDE names, ``CDE_ID:``)."""
_SURVIVAL_NAMES = {
    "death": ("days_to_death", "death_days_to"),
    "last": ("days_to_last_followup", "last_contact_days_to"),
}


# --- STAR - Counts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CountFile:
    sample: str
    path: Path
    sheet_line: int


@dataclass(frozen=True, slots=True)
class _Plan:
    files: tuple[_CountFile, ...]
    records: tuple[AuditRecord, ...]


def _directory(spec: FileSpec) -> Path:
    given = spec.option("directory")
    return Path(given) if given else Path(spec.path).parent


def _read_sheet(spec: FileSpec) -> pl.DataFrame:
    path = Path(spec.path)
    if not path.is_file():
        raise InputError(
            path,
            "the GDC sample sheet does not exist",
            fix="download the sample sheet of the cart from the GDC portal (Cart > Sample "
            "Sheet) and set the row's `path` to it",
        )
    sheet = read_strings(dataclasses.replace(spec, sep="\t"), path=path)
    missing = [c for c in SHEET_COLUMNS if c not in sheet.columns]
    if missing:
        raise InputError(
            path,
            f"not a GDC sample sheet: column(s) {missing} missing; columns are "
            f"{sheet.columns[:10]}",
            fix="give the sample sheet of the cart (gdc_sample_sheet.<date>.tsv) as `path`",
            line=1,
            column=missing[0],
        )
    return sheet.with_row_index("_line", offset=2)


def _find(directory: Path, file_id: str, name: str) -> Path | None:
    for candidate in (directory / file_id / name, directory / name):
        if candidate.is_file():
            return candidate
    return None


def _plan(spec: FileSpec, *, require_files: bool) -> _Plan:
    """Decide from the sheet alone which file gives which sample column."""
    sheet = _read_sheet(spec)
    directory = _directory(spec)
    records: list[AuditRecord] = []

    def audit(line: int, level: str, ident: str, reason: str, detail: str) -> None:
        records.append(
            AuditRecord(spec.cohort, spec.modality, spec.path, line, level, ident, reason, detail)
        )

    by_sample: dict[str, list[tuple[str, str, int]]] = {}
    for row in sheet.iter_rows(named=True):
        line, name, sample = int(row["_line"]), row["File Name"] or "", row["Sample ID"]
        if row["Data Type"] != GENE_EXPRESSION:
            audit(
                line,
                "row",
                name,
                "not_gene_expression",
                f"Data Type is {row['Data Type']!r}, not {GENE_EXPRESSION!r}",
            )
        elif sample is None:
            audit(line, "row", name, "missing_sample_id", "the sheet row has no Sample ID")
        elif "," in sample:
            audit(
                line,
                "row",
                name,
                "multiple_samples",
                f"the file pools samples {sample}: no single sample to assign it to",
            )
        else:
            by_sample.setdefault(sample.strip(), []).append((name, row["File ID"] or "", line))
    files: list[_CountFile] = []
    for sample, entries in by_sample.items():
        kept, *others = sorted(entries)
        for name, _fid, line in others:
            audit(
                line,
                "row",
                name,
                "duplicate_file",
                f"sample {sample} already has file {kept[0]} (the first by File Name)",
            )
        name, file_id, line = kept
        found = _find(directory, file_id, name)
        if found is None:
            if require_files:
                raise InputError(
                    spec.path,
                    f"the file of sample {sample} is missing: neither "
                    f"{directory / file_id / name} nor {directory / name} exists",
                    fix="extract the whole GDC download next to the sample sheet, or set "
                    "the option `directory` to the folder holding it",
                    line=line,
                    column="File Name",
                )
            found = directory / file_id / name
        files.append(_CountFile(sample, found, line))
    files.sort(key=lambda f: f.sheet_line)
    return _Plan(tuple(files), tuple(records))


def _header(path: Path) -> tuple[list[str], int]:
    """Column names of a counts file and the line of the header (after ``#`` lines)."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.startswith("#"):
                return raw.rstrip("\r\n").split("\t"), lineno
    return [], 1


def _read_counts(
    path: Path, column: str, *, names: bool
) -> tuple[pl.Series, pl.Series | None, np.ndarray]:
    """Gene ids, names (when asked) and values of one file, STAR counters removed."""
    header, header_line = _header(path)
    for needed in ("gene_id", column, *(["gene_name"] if names else [])):
        if needed not in header:
            raise InputError(
                path,
                f"column '{needed}' not found; the header is {header[:9]}",
                fix="give STAR - Counts files (*.rna_seq.augmented_star_gene_counts.tsv, GDC "
                "release 32 or later) and a `column` option among "
                f"{', '.join(COUNT_COLUMNS)}",
                line=header_line,
                column=needed,
            )
    wanted = ["gene_id", *(["gene_name"] if names else []), column]
    try:
        frame = pl.read_csv(
            path,
            separator="\t",
            comment_prefix="#",
            columns=wanted,
            infer_schema=False,
            quote_char=None,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
        raise InputError(
            path,
            f"cannot be read as a tab-separated table ({str(exc).splitlines()[0]})",
            fix="download the file again (it is truncated or not a STAR - Counts file)",
        ) from None
    genes = ~frame["gene_id"].is_in(list(STAR_COUNTERS))
    first_gene_line = header_line + 1 + int((~genes).sum())
    frame = frame.filter(genes)
    values = frame[column].cast(pl.Float64, strict=False)
    bad = values.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InputError(
            path,
            f"non-numeric value {frame[column][row]!r} (gene '{frame['gene_id'][row]}')",
            fix="download the file again: STAR - Counts files have a number in every cell",
            line=first_gene_line + row,
            column=column,
        )
    return frame["gene_id"], frame["gene_name"] if names else None, values.to_numpy()


def _option(spec: FileSpec, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = spec.option(key, default) or default
    if value not in allowed:
        raise InputError(
            spec.path,
            f"option {key}={value!r} (cohort sheet line {spec.sheet_line}) is not one of "
            f"{', '.join(allowed)}",
            fix=f"set `{key}=` in the row's `options` to one of {', '.join(allowed)}",
            column="options",
        )
    return value


def read_star_counts(spec: FileSpec) -> RawMatrix:
    """Read the STAR - Counts files of a GDC cart as genes x samples.

    Parameters
    ----------
    spec
        The row of the cohort sheet; ``path`` is the GDC sample sheet; options
        ``directory``, ``column``, ``gene_id`` (module docstring).

    Returns
    -------
    RawMatrix
        ``feature`` + one Float64 column per sample (``Sample ID``), ``id_type``
        ``tcga_barcode``, audit records of the sheet rows not used.

    Raises
    ------
    InputError
        Missing sheet columns or files, a file without the chosen column, a non-numeric
        value, gene lists that differ between files, or an unknown option value.
    """
    column = _option(spec, "column", "unstranded", COUNT_COLUMNS)
    feature = _option(spec, "gene_id", "gene_id", ("gene_id", "gene_name"))
    plan = _plan(spec, require_files=True)
    records = list(plan.records)
    if not plan.files:
        raise InputError(
            spec.path,
            f"no usable {GENE_EXPRESSION} file is listed (see the audit reasons)",
            fix="download a cart of STAR - Counts files with its sample sheet",
        )
    first = plan.files[0]
    gene_ids, gene_names, values = _read_counts(first.path, column, names=feature == "gene_name")
    matrix = np.empty((len(gene_ids), len(plan.files)), dtype=np.float64, order="F")
    matrix[:, 0] = values
    for j, count_file in enumerate(plan.files[1:], start=1):
        ids, _, values = _read_counts(count_file.path, column, names=False)
        if not ids.equals(gene_ids):
            _gene_mismatch(count_file.path, ids, gene_ids, first.path)
        matrix[:, j] = values
    samples = [f.sample for f in plan.files]
    frame = pl.DataFrame(
        {"feature": gene_ids} | {s: matrix[:, j] for j, s in enumerate(samples)},
        schema={"feature": pl.String} | dict.fromkeys(samples, pl.Float64),
    )
    if gene_names is not None:
        frame, summed = _sum_by_name(frame, gene_ids, gene_names)
        records += [
            AuditRecord(
                spec.cohort,
                spec.modality,
                spec.path,
                None,
                "feature",
                name,
                "summed_gene_ids",
                f"{len(ids)} genes share the name, their values were summed: {', '.join(ids)}",
            )
            for name, ids in summed
        ]
    return RawMatrix(
        frame=frame,
        records=tuple(records),
        sources=(spec.path, *(str(f.path) for f in plan.files)),
        id_type="tcga_barcode",
    )


def _gene_mismatch(path: Path, ids: pl.Series, expected: pl.Series, reference: Path) -> None:
    n = min(len(ids), len(expected))
    diff = (ids.head(n) != expected.head(n)).arg_true()
    row = int(diff[0]) if len(diff) else n
    found = ids[row] if row < len(ids) else "the end of the file"
    wanted = expected[row] if row < len(expected) else "the end of the file"
    _header_cols, header_line = _header(path)
    raise InputError(
        path,
        f"the gene list differs from {reference}'s: gene {row + 1} is {found!r} where "
        f"{reference.name} has {wanted!r} ({len(ids)} vs {len(expected)} genes)",
        fix="use files of one GDC data release and gene model (GENCODE v36); download the "
        "cart again",
        line=header_line + len(STAR_COUNTERS) + 1 + row,
        column="gene_id",
    )


def _sum_by_name(
    frame: pl.DataFrame, gene_ids: pl.Series, names: pl.Series
) -> tuple[pl.DataFrame, list[tuple[str, list[str]]]]:
    """Rename features to gene names and sum the rows of a repeated name (first position)."""
    names = names.fill_null(gene_ids).alias("feature")
    frame = frame.with_columns(names).with_row_index("_order")
    repeated = names.is_duplicated()
    if not repeated.any():
        return frame.drop("_order"), []
    groups = (
        pl.DataFrame({"feature": names, "gene_id": gene_ids})
        .filter(repeated)
        .group_by("feature", maintain_order=True)
        .agg(pl.col("gene_id"))
    )
    summed = (
        frame.filter(repeated)
        .group_by("feature", maintain_order=True)
        .agg(pl.col("_order").first(), pl.exclude("_order", "feature").sum())
    )
    out = (
        pl.concat([frame.filter(~repeated), summed.select(frame.columns)])
        .sort("_order")
        .drop("_order")
    )
    return out, [(row[0], list(row[1])) for row in groups.iter_rows()]


def input_files(spec: FileSpec) -> list[str]:
    """Every file a row of a format of this module reads (cheap: no data file is opened).

    ``gdc_star_counts``: the sample sheet and the count file of each sample it uses (where
    it is, or the extracted-cart path when absent, so that the workflow reports it);
    ``biotab``: the patient file and the ``follow_up`` file; otherwise the row's path.
    """
    if spec.format == "gdc_star_counts":
        plan = _plan(spec, require_files=False)
        return [spec.path, *(str(f.path) for f in plan.files)]
    follow_up = spec.option("follow_up")
    if spec.format == "biotab" and follow_up:
        return [spec.path, follow_up]
    return [spec.path]


# --- GDC clinical.tsv ------------------------------------------------------------------------


def _undotted(columns: list[str]) -> dict[str, str]:
    """New names of dotted columns (``demographic.vital_status`` -> ``vital_status``)."""
    special = {"cases.submitter_id": "case_submitter_id"}
    stripped = {c: special.get(c, c.rsplit(".", 1)[-1]) for c in columns if "." in c}
    targets = [stripped.get(c, c) for c in columns]
    return {c: new for c, new in stripped.items() if targets.count(new) == 1}


def read_clinical(spec: FileSpec) -> RawTable:
    """Read a GDC cart's ``clinical.tsv`` with one row per case.

    Parameters
    ----------
    spec
        The clinical row of the cohort sheet (``id_column`` defaults to
        ``case_submitter_id``).

    Returns
    -------
    RawTable
        String columns (``'--`` null), ``_line`` = first line of each case.

    Raises
    ------
    InputError
        Unreadable file or no id column.
    """
    path = Path(spec.path)
    strings = dataclasses.replace(spec, na_values=(*spec.na_values, GDC_MISSING))
    frame = read_strings(strings, path=path)
    frame = frame.rename(_undotted(frame.columns))
    id_col = _clinical_id(spec, frame.columns, path, "case_submitter_id")
    frame = frame.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    others = [c for c in frame.columns if c not in {id_col, "_line"}]
    values = [pl.col(c).drop_nulls().unique().sort().str.join(";").alias(c) for c in others]
    present = [pl.col(c).drop_nulls().len().alias(f"_n_{i}") for i, c in enumerate(others)]
    collapsed = (
        frame.filter(pl.col(id_col).is_not_null())
        .group_by(id_col, maintain_order=True)
        .agg(pl.col("_line").min(), *values, *present)
        .with_columns(
            pl.when(pl.col(f"_n_{i}") > 0).then(pl.col(c)).otherwise(None).alias(c)
            for i, c in enumerate(others)
        )
        .select(frame.columns)
    )
    out = pl.concat([collapsed, frame.filter(pl.col(id_col).is_null())]).sort("_line")
    return RawTable(frame=out, id_column=id_col, sources=(spec.path,))


def _clinical_id(spec: FileSpec, columns: list[str], path: Path, default: str) -> str:
    id_col = spec.id_column or default
    if id_col not in columns:
        raise InputError(
            path,
            f"id column '{id_col}' not found; columns are {columns[:10]}",
            fix="set `id_column` in the cohort sheet to the patient barcode column",
            line=1,
            column=id_col,
        )
    return id_col


# --- BCR Biotab ----------------------------------------------------------------------------


def _read_biotab(spec: FileSpec, path: Path) -> pl.DataFrame:
    """A Biotab file as strings with ``_line``; the two CDE header rows checked and skipped."""
    if not path.is_file():
        raise InputError(path, "the Biotab file does not exist", fix="check the path")
    strings = dataclasses.replace(spec, na_values=(*spec.na_values, *BIOTAB_MISSING), sep="\t")
    frame = read_strings(strings, path=path).with_row_index("_line", offset=2)
    cde = frame.slice(1, 1).drop("_line").row(0) if frame.height > 1 else ()
    if not cde or not all(v is None or str(v).startswith("CDE_ID:") for v in cde):
        raise InputError(
            path,
            "line 3 is not the Biotab CDE_ID row: the file lacks the two header rows after "
            "the column names",
            fix="give the Biotab file as downloaded from the GDC (Clinical Supplement, BCR "
            "Biotab), or use `format: tsv` for a plain table",
            line=3,
        )
    return frame.slice(BIOTAB_HEADER_ROWS).with_columns(pl.col("_line").cast(pl.Int64))


def read_biotab(spec: FileSpec) -> RawTable:
    """Read a BCR Biotab clinical patient file, updated by its follow-up file if given.

    Parameters
    ----------
    spec
        The clinical row (``id_column`` defaults to ``bcr_patient_barcode``; option
        ``follow_up``).

    Returns
    -------
    RawTable
        One row per patient line, String columns, ``_line`` from line 4 on; audit records
        of follow-up updates and orphan follow-up rows.

    Raises
    ------
    InputError
        Missing CDE header rows, id or survival columns, non-numeric days, or two
        different times of death for one patient.
    """
    path = Path(spec.path)
    frame = _read_biotab(spec, path)
    id_col = _clinical_id(spec, frame.columns, path, "bcr_patient_barcode")
    follow_up = spec.option("follow_up")
    if not follow_up:
        return RawTable(frame=frame, id_column=id_col, sources=(spec.path,))
    updated, records = _apply_follow_up(spec, frame, id_col, Path(follow_up))
    return RawTable(
        frame=updated, id_column=id_col, records=tuple(records), sources=(spec.path, follow_up)
    )


def _survival_columns(frame: pl.DataFrame, path: Path) -> tuple[str, str]:
    found = []
    for kind, names in _SURVIVAL_NAMES.items():
        name = next((n for n in names if n in frame.columns), None)
        if name is None or "vital_status" not in frame.columns:
            missing = "vital_status" if "vital_status" not in frame.columns else names[0]
            raise InputError(
                path,
                f"column '{missing}' not found (needed to apply follow-ups: vital_status, "
                f"{' or '.join(_SURVIVAL_NAMES['death'])}, {' or '.join(_SURVIVAL_NAMES['last'])}"
                f"; {kind})",
                fix="give a Biotab patient file and a follow-up file (..._follow_up_v*.txt)",
                line=1,
                column=missing,
            )
        found.append(name)
    return found[0], found[1]


def _days(value: str | None, path: Path, line: int, column: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError(
            path,
            f"non-numeric number of days {value!r}",
            fix="correct the value or add the token to `na_values` in the cohort sheet",
            line=line,
            column=column,
        ) from None


@dataclass(frozen=True, slots=True)
class _Record:
    """One patient or follow-up row's survival values."""

    path: Path
    line: int
    vital: str | None
    death: str | None
    last: str | None
    death_days: float | None
    last_days: float | None


def _records(frame: pl.DataFrame, path: Path, id_col: str) -> dict[str, list[_Record]]:
    death_col, last_col = _survival_columns(frame, path)
    out: dict[str, list[_Record]] = {}
    for pid, line, vital, death, last in frame.select(
        id_col, "_line", "vital_status", death_col, last_col
    ).iter_rows():
        out.setdefault(pid, []).append(
            _Record(
                path,
                int(line),
                vital,
                death,
                last,
                _days(death, path, int(line), death_col),
                _days(last, path, int(line), last_col),
            )
        )
    return out


def _merge(pid: str, rows: list[_Record]) -> tuple[str | None, str | None, str | None, _Record]:
    """Vital status, time of death and last contact of one patient; the deciding record."""
    deaths = [r for r in rows if r.death_days is not None]
    for r in deaths[1:]:
        if r.death_days != deaths[0].death_days:
            a = deaths[0]
            raise InputError(
                r.path,
                f"patient {pid} has two times of death: {a.death} ({a.path}:{a.line}) and "
                f"{r.death} (line {r.line})",
                fix="correct the Biotab files so that every record of a patient has the same "
                "time of death",
                line=r.line,
            )
    lasts = [r for r in rows if r.last_days is not None]
    latest = max(lasts, key=lambda r: r.last_days or 0.0) if lasts else rows[0]
    dead = [r for r in rows if (r.vital or "").lower() in {"dead", "deceased"}]
    death = deaths[0].death if deaths else None
    if dead:
        return dead[0].vital, death, latest.last, deaths[0] if deaths else dead[0]
    timed = [r for r in rows if r.vital is not None]
    vital_row = max(timed, key=lambda r: r.last_days or -1.0) if timed else rows[0]
    return vital_row.vital, death, latest.last, latest


def _apply_follow_up(
    spec: FileSpec, frame: pl.DataFrame, id_col: str, follow_path: Path
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    path = Path(spec.path)
    death_col, last_col = _survival_columns(frame, path)
    follow = _read_biotab(spec, follow_path)
    _clinical_id(spec, follow.columns, follow_path, id_col)
    patients = _records(frame, path, id_col)
    follow_ups = _records(follow, follow_path, id_col)
    records: list[AuditRecord] = []
    for pid, rows in follow_ups.items():
        if pid not in patients:
            records += [
                AuditRecord(
                    spec.cohort,
                    "clinical",
                    str(follow_path),
                    r.line,
                    "row",
                    pid or "",
                    "follow_up_without_patient",
                    f"follow-up of {pid}, who has no row in {spec.path}",
                )
                for r in rows
            ]
    new: dict[str, list[str | None]] = {"vital_status": [], death_col: [], last_col: []}
    for pid, line, *old in frame.select(
        id_col, "_line", "vital_status", death_col, last_col
    ).iter_rows():
        if pid is None or pid not in follow_ups or len(patients[pid]) > 1:
            values = old
        else:
            vital, death, last, decider = _merge(pid, patients[pid] + follow_ups[pid])
            values = [vital, death, last]
            changes = [
                f"{name}: {before or 'null'} -> {after or 'null'}"
                for name, before, after in zip(new, old, values, strict=True)
                if before != after
            ]
            if changes:
                records.append(
                    AuditRecord(
                        spec.cohort,
                        "clinical",
                        spec.path,
                        int(line),
                        "patient",
                        pid,
                        "follow_up_update",
                        f"{'; '.join(changes)} (from {decider.path.name}:{decider.line})",
                    )
                )
        for name, value in zip(new, values, strict=True):
            new[name].append(value)
    updated = frame.with_columns(pl.Series(k, v, dtype=pl.String) for k, v in new.items())
    return updated, records


__all__ = ["input_files", "read_biotab", "read_clinical", "read_star_counts"]
