"""`harlite export android|ios` without building anything: the refusals and the templates.

The builds and the window-by-window comparisons are in test_export_android.py (JDK) and
test_export_ios.py (cc).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.convert import export_phone
from harlite.errors import HarliteError
from harlite.shipped import resolve_bundle


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_out_inside_the_bundle_is_refused_before_anything_is_written(platform, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    export = getattr(export_phone, f"export_{platform}")
    with pytest.raises(HarliteError, match="is inside the bundle"):
        export(bundle, bundle / "out")
    assert list(bundle.iterdir()) == []


def test_the_templates_are_there():
    """Every file the layouts copy exists in the package (harlite/convert/phone)."""
    phone = export_phone.PHONE
    names = ["harlite_phone.c", "harlite_phone.h"]
    names += [f"android/{n}" for n in ("build.gradle", "README.md", "AndroidManifest.xml",
                                       "CMakeLists.txt", "harlite_jni.c")]  # fmt: skip
    names += [f"android/org/harlite/{n}" for n in export_phone.JAVA_CLASSES]
    names += [f"ios/{n}" for n in ("Package.swift", "README.md", "Harlite.swift",
                                   "module.modulemap")]  # fmt: skip
    missing = [n for n in names if not (phone / n).is_file()]
    assert not missing
    cmake = (phone / "android" / "CMakeLists.txt").read_text()
    for source in (*export_phone.CORE_SOURCES, "harlite_phone.c", "harlite_jni.c"):
        assert source in cmake


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_the_commands_say_what_they_write(platform):
    done = CliRunner().invoke(cli, ["export", platform, "--help"])
    assert done.exit_code == 0
    assert "--out" in done.output and "harlite[train]" in done.output
    missing = CliRunner().invoke(cli, ["export", platform, str(resolve_bundle("lstm"))])
    assert missing.exit_code == 2 and "--out" in missing.output
