"""The test driver's storage table: pools and volumes with libvirt 9.0's test driver semantics.

Pools, as ``testStoragePool*`` implements them:

* every pool reports 100 GiB of capacity plus what its volumes allocate;
  define (``DEFINED``) resets the pool's sizes, even of a running pool whose
  live definition it keeps; create-XML (``STARTED``) starts a pool and makes
  it transient, even one that was defined; build (``CREATED``) and delete
  (``DELETED``) need an inactive pool and change nothing else; refresh
  (``REFRESH``) needs a running one; destroy (``STOPPED``) removes a
  transient pool; undefine (``UNDEFINED``) needs an inactive pool;
* volumes keep their definitions while their pool is stopped but can only
  be used while it runs; created volumes live at ``<pool target>/<name>``,
  which is also their key, and must fit in the pool's free space;
* a pool on an ``fc_host`` adapter creates the vHBA ``scsi_host12`` when it
  starts and removes it when it stops (:mod:`.nodedev`).

Beyond the test driver, following libvirt's storage driver: volume upload and
download (:mod:`.volstream`), wipe, resize, ``virStorageVolGetInfoFlags`` and
lookup of a pool by target path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from virtcore.driver import StorageDriver
from virtcore.drivers.storagecommon import (
    LIST_ALL_POOLS_FLAGS,
    PoolIdentity,
    PoolNameCalls,
    check_pool_clash,
    pool_listed,
)
from virtcore.drivers.test.nodedev import destroy_vport, mock_create_vport
from virtcore.drivers.test.objxml import (
    DEFAULT_POOL_CAPACITY,
    PoolDef,
    VolumeDef,
    sanitize_path,
)
from virtcore.drivers.test.secondary import SecondaryTable, emit, uuid_or_invalid
from virtcore.drivers.test.state import PoolObj, TestState, check_flags
from virtcore.drivers.test.volstream import VolumeDownload, VolumeUpload, cut_holes
from virtcore.drivers.test.xmlutil import XMLWriter, attributes, child, parse_xml, words
from virtcore.drivers.volrules import RESIZE_FLAGS, check_wipe_algorithm, resize_target
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.storage import StoragePoolEventLifecycleType as PoolEvent
from virtcore.enums.storage import (
    StoragePoolState,
    StorageVolDownloadFlags,
    StorageVolUploadFlags,
    StorageVolWipeAlgorithm,
)
from virtcore.enums.storage import StorageVolResizeFlags as Resize
from virtcore.errors import (
    ArgumentUnsupportedError,
    InternalError,
    InvalidArgError,
    NoStoragePoolError,
    NoStorageVolError,
    NoSupportError,
    OperationFailedError,
    OperationInvalidError,
)
from virtcore.events import EventKind
from virtcore.objects import StoragePool, StorageVol, Stream

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["TestStorageDriver", "add_pool", "source_conflict"]

_TEST = ErrorDomain.TEST
_STORAGE = ErrorDomain.STORAGE
_SPARSE_DOWNLOAD = int(StorageVolDownloadFlags.SPARSE_STREAM)
_SPARSE_UPLOAD = int(StorageVolUploadFlags.SPARSE_STREAM)
_POOL_TYPES = words(
    "dir fs netfs logical disk iscsi scsi mpath rbd sheepdog gluster zfs vstorage iscsi-direct"
)


def _source_key(pool: PoolDef) -> tuple[str, ...] | None:
    """What makes two pools of one type use the same storage (None: nothing comparable)."""
    src = {e.tag: e for e in pool.source}

    def attr(tag: str, name: str) -> str:
        elem = src.get(tag)
        return elem.get(name, "") if elem is not None else ""

    if pool.pool_type in ("dir", "mpath"):
        return (pool.target_path or "",) if pool.pool_type == "dir" else ("",)
    if pool.pool_type == "netfs":
        return (attr("host", "name"), attr("dir", "path"))
    if pool.pool_type in ("fs", "disk"):
        return (attr("device", "path"),)
    if pool.pool_type in ("iscsi", "iscsi-direct"):
        return (attr("host", "name"), attr("device", "path"))
    if pool.pool_type == "scsi":
        adapter = src.get("adapter")
        return tuple(sorted(attributes(adapter).values())) if adapter is not None else None
    name = src.get("name")
    return (attr("host", "name"), name.text or "" if name is not None else "")


def source_conflict(state: TestState, new: PoolDef) -> None:
    """Refuse a pool using another pool's storage (``virStoragePoolObjSourceFindDuplicate``)."""
    key = _source_key(new)
    for name, obj in sorted(state.pools.items()):
        if name == new.name or obj.def_.pool_type != new.pool_type:
            continue
        if key is not None and _source_key(obj.def_) == key:
            raise OperationFailedError(
                f"Storage source conflict with pool: '{name}'", domain=_STORAGE
            )


def _identity(obj: PoolObj | None) -> PoolIdentity | None:
    return None if obj is None else PoolIdentity(obj.def_.name, obj.def_.uuid, obj.active)


def add_pool(state: TestState, new: PoolDef, *, check_live: bool = False) -> PoolObj:
    """Add or update a pool like ``virStoragePoolObjListAdd``; the caller holds the lock.

    A running pool keeps its live definition (libvirt stores the new one as
    a pending definition that the test driver never applies).
    """
    existing = next((o for o in state.pools.values() if o.def_.uuid == new.uuid), None)
    named = state.pools.get(new.name)
    check_pool_clash(
        new.name,
        same_uuid=_identity(existing),
        same_name=_identity(named),
        check_live=check_live,
    )
    source_conflict(state, new)
    if existing is None:
        obj = PoolObj(new, active=False, persistent=False)
        state.pools[new.name] = obj
        return obj
    if not existing.active:
        existing.def_ = new
    return existing


def _fc_adapter(pool: PoolDef) -> etree._Element | None:
    for elem in pool.source:
        if elem.tag == "adapter" and elem.get("type") == "fc_host":
            return elem
    return None


class TestStorageDriver(SecondaryTable, PoolNameCalls, StorageDriver):
    """Storage pools and volumes of a test host."""

    # -- pool lookups -----------------------------------------------------------------------

    def _by_name(self, name: str) -> PoolObj:
        obj = self.state.pools.get(name)
        if obj is None:
            raise NoStoragePoolError(f"no storage pool with matching name '{name}'", domain=_TEST)
        return obj

    def _by_uuid(self, uuid: str) -> PoolObj:
        for obj in self.state.pools.values():
            if obj.def_.uuid == uuid:
                return obj
        raise NoStoragePoolError(f"no storage pool with matching uuid '{uuid}'", domain=_TEST)

    def _active(self, name: str) -> PoolObj:
        obj = self._by_name(name)
        if not obj.active:
            raise OperationInvalidError(f"storage pool '{name}' is not active", domain=_TEST)
        return obj

    def _inactive(self, name: str) -> PoolObj:
        obj = self._by_name(name)
        if obj.active:
            raise OperationInvalidError(f"storage pool '{name}' is active", domain=_TEST)
        return obj

    def _vol(self, vol: StorageVol) -> tuple[PoolObj, VolumeDef]:
        pool = self._active(vol.pool_name)
        found = pool.volumes.get(vol.name)
        if found is None:
            raise NoStorageVolError(f"no storage vol with matching name '{vol.name}'", domain=_TEST)
        return pool, found

    def _emit(self, name: str, uuid: str, event: int) -> None:
        emit(self.state, EventKind.STORAGE_POOL, 0, name, uuid, event, 0)

    @staticmethod
    def _handle(conn: Connection, obj: PoolObj) -> StoragePool:
        return StoragePool(conn, obj.def_.name, obj.def_.uuid)

    def connect_list_all_storage_pools(self, conn: Connection, flags: int) -> list[StoragePool]:
        """Pools matching the filter flags (state, persistence, autostart, type), by name."""
        check_flags(flags, LIST_ALL_POOLS_FLAGS, "testConnectListAllStoragePools")
        with self.state.lock:
            return [
                self._handle(conn, obj)
                for _, obj in sorted(self.state.pools.items())
                if pool_listed(
                    flags,
                    active=obj.active,
                    persistent=obj.persistent,
                    # A transient pool never autostarts, whatever its flag says.
                    autostart=obj.autostart and obj.persistent,
                    pool_type=obj.def_.pool_type,
                )
            ]

    def _pool_names(self, active: bool) -> list[str]:
        with self.state.lock:
            return sorted(n for n, o in self.state.pools.items() if o.active == active)

    def storage_pool_lookup_by_name(self, conn: Connection, name: str) -> StoragePool:
        """The pool called *name*."""
        with self.state.lock:
            return self._handle(conn, self._by_name(name))

    def storage_pool_lookup_by_uuid(self, conn: Connection, uuid: str) -> StoragePool:
        """The pool with *uuid*."""
        canonical = uuid_or_invalid(uuid, _STORAGE, "virStoragePoolLookupByUUIDString")
        with self.state.lock:
            return self._handle(conn, self._by_uuid(canonical))

    def storage_pool_lookup_by_volume(self, conn: Connection, vol: StorageVol) -> StoragePool:
        """The pool holding *vol*."""
        with self.state.lock:
            return self._handle(conn, self._by_name(vol.pool_name))

    def storage_pool_lookup_by_target_path(self, conn: Connection, path: str) -> StoragePool:
        """The pool whose target is *path* (storage driver semantics; the test driver lacks it)."""
        clean = sanitize_path(path)
        with self.state.lock:
            for _, obj in sorted(self.state.pools.items()):
                if obj.def_.target_path is not None and obj.def_.target_path == clean:
                    return self._handle(conn, obj)
        raise NoStoragePoolError(
            f"no storage pool with matching target path '{path}'", domain=_STORAGE
        )

    def connect_find_storage_pool_sources(
        self, conn: Connection, pool_type: str, src_spec: str | None, flags: int
    ) -> str:
        """Canned sources for logical and netfs pools, as the test driver answers."""
        check_flags(flags, 0, "testConnectFindStoragePoolSources")
        index = _POOL_TYPES.index(pool_type) if pool_type in _POOL_TYPES else -1
        if index == 0:
            raise InternalError(f"unknown storage pool type {pool_type}", domain=_TEST)
        host = None
        if src_spec:
            source = parse_xml(src_spec, "(storage_source_specification)", domain=_STORAGE)
            host_elem = child(source, "host")
            host = host_elem.get("name") if host_elem is not None else None
        out = XMLWriter()
        if pool_type == "logical":
            out.open("sources")
            for index in (20, 21):
                out.open("source")
                out.empty("device", [("path", f"/dev/sda{index}")])
                out.text("name", f"testvg{index - 19}")
                out.empty("format", [("type", "lvm2")])
                out.close("source")
            out.close("sources")
            return out.getvalue()
        if pool_type == "netfs":
            if not host:
                raise InvalidArgError("hostname must be specified for netfs sources", domain=_TEST)
            out.open("sources")
            out.open("source")
            out.empty("host", [("name", host)])
            out.empty("dir", [("path", "/testshare")])
            out.empty("format", [("type", "nfs")])
            out.close("source")
            out.close("sources")
            return out.getvalue()
        raise NoSupportError(
            f"pool type '{pool_type}' does not support source discovery", domain=_TEST
        )

    # -- pool lifecycle ---------------------------------------------------------------------

    def storage_pool_define_xml(self, conn: Connection, xml: str, flags: int) -> StoragePool:
        """Define a pool, or replace an inactive pool's definition (``DEFINED``)."""
        check_flags(flags, 1, "testStoragePoolDefineXML")
        new = PoolDef.parse(xml)
        with self.state.lock:
            obj = add_pool(self.state, new)
            self._emit(new.name, new.uuid, PoolEvent.DEFINED)
            obj.def_.capacity, obj.def_.allocation = DEFAULT_POOL_CAPACITY, 0
            obj.persistent = True
            return StoragePool(conn, new.name, new.uuid)

    def storage_pool_create_xml(self, conn: Connection, xml: str, flags: int) -> StoragePool:
        """Start a pool from *xml*; the pool is transient from then on (``STARTED``)."""
        check_flags(flags, 0, "testStoragePoolCreateXML")
        new = PoolDef.parse(xml)
        with self.state.lock:
            obj = add_pool(self.state, new, check_live=True)
            adapter = _fc_adapter(obj.def_)
            if adapter is not None:
                try:
                    mock_create_vport(self.state, adapter.get("wwnn", ""), adapter.get("wwpn", ""))
                except BaseException:
                    # libvirt drops the pool, even one that was defined before.
                    self.state.pools.pop(new.name, None)
                    raise
            obj.def_.capacity, obj.def_.allocation = DEFAULT_POOL_CAPACITY, 0
            obj.persistent = False
            obj.active = True
            self._emit(new.name, new.uuid, PoolEvent.STARTED)
            return StoragePool(conn, new.name, new.uuid)

    def storage_pool_create(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Start an inactive pool (``STARTED``)."""
        check_flags(flags, 0, "testStoragePoolCreate")
        with self.state.lock:
            obj = self._inactive(pool.name)
            obj.active = True
            self._emit(pool.name, pool.uuid, PoolEvent.STARTED)

    def storage_pool_build(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Build an inactive pool's storage (``CREATED``)."""
        check_flags(flags, 0, "testStoragePoolBuild")
        with self.state.lock:
            self._inactive(pool.name)
            self._emit(pool.name, pool.uuid, PoolEvent.CREATED)

    def storage_pool_destroy(self, conn: Connection, pool: StoragePool) -> None:
        """Stop a pool (``STOPPED``); a transient one disappears."""
        with self.state.lock:
            obj = self._active(pool.name)
            obj.active = False
            if _fc_adapter(obj.def_) is not None:
                destroy_vport(self.state)
            self._emit(obj.def_.name, obj.def_.uuid, PoolEvent.STOPPED)
            if not obj.persistent:
                self.state.pools.pop(obj.def_.name, None)

    def storage_pool_delete(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Delete an inactive pool's storage (``DELETED``)."""
        check_flags(flags, 0, "testStoragePoolDelete")
        with self.state.lock:
            self._inactive(pool.name)
            self._emit(pool.name, pool.uuid, PoolEvent.DELETED)

    def storage_pool_undefine(self, conn: Connection, pool: StoragePool) -> None:
        """Remove an inactive pool (``UNDEFINED``)."""
        with self.state.lock:
            obj = self._inactive(pool.name)
            self._emit(pool.name, pool.uuid, PoolEvent.UNDEFINED)
            self.state.pools.pop(obj.def_.name, None)

    def storage_pool_refresh(self, conn: Connection, pool: StoragePool, flags: int) -> None:
        """Rescan a running pool (the ``REFRESH`` event)."""
        check_flags(flags, 0, "testStoragePoolRefresh")
        with self.state.lock:
            self._active(pool.name)
            emit(self.state, EventKind.STORAGE_POOL, 1, pool.name, pool.uuid)

    # -- pool queries -------------------------------------------------------------------------

    def storage_pool_get_info(
        self, conn: Connection, pool: StoragePool
    ) -> tuple[int, int, int, int]:
        """State, capacity, allocation and available bytes."""
        with self.state.lock:
            obj = self._by_name(pool.name)
            state = StoragePoolState.RUNNING if obj.active else StoragePoolState.INACTIVE
            d = obj.def_
            return int(state), d.capacity, d.allocation, d.available

    def storage_pool_get_xml_desc(self, conn: Connection, pool: StoragePool, flags: int) -> str:
        """The pool XML."""
        check_flags(flags, 0, "testStoragePoolGetXMLDesc")
        with self.state.lock:
            return self._by_name(pool.name).def_.format()

    def storage_pool_is_active(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool is running."""
        with self.state.lock:
            return int(self._by_uuid(pool.uuid).active)

    def storage_pool_is_persistent(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool is defined."""
        with self.state.lock:
            return int(self._by_uuid(pool.uuid).persistent)

    def storage_pool_get_autostart(self, conn: Connection, pool: StoragePool) -> int:
        """The autostart flag (always 0 for a transient pool)."""
        with self.state.lock:
            obj = self._by_name(pool.name)
            return int(obj.autostart and obj.persistent)

    def storage_pool_set_autostart(
        self, conn: Connection, pool: StoragePool, autostart: int
    ) -> None:
        """Set the autostart flag of a persistent pool."""
        with self.state.lock:
            obj = self._by_name(pool.name)
            if not obj.persistent:
                raise InvalidArgError("pool has no config file", domain=_TEST)
            obj.autostart = bool(autostart)

    def storage_pool_num_of_volumes(self, conn: Connection, pool: StoragePool) -> int:
        """Number of volumes in a running pool."""
        with self.state.lock:
            return len(self._active(pool.name).volumes)

    def storage_pool_list_volumes(self, conn: Connection, pool: StoragePool) -> list[str]:
        """Volume names of a running pool."""
        with self.state.lock:
            return sorted(self._active(pool.name).volumes)

    def storage_pool_list_all_volumes(
        self, conn: Connection, pool: StoragePool, flags: int
    ) -> list[StorageVol]:
        """Volumes of a running pool, by name."""
        check_flags(flags, 0, "testStoragePoolListAllVolumes")
        with self.state.lock:
            obj = self._by_uuid(pool.uuid)
            if not obj.active:
                raise OperationInvalidError("storage pool is not active", domain=_TEST)
            return [
                StorageVol(conn, obj.def_.name, v.name, v.key)
                for _, v in sorted(obj.volumes.items())
            ]

    # -- volumes ------------------------------------------------------------------------------

    def storage_vol_lookup_by_name(
        self, conn: Connection, pool: StoragePool, name: str
    ) -> StorageVol:
        """The volume called *name* in a running pool."""
        with self.state.lock:
            obj = self._active(pool.name)
            vol = obj.volumes.get(name)
            if vol is None:
                raise NoStorageVolError(f"no storage vol with matching name '{name}'", domain=_TEST)
            return StorageVol(conn, obj.def_.name, vol.name, vol.key)

    def _find_vol(self, conn: Connection, attr: str, value: str) -> StorageVol:
        with self.state.lock:
            for _, obj in sorted(self.state.pools.items()):
                if not obj.active:
                    continue
                for vol in obj.volumes.values():
                    if getattr(vol, attr) == value:
                        return StorageVol(conn, obj.def_.name, vol.name, vol.key)
        raise NoStorageVolError(f"no storage vol with matching {attr} '{value}'", domain=_TEST)

    def storage_vol_lookup_by_key(self, conn: Connection, key: str) -> StorageVol:
        """The volume with *key* in any running pool."""
        return self._find_vol(conn, "key", key)

    def storage_vol_lookup_by_path(self, conn: Connection, path: str) -> StorageVol:
        """The volume at *path* in any running pool."""
        return self._find_vol(conn, "path", path)

    def _new_volume(self, obj: PoolObj, xml: str) -> VolumeDef:
        vol = VolumeDef.parse(xml, obj.def_)
        if vol.name in obj.volumes:
            raise OperationFailedError("storage vol already exists", domain=_TEST)
        if obj.def_.allocation + vol.allocation > obj.def_.capacity:
            raise InternalError(
                f"Not enough free space in pool for volume '{vol.name}'", domain=_TEST
            )
        return vol

    def _add_volume(self, conn: Connection, obj: PoolObj, vol: VolumeDef) -> StorageVol:
        # A network pool has no target path; libvirt prints its NULL as "(null)".
        base = obj.def_.target_path if obj.def_.target_path is not None else "(null)"
        vol.path = vol.key = f"{base}/{vol.name}"
        obj.volumes[vol.name] = vol
        obj.def_.allocation += vol.allocation
        return StorageVol(conn, obj.def_.name, vol.name, vol.key)

    def storage_vol_create_xml(
        self, conn: Connection, pool: StoragePool, xml: str, flags: int
    ) -> StorageVol:
        """Create a volume in a running pool."""
        check_flags(flags, 0, "testStorageVolCreateXML")
        with self.state.lock:
            obj = self._active(pool.name)
            return self._add_volume(conn, obj, self._new_volume(obj, xml))

    def storage_vol_create_xml_from(
        self, conn: Connection, pool: StoragePool, xml: str, clonevol: StorageVol, flags: int
    ) -> StorageVol:
        """Create a volume in a running pool as a copy of *clonevol* of the same pool."""
        check_flags(flags, 0, "testStorageVolCreateXMLFrom")
        with self.state.lock:
            obj = self._active(pool.name)
            vol = VolumeDef.parse(xml, obj.def_)
            if vol.name in obj.volumes:
                raise OperationFailedError("storage vol already exists", domain=_TEST)
            origin = obj.volumes.get(clonevol.name)
            if origin is None:
                raise NoStorageVolError(
                    f"no storage vol with matching name '{clonevol.name}'", domain=_TEST
                )
            if obj.def_.allocation + vol.allocation > obj.def_.capacity:
                raise InternalError(
                    f"Not enough free space in pool for volume '{vol.name}'", domain=_TEST
                )
            # The test driver copies nothing; copying the data is what a real pool does.
            vol.content = bytearray(origin.content[: vol.capacity])
            vol.holes = list(origin.holes)
            cut_holes(vol, len(vol.content))
            return self._add_volume(conn, obj, vol)

    def storage_vol_delete(self, conn: Connection, vol: StorageVol, flags: int) -> None:
        """Delete a volume; its allocation returns to the pool."""
        check_flags(flags, 0, "testStorageVolDelete")
        with self.state.lock:
            pool, found = self._vol(vol)
            pool.def_.allocation -= found.allocation
            del pool.volumes[found.name]

    def storage_vol_get_info(self, conn: Connection, vol: StorageVol) -> tuple[int, int, int]:
        """Type (by pool type), capacity and allocation in bytes."""
        with self.state.lock:
            pool, found = self._vol(vol)
            return pool.def_.volume_type, found.capacity, found.allocation

    def storage_vol_get_info_flags(
        self, conn: Connection, vol: StorageVol, flags: int
    ) -> tuple[int, int, int]:
        """Like :meth:`storage_vol_get_info`; ``GET_PHYSICAL`` reports the physical size."""
        check_flags(flags, 1, "testStorageVolGetInfoFlags")
        return self.storage_vol_get_info(conn, vol)

    def storage_vol_get_xml_desc(self, conn: Connection, vol: StorageVol, flags: int) -> str:
        """The volume XML."""
        check_flags(flags, 0, "testStorageVolGetXMLDesc")
        with self.state.lock:
            return self._vol(vol)[1].format()

    def storage_vol_get_path(self, conn: Connection, vol: StorageVol) -> str:
        """The volume's path."""
        with self.state.lock:
            return self._vol(vol)[1].path

    def storage_vol_wipe(self, conn: Connection, vol: StorageVol, flags: int) -> None:
        """Overwrite the volume with zeros (storage driver semantics)."""
        self.storage_vol_wipe_pattern(conn, vol, StorageVolWipeAlgorithm.ZERO, flags)

    def storage_vol_wipe_pattern(
        self, conn: Connection, vol: StorageVol, algorithm: int, flags: int
    ) -> None:
        """Wipe the volume; every algorithm but ``TRIM`` leaves it reading as zeros."""
        check_flags(flags, 0, "testStorageVolWipePattern")
        check_wipe_algorithm(algorithm)
        with self.state.lock:
            found = self._vol(vol)[1]
            if algorithm == StorageVolWipeAlgorithm.TRIM:
                raise ArgumentUnsupportedError("'trim' algorithm not supported", domain=_STORAGE)
            found.content.clear()
            found.holes.clear()

    def storage_vol_resize(
        self, conn: Connection, vol: StorageVol, capacity: int, flags: int
    ) -> None:
        """Change the capacity (``virStorageVolResize`` of libvirt's storage driver)."""
        check_flags(flags, RESIZE_FLAGS, "testStorageVolResize")
        with self.state.lock:
            pool, found = self._vol(vol)
            wanted = resize_target(
                capacity,
                flags,
                current=found.capacity,
                allocation=found.allocation,
                available=pool.def_.available,
            )
            delta = wanted - found.allocation if flags & Resize.ALLOCATE else 0
            found.capacity = wanted
            del found.content[wanted:]
            cut_holes(found, len(found.content))
            if flags & Resize.ALLOCATE:
                found.allocation = wanted
            pool.def_.allocation += delta

    def _stream_target(self, vol: StorageVol, flags: int, function: str) -> None:
        check_flags(flags, _SPARSE_DOWNLOAD | _SPARSE_UPLOAD, function)
        self._vol(vol)

    def storage_vol_download(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        vol: StorageVol,
        stream: Stream,
        offset: int,
        length: int,
        flags: int,
    ) -> None:
        """Bind *stream* to send the volume's content from *offset* (:mod:`.volstream`)."""
        with self.state.lock:
            self._stream_target(vol, flags, "testStorageVolDownload")
        stream.bind(
            VolumeDownload(
                self.state,
                vol.pool_name,
                vol.name,
                offset,
                length,
                sparse=bool(flags & _SPARSE_DOWNLOAD),
            )
        )

    def storage_vol_upload(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        vol: StorageVol,
        stream: Stream,
        offset: int,
        length: int,
        flags: int,
    ) -> None:
        """Bind *stream* to receive the volume's new content at *offset* (:mod:`.volstream`)."""
        with self.state.lock:
            self._stream_target(vol, flags, "testStorageVolUpload")
        stream.bind(
            VolumeUpload(
                self.state,
                vol.pool_name,
                vol.name,
                offset,
                length,
                sparse=bool(flags & _SPARSE_UPLOAD),
            )
        )
