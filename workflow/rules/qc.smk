rule intake_qc:
    input:
        files=lambda wc: [
            path
            for spec in SETTINGS.files
            if spec.cohort == wc.cohort
            for path in formats.input_files(spec)
        ],
        clinical="results/{cohort}/data/clinical.parquet",
        matrices=lambda wc: [
            f"results/{wc.cohort}/data/{m}.parquet"
            for m in SETTINGS.modalities(wc.cohort)
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
        mem_mb=lambda wc, input, attempt: max(1000, 4 * input.size_mb) * attempt,
        runtime=lambda wc, attempt: 10 * attempt,
    params:
        specs=lambda wc: [spec for spec in SETTINGS.files if spec.cohort == wc.cohort],
        modalities=lambda wc: SETTINGS.modalities(wc.cohort),
        endpoint=lambda wc: SETTINGS.endpoint(wc.cohort).name,
    script:
        "../../scripts/intake_qc.py"
