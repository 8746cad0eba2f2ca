"""``virConnect`` calls on secondary objects, one driver call each (libvirt-python's order).

Networks, storage pools and volumes, node devices, secrets, network filters and
host interfaces: each call goes to the connection's matching driver table. See
:mod:`virtcore.libvirt._base` for the conventions.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803

from __future__ import annotations

from typing import Any

from virtcore.libvirt._base import status, through, uuid_str
from virtcore.libvirt._connect_calls import ConnectCalls
from virtcore.libvirt._host import virNodeDevice, virNWFilter, virNWFilterBinding, virSecret
from virtcore.libvirt._network import virInterface, virNetwork
from virtcore.libvirt._storage import virStoragePool, virStorageVol

__all__ = ["ConnectObjectCalls"]


class ConnectObjectCalls(ConnectCalls):
    """The mechanical half of ``virConnect`` for objects of the secondary drivers."""

    def changeBegin(self, flags: int = 0) -> int:
        """This function creates a restore point to which one can return later by calling
        virInterfaceChangeRollback() (``virInterfaceChangeBegin``).
        """
        return status(
            self._call_in(
                "interface", "interface_change_begin", "virInterfaceChangeBegin", flags, write=True
            )
        )

    def changeCommit(self, flags: int = 0) -> int:
        """This commits the changes made to interfaces and frees the restore point created by
        virInterfaceChangeBegin() (``virInterfaceChangeCommit``).
        """
        return status(
            self._call_in(
                "interface",
                "interface_change_commit",
                "virInterfaceChangeCommit",
                flags,
                write=True,
            )
        )

    def changeRollback(self, flags: int = 0) -> int:
        """This cancels changes made to interfaces settings by restoring previous state created by
        virInterfaceChangeBegin() (``virInterfaceChangeRollback``).
        """
        return status(
            self._call_in(
                "interface",
                "interface_change_rollback",
                "virInterfaceChangeRollback",
                flags,
                write=True,
            )
        )

    def findStoragePoolSources(self, type: str, srcSpec: str | None, flags: int = 0) -> str:
        """Talks to a storage backend and attempts to auto-discover the set of available storage
        pool sources (``virConnectFindStoragePoolSources``).
        """
        result: str = self._call_in(
            "storage",
            "connect_find_storage_pool_sources",
            "virConnectFindStoragePoolSources",
            type,
            srcSpec,
            flags,
        )
        return result

    def getStoragePoolCapabilities(self, flags: int = 0) -> str:
        """``virConnectGetStoragePoolCapabilities``."""
        api = "virConnectGetStoragePoolCapabilities"
        result: str = through(self, api, self._c.get_storage_pool_capabilities, flags)
        return result

    def interfaceDefineXML(self, xml: str, flags: int = 0) -> virInterface:
        """Define an inactive persistent physical host interface or modify an existing persistent
        one from the XML description (``virInterfaceDefineXML``).
        """
        return virInterface(
            self,
            _obj=self._call_in(
                "interface", "interface_define_xml", "virInterfaceDefineXML", xml, flags, write=True
            ),
        )

    def interfaceLookupByMACString(self, macstr: str) -> virInterface:
        """Try to lookup an interface on the given hypervisor based on its MAC
        (``virInterfaceLookupByMACString``).
        """
        return virInterface(
            self,
            _obj=self._call_in(
                "interface",
                "interface_lookup_by_mac_string",
                "virInterfaceLookupByMACString",
                macstr,
            ),
        )

    def interfaceLookupByName(self, name: str) -> virInterface:
        """Try to lookup an interface on the given hypervisor based on its name
        (``virInterfaceLookupByName``).
        """
        return virInterface(
            self,
            _obj=self._call_in(
                "interface", "interface_lookup_by_name", "virInterfaceLookupByName", name
            ),
        )

    def listDefinedInterfaces(self) -> list[Any]:
        """List the defined interfaces, stores the pointers to the names in @names
        (``virConnectListDefinedInterfaces``).
        """
        return list(
            self._call_in(
                "interface", "connect_list_defined_interfaces", "virConnectListDefinedInterfaces"
            )
        )

    def listDefinedNetworks(self) -> list[Any]:
        """List the defined networks, stores the pointers to the names in @names
        (``virConnectListDefinedNetworks``).
        """
        return list(
            self._call_in(
                "network", "connect_list_defined_networks", "virConnectListDefinedNetworks"
            )
        )

    def listDefinedStoragePools(self) -> list[Any]:
        """List the defined storage pool, stores the pointers to the names in @names
        (``virConnectListDefinedStoragePools``).
        """
        return list(
            self._call_in(
                "storage", "connect_list_defined_storage_pools", "virConnectListDefinedStoragePools"
            )
        )

    def listDevices(self, cap: str | None, flags: int = 0) -> list[Any]:
        """List the node devices (``virNodeListDevices``)."""
        return list(self._call_in("nodedev", "node_list_devices", "virNodeListDevices", cap, flags))

    def listInterfaces(self) -> list[Any]:
        """List the running interfaces, stores the pointers to the names in @names
        (``virConnectListInterfaces``).
        """
        return list(
            self._call_in("interface", "connect_list_interfaces", "virConnectListInterfaces")
        )

    def listNWFilters(self) -> list[Any]:
        """List the defined network filters (``virConnectListNWFilters``)."""
        return list(self._call_in("nwfilter", "connect_list_nwfilters", "virConnectListNWFilters"))

    def listNetworks(self) -> list[Any]:
        """List the networks, stores the pointers to the names in @names
        (``virConnectListNetworks``).
        """
        return list(self._call_in("network", "connect_list_networks", "virConnectListNetworks"))

    def listSecrets(self) -> list[Any]:
        """List the defined secret IDs (``virConnectListSecrets``)."""
        return list(self._call_in("secret", "connect_list_secrets", "virConnectListSecrets"))

    def listStoragePools(self) -> list[Any]:
        """List the storage pools, stores the pointers to the names in @names
        (``virConnectListStoragePools``).
        """
        return list(
            self._call_in("storage", "connect_list_storage_pools", "virConnectListStoragePools")
        )

    def networkCreateXML(self, xmlDesc: str) -> virNetwork:
        """``virNetworkCreateXML``."""
        return virNetwork(
            self,
            _obj=self._call_either(
                "network",
                ("network_create_xml", (xmlDesc,)),
                ("network_create_xml_flags", (xmlDesc, 0)),
                "virNetworkCreateXML",
            ),
        )

    def networkCreateXMLFlags(self, xmlDesc: str, flags: int = 0) -> virNetwork:
        """``virNetworkCreateXMLFlags``."""
        return virNetwork(
            self,
            _obj=self._call_in(
                "network",
                "network_create_xml_flags",
                "virNetworkCreateXMLFlags",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def networkDefineXML(self, xml: str) -> virNetwork:
        """Define an inactive persistent virtual network or modify an existing persistent one from
        the XML description (``virNetworkDefineXML``).
        """
        return virNetwork(
            self,
            _obj=self._call_either(
                "network",
                ("network_define_xml", (xml,)),
                ("network_define_xml_flags", (xml, 0)),
                "virNetworkDefineXML",
            ),
        )

    def networkDefineXMLFlags(self, xml: str, flags: int = 0) -> virNetwork:
        """Define an inactive persistent virtual network or modify an existing persistent one from
        the XML description (``virNetworkDefineXMLFlags``).
        """
        return virNetwork(
            self,
            _obj=self._call_in(
                "network",
                "network_define_xml_flags",
                "virNetworkDefineXMLFlags",
                xml,
                flags,
                write=True,
            ),
        )

    def networkLookupByName(self, name: str) -> virNetwork:
        """Try to lookup a network on the given hypervisor based on its name
        (``virNetworkLookupByName``).
        """
        return virNetwork(
            self,
            _obj=self._call_in("network", "network_lookup_by_name", "virNetworkLookupByName", name),
        )

    def networkLookupByUUID(self, uuid: bytes) -> virNetwork:
        """Try to lookup a network on the given hypervisor based on its UUID
        (``virNetworkLookupByUUID``).
        """
        return virNetwork(
            self,
            _obj=self._call_in(
                "network", "network_lookup_by_uuid", "virNetworkLookupByUUID", uuid_str(uuid)
            ),
        )

    def networkLookupByUUIDString(self, uuidstr: str) -> virNetwork:
        """Try to lookup a network on the given hypervisor based on its UUID
        (``virNetworkLookupByUUIDString``).
        """
        return virNetwork(
            self,
            _obj=self._call_in(
                "network", "network_lookup_by_uuid", "virNetworkLookupByUUIDString", uuidstr
            ),
        )

    def nodeDeviceCreateXML(self, xmlDesc: str, flags: int = 0) -> virNodeDevice:
        """Create a new device on the VM host machine, for example, virtual HBAs created using
        vport_create (``virNodeDeviceCreateXML``).
        """
        return virNodeDevice(
            self,
            _obj=self._call_in(
                "nodedev",
                "node_device_create_xml",
                "virNodeDeviceCreateXML",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def nodeDeviceDefineXML(self, xmlDesc: str, flags: int = 0) -> virNodeDevice:
        """``virNodeDeviceDefineXML``."""
        return virNodeDevice(
            self,
            _obj=self._call_in(
                "nodedev",
                "node_device_define_xml",
                "virNodeDeviceDefineXML",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def nodeDeviceLookupByName(self, name: str) -> virNodeDevice:
        """Lookup a node device by its name (``virNodeDeviceLookupByName``)."""
        return virNodeDevice(
            self,
            _obj=self._call_in(
                "nodedev", "node_device_lookup_by_name", "virNodeDeviceLookupByName", name
            ),
        )

    def nodeDeviceLookupSCSIHostByWWN(self, wwnn: str, wwpn: str, flags: int = 0) -> virNodeDevice:
        """Lookup SCSI Host which is capable with 'fc_host' by its WWNN and WWPN
        (``virNodeDeviceLookupSCSIHostByWWN``).
        """
        return virNodeDevice(
            self,
            _obj=self._call_in(
                "nodedev",
                "node_device_lookup_scsi_host_by_wwn",
                "virNodeDeviceLookupSCSIHostByWWN",
                wwnn,
                wwpn,
                flags,
            ),
        )

    def numOfDefinedInterfaces(self) -> int:
        """Provides the number of defined (inactive) interfaces on the physical host
        (``virConnectNumOfDefinedInterfaces``).
        """
        return status(
            self._call_in(
                "interface", "connect_num_of_defined_interfaces", "virConnectNumOfDefinedInterfaces"
            )
        )

    def numOfDefinedNetworks(self) -> int:
        """Provides the number of inactive networks (``virConnectNumOfDefinedNetworks``)."""
        return status(
            self._call_in(
                "network", "connect_num_of_defined_networks", "virConnectNumOfDefinedNetworks"
            )
        )

    def numOfDefinedStoragePools(self) -> int:
        """Provides the number of inactive storage pools
        (``virConnectNumOfDefinedStoragePools``).
        """
        return status(
            self._call_in(
                "storage",
                "connect_num_of_defined_storage_pools",
                "virConnectNumOfDefinedStoragePools",
            )
        )

    def numOfDevices(self, cap: str | None, flags: int = 0) -> int:
        """Provides the number of node devices (``virNodeNumOfDevices``)."""
        return status(
            self._call_in("nodedev", "node_num_of_devices", "virNodeNumOfDevices", cap, flags)
        )

    def numOfInterfaces(self) -> int:
        """Provides the number of active interfaces on the physical host
        (``virConnectNumOfInterfaces``).
        """
        return status(
            self._call_in("interface", "connect_num_of_interfaces", "virConnectNumOfInterfaces")
        )

    def numOfNWFilters(self) -> int:
        """Provides the number of nwfilters (``virConnectNumOfNWFilters``)."""
        return status(
            self._call_in("nwfilter", "connect_num_of_nwfilters", "virConnectNumOfNWFilters")
        )

    def numOfNetworks(self) -> int:
        """Provides the number of active networks (``virConnectNumOfNetworks``)."""
        return status(
            self._call_in("network", "connect_num_of_networks", "virConnectNumOfNetworks")
        )

    def numOfSecrets(self) -> int:
        """Fetch number of currently defined secrets (``virConnectNumOfSecrets``)."""
        return status(self._call_in("secret", "connect_num_of_secrets", "virConnectNumOfSecrets"))

    def numOfStoragePools(self) -> int:
        """Provides the number of active storage pools (``virConnectNumOfStoragePools``)."""
        return status(
            self._call_in("storage", "connect_num_of_storage_pools", "virConnectNumOfStoragePools")
        )

    def nwfilterBindingCreateXML(self, xml: str, flags: int = 0) -> virNWFilterBinding:
        """Define a new network filter, based on an XML description similar to the one returned by
        virNWFilterGetXMLDesc() (``virNWFilterBindingCreateXML``).
        """
        return virNWFilterBinding(
            self,
            _obj=self._call_in(
                "nwfilter",
                "nwfilter_binding_create_xml",
                "virNWFilterBindingCreateXML",
                xml,
                flags,
                write=True,
            ),
        )

    def nwfilterBindingLookupByPortDev(self, portdev: str) -> virNWFilterBinding:
        """Try to lookup a network filter binding on the given hypervisor based on network port
        device name (``virNWFilterBindingLookupByPortDev``).
        """
        return virNWFilterBinding(
            self,
            _obj=self._call_in(
                "nwfilter",
                "nwfilter_binding_lookup_by_port_dev",
                "virNWFilterBindingLookupByPortDev",
                portdev,
            ),
        )

    def nwfilterDefineXML(self, xmlDesc: str) -> virNWFilter:
        """``virNWFilterDefineXML``."""
        return virNWFilter(
            self,
            _obj=self._call_either(
                "nwfilter",
                ("nwfilter_define_xml", (xmlDesc,)),
                ("nwfilter_define_xml_flags", (xmlDesc, 0)),
                "virNWFilterDefineXML",
            ),
        )

    def nwfilterDefineXMLFlags(self, xmlDesc: str, flags: int = 0) -> virNWFilter:
        """``virNWFilterDefineXMLFlags``."""
        return virNWFilter(
            self,
            _obj=self._call_in(
                "nwfilter",
                "nwfilter_define_xml_flags",
                "virNWFilterDefineXMLFlags",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def nwfilterLookupByName(self, name: str) -> virNWFilter:
        """Try to lookup a network filter on the given hypervisor based on its name
        (``virNWFilterLookupByName``).
        """
        return virNWFilter(
            self,
            _obj=self._call_in(
                "nwfilter", "nwfilter_lookup_by_name", "virNWFilterLookupByName", name
            ),
        )

    def nwfilterLookupByUUID(self, uuid: bytes) -> virNWFilter:
        """Try to lookup a network filter on the given hypervisor based on its UUID
        (``virNWFilterLookupByUUID``).
        """
        return virNWFilter(
            self,
            _obj=self._call_in(
                "nwfilter", "nwfilter_lookup_by_uuid", "virNWFilterLookupByUUID", uuid_str(uuid)
            ),
        )

    def nwfilterLookupByUUIDString(self, uuidstr: str) -> virNWFilter:
        """Try to lookup an nwfilter on the given hypervisor based on its UUID
        (``virNWFilterLookupByUUIDString``).
        """
        return virNWFilter(
            self,
            _obj=self._call_in(
                "nwfilter", "nwfilter_lookup_by_uuid", "virNWFilterLookupByUUIDString", uuidstr
            ),
        )

    def secretDefineXML(self, xml: str, flags: int = 0) -> virSecret:
        """``virSecretDefineXML``."""
        return virSecret(
            self,
            _obj=self._call_in(
                "secret", "secret_define_xml", "virSecretDefineXML", xml, flags, write=True
            ),
        )

    def secretLookupByUUID(self, uuid: bytes) -> virSecret:
        """Try to lookup a secret on the given hypervisor based on its UUID
        (``virSecretLookupByUUID``).
        """
        return virSecret(
            self,
            _obj=self._call_in(
                "secret", "secret_lookup_by_uuid", "virSecretLookupByUUID", uuid_str(uuid)
            ),
        )

    def secretLookupByUUIDString(self, uuidstr: str) -> virSecret:
        """Try to lookup a secret on the given hypervisor based on its UUID
        (``virSecretLookupByUUIDString``).
        """
        return virSecret(
            self,
            _obj=self._call_in(
                "secret", "secret_lookup_by_uuid", "virSecretLookupByUUIDString", uuidstr
            ),
        )

    def secretLookupByUsage(self, usageType: int, usageID: str) -> virSecret:
        """``virSecretLookupByUsage``."""
        return virSecret(
            self,
            _obj=self._call_in(
                "secret", "secret_lookup_by_usage", "virSecretLookupByUsage", usageType, usageID
            ),
        )

    def storagePoolCreateXML(self, xmlDesc: str, flags: int = 0) -> virStoragePool:
        """Create a new storage based on its XML description (``virStoragePoolCreateXML``)."""
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage",
                "storage_pool_create_xml",
                "virStoragePoolCreateXML",
                xmlDesc,
                flags,
                write=True,
            ),
        )

    def storagePoolDefineXML(self, xml: str, flags: int = 0) -> virStoragePool:
        """Define an inactive persistent storage pool or modify an existing persistent one from the
        XML description (``virStoragePoolDefineXML``).
        """
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage",
                "storage_pool_define_xml",
                "virStoragePoolDefineXML",
                xml,
                flags,
                write=True,
            ),
        )

    def storagePoolLookupByName(self, name: str) -> virStoragePool:
        """``virStoragePoolLookupByName``."""
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage", "storage_pool_lookup_by_name", "virStoragePoolLookupByName", name
            ),
        )

    def storagePoolLookupByTargetPath(self, path: str) -> virStoragePool:
        """Fetch a storage pool which maps to a particular target directory
        (``virStoragePoolLookupByTargetPath``).
        """
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage",
                "storage_pool_lookup_by_target_path",
                "virStoragePoolLookupByTargetPath",
                path,
            ),
        )

    def storagePoolLookupByUUID(self, uuid: bytes) -> virStoragePool:
        """``virStoragePoolLookupByUUID``."""
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage",
                "storage_pool_lookup_by_uuid",
                "virStoragePoolLookupByUUID",
                uuid_str(uuid),
            ),
        )

    def storagePoolLookupByUUIDString(self, uuidstr: str) -> virStoragePool:
        """``virStoragePoolLookupByUUIDString``."""
        return virStoragePool(
            self,
            _obj=self._call_in(
                "storage",
                "storage_pool_lookup_by_uuid",
                "virStoragePoolLookupByUUIDString",
                uuidstr,
            ),
        )

    def storageVolLookupByKey(self, key: str | None) -> virStorageVol:
        """``virStorageVolLookupByKey``."""
        return virStorageVol(
            self,
            _obj=self._call_in(
                "storage", "storage_vol_lookup_by_key", "virStorageVolLookupByKey", key
            ),
        )

    def storageVolLookupByPath(self, path: str) -> virStorageVol:
        """``virStorageVolLookupByPath``."""
        return virStorageVol(
            self,
            _obj=self._call_in(
                "storage", "storage_vol_lookup_by_path", "virStorageVolLookupByPath", path
            ),
        )

    def listAllStoragePools(self, flags: int = 0) -> list[virStoragePool]:
        """Returns a list of storage pool objects (``virConnectListAllStoragePools``)."""
        return [
            virStoragePool(self, _obj=o)
            for o in self._call_in(
                "storage", "connect_list_all_storage_pools", "virConnectListAllStoragePools", flags
            )
        ]

    def listAllNetworks(self, flags: int = 0) -> list[virNetwork]:
        """Returns a list of network objects (``virConnectListAllNetworks``)."""
        return [
            virNetwork(self, _obj=o)
            for o in self._call_in(
                "network", "connect_list_all_networks", "virConnectListAllNetworks", flags
            )
        ]

    def listAllInterfaces(self, flags: int = 0) -> list[virInterface]:
        """Returns a list of interface objects (``virConnectListAllInterfaces``)."""
        return [
            virInterface(self, _obj=o)
            for o in self._call_in(
                "interface", "connect_list_all_interfaces", "virConnectListAllInterfaces", flags
            )
        ]

    def listAllDevices(self, flags: int = 0) -> list[virNodeDevice]:
        """Returns a list of host node device objects (``virConnectListAllNodeDevices``)."""
        return [
            virNodeDevice(self, _obj=o)
            for o in self._call_in(
                "nodedev", "connect_list_all_node_devices", "virConnectListAllNodeDevices", flags
            )
        ]

    def listAllNWFilters(self, flags: int = 0) -> list[virNWFilter]:
        """Returns a list of network filter objects (``virConnectListAllNWFilters``)."""
        return [
            virNWFilter(self, _obj=o)
            for o in self._call_in(
                "nwfilter", "connect_list_all_nwfilters", "virConnectListAllNWFilters", flags
            )
        ]

    def listAllNWFilterBindings(self, flags: int = 0) -> list[virNWFilterBinding]:
        """Returns a list of network filter binding objects
        (``virConnectListAllNWFilterBindings``).
        """
        return [
            virNWFilterBinding(self, _obj=o)
            for o in self._call_in(
                "nwfilter",
                "connect_list_all_nwfilter_bindings",
                "virConnectListAllNWFilterBindings",
                flags,
            )
        ]

    def listAllSecrets(self, flags: int = 0) -> list[virSecret]:
        """Returns a list of secret objects (``virConnectListAllSecrets``)."""
        return [
            virSecret(self, _obj=o)
            for o in self._call_in(
                "secret", "connect_list_all_secrets", "virConnectListAllSecrets", flags
            )
        ]
