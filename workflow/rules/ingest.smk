rule ingest_clinical:
    input:
        table=lambda wc: spec_files(clinical_spec(wc.cohort)),
    output:
        parquet="results/{cohort}/data/clinical.parquet",
        audit="results/{cohort}/data/audit/clinical.tsv",
    log:
        "results/logs/{cohort}/ingest_clinical.log",
    conda:
        "../../envs/ingest.yaml"
    envmodules:
        "survomics/ingest",
    resources:
        mem_mb=lambda wc, input, attempt: max(1000, 20 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        spec=lambda wc: clinical_spec(wc.cohort),
        endpoint=lambda wc: endpoint_spec(wc.cohort),
    script:
        "../../scripts/ingest_clinical.py"


rule read_anndata:
    input:
        lambda wc: spec_files(omics_spec(wc.cohort, wc.modality)),
    output:
        parquet="results/{cohort}/data/raw/{modality}.parquet",
        audit="results/{cohort}/data/audit/{modality}.read.tsv",
    log:
        "results/logs/{cohort}/read_anndata.{modality}.log",
    benchmark:
        "results/benchmarks/{cohort}/read_anndata.{modality}.tsv"
    conda:
        "../../envs/singlecell.yaml"
    envmodules:
        "survomics/singlecell",
    resources:
        mem_mb=lambda wc, input, attempt: max(2000, 10 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        spec=lambda wc: omics_spec(wc.cohort, wc.modality),
    script:
        "../../scripts/read_anndata.py"


rule ingest_omics:
    input:
        table=lambda wc: ingest_inputs(wc.cohort, wc.modality),
        clinical="results/{cohort}/data/clinical.parquet",
        clinical_audit="results/{cohort}/data/audit/clinical.tsv",
    output:
        parquet="results/{cohort}/data/{modality}.parquet",
        audit="results/{cohort}/data/audit/{modality}.tsv",
    log:
        "results/logs/{cohort}/ingest_omics.{modality}.log",
    benchmark:
        "results/benchmarks/{cohort}/ingest_omics.{modality}.tsv"
    conda:
        "../../envs/ingest.yaml"
    envmodules:
        "survomics/ingest",
    resources:
        mem_mb=lambda wc, input, attempt: max(1000, 20 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        spec=lambda wc: ingest_spec(wc.cohort, wc.modality),
        tumour_types=SETTINGS.config["samples"]["tumour_types"],
    script:
        "../../scripts/ingest_omics.py"


rule audit:
    input:
        lambda wc: audit_inputs(wc.cohort),
    output:
        "results/{cohort}/data/audit.tsv",
    log:
        "results/logs/{cohort}/audit.log",
    conda:
        "../../envs/ingest.yaml"
    envmodules:
        "survomics/ingest",
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/audit.py"


rule export_mudata:
    input:
        clinical="results/{cohort}/data/clinical.parquet",
        modalities=lambda wc: [
            f"results/{wc.cohort}/data/{m}.parquet"
            for m in cohort_modalities(wc.cohort)
        ],
    output:
        "results/{cohort}/data/{cohort}.h5mu",
    log:
        "results/logs/{cohort}/export_mudata.log",
    conda:
        "../../envs/singlecell.yaml"
    envmodules:
        "survomics/singlecell",
    resources:
        mem_mb=lambda wc, input, attempt: max(2000, 4 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 20 * attempt,
    params:
        modalities=lambda wc: cohort_modalities(wc.cohort),
    script:
        "../../scripts/export_mudata.py"
