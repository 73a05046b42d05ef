"""Rule ``read_anndata``: an ``.h5ad`` row -> ``data/raw/{modality}.parquet`` + audit."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.read_anndata,
        spec=sm.params.spec,
        out_parquet=sm.output.parquet,
        out_audit=sm.output.audit,
    )
