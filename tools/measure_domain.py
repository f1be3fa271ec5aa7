"""Record a bundle's training domain (manifest ``training_domain``) from its training data.

Bundles converted before harlite recorded what a model was trained on have none, and their
streams cannot say when input is unlike training. This measures it from the model's own
settings (its manifest's ``model.training``: preset, augmentation, validation subjects) on
the data it was trained on, and rewrites the manifest atomically; the artefacts are not
touched.

    python tools/measure_domain.py cnn resbilstm [--data ../shared/data/hapt]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harlite.atomic import write_text_atomic
from harlite.convert.training_domain import measure_training_domain
from harlite.runtime.model.bundle import MANIFEST, Bundle
from harlite.shipped import resolve_path_or_name
from harlite.train.config import TrainConfig

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", nargs="+", help="bundle folders or shipped model names")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    for name in args.bundles:
        folder = resolve_path_or_name(name)
        bundle = Bundle.open(folder)
        config = TrainConfig.from_dict(bundle.manifest["model"]["training"])
        config = config.override(labels=tuple(bundle.labels))
        domain = measure_training_domain(args.data, config)
        manifest = {**bundle.manifest, "training_domain": domain.to_dict()}
        write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        Bundle.open(folder)  # still valid
        cells = {level: len(v) for level, v in domain.directions.items()}
        print(f"{folder}: {domain.windows} windows, trained directions per level {cells}")


if __name__ == "__main__":
    main()
