"""Recording from the page never loses a recording (issue 28, items 1–8): a real ``harlite
serve`` on loopback, phones played to it, the recordings folder read back as training reads it."""

from __future__ import annotations

import csv
import fcntl
import os
import resource
import shutil
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")

from harlite.serve.recorder import (
    HEADER,
    Recorder,
    RecordingError,
    RecordingRequest,
    folder_lock,
)
from harlite.serve.replay import sensor_logger_messages
from harlite.serve.sessions import session_id
from harlite.train.recording_meta import DatasetFolder, find_recordings
from tests.runtime.test_push import demo_rows
from tests.serve_tools import ServerProcess, post_json, request

ROWS = demo_rows(40)


class Phone:
    """One phone session pushing the demo recording, one second a push."""

    def __init__(self, server: ServerProcess, device: str, session: str = "session-1") -> None:
        self.server = server
        self.bodies = [b for _, b in sensor_logger_messages(ROWS, device=device, session=session)]
        self.sent = 0
        self.id = session_id(device, session)
        self.push(2)

    def push(self, count: int) -> None:
        for body in self.bodies[self.sent : self.sent + count]:
            status, answer, _ = request(f"{self.server.url}/push", body)
            assert status == 200, answer
        self.sent += count

    def record(self, action: str, **body) -> tuple[int, dict]:
        status, answer, _ = post_json(
            f"{self.server.url}/api/sessions/{self.id}/record/{action}", body
        )
        return status, answer

    def state(self) -> dict:
        _, state, _ = request(f"{self.server.url}/api/state")
        return next(s for s in state["sessions"] if s["id"] == self.id)


def index_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "recordings.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_recording(path: Path, seconds: float = 5.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ROWS[ROWS[:, 0] < ROWS[0, 0] + seconds]
    np.savetxt(path, rows, fmt="%.6f", delimiter=",", header=HEADER, comments="")


def next_second() -> None:
    """Wait for the start of a wall-clock second (recordings are named to the second)."""
    time.sleep(1.02 - time.time() % 1.0)


def test_recordings_of_one_phone_and_label_in_one_second_each_keep_their_own_file(tmp_path):
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        first, second = Phone(server, "phone-1", "a"), Phone(server, "phone-1", "b")
        next_second()
        assert first.record("start", label="WALKING")[0] == 200
        assert second.record("start", label="WALKING")[0] == 200
        first.push(2)
        second.push(3)
        saved = [first.record("stop")[1], second.record("stop")[1]]
        assert first.record("start", label="WALKING")[0] == 200  # a Start/Stop/Start mis-click
        first.push(2)
        saved.append(first.record("stop")[1])
    files = [s["file"] for s in saved]
    assert len(set(files)) == 3, files
    for recording in saved:
        kept = np.loadtxt(tmp_path / recording["file"], delimiter=",", skiprows=1)
        assert len(kept) == recording["samples"] > 0
    assert sorted(r["file"] for r in index_rows(tmp_path)) == sorted(files)
    assert len(find_recordings(DatasetFolder.locate(tmp_path))) == 3


def test_a_recording_that_cannot_be_saved_at_shutdown_does_not_lose_the_others(tmp_path):
    server = ServerProcess("lstm", "--record-dir", str(tmp_path))
    try:
        phones = [Phone(server, f"phone-{n}") for n in range(3)]
        for phone, label in zip(phones, ("KEPT1", "GONE", "KEPT2"), strict=True):
            assert phone.record("start", label=label)[0] == 200
            phone.push(3)
        shutil.rmtree(tmp_path / "GONE")  # its folder deleted while it records
    finally:
        status = server.stop()
    assert status == 0 and "Traceback" not in server.stderr, server.stderr
    assert "GONE/" in server.stderr and "could not be saved" in server.stderr, server.stderr
    assert sorted(r["label"] for r in index_rows(tmp_path)) == ["KEPT1", "KEPT2"]
    for label in ("KEPT1", "KEPT2"):
        assert len(list((tmp_path / label).glob("*.csv"))) == 1
        assert not list((tmp_path / label).glob(".*.partial"))


def _small_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))


def test_a_recording_that_cannot_be_written_stops_with_its_reason_and_classifying_goes_on(
    tmp_path,
):
    # Any file the server writes stops at 20 kB, as on a full disk: the recording fails.
    with ServerProcess(
        "lstm", "--record-dir", str(tmp_path), preexec_fn=_small_file_limit
    ) as server:
        phone = Phone(server, "phone-1")
        assert phone.record("start", label="WALKING")[0] == 200
        phone.push(10)  # ~40 kB of samples
        stopped = phone.state()
        phone.push(10)  # every push still answered 200 (Phone.push checks)
        state = phone.state()
        status, answer = phone.record("stop")
    assert stopped["recording"] is None
    assert "recording stopped" in " ".join(stopped["warnings"]), stopped["warnings"]
    assert "File too large" in stopped["recording_error"]
    assert state["windows"] > stopped["windows"] > 0  # still classifying
    assert status == 400 and "File too large" in answer["error"], answer
    assert "internal error" not in answer["error"]
    assert "Traceback" not in server.stderr


def test_the_first_page_recording_indexes_every_recording_the_folder_already_held(tmp_path):
    for name in ("s04/WALKING/x.csv", "s04/SITTING/y.csv", "s05/WALKING/morning.csv.gz"):
        write_recording(tmp_path / name)
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        phone = Phone(server, "phone-1")
        assert phone.record("start", label="STANDING", subject=6)[0] == 200
        phone.push(3)
        status, saved = phone.record("stop")
    assert status == 200
    found = find_recordings(DatasetFolder.locate(tmp_path))
    assert sorted((r.name, r.label, r.subject) for r in found) == [
        ("STANDING/" + Path(saved["file"]).name, "STANDING", 6),
        ("s04/SITTING/y.csv", "SITTING", 4),
        ("s04/WALKING/x.csv", "WALKING", 4),
        ("s05/WALKING/morning.csv.gz", "WALKING", 5),
    ]


def test_the_first_page_recording_indexes_only_what_the_settings_files_glob_chooses(tmp_path):
    # With an index, exactly its files are the data set: a first index listing every CSV would
    # add files the user's ``files`` glob left out (here a notes table, which refuses the set).
    write_recording(tmp_path / "WALKING" / "s01_a.csv")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "s02_summary.csv").write_text("person,comment\n2,tired\n")
    (tmp_path / "dataset.toml").write_text('files = "[A-Z]*/*.csv"\n')
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        phone = Phone(server, "phone-1")
        assert phone.record("start", label="SITTING", subject=1)[0] == 200
        phone.push(3)
        status, saved = phone.record("stop")
    assert status == 200, saved
    assert "notes/s02_summary.csv" not in {row["file"] for row in index_rows(tmp_path)}
    found = find_recordings(DatasetFolder.locate(tmp_path))
    assert sorted(r.name for r in found) == [saved["file"], "WALKING/s01_a.csv"]


@pytest.mark.parametrize("problem", ["link out", "bad settings"])
def test_a_folder_the_reader_refuses_refuses_the_first_recording_at_start(tmp_path, problem):
    # the first index would hide the refusal: the link's recording would vanish unsaid
    folder, outside = tmp_path / "rec", tmp_path / "elsewhere.csv"
    write_recording(folder / "WALKING" / "s01_a.csv")
    if problem == "link out":
        write_recording(outside)
        (folder / "WALKING" / "s01_b.csv").symlink_to(outside)
    else:
        (folder / "dataset.toml").write_text("files = [\n")
    with pytest.raises(RecordingError, match=r"outside the data set|settings"):
        Recorder(folder, RecordingRequest("SITTING"), device="d", session="s",
                 platform="android", max_s=60.0)  # fmt: skip
    assert not (folder / "recordings.csv").exists()
    assert not (folder / "SITTING").exists()


def test_a_user_index_with_other_column_spellings_and_its_own_fields_is_kept(tmp_path):
    write_recording(tmp_path / "walk" / "a.csv")
    write_recording(tmp_path / "sit" / "b.csv")
    original = (
        "File,Label,Subject,Notes\n"
        'walk/a.csv,WALKING,1,"first walk, outdoors"\n'
        "sit/b.csv,SITTING,2,\n"
    )
    broken = original.encode("utf-8") + b"\xff\n"
    (tmp_path / "recordings.csv").write_bytes(broken)
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        phone = Phone(server, "phone-1")
        status, answer = phone.record("start", label="WALKING", subject=3, placement="pocket")
        assert status == 400 and "recordings.csv" in answer["error"], answer  # not UTF-8
        assert (tmp_path / "recordings.csv").read_bytes() == broken
        (tmp_path / "recordings.csv").write_text(original, encoding="utf-8")
        assert phone.record("start", label="WALKING", subject=3, placement="pocket")[0] == 200
        phone.push(3)
        status, saved = phone.record("stop")
    assert status == 200
    with (tmp_path / "recordings.csv").open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:4] == ["File", "Label", "Subject", "Notes"]  # the user's spelling
    assert [c.lower() for c in lines[0]].count("file") == 1
    assert lines[1][:4] == ["walk/a.csv", "WALKING", "1", "first walk, outdoors"]
    assert lines[2][:4] == ["sit/b.csv", "SITTING", "2", ""]
    found = find_recordings(DatasetFolder.locate(tmp_path))
    assert [(r.name, r.label, r.subject) for r in found] == [
        ("walk/a.csv", "WALKING", 1),
        ("sit/b.csv", "SITTING", 2),
        (saved["file"], "WALKING", 3),
    ]
    assert found[0].extra["notes"] == "first walk, outdoors"
    assert found[2].placement == "pocket" and found[2].extra["device"] == "phone-1"


def wait_exit(server: ServerProcess, timeout: float) -> int | None:
    """The server's exit status once it ends by itself (None past ``timeout``: then stopped)."""
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.stop()
        return None
    return server.stop()  # it has ended: this only collects its stderr


def test_a_stop_waiting_for_the_folder_lock_outlasts_a_holder_that_keeps_saving(tmp_path):
    # Another server saving many recordings rewrites the index again and again while this
    # one polls for the lock; polling rarely finds it free, and a fixed 5 s deadline lost a
    # recording on a busy machine. Progress renews the wait; a stuck holder does not. (The
    # holder keeps the lock across its rewrites here: freeing it between them let the poll
    # win the lock early now and then, and the test then showed nothing.)
    taken = threading.Event()

    def other_server() -> None:
        descriptor = os.open(tmp_path, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            taken.set()
            for n in range(30):
                (tmp_path / "recordings.csv").write_text(f"file\n{n}.csv\n")
                time.sleep(0.03)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    holder = threading.Thread(target=other_server)
    holder.start()
    assert taken.wait(5)
    started = time.monotonic()
    try:
        with folder_lock(tmp_path, wait_s=0.3):  # 30 × 30 ms: far longer than 0.3 s
            waited = time.monotonic() - started
    finally:
        holder.join(10)
    assert waited > 0.3
    descriptor = os.open(tmp_path, os.O_RDONLY)  # a holder that does nothing: refused
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        with pytest.raises(RecordingError, match=r"locked for 0\.3 s"), folder_lock(tmp_path, 0.3):
            pass
    finally:
        os.close(descriptor)


def test_two_servers_recording_into_one_folder_index_every_file_they_save(tmp_path):
    servers = [ServerProcess("lstm", "--record-dir", str(tmp_path)) for _ in range(2)]
    try:
        for n, server in enumerate(servers):
            for k in range(12):
                phone = Phone(server, f"server{n}-phone{k}")
                assert phone.record("start", label="WALKING")[0] == 200
                phone.push(2)
    finally:
        for server in servers:  # both stop at the same moment, saving 24 recordings
            server.process.send_signal(signal.SIGINT)
        # one Ctrl-C each: stop() would send another to a server still saving (and one that
        # lands as the process exits is a KeyboardInterrupt); a loaded machine saves slowly
        codes = [wait_exit(server, 120) for server in servers]
    assert codes == [0, 0], [s.stderr for s in servers]
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("WALKING/*.csv"))
    assert len(files) == 24
    assert sorted(r["file"] for r in index_rows(tmp_path)) == files
    assert len(find_recordings(DatasetFolder.locate(tmp_path))) == 24


def test_labels_that_name_the_folder_s_own_files_are_refused_at_start(tmp_path):
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        phone = Phone(server, "phone-1")
        for label in ("recordings.csv", "Recordings.CSV", "dataset.toml", "dataset.json"):
            status, answer = phone.record("start", label=label)
            assert status == 400 and label in answer["error"], (label, answer)
        assert not (tmp_path / "recordings.csv").exists()
        assert phone.record("start", label="WALKING")[0] == 200
        phone.push(2)
        assert phone.record("stop")[0] == 200
    assert [r["label"] for r in index_rows(tmp_path)] == ["WALKING"]


def test_labels_the_reader_would_take_for_a_subject_or_a_case_twin_are_refused_at_start(
    tmp_path,
):
    # "s01/…" would read as subject 1, and a folder where other recordings have no subject
    # would be refused whole; "walking" beside "WALKING" is one folder on a case-insensitive
    # disk, holding two classes.
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        phone = Phone(server, "phone-1")
        assert phone.record("start", label="WALKING")[0] == 200
        phone.push(2)
        assert phone.record("stop")[0] == 200
        for label in ("s01", "P30", "user7", "walk s2", "Subject 4"):
            status, answer = phone.record("start", label=label)
            assert status == 400 and "subject" in answer["error"], (label, answer)
        for label in ("walking", "Walking"):
            status, answer = phone.record("start", label=label)
            assert status == 400 and "'WALKING'" in answer["error"], (label, answer)
        for label in ("SITTING", "WALKING", "stairs up"):
            assert phone.record("start", label=label)[0] == 200, label
            phone.push(2)
            assert phone.record("stop")[0] == 200, label
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "SITTING", "WALKING", "stairs up"]  # fmt: skip
    found = find_recordings(DatasetFolder.locate(tmp_path))  # the reader takes the folder
    assert sorted(r.label for r in found) == ["SITTING", "WALKING", "WALKING", "stairs up"]


def _record(folder: Path, label: str, subject: int | None) -> None:
    recorder = Recorder(folder, RecordingRequest(label, subject), device="phone",
                        session="s", platform="android", max_s=60.0)  # fmt: skip
    recorder.add(ROWS[:200])
    recorder.stop()


def test_a_subject_given_or_left_out_unlike_the_folder_s_other_recordings_is_refused_at_start(
    tmp_path,
):
    # the reader takes a subject for every recording or none: a recording made without one
    # beside ones with a subject (or the reverse) made data info and train refuse the folder
    with_subjects, without = tmp_path / "with", tmp_path / "without"
    _record(with_subjects, "WALKING", 3)
    _record(without, "WALKING", None)
    with pytest.raises(RecordingError, match=r"subject: .*have one \(WALKING/s03_"):
        Recorder(with_subjects, RecordingRequest("SITTING"), device="phone", session="s",
                 platform="android", max_s=60.0)  # fmt: skip
    with pytest.raises(RecordingError, match=r"subject: .*have none .*leave it empty"):
        Recorder(without, RecordingRequest("SITTING", 4), device="phone", session="s",
                 platform="android", max_s=60.0)  # fmt: skip
    _record(with_subjects, "SITTING", 4)
    _record(without, "SITTING", None)
    for folder in (with_subjects, without):  # the reader takes both folders
        found = find_recordings(DatasetFolder.locate(folder))
        assert sorted(r.label for r in found) == ["SITTING", "WALKING"], folder
    assert {r.subject for r in find_recordings(DatasetFolder.locate(with_subjects))} == {3, 4}


def _umask_027() -> None:
    os.umask(0o027)


def test_recording_files_take_the_umask_s_mode_as_the_index_does(tmp_path):
    with ServerProcess("lstm", "--record-dir", str(tmp_path), preexec_fn=_umask_027) as server:
        phone = Phone(server, "phone-1")
        assert phone.record("start", label="WALKING")[0] == 200
        phone.push(2)
        status, saved = phone.record("stop")
    assert status == 200
    modes = {stat.S_IMODE((tmp_path / name).stat().st_mode)
             for name in (saved["file"], "recordings.csv")}  # fmt: skip
    assert modes == {0o640}
