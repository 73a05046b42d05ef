"""Benchmark: ingest and variance-filter a 450k methylation matrix within 24 GiB.

Writes synthetic betas (``survomics.simulate``; default 2,000 samples x 485,000 cg
probes, features x samples TSV.gz, 4 decimals) and filters them to the ``--keep`` most
variable probes (variance of the M-values, ``log2(beta / (1 - beta))``, as the sheet's
``beta_to_m`` transform gives) two ways, each in its own subprocess with its peak RSS:

- **survomics (whole matrix)**: ``survomics.ingest.load_omics`` with
  ``transform=beta_to_m`` (the ``ingest_omics`` rule: the whole matrix in Float64), then
  the variance of every row and the top ``--keep`` rows written to Parquet. The matrix
  is held once: ``load_omics`` parses the gzip text in blocks of ~32 MB (never the whole
  6.8 GB of text at once), copies nothing while it keeps every row, and lets
  ``normalize.apply`` consume its input column block by column block, so the peak is
  about one dense float64 matrix (7.4 GiB) + blocks, not the three copies (text,
  parsed values, transformed values) it took before;
- **streaming**: the gzip text is read in blocks of ``--block`` probe lines, each block
  parsed by polars with an explicit Float64 schema, transformed and its row variances
  computed in float64; only the running top ``--keep`` probes (values and variances) are
  kept between blocks. Memory is one block plus the kept probes, whatever the number of
  probes.

Why streaming and not float32: the variance of a probe is a function of its own row
only, so reading rows in blocks gives *exactly* the whole-matrix result (the same float64
arithmetic per row; the benchmark checks that both keep the same probes with the same
variances). float32 storage would halve the whole-matrix memory (7.8 -> 3.9 GB for the
values) but changes the variances in the 7th significant digit and can reorder probes
tied to that precision, so it is not needed and not used: the workflow's path keeps
float64 and the whole matrix, which fits (see ``bench/results/methylation.txt``). The
24 GiB budget is checked against the peak RSS of each child.

``--workdir DIR`` keeps the simulated cohort; a later run with the same ``--workdir``
reuses ``DIR/data/sim/methylation_betas.tsv.gz`` (simulating the full size takes ~6 min),
so keep ``--samples``/``--probes`` the same or use a new directory.

Run: ``.venv/bin/python bench/methylation.py [--samples N --probes N --keep K]``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import machine, run_measured, table, verdict

BUDGET_MB = 24 * 1024


def whole(path: str, clinical: str, out: str, keep: int) -> None:
    from survomics.ingest import load_clinical, load_omics
    from survomics.io import write_parquet
    from survomics.specs import EndpointSpec, FileSpec

    start = time.perf_counter()
    endpoint = EndpointSpec(
        name="os",
        derive="tcga",
        status_column="vital_status",
        death_time_column="days_to_death",
        followup_time_column="days_to_last_followup",
    )
    clin = FileSpec(
        cohort="sim",
        modality="clinical",
        path=clinical,
        format="tsv",
        id_column="patientID",
        endpoint="os",
    )
    spec = FileSpec(
        cohort="sim",
        modality="methylation",
        path=path,
        format="tsv",
        orientation="features_x_samples",
        id_column="feature",
        transform="beta_to_m",
    )
    frame, _ = load_clinical(clin, endpoint)
    matrix, _ = load_omics(spec, patients=frame["patient_id"].to_list(), excluded_patients={})
    variance = np.concatenate(
        [
            matrix.slice(i, 10_000).drop("feature").to_numpy().var(axis=1, ddof=1)
            for i in range(0, matrix.height, 10_000)
        ]
    )
    order = np.sort(np.argsort(-variance, kind="stable")[:keep])
    kept = matrix[order]
    write_parquet(kept, out)
    elapsed = time.perf_counter() - start
    print(json.dumps({"elapsed": elapsed}))
    np.save(out + ".var.npy", variance[order])
    Path(out + ".ids").write_text("\n".join(kept["feature"].to_list()))


def streaming(path: str, out: str, keep: int, block: int) -> None:
    import polars as pl

    from survomics.io import write_parquet
    from survomics.normalize import beta_to_m

    start = time.perf_counter()
    kept_ids: list[str] = []
    kept_rows: list[int] = []
    kept_values = np.empty((0, 0))
    kept_var = np.empty(0)
    with gzip.open(path, "rb") as fh:
        header = fh.readline()
        names = header.decode().rstrip("\n").split("\t")
        schema = {n: (pl.String if i == 0 else pl.Float64) for i, n in enumerate(names)}
        row = 0
        while True:
            lines = fh.readlines(block * 8 * len(names))  # ~block lines of ~8 bytes a cell
            if not lines:
                break
            chunk = pl.read_csv(
                io.BytesIO(b"".join(lines)),
                separator="\t",
                has_header=False,
                new_columns=names,
                schema=schema,
            )
            values = beta_to_m(chunk.drop(names[0]).to_numpy())
            var = values.var(axis=1, ddof=1)
            ids = chunk[names[0]].to_list()
            rows = list(range(row, row + len(ids)))
            row += len(ids)
            if kept_values.size == 0:
                kept_values = np.empty((0, values.shape[1]))
            all_var = np.concatenate([kept_var, var])
            all_rows = np.array(kept_rows + rows)
            # the top `keep` by variance, ties broken by file order (as a stable sort)
            order = np.lexsort((all_rows, -all_var))[:keep]
            order = order[np.argsort(all_rows[order])]
            pool_values = np.concatenate([kept_values, values])
            pool_ids = kept_ids + ids
            kept_values, kept_var = pool_values[order], all_var[order]
            kept_rows = all_rows[order].tolist()
            kept_ids = [pool_ids[i] for i in order]
    frame = pl.DataFrame(
        {"feature": kept_ids} | {n: kept_values[:, j] for j, n in enumerate(names[1:])}
    )
    write_parquet(frame, out)
    elapsed = time.perf_counter() - start
    np.save(out + ".var.npy", kept_var)
    Path(out + ".ids").write_text("\n".join(kept_ids))
    print(json.dumps({"elapsed": elapsed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=485_000)
    parser.add_argument("--keep", type=int, default=20_000, help="most variable probes kept")
    parser.add_argument("--block", type=int, default=10_000, help="probes per streamed block")
    parser.add_argument(
        "--workdir",
        help="keep the files here (default: a temp dir); a cohort simulated there by an "
        "earlier run (data/sim/methylation_betas.tsv.gz) is reused",
    )
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        tool, *rest = args.child
        if tool == "whole":
            whole(rest[0], rest[1], rest[2], args.keep)
        else:
            streaming(rest[0], rest[1], args.keep, args.block)
        return

    from survomics.simulate import simulate_cohort

    with tempfile.TemporaryDirectory(prefix="bench_methylation_") as tmp:
        work = Path(args.workdir or tmp)
        start = time.perf_counter()
        kept = work / "data" / "sim"
        if args.workdir and (kept / "methylation_betas.tsv.gz").exists():  # reuse
            sim = {
                "files": {
                    "methylation": kept / "methylation_betas.tsv.gz",
                    "clinical": kept / "clinical.tsv",
                }
            }
        else:
            sim = simulate_cohort(
                out_dir=work,
                n_patients=args.samples,
                n_genes=0,
                n_probes=args.probes,
                n_cnv_genes=0,
                n_mut_genes=0,
                n_planted=0,
                seed=1,
                write_workflow_config=False,
            )
        path = str(sim["files"]["methylation"])
        print(f"machine: {machine()}")
        print(
            f"input: {args.probes:,} probes x {args.samples:,} samples, "
            f"{Path(path).stat().st_size / 2**20:.0f} MiB gzip "
            f"(simulated in {time.perf_counter() - start:.0f} s); keep {args.keep:,}"
        )
        dense_mb = args.samples * args.probes * 8 / 2**20
        common = [sys.executable, __file__, "--keep", str(args.keep), "--block", str(args.block)]
        whole_out, stream_out = str(work / "whole.parquet"), str(work / "stream.parquet")
        results = {
            "survomics (whole matrix)": run_measured(
                [*common, "--child", "whole", path, str(sim["files"]["clinical"]), whole_out]
            ),
            "streaming": run_measured([*common, "--child", "streaming", path, stream_out]),
        }
        same_ids = Path(whole_out + ".ids").read_text() == Path(stream_out + ".ids").read_text()
        diff = float(
            np.max(np.abs(np.load(whole_out + ".var.npy") - np.load(stream_out + ".var.npy")))
        )
        rows = [
            (
                name,
                r["elapsed"],
                r["peak_rss_mb"],
                r["peak_rss_mb"] / dense_mb,
                verdict(r["peak_rss_mb"] <= BUDGET_MB),
            )
            for name, r in results.items()
        ]
        print(f"dense float64 matrix: {dense_mb:,.0f} MiB; budget {BUDGET_MB:,} MiB")
        print(table(("method", "time_s", "peak_rss_mib", "x_dense", "within_24GiB"), rows))
        print(f"same probes kept: {same_ids}; max |variance difference|: {diff:.3g}")
        w, s = results["survomics (whole matrix)"], results["streaming"]
        print(
            f"ratios: whole/streaming time {w['elapsed'] / s['elapsed']:.2f}, "
            f"whole/streaming peak RSS {w['peak_rss_mb'] / s['peak_rss_mb']:.2f}, "
            f"whole peak RSS/dense {w['peak_rss_mb'] / dense_mb:.2f}, "
            f"streaming peak RSS/dense {s['peak_rss_mb'] / dense_mb:.2f}"
        )


if __name__ == "__main__":
    main()
