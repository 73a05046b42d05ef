"""The time grid of random survival forests (``modelling.rsf.time_points``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survomics.model.core import CohortData, ModalitySettings, ModelSpec, run_fold, time_grid
from survomics.model.evaluate import harrell_c


def follow_up(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    lp = 0.9 * x[:, 0] - 0.6 * x[:, 1]
    t_event = rng.exponential(900 * np.exp(-lp))
    t_censor = rng.exponential(1500, n)
    time = np.ceil(np.minimum(t_event, t_censor))
    return x, time, (t_event <= t_censor).astype(float)


def test_times_move_up_to_a_grid_of_event_times() -> None:
    _, time, event = follow_up(500, 0)
    events = np.unique(time[event > 0])
    assert events.size > 100
    moved = time_grid(time, event, points=40)
    grid = np.unique(moved)
    assert grid.size <= 40
    assert set(grid) <= set(events)
    assert {events[0], events[-1]} <= set(grid)
    inside = time <= events[-1]
    assert (moved[inside] >= time[inside]).all()  # an event counts at the end of its interval
    assert (moved[~inside] == events[-1]).all()
    # The next grid time at or after each time: no grid time lies in between.
    between = (grid[None, :] >= time[inside, None]) & (grid[None, :] < moved[inside, None])
    assert not between.any()
    order = np.argsort(time, kind="stable")
    assert (np.diff(moved[order]) >= 0).all()  # the order of the times is kept


@pytest.mark.parametrize("points", [None, 10_000])
def test_few_event_times_or_no_grid_leave_the_times_unchanged(points: int | None) -> None:
    _, time, event = follow_up(300, 1)
    np.testing.assert_array_equal(time_grid(time, event, points=points), time)


def data_of(x: np.ndarray, time: np.ndarray, event: np.ndarray) -> CohortData:
    patients = tuple(f"P{i:04d}" for i in range(time.size))
    frame = pd.DataFrame(x, index=pd.Index(patients), columns=[f"g{j}" for j in range(x.shape[1])])
    return CohortData(patients, time, event, pd.DataFrame(index=pd.Index(patients)), {"a": frame})


def test_a_forest_on_the_grid_ranks_held_out_patients_as_well() -> None:
    x, time, event = follow_up(700, 2)
    data = data_of(x, time, event)
    train, test = list(data.patients[:500]), list(data.patients[500:])
    assert np.unique(time[:500][event[:500] > 0]).size > 200
    c = {}
    for points in (None, 30):
        spec = ModelSpec(
            name="forest",
            kind="rsf",
            modalities=("a",),
            settings={"a": ModalitySettings(top_k=None, selection="none")},
            rsf_trees=60,
            rsf_time_points=points,
        )
        fold = run_fold(spec, data, train=train, test=test, times=np.array([300.0]), seed=3)
        c[points] = harrell_c(time=time[500:], event=event[500:], risk=fold.predictions["risk"])
        survival = fold.predictions["s_300"].to_numpy()
        assert ((survival >= 0) & (survival <= 1)).all()
    assert c[None] > 0.65
    assert abs(c[30] - c[None]) < 0.03
