"""Errors that name the file, the row or column, and what to do about it."""

from __future__ import annotations

from pathlib import Path


class SurvomicsError(Exception):
    """Base class of every error survomics raises on purpose."""


class InputError(SurvomicsError):
    """A user-supplied file or setting cannot be used as it is.

    The message always has the form ``<file>[:<line>][, column '<c>']: <problem>. Fix: <fix>``
    so that a user sees in one line where the problem is and what to do.

    Parameters
    ----------
    path
        The file (or config file) at fault.
    problem
        What is wrong, in one sentence.
    fix
        What the user should do about it.
    line
        1-based line number in the file, when known.
    column
        Column (or config key) name, when known.
    column_label
        How to call ``column`` in the message (``column``, ``key``...).
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        fix: str,
        line: int | None = None,
        column: str | None = None,
        column_label: str = "column",
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        self.line = line
        self.column = column
        where = self.path if line is None else f"{self.path}:{line}"
        if column is not None:
            where += f", {column_label} '{column}'"
        super().__init__(f"{where}: {problem}. Fix: {fix}")


def check_unique_columns(
    header: list[str], *, path: str | Path, line: int, what: str = "column"
) -> None:
    """Refuse a header with repeated names, naming up to five of them.

    Raises
    ------
    InputError
        When a name appears more than once.
    """
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(
            path,
            f"duplicate column name(s) {dupes[:5]}",
            fix=f"give every {what} a unique name",
            line=line,
        )


class ConfigError(InputError):
    """The configuration or the cohort sheet is invalid."""
