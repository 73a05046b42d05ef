"""Benchmark: building the DAG of 200 cohorts x 5 sheet rows in a dry run.

Simulates ``--cohorts`` tiny cohorts (``survomics.simulate``: 12 patients; expression,
methylation, copy number and mutations of a few features; the rows of one cohort are its
clinical table and four omics modalities, so 200 cohorts make a 1,000-row sheet), writes
one configuration with the default model set (5 x 5 cross-validation, or ``--folds`` x
``--cv-repeats``) over all of them,
and times ``snakemake --dry-run`` on it: configuration and sheet validation, DAG
construction and job scheduling of every cohort's jobs. The time is the wall time of
the whole ``snakemake`` process, start-up included, best of ``--repeats``.

Side by side, the alternative: **the same graph in bare Snakemake**. The jobs of the
survomics dry run (its printed rule, wildcards, input and output files) are written out
as a Snakefile with one rule per survomics rule, the same jobs, the same number of input
and output files per job and the same edges, but nothing else: no input functions of
ours, no conda, log, benchmark, params or resources, ``shell: touch``. Its dry run is
what Snakemake itself needs for this DAG; the ratio survomics/bare is our own overhead.

Target (issue 8): under 10 s.

Run: ``.venv/bin/python bench/dag.py [--cohorts N --repeats R --folds K --cv-repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, table, verdict

TARGET_S = 10.0
JOB_HEAD = re.compile(r"^(?:local)?rule (\w+):$")


def parse_jobs(text: str) -> list[dict[str, object]]:
    """The jobs of a printed (not ``--quiet``) dry run: rule, key, input and output files."""
    jobs: list[dict[str, object]] = []
    job: dict[str, object] | None = None
    for line in text.splitlines():
        head = JOB_HEAD.match(line)
        if head:
            job = {"rule": head.group(1), "input": [], "output": [], "key": "x"}
            jobs.append(job)
            continue
        if job is None or not line.startswith("    "):
            continue
        field, _, value = line.strip().partition(": ")
        if field in {"input", "output"}:
            job[field] = [v.strip() for v in value.split(",") if v.strip()]
        elif field == "wildcards":
            job["key"] = "-".join(v.split("=", 1)[1] for v in value.split(", "))
    return jobs


def write_bare_workflow(jobs: list[dict[str, object]], out: Path) -> int:
    """A Snakefile of the same jobs and edges as ``jobs`` with bare rules; its job count."""
    producer: dict[str, str] = {}
    outputs: dict[str, int] = {}
    for job in jobs:
        rule = str(job["rule"])
        files = list(job["output"])  # type: ignore[call-overload]
        outputs[rule] = max(outputs.get(rule, 0), len(files))
        for i, path in enumerate(files):
            producer[path] = f"b/{rule}/{job['key']}.{i}"
    sources: set[str] = set()
    inputs: dict[str, dict[str, list[str]]] = {}
    target: list[str] = []
    for job in jobs:
        mapped = []
        for path in job["input"]:  # type: ignore[attr-defined]
            if path not in producer:  # an input file of the cohort: a source file here
                producer[path] = f"src/{len(sources)}"
                sources.add(producer[path])
            mapped.append(producer[path])
        if job["rule"] == "all":
            target = mapped
        else:
            inputs.setdefault(str(job["rule"]), {})[str(job["key"])] = mapped
    (out / "src").mkdir(parents=True, exist_ok=True)
    for name in sources:
        (out / name).touch()
    (out / "inputs.json").write_text(json.dumps(inputs))
    text = [
        "import json",
        'INPUTS = json.load(open("inputs.json"))',
        'wildcard_constraints:\n    key="[^/]+"',
        f"rule all:\n    input: {target!r}",
    ]
    for rule, count in outputs.items():
        if rule == "all":
            continue
        files = [f"b/{rule}/{{key}}.{i}" for i in range(count)]
        text.append(
            f"rule {rule}:\n    input: lambda wc: INPUTS[{rule!r}][wc.key]\n"
            f"    output: {files!r}\n    shell: 'touch {{output}}'"
        )
    (out / "Snakefile").write_text("\n\n".join(text) + "\n")
    return sum(len(v) for v in inputs.values()) + 1


def dry_run(argv: list[str], repeats: int) -> tuple[list[float], str]:
    """Wall times of ``repeats`` runs of ``argv`` and the output of the last one."""
    times = []
    output = ""
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            msg = f"dry run failed (exit {proc.returncode}): {' '.join(argv)}"
            raise RuntimeError(msg)
        output = proc.stdout + proc.stderr
    return times, output


def total_jobs(output: str) -> int:
    match = re.search(r"^total\s+(\d+)", output, flags=re.MULTILINE)
    if not match:
        msg = "no job count in the dry run's output"
        raise RuntimeError(msg)
    return int(match.group(1))


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
        argv += ["--dry-run", "--cores", "2"]
        times, output = dry_run([*argv, "--quiet", "rules", "host"], args.repeats)
        jobs = total_jobs(output)
        _, printed = dry_run(argv, 1)  # every job printed: the graph for the bare workflow
        bare = work / "bare"
        bare_jobs = write_bare_workflow(parse_jobs(printed), bare)
        bare_argv = [snakemake, "-s", str(bare / "Snakefile"), "--directory", str(bare)]
        bare_times, bare_output = dry_run(
            [*bare_argv, "--dry-run", "--cores", "2", "--quiet", "rules", "host"], args.repeats
        )
        if total_jobs(bare_output) != jobs or bare_jobs != jobs:
            msg = f"bare workflow has {total_jobs(bare_output)} jobs, survomics {jobs}"
            raise RuntimeError(msg)
        best, bare_best = min(times), min(bare_times)
        print(
            table(
                ["workflow", "jobs", "best_s", "times_s", "ms_per_job"],
                [
                    [
                        name,
                        jobs,
                        f"{min(ts):.2f}",
                        ", ".join(f"{t:.2f}" for t in ts),
                        f"{1000 * min(ts) / jobs:.2f}",
                    ]
                    for name, ts in [("survomics", times), ("bare snakemake", bare_times)]
                ],
            )
        )
        print(f"target DAG of {args.cohorts} cohorts < 10 s: {best:.2f} s {verdict(best < 10)}")
        print(
            f"ratios: survomics/bare snakemake {best / bare_best:.2f}, best/target "
            f"{best / TARGET_S:.2f}, bare snakemake/target {bare_best / TARGET_S:.2f}, "
            f"seconds per cohort {best / args.cohorts:.4f}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
