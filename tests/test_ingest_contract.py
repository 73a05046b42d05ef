"""Ingest: the Parquet contract on the real cohort, every decision and every error."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics.endpoint import parse_event
from survomics.errors import InputError
from survomics.ids import parse_tcga_barcode, select_samples
from survomics.ingest import load_clinical, load_omics
from survomics.specs import EndpointSpec, FileSpec

ROOT = Path(__file__).resolve().parents[1]
ACC = ROOT / "data" / "tcga_acc"
REFERENCE = ROOT / "tests" / "data" / "reference" / "tcga_acc"
TCGA_OS = EndpointSpec(
    name="os",
    derive="tcga",
    status_column="vital_status",
    death_time_column="days_to_death",
    followup_time_column="days_to_last_followup",
)


def clinical_spec(path: Path, **kw: object) -> FileSpec:
    base = {"cohort": "c", "modality": "clinical", "path": str(path), "format": "tsv"}
    return FileSpec(**(base | {"id_column": "patientID", "endpoint": "os"} | kw))  # type: ignore[arg-type]


def omics_spec(path: Path, **kw: object) -> FileSpec:
    base = {"cohort": "c", "modality": "rna", "path": str(path), "format": "tsv"}
    return FileSpec(**(base | {"orientation": "features_x_samples"} | kw))  # type: ignore[arg-type]


def write(path: Path, rows: list[list[str]], sep: str = "\t") -> Path:
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n")
    return path


# --- the real cohort -------------------------------------------------------------------


def test_clinical_endpoint_equals_r_reference() -> None:
    frame, records = load_clinical(clinical_spec(ACC / "clinical_patient.tsv"), TCGA_OS)
    ref = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")
    assert frame["patient_id"].to_list() == ref["patient"].to_list()
    np.testing.assert_array_equal(frame["os_time"], ref["time"])
    np.testing.assert_array_equal(frame["os_event"], ref["event"])
    assert records == []
    assert frame.schema["years_to_birth"] == pl.Int64
    assert frame.schema["purity"] == pl.Float64
    assert frame.schema["pathologic_stage"] == pl.String
    assert "patientID" not in frame.columns


@pytest.mark.parametrize(
    "name",
    [
        "expression_rsem_normalized",
        "copy_number_gistic",
        "protein_rppa",
        "mutation_gene_binary",
        "mirna_counts",
    ],
)
def test_real_matrices_load_as_features_by_patients(name: str) -> None:
    path = ACC / f"{name}.tsv"
    source = pl.read_csv(path, separator="\t")
    patients = pl.read_csv(REFERENCE / "os_endpoint.tsv", separator="\t")["patient"].to_list()
    frame, records = load_omics(
        omics_spec(path), patients=patients, excluded_patients={}, tumour_types=range(1, 10)
    )
    barcodes = source.columns[1:]
    expected = [p for p in patients if p in {b[:12] for b in barcodes}]
    assert frame.columns == ["feature", *expected]
    assert frame["feature"].to_list() == source["feature"].to_list()
    assert frame.width - 1 + len(records) == len(barcodes)
    by_patient = {b[:12]: b for b in barcodes}
    for patient in expected[:5]:
        np.testing.assert_array_equal(frame[patient], source[by_patient[patient]].cast(pl.Float64))


def test_log2p1_transform_is_applied() -> None:
    path = ACC / "expression_rsem_normalized.tsv"
    source = pl.read_csv(path, separator="\t")
    patient = source.columns[1][:12]
    frame, _ = load_omics(
        omics_spec(path, transform="log2p1"), patients=[patient], excluded_patients={}
    )
    np.testing.assert_allclose(frame[patient], np.log2(source[source.columns[1]] + 1.0))


# --- sample selection -------------------------------------------------------------------


def test_barcode_parsing() -> None:
    full = parse_tcga_barcode("TCGA-OR-A5J1-01A-11R-A29S-07")
    assert full is not None
    assert (full.patient, full.sample_type, full.vial, full.portion, full.analyte) == (
        "TCGA-OR-A5J1",
        1,
        "A",
        11,
        "R",
    )
    rppa = parse_tcga_barcode("TCGA-OR-A5J2-01A-21-A39K-20")
    assert rppa is not None
    assert (rppa.portion, rppa.analyte, rppa.plate) == (21, None, "A39K")
    assert parse_tcga_barcode("TCGA-OR-A5J1") == parse_tcga_barcode("TCGA-OR-A5J1")
    assert parse_tcga_barcode("patient-7") is None


def test_one_sample_per_patient_rule() -> None:
    ids = [
        "TCGA-AA-0001-01B-11R-A000-07",
        "TCGA-AA-0001-01A-21R-A000-07",
        "TCGA-AA-0001-01A-11R-A000-07",
        "TCGA-AA-0001-11A-11R-A000-07",
        "TCGA-AA-0002-02A-11R-A000-07",
        "TCGA-AA-0002-06A-11R-A000-07",
        "TCGA-AA-0003",
        "TCGA-AA-0003-01A",
        "not-a-barcode",
    ]
    sel = select_samples(ids, id_type="tcga_barcode", tumour_types=(1, 2, 3, 5, 6))
    assert sel.chosen == {
        "TCGA-AA-0001": "TCGA-AA-0001-01A-11R-A000-07",
        "TCGA-AA-0002": "TCGA-AA-0002-02A-11R-A000-07",
        "TCGA-AA-0003": "TCGA-AA-0003-01A",
    }
    reasons = {sid: reason for sid, _, reason, _ in sel.excluded}
    assert reasons == {
        "TCGA-AA-0001-01B-11R-A000-07": "duplicate_sample",
        "TCGA-AA-0001-01A-21R-A000-07": "duplicate_sample",
        "TCGA-AA-0001-11A-11R-A000-07": "non_tumour_sample",
        "TCGA-AA-0002-06A-11R-A000-07": "duplicate_sample",
        "TCGA-AA-0003": "duplicate_sample",
        "not-a-barcode": "unparseable_sample_id",
    }
    detail = next(d for sid, _, _, d in sel.excluded if sid.startswith("TCGA-AA-0001-01B"))
    assert "TCGA-AA-0001-01A-11R-A000-07" in detail


def test_patient_ids_and_their_errors() -> None:
    sel = select_samples([" 007", "008 "], id_type="patient")
    assert sel.chosen == {"007": " 007", "008": "008 "}
    with pytest.raises(InputError, match="used by two columns"):
        select_samples(["007", "007 "], id_type="patient", path="m.tsv")
    with pytest.raises(
        InputError, match=r"m.tsv:1: no sample id is a TCGA barcode.*id_type: patient"
    ):
        select_samples(["a", "b"], id_type="tcga_barcode", path="m.tsv")


def test_omics_audit_names_each_dropped_sample(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.tsv",
        [
            ["feature", "TCGA-AA-0001-01A", "TCGA-AA-0001-11A", "TCGA-AA-0002-01A",
             "TCGA-AA-0009-01A"],
            ["G1", "1", "2", "3", "4"],
            ["G2", "5", "6", "NA", "8"],
        ],
    )  # fmt: skip
    frame, records = load_omics(
        omics_spec(path),
        patients=["TCGA-AA-0002", "TCGA-AA-0001"],
        excluded_patients={"TCGA-AA-0009": "missing_time"},
    )
    assert frame.columns == ["feature", "TCGA-AA-0002", "TCGA-AA-0001"]
    assert frame["TCGA-AA-0002"].to_list() == [3.0, None]
    assert [(r.id, r.reason) for r in records] == [
        ("TCGA-AA-0001-11A", "non_tumour_sample"),
        ("TCGA-AA-0009-01A", "patient_excluded"),
    ]
    assert "missing_time" in records[1].detail


# --- formats ---------------------------------------------------------------------------


def small_matrix() -> list[list[str]]:
    return [["gene", "S1", "S2", "S3"], ["G1", "1", "2", "3"], ["G2", "4", "5", "6"]]


def test_formats_and_orientations_agree(tmp_path: Path) -> None:
    rows = small_matrix()
    kw = {"id_type": "patient", "id_column": "gene"}
    base, _ = load_omics(
        omics_spec(write(tmp_path / "m.tsv", rows), **kw), patients=["S1", "S2", "S3"],
        excluded_patients={},
    )  # fmt: skip
    csv = write(tmp_path / "m.csv", rows, sep=",")
    gz = tmp_path / "m.tsv.gz"
    gz.write_bytes(gzip.compress((tmp_path / "m.tsv").read_bytes()))
    parquet = tmp_path / "m.parquet"
    pl.read_csv(tmp_path / "m.tsv", separator="\t").write_parquet(parquet)
    transposed = write(tmp_path / "t.tsv", [list(r) for r in zip(*rows, strict=True)])
    crlf = tmp_path / "crlf.tsv"
    crlf.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "m.tsv").read_bytes().replace(b"\n", b"\r\n"))
    variants = [
        omics_spec(csv, format="csv", **kw),
        omics_spec(gz, **kw),
        omics_spec(parquet, format="parquet", **kw),
        omics_spec(transposed, orientation="samples_x_features", **kw),
        omics_spec(crlf, **kw),
    ]
    for spec in variants:
        frame, _ = load_omics(spec, patients=["S1", "S2", "S3"], excluded_patients={})
        assert frame.equals(base), spec.path


def test_event_codings() -> None:
    values = pl.Series(
        ["1", "0", "TRUE", "false", "Dead", "alive", "DECEASED", "Living", "1:DECEASED",
         "0:LIVING", "yes", "no", None],
    )  # fmt: skip
    codes = parse_event(values, path="c.tsv", column="st", first_line=2)
    assert codes.tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, -1]
    with pytest.raises(InputError, match=r"c.tsv:3, column 'st': unknown event coding 'maybe'"):
        parse_event(pl.Series(["1", "maybe"]), path="c.tsv", column="st", first_line=2)


def clinical_rows(*rows: list[str]) -> list[list[str]]:
    header = ["patientID", "vital_status", "days_to_death", "days_to_last_followup", "code"]
    return [header, *rows]


def test_endpoint_exclusions_are_audited(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.tsv",
        clinical_rows(
            ["P1", "1", "100", "", "007"],
            ["P2", "1", "", "50", "008"],
            ["P3", "0", "", "-5", "009"],
            ["P4", "0", "30", "40", "010"],
            ["P5", "1", "10", "20", "011"],
            ["P6", "", "", "20", "012"],
            ["", "0", "", "20", "013"],
            ["P8", "0", "", "0", "014"],
        ),
    )
    frame, records = load_clinical(clinical_spec(path), TCGA_OS)
    assert frame["patient_id"].to_list() == ["P1", "P8"]
    assert frame["code"].to_list() == ["007", "014"]  # leading zeros: stays a string
    assert frame.schema["code"] == pl.String
    got = [(r.id, r.line, r.level, r.reason) for r in records]
    assert got == [
        ("", 8, "row", "missing_patient_id"),
        ("P2", 3, "patient", "missing_time"),
        ("P3", 4, "patient", "negative_time"),
        ("P4", 5, "patient", "contradictory_status"),
        ("P5", 6, "patient", "followup_after_death"),
        ("P6", 7, "patient", "missing_event"),
    ]


def test_time_units_and_explicit_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", [["id", "OS_MONTHS", "OS_STATUS"], ["A", "12", "1:DECEASED"],
                                      ["B", "1.5", "0:LIVING"]], sep=",")  # fmt: skip
    spec = EndpointSpec(
        name="os", derive="columns", time_column="OS_MONTHS", event_column="OS_STATUS",
        time_unit="months",
    )  # fmt: skip
    frame, _ = load_clinical(clinical_spec(path, format="csv", id_column="id"), spec)
    np.testing.assert_allclose(frame["os_time"], [12 * 365.25 / 12, 1.5 * 365.25 / 12])
    assert frame["os_event"].to_list() == [1, 0]


# --- errors: one line naming file, line, column and the fix ----------------------------


def assert_error(exc: pytest.ExceptionInfo[InputError], *parts: str) -> None:
    message = str(exc.value)
    for part in parts:
        assert part in message, message
    assert "Fix: " in message


def test_non_numeric_cell(tmp_path: Path) -> None:
    rows = small_matrix()
    rows[2][2] = "high"
    path = write(tmp_path / "m.tsv", rows)
    with pytest.raises(InputError) as exc:
        load_omics(omics_spec(path, id_type="patient"), patients=["S1"], excluded_patients={})
    assert_error(exc, f"{path}:3, column 'S2'", "'high'", "G2")


def test_duplicate_feature_and_patient_ids(tmp_path: Path) -> None:
    rows = small_matrix()
    rows[2][0] = "G1"
    path = write(tmp_path / "m.tsv", rows)
    with pytest.raises(InputError) as exc:
        load_omics(omics_spec(path, id_type="patient"), patients=["S1"], excluded_patients={})
    assert_error(exc, f"{path}:3", "'G1' appears on lines [2, 3]")
    clinical = write(
        tmp_path / "c.tsv", clinical_rows(["P1", "1", "5", "", "1"], ["P1", "0", "", "9", "2"])
    )
    with pytest.raises(InputError) as exc2:
        load_clinical(clinical_spec(clinical), TCGA_OS)
    assert_error(exc2, f"{clinical}:3, column 'patientID'", "appears on lines [2, 3]")


def test_transform_domain_and_missing_columns(tmp_path: Path) -> None:
    rows = small_matrix()
    rows[1][3] = "-2"
    path = write(tmp_path / "m.tsv", rows)
    with pytest.raises(InputError) as exc:
        load_omics(omics_spec(path, id_type="patient", transform="log2p1"),
                   patients=["S1", "S2", "S3"], excluded_patients={})  # fmt: skip
    assert_error(exc, "column 'S3'", "value -2.0 of feature 'G1'", "log2p1")
    with pytest.raises(InputError) as exc2:
        load_omics(omics_spec(path, id_column="symbol"), patients=["S1"], excluded_patients={})
    assert_error(exc2, f"{path}:1, column 'symbol'", "id column 'symbol' not found")
    clinical = write(tmp_path / "c.tsv", [["patientID", "status"], ["P1", "1"]])
    with pytest.raises(InputError) as exc3:
        load_clinical(clinical_spec(clinical), TCGA_OS)
    assert_error(exc3, "column 'vital_status'", "endpoint column 'vital_status' not found")


def test_no_events_and_ragged_rows_and_truncated_gzip(tmp_path: Path) -> None:
    clinical = write(
        tmp_path / "c.tsv", clinical_rows(["P1", "0", "", "9", "1"], ["P2", "0", "", "5", "2"])
    )
    with pytest.raises(InputError) as exc:
        load_clinical(clinical_spec(clinical), TCGA_OS)
    assert_error(exc, "no events among the 2 patients")
    ragged = tmp_path / "r.tsv"
    ragged.write_text("patientID\tvital_status\nP1\t1\textra\n")
    with pytest.raises(InputError) as exc2:
        load_clinical(clinical_spec(ragged), TCGA_OS)
    assert_error(exc2, f"{ragged}:2", "row has 3 fields but the header has 2")
    truncated = tmp_path / "m.tsv.gz"
    truncated.write_bytes(gzip.compress(b"gene\tS1\nG1\t1\n" * 100)[:-20])
    with pytest.raises(InputError) as exc3:
        load_omics(omics_spec(truncated, id_type="patient"), patients=["S1"], excluded_patients={})
    assert_error(exc3, str(truncated), "cannot be decompressed")


def test_unknown_event_value_names_line(tmp_path: Path) -> None:
    clinical = write(
        tmp_path / "c.tsv", clinical_rows(["P1", "1", "5", "", "1"], ["P2", "zombie", "", "9", "2"])
    )
    with pytest.raises(InputError) as exc:
        load_clinical(clinical_spec(clinical), TCGA_OS)
    assert_error(exc, f"{clinical}:3, column 'vital_status'", "'zombie'")


def test_no_overlap_with_clinical(tmp_path: Path) -> None:
    path = write(tmp_path / "m.tsv", small_matrix())
    with pytest.raises(InputError) as exc:
        load_omics(omics_spec(path, id_type="patient"), patients=["X"], excluded_patients={})
    assert_error(exc, "no sample matches a patient of the clinical table")


def test_wrong_separator_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "m.tsv", small_matrix(), sep=",")
    with pytest.raises(InputError) as exc:
        load_omics(omics_spec(path, id_type="patient"), patients=["S1"], excluded_patients={})
    assert_error(exc, f"{path}:1", "single column with separator '\\t'", "`sep`")
    clinical = write(tmp_path / "c.tsv", clinical_rows(["P1", "1", "5", "", "1"]), sep=";")
    with pytest.raises(InputError) as exc2:
        load_clinical(clinical_spec(clinical), TCGA_OS)
    assert_error(exc2, f"{clinical}:1", "single column")
