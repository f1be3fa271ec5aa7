"""``harlite serve`` for a person with a phone (issue 29, the server): the push layout the
docs give works, one meaning of ``samples``, no panel from a test push, what the terminal
says, the addresses and QR code for the phone, ``harlite replay``, and the device's name in
recording files. Real servers on loopback only; nothing is sent to any other address."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")

from harlite.serve import lan
from harlite.serve.recorder import MAX_DEVICE_IN_NAME, device_file_name
from harlite.serve.replay import sensor_logger_messages
from tests.runtime.test_push import demo_rows
from tests.serve_tools import ServerProcess, post_json, request

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serve.md"
TOKEN = "test-token-0123456789"


def push(server: ServerProcess, body: bytes, query: str = "") -> dict:
    status, answer, _ = request(f"{server.url}/push{query}", body)
    assert status == 200, answer
    return answer


def state(server: ServerProcess) -> dict:
    return request(f"{server.url}/api/state")[1]


def docs_curl_example() -> tuple[list[str], dict]:
    """The headers and JSON body of the curl example in docs/serve.md."""
    block = re.search(r"```console\n\$ curl (.*?)```", DOCS.read_text(), re.S).group(1)
    headers = re.findall(r"-H '([^']*)'", block)
    body = json.loads(re.search(r"-d '(.*?)'", block, re.S).group(1))
    return headers, body


def test_the_push_example_in_the_docs_works_against_a_server():
    headers, body = docs_curl_example()
    assert "Content-Type: application/json" in headers
    with ServerProcess("lstm") as server:
        answer = push(server, json.dumps(body).encode())
        entries = [e for e in body["payload"] if e["name"] in ("totalacceleration", "gyroscope")]
        assert answer["session"] and answer["readings"] == len(entries) > 0
        (session,) = state(server)["sessions"]
        assert session["device"] == body["deviceId"] and session["bad_rows"] == 0
        assert session["ignored_sensors"] == {"battery": 1}


def test_readings_in_the_reply_and_samples_in_the_state_mean_one_thing_each():
    rows = demo_rows(3)  # 50 Hz: 150 instants, each an accelerometer and a gyroscope reading
    bodies = [b for _, b in sensor_logger_messages(rows)]
    with ServerProcess("lstm") as server:
        answers = [push(server, body) for body in bodies]
        session = state(server)["sessions"][0]
    assert sum(a["readings"] for a in answers) == 2 * len(rows)
    assert all(a["samples"] == a["readings"] for a in answers)  # the old name, for a release
    # the state's samples are instants (aligned rows), the same word the recordings use
    assert 0 < session["samples"] <= len(rows) < sum(a["readings"] for a in answers)


def test_an_empty_test_push_starts_no_session_and_shows_no_panel():
    empty = {"messageId": 0, "sessionId": "test", "deviceId": "pixel", "payload": []}
    with ServerProcess("lstm") as server:
        answer = push(server, json.dumps(empty).encode())
        assert answer == {"session": None, "readings": 0, "samples": 0, "windows": 0}
        csv = request(f"{server.url}/push?device=pi", b"", headers={"Content-Type": "text/csv"})
        assert csv[0] == 200 and csv[1]["session"] is None
        assert state(server)["sessions"] == []
        assert server.wait_for_line("test push from 'pixel'")
        # a phone that then sends samples gets its panel
        push(server, next(sensor_logger_messages(demo_rows(2), device="pixel"))[1])
        assert [s["device"] for s in state(server)["sessions"]] == ["pixel"]


def test_the_terminal_tells_connects_and_recordings_and_ctrl_c_names_them(tmp_path):
    bodies = [b for _, b in sensor_logger_messages(demo_rows(12), device="Zoë's Galaxy S23")]
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        push(server, bodies[0])
        assert server.wait_for_line('phone "Zoë\'s Galaxy S23" connected')
        key = state(server)["sessions"][0]["id"]
        base = f"{server.url}/api/sessions/{key}/record"
        assert post_json(f"{base}/start", {"label": "WALKING"})[0] == 200
        assert server.wait_for_line("recording 'WALKING' started")
        for body in bodies[1:5]:
            push(server, body)
        status, first, _ = post_json(f"{base}/stop", {})
        assert status == 200
        assert server.wait_for_line(f"recording saved: {tmp_path / first['file']}")
        assert post_json(f"{base}/start", {"label": "STANDING"})[0] == 200
        for body in bodies[5:9]:
            push(server, body)
        assert server.stop() == 0  # Ctrl-C: the recording in progress is saved and named
    second = next(tmp_path.glob("STANDING/*.csv"))
    summary = server.stderr.split("stopped:")[1]
    assert f"2 recordings saved into {tmp_path}:" in summary
    assert str(tmp_path / first["file"]) in summary and str(second) in summary
    assert "ZoesGalaxyS23" in first["file"] and "ZoesGalaxyS23" in second.name
    assert "Traceback" not in server.stderr


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("Pixel 7", "Pixel-7"),
        ("Galaxy S23", "GalaxyS23"),
        ("S23 Ultra", "phoneS23Ultra"),  # not subject 23
        ("user 2", "phoneuser-2"),
        ("../../etc/passwd", "etcPasswd"),
        ("手机", None),  # nothing readable: a hash of it
        ("\ud800", None),  # a lone surrogate from a JSON escape
        ("x" * 200, "x" * MAX_DEVICE_IN_NAME),
    ],
)
def test_device_names_in_file_names_are_safe(device, expected):
    name = device_file_name(device)
    assert re.fullmatch(rf"[A-Za-z0-9_-]{{1,{MAX_DEVICE_IN_NAME}}}", name)
    assert name == expected or (expected is None and re.fullmatch(r"phone-[0-9a-f]{8}", name))


def test_a_device_s_name_is_never_read_as_a_subject_by_the_data_set_reader(tmp_path):
    from harlite.train.recording_meta import DEFAULT_SUBJECT_PATTERN

    for device in ("S23 Ultra", "Galaxy S 23", "user 2", "P30 Pro", "Pixel 7", "Moto g-54", "u 1"):
        path = f"WALKING/20260101T120000Z_{device_file_name(device)}.csv"
        assert re.search(DEFAULT_SUBJECT_PATTERN, path) is None, (device, path)


def test_lan_addresses_are_read_from_the_interfaces_with_or_without_psutil(monkeypatch):
    found = lan.lan_addresses()
    assert all(not a.address.startswith("127.") and ":" not in a.address for a in found)
    if sys.platform.startswith("linux"):
        monkeypatch.setattr(lan, "_psutil_addresses", lambda: None)
        assert {a.address for a in lan.lan_addresses()} == {a.address for a in found}
    monkeypatch.setattr(lan, "lan_addresses", lambda ipv6=False: [lan.LanAddress("10.1.2.3", "x")])
    assert lan.phone_urls("0.0.0.0", 8000) == [lan.PhoneUrl("http://10.1.2.3:8000", "x")]
    assert lan.phone_urls("127.0.0.1", 8000) == []  # no phone reaches loopback
    assert lan.phone_urls("fd00::5", 80) == [lan.PhoneUrl("http://[fd00::5]:80", "--host")]


def test_on_every_network_the_terminal_names_the_addresses_and_shows_a_qr(monkeypatch, capsys):
    from harlite.serve.settings import ServeSettings

    cli_serve = importlib.import_module("harlite.cli.serve")  # the module, not the command

    settings = ServeSettings(bundle=Path("lstm"), host="0.0.0.0", token=TOKEN)
    addresses = [lan.LanAddress("192.168.1.23", "wlan0"), lan.LanAddress("10.0.0.5", "eth0")]
    monkeypatch.setattr(lan, "lan_addresses", lambda ipv6=False: addresses)
    monkeypatch.setattr(cli_serve, "_is_terminal", lambda: True)
    cli_serve._announce(settings, "0.0.0.0", 8123)
    err = capsys.readouterr().err
    assert "push:  http://192.168.1.23:8123/push?token=TOKEN" in err
    assert "http://10.0.0.5:8123/push?token=TOKEN  (eth0)" in err
    assert TOKEN not in err.replace(lan.qr_terminal("x") or "", "")  # the text hides it
    if lan.qr_available():
        assert lan.qr_terminal(f"http://192.168.1.23:8123/push?token={TOKEN}") in err + "\n"
    monkeypatch.setattr(lan, "lan_addresses", lambda ipv6=False: [])
    cli_serve._announce(settings, "0.0.0.0", 8123)
    assert "hostname -I" in capsys.readouterr().err


def test_the_page_gets_the_push_urls_and_a_qr_code(monkeypatch):
    """The server listens on loopback; its settings say 0.0.0.0, as on a LAN."""
    from aiohttp.test_utils import TestClient, TestServer

    from harlite.cli.options import bundle_path
    from harlite.serve.app import make_app
    from harlite.serve.sessions import SessionHub
    from harlite.serve.settings import ServeSettings

    monkeypatch.setattr(lan, "lan_addresses", lambda ipv6=False: [lan.LanAddress("10.9.8.7", "x")])
    settings = ServeSettings(bundle=bundle_path("lstm"), host="0.0.0.0", token=TOKEN)

    async def ask() -> tuple[dict, int, str]:
        async with TestClient(TestServer(make_app(SessionHub(settings)), host="127.0.0.1")) as c:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            answer = await (await c.get("/api/connect", headers=auth)).json()
            page = await (await c.get("/", headers=auth)).text()
            script = await c.get("/static/connect.js", headers=auth)
            return answer, script.status, page, c.server.port

    answer, status, page, port = asyncio.run(ask())
    assert answer["push_urls"] == [{"url": f"http://10.9.8.7:{port}/push", "via": "x"}]
    assert status == 200 and "/static/connect.js" in page and 'id="push-qr"' in page
    if lan.qr_available():
        assert answer["qr"] == lan.qr_svg_data_uri(f"http://10.9.8.7:{port}/push?token={TOKEN}")
        assert answer["qr"].startswith("data:image/svg+xml")
    else:
        assert answer["qr"] is None and "harlite[lan]" in answer["qr_missing"]


def test_on_loopback_the_page_is_told_no_phone_reaches_it():
    with ServerProcess("lstm") as server:
        status, answer, _ = request(f"{server.url}/api/connect")
    assert status == 200 and answer["push_urls"] == [] and answer["qr"] is None


def replay_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harlite.cli", "replay", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_harlite_replay_plays_a_recording_to_the_server(tmp_path):
    recording = tmp_path / "walk.csv"
    np.savetxt(recording, demo_rows(20), delimiter=",", fmt="%.6f",
               header="t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z", comments="")  # fmt: skip
    with ServerProcess("lstm", "--token", TOKEN) as server:
        url = f"{server.url}/push"
        done = replay_command(str(recording), "--url", url, "--token", TOKEN, "--speed", "1000")
        assert done.returncode == 0, done.stderr
        (session,) = state_with_token(server)["sessions"]
        refused = replay_command(str(recording), "--url", url, "--token", "wrong-token-123")
    assert session["device"] == "replay" and session["windows"] > 0
    assert f"windows (session {session['id']}" in done.stderr
    assert f"sent 20 pushes ({2 * 1000} readings" in done.stderr
    assert refused.returncode == 1 and "answered 401: a token is needed" in refused.stderr
    assert "Traceback" not in refused.stderr
    closed = replay_command(str(recording), "--url", url, "--speed", "1000")
    assert closed.returncode == 1 and "cannot reach" in closed.stderr
    assert "Traceback" not in closed.stderr


def state_with_token(server: ServerProcess) -> dict:
    return request(f"{server.url}/api/state", headers={"Authorization": f"Bearer {TOKEN}"})[1]
