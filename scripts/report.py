"""Rule ``report``: the self-contained HTML report of one cohort."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.report,
        cohort=sm.wildcards.cohort,
        clinical=sm.input.clinical,
        audit=sm.input.audit,
        screens=dict(zip(sm.params.modalities, sm.input.screens, strict=True)),
        km_table=sm.input.km_table,
        km_logrank=sm.input.km_logrank,
        km_medians=sm.input.km_medians,
        km_excluded=sm.input.km_excluded,
        settings=sm.params.settings,
        endpoint=sm.params.endpoint,
        out=sm.output[0],
    )
