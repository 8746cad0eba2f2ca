"""How the XML tests reach their libvirt oracles: the probes and the runner, in one place.

Every document type has an oracle script under tests/data/xml (run by the
system interpreter, which has python3-libvirt) that defines documents on
real libvirt 9.0 and prints JSON. The tests reach them through here:

* :func:`require_libvirt` - python3-libvirt must be importable
  (:func:`tests.libvirt_oracle.require_libvirt_python`);
* :func:`require_libvirtd` / :func:`require_private_nwfilter_daemon` - what
  the oracles that start a libvirtd of their own need;
* :func:`run_script` / :func:`oracle_json` - run a script with arguments and
  standard input; the latter insists on success and decodes the answer.

A missing requirement fails the test, or skips it when
``VIRTCORE_ALLOW_NO_LIBVIRT=1`` (:func:`tests.libvirt_oracle.oracle_missing`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.libvirt_oracle import (
    ALLOW_ENV,
    LIBVIRT_PYTHON,
    oracle_missing,
    require_libvirt_python,
)

__all__ = [
    "ALLOW_ENV",
    "LIBVIRT_PYTHON",
    "SAFETY_TIMEOUT",
    "oracle_json",
    "require_libvirt",
    "require_libvirtd",
    "require_private_nwfilter_daemon",
    "run_script",
]

SAFETY_TIMEOUT = 300.0
"""Seconds an oracle may take before the test gives up on it."""


def require_libvirt() -> None:
    """Fail (or skip with ``VIRTCORE_ALLOW_NO_LIBVIRT=1``) without python3-libvirt."""
    require_libvirt_python()


def require_libvirtd() -> None:
    """Fail (or skip, if allowed) unless a libvirtd can be started."""
    if not (shutil.which("libvirtd") or Path("/usr/sbin/libvirtd").exists()):
        oracle_missing("libvirtd")


def require_private_nwfilter_daemon() -> None:
    """What the nwfilter oracle needs: libvirtd, root (a privileged daemon) and unshare."""
    require_libvirtd()
    if os.geteuid() != 0:
        oracle_missing("root (the nwfilter oracle runs a privileged libvirtd)")
    if shutil.which("unshare") is None:
        oracle_missing("unshare")


def run_script(
    script: str | Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = SAFETY_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run the oracle *script* with *args* under python3-libvirt; the caller judges the exit."""
    require_libvirt()
    return subprocess.run(
        [LIBVIRT_PYTHON, str(script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def oracle_json(
    script: str | Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = SAFETY_TIMEOUT,
) -> Any:
    """The decoded JSON answer of *script* (see :func:`run_script`), which must succeed."""
    result = run_script(script, *args, stdin=stdin, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
