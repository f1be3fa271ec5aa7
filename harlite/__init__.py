"""harlite: human-activity recognition from phone sensors, from training to the device."""

__version__ = "0.1.0"

from harlite import _moved

_moved.install()  # old import paths (harlite.runtime.bundle, ...) keep working for a release
