"""Per-rule environments, proven with environment modules (``--sdm env-modules``).

Conda channels are not reachable here, so isolation is proven with the other deployment
method Snakemake supports on clusters. For each ``envs/*.yaml`` a virtual environment is
built holding exactly that file's packages (same names and versions, from PyPI), one
modulefile per environment (Debian ``environment-modules``) puts it first on ``PATH`` and
sets ``SURVOMICS_ISOLATED=1``, and the workflow runs with ``--sdm env-modules``: every
rule's ``envmodules:`` entry loads its own environment, so each job runs in its own
interpreter with only its environment's packages (Snakemake's fallback to the
controller's ``sys.path`` is dropped by :func:`survomics._isolate`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import snakemake_command
from survomics.provenance import CONDA_TO_PYPI

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "envs"
MODULES_INIT = Path("/usr/share/modules/init/bash")
SMALL = ROOT / "tests" / "data" / "workflow" / "small.yaml"
NOT_ON_PYPI = {"python"}
"""Entries of the env files that are the interpreter itself, not a package."""

pytestmark = [pytest.mark.workflow, pytest.mark.envmodules]


def env_requirements(path: Path) -> list[str]:
    """``name==version`` for every dependency of a conda env file (PyPI names)."""
    spec = yaml.safe_load(path.read_text())
    out = []
    for dep in spec["dependencies"]:
        name, _, pin = str(dep).partition("=")
        name, pin = name.strip(), pin.strip().lstrip("=")
        if name in NOT_ON_PYPI:
            continue
        assert pin, f"{path.name}: {name} is not pinned"
        out.append(f"{CONDA_TO_PYPI.get(name, name)}=={pin}")
    return out


def rule_environments() -> dict[str, str]:
    """Rule name -> env file stem, read from the ``conda:`` entries of the rule files."""
    mapping = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"^(?=(?:local)?rule )", text, flags=re.MULTILINE):
            head = re.match(r"(?:local)?rule (\w+):", block)
            env = re.search(r'conda:\n\s+"\.\./\.\./envs/(\w+)\.yaml"', block)
            modules = re.search(r'envmodules:\n\s+"([^"]+)"', block)
            if head and env:
                assert modules, f"rule {head.group(1)} has no envmodules entry"
                assert modules.group(1) == f"survomics/{env.group(1)}", head.group(1)
                mapping[head.group(1)] = env.group(1)
    return mapping


def build_environment(venv: Path, requirements: list[str]) -> None:
    """A virtual environment holding exactly ``requirements`` (and their dependencies).

    Built with ``uv`` (in the test requirements; about 10 times faster than pip) when it
    works, else with pip; both install the same pinned versions from PyPI.
    """
    uv = Path(sys.executable).parent / "uv"
    if uv.is_file():
        env = {**os.environ, "UV_NATIVE_TLS": "1"}  # the system's certificate store
        made = subprocess.run(
            [str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)],
            env=env, check=False, timeout=600,
        )  # fmt: skip
        if made.returncode == 0:
            done = subprocess.run(
                [str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                 *requirements],
                env=env, check=False, timeout=1800,
            )  # fmt: skip
            if done.returncode == 0:
                return
        shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--disable-pip-version-check", "--no-input", *requirements],
        check=True,
        timeout=1800,
    )  # fmt: skip


def write_modulefile(modulefiles: Path, name: str, venv: Path) -> None:
    """A Tcl modulefile ``survomics/<name>`` putting ``venv`` first and isolating jobs."""
    path = modulefiles / "survomics" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#%Module1.0\n"
        f"## survomics environment '{name}' (envs/{name}.yaml)\n"
        f"setenv VIRTUAL_ENV {venv}\n"
        f"prepend-path PATH {venv / 'bin'}\n"
        "setenv SURVOMICS_ISOLATED 1\n"
    )


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One virtual environment per env file, built from PyPI."""
    if not MODULES_INIT.is_file():
        pytest.fail(
            "environment-modules is not installed (Debian: apt-get install "
            "environment-modules; `make test` installs it when run as root)"
        )
    root = tmp_path_factory.mktemp("venvs")
    venvs = {}
    for env in sorted(ENVS.glob("*.yaml")):
        venvs[env.stem] = root / env.stem
        build_environment(venvs[env.stem], env_requirements(env))
    return venvs


def _module_env(modulefiles: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNAKEMAKE", "VIRTUAL"))}
    env["MODULEPATH"] = str(modulefiles)
    env["BASH_ENV"] = str(MODULES_INIT)  # defines `module` in Snakemake's job shells
    return env


def _project(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copytree(ROOT / "config", path / "config")
    shutil.copytree(ROOT / "data", path / "data")
    return path


def _run(workdir: Path, modulefiles: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    command = snakemake_command(
        *targets, "--sdm", "env-modules", "--configfile", "config/config.yaml", str(SMALL)
    )
    return subprocess.run(
        command,
        cwd=workdir,
        env=_module_env(modulefiles),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


def test_env_files_list_exactly_what_their_scripts_need_and_every_rule_loads_its_own(
    environments: dict[str, Path], tmp_path: Path
) -> None:
    """The whole workflow (every model kind) runs with each rule in its own environment."""
    modulefiles = tmp_path / "modulefiles"
    for name, venv in environments.items():
        write_modulefile(modulefiles, name, venv)
    workdir = _project(tmp_path / "project")
    proc = _run(workdir, modulefiles)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    rules = rule_environments()
    logs = sorted((workdir / "results" / "logs").rglob("*.log"))
    assert logs
    seen = set()
    for log in logs:
        rule = log.name.split(".")[0]
        text = log.read_text()
        interpreter = re.search(r"interpreter: (\S+) \(prefix (\S+)\)", text)
        assert interpreter, f"{log.name}: no interpreter line"
        assert Path(interpreter.group(2)) == environments[rules[rule]], log.name
        assert "isolated: dropped foreign sys.path entries" in text, log.name
        seen.add(rules[rule])
    assert seen == set(environments)  # every environment served some rule
    # The provenance record holds what each rule's own environment had, from its logs.
    record = json.loads((workdir / "results" / "tcga_acc" / "provenance.json").read_text())
    versions = record["rule_versions"]
    assert versions["ingest_clinical"]["scikit-survival"] == "not installed"
    assert versions["ingest_clinical"]["polars"] == versions["report"]["polars"] != "not installed"
    assert versions["report"]["scikit-survival"] not in {"not installed", ""}


def test_a_package_missing_from_an_env_fails_the_rule(
    environments: dict[str, Path], tmp_path: Path
) -> None:
    """Screening loaded with the ingest environment (no scipy, statsmodels, numba) fails:
    the controller's packages do not leak into a job."""
    modulefiles = tmp_path / "modulefiles"
    for name in environments:
        write_modulefile(modulefiles, name, environments["ingest"])
    workdir = _project(tmp_path / "project")
    target = "results/tcga_acc/screening/expression.univariate_cox.tsv"
    proc = _run(workdir, modulefiles, target)
    assert proc.returncode != 0
    log = workdir / "results" / "logs" / "tcga_acc" / "screen.expression.log"
    said = proc.stdout + proc.stderr + (log.read_text() if log.is_file() else "")
    assert "ModuleNotFoundError: No module named" in said
    assert not (workdir / target).exists()
    assert (workdir / "results" / "tcga_acc" / "data" / "expression.parquet").is_file()
