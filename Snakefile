# survomics: multi-omics biomarker discovery with survival outcomes.
# The workflow is in workflow/Snakefile; run it with `make run` (see README.md).


include: "workflow/Snakefile"


# The default target lives here: Snakemake takes it from the main Snakefile only.
rule all:
    default_target: True
    input:
        all_outputs(),
