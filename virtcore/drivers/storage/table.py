"""The host storage driver's table: pool calls (``virStorageDriver``), libvirt 9.0 semantics.

:class:`StorageTable` serves ``storage:///...`` connections and is what
:func:`virtcore.drivers.storage.storage_table_for` hands to hypervisor
drivers for their own connections. Pool calls are here, volume calls in
:class:`~.volops.VolumeCalls`; state lives in the
:class:`~.state.StorageStateDriver`.

Pool semantics, as ``storage_driver.c`` implements them for directory pools:
define (``DEFINED``) stores the config; a definition given while the pool
runs waits until it stops (``VIR_STORAGE_XML_INACTIVE`` shows it); create-XML
(``STARTED``) starts a transient pool, building it first with the
``WITH_BUILD*`` flags; start (``STARTED``) refreshes the pool, failing when
its directory is missing; build (``CREATED``) makes the directory; destroy
(``STOPPED``) forgets the volumes and removes a transient pool; delete
(``DELETED``) removes the empty directory; undefine (``UNDEFINED``) removes
the config and autostart link; refresh (the ``REFRESH`` event) rescans, and
a pool that cannot be rescanned is stopped (``STOPPED``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from virtcore.driver import StorageDriver
from virtcore.drivers.storage.common import (
    STORAGE,
    canonical_uuid,
    check_flags,
    no_pool_name,
    pool_active,
)
from virtcore.drivers.storage.pools import PoolObj, build_pool, delete_dir, scan_dir
from virtcore.drivers.storage.state import SUPPORTED_POOL_TYPES, StorageStateDriver, parse_pool
from virtcore.drivers.storage.volops import VolumeCalls
from virtcore.drivers.storagecommon import (
    LIST_ALL_POOLS_FLAGS,
    POOL_LIST_TYPES,
    PoolNameCalls,
    pool_listed,
)
from virtcore.enums.storage import StoragePoolBuildFlags as Build
from virtcore.enums.storage import StoragePoolCreateFlags as Create
from virtcore.enums.storage import StoragePoolEventLifecycleType as PoolEvent
from virtcore.enums.storage import StoragePoolState, StorageXMLFlags
from virtcore.errors import InternalError, InvalidArgError, NoStoragePoolError, NoSupportError
from virtcore.events import EventSource
from virtcore.objects import StoragePool, StorageVol
from virtcore.xml.storage_caps import StoragePoolCapabilities
from virtcore.xml.storage_pool import POOL_TYPES
from virtcore.xml.storage_pool_source import sanitize_path

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["StorageTable"]

logger = logging.getLogger(__name__)

_CREATE_FLAGS = int(
    Create.WITH_BUILD | Create.WITH_BUILD_OVERWRITE | Create.WITH_BUILD_NO_OVERWRITE
)


def _build_flags(flags: int) -> int | None:
    """The build a create call asks for (``None``: no build).

    ``WITH_BUILD_OVERWRITE`` wins over ``WITH_BUILD_NO_OVERWRITE``: libvirt's
    exclusivity check tests the build flags' values, which create flags never
    carry, so both together mean an overwriting build.
    """
    if flags & Create.WITH_BUILD_OVERWRITE:
        return int(Build.OVERWRITE)
    if flags & Create.WITH_BUILD_NO_OVERWRITE:
        return int(Build.NO_OVERWRITE)
    return 0 if flags & Create.WITH_BUILD else None


class StorageTable(VolumeCalls, PoolNameCalls, StorageDriver):
    """Pools and volumes of one host's :class:`~.state.StorageStateDriver`."""

    def __init__(self, driver: StorageStateDriver) -> None:
        self.driver = driver

    def event_source(self) -> EventSource | None:
        """The driver's pool events."""
        return self.driver.events

    @staticmethod
    def _handle(conn: Connection, obj: PoolObj) -> StoragePool:
        return StoragePool(conn, obj.name, obj.uuid)

    def _obj(self, pool: StoragePool) -> PoolObj:
        return self.driver.by_handle(pool.name, pool.uuid)

    # -- capabilities and listing --------------------------------------------------------

    def connect_get_storage_pool_capabilities(self, conn: Connection, flags: int) -> str:
        """The pool types this driver supports (``virConnectGetStoragePoolCapabilities``)."""
        check_flags(flags, 0, "storageConnectGetStoragePoolCapabilities")
        return StoragePoolCapabilities.build(SUPPORTED_POOL_TYPES).format()

    def connect_list_all_storage_pools(self, conn: Connection, flags: int) -> list[StoragePool]:
        """Pools matching the filter flags (state, persistence, autostart, type), by name."""
        check_flags(flags, LIST_ALL_POOLS_FLAGS, "storageConnectListAllStoragePools")
        with self.driver.lock:
            return [
                self._handle(conn, obj)
                for _, obj in sorted(self.driver.pools.items())
                if pool_listed(
                    flags,
                    active=obj.active,
                    persistent=obj.persistent,
                    autostart=obj.autostart,
                    pool_type=obj.def_.type,
                )
            ]

    def _pool_names(self, active: bool) -> list[str]:
        with self.driver.lock:
            return sorted(n for n, o in self.driver.pools.items() if o.active == active)

    def connect_find_storage_pool_sources(
        self, conn: Connection, pool_type: str, src_spec: str | None, flags: int
    ) -> str:
        """Source discovery: directory pools have nothing to discover."""
        if pool_type not in POOL_TYPES:
            raise InternalError(f"unknown storage pool type {pool_type}", domain=STORAGE)
        if pool_type not in SUPPORTED_POOL_TYPES:
            index = POOL_LIST_TYPES.index(pool_type)
            raise InternalError(
                f"missing backend for pool type {index} ({pool_type})", domain=STORAGE
            )
        raise NoSupportError(
            f"pool type '{pool_type}' does not support source discovery", domain=STORAGE
        )

    # -- lookups -------------------------------------------------------------------------------

    def storage_pool_lookup_by_name(self, conn: Connection, name: str) -> StoragePool:
        """The pool called *name*."""
        with self.driver.lock:
            obj = self.driver.pools.get(name)
            if obj is None:
                raise no_pool_name(name)
            return self._handle(conn, obj)

    def storage_pool_lookup_by_uuid(self, conn: Connection, uuid: str) -> StoragePool:
        """The pool with *uuid*."""
        canonical = canonical_uuid(uuid, "virStoragePoolLookupByUUIDString")
        with self.driver.lock:
            obj = self.driver.find_uuid(canonical)
            if obj is None:
                raise NoStoragePoolError(
                    f"no storage pool with matching uuid '{canonical}'", domain=STORAGE
                )
            return self._handle(conn, obj)

    def storage_pool_lookup_by_volume(self, conn: Connection, vol: StorageVol) -> StoragePool:
        """The pool holding *vol*."""
        return self.storage_pool_lookup_by_name(conn, vol.pool_name)

    def storage_pool_lookup_by_target_path(self, conn: Connection, path: str) -> StoragePool:
        """The running pool whose target is *path*."""
        clean = sanitize_path(path)
        with self.driver.lock:
            for _, obj in sorted(self.driver.pools.items()):
                if obj.active and obj.target_path == clean:
                    return self._handle(conn, obj)
        raise NoStoragePoolError(
            f"no storage pool with matching target path '{path}'", domain=STORAGE
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def storage_pool_define_xml(self, conn: Connection, xml: str, flags: int) -> StoragePool:
        """Define a pool, or replace the definition of a defined one (``DEFINED``)."""
        check_flags(flags, 1, "storagePoolDefineXML")
        new = parse_pool(xml, validate=bool(flags & 1))
        if "\n" in new.name:
            raise InvalidArgError(f"name {new.name} cannot contain '\n'", domain=STORAGE)
        drv = self.driver
        assert drv.configs is not None
        with drv.lock:
            existing = drv.check_duplicate(new, check_live=False)
            drv.configs.save(new.name, new.format())
            if existing is None:
                obj = PoolObj(new, persistent=True)
                drv.pools[new.name] = obj
            else:
                obj = existing
                if obj.active:
                    obj.new_def = new
                else:
                    obj.def_ = new
                obj.persistent = True
            drv.emit(obj, PoolEvent.DEFINED)
            logger.info("Defining storage pool '%s'", new.name)
            return self._handle(conn, obj)

    def storage_pool_create_xml(self, conn: Connection, xml: str, flags: int) -> StoragePool:
        """Start a transient pool from *xml*, building it first if asked (``STARTED``)."""
        check_flags(flags, _CREATE_FLAGS, "storagePoolCreateXML")
        new = parse_pool(xml)
        drv = self.driver
        with drv.lock:
            existing = drv.check_duplicate(new, check_live=True)
            if existing is not None:
                existing.new_def = existing.def_ if existing.persistent else None
                existing.def_ = new
                obj = existing
            else:
                obj = PoolObj(new)
                drv.pools[new.name] = obj
            try:
                build = _build_flags(flags)
                if build is not None:
                    build_pool(obj.def_, build)
                drv._start(obj)
            except BaseException:
                if obj.persistent and obj.new_def is not None:
                    obj.def_, obj.new_def = obj.new_def, None
                elif not obj.persistent:
                    drv.pools.pop(obj.name, None)
                raise
            drv.emit(obj, PoolEvent.STARTED)
            logger.info("Creating storage pool '%s'", obj.name)
            return self._handle(conn, obj)

    def storage_pool_create(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Start a defined pool, building it first if asked (``STARTED``)."""
        check_flags(flags, _CREATE_FLAGS, "storagePoolCreate")
        drv = self.driver
        with drv.lock:
            obj = self._obj(pool)
            if obj.active:
                raise pool_active(obj.name)
            build = _build_flags(flags)
            if build is not None:
                build_pool(obj.def_, build)
            drv._start(obj)
            drv.emit(obj, PoolEvent.STARTED)
            logger.info("Starting up storage pool '%s'", obj.name)

    def storage_pool_build(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Create an inactive pool's directory (``CREATED``)."""
        drv = self.driver
        with drv.lock:
            obj = self._obj(pool)
            if obj.active:
                raise pool_active(obj.name)
            build_pool(obj.def_, flags)
            drv.emit(obj, PoolEvent.CREATED)

    def storage_pool_destroy(self, conn: Connection, pool: StoragePool) -> None:
        """Stop a pool (``STOPPED``); a transient one disappears."""
        drv = self.driver
        with drv.lock:
            obj = drv.require_active(self._obj(pool))
            drv.check_jobs(obj)
            drv.stop_storage(obj)
            drv.emit(obj, PoolEvent.STOPPED)
            drv._mark_inactive(obj)
            logger.info("Shutting down storage pool '%s'", obj.name)

    def storage_pool_delete(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Remove an inactive pool's (empty) directory (``DELETED``)."""
        drv = self.driver
        with drv.lock:
            obj = self._obj(pool)
            if obj.active:
                raise pool_active(obj.name, "still active")
            drv.check_jobs(obj)
            delete_dir(obj.def_, flags)
            drv.emit(obj, PoolEvent.DELETED)
            logger.info("Deleting storage pool '%s'", obj.name)

    def storage_pool_undefine(self, conn: Connection, pool: StoragePool) -> None:
        """Remove an inactive pool's config and autostart link (``UNDEFINED``)."""
        drv = self.driver
        assert drv.configs is not None
        with drv.lock:
            obj = self._obj(pool)
            if obj.active:
                raise pool_active(obj.name, "still active")
            drv.check_jobs(obj)
            if not obj.persistent:
                raise InternalError(f"no config file for {obj.name}", domain=STORAGE)
            drv.configs.delete(obj.name)
            obj.persistent = obj.autostart = False
            drv.emit(obj, PoolEvent.UNDEFINED)
            drv.pools.pop(obj.name, None)
            logger.info("Undefining storage pool '%s'", obj.name)

    def storage_pool_refresh(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Rescan a running pool (``REFRESH``); one that cannot be rescanned stops."""
        check_flags(flags, 0, "storagePoolRefresh")
        drv = self.driver
        with drv.lock:
            obj = drv.require_active(self._obj(pool))
            drv.check_jobs(obj)
            self.refresh_locked(obj)

    def refresh_locked(self, obj: PoolObj) -> None:
        """Rescan *obj* and emit ``REFRESH``, or stop it (``STOPPED``) when that fails."""
        drv = self.driver
        try:
            obj.def_, obj.volumes = scan_dir(obj.def_)
        except BaseException:
            drv._stop_quietly(obj)
            drv.emit(obj, PoolEvent.STOPPED)
            drv._mark_inactive(obj)
            raise
        drv.save_status(obj)
        drv.emit(obj, None)

    # -- queries -------------------------------------------------------------------------------

    def storage_pool_get_info(
        self, conn: Connection, pool: StoragePool
    ) -> tuple[int, int, int, int]:
        """State, capacity, allocation and available bytes."""
        with self.driver.lock:
            obj = self._obj(pool)
            state = StoragePoolState.RUNNING if obj.active else StoragePoolState.INACTIVE
            d = obj.def_
            return int(state), d.capacity, d.allocation, d.available

    def storage_pool_get_xml_desc(self, conn: Connection, pool: StoragePool, flags: int) -> str:
        """The pool XML; ``INACTIVE`` shows a definition waiting for the pool to stop."""
        check_flags(flags, int(StorageXMLFlags.INACTIVE), "storagePoolGetXMLDesc")
        with self.driver.lock:
            obj = self._obj(pool)
            definition = obj.def_
            if flags & StorageXMLFlags.INACTIVE and obj.new_def is not None:
                definition = obj.new_def
            return definition.format()

    def storage_pool_is_active(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool runs."""
        with self.driver.lock:
            return int(self._obj(pool).active)

    def storage_pool_is_persistent(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool has a config."""
        with self.driver.lock:
            return int(self._obj(pool).persistent)

    def storage_pool_get_autostart(self, conn: Connection, pool: StoragePool) -> int:
        """The autostart flag."""
        with self.driver.lock:
            return int(self._obj(pool).autostart)

    def storage_pool_set_autostart(
        self, conn: Connection, pool: StoragePool, autostart: int
    ) -> None:
        """Create or remove the pool's autostart link."""
        drv = self.driver
        assert drv.configs is not None
        with drv.lock:
            obj = self._obj(pool)
            if not obj.persistent:
                raise InternalError("pool has no config file", domain=STORAGE)
            wanted = bool(autostart)
            if obj.autostart != wanted:
                drv.configs.set_autostart(obj.name, wanted)
                obj.autostart = wanted

    def storage_pool_num_of_volumes(self, conn: Connection, pool: StoragePool) -> int:
        """Number of volumes of a running pool."""
        with self.driver.lock:
            return len(self.driver.require_active(self._obj(pool)).volumes)

    def storage_pool_list_volumes(self, conn: Connection, pool: StoragePool) -> list[str]:
        """Volume names of a running pool."""
        with self.driver.lock:
            return sorted(self.driver.require_active(self._obj(pool)).volumes)

    def storage_pool_list_all_volumes(
        self, conn: Connection, pool: StoragePool, flags: int
    ) -> list[StorageVol]:
        """Volumes of a running pool, by name."""
        check_flags(flags, 0, "storagePoolListAllVolumes")
        with self.driver.lock:
            obj = self.driver.require_active(self._obj(pool))
            return [
                StorageVol(conn, obj.name, v.name, v.key) for _, v in sorted(obj.volumes.items())
            ]
