"""The runtime says when its input is unlike the model's training data (orientation), and
the manifest records what that was (harlite.runtime.signal.domain_check)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harlite.runtime.model.bundle import Bundle, BundleError
from harlite.runtime.model.manifest import validate_manifest
from harlite.runtime.signal.domain_check import (
    WARN_AFTER_WINDOWS,
    WARN_SHARE_STILL,
    DomainCheck,
    TrainingDomain,
    WindowTraits,
)
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

#: Validation subjects of HAPT: never in the domain measured below.
HAPT_VAL = (27, 28, 29, 30)


def windows(gravity, motion_g: float, n: int = 20, seed: int = 0) -> np.ndarray:
    """Model windows with gravity along ``gravity`` (g) and body motion of RMS ``motion_g``."""
    rng = np.random.default_rng(seed)
    body = rng.normal(0, motion_g / np.sqrt(3), (n, 128, 3))
    total = body + np.asarray(gravity, float)
    gyro = rng.normal(0, 0.1, (n, 128, 3))
    return np.concatenate([body, gyro, total], axis=2).astype(np.float32)


def waist_like() -> TrainingDomain:
    upright_moving = windows([1, 0, 0], 0.3)
    upright_still = windows([1, 0, 0], 0.01)
    lying_still = windows([0, 0.6, 0.8], 0.01)
    return TrainingDomain.measure(
        np.concatenate([upright_moving, upright_still, lying_still]), (50.0,), ("waist",)
    )


def test_traits_give_gravity_direction_and_motion():
    traits = WindowTraits.of(windows([0, -1, 0], 0.3, n=5))
    np.testing.assert_allclose(traits.direction, [[0, -1, 0]] * 5, atol=0.05)
    assert np.all((traits.motion_rms_g > 0.2) & (traits.motion_rms_g < 0.4))


def test_a_direction_is_judged_at_its_own_motion_level():
    domain = waist_like()
    verdict = domain.judge(
        np.concatenate(
            [
                windows([1, 0, 0], 0.3, n=2),  # walking upright: trained
                windows([0, -1, 0], 0.3, n=2),  # walking, phone upside down: not
                windows([0, 0.6, 0.8], 0.01, n=2),  # lying still: trained
                windows([0, 0.6, 0.8], 0.3, n=2),  # that direction while moving: not
            ]
        )
    )
    assert verdict.unlike.tolist() == [False, False, True, True, False, False, True, True]
    assert np.all(verdict.angle_deg[verdict.unlike] > domain.max_angle_deg)


def test_the_domain_round_trips_through_the_manifest():
    domain = waist_like()
    data = json.loads(json.dumps(domain.to_dict()))
    again = TrainingDomain.from_dict(data)
    assert again.input_rates_hz == (50.0,) and again.placements == ("waist",)
    for level, vectors in domain.directions.items():
        np.testing.assert_allclose(again.directions[level], vectors)


def test_a_broken_domain_in_a_manifest_is_refused():
    manifest = json.loads((model_path("cnn") / "manifest.json").read_text())
    manifest["training_domain"] = {"gravity_directions": {"moving": [[0, 2, "x"]]}}
    with pytest.raises(BundleError, match="gravity_directions"):
        validate_manifest(manifest, "m")


def test_still_windows_need_a_larger_share_than_moving_ones():
    check = DomainCheck(waist_like())
    lying_prone = windows([0, 0, -1], 0.01, n=20)
    upright = windows([1, 0, 0], 0.01, n=30)
    assert check.add(np.concatenate([upright, lying_prone])) == [] and check.unlike == 20
    assert check.finish() == []
    warnings = check.add(windows([0, 0, -1], 0.01, n=20))
    assert len(warnings) == 1 and "still windows" in warnings[0]


def test_unlike_windows_below_the_warning_threshold_are_given_their_reason():
    check = DomainCheck(waist_like())
    upright, prone = windows([1, 0, 0], 0.01, n=30), windows([0, 0, -1], 0.01, n=5)
    assert check.add(np.concatenate([upright, prone])) == [] and check.finish() == []
    assert check.unlike == 5
    note = check.note()
    assert "25° from every direction trained" in note and "below the warning threshold" in note
    check.add(windows([0, 0, -1], 0.01, n=40))
    assert check.warnings and check.note().endswith("see the warning")


def test_the_check_warns_once_past_its_share_and_not_below_it():
    check = DomainCheck(waist_like())
    quiet = windows([1, 0, 0], 0.3, n=WARN_AFTER_WINDOWS * 5)
    assert check.add(quiet) == [] and check.finish() == [] and check.unlike == 0
    check.reset()
    unlike = windows([0, -1, 0], 0.3, n=WARN_AFTER_WINDOWS)
    assert check.add(unlike[:-1]) == []
    warnings = check.add(unlike[-1:])
    assert len(warnings) == 1 and "phone orientation unlike training" in warnings[0]
    assert "(-0.00, -1.00" in warnings[0] or "(+0.00, -1.00" in warnings[0]
    assert "moving windows" in warnings[0] and "shipped default" in warnings[0]
    assert check.add(unlike) == [] and check.unlike == 2 * WARN_AFTER_WINDOWS


def test_a_posture_change_is_not_judged():
    turning = windows([1, 0, 0], 0.3, n=3)
    turning[:, 64:, 6:9] = turning[:, 64:, 0:3] + np.array([0, -1, 0])  # gravity turns 90°
    verdict = waist_like().judge(turning)
    assert not verdict.judged.any() and not verdict.unlike.any()


# --- on real recordings (../shared): both ways ----------------------------------------------


@pytest.fixture(scope="module")
def waist_domain():
    """The domain of HAPT's training subjects without the validation subjects (no
    augmentation: the recordings as they are)."""
    from tests.conftest import SHARED_HAPT

    if not (SHARED_HAPT / "RawData" / "labels.txt").is_file():
        pytest.skip(f"real recordings not found at {SHARED_HAPT} (CI has them in ../shared)")
    from harlite.train.datasets import load_windows

    data = load_windows(SHARED_HAPT, cache_dir=None)
    train = data.select(~np.isin(data.subject, HAPT_VAL))
    return TrainingDomain.measure(train.X, (50.0,), ("waist",))


def classifier_with(domain: TrainingDomain) -> StreamClassifier:
    bundle = Bundle.open(model_path("cnn"))
    bundle = Bundle(bundle.path, {**bundle.manifest, "training_domain": domain.to_dict()})
    return StreamClassifier(bundle)


def stream_rows(classifier: StreamClassifier, rows: np.ndarray) -> tuple[int, int, list[str]]:
    classifier.reset()
    warnings: list[str] = []
    for start in range(0, len(rows), 500):
        warnings += classifier.push(rows[start : start + 500]).warnings
    warnings += classifier.flush().warnings
    return classifier.windows, classifier.out_of_distribution_windows, warnings


def test_quiet_on_every_hapt_validation_recording(waist_domain, shared_hapt):
    from harlite.train.hapt_export import experiments, labelled_recording

    classifier = classifier_with(waist_domain)
    for experiment in experiments(shared_hapt, list(HAPT_VAL)):
        signal, _ = labelled_recording(shared_hapt, experiment)
        rows = np.column_stack([np.arange(len(signal)) / 50.0, signal])
        n, unlike, warnings = stream_rows(classifier, rows)
        assert n > 100 and warnings == [], (experiment, unlike, warnings)
        assert unlike < WARN_SHARE_STILL * n


def test_fires_on_pocket_recordings_for_a_waist_model(waist_domain, shared_spsw):
    from harlite.runtime.io.sources import open_source
    from harlite.train.recording_meta import DatasetFolder, find_recordings

    classifier = classifier_with(waist_domain)
    recordings = find_recordings(DatasetFolder.locate(shared_spsw))
    for subject in (3, 10, 16):  # back_inv, back, front: one session of a subject's recordings
        parts, offset = [], 0.0
        for recording in [r for r in recordings if r.subject == subject][:5]:
            rows = np.concatenate(
                [b.rows for b in open_source(str(recording.path), recording.options)]
            )
            rows[:, 0] += offset - rows[0, 0]
            offset = rows[-1, 0] + 0.01
            parts.append(rows)
        n, unlike, warnings = stream_rows(classifier, np.concatenate(parts))
        assert any("phone orientation unlike training" in w for w in warnings), (subject, n, unlike)


def test_the_summary_reports_unlike_windows_and_warns_once_on_stderr(shared_spsw, tmp_path):
    from click.testing import CliRunner

    from harlite.cli import cli

    recording = shared_spsw.parents[2].parent / "shared" / "data" / "sp-sw" / "DATA"
    columns = (
        "t=timestamp,acc_x=x_acc,acc_y=y_acc,acc_z=z_acc,gyro_x=x_gyro,gyro_y=y_gyro,gyro_z=z_gyro"
    )
    args = ["--columns", columns, "--acc-unit", "m/s2", "--time-unit", "ms", "--rate", "102.5"]
    summary = tmp_path / "s.json"
    for model, fires in (("cnn", True), ("lstm", False)):
        result = CliRunner().invoke(
            cli,
            ["stream", model, "--input", str(recording / "s03" / "s03_01_sp.csv"), *args,
             "--output", str(tmp_path / "p.jsonl"), "--summary", str(summary)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        data = json.loads(summary.read_text())
        warned = [w for w in data.get("warnings", []) if "orientation unlike training" in w]
        assert bool(warned) == fires, (model, data)
        assert result.stderr.count("orientation unlike training") == (2 if fires else 0)
        assert (data["out_of_distribution_windows"] >= 4) == fires
