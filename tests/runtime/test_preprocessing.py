"""The streaming filter bank: frequency response, chunk invariance, transient-free start."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from harlite.runtime import FilterDesign, Preprocessor, preprocess_recording
from harlite.runtime.signal.preprocessing import FilterSections, steady_state
from tests.builders import raw_signal

pytestmark = pytest.mark.runtime

FS = 50.0


def sine(freq: float, n: int, channel: int) -> np.ndarray:
    """A raw (n, 6) signal with a unit sine at ``freq`` on one channel."""
    raw = np.zeros((n, 6))
    raw[:, channel] = np.sin(2 * np.pi * freq * np.arange(n) / FS)
    return raw


@pytest.mark.parametrize("freq", [0.05, 1.0, 5.0, 15.0, 22.0])
def test_gyro_gain_matches_the_20hz_design(freq):
    design = FilterDesign(median_kernel=1)  # the median is not linear: test the filters alone
    _, expected = signal.sosfreqz(design.noise_sos(), worN=[freq], fs=FS)
    out = preprocess_recording(sine(freq, 6000, channel=3), design)
    measured = np.abs(out[3000:, 3]).max()
    assert measured == pytest.approx(abs(expected[0]), rel=0.02, abs=1e-3)


@pytest.mark.parametrize("freq", [0.02, 0.3, 1.0, 3.0])
def test_gravity_and_body_split_match_the_0_3hz_design(freq):
    design = FilterDesign(median_kernel=1)
    _, noise = signal.sosfreqz(design.noise_sos(), worN=[freq], fs=FS)
    _, gravity = signal.sosfreqz(design.gravity_sos(), worN=[freq], fs=FS)
    n = 20000
    out = preprocess_recording(sine(freq, n, channel=0), design)
    total, body = out[n // 2 :, 6], out[n // 2 :, 0]
    assert np.abs(total).max() == pytest.approx(abs(noise[0]), rel=0.02, abs=1e-3)
    gravity_out = total - body
    assert np.abs(gravity_out).max() == pytest.approx(
        abs(noise[0] * gravity[0]), rel=0.03, abs=2e-3
    )
    # body = total - gravity has the complementary response |H_noise (1 - H_gravity)|
    assert np.abs(body).max() == pytest.approx(abs(noise[0] * (1 - gravity[0])), rel=0.03, abs=2e-3)


def test_median_removes_a_single_spike_and_keeps_steps():
    raw = np.zeros((200, 6))
    raw[50, :] = 100.0  # one-sample spike
    raw[120:, 3] = 1.0  # step on gyro x
    out = preprocess_recording(raw)
    assert np.abs(out[:120]).max() < 1e-12  # the median took the spike out entirely
    assert out[-1, 3] == pytest.approx(1.0, abs=1e-3)


def test_output_channel_order_and_units():
    raw = np.tile([0.1, 0.2, 0.9, 0.01, 0.02, 0.03], (100, 1))
    out = preprocess_recording(raw)
    np.testing.assert_allclose(out[:, 0:3], 0.0, atol=1e-12)  # body_acc: no motion
    np.testing.assert_allclose(out[:, 3:6], [[0.01, 0.02, 0.03]] * 100, atol=1e-12)  # body_gyro
    np.testing.assert_allclose(out[:, 6:9], [[0.1, 0.2, 0.9]] * 100, atol=1e-12)  # total_acc


def test_start_has_no_transient():
    # A phone lying still: the first output already holds the steady state.
    rng = np.random.default_rng(0)
    raw = np.tile([0.02, -0.98, 0.15, 0.0, 0.0, 0.0], (500, 1))
    raw += 1e-4 * rng.standard_normal(raw.shape)
    out = preprocess_recording(raw)
    assert np.abs(out[:, 0:3]).max() < 2e-3  # no gravity leaking into body_acc
    np.testing.assert_allclose(out[0, 6:9], raw[0, :3], atol=1e-12)
    assert np.abs(out[:, 6:9] - raw[0, :3]).max() < 2e-3


def test_start_from_first_sample_differs_from_a_zero_start():
    raw = np.tile([0.0, 0.0, 1.0, 0.0, 0.0, 0.0], (200, 1))
    zero_start = signal.sosfilt(FilterDesign().gravity_sos(), raw[:, 2])
    assert abs(zero_start[10] - 1.0) > 0.5  # what a naive filter would do
    assert abs(preprocess_recording(raw)[10, 8] - 1.0) < 1e-12


@pytest.mark.parametrize("chunk", [1, 7, 128, 1000])
def test_chunked_equals_whole(chunk):
    raw = raw_signal(3000, seed=3)
    whole = preprocess_recording(raw)
    pre = Preprocessor()
    parts = [pre.process(raw[i : i + chunk]) for i in range(0, len(raw), chunk)]
    assert np.abs(np.vstack(parts) - whole).max() <= 1e-6


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=40),
    kernel=st.sampled_from([1, 3, 5]),
)
def test_random_chunk_sizes_equal_whole(sizes, kernel):
    design = FilterDesign(median_kernel=kernel)
    raw = raw_signal(sum(sizes), seed=len(sizes))
    whole = preprocess_recording(raw, design)
    pre, parts, i = Preprocessor(design), [], 0
    for size in sizes:
        parts.append(pre.process(raw[i : i + size]))
        i += size
    np.testing.assert_allclose(np.vstack(parts), whole, rtol=0, atol=1e-6)


def test_reset_starts_a_new_stream():
    a, b = raw_signal(300, 1), raw_signal(300, 2)
    pre = Preprocessor()
    pre.process(a)
    pre.reset()
    np.testing.assert_array_equal(pre.process(b), preprocess_recording(b))


def test_bad_input_is_refused_before_it_poisons_the_state():
    pre = Preprocessor()
    good = raw_signal(10, 0)
    pre.process(good)
    bad = good.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pre.process(bad)
    with pytest.raises(ValueError, match="shape"):
        pre.process(np.zeros((4, 3)))
    assert np.isfinite(pre.process(good)).all()


def test_design_validation_and_round_trip():
    design = FilterDesign(noise_cutoff_hz=15.0)
    assert FilterDesign.from_dict(design.to_dict()) == design
    with pytest.raises(ValueError):
        FilterDesign(median_kernel=2)
    with pytest.raises(ValueError):
        FilterDesign(noise_cutoff_hz=30.0)
    with pytest.raises(ValueError, match="unknown"):
        FilterDesign.from_dict({"nonsense": 1})


def test_the_start_state_of_docs_deploy_md_is_scipys():
    """docs/deploy.md tells app developers how to start each filter section without a
    transient; that recipe must be what the runtime does (and scipy's sosfilt_zi)."""
    design = FilterDesign()
    for sos in (design.noise_sos(), design.gravity_sos()):
        documented, u = [], 1.0
        for b0, b1, b2, _, a1, a2 in sos:
            g = (b0 + b1 + b2) / (1 + a1 + a2)
            documented.append([(b1 + b2 - (a1 + a2) * g) * u, (b2 - a2 * g) * u])
            u *= g
        np.testing.assert_array_equal(steady_state(sos), documented)
        np.testing.assert_allclose(signal.sosfilt_zi(sos), documented, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "design",
    [FilterDesign(), FilterDesign(order=1), FilterDesign(order=6, gravity_cutoff_hz=0.05),
     FilterDesign(sample_rate_hz=100.0, noise_cutoff_hz=45.0, order=4)],
)  # fmt: skip
def test_the_closed_form_start_state_is_scipys_sosfilt_zi(design):
    for sos in (design.noise_sos(), design.gravity_sos()):
        np.testing.assert_allclose(steady_state(sos), signal.sosfilt_zi(sos), rtol=1e-9, atol=1e-15)


def test_a_bundles_design_filters_with_the_bundles_own_sections():
    """The sections a design carries are what runs, not a design of its settings: here the
    settings say 0.3 Hz and the carried gravity filter is a 1 Hz one."""
    one_hz = FilterDesign(gravity_cutoff_hz=1.0)
    carried = FilterDesign().with_sections(FilterSections(one_hz.noise_sos(), one_hz.gravity_sos()))
    raw = raw_signal(2000, seed=4)
    np.testing.assert_array_equal(
        preprocess_recording(raw, carried), preprocess_recording(raw, one_hz)
    )
    assert np.abs(preprocess_recording(raw, carried) - preprocess_recording(raw)).max() > 1e-3
    # the settings stay what they were: equality, hashing and the dict ignore the sections
    assert carried == FilterDesign() and hash(carried) == hash(FilterDesign())
    assert carried.to_dict() == FilterDesign().to_dict()
    again = pickle.loads(pickle.dumps(carried))  # as a batch worker would receive it
    np.testing.assert_array_equal(again.gravity_sos(), one_hz.gravity_sos())


def test_sections_are_read_only_copies():
    sos = FilterDesign().noise_sos().copy()
    sections = FilterSections(sos, FilterDesign().gravity_sos())
    sos[0, 0] = 5.0
    assert sections.noise_sos[0, 0] != 5.0 and not sections.noise_sos.flags.writeable


def _broken(change) -> np.ndarray:
    sos = np.array(FilterDesign().gravity_sos())
    change(sos)
    return sos


@pytest.mark.parametrize(
    "gravity, message",
    [
        (np.zeros((0, 6)), "rows of 6"),
        (np.ones((2, 5)), "rows of 6"),
        (_broken(lambda s: s.__setitem__((0, 0), np.inf)), "finite"),
        (_broken(lambda s: s.__setitem__((1, 3), 2.0)), "a0 = 1"),
        (_broken(lambda s: s.__setitem__((1, 5), 1.5)), "stable"),
        (_broken(lambda s: s.__setitem__((1, 4), -2.5)), "stable"),
        (_broken(lambda s: s.__setitem__((0, slice(0, 3)), s[0, :3] * 2)), "0 Hz"),
    ],
)
def test_sections_that_are_not_a_settled_unit_gain_low_pass_are_refused(gravity, message):
    with pytest.raises(ValueError, match=f"gravity_sos must .*{message}"):
        FilterSections(FilterDesign().noise_sos(), gravity)
