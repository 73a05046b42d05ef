"""The whole workflow on the bundled TCGA-ACC cohort, run by Snakemake for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from helpers import ROOT, run_snakemake, snakemake_command, snakemake_env

REFERENCE = ROOT / "tests" / "data" / "reference" / "tcga_acc"
MODALITIES = ("expression", "copy_number", "protein", "mutation", "mirna")
SMALL = ROOT / "tests" / "data" / "workflow" / "small.yaml"
NO_MODELS = ROOT / "tests" / "data" / "workflow" / "no_models.yaml"

pytestmark = pytest.mark.workflow


def make_project(path: Path) -> Path:
    """A working directory holding the default config, sheet and bundled data."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "config", path / "config")
    shutil.copytree(ROOT / "data", path / "data")
    return path


@pytest.fixture(scope="module")
def run(acc_run: Path) -> Path:
    """``results/tcga_acc`` of the shared run (``tests/conftest.py``)."""
    return acc_run / "results" / "tcga_acc"


def test_every_contract_output_exists(run: Path) -> None:
    assert (run / "data" / "clinical.parquet").is_file()
    assert (run / "data" / "audit.tsv").is_file()
    assert (run / "report.html").is_file()
    for modality in MODALITIES:
        assert (run / "data" / f"{modality}.parquet").is_file()
        assert (run / "screening" / f"{modality}.univariate_cox.tsv").is_file()
    # No temporary file is left behind by the atomic writers.
    assert not list(run.rglob("*.tmp"))


def test_clinical_parquet_contract(run: Path) -> None:
    clinical = pl.read_parquet(run / "data" / "clinical.parquet")
    assert clinical.columns[:3] == ["patient_id", "os_time", "os_event"]
    assert clinical.schema["patient_id"] == pl.String
    assert clinical.schema["os_time"] == pl.Float64
    assert clinical.schema["os_event"] == pl.Int8
    reference = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")
    merged = reference.join(clinical, left_on="patient", right_on="patient_id", how="left")
    assert merged.height == clinical.height == reference.height
    np.testing.assert_array_equal(merged["os_time"].to_numpy(), merged["time"].to_numpy())
    np.testing.assert_array_equal(merged["os_event"].to_numpy(), merged["event"].to_numpy())


def test_matrices_are_features_by_patients_of_the_clinical_table(run: Path) -> None:
    patients = set(pl.read_parquet(run / "data" / "clinical.parquet")["patient_id"])
    for modality in MODALITIES:
        matrix = pl.read_parquet(run / "data" / f"{modality}.parquet")
        assert matrix.columns[0] == "feature"
        assert set(matrix.columns[1:]) <= patients
        assert all(matrix.schema[c] == pl.Float64 for c in matrix.columns[1:])


def test_screening_matches_r_survival(run: Path) -> None:
    ours = pl.read_csv(run / "screening" / "expression.univariate_cox.tsv", separator="\t")
    assert ours.columns[:11] == [
        "feature", "n", "events", "coef", "se", "hr", "hr_lower", "hr_upper", "z", "p", "q",
    ]  # fmt: skip
    ref = pl.read_csv(REFERENCE / "univariate_cox_expression_log2p1_efron.tsv", separator="\t")
    both = ref.join(ours, on="feature", how="inner", suffix="_ours")
    assert both.height == ref.height
    for ours_col, ref_col in [
        ("coef_ours", "coef"),
        ("se_ours", "se"),
        ("z_ours", "z"),
        ("p", "p_wald"),
        ("p_lrt_ours", "p_lrt"),
        ("p_score_ours", "p_score"),
        ("q", "q_bh"),
    ]:
        np.testing.assert_allclose(both[ours_col], both[ref_col], rtol=1e-6, err_msg=ours_col)
    np.testing.assert_array_equal(both["n_ours"], both["n"])
    np.testing.assert_array_equal(both["events_ours"], both["events"])
    np.testing.assert_allclose(both["hr"], np.exp(both["coef"]), rtol=1e-6)


def test_kaplan_meier_and_logrank_match_r(run: Path) -> None:
    ours = pl.read_csv(run / "km" / "logrank.tsv", separator="\t")
    ref = pl.read_csv(REFERENCE / "logrank_by_stage.tsv", separator="\t")
    np.testing.assert_allclose(ours["chisq"], ref["chisq"], rtol=1e-6)
    np.testing.assert_allclose(ours["p"], ref["p"], rtol=1e-6)
    km = pl.read_csv(run / "km" / "km_by_group.tsv", separator="\t").filter(pl.col("n_event") > 0)
    ref_km = pl.read_csv(REFERENCE / "kaplan_meier_by_stage.tsv", separator="\t").with_columns(
        pl.col("time").cast(pl.Float64)
    )
    both = ref_km.join(km, on=["stratum", "time"], how="left", suffix="_ours")
    assert both.height == ref_km.height
    np.testing.assert_allclose(both["survival_ours"], both["survival"], rtol=1e-6)
    excluded = pl.read_csv(run / "km" / "excluded.tsv", separator="\t")
    endpoint = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")
    assert sorted(excluded["patient_id"]) == sorted(
        endpoint.filter(pl.col("stage").is_null())["patient"]
    )


def test_audit_lists_every_sample_not_in_a_matrix(run: Path) -> None:
    audit = pl.read_csv(run / "data" / "audit.tsv", separator="\t", infer_schema=False)
    for modality in MODALITIES:
        src = (
            ROOT
            / "data"
            / "tcga_acc"
            / {
                "expression": "expression_rsem_normalized.tsv",
                "copy_number": "copy_number_gistic.tsv",
                "protein": "protein_rppa.tsv",
                "mutation": "mutation_gene_binary.tsv",
                "mirna": "mirna_counts.tsv",
            }[modality]
        )
        samples = src.read_text().splitlines()[0].split("\t")[1:]
        kept = pl.read_parquet(run / "data" / f"{modality}.parquet").width - 1
        dropped = audit.filter(
            (pl.col("modality") == modality) & (pl.col("level") == "sample")
        ).height
        assert kept + dropped == len(samples), modality


def test_report_is_self_contained(run: Path) -> None:
    text = (run / "report.html").read_text()
    assert "http://" not in text
    assert "https://" not in text
    assert "<script" not in text
    assert text.count("data:image/svg+xml;base64,") >= 1 + len(MODALITIES)
    for heading in ("Data intake", "Endpoint", "Screening", "Methods"):
        assert f"<h2>{heading}</h2>" in text
    clinical = pl.read_parquet(run / "data" / "clinical.parquet")
    assert f"{clinical.height:,} patients analysed" in text


def test_second_run_has_nothing_to_do(run: Path, acc_run_args: tuple[str, ...]) -> None:
    proc = run_snakemake(run.parent.parent, *acc_run_args, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_logs_are_really_redirected(run: Path) -> None:
    log = run.parent / "logs" / "tcga_acc" / "screen.expression.log"
    text = log.read_text()
    assert "rule function: survomics.workflow.screen" in text
    assert "version numpy" in text
    assert "done" in text


def test_lint_is_clean() -> None:
    proc = run_snakemake(ROOT, "--lint", cores=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def test_bad_input_fails_with_clear_error_and_no_partial_output(tmp_path: Path) -> None:
    workdir = make_project(tmp_path / "bad")
    matrix = workdir / "data" / "tcga_acc" / "protein_rppa.tsv"
    lines = matrix.read_text().splitlines()
    cells = lines[3].split("\t")
    cells[2] = "high"
    lines[3] = "\t".join(cells)
    matrix.write_text("\n".join(lines) + "\n")
    header = lines[0].split("\t")
    proc = run_snakemake(
        workdir, "--configfile", "config/config.yaml", str(NO_MODELS), "--keep-going"
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "data/tcga_acc/protein_rppa.tsv:4" in output
    assert header[2] in output
    assert "Fix:" in output
    results = workdir / "results" / "tcga_acc"
    assert not (results / "data" / "protein.parquet").exists()
    assert not (results / "report.html").exists()
    assert not list(results.rglob("*.tmp"))
    # The other modalities are not affected.
    assert (results / "screening" / "expression.univariate_cox.tsv").is_file()


def test_invalid_config_stops_before_the_dag(tmp_path: Path) -> None:
    workdir = make_project(tmp_path / "cfg")
    sheet = workdir / "config" / "cohorts.tsv"
    sheet.write_text(sheet.read_text().replace("features_x_samples", "sideways", 1))
    proc = run_snakemake(workdir, "--dry-run")
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "config/cohorts.tsv:3, column 'orientation'" in output
    assert "Fix:" in output
    assert not (workdir / "results").exists()


# --- modelling (issue 4) -------------------------------------------------------------


def _modelling_config() -> dict:
    import yaml

    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    small = yaml.safe_load(SMALL.read_text())["modelling"]
    for key, value in small.items():
        base["modelling"][key] = (
            {**base["modelling"].get(key, {}), **value} if isinstance(value, dict) else value
        )
    return base


def test_outer_splits_come_from_the_seed_only(run: Path) -> None:
    from survomics.model.splits import outer_splits

    splits = pl.read_csv(run / "cv" / "splits.tsv", separator="\t")
    cfg = _modelling_config()["modelling"]
    clinical = pl.read_parquet(run / "data" / "clinical.parquet").sort("patient_id")
    again = outer_splits(
        clinical["os_event"].to_numpy(),
        clinical["patient_id"].to_list(),
        folds=cfg["outer_folds"],
        repeats=cfg["outer_repeats"],
        seed=cfg["seed"],
    )
    assert splits.equals(again.cast({"repeat": pl.Int64, "fold": pl.Int64}))
    tests = splits.filter(pl.col("role") == "test")
    per_repeat = tests.group_by("repeat", "patient_id").len()
    assert (per_repeat["len"] == 1).all()
    assert per_repeat.height == cfg["outer_repeats"] * clinical.height


def test_every_model_has_out_of_fold_predictions_and_metrics(run: Path) -> None:
    cfg = _modelling_config()["modelling"]
    models = list(cfg["models"])
    splits = pl.read_csv(run / "cv" / "splits.tsv", separator="\t").cast(
        {"repeat": pl.Int32, "fold": pl.Int32}
    )
    metrics = pl.read_csv(run / "models" / "metrics.tsv", separator="\t")
    assert metrics.columns[:6] == ["model", "metric", "n_repeats", "mean", "lower", "upper"]
    assert sorted(metrics["model"].unique()) == sorted(models)
    for model in models:
        oof = pl.read_parquet(run / "models" / model / "oof_predictions.parquet")
        # Each fold predicted only its own held-out patients, each once per repeat.
        test_rows = oof.join(
            splits.filter(pl.col("role") == "test"),
            on=["repeat", "fold", "patient_id"],
            how="anti",
        )
        assert test_rows.height == 0, model
        assert oof.group_by("repeat", "patient_id").len()["len"].max() == 1
        c = metrics.filter((pl.col("model") == model) & (pl.col("metric") == "harrell_c"))
        assert c.height == 1
        row = c.row(0, named=True)
        assert 0.0 <= row["lower"] <= row["mean"] <= row["upper"] <= 1.0
        assert row["n_repeats"] == cfg["outer_repeats"]
        # One Snakemake job (and log) per (model, outer repeat).
        logs = list((run.parent / "logs" / "tcga_acc").glob(f"cv_fold.{model}.r*.log"))
        assert len(logs) == cfg["outer_repeats"]
    # The clinical baseline carries real signal on ACC (stage is strongly prognostic).
    clinical_c = metrics.filter(
        (pl.col("model") == "clinical") & (pl.col("metric") == "harrell_c")
    )["mean"][0]
    assert clinical_c > 0.6


def test_biomarker_tables_and_frozen_models(run: Path) -> None:
    import json

    from survomics.config import load_settings
    from survomics.model.steps import config_hash

    cfg = _modelling_config()
    table = pl.read_csv(run / "biomarkers" / "expression.tsv", separator="\t")
    assert table.columns[:4] == ["feature", "frequency", "folds_selected", "mean_coef"]
    assert table["frequency"].is_between(0.0, 1.0).all()
    assert table["frequency"].max() > 0
    screen = pl.read_csv(run / "screening" / "expression.univariate_cox.tsv", separator="\t")
    assert table.height == screen.height
    # the hash is of the resolved settings (defaults filled), as the workflow saw them
    resolved = load_settings(cfg, config_path="config/config.yaml", base=run.parent.parent)
    for model in cfg["modelling"]["models"]:
        sidecar = json.loads((run / "models" / model / "model.json").read_text())
        assert sidecar["config_hash"] == config_hash(resolved.config["modelling"])
        assert (run / "models" / model / "ph_test.tsv").is_file()


def test_interaction_screen_runs_for_every_modality(run: Path) -> None:
    for modality in MODALITIES:
        table = pl.read_csv(run / "predictive" / f"{modality}.interaction.tsv", separator="\t")
        assert {"interaction_chisq", "p", "q"} <= set(table.columns)


def test_external_validation_scores_a_frozen_model(tmp_path: Path) -> None:
    """A second cohort (half of ACC, genes removed) scored by the frozen ACC models."""
    import yaml

    workdir = make_project(tmp_path / "validation")
    half = workdir / "data" / "acc_half"
    half.mkdir()
    src = workdir / "data" / "tcga_acc"
    clinical = pl.read_csv(src / "clinical_patient.tsv", separator="\t", infer_schema=False)
    keep = set(clinical["patientID"].to_list()[::2])
    clinical.filter(pl.col("patientID").is_in(keep)).write_csv(
        half / "clinical_patient.tsv", separator="\t"
    )
    expr = pl.read_csv(src / "expression_rsem_normalized.tsv", separator="\t")
    removed = expr["feature"].to_list()[:5]
    expr.filter(~pl.col("feature").is_in(removed)).select(
        "feature", *[c for c in expr.columns[1:] if c[:12] in keep]
    ).write_csv(half / "expression_rsem_normalized.tsv", separator="\t")
    sheet = workdir / "config" / "cohorts.tsv"
    lines = sheet.read_text().splitlines()
    extra = [
        line.replace("tcga_acc", "acc_half", 1).replace("data/tcga_acc/", "data/acc_half/")
        for line in lines[1:]
        if "\tclinical\t" in line or "\texpression\t" in line
    ]
    sheet.write_text("\n".join([*lines, *extra]) + "\n")
    cfg = _modelling_config()
    cfg["modelling"]["models"] = {
        "clinical": {"kind": "clinical"},
        "expression_coxnet": {"kind": "coxnet", "modalities": ["expression"]},
    }
    cfg["modelling"]["treatment"] = None
    cfg["modelling"]["modalities"] = {}
    cfg["modelling"]["outer_folds"] = 2
    cfg["modelling"]["outer_repeats"] = 1
    cfg["validate"] = [{"train": "tcga_acc", "test": "acc_half"}]
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    target = "results/acc_half/validation/tcga_acc/expression_coxnet/metrics.tsv"
    proc = run_snakemake(
        workdir, target, "results/acc_half/validation/tcga_acc/clinical/metrics.tsv"
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    out = workdir / "results" / "acc_half" / "validation" / "tcga_acc"
    missing = pl.read_csv(out / "expression_coxnet" / "missing_features.tsv", separator="\t")
    used = set()
    sidecar = workdir / "results" / "tcga_acc" / "models" / "expression_coxnet" / "model.json"
    import json

    for features in json.loads(sidecar.read_text())["features"].values():
        used |= set(features)
    assert set(missing["feature"]) == used & set(removed)
    metrics = pl.read_csv(out / "expression_coxnet" / "metrics.tsv", separator="\t")
    assert "harrell_c" in metrics["metric"].to_list()
    curves = pl.read_parquet(out / "expression_coxnet" / "survival_curves.parquet")
    assert curves.height == metrics["n"][0]
    values = curves.drop("patient_id").to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    assert (np.diff(values, axis=1) <= 1e-12).all()  # survival curves never increase


RUN_METADATA = ("logs", "benchmarks")
"""Result folders that are run metadata (they hold timings and paths): not compared."""


def _result_files(results: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(results)): path.read_bytes()
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.relative_to(results).parts[0] not in RUN_METADATA
    }


def test_rerun_on_one_core_is_byte_identical(
    run: Path, acc_run_args: tuple[str, ...], tmp_path: Path
) -> None:
    """Redone on 1 core instead of 2, in new processes, results are byte-identical:
    Parquet, TSV, JSON, joblib models, SVG, HTML; everything but logs and benchmark
    timings. A copy of the shared run loses a random-forest and a fusion model (every
    fold) and the copy-number matrix with its screening; everything downstream is redone."""
    workdir = tmp_path / "again"
    shutil.copytree(run.parent.parent, workdir, symlinks=True)
    results = workdir / "results" / "tcga_acc"
    for model in ("expression_rsf", "late_fusion"):
        shutil.rmtree(results / "cv" / model)
        shutil.rmtree(results / "models" / model)
    (results / "data" / "copy_number.parquet").unlink()
    (results / "screening" / "copy_number.univariate_cox.tsv").unlink()
    proc = run_snakemake(workdir, *acc_run_args, cores=1)
    assert proc.returncode == 0, proc.stderr[-5000:]
    redone = {line.split()[-1] for line in proc.stderr.splitlines() if "(Rule: " in line}
    assert {"cv_gather)", "report)", "ingest_omics)"} <= redone, sorted(redone)
    first = _result_files(run.parent)
    second = _result_files(workdir / "results")
    assert first.keys() == second.keys()
    differing = sorted(name for name in first if first[name] != second[name])
    assert not differing, f"{len(differing)} files differ: {differing[:20]}"
    assert any(name.endswith(".joblib") for name in first)


def _add_cohort(workdir: Path, name: str) -> None:
    """Declare cohort ``name`` in the sheet: a copy of ACC's clinical and expression files."""
    folder = workdir / "data" / name
    folder.mkdir()
    for file in ("clinical_patient.tsv", "expression_rsem_normalized.tsv"):
        shutil.copy(workdir / "data" / "tcga_acc" / file, folder / file)
    sheet = workdir / "config" / "cohorts.tsv"
    lines = sheet.read_text().splitlines()
    extra = [
        line.replace("tcga_acc", name, 1).replace("data/tcga_acc/", f"data/{name}/")
        for line in lines[1:]
        if line.startswith(("tcga_acc\tclinical\t", "tcga_acc\texpression\t"))
    ]
    sheet.write_text("\n".join([*lines, *extra]) + "\n")


def _planned_cohorts(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Jobs per cohort in a dry run's job list (from each job's ``wildcards:`` line)."""
    counts: dict[str, int] = {}
    for raw in (proc.stdout + proc.stderr).splitlines():
        line = raw.strip()
        if line.startswith("wildcards:"):
            for item in line.removeprefix("wildcards:").split(","):
                key, _, value = item.strip().partition("=")
                if key == "cohort":
                    counts[value] = counts.get(value, 0) + 1
    return counts


def test_incremental_cohorts_and_the_lock(tmp_path: Path) -> None:
    """Core facilities' routine: adding a cohort schedules only its jobs; changing one
    cohort's file reruns only that cohort's jobs; a second concurrent run is refused."""
    workdir = make_project(tmp_path / "incremental")
    _add_cohort(workdir, "acc_b")
    args = ("--configfile", "config/config.yaml", str(NO_MODELS))
    proc = run_snakemake(workdir, *args)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Nothing to be done" in run_snakemake(workdir, *args, "--dry-run").stdout

    _add_cohort(workdir, "acc_c")
    planned = _planned_cohorts(run_snakemake(workdir, *args, "--dry-run"))
    assert set(planned) == {"acc_c"}, planned

    clinical = workdir / "data" / "acc_b" / "clinical_patient.tsv"
    text = clinical.read_text().splitlines()
    clinical.write_text("\n".join(text[:-1]) + "\n")  # one patient fewer in acc_b
    planned = _planned_cohorts(run_snakemake(workdir, *args, "--dry-run"))
    assert set(planned) == {"acc_b", "acc_c"}, planned  # acc_c is still new; never tcga_acc

    # A run in progress holds the lock: a second one is refused with Snakemake's message.
    first = subprocess.Popen(
        snakemake_command(*args, cores=1),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=snakemake_env(),
    )
    try:
        locks = workdir / ".snakemake" / "locks"
        for _ in range(600):
            if locks.is_dir() and any(locks.iterdir()):
                break
            time.sleep(0.1)
        second = run_snakemake(workdir, *args)
        assert second.returncode != 0
        assert "Directory cannot be locked" in second.stderr + second.stdout
    finally:
        first.wait(timeout=900)
    assert first.returncode == 0
    assert "Nothing to be done" in run_snakemake(workdir, *args, "--dry-run").stdout


@pytest.fixture(scope="module")
def no_models_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """An uninterrupted run without the modelling part, and its wall time in seconds."""
    reference = make_project(tmp_path_factory.mktemp("no_models_reference"))
    start = time.monotonic()
    proc = run_snakemake(reference, "--configfile", "config/config.yaml", str(NO_MODELS))
    assert proc.returncode == 0, proc.stderr[-5000:]
    return reference, time.monotonic() - start


def test_sigkill_at_ten_moments_then_rerun_incomplete_is_byte_identical(
    tmp_path: Path, no_models_reference: tuple[Path, float]
) -> None:
    """The controller and its jobs are killed with SIGKILL at 10 moments (a node failure);
    after ``--unlock`` and ``--rerun-incomplete`` the results are byte-identical to an
    uninterrupted run and no temporary file is left behind.

    The clinical table alternates between two contents (one patient fewer) before each
    run, so every run has the whole DAG to redo (Snakemake ignores a mere ``touch`` of an
    unchanged file), and the kill moments are drawn within the measured duration of an
    uninterrupted run: the kills land in jobs, in Parquet writes, between jobs."""
    import random
    import signal

    reference, duration = no_models_reference
    args = ("--configfile", "config/config.yaml", str(NO_MODELS))
    workdir = make_project(tmp_path / "killed")
    env = snakemake_env()
    command = snakemake_command(*args)
    rng = random.Random(20261123)
    moments = sorted(rng.uniform(0.1 * duration, 0.9 * duration) for _ in range(10))
    clinical = workdir / "data" / "tcga_acc" / "clinical_patient.tsv"
    original = clinical.read_text()
    one_fewer = "\n".join(original.splitlines()[:-1]) + "\n"
    killed_while_running = 0
    for i, moment in enumerate(moments):
        clinical.write_text(one_fewer if i % 2 == 0 else original)
        controller = subprocess.Popen(
            [*command, "--rerun-incomplete"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the jobs die with it
        )
        try:
            controller.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(controller.pid, signal.SIGKILL)
            controller.wait()
            killed_while_running += 1
        unlock = run_snakemake(workdir, *args, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-2000:]
    assert killed_while_running >= 5, (killed_while_running, moments, duration)
    clinical.write_text(original)
    proc = run_snakemake(workdir, *args, "--rerun-incomplete")
    assert proc.returncode == 0, proc.stderr[-5000:]
    first = _result_files(reference / "results")
    second = _result_files(workdir / "results")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert not list((workdir / "results").rglob("*.tmp"))


def test_native_snakemake_report_has_a_caption_per_artefact(
    run: Path, acc_run_args: tuple[str, ...]
) -> None:
    """``snakemake --report`` builds from the finished run; every artefact marked with
    ``report()`` in the rules is in it with its caption."""
    import re
    import zipfile

    workdir = run.parent.parent
    proc = run_snakemake(workdir, *acc_run_args, "--report", "native.zip")
    assert proc.returncode == 0, proc.stderr[-5000:]
    captions = {}
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for caption in re.findall(r'caption="\.\./report/(\w+)\.rst"', smk.read_text()):
            text = (ROOT / "workflow" / "report" / f"{caption}.rst").read_text()
            captions[caption] = " ".join(text.split()[:4])
    assert set(captions) == {p.stem for p in (ROOT / "workflow" / "report").glob("*.rst")}
    with zipfile.ZipFile(workdir / "native.zip") as archive:
        names = archive.namelist()
        html = "".join(
            archive.read(n).decode("utf-8", "replace") for n in names if n.endswith(".html")
        )
    assert any(n.endswith("report.html") for n in names)
    assert any(n.endswith("metrics.tsv") for n in names)
    for caption, opening in captions.items():
        words = opening.split()[:2]
        assert all(word in html for word in words), caption


def test_provenance_verifies_and_catches_a_changed_output(run: Path, tmp_path: Path) -> None:
    """The reviewer's route: ``survomics verify`` on the run's provenance.json passes;
    after one output changes it fails naming that file."""
    import json

    record = json.loads((run / "provenance.json").read_text())
    assert record["seeds"]["modelling.seed"] == _modelling_config()["modelling"]["seed"]
    assert "results/tcga_acc/models/metrics.tsv" in record["outputs"]
    assert "data/tcga_acc/clinical_patient.tsv" in record["inputs"]
    assert set(record["rules"].values()) == {
        "ingest",
        "singlecell",
        "survival",
        "modelling",
        "report",
    }
    survomics = Path(sys.executable).parent / "survomics"
    workdir = run.parent.parent
    proc = subprocess.run(
        [str(survomics), "verify", "results/tcga_acc/provenance.json"],
        cwd=workdir, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    copy = tmp_path / "copy"
    shutil.copytree(workdir / "results", copy / "results")
    shutil.copytree(workdir / "data", copy / "data")
    shutil.copytree(workdir / "config", copy / "config")
    changed = copy / "results" / "tcga_acc" / "models" / "metrics.tsv"
    changed.write_text(changed.read_text().replace("harrell_c", "harrell_C", 1))
    proc = subprocess.run(
        [str(survomics), "verify", "results/tcga_acc/provenance.json"],
        cwd=copy, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("results/tcga_acc/models/metrics.tsv: differs")
