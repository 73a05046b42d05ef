"""The per-cohort HTML report: one self-contained file, no external assets, no scripts.

Figures are deterministic SVG from :mod:`survomics.plots`, embedded as ``data:`` URIs so
that each keeps its own ids; CSS is inline. The same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from survomics import __version__
from survomics.io import write_text

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{border-bottom:2px solid #0072B2;padding-bottom:.2em}
h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.summary{background:#f7f9fb;border-left:4px solid #0072B2;padding:.6em 1em}
figure{margin:1em 0}
figure img{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#444}
code,pre{background:#f4f4f4;padding:.1em .3em}
pre{padding:.6em;overflow-x:auto}
@media print{body{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}
"""


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


def html_table(frame: pl.DataFrame, *, caption: str | None = None, max_rows: int = 500) -> str:
    """Render a frame as an HTML table (numbers right-aligned and formatted)."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
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


def _summary(inp: ReportInputs) -> tuple[str, dict[str, Any]]:
    from survomics.km import median_followup  # noqa: PLC0415

    time = inp.clinical[f"{inp.endpoint}_time"].to_numpy()
    event = inp.clinical[f"{inp.endpoint}_event"].to_numpy()
    excluded_patients = inp.audit.filter(
        (pl.col("modality") == "clinical") & (pl.col("level").is_in(["patient", "row"]))
    ).height
    facts = {
        "patients": inp.clinical.height,
        "events": int(event.sum()),
        "median_followup_days": median_followup(time, event),
        "excluded_patients": excluded_patients,
    }
    fu = facts["median_followup_days"]
    fu_text = "not estimable" if fu is None or math.isnan(fu) else f"{fu:,.0f} days"
    text = (
        f"Cohort <b>{_esc(inp.cohort)}</b>, endpoint <b>{_esc(inp.endpoint)}</b>: "
        f"{facts['patients']:,} patients analysed, {facts['events']:,} events, "
        f"median follow-up {fu_text} (reverse Kaplan–Meier); "
        f"{excluded_patients:,} clinical rows or patients excluded (see Data intake)."
    )
    return text, facts


def _modalities_table(inp: ReportInputs) -> pl.DataFrame:
    rows = []
    for modality, screen in inp.screens.items():
        rows.append(
            {
                "modality": modality,
                "features": screen.height,
                "patients with data": int(screen["n"].max() or 0),
                "features screened (ok)": screen.filter(pl.col("status") == "ok").height,
                "excluded samples": inp.audit.filter(
                    (pl.col("modality") == modality) & (pl.col("level") == "sample")
                ).height,
            }
        )
    return pl.DataFrame(rows)


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
        html_table(counts, caption="Exclusions by modality and reason")
        + "<details><summary>Every excluded entity ("
        + f"{inp.audit.height:,})</summary>"
        + html_table(listing, max_rows=5000)
        + "</details>"
    )


def _km_section(inp: ReportInputs) -> str:
    from survomics.plots import km_plot_svg  # noqa: PLC0415

    group = str(inp.settings["kaplan_meier"]["group"])
    test = inp.km_logrank.row(0, named=True)
    svg = km_plot_svg(
        inp.km_table,
        title=f"{inp.endpoint.upper()} by {group}",
        time_unit=inp.settings["report"]["time_unit"],
        logrank_p=float(test["p"]),
    )
    caption = (
        f"Kaplan–Meier estimates of {inp.endpoint} by {group} ({test['n']} patients); "
        f"log-rank χ² = {fmt_num(test['chisq'])} on {test['df']} df, p = {fmt_num(test['p'])}."
    )
    excluded = inp.km_excluded["patient_id"].to_list()
    note = (
        f"<p>{len(excluded)} patient(s) without a value of <code>{_esc(group)}</code> are not "
        f"in this analysis: {_esc(', '.join(excluded))}.</p>"
        if excluded
        else ""
    )
    return (
        svg_figure(svg, alt=f"Kaplan-Meier curves by {group}", caption=caption)
        + note
        + html_table(inp.km_medians, caption="Median survival (days) by group, 95% interval")
    )


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


def render_report(inp: ReportInputs) -> str:
    """Render the report's HTML."""
    summary, _ = _summary(inp)
    ties = inp.settings["screening"]["ties"]
    methods = (
        "Clinical and omics files were read and harmonised to one sample per patient "
        "(TCGA primary tumour first, then lowest vial and portion). Overall survival was "
        f"analysed with univariate Cox proportional-hazards models per feature ({ties} ties), "
        "Wald 95% intervals and Benjamini–Hochberg false-discovery rates; Kaplan–Meier "
        "estimates with Greenwood standard errors and log-transformed intervals, and the "
        f"log-rank test. Software: survomics {__version__}; "
        + ", ".join(f"{k} {v}" for k, v in sorted(inp.versions.items()))
        + "."
    )
    config_text = json.dumps(inp.settings, indent=2, sort_keys=True, default=str)
    body = [
        f"<h1>survomics report: {_esc(inp.cohort)}</h1>",
        f'<p class="summary">{summary}</p>',
        "<h2>Data intake</h2>",
        html_table(_modalities_table(inp), caption="Modalities"),
        _audit_section(inp),
        "<h2>Endpoint</h2>",
        _km_section(inp),
        "<h2>Screening</h2>",
        _screening_section(inp),
        "<h2>Methods</h2>",
        f"<p>{_esc(methods)}</p>",
        "<h2>Configuration</h2>",
        f"<pre>{_esc(config_text)}</pre>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>survomics · {_esc(inp.cohort)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(inp: ReportInputs, path: str | Path) -> None:
    """Render and write the report atomically."""
    write_text(path, render_report(inp))


def section_titles(html_text: str) -> Sequence[str]:
    """The ``<h2>`` titles of a rendered report, in order (used by tests)."""
    import re  # noqa: PLC0415

    return re.findall(r"<h2>(.*?)</h2>", html_text)
