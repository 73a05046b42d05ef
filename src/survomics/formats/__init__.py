"""Readers of the file formats users have, behind one contract.

Every sheet ``format`` other than ``tsv``/``csv``/``parquet`` has a reader here, in its own
module. A reader turns the files of one sheet row into the generic layout that
:mod:`survomics.ingest` then maps onto patients, transforms and audits:

- a **matrix** reader returns a :class:`RawMatrix`: ``feature`` (String) + one Float64
  column per *sample*, named by the sample id as the source names it;
- a **clinical** reader returns a :class:`RawTable`: every column String (missing tokens
  already null), a ``_line`` column with each row's line in the source file, and the
  name of its patient id column.

Both carry the audit records of the decisions taken while reading (rows dropped,
duplicates aggregated, samples without a file...) and the list of files read, so the
intake QC report can checksum them. Each format declares its sheet options (the
``options`` column, ``key=value;key=value``) in :data:`OPTIONS`; the configuration check
refuses an unknown key before the DAG is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from survomics.audit import AuditRecord
    from survomics.specs import FileSpec, IdType

BUILTIN = frozenset({"tsv", "csv", "parquet"})
"""Formats read by :mod:`survomics.ingest` itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RawMatrix:
    """An omics file read into features x samples, before samples map to patients.

    Attributes
    ----------
    frame
        ``feature`` (String) + one Float64 column per sample, named by its id in the
        source (a TCGA barcode, a patient id...).
    records
        Audit records of the decisions taken while reading.
    sources
        Every file read (paths as given or found), for checksums.
    id_type
        How sample ids map to patients, when the format decides it (e.g. GDC files are
        TCGA barcodes); ``None`` keeps the sheet's ``id_type``.
    """

    frame: pl.DataFrame
    records: tuple[AuditRecord, ...] = ()
    sources: tuple[str, ...] = ()
    id_type: IdType | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RawTable:
    """A clinical file read as strings, before the endpoint is derived.

    Attributes
    ----------
    frame
        Every column String (missing tokens null) + ``_line`` (Int64): the line of
        each row in the source file, for messages and the audit.
    id_column
        The patient id column.
    records
        Audit records of the decisions taken while reading.
    sources
        Every file read, for checksums.
    """

    frame: pl.DataFrame
    id_column: str
    records: tuple[AuditRecord, ...] = ()
    sources: tuple[str, ...] = ()


MATRIX_READERS: dict[str, str] = {
    "cbioportal": "survomics.formats.cbioportal:read_matrix",
    "gdc_star_counts": "survomics.formats.gdc:read_star_counts",
    "maf": "survomics.formats.mutations:read_maf",
    "vcf": "survomics.formats.mutations:read_vcf",
    "seg": "survomics.formats.segments:read_seg",
    "xena": "survomics.formats.xena:read_matrix",
    "h5ad": "survomics.formats.anndata:read_h5ad",
    "image_features": "survomics.formats.images:read_image_features",
}
"""Matrix format -> ``module:function`` taking ``(spec: FileSpec) -> RawMatrix``."""

CLINICAL_READERS: dict[str, str] = {
    "cbioportal": "survomics.formats.cbioportal:read_clinical",
    "gdc_clinical": "survomics.formats.gdc:read_clinical",
    "biotab": "survomics.formats.gdc:read_biotab",
    "xena_clinical": "survomics.formats.xena:read_clinical",
}
"""Clinical format -> ``module:function`` taking ``(spec: FileSpec) -> RawTable``."""

COMMON_MATRIX_OPTIONS: dict[str, str] = {
    "duplicates": "rule for repeated feature ids: error (default), sum, mean, max or first",
}
"""Options every matrix format accepts (``tsv``/``csv``/``parquet`` too)."""

OPTIONS: dict[str, dict[str, str]] = {
    "tsv": {},
    "csv": {},
    "parquet": {},
    "cbioportal": {
        "file": "data file inside the study folder, for a modality row "
        "(e.g. data_mrna_seq_v2_rsem.txt)",
        "modalities": "comma-separated modalities to take from a whole-folder clinical row "
        "(default: every one found)",
        "sample_file": "clinical sample file (default data_clinical_sample.txt)",
        "variant_classes": "MAF Variant_Classification values counted as mutated "
        "(default non_silent)",
    },
    "gdc_star_counts": {
        "directory": "folder holding the downloaded files (default: the sample sheet's folder)",
        "column": "count column: unstranded (default), stranded_first, stranded_second, "
        "tpm_unstranded, fpkm_unstranded or fpkm_uq_unstranded",
        "gene_id": "feature id: gene_id (default, Ensembl) or gene_name",
    },
    "gdc_clinical": {},
    "biotab": {"follow_up": "follow-up Biotab file; its latest follow-up gives the last contact"},
    "maf": {
        "variant_classes": "Variant_Classification values counted as mutated: non_silent "
        "(default), all, or a comma-separated list",
        "sample_column": "sample id column (default Tumor_Sample_Barcode)",
        "samples": "file listing every sequenced sample, one per line: samples without a "
        "mutation get 0 instead of being absent",
    },
    "vcf": {
        "annotation": "auto (default), csq (VEP) or ann (SnpEff)",
        "consequences": "consequence terms counted as mutated: non_silent (default), all, or "
        "a comma-separated list of Sequence Ontology terms",
    },
    "seg": {
        "annotation": "gene coordinate table (default: the bundled GENCODE v36 hg38 genes)",
        "gene_id": "feature id: gene_name (default) or gene_id",
        "value": "segment value column (default: the last column, e.g. Segment_Mean)",
    },
    "xena": {},
    "xena_clinical": {"survival": "Xena survival table (sample, OS, OS.time...) to join"},
    "h5ad": {
        "patient_column": "obs column naming each cell's patient: pseudobulk single-cell data "
        "(absent: obs are samples of a bulk matrix)",
        "min_cells": "minimum cells for a patient's pseudobulk (default 10)",
        "layer": "layer holding the values (default: X)",
        "aggregate": "pseudobulk rule: sum (default, for counts) or mean",
    },
    "image_features": {
        "patient_column": "column naming each row's patient (default: the first column)",
        "aggregate": "rule for several images of a patient: mean (default), median, max or first",
    },
}
"""Sheet options of every format, with their meaning (documented in ``docs/formats.md``)."""


def _load(target: str) -> Callable[..., object]:
    module, _, function = target.partition(":")
    func: Callable[..., object] = getattr(importlib.import_module(module), function)
    return func


def allowed_options(fmt: str, *, clinical: bool) -> Mapping[str, str]:
    """The sheet options a row of format ``fmt`` may set."""
    own = OPTIONS.get(fmt, {})
    return own if clinical else {**COMMON_MATRIX_OPTIONS, **own}


def input_files(spec: FileSpec) -> list[str]:
    """Every file a row's reader will read, known before the DAG is built.

    The ingest rule declares them as inputs, so that a changed file reruns its cohort.
    A format module may define ``input_files(spec) -> list[str]`` (e.g. a GDC sample
    sheet and the count files it names, a cBioPortal study's data and meta files);
    otherwise the row's ``path`` is the only input.
    """
    target = (MATRIX_READERS if spec.modality != "clinical" else CLINICAL_READERS).get(spec.format)
    if target is None:
        return [spec.path]
    module = importlib.import_module(target.partition(":")[0])
    lister = getattr(module, "input_files", None)
    return list(lister(spec)) if lister is not None else [spec.path]


def read_matrix(spec: FileSpec) -> RawMatrix:
    """Read an omics row of a non-builtin format (see :data:`MATRIX_READERS`)."""
    result = _load(MATRIX_READERS[spec.format])(spec)
    assert isinstance(result, RawMatrix)
    return result


def read_clinical(spec: FileSpec) -> RawTable:
    """Read a clinical row of a non-builtin format (see :data:`CLINICAL_READERS`)."""
    result = _load(CLINICAL_READERS[spec.format])(spec)
    assert isinstance(result, RawTable)
    return result


__all__ = [
    "BUILTIN",
    "CLINICAL_READERS",
    "MATRIX_READERS",
    "OPTIONS",
    "RawMatrix",
    "RawTable",
    "allowed_options",
    "input_files",
    "read_clinical",
    "read_matrix",
]
