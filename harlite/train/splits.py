"""Subject-wise splits: the standard UCI HAR test split, validation splits and k-fold."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: The 9 test subjects of the standard UCI HAR split. Never train or tune on them.
UCI_TEST_SUBJECTS: tuple[int, ...] = (2, 4, 9, 10, 12, 13, 18, 20, 24)
#: The 21 training subjects of the standard UCI HAR split.
UCI_TRAIN_SUBJECTS: tuple[int, ...] = tuple(s for s in range(1, 31) if s not in UCI_TEST_SUBJECTS)


def standard_split(subjects: Iterable[int]) -> tuple[list[int], list[int]]:
    """Split ``subjects`` into (train, test) by the standard UCI HAR split."""
    subjects = sorted(set(int(s) for s in subjects))
    test = [s for s in subjects if s in UCI_TEST_SUBJECTS]
    return [s for s in subjects if s not in UCI_TEST_SUBJECTS], test


def validation_split(
    subjects: Iterable[int], n_val: int = 4, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Hold out ``n_val`` subjects, drawn with ``seed``, from the standard training subjects.

    Test subjects are removed first, so they can never become training or validation data.
    Returns (train, validation), each sorted.
    """
    train, _ = standard_split(subjects)
    if not 0 < n_val < len(train):
        raise ValueError(f"n_val must be between 1 and {len(train) - 1}, not {n_val}")
    rng = np.random.default_rng(seed)
    val = sorted(int(s) for s in rng.choice(train, size=n_val, replace=False))
    return [s for s in train if s not in val], val


def subject_folds(
    subjects: Iterable[int],
    k: int = 5,
    seed: int = 0,
    test_subjects: Iterable[int] = UCI_TEST_SUBJECTS,
) -> list[tuple[list[int], list[int]]]:
    """Leave-subjects-out k-fold over the training subjects (``subjects`` but the data set's
    ``test_subjects``: the standard UCI HAR ones unless told).

    Every training subject is held out in exactly one fold; folds differ in size by at most
    one subject. Returns a list of (train, held-out) pairs.
    """
    reserved = set(int(s) for s in test_subjects)
    train = sorted({int(s) for s in subjects} - reserved)
    if not 2 <= k <= len(train):
        raise ValueError(f"k must be between 2 and {len(train)}, not {k}")
    order = np.random.default_rng(seed).permutation(train)
    folds = []
    for held in np.array_split(order, k):
        held_out = sorted(int(s) for s in held)
        folds.append(([s for s in train if s not in held_out], held_out))
    return folds


def parse_subjects(text: str) -> list[int]:
    """Parse a subject list such as ``"27,28,29-30"``."""
    subjects: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"not a subject id or range: {part!r}") from None
        if first > last or first < 1:
            raise ValueError(f"bad subject range: {part!r}")
        subjects.update(range(first, last + 1))
    if not subjects:
        raise ValueError("empty subject list")
    return sorted(subjects)
