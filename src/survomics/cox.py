"""Univariate Cox screening of many features at once, exact to R's ``survival::coxph``.

:func:`cox_screen` fits one Cox proportional-hazards model per column of a samples x
features matrix (optionally adjusted for the same covariates, optionally stratified),
running Newton-Raphson for a whole block of features simultaneously, in NumPy.

Risk sets
---------
Samples are cleaned once (a sample with a missing time, event, covariate or stratum is
left out of every model) and sorted once by (stratum, time, deaths first). Within a
stratum the distinct event times ``t_1 < ... < t_G`` cut the sorted samples into
*groups*: group ``g`` holds the deaths at ``t_g`` followed by everyone else with
``t_g <= time < t_(g+1)``. Samples before their stratum's first event time are never at
risk at an event time and take no part in the partial likelihood (they still count in
``n`` and in a feature's centring). For the per-sample weights ``r = exp(eta)`` and the
products ``r z^k``, a sparse 0/1 matrix gives in one product each group's death sums
``D`` and the sums of the rest of the group; the risk-set sums ``S`` at ``t_g``
(everyone with ``time >= t_g``: tied deaths and censorings included) are reverse
cumulative sums of the group sums, cut at stratum ends so that risk sets stay inside a
stratum (stratified partial likelihood).

Ties
----
With ``a = S_k / S_0`` the risk-set moments, ``b = D_k / D_0`` the moments of the
group's ``d`` deaths and ``rho = D_0 / S_0``:

* Breslow: each death sees the whole risk set: log-likelihood terms ``d log S_0``,
  score terms ``d a_1``, information terms ``d (a_2 - a_1^2)``.
* Efron (R's default): the deaths are expanded into rows ``l = 0..d-1`` whose sums are
  ``S - (l/d) D`` (R's ``coxfit6``). Row ``l`` has denominator ``S_0 (1 - f_l rho)``
  (``f_l = l/d``) and moments exactly ``a + w_l (a - b)`` with
  ``w_l = f_l rho / (1 - f_l rho)``, so every sum over the rows is a polynomial in the
  power sums ``sum_l w_l^j`` and ``log prod_l (1 - f_l rho)``: one ``log`` per group
  instead of one per death. These are accumulated over the expanded rows rank by rank
  (the loop runs ``max(d) - 1`` times, each step vectorised over every group with more
  than ``l`` deaths and every feature of the block: groups are pre-sorted by ``d`` so
  those are a prefix). With missing values ``d`` differs between features: each feature
  uses ``f = l / d_feature`` on the rows ``l < d_feature`` only.

A feature with missing values uses exactly its complete cases (weights masked to 0).

Newton-Raphson
--------------
Every feature is standardised by its complete-case mean and standard deviation (R
centres; the scale makes tolerances unit-free and is undone in the results), covariates
likewise over the cleaned samples. Exponentials are ``exp2`` of the predictor times
``log2(e)`` (folded into the coefficient: as exact as ``exp`` and faster); the predictor
is shifted by its maximum wherever it could over- or underflow. Iterations start at 0
(with covariates: at (0, covariates-only estimate)), whose score and information give
the score test.

With a single coefficient the higher derivatives of the log-likelihood (cumulants of the
feature in the risk sets) are computed too: up to the fourth at 0 (where no exponential
is needed), up to the third elsewhere. Each step solves the quartic or cubic Taylor
expansion, so its error is O(step^4) or O(step^3). A feature has converged when that
step is below :data:`HIGH_ORDER_TOLERANCE` or :data:`CUBIC_TOLERANCE` (standard-deviation
units, relative above 1): the step is applied and the log-likelihood and information are
carried to the estimate by Taylor expansion, exact to rounding. Most features converge
after a single evaluation with exponentials. Models with covariates use Newton steps
until the step is below :data:`STEP_TOLERANCE`. Where the log-likelihood decreases the
step is halved, as in R's ``coxph.fit``. Converged features leave the block, which is
compacted as it thins out.

Memory and threads
------------------
Features are processed in blocks whose working arrays fit a budget
(:data:`MEMORY_BUDGET`, 64 MiB by default, shared by the worker threads), so peak extra
memory does not grow with the number of features; the input matrix is never copied whole.
Work arrays are allocated once per thread and reused for every block (fresh large
allocations cost page faults). Results do not depend on the block size or the number of
threads.

Status rules
------------
In this order: ``too_few_samples`` (fewer than ``3 + k`` complete cases, ``k``
covariates), ``no_events`` (no event among them), ``constant`` (zero variance among the
complete cases, or no variation inside any risk set: zero information), ``singular``
(the feature is collinear with the covariates on its complete cases: efficient
information below :data:`SINGULAR_RATIO` of its information, or the covariates-only model
is itself singular there), ``monotone_likelihood`` (the estimate runs off to infinity:
Newton steps keep their size and direction while the log-likelihood stalls or the
information collapses below :data:`MONOTONE_INFO_RATIO` of its starting value, e.g. all
events on one side of a binary feature), ``not_converged`` (``max_iter`` reached);
otherwise ``ok``. Features that are not ``ok`` have NaN ``coef``, ``se``, ``z``,
``p_wald`` and ``p_lrt``; ``p_score`` is kept for ``monotone_likelihood`` and
``not_converged``, where the score test at the null is defined. A degenerate feature
never changes another feature's numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import sparse, special

RESULT_COLUMNS: tuple[str, ...] = (
    "feature",
    "n",
    "events",
    "coef",
    "se",
    "z",
    "p_wald",
    "p_lrt",
    "p_score",
    "iterations",
    "converged",
    "status",
)
"""Columns of :func:`cox_screen`'s result, in order."""

MEMORY_BUDGET = 64 * 2**20
"""Default budget (bytes) for the working arrays of the blocks in flight."""

STEP_TOLERANCE = 1e-10
"""Convergence with covariates: Newton step below this (standardised units; relative
above 1)."""

ADJUSTED_STEP_TOLERANCE = 1e-8
"""Compiled path with covariates: convergence once every Newton step is below this
(standardised units, relative above 1). The step is applied, so the estimate is exact
to its square (rounding); the information is the one evaluated before the step, so the
standard error is exact to about this relative tolerance."""

HIGH_ORDER_TOLERANCE = 1e-4
"""Convergence of single-coefficient models at the start (derivatives up to the fourth):
quartic-Taylor step below this (standardised units, relative above 1); the remaining
error is O(step^4)."""

CUBIC_TOLERANCE = 1e-5
"""Convergence of single-coefficient models elsewhere (derivatives up to the third):
cubic-Taylor step below this; the remaining errors are O(step^3) in the estimate and
O(step^2) (about 1e-10 relative) in the information."""

MONOTONE_SD = 10.0
"""Compiled path: a coefficient above 10 per standard deviation of the feature is taken
as an infinite estimate (monotone likelihood)."""

RESULT_SCHEMA: dict[str, type[pl.DataType]] = {
    "feature": pl.String,
    "n": pl.Int64,
    "events": pl.Int64,
    **dict.fromkeys(("coef", "se", "z", "p_wald", "p_lrt", "p_score"), pl.Float64),
    "iterations": pl.Int64,
    "converged": pl.Boolean,
    "status": pl.String,
}
"""Columns and types of :func:`cox_screen`'s result."""

MONOTONE_INFO_RATIO = 1e-4
"""Information below this fraction of its starting value, with Newton steps that keep
their size and direction, means the estimate is running off to infinity."""

STALL_TOLERANCE = 1e-9
"""Log-likelihood change (relative above 1) below which a still-moving estimate is taken
as diverging (R's ``coxph`` convergence threshold)."""

SINGULAR_RATIO = 1e-10
"""Efficient information of the feature below this fraction of its information means the
feature is collinear with the covariates."""

_LOG2E = float(np.log2(np.e))

_STATUS_NAMES = (
    "ok",
    "constant",
    "no_events",
    "too_few_samples",
    "monotone_likelihood",
    "not_converged",
    "singular",
)
_OK, _CONSTANT, _NO_EVENTS, _TOO_FEW, _MONOTONE, _NOT_CONVERGED, _SINGULAR = range(7)
_ACTIVE = -1


# ---------------------------------------------------------------------------------------
# Multiple testing
# ---------------------------------------------------------------------------------------


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, as R ``p.adjust(p, method = "BH")``.

    Parameters
    ----------
    p
        P-values; NaN marks a test that was not done.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (q-values) of the same shape; NaN entries stay NaN and do not
        count in the number of tests ``m``.
    """
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(flat))
    m = tested.size
    if m:
        order = tested[np.argsort(flat[tested], kind="stable")[::-1]]  # largest p first
        rank = np.arange(m, 0, -1, dtype=np.float64)
        adjusted = np.minimum.accumulate(m / rank * flat[order])
        out[order] = np.minimum(adjusted, 1.0)
    return out.reshape(p.shape)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


class _Workspace:
    """Work arrays of one thread, reused from block to block and iteration to iteration."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        size = int(np.prod(shape))
        key = (name, np.dtype(dtype).str)
        buf = self._buffers.get(key)
        if buf is None or buf.size < size:
            buf = np.empty(max(size, 1), dtype=dtype)
            self._buffers[key] = buf
        return buf[:size].reshape(shape)


def _colsum(a: np.ndarray) -> np.ndarray:
    """Sum over the first axis, bit-identical whatever the width of the block.

    numpy sums a single column pairwise but several columns row after row; padding a
    single column to two keeps every feature's rounding independent of the block size.
    """
    if a.ndim > 1 and a.shape[0] > 1 and a[0].size == 1:
        pad = np.zeros((a.shape[0], 2))
        pad[:, 0] = a.reshape(-1)
        return pad.sum(axis=0)[:1].reshape(a.shape[1:])
    return a.sum(axis=0)


def _wsum(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Column sums of ``v * w`` (``w`` one column or as wide as ``v``)."""
    if w.shape[1] == 1:
        return w[:, 0] @ v
    return np.einsum("gb,gb->b", v, w)


def _suffix_sum(a: np.ndarray) -> None:
    """In-place reverse cumulative sum along the first axis of a C-contiguous array.

    Row-wise adds (numpy's ``cumsum`` along the first axis is strided and slow), blocked
    in about sqrt(rows) chunks so that the number of calls stays small.
    """
    g = a.shape[0]
    flat = a.reshape(g, -1)
    if g <= 64:
        for i in range(g - 2, -1, -1):
            flat[i] += flat[i + 1]
        return
    c = int(np.sqrt(g))
    m = g // c
    rev = flat[::-1]
    body = rev[: m * c]
    body.shape = (m, c, flat.shape[1])  # a view (raises rather than copy)
    for i in range(1, c):
        body[:, i] += body[:, i - 1]
    for j in range(1, m):
        body[j] += body[j - 1, -1]
    for i in range(m * c, g):
        rev[i] += rev[i - 1]


def _pairs(q: int) -> list[tuple[int, int]]:
    return [(j, m) for j in range(q) for m in range(j, q)]


def _slots(q: int) -> int:
    """Accumulated per-sample products: r and r z^1..4 (q = 1), or r, r z_j, r z_j z_m."""
    return 5 if q == 1 else 1 + q + q * (q + 1) // 2


# ---------------------------------------------------------------------------------------
# Sample layout shared by every feature
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """Cleaned, sorted samples and the group structure of their event times."""

    order: np.ndarray  # original row of each cleaned sample: risk rows (sorted) first
    n_risk: int  # rows at risk at some event time (they come first in `order`)
    event: np.ndarray  # (n_clean,) 0/1 float in `order` order
    segments: sparse.csr_array  # (2G, n_risk) 0/1: row g = deaths of group g, G + g = rest
    deaths: np.ndarray  # (G,) deaths per group
    strata_groups: tuple[tuple[int, int], ...]  # group range of each stratum with events
    death_rows: np.ndarray  # (E,) positions of the deaths among the risk rows
    tie_order: np.ndarray  # (G,) groups by decreasing number of deaths
    tie_prefix: tuple[int, ...]  # for l = 1, 2...: how many groups have more than l deaths
    tie_frac: tuple[np.ndarray, ...]  # for l = 1, 2...: l / d of those groups, (prefix, 1)
    cov: np.ndarray | None  # (n_risk, k) standardised covariates of the risk rows
    efron: bool
    group_counts: np.ndarray  # (2G,) rows of each segment (the sums of weights 1)
    cache: dict[str, tuple[np.ndarray, np.ndarray]]  # quantities shared by all blocks

    @property
    def n_clean(self) -> int:
        return int(self.order.size)

    @property
    def n_groups(self) -> int:
        return int(self.deaths.size)

    @property
    def n_events(self) -> int:
        return int(self.death_rows.size)

    @property
    def k(self) -> int:
        return 0 if self.cov is None else int(self.cov.shape[1])

    @property
    def tied(self) -> bool:
        """Efron with at least one tied death: the Efron terms differ from Breslow's."""
        return self.efron and bool(self.tie_prefix)


def _stratum_codes(strata: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer stratum codes and which samples have a usable label."""
    if strata is None:
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    labels = np.asarray(strata)
    if labels.shape != (n,):
        msg = f"strata must have one value per row of X ({n}), got shape {labels.shape}"
        raise ValueError(msg)
    if labels.dtype.kind == "f":
        present = ~np.isnan(labels)
    elif labels.dtype.kind == "O":
        present = np.array(
            [v is not None and not (isinstance(v, float) and np.isnan(v)) for v in labels],
            dtype=bool,
        )
    else:
        present = np.ones(n, dtype=bool)
    codes = np.zeros(n, dtype=np.int64)
    if present.any():
        values = labels[present]
        if values.dtype.kind == "O":
            values = values.astype(str)
        codes[present] = np.unique(values, return_inverse=True)[1].ravel()
    return codes, present


def _build_layout(
    time: np.ndarray,
    event: np.ndarray,
    codes: np.ndarray,
    keep: np.ndarray,
    cov: np.ndarray | None,
    *,
    efron: bool,
) -> _Layout:
    """Sort the kept samples and describe their risk-set groups."""
    kept = np.flatnonzero(keep)
    kept = kept[np.lexsort((-event[kept], time[kept], codes[kept]))]  # stratum, time, deaths 1st
    t, e, s = time[kept], event[kept], codes[kept]
    risk_parts: list[np.ndarray] = []
    group_parts: list[np.ndarray] = []
    other_parts: list[np.ndarray] = []
    strata_groups: list[tuple[int, int]] = []
    n_groups = 0
    for stratum in np.unique(s):
        rows = np.flatnonzero(s == stratum)
        event_times = np.unique(t[rows][e[rows] == 1])
        group = np.searchsorted(event_times, t[rows], side="right") - 1
        at_risk = group >= 0
        other_parts.append(rows[~at_risk])
        if event_times.size:
            risk_parts.append(rows[at_risk])
            group_parts.append(n_groups + group[at_risk])
            strata_groups.append((n_groups, n_groups + event_times.size))
            n_groups += event_times.size
    empty = np.zeros(0, dtype=np.int64)
    risk_rows = np.concatenate(risk_parts) if risk_parts else empty
    group = np.concatenate(group_parts) if group_parts else empty
    other_rows = np.concatenate(other_parts) if other_parts else empty
    dead = e[risk_rows] == 1
    n_risk = risk_rows.size
    segment = np.where(dead, group, n_groups + group)
    segments = sparse.csr_array(
        (np.ones(n_risk), (segment, np.arange(n_risk))), shape=(2 * n_groups, n_risk)
    )
    deaths = np.bincount(group[dead], minlength=n_groups).astype(np.int64)
    tie_order = np.argsort(-deaths, kind="stable")
    sorted_deaths = deaths[tie_order].astype(np.float64)
    max_deaths = int(deaths.max(initial=0)) if efron else 0
    tie_prefix = tuple(int((deaths > rank).sum()) for rank in range(1, max_deaths))
    tie_frac = tuple(
        (rank / sorted_deaths[:gl])[:, None] for rank, gl in enumerate(tie_prefix, start=1)
    )
    sorted_rows = np.concatenate([risk_rows, other_rows])
    return _Layout(
        order=kept[sorted_rows],
        n_risk=int(n_risk),
        event=e[sorted_rows].astype(np.float64),
        segments=segments,
        deaths=deaths,
        strata_groups=tuple(strata_groups),
        death_rows=np.flatnonzero(dead),
        tie_order=tie_order,
        tie_prefix=tie_prefix,
        tie_frac=tie_frac,
        cov=None if cov is None else np.ascontiguousarray(cov[kept[risk_rows]]),
        efron=efron,
        group_counts=np.bincount(segment, minlength=2 * n_groups).astype(np.float64),
        cache={},
    )


# ---------------------------------------------------------------------------------------
# Log-likelihood and its derivatives for a block of models
# ---------------------------------------------------------------------------------------


class _Evaluator:
    """Partial log-likelihood and derivatives of B models at given coefficients.

    The models of the block share the samples and covariates; each has its own feature
    column ``x`` (standardised, 0 where missing) and, when values are missing, its own 0/1
    ``mask``. With ``x=None`` the models are covariates-only models on the complete
    cases given by ``mask`` (null models of the likelihood-ratio test). Work arrays come
    from the thread's workspace: an evaluator is valid until the next one is built.
    """

    def __init__(
        self,
        layout: _Layout,
        x: np.ndarray | None,
        mask: np.ndarray | None,
        *,
        with_cov: bool,
        width: int,
        ws: _Workspace,
    ) -> None:
        g = layout.n_groups
        b = width
        self.layout = layout
        self.x = x
        self.mask = mask
        self.with_cov = with_cov
        self.width = b
        self.ws = ws
        cov_cols = []
        if with_cov and layout.cov is not None:
            cov_cols = [layout.cov[:, [j]] for j in range(layout.k)]
        self.cols: list[np.ndarray] = ([] if x is None else [x]) + cov_cols
        q = len(self.cols)
        self.q = q
        self.pairs = _pairs(q)
        dr = layout.death_rows
        efron = layout.tied
        order = layout.tie_order
        # Deaths of each model: their number and the sums of their columns.
        self.death_sums = np.empty((q, b))
        if mask is None:
            self.n_deaths = np.full(b, float(dr.size))
            for j, col in enumerate(self.cols):
                if col.shape[1] == 1:
                    self.death_sums[j] = _colsum(col[dr])
                else:
                    picked = np.take(col, dr, axis=0, out=ws.get("xd", (dr.size, b)), mode="clip")
                    self.death_sums[j] = _colsum(picked)
            d = layout.deaths.astype(np.float64)[:, None]
            self.d = d[order] if efron else d
            self.no_death = None
        else:
            md = np.take(mask, dr, axis=0, out=ws.get("md", (dr.size, b)), mode="clip")
            self.n_deaths = md.sum(axis=0)
            for j, col in enumerate(self.cols):
                self.death_sums[j] = _colsum(md * col[dr])
            d = layout.segments[:g] @ mask  # (G, B) deaths of each model per group
            self.d = d[order] if efron else d
            self.no_death = self.d == 0
        # Efron: l/d of the tied rows l >= 1, groups by decreasing deaths.
        self.frac: list[np.ndarray] = list(layout.tie_frac)
        if efron and mask is not None:
            flat = ws.get("frac", (sum(layout.tie_prefix), b))
            self.frac = []
            start = 0
            for rank, gl in enumerate(layout.tie_prefix, start=1):
                dl = self.d[:gl]
                out = flat[start : start + gl]
                np.divide(rank, dl, out=out, where=rank < dl)
                out[~(rank < dl)] = 0.0
                self.frac.append(out)
                start += gl
        # Range of the single column, for shifting the linear predictor without a pass.
        if q == 1:
            col = self.cols[0]
            if mask is None:
                self.col_max, self.col_min = col.max(axis=0), col.min(axis=0)
            else:
                self.col_max = np.where(mask > 0, col, -np.inf).max(axis=0)
                self.col_min = np.where(mask > 0, col, np.inf).min(axis=0)

    @staticmethod
    def working_doubles(layout: _Layout, q: int) -> int:
        """Doubles of working memory per model (for choosing the block size)."""
        slots = _slots(q)
        n, g = layout.n_risk, layout.n_groups
        tied = sum(layout.tie_prefix)
        return int(6 * n + 8 * slots * g + tied + 30 * g + 8 * q * q)

    def subset(self, columns: np.ndarray) -> _Evaluator:
        """The same evaluator restricted to some of its models (reusing the workspace)."""
        m = int(columns.size)
        n = self.layout.n_risk
        x = mask = None
        if self.x is not None:
            picked = self.x[:, columns]
            x = self.ws.get("x_subset", (n, m))
            x[...] = picked
        if self.mask is not None:
            picked = self.mask[:, columns]
            mask = self.ws.get("mask_subset", (n, m))
            mask[...] = picked
        return _Evaluator(self.layout, x, mask, with_cov=self.with_cov, width=m, ws=self.ws)

    def _efron_weights(self, rho: np.ndarray, n_powers: int) -> tuple[np.ndarray, np.ndarray]:
        """``log prod_l (1 - f_l rho)`` and ``sum_l w_l^j`` (j = 1..n_powers) per group.

        ``rho`` and the results are in tie order (groups by decreasing deaths).
        """
        ws = self.ws
        g, b = rho.shape
        prod = ws.get("tie_prod", (g, b))
        prod.fill(1.0)
        log_prod = ws.get("tie_log", (g, b))
        log_prod.fill(0.0)
        powers = ws.get("tie_powers", (n_powers, g, b))
        powers.fill(0.0)
        g1 = self.layout.tie_prefix[0]
        bx = ws.get("tie_x", (g1, b))
        bt = ws.get("tie_t", (g1, b))
        bw = ws.get("tie_w", (g1, b))
        for rank, (gl, frac) in enumerate(zip(self.layout.tie_prefix, self.frac, strict=True), 1):
            x = np.multiply(frac, rho[:gl], out=bx[:gl])
            t = np.subtract(1.0, x, out=bt[:gl])
            prod[:gl] *= t
            w = np.divide(x, t, out=bx[:gl])
            powers[0, :gl] += w
            if n_powers > 1:
                wk = np.multiply(w, w, out=bw[:gl])
                powers[1, :gl] += wk
                for k in range(2, n_powers):
                    wk *= w
                    powers[k, :gl] += wk
            if rank % 400 == 0:  # prod >= (1/d)^400: renormalise long before underflow
                log_prod += np.log(prod)
                prod.fill(1.0)
        log_prod += np.log(prod)
        return log_prod, powers

    def _shared_efron_weights(
        self, rho: np.ndarray, n_powers: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Efron weights at 0 without missing values: the same for every model (cached)."""
        key = f"efron0-{n_powers}"
        cached = self.layout.cache.get(key)
        if cached is None:
            log_prod, powers = self._efron_weights(rho, n_powers)
            cached = (log_prod.copy(), powers.copy())
            self.layout.cache[key] = cached
        return cached

    def __call__(
        self, beta: np.ndarray, *, at_zero: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Log-likelihood, score and information (and higher derivatives) at ``beta``.

        Returns the log-likelihood (B,), the score (q, B), the packed information
        (q(q+1)/2, B) and, for one coefficient, the third (and at 0 the fourth)
        derivatives of minus the log-likelihood (else None).
        """
        layout, cols, q, ws = self.layout, self.cols, self.q, self.ws
        n, g, b = layout.n_risk, layout.n_groups, self.width
        shared = at_zero and self.mask is None  # weights all 1: shared by every model
        # One coefficient: r z^0..4 at 0 (the start needs the fourth derivative), r z^0..3
        # elsewhere. Each product is summed by group as soon as it is made (two buffers).
        slots = (5 if at_zero else 4) if q == 1 else _slots(q)
        sums = ws.get("sums", (slots, 2 * g, b))
        shift = np.zeros(b)
        r = ws.get("r", (n, b))
        if at_zero:
            if shared:
                sums[0] = layout.group_counts[:, None]
            else:
                r[...] = self.mask
        else:
            beta2 = beta * _LOG2E  # exp(x beta) = exp2(x beta log2(e))
            np.multiply(cols[0], beta2[0], out=r)
            if q == 1:
                top = np.where(beta2[0] > 0, beta2[0] * self.col_max, beta2[0] * self.col_min)
            else:
                tmp = ws.get("eta_tmp", (n, b))
                for j in range(1, q):
                    np.multiply(cols[j], beta2[j], out=tmp)
                    r += tmp
                if self.mask is None:
                    top = r.max(axis=0)
                else:
                    top = np.max(r, axis=0, where=self.mask > 0, initial=-np.inf)
                    top = np.where(np.isfinite(top), top, 0.0)
            # Shift the predictor by its maximum where exp2 could over- or underflow;
            # elsewhere leaving it is exact and cheaper (subtracting 0 changes nothing).
            far = np.abs(top) > 500.0
            if far.any():
                shift2 = np.where(far, top, 0.0)
                r -= shift2
                shift = shift2 / _LOG2E
            np.exp2(r, out=r)
            if self.mask is not None:
                r *= self.mask
        if not shared:
            sums[0] = layout.segments @ r
        if q == 1:
            x = cols[0]
            prev = r
            for s in range(1, slots):
                if shared and s == 1:
                    cur = x
                else:
                    cur = ws.get(f"pow{s % 2}", (n, b))
                    np.multiply(prev, x, out=cur)
                sums[s] = layout.segments @ cur
                prev = cur
        else:
            if shared:
                r.fill(1.0)
            cur = ws.get("prod", (n, b))
            for j in range(q):
                np.multiply(r, cols[j], out=cur)
                sums[1 + j] = layout.segments @ cur
            for p, (j, m) in enumerate(self.pairs):
                np.multiply(r, cols[j], out=cur)
                cur *= cols[m]
                sums[1 + q + p] = layout.segments @ cur
        # Risk-set sums, then the groups in tie order.
        risk = ws.get("risk", (g, slots, b))
        np.add(sums[:, :g].transpose(1, 0, 2), sums[:, g:].transpose(1, 0, 2), out=risk)
        for g0, g1 in layout.strata_groups:
            _suffix_sum(risk[g0:g1])
        efron = layout.tied
        if efron:
            risk = np.take(
                risk, layout.tie_order, axis=0, out=ws.get("risk_t", risk.shape), mode="clip"
            )
            dsum = np.take(
                sums, layout.tie_order, axis=1, out=ws.get("dsum_t", (slots, g, b)), mode="clip"
            )
        else:
            dsum = sums[:, :g]
        s0, d0 = risk[:, 0], dsum[0]
        if self.no_death is not None:  # no complete-case death in a group: neutral values
            np.copyto(s0, 1.0, where=self.no_death)
            np.copyto(d0, 1.0, where=self.no_death)
        inv = np.divide(1.0, s0, out=ws.get("inv", (g, b)))
        mom = ws.get("mom", (slots - 1, g, b))  # risk-set moments a
        for s in range(1, slots):
            np.multiply(risk[:, s], inv, out=mom[s - 1])
        log_den = np.log(s0, out=ws.get("log_den", (g, b)))
        log_den *= self.d
        gap = powers = None
        if efron:
            gap = ws.get("gap", mom.shape)  # c = a - death moments
            d_inv = np.divide(1.0, d0, out=ws.get("d_inv", (g, b)))
            for s in range(1, slots):
                np.multiply(dsum[s], d_inv, out=gap[s - 1])
            np.subtract(mom, gap, out=gap)
            n_powers = slots - 1 if q == 1 else 2
            if shared:
                log_prod, powers = self._shared_efron_weights(inv[:, :1] * d0[:, :1], n_powers)
            else:
                rho = np.multiply(d0, inv, out=ws.get("rho", (g, b)))
                log_prod, powers = self._efron_weights(rho, n_powers)
            log_den += log_prod
        loglik = (beta * self.death_sums).sum(axis=0) - shift * self.n_deaths
        loglik -= _colsum(log_den)
        if q == 1:
            score, info, higher = self._univariate(mom, gap, powers, fourth=slots == 5)
            return loglik, score, info, higher
        score, info = self._multivariate(mom, gap, powers)
        return loglik, score, info, None

    def _univariate(
        self,
        mom: np.ndarray,
        gap: np.ndarray | None,
        powers: np.ndarray | None,
        *,
        fourth: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score, information, and third (and fourth) cumulant sums of one coefficient.

        Per Efron row the moments are ``m_j = a_j + w c_j``; the cumulants
        ``k2 = m2 - m1^2``, ``k3 = m3 - 3 m1 m2 + 2 m1^3`` and
        ``k4 = m4 - 4 m1 m3 - 3 m2^2 + 12 m1^2 m2 - 6 m1^4`` are polynomials in ``w``
        whose coefficients multiply the power sums of ``w``.
        """
        ws = self.ws
        g, b = mom.shape[1], mom.shape[2]
        t = [ws.get(f"t{i}", (g, b)) for i in range(10)]
        a1, a2, a3 = mom[0], mom[1], mom[2]
        d = self.d
        p = np.multiply(a1, a1, out=t[0])
        k20 = np.subtract(a2, p, out=t[1])
        u = self.death_sums[0] - _wsum(a1, d)
        i2 = _wsum(k20, d)
        # k3 at w = 0: a3 - a1 (3 a2 - 2 p)
        np.multiply(a2, 3.0, out=t[2])
        np.multiply(p, 2.0, out=t[3])
        t[2] -= t[3]
        t[2] *= a1
        np.subtract(a3, t[2], out=t[2])
        i3 = _wsum(t[2], d)
        i4 = np.zeros(b)
        if fourth:  # k4 at w = 0: a4 - 4 a1 a3 - 3 a2^2 + 6 p (2 a2 - p)
            np.multiply(a1, a3, out=t[2])
            t[2] *= 4.0
            np.multiply(a2, a2, out=t[3])
            t[3] *= 3.0
            t[2] += t[3]
            np.multiply(a2, 2.0, out=t[3])
            t[3] -= p
            t[3] *= p
            t[3] *= 6.0
            t[3] -= t[2]
            t[3] += mom[3]
            i4 = _wsum(t[3], d)
        if gap is not None and powers is not None:
            c1, c2, c3 = gap[0], gap[1], gap[2]
            w1, w2, w3 = powers[0], powers[1], powers[2]
            ac = np.multiply(a1, c1, out=t[4])
            cc = np.multiply(c1, c1, out=t[5])
            e = np.multiply(ac, 2.0, out=t[6])
            np.subtract(c2, e, out=e)  # c2 - 2 a1 c1
            u -= _wsum(c1, w1)
            i2 += _wsum(e, w1) - _wsum(cc, w2)
            # k3: w (c3 - 3 (a1 c2 + a2 c1) + 6 p c1) + w^2 (-3 c1 e) + w^3 (2 c1^3)
            np.multiply(a1, c2, out=t[7])
            np.multiply(a2, c1, out=t[8])
            t[7] += t[8]
            t[7] *= 3.0
            np.multiply(p, c1, out=t[8])
            t[8] *= 6.0
            t[8] -= t[7]
            t[8] += c3
            i3 += _wsum(t[8], w1)
            np.multiply(c1, e, out=t[7])
            i3 -= 3.0 * _wsum(t[7], w2)
            np.multiply(cc, c1, out=t[8])
            i3 += 2.0 * _wsum(t[8], w3)
            if fourth:
                c4, w4 = gap[3], powers[3]
                # k4, w^4: -6 c1^4; w^3: 12 c1^2 e
                np.multiply(cc, cc, out=t[9])
                i4 -= 6.0 * _wsum(t[9], w4)
                np.multiply(cc, e, out=t[9])
                i4 += 12.0 * _wsum(t[9], w3)
                # w^2: -4 c1 c3 - 3 c2^2 + 24 a1 c1 c2 + 12 c1^2 (a2 - 3 p)
                np.multiply(c1, c3, out=t[9])
                t[9] *= -4.0
                np.multiply(c2, c2, out=t[8])
                t[8] *= 3.0
                t[9] -= t[8]
                np.multiply(ac, c2, out=t[8])
                t[8] *= 24.0
                t[9] += t[8]
                np.multiply(p, 3.0, out=t[8])
                np.subtract(a2, t[8], out=t[8])
                t[8] *= cc
                t[8] *= 12.0
                t[9] += t[8]
                i4 += _wsum(t[9], w2)
                # w: c4 - 4 (a1 c3 + a3 c1) - 6 a2 c2 + 12 p c2 + 24 a1 c1 (a2 - p)
                np.multiply(a1, c3, out=t[9])
                np.multiply(a3, c1, out=t[8])
                t[9] += t[8]
                t[9] *= -4.0
                np.multiply(a2, c2, out=t[8])
                t[8] *= 6.0
                t[9] -= t[8]
                np.multiply(p, c2, out=t[8])
                t[8] *= 12.0
                t[9] += t[8]
                np.multiply(k20, ac, out=t[8])
                t[8] *= 24.0
                t[9] += t[8]
                t[9] += c4
                i4 += _wsum(t[9], w1)
        return u[None, :], i2[None, :], np.vstack([i3, i4] if fourth else [i3])

    def _multivariate(
        self, mom: np.ndarray, gap: np.ndarray | None, powers: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score and information of several coefficients.

        Per Efron row ``m_j = a_j + w c_j`` and ``m_jm = a_jm + w c_jm``, so the row's
        covariance ``m_jm - m_j m_m`` is ``(a_jm - a_j a_m) + w (c_jm - a_j c_m - a_m c_j)
        - w^2 c_j c_m``.
        """
        q, d = self.q, self.d
        score = np.empty((q, self.width))
        for j in range(q):
            score[j] = self.death_sums[j] - _wsum(mom[j], d)
            if gap is not None and powers is not None:
                score[j] -= _wsum(gap[j], powers[0])
        info = np.empty((len(self.pairs), self.width))
        for p, (j, m) in enumerate(self.pairs):
            aj, am = mom[j], mom[m]
            info[p] = _wsum(mom[q + p] - aj * am, d)
            if gap is not None and powers is not None:
                cj, cm = gap[j], gap[m]
                info[p] += _wsum(gap[q + p] - aj * cm - am * cj, powers[0])
                info[p] -= _wsum(cj * cm, powers[1])
        return score, info


# ---------------------------------------------------------------------------------------
# Newton-Raphson for a block of models
# ---------------------------------------------------------------------------------------


def _unpack(info: np.ndarray, q: int) -> np.ndarray:
    """Packed upper-triangle information (P, B) -> (B, q, q)."""
    full = np.empty((info.shape[1], q, q))
    for p, (j, m) in enumerate(_pairs(q)):
        full[:, j, m] = info[p]
        full[:, m, j] = info[p]
    return full


def _invert(info: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverses (B, q, q) of positive-definite informations, and which ones are."""
    if q == 1:
        i = info[0]
        ok = np.isfinite(i) & (i > 0)
        inv = np.where(ok, 1.0 / np.where(ok, i, 1.0), np.nan)
        return inv[:, None, None], ok
    full = _unpack(info, q)
    finite = np.isfinite(full).all(axis=(1, 2))
    full[~finite] = np.eye(q)
    eig = np.linalg.eigvalsh(full)
    ok = finite & (eig[:, 0] > 1e-13 * np.abs(eig[:, -1]))
    full[~ok] = np.eye(q)
    inv = np.linalg.inv(full)
    inv[~ok] = np.nan
    return inv, ok


def _steps(
    u: np.ndarray, inv: np.ndarray, higher: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Steps (q, B) and the tolerance under which each means convergence.

    With one coefficient the step solves the cubic or quartic Taylor expansion of the
    log-likelihood (third and, at 0, fourth derivatives), starting from the Newton step
    ``U/I`` and kept only where it refines it; its error is O(step^3) or O(step^4).
    Otherwise it is the Newton step ``I^-1 U``.
    """
    newton = np.einsum("bqr,rb->qb", np.nan_to_num(inv), u)
    if higher is None:
        return newton, np.full(u.shape[1], STEP_TOLERANCE)
    info = 1.0 / inv[:, 0, 0]
    third = higher[0]
    fourth = higher[1] if higher.shape[0] > 1 else np.zeros_like(third)
    s = newton[0].copy()
    for _ in range(4):
        resid = u[0] - s * (info + s * (0.5 * third + s * fourth / 6.0))
        slope = info + s * (third + 0.5 * s * fourth)
        s += resid / slope
    good = np.isfinite(s) & (np.abs(s - newton[0]) <= 0.5 * np.abs(newton[0]))
    high = HIGH_ORDER_TOLERANCE if higher.shape[0] > 1 else CUBIC_TOLERANCE
    return np.where(good, s, newton[0])[None, :], np.where(good, high, STEP_TOLERANCE)


@dataclass(slots=True)
class _Fit:
    """Newton-Raphson results of a block of models (standardised scale)."""

    beta: np.ndarray  # (q, B) estimates
    loglik: np.ndarray  # (B,) at the estimates
    inverse: np.ndarray  # (B, q, q) inverse information at the estimates
    loglik0: np.ndarray  # (B,) at the start
    score0: np.ndarray  # (q, B) at the start
    inverse0: np.ndarray  # (B, q, q) inverse information at the start
    info0: np.ndarray  # (B, q, q) information at the start
    iterations: np.ndarray  # (B,)
    status: np.ndarray  # (B,) status codes
    n_deaths: np.ndarray  # (B,)


def _finish(
    fit: _Fit,
    done: np.ndarray,
    sel: np.ndarray,
    *,
    beta: np.ndarray,
    ll: np.ndarray,
    u: np.ndarray,
    info: np.ndarray,
    inv: np.ndarray,
    higher: np.ndarray | None,
    step: np.ndarray,
) -> None:
    """Store converged models ``done`` (indices) from the evaluations at ``sel``."""
    s = step[:, sel]
    fit.beta[:, done] = beta[:, sel] + s
    fit.status[done] = _OK
    if higher is None:  # Newton step below 1e-10: the first order is exact to rounding
        fit.loglik[done] = ll[sel] + 0.5 * (u[:, sel] * s).sum(axis=0)
        fit.inverse[done] = inv[sel]
        return
    s = s[0]
    third = higher[0, sel]
    fourth = higher[1, sel] if higher.shape[0] > 1 else 0.0
    i = info[0, sel]
    fit.loglik[done] = ll[sel] + s * (
        u[0, sel] - s * (0.5 * i + s * (third / 6.0 + s * fourth / 24.0))
    )
    fit.inverse[done] = (1.0 / (i + s * (third + 0.5 * s * fourth)))[:, None, None]


def _newton(evaluate: _Evaluator, beta0: np.ndarray, *, max_iter: int) -> _Fit:
    """Newton-Raphson with R's step halving, for every model of the block at once."""
    q, b = beta0.shape
    ll0, u0, i0, h0 = evaluate(beta0, at_zero=not beta0.any())
    inv0, ok0 = _invert(i0, q)
    step, tol = _steps(u0, inv0, h0)
    status = np.full(b, _ACTIVE, dtype=np.int64)
    status[~ok0] = _SINGULAR
    fit = _Fit(
        beta=np.full((q, b), np.nan),
        loglik=np.full(b, np.nan),
        inverse=np.full((b, q, q), np.nan),
        loglik0=ll0,
        score0=u0,
        inverse0=inv0,
        info0=_unpack(i0, q),
        iterations=np.zeros(b, dtype=np.int64),
        status=status,
        n_deaths=evaluate.n_deaths,
    )
    info_start = 1.0 / inv0[:, 0, 0]  # efficient information of the first coefficient

    def small(s: np.ndarray, at: np.ndarray, tol: np.ndarray) -> np.ndarray:
        return (np.abs(s) <= tol * np.maximum(np.abs(at), 1.0)).all(axis=0)

    done0 = ok0 & small(step, beta0, tol)
    _finish(
        fit,
        np.flatnonzero(done0),
        done0,
        beta=beta0,
        ll=ll0,
        u=u0,
        info=i0,
        inv=inv0,
        higher=h0,
        step=step,
    )
    active = np.flatnonzero(status == _ACTIVE)
    beta = beta0[:, active].copy()
    loglik = ll0[active].copy()
    new_beta = beta + step[:, active]
    prev_step = step[:, active].copy()
    columns = np.arange(b)  # models held by the current evaluator
    current = evaluate
    for iteration in range(1, max_iter + 1):
        if active.size == 0:
            break
        if active.size < 0.7 * columns.size:
            current = current.subset(np.searchsorted(columns, active))
            columns = active.copy()
        if columns.size == active.size:
            ll, u, info, higher = current(new_beta)
        else:
            pos = np.searchsorted(columns, active)
            padded = np.zeros((q, columns.size))
            padded[:, pos] = new_beta
            ll, u, info, higher = current(padded)
            ll, u, info = ll[pos], u[:, pos], info[:, pos]
            higher = None if higher is None else higher[:, pos]
        inv, ok = _invert(info, q)
        step, tol = _steps(u, inv, higher)
        finite = ok & np.isfinite(ll) & np.isfinite(step).all(axis=0)
        converged = finite & small(step, new_beta, tol)
        worse = ~converged & (~finite | (ll < loglik - 1e-12 * np.maximum(np.abs(loglik), 1.0)))
        accept = ~converged & ~worse
        same_way = (step * prev_step).sum(axis=0) > 0
        not_shrinking = np.linalg.norm(step, axis=0) >= 0.5 * np.linalg.norm(prev_step, axis=0)
        stalled = np.abs(ll - loglik) <= STALL_TOLERANCE * np.maximum(np.abs(ll), 1.0)
        collapsed = ~(1.0 / inv[:, 0, 0] > MONOTONE_INFO_RATIO * info_start[active])
        diverging = accept & same_way & not_shrinking & (stalled | collapsed)
        # Information vanishing while the likelihood still improves: diverging too (the
        # partial likelihood is concave: its information is singular only by underflow).
        diverging |= ~ok & np.isfinite(ll) & (ll >= loglik)
        fit.iterations[active] = iteration
        _finish(
            fit,
            active[converged],
            converged,
            beta=new_beta,
            ll=ll,
            u=u,
            info=info,
            inv=inv,
            higher=higher,
            step=step,
        )
        status[active[diverging]] = _MONOTONE
        # Next iterate: halve the step where worse, take the step where accepted.
        move = accept & ~diverging
        halve = worse & ~diverging
        beta[:, move] = new_beta[:, move]
        loglik[move] = ll[move]
        prev_step[:, move] = step[:, move]
        new_beta[:, move] += step[:, move]
        new_beta[:, halve] = 0.5 * (new_beta[:, halve] + beta[:, halve])
        keep = move | halve
        active, beta, loglik = active[keep], beta[:, keep], loglik[keep]
        new_beta, prev_step = new_beta[:, keep], prev_step[:, keep]
    status[active] = _NOT_CONVERGED
    return fit


# ---------------------------------------------------------------------------------------
# Blocks of features
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _BlockResult:
    n: np.ndarray
    events: np.ndarray
    coef: np.ndarray
    se: np.ndarray
    loglik: np.ndarray
    loglik_null: np.ndarray
    score: np.ndarray
    iterations: np.ndarray
    status: np.ndarray


def _null_fit(
    layout: _Layout, mask: np.ndarray | None, width: int, *, max_iter: int, ws: _Workspace
) -> _Fit:
    """Covariates-only models on each feature's complete cases (one model if no mask)."""
    evaluate = _Evaluator(layout, None, mask, with_cov=True, width=width, ws=ws)
    return _newton(evaluate, np.zeros((layout.k, width)), max_iter=max_iter)


def _fit_features(
    layout: _Layout,
    x: np.ndarray,
    mask: np.ndarray | None,
    *,
    shared_null: _Fit | None,
    max_iter: int,
    ws: _Workspace,
) -> dict[str, np.ndarray]:
    """Fit feature (+ covariates) models for standardised columns ``x`` of the risk rows."""
    b = x.shape[1]
    k = layout.k
    status = np.full(b, _ACTIVE, dtype=np.int64)
    null_ll = np.full(b, np.nan)
    if k:
        if mask is None:
            assert shared_null is not None
            null = shared_null
            gamma = np.repeat(null.beta, b, axis=1)
            null_status = np.repeat(null.status, b)
            null_ll[:] = null.loglik[0]
        else:
            null = _null_fit(layout, mask, b, max_iter=max_iter, ws=ws)
            gamma = null.beta
            null_status = null.status
            null_ll[:] = null.loglik
        failed = null_status != _OK
        status[failed] = np.where(null_status[failed] == _MONOTONE, _MONOTONE, _SINGULAR)
        gamma = np.where(failed[None, :], 0.0, gamma)
        beta0 = np.vstack([np.zeros((1, b)), gamma])
    else:
        beta0 = np.zeros((1, b))
    evaluate = _Evaluator(layout, x, mask, with_cov=k > 0, width=b, ws=ws)
    fit = _newton(evaluate, beta0, max_iter=max_iter)
    if not k:
        null_ll = fit.loglik0
    info_ff0 = fit.info0[:, 0, 0]
    efficient0 = 1.0 / fit.inverse0[:, 0, 0]
    score = fit.score0[0] ** 2 / efficient0
    score[~(efficient0 > 0)] = np.nan
    collinear = ~(efficient0 > SINGULAR_RATIO * info_ff0) if k else np.zeros(b, dtype=bool)
    zero_info = ~(info_ff0 > 1e-12 * np.maximum(fit.n_deaths, 1.0))
    fit_status = fit.status.copy()
    fit_status[collinear] = _SINGULAR
    fit_status[zero_info] = _CONSTANT
    status = np.where(status == _ACTIVE, fit_status, status)
    score[(status == _CONSTANT) | (status == _SINGULAR)] = np.nan
    se = np.sqrt(fit.inverse[:, 0, 0])
    return {
        "coef": fit.beta[0],
        "se": se,
        "loglik": fit.loglik,
        "loglik_null": null_ll,
        "score": score,
        "iterations": fit.iterations,
        "status": status,
    }


def _gather(X: np.ndarray, rows: np.ndarray, cols: slice) -> np.ndarray:
    """``X[rows, cols]`` as a new float64 array (fancy indexing: fast whatever the order)."""
    try:
        return np.asarray(X[rows, cols], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        msg = f"X must be numeric, got dtype {X.dtype}"
        raise ValueError(msg) from exc


def _screen_block(
    layout: _Layout,
    X: np.ndarray,
    cols: slice,
    *,
    shared_null: _Fit | None,
    max_iter: int,
    ws: _Workspace,
) -> _BlockResult:
    """Counts, statuses and fits of the features ``X[:, cols]``."""
    n0, nr, k = layout.n_clean, layout.n_risk, layout.k
    b = cols.stop - cols.start
    raw = _gather(X, layout.order, cols)
    finite = np.isfinite(raw, out=ws.get("finite", (n0, b), bool))
    if finite.all():
        missing = None
        count = np.full(b, n0, dtype=np.int64)
        events = np.full(b, int(layout.event.sum()), dtype=np.int64)
        x_max = raw.max(axis=0, initial=-np.inf)
        x_min = raw.min(axis=0, initial=np.inf)
        raw -= _colsum(raw) / max(n0, 1)  # centred in place
    else:
        if np.isinf(raw).any():
            msg = "X has infinite values; use NaN for missing values"
            raise ValueError(msg)
        missing = ~finite
        count = finite.sum(axis=0)
        events = np.rint(layout.event @ finite).astype(np.int64)
        x_max = np.where(missing, -np.inf, raw).max(axis=0, initial=-np.inf)
        x_min = np.where(missing, np.inf, raw).min(axis=0, initial=np.inf)
        raw[missing] = 0.0
        raw -= _colsum(raw) / np.maximum(count, 1)
        raw[missing] = 0.0
    centred = raw
    square = np.multiply(centred, centred, out=ws.get("square", (n0, b)))
    sd = np.sqrt(_colsum(square) / np.maximum(count, 1))
    status = np.full(b, _ACTIVE, dtype=np.int64)
    status[~(x_max > x_min)] = _CONSTANT
    status[events == 0] = _NO_EVENTS
    status[count < 3 + k] = _TOO_FEW
    result = _BlockResult(
        n=count,
        events=events,
        coef=np.full(b, np.nan),
        se=np.full(b, np.nan),
        loglik=np.full(b, np.nan),
        loglik_null=np.full(b, np.nan),
        score=np.full(b, np.nan),
        iterations=np.zeros(b, dtype=np.int64),
        status=status,
    )
    fittable = status == _ACTIVE
    masked = np.zeros(b, dtype=bool) if missing is None else missing[:nr].any(axis=0)
    for use_mask in (False, True):
        sel = np.flatnonzero(fittable & (masked == use_mask))
        if sel.size == 0:
            continue
        if sel.size == b:
            x = centred[:nr]
            x /= sd
        else:
            x = ws.get("x", (nr, sel.size))
            np.divide(centred[:nr, sel], sd[sel], out=x)
        mask = None
        if use_mask:
            assert missing is not None
            mask = ws.get("mask", (nr, sel.size))
            np.logical_not(missing[:nr, sel], out=mask, casting="unsafe")
        fit = _fit_features(layout, x, mask, shared_null=shared_null, max_iter=max_iter, ws=ws)
        result.coef[sel] = fit["coef"] / sd[sel]
        result.se[sel] = fit["se"] / sd[sel]
        result.loglik[sel] = fit["loglik"]
        result.loglik_null[sel] = fit["loglik_null"]
        result.score[sel] = fit["score"]
        result.iterations[sel] = fit["iterations"]
        result.status[sel] = fit["status"]
    return result


def _screen_block_without_events(layout: _Layout, X: np.ndarray, cols: slice) -> _BlockResult:
    """Counts of a block when no usable sample has an event (every feature: no_events)."""
    raw = _gather(X, layout.order, cols)
    if np.isinf(raw).any():
        msg = "X has infinite values; use NaN for missing values"
        raise ValueError(msg)
    b = raw.shape[1]
    count = (~np.isnan(raw)).sum(axis=0)
    status = np.where(count < 3 + layout.k, _TOO_FEW, _NO_EVENTS).astype(np.int64)
    return _BlockResult(
        n=count,
        events=np.zeros(b, dtype=np.int64),
        coef=np.full(b, np.nan),
        se=np.full(b, np.nan),
        loglik=np.full(b, np.nan),
        loglik_null=np.full(b, np.nan),
        score=np.full(b, np.nan),
        iterations=np.zeros(b, dtype=np.int64),
        status=status,
    )


# ---------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------


def _covariate_matrix(covariates: np.ndarray | None, n: int) -> np.ndarray | None:
    if covariates is None:
        return None
    cov = np.asarray(covariates, dtype=np.float64)
    if cov.ndim == 1:
        cov = cov[:, None]
    if cov.ndim != 2 or cov.shape[0] != n:
        msg = f"covariates must have one value per row of X ({n}), got shape {cov.shape}"
        raise ValueError(msg)
    if np.isinf(cov).any():
        msg = "covariates have infinite values"
        raise ValueError(msg)
    return cov if cov.shape[1] else None


def _standardise_covariates(cov: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Centre and scale covariates over the kept samples; reject constant/collinear ones."""
    kept = cov[keep]
    if kept.shape[0] == 0:
        return np.zeros_like(cov)
    mean = kept.mean(axis=0)
    sd = kept.std(axis=0)
    constant = np.flatnonzero(~(sd > 0))
    if constant.size:
        msg = f"covariate column(s) {constant.tolist()} are constant over the usable samples"
        raise ValueError(msg)
    out = np.where(keep[:, None], (cov - mean) / sd, 0.0)
    if np.linalg.matrix_rank(out[keep]) < cov.shape[1]:
        msg = "covariates are collinear (their matrix is rank-deficient)"
        raise ValueError(msg)
    return out


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _feature_blocks(
    X: np.ndarray, keep: np.ndarray, *, width: int | None = None
) -> Iterator[tuple[slice, np.ndarray]]:
    """Blocks of columns of ``X``, each as a C-ordered float64 features x kept-samples array.

    Yields ``(columns, block)`` pairs. A float64 matrix stored features x samples (the
    transpose of ``X`` is C-ordered, as for a Parquet modality read column-wise) with
    every sample kept is used as it is;
    otherwise blocks of ``width`` columns (default: about :data:`MEMORY_BUDGET` bytes)
    are copied one at a time, so the memory added to the input stays bounded whatever
    the number of features.
    """
    if X.dtype.kind not in "biuf":
        msg = f"X must be numeric, got dtype {X.dtype}"
        raise ValueError(msg)
    n, p = X.shape
    rows = None if keep.all() else np.flatnonzero(keep)
    n_kept = n if rows is None else rows.size
    if width is None:
        width = MEMORY_BUDGET // (8 * max(n_kept, 1))
    width = max(1, width)
    if rows is None and X.dtype == np.float64 and X.T.flags.c_contiguous:
        chunk = max(1, 2**22 // max(n, 1))  # the check's temporaries stay below 4 MiB
        for start in range(0, p, chunk):
            if np.isinf(X.T[start : start + chunk]).any():
                msg = "X has infinite values; use NaN for missing values"
                raise ValueError(msg)
        yield slice(0, p), X.T
        return
    for start in range(0, max(p, 1), width):  # one (empty) block when p = 0
        cols = slice(start, min(p, start + width))
        block = X.T[cols] if rows is None else X.T[cols][:, rows]  # one copy at most
        xt = np.ascontiguousarray(block, dtype=np.float64)
        if np.isinf(xt).any():
            msg = "X has infinite values; use NaN for missing values"
            raise ValueError(msg)
        yield cols, xt


def _screen_compiled(
    X: np.ndarray,
    keep: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    strata: np.ndarray | None,
    ties: str,
    names: Sequence[str],
    max_iter: int,
    block_size: int | None,
) -> pl.DataFrame:
    """Univariate models through the compiled kernel, with the same status rules."""
    from survomics._cox_kernel import fit_sorted  # noqa: PLC0415 - compiles on first use

    parts = [
        fit_sorted(xt.T, time, event, strata=strata, ties=ties, max_iter=max_iter)
        for _, xt in _feature_blocks(X, keep, width=block_size)
    ]
    fit = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    beta, info, sd = fit["beta"], fit["info"], fit["sd"]
    count, ev, mean = fit["n"], fit["events"], fit["mean"]
    with np.errstate(all="ignore"):
        st = np.full(beta.size, _OK, dtype=np.int8)
        st[~fit["converged"]] = _NOT_CONVERGED
        runaway = (np.abs(beta) * sd > MONOTONE_SD) | ~np.isfinite(info) | ~(info > 0)
        runaway |= ~(info >= MONOTONE_INFO_RATIO * fit["info0"])
        st[runaway] = _MONOTONE
        st[sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = _CONSTANT
        st[ev == 0] = _NO_EVENTS
        st[count < 3] = _TOO_FEW
        ok = st == _OK
        se = 1.0 / np.sqrt(info)
        z = beta / se
        lrt = np.maximum(2.0 * (fit["loglik"] - fit["loglik0"]), 0.0)
        score = fit["score0"] ** 2 / fit["info0"]
        score_ok = ok | (st == _MONOTONE) | (st == _NOT_CONVERGED)
        cols = {
            "n": count,
            "events": ev,
            "coef": np.where(ok, beta, np.nan),
            "se": np.where(ok, se, np.nan),
            "z": np.where(ok, z, np.nan),
            "p_wald": np.where(ok, 2.0 * special.ndtr(-np.abs(z)), np.nan),
            "p_lrt": np.where(ok, special.chdtrc(1, lrt), np.nan),
            "p_score": np.where(score_ok & np.isfinite(score), special.chdtrc(1, score), np.nan),
            "iterations": fit["iterations"],
            "converged": ok,
            "status": pl.Series(st).replace_strict(
                dict(enumerate(_STATUS_NAMES)), return_dtype=pl.String
            ),
        }
    return pl.DataFrame({"feature": list(names), **cols}, schema=RESULT_SCHEMA)


def _screen_compiled_adjusted(
    X: np.ndarray,
    keep: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    cov: np.ndarray,
    *,
    strata: np.ndarray,
    ties: str,
    names: Sequence[str],
    max_iter: int,
    block_size: int | None,
) -> pl.DataFrame:
    """Covariate-adjusted models through the compiled kernel, with the same status rules."""
    from survomics._cox_kernel import sort_layout  # noqa: PLC0415 - compiles on first use
    from survomics._cox_kernel_adjusted import fit_adjusted, fit_null  # noqa: PLC0415

    order, sorted_event, group_start, stratum_start = sort_layout(
        time, event, strata, events_first=True
    )
    event_end = (
        group_start[:-1] + np.add.reduceat(sorted_event, group_start[:-1]).astype(np.int64)
        if time.size
        else np.zeros(0, dtype=np.int64)
    )
    zt = np.ascontiguousarray(cov[order].T)
    efron = ties == "efron"
    tolerances = {
        "step_tol": ADJUSTED_STEP_TOLERANCE,
        "stall_tol": STALL_TOLERANCE,
        "collapse_ratio": MONOTONE_INFO_RATIO,
    }
    if sorted_event.any():
        gamma, null_status, null_ll = fit_null(
            zt, sorted_event, group_start, event_end, stratum_start,
            efron=efron, max_iter=max_iter, **tolerances,
        )  # fmt: skip
    else:
        gamma, null_status, null_ll = np.zeros(zt.shape[0]), _OK, np.nan
    res = np.vstack([
        fit_adjusted(
            xt, order, zt, sorted_event, group_start, event_end, stratum_start, efron,
            max_iter, ADJUSTED_STEP_TOLERANCE, STALL_TOLERANCE, MONOTONE_INFO_RATIO,
            SINGULAR_RATIO, gamma, null_status, null_ll,
        )
        for _, xt in _feature_blocks(X, keep, width=block_size)
    ])  # fmt: skip
    count, ev, sd = res[:, 0].astype(np.int64), res[:, 1].astype(np.int64), res[:, 2]
    st = res[:, 9].astype(np.int64)
    with np.errstate(all="ignore"):
        ok = st == _OK
        coef = np.where(ok, res[:, 3] / sd, np.nan)
        se = np.where(ok, np.sqrt(res[:, 4]) / sd, np.nan)
        z_stat = coef / se
        lrt = np.maximum(2.0 * (res[:, 5] - res[:, 6]), 0.0)
        keep_score = ok | (st == _MONOTONE) | (st == _NOT_CONVERGED)
        cols = {
            "n": count,
            "events": ev,
            "coef": coef,
            "se": se,
            "z": z_stat,
            "p_wald": 2.0 * special.ndtr(-np.abs(z_stat)),
            "p_lrt": np.where(ok, special.chdtrc(1, lrt), np.nan),
            "p_score": np.where(keep_score, special.chdtrc(1, res[:, 7]), np.nan),
            "iterations": res[:, 8].astype(np.int64),
            "converged": ok,
            "status": np.asarray(_STATUS_NAMES, dtype=object)[st],
        }
    return pl.DataFrame({"feature": list(names), **cols}, schema=RESULT_SCHEMA)


def cox_screen(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    ties: Literal["efron", "breslow"] = "efron",
    covariates: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
    block_size: int | None = None,
    max_iter: int = 30,
    n_threads: int = 1,
    engine: Literal["auto", "numpy"] = "auto",
) -> pl.DataFrame:
    """Fit one Cox model per column of ``X``, all columns at once, exactly as R ``coxph``.

    Parameters
    ----------
    X
        ``(n_samples, n_features)`` numeric matrix; NaN marks a missing value, and a
        feature with missing values uses exactly its complete cases.
    time
        ``(n_samples,)`` follow-up times, non-negative.
    event
        ``(n_samples,)`` 1 (or True) for an event, 0 (False) for censoring.
    ties
        ``"efron"`` (R's default) or ``"breslow"`` handling of tied event times.
    covariates
        Optional ``(n_samples, k)`` numeric covariates (dummies for categories) adjusted
        for in every feature's model (feature + covariates). ``coef``, ``se``, ``z`` and
        ``p_wald`` are then the feature's; ``p_lrt`` compares with the covariates-only
        model fitted on the same complete cases of that feature; ``p_score`` is the score
        test of the feature at the covariates-only estimate, with the efficient
        information ``I_ff - I_fc I_cc^-1 I_cf``.
    strata
        Optional ``(n_samples,)`` stratum labels: stratified Cox model (risk sets and
        baseline hazards within strata).
    feature_names
        Names for the ``feature`` column; default ``"0"``, ``"1"``, ...
    block_size
        Features fitted together; default chosen so that the working arrays of the
        blocks in flight take about :data:`MEMORY_BUDGET` (64 MiB). The compiled engine
        copies blocks of this many columns (unless ``X`` is float64 stored features x
        samples with every sample usable, which it reads in place), so its memory
        beyond the input is one block and the result whatever the number of features.
    max_iter
        Maximum number of Newton-Raphson iterations per feature.
    n_threads
        Worker threads for the blocks (default 1). Results do not depend on it.

    Returns
    -------
    polars.DataFrame
        One row per feature, in input order, with columns :data:`RESULT_COLUMNS`:
        ``feature``; ``n`` and ``events`` (complete cases used and their events);
        ``coef`` (log hazard ratio per unit), ``se``, ``z`` and two-sided Wald
        ``p_wald``; likelihood-ratio ``p_lrt`` and score ``p_score`` (R's "Score
        (logrank) test" without covariates); ``iterations``; ``converged``; ``status``
        (``ok``, ``constant``, ``no_events``, ``too_few_samples``,
        ``monotone_likelihood``, ``not_converged`` or ``singular``). Estimates of a
        feature that is not ``ok`` are NaN (``p_score`` is kept for
        ``monotone_likelihood`` and ``not_converged``).

    Raises
    ------
    ValueError
        On invalid inputs: shapes that do not match, negative times, events other than
        0/1, infinite values, unknown ``ties``, constant or collinear covariates.

    Notes
    -----
    A sample with a missing (NaN) time, event, covariate or stratum is left out of every
    feature's model and of its ``n``. See the module docstring for the algorithm.
    """
    if ties not in ("efron", "breslow"):
        msg = f"ties must be 'efron' or 'breslow', not {ties!r}"
        raise ValueError(msg)
    if max_iter < 1:
        msg = f"max_iter must be at least 1, got {max_iter}"
        raise ValueError(msg)
    if block_size is not None and block_size < 1:
        msg = f"block_size must be at least 1, got {block_size}"
        raise ValueError(msg)
    X = np.asarray(X)
    if X.ndim != 2:
        msg = f"X must be 2-dimensional (n_samples, n_features), got shape {X.shape}"
        raise ValueError(msg)
    n, p = X.shape
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event).astype(np.float64)
    if time.shape != (n,) or event.shape != (n,):
        msg = f"time and event must have one value per row of X ({n})"
        raise ValueError(msg)
    names = [str(i) for i in range(p)] if feature_names is None else [str(f) for f in feature_names]
    if len(names) != p:
        msg = f"feature_names has {len(names)} names for {p} features"
        raise ValueError(msg)
    cov = _covariate_matrix(covariates, n)
    codes, stratum_present = _stratum_codes(strata, n)
    keep = ~np.isnan(time) & ~np.isnan(event) & stratum_present
    if cov is None and engine == "auto":
        if (time[keep] < 0).any() or not np.isin(event[keep], (0.0, 1.0)).all():
            msg = "time must be finite and non-negative; event must be 0 or 1"
            raise ValueError(msg)
        return _screen_compiled(
            X, keep, time[keep], event[keep],
            strata=codes[keep], ties=ties, names=names, max_iter=max_iter,
            block_size=block_size,
        )  # fmt: skip
    if cov is not None:
        keep &= ~np.isnan(cov).any(axis=1)
    if (time[keep] < 0).any() or np.isinf(time[keep]).any():
        msg = "time must be finite and non-negative"
        raise ValueError(msg)
    if not np.isin(event[keep], (0.0, 1.0)).all():
        msg = "event must be 0 or 1 (or boolean)"
        raise ValueError(msg)
    if cov is not None:
        cov = _standardise_covariates(cov, keep)
    if cov is not None and engine == "auto":
        return _screen_compiled_adjusted(
            X, keep, time[keep], event[keep], cov[keep],
            strata=codes[keep], ties=ties, names=names, max_iter=max_iter,
            block_size=block_size,
        )  # fmt: skip
    layout = _build_layout(time, event, codes, keep, cov, efron=ties == "efron")

    threads = max(1, int(n_threads))
    if block_size is None:
        per_feature = _Evaluator.working_doubles(layout, 1 + layout.k) + 4 * layout.n_clean
        block_size = MEMORY_BUDGET // (8 * per_feature * threads)
    block_size = int(max(1, min(block_size, max(p, 1))))
    blocks = [slice(s, min(s + block_size, p)) for s in range(0, p, block_size)]
    threads = max(1, min(threads, len(blocks)))

    out = {c: np.full(p, np.nan) for c in ("coef", "se", "loglik", "loglik_null", "score")}
    n_used = np.zeros(p, dtype=np.int64)
    n_events = np.zeros(p, dtype=np.int64)
    iterations = np.zeros(p, dtype=np.int64)
    status = np.zeros(p, dtype=np.int64)

    with np.errstate(all="ignore"):
        shared_null = None
        if layout.k and layout.n_events:
            shared_null = _null_fit(layout, None, 1, max_iter=max_iter, ws=_Workspace())

    def run(worker: int) -> None:
        ws = _Workspace()
        with np.errstate(all="ignore"):  # numpy's error state is per thread
            for cols in blocks[worker::threads]:
                if layout.n_events == 0:
                    res = _screen_block_without_events(layout, X, cols)
                else:
                    res = _screen_block(
                        layout, X, cols, shared_null=shared_null, max_iter=max_iter, ws=ws
                    )
                for c, values in out.items():
                    values[cols] = getattr(res, c)
                n_used[cols] = res.n
                n_events[cols] = res.events
                iterations[cols] = res.iterations
                status[cols] = res.status

    if threads == 1:
        run(0)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(run, w) for w in range(threads)]:
                future.result()

    with np.errstate(all="ignore"):
        ok = status == _OK
        coef = np.where(ok, out["coef"], np.nan)
        se = np.where(ok, out["se"], np.nan)
        z = coef / se
        p_wald = 2.0 * special.ndtr(-np.abs(z))
        lrt = np.maximum(2.0 * (out["loglik"] - out["loglik_null"]), 0.0)
        p_lrt = np.where(ok, special.chdtrc(1, lrt), np.nan)
        keep_score = ok | (status == _MONOTONE) | (status == _NOT_CONVERGED)
        p_score = np.where(keep_score, special.chdtrc(1, out["score"]), np.nan)
    return pl.DataFrame(
        {
            "feature": names,
            "n": n_used,
            "events": n_events,
            "coef": coef,
            "se": se,
            "z": z,
            "p_wald": p_wald,
            "p_lrt": p_lrt,
            "p_score": p_score,
            "iterations": iterations,
            "converged": ok,
            "status": np.asarray(_STATUS_NAMES, dtype=object)[status],
        },
        schema=RESULT_SCHEMA,
    )
