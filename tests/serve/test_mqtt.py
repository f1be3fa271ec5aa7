"""Sensor Logger's MQTT pushes, against a real broker (Debian's mosquitto) that the test
starts on loopback: ``harlite stream --input mqtt://…`` and ``harlite serve --mqtt``.

Skipped, with the reason printed, where mosquitto or paho-mqtt is not installed (``.ci/run``
installs both).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

from harlite.runtime.io.mqtt import parse_mqtt_url
from harlite.serve.replay import sensor_logger_messages
from tests.runtime.test_push import demo_rows, shuffled_with_duplicates, write_export

TOPIC = "sensor-logger"


def test_mqtt_urls_are_read_with_their_defaults_and_bad_ones_refused():
    address = parse_mqtt_url("mqtt://me:p%40ss@broker.local/sensor-logger")
    assert (address.host, address.port, address.topic) == ("broker.local", 1883, TOPIC)
    assert (address.username, address.password, address.transport) == ("me", "p@ss", "tcp")
    ws = parse_mqtt_url("mqtt+wss://broker:8884/a/b?path=/ws")
    assert (ws.transport, ws.tls, ws.port, ws.topic, ws.path) == ("websockets", True, 8884,
                                                                  "a/b", "/ws")  # fmt: skip
    for bad in ("http://x/t", "mqtt://host", "mqtt:///topic", "mqtt://host:99999/t"):
        with pytest.raises(ValueError):
            parse_mqtt_url(bad)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker(tmp_path):
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not shutil.os.path.exists(binary):
        print("SKIPPED MQTT test: no mosquitto (apt-get install mosquitto)")
        pytest.skip("no mosquitto broker: apt-get install mosquitto")
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed")
    tcp, ws = free_port(), free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {tcp} 127.0.0.1\nlistener {ws} 127.0.0.1\nprotocol websockets\n"
        "allow_anonymous true\npersistence false\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", tcp), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"mosquitto did not start: {process.stderr.read().decode()[-500:]}")
    yield {"tcp": tcp, "ws": ws}
    process.terminate()
    process.wait(10)


def publish(port: int, bodies: list[bytes]) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for body in bodies:
            client.publish(TOPIC, body, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def wait_for(process: subprocess.Popen, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if text in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"never saw {text!r}: {seen[-1000:]}")


def test_stream_classifies_a_phone_publishing_to_a_broker_like_its_export(broker, tmp_path):
    rows = demo_rows(60)
    export = tmp_path / "export"
    export.mkdir()
    write_export(export, rows, gyro_offset_ns=3_000_000)
    bodies = [b for _, b in sensor_logger_messages(rows, gyro_offset_ns=3_000_000)]
    other = next(sensor_logger_messages(rows[:50], device="another phone"))[1]
    out = tmp_path / "mqtt.jsonl"
    summary = tmp_path / "summary.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input",
         f"mqtt://127.0.0.1:{broker['tcp']}/{TOPIC}", "--idle-timeout", "3",
         "--output", str(out), "--summary", str(summary)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(process, "subscribed to")
        publish(broker["tcp"], [*shuffled_with_duplicates(bodies, seed=5), b"{oops", other])
        assert process.wait(60) == 0
    finally:
        process.kill()
    expected = tmp_path / "file.jsonl"
    subprocess.run([sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input",
                    str(export), "--output", str(expected), "--quiet"], check=True)  # fmt: skip
    got = [json.loads(line) for line in out.read_text().splitlines()]
    want = [json.loads(line) for line in expected.read_text().splitlines()]
    assert len(got) == len(want) > 30
    for a, b in zip(got, want, strict=True):
        assert (a["label"], a["end_time"], a["probabilities"]) == (
            b["label"], b["end_time"], b["probabilities"])  # fmt: skip
    reasons = json.loads(summary.read_text())["bad_row_reasons"]
    assert reasons["not a Sensor Logger push"] == 1
    assert reasons["from another phone or session (harlite serve shows several)"] == 1


@pytest.mark.parametrize("transport", ["tcp", "ws"])
def test_serve_takes_pushes_from_a_broker(broker, transport):
    pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")
    from tests.serve_tools import ServerProcess, request

    scheme = "mqtt" if transport == "tcp" else "mqtt+ws"
    url = f"{scheme}://127.0.0.1:{broker[transport]}/{TOPIC}"
    bodies = [b for _, b in sensor_logger_messages(demo_rows(20), device="mqtt phone")]
    with ServerProcess("lstm", "--mqtt", url) as server:
        assert server.wait_for_line("mqtt:  subscribed to"), server.stderr
        publish(broker["tcp"], bodies)
        deadline, state = time.monotonic() + 20, {}
        while time.monotonic() < deadline:
            _, state, _ = request(f"{server.url}/api/state")
            if state["sessions"] and state["sessions"][0]["windows"] >= 14:
                break
            time.sleep(0.2)
    session = state["sessions"][0]
    assert (session["device"], session["source"], session["windows"]) == ("mqtt phone", "mqtt", 14)


def test_an_unreachable_broker_is_a_clear_error(tmp_path):
    pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input",
         f"mqtt://127.0.0.1:{free_port()}/{TOPIC}", "--output", str(tmp_path / "o.jsonl")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "Traceback" not in result.stderr
