"""``harlite doctor``: this machine's platform, numpy and interpreters, and which one runs."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-check", is_flag=True, help="Do not run the shipped model's check window.")
def doctor(as_json: bool, no_check: bool) -> None:
    """Platform, userland (32/64-bit), numpy, every TFLite interpreter and whether it can run
    here, which one `stream` will use, a one-window check of the shipped lstm model, and the
    install command that fits this machine. Exits 1 when no interpreter can run."""
    from harlite.runtime.doctor import diagnose

    diagnosis = diagnose(check_model=not no_check)
    click.echo(json.dumps(diagnosis.to_dict()) if as_json else diagnosis.format())
    if diagnosis.runs is None or diagnosis.check.startswith("FAILED"):
        raise SystemExit(1)
