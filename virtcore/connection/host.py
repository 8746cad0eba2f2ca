"""Connection calls for node devices, secrets, network filters and interfaces."""

from __future__ import annotations

from virtcore.connection.base import CallsBase
from virtcore.objects import Interface, NodeDevice, NWFilter, NWFilterBinding, Secret

__all__ = ["HostObjectCalls"]


class HostObjectCalls(CallsBase):
    """Connection calls for node devices, secrets, network filters and interfaces."""

    __slots__ = ()

    # -- node devices -------------------------------------------------------------------

    def list_all_node_devices(self, flags: int = 0) -> list[NodeDevice]:
        """Host devices (``virConnectListAllNodeDevices``)."""
        return list(
            self._invoke(
                "nodedev", "connect_list_all_node_devices", "virConnectListAllNodeDevices", flags
            )
        )

    def list_devices(self, cap: str | None = None, flags: int = 0) -> list[str]:
        """Names of devices with capability *cap*, all without (``virNodeListDevices``).

        Like libvirt-python's ``listDevices``, this counts the devices first,
        so a bad flag is reported by ``virNodeNumOfDevices``.
        """
        self._invoke("nodedev", "node_num_of_devices", "virNodeNumOfDevices", cap, flags)
        return list(self._invoke("nodedev", "node_list_devices", "virNodeListDevices", cap, flags))

    def num_of_devices(self, cap: str | None = None, flags: int = 0) -> int:
        """Number of devices with capability *cap*, all without (``virNodeNumOfDevices``)."""
        result: int = self._invoke(
            "nodedev", "node_num_of_devices", "virNodeNumOfDevices", cap, flags
        )
        return result

    def node_device_lookup_by_name(self, name: str) -> NodeDevice:
        """Find a host device (``virNodeDeviceLookupByName``)."""
        result: NodeDevice = self._invoke(
            "nodedev", "node_device_lookup_by_name", "virNodeDeviceLookupByName", name
        )
        return result

    def node_device_create_xml(self, xml: str, flags: int = 0) -> NodeDevice:
        """Create a device such as a vHBA (``virNodeDeviceCreateXML``)."""
        result: NodeDevice = self._invoke(
            "nodedev", "node_device_create_xml", "virNodeDeviceCreateXML", xml, flags, write=True
        )
        return result

    # -- secrets --------------------------------------------------------------------------

    def list_all_secrets(self, flags: int = 0) -> list[Secret]:
        """Secrets (``virConnectListAllSecrets``)."""
        return list(
            self._invoke("secret", "connect_list_all_secrets", "virConnectListAllSecrets", flags)
        )

    def list_secrets(self) -> list[str]:
        """UUIDs of the secrets (``virConnectListSecrets``)."""
        return list(self._invoke("secret", "connect_list_secrets", "virConnectListSecrets"))

    def num_of_secrets(self) -> int:
        """Number of secrets (``virConnectNumOfSecrets``)."""
        result: int = self._invoke("secret", "connect_num_of_secrets", "virConnectNumOfSecrets")
        return result

    def secret_lookup_by_uuid(self, uuid: str) -> Secret:
        """Find a secret (``virSecretLookupByUUID``)."""
        result: Secret = self._invoke(
            "secret", "secret_lookup_by_uuid", "virSecretLookupByUUID", uuid
        )
        return result

    def secret_lookup_by_usage(self, usage_type: int, usage_id: str) -> Secret:
        """Find the secret for a usage, e.g. a volume path (``virSecretLookupByUsage``)."""
        result: Secret = self._invoke(
            "secret", "secret_lookup_by_usage", "virSecretLookupByUsage", usage_type, usage_id
        )
        return result

    def secret_define_xml(self, xml: str, flags: int = 0) -> Secret:
        """Define a secret (``virSecretDefineXML``)."""
        result: Secret = self._invoke(
            "secret", "secret_define_xml", "virSecretDefineXML", xml, flags, write=True
        )
        return result

    # -- network filters --------------------------------------------------------------------

    def list_all_nwfilters(self, flags: int = 0) -> list[NWFilter]:
        """Network filters (``virConnectListAllNWFilters``)."""
        return list(
            self._invoke(
                "nwfilter", "connect_list_all_nwfilters", "virConnectListAllNWFilters", flags
            )
        )

    def list_nwfilters(self) -> list[str]:
        """Names of the network filters (``virConnectListNWFilters``)."""
        return list(self._invoke("nwfilter", "connect_list_nwfilters", "virConnectListNWFilters"))

    def num_of_nwfilters(self) -> int:
        """Number of network filters (``virConnectNumOfNWFilters``)."""
        result: int = self._invoke(
            "nwfilter", "connect_num_of_nwfilters", "virConnectNumOfNWFilters"
        )
        return result

    def nwfilter_lookup_by_name(self, name: str) -> NWFilter:
        """Find a network filter (``virNWFilterLookupByName``)."""
        result: NWFilter = self._invoke(
            "nwfilter", "nwfilter_lookup_by_name", "virNWFilterLookupByName", name
        )
        return result

    def nwfilter_lookup_by_uuid(self, uuid: str) -> NWFilter:
        """Find a network filter by UUID string (``virNWFilterLookupByUUIDString``)."""
        result: NWFilter = self._invoke(
            "nwfilter", "nwfilter_lookup_by_uuid", "virNWFilterLookupByUUID", uuid
        )
        return result

    def nwfilter_define_xml(self, xml: str, flags: int = 0) -> NWFilter:
        """Define or redefine a network filter (``virNWFilterDefineXMLFlags``)."""
        result: NWFilter = self._invoke(
            "nwfilter",
            "nwfilter_define_xml_flags",
            "virNWFilterDefineXMLFlags" if flags else "virNWFilterDefineXML",
            xml,
            flags,
            write=True,
        )
        return result

    def list_all_nwfilter_bindings(self, flags: int = 0) -> list[NWFilterBinding]:
        """Filter bindings (``virConnectListAllNWFilterBindings``)."""
        return list(
            self._invoke(
                "nwfilter",
                "connect_list_all_nwfilter_bindings",
                "virConnectListAllNWFilterBindings",
                flags,
            )
        )

    def nwfilter_binding_lookup_by_port_dev(self, portdev: str) -> NWFilterBinding:
        """Find the binding of a port device (``virNWFilterBindingLookupByPortDev``)."""
        result: NWFilterBinding = self._invoke(
            "nwfilter",
            "nwfilter_binding_lookup_by_port_dev",
            "virNWFilterBindingLookupByPortDev",
            portdev,
        )
        return result

    def nwfilter_binding_create_xml(self, xml: str, flags: int = 0) -> NWFilterBinding:
        """Bind a port device to a filter (``virNWFilterBindingCreateXML``)."""
        result: NWFilterBinding = self._invoke(
            "nwfilter",
            "nwfilter_binding_create_xml",
            "virNWFilterBindingCreateXML",
            xml,
            flags,
            write=True,
        )
        return result

    # -- host interfaces --------------------------------------------------------------------

    def list_all_interfaces(self, flags: int = 0) -> list[Interface]:
        """Host interfaces (``virConnectListAllInterfaces``)."""
        return list(
            self._invoke(
                "interface", "connect_list_all_interfaces", "virConnectListAllInterfaces", flags
            )
        )

    def list_interfaces(self) -> list[str]:
        """Names of active interfaces (``virConnectListInterfaces``)."""
        return list(
            self._invoke("interface", "connect_list_interfaces", "virConnectListInterfaces")
        )

    def list_defined_interfaces(self) -> list[str]:
        """Names of inactive interfaces (``virConnectListDefinedInterfaces``)."""
        return list(
            self._invoke(
                "interface", "connect_list_defined_interfaces", "virConnectListDefinedInterfaces"
            )
        )

    def num_of_interfaces(self) -> int:
        """Number of active interfaces (``virConnectNumOfInterfaces``)."""
        result: int = self._invoke(
            "interface", "connect_num_of_interfaces", "virConnectNumOfInterfaces"
        )
        return result

    def num_of_defined_interfaces(self) -> int:
        """Number of inactive interfaces (``virConnectNumOfDefinedInterfaces``)."""
        result: int = self._invoke(
            "interface", "connect_num_of_defined_interfaces", "virConnectNumOfDefinedInterfaces"
        )
        return result

    def interface_lookup_by_name(self, name: str) -> Interface:
        """Find a host interface (``virInterfaceLookupByName``)."""
        result: Interface = self._invoke(
            "interface", "interface_lookup_by_name", "virInterfaceLookupByName", name
        )
        return result

    def interface_lookup_by_mac_string(self, mac: str) -> Interface:
        """Find a host interface by MAC address (``virInterfaceLookupByMACString``)."""
        result: Interface = self._invoke(
            "interface", "interface_lookup_by_mac_string", "virInterfaceLookupByMACString", mac
        )
        return result

    def interface_define_xml(self, xml: str, flags: int = 0) -> Interface:
        """Define or redefine a host interface (``virInterfaceDefineXML``)."""
        result: Interface = self._invoke(
            "interface", "interface_define_xml", "virInterfaceDefineXML", xml, flags, write=True
        )
        return result

    def change_begin(self, flags: int = 0) -> None:
        """Start an interface transaction (``virInterfaceChangeBegin``)."""
        self._invoke(
            "interface", "interface_change_begin", "virInterfaceChangeBegin", flags, write=True
        )

    def change_commit(self, flags: int = 0) -> None:
        """Keep the changes made since the transaction began (``virInterfaceChangeCommit``)."""
        self._invoke(
            "interface", "interface_change_commit", "virInterfaceChangeCommit", flags, write=True
        )

    def change_rollback(self, flags: int = 0) -> None:
        """Undo the changes made since the transaction began (``virInterfaceChangeRollback``)."""
        self._invoke(
            "interface",
            "interface_change_rollback",
            "virInterfaceChangeRollback",
            flags,
            write=True,
        )
