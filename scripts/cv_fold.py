"""Rule ``cv_fold``: fit one model on the outer training folds of one repeat in turn."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.cv_fold,
        model=sm.wildcards.model,
        repeat=int(sm.wildcards.repeat),
        modelling=sm.params.modelling,
        clinical=sm.input.clinical,
        omics=dict(zip(sm.params.modalities, sm.input.omics, strict=True)),
        endpoint=sm.params.endpoint,
        splits=sm.input.splits,
        grid=sm.input.grid,
        out_predictions=sm.output.predictions,
        out_selected=sm.output.selected,
        out_excluded=sm.output.excluded,
    )
