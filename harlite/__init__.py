"""harlite: human-activity recognition from phone sensors, from training to the device."""

__version__ = "0.1.0"
