"""scikit-survival's Coxnet against R glmnet 4.1-6 (TCGA-ACC expression).

Reference: ``glmnet(x, Surv(time, event), family = "cox", alpha = 0.5,
lambda = c(0.2, 0.1, 0.05), standardize = FALSE)`` on the log2(x + 1) expression of the
198 genes, each centred and scaled to unit variance (R's ``scale``, divisor n - 1), 79
patients (``tests/data/reference/tcga_acc/glmnet_cox_alpha0.5_standardized_expression.tsv``).

Tolerance reached: the same non-zero pattern at every lambda, coefficients within 5e-3
absolute (largest difference 3.4e-3, at lambda = 0.05) -- not 1e-6. The difference is
glmnet's, not scikit-survival's: both minimise the same objective,
``-loglik_Breslow(beta) / n + lambda (alpha |beta|_1 + (1 - alpha) / 2 |beta|_2^2)``
(glmnet's Cox model uses Breslow ties; there is one tie, two deaths at day 490; no gene
has zero variance), and written out independently below:

* scikit-survival's coefficients (``tol=1e-14``) satisfy its optimality (KKT) conditions to
  2e-7, R's violate them by 3e-4 to 6e-4;
* the objective (0.88 to 1.21) is lower at scikit-survival's coefficients, by 8e-7 to
  3.4e-6.

glmnet's default ``thresh = 1e-7`` is part of the gap: refitted with the same glmnet 4.1-6
and ``thresh = 1e-14`` (``tests/data/reference/glmnet_tight.R``, which first reproduces the
shared reference to 5e-16), glmnet's own coefficients move by up to 3.2e-3 and are stable
from 1e-10 to 1e-20; they are then within 2.2e-3 of scikit-survival's, with the same
non-zero pattern. That remaining difference is not the tie (breaking it leaves the gap)
nor a rescaled lambda (checked); its cause in glmnet's Cox solver was not found.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.util import Surv

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
EXPRESSION = ROOT / "data" / "tcga_acc" / "expression_rsem_normalized.tsv"
LAMBDAS = (0.2, 0.1, 0.05)
ALPHA = 0.5
COEF_ATOL = 5e-3


@pytest.fixture(scope="module")
def acc() -> dict:
    """Standardised log2(x + 1) expression in the reference's gene order, and R's endpoint."""
    ref = pl.read_csv(REF / "glmnet_cox_alpha0.5_standardized_expression.tsv", separator="\t")
    endpoint = pl.read_csv(REF / "os_endpoint.tsv", separator="\t")
    expr = pl.read_csv(EXPRESSION, separator="\t")
    samples = [c for c in expr.columns if c != "feature"]
    aligned = pl.DataFrame({"patient": [s[:12] for s in samples]}).join(
        endpoint, on="patient", how="left", maintain_order="left"
    )
    assert aligned["time"].null_count() == 0
    genes = ref["feature"].to_list()
    assert sorted(genes) == sorted(expr["feature"].to_list())  # all 198 genes, no extra
    rows = expr.with_row_index().filter(pl.col("feature").is_in(genes))
    order = dict(zip(rows["feature"].to_list(), rows["index"].to_list(), strict=True))
    x = np.log2(expr.select(samples).to_numpy().T.astype(np.float64) + 1.0)
    x = x[:, [order[g] for g in genes]]
    sd = x.std(axis=0, ddof=1)
    assert (sd > 0).all()  # no zero-variance gene to explain a difference
    return {
        "x": (x - x.mean(axis=0)) / sd,
        "time": aligned["time"].to_numpy().astype(np.float64),
        "event": aligned["event"].to_numpy().astype(np.int64),
        "ref": ref.select(f"lambda_{lam:g}" for lam in LAMBDAS).to_numpy(),
    }


@pytest.fixture(scope="module")
def ours(acc: dict) -> np.ndarray:
    model = CoxnetSurvivalAnalysis(
        l1_ratio=ALPHA, alphas=list(LAMBDAS), normalize=False, tol=1e-14, max_iter=10_000_000
    )
    model.fit(acc["x"], Surv.from_arrays(acc["event"] == 1, acc["time"]))
    np.testing.assert_array_equal(model.alphas_, LAMBDAS)
    return np.asarray(model.coef_)


def test_same_nonzero_pattern_as_glmnet(acc: dict, ours: np.ndarray) -> None:
    for k in range(len(LAMBDAS)):
        np.testing.assert_array_equal(ours[:, k] != 0, acc["ref"][:, k] != 0)
    assert ((acc["ref"] != 0).sum(axis=0) >= 20).all()  # a non-trivial pattern


def test_coefficients_close_to_glmnet(acc: dict, ours: np.ndarray) -> None:
    diff = np.abs(ours - acc["ref"]).max(axis=0)
    assert (diff < COEF_ATOL).all(), diff
    # The relation is close, not exact (see the module docstring).
    assert diff.max() > 1e-4


def _risk_sets(time: np.ndarray) -> np.ndarray:
    """``at_risk[i, j]``: patient j is at risk at patient i's time (Breslow ties)."""
    return time[None, :] >= time[:, None]


def _objective_and_gradient(acc: dict, beta: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """Penalised Breslow objective of glmnet (scaled by 1/n) and its smooth gradient."""
    x, t, e = acc["x"], acc["time"], acc["event"] == 1
    n = t.size
    eta = x @ beta
    w = np.exp(eta)
    at_risk = _risk_sets(t)[e]  # one row per event
    s0 = at_risk @ w
    s1 = at_risk @ (w[:, None] * x)
    loglik = float(np.sum(eta[e] - np.log(s0)))
    score = (x[e] - s1 / s0[:, None]).sum(axis=0)
    penalty = lam * (ALPHA * np.abs(beta).sum() + (1 - ALPHA) / 2 * (beta**2).sum())
    gradient = -score / n + lam * (1 - ALPHA) * beta
    return -loglik / n + penalty, gradient


def _kkt_violation(acc: dict, beta: np.ndarray, lam: float) -> float:
    """Largest violation of the elastic-net optimality conditions."""
    _, g = _objective_and_gradient(acc, beta, lam)
    active = beta != 0
    on_active = np.abs(g[active] + lam * ALPHA * np.sign(beta[active]))
    off_active = np.maximum(np.abs(g[~active]) - lam * ALPHA, 0)
    return float(max(on_active.max(initial=0), off_active.max(initial=0)))


def test_difference_is_glmnet_stopping_early(acc: dict, ours: np.ndarray) -> None:
    t, e = acc["time"], acc["event"]
    times, counts = np.unique(t[e == 1], return_counts=True)
    assert times[counts > 1].tolist() == [490.0]  # the one tie
    for k, lam in enumerate(LAMBDAS):
        r_beta = acc["ref"][:, k]
        assert _kkt_violation(acc, ours[:, k], lam) < 1e-6
        assert _kkt_violation(acc, r_beta, lam) > 1e-4
        ours_obj, _ = _objective_and_gradient(acc, ours[:, k], lam)
        r_obj, _ = _objective_and_gradient(acc, r_beta, lam)
        assert 0 < r_obj - ours_obj < 1e-5 * ours_obj


def test_coefficients_close_to_glmnet_run_to_convergence(acc: dict, ours: np.ndarray) -> None:
    """Against glmnet 4.1-6 refitted with ``thresh = 1e-14`` (reference/glmnet_tight.R)."""
    tight = pl.read_csv(
        REF / "glmnet_cox_alpha0.5_standardized_expression_thresh1e-14.tsv", separator="\t"
    )
    ref = pl.read_csv(REF / "glmnet_cox_alpha0.5_standardized_expression.tsv", separator="\t")
    assert tight["feature"].to_list() == ref["feature"].to_list()
    expected = tight.select(f"lambda_{lam:g}" for lam in LAMBDAS).to_numpy()
    np.testing.assert_array_equal(ours != 0, expected != 0)
    gap = np.abs(ours - expected).max()
    glmnet_own_drift = np.abs(expected - acc["ref"]).max()
    assert gap < 2.5e-3
    # glmnet's answer moves more with its own stopping threshold than it differs from ours.
    assert glmnet_own_drift > gap
