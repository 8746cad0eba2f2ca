"""Connection calls for storage pools and volumes."""

from __future__ import annotations

from virtcore.connection.base import CallsBase
from virtcore.objects import StoragePool

__all__ = ["StorageCalls"]


class StorageCalls(CallsBase):
    """Connection calls for storage pools and volumes."""

    __slots__ = ()

    def list_all_storage_pools(self, flags: int = 0) -> list[StoragePool]:
        """Pools matching the filter flags (``virConnectListAllStoragePools``)."""
        return list(
            self._invoke(
                "storage", "connect_list_all_storage_pools", "virConnectListAllStoragePools", flags
            )
        )

    def storage_pool_lookup_by_name(self, name: str) -> StoragePool:
        """Find a pool (``virStoragePoolLookupByName``)."""
        result: StoragePool = self._invoke(
            "storage", "storage_pool_lookup_by_name", "virStoragePoolLookupByName", name
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
