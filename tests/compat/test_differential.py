"""Differential tests: scripts written against libvirt-python, run on both implementations.

Each script in tests/compat/scripts runs twice, in fresh processes: with the
real python3-libvirt 9.0 under ``/usr/bin/python3``, and with ``libvirt``
aliased to virtcore.libvirt. Both runs use test:///default and must print the
same stdout and stderr (stderr carries libvirt's default error handler's
lines).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat.oracle import LIBVIRT_PYTHON, require_libvirt_python

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"
ALIAS = "import sys, runpy, virtcore.libvirt; sys.modules['libvirt'] = virtcore.libvirt; " \
    "runpy.run_path(sys.argv[1], run_name='__main__')"  # fmt: skip


def _run(argv: list[str]) -> tuple[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("LIBVIRT_DEFAULT_URI", None)
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=env, cwd=SCRIPTS, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.py")))
def test_script_output_is_identical(script: str) -> None:
    require_libvirt_python()
    expected = _run([LIBVIRT_PYTHON, script])
    actual = _run([sys.executable, "-c", ALIAS, script])
    assert actual == expected
