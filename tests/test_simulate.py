"""Synthetic cohorts: deterministic bytes, shapes, marginals, detectable planted features."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from scipy import stats

from survomics import cli
from survomics.config import load_settings
from survomics.cox import cox_screen
from survomics.ids import select_samples
from survomics.simulate import BLOCK, patient_ids, simulate_cohort

SMALL = {"n_patients": 60, "n_genes": 300, "n_probes": 400, "n_planted": 6}


def _matrix(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    frame = pl.read_csv(path, separator="\t", infer_schema_length=0)
    samples = frame.columns[1:]
    values = frame.select(pl.col(samples).cast(pl.Float64)).to_numpy()
    return frame["feature"].to_list(), samples, values


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """400 patients, 2,058 genes over three write blocks, the default 6 planted features.

    Planted: 2 expression genes, 2 methylation probes, 1 copy-number gene, 1 mutated
    gene, each with log-HR 0.6 per sd of its signal.
    """
    out = tmp_path_factory.mktemp("sim400")
    return simulate_cohort(
        out_dir=out, n_patients=400, n_genes=2 * BLOCK + 10, n_probes=1500, seed=14
    )


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = simulate_cohort(out_dir=tmp_path / "a", seed=5, **SMALL)
    second = simulate_cohort(out_dir=tmp_path / "b", seed=5, **SMALL)
    third = simulate_cohort(out_dir=tmp_path / "c", seed=6, **SMALL)
    names = sorted(first["files"])
    assert names == sorted(second["files"])
    for name in names:
        assert first["files"][name].read_bytes() == second["files"][name].read_bytes(), name
    assert (tmp_path / "a/config/config.yaml").read_bytes() == (
        tmp_path / "b/config/config.yaml"
    ).read_bytes()
    assert first["files"]["expression"].read_bytes() != third["files"]["expression"].read_bytes()
    # gzip members carry no time stamp and no file name
    header = first["files"]["expression"].read_bytes()[:10]
    assert header[3] == 0  # FLG: no FNAME
    assert header[4:8] == b"\0\0\0\0"  # MTIME


def test_shapes_ids_and_clinical(cohort: dict) -> None:
    files = cohort["files"]
    genes, samples, counts = _matrix(files["expression"])
    assert counts.shape == (2 * BLOCK + 10, 400)
    assert len(set(genes)) == len(genes)
    assert samples[0] == "TCGA-SM-0001-01A-11R-A000-07"
    chosen = select_samples(samples, id_type="tcga_barcode", tumour_types=[1], path="x")
    assert sorted(chosen.chosen) == sorted(patient_ids(400))
    probes, _, betas = _matrix(files["methylation"])
    assert betas.shape == (1500, 400)
    assert all(p.startswith("cg") and len(p) == 10 for p in probes)
    _, _, cnv = _matrix(files["copy_number"])
    assert cnv.shape == (2 * BLOCK + 10, 400)
    assert set(np.unique(cnv)) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
    clinical = pl.read_csv(files["clinical"], separator="\t", infer_schema_length=0)
    assert clinical.columns == [
        "patientID",
        "years_to_birth",
        "gender",
        "pathologic_stage",
        "radiation_therapy",
        "vital_status",
        "days_to_death",
        "days_to_last_followup",
    ]
    dead = clinical["vital_status"] == "1"
    assert clinical.filter(dead)["days_to_death"].null_count() == 0
    assert clinical.filter(dead)["days_to_last_followup"].null_count() == int(dead.sum())
    assert clinical.filter(~dead)["days_to_last_followup"].null_count() == 0
    # independent censoring at the requested fraction (0.3)
    assert abs(1 - cohort["n_events"] / 400 - 0.3) < 0.02
    truth = pl.read_csv(files["truth"], separator="\t")
    planted = truth.filter(pl.col("modality") != "clinical")
    assert planted["modality"].to_list() == [
        "expression",
        "methylation",
        "expression",
        "copy_number",
        "methylation",
        "mutation",
    ]
    assert set(np.abs(planted.filter(pl.col("modality") == "expression")["log_hr"])) == {0.6}


def test_negative_binomial_marginals(cohort: dict) -> None:
    _, _, counts = _matrix(cohort["files"]["expression"])
    assert (counts >= 0).all()
    assert np.array_equal(counts, np.round(counts))
    libs = counts.sum(axis=0)
    normalised = counts / (libs / libs.mean())
    mean, var = normalised.mean(axis=1), normalised.var(axis=1)
    expressed = mean > 20
    assert expressed.sum() > 500
    # overdispersed: variance above the Poisson mean, growing like mean + phi mean^2
    assert np.mean(var[expressed] > mean[expressed]) > 0.99
    phi = (var[expressed] - mean[expressed]) / mean[expressed] ** 2
    assert 0.05 < np.median(phi) < 1.0
    slope = np.polyfit(np.log(mean[expressed]), np.log(var[expressed]), 1)[0]
    assert 1.5 < slope < 2.1
    # library sizes vary between samples
    assert 0.1 < np.std(np.log(libs)) < 0.5


def test_beta_marginals_and_correlated_blocks(cohort: dict) -> None:
    text = gzip.decompress(cohort["files"]["methylation"].read_bytes()).decode()
    _, _, betas = _matrix(cohort["files"]["methylation"])
    assert (betas > 0).all()
    assert (betas < 1).all()
    assert "\t0.0000" not in text
    assert "\t1.0000" not in text
    means = betas.mean(axis=1)
    # bimodal: most probes unmethylated or methylated
    assert np.mean(means < 0.3) > 0.3
    assert np.mean(means > 0.7) > 0.3
    m = np.log2(betas / (1 - betas))
    neighbours = [stats.spearmanr(m[i], m[i + 1])[0] for i in range(1499)]
    assert np.mean(np.array(neighbours) > 0.2) > 0.3


def test_mutation_sparsity_and_gene_length(cohort: dict) -> None:
    files = cohort["files"]
    genes, _, calls = _matrix(files["mutation_binary"])
    assert set(np.unique(calls)) <= {0.0, 1.0}
    assert 0.0005 < calls.mean() < 0.05
    lines = gzip.decompress(files["maf"].read_bytes()).decode().splitlines()
    assert lines[0] == "#version 2.4"
    maf = pl.read_csv(files["maf"], separator="\t", skip_rows=1, infer_schema_length=0)
    for column in ("Hugo_Symbol", "Variant_Classification", "Tumor_Sample_Barcode"):
        assert column in maf.columns
    non_silent = maf.filter(pl.col("Variant_Classification") != "Silent")
    pairs = non_silent.select("Hugo_Symbol", "Tumor_Sample_Barcode").unique().height
    assert pairs == int(calls.sum())
    annotation = pl.read_csv(files["genes"], separator="\t")
    length = dict(
        zip(
            annotation["gene_name"],
            (annotation["end"] - annotation["start"] + 1).to_list(),
            strict=True,
        )
    )
    freq = calls.mean(axis=1)
    rho = stats.spearmanr([length[g] for g in genes], freq)[0]
    assert rho > 0.3


def test_planted_features_rank_at_the_top(cohort: dict) -> None:
    files = cohort["files"]
    clinical = pl.read_csv(files["clinical"], separator="\t")
    time = np.where(
        clinical["vital_status"] == 1,
        clinical["days_to_death"].fill_null(0),
        clinical["days_to_last_followup"].fill_null(0),
    ).astype(np.float64)
    event = clinical["vital_status"].to_numpy()
    truth = pl.read_csv(files["truth"], separator="\t")
    signs = dict(zip(truth["feature"], truth["log_hr"], strict=True))
    # (modality, file, transform, planted features must be within the top ...)
    # Copy-number genes share their segment with their neighbours (correlated calls),
    # so the planted gene is among the top few rather than necessarily first.
    checks = (
        ("expression", "expression", "log_cpm", 0),
        ("methylation", "methylation", "m_value", 0),
        ("copy_number", "copy_number", "none", 5),
        ("mutation", "mutation_binary", "none", 0),
    )
    for modality, key, transform, slack in checks:
        names, _, values = _matrix(files[key])
        if transform == "log_cpm":
            values = np.log2(values / values.sum(axis=0) * 1e6 + 0.5)
        elif transform == "m_value":
            values = np.log2(values / (1 - values))
        screen = cox_screen(values.T, time, event, feature_names=names).sort("p_wald")
        planted = set(truth.filter(pl.col("modality") == modality)["feature"])
        top = set(screen.head(len(planted) + slack)["feature"])
        assert planted <= top, modality
        for row in screen.filter(pl.col("feature").is_in(list(planted))).iter_rows(named=True):
            assert np.sign(row["coef"]) == np.sign(signs[row["feature"]]), row["feature"]


def test_sheet_and_config_validate(cohort: dict) -> None:
    out = cohort["out_dir"]
    with cohort["config"].open() as fh:
        config = yaml.safe_load(fh)
    settings = load_settings(config, config_path=cohort["config"], base=out)
    assert settings.cohorts == ["sim"]
    assert settings.modalities("sim") == ["expression", "methylation", "copy_number", "mutation"]


def test_binary_mutation_sheet_validates(tmp_path: Path) -> None:
    result = simulate_cohort(out_dir=tmp_path, seed=2, mutation_format="tsv", **SMALL)
    with result["config"].open() as fh:
        config = yaml.safe_load(fh)
    settings = load_settings(config, config_path=result["config"], base=tmp_path)
    assert settings.omics("sim", "mutation").path.endswith("mutation_gene_binary.tsv.gz")


def test_cli_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = "--patients 30 --genes 50 --probes 40 --seed 3 --planted 4 --cohort tiny"
    code = cli.main(["simulate", "--out", str(tmp_path), *args.split()])
    assert code == 0
    assert "30 patients" in capsys.readouterr().out
    _, samples, values = _matrix(tmp_path / "data/tiny/expression_counts.tsv.gz")
    assert values.shape == (50, 30)
    assert len(samples) == 30
    assert cli.main(["simulate", "--out", str(tmp_path), "--censoring", "1.5"]) == 1
