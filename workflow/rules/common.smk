# Configuration is validated here, before the DAG is built (see survomics.config).
import re

from snakemake.exceptions import WorkflowError

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


def all_outputs():
    """Every final output of every cohort of the sheet."""
    out = []
    for cohort in COHORTS:
        out += [
            f"results/{cohort}/data/clinical.parquet",
            f"results/{cohort}/data/audit.tsv",
            f"results/{cohort}/report.html",
            f"results/{cohort}/provenance.json",
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
    for pair in SETTINGS.config["validate"]:
        for m in MODELS:
            out.append(
                f"results/{pair['test']}/validation/{pair['train']}/{m}/metrics.tsv"
            )
    return out
