"""Readers for the HAPT raw and UCI HAR layouts, the window cache and bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import DataError
from harlite.runtime import preprocess_recording
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train import cache as cache_module
from harlite.train.datasets import dataset_info, detect_layout, load_windows
from harlite.train.hapt import build_windows
from harlite.train.splits import UCI_TEST_SUBJECTS
from harlite.train.windowset import WindowSet
from tests.builders import write_hapt


def test_hapt_windows_lie_inside_one_basic_activity_segment(tiny_hapt):
    ws = load_windows(tiny_hapt, cache_dir=None)
    expected = {  # (experiment, start) -> activity id, worked out by hand from the segments
        **{(1, s): 5 for s in (128, 192, 256, 320)},
        **{(1, s): 4 for s in (640, 704, 768, 832)},
        **{(2, s): 1 for s in (0, 64, 128)},
        (3, 64): 6,
        **{(3, s): 2 for s in (320, 384, 448, 512, 576, 640)},
    }
    got = {
        (int(e), int(s)): int(y) + 1 for e, s, y in zip(ws.experiment, ws.start, ws.y, strict=True)
    }
    assert got == expected
    assert ws.X.shape == (18, 128, 9) and ws.X.dtype == np.float32
    assert set(ws.subject[ws.experiment == 3]) == {3}
    assert ws.subjects == [1, 3]


def test_hapt_windows_are_the_device_preprocessing_of_the_whole_recording(tiny_hapt):
    ws = load_windows(tiny_hapt, cache_dir=None)
    acc = np.loadtxt(tiny_hapt / "RawData" / "acc_exp01_user01.txt")
    gyro = np.loadtxt(tiny_hapt / "RawData" / "gyro_exp01_user01.txt")
    signals = preprocess_recording(np.hstack((acc, gyro)))
    i = int(np.flatnonzero((ws.experiment == 1) & (ws.start == 640))[0])
    np.testing.assert_allclose(ws.X[i], signals[640:768], atol=1e-6)


def test_uci_har_reader_keeps_the_notebook_channel_order(tiny_uci):
    root, arrays = tiny_uci
    ws = load_windows(root, cache_dir=None)
    X = np.concatenate([arrays["train"][0], arrays["test"][0]])
    np.testing.assert_allclose(ws.X, X, rtol=1e-6, atol=1e-7)
    assert list(ws.y) == [0, 1, 2, 3, 4, 5, 5, 0]
    assert list(ws.subject) == [1, 1, 3, 3, 5, 2, 2, 4]
    assert detect_layout(root) == "uci-har"
    assert detect_layout(root / "UCI HAR Dataset") == "uci-har"


def test_dataset_info(tiny_hapt, tiny_uci):
    info = dataset_info(tiny_hapt).to_dict()
    assert info["subjects"] == [1, 3]
    assert info["experiments"] == 3
    assert info["hours"] == pytest.approx((1000 + 700 + 900) / 50 / 3600, abs=1e-4)
    assert info["windows_per_class"]["STANDING"] == 4
    assert set(info["windows_per_class"]) == set(ACTIVITY_LABELS)
    uci = dataset_info(tiny_uci[0]).to_dict()
    assert uci["subjects"] == [1, 2, 3, 4, 5] and uci["experiments"] is None
    assert info["test_subjects"] == uci["test_subjects"] == list(UCI_TEST_SUBJECTS)


def test_data_info_names_the_test_subjects_and_reads_short_signal_in_seconds(tiny_hapt):
    result = CliRunner().invoke(cli, ["data", "info", str(tiny_hapt)])
    assert result.exit_code == 0, result.output
    assert "  signal       52.0 s" in result.output  # 2,600 samples at 50 Hz, not "0.01 h"
    held = ", ".join(map(str, UCI_TEST_SUBJECTS))
    assert f"test subjects {held} (held out" in result.output
    assert "    class                windows" in result.output


def test_cache_makes_the_second_build_a_read_and_never_goes_stale(tiny_hapt, tmp_path, monkeypatch):
    calls = []
    real_build = build_windows

    def counting_build(*args, **kwargs):
        calls.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr("harlite.train.hapt.build_windows", counting_build)
    cache = tmp_path / "c"
    first = load_windows(tiny_hapt, cache_dir=cache)
    second = load_windows(tiny_hapt, cache_dir=cache)
    assert len(calls) == 1
    np.testing.assert_array_equal(first.X, second.X)

    load_windows(tiny_hapt, cache_dir=cache, hop=32)  # another setting: another entry
    assert len(calls) == 2

    labels = tiny_hapt / "RawData" / "labels.txt"
    stat = labels.stat()
    labels.write_text(labels.read_text().replace("2 300 800", "2 300 700"))
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: content decides
    changed = load_windows(tiny_hapt, cache_dir=cache)
    assert len(calls) == 3
    assert len(changed) == len(first) - 2


def test_a_corrupt_cache_entry_is_rebuilt(tiny_hapt, tmp_path):
    cache = tmp_path / "c"
    good = load_windows(tiny_hapt, cache_dir=cache)
    (entry,) = cache.glob("windows-*.npz")
    entry.write_bytes(entry.read_bytes()[:100])  # a truncated file
    again = load_windows(tiny_hapt, cache_dir=cache)
    np.testing.assert_array_equal(good.X, again.X)
    assert WindowSet.load(entry).X.shape == good.X.shape


def test_an_interrupted_cache_write_leaves_no_entry(tiny_hapt, tmp_path, monkeypatch):
    cache = tmp_path / "c"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        load_windows(tiny_hapt, cache_dir=cache)
    assert list(cache.iterdir()) == []


def test_cache_key_covers_settings_and_content(tiny_hapt):
    files = sorted((tiny_hapt / "RawData").iterdir())
    key = cache_module.cache_key(files, tiny_hapt, {"hop": 64})
    assert key == cache_module.cache_key(files, tiny_hapt, {"hop": 64})
    assert key != cache_module.cache_key(files, tiny_hapt, {"hop": 32})


# --- bad input: every error names the file and line, and nothing is cached -------------------


def corrupt(path, line_number, new_line):
    lines = path.read_text().splitlines()
    lines[line_number - 1] = new_line
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("file", "line", "content", "message"),
    [
        ("acc_exp02_user01.txt", 17, "0.1 0.2", "expected 3 values, found 2"),
        ("gyro_exp01_user01.txt", 5, "0.1 abc 0.3", "value 2 is not a number"),
        ("acc_exp03_user03.txt", 9, "0.1 nan 0.3", "not finite"),
        ("labels.txt", 2, "1 1 13 500 599", "unknown activity id 13"),
        ("labels.txt", 3, "1 1 4 600 1000", "outside its file"),
        ("labels.txt", 4, "2 1 1 0", "expected 5 integers"),
        ("labels.txt", 4, "2 7 1 0 300", "belongs to user 1"),
        ("labels.txt", 4, "9 9 1 0 300", r"experiment 9 \(user 9\) has no signal files"),
        ("labels.txt", 3, "1 1 4 450 999", "overlaps"),
    ],
)
def test_bad_files_name_file_and_line(tiny_hapt, tmp_path, file, line, content, message):
    corrupt(tiny_hapt / "RawData" / file, line, content)
    cache = tmp_path / "c"
    with pytest.raises(DataError, match=message) as error:
        load_windows(tiny_hapt, cache_dir=cache)
    assert error.value.path.name == file
    assert error.value.line == line
    assert f"line {line}" in str(error.value)
    assert not cache.exists() or not list(cache.iterdir())


def test_missing_file_and_length_mismatch(tmp_path):
    root = write_hapt(tmp_path / "a", {(1, 1): 300}, [(1, 1, 1, 0, 299)])
    (root / "RawData" / "gyro_exp01_user01.txt").unlink()
    with pytest.raises(DataError, match=r"gyro_exp01_user01\.txt: file not found"):
        load_windows(root, cache_dir=None)

    root = write_hapt(tmp_path / "b", {(1, 1): 300}, [(1, 1, 1, 0, 299)])
    gyro = root / "RawData" / "gyro_exp01_user01.txt"
    gyro.write_text("\n".join(gyro.read_text().splitlines()[:-3]) + "\n")
    with pytest.raises(DataError, match=r"300 samples, but gyro_exp01_user01\.txt has 297"):
        load_windows(root, cache_dir=None)


def test_binary_junk_and_empty_files(tmp_path):
    root = write_hapt(tmp_path / "a", {(1, 1): 300}, [(1, 1, 1, 0, 299)])
    (root / "RawData" / "acc_exp01_user01.txt").write_bytes(b"\x00\xff\xfe junk \x80" * 10)
    with pytest.raises(DataError, match=r"acc_exp01_user01\.txt, line 1: not UTF-8"):
        load_windows(root, cache_dir=None)
    (root / "RawData" / "acc_exp01_user01.txt").write_text("")
    with pytest.raises(DataError, match="no data"):
        load_windows(root, cache_dir=None)


def test_uci_har_bad_input(tiny_uci):
    root, _ = tiny_uci
    base = root / "UCI HAR Dataset" / "train"
    (base / "y_train.txt").write_text("1\n2\n7\n4\n5\n")
    with pytest.raises(DataError, match=r"y_train.txt, line 3: 7 is not an integer from 1 to 6"):
        load_windows(root, cache_dir=None)
    (base / "y_train.txt").write_text("1\n2\n3\n4\n")
    with pytest.raises(DataError, match=r"4 labels, but subject_train\.txt has 5"):
        load_windows(root, cache_dir=None)
    (base / "y_train.txt").write_text("1\n2\n3\n4\n5\n")
    corrupt(base / "Inertial Signals" / "body_gyro_y_train.txt", 2, "1.0 2.0")
    with pytest.raises(DataError, match=r"body_gyro_y_train.txt, line 2: expected 128 values"):
        load_windows(root, cache_dir=None)


def test_not_a_data_set(tmp_path):
    with pytest.raises(DataError, match="not a data set folder"):
        load_windows(tmp_path, cache_dir=None)
    with pytest.raises(DataError, match="folder not found"):
        load_windows(tmp_path / "nope", cache_dir=None)
