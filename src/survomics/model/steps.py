"""The functions behind the modelling rules of the workflow, one per rule.

Each takes plain paths and settings, writes its outputs atomically and logs what it did;
``scripts/*.py`` call them through :func:`survomics.workflow.run_rule`. The modelling
library itself is :mod:`survomics.model.core` (data, models, cross-validation,
persistence) and :mod:`survomics.model.evaluate`.

Outputs (``results/{cohort}/``)
-------------------------------
``cv/splits.tsv``, ``cv/time_grid.tsv``
    Outer fold assignment (from the config seed only) and the time grid of predicted
    survival curves.
``cv/{model}/r{repeat}/``
    The outer folds of one repeat of one model (one job fits them in turn):
    ``predictions.parquet`` (each fold's held-out patients), ``selected.tsv`` (features
    each fold's model uses) and ``excluded.tsv``, each with a ``fold`` column.
``models/{model}/``
    ``oof_predictions.parquet``, ``metrics_per_repeat.tsv``, ``calibration.tsv``,
    ``risk_groups.tsv`` (+ ``risk_groups_km.tsv``, ``risk_groups_logrank.tsv``),
    ``selection.tsv``; the final model ``model.joblib`` + ``model.json`` and
    ``ph_test.tsv``.
``models/metrics.tsv``
    Every model's metrics: mean and 95% interval across repeats, per-repeat values.
``biomarkers/{modality}.tsv``
    Selection frequency across outer folds, mean coefficient, univariate HR and q.
``predictive/{modality}.interaction.tsv``
    Feature x treatment interaction screen (when ``modelling.treatment`` is set).
``results/{test}/validation/{train}/{model}/``
    A frozen model of ``train`` scored on ``test``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from survomics.io import write_parquet, write_tsv
from survomics.specs import DAYS_PER_UNIT

LOG = logging.getLogger("survomics")

__all__ = [
    "biomarkers",
    "config_hash",
    "cv_fold",
    "cv_gather",
    "cv_splits",
    "final_model",
    "metrics_table",
    "predictive_screen",
    "score_cohort",
    "split_names",
]


def split_names(*, folds: int, repeats: int) -> list[str]:
    """Names of the outer splits, ``r{repeat}f{fold}`` (0-based, as in ``splits.tsv``)."""
    return [f"r{r}f{k}" for r in range(repeats) for k in range(folds)]


def _parse_repeat(path: str | Path) -> int:
    """The repeat of a per-repeat output ``.../cv/{model}/r{repeat}/<file>``."""
    return int(Path(path).parent.name.removeprefix("r"))


def config_hash(modelling: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the ``modelling`` settings."""
    text = json.dumps(modelling, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _days(value: float, unit: str) -> float:
    return float(value) * DAYS_PER_UNIT[unit]


def _endpoint_arrays(clinical: pl.DataFrame, endpoint: str) -> pl.DataFrame:
    return clinical.select(
        pl.col("patient_id"),
        pl.col(f"{endpoint}_time").cast(pl.Float64).alias("time"),
        pl.col(f"{endpoint}_event").cast(pl.Float64).alias("event"),
    ).filter(pl.col("time").is_not_null() & pl.col("event").is_not_null())


def cv_splits(
    *,
    clinical: str | Path,
    endpoint: str,
    folds: int,
    repeats: int,
    seed: int,
    horizons: Sequence[float],
    time_unit: str,
    grid_points: int,
    out_splits: str | Path,
    out_grid: str | Path,
) -> None:
    """Rule ``cv_splits``: outer fold assignment and the survival-curve time grid.

    The grid holds ``grid_points`` quantiles (10th to 90th percentile) of the observed
    follow-up times plus every horizon inside the follow-up; it only fixes where curves
    are evaluated, nothing is fitted on it.
    """
    from survomics.model.splits import outer_splits  # noqa: PLC0415

    data = _endpoint_arrays(pl.read_parquet(clinical), endpoint).sort("patient_id")
    splits = outer_splits(
        data["event"].to_numpy(),
        data["patient_id"].to_list(),
        folds=folds,
        repeats=repeats,
        seed=seed,
    )
    time = data["time"].to_numpy()
    grid = np.quantile(time, np.linspace(0.1, 0.9, grid_points))
    horizon_days = [_days(h, time_unit) for h in horizons]
    inside = [h for h in horizon_days if time.min() < h < time.max()]
    grid = np.unique(np.round(np.concatenate([grid, inside]), 6))
    LOG.info(
        "%d patients (%d events), %d folds x %d repeats, seed %d; grid of %d times",
        data.height,
        int(data["event"].sum()),
        folds,
        repeats,
        seed,
        grid.size,
    )
    write_tsv(splits, out_splits)
    write_tsv(pl.DataFrame({"time": grid}), out_grid)


def _spec(name: str, modelling: Mapping[str, Any]) -> Any:
    """The :class:`~survomics.model.models.ModelSpec` of model ``name`` from the config."""
    from survomics.model.core import ModalitySettings, ModelSpec  # noqa: PLC0415

    model = modelling["models"][name]
    modalities = tuple(model.get("modalities", ()))
    settings = {
        m: ModalitySettings(**{**modelling["preprocessing"], **modelling["modalities"].get(m, {})})
        for m in modalities
    }
    uses_covariates = model["kind"] == "clinical" or bool(model.get("clinical"))
    return ModelSpec(
        name=name,
        kind=model["kind"],
        modalities=modalities,
        covariates=tuple(modelling["covariates"]) if uses_covariates else (),
        settings=settings,
        l1_ratio=modelling["coxnet"]["l1_ratio"],
        n_alphas=modelling["coxnet"]["n_alphas"],
        inner_folds=modelling["inner_folds"],
        rsf_trees=modelling["rsf"]["trees"],
        rsf_min_leaf=modelling["rsf"]["min_leaf"],
        rsf_time_points=modelling["rsf"]["time_points"],
        gbsa_trees=modelling["gbsa"]["trees"],
        gbsa_learning_rate=modelling["gbsa"]["learning_rate"],
        gbsa_max_depth=modelling["gbsa"]["max_depth"],
    )


def _load(
    clinical: str | Path, omics: Mapping[str, str | Path], endpoint: str, spec: Any
) -> tuple[Any, pl.DataFrame]:
    from survomics.model.core import load_cohort  # noqa: PLC0415

    return load_cohort(
        clinical=Path(clinical),
        omics={m: Path(p) for m, p in omics.items()},
        endpoint=endpoint,
        covariates=spec.covariates,
    )


def cv_fold(
    *,
    model: str,
    repeat: int,
    modelling: Mapping[str, Any],
    clinical: str | Path,
    omics: Mapping[str, str | Path],
    endpoint: str,
    splits: str | Path,
    grid: str | Path,
    out_predictions: str | Path,
    out_selected: str | Path,
    out_excluded: str | Path,
) -> None:
    """Rule ``cv_fold``: the outer folds of one repeat of one model, fitted in turn.

    Each fold is fitted on its training patients and predicts its held-out ones with the
    seed ``fold_seed(seed, repeat, fold)``, as a job of its own would; the data are read
    once for all folds. Every output has a leading ``fold`` column (Int32).
    """
    from survomics.model.core import run_split  # noqa: PLC0415

    spec = _spec(model, modelling)
    data, dropped = _load(clinical, omics, endpoint, spec)
    table = pl.read_csv(splits, separator="\t")
    times = pl.read_csv(grid, separator="\t")["time"].to_numpy()
    folds = sorted(table.filter(pl.col("repeat") == repeat)["fold"].unique().to_list())
    if not folds:
        msg = f"repeat {repeat} is not in {splits}"
        raise ValueError(msg)
    predictions, selected, excluded = [], [], []
    for fold in folds:
        train, test, result = run_split(
            spec, data, table, repeat=repeat, fold=fold, times=times, seed=int(modelling["seed"])
        )
        LOG.info(
            "model %s, split r%df%d: %d train, %d test patients, %d predicted, %d features used",
            model,
            repeat,
            fold,
            len(train),
            len(test),
            result.predictions.height,
            result.selected.height,
        )
        for note in result.notes:
            LOG.info("note: %s", note)
        fold_column = pl.lit(fold, pl.Int32).alias("fold")
        predictions.append(result.predictions.select(fold_column, pl.all()))
        selected.append(result.selected.select(fold_column, pl.all()))
        excluded.append(
            pl.concat(
                [
                    result.excluded.select("patient_id", "reason"),
                    dropped.select("patient_id", "reason").filter(pl.col("patient_id").is_in(test)),
                ]
            ).select(fold_column, pl.all())
        )
    write_parquet(pl.concat(predictions), out_predictions)
    write_tsv(pl.concat(selected, how="diagonal_relaxed"), out_selected)
    write_tsv(pl.concat(excluded), out_excluded)


def _survival_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("s_")]


def cv_gather(
    *,
    model: str,
    predictions: Sequence[str | Path],
    selected: Sequence[str | Path],
    clinical: str | Path,
    endpoint: str,
    grid: str | Path,
    evaluation: Mapping[str, Any],
    out_predictions: str | Path,
    out_metrics: str | Path,
    out_calibration: str | Path,
    out_groups: str | Path,
    out_groups_km: str | Path,
    out_groups_logrank: str | Path,
    out_selection: str | Path,
) -> None:
    """Rule ``cv_gather``: out-of-fold predictions of one model, metrics per repeat.

    Metrics are computed per repeat on the concatenated out-of-fold predictions of its
    folds (every patient predicted once, by a model that never saw it); the censoring
    distribution of the IPCW metrics is the Kaplan-Meier estimate of the whole cohort.
    Calibration uses each patient's predicted survival at the horizon averaged over
    repeats; risk groups put a patient in ``high`` when its out-of-fold risk is above
    the median of its repeat in more than half of the repeats.
    """
    from survomics.km import kaplan_meier, logrank_test  # noqa: PLC0415
    from survomics.model.evaluate import calibration, evaluate_repeat  # noqa: PLC0415

    frames = [
        pl.read_parquet(path).select(
            pl.lit(_parse_repeat(path), pl.Int32).alias("repeat"),
            pl.col("fold").cast(pl.Int32),
            pl.exclude("fold"),
        )
        for path in predictions
    ]
    oof = pl.concat(frames).sort("repeat", "patient_id")
    cohort = _endpoint_arrays(pl.read_parquet(clinical), endpoint)
    oof = oof.join(cohort, on="patient_id", how="inner", maintain_order="left")
    times = pl.read_csv(grid, separator="\t")["time"].to_numpy()
    surv_cols = _survival_columns(oof)
    unit = evaluation["time_unit"]
    horizons = [_days(h, unit) for h in evaluation["horizons"]]
    tau = None if evaluation["tau"] is None else _days(evaluation["tau"], unit)
    horizon = _days(evaluation["calibration_horizon"], unit)
    all_time = cohort["time"].to_numpy()
    all_event = cohort["event"].to_numpy()

    rows = []
    for (repeat,), part in oof.group_by("repeat", maintain_order=True):
        values = evaluate_repeat(
            time=part["time"].to_numpy(),
            event=part["event"].to_numpy(),
            risk=part["risk"].to_numpy(),
            survival=part.select(surv_cols).to_numpy(),
            times=times,
            horizons=horizons,
            tau=tau,
            calibration_horizon=horizon,
            train_time=all_time,
            train_event=all_event,
        )
        rows += [
            {"model": model, "repeat": repeat, "metric": k, "value": float(v), "n": part.height}
            for k, v in values.items()
        ]
    per_repeat = pl.DataFrame(
        rows,
        schema={
            "model": pl.String,
            "repeat": pl.Int32,
            "metric": pl.String,
            "value": pl.Float64,
            "n": pl.Int64,
        },
    )

    # Per patient: predicted survival at the horizon averaged over repeats; risk group by
    # majority over repeats of "above the median out-of-fold risk of the repeat".
    column = surv_cols[int(np.argmin(np.abs(times - horizon)))]
    by_patient = (
        oof.with_columns((pl.col("risk") > pl.col("risk").median().over("repeat")).alias("above"))
        .group_by("patient_id", maintain_order=True)
        .agg(
            pl.col("time").first(),
            pl.col("event").first(),
            pl.col(column).mean().alias("survival_at_horizon"),
            pl.col("risk").mean().alias("mean_risk"),
            (pl.col("above").mean() > 0.5).alias("high"),
        )
        .sort("patient_id")
        .with_columns(
            pl.when(pl.col("high")).then(pl.lit("high")).otherwise(pl.lit("low")).alias("group")
        )
        .drop("high")
    )
    calib = calibration(
        time=by_patient["time"].to_numpy(),
        event=by_patient["event"].to_numpy(),
        survival_at_horizon=by_patient["survival_at_horizon"].to_numpy(),
        horizon=horizon,
        groups=int(evaluation["calibration_groups"]),
    )
    groups = by_patient["group"].to_numpy()
    km = kaplan_meier(by_patient["time"].to_numpy(), by_patient["event"].to_numpy(), group=groups)
    if len(set(groups)) > 1:
        test = logrank_test(by_patient["time"].to_numpy(), by_patient["event"].to_numpy(), groups)
        chisq, df, p = test.chisq, test.df, test.p
    else:
        chisq, df, p = float("nan"), 0, float("nan")
    logrank = pl.DataFrame(
        {"model": [model], "chisq": [chisq], "df": [df], "p": [p], "n": [by_patient.height]}
    )

    selection = [
        pl.read_csv(
            path,
            separator="\t",
            schema_overrides={"fold": pl.Int32, "feature": pl.String},
            infer_schema_length=None,
        ).select(
            pl.lit(_parse_repeat(path), pl.Int32).alias("repeat"),
            pl.col("fold"),
            pl.exclude("fold"),
        )
        for path in selected
    ]
    LOG.info(
        "model %s: %d out-of-fold predictions over %d repeats",
        model,
        oof.height,
        per_repeat["repeat"].n_unique(),
    )
    write_parquet(oof.drop("time", "event"), out_predictions)
    write_tsv(per_repeat, out_metrics)
    write_tsv(calib, out_calibration)
    write_tsv(by_patient, out_groups)
    write_tsv(km, out_groups_km)
    write_tsv(logrank, out_groups_logrank)
    write_tsv(pl.concat(selection, how="diagonal_relaxed"), out_selection)


def metrics_table(*, inputs: Sequence[str | Path], out: str | Path) -> None:
    """Rule ``metrics``: every model's metrics with 95% intervals across repeats."""
    from survomics.model.evaluate import summarise  # noqa: PLC0415

    per_repeat = pl.concat([pl.read_csv(p, separator="\t") for p in inputs])
    table = summarise(per_repeat.select("model", "repeat", "metric", "value"))
    LOG.info("%d models, %d metric rows", per_repeat["model"].n_unique(), table.height)
    write_tsv(table, out)


def biomarkers(
    *,
    modality: str,
    selection: str | Path,
    screening: str | Path,
    n_splits: int,
    out: str | Path,
) -> None:
    """Rule ``biomarkers``: per feature of one modality, how often the outer folds chose it.

    ``frequency`` is the fraction of the ``n_splits`` outer training folds whose model
    used the feature; ``mean_coef`` averages its (standardised) coefficient over those
    folds (NaN for models without coefficients); ``hr``, ``hr_lower``, ``hr_upper``,
    ``p`` and ``q`` are the whole-cohort univariate Cox screen (descriptive: the folds
    never saw it); ``direction`` is ``risk`` (HR > 1) or ``protective``.
    """
    sel = pl.read_csv(selection, separator="\t", schema_overrides={"feature": pl.String})
    sel = sel.filter(pl.col("modality") == modality)
    counts = sel.group_by("feature").agg(
        (pl.len() / n_splits).alias("frequency"),
        pl.col("coef").mean().alias("mean_coef"),
        pl.len().alias("folds_selected"),
    )
    screen = pl.read_csv(screening, separator="\t", schema_overrides={"feature": pl.String})
    table = (
        screen.select("feature", "hr", "hr_lower", "hr_upper", "p", "q")
        .join(counts, on="feature", how="left")
        .with_columns(
            pl.col("frequency").fill_null(0.0),
            pl.col("folds_selected").fill_null(0),
            pl.when(pl.col("hr") > 1)
            .then(pl.lit("risk"))
            .when(pl.col("hr") < 1)
            .then(pl.lit("protective"))
            .otherwise(pl.lit("none"))
            .alias("direction"),
        )
        .select(
            "feature",
            "frequency",
            "folds_selected",
            "mean_coef",
            "hr",
            "hr_lower",
            "hr_upper",
            "p",
            "q",
            "direction",
        )
        .sort(["frequency", "p", "feature"], descending=[True, False, False], nulls_last=True)
    )
    LOG.info(
        "%s: %d features, %d chosen in at least one fold, %d in >= 80%% of folds",
        modality,
        table.height,
        int((table["frequency"] > 0).sum()),
        int((table["frequency"] >= 0.8).sum()),
    )
    write_tsv(table, out)


def final_model(
    *,
    model: str,
    modelling: Mapping[str, Any],
    clinical: str | Path,
    omics: Mapping[str, str | Path],
    endpoint: str,
    out_model: str | Path,
    out_ph: str | Path,
) -> None:
    """Rule ``final_model``: refit a model on the whole cohort and freeze it.

    Writes ``model.joblib`` with its JSON sidecar (features, coefficients, versions,
    config hash) and ``ph_test.tsv``: the proportional-hazards test (R ``cox.zph``, KM
    transform) of the model's risk score in the cohort, and for the ``clinical`` model of
    each of its terms (covariates imputed as the model imputes them).
    """
    from survomics.km import ph_test  # noqa: PLC0415
    from survomics.model.core import build_model, save_model  # noqa: PLC0415

    spec = _spec(model, modelling)
    data, dropped = _load(clinical, omics, endpoint, spec)
    fitted = build_model(spec).fit(data, seed=int(modelling["seed"]))
    eligible = fitted.eligible(data)
    save_model(
        fitted,
        Path(out_model),
        spec=spec,
        config_hash=config_hash(modelling),
        training_patients=[p for p, ok in zip(data.patients, eligible, strict=True) if ok],
        extra={"endpoint": endpoint, "excluded_patients": dropped.height},
    )
    risk = fitted.predict_risk(data)
    keep = eligible & np.isfinite(risk)
    time, event = data.time[keep], data.event[keep]
    tables = []
    if np.ptp(risk[keep]) > 0 and event.sum() > 1:
        score = ph_test(time, event, pl.DataFrame({"risk_score": risk[keep]}))
        tables.append(score.with_columns(pl.lit("risk_score").alias("test_of")))
    if spec.kind == "clinical" and fitted.clinical is not None:
        block = fitted.clinical
        kept = data.subset([p for p, ok in zip(data.patients, keep, strict=True) if ok])
        design = pl.DataFrame(block.transform(kept), schema=block.columns_, orient="row")
        terms = {
            c: [c] if c in block.numeric_ else [f"{c}={lv}" for lv in block.levels_[c][1:]]
            for c in block.covariates
        }
        terms = {c: cols for c, cols in terms.items() if cols}
        table = ph_test(time, event, design, terms=terms)
        tables.append(table.with_columns(pl.lit("clinical_terms").alias("test_of")))
    table = pl.concat(tables, how="diagonal_relaxed") if tables else pl.DataFrame()
    LOG.info("model %s refitted on %d patients; PH test rows: %d", model, keep.sum(), table.height)
    write_tsv(table, out_ph)


def score_cohort(
    *,
    model: str,
    model_path: str | Path,
    clinical: str | Path,
    omics: Mapping[str, str | Path],
    endpoint: str,
    evaluation: Mapping[str, Any],
    grid_points: int,
    out_predictions: str | Path,
    out_metrics: str | Path,
    out_curves: str | Path,
    out_missing: str | Path,
) -> None:
    """Rule ``score``: apply a frozen model to another cohort and evaluate it there.

    Features are aligned by name; features the model needs but the cohort lacks are
    listed in ``missing_features.tsv`` and take the training median. The IPCW metrics
    use the censoring distribution of the scored cohort.
    """
    from survomics.model.core import (  # noqa: PLC0415
        align_for_scoring,
        load_cohort,
        load_model,
    )
    from survomics.model.evaluate import evaluate_repeat  # noqa: PLC0415

    fitted = load_model(Path(model_path))
    sidecar = json.loads(Path(model_path).with_suffix(".json").read_text(encoding="utf-8"))
    data, _ = load_cohort(
        clinical=Path(clinical),
        omics={m: Path(p) for m, p in omics.items()},
        endpoint=endpoint,
        covariates=tuple(sidecar.get("covariates", ())),
    )
    aligned, missing = align_for_scoring(fitted, data)
    eligible = fitted.eligible(aligned)
    ids = [p for p, ok in zip(aligned.patients, eligible, strict=True) if ok]
    part = aligned.subset(ids)
    time, event = part.time, part.event
    grid = np.unique(np.round(np.quantile(time, np.linspace(0.1, 0.9, grid_points)), 6))
    risk = fitted.predict_risk(part)
    survival = fitted.predict_survival(part, grid)
    unit = evaluation["time_unit"]
    values = evaluate_repeat(
        time=time,
        event=event,
        risk=risk,
        survival=survival,
        times=grid,
        horizons=[_days(h, unit) for h in evaluation["horizons"]],
        tau=None if evaluation["tau"] is None else _days(evaluation["tau"], unit),
        calibration_horizon=_days(evaluation["calibration_horizon"], unit),
        train_time=time,
        train_event=event,
    )
    LOG.info(
        "model %s scored on %d patients (%d not scorable); %d missing features",
        model,
        len(ids),
        len(aligned.patients) - len(ids),
        missing.height,
    )
    curves = pl.DataFrame(
        {
            "patient_id": ids,
            **{f"s_{t:g}": survival[:, j] for j, t in enumerate(grid)},
        }
    )
    write_parquet(
        pl.DataFrame({"patient_id": ids, "risk": risk, "time": time, "event": event}),
        out_predictions,
    )
    write_tsv(
        pl.DataFrame(
            {
                "model": model,
                "metric": list(values),
                "value": [float(v) for v in values.values()],
                "n": len(ids),
            }
        ),
        out_metrics,
    )
    write_parquet(curves, out_curves)
    write_tsv(missing, out_missing)


def predictive_screen(
    *,
    modality: str,
    matrix: str | Path,
    clinical: str | Path,
    endpoint: str,
    treatment: str,
    ties: str,
    out_table: str | Path,
    out_km: str | Path,
    out_excluded: str | Path,
) -> None:
    """Rule ``predictive``: feature x treatment interaction screen of one modality.

    Each feature gets one Cox model per treatment arm (:func:`survomics.cox.cox_screen`,
    all features at once). In the Cox model stratified by arm with arm-specific feature
    effects, the likelihood factorises by arm, so these per-arm fits are its maximum
    and the Wald test of equal effects across arms (Cochran's Q,
    ``sum w_a (b_a - b_w)^2`` with ``w_a = 1/se_a^2``, ``k - 1`` degrees of freedom; for
    two arms ``(b_1 - b_0)^2 / (se_0^2 + se_1^2)``) is the test of the feature x
    treatment interaction. ``km.tsv`` gives the Kaplan-Meier curves of the top feature
    (smallest interaction p), split at its cohort median, within each arm.
    """
    from scipy import special  # noqa: PLC0415

    from survomics.cox import benjamini_hochberg, cox_screen  # noqa: PLC0415
    from survomics.errors import InputError  # noqa: PLC0415
    from survomics.km import kaplan_meier  # noqa: PLC0415

    clin = _endpoint_arrays(pl.read_parquet(clinical), endpoint).join(
        pl.read_parquet(clinical).select("patient_id", pl.col(treatment).cast(pl.String)),
        on="patient_id",
    )
    frame = pl.read_parquet(matrix)
    present = [p for p in clin["patient_id"].to_list() if p in frame.columns]
    clin = clin.filter(pl.col("patient_id").is_in(present))
    excluded = clin.filter(pl.col(treatment).is_null()).select(
        "patient_id", pl.lit(f"missing_{treatment}").alias("reason")
    )
    clin = clin.filter(pl.col(treatment).is_not_null())
    arms = sorted(clin[treatment].unique().to_list())
    if len(arms) < 2:
        raise InputError(
            str(clinical),
            f"treatment column '{treatment}' has {len(arms)} arm(s) {arms} among the "
            f"patients with {modality} data; an interaction screen needs two or more",
            fix="set modelling.treatment to a column with at least two arms, or to null",
            column=treatment,
        )
    names = frame["feature"].cast(pl.String).to_list()
    columns: dict[str, Any] = {"feature": names}
    coefs, weights = [], []
    for arm in arms:
        ids = clin.filter(pl.col(treatment) == arm)
        x = frame.select(ids["patient_id"].to_list()).to_numpy().T.astype(np.float64)
        fit = cox_screen(
            x,
            ids["time"].to_numpy(),
            ids["event"].to_numpy(),
            ties=ties,  # type: ignore[arg-type]
            feature_names=names,
        )
        columns[f"n_{arm}"] = fit["n"].to_numpy()
        columns[f"coef_{arm}"] = fit["coef"].to_numpy()
        columns[f"se_{arm}"] = fit["se"].to_numpy()
        coefs.append(fit["coef"].to_numpy())
        weights.append(1.0 / fit["se"].to_numpy() ** 2)
    b = np.vstack(coefs)
    w = np.vstack(weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (w * b).sum(axis=0) / w.sum(axis=0)
        chisq = (w * (b - pooled) ** 2).sum(axis=0)
    df = len(arms) - 1
    p = special.chdtrc(df, chisq)
    q = np.full(p.size, np.nan)
    ok = np.isfinite(p)
    q[ok] = benjamini_hochberg(p[ok])
    table = pl.DataFrame({**columns, "interaction_chisq": chisq, "df": df, "p": p, "q": q}).sort(
        "p", nulls_last=True
    )
    km = pl.DataFrame()
    if ok.any():
        top = table["feature"][0]
        values = frame.filter(pl.col("feature").cast(pl.String) == top).select(
            clin["patient_id"].to_list()
        )
        x = values.to_numpy().ravel().astype(np.float64)
        has = np.isfinite(x)
        level = np.where(x > np.nanmedian(x), "high", "low")
        group = [f"{a} / {top} {lv}" for a, lv in zip(clin[treatment], level, strict=True)]
        km = kaplan_meier(
            clin["time"].to_numpy()[has],
            clin["event"].to_numpy()[has],
            group=np.asarray(group)[has],
        ).with_columns(pl.lit(top).alias("feature"))
    LOG.info(
        "%s x %s: %d features, arms %s, %d with interaction q <= 0.05",
        modality,
        treatment,
        len(names),
        arms,
        int((q <= 0.05).sum()),
    )
    write_tsv(table, out_table)
    write_tsv(km, out_km)
    write_tsv(excluded, out_excluded)
