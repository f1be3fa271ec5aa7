"""The device's placement rule: once the stream knows where the phone is (from walking, or
standing at the waist), still postures follow from the tilt of the body segment it rides on:
a pocket phone's flat thigh is SITTING, a waist phone's flat torso LAYING."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.signal.placement import (
    POCKET_SWING_RAD_S,
    STRETCH_WINDOWS,
    PlacementRule,
    placement_of,
    window_gravity,
    window_swing,
)
from harlite.runtime.spec import ACTIVITY_LABELS

pytestmark = pytest.mark.runtime

WALKING, SITTING, STANDING, LAYING = (
    ACTIVITY_LABELS.index(n) for n in ("WALKING", "SITTING", "STANDING", "LAYING")
)
POCKET_UPRIGHT = np.array([0.1, -0.98, 0.1])  # thigh vertical: gravity along -y
WAIST_UPRIGHT = np.array([0.97, 0.1, 0.1])  # HAPT's holder: gravity along +x
FLAT = np.array([0.05, 0.1, -0.99])  # thigh (or back) horizontal: along z
THIGH_SWING = 1.5  # rad/s: a pocket phone while walking (every training window ≥ 0.86)


def answers(label: int, n: int) -> np.ndarray:
    p = np.full((n, len(ACTIVITY_LABELS)), 0.02, np.float32)
    p[:, label] = 0.7
    p[:, LAYING if label != LAYING else SITTING] += 0.2
    return p / p.sum(axis=1, keepdims=True)


def run(rule: PlacementRule, label: int, gravity: np.ndarray, n: int, swing=THIGH_SWING):
    return rule.apply(answers(label, n), np.tile(gravity, (n, 1)), np.full(n, swing))


def still(gravity: np.ndarray, n: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The gravity and swing arguments of ``n`` still windows."""
    return np.tile(gravity, (n, 1)), np.zeros(n)


def test_gravity_names_the_placement_of_an_upright_phone():
    swing = THIGH_SWING
    assert placement_of(POCKET_UPRIGHT, swing) == placement_of(-POCKET_UPRIGHT, swing) == "pocket"
    assert placement_of(WAIST_UPRIGHT, swing) == placement_of(WAIST_UPRIGHT, 0.1) == "waist"
    assert placement_of(np.array([0.0, 0.7, 0.7]), swing) is None  # a hand, tilted
    assert placement_of(np.zeros(3), swing) is None
    assert placement_of(np.full(3, np.nan), swing) is None


def test_gravity_along_y_names_a_pocket_only_when_the_phone_swings_as_a_thigh_does():
    """A waist phone on a person shifting while lying on their side: gravity along y, some
    motion (a model may call it walking), but the phone barely turns."""
    assert placement_of(POCKET_UPRIGHT, POCKET_SWING_RAD_S) == "pocket"
    assert placement_of(POCKET_UPRIGHT, POCKET_SWING_RAD_S * 0.9) is None
    rule = PlacementRule(ACTIVITY_LABELS)
    run(rule, WALKING, WAIST_UPRIGHT, STRETCH_WINDOWS)
    run(rule, WALKING, POCKET_UPRIGHT, 2 * STRETCH_WINDOWS, swing=0.4)  # shifting, lying
    assert rule.placement == "waist"
    out, _ = rule.apply(answers(LAYING, 2), *still(FLAT, 2))
    assert (out.argmax(axis=1) == LAYING).all()


def test_after_walking_with_a_pocket_phone_lying_is_answered_sitting():
    rule = PlacementRule(ACTIVITY_LABELS)
    _, before = run(rule, LAYING, FLAT, 2)
    assert before == [None, None]  # nothing known yet: the model's answer stands
    _, known = run(rule, WALKING, POCKET_UPRIGHT, STRETCH_WINDOWS)
    assert known[-1] == "pocket" and known[0] is None
    out, _ = run(rule, LAYING, FLAT, 5)
    assert (out.argmax(axis=1) == SITTING).all()
    assert np.allclose(out[:, LAYING], 0) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_a_waist_phone_keeps_laying():
    rule = PlacementRule(ACTIVITY_LABELS)
    run(rule, WALKING, WAIST_UPRIGHT, 10)
    out, known = run(rule, LAYING, FLAT, 5)
    assert (out.argmax(axis=1) == LAYING).all() and known == ["waist"] * 5


def test_a_waist_phone_on_a_person_lying_on_their_side_is_laying_not_standing():
    """Gravity along y, still: a pocket phone on a standing thigh looks the same; standing at
    the waist first (gravity along x) names the placement."""
    rule = PlacementRule(ACTIVITY_LABELS)
    _, known = run(rule, STANDING, WAIST_UPRIGHT, STRETCH_WINDOWS)
    assert known[-1] == "waist"
    out, _ = run(rule, STANDING, POCKET_UPRIGHT, 4)  # the model's answer: STANDING
    assert (out.argmax(axis=1) == LAYING).all()
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-5)
    seated = answers(SITTING, 1)
    out, _ = rule.apply(seated, *still(WAIST_UPRIGHT))  # upright torso: the model's own split
    np.testing.assert_allclose(out[0, [SITTING, STANDING]].sum(), seated[0, [3, 4, 5]].sum())
    assert out[0, LAYING] == 0 and out.argmax() == SITTING


def test_a_pocket_phone_on_a_standing_thigh_is_standing_whatever_the_model_says():
    rule = PlacementRule(ACTIVITY_LABELS, "pocket")
    out, _ = run(rule, SITTING, POCKET_UPRIGHT, 3)
    assert (out.argmax(axis=1) == STANDING).all()
    standing_on_y = PlacementRule(ACTIVITY_LABELS)
    run(standing_on_y, STANDING, POCKET_UPRIGHT, 10)  # no evidence: could be lying on a side
    assert standing_on_y.placement is None


def test_a_short_stretch_or_a_hint_decides_as_documented():
    rule = PlacementRule(ACTIVITY_LABELS)
    run(rule, WALKING, WAIST_UPRIGHT, 10)
    run(rule, WALKING, POCKET_UPRIGHT, STRETCH_WINDOWS - 1)  # too short to change it
    assert rule.placement == "waist"
    run(rule, WALKING, POCKET_UPRIGHT, 1)
    assert rule.placement == "pocket"
    rule.reset()
    assert rule.placement is None
    given = PlacementRule(ACTIVITY_LABELS, "pocket")
    out, _ = run(given, LAYING, FLAT, 3)
    assert (out.argmax(axis=1) == SITTING).all()
    run(given, WALKING, WAIST_UPRIGHT, 10)  # a hint is not overruled by walking
    assert given.placement == "pocket"
    given.reset()
    assert given.placement == "pocket"
    with pytest.raises(ValueError, match="placement must be one of"):
        PlacementRule(ACTIVITY_LABELS, "bag")


def test_off_leaves_the_model_s_answer_as_it_is():
    rule = PlacementRule(ACTIVITY_LABELS, "off")
    run(rule, WALKING, POCKET_UPRIGHT, 10)
    p = answers(LAYING, 3)
    out, known = rule.apply(p, *still(FLAT, 3))
    assert out is p and known == [None] * 3 and not rule.applies


def test_a_model_without_the_classes_is_left_alone():
    rule = PlacementRule(("walk", "sit", "lie"), "pocket")
    p = np.array([[0.1, 0.2, 0.7]], np.float32)
    out, _ = rule.apply(p, *still(FLAT))
    assert not rule.applies and out is p


def test_window_gravity_reads_total_acceleration():
    windows = np.zeros((2, 128, 9), np.float32)
    windows[:, :, 6:9] = POCKET_UPRIGHT
    windows[:, :, 0:3] = 5.0  # body acceleration is not gravity
    np.testing.assert_allclose(window_gravity(windows), np.tile(POCKET_UPRIGHT, (2, 1)), atol=1e-5)


def test_window_swing_is_the_angular_rate_s_root_mean_square():
    windows = np.zeros((2, 128, 9), np.float32)
    windows[0, :, 3:6] = [0.6, 0.0, 0.8]  # 1 rad/s throughout
    windows[1, ::2, 4] = 2.0  # 2 rad/s half the time, still otherwise
    windows[:, :, 6:9] = 9.0  # acceleration is not turning
    np.testing.assert_allclose(window_swing(windows), [1.0, np.sqrt(2.0)], rtol=1e-6)


def test_the_stream_answers_a_seated_pocket_phone_sitting(lstm_classifier_factory):
    """The whole device path: walking with the phone in a pocket, then sitting (thigh flat)."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 40, 0.02)
    walking = t < 20
    step = np.sin(2 * np.pi * 1.8 * t)[:, None]
    acc = np.where(walking[:, None], POCKET_UPRIGHT + 0.4 * step * [0.3, 1, 0.5], FLAT)
    gyro = np.where(walking[:, None], 2.0 * step * [1, 0.2, 0.3], 0.0)
    rows = np.column_stack([t, acc + rng.normal(0, 0.01, acc.shape), gyro])
    seated = [p for p in lstm_classifier_factory().push(rows) if p.start_time > 21]
    assert seated and {p.placement for p in seated} == {"pocket"}
    assert {p.label for p in seated} == {"SITTING"}
    told = [p for p in lstm_classifier_factory(placement="waist").push(rows) if p.start_time > 21]
    assert {p.placement for p in told} == {"waist"}
    assert [p.to_dict(list(ACTIVITY_LABELS))["placement"] for p in told[:1]] == ["waist"]


def test_the_stream_takes_a_phone_for_a_pocket_one_only_when_it_swings(lstm_classifier_factory):
    """The same stepping with gravity along y, but the phone barely turning (a waist phone on
    a person shifting while lying on their side): answered as moving, never as a pocket."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 20, 0.02)
    step = np.sin(2 * np.pi * 1.8 * t)[:, None]
    acc = POCKET_UPRIGHT + 0.4 * step * [0.3, 1, 0.5]
    for amplitude, placement in ((2.0, "pocket"), (0.3, None)):
        gyro = amplitude * step * [1, 0.2, 0.3]  # rms: amplitude × 0.76
        rows = np.column_stack([t, acc + rng.normal(0, 0.01, acc.shape), gyro])
        found = lstm_classifier_factory().push(rows)
        moving = [p for p in found if p.label.startswith("WALKING")]
        assert len(moving) >= STRETCH_WINDOWS, [p.label for p in found]
        assert found[-1].placement == placement
