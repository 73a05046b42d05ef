# Configuration is validated here, before the DAG is built (see survomics.config).
import dataclasses
import functools
import os
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
REPEATS = list(range(MODELLING["outer_repeats"]))


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),
    test="|".join(re.escape(c) for c in COHORTS),
    train="|".join(re.escape(c) for c in COHORTS),
    modality="|".join(
        sorted({re.escape(m) for c in COHORTS for m in SETTINGS.modalities(c)})
    ),
    model="|".join(MODELS) or "no-model",
    repeat=r"[0-9]+",


# Snakemake calls input functions, params and resources once per job (tens of thousands
# for a large sheet) and the Settings look-ups scan the whole sheet: each is computed
# once per cohort (and modality) here.
clinical_spec = functools.cache(SETTINGS.clinical)
omics_spec = functools.cache(SETTINGS.omics)
endpoint_spec = functools.cache(SETTINGS.endpoint)


def endpoint_name(cohort):
    """Name of the endpoint of ``cohort``."""
    return endpoint_spec(cohort).name


@functools.cache
def _modalities(cohort):
    return tuple(SETTINGS.modalities(cohort))


def cohort_modalities(cohort):
    """Omics modalities of ``cohort`` in sheet order (SETTINGS.modalities, cached)."""
    return list(_modalities(cohort))


@functools.cache
def _cohort_specs(cohort):
    return tuple(spec for spec in SETTINGS.files if spec.cohort == cohort)


def cohort_specs(cohort):
    """The sheet rows of ``cohort`` in sheet order."""
    return list(_cohort_specs(cohort))


@functools.cache
def _spec_files(spec):
    return tuple(formats.input_files(spec))


def spec_files(spec):
    """Files one sheet row's reader reads (formats.input_files, cached per row)."""
    return list(_spec_files(spec))


def input_mb(input):
    """Size in MiB of a job's input files that exist (as input.size_mb, without asyncio).

    Missing files count 0, as in a dry run before upstream jobs ran.
    """
    total = 0
    for path in input:
        try:
            total += os.stat(path).st_size
        except OSError:
            pass
    return total / 1048576


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
    """The per-repeat outputs of one model that ``cv_gather`` collects."""
    base = f"results/{wc.cohort}/cv/{wc.model}"
    return {
        "predictions": [f"{base}/r{r}/predictions.parquet" for r in REPEATS],
        "selected": [f"{base}/r{r}/selected.tsv" for r in REPEATS],
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


@functools.cache
def ingest_spec(cohort, modality):
    """The sheet row ingest_omics reads: an .h5ad row's pseudobulk Parquet instead."""
    spec = omics_spec(cohort, modality)
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
    return spec_files(ingest_spec(cohort, modality))


def audit_inputs(cohort):
    """Every per-file audit table of a cohort (.h5ad rows add their reading step's)."""
    out = [f"results/{cohort}/data/audit/clinical.tsv"]
    for modality in cohort_modalities(cohort):
        out.append(f"results/{cohort}/data/audit/{modality}.tsv")
        if omics_spec(cohort, modality).format == "h5ad":
            out.append(f"results/{cohort}/data/audit/{modality}.read.tsv")
    return out


def all_outputs():
    """Every final output of every cohort of the sheet."""
    return list(_all_outputs())


@functools.cache
def _all_outputs():
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
        for modality in cohort_modalities(cohort):
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
    return tuple(out)


@functools.cache
def _outputs_by_cohort():
    groups = {}
    for path in _all_outputs():
        parts = path.split("/", 2)
        if len(parts) == 3 and parts[0] == "results":
            groups.setdefault(parts[1], []).append(path)
    return groups


def cohort_outputs(cohort):
    """The final outputs under results/{cohort}/ (all_outputs grouped once by cohort)."""
    return list(_outputs_by_cohort().get(cohort, []))


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
    return [m for m in cohort_modalities(cohort) if biomarker_model(m)]


def predictive_modalities(cohort):
    """Modalities of ``cohort`` with a treatment-interaction screen."""
    if not (MODELS and MODELLING["treatment"]):
        return []
    return cohort_modalities(cohort)


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
            for m in cohort_modalities(c)
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
        "data": cohort_data_files(c),
        "key": PRIVACY_KEY,
    }
    if MODELS:
        files["metrics"] = f"results/{c}/models/metrics.tsv"
        for name, leaf in REPORT_MODEL_FILES.items():
            files[name] = [f"results/{c}/models/{m}/{leaf}" for m in MODELS]
    return files


@functools.cache
def _cohort_data_files(cohort):
    return tuple(report_prov.cohort_inputs(settings=SETTINGS, cohort=cohort))


def cohort_data_files(cohort):
    """The input files of ``cohort`` (provenance.cohort_inputs, cached per cohort)."""
    return list(_cohort_data_files(cohort))


@functools.cache
def rule_environments():
    """Environment files of all rules, computed once (when the first job asks)."""
    return report_prov.rule_env_files(rules=workflow.rules)


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
