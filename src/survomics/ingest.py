"""Read clinical tables and omics matrices into the survomics Parquet contract.

Clinical tables
    All cells are read as strings (ids keep leading zeros), missing tokens become null,
    the endpoint is derived (:mod:`survomics.endpoint`), and every other column gets a
    type: Int64 when every value is an integer literal, Float64 when every value is a
    number, else String (also when a value has a leading zero such as ``007``).

Omics matrices
    Read by polars with an explicit schema (id column String, every other column Float64)
    in blocks of about 32 MB of text (:data:`READ_BLOCK_BYTES`) — the fast path: memory
    is the Float64 matrix + a block of text, never the whole text (6.8 GB for 485,000
    probes x 2,000 samples); rows too short are found per block from its own text.
    Missing tokens that cannot be numbers are given to the parser only once a block
    needs them (``NaN`` cells become missing). On a parse failure the file is re-read
    as strings only to locate the first bad cell for the error message. No step copies
    the whole matrix when it keeps every row (filters run only when they remove one).
    Samples map to patients
    (:mod:`survomics.ids`); the result is features x patients with one Float64 column per
    kept patient, in the order of the clinical table.

Dirty files: decisions (each tested on a file of ``tests/malformed/``)
    - **Encoding**: UTF-8 only; a byte-order mark is removed and CRLF/CR line ends read as
      LF (no audit: no value changes). Any other encoding (latin-1...) stops with the line
      of the first bad byte and the ``iconv`` fix. A truncated or corrupt gzip stops.
    - **Comment lines** (tsv/csv): lines starting with ``#`` *before* the header are
      metadata (cBioPortal's four header lines) and are skipped; a clinical line starting
      with ``#`` after the header is skipped and audited (``comment_line``: it may be a
      commented-out patient). A header may therefore not start with ``#``. In a matrix,
      only leading ``#`` lines are skipped. Every line number in messages and the audit
      is the line of the file, comments and blank lines included.
    - **Blank lines** are skipped (a matrix row with neither id nor value too).
    - **Whitespace** around every cell and header is removed; ids equal after stripping
      are duplicates.
    - **Missing tokens** (``NA``, empty, ``.``, ``[Not Available]``, ``[Discrepancy]``...
      and the sheet's ``na_values``) are missing values, never errors.
    - **Ragged rows**, a **single-column header** (wrong separator), an **empty file**
      and a **header without rows** stop with an error.
    - **Thousands separators** (``1,234``): refused, naming the cell — in a matrix, in an
      endpoint time and in a clinical column whose other values are numbers. ``1,234``
      is 1234 in one locale and 1.234 in another; guessing would be silent corruption.
    - **Infinite values** (``inf``, ``-Inf``, ``1e400``) in a matrix stop with an error
      naming the cell: they come from a log of 0 upstream and would break every model.
    - **Spreadsheet-mangled gene symbols** (``1-Sep``, ``2-Mar``, ``1-Dec``, ``Mar-1``,
      ``2020-03-01``, ``3/1/2020``) as feature ids stop with an error naming the line and
      the symbol to restore (``1-Sep`` was SEPT1, now SEPTIN1).
    - **Duplicate feature ids**: the sheet option ``duplicates`` decides: ``error``
      (default), or ``sum``/``mean``/``max`` (missing values ignored; all missing stays
      missing) or ``first`` (the first row as it is); each combined id is audited at level
      ``feature`` (``duplicate_feature_aggregated``) with its lines.
    - **Duplicate patients** (clinical) and duplicate sample ids stop with an error;
      ids of one file differing only by case stop too; TCGA barcodes written in lower
      case are upper-cased and audited (``id_normalised``), see :mod:`survomics.ids`.
    - **Leading zeros** in ids and clinical values are kept (``007`` stays ``007``).
    - **All-missing columns**: a clinical column with no value is kept (String, all
      null: nothing to exclude); a matrix sample with no value is excluded before the
      one-sample-per-patient rule (``all_values_missing``), so another sample of the
      patient can be chosen; a matrix without any value stops with an error.

Every exclusion is returned as an :class:`~survomics.audit.AuditRecord`; every problem a
user must fix raises :class:`~survomics.errors.InputError` naming file, line and column.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import queue
import re
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from survomics import formats, normalize
from survomics.audit import AuditRecord
from survomics.endpoint import derive_endpoint, not_a_number
from survomics.errors import InputError, check_unique_columns
from survomics.ids import normalise_tcga_ids, select_samples
from survomics.specs import EndpointSpec, FileSpec

_INT = re.compile(r"^[+-]?\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = "(" + "|".join(_MONTHS) + ")"
EXCEL_DATE = (
    rf"(?i)^(\d{{1,2}}-{_MONTH}(-\d{{2,4}})?|{_MONTH}-\d{{1,2}}|\d{{4}}-\d{{2}}-\d{{2}}"
    r"|\d{1,2}/\d{1,2}/\d{2,4})$"
)
"""Feature ids a spreadsheet made of gene symbols (``SEPT1`` -> ``1-Sep``)."""
DUPLICATE_RULES = ("error", "sum", "mean", "max", "first")
"""Values of the ``duplicates`` sheet option of matrices."""


def _separator(spec: FileSpec) -> str:
    return spec.sep or ("," if spec.format == "csv" else "\t")


def _text(path: Path) -> str:
    """Whole text of a (gzipped) file, BOM removed, CRLF normalised."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            path,
            f"cannot be decompressed ({exc})",
            fix="the gzip file is truncated or corrupt: download or copy it again",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            f"is not UTF-8 (byte {raw[exc.start]:#x})",
            fix="re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
            line=line,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_columns(header: Sequence[str], sep: str, path: Path, line: int = 1) -> None:
    """A one-column header means the separator is wrong."""
    if len(header) < 2:
        raise InputError(
            path,
            f"the header has a single column with separator {sep!r}",
            fix="set the sheet's `format`/`sep` to the file's real separator",
            line=line,
        )


@dataclass(slots=True)
class _Split:
    """A delimited text file split into fields, with the file line of every row."""

    header: list[str]
    header_line: int
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)


def _split(spec: FileSpec, path: Path, *, comments: bool) -> _Split:
    """Split a tsv/csv file; with ``comments``, skip ``#`` lines (see module docstring)."""
    lines = _text(path).split("\n")
    start = 0
    if comments:
        while start < len(lines) and lines[start].startswith("#"):
            start += 1
    if start >= len(lines) or not lines[start].strip():
        what = "has only comment lines" if start else "is empty"
        raise InputError(
            path,
            f"the file {what}",
            fix="check the path in the cohort sheet and that the file was written completely",
            line=start + 1 if start else None,
        )
    sep = _separator(spec)
    header = [h.strip() for h in lines[start].split(sep)]
    _check_columns(header, sep, path, start + 1)
    check_unique_columns(header, path=path, line=start + 1)
    out = _Split(header=header, header_line=start + 1)
    for lineno, line in enumerate(lines[start + 1 :], start=start + 2):
        if not line.strip():
            continue
        if comments and line.startswith("#"):
            out.comments.append((lineno, line))
            continue
        fields = line.split(sep)
        if len(fields) != len(header):
            raise InputError(
                path,
                f"row has {len(fields)} fields but the header has {len(header)}",
                fix="repair the row (missing or extra separators)",
                line=lineno,
            )
        out.rows.append(fields)
        out.lines.append(lineno)
    return out


def _strings(split: _Split, na_values: Sequence[str]) -> pl.DataFrame:
    """The split rows as String columns (stripped, missing tokens null) + ``_line``."""
    columns = list(zip(*split.rows, strict=True)) if split.rows else [() for _ in split.header]
    raw = pl.DataFrame(
        {name: list(col) for name, col in zip(split.header, columns, strict=True)},
        schema=dict.fromkeys(split.header, pl.String),
    )
    stripped = pl.all().str.strip_chars()
    return raw.with_columns(
        pl.when(stripped.is_in(list(na_values))).then(None).otherwise(stripped).name.keep()
    ).with_columns(pl.Series("_line", split.lines, dtype=pl.Int64))


def read_strings(
    spec: FileSpec, *, path: Path, comments: bool = False, lines: bool = False
) -> pl.DataFrame:
    """Read a table with every column as String; missing tokens become null.

    Parameters
    ----------
    spec
        The sheet row (separator, ``na_values``).
    path
        The file.
    comments
        Skip ``#`` lines (before the header, and after it) — see the module docstring.
    lines
        Add ``_line`` (Int64): the file line of every row (Parquet: row number + 1).

    Raises
    ------
    InputError
        On an unreadable file, an empty file, duplicate column names or ragged rows.
    """
    if spec.format == "parquet":
        frame = pl.read_parquet(path)
        out = frame.with_columns(pl.all().cast(pl.String)).with_columns(
            pl.when(pl.all().str.strip_chars().is_in(list(spec.na_values)))
            .then(None)
            .otherwise(pl.all().str.strip_chars())
            .name.keep()
        )
        return (
            out.with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
            if lines
            else out
        )
    frame = _strings(_split(spec, path, comments=comments), spec.na_values)
    return frame if lines else frame.drop("_line")


def _infer(column: pl.Series) -> pl.Series:
    """Type a String column: Int64, Float64, or left as String."""
    values = column.drop_nulls()
    if values.len() == 0:
        return column
    as_list = values.to_list()
    if any(_LEADING_ZERO.match(v) for v in as_list):
        return column
    if all(_INT.match(v) for v in as_list):
        return column.cast(pl.Int64, strict=False)
    floats = column.cast(pl.Float64, strict=False)
    if floats.null_count() == column.null_count():
        return floats
    return column


def _id_column(spec: FileSpec, header: Sequence[str], path: Path, line: int = 1) -> str:
    if spec.id_column is None:
        return header[0]
    if spec.id_column not in header:
        raise InputError(
            path,
            f"id column '{spec.id_column}' not found; columns are {list(header)[:10]}",
            fix="set `id_column` in the cohort sheet to one of the file's columns",
            line=line,
            column=spec.id_column,
        )
    return spec.id_column


def _check_thousands(frame: pl.DataFrame, columns: Sequence[str], path: Path) -> None:
    """Refuse ``1,234`` in a column whose other values are all numbers (vectorised)."""
    for col in columns:
        values = frame[col]
        grouped = values.str.contains(_THOUSANDS).fill_null(value=False)
        if not grouped.any():
            continue
        others = values.filter(values.is_not_null() & ~grouped)
        if others.cast(pl.Float64, strict=False).null_count() == 0:
            row = int(grouped.arg_true()[0])
            problem, fix = not_a_number(values[row])
            raise InputError(path, problem, fix=fix, line=int(frame["_line"][row]), column=col)


def _clinical_ids(
    spec: FileSpec, frame: pl.DataFrame, id_col: str, path: Path
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Normalise TCGA-barcode case, audit missing ids, refuse duplicate ids."""
    records: list[AuditRecord] = []
    ids = frame[id_col]
    normal = normalise_tcga_ids(ids)
    changed = (normal != ids).fill_null(value=False)
    records += [
        AuditRecord(
            spec.cohort,
            "clinical",
            spec.path,
            int(line),
            "row",
            raw,
            "id_normalised",
            f"read as {new} (TCGA barcodes are upper case)",
        )
        for raw, new, line in zip(
            ids.filter(changed), normal.filter(changed), frame["_line"].filter(changed), strict=True
        )
    ]
    frame = frame.with_columns(normal.alias(id_col))
    missing_id = frame.filter(pl.col(id_col).is_null())
    records += [
        AuditRecord(
            spec.cohort,
            "clinical",
            spec.path,
            int(line),
            "row",
            "",
            "missing_patient_id",
            "the row has no patient id",
        )
        for line in missing_id["_line"]
    ]
    frame = frame.filter(pl.col(id_col).is_not_null())
    dup = frame.filter(pl.col(id_col).is_duplicated())
    if dup.height:
        pid = dup[id_col][0]
        lines = dup.filter(pl.col(id_col) == pid)["_line"].to_list()
        raise InputError(
            path,
            f"patient id '{pid}' appears on lines {lines}",
            fix="keep one row per patient (merge or remove the duplicates)",
            line=int(lines[1]),
            column=id_col,
        )
    folded = frame.filter(pl.col(id_col).str.to_lowercase().is_duplicated())
    if folded.height:
        first = folded[id_col][0]
        other = folded.filter(
            pl.col(id_col).str.to_lowercase() == first.lower(), pl.col(id_col) != first
        )
        line = int(other["_line"][0])
        raise InputError(
            path,
            f"patient ids '{first}' and '{other[id_col][0]}' differ only by case",
            fix="write each patient's id one way (ids are case-sensitive)",
            line=line,
            column=id_col,
        )
    return frame, records


def load_clinical(spec: FileSpec, endpoint: EndpointSpec) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Read a clinical table and derive its survival endpoint.

    Parameters
    ----------
    spec
        The clinical row of the cohort sheet.
    endpoint
        The endpoint definition the row names.

    Returns
    -------
    tuple
        The clinical frame (``patient_id``, ``{name}_time`` in days, ``{name}_event``,
        then the other columns, typed; rows in file order) and the audit records of the
        excluded rows and patients (and of the decisions taken: ``id_normalised``,
        ``last_contact_after_event``).

    Raises
    ------
    InputError
        Unreadable file, missing columns, duplicate patient ids, unknown event codings,
        non-numeric times, unparseable dates, implausible times, thousands separators,
        or no patient / no event left.
    """
    path = Path(spec.path)
    records: list[AuditRecord] = []
    if spec.format in formats.BUILTIN:
        if spec.format == "parquet":
            frame = read_strings(spec, path=path, lines=True)
        else:
            split = _split(spec, path, comments=True)
            frame = _strings(split, spec.na_values)
            records += [
                AuditRecord(
                    spec.cohort,
                    "clinical",
                    spec.path,
                    line,
                    "row",
                    "",
                    "comment_line",
                    f"line starts with '#', skipped: {text[:60]!r}",
                )
                for line, text in split.comments
            ]
        id_col = _id_column(spec, [c for c in frame.columns if c != "_line"], path)
    else:
        table = formats.read_clinical(spec)
        frame, id_col, records = table.frame, table.id_column, list(table.records)
    frame = frame.with_columns(pl.col("_line").cast(pl.Int64))
    if frame.height == 0:
        raise InputError(
            path,
            "the file has a header but no data rows",
            fix="check that the file was exported completely",
        )
    frame, id_records = _clinical_ids(spec, frame, id_col, path)
    records += id_records
    _check_thousands(frame, [c for c in frame.columns if c not in {id_col, "_line"}], path)
    derived, exclusions = derive_endpoint(
        frame.drop("_line"),
        endpoint,
        path=spec.path,
        id_column=id_col,
        lines=frame["_line"].to_list(),
    )
    excluded_ids = {e.id for e in exclusions if not e.keep}
    records += [
        AuditRecord(
            spec.cohort,
            "clinical",
            spec.path,
            e.line,
            "row" if e.keep else "patient",
            e.id,
            e.reason,
            e.detail,
        )
        for e in exclusions
    ]
    name = endpoint.name
    keep = ~frame[id_col].is_in(list(excluded_ids))
    others = [c for c in frame.columns if c not in {id_col, "_line"}]
    out = pl.DataFrame(
        {
            "patient_id": frame[id_col],
            f"{name}_time": derived["time_days"],
            f"{name}_event": derived["event"],
        }
    ).with_columns(frame.select(others))
    out = out.filter(keep)
    if out.height == 0:
        raise InputError(
            path,
            "no patient is left after deriving the endpoint (see the audit reasons)",
            fix="check the endpoint columns and their coding in config.yaml",
        )
    if int(out[f"{name}_event"].sum()) == 0:
        raise InputError(
            path,
            f"no events among the {out.height} patients kept: survival models are impossible",
            fix="check the event column and its coding (1/0, dead/alive, 1:DECEASED...)",
        )
    typed = out.with_columns([_infer(out[c]) for c in others])
    return typed.with_columns(
        pl.col(f"{name}_time").cast(pl.Float64), pl.col(f"{name}_event").cast(pl.Int8)
    ), records


def _first_non_numeric(
    strings: pl.DataFrame, columns: Sequence[str], id_col: str, path: Path, *, label: str
) -> None:
    """Raise on the first cell of ``columns`` that is not a number (vectorised per column)."""
    for col in columns:
        parsed = strings[col].cast(pl.Float64, strict=False)
        bad = parsed.is_null() & strings[col].is_not_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            value = strings[col][row]
            problem, fix = not_a_number(value)
            if problem.endswith("is not a number"):
                problem = f"non-numeric value {value!r}"
            line = strings["_line"][row] if "_line" in strings.columns else None
            raise InputError(
                path,
                f"{problem} ({label} '{strings[id_col][row]}')",
                fix=fix,
                line=int(line) if line is not None else None,
                column=col,
            )


READ_BLOCK_BYTES = 32 * 2**20
"""Text bytes of a numeric matrix parsed per polars call (the matrix is read in blocks)."""


def _null_tokens(na_values: Sequence[str]) -> tuple[list[str], bool, bool]:
    """The missing tokens, whether all are safe to detect after a plain read, and NaN.

    A token is *safe* when a Float64 parse cannot take it for a number: a plain read
    (no ``null_values``) then either fails on it (``NA``) or reads it as NaN (``NaN``,
    ``nan``), which is turned into a missing value afterwards.
    """
    tokens = [t for t in na_values if t != ""]
    parsed = pl.Series(tokens, dtype=pl.String).cast(pl.Float64, strict=False)
    safe = bool((parsed.is_null() | parsed.is_nan()).all()) if tokens else True
    return tokens, safe, bool(parsed.is_nan().any())


def _inflated_blocks(path: Path, *, skip: int) -> Iterator[bytes]:
    """The data lines of a (gzipped) file in blocks of about :data:`READ_BLOCK_BYTES`.

    Every block ends with a line end and none but the first starts with a blank line
    (polars takes the number of fields from a block's first line).
    """
    from isal import igzip, isal_zlib  # noqa: PLC0415 (ISA-L: ~2x zlib's inflate speed)

    opener = igzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            for _ in range(skip + 1):
                fh.readline()
            rest = b""
            while True:
                data = fh.read(READ_BLOCK_BYTES)
                if not data:
                    break
                buf = rest + data
                cut = buf.rfind(b"\n", 0, len(buf) - 1)
                while cut >= 0 and buf[cut + 1 : cut + 2] in (b"\n", b"\r"):
                    cut = buf.rfind(b"\n", 0, cut)
                if cut < 0:
                    rest = buf
                    continue
                rest = buf[cut + 1 :]
                yield buf[: cut + 1]
            if rest:
                yield rest if rest.endswith(b"\n") else rest + b"\n"
    except (OSError, EOFError, zlib.error, isal_zlib.error):
        _text(path)  # raises the decompression error
        raise


def _blocks_of_lines(path: Path, *, skip: int) -> Iterator[bytes]:
    """:func:`_inflated_blocks`, inflated in a background thread while blocks are parsed.

    ISA-L inflate releases the GIL, so the next block is decompressed while polars parses
    this one: 1,000 x 60,000 counts are read in about 2.1 s instead of 2.6 s. At most
    two blocks wait in the queue. An error of the reader is raised here, in order; when
    the consumer stops early the thread is told to stop and the queue is drained.
    """
    blocks: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in _inflated_blocks(path, skip=skip):
                if stop.is_set():
                    return
                blocks.put((block, None))
            blocks.put((None, None))
        except BaseException as exc:  # handed to the consumer, raised there
            blocks.put((None, exc))

    worker = threading.Thread(target=produce, name="survomics-inflate", daemon=True)
    worker.start()
    try:
        while True:
            block, error = blocks.get()
            if error is not None:
                raise error
            if block is None:
                return
            yield block
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                blocks.get(timeout=0.05)
        worker.join()


def _short_row(block: bytes, frame: pl.DataFrame, sep: str) -> int | None:
    """Index of the first row of ``block`` with too few fields (polars pads them).

    Only rows whose last value is missing can be short; only their lines are counted.
    Blank lines are not short (they are dropped later).
    """
    last = frame.columns[-1]
    nulls = frame[last].is_null()
    if not nulls.any():
        return None
    ends = [-1]
    pos = block.find(b"\n")
    while pos >= 0:
        ends.append(pos)
        pos = block.find(b"\n", pos + 1)
    target = sep.encode()
    for row in nulls.arg_true().to_list():
        line = block[ends[row] + 1 : ends[row + 1]].rstrip(b"\r")
        if line and line.count(target) + 1 != frame.width:
            return int(row)
    return None


def _parse_block(
    block: bytes,
    *,
    sep: str,
    header: Sequence[str],
    schema: Mapping[str, pl.DataType],
    nulls: list[str] | None,
) -> pl.DataFrame | None:
    """One block of lines parsed with the explicit schema; None when polars refuses it."""
    try:
        return pl.read_csv(
            block,
            separator=sep,
            has_header=False,
            new_columns=list(header),
            schema=dict(schema),
            null_values=nulls,
            quote_char=None,
        )
    except (
        pl.exceptions.ComputeError,
        pl.exceptions.ShapeError,
        pl.exceptions.SchemaError,
        OSError,
    ):
        return None


def _read_numeric(
    spec: FileSpec, path: Path, header: Sequence[str], id_col: str, *, skip: int = 0
) -> pl.DataFrame:
    """Fast path: polars reads blocks of lines with an explicit schema; locate bad cells.

    The text is decompressed and parsed in blocks of about :data:`READ_BLOCK_BYTES`, so
    the memory is the Float64 matrix plus one block of text, never the whole text.
    Missing tokens that cannot be numbers (``NA``, ``NaN``...) are not given to the
    parser while no block has needed them (matching 14 tokens per cell costs a third of
    the read): a block that fails is parsed again with the tokens, and so are the
    blocks after it; NaN cells become missing. A sheet token that parses as a number
    (``-999``) is always given to the parser.

    Returns ``feature`` + samples + ``_line`` (the file line of every row; polars keeps
    a blank line as an all-null row, so row ``i`` is line ``skip + 2 + i``).
    """
    schema = {h: (pl.String if h == id_col else pl.Float64) for h in header}
    sep = _separator(spec)
    tokens, safe, nan_token = _null_tokens(spec.na_values)
    null_values: list[str] | None = None if safe else list(spec.na_values)
    parts: list[pl.DataFrame] = []
    start = skip + 2
    failed = False
    for block in _blocks_of_lines(path, skip=skip):
        frame = _parse_block(block, sep=sep, header=header, schema=schema, nulls=null_values)
        if frame is None and null_values is None:
            null_values = list(spec.na_values)  # this block and the blocks after need them
            frame = _parse_block(block, sep=sep, header=header, schema=schema, nulls=null_values)
        if frame is None or frame.height != block.count(b"\n"):
            failed = True
            break
        short = _short_row(block, frame, sep)
        if short is not None:
            fields = block.split(b"\n")[short].rstrip(b"\r").count(sep.encode()) + 1
            raise InputError(
                path,
                f"row has {fields} fields but the header has {len(header)}",
                fix="repair the row (missing or extra separators)",
                line=start + short,
            )
        # one chunk per column and block, `_line` chunked alike: polars copies a frame
        # whose columns are chunked differently at the next drop, filter or select
        frame = frame.rechunk()
        lines = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True)
        frame.insert_column(0, lines.alias("_line"))
        parts.append(frame)
        start += frame.height
        del block
    if not failed:
        empty = pl.DataFrame(schema={"_line": pl.Int64} | schema)
        frame = pl.concat(parts, rechunk=False) if parts else empty
        del parts
        if tokens:
            frame = frame.with_columns(
                pl.when(pl.col(id_col).is_in(tokens))
                .then(None)
                .otherwise(pl.col(id_col))
                .alias(id_col)
            )
        if nan_token:
            values = [h for h in header if h != id_col]
            has_nan = frame.select(pl.col(values).is_nan().any()).row(0) if values else ()
            nan_cols = [c for c, bad in zip(values, has_nan, strict=True) if bad]
            if nan_cols:
                frame = frame.with_columns(pl.col(nan_cols).fill_nan(None))
        return frame.select("_line", *header)
    strings = _strings(_split(spec, path, comments=True), spec.na_values)
    _first_non_numeric(strings, [h for h in header if h != id_col], id_col, path, label="feature")
    raise InputError(path, "cannot be read as a numeric matrix", fix="check the file's format")


def _header(spec: FileSpec, path: Path) -> tuple[list[str], int]:
    """The header of a matrix and the number of ``#`` lines before it."""
    if spec.format == "parquet":
        return list(pl.read_parquet_schema(path)), 0
    skipped = 0
    first = ""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            for raw in fh:
                first = raw.rstrip("\r\n")
                if not first.startswith("#"):
                    break
                skipped += 1
    except (OSError, EOFError, zlib.error):
        _text(path)  # raises the decompression error
        raise
    if not first.strip() or first.startswith("#"):
        _split(spec, path, comments=True)  # raises the empty-file error
    return [h.strip() for h in first.split(_separator(spec))], skipped


def _matrix(spec: FileSpec, path: Path) -> tuple[pl.DataFrame, str]:
    """The file as features x samples: ``feature``, Float64 samples, ``_line`` (Int64).

    ``_line`` is the file line of each feature (features_x_samples), 1 (the header) for
    samples_x_features, null for Parquet.
    """
    if spec.format not in formats.BUILTIN:
        raw = formats.read_matrix(spec)
        return raw.frame, "feature"
    if spec.format == "parquet":
        raw = pl.read_parquet(path)
        id_col = _id_column(spec, raw.columns, path)
        strings = raw.with_columns(pl.all().cast(pl.String)).with_row_index("_line", offset=2)
        strings = strings.with_columns(pl.col("_line").cast(pl.Int64))
        _first_non_numeric(
            strings, [c for c in raw.columns if c != id_col], id_col, path, label="feature"
        )
        frame = raw.with_columns(pl.col(id_col).cast(pl.String)).with_columns(
            pl.exclude(id_col).cast(pl.Float64)
        )
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("_line"))
    else:
        header, skip = _header(spec, path)
        _check_columns(header, _separator(spec), path, skip + 1)
        id_col = _id_column(spec, header, path, skip + 1)
        if spec.orientation == "samples_x_features":
            strings = _strings(_split(spec, path, comments=True), spec.na_values)
            _first_non_numeric(
                strings, [h for h in header if h != id_col], id_col, path, label="sample"
            )
            frame = strings.with_columns(pl.exclude(id_col, "_line").cast(pl.Float64))
        else:
            frame = _read_numeric(spec, path, header, id_col, skip=skip)
    frame = frame.with_columns(pl.col(id_col).str.strip_chars())
    if spec.orientation == "samples_x_features":
        dup = frame.filter(pl.col(id_col).is_duplicated() & pl.col(id_col).is_not_null())
        if dup.height:
            sid = dup[id_col][0]
            lines = dup.filter(pl.col(id_col) == sid)["_line"].to_list()
            raise InputError(
                path,
                f"sample id '{sid}' appears on lines {lines}",
                fix="keep one row per sample (remove or rename the duplicates)",
                line=lines[1],
                column=id_col,
            )
        samples = frame[id_col].to_list()
        features = [c for c in frame.columns if c not in {id_col, "_line"}]
        values = frame.select(features).to_numpy().T
        line = None if spec.format == "parquet" else skip + 1
        frame = pl.DataFrame(
            {"feature": features}
            | {s: values[:, i] for i, s in enumerate(samples)}
            | {"_line": [line] * len(features)},
            schema={"feature": pl.String}
            | dict.fromkeys(samples, pl.Float64)
            | {"_line": pl.Int64},
        )
        return frame, id_col
    return frame.rename({id_col: "feature"}) if id_col != "feature" else frame, id_col


def _symbol_hint(value: str) -> str:
    """The gene symbol a spreadsheet date most likely was (``1-Sep`` -> SEPT1/SEPTIN1)."""
    v = value.strip().lower()
    m = re.match(r"^(\d{1,2})-([a-z]{3})", v) or re.match(r"^([a-z]{3})-(\d{1,2})$", v)
    iso = re.match(r"^\d{4}-(\d{2})-(\d{2})$", v)
    if m is not None:
        a, b = m.groups()
        month, number = (b, int(a)) if a.isdigit() else (a, int(b))
    elif iso is not None and 1 <= int(iso[1]) <= len(_MONTHS):
        month, number = _MONTHS[int(iso[1]) - 1], int(iso[2])
    else:
        return "the symbol it was"
    renamed = {"sep": "SEPTIN", "mar": "MARCHF", "dec": "DELEC" if number == 1 else None}
    legacy = {"sep": "SEPT", "mar": "MARCH"}
    old = f"{legacy.get(month, month.upper())}{number}"
    new = renamed.get(month)
    return f"{old}, now {new}{number}" if new else old


def _check_excel_dates(frame: pl.DataFrame, path: Path) -> None:
    """Refuse feature ids that are dates a spreadsheet made of gene symbols (vectorised)."""
    bad = frame["feature"].str.contains(EXCEL_DATE).fill_null(value=False)
    if not bad.any():
        return
    row = int(bad.arg_true()[0])
    value = frame["feature"][row]
    line = frame["_line"][row]
    raise InputError(
        path,
        f"feature id '{value}' is a date: a spreadsheet converted a gene symbol",
        fix=f"restore the symbol ({_symbol_hint(value)}) from the original source, and import "
        "gene columns as text when a spreadsheet opens the file",
        line=int(line) if line is not None else None,
        column=value if line == 1 else None,
    )


def _aggregate(
    frame: pl.DataFrame, samples: Sequence[str], rule: str, spec: FileSpec
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Combine rows of repeated feature ids by ``rule``; only those rows are grouped."""
    dup = frame["feature"].is_duplicated()
    if not dup.any():
        return frame, []
    frame = frame.with_row_index("_pos")
    if rule == "first":
        values = [pl.col(s).first() for s in samples]
    elif rule == "sum":
        values = [pl.when(pl.col(s).count() > 0).then(pl.col(s).sum()).alias(s) for s in samples]
    else:
        values = [getattr(pl.col(s), rule)() for s in samples]
    grouped = (
        frame.filter(dup)
        .group_by("feature", maintain_order=True)
        .agg(pl.col("_pos").first(), pl.col("_line").alias("_lines"), *values)
    )
    records = [
        AuditRecord(
            spec.cohort,
            spec.modality,
            spec.path,
            lines[0],
            "feature",
            fid,
            "duplicate_feature_aggregated",
            f"{len(lines)} rows (lines {lines}) combined by `duplicates={rule}`",
        )
        for fid, lines in zip(grouped["feature"], grouped["_lines"], strict=True)
    ]
    grouped = grouped.with_columns(pl.col("_lines").list.first().alias("_line")).drop("_lines")
    merged = pl.concat([frame.filter(~dup), grouped.select(frame.columns)]).sort("_pos")
    return merged.drop("_pos"), records


_TRANSFORMS = {
    "log2p1": (lambda x: (x + 1.0).log(2), lambda x: x >= 0, "x >= 0"),
    "log2": (lambda x: x.log(2), lambda x: x > 0, "x > 0"),
    "log10p1": (lambda x: (x + 1.0).log(10), lambda x: x >= 0, "x >= 0"),
}


def load_omics(
    spec: FileSpec,
    *,
    patients: Sequence[str],
    excluded_patients: Mapping[str, str],
    tumour_types: Sequence[int] = (1, 2, 3, 4, 5, 6, 7, 8, 9),
) -> tuple[pl.DataFrame, list[AuditRecord]]:
    """Read one omics matrix as features x patients.

    Parameters
    ----------
    spec
        The matrix's row of the cohort sheet.
    patients
        The clinical table's included patients; output columns follow this order.
    excluded_patients
        Patients excluded from the clinical table, with their reason.
    tumour_types
        Eligible TCGA sample types in order of preference.

    Returns
    -------
    tuple
        ``feature`` + one Float64 column per kept patient, and the audit records.

    Raises
    ------
    InputError
        Unreadable file, non-numeric cell, duplicate feature ids, values outside the
        transform's domain, or no patient in common with the clinical table.
    """
    path = Path(spec.path)
    records: list[AuditRecord] = []
    if spec.format in formats.BUILTIN:
        frame, _ = _matrix(spec, path)
    else:
        raw = formats.read_matrix(spec)
        frame, records = raw.frame, list(raw.records)
        if raw.id_type is not None:
            spec = dataclasses.replace(spec, id_type=raw.id_type)
        del raw
    if "_line" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("_line"))
    samples = [c for c in frame.columns if c not in {"feature", "_line"}]
    # filters run only when they remove a row: a filter copies the whole matrix
    if samples and frame["feature"].null_count():
        blank = pl.col("feature").is_null() & pl.all_horizontal(pl.col(samples).is_null())
        frame = frame.filter(~blank)
    if frame.height == 0:
        raise InputError(
            path,
            "the file has a header but no feature rows",
            fix="check that the file was exported completely",
        )
    # masks first: filtering a frame whose columns are chunked differently (the
    # block reader) rechunks, i.e. copies, the whole matrix even to keep no row
    no_id = (frame["feature"].is_null() | (frame["feature"] == "")).fill_null(value=True)
    empty = frame.filter(no_id) if no_id.any() else frame.select("_line").clear()
    records += [
        AuditRecord(
            spec.cohort,
            spec.modality,
            spec.path,
            None if line is None else int(line),
            "row",
            "",
            "missing_feature_id",
            "the row has no feature id",
        )
        for line in empty["_line"]
    ]
    if empty.height:
        frame = frame.filter(pl.col("feature").is_not_null() & (pl.col("feature") != ""))
    _check_excel_dates(frame, path)
    rule = spec.option("duplicates", "error") or "error"
    if rule not in DUPLICATE_RULES:
        raise InputError(
            path,
            f"unknown `duplicates` rule {rule!r}",
            fix="set `duplicates=` in the sheet's options column to one of "
            f"{list(DUPLICATE_RULES)}",
        )
    repeated = frame["feature"].is_duplicated()
    dup = frame.filter(repeated) if repeated.any() else frame.clear()
    if dup.height and rule == "error":
        fid = dup["feature"][0]
        lines = dup.filter(pl.col("feature") == fid)["_line"].to_list()
        raise InputError(
            path,
            f"feature id '{fid}' appears on lines {lines}",
            fix="make feature ids unique, or combine them with `duplicates=sum` (or mean, max, "
            "first) in the sheet's options column",
            line=None if lines[1] is None else int(lines[1]),
            column="feature",
        )
    counts = frame.select(pl.col(samples).null_count()).row(0, named=True) if samples else {}
    empty_samples = [s for s in samples if counts[s] == frame.height]
    if empty_samples and len(empty_samples) == len(samples):
        raise InputError(
            path,
            f"the matrix has no value: all {frame.height} rows x {len(samples)} samples are "
            "missing",
            fix="check the file (missing tokens, `na_values` in the sheet) and its format",
        )
    records += [
        AuditRecord(
            spec.cohort,
            spec.modality,
            spec.path,
            None,
            "sample",
            s,
            "all_values_missing",
            f"every one of the {frame.height} values is missing",
        )
        for s in empty_samples
    ]
    samples = [s for s in samples if s not in set(empty_samples)]
    selection = select_samples(
        samples, id_type=spec.id_type, tumour_types=tumour_types, path=spec.path
    )
    records += [
        AuditRecord(
            spec.cohort, spec.modality, spec.path, None, "sample", sample, "id_normalised", detail
        )
        for sample, detail in selection.normalised
    ]
    for sample, _patient, reason, detail in selection.excluded:
        records.append(
            AuditRecord(
                spec.cohort, spec.modality, spec.path, None, "sample", sample, reason, detail
            )
        )
    wanted = set(patients)
    for patient, sample in sorted(selection.chosen.items()):
        if patient in wanted:
            continue
        if patient in excluded_patients:
            reason, detail = (
                "patient_excluded",
                f"patient {patient} was excluded from the clinical table: "
                f"{excluded_patients[patient]}",
            )
        else:
            reason, detail = "patient_not_in_clinical", f"patient {patient} has no clinical row"
        records.append(
            AuditRecord(
                spec.cohort, spec.modality, spec.path, None, "sample", sample, reason, detail
            )
        )
    kept = [(p, selection.chosen[p]) for p in patients if p in selection.chosen]
    if not kept:
        raise InputError(
            path,
            "no sample matches a patient of the clinical table",
            fix="check `id_type` in the cohort sheet and that the ids name the same patients",
            line=1,
        )
    out = frame.select(
        pl.col("feature"), pl.col("_line"), *[pl.col(s).cast(pl.Float64).alias(p) for p, s in kept]
    )
    del frame  # `out` holds the only reference to the values (normalize.apply consumes it)
    _check_infinite(out, kept, path)
    out, aggregated = _aggregate(out, [p for p, _ in kept], rule, spec)
    records += aggregated
    out_lines = out["_line"]
    out = out.drop("_line")
    if spec.transform in normalize.TRANSFORMS:
        out = normalize.apply(out, transform=spec.transform, path=spec.path, consume=True)
    elif spec.transform != "none":
        func, valid, domain = _TRANSFORMS[spec.transform]
        cols = [p for p, _ in kept]
        bad = out.select(
            pl.any_horizontal([(~valid(pl.col(c))).fill_null(value=False) for c in cols])
        ).to_series()
        if bad.any():
            row = int(bad.arg_true()[0])
            vals = out.row(row, named=True)
            col = next(c for c in cols if vals[c] is not None and not _ok(vals[c], domain))
            raise InputError(
                path,
                f"value {vals[col]} of feature '{vals['feature']}' is outside the domain "
                f"of transform {spec.transform} ({domain})",
                fix="use `transform: none` for this file, or check the data",
                line=None if out_lines[row] is None else int(out_lines[row]),
                column=dict(kept)[col],
            )
        out = out.with_columns([func(pl.col(c)) for c in cols])
    return out, records


def _check_infinite(out: pl.DataFrame, kept: Sequence[tuple[str, str]], path: Path) -> None:
    """Refuse infinite values in the kept samples (one vectorised pass)."""
    cols = [p for p, _ in kept]
    # one reduction per column (no row-wise temporaries); the row only when one is found
    if not any(out.select(pl.col(cols).is_infinite().any()).row(0)):
        return
    bad = out.select(pl.any_horizontal([pl.col(c).is_infinite() for c in cols])).to_series()
    row = int(bad.fill_null(value=False).arg_true()[0])
    vals = out.row(row, named=True)
    col = next(c for c in cols if vals[c] is not None and abs(vals[c]) == float("inf"))
    raise InputError(
        path,
        f"infinite value {vals[col]} (feature '{vals['feature']}')",
        fix="replace it by NA (an infinite value usually comes from a log of 0 upstream) or "
        "provide the untransformed values with a `transform` in the sheet",
        line=None if vals["_line"] is None else int(vals["_line"]),
        column=dict(kept)[col],
    )


def _ok(value: float, domain: str) -> bool:
    return bool(value >= 0) if domain == "x >= 0" else bool(value > 0)


__all__ = ["load_clinical", "load_omics", "read_strings"]
