"""Benchmark: building the DAG of 200 cohorts x 5 sheet rows in a dry run.

Simulates ``--cohorts`` tiny cohorts (``survomics.simulate``: 12 patients; expression,
methylation, copy number and mutations of a few features; the rows of one cohort are its
clinical table and four omics modalities, so 200 cohorts make a 1,000-row sheet), writes
one configuration with the default model set (5 x 5 cross-validation, or ``--folds`` x
``--cv-repeats``) over all of them,
and times ``snakemake --dry-run`` on it: configuration and sheet validation, DAG
construction and job scheduling of every cohort's jobs. The time is the wall time of
the whole ``snakemake`` process, start-up included, best of ``--repeats``.

Target (issue 8): under 10 s.

Run: ``.venv/bin/python bench/dag.py [--cohorts N --repeats R --folds K --cv-repeats R]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, verdict

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5, help="outer CV folds (default 5)")
    parser.add_argument("--cv-repeats", type=int, default=5, help="outer CV repeats (default 5)")
    parser.add_argument("--keep", help="work in this directory and keep it")
    args = parser.parse_args()

    from survomics.simulate import simulate_cohort, write_config

    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    tmp = tempfile.mkdtemp(prefix="bench_dag_")
    work = Path(args.keep) if args.keep else Path(tmp)
    try:
        start = time.perf_counter()
        rows: list[dict[str, str]] = []
        modalities: list[str] = []
        for i in range(args.cohorts):
            sim = simulate_cohort(
                out_dir=work,
                n_patients=12,
                n_genes=20,
                n_probes=20,
                n_planted=2,
                seed=i,
                cohort=f"c{i:04d}",
                write_workflow_config=False,
            )
            rows += sim["sheet_rows"]
            modalities = sim["modalities"]
        write_config(
            out_dir=work,
            rows=rows,
            modalities=modalities,
            outer_folds=args.folds,
            outer_repeats=args.cv_repeats,
        )
        print(f"machine: {machine()}")
        print(
            f"{args.cohorts} cohorts, sheet of {len(rows)} rows "
            f"({len(modalities) + 1} per cohort: clinical + {', '.join(modalities)}), "
            f"{args.folds}x{args.cv_repeats} CV; "
            f"simulated in {time.perf_counter() - start:.1f} s"
        )
        argv = [snakemake, "-s", str(ROOT / "Snakefile"), "--directory", str(work)]
        argv += ["--dry-run", "--cores", "2", "--quiet", "rules", "host"]
        times = []
        output = ""
        for _ in range(args.repeats):
            start = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-4000:])
                msg = f"dry run failed (exit {proc.returncode})"
                raise RuntimeError(msg)
            output = proc.stdout + proc.stderr
        match = re.search(r"^total\s+(\d+)", output, flags=re.MULTILINE)
        jobs = match.group(1) if match else "?"
        best = min(times)
        print(f"dry run: {jobs} jobs; times {', '.join(f'{t:.2f}' for t in times)} s")
        print(f"target DAG of {args.cohorts} cohorts < 10 s: {best:.2f} s {verdict(best < 10)}")
        print(
            f"ratios: best/target {best / TARGET_S:.2f}, seconds per cohort "
            f"{best / args.cohorts:.4f}, ms per job "
            f"{1000 * best / int(jobs) if jobs != '?' else float('nan'):.3f}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
