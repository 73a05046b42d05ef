"""survomics.plots: content and byte-for-byte determinism of the SVG figures."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics import km, plots

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "data" / "reference" / "tcga_acc"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


@pytest.fixture(scope="module")
def staged() -> pl.DataFrame:
    endpoint = pl.read_csv(REF / "os_endpoint.tsv", separator="\t")
    return endpoint.filter(pl.col("stage").is_not_null())


@pytest.fixture(scope="module")
def km_frame(staged: pl.DataFrame) -> pl.DataFrame:
    return km.kaplan_meier(staged["time"], staged["event"], group=staged["stage"])


@pytest.fixture(scope="module")
def screen() -> pl.DataFrame:
    """The R univariate screen in the screening step's column names, plus failed rows."""
    fitted = pl.read_csv(REF / "univariate_cox_expression_log2p1_efron.tsv", separator="\t")
    ok = fitted.select(
        "feature",
        "coef",
        pl.col("p_wald").alias("p"),
        pl.col("q_bh").alias("q"),
        pl.lit("ok").alias("status"),
    )
    failed = pl.DataFrame(
        {
            "feature": ["FAILED_CONSTANT", "FAILED_NAN"],
            "coef": [None, float("nan")],
            "p": [None, 1e-30],
            "q": [None, 1e-28],
            "status": ["constant", "ok"],
        },
        schema=ok.schema,
    )
    return pl.concat([ok, failed])


def _texts(svg: str) -> list[str]:
    """All text content of the SVG (text is kept as text: svg.fonttype = none)."""
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter(SVG_TEXT)]


def _km_svg(frame: pl.DataFrame, p: float) -> str:
    return plots.km_plot_svg(frame, title="Overall survival by stage", logrank_p=p)


def test_km_plot_content(staged: pl.DataFrame, km_frame: pl.DataFrame) -> None:
    p = km.logrank_test(staged["time"], staged["event"], staged["stage"]).p
    svg = _km_svg(km_frame, p)
    texts = _texts(svg)
    assert "Overall survival by stage" in texts
    assert "Time (years)" in texts
    assert "Survival probability" in texts
    assert "Number at risk" in texts
    assert f"Log-rank p = {p:.1e}" in texts
    for stratum in km_frame["stratum"].unique().to_list():
        assert stratum in texts  # at-risk table row label
        n = int((staged["stage"] == stratum).sum())
        assert any(t.startswith(f"{stratum} (n = {n},") for t in texts)  # legend
    assert "<dc:date>" not in svg


def test_km_plot_time_unit_and_at_risk_table(km_frame: pl.DataFrame) -> None:
    svg = plots.km_plot_svg(
        km_frame, title="t", time_unit="months", at_risk_times=[0.0, 24.0, 48.0]
    )
    texts = _texts(svg)
    assert "Time (months)" in texts
    assert "Log-rank" not in " ".join(texts)
    for label in ("0", "24", "48"):
        assert label in texts  # axis ticks at the tabulated times


def test_numbers_at_risk_count_follow_up_at_or_after_the_time(staged: pl.DataFrame) -> None:
    frame = km.kaplan_meier(staged["time"], staged["event"])
    at_days = np.array([0.0, 365.25, 730.5, 1e6])
    counts = plots._at_risk(frame["time"].to_numpy(), frame["n_risk"].to_numpy(), at_days)
    time = staged["time"].to_numpy()
    assert counts == [int((time >= t).sum()) for t in at_days]


def test_km_plot_rejects_bad_input(km_frame: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="time_unit"):
        plots.km_plot_svg(km_frame, title="t", time_unit="weeks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lacks columns"):
        plots.km_plot_svg(km_frame.drop("n_censor"), title="t")


def test_volcano_plot_content(screen: pl.DataFrame) -> None:
    svg = plots.volcano_plot_svg(screen, title="Expression screen", label_top=5)
    texts = _texts(svg)
    assert "Expression screen" in texts
    assert any("log hazard ratio" in t for t in texts)
    assert any("log10" in t for t in texts)
    ranked = screen.filter(pl.col("status") == "ok", pl.col("coef").is_not_nan()).sort("p")
    top = ranked["feature"].to_list()
    assert set(top[:5]) <= set(texts)
    assert top[5] not in texts
    assert "FAILED_CONSTANT" not in texts
    assert "FAILED_NAN" not in texts  # NaN coefficient although its p is the smallest
    hits = int((ranked["q"] <= 0.05).sum())
    legend = [t for t in texts if t.startswith("q ≤ 0.05")]
    assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in legend) == hits


def test_volcano_plot_without_fitted_features(screen: pl.DataFrame) -> None:
    svg = plots.volcano_plot_svg(screen.filter(pl.col("status") != "ok"), title="none")
    assert "no feature could be fitted" in _texts(svg)


def test_svgs_are_identical_across_calls(km_frame: pl.DataFrame, screen: pl.DataFrame) -> None:
    assert _km_svg(km_frame, 0.01) == _km_svg(km_frame, 0.01)
    first = plots.volcano_plot_svg(screen, title="v")
    assert first == plots.volcano_plot_svg(screen, title="v")


def test_svgs_are_identical_across_processes(
    km_frame: pl.DataFrame, screen: pl.DataFrame, tmp_path: Path
) -> None:
    km_frame.write_parquet(tmp_path / "km.parquet")
    screen.write_parquet(tmp_path / "screen.parquet")
    script = textwrap.dedent(
        f"""
        import hashlib, polars as pl
        from survomics import plots
        km = pl.read_parquet({str(tmp_path / "km.parquet")!r})
        screen = pl.read_parquet({str(tmp_path / "screen.parquet")!r})
        for svg in (
            plots.km_plot_svg(km, title="Overall survival by stage", logrank_p=0.01),
            plots.volcano_plot_svg(screen, title="v"),
        ):
            print(hashlib.sha256(svg.encode()).hexdigest())
        """
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = [
        hashlib.sha256(svg.encode()).hexdigest()
        for svg in (_km_svg(km_frame, 0.01), plots.volcano_plot_svg(screen, title="v"))
    ]
    assert proc.stdout.split() == expected


def _colours(svg: str) -> set[str]:
    """Every fill/stroke colour used in the SVG (upper case hex)."""
    import re

    return {c.upper() for c in re.findall(r"(?:fill|stroke)[:=]\s*\"?(#[0-9a-fA-F]{6})", svg)}


def test_followup_plot_counts_and_units(staged: pl.DataFrame) -> None:
    svg = plots.followup_plot_svg(staged["time"], staged["event"], time_unit="months")
    texts = _texts(svg)
    events = int(staged["event"].sum())
    assert f"event ({events})" in texts
    assert f"censored ({staged.height - events})" in texts
    assert "Follow-up time (months)" in texts
    assert "Patients (count)" in texts
    assert svg == plots.followup_plot_svg(staged["time"], staged["event"], time_unit="months")
    with pytest.raises(ValueError, match="differ in length"):
        plots.followup_plot_svg([1.0, 2.0], [1])


def test_forest_plot_labels_every_marker(screen: pl.DataFrame) -> None:
    top = (
        screen.filter(pl.col("status") == "ok", pl.col("coef").is_not_nan())
        .sort("p")
        .head(6)
        .with_columns(
            hr=pl.col("coef").exp(),
            hr_lower=(pl.col("coef") - 0.4).exp(),
            hr_upper=(pl.col("coef") + 0.4).exp(),
            frequency=pl.Series([1.0, 0.8, 0.6, 0.4, 0.2, 0.0]),
        )
    )
    svg = plots.forest_plot_svg(top, title="markers")
    texts = _texts(svg)
    assert set(top["feature"].to_list()) <= set(texts)
    assert any("Hazard ratio" in t and "log scale" in t for t in texts)
    assert any("Selection frequency" in t for t in texts)
    assert _colours(svg) & {c.upper() for c in plots.OKABE_ITO}
    assert svg == plots.forest_plot_svg(top, title="markers")
    with pytest.raises(ValueError, match="lacks columns"):
        plots.forest_plot_svg(top.drop("frequency"), title="x")


def test_metrics_and_calibration_plots() -> None:
    metrics = pl.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "metric": ["harrell_c", "ibs", "harrell_c", "ibs"],
            "mean": [0.7, 0.15, 0.6, float("nan")],
            "lower": [0.65, 0.12, 0.55, float("nan")],
            "upper": [0.75, 0.18, 0.66, float("nan")],
        }
    )
    labels = {"harrell_c": "Harrell's C (unitless)", "ibs": "IBS (squared probability)"}
    svg = plots.metrics_plot_svg(metrics, metric_labels=labels)
    texts = _texts(svg)
    assert set(labels.values()) <= set(texts)
    assert {"a", "b"} <= set(texts)
    assert svg == plots.metrics_plot_svg(metrics, metric_labels=labels)
    table = pl.DataFrame(
        {
            "predicted": [0.3, 0.6, 0.9],
            "observed": [0.35, 0.55, float("nan")],
            "lower_95": [0.2, 0.4, None],
            "upper_95": [0.5, 0.7, None],
        }
    )
    svg = plots.calibration_plot_svg({"m1": table}, horizon_label="3 years")
    texts = _texts(svg)
    assert "Predicted survival probability at 3 years" in texts
    assert "m1" in texts
    assert "<dc:date>" not in svg
