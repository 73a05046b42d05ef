"""Ingest: the block reader of numeric matrices gives the one-block result, whatever the
block size, and finds short rows, missing tokens and NaN cells in any block."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics import ingest
from survomics.errors import InputError
from survomics.ingest import load_omics
from survomics.specs import DEFAULT_NA_VALUES, FileSpec

SAMPLES = ["S1", "S2", "S3"]


def spec_of(path: Path, **kw: object) -> FileSpec:
    base = {"cohort": "c", "modality": "rna", "path": str(path), "format": "tsv"}
    base |= {"orientation": "features_x_samples", "id_type": "patient", "id_column": "gene"}
    return FileSpec(**(base | kw))  # type: ignore[arg-type]


def matrix_lines(n: int) -> tuple[list[str], np.ndarray]:
    """Header + ``n`` rows; late rows hold ``NA``, ``NaN`` and ``[Not Available]``."""
    rng = np.random.default_rng(3)
    values = np.round(rng.random((n, 3)), 4)
    lines = ["gene\t" + "\t".join(SAMPLES)]
    for i in range(n):
        cells = [f"{v}" for v in values[i]]
        if i == n - 5:
            cells[0], values[i, 0] = "NA", np.nan
        if i == n - 3:
            cells[2], values[i, 2] = "NaN", np.nan
        if i == n - 2:
            cells[1], values[i, 1] = "[Not Available]", np.nan
        lines.append(f"G{i}\t" + "\t".join(cells))
    return lines, values


def load(path: Path, **kw: object) -> pl.DataFrame:
    frame, _ = load_omics(spec_of(path, **kw), patients=SAMPLES, excluded_patients={})
    return frame


@pytest.mark.parametrize("block_bytes", [40, 1000, 2**30])
def test_blocks_give_the_values_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    lines, values = matrix_lines(300)
    lines.insert(100, "")  # blank lines, also next to each other, are dropped
    lines.insert(200, "")
    lines.insert(200, "")
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr(ingest, "READ_BLOCK_BYTES", block_bytes)
    frame = load(path)
    assert frame["feature"].to_list() == [f"G{i}" for i in range(300)]
    got = frame.select(SAMPLES).to_numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(values))
    np.testing.assert_array_equal(got[~np.isnan(got)], values[~np.isnan(values)])
    # missing cells are null (not NaN) in the Parquet contract, the NaN token included
    assert frame.select(pl.col(SAMPLES).is_nan().any()).row(0) == (False, False, False)
    assert frame.select(pl.col(SAMPLES).null_count()).row(0) == (1, 1, 1)


@pytest.mark.parametrize("block_bytes", [40, 2**30])
def test_short_row_in_a_late_block_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    lines, _ = matrix_lines(200)
    lines[150] = "G149\t0.5\t0.25"  # one field short: polars would pad it with null
    path = tmp_path / "m.tsv"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(ingest, "READ_BLOCK_BYTES", block_bytes)
    with pytest.raises(InputError) as exc:
        load(path)
    assert "row has 3 fields but the header has 4" in str(exc.value)
    assert f"{path}:151" in str(exc.value)


def test_numeric_missing_token_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _ = matrix_lines(50)
    lines[40] = "G39\t-999\t0.5\t0.5"
    path = tmp_path / "m.tsv"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(ingest, "READ_BLOCK_BYTES", 64)
    frame = load(path, na_values=(*DEFAULT_NA_VALUES, "-999"))
    assert frame.row(39, named=True) == {"feature": "G39", "S1": None, "S2": 0.5, "S3": 0.5}
    plain = load(path)
    assert plain.row(39, named=True)["S1"] == -999.0


def test_missing_token_as_feature_id_is_a_missing_id(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_text("gene\tS1\tS2\tS3\nG1\t1\t2\t3\nNA\t4\t5\t6\n")
    frame, records = load_omics(spec_of(path), patients=SAMPLES, excluded_patients={})
    assert frame["feature"].to_list() == ["G1"]
    assert [(r.line, r.reason) for r in records] == [(3, "missing_feature_id")]


def test_blocks_come_in_order_and_the_reader_thread_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    lines, _ = matrix_lines(400)
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr(ingest, "READ_BLOCK_BYTES", 64)
    blocks = list(ingest._blocks_of_lines(path, skip=0))
    assert len(blocks) > 50
    assert b"".join(blocks).decode().splitlines() == lines[1:]
    # a consumer that stops after two blocks leaves no reader thread behind
    gen = ingest._blocks_of_lines(path, skip=0)
    assert next(gen) + next(gen) == b"".join(blocks[:2])
    gen.close()
    assert not [t for t in threading.enumerate() if t.name == "survomics-inflate"]


def test_a_truncated_gzip_is_an_input_error_through_the_reader_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, _ = matrix_lines(3000)
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ingest, "READ_BLOCK_BYTES", 1000)
    with pytest.raises(InputError) as exc:
        load(path)
    assert str(path) in str(exc.value)
