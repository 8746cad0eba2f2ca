"""Network handles: virtual networks and their ports."""

from __future__ import annotations

from typing import Any

from virtcore.objects.base import Handle, NamedUUIDHandle
from virtcore.results import NetworkDHCPLease

__all__ = ["Network", "NetworkPort"]


class Network(NamedUUIDHandle):
    """A virtual network."""

    _table = "network"
    __slots__ = ()

    def create(self) -> None:
        """Start the network (``virNetworkCreate``)."""
        self._call("network_create", "virNetworkCreate", write=True)

    def destroy(self) -> None:
        """Stop the network (``virNetworkDestroy``)."""
        self._call("network_destroy", "virNetworkDestroy", write=True)

    def undefine(self) -> None:
        """Remove the persistent config (``virNetworkUndefine``)."""
        self._call("network_undefine", "virNetworkUndefine", write=True)

    def update(
        self, command: int, section: int, parent_index: int, xml: str, flags: int = 0
    ) -> None:
        """Change one section of the definition (``virNetworkUpdate``).

        *command* is a ``NetworkUpdateCommand``, *section* a
        ``NetworkUpdateSection``; *parent_index* picks the ``<ip>`` a DHCP
        entry belongs to (-1: the one serving DHCP); *flags* are
        ``NetworkUpdateFlags`` (``CURRENT``, ``LIVE``, ``CONFIG``).
        """
        self._call(
            "network_update",
            "virNetworkUpdate",
            command,
            section,
            parent_index,
            xml,
            flags,
            write=True,
        )

    def xml_desc(self, flags: int = 0) -> str:
        """Network XML (``virNetworkGetXMLDesc``)."""
        result: str = self._call("network_get_xml_desc", "virNetworkGetXMLDesc", flags)
        return result

    def is_active(self) -> bool:
        """Whether the network is running (``virNetworkIsActive``)."""
        return bool(self._call("network_is_active", "virNetworkIsActive"))

    def is_persistent(self) -> bool:
        """Whether the network is defined (``virNetworkIsPersistent``)."""
        return bool(self._call("network_is_persistent", "virNetworkIsPersistent"))

    def get_autostart(self) -> bool:
        """Autostart flag (``virNetworkGetAutostart``)."""
        return bool(self._call("network_get_autostart", "virNetworkGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Set the autostart flag (``virNetworkSetAutostart``)."""
        self._call("network_set_autostart", "virNetworkSetAutostart", bool(autostart), write=True)

    def bridge_name(self) -> str:
        """The host bridge (``virNetworkGetBridgeName``)."""
        result: str = self._call("network_get_bridge_name", "virNetworkGetBridgeName")
        return result

    def dhcp_leases(self, mac: str | None = None, flags: int = 0) -> list[NetworkDHCPLease]:
        """Leases of the network's DHCP server, all or one MAC's (``virNetworkGetDHCPLeases``)."""
        leases = self._call("network_get_dhcp_leases", "virNetworkGetDHCPLeases", mac, flags)
        return [NetworkDHCPLease(**lease) for lease in leases]

    def list_all_ports(self, flags: int = 0) -> list[NetworkPort]:
        """The network's ports (``virNetworkListAllPorts``)."""
        return list(self._call("network_list_all_ports", "virNetworkListAllPorts", flags))

    def port_lookup_by_uuid(self, uuid: str) -> NetworkPort:
        """Find a port by UUID string (``virNetworkPortLookupByUUIDString``)."""
        result: NetworkPort = self._call(
            "network_port_lookup_by_uuid", "virNetworkPortLookupByUUID", uuid
        )
        return result

    def port_create_xml(self, xml: str, flags: int = 0) -> NetworkPort:
        """Create a port from a ``<networkport>`` document (``virNetworkPortCreateXML``)."""
        result: NetworkPort = self._call(
            "network_port_create_xml", "virNetworkPortCreateXML", xml, flags, write=True
        )
        return result


class NetworkPort(Handle):
    """A port of a virtual network."""

    _table = "network"
    __slots__ = ("_network", "_uuid")

    def __init__(self, network: Network, uuid: str) -> None:
        super().__init__(network.connection)
        self._network = network
        self._uuid = uuid

    def _key(self) -> tuple[Any, ...]:
        return (self._network.uuid, self._uuid)

    @property
    def uuid(self) -> str:
        """The port's UUID."""
        return self._uuid

    @property
    def network(self) -> Network:
        """The network the port belongs to."""
        return self._network

    def xml_desc(self, flags: int = 0) -> str:
        """Port XML (``virNetworkPortGetXMLDesc``)."""
        result: str = self._call("network_port_get_xml_desc", "virNetworkPortGetXMLDesc", flags)
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the port (``virNetworkPortDelete``)."""
        self._call("network_port_delete", "virNetworkPortDelete", flags, write=True)

    def get_parameters(self, flags: int = 0) -> dict[str, int]:
        """Bandwidth limits such as ``inbound.average`` (``virNetworkPortGetParameters``)."""
        return dict(self._call("network_port_get_parameters", "virNetworkPortGetParameters", flags))

    def set_parameters(self, params: dict[str, int], flags: int = 0) -> None:
        """Change bandwidth limits; 0 removes one (``virNetworkPortSetParameters``)."""
        self._call(
            "network_port_set_parameters",
            "virNetworkPortSetParameters",
            dict(params),
            flags,
            write=True,
        )
