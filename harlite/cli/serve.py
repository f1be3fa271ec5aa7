"""``harlite serve``: take phones' pushes, classify each live, show them on a page, record."""

from __future__ import annotations

from pathlib import Path

import click

from harlite.cli.options import (
    _MODEL_AND_INPUT_OPTIONS,
    bundle_path,
    classifier_settings,
    echo_err,
    placement_option,
    positive_number,
)
from harlite.errors import HarliteError

#: --artifact, --backend, --threads, --hop, --smooth: how each session's model runs.
_MODEL_OPTIONS = _MODEL_AND_INPUT_OPTIONS[:5]


def _model_options(command):
    for option in reversed(_MODEL_OPTIONS):
        command = option(command)
    return command


@click.command()
@click.argument("bundle")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every network; needs --token or --no-token).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port, printed).",
)
@click.option(
    "--token",
    envvar="HARLITE_TOKEN",
    help="Secret that pushes, the page and the API must carry (?token=…, or "
    "Authorization: Bearer …); also read from $HARLITE_TOKEN.",
)
@click.option(
    "--no-token",
    is_flag=True,
    help="Listen beyond loopback without a token: anyone who reaches the port can "
    "push, watch and record.",
)
@click.option(
    "--record-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Recordings made from the page go here, as a recordings folder that "
    "harlite train --data reads (default: recording off).",
)
@click.option(
    "--mqtt",
    "mqtt_urls",
    multiple=True,
    metavar="URL",
    help="Also take Sensor Logger pushes from an MQTT broker: "
    "mqtt://[USER:PASS@]HOST[:PORT]/TOPIC (mqtts://, mqtt+ws://, mqtt+wss://).",
)
@click.option(
    "--platform",
    type=click.Choice(["android", "ios"]),
    default="android",
    show_default=True,
    help="Sensor Logger's acceleration sign: ios for an iPhone without 'Standardise "
    "Units & Frames' (a push URL's ?platform= sets it per phone).",
)
@_model_options
@click.option(
    "--max-gap",
    type=float,
    default=0.25,
    show_default=True,
    callback=positive_number,
    help="Seconds without samples after which windows restart.",
)
@click.option("--allow-low-rate", is_flag=True, help="Classify phones pushing below 10 Hz.")
@placement_option
@click.option(
    "--session-timeout",
    type=float,
    default=60.0,
    show_default=True,
    callback=positive_number,
    help="A phone silent this many seconds has its session ended (a recording in "
    "progress is saved).",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Phone sessions at once.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1024),
    default=4 << 20,
    show_default=True,
    help="Largest request body or MQTT message, in bytes.",
)
@click.option(
    "--client-timeout",
    type=float,
    default=10.0,
    show_default=True,
    callback=positive_number,
    help="Seconds a client has to send a request's headers, and then its body; slower "
    "or idle connections are closed.",
)
@click.option(
    "--max-record-s",
    type=float,
    default=3600.0,
    show_default=True,
    callback=positive_number,
    help="Longest recording, in seconds.",
)
def serve(bundle, **options) -> None:
    """Classify phones live: Sensor Logger pushes (HTTP Push or MQTT) or CSV lines go to
    /push, each phone session gets its own classifier, and the page at / shows every phone
    live and records labelled data from it into --record-dir.

    Loopback only unless --host says otherwise (then --token or --no-token). Stop with
    Ctrl-C: recordings in progress are saved.
    """
    try:
        from harlite.serve.app import serve as run_server
        from harlite.serve.settings import ServeSettings
    except ImportError as error:
        raise HarliteError(
            f"harlite serve needs the serve extra ({error.name} is missing): "
            "pip install 'harlite[serve]'"
        ) from None
    settings = ServeSettings(
        bundle=bundle_path(bundle),
        classifier=classifier_settings({**options, "window_label": "uniform"}),
        host=options["host"],
        port=options["port"],
        token=options["token"],
        allow_no_token=options["no_token"],
        record_dir=options["record_dir"],
        platform=options["platform"],
        session_idle_s=options["session_timeout"],
        max_sessions=options["max_sessions"],
        max_body_bytes=options["max_body"],
        max_record_s=options["max_record_s"],
        mqtt=tuple(options["mqtt_urls"]),
        client_timeout_s=options["client_timeout"],
    )
    final = run_server(settings, on_ready=lambda host, port: _announce(settings, host, port))
    echo_err(f"stopped: {len(final['ended'])} sessions ended")


def _announce(settings, host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "THIS-MACHINE-IP"
    query = "?token=TOKEN" if settings.token else ""
    echo_err(f"listening on http://{shown}:{port}")
    echo_err(f"  page:  http://{shown}:{port}/{query}")
    echo_err(f"  push:  http://{shown}:{port}/push{query}  (Sensor Logger: HTTP Push URL)")
    for url in settings.mqtt:
        echo_err(f"  mqtt:  subscribed to {url.split('@')[-1]}")
    if settings.record_dir is not None:
        echo_err(f"  recordings go to {settings.record_dir}")
