"""Outer and inner cross-validation splits, derived from a seed and nothing else.

Layout
------
:func:`outer_splits` returns a **long** table with one row per (repeat, fold, patient):
``repeat`` and ``fold`` (0-based Int32), ``patient_id`` and ``role`` (``"train"`` or
``"test"``). Every patient is ``"test"`` in exactly one fold of each repeat and
``"train"`` in the others, so ``filter(repeat == r, fold == k)`` gives one outer split
directly and the table can be written as it is (``splits.tsv``). :func:`fold_patients`
extracts the two id lists of one split.

Determinism
-----------
Splits are scikit-learn's ``RepeatedStratifiedKFold`` (shuffled stratified K-fold,
stratified on the event indicator, so every fold has about the same event rate),
seeded with ``seed``. Its random stream is NumPy's legacy ``RandomState`` (Mersenne
Twister), which NumPy keeps bit-for-bit stable across platforms and versions. The
patients are sorted by id before splitting, so the assignment depends only on the set of
``(patient_id, event)`` pairs and the seed -- not on the row order of the clinical table
or on anything else (no clock, no global random state). The test suite pins a digest
of one assignment so that a change of the algorithm upstream is noticed.

Inner cross-validation
----------------------
:func:`inner_cv` gives the folds used *inside* a training set (tuning the Coxnet
penalty, out-of-fold scores for late fusion): a stratified K-fold of the training
patients only, seeded from the outer seed, so nothing of the outer test fold is ever
seen while tuning.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

__all__ = ["SPLIT_SCHEMA", "fold_patients", "inner_cv", "outer_splits"]

SPLIT_SCHEMA: dict[str, type[pl.DataType]] = {
    "repeat": pl.Int32,
    "fold": pl.Int32,
    "patient_id": pl.String,
    "role": pl.String,
}
"""Columns and types of :func:`outer_splits`."""


def _event_codes(event: np.ndarray, n: int) -> np.ndarray:
    """Validate a 0/1 event vector of length ``n``."""
    e = np.asarray(event)
    if e.shape != (n,):
        msg = f"event has shape {e.shape}, expected ({n},) (one per patient)"
        raise ValueError(msg)
    try:
        e_float = e.astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = "event must be 0/1 (or boolean)"
        raise ValueError(msg) from exc
    if not np.isin(e_float, (0.0, 1.0)).all():
        msg = "event must be 0/1 (or boolean) without missing values"
        raise ValueError(msg)
    return e_float.astype(np.int8)


def _check_folds(codes: np.ndarray, folds: int, what: str) -> None:
    """Every fold must get at least one event and one censored patient."""
    if folds < 2:
        msg = f"{what} needs at least 2 folds, got {folds}"
        raise ValueError(msg)
    n_events = int(codes.sum())
    n_censored = int(codes.size - n_events)
    if min(n_events, n_censored) < folds:
        msg = (
            f"{what}: {folds} folds need at least {folds} events and {folds} censored "
            f"patients, got {n_events} events and {n_censored} censored"
        )
        raise ValueError(msg)


def outer_splits(
    event: np.ndarray,
    patient_ids: Sequence[str],
    *,
    folds: int = 5,
    repeats: int = 5,
    seed: int,
) -> pl.DataFrame:
    """Repeated stratified K-fold assignment of patients to outer folds.

    Parameters
    ----------
    event
        ``(n,)`` event indicator (0/1) of each patient, in the order of ``patient_ids``.
    patient_ids
        Unique patient ids.
    folds
        Number of folds K per repeat.
    repeats
        Number of repeats (independent shuffles).
    seed
        Seed of the assignment; the only source of randomness.

    Returns
    -------
    polars.DataFrame
        Columns :data:`SPLIT_SCHEMA` (``repeat``, ``fold``, ``patient_id``, ``role``),
        ``repeats * folds * n`` rows sorted by repeat, fold, role (test first) and
        patient id.

    Raises
    ------
    ValueError
        On duplicate ids, events other than 0/1, or fewer events (or censored patients)
        than folds.
    """
    ids = [str(p) for p in patient_ids]
    if len(set(ids)) != len(ids):
        msg = "patient_ids has duplicates"
        raise ValueError(msg)
    if repeats < 1:
        msg = f"repeats must be at least 1, got {repeats}"
        raise ValueError(msg)
    codes = _event_codes(event, len(ids))
    _check_folds(codes, folds, "outer_splits")

    order = sorted(range(len(ids)), key=ids.__getitem__)
    sorted_ids = np.array([ids[i] for i in order], dtype=object)
    sorted_codes = codes[order]
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    parts: list[pl.DataFrame] = []
    dummy = np.zeros((len(ids), 1))
    for index, (train, test) in enumerate(splitter.split(dummy, sorted_codes)):
        repeat, fold = divmod(index, folds)
        n_test, n_train = test.size, train.size
        parts.append(
            pl.DataFrame(
                {
                    "repeat": [repeat] * (n_test + n_train),
                    "fold": [fold] * (n_test + n_train),
                    "patient_id": [*sorted_ids[test].tolist(), *sorted_ids[train].tolist()],
                    "role": ["test"] * n_test + ["train"] * n_train,
                },
                schema=SPLIT_SCHEMA,
            )
        )
    return pl.concat(parts).sort(
        "repeat", "fold", pl.col("role") != "test", "patient_id", maintain_order=True
    )


def fold_patients(splits: pl.DataFrame, *, repeat: int, fold: int) -> tuple[list[str], list[str]]:
    """Training and test patient ids of one outer split.

    Parameters
    ----------
    splits
        Table of :func:`outer_splits`.
    repeat, fold
        Which split.

    Returns
    -------
    tuple of list of str
        ``(train_ids, test_ids)``, each sorted.

    Raises
    ------
    ValueError
        If the split is not in the table.
    """
    part = splits.filter((pl.col("repeat") == repeat) & (pl.col("fold") == fold))
    if part.height == 0:
        msg = f"no split repeat={repeat}, fold={fold} in the table"
        raise ValueError(msg)
    train = sorted(part.filter(pl.col("role") == "train")["patient_id"].to_list())
    test = sorted(part.filter(pl.col("role") == "test")["patient_id"].to_list())
    return train, test


def inner_cv(
    event: np.ndarray, *, folds: int = 3, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold inside a training set (for tuning and stacking).

    Parameters
    ----------
    event
        ``(n,)`` event indicator (0/1) of the training patients, in the order of the
        training matrix.
    folds
        Requested number of inner folds; lowered to the number of events (or censored
        patients) when there are fewer, but never below 2.
    seed
        Seed of the shuffle.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(inner_train, inner_test)`` row indices into the training set, one pair per
        fold.

    Raises
    ------
    ValueError
        If fewer than two events or two censored patients are available.
    """
    codes = _event_codes(event, np.asarray(event).shape[0])
    k = int(min(folds, codes.sum(), codes.size - codes.sum()))
    _check_folds(codes, max(k, 2), "inner_cv")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in splitter.split(np.zeros((codes.size, 1)), codes)]
