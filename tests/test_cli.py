"""The ``survomics`` command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survomics.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_validate_default_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["validate", "--config", str(ROOT / "config/config.yaml"), "--directory", str(ROOT)])
        == 0
    )
    out = capsys.readouterr().out
    assert "valid; 1 cohort(s)" in out
    assert "tcga_acc: clinical data/tcga_acc/clinical_patient.tsv (endpoint os)" in out


def test_validate_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    sheet = tmp_path / "config" / "cohorts.tsv"
    sheet.write_text(sheet.read_text().replace("\tcsv\t", "\t").replace("log2p1", "sqrt", 1))
    code = main(
        ["validate", "--config", str(tmp_path / "config/config.yaml"), "--directory", str(tmp_path)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "config/cohorts.tsv:3, column 'transform'" in err
    assert "Fix:" in err


def test_validate_missing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(tmp_path / "nope.yaml")]) == 1
    assert "configuration file not found" in capsys.readouterr().err
