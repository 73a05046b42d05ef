"""MAF and annotated-VCF readers: gene x sample 0/1 matrices, options, audit, errors."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.formats import read_matrix
from survomics.formats.mutations import (
    NON_SILENT,
    maf_matrix,
    read_maf,
    read_vcf,
    vcf_matrix,
)
from survomics.specs import FileSpec

DATA = Path(__file__).resolve().parent / "data" / "formats" / "mutations"
MAF = DATA / "chol_subset.maf"
MAF_GZ = DATA / "chol_subset.maf.gz"
SAMPLES = DATA / "chol_samples.txt"
VEP = DATA / "vep_multisample.vcf"
VEP_GZ = DATA / "vep_multisample.vcf.gz"
SNPEFF = DATA / "snpeff_single.vcf"


def spec(path: Path, fmt: str, **options: str) -> FileSpec:
    return FileSpec(
        cohort="c",
        modality="mutation",
        path=str(path),
        format=fmt,  # type: ignore[arg-type]
        options=tuple(options.items()),
    )


def pandas_expected(path: Path, classes: set[str] | None) -> pd.DataFrame:
    """Independent computation: crosstab of (gene, sample) over counted rows."""
    maf = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)
    counted = maf if classes is None else maf[maf["Variant_Classification"].isin(classes)]
    table = pd.crosstab(counted["Hugo_Symbol"], counted["Tumor_Sample_Barcode"]).clip(upper=1)
    return table.reindex(columns=maf["Tumor_Sample_Barcode"].unique(), fill_value=0).astype(float)


def as_pandas(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas().set_index("feature").sort_index()


def matrix(frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    return {
        row["feature"]: {k: v for k, v in row.items() if k != "feature"}
        for row in frame.iter_rows(named=True)
    }


# --- MAF -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MAF, MAF_GZ])
def test_maf_default_matches_independent_pandas(path: Path) -> None:
    raw = read_maf(spec(path, "maf"))
    expected = pandas_expected(MAF, set(NON_SILENT))
    got = as_pandas(raw.frame)
    pd.testing.assert_frame_equal(got, expected.sort_index(), check_names=False)
    assert raw.frame.schema["feature"] == pl.String
    assert all(raw.frame.schema[c] == pl.Float64 for c in raw.frame.columns[1:])
    assert raw.sources == (str(path),)


def test_maf_sample_with_only_silent_rows_is_an_all_zero_column() -> None:
    maf = pd.read_csv(MAF, sep="\t", comment="#", dtype=str)
    per_sample = maf.groupby("Tumor_Sample_Barcode")["Variant_Classification"].agg(set)
    silent_only = [s for s, c in per_sample.items() if c == {"Silent"}]
    assert silent_only, "the fixture keeps one tumour with only silent rows"
    raw = maf_matrix(path=MAF)
    for sample in silent_only:
        assert raw.frame[sample].sum() == 0.0


def test_maf_audit_summarises_excluded_classes_with_counts_and_first_line() -> None:
    raw = maf_matrix(path=MAF, cohort="c")
    maf = pd.read_csv(MAF, sep="\t", comment="#", dtype=str)
    maf["_line"] = np.arange(len(maf)) + 3  # '#version' line, header, then rows
    excluded = maf[~maf["Variant_Classification"].isin(NON_SILENT)]
    expected = excluded.groupby("Variant_Classification")["_line"].agg(["size", "min"])
    records = {r.id: r for r in raw.records if r.reason == "variant_class_not_counted"}
    assert set(records) == set(expected.index)
    for cls, (count, first) in expected.iterrows():
        assert records[cls].line == first
        assert records[cls].detail.startswith(f"{count} row(s)")
        assert records[cls].level == "row"


@pytest.mark.parametrize(
    ("option", "classes"),
    [
        ("all", None),
        ("Missense_Mutation", {"Missense_Mutation"}),
        ("Silent, Frame_Shift_Del", {"Silent", "Frame_Shift_Del"}),
    ],
)
def test_maf_variant_class_option(option: str, classes: set[str] | None) -> None:
    raw = read_maf(spec(MAF, "maf", variant_classes=option))
    expected = pandas_expected(MAF, classes)
    expected = expected[expected.sum(axis=1) > 0]
    pd.testing.assert_frame_equal(as_pandas(raw.frame), expected.sort_index(), check_names=False)
    if classes is None:
        assert not [r for r in raw.records if r.reason == "variant_class_not_counted"]


def test_maf_unknown_variant_class_is_refused() -> None:
    with pytest.raises(InputError, match="Missense") as err:
        read_maf(spec(MAF, "maf", variant_classes="Missense"))
    assert "variant_classes" in str(err.value)


def test_maf_sample_list_adds_wild_type_samples() -> None:
    raw = read_maf(spec(MAF, "maf", samples=str(SAMPLES)))
    listed = [s for s in SAMPLES.read_text().split() if s]
    in_maf = set(pd.read_csv(MAF, sep="\t", comment="#", dtype=str)["Tumor_Sample_Barcode"])
    extra = [s for s in listed if s not in in_maf]
    assert extra
    assert set(raw.frame.columns[1:]) == set(listed) | in_maf
    for sample in extra:
        assert raw.frame[sample].to_list() == [0.0] * raw.frame.height
    assert raw.sources == (str(MAF), str(SAMPLES))


def test_maf_through_the_format_registry() -> None:
    raw = read_matrix(spec(MAF, "maf"))
    assert raw.frame.height == pandas_expected(MAF, set(NON_SILENT)).pipe(
        lambda t: int((t.sum(axis=1) > 0).sum())
    )


def test_maf_other_sample_column_and_missing_symbols(tmp_path: Path) -> None:
    maf = pd.read_csv(MAF, sep="\t", comment="#", dtype=str, keep_default_na=False)
    maf = maf.rename(columns={"Tumor_Sample_Barcode": "sample"})
    missense = np.flatnonzero(maf["Variant_Classification"] == "Missense_Mutation")
    maf.loc[missense[0], "Hugo_Symbol"] = "Unknown"
    maf.loc[missense[1], "Hugo_Symbol"] = ""
    path = tmp_path / "x.maf"
    maf.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="Tumor_Sample_Barcode") as err:
        maf_matrix(path=path)
    assert err.value.line == 1
    raw = maf_matrix(path=path, sample_column="sample")
    (record,) = [r for r in raw.records if r.reason == "missing_gene_symbol"]
    assert record.line == missense[0] + 2
    assert record.detail.startswith("2 row(s)")
    assert "Unknown" not in raw.frame["feature"].to_list()


def test_maf_missing_column_names_file_line_and_column(tmp_path: Path) -> None:
    text = MAF.read_text().replace("Variant_Classification", "Variant_Class", 1)
    path = tmp_path / "bad.maf"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        maf_matrix(path=path)
    assert err.value.line == 2
    assert err.value.column == "Variant_Classification"
    assert str(path) in str(err.value)


def test_maf_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    data = MAF_GZ.read_bytes()
    path = tmp_path / "cut.maf.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="gzip stream is") as err:
        maf_matrix(path=path)
    assert str(path) in str(err.value)
    assert err.value.line is not None
    assert err.value.line > 1


def test_maf_ragged_row_names_its_line(tmp_path: Path) -> None:
    lines = MAF.read_text().splitlines()
    lines[10] += "\textra"
    path = tmp_path / "ragged.maf"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        maf_matrix(path=path)
    assert err.value.line == 11


# --- VCF -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [VEP, VEP_GZ])
def test_vep_csq_multisample(path: Path) -> None:
    raw = read_vcf(spec(path, "vcf"))
    assert raw.frame.columns == ["feature", "TUMOR_A", "TUMOR_B", "TUMOR_C"]
    # expectations written next to each record in make_fixtures.py
    assert matrix(raw.frame) == {
        "TP53": {"TUMOR_A": 1.0, "TUMOR_B": 0.0, "TUMOR_C": 0.0},
        "KRAS": {"TUMOR_A": 0.0, "TUMOR_B": 1.0, "TUMOR_C": 1.0},
        "PTEN": {"TUMOR_A": 0.0, "TUMOR_B": 0.0, "TUMOR_C": 1.0},
        "EGFR": {"TUMOR_A": 1.0, "TUMOR_B": 0.0, "TUMOR_C": 0.0},
        "BRCA2": {"TUMOR_A": 0.0, "TUMOR_B": 1.0, "TUMOR_C": 0.0},
        "NRAS": {"TUMOR_A": 1.0, "TUMOR_B": 0.0, "TUMOR_C": 0.0},
        "ATRX": {"TUMOR_A": 0.0, "TUMOR_B": 0.0, "TUMOR_C": 1.0},
    }
    reasons = {(r.reason, r.id) for r in raw.records}
    assert ("filtered_variant", "LowQual") in reasons
    assert ("missing_annotation", "CSQ") in reasons
    assert ("consequence_not_counted", "splice_region_variant") in reasons
    assert ("consequence_not_counted", "intergenic_variant") in reasons
    assert "BRAF" not in raw.frame["feature"].to_list()


def test_vcf_record_lines_in_audit_point_at_the_record() -> None:
    raw = vcf_matrix(path=VEP)
    lines = VEP.read_text().splitlines()
    for record in raw.records:
        assert record.line is not None
        text = lines[record.line - 1]
        if record.reason == "filtered_variant":
            assert text.split("\t")[6] == record.id
        if record.reason == "missing_annotation":
            assert "CSQ=" not in text


def test_vcf_consequence_option() -> None:
    raw = vcf_matrix(path=VEP, consequences="synonymous_variant")
    # only the KRAS 'A' allele is synonymous; TUMOR_A (0/1) and TUMOR_C (1/2) carry it
    assert matrix(raw.frame) == {"KRAS": {"TUMOR_A": 1.0, "TUMOR_B": 0.0, "TUMOR_C": 1.0}}
    everything = vcf_matrix(path=VEP, consequences="all")
    assert {"WRAP53", "TP53"} <= set(everything.frame["feature"].to_list())
    # splice_region-only TP53 record counts under 'all': TUMOR_B carries it
    assert everything.frame.filter(pl.col("feature") == "TP53")["TUMOR_B"].item() == 1.0


def test_snpeff_ann_single_sample() -> None:
    raw = read_vcf(spec(SNPEFF, "vcf", annotation="ann"))
    assert matrix(raw.frame) == {
        "PIK3CA": {"SAMPLE1": 1.0},
        "KRAS": {"SAMPLE1": 1.0},
        "PBRM1": {"SAMPLE1": 1.0},
    }
    assert {(r.reason, r.id) for r in raw.records} == {
        ("filtered_variant", "weak_evidence"),
        ("consequence_not_counted", "synonymous_variant"),
    }
    auto = vcf_matrix(path=SNPEFF)
    assert auto.frame.equals(raw.frame)


def test_vcf_annotation_missing_is_an_error() -> None:
    with pytest.raises(InputError, match="CSQ") as err:
        vcf_matrix(path=SNPEFF, annotation="csq")
    assert err.value.line is not None


def test_vcf_allele_num_overrides_allele_matching(tmp_path: Path) -> None:
    text = VEP.read_text()
    text = text.replace("SYMBOL_SOURCE|HGNC_ID", "SYMBOL_SOURCE|HGNC_ID|ALLELE_NUM")
    # the KRAS record's annotations swap alleles: ALLELE_NUM decides, not Allele
    old = next(ln for ln in text.splitlines() if ln.startswith("chr12\t25245350"))
    info = old.split("\t")[7]
    entries = info.split("CSQ=")[1].split(",")
    swapped = [entries[0] + "|2", entries[1] + "|1"]
    new = old.replace(info, info.split("CSQ=")[0] + "CSQ=" + ",".join(swapped))
    path = tmp_path / "num.vcf"
    path.write_text(text.replace(old, new))
    raw = vcf_matrix(path=path)
    kras = raw.frame.filter(pl.col("feature") == "KRAS")
    # missense now belongs to ALT 1 (A): TUMOR_A 0/1 and TUMOR_C 1/2 carry it
    assert kras.row(0, named=True) == {
        "feature": "KRAS",
        "TUMOR_A": 1.0,
        "TUMOR_B": 0.0,
        "TUMOR_C": 1.0,
    }


def test_vcf_unmatched_allele_is_audited(tmp_path: Path) -> None:
    text = VEP.read_text().replace("CSQ=TTT|inframe_insertion", "CSQ=GGG|inframe_insertion")
    path = tmp_path / "x.vcf"
    path.write_text(text)
    raw = vcf_matrix(path=path)
    assert "EGFR" not in raw.frame["feature"].to_list()
    assert ("annotation_allele_not_in_alt", "GGG") in {(r.reason, r.id) for r in raw.records}


def test_vcf_genotype_errors(tmp_path: Path) -> None:
    lines = VEP.read_text().splitlines()
    idx = next(i for i, ln in enumerate(lines) if ln.startswith("chr17\t7675088"))
    lines[idx] = lines[idx].replace("\t0/1:40,35:75", "\tA/B:40,35:75")
    path = tmp_path / "gt.vcf"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="TUMOR_A") as err:
        vcf_matrix(path=path)
    assert err.value.line == idx + 1
    lines[idx] = lines[idx].replace("GT:AD:DP", "AD:DP")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="no GT") as err:
        vcf_matrix(path=path)
    assert err.value.line == idx + 1


def test_vcf_sites_only_and_truncated_gzip(tmp_path: Path) -> None:
    sites = tmp_path / "sites.vcf"
    sites.write_text(
        "".join(
            "\t".join(ln.split("\t")[:8]) + "\n" if not ln.startswith("##") else ln + "\n"
            for ln in VEP.read_text().splitlines()
        )
    )
    with pytest.raises(InputError, match="no genotype"):
        vcf_matrix(path=sites)
    data = gzip.compress((VEP.read_text() * 40).encode())
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) - 50])
    with pytest.raises(InputError, match="gzip stream is") as err:
        vcf_matrix(path=cut)
    assert err.value.line is not None


def test_vcf_gzip_and_plain_agree(tmp_path: Path) -> None:
    copy = tmp_path / "copy.vcf"
    shutil.copy(VEP, copy)
    assert vcf_matrix(path=copy).frame.equals(vcf_matrix(path=VEP_GZ).frame)
