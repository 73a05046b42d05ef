"""cBioPortal study folders: clinical patients, profile matrices, MAF and segments.

A cBioPortal study (as on the datahub or from "Download study") is a folder of *meta*
files (``meta_*.txt``: ``key: value`` lines) each naming a tab-separated *data* file
(``data_filename``) and its kind (``genetic_alteration_type`` + ``datatype``). This
module reads three kinds of sheet row:

Clinical row (``modality: clinical``)
    ``path`` is the study folder or its ``data_clinical_patient.txt``. The patient file
    starts with four ``#`` rows (display names, descriptions, datatypes, priorities)
    before the header line; they are skipped and ``_line`` keeps the real file line of
    every row. ``PATIENT_ID`` is the id column (unless the sheet sets ``id_column``).
    Endpoints are plain columns (``OS_STATUS`` = ``1:DECEASED``/``0:LIVING`` and
    ``OS_MONTHS``; likewise ``PFS_``, ``DFS_``, ``DSS_``): declare them with
    ``derive: columns``, ``time_unit: months``. Sample-level attributes
    (``data_clinical_sample.txt``) are not merged: survival is patient-level.

Whole-study expansion (:func:`expand_study`)
    A clinical row whose ``path`` is the folder also brings one omics row per profile
    found through the meta files (option ``modalities`` restricts them).

Matrix row
    ``path`` is a data file of the study, or the folder with option ``file``. The kind
    is recognised from the file itself: ``.seg`` -> segments (read by
    :func:`survomics.formats.segments.seg_matrix`), a header with
    ``Tumor_Sample_Barcode`` and ``Variant_Classification`` -> MAF (read by
    :func:`survomics.formats.mutations.maf_matrix`), anything else -> a profile matrix
    (continuous or discrete: expression, GISTIC -2..2 calls, methylation, RPPA...).

Decisions (profile matrices)
    - Non-sample columns are ``Hugo_Symbol``, ``Entrez_Gene_Id``,
      ``Composite.Element.REF``, ``Cytoband`` and the generic-assay columns
      (``ENTITY_STABLE_ID``, ``NAME``, ``DESCRIPTION``, ``URL``); every other column is a
      sample.
    - The feature id is ``Composite.Element.REF`` when present (methylation probes, RPPA
      ``AKT1|Akt`` antibodies: the whole string, unique per antibody), else
      ``ENTITY_STABLE_ID``, else ``Hugo_Symbol`` falling back to the Entrez id where the
      symbol is empty. Rows with neither stay without id and are audited by ingest
      (``missing_feature_id``); a symbol on two rows (two Entrez ids) is a duplicate
      handled by the common ``duplicates`` option.
    - ``NA``, ``NaN``, empty cells and every ``na_values`` token are missing.
    - Sample ids are cBioPortal ``SAMPLE_ID`` values. When every one is a TCGA barcode,
      ``id_type`` is ``tcga_barcode``. Otherwise, when the study's sample file
      (option ``sample_file``, default ``data_clinical_sample.txt``) maps every sample
      to its ``PATIENT_ID``, the columns are renamed to patients (``id_type:
      patient``); a patient's second sample is dropped with reason
      ``duplicate_sample`` (the sample file's first one is kept).
    - MAF: a MAF lists mutated samples only. When the study has
      ``case_lists/cases_sequenced.txt``, its sequenced samples absent from the MAF get
      a column of 0 (not mutated) instead of being missing.

Profiles taken by :func:`expand_study` (``genetic_alteration_type`` / ``datatype``)
    ``MRNA_EXPRESSION`` -> ``expression``; ``COPY_NUMBER_ALTERATION`` ``DISCRETE`` ->
    ``copy_number``, other continuous copy-number profiles -> ``copy_number_<stable_id>``;
    ``MUTATION_EXTENDED`` -> ``mutation``; ``METHYLATION`` -> ``methylation``;
    ``PROTEIN_LEVEL`` -> ``protein``; ``COPY_NUMBER_ALTERATION`` ``SEG`` -> ``segments``.
    When a kind has several profiles the preferred one gets the plain name
    (``rna_seq_v2_mrna`` for expression, else the first meta file by name) and the
    others ``<name>_<stable_id>``. ``Z-SCORE`` profiles are derived from another
    profile: they are taken only when named in ``modalities``.
    Skipped: ``CLINICAL`` (patients: the row itself; samples and timelines),
    ``STRUCTURAL_VARIANT``/``FUSION``, ``MUTSIG``, ``GISTIC_GENES_*``,
    ``GENE_PANEL_MATRIX``, ``GENESET_SCORE``, ``GENERIC_ASSAY``, discrete mRNA outlier
    calls, long-format CNA (``DISCRETE_LONG``), cancer types and the study meta file.
    Every expanded row has ``transform: none``: for log2(RSEM + 1) or beta -> M, give that
    modality its own sheet row (``path`` = the data file) and leave it out of the
    folder row's ``modalities``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError, check_unique_columns
from survomics.formats import RawMatrix, RawTable
from survomics.formats._text import is_tcga, string_rows
from survomics.specs import FileSpec

PATIENT_FILE = "data_clinical_patient.txt"
SAMPLE_FILE = "data_clinical_sample.txt"
SEQUENCED_CASES = Path("case_lists") / "cases_sequenced.txt"
ANNOTATION_COLUMNS = (
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Composite.Element.REF",
    "Cytoband",
    "ENTITY_STABLE_ID",
    "NAME",
    "DESCRIPTION",
    "URL",
)
"""Columns of a profile matrix that are not samples."""

MODALITIES = (
    "expression",
    "copy_number",
    "mutation",
    "methylation",
    "protein",
    "segments",
)
"""Base modality names :func:`expand_study` gives (variants add ``_<stable_id>``)."""

_PREFERRED = {"expression": "rna_seq_v2_mrna"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
"""Characters a modality id may not hold (sheet schema), replaced by ``_``."""


# --------------------------------------------------------------------------- helpers
def _lines(path: Path) -> list[str]:
    """The file's lines (BOM removed, CRLF normalised), or an InputError if unreadable."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(
            path,
            "file not found",
            fix="check the path in the cohort sheet (or the study's meta file)",
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"is not UTF-8 ({exc.reason})", fix="re-save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_meta(path: Path) -> dict[str, str]:
    """Read a cBioPortal meta file (``key: value`` lines; ``#`` lines are comments).

    Raises
    ------
    InputError
        On a line that is neither empty, a comment nor ``key: value``.
    """
    out: dict[str, str] = {}
    for lineno, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise InputError(
                path,
                f"line {line.strip()!r} is not 'key: value'",
                fix="repair the meta file (one `key: value` per line)",
                line=lineno,
            )
        out[key.strip()] = value.strip()
    return out


def _clinical_table(path: Path, spec: FileSpec, *, id_default: str) -> pl.DataFrame:
    """A cBioPortal clinical file as strings + ``_line``, ``#`` header rows skipped."""
    lines = _lines(path)
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    if skip >= len(lines) or not lines[skip].strip():
        raise InputError(
            path,
            "has no header line after its '#' rows",
            fix="the first line not starting with '#' must name the columns (PATIENT_ID...)",
            line=skip + 1,
        )
    header = [h.strip() for h in lines[skip].split("\t")]
    trailing = len(header) > 1 and header[-1] == ""
    if trailing:  # a trailing tab on every line (as in cBioPortal's own examples)
        header = header[:-1]
    check_unique_columns(header, path=path, line=skip + 1)
    id_col = spec.id_column or id_default
    if id_col not in header:
        raise InputError(
            path,
            f"id column '{id_col}' not found; columns are {header[:10]}",
            fix=f"a cBioPortal clinical file names its ids {id_default}; "
            "or set `id_column` in the cohort sheet",
            line=skip + 1,
            column=id_col,
        )
    na = set(spec.na_values)
    return string_rows(
        lines[skip + 1 :],
        header=header,
        first_line=skip + 2,
        na=na,
        path=path,
        trailing_tab=trailing,
    )


def _folder_and_file(spec: FileSpec) -> tuple[Path, Path]:
    """The study folder and the data file of a matrix row."""
    path = Path(spec.path)
    name = spec.option("file")
    if path.is_dir():
        if name is None:
            raise InputError(
                path,
                "is a study folder but the row names no data file",
                fix="add `file=<data file>` (e.g. file=data_mrna_seq_v2_rsem.txt) to the "
                "row's options, or set `path` to the data file",
            )
        return path, path / name
    if name is not None:
        raise InputError(
            path,
            f"option file={name} is given but `path` is already a file",
            fix="use `file=` only when `path` is the study folder",
        )
    if not path.is_file():
        raise InputError(path, "file not found", fix="check the path in the cohort sheet")
    return path.parent, path


def _header(path: Path) -> tuple[list[str], int]:
    """The first non-``#`` line's columns and its 1-based line number."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.startswith("#"):
                return [h.strip() for h in line.rstrip("\r\n").split("\t")], lineno
    raise InputError(path, "the file is empty", fix="check the path in the cohort sheet")


def _sample_patients(folder: Path, spec: FileSpec) -> tuple[Path, pl.DataFrame] | None:
    """``SAMPLE_ID`` -> ``PATIENT_ID`` from the study's sample file, if it exists."""
    path = folder / (spec.option("sample_file") or SAMPLE_FILE)
    if not path.is_file():
        return None
    table = _clinical_table(path, dataclasses.replace(spec, id_column=None), id_default="SAMPLE_ID")
    if "PATIENT_ID" not in table.columns:
        raise InputError(
            path,
            "has no PATIENT_ID column",
            fix="a cBioPortal sample file has PATIENT_ID and SAMPLE_ID columns",
            line=1,
        )
    return path, table.select("SAMPLE_ID", "PATIENT_ID", "_line")


def _to_patients(raw: RawMatrix, folder: Path, spec: FileSpec, sources: list[str]) -> RawMatrix:
    """Map non-TCGA sample columns to patients through the sample file, if possible."""
    samples = [c for c in raw.frame.columns if c != "feature"]
    if is_tcga(samples):
        return dataclasses.replace(raw, id_type="tcga_barcode", sources=tuple(sources))
    mapping = _sample_patients(folder, spec)
    if mapping is None:
        return dataclasses.replace(raw, sources=tuple(sources))
    sample_path, table = mapping
    to_patient = dict(zip(table["SAMPLE_ID"], table["PATIENT_ID"], strict=True))
    unknown = [s for s in samples if to_patient.get(s) is None]
    if unknown:
        return dataclasses.replace(raw, sources=tuple(sources))
    order = {s: i for i, s in enumerate(table["SAMPLE_ID"])}
    kept: dict[str, str] = {}
    records = list(raw.records)
    for sample in sorted(samples, key=lambda s: order[s]):
        patient = to_patient[sample]
        if patient in kept:
            records.append(
                AuditRecord(
                    spec.cohort,
                    spec.modality,
                    spec.path,
                    None,
                    "sample",
                    sample,
                    "duplicate_sample",
                    f"patient {patient} has several samples; kept {kept[patient]} "
                    f"(first in {sample_path.name})",
                )
            )
            continue
        kept[patient] = sample
    frame = raw.frame.select("feature", *[pl.col(s).alias(p) for p, s in kept.items()])
    return RawMatrix(
        frame=frame,
        records=tuple(records),
        sources=(*sources, str(sample_path)),
        id_type="patient",
    )


def _profile_matrix(path: Path, spec: FileSpec, header: list[str]) -> pl.DataFrame:
    """A profile matrix as ``feature`` + Float64 sample columns."""
    check_unique_columns(header, path=path, line=1, what="sample column")
    annotation = [h for h in header if h in ANNOTATION_COLUMNS]
    if not annotation:
        raise InputError(
            path,
            f"has none of the id columns {list(ANNOTATION_COLUMNS[:3])}; columns are {header[:5]}",
            fix="a cBioPortal profile matrix starts with Hugo_Symbol and/or Entrez_Gene_Id "
            "(or Composite.Element.REF)",
            line=1,
        )
    samples = [h for h in header if h not in ANNOTATION_COLUMNS]
    schema = {h: (pl.String if h in ANNOTATION_COLUMNS else pl.Float64) for h in header}
    na = [*spec.na_values, "NA", "NaN", ""]
    try:
        frame = pl.read_csv(
            path,
            separator="\t",
            has_header=False,
            skip_rows=1,
            new_columns=header,
            schema=schema,
            null_values=na,
            quote_char=None,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
        _locate_bad_cell(path, header, samples, na, exc)
        raise  # pragma: no cover - _locate_bad_cell always raises
    if "" in samples and frame[""].null_count() == frame.height:
        samples.remove("")  # a trailing tab on every line
    frame = frame.with_columns(pl.col(a).str.strip_chars() for a in annotation)
    if "Composite.Element.REF" in header:
        feature = pl.col("Composite.Element.REF")
    elif "ENTITY_STABLE_ID" in header:
        feature = pl.col("ENTITY_STABLE_ID")
    elif "Hugo_Symbol" in header and "Entrez_Gene_Id" in header:
        symbol = pl.col("Hugo_Symbol")
        feature = (
            pl.when(symbol.is_null() | (symbol == ""))
            .then(pl.col("Entrez_Gene_Id"))
            .otherwise(symbol)
        )
    else:
        feature = pl.col(annotation[0])
    return frame.select(feature.alias("feature"), *samples)


def _locate_bad_cell(
    path: Path, header: list[str], samples: list[str], na: list[str], exc: Exception
) -> None:
    """Raise an InputError naming the first ragged row or cell that is not a number."""
    lines = _lines(path)
    for lineno, line in enumerate(lines[1:], start=2):
        if line and line.count("\t") != len(header) - 1:
            raise InputError(
                path,
                f"row has {line.count(chr(9)) + 1} fields but the header has {len(header)}",
                fix="repair the row (missing or extra tabs)",
                line=lineno,
            )
    strings = pl.read_csv(
        path,
        separator="\t",
        has_header=False,
        skip_rows=1,
        new_columns=header,
        schema=dict.fromkeys(header, pl.String),
        null_values=na,
        quote_char=None,
    )
    for col in samples:
        bad = strings[col].cast(pl.Float64, strict=False).is_null() & strings[col].is_not_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise InputError(
                path,
                f"non-numeric value {strings[col][row]!r} (row of '{strings[header[0]][row]}')",
                fix="correct the value or add the token to `na_values` in the cohort sheet",
                line=row + 2,
                column=col,
            )
    raise InputError(path, f"cannot be read as a matrix ({exc})", fix="check the file's format")


def _sequenced_samples(folder: Path) -> list[str]:
    """Sample ids of ``case_lists/cases_sequenced.txt`` (empty if absent)."""
    path = folder / SEQUENCED_CASES
    if not path.is_file():
        return []
    ids = read_meta(path).get("case_list_ids", "")
    return [s.strip() for s in ids.split("\t") if s.strip()]


# --------------------------------------------------------------------------- readers
def _patient_file(spec: FileSpec) -> Path:
    path = Path(spec.path)
    if not path.is_dir():
        return path
    meta = path / "meta_clinical_patient.txt"
    name = read_meta(meta).get("data_filename", PATIENT_FILE) if meta.is_file() else PATIENT_FILE
    return path / name


def read_clinical(spec: FileSpec) -> RawTable:
    """Read a study's ``data_clinical_patient.txt`` (``spec.path``: folder or file).

    Returns
    -------
    RawTable
        Every column String (missing tokens null), ``_line`` the real file line, id
        column ``PATIENT_ID`` (or the sheet's ``id_column``).

    Raises
    ------
    InputError
        Missing file, no header after the ``#`` rows, no id column, ragged rows.
    """
    path = _patient_file(spec)
    frame = _clinical_table(path, spec, id_default="PATIENT_ID")
    return RawTable(frame=frame, id_column=spec.id_column or "PATIENT_ID", sources=(str(path),))


def read_matrix(spec: FileSpec) -> RawMatrix:
    """Read one data file of a study: profile matrix, MAF or segments.

    Returns
    -------
    RawMatrix
        ``feature`` + one Float64 column per sample; ``id_type`` ``tcga_barcode`` when
        every sample id is a TCGA barcode, ``patient`` when the study's sample file
        mapped them to patients, else ``None``.

    Raises
    ------
    InputError
        Missing file, missing id columns, duplicate sample columns, non-numeric cells.
    """
    folder, path = _folder_and_file(spec)
    if not path.is_file():
        raise InputError(
            path,
            "data file not found in the study folder",
            fix="check the `file=` option against the folder's data_*.txt files",
        )
    if path.suffix == ".seg":
        segments = importlib.import_module("survomics.formats.segments")
        raw: RawMatrix = segments.seg_matrix(
            path=str(path),
            annotation=None,
            na_values=spec.na_values,
            cohort=spec.cohort,
            modality=spec.modality,
        )
        return _to_patients(raw, folder, spec, list(raw.sources) or [str(path)])
    header, _ = _header(path)
    if "Tumor_Sample_Barcode" in header and "Variant_Classification" in header:
        mutations = importlib.import_module("survomics.formats.mutations")
        raw = mutations.maf_matrix(
            path=str(path),
            variant_classes=spec.option("variant_classes", "non_silent"),
            sample_column="Tumor_Sample_Barcode",
            cohort=spec.cohort,
            modality=spec.modality,
        )
        sources = list(raw.sources) or [str(path)]
        absent = [s for s in _sequenced_samples(folder) if s not in raw.frame.columns]
        if absent:
            zeros = [pl.lit(0.0, dtype=pl.Float64).alias(s) for s in absent]
            raw = dataclasses.replace(raw, frame=raw.frame.with_columns(zeros))
            sources.append(str(folder / SEQUENCED_CASES))
        return _to_patients(raw, folder, spec, sources)
    sources = [str(path)]
    frame = _profile_matrix(path, spec, header)
    return _to_patients(RawMatrix(frame=frame), folder, spec, sources)


# --------------------------------------------------------------------------- expansion
def _profile_kind(meta: dict[str, str]) -> str | None:
    """Base modality of a meta file's profile, or ``None`` for a skipped kind."""
    kind = meta.get("genetic_alteration_type", "").upper()
    datatype = meta.get("datatype", "").upper()
    if kind == "MRNA_EXPRESSION" and datatype != "DISCRETE":
        return "expression"
    if kind == "COPY_NUMBER_ALTERATION" and datatype != "DISCRETE_LONG":
        return "segments" if datatype == "SEG" else "copy_number"
    return {
        "MUTATION_EXTENDED": "mutation",
        "METHYLATION": "methylation",
        "PROTEIN_LEVEL": "protein",
    }.get(kind)


def _preferred(base: str, meta: dict[str, str]) -> bool:
    if base == "copy_number":
        return meta.get("datatype", "").upper() == "DISCRETE"
    return meta.get("stable_id") == _PREFERRED.get(base, meta.get("stable_id"))


def study_profiles(folder: Path) -> list[tuple[str, Path, dict[str, str], bool]]:
    """Every profile of a study: ``(modality, meta file, meta, default)``.

    ``default`` is False for ``Z-SCORE`` profiles (taken only when named).
    """
    found: dict[str, list[tuple[Path, dict[str, str]]]] = {}
    for meta_path in sorted(folder.glob("meta_*.txt")):
        meta = read_meta(meta_path)
        base = _profile_kind(meta)
        if base is not None:
            found.setdefault(base, []).append((meta_path, meta))
    out: list[tuple[str, Path, dict[str, str], bool]] = []
    for base in MODALITIES:
        items = found.get(base, [])
        plain = [i for i in items if i[1].get("datatype", "").upper() != "Z-SCORE"]
        chosen = next((i for i in plain if _preferred(base, i[1])), None)
        if chosen is None and plain:
            chosen = plain[0]
        for meta_path, meta in items:
            if (meta_path, meta) == chosen:
                name = base
            else:
                stable = meta.get("stable_id") or meta_path.stem.removeprefix("meta_")
                name = f"{base}_{_UNSAFE.sub('_', stable)}"
            default = meta.get("datatype", "").upper() != "Z-SCORE"
            out.append((name, meta_path, meta, default))
    return out


def expand_study(spec: FileSpec, *, base: Path) -> list[FileSpec]:
    """One omics row per profile of the study folder named by a clinical row.

    Parameters
    ----------
    spec
        The clinical row (``format: cbioportal``, ``path``: the study folder).
    base
        Directory ``spec.path`` is relative to.

    Returns
    -------
    list[FileSpec]
        Rows with the same cohort and sheet line, ``path`` = ``spec.path`` joined with
        the data file, ``features_x_samples``, ``transform: none`` and the folder row's
        ``id_type`` (default ``tcga_barcode``; a non-TCGA study is mapped to patients
        through its sample file at read time).

    Raises
    ------
    InputError
        A meta file without ``data_filename`` or naming a missing data file; a name in
        option ``modalities`` that the study does not have.
    """
    folder = base / spec.path
    if not any(folder.glob("meta_*.txt")):
        raise InputError(
            folder,
            "has no meta_*.txt file: it is not a cBioPortal study folder",
            fix="point `path` at the clinical file (data_clinical_patient.txt) and give each "
            "data file its own sheet row, or restore the study's meta files",
        )
    profiles = study_profiles(folder)
    names = [p[0] for p in profiles]
    wanted_opt = spec.option("modalities")
    if wanted_opt is not None:
        wanted = [w.strip() for w in wanted_opt.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise InputError(
                folder,
                f"option modalities names {unknown}, which the study does not have",
                fix=f"use some of {names} (from its meta_*.txt files)",
            )
        selected = [p for p in profiles if p[0] in wanted]
    else:
        selected = [p for p in profiles if p[3]]
    out: list[FileSpec] = []
    for name, meta_path, meta, _default in selected:
        data_name = meta.get("data_filename")
        if not data_name:
            raise InputError(
                meta_path,
                "has no data_filename",
                fix="add `data_filename: <data file>` to the meta file",
                column="data_filename",
                column_label="key",
            )
        if not (folder / data_name).is_file():
            raise InputError(
                meta_path,
                f"names data file '{data_name}', which is not in the study folder",
                fix="restore the data file, correct data_filename, or leave this modality "
                "out with the option modalities=...",
                column="data_filename",
                column_label="key",
            )
        options: list[tuple[str, str]] = []
        if name == "mutation" and spec.option("variant_classes") is not None:
            options.append(("variant_classes", str(spec.option("variant_classes"))))
        if spec.option("sample_file") is not None:
            options.append(("sample_file", str(spec.option("sample_file"))))
        out.append(
            dataclasses.replace(
                spec,
                modality=name,
                path=str(Path(spec.path) / data_name),
                format="cbioportal",
                orientation="features_x_samples",
                id_column=None,
                transform="none",
                endpoint=None,
                options=tuple(options),
            )
        )
    return out


def input_files(spec: FileSpec) -> list[str]:
    """Files a row reads: the patient file (clinical) or the data file and its helpers."""
    if spec.modality == "clinical":
        return [str(_patient_file(spec))]
    path = Path(spec.path)
    folder = path if path.is_dir() else path.parent
    data = folder / spec.option("file", "") if path.is_dir() else path
    files = [str(data)]
    for extra in (folder / SEQUENCED_CASES, folder / (spec.option("sample_file") or SAMPLE_FILE)):
        if extra.is_file():
            files.append(str(extra))
    return files


__all__ = [
    "MODALITIES",
    "expand_study",
    "input_files",
    "read_clinical",
    "read_matrix",
    "read_meta",
    "study_profiles",
]
