"""Intake QC report on the bundled TCGA-ACC cohort, ingested by the real ingest functions."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import re
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from lifelines import KaplanMeierFitter

from survomics import qc
from survomics import workflow as wf
from survomics.audit import concat_audits
from survomics.config import load_settings
from survomics.specs import FileSpec

ROOT = Path(__file__).resolve().parents[1]
COHORT = "tcga_acc"
TUMOUR_TYPES = list(range(1, 10))


def acc_specs() -> list[FileSpec]:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    settings = load_settings(cfg, config_path="config/config.yaml", base=ROOT)
    return [
        dataclasses.replace(s, path=str(ROOT / s.path))
        for s in settings.files
        if s.cohort == COHORT
    ]


def ingest(specs: list[FileSpec], out: Path, endpoint: str = "os") -> dict[str, Path]:
    """Run the real ingest rule functions into ``out``; return the QC inputs."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    settings = load_settings(cfg, config_path="config/config.yaml", base=ROOT)
    clinical_spec = next(s for s in specs if s.modality == "clinical")
    wf.ingest_clinical(
        spec=clinical_spec,
        endpoint=settings.endpoints[endpoint],
        out_parquet=out / "clinical.parquet",
        out_audit=out / "audit" / "clinical.tsv",
    )
    audits = [out / "audit" / "clinical.tsv"]
    paths: dict[str, Path] = {}
    for spec in specs:
        if spec.modality == "clinical":
            continue
        paths[spec.modality] = out / f"{spec.modality}.parquet"
        wf.ingest_omics(
            spec=spec,
            clinical=out / "clinical.parquet",
            clinical_audit=out / "audit" / "clinical.tsv",
            tumour_types=TUMOUR_TYPES,
            out_parquet=paths[spec.modality],
            out_audit=out / "audit" / f"{spec.modality}.tsv",
        )
        audits.append(out / "audit" / f"{spec.modality}.tsv")
    wf.gather_audit(inputs=audits, out=out / "audit.tsv")
    return paths


def run_qc(specs: list[FileSpec], data: Path, matrices: dict[str, Path], out: Path) -> Path:
    qc.intake_qc(
        cohort=COHORT,
        specs=specs,
        clinical=data / "clinical.parquet",
        modalities=matrices,
        audit=data / "audit.tsv",
        endpoint="os",
        out_html=out / "intake.html",
        out_tsv=out / "intake.tsv",
    )
    return out


def metric(tsv: pl.DataFrame, section: str, modality: str, name: str) -> str:
    hit = tsv.filter(
        (pl.col("section") == section)
        & (pl.col("modality") == modality)
        & (pl.col("metric") == name)
    )
    assert hit.height == 1, (section, modality, name, hit)
    value = hit["value"][0]
    return "" if value is None else str(value)


@pytest.fixture(scope="module")
def acc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("qc_acc")
    specs = acc_specs()
    matrices = ingest(specs, base / "data")
    out = run_qc(specs, base / "data", matrices, base / "qc")
    return {
        "specs": specs,
        "data": base / "data",
        "matrices": matrices,
        "out": out,
        "tsv": pl.read_csv(out / "intake.tsv", separator="\t", infer_schema=False),
        "html": (out / "intake.html").read_text(encoding="utf-8"),
    }


def test_files_have_size_and_sha256_of_every_input(acc: dict) -> None:
    tsv = acc["tsv"]
    for spec in acc["specs"]:
        data = Path(spec.path).read_bytes()
        assert metric(tsv, "files", spec.modality, f"bytes:{spec.path}") == str(len(data))
        digest = hashlib.sha256(data).hexdigest()
        assert metric(tsv, "files", spec.modality, f"sha256:{spec.path}") == digest
        assert digest in acc["html"]
    assert tsv.filter(pl.col("section") == "files").height == 2 * len(acc["specs"])


def test_modalities_as_read_against_kept(acc: dict) -> None:
    tsv = acc["tsv"]
    clinical = pl.read_parquet(acc["data"] / "clinical.parquet")
    audit = concat_audits([acc["data"] / "audit.tsv"])
    for spec in acc["specs"]:
        raw = pl.read_csv(spec.path, separator="\t", infer_schema=False)
        if spec.modality == "clinical":
            assert metric(tsv, "modalities", "clinical", "rows_read") == str(raw.height)
            continue
        kept = pl.read_parquet(acc["matrices"][spec.modality])
        mod = spec.modality
        assert metric(tsv, "modalities", mod, "rows_read") == str(raw.height)
        assert metric(tsv, "modalities", mod, "samples_read") == str(raw.width - 1)
        assert metric(tsv, "modalities", mod, "rows_kept") == str(kept.height)
        assert metric(tsv, "modalities", mod, "patients_kept") == str(kept.width - 1)
        excluded = audit.filter((pl.col("modality") == mod) & (pl.col("level") == "sample"))
        assert metric(tsv, "modalities", mod, "samples_excluded") == str(excluded.height)
        # nothing silently dropped: as read = kept + audited
        assert raw.width - 1 == kept.width - 1 + excluded.height
        assert metric(tsv, "modalities", mod, "samples_unaccounted") == "0"
        pct = float(metric(tsv, "modalities", mod, "pct_of_clinical"))
        assert pct == pytest.approx(100 * (kept.width - 1) / clinical.height)


def test_missingness_and_value_distribution(acc: dict) -> None:
    tsv = acc["tsv"]
    for mod, path in acc["matrices"].items():
        kept = pl.read_parquet(path)
        long = kept.unpivot(index="feature")["value"]
        cells = kept.height * (kept.width - 1)
        missing = int(long.is_null().sum() + long.is_nan().sum())
        assert metric(tsv, "missingness", mod, "cells") == str(cells)
        assert metric(tsv, "missingness", mod, "missing_cells") == str(missing)
        values = long.drop_nulls().drop_nans()
        for name, expected in (
            ("min", values.min()),
            ("q1", values.quantile(0.25, interpolation="linear")),
            ("median", values.quantile(0.5, interpolation="linear")),
            ("q3", values.quantile(0.75, interpolation="linear")),
            ("max", values.max()),
        ):
            assert float(metric(tsv, "values", mod, name)) == pytest.approx(expected, rel=1e-12)
        assert metric(tsv, "values", mod, "cells_used") == str(values.len())
    # one histogram per modality + the UpSet plot, all inline
    assert acc["html"].count("data:image/svg+xml;base64,") == len(acc["matrices"]) + 1


def test_patient_overlap_counts_match_python_sets(acc: dict) -> None:
    tsv = acc["tsv"]
    sets = {"clinical": set(pl.read_parquet(acc["data"] / "clinical.parquet")["patient_id"])}
    for mod, path in acc["matrices"].items():
        sets[mod] = set(pl.read_parquet(path).columns) - {"feature"}
    every = set().union(*sets.values())
    expected = Counter("+".join(n for n, s in sets.items() if p in s) for p in every)
    rows = tsv.filter((pl.col("section") == "overlap") & (pl.col("metric") == "patients"))
    got = {r["modality"]: int(r["value"]) for r in rows.iter_rows(named=True)}
    assert got == dict(expected)
    assert sum(got.values()) == len(every)
    for name, members in sets.items():
        assert metric(tsv, "overlap", name, "set_size") == str(len(members))


def _r_median(times: np.ndarray, curve: np.ndarray) -> float:
    below = np.flatnonzero(curve <= 0.5)
    return float(times[below[0]]) if below.size else float("nan")


def test_endpoint_summary_against_lifelines(acc: dict) -> None:
    tsv = acc["tsv"]
    clinical = pl.read_parquet(acc["data"] / "clinical.parquet")
    time = clinical["os_time"].to_numpy()
    event = clinical["os_event"].to_numpy().astype(int)
    assert metric(tsv, "endpoint", "clinical", "patients") == str(len(time))
    assert metric(tsv, "endpoint", "clinical", "events") == str(event.sum())
    assert metric(tsv, "endpoint", "clinical", "censored") == str((event == 0).sum())

    reverse = KaplanMeierFitter().fit(time, 1 - event)
    followup = float(metric(tsv, "endpoint", "clinical", "median_followup_days"))
    assert followup == pytest.approx(reverse.median_survival_time_)

    km = KaplanMeierFitter().fit(time, event)
    assert float(metric(tsv, "endpoint", "clinical", "median_survival_days")) == pytest.approx(
        km.median_survival_time_
    )
    # R's log-transformed Greenwood interval, from lifelines' event table
    table = km.event_table
    at, d = table["at_risk"].to_numpy(), table["observed"].to_numpy()
    times = table.index.to_numpy()
    surv = km.survival_function_.to_numpy().ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(np.cumsum(np.where(d > 0, d / (at * (at - d)), 0.0)))
    lower, upper = surv * np.exp(-1.959963984540054 * se), surv * np.exp(1.959963984540054 * se)
    for name, curve in (("lower_95", lower), ("upper_95", np.minimum(upper, 1))):
        got = metric(tsv, "endpoint", "clinical", f"median_survival_{name}")
        expected = _r_median(times, curve)
        assert (got == "" and np.isnan(expected)) or float(got) == pytest.approx(expected)

    zero = int((time == 0).sum())
    assert metric(tsv, "endpoint", "clinical", "zero_time") == str(zero)
    warnings = tsv.filter(pl.col("section") == "warning")["metric"].to_list()
    assert ("zero_time" in warnings) == (zero > 0)
    assert ("followup_over_20_years" in warnings) == bool((time > 20 * 365.25).any())


def test_bundled_cohort_is_accepted_and_bytes_are_deterministic(acc: dict, tmp_path: Path) -> None:
    tsv = acc["tsv"]
    assert metric(tsv, "verdict", "all", "status") == "ACCEPT"
    assert metric(tsv, "verdict", "all", "problems") == "0"
    assert "Verdict: ACCEPT" in acc["html"]
    again = run_qc(acc["specs"], acc["data"], acc["matrices"], tmp_path)
    for name in ("intake.html", "intake.tsv"):
        assert (again / name).read_bytes() == (acc["out"] / name).read_bytes()


def test_html_is_self_contained(acc: dict) -> None:
    text = acc["html"]
    assert "http:" not in text
    assert "https:" not in text
    assert "<script" not in text
    assert "<link" not in text
    sources = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert sources
    assert all(s.startswith("data:") for s in sources)
    titles = re.findall(r"<h2>(.*?)</h2>", text)
    assert titles == ["Files read", "Modalities", "Patient overlap", "Exclusions", "Endpoint"]


def _heavy_modality(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """Protein file with 10 tumour samples, 30 normal samples and missing cells."""
    raw = pl.read_csv(ROOT / "data" / "tcga_acc" / "protein_rppa.tsv", separator="\t")
    tumours = [c for c in raw.columns if c != "feature"][:10]
    normals = []
    for k, barcode in enumerate([c for c in raw.columns if c != "feature"][:30]):
        normals.append(barcode[:13] + "11A" + barcode[16:])
        raw = raw.with_columns(pl.col(barcode).alias(normals[-1]))
        assert k < 30
    frame = raw.select("feature", *tumours, *normals)
    # features 0..2: half of the kept patients missing; feature 3: one missing cell
    frame = frame.with_columns(
        [
            pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col(c)).alias(c)
            for c in tumours[:5]
        ]
    ).with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(None)
        .otherwise(pl.col(tumours[9]))
        .alias(tumours[9])
    )
    path = tmp_path / "protein_heavy.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(frame.write_csv(separator="\t", null_value="NA"))
    return path, tumours, normals


def test_exclusion_heavy_modality_triggers_the_verdict(tmp_path: Path) -> None:
    path, tumours, normals = _heavy_modality(tmp_path)
    base = acc_specs()
    protein = next(s for s in base if s.modality == "protein")
    specs = [s for s in base if s.modality in {"clinical", "expression"}] + [
        dataclasses.replace(protein, modality="protein_heavy", path=str(path))
    ]
    matrices = ingest(specs, tmp_path / "data")
    out = run_qc(specs, tmp_path / "data", matrices, tmp_path / "qc")
    tsv = pl.read_csv(out / "intake.tsv", separator="\t", infer_schema=False)
    html_text = (out / "intake.html").read_text(encoding="utf-8")

    assert metric(tsv, "modalities", "protein_heavy", "samples_read") == str(len(tumours + normals))
    assert metric(tsv, "modalities", "protein_heavy", "patients_kept") == str(len(tumours))
    assert metric(tsv, "modalities", "protein_heavy", "samples_excluded") == str(len(normals))
    problems = tsv.filter(pl.col("section") == "problem")
    kinds = sorted(zip(problems["modality"], problems["metric"], strict=True))
    assert kinds == [
        ("protein_heavy", "high_exclusion"),
        ("protein_heavy", "low_patient_coverage"),
    ]
    assert metric(tsv, "verdict", "all", "status") == "REVIEW"
    assert metric(tsv, "verdict", "all", "problems") == "2"
    assert "Verdict: REVIEW" in html_text
    assert "30 of 40 samples excluded (75%" in html_text

    # missingness of the kept matrix: 3 features x 5 patients + 1 cell
    rows = pl.read_csv(ROOT / "data" / "tcga_acc" / "protein_rppa.tsv", separator="\t").height
    assert metric(tsv, "missingness", "protein_heavy", "missing_cells") == "16"
    fraction = float(metric(tsv, "missingness", "protein_heavy", "missing_fraction"))
    assert fraction == pytest.approx(16 / (rows * len(tumours)))
    assert metric(tsv, "missingness", "protein_heavy", "features_over_20pct") == "3"
    assert float(metric(tsv, "missingness", "protein_heavy", "patient_missing_max")) == (
        pytest.approx(3 / rows)
    )

    # exclusions grouped, each with its count, and every excluded sample listed
    audit = concat_audits([tmp_path / "data" / "audit.tsv"])
    counts = Counter(zip(audit["modality"], audit["level"], audit["reason"], strict=True))
    grouped = tsv.filter(pl.col("section") == "exclusions")
    got = {
        (r["modality"], *r["metric"].split(":", 1)): int(r["value"])
        for r in grouped.iter_rows(named=True)
    }
    assert got == dict(counts)
    assert sum(v for k, v in got.items() if k[0] == "protein_heavy") == len(normals)
    for barcode in normals:
        assert barcode in html_text


def test_quartiles_use_every_kth_feature_above_the_cell_limit(
    acc: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = acc["matrices"]["mirna"]
    kept = pl.read_parquet(path)
    monkeypatch.setattr(qc, "MAX_VALUE_CELLS", 5000)
    stats = qc.matrix_stats(path)
    n = kept.width - 1
    stride = int(np.ceil(kept.height * n / 5000))
    assert stats.stride == stride > 1
    x = kept.drop("feature").to_numpy()
    sub = x[::stride].ravel()
    assert stats.value_cells == sub.size
    assert stats.quartiles == pytest.approx(tuple(np.quantile(sub, [0.25, 0.5, 0.75])))
    assert (stats.minimum, stats.maximum) == (x.min(), x.max())  # exact over every cell
    assert int(stats.hist_counts.sum()) == sub.size


def test_as_read_counts_parquet_and_transposed_files(tmp_path: Path) -> None:
    raw = pl.read_csv(ROOT / "data" / "tcga_acc" / "protein_rppa.tsv", separator="\t")
    parquet = tmp_path / "protein.parquet"
    raw.write_parquet(parquet)
    spec = FileSpec(cohort="c", modality="protein", path=str(parquet), format="parquet")
    assert qc.as_read(spec) == (raw.height, raw.width - 1)
    transposed = tmp_path / "protein_t.csv"
    raw.drop("feature").transpose(include_header=True, header_name="sample").write_csv(transposed)
    spec = FileSpec(
        cohort="c",
        modality="protein",
        path=str(transposed),
        format="csv",
        orientation="samples_x_features",
    )
    assert qc.as_read(spec) == (raw.height, raw.width - 1)


def test_tsv_has_no_quoted_empty_fields(acc: dict) -> None:
    text = (acc["out"] / "intake.tsv").read_text(encoding="utf-8")
    assert '""' not in text
    assert text.splitlines()[0].split("\t") == list(qc.TSV_COLUMNS)
    assert all(line.count("\t") == 3 for line in text.splitlines())


def test_endpoint_plausibility_warnings(acc: dict) -> None:
    clinical = pl.read_parquet(acc["data"] / "clinical.parquet")
    assert {w.kind for w in qc.endpoint_qc(clinical, "os").warnings} == {"zero_time"}
    # months read as days: times 30.44 x too long
    stretched = clinical.with_columns(pl.col("os_time") * (365.25 / 12))
    over = int((stretched["os_time"] > 20 * 365.25).sum())
    result = qc.endpoint_qc(stretched, "os")
    assert result.over_20_years == over > 0
    assert "followup_over_20_years" in {w.kind for w in result.warnings}
    # a delivery whose follow-up stopped early: censored patients all before 1 year
    early = clinical.with_columns(
        pl.when(pl.col("os_event") == 0)
        .then(pl.col("os_time").clip(upper_bound=300))
        .otherwise(pl.col("os_time"))
        .alias("os_time")
    )
    censored = int((early["os_event"] == 0).sum())
    result = qc.endpoint_qc(early, "os")
    assert result.censored_before_1y == censored
    assert censored > clinical.height / 2
    assert "early_censoring" in {w.kind for w in result.warnings}
    # keep the first 5 events only
    few = clinical.with_columns(
        pl.when(pl.col("os_event").cum_sum() <= 5)
        .then(pl.col("os_event"))
        .otherwise(0)
        .alias("os_event")
    )
    assert int(few["os_event"].sum()) == 5
    assert "few_events" in {w.kind for w in qc.endpoint_qc(few, "os").warnings}


def test_html_lists_at_most_500_exclusions(acc: dict, tmp_path: Path) -> None:
    from survomics.audit import AuditRecord, write_audit

    mirna = pl.read_parquet(acc["matrices"]["mirna"])
    records = [
        AuditRecord(COHORT, "mirna", "mirna.tsv", line, "row", f"f{line}", "missing_feature_id", "")
        for line in range(2, 2 + 600)
    ]
    write_audit(records, tmp_path / "audit.tsv")
    qc.intake_qc(
        cohort=COHORT,
        specs=acc["specs"],
        clinical=acc["data"] / "clinical.parquet",
        modalities=acc["matrices"],
        audit=tmp_path / "audit.tsv",
        endpoint="os",
        out_html=tmp_path / "intake.html",
        out_tsv=tmp_path / "intake.tsv",
    )
    text = (tmp_path / "intake.html").read_text(encoding="utf-8")
    assert "f501<" in text
    assert "f502<" not in text  # lines 2..501 are the first 500
    assert "100 more rows" in text
    tsv = pl.read_csv(tmp_path / "intake.tsv", separator="\t", infer_schema=False)
    assert metric(tsv, "exclusions", "mirna", "row:missing_feature_id") == "600"
    assert metric(tsv, "modalities", "mirna", "rows_excluded") == "600"
    assert mirna.height < 600
    assert metric(tsv, "verdict", "all", "status") == "REVIEW"
