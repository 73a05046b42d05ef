"""Regenerate the miniature GDC downloads of this folder from the bundled real data.

Run from the repository root with the shared data next to it::

    .venv/bin/python tests/data/formats/gdc/make_fixtures.py /work/shared/data

Sources: ``tcga_acc/expression_rsem_normalized.tsv`` (values rounded to integer counts),
``tcga_acc/clinical_patient.tsv`` (survival, age, stage) and
``annotation/gencode_v36_genes_hg38.tsv.gz`` (real GENCODE v36 gene ids, names, types and
lengths). Everything else (UUIDs, stranded splits, TPM/FPKM, STAR counters, follow-up
histories) is made up deterministically but laid out exactly as the GDC portal ships it:

``star_counts/``
    An extracted GDC cart: ``gdc_sample_sheet.2024-03-15.tsv`` and one
    ``<File ID>/<File Name>`` folder per STAR - Counts file
    (``*.rna_seq.augmented_star_gene_counts.tsv``: ``# gene-model: GENCODE v36`` line,
    9-column header, the four ``N_*`` STAR counters, then genes sorted by gene id).
    30 primary tumours, a second file of one tumour sample (technical replicate), a
    solid-tissue normal, and a Biospecimen Supplement row that is not expression.
``clinical/clinical.tsv``
    A GDC cart clinical export (2022 layout): one row per case x treatment, ``'--`` for
    missing. ``clinical_dotted/clinical.tsv``: the same cases in the 2024 layout with
    dotted column names (``cases.submitter_id``, ``demographic.vital_status``...).
``biotab/``
    BCR Biotab patient and follow-up v4.0 files with the TCGA DCC column names
    (``days_to_last_followup``, ``days_to_death``); ``biotab_gdc/`` the same with the
    GDC names (``last_contact_days_to``, ``death_days_to``). The patient file holds an
    earlier state of some patients; their follow-ups bring it to the state of
    ``clinical_patient.tsv`` (written as ``truth.tsv`` for the tests).
"""

from __future__ import annotations

import csv
import gzip
import random
import shutil
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS = uuid.UUID("6f1b1c3e-0000-4000-8000-000000000000")
N_PATIENTS = 30
GENE_MODEL = "# gene-model: GENCODE v36"
COUNT_HEADER = [
    "gene_id",
    "gene_name",
    "gene_type",
    "unstranded",
    "stranded_first",
    "stranded_second",
    "tpm_unstranded",
    "fpkm_unstranded",
    "fpkm_uq_unstranded",
]
SHEET_HEADER = [
    "File ID",
    "File Name",
    "Data Category",
    "Data Type",
    "Project ID",
    "Case ID",
    "Sample ID",
    "Sample Type",
]
MISSING = "'--"


def uid(*parts: str) -> str:
    """A deterministic UUID (GDC file ids are UUID4 strings)."""
    return str(uuid.uuid5(NS, "/".join(parts)))


def read_tsv(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(r) + "\n" for r in rows))


def genes(shared: Path, symbols: list[str]) -> list[dict[str, str]]:
    """Real GENCODE v36 genes: the ACC symbols, plus a PAR_Y pair and two Y_RNA genes."""
    table = read_tsv(shared / "annotation" / "gencode_v36_genes_hg38.tsv.gz")
    wanted = set(symbols) | {"PLCXD1"}
    chosen = [g for g in table if g["gene_name"] in wanted]
    seen: set[str] = set()
    unique = []
    for g in chosen:  # one gene per symbol, except PLCXD1's X and PAR_Y copies
        key = g["gene_id"] if g["gene_name"] == "PLCXD1" else g["gene_name"]
        if key not in seen:
            seen.add(key)
            unique.append(g)
    unique += [g for g in table if g["gene_name"] == "Y_RNA"][:2]
    return sorted(unique, key=lambda g: g["gene_id"])


def count_file(gene_rows: list[dict[str, str]], counts: list[int], rng: random.Random) -> str:
    """One augmented STAR gene counts file."""
    lengths = [int(g["end"]) - int(g["start"]) + 1 for g in gene_rows]
    first = [round(c * rng.uniform(0.0, 0.08)) for c in counts]
    second = [c - f - round(c * rng.uniform(0.0, 0.02)) for c, f in zip(counts, first, strict=True)]
    rate = [c / (n / 1000.0) for c, n in zip(counts, lengths, strict=True)]
    tpm = [r * 1e6 / sum(rate) for r in rate]
    total = sum(counts)
    upper = sorted(counts)[int(0.75 * len(counts))] or 1
    lines = [GENE_MODEL, "\t".join(COUNT_HEADER)]
    unmapped = rng.randint(2_000_000, 9_000_000)
    multi = rng.randint(1_000_000, 5_000_000)
    nofeat = [rng.randint(1_000_000, 3_000_000), rng.randint(20_000_000, 30_000_000)]
    ambig = [rng.randint(3_000_000, 6_000_000), rng.randint(1_000_000, 2_000_000)]
    lines += [
        f"N_unmapped\t\t\t{unmapped}\t{unmapped}\t{unmapped}\t\t\t",
        f"N_multimapping\t\t\t{multi}\t{multi}\t{multi}\t\t\t",
        f"N_noFeature\t\t\t{nofeat[0]}\t{nofeat[1]}\t{nofeat[1] + 1234}\t\t\t",
        f"N_ambiguous\t\t\t{ambig[0]}\t{ambig[1]}\t{ambig[1] - 321}\t\t\t",
    ]
    for i, g in enumerate(gene_rows):
        fpkm = counts[i] * 1e9 / (lengths[i] * total)
        fpkm_uq = counts[i] * 1e9 / (lengths[i] * upper)
        lines.append(
            f"{g['gene_id']}\t{g['gene_name']}\t{g['gene_type']}\t{counts[i]}\t{first[i]}\t"
            f"{second[i]}\t{tpm[i]:.4f}\t{fpkm:.4f}\t{fpkm_uq:.4f}"
        )
    return "\n".join(lines) + "\n"


def star_counts(shared: Path, out: Path) -> None:
    expr = read_tsv(shared / "tcga_acc" / "expression_rsem_normalized.tsv")
    samples = [c for c in expr[0] if c != "feature"]
    values = {s: {r["feature"]: float(r[s]) for r in expr} for s in samples}
    gene_rows = genes(shared, [r["feature"] for r in expr])
    rng = random.Random(20240315)

    def counts_of(sample: str) -> list[int]:
        col = values[sample]
        par = round(col.get("PLCXD1", 0.0))
        out_counts = []
        for g in gene_rows:
            if g["gene_id"].endswith("_PAR_Y"):
                out_counts.append(0)  # GDC's PAR_Y copies have no reads assigned
            elif g["gene_name"] == "PLCXD1":
                out_counts.append(par)
            elif g["gene_name"] == "Y_RNA":
                out_counts.append(rng.randint(0, 12))
            else:
                out_counts.append(round(col[g["gene_name"]]))
        return out_counts

    entries: list[tuple[str, str, str, str]] = []  # file id, sample id, sample type, content
    for sample in samples[:N_PATIENTS]:
        entries.append(
            (
                uid(sample),
                sample[:16],
                "Primary Tumor",
                count_file(gene_rows, counts_of(sample), rng),
            )
        )
    # a technical replicate: a second STAR file of the first tumour sample
    first = samples[0]
    entries.append(
        (
            uid(first, "rep"),
            first[:16],
            "Primary Tumor",
            count_file(gene_rows, counts_of(samples[N_PATIENTS]), rng),
        )
    )
    # a solid-tissue normal of the second patient (values of another sample)
    normal = samples[1][:12] + "-11A"
    entries.append(
        (
            uid(normal),
            normal,
            "Solid Tissue Normal",
            count_file(gene_rows, counts_of(samples[N_PATIENTS + 1]), rng),
        )
    )
    if out.exists():
        shutil.rmtree(out)
    rows = [SHEET_HEADER]
    for file_id, sample_id, sample_type, content in entries:
        name = f"{uid(file_id, 'aliquot')}.rna_seq.augmented_star_gene_counts.tsv"
        (out / file_id).mkdir(parents=True)
        (out / file_id / name).write_text(content)
        rows.append(
            [
                file_id,
                name,
                "Transcriptome Profiling",
                "Gene Expression Quantification",
                "TCGA-ACC",
                sample_id[:12],
                sample_id,
                sample_type,
            ]
        )
    case = samples[2][:12]
    rows.append(
        [
            uid(case, "biospecimen"),
            f"nationwidechildrens.org_biospecimen.{case}.xml",
            "Biospecimen",
            "Biospecimen Supplement",
            "TCGA-ACC",
            case,
            "",
            "",
        ]
    )
    body = rows[1:]
    rng.shuffle(body)  # portal sheets are not sorted
    write_rows(out / "gdc_sample_sheet.2024-03-15.tsv", [rows[0], *body])


CLINICAL_COLUMNS = [
    "case_id",
    "case_submitter_id",
    "project_id",
    "age_at_index",
    "age_is_obfuscated",
    "cause_of_death",
    "days_to_birth",
    "days_to_death",
    "ethnicity",
    "gender",
    "race",
    "vital_status",
    "year_of_birth",
    "year_of_death",
    "age_at_diagnosis",
    "ajcc_pathologic_stage",
    "ajcc_staging_system_edition",
    "days_to_diagnosis",
    "days_to_last_follow_up",
    "icd_10_code",
    "primary_diagnosis",
    "prior_malignancy",
    "site_of_resection_or_biopsy",
    "tissue_or_organ_of_origin",
    "year_of_diagnosis",
    "treatment_or_therapy",
    "treatment_type",
]
DOTTED = {
    "case_id": "cases.case_id",
    "case_submitter_id": "cases.submitter_id",
    "project_id": "project.project_id",
    "treatment_or_therapy": "treatments.treatment_or_therapy",
    "treatment_type": "treatments.treatment_type",
}
DEMOGRAPHIC = {
    "age_at_index",
    "age_is_obfuscated",
    "cause_of_death",
    "days_to_birth",
    "days_to_death",
    "ethnicity",
    "gender",
    "race",
    "vital_status",
    "year_of_birth",
    "year_of_death",
}


def stage(value: str) -> str:
    if not value:
        return MISSING
    roman = value.split()[1].upper()
    return f"Stage {roman}"


def clinical(shared: Path, out: Path) -> list[dict[str, str]]:
    patients = read_tsv(shared / "tcga_acc" / "clinical_patient.tsv")[:N_PATIENTS]
    rng = random.Random(7)
    rows: list[list[str]] = []
    dotted: list[list[str]] = []
    for p in patients:
        pid = p["patientID"]
        dead = p["vital_status"] == "1"
        age = int(p["years_to_birth"])
        year = int(p["date_of_initial_pathologic_diagnosis"] or 2005)
        base = {
            "case_id": uid(pid, "case"),
            "case_submitter_id": pid,
            "project_id": "TCGA-ACC",
            "age_at_index": str(age),
            "age_is_obfuscated": MISSING,
            "cause_of_death": MISSING,
            "days_to_birth": str(-(age * 365 + rng.randint(0, 364))),
            "days_to_death": p["days_to_death"] or MISSING,
            "ethnicity": p["ethnicity"] or "not reported",
            "gender": p["gender"],
            "race": p["race"] or "not reported",
            "vital_status": "Dead" if dead else "Alive",
            "year_of_birth": str(year - age),
            "year_of_death": MISSING,
            "age_at_diagnosis": str(age * 365 + rng.randint(0, 364)),
            "ajcc_pathologic_stage": stage(p["pathologic_stage"]),
            "ajcc_staging_system_edition": MISSING,
            "days_to_diagnosis": "0",
            "days_to_last_follow_up": p["days_to_last_followup"] or MISSING,
            "icd_10_code": "C74.0",
            "primary_diagnosis": "Adrenal cortical carcinoma",
            "prior_malignancy": "no",
            "site_of_resection_or_biopsy": "Adrenal gland, NOS",
            "tissue_or_organ_of_origin": "Adrenal gland, NOS",
            "year_of_diagnosis": str(year),
        }
        drug = "yes" if rng.random() < 0.5 else "no"
        radiation = "yes" if p["radiation_therapy"] == "yes" else "no"
        for therapy, kind in (
            (drug, "Pharmaceutical Therapy, NOS"),
            (radiation, "Radiation Therapy, NOS"),
        ):
            row = base | {"treatment_or_therapy": therapy, "treatment_type": kind}
            rows.append([row[c] for c in CLINICAL_COLUMNS])
            new = {
                DOTTED.get(c, ("demographic." if c in DEMOGRAPHIC else "diagnoses.") + c): v
                for c, v in row.items()
            }
            new["diagnoses.submitter_id"] = f"{pid}_diagnosis"
            new["treatments.submitter_id"] = f"{pid}_treatment{'' if kind.startswith('P') else '2'}"
            dotted.append(list(new.values()))
            dotted_header = list(new)
    write_rows(out / "clinical" / "clinical.tsv", [CLINICAL_COLUMNS, *rows])
    write_rows(out / "clinical_dotted" / "clinical.tsv", [dotted_header, *dotted])
    return patients


BIOTAB = [
    ("bcr_patient_uuid", "bcr_patient_uuid", "CDE_ID:"),
    ("bcr_patient_barcode", "bcr_patient_barcode", "CDE_ID:2673794"),
    ("form_completion_date", "form_completion_date", "CDE_ID:"),
    ("prospective_collection", "tissue_prospective_collection_indicator", "CDE_ID:3088492"),
    ("retrospective_collection", "tissue_retrospective_collection_indicator", "CDE_ID:3088528"),
    ("gender", "gender", "CDE_ID:2200604"),
    ("race", "race", "CDE_ID:2192199"),
    ("ethnicity", "ethnicity", "CDE_ID:2192217"),
    ("tumor_status", "person_neoplasm_cancer_status", "CDE_ID:2759550"),
    ("vital_status", "vital_status", "CDE_ID:5"),
    ("days_to_last_followup", "days_to_last_followup", "CDE_ID:3008273"),
    ("days_to_death", "days_to_death", "CDE_ID:3165475"),
    (
        "age_at_initial_pathologic_diagnosis",
        "age_at_initial_pathologic_diagnosis",
        "CDE_ID:2006657",
    ),
    ("pathologic_stage", "ajcc_pathologic_tumor_stage", "CDE_ID:3203222"),
]
FOLLOW_UP = [
    ("bcr_patient_uuid", "bcr_patient_uuid", "CDE_ID:"),
    ("bcr_patient_barcode", "bcr_patient_barcode", "CDE_ID:2673794"),
    ("bcr_followup_barcode", "bcr_followup_barcode", "CDE_ID:"),
    ("bcr_followup_uuid", "bcr_followup_uuid", "CDE_ID:"),
    ("form_completion_date", "form_completion_date", "CDE_ID:"),
    ("lost_follow_up", "lost_follow_up", "CDE_ID:61333"),
    ("tumor_status", "person_neoplasm_cancer_status", "CDE_ID:2759550"),
    ("vital_status", "vital_status", "CDE_ID:5"),
    ("days_to_last_followup", "days_to_last_followup", "CDE_ID:3008273"),
    ("days_to_death", "days_to_death", "CDE_ID:3165475"),
]
GDC_NAMES = {"days_to_last_followup": "last_contact_days_to", "days_to_death": "death_days_to"}
NA, NAP = "[Not Available]", "[Not Applicable]"


def follow_row(pid: str, n: int, vital: str, last_fu: str, death_fu: str) -> dict[str, str]:
    """One follow-up v4.0 row."""
    return {
        "bcr_patient_uuid": uid(pid, "case").upper(),
        "bcr_patient_barcode": pid,
        "bcr_followup_barcode": f"{pid}-F{n}",
        "bcr_followup_uuid": uid(pid, "follow", str(n)).upper(),
        "form_completion_date": f"201{4 + n}-3-1{n}",
        "lost_follow_up": "NO",
        "tumor_status": "WITH TUMOR" if vital == "Dead" else "TUMOR FREE",
        "vital_status": vital,
        "days_to_last_followup": last_fu,
        "days_to_death": death_fu,
    }


def biotab(patients: list[dict[str, str]], shared: Path, out: Path) -> None:
    """Patient file = an earlier state; follow-ups bring it to ``clinical_patient.tsv``."""
    rng = random.Random(11)
    p_rows: list[dict[str, str]] = []
    f_rows: list[dict[str, str]] = []
    truth = [["bcr_patient_barcode", "vital_status", "days_to_death", "days_to_last_followup"]]
    for i, p in enumerate(patients):
        pid = p["patientID"]
        dead = p["vital_status"] == "1"
        death = p["days_to_death"]
        last = p["days_to_last_followup"]
        truth.append([pid, "Dead" if dead else "Alive", death, last])
        row = {
            "bcr_patient_uuid": uid(pid, "case").upper(),
            "bcr_patient_barcode": pid,
            "form_completion_date": "2013-6-19",
            "prospective_collection": "NO",
            "retrospective_collection": "YES",
            "gender": p["gender"].upper(),
            "race": p["race"].upper() if p["race"] else NA,
            "ethnicity": p["ethnicity"].upper() if p["ethnicity"] else "[Unknown]",
            "tumor_status": "WITH TUMOR" if dead else "TUMOR FREE",
            "vital_status": "Dead" if dead else "Alive",
            "days_to_last_followup": last or NAP,
            "days_to_death": death or NAP,
            "age_at_initial_pathologic_diagnosis": p["years_to_birth"],
            "pathologic_stage": stage(p["pathologic_stage"]).replace("'--", "[Discrepancy]"),
        }

        if i % 3 == 0 and not dead and int(last) > 400:
            # the patient file is a year old; two follow-ups, the later is the latest
            row["days_to_last_followup"] = str(int(last) - 365)
            f_rows.append(follow_row(pid, 1, "Alive", str(int(last) - 100), NAP))
            f_rows.append(follow_row(pid, 2, "Alive", last, NAP))
        elif i % 3 == 1 and dead and int(death) > 250:
            # alive at enrolment; a follow-up records the death
            row |= {"vital_status": "Alive", "days_to_death": NAP, "tumor_status": "WITH TUMOR"}
            row["days_to_last_followup"] = str(int(death) - 200)
            f_rows.append(follow_row(pid, 1, "Alive", str(int(death) - 100), NAP))
            f_rows.append(follow_row(pid, 2, "Dead", NA, death))
        elif i % 3 == 2:
            # an old follow-up that changes nothing
            f_rows.append(
                follow_row(pid, 1, row["vital_status"], str(max(0, int(last or death) - 500)), NAP)
            )
        p_rows.append(row)
    # a follow-up of a patient absent from the patient file
    stranger = read_tsv(shared / "tcga_acc" / "clinical_patient.tsv")[N_PATIENTS + 5]["patientID"]
    f_rows.append(follow_row(stranger, 1, "Alive", "700", NAP))
    rng.shuffle(f_rows)
    for folder, rename in (("biotab", {}), ("biotab_gdc", GDC_NAMES)):

        def table(
            spec: list[tuple[str, str, str]],
            rows: list[dict[str, str]],
            ren: dict[str, str] = rename,
        ) -> list[list[str]]:
            head = [
                [ren.get(a, a) for a, _, _ in spec],
                [b for _, b, _ in spec],
                [c for _, _, c in spec],
            ]
            return head + [[r[a] for a, _, _ in spec] for r in rows]

        d = out / folder
        write_rows(d / "nationwidechildrens.org_clinical_patient_acc.txt", table(BIOTAB, p_rows))
        write_rows(
            d / "nationwidechildrens.org_clinical_follow_up_v4.0_acc.txt", table(FOLLOW_UP, f_rows)
        )
    write_rows(out / "biotab" / "truth.tsv", truth)


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    star_counts(shared, HERE / "star_counts")
    patients = clinical(shared, HERE)
    biotab(patients, shared, HERE)


if __name__ == "__main__":
    main()
