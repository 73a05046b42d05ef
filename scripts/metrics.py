"""Rule ``metrics``: every model's metrics with 95% intervals across repeats."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(sm.log[0], steps.metrics_table, inputs=list(sm.input), out=sm.output[0])
