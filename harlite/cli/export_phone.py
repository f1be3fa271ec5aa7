"""``harlite export android`` and ``harlite export ios``: the C core as a phone library."""

from __future__ import annotations

from pathlib import Path

import click

from harlite.cli.options import echo_err, export_options

NEXT_STEP = {
    "android": "add it to an app as a library module: {out}/README.md",
    "ios": "add it to an app as a local Swift package: {out}/README.md",
}


def _phone_command(platform: str, what: str) -> click.Command:
    @click.command(platform)
    @export_options(f"the {what}", "The core's weights, as for harlite export c.")
    def command(bundle: Path, out_dir: Path, weights: str) -> None:
        from harlite.convert import export_phone

        export = getattr(export_phone, f"export_{platform}")
        result = export(bundle, out_dir, weights)
        echo_err(
            f"wrote {result.out_dir} ({len(result.files)} files; {result.core.preset}, "
            f"{result.core.weights} weights); " + NEXT_STEP[platform].format(out=result.out_dir)
        )

    return command


android = _phone_command("android", "Android library module (JNI + Java, CMake, Gradle)")
android.help = (
    "BUNDLE (a bundle folder or a shipped model's name) as an Android library module: the C "
    "core of harlite export c with a JNI binding and the Java class org.harlite.Harlite, "
    "which takes SensorEvents (accelerometer m/s², gyroscope rad/s, timestamps in ns) and "
    "returns predictions; CMakeLists.txt and build.gradle to build it in an app. Reads "
    "model.keras: needs 'harlite[train]'."
)
ios = _phone_command("ios", "Swift package (C core with a module map, Swift wrapper)")
ios.help = (
    "BUNDLE as a Swift package: the C core of harlite export c with a module map and a "
    "Swift class that takes Core Motion's CMDeviceMotion (its acceleration sign turned to "
    "the model's). Swift is not built here. Reads model.keras: needs 'harlite[train]'."
)
