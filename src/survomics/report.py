"""The per-cohort HTML report and the index across cohorts.

``results/{cohort}/report.html`` is one self-contained file: figures are deterministic SVG
from :mod:`survomics.plots` embedded as ``data:`` URIs (each keeps its own ids), CSS is
inline, there is no script and no external reference, so it opens from disk, prints
(print rules avoid breaking figures and tables) and is the same bytes for the same inputs.
Its eleven sections (``<h2>``, in this order): Summary, Table 1, Data intake, Endpoint,
Screening, Biomarkers, Models, Risk groups, External validation, Methods, Provenance.

Decisions
---------
* **Which model is "best".** The model with the highest mean out-of-fold Harrell's C
  across repeats (``report.model`` names one instead); the baseline is the first model of
  kind ``clinical`` (``report.baseline`` overrides). Table 1 "by risk group" and the risk
  group section use that model's out-of-fold risk groups (``models/{model}/risk_groups.tsv``:
  high/low by majority over repeats of "above the repeat's median out-of-fold risk"), so no
  patient's group comes from a model that saw them.
* **Table 1 columns.** ``report.table1`` or, by default, the modelling covariates, the
  Kaplan-Meier group and the treatment column, in that order, those present. Numeric
  columns: median (IQR) and missing count; others: n (%) per level (percent of non-missing).
* **Provenance without a cycle.** ``provenance.json`` hashes the report, so the report
  cannot read it; it shows the SHA-256 of its own inputs (the cohort's input files and the
  results it summarises), the configuration hash (:func:`survomics.provenance.canonical_hash`
  of the resolved configuration, equal to the record's), the seed, the git commit, and the
  ``survomics verify`` command that checks everything else.
* **Privacy.** With a :class:`~survomics.privacy.Pseudonymizer` every patient or sample id
  in a table or text is replaced by its keyed pseudonym before rendering, and the final
  HTML is passed through it once more.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from survomics import __version__
from survomics.io import write_text
from survomics.privacy import Pseudonymizer

__all__ = [
    "CITATIONS",
    "ModelOutputs",
    "ReportInputs",
    "ValidationResult",
    "fmt_num",
    "html_table",
    "render_index",
    "render_report",
    "section_titles",
    "write_report",
]

SECTIONS: tuple[str, ...] = (
    "Summary",
    "Table 1",
    "Data intake",
    "Endpoint",
    "Screening",
    "Biomarkers",
    "Models",
    "Risk groups",
    "External validation",
    "Methods",
    "Provenance",
)
"""The report's ``<h2>`` sections, in order."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{border-bottom:2px solid #0072B2;padding-bottom:.2em}
h2{margin-top:2em;border-bottom:1px solid #ccc}
nav ol{columns:2;font-size:.92em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
caption{text-align:left;font-weight:600;padding:.2em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.summary{background:#f7f9fb;border-left:4px solid #0072B2;padding:.6em 1em}
.methods p{text-align:justify}
figure{margin:1em 0}
figure img{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444}
code,pre{background:#f4f4f4;padding:.1em .3em}
pre{padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
@media print{body{max-width:none;margin:0}h2{break-after:avoid}
figure,table,tr{break-inside:avoid}details{display:block}details>*{display:block}
a{color:inherit;text-decoration:none}}
"""

CITATIONS: dict[str, str] = {
    "cox": "Cox DR. Regression models and life-tables. J R Stat Soc B. 1972;34(2):187–220.",
    "efron": "Efron B. The efficiency of Cox's likelihood function for censored data. "
    "J Am Stat Assoc. 1977;72(359):557–565.",
    "km": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. "
    "J Am Stat Assoc. 1958;53(282):457–481.",
    "logrank": "Mantel N. Evaluation of survival data and two new rank order statistics "
    "arising in its consideration. Cancer Chemother Rep. 1966;50(3):163–170.",
    "bh": "Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B. "
    "1995;57(1):289–300.",
    "harrell": "Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of "
    "medical tests. JAMA. 1982;247(18):2543–2546.",
    "uno": "Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ. On the C-statistics for "
    "evaluating overall adequacy of risk prediction procedures with censored survival data. "
    "Stat Med. 2011;30(10):1105–1117.",
    "auc": "Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction rules for t-year survivors "
    "with censored regression models. J Am Stat Assoc. 2007;102(478):527–537.",
    "graf": "Graf E, Schmoor C, Sauerbrei W, Schumacher M. Assessment and comparison of "
    "prognostic classification schemes for survival data. Stat Med. 1999;18(17–18):2529–2545.",
    "grambsch": "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based "
    "on weighted residuals. Biometrika. 1994;81(3):515–526.",
    "coxnet": "Simon N, Friedman J, Hastie T, Tibshirani R. Regularization paths for Cox's "
    "proportional hazards model via coordinate descent. J Stat Softw. 2011;39(5):1–13.",
    "rsf": "Ishwaran H, Kogalur UB, Blackstone EH, Lauer MS. Random survival forests. "
    "Ann Appl Stat. 2008;2(3):841–860.",
    "gbsa": "Hothorn T, Bühlmann P, Dudoit S, Molinaro A, van der Laan MJ. Survival "
    "ensembles. Biostatistics. 2006;7(3):355–373.",
    "sksurv": "Pölsterl S. scikit-survival: a library for time-to-event analysis built on "
    "top of scikit-learn. J Mach Learn Res. 2020;21(212):1–6.",
    "snakemake": "Mölder F, Jablonski KP, Letcher B, et al. Sustainable data analysis with "
    "Snakemake. F1000Research. 2021;10:33.",
    "polars": "Vink R, et al. Polars: blazingly fast DataFrames in Rust and Python. "
    "Zenodo. doi:10.5281/zenodo.7697217",
    "numpy": "Harris CR, Millman KJ, van der Walt SJ, et al. Array programming with NumPy. "
    "Nature. 2020;585:357–362.",
    "scipy": "Virtanen P, Gommers R, Oliphant TE, et al. SciPy 1.0: fundamental algorithms "
    "for scientific computing in Python. Nat Methods. 2020;17:261–272.",
    "sklearn": "Pedregosa F, Varoquaux G, Gramfort A, et al. Scikit-learn: machine learning "
    "in Python. J Mach Learn Res. 2011;12:2825–2830.",
    "matplotlib": "Hunter JD. Matplotlib: a 2D graphics environment. Comput Sci Eng. "
    "2007;9(3):90–95.",
    "okabe": "Okabe M, Ito K. Color universal design (CUD): how to make figures and "
    "presentations that are friendly to colorblind people. 2008.",
}
"""Reference list of the Methods text; cited as [n] in order of this mapping."""

_CITE = {key: i + 1 for i, key in enumerate(CITATIONS)}

METRIC_LABELS: dict[str, str] = {
    "harrell_c": "Harrell's C",
    "uno_c": "Uno's C",
    "mean_auc": "mean time-dependent AUC",
    "ibs": "integrated Brier score",
    "calibration_error": "calibration error",
    "logrank_p": "risk-group log-rank p",
}

DAYS_PER: dict[str, float] = {"days": 1.0, "months": 365.25 / 12.0, "years": 365.25}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOutputs:
    """The modelling results of one cohort (``results/{cohort}/models/``)."""

    metrics: pl.DataFrame
    kinds: Mapping[str, str]
    calibration: Mapping[str, pl.DataFrame]
    risk_groups: Mapping[str, pl.DataFrame]
    risk_km: Mapping[str, pl.DataFrame]
    risk_logrank: Mapping[str, pl.DataFrame]
    ph: Mapping[str, pl.DataFrame]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    """A frozen model of cohort ``train`` scored on this cohort."""

    train: str
    model: str
    metrics: pl.DataFrame
    missing: pl.DataFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInputs:
    """Everything the report shows, already loaded."""

    cohort: str
    clinical: pl.DataFrame
    audit: pl.DataFrame
    screens: Mapping[str, pl.DataFrame]
    km_table: pl.DataFrame
    km_logrank: pl.DataFrame
    km_medians: pl.DataFrame
    km_excluded: pl.DataFrame
    settings: Mapping[str, Any]
    endpoint: str
    versions: Mapping[str, str]
    models: ModelOutputs | None = None
    biomarkers: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    predictive: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    validation: Sequence[ValidationResult] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    pseudonymizer: Pseudonymizer | None = None


# --------------------------------------------------------------------------- formatting


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt_num(value: object, *, digits: int = 3) -> str:
    """Format a number for the report: significant digits, scientific for tiny p-values."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return "–"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e9):
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 100:
        text = f"{x:,.1f}"
        return text.removesuffix(".0")
    return f"{x:.{digits}g}"


def _interval(mean: object, lower: object, upper: object) -> str:
    return f"{fmt_num(mean)} ({fmt_num(lower)}–{fmt_num(upper)})"


def html_table(frame: pl.DataFrame, *, caption: str | None = None, max_rows: int = 500) -> str:
    """Render a frame as an HTML table (numbers right-aligned and formatted)."""
    head = "".join(f'<th scope="col">{_esc(c)}</th>' for c in frame.columns)
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = []
        for col, val in row.items():
            if col in numeric:
                cells.append(f'<td class="num">{_esc(fmt_num(val))}</td>')
            else:
                cells.append(f"<td>{_esc('–' if val is None else val)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if frame.height > max_rows:
        more = f"<p>… {frame.height - max_rows:,} more rows in the TSV file.</p>"
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def svg_figure(svg: str, *, alt: str, caption: str) -> str:
    """Embed an SVG document as a ``data:`` URI image with a caption."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure><img alt="{_esc(alt)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _time_unit(inp: ReportInputs) -> str:
    return str(inp.settings.get("report", {}).get("time_unit", "years"))


def _modelling(inp: ReportInputs) -> Mapping[str, Any]:
    return inp.settings.get("modelling", {}) or {}


def _metric_label(metric: str, *, unit: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    if metric.startswith("auc_"):
        days = float(metric.removeprefix("auc_"))
        return f"td-AUC at {days / DAYS_PER.get(unit, 1.0):g} {unit}"
    return metric


# --------------------------------------------------------------------------- choices


def chosen_models(inp: ReportInputs) -> tuple[str | None, str | None]:
    """The report's model (best mean Harrell's C unless configured) and the baseline."""
    if inp.models is None or inp.models.metrics.height == 0:
        return None, None
    report = inp.settings.get("report", {})
    c = inp.models.metrics.filter(pl.col("metric") == "harrell_c").filter(
        pl.col("mean").is_not_nan()
    )
    best = report.get("model")
    if best is None and c.height:
        best = c.sort(["mean", "model"], descending=[True, False])["model"][0]
    baseline = report.get("baseline")
    if baseline is None:
        clinical = [m for m, k in inp.models.kinds.items() if k == "clinical"]
        baseline = clinical[0] if clinical else None
    return best, baseline


def _metric_row(inp: ReportInputs, model: str, metric: str) -> dict[str, Any] | None:
    if inp.models is None:
        return None
    rows = inp.models.metrics.filter((pl.col("model") == model) & (pl.col("metric") == metric))
    return rows.row(0, named=True) if rows.height else None


# --------------------------------------------------------------------------- sections


def summary_facts(inp: ReportInputs) -> dict[str, Any]:
    """Patients, events, median follow-up (days) and exclusions shown in the summary."""
    from survomics.km import median_followup  # noqa: PLC0415

    time = inp.clinical[f"{inp.endpoint}_time"].to_numpy()
    event = inp.clinical[f"{inp.endpoint}_event"].to_numpy()
    excluded = inp.audit.filter(
        (pl.col("modality") == "clinical") & (pl.col("level").is_in(["patient", "row"]))
    ).height
    return {
        "patients": inp.clinical.height,
        "events": int(event.sum()),
        "median_followup_days": median_followup(time, event),
        "excluded_patients": excluded,
    }


def _summary(inp: ReportInputs) -> str:
    facts = summary_facts(inp)
    fu = facts["median_followup_days"]
    unit = _time_unit(inp)
    fu_text = (
        "not estimable"
        if fu is None or math.isnan(fu)
        else f"{fu:,.0f} days ({fu / DAYS_PER[unit]:.1f} {unit})"
    )
    text = (
        f"Cohort <b>{_esc(inp.cohort)}</b>, endpoint <b>{_esc(inp.endpoint)}</b>: "
        f"{facts['patients']:,} patients analysed, {facts['events']:,} events, "
        f"median follow-up {fu_text} (reverse Kaplan–Meier); "
        f"{facts['excluded_patients']:,} clinical rows or patients excluded (see Data intake)."
    )
    best, baseline = chosen_models(inp)
    if best is not None:
        row = _metric_row(inp, best, "harrell_c")
        assert row is not None
        sentence = (
            f" The best model, <b>{_esc(best)}</b>, reached an out-of-fold Harrell's C of "
            f"{_interval(row['mean'], row['lower'], row['upper'])} "
            f"(mean and 95% interval across {row['n_repeats']} repeats of the outer "
            "cross-validation)"
        )
        base = _metric_row(inp, baseline, "harrell_c") if baseline else None
        if base is not None and baseline != best:
            sentence += (
                f", against {_interval(base['mean'], base['lower'], base['upper'])} for the "
                f"clinical baseline <b>{_esc(baseline)}</b>."
            )
        elif baseline == best:
            sentence += "; it is the clinical baseline itself."
        else:
            sentence += "; no clinical baseline was configured."
        text += sentence
    else:
        text += " Modelling was not run."
    return f'<p class="summary">{text}</p>'


def table1_columns(inp: ReportInputs) -> list[str]:
    """The clinical columns of Table 1 (configured, or covariates, KM group, treatment)."""
    configured = inp.settings.get("report", {}).get("table1")
    if configured:
        wanted = list(configured)
    else:
        modelling = _modelling(inp)
        wanted = [
            *list(modelling.get("covariates") or []),
            inp.settings.get("kaplan_meier", {}).get("group"),
            modelling.get("treatment"),
        ]
    out: list[str] = []
    for col in wanted:
        if col and col in inp.clinical.columns and col not in out:
            out.append(str(col))
    return out


def _describe(values: pl.Series) -> list[tuple[str, str]]:
    """(label, text) rows describing one column in one group."""
    n_missing = values.null_count()
    rows: list[tuple[str, str]] = []
    if values.dtype.is_numeric() and values.dtype != pl.Boolean:
        x = values.drop_nulls().cast(pl.Float64).to_numpy()
        if x.size:
            q1, med, q3 = np.percentile(x, [25, 50, 75])
            rows.append(("median (IQR)", f"{fmt_num(med)} ({fmt_num(q1)}–{fmt_num(q3)})"))
        else:
            rows.append(("median (IQR)", "–"))
    else:
        known = values.drop_nulls().cast(pl.String)
        total = known.len()
        counts = known.value_counts(sort=False).sort(known.name)
        for level, count in counts.iter_rows():
            pct = 100.0 * count / total if total else 0.0
            rows.append((str(level), f"{count:,} ({pct:.1f}%)"))
    rows.append(("missing", f"{n_missing:,}"))
    return rows


def table1(inp: ReportInputs) -> pl.DataFrame:
    """Table 1: each characteristic overall and by out-of-fold risk group."""
    best, _ = chosen_models(inp)
    frame = inp.clinical
    groups: list[tuple[str, pl.DataFrame]] = [("overall", frame)]
    if best is not None and inp.models is not None and best in inp.models.risk_groups:
        rg = inp.models.risk_groups[best].select("patient_id", "group")
        joined = frame.join(rg, on="patient_id", how="left")
        for name in sorted(g for g in joined["group"].unique().to_list() if g is not None):
            groups.append((f"{name} risk", joined.filter(pl.col("group") == name)))
    columns: dict[str, list[str]] = {"characteristic": [], "": []}
    for name, part in groups:
        columns[f"{name} (n = {part.height})"] = []
    time_col, event_col = f"{inp.endpoint}_time", f"{inp.endpoint}_event"
    described = [(event_col, "events"), (time_col, "follow-up (days)")]
    described += [(c, c) for c in table1_columns(inp)]
    for col, label in described:
        if col == event_col:
            per_group = [
                [("n (%)", f"{int(p[col].sum()):,} ({100 * p[col].mean():.1f}%)")]
                if p.height
                else [("n (%)", "–")]
                for _, p in groups
            ]
        else:
            per_group = [_describe(p[col]) for _, p in groups]
        labels: list[str] = []
        for rows in per_group:
            labels += [lab for lab, _ in rows if lab not in labels]
        for k, lab in enumerate(labels):
            columns["characteristic"].append(label if k == 0 else "")
            columns[""].append(lab)
            for (name, part), rows in zip(groups, per_group, strict=True):
                columns[f"{name} (n = {part.height})"].append(dict(rows).get(lab, "0 (0.0%)"))
    return pl.DataFrame(columns)


def _table1_section(inp: ReportInputs) -> str:
    best, _ = chosen_models(inp)
    note = (
        f"Risk groups are the out-of-fold groups of model <b>{_esc(best)}</b> (high: above "
        "the median out-of-fold risk in most repeats), so no patient's group comes from a "
        "model fitted on that patient."
        if best
        else "No model was fitted: Table 1 shows the whole cohort only."
    )
    if best and inp.models is not None and best in inp.models.risk_groups:
        grouped = set(inp.models.risk_groups[best]["patient_id"].to_list())
        missing = inp.clinical.filter(~pl.col("patient_id").is_in(grouped)).height
        if missing:
            note += (
                f" {missing:,} patient(s) have no risk group (no data in a modality the "
                "model uses); they are counted in the overall column only."
            )
    return f"<p>{note}</p>" + html_table(
        table1(inp), caption="Clinical characteristics: n (%) or median (IQR)"
    )


def _modalities_table(inp: ReportInputs) -> pl.DataFrame:
    rows = []
    for modality, screen in inp.screens.items():
        patients = int(screen["n"].max() or 0) if screen.height else 0
        rows.append(
            {
                "modality": modality,
                "features": screen.height,
                "patients with data": patients,
                "% of analysed patients": 100.0 * patients / max(inp.clinical.height, 1),
                "features screened (ok)": screen.filter(pl.col("status") == "ok").height,
                "excluded samples": inp.audit.filter(
                    (pl.col("modality") == modality) & (pl.col("level") == "sample")
                ).height,
            }
        )
    schema = {
        "modality": pl.String,
        "features": pl.Int64,
        "patients with data": pl.Int64,
        "% of analysed patients": pl.Float64,
        "features screened (ok)": pl.Int64,
        "excluded samples": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def _audit_section(inp: ReportInputs) -> str:
    if inp.audit.height == 0:
        return "<p>No file row, sample or patient was excluded.</p>"
    counts = (
        inp.audit.group_by("modality", "level", "reason")
        .len(name="count")
        .sort("modality", "level", "reason")
    )
    listing = inp.audit.select("modality", "file", "line", "level", "id", "reason", "detail")
    return (
        html_table(counts, caption="Exclusions by modality, level and reason")
        + "<details><summary>Every excluded entity ("
        + f"{inp.audit.height:,})</summary>"
        + html_table(listing, max_rows=5000)
        + "</details>"
    )


def _intake_section(inp: ReportInputs) -> str:
    return (
        "<p>Patients with data in each modality, out of the "
        f"{inp.clinical.height:,} patients of the clinical table; the audit below lists "
        "every excluded file row, sample, patient and feature with its reason.</p>"
        + html_table(_modalities_table(inp), caption="Modalities and patient overlap")
        + _audit_section(inp)
    )


def _endpoint_section(inp: ReportInputs) -> str:
    from survomics.km import kaplan_meier  # noqa: PLC0415
    from survomics.plots import followup_plot_svg, km_plot_svg  # noqa: PLC0415

    unit = _time_unit(inp)
    time = inp.clinical[f"{inp.endpoint}_time"].to_numpy()
    event = inp.clinical[f"{inp.endpoint}_event"].to_numpy()
    overall = kaplan_meier(time, event)
    parts = [
        svg_figure(
            km_plot_svg(overall, title=f"{inp.endpoint.upper()}: all patients", time_unit=unit),
            alt="Overall Kaplan-Meier curve with number at risk",
            caption=f"Kaplan–Meier estimate of {inp.endpoint} for all {len(time):,} patients "
            f"({int(event.sum()):,} events); censored patients are marked; numbers at risk below.",
        ),
        svg_figure(
            followup_plot_svg(time, event, time_unit=unit),
            alt="Histogram of follow-up times",
            caption="Distribution of follow-up times by status at last contact.",
        ),
    ]
    group = str(inp.settings["kaplan_meier"]["group"])
    test = inp.km_logrank.row(0, named=True)
    svg = km_plot_svg(
        inp.km_table,
        title=f"{inp.endpoint.upper()} by {group}",
        time_unit=unit,
        logrank_p=float(test["p"]),
    )
    caption = (
        f"Kaplan–Meier estimates of {inp.endpoint} by {group} ({test['n']} patients); "
        f"log-rank χ² = {fmt_num(test['chisq'])} on {test['df']} df, p = {fmt_num(test['p'])}."
    )
    excluded = inp.km_excluded["patient_id"].cast(pl.String).to_list()
    note = (
        f"<p>{len(excluded)} patient(s) without a value of <code>{_esc(group)}</code> are not "
        f"in this analysis: {_esc(', '.join(excluded))}.</p>"
        if excluded
        else ""
    )
    parts += [
        svg_figure(svg, alt=f"Kaplan-Meier curves by {group}", caption=caption),
        note,
        html_table(inp.km_medians, caption="Median survival (days) by group, 95% interval"),
    ]
    return "".join(parts)


def _screening_section(inp: ReportInputs) -> str:
    from survomics.plots import volcano_plot_svg  # noqa: PLC0415

    fdr = float(inp.settings["screening"]["fdr"])
    top_n = int(inp.settings["report"]["top_features"])
    parts = []
    for modality, screen in inp.screens.items():
        ok = screen.filter(pl.col("status") == "ok")
        significant = ok.filter(pl.col("q") <= fdr).height
        status = screen.group_by("status").len(name="features").sort("status")
        top = (
            ok.sort("p", "feature")
            .head(top_n)
            .select("feature", "n", "events", "hr", "hr_lower", "hr_upper", "p", "q")
        )
        svg = volcano_plot_svg(screen, title=f"{modality}: univariate Cox", q_threshold=fdr)
        parts.append(
            f"<h3>{_esc(modality)}</h3>"
            f"<p>{ok.height:,} of {screen.height:,} features fitted; {significant:,} with "
            f"q ≤ {fmt_num(fdr)} (Benjamini–Hochberg).</p>"
            + svg_figure(
                svg,
                alt=f"Volcano plot for {modality}",
                caption=f"log hazard ratio per unit against −log10 p for {modality}; "
                f"features with q ≤ {fmt_num(fdr)} highlighted.",
            )
            + html_table(top, caption=f"Top {top_n} {modality} features by p (HR with Wald 95% CI)")
            + html_table(status, caption="Features by fit status")
        )
    return "".join(parts)


def _biomarker_section(inp: ReportInputs) -> str:
    from survomics.plots import forest_plot_svg  # noqa: PLC0415

    if not inp.biomarkers:
        return "<p>No model selected features (modelling disabled or no omics model).</p>"
    top_n = int(inp.settings["report"]["top_features"])
    parts = []
    for modality, table in inp.biomarkers.items():
        chosen = (
            table.filter(pl.col("frequency") > 0)
            .sort(["frequency", "p", "feature"], descending=[True, False, False], nulls_last=True)
            .head(top_n)
        )
        selected = table.filter(pl.col("frequency") > 0).height
        parts.append(
            f"<h3>{_esc(modality)}</h3><p>{selected:,} features were selected in at least one "
            "outer training fold; the most frequently selected are shown.</p>"
        )
        if chosen.height:
            parts.append(
                svg_figure(
                    forest_plot_svg(chosen, title=f"{modality}: selected markers"),
                    alt=f"Forest plot of selected {modality} markers",
                    caption="Whole-cohort univariate hazard ratio with 95% CI (left; "
                    "descriptive, the folds never saw it) and the fraction of outer training "
                    "folds whose model selected the feature (right).",
                )
            )
        parts.append(
            html_table(
                chosen.select(
                    [
                        c
                        for c in (
                            "feature",
                            "frequency",
                            "folds_selected",
                            "mean_coef",
                            "hr",
                            "hr_lower",
                            "hr_upper",
                            "q",
                            "direction",
                        )
                        if c in chosen.columns
                    ]
                ),
                caption=f"Top {top_n} {modality} markers by selection frequency",
            )
        )
    for modality, table in inp.predictive.items():
        parts.append(
            html_table(
                table.sort("p", "feature", nulls_last=True).head(top_n),
                caption=f"{modality}: feature × treatment interaction (top {top_n} by p)",
            )
        )
    return "".join(parts)


def metrics_wide(inp: ReportInputs) -> pl.DataFrame:
    """One row per model, one column per metric: ``mean (lower–upper)``."""
    if inp.models is None:
        return pl.DataFrame()
    unit = str(_modelling(inp).get("evaluation", {}).get("time_unit", "years"))
    metrics = inp.models.metrics
    order = metrics["metric"].unique(maintain_order=True).to_list()
    rows = []
    for model in metrics["model"].unique(maintain_order=True).to_list():
        row: dict[str, str] = {
            "model": model,
            "kind": str(inp.models.kinds.get(model, "")),
        }
        for metric in order:
            r = _metric_row(inp, model, metric)
            row[_metric_label(metric, unit=unit)] = (
                "–" if r is None else _interval(r["mean"], r["lower"], r["upper"])
            )
        rows.append(row)
    return pl.DataFrame(rows)


def _models_section(inp: ReportInputs) -> str:
    from survomics.plots import calibration_plot_svg, metrics_plot_svg  # noqa: PLC0415

    if inp.models is None:
        return "<p>Modelling was not run (<code>modelling.enabled: false</code>).</p>"
    modelling = _modelling(inp)
    evaluation = modelling.get("evaluation", {})
    unit = str(evaluation.get("time_unit", "years"))
    metrics = inp.models.metrics
    labels = {
        m: _metric_label(m, unit=unit)
        for m in metrics["metric"].unique(maintain_order=True).to_list()
        if m != "logrank_p"
    }
    repeats = metrics["n_repeats"].max()
    parts = [
        html_table(
            metrics_wide(inp),
            caption=f"Out-of-fold metrics: mean (95% interval) across {repeats} repeats",
        ),
        svg_figure(
            metrics_plot_svg(metrics, metric_labels=labels),
            alt="Model comparison with intervals across repeats",
            caption="Mean (point) and 2.5–97.5 percentile interval (line) of each metric "
            "across repeats of the outer cross-validation; C and AUC: higher is better "
            "(0.5 = chance, dotted); integrated Brier score and calibration error: lower "
            "is better.",
        ),
    ]
    horizon = evaluation.get("calibration_horizon")
    if inp.models.calibration:
        parts.append(
            svg_figure(
                calibration_plot_svg(
                    dict(inp.models.calibration), horizon_label=f"{horizon:g} {unit}"
                ),
                alt="Calibration plot",
                caption="Mean predicted out-of-fold survival against the Kaplan–Meier "
                f"observed survival at {horizon:g} {unit}, by groups of predicted survival.",
            )
        )
    ph_rows = []
    for model, table in inp.models.ph.items():
        ph_rows.append(table.select(pl.lit(model).alias("model"), pl.all()))
    if ph_rows:
        parts.append(
            html_table(
                pl.concat(ph_rows, how="diagonal_relaxed"),
                caption="Proportional-hazards tests of the final models (Grambsch–Therneau, "
                "as R cox.zph); small p suggests a non-proportional effect",
            )
        )
    return "".join(parts)


def _risk_section(inp: ReportInputs) -> str:
    from survomics.plots import km_plot_svg  # noqa: PLC0415

    best, _ = chosen_models(inp)
    if inp.models is None or best is None:
        return "<p>Modelling was not run: no risk groups.</p>"
    unit = _time_unit(inp)
    test = inp.models.risk_logrank[best].row(0, named=True)
    p = float(test["p"])
    parts = [
        svg_figure(
            km_plot_svg(
                inp.models.risk_km[best],
                title=f"{inp.endpoint.upper()} by out-of-fold risk group: {best}",
                time_unit=unit,
                logrank_p=p if math.isfinite(p) else None,
            ),
            alt=f"Kaplan-Meier curves of out-of-fold risk groups of {best}",
            caption=f"Kaplan–Meier curves of the out-of-fold risk groups of {best} "
            f"({test['n']} patients); log-rank χ² = {fmt_num(test['chisq'])} on {test['df']} "
            f"df, p = {fmt_num(test['p'])}.",
        )
    ]
    logranks = pl.concat(
        [t.select("model", "chisq", "df", "p", "n") for t in inp.models.risk_logrank.values()],
        how="vertical_relaxed",
    )
    parts.append(html_table(logranks, caption="Log-rank test of out-of-fold risk groups per model"))
    return "".join(parts)


def _validation_section(inp: ReportInputs) -> str:
    if not inp.validation:
        return (
            "<p>No external validation is configured for this cohort (<code>validate:</code>).</p>"
        )
    unit = str(_modelling(inp).get("evaluation", {}).get("time_unit", "years"))
    rows = []
    for res in inp.validation:
        values = {
            _metric_label(m, unit=unit): v for m, v in res.metrics.select("metric", "value").rows()
        }
        n = int(res.metrics["n"][0]) if "n" in res.metrics.columns and res.metrics.height else 0
        rows.append(
            {
                "trained on": res.train,
                "model": res.model,
                "patients": n,
                "missing features": res.missing.height,
                **{k: fmt_num(v) for k, v in values.items()},
            }
        )
    return html_table(
        pl.DataFrame(rows),
        caption=f"Frozen models of other cohorts scored on {inp.cohort}",
    )


def _cite(*keys: str) -> str:
    return "[" + ", ".join(str(_CITE[k]) for k in keys) + "]"


def methods_text(inp: ReportInputs) -> list[str]:
    """The Methods paragraphs (plain text, citations as [n] into :data:`CITATIONS`)."""
    s = inp.settings
    v = inp.versions
    screening = s["screening"]
    group = s["kaplan_meier"]["group"]
    tumour = s.get("samples", {}).get("tumour_types")
    paras = [
        "Clinical and omics files were read, validated and harmonised to one sample per "
        "patient (TCGA barcodes map to patients by their first 12 characters; eligible "
        f"sample types {tumour}, primary tumour first, then the lowest vial and portion); "
        "every excluded file row, sample, patient and feature was recorded with its reason.",
        f"The endpoint ({inp.endpoint}) was analysed with Kaplan–Meier estimates "
        f"{_cite('km')} (Greenwood standard errors, log-transformed 95% intervals), the "
        f"log-rank test {_cite('logrank')} by {group}, and the median follow-up by the "
        "reverse Kaplan–Meier method. Every feature of every modality was screened with a "
        f"univariate Cox proportional-hazards model {_cite('cox')} ({screening['ties']} "
        f"handling of ties{' ' + _cite('efron') if screening['ties'] == 'efron' else ''}), "
        "with Wald 95% intervals and "
        f"Benjamini–Hochberg false-discovery rates {_cite('bh')} (highlighted at q ≤ "
        f"{screening['fdr']}).",
    ]
    m = _modelling(inp)
    if inp.models is not None and m:
        pre = m.get("preprocessing", {})
        ev = m.get("evaluation", {})
        kinds = sorted(set(inp.models.kinds.values()))
        model_list = "; ".join(
            f"{name} ({', '.join([str(spec.get('kind', '')), *spec.get('modalities', [])])})"
            for name, spec in m.get("models", {}).items()
        )
        cites = []
        if "coxnet" in kinds or "early_fusion" in kinds or "late_fusion" in kinds:
            cites.append(f"elastic-net Cox {_cite('coxnet')}")
        if "rsf" in kinds:
            cites.append(f"random survival forests {_cite('rsf')}")
        if "gbsa" in kinds:
            cites.append(f"gradient-boosted survival models {_cite('gbsa')}")
        paras.append(
            f"Models ({model_list}) were evaluated by {m.get('outer_repeats')} × "
            f"{m.get('outer_folds')}-fold repeated stratified cross-validation (seed "
            f"{m.get('seed')}); every fitted step — filtering features with more than "
            f"{pre.get('max_missing')} missing, keeping the {pre.get('top_k')} most variable "
            f"by {pre.get('variability')}, imputation, scaling, {pre.get('selection')} "
            f"selection of {pre.get('select_top_k')} features, and penalty tuning by "
            f"{m.get('inner_folds')}-fold inner cross-validation — was fitted on the training "
            "folds only. Clinical covariates: "
            f"{', '.join(m.get('covariates') or []) or 'none'}. Model kinds: "
            f"{', '.join(cites) or ', '.join(kinds)}, implemented with scikit-survival "
            f"{_cite('sksurv')}. Out-of-fold predictions were assessed with Harrell's C "
            f"{_cite('harrell')}, Uno's C {_cite('uno')}, time-dependent AUC "
            f"{_cite('auc')} at {', '.join(f'{h:g}' for h in ev.get('horizons', []))} "
            f"{ev.get('time_unit')}, the integrated Brier score {_cite('graf')}, and "
            f"calibration at {ev.get('calibration_horizon')} {ev.get('time_unit')}; metrics "
            "are reported as the mean and 2.5–97.5 percentile interval across repeats. "
            "Patients were assigned to high and low risk groups by their out-of-fold risk "
            "(above the repeat's median in most repeats) and compared by the log-rank test. "
            "Final models were refitted on the whole cohort; their proportional-hazards "
            f"assumption was tested with the Grambsch–Therneau test {_cite('grambsch')}.",
        )
    software = ", ".join(f"{k} {val}" for k, val in sorted(v.items()))
    paras.append(
        f"The analysis ran as a Snakemake workflow {_cite('snakemake')} (survomics "
        f"{__version__}) with polars {_cite('polars')}, NumPy {_cite('numpy')}, SciPy "
        f"{_cite('scipy')}, scikit-learn {_cite('sklearn')} and matplotlib "
        f"{_cite('matplotlib')} (colour-blind-safe Okabe–Ito palette {_cite('okabe')}). "
        f"Software versions: {software}."
    )
    return paras


def _methods_section(inp: ReportInputs) -> str:
    paras = "".join(f"<p>{_esc(p)}</p>" for p in methods_text(inp))
    refs = "".join(f"<li>{_esc(ref)}</li>" for ref in CITATIONS.values())
    return f'<div class="methods">{paras}<h3>References</h3><ol>{refs}</ol></div>'


def _provenance_section(inp: ReportInputs) -> str:
    prov = inp.provenance
    cohort = inp.cohort
    git = prov.get("git", {}) or {}
    facts = pl.DataFrame(
        {
            "item": [
                "configuration hash (SHA-256 of the resolved configuration)",
                "seed",
                "git commit",
                "uncommitted changes",
                "Snakemake",
                "survomics",
            ],
            "value": [
                str(prov.get("config_hash", "–")),
                str(_modelling(inp).get("seed", "–")),
                str(git.get("commit") or "not a git checkout"),
                "unknown" if git.get("dirty") is None else str(git.get("dirty")).lower(),
                str(prov.get("snakemake", "–")),
                __version__,
            ],
        }
    )
    tables = [html_table(facts, caption="Run")]
    for key, caption in (
        ("inputs", "Input files (SHA-256)"),
        ("outputs", "Results this report summarises (SHA-256)"),
    ):
        hashes = prov.get(key) or {}
        if hashes:
            tables.append(
                html_table(
                    pl.DataFrame(
                        {"file": list(hashes), "sha256": list(hashes.values())},
                        schema={"file": pl.String, "sha256": pl.String},
                    ),
                    caption=caption,
                    max_rows=10_000,
                )
            )
    config_text = json.dumps(inp.settings, indent=2, sort_keys=True, default=str)
    verify = (
        "<p>The full record — every input and output of the cohort, this report included, "
        "each rule's environment and package versions — is "
        f"<code>results/{_esc(cohort)}/provenance.json</code>. To check that results are "
        "exactly these, run in the project directory:</p>"
        f"<pre>survomics verify results/{_esc(cohort)}/provenance.json</pre>"
        "<p>It rehashes every listed file and exits with 1 on any difference. To reproduce, "
        "rerun the workflow from the same inputs, configuration and commit and verify "
        "against the authors' record.</p>"
    )
    return (
        verify
        + "".join(tables)
        + f"<details><summary>Resolved configuration</summary><pre>{_esc(config_text)}</pre>"
        "</details>"
    )


def _privacy_note(inp: ReportInputs) -> str:
    if inp.pseudonymizer is not None and inp.pseudonymizer.enabled:
        return (
            "<p><em>Patient and sample ids are pseudonymised (keyed HMAC-SHA256, "
            "<code>P-</code> + 16 hex digits).</em></p>"
        )
    return ""


def pseudonymized(inp: ReportInputs) -> ReportInputs:
    """``inp`` with every registered id replaced in every table (no-op without a key)."""
    ps = inp.pseudonymizer
    if ps is None or not ps.enabled:
        return inp
    models = inp.models
    if models is not None:
        models = replace(
            models,
            risk_groups={k: ps.frame(v) for k, v in models.risk_groups.items()},
        )
    return replace(
        inp,
        clinical=ps.frame(inp.clinical),
        audit=ps.frame(inp.audit),
        km_excluded=ps.frame(inp.km_excluded),
        models=models,
    )


def render_report(inp: ReportInputs) -> str:
    """Render the report's HTML."""
    inp = pseudonymized(inp)
    bodies = {
        "Summary": _summary(inp) + _privacy_note(inp),
        "Table 1": _table1_section(inp),
        "Data intake": _intake_section(inp),
        "Endpoint": _endpoint_section(inp),
        "Screening": _screening_section(inp),
        "Biomarkers": _biomarker_section(inp),
        "Models": _models_section(inp),
        "Risk groups": _risk_section(inp),
        "External validation": _validation_section(inp),
        "Methods": _methods_section(inp),
        "Provenance": _provenance_section(inp),
    }
    anchors = {t: re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") for t in SECTIONS}
    nav = "".join(f'<li><a href="#{anchors[t]}">{_esc(t)}</a></li>' for t in SECTIONS)
    body = [f"<h1>survomics report: {_esc(inp.cohort)}</h1>", f"<nav><ol>{nav}</ol></nav>"]
    for title in SECTIONS:
        body.append(
            f'<section id="{anchors[title]}"><h2>{_esc(title)}</h2>{bodies[title]}</section>'
        )
    text = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>survomics · {_esc(inp.cohort)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    if inp.pseudonymizer is not None:
        text = inp.pseudonymizer.text(text)
    return text


def write_report(inp: ReportInputs, path: str | Path) -> None:
    """Render and write the report atomically."""
    write_text(path, render_report(inp))


def section_titles(html_text: str) -> Sequence[str]:
    """The ``<h2>`` titles of a rendered report, in order (used by tests)."""
    return [html.unescape(t) for t in re.findall(r"<h2>(.*?)</h2>", html_text)]


# --------------------------------------------------------------------------- index


@dataclass(frozen=True, slots=True, kw_only=True)
class CohortSummary:
    """One row of the index: a cohort's size and its best model."""

    cohort: str
    endpoint: str
    patients: int
    events: int
    best_model: str | None = None
    harrell_c: str | None = None


def render_index(cohorts: Sequence[CohortSummary]) -> str:
    """``results/index.html``: one row per cohort with a link to its report."""
    rows = []
    for c in cohorts:
        rows.append(
            "<tr>"
            f'<td><a href="{_esc(c.cohort)}/report.html">{_esc(c.cohort)}</a></td>'
            f"<td>{_esc(c.endpoint)}</td>"
            f'<td class="num">{c.patients:,}</td><td class="num">{c.events:,}</td>'
            f"<td>{_esc(c.best_model or '–')}</td><td>{_esc(c.harrell_c or '–')}</td>"
            "</tr>"
        )
    table = (
        "<table><caption>Cohorts</caption><thead><tr><th>cohort</th><th>endpoint</th>"
        "<th>patients</th><th>events</th><th>best model</th>"
        "<th>Harrell's C (95% interval across repeats)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>survomics · cohorts</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>\n<h1>survomics: cohorts</h1>\n"
        + table
        + "\n</body></html>\n"
    )


def cohort_summary(
    *, cohort: str, endpoint: str, clinical: pl.DataFrame, metrics: pl.DataFrame | None
) -> CohortSummary:
    """The index row of one cohort from its clinical table and metrics."""
    best = c_text = None
    if metrics is not None and metrics.height:
        c = metrics.filter((pl.col("metric") == "harrell_c") & pl.col("mean").is_not_nan())
        if c.height:
            row = c.sort(["mean", "model"], descending=[True, False]).row(0, named=True)
            best = str(row["model"])
            c_text = _interval(row["mean"], row["lower"], row["upper"])
    return CohortSummary(
        cohort=cohort,
        endpoint=endpoint,
        patients=clinical.height,
        events=int(clinical[f"{endpoint}_event"].sum()),
        best_model=best,
        harrell_c=c_text,
    )


# --------------------------------------------------------------------------- rule functions


def _tsv(path: str | Path) -> pl.DataFrame:
    return pl.read_csv(
        path,
        separator="\t",
        schema_overrides={"feature": pl.String, "patient_id": pl.String, "id": pl.String},
        infer_schema_length=10_000,
    )


def build_report(
    *,
    cohort: str,
    endpoint: str,
    settings: Mapping[str, Any],
    clinical: str | Path,
    audit: str | Path,
    screens: Mapping[str, str | Path],
    km: Mapping[str, str | Path],
    models: Sequence[str] = (),
    metrics: str | Path | None = None,
    model_files: Mapping[str, Sequence[str | Path]] | None = None,
    biomarkers: Mapping[str, str | Path] | None = None,
    predictive: Mapping[str, str | Path] | None = None,
    validation: Sequence[tuple[str, str, str | Path, str | Path]] = (),
    data_files: Sequence[str | Path] = (),
    source: str | Path = ".",
    snakemake_version: str = "",
    out: str | Path,
) -> None:
    """Rule ``report``: read a cohort's results and write its report.

    Parameters
    ----------
    cohort, endpoint, settings
        Cohort id, its endpoint name and the resolved configuration.
    clinical, audit, screens, km
        The clinical Parquet, the audit, modality -> screening table, and the Kaplan-Meier
        outputs (keys ``table``, ``logrank``, ``medians``, ``excluded``).
    models, metrics, model_files
        Model names, ``models/metrics.tsv`` and, per kind of file (``calibration``,
        ``risk_groups``, ``risk_km``, ``risk_logrank``, ``ph``), one path per model.
    biomarkers, predictive
        Modality -> biomarker table / interaction screen.
    validation
        ``(train, model, metrics.tsv, missing_features.tsv)`` of frozen models scored on
        this cohort.
    data_files
        The cohort's input files (data, configuration, sheet), hashed in Provenance.
    source, snakemake_version
        The workflow's source directory (for the git commit) and Snakemake's version.
    out
        ``results/{cohort}/report.html``.
    """
    from survomics.privacy import Pseudonymizer, load_key  # noqa: PLC0415
    from survomics.provenance import canonical_hash, git_state, sha256  # noqa: PLC0415
    from survomics.workflow import package_versions  # noqa: PLC0415

    model_files = model_files or {}
    spec = dict(settings.get("modelling", {}).get("models", {}) or {})
    outputs: list[str | Path] = [clinical, audit, *screens.values(), *km.values()]
    model_out = None
    if models and metrics is not None:
        files = {k: dict(zip(models, v, strict=True)) for k, v in model_files.items()}
        model_out = ModelOutputs(
            metrics=_tsv(metrics),
            kinds={m: str(spec.get(m, {}).get("kind", "")) for m in models},
            calibration={m: _tsv(p) for m, p in files.get("calibration", {}).items()},
            risk_groups={m: _tsv(p) for m, p in files.get("risk_groups", {}).items()},
            risk_km={m: _tsv(p) for m, p in files.get("risk_km", {}).items()},
            risk_logrank={m: _tsv(p) for m, p in files.get("risk_logrank", {}).items()},
            ph={m: _tsv(p) for m, p in files.get("ph", {}).items()},
        )
        outputs += [metrics, *(p for v in model_files.values() for p in v)]
    biomarkers = dict(biomarkers or {})
    predictive = dict(predictive or {})
    outputs += [*biomarkers.values(), *predictive.values()]
    outputs += [p for v in validation for p in v[2:]]
    privacy = settings.get("privacy", {}) or {}
    ps = Pseudonymizer(
        load_key(privacy["key_file"]) if privacy.get("pseudonymize") else None,
    )
    clin = pl.read_parquet(clinical)
    from survomics.audit import concat_audits  # noqa: PLC0415

    audit_frame = concat_audits([audit])
    km_excluded = _tsv(km["excluded"])
    register_ids(ps, clinical=clin, audit=audit_frame, others=[km_excluded])
    inp = ReportInputs(
        cohort=cohort,
        clinical=clin,
        audit=audit_frame,
        screens={m: _tsv(p) for m, p in screens.items()},
        km_table=_tsv(km["table"]),
        km_logrank=_tsv(km["logrank"]),
        km_medians=_tsv(km["medians"]),
        km_excluded=km_excluded,
        settings=dict(settings),
        endpoint=endpoint,
        versions={**package_versions(), "snakemake": snakemake_version or "unknown"},
        models=model_out,
        biomarkers={m: _tsv(p) for m, p in biomarkers.items()},
        predictive={m: _tsv(p) for m, p in predictive.items()},
        validation=[
            ValidationResult(train=t, model=m, metrics=_tsv(mp), missing=_tsv(xp))
            for t, m, mp, xp in validation
        ],
        provenance={
            "config_hash": canonical_hash(dict(settings)),
            "git": git_state(source=source),
            "snakemake": snakemake_version,
            "inputs": {str(p): sha256(p) for p in data_files},
            "outputs": {str(p): sha256(p) for p in outputs},
        },
        pseudonymizer=ps,
    )
    write_report(inp, out)


def register_ids(
    ps: Pseudonymizer,
    *,
    clinical: pl.DataFrame,
    audit: pl.DataFrame,
    others: Sequence[pl.DataFrame] = (),
) -> None:
    """Register every patient and sample id the outputs may name.

    Patient ids of the clinical table and of ``others`` (their ``patient_id`` column), and
    the audit ``id`` of every row, sample or patient (not feature or file) entry.
    """
    if not ps.enabled:
        return
    ps.register(clinical["patient_id"].to_list())
    for frame in others:
        if "patient_id" in frame.columns:
            ps.register(frame["patient_id"].cast(pl.String).to_list())
    if audit.height:
        ids = audit.filter(pl.col("level").is_in(["row", "patient", "sample"]))["id"]
        ps.register(ids.cast(pl.String).to_list())


def build_index(
    *,
    cohorts: Sequence[str],
    endpoints: Sequence[str],
    clinical: Sequence[str | Path],
    metrics: Sequence[str | Path] | None,
    out: str | Path,
) -> None:
    """Rule ``index``: ``results/index.html`` linking every cohort's report."""
    rows = []
    for k, cohort in enumerate(cohorts):
        rows.append(
            cohort_summary(
                cohort=cohort,
                endpoint=endpoints[k],
                clinical=pl.read_parquet(clinical[k], columns=None),
                metrics=_tsv(metrics[k]) if metrics else None,
            )
        )
    write_text(out, render_index(rows))
