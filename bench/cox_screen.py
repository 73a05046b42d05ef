"""Benchmark: genome-wide univariate Cox screening, survomics vs per-feature loops.

Simulates features x patients with tied times (whole months) and ~60% events, then runs,
side by side in one process: ``survomics.cox.cox_screen`` (all features at once), a
lifelines ``CoxPHFitter`` loop and a statsmodels ``PHReg`` loop on a feature subset
(extrapolated linearly), and R's low-level ``coxph.fit`` in a loop through ``Rscript``
when R is installed (Debian: ``apt-get install r-base-core r-cran-survival``; R's time is
measured inside R around the loop only). Prints one table, the agreement of the
coefficients, the peak memory of the survomics call and a final line of ratios.

Run: ``make bench`` or ``.venv/bin/python bench/cox_screen.py [--features N --patients N]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from survomics.cox import cox_screen

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.table(args[1], header = TRUE)
x <- as.matrix(read.table(args[2], header = FALSE))
cov <- if (length(args) > 3) as.matrix(read.table(args[4], header = FALSE)) else NULL
y <- Surv(d$time, d$event)
coefs <- numeric(ncol(x))
ctrl <- coxph.control()
n <- nrow(x)
elapsed <- system.time({
  for (j in seq_len(ncol(x))) {
    xx <- if (is.null(cov)) x[, j, drop = FALSE] else cbind(x[, j], cov)
    fit <- coxph.fit(xx, y, strata = NULL, offset = NULL, init = NULL, control = ctrl,
                     weights = NULL, method = "efron", rownames = NULL)
    coefs[j] <- fit$coefficients[1]
  }
})[["elapsed"]]
write.table(coefs, args[3], row.names = FALSE, col.names = FALSE)
cat(elapsed, "\n")
"""


def simulate(
    n_features: int, n_patients: int, *, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features with a few prognostic ones; months-rounded times; ~60% events.

    The matrix is stored features x patients, as the workflow's Parquet files are, and
    returned as its (patients x features) transpose view.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_features, n_patients)).T
    risk = 0.4 * x[:, : min(20, n_features)].sum(axis=1) / np.sqrt(min(20, n_features))
    event_time = rng.exponential(365.0 * np.exp(-risk))
    censor_time = rng.exponential(365.0 * 1.6, n_patients)
    event = (event_time <= censor_time).astype(np.int8)
    months = np.ceil(np.minimum(event_time, censor_time) / 30.4375)
    return x, months * 30.4375, event


def time_survomics(
    x: np.ndarray, t: np.ndarray, e: np.ndarray, cov: np.ndarray | None
) -> tuple[float, np.ndarray, float]:
    cox_screen(x[:, :50], t, e, covariates=cov)  # warm-up (imports, JIT cache)
    elapsed = np.inf
    for _ in range(3):  # best of three, without tracing
        start = time.perf_counter()
        result = cox_screen(x, t, e, covariates=cov)
        elapsed = min(elapsed, time.perf_counter() - start)
    tracemalloc.start()  # a separate, traced call measures the peak of new allocations
    cox_screen(x, t, e, covariates=cov)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, result["coef"].to_numpy(), peak


def time_lifelines(
    x: np.ndarray, t: np.ndarray, e: np.ndarray, cov: np.ndarray | None
) -> tuple[float, np.ndarray]:
    import pandas as pd
    from lifelines import CoxPHFitter

    coefs = []
    start = time.perf_counter()
    for j in range(x.shape[1]):
        frame = pd.DataFrame({"x": x[:, j], "T": t, "E": e})
        if cov is not None:
            for c in range(cov.shape[1]):
                frame[f"c{c}"] = cov[:, c]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CoxPHFitter().fit(frame, duration_col="T", event_col="E")
        coefs.append(fit.params_["x"])
    return time.perf_counter() - start, np.array(coefs)


def time_statsmodels(
    x: np.ndarray, t: np.ndarray, e: np.ndarray, cov: np.ndarray | None
) -> tuple[float, np.ndarray]:
    from statsmodels.duration.hazard_regression import PHReg

    coefs = []
    start = time.perf_counter()
    for j in range(x.shape[1]):
        design = x[:, j : j + 1] if cov is None else np.column_stack([x[:, j], cov])
        coefs.append(PHReg(t, design, status=e, ties="efron").fit().params[0])
    return time.perf_counter() - start, np.array(coefs)


def time_r(
    x: np.ndarray, t: np.ndarray, e: np.ndarray, cov: np.ndarray | None
) -> tuple[float, np.ndarray] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        np.savetxt(d / "x.txt", x, fmt="%.17g")
        with (d / "d.txt").open("w") as fh:
            fh.write("time event\n")
            for ti, ei in zip(t, e, strict=True):
                fh.write(f"{ti:.17g} {int(ei)}\n")
        (d / "fit.R").write_text(R_SCRIPT)
        args = ["Rscript", str(d / "fit.R"), str(d / "d.txt"), str(d / "x.txt"), str(d / "c.txt")]
        if cov is not None:
            np.savetxt(d / "cov.txt", cov, fmt="%.17g")
            args.append(str(d / "cov.txt"))
        proc = subprocess.run(args, capture_output=True, text=True, check=True)
        elapsed = float(proc.stdout.strip().split()[-1])
        return elapsed, np.loadtxt(d / "c.txt")


def run(
    n_features: int, n_patients: int, subset: int, *, covariates: int, r_loop: bool
) -> dict[str, float]:
    x, t, e = simulate(n_features, n_patients)
    cov = None
    if covariates:
        cov = np.random.default_rng(7).normal(size=(n_patients, covariates))
    label = f"{n_features:,} x {n_patients:,}" + (
        f" + {covariates} covariates" if covariates else ""
    )
    ours_s, ours_coef, peak = time_survomics(x, t, e, cov)
    rows = [("survomics cox_screen", ours_s, n_features)]
    ll_s, ll_coef = time_lifelines(x[:, :subset], t, e, cov)
    sm_s, sm_coef = time_statsmodels(x[:, :subset], t, e, cov)
    scale = n_features / subset
    rows += [("lifelines loop (extrapolated)", ll_s * scale, subset),
             ("statsmodels loop (extrapolated)", sm_s * scale, subset)]  # fmt: skip
    r = time_r(x, t, e, cov) if r_loop else None
    if r is not None:
        rows.append(("R coxph.fit loop", r[0], n_features))
    print(f"\n## {label}; events {e.mean():.0%}, {len(np.unique(t))} distinct times")
    print(f"{'method':34s} {'seconds':>10s} {'features run':>13s} {'x survomics':>12s}")
    for name, secs, ran in rows:
        print(f"{name:34s} {secs:10.3f} {ran:13,d} {secs / ours_s:12.1f}")
    print(
        f"max |coef - statsmodels| on subset: {np.nanmax(np.abs(ours_coef[:subset] - sm_coef)):.2e}"
    )
    print(
        f"max |coef - lifelines|  on subset: {np.nanmax(np.abs(ours_coef[:subset] - ll_coef)):.2e}"
    )
    ratios = {"lifelines": ll_s * scale / ours_s, "statsmodels": sm_s * scale / ours_s}
    if r is not None:
        print(f"max |coef - R coxph.fit| all features: {np.nanmax(np.abs(ours_coef - r[1])):.2e}")
        ratios["R_coxph.fit"] = r[0] / ours_s
    matrix = x.nbytes
    print(
        f"peak traced memory of cox_screen: {peak / 2**20:,.1f} MiB = "
        f"{peak / matrix:.2f} x the matrix ({matrix / 2**20:,.1f} MiB)"
    )
    ratios["peak_memory_x_matrix"] = peak / matrix
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument("--subset", type=int, default=50, help="features fitted by the loops")
    parser.add_argument("--quick", action="store_true", help="only the main scenario")
    parser.add_argument("--no-r", action="store_true", help="skip the R loop")
    args = parser.parse_args()
    if shutil.which("Rscript") is None and not args.no_r:
        print("Rscript not found: the R coxph.fit loop is skipped. Install R with "
              "`apt-get install r-base-core r-cran-survival` (Debian) to compare.")  # fmt: skip
    main_ratios = run(args.features, args.patients, args.subset, covariates=0, r_loop=not args.no_r)
    adjusted: dict[str, float] = {}
    if not args.quick:
        run(
            args.features, 10 * args.patients, max(10, args.subset // 5), covariates=0, r_loop=False
        )
        adjusted = run(
            args.features, args.patients, args.subset, covariates=3, r_loop=not args.no_r
        )
    memory = main_ratios.pop("peak_memory_x_matrix")
    parts = [f"{k}/survomics={v:,.1f}x" for k, v in main_ratios.items()]
    if adjusted:
        adjusted_memory = adjusted.pop("peak_memory_x_matrix")
        parts += [f"{k}/survomics[+3 covariates]={v:,.1f}x" for k, v in adjusted.items()]
        parts.append(f"peak_memory[+3 covariates]={adjusted_memory:.2f}x_matrix")
    print("\nratios: " + " ".join([*parts, f"peak_memory={memory:.2f}x_matrix"]))


if __name__ == "__main__":
    main()
