"""Somatic mutation calls (MAF, annotated VCF) read as a gene x sample 0/1 matrix.

MAF (``format: maf``)
    The Mutation Annotation Format of TCGA/GDC and cBioPortal: tab-separated, optional
    leading ``#`` lines (GDC files start with ``#version 2.4``), one header line, one row
    per variant call. Only three columns are used: ``Hugo_Symbol`` (the feature),
    ``Variant_Classification`` and the sample column (``Tumor_Sample_Barcode`` unless the
    sheet's ``sample_column`` option says otherwise). GDC masked somatic MAFs (140
    columns), cBioPortal ``data_mutations.txt`` and legacy TCGA MAFs all have them.

VCF (``format: vcf``)
    A VCF 4.x file (single or multi-sample, ``.vcf`` or ``.vcf.gz``) annotated by Ensembl
    VEP (INFO ``CSQ``) or SnpEff (INFO ``ANN``). The sub-field order of each is read from
    its ``##INFO`` header line (VEP: ``... Format: Allele|Consequence|IMPACT|SYMBOL|...``;
    SnpEff: ``'Allele | Annotation | Annotation_Impact | Gene_Name | ...'``). A sample
    is mutated in a gene when its ``GT`` carries an ALT allele (``0/1``, ``1|1``,
    ``0/2``, haploid ``1``...; not ``0/0``, ``./.``, ``.``) and an annotation of *that*
    allele names the gene with a counted consequence (terms joined by ``&``).

Decisions
    - **Counted classes.** :data:`NON_SILENT` is the default set of MAF
      ``Variant_Classification`` values counted as a mutation: the protein-altering classes
      maftools treats as non-synonymous by default (``Frame_Shift_Del``,
      ``Frame_Shift_Ins``, ``In_Frame_Del``, ``In_Frame_Ins``, ``Missense_Mutation``,
      ``Nonsense_Mutation``, ``Nonstop_Mutation``, ``Splice_Site``,
      ``Translation_Start_Site``). Silent, UTR, flank, intron, intergenic and RNA
      variants are not counted. :data:`NON_SILENT_CONSEQUENCES` is the equivalent set of
      Sequence Ontology terms for VCF annotations. ``variant_classes``/``consequences``
      accept ``non_silent`` (default), ``all`` or a comma-separated list; a MAF class that
      the MAF specification does not define is refused (a typo would count nothing).
    - **Values.** 1.0 when the sample has at least one counted variant in the gene, else
      0.0; rows are the genes with at least one counted variant, in order of first
      appearance (a gene with only uncounted variants would be a constant row).
    - **Which samples.** A MAF lists variants, not samples: a sequenced sample without any
      variant row cannot be known. Every sample with at least one row (even a silent
      one) is a column; the ``samples`` option names a file listing every sequenced
      sample (one id per line, ``#`` lines ignored) so that samples without a counted
      mutation get 0 instead of being absent. In a VCF every genotype column is a sample.
    - **Audit, summarised.** Uncounted rows are too many for one record each: one record
      per excluded ``Variant_Classification`` (``variant_class_not_counted``, with the
      count and first line), one for counted rows without a gene symbol (empty or
      ``Unknown``: ``missing_gene_symbol``), one for rows without a sample id
      (``missing_sample_id``). In a VCF: one record per non-passing ``FILTER`` value
      (``filtered_variant``), per leading consequence of the variants that were not
      counted (``consequence_not_counted``), for records without the annotation field
      (``missing_annotation``) and for annotations whose allele matches no ALT
      (``annotation_allele_not_in_alt``).
    - **Allele matching (VCF).** When the VEP ``Format`` has ``ALLELE_NUM`` (``--allele_number``)
      it gives the ALT index directly. Otherwise an annotation's ``Allele`` is matched to
      the ALT as written (SnpEff's rule) or to VEP's VCF allele string: when the record
      has alleles of different lengths and every allele (REF and ALTs) starts with the
      same base, VEP removes that base from each, an empty result written ``-``
      (``REF=CA ALT=C`` is ``-``; ``REF=C ALT=CTT`` is ``TT``). This is the default VEP
      rule; it is a simplification of VEP's ``--minimal`` mode, which trims each ALT
      separately and is matched only when the trimmed form differs from every other
      ALT's. SnpEff cancer-mode alleles (``ALT-REF``) are not matched.
    - **Filters.** Only records with ``FILTER`` ``PASS`` or ``.`` count.
    - **Gene.** VEP: ``SYMBOL`` (``Gene`` when the symbol is empty); SnpEff:
      ``Gene_Name``. Annotations without a gene are ignored (intergenic).

Errors (:class:`~survomics.errors.InputError`, naming file, line and column): truncated
or corrupt gzip, missing required MAF columns, ragged MAF rows, unknown classes in
``variant_classes``, a VCF without ``#CHROM`` line, without genotype columns, without
the annotation header, or a record without ``GT``.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from survomics.audit import AuditRecord
from survomics.errors import InputError
from survomics.formats import RawMatrix
from survomics.specs import FileSpec

NON_SILENT: frozenset[str] = frozenset(
    {
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Missense_Mutation",
        "Nonsense_Mutation",
        "Nonstop_Mutation",
        "Splice_Site",
        "Translation_Start_Site",
    }
)
"""MAF ``Variant_Classification`` values counted by default (maftools' non-synonymous set)."""

MAF_CLASSES: frozenset[str] = NON_SILENT | frozenset(
    {
        "Silent",
        "Intron",
        "IGR",
        "RNA",
        "3'UTR",
        "5'UTR",
        "3'Flank",
        "5'Flank",
        "Targeted_Region",
        "De_novo_Start_InFrame",
        "De_novo_Start_OutOfFrame",
        "Splice_Region",
        "Unknown",
    }
)
"""Every ``Variant_Classification`` the MAF specification (and GDC) defines."""

NON_SILENT_CONSEQUENCES: frozenset[str] = frozenset(
    {
        "transcript_ablation",
        "splice_acceptor_variant",
        "splice_donor_variant",
        "stop_gained",
        "frameshift_variant",
        "stop_lost",
        "start_lost",
        "inframe_insertion",
        "inframe_deletion",
        "disruptive_inframe_insertion",
        "disruptive_inframe_deletion",
        "conservative_inframe_insertion",
        "conservative_inframe_deletion",
        "missense_variant",
        "protein_altering_variant",
        "initiator_codon_variant",
        "exon_loss_variant",
    }
)
"""Sequence Ontology terms counted by default in VCF annotations: the VEP HIGH and
MODERATE coding terms that map onto :data:`NON_SILENT` (VEP's MAF conversion maps
``splice_*_variant`` to ``Splice_Site``, ``start_lost`` to ``Translation_Start_Site``,
``stop_lost`` to ``Nonstop_Mutation``...) plus SnpEff's finer in-frame and exon-loss
terms. ``splice_region_variant`` and ``synonymous_variant`` are not counted."""

_MAF_REQUIRED = ("Hugo_Symbol", "Variant_Classification")
_CHUNK = 1 << 22


# --- shared helpers ------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """Whole (gzip-decompressed) content of a file; a damaged gzip names its line.

    Raises
    ------
    InputError
        The file is missing, or its gzip stream is truncated or corrupt (the line
        reached before the damage is named).
    """
    if not path.is_file():
        raise InputError(path, "file not found", fix="check the path in the cohort sheet")
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    parts: list[bytes] = []
    while raw:  # every gzip member (bgzip files have many)
        inflater = zlib.decompressobj(wbits=31)
        try:
            parts.append(inflater.decompress(raw))
            complete = inflater.eof
        except zlib.error as exc:
            problem, complete = f"corrupt ({exc})", False
        else:
            problem = "truncated (the stream ends before its end marker)"
        if not complete:
            raise InputError(
                path,
                f"the gzip stream is {problem}",
                fix="download or copy the file again (check it with `gzip -t`)",
                line=sum(p.count(b"\n") for p in parts) + 1,
            )
        raw = inflater.unused_data
    return b"".join(parts)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Stream ``(line number, line without newline)``; a damaged gzip names its line."""
    if not path.is_file():
        raise InputError(path, "file not found", fix="check the path in the cohort sheet")
    opener = gzip.open if path.suffix == ".gz" else open
    lineno = 0
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            for lineno, raw in enumerate(fh, start=1):
                yield lineno, raw.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            path,
            f"the gzip stream is truncated or corrupt ({exc})",
            fix="download or copy the file again (check it with `gzip -t`)",
            line=lineno + 1,
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"is not UTF-8 ({exc.reason})",
            fix="re-save the file as UTF-8",
            line=lineno + 1,
        ) from None


def _parse_set(
    value: str | None, *, default: frozenset[str], known: frozenset[str] | None, path: str, key: str
) -> frozenset[str] | None:
    """``non_silent`` -> default, ``all`` -> None (everything), else a checked list."""
    if value is None or value.strip() == "non_silent":
        return default
    if value.strip() == "all":
        return None
    chosen = frozenset(v.strip() for v in value.split(",") if v.strip())
    if not chosen:
        raise InputError(
            path, f"option {key} is empty", fix="use non_silent, all or a comma-separated list"
        )
    unknown = sorted(chosen - known) if known is not None else []
    if unknown:
        raise InputError(
            path,
            f"option {key} names unknown value(s) {unknown}; known: {sorted(known or ())}",
            fix=f"correct the `{key}` option in the cohort sheet",
            column=key,
            column_label="option",
        )
    return chosen


def _read_sample_list(path: Path) -> list[str]:
    text = read_bytes(path).decode("utf-8-sig")
    out: list[str] = []
    for raw in text.splitlines():
        item = raw.strip()
        if item and not item.startswith("#") and item not in out:
            out.append(item)
    return out


def _binary_frame(
    genes: list[str], samples: list[str], gene_idx: np.ndarray, sample_idx: np.ndarray
) -> pl.DataFrame:
    """``feature`` + one Float64 0/1 column per sample from (gene, sample) index pairs."""
    values = np.zeros((len(genes), len(samples)), dtype=np.float64)
    values[gene_idx, sample_idx] = 1.0
    return pl.DataFrame(
        {"feature": genes} | {s: values[:, j] for j, s in enumerate(samples)},
        schema={"feature": pl.String} | dict.fromkeys(samples, pl.Float64),
    )


# --- MAF -----------------------------------------------------------------------------


def _maf_table(path: Path, sample_column: str) -> tuple[pl.DataFrame, int]:
    """The three used columns as String + ``_line``; and the header's line number."""
    data = read_bytes(path)
    lines = data.split(b"\n", 200)
    n_comment = 0
    for raw in lines:
        if not raw.startswith(b"#"):
            break
        n_comment += 1
    header_line = n_comment + 1
    if n_comment >= len(lines) or not lines[n_comment].strip():
        raise InputError(
            path, "has no header line", fix="check that the file is a MAF", line=header_line
        )
    header = [h.strip() for h in lines[n_comment].decode("utf-8-sig").rstrip("\r").split("\t")]
    for col in (*_MAF_REQUIRED, sample_column):
        if col not in header:
            raise InputError(
                path,
                f"required MAF column '{col}' is missing (columns: {header[:8]}...)",
                fix="give the MAF's real sample column with the `sample_column` option"
                if col == sample_column
                else "check that the file is a MAF (tab-separated, with a header line)",
                line=header_line,
                column=col,
            )
    wanted = list(dict.fromkeys((*_MAF_REQUIRED, sample_column)))
    body = data.split(b"\n", n_comment + 1)[-1] if n_comment + 1 < len(lines) else b""
    n_rows = sum(1 for _ in filter(None, (ln.strip() for ln in body.split(b"\n"))))
    if body.count(b"\t") != n_rows * (len(header) - 1):
        _raise_ragged(path, data, n_comment, len(header), None)
    try:
        frame = pl.read_csv(
            data,
            separator="\t",
            skip_rows=n_comment,
            has_header=True,
            infer_schema=False,
            quote_char=None,
            columns=wanted,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as exc:
        _raise_ragged(path, data, n_comment, len(header), exc)
        raise  # pragma: no cover - _raise_ragged always raises
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in wanted)
    frame = frame.with_row_index("_line", offset=header_line + 1).with_columns(
        pl.col("_line").cast(pl.Int64)
    )
    return frame, header_line


def _raise_ragged(
    path: Path, data: bytes, n_comment: int, n_fields: int, exc: Exception | None
) -> None:
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if lineno <= n_comment + 1 or not raw.strip():
            continue
        count = raw.count(b"\t") + 1
        if count != n_fields:
            raise InputError(
                path,
                f"row has {count} fields but the header has {n_fields}",
                fix="repair the row (missing or extra tabs)",
                line=lineno,
            )
    raise InputError(path, f"cannot be read as a MAF ({exc})", fix="check the file's format")


def maf_matrix(
    *,
    path: str | Path,
    variant_classes: str = "non_silent",
    sample_column: str = "Tumor_Sample_Barcode",
    samples: str | Path | None = None,
    cohort: str = "",
    modality: str = "mutation",
) -> RawMatrix:
    """Read a MAF (or MAF.gz) as a gene x sample 0/1 mutation matrix.

    Parameters
    ----------
    path
        The MAF file.
    variant_classes
        ``non_silent`` (:data:`NON_SILENT`), ``all``, or a comma-separated list of
        ``Variant_Classification`` values counted as a mutation.
    sample_column
        Column holding the sample id.
    samples
        File listing every sequenced sample (one per line): samples without any MAF row
        become all-0 columns instead of being absent.
    cohort, modality
        Written in the audit records.

    Returns
    -------
    RawMatrix
        ``feature`` (Hugo symbol) + one Float64 0/1 column per sample; audit records of
        the rows not counted.

    Raises
    ------
    InputError
        Damaged gzip, missing column, ragged row, unknown variant class.
    """
    path = Path(path)
    file = str(path)
    counted = _parse_set(
        variant_classes, default=NON_SILENT, known=MAF_CLASSES, path=file, key="variant_classes"
    )
    frame, _ = _maf_table(path, sample_column)
    vc, sc = "Variant_Classification", sample_column
    records: list[AuditRecord] = []

    def summary(rows: pl.DataFrame, rid: str, reason: str, what: str) -> None:
        first = int(rows["_line"].min())  # type: ignore[arg-type]
        records.append(
            AuditRecord(
                cohort,
                modality,
                file,
                first,
                "row",
                rid,
                reason,
                f"{rows.height} row(s) {what}; first on line {first}",
            )
        )

    no_sample = frame.filter(pl.col(sc).is_null() | (pl.col(sc) == ""))
    if no_sample.height:
        summary(no_sample, "", "missing_sample_id", f"without a value in '{sc}'")
    frame = frame.filter(pl.col(sc).is_not_null() & (pl.col(sc) != ""))
    sample_order = frame[sc].unique(maintain_order=True).to_list()
    is_counted = pl.lit(value=True) if counted is None else pl.col(vc).is_in(sorted(counted))
    excluded = frame.filter(~is_counted.fill_null(value=False))
    for (cls,), rows in excluded.group_by(vc, maintain_order=True):
        label = "all" if counted is None else variant_classes
        summary(
            rows,
            str(cls) if cls is not None else "",
            "variant_class_not_counted",
            f"of Variant_Classification '{cls}' not counted (variant_classes={label})",
        )
    kept = frame.filter(is_counted.fill_null(value=False))
    no_gene = kept.filter(
        pl.col("Hugo_Symbol").is_null() | pl.col("Hugo_Symbol").is_in(["", "Unknown"])
    )
    if no_gene.height:
        summary(no_gene, "", "missing_gene_symbol", "with a counted class but no Hugo_Symbol")
    kept = kept.filter(
        pl.col("Hugo_Symbol").is_not_null() & ~pl.col("Hugo_Symbol").is_in(["", "Unknown"])
    )
    sources = [file]
    if samples is not None:
        listed = _read_sample_list(Path(samples))
        sources.append(str(samples))
        known = set(sample_order)
        sample_order += [s for s in listed if s not in known]
    genes = kept["Hugo_Symbol"].unique(maintain_order=True).to_list()
    gene_pos = {g: i for i, g in enumerate(genes)}
    sample_pos = {s: j for j, s in enumerate(sample_order)}
    gi = np.fromiter((gene_pos[g] for g in kept["Hugo_Symbol"]), dtype=np.int64, count=kept.height)
    sj = np.fromiter((sample_pos[s] for s in kept[sc]), dtype=np.int64, count=kept.height)
    return RawMatrix(
        frame=_binary_frame(genes, sample_order, gi, sj),
        records=tuple(records),
        sources=tuple(sources),
    )


def read_maf(spec: FileSpec) -> RawMatrix:
    """Sheet reader of ``format: maf``.

    Options ``variant_classes``, ``sample_column`` and ``samples`` (see :func:`maf_matrix`).
    """
    return maf_matrix(
        path=spec.path,
        variant_classes=spec.option("variant_classes", "non_silent") or "non_silent",
        sample_column=spec.option("sample_column", "Tumor_Sample_Barcode")
        or "Tumor_Sample_Barcode",
        samples=spec.option("samples"),
        cohort=spec.cohort,
        modality=spec.modality,
    )


def input_files(spec: FileSpec) -> list[str]:
    """The MAF/VCF itself, plus the MAF's ``samples`` list when given."""
    extra = spec.option("samples") if spec.format == "maf" else None
    return [spec.path] + ([extra] if extra else [])


# --- VCF -----------------------------------------------------------------------------

_FORMAT_RE = re.compile(r'Description="(?P<desc>.*)"')
_GT_SPLIT = re.compile(r"[/|]")


@dataclass(slots=True)
class _Counter:
    """Count + first line per key, for summary audit records."""

    seen: dict[str, list[int]] = field(default_factory=dict)

    def add(self, key: str, line: int) -> None:
        entry = self.seen.get(key)
        if entry is None:
            self.seen[key] = [1, line]
        else:
            entry[0] += 1


def _annotation_fields(line: str, kind: str) -> list[str]:
    """Sub-field names of a ``##INFO=<ID=CSQ|ANN`` header line."""
    match = _FORMAT_RE.search(line)
    desc = match.group("desc") if match else ""
    if kind == "CSQ":
        _, _, spec = desc.partition("Format:")
    else:
        spec = desc.split(":", 1)[1] if ":" in desc else desc
    spec = spec.strip().strip("'\" ")
    return [f.strip().strip("'\" ") for f in spec.split("|")]


def _vep_alleles(ref: str, alts: list[str]) -> list[str]:
    """VEP's VCF allele strings: the shared first base removed when lengths differ."""
    alleles = [ref, *alts]
    if len({len(a) for a in alleles}) > 1 and len({a[:1] for a in alleles}) == 1:
        return [a[1:] or "-" for a in alts]
    return list(alts)


def _vep_minimal(ref: str, alt: str) -> str:
    """Per-ALT trimming (VEP ``--minimal``): common prefix and suffix removed."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt = ref[1:], alt[1:]
    return alt or "-"


def vcf_matrix(
    *,
    path: str | Path,
    annotation: str = "auto",
    consequences: str = "non_silent",
    cohort: str = "",
    modality: str = "mutation",
) -> RawMatrix:
    """Read a VEP- or SnpEff-annotated VCF as a gene x sample 0/1 mutation matrix.

    Parameters
    ----------
    path
        The VCF (``.vcf`` or ``.vcf.gz``).
    annotation
        ``auto`` (CSQ if its header is present, else ANN), ``csq`` or ``ann``.
    consequences
        ``non_silent`` (:data:`NON_SILENT_CONSEQUENCES`), ``all``, or a comma-separated
        list of Sequence Ontology terms.
    cohort, modality
        Written in the audit records.

    Returns
    -------
    RawMatrix
        ``feature`` (gene symbol) + one Float64 0/1 column per genotype column.

    Raises
    ------
    InputError
        Damaged gzip, no ``#CHROM`` line, no genotype column, no annotation header,
        a record without ``GT`` or with too few columns.
    """
    path = Path(path)
    file = str(path)
    counted = _parse_set(
        consequences, default=NON_SILENT_CONSEQUENCES, known=None, path=file, key="consequences"
    )
    choice = annotation.strip().lower()
    if choice not in {"auto", "csq", "ann"}:
        raise InputError(
            file,
            f"unknown annotation {annotation!r}",
            fix="set the `annotation` option to auto, csq or ann",
            column="annotation",
            column_label="option",
        )
    headers: dict[str, list[str]] = {}
    samples: list[str] = []
    key = ""
    fields: list[str] = []
    gene_pos: dict[str, int] = {}
    genes: list[str] = []
    pair_gene: list[int] = []
    pair_sample: list[int] = []
    filtered, not_counted, no_annotation, unmatched = _Counter(), _Counter(), _Counter(), _Counter()
    allele_i = cons_i = gene_i = gene_fallback = num_i = -1
    for lineno, line in _lines(path):
        if line.startswith("##"):
            for kind in ("CSQ", "ANN"):
                if line.startswith(f"##INFO=<ID={kind},"):
                    headers[kind] = _annotation_fields(line, kind)
            continue
        if line.startswith("#"):
            cols = line[1:].split("\t")
            if cols[:1] != ["CHROM"]:
                continue
            if len(cols) < 10:
                raise InputError(
                    path,
                    "the VCF has no genotype (sample) columns",
                    fix="use a VCF with FORMAT and sample columns (a sites-only VCF names "
                    "no sample)",
                    line=lineno,
                )
            samples = cols[9:]
            key = _choose_annotation(choice, headers, path, lineno)
            fields = headers[key]
            lower = [f.lower() for f in fields]
            allele_i = lower.index("allele") if "allele" in lower else 0
            cons_name = "consequence" if key == "CSQ" else "annotation"
            cons_i = lower.index(cons_name) if cons_name in lower else 1
            gene_name = "symbol" if key == "CSQ" else "gene_name"
            gene_i = lower.index(gene_name) if gene_name in lower else 3
            gene_fallback = lower.index("gene") if key == "CSQ" and "gene" in lower else -1
            num_i = lower.index("allele_num") if key == "CSQ" and "allele_num" in lower else -1
            continue
        if not line:
            continue
        if not samples:
            raise InputError(
                path,
                "a record comes before the #CHROM header line",
                fix="check that the file is a VCF",
                line=lineno,
            )
        cols = line.split("\t")
        if len(cols) != 9 + len(samples):
            raise InputError(
                path,
                f"record has {len(cols)} columns but the header has {9 + len(samples)}",
                fix="repair the record (missing or extra tabs)",
                line=lineno,
            )
        flt = cols[6]
        if flt not in {"PASS", "."}:
            filtered.add(flt, lineno)
            continue
        ref, alts = cols[3], cols[4].split(",")
        info = next((x for x in cols[7].split(";") if x.startswith(key + "=")), None)
        if info is None:
            no_annotation.add(key, lineno)
            continue
        by_allele: dict[int, set[int]] = {}
        leading = ""
        vep_forms = _vep_alleles(ref, alts) if key == "CSQ" else alts
        minimal = [_vep_minimal(ref, a) for a in alts] if key == "CSQ" else alts
        for entry in info[len(key) + 1 :].split(","):
            parts = entry.split("|")
            if len(parts) <= max(allele_i, cons_i, gene_i):
                continue
            terms = parts[cons_i].split("&")
            leading = leading or terms[0]
            if counted is not None and counted.isdisjoint(terms):
                continue
            symbol = parts[gene_i] or (parts[gene_fallback] if gene_fallback >= 0 else "")
            if not symbol:
                continue
            index = _allele_index(
                parts=parts,
                allele_i=allele_i,
                num_i=num_i,
                alts=alts,
                vep_forms=vep_forms,
                minimal=minimal,
            )
            if index is None:
                unmatched.add(parts[allele_i], lineno)
                continue
            gid = gene_pos.get(symbol)
            if gid is None:
                gid = gene_pos[symbol] = len(genes)
                genes.append(symbol)
            by_allele.setdefault(index, set()).add(gid)
        if not by_allele:
            not_counted.add(leading or "(none)", lineno)
            continue
        fmt = cols[8].split(":")
        if "GT" not in fmt:
            raise InputError(
                path,
                "the record has no GT in its FORMAT column",
                fix="use a VCF with genotypes (GT) for every sample",
                line=lineno,
                column="FORMAT",
            )
        gt_i = fmt.index("GT")
        for j, value in enumerate(cols[9:]):
            gt = value.split(":")[gt_i] if gt_i else value.split(":", 1)[0]
            for allele in _GT_SPLIT.split(gt):
                if allele in {"0", ".", ""}:
                    continue
                if not allele.isdigit():
                    raise InputError(
                        path,
                        f"genotype {gt!r} of sample '{samples[j]}' is not a VCF GT",
                        fix="GT must be allele indices separated by / or | (e.g. 0/1)",
                        line=lineno,
                        column=samples[j],
                    )
                for gid in by_allele.get(int(allele), ()):
                    pair_gene.append(gid)
                    pair_sample.append(j)
    if not samples:
        raise InputError(path, "has no #CHROM header line", fix="check that the file is a VCF")
    records = _vcf_records(
        cohort=cohort,
        modality=modality,
        file=file,
        filtered=filtered,
        not_counted=not_counted,
        no_annotation=no_annotation,
        unmatched=unmatched,
        consequences=consequences,
    )
    gi = np.asarray(pair_gene, dtype=np.int64)
    sj = np.asarray(pair_sample, dtype=np.int64)
    used = np.unique(gi)
    remap = np.full(len(genes), -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    kept_genes = [genes[i] for i in used]
    return RawMatrix(
        frame=_binary_frame(kept_genes, samples, remap[gi], sj),
        records=tuple(records),
        sources=(file,),
    )


def _choose_annotation(choice: str, headers: dict[str, list[str]], path: Path, line: int) -> str:
    if choice == "auto":
        for kind in ("CSQ", "ANN"):
            if kind in headers:
                return kind
    elif choice.upper() in headers:
        return choice.upper()
    wanted = "CSQ or ANN" if choice == "auto" else choice.upper()
    raise InputError(
        path,
        f"no ##INFO={wanted} header line: the VCF is not annotated by VEP or SnpEff",
        fix="annotate the VCF with VEP (--vcf) or SnpEff, or set the `annotation` option",
        line=line,
    )


def _allele_index(
    *,
    parts: list[str],
    allele_i: int,
    num_i: int,
    alts: list[str],
    vep_forms: list[str],
    minimal: list[str],
) -> int | None:
    """1-based ALT index an annotation refers to, or None."""
    if num_i >= 0 and num_i < len(parts) and parts[num_i].isdigit():
        return int(parts[num_i])
    allele = parts[allele_i]
    for forms in (vep_forms, alts):
        if allele in forms:
            return forms.index(allele) + 1
    if minimal.count(allele) == 1:
        return minimal.index(allele) + 1
    return None


def _vcf_records(
    *,
    cohort: str,
    modality: str,
    file: str,
    filtered: _Counter,
    not_counted: _Counter,
    no_annotation: _Counter,
    unmatched: _Counter,
    consequences: str,
) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    what = {
        "filtered_variant": (filtered, "record(s) with FILTER '{}' (only PASS or . count)"),
        "consequence_not_counted": (
            not_counted,
            "record(s) whose leading consequence is '{}' and no annotation has a counted "
            f"consequence (consequences={consequences})",
        ),
        "missing_annotation": (no_annotation, "record(s) without an INFO {} field"),
        "annotation_allele_not_in_alt": (
            unmatched,
            "counted annotation(s) of allele '{}' that matches no ALT allele",
        ),
    }
    for reason, (counter, template) in what.items():
        for rid, (count, first) in counter.seen.items():
            out.append(
                AuditRecord(
                    cohort,
                    modality,
                    file,
                    first,
                    "row",
                    rid,
                    reason,
                    f"{count} {template.format(rid)}; first on line {first}",
                )
            )
    return out


def read_vcf(spec: FileSpec) -> RawMatrix:
    """Sheet reader of ``format: vcf`` (options ``annotation``, ``consequences``)."""
    return vcf_matrix(
        path=spec.path,
        annotation=spec.option("annotation", "auto") or "auto",
        consequences=spec.option("consequences", "non_silent") or "non_silent",
        cohort=spec.cohort,
        modality=spec.modality,
    )


__all__ = [
    "MAF_CLASSES",
    "NON_SILENT",
    "NON_SILENT_CONSEQUENCES",
    "input_files",
    "maf_matrix",
    "read_bytes",
    "read_maf",
    "read_vcf",
    "vcf_matrix",
]
