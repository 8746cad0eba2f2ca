"""Volume calls of the host storage driver's table (``virStorageVol*``), libvirt 9.0 semantics.

Creating a volume reserves its name in the pool under the driver's lock
(so concurrent creates of one name fail cleanly with ``STORAGE_VOL_EXIST``),
then builds it outside the lock while the volume is marked as being built
and the pool's job count is raised; a failed build removes what it made.
Wiping works the same way with the volume marked in use. Volume names
cannot leave the pool directory: a ``/`` is refused with libvirt's error and
names such as ``..`` name an existing path ("volume target path ... already
exists"). Names with control characters are refused as well, since a pool
refresh would not list such a file.

Info and XML calls re-read the volume from disk first (``refreshVol``), so
they report what the file is now, outside the driver lock.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING

from virtcore.drivers.storage.common import (
    STORAGE,
    check_flags,
    no_pool_name,
    no_volume_name,
    pool_not_active,
    volume_building,
)
from virtcore.drivers.storage.pools import PoolObj, measure
from virtcore.drivers.storage.streams import FileDownload, FileUpload
from virtcore.drivers.storage.volumes import (
    Volume,
    build_volume,
    build_volume_from,
    delete_volume,
    probe_volume,
    resize_volume,
)
from virtcore.drivers.storage.wipe import wipe_file
from virtcore.drivers.volrules import RESIZE_FLAGS, check_wipe_algorithm, resize_target
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.storage import StorageVolCreateFlags as CreateFlags
from virtcore.enums.storage import StorageVolInfoFlags, StorageVolWipeAlgorithm
from virtcore.enums.storage import StorageVolResizeFlags as Resize
from virtcore.errors import (
    AlreadyExistsError,
    InternalError,
    NoStorageVolError,
    OperationInvalidError,
    VirtError,
)
from virtcore.objects import StoragePool, StorageVol, Stream
from virtcore.xml.storage_pool_source import sanitize_path
from virtcore.xml.storage_vol import StorageVolume, StorageVolumeDef

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.storage.state import StorageStateDriver

__all__ = ["VolumeCalls"]

logger = logging.getLogger(__name__)

_CREATE_FLAGS = int(CreateFlags.PREALLOC_METADATA | CreateFlags.REFLINK | CreateFlags.VALIDATE)
_PARSE_NO_CAPACITY = 1
_PARSE_OPT_CAPACITY = 2
_SPARSE = 1


class VolumeCalls:
    """The volume half of :class:`~.table.StorageTable`."""

    driver: StorageStateDriver

    def refresh_locked(self, obj: PoolObj) -> None:
        """Rescan *obj* (provided by the table)."""
        raise NotImplementedError

    # -- lookups -------------------------------------------------------------------------

    def _locate(self, vol: StorageVol) -> tuple[PoolObj, Volume]:
        """The running pool and volume a handle names; call under the lock."""
        obj = self.driver.pools.get(vol.pool_name)
        if obj is None:
            raise no_pool_name(vol.pool_name)
        if not obj.active:
            raise pool_not_active(obj.name)
        found = obj.volume(vol.name)
        if found is None:
            raise no_volume_name(vol.name)
        return obj, found

    def _usable(self, vol: StorageVol) -> tuple[PoolObj, Volume]:
        obj, found = self._locate(vol)
        if found.building:
            raise volume_building(found.name)
        return obj, found

    def storage_vol_lookup_by_name(
        self, conn: Connection, pool: StoragePool, name: str
    ) -> StorageVol:
        """The volume called *name* in a running pool."""
        with self.driver.lock:
            obj = self.driver.require_active(self.driver.by_handle(pool.name, pool.uuid))
            found = obj.volume(name)
            if found is None:
                raise no_volume_name(name)
            return StorageVol(conn, obj.name, found.name, found.key)

    def _find(self, conn: Connection, attr: str, value: str) -> StorageVol | None:
        with self.driver.lock:
            for _, obj in sorted(self.driver.pools.items()):
                if not obj.active:
                    continue
                for found in obj.volumes.values():
                    if getattr(found, attr) == value:
                        return StorageVol(conn, obj.name, found.name, found.key)
        return None

    def storage_vol_lookup_by_key(self, conn: Connection, key: str) -> StorageVol:
        """The volume with *key* (its path) in any running pool."""
        found = self._find(conn, "key", key)
        if found is None:
            raise NoStorageVolError(f"no storage vol with matching key {key}", domain=STORAGE)
        return found

    def storage_vol_lookup_by_path(self, conn: Connection, path: str) -> StorageVol:
        """The volume at *path* in any running pool."""
        found = self._find(conn, "path", sanitize_path(path))
        if found is None:
            raise NoStorageVolError(f"no storage vol with matching path '{path}'", domain=STORAGE)
        return found

    # -- create and delete ---------------------------------------------------------------

    def _reserve(self, obj: PoolObj, definition: StorageVolumeDef) -> Volume:
        """Claim the name and path of a new volume in *obj*; call under the lock."""
        name = definition.name
        if name in obj.volumes:
            raise AlreadyExistsError(
                f"'{name}'",
                code=ErrorNumber.STORAGE_VOL_EXIST,
                domain=STORAGE,
            )
        return self._claim(obj, name)

    def _claim(self, obj: PoolObj, name: str) -> Volume:
        if "/" in name:
            raise OperationInvalidError(f"volume name '{name}' cannot contain '/'", domain=STORAGE)
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
            shown = name.encode("unicode_escape").decode("ascii")
            raise OperationInvalidError(
                f"volume name '{shown}' cannot contain control characters", domain=STORAGE
            )
        path = f"{obj.target_path}/{name}"
        if os.path.lexists(path):
            raise OperationInvalidError(
                f"volume target path '{path}' already exists", domain=STORAGE
            )
        placeholder = Volume(name, path, building=True)
        obj.volumes[name] = placeholder
        obj.jobs += 1
        return placeholder

    def _settle(
        self,
        conn: Connection,
        obj: PoolObj,
        vol: Volume,
        ok: bool,
        definition: StorageVolumeDef,
    ) -> StorageVol:
        """Finish a build: drop the reservation on failure, else read the new volume."""
        obj.jobs -= 1
        vol.building = False
        if not ok:
            if obj.volumes.get(vol.name) is vol:
                del obj.volumes[vol.name]
            return StorageVol(conn, obj.name, vol.name, vol.key)
        probed = probe_volume(vol.name, vol.path)
        if probed is None:
            del obj.volumes[vol.name]
            raise InternalError(f"volume '{vol.name}' vanished while it was built")
        vol.update_from(probed)
        # libvirt keeps the created volume's own definition of these until a pool refresh.
        vol.take_details(definition.target)
        if obj.active:
            obj.def_ = measure(obj.def_)
            self.driver.save_status(obj)
        logger.info("Creating volume '%s' in storage pool '%s'", vol.name, obj.name)
        return StorageVol(conn, obj.name, vol.name, vol.key)

    def _parse(self, obj: PoolObj, xml: str, flags: int, parse_flags: int) -> StorageVolumeDef:
        validate = bool(flags & CreateFlags.VALIDATE)
        model = StorageVolume.parse(
            xml, pool_type=obj.def_.type, flags=parse_flags, validate_schema=validate
        )
        return model.definition(obj.def_.type, parse_flags)

    def storage_vol_create_xml(
        self, conn: Connection, pool: StoragePool, xml: str, flags: int
    ) -> StorageVol:
        """Create a volume in a running pool (raw, qcow2 and other qemu-img formats, dir)."""
        check_flags(flags, _CREATE_FLAGS, "storageVolCreateXML")
        drv = self.driver
        with drv.lock:
            obj = drv.require_active(drv.by_handle(pool.name, pool.uuid))
            definition = self._parse(obj, xml, flags, _PARSE_OPT_CAPACITY)
            vol = self._reserve(obj, definition)
        ok = False
        try:
            build_volume(definition, vol.path, obj.target_path, flags & ~CreateFlags.VALIDATE)
            ok = True
        finally:
            with drv.lock:
                handle = self._settle(conn, obj, vol, ok, definition)
        return handle

    def storage_vol_create_xml_from(
        self, conn: Connection, pool: StoragePool, xml: str, clonevol: StorageVol, flags: int
    ) -> StorageVol:
        """Create a volume as a copy of *clonevol* (any running pool), converting formats."""
        check_flags(flags, _CREATE_FLAGS, "storageVolCreateXMLFrom")
        drv = self.driver
        with drv.lock:
            obj = drv.by_handle(pool.name, pool.uuid)
            origin_pool = obj
            if clonevol.pool_name != obj.name:
                found_pool = drv.pools.get(clonevol.pool_name)
                if found_pool is None:
                    raise no_pool_name(clonevol.pool_name)
                origin_pool = found_pool
            drv.require_active(obj)
            drv.require_active(origin_pool)
            origin = origin_pool.volume(clonevol.name)
            if origin is None:
                raise no_volume_name(clonevol.name)
            definition = self._parse(obj, xml, flags, _PARSE_NO_CAPACITY)
            if definition.name in obj.volumes:
                raise InternalError(
                    f"storage volume name '{definition.name}' already in use.", domain=STORAGE
                )
            if origin.building:
                raise volume_building(origin.name)
            capacity = max(definition.capacity, origin.capacity)
            has_allocation = StorageVolume.from_xml(xml).xpath("./allocation")
            allocation = definition.allocation if has_allocation else capacity
            definition = replace(definition, capacity=capacity, allocation=allocation)
            source = Volume(**{**origin.__dict__, "building": False})
            vol = self._claim(obj, definition.name)
            origin.in_use += 1
            origin_pool.jobs += 1
        ok = False
        try:
            build_volume_from(
                definition, vol.path, obj.target_path, source, flags & ~CreateFlags.VALIDATE
            )
            ok = True
        finally:
            with drv.lock:
                origin.in_use -= 1
                origin_pool.jobs -= 1
                handle = self._settle(conn, obj, vol, ok, definition)
        return handle

    def storage_vol_delete(self, conn: Connection, vol: StorageVol, flags: int) -> None:
        """Delete a volume's file or directory and forget it."""
        # libvirt leaves the flag check to the backend (see delete_volume).
        drv = self.driver
        with drv.lock:
            obj, found = self._usable(vol)
            if found.in_use:
                raise OperationInvalidError(
                    f"volume '{found.name}' is still in use.", domain=STORAGE
                )
            delete_volume(found, flags)
            obj.volumes.pop(found.name, None)
            obj.def_ = measure(obj.def_)
            drv.save_status(obj)
            logger.info("Deleting volume '%s' from storage pool '%s'", found.name, obj.name)

    # -- queries -----------------------------------------------------------------------------

    def _refreshed(self, vol: StorageVol) -> tuple[PoolObj, Volume]:
        """The volume, re-read from disk (outside the lock) unless it is being built."""
        with self.driver.lock:
            obj, found = self._locate(vol)
            if found.building:
                return obj, found
            path = found.path
        probed = probe_volume(found.name, path)
        with self.driver.lock:
            obj, found = self._locate(vol)
            if probed is not None and not found.building and found.path == path:
                found.update_from(probed, keep_details=True)
            return obj, Volume(**found.__dict__)

    def storage_vol_get_info(self, conn: Connection, vol: StorageVol) -> tuple[int, int, int]:
        """Type, capacity and allocation in bytes."""
        _, found = self._refreshed(vol)
        return found.type_number, found.capacity, found.allocation

    def storage_vol_get_info_flags(
        self, conn: Connection, vol: StorageVol, flags: int
    ) -> tuple[int, int, int]:
        """Like :meth:`storage_vol_get_info`; ``GET_PHYSICAL`` reports the file's size."""
        check_flags(flags, int(StorageVolInfoFlags.GET_PHYSICAL), "storageVolGetInfoFlags")
        _, found = self._refreshed(vol)
        second = found.physical if flags & StorageVolInfoFlags.GET_PHYSICAL else found.allocation
        return found.type_number, found.capacity, second

    def storage_vol_get_xml_desc(self, conn: Connection, vol: StorageVol, flags: int) -> str:
        """The volume XML."""
        check_flags(flags, 0, "storageVolGetXMLDesc")
        obj, found = self._refreshed(vol)
        return found.definition(obj.def_.type).format()

    def storage_vol_get_path(self, conn: Connection, vol: StorageVol) -> str:
        """The volume's path."""
        with self.driver.lock:
            return self._locate(vol)[1].path

    # -- wipe and resize -----------------------------------------------------------------------

    def storage_vol_wipe(self, conn: Connection, vol: StorageVol, flags: int) -> None:
        """Overwrite the volume with zeros."""
        self._wipe(vol, int(StorageVolWipeAlgorithm.ZERO), flags, "storageVolWipePattern")

    def storage_vol_wipe_pattern(
        self, conn: Connection, vol: StorageVol, algorithm: int, flags: int
    ) -> None:
        """Wipe the volume with *algorithm* (see :mod:`.wipe`)."""
        self._wipe(vol, algorithm, flags, "storageVolWipePattern")

    def _wipe(self, vol: StorageVol, algorithm: int, flags: int, function: str) -> None:
        check_flags(flags, 0, function)
        check_wipe_algorithm(algorithm)
        drv = self.driver
        with drv.lock:
            obj, found = self._usable(vol)
            found.in_use += 1
            obj.jobs += 1
            path, allocation = found.path, found.allocation
        try:
            wipe_file(path, algorithm, allocation)
        finally:
            probed = probe_volume(found.name, path)
            with drv.lock:
                found.in_use -= 1
                obj.jobs -= 1
                if probed is not None:
                    found.update_from(probed)

    def storage_vol_resize(
        self, conn: Connection, vol: StorageVol, capacity: int, flags: int
    ) -> None:
        """Change the capacity (grow, ``SHRINK``, ``DELTA``, ``ALLOCATE``)."""
        check_flags(flags, RESIZE_FLAGS, "storageVolResize")
        drv = self.driver
        with drv.lock:
            obj, found = self._usable(vol)
            if found.in_use:
                raise OperationInvalidError(
                    f"volume '{found.name}' is still in use.", domain=STORAGE
                )
            wanted = resize_target(
                capacity,
                flags,
                current=found.capacity,
                allocation=found.allocation,
                available=obj.def_.available,
            )
            resize_volume(found, wanted, allocate=bool(flags & Resize.ALLOCATE))
            probed = probe_volume(found.name, found.path)
            if probed is not None:
                found.update_from(probed, keep_details=True)
            obj.def_ = measure(obj.def_)
            drv.save_status(obj)

    # -- streams ---------------------------------------------------------------------------------

    def storage_vol_download(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        vol: StorageVol,
        stream: Stream,
        offset: int,
        length: int,
        flags: int,
    ) -> None:
        """Bind *stream* to send the volume's content from *offset* (:mod:`.streams`)."""
        check_flags(flags, _SPARSE, "storageVolDownload")
        with self.driver.lock:
            _, found = self._usable(vol)
            path = found.path
        stream.bind(FileDownload(path, offset, length, bool(flags & _SPARSE)))

    def storage_vol_upload(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        vol: StorageVol,
        stream: Stream,
        offset: int,
        length: int,
        flags: int,
    ) -> None:
        """Bind *stream* to write the volume's content from *offset*; closing refreshes."""
        check_flags(flags, _SPARSE, "storageVolUpload")
        with self.driver.lock:
            obj, found = self._usable(vol)
            if found.in_use:
                raise OperationInvalidError(
                    f"volume '{found.name}' is still in use.", domain=STORAGE
                )
            path, pool_name, pool_uuid = found.path, obj.name, obj.uuid

        def refresh() -> None:
            with self.driver.lock:
                current = self.driver.find_uuid(pool_uuid)
                if current is None or not current.active or current.jobs:
                    return
                try:
                    self.refresh_locked(current)
                except VirtError as exc:
                    logger.error("Failed to refresh storage pool '%s': %s", pool_name, exc)

        stream.bind(FileUpload(path, offset, length, bool(flags & _SPARSE), refresh))
