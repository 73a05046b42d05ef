"""Rule ``score``: a frozen model of one cohort applied to another cohort."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.score_cohort,
        model=sm.wildcards.model,
        model_path=sm.input.model,
        clinical=sm.input.clinical,
        omics=dict(zip(sm.params.modalities, sm.input.omics, strict=True)),
        endpoint=sm.params.endpoint,
        evaluation=sm.params.evaluation,
        grid_points=sm.params.grid_points,
        out_predictions=sm.output.predictions,
        out_metrics=sm.output.metrics,
        out_curves=sm.output.curves,
        out_missing=sm.output.missing,
    )
