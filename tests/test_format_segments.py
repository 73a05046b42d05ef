"""Copy-number segments mapped onto genes: weights, chromosome names, headers, errors."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics.errors import InputError
from survomics.formats import read_matrix
from survomics.formats.segments import (
    bundled_annotation,
    gene_level,
    input_files,
    read_seg,
    seg_matrix,
)
from survomics.specs import FileSpec

DATA = Path(__file__).resolve().parent / "data" / "formats" / "segments"
GENES = DATA / "genes.tsv"
CBIO = DATA / "cbioportal.seg"
GDC = DATA / "gdc.seg"


def spec(path: Path, **options: str) -> FileSpec:
    return FileSpec(
        cohort="c",
        modality="copy_number",
        path=str(path),
        format="seg",
        options=tuple(options.items()),
    )


def values(frame: pl.DataFrame) -> dict[str, dict[str, float | None]]:
    return {
        r["feature"]: {k: v for k, v in r.items() if k != "feature"}
        for r in frame.iter_rows(named=True)
    }


def test_hand_checkable_weights() -> None:
    raw = read_seg(spec(CBIO, annotation=str(GENES)))
    got = values(raw.frame)
    # GENE1 1000-1999: 400 bp of the 1.0 segment (1000-1399), 600 bp of -0.5 (1400-1999)
    assert got["GENE1"]["S1"] == pytest.approx((400 * 1.0 + 600 * -0.5) / 1000)
    assert got["GENE2"]["S1"] is None  # in the gap between 5000 and 7000
    assert got["GENE3"]["S1"] == 0.75  # inside one segment: exactly its value
    assert got["GENE4"]["S1"] == -1.2  # chrX in the annotation, 23 in the file
    assert got["GENE4"]["S2"] is None  # S2 has no X segment
    assert raw.frame.columns == ["feature", "S1", "S2"]
    assert raw.sources == (str(CBIO), str(GENES))
    assert input_files(spec(CBIO, annotation=str(GENES))) == [str(CBIO), str(GENES)]


def test_gdc_and_cbioportal_headers_agree() -> None:
    cbio = read_seg(spec(CBIO, annotation=str(GENES)))
    gdc = read_matrix(spec(GDC, annotation=str(GENES)))
    assert gdc.frame.equals(cbio.frame)
    by_id = read_seg(spec(GDC, annotation=str(GENES), gene_id="gene_id"))
    assert by_id.frame["feature"].to_list() == ["G1.1", "G2.1", "G3.1", "G4.1"]


@pytest.mark.parametrize(
    ("seg_chrom", "gene_chrom"),
    [
        ("chr1", "1"),
        ("1", "chr1"),
        ("CHR1", "chr1"),
        ("chrX", "23"),
        ("24", "chrY"),
        ("MT", "chrM"),
    ],
)
def test_chromosome_names_are_normalised(tmp_path: Path, seg_chrom: str, gene_chrom: str) -> None:
    genes = tmp_path / "g.tsv"
    genes.write_text(f"chrom\tstart\tend\tgene_id\tgene_name\n{gene_chrom}\t10\t20\tE1\tA\n")
    seg = tmp_path / "s.seg"
    seg.write_text(
        f"ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\nS\t{seg_chrom}\t1\t100\t5\t0.3\n"
    )
    raw = seg_matrix(path=seg, annotation=genes)
    assert values(raw.frame) == {"A": {"S": 0.3}}


def brute_force(genes: pl.DataFrame, segs: pl.DataFrame, samples: list[str]) -> np.ndarray:
    out = np.full((genes.height, len(samples)), np.nan)
    for i, g in enumerate(genes.iter_rows(named=True)):
        for j, s in enumerate(samples):
            num = den = 0.0
            for seg in segs.filter(pl.col("sample") == s).iter_rows(named=True):
                if seg["chrom"] != g["chrom"]:
                    continue
                ov = min(g["end"], seg["end"]) - max(g["start"], seg["start"]) + 1
                if ov > 0:
                    num += ov * seg["value"]
                    den += ov
            if den > 0:
                out[i, j] = num / den
    return out


def test_against_brute_force_on_random_segments(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    chroms = ["1", "2", "X"]
    genes_rows = []
    for i in range(150):
        chrom = chroms[i % 3]
        start = int(rng.integers(1, 90_000))
        genes_rows.append(
            (f"chr{chrom}", start, start + int(rng.integers(0, 8_000)), f"E{i}", f"G{i}")
        )
    seg_rows = []
    for s in range(6):
        for chrom in chroms[: 2 + s % 2]:
            cuts = np.sort(
                rng.choice(np.arange(2, 100_000), size=int(rng.integers(2, 15)), replace=False)
            )
            bounds = [1, *cuts.tolist(), 100_000]
            for a, b in itertools.pairwise(bounds):
                if rng.random() < 0.2:  # leave gaps
                    continue
                seg_rows.append((f"S{s}", chrom, a, b - 1, 3, round(float(rng.normal()), 4)))
    genes_path = tmp_path / "genes.tsv"
    genes_path.write_text(
        "chrom\tstart\tend\tgene_id\tgene_name\n"
        + "".join("\t".join(map(str, r)) + "\n" for r in genes_rows)
    )
    seg_path = tmp_path / "x.seg.gz"
    text = "GDC_Aliquot\tChromosome\tStart\tEnd\tNum_Probes\tSegment_Mean\n"
    text += "".join(
        "\t".join(map(str, r)) + "\n" for r in rng.permutation(np.array(seg_rows, dtype=object))
    )
    seg_path.write_bytes(gzip.compress(text.encode()))
    raw = seg_matrix(path=seg_path, annotation=genes_path)
    samples = raw.frame.columns[1:]
    genes = pl.DataFrame(
        genes_rows, schema=["chrom", "start", "end", "gene_id", "gene_name"], orient="row"
    )
    genes = genes.with_columns(pl.col("chrom").str.replace("chr", ""))
    segs = pl.DataFrame(
        seg_rows, schema=["sample", "chrom", "start", "end", "n", "value"], orient="row"
    )
    expected = brute_force(genes, segs, samples)
    got = (
        raw.frame.to_pandas()
        .set_index("feature")
        .loc[[r[4] for r in genes_rows]]
        .to_numpy(dtype=float)
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, equal_nan=True)
    assert np.isnan(expected).any()
    assert (~np.isnan(expected)).sum() > 100


def test_value_option_and_missing_values(tmp_path: Path) -> None:
    seg = tmp_path / "v.seg"
    seg.write_text(
        "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\tcn\n"
        "S1\t1\t1\t5000\t10\t0.5\t3\n"
        "S1\t1\t5001\t9000\t10\tNA\t2\n"
    )
    by_cn = seg_matrix(path=seg, annotation=GENES, value="cn")
    assert values(by_cn.frame)["GENE1"] == {"S1": 3.0}
    default = seg_matrix(path=seg, annotation=GENES)
    assert values(default.frame)["GENE1"] == {"S1": 0.5}
    assert values(default.frame)["GENE3"] == {"S1": None}
    (record,) = default.records
    assert (record.reason, record.line, record.id) == ("missing_segment_value", 3, "S1")


def test_unknown_chromosome_is_audited(tmp_path: Path) -> None:
    seg = tmp_path / "u.seg"
    seg.write_text(
        "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\n"
        "S1\t1\t1\t5000\t10\t0.5\nS1\tGL000220.1\t1\t500\t3\t0.1\nS1\tGL000220.1\t600\t900\t3\t0.1\n"
    )
    raw = seg_matrix(path=seg, annotation=GENES)
    (record,) = raw.records
    assert (record.reason, record.id, record.line) == ("unknown_chromosome", "GL000220.1", 3)
    assert record.detail.startswith("2 segment(s)")


@pytest.mark.parametrize(
    ("row", "line", "column", "match"),
    [
        ("S1\t1\t900\t100\t3\t0.1", 3, "loc.start", "start 900 > end 100"),
        ("S1\t1\tabc\t100\t3\t0.1", 3, "loc.start", "not an integer"),
        ("S1\t1\t1\t100\t3\thigh", 3, "seg.mean", "not a number"),
        ("S1\t1\t4000\t6000\t3\t0.1", 3, None, "overlap"),
    ],
)
def test_errors_name_the_line(
    tmp_path: Path, row: str, line: int, column: str | None, match: str
) -> None:
    seg = tmp_path / "e.seg"
    seg.write_text(
        "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\nS1\t1\t1\t5000\t10\t0.5\n" + row + "\n"
    )
    with pytest.raises(InputError, match=match) as err:
        seg_matrix(path=seg, annotation=GENES)
    assert err.value.line == line
    assert err.value.column == column
    assert str(seg) in str(err.value)


def test_missing_column(tmp_path: Path) -> None:
    seg = tmp_path / "m.seg"
    seg.write_text("ID\tchrom\tloc.start\tnum.mark\tseg.mean\nS1\t1\t1\t10\t0.5\n")
    with pytest.raises(InputError, match="no end column") as err:
        seg_matrix(path=seg, annotation=GENES)
    assert err.value.line == 1
    bad_genes = tmp_path / "g.tsv"
    bad_genes.write_text("chrom\tbegin\tend\tgene_id\tgene_name\n")
    with pytest.raises(InputError, match="'start' is missing"):
        seg_matrix(path=CBIO, annotation=bad_genes)


def test_bundled_annotation_and_duplicate_names() -> None:
    table = bundled_annotation()
    assert table.columns == ["chrom", "start", "end", "gene_id", "gene_name", "gene_type"]
    assert table.height == 60_660
    assert table["gene_id"].n_unique() == table.height
    raw = seg_matrix(path=GDC)
    n_names = table["gene_name"].n_unique()
    assert raw.frame.height == n_names
    dups = [r for r in raw.records if r.reason == "duplicate_gene_name"]
    assert len(dups) == table.height - n_names
    # PAR genes: the chrX copy is kept, the chrY (_PAR_Y) copy audited
    plcxd1 = [r for r in dups if r.id == "PLCXD1"]
    assert len(plcxd1) == 1
    assert "_PAR_Y at Y:" in plcxd1[0].detail
    assert "ENSG00000182378.14 at X:" in plcxd1[0].detail
    by_id = seg_matrix(path=GDC, gene_id="gene_id")
    assert by_id.frame.height == table.height
    assert not [r for r in by_id.records if r.reason.startswith("duplicate")]
    assert raw.sources == (str(GDC),)


def test_gene_level_is_vectorised_at_scale() -> None:
    """200 samples x all bundled genes x ~100 segments: the result matches per-gene sums."""
    genes = bundled_annotation().with_columns(pl.col("chrom").str.replace("chr", ""))
    rng = np.random.default_rng(3)
    names = [*map(str, range(1, 23)), "X", "Y"]
    rows = []
    for s in range(200):
        for c in names:  # ~100 segments per sample, with gaps between chromosomes' ends
            cuts = np.unique(rng.integers(2, 150_000_000, size=3)).tolist()
            bounds = [1, *cuts, 200_000_000]
            for a, b in itertools.pairwise(bounds):
                rows.append((f"S{s}", c, a, b - 1, float(rng.normal())))
    segs = pl.DataFrame(rows, schema=["sample", "chrom", "start", "end", "value"], orient="row")
    samples = [f"S{s}" for s in range(200)]
    out = gene_level(genes, segs, samples)
    assert out.shape == (genes.height, 200)
    # spot-check 50 random cells against a direct computation
    for i, j in zip(rng.integers(0, genes.height, 50), rng.integers(0, 200, 50), strict=True):
        g = genes.row(int(i), named=True)
        part = segs.filter(
            (pl.col("sample") == samples[j])
            & (pl.col("chrom") == g["chrom"])
            & (pl.col("start") <= g["end"])
            & (pl.col("end") >= g["start"])
        )
        if part.height == 0:
            assert np.isnan(out[i, j])
            continue
        ov = np.minimum(part["end"], g["end"]) - np.maximum(part["start"], g["start"]) + 1
        assert out[i, j] == pytest.approx(float((ov * part["value"]).sum() / ov.sum()), rel=1e-12)
