"""Subject splits never let a test subject into training or validation."""

from __future__ import annotations

import pytest

from harlite.train.splits import (
    UCI_TEST_SUBJECTS,
    UCI_TRAIN_SUBJECTS,
    parse_subjects,
    standard_split,
    subject_folds,
    validation_split,
)

ALL = range(1, 31)


def test_standard_split():
    train, test = standard_split(ALL)
    assert test == [2, 4, 9, 10, 12, 13, 18, 20, 24]
    assert train == list(UCI_TRAIN_SUBJECTS) and len(train) == 21


def test_validation_split_is_seeded_and_excludes_test_subjects():
    train, val = validation_split(ALL, n_val=4, seed=7)
    assert (train, val) == validation_split(ALL, n_val=4, seed=7)
    assert validation_split(ALL, n_val=4, seed=8) != (train, val)
    assert len(val) == 4 and not set(val) & set(train)
    assert not (set(train) | set(val)) & set(UCI_TEST_SUBJECTS)
    assert sorted(train + val) == list(UCI_TRAIN_SUBJECTS)


def test_leave_subjects_out_folds_cover_every_subject_once():
    folds = subject_folds(ALL, k=5, seed=0)
    held = [s for _, val in folds for s in val]
    assert sorted(held) == list(UCI_TRAIN_SUBJECTS)
    assert {len(val) for _, val in folds} <= {4, 5}
    for train, val in folds:
        assert not set(train) & set(val)
        assert sorted(train + val) == list(UCI_TRAIN_SUBJECTS)
    with pytest.raises(ValueError):
        subject_folds(ALL, k=1)


def test_parse_subjects():
    assert parse_subjects("27, 28,29-30") == [27, 28, 29, 30]
    for bad in ("", "a", "5-3", "0"):
        with pytest.raises(ValueError):
            parse_subjects(bad)
