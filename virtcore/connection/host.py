"""Connection calls about the host: node figures, node devices, secrets, network filters
and interfaces.

Node figures (free memory, CPU and memory counters, CPU map, security model,
domain capabilities) check their arguments the way libvirt's public entry
points do before the driver is asked, with the same codes, error domain and
wording ("cpuNum in virNodeGetCPUStats only accepts -1 as a negative value"),
so a driver never sees an argument libvirt would have refused. A driver
without the call raises NO_SUPPORT naming the libvirt API.
"""

from __future__ import annotations

from virtcore.connection.base import CallsBase, invalid_arg
from virtcore.enums.errors import ErrorDomain
from virtcore.objects import Interface, NodeDevice, NWFilter, NWFilterBinding, Secret
from virtcore.objects.domain_config import cpumap_to_bools
from virtcore.results import HostCPUMap, SecurityModel

# HostCPUMap and SecurityModel live in virtcore.results; re-exported for existing imports.
__all__ = ["ALL_CELLS", "ALL_CPUS", "HostCPUMap", "HostObjectCalls", "SecurityModel"]

ALL_CPUS = -1
"""``VIR_NODE_CPU_STATS_ALL_CPUS``: :meth:`HostObjectCalls.get_cpu_stats` for the whole host."""

ALL_CELLS = -1
"""``VIR_NODE_MEMORY_STATS_ALL_CELLS``: :meth:`HostObjectCalls.get_memory_stats` for all cells."""


class HostObjectCalls(CallsBase):
    """Connection calls about the host and its devices, secrets, filters and interfaces."""

    __slots__ = ()

    # -- node figures -------------------------------------------------------------------

    def get_free_memory(self) -> int:
        """Free host memory in bytes (``virNodeGetFreeMemory``)."""
        result = self._hv("node_get_free_memory", "virNodeGetFreeMemory")
        return int(result)

    def get_cells_free_memory(self, start_cell: int, max_cells: int) -> list[int]:
        """Free memory in bytes of NUMA cells ``start_cell`` onwards, at most *max_cells* of
        them (``virNodeGetCellsFreeMemory``); fewer when the host has fewer cells.
        """
        api = "virNodeGetCellsFreeMemory"
        self._check_open(api, ErrorDomain.DOMAIN)
        if max_cells <= 0:
            text = f"maxCells in {api} must be greater than zero"
            raise invalid_arg(api, "maxCells", text, ErrorDomain.DOMAIN)
        if start_cell < 0:
            text = f"startCell in {api} must be zero or greater"
            raise invalid_arg(api, "startCell", text, ErrorDomain.DOMAIN)
        result = self._hv("node_get_cells_free_memory", api, start_cell, max_cells)
        return [int(value) for value in result]

    def get_cpu_stats(self, cpu_num: int = ALL_CPUS, flags: int = 0) -> dict[str, int]:
        """Host CPU time counters in nanoseconds, of CPU *cpu_num* or of all CPUs
        (``virNodeGetCPUStats``): ``user``, ``kernel``, ``idle``, ``iowait`` and, where
        the driver knows it, ``intr`` or a ``utilization`` percentage.
        """
        api = "virNodeGetCPUStats"
        self._check_open(api, ErrorDomain.DOMAIN)
        if cpu_num < 0 and cpu_num != ALL_CPUS:
            text = f"cpuNum in {api} only accepts {ALL_CPUS} as a negative value"
            raise invalid_arg(api, "cpuNum", text, ErrorDomain.DOMAIN)
        result = self._hv("node_get_cpu_stats", api, cpu_num, flags)
        return {str(name): int(value) for name, value in dict(result).items()}

    def get_memory_stats(self, cell_num: int = ALL_CELLS, flags: int = 0) -> dict[str, int]:
        """Host memory figures in KiB, of NUMA cell *cell_num* or of the whole host
        (``virNodeGetMemoryStats``): ``total``, ``free``, ``buffers``, ``cached``.
        """
        api = "virNodeGetMemoryStats"
        self._check_open(api, ErrorDomain.DOMAIN)
        if cell_num < 0 and cell_num != ALL_CELLS:
            text = f"cellNum in {api} only accepts {ALL_CELLS} as a negative value"
            # libvirt names the wrong argument in this report; kept for fidelity.
            raise invalid_arg(api, "cpuNum", text, ErrorDomain.DOMAIN)
        result = self._hv("node_get_memory_stats", api, cell_num, flags)
        return {str(name): int(value) for name, value in dict(result).items()}

    def get_domain_capabilities(
        self,
        emulatorbin: str | None = None,
        arch: str | None = None,
        machine: str | None = None,
        virttype: str | None = None,
        flags: int = 0,
    ) -> str:
        """Domain capabilities XML for an emulator, architecture, machine type and
        virtualization type, any of which may be left to the driver's default
        (``virConnectGetDomainCapabilities``). Refused on read-only connections, as
        libvirt does, because answering may start the emulator.
        """
        result: str = self._hv(
            "connect_get_domain_capabilities",
            "virConnectGetDomainCapabilities",
            emulatorbin,
            arch,
            machine,
            virttype,
            flags,
            write=True,
        )
        return result

    def get_cpu_map(self, flags: int = 0) -> HostCPUMap:
        """How many CPUs the host has and which are online (``virNodeGetCPUMap``)."""
        cpus, cpumap, online = self._hv("node_get_cpu_map", "virNodeGetCPUMap", flags)
        return HostCPUMap(int(cpus), cpumap_to_bools(bytes(cpumap), int(cpus)), int(online))

    def get_security_model(self) -> SecurityModel:
        """The host's security model and DOI (``virNodeGetSecurityModel``)."""
        model, doi = self._hv("node_get_security_model", "virNodeGetSecurityModel")
        return SecurityModel(str(model or ""), str(doi or ""))

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

    def node_device_lookup_scsi_host_by_wwn(
        self, wwnn: str, wwpn: str, flags: int = 0
    ) -> NodeDevice:
        """Find the SCSI host with an ``fc_host`` capability of these World Wide Node and
        Port Names (``virNodeDeviceLookupSCSIHostByWWN``).
        """
        result: NodeDevice = self._invoke(
            "nodedev",
            "node_device_lookup_scsi_host_by_wwn",
            "virNodeDeviceLookupSCSIHostByWWN",
            wwnn,
            wwpn,
            flags,
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
