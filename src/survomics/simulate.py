"""Synthetic multi-omics survival cohorts, in the file formats users have, at any size.

:func:`simulate_cohort` writes one cohort under ``out_dir`` laid out as a workflow
working directory (run it with ``snakemake -s <survomics>/Snakefile --directory out_dir``)::

    config/config.yaml                      a configuration that runs on this cohort
    config/cohorts.tsv                      its cohort sheet
    data/<cohort>/clinical.tsv              patientID, years_to_birth, gender,
                                            pathologic_stage, radiation_therapy,
                                            vital_status (1/0), days_to_death,
                                            days_to_last_followup
    data/<cohort>/expression_counts.tsv.gz  raw RNA-seq counts, genes x samples
    data/<cohort>/methylation_betas.tsv.gz  450k-style betas, cg probes x samples
    data/<cohort>/copy_number_gistic.tsv.gz gene-level GISTIC calls -2..2 (or log2 ratios)
    data/<cohort>/copy_number.seg           the segments behind them (IGV/cBioPortal .seg)
    data/<cohort>/genes.tsv                 gene coordinates (GENCODE table layout)
    data/<cohort>/mutations.maf.gz          somatic mutations, MAF 2.4
    data/<cohort>/mutation_samples.txt      every sequenced sample (those without a
                                            mutation are wild type, not missing)
    data/<cohort>/mutation_gene_binary.tsv.gz  non-silent mutation calls 0/1, genes x samples
    data/<cohort>/truth.tsv                 planted features, modality, log-HR

Sample ids are TCGA barcodes of patients ``TCGA-SM-xxxx`` (``xxxx``: the patient number in
base 36, so 1,679,616 patients fit), one primary tumour (``01A``) sample per patient and
modality, with the analyte and centre codes of the data type (``...-11R-A000-07`` RNA,
``-11D-A001-05`` methylation, ``-01D-A002-01`` copy number, ``-01D-A003-09`` exome).

Generative model
----------------
Survival
    Weibull proportional hazards (shape 1.2, median about 1,000 days at the mean risk):
    ``T = (E / (lambda * exp(eta))) ** (1 / shape)`` with ``E ~ Exp(1)`` and
    ``eta = sum_k log_hr_k * x_k + clinical effects`` (age per decade 0.25, stage
    I..IV as 0..3 with 0.45 per stage; sex and radiation therapy have none). Censoring is
    independent of everything: ``C = min(E2 / rate, 15 years)`` with ``rate`` found by
    bisection so that the censored fraction is ``censoring``. Times are whole days >= 1.
Planted features
    ``n_planted`` features, spread over the modalities (expression, methylation,
    expression, copy number, methylation, mutation, repeated), each driven by a latent
    patient score ``z ~ N(0, 1)``. ``effect`` is the log-HR per standard deviation of the
    feature's signal ``x``, signs alternating within a modality: expression and
    methylation ``x = z`` (``z`` shifts the log mean by 1.0, resp. the logit of the beta
    mean by 1.0);
    copy number ``x`` is the gene's GISTIC call (log-HR per level = effect / sd of the
    call); mutation ``x`` is 1 for the 15% of patients with the highest ``z``
    (log-HR mutated vs wild type = effect / sd of the indicator). ``truth.tsv`` lists
    each feature with its log-HR per unit of ``x`` and how ``x`` enters the data.
Expression
    Negative-binomial (gamma-Poisson) counts with gene-wise base means
    ``exp(N(4, 1.8))`` (median 55 reads), DESeq2-like gene-wise dispersions
    ``(0.08 + 2 / mean) * exp(N(0, 0.5))``, per-sample library-size factors
    ``exp(N(0, 0.25))`` and correlated gene modules (patient factors with gene loadings
    ``N(0, 0.35)`` on the log mean).
Methylation
    Probe means from a bimodal mixture (45% unmethylated ``Beta(1.5, 12)``, 40% methylated
    ``Beta(12, 2)``, 15% intermediate ``Beta(4, 4)``), betas ``Beta(mu * k, (1 - mu) * k)``
    with probe precision ``k = exp(N(log 30, 0.4))``; neighbouring probes form correlated
    blocks (geometric sizes, mean 4) sharing a patient effect of sd 0.5 on the logit.
    Betas are written with 4 decimals, clipped to [0.0001, 0.9999].
Copy number
    Per patient, a genome (chr1-22, X, hg38 lengths) cut at chromosome ends and
    ``Poisson(30 * instability)`` random breakpoints; 70% of segments are neutral
    (``N(0, 0.03)``), the others gains or losses (``+/-N(0.45, 0.15)``, 5% focal
    ``+/-1.2``). A gene takes its segment's log2 ratio plus ``N(0, 0.05)``; GISTIC-like
    calls: < -1.0 -> -2, < -0.25 -> -1, > 0.25 -> 1, > 0.9 -> 2.
Mutations
    ``Poisson`` mutation counts per gene and patient with rate proportional to the gene
    length and to the patient's burden ``exp(N(log 80, 1))`` mutations per 20,000
    genes; 1% of genes are drivers mutated in 5-30% of patients. Classes: Missense 60%,
    Silent 25%, Nonsense 5%, Frame_Shift_Del 4%, Splice_Site 3%, Frame_Shift_Ins 2%,
    In_Frame_Del 1%. The binary matrix counts non-silent mutations (the ``maf`` reader's
    default ``variant_classes``).

Determinism and memory
----------------------
Every random draw comes from a generator seeded by ``(seed, stream, block)``: the files
are the same bytes for the same arguments whatever the number of threads (the text of a
block is formatted first and handed to gzip in one write, because deflate's output
depends on how its input is split; the decompressed text is the same with any zlib, the
compressed bytes with the same zlib version).
Per-feature parameters (a few floats per gene or probe) and per-patient quantities are
held in memory; matrices are generated and written in blocks of :data:`BLOCK` features,
so 10,000 patients x 60,000 genes need one 1,024 x 10,000 block at a time (about 80 MB).
Gzip members carry ``mtime=0`` and no file name; level 1 is used because deflate at
higher levels dominates the writing time at TCGA scale (files are ~20% larger, reading
them is as fast).
"""

from __future__ import annotations

import gzip
import importlib
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import yaml

BLOCK = 1024
"""Features generated and written at a time (fixed: the bytes do not depend on memory)."""

GZIP_LEVEL = 1
"""Deflate level of the ``.gz`` outputs (see the module docstring)."""

_STREAMS = {
    "clinical": 1,
    "expression": 2,
    "methylation": 3,
    "copy_number": 4,
    "mutation": 5,
    "planted": 6,
    "genes": 7,
    "probes": 8,
    "segments": 9,
}
"""Random stream of each part of the cohort (with the seed and the block index)."""

_CHROMOSOMES: tuple[tuple[str, int], ...] = (
    ("1", 248956422),
    ("2", 242193529),
    ("3", 198295559),
    ("4", 190214555),
    ("5", 181538259),
    ("6", 170805979),
    ("7", 159345973),
    ("8", 145138636),
    ("9", 138394717),
    ("10", 133797422),
    ("11", 135086622),
    ("12", 133275309),
    ("13", 114364328),
    ("14", 107043718),
    ("15", 101991189),
    ("16", 90338345),
    ("17", 83257441),
    ("18", 80373285),
    ("19", 58617616),
    ("20", 64444167),
    ("21", 46709983),
    ("22", 50818468),
    ("X", 156040895),
)
"""hg38 chromosome lengths."""

_BARCODE_SUFFIX = {
    "expression": "-01A-11R-A000-07",
    "methylation": "-01A-11D-A001-05",
    "copy_number": "-01A-01D-A002-01",
    "mutation": "-01A-01D-A003-09",
}
_PLANT_CYCLE = (
    "expression",
    "methylation",
    "expression",
    "copy_number",
    "methylation",
    "mutation",
)
_EXPRESSION_SIGNAL = 1.0
_METHYLATION_SIGNAL = 1.0
_MUTATION_FREQUENCY = 0.15
_WEIBULL_SHAPE = 1.2
_MEDIAN_DAYS = 1000.0
_ADMIN_CENSOR_DAYS = 15 * 365
_CLASSES = (
    ("Missense_Mutation", 0.60, "SNP"),
    ("Silent", 0.25, "SNP"),
    ("Nonsense_Mutation", 0.05, "SNP"),
    ("Frame_Shift_Del", 0.04, "DEL"),
    ("Splice_Site", 0.03, "SNP"),
    ("Frame_Shift_Ins", 0.02, "INS"),
    ("In_Frame_Del", 0.01, "DEL"),
)
_MAF_COLUMNS = (
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Center",
    "NCBI_Build",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Strand",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode",
)

MutationFormat = Literal["auto", "maf", "tsv"]
CopyNumberValues = Literal["gistic", "log2"]


def _rng(seed: int, stream: str, block: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream], block]))


def _base36(number: int, width: int = 4) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out.rjust(width, "0")


def patient_ids(n_patients: int) -> list[str]:
    """TCGA-style patient ids ``TCGA-SM-0001``, ``TCGA-SM-0002``, ... (base 36)."""
    if n_patients >= 36**4:
        msg = f"at most {36**4 - 1} patients fit in a TCGA patient code"
        raise ValueError(msg)
    return [f"TCGA-SM-{_base36(i + 1)}" for i in range(n_patients)]


# --------------------------------------------------------------------------- writing


def _open_gz(path: Path) -> gzip.GzipFile:
    raw = path.open("wb")
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL)


def _close_gz(handle: gzip.GzipFile) -> None:
    inner = handle.fileobj
    handle.close()
    if inner is not None:
        inner.close()


def _tsv_bytes(
    frame: pl.DataFrame, *, header: bool, float_precision: int | None = None
) -> memoryview:
    buffer = io.BytesIO()
    frame.write_csv(
        buffer,
        separator="\t",
        include_header=header,
        float_precision=float_precision,
        quote_style="never",
        line_terminator="\n",
    )
    return buffer.getbuffer()


def _write_matrix(
    path: Path,
    *,
    features: Sequence[str],
    samples: Sequence[str],
    blocks: Iterator[np.ndarray],
    float_precision: int | None = None,
) -> None:
    """Write ``feature`` + sample columns, one block of feature rows at a time."""
    handle = _open_gz(path)
    try:
        start = 0
        for values in blocks:
            names = features[start : start + values.shape[0]]
            frame = pl.from_numpy(values, schema=list(samples), orient="row").insert_column(
                0, pl.Series("feature", names, dtype=pl.String)
            )
            del values
            # one write per block: the gzip bytes depend on how the input is split into
            # writes, so the text of a block is formatted first, then compressed at once
            handle.write(_tsv_bytes(frame, header=start == 0, float_precision=float_precision))
            start += frame.height
            del frame
    finally:
        _close_gz(handle)


def _blocks(n: int) -> Iterator[tuple[int, int, int]]:
    for index, start in enumerate(range(0, n, BLOCK)):
        yield index, start, min(start + BLOCK, n)


# --------------------------------------------------------------------------- genome


@dataclass(frozen=True, slots=True)
class _Genes:
    names: list[str]
    ids: list[str]
    chrom: np.ndarray  # index into _CHROMOSOMES
    start: np.ndarray
    end: np.ndarray
    strand: np.ndarray
    offset: np.ndarray  # genome coordinate of the gene midpoint (chromosomes concatenated)


def _chromosome_offsets() -> np.ndarray:
    lengths = np.array([length for _, length in _CHROMOSOMES], dtype=np.int64)
    return np.concatenate([[0], np.cumsum(lengths)])


def _genes(n: int, seed: int) -> _Genes:
    rng = _rng(seed, "genes")
    lengths = np.array([length for _, length in _CHROMOSOMES], dtype=np.float64)
    offsets = _chromosome_offsets()
    chrom = np.sort(rng.choice(len(_CHROMOSOMES), size=n, p=lengths / lengths.sum()))
    gene_length = np.clip(np.exp(rng.normal(math.log(20_000), 1.0, n)), 500, 2_000_000)
    room = lengths[chrom] - gene_length - 2
    start = (rng.random(n) * room).astype(np.int64) + 1
    order = np.lexsort((start, chrom))
    chrom, start, gene_length = chrom[order], start[order], gene_length[order].astype(np.int64)
    strand = np.where(rng.random(n) < 0.5, "+", "-")
    width = max(6, len(str(n)))
    return _Genes(
        names=[f"SG{i + 1:0{width}d}" for i in range(n)],
        ids=[f"ENSSIMG{i + 1:011d}.1" for i in range(n)],
        chrom=chrom,
        start=start,
        end=start + gene_length - 1,
        strand=strand,
        offset=offsets[chrom] + start + gene_length // 2,
    )


def _subset(n_total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n`` of ``n_total`` genes (all of them when ``n >= n_total``)."""
    if n >= n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, size=n, replace=False))


# --------------------------------------------------------------------------- modalities


@dataclass(frozen=True, slots=True)
class _Planted:
    modality: str
    index: int  # feature index within the modality's matrix
    log_hr: float  # per unit of x
    x: np.ndarray  # the signal entering the hazard, per patient
    z: np.ndarray  # latent score
    how: str


def _expression_params(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed, "expression", 1_000_000)
    mean = np.exp(rng.normal(4.0, 1.8, n))
    dispersion = np.minimum((0.08 + 2.0 / mean) * np.exp(rng.normal(0.0, 0.5, n)), 20.0)
    n_modules = max(1, min(50, n // 200))
    return {
        "mean": mean,
        "dispersion": dispersion,
        "module": rng.integers(0, n_modules, n),
        "loading": rng.normal(0.0, 0.35, n),
        "n_modules": np.array([n_modules]),
    }


def _expression_blocks(
    params: dict[str, np.ndarray],
    *,
    seed: int,
    n_patients: int,
    planted: Sequence[_Planted],
) -> Iterator[np.ndarray]:
    rng = _rng(seed, "expression", 1_000_001)
    library = np.exp(rng.normal(0.0, 0.25, n_patients))
    factors = rng.normal(size=(int(params["n_modules"][0]), n_patients))
    signals = {p.index: p.z for p in planted}
    for block, start, stop in _blocks(params["mean"].size):
        brng = _rng(seed, "expression", block)
        # in place: one (genes, patients) float64 array at a time besides the counts
        log_mean = params["loading"][start:stop, None] * factors[params["module"][start:stop]]
        log_mean += np.log(params["mean"][start:stop])[:, None]
        log_mean += np.log(library)[None, :]
        for index, z in signals.items():
            if start <= index < stop:
                log_mean[index - start] += _EXPRESSION_SIGNAL * z
        phi = params["dispersion"][start:stop, None]
        scale = np.exp(log_mean, out=log_mean)
        scale *= phi
        rate = brng.gamma(shape=1.0 / phi, scale=scale)
        del scale, log_mean
        yield brng.poisson(rate)


def _probe_params(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed, "probes")
    kind = rng.choice(3, size=n, p=[0.45, 0.40, 0.15])
    a = np.choose(kind, [1.5, 12.0, 4.0])
    b = np.choose(kind, [12.0, 2.0, 4.0])
    mean = np.clip(rng.beta(a, b), 0.005, 0.995)
    ids = rng.choice(10**8, size=n, replace=False)
    return {
        "logit": np.log(mean / (1.0 - mean)),
        "precision": np.exp(rng.normal(math.log(30.0), 0.4, n)),
        "ids": ids,
    }


def _methylation_blocks(
    params: dict[str, np.ndarray],
    *,
    seed: int,
    n_patients: int,
    planted: Sequence[_Planted],
) -> Iterator[np.ndarray]:
    signals = {p.index: p.z for p in planted}
    for block, start, stop in _blocks(params["logit"].size):
        brng = _rng(seed, "methylation", block)
        size = stop - start
        # correlated blocks of neighbouring probes (cut at the write-block edge)
        new_block = brng.random(size) < 0.25
        new_block[0] = True
        group = np.cumsum(new_block) - 1
        shared = brng.normal(0.0, 0.5, size=(int(group[-1]) + 1, n_patients))
        logit = params["logit"][start:stop, None] + shared[group]
        for index, z in signals.items():
            if start <= index < stop:
                logit[index - start] += _METHYLATION_SIGNAL * z
        mu = 1.0 / (1.0 + np.exp(-logit))
        k = params["precision"][start:stop, None]
        betas = brng.beta(np.maximum(mu * k, 1e-3), np.maximum((1.0 - mu) * k, 1e-3))
        yield np.round(np.clip(betas, 1e-4, 1.0 - 1e-4), 4)


def _segments(n_patients: int, seed: int) -> pl.DataFrame:
    """Every patient's segments: patient, chrom index, genome start/end, log2 ratio."""
    rng = _rng(seed, "segments")
    offsets = _chromosome_offsets()
    genome = int(offsets[-1])
    instability = np.exp(rng.normal(0.0, 0.7, n_patients))
    n_breaks = rng.poisson(30.0 * instability)
    patient = np.repeat(np.arange(n_patients), n_breaks)
    cuts = rng.integers(1, genome, size=patient.size)
    ends = np.concatenate([patient, np.repeat(np.arange(n_patients), len(_CHROMOSOMES))])
    positions = np.concatenate([cuts, np.tile(offsets[1:], n_patients)])
    order = np.lexsort((positions, ends))
    patient, stop = ends[order], positions[order]
    keep = np.ones(stop.size, dtype=bool)
    keep[1:] = ~((patient[1:] == patient[:-1]) & (stop[1:] == stop[:-1]))
    patient, stop = patient[keep], stop[keep]
    first = np.ones(stop.size, dtype=bool)
    first[1:] = patient[1:] != patient[:-1]
    start = np.where(first, 0, np.roll(stop, 1))
    kind = rng.random(stop.size)
    sign = np.where(rng.random(stop.size) < 0.5, -1.0, 1.0)
    value = np.where(
        kind < 0.70,
        rng.normal(0.0, 0.03, stop.size),
        np.where(kind < 0.95, sign * rng.normal(0.45, 0.15, stop.size), sign * 1.2),
    )
    chrom = np.searchsorted(offsets, start, side="right") - 1
    return pl.DataFrame(
        {
            "patient": patient.astype(np.int64),
            "chrom": chrom.astype(np.int64),
            "start": start.astype(np.int64),
            "stop": stop.astype(np.int64),
            "value": value,
        }
    )


def _segment_values(segments: pl.DataFrame, positions: np.ndarray, n_patients: int) -> np.ndarray:
    """Log2 ratio of each patient's segment at genome ``positions``: (genes, patients)."""
    genome = int(_chromosome_offsets()[-1]) + 1
    keys = segments["patient"].to_numpy() * genome + segments["stop"].to_numpy()
    values = segments["value"].to_numpy()
    query = np.arange(n_patients)[None, :] * genome + positions[:, None]
    return values[np.searchsorted(keys, query, side="right")]


def _gistic(log2: np.ndarray) -> np.ndarray:
    calls = np.zeros(log2.shape, dtype=np.int64)
    calls[log2 < -0.25] = -1
    calls[log2 < -1.0] = -2
    calls[log2 > 0.25] = 1
    calls[log2 > 0.9] = 2
    return calls


def _copy_number_blocks(
    segments: pl.DataFrame,
    positions: np.ndarray,
    *,
    seed: int,
    n_patients: int,
    values: CopyNumberValues,
) -> Iterator[np.ndarray]:
    for block, start, stop in _blocks(positions.size):
        brng = _rng(seed, "copy_number", block)
        log2 = _segment_values(segments, positions[start:stop], n_patients)
        log2 = log2 + brng.normal(0.0, 0.05, log2.shape)
        yield _gistic(log2) if values == "gistic" else np.round(log2, 4)


def _planted_cnv_value(
    segments: pl.DataFrame, position: int, *, seed: int, n_patients: int, values: str, row: int
) -> np.ndarray:
    """The written value of one copy-number gene (same draw as in its block)."""
    block, within = divmod(row, BLOCK)
    # the block's noise is its generator's first draw, filled row by row: drawing the
    # first ``within + 1`` rows again gives that gene's noise
    brng = _rng(seed, "copy_number", block)
    noise = brng.normal(0.0, 0.05, (within + 1, n_patients))[within]
    log2 = _segment_values(segments, np.array([position]), n_patients)[0] + noise
    return _gistic(log2).astype(np.float64) if values == "gistic" else np.round(log2, 4)


def _mutation_params(lengths: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed, "mutation", 1_000_000)
    n = lengths.size
    driver = rng.random(n) < 0.01
    return {
        "relative_length": lengths / lengths.mean(),
        "driver_rate": np.where(driver, -np.log1p(-rng.uniform(0.05, 0.30, n)), 0.0),
    }


def _mutation_blocks(
    params: dict[str, np.ndarray],
    *,
    seed: int,
    n_patients: int,
    planted: Sequence[_Planted],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per block: mutation counts (genes, patients) and the class of each mutation."""
    rng = _rng(seed, "mutation", 1_000_001)
    burden = np.exp(rng.normal(math.log(80.0), 1.0, n_patients)) / 20_000.0
    fixed = {p.index: p.x for p in planted}
    probabilities = np.array([p for _, p, _ in _CLASSES])
    for block, start, stop in _blocks(params["relative_length"].size):
        brng = _rng(seed, "mutation", block)
        rate = (
            params["relative_length"][start:stop, None] * burden[None, :]
            + params["driver_rate"][start:stop, None]
        )
        counts = brng.poisson(rate)
        classes = brng.choice(len(_CLASSES), size=int(counts.sum()), p=probabilities)
        for index, x in fixed.items():
            if start <= index < stop:
                row = index - start
                before = int(counts[:row].sum())
                old = int(counts[row].sum())
                counts[row] = x.astype(np.int64)
                # planted mutations are missense (class 0) or nonsense (class 2)
                new = np.where(np.arange(int(x.sum())) % 4 == 3, 2, 0)
                classes = np.concatenate([classes[:before], new, classes[before + old :]])
        yield counts, classes


# --------------------------------------------------------------------------- survival


def _censor_rate(event_time: np.ndarray, unit: np.ndarray, target: float) -> float:
    """Rate of exponential censoring giving a censored fraction ``target`` (bisection)."""

    def censored(rate: float) -> float:
        c = np.minimum(unit / rate, _ADMIN_CENSOR_DAYS)
        return float(np.mean(c < event_time))

    low, high = -30.0, 10.0
    for _ in range(80):
        mid = (low + high) / 2.0
        if censored(math.exp(mid) / _MEDIAN_DAYS) < target:
            low = mid
        else:
            high = mid
    return math.exp((low + high) / 2.0) / _MEDIAN_DAYS


def _clinical(
    *,
    patients: Sequence[str],
    planted: Sequence[_Planted],
    seed: int,
    censoring: float,
) -> tuple[pl.DataFrame, list[tuple[str, str, float, str]]]:
    rng = _rng(seed, "clinical")
    n = len(patients)
    age = np.clip(np.round(rng.normal(60.0, 12.0, n)), 20, 90).astype(np.int64)
    stage = rng.choice(4, size=n, p=[0.2, 0.35, 0.25, 0.2])
    gender = np.where(rng.random(n) < 0.5, "male", "female")
    radiation = np.where(rng.random(n) < 0.3, "yes", "no")
    eta = 0.25 * (age - 60.0) / 10.0 + 0.45 * stage
    for p in planted:
        eta = eta + p.log_hr * p.x
    eta = eta - eta.mean()
    scale = math.log(2.0) / _MEDIAN_DAYS**_WEIBULL_SHAPE
    event_time = (rng.exponential(size=n) / (scale * np.exp(eta))) ** (1.0 / _WEIBULL_SHAPE)
    unit = rng.exponential(size=n)
    rate = _censor_rate(event_time, unit, censoring)
    censor_time = np.minimum(unit / rate, _ADMIN_CENSOR_DAYS)
    dead = event_time <= censor_time
    days = np.maximum(np.ceil(np.minimum(event_time, censor_time)), 1).astype(np.int64)
    stages = np.array(["stage i", "stage ii", "stage iii", "stage iv"])[stage]
    frame = pl.DataFrame(
        {
            "patientID": list(patients),
            "years_to_birth": age,
            "gender": gender,
            "pathologic_stage": stages,
            "radiation_therapy": radiation,
            "vital_status": dead.astype(np.int64),
            "days_to_death": pl.Series(np.where(dead, days, 0)).cast(pl.Int64),
            "days_to_last_followup": pl.Series(np.where(dead, 0, days)).cast(pl.Int64),
        }
    ).with_columns(
        pl.when(pl.col("vital_status") == 1).then(pl.col("days_to_death")).alias("days_to_death"),
        pl.when(pl.col("vital_status") == 0)
        .then(pl.col("days_to_last_followup"))
        .alias("days_to_last_followup"),
    )
    clinical_truth = [
        ("years_to_birth", "clinical", 0.025, "log-HR per year of age"),
        ("pathologic_stage", "clinical", 0.45, "log-HR per stage (i..iv as 0..3)"),
    ]
    return frame, clinical_truth


# --------------------------------------------------------------------------- config


def _has_maf_reader() -> bool:
    try:
        module = importlib.import_module("survomics.formats.mutations")
    except ImportError:
        return False
    return hasattr(module, "read_maf")


SHEET_COLUMNS = (
    "cohort",
    "modality",
    "path",
    "format",
    "orientation",
    "id_column",
    "transform",
    "id_type",
    "endpoint",
    "na_values",
    "options",
)
"""Columns of the cohort sheet :func:`write_config` writes."""


def write_config(
    *,
    out_dir: str | Path,
    rows: Sequence[dict[str, str]],
    modalities: Sequence[str],
    seed: int = 20261123,
    outer_folds: int = 5,
    outer_repeats: int = 5,
) -> tuple[Path, Path]:
    """Write ``config/config.yaml`` and ``config/cohorts.tsv`` for simulated cohorts.

    The configuration follows the bundled ``config/config.yaml``: the ``os`` endpoint
    from ``vital_status``/``days_to_death``/``days_to_last_followup``, Kaplan-Meier by
    ``pathologic_stage``, covariates age and stage, treatment ``radiation_therapy``, and
    the default model set (clinical; Coxnet, random survival forest and gradient
    boosting on expression; early and late fusion of the continuous omics with the
    clinical covariates).

    Parameters
    ----------
    out_dir
        The working directory of the run.
    rows
        Sheet rows (see :data:`SHEET_COLUMNS`), paths relative to ``out_dir``.
    modalities
        The omics modalities every cohort has.
    seed, outer_folds, outer_repeats
        ``modelling.seed``, ``outer_folds`` and ``outer_repeats``.

    Returns
    -------
    tuple
        The paths of the configuration and of the sheet.
    """
    out = Path(out_dir)
    (out / "config").mkdir(parents=True, exist_ok=True)
    sheet = out / "config" / "cohorts.tsv"
    lines = ["\t".join(SHEET_COLUMNS)]
    lines += ["\t".join(row.get(c, "") for c in SHEET_COLUMNS) for row in rows]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    continuous = [m for m in ("expression", "methylation", "copy_number") if m in modalities]
    models: dict[str, Any] = {"clinical": {"kind": "clinical"}}
    if "expression" in modalities:
        models |= {
            "expression_coxnet": {"kind": "coxnet", "modalities": ["expression"]},
            "expression_rsf": {"kind": "rsf", "modalities": ["expression"]},
            "expression_gbsa": {"kind": "gbsa", "modalities": ["expression"]},
        }
    if len(continuous) >= 2:
        models |= {
            "early_fusion": {"kind": "early_fusion", "modalities": continuous, "clinical": True},
            "late_fusion": {"kind": "late_fusion", "modalities": continuous, "clinical": True},
        }
    modelling: dict[str, Any] = {
        "seed": seed,
        "covariates": ["years_to_birth", "pathologic_stage"],
        "treatment": "radiation_therapy",
        "outer_folds": outer_folds,
        "outer_repeats": outer_repeats,
        "inner_folds": 3,
        "preprocessing": {
            "max_missing": 0.2,
            "top_k": 2000,
            "variability": "mad",
            "selection": "univariate",
            "select_top_k": 50,
        },
        "models": models,
        "evaluation": {"time_unit": "years", "horizons": [1, 3, 5], "calibration_horizon": 3},
    }
    if "mutation" in modalities:
        modelling["modalities"] = {"mutation": {"variability": "variance", "select_top_k": 20}}
    config = {
        "sheet": "config/cohorts.tsv",
        "endpoints": {
            "os": {
                "derive": "tcga",
                "status_column": "vital_status",
                "death_time_column": "days_to_death",
                "followup_time_column": "days_to_last_followup",
                "time_unit": "days",
            }
        },
        "samples": {"tumour_types": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
        "screening": {"ties": "efron", "fdr": 0.05},
        "kaplan_meier": {"group": "pathologic_stage"},
        "modelling": modelling,
        "report": {"top_features": 10, "time_unit": "years"},
    }
    path = out / "config" / "config.yaml"
    text = "# Written by `survomics simulate`; keys explained in config/README.md of survomics.\n"
    path.write_text(text + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, sheet


# --------------------------------------------------------------------------- main


def _allocate(n_planted: int, sizes: dict[str, int]) -> list[str]:
    cycle = [m for m in _PLANT_CYCLE if sizes.get(m, 0) > 0]
    if n_planted and not cycle:
        msg = "planted features need at least one omics modality"
        raise ValueError(msg)
    counts: dict[str, int] = {}
    out: list[str] = []
    position = 0
    while len(out) < n_planted:
        modality = cycle[position % len(cycle)]
        position += 1
        if counts.get(modality, 0) < sizes[modality]:
            counts[modality] = counts.get(modality, 0) + 1
            out.append(modality)
        elif all(counts.get(m, 0) >= sizes[m] for m in cycle):
            msg = f"n_planted={n_planted} exceeds the number of features"
            raise ValueError(msg)
    return out


def simulate_cohort(
    *,
    out_dir: str | Path,
    n_patients: int = 400,
    n_genes: int = 2000,
    n_probes: int = 2000,
    n_cnv_genes: int | None = None,
    n_mut_genes: int | None = None,
    n_planted: int = 6,
    seed: int = 1,
    effect: float = 0.6,
    censoring: float = 0.3,
    cohort: str = "sim",
    copy_number_values: CopyNumberValues = "gistic",
    mutation_format: MutationFormat = "auto",
    write_workflow_config: bool = True,
) -> dict[str, Any]:
    """Write a synthetic cohort (see the module docstring for files and model).

    Parameters
    ----------
    out_dir
        Working directory to write into (``data/<cohort>/`` and ``config/``).
    n_patients
        Patients (one sample each per modality).
    n_genes
        Genes of the expression matrix (0: no expression).
    n_probes
        Methylation probes (0: no methylation).
    n_cnv_genes
        Genes of the copy-number matrix (default ``n_genes``; 0: no copy number).
    n_mut_genes
        Genes that can be mutated (default ``n_genes``; 0: no mutations).
    n_planted
        Prognostic features planted across the modalities.
    seed
        Seed of every draw: same arguments, same bytes.
    effect
        Log-HR per standard deviation of a planted feature's signal (signs alternate).
    censoring
        Fraction of patients censored (independent censoring), in [0, 1).
    cohort
        Cohort id (sheet ``cohort`` and the ``data/`` sub-folder).
    copy_number_values
        ``gistic`` calls -2..2 or ``log2`` ratios in the gene-level matrix.
    mutation_format
        Sheet row of the mutations: ``maf`` (the MAF, read by
        ``survomics.formats.mutations.read_maf``), ``tsv`` (the gene-level binary
        matrix) or ``auto``: ``maf`` when that reader is installed, else ``tsv``.
    write_workflow_config
        Write ``config/config.yaml`` and ``config/cohorts.tsv`` for this cohort alone.

    Returns
    -------
    dict
        ``cohort``, ``out_dir``, ``files`` (name -> path), ``sheet_rows`` (rows for
        :func:`write_config`, paths relative to ``out_dir``), ``modalities``, ``truth``
        (the rows of ``truth.tsv``), ``n_patients``, ``n_events``, and ``config`` /
        ``sheet`` paths when written.
    """
    if not 0.0 <= censoring < 1.0:
        msg = f"censoring must be in [0, 1), got {censoring}"
        raise ValueError(msg)
    if n_patients < 2:
        msg = "a cohort needs at least 2 patients"
        raise ValueError(msg)
    n_cnv = n_genes if n_cnv_genes is None else n_cnv_genes
    n_mut = n_genes if n_mut_genes is None else n_mut_genes
    out = Path(out_dir)
    data = out / "data" / cohort
    data.mkdir(parents=True, exist_ok=True)
    patients = patient_ids(n_patients)
    universe = _genes(max(n_genes, n_cnv, n_mut, 1), seed)
    pick = _rng(seed, "genes", 1)
    expr_idx = _subset(len(universe.names), n_genes, pick)
    cnv_idx = _subset(len(universe.names), n_cnv, pick)
    mut_idx = _subset(len(universe.names), n_mut, pick)
    sizes = {
        "expression": n_genes,
        "methylation": n_probes,
        "copy_number": n_cnv,
        "mutation": n_mut,
    }
    modalities = [m for m in ("expression", "methylation", "copy_number", "mutation") if sizes[m]]

    expr = _expression_params(n_genes, seed) if n_genes else {}
    probes = _probe_params(n_probes, seed) if n_probes else {}
    segments = _segments(n_patients, seed) if n_cnv else None
    lengths = (universe.end - universe.start + 1).astype(np.float64)
    mut = _mutation_params(lengths[mut_idx], seed) if n_mut else {}

    # planted features: which, and their per-patient signal
    prng = _rng(seed, "planted")
    planted: list[_Planted] = []
    used: dict[str, set[int]] = {m: set() for m in sizes}
    for modality in _allocate(n_planted, sizes):
        sign = 1.0 if len(used[modality]) % 2 == 0 else -1.0
        z = prng.normal(size=n_patients)
        if modality == "expression":
            # well-expressed genes: above the median base mean
            pool = np.flatnonzero(expr["mean"] >= np.median(expr["mean"]))
        elif modality == "methylation":
            pool = np.arange(n_probes)
        elif modality == "copy_number":
            pool = np.arange(n_cnv)
        else:
            pool = np.flatnonzero(mut["driver_rate"] == 0.0)
        pool = np.array([i for i in pool if i not in used[modality]] or sorted(used[modality]))
        index = int(prng.choice(pool))
        used[modality].add(index)
        if modality in {"expression", "methylation"}:
            x = z
            what = "ln mean" if modality == "expression" else "logit of the beta mean"
            scale = _EXPRESSION_SIGNAL if modality == "expression" else _METHYLATION_SIGNAL
            how = f"latent z ~ N(0,1) adds {scale} * z to the {what}; log-HR per unit of z"
            log_hr = sign * effect
        elif modality == "copy_number":
            assert segments is not None
            x = _planted_cnv_value(
                segments,
                int(universe.offset[cnv_idx[index]]),
                seed=seed,
                n_patients=n_patients,
                values=copy_number_values,
                row=index,
            )
            sd = float(np.std(x)) or 1.0
            log_hr = sign * effect / sd
            how = f"the gene's written copy-number value (sd {sd:.3g}); log-HR per unit"
        else:
            threshold = np.quantile(z, 1.0 - _MUTATION_FREQUENCY)
            x = (z > threshold).astype(np.float64)
            sd = float(np.std(x)) or 1.0
            log_hr = sign * effect / sd
            how = (
                f"non-silent mutation in the {_MUTATION_FREQUENCY:.0%} of patients with the "
                "highest latent z; log-HR mutated vs wild type"
            )
        planted.append(_Planted(modality, index, log_hr, x, z, how))

    def names(modality: str, index: int) -> str:
        if modality == "expression":
            return universe.names[expr_idx[index]]
        if modality == "methylation":
            return f"cg{int(probes['ids'][index]):08d}"
        if modality == "copy_number":
            return universe.names[cnv_idx[index]]
        return universe.names[mut_idx[index]]

    clinical, clinical_truth = _clinical(
        patients=patients, planted=planted, seed=seed, censoring=censoring
    )
    files: dict[str, Path] = {}
    files["clinical"] = data / "clinical.tsv"
    files["clinical"].write_bytes(_tsv_bytes(clinical, header=True))

    def barcodes(modality: str) -> list[str]:
        return [p + _BARCODE_SUFFIX[modality] for p in patients]

    def of(modality: str) -> list[_Planted]:
        return [p for p in planted if p.modality == modality]

    if n_genes:
        files["expression"] = data / "expression_counts.tsv.gz"
        _write_matrix(
            files["expression"],
            features=[universe.names[i] for i in expr_idx],
            samples=barcodes("expression"),
            blocks=_expression_blocks(
                expr, seed=seed, n_patients=n_patients, planted=of("expression")
            ),
        )
    if n_probes:
        files["methylation"] = data / "methylation_betas.tsv.gz"
        _write_matrix(
            files["methylation"],
            features=[f"cg{int(i):08d}" for i in probes["ids"]],
            samples=barcodes("methylation"),
            blocks=_methylation_blocks(
                probes, seed=seed, n_patients=n_patients, planted=of("methylation")
            ),
            float_precision=4,
        )
    if n_cnv:
        assert segments is not None
        files["copy_number"] = data / "copy_number_gistic.tsv.gz"
        _write_matrix(
            files["copy_number"],
            features=[universe.names[i] for i in cnv_idx],
            samples=barcodes("copy_number"),
            blocks=_copy_number_blocks(
                segments,
                universe.offset[cnv_idx],
                seed=seed,
                n_patients=n_patients,
                values=copy_number_values,
            ),
            float_precision=4 if copy_number_values == "log2" else None,
        )
        files["segments"] = data / "copy_number.seg"
        _write_segments(files["segments"], segments, barcodes("copy_number"))
    if n_cnv or n_mut:
        files["genes"] = data / "genes.tsv"
        _write_genes(files["genes"], universe)
    if n_mut:
        files["maf"] = data / "mutations.maf.gz"
        files["mutation_samples"] = data / "mutation_samples.txt"
        files["mutation_binary"] = data / "mutation_gene_binary.tsv.gz"
        files["mutation_samples"].write_text(
            "\n".join(barcodes("mutation")) + "\n", encoding="utf-8"
        )
        _write_mutations(
            maf=files["maf"],
            binary=files["mutation_binary"],
            universe=universe,
            genes=mut_idx,
            samples=barcodes("mutation"),
            blocks=_mutation_blocks(mut, seed=seed, n_patients=n_patients, planted=of("mutation")),
            seed=seed,
        )

    truth = [
        {
            "feature": names(p.modality, p.index),
            "modality": p.modality,
            "log_hr": round(p.log_hr, 6),
            "signal": p.how,
        }
        for p in planted
    ] + [
        {"feature": f, "modality": m, "log_hr": hr, "signal": how}
        for f, m, hr, how in clinical_truth
    ]
    files["truth"] = data / "truth.tsv"
    files["truth"].write_bytes(_tsv_bytes(pl.DataFrame(truth), header=True))

    rel = f"data/{cohort}"
    rows = [
        {
            "cohort": cohort,
            "modality": "clinical",
            "path": f"{rel}/clinical.tsv",
            "format": "tsv",
            "id_column": "patientID",
            "endpoint": "os",
        }
    ]
    matrix = {"format": "tsv", "orientation": "features_x_samples", "id_column": "feature"}
    if n_genes:
        rows.append(
            {"modality": "expression", "path": f"{rel}/expression_counts.tsv.gz"}
            | matrix
            | {"transform": "log_cpm", "id_type": "tcga_barcode"}
        )
    if n_probes:
        rows.append(
            {"modality": "methylation", "path": f"{rel}/methylation_betas.tsv.gz"}
            | matrix
            | {"transform": "beta_to_m", "id_type": "tcga_barcode"}
        )
    if n_cnv:
        rows.append(
            {"modality": "copy_number", "path": f"{rel}/copy_number_gistic.tsv.gz"}
            | matrix
            | {"transform": "none", "id_type": "tcga_barcode"}
        )
    if n_mut:
        use_maf = mutation_format == "maf" or (mutation_format == "auto" and _has_maf_reader())
        if use_maf:
            rows.append(
                {
                    "modality": "mutation",
                    "path": f"{rel}/mutations.maf.gz",
                    "format": "maf",
                    "id_type": "tcga_barcode",
                    "options": f"samples={rel}/mutation_samples.txt",
                }
            )
        else:
            rows.append(
                {"modality": "mutation", "path": f"{rel}/mutation_gene_binary.tsv.gz"}
                | matrix
                | {"transform": "none", "id_type": "tcga_barcode"}
            )
    for row in rows:
        row["cohort"] = cohort
    result: dict[str, Any] = {
        "cohort": cohort,
        "out_dir": out,
        "files": files,
        "sheet_rows": rows,
        "modalities": modalities,
        "truth": truth,
        "n_patients": n_patients,
        "n_events": int(clinical["vital_status"].sum()),
    }
    if write_workflow_config:
        result["config"], result["sheet"] = write_config(
            out_dir=out, rows=rows, modalities=modalities
        )
    return result


def _write_segments(path: Path, segments: pl.DataFrame, samples: Sequence[str]) -> None:
    offsets = _chromosome_offsets()
    chrom = segments["chrom"].to_numpy()
    start = segments["start"].to_numpy() - offsets[chrom] + 1
    end = segments["stop"].to_numpy() - offsets[chrom]
    frame = pl.DataFrame(
        {
            "ID": np.asarray(samples, dtype=object)[segments["patient"].to_numpy()].tolist(),
            "chrom": [_CHROMOSOMES[c][0] for c in chrom],
            "loc.start": start,
            "loc.end": end,
            "num.mark": np.maximum((end - start) // 10_000, 1),
            "seg.mean": np.round(segments["value"].to_numpy(), 4),
        }
    )
    path.write_bytes(_tsv_bytes(frame, header=True, float_precision=4))


def _write_genes(path: Path, genes: _Genes) -> None:
    frame = pl.DataFrame(
        {
            "gene_id": genes.ids,
            "gene_name": genes.names,
            "gene_type": ["protein_coding"] * len(genes.names),
            "chrom": [f"chr{_CHROMOSOMES[c][0]}" for c in genes.chrom],
            "start": genes.start,
            "end": genes.end,
            "strand": genes.strand,
        }
    )
    path.write_bytes(_tsv_bytes(frame, header=True))


def _write_mutations(
    *,
    maf: Path,
    binary: Path,
    universe: _Genes,
    genes: np.ndarray,
    samples: Sequence[str],
    blocks: Iterator[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> None:
    """Write the MAF and the gene-level binary matrix of the same mutations."""
    bases = np.array(["A", "C", "G", "T"])
    names = np.array([_CHROMOSOMES[c][0] for c in range(len(_CHROMOSOMES))])
    class_names = np.array([c for c, _, _ in _CLASSES])
    class_types = np.array([t for _, _, t in _CLASSES])
    silent = np.array([c == "Silent" for c, _, _ in _CLASSES])
    sample_array = np.asarray(samples, dtype=object)
    normals = np.asarray([s[:12] + "-10A-01D-A003-09" for s in samples], dtype=object)
    maf_handle = _open_gz(maf)
    bin_handle = _open_gz(binary)
    try:
        maf_handle.write(b"#version 2.4\n")
        start = 0
        for block, (counts, classes) in enumerate(blocks):
            rows = genes[start : start + counts.shape[0]]
            gene_row, patient = np.nonzero(counts)
            repeat = counts[gene_row, patient]
            gene_row, patient = np.repeat(gene_row, repeat), np.repeat(patient, repeat)
            brng = _rng(seed, "mutation", 2_000_000 + block)
            g = rows[gene_row]
            length = universe.end[g] - universe.start[g] + 1
            position = universe.start[g] + (brng.random(g.size) * length).astype(np.int64)
            kind = class_types[classes]
            ref = bases[brng.integers(0, 4, g.size)]
            alt = bases[(np.searchsorted(bases, ref) + brng.integers(1, 4, g.size)) % 4]
            ref = np.where(kind == "INS", "-", ref)
            alt = np.where(kind == "DEL", "-", alt)
            end = np.where(kind == "INS", position + 1, position)
            frame = pl.DataFrame(
                {
                    "Hugo_Symbol": np.asarray(universe.names, dtype=object)[g].tolist(),
                    "Entrez_Gene_Id": np.zeros(g.size, dtype=np.int64),
                    "Center": ["survomics.simulate"] * g.size,
                    "NCBI_Build": ["GRCh38"] * g.size,
                    "Chromosome": ("chr" + names[universe.chrom[g]].astype(object)).tolist(),
                    "Start_Position": position,
                    "End_Position": end,
                    "Strand": ["+"] * g.size,
                    "Variant_Classification": class_names[classes].tolist(),
                    "Variant_Type": kind.tolist(),
                    "Reference_Allele": ref.tolist(),
                    "Tumor_Seq_Allele1": ref.tolist(),
                    "Tumor_Seq_Allele2": alt.tolist(),
                    "Tumor_Sample_Barcode": sample_array[patient].tolist(),
                    "Matched_Norm_Sample_Barcode": normals[patient].tolist(),
                },
                schema=dict.fromkeys(_MAF_COLUMNS, pl.String)
                | {
                    "Entrez_Gene_Id": pl.Int64,
                    "Start_Position": pl.Int64,
                    "End_Position": pl.Int64,
                },
            )
            maf_handle.write(_tsv_bytes(frame, header=start == 0))
            called = np.zeros(counts.shape, dtype=np.int64)
            np.add.at(called, (gene_row, patient), (~silent[classes]).astype(np.int64))
            values = np.minimum(called, 1)
            matrix = pl.from_numpy(values, schema=list(samples), orient="row").insert_column(
                0, pl.Series("feature", [universe.names[i] for i in rows], dtype=pl.String)
            )
            bin_handle.write(_tsv_bytes(matrix, header=start == 0))
            start += counts.shape[0]
    finally:
        _close_gz(maf_handle)
        _close_gz(bin_handle)


__all__ = ["BLOCK", "SHEET_COLUMNS", "patient_ids", "simulate_cohort", "write_config"]
