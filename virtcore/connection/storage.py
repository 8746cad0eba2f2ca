"""Connection calls for storage pools and volumes."""

from __future__ import annotations

from virtcore.connection.base import CallsBase
from virtcore.objects import StoragePool, StorageVol

__all__ = ["StorageCalls"]


class StorageCalls(CallsBase):
    """Connection calls for storage pools and volumes."""

    __slots__ = ()

    def get_storage_pool_capabilities(self, flags: int = 0) -> str:
        """The storage pool types the storage driver supports, as the
        ``<storagepoolCapabilities>`` document (``virConnectGetStoragePoolCapabilities``).
        """
        result: str = self._invoke(
            "storage",
            "connect_get_storage_pool_capabilities",
            "virConnectGetStoragePoolCapabilities",
            flags,
        )
        return result

    def list_all_storage_pools(self, flags: int = 0) -> list[StoragePool]:
        """Pools matching the filter flags (``virConnectListAllStoragePools``)."""
        return list(
            self._invoke(
                "storage", "connect_list_all_storage_pools", "virConnectListAllStoragePools", flags
            )
        )

    def list_storage_pools(self) -> list[str]:
        """Names of running pools (``virConnectListStoragePools``)."""
        return list(
            self._invoke("storage", "connect_list_storage_pools", "virConnectListStoragePools")
        )

    def list_defined_storage_pools(self) -> list[str]:
        """Names of inactive pools (``virConnectListDefinedStoragePools``)."""
        return list(
            self._invoke(
                "storage",
                "connect_list_defined_storage_pools",
                "virConnectListDefinedStoragePools",
            )
        )

    def num_of_storage_pools(self) -> int:
        """Number of running pools (``virConnectNumOfStoragePools``)."""
        result: int = self._invoke(
            "storage", "connect_num_of_storage_pools", "virConnectNumOfStoragePools"
        )
        return result

    def num_of_defined_storage_pools(self) -> int:
        """Number of inactive pools (``virConnectNumOfDefinedStoragePools``)."""
        result: int = self._invoke(
            "storage",
            "connect_num_of_defined_storage_pools",
            "virConnectNumOfDefinedStoragePools",
        )
        return result

    def storage_pool_lookup_by_name(self, name: str) -> StoragePool:
        """Find a pool (``virStoragePoolLookupByName``)."""
        result: StoragePool = self._invoke(
            "storage", "storage_pool_lookup_by_name", "virStoragePoolLookupByName", name
        )
        return result

    def storage_pool_lookup_by_uuid(self, uuid: str) -> StoragePool:
        """Find a pool by UUID string (``virStoragePoolLookupByUUIDString``)."""
        result: StoragePool = self._invoke(
            "storage", "storage_pool_lookup_by_uuid", "virStoragePoolLookupByUUID", uuid
        )
        return result

    def storage_pool_lookup_by_target_path(self, path: str) -> StoragePool:
        """Find the pool whose target is *path* (``virStoragePoolLookupByTargetPath``)."""
        result: StoragePool = self._invoke(
            "storage",
            "storage_pool_lookup_by_target_path",
            "virStoragePoolLookupByTargetPath",
            path,
        )
        return result

    def storage_pool_define_xml(self, xml: str, flags: int = 0) -> StoragePool:
        """Define a persistent pool (``virStoragePoolDefineXML``)."""
        result: StoragePool = self._invoke(
            "storage",
            "storage_pool_define_xml",
            "virStoragePoolDefineXML",
            xml,
            flags,
            write=True,
        )
        return result

    def storage_pool_create_xml(self, xml: str, flags: int = 0) -> StoragePool:
        """Start a transient pool (``virStoragePoolCreateXML``)."""
        result: StoragePool = self._invoke(
            "storage",
            "storage_pool_create_xml",
            "virStoragePoolCreateXML",
            xml,
            flags,
            write=True,
        )
        return result

    def storage_vol_lookup_by_key(self, key: str) -> StorageVol:
        """Find a volume of a running pool by key (``virStorageVolLookupByKey``)."""
        result: StorageVol = self._invoke(
            "storage", "storage_vol_lookup_by_key", "virStorageVolLookupByKey", key
        )
        return result

    def storage_vol_lookup_by_path(self, path: str) -> StorageVol:
        """Find a volume of a running pool by path (``virStorageVolLookupByPath``)."""
        result: StorageVol = self._invoke(
            "storage", "storage_vol_lookup_by_path", "virStorageVolLookupByPath", path
        )
        return result

    def find_storage_pool_sources(
        self, pool_type: str, src_spec: str | None = None, flags: int = 0
    ) -> str:
        """Discover pool sources of a type, as XML (``virConnectFindStoragePoolSources``)."""
        result: str = self._invoke(
            "storage",
            "connect_find_storage_pool_sources",
            "virConnectFindStoragePoolSources",
            pool_type,
            src_spec,
            flags,
        )
        return result
