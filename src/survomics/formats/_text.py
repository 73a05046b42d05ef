"""Helpers the text-table readers share (cBioPortal, Xena)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from survomics.errors import InputError
from survomics.ids import parse_tcga_barcode


def string_rows(
    lines: Sequence[str],
    *,
    header: Sequence[str],
    first_line: int,
    na: set[str],
    path: str | Path,
    trailing_tab: bool = False,
) -> pl.DataFrame:
    """Tab-separated body lines as String columns (missing tokens null) + ``_line``.

    Parameters
    ----------
    lines
        The body lines (after the header), without line ends.
    header
        The column names.
    first_line
        File line number of ``lines[0]``.
    na
        Tokens read as missing (after stripping whitespace).
    path
        The file, for messages.
    trailing_tab
        Every line ends with a tab (as in cBioPortal's own examples): an empty last
        field is dropped.

    Raises
    ------
    InputError
        A row whose number of fields differs from the header's, naming its line.
    """
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    for lineno, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        cells = line.split("\t")
        if trailing_tab and len(cells) == len(header) + 1 and not cells[-1].strip():
            cells = cells[:-1]
        if len(cells) != len(header):
            raise InputError(
                path,
                f"row has {len(cells)} fields but the header has {len(header)}",
                fix="repair the row (missing or extra tabs)",
                line=lineno,
            )
        rows.append([None if c.strip() in na else c.strip() for c in cells])
        numbers.append(lineno)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String), orient="row")
    return frame.with_columns(pl.Series("_line", numbers, dtype=pl.Int64))


def is_tcga(ids: Sequence[str]) -> bool:
    """Every id parses as a TCGA barcode (and there is at least one)."""
    return bool(ids) and all(parse_tcga_barcode(s) is not None for s in ids)
