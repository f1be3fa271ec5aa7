"""The HTTP side of ``harlite serve`` (aiohttp): routes, the token and host checks, the live
feed, and the run loop.

Routes:

- ``POST /push``: a Sensor Logger push (JSON), or CSV lines (``Content-Type: text/csv``;
  ``?device=`` names the phone). ``?platform=ios`` reads a raw iOS phone's acceleration sign.
- ``GET /``: the live page; ``GET /static/…``: its script and style.
- ``GET /api/state``, ``GET /api/predictions?since=N[&session=ID]``: JSON.
- ``GET /api/events``: the live feed (Server-Sent Events).
- ``POST /api/sessions/ID/record/start`` (``{"label": …, "subject": …, "placement": …}``),
  ``POST /api/sessions/ID/record/stop``: recording from the page.

aiohttp was chosen because one well-kept package gives the server, streaming responses for
the feed and a client for tests and benchmarks, runs on every Raspberry Pi OS (pure-Python
fallback where no wheel fits), and needs no separate ASGI server.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import threading
from collections.abc import Callable
from importlib import resources

from aiohttp import web

from harlite.serve.feed import Event
from harlite.serve.recorder import RecordingError, RecordingRequest
from harlite.serve.sessions import PushRefused, SessionHub
from harlite.serve.settings import ServeSettings, is_loopback

log = logging.getLogger("harlite.serve")

COOKIE = "harlite_token"
#: Files the page may load, and their types.
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
#: Pages connected to the feed at once.
MAX_PAGES = 32
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
HUB = web.AppKey("hub", SessionHub)
SETTINGS = web.AppKey("settings", ServeSettings)


def error(status: int, reason: str) -> web.Response:
    """A JSON error reply: ``{"error": reason}``."""
    return web.json_response({"error": reason}, status=status)


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
    if settings.token is not None:
        given = _token_of(request)
        if given is None or not hmac.compare_digest(given.encode(), settings.token.encode()):
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
    except web.HTTPException as http_error:
        response = error(http_error.status, http_error.reason)
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as unexpected:  # a reply and one log line, never a traceback
        log.error(
            "%s %s: %s: %s", request.method, request.path, type(unexpected).__name__, unexpected
        )
        response = error(500, f"internal error: {type(unexpected).__name__}")
    if settings.token is not None and request.query.get("token") and request.path == "/":
        response.set_cookie(COOKIE, settings.token, httponly=True, samesite="Strict", path="/")
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


async def push(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    body = await request.read()
    platform = request.query.get("platform")
    if platform is not None and platform not in ("android", "ios"):
        hub.bad_requests["bad platform"] += 1
        return error(400, "platform must be android or ios")
    try:
        if request.content_type in ("text/csv", "text/plain"):
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


async def page(request: web.Request) -> web.Response:
    text = resources.files("harlite.serve").joinpath("static/index.html").read_text("utf-8")
    return web.Response(text=text, content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return error(404, "no such file")
    text = resources.files("harlite.serve").joinpath(f"static/{name}").read_text("utf-8")
    return web.Response(text=text, content_type=STATIC[name])


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].state())


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
            except TimeoutError:
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
        if action == "start":
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise RecordingError("the request must be a JSON object") from None
            result = hub.start_recording(key, RecordingRequest.from_json(body))
        else:
            result = hub.stop_recording(key)
    except RecordingError as refused:
        return error(400, str(refused))
    return web.json_response(result)


# --- the application and its run -----------------------------------------------------------


def make_app(hub: SessionHub) -> web.Application:
    """The aiohttp application for ``hub``."""
    app = web.Application(middlewares=[guard], client_max_size=hub.settings.max_body_bytes)
    app[HUB], app[SETTINGS] = hub, hub.settings
    app.router.add_post("/push", push)
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/predictions", predictions)
    app.router.add_get("/api/events", events)
    app.router.add_post(r"/api/sessions/{session:[0-9a-f]{12}}/record/{action:start|stop}", record)
    app.on_startup.append(_start_ticker)
    app.on_cleanup.append(_stop_ticker)
    return app


TICKER = web.AppKey("ticker", asyncio.Task)


async def _start_ticker(app: web.Application) -> None:
    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                app[HUB].tick()
            except Exception as unexpected:  # keep serving; say what failed
                log.error("tick: %s: %s", type(unexpected).__name__, unexpected)

    app[TICKER] = asyncio.get_running_loop().create_task(tick())


async def _stop_ticker(app: web.Application) -> None:
    app[TICKER].cancel()
    app[HUB].close()


def serve(settings: ServeSettings, on_ready: Callable[[str, int], None] | None = None) -> dict:
    """Run the server until SIGINT or SIGTERM; recordings in progress are saved then.

    ``on_ready(host, port)`` is called once it listens (port 0 picks a free one). Returns the
    final state (sessions ended during shutdown included).
    """
    hub = SessionHub(settings)
    return asyncio.run(_run(hub, on_ready))


async def _run(hub: SessionHub, on_ready) -> dict:
    from harlite.runtime.mqtt import MqttSubscriber

    app = make_app(hub)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, hub.settings.host, hub.settings.port, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    subscribers = []
    try:
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # the port really bound (0 → chosen)
        for url in hub.settings.mqtt:
            subscribers.append(
                MqttSubscriber(url, lambda body: loop.call_soon_threadsafe(_from_mqtt, hub, body))
            )
        if on_ready is not None:
            on_ready(hub.settings.host, port)
        await stop.wait()
    finally:
        for subscriber in subscribers:
            subscriber.close()
        await runner.cleanup()
    return hub.state()


def _from_mqtt(hub: SessionHub, body: bytes) -> None:
    try:
        hub.push_json(body, source="mqtt")
    except PushRefused as refused:
        log.warning("mqtt message refused: %s", refused)
