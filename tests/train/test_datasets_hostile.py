"""Recordings folders as a careless user or an attacker leaves them (issue 28, "Data sets",
items 18 to 21): every problem is an error naming the file, line and key, never a traceback,
and nothing is read twice or silently left out."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import DataError
from harlite.train.recording_meta import DatasetFolder, find_recordings
from tests.builders import canonical_csv

RATE = 50.0


def plain(path: Path, n: int = 700, seed: int = 0, spin: bool = False) -> Path:
    """A canonical CSV without a label column (its folder labels it)."""
    rng = np.random.default_rng(seed)
    raw = np.hstack((np.tile([0.0, 0.0, 1.0], (n, 1)), np.zeros((n, 3))))
    raw += 0.01 * rng.standard_normal(raw.shape)
    if spin:
        raw[:, 5] += 2.0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(canonical_csv(np.column_stack((np.arange(n) / RATE, raw))))
    return path


def two_classes(root: Path) -> Path:
    plain(root / "WALKING" / "s01_rec.csv", spin=True)
    plain(root / "TABLE" / "s01_rec.csv", seed=1)
    return root


def data_info(root: Path):
    return CliRunner().invoke(cli, ["data", "info", str(root)], catch_exceptions=False)


def refused(root: Path) -> str:
    """``harlite data info``'s error: a message, never a traceback."""
    result = data_info(root)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return result.output


def recordings(root: Path):
    return find_recordings(DatasetFolder.locate(root))


# --- 18. hostile settings and index files ---------------------------------------------------


def test_a_nul_byte_in_the_index_is_refused_with_its_line(tmp_path):
    root = two_classes(tmp_path)
    (root / "recordings.csv").write_bytes(
        b"file,label\nTABLE/s01_rec.csv,TABLE\nWALKING/s01\0_rec.csv,WALKING\n"
    )
    output = refused(root)
    assert "recordings.csv, line 3" in output and "NUL" in output


def test_an_index_field_beyond_the_csv_limit_is_refused_with_its_line(tmp_path):
    root = two_classes(tmp_path)
    (root / "recordings.csv").write_text("file,label\nTABLE/s01_rec.csv," + "X" * 200_000 + "\n")
    assert "recordings.csv, line 2" in refused(root)


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("dataset.toml", 'labels = ["TABLE", "WALKING"]\nrate = ' + "9" * 5000 + "\n", 2),
        ("dataset.json", '{"labels": ["TABLE", "WALKING"],\n"rate": ' + "9" * 5000 + "}", 2),
        ("dataset.json", '{"test_subjects": [' + "7" * 5000 + "]}", 1),
    ],
)
def test_a_5000_digit_integer_in_the_settings_names_the_file_line_and_key(
    tmp_path, name, text, line
):
    root = two_classes(tmp_path)
    (root / name).write_text(text)
    output = refused(root)
    key = "test_subjects" if "test_subjects" in text else "rate"
    assert f"{name}, line {line}, field '{key}'" in output and "5,000 digits" in output


def test_numbers_too_large_for_their_use_are_refused_by_key(tmp_path):
    root = two_classes(tmp_path)
    (root / "dataset.toml").write_text("rate = " + "9" * 400 + "\n")
    assert "field 'rate': too large" in refused(root)
    (root / "dataset.toml").write_text("rate = 0x" + "f" * 5000 + "\n")  # hex: no digit limit
    assert "field 'rate': too large" in refused(root)
    (root / "dataset.toml").write_text("test_subjects = [" + "9" * 40 + "]\n")
    assert "field 'test_subjects'" in refused(root)
    (root / "dataset.toml").unlink()
    (root / "recordings.csv").write_text(
        "file,subject\nTABLE/s01_rec.csv,1\nWALKING/s01_rec.csv," + "9" * 30 + "\n"
    )
    assert "recordings.csv, line 3, field 'subject'" in refused(root)


def test_settings_nested_beyond_the_parser_s_depth_are_refused(tmp_path):
    root = two_classes(tmp_path)
    (root / "dataset.json").write_text("[" * 100_000)
    assert "dataset.json" in refused(root)


@pytest.mark.parametrize(
    "pattern, message",
    [("/tmp/*.csv", "is absolute"), ("C:/data/*.csv", "is absolute"), ("../*/*.csv", "'..'")],
)
def test_a_files_glob_out_of_the_folder_is_refused_by_key(tmp_path, pattern, message):
    root = two_classes(tmp_path)
    (root / "dataset.toml").write_text(f'files = "{pattern}"\n')
    output = refused(root)
    assert "dataset.toml, field 'files'" in output and message in output


def test_a_files_glob_chooses_the_recordings(tmp_path):
    root = two_classes(tmp_path)
    plain(root / "WALKING" / "notes" / "s02_calibration.csv")
    (root / "dataset.toml").write_text('files = "*/s01_*.csv"\n')
    assert [r.name for r in recordings(root)] == ["TABLE/s01_rec.csv", "WALKING/s01_rec.csv"]
    (root / "dataset.toml").write_text('files = "**/s0[2]_*.csv"\n')
    assert [r.name for r in recordings(root)] == ["WALKING/notes/s02_calibration.csv"]


@pytest.mark.parametrize("pattern", [r"(?:s(\\d+))?", r"x(\\d+)|s01"])
def test_a_subject_pattern_whose_group_is_optional_is_refused_by_key(tmp_path, pattern):
    root = two_classes(tmp_path)
    (root / "dataset.toml").write_text(f'subject_pattern = "{pattern}"\n')
    output = refused(root)
    assert "dataset.toml, field 'subject_pattern'" in output and "optional group" in output


def test_an_index_without_a_label_column_labels_by_the_label_folder(tmp_path):
    """docs/own-data.md: labels come from the file's label column, the index's, else the
    file's folder."""
    root = two_classes(tmp_path)
    (root / "recordings.csv").write_text(
        "file,subject,label\nTABLE/s01_rec.csv,1,\nWALKING/s01_rec.csv,2,WALKING\n"
    )
    assert [(r.label, r.label_origin) for r in recordings(root)] == [
        ("TABLE", "folder"),
        ("WALKING", "recordings.csv line 3"),
    ]
    (root / "recordings.csv").write_text(
        "file,subject\nTABLE/s01_rec.csv,1\nWALKING/s01_rec.csv,2\n"
    )
    result = data_info(root)
    assert result.exit_code == 0, result.output
    assert "TABLE" in result.output and "WALKING" in result.output


# --- 19. the same file twice ----------------------------------------------------------------


def test_the_same_file_twice_in_an_index_is_refused_by_its_resolved_path(tmp_path):
    root = two_classes(tmp_path)
    (root / "recordings.csv").write_text(
        "file,subject\nWALKING/s01_rec.csv,1\nTABLE/s01_rec.csv,2\nWALKING/./s01_rec.csv,3\n"
    )
    output = refused(root)
    assert "recordings.csv, line 4, field 'file'" in output
    assert "the same file as WALKING/s01_rec.csv (line 2)" in output
    (root / "recordings.csv").write_text(
        "file\nWALKING/s01_rec.csv\nTABLE/../WALKING/s01_rec.csv\n"
    )
    assert "line 3" in refused(root)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_link_in_an_index_to_a_listed_file_is_the_same_file(tmp_path):
    root = two_classes(tmp_path)
    os.symlink("s01_rec.csv", root / "WALKING" / "s03_rec.csv")
    (root / "recordings.csv").write_text("file\nWALKING/s01_rec.csv\nWALKING/s03_rec.csv\n")
    assert "the same file as WALKING/s01_rec.csv" in refused(root)


# --- 20. unzipped Sensor Logger exports in label folders ------------------------------------


def sensor_logger_export(folder: Path) -> Path:
    """The sample Sensor Logger export, unzipped into ``folder``."""
    from harlite.cli.stream import DEMO_RECORDING

    folder.mkdir(parents=True)
    with zipfile.ZipFile(DEMO_RECORDING.parent / "sensorlogger-sample.zip") as archive:
        archive.extractall(folder)
    return folder


def test_each_unzipped_export_in_a_label_folder_is_one_recording_labelled_by_it(tmp_path):
    for subject in ("s01", "s02"):
        sensor_logger_export(tmp_path / subject / "WALKING" / "morning")
        sensor_logger_export(tmp_path / subject / "WALKING" / "evening")
        plain(tmp_path / subject / "TABLE" / "desk.csv")
    found = recordings(tmp_path)
    assert [(r.name, r.label, r.subject) for r in found] == [
        ("s01/TABLE/desk.csv", "TABLE", 1),
        ("s01/WALKING/evening", "WALKING", 1),
        ("s01/WALKING/morning", "WALKING", 1),
        ("s02/TABLE/desk.csv", "TABLE", 2),
        ("s02/WALKING/evening", "WALKING", 2),
        ("s02/WALKING/morning", "WALKING", 2),
    ]
    result = data_info(tmp_path)
    assert result.exit_code == 0, result.output
    assert "WALKING" in result.output and "s01/WALKING/evening" in result.output


def test_an_export_folder_in_a_top_level_label_folder(tmp_path):
    sensor_logger_export(tmp_path / "WALKING" / "export")
    plain(tmp_path / "TABLE" / "desk.csv")
    assert [(r.name, r.label) for r in recordings(tmp_path)] == [
        ("TABLE/desk.csv", "TABLE"),
        ("WALKING/export", "WALKING"),
    ]
    result = data_info(tmp_path)
    assert result.exit_code == 0, result.output


# --- 21. links: one rule for files and folders, reported ------------------------------------

needs_links = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")


@needs_links
def test_a_linked_label_folder_inside_the_data_set_is_read(tmp_path):
    root = tmp_path / "data"
    plain(root / ".store" / "walk" / "s01_rec.csv", spin=True)
    plain(root / "TABLE" / "s01_rec.csv")
    os.symlink(".store/walk", root / "WALKING")
    assert [(r.name, r.label) for r in recordings(root)] == [
        ("TABLE/s01_rec.csv", "TABLE"),
        ("WALKING/s01_rec.csv", "WALKING"),
    ]


@needs_links
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_link_out_of_the_data_set_is_refused_and_named(tmp_path, kind):
    root = two_classes(tmp_path / "data")
    outside = plain(tmp_path / "elsewhere" / "s02_rec.csv")
    if kind == "file":
        os.symlink(outside, root / "TABLE" / "s02_rec.csv")
        link = "TABLE/s02_rec.csv"
    else:
        os.symlink(outside.parent, root / "SITTING")
        link = "SITTING"
    output = refused(root)
    assert f"{root / link}: a link to {outside if kind == 'file' else outside.parent}" in output
    assert "outside the data set folder" in output


@needs_links
def test_a_link_that_makes_a_second_way_to_a_recording_is_refused(tmp_path):
    root = two_classes(tmp_path)
    os.symlink("WALKING", root / "RUNNING")
    output = refused(root)
    assert "the same folder as" in output and "RUNNING" in output


@needs_links
@pytest.mark.parametrize("target", ["..", "missing.csv"])
def test_loops_and_broken_links_are_refused(tmp_path, target):
    root = two_classes(tmp_path)
    os.symlink(target, root / "TABLE" / ("up" if target == ".." else "s02_rec.csv"))
    output = refused(root)
    assert ("a loop" if target == ".." else "a broken link") in output


def test_refusals_are_data_errors_naming_the_path(tmp_path):
    root = two_classes(tmp_path)
    (root / "dataset.toml").write_text('files = "/abs/*.csv"\n')
    with pytest.raises(DataError) as caught:
        recordings(root)
    assert caught.value.path == root / "dataset.toml" and caught.value.field == "files"
