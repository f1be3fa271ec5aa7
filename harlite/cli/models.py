"""``harlite models``: the pretrained models shipped in the package, and the presets."""

from __future__ import annotations

import json

import click


@click.group()
def models() -> None:
    """The pretrained models shipped with harlite, and the presets to train."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def models_list(as_json: bool) -> None:
    """List the shipped pretrained models with their validation figures."""
    from harlite.shipped import list_models

    entries = list_models()
    if as_json:
        click.echo(json.dumps(entries))
        return
    if not entries:
        click.echo("no pretrained models are shipped with this installation")
    for entry in entries:
        acc = entry.get("val_accuracy")
        figure = f"{acc:.2%} validation accuracy" if acc is not None else "not evaluated"
        click.echo(f"{entry['name']:<12} {figure:<28} {entry['description']}")
        placements = entry.get("by_placement") or {}
        if len(placements) > 1:
            each = ", ".join(f"{name} {v['accuracy']:.2%}" for name, v in placements.items())
            click.echo(f"{'':<12} trained for: {each} (docs/placement.md)")
    if entries:
        click.echo(
            "(each: the one validation run behind the shipped model, its subjects held out, "
            "on HAPT's waist subjects 27-30; the shipped weights were then trained on every "
            "training subject)"
        )


@models.command("path")
@click.argument("name")
def models_path(name: str) -> None:
    """Print the folder of the shipped model NAME."""
    from harlite.shipped import model_path

    click.echo(model_path(name))


@models.command("presets")
def models_presets() -> None:
    """List the model presets `harlite train --preset` accepts."""
    from harlite.train.models import PRESETS

    for preset in PRESETS.values():
        click.echo(f"{preset.name:<12} {preset.description}")
