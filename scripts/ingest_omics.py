"""Rule ``ingest_omics``: one omics matrix -> ``data/{modality}.parquet`` + audit."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.ingest_omics,
        spec=sm.params.spec,
        clinical=sm.input.clinical,
        clinical_audit=sm.input.clinical_audit,
        tumour_types=sm.params.tumour_types,
        out_parquet=sm.output.parquet,
        out_audit=sm.output.audit,
    )
