"""Atomic writing: whole or absent outputs, and no trace of a killed writer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl
import pytest

from survomics.io import atomic_path, remove_stale_temporaries, write_tsv


def _stale(path: Path) -> Path:
    """A temporary file exactly as a killed :func:`atomic_path` writer leaves it."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    Path(name).write_text("partial")
    return Path(name)


def _fail_while_writing(target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text("half")
        msg = "interrupted"
        raise RuntimeError(msg)


def test_a_failed_writer_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="interrupted"):
        _fail_while_writing(tmp_path / "out.tsv")
    assert list(tmp_path.iterdir()) == []


def test_the_next_writer_removes_a_killed_writers_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.tsv"
    stale = _stale(target)
    other_output = _stale(tmp_path / "a.tsv.gz")  # another output's writer: kept
    unrelated = tmp_path / ".a.tsv.notes.tmp"
    unrelated.write_text("not ours")
    write_tsv(pl.DataFrame({"x": [1]}), target)
    assert not stale.exists()
    assert other_output.exists()
    assert unrelated.exists()
    assert target.read_text() == "x\n1\n"
    assert remove_stale_temporaries(tmp_path / "a.tsv.gz") == [other_output]
    assert remove_stale_temporaries(tmp_path / "missing" / "b.tsv") == []


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    """Shared results on a cluster: group and others may read (umask applies)."""
    target = tmp_path / "shared.tsv"
    write_tsv(pl.DataFrame({"x": [1]}), target)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
