"""Connection calls for virtual networks."""

from __future__ import annotations

from virtcore.connection.base import CallsBase
from virtcore.objects import Network

__all__ = ["NetworkCalls"]


class NetworkCalls(CallsBase):
    """Connection calls for virtual networks."""

    __slots__ = ()

    def list_all_networks(self, flags: int = 0) -> list[Network]:
        """Networks matching the filter flags (``virConnectListAllNetworks``)."""
        return list(
            self._invoke("network", "connect_list_all_networks", "virConnectListAllNetworks", flags)
        )

    def network_lookup_by_name(self, name: str) -> Network:
        """Find a network (``virNetworkLookupByName``)."""
        result: Network = self._invoke(
            "network", "network_lookup_by_name", "virNetworkLookupByName", name
        )
        return result

    def network_define_xml(self, xml: str, flags: int = 0) -> Network:
        """Define a persistent network (``virNetworkDefineXMLFlags``)."""
        result: Network = self._invoke(
            "network",
            "network_define_xml_flags",
            "virNetworkDefineXMLFlags",
            xml,
            flags,
            write=True,
        )
        return result
