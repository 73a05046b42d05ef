"""Survival summaries that reproduce R ``survival`` 3.5-3.

Which library computes what
---------------------------
* Product-limit estimate and Greenwood standard error: :class:`statsmodels SurvfuncRight
  <statsmodels.duration.survfunc.SurvfuncRight>` (evaluated at event times; carried
  forward over censoring-only times here).
* Log-rank chi-square: :func:`statsmodels.duration.survfunc.survdiff`; the observed and
  expected counts per group are plain sums written here, the p-value is
  :func:`scipy.stats.chi2.sf` (statsmodels' ``1 - cdf`` loses digits for small p).
* Cox model: :class:`statsmodels PHReg <statsmodels.duration.hazard_regression.PHReg>`
  (Efron or Breslow ties); Wald z, p and intervals from its estimates.
* Harrell's C: :func:`sksurv.metrics.concordance_index_censored` with exact score ties.

Written here because no library gives R's numbers
-------------------------------------------------
* The log-transformed pointwise interval of ``survfit`` (``conf.type = "log"``).
* The median of ``print.survfit`` / ``summary(fit)$table`` (R's ``minmin`` rule,
  including the midpoint on a flat stretch at exactly 0.5): where R reports 551.5 (TCGA-ACC
  stage iv), ``SurvfuncRight.quantile`` gives 551 and lifelines 552.
* The proportional-hazards test of ``cox.zph`` (survival >= 3.0: a score test of
  ``X * g(t)`` terms, R's C routine ``zph1``), on the coefficients of :func:`cox_fit`;
  lifelines' ``proportional_hazard_test`` is the survival 2.x approximation.

R definitions reproduced
------------------------
``summary(survfit(Surv(time, event) ~ group))`` (``std.err`` of S(t), 95% log interval,
upper limit clipped at 1, limits NA once S(t) = 0), ``survfit`` medians with their 95%
limits, ``survdiff(..., rho = 0)``, ``coxph(..., ties = "efron")`` Wald results,
``model.matrix`` treatment contrasts (``contr.treatment``, first level reference, column
``"{var}{level}"``), ``cox.zph(fit, transform = "km")`` and
``concordance(Surv(time, event) ~ score, reverse = TRUE)``.
Times are whatever unit the caller uses (days in survomics).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl
from numpy.typing import ArrayLike
from scipy import stats
from sksurv.exceptions import NoComparablePairException
from sksurv.metrics import concordance_index_censored
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.tools.sm_exceptions import ConvergenceWarning

__all__ = [
    "COX_COLUMNS",
    "KM_COLUMNS",
    "MEDIAN_COLUMNS",
    "PH_COLUMNS",
    "Design",
    "LogrankResult",
    "cox_fit",
    "dummy_design",
    "harrell_c",
    "kaplan_meier",
    "km_medians",
    "logrank_test",
    "median_followup",
    "ph_test",
]

KM_COLUMNS: tuple[str, ...] = (
    "stratum",
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "std_err",
    "lower_95",
    "upper_95",
)
"""Columns of :func:`kaplan_meier`, in order."""

MEDIAN_COLUMNS: tuple[str, ...] = ("stratum", "n", "events", "median", "lower_95", "upper_95")
"""Columns of :func:`km_medians`, in order."""

COX_COLUMNS: tuple[str, ...] = ("term", "coef", "hr", "se", "z", "p", "lower_95", "upper_95")
"""Columns of :func:`cox_fit`, in order."""

PH_COLUMNS: tuple[str, ...] = ("term", "chisq", "df", "p")
"""Columns of :func:`ph_test`, in order."""

GLOBAL_TERM = "GLOBAL"
"""Name of the last row of :func:`ph_test` (all terms at once), as in R."""

Z95 = float(stats.norm.ppf(0.975))
"""R's ``qnorm(0.975)``."""

_R_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))
"""R's ``.Machine$double.eps^0.5``, the tolerance of ``minmin`` in ``print.survfit``."""

ALL_STRATUM = "all"
"""Stratum name used when no grouping is given."""


# ---------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------


def _survival_arrays(time: ArrayLike, event: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``time`` (float64) and ``event`` (int64 0/1)."""
    t = np.asarray(time, dtype=np.float64)
    e_raw = np.asarray(event)
    if t.ndim != 1 or e_raw.ndim != 1:
        msg = f"time and event must be 1-D, got shapes {t.shape} and {e_raw.shape}"
        raise ValueError(msg)
    if t.shape != e_raw.shape:
        msg = f"time and event differ in length ({t.size} vs {e_raw.size})"
        raise ValueError(msg)
    if t.size == 0:
        msg = "no observations"
        raise ValueError(msg)
    bad = ~np.isfinite(t)
    if bad.any():
        msg = (
            f"time has {int(bad.sum())} missing or infinite values (first at row "
            f"{int(np.flatnonzero(bad)[0])}); drop those rows first"
        )
        raise ValueError(msg)
    if (t < 0).any():
        msg = f"time has negative values (first at row {int(np.flatnonzero(t < 0)[0])})"
        raise ValueError(msg)
    msg = "event must be 0/1 (or boolean) without missing values"
    try:
        e_float = np.asarray(e_raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(msg) from exc
    if not np.isin(e_float, (0.0, 1.0)).all():
        raise ValueError(msg)
    return t, e_float.astype(np.int64)


def _group_codes(group: ArrayLike | pl.Series, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes into the sorted group levels, and the levels as strings.

    Numeric and boolean groups sort by value, anything else by its string (code point
    order, as R in the C locale).
    """
    values = group.to_numpy() if isinstance(group, pl.Series) else np.asarray(group)
    if values.ndim != 1 or values.size != n:
        msg = f"group must be 1-D with one value per observation ({n}), got shape {values.shape}"
        raise ValueError(msg)
    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)
        msg = (
            f"group has {rows.size} missing values (rows {rows[:5].tolist()}"
            f"{'...' if rows.size > 5 else ''}); drop those observations before the "
            "analysis (R would silently drop them)"
        )
        raise ValueError(msg)
    if values.dtype.kind in "biuf":
        levels_raw, codes = np.unique(values, return_inverse=True)
        levels = [str(v) for v in levels_raw.tolist()]
    else:
        strings = np.array([str(v) for v in values.tolist()], dtype=np.str_)
        levels_arr, codes = np.unique(strings, return_inverse=True)
        levels = [str(v) for v in levels_arr.tolist()]
    return codes.astype(np.int64), levels


# ---------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------


def _km_stratum(time: np.ndarray, event: np.ndarray) -> dict[str, np.ndarray]:
    """Product-limit estimate of one stratum at each distinct time (event or censoring)."""
    utime, inverse = np.unique(time, return_inverse=True)
    m = utime.size
    n_event = np.bincount(inverse, weights=event, minlength=m).astype(np.int64)
    n_total = np.bincount(inverse, minlength=m).astype(np.int64)
    n_censor = n_total - n_event
    n_risk = np.cumsum(n_total[::-1])[::-1]

    survival = np.ones(m)
    std_err = np.zeros(m)
    if n_event.any():
        fit = SurvfuncRight(time, event)
        # SurvfuncRight reports event times only; S(t) and its SE are constant in between.
        at = np.searchsorted(fit.surv_times, utime, side="right") - 1
        seen = at >= 0
        survival[seen] = fit.surv_prob[at[seen]]
        std_err[seen] = fit.surv_prob_se[at[seen]]

    # R: std.err of log S is sqrt(sum d / (n (n - d))); summary() reports S * that, which is
    # what SurvfuncRight returns. Both are undefined (NA) once S(t) = 0.
    positive = survival > 0
    std_err = np.where(positive, std_err, np.nan)
    se_log = np.divide(std_err, survival, out=np.full(m, np.nan), where=positive)
    lower = survival * np.exp(-Z95 * se_log)
    upper = np.minimum(survival * np.exp(Z95 * se_log), 1.0)
    return {
        "time": utime,
        "n_risk": n_risk,
        "n_event": n_event,
        "n_censor": n_censor,
        "survival": survival,
        "std_err": std_err,
        "lower_95": lower,
        "upper_95": upper,
    }


def kaplan_meier(
    time: ArrayLike, event: ArrayLike, *, group: ArrayLike | pl.Series | None = None
) -> pl.DataFrame:
    """Kaplan-Meier estimate per stratum, as R ``summary(survfit(...), censored = TRUE)``.

    Parameters
    ----------
    time
        Follow-up times (non-negative, finite).
    event
        1 = event, 0 = censored (booleans allowed).
    group
        Stratum of each observation (any values; reported as strings). ``None`` gives a
        single stratum named ``"all"``. Missing values are rejected: drop those
        observations first.

    Returns
    -------
    polars.DataFrame
        Columns :data:`KM_COLUMNS`; strata in sorted order (numeric groups by value), one
        row per distinct time of the stratum (event and censoring times). ``std_err`` is
        Greenwood's standard error of S(t); ``lower_95``/``upper_95`` the log-transformed
        interval ``S exp(±1.96 se(log S))`` with the upper limit clipped at 1. The three
        are null where S(t) = 0, as in R.

    Raises
    ------
    ValueError
        If the inputs have different lengths, missing or negative times, non-0/1 events
        or missing group values.
    """
    t, e = _survival_arrays(time, event)
    if group is None:
        codes, levels = np.zeros(t.size, dtype=np.int64), [ALL_STRATUM]
    else:
        codes, levels = _group_codes(group, t.size)
    frames = []
    for k, level in enumerate(levels):
        mask = codes == k
        columns = _km_stratum(t[mask], e[mask])
        frames.append(
            pl.DataFrame(
                {"stratum": [level] * columns["time"].size, **columns},
                schema={
                    "stratum": pl.String,
                    "time": pl.Float64,
                    "n_risk": pl.Int64,
                    "n_event": pl.Int64,
                    "n_censor": pl.Int64,
                    "survival": pl.Float64,
                    "std_err": pl.Float64,
                    "lower_95": pl.Float64,
                    "upper_95": pl.Float64,
                },
            )
        )
    return pl.concat(frames).with_columns(pl.col(pl.Float64).fill_nan(None)).select(KM_COLUMNS)


def _r_median(times: np.ndarray, curve: np.ndarray) -> float | None:
    """R's ``minmin`` (``print.survfit``): first time the curve is <= 0.5.

    If the curve sits at exactly 0.5 (within ``sqrt(eps)``) there and drops later, the
    midpoint between that time and the time of the next drop. Missing curve values (the
    limits after S(t) = 0) are skipped; ``None`` if the curve never reaches 0.5.
    """
    keep = np.isfinite(curve) & (curve < 0.5 + _R_TOLERANCE)
    if not keep.any():
        return None
    x, y = times[keep], curve[keep]
    lower_later = np.flatnonzero(y < y[0])
    if abs(y[0] - 0.5) < _R_TOLERANCE and lower_later.size:
        return float((x[0] + x[lower_later[0]]) / 2)
    return float(x[0])


def _medians_of(km: pl.DataFrame) -> pl.DataFrame:
    """Median and its 95% limits per stratum of a :func:`kaplan_meier` frame."""
    rows = []
    for (stratum,), part in km.group_by("stratum", maintain_order=True):
        times = part["time"].to_numpy()
        curves = {
            name: part[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            for name in ("survival", "lower_95", "upper_95")
        }
        rows.append(
            {
                "stratum": str(stratum),
                "n": int(part["n_risk"][0]),
                "events": int(part["n_event"].sum()),
                "median": _r_median(times, curves["survival"]),
                "lower_95": _r_median(times, curves["lower_95"]),
                "upper_95": _r_median(times, curves["upper_95"]),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "stratum": pl.String,
            "n": pl.Int64,
            "events": pl.Int64,
            "median": pl.Float64,
            "lower_95": pl.Float64,
            "upper_95": pl.Float64,
        },
        orient="row",
    )


def km_medians(
    time: ArrayLike, event: ArrayLike, *, group: ArrayLike | pl.Series | None = None
) -> pl.DataFrame:
    """Median survival per stratum with R's definition and 95% limits.

    The median is the smallest time with S(t) <= 0.5; when S(t) equals 0.5 (within
    R's tolerance ``sqrt(.Machine$double.eps)``) on a flat stretch, it is the midpoint
    between the start of the stretch and the next event time (R's ``minmin`` rule of
    ``print.survfit`` / ``summary(fit)$table``). The limits apply the same rule to the
    lower and upper 95% curves (``0.95LCL``/``0.95UCL``).

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    group
        Stratum of each observation, or ``None`` for one stratum ``"all"``.

    Returns
    -------
    polars.DataFrame
        Columns :data:`MEDIAN_COLUMNS`, one row per stratum in sorted order; ``median``
        and the limits are null where not reached.
    """
    return _medians_of(kaplan_meier(time, event, group=group))


def median_followup(time: ArrayLike, event: ArrayLike) -> float:
    """Median follow-up by the reverse Kaplan-Meier method.

    The median (R's rule, see :func:`km_medians`) of ``survfit(Surv(time, 1 - event) ~
    1)``: censoring is the event and deaths censor follow-up.

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.

    Returns
    -------
    float
        The median follow-up, ``nan`` if the reverse curve never reaches 0.5.
    """
    t, e = _survival_arrays(time, event)
    median = _medians_of(kaplan_meier(t, 1 - e))["median"][0]
    return float("nan") if median is None else float(median)


# ---------------------------------------------------------------------------------------
# Log-rank test
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogrankResult:
    """Result of :func:`logrank_test` (R ``survdiff``, ``rho = 0``).

    Attributes
    ----------
    chisq
        Log-rank chi-square.
    df
        Degrees of freedom: groups with a positive expected count, minus one.
    p
        Upper-tail chi-square p-value.
    n
        Observations per group (sorted group order).
    observed
        Observed events per group.
    expected
        Expected events per group under equal hazards.
    """

    chisq: float
    df: int
    p: float
    n: dict[str, int]
    observed: dict[str, float]
    expected: dict[str, float]


def logrank_test(time: ArrayLike, event: ArrayLike, group: ArrayLike | pl.Series) -> LogrankResult:
    """Log-rank test of equal survival across groups, as R ``survdiff`` (``rho = 0``).

    Groups with no one at risk at any event time (expected count 0) are left out of the
    chi-square and the degrees of freedom, as in R.

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    group
        Group of each observation (no missing values).

    Returns
    -------
    LogrankResult
        Chi-square, degrees of freedom, p-value and per-group n, observed and expected.

    Raises
    ------
    ValueError
        If fewer than two groups have anyone at risk at an event time.
    """
    t, e = _survival_arrays(time, event)
    codes, levels = _group_codes(group, t.size)
    k = len(levels)
    if k < 2:
        msg = f"the log-rank test needs at least two groups, got {levels}"
        raise ValueError(msg)

    utime, inverse = np.unique(t, return_inverse=True)
    m = utime.size
    deaths = np.bincount(inverse, weights=e, minlength=m)
    at_risk = np.empty((k, m))
    observed = np.empty(k)
    for g in range(k):
        mask = codes == g
        counts = np.bincount(inverse[mask], minlength=m)
        at_risk[g] = np.cumsum(counts[::-1])[::-1]
        observed[g] = e[mask].sum()
    total_at_risk = at_risk.sum(axis=0)
    expected = (at_risk / total_at_risk * deaths).sum(axis=1)

    informative = expected > 0
    df = int(informative.sum()) - 1
    if df < 1:
        msg = "fewer than two groups have anyone at risk at an event time; nothing to compare"
        raise ValueError(msg)
    keep = informative[codes]
    chisq, _ = survdiff(t[keep], e[keep], codes[keep])
    chisq = float(chisq)
    n = np.bincount(codes, minlength=k)
    return LogrankResult(
        chisq=chisq,
        df=df,
        p=float(stats.chi2.sf(chisq, df)),
        n={level: int(n[i]) for i, level in enumerate(levels)},
        observed={level: float(observed[i]) for i, level in enumerate(levels)},
        expected={level: float(expected[i]) for i, level in enumerate(levels)},
    )


# ---------------------------------------------------------------------------------------
# Cox model
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """Numeric design matrix made by :func:`dummy_design`.

    Attributes
    ----------
    matrix
        Float64 columns: the numeric variables, then one dummy per non-reference level.
    kept
        Input row indices (0-based) of the rows of ``matrix``.
    dropped
        Input row indices dropped for a missing value.
    reference
        Reference level of each categorical variable.
    """

    matrix: pl.DataFrame
    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    reference: dict[str, str]


def dummy_design(
    frame: pl.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    reference: dict[str, str] | None = None,
) -> Design:
    """Treatment-coded design matrix like R's ``model.matrix`` (without intercept).

    Rows with a missing value (null or NaN) in any used column are dropped first (R's
    ``na.omit``); the levels of a categorical variable are then its sorted distinct values
    among the kept rows (code-point order, as R in the C locale; numbers by value), the
    first one being the reference unless ``reference`` names another. Each other level
    gets a 0/1 column named ``"{var}{level}"`` (R's ``stagestage ii``).

    Parameters
    ----------
    frame
        The data.
    numeric
        Columns used as they are (cast to Float64).
    categorical
        Columns to dummy-code.
    reference
        Optional reference level per categorical column.

    Returns
    -------
    Design
        The matrix, kept and dropped row indices and the reference levels.

    Raises
    ------
    ValueError
        If a column is absent or used twice, a reference level does not occur, a
        categorical variable has a single level, or no row is left.
    """
    reference = dict(reference or {})
    used = [*numeric, *categorical]
    absent = [c for c in used if c not in frame.columns]
    if absent:
        msg = f"columns not in the frame: {absent}"
        raise ValueError(msg)
    if len(set(used)) != len(used):
        msg = f"a column is listed more than once: {used}"
        raise ValueError(msg)
    unknown = sorted(set(reference) - set(categorical))
    if unknown:
        msg = f"reference given for non-categorical columns: {unknown}"
        raise ValueError(msg)

    missing = np.zeros(frame.height, dtype=bool)
    for column in used:
        series = frame[column]
        missing |= series.is_null().to_numpy()
        if series.dtype.is_float():
            missing |= series.is_nan().fill_null(value=False).to_numpy()
    kept = np.flatnonzero(~missing)
    if kept.size == 0:
        msg = f"no row is complete in {used}"
        raise ValueError(msg)
    data = frame[kept.tolist()]

    columns: dict[str, np.ndarray] = {
        name: data[name].cast(pl.Float64).to_numpy() for name in numeric
    }
    chosen: dict[str, str] = {}
    for name in categorical:
        codes, levels = _group_codes(data[name], data.height)
        if len(levels) < 2:
            msg = f"categorical column {name!r} has a single level {levels} in the kept rows"
            raise ValueError(msg)
        ref = reference.get(name, levels[0])
        if ref not in levels:
            msg = f"reference level {ref!r} of {name!r} is not among its levels {levels}"
            raise ValueError(msg)
        chosen[name] = ref
        for i, level in enumerate(levels):
            if level != ref:
                columns[f"{name}{level}"] = (codes == i).astype(np.float64)
    return Design(
        matrix=pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.Float64)),
        kept=tuple(int(i) for i in kept),
        dropped=tuple(int(i) for i in np.flatnonzero(missing)),
        reference=chosen,
    )


def cox_fit(
    time: ArrayLike,
    event: ArrayLike,
    design: pl.DataFrame,
    *,
    ties: Literal["efron", "breslow"] = "efron",
) -> pl.DataFrame:
    """Multivariable Cox model (statsmodels ``PHReg``) with Wald results like R ``coxph``.

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    design
        Numeric covariates, one column per term, no missing values (see
        :func:`dummy_design`).
    ties
        Handling of tied event times.

    Returns
    -------
    polars.DataFrame
        Columns :data:`COX_COLUMNS`, one row per design column: coefficient (log HR),
        HR, standard error, Wald z and two-sided p, and the 95% Wald interval of the HR.

    Raises
    ------
    ValueError
        On invalid inputs: non-numeric, missing or collinear (rank-deficient) columns.
    RuntimeError
        If the Newton iterations do not converge (e.g. monotone likelihood).
    """
    t, e = _survival_arrays(time, event)
    if ties not in ("efron", "breslow"):
        msg = f"ties must be 'efron' or 'breslow', got {ties!r}"
        raise ValueError(msg)
    if design.height != t.size:
        msg = f"design has {design.height} rows for {t.size} observations"
        raise ValueError(msg)
    if design.width == 0:
        msg = "design has no columns"
        raise ValueError(msg)
    not_numeric = [c for c, d in design.schema.items() if not (d.is_numeric() or d == pl.Boolean)]
    if not_numeric:
        msg = f"design columns must be numeric (make dummies first): {not_numeric}"
        raise ValueError(msg)
    x = design.cast(pl.Float64).to_numpy()
    if not np.isfinite(x).all():
        msg = "design has missing or infinite values; drop those rows first"
        raise ValueError(msg)
    centred = x - x.mean(axis=0)
    if np.linalg.matrix_rank(centred) < x.shape[1]:
        msg = f"design columns are constant or collinear: {design.columns}"
        raise ValueError(msg)
    if not e.any():
        msg = "no events: the Cox model cannot be fitted"
        raise ValueError(msg)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            result = PHReg(t, x, status=e, ties=ties).fit()
        except ConvergenceWarning as exc:
            msg = f"the Cox model did not converge (monotone likelihood?): {exc}"
            raise RuntimeError(msg) from exc
    coef = np.asarray(result.params, dtype=np.float64)
    se = np.asarray(result.bse, dtype=np.float64)
    z = coef / se
    return pl.DataFrame(
        {
            "term": design.columns,
            "coef": coef,
            "hr": np.exp(coef),
            "se": se,
            "z": z,
            "p": 2.0 * stats.norm.sf(np.abs(z)),
            "lower_95": np.exp(coef - Z95 * se),
            "upper_95": np.exp(coef + Z95 * se),
        },
        schema={"term": pl.String, **dict.fromkeys(COX_COLUMNS[1:], pl.Float64)},
    )


# ---------------------------------------------------------------------------------------
# Concordance
# ---------------------------------------------------------------------------------------


def harrell_c(time: ArrayLike, event: ArrayLike, score: ArrayLike) -> float:
    """Harrell's C, higher score = higher risk.

    Equals R ``survival::concordance(Surv(time, event) ~ score, reverse = TRUE)``
    (default ``timewt = "n"``): a pair is comparable when the shorter time is an event,
    including an event and a censoring at the same time (the censored one outlived the
    event); pairs of events at the same time are not comparable (R's ``tied.y``); exactly
    tied scores count one half. Computed by scikit-survival's
    ``concordance_index_censored`` with ``tied_tol=0`` (R compares scores exactly;
    scikit-survival's default tolerance of 1e-8 would count near-ties as ties).

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    score
        Risk score (e.g. a Cox linear predictor or an expression value).

    Returns
    -------
    float
        ``(concordant + tied / 2) / (concordant + discordant + tied)``.

    Raises
    ------
    ValueError
        On missing scores or when no pair is comparable.
    """
    t, e = _survival_arrays(time, event)
    s = np.asarray(score, dtype=np.float64)
    if s.shape != t.shape:
        msg = f"score has shape {s.shape}, expected {t.shape}"
        raise ValueError(msg)
    if not np.isfinite(s).all():
        msg = "score has missing or infinite values; drop those observations first"
        raise ValueError(msg)
    msg = "no comparable pair (no event before another observation's time)"
    # scikit-survival raises only when there is no event at all; events that are all
    # tied at the last time would make it divide 0 by 0.
    last = t.max()
    if not e.any() or (t[e == 1].min() == last and not ((t == last) & (e == 0)).any()):
        raise ValueError(msg)
    try:
        c_index, *_ = concordance_index_censored(e.astype(bool), t, s, tied_tol=0.0)
    except NoComparablePairException as exc:  # pragma: no cover - excluded above
        raise ValueError(msg) from exc
    return float(c_index)


# ---------------------------------------------------------------------------------------
# Proportional-hazards test
# ---------------------------------------------------------------------------------------


def _ph_time_transform(
    time: np.ndarray, event: np.ndarray, transform: Literal["km", "rank", "identity", "log"]
) -> np.ndarray:
    """g(t) of every observation, as R ``cox.zph`` transforms the times (not yet centred).

    ``"km"`` is ``1 - S(t-)``, the left-continuous Kaplan-Meier estimate of the pooled data;
    ``"rank"`` R's ``rank`` (ties get their average rank) over all observations.
    """
    if transform == "identity":
        return time.copy()
    if transform == "log":
        if (time[event == 1] <= 0).any():
            msg = "transform 'log' needs positive event times"
            raise ValueError(msg)
        # Censoring times of 0 give -inf, but only event times enter the test.
        with np.errstate(divide="ignore"):
            return np.log(time)
    if transform == "rank":
        return np.asarray(stats.rankdata(time, method="average"), dtype=np.float64)
    utime, inverse = np.unique(time, return_inverse=True)
    m = utime.size
    deaths = np.bincount(inverse, weights=event, minlength=m)
    at_risk = np.cumsum(np.bincount(inverse, minlength=m)[::-1])[::-1]
    surv_after = np.cumprod(1.0 - deaths / at_risk)
    surv_before = np.concatenate(([1.0], surv_after[:-1]))
    return 1.0 - surv_before[inverse]


def _ph_design(design: pl.DataFrame, n: int) -> np.ndarray:
    """The design as a float64 matrix, checked as :func:`cox_fit` checks it."""
    if design.height != n:
        msg = f"design has {design.height} rows for {n} observations"
        raise ValueError(msg)
    if design.width == 0:
        msg = "design has no columns"
        raise ValueError(msg)
    not_numeric = [c for c, d in design.schema.items() if not (d.is_numeric() or d == pl.Boolean)]
    if not_numeric:
        msg = f"design columns must be numeric (make dummies first): {not_numeric}"
        raise ValueError(msg)
    x = design.cast(pl.Float64).to_numpy()
    if not np.isfinite(x).all():
        msg = "design has missing or infinite values; drop those rows first"
        raise ValueError(msg)
    if np.linalg.matrix_rank(x - x.mean(axis=0)) < x.shape[1]:
        msg = f"design columns are constant or collinear: {design.columns}"
        raise ValueError(msg)
    return x


def _ph_score(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    gtime: np.ndarray,
    *,
    efron: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Score and information of the Cox model extended by ``X * g(t)``, at ``(beta, 0)``.

    The part of R ``survival``'s C routine ``zph1`` that the test uses (unit case
    weights, one stratum): returns the score of the ``p`` time interactions and the full
    ``2p x 2p`` information matrix (base coefficients first). Efron's approximation gives
    the ``j``-th of ``d`` tied deaths (``j = 0 .. d-1``) the risk set with the tied deaths
    down-weighted by ``j / d``; Breslow's keeps them all in (``j / d`` replaced by 0).
    """
    p = x.shape[1]
    centred = x - x.mean(axis=0)  # as zph1: better-conditioned sums of squares
    eta = centred @ beta
    risk = np.exp(eta - eta.max())  # a common factor cancels in every ratio

    order = np.argsort(time, kind="stable")
    t = time[order]
    dead = event[order] == 1
    xs = centred[order]
    r = risk[order]
    g = gtime[order][dead]  # one per death, deaths in time order

    # Risk-set sums over {time >= t_i}: reverse cumulative sums, read at each time's first row.
    rx = r[:, None] * xs
    rxx = rx[:, :, None] * xs[:, None, :]
    s0 = np.cumsum(r[::-1])[::-1]
    s1 = np.cumsum(rx[::-1], axis=0)[::-1]
    s2 = np.cumsum(rxx[::-1], axis=0)[::-1]

    death_times, n_dead = np.unique(t[dead], return_counts=True)
    first = np.searchsorted(t, death_times, side="left")
    group = np.repeat(np.arange(death_times.size), n_dead)  # death -> its death time
    if efron:
        rank_in_tie = np.arange(group.size) - np.repeat(np.cumsum(n_dead) - n_dead, n_dead)
        frac = rank_in_tie / n_dead[group]
        d0 = np.bincount(group, weights=r[dead], minlength=death_times.size)
        d1 = np.zeros((death_times.size, p))
        np.add.at(d1, group, rx[dead])
        d2 = np.zeros((death_times.size, p, p))
        np.add.at(d2, group, rxx[dead])
        den = s0[first][group] - frac * d0[group]
        num1 = s1[first][group] - frac[:, None] * d1[group]
        num2 = s2[first][group] - frac[:, None, None] * d2[group]
    else:
        den = s0[first][group]
        num1 = s1[first][group]
        num2 = s2[first][group]
    mean = num1 / den[:, None]
    var = num2 / den[:, None, None] - mean[:, :, None] * mean[:, None, :]

    score = (g[:, None] * (xs[dead] - mean)).sum(axis=0)
    i11 = var.sum(axis=0)
    i12 = (g[:, None, None] * var).sum(axis=0)
    i22 = (g[:, None, None] ** 2 * var).sum(axis=0)
    information = np.block([[i11, i12], [i12.T, i22]])
    return score, information


def ph_test(
    time: ArrayLike,
    event: ArrayLike,
    design: pl.DataFrame,
    *,
    terms: Mapping[str, Sequence[str]] | None = None,
    transform: Literal["km", "rank", "identity", "log"] = "km",
    ties: Literal["efron", "breslow"] = "efron",
    coef: ArrayLike | None = None,
) -> pl.DataFrame:
    """Test of proportional hazards, as R ``survival::cox.zph`` (survival >= 3.0).

    For a Cox model with covariates ``X`` (the columns of ``design``), the score test at
    the fitted coefficients of adding time-varying terms ``X * g(t)``, where ``g`` is the
    transformed time centred at its mean over the events. A term's test uses the
    information matrix of all base coefficients plus that term's interactions only, so
    a term with several columns (a factor's dummies) gets one test with one degree of
    freedom per column; ``GLOBAL`` tests all interactions at once. This is the test of
    survival 3.x; it differs from the correlation-based approximation of survival 2.x.

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 = event, 0 = censored.
    design
        Numeric covariates, no missing values (see :func:`dummy_design`).
    terms
        Term name -> its design columns, each column in exactly one term (R's
        ``assign``; e.g. ``{"age": ["age"], "stage": ["stagestage ii", ...]}``). ``None``
        makes one term per column.
    transform
        ``g(t)``: ``"km"`` (1 - left-continuous Kaplan-Meier estimate of the pooled
        data, R's default), ``"rank"`` (average ranks of all times), ``"identity"`` or
        ``"log"``.
    ties
        Handling of tied event times, as in the model fit.
    coef
        Coefficients of the fitted model, in ``design`` column order. ``None`` fits the
        model with :func:`cox_fit` (statsmodels ``PHReg``, the same ``ties``).

    Returns
    -------
    polars.DataFrame
        Columns :data:`PH_COLUMNS`: one row per term in ``terms`` order (design column
        order by default), then ``"GLOBAL"``; chi-square, degrees of freedom and the
        upper-tail chi-square p-value.

    Raises
    ------
    ValueError
        On invalid inputs (see :func:`cox_fit`), a ``terms`` mapping that does not split
        the design columns, coefficients of the wrong length, or a singular information
        matrix (e.g. all events at one time, so ``g(t)`` is constant).
    RuntimeError
        If the Cox model is fitted here and does not converge.
    """
    t, e = _survival_arrays(time, event)
    if transform not in ("km", "rank", "identity", "log"):
        msg = f"transform must be 'km', 'rank', 'identity' or 'log', got {transform!r}"
        raise ValueError(msg)
    if ties not in ("efron", "breslow"):
        msg = f"ties must be 'efron' or 'breslow', got {ties!r}"
        raise ValueError(msg)

    columns = list(design.columns)
    if terms is None:
        terms = {name: [name] for name in columns}
    term_index: dict[str, list[int]] = {}
    seen: dict[str, str] = {}
    for name, given in terms.items():
        if isinstance(given, str):
            msg = f"term {name!r}: give its columns as a list, e.g. [{given!r}]"
            raise ValueError(msg)
        members = list(given)
        if name == GLOBAL_TERM:
            msg = f"{GLOBAL_TERM!r} is reserved for the global test; rename that term"
            raise ValueError(msg)
        if not members:
            msg = f"term {name!r} has no columns"
            raise ValueError(msg)
        absent = [c for c in members if c not in columns]
        if absent:
            msg = f"term {name!r}: columns not in the design: {absent}"
            raise ValueError(msg)
        for c in members:
            if c in seen:
                msg = f"column {c!r} is in terms {seen[c]!r} and {name!r}"
                raise ValueError(msg)
            seen[c] = name
        term_index[name] = [columns.index(c) for c in members]
    uncovered = [c for c in columns if c not in seen]
    if uncovered:
        msg = f"design columns in no term: {uncovered}"
        raise ValueError(msg)

    x = _ph_design(design, t.size)
    if not e.any():
        msg = "no events: proportional hazards cannot be tested"
        raise ValueError(msg)
    if coef is None:
        beta = cox_fit(t, e, design, ties=ties)["coef"].to_numpy()
    else:
        beta = np.asarray(coef, dtype=np.float64)
        if beta.shape != (len(columns),) or not np.isfinite(beta).all():
            msg = f"coef must be {len(columns)} finite values, got shape {beta.shape}"
            raise ValueError(msg)

    ttimes = _ph_time_transform(t, e, transform)
    gtime = ttimes - ttimes[e == 1].mean()
    if np.ptp(gtime[e == 1]) == 0:
        msg = "g(t) is the same at every event time; proportional hazards cannot be tested"
        raise ValueError(msg)
    score, information = _ph_score(t, e, x, beta, gtime, efron=ties == "efron")

    p = len(columns)
    rows: list[tuple[str, list[int]]] = [*term_index.items(), (GLOBAL_TERM, list(range(p)))]
    chisq = np.empty(len(rows))
    df = np.empty(len(rows), dtype=np.int64)
    for i, (_, index) in enumerate(rows):
        keep = [*range(p), *(p + j for j in index)]
        u = np.concatenate((np.zeros(p), score[index]))
        try:
            chisq[i] = u @ np.linalg.solve(information[np.ix_(keep, keep)], u)
        except np.linalg.LinAlgError as exc:
            msg = f"the information matrix is singular: {exc}"
            raise ValueError(msg) from exc
        df[i] = len(index)
    return pl.DataFrame(
        {
            "term": [name for name, _ in rows],
            "chisq": chisq,
            "df": df,
            "p": stats.chi2.sf(chisq, df),
        },
        schema={"term": pl.String, "chisq": pl.Float64, "df": pl.Int64, "p": pl.Float64},
    )
