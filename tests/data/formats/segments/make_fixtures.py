"""Regenerate the segment fixtures of tests/test_format_segments.py (and, with
``--annotation <gencode_v36_genes_hg38.tsv.gz>``, the annotation bundled in
``src/survomics/data``).

Run from the repository root: ``.venv/bin/python tests/data/formats/segments/make_fixtures.py``.

- ``genes.tsv``: a hand-made 4-gene annotation (chrom with ``chr`` prefix, 1-based
  inclusive coordinates) whose gene values can be checked by hand.
- ``cbioportal.seg``: cBioPortal/DNAcopy header (``ID chrom loc.start loc.end num.mark
  seg.mean``), numeric chromosomes, X written ``23``.
- ``gdc.seg``: GDC copy-number segment header (``GDC_Aliquot Chromosome Start End
  Num_Probes Segment_Mean``), chromosomes ``1``..``X``; the same segments, so both give
  the same matrix.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]

GENES = [
    # chrom, start, end, gene_id, gene_name, gene_type
    ("chr1", 1000, 1999, "G1.1", "GENE1", "protein_coding"),  # 400 bp at 1.0 + 600 bp at -0.5
    ("chr1", 6000, 6999, "G2.1", "GENE2", "protein_coding"),  # in the gap: null
    ("chr1", 8000, 8099, "G3.1", "GENE3", "lncRNA"),  # inside one segment: 0.75
    ("chrX", 500, 1499, "G4.1", "GENE4", "protein_coding"),  # 23 in cBioPortal: -1.2
]
SEGMENTS = [
    # sample, chrom, start, end, markers, value
    ("S1", "1", 1, 1399, 12, 1.0),
    ("S1", "1", 1400, 5000, 30, -0.5),
    ("S1", "1", 7000, 9000, 20, 0.75),
    ("S1", "X", 1, 100000, 50, -1.2),
    ("S2", "1", 1, 9000, 80, 0.2),
]


def make() -> None:
    header = "chrom\tstart\tend\tgene_id\tgene_name\tgene_type\n"
    (HERE / "genes.tsv").write_text(header + "".join("\t".join(map(str, g)) + "\n" for g in GENES))
    cbio = "ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\n"
    gdc = "GDC_Aliquot\tChromosome\tStart\tEnd\tNum_Probes\tSegment_Mean\n"
    for sample, chrom, start, end, marks, value in SEGMENTS:
        cbio += f"{sample}\t{'23' if chrom == 'X' else chrom}\t{start}\t{end}\t{marks}\t{value}\n"
        gdc += f"{sample}\t{chrom}\t{start}\t{end}\t{marks}\t{value}\n"
    (HERE / "cbioportal.seg").write_text(cbio)
    (HERE / "gdc.seg").write_text(gdc)


def bundle(source: Path) -> None:
    """Write src/survomics/data/gencode_v36_genes_hg38.tsv.gz from the GENCODE table."""
    import polars as pl

    order = {f"chr{i}": i for i in range(1, 23)} | {"chrX": 23, "chrY": 24, "chrM": 25}
    table = (
        pl.read_csv(source, separator="\t")
        .select("chrom", "start", "end", "gene_id", "gene_name", "gene_type")
        .with_columns(pl.col("chrom").replace_strict(order).alias("_o"))
        .sort("_o", "start", "end", "gene_id")
        .drop("_o")
    )
    out = ROOT / "src" / "survomics" / "data" / "gencode_v36_genes_hg38.tsv.gz"
    out.write_bytes(gzip.compress(table.write_csv(separator="\t").encode(), 9, mtime=0))


if __name__ == "__main__":
    make()
    if len(sys.argv) == 3 and sys.argv[1] == "--annotation":
        bundle(Path(sys.argv[2]))
