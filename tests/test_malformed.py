"""The malformed-input corpus: every dirty file stops with one exact line, or is accepted
with its decision in the audit — and a failed job writes nothing.

Each folder of ``tests/malformed/`` (``_shared`` aside) is one case: the input file(s)
and a ``case.yaml``:

``description``
    What is wrong with the file.
``kind``
    ``clinical`` (run :func:`survomics.workflow.ingest_clinical`) or ``omics`` (first the
    clinical table ``clinical`` — default ``_shared/clinical.tsv`` — then
    :func:`survomics.workflow.ingest_omics`).
``file``
    The input file of the case.
``spec`` / ``endpoint``
    Keyword arguments of the sheet row (:class:`FileSpec`; ``options`` as a mapping) and
    of the endpoint (:class:`EndpointSpec`; default: the TCGA overall survival).
``error``
    The exact message, ``{path}`` standing for the file; or, for an accepted file:
``audit``
    ``[reason, line, id]`` rows the audit must hold (``[]``: the audit must be empty), and
    ``output`` column -> the values of the written Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from survomics.audit import concat_audits
from survomics.errors import InputError
from survomics.specs import EndpointSpec, FileSpec
from survomics.workflow import ingest_clinical, ingest_omics

CORPUS = Path(__file__).resolve().parent / "malformed"
SHARED_CLINICAL = CORPUS / "_shared" / "clinical.tsv"
TCGA_OS: dict[str, Any] = {
    "name": "os",
    "derive": "tcga",
    "status_column": "vital_status",
    "death_time_column": "days_to_death",
    "followup_time_column": "days_to_last_followup",
}
CASES = sorted(p.parent for p in CORPUS.glob("*/case.yaml") if not p.parent.name.startswith("_"))


def load_case(folder: Path) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load((folder / "case.yaml").read_text())
    return case


def file_spec(path: Path, modality: str, **kw: Any) -> FileSpec:
    options = tuple((kw.pop("options") or {}).items()) if "options" in kw else ()
    fmt = kw.pop("format", "csv" if path.suffix == ".csv" else "tsv")
    return FileSpec(
        cohort="c", modality=modality, path=str(path), format=fmt, options=options, **kw
    )


def outputs(out: Path) -> list[Path]:
    return sorted(out.iterdir()) if out.exists() else []


def run_case(folder: Path, case: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Run the case's rule function(s); return its Parquet and audit paths."""
    path = folder / case["file"]
    endpoint = EndpointSpec(**case.get("endpoint", TCGA_OS))
    if case["kind"] == "clinical":
        parquet, audit = out / "clinical.parquet", out / "clinical.audit.tsv"
        ingest_clinical(
            spec=file_spec(path, "clinical", endpoint="os", **case.get("spec", {})),
            endpoint=endpoint,
            out_parquet=parquet,
            out_audit=audit,
        )
        return parquet, audit
    clinical = folder / case["clinical"] if "clinical" in case else SHARED_CLINICAL
    base = out.parent / "clinical"
    ingest_clinical(
        spec=file_spec(clinical, "clinical", endpoint="os", id_column="patientID"),
        endpoint=endpoint,
        out_parquet=base / "clinical.parquet",
        out_audit=base / "clinical.audit.tsv",
    )
    parquet, audit = out / "rna.parquet", out / "rna.audit.tsv"
    ingest_omics(
        spec=file_spec(
            path, "rna", **({"orientation": "features_x_samples"} | case.get("spec", {}))
        ),
        clinical=base / "clinical.parquet",
        clinical_audit=base / "clinical.audit.tsv",
        tumour_types=range(1, 10),
        out_parquet=parquet,
        out_audit=audit,
    )
    return parquet, audit


@pytest.mark.parametrize("folder", CASES, ids=[c.name for c in CASES])
def test_malformed_case(folder: Path, tmp_path: Path) -> None:
    case = load_case(folder)
    out = tmp_path / "out"
    path = folder / case["file"]
    if "error" in case:
        with pytest.raises(InputError) as exc:
            run_case(folder, case, out)
        message = str(exc.value)
        assert message == case["error"].format(path=path)
        assert "\n" not in message
        assert outputs(out) == []  # neither the outputs nor a temporary file
        return
    parquet, audit = run_case(folder, case, out)
    assert sorted(outputs(out)) == sorted([parquet, audit])  # no temporary file left
    records = concat_audits([audit])
    got = {(r["reason"], r["line"], r["id"]) for r in records.iter_rows(named=True)}
    expected = {tuple(row) for row in case["audit"]}
    assert expected <= got, records
    if not case["audit"]:
        assert records.height == 0, records
    frame = pl.read_parquet(parquet)
    for column, values in case.get("output", {}).items():
        assert frame[column].to_list() == values, column


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    for folder in CASES:
        case = load_case(folder)
        assert case["description"], folder.name
        assert (folder / case["file"]).is_file(), folder.name
        assert ("error" in case) != ("audit" in case), folder.name
        if "error" in case:
            message = case["error"]
            assert message.startswith("{path}"), folder.name  # names the file first
            assert "Fix: " in message, folder.name
            assert "\n" not in message, folder.name


def test_clean_counterparts_are_accepted(tmp_path: Path) -> None:
    """The shared clinical table (the base of the dirty variants) passes unchanged."""
    parquet, audit = run_case(
        SHARED_CLINICAL.parent,
        {"kind": "clinical", "file": SHARED_CLINICAL.name, "spec": {"id_column": "patientID"}},
        tmp_path,
    )
    frame = pl.read_parquet(parquet)
    assert frame.height == 6
    assert frame["os_event"].to_list() == [1, 0, 1, 0, 1, 0]
    assert concat_audits([audit]).height == 0
