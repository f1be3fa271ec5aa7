"""Sensor Logger's pushes from an MQTT broker: ``mqtt://[USER:PASS@]HOST[:PORT]/TOPIC``.

Sensor Logger publishes (over websockets) to a broker; harlite subscribes to the same topic,
over TCP (``mqtt://``, port 1883; ``mqtts://``, TLS, 8883) or websockets (``mqtt+ws://``,
``mqtt+wss://``; ``?path=/mqtt`` names the websocket path). The client is paho-mqtt (the
``serve`` extra). Messages have the HTTP Push schema (:mod:`harlite.runtime.io.push`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.io.push import MAX_PUSH_BYTES, PushAssembler, PushError, parse_push
from harlite.runtime.rows import NOT_A_PUSH, OTHER_SESSION, TOO_LARGE, ParsedRows

SCHEMES = {  # scheme: (transport, TLS, default port)
    "mqtt": ("tcp", False, 1883),
    "mqtts": ("tcp", True, 8883),
    "mqtt+ws": ("websockets", False, 8000),
    "mqtt+wss": ("websockets", True, 8884),
}
#: Messages held between the client's thread and the reader; past this they are dropped
#: (and counted): Sensor Logger publishes at QoS 0, at most once, anyway.
QUEUE_LIMIT = 1000
#: And the bytes they may hold (at least one message of the largest size taken).
QUEUE_BYTES = 16 << 20


class MessageQueue:
    """Messages handed from the MQTT client's thread to their reader, bounded: a message
    over ``max_message_bytes`` (the largest push, as over HTTP) is refused, and one that
    would take the queue past :data:`QUEUE_LIMIT` messages or :data:`QUEUE_BYTES` bytes is
    dropped; both are counted (``too_large``, ``dropped``), never held."""

    def __init__(self, max_message_bytes: int = MAX_PUSH_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self.max_bytes = max(QUEUE_BYTES, max_message_bytes)
        self.too_large = 0
        self.dropped = 0
        self._items: deque[bytes] = deque()
        self._bytes = 0
        self._ready = threading.Condition()

    def offer(self, payload: bytes) -> bool:
        """Queue a message (from any thread); whether it was taken."""
        with self._ready:
            if len(payload) > self.max_message_bytes:
                self.too_large += 1
                return False
            if len(self._items) >= QUEUE_LIMIT or self._bytes + len(payload) > self.max_bytes:
                self.dropped += 1
                return False
            self._items.append(payload)
            self._bytes += len(payload)
            self._ready.notify()
            return True

    def get(self, timeout: float = 0.0) -> bytes | None:
        """The oldest message, waiting up to ``timeout`` seconds for one (None: none came)."""
        with self._ready:
            if not self._items and not self._ready.wait_for(lambda: self._items, timeout):
                return None
            payload = self._items.popleft()
            self._bytes -= len(payload)
            return payload


@dataclass(frozen=True)
class MqttAddress:
    """Where to subscribe."""

    host: str
    port: int
    topic: str
    transport: str = "tcp"
    tls: bool = False
    path: str = "/mqtt"
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"mqtt://{self.host}:{self.port}/{self.topic}"


def is_mqtt_url(text: str) -> bool:
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


def parse_mqtt_url(url: str) -> MqttAddress:
    """Read ``mqtt://[USER:PASS@]HOST[:PORT]/TOPIC`` (and mqtts, mqtt+ws, mqtt+wss)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"{url}: the scheme must be one of {', '.join(SCHEMES)}")
    transport, tls, default_port = SCHEMES[scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError(f"{url}: the port must be a number in 0..65535") from None
    topic = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not topic:
        raise ValueError(
            f"{url}: expected mqtt://HOST[:PORT]/TOPIC (e.g. mqtt://127.0.0.1/sensor-logger)"
        )
    path = parse_qs(parts.query).get("path", ["/mqtt"])[0]
    return MqttAddress(
        parts.hostname,
        port,
        topic,
        transport,
        tls,
        path,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def _paho():
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise HarliteError(
            "MQTT needs paho-mqtt: pip install 'harlite[serve]' (or pip install paho-mqtt)"
        ) from None
    return mqtt


class MqttSubscriber:
    """A subscription in paho's own thread: each message's payload goes to ``on_message``
    (called in that thread). Reconnects by itself when the broker goes away.

    Raises :class:`~harlite.errors.HarliteError` when the broker cannot be reached or refuses
    the subscription within ``timeout`` seconds.
    """

    def __init__(
        self, url: str, on_message: Callable[[bytes], None], timeout: float = 10.0
    ) -> None:
        mqtt = _paho()
        try:
            self.address = parse_mqtt_url(url)
        except ValueError as error:
            raise HarliteError(str(error)) from None
        address = self.address
        self._subscribed = threading.Event()
        self._refused: str | None = None
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport=address.transport)
        if address.transport == "websockets":
            client.ws_set_options(path=address.path)
        if address.tls:
            client.tls_set()
        if address.username is not None:
            client.username_pw_set(address.username, address.password)

        def connected(client, userdata, flags, reason_code, properties) -> None:
            if reason_code.is_failure:
                self._refused = str(reason_code)
                self._subscribed.set()
                return
            client.subscribe(address.topic, qos=0)

        def subscribed(client, userdata, mid, reason_codes, properties) -> None:
            failed = [str(code) for code in reason_codes if code.is_failure]
            self._refused = ", ".join(failed) or None
            self._subscribed.set()

        client.on_connect = connected
        client.on_subscribe = subscribed
        client.on_message = lambda client, userdata, message: on_message(message.payload)
        try:
            client.connect(address.host, address.port, keepalive=30)
        except (OSError, ValueError) as error:
            raise HarliteError(f"{address}: cannot connect: {error}") from None
        client.loop_start()
        self._client = client
        if not self._subscribed.wait(timeout) or self._refused:
            self.close()
            why = self._refused or f"no answer in {timeout:g} s"
            raise HarliteError(f"{address}: cannot subscribe: {why}")

    def close(self) -> None:
        """Disconnect and stop the client's thread."""
        self._client.disconnect()
        self._client.loop_stop()


class MqttSource:
    """Rows of one phone's session from an MQTT topic (``harlite stream --input mqtt://…``).

    The first (device, session) whose pushes arrive is classified; messages of any other are
    counted as bad rows (``harlite serve`` shows several phones at once). Stops after
    ``idle_timeout`` seconds without a message of that session (None: never), or on Ctrl-C.
    """

    def __init__(
        self, url: str, platform: str = "android", idle_timeout: float | None = None
    ) -> None:
        self.idle_timeout = idle_timeout
        self.assembler = PushAssembler(platform)
        self.messages = 0
        self._queue = MessageQueue()
        self._too_large = 0  # of them, reported as bad rows
        self._subscriber = MqttSubscriber(url, self._queue.offer)
        self.name = str(self._subscriber.address)
        self._key: tuple[str, str] | None = None

    @property
    def messages_dropped(self) -> int:
        """Messages dropped because they came faster than they were read."""
        return self._queue.dropped

    def __iter__(self) -> Iterator[ParsedRows]:
        last = time.monotonic()
        try:
            while True:
                if self._queue.too_large > self._too_large:
                    yield self._refused_too_large()
                wait = 0.2 if self.assembler.pending else 1.0
                body = self._queue.get(timeout=wait)
                if body is None:
                    now = time.monotonic()
                    if self.idle_timeout is not None and now - last > self.idle_timeout:
                        yield self.assembler.finish()
                        return
                    yield self.assembler.tick(now)
                    continue
                self.messages += 1
                parsed = self._take(body)
                if parsed is not None:
                    last = time.monotonic()
                    yield parsed
        finally:
            self._subscriber.close()

    def _refused_too_large(self) -> ParsedRows:
        empty = np.empty((0, 7)), np.empty(0, np.int64)
        count, self._too_large = self._queue.too_large - self._too_large, self._queue.too_large
        detail = f"larger than {self._queue.max_message_bytes} bytes"
        bad = [(self.messages + k, TOO_LARGE, detail) for k in range(1, count + 1)]
        self.messages += count
        return ParsedRows(*empty, None, bad)

    def _take(self, body: bytes) -> ParsedRows | None:
        empty = np.empty((0, 7)), np.empty(0, np.int64)
        try:
            message = parse_push(body)
        except PushError as error:
            return ParsedRows(*empty, None, [(self.messages, NOT_A_PUSH, str(error))])
        if self._key is None:
            self._key = message.key
        if message.key != self._key:
            device, session = message.key
            detail = f"device {device[:40]!r}, session {session[:40]!r}"
            return ParsedRows(*empty, None, [(self.messages, OTHER_SESSION, detail)])
        return self.assembler.add(message, time.monotonic())
