"""Rule ``kaplan_meier``: KM estimates, medians and log-rank test by a clinical group."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.kaplan_meier,
        clinical=sm.input.clinical,
        endpoint=sm.params.endpoint,
        group=sm.params.group,
        out_table=sm.output.table,
        out_medians=sm.output.medians,
        out_logrank=sm.output.logrank,
        out_excluded=sm.output.excluded,
    )
