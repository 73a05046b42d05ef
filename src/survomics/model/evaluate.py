"""Out-of-fold evaluation of survival models: discrimination, calibration, risk groups.

The metrics are computed by libraries; this module validates the inputs, decides when a
metric is undefined and assembles the results (the only arithmetic written here is the
size-weighted mean of :func:`calibration_error`).

Which library computes what
---------------------------
* Harrell's C: :func:`sksurv.metrics.concordance_index_censored`.
* Uno's C: :func:`sksurv.metrics.concordance_index_ipcw`.
* Time-dependent (cumulative/dynamic) AUC and its survival-weighted mean:
  :func:`sksurv.metrics.cumulative_dynamic_auc`.
* Integrated Brier score: :func:`sksurv.metrics.integrated_brier_score`.
* Observed survival per calibration group: :func:`survomics.km.kaplan_meier`.
* Log-rank test of the risk groups: :func:`survomics.km.logrank_test`.

Conventions
-----------
* ``risk``: higher = higher risk (a Cox linear predictor). ``survival``: predicted
  S(t) on a time grid, one row per patient.
* Risk scores are compared exactly (``tied_tol=0`` in scikit-survival, as R
  ``survival::concordance``); exactly tied scores count one half in the C indices.
* The IPCW metrics (Uno's C, AUC, Brier) estimate the censoring distribution by the
  Kaplan-Meier estimate of ``train_time``/``train_event`` (scikit-survival's
  ``CensoringDistributionEstimator``).

Undefined values
----------------
Malformed input (wrong shapes, missing or infinite values, events other than 0/1,
unsorted time grids) raises :class:`ValueError`. Degenerate but well-formed data gives
``nan`` and never raises: no event, no comparable pair, a horizon outside the follow-up
of the evaluated patients, evaluated follow-up beyond the training follow-up (the
censoring distribution is unknown there), a censoring distribution that is zero where a
weight is needed, fewer than two risk groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import CensoringDistributionEstimator
from sksurv.util import Surv

from survomics.km import kaplan_meier, logrank_test

__all__ = [
    "CALIBRATION_COLUMNS",
    "SUMMARY_COLUMNS",
    "calibration",
    "calibration_error",
    "evaluate_repeat",
    "harrell_c",
    "integrated_brier",
    "risk_group_logrank",
    "risk_groups",
    "summarise",
    "time_dependent_auc",
    "uno_c",
]

CALIBRATION_COLUMNS: tuple[str, ...] = (
    "group",
    "n",
    "events",
    "predicted",
    "observed",
    "lower_95",
    "upper_95",
)
"""Columns of :func:`calibration`, in order."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "model",
    "metric",
    "n_repeats",
    "mean",
    "lower",
    "upper",
    "values",
)
"""Columns of :func:`summarise`, in order."""

NAN = float("nan")


# ---------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------


def _survival(
    time: ArrayLike, event: ArrayLike, *, what: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``time`` (finite, >= 0) and ``event`` (0/1); return float64 and bool arrays."""
    prefix = f"{what}_" if what else ""
    t = np.asarray(time, dtype=np.float64)
    e_raw = np.asarray(event)
    if t.ndim != 1 or t.size == 0:
        msg = f"{prefix}time must be a non-empty 1-D array, got shape {t.shape}"
        raise ValueError(msg)
    if e_raw.shape != t.shape:
        msg = f"{prefix}event has shape {e_raw.shape}, expected {t.shape} (one per {prefix}time)"
        raise ValueError(msg)
    if not np.isfinite(t).all() or (t < 0).any():
        msg = f"{prefix}time must be finite and non-negative"
        raise ValueError(msg)
    msg = f"{prefix}event must be 0/1 (or boolean) without missing values"
    try:
        e_float = e_raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(msg) from exc
    if not np.isin(e_float, (0.0, 1.0)).all():
        raise ValueError(msg)
    return t, e_float.astype(bool)


def _risk(risk: ArrayLike, n: int) -> np.ndarray:
    """Validate a finite 1-D risk score with one value per patient."""
    r = np.asarray(risk, dtype=np.float64)
    if r.shape != (n,):
        msg = f"risk has shape {r.shape}, expected ({n},) (one per patient)"
        raise ValueError(msg)
    if not np.isfinite(r).all():
        msg = "risk has missing or infinite values"
        raise ValueError(msg)
    return r


def _grid(times: ArrayLike, *, name: str = "times") -> np.ndarray:
    """Validate a finite, strictly increasing, non-empty 1-D time grid."""
    g = np.asarray(times, dtype=np.float64)
    if g.ndim != 1 or g.size == 0:
        msg = f"{name} must be a non-empty 1-D array, got shape {g.shape}"
        raise ValueError(msg)
    if not np.isfinite(g).all():
        msg = f"{name} has missing or infinite values"
        raise ValueError(msg)
    if (np.diff(g) <= 0).any():
        msg = f"{name} must be strictly increasing"
        raise ValueError(msg)
    return g


def _horizons(horizons: ArrayLike) -> list[float]:
    """Validate finite horizons (any order, duplicates allowed)."""
    h = np.atleast_1d(np.asarray(horizons, dtype=np.float64))
    if h.ndim != 1:
        msg = f"horizons must be 1-D, got shape {h.shape}"
        raise ValueError(msg)
    if not np.isfinite(h).all():
        msg = "horizons have missing or infinite values"
        raise ValueError(msg)
    return [float(v) for v in h]


def _probabilities(survival: ArrayLike, shape: tuple[int, ...], *, name: str) -> np.ndarray:
    """Validate predicted survival probabilities in [0, 1] of the given shape."""
    s = np.asarray(survival, dtype=np.float64)
    if s.shape != shape:
        msg = f"{name} has shape {s.shape}, expected {shape}"
        raise ValueError(msg)
    if not np.isfinite(s).all():
        msg = f"{name} has missing or infinite values"
        raise ValueError(msg)
    if ((s < 0) | (s > 1)).any():
        msg = f"{name} must lie in [0, 1]"
        raise ValueError(msg)
    return s


def _tau(tau: float | None) -> float | None:
    if tau is None:
        return None
    value = float(tau)
    if not math.isfinite(value) or value <= 0:
        msg = f"tau must be a positive finite number or None, got {tau!r}"
        raise ValueError(msg)
    return value


def _has_comparable_pair(t: np.ndarray, e: np.ndarray, *, before: float | None = None) -> bool:
    """Whether some event (at a time < ``before``) precedes another observation.

    A pair is comparable when the shorter time is an event; an event and a censoring at the
    same time are comparable (the censored patient outlived the event), two events at the
    same time are not.
    """
    events = e if before is None else e & (t < before)
    if not events.any():
        return False
    first = t[events].min()
    return bool((t > first).any() or ((t == first) & ~e).any())


# ---------------------------------------------------------------------------------------
# Discrimination
# ---------------------------------------------------------------------------------------


def harrell_c(*, time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> float:
    """Harrell's concordance index of a risk score.

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    risk
        Risk score, higher = higher risk.

    Returns
    -------
    float
        ``(concordant + tied / 2) / comparable`` from scikit-survival's
        ``concordance_index_censored`` with exact score ties (``tied_tol=0``), which is R's
        ``survival::concordance(..., reverse = TRUE)``; ``nan`` without a comparable pair
        (e.g. no event).

    Raises
    ------
    ValueError
        On malformed input (shapes, missing values, events other than 0/1).
    """
    t, e = _survival(time, event)
    r = _risk(risk, t.size)
    if not _has_comparable_pair(t, e):
        return NAN
    c_index, *_ = concordance_index_censored(e, t, r, tied_tol=0.0)
    return float(c_index)


def _censoring_usable(
    train_t: np.ndarray, train_e: np.ndarray, t: np.ndarray, e: np.ndarray, *, weights: bool
) -> bool:
    """Whether the censoring distribution of the training data can be used on the test data.

    scikit-survival estimates it by the Kaplan-Meier estimate of the training censoring
    times (``CensoringDistributionEstimator``). It needs a training event (it rejects
    all-censored data); here the evaluated follow-up must also lie within the training
    follow-up, and with ``weights`` the censoring curve must be above 0 at every evaluated
    event time (the weight of an event is 1/G(t), which scikit-survival refuses to divide
    by 0).
    """
    if not train_e.any() or t.max() > train_t.max():
        return False
    if not weights or not e.any():
        return True
    cens = CensoringDistributionEstimator().fit(Surv.from_arrays(train_e, train_t))
    return bool((cens.predict_proba(t[e]) > 0).all())


def uno_c(
    *,
    train_time: ArrayLike,
    train_event: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    tau: float | None,
) -> float:
    """Uno's IPCW concordance index of a risk score.

    Parameters
    ----------
    train_time, train_event
        Data the censoring distribution (Kaplan-Meier of the censoring times) is
        estimated from.
    time, event
        Follow-up of the evaluated patients.
    risk
        Risk score of the evaluated patients, higher = higher risk.
    tau
        Truncation time: only events before ``tau`` count as the shorter time of a pair.
        ``None`` is scikit-survival's default (no truncation).

    Returns
    -------
    float
        scikit-survival's ``concordance_index_ipcw`` (exact score ties); ``nan`` without a
        comparable pair before ``tau`` or when the censoring distribution cannot weight an
        event (it is 0 there, or the event is beyond the training follow-up).

    Raises
    ------
    ValueError
        On malformed input.
    """
    train_t, train_e = _survival(train_time, train_event, what="train")
    t, e = _survival(time, event)
    r = _risk(risk, t.size)
    limit = _tau(tau)
    weighted = t < limit if limit is not None else np.ones(t.size, dtype=bool)
    if not _has_comparable_pair(t, e, before=limit) or not _censoring_usable(
        train_t, train_e, t[weighted], e[weighted], weights=True
    ):
        return NAN
    c_index, *_ = concordance_index_ipcw(
        Surv.from_arrays(train_e, train_t), Surv.from_arrays(e, t), r, tau=limit, tied_tol=0.0
    )
    return float(c_index)


def _dynamic_auc(
    train_t: np.ndarray,
    train_e: np.ndarray,
    t: np.ndarray,
    e: np.ndarray,
    *,
    risk: np.ndarray,
    horizons: list[float],
) -> tuple[dict[float, float], float]:
    """AUC per horizon and scikit-survival's mean AUC over the computable horizons."""
    result = dict.fromkeys(horizons, NAN)
    # scikit-survival accepts min(time) <= h < max(time); an AUC also needs a case (an
    # event at or before h); controls (time > h) exist below max(time).
    valid = sorted(
        {h for h in horizons if t.min() <= h < t.max() and (e & (t <= h)).any()},
    )
    if not valid or not _censoring_usable(train_t, train_e, t, e, weights=True):
        return result, NAN
    scores, mean_auc = cumulative_dynamic_auc(
        Surv.from_arrays(train_e, train_t),
        Surv.from_arrays(e, t),
        risk,
        np.asarray(valid),
        tied_tol=0.0,
    )
    for h, score in zip(valid, scores, strict=True):
        result[h] = float(score)
    return result, float(mean_auc)


def time_dependent_auc(
    *,
    train_time: ArrayLike,
    train_event: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    horizons: ArrayLike,
) -> dict[float, float]:
    """Cumulative/dynamic time-dependent AUC at each horizon.

    Parameters
    ----------
    train_time, train_event
        Data the censoring distribution is estimated from.
    time, event
        Follow-up of the evaluated patients.
    risk
        Risk score of the evaluated patients, higher = higher risk.
    horizons
        Times t at which cases (event at or before t) are told from controls (alive
        after t).

    Returns
    -------
    dict[float, float]
        Horizon -> AUC from scikit-survival's ``cumulative_dynamic_auc`` (exact score ties),
        in the order given. ``nan`` for a horizon outside the range scikit-survival accepts
        (``min(time) <= h < max(time)``), without a case at or before it, or when the
        censoring distribution cannot weight the events.

    Raises
    ------
    ValueError
        On malformed input (including missing horizons).
    """
    train_t, train_e = _survival(train_time, train_event, what="train")
    t, e = _survival(time, event)
    r = _risk(risk, t.size)
    values, _ = _dynamic_auc(train_t, train_e, t, e, risk=r, horizons=_horizons(horizons))
    return values


# ---------------------------------------------------------------------------------------
# Prediction error
# ---------------------------------------------------------------------------------------


def integrated_brier(
    *,
    train_time: ArrayLike,
    train_event: ArrayLike,
    time: ArrayLike,
    event: ArrayLike,
    survival: ArrayLike,
    times: ArrayLike,
) -> float:
    """Integrated Brier score of predicted survival curves.

    The grid is restricted to the times scikit-survival accepts, ``min(time) <= t <
    max(time)`` of the evaluated patients (beyond the last follow-up nobody is observed
    and the censoring weights are undefined), together with the matching columns of
    ``survival``; the score is the trapezoidal integral of the IPCW Brier score over the
    remaining grid divided by its length.

    Parameters
    ----------
    train_time, train_event
        Data the censoring distribution is estimated from.
    time, event
        Follow-up of the evaluated patients.
    survival
        Predicted S(t), shape ``(n, len(times))``.
    times
        Strictly increasing time grid of ``survival``.

    Returns
    -------
    float
        scikit-survival's ``integrated_brier_score`` on the restricted grid (lower is
        better); ``nan`` when fewer than two grid times remain, without an event among the
        evaluated patients, or when the censoring distribution cannot be estimated (no
        training event or censoring) or evaluated (follow-up beyond the training data).

    Raises
    ------
    ValueError
        On malformed input (shapes, missing values, probabilities outside [0, 1],
        an unsorted grid).
    """
    train_t, train_e = _survival(train_time, train_event, what="train")
    t, e = _survival(time, event)
    grid = _grid(times)
    s = _probabilities(survival, (t.size, grid.size), name="survival")
    keep = (grid >= t.min()) & (grid < t.max())
    if (
        keep.sum() < 2
        or not e.any()
        or not _censoring_usable(train_t, train_e, t, e, weights=False)
    ):
        return NAN
    return float(
        integrated_brier_score(
            Surv.from_arrays(train_e, train_t), Surv.from_arrays(e, t), s[:, keep], grid[keep]
        )
    )


# ---------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------


def _observed_at(t: np.ndarray, e: np.ndarray, horizon: float) -> tuple[float, float, float]:
    """Kaplan-Meier S(horizon) with its 95% log interval; ``nan`` beyond the follow-up."""
    km = kaplan_meier(t, e.astype(np.int64)).filter(pl.col("time") <= horizon)
    if km.height == 0:  # nobody has an event or is censored before the horizon
        return 1.0, 1.0, 1.0
    last = km.row(-1, named=True)
    if horizon > t.max() and last["survival"] > 0:  # the curve is not defined there
        return NAN, NAN, NAN
    lower = NAN if last["lower_95"] is None else float(last["lower_95"])
    upper = NAN if last["upper_95"] is None else float(last["upper_95"])
    return float(last["survival"]), lower, upper


def calibration(
    *,
    time: ArrayLike,
    event: ArrayLike,
    survival_at_horizon: ArrayLike,
    horizon: float,
    groups: int = 3,
) -> pl.DataFrame:
    """Predicted against observed survival at a horizon, by groups of predicted survival.

    The patients are sorted by predicted S(horizon) (stably, so equal predictions keep
    their input order) and cut into ``groups`` groups of as equal size as possible
    (:func:`numpy.array_split` of the ranks; equal predictions may fall on both sides of a
    cut). With fewer patients than groups, each patient is a group.

    Parameters
    ----------
    time, event
        Follow-up of the patients.
    survival_at_horizon
        Predicted probability of surviving beyond ``horizon``, one per patient.
    horizon
        The time of the predictions.
    groups
        Number of quantile groups.

    Returns
    -------
    polars.DataFrame
        Columns :data:`CALIBRATION_COLUMNS`, one row per group: ``group`` (1 = lowest
        predicted survival), ``n``, ``events`` (all events of the group), ``predicted``
        (mean predicted S(horizon)) and ``observed`` with ``lower_95``/``upper_95``: the
        Kaplan-Meier S(horizon) of the group with its log-transformed 95% interval
        (:func:`survomics.km.kaplan_meier`, R's ``survfit``). ``observed`` is null when the
        horizon lies beyond the last follow-up of the group and the curve has not reached
        0; the limits are null where S = 0, as in R.

    Raises
    ------
    ValueError
        On malformed input or a horizon that is not a positive finite number.
    """
    t, e = _survival(time, event)
    predicted = _probabilities(survival_at_horizon, t.shape, name="survival_at_horizon")
    h = float(horizon)
    if not math.isfinite(h) or h <= 0:
        msg = f"horizon must be a positive finite number, got {horizon!r}"
        raise ValueError(msg)
    if isinstance(groups, bool) or not isinstance(groups, int | np.integer) or groups < 1:
        msg = f"groups must be a positive integer, got {groups!r}"
        raise ValueError(msg)
    order = np.argsort(predicted, kind="stable")
    rows = []
    for k, members in enumerate(np.array_split(order, min(int(groups), t.size)), start=1):
        observed, lower, upper = _observed_at(t[members], e[members], h)
        rows.append(
            {
                "group": k,
                "n": int(members.size),
                "events": int(e[members].sum()),
                "predicted": float(predicted[members].mean()),
                "observed": observed,
                "lower_95": lower,
                "upper_95": upper,
            }
        )
    schema = {
        "group": pl.Int64,
        "n": pl.Int64,
        "events": pl.Int64,
        "predicted": pl.Float64,
        "observed": pl.Float64,
        "lower_95": pl.Float64,
        "upper_95": pl.Float64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None)).select(CALIBRATION_COLUMNS)


def calibration_error(table: pl.DataFrame) -> float:
    """Mean absolute calibration error of a :func:`calibration` table.

    ``sum(n_g |predicted_g - observed_g|) / sum(n_g)`` over the groups whose observed
    survival is defined: the absolute difference between mean predicted and Kaplan-Meier
    survival at the horizon, weighted by group size (not the ICI, which needs a smoothed
    calibration curve).

    Parameters
    ----------
    table
        Output of :func:`calibration`.

    Returns
    -------
    float
        The weighted mean absolute difference; ``nan`` when no group has an observed value.

    Raises
    ------
    ValueError
        If ``table`` lacks the columns ``n``, ``predicted`` or ``observed``.
    """
    missing = [c for c in ("n", "predicted", "observed") if c not in table.columns]
    if missing:
        msg = f"calibration table lacks columns {missing}"
        raise ValueError(msg)
    known = table.filter(pl.col("observed").is_not_null() & pl.col("observed").is_not_nan())
    n = known["n"].to_numpy().astype(np.float64)
    if known.height == 0 or n.sum() == 0:
        return NAN
    diff = np.abs(known["predicted"].to_numpy() - known["observed"].to_numpy())
    return float(np.sum(n * diff) / n.sum())


# ---------------------------------------------------------------------------------------
# Risk groups
# ---------------------------------------------------------------------------------------


def risk_groups(*, risk: ArrayLike) -> np.ndarray:
    """Split patients at the median risk.

    Parameters
    ----------
    risk
        Risk score, higher = higher risk.

    Returns
    -------
    numpy.ndarray
        ``"high"`` where the risk is above the median (:func:`numpy.median`), ``"low"``
        otherwise: scores equal to the median go to ``"low"``, so with many ties at the
        median the groups are unequal (all ``"low"`` when every score is equal).

    Raises
    ------
    ValueError
        If ``risk`` is not 1-D, empty or has missing or infinite values.
    """
    r = np.asarray(risk, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        msg = f"risk must be a non-empty 1-D array, got shape {r.shape}"
        raise ValueError(msg)
    r = _risk(r, r.size)
    return np.where(r > np.median(r), "high", "low")


def risk_group_logrank(
    *, time: ArrayLike, event: ArrayLike, groups: ArrayLike
) -> tuple[float, float]:
    """Log-rank test of survival between risk groups.

    Parameters
    ----------
    time, event
        Follow-up of the patients.
    groups
        Group label of each patient (e.g. from :func:`risk_groups`).

    Returns
    -------
    tuple[float, float]
        Chi-square and p-value of :func:`survomics.km.logrank_test` (R ``survdiff``);
        ``(nan, nan)`` with fewer than two groups, no event, or fewer than two groups with
        anyone at risk at an event time.

    Raises
    ------
    ValueError
        On malformed input (lengths, missing values).
    """
    t, e = _survival(time, event)
    g = np.asarray(groups)
    if g.shape != t.shape:
        msg = f"groups has shape {g.shape}, expected {t.shape}"
        raise ValueError(msg)
    codes = np.unique(g, return_inverse=True)[1]
    if np.unique(codes).size < 2 or not e.any():
        return NAN, NAN
    # Expected events > 0 in at least two groups: some group other than the one holding the
    # last event time is at risk at an event time. Equivalently, at the first event time,
    # patients of at least two groups are at risk.
    at_risk = t >= t[e].min()
    if np.unique(codes[at_risk]).size < 2:
        return NAN, NAN
    result = logrank_test(t, e.astype(np.int64), g)
    return result.chisq, result.p


# ---------------------------------------------------------------------------------------
# One repeat, all repeats
# ---------------------------------------------------------------------------------------


def evaluate_repeat(
    *,
    time: ArrayLike,
    event: ArrayLike,
    risk: ArrayLike,
    survival: ArrayLike,
    times: ArrayLike,
    horizons: Sequence[float],
    tau: float | None,
    calibration_horizon: float,
    train_time: ArrayLike,
    train_event: ArrayLike,
) -> dict[str, float]:
    """Every metric of one repeat's concatenated out-of-fold predictions.

    Parameters
    ----------
    time, event
        Follow-up of the predicted patients.
    risk
        Out-of-fold risk score per patient, higher = higher risk.
    survival
        Out-of-fold predicted S(t), shape ``(n, len(times))``.
    times
        Strictly increasing grid of ``survival``.
    horizons
        Horizons of the time-dependent AUC.
    tau
        Truncation time of Uno's C (``None``: none).
    calibration_horizon
        Horizon of the calibration; the predicted survival used is the grid column
        nearest to it (``nan`` calibration error if it lies outside the grid).
    train_time, train_event
        Data of the censoring distribution of the IPCW metrics.

    Returns
    -------
    dict[str, float]
        In this order: ``harrell_c``, ``uno_c``, ``auc_{h:g}`` per horizon, ``mean_auc``
        (scikit-survival's survival-weighted mean over the computable horizons),
        ``ibs``, ``calibration_error`` (:func:`calibration` with 3 groups and
        :func:`calibration_error`), ``logrank_p`` (:func:`risk_groups`,
        :func:`risk_group_logrank`). ``nan`` where a metric is not computable.

    Raises
    ------
    ValueError
        On malformed input (shapes, missing risk or survival values, unsorted grid).
    """
    t, e = _survival(time, event)
    r = _risk(risk, t.size)
    grid = _grid(times)
    s = _probabilities(survival, (t.size, grid.size), name="survival")
    train_t, train_e = _survival(train_time, train_event, what="train")
    hs = _horizons(horizons)
    limit = _tau(tau)
    h_cal = float(calibration_horizon)
    if not math.isfinite(h_cal) or h_cal <= 0:
        msg = f"calibration_horizon must be a positive finite number, got {calibration_horizon!r}"
        raise ValueError(msg)

    values: dict[str, float] = {
        "harrell_c": harrell_c(time=t, event=e, risk=r),
        "uno_c": uno_c(train_time=train_t, train_event=train_e, time=t, event=e, risk=r, tau=limit),
    }
    aucs, mean_auc = _dynamic_auc(train_t, train_e, t, e, risk=r, horizons=hs)
    values.update({f"auc_{h:g}": auc for h, auc in aucs.items()})
    values["mean_auc"] = mean_auc
    values["ibs"] = integrated_brier(
        train_time=train_t, train_event=train_e, time=t, event=e, survival=s, times=grid
    )
    if grid[0] <= h_cal <= grid[-1]:
        column = int(np.argmin(np.abs(grid - h_cal)))
        table = calibration(time=t, event=e, survival_at_horizon=s[:, column], horizon=h_cal)
        values["calibration_error"] = calibration_error(table)
    else:
        values["calibration_error"] = NAN
    values["logrank_p"] = risk_group_logrank(time=t, event=e, groups=risk_groups(risk=r))[1]
    return values


def summarise(per_repeat: pl.DataFrame) -> pl.DataFrame:
    """Mean and 95% percentile interval of each metric across repeats.

    Parameters
    ----------
    per_repeat
        Long frame with columns ``model``, ``repeat``, ``metric``, ``value``; one row per
        (model, repeat, metric).

    Returns
    -------
    polars.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, one row per (model, metric) in order of first
        appearance. ``n_repeats`` counts the non-missing values; ``mean``, ``lower`` and
        ``upper`` (2.5 and 97.5 percentiles, :func:`numpy.percentile` with linear
        interpolation) are over those values (``nan`` if none); ``values`` lists every
        value ordered by repeat, joined by ``";"``, each written with ``format(v, ".17g")``
        so that it reads back exactly (``nan`` for a missing one).

    Raises
    ------
    ValueError
        On missing columns or a duplicated (model, repeat, metric).
    """
    needed = ("model", "repeat", "metric", "value")
    missing = [c for c in needed if c not in per_repeat.columns]
    if missing:
        msg = f"per_repeat lacks columns {missing}"
        raise ValueError(msg)
    frame = per_repeat.select(
        pl.col("model").cast(pl.String),
        pl.col("repeat"),
        pl.col("metric").cast(pl.String),
        pl.col("value").cast(pl.Float64).fill_null(NAN),
    )
    if frame.select(pl.struct(["model", "repeat", "metric"]).is_duplicated().any()).item():
        msg = "per_repeat has more than one value for some (model, repeat, metric)"
        raise ValueError(msg)
    grouped = frame.group_by(["model", "metric"], maintain_order=True).agg(
        pl.col("value").sort_by("repeat")
    )
    rows = []
    for model, metric, raw in grouped.iter_rows():
        v = np.asarray(raw, dtype=np.float64)
        finite = v[~np.isnan(v)]
        if finite.size:
            lower, upper = np.percentile(finite, [2.5, 97.5])
            stats = (float(finite.mean()), float(lower), float(upper))
        else:
            stats = (NAN, NAN, NAN)
        rows.append(
            (
                model,
                metric,
                int(finite.size),
                *stats,
                ";".join(format(float(x), ".17g") for x in v),
            )
        )
    schema = {
        "model": pl.String,
        "metric": pl.String,
        "n_repeats": pl.Int64,
        "mean": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "values": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
