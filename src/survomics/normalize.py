"""Per-modality value transforms that need more than one value at a time.

``beta_to_m``
    Methylation beta values (0..1) to M-values, ``log2(beta / (1 - beta))`` (Du et al.
    2010). Betas are clipped to ``[BETA_EPSILON, 1 - BETA_EPSILON]`` first, so 0 and 1
    stay finite: with ``BETA_EPSILON = 1e-6`` every M-value lies in about ``±19.93``.
    The transform is strictly increasing on ``(BETA_EPSILON, 1 - BETA_EPSILON)`` and maps
    0.5 to 0.
``log_cpm``
    Raw counts to log2 counts per million, exactly edgeR's
    ``cpm(y, lib.size = colSums(y), log = TRUE, prior.count = 0.5)`` (edgeR's
    ``addPriorCount``, without TMM normalisation factors): for a sample with library
    size ``L`` (its column sum) and ``Lbar`` the mean library size of the cohort,
    ``p = 0.5 * L / Lbar`` and ``logCPM = log2((count + p) / (L + 2 p) * 1e6)``. The
    prior is scaled by library size so that a zero count gives the same logCPM in a
    deep and in a shallow sample.
``deseq2``
    Raw counts to ``log2(1 + count / s)`` with DESeq2's median-of-ratios size factor
    ``s`` of each sample (Anders & Huber 2010; ``estimateSizeFactorsForMatrix``): the
    reference of a gene is the geometric mean of its counts over the samples, computed
    on the genes with a positive count in *every* sample; ``s`` is the median over these
    genes of ``count / reference``, taken on the log scale as DESeq2 and pydeseq2 do
    (``s = exp(median(log count - mean log count))``). No gene without a zero means no
    size factor: an :class:`~survomics.errors.InputError` says what to do.

Missing values (null or NaN) are allowed: they stay missing (null) in the output. For
``log_cpm`` a sample's library size is the sum of its present counts; for ``deseq2`` a
gene with a missing value in any sample is left out of the size-factor reference, as a
gene with a zero is. ``log_cpm`` and ``deseq2`` take raw counts: a negative or
non-integer value stops the run (expected counts such as RSEM's must be rounded first,
or read with another transform), so that an already normalised matrix is not
normalised twice by mistake.

Memory
    The matrix is never copied whole: the sample columns are processed in blocks of
    about :data:`BLOCK_BYTES` (a float64 NumPy block computed in place), each output
    column becomes a polars Series, and the output frame is assembled from those
    Series without a further copy. Peak memory is therefore the input frame (held by
    the caller) + the output frame + one block — about twice the matrix — unless the
    caller lets :func:`apply` consume its input (``consume=True``, what
    :func:`survomics.ingest.load_omics` does): each block of input columns is dropped
    once copied, so the peak is one matrix + one block (measured for 485,000 x 2,000
    in ``bench/results/methylation.txt``). Measured without ``consume``: the
    peak RSS of the whole process for 485,000 probes x 200 samples (0.78 GB per float64
    copy; input frame included): 1.69 GB for ``beta_to_m`` (5.6 s), 1.65 GB for
    ``log_cpm`` (4.1 s), 1.81 GB for ``deseq2`` (16.8 s, the per-sample medians),
    2 cores; i.e. about 16 GB for 485,000 x 2,000 (7.8 GB per copy). Values stay
    float64: the Parquet contract is Float64, and a float32 pass would only save the
    block (a few tens of MB). ``log_cpm`` and ``deseq2`` make two
    passes over the blocks (statistics, then values), ``beta_to_m`` one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from survomics.errors import InputError

TRANSFORMS = frozenset({"beta_to_m", "log_cpm", "deseq2"})
"""Transforms implemented here (the others are element-wise, in :mod:`survomics.ingest`)."""

BETA_EPSILON = 1e-6
"""Betas are clipped to ``[BETA_EPSILON, 1 - BETA_EPSILON]`` before the logit."""

LOG_CPM_PRIOR_COUNT = 0.5
"""edgeR's ``prior.count`` of :func:`log_cpm` (scaled by each sample's library size)."""

BLOCK_BYTES = 64 * 2**20
"""Target size of one block of sample columns processed at a time (float64)."""

_INTEGER_TOLERANCE = 1e-6


def _blocks(
    frame: pl.DataFrame, samples: list[str], *, consume: bool = False
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Writable float64 Fortran-ordered blocks of sample columns (missing -> NaN).

    With ``consume``, the block's columns are dropped from ``frame`` (in place) once
    copied, so that their memory can be freed before the next block.
    """
    width = max(1, BLOCK_BYTES // max(1, 8 * frame.height))
    for start in range(0, len(samples), width):
        names = samples[start : start + width]
        block = frame.select(names).to_numpy(order="fortran", writable=True)
        if consume:
            for name in names:
                frame.drop_in_place(name)
        yield names, np.asarray(block, dtype=np.float64, order="F")


def _raise_bad(
    frame: pl.DataFrame,
    names: list[str],
    block: np.ndarray,
    bad: np.ndarray,
    *,
    path: str,
    what: str,
) -> None:
    """Raise an InputError naming the first bad cell of a block (column-major order)."""
    col = int(np.nonzero(bad.any(axis=0))[0][0])
    row = int(np.nonzero(bad[:, col])[0][0])
    feature = frame["feature"][row] if "feature" in frame.columns else row + 1
    raise InputError(
        path,
        f"value {block[row, col]} of feature '{feature}' is not {what}",
        fix="check the file, or choose another `transform` in the cohort sheet"
        + ("" if what.startswith("a beta") else " (round expected counts such as RSEM's first)"),
        column=names[col],
    )


def _check_counts(frame: pl.DataFrame, names: list[str], block: np.ndarray, *, path: str) -> None:
    with np.errstate(invalid="ignore"):
        bad = (block < 0) | (np.abs(block - np.round(block)) >= _INTEGER_TOLERANCE)
    bad &= ~np.isnan(block)
    if bad.any():
        _raise_bad(frame, names, block, bad, path=path, what="a raw count (integer >= 0)")


def beta_to_m(values: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """M-values of a beta matrix (NaN stays NaN); ``out=values`` works in place."""
    result = np.clip(values, BETA_EPSILON, 1.0 - BETA_EPSILON, out=out)
    odds = np.subtract(1.0, result)
    np.divide(result, odds, out=result)
    return np.log2(result, out=result)


def log_cpm(
    counts: np.ndarray,
    *,
    prior_count: float = LOG_CPM_PRIOR_COUNT,
    lib_sizes: np.ndarray | None = None,
    mean_lib_size: float | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """log2 counts per million, edgeR style (prior scaled by library size).

    Parameters
    ----------
    counts
        Features x samples counts (NaN = missing).
    prior_count
        edgeR's ``prior.count``.
    lib_sizes
        Library size of each column (default: its sum, NaN ignored).
    mean_lib_size
        Mean library size of the whole cohort (default: the mean of ``lib_sizes``), so
        that a block of columns is transformed as the whole matrix would be.
    out
        Output array (may be ``counts`` itself).
    """
    libs = np.nansum(counts, axis=0) if lib_sizes is None else lib_sizes
    mean = float(np.mean(libs)) if mean_lib_size is None else mean_lib_size
    prior = prior_count * libs / mean
    result = np.add(counts, prior, out=out)
    np.divide(result, (libs + 2.0 * prior) / 1e6, out=result)
    return np.log2(result, out=result)


def size_factors(counts: np.ndarray) -> np.ndarray:
    """DESeq2 median-of-ratios size factors of a features x samples count matrix.

    Raises
    ------
    ValueError
        No feature has a positive count in every sample.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(counts)
    usable = np.all(counts > 0, axis=1)
    if not usable.any():
        msg = "no feature has a positive count in every sample"
        raise ValueError(msg)
    kept = logs[usable]
    return np.exp(np.median(kept - kept.mean(axis=1, keepdims=True), axis=0))


def _beta_to_m(
    frame: pl.DataFrame, samples: list[str], *, path: str, consume: bool
) -> list[pl.Series]:
    columns: list[pl.Series] = []
    for names, block in _blocks(frame, samples, consume=consume):
        with np.errstate(invalid="ignore"):
            bad = ((block < 0) | (block > 1)) & ~np.isnan(block)
        if bad.any():
            _raise_bad(frame, names, block, bad, path=path, what="a beta in 0..1")
        beta_to_m(block, out=block)
        columns += [pl.Series(n, block[:, j], nan_to_null=True) for j, n in enumerate(names)]
    return columns


def _log_cpm(
    frame: pl.DataFrame, samples: list[str], *, path: str, consume: bool
) -> list[pl.Series]:
    libs: list[np.ndarray] = []
    for names, block in _blocks(frame, samples):
        _check_counts(frame, names, block, path=path)
        libs.append(np.nansum(block, axis=0))
    lib_sizes = np.concatenate(libs) if libs else np.zeros(0)
    empty = np.nonzero(lib_sizes <= 0)[0]
    if empty.size:
        raise InputError(
            path,
            "the sample has no counts (library size 0): counts per million are undefined",
            fix="remove the sample from the file, or check that it holds raw counts",
            column=samples[int(empty[0])],
        )
    mean = float(lib_sizes.mean()) if lib_sizes.size else 1.0
    columns: list[pl.Series] = []
    start = 0
    for names, block in _blocks(frame, samples, consume=consume):
        libs_block = lib_sizes[start : start + len(names)]
        start += len(names)
        log_cpm(block, lib_sizes=libs_block, mean_lib_size=mean, out=block)
        columns += [pl.Series(n, block[:, j], nan_to_null=True) for j, n in enumerate(names)]
    return columns


def _deseq2(
    frame: pl.DataFrame, samples: list[str], *, path: str, consume: bool
) -> list[pl.Series]:
    log_sum = np.zeros(frame.height)
    usable = np.ones(frame.height, dtype=bool)
    for names, block in _blocks(frame, samples):
        _check_counts(frame, names, block, path=path)
        usable &= np.all(block > 0, axis=1)  # NaN > 0 is False: a missing value excludes
        with np.errstate(divide="ignore", invalid="ignore"):
            log_sum += np.log(block).sum(axis=1)
    if not usable.any():
        raise InputError(
            path,
            f"no feature has a positive count in all {len(samples)} samples, so DESeq2 "
            "median-of-ratios size factors are undefined",
            fix="remove samples with very few counts (or a missing column) from the file, "
            "or use `transform: log_cpm` in the cohort sheet",
        )
    log_reference = log_sum[usable] / len(samples)
    columns: list[pl.Series] = []
    for names, block in _blocks(frame, samples, consume=consume):
        ratios = np.log(block[usable]) - log_reference[:, None]
        factors = np.exp(np.median(ratios, axis=0))
        np.divide(block, factors, out=block)
        np.log2(np.add(block, 1.0, out=block), out=block)
        columns += [pl.Series(n, block[:, j], nan_to_null=True) for j, n in enumerate(names)]
    return columns


def apply(frame: pl.DataFrame, *, transform: str, path: str, consume: bool = False) -> pl.DataFrame:
    """Apply one of :data:`TRANSFORMS` to a ``feature`` + samples frame.

    Parameters
    ----------
    frame
        ``feature`` + one Float64 column per patient (missing values null or NaN).
    transform
        One of :data:`TRANSFORMS`.
    path
        The input file, for messages.
    consume
        Drop each sample column from ``frame`` (in place) once its block is copied, so
        that the input's memory is freed as the output grows: peak memory is then one
        matrix + one block instead of two matrices, provided that the caller holds no
        other reference to the columns. ``frame`` keeps only ``feature`` afterwards
        (when a value outside the domain raises, the columns already copied).

    Returns
    -------
    polars.DataFrame
        ``feature`` + the transformed Float64 columns in the same order (missing
        values null).

    Raises
    ------
    InputError
        A value outside the transform's domain (betas outside 0..1, negative or
        non-integer counts), a sample without counts (``log_cpm``), or no feature
        without a zero (``deseq2``).
    """
    samples = [c for c in frame.columns if c != "feature"]
    if transform == "beta_to_m":
        columns = _beta_to_m(frame, samples, path=path, consume=consume)
    elif transform == "log_cpm":
        columns = _log_cpm(frame, samples, path=path, consume=consume)
    elif transform == "deseq2":
        columns = _deseq2(frame, samples, path=path, consume=consume)
    else:
        msg = f"unknown transform {transform!r}; expected one of {sorted(TRANSFORMS)}"
        raise ValueError(msg)
    return pl.DataFrame([frame["feature"], *columns])


__all__ = [
    "BETA_EPSILON",
    "BLOCK_BYTES",
    "LOG_CPM_PRIOR_COUNT",
    "TRANSFORMS",
    "apply",
    "beta_to_m",
    "log_cpm",
    "size_factors",
]
