"""survomics.privacy: keyed pseudonyms, the key file rules, and the shareable tables."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import polars as pl
import pytest

from survomics.errors import InputError
from survomics.privacy import Pseudonymizer, load_key, write_shareable

KEY = b"0123456789abcdef0123456789abcdef"


def test_pseudonym_is_the_keyed_hmac() -> None:
    ps = Pseudonymizer(KEY)
    expected = hmac.new(KEY, b"TCGA-OR-A5J1", hashlib.sha256).hexdigest()[:16]
    assert ps.pseudonym("TCGA-OR-A5J1") == f"P-{expected}"
    assert Pseudonymizer(KEY[::-1]).pseudonym("TCGA-OR-A5J1") != ps.pseudonym("TCGA-OR-A5J1")
    assert Pseudonymizer(None).pseudonym("TCGA-OR-A5J1") == "TCGA-OR-A5J1"


def test_ids_are_replaced_inside_barcodes_and_text() -> None:
    ps = Pseudonymizer(KEY)
    ps.register(["TCGA-OR-A5J1", "TCGA-OR-A5J10", "TCGA-XX-ORPH-01A"])
    frame = pl.DataFrame(
        {
            "id": ["TCGA-OR-A5J1-01A-11R", "TCGA-OR-A5J10", "TCGA-XX-ORPH-01A", "GENE1"],
            "detail": ["kept TCGA-OR-A5J1-01B", "", "no patient", "TCGA-OR-A5J1;x"],
            "value": [1, 2, 3, 4],
        }
    )
    out = ps.frame(frame)
    text = out.write_csv()
    for raw in ("TCGA-OR-A5J1", "TCGA-OR-A5J10", "TCGA-XX-ORPH"):
        assert raw not in text
    # the longest id wins: A5J10 is not A5J1 followed by "0"
    assert out["id"][1] == ps.pseudonym("TCGA-OR-A5J10")
    assert out["id"][0] == ps.pseudonym("TCGA-OR-A5J1") + "-01A-11R"
    assert out["id"][3] == "GENE1"
    assert out["value"].to_list() == [1, 2, 3, 4]
    assert ps.text("patient TCGA-OR-A5J1.") == f"patient {ps.pseudonym('TCGA-OR-A5J1')}."


def test_disabled_pseudonymizer_is_the_identity() -> None:
    ps = Pseudonymizer(None)
    ps.register(["A"])
    frame = pl.DataFrame({"id": ["A"]})
    assert ps.frame(frame).equals(frame)
    assert ps.text("A") == "A"
    assert not ps.enabled


def test_missing_key_error_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"does not exist.*secrets\.token_hex"):
        load_key(tmp_path / "privacy.key", results_dir=tmp_path / "results")


def test_key_inside_results_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "results" / "privacy.key"
    key.parent.mkdir()
    key.write_bytes(KEY)
    with pytest.raises(InputError, match="inside the results directory"):
        load_key(key, results_dir=tmp_path / "results")


def test_short_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "privacy.key"
    key.write_text("short\n")
    with pytest.raises(InputError, match="fewer than 32"):
        load_key(key, results_dir=tmp_path / "results")
    key.write_text(KEY.decode() + "\n")
    assert load_key(key, results_dir=tmp_path / "results") == KEY


def test_shareable_tables_hold_no_raw_id(tmp_path: Path) -> None:
    key = tmp_path / "privacy.key"
    key.write_bytes(KEY)
    clinical = pl.DataFrame({"patient_id": ["TCGA-AB-0001", "TCGA-AB-0002"], "age": [50, 60]})
    clinical.write_parquet(tmp_path / "clinical.parquet")
    audit = pl.DataFrame(
        {
            "modality": ["clinical", "rna"],
            "level": ["patient", "sample"],
            "id": ["TCGA-AB-0003", "TCGA-AB-0001-01B"],
            "detail": ["no time", "kept TCGA-AB-0001-01A"],
        }
    )
    audit.write_csv(tmp_path / "audit.tsv", separator="\t")
    outs = {"clinical": tmp_path / "s" / "clinical.tsv", "audit": tmp_path / "s" / "audit.tsv"}
    write_shareable(
        privacy={"pseudonymize": True, "key_file": str(key)},
        tables={"clinical": tmp_path / "clinical.parquet", "audit": tmp_path / "audit.tsv"},
        out=outs,
    )
    text = "".join(p.read_text() for p in outs.values())
    for raw in ("TCGA-AB-0001", "TCGA-AB-0002", "TCGA-AB-0003"):
        assert raw not in text
    ps = Pseudonymizer(KEY)
    shared = pl.read_csv(outs["clinical"], separator="\t")
    assert shared["patient_id"].to_list() == [
        ps.pseudonym("TCGA-AB-0001"),
        ps.pseudonym("TCGA-AB-0002"),
    ]
    assert shared["age"].to_list() == [50, 60]
    write_shareable(
        privacy={"pseudonymize": False, "key_file": str(key)},
        tables={"clinical": tmp_path / "clinical.parquet"},
        out={"clinical": outs["clinical"]},
    )
    assert pl.read_csv(outs["clinical"], separator="\t")["patient_id"].to_list() == [
        "TCGA-AB-0001",
        "TCGA-AB-0002",
    ]
