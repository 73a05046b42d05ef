"""``column_nanmedian``: the fast per-column median used in feature filtering and imputation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from survomics.model.core import column_nanmedian


@pytest.mark.parametrize("seed", range(5))
def test_equals_numpy_nanmedian_on_random_gappy_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(60):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 30))
        x = rng.standard_normal((n, m))
        if trial % 3 == 0:
            x = np.round(x, 1)  # ties
        x[rng.random((n, m)) < rng.random() * 0.6] = np.nan
        x[:, 0] = np.nan if trial % 4 == 0 else x[:, 0]  # an all-missing column
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy: all-NaN slice
            expected = np.nanmedian(x, axis=0)
        got = column_nanmedian(x)
        assert np.array_equal(got, expected, equal_nan=True), (seed, trial)


def test_even_and_odd_counts_and_edge_shapes() -> None:
    x = np.array([[1.0, 1.0, np.nan], [2.0, np.nan, np.nan], [4.0, 3.0, np.nan], [8.0, 5.0, 7.0]])
    assert column_nanmedian(x).tolist() == [3.0, 3.0, 7.0]
    assert np.isnan(column_nanmedian(np.full((3, 2), np.nan))).all()
    assert column_nanmedian(np.empty((0, 3))).shape == (3,)
    assert column_nanmedian(np.empty((4, 0))).shape == (0,)
