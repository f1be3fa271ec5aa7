"""The HTTP side of ``harlite serve`` (aiohttp): routes, the token and host checks, the live
feed, and the run loop.

Routes:

- ``POST /push``: a Sensor Logger push (JSON), or CSV lines (``Content-Type: text/csv``;
  ``?device=`` names the phone). ``?platform=ios`` reads a raw iOS phone's acceleration sign.
- ``POST /push/predictions?device=…&session=…``: the windows the phone page classified
  itself (JSON), kept beside the server's own predictions of its samples and compared.
- ``GET /``: the live page; ``GET /static/…``: its script and style.
- ``GET /phone/``: the page that classifies on the phone (``harlite export web`` of the
  server's bundle, found in the cache, else built in the background on the first request;
  :mod:`harlite.serve.phone`); ``GET /phone/…``: its files.
- ``GET /api/state``, ``GET /api/predictions?since=N[&session=ID]``: JSON.
- ``GET /api/connect``: the push URLs a phone can use, and a QR code of the first.
- ``GET /api/events``: the live feed (Server-Sent Events).
- ``POST /api/sessions/ID/record/start`` (``{"label": …, "subject": …, "placement": …}``),
  ``POST /api/sessions/ID/record/stop``: recording from the page.

A request that changes state (every POST) sent by another site's page is refused (403): a
browser says where a request comes from (``Sec-Fetch-Site``, ``Origin``); a phone's push
says nothing and is taken. Routes that read JSON take only ``Content-Type:
application/json`` (``/push``: or none), which no form of another site can send.

aiohttp was chosen because one well-kept package gives the server, streaming responses for
the feed and a client for tests and benchmarks, runs on every Raspberry Pi OS (pure-Python
fallback where no wheel fits), and needs no separate ASGI server.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import html
import json
import logging
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import quote, urlsplit

from aiohttp import web

from harlite.errors import HarliteError
from harlite.runtime.io.mqtt import MessageQueue
from harlite.serve.connections import ConnectionLimiter
from harlite.serve.feed import Event
from harlite.serve.lan import LAN_EXTRA, phone_urls, qr_svg_data_uri
from harlite.serve.phone import DOWNLOADS, FILES, PhonePage
from harlite.serve.recorder import RecordingError, RecordingRequest
from harlite.serve.sessions import Notice, PushRefused, SessionHub
from harlite.serve.settings import MAX_CONNECTIONS, MAX_PAGES, ServeSettings, is_loopback
from harlite.serve.tls import der_certificate

log = logging.getLogger("harlite.serve")

COOKIE = "harlite_token"
#: Files the page may load, and their types.
STATIC = {"app.js": "text/javascript", "connect.js": "text/javascript", "style.css": "text/css"}
#: Seconds between comment lines on an idle feed (keeps proxies and browsers connected).
KEEPALIVE_S = 15.0
#: Seconds between checks for reordered pushes and idle sessions.
TICK_S = 0.2
HEADERS = {
    # The page loads only its own script and style; nothing from a request runs as code.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: The phone page runs its WebAssembly module (compiled from the page's own script) and
#: sends samples to this server only.
PHONE_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Pages whose ?token= sets the token cookie (their files and API calls then carry it).
TOKEN_PAGES = ("/", "/phone/")
#: Methods that change nothing (every other one is refused from another site).
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: Sec-Fetch-Site values of a request from the server's own page, or typed by the user.
OWN_SITE = ("same-origin", "none")
JSON = "application/json"
#: What aiohttp calls a request without a Content-Type.
NO_TYPE = "application/octet-stream"
CSV_TYPES = ("text/csv", "text/plain")
#: Connections waiting to be accepted (asyncio accepts up to as many at once, before any of
#: them reaches the connection cap).
BACKLOG = 32
#: MQTT messages handled per turn of the event loop (HTTP requests are served between).
MQTT_BATCH = 8


@dataclass
class BodyBudget:
    """Bytes of request bodies being received now, the most allowed, and the most one client
    address may hold (so that one client's slow uploads cannot shut out a phone)."""

    limit: int
    per_client: int
    in_flight: int = 0
    by_client: Counter = field(default_factory=Counter)

    def take(self, client: str, size: int) -> bool:
        """Hold ``size`` more bytes for ``client`` if they fit (False: they do not)."""
        if self.in_flight + size > self.limit or self.by_client[client] + size > self.per_client:
            return False
        self.in_flight += size
        self.by_client[client] += size
        return True

    def give_back(self, client: str, size: int) -> None:
        """Free ``size`` bytes ``client`` held."""
        self.in_flight -= size
        self.by_client[client] -= size
        if self.by_client[client] <= 0:
            del self.by_client[client]


HUB = web.AppKey("hub", SessionHub)
SETTINGS = web.AppKey("settings", ServeSettings)
LIMITER = web.AppKey("limiter", ConnectionLimiter)
BODIES = web.AppKey("bodies", BodyBudget)


def error(status: int, reason: str) -> web.Response:
    """A JSON error reply: ``{"error": reason}``."""
    return web.json_response({"error": reason}, status=status)


def _cross_site(request: web.Request) -> str | None:
    """Why a request that changes state looks sent by another site's page (None: it does
    not; a phone or a script sends neither header)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in OWN_SITE:
        return f"Sec-Fetch-Site is {fetch_site[:40]!r}"
    origin = request.headers.get("Origin")
    if origin is not None:
        address = _address(origin)  # None: "null" (a file, a sandbox) or not a web origin
        if address is None or address != _address(f"http://{request.host}", origin):
            return f"Origin {origin[:80]!r} is not this server"
    return None


def _address(url: str, scheme_of: str | None = None) -> tuple[str, int] | None:
    """(host, port) of an origin URL; a missing port is the default of the scheme of
    ``scheme_of`` (the origin it is compared with) or its own."""
    try:
        parts = urlsplit(url)
        scheme = urlsplit(scheme_of).scheme if scheme_of else parts.scheme
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        return parts.hostname, parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None


def _token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return (
        request.headers.get("X-Harlite-Token")
        or request.query.get("token")
        or request.cookies.get(COOKIE)
    )


@web.middleware
async def guard(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Token and host checks, security headers, and errors as JSON (never a traceback)."""
    settings = request.app[SETTINGS]
    hub = request.app[HUB]
    limiter = request.app[LIMITER]
    limiter.request_started(request.transport)
    try:
        return await _guarded(request, handler, settings, hub)
    finally:
        limiter.request_done(request.transport)


async def _guarded(request, handler, settings: ServeSettings, hub: SessionHub):
    if request.method not in SAFE_METHODS and (why := _cross_site(request)) is not None:
        hub.bad_requests["cross-site request"] += 1
        return _secure(error(403, f"refused: a request from another site's page ({why})"))
    if settings.token is not None:
        given = _token_of(request)
        # headers are read as UTF-8 with undecodable bytes kept as surrogates: compare bytes
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), settings.token.encode()
        ):
            hub.bad_requests["no or wrong token"] += 1
            return _secure(
                error(
                    401,
                    "a token is needed: open the page as /?token=TOKEN, push to "
                    "/push?token=TOKEN (or send Authorization: Bearer TOKEN)",
                )
            )
    elif is_loopback(settings.host) and not is_loopback(_host_name(request.host)):
        # Without a token only this machine may talk to us; a page on another site whose name
        # now points at 127.0.0.1 (DNS rebinding) sends its own host name.
        hub.bad_requests["host not loopback"] += 1
        return _secure(error(403, f"host {request.host!r} is not this machine"))
    try:
        response = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        hub.bad_requests["body too large"] += 1
        response = error(413, f"the body is larger than {settings.max_body_bytes} bytes")
    except PushRefused as refused:
        response = error(refused.status, str(refused))
    except web.HTTPException as http_error:
        response = error(http_error.status, http_error.reason)
    except ConnectionResetError:  # the client went away (or its page closed) mid-request
        hub.bad_requests["connection lost mid-request"] += 1
        response = error(400, "connection lost")
    except asyncio.CancelledError:
        raise
    except Exception as unexpected:  # a reply and one log line, never a traceback
        log.error(
            "%s %s: %s: %s", request.method, request.path, type(unexpected).__name__, unexpected
        )
        response = error(500, f"internal error: {type(unexpected).__name__}")
    if settings.token is not None and request.query.get("token") and request.path in TOKEN_PAGES:
        response.set_cookie(COOKIE, settings.token, httponly=True, samesite="Strict", path="/",
                            secure=settings.tls is not None)  # fmt: skip
    return _secure(response)


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def _host_name(host: str | None) -> str:
    if not host:
        return ""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# --- handlers ------------------------------------------------------------------------------


async def read_body(request: web.Request, types: tuple[str, ...] = (JSON,)) -> bytes:
    """The request's body, if its Content-Type is one of ``types`` (415 otherwise), its
    bytes fit among the bodies being received now, of all clients and of its client address
    (503 otherwise), and it all arrives within ``--client-timeout`` seconds (408 otherwise).
    A body with a Content-Length holds that many bytes from the start; a chunked one holds
    the bytes received so far (counting it at ``--max-body`` let a few slow chunked uploads
    hold every byte)."""
    settings, hub = request.app[SETTINGS], request.app[HUB]
    if request.content_type not in types:
        hub.bad_requests["wrong content type"] += 1
        raise PushRefused(415, f"the body must be {' or '.join(types)}")
    size = request.content_length
    if size is not None and size > settings.max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=settings.max_body_bytes, actual_size=size)
    held = _BodyHold(request.app[BODIES], request.remote or "", hub)
    held.more(size or 0)
    try:
        if size is not None:
            return await asyncio.wait_for(request.read(), settings.client_timeout_s)
        return await asyncio.wait_for(_chunked(request, held), settings.client_timeout_s)
    except asyncio.TimeoutError:
        hub.bad_requests["body too slow"] += 1
        raise PushRefused(
            408, f"the body did not arrive within {settings.client_timeout_s:g} s"
        ) from None
    finally:
        held.release()


@dataclass
class _BodyHold:
    """The bytes one request body holds of the budget."""

    budget: BodyBudget
    client: str
    hub: SessionHub
    size: int = 0

    def more(self, size: int) -> None:
        """Hold ``size`` more bytes, or refuse the request (503)."""
        if not self.budget.take(self.client, size):
            self.hub.bad_requests["busy: too many bodies being received"] += 1
            raise PushRefused(503, "too many requests are being received: send again shortly")
        self.size += size

    def release(self) -> None:
        self.budget.give_back(self.client, self.size)
        self.size = 0


async def _chunked(request: web.Request, held: _BodyHold) -> bytes:
    """A body without a Content-Length, each part held of the budget as it arrives."""
    limit = request.app[SETTINGS].max_body_bytes
    parts: list[bytes] = []
    while part := await request.content.readany():
        if held.size + len(part) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=held.size + len(part))
        held.more(len(part))
        parts.append(part)
    return b"".join(parts)


async def push(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    csv = request.content_type in CSV_TYPES
    # JSON; or no Content-Type at all, from a raw client (a form always sends one)
    json_types = (JSON,) if "Content-Type" in request.headers else (NO_TYPE,)
    body = await read_body(request, CSV_TYPES if csv else json_types)
    platform = request.query.get("platform")
    if platform is not None and platform not in ("android", "ios"):
        hub.bad_requests["bad platform"] += 1
        return error(400, "platform must be android or ios")
    try:
        if csv:
            device = request.query.get("device") or request.headers.get("X-Device-Id") or "csv"
            session = request.query.get("session") or "csv"
            if len(device) > 128 or len(session) > 128 or not (device + session).isprintable():
                raise PushRefused(400, "device and session: at most 128 printable characters")
            done = hub.push_csv(body, device, session)
        else:
            done = hub.push_json(body, platform)
    except PushRefused as refused:
        return error(refused.status, str(refused))
    return web.json_response(done)


async def push_predictions(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    body = await read_body(request)
    device = request.query.get("device") or "phone page"
    session = request.query.get("session") or "csv"
    if len(device) > 128 or len(session) > 128 or not (device + session).isprintable():
        hub.bad_requests["bad device or session"] += 1
        return error(400, "device and session: at most 128 printable characters")
    try:
        return web.json_response(hub.push_predictions(body, device, session))
    except PushRefused as refused:
        return error(refused.status, str(refused))


async def page(request: web.Request) -> web.Response:
    text = resources.files("harlite.serve").joinpath("static/index.html").read_text("utf-8")
    return web.Response(text=text, content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return error(404, "no such file")
    text = resources.files("harlite.serve").joinpath(f"static/{name}").read_text("utf-8")
    return web.Response(text=text, content_type=STATIC[name])


async def phone_redirect(request: web.Request) -> web.Response:
    """``/phone`` → ``/phone/`` (the page's files are relative to it), query kept."""
    query = f"?{request.query_string}" if request.query_string else ""
    return web.Response(status=302, headers={"Location": f"/phone/{query}"})


async def phone(request: web.Request) -> web.Response:
    """The phone page's files; while it has none, a page saying why (503)."""
    page = request.app[PHONE]
    name = request.match_info.get("name") or "index.html"
    if name not in FILES:
        return error(404, "no such file")
    if page.folder is None and not page.find():
        page.start_building()
        return web.Response(
            text=PHONE_WAIT.format(reason=html.escape(page.status())),
            content_type="text/html",
            status=503,
            headers={
                "Content-Security-Policy": "default-src 'none'",
                **({"Refresh": "5"} if page.building else {}),  # until it is there
            },
        )
    try:
        body = (page.folder / name).read_bytes()
    except OSError:  # the cache was cleared under the server: built again on the next request
        page.folder = None
        return error(503, "the phone page left the cache: reload to have it built again")
    headers = {"Content-Security-Policy": PHONE_CSP}
    if name in DOWNLOADS:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return web.Response(body=body, content_type=FILES[name], headers=headers)


PHONE_WAIT = """<!doctype html><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harlite on the phone</title><p>{reason}</p>"""


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].state())


async def connect(request: web.Request) -> web.Response:
    """Where a phone pushes to: ``push_urls`` (each with ``via``, the interface or
    ``--host``; without the token), ``token`` (whether one is needed), and ``qr``: the
    first URL with the token, as an SVG ``data:`` URI (None without a URL, or without the
    ``lan`` extra: then ``qr_missing`` says how to get it). A server on loopback has no
    URL a phone reaches."""
    settings = request.app[SETTINGS]
    port = request.transport.get_extra_info("sockname")[1]  # the port really bound
    urls = phone_urls(settings.host, port)
    answer = {
        "listening": settings.host,
        "push_urls": [
            {"url": f"{_scheme(url.base, settings)}/push", "via": url.via} for url in urls
        ],
        "token": settings.token is not None,
        "qr": None,
    }
    if urls:
        query = f"?token={quote(settings.token)}" if settings.token is not None else ""
        answer["qr"] = qr_svg_data_uri(f"{_scheme(urls[0].base, settings)}/push{query}")
        if answer["qr"] is None:
            answer["qr_missing"] = f"a QR code needs the lan extra: {LAN_EXTRA}"
    return web.json_response(answer)


def _scheme(base: str, settings: ServeSettings) -> str:
    """A base URL with the server's scheme (https with --tls)."""
    return base.replace("http://", f"{settings.scheme}://", 1)


async def certificate(request: web.Request) -> web.Response:
    """The server's certificate (DER) for a phone to install and trust (``--tls``)."""
    settings = request.app[SETTINGS]
    if settings.tls is None:
        return error(404, "this server has no certificate (start it with --tls)")
    return web.Response(
        body=der_certificate(settings.tls.cert),
        content_type="application/x-x509-ca-cert",
        headers={"Content-Disposition": 'attachment; filename="harlite.crt"'},
    )


async def predictions(request: web.Request) -> web.Response:
    try:
        since = int(request.query.get("since", "0"))
        limit = min(int(request.query.get("limit", "1000")), 10000)
    except ValueError:
        return error(400, "since and limit must be whole numbers")
    session = request.query.get("session")
    return web.json_response(request.app[HUB].predictions(since, session, limit))


async def events(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    # A page whose connection closes ends here at once (the runner cancels its handler).
    if len(hub.feed.subscribers) >= MAX_PAGES:
        return error(503, f"{MAX_PAGES} pages are connected already")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    _secure(response)
    await response.prepare(request)
    subscriber = hub.feed.subscribe()
    try:
        await response.write(Event("state", hub.state()).to_sse())
        while True:
            try:
                event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            await response.write(event.to_sse())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.feed.unsubscribe(subscriber)
    return response


async def record(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    key, action = request.match_info["session"], request.match_info["action"]
    try:
        body = await read_body(request)
        if action == "start":
            try:
                data = json.loads(body.decode("utf-8"))
            except ValueError:  # not JSON, not UTF-8, a number of over 4,300 digits
                raise RecordingError("the request must be a JSON object") from None
            result = hub.start_recording(key, RecordingRequest.from_json(data))
        else:
            result = hub.stop_recording(key)
    except RecordingError as refused:
        return error(400, str(refused))
    return web.json_response(result)


# --- the application and its run -----------------------------------------------------------


def make_app(hub: SessionHub) -> web.Application:
    """The aiohttp application for ``hub``."""
    settings = hub.settings
    app = web.Application(middlewares=[guard], client_max_size=settings.max_body_bytes)
    app[HUB], app[SETTINGS] = hub, settings
    app[LIMITER] = ConnectionLimiter(connection_cap(), settings.client_timeout_s, hub.bad_requests)
    app[BODIES] = BodyBudget(settings.bodies_in_flight_bytes, settings.bodies_per_client_bytes)
    app.router.add_post("/push", push)
    app.router.add_post("/push/predictions", push_predictions)
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app[PHONE] = PhonePage(settings.bundle)
    app.router.add_get("/phone", phone_redirect)
    app.router.add_get("/phone/", phone)
    app.router.add_get("/phone/{name}", phone)
    app.router.add_get("/harlite.crt", certificate)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/connect", connect)
    app.router.add_get("/api/predictions", predictions)
    app.router.add_get("/api/events", events)
    app.router.add_post(r"/api/sessions/{session:[0-9a-f]{12}}/record/{action:start|stop}", record)
    app.on_startup.append(_start_ticker)
    app.on_cleanup.append(_stop_ticker)
    return app


TICKER = web.AppKey("ticker", asyncio.Task)
PHONE = web.AppKey("phone", PhonePage)


def connection_cap() -> int:
    """:data:`MAX_CONNECTIONS`, or half of the process's open-file limit less twice the
    :data:`BACKLOG` when that is lower: a burst of accepted connections, and as many closed
    ones whose descriptors the event loop has not released yet, may stand beside the cap (the
    other half is for the recordings, the model and MQTT)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no such limit on this system
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, (soft - 2 * BACKLOG) // 2))


async def _start_ticker(app: web.Application) -> None:
    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                app[LIMITER].sweep()
                app[HUB].tick()
            except Exception as unexpected:  # keep serving; say what failed
                log.error("tick: %s: %s", type(unexpected).__name__, unexpected)

    app[TICKER] = asyncio.get_running_loop().create_task(tick())


async def _stop_ticker(app: web.Application) -> None:
    app[TICKER].cancel()
    app[PHONE].stop_building()
    app[HUB].close()


def serve(
    settings: ServeSettings,
    on_ready: Callable[[str, int], None] | None = None,
    on_notice: Callable[[Notice], None] | None = None,
) -> dict:
    """Run the server until SIGINT or SIGTERM; recordings in progress are saved then.

    ``on_ready(host, port)`` is called once it listens (port 0 picks a free one);
    ``on_notice`` is told when a phone connects or ends and a recording starts or is saved
    (at shutdown too). Returns the final state (sessions ended during shutdown included).
    """
    hub = SessionHub(settings) if on_notice is None else SessionHub(settings, on_notice)
    return asyncio.run(_run(hub, on_ready))


async def _run(hub: SessionHub, on_ready) -> dict:
    from harlite.runtime.io.mqtt import MqttSubscriber

    app = make_app(hub)
    settings = hub.settings
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=2.0,
        handler_cancellation=True,  # a client gone: its handler (a page's feed) ends
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    subscribers, listener = [], None
    try:
        listener = await _listen(app[LIMITER].factory(runner.server), settings)
        port = listener.sockets[0].getsockname()[1]  # the port really bound (0 → chosen)
        intake = MqttIntake(hub, loop)
        for url in settings.mqtt:
            subscribers.append(MqttSubscriber(url, intake.offer))
        if on_ready is not None:
            on_ready(settings.host, port)
        await stop.wait()
    finally:
        for subscriber in subscribers:
            subscriber.close()
        if listener is not None:
            listener.close()
        await runner.cleanup()
    return hub.state()


async def _listen(factory, settings: ServeSettings) -> asyncio.AbstractServer:
    """Listen on the settings' host and port; a plain error when that cannot be done."""
    loop = asyncio.get_running_loop()
    try:
        tls = {}
        if settings.tls is not None:  # a handshake comes before the connection is watched:
            # it gets --client-timeout too (asyncio's default keeps a silent one 60 s)
            tls = {"ssl": settings.tls.context(),
                   "ssl_handshake_timeout": settings.client_timeout_s}  # fmt: skip
        return await loop.create_server(
            factory, settings.host, settings.port, reuse_address=True, backlog=BACKLOG, **tls
        )
    except OSError as failed:
        where = f"[{settings.host}]" if ":" in settings.host else settings.host
        why = os.strerror(failed.errno) if (failed.errno or 0) > 0 else failed.strerror
        hint = " (another server is there: choose --port, or --port 0 for any free one)"
        raise HarliteError(
            f"cannot listen on {where}:{settings.port}: {why or failed}"
            + (hint if failed.errno == errno.EADDRINUSE else "")
        ) from None


class MqttIntake:
    """MQTT messages from the clients' threads to the hub: through one bounded
    :class:`~harlite.runtime.io.mqtt.MessageQueue` (the size limit of HTTP bodies; too many,
    dropped), taken on the event loop :data:`MQTT_BATCH` at a time; what was refused is
    counted in the state's ``bad_request_reasons``."""

    def __init__(self, hub: SessionHub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub, self.loop = hub, loop
        self.queue = MessageQueue(hub.settings.max_body_bytes)
        self._scheduled = threading.Event()

    def offer(self, payload: bytes) -> None:
        """In a client's thread: queue the message; wake the loop unless it is awake."""
        self.queue.offer(payload)
        if not self._scheduled.is_set():
            self._scheduled.set()
            self.loop.call_soon_threadsafe(self._take)

    def _take(self) -> None:
        self._scheduled.clear()
        for _ in range(MQTT_BATCH):
            body = self.queue.get()
            if body is None:
                break
            try:
                self.hub.push_json(body, source="mqtt")
            except PushRefused as refused:
                log.warning("mqtt message refused: %s", refused)
        else:
            self._scheduled.set()
            self.loop.call_soon(self._take)
        refused = {"mqtt message too large": self.queue.too_large,
                   "mqtt messages dropped (queue full)": self.queue.dropped}  # fmt: skip
        for reason, count in refused.items():
            if count:
                self.hub.bad_requests[reason] = count
