"""Rule ``ingest_clinical``: a cohort's clinical table -> ``data/clinical.parquet`` + audit."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.ingest_clinical,
        spec=sm.params.spec,
        endpoint=sm.params.endpoint,
        out_parquet=sm.output.parquet,
        out_audit=sm.output.audit,
    )
