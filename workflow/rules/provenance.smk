from snakemake import __version__ as SNAKEMAKE_VERSION

from survomics import provenance as prov


rule provenance:
    input:
        outputs=lambda wc: prov.final_outputs(
            outputs=cohort_outputs(wc.cohort), cohort=wc.cohort
        ),
        data=lambda wc: cohort_data_files(wc.cohort),
    output:
        "results/{cohort}/provenance.json",
    log:
        "results/logs/{cohort}/provenance.log",
    localrule: True
    conda:
        "../../envs/report.yaml"
    envmodules:
        "survomics/report",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        config=SETTINGS.config,
        rule_environments=lambda wc: rule_environments(),
        source=workflow.basedir,
        rows=lambda wc: prov.sheet_rows(settings=SETTINGS, cohort=wc.cohort),
        snakemake_version=SNAKEMAKE_VERSION,
    script:
        "../../scripts/provenance.py"
