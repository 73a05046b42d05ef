"""Benchmark: the whole workflow on a synthetic cohort, time per stage and memory per rule.

Simulates one cohort (``survomics.simulate``; default 1,000 patients: expression counts
of 20,000 genes, methylation of 20,000 probes, GISTIC copy number of 20,000 genes and a
MAF over 20,000 genes) with the configuration ``survomics simulate`` writes (the default
model set, 5 x 5 repeated cross-validation), and runs the full DAG — ingest, screening,
Kaplan-Meier, cross-validation of every model, final models, biomarkers, report,
provenance — with ``snakemake --cores 2`` in a temporary working directory. Then reads
Snakemake's ``benchmark:`` files (``results/benchmarks/<cohort>/<rule>.<wildcards>.tsv``)
and prints per rule: jobs, summed and longest job time, and peak memory (``max_rss``,
MiB) of its largest job. Rules without a ``benchmark:`` directive are counted in the
total wall time only.

Target (issue 8): the whole run under 30 minutes on 2 cores.

Run: ``.venv/bin/python bench/end_to_end.py [--patients N --genes N --probes N
--folds K --repeats R --cores C --keep DIR]``; ``--quick`` runs a small cohort with 3 x 1
cross-validation to check the benchmark works.
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

import polars as pl
import yaml

from _common import ROOT, machine, table, verdict

TARGET_S = 30 * 60


def stage_table(benchmarks: Path) -> pl.DataFrame:
    """Per rule: jobs, total and max job seconds, max of max_rss (MiB)."""
    frames = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        frame = pl.read_csv(path, separator="\t", null_values=["-", "NA"])
        frames.append(
            frame.select(
                pl.lit(path.name.split(".", 1)[0]).alias("rule"),
                pl.col("s").cast(pl.Float64),
                pl.col("max_rss").cast(pl.Float64, strict=False),
            )
        )
    if not frames:
        return pl.DataFrame(schema={"rule": pl.String, "jobs": pl.UInt32, "total_s": pl.Float64})
    return (
        pl.concat(frames)
        .group_by("rule", maintain_order=True)
        .agg(
            pl.len().alias("jobs"),
            pl.col("s").sum().alias("total_s"),
            pl.col("s").max().alias("max_job_s"),
            pl.col("max_rss").max().alias("peak_rss_mib"),
        )
    )


def run_workflow(work: Path, *, cores: int, snakemake: str) -> tuple[float, float, str | None]:
    """Run the whole DAG in ``work``.

    Returns wall seconds, the peak RSS (MiB) of the largest process, and ``None`` or the
    failure (exit code and the failed rules) when Snakemake failed.
    """
    argv = [
        snakemake,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        str(cores),
        "--quiet",
        "rules",
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(work / "snakemake.time"), *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    failure = None
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        failed = sorted(set(re.findall(r"Error in rule (\w+)", proc.stderr)))
        failure = f"exit {proc.returncode}, failed rule(s): {', '.join(failed) or '?'}"
    peak = float("nan")
    for line in (work / "snakemake.time").read_text().splitlines():
        if "Maximum resident set size" in line:
            peak = int(line.rsplit(":", 1)[1]) / 1024
    return wall, peak, failure


def simulate(work: Path, args: argparse.Namespace) -> dict:
    from survomics.simulate import simulate_cohort, write_config

    sim = simulate_cohort(
        out_dir=work,
        n_patients=args.patients,
        n_genes=args.genes,
        n_probes=args.probes,
        n_cnv_genes=args.genes,
        n_mut_genes=args.genes,
        seed=args.seed,
        write_workflow_config=False,
    )
    config_path, _ = write_config(
        out_dir=work,
        rows=sim["sheet_rows"],
        modalities=sim["modalities"],
        outer_folds=args.folds,
        outer_repeats=args.repeats,
    )
    if args.models:
        config = yaml.safe_load(config_path.read_text())
        models = config["modelling"]["models"]
        config["modelling"]["models"] = {m: models[m] for m in args.models.split(",")}
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return sim


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", type=int, default=1000)
    p.add_argument("--genes", type=int, default=20_000, help="expression/CNV/mutation genes")
    p.add_argument("--probes", type=int, default=20_000, help="methylation probes")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--models", help="comma-separated subset of the default models (default: all six)"
    )
    p.add_argument("--keep", help="run in this directory and keep it (default: a temp dir)")
    p.add_argument("--quick", action="store_true", help="200 patients, 400 features, 3x1 CV")
    return p


def main() -> None:
    args = parser().parse_args()
    if args.quick:
        args.patients, args.genes, args.probes, args.folds, args.repeats = 200, 400, 400, 3, 1
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    tmp = tempfile.mkdtemp(prefix="bench_e2e_")
    work = Path(args.keep) if args.keep else Path(tmp)
    try:
        start = time.perf_counter()
        sim = simulate(work, args)
        sim_s = time.perf_counter() - start
        print(f"machine: {machine()}")
        print(
            f"cohort: {args.patients:,} patients ({sim['n_events']} events); "
            f"{', '.join(sim['modalities'])}; {args.genes:,} genes, {args.probes:,} probes; "
            f"{args.folds}x{args.repeats} CV; simulated in {sim_s:.1f} s"
        )
        wall, peak, failure = run_workflow(work, cores=args.cores, snakemake=snakemake)
        stages = stage_table(work / "results" / "benchmarks")
        print(f"snakemake --cores {args.cores}: {wall:.1f} s wall, largest process {peak:.0f} MiB")
        if failure:
            print(f"snakemake FAILED ({failure}); stages below are the jobs that finished")
        print(table(stages.columns, stages.rows()))
        cv = stages.filter(pl.col("rule") == "cv_fold")
        cv_s = float(cv["total_s"].sum()) if cv.height else 0.0
        ok = wall < TARGET_S and not failure
        print(f"target whole run < 30 min: {wall / 60:.1f} min {verdict(ok)}")
        print(
            f"ratios: wall/target {wall / TARGET_S:.3f}, cv_fold job-seconds/wall "
            f"{cv_s / wall:.2f}, peak RSS of any rule {stages['peak_rss_mib'].max()} MiB"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
