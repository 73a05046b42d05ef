"""Rule ``report``: the self-contained HTML report of one cohort."""

from survomics import workflow as wf
from survomics.report import build_report

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    inp, par = sm.input, sm.params
    model_files = {name: list(inp[name]) for name in par.model_files if inp.get(name) is not None}
    wf.run_rule(
        sm.log[0],
        build_report,
        cohort=sm.wildcards.cohort,
        endpoint=par.endpoint,
        settings=par.settings,
        clinical=inp.clinical,
        audit=inp.audit,
        screens=dict(zip(par.modalities, inp.screens, strict=True)),
        km={
            "table": inp.km_table,
            "logrank": inp.km_logrank,
            "medians": inp.km_medians,
            "excluded": inp.km_excluded,
        },
        models=list(par.models),
        metrics=inp.get("metrics"),
        model_files=model_files,
        biomarkers=dict(zip(par.biomarker_modalities, inp.biomarkers, strict=True)),
        predictive=dict(zip(par.predictive_modalities, inp.predictive, strict=True)),
        validation=[
            (train, model, metrics, missing)
            for (train, model), metrics, missing in zip(
                par.validations, inp.validation_metrics, inp.validation_missing, strict=True
            )
        ],
        data_files=list(inp.data),
        source=par.source,
        snakemake_version=par.snakemake_version,
        out=sm.output[0],
    )
