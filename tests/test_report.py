"""The HTML report, rendered from small in-memory inputs."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from survomics.audit import AuditRecord, audit_frame
from survomics.km import kaplan_meier, km_medians, logrank_test
from survomics.report import SECTIONS, ReportInputs, fmt_num, render_report, section_titles

SETTINGS = {
    "screening": {"ties": "efron", "fdr": 0.05},
    "kaplan_meier": {"group": "stage"},
    "report": {"top_features": 3, "time_unit": "years"},
}


def inputs(feature_name: str = "GENE1") -> ReportInputs:
    rng = np.random.default_rng(7)
    n = 40
    time = rng.integers(30, 3000, n).astype(float)
    event = rng.integers(0, 2, n).astype(np.int8)
    group = np.array(["a", "b"] * (n // 2))
    clinical = pl.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "os_time": time,
            "os_event": event,
            "stage": group,
        }
    )
    test = logrank_test(time, event, group)
    screen = pl.DataFrame(
        {
            "feature": [feature_name, "GENE2", "CONST"],
            "n": [40, 38, 40],
            "events": [20, 19, 20],
            "coef": [0.8, -0.1, None],
            "se": [0.2, 0.3, None],
            "hr": [np.exp(0.8), np.exp(-0.1), None],
            "hr_lower": [1.5, 0.5, None],
            "hr_upper": [3.3, 1.6, None],
            "z": [4.0, -0.33, None],
            "p": [6.3e-5, 0.74, None],
            "q": [1.3e-4, 0.74, None],
            "p_lrt": [1e-4, 0.7, None],
            "p_score": [1e-4, 0.7, None],
            "converged": [True, True, False],
            "status": ["ok", "ok", "constant"],
        }
    )
    audit = audit_frame(
        [
            AuditRecord(
                "c1", "clinical", "clin.tsv", 5, "patient", "P999", "missing_time", "dead, no time"
            ),
            AuditRecord("c1", "rna", "rna.tsv", None, "sample", "S1", "duplicate_sample", "kept"),
        ]
    )
    return ReportInputs(
        cohort="c1",
        clinical=clinical,
        audit=audit,
        screens={"rna": screen},
        km_table=kaplan_meier(time, event, group=group),
        km_logrank=pl.DataFrame(
            {"group": ["stage"], "test": ["logrank"], "chisq": [test.chisq], "df": [test.df]}
        ).with_columns(p=pl.lit(test.p), n=pl.lit(n)),
        km_medians=km_medians(time, event, group=group),
        km_excluded=pl.DataFrame({"patient_id": ["P100"], "reason": ["missing_stage"]}),
        settings=SETTINGS,
        endpoint="os",
        versions={"numpy": np.__version__},
    )


def test_report_has_every_section_with_numbers_from_its_inputs() -> None:
    inp = inputs()
    text = render_report(inp)
    assert list(section_titles(text)) == list(SECTIONS)
    assert len(SECTIONS) == 11
    events = int(inp.clinical["os_event"].sum())
    assert f"40 patients analysed, {events} events" in text
    assert "missing_time" in text
    assert "duplicate_sample" in text
    assert "P100" in text  # patient without a KM group is named
    assert "2 of 3 features fitted; 1 with q ≤ 0.05" in text
    assert fmt_num(inp.km_logrank["p"][0]) in text


def test_report_is_self_contained_and_deterministic() -> None:
    first = render_report(inputs())
    assert first == render_report(inputs())
    assert "<script" not in first
    assert "http" not in first.replace("http-equiv", "")
    # overall KM, follow-up, KM by group, one volcano; no model figure without models
    assert first.count("data:image/svg+xml;base64,") == 4
    assert "Modelling was not run" in first


def test_report_escapes_names() -> None:
    text = render_report(inputs(feature_name="<b>GENE&1</b>"))
    assert "<b>GENE&1</b>" not in text
    assert "&lt;b&gt;GENE&amp;1&lt;/b&gt;" in text


def test_fmt_num() -> None:
    assert fmt_num(None) == "–"
    assert fmt_num(float("nan")) == "–"
    assert fmt_num(1234) == "1,234"
    assert fmt_num(0.0001234) == "1.23e-04"
    assert fmt_num(0.5) == "0.5"
    assert fmt_num(1197.0) == "1,197"
    assert fmt_num(551.5) == "551.5"
    assert fmt_num(2.5e9) == "2.50e+09"


def test_pseudonymized_report_names_no_raw_id() -> None:
    from dataclasses import replace

    from survomics.privacy import Pseudonymizer
    from survomics.report import register_ids

    inp = inputs()
    ps = Pseudonymizer(b"k" * 32)
    register_ids(ps, clinical=inp.clinical, audit=inp.audit, others=[inp.km_excluded])
    text = render_report(replace(inp, pseudonymizer=ps))
    visible = re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "", text)
    for raw in [*inp.clinical["patient_id"].to_list(), "P999", "P100"]:
        assert raw not in visible
    assert ps.pseudonym("P100") in text
    assert "pseudonymised" in text
