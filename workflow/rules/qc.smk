rule intake_qc:
    input:
        files=lambda wc: [
            path for spec in cohort_specs(wc.cohort) for path in spec_files(spec)
        ],
        clinical="results/{cohort}/data/clinical.parquet",
        matrices=lambda wc: [
            f"results/{wc.cohort}/data/{m}.parquet"
            for m in cohort_modalities(wc.cohort)
        ],
        audit="results/{cohort}/data/audit.tsv",
    output:
        html=report(
            "results/{cohort}/qc/intake.html",
            caption="../report/intake_qc.rst",
            category="Intake QC",
        ),
        tsv="results/{cohort}/qc/intake.tsv",
    log:
        "results/logs/{cohort}/intake_qc.log",
    conda:
        "../../envs/report.yaml"
    envmodules:
        "survomics/report",
    resources:
        mem_mb=lambda wc, input, attempt: max(1000, 4 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        specs=lambda wc: cohort_specs(wc.cohort),
        modalities=lambda wc: cohort_modalities(wc.cohort),
        endpoint=lambda wc: endpoint_name(wc.cohort),
    script:
        "../../scripts/intake_qc.py"
