"""The report of a real run, rendered in headless Chromium and checked against the run.

Chromium is driven over the Chrome DevTools Protocol through ``--remote-debugging-pipe``
(JSON messages separated by NUL bytes on file descriptors 3 and 4), so no websocket
library is needed. The page's console messages, uncaught exceptions, log entries and
failed or non-local requests are recorded; every image must have decoded (``complete``
with a natural width); a full-page screenshot and a PDF print are saved under
``<repo>/results/test-artifacts/`` (git-ignored; the CI artefact).

The run: the shared run of ``tests/conftest.py`` (the workflow on the bundled cohort with
the small modelling settings and ``privacy.pseudonymize: true``, on 2 cores), also checked
by ``tests/test_workflow.py``. ``SURVOMICS_REPORT_RUN=<workdir>`` reuses an existing run's
working directory instead (for local iteration).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from survomics.privacy import Pseudonymizer
from survomics.report import SECTIONS, fmt_num, section_titles

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "workflow" / "small.yaml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "results" / "test-artifacts"
COHORT = "tcga_acc"
MODELS = tuple(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["modelling"]["models"])

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def workdir(acc_run: Path) -> Path:
    """The shared run of ``tests/conftest.py`` (small modelling settings, pseudonymized
    shareable tables); every target this module checks is in its default target."""
    for target in (
        f"results/{COHORT}/report.html",
        "results/index.html",
        f"results/{COHORT}/shareable/clinical.tsv",
        *(f"results/{COHORT}/shareable/risk_groups.{m}.tsv" for m in MODELS),
    ):
        assert (acc_run / target).is_file(), target
    return acc_run


@pytest.fixture(scope="module")
def results(workdir: Path) -> Path:
    return workdir / "results" / COHORT


@pytest.fixture(scope="module")
def report_html(results: Path) -> str:
    return (results / "report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- CDP client


class Chromium:
    """A headless Chromium driven over ``--remote-debugging-pipe``."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def _fds() -> None:  # in the child: the pipe ends become fds 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=_fds,  # noqa: PLW1509 - no threads are started before
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = "Chromium did not answer in time"
                raise TimeoutError(msg)
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    msg = "Chromium closed the pipe"
                    raise ConnectionError(msg)
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its result (events meanwhile go to ``events``)."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    msg = f"{method}: {reply['error']}"
                    raise RuntimeError(msg)
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, *, timeout: float = 60) -> dict[str, Any]:
        """Wait for an event (or return one already received)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError, RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def rendered(results: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Load the report in Chromium; return images, problems, screenshot and PDF paths."""
    browser = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                     session=session)  # fmt: skip
        url = (results / "report.html").resolve().as_uri()
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        images = browser.send(
            "Runtime.evaluate",
            {
                "expression": "JSON.stringify(Array.from(document.images).map(i => ({alt: i.alt,"
                " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})))",
                "returnByValue": True,
            },
            session=session,
        )["result"]["value"]
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics["cssContentSize"]
        shot = browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1},
            },
            session=session,
        )  # fmt: skip
        pdf = browser.send("Page.printToPDF", {"printBackground": True}, session=session)
    finally:
        browser.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "report.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    pdf_path = ARTIFACTS / "report.pdf"
    pdf_path.write_bytes(base64.b64decode(pdf["data"]))
    problems = []
    requests = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in {"error", "warning"}:
            problems.append(f"log: {params['entry']}")
        elif method == "Network.loadingFailed":
            problems.append(f"failed load: {params}")
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
    return {
        "images": json.loads(images),
        "problems": problems,
        "requests": requests,
        "png": png,
        "pdf": pdf_path,
        "height": size["height"],
    }


# --------------------------------------------------------------------------- tests


def test_every_image_loads_and_nothing_fails(rendered: dict[str, Any], report_html: str) -> None:
    images = rendered["images"]
    assert len(images) == report_html.count("<img ")
    assert len(images) >= 8
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == []
    assert rendered["problems"] == []
    # no network: the page itself is the only request; every image is a data: URI
    assert all(u.startswith(("file:", "data:")) for u in rendered["requests"])
    assert "<script" not in report_html


def test_screenshot_and_print_are_saved(rendered: dict[str, Any]) -> None:
    png = rendered["png"].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 1000
    assert height == pytest.approx(rendered["height"], abs=2)  # the full page, not a viewport
    assert height > 3000
    assert rendered["pdf"].read_bytes().startswith(b"%PDF")


def _visible(text: str) -> str:
    return re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", text)


def test_each_section_holds_the_numbers_of_the_run(
    results: Path, report_html: str, workdir: Path
) -> None:
    assert list(section_titles(report_html)) == list(SECTIONS)
    sections = dict(zip(SECTIONS, re.split(r"<h2>.*?</h2>", report_html)[1:], strict=True))
    clinical = pl.read_parquet(results / "data" / "clinical.parquet")
    events = int(clinical["os_event"].sum())
    assert f"{clinical.height:,} patients analysed, {events:,} events" in sections["Summary"]
    metrics = pl.read_csv(results / "models" / "metrics.tsv", separator="\t")
    c = metrics.filter(pl.col("metric") == "harrell_c").sort("mean", descending=True)
    best = c.row(0, named=True)
    assert f"<b>{best['model']}</b>" in sections["Summary"]
    assert (
        f"{fmt_num(best['mean'])} ({fmt_num(best['lower'])}–{fmt_num(best['upper'])})"
        in sections["Summary"]
    )
    groups = pl.read_csv(results / "models" / best["model"] / "risk_groups.tsv", separator="\t")
    for name in ("high", "low"):
        n = groups.filter(pl.col("group") == name).height
        assert f"{name} risk (n = {n})" in sections["Table 1"]
    audit = pl.read_csv(results / "data" / "audit.tsv", separator="\t", infer_schema=False)
    for reason in audit["reason"].unique().to_list():
        assert reason in sections["Data intake"]
    assert (
        "Number at risk"
        in base64.b64decode(
            re.search(r"base64,([A-Za-z0-9+/=]+)", sections["Endpoint"]).group(1)  # type: ignore[union-attr]
        ).decode()
    )
    screen = pl.read_csv(results / "screening" / "expression.univariate_cox.tsv", separator="\t")
    top = screen.filter(pl.col("status") == "ok").sort("p", "feature").row(0, named=True)
    assert f"<td>{top['feature']}</td>" in sections["Screening"]
    assert fmt_num(top["hr"]) in sections["Screening"]
    markers = pl.read_csv(results / "biomarkers" / "expression.tsv", separator="\t")
    first = markers.sort(["frequency", "p"], descending=[True, False]).row(0, named=True)
    assert f"<td>{first['feature']}</td>" in sections["Biomarkers"]
    for row in metrics.filter(pl.col("metric") == "uno_c").iter_rows(named=True):
        assert f"<td>{row['model']}</td>" in sections["Models"]
        assert fmt_num(row["mean"]) in sections["Models"]
    ph = pl.read_csv(results / "models" / best["model"] / "ph_test.tsv", separator="\t")
    assert fmt_num(ph.filter(pl.col("term") == "GLOBAL")["p"][0]) in sections["Models"]
    logrank = pl.read_csv(
        results / "models" / best["model"] / "risk_groups_logrank.tsv", separator="\t"
    )
    assert f"p = {fmt_num(logrank['p'][0])}" in sections["Risk groups"]
    assert "validate:" in sections["External validation"]
    for cite in ("Cox DR", "Efron B", "Harrell FE", "Uno H", "Graf E", "Simon N",
                 "Ishwaran H", "Pölsterl S", "Mölder F"):  # fmt: skip
        assert cite in sections["Methods"]
    assert f"polars {pl.__version__}" in sections["Methods"]
    config = (workdir / "config" / "config.yaml").resolve()
    from survomics.provenance import sha256

    assert sha256(config) in sections["Provenance"]
    assert sha256(results / "models" / "metrics.tsv") in sections["Provenance"]
    assert f"survomics verify results/{COHORT}/provenance.json" in sections["Provenance"]


def test_no_raw_patient_id_in_shareable_outputs(results: Path, workdir: Path) -> None:
    raw = pl.read_csv(
        workdir / "data" / COHORT / "clinical_patient.tsv", separator="\t", infer_schema=False
    )["patientID"].to_list()
    audit = pl.read_csv(results / "data" / "audit.tsv", separator="\t", infer_schema=False)
    samples = audit.filter(pl.col("level") == "sample")["id"].to_list()
    raw_ids = {r for r in raw + samples if r}
    assert len(raw_ids) > 50
    shared = [results / "report.html", *sorted((results / "shareable").glob("*.tsv"))]
    models = [p.parent.name for p in (results / "models").glob("*/risk_groups.tsv")]
    assert len(shared) == 1 + 3 + len(models)
    for path in shared:
        text = path.read_text(encoding="utf-8")
        visible = _visible(text).lower()
        leaked = sorted(r for r in raw_ids if r.lower() in visible)
        assert leaked == [], path
    key = (workdir / "privacy.key").read_bytes().strip()
    ps = Pseudonymizer(key)
    clinical = pl.read_parquet(results / "data" / "clinical.parquet")
    shared_clinical = pl.read_csv(results / "shareable" / "clinical.tsv", separator="\t")
    assert shared_clinical["patient_id"].to_list() == [
        ps.pseudonym(p) for p in clinical["patient_id"].to_list()
    ]


def test_index_links_every_cohort_report(workdir: Path) -> None:
    text = (workdir / "results" / "index.html").read_text(encoding="utf-8")
    assert f'href="{COHORT}/report.html"' in text
    clinical = pl.read_parquet(workdir / "results" / COHORT / "data" / "clinical.parquet")
    assert f'<td class="num">{clinical.height:,}</td>' in text
