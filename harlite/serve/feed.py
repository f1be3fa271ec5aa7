"""The live feed of the page: events fanned out to every connected page, each through its own
bounded queue.

A page that reads slower than events come (a phone on a bad link, a tab in the background)
never makes the server hold more than ``limit`` events for it: its queue is emptied and it
is sent one ``resync`` event, on which the page reloads the whole state.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One feed event: its kind (``prediction``, ``session``, ``session_end``, ``server``,
    ``resync``) and JSON data."""

    kind: str
    data: dict

    def to_sse(self) -> bytes:
        """The event in Server-Sent Events framing."""
        text = json.dumps(self.data, separators=(",", ":"), allow_nan=False)
        return f"event: {self.kind}\ndata: {text}\n\n".encode()


RESYNC = Event("resync", {})


class Subscriber:
    """One page's queue of events."""

    def __init__(self, limit: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=limit)
        self.resyncs = 0

    def offer(self, event: Event) -> None:
        """Queue the event; a full queue is emptied and replaced by one resync event."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)
            self.resyncs += 1


class EventFeed:
    """Every connected page's subscriber; ``publish`` offers an event to each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.subscribers: set[Subscriber] = set()
        self.published = 0

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(self.limit)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, event: Event) -> None:
        self.published += 1
        for subscriber in self.subscribers:
            subscriber.offer(event)

    @property
    def resyncs(self) -> int:
        """Resyncs sent to the pages connected now."""
        return sum(s.resyncs for s in self.subscribers)
