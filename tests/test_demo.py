"""The main job's demo runs end to end and checks its own event sequence."""

from __future__ import annotations

import os
import subprocess
import sys


def _run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virtcore.demo", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _events(stdout: str) -> list[str]:
    return [line.split(": ")[1].split()[0] for line in stdout.splitlines()
            if line.startswith("  event  ")]  # fmt: skip


def test_the_default_demo_boots_a_real_guest_on_an_embedded_qemu_root() -> None:
    proc = _run_demo()
    assert proc.returncode == 0, proc.stderr
    assert "== open qemu:///embed?root=" in proc.stdout
    assert "  type=QEMU " in proc.stdout
    assert "  pool demo-pool active, volume demo.qcow2 (64 MiB qcow2)" in proc.stdout
    assert "  started demo, id 1, running, vcpus=1" in proc.stdout
    assert "<source pool='demo-pool' volume='demo.qcow2' index='1'/>" in proc.stdout
    assert _events(proc.stdout) == [
        "DEFINED", "RESUMED", "STARTED", "SUSPENDED", "RESUMED", "SHUTDOWN", "STOPPED",
        "UNDEFINED",
    ]  # fmt: skip
    assert proc.stdout.rstrip().endswith("== ok")
    assert proc.stderr == ""


def test_the_demo_leaves_no_guest_or_state_behind() -> None:
    proc = _run_demo()
    assert proc.returncode == 0, proc.stderr
    root = proc.stdout.split("== open qemu:///embed?root=", 1)[1].split()[0]
    alive = subprocess.run(["pgrep", "-f", root], capture_output=True, text=True, check=False)
    assert alive.stdout == ""
    assert not os.path.exists(root)


def test_the_demo_runs_on_the_test_hypervisor_too() -> None:
    proc = _run_demo("test:///default")
    assert proc.returncode == 0, proc.stderr
    assert _events(proc.stdout) == [
        "DEFINED",
        "STARTED",
        "SUSPENDED",
        "RESUMED",
        "STOPPED",
        "UNDEFINED",
    ]
    assert proc.stdout.rstrip().endswith("== ok")
