"""The ``survomics`` command line.

``survomics verify results/<cohort>/provenance.json`` rehashes every input and output a
run recorded and prints what differs (exit code 1 on any difference): the reviewer's
route to check that results are those of the recorded run.

``survomics validate`` checks a configuration and its cohort sheet exactly as the workflow
does before it builds the DAG, and prints what would be analysed; core facilities run it
on a new delivery before starting the workflow.

``survomics simulate --out DIR --patients N --genes G --probes P --seed S`` writes a
synthetic cohort with planted prognostic features (:mod:`survomics.simulate`) and a
configuration that runs on it: ``snakemake -s <survomics>/Snakefile --directory DIR``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from survomics import __version__
from survomics.config import ConfigValidationError, load_settings
from survomics.errors import ConfigError, InputError


def _validate(args: argparse.Namespace) -> int:
    config_path = Path(args.config)
    try:
        with config_path.open(encoding="utf-8") as fh:
            config = yaml.safe_load(fh) or {}
        settings = load_settings(config, config_path=config_path, base=args.directory)
    except FileNotFoundError:
        print(
            f"{config_path}: configuration file not found. Fix: pass --config PATH", file=sys.stderr
        )
        return 1
    except yaml.YAMLError as exc:
        print(f"{config_path}: not valid YAML ({exc}). Fix: correct the syntax", file=sys.stderr)
        return 1
    except (ConfigValidationError, ConfigError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{config_path}: valid; {len(settings.cohorts)} cohort(s)")
    for cohort in settings.cohorts:
        clinical = settings.clinical(cohort)
        modalities = ", ".join(settings.modalities(cohort))
        print(f"  {cohort}: clinical {clinical.path} (endpoint {clinical.endpoint}); {modalities}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from survomics.provenance import verify  # noqa: PLC0415 - only this command needs it

    record = Path(args.provenance)
    if not record.is_file():
        print(
            f"{record}: provenance file not found. Fix: pass results/<cohort>/provenance.json",
            file=sys.stderr,
        )
        return 1
    try:
        problems = verify(provenance_path=record, directory=args.directory)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 1
    for line in problems:
        print(line)
    if problems:
        print(f"{record}: {len(problems)} difference(s) from the recorded run", file=sys.stderr)
        return 1
    print(f"{record}: every input and output matches the record")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from survomics.simulate import simulate_cohort  # noqa: PLC0415 - only this command

    try:
        result = simulate_cohort(
            out_dir=args.out,
            n_patients=args.patients,
            n_genes=args.genes,
            n_probes=args.probes,
            n_cnv_genes=args.cnv_genes,
            n_mut_genes=args.mut_genes,
            n_planted=args.planted,
            seed=args.seed,
            effect=args.effect,
            censoring=args.censoring,
            cohort=args.cohort,
            copy_number_values=args.copy_number_values,
            mutation_format=args.mutation_format,
        )
    except ValueError as exc:
        print(f"survomics simulate: {exc}", file=sys.stderr)
        return 1
    print(
        f"{result['out_dir']}: cohort '{result['cohort']}', {result['n_patients']} patients "
        f"({result['n_events']} events), {', '.join(result['modalities'])}"
    )
    for name, path in result["files"].items():
        print(f"  {name}: {path}")
    print(f"  config: {result['config']} (sheet {result['sheet']})")
    print(f"run: snakemake -s <survomics>/Snakefile --directory {result['out_dir']} --cores 2")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``survomics`` command."""
    parser = argparse.ArgumentParser(prog="survomics", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"survomics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="validate config.yaml and the cohort sheet")
    validate.add_argument("--config", default="config/config.yaml", help="configuration file")
    validate.add_argument(
        "--directory", default=".", help="working directory that relative paths start from"
    )
    validate.set_defaults(func=_validate)
    check = sub.add_parser(
        "verify",
        help="rehash a run's inputs and outputs and compare them with its provenance.json",
    )
    check.add_argument("provenance", help="results/<cohort>/provenance.json of the run")
    check.add_argument(
        "--directory", default=".", help="working directory the recorded paths start from"
    )
    check.set_defaults(func=_verify)
    sim = sub.add_parser(
        "simulate",
        help="write a synthetic cohort with planted prognostic features and its config",
    )
    sim.add_argument("--out", required=True, help="directory to write (data/ and config/)")
    sim.add_argument("--patients", type=int, default=400, help="patients (default 400)")
    sim.add_argument("--genes", type=int, default=2000, help="expression genes (0: none)")
    sim.add_argument("--probes", type=int, default=2000, help="methylation probes (0: none)")
    sim.add_argument(
        "--cnv-genes", type=int, default=None, help="copy-number genes (default --genes)"
    )
    sim.add_argument("--mut-genes", type=int, default=None, help="mutation genes (default --genes)")
    sim.add_argument("--planted", type=int, default=6, help="planted prognostic features")
    sim.add_argument("--seed", type=int, default=1, help="seed: same seed, same bytes")
    sim.add_argument("--effect", type=float, default=0.6, help="log-HR per sd of a planted feature")
    sim.add_argument("--censoring", type=float, default=0.3, help="fraction of patients censored")
    sim.add_argument("--cohort", default="sim", help="cohort id (default sim)")
    sim.add_argument(
        "--copy-number-values",
        choices=["gistic", "log2"],
        default="gistic",
        help="gene-level copy number as GISTIC calls -2..2 or log2 ratios",
    )
    sim.add_argument(
        "--mutation-format",
        choices=["auto", "maf", "tsv"],
        default="auto",
        help="sheet row of the mutations: the MAF or the gene-level binary matrix",
    )
    sim.set_defaults(func=_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``survomics`` command; return its exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
