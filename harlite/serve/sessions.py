"""Live sessions: one per (device, session) pushing to the server, each with its own stream
classifier, counters, recent predictions and, while the page records, a recording.

:class:`SessionHub` is the server without HTTP: it takes push bodies, routes them to their
session, publishes what happens to the :class:`~harlite.serve.feed.EventFeed`, ends idle
sessions and answers the state the page and the API show. Everything runs on one thread
(the server's event loop); MQTT messages are handed over to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harlite.errors import DataError, HarliteError
from harlite.runtime.activity import ActivityLog
from harlite.runtime.io.push import PushAssembler, PushError, PushMessage, parse_push
from harlite.runtime.io.sources import LineFeed
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.rows import LISTED_BAD_ROWS as LISTED_BAD_ROWS
from harlite.runtime.rows import ParsedRows, RowCounts
from harlite.runtime.signal.input_check import LowRateError
from harlite.runtime.stream import Prediction, PushResult, StreamClassifier
from harlite.serve.feed import Event, EventFeed
from harlite.serve.on_phone import (
    OnPhone,
    PhonePrediction,
    PhonePredictionError,
    parse_predictions,
)
from harlite.serve.recorder import (
    Recorder,
    RecordingError,
    RecordingLost,
    RecordingRequest,
    SavedRecording,
)
from harlite.serve.settings import ServeSettings

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

log = logging.getLogger("harlite.serve")

#: Sessions that ended whose state and predictions are kept for the page and the API.
ENDED_KEPT = 20
#: Warnings kept per session.
MAX_WARNINGS = 20
#: Seconds between two notices of empty (test) pushes, however many come.
TEST_PUSH_NOTICE_S = 5.0


@dataclass(frozen=True)
class Notice:
    """Something the person running the server wants to hear of as it happens (the CLI
    prints it): ``kind`` is ``connected``, ``test_push``, ``ended``, ``recording_started``
    or ``recording_saved``; ``path`` is a saved recording's file."""

    kind: str
    text: str
    path: Path | None = None


def _no_notice(notice: Notice) -> None:
    """The default listener: nobody is told."""


class PushRefused(HarliteError):
    """A push the server will not take; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(reason)


def session_id(device: str, session: str) -> str:
    """A short id for a (device, session) pair, safe in URLs and element ids."""
    return hashlib.sha256(f"{device}\x00{session}".encode()).hexdigest()[:12]


@dataclass
class SessionCounters(RowCounts):
    """What one session has received, for the page: the stream's tally and the pushes."""

    pushes: int = 0


class LiveSession:
    """One phone's stream: its rows classified as they come.

    Args:
        hub_settings: the server's settings.
        bundle: the open bundle (shared by every session).
        device, session: the phone's ids.
        source: ``push`` (Sensor Logger JSON over HTTP), ``mqtt`` or ``csv``.
        platform: how its acceleration sign is read (``android``/``ios``).
        notify: told of each recording saved.
    """

    def __init__(
        self,
        settings: ServeSettings,
        bundle: Bundle,
        device: str,
        session: str,
        source: str,
        platform: str,
        notify: Callable[[Notice], None] = _no_notice,
    ) -> None:
        self.id = session_id(device, session)
        self.notify = notify
        self.device, self.session, self.source, self.platform = device, session, source, platform
        self.settings = settings
        self.classifier = StreamClassifier(bundle, settings.classifier)
        self.assembler = PushAssembler(
            platform,
            reorder_wait_s=settings.reorder_wait_s,
            max_gap_s=settings.classifier.max_gap_s,
        )
        self.lines = LineFeed(f"{device} (csv)")
        self.counters = SessionCounters()
        self.activity = ActivityLog(settings.classifier.max_gap_s)
        self.history: deque[dict] = deque(maxlen=settings.history)
        #: what the phone page classified itself (compared with ``history``)
        self.on_phone = OnPhone(settings.history)
        self.rate_hz = bundle.sample_rate_hz
        self.warnings: list[str] = []
        self.refused: str | None = None  #: why classifying stopped (input below 10 Hz)
        self.recorder: Recorder | None = None
        self.recording_error: str | None = None  #: why the last recording was lost
        self.recordings: list[SavedRecording] = []
        self.started = time.time()
        self.last_push = time.monotonic()

    # -- input ------------------------------------------------------------------------------

    def take_message(self, message: PushMessage, now: float) -> list[Prediction]:
        self._pushed(now)
        return self._classify(self.assembler.add(message, now))

    def take_csv(self, body: bytes, now: float) -> list[Prediction]:
        self._pushed(now)
        return self._classify(self.lines.parse(body))

    def take_phone_predictions(self, predictions: list[PhonePrediction], now: float) -> int:
        """The phone's own predictions (:mod:`harlite.serve.on_phone`); how many."""
        self._pushed(now)
        self.on_phone.add(predictions)
        return len(predictions)

    def tick(self, now: float) -> list[Prediction]:
        """Release pushes whose wait for an earlier one is over."""
        return self._classify(self.assembler.tick(now)) if self.assembler.pending else []

    def finish(self) -> list[Prediction]:
        """The session ended: what waited released, the classifier flushed, a recording in
        progress saved."""
        predictions = self._classify(self.assembler.finish())
        if self.refused is None:
            self._refused_and_warned(self.classifier.flush())
        if self.recorder is not None:
            with contextlib.suppress(RecordingError):  # nothing recorded: nothing to keep
                self.stop_recording()
        return predictions

    def _pushed(self, now: float) -> None:
        self.counters.pushes += 1
        self.last_push = now

    def _classify(self, parsed: ParsedRows) -> list[Prediction]:
        for line, reason, detail in parsed.bad:
            self.counters.bad_row(line, reason, detail)
        self._note_warnings(self.assembler.warnings)
        if not len(parsed.rows):
            return []
        self.counters.samples += len(parsed.rows)
        if self.recorder is not None:
            self._record(parsed.rows)
        if self.refused is not None:
            return []
        try:
            result = self.classifier.push(parsed.rows, None, parsed.lines)
        except LowRateError as error:
            self.refused = str(error)
            self._note_warnings([f"not classified: {error}"])
            return []
        self._refused_and_warned(result)
        self.counters.windows += len(result.predictions)
        for p in result.predictions:
            self.activity.add(p.start_time, p.end_time, p.smoothed_label or p.label)
        return result.predictions

    def _refused_and_warned(self, result: PushResult) -> None:
        self.counters.refused(result.rejected)
        self._note_warnings(result.warnings)

    def _note_warnings(self, warnings: list[str]) -> None:
        for warning in warnings:
            if warning not in self.warnings and len(self.warnings) < MAX_WARNINGS:
                self.warnings.append(warning)

    # -- recording --------------------------------------------------------------------------

    def start_recording(self, request: RecordingRequest) -> None:
        if self.settings.record_dir is None:
            raise RecordingError("recording is off: start harlite serve with --record-dir DIR")
        if self.recorder is not None:
            raise RecordingError("already recording: stop first")
        self.recording_error = None
        self.recorder = Recorder(
            self.settings.record_dir,
            request,
            device=self.device,
            session=self.session,
            platform=self.platform,
            max_s=self.settings.max_record_s,
        )

    def stop_recording(self) -> SavedRecording:
        if self.recorder is None:
            if self.recording_error:
                raise RecordingError(f"not recording: {self.recording_error}")
            raise RecordingError("not recording")
        recorder, self.recorder = self.recorder, None
        try:
            saved = recorder.stop()
        except RecordingLost as lost:
            self._recording_lost(str(lost))
            raise
        self.recordings.append(saved)
        path = self.settings.record_dir / saved.file
        self.notify(
            Notice(
                "recording_saved",
                f"{self.device!r}: recording saved: {path} ({saved.label}, {saved.samples} "
                f"samples, {saved.duration_s:.1f} s)",
                path,
            )
        )
        return saved

    def _record(self, rows) -> None:
        try:
            self.recorder.add(rows)
        except RecordingLost as lost:  # the recording is over; classifying goes on
            self.recorder = None
            self._recording_lost(str(lost))

    def _recording_lost(self, reason: str) -> None:
        """Say why a recording was lost: on the page, in the state and on the server's log."""
        self.recording_error = reason
        self._note_warnings([f"recording stopped: {reason}"])
        log.error("%s", reason)

    # -- state ------------------------------------------------------------------------------

    def state(self) -> dict:
        """The session as the page and ``/api/state`` show it."""
        counters, assembler = self.counters, self.assembler.counters
        rate = self.classifier.input_rate_hz
        recording = None
        if self.recorder is not None:
            recording = {
                "label": self.recorder.request.label,
                "file": self.recorder.name,
                "samples": self.recorder.samples,
                "duration_s": round(self.recorder.duration_s, 2),
            }
        return {
            "id": self.id,
            "device": self.device,
            "session": self.session,
            "source": self.source,
            "platform": self.platform,
            "started": round(self.started, 3),
            "idle_s": round(time.monotonic() - self.last_push, 2),
            "pushes": counters.pushes,
            "samples": counters.samples,
            "windows": counters.windows,
            "time_per_label": self.activity.time_per_label(),
            "input_rate_hz": None if rate is None else round(rate, 2),
            "bad_rows": counters.bad_rows,
            "bad_row_reasons": counters.reasons_by_count(),
            "first_bad_rows": counters.first_bad_rows,
            "messages": assembler.messages,
            "duplicates": assembler.duplicates,
            "reordered": assembler.reordered,
            "missing_messages": assembler.missing,
            "late_messages": assembler.late,
            "ignored_sensors": dict(assembler.ignored.most_common()),
            "out_of_distribution_windows": self.classifier.out_of_distribution_windows,
            "warnings": self.warnings,
            "refused": self.refused,
            "recording": recording,
            "recording_error": self.recording_error,
            "recordings": [r.to_dict() for r in self.recordings[-5:]],
            "last": self.history[-1] if self.history else None,
            "on_phone": self.on_phone.state(self.history, self.rate_hz),
        }


class SessionHub:
    """Every live session of one server, the feed of events, and the server's counters."""

    def __init__(
        self, settings: ServeSettings, notify: Callable[[Notice], None] = _no_notice
    ) -> None:
        self.settings = settings
        #: told when a phone connects or ends, and when a recording starts or is saved
        self.notify = notify
        self._test_push_noticed = -TEST_PUSH_NOTICE_S
        self.bundle = Bundle.open(settings.bundle)
        StreamClassifier(self.bundle, settings.classifier)  # fail now on a bad setting
        self.feed = EventFeed(settings.client_queue)
        self.sessions: dict[str, LiveSession] = {}
        #: the states and predictions of the last sessions that ended
        self.ended: deque[dict] = deque(maxlen=ENDED_KEPT)
        self.ended_history: deque[tuple[str, deque[dict]]] = deque(maxlen=ENDED_KEPT)
        self.bad_requests: Counter[str] = Counter()
        self.refused_sessions = 0
        self.sequence = 0  #: predictions published, numbering them for ?since=

    # -- pushes -----------------------------------------------------------------------------

    def push_json(self, body: bytes, platform: str | None = None, source: str = "push") -> dict:
        """A Sensor Logger push body; returns what it did (for the reply): the session's id,
        ``readings`` (one per used sensor and instant: 100 accelerometer and 100 gyroscope
        samples are 200), ``samples`` (the same; its old name, kept for one release) and
        the windows classified. An empty payload for no live session (the app's "Tap to
        Test Pushing") starts none: its session is None.

        Raises :class:`PushRefused` (400 for a body that is not a push, 503 when a new
        session would exceed ``max_sessions``).
        """
        try:
            message = parse_push(body)
        except PushError as error:
            self.bad_requests[str(error).split(":")[0]] += 1
            raise PushRefused(400, str(error)) from None
        now = time.monotonic()
        if message.size == 0 and session_id(*message.key) not in self.sessions:
            self._test_push(message, source, now)
            return {"session": None, "readings": 0, "samples": 0, "windows": 0}
        session = self._session(message.device_id, message.session_id, source, platform)
        predictions = session.take_message(message, now)
        self._published(session, predictions)
        readings = message.samples
        return {"session": session.id, "readings": readings, "samples": readings,
                "windows": len(predictions)}  # fmt: skip

    def _test_push(self, message: PushMessage, source: str, now: float) -> None:
        """An empty push for no live session: said on the terminal (at most once in
        :data:`TEST_PUSH_NOTICE_S`), no session started."""
        if now - self._test_push_noticed >= TEST_PUSH_NOTICE_S:
            self._test_push_noticed = now
            self.notify(
                Notice(
                    "test_push",
                    f"test push from {message.device_id!r} ({source}): it reaches the server; "
                    "its panel appears once it sends samples",
                )
            )

    def push_csv(self, body: bytes, device: str, session_name: str) -> dict:
        """Canonical CSV lines (or any CSV ``harlite stream`` reads, header first)."""
        now = time.monotonic()
        if not body.strip() and session_id(device, session_name) not in self.sessions:
            return {"session": None, "windows": 0}  # an empty (test) push starts no session
        session = self._session(device, session_name, "csv", None)
        try:
            predictions = session.take_csv(body, now)
        except DataError as error:
            self.bad_requests["bad csv"] += 1
            raise PushRefused(400, str(error)) from None
        self._published(session, predictions)
        return {"session": session.id, "windows": len(predictions)}

    def push_predictions(self, body: bytes, device: str, session_name: str) -> dict:
        """The windows a phone classified itself (the phone page), for its session (made
        by its samples' pushes, or now: a body that is not one starts none)."""
        try:
            predictions = parse_predictions(body, self.bundle.labels)
        except PhonePredictionError as error:
            self.bad_requests["bad phone predictions"] += 1
            raise PushRefused(400, str(error)) from None
        session = self._session(device, session_name, "csv", None)
        count = session.take_phone_predictions(predictions, time.monotonic())
        self.feed.publish(Event("session", session.state()))
        return {"session": session.id, "predictions": count}

    def _session(self, device: str, name: str, source: str, platform: str | None) -> LiveSession:
        key = session_id(device, name)
        session = self.sessions.get(key)
        if session is None:
            if len(self.sessions) >= self.settings.max_sessions:
                self.refused_sessions += 1
                raise PushRefused(
                    503, f"{self.settings.max_sessions} sessions are live already (--max-sessions)"
                )
            session = LiveSession(
                self.settings,
                self.bundle,
                device,
                name,
                source,
                platform or self.settings.platform,
                self.notify,
            )
            self.sessions[key] = session
            self.notify(
                Notice(
                    "connected",
                    f"phone {device!r} connected (session {name!r}, {source}, {session.platform})",
                )
            )
        return session

    def _publish_predictions(self, session: LiveSession, predictions: list[Prediction]) -> None:
        for prediction in predictions:
            self.sequence += 1
            record = {"seq": self.sequence, "session": session.id,
                      **prediction.to_dict(self.bundle.labels)}  # fmt: skip
            session.history.append(record)
            self.feed.publish(Event("prediction", record))

    def _published(self, session: LiveSession, predictions: list[Prediction]) -> None:
        self._publish_predictions(session, predictions)
        if session.recorder is not None and session.recorder.full:
            with contextlib.suppress(RecordingError):  # a lost one is in the session's state
                saved = session.stop_recording()
                session.warnings.append(f"recording {saved.file} stopped at --max-record-s")
        self.feed.publish(Event("session", session.state()))

    # -- time -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Release reordered pushes whose wait is over; end idle sessions."""
        now = time.monotonic()
        for session in list(self.sessions.values()):
            if now - session.last_push > self.settings.session_idle_s:
                self.end(session.id)
                continue
            predictions = session.tick(now)
            if predictions:
                self._published(session, predictions)

    def end(self, key: str) -> None:
        """End a session: its last predictions and state published, then forgotten."""
        session = self.sessions.pop(key, None)
        if session is None:
            return
        self._publish_predictions(session, session.finish())
        state = session.state()
        self.ended.append(state)
        self.ended_history.append((session.id, session.history))
        self.feed.publish(Event("session_end", state))
        self.notify(
            Notice(
                "ended",
                f"phone {session.device!r} (session {session.session!r}) ended: "
                f"{state['samples']} samples, {state['windows']} windows",
            )
        )

    def close(self) -> None:
        """End every session (recordings in progress saved)."""
        for key in list(self.sessions):
            self.end(key)

    # -- recording --------------------------------------------------------------------------

    def start_recording(self, key: str, request: RecordingRequest) -> dict:
        session = self._live(key)
        session.start_recording(request)
        state = session.state()
        self.feed.publish(Event("session", state))
        where = self.settings.record_dir / request.label
        self.notify(
            Notice(
                "recording_started",
                f"{session.device!r}: recording {request.label!r} started (into {where})",
            )
        )
        return state["recording"]

    def stop_recording(self, key: str) -> dict:
        session = self._live(key)
        saved = session.stop_recording()
        self.feed.publish(Event("session", session.state()))
        return saved.to_dict()

    def _live(self, key: str) -> LiveSession:
        session = self.sessions.get(key)
        if session is None:
            raise RecordingError(f"no live session {key!r} (it may have ended)")
        return session

    # -- state ------------------------------------------------------------------------------

    def state(self) -> dict:
        """The whole server as ``/api/state`` answers and the page starts from."""
        return {
            "model": {
                "name": self.bundle.path.name,
                "labels": list(self.bundle.labels),
                "artifact": self.settings.classifier.artifact or self.bundle.artifact(None).name,
                "window_s": self.bundle.window / self.bundle.sample_rate_hz,
                "hop_s": self.bundle.hop / self.bundle.sample_rate_hz,
            },
            "recording_enabled": self.settings.record_dir is not None,
            "sequence": self.sequence,
            "sessions": [s.state() for s in self.sessions.values()],
            "ended": list(self.ended),
            "bad_requests": sum(self.bad_requests.values()),
            "bad_request_reasons": dict(self.bad_requests.most_common()),
            "refused_sessions": self.refused_sessions,
            "pages": len(self.feed.subscribers),
        }

    def predictions(self, since: int = 0, session: str | None = None, limit: int = 1000) -> dict:
        """Predictions numbered after ``since`` (of one session, or all; live sessions and the
        last ones that ended), oldest first."""
        histories = [*self.ended_history, *((s.id, s.history) for s in self.sessions.values())]
        chosen = [h for key, h in histories if session is None or key == session]
        found = [p for history in chosen for p in history if p["seq"] > since]
        found.sort(key=lambda p: p["seq"])
        return {"sequence": self.sequence, "predictions": found[:limit]}
