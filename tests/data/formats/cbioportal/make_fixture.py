"""Regenerate the ``acc_tcga_mini/`` cBioPortal study folder from the shared TCGA-ACC data.

Run from the repository root (needs ``/work/shared/data``, only when regenerating)::

    .venv/bin/python tests/data/formats/cbioportal/make_fixture.py

Provenance of every file (the output is deterministic):

- 30 patients: the first 30 rows of ``tcga_acc/clinical_patient.tsv`` (miniACC).
- 52 genes: the genes of the miniACC expression and GISTIC matrices whose Entrez id is
  known from ``tcga_chol/somatic_mutations.maf`` (the miniACC files carry symbols only).
- ``data_clinical_patient.txt``: AGE = years_to_birth, SEX, AJCC stage, OS_STATUS from
  vital_status (``1:DECEASED``/``0:LIVING``), OS_MONTHS = days_to_death (dead) or
  days_to_last_followup (alive) / (365.25 / 12), rounded to 2 decimals. A missing value
  is written ``[Not Available]`` as cBioPortal studies do.
- ``data_clinical_sample.txt``: one row per sample found in an omics file.
- Sample ids are the first 15 characters of the miniACC barcodes, as cBioPortal uses.
- ``data_mrna_seq_v2_rsem.txt``: the RSEM values as written in the source; the last gene
  has its ``Hugo_Symbol`` blanked (cBioPortal rows may carry an Entrez id only) and one
  cell is ``NA``.
- ``data_mrna_seq_v2_rsem_zscores_ref_all_samples.txt``: z-scores of log2(RSEM + 1) per
  gene over the study's samples (a second mRNA profile, datatype Z-SCORE).
- ``data_cna.txt``: the GISTIC calls (-2..2) as written in the source.
- ``data_rppa.txt``: the RPPA values; ``Composite.Element.REF`` is ``SYMBOL|SYMBOL``
  (the source has no antibody names).
- ``data_mutations.txt``: one MAF row per 1 in ``mutation_gene_binary.tsv``. The source
  has 0/1 calls only, so the annotation fields (position, alleles, class) are borrowed
  from the first TCGA-CHOL call of the same gene; plus one ``Silent`` row on a gene and
  sample that the binary calls wild type (to test ``variant_classes``).
- ``case_lists/cases_sequenced.txt``: every mutation-profiled sample of the 30 patients.
- ``data_cna_hg38.seg``: synthetic segments: for 6 samples, one segment on each gene
  body (GENCODE v36 hg38) with seg.mean derived from the GISTIC call
  (-2 -> -1.2, -1 -> -0.4, 0 -> 0.0, 1 -> 0.3, 2 -> 1.0). There is no segment file in
  the shared data; this one only exercises the reader's dispatch.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

SHARED = Path("/work/shared/data")
OUT = Path(__file__).resolve().parent / "acc_tcga_mini"
STUDY = "acc_tcga_mini"
N_PATIENTS = 30
DAYS_PER_MONTH = 365.25 / 12.0
NOT_AVAILABLE = "[Not Available]"
SEG_MEAN = {"-2": "-1.2", "-1": "-0.4", "0": "0", "1": "0.3", "2": "1"}


def read_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a tab-separated file, every cell a string."""
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    return lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def meta(name: str, fields: dict[str, str]) -> None:
    write(OUT / name, [f"{k}: {v}" for k, v in fields.items()])


def matrix(path: Path, patients: list[str], genes: list[str]) -> tuple[list[str], dict[str, dict]]:
    """Sample ids (15 characters) of the kept patients and gene -> sample -> value."""
    header, rows = read_tsv(path)
    keep = [i for i, h in enumerate(header) if i and h[:12] in patients]
    samples = [header[i][:15] for i in keep]
    values = {r[0]: {header[i][:15]: r[i] for i in keep} for r in rows if r[0] in genes}
    return samples, values


def main() -> None:
    acc = SHARED / "tcga_acc"
    clin_header, clin_rows = read_tsv(acc / "clinical_patient.tsv")
    col = {h: i for i, h in enumerate(clin_header)}
    clin_rows = clin_rows[:N_PATIENTS]
    patients = [r[col["patientID"]] for r in clin_rows]

    maf_header, maf_rows = read_tsv(SHARED / "tcga_chol" / "somatic_mutations.maf")
    maf_col = {h: i for i, h in enumerate(maf_header)}
    first_call: dict[str, list[str]] = {}
    for r in maf_rows:
        first_call.setdefault(r[maf_col["Hugo_Symbol"]], r)
    entrez = {g: r[maf_col["Entrez_Gene_Id"]] for g, r in first_call.items()}
    expr_genes = {r[0] for r in read_tsv(acc / "expression_rsem_normalized.tsv")[1]}
    cna_genes = {r[0] for r in read_tsv(acc / "copy_number_gistic.tsv")[1]}
    genes = sorted(g for g in expr_genes & cna_genes if entrez.get(g, "0") not in {"", "0"})

    OUT.mkdir(parents=True, exist_ok=True)
    meta(
        "meta_study.txt",
        {
            "type_of_cancer": "acc",
            "cancer_study_identifier": STUDY,
            "name": "Adrenocortical Carcinoma (TCGA, miniACC subset for tests)",
            "short_name": "ACC mini (TCGA)",
            "description": "30 TCGA-ACC patients and 52 genes from the miniACC data package.",
            "groups": "PUBLIC",
        },
    )

    # --- clinical: patients -------------------------------------------------------
    meta(
        "meta_clinical_patient.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "CLINICAL",
            "datatype": "PATIENT_ATTRIBUTES",
            "data_filename": "data_clinical_patient.txt",
        },
    )

    def na(value: str) -> str:
        return value if value not in {"", "NA"} else NOT_AVAILABLE

    lines = [
        "#Patient Identifier\tDiagnosis Age\tSex\tNeoplasm Disease Stage American Joint "
        "Committee on Cancer Code\tOverall Survival Status\tOverall Survival (Months)",
        "#Identifier to uniquely specify a patient.\tAge at which a condition or disease was "
        "first diagnosed.\tSex\tThe extent of a cancer, especially whether the disease has "
        "spread from the original site to other parts of the body based on AJCC staging "
        "criteria.\tOverall patient survival status.\tOverall survival in months since "
        "initial diagnosis.",
        "#STRING\tNUMBER\tSTRING\tSTRING\tSTRING\tNUMBER",
        "#1\t1\t1\t1\t1\t1",
        "PATIENT_ID\tAGE\tSEX\tAJCC_PATHOLOGIC_TUMOR_STAGE\tOS_STATUS\tOS_MONTHS",
    ]
    for r in clin_rows:
        dead = r[col["vital_status"]] == "1"
        days = r[col["days_to_death"]] if dead else r[col["days_to_last_followup"]]
        months = f"{float(days) / DAYS_PER_MONTH:.2f}" if days not in {"", "NA"} else ""
        stage = r[col["pathologic_stage"]].upper() if r[col["pathologic_stage"]] else ""
        lines.append(
            "\t".join(
                [
                    r[col["patientID"]],
                    na(r[col["years_to_birth"]]),
                    na(r[col["gender"]].capitalize()),
                    na(stage),
                    "1:DECEASED" if dead else "0:LIVING",
                    na(months),
                ]
            )
        )
    write(OUT / "data_clinical_patient.txt", lines)

    # --- omics ----------------------------------------------------------------------
    expr_samples, expr = matrix(acc / "expression_rsem_normalized.tsv", patients, genes)
    cna_samples, cna = matrix(acc / "copy_number_gistic.tsv", patients, genes)
    rppa_genes = [g for g, _ in sorted(entrez.items()) if g]
    rppa_samples, rppa = matrix(acc / "protein_rppa.tsv", patients, rppa_genes)
    mut_samples, mut = matrix(acc / "mutation_gene_binary.tsv", patients, list(first_call))

    meta(
        "meta_mrna_seq_v2_rsem.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "MRNA_EXPRESSION",
            "datatype": "CONTINUOUS",
            "data_filename": "data_mrna_seq_v2_rsem.txt",
            "stable_id": "rna_seq_v2_mrna",
            "show_profile_in_analysis_tab": "false",
            "profile_description": "mRNA gene expression (RNA Seq V2 RSEM)",
            "profile_name": "mRNA expression (RNA Seq V2 RSEM)",
        },
    )
    lines = ["Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(expr_samples)]
    for k, g in enumerate(genes):
        cells = [expr[g][s] for s in expr_samples]
        if k == 0:
            cells[1] = "NA"
        symbol = "" if k == len(genes) - 1 else g
        lines.append("\t".join([symbol, entrez[g], *cells]))
    write(OUT / "data_mrna_seq_v2_rsem.txt", lines)

    meta(
        "meta_mrna_seq_v2_rsem_zscores_ref_all_samples.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "MRNA_EXPRESSION",
            "datatype": "Z-SCORE",
            "data_filename": "data_mrna_seq_v2_rsem_zscores_ref_all_samples.txt",
            "stable_id": "rna_seq_v2_mrna_median_all_sample_Zscores",
            "show_profile_in_analysis_tab": "true",
            "profile_description": "mRNA expression z-scores of log2(RSEM + 1) (all samples)",
            "profile_name": "mRNA expression z-scores relative to all samples "
            "(log RNA Seq V2 RSEM)",
        },
    )
    lines = ["Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(expr_samples)]
    for g in genes:
        logs = [math.log2(float(expr[g][s]) + 1.0) for s in expr_samples]
        mean = sum(logs) / len(logs)
        sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / (len(logs) - 1))
        cells = [f"{(v - mean) / sd:.4f}" if sd > 0 else "NA" for v in logs]
        lines.append("\t".join([g, entrez[g], *cells]))
    write(OUT / "data_mrna_seq_v2_rsem_zscores_ref_all_samples.txt", lines)

    meta(
        "meta_cna.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "COPY_NUMBER_ALTERATION",
            "datatype": "DISCRETE",
            "data_filename": "data_cna.txt",
            "stable_id": "gistic",
            "show_profile_in_analysis_tab": "true",
            "profile_description": "Putative copy-number calls determined using GISTIC 2.0. "
            "Values: -2 = homozygous deletion; -1 = hemizygous deletion; 0 = neutral / no "
            "change; 1 = gain; 2 = high level amplification.",
            "profile_name": "Putative copy-number alterations from GISTIC",
        },
    )
    lines = ["Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(cna_samples)]
    lines += ["\t".join([g, entrez[g], *(cna[g][s] for s in cna_samples)]) for g in genes]
    write(OUT / "data_cna.txt", lines)

    meta(
        "meta_rppa.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "PROTEIN_LEVEL",
            "datatype": "LOG2-VALUE",
            "data_filename": "data_rppa.txt",
            "stable_id": "rppa",
            "show_profile_in_analysis_tab": "false",
            "profile_description": "Protein expression measured by reverse-phase protein array",
            "profile_name": "Protein expression (RPPA)",
        },
    )
    lines = ["Composite.Element.REF\t" + "\t".join(rppa_samples)]
    lines += ["\t".join([f"{g}|{g}", *(rppa[g][s] for s in rppa_samples)]) for g in sorted(rppa)]
    write(OUT / "data_rppa.txt", lines)

    meta(
        "meta_mutations.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "MUTATION_EXTENDED",
            "datatype": "MAF",
            "data_filename": "data_mutations.txt",
            "stable_id": "mutations",
            "show_profile_in_analysis_tab": "true",
            "profile_description": "Mutation data.",
            "profile_name": "Mutations",
        },
    )
    lines = ["#version 2.4", "\t".join(maf_header)]
    silent_done = False
    for g in sorted(mut):
        for s in mut_samples:
            called = mut[g][s] == "1"
            if not called and silent_done:
                continue
            row = list(first_call[g])
            if not called:
                row[maf_col["Variant_Classification"]] = "Silent"
                silent_done = True
            row[maf_col["Tumor_Sample_Barcode"]] = s
            row[maf_col["Matched_Norm_Sample_Barcode"]] = s[:12] + "-10"
            row[maf_col["Tumor_Sample_UUID"]] = ""
            row[maf_col["Matched_Norm_Sample_UUID"]] = ""
            lines.append("\t".join(row))
    write(OUT / "data_mutations.txt", lines)
    write(
        OUT / "case_lists" / "cases_sequenced.txt",
        [
            f"cancer_study_identifier: {STUDY}",
            f"stable_id: {STUDY}_sequenced",
            "case_list_name: Samples with mutation data",
            f"case_list_description: Samples with mutation data ({len(mut_samples)} samples)",
            "case_list_category: all_cases_with_mutation_data",
            "case_list_ids: " + "\t".join(mut_samples),
        ],
    )

    meta(
        "meta_cna_hg38_seg.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "COPY_NUMBER_ALTERATION",
            "datatype": "SEG",
            "reference_genome_id": "hg38",
            "description": "Synthetic segments on gene bodies derived from the GISTIC calls.",
            "data_filename": "data_cna_hg38.seg",
        },
    )
    with gzip.open(SHARED / "annotation" / "gencode_v36_genes_hg38.tsv.gz", "rt") as fh:
        ann_header = fh.readline().rstrip("\n").split("\t")
        a = {h: i for i, h in enumerate(ann_header)}
        coords: dict[str, tuple[str, int, int]] = {}
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[a["gene_name"]] in genes and f[a["gene_name"]] not in coords:
                coords[f[a["gene_name"]]] = (
                    f[a["chrom"]].removeprefix("chr"),
                    int(f[a["start"]]),
                    int(f[a["end"]]),
                )
    order = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24}
    lines = ["ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean"]
    for s in cna_samples[:6]:
        for g in sorted(coords, key=lambda g: (order[coords[g][0]], coords[g][1])):
            chrom, start, end = coords[g]
            marks = (end - start) // 5000 + 1
            lines.append(f"{s}\t{chrom}\t{start}\t{end}\t{marks}\t{SEG_MEAN[cna[g][s]]}")
    write(OUT / "data_cna_hg38.seg", lines)

    # --- clinical: samples ------------------------------------------------------------
    meta(
        "meta_clinical_sample.txt",
        {
            "cancer_study_identifier": STUDY,
            "genetic_alteration_type": "CLINICAL",
            "datatype": "SAMPLE_ATTRIBUTES",
            "data_filename": "data_clinical_sample.txt",
        },
    )
    samples = sorted(set(expr_samples) | set(cna_samples) | set(rppa_samples) | set(mut_samples))
    lines = [
        "#Patient Identifier\tSample Identifier\tOncotree Code\tSample Type",
        "#Identifier to uniquely specify a patient.\tA unique sample identifier.\t"
        "Oncotree code of the tumour.\tThe type of sample (primary, metastasis...).",
        "#STRING\tSTRING\tSTRING\tSTRING",
        "#1\t1\t1\t1",
        "PATIENT_ID\tSAMPLE_ID\tONCOTREE_CODE\tSAMPLE_TYPE",
    ]
    lines += [f"{s[:12]}\t{s}\tACC\tPrimary" for s in samples]
    write(OUT / "data_clinical_sample.txt", lines)


if __name__ == "__main__":
    main()
