"""Helpers shared by the test modules (not tests themselves): running the workflow.

Every workflow test runs the repository's own ``Snakefile`` in a working directory of
its own, with the ``snakemake`` of the test interpreter and without the ``SNAKEMAKE*``
variables of the calling environment (a test run inside a Snakemake job must not inherit
its profile).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def snakemake_env() -> dict[str, str]:
    """The environment of the calling process without its ``SNAKEMAKE*`` variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}


def snakemake_command(*args: str, cores: int | None = 2) -> list[str]:
    """``snakemake --snakefile <repo>/Snakefile [--cores N] *args``."""
    command = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile")]
    if cores is not None:
        command += ["--cores", str(cores)]
    return [*command, *args]


def run_snakemake(
    workdir: Path, *args: str, cores: int | None = 2, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run the repository's workflow in ``workdir`` and return the finished process.

    The output is captured as text; the return code is the caller's to check.
    """
    return subprocess.run(
        snakemake_command(*args, cores=cores),
        cwd=workdir,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
