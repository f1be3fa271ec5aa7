"""A ``harlite serve`` process for tests and benchmarks, and small HTTP helpers (loopback
only, every wait bounded)."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

READY = re.compile(r"listening on (https?)://([^:]+):(\d+)")


class ServerProcess:
    """``harlite serve BUNDLE --port 0 ARGS…`` in a child process; ``url`` once it listens.

    Its stderr is collected in ``stderr`` (to check that no traceback was printed).
    """

    def __init__(
        self,
        bundle: str | Path = "lstm",
        *args: str,
        timeout: float = 60.0,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        command = [sys.executable, "-m", "harlite.cli", "serve", str(bundle), "--port", "0",
                   *args]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=preexec_fn,  # a limit or umask for the server alone
        )  # fmt: skip
        self.lines: list[str] = []
        ready = threading.Event()
        self.port: int | None = None
        self.scheme = "http"

        def drain() -> None:
            for line in self.process.stderr:
                self.lines.append(line)
                match = READY.search(line)
                if match and self.port is None:
                    self.scheme, self.port = match.group(1), int(match.group(3))
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()
        if not ready.wait(timeout) or self.port is None:
            self.stop()
            raise RuntimeError(f"harlite serve did not start: {''.join(self.lines)[-2000:]}")
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 20.0) -> bool:
        """Whether a stderr line containing ``text`` arrives within ``timeout`` seconds.

        The announcement is several lines and the reader thread collects them as they come,
        so a line after the first may not be in ``stderr`` yet when ``url`` is known.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr:
                return True
            if self.process.poll() is not None and not self._reader.is_alive():
                return text in self.stderr
            time.sleep(0.05)
        return text in self.stderr

    def stop(self, timeout: float = 20.0) -> int:
        """SIGINT (as Ctrl-C), then wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._reader.join(5)
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def request(
    url: str,
    body: bytes | None = None,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict | str, dict[str, str]]:
    """(status, JSON or text body, headers) of one request; error statuses are returned."""
    heads = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, body, heads, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, data, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, data, got = error.code, error.read(), dict(error.headers)
    text = data.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text), got
    except json.JSONDecodeError:
        return status, text, got


def post_json(url: str, data: object, **kwargs) -> tuple[int, dict | str, dict[str, str]]:
    return request(url, json.dumps(data).encode(), **kwargs)


def read_events(url: str, count: int, timeout: float = 20.0, headers=None) -> list[tuple]:
    """The first ``count`` Server-Sent Events of ``url`` as (kind, data, arrival time)."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    events, kind, deadline = [], None, time.monotonic() + timeout
    try:
        while len(events) < count and time.monotonic() < deadline:
            line = response.fp.readline().decode()
            if not line:
                break
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line[5:]), time.monotonic()))
    finally:
        connection.close()
    return events
