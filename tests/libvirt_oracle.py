"""The real libvirt 9.0 as the oracle of differential tests: one place to reach it.

Differential tests compare virtcore with real libvirt (python3-libvirt run by
the system interpreter, and virsh). In CI the oracle is always installed, so a
missing oracle fails the test; ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` turns that into a
skip for machines without libvirt.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

ALLOW_ENV = "VIRTCORE_ALLOW_NO_LIBVIRT"
LIBVIRT_PYTHON = "/usr/bin/python3"


def oracle_missing(what: str) -> NoReturn:
    """Fail because *what* is missing, or skip when ``VIRTCORE_ALLOW_NO_LIBVIRT=1``."""
    if os.environ.get(ALLOW_ENV) == "1":
        pytest.skip(f"{what} is not available ({ALLOW_ENV}=1)")
    pytest.fail(f"{what} is required for differential tests; install it or set {ALLOW_ENV}=1")


@functools.cache
def libvirt_python_available() -> bool:
    """Whether the system interpreter can import libvirt-python."""
    if not os.path.exists(LIBVIRT_PYTHON):
        return False
    probe = [LIBVIRT_PYTHON, "-c", "import libvirt"]
    return subprocess.run(probe, capture_output=True, check=False, timeout=60).returncode == 0


def require_libvirt_python() -> None:
    """Fail (or skip, if allowed) unless python3-libvirt can be imported."""
    if not libvirt_python_available():
        oracle_missing("python3-libvirt")


def run_oracle(script: str | Path, payload: object, *, timeout: float = 120) -> Any:
    """Run *script* under python3-libvirt with *payload* as JSON on stdin; returns its JSON."""
    require_libvirt_python()
    proc = subprocess.run(
        [LIBVIRT_PYTHON, str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def explain_difference(
    mine: dict[str, Any], theirs: dict[str, Any], *, with_events: bool = False
) -> str:
    """A readable difference of two operation results, with a line diff for documents."""
    a, b = mine["result"][-1], theirs["result"][-1]
    if isinstance(a, str) and isinstance(b, str) and "\n" in a + b:
        diff = "\n".join(
            difflib.unified_diff(b.splitlines(), a.splitlines(), "libvirt", "virtcore", lineterm="")
        )
        if with_events:
            diff += f"\nevents: {mine['events']} vs {theirs['events']}"
        return diff
    return f"virtcore: {mine}\nlibvirt:  {theirs}"
