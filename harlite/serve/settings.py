"""The settings of one ``harlite serve`` run, and the rules for where it may listen."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from harlite.errors import SettingError
from harlite.runtime.io.push import MAX_PUSH_BYTES, PLATFORMS
from harlite.runtime.stream import ClassifierSettings
from harlite.serve.tls import Certificate

# The limits a server on a LAN holds to (README, "Security and trust", quotes these).
#: The largest request body or MQTT message (``--max-body``).
DEFAULT_MAX_BODY_BYTES = MAX_PUSH_BYTES
#: Seconds a client has to send a request's headers (counted from when it connected or had
#: its last reply: an idle connection is closed then too), and then again its body
#: (``--client-timeout``).
DEFAULT_CLIENT_TIMEOUT_S = 10.0
#: Connections open at once (and at most half the process's open-file limit); a connection
#: beyond closes the one that has waited longest for a request.
MAX_CONNECTIONS = 256
#: Bytes of request bodies received at once (each counted at its Content-Length, or by the
#: bytes received so far when sent in chunks); a push beyond them is answered 503.
BODIES_IN_FLIGHT_BYTES = 32 << 20
#: The part of them one client address may hold, so that one client's slow uploads cannot
#: shut out the others (a phone sends one push at a time).
BODIES_PER_CLIENT_BYTES = 8 << 20
#: Pages connected to the live feed at once.
MAX_PAGES = 32


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeSettings:
    """How ``harlite serve`` runs.

    Attributes:
        bundle: the bundle folder every session is classified with.
        classifier: how each session's classifier runs (artefact, smoothing…).
        host, port: where to listen (port 0: any free port).
        token: the secret that pushes, the page and the API must carry (None: none needed;
            only allowed on loopback unless ``allow_no_token``).
        allow_no_token: listen beyond loopback without a token (``--no-token``).
        record_dir: where recordings made from the page go (None: recording is off).
        platform: ``android`` or ``ios``: how Sensor Logger's acceleration sign is read
            (a push URL's ``?platform=`` overrides it per phone).
        session_idle_s: a session without pushes for this long ends (its recording saved).
        max_sessions: sessions at once; a push for a new one beyond this is refused (503).
        max_body_bytes: the largest request body (413 beyond).
        reorder_wait_s: how long a push that came early waits for the ones before it.
        history: predictions kept per session for ``/api/predictions``.
        client_queue: events queued per page; a page that falls further behind is told to
            reload the state instead of the server holding more.
        max_record_s: the longest recording (it is saved and stopped then).
        mqtt: MQTT URLs to subscribe to (``mqtt://HOST:PORT/TOPIC``).
        client_timeout_s: seconds a client has to send a request's headers, and then its
            body (slower connections are closed, an idle one after as long).
        tls: the certificate to serve https with (``--tls``; None: plain http).
    """

    bundle: Path
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    allow_no_token: bool = False
    record_dir: Path | None = None
    platform: str = "android"
    session_idle_s: float = 60.0
    max_sessions: int = 100
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    reorder_wait_s: float = 2.0
    history: int = 600
    client_queue: int = 512
    max_record_s: float = 3600.0
    mqtt: tuple[str, ...] = ()
    client_timeout_s: float = DEFAULT_CLIENT_TIMEOUT_S
    tls: Certificate | None = None

    def __post_init__(self) -> None:
        if self.host.startswith("[") and self.host.endswith("]"):  # an IPv6 URL's spelling
            object.__setattr__(self, "host", self.host[1:-1])
        if self.token is not None and len(self.token) < 8:
            raise SettingError("token", "must be at least 8 characters (a guessable token is none)")
        if self.token is None and not self.allow_no_token and not is_loopback(self.host):
            raise SettingError(
                "token",
                f"listening on {self.host} lets anyone on the network push, watch and record: "
                "give --token SECRET (e.g. from `python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(16))'`), or --no-token to accept that",
            )
        if self.platform not in PLATFORMS:
            raise SettingError("platform", f"must be one of {', '.join(PLATFORMS)}")
        for name in ("session_idle_s", "reorder_wait_s", "max_record_s", "client_timeout_s"):
            if not getattr(self, name) > 0:
                raise SettingError(name, "must be a positive number of seconds")
        for name in ("max_sessions", "max_body_bytes", "history", "client_queue"):
            if getattr(self, name) < 1:
                raise SettingError(name, "must be at least 1")

    @property
    def scheme(self) -> str:
        """``https`` with a certificate, else ``http``."""
        return "http" if self.tls is None else "https"

    @property
    def bodies_in_flight_bytes(self) -> int:
        """Bytes of request bodies received at once (at least one of the largest)."""
        return max(BODIES_IN_FLIGHT_BYTES, self.max_body_bytes)

    @property
    def bodies_per_client_bytes(self) -> int:
        """Bytes of request bodies one client address may have in flight (at least one of the
        largest)."""
        return max(BODIES_PER_CLIENT_BYTES, self.max_body_bytes)
