"""``harlite serve`` end to end: a real server process on loopback, phones played to it as
Sensor Logger pushes, the API, the live feed, security and recording from the API."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")

from harlite.serve.feed import Event, Subscriber
from harlite.serve.replay import sensor_logger_messages
from tests.runtime.test_push import DEMO, demo_rows, shuffled_with_duplicates, write_export
from tests.serve_tools import ServerProcess, post_json, read_events, request

TOKEN = "test-token-0123456789"


def stream_predictions(tmp_path, source) -> list[dict]:
    out = tmp_path / "stream.jsonl"
    subprocess.run(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input", str(source),
         "--output", str(out), "--quiet"],
        check=True, timeout=300,
    )  # fmt: skip
    return [json.loads(line) for line in out.read_text().splitlines()]


def push_all(server: ServerProcess, bodies, query: str = "") -> None:
    for body in bodies:
        status, answer, _ = request(f"{server.url}/push{query}", body)
        assert status == 200, answer


def server_predictions(server: ServerProcess, expected: int, timeout: float = 30.0) -> list:
    """Wait for the session to end (its last windows flushed), then read its predictions."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, state, _ = request(f"{server.url}/api/state")
        if not state["sessions"] and state["ended"]:
            break
        time.sleep(0.2)
    _, found, _ = request(f"{server.url}/api/predictions?since=0&limit=10000")
    assert not found["predictions"] or len(found["predictions"]) >= 1
    return found["predictions"]


def same(server: list[dict], stream: list[dict]) -> None:
    assert len(server) == len(stream) > 0
    for a, b in zip(server, stream, strict=True):
        assert a["label"] == b["label"]
        assert a["start_time"] == b["start_time"] and a["end_time"] == b["end_time"]
        assert a["probabilities"] == b["probabilities"]


def test_a_replayed_recording_gives_the_predictions_of_harlite_stream_on_its_samples(tmp_path):
    rows = demo_rows(90)
    export = tmp_path / "export"
    export.mkdir()
    write_export(export, rows, gyro_offset_ns=3_000_000)  # the same samples, as a file
    bodies = [b for _, b in sensor_logger_messages(rows, gyro_offset_ns=3_000_000)]
    with ServerProcess("lstm", "--session-timeout", "2") as server:
        push_all(server, shuffled_with_duplicates(bodies, seed=3))  # 1 s batches, mixed up
        got = server_predictions(server, 0)
        _, state, _ = request(f"{server.url}/api/state")
    ended = state["ended"][0]
    assert ended["duplicates"] == len(bodies) // 10 and ended["reordered"] > 0
    assert ended["missing_messages"] == 0
    assert ended["ignored_sensors"] == {"battery": len(bodies), "orientation": len(bodies)}
    same(got, stream_predictions(tmp_path, export))  # the export through harlite stream
    assert "Traceback" not in server.stderr


def test_the_shipped_recording_pushed_gives_the_labels_of_harlite_stream_on_the_csv(tmp_path):
    rows = demo_rows(120)
    csv = tmp_path / "part.csv"
    np.savetxt(csv, rows, delimiter=",", fmt="%.10g",
               header="t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z", comments="")  # fmt: skip
    bodies = [b for _, b in sensor_logger_messages(rows)]
    with ServerProcess("lstm", "--session-timeout", "2") as server:
        push_all(server, bodies)
        got = server_predictions(server, 0)
    expected = stream_predictions(tmp_path, csv)
    assert [p["label"] for p in got] == [p["label"] for p in expected]
    for a, b in zip(got, expected, strict=True):  # m/s² and epoch ns round trips: 1e-4
        for label, p in b["probabilities"].items():
            assert a["probabilities"][label] == pytest.approx(p, abs=1e-4)


def test_csv_lines_can_be_pushed_too(tmp_path):
    rows = demo_rows(20)
    text = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n" + "\n".join(
        ",".join(f"{v:.10g}" for v in row) for row in rows
    )
    with ServerProcess("lstm") as server:
        status, answer, _ = request(f"{server.url}/push?device=pi-logger", text.encode(),
                                    headers={"Content-Type": "text/csv"})  # fmt: skip
        assert status == 200 and answer["windows"] == 14
        _, state, _ = request(f"{server.url}/api/state")
    assert state["sessions"][0]["device"] == "pi-logger"
    assert state["sessions"][0]["source"] == "csv"


def test_malformed_pushes_are_400_with_the_reason_and_counted_never_a_traceback():
    with ServerProcess("lstm", "--max-body", "2048") as server:
        cases = [
            (b"not json", 400, "not JSON"),
            (b"[]", 400, "not an object"),
            (b'{"payload": 5}', 400, "payload"),
            (b"[" * 50_000, 413, "larger than"),
            (json.dumps({"payload": [], "messageId": "x"}).encode(), 400, "messageId"),
        ]
        for body, status, reason in cases:
            got, answer, headers = request(f"{server.url}/push", body)
            assert got == status and reason in answer["error"], (body[:20], answer)
            assert headers["Content-Type"].startswith("application/json")
        _, state, _ = request(f"{server.url}/api/state")
        assert state["bad_requests"] == len(cases)
        assert request(f"{server.url}/push", b"{}", method="GET")[0] == 405
        assert request(f"{server.url}/nowhere")[0] == 404
    assert "Traceback" not in server.stderr


def test_the_token_is_needed_on_push_page_api_and_feed():
    bodies = [b for _, b in sensor_logger_messages(demo_rows(5))]
    with ServerProcess("lstm", "--token", TOKEN) as server:
        for path in ("/", "/api/state", "/api/events", "/api/predictions", "/static/app.js"):
            assert request(f"{server.url}{path}")[0] == 401, path
            assert request(f"{server.url}{path}?token=wrong-token-000")[0] == 401, path
        assert request(f"{server.url}/push", bodies[0])[0] == 401
        assert request(f"{server.url}/push?token={TOKEN}", bodies[0])[0] == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert request(f"{server.url}/push", bodies[1], headers=bearer)[0] == 200
        status, page, headers = request(f"{server.url}/?token={TOKEN}")
        assert status == 200 and "harlite" in page
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = {"Cookie": cookie.split(";")[0]}
        assert request(f"{server.url}/api/state", headers=jar)[0] == 200
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert TOKEN not in server.stderr  # the token is not printed


def test_listening_beyond_loopback_needs_a_token_or_no_token():
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "serve", "lstm", "--host", "0.0.0.0",
         "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--token" in result.stderr and "Traceback" not in result.stderr
    short = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "serve", "lstm", "--token", "abc"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert short.returncode == 2 and "at least 8 characters" in short.stderr


def test_without_a_token_only_this_machine_s_host_names_are_answered():
    with ServerProcess("lstm") as server:
        assert request(f"{server.url}/api/state")[0] == 200
        status, answer, _ = request(f"{server.url}/api/state", headers={"Host": "evil.example"})
        assert status == 403 and "not this machine" in answer["error"]
        host = {"Host": f"localhost:{server.port}"}
        assert request(f"{server.url}/api/state", headers=host)[0] == 200


def test_the_feed_sends_the_state_then_predictions_and_session_updates():
    bodies = [b for _, b in sensor_logger_messages(demo_rows(10))]
    with ServerProcess("lstm") as server:
        import threading

        got: list = []
        reader = threading.Thread(
            target=lambda: got.extend(read_events(f"{server.url}/api/events", 8))
        )
        reader.start()
        time.sleep(0.5)
        push_all(server, bodies)
        reader.join(30)
    kinds = [kind for kind, _, _ in got]
    assert kinds[0] == "state" and "prediction" in kinds and "session" in kinds
    prediction = next(data for kind, data, _ in got if kind == "prediction")
    assert set(prediction) >= {"seq", "session", "label", "confidence", "probabilities"}


def test_a_page_that_reads_too_slowly_is_told_to_resync_and_holds_at_most_its_limit():
    async def run() -> Subscriber:
        subscriber = Subscriber(limit=5)
        for n in range(100):
            subscriber.offer(Event("prediction", {"n": n}))
            assert subscriber.queue.qsize() <= 5
        return subscriber

    import asyncio

    subscriber = asyncio.run(run())
    assert subscriber.resyncs > 0
    kinds = []
    while not subscriber.queue.empty():
        kinds.append(subscriber.queue.get_nowait().kind)
    assert "resync" in kinds


def test_recording_from_the_api_writes_a_labelled_recordings_folder_that_training_reads(
    tmp_path,
):
    from harlite.train.recording_meta import DatasetFolder, find_recordings

    folder = tmp_path / "recordings"
    rows = demo_rows(40)
    bodies = [b for _, b in sensor_logger_messages(rows, device="phone-1")]
    with ServerProcess("lstm", "--record-dir", str(folder)) as server:
        push_all(server, bodies[:5])
        _, state, _ = request(f"{server.url}/api/state")
        session = state["sessions"][0]["id"]
        base = f"{server.url}/api/sessions/{session}/record"
        for bad in ({"label": "../etc"}, {"label": ""}, {"label": "OK", "subject": "x"},
                    {"label": "OK", "placement": "<b>"}, []):  # fmt: skip
            status, answer, _ = post_json(f"{base}/start", bad)
            assert status == 400 and answer["error"], bad
        assert post_json(f"{base}/stop", {})[0] == 400  # not recording
        status, started, _ = post_json(
            f"{base}/start", {"label": "WALKING", "subject": "3", "placement": "pocket"}
        )
        assert status == 200 and started["label"] == "WALKING"
        assert post_json(f"{base}/start", {"label": "WALKING"})[0] == 400  # already
        push_all(server, bodies[5:25])
        assert not list(folder.glob("WALKING/*.csv"))  # a temporary file until it stops
        status, saved, _ = post_json(f"{base}/stop", {})
        assert status == 200
        push_all(server, bodies[25:30])  # later samples are not in the recording
        assert post_json(f"{server.url}/api/sessions/000000000000/record/stop", {})[0] == 400
    path = folder / saved["file"]
    assert path.parent.name == "WALKING" and path.name.startswith("s03_")
    recorded = np.loadtxt(path, delimiter=",", skiprows=1)
    assert saved["samples"] == len(recorded) == 1000  # 20 batches of 1 s at 50 Hz
    assert np.allclose(recorded[:, 1:], rows[250:1250, 1:], atol=1e-6)
    assert not list(folder.rglob("*.partial"))
    found = find_recordings(DatasetFolder.locate(folder))
    assert [(r.name, r.label, r.subject, r.placement) for r in found] == [
        (saved["file"], "WALKING", 3, "pocket")
    ]
    assert found[0].extra["device"] == "phone-1"


def test_an_idle_session_ends_and_its_recording_is_saved(tmp_path):
    bodies = [b for _, b in sensor_logger_messages(demo_rows(12))]
    with ServerProcess("lstm", "--record-dir", str(tmp_path), "--session-timeout", "1") as server:
        push_all(server, bodies[:2])
        _, state, _ = request(f"{server.url}/api/state")
        session = state["sessions"][0]["id"]
        post_json(f"{server.url}/api/sessions/{session}/record/start", {"label": "STANDING"})
        push_all(server, bodies[2:8])
        time.sleep(2.5)
        _, state, _ = request(f"{server.url}/api/state")
    assert state["sessions"] == [] and state["ended"][0]["recordings"][0]["samples"] == 300
    assert len(list(tmp_path.glob("STANDING/*.csv"))) == 1


def test_sessions_beyond_the_limit_are_refused():
    rows = demo_rows(3)
    with ServerProcess("lstm", "--max-sessions", "2") as server:
        for n, device in enumerate(("a", "b", "c")):
            body = next(sensor_logger_messages(rows, device=device))[1]
            status, answer, _ = request(f"{server.url}/push", body)
            assert status == (503 if n == 2 else 200)
        assert "--max-sessions" in answer["error"]


def test_ctrl_c_saves_a_recording_in_progress(tmp_path):
    bodies = [b for _, b in sensor_logger_messages(demo_rows(10))]
    server = ServerProcess("lstm", "--record-dir", str(tmp_path))
    try:
        push_all(server, bodies[:2])
        _, state, _ = request(f"{server.url}/api/state")
        session = state["sessions"][0]["id"]
        post_json(f"{server.url}/api/sessions/{session}/record/start", {"label": "SITTING"})
        push_all(server, bodies[2:6])
    finally:
        assert server.stop() == 0
    assert len(list(tmp_path.glob("SITTING/*.csv"))) == 1
    assert (tmp_path / "recordings.csv").read_text().count("\nSITTING/") == 1


def test_the_page_and_its_files_come_from_the_package_with_no_network_fetch():
    with ServerProcess("lstm") as server:
        _, page, _ = request(f"{server.url}/")
        _, script, headers = request(f"{server.url}/static/app.js")
        _, style, _ = request(f"{server.url}/static/style.css")
        assert request(f"{server.url}/static/../settings.py")[0] == 404
    assert headers["Content-Type"].startswith("text/javascript")
    for text in (page, script, style):
        assert "http://" not in text.replace("http://127", "") and "https://" not in text
    assert "innerHTML" not in script  # server text is only ever set as textContent
    assert DEMO.exists()
