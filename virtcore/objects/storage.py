"""Storage handles: pools and volumes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.objects.base import Handle, NamedUUIDHandle, Stream
from virtcore.results import StoragePoolInfo, StorageVolInfo

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["StoragePool", "StorageVol"]


class StoragePool(NamedUUIDHandle):
    """A storage pool."""

    _table = "storage"
    __slots__ = ()

    def create(self, flags: int = 0) -> None:
        """Start the pool (``virStoragePoolCreate``)."""
        self._call("storage_pool_create", "virStoragePoolCreate", flags, write=True)

    def build(self, flags: int = 0) -> None:
        """Build the pool's underlying storage (``virStoragePoolBuild``)."""
        self._call("storage_pool_build", "virStoragePoolBuild", flags, write=True)

    def destroy(self) -> None:
        """Stop the pool (``virStoragePoolDestroy``)."""
        self._call("storage_pool_destroy", "virStoragePoolDestroy", write=True)

    def delete(self, flags: int = 0) -> None:
        """Delete the pool's underlying storage (``virStoragePoolDelete``)."""
        self._call("storage_pool_delete", "virStoragePoolDelete", flags, write=True)

    def undefine(self) -> None:
        """Remove the persistent config (``virStoragePoolUndefine``)."""
        self._call("storage_pool_undefine", "virStoragePoolUndefine", write=True)

    def refresh(self, flags: int = 0) -> None:
        """Rescan volumes (``virStoragePoolRefresh``)."""
        self._call("storage_pool_refresh", "virStoragePoolRefresh", flags, write=True)

    def info(self) -> StoragePoolInfo:
        """State and sizes (``virStoragePoolGetInfo``)."""
        return StoragePoolInfo(*self._call("storage_pool_get_info", "virStoragePoolGetInfo"))

    def xml_desc(self, flags: int = 0) -> str:
        """Pool XML (``virStoragePoolGetXMLDesc``)."""
        result: str = self._call("storage_pool_get_xml_desc", "virStoragePoolGetXMLDesc", flags)
        return result

    def is_active(self) -> bool:
        """Whether the pool is running (``virStoragePoolIsActive``)."""
        return bool(self._call("storage_pool_is_active", "virStoragePoolIsActive"))

    def is_persistent(self) -> bool:
        """Whether the pool is defined (``virStoragePoolIsPersistent``)."""
        return bool(self._call("storage_pool_is_persistent", "virStoragePoolIsPersistent"))

    def get_autostart(self) -> bool:
        """Autostart flag (``virStoragePoolGetAutostart``)."""
        return bool(self._call("storage_pool_get_autostart", "virStoragePoolGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Set the autostart flag (``virStoragePoolSetAutostart``)."""
        self._call(
            "storage_pool_set_autostart", "virStoragePoolSetAutostart", bool(autostart), write=True
        )

    def list_all_volumes(self, flags: int = 0) -> list[StorageVol]:
        """Every volume (``virStoragePoolListAllVolumes``)."""
        return list(
            self._call("storage_pool_list_all_volumes", "virStoragePoolListAllVolumes", flags)
        )

    def vol_lookup_by_name(self, name: str) -> StorageVol:
        """Find a volume by name (``virStorageVolLookupByName``)."""
        result: StorageVol = self._call(
            "storage_vol_lookup_by_name", "virStorageVolLookupByName", name
        )
        return result

    def vol_create_xml(self, xml: str, flags: int = 0) -> StorageVol:
        """Create a volume (``virStorageVolCreateXML``)."""
        result: StorageVol = self._call(
            "storage_vol_create_xml", "virStorageVolCreateXML", xml, flags, write=True
        )
        return result

    def vol_create_xml_from(self, xml: str, clonevol: StorageVol, flags: int = 0) -> StorageVol:
        """Create a volume as a copy of *clonevol* (``virStorageVolCreateXMLFrom``)."""
        result: StorageVol = self._call(
            "storage_vol_create_xml_from",
            "virStorageVolCreateXMLFrom",
            xml,
            clonevol,
            flags,
            write=True,
        )
        return result

    def num_of_volumes(self) -> int:
        """Number of volumes (``virStoragePoolNumOfVolumes``)."""
        result: int = self._call("storage_pool_num_of_volumes", "virStoragePoolNumOfVolumes")
        return result

    def list_volumes(self) -> list[str]:
        """Volume names (``virStoragePoolListVolumes``)."""
        return list(self._call("storage_pool_list_volumes", "virStoragePoolListVolumes"))


class StorageVol(Handle):
    """A storage volume: pool name, volume name and key (usually the path)."""

    _table = "storage"
    __slots__ = ("_key_", "_name", "_pool")

    def __init__(self, conn: Connection, pool: str, name: str, key: str) -> None:
        super().__init__(conn)
        self._pool = pool
        self._name = name
        self._key_ = key

    def _key(self) -> tuple[Any, ...]:
        return (self._pool, self._name, self._key_)

    @property
    def name(self) -> str:
        """The volume's name."""
        return self._name

    @property
    def key(self) -> str:
        """The volume's unique key."""
        return self._key_

    @property
    def pool_name(self) -> str:
        """Name of the pool holding the volume."""
        return self._pool

    def info(self) -> StorageVolInfo:
        """Type and sizes (``virStorageVolGetInfo``)."""
        return StorageVolInfo(*self._call("storage_vol_get_info", "virStorageVolGetInfo"))

    def xml_desc(self, flags: int = 0) -> str:
        """Volume XML (``virStorageVolGetXMLDesc``)."""
        result: str = self._call("storage_vol_get_xml_desc", "virStorageVolGetXMLDesc", flags)
        return result

    def path(self) -> str:
        """The volume's path (``virStorageVolGetPath``)."""
        result: str = self._call("storage_vol_get_path", "virStorageVolGetPath")
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the volume (``virStorageVolDelete``)."""
        self._call("storage_vol_delete", "virStorageVolDelete", flags, write=True)

    def info_flags(self, flags: int = 0) -> StorageVolInfo:
        """Type and sizes, optionally the physical size (``virStorageVolGetInfoFlags``)."""
        return StorageVolInfo(
            *self._call("storage_vol_get_info_flags", "virStorageVolGetInfoFlags", flags)
        )

    def storage_pool_lookup_by_volume(self) -> StoragePool:
        """The pool holding the volume (``virStoragePoolLookupByVolume``)."""
        result: StoragePool = self._call(
            "storage_pool_lookup_by_volume", "virStoragePoolLookupByVolume"
        )
        return result

    def wipe(self, flags: int = 0) -> None:
        """Overwrite the volume's data (``virStorageVolWipe``)."""
        self._call("storage_vol_wipe", "virStorageVolWipe", flags, write=True)

    def wipe_pattern(self, algorithm: int, flags: int = 0) -> None:
        """Wipe with a ``StorageVolWipeAlgorithm`` (``virStorageVolWipePattern``)."""
        self._call(
            "storage_vol_wipe_pattern", "virStorageVolWipePattern", algorithm, flags, write=True
        )

    def resize(self, capacity: int, flags: int = 0) -> None:
        """Change the capacity; *flags* are ``StorageVolResizeFlags`` (``virStorageVolResize``)."""
        self._call("storage_vol_resize", "virStorageVolResize", capacity, flags, write=True)

    def upload(self, stream: Stream, offset: int = 0, length: int = 0, flags: int = 0) -> None:
        """Bind *stream* to write the volume from *offset* (``virStorageVolUpload``).

        Send the data with :meth:`Stream.send`, then :meth:`Stream.finish`;
        *length* 0 means no limit.
        """
        self._call(
            "storage_vol_upload", "virStorageVolUpload", stream, offset, length, flags, write=True
        )

    def download(self, stream: Stream, offset: int = 0, length: int = 0, flags: int = 0) -> None:
        """Bind *stream* to read the volume from *offset* (``virStorageVolDownload``).

        Read with :meth:`Stream.recv` until it returns ``b""``; *length* 0
        means to the end of the volume.
        """
        self._call(
            "storage_vol_download",
            "virStorageVolDownload",
            stream,
            offset,
            length,
            flags,
            write=True,
        )
