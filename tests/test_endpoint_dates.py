"""Endpoints from dates, per-row line numbers, and the plausibility checks of the times."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survomics.endpoint import (
    MONTHS_HEURISTIC_MIN_PATIENTS,
    derive_endpoint,
    parse_event,
)
from survomics.errors import InputError
from survomics.ingest import load_clinical
from survomics.specs import EndpointSpec, FileSpec

DATES = EndpointSpec(
    name="pfs",
    derive="dates",
    start_date_column="start",
    event_date_column="progression",
    last_contact_date_column="last_seen",
)


def frame(rows: list[list[str | None]]) -> pl.DataFrame:
    header = ["id", "start", "progression", "last_seen"]
    return pl.DataFrame(
        {h: [r[i] for r in rows] for i, h in enumerate(header)},
        schema=dict.fromkeys(header, pl.String),
    )


def days(a: str, b: str) -> float:
    return float((date.fromisoformat(b) - date.fromisoformat(a)).days)


def test_dates_time_and_event_from_the_presence_of_an_event_date() -> None:
    rows: list[list[str | None]] = [
        ["A", "2019-02-27", "2019-03-01", None],  # across a non-leap February
        ["B", "2020-02-27", None, "2021-03-01"],  # across a leap day
        ["C", "2018-12-31", "2019-01-01", "2019-01-01"],  # same day as last contact
    ]
    out, excl = derive_endpoint(frame(rows), DATES, path="c.tsv", id_column="id", lines=[2, 3, 4])
    assert excl == []
    assert out["event"].to_list() == [1, 0, 1]
    expected = [
        days("2019-02-27", "2019-03-01"),
        days("2020-02-27", "2021-03-01"),
        days("2018-12-31", "2019-01-01"),
    ]
    np.testing.assert_array_equal(out["time_days"], expected)
    assert expected[:2] == [2.0, 368.0]


def test_dates_exclusions_and_lines_from_the_reader() -> None:
    rows: list[list[str | None]] = [
        ["A", "2020-01-10", "2020-01-01", None],  # event before start
        ["B", "2020-01-10", None, None],  # neither date
        ["C", None, "2020-05-01", None],  # no start
        ["D", "2020-01-10", "2020-02-01", "2020-06-01"],  # contact after the event: kept
        ["E", "2020-01-10", None, "2020-01-10"],  # time 0 censored: kept
    ]
    lines = [5, 9, 10, 14, 20]  # rows need not be contiguous (comments, blank lines...)
    out, excl = derive_endpoint(frame(rows), DATES, path="c.tsv", id_column="id", lines=lines)
    got = [(e.id, e.line, e.reason, e.keep) for e in excl]
    assert got == [
        ("A", 5, "negative_time", False),
        ("B", 9, "missing_time", False),
        ("C", 10, "missing_time", False),
        ("D", 14, "last_contact_after_event", True),
    ]
    assert "2020-01-01 is before start 2020-01-10" in excl[0].detail
    assert out["time_days"][3] == days("2020-01-10", "2020-02-01")
    assert out["event"][3] == 1
    assert out["time_days"][4] == 0.0


def test_dates_with_an_event_column_and_a_declared_format() -> None:
    spec = EndpointSpec(
        name="os",
        derive="dates",
        start_date_column="start",
        event_date_column="progression",
        last_contact_date_column="last_seen",
        event_column="status",
        date_format="%d/%m/%Y",
    )
    data = frame(
        [
            ["A", "01/02/2020", "01/03/2020", None],
            ["B", "01/02/2020", "15/02/2020", "01/04/2020"],
            ["C", "01/02/2020", None, None],
        ]
    ).with_columns(pl.Series("status", ["1:DECEASED", "0:LIVING", "1:DECEASED"]))
    out, excl = derive_endpoint(data, spec, path="c.tsv", id_column="id", lines=[2, 3, 4])
    assert out["time_days"][0] == 29.0  # 2020 is a leap year
    assert [(e.id, e.reason) for e in excl] == [
        ("B", "contradictory_status"),  # censored but with an event date
        ("C", "missing_time"),  # an event without its date
    ]


def test_unparseable_date_names_line_column_value_and_format() -> None:
    data = frame([["A", "2020-01-10", None, "2020-02-01"], ["B", "2020-01-10", None, "10.02.2020"]])
    with pytest.raises(InputError) as exc:
        derive_endpoint(data, DATES, path="c.tsv", id_column="id", lines=[3, 7])
    assert str(exc.value) == (
        "c.tsv:7, column 'last_seen': date '10.02.2020' does not match the endpoint's "
        "date_format '%Y-%m-%d'. Fix: correct the date, or set `date_format` of the endpoint "
        "in config.yaml to the file's pattern (e.g. %d/%m/%Y); add the token to `na_values` "
        "if it means missing"
    )


def test_dates_endpoint_needs_its_three_columns() -> None:
    spec = EndpointSpec(name="os", derive="dates", start_date_column="start")
    with pytest.raises(InputError, match="does not name start_date_column"):
        derive_endpoint(frame([]), spec, path="c.tsv", id_column="id", lines=[])
    with pytest.raises(ValueError, match="2 line numbers for 0 rows"):
        derive_endpoint(frame([]), DATES, path="c.tsv", id_column="id", lines=[2, 3])


def test_parse_event_uses_the_given_lines() -> None:
    values = pl.Series([" Dead", "LIVING", None, "1:DECEASED", "t"])
    assert parse_event(values, path="c", column="s", lines=[2, 4, 6, 8, 9]).tolist() == [
        1,
        0,
        -1,
        1,
        1,
    ]
    with pytest.raises(InputError, match=r"^c:8, column 's': unknown event coding 'x'"):
        parse_event(pl.Series(["1", "x"]), path="c", column="s", lines=[4, 8])


def columns_spec(unit: str, max_years: float = 50.0) -> EndpointSpec:
    return EndpointSpec(
        name="os",
        derive="columns",
        time_column="t",
        event_column="e",
        time_unit=unit,  # type: ignore[arg-type]
        max_time_years=max_years,
    )


def times_frame(times: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"P{i}" for i in range(len(times))],
            "t": [f"{t:g}" for t in times],
            "e": ["1" if i % 2 else "0" for i in range(len(times))],
        }
    )


def test_time_beyond_the_plausibility_bound_names_its_line() -> None:
    data = times_frame([10, 700, 30])
    lines = [2, 3, 5]
    with pytest.raises(InputError) as exc:
        derive_endpoint(data, columns_spec("months"), path="c", id_column="id", lines=lines)
    message = str(exc.value)
    assert message.startswith("c:3, column 't': time 700 months (58.3 years) is beyond")
    assert "check `time_unit` of endpoint 'os'" in message
    out, _ = derive_endpoint(
        data, columns_spec("months", 60), path="c", id_column="id", lines=lines
    )
    np.testing.assert_allclose(out["time_days"], np.array([10, 700, 30]) * 365.25 / 12)


def test_excluded_rows_are_not_checked_for_plausibility() -> None:
    data = times_frame([10, 99999, 30]).with_columns(pl.Series("e", ["1", None, "0"]))
    _, excl = derive_endpoint(data, columns_spec("days"), path="c", id_column="id", lines=[2, 3, 4])
    assert [(e.id, e.reason) for e in excl] == [("P1", "missing_event")]


def months_like(n: int) -> list[float]:
    return [float(5 + (7 * i) % 90) for i in range(n)]  # max < 95, median < 60


def test_days_that_look_like_months_stop_with_the_fix() -> None:
    n = MONTHS_HEURISTIC_MIN_PATIENTS
    times = months_like(n)
    assert max(times) < 200
    assert float(np.median(times)) < 60
    data = times_frame(times)
    with pytest.raises(InputError) as exc:
        derive_endpoint(data, columns_spec("days"), path="c", id_column="id", lines=range(2, n + 2))
    assert str(exc.value).endswith(
        "Fix: set `time_unit: months` for endpoint 'os' in config.yaml if the column holds months"
    )
    # the same numbers declared as months are fine
    derive_endpoint(data, columns_spec("months"), path="c", id_column="id", lines=range(2, n + 2))
    # fewer patients than the heuristic needs: no guess
    small = times_frame(times[: n - 1])
    derive_endpoint(small, columns_spec("days"), path="c", id_column="id", lines=range(2, n + 1))
    # one long follow-up (a real days cohort with short times): no guess either
    longer = times_frame([*times[:-1], 250.0])
    derive_endpoint(longer, columns_spec("days"), path="c", id_column="id", lines=range(2, n + 2))


def test_load_clinical_passes_file_lines_past_comments(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text(
        "#meta\n"
        "id\tstart\tprogression\tlast_seen\n"
        "A\t2020-01-01\t2020-03-01\t\n"
        "\n"
        "#B\t2020-01-01\t\t2020-02-01\n"
        "C\t2020-01-01\t\t2019-12-01\n"
        "D\t2020-01-01\t\t2020-04-01\n"
    )
    spec = FileSpec(cohort="c", modality="clinical", path=str(path), format="tsv", id_column="id")
    out, records = load_clinical(spec, DATES)
    assert out["patient_id"].to_list() == ["A", "D"]
    assert [(r.line, r.level, r.reason) for r in records] == [
        (5, "row", "comment_line"),
        (6, "patient", "negative_time"),
    ]
    assert out["pfs_time"].to_list() == [60.0, 91.0]
    assert out["pfs_event"].to_list() == [1, 0]
