"""Training's time warp: the same movement replayed faster or slower (harlite.train.augment)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.spec import MODEL_CHANNELS
from harlite.train.config import TrainConfig
from harlite.train.windowset import WindowSet

RATE = 50.0
STEP_HZ = 1.5
BODY_X = MODEL_CHANNELS.index("body_acc_x")
GYRO_X = MODEL_CHANNELS.index("body_gyro_x")
TOTAL_X = MODEL_CHANNELS.index("total_acc_x")


def stepping(samples: int) -> np.ndarray:
    """(samples, 9): a rhythm at STEP_HZ in body acceleration and angular rate, with
    gravity (1 g) along x in the total acceleration."""
    t = np.arange(samples) / RATE
    x = np.zeros((samples, len(MODEL_CHANNELS)), np.float32)
    x[:, BODY_X] = 0.3 * np.sin(2 * np.pi * STEP_HZ * t)
    x[:, GYRO_X] = 2.0 * np.cos(2 * np.pi * STEP_HZ * t)
    x[:, TOTAL_X] = 1.0 + x[:, BODY_X]
    return x


def cut(recording: np.ndarray, label: np.ndarray, window=128, hop=64) -> WindowSet:
    starts = np.arange(0, len(recording) - window + 1, hop)
    return WindowSet(
        X=np.stack([recording[s : s + window] for s in starts]),
        y=label[starts],
        subject=np.ones(len(starts), np.int64),
        experiment=np.ones(len(starts), np.int64),
        start=starts.astype(np.int64),
    )


def rhythm_hz(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal - signal.mean(), n=8192))
    return float(np.fft.rfftfreq(8192, 1 / RATE)[spectrum.argmax()])


def test_each_window_is_continued_by_its_recording_where_there_is_more_of_it():
    from harlite.train.augment import with_continuations

    recording = np.random.default_rng(0).normal(size=(640, 9)).astype(np.float32)
    label = np.zeros(640, np.int64)
    label[448:] = 1  # the class changes: a window of class 0 is not continued by class 1
    windows = cut(recording, label)
    extended, continued = with_continuations(windows, 64)
    assert extended.shape == (len(windows), 192, 9)
    for i, start in enumerate(windows.start):
        if continued[i]:
            np.testing.assert_array_equal(extended[i], recording[start : start + 192])
    # the last window has no more samples; the one before the class changes has none of its class
    assert continued.tolist() == [True] * 6 + [False, True, False]


def test_windows_that_do_not_overlap_their_neighbour_are_not_continued():
    """Where the next window's start says 'continues' but the samples disagree (another
    recording with the same ids, a gap), nothing is invented."""
    from harlite.train.augment import with_continuations

    windows = cut(stepping(320), np.zeros(320, np.int64))
    shuffled = WindowSet(
        X=windows.X[::-1].copy(),
        y=windows.y,
        subject=windows.subject,
        experiment=windows.experiment,
        start=windows.start,
    )
    assert not with_continuations(shuffled, 64)[1][:2].any()
    unknown = WindowSet(
        X=windows.X,
        y=windows.y,
        subject=windows.subject,
        experiment=windows.experiment,
        start=np.full(len(windows), -1),
    )
    assert not with_continuations(unknown, 64)[1].any()


def test_a_replayed_window_keeps_the_physics_of_a_faster_or_slower_movement():
    """At speed s the rhythm is s times faster, angular rates s times larger, body
    accelerations s² times larger, and gravity stays."""
    from harlite.train.augment import time_warped
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    tf.random.set_seed(3)
    n = 40
    x = np.repeat(stepping(192)[None], n, 0)
    out = time_warped(tf.constant(x), tf.constant(np.ones(n, bool)), 0.3, 128).numpy()
    speeds = np.array([rhythm_hz(w[:, GYRO_X]) / STEP_HZ for w in out])
    assert speeds.min() < 0.85 and speeds.max() > 1.15  # both ways, within the range
    assert np.all((speeds > 0.69) & (speeds < 1.31))
    for window, speed in zip(out, speeds, strict=True):
        gyro, body = np.abs(window[:, GYRO_X]).max(), np.abs(window[:, BODY_X]).max()
        assert gyro == pytest.approx(2.0 * speed, rel=0.03)
        assert body == pytest.approx(0.3 * speed**2, rel=0.05)
        np.testing.assert_allclose(window[:, TOTAL_X] - window[:, BODY_X], 1.0, atol=1e-5)


def test_a_window_with_no_continuation_is_only_slowed_down():
    from harlite.train.augment import time_warped
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    n = 40
    x = np.repeat(stepping(192)[None], n, 0)
    x[:, 128:] = np.nan  # no recorded continuation: never read
    out = time_warped(tf.constant(x), tf.constant(np.zeros(n, bool)), 0.3, 128).numpy()
    assert np.isfinite(out).all()
    speeds = np.array([rhythm_hz(w[:, GYRO_X]) / STEP_HZ for w in out])
    assert speeds.max() < 1.01 and speeds.min() < 0.85
    unchanged = time_warped(tf.constant(x), tf.constant(np.zeros(n, bool)), 0.0, 128).numpy()
    np.testing.assert_array_equal(unchanged, np.repeat(stepping(128)[None], n, 0))


def test_training_replays_windows_faster_and_slower_from_their_recordings():
    """Training draws from each window and what follows it in its recording, so it replays
    windows faster as well as slower; its batches are windows all the same."""
    from harlite.train.augment import training_dataset

    windows = cut(stepping(1280), np.zeros(1280, np.int64))
    x, y = next(iter(training_dataset(windows, TrainConfig(batch_size=19))))
    assert x.shape == (19, 128, 9) and y.shape == (19,)
    config = TrainConfig(time_warp=0.3, batch_size=19, rotation_deg=0.0, scale=0.0)
    x, y = next(iter(training_dataset(windows, config)))
    assert x.shape == (19, 128, 9) and y.shape == (19,)
    speeds = np.array([rhythm_hz(w[:, GYRO_X]) / STEP_HZ for w in x.numpy()])
    assert speeds.max() > 1.1 and speeds.min() < 0.9


def test_the_training_domain_draws_windows_as_training_replays_them():
    """The manifest's training domain measures windows drawn as training draws them: sped
    up too, from what follows them in their recording."""
    from harlite.convert.training_domain import augmented

    windows = cut(stepping(1280), np.zeros(1280, np.int64))
    drawn = augmented(windows, TrainConfig(time_warp=0.3, rotation_deg=0.0, scale=0.0))
    speeds = np.array([rhythm_hz(w[:, GYRO_X]) / STEP_HZ for w in drawn])
    assert drawn.shape == windows.X.shape
    assert speeds.max() > 1.1 and speeds.min() < 0.9


@pytest.mark.parametrize("warp", [-0.1, 0.5])
def test_an_impossible_time_warp_is_refused(warp):
    with pytest.raises(ValueError, match="time_warp"):
        TrainConfig(time_warp=warp)
