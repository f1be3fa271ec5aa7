"""``harlite replay``: play a recording to ``harlite serve`` as a phone running Sensor Logger
would (no phone at hand)."""

from __future__ import annotations

import click

from harlite.cli.options import echo_err, positive_number
from harlite.cli.stream import DEMO_RECORDING


@click.command()
@click.argument("recording", required=False)
@click.option(
    "--url",
    default="http://127.0.0.1:8000/push",
    show_default=True,
    help="The server's push URL (as typed into Sensor Logger's Push URL).",
)
@click.option(
    "--token",
    envvar="HARLITE_TOKEN",
    help="The server's token (or ?token=… in --url); also read from $HARLITE_TOKEN.",
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    callback=positive_number,
    help="Times real time (10: ten seconds of the recording a second).",
)
@click.option("--device", default="replay", show_default=True, help="The phone's name (deviceId).")
@click.option(
    "--session", help="The session id (sessionId; default: a new one each run, from the time)."
)
@click.option(
    "--platform",
    type=click.Choice(["android", "ios"]),
    default="android",
    show_default=True,
    help="Send acceleration with Android's sign, or with a raw iPhone's (opposite).",
)
def replay(recording, url, token, speed, device, session, platform) -> None:
    """Play RECORDING to a harlite serve as Sensor Logger's HTTP Push would: one JSON
    message per second of samples (TotalAcceleration in m/s², Gyroscope in rad/s, epoch
    nanoseconds), at real-time pace unless --speed says otherwise.

    RECORDING is anything harlite stream --input reads from a file (a canonical CSV, a
    Sensor Logger or phyphox export); without it, the recording harlite stream --demo
    plays (3.6 minutes of one person).
    """
    from harlite.serve.replay import read_recording
    from harlite.serve.replay import replay as play

    path = recording or DEMO_RECORDING
    rows, bad = read_recording(path)
    seconds = float(rows[-1, 0] - rows[0, 0])
    echo_err(
        f"replaying {path} ({seconds:.0f} s, {len(rows)} samples"
        + (f", {bad} bad rows left out" if bad else "")
        + f") to {url} as {device!r}"
        + (f" at {speed:g}x" if speed != 1 else "")
    )
    summary = play(
        rows, url, token=token, speed=speed, device=device, session=session, platform=platform
    )
    echo_err(
        f"sent {summary.pushes} pushes ({summary.readings} readings, {summary.seconds:.1f} s "
        f"of recording); the server classified {summary.windows} windows"
        + (f" (session {summary.session} on its page)" if summary.session else "")
    )
