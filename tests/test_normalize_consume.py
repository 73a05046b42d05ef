"""normalize.apply(consume=True): same values as without, input columns dropped."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from survomics import normalize


@pytest.mark.parametrize("transform", ["beta_to_m", "log_cpm", "deseq2"])
def test_consume_gives_the_same_frame_and_empties_the_input(
    transform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    n, m = 40, 7
    values = rng.random((n, m)) if transform == "beta_to_m" else rng.poisson(50, (n, m)) + 1.0
    frame = pl.DataFrame(
        {"feature": [f"F{i}" for i in range(n)]} | {f"S{j}": values[:, j] for j in range(m)}
    )
    monkeypatch.setattr(normalize, "BLOCK_BYTES", 8 * n * 2)  # blocks of two columns
    expected = normalize.apply(frame, transform=transform, path="x")
    assert frame.width == m + 1
    consumed = frame.clone()
    got = normalize.apply(consumed, transform=transform, path="x", consume=True)
    assert got.equals(expected)
    assert consumed.columns == ["feature"]
