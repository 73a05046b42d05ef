"""Benchmark: omics TSV.gz -> Parquet, survomics ingest vs bare polars vs pandas.

Writes one synthetic raw-count matrix (``survomics.simulate``; default 1,000 samples x
60,000 genes, features x samples, TSV.gz) and its clinical table, then converts the same
file three ways, each in its own subprocess (peak RSS of the child by ``/usr/bin/time
-v``; time measured inside the child around the work only, best of ``--repeats``):

- **survomics**: what the ``ingest_omics`` rule does: ``load_clinical`` (patients),
  ``survomics.ingest.load_omics`` (barcode -> patient mapping, checks, Float64) and
  ``survomics.io.write_parquet`` (zstd, row groups of 16,384 features);
- **polars**: ``pl.read_csv(path, separator="\\t").write_parquet(out)``;
- **pandas**: ``pd.read_csv(path, sep="\\t", index_col=0).to_parquet(out)``.

The child also reports its CPU time (user + system, all threads) over the same part:
on a 2-core machine a tool cannot finish in less than half of it.

Targets (issue 8): survomics <= 1.3x the polars time, >= 5x faster than pandas, peak RSS
<= 2x the dense float64 matrix (samples x features x 8 bytes).

Run: ``.venv/bin/python bench/ingest.py [--samples N --features N --repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, run_measured, table, verdict

CHILD_CODE = {
    "survomics": """
from survomics.ingest import load_clinical, load_omics
from survomics.io import write_parquet
from survomics.specs import EndpointSpec, FileSpec
endpoint = EndpointSpec(name="os", derive="tcga", status_column="vital_status",
    death_time_column="days_to_death", followup_time_column="days_to_last_followup")
clinical = FileSpec(cohort="sim", modality="clinical", path=CLINICAL, format="tsv",
    id_column="patientID", endpoint="os")
spec = FileSpec(cohort="sim", modality="expression", path=PATH, format="tsv",
    orientation="features_x_samples", id_column="feature")
frame, _ = load_clinical(clinical, endpoint)
matrix, _ = load_omics(spec, patients=frame["patient_id"].to_list(), excluded_patients={})
write_parquet(matrix, OUT)
""",
    "polars": """
import polars as pl
pl.read_csv(PATH, separator="\\t").write_parquet(OUT)
""",
    "pandas": """
import pandas as pd
pd.read_csv(PATH, sep="\\t", index_col=0).to_parquet(OUT)
""",
}
IMPORTS = {
    "survomics": "import survomics.ingest, survomics.io, polars",
    "polars": "import polars",
    "pandas": "import pandas, pyarrow",
}


def child(tool: str, path: str, clinical: str, out: str) -> None:
    tool, _, mode = tool.partition(":")
    exec(IMPORTS[tool])  # imports outside the timed part
    code = compile(CHILD_CODE[tool] if mode != "baseline" else "", f"<{tool}>", "exec")
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of the process
    start = time.perf_counter()
    exec(code, {"PATH": path, "CLINICAL": clinical, "OUT": out})
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    print(json.dumps({"elapsed": elapsed, "cpu": cpu}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--features", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=1, help="runs per tool (best kept)")
    parser.add_argument("--workdir", help="keep the files here (default: a temp dir)")
    parser.add_argument("--child", nargs=4, metavar=("TOOL", "PATH", "CLINICAL", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from survomics.simulate import simulate_cohort

    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        work = Path(args.workdir or tmp)
        start = time.perf_counter()
        sim = simulate_cohort(
            out_dir=work,
            n_patients=args.samples,
            n_genes=args.features,
            n_probes=0,
            n_cnv_genes=0,
            n_mut_genes=0,
            n_planted=0,
            seed=1,
            write_workflow_config=False,
        )
        path = sim["files"]["expression"]
        size_mb = path.stat().st_size / 2**20
        print(f"machine: {machine()}")
        print(
            f"input: {path.name}, {args.features:,} features x {args.samples:,} samples, "
            f"{size_mb:.1f} MiB gzip (simulated in {time.perf_counter() - start:.1f} s)"
        )
        dense_mb = args.samples * args.features * 8 / 2**20
        results: dict[str, dict[str, float]] = {}
        for tool in ("survomics", "polars", "pandas"):
            best: dict[str, float] | None = None
            for _ in range(args.repeats):
                out = work / f"{tool}.parquet"
                argv = [sys.executable, __file__, "--child", tool, str(path)]
                res = run_measured([*argv, str(sim["files"]["clinical"]), str(out)])
                if best is None or res["elapsed"] < best["elapsed"]:
                    best = res
                out.unlink()
            assert best is not None
            base = run_measured([*argv[:-2], f"{tool}:baseline", str(path), "-", "-"])
            best["baseline_mb"] = base["peak_rss_mb"]
            results[tool] = best
        rows = [
            (
                tool,
                r["elapsed"],
                r["elapsed"] / results["polars"]["elapsed"],
                r["cpu"],
                r["peak_rss_mb"],
                r["peak_rss_mb"] / dense_mb,
                r["peak_rss_mb"] - r["baseline_mb"],
            )
            for tool, r in results.items()
        ]
        print(f"dense float64 matrix: {dense_mb:.0f} MiB")
        print(
            "peak RSS is the child's whole process; imports_excluded subtracts the peak of "
            "the same child doing only its imports"
        )
        header = (
            "tool",
            "time_s",
            "x_polars",
            "cpu_s",
            "peak_rss_mib",
            "x_dense",
            "imports_excluded_mib",
        )
        print(table(header, rows))
        vs_polars = results["survomics"]["elapsed"] / results["polars"]["elapsed"]
        vs_pandas = results["pandas"]["elapsed"] / results["survomics"]["elapsed"]
        rss = results["survomics"]["peak_rss_mb"] / dense_mb
        print(f"target survomics <= 1.3x polars: {vs_polars:.2f}x {verdict(vs_polars <= 1.3)}")
        print(
            f"target survomics >= 5x faster than pandas: {vs_pandas:.2f}x {verdict(vs_pandas >= 5)}"
        )
        print(f"target peak RSS <= 2x dense float64: {rss:.2f}x {verdict(rss <= 2.0)}")
        cores = len(os.sched_getaffinity(0))
        print(
            f"CPU time: survomics {results['survomics']['cpu']:.2f} s, i.e. at least "
            f"{results['survomics']['cpu'] / cores:.2f} s of wall time on {cores} cores; "
            f"5x faster than pandas means {results['pandas']['elapsed'] / 5:.2f} s; bare polars "
            f"{results['polars']['cpu']:.2f} CPU s"
        )
        print(
            f"ratios: survomics/polars {vs_polars:.2f}, pandas/survomics {vs_pandas:.2f}, "
            f"survomics peak RSS/dense {rss:.2f}"
        )


if __name__ == "__main__":
    main()
