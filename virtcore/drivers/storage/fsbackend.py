"""File system pools (``type='fs'``): a block device holding a file system, mounted on the target.

libvirt's ``virStorageBackendFileSystem``, for the host storage driver:

* :func:`is_mounted` - the pool runs when its device is mounted on its
  target (both compared after resolving symbolic links, as
  ``virFileComparePaths`` does), read from ``/proc/self/mounts``;
* :func:`mount` / :func:`unmount` - ``mount -t <format> <device> <target>``
  (a no-op when already mounted) and ``umount <target>`` (a no-op when not);
* :func:`make_filesystem` - the format part of a build with
  ``OVERWRITE`` (``mkfs -t <format>``, forced for ext2/3/4, xfs and vfat as
  libvirt forces it) or ``NO_OVERWRITE`` (only when ``blkid`` finds no file
  system on the device; a device already holding one is refused with
  libvirt's errors).

Volumes live in the mounted directory exactly as in a directory pool.
"""

from __future__ import annotations

import logging
import os
import subprocess

from virtcore.drivers.storage.common import STORAGE
from virtcore.drivers.storage.qemuimg import run_command
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import (
    InternalError,
    OperationInvalidError,
    SystemCallError,
    VirtError,
)
from virtcore.xml.storage_pool import StoragePoolDef

__all__ = ["device_of", "is_mounted", "make_filesystem", "mount", "unmount"]

logger = logging.getLogger(__name__)

_MOUNTS = "/proc/self/mounts"
_FORCE = {"xfs": "-f", "ext2": "-F", "ext3": "-F", "ext4": "-F", "vfat": "-I"}


def device_of(pool: StoragePoolDef) -> str:
    """The pool's one source device (``virStorageBackendFileSystemIsValid``)."""
    devices = pool.source.devices
    if not devices:
        raise InternalError("missing source device", domain=STORAGE)
    if len(devices) != 1:
        raise InternalError("expected exactly 1 device for the storage pool", domain=STORAGE)
    return devices[0].path


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    out, index = [], 0
    while index < len(field):
        if field[index] == "\\" and field[index + 1 : index + 4].isdigit():
            out.append(chr(int(field[index + 1 : index + 4], 8)))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def is_mounted(pool: StoragePoolDef) -> bool:
    """Whether the pool's device is mounted on its target."""
    device = device_of(pool)
    try:
        with open(_MOUNTS, encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.readlines()
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot read mount list '{_MOUNTS}'", exc) from exc
    for line in lines:
        fields = line.split()
        if len(fields) < 2:
            continue
        source, target = _unescape(fields[0]), _unescape(fields[1])
        if _same(target, pool.target_path or "") and _same(source, device):
            return True
    return False


def mount(pool: StoragePoolDef) -> None:
    """Mount the pool's device on its target unless it is already."""
    device = device_of(pool)
    if is_mounted(pool):
        logger.info("Target '%s' is already mounted", pool.target_path)
        return
    fmt = pool.source.format or "auto"
    run_command(["mount", "-t", fmt, device, pool.target_path or ""], timeout=300)


def unmount(pool: StoragePoolDef) -> None:
    """Unmount the pool's target if its device is mounted there."""
    if not is_mounted(pool):
        return
    run_command(["umount", pool.target_path or ""], timeout=300)


def _existing_filesystem(device: str) -> str | None:
    """The file system type ``blkid`` finds on *device*, or None."""
    try:
        proc = subprocess.run(
            ["blkid", "-p", "-s", "TYPE", "-o", "value", "--", device],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InternalError(f"Failed to probe for format type on '{device}': {exc}") from exc
    if proc.returncode == 2:  # nothing found
        return None
    if proc.returncode != 0:
        raise InternalError(
            f"Failed to probe for format type on '{device}': {proc.stderr.strip()}",
            domain=STORAGE,
        )
    return proc.stdout.strip() or None


def make_filesystem(pool: StoragePoolDef, overwrite: bool) -> None:
    """Format the pool's device (``virStorageBackendMakeFileSystem``)."""
    devices = pool.source.devices
    if not devices:
        raise OperationInvalidError(
            f"No source device specified when formatting pool '{pool.name}'", domain=STORAGE
        )
    device = devices[0].path
    fmt = pool.source.format or "auto"
    if not os.path.exists(device):
        raise OperationInvalidError(
            f"Source device does not exist when formatting pool '{pool.name}'", domain=STORAGE
        )
    if not overwrite:
        found = _existing_filesystem(device)
        if found == fmt:
            raise VirtError(
                f"Device '{device}' already formatted using '{fmt}'",
                code=ErrorNumber.STORAGE_POOL_BUILT,
                domain=STORAGE,
            )
        if found is not None:
            raise OperationInvalidError(
                f"Format of device '{device}' does not match the expected format '{fmt}', "
                "forced overwrite is necessary",
                domain=STORAGE,
            )
    argv = ["mkfs", "-t", fmt]
    if fmt in _FORCE:
        argv.append(_FORCE[fmt])
    argv.append(device)
    try:
        run_command(argv, timeout=600)
    except VirtError as exc:
        raise SystemCallError(
            f"Failed to make filesystem of type '{fmt}' on device '{device}': {exc.detail}",
            domain=STORAGE,
        ) from exc
