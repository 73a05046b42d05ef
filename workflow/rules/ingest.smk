rule ingest_clinical:
    input:
        table=lambda wc: SETTINGS.clinical(wc.cohort).path,
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
        mem_mb=lambda wc, input, attempt: max(1000, 20 * input.size_mb) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        spec=lambda wc: SETTINGS.clinical(wc.cohort),
        endpoint=lambda wc: SETTINGS.endpoint(wc.cohort),
    script:
        "../../scripts/ingest_clinical.py"


rule ingest_omics:
    input:
        table=lambda wc: SETTINGS.omics(wc.cohort, wc.modality).path,
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
        mem_mb=lambda wc, input, attempt: max(1000, 20 * input.size_mb) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        spec=lambda wc: SETTINGS.omics(wc.cohort, wc.modality),
        tumour_types=config["samples"]["tumour_types"],
    script:
        "../../scripts/ingest_omics.py"


rule audit:
    input:
        lambda wc: [f"results/{wc.cohort}/data/audit/clinical.tsv"]
        + [
            f"results/{wc.cohort}/data/audit/{m}.tsv"
            for m in SETTINGS.modalities(wc.cohort)
        ],
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
