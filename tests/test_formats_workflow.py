"""Scenario configs under test: whole cohorts in the formats users have, run by Snakemake.

Each scenario is a sheet of real-format files (the fixtures under ``tests/data/formats/``)
and a config; the workflow runs them end to end (ingest, QC, screening, report,
provenance, MuData) and the outputs are checked against the fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from helpers import ROOT, run_snakemake

FORMATS = ROOT / "tests" / "data" / "formats"

pytestmark = pytest.mark.workflow

COLUMNS = ["cohort", "modality", "path", "format", "transform", "id_type", "endpoint", "options"]

SCENARIOS: dict[str, dict[str, Any]] = {
    "cbioportal": {
        "copy": {"cbioportal/acc_tcga_mini": "data/acc_tcga"},
        "rows": [
            ["acc_cbio", "clinical", "data/acc_tcga", "cbioportal", "", "", "os", ""],
        ],
        "endpoint": {
            "derive": "columns",
            "time_column": "OS_MONTHS",
            "event_column": "OS_STATUS",
            "time_unit": "months",
        },
        "group": "AJCC_PATHOLOGIC_TUMOR_STAGE",
        "modalities": {"expression", "copy_number", "mutation", "protein", "segments"},
        "reasons": set(),
    },
    "gdc": {
        "copy": {
            "gdc/biotab": "data/biotab",
            "gdc/star_counts": "data/star_counts",
            "images/radiomics_acc.csv": "data/radiomics_acc.csv",
            "anndata/singlecell.h5ad": "data/singlecell.h5ad",
            "anndata/bulk_acc.h5ad": "data/bulk_acc.h5ad",
        },
        "rows": [
            [
                "acc_gdc",
                "clinical",
                "data/biotab/nationwidechildrens.org_clinical_patient_acc.txt",
                "biotab",
                "",
                "",
                "os",
                "follow_up=data/biotab/nationwidechildrens.org_clinical_follow_up_v4.0_acc.txt",
            ],
            [
                "acc_gdc",
                "expression",
                "data/star_counts/gdc_sample_sheet.2024-03-15.tsv",
                "gdc_star_counts",
                "log_cpm",
                "",
                "",
                "",
            ],
            [
                "acc_gdc",
                "radiomics",
                "data/radiomics_acc.csv",
                "image_features",
                "none",
                "patient",
                "",
                "patient_column=patient_id",
            ],
            [
                "acc_gdc",
                "singlecell",
                "data/singlecell.h5ad",
                "h5ad",
                "log_cpm",
                "",
                "",
                "patient_column=patient;min_cells=10",
            ],
            ["acc_gdc", "bulk", "data/bulk_acc.h5ad", "h5ad", "none", "", "", ""],
        ],
        "endpoint": {
            "derive": "tcga",
            "status_column": "vital_status",
            "death_time_column": "days_to_death",
            "followup_time_column": "days_to_last_followup",
        },
        "group": "pathologic_stage",
        "modalities": {"expression", "radiomics", "singlecell", "bulk"},
        "reasons": {"follow_up_update", "images_aggregated", "too_few_cells", "duplicate_file"},
    },
    "xena": {
        "copy": {"xena": "data/xena"},
        "rows": [
            [
                "acc_xena",
                "clinical",
                "data/xena/ACC_clinicalMatrix",
                "xena_clinical",
                "",
                "",
                "os",
                "survival=data/xena/ACC_survival.txt",
            ],
            ["acc_xena", "expression", "data/xena/HiSeqV2", "xena", "none", "", "", ""],
            [
                "acc_xena",
                "copy_number",
                "data/xena/Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes.gz",
                "xena",
                "none",
                "",
                "",
                "",
            ],
        ],
        "endpoint": {
            "derive": "columns",
            "time_column": "OS.time",
            "event_column": "OS",
            "time_unit": "days",
        },
        "group": "pathologic_stage",
        "modalities": {"expression", "copy_number"},
        "reasons": {"duplicate_sample"},
    },
}


def _project(path: Path, scenario: dict[str, Any]) -> Path:
    for source, target in scenario["copy"].items():
        src, dst = FORMATS / source, path / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
    (path / "config").mkdir()
    lines = ["\t".join(COLUMNS), *("\t".join(row) for row in scenario["rows"])]
    (path / "config" / "cohorts.tsv").write_text("\n".join(lines) + "\n")
    config = {
        "sheet": "config/cohorts.tsv",
        "endpoints": {"os": scenario["endpoint"]},
        "kaplan_meier": {"group": scenario["group"]},
        "modelling": {"enabled": False},
    }
    (path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_cohort_in_each_users_format_runs_end_to_end(name: str, tmp_path: Path) -> None:
    scenario = SCENARIOS[name]
    workdir = _project(tmp_path / name, scenario)
    proc = run_snakemake(workdir, timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    cohort = scenario["rows"][0][0]
    out = workdir / "results" / cohort
    clinical = pl.read_parquet(out / "data" / "clinical.parquet")
    assert clinical.height > 0
    assert clinical["os_event"].sum() > 0
    patients = set(clinical["patient_id"])
    found = {p.stem for p in (out / "data").glob("*.parquet")} - {"clinical"}
    assert found == scenario["modalities"]
    for modality in scenario["modalities"]:
        matrix = pl.read_parquet(out / "data" / f"{modality}.parquet")
        assert matrix.columns[0] == "feature"
        assert matrix.width > 1, modality
        assert matrix.height > 0, modality
        assert set(matrix.columns[1:]) <= patients, modality
        screen = pl.read_csv(out / "screening" / f"{modality}.univariate_cox.tsv", separator="\t")
        assert screen.height == matrix.height, modality
    audit = pl.read_csv(out / "data" / "audit.tsv", separator="\t")
    assert scenario["reasons"] <= set(audit["reason"]), sorted(set(audit["reason"]))
    qc = pl.read_csv(out / "qc" / "intake.tsv", separator="\t", infer_schema=False)
    assert set(qc.filter(pl.col("section") == "modalities")["modality"]) >= scenario["modalities"]
    for name_ in ("report.html", "qc/intake.html", "provenance.json", f"data/{cohort}.h5mu"):
        assert (out / name_).is_file(), name_
    assert not list(out.rglob("*.tmp"))
