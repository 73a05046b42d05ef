"""Image-feature tables: values against an independent csv + numpy reading, audit, errors."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.formats import read_matrix
from survomics.formats.images import read_image_features
from survomics.specs import FileSpec

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "data" / "formats" / "images" / "radiomics_acc.csv"
TEXT = [
    "Image",
    "Mask",
    "diagnostics_Versions_PyRadiomics",
    "diagnostics_Image-original_Hash",
    "diagnostics_Image-original_Spacing",
]


def spec(path: Path, **options: str) -> FileSpec:
    return FileSpec(
        cohort="acc",
        modality="radiomics",
        path=str(path),
        format="image_features",
        options=tuple(options.items()),
    )


def rows() -> tuple[list[str], list[list[str]]]:
    with TABLE.open(newline="", encoding="utf-8") as fh:
        header, *body = list(csv.reader(fh))
    return header, body


def expected(how: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """Features and per-patient values computed with csv + numpy."""
    header, body = rows()
    features = [h for h in header[1:] if h not in TEXT]
    index = [header.index(f) for f in features]
    images: dict[str, list[list[float]]] = defaultdict(list)
    for row in body:
        images[row[0]].append([float(row[i]) for i in index])
    reduce = {
        "mean": lambda a: a.mean(axis=0),
        "median": lambda a: np.median(a, axis=0),
        "max": lambda a: a.max(axis=0),
        "first": lambda a: a[0],
    }[how]
    return features, {p: reduce(np.array(v)) for p, v in images.items()}


@pytest.mark.parametrize("how", ["mean", "median", "max", "first"])
def test_values_equal_an_independent_groupby(how: str) -> None:
    features, values = expected(how)
    raw = read_image_features(spec(TABLE, aggregate=how))
    assert raw.frame["feature"].to_list() == features
    assert raw.frame.columns[1:] == list(values)  # patients in order of first appearance
    for patient, vector in values.items():
        np.testing.assert_allclose(raw.frame[patient].to_numpy(), vector, rtol=1e-14)
    assert raw.id_type == "tcga_barcode"
    assert raw.sources == (str(TABLE),)


def test_audit_lists_text_columns_once_and_each_aggregated_patient() -> None:
    _, body = rows()
    raw = read_image_features(spec(TABLE))
    text = [r for r in raw.records if r.reason == "non_numeric_column"]
    assert len(text) == 1
    assert text[0].level == "feature"
    assert text[0].id == ",".join(TEXT)
    assert text[0].detail == f"5 non-numeric column(s) ignored: {', '.join(TEXT)}"
    lines: dict[str, list[int]] = defaultdict(list)
    for n, row in enumerate(body, start=2):
        lines[row[0]].append(n)
    aggregated = [r for r in raw.records if r.reason == "images_aggregated"]
    several = {p: ln for p, ln in lines.items() if len(ln) > 1}
    assert [r.id for r in aggregated] == list(several)
    for record in aggregated:
        ln = several[record.id]
        assert record.level == "patient"
        assert record.line == ln[0]
        assert record.detail == f"{len(ln)} images (lines {', '.join(map(str, ln))}) -> mean"
    assert len(raw.records) == 1 + len(several)


def test_gzipped_tsv_with_patient_column_elsewhere_gives_the_same_matrix(tmp_path: Path) -> None:
    header, body = rows()
    order = [*header[1:4], header[0], *header[4:]]  # patient column fourth
    path = tmp_path / "features.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(order)
        writer.writerows([[r[header.index(c)] for c in order] for r in body])
    moved = read_image_features(spec(path, patient_column="patient_id"))
    assert moved.frame.equals(read_image_features(spec(TABLE)).frame)


def test_missing_patient_empty_column_and_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.tsv"
    path.write_text(
        "slide_id\tpatient\tnote\temb_0\temb_1\n"
        "s1\tP1\t\t0.5\t1\n"
        "s2\tP1\tNA\tNA\t3\n"
        "s5\tP2\t\t\t4\n"
        "s3\t\t\t9\t9\n"
        "s4\tP2\t\t-1.5\t2\n",
        encoding="utf-8",
    )
    raw = read_image_features(spec(path, patient_column="patient"))
    assert raw.frame.columns == ["feature", "P1", "P2"]
    assert raw.frame["P1"].to_list() == [0.5, 2.0]  # the missing value is ignored
    assert raw.frame["P2"].to_list() == [-1.5, 3.0]
    assert raw.id_type == "patient"
    by_reason = {r.reason: r for r in raw.records}
    assert by_reason["missing_patient_id"].line == 5
    assert by_reason["non_numeric_column"].id == "slide_id"
    assert by_reason["empty_column"].id == "note"
    aggregated = [r.detail for r in raw.records if r.reason == "images_aggregated"]
    assert aggregated == ["2 images (lines 2, 3) -> mean", "2 images (lines 4, 6) -> mean"]
    first = read_image_features(spec(path, patient_column="patient", aggregate="first"))
    assert first.frame["P1"].to_list() == [0.5, 1.0]  # the values of the first row
    assert first.frame["P2"].to_list() == [None, 4.0]  # ...as they are


def test_registered_as_a_matrix_format() -> None:
    assert read_matrix(spec(TABLE)).frame.equals(read_image_features(spec(TABLE)).frame)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"patient_column": "case"}, "patient_column 'case' is not a column of the file"),
        ({"aggregate": "min"}, "`aggregate=min` is not one of mean, median, max, first"),
    ],
)
def test_invalid_options_are_input_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        read_image_features(spec(TABLE, **options))
    assert str(err.value).startswith(f"{TABLE}, column 'options': ")


def test_unreadable_tables_are_input_errors(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("patient,a,b\nP1,1,2\nP2,1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read as a table separated by ','"):
        read_image_features(spec(ragged))
    text_only = tmp_path / "text.csv"
    text_only.write_text("patient,image\nP1,a.nrrd\n", encoding="utf-8")
    with pytest.raises(InputError, match="no numeric feature column"):
        read_image_features(spec(text_only))
    wrong_sep = tmp_path / "wrong.tsv"
    wrong_sep.write_text("patient,a\nP1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="single column"):
        read_image_features(spec(wrong_sep))
    with pytest.raises(InputError, match="file not found"):
        read_image_features(spec(tmp_path / "absent.csv"))


def test_output_is_float64_per_patient() -> None:
    frame = read_image_features(spec(TABLE)).frame
    assert frame.schema["feature"] == pl.String
    assert all(dtype == pl.Float64 for dtype in frame.drop("feature").dtypes)
