"""``harlite serve``: phones push their sensors (Sensor Logger's HTTP Push or MQTT, or CSV
lines), each (device, session) is classified live by its own
:class:`~harlite.runtime.stream.StreamClassifier`, and a page served from the package shows
every phone and records labelled data for training.

Needs the ``serve`` extra (aiohttp, paho-mqtt): ``pip install 'harlite[serve]'``. The page is
plain HTML, CSS and JavaScript from this package: no network fetch, so it works on a Pi
without internet.
"""
