"""Running ``qemu-img`` (and other tools) for the host storage driver.

Every call goes through :func:`run_command`: an argument vector (never a
shell), a bounded run time, and a failure turned into libvirt's error text
for a failed command (``internal error: Child process (qemu-img ...)
unexpected exit status 1: <stderr>``). :func:`image_info` wraps
``qemu-img info -U --output=json``; ``-U`` (force share) lets the driver
inspect images a running guest holds locked, as libvirt's own probe reads
them without taking QEMU's lock.

The binary is ``/usr/bin/qemu-img`` unless ``VIRTCORE_QEMU_IMG`` names
another one (an absolute path).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any, NamedTuple

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, SystemCallError

__all__ = ["ImageInfo", "image_info", "qemu_img_binary", "run_command", "run_qemu_img"]

logger = logging.getLogger(__name__)

#: Upper bound of one qemu-img run (a convert of a large image can take long).
QEMU_IMG_TIMEOUT = 3600.0

_DEFAULT_BINARY = "/usr/bin/qemu-img"


class ImageInfo(NamedTuple):
    """What ``qemu-img info`` says about one image."""

    format: str
    virtual_size: int
    backing_path: str | None
    backing_format: str | None
    compat: str | None
    cluster_size: int
    lazy_refcounts: bool
    extended_l2: bool


def qemu_img_binary() -> str:
    """The qemu-img to run (``$VIRTCORE_QEMU_IMG`` or ``/usr/bin/qemu-img``)."""
    chosen = os.environ.get("VIRTCORE_QEMU_IMG", "")
    if os.path.isabs(chosen):
        return chosen
    if os.path.exists(_DEFAULT_BINARY):
        return _DEFAULT_BINARY
    found = shutil.which("qemu-img")
    if found is None:
        raise SystemCallError(
            "Cannot find 'qemu-img' in path: No such file or directory",
            domain=ErrorDomain.NONE,
            int1=2,
        )
    return found


def run_command(argv: Sequence[str], *, timeout: float = QEMU_IMG_TIMEOUT) -> str:
    """Run *argv* (no shell); its standard output, or libvirt's child-process error."""
    logger.debug("running %s", shlex.join(argv))
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise InternalError(
            f"Child process ({shlex.join(argv)}) did not finish in {timeout:g} seconds",
            domain=ErrorDomain.NONE,
        ) from exc
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Cannot run '{argv[0]}'", exc) from exc
    if proc.returncode != 0:
        detail = proc.stderr.strip() or proc.stdout.strip()
        raise InternalError(
            f"Child process ({shlex.join(argv)}) unexpected exit status "
            f"{proc.returncode}: {detail}",
            domain=ErrorDomain.NONE,
        )
    return proc.stdout


def run_qemu_img(args: Sequence[str], *, timeout: float = QEMU_IMG_TIMEOUT) -> str:
    """Run ``qemu-img *args``; its standard output, or libvirt's child-process error."""
    return run_command([qemu_img_binary(), *args], timeout=timeout)


def image_info(path: str) -> ImageInfo:
    """Format, virtual size, backing file and qcow2 details of the image at *path*."""
    out = run_qemu_img(["info", "-U", "--output=json", "--", path], timeout=120)
    try:
        data: dict[str, Any] = json.loads(out)
    except ValueError as exc:
        raise InternalError(f"cannot parse qemu-img info output for '{path}'") from exc
    specific = data.get("format-specific") or {}
    details: dict[str, Any] = specific.get("data") or {}
    backing = data.get("full-backing-filename") or data.get("backing-filename")
    return ImageInfo(
        format=str(data.get("format", "raw")),
        virtual_size=int(data.get("virtual-size", 0)),
        backing_path=str(backing) if backing else None,
        backing_format=data.get("backing-filename-format"),
        compat=details.get("compat") if specific.get("type") == "qcow2" else None,
        cluster_size=int(data.get("cluster-size", 0) or 0),
        lazy_refcounts=bool(details.get("lazy-refcounts", False)),
        extended_l2=bool(details.get("extended-l2", False)),
    )
