# ruff: noqa: E501  (VCF header lines are written verbatim, as the tools write them)
"""Regenerate the mutation fixtures of tests/test_format_mutations.py.

Run from the repository root: ``.venv/bin/python tests/data/formats/mutations/make_fixtures.py``.

- ``chol_subset.maf`` / ``.maf.gz``: rows of the real TCGA-CHOL somatic MAF
  (``/work/shared/data/tcga_chol/somatic_mutations.maf``, TCGAbiolinks 2.25 package
  data, TCGA open access) for 10 tumours, unchanged, in file order. Recurrent genes are
  preferred so that the matrix has genes mutated in several samples; one tumour keeps
  only its ``Silent`` rows (a sample present in the MAF without a counted mutation);
  every ``Variant_Classification`` of the source is kept. The source has no ``#version``
  line; the fixture starts with ``#version 2.4`` as GDC MAFs do.
- ``chol_samples.txt``: the 10 tumours plus one more sequenced tumour of the cohort that
  has no row in the subset.
- ``vep_multisample.vcf(.gz)``, ``snpeff_single.vcf``: small VCFs written to the VEP
  (INFO/CSQ) and SnpEff (INFO/ANN, VCF annotation format v1.0) specifications; their
  records are listed below with the expectation each one tests.
"""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

SOURCE = Path("/work/shared/data/tcga_chol/somatic_mutations.maf")
HERE = Path(__file__).resolve().parent
N_SAMPLES = 10
PER_SAMPLE = 30
SILENT_ONLY = "TCGA-W5-AA2H-01A-31D-A417-09"
EXTRA_SAMPLE = "TCGA-4G-AAZO-01A-12D-A417-09"


def make_maf() -> None:
    lines = SOURCE.read_text().splitlines()
    header = lines[0].split("\t")
    gene_i, class_i, sample_i = (
        header.index("Hugo_Symbol"),
        header.index("Variant_Classification"),
        header.index("Tumor_Sample_Barcode"),
    )
    rows = [line.split("\t") for line in lines[1:]]
    per_sample = Counter(r[sample_i] for r in rows)
    carriers = Counter(g for g, _ in {(r[gene_i], r[sample_i]) for r in rows})
    # tumours holding the rarest classes, then the smallest ones, plus the silent-only one
    by_class = Counter(r[class_i] for r in rows)
    rare = sorted(by_class, key=lambda c: (by_class[c], c))[:2]
    chosen = list(dict.fromkeys(next(r[sample_i] for r in rows if r[class_i] == c) for c in rare))
    smallest = [s for s, _ in sorted(per_sample.items(), key=lambda kv: (kv[1], kv[0]))]
    chosen += [s for s in smallest if s not in {SILENT_ONLY, EXTRA_SAMPLE, *chosen}]
    chosen = [*chosen[: N_SAMPLES - 1], SILENT_ONLY]
    keep: set[int] = set()
    for sample in chosen:
        own = [i for i, r in enumerate(rows) if r[sample_i] == sample]
        if sample == SILENT_ONLY:
            keep.update(i for i in own if rows[i][class_i] == "Silent")
            continue
        own.sort(key=lambda i: (-carriers[rows[i][gene_i]], i))
        keep.update(own[:PER_SAMPLE])
    for cls in {r[class_i] for r in rows}:  # every class at least once
        if not any(rows[i][class_i] == cls for i in keep):
            keep.add(
                next(i for i, r in enumerate(rows) if r[class_i] == cls and r[sample_i] in chosen)
            )
    text = "#version 2.4\n" + lines[0] + "\n"
    text += "".join("\t".join(rows[i]) + "\n" for i in sorted(keep))
    (HERE / "chol_subset.maf").write_text(text)
    (HERE / "chol_subset.maf.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    (HERE / "chol_samples.txt").write_text("\n".join([*sorted(chosen), EXTRA_SAMPLE]) + "\n")


CSQ_FORMAT = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|"
    "HGVSp|cDNA_position|CDS_position|Protein_position|Amino_acids|Codons|"
    "Existing_variation|DISTANCE|STRAND|FLAGS|SYMBOL_SOURCE|HGNC_ID"
)


def csq(*entries: tuple[str, ...]) -> str:
    """One CSQ value: each entry padded to the 23 fields of CSQ_FORMAT."""
    n = CSQ_FORMAT.count("|") + 1
    return "CSQ=" + ",".join("|".join(list(e) + [""] * (n - len(e))) for e in entries)


VEP_HEADER = f"""##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles in the order listed">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">
##contig=<ID=chr1,length=248956422,assembly=GRCh38>
##contig=<ID=chr7,length=159345973,assembly=GRCh38>
##contig=<ID=chr10,length=133797422,assembly=GRCh38>
##contig=<ID=chr12,length=133275309,assembly=GRCh38>
##contig=<ID=chr13,length=114364328,assembly=GRCh38>
##contig=<ID=chr17,length=83257441,assembly=GRCh38>
##contig=<ID=chrX,length=156040895,assembly=GRCh38>
##VEP="v105" time="2022-01-10 10:12:01" cache="/opt/vep/.vep/homo_sapiens/105_GRCh38" ensembl-funcgen=105.660df8f ensembl-variation=105.ac8178e ensembl-io=105.2a0a40c ensembl=105.525fbcb assembly="GRCh38.p13" gencode="GENCODE 39"
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: {CSQ_FORMAT}">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR_A\tTUMOR_B\tTUMOR_C
"""

TP53 = ("TP53", "ENSG00000141510", "Transcript", "ENST00000269305", "protein_coding")
KRAS = ("KRAS", "ENSG00000133703", "Transcript", "ENST00000256133", "protein_coding")
PTEN = ("PTEN", "ENSG00000171862", "Transcript", "ENST00000371953", "protein_coding")
EGFR = ("EGFR", "ENSG00000146648", "Transcript", "ENST00000275493", "protein_coding")
BRCA2 = ("BRCA2", "ENSG00000139618", "Transcript", "ENST00000380152", "protein_coding")
ATRX = ("ATRX", "ENSG00000085224", "Transcript", "ENST00000373344", "protein_coding")
BRAF = ("BRAF", "ENSG00000157764", "Transcript", "ENST00000646891", "protein_coding")
NRAS = ("NRAS", "ENSG00000213281", "Transcript", "ENST00000369535", "protein_coding")
WRAP53 = ("WRAP53", "ENSG00000141499", "Transcript", "ENST00000357449", "protein_coding")

VEP_RECORDS = [
    # TP53 missense, A het; WRAP53 downstream (not counted) -> TP53: A=1, B=0 (0/0), C=0 (./.)
    (
        "chr17\t7675088\trs28934578\tC\tT\t812\tPASS\tDP=180;"
        + csq(
            (
                "T",
                "missense_variant",
                "MODERATE",
                *TP53,
                "5/11",
                "",
                "ENST00000269305.9:c.524G>A",
                "ENSP00000269305.4:p.Arg175His",
                "714",
                "524",
                "175",
                "R/H",
                "cGc/cAc",
                "rs28934578",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:11998",
            ),
            (
                "T",
                "downstream_gene_variant",
                "MODIFIER",
                *WRAP53,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "1205",
                "1",
                "",
                "HGNC",
                "HGNC:25522",
            ),
        )
        + "\tGT:AD:DP\t0/1:40,35:75\t0/0:60,0:60\t./.:.:."
    ),
    # KRAS multi-allelic SNV: A synonymous, T missense. A: 0/1 (A only) -> 0;
    # B: 0/2 -> 1; C: 1/2 -> 1
    (
        "chr12\t25245350\t.\tC\tA,T\t530\tPASS\tDP=150;"
        + csq(
            (
                "A",
                "synonymous_variant",
                "LOW",
                *KRAS,
                "2/6",
                "",
                "ENST00000256133.12:c.36G>T",
                "ENSP00000256133.8:p.Gly12=",
                "225",
                "36",
                "12",
                "G",
                "ggC/ggA",
                "",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:6407",
            ),
            (
                "T",
                "missense_variant",
                "MODERATE",
                *KRAS,
                "2/6",
                "",
                "ENST00000256133.12:c.35G>A",
                "ENSP00000256133.8:p.Gly12Asp",
                "225",
                "35",
                "12",
                "G/D",
                "gGt/gAt",
                "",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:6407",
            ),
        )
        + "\tGT:AD:DP\t0/1:30,20,0:50\t0/2:25,0,22:47\t1/2:5,18,20:43"
    ),
    # PTEN 2-bp deletion: VEP allele '-' (shared first base removed); C hom (phased) -> 1
    (
        "chr10\t87933145\t.\tCAG\tC\t401\tPASS\tDP=90;"
        + csq(
            (
                "-",
                "frameshift_variant",
                "HIGH",
                *PTEN,
                "5/9",
                "",
                "ENST00000371953.8:c.389_390del",
                "ENSP00000361021.3:p.Arg130fs",
                "1747-1748",
                "389-390",
                "130",
                "R/X",
                "CGa/a",
                "",
                "",
                "1",
                "",
                "HGNC",
                "HGNC:9588",
            ),
        )
        + "\tGT:AD:DP\t0|0:45,0:45\t0|0:50,0:50\t1|1:0,38:38"
    ),
    # EGFR 3-bp insertion: VEP allele 'TTT'; A het -> 1
    (
        "chr7\t55181319\t.\tA\tATTT\t299\tPASS\tDP=70;"
        + csq(
            (
                "TTT",
                "inframe_insertion",
                "MODERATE",
                *EGFR,
                "20/28",
                "",
                "ENST00000275493.7:c.2300_2301insTTT",
                "ENSP00000275493.2:p.Asp770_Asn771insPhe",
                "2477-2478",
                "2300-2301",
                "767",
                "-/F",
                "-/TTT",
                "",
                "",
                "1",
                "",
                "HGNC",
                "HGNC:3236",
            ),
        )
        + "\tGT:AD:DP\t0/1:30,25:55\t0/0:40,0:40\t0/0:41,0:41"
    ),
    # BRCA2 multi-allelic indel: REF TA, ALT T (VEP "-") intronic, ALT TAA (VEP "AA") frameshift.
    # A: 0/1 -> 0; B: 0/2 -> 1; C: ./. -> 0
    (
        "chr13\t32338122\t.\tTA\tT,TAA\t350\tPASS\tDP=88;"
        + csq(
            (
                "-",
                "intron_variant",
                "MODIFIER",
                *BRCA2,
                "",
                "10/26",
                "ENST00000380152.8:c.1909+5del",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "1",
                "",
                "HGNC",
                "HGNC:1101",
            ),
            (
                "AA",
                "frameshift_variant",
                "HIGH",
                *BRCA2,
                "11/27",
                "",
                "ENST00000380152.8:c.1913dup",
                "ENSP00000369497.3:p.Asn638fs",
                "2113-2114",
                "1913-1914",
                "638",
                "-/X",
                "-/A",
                "",
                "",
                "1",
                "",
                "HGNC",
                "HGNC:1101",
            ),
        )
        + "\tGT:AD:DP\t0/1:33,30,0:63\t0/2:31,0,29:60\t./.:.:."
    ),
    # BRAF V600E but FILTER LowQual -> not counted, audited filtered_variant
    (
        "chr7\t140753336\trs113488022\tA\tT\t12\tLowQual\tDP=9;"
        + csq(
            (
                "T",
                "missense_variant",
                "MODERATE",
                *BRAF,
                "15/18",
                "",
                "ENST00000646891.2:c.1799T>A",
                "ENSP00000493543.1:p.Val600Glu",
                "1860",
                "1799",
                "600",
                "V/E",
                "gTg/gAg",
                "rs113488022",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:1097",
            ),
        )
        + "\tGT:AD:DP\t0/1:5,4:9\t0/1:3,3:6\t0/0:8,0:8"
    ),
    # TP53 splice_region&intron only -> not counted (consequence_not_counted)
    (
        "chr17\t7674180\t.\tG\tA\t420\tPASS\tDP=95;"
        + csq(
            (
                "A",
                "splice_region_variant&intron_variant",
                "LOW",
                *TP53,
                "",
                "8/10",
                "ENST00000269305.9:c.920-7C>T",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:11998",
            ),
        )
        + "\tGT:AD:DP\t0/0:50,0:50\t0/1:30,28:58\t0/0:44,0:44"
    ),
    # NRAS missense&splice_region joined by '&' -> counted for A (hom)
    (
        "chr1\t114713908\t.\tT\tC\t610\tPASS\tDP=100;"
        + csq(
            (
                "C",
                "missense_variant&splice_region_variant",
                "MODERATE",
                *NRAS,
                "3/7",
                "",
                "ENST00000369535.5:c.182A>G",
                "ENSP00000358548.4:p.Gln61Arg",
                "312",
                "182",
                "61",
                "Q/R",
                "cAa/cGa",
                "",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:7989",
            ),
        )
        + "\tGT:AD:DP\t1/1:0,60:60\t0/0:40,0:40\t0/0:40,0:40"
    ),
    # intergenic, no SYMBOL -> not counted
    (
        "chr10\t100000000\t.\tA\tG\t300\tPASS\tDP=60;"
        + csq(("G", "intergenic_variant", "MODIFIER"))
        + "\tGT:AD:DP\t0/1:30,30:60\t0/1:30,28:58\t0/0:44,0:44"
    ),
    # no CSQ field -> missing_annotation
    "chr12\t25300000\t.\tT\tC\t250\tPASS\tDP=55\tGT:AD:DP\t0/1:25,25:50\t0/0:40,0:40\t0/0:40,0:40",
    # ATRX stop_gained on chrX; haploid GT '1' in C -> 1
    (
        "chrX\t77682471\t.\tG\tA\t500\tPASS\tDP=70;"
        + csq(
            (
                "A",
                "stop_gained",
                "HIGH",
                *ATRX,
                "9/35",
                "",
                "ENST00000373344.11:c.2785C>T",
                "ENSP00000362441.4:p.Arg929Ter",
                "2999",
                "2785",
                "929",
                "R/*",
                "Cga/Tga",
                "",
                "",
                "-1",
                "",
                "HGNC",
                "HGNC:886",
            ),
        )
        + "\tGT:AD:DP\t0:40,0:40\t.:.:.\t1:0,70:70"
    ),
]

SNPEFF_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">
##contig=<ID=chr3,length=198295559,assembly=GRCh38>
##contig=<ID=chr12,length=133275309,assembly=GRCh38>
##contig=<ID=chr17,length=83257441,assembly=GRCh38>
##SnpEffVersion="5.1d (build 2022-04-19 15:49), by Pablo Cingolani"
##SnpEffCmd="SnpEff  GRCh38.105 tumour.vcf "
##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' ">
##INFO=<ID=LOF,Number=.,Type=String,Description="Predicted loss of function effects for this variant. Format: 'Gene_Name | Gene_ID | Number_of_transcripts_in_gene | Percent_of_transcripts_affected'">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1
"""

SNPEFF_RECORDS = [
    # PIK3CA missense -> 1
    "chr3\t179234297\t.\tA\tG\t700\tPASS\tDP=120;ANN=G|missense_variant|MODERATE|PIK3CA|"
    "ENSG00000121879|transcript|ENST00000263967.4|protein_coding|21/21|c.3140A>G|p.His1047Arg|"
    "3297/9093|3140/3207|1047/1068||\tGT:AD:DP\t0/1:60,55:115",
    # TP53 synonymous -> not counted
    "chr17\t7675994\t.\tG\tA\t600\tPASS\tDP=110;ANN=A|synonymous_variant|LOW|TP53|"
    "ENSG00000141510|transcript|ENST00000269305.9|protein_coding|4/11|c.213C>T|p.Arg71Arg|"
    "403/2512|213/1182|71/393||\tGT:AD:DP\t0/1:55,50:105",
    # multi-allelic: C upstream of KRAS (not counted), T stop_gained in KRAS; GT 0/2 -> 1
    "chr12\t25245347\t.\tC\tA,T\t420\tPASS\tDP=80;ANN=A|upstream_gene_variant|MODIFIER|KRAS|"
    "ENSG00000133703|transcript|ENST00000311936.8|protein_coding||c.-1200G>T|||||1200|,"
    "T|stop_gained|HIGH|KRAS|ENSG00000133703|transcript|ENST00000256133.12|protein_coding|2/6|"
    "c.40G>A|p.Val14*|229/5430|40/570|14/189||;LOF=(KRAS|ENSG00000133703|2|0.50)"
    "\tGT:AD:DP\t0/2:40,0,38:78",
    # frameshift deletion in ARID1A-like gene, filtered weak_evidence -> not counted
    "chr3\t52643500\t.\tCT\tC\t15\tweak_evidence\tDP=12;ANN=C|frameshift_variant|HIGH|PBRM1|"
    "ENSG00000163939|transcript|ENST00000296302.11|protein_coding|12/30|c.1200del|"
    "p.Lys400fs|1300/5000|1200/4749|400/1582||\tGT:AD:DP\t0/1:8,4:12",
    # frameshift in PBRM1 PASS, ALT written as-is by SnpEff ('C') -> 1
    "chr3\t52649400\t.\tCA\tC\t450\tPASS\tDP=90;ANN=C|frameshift_variant|HIGH|PBRM1|"
    "ENSG00000163939|transcript|ENST00000296302.11|protein_coding|10/30|c.1000del|"
    "p.Ser334fs|1100/5000|1000/4749|334/1582||\tGT:AD:DP\t0/1:45,40:85",
]


def make_vcfs() -> None:
    vep = VEP_HEADER + "\n".join(VEP_RECORDS) + "\n"
    (HERE / "vep_multisample.vcf").write_text(vep)
    (HERE / "vep_multisample.vcf.gz").write_bytes(gzip.compress(vep.encode(), mtime=0))
    (HERE / "snpeff_single.vcf").write_text(SNPEFF_HEADER + "\n".join(SNPEFF_RECORDS) + "\n")


if __name__ == "__main__":
    make_maf()
    make_vcfs()
