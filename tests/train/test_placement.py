"""Training for every placement: mixtures of data sets, placement augmentation, the
training domain a bundle records (harlite.train.mixture, harlite.train.augment,
harlite.convert.training_domain)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.errors import DataError
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train import datasets
from harlite.train.config import TrainConfig
from harlite.train.datasets import default_val_subjects, detect_layout, input_rates, load_windows
from harlite.train.splits import UCI_TEST_SUBJECTS


@pytest.fixture
def pocket_folder(tmp_path):
    from tests.cli.test_stream_cli import write_csv

    folder = tmp_path / "pocket"
    folder.mkdir()
    for subject in (1, 2, 3):
        write_csv(folder / f"s{subject}_walk.csv", 900, seed=subject, label="WALKING")
    labels = ", ".join(f'"{label}"' for label in ACTIVITY_LABELS)
    (folder / "dataset.toml").write_text(
        f'placement = "pocket"\nrate = 50\nlabels = [{labels}]\n'
        "test_subjects = [3]\nval_subjects = [2]\n"
    )
    return folder


@pytest.fixture
def mixture(tmp_path, tiny_hapt, pocket_folder):
    path = tmp_path / "anywhere.toml"
    path.write_text(
        f'[[parts]]\ndata = "{tiny_hapt}"\nplacement = "waist"\n\n'
        f'[[parts]]\ndata = "{pocket_folder}"\nplacement = "pocket"\nsubject_offset = 500\n'
    )
    return path


def test_a_mixture_joins_data_sets_with_their_placements_and_splits(mixture):
    assert detect_layout(mixture) == "mixture"
    windows = load_windows(mixture)
    assert windows.labels == ACTIVITY_LABELS
    hapt = windows.subject < 500
    assert set(windows.placement[hapt]) == {"waist"}
    assert set(windows.placement[~hapt]) == {"pocket"}
    assert sorted(set(windows.subject[~hapt].tolist())) == [501, 502, 503]
    assert set(datasets.test_subjects(mixture)) == set(UCI_TEST_SUBJECTS) | {503}
    assert default_val_subjects(mixture, windows, 0) == (27, 28, 29, 30, 502)
    assert input_rates(mixture) == (50.0,)


def test_recordings_settings_give_placement_and_splits(pocket_folder):
    windows = load_windows(pocket_folder, require_every_class=False)
    assert set(windows.placement) == {"pocket"}
    assert datasets.test_subjects(pocket_folder) == (3,)
    assert default_val_subjects(pocket_folder, windows, 0) == (2,)


@pytest.mark.parametrize(
    "text, key",
    [
        ('[[parts]]\ndata = "nowhere"\n', "parts[0].data"),
        ('[[parts]]\ndata = "."\ncolour = "red"\n', "parts[0]"),
        ('labels = ["A"]\n[[parts]]\ndata = "."\n', "labels"),
        ('other = 1\n[[parts]]\ndata = "."\n', "other"),
    ],
)
def test_a_bad_mixture_names_the_file_and_key(tmp_path, text, key):
    path = tmp_path / "mix.toml"
    path.write_text(text)
    with pytest.raises(DataError) as error:
        load_windows(path)
    assert str(path) in str(error.value) and key in str(error.value)


def test_parts_with_other_classes_are_refused(tmp_path, tiny_hapt):
    from tests.cli.test_stream_cli import write_csv

    own = tmp_path / "own"
    own.mkdir()
    write_csv(own / "s1_jump.csv", 900, seed=0, label="JUMPING")
    write_csv(own / "s2_jump.csv", 900, seed=1, label="JUMPING")
    path = tmp_path / "mix.toml"
    path.write_text(f'[[parts]]\ndata = "{own}"\n\n[[parts]]\ndata = "{tiny_hapt}"\n')
    with pytest.raises(DataError, match="classes"):
        load_windows(path)


# --- placement augmentation -----------------------------------------------------------------


def gravity_of(x: np.ndarray) -> np.ndarray:
    g = (x[:, :, 6:9] - x[:, :, 0:3]).mean(axis=1)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def upright_windows(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    body = rng.normal(0, 0.2, (n, 128, 3)).astype(np.float32)
    gyro = rng.normal(0, 0.5, (n, 128, 3)).astype(np.float32)
    return np.concatenate([body, gyro, body + np.array([1, 0, 0], np.float32)], axis=2)


def test_placement_rotations_are_rotations_and_leave_other_placements_alone():
    from harlite.train.augment import placement_rotations
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    config = TrainConfig(placement_aug=1.0)
    y = tf.constant(np.arange(600) % 6)
    waist = tf.constant(np.arange(600) % 2 == 0)
    matrices = placement_rotations(y, waist, config).numpy()
    np.testing.assert_allclose(
        matrices @ matrices.transpose(0, 2, 1), np.eye(3)[None].repeat(600, 0), atol=1e-5
    )
    np.testing.assert_allclose(np.linalg.det(matrices), 1, atol=1e-5)
    np.testing.assert_allclose(matrices[1::2], np.eye(3)[None].repeat(300, 0), atol=0)
    off = TrainConfig(placement_aug=0.0)
    np.testing.assert_allclose(
        placement_rotations(y, waist, off).numpy(), np.eye(3)[None].repeat(600, 0)
    )


def test_waist_windows_are_shown_as_a_pocket_or_hand_would_see_them():
    """Still postures go to a pocket; moving windows to a hand or stay at the waist (a turned
    waist step is no pocket step)."""
    from harlite.train.augment import HAND_TILT_DEG, augmenter
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    n = 600
    x = upright_windows(n)
    y = np.arange(n) % 6  # WALKING … LAYING
    config = TrainConfig(placement_aug=1.0, rotation_deg=0.0, scale=0.0)
    out, _ = augmenter(config)(tf.constant(x), tf.constant(y), tf.constant(np.full(n, "waist")))
    gravity = gravity_of(out.numpy())
    seated = y == ACTIVITY_LABELS.index("SITTING")
    moving = y < 3
    along_leg = np.abs(gravity[:, 1]) > 0.99  # pocket, thigh vertical: ±y
    tilt = np.degrees(np.arcsin(np.clip(gravity[:, 1], -1, 1)))
    in_hand = (tilt > HAND_TILT_DEG[0] - 1) & (tilt < HAND_TILT_DEG[1] + 1) & ~along_leg
    assert np.all(np.abs(gravity[seated, 1]) < 1e-3)  # seated: thigh horizontal
    assert np.all(along_leg[~seated & ~moving])  # standing, lying: thigh along the body
    at_waist = gravity[:, 0] > 0.99
    assert not along_leg[moving].any()
    assert np.all(at_waist[moving] | in_hand[moving]) and 0.1 < in_hand[moving].mean() < 0.4
    still = ~seated & ~moving
    assert (gravity[still, 1] < 0).mean() == pytest.approx(0.5, abs=0.1)  # upside down
    # the motion is the window's own: only turned
    np.testing.assert_allclose(
        np.linalg.norm(out.numpy()[:, :, 3:6], axis=2),
        np.linalg.norm(x[:, :, 3:6], axis=2),
        rtol=1e-4,
    )


def test_pocket_windows_are_turned_into_the_four_pocket_orientations():
    from harlite.train.augment import augmenter
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    n = 400
    x = upright_windows(n)
    x[:, :, 6:9] += np.array([-0.8, 0.9, 0.3], np.float32)  # gravity (0.2, 0.9, 0.3): a pocket
    y = np.zeros(n, np.int64)
    config = TrainConfig(placement_aug=0.5, rotation_deg=0.0, scale=0.0)
    placement = np.array(["pocket"] * (n // 2) + ["hand"] * (n // 2))
    out, _ = augmenter(config)(tf.constant(x), tf.constant(y), tf.constant(placement))
    before, after = gravity_of(x), gravity_of(out.numpy())
    np.testing.assert_allclose(after[n // 2 :], before[n // 2 :], atol=1e-6)  # not a pocket
    signs = np.sign(after[: n // 2] / before[: n // 2]).astype(int)
    found = {tuple(s) for s in signs.tolist()}
    assert found == {(1, 1, 1), (-1, -1, 1), (-1, 1, -1), (1, -1, -1)}


def turning_phone(n: int = 128, rate=(0.4, -1.1, 2.3)) -> np.ndarray:
    """One window (1, n, 9) of a phone turning at a constant angular rate (rad/s, its own
    frame) under gravity: what its gyroscope and accelerometer read together."""
    from scipy.spatial.transform import Rotation

    omega = np.array(rate)
    t = np.arange(n) / 50.0
    # gravity is fixed in the world, so in the turning phone's frame it turns by −ω t
    gravity = Rotation.from_rotvec(-t[:, None] * omega).apply([0.3, 0.9, 0.3])
    window = np.concatenate([np.zeros((n, 3)), np.tile(omega, (n, 1)), gravity], axis=1)
    return window[None].astype(np.float32)


def obeys_kinematics(window: np.ndarray) -> bool:
    """Whether a window's gravity turns as its gyroscope says: dg/dt = −ω × g."""
    gyro, gravity = window[0, :, 3:6], window[0, :, 6:9]
    change = np.gradient(gravity, 1 / 50.0, axis=0)[2:-2]
    return np.allclose(change, -np.cross(gyro, gravity)[2:-2], atol=0.01)


def test_a_mirrored_pocket_window_is_still_a_phone_obeying_physics():
    """The other leg's pocket: acceleration mirrored as a vector, rotation as an axial
    vector, so the gyroscope still explains how gravity turns (a plain sign flip of every
    x channel would not)."""
    from harlite.train.augment import mirror_windows
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    window = np.concatenate([turning_phone()] * 2)
    mirrored = mirror_windows(tf.constant(window), tf.constant([True, False])).numpy()
    assert obeys_kinematics(window) and obeys_kinematics(mirrored[:1])
    np.testing.assert_array_equal(mirrored[1], window[1])  # not chosen: as recorded
    np.testing.assert_allclose(mirrored[0, :, 6], -window[0, :, 6])  # gravity's x mirrored
    naive = window[:1] * np.array([-1, 1, 1, -1, 1, 1, -1, 1, 1], np.float32)
    assert not obeys_kinematics(naive)


def test_pocket_windows_are_mirrored_and_turned_about_the_thigh_only():
    from harlite.train.augment import augmenter
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    n = 400
    x = np.concatenate([turning_phone()] * n)
    placement = np.array(["pocket"] * (n // 2) + ["waist"] * (n // 2))
    config = TrainConfig(pocket_mirror=0.5, thigh_turn_deg=60.0)
    assert config.augments
    out, _ = augmenter(config)(
        tf.constant(x), tf.constant(np.zeros(n, np.int64)), tf.constant(placement)
    )
    out = out.numpy()
    np.testing.assert_array_equal(out[n // 2 :], x[n // 2 :])  # the waist: untouched
    pocket, before = out[: n // 2], x[: n // 2]
    # about the thigh: the phone's y reading of gravity never changes; its x, z turn
    np.testing.assert_allclose(pocket[:, :, 7], before[:, :, 7], atol=1e-5)
    mirrored = pocket[:, 0, 4] * before[:, 0, 4] < 0  # the gyroscope's y reading turned
    assert 0.35 < mirrored.mean() < 0.65
    kept = pocket[~mirrored, 0]
    turn = np.degrees(np.arctan2(kept[:, 6], kept[:, 8]) - np.arctan2(0.3, 0.3))
    turn = (turn + 180) % 360 - 180
    assert np.all(np.abs(turn) <= 60.01) and np.ptp(turn) > 90
    assert all(obeys_kinematics(w[None]) for w in out[:20])
    with pytest.raises(ValueError, match="pocket_mirror"):
        TrainConfig(pocket_mirror=1.5)
    with pytest.raises(ValueError, match="thigh_turn_deg"):
        TrainConfig(thigh_turn_deg=-1)


def test_the_training_domain_covers_what_augmentation_showed(tiny_hapt):
    from harlite.convert.training_domain import measure_training_domain

    plain = measure_training_domain(tiny_hapt, TrainConfig(val_subjects=()))
    placed = measure_training_domain(tiny_hapt, TrainConfig(val_subjects=(), placement_aug=1.0))
    assert plain.placements == ("waist",) and plain.input_rates_hz == (50.0,)
    assert "pocket (simulated)" in placed.placements
    count = lambda d: sum(len(v) for v in d.directions.values())  # noqa: E731
    assert count(placed) > count(plain)


def test_waist_windows_take_their_own_smaller_random_rotation():
    """``waist_rotation_deg`` bounds the random rotation of waist windows alone (where
    sitting and standing differ by a 20° tilt); the rest keep ``rotation_deg``."""
    from harlite.train.augment import augmenter
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    n = 600
    x = upright_windows(n)
    placement = np.array(["waist"] * (n // 2) + ["pocket"] * (n // 2))
    config = TrainConfig(rotation_deg=40.0, waist_rotation_deg=10.0)
    assert config.augments and TrainConfig(waist_rotation_deg=10.0).augments
    out, _ = augmenter(config)(
        tf.constant(x), tf.constant(np.zeros(n, np.int64)), tf.constant(placement)
    )
    turned = np.degrees(np.arccos(np.clip(gravity_of(out.numpy())[:, 0], -1, 1)))
    assert turned[: n // 2].max() <= 10.01 and turned[: n // 2].max() > 7
    assert turned[n // 2 :].max() <= 40.01 and turned[n // 2 :].max() > 30
    with pytest.raises(ValueError, match=r"waist_rotation_deg must lie in 0\.\.180"):
        TrainConfig(waist_rotation_deg=-1.0)
