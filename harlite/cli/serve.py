"""``harlite serve``: take phones' pushes, classify each live, show them on a page, record."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

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
#: Recordings named one by one when the server stops (the rest are counted).
LISTED_RECORDINGS = 20


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
    "--tls",
    is_flag=True,
    help="Serve https with a self-signed certificate harlite makes and keeps (phone "
    "browsers give motion sensors to the phone page at /phone/ only over https; "
    "docs/phone-page.md says how to trust it).",
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

    Loopback only unless --host says otherwise (then --token or --no-token); with --host
    0.0.0.0 it prints this machine's addresses to type into the phone (and a QR code with
    the lan extra). Stop with Ctrl-C: recordings in progress are saved, and every recording
    saved is named.
    """
    try:
        from harlite.serve.app import serve as run_server
        from harlite.serve.lan import server_certificate
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
        tls=server_certificate(options["host"]) if options["tls"] else None,
    )
    saved = SavedList()
    final = run_server(
        settings,
        on_ready=lambda host, port: _announce(settings, host, port),
        on_notice=saved.notice,
    )
    echo_err(f"stopped: {len(final['ended'])} sessions ended")
    saved.summary(settings.record_dir)


class SavedList:
    """Prints the server's notices as they come, with the time, and remembers the
    recordings saved for the summary at the end."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.count = 0

    def notice(self, notice) -> None:
        echo_err(f"{time.strftime('%H:%M:%S')} {notice.text}")
        if notice.kind == "recording_saved":
            self.count += 1
            if len(self.paths) < LISTED_RECORDINGS:
                self.paths.append(notice.path)

    def summary(self, record_dir: Path | None) -> None:
        if record_dir is None:
            return
        if not self.count:
            echo_err(f"no recording was saved into {record_dir}")
            return
        echo_err(f"{self.count} recording{'s' if self.count > 1 else ''} saved into {record_dir}:")
        for path in self.paths:
            echo_err(f"  {path}")
        if self.count > len(self.paths):
            echo_err(f"  … and {self.count - len(self.paths)} more (see recordings.csv)")


def _announce(settings, host: str, port: int) -> None:
    from harlite.serve.lan import LAN_EXTRA, WILDCARDS, phone_urls, qr_terminal

    shown = f"[{host}]" if ":" in host else host
    query = "?token=TOKEN" if settings.token else ""
    scheme = settings.scheme
    urls = [replace(u, base=u.base.replace("http:", f"{scheme}:", 1))
            for u in phone_urls(host, port)]  # fmt: skip
    everywhere = host in WILDCARDS
    echo_err(f"listening on {scheme}://{shown}:{port}" + (" (every network)" if everywhere else ""))
    where = "THIS-MACHINE-IP" if everywhere else shown
    base = urls[0].base if urls else f"{scheme}://{where}:{port}"
    echo_err(f"  page:  {base}/{query}")
    echo_err(f"  phone: {base}/phone/{query}  (classifies on the phone itself)")
    echo_err(f"  push:  {base}/push{query}  (Sensor Logger: HTTP Push URL)")
    if settings.tls is not None:
        _certificate_lines(settings.tls, base, query)
    if everywhere:
        _addresses(urls, query, LAN_EXTRA)
    for url in settings.mqtt:
        echo_err(f"  mqtt:  subscribed to {url.split('@')[-1]}")
    if settings.record_dir is not None:
        echo_err(f"  recordings go to {settings.record_dir}")
    if urls and _is_terminal():
        token = f"?token={quote(settings.token)}" if settings.token else ""
        qr = qr_terminal(f"{urls[0].base}/push{token}")
        if qr is None:
            echo_err(f"  (a QR code of the push URL to scan: {LAN_EXTRA})")
        elif _can_print(qr):
            echo_err("  scan with the phone's camera (the push URL, token included):")
            echo_err(qr.rstrip("\n"))


def _certificate_lines(tls, base: str, query: str) -> None:
    made = "made now" if tls.made else "kept"
    echo_err(f"  tls:   self-signed certificate ({made}: {tls.cert}) for {', '.join(tls.hosts)}")
    echo_err(f"         SHA-256 {tls.fingerprint}")
    echo_err(f"         to trust it on a phone: {base}/harlite.crt{query} (docs/phone-page.md)")


def _addresses(urls, query: str, extra: str) -> None:
    """This machine's addresses a phone on its networks can type."""
    if not urls:
        echo_err(
            "  this machine's network address was not found: type the one `hostname -I` "
            f"(Linux) or `ipconfig` (Windows) shows, or {extra}"
        )
        return
    echo_err("  a phone on the same network pushes to one of:")
    for url in urls:
        echo_err(f"    {url.base}/push{query}  ({url.via})")


def _is_terminal() -> bool:
    """Whether stderr is a terminal (a QR code in a log or journal helps nobody, and it
    holds the token)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _can_print(text: str) -> bool:
    """Whether stderr's encoding has the QR code's block characters."""
    try:
        text.encode(getattr(sys.stderr, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
