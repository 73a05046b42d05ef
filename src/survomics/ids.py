"""TCGA barcodes and the one-sample-per-patient rule.

A TCGA barcode ``TCGA-OR-A5J1-01A-11R-A29S-07`` names project-TSS-participant (the
**patient**: first 12 characters), sample type (``01`` primary tumour, ``02`` recurrent,
``06`` metastatic, ``10`` blood normal, ``11`` solid-tissue normal...), vial (``A``),
portion (``11``), analyte (``R``), plate and centre. RPPA barcodes omit the analyte letter.

The rule users rely on (one sample per patient and modality):

1. Only sample types listed in ``tumour_types`` are eligible; other samples are excluded
   with reason ``non_tumour_sample``.
2. Among a patient's eligible samples the first by (position of the type in
   ``tumour_types`` — primary tumour ``01`` first by default —, vial letter, portion
   number, full barcode) is kept; every other one is excluded with reason
   ``duplicate_sample`` naming the kept sample.
3. A bare 12-character patient barcode is eligible and ranks after every typed sample.
4. An id that is not a TCGA barcode is excluded with reason ``unparseable_sample_id``
   (if no id parses, the file is not TCGA-style: set ``id_type: patient``).

With ``id_type: patient`` the (whitespace-stripped) id is the patient id.

Id hygiene (decisions):

- Surrounding whitespace is removed from every id (readers strip every cell); it never
  carries meaning, and two ids equal after stripping are duplicates.
- TCGA barcodes are upper case by definition, so an id that is a TCGA barcode except for
  its case (``tcga-or-a5j1``) is upper-cased and audited with reason ``id_normalised``
  (:func:`normalise_tcga_ids`, :func:`select_samples`).
- Any other id is case-sensitive and kept as written (``007`` stays ``007``), but two ids
  of one file that differ only by case (``p1`` and ``P1``) stop with an error: they are
  almost always the same patient typed twice, and guessing would merge or split patients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from survomics.errors import InputError

_BARCODE = re.compile(
    r"^(?P<patient>TCGA-[A-Z0-9]{2}-[A-Z0-9]{4})"
    r"(?:-(?P<type>\d{2})(?P<vial>[A-Z])?"
    r"(?:-(?P<portion>\d{2})(?P<analyte>[A-Z])?"
    r"(?:-(?P<plate>[A-Z0-9]{4})(?:-(?P<center>[A-Z0-9]{2}))?)?)?)?$"
)


_BARCODE_ANY_CASE = "(?i)" + _BARCODE.pattern


def normalise_tcga_ids(ids: pl.Series) -> pl.Series:
    """Upper-case the ids that are TCGA barcodes but for their case (vectorised).

    Other ids (and nulls) are returned unchanged; compare with the input to audit.
    """
    stripped = ids.str.strip_chars()
    upper = stripped.str.to_uppercase()
    fix = stripped.str.contains(_BARCODE_ANY_CASE).fill_null(value=False) & (upper != stripped)
    return pl.select(pl.when(fix).then(upper).otherwise(stripped)).to_series().alias(ids.name)


def case_collision(ids: Sequence[str]) -> tuple[str, str] | None:
    """The first two distinct ids equal but for their case, or ``None``."""
    seen: dict[str, str] = {}
    for sid in ids:
        key = sid.casefold()
        if key in seen and seen[key] != sid:
            return seen[key], sid
        seen.setdefault(key, sid)
    return None


@dataclass(frozen=True, slots=True)
class TcgaBarcode:
    """The parts of a TCGA barcode (absent parts are ``None``)."""

    patient: str
    sample_type: int | None = None
    vial: str | None = None
    portion: int | None = None
    analyte: str | None = None
    plate: str | None = None
    center: str | None = None


def parse_tcga_barcode(barcode: str) -> TcgaBarcode | None:
    """Parse a full or truncated TCGA barcode; ``None`` if it is not one."""
    m = _BARCODE.match(barcode.strip())
    if m is None:
        return None
    return TcgaBarcode(
        patient=m["patient"],
        sample_type=int(m["type"]) if m["type"] else None,
        vial=m["vial"],
        portion=int(m["portion"]) if m["portion"] else None,
        analyte=m["analyte"],
        plate=m["plate"],
        center=m["center"],
    )


@dataclass(slots=True)
class SampleSelection:
    """Result of :func:`select_samples`.

    Attributes
    ----------
    chosen
        Patient id → the sample id kept for it.
    excluded
        ``(sample_id, patient or None, reason, detail)`` for every other sample.
    normalised
        ``(sample_id, detail)`` for every id read after upper-casing (reason
        ``id_normalised``); the sample stays eligible.
    """

    chosen: dict[str, str] = field(default_factory=dict)
    excluded: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    normalised: list[tuple[str, str]] = field(default_factory=list)


def select_samples(
    sample_ids: Sequence[str],
    *,
    id_type: Literal["tcga_barcode", "patient"],
    tumour_types: Sequence[int] = (1, 2, 3, 4, 5, 6, 7, 8, 9),
    path: str = "",
) -> SampleSelection:
    """Map sample ids to patients and keep one sample per patient (see module docstring).

    Raises
    ------
    InputError
        ``id_type: patient`` with duplicate ids, ids differing only by case, or
        ``tcga_barcode`` with no parsable id.
    """
    out = SampleSelection()
    collision = case_collision([sid.strip() for sid in sample_ids])
    if collision is not None:
        raise InputError(
            path,
            f"sample ids '{collision[0]}' and '{collision[1]}' differ only by case",
            fix="give each sample one spelling (or remove the duplicate column)",
            line=1,
            column=collision[1],
        )
    if id_type == "patient":
        seen: dict[str, str] = {}
        for sid in sample_ids:
            pid = sid.strip()
            if pid in seen:
                raise InputError(
                    path,
                    f"patient id '{pid}' is used by two columns ('{seen[pid]}', '{sid}')",
                    fix="keep one column per patient, or use id_type tcga_barcode for barcodes",
                    line=1,
                    column=sid,
                )
            seen[pid] = sid
            out.chosen[pid] = sid
        return out
    rank = {t: i for i, t in enumerate(tumour_types)}
    candidates: dict[str, list[tuple[tuple[int, int, str, int, str], str]]] = {}
    parsed_any = False
    for sid in sample_ids:
        code = parse_tcga_barcode(sid.strip().upper())
        if code is not None and sid.strip() != sid.strip().upper():
            out.normalised.append(
                (sid, f"read as {sid.strip().upper()} (TCGA barcodes are upper case)")
            )
        if code is None:
            out.excluded.append(
                (sid, None, "unparseable_sample_id", "not a TCGA barcode (TCGA-XX-XXXX-...)")
            )
            continue
        parsed_any = True
        if code.sample_type is None:
            key = (len(rank), 0, "", 0, sid)
        elif code.sample_type in rank:
            key = (rank[code.sample_type], 0, code.vial or "", code.portion or 0, sid)
        else:
            out.excluded.append(
                (
                    sid,
                    code.patient,
                    "non_tumour_sample",
                    f"sample type {code.sample_type:02d} is not in samples.tumour_types",
                )
            )
            continue
        candidates.setdefault(code.patient, []).append((key, sid))
    if sample_ids and not parsed_any:
        raise InputError(
            path,
            f"no sample id is a TCGA barcode (e.g. '{sample_ids[0]}')",
            fix="set `id_type: patient` in the cohort sheet if the columns are patient ids",
            line=1,
        )
    for patient, items in candidates.items():
        items.sort()
        kept = items[0][1]
        out.chosen[patient] = kept
        out.excluded += [
            (sid, patient, "duplicate_sample", f"patient {patient} keeps sample {kept}")
            for _, sid in items[1:]
        ]
    return out
