"""How to read an input: its format, column map, units and rate (``harlite stream``'s input
options, and a recordings folder's settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harlite.runtime.sensorcsv import Units

SENSOR_LOGGER = "sensorlogger"
PHYPHOX = "phyphox"
#: Formats read by an app export's own reader.
EXPORT_FORMATS = (SENSOR_LOGGER, PHYPHOX)
#: Every input format (``auto`` tells them apart by the file).
FORMATS = ("auto", "canonical", *EXPORT_FORMATS)

#: Default units of each format; options override them.
DEFAULT_UNITS = {
    "canonical": Units("g", "rad/s", "s"),
    "sensorlogger": Units("m/s2", "rad/s", "ns"),
    "phyphox": Units("m/s2", "rad/s", "s"),
}


@dataclass(frozen=True)
class InputOptions:
    """How to read an input: its format, column mapping, units and rate.

    ``acc_unit``/``gyro_unit``/``time_unit`` None take the format's defaults; ``rate_hz``
    None infers the rate from the timestamps (``--rate auto``).
    """

    format: str = "auto"
    columns: dict[str, str] | None = None
    acc_unit: str | None = None
    gyro_unit: str | None = None
    time_unit: str | None = None
    rate_hz: float | None = None
    delimiter: str | None = None

    def units(self, format_name: str) -> Units:
        """The input's units: the options where given, else the format's defaults."""
        base = DEFAULT_UNITS[format_name]
        return Units(
            self.acc_unit or base.acc, self.gyro_unit or base.gyro, self.time_unit or base.time
        )


@dataclass(frozen=True)
class LabelMap:
    """How the label names in an input become the model's classes: renamed first
    (``rename``: name in the file → class), then those in ``ignore`` left unlabelled, as a
    data set's ``dataset.toml`` says (``rename``, ``ignore``).

    ``rename`` may be given as a mapping; it is kept as sorted pairs, so that a LabelMap is
    hashable like the settings that carry it (batch workers key their classifiers by them).
    """

    rename: tuple[tuple[str, str], ...] | Mapping[str, str] = ()
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pairs = self.rename.items() if isinstance(self.rename, Mapping) else self.rename
        object.__setattr__(self, "rename", tuple(sorted((str(a), str(b)) for a, b in pairs)))
        object.__setattr__(self, "ignore", tuple(self.ignore))
        object.__setattr__(self, "_names", dict(self.rename))

    def class_of(self, label: str | None) -> str | None:
        """The class a label in a file stands for (None: unlabelled or ignored)."""
        if label is None:
            return None
        label = self._names.get(label, label)
        return None if label in self.ignore or not label else label
