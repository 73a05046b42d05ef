"""Univariate Cox screening of a whole omics matrix against a survival endpoint.

The matrix is the features x patients Parquet of the ingest step; every feature gets one
Cox model (fitted all at once by :func:`survomics.cox.cox_screen`), its hazard ratio with
a Wald 95% interval, and a Benjamini-Hochberg q-value over the features that could be
fitted. Features that could not be fitted (constant, no events, monotone likelihood...)
keep their row with a ``status`` saying why and empty estimates.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

from survomics.cox import benjamini_hochberg, cox_screen

SCREEN_COLUMNS: tuple[str, ...] = (
    "feature",
    "n",
    "events",
    "coef",
    "se",
    "hr",
    "hr_lower",
    "hr_upper",
    "z",
    "p",
    "q",
    "p_lrt",
    "p_score",
    "converged",
    "status",
)
"""Columns of ``screening/{modality}.univariate_cox.tsv``, in order."""

Z95 = float(stats.norm.ppf(0.975))


def endpoint_arrays(
    clinical: pl.DataFrame, patients: list[str], *, endpoint: str
) -> tuple[np.ndarray, np.ndarray]:
    """Time (days) and event (0/1) of ``patients``, in that order.

    Raises
    ------
    KeyError
        If a patient is not in the clinical table.
    """
    index = clinical.select("patient_id", f"{endpoint}_time", f"{endpoint}_event")
    aligned = pl.DataFrame({"patient_id": patients}).join(
        index, on="patient_id", how="left", maintain_order="left"
    )
    if aligned[f"{endpoint}_time"].null_count():
        missing = aligned.filter(pl.col(f"{endpoint}_time").is_null())["patient_id"].to_list()
        msg = f"patients not in the clinical table: {missing[:5]}"
        raise KeyError(msg)
    return (
        aligned[f"{endpoint}_time"].to_numpy().astype(np.float64),
        aligned[f"{endpoint}_event"].to_numpy().astype(np.int8),
    )


def screen_matrix(
    matrix: pl.DataFrame,
    clinical: pl.DataFrame,
    *,
    endpoint: str,
    ties: Literal["efron", "breslow"] | str = "efron",
) -> pl.DataFrame:
    """Screen every feature (row) of a features x patients matrix.

    Parameters
    ----------
    matrix
        ``feature`` column then one Float64 column per patient.
    clinical
        The cohort's clinical table with ``patient_id``, ``{endpoint}_time`` and
        ``{endpoint}_event``.
    endpoint
        Endpoint name.
    ties
        ``efron`` or ``breslow`` handling of tied event times.

    Returns
    -------
    polars.DataFrame
        One row per feature in matrix order, columns :data:`SCREEN_COLUMNS`; estimates
        that do not exist (``status`` other than ``ok``) are null.
    """
    patients = [c for c in matrix.columns if c != "feature"]
    time, event = endpoint_arrays(clinical, patients, endpoint=endpoint)
    values = matrix.select(patients).to_numpy().astype(np.float64, copy=False)
    fit = cox_screen(
        values.T,
        time,
        event,
        ties=ties,  # type: ignore[arg-type]
        feature_names=matrix["feature"].to_list(),
    )
    ok = fit["status"] == "ok"
    q = benjamini_hochberg(np.where(ok.to_numpy(), fit["p_wald"].to_numpy(), np.nan))
    return (
        fit.with_columns(
            pl.col("coef").exp().alias("hr"),
            (pl.col("coef") - Z95 * pl.col("se")).exp().alias("hr_lower"),
            (pl.col("coef") + Z95 * pl.col("se")).exp().alias("hr_upper"),
            pl.col("p_wald").alias("p"),
            pl.Series("q", q, dtype=pl.Float64),
        )
        .select(SCREEN_COLUMNS)
        .with_columns(pl.col(pl.Float64).fill_nan(None))
    )
