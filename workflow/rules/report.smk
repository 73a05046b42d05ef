# The per-cohort report, the shareable per-patient tables and the index across cohorts.
# Functions: survomics.report (build_report, build_index), survomics.privacy (write_shareable);
# input functions in common.smk.
rule report:
    input:
        unpack(report_inputs),
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
        modalities=lambda wc: cohort_modalities(wc.cohort),
        biomarker_modalities=lambda wc: biomarker_modalities(wc.cohort),
        predictive_modalities=lambda wc: predictive_modalities(wc.cohort),
        validations=lambda wc: validations_of(wc.cohort),
        models=MODELS,
        model_files=list(REPORT_MODEL_FILES),
        endpoint=lambda wc: endpoint_name(wc.cohort),
        settings=SETTINGS.config,
        source=workflow.basedir,
        snakemake_version=REPORT_SNAKEMAKE_VERSION,
    script:
        "../../scripts/report.py"


rule shareable:
    input:
        unpack(shareable_tables),
        key=PRIVACY_KEY,
    output:
        [
            report(
                f"results/{{cohort}}/shareable/{name}.tsv",
                caption="../report/shareable.rst",
                category="Shareable tables",
            )
            for name in ["clinical", "audit", "km_excluded"]
            + [f"risk_groups.{m}" for m in MODELS]
        ],
    log:
        "results/logs/{cohort}/shareable.log",
    conda:
        "../../envs/report.yaml"
    envmodules:
        "survomics/report",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        names=["clinical", "audit", "km_excluded"]
        + [f"risk_groups.{m}" for m in MODELS],
        privacy=PRIVACY,
    script:
        "../../scripts/shareable.py"


rule index:
    input:
        reports=expand("results/{cohort}/report.html", cohort=COHORTS),
        clinical=expand("results/{cohort}/data/clinical.parquet", cohort=COHORTS),
        metrics=(
            expand("results/{cohort}/models/metrics.tsv", cohort=COHORTS)
            if MODELS
            else []
        ),
    output:
        report(
            "results/index.html",
            caption="../report/index.rst",
            category="Cohort report",
        ),
    log:
        "results/logs/index.log",
    conda:
        "../../envs/report.yaml"
    envmodules:
        "survomics/report",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cohorts=COHORTS,
        endpoints=[endpoint_name(c) for c in COHORTS],
    script:
        "../../scripts/index.py"
