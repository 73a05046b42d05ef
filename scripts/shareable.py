"""Rule ``shareable``: per-patient tables for sharing, ids pseudonymised if configured."""

from survomics import workflow as wf
from survomics.privacy import write_shareable

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    names = list(sm.params.names)
    wf.run_rule(
        sm.log[0],
        write_shareable,
        privacy=sm.params.privacy,
        tables={name: sm.input[name] for name in names},
        out=dict(zip(names, sm.output, strict=True)),
    )
