"""The functions behind the workflow's rules, one per rule, and the guard that runs them.

Rule scripts under ``scripts/`` only translate the ``snakemake`` object into a call of
:func:`run_rule` with one of these functions. Each function takes plain paths and typed
settings, writes every output atomically (:mod:`survomics.io`) and logs what it did.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import polars as pl

from survomics import ISOLATION_DROPPED, __version__
from survomics.audit import concat_audits, exclusions, write_audit
from survomics.errors import SurvomicsError
from survomics.io import write_parquet, write_tsv
from survomics.specs import EndpointSpec, FileSpec

LOG = logging.getLogger("survomics")

VERSIONED_PACKAGES: tuple[str, ...] = (
    "numpy",
    "scipy",
    "polars",
    "pyarrow",
    "pandas",
    "statsmodels",
    "scikit-survival",
    "lifelines",
    "matplotlib",
)
"""Packages whose versions every rule writes to its log."""


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` where absent)."""
    out = {"python": platform.python_version(), "survomics": __version__}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


@contextlib.contextmanager
def _redirected(log_path: Path) -> Iterator[None]:
    """Send file descriptors 1 and 2 (and Python's streams) to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("w", encoding="utf-8") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            LOG.removeHandler(handler)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_rule(log: str | Path, func: Callable[..., None], /, **kwargs: Any) -> None:
    """Run one rule's function with its output redirected to ``log``.

    The log starts with the rule function and the software versions. A
    :class:`~survomics.errors.SurvomicsError` (bad input, bad setting) is written to the
    log and to the terminal as one line and ends the process with exit code 1; any other
    exception is logged with its traceback and re-raised.

    Parameters
    ----------
    log
        The rule's log file.
    func
        One of the rule functions of this module.
    **kwargs
        Its keyword arguments.
    """
    failure: str | None = None
    with _redirected(Path(log)):
        LOG.info("rule function: %s.%s", func.__module__, func.__name__)
        LOG.info("interpreter: %s (prefix %s)", sys.executable, sys.prefix)
        if ISOLATION_DROPPED:
            LOG.info("isolated: dropped foreign sys.path entries %s", ISOLATION_DROPPED)
        for name, ver in package_versions().items():
            LOG.info("version %s %s", name, ver)
        try:
            func(**kwargs)
        except SurvomicsError as exc:
            failure = f"survomics error: {exc}"
            LOG.error("%s", failure)
        except BaseException:
            LOG.error("unexpected failure:\n%s", traceback.format_exc())
            raise
        else:
            LOG.info("done")
    if failure is not None:
        print(failure, file=sys.stderr)  # noqa: T201 - the user must see it in the terminal
        raise SystemExit(1)


def ingest_clinical(
    *, spec: FileSpec, endpoint: EndpointSpec, out_parquet: str | Path, out_audit: str | Path
) -> None:
    """Rule ``ingest_clinical``: clinical table → ``clinical.parquet`` + its audit."""
    from survomics.ingest import load_clinical  # noqa: PLC0415 - keep import cost per rule

    frame, records = load_clinical(spec, endpoint)
    LOG.info(
        "%s: %d patients kept, %d audit records; endpoint '%s' with %d events",
        spec.path,
        frame.height,
        len(records),
        endpoint.name,
        int(frame[f"{endpoint.name}_event"].sum()),
    )
    write_parquet(frame, out_parquet)
    write_audit(records, out_audit)


def ingest_omics(
    *,
    spec: FileSpec,
    clinical: str | Path,
    clinical_audit: str | Path,
    tumour_types: Sequence[int],
    out_parquet: str | Path,
    out_audit: str | Path,
) -> None:
    """Rule ``ingest_omics``: one omics matrix → ``{modality}.parquet`` + its audit."""
    from survomics.ingest import load_omics  # noqa: PLC0415

    patients = pl.read_parquet(clinical, columns=["patient_id"])["patient_id"].to_list()
    excluded = exclusions(concat_audits([clinical_audit])).filter(pl.col("level") == "patient")
    excluded_patients = dict(zip(excluded["id"], excluded["reason"], strict=True))
    frame, records = load_omics(
        spec,
        patients=patients,
        excluded_patients=excluded_patients,
        tumour_types=tumour_types,
    )
    LOG.info(
        "%s: %d features x %d patients, %d audit records",
        spec.path,
        frame.height,
        frame.width - 1,
        len(records),
    )
    write_parquet(frame, out_parquet)
    write_audit(records, out_audit)


def gather_audit(*, inputs: Sequence[str | Path], out: str | Path) -> None:
    """Rule ``audit``: concatenate a cohort's per-file audits into ``audit.tsv``."""
    frame = concat_audits(inputs)
    LOG.info("%d audit records from %d files", frame.height, len(inputs))
    write_tsv(frame, out)


def screen(
    *,
    matrix: str | Path,
    clinical: str | Path,
    endpoint: str,
    ties: str,
    out: str | Path,
) -> None:
    """Rule ``screen``: univariate Cox screening of every feature of one modality."""
    from survomics.screening import screen_matrix  # noqa: PLC0415

    table = screen_matrix(
        pl.read_parquet(matrix), pl.read_parquet(clinical), endpoint=endpoint, ties=ties
    )
    counts = table.group_by("status").len().sort("status")
    LOG.info("status counts: %s", dict(zip(counts["status"], counts["len"], strict=True)))
    write_tsv(table, out)


def kaplan_meier(
    *,
    clinical: str | Path,
    endpoint: str,
    group: str,
    out_table: str | Path,
    out_medians: str | Path,
    out_logrank: str | Path,
    out_excluded: str | Path,
) -> None:
    """Rule ``kaplan_meier``: KM estimates, medians and log-rank test by a clinical group."""
    from survomics.km import kaplan_meier as km  # noqa: PLC0415
    from survomics.km import km_medians, logrank_test  # noqa: PLC0415

    frame = pl.read_parquet(clinical)
    missing = frame.filter(pl.col(group).is_null())
    kept = frame.filter(pl.col(group).is_not_null())
    time = kept[f"{endpoint}_time"].to_numpy()
    event = kept[f"{endpoint}_event"].to_numpy()
    labels = kept[group].cast(pl.String).to_numpy()
    LOG.info("%d patients with '%s', %d without", kept.height, group, missing.height)
    test = logrank_test(time, event, labels)
    write_tsv(km(time, event, group=labels), out_table)
    write_tsv(km_medians(time, event, group=labels), out_medians)
    write_tsv(
        pl.DataFrame(
            {
                "group": [group],
                "test": ["logrank"],
                "chisq": [test.chisq],
                "df": [test.df],
                "p": [test.p],
                "n": [kept.height],
            }
        ),
        out_logrank,
    )
    write_tsv(
        missing.select(
            pl.col("patient_id"),
            pl.lit(f"missing_{group}").alias("reason"),
        ),
        out_excluded,
    )


def report(
    *,
    cohort: str,
    clinical: str | Path,
    audit: str | Path,
    screens: Mapping[str, str | Path],
    km_table: str | Path,
    km_logrank: str | Path,
    km_medians: str | Path,
    km_excluded: str | Path,
    settings: Mapping[str, Any],
    endpoint: str,
    out: str | Path,
) -> None:
    """Rule ``report``: the self-contained HTML report of one cohort."""
    from survomics.report import ReportInputs, write_report  # noqa: PLC0415

    write_report(
        ReportInputs(
            cohort=cohort,
            clinical=pl.read_parquet(clinical),
            audit=concat_audits([audit]),
            screens={m: pl.read_csv(p, separator="\t") for m, p in screens.items()},
            km_table=pl.read_csv(km_table, separator="\t"),
            km_logrank=pl.read_csv(km_logrank, separator="\t"),
            km_medians=pl.read_csv(km_medians, separator="\t"),
            km_excluded=pl.read_csv(km_excluded, separator="\t"),
            settings=dict(settings),
            endpoint=endpoint,
            versions=package_versions(),
        ),
        out,
    )


def read_anndata(*, spec: FileSpec, out_parquet: str | Path, out_audit: str | Path) -> None:
    """Rule ``read_anndata``: an ``.h5ad`` row -> features x samples Parquet + its audit.

    Runs in the single-cell environment (anndata, scanpy); ``ingest_omics`` then reads
    the Parquet like any other matrix, in the ingest environment.
    """
    from survomics import formats  # noqa: PLC0415

    raw = formats.read_matrix(spec)
    LOG.info(
        "%s: %d features x %d samples, %d audit records",
        spec.path,
        raw.frame.height,
        raw.frame.width - 1,
        len(raw.records),
    )
    write_parquet(raw.frame, out_parquet)
    write_audit(list(raw.records), out_audit)


def export_mudata(
    *, clinical: str | Path, modalities: Mapping[str, str | Path], out: str | Path
) -> None:
    """Rule ``export_mudata``: a cohort's harmonized data as one MuData ``.h5mu``."""
    from survomics.mudata_export import export_mudata as export  # noqa: PLC0415

    export(clinical=clinical, modalities=modalities, out=out)
    LOG.info("%s: clinical + %d modalities", out, len(modalities))
