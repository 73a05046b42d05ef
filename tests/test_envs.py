"""The per-rule env files: exact pins, the channels policy, and the same pins as make run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from survomics.provenance import CONDA_TO_PYPI

ROOT = Path(__file__).resolve().parents[1]
ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "run.txt").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


@pytest.mark.parametrize("path", ENV_FILES, ids=[p.stem for p in ENV_FILES])
def test_env_file_is_pinned_to_the_run_lock(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"] == ["conda-forge", "nodefaults"]
    lock = _lock()
    for dep in spec["dependencies"]:
        name, _, pin = str(dep).partition("=")
        name, pin = name.strip(), pin.strip().lstrip("=")
        assert pin, f"{path.name}: {name} is not pinned exactly"
        if name == "python":
            assert pin == "3.11"
            continue
        pypi = CONDA_TO_PYPI.get(name, name)
        assert lock.get(pypi) == pin, f"{path.name}: {name}={pin}, run.txt has {lock.get(pypi)}"


def test_every_rule_family_has_an_env_file() -> None:
    used = set()
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        used |= set(re.findall(r'"\.\./\.\./envs/(\w+)\.yaml"', smk.read_text()))
    assert used == {p.stem for p in ENV_FILES}
