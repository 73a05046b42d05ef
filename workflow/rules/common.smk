# Configuration is validated here, before the DAG is built (see survomics.config).
import re

from snakemake.exceptions import WorkflowError

from survomics.config import ConfigValidationError, load_settings

try:
    SETTINGS = load_settings(config, config_path="config/config.yaml", base=".")
except ConfigValidationError as exc:
    raise WorkflowError(str(exc)) from None

COHORTS = SETTINGS.cohorts


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),
    modality="|".join(
        sorted({re.escape(m) for c in COHORTS for m in SETTINGS.modalities(c)})
    ),


def all_outputs():
    """Every final output of every cohort of the sheet."""
    out = []
    for cohort in COHORTS:
        out += [
            f"results/{cohort}/data/clinical.parquet",
            f"results/{cohort}/data/audit.tsv",
            f"results/{cohort}/report.html",
        ]
        for modality in SETTINGS.modalities(cohort):
            out += [
                f"results/{cohort}/data/{modality}.parquet",
                f"results/{cohort}/screening/{modality}.univariate_cox.tsv",
            ]
    return out
