"""``harlite serve`` on a LAN, tried as an attacker would (issue 28, items 9–17): cross-site
requests (a real Chromium), slow and piled-up connections, closed pages, MQTT without limits
(a real mosquitto), unbounded per-phone state, hostile numbers and bytes, a clock that jumps,
and a port that cannot be had. Every server is a real process on loopback; every wait is
bounded."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")

from harlite.runtime.io.mqtt import QUEUE_LIMIT, MessageQueue
from harlite.runtime.io.push import MAX_HELD_SAMPLES, MAX_IGNORED_NAMES, PushAssembler, parse_push
from harlite.serve.replay import sensor_logger_messages
from harlite.serve.settings import BODIES_IN_FLIGHT_BYTES, BODIES_PER_CLIENT_BYTES, MAX_PAGES
from tests.runtime.test_push import demo_rows
from tests.serve.test_mqtt import TOPIC, broker, publish, wait_for  # noqa: F401 (broker: a fixture)
from tests.serve_tools import ServerProcess, post_json, read_events, request

TOKEN = "test-token-0123456789"
T0 = 1_764_400_000_000_000_000
HUGE = b"9" * 5000  # a whole number Python refuses to read (over 4,300 digits)


def state_of(server: ServerProcess, query: str = "") -> dict:
    status, state, _ = request(f"{server.url}/api/state{query}")
    assert status == 200, state
    return state


def wait_until(check, timeout: float = 10.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    return check()


def raw_request(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read the answer until the server closes (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def no_traceback(server: ServerProcess) -> None:
    assert "Traceback" not in server.stderr, server.stderr[-3000:]


# --- 9: cross-site requests ----------------------------------------------------------------


def post_untyped(port: int, path: str, body: bytes) -> int:
    """The status of a POST with no Content-Type (nor Origin): a raw client's push."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_state_changing_request_from_another_site_is_refused_and_a_phone_s_push_taken(
    tmp_path,
):
    body = next(sensor_logger_messages(demo_rows(5), device="phone"))[1]
    with ServerProcess("lstm", "--record-dir", str(tmp_path / "rec")) as server:
        own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
        other = f"http://127.0.0.1:{server.port + 1}"
        assert request(f"{server.url}/push", body)[0] == 200  # a phone: no Origin
        assert post_untyped(server.port, "/push", body) == 200
        assert request(f"{server.url}/push", body, headers=own)[0] == 200
        for headers in ({"Origin": other}, {"Origin": "null"}, {"Sec-Fetch-Site": "same-site"},
                        {"Sec-Fetch-Site": "cross-site", "Origin": server.url}):  # fmt: skip
            status, answer, _ = request(f"{server.url}/push", body, headers=headers)
            assert status == 403 and "another site" in answer["error"]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert request(f"{server.url}/push", body, headers=form)[0] == 415
        session = state_of(server)["sessions"][0]["id"]
        start = f"{server.url}/api/sessions/{session}/record/start"
        label = json.dumps({"label": "EVIL"}).encode()
        assert request(start, label, headers={**own, "Content-Type": "text/plain"})[0] == 415
        assert request(start, label, headers={"Origin": other})[0] == 403
        stop = f"{server.url}/api/sessions/{session}/record/stop"
        assert request(stop, b"{}", headers={"Origin": other})[0] == 403
        state = state_of(server)
    assert state["bad_request_reasons"]["cross-site request"] == 6
    assert state["bad_request_reasons"]["wrong content type"] == 2
    assert state["sessions"][0]["pushes"] == 3 and state["sessions"][0]["recording"] is None
    no_traceback(server)


ATTACK = """<!doctype html><title>attack</title><script>
const server = "SERVER", push = JSON.stringify(PUSH);
const csv = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\\n" +
  Array.from({length: 300}, (_, i) => `${i / 50},0,1,0,0,0,0`).join("\\n");
const tries = [
  [server + "/push", "text/plain", push],
  [server + "/push?device=evil-csv", "text/csv", csv],
  [server + "/push", null, new Blob([push])],
  [server + "/api/sessions/SESSION/record/start", "text/plain", '{"label":"EVIL"}'],
];
Promise.allSettled(tries.map(([url, type, body]) => fetch(url, {
  method: "POST", mode: "no-cors", credentials: "include", body,
  headers: type ? {"Content-Type": type} : {},
}))).then(() => { document.title = "done"; });
</script>"""


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, httpd.server_address[1]


@pytest.mark.parametrize("token", [None, TOKEN], ids=["no token", "token cookie"])
def test_a_page_on_another_port_cannot_push_or_record_in_a_real_chromium(tmp_path, token):
    from tests.serve.test_serve_browser import CHROMIUM, DRIVER, WebDriverWait, webdriver

    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    if missing:
        pytest.skip(f"no {' or '.join(missing)}: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    browser.set_page_load_timeout(30)
    folder = tmp_path / "recordings"
    body = next(sensor_logger_messages(demo_rows(5), device="phone"))[1]
    args = ("--record-dir", str(folder), *(("--token", token) if token else ()))
    query = f"?token={token}" if token else ""
    site = tmp_path / "site"
    site.mkdir()
    httpd = None
    try:
        with ServerProcess("lstm", *args) as server:
            assert request(f"{server.url}/push{query}", body)[0] == 200
            session = state_of(server, query)["sessions"][0]["id"]
            push = json.dumps(json.loads(next(sensor_logger_messages(
                demo_rows(5), device="evil phone"))[1]))  # fmt: skip
            page = ATTACK.replace("SERVER", server.url).replace("SESSION", session)
            (site / "attack.html").write_text(page.replace("PUSH", push))
            httpd, port = serve_folder(site)
            browser.get(f"{server.url}/{query}")  # the user opened the page: the cookie is set
            WebDriverWait(browser, 15).until(lambda d: d.title)
            pages = [f"http://127.0.0.1:{port}/attack.html"]
            if token is None:
                pages.append((site / "attack.html").as_uri())  # a file opened from disk
            for url in pages:
                browser.get(url)
                WebDriverWait(browser, 15).until(lambda d: d.title == "done")
            time.sleep(0.5)
            state = state_of(server, query)
    finally:
        browser.quit()
        if httpd is not None:
            httpd.shutdown()
    assert [s["device"] for s in state["sessions"]] == ["phone"]
    assert state["sessions"][0]["recording"] is None and not folder.exists()
    assert state["bad_request_reasons"]["cross-site request"] == 4 * len(pages)
    no_traceback(server)


# --- 10: slow clients ----------------------------------------------------------------------


def test_idle_and_half_sent_requests_are_closed_after_the_client_timeout():
    with ServerProcess("lstm", "--client-timeout", "1") as server:
        started = time.monotonic()
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=8)
        half_headers = socket.create_connection(("127.0.0.1", server.port), timeout=8)
        half_headers.sendall(b"POST /push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        half_body = socket.create_connection(("127.0.0.1", server.port), timeout=8)
        half_body.sendall(b"POST /push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                          b"application/json\r\nContent-Length: 100000\r\n\r\n{\"pay")  # fmt: skip
        answers = []
        for sock in (idle, half_headers, half_body):
            data = b""
            try:
                while chunk := sock.recv(4096):
                    data += chunk
            except (TimeoutError, ConnectionResetError):
                pass
            answers.append(data)
            sock.close()
        waited = time.monotonic() - started
        reasons = state_of(server)["bad_request_reasons"]
    assert waited < 7, "a connection was still open"
    assert answers[0] == answers[1] == b"" and b" 408 " in answers[2].split(b"\r\n")[0]
    assert reasons["connection closed: no complete request in time"] >= 2
    assert reasons["body too slow"] == 1
    no_traceback(server)


def test_a_flood_of_connections_leaves_the_phone_s_push_answered():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (200, hard))  # the server's: 68 connections
    try:
        server = ServerProcess("lstm", "--token", TOKEN)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    body = next(sensor_logger_messages(demo_rows(5), device="phone"))[1]
    flood = []
    with server:
        for _ in range(300):
            with contextlib.suppress(OSError):
                flood.append(socket.create_connection(("127.0.0.1", server.port), timeout=0.5))
        status, answer, _ = request(f"{server.url}/push?token={TOKEN}", body, timeout=5)
        reasons = state_of(server, f"?token={TOKEN}")["bad_request_reasons"]
        for sock in flood:
            sock.close()
    assert status == 200, answer
    assert reasons["connection closed: too many open connections"] >= 150
    assert "Too many open files" not in server.stderr
    no_traceback(server)


def push_from(port: int, body: bytes, source: str) -> tuple[int, bytes]:
    """A phone's push from another loopback address (``source``, e.g. 127.0.0.2)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/push", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_bodies_sent_slowly_cost_at_most_the_bodies_in_flight_budget():
    size = 4 << 20
    phone = next(sensor_logger_messages(demo_rows(5), device="phone"))[1]
    with ServerProcess("lstm") as server:
        before = rss_mb(server.process.pid)
        senders = []
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            head = b"POST /push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            sock.sendall(head + b"Content-Length: %d\r\n\r\n" % (size - 1))
            with contextlib.suppress(TimeoutError, ConnectionError):
                sock.sendall(b" " * (3 << 20))  # most of it, then nothing more
            senders.append(sock)
        time.sleep(1.0)
        grown = rss_mb(server.process.pid) - before
        # one client's uploads hold only its share: a phone at another address is taken
        status, answer = push_from(server.port, phone, "127.0.0.2")
        reasons = state_of(server)["bad_request_reasons"]
        for sock in senders:
            sock.close()
    assert status == 200, answer
    admitted = BODIES_PER_CLIENT_BYTES // size
    assert reasons["busy: too many bodies being received"] == 40 - admitted
    assert grown < 2 * BODIES_IN_FLIGHT_BYTES / 2**20, f"{grown:.0f} MB"
    no_traceback(server)


def test_slow_chunked_bodies_hold_only_what_they_sent_so_a_phone_still_pushes():
    # Counted at --max-body each, 8 chunked uploads trickling a few bytes (each within the
    # client timeout) held the whole budget: every phone got 503.
    phone = next(sensor_logger_messages(demo_rows(5), device="phone"))[1]
    with ServerProcess("lstm") as server:
        senders = []
        for _ in range(12):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"POST /push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"1\r\n{\r\n")  # fmt: skip
            senders.append(sock)
        time.sleep(0.5)
        for sock in senders:  # renewing well within the client timeout
            sock.sendall(b"1\r\n \r\n")
        status, answer, _ = request(f"{server.url}/push", phone)  # the same address
        big = (4 << 20) + 1  # and a chunked body beyond --max-body is still refused
        head = (b"POST /push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                b"\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % big)  # fmt: skip
        too_large = raw_request(server.port, head + b" " * big + b"\r\n0\r\n\r\n")
        reasons = state_of(server)["bad_request_reasons"]
        for sock in senders:
            sock.close()
    assert status == 200, answer
    assert too_large.startswith(b"HTTP/1.1 413"), too_large[:200]
    assert reasons.get("busy: too many bodies being received", 0) == 0
    no_traceback(server)


# --- 11: closed pages ----------------------------------------------------------------------


def test_a_page_that_closes_its_feed_frees_its_slot_at_once():
    with ServerProcess("lstm") as server:
        for _ in range(MAX_PAGES + 8):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert wait_until(lambda: state_of(server)["pages"] == 0, timeout=3)
        events = read_events(f"{server.url}/api/events", 1, timeout=5)
    assert events and events[0][0] == "state"


# --- 12, 14: MQTT limits and hostile values (a real mosquitto) ------------------------------


def test_the_mqtt_hand_over_queue_drops_and_counts_beyond_its_bounds():
    small = MessageQueue(max_message_bytes=1000)
    assert not small.offer(b"x" * 1001) and small.too_large == 1
    taken = sum(small.offer(b"{}") for _ in range(QUEUE_LIMIT + 10))
    assert taken == QUEUE_LIMIT and small.dropped == 10
    big = MessageQueue(max_message_bytes=8 << 20)
    taken = sum(big.offer(b"x" * (8 << 20)) for _ in range(10))
    assert taken * (8 << 20) <= big.max_bytes and big.dropped == 10 - taken
    assert big.get() is not None and small.get(timeout=0.01) == b"{}"


def test_serve_refuses_mqtt_messages_over_the_body_limit_and_counts_bad_ones(broker):  # noqa: F811
    good = [b for _, b in sensor_logger_messages(demo_rows(12), device="mqtt phone")]
    numbers = b'{"deviceId": "x", "payload": [' + b"1," * (1 << 19) + b"1]}"  # 1 MiB
    huge_int = b'{"messageId": 0, "payload": [{"name": "gyroscope", "time": %s}]}' % HUGE
    url = f"mqtt://127.0.0.1:{broker['tcp']}/{TOPIC}"
    with ServerProcess("lstm", "--mqtt", url, "--max-body", str(1 << 16)) as server:
        assert server.wait_for_line("mqtt:  subscribed to"), server.stderr
        before = rss_mb(server.process.pid)
        publish(broker["tcp"], [numbers, huge_int, *good])
        state = wait_until(lambda: (s := state_of(server))["sessions"] and s, timeout=20)
        state = wait_until(lambda: (s := state_of(server))["sessions"][0]["windows"] and s)
        grown = rss_mb(server.process.pid) - before
    reasons = state["bad_request_reasons"]
    assert reasons["mqtt message too large"] == 1
    assert reasons["not a push"] == 1  # the 5,000-digit number: a counted bad push
    assert state["sessions"][0]["device"] == "mqtt phone"
    assert grown < 40, f"{grown:.0f} MB"
    no_traceback(server)


def test_stream_from_mqtt_counts_a_huge_number_and_a_huge_message_as_bad_rows(
    broker,  # noqa: F811
    tmp_path,
):
    bodies = [b for _, b in sensor_logger_messages(demo_rows(30))]
    huge_int = b'{"messageId": 3, "payload": [{"name": "gyroscope", "time": %s}]}' % HUGE
    big = b'{"payload": [], "pad": "' + b"x" * (5 << 20) + b'"}'
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input",
         f"mqtt://127.0.0.1:{broker['tcp']}/{TOPIC}", "--idle-timeout", "3",
         "--output", str(out), "--summary", str(summary)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(process, "subscribed to")
        publish(broker["tcp"], [*bodies[:3], huge_int, big, *bodies[3:]])
        assert process.wait(60) == 0
        stderr = process.stderr.read()
    finally:
        process.kill()
    assert "Traceback" not in stderr
    reasons = json.loads(summary.read_text())["bad_row_reasons"]
    assert reasons["not a Sensor Logger push"] == 1
    assert reasons["MQTT message too large"] == 1
    assert len(out.read_text().splitlines()) > 10


# --- 13: per-phone state -------------------------------------------------------------------


def message(number: int, entries: list[tuple[str, int]]) -> bytes:
    payload = [{"name": name, "time": t, "values": {"x": 0.1, "y": 9.8, "z": 0.2}}
               for name, t in entries]  # fmt: skip
    return json.dumps({"messageId": number, "sessionId": "s", "deviceId": "d",
                       "payload": payload}).encode()  # fmt: skip


def test_acceleration_waiting_for_a_gyroscope_is_bounded_by_count_and_by_arrival_time():
    crowded = PushAssembler()  # samples 1 µs apart: 5 s of the phone's clock holds them all
    for n in range(20):
        crowded.add(parse_push(message(n, [("totalacceleration", T0 + (n * 5000 + k) * 1000)
                                           for k in range(5000)])), n * 0.01)  # fmt: skip
    assert len(crowded._series["totalacceleration"].times) <= MAX_HELD_SAMPLES
    stopped = PushAssembler()  # the gyroscope stops; acceleration goes on, one push a second
    bad = 0
    for n in range(30):
        entries = [(name, T0 + (n * 50 + k) * 20_000_000) for k in range(50)
                   for name in (("totalacceleration", "gyroscope") if n < 3
                                else ("totalacceleration",))]  # fmt: skip
        bad += len(stopped.add(parse_push(message(n, entries)), float(n)).bad)
    assert len(stopped._series["totalacceleration"].times) <= 6 * 50
    assert bad >= 27 * 50 - 6 * 50
    assert "gyroscope stopped" in stopped.warnings[0]


def test_unused_sensor_names_are_counted_within_a_bound():
    names = [(f"sensor{k}", T0 + k) for k in range(5000)]
    with ServerProcess("lstm") as server:
        for n in range(3):
            assert request(f"{server.url}/push", message(n, names))[0] == 200
        session = state_of(server)["sessions"][0]
    assert len(session["ignored_sensors"]) == MAX_IGNORED_NAMES + 1
    assert sum(session["ignored_sensors"].values()) == 3 * 5000


# --- 14, 15: hostile values and bytes ------------------------------------------------------


def test_a_5000_digit_number_in_a_push_is_a_counted_400():
    bodies = [
        b'{"messageId": 0, "payload": [{"name": "gyroscope", "time": %s}]}' % HUGE,
        b'{"messageId": 0, "payload": [{"name": "gyroscope", "time": 1, "values": '
        b'{"x": 1%s, "y": 0, "z": 0}}]}' % (b"0" * 400),
        b'{"messageId": %s, "payload": []}' % (b"9" * 100),
    ]
    with ServerProcess("lstm") as server:
        statuses = [request(f"{server.url}/push", body)[0] for body in bodies]
        state = state_of(server)
    assert statuses == [400, 200, 400]
    assert state["bad_requests"] == 2
    assert state["sessions"][0]["bad_row_reasons"] == {"non-finite value": 1}
    no_traceback(server)


def test_a_lone_surrogate_in_a_push_s_ids_is_replaced_and_never_a_500(tmp_path):
    # JSON "\ud800" reads as a str no hash, file or page can encode (UnicodeEncodeError)
    rows = demo_rows(6)
    bodies = [b for _, b in sensor_logger_messages(rows, device="\ud800phone", session="\udfff")]
    assert b"\\ud800phone" in bodies[0]  # the escape itself travels, as a phone would send it
    csv_push = (b"POST /push?device=%ED%A0%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: text/csv\r\nX-Device-Id: \xed\xa0\x80\r\nContent-Length: 3\r\n"
                b"Connection: close\r\n\r\n1,2")  # fmt: skip
    with ServerProcess("lstm", "--record-dir", str(tmp_path)) as server:
        assert request(f"{server.url}/push", bodies[0])[0] == 200
        session = state_of(server)["sessions"][0]
        url = f"{server.url}/api/sessions/{session['id']}/record"
        assert post_json(f"{url}/start", {"label": "WALKING"})[0] == 200
        statuses = [request(f"{server.url}/push", body)[0] for body in bodies[1:]]
        status, saved, _ = post_json(f"{url}/stop", {})
        csv_status = raw_request(server.port, csv_push).split(b"\r\n")[0]
        state = state_of(server)
    assert session["device"] == "\ufffdphone" and statuses == [200] * (len(bodies) - 1)
    assert status == 200, saved
    assert b" 500 " not in csv_status, csv_status
    assert (tmp_path / saved["file"]).is_file()
    index = (tmp_path / "recordings.csv").read_text(encoding="utf-8")
    assert "\ufffdphone" in index
    assert state["bad_request_reasons"].get("internal error", 0) == 0
    no_traceback(server)


def test_a_token_with_bytes_that_are_not_utf8_is_a_counted_401():
    with ServerProcess("lstm", "--token", TOKEN) as server:
        answers = [
            raw_request(server.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Authorization: Bearer \xff\xfe" + TOKEN.encode() + b"\r\n"
                        b"Connection: close\r\n\r\n"),
            raw_request(server.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Cookie: harlite_token=\xc3\x28\xff\r\nConnection: close\r\n\r\n"),
            raw_request(server.port, b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"X-Harlite-Token: \xed\xa0\x80\r\nConnection: close\r\n\r\n"),
        ]  # fmt: skip
        state = state_of(server, f"?token={TOKEN}")
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 401 Unauthorized"] * 3
    assert state["bad_request_reasons"]["no or wrong token"] == 3
    no_traceback(server)


# --- 16: push timestamps -------------------------------------------------------------------


@pytest.mark.parametrize("sensor", ["totalacceleration", "gyroscope"])
def test_one_entry_a_day_ahead_is_one_bad_row_and_the_windows_go_on(sensor):
    bodies = []
    for n, (_, body) in enumerate(sensor_logger_messages(demo_rows(30))):
        data = json.loads(body)
        if n == 1:
            entry = [e for e in data["payload"] if e["name"] == sensor][25]
            entry["time"] += 86_400 * 10**9
        bodies.append(json.dumps(data).encode())
    with ServerProcess("lstm", "--session-timeout", "1") as server:
        for body in bodies:
            assert request(f"{server.url}/push", body)[0] == 200
        ended = wait_until(lambda: state_of(server)["ended"], timeout=20)[0]
    assert ended["bad_row_reasons"] == {"timestamp jumped ahead": 1}
    assert ended["windows"] >= 20  # 30 s: 22 windows without the outlier


# --- 17: where the server cannot listen -----------------------------------------------------


def test_a_port_in_use_is_a_plain_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "harlite.cli", "serve", "lstm", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_ipv6_host_in_brackets_is_listened_on():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    process = subprocess.Popen(
        [sys.executable, "-m", "harlite.cli", "serve", "lstm", "--host", "[::1]", "--port", "0"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "listening on" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
        assert "listening on http://[::1]:" in line, line
        port = int(line.rsplit(":", 1)[1])
        status, state, _ = request(f"http://[::1]:{port}/api/state")
        assert status == 200 and state["sessions"] == []
    finally:
        process.terminate()
        process.wait(20)
    assert "Traceback" not in process.stderr.read()


def test_the_limits_the_readme_promises_are_the_server_s():
    from harlite.runtime.io.mqtt import QUEUE_BYTES
    from harlite.serve.settings import (
        DEFAULT_CLIENT_TIMEOUT_S,
        DEFAULT_MAX_BODY_BYTES,
        MAX_CONNECTIONS,
    )

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    promised = readme[readme.index("**The server on a LAN.**") :]
    promised = " ".join(promised[: promised.index("\n- ")].split())
    for number in (f"{DEFAULT_MAX_BODY_BYTES >> 20} MiB (`--max-body`)",
                   f"{DEFAULT_CLIENT_TIMEOUT_S:g} s (`--client-timeout`)",
                   f"{MAX_CONNECTIONS} connections",
                   f"{BODIES_IN_FLIGHT_BYTES >> 20} MiB of bodies",
                   f"{BODIES_PER_CLIENT_BYTES >> 20} MiB per client address",
                   f"{MAX_PAGES} pages", f"{QUEUE_LIMIT:,} messages and {QUEUE_BYTES >> 20} MiB",
                   f"{MAX_HELD_SAMPLES:,} samples", f"{MAX_IGNORED_NAMES} unused"):  # fmt: skip
        assert number in promised, number
