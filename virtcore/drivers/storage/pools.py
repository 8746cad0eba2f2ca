"""Pool objects; the backend of directory and file system pools (``storage_backend_fs.c``).

:class:`PoolObj` is what the driver keeps per pool (``virStoragePoolObj``):
the live definition, a pending persistent one defined while the pool ran,
the active/persistent/autostart state, the volumes of a running pool and the
count of long operations in flight.

The backend functions work on a pool definition:

* :func:`build_pool` - ``virStorageBackendBuildLocal``: create the parents
  (mode 0777 before the umask), then the target directory with the XML's
  mode (0711 when the XML names none and the directory is new), owner and
  group; an existing directory only gets its permissions set; ``fs`` pools
  are formatted on request (:mod:`.fsbackend`);
* :func:`check_pool`, :func:`start_pool`, :func:`stop_pool` - whether the
  storage is there, and mounting/unmounting ``fs`` pools;
* :func:`scan_dir` - ``virStorageBackendRefreshLocal``: every entry of the
  target directory that is a volume (see :func:`~.volumes.probe_volume`),
  skipping names with control characters; then the pool's sizes from
  ``statvfs`` (capacity ``f_frsize * f_blocks``, available ``f_bfree *
  f_frsize``, allocation the difference) and the target permissions as they
  are on disk;
* :func:`delete_dir` - ``rmdir`` of the target (a pool with files in it
  cannot be deleted).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from dataclasses import dataclass, field

from virtcore.drivers.storage import fsbackend
from virtcore.drivers.storage.common import (
    STORAGE,
    check_flags,
    exclusive_flags,
    os_call,
    set_mode,
    set_owner,
)
from virtcore.drivers.storage.volumes import Volume, probe_volume
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.storage import StoragePoolBuildFlags as Build
from virtcore.errors import InvalidArgError, OperationInvalidError, SystemCallError
from virtcore.xml.storage_pool import PermissionsDef, StoragePoolDef

__all__ = [
    "PoolObj",
    "build_pool",
    "check_pool",
    "delete_dir",
    "measure",
    "scan_dir",
    "start_pool",
    "stop_pool",
]

logger = logging.getLogger(__name__)

_DEFAULT_POOL_MODE = 0o711


@dataclass
class PoolObj:
    """One pool as the driver keeps it."""

    def_: StoragePoolDef
    new_def: StoragePoolDef | None = None
    active: bool = False
    persistent: bool = False
    autostart: bool = False
    volumes: dict[str, Volume] = field(default_factory=dict)
    jobs: int = 0

    @property
    def name(self) -> str:
        """The pool's name."""
        return self.def_.name

    @property
    def uuid(self) -> str:
        """The pool's UUID (always set: parsing generates a missing one)."""
        return self.def_.uuid or ""

    @property
    def target_path(self) -> str:
        """The target directory."""
        return self.def_.target_path or ""

    def volume(self, name: str) -> Volume | None:
        """The volume called *name*, if the pool has one."""
        return self.volumes.get(name)


def build_pool(pool: StoragePoolDef, flags: int) -> None:
    """Build a pool's target, formatting an ``fs`` pool's device when asked.

    This is ``virStorageBackendFileSystemBuild``: the target directory always,
    then with ``OVERWRITE`` or ``NO_OVERWRITE`` the file system (a ``dir``
    pool has no device to format and fails as libvirt's does).
    """
    check_flags(
        flags, int(Build.OVERWRITE | Build.NO_OVERWRITE), "virStorageBackendFileSystemBuild"
    )
    exclusive_flags(
        flags,
        (Build.OVERWRITE, "VIR_STORAGE_POOL_BUILD_OVERWRITE"),
        (Build.NO_OVERWRITE, "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE"),
    )
    path = pool.target_path or ""
    parent, slash, _ = path.rpartition("/")
    if not slash:
        raise InvalidArgError(f"path '{path}' is not absolute", domain=STORAGE)
    if parent:
        try:
            os.makedirs(parent, 0o777, exist_ok=True)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"cannot create path '{parent}'", exc, domain=STORAGE
            ) from exc
    perms = pool.permissions
    mode = perms.mode
    if mode is None and not os.path.exists(path):
        mode = _DEFAULT_POOL_MODE
    _make_dir(path, mode, perms)
    if flags:
        if pool.type == "fs":
            fsbackend.make_filesystem(pool, overwrite=bool(flags & Build.OVERWRITE))
            return
        # libvirt formats the source device here; a directory pool has none.
        raise OperationInvalidError(
            f"No source device specified when formatting pool '{pool.name}'", domain=STORAGE
        )


def check_pool(pool: StoragePoolDef) -> bool:
    """Whether the pool's storage is available (``checkPool``): mounted, for ``fs``."""
    if pool.type == "fs":
        return fsbackend.is_mounted(pool)
    return os.path.exists(pool.target_path or "")


def start_pool(pool: StoragePoolDef) -> None:
    """Make the pool's storage available (``startPool``): mount an ``fs`` pool."""
    if pool.type == "fs":
        fsbackend.mount(pool)


def stop_pool(pool: StoragePoolDef) -> None:
    """Release the pool's storage (``stopPool``): unmount an ``fs`` pool."""
    if pool.type == "fs":
        fsbackend.unmount(pool)


def _make_dir(path: str, mode: int | None, perms: PermissionsDef) -> None:
    """``virDirCreate`` with ``ALLOW_EXIST``: create, then set owner and mode."""
    try:
        os.mkdir(path, 0o700 if mode is None else mode)
    except FileExistsError:
        if not os.path.isdir(path):
            raise SystemCallError(
                f"path '{path}' is not a directory", domain=ErrorDomain.NONE
            ) from None
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot create directory '{path}'", exc) from exc
    # virDirCreate reports these without a domain.
    set_owner(path, perms, domain=ErrorDomain.NONE)
    if mode is not None:
        set_mode(path, mode, domain=ErrorDomain.NONE)


def scan_dir(pool: StoragePoolDef) -> tuple[StoragePoolDef, dict[str, Volume]]:
    """The pool's volumes and its definition with sizes and permissions as found on disk."""
    path = pool.target_path or ""
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot open directory '{path}'", exc) from exc
    volumes: dict[str, Volume] = {}
    for name in names:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
            logger.warning("Ignoring file '%r' with control characters under '%s'", name, path)
            continue
        vol = probe_volume(name, f"{path}/{name}")
        if vol is not None:
            volumes[name] = vol
    return measure(pool), volumes


def measure(pool: StoragePoolDef) -> StoragePoolDef:
    """*pool* with capacity, allocation, available and permissions of its target now."""
    path = pool.target_path or ""
    st = os_call(f"cannot stat path '{path}'", os.stat, path)
    fs = os_call(f"cannot statvfs path '{path}'", os.statvfs, path)
    capacity = fs.f_frsize * fs.f_blocks
    available = fs.f_bfree * fs.f_frsize
    perms = dataclasses.replace(
        pool.permissions,
        mode=stat.S_IMODE(st.st_mode) & 0o777,
        owner=st.st_uid,
        group=st.st_gid,
    )
    return dataclasses.replace(
        pool,
        capacity=capacity,
        available=available,
        allocation=capacity - available,
        permissions=perms,
    )


def delete_dir(pool: StoragePoolDef, flags: int) -> None:
    """Remove the pool's (empty) target directory."""
    check_flags(flags, 0, "virStorageBackendDeleteLocal")
    path = pool.target_path or ""
    os_call(f"failed to remove pool '{path}'", os.rmdir, path)
