"""``virStoragePool`` and ``virStorageVol``: storage pools and their volumes."""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802, N803, N815

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.enums.storage import StoragePoolState, StorageVolType
from virtcore.libvirt._base import Wrapped, native, status, uuid_bytes

if TYPE_CHECKING:
    from virtcore.libvirt._stream import virStream

__all__ = ["virStoragePool", "virStorageVol"]


def _enum(cls: type[StoragePoolState] | type[StorageVolType], value: int) -> int:
    try:
        return cls(value)
    except ValueError:
        return int(value)


class virStoragePool(Wrapped):
    """A storage pool (libvirt-python's ``virStoragePool``)."""

    _kind = "storage"

    def name(self) -> str:
        """The pool's name (``virStoragePoolGetName``)."""
        name: str = self._o.name
        return name

    def UUID(self) -> bytes:
        """The UUID as 16 raw bytes (``virStoragePoolGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The UUID in text form (``virStoragePoolGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def info(self) -> list[Any]:
        """``[state, capacity, allocation, available]``; the state is a ``StoragePoolState``.

        (``virStoragePoolGetInfo``)
        """
        state, *sizes = self._call("storage_pool_get_info", "virStoragePoolGetInfo")
        return [_enum(StoragePoolState, state), *sizes]

    def XMLDesc(self, flags: int = 0) -> str:
        """Fetch an XML document describing all aspects of the storage pool
        (``virStoragePoolGetXMLDesc``).
        """
        result: str = self._call("storage_pool_get_xml_desc", "virStoragePoolGetXMLDesc", flags)
        return result

    def autostart(self) -> int:
        """Extract the autostart flag for a storage pool (``virStoragePoolGetAutostart``)."""
        return status(self._call("storage_pool_get_autostart", "virStoragePoolGetAutostart"))

    def build(self, flags: int = 0) -> int:
        """Currently only filesystem pool accepts flags VIR_STORAGE_POOL_BUILD_OVERWRITE and
        VIR_STORAGE_POOL_BUILD_NO_OVERWRITE (``virStoragePoolBuild``).
        """
        return status(self._call("storage_pool_build", "virStoragePoolBuild", flags, write=True))

    def create(self, flags: int = 0) -> int:
        """Starts an inactive storage pool (``virStoragePoolCreate``)."""
        return status(self._call("storage_pool_create", "virStoragePoolCreate", flags, write=True))

    def createXML(self, xmlDesc: str, flags: int = 0) -> virStorageVol:
        """Create a storage volume within a pool based on an XML description
        (``virStorageVolCreateXML``).
        """
        return virStorageVol(
            self._conn,
            _obj=self._call(
                "storage_vol_create_xml", "virStorageVolCreateXML", xmlDesc, flags, write=True
            ),
        )

    def createXMLFrom(self, xmlDesc: str, clonevol: virStorageVol, flags: int = 0) -> virStorageVol:
        """Create a storage volume in the parent pool, using the 'clonevol' volume as input
        (``virStorageVolCreateXMLFrom``).
        """
        return virStorageVol(
            self._conn,
            _obj=self._call(
                "storage_vol_create_xml_from",
                "virStorageVolCreateXMLFrom",
                xmlDesc,
                native(clonevol),
                flags,
                write=True,
            ),
        )

    def delete(self, flags: int = 0) -> int:
        """Delete the underlying pool resources (``virStoragePoolDelete``)."""
        return status(self._call("storage_pool_delete", "virStoragePoolDelete", flags, write=True))

    def destroy(self) -> int:
        """Destroy an active storage pool (``virStoragePoolDestroy``)."""
        return status(self._call("storage_pool_destroy", "virStoragePoolDestroy", write=True))

    def isActive(self) -> int:
        """Determine if the storage pool is currently running (``virStoragePoolIsActive``)."""
        return status(self._call("storage_pool_is_active", "virStoragePoolIsActive"))

    def isPersistent(self) -> int:
        """Determine if the storage pool has a persistent configuration which means it will still
        exist after shutting down (``virStoragePoolIsPersistent``).
        """
        return status(self._call("storage_pool_is_persistent", "virStoragePoolIsPersistent"))

    def listVolumes(self) -> list[Any]:
        """List the storage volumes, stores the pointers to the names in @names
        (``virStoragePoolListVolumes``).
        """
        return list(self._call("storage_pool_list_volumes", "virStoragePoolListVolumes"))

    def numOfVolumes(self) -> int:
        """Fetch the number of storage volumes within a pool (``virStoragePoolNumOfVolumes``)."""
        return status(self._call("storage_pool_num_of_volumes", "virStoragePoolNumOfVolumes"))

    def refresh(self, flags: int = 0) -> int:
        """Request that the pool refresh its list of volumes (``virStoragePoolRefresh``)."""
        return status(
            self._call("storage_pool_refresh", "virStoragePoolRefresh", flags, write=True)
        )

    def setAutostart(self, autostart: int) -> int:
        """Configure the storage pool to be automatically started when the host machine boots
        (``virStoragePoolSetAutostart``).
        """
        return status(
            self._call(
                "storage_pool_set_autostart", "virStoragePoolSetAutostart", autostart, write=True
            )
        )

    def storageVolLookupByName(self, name: str) -> virStorageVol:
        """``virStorageVolLookupByName``."""
        return virStorageVol(
            self._conn,
            _obj=self._call("storage_vol_lookup_by_name", "virStorageVolLookupByName", name),
        )

    def undefine(self) -> int:
        """Undefine an inactive storage pool (``virStoragePoolUndefine``)."""
        return status(self._call("storage_pool_undefine", "virStoragePoolUndefine", write=True))

    def listAllVolumes(self, flags: int = 0) -> list[virStorageVol]:
        """List all storage volumes and returns a list of storage volume objects
        (``virStoragePoolListAllVolumes``).
        """
        return [
            virStorageVol(self._conn, _obj=o)
            for o in self._call(
                "storage_pool_list_all_volumes", "virStoragePoolListAllVolumes", flags
            )
        ]


class virStorageVol(Wrapped):
    """A storage volume (libvirt-python's ``virStorageVol``)."""

    _kind = "storage"
    streamBufSize = 262120
    """The chunk size ``virStream.sendAll``/``recvAll`` use, as in libvirt-python."""

    def name(self) -> str:
        """The volume's name (``virStorageVolGetName``)."""
        name: str = self._o.name
        return name

    def key(self) -> str:
        """The volume's unique key (``virStorageVolGetKey``)."""
        key: str = self._o.key
        return key

    def info(self) -> list[Any]:
        """``[type, capacity, allocation]``; the type is a ``StorageVolType``
        (``virStorageVolGetInfo``).
        """
        kind, *sizes = self._call("storage_vol_get_info", "virStorageVolGetInfo")
        return [_enum(StorageVolType, kind), *sizes]

    def infoFlags(self, flags: int = 0) -> list[Any]:
        """Like :meth:`info`, with flags (``virStorageVolGetInfoFlags``)."""
        kind, *sizes = self._call("storage_vol_get_info_flags", "virStorageVolGetInfoFlags", flags)
        return [_enum(StorageVolType, kind), *sizes]

    def XMLDesc(self, flags: int = 0) -> str:
        """Fetch an XML document describing all aspects of the storage volume
        (``virStorageVolGetXMLDesc``).
        """
        result: str = self._call("storage_vol_get_xml_desc", "virStorageVolGetXMLDesc", flags)
        return result

    def delete(self, flags: int = 0) -> int:
        """Delete the storage volume from the pool (``virStorageVolDelete``)."""
        return status(self._call("storage_vol_delete", "virStorageVolDelete", flags, write=True))

    def download(self, stream: virStream, offset: int, length: int, flags: int = 0) -> int:
        """Download the content of the volume as a stream (``virStorageVolDownload``)."""
        return status(
            self._call(
                "storage_vol_download",
                "virStorageVolDownload",
                native(stream),
                offset,
                length,
                flags,
                write=True,
            )
        )

    def path(self) -> str:
        """Fetch the storage volume path (``virStorageVolGetPath``)."""
        result: str = self._call("storage_vol_get_path", "virStorageVolGetPath")
        return result

    def resize(self, capacity: int, flags: int = 0) -> int:
        """Changes the capacity of the storage volume @vol to @capacity
        (``virStorageVolResize``).
        """
        return status(
            self._call("storage_vol_resize", "virStorageVolResize", capacity, flags, write=True)
        )

    def storagePoolLookupByVolume(self) -> virStoragePool:
        """``virStoragePoolLookupByVolume``."""
        return virStoragePool(
            self._conn,
            _obj=self._call("storage_pool_lookup_by_volume", "virStoragePoolLookupByVolume"),
        )

    def upload(self, stream: virStream, offset: int, length: int, flags: int = 0) -> int:
        """Upload new content to the volume from a stream (``virStorageVolUpload``)."""
        return status(
            self._call(
                "storage_vol_upload",
                "virStorageVolUpload",
                native(stream),
                offset,
                length,
                flags,
                write=True,
            )
        )

    def wipe(self, flags: int = 0) -> int:
        """Ensure data previously on a volume is not accessible to future reads
        (``virStorageVolWipe``).
        """
        return status(self._call("storage_vol_wipe", "virStorageVolWipe", flags, write=True))

    def wipePattern(self, algorithm: int, flags: int = 0) -> int:
        """Similar to virStorageVolWipe, but one can choose between different wiping algorithms
        (``virStorageVolWipePattern``).
        """
        return status(
            self._call(
                "storage_vol_wipe_pattern", "virStorageVolWipePattern", algorithm, flags, write=True
            )
        )
