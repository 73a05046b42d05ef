"""Compiled per-feature Newton-Raphson for univariate (optionally stratified) Cox models.

Each feature is gathered once into a buffer in (stratum, time) order; a likelihood
evaluation is one backward pass over it, accumulating the risk-set sums (reset at
stratum boundaries) and the Efron or Breslow terms of each tied group. There are no
temporaries of size samples x features. Features run in parallel threads; each feature's
arithmetic is sequential, so results do not depend on the number of threads.

Fewer exponentials
------------------
An evaluation returns the log-likelihood and its first four derivatives (the cumulants
of the risk-set distributions of the feature). At ``beta = 0`` every weight is 1, so that
evaluation needs no ``exp``; the Newton iteration starts from the root of the score's
Taylor polynomial at 0 (cubic, from those derivatives), which is already close to the
maximum for the small effects of most features. At each later point the step solves the
score's Taylor polynomial there; when that step is small (``ACCEPT`` in units of the
feature's standard deviation) it is applied together with the Taylor corrections of the
log-likelihood and the information, whose neglected terms are of order ``step**4`` and
``step**3``, i.e. below rounding. A typical feature thus costs one ``exp`` per sample.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ACCEPT = 1e-3
"""Largest final step (in standard deviations of the feature) applied with Taylor terms."""


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
) -> tuple[float, float, float, float, float]:
    """Log-likelihood, score, information, third and fourth derivative at ``beta``.

    ``xc`` is centred and sorted; the derivatives of ``-log`` of a risk-set sum are the
    cumulants of ``x`` under that set's weights.
    """
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    loglik = 0.0
    u = 0.0
    info = 0.0
    third = 0.0
    fourth = 0.0
    for g in range(group_start.size - 2, -1, -1):
        if stratum_start[g + 1]:  # the next group starts a new stratum
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
        dd = 0.0
        d0 = 0.0
        d1 = 0.0
        d2 = 0.0
        d3 = 0.0
        d4 = 0.0
        for i in range(group_start[g], group_start[g + 1]):
            # Branch-free: invalid samples have weight 0 (valid[i] = 0.0), censored e = 0.
            x = xc[i]
            eta = beta * x
            w = valid[i] if beta == 0.0 else valid[i] * math.exp(min(eta - shift, 0.0))
            wx = w * x
            wxx = wx * x
            wx3 = wxx * x
            wx4 = wx3 * x
            s0 += w
            s1 += wx
            s2 += wxx
            s3 += wx3
            s4 += wx4
            e = event[i] * valid[i]
            dd += e
            d0 += e * w
            d1 += e * wx
            d2 += e * wxx
            d3 += e * wx3
            d4 += e * wx4
            loglik += e * eta
            u += e * x
        d = int(dd)
        if d == 0:
            continue
        for k in range(d if efron else 1):
            f = k / d if efron else 0.0
            den = s0 - f * d0
            m1 = (s1 - f * d1) / den
            m2 = (s2 - f * d2) / den
            m3 = (s3 - f * d3) / den
            m4 = (s4 - f * d4) / den
            m11 = m1 * m1
            k2 = m2 - m11
            k3 = m3 - 3.0 * m1 * m2 + 2.0 * m11 * m1
            k4 = m4 - 4.0 * m1 * m3 - 3.0 * m2 * m2 + 12.0 * m11 * m2 - 6.0 * m11 * m11
            mult = 1.0 if efron else float(d)
            loglik -= mult * (math.log(den) + shift)
            u -= mult * m1
            info += mult * k2
            third -= mult * k3
            fourth -= mult * k4
    return loglik, u, info, third, fourth


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _taylor_root(u: float, info: float, third: float, fourth: float) -> float:
    """Root near ``u / info`` of ``u - info*s + third*s**2/2 + fourth*s**3/6`` (NaN: none)."""
    s = u / info
    for _ in range(6):
        g = u - info * s + third * s * s / 2.0 + fourth * s * s * s / 6.0
        dg = -info + third * s + fourth * s * s / 2.0
        if not dg < 0.0:
            return math.nan
        s -= g / dg
    return s


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
    accept: float,
) -> np.ndarray:
    """Fit every row of ``xt`` (features x samples, NaN = missing).

    ``order`` sorts the samples by (stratum, time); ``event`` is in that order;
    ``group_start`` holds the boundaries of the (stratum, time) groups (length G + 1);
    ``stratum_start[g]`` is 1 where group ``g`` opens a stratum (and at ``G``).
    Iterations stop when the Newton step is below ``step_tol`` (times the feature's SD,
    relative above 1), or, when the step is the root of the score's Taylor polynomial,
    below ``accept`` (:data:`ACCEPT`; 0 disables this); that last step is applied
    without a new evaluation, the log-likelihood and information by their Taylor
    expansions.

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
        ll0, u0, i0, t0, q0 = _evaluate(
            xc, valid, event, group_start, stratum_start, 0.0, 0.0, efron
        )
        beta = 0.0
        ll = ll0
        u = u0
        info = i0
        third = t0
        fourth = q0
        iterations = 0
        converged = False
        if count >= 3 and ev > 0 and sd > 0.0:
            for _ in range(max_iter):
                if not info > 0.0:
                    break
                newton = u / info
                step = _taylor_root(u, info, third, fourth)
                if not (math.isfinite(step) and abs(step - newton) <= 0.5 * abs(newton)):
                    step = newton
                iterations += 1
                scale = max(abs(beta) * sd, 1.0)
                small = abs(step) * sd <= step_tol * scale
                if small or (step != newton and abs(step) * sd <= accept * scale):
                    s = step
                    ll += u * s - info * s * s / 2.0 + third * s**3 / 6.0 + fourth * s**4 / 24.0
                    info -= third * s + fourth * s * s / 2.0
                    beta += s
                    converged = True
                    break
                new_beta = beta + step
                shift = new_beta * hi if new_beta > 0 else new_beta * lo
                nll, nu, ninfo, nthird, nfourth = _evaluate(
                    xc, valid, event, group_start, stratum_start, new_beta, shift, efron
                )
                halvings = 0
                while not (nll >= ll - 1e-12 * abs(ll)) and halvings < 30:
                    new_beta = (beta + new_beta) / 2.0
                    shift = new_beta * hi if new_beta > 0 else new_beta * lo
                    nll, nu, ninfo, nthird, nfourth = _evaluate(
                        xc, valid, event, group_start, stratum_start, new_beta, shift, efron
                    )
                    halvings += 1
                beta = new_beta
                ll = nll
                u = nu
                info = ninfo
                third = nthird
                fourth = nfourth
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
    accept: float = ACCEPT,
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
        accept,
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
