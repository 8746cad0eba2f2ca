"""The host storage state driver: pools of one host, persisted as libvirt lays them out.

:class:`StorageStateDriver` (name ``storage``, provides ``storage``) owns the
pools of one :class:`~virtcore.state.Host`. Layout under the driver's
:class:`~virtcore.store.StatePaths`, as libvirt's storage driver has it:

* ``<config_dir>/<pool>.xml`` - persistent definitions;
* ``<config_dir>/autostart/<pool>.xml`` - autostart symlinks;
* ``<state_dir>/<pool>.xml`` - live status of each running pool
  (``<poolstate>`` around the live definition), transient pools included.

``initialize`` loads every config and status; a pool whose status says it
runs is checked by refreshing it, and one that cannot be refreshed any more
is marked inactive (its status file removed), as libvirt's
``storagePoolUpdateState`` does. Then, once per host boot
(:meth:`~virtcore.state.StateContext.should_autostart`), inactive autostart
pools are started; one that fails to start is logged and stays inactive.
Every file write is atomic.

Pool lifecycle calls are in :mod:`.table`, volume calls in :mod:`.volops`;
both use the helpers here (starting, stopping and recording pools, duplicate
checks, events). One re-entrant lock guards
all pools; long volume operations run outside it with the pool's job count
raised (libvirt's ``asyncjobs``), which blocks destroy, delete, undefine and
refresh meanwhile. :meth:`StorageStateDriver.translate_volume` serves the
hypervisor drivers and is thread-safe.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path
from typing import NamedTuple

from lxml import etree

from virtcore.drivers.storage.common import STORAGE, no_pool_name, no_volume_name, pool_not_active
from virtcore.drivers.storage.pools import PoolObj, check_pool, scan_dir, start_pool, stop_pool
from virtcore.drivers.storagecommon import PoolIdentity, check_pool_clash
from virtcore.enums.storage import StoragePoolEventID
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    NoStoragePoolError,
    OperationFailedError,
    OperationInvalidError,
    VirtError,
)
from virtcore.events import Event, EventKind, EventSource, ObjectIdentity
from virtcore.state import InitResult, StateContext, StateDriver
from virtcore.store import ConfigStore, DirectoryLock, StatePaths, read_text
from virtcore.xml.storage_pool import POOL_TYPES, StoragePool, StoragePoolDef

__all__ = ["SUPPORTED_POOL_TYPES", "StorageStateDriver", "TranslatedVolume"]

logger = logging.getLogger(__name__)

SUPPORTED_POOL_TYPES: tuple[str, ...] = ("dir", "fs")
"""Pool types this driver has a backend for."""

_DISK_TYPES = {"file": "file", "block": "block", "dir": "dir", "ploop": "file"}


class TranslatedVolume(NamedTuple):
    """What a ``<disk type='volume'>`` resolves to (``virDomainDiskTranslateSourcePool``)."""

    disk_type: str
    """``"file"``, ``"block"`` or ``"dir"``: the disk type the volume stands for."""
    path: str
    format: str | None
    """The volume's format (``"raw"``, ``"qcow2"``, ...), None for directories."""
    pool_type: str


def _source_key(pool: StoragePoolDef) -> str:
    """What two pools of one type must not share (``virStoragePoolObjSourceFindDuplicate``)."""
    if pool.type == "fs" and pool.source.devices:
        return os.path.realpath(pool.source.devices[0].path)
    return os.path.realpath(pool.target_path or "")


def _same_config(config: StoragePoolDef, live: StoragePoolDef) -> bool:
    """Whether *live* is *config* plus what a refresh measures (sizes, permissions)."""
    measured = dataclasses.replace(
        live, capacity=0, allocation=0, available=0, permissions=config.permissions
    )
    return measured == dataclasses.replace(config, capacity=0, allocation=0, available=0)


def _identity(obj: PoolObj | None) -> PoolIdentity | None:
    return None if obj is None else PoolIdentity(obj.name, obj.uuid, obj.active)


def parse_pool(xml: str, *, validate: bool = False) -> StoragePoolDef:
    """Parse and check a pool document; refuse types this driver has no backend for.

    *validate* also checks it against libvirt's schema (the ``VALIDATE`` flag).
    """
    definition = StoragePool.parse(xml, validate_schema=validate).definition()
    if definition.type not in SUPPORTED_POOL_TYPES:
        index = list(POOL_TYPES).index(definition.type)
        raise InternalError(
            f"missing backend for pool type {index} ({definition.type})", domain=STORAGE
        )
    return definition


class StorageStateDriver(StateDriver):
    """Storage pools and volumes of one host."""

    name = "storage"
    provides = frozenset({"storage"})

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pools: dict[str, PoolObj] = {}
        self.events = EventSource()
        self.paths: StatePaths | None = None
        self.configs: ConfigStore | None = None
        self.status: ConfigStore | None = None
        self.dir_lock: DirectoryLock | None = None
        self.ready = False

    # -- state driver ---------------------------------------------------------------------

    def initialize(self, ctx: StateContext) -> InitResult:
        """Load configs and status, check running pools, autostart once per boot."""
        paths = ctx.paths()
        paths.ensure()
        # One owner per state directory: a second process gets a clear error.
        dir_lock = DirectoryLock(paths.state_dir, "virtcore storage driver")
        dir_lock.acquire()
        self.dir_lock = dir_lock
        self.paths = paths
        self.configs = ConfigStore(paths.config_dir, kind="storage pool")
        self.status = ConfigStore(paths.state_dir, kind="storage pool")
        try:
            with self.lock:
                self._load_configs()
                self._load_status()
                self.ready = True
            if ctx.should_autostart():
                self.autostart()
        except BaseException:
            # The host does not clean up a driver whose initialize failed.
            self.cleanup()
            raise
        return InitResult.COMPLETE

    def cleanup(self) -> None:
        """Forget every pool (running pools keep running: their status stays on disk)."""
        with self.lock:
            self.pools.clear()
            self.ready = False
            if self.dir_lock is not None:
                self.dir_lock.release()
                self.dir_lock = None

    def reload(self) -> None:
        """Re-read the configs and autostart what should run (libvirt's reload)."""
        with self.lock:
            self._load_configs()
        self.autostart()

    def _load_configs(self) -> None:
        assert self.configs is not None
        for name, text in self.configs.load_all(lambda _n, t: parse_pool(t)).items():
            definition = parse_pool(text)
            if definition.name != name:
                logger.warning(
                    "Storage pool config filename '%s' does not match pool name '%s'",
                    self.configs.path(name),
                    definition.name,
                )
                continue
            obj = self.pools.get(name)
            if obj is None:
                obj = PoolObj(definition)
                self.pools[name] = obj
            elif obj.active:
                obj.new_def = definition
            else:
                obj.def_ = definition
            obj.persistent = True
            obj.autostart = self.configs.is_autostart(name)

    def _load_status(self) -> None:
        assert self.status is not None
        for name in self.status.names():
            path = self.status.path(name)
            try:
                definition = self._read_status(path)
            except VirtError as exc:
                logger.warning("Failed to load storage pool state '%s': %s", path, exc)
                continue
            obj = self.pools.get(definition.name)
            if obj is None:
                obj = PoolObj(definition)
                self.pools[definition.name] = obj
            elif obj.def_.uuid != definition.uuid:
                logger.warning("ignoring state of pool '%s': UUID differs from its config", name)
                continue
            else:
                # Keep the config aside only when it says more than the live state.
                obj.new_def = None if _same_config(obj.def_, definition) else obj.def_
                obj.def_ = definition
            try:
                if not check_pool(obj.def_):
                    logger.info("storage pool '%s' is no longer available", name)
                    self._mark_inactive(obj)
                    continue
                obj.def_, obj.volumes = scan_dir(obj.def_)
            except VirtError as exc:
                logger.error("Failed to refresh storage pool '%s': %s", name, exc)
                self._stop_quietly(obj)
                self._mark_inactive(obj)
                continue
            obj.active = True

    @staticmethod
    def _read_status(path: Path) -> StoragePoolDef:
        text = read_text(path)
        if text is None:
            raise InternalError(f"state file '{path}' vanished")
        root = etree.fromstring(
            text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True)
        )
        pool = root.find("pool") if root.tag == "poolstate" else None
        if pool is None:
            raise InternalError(f"malformed state file '{path}'")
        return parse_pool(etree.tostring(pool, encoding="unicode"))

    def autostart(self) -> None:
        """Start every inactive autostart pool; failures are logged, not raised."""
        with self.lock:
            candidates = [o for o in self.pools.values() if o.autostart and not o.active]
            for obj in candidates:
                try:
                    self._start(obj)
                except VirtError as exc:
                    logger.error("Failed to autostart storage pool '%s': %s", obj.name, exc)
                else:
                    logger.info("autostarted storage pool '%s'", obj.name)

    # -- helpers for the lifecycle ----------------------------------------------------------

    def emit(self, obj: PoolObj, event: int | None) -> None:
        """Queue a lifecycle event (or the refresh event for ``None``) about *obj*."""
        ident = ObjectIdentity(EventKind.STORAGE_POOL, obj.name, obj.uuid)
        if event is None:
            self.events.emit(Event(EventKind.STORAGE_POOL, StoragePoolEventID.REFRESH, ident))
        else:
            self.events.emit(
                Event(EventKind.STORAGE_POOL, StoragePoolEventID.LIFECYCLE, ident, (event, 0))
            )

    def save_status(self, obj: PoolObj) -> None:
        """Write the running pool's status file atomically."""
        assert self.status is not None
        body = obj.def_.format()
        inner = "".join(f"  {line}\n" if line else "\n" for line in body.splitlines())
        self.status.save(obj.name, f"<poolstate>\n{inner}</poolstate>\n")

    def _remove_status(self, obj: PoolObj) -> None:
        assert self.status is not None
        try:
            self.status.path(obj.name).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("cannot remove state of pool '%s': %s", obj.name, exc.strerror)

    def _mark_inactive(self, obj: PoolObj) -> None:
        """Stop tracking *obj* as running; transient pools disappear (``UpdateInactive``)."""
        obj.active = False
        obj.volumes.clear()
        self._remove_status(obj)
        if not obj.persistent:
            self.pools.pop(obj.name, None)
        elif obj.new_def is not None:
            obj.def_, obj.new_def = obj.new_def, None

    def _start(self, obj: PoolObj) -> None:
        """Start *obj*: make its storage available, record its status, then refresh.

        libvirt's order and rollback: a failed refresh removes the status and
        releases the storage again.
        """
        start_pool(obj.def_)
        obj.volumes.clear()
        try:
            self.save_status(obj)
            obj.def_, obj.volumes = scan_dir(obj.def_)
        except BaseException:
            self._remove_status(obj)
            self._stop_quietly(obj)
            raise
        obj.active = True
        self.save_status(obj)

    def stop_storage(self, obj: PoolObj) -> None:
        """Release a running pool's storage (unmount); failures leave it running."""
        stop_pool(obj.def_)

    @staticmethod
    def _stop_quietly(obj: PoolObj) -> None:
        try:
            stop_pool(obj.def_)
        except VirtError as exc:
            logger.error("Failed to stop storage pool '%s': %s", obj.name, exc)

    def find_uuid(self, uuid: str) -> PoolObj | None:
        """The pool with *uuid*, if any; call under the lock."""
        return next((o for o in self.pools.values() if o.uuid == uuid), None)

    def by_handle(self, name: str, uuid: str) -> PoolObj:
        """The pool a handle names (looked up by UUID, like libvirt)."""
        obj = self.find_uuid(uuid)
        if obj is None:
            raise NoStoragePoolError(
                f"no storage pool with matching uuid '{uuid}' ({name})", domain=STORAGE
            )
        return obj

    def check_jobs(self, obj: PoolObj) -> None:
        """Refuse to change a pool while volumes are being built or wiped."""
        if obj.jobs > 0:
            raise OperationInvalidError(
                f"pool '{obj.name}' has asynchronous jobs running.", domain=STORAGE
            )

    def check_duplicate(self, new: StoragePoolDef, *, check_live: bool) -> PoolObj | None:
        """``virStoragePoolObjListAdd``'s checks: source conflicts, then name/UUID clashes."""
        for other in sorted(self.pools.values(), key=lambda o: o.name):
            if other.name == new.name or other.def_.type != new.type:
                continue
            if _source_key(other.def_) == _source_key(new):
                raise OperationFailedError(
                    f"Storage source conflict with pool: '{other.name}'", domain=STORAGE
                )
        existing = self.find_uuid(new.uuid or "")
        check_pool_clash(
            new.name,
            same_uuid=_identity(existing),
            same_name=_identity(self.pools.get(new.name)),
            check_live=check_live,
        )
        return existing

    # -- hypervisor drivers -------------------------------------------------------------------

    def translate_volume(self, pool: str, volume: str) -> TranslatedVolume:
        """Resolve volume *volume* of pool *pool* for a ``<disk type='volume'>``.

        Raises :class:`~virtcore.errors.NoStoragePoolError` for an unknown
        pool, :class:`~virtcore.errors.ConfigUnsupportedError` for a pool that
        is not running and :class:`~virtcore.errors.NoStorageVolError` for an
        unknown volume, with libvirt's texts.
        """
        with self.lock:
            obj = self.pools.get(pool)
            if obj is None:
                raise no_pool_name(pool)
            if not obj.active:
                raise ConfigUnsupportedError(
                    f"storage pool '{pool}' containing volume '{volume}' is not active",
                    domain=STORAGE,
                )
            vol = obj.volume(volume)
            if vol is None:
                raise no_volume_name(volume)
            fmt = None if vol.type == "dir" else vol.format
            return TranslatedVolume(_DISK_TYPES.get(vol.type, "file"), vol.path, fmt, obj.def_.type)

    def require_active(self, obj: PoolObj) -> PoolObj:
        """*obj* if it runs, else libvirt's "is not active" error."""
        if not obj.active:
            raise pool_not_active(obj.name)
        return obj
