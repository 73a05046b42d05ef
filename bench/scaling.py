"""Benchmark: how the whole workflow scales with patients and features per modality.

For every (patients, features) point of the grid (default 250 / 1,000 / 4,000 patients x
5,000 / 20,000 / 80,000 features per modality: expression, methylation, copy number and
mutation genes), simulates a cohort (``survomics.simulate``) and runs the same DAG as
``bench/end_to_end.py`` (``snakemake --cores 2`` in a temporary directory), then records
the wall time, the summed job time of each benchmarked stage (ingest, screening,
cross-validation, final models) and the peak RSS of the largest job. Writes the
measurements as TSV and the plot ``docs/scaling.png`` (wall time and peak memory against
features, one curve per patient count).

The measurements are written after every point (a long grid can be stopped and
resumed). ``--append`` keeps the points already in the TSV and adds or replaces the new
ones, so a grid can be measured in parts; the column ``models`` tells the points with the
modelling part (``5x5``: outer folds x repeats) from those without (``none``), and the
plot draws the first as solid lines and the second as dashed ones. The column ``machine``
names the CPU of each point; when the TSV holds points of several machines, the plot
draws each with its own marker (named in the legend) and joins only points of one machine.

``--replot`` only redraws the plot from the TSV.

``--quick`` runs a 2 x 2 grid (100 / 200 patients x 300 / 1,200 features) without the
modelling part (``modelling.enabled: false``) to check the benchmark end to end in a few
minutes; ``--no-models`` does the same on any grid.

Run: ``.venv/bin/python bench/scaling.py [--patients 250,1000,4000
--features 5000,20000,80000 --folds K --repeats R --plot PATH --tsv PATH]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

from _common import ROOT, machine, table
from end_to_end import run_workflow, simulate, stage_table


def minor_label(value: float, _pos: object) -> str:
    """Label minor ticks of a log axis at 2 and 5 times a power of ten only."""
    text = f"{value:.3g}"
    return text if text.lstrip("0.")[:1] in {"2", "5"} else ""


def plot(results: pl.DataFrame, path: Path, *, title: str) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    machines = sorted(results["machine"].unique())
    markers = dict(zip(machines, "os^Dv", strict=False))
    short = {
        m: " ".join(re.sub(r"\((R|TM)\)|\bProcessor\b|\bCPU\b", "", m).split()) for m in machines
    }
    for i, patients in enumerate(sorted(results["patients"].unique())):
        for models in sorted(results["models"].unique(), reverse=True):
            for cpu in machines:
                part = results.filter(
                    (pl.col("patients") == patients)
                    & (pl.col("models") == models)
                    & (pl.col("machine") == cpu)
                ).sort("features")
                if part.height == 0:
                    continue
                what = "no models" if models == "none" else f"{models} CV"
                style = {"marker": markers.get(cpu, "x"), "color": colours[i % len(colours)]}
                style["linestyle"] = "--" if models == "none" else "-"
                label = f"{patients:,} patients, {what}"
                if len(machines) > 1:
                    label += f", {short[cpu]}"
                ax_time.plot(part["features"], part["wall_s"] / 60, label=label, **style)
                ax_mem.plot(part["features"], part["peak_rss_mib"] / 1024, label=label, **style)
    for ax in (ax_time, ax_mem):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("features per modality (4 modalities)")
        ax.set_xticks(sorted(results["features"].unique()))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
        ax.yaxis.set_minor_formatter(ticker.FuncFormatter(minor_label))
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    ax_time.set_ylabel("wall time, 2 cores (min)")
    ax_mem.set_ylabel("peak RSS of the largest job (GiB)")
    fig.suptitle(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def read_points(path: Path) -> pl.DataFrame:
    """The points of a TSV, with the columns added since older TSVs were written filled in."""
    points = pl.read_csv(path, separator="\t")
    for column, default in (("models", "none"), ("machine", "unrecorded")):
        if column not in points.columns:
            points = points.with_columns(pl.lit(default).alias(column))
    return points


def merged(previous: pl.DataFrame, rows: list[dict[str, object]]) -> pl.DataFrame:
    """``previous`` with ``rows`` added, a row replacing the one of its point."""
    new = pl.DataFrame(rows)
    if previous.height == 0:
        return new
    keys = ["patients", "features", "models"]
    kept = previous.join(new.select(keys), on=keys, how="anti")
    return pl.concat([kept, new.select(kept.columns)], how="vertical_relaxed").sort(keys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--patients", default="250,1000,4000")
    p.add_argument("--features", default="5000,20000,80000")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--no-models", action="store_true", help="modelling.enabled: false")
    p.add_argument("--quick", action="store_true", help="2 x 2 small grid, no models")
    p.add_argument("--plot", default=str(ROOT / "docs" / "scaling.png"))
    p.add_argument("--tsv", help="measurements (default: the plot path with .tsv)")
    p.add_argument("--append", action="store_true", help="add to the points of the TSV")
    p.add_argument("--replot", action="store_true", help="only redraw the plot from the TSV")
    args = p.parse_args()
    if args.quick:
        args.patients, args.features, args.no_models = "100,200", "300,1200", True
    grid = [(int(n), int(f)) for n in args.patients.split(",") for f in args.features.split(",")]
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    described = machine()
    print(f"machine: {described}")
    cpu = described.split(";", 1)[0]
    plot_path = Path(args.plot)
    tsv_path = Path(args.tsv) if args.tsv else plot_path.with_suffix(".tsv")
    models = "none" if args.no_models else f"{args.folds}x{args.repeats}"
    title = f"survomics whole workflow, default models, {args.cores} cores"
    if args.replot:
        plot(read_points(tsv_path), plot_path, title=title)
        print(f"plot: {plot_path} from {tsv_path}")
        return
    previous = pl.DataFrame()
    if args.append and tsv_path.exists():
        previous = read_points(tsv_path)
    rows: list[dict[str, object]] = []
    for patients, features in grid:
        work = Path(tempfile.mkdtemp(prefix=f"bench_scaling_{patients}_{features}_"))
        try:
            sim_args = argparse.Namespace(
                patients=patients,
                genes=features,
                probes=features,
                folds=args.folds,
                repeats=args.repeats,
                seed=1,
                models=None,
            )
            start = time.perf_counter()
            simulate(work, sim_args)
            sim_s = time.perf_counter() - start
            if args.no_models:
                config_path = work / "config" / "config.yaml"
                config = yaml.safe_load(config_path.read_text())
                config["modelling"]["enabled"] = False
                config_path.write_text(yaml.safe_dump(config, sort_keys=False))
            wall, _, failure = run_workflow(work, cores=args.cores, snakemake=snakemake)
            stages = stage_table(work / "results" / "benchmarks")
            by_rule = dict(zip(stages["rule"], stages["total_s"], strict=True))
            row = {
                "patients": patients,
                "features": features,
                "simulate_s": sim_s,
                "wall_s": wall,
                "ingest_s": by_rule.get("ingest_omics", 0.0),
                "screen_s": by_rule.get("screen", 0.0),
                "cv_fold_s": by_rule.get("cv_fold", 0.0),
                "final_model_s": by_rule.get("final_model", 0.0),
                "peak_rss_mib": float(stages["peak_rss_mib"].max() or float("nan")),
                "status": failure or "ok",
                "models": models,
                "machine": cpu,
            }
            rows.append(row)
            merged(previous, rows).write_csv(tsv_path, separator="\t")
            print(
                f"  {patients:,} patients x {features:,} features: {wall:.1f} s, "
                f"peak {row['peak_rss_mib']:.0f} MiB, {row['status']}",
                flush=True,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    results = pl.DataFrame(rows)
    print(table(results.columns, results.rows()))
    everything = merged(previous, rows)
    plot(everything, plot_path, title=title)
    print(f"plot: {plot_path}; measurements: {tsv_path} ({everything.height} points)")
    # ratios: growth of wall time with features (at the most patients) and with patients
    most = results.filter(pl.col("patients") == results["patients"].max()).sort("features")
    widest = results.filter(pl.col("features") == results["features"].max()).sort("patients")
    parts = []
    if most.height > 1:
        f_times = most["features"][-1] / most["features"][0]
        f_ratio = most["wall_s"][-1] / most["wall_s"][0]
        parts.append(f"x{f_ratio:.2f} for x{f_times:.0f} features")
    if widest.height > 1:
        n_times = widest["patients"][-1] / widest["patients"][0]
        n_ratio = widest["wall_s"][-1] / widest["wall_s"][0]
        parts.append(f"x{n_ratio:.2f} for x{n_times:.0f} patients")
    print("ratios: wall time " + ", ".join(parts) if parts else "ratios: none (one point per axis)")


if __name__ == "__main__":
    main()
