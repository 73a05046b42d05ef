"""Rule ``predictive``: feature x treatment interaction screen of one modality."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        steps.predictive_screen,
        modality=sm.wildcards.modality,
        matrix=sm.input.matrix,
        clinical=sm.input.clinical,
        endpoint=sm.params.endpoint,
        treatment=sm.params.treatment,
        ties=sm.params.ties,
        out_table=sm.output.table,
        out_km=sm.output.km,
        out_excluded=sm.output.excluded,
    )
