"""Rule ``final_model``: refit one model on the whole cohort and freeze it."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.final_model,
        model=sm.wildcards.model,
        modelling=sm.params.modelling,
        clinical=sm.input.clinical,
        omics=dict(zip(sm.params.modalities, sm.input.omics, strict=True)),
        endpoint=sm.params.endpoint,
        out_model=sm.output.model,
        out_ph=sm.output.ph,
    )
