"""Derive a survival endpoint (time in days, event 0/1) from a clinical table.

Three derivations (``EndpointSpec.derive``):

``tcga``
    Time is the time of death for the dead and the last follow-up for the living; the event
    is the vital status.
``columns``
    An explicit time column and event column.
``dates``
    Time from ``start_date_column`` to ``event_date_column`` for an event, else to
    ``last_contact_date_column`` (censored), in days; dates are parsed with ``date_format``
    (a strftime pattern such as ``%Y-%m-%d`` or ``%d/%m/%Y``) and ``time_unit`` is
    ignored. The event is ``event_column`` when given, else the presence of an event date.

Event codings understood (case-insensitive, whitespace-stripped): ``1``/``0``,
``1.0``/``0.0``, ``TRUE``/``FALSE``, ``T``/``F``, ``yes``/``no``, ``dead``/``alive``,
``deceased``/``living``, ``died``, ``event``/``censored``, and cBioPortal's
``1:DECEASED``/``0:LIVING`` (any ``1:…``/``0:…``). Missing tokens are missing; any other
value stops with an error naming the line, column and value.

Patients excluded (never silently; each is an audit record at level ``patient``):
``missing_event``, ``missing_time`` (e.g. dead without a time of death, no start date, an
event without an event date, a censored patient without a last contact),
``negative_time`` (also an event date before the start date), ``contradictory_status``
(alive with a time of death; with ``dates`` and an ``event_column``: censored but with an
event date), ``followup_after_death`` (``tcga``: last follow-up after the death). A time
of 0 is kept (R's ``survival`` keeps it).

Decisions recorded without excluding the patient (audit level ``row``):
``last_contact_after_event`` (``dates``: a last contact after the event date is normal for
progression or recurrence, so the event and its time are kept; for death it is a data
error the record lets the user find).

Plausibility (stops with an error, nothing written):

- any kept time above ``max_time_years`` (default 50 years) names its line and suggests a
  wrong ``time_unit`` (months declared as years, days declared as months...);
- a cohort in ``days`` whose times look like months: with at least
  :data:`MONTHS_HEURISTIC_MIN_PATIENTS` kept patients, a maximum below
  :data:`MONTHS_HEURISTIC_MAX_DAYS` and a median below
  :data:`MONTHS_HEURISTIC_MEDIAN_DAYS` (i.e. under 7 months of follow-up for everyone,
  while the same numbers read as months are a typical cohort) the fix is ``time_unit:
  months``. Not applied to ``dates`` (no unit to mistake).

Every message names the file line of the row: rows carry their own line numbers
(``lines``), since readers may skip comment lines, blank lines or rows of other kinds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from survomics.errors import InputError
from survomics.specs import DAYS_PER_UNIT, EndpointSpec

_EVENT = ["1", "1.0", "true", "t", "yes", "dead", "deceased", "died", "event"]
_CENSORED = ["0", "0.0", "false", "f", "no", "alive", "living", "censored"]
ACCEPTED = "1/0, TRUE/FALSE, yes/no, dead/alive, deceased/living, 1:DECEASED/0:LIVING"

MONTHS_HEURISTIC_MIN_PATIENTS = 20
"""The days-vs-months check needs at least this many kept patients."""
MONTHS_HEURISTIC_MAX_DAYS = 200.0
"""Times in days all below this (under 7 months of follow-up)..."""
MONTHS_HEURISTIC_MEDIAN_DAYS = 60.0
"""...with a median below this are taken for months."""

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A patient the endpoint derivation excludes (or, with ``keep``, a recorded decision).

    Attributes
    ----------
    id
        Patient id.
    line
        Line of the patient's row in the file.
    reason
        Stable audit reason.
    detail
        The values behind the decision.
    keep
        ``True``: the patient is kept and the record only documents a decision.
    """

    id: str
    line: int
    reason: str
    detail: str
    keep: bool = False


def _line_of(lines: Sequence[int] | None, first_line: int, row: int) -> int:
    return int(lines[row]) if lines is not None else first_line + row


def not_a_number(value: str) -> tuple[str, str]:
    """Problem and fix for a cell that should be a number but is ``value``."""
    if _THOUSANDS.match(value.strip()):
        return (
            f"value {value!r} is a number with a thousands separator",
            "write numbers without digit grouping (e.g. 1234, not 1,234): export the file "
            "again with plain numbers",
        )
    return (
        f"value {value!r} is not a number",
        "correct it, or add the token to `na_values` in the sheet if it means missing",
    )


def parse_event(
    values: pl.Series,
    *,
    path: str,
    column: str,
    first_line: int = 2,
    lines: Sequence[int] | None = None,
) -> np.ndarray:
    """Event codes as int8 (1 event, 0 censored, -1 missing), vectorised.

    Parameters
    ----------
    values
        The event column as read (String).
    path, column
        For messages.
    first_line
        File line of the first value when ``lines`` is not given (contiguous rows).
    lines
        File line of every value.
    """
    token = values.cast(pl.String).str.strip_chars().str.to_lowercase()
    is_event = (token.is_in(_EVENT) | token.str.starts_with("1:")).fill_null(value=False)
    is_censored = (token.is_in(_CENSORED) | token.str.starts_with("0:")).fill_null(value=False)
    bad = token.is_not_null() & ~is_event & ~is_censored
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InputError(
            path,
            f"unknown event coding {values[row]!r}",
            fix=f"use one of {ACCEPTED}, or add the token to `na_values` if it means missing",
            line=_line_of(lines, first_line, row),
            column=column,
        )
    return np.where(is_event.to_numpy(), 1, np.where(is_censored.to_numpy(), 0, -1)).astype(np.int8)


def _times(frame: pl.DataFrame, column: str, *, path: str, lines: Sequence[int]) -> np.ndarray:
    raw = frame[column]
    parsed = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = (parsed.is_null() & raw.is_not_null()) | parsed.is_infinite().fill_null(value=False)
    if bad.any():
        row = int(bad.arg_true()[0])
        problem, fix = not_a_number(raw[row])
        if parsed[row] is not None:
            problem = f"time value {raw[row]!r} is not finite"
        raise InputError(path, problem, fix=fix, line=int(lines[row]), column=column)
    return parsed.fill_null(np.nan).to_numpy().astype(np.float64)


def _dates(
    frame: pl.DataFrame, column: str, *, fmt: str, path: str, lines: Sequence[int]
) -> np.ndarray:
    """Days since 1970-01-01 (float, NaN where missing) of a date column."""
    raw = frame[column].str.strip_chars()
    try:
        parsed = raw.str.strptime(pl.Datetime("us"), fmt, strict=False)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        parsed = pl.Series(column, [None] * raw.len(), dtype=pl.Datetime("us"))
    bad = parsed.is_null() & raw.is_not_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InputError(
            path,
            f"date {raw[row]!r} does not match the endpoint's date_format {fmt!r}",
            fix="correct the date, or set `date_format` of the endpoint in config.yaml to the "
            "file's pattern (e.g. %d/%m/%Y); add the token to `na_values` if it means missing",
            line=int(lines[row]),
            column=column,
        )
    micros = parsed.dt.epoch("us").cast(pl.Float64).fill_null(np.nan).to_numpy()
    return np.asarray(micros, dtype=np.float64) / 86_400e6


def _require(frame: pl.DataFrame, columns: list[str | None], path: str) -> None:
    for col in columns:
        if col is not None and col not in frame.columns:
            raise InputError(
                path,
                f"endpoint column '{col}' not found; columns are {frame.columns[:15]}",
                fix="correct the column name under `endpoints:` in config.yaml",
                line=1,
                column=col,
            )


def _iso(days: float) -> str:
    return str(np.datetime64(round(days * 86_400), "s").astype("datetime64[D]"))


@dataclass(slots=True)
class _Derived:
    """Raw times (source unit), events and per-row exclusion reasons."""

    time: np.ndarray
    event: np.ndarray
    reasons: list[tuple[str, str] | None]
    notes: list[tuple[int, str, str]]
    time_columns: tuple[str, str]


def _tcga_or_columns(
    frame: pl.DataFrame, spec: EndpointSpec, *, path: str, lines: Sequence[int]
) -> _Derived:
    death = follow = None
    if spec.derive == "tcga":
        _require(
            frame, [spec.status_column, spec.death_time_column, spec.followup_time_column], path
        )
        assert spec.status_column and spec.death_time_column and spec.followup_time_column  # noqa: PT018
        event = parse_event(
            frame[spec.status_column], path=path, column=spec.status_column, lines=lines
        )
        death = _times(frame, spec.death_time_column, path=path, lines=lines)
        follow = _times(frame, spec.followup_time_column, path=path, lines=lines)
        time = np.where(event == 1, death, follow)
        columns = (spec.death_time_column, spec.followup_time_column)
    else:
        _require(frame, [spec.time_column, spec.event_column], path)
        assert spec.time_column and spec.event_column  # noqa: PT018
        event = parse_event(
            frame[spec.event_column], path=path, column=spec.event_column, lines=lines
        )
        time = _times(frame, spec.time_column, path=path, lines=lines)
        columns = (spec.time_column, spec.time_column)
    reasons: list[tuple[str, str] | None] = [None] * len(event)
    flagged = (event == -1) | np.isnan(time) | (time < 0)
    if death is not None and follow is not None:
        flagged |= ((event == 0) & ~np.isnan(death)) | ((event == 1) & (follow > death))
    for i in np.flatnonzero(flagged):
        if event[i] == -1:
            reasons[i] = ("missing_event", "the event/vital status is missing")
        elif death is not None and event[i] == 0 and not np.isnan(death[i]):
            reasons[i] = (
                "contradictory_status",
                f"alive but {spec.death_time_column} = {death[i]:g}",
            )
        elif np.isnan(time[i]):
            detail = (
                "dead without a time of death"
                if event[i] == 1 and death is not None
                else "no follow-up time"
            )
            reasons[i] = ("missing_time", detail)
        elif time[i] < 0:
            reasons[i] = ("negative_time", f"time {time[i]:g} {spec.time_unit} is negative")
        elif death is not None and follow is not None and event[i] == 1 and follow[i] > death[i]:
            reasons[i] = (
                "followup_after_death",
                f"{spec.followup_time_column} = {follow[i]:g} after "
                f"{spec.death_time_column} = {death[i]:g}",
            )
    return _Derived(time, event, reasons, [], columns)


def _from_dates(
    frame: pl.DataFrame, spec: EndpointSpec, *, path: str, lines: Sequence[int]
) -> _Derived:
    start_col, event_col = spec.start_date_column, spec.event_date_column
    last_col = spec.last_contact_date_column
    _require(frame, [start_col, event_col, last_col, spec.event_column], path)
    if not (start_col and event_col and last_col):
        raise InputError(
            path,
            f"endpoint '{spec.name}' derives from dates but does not name "
            "start_date_column, event_date_column and last_contact_date_column",
            fix="set the three date columns of the endpoint in config.yaml",
        )
    start, end, last = (
        _dates(frame, c, fmt=spec.date_format, path=path, lines=lines)
        for c in (start_col, event_col, last_col)
    )
    if spec.event_column:
        event = parse_event(
            frame[spec.event_column], path=path, column=spec.event_column, lines=lines
        )
    else:
        event = np.where(np.isnan(end), 0, 1).astype(np.int8)
    time = np.where(event == 1, end - start, last - start)
    reasons: list[tuple[str, str] | None] = [None] * len(event)
    notes: list[tuple[int, str, str]] = []
    flagged = (event == -1) | np.isnan(time) | (time < 0) | ((event == 0) & ~np.isnan(end))
    flagged |= (event == 1) & (last > end)
    for i in np.flatnonzero(flagged):
        if event[i] == -1:
            reasons[i] = ("missing_event", f"{spec.event_column} is missing")
        elif event[i] == 0 and not np.isnan(end[i]):
            reasons[i] = (
                "contradictory_status",
                f"censored by {spec.event_column} but {event_col} = {_iso(end[i])}",
            )
        elif np.isnan(start[i]):
            reasons[i] = ("missing_time", f"no {start_col}")
        elif np.isnan(time[i]):
            detail = (
                f"an event without {event_col}"
                if event[i] == 1
                else f"neither {event_col} nor {last_col}"
            )
            reasons[i] = ("missing_time", detail)
        elif time[i] < 0:
            which = event_col if event[i] == 1 else last_col
            stop = end[i] if event[i] == 1 else last[i]
            reasons[i] = (
                "negative_time",
                f"{which} {_iso(stop)} is before {start_col} {_iso(start[i])}",
            )
        else:
            notes.append(
                (
                    int(i),
                    "last_contact_after_event",
                    f"kept as an event at {time[i]:g} days: {last_col} {_iso(last[i])} is after "
                    f"{event_col} {_iso(end[i])} (normal for progression; for death, a data "
                    "error)",
                )
            )
    return _Derived(time, event, reasons, notes, (event_col, last_col))


def _plausible(
    derived: _Derived,
    spec: EndpointSpec,
    *,
    path: str,
    lines: Sequence[int],
    kept: np.ndarray,
) -> None:
    """Stop on times beyond ``max_time_years`` and on days that look like months."""
    scale = 1.0 if spec.derive == "dates" else DAYS_PER_UNIT[spec.time_unit]
    unit = "days" if spec.derive == "dates" else spec.time_unit
    days = derived.time * scale
    too_long = kept & (days > spec.max_time_years * 365.25)
    if too_long.any():
        row = int(np.flatnonzero(too_long)[0])
        column = derived.time_columns[0 if derived.event[row] == 1 else 1]
        raise InputError(
            path,
            f"time {derived.time[row]:g} {unit} ({days[row] / 365.25:.1f} years) is beyond "
            f"the plausibility bound of {spec.max_time_years:g} years",
            fix=f"check `time_unit` of endpoint '{spec.name}' in config.yaml (now '{unit}'; "
            "e.g. days declared as months are 30 times too long), correct the value, or raise "
            "`max_time_years` if such a follow-up is real",
            line=int(lines[row]),
            column=column,
        )
    times = derived.time[kept]
    if (
        spec.derive != "dates"
        and spec.time_unit == "days"
        and times.size >= MONTHS_HEURISTIC_MIN_PATIENTS
        and float(times.max()) < MONTHS_HEURISTIC_MAX_DAYS
        and float(np.median(times)) < MONTHS_HEURISTIC_MEDIAN_DAYS
    ):
        raise InputError(
            path,
            f"the times of endpoint '{spec.name}' look like months, not days: maximum "
            f"{float(times.max()):g} and median {float(np.median(times)):g} over "
            f"{times.size} patients (under 7 months of follow-up for everyone)",
            fix=f"set `time_unit: months` for endpoint '{spec.name}' in config.yaml if the "
            "column holds months",
            column=derived.time_columns[0],
        )


def derive_endpoint(
    frame: pl.DataFrame,
    spec: EndpointSpec,
    *,
    path: str,
    id_column: str,
    lines: Sequence[int],
) -> tuple[pl.DataFrame, list[Exclusion]]:
    """Derive ``time_days`` (Float64) and ``event`` (Int8) for every row of ``frame``.

    Parameters
    ----------
    frame
        The clinical table, every column String (as read), one row per patient.
    spec
        The endpoint definition.
    path
        The file, for messages.
    id_column
        The patient id column.
    lines
        File line of every row of ``frame`` (rows need not be contiguous).

    Returns
    -------
    tuple
        A frame with ``time_days`` and ``event`` aligned with ``frame`` (NaN time where
        excluded), and the exclusions and recorded decisions (``keep``) in row order.

    Raises
    ------
    InputError
        Missing endpoint columns, unknown event codings, non-numeric times or unparseable
        dates, implausible times (see the module docstring).
    """
    if len(lines) != frame.height:
        msg = f"{len(lines)} line numbers for {frame.height} rows"
        raise ValueError(msg)
    if spec.derive == "dates":
        derived = _from_dates(frame, spec, path=path, lines=lines)
        scale = 1.0
    else:
        derived = _tcga_or_columns(frame, spec, path=path, lines=lines)
        scale = DAYS_PER_UNIT[spec.time_unit]
    kept = np.array([r is None for r in derived.reasons], dtype=bool)
    _plausible(derived, spec, path=path, lines=lines, kept=kept)
    ids = frame[id_column].to_list()
    out: list[Exclusion] = [
        Exclusion(id=ids[i], line=int(lines[i]), reason=r[0], detail=r[1])
        for i, r in enumerate(derived.reasons)
        if r is not None
    ]
    out += [
        Exclusion(id=ids[i], line=int(lines[i]), reason=reason, detail=detail, keep=True)
        for i, reason, detail in derived.notes
    ]
    out.sort(key=lambda e: e.line)
    time = derived.time
    result = pl.DataFrame(
        {
            "time_days": np.where(np.isnan(time), np.nan, time * scale),
            "event": np.where(derived.event < 0, 0, derived.event).astype(np.int8),
        }
    )
    return result, out


__all__ = ["ACCEPTED", "Exclusion", "derive_endpoint", "not_a_number", "parse_event"]
