"""Predictions a phone made itself (the phone page, ``/push/predictions``), kept beside the
server's own predictions of the same samples and compared with them window by window.

The phone page sends its samples (``/push``, CSV) and the windows it classified from them
(``/push/predictions``, JSON). Both start from the same sample, so the server's windows end
on the page's grid: a window of each with the same end (to the nearest model sample) is the
same window, and their labels should be equal (the page runs the C core, proven equal to
the Python runtime).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Predictions one request may carry (a page sends every second: a handful).
MAX_PER_PUSH = 1000
PLACEMENTS = ("pocket", "waist")
#: Seconds beyond which a time is not one (as the runtime refuses).
TIME_LIMIT_S = 1e11


class PhonePredictionError(ValueError):
    """A predictions body that is not one (the message names the item and field)."""


@dataclass(frozen=True)
class PhonePrediction:
    """One window the phone classified: its times (epoch seconds), label and confidence."""

    start_time: float
    end_time: float
    label: str
    confidence: float
    placement: str | None = None

    def to_dict(self) -> dict:
        found = {"start_time": self.start_time, "end_time": self.end_time,
                 "label": self.label, "confidence": self.confidence}  # fmt: skip
        return found if self.placement is None else {**found, "placement": self.placement}


def parse_predictions(body: bytes, labels: Iterable[str]) -> list[PhonePrediction]:
    """``{"predictions": [{start_time, end_time, label, confidence[, placement]}, …]}``."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PhonePredictionError("the body must be a JSON object") from None
    if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
        raise PhonePredictionError('the body must be {"predictions": [...]}')
    items = data["predictions"]
    if len(items) > MAX_PER_PUSH:
        raise PhonePredictionError(f"at most {MAX_PER_PUSH} predictions a request")
    known = set(labels)
    return [_prediction(item, i, known) for i, item in enumerate(items)]


def _prediction(item: object, i: int, labels: set[str]) -> PhonePrediction:
    where = f"predictions[{i}]"
    if not isinstance(item, dict):
        raise PhonePredictionError(f"{where}: not an object")
    values = {}
    for name in ("start_time", "end_time", "confidence"):
        value = item.get(name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            values[name] = float(value) if number else math.nan
        except OverflowError:  # an integer of hundreds of digits
            values[name] = math.nan
        if not math.isfinite(values[name]):
            raise PhonePredictionError(f"{where}.{name}: a finite number is needed")
    if abs(values["start_time"]) > TIME_LIMIT_S or abs(values["end_time"]) > TIME_LIMIT_S:
        raise PhonePredictionError(f"{where}: times are seconds (at most {TIME_LIMIT_S:g})")
    if not 0.0 <= values["confidence"] <= 1.0:
        raise PhonePredictionError(f"{where}.confidence: between 0 and 1")
    label = item.get("label")
    if not isinstance(label, str) or label not in labels:
        raise PhonePredictionError(f"{where}.label: not one of the model's labels")
    placement = item.get("placement")
    if placement is not None and placement not in PLACEMENTS:
        raise PhonePredictionError(f"{where}.placement: pocket or waist")
    return PhonePrediction(label=label, placement=placement, **values)


@dataclass
class OnPhone:
    """A session's predictions from the phone, the last ``keep`` of them compared."""

    keep: int
    windows: int = 0
    recent: deque = field(default_factory=deque)

    def add(self, predictions: list[PhonePrediction]) -> None:
        self.windows += len(predictions)
        self.recent.extend(predictions)
        while len(self.recent) > self.keep:
            self.recent.popleft()

    def state(self, server: Iterable[dict], rate_hz: float) -> dict | None:
        """How many came, the last, and how many of the kept ones have a window of the
        server's with the same end (``compared``) and the same label (``agreeing``)."""
        if not self.windows:
            return None
        ends = {round(p["end_time"] * rate_hz): p["label"] for p in server}
        compared = agreeing = 0
        for p in self.recent:
            theirs = ends.get(round(p.end_time * rate_hz))
            if theirs is not None:
                compared += 1
                agreeing += theirs == p.label
        return {"windows": self.windows, "last": self.recent[-1].to_dict(),
                "compared": compared, "agreeing": agreeing}  # fmt: skip
