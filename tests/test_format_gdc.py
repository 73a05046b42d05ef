"""GDC portal downloads: STAR - Counts carts, clinical.tsv and BCR Biotab (real layouts)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.formats import gdc
from survomics.ingest import load_clinical, load_omics
from survomics.specs import EndpointSpec, FileSpec

DATA = Path(__file__).resolve().parent / "data" / "formats" / "gdc"
STAR = DATA / "star_counts"
SHEET = STAR / "gdc_sample_sheet.2024-03-15.tsv"
CLINICAL = DATA / "clinical" / "clinical.tsv"
DOTTED = DATA / "clinical_dotted" / "clinical.tsv"
PATIENT = "nationwidechildrens.org_clinical_patient_acc.txt"
FOLLOW = "nationwidechildrens.org_clinical_follow_up_v4.0_acc.txt"
TRUTH = DATA / "biotab" / "truth.tsv"
OS_BIOTAB = EndpointSpec(
    name="os",
    derive="tcga",
    status_column="vital_status",
    death_time_column="days_to_death",
    followup_time_column="days_to_last_followup",
)
OS_GDC = EndpointSpec(
    name="os",
    derive="tcga",
    status_column="vital_status",
    death_time_column="days_to_death",
    followup_time_column="days_to_last_follow_up",
)


def counts_spec(path: Path = SHEET, **options: str) -> FileSpec:
    return FileSpec(
        cohort="c",
        modality="rna",
        path=str(path),
        format="gdc_star_counts",
        options=tuple(options.items()),
    )


def clinical_spec(path: Path, fmt: str = "gdc_clinical", **options: str) -> FileSpec:
    return FileSpec(
        cohort="c",
        modality="clinical",
        path=str(path),
        format=fmt,  # type: ignore[arg-type]
        endpoint="os",
        options=tuple(options.items()),
    )


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))


def sheet_rows() -> list[dict[str, str]]:
    return read_tsv(SHEET)


def expected_files() -> dict[str, Path]:
    """Independent reading of the sheet: sample -> file (first by File Name)."""
    out: dict[str, Path] = {}
    rows = [r for r in sheet_rows() if r["Data Type"] == "Gene Expression Quantification"]
    for row in sorted(rows, key=lambda r: r["File Name"]):
        out.setdefault(row["Sample ID"], STAR / row["File ID"] / row["File Name"])
    order = [r["Sample ID"] for r in rows]
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0])))


def copy_cart(tmp_path: Path) -> Path:
    dest = tmp_path / "cart"
    shutil.copytree(STAR, dest)
    return dest / SHEET.name


# --- STAR - Counts -----------------------------------------------------------------------


def test_counts_equal_an_independent_read() -> None:
    raw = gdc.read_star_counts(counts_spec())
    files = expected_files()
    assert raw.id_type == "tcga_barcode"
    assert raw.frame.columns == ["feature", *files]
    assert raw.frame.schema["feature"] == pl.String
    assert all(raw.frame.schema[s] == pl.Float64 for s in files)
    for sample, path in files.items():
        rows = [r for r in read_tsv(path) if not r["gene_id"].startswith("N_")]
        assert raw.frame["feature"].to_list() == [r["gene_id"] for r in rows]
        np.testing.assert_array_equal(raw.frame[sample], [float(r["unstranded"]) for r in rows])
    assert not raw.frame["feature"].str.starts_with("N_").any()
    assert raw.sources == (str(SHEET), *(str(p) for p in files.values()))


def test_sheet_rows_not_used_are_audited() -> None:
    raw = gdc.read_star_counts(counts_spec())
    rows = sheet_rows()
    reasons = {(r.reason, r.id, r.level) for r in raw.records}
    biospecimen = next(r for r in rows if r["Data Type"] == "Biospecimen Supplement")
    assert ("not_gene_expression", biospecimen["File Name"], "row") in reasons
    replicate = [r for r in rows if r["Sample ID"] == "TCGA-OR-A5J1-01A"]
    dropped = max(r["File Name"] for r in replicate)
    duplicate = next(r for r in raw.records if r.reason == "duplicate_file")
    assert duplicate.id == dropped
    assert duplicate.line == rows.index(next(r for r in rows if r["File Name"] == dropped)) + 2
    assert min(r["File Name"] for r in replicate) in duplicate.detail
    assert len(raw.records) == 2


def test_flat_layout_and_directory_option(tmp_path: Path) -> None:
    nested = gdc.read_star_counts(counts_spec())
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in STAR.glob("*/*.tsv"):
        shutil.copy(path, flat / path.name)
    shutil.copy(SHEET, flat / SHEET.name)
    assert gdc.read_star_counts(counts_spec(flat / SHEET.name)).frame.equals(nested.frame)
    elsewhere = tmp_path / "sheets" / SHEET.name
    elsewhere.parent.mkdir()
    shutil.copy(SHEET, elsewhere)
    moved = gdc.read_star_counts(counts_spec(elsewhere, directory=str(STAR)))
    assert moved.frame.equals(nested.frame)
    with pytest.raises(InputError, match="is missing"):
        gdc.read_star_counts(counts_spec(elsewhere))


def test_column_option_and_gene_names() -> None:
    files = expected_files()
    sample, path = next(iter(files.items()))
    rows = [r for r in read_tsv(path) if not r["gene_id"].startswith("N_")]
    tpm = gdc.read_star_counts(counts_spec(column="tpm_unstranded")).frame
    np.testing.assert_array_equal(tpm[sample], [float(r["tpm_unstranded"]) for r in rows])
    raw = gdc.read_star_counts(counts_spec(gene_id="gene_name"))
    names = [r["gene_name"] for r in rows]
    assert raw.frame["feature"].to_list() == list(dict.fromkeys(names))
    for name in ("PLCXD1", "Y_RNA", "TP53"):
        total = sum(float(r["unstranded"]) for r in rows if r["gene_name"] == name)
        assert raw.frame.filter(pl.col("feature") == name)[sample].item() == total
    summed = {r.id: r for r in raw.records if r.reason == "summed_gene_ids"}
    repeated = {n for n in names if names.count(n) > 1}
    assert set(summed) == repeated == {"PLCXD1", "Y_RNA"}
    assert "ENSG00000182378.14_PAR_Y" in summed["PLCXD1"].detail
    assert summed["PLCXD1"].level == "feature"


@pytest.mark.parametrize(("key", "value"), [("column", "counts"), ("gene_id", "symbol")])
def test_bad_option(key: str, value: str) -> None:
    with pytest.raises(InputError, match=f"option {key}='{value}'"):
        gdc.read_star_counts(counts_spec(**{key: value}))


def test_missing_file_names_sheet_line_and_path(tmp_path: Path) -> None:
    sheet = copy_cart(tmp_path)
    row = sheet_rows()[4]
    (sheet.parent / row["File ID"] / row["File Name"]).unlink()
    with pytest.raises(InputError) as err:
        gdc.read_star_counts(counts_spec(sheet))
    assert err.value.line == 6
    assert row["File ID"] in str(err.value)
    assert row["File Name"] in str(err.value)
    assert str(sheet) in str(err.value)


def test_gene_list_mismatch_names_the_file(tmp_path: Path) -> None:
    sheet = copy_cart(tmp_path)
    files = list(expected_files().values())
    victim = sheet.parent / files[3].relative_to(STAR)
    lines = victim.read_text().splitlines(keepends=True)
    lines[10], lines[11] = lines[11], lines[10]  # two genes out of order
    victim.write_text("".join(lines))
    with pytest.raises(InputError, match="gene list differs") as err:
        gdc.read_star_counts(counts_spec(sheet))
    assert err.value.path == str(victim)
    assert err.value.line == 11
    victim.write_text("".join(lines[:50]))  # a truncated file
    with pytest.raises(InputError, match="gene list differs"):
        gdc.read_star_counts(counts_spec(sheet))


def test_bad_cells_and_wrong_files(tmp_path: Path) -> None:
    sheet = copy_cart(tmp_path)
    victim = sheet.parent / next(iter(expected_files().values())).relative_to(STAR)
    lines = victim.read_text().splitlines(keepends=True)
    fields = lines[20].split("\t")
    fields[3] = "many"
    victim.write_text("".join([*lines[:20], "\t".join(fields), *lines[21:]]))
    with pytest.raises(InputError, match="non-numeric value 'many'") as err:
        gdc.read_star_counts(counts_spec(sheet))
    assert (err.value.line, err.value.column) == (21, "unstranded")
    # an HTSeq counts file of an old data release (no header)
    victim.write_text("".join(f"{ln.split()[0]}\t5\n" for ln in lines[6:]))
    with pytest.raises(InputError, match="column 'gene_id' not found"):
        gdc.read_star_counts(counts_spec(sheet))


def test_pooled_and_sampleless_rows_are_audited(tmp_path: Path) -> None:
    sheet = copy_cart(tmp_path)
    rows = sheet.read_text().splitlines()
    fields = rows[3].split("\t")
    fields[6] = f"{fields[6]}, TCGA-OR-A5J9-10A"
    rows[3] = "\t".join(fields)
    fields = rows[5].split("\t")
    fields[6] = ""
    rows[5] = "\t".join(fields)
    sheet.write_text("\n".join(rows) + "\n")
    raw = gdc.read_star_counts(counts_spec(sheet))
    by_line = {r.line: r.reason for r in raw.records}
    assert by_line[4] == "multiple_samples"
    assert by_line[6] == "missing_sample_id"
    assert raw.frame.width == len(expected_files()) + 1 - 2


def test_input_files_lists_sheet_and_used_files() -> None:
    listed = gdc.input_files(counts_spec())
    assert listed == [str(SHEET), *(str(p) for p in expected_files().values())]
    assert all(Path(p).is_file() for p in listed)


def test_load_omics_end_to_end() -> None:
    clinical, _ = load_clinical(clinical_spec(CLINICAL), OS_GDC)
    patients = clinical["patient_id"].to_list()
    out, records = load_omics(counts_spec(), patients=patients, excluded_patients={})
    files = expected_files()
    tumours = {s[:12]: s for s in files if s[13:15] == "01"}
    assert out.columns == ["feature", *[p for p in patients if p in tumours]]
    kept = [p for p in patients if p in tumours]
    assert len(kept) >= 20
    for patient in kept:
        sample = tumours[patient]
        rows = [r for r in read_tsv(files[sample]) if not r["gene_id"].startswith("N_")]
        np.testing.assert_array_equal(out[patient], [float(r["unstranded"]) for r in rows])
    normal = next(r for r in records if r.reason == "non_tumour_sample")
    assert normal.id == "TCGA-OR-A5J2-11A"
    outside = sorted(r.id for r in records if r.reason == "patient_not_in_clinical")
    assert outside == sorted(s for p, s in tumours.items() if p not in patients)
    assert {r.reason for r in records} == {
        "not_gene_expression",
        "duplicate_file",
        "non_tumour_sample",
        "patient_not_in_clinical",
    }


def test_full_size_files_read_quickly(tmp_path: Path) -> None:
    """60,660 genes x 12 files: a loose benchmark (`pytest --durations`), no timing check."""
    rng = np.random.default_rng(3)
    n_genes, n_files = 60_660, 12
    ids = [f"ENSG{i:011d}.{i % 9 + 1}" for i in range(n_genes)]
    body_ids = "\n".join(f"{g}\tG{i}\tprotein_coding" for i, g in enumerate(ids)).split("\n")
    counts = rng.poisson(30, size=(n_files, n_genes))
    sheet = ["\t".join(["File ID", "File Name", "Data Type", "Sample ID"])]
    for j in range(n_files):
        name = f"f{j}.rna_seq.augmented_star_gene_counts.tsv"
        head = ["# gene-model: GENCODE v36", "\t".join(["gene_id", "gene_name", "gene_type"])]
        head[1] += "\t" + "\t".join(gdc.COUNT_COLUMNS)
        stars = [f"{n}\t\t\t9\t9\t9\t\t\t" for n in gdc.STAR_COUNTERS]
        genes = [
            f"{b}\t{c}\t0\t{c}\t1.5\t2.5\t3.5" for b, c in zip(body_ids, counts[j], strict=True)
        ]
        (tmp_path / f"id{j}").mkdir()
        (tmp_path / f"id{j}" / name).write_text("\n".join([*head, *stars, *genes]) + "\n")
        sheet.append(f"id{j}\t{name}\tGene Expression Quantification\tTCGA-OR-A{j:03d}-01A")
    (tmp_path / "sheet.tsv").write_text("\n".join(sheet) + "\n")
    raw = gdc.read_star_counts(counts_spec(tmp_path / "sheet.tsv"))
    assert raw.frame.shape == (n_genes, n_files + 1)
    np.testing.assert_array_equal(raw.frame.drop("feature").to_numpy(), counts.T)


# --- GDC clinical.tsv ----------------------------------------------------------------------


def test_clinical_collapses_cases() -> None:
    table = gdc.read_clinical(clinical_spec(CLINICAL))
    rows = read_tsv(CLINICAL)
    cases = list(dict.fromkeys(r["case_submitter_id"] for r in rows))
    frame = table.frame
    assert table.id_column == "case_submitter_id"
    assert frame["case_submitter_id"].to_list() == cases
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "_line")
    for case in cases:
        mine = [r for r in rows if r["case_submitter_id"] == case]
        got = frame.filter(pl.col("case_submitter_id") == case).row(0, named=True)
        first = next(i for i, r in enumerate(rows) if r["case_submitter_id"] == case)
        assert got["_line"] == first + 2
        for column in rows[0]:
            values = sorted({r[column] for r in mine} - {"'--"})
            assert got[column] == (";".join(values) if values else None), column
    joined = frame["treatment_type"].unique().to_list()
    assert joined == ["Pharmaceutical Therapy, NOS;Radiation Therapy, NOS"]


def test_clinical_dotted_layout(tmp_path: Path) -> None:
    legacy = gdc.read_clinical(clinical_spec(CLINICAL)).frame
    dotted = gdc.read_clinical(clinical_spec(DOTTED)).frame
    assert dotted.select(legacy.columns).equals(legacy)
    assert set(dotted.columns) - set(legacy.columns) == {
        "diagnoses.submitter_id",
        "treatments.submitter_id",
    }
    header, *body = DOTTED.read_text().splitlines()
    (tmp_path / "c.tsv").write_text("\n".join([header.replace("cases.", ""), *body]) + "\n")
    with pytest.raises(InputError, match="id column 'case_submitter_id' not found"):
        gdc.read_clinical(clinical_spec(tmp_path / "c.tsv"))


def test_clinical_end_to_end() -> None:
    frame, records = load_clinical(clinical_spec(CLINICAL), OS_GDC)
    truth = {r["bcr_patient_barcode"]: r for r in read_tsv(TRUTH)}
    assert frame["patient_id"].to_list() == list(truth)
    for patient, time_, event in frame.select("patient_id", "os_time", "os_event").iter_rows():
        t = truth[patient]
        dead = t["vital_status"] == "Dead"
        assert event == int(dead)
        assert time_ == float(t["days_to_death"] if dead else t["days_to_last_followup"])
    assert records == []
    assert frame.schema["age_at_index"] == pl.Int64
    dotted, _ = load_clinical(clinical_spec(DOTTED), OS_GDC)
    assert dotted.select(frame.columns).equals(frame)


# --- BCR Biotab --------------------------------------------------------------------------


def biotab_spec(folder: str = "biotab", *, follow: bool = True) -> FileSpec:
    options = {"follow_up": str(DATA / folder / FOLLOW)} if follow else {}
    return clinical_spec(DATA / folder / PATIENT, "biotab", **options)


def test_biotab_without_follow_up() -> None:
    table = gdc.read_biotab(biotab_spec(follow=False))
    rows = read_tsv(DATA / "biotab" / PATIENT)[2:]
    assert table.id_column == "bcr_patient_barcode"
    assert table.frame["_line"].to_list() == list(range(4, 4 + len(rows)))
    assert table.frame["bcr_patient_barcode"].to_list() == [r["bcr_patient_barcode"] for r in rows]
    tokens = set(gdc.BIOTAB_MISSING)
    for column in rows[0]:
        expected = [None if r[column] in tokens else r[column] for r in rows]
        assert table.frame[column].to_list() == expected, column
    assert table.records == ()


@pytest.mark.parametrize(
    ("folder", "death", "last"),
    [
        ("biotab", "days_to_death", "days_to_last_followup"),
        ("biotab_gdc", "death_days_to", "last_contact_days_to"),
    ],
)
def test_biotab_follow_up_reaches_the_latest_state(folder: str, death: str, last: str) -> None:
    table = gdc.read_biotab(biotab_spec(folder))
    truth = {r["bcr_patient_barcode"]: r for r in read_tsv(TRUTH)}
    before = {r["bcr_patient_barcode"]: r for r in read_tsv(DATA / folder / PATIENT)[2:]}
    follow = read_tsv(DATA / folder / FOLLOW)[2:]
    for row in table.frame.iter_rows(named=True):
        pid = row["bcr_patient_barcode"]
        assert row["vital_status"] == truth[pid]["vital_status"]
        assert row[death] == (truth[pid]["days_to_death"] or None)
        contacts = [
            int(r[last])
            for r in [before[pid], *(f for f in follow if f["bcr_patient_barcode"] == pid)]
            if r[last].isdigit()
        ]
        assert row[last] == (str(max(contacts)) if contacts else None)
    updates = {r.id: r for r in table.records if r.reason == "follow_up_update"}
    tokens = set(gdc.BIOTAB_MISSING)

    def state(row: dict[str, str]) -> tuple[str | None, ...]:
        return tuple(None if row[c] in tokens else row[c] for c in ("vital_status", death, last))

    final = {r["bcr_patient_barcode"]: r for r in table.frame.iter_rows(named=True)}
    changed = {pid for pid, r in before.items() if state(r) != state(final[pid])}
    assert set(updates) == changed
    assert all(r.level == "patient" for r in updates.values())
    assert "vital_status: Alive -> Dead" in updates["TCGA-OR-A5J2"].detail
    orphan = [r for r in table.records if r.reason == "follow_up_without_patient"]
    known = set(before)
    assert [r.id for r in orphan] == [
        f["bcr_patient_barcode"] for f in follow if f["bcr_patient_barcode"] not in known
    ]
    assert orphan[0].file == str(DATA / folder / FOLLOW)


def test_biotab_end_to_end() -> None:
    truth = {r["bcr_patient_barcode"]: r for r in read_tsv(TRUTH)}
    gdc_names = EndpointSpec(
        name="os",
        derive="tcga",
        status_column="vital_status",
        death_time_column="death_days_to",
        followup_time_column="last_contact_days_to",
    )
    for spec, endpoint in ((biotab_spec(), OS_BIOTAB), (biotab_spec("biotab_gdc"), gdc_names)):
        frame, records = load_clinical(spec, endpoint)
        assert frame["patient_id"].to_list() == list(truth)
        for patient, time_, event in frame.select("patient_id", "os_time", "os_event").iter_rows():
            t = truth[patient]
            dead = t["vital_status"] == "Dead"
            assert event == int(dead)
            if dead:
                assert time_ == float(t["days_to_death"])
            else:
                assert time_ == float(t["days_to_last_followup"])
        assert {r.reason for r in records} == {"follow_up_update", "follow_up_without_patient"}
    assert gdc.input_files(biotab_spec()) == [
        str(DATA / "biotab" / PATIENT),
        str(DATA / "biotab" / FOLLOW),
    ]


def test_biotab_contradicting_deaths(tmp_path: Path) -> None:
    shutil.copytree(DATA / "biotab", tmp_path / "b")
    follow = tmp_path / "b" / FOLLOW
    lines = follow.read_text().splitlines()
    dead = next(i for i, ln in enumerate(lines) if "\tDead\t" in ln and ln.endswith("\t289"))
    lines.append(lines[dead].replace("-F2", "-F3")[: -len("289")] + "301")
    follow.write_text("\n".join(lines) + "\n")
    spec = clinical_spec(tmp_path / "b" / PATIENT, "biotab", follow_up=str(follow))
    with pytest.raises(InputError, match="two times of death: 289") as err:
        gdc.read_biotab(spec)
    assert err.value.line == len(lines)
    assert f":{dead + 1})" in str(err.value)


def test_biotab_without_cde_rows(tmp_path: Path) -> None:
    lines = (DATA / "biotab" / PATIENT).read_text().splitlines()
    plain = tmp_path / PATIENT
    plain.write_text("\n".join([lines[0], *lines[3:]]) + "\n")
    with pytest.raises(InputError, match="CDE_ID row"):
        gdc.read_biotab(clinical_spec(plain, "biotab"))
    follow = tmp_path / "f.txt"
    follow.write_text("bcr_patient_barcode\tb\nx\ty\nCDE_ID:\tCDE_ID:\nTCGA-OR-A5J1\t2\n")
    spec = clinical_spec(DATA / "biotab" / PATIENT, "biotab", follow_up=str(follow))
    with pytest.raises(InputError, match="column 'vital_status' not found"):
        gdc.read_biotab(spec)
