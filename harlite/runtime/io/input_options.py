"""How to read an input: its format, column map, units and rate (``harlite stream``'s input
options, and a recordings folder's settings)."""

from __future__ import annotations

from dataclasses import dataclass

from harlite.runtime.rows import LabelMap as LabelMap
from harlite.runtime.rows import Units

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

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
