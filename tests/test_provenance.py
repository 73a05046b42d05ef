"""Provenance records and their verification (``survomics verify``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from survomics.cli import main
from survomics.config import load_settings
from survomics.errors import InputError
from survomics.provenance import (
    build_provenance,
    cohort_inputs,
    dumps,
    env_packages,
    final_outputs,
    git_state,
    rule_env_files,
    rule_versions,
    sha256,
    sheet_rows,
    verify,
    write_provenance,
)

ROOT = Path(__file__).resolve().parents[1]
SURVOMICS = Path(sys.executable).parent / "survomics"
CONFIG = {"modelling": {"seed": 7}, "sheet": "config/cohorts.tsv"}
RULES = {"report": "envs/report.yaml", "ingest_clinical": "envs/ingest.yaml"}
OUTPUTS = ["results/c1/data/clinical.parquet", "results/c1/report.html"]


def _project(path: Path) -> Path:
    (path / "data").mkdir(parents=True)
    (path / "data" / "clinical.tsv").write_text("id\ttime\n1\t3\n")
    out = path / "results" / "c1"
    (out / "data").mkdir(parents=True)
    (out / "data" / "clinical.parquet").write_bytes(b"PAR1 pretend")
    (out / "report.html").write_text("<html></html>\n")
    (path / "results" / "c2").mkdir()
    (path / "results" / "c2" / "report.html").write_text("another cohort\n")
    return path


def _record(directory: Path, **changes: object) -> dict:
    kwargs = {
        "cohort": "c1",
        "inputs": ["data/clinical.tsv"],
        "outputs": OUTPUTS,
        "config": CONFIG,
        "rule_environments": RULES,
        "source": ROOT,
        "snakemake_version": "9.0.0",
        "directory": directory,
    }
    return build_provenance(**(kwargs | changes))


def _recorded(project: Path) -> Path:
    path = project / "results" / "c1" / "provenance.json"
    write_provenance(record=_record(project), path=path)
    return path


def test_record_lists_hashes_config_seeds_git_and_environments(tmp_path: Path) -> None:
    project = _project(tmp_path)
    record = _record(project)
    assert record["cohort"] == "c1"
    assert record["inputs"] == {"data/clinical.tsv": sha256(project / "data/clinical.tsv")}
    assert list(record["outputs"]) == OUTPUTS  # sorted; only this cohort's results
    assert record["outputs"]["results/c1/report.html"] == sha256(project / "results/c1/report.html")
    assert record["config"] == CONFIG
    assert len(record["config_sha256"]) == 64
    assert record["seeds"] == {"modelling.seed": 7}
    assert record["snakemake"] == "9.0.0"
    assert record["rules"] == {"ingest_clinical": "ingest", "report": "report"}
    ingest = record["environments"]["ingest"]
    assert ingest["file"] == "envs/ingest.yaml"
    assert ingest["sha256"] == sha256(ROOT / "envs/ingest.yaml")
    assert "python" not in ingest["packages"]
    numpy = ingest["packages"]["numpy"]
    assert numpy["pinned"] == numpy["installed"]  # the make-run venv has the env's pins
    matplotlib = record["environments"]["report"]["packages"]["matplotlib-base"]
    assert matplotlib["installed"] == matplotlib["pinned"]  # conda name -> PyPI name
    assert len(record["git"]["commit"]) == 40
    assert isinstance(record["git"]["dirty"], bool)


def test_config_hash_follows_the_config(tmp_path: Path) -> None:
    project = _project(tmp_path)
    other = _record(project, config={"modelling": {"seed": 8}, "sheet": "config/cohorts.tsv"})
    assert other["config_sha256"] != _record(project)["config_sha256"]
    assert other["seeds"] == {"modelling.seed": 8}


def test_record_bytes_are_deterministic(tmp_path: Path) -> None:
    project = _project(tmp_path)
    write_provenance(record=_record(project), path=tmp_path / "a.json")
    # same files and settings, given in another order and as absolute paths
    again = _record(
        project,
        inputs=[str(project / "data" / "clinical.tsv")],
        outputs=[str(project / p) for p in reversed(OUTPUTS)],
        rule_environments=dict(reversed(RULES.items())),
    )
    write_provenance(record=again, path=tmp_path / "b.json")
    text = (tmp_path / "a.json").read_text()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert str(tmp_path) not in text  # no absolute paths
    assert str(ROOT) not in text
    assert text == dumps(record=json.loads(text))  # sorted keys, canonical layout


def test_a_missing_final_output_is_refused(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(InputError, match=r"results/c1/models/metrics\.tsv: final output"):
        _record(project, outputs=[*OUTPUTS, "results/c1/models/metrics.tsv"])
    with pytest.raises(InputError, match="outside the working directory"):
        _record(project, inputs=[str(tmp_path.parent / "elsewhere.tsv")])


def test_env_packages_reads_conda_pins_and_pip_lists(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(
        "# Rule: x\n"
        "channels:\n  - conda-forge\n  - nodefaults\n"
        "dependencies:\n"
        "  - python =3.11\n"
        "  - numpy =2.4.6  # pinned\n"
        "  - polars=2.1.0\n"
        "  - scipy\n"
        "  - pip\n"
        "  - pip:\n"
        "      - lifelines==0.30.0\n"
        "      - not-a-real-package-xyz==1.0\n"
    )
    assert env_packages(path=env) == {
        "lifelines": "0.30.0",
        "not-a-real-package-xyz": "1.0",
        "numpy": "2.4.6",
        "polars": "2.1.0",
        "scipy": None,
    }
    record = _record(
        tmp_path, outputs=[], inputs=[], rule_environments={"x": "env.yaml"}, source=tmp_path
    )
    absent = record["environments"]["env"]["packages"]["not-a-real-package-xyz"]
    assert absent == {"pinned": "1.0", "installed": None}


def test_git_state_is_null_outside_a_checkout(tmp_path: Path) -> None:
    if shutil.which("git") is None:  # pragma: no cover
        pytest.skip("git is not installed")
    assert git_state(source=tmp_path) == {"commit": None, "dirty": None}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a").write_text("a\n")
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "a"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *ident, "commit", "-qm", "a"], check=True)
    clean = git_state(source=tmp_path)
    assert len(clean["commit"]) == 40
    assert clean["dirty"] is False
    (tmp_path / "a").write_text("b\n")
    assert git_state(source=tmp_path) == {"commit": clean["commit"], "dirty": True}


def test_verify_passes_on_the_recorded_files(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert verify(provenance_path=_recorded(project), directory=project) == []


def test_verify_names_each_difference(tmp_path: Path) -> None:
    project = _project(tmp_path)
    record = _recorded(project)
    with (project / "results" / "c1" / "report.html").open("r+b") as fh:
        fh.seek(3)
        fh.write(b"X")  # one byte
    (project / "results" / "c1" / "data" / "clinical.parquet").unlink()
    (project / "data" / "clinical.tsv").unlink()
    (project / "results" / "c1" / "new.tsv").write_text("x\n")
    (project / "results" / "c2" / "new.tsv").write_text("other cohort: not ours\n")
    problems = verify(provenance_path=record, directory=project)
    assert len(problems) == 4, problems
    assert problems[0].startswith("data/clinical.tsv: missing (input")
    assert problems[1].startswith("results/c1/data/clinical.parquet: missing (output")
    assert problems[2].startswith("results/c1/report.html: differs")
    assert problems[3].startswith("results/c1/new.tsv: not in the record")


def test_verify_refuses_a_file_that_is_not_a_record(tmp_path: Path) -> None:
    bad = tmp_path / "provenance.json"
    bad.write_text('{"cohort": "c1"}\n')
    with pytest.raises(InputError, match="not a provenance record"):
        verify(provenance_path=bad, directory=tmp_path)


def test_verify_command_exit_codes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    record = _recorded(project)
    args = [str(SURVOMICS), "verify", str(record), "--directory", str(project)]
    same = subprocess.run(args, capture_output=True, text=True, check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "matches the record" in same.stdout
    # the default directory is the working directory, as a reviewer runs it
    relative = [str(SURVOMICS), "verify", "results/c1/provenance.json"]
    here = subprocess.run(relative, cwd=project, capture_output=True, text=True, check=False)
    assert here.returncode == 0, here.stdout + here.stderr
    (project / "results" / "c1" / "data" / "clinical.parquet").write_bytes(b"PAR1 other")
    differ = subprocess.run(args, capture_output=True, text=True, check=False)
    assert differ.returncode == 1
    lines = differ.stdout.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("results/c1/data/clinical.parquet: differs")
    assert "1 difference(s)" in differ.stderr


def test_verify_command_reports_bad_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nope.json")]) == 1
    assert "provenance file not found" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("not json\n")
    assert main(["verify", str(tmp_path / "bad.json")]) == 1
    assert "not a provenance record" in capsys.readouterr().err


def test_rule_inputs_leave_out_the_record_and_other_cohorts() -> None:
    outputs = [
        "results/c1/report.html",
        "results/c1/provenance.json",
        "results/c10/report.html",
        "results/c2/validation/c1/m/metrics.tsv",
        "results/c2/provenance.json",
    ]
    assert final_outputs(outputs=outputs, cohort="c1") == ["results/c1/report.html"]
    assert final_outputs(outputs=outputs, cohort="c2") == ["results/c2/validation/c1/m/metrics.tsv"]


def test_rule_inputs_and_env_files_of_the_bundled_config() -> None:
    settings = load_settings(
        yaml.safe_load((ROOT / "config/config.yaml").read_text()),
        config_path=ROOT / "config/config.yaml",
        base=ROOT,
    )
    inputs = cohort_inputs(settings=settings, cohort="tcga_acc")
    assert inputs[0] == "data/tcga_acc/clinical_patient.tsv"
    assert inputs[-1] == "config/config.yaml"
    assert "config/cohorts.tsv" not in inputs  # another cohort's row must not rerun this one
    rows = sheet_rows(settings=settings, cohort="tcga_acc")
    assert [r["modality"] for r in rows] == ["clinical", *settings.modalities("tcga_acc")]
    assert rows[1]["transform"] == "log2p1"
    rules = [
        SimpleNamespace(name="screen", conda_env="/abs/workflow/rules/../../envs/survival.yaml"),
        SimpleNamespace(name="all", conda_env=None),
    ]
    assert rule_env_files(rules=rules) == {"screen": "envs/survival.yaml"}


def test_rule_versions_come_from_each_jobs_log_header(tmp_path: Path) -> None:
    logs = tmp_path / "results" / "logs" / "c1"
    logs.mkdir(parents=True)
    (logs / "screen.expression.log").write_text(
        "INFO survomics: rule function: survomics.workflow.screen\n"
        "INFO survomics: isolated: dropped foreign sys.path entries ['/x']\n"
        "INFO survomics: version python 3.11.7\n"
        "INFO survomics: version polars 1.0.0\n"
        "INFO survomics: screening 10 features\n"
        "INFO survomics: version fake 9.9\n"  # after the header: not a version line
    )
    (logs / "screen.protein.log").write_text(
        "INFO survomics: rule function: survomics.workflow.screen\n"
        "INFO survomics: version python 3.11.7\n"
        "INFO survomics: version polars 1.1.0\n"
    )
    (logs / "report.log").write_text(
        "INFO survomics: rule function: survomics.workflow.report\n"
        "INFO survomics: version scikit-survival not installed\n"
    )
    versions = rule_versions(cohort="c1", directory=tmp_path)
    assert versions == {
        "report": {"scikit-survival": "not installed"},
        "screen": {"polars": "1.0.0, 1.1.0", "python": "3.11.7"},
    }
    assert rule_versions(cohort="absent", directory=tmp_path) == {}
