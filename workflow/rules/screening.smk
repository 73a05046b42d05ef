rule screen:
    input:
        matrix="results/{cohort}/data/{modality}.parquet",
        clinical="results/{cohort}/data/clinical.parquet",
    output:
        "results/{cohort}/screening/{modality}.univariate_cox.tsv",
    log:
        "results/logs/{cohort}/screen.{modality}.log",
    benchmark:
        "results/benchmarks/{cohort}/screen.{modality}.tsv"
    conda:
        "../../envs/survival.yaml"
    envmodules:
        "survomics/survival",
    resources:
        mem_mb=lambda wc, input, attempt: max(1000, 6 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        ties=SETTINGS.config["screening"]["ties"],
    script:
        "../../scripts/screen.py"
