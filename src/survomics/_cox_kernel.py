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

Two more savings keep the kernel fast on heavily tied data:

- For a feature without missing values the evaluation at 0 is closed-form per tied
  group: the Efron sums over a group's tied events are polynomials in the group's
  feature sums whose coefficients (:func:`zero_constants`) do not depend on the feature,
  so the per-event loop runs once for all features instead of once per feature.
- The exponentials are computed by :func:`_weights` in loops the compiler vectorizes
  (range reduction, a degree-12 polynomial and ``2**k`` from its bits, exact to an ulp),
  about three times faster than one ``math.exp`` call per sample.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ACCEPT = 1e-3
"""Largest final step (in standard deviations of the feature) applied with Taylor terms."""


_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer in the low bits
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _weights(
    xc: np.ndarray, valid: np.ndarray, beta: float, shift: float, w: np.ndarray, bits: np.ndarray
) -> None:
    """``w = valid * exp(min(beta * xc - shift, 0))``, in loops the compiler vectorizes.

    ``exp(z) = 2**k * p(r)`` with ``k = round(z / log 2)``, ``r = z - k log 2`` (two-part
    constant) and ``p`` the degree-12 Taylor polynomial, exact to about 1 ulp on
    ``|r| <= log(2) / 2``; ``2**k`` is built from its bits. Arguments below -700 are
    clamped (their weight is below 1e-304 of the largest).
    """
    tb = bits.view(np.float64)
    for i in range(xc.size):
        z = max(min(beta * xc[i] - shift, 0.0), -700.0)
        t = z * _LOG2E + _MAGIC
        tb[i] = t
        k = t - _MAGIC
        r = (z - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        w[i] = (p * r + 1.0) * valid[i]
    for i in range(xc.size):
        bits[i] = (bits[i] + 1023) << 52
    for i in range(xc.size):
        w[i] *= tb[i]


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
    w: np.ndarray,
    bits: np.ndarray,
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
    if beta == 0.0:
        w[:] = valid
    else:
        _weights(xc, valid, beta, shift, w, bits)
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
            # Invalid samples have weight 0 (valid[i] = 0.0), censored ones e = 0.
            x = xc[i]
            wi = w[i]
            wx = wi * x
            wxx = wx * x
            wx3 = wxx * x
            wx4 = wx3 * x
            s0 += wi
            s1 += wx
            s2 += wxx
            s3 += wx3
            s4 += wx4
            e = event[i] * valid[i]
            dd += e
            d0 += e * wi
            d1 += e * wx
            d2 += e * wxx
            d3 += e * wx3
            d4 += e * wx4
            loglik += e * beta * x
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
def zero_constants(
    event: np.ndarray, group_start: np.ndarray, stratum_start: np.ndarray, efron: bool
) -> tuple[np.ndarray, float]:
    """Per-group constants of the evaluation at ``beta = 0`` of a feature without NaN.

    At 0 every weight is 1, so each Efron (or Breslow) term's denominator
    ``A0 = s0 - f * d0`` is a count that does not depend on the feature. Row ``g`` holds
    ``C(a, m) = sum_k mult * f_k**a / A0_k**m`` for ``m = 1..4`` and ``a = 0..m`` (index
    ``m * (m + 1) / 2 - 1 + a``); the second value is the log-likelihood at 0.
    """
    n_groups = group_start.size - 1
    consts = np.zeros((n_groups, 14))
    s0 = 0.0
    loglik = 0.0
    for g in range(n_groups - 1, -1, -1):
        if stratum_start[g + 1]:
            s0 = 0.0
        d = 0
        for i in range(group_start[g], group_start[g + 1]):
            s0 += 1.0
            if event[i] > 0.0:
                d += 1
        if d == 0:
            continue
        for k in range(d if efron else 1):
            f = k / d if efron else 0.0
            mult = 1.0 if efron else float(d)
            a0 = s0 - f * d
            loglik -= mult * math.log(a0)
            r = 1.0 / a0
            rm = 1.0
            idx = 0
            for m in range(1, 5):
                rm *= r
                fa = 1.0
                for _ in range(m + 1):
                    consts[g, idx] += mult * fa * rm
                    fa *= f
                    idx += 1
    return consts, loglik


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp", "afn"})
def _evaluate_zero(
    xc: np.ndarray,
    event: np.ndarray,
    group_start: np.ndarray,
    stratum_start: np.ndarray,
    consts: np.ndarray,
    loglik0: float,
) -> tuple[float, float, float, float, float]:
    """:func:`_evaluate` at ``beta = 0`` for a feature without NaN, O(1) per tied group.

    The Efron sums over the tied events of a group are polynomials in the group's
    feature sums whose coefficients are the feature-free :func:`zero_constants`.
    """
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    s4 = 0.0
    u = 0.0
    info = 0.0
    third = 0.0
    fourth = 0.0
    for g in range(group_start.size - 2, -1, -1):
        if stratum_start[g + 1]:
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
        d1 = 0.0
        d2 = 0.0
        d3 = 0.0
        d4 = 0.0
        for i in range(group_start[g], group_start[g + 1]):
            x = xc[i]
            x2 = x * x
            x3 = x2 * x
            x4 = x3 * x
            s1 += x
            s2 += x2
            s3 += x3
            s4 += x4
            e = event[i]
            d1 += e * x
            d2 += e * x2
            d3 += e * x3
            d4 += e * x4
        c = consts[g]
        if c[0] == 0.0:  # no event in the group
            continue
        u += d1
        sum_m1 = s1 * c[0] - d1 * c[1]
        sum_m2 = s2 * c[0] - d2 * c[1]
        sum_m3 = s3 * c[0] - d3 * c[1]
        sum_m4 = s4 * c[0] - d4 * c[1]
        sum_m1m1 = s1 * s1 * c[2] - 2.0 * s1 * d1 * c[3] + d1 * d1 * c[4]
        sum_m1m2 = s1 * s2 * c[2] - (s1 * d2 + d1 * s2) * c[3] + d1 * d2 * c[4]
        sum_m2m2 = s2 * s2 * c[2] - 2.0 * s2 * d2 * c[3] + d2 * d2 * c[4]
        sum_m1m3 = s1 * s3 * c[2] - (s1 * d3 + d1 * s3) * c[3] + d1 * d3 * c[4]
        sum_m1m1m1 = (
            s1 * s1 * s1 * c[5]
            - 3.0 * s1 * s1 * d1 * c[6]
            + 3.0 * s1 * d1 * d1 * c[7]
            - d1 * d1 * d1 * c[8]
        )
        sum_m1m1m2 = (
            s1 * s1 * s2 * c[5]
            - (s1 * s1 * d2 + 2.0 * s1 * d1 * s2) * c[6]
            + (2.0 * s1 * d1 * d2 + d1 * d1 * s2) * c[7]
            - d1 * d1 * d2 * c[8]
        )
        sum_m1m1m1m1 = (
            s1**4 * c[9]
            - 4.0 * s1**3 * d1 * c[10]
            + 6.0 * s1 * s1 * d1 * d1 * c[11]
            - 4.0 * s1 * d1**3 * c[12]
            + d1**4 * c[13]
        )
        u -= sum_m1
        info += sum_m2 - sum_m1m1
        third -= sum_m3 - 3.0 * sum_m1m2 + 2.0 * sum_m1m1m1
        fourth -= sum_m4 - 4.0 * sum_m1m3 - 3.0 * sum_m2m2 + 12.0 * sum_m1m1m2 - 6.0 * sum_m1m1m1m1
    return loglik0, u, info, third, fourth


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
    consts: np.ndarray,
    loglik0: float,
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
        w = np.empty(n)
        bits = np.empty(n, dtype=np.int64)
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
        if count == n:
            ll0, u0, i0, t0, q0 = _evaluate_zero(
                xc, event, group_start, stratum_start, consts, loglik0
            )
        else:
            ll0, u0, i0, t0, q0 = _evaluate(
                xc, valid, event, group_start, stratum_start, 0.0, 0.0, efron, w, bits
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
                    xc, valid, event, group_start, stratum_start, new_beta, shift, efron, w, bits
                )
                halvings = 0
                while not (nll >= ll - 1e-12 * abs(ll)) and halvings < 30:
                    new_beta = (beta + new_beta) / 2.0
                    shift = new_beta * hi if new_beta > 0 else new_beta * lo
                    nll, nu, ninfo, nthird, nfourth = _evaluate(
                        xc,
                        valid,
                        event,
                        group_start,
                        stratum_start,
                        new_beta,
                        shift,
                        efron,
                        w,
                        bits,
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


def sort_layout(
    time: np.ndarray, event: np.ndarray, strata: np.ndarray | None, *, events_first: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample order by (stratum, time), sorted events, and group and stratum boundaries.

    With ``events_first`` the events of each (stratum, time) group precede its censored
    samples.

    Returns ``order``; ``event[order]`` as float; ``group_start`` (length G + 1), the
    first sorted position of each (stratum, time) group and ``n``; ``stratum_start``
    (int8, length G + 1), 1 where a group opens a stratum (and at ``G``).
    """
    n = time.size
    codes = (
        np.zeros(n, dtype=np.int64)
        if strata is None
        else np.unique(np.asarray(strata), return_inverse=True)[1].astype(np.int64)
    )
    keys = (-np.asarray(event, dtype=np.float64), time, codes) if events_first else (time, codes)
    order = np.lexsort(keys).astype(np.int64)
    t, s = time[order], codes[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new_group)
    group_start = np.append(starts, n).astype(np.int64)
    stratum_start = np.ones(starts.size + 1, dtype=np.int8)
    stratum_start[1:-1] = s[starts[1:]] != s[starts[:-1]]
    return order, np.asarray(event, dtype=np.float64)[order], group_start, stratum_start


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
    order, sorted_event, group_start, stratum_start = sort_layout(time, event, strata)
    xt = np.asarray(x, dtype=np.float64).T
    if not xt.flags.c_contiguous:
        xt = np.ascontiguousarray(xt)
    consts, loglik0 = zero_constants(sorted_event, group_start, stratum_start, ties == "efron")
    out = fit_univariate(
        xt,
        order,
        sorted_event,
        group_start,
        stratum_start,
        ties == "efron",
        max_iter,
        step_tol,
        accept,
        consts,
        loglik0,
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
