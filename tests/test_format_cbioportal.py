"""cBioPortal study folders: clinical, every matrix kind, expansion, errors, end to end.

The fixture ``tests/data/formats/cbioportal/acc_tcga_mini`` is a faithful cBioPortal
study built from the TCGA-ACC data by ``make_fixture.py`` there. Expected values are
read back from the fixture's own text, never typed in.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import polars as pl
import pytest

from survomics import formats
from survomics.errors import InputError
from survomics.formats import cbioportal
from survomics.ids import parse_tcga_barcode
from survomics.ingest import load_clinical, load_omics
from survomics.specs import DEFAULT_NA_VALUES, EndpointSpec, FileSpec

STUDY = Path(__file__).resolve().parent / "data" / "formats" / "cbioportal" / "acc_tcga_mini"
OS_MONTHS = EndpointSpec(
    name="os",
    derive="columns",
    time_column="OS_MONTHS",
    event_column="OS_STATUS",
    time_unit="months",
)


def clinical(path: Path, **kw: object) -> FileSpec:
    base = {"cohort": "acc", "modality": "clinical", "path": str(path), "format": "cbioportal"}
    return FileSpec(**(base | {"endpoint": "os", "sheet_line": 2} | kw))  # type: ignore[arg-type]


def matrix(path: Path, modality: str = "expression", **kw: object) -> FileSpec:
    base = {"cohort": "acc", "modality": modality, "path": str(path), "format": "cbioportal"}
    return FileSpec(**(base | {"orientation": "features_x_samples"} | kw))  # type: ignore[arg-type]


def text_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, cells) of a data file, skipping ``#`` rows: the naive reading."""
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    rows = [(i + 1, ln.split("\t")) for i, ln in enumerate(lines) if i > first and ln]
    return lines[first].split("\t"), rows


def copy_study(tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(STUDY, target)
    return target


# ------------------------------------------------------------------------- clinical
def test_clinical_reads_patient_file_with_real_lines() -> None:
    table = cbioportal.read_clinical(clinical(STUDY / "data_clinical_patient.txt"))
    header, rows = text_rows(STUDY / "data_clinical_patient.txt")
    assert table.id_column == "PATIENT_ID"
    assert [c for c in table.frame.columns if c != "_line"] == header
    assert table.frame["_line"].to_list() == [line for line, _ in rows]
    assert table.frame["_line"][0] == 6  # four '#' rows + the header line
    assert all(table.frame[c].dtype == pl.String for c in header)
    for (line, cells), got in zip(rows, table.frame.iter_rows(named=True), strict=True):
        assert got["_line"] == line
        for name, cell in zip(header, cells, strict=True):
            assert got[name] == (None if cell in DEFAULT_NA_VALUES else cell)
    not_available = [(ln, c) for ln, cells in rows for c in cells if c == "[Not Available]"]
    assert not_available  # the fixture has a '[Not Available]' cell
    assert table.sources == (str(STUDY / "data_clinical_patient.txt"),)


def test_clinical_folder_equals_file() -> None:
    from_folder = cbioportal.read_clinical(clinical(STUDY))
    from_file = cbioportal.read_clinical(clinical(STUDY / "data_clinical_patient.txt"))
    assert from_folder.frame.equals(from_file.frame)
    assert from_folder.sources == from_file.sources


def test_clinical_errors_name_file_and_line(tmp_path: Path) -> None:
    lines = (STUDY / "data_clinical_patient.txt").read_text(encoding="utf-8").split("\n")
    ragged = tmp_path / "data_clinical_patient.txt"
    ragged.write_text("\n".join([*lines[:7], lines[7] + "\textra", *lines[8:]]), encoding="utf-8")
    with pytest.raises(InputError, match=r"data_clinical_patient.txt:8: row has 7 fields"):
        cbioportal.read_clinical(clinical(ragged))
    no_id = tmp_path / "no_id.txt"
    no_id.write_text("\n".join([*lines[:4], lines[4].replace("PATIENT_ID", "CASE")]))
    with pytest.raises(InputError, match=r"no_id.txt:5, column 'PATIENT_ID': id column"):
        cbioportal.read_clinical(clinical(no_id))
    only_comments = tmp_path / "comments.txt"
    only_comments.write_text("\n".join(lines[:4]) + "\n")
    with pytest.raises(InputError, match="has no header line"):
        cbioportal.read_clinical(clinical(only_comments))
    with pytest.raises(InputError, match="file not found"):
        cbioportal.read_clinical(clinical(tmp_path / "absent.txt"))


# ------------------------------------------------------------------------- matrices
def assert_matches_text(raw: formats.RawMatrix, path: Path, feature_of: object) -> None:
    header, rows = text_rows(path)
    samples = [h for h in header if h not in cbioportal.ANNOTATION_COLUMNS]
    assert raw.frame.columns == ["feature", *samples]
    assert raw.frame["feature"].to_list() == [
        feature_of(dict(zip(header, c, strict=True)))  # type: ignore[operator]
        for _, c in rows
    ]
    for (_, cells), got in zip(rows, raw.frame.iter_rows(named=True), strict=True):
        for name, cell in zip(header, cells, strict=True):
            if name in samples:
                expected = None if cell in {"NA", "NaN", ""} else float(cell)
                assert got[name] == expected


def test_expression_matrix_symbol_then_entrez() -> None:
    path = STUDY / "data_mrna_seq_v2_rsem.txt"
    raw = cbioportal.read_matrix(matrix(path))
    assert_matches_text(raw, path, lambda r: r["Hugo_Symbol"] or r["Entrez_Gene_Id"])
    _, rows = text_rows(path)
    blank = [c for _, c in rows if not c[0]]
    assert blank  # the fixture has a row with an Entrez id only
    assert blank[0][1] in raw.frame["feature"].to_list()
    assert raw.frame.null_count().sum_horizontal()[0] >= 1  # the 'NA' cell
    assert raw.id_type == "tcga_barcode"
    assert raw.sources == (str(path),)
    assert all(raw.frame[c].dtype == pl.Float64 for c in raw.frame.columns[1:])


def test_discrete_cna_and_rppa() -> None:
    cna = STUDY / "data_cna.txt"
    raw = cbioportal.read_matrix(matrix(cna, "copy_number"))
    assert_matches_text(raw, cna, lambda r: r["Hugo_Symbol"])
    values = raw.frame.drop("feature").to_numpy().ravel()
    assert set(values[~pl.Series(values).is_nan().to_numpy()]) <= {-2.0, -1.0, 0.0, 1.0, 2.0}
    rppa = STUDY / "data_rppa.txt"
    raw = cbioportal.read_matrix(matrix(rppa, "protein"))
    assert_matches_text(raw, rppa, lambda r: r["Composite.Element.REF"])
    assert all("|" in f for f in raw.frame["feature"])
    assert raw.id_type == "tcga_barcode"


def test_folder_with_file_option_and_its_errors(tmp_path: Path) -> None:
    by_option = cbioportal.read_matrix(matrix(STUDY, options=(("file", "data_cna.txt"),)))
    by_path = cbioportal.read_matrix(matrix(STUDY / "data_cna.txt"))
    assert by_option.frame.equals(by_path.frame)
    with pytest.raises(InputError, match="is a study folder but the row names no data file"):
        cbioportal.read_matrix(matrix(STUDY))
    with pytest.raises(InputError, match=r"option file=data_cna\.txt is given but"):
        cbioportal.read_matrix(matrix(STUDY / "data_cna.txt", options=(("file", "data_cna.txt"),)))
    with pytest.raises(InputError, match=r"data_absent.txt: data file not found"):
        cbioportal.read_matrix(matrix(STUDY, options=(("file", "data_absent.txt"),)))
    with pytest.raises(InputError, match="file not found"):
        cbioportal.read_matrix(matrix(tmp_path / "data_cna.txt"))


def test_non_numeric_cell_and_ragged_row(tmp_path: Path) -> None:
    lines = (STUDY / "data_cna.txt").read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    cells = lines[3].split("\t")
    cells[4] = "amp"
    bad = tmp_path / "data_cna.txt"
    bad.write_text("\n".join([*lines[:3], "\t".join(cells), *lines[4:]]), encoding="utf-8")
    with pytest.raises(InputError, match=rf"data_cna.txt:4, column '{header[4]}': non-numeric"):
        cbioportal.read_matrix(matrix(bad))
    bad.write_text("\n".join([*lines[:2], lines[2] + "\t0", *lines[3:]]), encoding="utf-8")
    with pytest.raises(InputError, match=r"data_cna.txt:3: row has"):
        cbioportal.read_matrix(matrix(bad))
    bad.write_text("Gene\tS1\nA\t1\n", encoding="utf-8")
    with pytest.raises(InputError, match="has none of the id columns"):
        cbioportal.read_matrix(matrix(bad))


def test_non_tcga_samples_map_to_patients_through_sample_file(tmp_path: Path) -> None:
    study = copy_study(tmp_path)
    header, rows = text_rows(study / "data_cna.txt")
    samples = header[2:]
    renamed = {s: f"P{i:03d}-T1" for i, s in enumerate(samples)}
    patient = {f"P{i:03d}-T1": f"P{i:03d}" for i in range(len(samples))}
    # a second sample of the first patient: its column must be dropped and audited
    extra = "P000-T2"
    patient[extra] = "P000"
    lines = ["\t".join(["Hugo_Symbol", "Entrez_Gene_Id", *renamed.values(), extra])]
    lines += ["\t".join([*cells, cells[2]]) for _, cells in rows]
    (study / "data_cna.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sample_file = ["#a\tb", "#a\tb", "#STRING\tSTRING", "#1\t1", "PATIENT_ID\tSAMPLE_ID"]
    sample_file += [f"{p}\t{s}" for s, p in patient.items()]
    (study / "data_clinical_sample.txt").write_text("\n".join(sample_file) + "\n")
    raw = cbioportal.read_matrix(matrix(study / "data_cna.txt", "copy_number"))
    assert raw.id_type == "patient"
    assert raw.frame.columns == ["feature", *(patient[renamed[s]] for s in samples)]
    assert [(r.id, r.reason) for r in raw.records] == [(extra, "duplicate_sample")]
    assert str(study / "data_clinical_sample.txt") in raw.sources
    # without a sample file mapping them, non-TCGA ids are left to the sheet's id_type
    (study / "data_clinical_sample.txt").unlink()
    assert cbioportal.read_matrix(matrix(study / "data_cna.txt")).id_type is None


def test_mutations_maf_with_sequenced_cases() -> None:
    path = STUDY / "data_mutations.txt"
    header, rows = text_rows(path)
    col = {h: i for i, h in enumerate(header)}
    default = cbioportal.read_matrix(matrix(path, "mutation"))
    everything = cbioportal.read_matrix(
        matrix(path, "mutation", options=(("variant_classes", "all"),))
    )
    sequenced = (STUDY / "case_lists" / "cases_sequenced.txt").read_text().split("\n")
    ids = next(ln for ln in sequenced if ln.startswith("case_list_ids:"))
    ids = ids.removeprefix("case_list_ids:").strip().split("\t")
    assert set(everything.frame.columns[1:]) == set(ids)
    assert default.id_type == "tcga_barcode"
    for _, cells in rows:
        gene, sample = cells[col["Hugo_Symbol"]], cells[col["Tumor_Sample_Barcode"]]
        calls = [
            c[col["Variant_Classification"]]
            for _, c in rows
            if c[0] == gene and c[col["Tumor_Sample_Barcode"]] == sample
        ]
        got_all = everything.frame.filter(pl.col("feature") == gene)[sample][0]
        assert got_all == 1.0
        if all(c == "Silent" for c in calls):
            in_default = default.frame.filter(pl.col("feature") == gene)
            assert in_default.height == 0 or in_default[sample][0] in (0.0, None)
    mutated = {c[col["Tumor_Sample_Barcode"]] for _, c in rows}
    unmutated = [s for s in ids if s not in mutated]
    assert unmutated
    assert all(everything.frame[s].sum() == 0 for s in unmutated)
    assert str(STUDY / "case_lists" / "cases_sequenced.txt") in everything.sources


def test_segments_dispatch() -> None:
    path = STUDY / "data_cna_hg38.seg"
    raw = cbioportal.read_matrix(matrix(path, "segments"))
    _, rows = text_rows(path)
    assert set(raw.frame.columns[1:]) == {c[0] for _, c in rows}
    assert raw.id_type == "tcga_barcode"


# ------------------------------------------------------------------------- expansion
def test_expand_study_default_profiles() -> None:
    base = STUDY.parent
    spec = clinical(Path(STUDY.name), options=(("variant_classes", "all"),))
    rows = cbioportal.expand_study(spec, base=base)
    by_name = {r.modality: r for r in rows}
    assert sorted(by_name) == ["copy_number", "expression", "mutation", "protein", "segments"]
    for row in rows:
        meta = [cbioportal.read_meta(p) for p in STUDY.glob("meta_*.txt")]
        named = {m["data_filename"] for m in meta if "data_filename" in m}
        assert Path(row.path).parent == Path(STUDY.name)
        assert Path(row.path).name in named
        assert (base / row.path).is_file()
        assert (row.cohort, row.sheet_line, row.format) == ("acc", 2, "cbioportal")
        assert (row.orientation, row.transform, row.id_type) == (
            "features_x_samples",
            "none",
            "tcga_barcode",
        )
        assert row.endpoint is None
    assert by_name["expression"].path.endswith("data_mrna_seq_v2_rsem.txt")
    assert by_name["copy_number"].path.endswith("data_cna.txt")
    assert by_name["mutation"].options == (("variant_classes", "all"),)
    assert by_name["expression"].options == ()
    for row in rows:
        assert set(dict(row.options)) <= set(formats.allowed_options("cbioportal", clinical=False))


def test_expand_study_modalities_option() -> None:
    base = STUDY.parent
    zscores = "expression_rna_seq_v2_mrna_median_all_sample_Zscores"
    spec = clinical(Path(STUDY.name), options=(("modalities", f"protein, {zscores}"),))
    rows = cbioportal.expand_study(spec, base=base)
    assert [r.modality for r in rows] == [zscores, "protein"]
    assert rows[0].path.endswith("data_mrna_seq_v2_rsem_zscores_ref_all_samples.txt")
    bad = clinical(Path(STUDY.name), options=(("modalities", "expression,rna"),))
    with pytest.raises(InputError, match=r"option modalities names \['rna'\]"):
        cbioportal.expand_study(bad, base=base)


def test_expand_study_meta_errors_and_skipped_kinds(tmp_path: Path) -> None:
    study = copy_study(tmp_path)
    (study / "meta_structural_variants.txt").write_text(
        "cancer_study_identifier: acc_tcga_mini\ngenetic_alteration_type: STRUCTURAL_VARIANT\n"
        "datatype: SV\nstable_id: structural_variants\ndata_filename: data_sv.txt\n"
    )
    names = [r.modality for r in cbioportal.expand_study(clinical(study), base=Path())]
    assert "structural_variants" not in " ".join(names)
    (study / "data_cna.txt").unlink()
    with pytest.raises(
        InputError,
        match=r"meta_cna.txt, key 'data_filename': names data file "
        r"'data_cna.txt', which is not in the study folder",
    ):
        cbioportal.expand_study(clinical(study), base=Path())
    only = clinical(study, options=(("modalities", "expression"),))
    assert [r.modality for r in cbioportal.expand_study(only, base=Path())] == ["expression"]
    meta = study / "meta_rppa.txt"
    meta.write_text(
        "\n".join(ln for ln in meta.read_text().split("\n") if not ln.startswith("data_filename"))
    )
    with pytest.raises(InputError, match=r"meta_rppa.txt, key 'data_filename': has no"):
        cbioportal.expand_study(clinical(study, options=(("modalities", "protein"),)), base=Path())
    meta.write_text("genetic_alteration_type PROTEIN_LEVEL\n")
    with pytest.raises(InputError, match=r"meta_rppa.txt:1: line .* is not 'key: value'"):
        cbioportal.expand_study(clinical(study), base=Path())


def test_input_files() -> None:
    assert cbioportal.input_files(clinical(STUDY)) == [str(STUDY / "data_clinical_patient.txt")]
    files = cbioportal.input_files(matrix(STUDY, options=(("file", "data_mutations.txt"),)))
    assert files == [
        str(STUDY / "data_mutations.txt"),
        str(STUDY / "case_lists" / "cases_sequenced.txt"),
        str(STUDY / "data_clinical_sample.txt"),
    ]
    assert formats.input_files(matrix(STUDY / "data_cna.txt"))[0] == str(STUDY / "data_cna.txt")


# ------------------------------------------------------------------------- end to end
def test_end_to_end_through_ingest() -> None:
    spec = clinical(STUDY)
    frame, records = load_clinical(spec, OS_MONTHS)
    _, rows = text_rows(STUDY / "data_clinical_patient.txt")
    assert frame["patient_id"].to_list() == [c[0] for _, c in rows]
    assert records == []
    for (_, cells), (time, event) in zip(
        rows, frame.select("os_time", "os_event").iter_rows(), strict=True
    ):
        assert math.isclose(time, float(cells[5]) * 365.25 / 12.0)
        assert event == int(cells[4].startswith("1:"))
    patients = frame["patient_id"].to_list()
    wanted = ["expression", "copy_number", "protein", "mutation", "segments"]
    rows_by_name = {r.modality: r for r in cbioportal.expand_study(spec, base=Path())}
    for name in wanted:
        omics, audit = load_omics(rows_by_name[name], patients=patients, excluded_patients={})
        samples = cbioportal.read_matrix(rows_by_name[name]).frame.columns[1:]
        expected = [p for p in patients if any(s[:12] == p for s in samples)]
        assert omics.columns == ["feature", *expected]
        assert all(parse_tcga_barcode(s) is not None for s in samples)
        assert all(r.reason != "unparseable_sample_id" for r in audit)
    expr, _ = load_omics(
        dataclasses.replace(rows_by_name["expression"], transform="log2p1"),
        patients=patients,
        excluded_patients={},
    )
    assert expr.height == len(text_rows(STUDY / "data_mrna_seq_v2_rsem.txt")[1])


def test_trailing_tabs_are_tolerated(tmp_path: Path) -> None:
    for name in ("data_clinical_patient.txt", "data_cna.txt"):
        lines = (STUDY / name).read_text(encoding="utf-8").rstrip("\n").split("\n")
        (tmp_path / name).write_text("\n".join(ln + "\t" for ln in lines) + "\n")
    got = cbioportal.read_clinical(clinical(tmp_path / "data_clinical_patient.txt"))
    assert got.frame.equals(cbioportal.read_clinical(clinical(STUDY)).frame)
    got_cna = cbioportal.read_matrix(matrix(tmp_path / "data_cna.txt"))
    assert got_cna.frame.equals(cbioportal.read_matrix(matrix(STUDY / "data_cna.txt")).frame)


def test_folder_without_meta_or_patient_file(tmp_path: Path) -> None:
    folder = tmp_path / "not_a_study"
    folder.mkdir()
    with pytest.raises(InputError, match=r"has no meta_\*\.txt file"):
        cbioportal.expand_study(clinical(folder), base=Path())
    with pytest.raises(InputError, match=r"data_clinical_patient.txt: file not found"):
        cbioportal.read_clinical(clinical(folder))


def test_expanded_rows_inherit_id_type() -> None:
    rows = cbioportal.expand_study(clinical(STUDY, id_type="patient"), base=Path())
    assert {r.id_type for r in rows} == {"patient"}
