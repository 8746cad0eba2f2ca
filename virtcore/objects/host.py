"""Handles of host objects: node devices, secrets, network filters, interfaces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from virtcore.objects.base import Handle, NamedUUIDHandle

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["Interface", "NWFilter", "NWFilterBinding", "NodeDevice", "Secret"]


class NodeDevice(Handle):
    """A host device."""

    _table = "nodedev"
    __slots__ = ("_name",)

    def __init__(self, conn: Connection, name: str) -> None:
        super().__init__(conn)
        self._name = name

    def _key(self) -> tuple[Any, ...]:
        return (self._name,)

    @property
    def name(self) -> str:
        """The device's name."""
        return self._name

    def xml_desc(self, flags: int = 0) -> str:
        """Device XML (``virNodeDeviceGetXMLDesc``)."""
        result: str = self._call("node_device_get_xml_desc", "virNodeDeviceGetXMLDesc", flags)
        return result

    def parent(self) -> str | None:
        """The parent device's name (``virNodeDeviceGetParent``)."""
        result: str | None = self._call("node_device_get_parent", "virNodeDeviceGetParent")
        return result

    def list_caps(self) -> list[str]:
        """Capability names (``virNodeDeviceListCaps``)."""
        return list(self._call("node_device_list_caps", "virNodeDeviceListCaps"))

    def num_of_caps(self) -> int:
        """Number of capabilities (``virNodeDeviceNumOfCaps``)."""
        result: int = self._call("node_device_num_of_caps", "virNodeDeviceNumOfCaps")
        return result

    def is_active(self) -> bool:
        """Whether the device is active (``virNodeDeviceIsActive``)."""
        return bool(self._call("node_device_is_active", "virNodeDeviceIsActive"))

    def is_persistent(self) -> bool:
        """Whether the device has a persistent definition that survives its
        removal (``virNodeDeviceIsPersistent``).
        """
        return bool(self._call("node_device_is_persistent", "virNodeDeviceIsPersistent"))

    def get_autostart(self) -> bool:
        """Whether the device is started with the host or its parent
        (``virNodeDeviceGetAutostart``).
        """
        return bool(self._call("node_device_get_autostart", "virNodeDeviceGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Mark or unmark the device for autostart (``virNodeDeviceSetAutostart``)."""
        self._call(
            "node_device_set_autostart", "virNodeDeviceSetAutostart", bool(autostart), write=True
        )

    def destroy(self) -> None:
        """Destroy the device, e.g. a vHBA (``virNodeDeviceDestroy``)."""
        self._call("node_device_destroy", "virNodeDeviceDestroy", write=True)


class Secret(Handle):
    """A secret, identified by UUID, with a usage type and usage id."""

    _table = "secret"
    __slots__ = ("_usage_id", "_usage_type", "_uuid")

    def __init__(self, conn: Connection, uuid: str, usage_type: int, usage_id: str) -> None:
        super().__init__(conn)
        self._uuid = uuid
        self._usage_type = usage_type
        self._usage_id = usage_id

    def _key(self) -> tuple[Any, ...]:
        return (self._uuid,)

    @property
    def uuid(self) -> str:
        """The UUID in canonical text form."""
        return self._uuid

    @property
    def usage_type(self) -> int:
        """``virSecretUsageType`` value."""
        return self._usage_type

    @property
    def usage_id(self) -> str:
        """What the secret is used for (volume path, ceph name, ...)."""
        return self._usage_id

    def xml_desc(self, flags: int = 0) -> str:
        """Secret XML (``virSecretGetXMLDesc``)."""
        result: str = self._call("secret_get_xml_desc", "virSecretGetXMLDesc", flags)
        return result

    def set_value(self, value: bytes, flags: int = 0) -> None:
        """Store the secret value (``virSecretSetValue``)."""
        self._call("secret_set_value", "virSecretSetValue", bytes(value), flags, write=True)

    def value(self, flags: int = 0) -> bytes:
        """The secret value (``virSecretGetValue``); refused on read-only connections."""
        result: bytes = self._call("secret_get_value", "virSecretGetValue", flags, write=True)
        return result

    def undefine(self) -> None:
        """Delete the secret (``virSecretUndefine``)."""
        self._call("secret_undefine", "virSecretUndefine", write=True)


class NWFilter(NamedUUIDHandle):
    """A network filter."""

    _table = "nwfilter"
    __slots__ = ()

    def xml_desc(self, flags: int = 0) -> str:
        """Filter XML (``virNWFilterGetXMLDesc``)."""
        result: str = self._call("nwfilter_get_xml_desc", "virNWFilterGetXMLDesc", flags)
        return result

    def undefine(self) -> None:
        """Delete the filter (``virNWFilterUndefine``)."""
        self._call("nwfilter_undefine", "virNWFilterUndefine", write=True)


class NWFilterBinding(Handle):
    """A binding of a filter to a port device."""

    _table = "nwfilter"
    __slots__ = ("_filter", "_portdev")

    def __init__(self, conn: Connection, portdev: str, filter_name: str) -> None:
        super().__init__(conn)
        self._portdev = portdev
        self._filter = filter_name

    def _key(self) -> tuple[Any, ...]:
        return (self._portdev,)

    @property
    def port_dev(self) -> str:
        """The port device the filter applies to."""
        return self._portdev

    @property
    def filter_name(self) -> str:
        """The bound filter's name."""
        return self._filter

    def xml_desc(self, flags: int = 0) -> str:
        """Binding XML (``virNWFilterBindingGetXMLDesc``)."""
        result: str = self._call(
            "nwfilter_binding_get_xml_desc", "virNWFilterBindingGetXMLDesc", flags
        )
        return result

    def delete(self) -> None:
        """Remove the binding (``virNWFilterBindingDelete``)."""
        self._call("nwfilter_binding_delete", "virNWFilterBindingDelete", write=True)


class Interface(Handle):
    """A host network interface."""

    _table = "interface"
    __slots__ = ("_mac", "_name")

    def __init__(self, conn: Connection, name: str, mac: str) -> None:
        super().__init__(conn)
        self._name = name
        self._mac = mac

    def _key(self) -> tuple[Any, ...]:
        return (self._name,)

    @property
    def name(self) -> str:
        """The interface's name."""
        return self._name

    @property
    def mac(self) -> str:
        """The MAC address string."""
        return self._mac

    def xml_desc(self, flags: int = 0) -> str:
        """Interface XML (``virInterfaceGetXMLDesc``)."""
        result: str = self._call("interface_get_xml_desc", "virInterfaceGetXMLDesc", flags)
        return result

    def is_active(self) -> bool:
        """Whether the interface is up (``virInterfaceIsActive``)."""
        return bool(self._call("interface_is_active", "virInterfaceIsActive"))

    def create(self, flags: int = 0) -> None:
        """Bring the interface up (``virInterfaceCreate``)."""
        self._call("interface_create", "virInterfaceCreate", flags, write=True)

    def destroy(self, flags: int = 0) -> None:
        """Bring the interface down (``virInterfaceDestroy``)."""
        self._call("interface_destroy", "virInterfaceDestroy", flags, write=True)

    def undefine(self) -> None:
        """Remove the interface definition (``virInterfaceUndefine``)."""
        self._call("interface_undefine", "virInterfaceUndefine", write=True)
