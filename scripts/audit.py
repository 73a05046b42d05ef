"""Rule ``audit``: a cohort's per-file audits -> ``data/audit.tsv``."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(sm.log[0], wf.gather_audit, inputs=list(sm.input), out=sm.output[0])
