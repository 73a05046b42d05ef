# Configuration is validated here, before the DAG is built (see survomics.config).
import dataclasses
import re

from snakemake.exceptions import WorkflowError

from survomics import formats
from survomics.config import ConfigValidationError, load_settings
from survomics.model.steps import split_names

try:
    SETTINGS = load_settings(config, config_path="config/config.yaml", base=".")
except ConfigValidationError as exc:
    raise WorkflowError(str(exc)) from None

COHORTS = SETTINGS.cohorts
MODELLING = SETTINGS.config["modelling"]
MODELS = list(MODELLING["models"]) if MODELLING["enabled"] else []
SPLITS = split_names(folds=MODELLING["outer_folds"], repeats=MODELLING["outer_repeats"])


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),
    test="|".join(re.escape(c) for c in COHORTS),
    train="|".join(re.escape(c) for c in COHORTS),
    modality="|".join(
        sorted({re.escape(m) for c in COHORTS for m in SETTINGS.modalities(c)})
    ),
    model="|".join(MODELS) or "no-model",
    split=r"r[0-9]+f[0-9]+",


def model_modalities(model):
    """Omics modalities a model uses."""
    return MODELLING["models"][model]["modalities"]


def model_inputs(wc):
    """Clinical table and the modality matrices of model ``wc.model`` in ``wc.cohort``."""
    return {
        "clinical": f"results/{wc.cohort}/data/clinical.parquet",
        "omics": [
            f"results/{wc.cohort}/data/{m}.parquet" for m in model_modalities(wc.model)
        ],
    }


def fold_outputs(wc):
    """The per-split outputs of one model that ``cv_gather`` collects."""
    base = f"results/{wc.cohort}/cv/{wc.model}"
    return {
        "predictions": [f"{base}/{s}/predictions.parquet" for s in SPLITS],
        "selected": [f"{base}/{s}/selected.tsv" for s in SPLITS],
    }


def score_inputs(wc):
    """A frozen model of ``wc.train`` and the data of ``wc.test`` it needs."""
    return {
        "model": f"results/{wc.train}/models/{wc.model}/model.joblib",
        "sidecar": f"results/{wc.train}/models/{wc.model}/model.json",
        "clinical": f"results/{wc.test}/data/clinical.parquet",
        "omics": [
            f"results/{wc.test}/data/{m}.parquet" for m in model_modalities(wc.model)
        ],
    }


def biomarker_model(modality):
    """The model whose fold selections give a modality's biomarker table.

    The first single-modality model of that modality in config order, else the first
    fusion model that uses it; None when no model uses it.
    """
    using = [m for m in MODELS if modality in model_modalities(m)]
    single = [m for m in using if len(model_modalities(m)) == 1]
    return (single or using or [None])[0]


def ingest_spec(cohort, modality):
    """The sheet row ingest_omics reads: an .h5ad row's pseudobulk Parquet instead."""
    spec = SETTINGS.omics(cohort, modality)
    if spec.format != "h5ad":
        return spec
    return dataclasses.replace(
        spec,
        format="parquet",
        path=f"results/{cohort}/data/raw/{modality}.parquet",
        id_column="feature",
        orientation="features_x_samples",
        options=tuple(o for o in spec.options if o[0] == "duplicates"),
        # a pseudobulk's columns are patients already
        id_type="patient" if spec.option("patient_column") else spec.id_type,
    )


def ingest_inputs(cohort, modality):
    """Files ingest_omics reads for one modality (see ingest_spec)."""
    return formats.input_files(ingest_spec(cohort, modality))


def audit_inputs(cohort):
    """Every per-file audit table of a cohort (.h5ad rows add their reading step's)."""
    out = [f"results/{cohort}/data/audit/clinical.tsv"]
    for modality in SETTINGS.modalities(cohort):
        out.append(f"results/{cohort}/data/audit/{modality}.tsv")
        if SETTINGS.omics(cohort, modality).format == "h5ad":
            out.append(f"results/{cohort}/data/audit/{modality}.read.tsv")
    return out


def all_outputs():
    """Every final output of every cohort of the sheet."""
    out = []
    for cohort in COHORTS:
        out += [
            f"results/{cohort}/data/clinical.parquet",
            f"results/{cohort}/data/audit.tsv",
            f"results/{cohort}/report.html",
            f"results/{cohort}/provenance.json",
            f"results/{cohort}/data/{cohort}.h5mu",
            f"results/{cohort}/qc/intake.html",
            f"results/{cohort}/qc/intake.tsv",
            *shareable_outputs(cohort),
        ]
        for modality in SETTINGS.modalities(cohort):
            out += [
                f"results/{cohort}/data/{modality}.parquet",
                f"results/{cohort}/screening/{modality}.univariate_cox.tsv",
            ]
            if MODELS and biomarker_model(modality):
                out.append(f"results/{cohort}/biomarkers/{modality}.tsv")
            if MODELS and MODELLING["treatment"]:
                out.append(f"results/{cohort}/predictive/{modality}.interaction.tsv")
        if MODELS:
            out.append(f"results/{cohort}/models/metrics.tsv")
            out += [f"results/{cohort}/models/{m}/model.joblib" for m in MODELS]
            out += [f"results/{cohort}/models/{m}/ph_test.tsv" for m in MODELS]
            out += [f"results/{cohort}/models/{m}/risk_groups_km.tsv" for m in MODELS]
    out.append("results/index.html")
    for pair in SETTINGS.config["validate"]:
        for m in MODELS:
            out.append(
                f"results/{pair['test']}/validation/{pair['train']}/{m}/metrics.tsv"
            )
    return out


# --- report (rules/report.smk) ---
from pathlib import Path

from snakemake import __version__ as REPORT_SNAKEMAKE_VERSION

from survomics import provenance as report_prov

PRIVACY = SETTINGS.config.get("privacy", {}) or {}
# The key is an input (a new key reruns the shareable outputs) only once it exists: a
# missing key then fails in the job with survomics' error telling how to create one.
PRIVACY_KEY = (
    [PRIVACY["key_file"]]
    if PRIVACY.get("pseudonymize") and Path(PRIVACY["key_file"]).is_file()
    else []
)
REPORT_MODEL_FILES = {
    "calibration": "calibration.tsv",
    "risk_groups": "risk_groups.tsv",
    "risk_km": "risk_groups_km.tsv",
    "risk_logrank": "risk_groups_logrank.tsv",
    "ph": "ph_test.tsv",
}


def biomarker_modalities(cohort):
    """Modalities of ``cohort`` with a biomarker table."""
    if not MODELS:
        return []
    return [m for m in SETTINGS.modalities(cohort) if biomarker_model(m)]


def predictive_modalities(cohort):
    """Modalities of ``cohort`` with a treatment-interaction screen."""
    if not (MODELS and MODELLING["treatment"]):
        return []
    return list(SETTINGS.modalities(cohort))


def validations_of(cohort):
    """(train, model) of every frozen model scored on ``cohort``."""
    return [
        (pair["train"], m)
        for pair in SETTINGS.config["validate"]
        if pair["test"] == cohort
        for m in MODELS
    ]


def report_inputs(wc):
    """Every result of ``wc.cohort`` the report reads, plus the cohort's input files."""
    c = wc.cohort
    files = {
        "clinical": f"results/{c}/data/clinical.parquet",
        "audit": f"results/{c}/data/audit.tsv",
        "screens": [
            f"results/{c}/screening/{m}.univariate_cox.tsv"
            for m in SETTINGS.modalities(c)
        ],
        "km_table": f"results/{c}/km/km_by_group.tsv",
        "km_medians": f"results/{c}/km/medians.tsv",
        "km_logrank": f"results/{c}/km/logrank.tsv",
        "km_excluded": f"results/{c}/km/excluded.tsv",
        "biomarkers": [
            f"results/{c}/biomarkers/{m}.tsv" for m in biomarker_modalities(c)
        ],
        "predictive": [
            f"results/{c}/predictive/{m}.interaction.tsv"
            for m in predictive_modalities(c)
        ],
        "validation_metrics": [
            f"results/{c}/validation/{t}/{m}/metrics.tsv" for t, m in validations_of(c)
        ],
        "validation_missing": [
            f"results/{c}/validation/{t}/{m}/missing_features.tsv"
            for t, m in validations_of(c)
        ],
        "data": report_prov.cohort_inputs(settings=SETTINGS, cohort=c),
        "key": PRIVACY_KEY,
    }
    if MODELS:
        files["metrics"] = f"results/{c}/models/metrics.tsv"
        for name, leaf in REPORT_MODEL_FILES.items():
            files[name] = [f"results/{c}/models/{m}/{leaf}" for m in MODELS]
    return files


def shareable_tables(wc):
    """The per-patient tables of ``wc.cohort`` copied (pseudonymised) to shareable/."""
    c = wc.cohort
    tables = {
        "clinical": f"results/{c}/data/clinical.parquet",
        "audit": f"results/{c}/data/audit.tsv",
        "km_excluded": f"results/{c}/km/excluded.tsv",
    }
    for m in MODELS:
        tables[f"risk_groups.{m}"] = f"results/{c}/models/{m}/risk_groups.tsv"
    return tables


def shareable_outputs(cohort):
    """The files under results/{cohort}/shareable/ (for all_outputs and provenance)."""
    names = ["clinical", "audit", "km_excluded"] + [f"risk_groups.{m}" for m in MODELS]
    return [f"results/{cohort}/shareable/{n}.tsv" for n in names]
