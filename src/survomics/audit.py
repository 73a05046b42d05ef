"""The audit table: every excluded file row, sample or patient with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from survomics.io import write_tsv

AUDIT_COLUMNS: tuple[str, ...] = (
    "cohort",
    "modality",
    "file",
    "line",
    "level",
    "id",
    "reason",
    "detail",
)
"""Columns of every audit table, in order."""

AUDIT_SCHEMA: dict[str, type[pl.DataType]] = {
    "cohort": pl.String,
    "modality": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "level": pl.String,
    "id": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One excluded entity.

    Attributes
    ----------
    cohort
        Cohort id.
    modality
        ``clinical`` or the modality id the entity was excluded from.
    file
        The input file (as written in the cohort sheet).
    line
        1-based line of the file where the entity is (``None`` for columns of a matrix).
    level
        ``file``, ``row``, ``patient``, ``sample`` or ``feature``.
    id
        The excluded entity's id as it appears in the file.
    reason
        Stable snake_case code (see ``docs/audit.md``), e.g. ``missing_time``.
    detail
        Human-readable explanation with the offending values.
    """

    cohort: str
    modality: str
    file: str
    line: int | None
    level: str
    id: str
    reason: str
    detail: str


DECISION_REASONS: frozenset[str] = frozenset(
    {
        "id_normalised",
        "duplicate_feature_aggregated",
        "last_contact_after_event",
        "summed_gene_ids",
        "follow_up_update",
        "images_aggregated",
    }
)
"""Reasons of records that document a decision about kept data, not an exclusion
(``docs/audit.md``, "Decisions")."""


def exclusions(audit: pl.DataFrame) -> pl.DataFrame:
    """The records of an audit table that exclude something (decisions left out)."""
    return audit.filter(~pl.col("reason").is_in(sorted(DECISION_REASONS)))


def audit_frame(records: Iterable[AuditRecord]) -> pl.DataFrame:
    """Build an audit table (fixed columns and types) from records, in the given order."""
    rows = [asdict(r) for r in records]
    return (
        pl.DataFrame(rows, schema=AUDIT_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=AUDIT_SCHEMA)
    )


def write_audit(records: Iterable[AuditRecord], path: str | Path) -> None:
    """Write records as an audit TSV atomically."""
    write_tsv(audit_frame(records), path)


def concat_audits(paths: Sequence[str | Path]) -> pl.DataFrame:
    """Concatenate audit TSVs in the given order (empty files give no rows)."""
    frames = [pl.read_csv(p, separator="\t", schema=AUDIT_SCHEMA) for p in paths]
    return pl.concat(frames) if frames else pl.DataFrame(schema=AUDIT_SCHEMA)
