rule report:
    input:
        clinical="results/{cohort}/data/clinical.parquet",
        audit="results/{cohort}/data/audit.tsv",
        screens=lambda wc: [
            f"results/{wc.cohort}/screening/{m}.univariate_cox.tsv"
            for m in SETTINGS.modalities(wc.cohort)
        ],
        km_table="results/{cohort}/km/km_by_group.tsv",
        km_medians="results/{cohort}/km/medians.tsv",
        km_logrank="results/{cohort}/km/logrank.tsv",
        km_excluded="results/{cohort}/km/excluded.tsv",
    output:
        report(
            "results/{cohort}/report.html",
            caption="../report/cohort_report.rst",
            category="Cohort report",
        ),
    log:
        "results/logs/{cohort}/report.log",
    conda:
        "../../envs/report.yaml"
    envmodules:
        "survomics/report",
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        modalities=lambda wc: SETTINGS.modalities(wc.cohort),
        endpoint=lambda wc: SETTINGS.endpoint(wc.cohort).name,
        settings=SETTINGS.config,
    script:
        "../../scripts/report.py"
