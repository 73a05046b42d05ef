"""Typed views of the configuration: one cohort-sheet row, one endpoint definition.

:mod:`survomics.config` builds these from ``config/config.yaml`` and the cohort sheet
after validating both; the rest of the package takes them as plain arguments and never
reads the configuration itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TimeUnit = Literal["days", "weeks", "months", "years"]
FileFormat = Literal[
    "tsv",
    "csv",
    "parquet",
    "cbioportal",
    "gdc_star_counts",
    "gdc_clinical",
    "biotab",
    "maf",
    "vcf",
    "seg",
    "xena",
    "xena_clinical",
    "h5ad",
    "image_features",
]
"""Sheet ``format`` values; every one but ``tsv``/``csv``/``parquet`` has a reader in
:mod:`survomics.formats` (documented with an example in ``docs/formats.md``)."""
Orientation = Literal["features_x_samples", "samples_x_features"]
Transform = Literal["none", "log2p1", "log2", "log10p1", "beta_to_m", "log_cpm", "deseq2"]
"""Element-wise (``log*``, ``beta_to_m``) or per-sample library-size (``log_cpm``,
``deseq2``) transforms applied at ingest."""
IdType = Literal["tcga_barcode", "patient"]

DAYS_PER_UNIT: dict[str, float] = {
    "days": 1.0,
    "weeks": 7.0,
    "months": 365.25 / 12.0,
    "years": 365.25,
}
"""Conversion of a declared time unit to days (Julian year; a month is 1/12 of it)."""

DEFAULT_NA_VALUES: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "NaN",
    "nan",
    "NULL",
    "null",
    "None",
    ".",
    "[Not Available]",
    "[Not Applicable]",
    "[Not Evaluated]",
    "[Unknown]",
    "[Discrepancy]",
)
"""Tokens read as missing in every file; a sheet row may add more (``na_values``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSpec:
    """How to derive a survival endpoint from a clinical table.

    Attributes
    ----------
    name
        Endpoint name; the clinical Parquet gets ``{name}_time`` and ``{name}_event``.
    derive
        ``"tcga"``: time is ``death_time_column`` for the dead and ``followup_time_column``
        for the living, event from ``status_column``. ``"columns"``: explicit
        ``time_column`` and ``event_column``. ``"dates"``: time from
        ``start_date_column`` to ``event_date_column`` (event) or else to
        ``last_contact_date_column`` (censored), dates parsed with ``date_format``
        (a strftime pattern); the event is ``event_column`` when given, else the presence
        of an event date.
    time_unit
        Unit of the time columns; converted to days with :data:`DAYS_PER_UNIT`.
    max_time_years
        Plausibility bound: a derived time above it (e.g. months read as days) stops
        with an error naming the row.
    """

    name: str
    derive: Literal["tcga", "columns", "dates"]
    time_unit: TimeUnit = "days"
    time_column: str | None = None
    event_column: str | None = None
    status_column: str | None = None
    death_time_column: str | None = None
    followup_time_column: str | None = None
    start_date_column: str | None = None
    event_date_column: str | None = None
    last_contact_date_column: str | None = None
    date_format: str = "%Y-%m-%d"
    max_time_years: float = 50.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSpec:
    r"""One row of the cohort sheet: an input file and how to read it.

    Attributes
    ----------
    cohort
        Cohort id.
    modality
        ``"clinical"`` or a modality id (``expression``, ``copy_number``...).
    path
        Path as written in the sheet (relative to the working directory or absolute).
    format
        File format; gzip compression is recognised from a ``.gz`` suffix.
    orientation
        Omics matrices only: ``features_x_samples`` (one row per feature, one column per
        sample) or ``samples_x_features``.
    id_column
        Clinical: the patient id column. Omics: the feature id column
        (``features_x_samples``) or the sample id column (``samples_x_features``).
        ``None`` means the first column.
    sep
        Field separator overriding the format's default (``\t`` for tsv, ``,`` for csv).
    transform
        Element-wise value transform applied at ingest (omics only).
    na_values
        Every token read as missing (the defaults plus the row's own).
    id_type
        ``tcga_barcode``: sample ids are TCGA barcodes mapped to patients by their first 12
        characters; ``patient``: sample ids are patient ids.
    endpoint
        Clinical rows only: the name of an endpoint definition in the config.
    options
        Format options from the sheet's ``options`` column (``key=value;key=value``),
        validated against :data:`survomics.formats.OPTIONS` of the row's format.
    sheet_line
        Line of this row in the cohort sheet (for messages).
    """

    cohort: str
    modality: str
    path: str
    format: FileFormat
    orientation: Orientation | None = None
    id_column: str | None = None
    sep: str | None = None
    transform: Transform = "none"
    na_values: tuple[str, ...] = DEFAULT_NA_VALUES
    id_type: IdType = "tcga_barcode"
    endpoint: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    sheet_line: int = 0

    def option(self, key: str, default: str | None = None) -> str | None:
        """The value of a format option from the sheet's ``options`` column."""
        return dict(self.options).get(key, default)
