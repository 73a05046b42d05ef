"""Rule ``intake_qc``: the intake QC report of one cohort -> ``qc/intake.html`` + ``.tsv``."""

from survomics import workflow as wf
from survomics.qc import intake_qc

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        intake_qc,
        cohort=sm.wildcards.cohort,
        specs=sm.params.specs,
        clinical=sm.input.clinical,
        modalities=dict(zip(sm.params.modalities, sm.input.matrices, strict=True)),
        audit=sm.input.audit,
        endpoint=sm.params.endpoint,
        out_html=sm.output.html,
        out_tsv=sm.output.tsv,
    )
