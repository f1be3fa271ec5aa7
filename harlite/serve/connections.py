"""The server's open connections, bounded: at most ``max_connections`` at once, and none kept
by a client that sends nothing.

aiohttp (before 3.14) keeps a connection that never completes its request's headers open
for good, so each connection is watched here: one that is waiting for a request (just
opened, half-sent headers, or idle after a reply) longer than ``timeout_s`` is closed, and a
connection beyond the cap closes the one that has waited longest, or is itself closed when
every one is in a request. The body of a request is bounded by the handlers (see
:func:`harlite.serve.app.read_body`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

TOO_MANY = "connection closed: too many open connections"
TOO_SLOW = "connection closed: no complete request in time"


class _Watched(asyncio.Protocol):
    """aiohttp's protocol for one connection, with its waiting time tracked."""

    def __init__(self, inner: asyncio.Protocol, limiter: ConnectionLimiter) -> None:
        self.inner, self.limiter = inner, limiter
        self.transport: asyncio.Transport | None = None
        self.waiting_since: float | None = time.monotonic()  # None: a request is in progress

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.limiter.opened(self)
        self.inner.connection_made(transport)

    def connection_lost(self, exc) -> None:
        self.limiter.closed(self)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class ConnectionLimiter:
    """Open connections, bounded in number and in the time each may wait for a request.

    Args:
        max_connections: open at once.
        timeout_s: the longest a connection may wait for its next request's headers.
        counts: where closed connections are counted, by reason.
    """

    def __init__(self, max_connections: int, timeout_s: float, counts: Counter) -> None:
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self.counts = counts
        self._open: dict[object, _Watched] = {}  # by transport

    def __len__(self) -> int:
        return len(self._open)

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server`` wrapping ``make`` (aiohttp's)."""
        return lambda: _Watched(make(), self)

    def opened(self, watched: _Watched) -> None:
        if len(self._open) >= self.max_connections:
            waiting = [w for w in self._open.values() if w.waiting_since is not None]
            victim = min(waiting, key=lambda w: w.waiting_since) if waiting else watched
            self.counts[TOO_MANY] += 1
            self._close(victim)
        self._open[watched.transport] = watched

    def closed(self, watched: _Watched) -> None:
        self._open.pop(watched.transport, None)

    def request_started(self, transport) -> None:
        """A request's headers came in on ``transport``: it no longer waits."""
        watched = self._open.get(transport)
        if watched is not None:
            watched.waiting_since = None

    def request_done(self, transport) -> None:
        """Its reply is out: it waits for the next request."""
        watched = self._open.get(transport)
        if watched is not None:
            watched.waiting_since = time.monotonic()

    def sweep(self) -> None:
        """Close the connections that have waited for a request longer than ``timeout_s``."""
        cutoff = time.monotonic() - self.timeout_s
        for watched in list(self._open.values()):
            if watched.waiting_since is not None and watched.waiting_since < cutoff:
                self.counts[TOO_SLOW] += 1
                self._close(watched)

    def _close(self, watched: _Watched) -> None:
        self._open.pop(watched.transport, None)
        watched.waiting_since = None
        if watched.transport is not None:
            watched.transport.abort()
