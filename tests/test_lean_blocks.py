"""Memory-lean modelling data: shared frames, block-wise feature filters, batched reads."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from survomics.model.core import (
    CohortData,
    ModalityBlock,
    ModalitySettings,
    _Notes,
    filter_columns,
    float_values,
    gather,
    read_matrix,
)


def reference_filter(
    x: np.ndarray, *, max_missing: float, top_k: int | None, variability: str
) -> np.ndarray:
    """Steps 1-2 of a block on the whole matrix at once, with NumPy's own reductions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        missing = np.isnan(x).mean(axis=0)
        keep = np.flatnonzero((missing <= max_missing) & (np.nanmax(x, 0) > np.nanmin(x, 0)))
        if top_k is None or keep.size <= top_k:
            return keep
        kept = x[:, keep]
        if variability == "mad":
            spread = np.nanmedian(np.abs(kept - np.nanmedian(kept, axis=0)), axis=0)
        else:
            spread = np.nanvar(kept, axis=0)
    return keep[np.sort(np.argsort(-spread, kind="stable")[:top_k])]


def gappy(seed: int, n: int = 60, m: int = 45) -> np.ndarray:
    """Random columns of varied spread with gaps, and the awkward columns a cohort has."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, m)) * rng.gamma(1.5, size=m)
    x[rng.random((n, m)) < 0.1] = np.nan
    x[:, 0] = np.nan  # never measured
    x[:, 1] = 0.1  # constant (np.nanstd gives 1.4e-17 here)
    x[: n // 2, 2] = np.nan  # missing in half
    x[:, 3] = np.nan
    x[5, 3] = 2.0  # one value
    x[:, 4] = np.round(x[:, 4])  # tied values, equal MADs
    x[:, 5] = x[:, 4]
    return x


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("chunk", [1, 7, 2048])
@pytest.mark.parametrize("variability", ["mad", "variance"])
def test_block_filter_equals_the_whole_matrix_computation(
    seed: int, chunk: int, variability: str
) -> None:
    x = gappy(seed)
    rows = np.random.default_rng(seed + 10).permutation(x.shape[0])[:50]
    for top_k in (None, 5, 30, 1000):
        got = filter_columns(
            x, rows, max_missing=0.2, top_k=top_k, variability=variability, chunk=chunk
        )
        want = reference_filter(x[rows], max_missing=0.2, top_k=top_k, variability=variability)
        assert got.tolist() == want.tolist()
    assert filter_columns(x, rows[:0], max_missing=0.2, top_k=5, variability="mad").size == 0


def test_constant_columns_are_dropped_even_where_the_standard_deviation_rounds_above_zero() -> None:
    x = np.column_stack([np.full(7, 0.1), np.arange(7.0)])
    assert np.nanstd(x[:, 0]) > 0  # the rounding that used to keep it
    kept = filter_columns(x, np.arange(7), max_missing=0.2, top_k=None, variability="mad")
    assert kept.tolist() == [1]


def test_gather_marks_absent_rows_and_columns_missing() -> None:
    values = np.arange(12.0).reshape(3, 4)
    got = gather(values, np.array([2, -1, 0]), np.array([3, -1, 1]), order="F")
    assert got.flags["F_CONTIGUOUS"]
    np.testing.assert_array_equal(
        got, [[11.0, np.nan, 9.0], [np.nan, np.nan, np.nan], [3.0, np.nan, 1.0]]
    )


def cohort(seed: int = 0, n: int = 80, m: int = 300) -> CohortData:
    rng = np.random.default_rng(seed)
    patients = tuple(f"P{i:03d}" for i in range(n))
    x = rng.normal(size=(n, m)) * rng.gamma(2.0, size=m)
    x[rng.random((n, m)) < 0.05] = np.nan
    frame = pd.DataFrame(x, index=pd.Index(patients), columns=[f"f{j}" for j in range(m)])
    frame = frame.loc[rng.random(n) > 0.15]  # some patients lack the modality
    time = rng.exponential(500, n).round() + 1
    event = (rng.random(n) < 0.6).astype(float)
    clinical = pd.DataFrame(index=pd.Index(patients))
    return CohortData(patients, time, event, clinical, {"a": frame})


def fitted(data: CohortData) -> ModalityBlock:
    settings = ModalitySettings(top_k=60, select_top_k=10)
    return ModalityBlock("a", settings).fit(
        data, seed=1, l1_ratio=0.5, inner_folds=3, notes=_Notes()
    )


def test_subsets_share_the_cohort_frames_and_ignore_other_patients_rows() -> None:
    data = cohort()
    train = list(data.patients[::2])
    sub = data.subset(train)
    assert np.shares_memory(float_values(sub.omics["a"]), float_values(data.omics["a"]))
    assert sub.has_modality("a").tolist() == [p in data.omics["a"].index for p in train]
    # The same block from frames holding the training patients only (copies).
    frame = data.omics["a"]
    alone = CohortData(
        sub.patients, sub.time, sub.event, sub.clinical, {"a": frame.loc[frame.index.isin(train)]}
    )
    shared, copied = fitted(sub), fitted(alone)
    assert shared.features_ == copied.features_
    assert shared.selected_ == copied.selected_
    for attr in ("medians_", "means_", "scales_"):
        np.testing.assert_array_equal(getattr(shared, attr), getattr(copied, attr))
    test = data.subset(list(data.patients[1::2]))
    z_shared, has_shared = shared.transform(test)
    z_copied, has_copied = copied.transform(test)
    np.testing.assert_array_equal(z_shared, z_copied)
    np.testing.assert_array_equal(has_shared, has_copied)
    assert (z_shared[~has_shared] == 0).all()
    # The fit never reads a patient outside the subset: changing them changes nothing.
    changed = frame.copy()
    changed.loc[~changed.index.isin(train)] = 1e6
    other = CohortData(sub.patients, sub.time, sub.event, sub.clinical, {"a": changed})
    assert fitted(other).selected_ == shared.selected_


def test_matrix_is_read_in_batches_with_the_same_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ids = [f"P{i:02d}" for i in range(23)]
    x = rng.normal(size=(11, 23))
    frame = pl.DataFrame({"feature": [f"g{j}" for j in range(11)]}).with_columns(
        pl.Series(p, x[:, i]) for i, p in enumerate(ids)
    )
    frame = frame.with_columns(
        pl.when(pl.col("feature") == "g3").then(None).otherwise(pl.col("P04")).alias("P04"),
        pl.col("P05").cast(pl.Float32),
        pl.col("P06").round().cast(pl.Int64),
    )
    path = tmp_path / "m.parquet"
    frame.write_parquet(path)
    wanted = ids[::-1][:19]
    whole = frame.select(pl.col(wanted).cast(pl.Float64)).to_numpy().T
    for batch in (1, 4, 256):
        got = read_matrix(path, wanted, n_features=11, batch=batch)
        np.testing.assert_array_equal(got, whole)
    assert np.isnan(got[wanted.index("P04"), 3])
