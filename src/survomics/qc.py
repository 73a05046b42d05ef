"""Intake QC of one cohort: the report a core facility reads to accept or bounce a delivery.

It runs after ingest and before any modelling, on what ingest read and kept, and answers
"is this delivery usable as it is?" with numbers, in one self-contained HTML file and one
machine-readable TSV.

Sections
--------
1. **Verdict** (top): the count of *problems* (thresholds a delivery should meet) and of
   *warnings* (plausibility flags worth a look), each listed with its numbers. The
   verdict is ``ACCEPT`` without problems and ``REVIEW`` otherwise. Problems:
   ``low_patient_coverage`` (a modality keeps < ``min_patient_fraction`` (50%) of the
   clinical patients), ``high_exclusion`` (> ``max_excluded_fraction`` (30%) of a file's
   samples, rows or clinical patients excluded) and ``unaccounted`` (entities in the
   file that are neither kept nor in the audit: nothing may be dropped silently).
   Warnings come from the endpoint (below).
2. **Files read**: every input file of every sheet row
   (:func:`survomics.formats.input_files`), with its size in bytes and SHA-256 (read in
   1 MiB blocks).
3. **Modalities**: rows and samples in the file *as read* against features and patients
   *kept*, samples excluded (audit) and patients kept as a share of the clinical table;
   missingness (missing cells overall, the per-patient distribution, features with more
   than ``missing_threshold`` (20%) missing); the value distribution (min, quartiles,
   max) with a histogram. "As read" is counted in the file itself for the built-in
   formats (data lines and header fields of ``tsv``/``csv``, gzip included, or the
   Parquet schema and row count) without parsing values; for the other formats it is
   derived as kept + audited, because their readers may need packages the report
   environment lacks and reading them twice would double the cost.
4. **Patient overlap** of the clinical table and the kept matrices: each patient belongs
   to exactly one combination of sources; the counts per combination are drawn as an
   UpSet plot (bars of intersection sizes above a dot matrix, written here with
   matplotlib) and tabulated.
5. **Exclusions**: the audit grouped by (modality, level, reason) with counts, and the
   full list (first 500 rows in the HTML; ``audit.tsv`` has them all).
6. **Endpoint**: patients, events, censored, median follow-up by reverse Kaplan–Meier
   (:func:`survomics.km.median_followup`), median survival with its 95% interval
   (:func:`survomics.km.km_medians`, R's definition), and warnings:
   ``followup_over_20_years``, ``early_censoring`` (more than half the patients censored
   before one year), ``zero_time`` and ``few_events`` (< 10 events).

Scale
-----
Matrices are read by blocks of 16,384 features (the Parquet row-group size) so memory
stays bounded at 485,000 probes × 10,000 patients: missing counts, minimum and maximum
are exact over every cell. Quartiles and the histogram are exact up to
:data:`MAX_VALUE_CELLS` cells; above, they use every k-th feature (k the smallest stride
that keeps at most that many cells) and the report says how many cells they used.

Determinism
-----------
No timestamps; figures come from the pinned matplotlib settings of
:mod:`survomics.plots` (fixed ``svg.hashsalt``, no date metadata) and are embedded as
``data:`` URIs; tables are in fixed orders; floats in the TSV are written with Python's
shortest round-trip ``repr``. The same inputs give the same bytes.

TSV layout
----------
``section, modality, metric, value`` (all text): one row per number of the HTML, in the
order of the sections. Per-file rows use ``metric = "bytes:<path>"`` and
``"sha256:<path>"``; overlap rows put the combination (``clinical+expression``) in
``modality``; exclusion rows use ``metric = "<level>:<reason>"``; each problem and
warning is a row of section ``problem`` / ``warning`` with its message as the value.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import matplotlib.style
import numpy as np
import polars as pl

from survomics import formats
from survomics.audit import AUDIT_SCHEMA, concat_audits, exclusions
from survomics.io import ROW_GROUP_ROWS, write_text, write_tsv
from survomics.km import km_medians, median_followup
from survomics.plots import _RC, OKABE_ITO, _new_figure, _to_svg
from survomics.report import CSS, fmt_num, html_table, svg_figure
from survomics.specs import FileSpec

__all__ = [
    "MAX_VALUE_CELLS",
    "TSV_COLUMNS",
    "EndpointQC",
    "MatrixStats",
    "Problem",
    "as_read",
    "endpoint_qc",
    "file_table",
    "intake_qc",
    "matrix_stats",
    "overlap_table",
    "upset_svg",
]

CLINICAL = "clinical"
DAYS_PER_YEAR = 365.25
BLOCK_FEATURES = ROW_GROUP_ROWS
"""Features read per block (the row-group size of :func:`survomics.io.write_parquet`)."""
MAX_VALUE_CELLS = 5_000_000
"""Cells above which quartiles and histograms use a systematic subset of features."""
HIST_BINS = 40
MAX_LISTED = 500
"""Audit rows listed in the HTML."""
TSV_COLUMNS: tuple[str, ...] = ("section", "modality", "metric", "value")

_EXTRA_CSS = """
.verdict{font-size:1.15em;padding:.6em 1em;border-left:6px solid}
.accept{background:#eef8f2;border-color:#009E73}
.review{background:#fdf1ea;border-color:#D55E00}
"""


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A verdict item: a failed threshold (problem) or a plausibility flag (warning)."""

    modality: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MatrixStats:
    """Missingness and value distribution of one kept matrix (features x patients).

    Attributes
    ----------
    features, patients
        Shape of the kept matrix.
    missing_cells
        Null or NaN cells.
    patient_missing
        Missing fraction of each patient (column order).
    features_over_threshold
        Features whose missing fraction exceeds the threshold.
    minimum, maximum
        Over every non-missing cell (``nan`` if none).
    quartiles
        1st quartile, median, 3rd quartile of the non-missing cells used (numpy's
        linear interpolation, R's type 7).
    value_cells
        Non-missing cells the quartiles and histogram used.
    stride
        Every ``stride``-th feature was used for them (1: all).
    hist_counts, hist_edges
        Histogram of the cells used.
    """

    features: int
    patients: int
    missing_cells: int
    patient_missing: np.ndarray
    features_over_threshold: int
    minimum: float
    maximum: float
    quartiles: tuple[float, float, float]
    value_cells: int
    stride: int
    hist_counts: np.ndarray = field(repr=False)
    hist_edges: np.ndarray = field(repr=False)

    @property
    def missing_fraction(self) -> float:
        """Missing cells over all cells (``nan`` for an empty matrix)."""
        total = self.features * self.patients
        return self.missing_cells / total if total else math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointQC:
    """Summary and plausibility flags of the survival endpoint."""

    patients: int
    events: int
    censored: int
    median_followup: float
    median_survival: float
    median_lower: float
    median_upper: float
    max_time: float
    censored_before_1y: int
    over_20_years: int
    zero_time: int
    warnings: tuple[Problem, ...]


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_table(specs: Sequence[FileSpec]) -> pl.DataFrame:
    """Every input file of the sheet rows with its size and SHA-256.

    Returns
    -------
    polars.DataFrame
        ``modality, format, path, bytes, sha256`` in sheet order, then each row's files
        in the order :func:`survomics.formats.input_files` lists them (a file listed twice
        by one row appears once).
    """
    rows = []
    for spec in specs:
        for name in dict.fromkeys(formats.input_files(spec)):
            path = Path(name)
            rows.append(
                {
                    "modality": spec.modality,
                    "format": spec.format,
                    "path": name,
                    "bytes": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
    schema = {
        "modality": pl.String,
        "format": pl.String,
        "path": pl.String,
        "bytes": pl.Int64,
        "sha256": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _text_shape(spec: FileSpec) -> tuple[int, int]:
    """(non-empty data lines, header fields) of a delimited file, values not parsed."""
    sep = (spec.sep or ("," if spec.format == "csv" else "\t")).encode()
    path = Path(spec.path)
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
        header = fh.readline().removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
        data = sum(1 for line in fh if line.strip())
    return data, len(header.split(sep)) if header else 0


def as_read(spec: FileSpec) -> tuple[int, int | None] | None:
    """(rows, samples) of a matrix file as it is on disk, for the built-in formats.

    For a clinical file, rows are its data rows and samples ``None``. ``None`` for the other
    formats (their counts are derived from the kept data and the audit).
    """
    if spec.format not in formats.BUILTIN:
        return None
    if spec.format == "parquet":
        path = Path(spec.path)
        n_rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
        n_fields = len(pl.read_parquet_schema(path))
    else:
        n_rows, n_fields = _text_shape(spec)
    if spec.modality == CLINICAL:
        return n_rows, None
    if spec.orientation == "samples_x_features":
        return n_fields - 1, n_rows
    return n_rows, n_fields - 1


# ---------------------------------------------------------------------------------------
# Matrices
# ---------------------------------------------------------------------------------------


def _summary(values: np.ndarray) -> tuple[float, float, float, float, float]:
    if values.size == 0:
        return (math.nan,) * 5
    q = np.quantile(values, [0.0, 0.25, 0.5, 0.75, 1.0])
    return tuple(float(v) for v in q)  # type: ignore[return-value]


def matrix_stats(path: str | Path, *, missing_threshold: float = 0.2) -> MatrixStats:
    """Missingness and value distribution of a kept matrix, read by feature blocks.

    Parameters
    ----------
    path
        A ``{modality}.parquet`` of ingest: ``feature`` + one Float64 column per patient.
    missing_threshold
        A feature counts in ``features_over_threshold`` above this missing fraction.

    Returns
    -------
    MatrixStats
        Exact counts, minimum and maximum; quartiles and histogram exact up to
        :data:`MAX_VALUE_CELLS` cells (see the module notes).
    """
    lazy = pl.scan_parquet(path)
    patients = [c for c in lazy.collect_schema().names() if c != "feature"]
    n_features = int(lazy.select(pl.len()).collect().item())
    n_patients = len(patients)
    stride = max(1, math.ceil(n_features * n_patients / MAX_VALUE_CELLS))
    col_missing = np.zeros(n_patients, dtype=np.int64)
    over = 0
    minimum, maximum = math.inf, -math.inf
    kept: list[np.ndarray] = []
    for start in range(0, n_features, BLOCK_FEATURES):
        block = lazy.slice(start, BLOCK_FEATURES).select(patients).collect()
        x = block.to_numpy().astype(np.float64, copy=False).reshape(block.height, n_patients)
        missing = np.isnan(x)
        col_missing += missing.sum(axis=0)
        row_missing = missing.sum(axis=1)
        if n_patients:
            over += int((row_missing / n_patients > missing_threshold).sum())
        if x.size and (row_missing < n_patients).any():
            # fmin/fmax skip NaN without copying the non-missing cells out
            minimum = min(minimum, float(np.fmin.reduce(x, axis=None)))
            maximum = max(maximum, float(np.fmax.reduce(x, axis=None)))
        used = np.arange(start, start + block.height) % stride == 0
        kept.append(x[used][~missing[used]])
    values = np.concatenate(kept) if kept else np.empty(0)
    _, q1, median, q3, _ = _summary(values)
    if values.size:
        counts, edges = np.histogram(values, bins=HIST_BINS)
    else:
        counts, edges = np.zeros(0, dtype=np.int64), np.zeros(0)
    return MatrixStats(
        features=n_features,
        patients=n_patients,
        missing_cells=int(col_missing.sum()),
        patient_missing=col_missing / n_features if n_features else np.full(n_patients, np.nan),
        features_over_threshold=over,
        minimum=minimum if math.isfinite(minimum) else math.nan,
        maximum=maximum if math.isfinite(maximum) else math.nan,
        quartiles=(q1, median, q3),
        value_cells=int(values.size),
        stride=stride,
        hist_counts=counts,
        hist_edges=edges,
    )


def histogram_svg(stats: MatrixStats, *, title: str) -> str:
    """Histogram of a matrix's values (deterministic SVG)."""
    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(5.0, 2.2)
        ax = fig.add_subplot()
        widths = np.diff(stats.hist_edges)
        ax.bar(
            stats.hist_edges[:-1],
            stats.hist_counts,
            width=widths,
            align="edge",
            color=OKABE_ITO[0],
            edgecolor="white",
            linewidth=0.3,
        )
        ax.set_xlabel("value (after the ingest transform)")
        ax.set_ylabel("cells")
        ax.set_title(title)
        return _to_svg(fig)


# ---------------------------------------------------------------------------------------
# Overlap
# ---------------------------------------------------------------------------------------


def overlap_table(sets: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """Patients per exact combination of sources (each patient counted once).

    Parameters
    ----------
    sets
        Source name -> its patient ids, in display order.

    Returns
    -------
    polars.DataFrame
        ``combination`` (members joined by ``+`` in ``sets`` order), ``sources``
        (number of members), ``patients``, then one Boolean column per source; sorted by
        decreasing ``patients``, then ``combination``.
    """
    names = list(sets)
    membership: dict[str, list[bool]] = {}
    for k, name in enumerate(names):
        for pid in sets[name]:
            membership.setdefault(pid, [False] * len(names))[k] = True
    counts: dict[tuple[bool, ...], int] = {}
    for flags in membership.values():
        counts[tuple(flags)] = counts.get(tuple(flags), 0) + 1
    rows = [
        {
            "combination": "+".join(n for n, f in zip(names, flags, strict=True) if f),
            "sources": sum(flags),
            "patients": n,
            **dict(zip(names, flags, strict=True)),
        }
        for flags, n in counts.items()
    ]
    schema = {"combination": pl.String, "sources": pl.Int64, "patients": pl.Int64} | dict.fromkeys(
        names, pl.Boolean
    )
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.sort(["patients", "combination"], descending=[True, False])


def upset_svg(table: pl.DataFrame, set_sizes: Mapping[str, int], *, title: str) -> str:
    """UpSet plot: intersection sizes as bars above a dot matrix of their members.

    Parameters
    ----------
    table
        :func:`overlap_table` output (its column order gives the combinations' order).
    set_sizes
        Source name -> patients, in row order of the matrix (top to bottom).
    title
        Figure title.
    """
    names = list(set_sizes)
    n_comb = table.height
    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(max(4.0, 1.6 + 0.45 * n_comb), 2.2 + 0.28 * len(names))
        top, bottom = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 0.25 + 0.3 * len(names)]}
        )
        x = np.arange(n_comb)
        sizes = table["patients"].to_numpy()
        top.bar(x, sizes, color=OKABE_ITO[0], width=0.6)
        for xi, size in zip(x, sizes, strict=True):
            top.annotate(
                str(int(size)),
                (float(xi), float(size)),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 1),
                textcoords="offset points",
            )
        top.set_ylabel("patients")
        top.set_title(title)
        top.set_ylim(0, max(1.0, float(sizes.max()) if n_comb else 1.0) * 1.15)
        top.tick_params(axis="x", bottom=False, labelbottom=False)
        y = np.arange(len(names))[::-1]
        for xi, row in zip(x, table.select(names).iter_rows(), strict=True):
            member = np.array(row, dtype=bool)
            bottom.scatter(np.full(len(names), xi), y, s=28, color="#DDDDDD", zorder=1)
            if member.any():
                bottom.scatter(np.full(member.sum(), xi), y[member], s=28, color="#222222")
                bottom.plot(
                    [xi, xi], [y[member].min(), y[member].max()], color="#222222", linewidth=1.5
                )
        bottom.set_yticks(y, [f"{n} ({set_sizes[n]})" for n in names])
        bottom.set_ylim(-0.6, len(names) - 0.4)
        bottom.set_xlim(-0.6, max(n_comb, 1) - 0.4)
        bottom.tick_params(axis="x", bottom=False, labelbottom=False)
        for side in ("left", "bottom"):
            bottom.spines[side].set_visible(False)
        bottom.tick_params(axis="y", left=False)
        return _to_svg(fig)


# ---------------------------------------------------------------------------------------
# Endpoint
# ---------------------------------------------------------------------------------------


def endpoint_qc(clinical: pl.DataFrame, endpoint: str, *, min_events: int = 10) -> EndpointQC:
    """Summary and plausibility warnings of ``{endpoint}_time`` (days) / ``_event``.

    Warnings: ``followup_over_20_years`` (times above 20 years), ``early_censoring``
    (more than half the patients censored before one year), ``zero_time`` (times of 0)
    and ``few_events`` (fewer than ``min_events`` events).
    """
    time = clinical[f"{endpoint}_time"].cast(pl.Float64).to_numpy()
    event = clinical[f"{endpoint}_event"].cast(pl.Int64).to_numpy()
    n = int(time.size)
    events = int(event.sum())
    medians = km_medians(time, event).row(0, named=True)

    def val(x: float | None) -> float:
        return math.nan if x is None else float(x)

    year = DAYS_PER_YEAR
    early = int(((event == 0) & (time < year)).sum())
    over20 = int((time > 20 * year).sum())
    zero = int((time == 0).sum())
    warnings = []
    if over20:
        warnings.append(
            Problem(
                CLINICAL,
                "followup_over_20_years",
                f"{over20} patient(s) with {endpoint} time above 20 years (maximum "
                f"{fmt_num(float(time.max()) / year)} years): check the time unit",
            )
        )
    if early > n / 2:
        warnings.append(
            Problem(
                CLINICAL,
                "early_censoring",
                f"{early} of {n} patients ({fmt_num(100 * early / n)}%) censored before 1 year",
            )
        )
    if zero:
        warnings.append(Problem(CLINICAL, "zero_time", f"{zero} patient(s) with {endpoint} time 0"))
    if events < min_events:
        warnings.append(
            Problem(
                CLINICAL,
                "few_events",
                f"{events} event(s) (fewer than {min_events}): survival models will be unstable",
            )
        )
    return EndpointQC(
        patients=n,
        events=events,
        censored=n - events,
        median_followup=median_followup(time, event),
        median_survival=val(medians["median"]),
        median_lower=val(medians["lower_95"]),
        median_upper=val(medians["upper_95"]),
        max_time=float(time.max()),
        censored_before_1y=early,
        over_20_years=over20,
        zero_time=zero,
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------


def _tsv_value(value: object) -> str | None:
    """Text of a TSV value; ``None`` (an empty field) for a missing number."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _count_audit(audit: pl.DataFrame, modality: str, levels: Sequence[str]) -> int:
    """Excluded entities of ``modality`` at ``levels`` (decision records do not count)."""
    return (
        exclusions(audit)
        .filter((pl.col("modality") == modality) & pl.col("level").is_in(levels))
        .height
    )


def _source_rows(
    specs: Sequence[FileSpec],
    clinical: pl.DataFrame,
    stats: Mapping[str, MatrixStats],
    audit: pl.DataFrame,
) -> pl.DataFrame:
    """One row per sheet row: as read, kept, excluded, unaccounted."""
    n_clinical = clinical.height
    rows = []
    for spec in specs:
        counted = as_read(spec)
        if spec.modality == CLINICAL:
            kept_rows, kept_samples = n_clinical, None
            excluded_rows = _count_audit(audit, CLINICAL, ("row", "patient"))
            excluded_samples = None
            not_in_clinical = None
        else:
            st = stats[spec.modality]
            kept_rows, kept_samples = st.features, st.patients
            excluded_rows = _count_audit(audit, spec.modality, ("row", "feature"))
            excluded_samples = _count_audit(audit, spec.modality, ("sample", "patient"))
            not_in_clinical = audit.filter(
                (pl.col("modality") == spec.modality)
                & pl.col("reason").is_in(["patient_not_in_clinical", "patient_excluded"])
            ).height
        if counted is None:
            rows_read = kept_rows + excluded_rows
            samples_read = (
                None
                if kept_samples is None or excluded_samples is None
                else kept_samples + excluded_samples
            )
            how = "kept + audited"
        else:
            rows_read, samples_read = counted
            how = "counted in the file"
        rows.append(
            {
                "modality": spec.modality,
                "format": spec.format,
                "as_read": how,
                "rows_read": rows_read,
                "samples_read": samples_read,
                "rows_kept": kept_rows,
                "patients_kept": kept_samples if spec.modality != CLINICAL else n_clinical,
                "rows_excluded": excluded_rows,
                "samples_excluded": excluded_samples,
                "not_in_clinical": not_in_clinical,
                "rows_unaccounted": max(0, rows_read - kept_rows - excluded_rows),
                "samples_unaccounted": None
                if samples_read is None or kept_samples is None or excluded_samples is None
                else max(0, samples_read - kept_samples - excluded_samples),
                "pct_of_clinical": 100.0
                if kept_samples is None
                else (100.0 * kept_samples / n_clinical if n_clinical else math.nan),
            }
        )
    schema = {
        "modality": pl.String,
        "format": pl.String,
        "as_read": pl.String,
        "rows_read": pl.Int64,
        "samples_read": pl.Int64,
        "rows_kept": pl.Int64,
        "patients_kept": pl.Int64,
        "rows_excluded": pl.Int64,
        "samples_excluded": pl.Int64,
        "not_in_clinical": pl.Int64,
        "rows_unaccounted": pl.Int64,
        "samples_unaccounted": pl.Int64,
        "pct_of_clinical": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _problems(
    sources: pl.DataFrame, *, min_patient_fraction: float, max_excluded_fraction: float
) -> list[Problem]:
    out = []
    for row in sources.iter_rows(named=True):
        mod = row["modality"]
        if mod != CLINICAL and row["pct_of_clinical"] < 100 * min_patient_fraction:
            out.append(
                Problem(
                    mod,
                    "low_patient_coverage",
                    f"{row['patients_kept']} patients kept, "
                    f"{fmt_num(row['pct_of_clinical'])}% of the clinical table "
                    f"(threshold {fmt_num(100 * min_patient_fraction)}%)",
                )
            )
        checks = (
            ("rows", row["rows_excluded"], row["rows_read"]),
            ("samples", row["samples_excluded"], row["samples_read"]),
        )
        for what, excluded, total in checks:
            if total and excluded / total > max_excluded_fraction:
                label = "clinical rows/patients" if mod == CLINICAL else what
                out.append(
                    Problem(
                        mod,
                        "high_exclusion",
                        f"{excluded} of {total} {label} excluded "
                        f"({fmt_num(100 * excluded / total)}%, threshold "
                        f"{fmt_num(100 * max_excluded_fraction)}%)",
                    )
                )
        for what in ("rows", "samples"):
            lost = row[f"{what}_unaccounted"]
            if lost:
                out.append(
                    Problem(
                        mod,
                        "unaccounted",
                        f"{lost} {what} of the file are neither kept nor in the audit",
                    )
                )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Intake:
    cohort: str
    endpoint: str
    files: pl.DataFrame
    sources: pl.DataFrame
    stats: Mapping[str, MatrixStats]
    overlap: pl.DataFrame
    set_sizes: Mapping[str, int]
    audit: pl.DataFrame
    surv: EndpointQC
    problems: Sequence[Problem]
    missing_threshold: float

    @property
    def verdict(self) -> str:
        return "REVIEW" if self.problems else "ACCEPT"


def _tsv(q: _Intake) -> pl.DataFrame:
    rows: list[tuple[str, str, str, object]] = [
        ("verdict", "all", "status", q.verdict),
        ("verdict", "all", "problems", len(q.problems)),
        ("verdict", "all", "warnings", len(q.surv.warnings)),
    ]
    rows += [("problem", p.modality, p.kind, p.message) for p in q.problems]
    rows += [("warning", p.modality, p.kind, p.message) for p in q.surv.warnings]
    for f in q.files.iter_rows(named=True):
        rows.append(("files", f["modality"], f"bytes:{f['path']}", f["bytes"]))
        rows.append(("files", f["modality"], f"sha256:{f['path']}", f["sha256"]))
    for s in q.sources.iter_rows(named=True):
        rows += [("modalities", s["modality"], k, v) for k, v in s.items() if k != "modality"]
    for mod, st in q.stats.items():
        pm = _summary(st.patient_missing[~np.isnan(st.patient_missing)])
        rows += [
            ("missingness", mod, "cells", st.features * st.patients),
            ("missingness", mod, "missing_cells", st.missing_cells),
            ("missingness", mod, "missing_fraction", st.missing_fraction),
            *(
                ("missingness", mod, f"patient_missing_{k}", v)
                for k, v in zip(("min", "q1", "median", "q3", "max"), pm, strict=True)
            ),
            (
                "missingness",
                mod,
                f"patients_over_{fmt_num(100 * q.missing_threshold)}pct",
                int((st.patient_missing > q.missing_threshold).sum()),
            ),
            (
                "missingness",
                mod,
                f"features_over_{fmt_num(100 * q.missing_threshold)}pct",
                st.features_over_threshold,
            ),
            ("values", mod, "min", st.minimum),
            ("values", mod, "q1", st.quartiles[0]),
            ("values", mod, "median", st.quartiles[1]),
            ("values", mod, "q3", st.quartiles[2]),
            ("values", mod, "max", st.maximum),
            ("values", mod, "cells_used", st.value_cells),
            ("values", mod, "feature_stride", st.stride),
        ]
    rows += [("overlap", name, "set_size", n) for name, n in q.set_sizes.items()]
    rows += [
        ("overlap", r["combination"], "patients", r["patients"])
        for r in q.overlap.iter_rows(named=True)
    ]
    grouped = _grouped_audit(q.audit)
    rows += [
        ("exclusions", r["modality"], f"{r['level']}:{r['reason']}", r["count"])
        for r in grouped.iter_rows(named=True)
    ]
    s = q.surv
    rows += [
        ("endpoint", CLINICAL, "endpoint", q.endpoint),
        ("endpoint", CLINICAL, "patients", s.patients),
        ("endpoint", CLINICAL, "events", s.events),
        ("endpoint", CLINICAL, "censored", s.censored),
        ("endpoint", CLINICAL, "median_followup_days", s.median_followup),
        ("endpoint", CLINICAL, "median_survival_days", s.median_survival),
        ("endpoint", CLINICAL, "median_survival_lower_95", s.median_lower),
        ("endpoint", CLINICAL, "median_survival_upper_95", s.median_upper),
        ("endpoint", CLINICAL, "max_time_days", s.max_time),
        ("endpoint", CLINICAL, "censored_before_1_year", s.censored_before_1y),
        ("endpoint", CLINICAL, "over_20_years", s.over_20_years),
        ("endpoint", CLINICAL, "zero_time", s.zero_time),
    ]
    return pl.DataFrame(
        [(a, b, c, _tsv_value(v)) for a, b, c, v in rows],  # nulls: empty fields
        schema=dict.fromkeys(TSV_COLUMNS, pl.String),
        orient="row",
    )


def _grouped_audit(audit: pl.DataFrame) -> pl.DataFrame:
    return (
        audit.group_by("modality", "level", "reason")
        .len(name="count")
        .with_columns(pl.col("count").cast(pl.Int64))
        .sort("modality", "level", "reason")
    )


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _items(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    lis = "".join(
        f"<li><b>{_esc(p.modality)}</b> · <code>{_esc(p.kind)}</code>: {_esc(p.message)}</li>"
        for p in problems
    )
    return f"<ul>{lis}</ul>"


def _html(q: _Intake) -> str:
    n_p, n_w = len(q.problems), len(q.surv.warnings)
    verdict = (
        f'<p class="verdict {q.verdict.lower()}"><b>Verdict: {q.verdict}</b> — '
        f"{n_p} problem{'s' if n_p != 1 else ''}, {n_w} warning{'s' if n_w != 1 else ''}; "
        f"{q.surv.patients:,} clinical patients, {len(q.stats)} modalities.</p>"
        + (f"<h3>Problems</h3>{_items(q.problems)}" if q.problems else "")
        + (f"<h3>Warnings</h3>{_items(q.surv.warnings)}" if q.surv.warnings else "")
    )
    thr = fmt_num(100 * q.missing_threshold)
    missing_rows = []
    value_rows = []
    figures = []
    for mod, st in q.stats.items():
        pm = _summary(st.patient_missing[~np.isnan(st.patient_missing)])
        missing_rows.append(
            {
                "modality": mod,
                "cells": st.features * st.patients,
                "missing_cells": st.missing_cells,
                "missing_fraction": st.missing_fraction,
                "patient_min": pm[0],
                "patient_median": pm[2],
                "patient_max": pm[4],
                f"patients_over_{thr}pct": int((st.patient_missing > q.missing_threshold).sum()),
                f"features_over_{thr}pct": st.features_over_threshold,
            }
        )
        value_rows.append(
            {
                "modality": mod,
                "min": st.minimum,
                "q1": st.quartiles[0],
                "median": st.quartiles[1],
                "q3": st.quartiles[2],
                "max": st.maximum,
                "cells_used": st.value_cells,
                "feature_stride": st.stride,
            }
        )
        if st.value_cells:
            figures.append(
                svg_figure(
                    histogram_svg(st, title=f"{mod}: {st.value_cells:,} values"),
                    alt=f"Histogram of {mod} values",
                    caption=f"Distribution of the kept {mod} values"
                    + ("" if st.stride == 1 else f" (every {st.stride}th feature)")
                    + ".",
                )
            )
    s = q.surv
    surv_table = pl.DataFrame(
        {
            "metric": [
                "patients",
                "events",
                "censored",
                "median follow-up, reverse KM (days)",
                "median survival (days)",
                "median survival, lower 95%",
                "median survival, upper 95%",
                "longest time (days)",
                "censored before 1 year",
                "times above 20 years",
                "times of 0",
            ],
            "value": [
                float(s.patients),
                float(s.events),
                float(s.censored),
                s.median_followup,
                s.median_survival,
                s.median_lower,
                s.median_upper,
                s.max_time,
                float(s.censored_before_1y),
                float(s.over_20_years),
                float(s.zero_time),
            ],
        }
    )
    listing = q.audit.select("modality", "file", "line", "level", "id", "reason", "detail")
    audit_html = (
        "<p>No file row, sample, patient or feature was excluded.</p>"
        if q.audit.height == 0
        else html_table(_grouped_audit(q.audit), caption="Exclusions by modality and reason")
        + f"<h3>Every exclusion ({q.audit.height:,}; first {MAX_LISTED} listed, all in "
        "data/audit.tsv)</h3>" + html_table(listing, max_rows=MAX_LISTED)
    )
    upset = upset_svg(q.overlap, q.set_sizes, title=f"{q.cohort}: patients per combination")
    overlap_cols = ["combination", "sources", "patients"]
    body = [
        f"<h1>Intake QC: {_esc(q.cohort)}</h1>",
        verdict,
        "<h2>Files read</h2>",
        html_table(q.files, caption="Every input file with its size (bytes) and SHA-256"),
        "<h2>Modalities</h2>",
        html_table(
            q.sources,
            caption="Rows (features) and samples as read against kept; exclusions from the "
            "audit; unaccounted = as read − kept − excluded",
        ),
        html_table(
            pl.DataFrame(missing_rows),
            caption=f"Missing cells of the kept matrices; per-patient missing fraction; "
            f"patients and features with more than {thr}% missing",
        ),
        html_table(pl.DataFrame(value_rows), caption="Value distribution of the kept matrices"),
        *figures,
        "<h2>Patient overlap</h2>",
        svg_figure(
            upset,
            alt="UpSet plot of patient overlap",
            caption="Patients per exact combination of the clinical table and the kept "
            "matrices (bars), members below; set sizes in parentheses.",
        ),
        html_table(q.overlap.select(overlap_cols), caption="Patients per combination"),
        "<h2>Exclusions</h2>",
        audit_html,
        "<h2>Endpoint</h2>",
        html_table(surv_table, caption=f"Endpoint {q.endpoint}"),
        _items(s.warnings) or "<p>No plausibility warning.</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>intake QC · {_esc(q.cohort)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}{_EXTRA_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def intake_qc(
    *,
    cohort: str,
    specs: Sequence[FileSpec],
    clinical: str | Path,
    modalities: Mapping[str, str | Path],
    audit: str | Path,
    endpoint: str,
    out_html: str | Path,
    out_tsv: str | Path,
    min_patient_fraction: float = 0.5,
    max_excluded_fraction: float = 0.3,
    missing_threshold: float = 0.2,
) -> None:
    """Write the intake QC report of one cohort (HTML) and its summary (TSV).

    Parameters
    ----------
    cohort
        Cohort id.
    specs
        The cohort's sheet rows (clinical and omics), in sheet order.
    clinical
        ``results/{cohort}/data/clinical.parquet``.
    modalities
        Modality -> its ``results/{cohort}/data/{modality}.parquet``.
    audit
        ``results/{cohort}/data/audit.tsv``.
    endpoint
        Endpoint name (``{endpoint}_time`` / ``{endpoint}_event`` columns).
    out_html, out_tsv
        Outputs, written atomically.
    min_patient_fraction
        A modality keeping fewer patients than this share of the clinical table is a
        problem.
    max_excluded_fraction
        More exclusions than this share of a file's rows or samples is a problem.
    missing_threshold
        Missing fraction above which a feature or patient is counted.

    Raises
    ------
    ValueError
        If ``specs`` and ``modalities`` name different modalities.
    """
    omics = [s.modality for s in specs if s.modality != CLINICAL]
    if sorted(omics) != sorted(modalities):
        msg = f"sheet modalities {omics} differ from the matrices given {sorted(modalities)}"
        raise ValueError(msg)
    clin = pl.read_parquet(clinical)
    audit_frame = (
        concat_audits([audit]) if Path(audit).stat().st_size else pl.DataFrame(schema=AUDIT_SCHEMA)
    )
    stats = {m: matrix_stats(modalities[m], missing_threshold=missing_threshold) for m in omics}
    sets: dict[str, list[str]] = {CLINICAL: clin["patient_id"].cast(pl.String).to_list()}
    for m in omics:
        sets[m] = [c for c in pl.read_parquet_schema(modalities[m]) if c != "feature"]
    sources = _source_rows(specs, clin, stats, audit_frame)
    q = _Intake(
        cohort=cohort,
        endpoint=endpoint,
        files=file_table(specs),
        sources=sources,
        stats=stats,
        overlap=overlap_table(sets),
        set_sizes={k: len(v) for k, v in sets.items()},
        audit=audit_frame,
        surv=endpoint_qc(clin, endpoint),
        problems=_problems(
            sources,
            min_patient_fraction=min_patient_fraction,
            max_excluded_fraction=max_excluded_fraction,
        ),
        missing_threshold=missing_threshold,
    )
    write_text(out_html, _html(q))
    write_tsv(_tsv(q), out_tsv)
