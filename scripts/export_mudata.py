"""Rule ``export_mudata``: a cohort's harmonized data -> ``data/{cohort}.h5mu``."""

from survomics import workflow as wf

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    wf.run_rule(
        sm.log[0],
        wf.export_mudata,
        clinical=sm.input.clinical,
        modalities=dict(zip(sm.params.modalities, sm.input.modalities, strict=True)),
        out=sm.output[0],
    )
