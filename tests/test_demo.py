"""The main job's demo runs end to end and checks its own event sequence."""

from __future__ import annotations

import subprocess
import sys


def test_the_demo_succeeds_and_reports_every_lifecycle_event() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "virtcore.demo"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    events = [line.split(": ")[1].split()[0] for line in proc.stdout.splitlines()
              if line.startswith("  event  ")]  # fmt: skip
    assert events == ["DEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED", "UNDEFINED"]
    assert proc.stdout.rstrip().endswith("== ok")
    assert proc.stderr == ""
