"""Compiled per-feature Newton-Raphson for univariate (optionally stratified) Cox models.

Each feature is gathered once into a buffer in (stratum, time) order; a likelihood
evaluation is one backward pass over it, accumulating the risk-set sums (reset at
stratum boundaries) and the Efron or Breslow terms of each tied group. There are no
temporaries of size samples x features. Features run in parallel threads; each feature's
arithmetic is sequential, so results do not depend on the number of threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp", "afn"})
def _evaluate(
    xc: np.ndarray,
    valid: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    stratum_start: np.ndarray,
    beta: float,
    shift: float,
    efron: bool,
) -> tuple[float, float, float]:
    """Log-likelihood, score and information at ``beta`` (``xc``: centred, sorted)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    loglik = 0.0
    u = 0.0
    info = 0.0
    for g in range(group_start.size - 2, -1, -1):
        if stratum_start[g + 1]:  # the next group starts a new stratum
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
        dd = 0.0
        d0 = 0.0
        d1 = 0.0
        d2 = 0.0
        for i in range(group_start[g], group_start[g + 1]):
            # Branch-free: invalid samples have weight 0 (valid[i] = 0.0), censored e = 0.
            x = xc[i]
            eta = beta * x
            w = valid[i] if beta == 0.0 else valid[i] * math.exp(min(eta - shift, 0.0))
            wx = w * x
            wxx = wx * x
            s0 += w
            s1 += wx
            s2 += wxx
            e = event[i] * valid[i]
            dd += e
            d0 += e * w
            d1 += e * wx
            d2 += e * wxx
            loglik += e * eta
            u += e * x
        d = int(dd)
        if d == 0:
            continue
        if efron:
            for k in range(d):
                f = k / d
                den = s0 - f * d0
                m1 = (s1 - f * d1) / den
                loglik -= math.log(den) + shift
                u -= m1
                info += (s2 - f * d2) / den - m1 * m1
        else:
            m1 = s1 / s0
            loglik -= d * (math.log(s0) + shift)
            u -= d * m1
            info += d * (s2 / s0 - m1 * m1)
    return loglik, u, info


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def fit_univariate(
    xt: np.ndarray,
    order: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    stratum_start: np.ndarray,
    efron: bool,
    max_iter: int,
    step_tol: float,
) -> np.ndarray:
    """Fit every row of ``xt`` (features x samples, NaN = missing).

    ``order`` sorts the samples by (stratum, time); ``event`` is in that order;
    ``group_start`` holds the boundaries of the (stratum, time) groups (length G + 1);
    ``stratum_start[g]`` is 1 where group ``g`` opens a stratum (and at ``G``).
    Iterations stop when the Newton step is below ``step_tol`` (times the feature's SD,
    relative above 1); that last tiny step is applied without a new evaluation.

    Returns ``(n_features, 11)``: count, events, mean, sd, beta, information at beta,
    log-likelihood at beta, log-likelihood at 0, score at 0, information at 0,
    iterations (negative, minus one, when not converged).
    """
    n_feat = xt.shape[0]
    n = order.size
    out = np.empty((n_feat, 11))
    for j in numba.prange(n_feat):
        row = xt[j]
        xc = np.empty(n)
        valid = np.empty(n)
        count = 0
        ev = 0
        total = 0.0
        for i in range(n):
            v = row[order[i]]
            ok = not math.isnan(v)
            valid[i] = 1.0 if ok else 0.0
            xc[i] = v if ok else 0.0
            if ok:
                count += 1
                total += v
                if event[i] > 0.0:
                    ev += 1
        mean = total / count if count > 0 else 0.0
        ss = 0.0
        lo = np.inf
        hi = -np.inf
        for i in range(n):
            if valid[i] > 0.0:
                xc[i] -= mean
                ss += xc[i] * xc[i]
                lo = min(lo, xc[i])
                hi = max(hi, xc[i])
        sd = math.sqrt(ss / (count - 1)) if count > 1 else 0.0
        ll0, u0, i0 = _evaluate(xc, valid, event, group_start, stratum_start, 0.0, 0.0, efron)
        beta = 0.0
        ll = ll0
        u = u0
        info = i0
        iterations = 0
        converged = False
        if count >= 3 and ev > 0 and sd > 0.0:
            for _ in range(max_iter):
                if not info > 0.0:
                    break
                step = u / info
                iterations += 1
                if abs(step) * sd <= step_tol * max(abs(beta) * sd, 1.0):
                    beta += step
                    converged = True
                    break
                new_beta = beta + step
                shift = new_beta * hi if new_beta > 0 else new_beta * lo
                nll, nu, ninfo = _evaluate(
                    xc, valid, event, group_start, stratum_start, new_beta, shift, efron
                )
                halvings = 0
                while not (nll >= ll - 1e-12 * abs(ll)) and halvings < 30:
                    new_beta = (beta + new_beta) / 2.0
                    shift = new_beta * hi if new_beta > 0 else new_beta * lo
                    nll, nu, ninfo = _evaluate(
                        xc, valid, event, group_start, stratum_start, new_beta, shift, efron
                    )
                    halvings += 1
                beta = new_beta
                ll = nll
                u = nu
                info = ninfo
        out[j, 0] = count
        out[j, 1] = ev
        out[j, 2] = mean
        out[j, 3] = sd
        out[j, 4] = beta
        out[j, 5] = info
        out[j, 6] = ll
        out[j, 7] = ll0
        out[j, 8] = u0
        out[j, 9] = i0
        out[j, 10] = iterations if converged else -iterations - 1
    return out


def fit_sorted(
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    strata: np.ndarray | None = None,
    ties: str = "efron",
    max_iter: int = 30,
    step_tol: float = 1e-10,
) -> dict[str, np.ndarray]:
    """Sort the samples and run :func:`fit_univariate` on every column of ``x``.

    ``x`` is ``(n_samples, n_features)``; a Fortran-ordered array (e.g. the transpose of a
    features x samples matrix) is used without a copy.

    Returns
    -------
    dict
        Arrays per feature: ``n``, ``events``, ``mean``, ``sd``, ``beta``, ``info``,
        ``loglik``, ``loglik0``, ``score0``, ``info0``, ``iterations``, ``converged``.
    """
    n = time.size
    codes = (
        np.zeros(n, dtype=np.int64)
        if strata is None
        else np.unique(np.asarray(strata), return_inverse=True)[1].astype(np.int64)
    )
    order = np.lexsort((time, codes)).astype(np.int64)
    t, s = time[order], codes[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new_group)
    group_start = np.append(starts, n).astype(np.int64)
    stratum_start = np.ones(starts.size + 1, dtype=np.int8)
    stratum_start[1:-1] = s[starts[1:]] != s[starts[:-1]]
    xt = np.asarray(x, dtype=np.float64).T
    if not xt.flags.c_contiguous:
        xt = np.ascontiguousarray(xt)
    out = fit_univariate(
        xt,
        order,
        np.asarray(event, dtype=np.float64)[order],
        group_start,
        stratum_start,
        ties == "efron",
        max_iter,
        step_tol,
    )
    iterations = out[:, 10]
    return {
        "n": out[:, 0].astype(np.int64),
        "events": out[:, 1].astype(np.int64),
        "mean": out[:, 2],
        "sd": out[:, 3],
        "beta": out[:, 4],
        "info": out[:, 5],
        "loglik": out[:, 6],
        "loglik0": out[:, 7],
        "score0": out[:, 8],
        "info0": out[:, 9],
        "iterations": np.where(iterations < 0, -iterations - 1, iterations).astype(np.int64),
        "converged": iterations >= 0,
    }
