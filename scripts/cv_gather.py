"""Rule ``cv_gather``: out-of-fold predictions and per-repeat metrics of one model."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.cv_gather,
        model=sm.wildcards.model,
        predictions=list(sm.input.predictions),
        selected=list(sm.input.selected),
        clinical=sm.input.clinical,
        endpoint=sm.params.endpoint,
        grid=sm.input.grid,
        evaluation=sm.params.evaluation,
        out_predictions=sm.output.predictions,
        out_metrics=sm.output.metrics,
        out_calibration=sm.output.calibration,
        out_groups=sm.output.groups,
        out_groups_km=sm.output.groups_km,
        out_groups_logrank=sm.output.groups_logrank,
        out_selection=sm.output.selection,
    )
