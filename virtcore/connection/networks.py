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

    def list_networks(self) -> list[str]:
        """Names of running networks (``virConnectListNetworks``)."""
        return list(self._invoke("network", "connect_list_networks", "virConnectListNetworks"))

    def list_defined_networks(self) -> list[str]:
        """Names of inactive networks (``virConnectListDefinedNetworks``)."""
        return list(
            self._invoke(
                "network", "connect_list_defined_networks", "virConnectListDefinedNetworks"
            )
        )

    def num_of_networks(self) -> int:
        """Number of running networks (``virConnectNumOfNetworks``)."""
        result: int = self._invoke("network", "connect_num_of_networks", "virConnectNumOfNetworks")
        return result

    def num_of_defined_networks(self) -> int:
        """Number of inactive networks (``virConnectNumOfDefinedNetworks``)."""
        result: int = self._invoke(
            "network", "connect_num_of_defined_networks", "virConnectNumOfDefinedNetworks"
        )
        return result

    def network_lookup_by_name(self, name: str) -> Network:
        """Find a network (``virNetworkLookupByName``)."""
        result: Network = self._invoke(
            "network", "network_lookup_by_name", "virNetworkLookupByName", name
        )
        return result

    def network_lookup_by_uuid(self, uuid: str) -> Network:
        """Find a network by UUID string (``virNetworkLookupByUUIDString``)."""
        result: Network = self._invoke(
            "network", "network_lookup_by_uuid", "virNetworkLookupByUUID", uuid
        )
        return result

    def network_define_xml(self, xml: str, flags: int = 0) -> Network:
        """Define a persistent network (``virNetworkDefineXMLFlags``)."""
        result: Network = self._invoke(
            "network",
            "network_define_xml_flags",
            "virNetworkDefineXMLFlags" if flags else "virNetworkDefineXML",
            xml,
            flags,
            write=True,
        )
        return result

    def network_create_xml(self, xml: str, flags: int = 0) -> Network:
        """Start a network, transient unless defined (``virNetworkCreateXMLFlags``)."""
        result: Network = self._invoke(
            "network",
            "network_create_xml_flags",
            "virNetworkCreateXMLFlags" if flags else "virNetworkCreateXML",
            xml,
            flags,
            write=True,
        )
        return result
