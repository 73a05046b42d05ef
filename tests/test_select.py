"""survomics.model.select.stability_selection: planted signal, determinism, validation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.util import Surv

from survomics.model.select import STABILITY_COLUMNS, default_alpha, stability_selection

PLANTED = (10, 50, 90)


@pytest.fixture(scope="module")
def planted() -> dict:
    """200 patients, 100 noise + 3 strong features, Cox times with hazard exp(x beta)."""
    rng = np.random.default_rng(0)
    n, p = 200, 103
    x = rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[list(PLANTED)] = [1.0, -1.0, 1.0]
    true_time = rng.exponential(np.exp(-x @ beta))
    censoring = rng.exponential(2.0, size=n)
    time = np.minimum(true_time, censoring)
    event = (true_time <= censoring).astype(np.int64)
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    return {"x": x, "time": time, "event": event, "names": [f"g{j:03d}" for j in range(p)]}


def _run(data: dict, **options: object) -> pl.DataFrame:
    kwargs = {"feature_names": data["names"], "seed": 1, **options}
    return stability_selection(data["x"], data["time"], data["event"], **kwargs)  # type: ignore[arg-type]


def test_planted_features_are_stable(planted: dict) -> None:
    out = _run(planted)
    assert out.columns == list(STABILITY_COLUMNS)
    assert out["feature"].to_list() == planted["names"]
    frequency = out["frequency"].to_numpy()
    assert (frequency[list(PLANTED)] >= 0.8).all()
    noise = np.delete(frequency, PLANTED)
    assert (noise < 0.5).mean() >= 0.9
    assert np.median(noise) <= 0.3
    selected = set(out.filter(pl.col("selected"))["feature"].to_list())
    assert {planted["names"][j] for j in PLANTED} <= selected
    assert len(selected) <= 3 + 10
    # Frequencies are counts out of the 50 subsamples; selected is frequency >= 0.6.
    np.testing.assert_allclose(frequency * 50, np.round(frequency * 50), rtol=0, atol=1e-9)
    assert out["selected"].to_list() == (frequency >= 0.6).tolist()


def test_same_seed_same_frame_other_seed_other_draws(planted: dict) -> None:
    first = _run(planted, n_subsamples=20)
    assert first.equals(_run(planted, n_subsamples=20))
    other = _run(planted, n_subsamples=20, seed=2)
    assert not np.array_equal(first["frequency"].to_numpy(), other["frequency"].to_numpy())


def test_one_subsample_is_a_stratified_half_sample(planted: dict) -> None:
    # Rebuild the documented draw: events then censored, each half (rounded half up),
    # without replacement, from default_rng(seed); the Coxnet fit on it gives the pattern.
    x, t, e = planted["x"], planted["time"], planted["event"]
    alpha = default_alpha(x, t, e)
    out = _run(planted, n_subsamples=1, alpha=alpha, seed=7)
    rng = np.random.default_rng(7)
    with_event, censored = np.flatnonzero(e == 1), np.flatnonzero(e == 0)
    rows = np.sort(
        np.r_[
            rng.choice(with_event, math.floor(with_event.size / 2 + 0.5), replace=False),
            rng.choice(censored, math.floor(censored.size / 2 + 0.5), replace=False),
        ]
    )
    model = CoxnetSurvivalAnalysis(l1_ratio=0.5, alphas=[alpha], normalize=False)
    model.fit(x[rows], Surv.from_arrays(e[rows] == 1, t[rows]))
    expected = (model.coef_[:, 0] != 0).astype(float)
    np.testing.assert_array_equal(out["frequency"].to_numpy(), expected)


def test_default_alpha_reaches_sqrt_p_features(planted: dict) -> None:
    x, t, e = planted["x"], planted["time"], planted["event"]
    alpha = default_alpha(x, t, e)
    path = CoxnetSurvivalAnalysis(l1_ratio=0.5, normalize=False).fit(x, Surv.from_arrays(e == 1, t))
    target = math.ceil(math.sqrt(x.shape[1]))
    k = int(np.flatnonzero(path.alphas_ == alpha)[0])
    assert (path.coef_[:, k] != 0).sum() >= target
    assert (path.coef_[:, k - 1] != 0).sum() < target  # the larger penalty before it


def test_large_alpha_selects_nothing_without_warning(planted: dict) -> None:
    out = _run(planted, n_subsamples=3, alpha=10.0)
    assert (out["frequency"] == 0).all()
    assert not out["selected"].any()


def test_input_order_is_kept(planted: dict) -> None:
    order = np.random.default_rng(3).permutation(len(planted["names"]))
    shuffled = {
        **planted,
        "x": planted["x"][:, order],
        "names": [planted["names"][j] for j in order],
    }
    out = _run(shuffled, n_subsamples=5)
    assert out["feature"].to_list() == shuffled["names"]
    # Coordinate descent visits the features in column order, so a permuted matrix may
    # differ in the last digits of a coefficient but not in which are clearly non-zero.
    reference = _run(planted, n_subsamples=5).select("feature", "frequency")
    joined = out.join(reference, on="feature", suffix="_ref")
    assert (joined["frequency"] - joined["frequency_ref"]).abs().max() <= 0.2


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"nan": True}, "column 'g007'"),
        ({"names": ["a", "b"]}, "2 names for 103 columns"),
        ({"names": ["same"] * 103}, "unique"),
        ({"event": np.zeros(200)}, "no events"),
        ({"event": np.full(200, 2)}, "0/1"),
        ({"time": np.ones(5)}, "one value per row"),
        ({"fraction": 1.0}, "fraction"),
        ({"threshold": 1.5}, "threshold"),
        ({"alpha": 0.0}, "alpha"),
        ({"l1_ratio": 0.0}, "l1_ratio"),
        ({"n_subsamples": 0}, "n_subsamples"),
    ],
)
def test_rejects_malformed_input(planted: dict, change: dict, match: str) -> None:
    x = planted["x"].copy()
    if change.pop("nan", False):
        x[4, 7] = np.nan
    kwargs = {
        "feature_names": change.pop("names", planted["names"]),
        "seed": 0,
        "n_subsamples": 2,
        **{k: v for k, v in change.items() if k not in {"event", "time"}},
    }
    with pytest.raises(ValueError, match=match):
        stability_selection(
            x,
            change.get("time", planted["time"]),
            change.get("event", planted["event"]),
            **kwargs,  # type: ignore[arg-type]
        )
