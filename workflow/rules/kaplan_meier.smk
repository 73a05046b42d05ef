rule kaplan_meier:
    input:
        clinical="results/{cohort}/data/clinical.parquet",
    output:
        table="results/{cohort}/km/km_by_group.tsv",
        medians="results/{cohort}/km/medians.tsv",
        logrank="results/{cohort}/km/logrank.tsv",
        excluded="results/{cohort}/km/excluded.tsv",
    log:
        "results/logs/{cohort}/kaplan_meier.log",
    conda:
        "../../envs/survival.yaml"
    envmodules:
        "survomics/survival",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        group=SETTINGS.config["kaplan_meier"]["group"],
    script:
        "../../scripts/kaplan_meier.py"
