"""Shared fixtures: one real workflow run on the bundled cohort, used by several modules.

``tests/test_workflow.py`` (contract, statistics against R, determinism, provenance) and
``tests/test_browser.py`` (the report in headless Chromium) check the same run: the
workflow on the bundled TCGA-ACC cohort with the small modelling settings
(``tests/data/workflow/small.yaml``) and ``privacy.pseudonymize: true`` (which only
changes ``shareable/``), on 2 cores, default target. ``SURVOMICS_REPORT_RUN=<workdir>``
reuses an existing run's working directory instead (for local iteration).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import ROOT, run_snakemake

SMALL = ROOT / "tests" / "data" / "workflow" / "small.yaml"
PRIVACY_KEY = "0f" * 32
"""The HMAC key of the shared run's pseudonyms (``privacy.key`` in its working dir)."""


@pytest.fixture(scope="session")
def acc_run_args() -> tuple[str, ...]:
    """The ``--configfile`` arguments of the shared run (relative to its working dir)."""
    return ("--configfile", "config/config.yaml", str(SMALL), "config/test_report.yaml")


@pytest.fixture(scope="session")
def acc_run(tmp_path_factory: pytest.TempPathFactory, acc_run_args: tuple[str, ...]) -> Path:
    """Working directory of the shared run of the whole workflow (``results/`` inside)."""
    reuse = os.environ.get("SURVOMICS_REPORT_RUN")
    if reuse:
        return Path(reuse)
    path = tmp_path_factory.mktemp("acc_run")
    shutil.copytree(ROOT / "config", path / "config")
    shutil.copytree(ROOT / "data", path / "data")
    (path / "privacy.key").write_text(PRIVACY_KEY + "\n")
    (path / "config" / "test_report.yaml").write_text(
        "privacy:\n  pseudonymize: true\n  key_file: privacy.key\n"
    )
    proc = run_snakemake(path, *acc_run_args, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return path
