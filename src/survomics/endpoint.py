"""Derive a survival endpoint (time in days, event 0/1) from a clinical table.

Event codings understood (case-insensitive, whitespace-stripped): ``1``/``0``,
``1.0``/``0.0``, ``TRUE``/``FALSE``, ``T``/``F``, ``yes``/``no``, ``dead``/``alive``,
``deceased``/``living``, ``died``, ``event``/``censored``, and cBioPortal's
``1:DECEASED``/``0:LIVING`` (any ``1:…``/``0:…``). Missing tokens are missing; any other
value stops with an error naming the line, column and value.

Patients excluded (never silently): ``missing_event``, ``missing_time`` (e.g. dead
without a time of death), ``negative_time``, ``contradictory_status`` (TCGA style: alive
with a time of death), ``followup_after_death`` (TCGA style: last follow-up after the
death). A time of 0 is kept (R's ``survival`` keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from survomics.errors import InputError
from survomics.specs import DAYS_PER_UNIT, EndpointSpec

_EVENT = {"1", "1.0", "true", "t", "yes", "dead", "deceased", "died", "event"}
_CENSORED = {"0", "0.0", "false", "f", "no", "alive", "living", "censored"}
ACCEPTED = "1/0, TRUE/FALSE, yes/no, dead/alive, deceased/living, 1:DECEASED/0:LIVING"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A patient the endpoint derivation excludes."""

    id: str
    line: int
    reason: str
    detail: str


def parse_event(values: pl.Series, *, path: str, column: str, first_line: int) -> np.ndarray:
    """Event codes as int8 (1 event, 0 censored, -1 missing)."""
    out = np.full(values.len(), -1, dtype=np.int8)
    for i, raw in enumerate(values.to_list()):
        if raw is None:
            continue
        token = raw.strip().lower()
        if token in _EVENT or token.startswith("1:"):
            out[i] = 1
        elif token in _CENSORED or token.startswith("0:"):
            out[i] = 0
        else:
            raise InputError(
                path,
                f"unknown event coding {raw!r}",
                fix=f"use one of {ACCEPTED}, or add the token to `na_values` if it means missing",
                line=first_line + i,
                column=column,
            )
    return out


def _times(frame: pl.DataFrame, column: str, *, path: str, first_line: int) -> np.ndarray:
    raw = frame[column]
    parsed = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = parsed.is_null() & raw.is_not_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InputError(
            path,
            f"time value {raw[row]!r} is not a number",
            fix="correct it, or add the token to `na_values` in the sheet if it means missing",
            line=first_line + row,
            column=column,
        )
    return parsed.fill_null(np.nan).to_numpy().astype(np.float64)


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


def derive_endpoint(
    frame: pl.DataFrame,
    spec: EndpointSpec,
    *,
    path: str,
    id_column: str,
    first_line: int,
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
    first_line
        File line of the frame's first row.

    Returns
    -------
    tuple
        A frame with ``time_days`` and ``event`` (null where excluded) aligned with
        ``frame``, and the exclusions.
    """
    scale = DAYS_PER_UNIT[spec.time_unit]
    ids = frame[id_column].to_list()
    excluded: list[Exclusion] = []
    if spec.derive == "tcga":
        _require(
            frame, [spec.status_column, spec.death_time_column, spec.followup_time_column], path
        )
        assert spec.status_column and spec.death_time_column and spec.followup_time_column  # noqa: PT018
        event = parse_event(
            frame[spec.status_column], path=path, column=spec.status_column, first_line=first_line
        )
        death = _times(frame, spec.death_time_column, path=path, first_line=first_line)
        follow = _times(frame, spec.followup_time_column, path=path, first_line=first_line)
        time = np.where(event == 1, death, follow)
    else:
        _require(frame, [spec.time_column, spec.event_column], path)
        assert spec.time_column and spec.event_column  # noqa: PT018
        event = parse_event(
            frame[spec.event_column], path=path, column=spec.event_column, first_line=first_line
        )
        time = _times(frame, spec.time_column, path=path, first_line=first_line)
        death = follow = None
    for i, pid in enumerate(ids):
        line = first_line + i
        reason = detail = None
        if event[i] == -1:
            reason, detail = "missing_event", "the event/vital status is missing"
        elif death is not None and follow is not None and event[i] == 0 and not np.isnan(death[i]):
            reason = "contradictory_status"
            detail = f"alive but {spec.death_time_column} = {death[i]:g}"
        elif np.isnan(time[i]):
            reason = "missing_time"
            detail = (
                "dead without a time of death"
                if event[i] == 1 and death is not None
                else ("no follow-up time")
            )
        elif time[i] < 0:
            reason, detail = "negative_time", f"time {time[i]:g} {spec.time_unit} is negative"
        elif (
            death is not None
            and follow is not None
            and event[i] == 1
            and not np.isnan(follow[i])
            and follow[i] > death[i]
        ):
            reason = "followup_after_death"
            detail = (
                f"{spec.followup_time_column} = {follow[i]:g} after "
                f"{spec.death_time_column} = {death[i]:g}"
            )
        if reason is not None:
            excluded.append(Exclusion(id=pid, line=line, reason=reason, detail=detail or ""))
    out = pl.DataFrame(
        {
            "time_days": np.where(np.isnan(time), np.nan, time * scale),
            "event": np.where(event < 0, 0, event).astype(np.int8),
        }
    )
    return out, excluded
