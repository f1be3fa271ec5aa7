"""`harlite.runtime` must load with numpy, scipy and an interpreter alone."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("tensorflow", "keras", "tf_keras", "sklearn")


def test_importing_the_runtime_loads_no_training_library():
    code = (
        "import sys, harlite.runtime, harlite.cli; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
