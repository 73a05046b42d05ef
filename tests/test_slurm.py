"""The workflow on a real single-node Slurm cluster: same bytes as the local run.

``tests/system/slurm-up.sh`` starts munge, slurmctld and slurmd on localhost (Debian
``slurm-wlm``, ``munge``; ``make test`` installs them when missing and running as root).
The workflow then runs with ``--workflow-profile profiles/slurm`` (the executor plugin
submits every job with ``sbatch``; job states come from ``squeue`` as there is no
accounting daemon), and every result file must be byte-identical to a local run of the
same configuration. Logs and Snakemake benchmark files are run metadata and differ.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import ROOT, run_snakemake

CONFIG = ROOT / "tests" / "data" / "workflow" / "slurm.yaml"
RUN_METADATA = ("logs", "benchmarks")

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    missing = [t for t in ("slurmctld", "slurmd", "munged", "sbatch") if not shutil.which(t)]
    if missing:
        pytest.fail(
            f"Slurm is not installed ({', '.join(missing)} missing): run `make test` as root "
            "or `sudo apt-get install slurm-wlm munge` (tests/system/install-deps.sh)"
        )
    state = tmp_path_factory.mktemp("slurm")
    up = subprocess.run(
        ["bash", str(ROOT / "tests" / "system" / "slurm-up.sh"), str(state)],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert up.returncode == 0, up.stdout + up.stderr
    yield state
    subprocess.run(
        ["bash", str(ROOT / "tests" / "system" / "slurm-down.sh"), str(state)],
        check=False,
        timeout=60,
    )


def _project(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copytree(ROOT / "config", path / "config")
    shutil.copytree(ROOT / "data", path / "data")
    return path


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_snakemake(
        workdir, "--configfile", "config/config.yaml", str(CONFIG), *args, cores=None, timeout=1500
    )


def _result_files(results: Path) -> set[Path]:
    return {
        p.relative_to(results)
        for p in results.rglob("*")
        if p.is_file() and p.relative_to(results).parts[0] not in RUN_METADATA
    }


def test_slurm_run_is_byte_identical_to_the_local_run(cluster: Path, tmp_path: Path) -> None:
    local = _project(tmp_path / "local")
    proc = _snakemake(local, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]

    on_slurm = _project(tmp_path / "slurm")
    proc = _snakemake(
        on_slurm,
        "--workflow-profile",
        str(ROOT / "profiles" / "slurm"),
        "--slurm-no-account",
        "--seconds-between-status-checks",
        "2",
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "sbatch" in output or "SLURM" in output  # really submitted through Slurm
    jobs = list((on_slurm / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert jobs or "Cleaning up SLURM log files" in output

    a, b = local / "results", on_slurm / "results"
    files = _result_files(a)
    assert files == _result_files(b)
    assert any(f.suffix == ".parquet" for f in files)
    assert any(f.name == "report.html" for f in files)
    different = [str(f) for f in sorted(files) if not filecmp.cmp(a / f, b / f, shallow=False)]
    assert different == []
