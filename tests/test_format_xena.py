"""UCSC Xena: genomic matrices (plain and gzipped), clinical matrices, survival join.

The fixtures in ``tests/data/formats/xena`` are TCGA legacy-hub layouts built from the
TCGA-ACC data by ``make_fixture.py`` there; expected values are read back from their text.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import polars as pl
import pytest

from survomics import formats
from survomics.errors import InputError
from survomics.formats import xena
from survomics.ingest import load_clinical, load_omics
from survomics.specs import EndpointSpec, FileSpec

DATA = Path(__file__).resolve().parent / "data" / "formats" / "xena"
HISEQ = DATA / "HiSeqV2"
GISTIC = DATA / "Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes.gz"
CLINICAL = DATA / "ACC_clinicalMatrix"
SURVIVAL = DATA / "ACC_survival.txt"
OS_DAYS = EndpointSpec(name="os", derive="columns", time_column="OS.time", event_column="OS")


def clinical(path: Path, **kw: object) -> FileSpec:
    base = {"cohort": "acc", "modality": "clinical", "path": str(path), "format": "xena_clinical"}
    return FileSpec(**(base | {"endpoint": "os"} | kw))  # type: ignore[arg-type]


def matrix(path: Path, modality: str = "expression", **kw: object) -> FileSpec:
    base = {"cohort": "acc", "modality": modality, "path": str(path), "format": "xena"}
    return FileSpec(**(base | {"orientation": "features_x_samples"} | kw))  # type: ignore[arg-type]


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()
    lines = [ln for ln in text.split("\n") if ln]
    return lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]


# ------------------------------------------------------------------------- matrices
@pytest.mark.parametrize("path", [HISEQ, GISTIC], ids=["plain", "gzip"])
def test_matrix_matches_file_text(path: Path) -> None:
    raw = xena.read_matrix(matrix(path))
    header, rows = rows_of(path)
    assert raw.frame.columns == ["feature", *header[1:]]
    assert raw.frame["feature"].to_list() == [r[0] for r in rows]
    for cells, got in zip(rows, raw.frame.iter_rows(), strict=True):
        assert list(got[1:]) == [None if c == "NA" else float(c) for c in cells[1:]]
    assert raw.id_type == "tcga_barcode"
    assert raw.sources == (str(path),)
    assert all(raw.frame[c].dtype == pl.Float64 for c in header[1:])


def test_matrix_errors(tmp_path: Path) -> None:
    header, rows = rows_of(HISEQ)
    bad = tmp_path / "HiSeqV2"
    rows[3][5] = "high"
    bad.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n")
    with pytest.raises(InputError, match=rf"HiSeqV2:5, column '{header[5]}': non-numeric"):
        xena.read_matrix(matrix(bad))
    bad.write_text("\t".join([*header, header[1]]) + "\n")
    with pytest.raises(InputError, match="duplicate column name"):
        xena.read_matrix(matrix(bad))
    corrupt = tmp_path / "x.gz"
    corrupt.write_bytes(GISTIC.read_bytes()[:40])
    with pytest.raises(InputError, match="cannot be decompressed"):
        xena.read_matrix(matrix(corrupt))
    with pytest.raises(InputError, match="file not found"):
        xena.read_matrix(matrix(tmp_path / "absent"))
    patients = tmp_path / "by_patient.tsv"
    patients.write_text("gene\tP1\tP2\nTP53\t1\t2\n")
    assert xena.read_matrix(matrix(patients)).id_type is None


# ------------------------------------------------------------------------- clinical
def test_clinical_collapses_samples_to_patients() -> None:
    table = xena.read_clinical(clinical(CLINICAL))
    header, rows = rows_of(CLINICAL)
    col = {h: i for i, h in enumerate(header)}
    assert table.id_column == "_PATIENT"
    assert table.frame.columns == [*header, "_line"]
    patients = list(dict.fromkeys(r[col["_PATIENT"]] for r in rows))
    assert table.frame["_PATIENT"].to_list() == patients
    for got in table.frame.iter_rows(named=True):
        cells = rows[got["_line"] - 2]
        assert got["sampleID"] == cells[0]
        assert got["sample_type_id"] == "01"  # the primary tumour is preferred
        for name in header:
            assert got[name] == (cells[col[name]] or None)
    dropped = [(i + 2, r[0]) for i, r in enumerate(rows) if r[col["sample_type_id"]] != "01"]
    assert dropped  # the fixture has solid-tissue normals
    assert [(r.line, r.id, r.reason, r.level) for r in table.records] == [
        (line, sample, "duplicate_sample", "sample") for line, sample in dropped
    ]
    assert all(r.detail.endswith(")") and "kept" in r.detail for r in table.records)


def test_clinical_without_patient_column(tmp_path: Path) -> None:
    header, rows = rows_of(CLINICAL)
    drop = header.index("_PATIENT")
    path = tmp_path / "clinicalMatrix"
    lines = ["\t".join(c for i, c in enumerate(r) if i != drop) for r in [header, *rows]]
    path.write_text("\n".join(lines) + "\n")
    table = xena.read_clinical(clinical(path))
    reference = xena.read_clinical(clinical(CLINICAL))
    assert table.frame.columns[0] == "_PATIENT"
    assert table.frame["_PATIENT"].to_list() == reference.frame["_PATIENT"].to_list()
    assert len(table.records) == len(reference.records)
    path.write_text("sampleID\tage\nABC-1\t3\n")
    with pytest.raises(InputError, match=r"clinicalMatrix:2, column 'sampleID': sample id 'ABC-1'"):
        xena.read_clinical(clinical(path))
    assert xena.read_clinical(clinical(path, id_type="patient")).frame["_PATIENT"][0] == "ABC-1"


def test_survival_join_and_conflicts(tmp_path: Path) -> None:
    table = xena.read_clinical(clinical(CLINICAL, options=(("survival", str(SURVIVAL)),)))
    s_header, s_rows = rows_of(SURVIVAL)
    by_patient = {r[1]: dict(zip(s_header, r, strict=True)) for r in s_rows}
    for got in table.frame.iter_rows(named=True):
        assert got["OS"] == by_patient[got["_PATIENT"]]["OS"]
        assert got["OS.time"] == (by_patient[got["_PATIENT"]]["OS.time"] or None)
    assert table.sources == (str(CLINICAL), str(SURVIVAL))
    assert xena.input_files(clinical(CLINICAL, options=(("survival", str(SURVIVAL)),))) == [
        str(CLINICAL),
        str(SURVIVAL),
    ]
    # two samples of one patient disagree: the error names both lines
    patient = next(r[1] for r in s_rows if sum(x[1] == r[1] for x in s_rows) > 1)
    lines = [i + 2 for i, r in enumerate(s_rows) if r[1] == patient]
    s_rows[lines[1] - 2][3] = "9999"
    conflict = tmp_path / "survival.txt"
    conflict.write_text("\n".join("\t".join(r) for r in [s_header, *s_rows]) + "\n")
    with pytest.raises(
        InputError,
        match=rf"survival.txt:{lines[1]}, column 'OS.time': patient {patient} has "
        rf"OS.time='\d+' on line {lines[0]} but OS.time='9999' on line {lines[1]}",
    ):
        xena.read_clinical(clinical(CLINICAL, options=(("survival", str(conflict)),)))
    # a survival-only patient is audited
    extra = tmp_path / "survival_extra.txt"
    extra.write_text(SURVIVAL.read_text() + "TCGA-ZZ-0000-01\tTCGA-ZZ-0000\t1\t10\n")
    table = xena.read_clinical(clinical(CLINICAL, options=(("survival", str(extra)),)))
    assert [(r.id, r.reason) for r in table.records if r.level == "patient"] == [
        ("TCGA-ZZ-0000", "survival_without_clinical")
    ]


def test_end_to_end_through_ingest() -> None:
    spec = clinical(CLINICAL, options=(("survival", str(SURVIVAL)),))
    frame, records = load_clinical(spec, OS_DAYS)
    _, s_rows = rows_of(SURVIVAL)
    first = {r[1]: r for r in reversed(s_rows)}
    assert frame["patient_id"].to_list() == list(dict.fromkeys(r[1] for r in s_rows))
    for pid, time, event in frame.select("patient_id", "os_time", "os_event").iter_rows():
        assert math.isclose(time, float(first[pid][3]))
        assert event == int(first[pid][2])
    assert {r.reason for r in records} == {"duplicate_sample"}
    patients = frame["patient_id"].to_list()
    for path, modality in ((HISEQ, "expression"), (GISTIC, "copy_number")):
        omics, audit = load_omics(matrix(path, modality), patients=patients, excluded_patients={})
        header, _ = rows_of(path)
        assert omics.columns == ["feature", *[p for p in patients if f"{p}-01" in header]]
        assert all(r.reason != "unparseable_sample_id" for r in audit)
    assert formats.input_files(matrix(HISEQ)) == [str(HISEQ)]


def test_rows_without_id_are_audited_not_lost(tmp_path: Path) -> None:
    header, rows = rows_of(CLINICAL)
    blank = [""] * len(header)
    blank[header.index("gender")] = "MALE"
    path = tmp_path / "clinicalMatrix"
    path.write_text("\n".join("\t".join(r) for r in [header, *rows, blank]) + "\n")
    survival = tmp_path / "survival.txt"
    survival.write_text(SURVIVAL.read_text() + "\t\t1\t10\n")
    spec = clinical(path, options=(("survival", str(survival)),))
    table = xena.read_clinical(spec)
    assert table.frame.filter(pl.col("_PATIENT").is_null())["_line"].to_list() == [len(rows) + 2]
    n_survival = len(SURVIVAL.read_text().splitlines())
    assert [(r.line, r.reason) for r in table.records if r.level == "row"] == [
        (n_survival + 1, "missing_patient_id")
    ]
    _, records = load_clinical(spec, OS_DAYS)
    assert ("missing_patient_id", len(rows) + 2) in {(r.reason, r.line) for r in records}
