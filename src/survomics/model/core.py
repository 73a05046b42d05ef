"""Survival models as leakage-free pipelines: fitted on training patients, replayed on others.

One :class:`SurvivalModel` object holds everything learned from data for one model —
per-modality filtering, imputation, scaling and feature selection, the clinical design,
the penalty chosen by inner cross-validation, the estimator — so that fitting it on an
outer training fold and predicting the held-out fold can never use a held-out patient.
The workflow runs one job per (model, outer repeat) that calls :func:`run_fold` for each
fold; :func:`cross_validate` loops over all splits for notebooks and tests.

Per modality (:class:`ModalityBlock`), fitted on the training patients that have it:

1. features missing in more than ``max_missing`` of them, or constant, are dropped;
2. the ``top_k`` most variable (median absolute deviation or variance) are kept;
3. missing values are imputed by the training median, then values are standardised by the
   training mean and standard deviation;
4. supervised selection: ``univariate`` (Cox screen with :func:`survomics.cox.cox_screen`,
   ``select_top_k`` smallest p or every q <= ``select_fdr``), ``coxnet`` (non-zero
   coefficients of the inner-CV-tuned elastic-net Cox), ``stability``
   (:func:`survomics.model.select.stability_selection`) or ``none``. A selection that
   would be empty keeps the best feature by univariate p (recorded in ``notes``).

**Patients lacking a modality.** Single-modality models cannot score them: they are not
eligible (excluded from that model's evaluation, with the reason). Fusion models score a
patient who has at least one of their modalities: in early fusion a missing block is set
to the training mean of every feature (0 after scaling); in late fusion the missing
modality's risk score is set to its training mean (0 after standardising the scores).
Clinical covariates: numeric ones are imputed by the training median; text ones become
dummies of their training levels (first level in sorted order the reference), a missing
value takes the training mode and an unseen level all-zero dummies.

**Penalty of the elastic-net Cox (Coxnet).** The penalty path is computed on the training
patients; each penalty is scored by Harrell's C on the held-out parts of an inner
stratified K-fold of the training patients (the preprocessing of the outer training fold
is reused inside, so tuning sees no outer test patient); the highest mean C wins, ties go
to the larger penalty. Its survival curves use the Breslow baseline hazard of the training
patients at that penalty, computed on the log scale (exact however widely a weakly
penalised fit spreads the linear predictor). Predicted survival that is still not a
finite, non-increasing probability stops the fold with an error naming the model and the
split, rather than reaching the evaluation.

Determinism: every random choice comes from the ``seed`` given to ``fit``; estimators run
with ``n_jobs=1``.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, Self

import joblib
import numpy as np
import pandas as pd
import polars as pl
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored
from sksurv.util import Surv

from survomics.errors import InputError, SurvomicsError
from survomics.io import atomic_path

__all__ = [
    "CohortData",
    "FoldResult",
    "ModalitySettings",
    "ModelSpec",
    "NonFiniteSurvivalError",
    "SurvivalModel",
    "align_for_scoring",
    "build_model",
    "cross_validate",
    "filter_columns",
    "fold_seed",
    "load_cohort",
    "load_model",
    "read_matrix",
    "run_fold",
    "run_split",
    "save_model",
    "time_grid",
]

Kind = Literal["clinical", "coxnet", "rsf", "gbsa", "early_fusion", "late_fusion"]
CLINICAL = "clinical"


# --- data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortData:
    """Endpoint, clinical covariates and omics of a set of patients.

    Attributes
    ----------
    patients
        Patient ids.
    time, event
        Follow-up (days) and event indicator (0/1), one per patient.
    clinical
        Covariate columns (raw values), index = ``patients``.
    omics
        Modality -> patients x features frame; NaN = missing value. A patient has the
        modality when its id is in the frame's index; rows of ids not in ``patients``
        are ignored, so :meth:`subset` shares the frames of the whole cohort instead of
        copying them (a modality of 4,000 x 80,000 is 2.6 GB).
    """

    patients: tuple[str, ...]
    time: np.ndarray
    event: np.ndarray
    clinical: pd.DataFrame
    omics: Mapping[str, pd.DataFrame]

    def subset(self, ids: Sequence[str]) -> CohortData:
        """The patients ``ids`` (in that order)."""
        index = {p: i for i, p in enumerate(self.patients)}
        rows = np.array([index[p] for p in ids], dtype=np.int64)
        ids = list(ids)
        return CohortData(
            patients=tuple(ids),
            time=self.time[rows],
            event=self.event[rows],
            clinical=self.clinical.iloc[rows],
            omics=self.omics,
        )

    def has_modality(self, modality: str) -> np.ndarray:
        """Per patient: whether it has ``modality``."""
        return np.asarray(pd.Index(self.patients).isin(self.omics[modality].index), dtype=bool)

    def rows(self, modality: str, ids: Sequence[str]) -> np.ndarray:
        """Row positions of ``ids`` in the frame of ``modality`` (-1 where absent)."""
        index = self.omics[modality].index
        return np.asarray(index.get_indexer(pd.Index(list(ids), dtype=object)), dtype=np.int64)


LOAD_BATCH = 256
"""Patients (Parquet columns) read at a time by :func:`read_matrix`."""


def read_matrix(
    path: Path, patients: Sequence[str], *, n_features: int, batch: int = LOAD_BATCH
) -> np.ndarray:
    """The columns ``patients`` of a features x patients Parquet file as patients x features.

    Reads ``batch`` columns at a time into the float64 result, so reading needs the
    result plus one batch of memory (not twice the matrix).
    """
    out = np.empty((len(patients), n_features))
    for i in range(0, len(patients), batch):
        part = pl.read_parquet(path, columns=list(patients[i : i + batch]))
        out[i : i + part.width] = part.select(pl.all().cast(pl.Float64)).to_numpy().T
    return out


def load_cohort(
    *,
    clinical: Path,
    omics: Mapping[str, Path],
    endpoint: str,
    covariates: Sequence[str],
) -> tuple[CohortData, pl.DataFrame]:
    """Read a cohort's clinical and omics Parquet files (the ingest contract).

    Returns
    -------
    tuple
        The data, sorted by patient id, and a frame ``patient_id, reason`` of patients
        left out because their endpoint is missing.
    """
    frame = pl.read_parquet(clinical)
    tcol, ecol = f"{endpoint}_time", f"{endpoint}_event"
    for column in (tcol, ecol, *covariates):
        if column not in frame.columns:
            raise InputError(
                str(clinical),
                f"column '{column}' is missing",
                fix="check modelling.covariates and the endpoint name",
                column=column,
            )
    missing = frame.filter(pl.col(tcol).is_null() | pl.col(ecol).is_null())
    excluded = missing.select(
        pl.col("patient_id"), pl.lit(f"missing_{endpoint}_endpoint").alias("reason")
    )
    kept = frame.filter(pl.col(tcol).is_not_null() & pl.col(ecol).is_not_null()).sort("patient_id")
    patients = tuple(kept["patient_id"].to_list())
    clin = kept.select(list(covariates)).to_pandas() if covariates else pd.DataFrame()
    clin.index = pd.Index(patients, name="patient_id")
    data_omics: dict[str, pd.DataFrame] = {}
    wanted = set(patients)
    for modality, path in omics.items():
        cols = sorted(c for c in pl.read_parquet_schema(path) if c != "feature" and c in wanted)
        features = pl.read_parquet(path, columns=["feature"])["feature"].cast(pl.String)
        data_omics[modality] = pd.DataFrame(
            read_matrix(path, cols, n_features=features.len()),
            index=pd.Index(cols, name="patient_id"),
            columns=features.to_list(),
        )
    return (
        CohortData(
            patients=patients,
            time=kept[tcol].cast(pl.Float64).to_numpy(),
            event=kept[ecol].cast(pl.Float64).to_numpy(),
            clinical=clin,
            omics=data_omics,
        ),
        excluded,
    )


# --- specifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModalitySettings:
    """Preprocessing and selection of one modality (config ``modelling.preprocessing``)."""

    max_missing: float = 0.2
    top_k: int | None = 2000
    variability: Literal["mad", "variance"] = "mad"
    selection: Literal["univariate", "coxnet", "stability", "none"] = "univariate"
    select_top_k: int | None = 50
    select_fdr: float | None = None
    stability_subsamples: int = 50
    stability_threshold: float = 0.6


@dataclass(frozen=True)
class ModelSpec:
    """One model of the config (``modelling.models.<name>`` plus shared settings)."""

    name: str
    kind: Kind
    modalities: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    settings: Mapping[str, ModalitySettings] = field(default_factory=dict)
    l1_ratio: float = 0.5
    n_alphas: int = 30
    inner_folds: int = 3
    rsf_trees: int = 200
    rsf_min_leaf: int = 3
    rsf_time_points: int | None = 150
    gbsa_trees: int = 100
    gbsa_learning_rate: float = 0.1
    gbsa_max_depth: int = 3
    ties: Literal["efron", "breslow"] = "efron"

    def setting(self, modality: str) -> ModalitySettings:
        """Settings of ``modality`` (defaults when not given)."""
        return self.settings.get(modality, ModalitySettings())


# --- helpers ----------------------------------------------------------------------------


def column_nanmedian(x: np.ndarray) -> np.ndarray:
    """Median of every column of a 2-D array ignoring NaN; equal to ``np.nanmedian(x, axis=0)``.

    ``np.nanmedian(x, axis=0)`` goes through masked arrays when any value is missing and
    took 60% of a late-fusion fit on 800 x 20,000 matrices. Here the columns are copied
    as contiguous rows; those without NaN are partitioned at their middle, the others
    sorted (NaN last) and the middle of their valid values taken: the two middle values
    added and halved, as NumPy does (the values are equal; only the sign of a zero median
    may differ). An all-NaN column gives NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    n, m = x.shape
    out = np.full(m, np.nan)
    if n == 0 or m == 0:
        return out
    gaps = np.isnan(x).any(axis=0)
    full = np.flatnonzero(~gaps)
    if full.size:
        lo, hi = (n - 1) // 2, n // 2
        part = np.partition(np.ascontiguousarray(x[:, full].T), sorted({lo, hi}), axis=1)
        out[full] = part[:, lo] if lo == hi else (part[:, lo] + part[:, hi]) / 2
    cols = np.flatnonzero(gaps)
    if cols.size:
        ordered = np.sort(np.ascontiguousarray(x[:, cols].T), axis=1)
        count = n - np.isnan(ordered).sum(axis=1)
        ok = count > 0
        lo = np.maximum((count - 1) // 2, 0)
        hi = np.minimum(count // 2, n - 1)
        rows = np.arange(cols.size)
        mid = np.where(
            count % 2 == 1, ordered[rows, lo], (ordered[rows, lo] + ordered[rows, hi]) / 2
        )
        out[cols[ok]] = mid[ok]
    return out


FILTER_CHUNK = 2048
"""Columns per block in :func:`filter_columns`: its temporaries are patients x 2,048."""


def float_values(frame: pd.DataFrame) -> np.ndarray:
    """The values of ``frame`` as float64 (NaN = missing); a view of a float64 frame."""
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def gather(
    values: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, order: Literal["C", "F"] = "C"
) -> np.ndarray:
    """``values[rows][:, cols]`` as a new array in ``order``; a position of -1 gives NaN.

    A training matrix is gathered column-major (``order="F"``): its column means and
    standard deviations are then summed pairwise along each column.
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    out = np.full((rows.size, cols.size), np.nan, order=order)
    r_ok, c_ok = rows >= 0, cols >= 0
    if r_ok.any() and c_ok.any():
        out[np.ix_(r_ok, c_ok)] = values[np.ix_(rows[r_ok], cols[c_ok])]
    return out


def filter_columns(
    values: np.ndarray,
    rows: np.ndarray,
    *,
    max_missing: float,
    top_k: int | None,
    variability: Literal["mad", "variance"],
    chunk: int = FILTER_CHUNK,
) -> np.ndarray:
    """Columns of ``values`` kept by steps 1 and 2 of a block, computed on ``rows`` only.

    Drops the columns missing in more than ``max_missing`` of the rows or constant (all
    their non-missing values equal, or fewer than two), then keeps the ``top_k`` with the
    largest spread (median absolute deviation around the median, or variance; ties to the
    first column). The statistics are computed on blocks of ``chunk`` columns, so the
    temporaries are ``rows x chunk`` whatever the number of features, and each column's
    statistic is the same as on the whole matrix.

    Returns
    -------
    numpy.ndarray
        Positions of the kept columns, ascending.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n, m = rows.size, values.shape[1]
    if n == 0 or m == 0:
        return np.empty(0, dtype=np.int64)
    keep = np.zeros(m, dtype=bool)
    for j0 in range(0, m, chunk):
        x = values[rows, j0 : j0 + chunk]
        missing = np.isnan(x).sum(axis=0) / n
        low, high = np.fmin.reduce(x, axis=0), np.fmax.reduce(x, axis=0)
        keep[j0 : j0 + chunk] = (missing <= max_missing) & (high > low)
    kept = np.flatnonzero(keep)
    if top_k is None or kept.size <= top_k:
        return kept
    spread = np.empty(kept.size)
    done = 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for j0 in range(0, m, chunk):
            x = values[rows, j0 : j0 + chunk][:, keep[j0 : j0 + chunk]]
            if variability == "mad":
                part = column_nanmedian(np.abs(x - column_nanmedian(x)))
            else:
                part = np.nanvar(x, axis=0)
            spread[done : done + part.size] = part
            done += part.size
    top = np.sort(np.argsort(-spread, kind="stable")[:top_k])
    return kept[top]


def _y(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    return Surv.from_arrays(np.asarray(event) > 0, np.asarray(time, dtype=np.float64))


def time_grid(time: np.ndarray, event: np.ndarray, *, points: int | None) -> np.ndarray:
    """Follow-up times moved onto a grid of at most ``points`` event times (forests).

    A random survival forest evaluates its log-rank splits and stores its leaves' survival
    curves over every distinct time, so its cost grows with them (a forest of 4,000
    patients: 1,900 times, 4x slower and 13x more memory than on 150). As
    randomForestSRC's ``ntime`` does, the grid is ``points`` distinct event times evenly
    spaced in rank (first and last included); each time moves up to the next grid time
    (times after the last one to it), so an event is counted at the end of its interval
    and a patient censored within it is still at risk there. With at most ``points``
    distinct event times, or ``points=None``, the times are returned unchanged.
    """
    time = np.asarray(time, dtype=np.float64)
    events = np.unique(time[np.asarray(event) > 0])
    if points is None or events.size <= points:
        return time
    grid = events[np.unique(np.round(np.linspace(0, events.size - 1, points)).astype(np.int64))]
    return grid[np.minimum(np.searchsorted(grid, time, side="left"), grid.size - 1)]


def _harrell(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    from sksurv.exceptions import NoComparablePairException  # noqa: PLC0415

    if not (event > 0).any():
        return math.nan
    try:
        return float(concordance_index_censored(event > 0, time, risk)[0])
    except NoComparablePairException:
        return math.nan


def _inner_folds(event: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Stratified (on the event) assignment of training rows to ``k`` inner folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(event.size, dtype=np.int64)
    for value in (0, 1):
        rows = np.flatnonzero((event > 0) == bool(value))
        rows = rows[rng.permutation(rows.size)]
        fold[rows] = (np.arange(rows.size) + rng.integers(k)) % k
    return [np.flatnonzero(fold == j) for j in range(k)]


def _step_values(functions: Sequence[Any], times: np.ndarray) -> np.ndarray:
    """Values of sksurv step functions at ``times`` (1 before the first step)."""
    out = np.empty((len(functions), times.size))
    for i, fn in enumerate(functions):
        idx = np.searchsorted(fn.x, times, side="right") - 1
        values = fn.a * fn.y[np.clip(idx, 0, None)] + fn.b
        out[i] = np.where(idx < 0, 1.0, values)
    return out


def _breslow_log_hazard(
    lp: np.ndarray, time: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Breslow cumulative baseline hazard of a Cox fit, on the log scale.

    ``H0(t) = sum over event times t_k <= t of d_k / sum_{j: time_j >= t_k} exp(lp_j)``
    (``d_k`` events at ``t_k``), computed with log-sum-exp so that it is exact to rounding
    whatever the spread of the linear predictor. (scikit-survival's ``BreslowEstimator``
    updates each risk-set sum by subtracting the patients who left it: once ``exp(lp)``
    spans more than ~16 orders of magnitude, as for a weakly penalised Cox model on few
    patients, the sums lose every digit and the hazard turns negative or infinite.)

    Returns
    -------
    tuple
        The distinct event times (increasing) and ``log H0`` at each (non-decreasing).
    """
    lp = np.asarray(lp, dtype=np.float64)
    time = np.asarray(time, dtype=np.float64)
    dead = np.asarray(event) > 0
    times, deaths = np.unique(time[dead], return_counts=True)
    order = np.argsort(-time, kind="mergesort")  # latest first: risk sets grow along it
    log_risk_set = np.logaddexp.accumulate(lp[order])
    at_risk = time.size - np.searchsorted(np.sort(time), times, side="left")  # time >= t_k
    log_increment = np.log(deaths) - log_risk_set[at_risk - 1]
    return times, np.logaddexp.accumulate(log_increment)


def _cox_survival(
    lp: np.ndarray, times: np.ndarray, log_hazard: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """``S(t | x) = exp(-H0(t) exp(lp))`` at ``at`` (1 before the first event time).

    ``times`` and ``log_hazard`` are from :func:`_breslow_log_hazard`. The product is
    formed on the log scale; a log cumulative hazard above 700 gives survival 0 exactly
    (``exp(-exp(700))`` underflows), without overflowing on the way.
    """
    idx = np.searchsorted(times, at, side="right") - 1
    log_h = log_hazard[np.clip(idx, 0, None)][None, :] + np.asarray(lp, dtype=np.float64)[:, None]
    survival = np.exp(-np.exp(np.minimum(log_h, 700.0)))
    return np.where(idx[None, :] < 0, 1.0, survival)


class NonFiniteSurvivalError(SurvomicsError, ValueError):
    """Predicted survival curves that are not finite, monotone probabilities."""


def _check_survival(survival: np.ndarray, *, model: str) -> None:
    """Refuse survival curves that are not finite, in [0, 1] and non-increasing in time."""
    finite = np.isfinite(survival).all(axis=1)
    inside = finite & ((survival >= 0.0) & (survival <= 1.0)).all(axis=1)
    monotone = inside & (np.diff(survival, axis=1) <= 1e-9).all(axis=1)
    bad = int((~monotone).sum())
    if bad:
        msg = (
            f"model '{model}': the predicted survival of {bad} of {survival.shape[0]} "
            "patients is not a finite, non-increasing probability (the fitted model is "
            "numerically degenerate). Fix: give this model fewer features "
            "(modelling.preprocessing.select_top_k) or more patients, or leave it out of "
            "modelling.models"
        )
        raise NonFiniteSurvivalError(msg)


class _Notes:
    """Warnings of third-party fits, recorded instead of raised."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def run(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = func(*args, **kwargs)
        for w in caught:
            text = f"{what}: {w.category.__name__}: {str(w.message).splitlines()[0]}"
            if text not in self.items:
                self.items.append(text)
        return result


# --- blocks -----------------------------------------------------------------------------


class ModalityBlock:
    """Filtering, imputation, scaling and selection of one modality, learned on training."""

    def __init__(self, modality: str, settings: ModalitySettings) -> None:
        self.modality = modality
        self.settings = settings
        self.features_: list[str] = []
        self.selected_: list[str] = []
        self.medians_ = np.empty(0)
        self.means_ = np.empty(0)
        self.scales_ = np.empty(0)

    def fit(
        self, data: CohortData, *, seed: int, l1_ratio: float, inner_folds: int, notes: _Notes
    ) -> Self:
        """Learn everything from the patients of ``data`` that have the modality."""
        s = self.settings
        frame = data.omics[self.modality]
        rows = data.rows(self.modality, data.patients)
        has = rows >= 0
        time, event, rows = data.time[has], data.event[has], rows[has]
        values = float_values(frame)
        columns = filter_columns(
            values, rows, max_missing=s.max_missing, top_k=s.top_k, variability=s.variability
        )
        x = gather(values, rows, columns, order="F")
        names = np.asarray(frame.columns, dtype=object)[columns]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = column_nanmedian(x)
        x = np.where(np.isnan(x), medians, x)
        means = x.mean(axis=0)
        scales = x.std(axis=0, ddof=1) if x.shape[0] > 1 else np.ones(x.shape[1])
        scales = np.where(scales > 0, scales, 1.0)
        z = (x - means) / scales
        chosen = self._select(
            z,
            time,
            event,
            list(names),
            seed=seed,
            l1_ratio=l1_ratio,
            inner_folds=inner_folds,
            notes=notes,
        )
        self.features_ = [str(n) for n in names]
        self.selected_ = [self.features_[j] for j in chosen]
        self.medians_, self.means_, self.scales_ = medians[chosen], means[chosen], scales[chosen]
        return self

    def _select(
        self,
        z: np.ndarray,
        time: np.ndarray,
        event: np.ndarray,
        names: list[str],
        *,
        seed: int,
        l1_ratio: float,
        inner_folds: int,
        notes: _Notes,
    ) -> np.ndarray:
        from survomics.cox import benjamini_hochberg, cox_screen  # noqa: PLC0415

        s = self.settings
        if z.shape[1] == 0:
            msg = (
                f"modality '{self.modality}': no feature passes the missingness and variance "
                "filters in this training set"
            )
            raise ValueError(msg)
        screen = cox_screen(z, time, event, feature_names=names)
        p = screen["p_wald"].to_numpy()
        p = np.where(np.isnan(p), np.inf, p)
        order = np.argsort(p, kind="stable")
        if s.selection == "none":
            return np.arange(z.shape[1])
        if s.selection == "univariate":
            if s.select_fdr is not None:
                q = np.full(p.size, np.inf)
                ok = np.isfinite(p)
                q[ok] = benjamini_hochberg(p[ok])
                chosen = np.flatnonzero(q <= s.select_fdr)
            else:
                chosen = order[: s.select_top_k or z.shape[1]]
        elif s.selection == "stability":
            from survomics.model.select import stability_selection  # noqa: PLC0415

            table = notes.run(
                f"{self.modality} stability selection",
                stability_selection,
                z,
                time,
                event,
                feature_names=names,
                l1_ratio=l1_ratio,
                n_subsamples=s.stability_subsamples,
                threshold=s.stability_threshold,
                seed=seed,
            )
            chosen = np.flatnonzero(table["selected"].to_numpy())
        else:  # coxnet
            net = _TunedCoxnet(l1_ratio=l1_ratio, n_alphas=30, inner_folds=inner_folds)
            net.fit(z, time, event, seed=seed, notes=notes, what=f"{self.modality} coxnet")
            chosen = np.flatnonzero(net.coef() != 0)
        if chosen.size == 0:
            notes.items.append(
                f"{self.modality}: selection '{s.selection}' chose nothing; kept the best "
                f"feature by univariate p ({names[order[0]]})"
            )
            chosen = order[:1]
        return np.sort(chosen)

    def transform(self, data: CohortData) -> tuple[np.ndarray, np.ndarray]:
        """Standardised selected features of every patient of ``data``, and who has them.

        Patients without the modality get 0 (the training mean) in every column.
        """
        n = len(data.patients)
        if self.modality in data.omics:
            frame = data.omics[self.modality]
            rows = data.rows(self.modality, data.patients)
            cols = frame.columns.get_indexer(pd.Index(self.selected_, dtype=object))
            x, present = gather(float_values(frame), rows, cols), rows >= 0
        else:
            x, present = np.full((n, len(self.selected_)), np.nan), np.zeros(n, dtype=bool)
        x = np.where(np.isnan(x), self.medians_, x)
        z = (x - self.means_) / self.scales_
        z[~present] = 0.0
        return z, present


class ClinicalBlock:
    """The clinical covariates as a numeric design, learned on training patients."""

    def __init__(self, covariates: Sequence[str]) -> None:
        self.covariates = list(covariates)
        self.numeric_: dict[str, float] = {}
        self.levels_: dict[str, list[str]] = {}
        self.modes_: dict[str, str] = {}
        self.columns_: list[str] = []

    def fit(self, data: CohortData) -> Self:
        """Medians of numeric covariates, levels and modes of categorical ones."""
        for c in self.covariates:
            col = data.clinical[c]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                values = col.to_numpy(dtype=np.float64, na_value=np.nan)
                self.numeric_[c] = float(np.nanmedian(values)) if np.isfinite(values).any() else 0
                self.columns_.append(c)
            else:
                text = col.dropna().astype(str)
                levels = sorted(text.unique())
                if not levels:
                    msg = f"clinical covariate '{c}' has no value among the training patients"
                    raise ValueError(msg)
                self.levels_[c] = levels
                self.modes_[c] = str(text.value_counts().sort_index().idxmax())
                self.columns_ += [f"{c}={lv}" for lv in levels[1:]]
        return self

    def transform(self, data: CohortData) -> np.ndarray:
        """Design matrix (patients x columns)."""
        parts = []
        for c in self.covariates:
            col = data.clinical[c]
            if c in self.numeric_:
                v = col.to_numpy(dtype=np.float64, na_value=np.nan)
                parts.append(np.where(np.isnan(v), self.numeric_[c], v)[:, None])
            else:
                text = col.astype(object).where(col.notna(), self.modes_[c]).astype(str)
                parts.append(
                    np.column_stack([(text == lv).to_numpy(float) for lv in self.levels_[c][1:]])
                    if len(self.levels_[c]) > 1
                    else np.empty((len(col), 0))
                )
        return np.hstack(parts) if parts else np.empty((len(data.patients), 0))


class _TunedCoxnet:
    """Elastic-net Cox with its penalty chosen by inner stratified CV (Harrell's C)."""

    def __init__(
        self,
        *,
        l1_ratio: float,
        n_alphas: int,
        inner_folds: int,
        penalty_factor: np.ndarray | None = None,
    ) -> None:
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.inner_folds = inner_folds
        self.penalty_factor = penalty_factor
        self.alpha_ = math.nan
        self.model_: CoxnetSurvivalAnalysis | None = None
        self.event_times_ = np.empty(0)
        self.log_baseline_hazard_ = np.empty(0)

    def _new(self, alphas: np.ndarray | None) -> CoxnetSurvivalAnalysis:
        return CoxnetSurvivalAnalysis(
            l1_ratio=self.l1_ratio,
            n_alphas=self.n_alphas,
            alphas=alphas,
            penalty_factor=self.penalty_factor,
            fit_baseline_model=False,  # the baseline is :func:`_breslow_log_hazard`'s
            max_iter=100_000,
        )

    def _fit_path(
        self, x: np.ndarray, y: np.ndarray, alphas: np.ndarray | None, *, notes: _Notes,
        what: str,
    ) -> CoxnetSurvivalAnalysis:  # fmt: skip
        """Fit the path, truncating it where the coordinate descent overflows.

        glmnet stops a Cox path early when the smallest penalties overfit (p >> n);
        scikit-survival raises instead.  The path is then cut to its larger penalties
        (first by 1/4 of its length at a time) and the cut is recorded in the notes.
        """
        if alphas is None:
            first = self._new(None)
            try:
                return notes.run(what, first.fit, x, y)
            except ArithmeticError:
                # recover the automatic grid: a one-penalty fit at the largest value is safe
                probe = self._new(None)
                probe.set_params(n_alphas=1)
                alpha_max = float(notes.run(what, probe.fit, x, y).alphas_[0])
                ratio = 1e-4 if x.shape[0] > x.shape[1] else 1e-2
                alphas = alpha_max * np.logspace(0, np.log10(ratio), self.n_alphas)
        keep = alphas.size
        while True:
            try:
                return notes.run(what, self._new(alphas[:keep]).fit, x, y)
            except ArithmeticError:
                if keep <= 1:
                    raise
                keep = max(1, (keep * 3) // 4)
                text = (
                    f"{what}: elastic-net path overflowed at small penalties; "
                    "path truncated to its larger penalties (as glmnet stops early)"
                )
                if text not in notes.items:
                    notes.items.append(text)

    def fit(
        self, x: np.ndarray, time: np.ndarray, event: np.ndarray, *, seed: int, notes: _Notes,
        what: str,
    ) -> Self:  # fmt: skip
        """Path on all rows, inner-CV choice of the penalty, baseline hazard at it."""
        y = _y(time, event)
        path = self._fit_path(x, y, None, notes=notes, what=what)
        alphas = np.asarray(path.alphas_)
        scores = np.zeros(alphas.size)
        for held in _inner_folds(event, self.inner_folds, seed):
            train = np.setdiff1d(np.arange(event.size), held)
            if not (event[train] > 0).any() or not (event[held] > 0).any():
                continue
            inner = self._fit_path(x[train], y[train], alphas, notes=notes, what=what)
            # penalties the inner path could not reach are not eligible
            scores[len(inner.alphas_) :] = -np.inf
            for j, a in enumerate(inner.alphas_):
                risk = inner.predict(x[held], alpha=a)
                c = _harrell(time[held], event[held], risk)
                scores[j] += 0.0 if math.isnan(c) else c
        best = int(np.flatnonzero(scores == scores.max())[0])  # alphas decrease: first = largest
        self.alpha_ = float(alphas[best])
        self.model_ = path
        lp = self.predict(x)
        if not np.isfinite(lp).all():
            msg = (
                f"{what}: the linear predictor of the training patients is not finite at "
                f"penalty {self.alpha_:.3g}; check the inputs for infinite values"
            )
            raise ArithmeticError(msg)
        self.event_times_, self.log_baseline_hazard_ = _breslow_log_hazard(lp, time, event)
        return self

    def coef(self) -> np.ndarray:
        """Coefficients at the chosen penalty."""
        assert self.model_ is not None
        j = int(np.argmin(np.abs(self.model_.alphas_ - self.alpha_)))
        return np.asarray(self.model_.coef_)[:, j]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Linear predictor at the chosen penalty."""
        assert self.model_ is not None
        return np.asarray(self.model_.predict(x, alpha=self.alpha_), dtype=np.float64)

    def survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Predicted survival at ``times``: Breslow baseline at the chosen penalty."""
        assert self.model_ is not None
        if getattr(self, "log_baseline_hazard_", np.empty(0)).size == 0:
            msg = (
                "this elastic-net Cox model has no baseline hazard (saved by an older "
                "survomics); refit it (rerun rule final_model)"
            )
            raise ValueError(msg)
        return _cox_survival(self.predict(x), self.event_times_, self.log_baseline_hazard_, times)


# --- models -----------------------------------------------------------------------------


class SurvivalModel:
    """One model's whole fitted pipeline (blocks, tuning, estimator); picklable.

    Use :func:`build_model`, then :meth:`fit` on training patients.
    """

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.blocks: dict[str, ModalityBlock] = {}
        self.clinical: ClinicalBlock | None = None
        self.estimator: Any = None
        self.base: dict[str, tuple[ModalityBlock, _TunedCoxnet]] = {}
        self.stack_center = np.empty(0)
        self.stack_scale = np.empty(0)
        self.notes: list[str] = []
        self.seed = 0

    # patients and designs

    def eligible(self, data: CohortData) -> np.ndarray:
        """Patients this model can score."""
        if not self.spec.modalities:
            return np.ones(len(data.patients), dtype=bool)
        has = [
            data.has_modality(m) if m in data.omics else np.zeros(len(data.patients), bool)
            for m in self.spec.modalities
        ]
        if self.spec.kind in ("early_fusion", "late_fusion"):
            return np.logical_or.reduce(has)
        return np.logical_and.reduce(has)

    def _design(self, data: CohortData) -> np.ndarray:
        parts = [self.blocks[m].transform(data)[0] for m in self.spec.modalities]
        if self.clinical is not None:
            parts.append(self.clinical.transform(data))
        return np.hstack(parts)

    def _design_names(self) -> list[tuple[str, str]]:
        names = [(m, f) for m in self.spec.modalities for f in self.blocks[m].selected_]
        if self.clinical is not None:
            names += [(CLINICAL, c) for c in self.clinical.columns_]
        return names

    # fit

    def fit(self, data: CohortData, *, seed: int) -> Self:
        """Fit on the eligible patients of ``data`` (its training patients)."""
        spec = self.spec
        self.seed = int(seed)
        data = data.subset(
            [p for p, ok in zip(data.patients, self.eligible(data), strict=True) if ok]
        )
        notes = _Notes()
        if spec.covariates:
            self.clinical = ClinicalBlock(spec.covariates).fit(data)
        if spec.kind == "late_fusion":
            self._fit_late(data, notes)
        else:
            for m in spec.modalities:
                self.blocks[m] = ModalityBlock(m, spec.setting(m)).fit(
                    data,
                    seed=self.seed,
                    l1_ratio=spec.l1_ratio,
                    inner_folds=spec.inner_folds,
                    notes=notes,
                )
            x, y = self._design(data), _y(data.time, data.event)
            if spec.kind == "clinical":
                self.estimator = notes.run(
                    "cox", CoxPHSurvivalAnalysis(ties=spec.ties, n_iter=200, tol=1e-12).fit, x, y
                )
            elif spec.kind in ("coxnet", "early_fusion"):
                factor = None
                if self.clinical is not None and self.clinical.columns_:
                    factor = np.ones(x.shape[1])
                    factor[-len(self.clinical.columns_) :] = 0.0  # clinical unpenalized
                self.estimator = _TunedCoxnet(
                    l1_ratio=spec.l1_ratio,
                    n_alphas=spec.n_alphas,
                    inner_folds=spec.inner_folds,
                    penalty_factor=factor,
                ).fit(x, data.time, data.event, seed=self.seed, notes=notes, what=spec.kind)
            elif spec.kind == "rsf":
                from sksurv.ensemble import RandomSurvivalForest  # noqa: PLC0415 - 0.4 s import

                grid = time_grid(data.time, data.event, points=spec.rsf_time_points)
                self.estimator = notes.run(
                    "rsf",
                    RandomSurvivalForest(
                        n_estimators=spec.rsf_trees,
                        min_samples_leaf=spec.rsf_min_leaf,
                        max_features="sqrt",
                        random_state=self.seed % (2**32),
                        n_jobs=1,
                    ).fit,
                    x,
                    _y(grid, data.event),
                )
            else:  # gbsa
                from sksurv.ensemble import GradientBoostingSurvivalAnalysis  # noqa: PLC0415

                self.estimator = notes.run(
                    "gbsa",
                    GradientBoostingSurvivalAnalysis(
                        loss="coxph",
                        n_estimators=spec.gbsa_trees,
                        learning_rate=spec.gbsa_learning_rate,
                        max_depth=spec.gbsa_max_depth,
                        random_state=self.seed % (2**32),
                    ).fit,
                    x,
                    y,
                )
        self.notes = notes.items
        return self

    def _base_fit(
        self, modality: str, data: CohortData, notes: _Notes
    ) -> tuple[ModalityBlock, _TunedCoxnet]:
        spec = self.spec
        sub = data.subset(
            [p for p, ok in zip(data.patients, data.has_modality(modality), strict=True) if ok]
        )
        block = ModalityBlock(modality, spec.setting(modality)).fit(
            sub, seed=self.seed, l1_ratio=spec.l1_ratio, inner_folds=spec.inner_folds, notes=notes
        )
        net = _TunedCoxnet(
            l1_ratio=spec.l1_ratio, n_alphas=spec.n_alphas, inner_folds=spec.inner_folds
        )
        net.fit(
            block.transform(sub)[0],
            sub.time,
            sub.event,
            seed=self.seed,
            notes=notes,
            what=f"{modality} base coxnet",
        )
        return block, net

    def _base_scores(self, data: CohortData) -> np.ndarray:
        cols = []
        for m in self.spec.modalities:
            block, net = self.base[m]
            z, present = block.transform(data)
            cols.append(np.where(present, net.predict(z), np.nan))
        return np.column_stack(cols)

    def _fit_late(self, data: CohortData, notes: _Notes) -> None:
        """Out-of-fold base scores on the training set, then a Cox model on them."""
        n = len(data.patients)
        oof = np.full((n, len(self.spec.modalities)), np.nan)
        for held in _inner_folds(data.event, self.spec.inner_folds, self.seed + 1):
            train = np.setdiff1d(np.arange(n), held)
            inner = SurvivalModel(self.spec)
            inner.seed = self.seed
            inner_train = data.subset([data.patients[i] for i in train])
            inner.base = {m: inner._base_fit(m, inner_train, notes) for m in self.spec.modalities}
            oof[held] = inner._base_scores(data.subset([data.patients[i] for i in held]))
        self.stack_center = np.nanmean(oof, axis=0)
        scale = np.nanstd(oof, axis=0, ddof=1)
        self.stack_scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.base = {m: self._base_fit(m, data, notes) for m in self.spec.modalities}
        x = self._stacked(oof, data)
        self.estimator = notes.run(
            "stacked cox",
            CoxPHSurvivalAnalysis(ties=self.spec.ties, n_iter=200, tol=1e-12).fit,
            x,
            _y(data.time, data.event),
        )

    def _stacked(self, scores: np.ndarray, data: CohortData) -> np.ndarray:
        z = (scores - self.stack_center) / self.stack_scale
        z = np.where(np.isnan(z), 0.0, z)  # a missing modality: its training mean
        if self.clinical is not None:
            z = np.hstack([z, self.clinical.transform(data)])
        return z

    # predict

    def _x(self, data: CohortData) -> np.ndarray:
        if self.spec.kind == "late_fusion":
            return self._stacked(self._base_scores(data), data)
        return self._design(data)

    def predict_risk(self, data: CohortData) -> np.ndarray:
        """Risk score per patient (higher = higher risk; NaN where not eligible)."""
        out = np.full(len(data.patients), np.nan)
        ok = self.eligible(data)
        if ok.any():
            sub = data.subset([p for p, e in zip(data.patients, ok, strict=True) if e])
            out[ok] = np.asarray(self.estimator.predict(self._x(sub)), dtype=np.float64)
        return out

    def predict_survival(self, data: CohortData, times: np.ndarray) -> np.ndarray:
        """Predicted survival probabilities at ``times`` (rows: patients; NaN if ineligible)."""
        times = np.asarray(times, dtype=np.float64)
        out = np.full((len(data.patients), times.size), np.nan)
        ok = self.eligible(data)
        if ok.any():
            sub = data.subset([p for p, e in zip(data.patients, ok, strict=True) if e])
            x = self._x(sub)
            if isinstance(self.estimator, _TunedCoxnet):
                out[ok] = self.estimator.survival(x, times)
            else:
                out[ok] = _step_values(self.estimator.predict_survival_function(x), times)
            _check_survival(out[ok], model=self.spec.name)
        return out

    def selected_features(self) -> pl.DataFrame:
        """Features the fitted model uses: ``modality, feature, coef`` (standardised scale).

        ``coef`` is NaN for forests and boosting; for late fusion the base models'
        non-zero coefficients are listed (``modality`` = the base modality).
        """
        rows: list[tuple[str, str, float]] = []
        if self.spec.kind == "late_fusion":
            for m, (block, net) in self.base.items():
                coef = net.coef()
                rows += [
                    (m, f, float(c)) for f, c in zip(block.selected_, coef, strict=True) if c != 0
                ]
        elif self.spec.kind in ("clinical", "coxnet", "early_fusion"):
            coef = (
                self.estimator.coef()
                if isinstance(self.estimator, _TunedCoxnet)
                else np.asarray(self.estimator.coef_)
            )
            rows = [
                (m, f, float(c))
                for (m, f), c in zip(self._design_names(), coef, strict=True)
                if c != 0 or m == CLINICAL
            ]
        else:
            rows = [(m, f, math.nan) for m, f in self._design_names()]
        return pl.DataFrame(
            rows,
            schema={"modality": pl.String, "feature": pl.String, "coef": pl.Float64},
            orient="row",
        )

    def feature_names_in(self) -> dict[str, list[str]]:
        """Per modality, the features the model reads from a cohort (its selected ones)."""
        if self.spec.kind == "late_fusion":
            return {m: list(block.selected_) for m, (block, _) in self.base.items()}
        return {m: list(b.selected_) for m, b in self.blocks.items()}


def build_model(spec: ModelSpec) -> SurvivalModel:
    """An unfitted model of ``spec``."""
    if spec.kind not in ("clinical", "coxnet", "rsf", "gbsa", "early_fusion", "late_fusion"):
        msg = f"unknown model kind {spec.kind!r}"
        raise ValueError(msg)
    if spec.kind == "clinical" and not spec.covariates:
        msg = f"model '{spec.name}': the clinical model needs covariates"
        raise ValueError(msg)
    if spec.kind != "clinical" and not spec.modalities:
        msg = f"model '{spec.name}' ({spec.kind}) needs at least one modality"
        raise ValueError(msg)
    return SurvivalModel(spec)


# --- cross-validation -------------------------------------------------------------------


def fold_seed(seed: int, repeat: int, fold: int) -> int:
    """The seed of one outer split, derived from the config seed only."""
    return int(np.random.SeedSequence([seed, repeat, fold]).generate_state(1)[0])


@dataclass(frozen=True)
class FoldResult:
    """Outputs of one (model, outer split)."""

    predictions: pl.DataFrame
    selected: pl.DataFrame
    excluded: pl.DataFrame
    notes: list[str]


def run_fold(
    spec: ModelSpec,
    data: CohortData,
    *,
    train: Sequence[str],
    test: Sequence[str],
    times: np.ndarray,
    seed: int,
    split: str | None = None,
) -> FoldResult:
    """Fit on ``train``, predict ``test``: risk and survival at ``times`` per test patient.

    ``split`` (e.g. ``r0f1``) only names the outer split in error messages.
    """
    overlap = set(train) & set(test)
    if overlap:
        msg = f"{len(overlap)} patients are in both the training and the test set"
        raise ValueError(msg)
    model = build_model(spec).fit(data.subset(list(train)), seed=seed)
    held = data.subset(list(test))
    ok = model.eligible(held)
    ids = [p for p, e in zip(held.patients, ok, strict=True) if e]
    part = held.subset(ids)
    risk = model.predict_risk(part)
    try:
        survival = model.predict_survival(part, times)
    except NonFiniteSurvivalError as error:
        where = f"outer split {split}" if split else f"the outer split of seed {seed}"
        msg = f"{error} ({where}, {len(train)} training patients)"
        raise NonFiniteSurvivalError(msg) from error
    predictions = pl.DataFrame(
        {
            "patient_id": ids,
            "risk": risk,
            **{f"s_{t:g}": survival[:, j] for j, t in enumerate(times)},
        },
        schema={"patient_id": pl.String, "risk": pl.Float64}
        | {f"s_{t:g}": pl.Float64 for t in times},
    )
    missing = list(spec.modalities)
    excluded = pl.DataFrame(
        {
            "patient_id": [p for p, e in zip(held.patients, ok, strict=True) if not e],
            "reason": f"lacks_modality_{'_or_'.join(missing)}" if missing else "not_eligible",
        },
        schema={"patient_id": pl.String, "reason": pl.String},
    )
    return FoldResult(predictions, model.selected_features(), excluded, model.notes)


def run_split(
    spec: ModelSpec,
    data: CohortData,
    splits: pl.DataFrame,
    *,
    repeat: int,
    fold: int,
    times: np.ndarray,
    seed: int,
) -> tuple[list[str], list[str], FoldResult]:
    """:func:`run_fold` on outer split ``(repeat, fold)`` of ``splits`` with its own seed.

    The split's seed is ``fold_seed(seed, repeat, fold)`` wherever it is fitted (one job
    per split, per repeat, or all in one process), so the results do not depend on how
    the splits are grouped into jobs. Returns the training and test patients and the
    result.
    """
    from survomics.model.splits import fold_patients  # noqa: PLC0415

    train, test = fold_patients(splits, repeat=repeat, fold=fold)
    result = run_fold(
        spec,
        data,
        train=train,
        test=test,
        times=times,
        seed=fold_seed(seed, repeat, fold),
        split=f"r{repeat}f{fold}",
    )
    return train, test, result


def cross_validate(
    spec: ModelSpec, data: CohortData, splits: pl.DataFrame, *, times: np.ndarray, seed: int
) -> pl.DataFrame:
    """Out-of-fold predictions over every split of ``splits`` (``outer_splits`` layout)."""
    frames = []
    for repeat, fold in splits.select("repeat", "fold").unique().sort("repeat", "fold").iter_rows():
        _, _, result = run_split(
            spec, data, splits, repeat=repeat, fold=fold, times=times, seed=seed
        )
        frames.append(
            result.predictions.select(
                pl.lit(repeat, pl.Int32).alias("repeat"),
                pl.lit(fold, pl.Int32).alias("fold"),
                pl.all(),
            )
        )
    return pl.concat(frames)


# --- persistence ------------------------------------------------------------------------

PINNED = ("numpy", "scikit-learn", "scikit-survival")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(
    model: SurvivalModel,
    path: Path,
    *,
    spec: ModelSpec,
    config_hash: str,
    training_patients: Sequence[str],
    extra: Mapping[str, Any],
) -> None:
    """Write ``model`` (joblib) and its JSON sidecar ``path.with_suffix('.json')``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp, compress=3)
    selected = model.selected_features()
    sidecar = {
        "model": spec.name,
        "kind": spec.kind,
        "modalities": list(spec.modalities),
        "covariates": list(spec.covariates),
        "features": model.feature_names_in(),
        "coefficients": [
            {"modality": m, "feature": f, "coef": None if math.isnan(c) else c}
            for m, f, c in selected.iter_rows()
        ],
        "penalty": getattr(model.estimator, "alpha_", None),
        "seed": model.seed,
        "notes": model.notes,
        "config_hash": config_hash,
        "training_patients": len(training_patients),
        "versions": {name: version(name) for name in (*PINNED, "survomics")},
        "joblib_sha256": _sha256(path),
        **dict(extra),
    }
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(sidecar, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def load_model(path: Path) -> SurvivalModel:
    """Load a frozen model, refusing a changed file or other library versions."""
    path = Path(path)
    sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if _sha256(path) != sidecar["joblib_sha256"]:
        raise InputError(
            str(path),
            "the model file does not match the SHA-256 in its sidecar",
            fix="refit the model (rerun the final_model rule); do not edit model files",
        )
    for name in PINNED:
        if version(name) != sidecar["versions"][name]:
            raise InputError(
                str(path),
                f"saved with {name} {sidecar['versions'][name]}, running {version(name)}",
                fix=f"install {name}=={sidecar['versions'][name]} or refit the model",
            )
    model: SurvivalModel = joblib.load(path)
    return model


def align_for_scoring(model: SurvivalModel, data: CohortData) -> tuple[CohortData, pl.DataFrame]:
    """Align another cohort to the model's features by name, reporting what is missing.

    Missing features take the training median (the model's imputation); the report has
    one row (``modality, feature, status``) per feature the model uses but the cohort
    lacks.
    """
    rows = []
    omics = dict(data.omics)
    for modality, names in model.feature_names_in().items():
        frame = omics.get(modality)
        present = set() if frame is None else set(frame.columns)
        rows += [(modality, f, "missing_in_test") for f in names if f not in present]
        if frame is not None:
            omics[modality] = frame.reindex(columns=names)
    report = pl.DataFrame(
        rows,
        schema={"modality": pl.String, "feature": pl.String, "status": pl.String},
        orient="row",
    )
    aligned = CohortData(data.patients, data.time, data.event, data.clinical, omics)
    return aligned, report
