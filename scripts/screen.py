"""Rule ``screen``: univariate Cox screening of one modality."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.screen,
        matrix=sm.input.matrix,
        clinical=sm.input.clinical,
        endpoint=sm.params.endpoint,
        ties=sm.params.ties,
        out=sm.output[0],
    )
