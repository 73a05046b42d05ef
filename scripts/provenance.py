"""Rule ``provenance``: checksums, configuration, versions and git state of a cohort."""

from survomics import provenance
from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        provenance.provenance_rule,
        cohort=sm.wildcards.cohort,
        inputs=list(sm.input.data),
        outputs=list(sm.input.outputs),
        config=sm.params.config,
        rule_environments=sm.params.rule_environments,
        source=sm.params.source,
        snakemake_version=sm.params.snakemake_version,
        rows=sm.params.rows,
        out=sm.output[0],
    )
