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
        click.echo("\n".join(_model_lines(entry)))
    if entries:
        click.echo(
            "(cross-validated: the mean over people each held out once, the worst person in "
            "brackets, from the file named, in benchmarks/results/; validation: one run with "
            "HAPT's waist subjects 27-30 held out. Either way the shipped weights were then "
            "trained on every training subject.)"
        )


def _model_lines(entry: dict) -> list[str]:
    """A shipped model's lines: figure and description, placements, figures per placement."""
    acc, cross = entry.get("val_accuracy"), entry.get("crossval")
    kind = "cross-validated" if cross else "validation accuracy"
    figure = f"{acc:.2%} {kind}" if acc is not None else "not evaluated"
    lines = [f"{entry['name']:<12} {figure:<28} {entry['description']}"]
    placements = entry.get("placements") or []
    if placements == ["waist"]:
        lines.append(f"{'':<12} waist only: other placements get a warning (docs/placement.md)")
    elif placements:
        lines.append(f"{'':<12} trained for: {', '.join(placements)} (docs/placement.md)")
    by_placement = entry.get("by_placement") or {}
    if len(by_placement) > 1 or (by_placement and entry.get("crossval")):
        each = ", ".join(
            f"{name} {v['accuracy']:.2%}"
            + (f" (worst {v['worst']:.2%})" if v.get("worst") is not None else "")
            for name, v in by_placement.items()
        )
        source = f" ({entry['crossval']})" if entry.get("crossval") else ""
        lines.append(f"{'':<12} held out: {each}{source}")
    return lines


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
