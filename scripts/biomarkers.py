"""Rule ``biomarkers``: selection frequency of one modality's features across folds."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.biomarkers,
        modality=sm.wildcards.modality,
        selection=sm.input.selection,
        screening=sm.input.screening,
        n_splits=sm.params.n_splits,
        out=sm.output[0],
    )
