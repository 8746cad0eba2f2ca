"""Access to the real python3-libvirt 9.0 (the oracle), run by the system interpreter.

python3-libvirt is never imported into the test process: scripts run under
``/usr/bin/python3`` in a subprocess. Without it the differential and coverage
tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` is set, which skips them
(the convention of tests/test_testdriver_differential.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.libvirt_oracle import oracle_missing

LIBVIRT_PYTHON = "/usr/bin/python3"
ALLOW_ENV = "VIRTCORE_ALLOW_NO_LIBVIRT"

_available: bool | None = None


def require_libvirt_python() -> None:
    """Skip (if allowed) or fail when python3-libvirt cannot be imported."""
    global _available  # noqa: PLW0603 - probed once per test session
    if _available is None:
        _available = shutil.which(LIBVIRT_PYTHON) is not None and (
            subprocess.run(
                [LIBVIRT_PYTHON, "-c", "import libvirt"], capture_output=True, check=False
            ).returncode
            == 0
        )
    if not _available:
        oracle_missing("python3-libvirt")


def run_script(source: str, *, cwd: str | None = None, timeout: float = 120) -> str:
    """Run *source* with the oracle interpreter; returns stdout (stderr must be ignorable)."""
    require_libvirt_python()
    proc = subprocess.run(
        [LIBVIRT_PYTHON, "-c", source],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"oracle script failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def run_json(source: str) -> Any:
    """Run *source*, which prints one JSON document, and decode it."""
    return json.loads(run_script(source))
