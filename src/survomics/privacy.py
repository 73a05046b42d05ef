"""Pseudonymisation of patient ids in the outputs meant for sharing.

With ``privacy.pseudonymize: true`` every patient id in the report and in the tables under
``results/{cohort}/shareable/`` is replaced by a keyed hash:
``P-`` + the first 16 hex digits (64 bits) of HMAC-SHA256(key, id). Decisions:

* **Keyed, not plain, hashing.** A plain SHA-256 of a TCGA barcode can be reversed by
  hashing every possible barcode; an HMAC cannot without the key. The same key gives the
  same pseudonym in every cohort and every run, so shared tables can still be joined, and
  the key holder can re-identify a patient by hashing the candidate ids.
* **The key file** (``privacy.key_file``) must exist and lie outside ``results/`` (results
  are shared; the key must not be). It is never created silently: a missing key is an
  :class:`~survomics.errors.InputError` whose fix gives the command creating one. Its
  content (stripped of surrounding whitespace) is the key; at least 32 characters.
* **Ids inside other ids and inside text.** Sample barcodes start with the patient id and
  audit details name kept samples, so every string cell (and free text) is rewritten by
  replacing each occurrence of any known raw id, longest first (a sample barcode of a
  patient not in the clinical table is replaced whole). Matching is case-sensitive, as
  ids are written by the workflow.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from survomics.errors import InputError

__all__ = ["MIN_KEY_CHARS", "Pseudonymizer", "load_key"]

MIN_KEY_CHARS = 32
"""Shortest accepted key (32 hex digits = 128 bits)."""

KEY_COMMAND = (
    "python3 -c 'import secrets; print(secrets.token_hex(32))' > {path} && chmod 600 {path}"
)


def load_key(path: str | Path, *, results_dir: str | Path = "results") -> bytes:
    """Read the pseudonymisation key.

    Parameters
    ----------
    path
        The key file (``privacy.key_file``).
    results_dir
        The results directory the key must not be inside.

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    InputError
        If the file is missing, inside ``results_dir``, or holds fewer than
        :data:`MIN_KEY_CHARS` characters.
    """
    key_path = Path(path)
    results = Path(results_dir).resolve()
    if key_path.resolve().is_relative_to(results):
        raise InputError(
            key_path,
            "the pseudonymisation key is inside the results directory, which is shared",
            fix="move it outside results/ (e.g. config/privacy.key, not under version control) "
            "and set privacy.key_file",
        )
    if not key_path.is_file():
        raise InputError(
            key_path,
            "privacy.pseudonymize is true but the key file does not exist",
            fix="create a secret key once and keep it safe (the same key gives the same "
            "pseudonyms): " + KEY_COMMAND.format(path=key_path),
        )
    key = key_path.read_bytes().strip()
    if len(key) < MIN_KEY_CHARS:
        raise InputError(
            key_path,
            f"the key has {len(key)} characters, fewer than {MIN_KEY_CHARS}",
            fix="write a longer random key: " + KEY_COMMAND.format(path=key_path),
        )
    return key


@dataclass(slots=True)
class Pseudonymizer:
    """Replaces known raw patient/sample ids by keyed pseudonyms (or passes text through).

    Parameters
    ----------
    key
        The HMAC key; ``None`` disables pseudonymisation (every method is the identity).
    """

    key: bytes | None
    _ids: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """Whether ids are replaced."""
        return self.key is not None

    def pseudonym(self, raw: str) -> str:
        """The pseudonym of one id: ``P-`` + 16 hex digits of HMAC-SHA256(key, id)."""
        if self.key is None:
            return raw
        digest = hmac.new(self.key, raw.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"P-{digest[:16]}"

    def register(self, ids: Iterable[object]) -> None:
        """Add raw ids (patients, samples) to replace wherever they occur."""
        if self.key is None:
            return
        for value in ids:
            if value is None:
                continue
            text = str(value)
            if text and text not in self._ids:
                self._ids[text] = self.pseudonym(text)

    @property
    def known(self) -> Mapping[str, str]:
        """Raw id -> pseudonym of every registered id."""
        return dict(self._ids)

    def _patterns(self) -> tuple[list[str], list[str]]:
        raw = sorted(self._ids, key=lambda s: (-len(s), s))
        return raw, [self._ids[r] for r in raw]

    def text(self, value: str) -> str:
        """Replace every registered id occurring in ``value`` (longest first)."""
        if self.key is None or not self._ids:
            return value
        raw, new = self._patterns()
        return pl.Series([value]).str.replace_many(raw, new, leftmost=True).item()

    def frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Replace registered ids in every string cell (and column name) of ``frame``."""
        if self.key is None or not self._ids:
            return frame
        raw, new = self._patterns()
        out = frame.with_columns(
            pl.col(c).str.replace_many(raw, new, leftmost=True)
            for c, t in frame.schema.items()
            if t == pl.String
        )
        return out.rename({c: self.text(c) for c in out.columns if self.text(c) != c})


def write_shareable(
    *,
    privacy: Mapping[str, object],
    tables: Mapping[str, str | Path],
    out: Mapping[str, str | Path],
) -> None:
    """Rule ``shareable``: copies of a cohort's per-patient tables meant for sharing.

    Each input table (TSV, or Parquet for the clinical table) is written as TSV to the
    output of the same name; with ``privacy.pseudonymize`` every patient and sample id in
    every string cell and column name is replaced by its pseudonym. Ids are registered
    from the ``patient_id`` column of every table and the row/sample/patient ids of a
    table named ``audit``.

    Parameters
    ----------
    privacy
        The ``privacy:`` settings (``pseudonymize``, ``key_file``).
    tables
        Name -> input table.
    out
        Name -> output TSV (same names as ``tables``).
    """
    from survomics.io import write_tsv  # noqa: PLC0415

    key = load_key(str(privacy["key_file"])) if privacy.get("pseudonymize") else None
    ps = Pseudonymizer(key)
    frames: dict[str, pl.DataFrame] = {}
    for name, path in tables.items():
        if str(path).endswith(".parquet"):
            frames[name] = pl.read_parquet(path)
        else:
            frames[name] = pl.read_csv(path, separator="\t", infer_schema=False)
    for name, frame in frames.items():
        if "patient_id" in frame.columns:
            ps.register(frame["patient_id"].cast(pl.String).to_list())
        if name == "audit" and {"level", "id"} <= set(frame.columns):
            ps.register(
                frame.filter(pl.col("level").is_in(["row", "patient", "sample"]))["id"].to_list()
            )
    for name, frame in frames.items():
        write_tsv(ps.frame(frame), out[name])
