# Leakage-free modelling: outer splits, one job per (model, outer repeat) that fits the
# repeat's folds in turn, gather, final models, external validation, biomarkers and the
# treatment-interaction screen.
# Functions: survomics.model.steps; models and their settings: config `modelling:`.


rule cv_splits:
    input:
        clinical="results/{cohort}/data/clinical.parquet",
    output:
        splits="results/{cohort}/cv/splits.tsv",
        grid="results/{cohort}/cv/time_grid.tsv",
    log:
        "results/logs/{cohort}/cv_splits.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        modelling=MODELLING,
    script:
        "../../scripts/cv_splits.py"


rule cv_fold:
    input:
        unpack(model_inputs),
        splits="results/{cohort}/cv/splits.tsv",
        grid="results/{cohort}/cv/time_grid.tsv",
    output:
        predictions="results/{cohort}/cv/{model}/r{repeat}/predictions.parquet",
        selected="results/{cohort}/cv/{model}/r{repeat}/selected.tsv",
        excluded="results/{cohort}/cv/{model}/r{repeat}/excluded.tsv",
    log:
        "results/logs/{cohort}/cv_fold.{model}.r{repeat}.log",
    benchmark:
        "results/benchmarks/{cohort}/cv_fold.{model}.r{repeat}.tsv"
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    threads: 1
    resources:
        # the folds are fitted one after the other: memory of one fit, time of K
        mem_mb=lambda wc, input, attempt: max(2000, 20 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 60 * MODELLING["outer_folds"] * attempt,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        modelling=MODELLING,
        modalities=lambda wc: model_modalities(wc.model),
    script:
        "../../scripts/cv_fold.py"


rule cv_gather:
    input:
        unpack(fold_outputs),
        clinical="results/{cohort}/data/clinical.parquet",
        grid="results/{cohort}/cv/time_grid.tsv",
    output:
        predictions="results/{cohort}/models/{model}/oof_predictions.parquet",
        metrics="results/{cohort}/models/{model}/metrics_per_repeat.tsv",
        calibration="results/{cohort}/models/{model}/calibration.tsv",
        groups="results/{cohort}/models/{model}/risk_groups.tsv",
        groups_km="results/{cohort}/models/{model}/risk_groups_km.tsv",
        groups_logrank="results/{cohort}/models/{model}/risk_groups_logrank.tsv",
        selection="results/{cohort}/models/{model}/selection.tsv",
    log:
        "results/logs/{cohort}/cv_gather.{model}.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        evaluation=MODELLING["evaluation"],
    script:
        "../../scripts/cv_gather.py"


rule metrics:
    input:
        lambda wc: expand(
            "results/{cohort}/models/{model}/metrics_per_repeat.tsv",
            cohort=wc.cohort,
            model=MODELS,
        ),
    output:
        report(
            "results/{cohort}/models/metrics.tsv",
            caption="../report/metrics.rst",
            category="Models",
        ),
    log:
        "results/logs/{cohort}/metrics.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/metrics.py"


rule biomarkers:
    input:
        selection=lambda wc: f"results/{wc.cohort}/models/{biomarker_model(wc.modality)}/selection.tsv",
        screening="results/{cohort}/screening/{modality}.univariate_cox.tsv",
    output:
        report(
            "results/{cohort}/biomarkers/{modality}.tsv",
            caption="../report/biomarkers.rst",
            category="Biomarkers",
        ),
    log:
        "results/logs/{cohort}/biomarkers.{modality}.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n_splits=len(SPLITS),
    script:
        "../../scripts/biomarkers.py"


rule final_model:
    input:
        unpack(model_inputs),
    output:
        model="results/{cohort}/models/{model}/model.joblib",
        sidecar="results/{cohort}/models/{model}/model.json",
        ph="results/{cohort}/models/{model}/ph_test.tsv",
    log:
        "results/logs/{cohort}/final_model.{model}.log",
    benchmark:
        "results/benchmarks/{cohort}/final_model.{model}.tsv"
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=lambda wc, input, attempt: max(2000, 20 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        modelling=MODELLING,
        modalities=lambda wc: model_modalities(wc.model),
    script:
        "../../scripts/final_model.py"


rule score:
    input:
        unpack(score_inputs),
    output:
        predictions="results/{test}/validation/{train}/{model}/predictions.parquet",
        metrics="results/{test}/validation/{train}/{model}/metrics.tsv",
        curves="results/{test}/validation/{train}/{model}/survival_curves.parquet",
        missing="results/{test}/validation/{train}/{model}/missing_features.tsv",
    log:
        "results/logs/{test}/score.{train}.{model}.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        endpoint=lambda wc: endpoint_name(wc.test),
        evaluation=MODELLING["evaluation"],
        grid_points=MODELLING["evaluation"]["grid_points"],
        modalities=lambda wc: model_modalities(wc.model),
    script:
        "../../scripts/score.py"


rule predictive:
    input:
        matrix="results/{cohort}/data/{modality}.parquet",
        clinical="results/{cohort}/data/clinical.parquet",
    output:
        table="results/{cohort}/predictive/{modality}.interaction.tsv",
        km="results/{cohort}/predictive/{modality}.km_by_arm.tsv",
        excluded="results/{cohort}/predictive/{modality}.excluded.tsv",
    log:
        "results/logs/{cohort}/predictive.{modality}.log",
    conda:
        "../../envs/modelling.yaml"
    envmodules:
        "survomics/modelling",
    resources:
        mem_mb=lambda wc, input, attempt: max(1000, 6 * input_mb(input)) * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        endpoint=lambda wc: endpoint_name(wc.cohort),
        treatment=MODELLING["treatment"],
        ties=SETTINGS.config["screening"]["ties"],
    script:
        "../../scripts/predictive.py"
