"""Regenerate ``radiomics_acc.csv`` for tests/test_format_images.py (deterministic).

A table laid out as pyradiomics' batch mode writes it (``pyradiomics input.csv -o out.csv
-f csv``): the columns of the input list (here ``patient_id``, ``Image``, ``Mask``), then
``diagnostics_*`` columns (version strings, hashes, quoted tuples, and a numeric voxel
count), then the features ``original_<class>_<name>``. Rows are images: 12 TCGA-ACC
patients, of whom 4 have 2 or 3 images (follow-up scans). Feature values are simulated
from a fixed seed around plausible magnitudes; they carry no biology.

Run: ``.venv/bin/python tests/data/formats/images/make_fixtures.py``.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
PATIENTS = (
    ("TCGA-OR-A5J1", 1),
    ("TCGA-OR-A5J2", 3),
    ("TCGA-OR-A5J3", 1),
    ("TCGA-OR-A5J5", 2),
    ("TCGA-OR-A5J6", 1),
    ("TCGA-OR-A5J7", 1),
    ("TCGA-OR-A5J8", 2),
    ("TCGA-OR-A5J9", 1),
    ("TCGA-OR-A5JA", 1),
    ("TCGA-OR-A5JB", 3),
    ("TCGA-OR-A5JC", 1),
    ("TCGA-OR-A5JD", 1),
)
FEATURES = {  # name: (mean, sd)
    "original_shape_Elongation": (0.75, 0.1),
    "original_shape_MeshVolume": (45000.0, 15000.0),
    "original_shape_Sphericity": (0.7, 0.08),
    "original_firstorder_Mean": (35.0, 12.0),
    "original_firstorder_Entropy": (4.2, 0.6),
    "original_firstorder_Kurtosis": (3.5, 1.2),
    "original_glcm_Contrast": (18.0, 6.0),
    "original_glcm_Correlation": (0.45, 0.15),
    "original_glrlm_RunEntropy": (5.1, 0.5),
    "original_ngtdm_Coarseness": (0.0021, 0.0006),
}


def main() -> None:
    rng = np.random.default_rng(7)
    header = [
        "patient_id",
        "Image",
        "Mask",
        "diagnostics_Versions_PyRadiomics",
        "diagnostics_Image-original_Hash",
        "diagnostics_Image-original_Spacing",
        "diagnostics_Mask-original_VoxelNum",
        *FEATURES,
    ]
    rows = []
    order = rng.permutation(sum(n for _, n in PATIENTS))
    images = [(p, k) for p, n in PATIENTS for k in range(n)]
    for i in order:
        patient, k = images[i]
        image = f"/data/acc/{patient}/ct_{k + 1}.nrrd"
        voxels = int(rng.integers(2000, 90000))
        rows.append(
            [
                patient,
                image,
                f"/data/acc/{patient}/ct_{k + 1}_label.nrrd",
                "v3.1.0",
                hashlib.sha1(image.encode()).hexdigest(),
                f"({rng.choice([0.703125, 0.78125, 0.9765625])}, "
                f"{rng.choice([0.703125, 0.78125])}, 5.0)",
                str(voxels),
                *(f"{rng.normal(m, s):.10g}" for m, s in FEATURES.values()),
            ]
        )
    with (HERE / "radiomics_acc.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
