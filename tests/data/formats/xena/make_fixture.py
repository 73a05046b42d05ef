"""Regenerate the UCSC Xena fixtures (TCGA legacy hub layouts) from the shared TCGA-ACC data.

Run from the repository root (needs ``/work/shared/data``, only when regenerating)::

    .venv/bin/python tests/data/formats/xena/make_fixture.py

Provenance (deterministic output; gzip written with mtime 0):

- 30 patients: the first 30 rows of ``tcga_acc/clinical_patient.tsv`` (miniACC); 40
  genes: the first 40 rows of the expression matrix.
- ``HiSeqV2``: genomic matrix as the legacy hub's ``TCGA.ACC.sampleMap/HiSeqV2``:
  first column ``sample`` (genes), one column per sample named by its 15-character
  barcode, values log2(RSEM + 1) rounded to 4 decimals; one cell is ``NA``.
- ``Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes.gz``: the GISTIC calls, first
  column ``Gene Symbol``, gzipped (the hub's thresholded-by-genes layout).
- ``ACC_clinicalMatrix``: one row per sample (``sampleID``, ``_PATIENT``,
  ``sample_type``, ``sample_type_id``, ``vital_status`` LIVING/DECEASED,
  ``days_to_death``, ``days_to_last_followup``, ``gender``, ``pathologic_stage``...).
  The hub's ACC matrix lists tumours only; two ``Solid Tissue Normal`` (``-11``) rows
  repeating their patient's attributes are added, as other cohorts' matrices have, so
  that the per-patient collapse is exercised. Missing values are empty cells.
- ``ACC_survival.txt``: the curated survival layout (``sample``, ``_PATIENT``, ``OS``,
  ``OS.time`` in days) with one row per sample of the clinical matrix; OS from
  vital_status, OS.time = days_to_death (dead) or days_to_last_followup (alive).
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

SHARED = Path("/work/shared/data/tcga_acc")
OUT = Path(__file__).resolve().parent
N_PATIENTS = 30
N_GENES = 40
NORMALS = 2


def read_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    return lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def main() -> None:
    clin_header, clin_rows = read_tsv(SHARED / "clinical_patient.tsv")
    col = {h: i for i, h in enumerate(clin_header)}
    clin_rows = clin_rows[:N_PATIENTS]
    patients = [r[col["patientID"]] for r in clin_rows]

    header, rows = read_tsv(SHARED / "expression_rsem_normalized.tsv")
    keep = [i for i, h in enumerate(header) if i and h[:12] in patients]
    lines = ["sample\t" + "\t".join(header[i][:15] for i in keep)]
    for k, r in enumerate(rows[:N_GENES]):
        cells = [f"{math.log2(float(r[i]) + 1.0):.4f}" for i in keep]
        if k == 1:
            cells[2] = "NA"
        lines.append("\t".join([r[0], *cells]))
    (OUT / "HiSeqV2").write_text(text(lines), encoding="utf-8")

    header, rows = read_tsv(SHARED / "copy_number_gistic.tsv")
    keep = [i for i, h in enumerate(header) if i and h[:12] in patients]
    lines = ["Gene Symbol\t" + "\t".join(header[i][:15] for i in keep)]
    lines += ["\t".join([r[0], *(r[i] for i in keep)]) for r in rows[:N_GENES]]
    gz = OUT / "Gistic2_CopyNumber_Gistic2_all_thresholded.by_genes.gz"
    with gz.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(text(lines).encode("utf-8"))

    clinical = [
        "sampleID\t_INTEGRATION\t_PATIENT\t_cohort\t_primary_disease\tdays_to_death\t"
        "days_to_last_followup\tgender\tpathologic_stage\tsample_type\tsample_type_id\t"
        "vital_status"
    ]
    survival = ["sample\t_PATIENT\tOS\tOS.time"]
    samples = [(p, "01") for p in patients]
    samples += [(p, "11") for p in patients[1 : 1 + NORMALS]]
    by_patient = {r[col["patientID"]]: r for r in clin_rows}
    for patient, code in sorted(samples):
        r = by_patient[patient]
        dead = r[col["vital_status"]] == "1"
        stage = r[col["pathologic_stage"]]
        sample = f"{patient}-{code}"
        kind = "Primary Tumor" if code == "01" else "Solid Tissue Normal"
        clinical.append(
            "\t".join(
                [
                    sample,
                    sample,
                    patient,
                    "TCGA Adrenocortical Cancer (ACC)",
                    "adrenocortical cancer",
                    r[col["days_to_death"]],
                    r[col["days_to_last_followup"]],
                    r[col["gender"]].upper(),
                    stage.title().replace("Iv", "IV").replace("Iii", "III").replace("Ii", "II")
                    if stage
                    else "",
                    kind,
                    code,
                    "DECEASED" if dead else "LIVING",
                ]
            )
        )
        days = r[col["days_to_death"]] if dead else r[col["days_to_last_followup"]]
        survival.append("\t".join([sample, patient, "1" if dead else "0", days]))
    (OUT / "ACC_clinicalMatrix").write_text(text(clinical), encoding="utf-8")
    (OUT / "ACC_survival.txt").write_text(text(survival), encoding="utf-8")


if __name__ == "__main__":
    main()
