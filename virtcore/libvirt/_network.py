"""``virNetwork``, ``virNetworkPort`` and ``virInterface``: virtual networks and host interfaces."""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802, N803

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.libvirt._base import Wrapped, status, uuid_bytes, uuid_str

if TYPE_CHECKING:
    from virtcore.libvirt._connect import virConnect

__all__ = ["virInterface", "virNetwork", "virNetworkPort"]


class virNetwork(Wrapped):
    """A virtual network (libvirt-python's ``virNetwork``)."""

    _kind = "network"

    def name(self) -> str:
        """The network's name (``virNetworkGetName``)."""
        name: str = self._o.name
        return name

    def UUID(self) -> bytes:
        """The UUID as 16 raw bytes (``virNetworkGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The UUID in text form (``virNetworkGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def DHCPLeases(self, mac: str | None = None, flags: int = 0) -> list[Any]:
        """Returns a list of dhcp leases for interfaces connected to the given virtual network
        (``virNetworkGetDHCPLeases``).
        """
        return list(self._call("network_get_dhcp_leases", "virNetworkGetDHCPLeases", mac, flags))

    def XMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the network (``virNetworkGetXMLDesc``)."""
        result: str = self._call("network_get_xml_desc", "virNetworkGetXMLDesc", flags)
        return result

    def autostart(self) -> int:
        """Extract the autostart flag for a network (``virNetworkGetAutostart``)."""
        return status(self._call("network_get_autostart", "virNetworkGetAutostart"))

    def bridgeName(self) -> str:
        """Provides a bridge interface name to which a domain may connect a network interface in
        order to join the network (``virNetworkGetBridgeName``).
        """
        result: str = self._call("network_get_bridge_name", "virNetworkGetBridgeName")
        return result

    def create(self) -> int:
        """Create and start a defined network (``virNetworkCreate``)."""
        return status(self._call("network_create", "virNetworkCreate", write=True))

    def destroy(self) -> int:
        """Destroy the network object (``virNetworkDestroy``)."""
        return status(self._call("network_destroy", "virNetworkDestroy", write=True))

    def isActive(self) -> int:
        """Determine if the network is currently running (``virNetworkIsActive``)."""
        return status(self._call("network_is_active", "virNetworkIsActive"))

    def isPersistent(self) -> int:
        """Determine if the network has a persistent configuration which means it will still exist
        after shutting down (``virNetworkIsPersistent``).
        """
        return status(self._call("network_is_persistent", "virNetworkIsPersistent"))

    def portCreateXML(self, xmldesc: str, flags: int = 0) -> virNetworkPort:
        """``virNetworkPortCreateXML``."""
        return virNetworkPort(
            self,
            _obj=self._call(
                "network_port_create_xml", "virNetworkPortCreateXML", xmldesc, flags, write=True
            ),
        )

    def portLookupByUUID(self, uuid: bytes) -> virNetworkPort:
        """Try to lookup a port on the given network based on its UUID
        (``virNetworkPortLookupByUUID``).
        """
        return virNetworkPort(
            self,
            _obj=self._call(
                "network_port_lookup_by_uuid", "virNetworkPortLookupByUUID", uuid_str(uuid)
            ),
        )

    def portLookupByUUIDString(self, uuidstr: str) -> virNetworkPort:
        """Try to lookup a port on the given network based on its UUID
        (``virNetworkPortLookupByUUIDString``).
        """
        return virNetworkPort(
            self,
            _obj=self._call(
                "network_port_lookup_by_uuid", "virNetworkPortLookupByUUIDString", uuidstr
            ),
        )

    def setAutostart(self, autostart: int) -> int:
        """Configure the network to be automatically started when the host machine boots
        (``virNetworkSetAutostart``).
        """
        return status(
            self._call("network_set_autostart", "virNetworkSetAutostart", autostart, write=True)
        )

    def undefine(self) -> int:
        """Undefine a network but does not stop it if it is running (``virNetworkUndefine``)."""
        return status(self._call("network_undefine", "virNetworkUndefine", write=True))

    def update(self, command: int, section: int, parentIndex: int, xml: str, flags: int = 0) -> int:
        """Update the definition of an existing network, either its live running state, its
        persistent configuration, or both (``virNetworkUpdate``).
        """
        return status(
            self._call(
                "network_update",
                "virNetworkUpdate",
                command,
                section,
                parentIndex,
                xml,
                flags,
                write=True,
            )
        )

    def listAllPorts(self, flags: int = 0) -> list[virNetworkPort]:
        """List all ports on the network and returns a list of network port objects
        (``virNetworkListAllPorts``).
        """
        return [
            virNetworkPort(self, _obj=o)
            for o in self._call("network_list_all_ports", "virNetworkListAllPorts", flags)
        ]


class virNetworkPort(Wrapped):
    """A port of a virtual network (libvirt-python's ``virNetworkPort``)."""

    _kind = "network"

    def __init__(self, net: virNetwork, _obj: Any = None) -> None:
        self._net = net
        self._bind(net._conn, _obj)

    def network(self) -> virNetwork:
        """The network the port belongs to."""
        return self._net

    def connect(self) -> virConnect:
        """The connection of the port's network."""
        conn: virConnect = self._net._conn
        return conn

    def UUID(self) -> bytes:
        """The port's UUID as 16 raw bytes (``virNetworkPortGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The port's UUID in text form (``virNetworkPortGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def XMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the network port (``virNetworkPortGetXMLDesc``)."""
        result: str = self._call("network_port_get_xml_desc", "virNetworkPortGetXMLDesc", flags)
        return result

    def delete(self, flags: int = 0) -> int:
        """Delete the network port (``virNetworkPortDelete``)."""
        return status(self._call("network_port_delete", "virNetworkPortDelete", flags, write=True))

    def parameters(self, flags: int = 0) -> dict[str, Any]:
        """Get the port parameters (``virNetworkPortGetParameters``)."""
        return dict(self._call("network_port_get_parameters", "virNetworkPortGetParameters", flags))

    def setParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the port tunables (``virNetworkPortSetParameters``)."""
        return status(
            self._call(
                "network_port_set_parameters",
                "virNetworkPortSetParameters",
                params,
                flags,
                write=True,
            )
        )


class virInterface(Wrapped):
    """A host network interface (libvirt-python's ``virInterface``)."""

    _kind = "interface"

    def name(self) -> str:
        """The interface's name (``virInterfaceGetName``)."""
        name: str = self._o.name
        return name

    def MACString(self) -> str:
        """The MAC address (``virInterfaceGetMACString``)."""
        mac: str = self._o.mac
        return mac

    def XMLDesc(self, flags: int = 0) -> str:
        """``virInterfaceGetXMLDesc``."""
        result: str = self._call("interface_get_xml_desc", "virInterfaceGetXMLDesc", flags)
        return result

    def create(self, flags: int = 0) -> int:
        """Activate an interface (i.e (``virInterfaceCreate``)."""
        return status(self._call("interface_create", "virInterfaceCreate", flags, write=True))

    def destroy(self, flags: int = 0) -> int:
        """``virInterfaceDestroy``."""
        return status(self._call("interface_destroy", "virInterfaceDestroy", flags, write=True))

    def isActive(self) -> int:
        """Determine if the interface is currently running (``virInterfaceIsActive``)."""
        return status(self._call("interface_is_active", "virInterfaceIsActive"))

    def undefine(self) -> int:
        """Undefine an interface, ie remove it from the config (``virInterfaceUndefine``)."""
        return status(self._call("interface_undefine", "virInterfaceUndefine", write=True))
