"""Univariate Cox screening of many features at once, exact to R's ``coxph``.

Engines
-------
Models without covariates (optionally stratified) run in a compiled kernel
(:mod:`survomics._cox_kernel`): per feature, one pass over the sorted samples per
likelihood evaluation, features in parallel threads, no temporaries of size samples x
features. Covariate-adjusted models run in the vectorized NumPy engine described below
(``engine="numpy"`` forces it for every model, which the tests use to cross-check).

Algorithm (NumPy engine)
------------------------
Samples are sorted once by (stratum, time). For a block of features, with ``w`` the
per-sample weights ``exp(beta * x)`` (0 where the feature is missing, so each feature uses
exactly its complete cases), the risk-set sums S0, S1, S2 (of ``w``, ``w x``, ``w x²``
over everyone still at risk) are reverse cumulative sums taken at the first sample of each
(stratum, time) group; reverse sums are cut at stratum ends so risk sets stay inside a
stratum. Tied deaths are handled exactly as R:

* Breslow: every death of a group sees the full risk set.
* Efron: the group's ``d`` deaths are expanded into rows ``l = 0..d-1`` whose
  denominators are ``S0 - (l/d) D0`` (D = sums over the group's deaths), likewise for the
  first and second moments. Because ``d`` differs between features when values are
  missing, rows are built for the group's largest ``d`` and masked per feature
  (``l < d_feature``), so the cost is O(events x block) like the cumulative sums.

Newton-Raphson runs for all features of the block simultaneously (features are centred
by their complete-case mean, as R does; each block's linear predictor is shifted by its
maximum before ``exp``), with step halving where the log-likelihood decreases, until the
relative log-likelihood change is below 1e-12. Blocks bound the working memory (about
64 MiB by default) whatever the number of features.

Status rules
------------
``too_few_samples`` (< 3 complete cases), ``no_events`` (no event among them),
``constant`` (zero variance), ``monotone_likelihood`` (an infinite maximum-likelihood
estimate: the Fisher information at the estimate has collapsed below 1e-4 of its value
at 0, or the coefficient exceeds 10 per standard deviation of the feature — e.g. all
events on one side of a binary feature), ``not_converged``; otherwise ``ok``. Estimates of features
that are not ``ok`` are NaN; they never affect other features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

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
"""Columns of :func:`cox_screen`'s result."""

MONOTONE_SD = 10.0
"""|coef| x SD(feature) above which the likelihood is taken as monotone."""

MONOTONE_INFO_RATIO = 1e-4
"""Information at the estimate below this fraction of the information at 0 means the
estimate ran off to infinity (e.g. a mutation carried by one censored patient)."""

_MEMORY_BUDGET = 64 * 2**20


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R ``p.adjust(method = "BH")``).

    NaN entries stay NaN and do not count in the number of tests.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")[::-1]]
    ranks = np.arange(m, 0, -1)
    adjusted = np.minimum.accumulate(m / ranks * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


class _RiskSets:
    """Sorting and grouping shared by every block."""

    def __init__(self, time: np.ndarray, event: np.ndarray, strata: np.ndarray | None) -> None:
        n = time.size
        stratum_codes = (
            np.zeros(n, dtype=np.int64)
            if strata is None
            else np.unique(np.asarray(strata), return_inverse=True)[1].astype(np.int64)
        )
        self.order = np.lexsort((time, stratum_codes))
        t = time[self.order]
        s = stratum_codes[self.order]
        self.event = event[self.order].astype(np.float64)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
        self.group_start = np.flatnonzero(new_group)
        self.group_of = np.cumsum(new_group) - 1
        new_stratum = np.ones(n, dtype=bool)
        new_stratum[1:] = s[1:] != s[:-1]
        stratum_id = np.cumsum(new_stratum) - 1
        stratum_end = np.append(np.flatnonzero(new_stratum)[1:], n)
        # Index (into an array with a trailing zero row) where this sample's stratum ends.
        self.cut = stratum_end[stratum_id[self.group_start]]
        n_groups = self.group_start.size
        deaths_per_group = np.bincount(self.group_of, weights=self.event, minlength=n_groups)
        self.max_deaths = deaths_per_group.astype(np.int64)
        # Efron expansion: one row per (group, l) with l < deaths in the group.
        self.exp_group = np.repeat(np.arange(n_groups), self.max_deaths)
        starts = np.cumsum(self.max_deaths) - self.max_deaths
        self.exp_l = np.arange(self.exp_group.size) - np.repeat(starts, self.max_deaths)

    def risk_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums over each group's risk set (rows: groups), within strata."""
        rc = np.zeros((values.shape[0] + 1, values.shape[1]))
        rc[:-1] = np.cumsum(values[::-1], axis=0)[::-1]
        return rc[self.group_start] - rc[self.cut]

    def death_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums over each group's deaths (rows: groups)."""
        out = np.zeros((self.group_start.size, values.shape[1]))
        np.add.at(out, self.group_of, values * self.event[:, None])
        return out


def _evaluator(
    rs: _RiskSets, v: np.ndarray, mask: np.ndarray, ties: str
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Log-likelihood, score and information as a function of the coefficients.

    ``v`` is ``(n, B, q)``: for each of the B models of the block, its q centred variables
    (0 where the model's feature is missing); ``mask`` is ``(n, B)``.
    """
    n, n_models, q = v.shape
    d_mask = mask * rs.event[:, None]
    dcount = rs.death_sums(mask.astype(np.float64))  # groups x models
    n_deaths = d_mask.sum(axis=0)
    death_v = np.einsum("nb,nbq->bq", d_mask, v)
    efron = ties == "efron"
    if efron:
        g = rs.exp_group
        valid = rs.exp_l[:, None] < dcount[g]
        frac = np.where(valid, rs.exp_l[:, None] / np.where(dcount[g] > 0, dcount[g], 1.0), 0.0)
    outer = (v[:, :, :, None] * v[:, :, None, :]).reshape(n, n_models, q * q)

    def evaluate(beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eta = np.einsum("nbq,bq->nb", v, beta)
        shift = np.where(mask, eta, -np.inf).max(axis=0)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        w = np.where(mask, np.exp(eta - shift), 0.0)
        wv = (w[:, :, None] * v).reshape(n, n_models * q)
        wvv = (w[:, :, None] * outer).reshape(n, n_models * q * q)
        r0 = rs.risk_sums(w)
        r1 = rs.risk_sums(wv).reshape(-1, n_models, q)
        r2 = rs.risk_sums(wvv).reshape(-1, n_models, q, q)
        if efron:
            d0 = rs.death_sums(w)
            d1 = rs.death_sums(wv).reshape(-1, n_models, q)
            d2 = rs.death_sums(wvv).reshape(-1, n_models, q, q)
            denom = np.where(valid, r0[g] - frac * d0[g], 1.0)
            m1 = (r1[g] - frac[:, :, None] * d1[g]) / denom[:, :, None]
            m1 = np.where(valid[:, :, None], m1, 0.0)
            m2 = (r2[g] - frac[:, :, None, None] * d2[g]) / denom[:, :, None, None]
            m2 = np.where(valid[:, :, None, None], m2, 0.0)
            log_denom = np.where(valid, np.log(denom), 0.0).sum(axis=0)
            u = death_v - m1.sum(axis=0)
            info = (m2 - m1[:, :, :, None] * m1[:, :, None, :]).sum(axis=0)
        else:
            safe = np.where(r0 > 0, r0, 1.0)
            m1 = r1 / safe[:, :, None]
            m2 = r2 / safe[:, :, None, None]
            log_denom = (dcount * np.log(safe)).sum(axis=0)
            u = death_v - np.einsum("gb,gbq->bq", dcount, m1)
            info = np.einsum("gb,gbqr->bqr", dcount, m2 - m1[:, :, :, None] * m1[:, :, None, :])
        loglik = (d_mask * eta).sum(axis=0) - log_denom - n_deaths * shift
        return loglik, u, info

    return evaluate


def _solve(info: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps ``info^-1 u`` per model, and which informations are singular."""
    q = info.shape[-1]
    if q == 1:
        singular = ~(info[:, 0, 0] > 0)
        step = np.where(singular, 0.0, u[:, 0] / np.where(singular, 1.0, info[:, 0, 0]))
        return step[:, None], singular
    cond = np.linalg.cond(info)
    singular = ~np.isfinite(cond) | (cond > 1e12)
    safe = np.where(singular[:, None, None], np.eye(q), info)
    step = np.linalg.solve(safe, u[:, :, None])[:, :, 0]
    return np.where(singular[:, None], 0.0, step), singular


def _newton(
    evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
    beta: np.ndarray,
    max_iter: int,
) -> dict[str, np.ndarray]:
    """Newton-Raphson with step halving (as R's ``coxph.fit``) for every model at once."""
    n_models = beta.shape[0]
    ll, u, info = evaluate(beta)
    converged = np.zeros(n_models, dtype=bool)
    iterations = np.zeros(n_models, dtype=np.int64)
    active = np.ones(n_models, dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        step, _singular = _solve(info, u)
        new_beta = np.where(active[:, None], beta + step, beta)
        new_ll, new_u, new_info = evaluate(new_beta)
        for _half in range(30):
            worse = active & ~(new_ll >= ll - 1e-12 * np.abs(ll))
            if not worse.any():
                break
            new_beta = np.where(worse[:, None], (beta + new_beta) / 2.0, new_beta)
            new_ll, new_u, new_info = evaluate(new_beta)
        iterations += active
        scale = np.maximum(np.abs(beta), 1.0)
        done = active & (np.abs(new_ll - ll) <= 1e-12 * np.maximum(np.abs(ll), 1.0))
        done |= active & (np.abs(new_beta - beta) <= 1e-13 * scale).all(axis=1)
        beta, ll, u, info = new_beta, new_ll, new_u, new_info
        converged |= done
        active &= ~done
    ll, u, info = evaluate(beta)
    return {"beta": beta, "ll": ll, "u": u, "info": info, "converged": converged,
            "iterations": iterations}  # fmt: skip


def _fit_block(
    rs: _RiskSets,
    *,
    x: np.ndarray,
    mask: np.ndarray,
    z: np.ndarray | None,
    ties: str,
    max_iter: int,
) -> dict[str, np.ndarray]:
    """Fit the block's models: feature ``x`` (centred, 0 where missing) + covariates ``z``.

    Returns the full fit, the null statistics (log-likelihood, score test) of the
    covariates-only model on the same complete cases, and the feature's variance.
    """
    n, n_feat = x.shape
    k = 0 if z is None else z.shape[1]
    v = x[:, :, None]
    if z is not None:
        v = np.concatenate([v, np.broadcast_to(z[:, None, :], (n, n_feat, k))], axis=2)
        v = v * mask[:, :, None]
    full = _evaluator(rs, v, mask, ties)
    if k:
        null = _newton(_evaluator(rs, v[:, :, 1:], mask, ties), np.zeros((n_feat, k)), max_iter)
        start = np.concatenate([np.zeros((n_feat, 1)), null["beta"]], axis=1)
    else:
        null = None
        start = np.zeros((n_feat, 1))
    ll0, u0, i0 = full(start)
    # Score test for the feature at the restricted estimate (efficient information).
    if k:
        i_cc = i0[:, 1:, 1:]
        i_cf = i0[:, 1:, 0]
        cc_singular = ~np.isfinite(np.linalg.cond(i_cc))
        safe = np.where(cc_singular[:, None, None], np.eye(k), i_cc)
        corr = np.einsum("bk,bk->b", i_cf, np.linalg.solve(safe, i_cf[:, :, None])[:, :, 0])
        eff = i0[:, 0, 0] - corr
    else:
        eff = i0[:, 0, 0]
    fit = _newton(full, start, max_iter)
    cov_ff = np.full(n_feat, np.nan)
    _, singular = _solve(fit["info"], fit["u"])
    ok_info = ~singular
    if k:
        inv = np.linalg.inv(np.where(ok_info[:, None, None], fit["info"], np.eye(k + 1)))
        cov_ff[ok_info] = inv[ok_info, 0, 0]
    else:
        cov_ff[ok_info] = 1.0 / fit["info"][ok_info, 0, 0]
    return {
        "beta": fit["beta"][:, 0],
        "var": cov_ff,
        "info_ff": fit["info"][:, 0, 0],
        "ll": fit["ll"],
        "ll0": ll0,
        "score": u0[:, 0] ** 2 / np.where(eff > 0, eff, np.nan),
        "i0": eff,
        "singular": singular,
        "converged": fit["converged"],
        "iterations": fit["iterations"],
    }


def _result_frame(names: Sequence[str], cols: dict[str, np.ndarray]) -> pl.DataFrame:
    return pl.DataFrame(
        {"feature": list(names), **cols},
        schema={
            "feature": pl.String,
            "n": pl.Int64,
            "events": pl.Int64,
            **dict.fromkeys(("coef", "se", "z", "p_wald", "p_lrt", "p_score"), pl.Float64),
            "iterations": pl.Int64,
            "converged": pl.Boolean,
            "status": pl.String,
        },
    )


def _screen_compiled(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    strata: np.ndarray | None,
    ties: str,
    names: Sequence[str],
    max_iter: int,
) -> pl.DataFrame:
    """Univariate models through the compiled kernel, with the same status rules."""
    from survomics._cox_kernel import fit_sorted  # noqa: PLC0415 - compiles on first use

    fit = fit_sorted(X, time, event, strata=strata, ties=ties, max_iter=max_iter)
    beta, info, sd = fit["beta"], fit["info"], fit["sd"]
    count, ev, mean = fit["n"], fit["events"], fit["mean"]
    with np.errstate(all="ignore"):
        st = np.full(beta.size, "ok", dtype=object)
        st[~fit["converged"]] = "not_converged"
        runaway = (np.abs(beta) * sd > MONOTONE_SD) | ~np.isfinite(info) | ~(info > 0)
        runaway |= ~(info >= MONOTONE_INFO_RATIO * fit["info0"])
        st[runaway] = "monotone_likelihood"
        st[sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = "constant"
        st[ev == 0] = "no_events"
        st[count < 3] = "too_few_samples"
        ok = st == "ok"
        se = 1.0 / np.sqrt(info)
        z = beta / se
        lrt = np.maximum(2.0 * (fit["loglik"] - fit["loglik0"]), 0.0)
        score = fit["score0"] ** 2 / fit["info0"]
        score_ok = ok | (st == "monotone_likelihood") | (st == "not_converged")
        cols = {
            "n": count,
            "events": ev,
            "coef": np.where(ok, beta, np.nan),
            "se": np.where(ok, se, np.nan),
            "z": np.where(ok, z, np.nan),
            "p_wald": np.where(ok, 2.0 * stats.norm.sf(np.abs(z)), np.nan),
            "p_lrt": np.where(ok, stats.chi2.sf(lrt, 1), np.nan),
            "p_score": np.where(score_ok & np.isfinite(score), stats.chi2.sf(score, 1), np.nan),
            "iterations": fit["iterations"],
            "converged": ok,
            "status": st.astype(str),
        }
    return _result_frame(names, cols)


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
    engine: Literal["auto", "numpy"] = "auto",
) -> pl.DataFrame:
    """Fit one univariate Cox model per column of ``X``, all at once.

    Parameters
    ----------
    X
        ``(n_samples, n_features)``; NaN marks a missing value (that feature then uses its
        complete cases only).
    time
        Follow-up times, ``(n_samples,)``, non-negative.
    event
        1 for an event, 0 for censored, ``(n_samples,)``.
    ties
        ``efron`` (R's default) or ``breslow``.
    covariates
        Optional ``(n_samples, k)`` clinical covariates (numeric; dummies for categories)
        adjusted for in every feature's model. Samples with a missing covariate, time or
        event are left out of every model. ``coef``/``se``/``z``/``p_wald`` are then the
        feature's; ``p_lrt`` compares with the covariates-only model fitted on the same
        complete cases; ``p_score`` is the score test of the feature at the
        covariates-only estimate (efficient information).
    strata
        Optional stratum labels: risk sets stay within a stratum (stratified Cox).
    feature_names
        Names for the ``feature`` column (default ``"0"``, ``"1"``...).
    block_size
        Features per block; by default chosen for about 64 MiB of working arrays.
    max_iter
        Newton-Raphson iterations at most.
    engine
        ``auto``: models without covariates run in the compiled kernel
        (:mod:`survomics._cox_kernel`, parallel over features), models with covariates in
        the vectorized NumPy engine; ``numpy`` forces the NumPy engine (used to cross-check).

    Returns
    -------
    polars.DataFrame
        One row per feature in input order with :data:`RESULT_COLUMNS`.
    """
    if ties not in ("efron", "breslow"):
        msg = f"ties must be 'efron' or 'breslow', not {ties!r}"
        raise ValueError(msg)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        msg = "X must be 2-dimensional (n_samples, n_features)"
        raise ValueError(msg)
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event).astype(np.float64)
    n, p = X.shape
    if time.shape != (n,) or event.shape != (n,):
        msg = "time and event must have one value per row of X"
        raise ValueError(msg)
    z = None if covariates is None else np.asarray(covariates, dtype=np.float64)
    if z is not None:
        z = z.reshape(n, -1) if z.ndim == 1 else z
        if z.shape[0] != n:
            msg = "covariates must have one row per row of X"
            raise ValueError(msg)
    keep = ~np.isnan(time) & ~np.isnan(event)
    if z is not None:
        keep &= ~np.isnan(z).any(axis=1)
    if not keep.all():
        X, time, event = X[keep], time[keep], event[keep]
    strata = None if strata is None else np.asarray(strata)[keep]
    z = None if z is None else z[keep] - z[keep].mean(axis=0)
    n_cov = 0 if z is None else z.shape[1]
    if (time < 0).any() or not np.isin(event, (0.0, 1.0)).all():
        msg = "time must be non-negative; event must be 0 or 1"
        raise ValueError(msg)
    names = [str(i) for i in range(p)] if feature_names is None else list(feature_names)
    if z is None and engine != "numpy":
        return _screen_compiled(X, time, event, strata=strata, ties=ties, names=names,
                                max_iter=max_iter)  # fmt: skip
    rs = _RiskSets(time, event, strata)
    xs = X[rs.order]
    zs = None if z is None else z[rs.order]
    if block_size is None:
        q = 1 + n_cov
        per_feature = 8 * q * q * (8 * time.size + 8 * int(rs.exp_group.size) + 8)
        block_size = int(max(1, min(p, _MEMORY_BUDGET // max(per_feature, 1))))
    out = {k: np.full(p, np.nan) for k in ("coef", "se", "z", "p_wald", "p_lrt", "p_score")}
    n_cc = np.zeros(p, dtype=np.int64)
    events = np.zeros(p, dtype=np.int64)
    iterations = np.zeros(p, dtype=np.int64)
    converged = np.zeros(p, dtype=bool)
    status = np.empty(p, dtype=object)
    with np.errstate(all="ignore"):
        for start in range(0, p, block_size):
            sl = slice(start, min(start + block_size, p))
            block = xs[:, sl]
            mask = ~np.isnan(block)
            count = mask.sum(axis=0)
            mean = np.where(mask, block, 0.0).sum(axis=0) / np.maximum(count, 1)
            centred = np.where(mask, block - mean, 0.0)
            sd = np.sqrt((centred**2).sum(axis=0) / np.maximum(count - 1, 1))
            ev = (mask * rs.event[:, None]).sum(axis=0).astype(np.int64)
            fit = _fit_block(rs, x=centred, mask=mask, z=zs, ties=ties, max_iter=max_iter)
            beta, var = fit["beta"], fit["var"]
            st = np.full(beta.size, "ok", dtype=object)
            st[~fit["converged"]] = "not_converged"
            runaway = (np.abs(beta) * sd > MONOTONE_SD) | ~np.isfinite(var)
            runaway |= ~(fit["info_ff"] >= MONOTONE_INFO_RATIO * fit["i0"])
            st[runaway] = "monotone_likelihood"
            if zs is not None:
                st[fit["singular"] & ~(np.abs(beta) * sd > MONOTONE_SD)] = "singular"
            st[sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = "constant"
            st[ev == 0] = "no_events"
            st[count < 3 + n_cov] = "too_few_samples"
            ok = st == "ok"
            se = np.sqrt(var)
            z = beta / se
            score = fit["score"]
            score_ok = ok | (st == "monotone_likelihood") | (st == "not_converged")
            out["coef"][sl] = np.where(ok, beta, np.nan)
            out["se"][sl] = np.where(ok, se, np.nan)
            out["z"][sl] = np.where(ok, z, np.nan)
            out["p_wald"][sl] = np.where(ok, 2.0 * stats.norm.sf(np.abs(z)), np.nan)
            lrt = np.maximum(2.0 * (fit["ll"] - fit["ll0"]), 0.0)
            out["p_lrt"][sl] = np.where(ok, stats.chi2.sf(lrt, 1), np.nan)
            out["p_score"][sl] = np.where(
                score_ok & np.isfinite(score), stats.chi2.sf(score, 1), np.nan
            )
            n_cc[sl] = count
            events[sl] = ev
            iterations[sl] = fit["iterations"]
            converged[sl] = ok
            status[sl] = st
    return _result_frame(
        names,
        {
            "n": n_cc,
            "events": events,
            **out,
            "iterations": iterations,
            "converged": converged,
            "status": status.astype(str),
        },
    )
