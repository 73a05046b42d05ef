"""Deterministic figures of the survival analyses, returned as SVG text.

Figures are drawn by matplotlib on an Agg canvas without pyplot (no global figure state)
and saved as SVG with everything that could vary between runs pinned: no date in the
metadata, a fixed ``svg.hashsalt`` (clip-path ids are hashes salted with a random value
otherwise), text kept as text (``svg.fonttype = "none"``) in DejaVu Sans, and matplotlib's
default style whatever the user's ``matplotlibrc`` says. The same input gives the same
bytes across calls and processes (for a given matplotlib version). Colours are the
Okabe-Ito colour-blind-safe palette.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Literal

import matplotlib as mpl
import matplotlib.style
import numpy as np
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

__all__ = [
    "OKABE_ITO",
    "calibration_plot_svg",
    "followup_plot_svg",
    "forest_plot_svg",
    "km_plot_svg",
    "metrics_plot_svg",
    "volcano_plot_svg",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: weak contrast on white)
)
"""Okabe & Ito (2008) palette, ordered for contrast on a white background."""

_LINESTYLES = ("-", "--", ":", "-.")
_GREY = "#BBBBBB"

_RC: dict[str, object] = {
    "svg.hashsalt": "survomics",
    "svg.fonttype": "none",
    "svg.id": None,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
}

DAYS_PER: dict[str, float] = {"days": 1.0, "months": 365.25 / 12.0, "years": 365.25}
"""Days per display unit (a year is 365.25 days, a month a twelfth of it)."""

_KM_REQUIRED = ("stratum", "time", "n_risk", "n_event", "n_censor", "survival")
_VOLCANO_REQUIRED = ("feature", "coef", "p", "q", "status")


def _to_svg(fig: Figure) -> str:
    """Serialise ``fig`` to SVG text with a date-free header."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure on its own Agg canvas (no pyplot)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _format_p(p: float) -> str:
    """``p = 0.012``, ``p = 3.1e-05``, or ``p < 1e-300``."""
    if not math.isfinite(p):
        return "p = NA"
    if p < 1e-300:
        return "p < 1e-300"
    if p < 1e-3:
        return f"p = {p:.1e}"
    return f"p = {p:.3f}"


def _check_columns(frame: pl.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        msg = f"{what} lacks columns {missing}; it has {frame.columns}"
        raise ValueError(msg)


def _at_risk(times_days: np.ndarray, n_risk: np.ndarray, at_days: np.ndarray) -> list[int]:
    """Number at risk at each of ``at_days`` from a stratum's KM rows (sorted times).

    At time t this is the number with follow-up >= t: ``n_risk`` of the first row at or
    after t, 0 after the last row.
    """
    idx = np.searchsorted(times_days, at_days, side="left")
    return [int(n_risk[i]) if i < n_risk.size else 0 for i in idx]


def km_plot_svg(
    km: pl.DataFrame,
    *,
    title: str,
    time_unit: Literal["days", "months", "years"] = "years",
    logrank_p: float | None = None,
    at_risk_times: Sequence[float] | None = None,
) -> str:
    """Kaplan-Meier curves with censoring ticks, log-rank p and a number-at-risk table.

    Parameters
    ----------
    km
        Output of :func:`survomics.km.kaplan_meier` (times in days); strata are drawn in
        their order of appearance.
    title
        Figure title.
    time_unit
        Unit of the time axis (years = days / 365.25, months = years / 12).
    logrank_p
        Log-rank p-value to print in the plot, if any.
    at_risk_times
        Times, in ``time_unit``, at which to tabulate the numbers at risk (also the axis
        ticks). Default: regular ticks over the follow-up.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If ``km`` lacks a column, is empty, or ``time_unit`` is unknown.
    """
    _check_columns(km, _KM_REQUIRED, "the Kaplan-Meier frame")
    if km.height == 0:
        msg = "the Kaplan-Meier frame is empty"
        raise ValueError(msg)
    if time_unit not in DAYS_PER:
        msg = f"time_unit must be one of {sorted(DAYS_PER)}, got {time_unit!r}"
        raise ValueError(msg)
    scale = DAYS_PER[time_unit]
    strata = km["stratum"].unique(maintain_order=True).to_list()
    x_max = float(km["time"].cast(pl.Float64).to_numpy().max()) / scale
    if at_risk_times is None:
        ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, x_max or 1.0)
        at = np.asarray([v for v in ticks if 0.0 <= v <= x_max + 1e-9] or [0.0])
    else:
        at = np.asarray(sorted(float(v) for v in at_risk_times), dtype=np.float64)
        if at.size == 0 or not np.isfinite(at).all() or (at < 0).any():
            msg = "at_risk_times must be non-empty, finite and non-negative"
            raise ValueError(msg)
    right = max(x_max, float(at.max())) * 1.02 or 1.0

    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(7.5, 4.6 + 0.22 * len(strata))
        grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.5 + 0.3 * len(strata)])
        ax = fig.add_subplot(grid[0])
        table = fig.add_subplot(grid[1], sharex=ax)

        for i, stratum in enumerate(strata):
            part = km.filter(pl.col("stratum") == stratum).sort("time")
            t = part["time"].to_numpy() / scale
            s = part["survival"].to_numpy()
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            style = _LINESTYLES[(i // len(OKABE_ITO)) % len(_LINESTYLES)]
            n = int(part["n_risk"][0])
            events = int(part["n_event"].sum())
            ax.step(
                np.concatenate(([0.0], t)),
                np.concatenate(([1.0], s)),
                where="post",
                color=colour,
                linestyle=style,
                linewidth=1.6,
                label=f"{stratum} (n = {n}, events = {events})",
            )
            censored = part["n_censor"].to_numpy() > 0
            ax.plot(
                t[censored],
                s[censored],
                linestyle="none",
                marker="|",
                markersize=7,
                markeredgewidth=1.2,
                color=colour,
            )
            counts = _at_risk(part["time"].to_numpy(), part["n_risk"].to_numpy(), at * scale)
            for x, count in zip(at, counts, strict=True):
                table.text(x, i, str(count), ha="center", va="center", color=colour, fontsize=8.5)

        ax.set_xlim(0.0, right)
        ax.set_ylim(0.0, 1.03)
        ax.set_xticks(at)
        ax.set_ylabel("Survival probability")
        ax.set_xlabel(f"Time ({time_unit})")
        ax.set_title(title, loc="left", fontsize=11)
        ax.grid(visible=True, axis="y", color="#E5E5E5", linewidth=0.6)
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            title="Stratum",
            alignment="left",
            handlelength=2.6,
        )
        if logrank_p is not None:
            ax.text(
                0.02,
                0.04,
                f"Log-rank {_format_p(float(logrank_p))}",
                transform=ax.transAxes,
                ha="left",
                va="bottom",
            )

        table.set_ylim(len(strata) - 0.5, -0.5)
        table.set_yticks(range(len(strata)), labels=[str(s) for s in strata])
        for label, i in zip(table.get_yticklabels(), range(len(strata)), strict=True):
            label.set_color(OKABE_ITO[i % len(OKABE_ITO)])
        table.tick_params(axis="both", length=0)
        table.tick_params(axis="y", pad=18)  # clear of the numbers centred on t = 0
        table.tick_params(axis="x", labelbottom=False)
        for side in ("top", "right", "bottom", "left"):
            table.spines[side].set_visible(False)
        table.set_title("Number at risk", loc="left", fontsize=9)
        return _to_svg(fig)


def volcano_plot_svg(
    screen: pl.DataFrame,
    *,
    title: str,
    q_threshold: float = 0.05,
    label_top: int = 10,
) -> str:
    """Volcano plot of a univariate Cox screen: log HR against -log10(p).

    Rows whose ``status`` is not ``"ok"`` or whose ``coef``/``p`` are missing or not
    finite are left out. Features with ``q <= q_threshold`` are coloured by direction
    (vermillion HR > 1, blue HR < 1), the others grey; a dashed line marks the largest p
    that passes the threshold. The ``label_top`` features with the smallest p (ties by
    name) are labelled, significant or not. p-values below 1e-300 are drawn at 1e-300.

    Parameters
    ----------
    screen
        Columns ``feature, coef, p, q, status`` (as written by the screening step).
    title
        Figure title.
    q_threshold
        Benjamini-Hochberg q at or below which a feature is highlighted.
    label_top
        How many features to label.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If a column is missing or ``label_top`` is negative.
    """
    _check_columns(screen, _VOLCANO_REQUIRED, "the screen frame")
    if label_top < 0:
        msg = f"label_top must be >= 0, got {label_top}"
        raise ValueError(msg)
    data = (
        screen.select(
            pl.col("feature").cast(pl.String),
            pl.col("coef").cast(pl.Float64),
            pl.col("p").cast(pl.Float64),
            pl.col("q").cast(pl.Float64),
            pl.col("status").cast(pl.String),
        )
        .filter(
            (pl.col("status") == "ok")
            & pl.col("coef").is_finite()
            & pl.col("p").is_finite()
            & (pl.col("p") >= 0)
        )
        .with_columns(
            (-pl.col("p").clip(lower_bound=1e-300).log10()).alias("y"),
            (pl.col("q").fill_nan(None) <= q_threshold).fill_null(value=False).alias("hit"),
        )
        .sort("p", "feature")
    )
    up = data.filter(pl.col("hit") & (pl.col("coef") > 0))
    down = data.filter(pl.col("hit") & (pl.col("coef") <= 0))
    rest = data.filter(~pl.col("hit"))

    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(6.5, 5.0)
        ax = fig.add_subplot()
        if data.height == 0:
            ax.text(0.5, 0.5, "no feature could be fitted", ha="center", transform=ax.transAxes)
        groups = (
            (rest, _GREY, f"q > {q_threshold:g}"),
            (down, OKABE_ITO[0], f"q ≤ {q_threshold:g}, HR < 1"),
            (up, OKABE_ITO[1], f"q ≤ {q_threshold:g}, HR > 1"),
        )
        for part, colour, label in groups:
            if part.height:
                ax.scatter(
                    part["coef"].to_numpy(),
                    part["y"].to_numpy(),
                    s=14,
                    color=colour,
                    edgecolors="none",
                    alpha=0.9,
                    label=f"{label} ({part.height})",
                )
        hits = data.filter(pl.col("hit"))
        if hits.height:
            cut = float(hits["y"].to_numpy().min())
            ax.axhline(cut, color="#666666", linestyle="--", linewidth=0.8)
            ax.annotate(
                f"q = {q_threshold:g}",
                xy=(1.0, cut),
                xycoords=("axes fraction", "data"),
                xytext=(-2, 2),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=7.5,
                color="#666666",
            )
        ax.axvline(0.0, color="#999999", linewidth=0.6)
        for row in data.head(label_top).iter_rows(named=True):
            right = row["coef"] >= 0
            ax.annotate(
                row["feature"],
                xy=(row["coef"], row["y"]),
                xytext=(4 if right else -4, 2),
                textcoords="offset points",
                ha="left" if right else "right",
                va="bottom",
                fontsize=7,
            )
        ax.set_xlabel("Cox coefficient (log hazard ratio per unit of feature)")
        ax.set_ylabel("−log10(Wald p)")
        ax.set_title(title, loc="left", fontsize=11)
        if data.height:
            ax.legend(loc="best", frameon=False, fontsize=8)
            ax.set_ylim(bottom=0.0)
        return _to_svg(fig)


def followup_plot_svg(
    time_days: Sequence[float] | np.ndarray,
    event: Sequence[int] | np.ndarray,
    *,
    time_unit: Literal["days", "months", "years"] = "years",
    bins: int = 20,
) -> str:
    """Histogram of follow-up times, stacked by status at last contact (event or censored).

    Parameters
    ----------
    time_days
        Follow-up time of each patient, in days.
    event
        1 = event at that time, 0 = censored.
    time_unit
        Unit of the time axis.
    bins
        Number of equal-width bins from 0 to the longest follow-up.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If the arrays differ in length or ``time_unit`` is unknown.
    """
    if time_unit not in DAYS_PER:
        msg = f"time_unit must be one of {sorted(DAYS_PER)}, got {time_unit!r}"
        raise ValueError(msg)
    t = np.asarray(time_days, dtype=np.float64) / DAYS_PER[time_unit]
    e = np.asarray(event).astype(bool)
    if t.shape != e.shape:
        msg = f"time and event differ in length ({t.size} vs {e.size})"
        raise ValueError(msg)
    edges = np.linspace(0.0, float(t.max()) if t.size and t.max() > 0 else 1.0, bins + 1)
    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(6.5, 3.2)
        ax = fig.add_subplot()
        ax.hist(
            [t[e], t[~e]],
            bins=edges,
            stacked=True,
            color=[OKABE_ITO[1], OKABE_ITO[0]],
            label=[f"event ({int(e.sum())})", f"censored ({int((~e).sum())})"],
            edgecolor="white",
            linewidth=0.5,
        )
        ax.set_xlabel(f"Follow-up time ({time_unit})")
        ax.set_ylabel("Patients (count)")
        ax.set_title("Follow-up by status at last contact", loc="left", fontsize=11)
        ax.legend(frameon=False)
        return _to_svg(fig)


def forest_plot_svg(
    markers: pl.DataFrame,
    *,
    title: str,
) -> str:
    """Forest plot of markers (HR with 95% CI, log scale) beside their selection frequency.

    Parameters
    ----------
    markers
        Columns ``feature, hr, hr_lower, hr_upper, frequency`` (a biomarker table), in the
        order to draw top to bottom. Rows with a non-finite or non-positive HR or limit are
        drawn without an interval.
    title
        Figure title.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    _check_columns(markers, ("feature", "hr", "hr_lower", "hr_upper", "frequency"), "markers")
    n = markers.height
    names = [str(v) for v in markers["feature"].to_list()]
    hr = markers["hr"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    lo = markers["hr_lower"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    hi = markers["hr_upper"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    freq = markers["frequency"].cast(pl.Float64).fill_null(0.0).to_numpy()
    y = np.arange(n, dtype=np.float64)
    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(7.5, 1.2 + 0.26 * max(n, 1))
        left, right = fig.subplots(1, 2, sharey=True, width_ratios=[3.0, 1.4])
        if n == 0:
            left.text(0.5, 0.5, "no marker selected", ha="center", transform=left.transAxes)
        ok = np.isfinite(hr) & (hr > 0)
        ci = ok & np.isfinite(lo) & np.isfinite(hi) & (lo > 0) & (hi > 0)
        colours = [OKABE_ITO[1] if h > 1 else OKABE_ITO[0] for h in np.nan_to_num(hr, nan=1.0)]
        for i in np.flatnonzero(ci):
            left.plot([lo[i], hi[i]], [y[i], y[i]], color=colours[i], linewidth=1.4)
        left.scatter(hr[ok], y[ok], color=[colours[i] for i in np.flatnonzero(ok)], s=22, zorder=3)
        left.axvline(1.0, color="#666666", linestyle="--", linewidth=0.8)
        if ok.any():
            left.set_xscale("log")
            left.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
            left.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            left.xaxis.set_minor_formatter(NullFormatter())
        left.set_yticks(y, labels=names)
        left.set_ylim(n - 0.5, -0.5)
        left.set_xlabel("Hazard ratio per unit of feature (95% CI, log scale)")
        left.set_title(title, loc="left", fontsize=11)
        right.barh(y, freq, color=OKABE_ITO[2], height=0.6)
        right.set_xlim(0.0, 1.0)
        right.set_xlabel("Selection frequency\n(fraction of outer folds)")
        right.tick_params(axis="y", length=0)
        return _to_svg(fig)


def metrics_plot_svg(metrics: pl.DataFrame, *, metric_labels: dict[str, str]) -> str:
    """Model comparison: mean and 95% interval across repeats, one panel per metric.

    Parameters
    ----------
    metrics
        Columns ``model, metric, mean, lower, upper`` (``models/metrics.tsv``).
    metric_labels
        Metric -> axis label (with unit), in panel order; other metrics are not drawn.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If a column is missing.
    """
    _check_columns(metrics, ("model", "metric", "mean", "lower", "upper"), "metrics")
    models = metrics["model"].unique(maintain_order=True).to_list()
    panels = [m for m in metric_labels if m in set(metrics["metric"].to_list())]
    y = np.arange(len(models), dtype=np.float64)
    with mpl.style.context("default"), mpl.rc_context(_RC):
        ncol = min(3, max(len(panels), 1))
        nrow = max(1, math.ceil(len(panels) / ncol))
        fig = _new_figure(3.0 * ncol + 1.2, (0.8 + 0.25 * len(models)) * nrow + 0.4)
        axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
        for k, ax in enumerate(axes):
            if k >= len(panels):
                ax.set_visible(False)
                continue
            metric = panels[k]
            part = metrics.filter(pl.col("metric") == metric)
            lookup = {r["model"]: r for r in part.iter_rows(named=True)}
            for i, model in enumerate(models):
                row = lookup.get(model)
                if row is None or row["mean"] is None or not math.isfinite(row["mean"]):
                    continue
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                if row["lower"] is not None and math.isfinite(row["lower"]):
                    ax.plot([row["lower"], row["upper"]], [i, i], color=colour, linewidth=1.6)
                ax.scatter([row["mean"]], [i], color=colour, s=20, zorder=3)
            if metric in {"harrell_c", "uno_c"} or metric.startswith(("auc_", "mean_auc")):
                ax.axvline(0.5, color="#999999", linestyle=":", linewidth=0.8)
            ax.set_yticks(y, labels=models if k % ncol == 0 else [""] * len(models))
            ax.set_ylim(len(models) - 0.5, -0.5)
            ax.set_xlabel(metric_labels[metric])
        return _to_svg(fig)


def calibration_plot_svg(calibration: dict[str, pl.DataFrame], *, horizon_label: str) -> str:
    """Observed against predicted survival at a horizon, by groups of predicted survival.

    Parameters
    ----------
    calibration
        Model -> its calibration table (columns ``predicted, observed, lower_95,
        upper_95``; Kaplan-Meier observed survival with its 95% interval per group).
    horizon_label
        The horizon with its unit, for the axis labels.

    Returns
    -------
    str
        The figure as SVG text.

    Raises
    ------
    ValueError
        If a table lacks a column.
    """
    with mpl.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(5.8, 4.6)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8, label="ideal")
        for i, (model, table) in enumerate(calibration.items()):
            _check_columns(table, ("predicted", "observed", "lower_95", "upper_95"), model)
            part = table.select(pl.all().cast(pl.Float64, strict=False)).filter(
                pl.col("observed").is_finite() & pl.col("predicted").is_finite()
            )
            x = part["predicted"].to_numpy()
            obs = part["observed"].to_numpy()
            lo = np.nan_to_num(part["lower_95"].fill_null(np.nan).to_numpy(), nan=obs)
            hi = np.nan_to_num(part["upper_95"].fill_null(np.nan).to_numpy(), nan=obs)
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.errorbar(
                x,
                obs,
                yerr=[np.maximum(obs - lo, 0), np.maximum(hi - obs, 0)],
                color=colour,
                marker="o",
                markersize=4,
                linewidth=1.0,
                capsize=2,
                label=model,
            )
        ax.set_xlim(0.0, 1.02)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel(f"Predicted survival probability at {horizon_label}")
        ax.set_ylabel(f"Observed survival at {horizon_label} (Kaplan–Meier, 95% CI)")
        ax.set_title("Calibration", loc="left", fontsize=11)
        ax.legend(frameon=False, fontsize=7.5, loc="upper left")
        return _to_svg(fig)
