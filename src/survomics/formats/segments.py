"""Copy-number segments (``.seg``) mapped onto genes.

Format (``format: seg``)
    Tab-separated, one header line (leading ``#`` lines such as IGV ``#track`` lines are
    skipped), one row per segment of one sample. Column names vary by source and are
    recognised case-insensitively:

    ============  ==================================  ==========================
    role          cBioPortal / IGV / DNAcopy          GDC
    ============  ==================================  ==========================
    sample        ``ID``                              ``GDC_Aliquot`` / ``Sample``
    chromosome    ``chrom``                           ``Chromosome``
    start         ``loc.start``                       ``Start``
    end           ``loc.end``                         ``End``
    markers       ``num.mark`` (optional, unused)     ``Num_Probes``
    value         ``seg.mean``                        ``Segment_Mean``
    ============  ==================================  ==========================

    When the names are not recognised, the IGV convention applies: the first four
    columns are sample, chromosome, start, end. The value column is the sheet's ``value``
    option, else ``seg.mean``/``Segment_Mean``, else the last column. Coordinates are
    1-based and inclusive (cBioPortal, GDC, DNAcopy); integral floats (``1e+05``) are
    accepted.

Gene level
    For every gene of the annotation and every sample, the value is the length-weighted
    mean of the values of the sample's segments overlapping the gene,
    ``sum(overlap_bp * value) / sum(overlap_bp)`` (a gene inside one segment gets that
    segment's value exactly); a gene no segment of the sample overlaps is null (not 0:
    no measurement). Rows are every gene of the annotation, in its order (chromosome,
    start); columns are the samples in order of first appearance.

Annotation
    By default the bundled GENCODE v36 hg38 gene table (``survomics/data``, see its
    README; load it with :func:`bundled_annotation`). The ``annotation`` option names
    another tab-separated table (``.gz`` allowed) with columns ``chrom``, ``start``,
    ``end`` (1-based inclusive), ``gene_id`` and ``gene_name``. The feature id is
    ``gene_name`` (default) or ``gene_id`` (``gene_id`` option). Gene ids are unique in
    GENCODE; a gene name that occurs more than once (PAR genes on X and Y, some
    pseudogenes and small RNAs) keeps its first gene by coordinates, and every other one
    is audited (``duplicate_gene_name``; ``duplicate_gene_id`` in a custom annotation).

Chromosome names
    ``chr1``/``1``, ``chrX``/``X``/``23``, ``chrY``/``Y``/``24``, ``chrM``/``MT``/``M``
    are the same chromosome on both sides (prefix ``chr`` removed case-insensitively,
    23 -> X, 24 -> Y, MT -> M). Segments on a chromosome the annotation does not have
    (``GL000220.1``, ``chrUn_...``) are audited once per chromosome
    (``unknown_chromosome``).

Performance
    Per sample, two ``searchsorted`` calls over genome-wide keys (chromosome code << 32 |
    position) find the range of segments overlapping each gene; overlaps are expanded
    with ``np.repeat`` and summed with ``np.bincount``: no per-gene Python loop
    (1,000 samples x 60,000 genes x 100 segments in a few seconds).

Audit: segments without a value (``missing_segment_value``, one record per row), unknown
chromosomes, duplicate gene names. Errors (:class:`~survomics.errors.InputError`, naming
file, line and column): missing column, non-numeric coordinate or value, start > end,
overlapping segments of one sample, damaged gzip.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np
import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError
from survomics.formats import RawMatrix
from survomics.formats.mutations import read_bytes
from survomics.specs import DEFAULT_NA_VALUES, FileSpec

BUNDLED_ANNOTATION = "gencode_v36_genes_hg38.tsv.gz"
"""File name of the bundled gene table in ``survomics/data``."""

_ROLES: dict[str, tuple[str, ...]] = {
    "sample": ("id", "sample", "gdc_aliquot", "sample_id", "aliquot", "id.sample"),
    "chrom": ("chrom", "chromosome", "chr"),
    "start": ("loc.start", "start", "startpos", "start_position"),
    "end": ("loc.end", "end", "endpos", "end_position"),
}
_VALUE_NAMES = ("seg.mean", "segment_mean", "log2ratio", "value")
_CHROM_ORDER = [str(i) for i in range(1, 23)] + ["X", "Y", "M"]
_SHIFT = np.int64(32)


def normalise_chrom(expr: pl.Expr) -> pl.Expr:
    """``chr1``/``1`` -> ``1``; ``23``/``chrX`` -> ``X``; ``24`` -> ``Y``; ``MT`` -> ``M``."""
    bare = expr.str.strip_chars().str.replace(r"^(?i)chr", "").str.to_uppercase()
    return bare.replace({"23": "X", "24": "Y", "MT": "M"})


def bundled_annotation() -> pl.DataFrame:
    """The bundled GENCODE v36 hg38 gene table, read through :mod:`importlib.resources`.

    Columns ``chrom, start, end, gene_id, gene_name, gene_type`` (1-based inclusive).
    """
    data = importlib.resources.files("survomics.data").joinpath(BUNDLED_ANNOTATION).read_bytes()
    return pl.read_csv(
        data,
        separator="\t",
        schema_overrides={"chrom": pl.String, "start": pl.Int64, "end": pl.Int64},
    )


def _annotation(
    annotation: str | Path | None, *, gene_id: str, cohort: str, modality: str
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Genes as ``feature, chrom, start, end`` sorted by coordinates, duplicates audited."""
    if gene_id not in {"gene_name", "gene_id"}:
        raise InputError(
            str(annotation or BUNDLED_ANNOTATION),
            f"unknown gene_id option {gene_id!r}",
            fix="set the `gene_id` option to gene_name or gene_id",
            column="gene_id",
            column_label="option",
        )
    if annotation is None:
        table, source = bundled_annotation(), f"survomics/data/{BUNDLED_ANNOTATION}"
    else:
        source = str(annotation)
        try:
            table = pl.read_csv(read_bytes(Path(annotation)), separator="\t", infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            raise InputError(
                source, f"cannot be read as a TSV ({exc})", fix="check the file"
            ) from None
        for col in ("chrom", "start", "end", gene_id):
            if col not in table.columns:
                raise InputError(
                    source,
                    f"annotation column '{col}' is missing (columns: {table.columns[:8]})",
                    fix="give the annotation columns chrom, start, end, gene_id, gene_name",
                    line=1,
                    column=col,
                )
        table = table.with_columns(
            pl.col("start").cast(pl.Int64, strict=False), pl.col("end").cast(pl.Int64, strict=False)
        )
        bad = table.with_row_index("_i").filter(
            pl.col("start").is_null() | pl.col("end").is_null() | (pl.col("start") > pl.col("end"))
        )
        if bad.height:
            raise InputError(
                source,
                "gene start/end missing, not an integer, or start > end",
                fix="correct the gene coordinates",
                line=int(bad["_i"][0]) + 2,
                column="start",
            )
    if "gene_id" not in table.columns:
        table = table.with_columns(pl.col(gene_id).alias("gene_id"))
    genes = (
        table.with_columns(normalise_chrom(pl.col("chrom")).alias("chrom"))
        .with_columns(
            pl.col("chrom")
            .replace_strict({c: i for i, c in enumerate(_CHROM_ORDER)}, default=len(_CHROM_ORDER))
            .alias("_order")
        )
        .sort("_order", "chrom", "start", "end", "gene_id")
        .select(
            pl.col(gene_id).alias("feature"),
            "chrom",
            "start",
            "end",
            pl.col("gene_id").alias("_gene_id"),
        )
    )
    dup = genes.with_row_index("_i").filter(pl.col("feature").is_duplicated())
    records: list[AuditRecord] = []
    if dup.height:
        first = dup.group_by("feature").agg(pl.all().first())
        kept = {r["feature"]: r for r in first.iter_rows(named=True)}
        for row in dup.filter(~pl.col("_i").is_in(first["_i"].implode())).iter_rows(named=True):
            keep = kept[row["feature"]]
            records.append(
                AuditRecord(
                    cohort,
                    modality,
                    source,
                    None,
                    "feature",
                    row["feature"],
                    f"duplicate_{gene_id}",
                    f"gene {row['_gene_id']} at {row['chrom']}:{row['start']}-{row['end']} has "
                    f"the same {gene_id} as {keep['_gene_id']} at {keep['chrom']}:"
                    f"{keep['start']}-{keep['end']}, which is kept (first by coordinates)",
                )
            )
        genes = genes.filter(
            ~pl.col("feature").is_duplicated() | pl.col("feature").is_first_distinct()
        )
    return genes.drop("_gene_id"), records


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    lower = {h.lower(): h for h in header}
    return next((lower[n] for n in names if n in lower), None)


def _read_segments(
    path: Path, value: str | None, na_values: tuple[str, ...]
) -> tuple[pl.DataFrame, str]:
    """Segments as ``sample, chrom, start, end, value, _line``; and the value column name."""
    data = read_bytes(path)
    head = data.split(b"\n", 64)
    n_comment = next((i for i, ln in enumerate(head) if not ln.startswith(b"#")), len(head))
    header_line = n_comment + 1
    if n_comment >= len(head) or not head[n_comment].strip():
        raise InputError(path, "has no header line", fix="check that the file is a .seg file")
    header = [h.strip() for h in head[n_comment].decode("utf-8-sig").rstrip("\r").split("\t")]
    if len(header) < 5:
        raise InputError(
            path,
            f"the header has {len(header)} tab-separated columns; a .seg file has at least 5 "
            "(sample, chromosome, start, end, value)",
            fix="check the separator (tab) and the columns",
            line=header_line,
        )
    roles = {role: _find(header, names) for role, names in _ROLES.items()}
    if all(v is None for v in roles.values()):
        roles = dict(zip(_ROLES, header[:4], strict=True))
    for role, col in roles.items():
        if col is None:
            raise InputError(
                path,
                f"no {role} column (expected one of {list(_ROLES[role])}; columns: {header})",
                fix="name the columns as cBioPortal (ID chrom loc.start loc.end num.mark "
                "seg.mean) or GDC (GDC_Aliquot Chromosome Start End Num_Probes Segment_Mean)",
                line=header_line,
                column=_ROLES[role][0],
            )
    value_col = value or _find(header, _VALUE_NAMES) or header[-1]
    if value_col not in header:
        raise InputError(
            path,
            f"value column '{value_col}' not found (columns: {header})",
            fix="set the `value` option to one of the file's columns",
            line=header_line,
            column=value_col,
        )
    try:
        raw = pl.read_csv(
            data,
            separator="\t",
            skip_rows=n_comment,
            infer_schema=False,
            quote_char=None,
            null_values=list(na_values),
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(path, f"cannot be read as a table ({exc})", fix="check the file") from None
    cols = {roles["sample"]: "sample", roles["chrom"]: "chrom", roles["start"]: "start"}
    cols |= {roles["end"]: "end", value_col: "value"}
    frame = raw.select(
        pl.col(c).str.strip_chars().alias(alias) for c, alias in cols.items()
    ).with_row_index("_line", offset=header_line + 1)
    frame = frame.with_columns(pl.col("_line").cast(pl.Int64))
    for name, source in (("start", roles["start"]), ("end", roles["end"]), ("value", value_col)):
        parsed = pl.col(name).cast(pl.Float64, strict=False)
        bad_expr = parsed.is_null() & pl.col(name).is_not_null()
        if name != "value":
            bad_expr = bad_expr | pl.col(name).is_null() | (parsed != parsed.floor())
        bad = frame.filter(bad_expr)
        if bad.height:
            raise InputError(
                path,
                f"{'coordinate' if name != 'value' else 'value'} {bad[name][0]!r} is not "
                f"{'an integer' if name != 'value' else 'a number'}",
                fix="correct the row, or add the token to `na_values` in the cohort sheet",
                line=int(bad["_line"][0]),
                column=source,
            )
        frame = frame.with_columns(parsed.cast(pl.Int64) if name != "value" else parsed.alias(name))
    wrong = frame.filter(pl.col("start") > pl.col("end"))
    if wrong.height:
        row = wrong.row(0, named=True)
        raise InputError(
            path,
            f"segment start {row['start']} > end {row['end']} (sample '{row['sample']}')",
            fix="correct the segment coordinates (1-based, start <= end)",
            line=int(row["_line"]),
            column=roles["start"],
        )
    no_sample = frame.filter(pl.col("sample").is_null() | pl.col("chrom").is_null())
    if no_sample.height:
        raise InputError(
            path,
            "the segment has no sample id or chromosome",
            fix="fill in the row or remove it",
            line=int(no_sample["_line"][0]),
            column=roles["sample"],
        )
    return frame.with_columns(normalise_chrom(pl.col("chrom")).alias("chrom")), value_col


def gene_level(genes: pl.DataFrame, segments: pl.DataFrame, samples: list[str]) -> np.ndarray:
    """Genes x samples matrix of length-weighted mean segment values (NaN: no overlap).

    Parameters
    ----------
    genes
        ``chrom`` (normalised), ``start``, ``end`` (1-based inclusive).
    segments
        ``sample``, ``chrom``, ``start``, ``end``, ``value``; segments of one sample must
        not overlap; chromosomes absent from ``genes`` are ignored.
    samples
        Column order.
    """
    codes = {c: i for i, c in enumerate(genes["chrom"].unique(maintain_order=True).to_list())}
    g_code = genes["chrom"].replace_strict(codes, return_dtype=pl.Int64).to_numpy()
    g_start = genes["start"].to_numpy().astype(np.int64)
    g_end = genes["end"].to_numpy().astype(np.int64)
    g_start_key = (g_code << _SHIFT) | g_start
    g_end_key = (g_code << _SHIFT) | g_end
    n_genes = genes.height
    seg = (
        segments.filter(pl.col("chrom").is_in(list(codes)))
        .with_columns(pl.col("chrom").replace_strict(codes, return_dtype=pl.Int64).alias("code"))
        .sort("sample", "code", "start")
    )
    out = np.full((n_genes, len(samples)), np.nan)
    column = {s: j for j, s in enumerate(samples)}
    for (sample,), part in seg.group_by("sample", maintain_order=True):
        code = part["code"].to_numpy()
        s_start = part["start"].to_numpy()
        s_end = part["end"].to_numpy()
        vals = part["value"].to_numpy()
        lo = np.searchsorted((code << _SHIFT) | s_end, g_start_key, side="left")
        hi = np.searchsorted((code << _SHIFT) | s_start, g_end_key, side="right")
        k = np.maximum(hi - lo, 0)
        col = out[:, column[str(sample)]]
        single = k == 1
        col[single] = vals[lo[single]]
        multi = np.flatnonzero(k > 1)
        if multi.size:
            km = k[multi]
            rep = np.repeat(multi, km)
            offset = np.arange(km.sum()) - np.repeat(np.cumsum(km) - km, km)
            idx = np.repeat(lo[multi], km) + offset
            overlap = (
                np.minimum(g_end[rep], s_end[idx]) - np.maximum(g_start[rep], s_start[idx]) + 1
            ).astype(np.float64)
            num = np.bincount(rep, weights=overlap * vals[idx], minlength=n_genes)
            den = np.bincount(rep, weights=overlap, minlength=n_genes)
            col[multi] = num[multi] / den[multi]
    return out


def seg_matrix(
    *,
    path: str | Path,
    annotation: str | Path | None = None,
    gene_id: str = "gene_name",
    value: str | None = None,
    na_values: tuple[str, ...] = DEFAULT_NA_VALUES,
    cohort: str = "",
    modality: str = "copy_number",
) -> RawMatrix:
    """Read a ``.seg`` file as a gene x sample matrix (length-weighted mean per gene).

    Parameters
    ----------
    path
        The segment file (``.gz`` allowed).
    annotation
        Gene table (chrom, start, end, gene_id, gene_name); ``None``: the bundled GENCODE
        v36 hg38 genes.
    gene_id
        Feature id: ``gene_name`` or ``gene_id``.
    value
        Value column; ``None``: ``seg.mean``/``Segment_Mean``, else the last column.
    na_values
        Tokens read as a missing value.
    cohort, modality
        Written in the audit records.

    Returns
    -------
    RawMatrix
        ``feature`` + one Float64 column per sample (null where no segment overlaps).

    Raises
    ------
    InputError
        Missing column, non-numeric cell, start > end, overlapping segments, bad gzip.
    """
    path = Path(path)
    file = str(path)
    genes, records = _annotation(annotation, gene_id=gene_id, cohort=cohort, modality=modality)
    segments, value_col = _read_segments(path, value, na_values)
    samples = segments["sample"].unique(maintain_order=True).to_list()
    missing = segments.filter(pl.col("value").is_null())
    records += [
        AuditRecord(
            cohort,
            modality,
            file,
            int(row["_line"]),
            "row",
            str(row["sample"]),
            "missing_segment_value",
            f"segment {row['chrom']}:{row['start']}-{row['end']} has no '{value_col}'",
        )
        for row in missing.iter_rows(named=True)
    ]
    segments = segments.filter(pl.col("value").is_not_null())
    known = set(genes["chrom"].unique().to_list())
    unknown = segments.filter(~pl.col("chrom").is_in(list(known)))
    for (chrom,), rows in unknown.group_by("chrom", maintain_order=True):
        first = int(rows["_line"].min())  # type: ignore[arg-type]
        records.append(
            AuditRecord(
                cohort,
                modality,
                file,
                first,
                "row",
                str(chrom),
                "unknown_chromosome",
                f"{rows.height} segment(s) on chromosome '{chrom}', which the gene annotation "
                f"does not have; first on line {first}",
            )
        )
    ordered = segments.sort("sample", "chrom", "start")
    clash = ordered.with_columns(
        pl.col("end").shift(1).over("sample", "chrom").alias("_prev_end"),
        pl.col("_line").shift(1).over("sample", "chrom").alias("_prev_line"),
    ).filter(pl.col("start") <= pl.col("_prev_end"))
    if clash.height:
        row = clash.sort("_line").row(0, named=True)
        raise InputError(
            path,
            f"segments of sample '{row['sample']}' on chromosome {row['chrom']} overlap "
            f"(lines {row['_prev_line']} and {row['_line']})",
            fix="give each sample non-overlapping segments (one segmentation per sample)",
            line=int(row["_line"]),
        )
    values = gene_level(genes, segments, samples)
    frame = pl.from_numpy(values, schema=dict.fromkeys(samples, pl.Float64), orient="row")
    frame = frame.with_columns(pl.all().fill_nan(None)).insert_column(0, genes["feature"])
    extra = [] if annotation is None else [str(annotation)]
    return RawMatrix(frame=frame, records=tuple(records), sources=(file, *extra))


def read_seg(spec: FileSpec) -> RawMatrix:
    """Sheet reader of ``format: seg``.

    Options ``annotation``, ``gene_id`` and ``value`` (see :func:`seg_matrix`).
    """
    return seg_matrix(
        path=spec.path,
        annotation=spec.option("annotation"),
        gene_id=spec.option("gene_id", "gene_name") or "gene_name",
        value=spec.option("value"),
        na_values=spec.na_values,
        cohort=spec.cohort,
        modality=spec.modality,
    )


def input_files(spec: FileSpec) -> list[str]:
    """The segment file, plus the ``annotation`` table when the sheet names one."""
    extra = spec.option("annotation")
    return [spec.path] + ([extra] if extra else [])


__all__ = [
    "BUNDLED_ANNOTATION",
    "bundled_annotation",
    "gene_level",
    "input_files",
    "normalise_chrom",
    "read_seg",
    "seg_matrix",
]
