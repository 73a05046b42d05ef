"""Atomic output writing: an output file is whole or absent, never partial."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

_UMASK = os.umask(0)
os.umask(_UMASK)

_TEMP_SUFFIX = re.compile(r"\.[a-z0-9_]{8}\.tmp")  # tempfile.mkstemp's random part


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove temporary files of ``path`` left by a writer that was killed.

    A process killed with SIGKILL (a node failure, a controller killed by the scheduler)
    cannot remove its temporary file; the next writer of the same output (Snakemake
    runs one job per output at a time) removes it, so a rerun leaves no trace of the
    interrupted one. Only names of the exact form :func:`atomic_path` creates for
    ``path`` are removed.

    Returns
    -------
    list of Path
        The files removed.
    """
    final = Path(path)
    if not final.parent.is_dir():
        return []
    prefix = f".{final.name}"
    removed = []
    for candidate in final.parent.glob(f".{glob.escape(final.name)}.*.tmp"):
        if _TEMP_SUFFIX.fullmatch(candidate.name[len(prefix) :]):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary file lives in the same directory, so the final :func:`os.replace` is
    atomic. On any exception the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        Final destination.

    Yields
    ------
    Path
        Where the caller writes the content.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    r"""Write ``text`` (UTF-8, ``\n`` line ends) atomically to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_tsv(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as a tab-separated file atomically (nulls as empty fields)."""
    with atomic_path(path) as tmp:
        frame.write_csv(tmp, separator="\t", null_value="", line_terminator="\n")


ROW_GROUP_ROWS = 16_384
"""Rows per Parquet row group; readers that stream a matrix read blocks of this size."""


def write_parquet(
    frame: pl.DataFrame, path: str | Path, *, row_group_size: int = ROW_GROUP_ROWS
) -> None:
    """Write ``frame`` as Parquet atomically, with deterministic settings.

    Statistics, compression and row-group size are fixed so that the same frame always
    gives the same bytes. Row groups of :data:`ROW_GROUP_ROWS` rows (features, for omics
    matrices): a 60,000 x 1,000 matrix is written about twice as fast as with groups of
    2,048 rows (per-group column-chunk overhead) and no slower than with larger ones.
    zstd level 1: that matrix of counts (Float64) is written in 1.45 s instead of 2.0 s
    at level 3, and is smaller (105 MB against 122 MB); for decimals the sizes are
    within 10%.
    """
    with atomic_path(path) as tmp:
        frame.write_parquet(
            tmp,
            compression="zstd",
            compression_level=1,
            statistics=True,
            row_group_size=row_group_size,
        )
