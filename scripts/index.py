"""Rule ``index``: results/index.html linking every cohort's report."""

from survomics import workflow as wf
from survomics.report import build_index

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        build_index,
        cohorts=list(sm.params.cohorts),
        endpoints=list(sm.params.endpoints),
        clinical=list(sm.input.clinical),
        metrics=list(sm.input.metrics) or None,
        out=sm.output[0],
    )
