"""Compiled per-feature Newton-Raphson for covariate-adjusted (optionally stratified) Cox.

Every feature's model is ``k covariates + feature``. As in :mod:`survomics._cox_kernel`,
each feature is gathered once into buffers in (stratum, time) order, the events of a
tied group first; features run in parallel threads over chunks, each feature's
arithmetic is sequential, so results do not depend on the number of threads.

One evaluation of the log-likelihood, score and information is one backward pass:

- the linear predictor and its weights (vectorized ``exp`` of :func:`_weights`);
- per sample, ``w_i`` times its row ``[1, v, v_a v_b (a <= b)]`` (``v`` = covariates
  then the feature; rows built once per feature) is added to the group's sums, the
  events' sums first (Efron's tied sums), then to the risk-set sums (reset at stratum
  boundaries). The events' own sums of ``v`` do not depend on the coefficients and are
  computed once per feature;
- Efron's ``d`` terms of a tied group, ``den_r = S0 - (r/d) D0`` for ``r < d``, are
  summed in closed form: the score and information need only ``sum f^l / den_r`` and
  ``sum f^l / den_r^2`` (``f = r/d``), and the log terms one ``log`` of a product.

The parameters are ordered covariates first, feature last, so that the last pivot of the
Cholesky factorization of the information is the *efficient* information of the feature
(``I_ff - I_fc I_cc^-1 I_cf``): the quantity of the score test, of the collinearity check
and of the monotone-likelihood check. The iteration, its step halving and the status
rules are those of the NumPy engine (:func:`survomics.cox._newton`), one feature at a time:

- start at ``(gamma_0, 0)``, ``gamma_0`` the covariates-only estimate on the feature's
  complete cases (shared by every complete feature, fitted per feature otherwise);
- converged once every coordinate of the Newton step is below ``step_tol``
  (standardised units, relative above 1): the step is applied, the log-likelihood gets
  its first-order correction and the information is the one of the last evaluation;
- a step that lowers the log-likelihood is halved; steps that keep their direction and
  size while the likelihood stalls or the efficient information collapses mean an
  infinite estimate (monotone likelihood).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from survomics._cox_kernel import _weights

# status codes, as in survomics.cox
OK, CONSTANT, NO_EVENTS, TOO_FEW, MONOTONE, NOT_CONVERGED, SINGULAR = range(7)
_ACTIVE = -1


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _evaluate(
    rows: np.ndarray,
    vt: np.ndarray,
    valid: np.ndarray,
    dead: np.ndarray,
    event_sums: np.ndarray,
    deaths: np.ndarray,
    group_start: np.ndarray,
    event_end: np.ndarray,
    stratum_start: np.ndarray,
    theta: np.ndarray,
    efron: bool,
    lp: np.ndarray,
    w: np.ndarray,
    bits: np.ndarray,
    risk: np.ndarray,
    tied: np.ndarray,
    m: np.ndarray,
    u: np.ndarray,
    info: np.ndarray,
) -> float:
    """Log-likelihood at ``theta``; score into ``u`` and information into ``info``.

    ``vt`` is ``(p, n)``: the sorted, standardised covariates then the feature (0 where
    missing). ``rows`` is ``(n, Q)``, per sample ``[1, v, packed upper products v_a v_b]``
    (zero where the feature is missing), so that one pass of ``w_i * rows[i]`` gives every
    risk-set sum. ``event_sums`` holds the sums of ``v`` over the events, ``deaths`` the
    events of each (stratum, time) group.
    """
    p = vt.shape[0]
    n = vt.shape[1]
    nq = rows.shape[1]
    for i in range(n):
        lp[i] = theta[0] * vt[0, i]
    for a in range(1, p):
        ta = theta[a]
        for i in range(n):
            lp[i] += ta * vt[a, i]
    hi = -np.inf
    for i in range(n):
        if valid[i] > 0.0 and lp[i] > hi:
            hi = lp[i]
    shift = hi if math.isfinite(hi) else 0.0
    _weights(lp, valid, 1.0, shift, w, bits)
    loglik = 0.0
    for a in range(p):
        loglik += theta[a] * event_sums[a]
        u[a] = event_sums[a]
        for b in range(p):
            info[a, b] = 0.0
    risk[:] = 0.0
    for g in range(group_start.size - 2, -1, -1):
        if stratum_start[g + 1]:
            risk[:] = 0.0
        d = deaths[g]
        # the group's events come first: their sums are Efron's tied sums
        for q in range(nq):
            tied[q] = 0.0
        for i in range(group_start[g], event_end[g]):
            wi = w[i]
            for q in range(nq):
                tied[q] += wi * rows[i, q]
        for q in range(nq):
            risk[q] += tied[q]
        for i in range(event_end[g], group_start[g + 1]):
            wi = w[i]
            for q in range(nq):
                risk[q] += wi * rows[i, q]
        if d == 0:
            continue
        if efron and d > 1:
            # sum over r = 0..d-1 of the terms at den_r = S0 - (r/d) D0, in closed form
            # in the sums: A_l = sum f^l / den, B_l = sum f^l / den^2
            a0 = 0.0
            a1 = 0.0
            b0 = 0.0
            b1 = 0.0
            b2 = 0.0
            logs = 0.0
            prod = 1.0
            for r in range(d):
                f = r / d
                den = risk[0] - f * tied[0]
                inv = 1.0 / den
                inv2 = inv * inv
                a0 += inv
                a1 += f * inv
                b0 += inv2
                b1 += f * inv2
                b2 += f * f * inv2
                # one log per many terms; a product kept within [1e-300, 1e300]
                if den < 1e-100 or den > 1e100:
                    logs += math.log(den)
                else:
                    prod *= den
                    if prod < 1e-200 or prod > 1e200:
                        logs += math.log(prod)
                        prod = 1.0
            logs += math.log(prod)
            loglik -= logs + d * shift
            for a in range(p):
                u[a] -= risk[1 + a] * a0 - tied[1 + a] * a1
            q = 1 + p
            for a in range(p):
                ra = risk[1 + a]
                ta = tied[1 + a]
                for b in range(a, p):
                    rb = risk[1 + b]
                    tb = tied[1 + b]
                    outer = ra * rb * b0 - (ra * tb + ta * rb) * b1 + ta * tb * b2
                    info[a, b] += risk[q] * a0 - tied[q] * a1 - outer
                    q += 1
        else:
            mult = float(d)
            inv = 1.0 / risk[0]
            loglik -= mult * (math.log(risk[0]) + shift)
            for a in range(p):
                m[a] = risk[1 + a] * inv
                u[a] -= mult * m[a]
            q = 1 + p
            for a in range(p):
                for b in range(a, p):
                    info[a, b] += mult * (risk[q] * inv - m[a] * m[b])
                    q += 1
    for a in range(p):
        for b in range(a):
            info[a, b] = info[b, a]
    return loglik


@numba.njit(cache=True, nogil=True)
def _solve(info: np.ndarray, u: np.ndarray, p: int, chol: np.ndarray, step: np.ndarray) -> float:
    """Cholesky-solve the leading ``p x p`` system ``info step = u``.

    Returns the last pivot (the efficient information of the last parameter), or ``nan``
    when the matrix is not positive definite (a pivot at or below ``1e-13`` times its
    diagonal entry, or not finite).
    """
    for a in range(p):
        for b in range(a + 1):
            acc = info[a, b]
            for c in range(b):
                acc -= chol[a, c] * chol[b, c]
            if a == b:
                if not (acc > 1e-13 * abs(info[a, a])) or not math.isfinite(acc):
                    return math.nan
                chol[a, a] = math.sqrt(acc)
            else:
                chol[a, b] = acc / chol[b, b]
    for a in range(p):  # forward: L y = u
        acc = u[a]
        for c in range(a):
            acc -= chol[a, c] * step[c]
        step[a] = acc / chol[a, a]
    for a in range(p - 1, -1, -1):  # backward: L' s = y
        acc = step[a]
        for c in range(a + 1, p):
            acc -= chol[c, a] * step[c]
        step[a] = acc / chol[a, a]
    last = chol[p - 1, p - 1]
    return last * last


@numba.njit(cache=True, nogil=True)
def _small(step: np.ndarray, at: np.ndarray, p: int, tol: float) -> bool:
    for a in range(p):
        if not abs(step[a]) <= tol * max(abs(at[a]), 1.0):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _newton(
    data: tuple,
    start: np.ndarray,
    p: int,
    efron: bool,
    max_iter: int,
    step_tol: float,
    stall_tol: float,
    collapse_ratio: float,
    ws: tuple,
    out: np.ndarray,
) -> None:
    """Newton-Raphson over the first ``p`` parameters (the others stay at ``start``).

    ``data`` is ``(rows, vt, valid, dead, event_sums, deaths, group_start,
    stratum_start)`` (see :func:`_evaluate`). ``out`` receives: status, iterations,
    loglik at start, loglik at the estimate, score of parameter ``p - 1`` at start, its
    information and efficient information at start, its estimate and its inverse
    information at the estimate; then the ``p`` estimates.
    """
    rows, vt, valid, dead, event_sums, deaths, group_start, event_end, stratum_start = data
    lp, w, bits, risk, tied, m, u, info, chol, step, theta, new, prev, un, infon = ws
    k1 = start.size
    theta[:] = start
    ll0 = _evaluate(rows, vt, valid, dead, event_sums, deaths, group_start, event_end,
                    stratum_start, theta, efron, lp, w, bits, risk, tied, m, u,
                    info)  # fmt: skip
    eff0 = _solve(info, u, p, chol, step)
    out[1] = 0
    out[2] = ll0
    out[3] = math.nan
    out[4] = u[p - 1]
    out[5] = info[p - 1, p - 1]
    out[6] = eff0
    out[7] = math.nan
    out[8] = math.nan
    if not math.isfinite(eff0):
        out[0] = SINGULAR
        return
    for a in range(p, k1):
        step[a] = 0.0
    if _small(step, theta, p, step_tol):
        _store(out, theta, step, u, ll0, eff0, p)
        return
    ll = ll0
    for a in range(k1):
        prev[a] = step[a]
        new[a] = theta[a] + step[a]
    for iteration in range(1, max_iter + 1):
        out[1] = iteration
        lln = _evaluate(rows, vt, valid, dead, event_sums, deaths, group_start, event_end,
                        stratum_start, new, efron, lp, w, bits, risk, tied, m, un,
                        infon)  # fmt: skip
        eff = _solve(infon, un, p, chol, step)
        ok = math.isfinite(eff)
        finite = ok and math.isfinite(lln)
        if finite:
            for a in range(p):
                if not math.isfinite(step[a]):
                    finite = False
        if finite and _small(step, new, p, step_tol):
            _store(out, new, step, un, lln, eff, p)
            return
        worse = (not finite) or (lln < ll - 1e-12 * max(abs(ll), 1.0))
        diverging = False
        if not worse:
            dot = 0.0
            norm_s = 0.0
            norm_p = 0.0
            for a in range(p):
                dot += step[a] * prev[a]
                norm_s += step[a] * step[a]
                norm_p += prev[a] * prev[a]
            not_shrinking = math.sqrt(norm_s) >= 0.5 * math.sqrt(norm_p)
            stalled = abs(lln - ll) <= stall_tol * max(abs(lln), 1.0)
            collapsed = not (eff > collapse_ratio * eff0)
            diverging = dot > 0.0 and not_shrinking and (stalled or collapsed)
        if (not ok) and math.isfinite(lln) and lln >= ll:
            diverging = True
        if diverging:
            out[0] = MONOTONE
            return
        if worse:
            for a in range(p):
                new[a] = 0.5 * (new[a] + theta[a])
        else:
            ll = lln
            for a in range(p):
                theta[a] = new[a]
                prev[a] = step[a]
                new[a] = new[a] + step[a]
    out[0] = NOT_CONVERGED


@numba.njit(cache=True, nogil=True)
def _store(
    out: np.ndarray, at: np.ndarray, step: np.ndarray, u: np.ndarray, ll: float, eff: float,
    p: int,
) -> None:  # fmt: skip
    """Converged: apply the last (tiny) step, first-order correction of the loglik."""
    half = 0.0
    for a in range(p):
        out[9 + a] = at[a] + step[a]
        half += u[a] * step[a]
    out[3] = ll + 0.5 * half
    out[7] = at[p - 1] + step[p - 1]
    out[8] = 1.0 / eff
    out[0] = OK


@numba.njit(cache=True, nogil=True)
def _workspace(n: int, p: int) -> tuple:
    nq = 1 + p + p * (p + 1) // 2
    return (
        np.empty(n),  # lp
        np.empty(n),  # w
        np.empty(n, dtype=np.int64),  # bits
        np.empty(nq),  # risk
        np.zeros(nq),  # tied
        np.empty(p),  # m
        np.empty(p),  # u
        np.empty((p, p)),  # info
        np.empty((p, p)),  # chol
        np.empty(p),  # step
        np.empty(p),  # theta
        np.empty(p),  # new
        np.empty(p),  # prev
        np.empty(p),  # un
        np.empty((p, p)),  # infon
    )


@numba.njit(cache=True, nogil=True)
def _fill(
    rows: np.ndarray,
    vt: np.ndarray,
    valid: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    dead: np.ndarray,
    event_sums: np.ndarray,
    deaths: np.ndarray,
) -> None:
    """Products, event sums and deaths per group of the valid samples (``vt`` filled)."""
    p, n = vt.shape
    for i in range(n):
        ok = valid[i]
        rows[i, 0] = ok
        q = 1 + p
        for a in range(p):
            va = vt[a, i] * ok
            rows[i, 1 + a] = va
            for b in range(a, p):
                rows[i, q] = va * vt[b, i]
                q += 1
        dead[i] = event[i] * ok
    event_sums[:] = 0.0
    for g in range(group_start.size - 1):
        d = 0
        for i in range(group_start[g], group_start[g + 1]):
            if dead[i] > 0.0:
                d += 1
                for a in range(p):
                    event_sums[a] += vt[a, i]
        deaths[g] = d


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def fit_adjusted(
    xt: np.ndarray,
    order: np.ndarray,
    zt: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    event_end: np.ndarray,
    stratum_start: np.ndarray,
    efron: bool,
    max_iter: int,
    step_tol: float,
    stall_tol: float,
    collapse_ratio: float,
    singular_ratio: float,
    gamma_shared: np.ndarray,
    shared_status: int,
    loglik_shared: float,
) -> np.ndarray:
    """Fit ``covariates + feature`` for every row of ``xt`` (features x samples, NaN = missing).

    ``order`` sorts the samples by (stratum, time); ``zt`` (``(k, n)`` sorted, standardised
    covariates) and ``event`` are in that order; ``group_start``/``stratum_start`` as in
    :func:`survomics._cox_kernel.fit_univariate`. ``gamma_shared``, ``shared_status`` and
    ``loglik_shared`` are the covariates-only fit on all samples (used by complete
    features as their null model and start).

    Returns ``(n_features, 10)``: count, events, sd, coef (per SD), its inverse
    information, loglik at the estimate, loglik of the covariates-only model, score
    statistic, iterations, status code.
    """
    n_feat = xt.shape[0]
    k, n = zt.shape
    p = k + 1
    nq = 1 + p + p * (p + 1) // 2
    n_groups = group_start.size - 1
    res = np.empty((n_feat, 10))
    n_chunks = min(n_feat, 256)
    for chunk in numba.prange(n_chunks):
        # buffers allocated once per chunk of features
        vt = np.empty((p, n))
        valid = np.empty(n)
        rows = np.empty((n, nq))
        dead = np.empty(n)
        event_sums = np.empty(p)
        deaths = np.empty(n_groups, dtype=np.int64)
        ws = _workspace(n, p)
        start = np.zeros(p)
        out = np.empty(9 + p)
        xs = vt[k]
        for c in range(k):
            vt[c] = zt[c]
        for j in range(chunk * n_feat // n_chunks, (chunk + 1) * n_feat // n_chunks):
            row = xt[j]
            count = 0
            ev = 0
            total = 0.0
            lo = np.inf
            hi = -np.inf
            for i in range(n):
                val = row[order[i]]
                ok = not math.isnan(val)
                valid[i] = 1.0 if ok else 0.0
                xs[i] = val if ok else 0.0
                if ok:
                    count += 1
                    total += val
                    lo = min(lo, val)
                    hi = max(hi, val)
                    if event[i] > 0.0:
                        ev += 1
            mean = total / count if count > 0 else 0.0
            ss = 0.0
            for i in range(n):
                if valid[i] > 0.0:
                    xs[i] -= mean
                    ss += xs[i] * xs[i]
            sd = math.sqrt(ss / count) if count > 0 else 0.0
            status = _ACTIVE
            if count < 3 + k:
                status = TOO_FEW
            elif ev == 0:
                status = NO_EVENTS
            elif not hi > lo:
                status = CONSTANT
            res[j, 0] = count
            res[j, 1] = ev
            res[j, 2] = sd
            for c in range(3, 8):
                res[j, c] = math.nan
            res[j, 8] = 0
            if status != _ACTIVE:
                res[j, 9] = status
                continue
            for i in range(n):
                xs[i] /= sd
            _fill(rows, vt, valid, event, group_start, dead, event_sums, deaths)
            data = (
                rows,
                vt,
                valid,
                dead,
                event_sums,
                deaths,
                group_start,
                event_end,
                stratum_start,
            )
            for c in range(k):
                start[c] = gamma_shared[c] if shared_status == OK else 0.0
            start[k] = 0.0
            if count == n:
                null_status = shared_status
                null_ll = loglik_shared
            else:  # the covariates-only model on this feature's complete cases
                _newton(data, start, k, efron, max_iter, step_tol, stall_tol, collapse_ratio,
                        ws, out)  # fmt: skip
                null_status = int(out[0])
                null_ll = out[3]
                for c in range(k):
                    start[c] = out[9 + c] if null_status == OK else 0.0
            res[j, 6] = null_ll
            _newton(data, start, p, efron, max_iter, step_tol, stall_tol, collapse_ratio, ws, out)
            info_ff0 = out[5]
            eff0 = out[6]
            score = out[4] * out[4] / eff0 if eff0 > 0.0 else math.nan
            if null_status != OK:
                status = MONOTONE if null_status == MONOTONE else SINGULAR
            else:
                status = int(out[0])
                if not (eff0 > singular_ratio * info_ff0):
                    status = SINGULAR
                if not (info_ff0 > 1e-12 * max(ev, 1)):
                    status = CONSTANT
            if status in (SINGULAR, CONSTANT):
                score = math.nan
            res[j, 3] = out[7]
            res[j, 4] = out[8]
            res[j, 5] = out[3]
            res[j, 7] = score
            res[j, 8] = out[1]
            res[j, 9] = status
    return res


def fit_null(
    zt: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    event_end: np.ndarray,
    stratum_start: np.ndarray,
    *,
    efron: bool,
    max_iter: int,
    step_tol: float,
    stall_tol: float,
    collapse_ratio: float,
) -> tuple[np.ndarray, int, float]:
    """The covariates-only model on all samples: estimates, status code, log-likelihood."""
    k, n = zt.shape
    p = k + 1
    vt = np.zeros((p, n))
    vt[:k] = zt
    valid = np.ones(n)
    rows = np.empty((n, 1 + p + p * (p + 1) // 2))
    dead = np.empty(n)
    event_sums = np.empty(p)
    deaths = np.empty(group_start.size - 1, dtype=np.int64)
    _fill(rows, vt, valid, event, group_start, dead, event_sums, deaths)
    data = (rows, vt, valid, dead, event_sums, deaths, group_start, event_end, stratum_start)
    out = np.empty(9 + p)
    _newton(data, np.zeros(p), k, efron, max_iter, step_tol, stall_tol, collapse_ratio,
            _workspace(n, p), out)  # fmt: skip
    return out[9 : 9 + k].copy(), int(out[0]), float(out[3])
