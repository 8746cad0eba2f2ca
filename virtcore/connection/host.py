"""Connection calls for node devices, secrets, network filters and interfaces."""

from __future__ import annotations

from typing import Any

from virtcore.connection.base import CallsBase
from virtcore.objects import NodeDevice, Secret

__all__ = ["HostObjectCalls"]


class HostObjectCalls(CallsBase):
    """Connection calls for node devices, secrets, network filters and interfaces."""

    __slots__ = ()

    def list_all_node_devices(self, flags: int = 0) -> list[NodeDevice]:
        """Host devices (``virConnectListAllNodeDevices``)."""
        return list(
            self._invoke(
                "nodedev", "connect_list_all_node_devices", "virConnectListAllNodeDevices", flags
            )
        )

    def node_device_lookup_by_name(self, name: str) -> NodeDevice:
        """Find a host device (``virNodeDeviceLookupByName``)."""
        result: NodeDevice = self._invoke(
            "nodedev", "node_device_lookup_by_name", "virNodeDeviceLookupByName", name
        )
        return result

    def list_all_secrets(self, flags: int = 0) -> list[Secret]:
        """Secrets (``virConnectListAllSecrets``)."""
        return list(
            self._invoke("secret", "connect_list_all_secrets", "virConnectListAllSecrets", flags)
        )

    def secret_lookup_by_uuid(self, uuid: str) -> Secret:
        """Find a secret (``virSecretLookupByUUID``)."""
        result: Secret = self._invoke(
            "secret", "secret_lookup_by_uuid", "virSecretLookupByUUID", uuid
        )
        return result

    def secret_define_xml(self, xml: str, flags: int = 0) -> Secret:
        """Define a secret (``virSecretDefineXML``)."""
        result: Secret = self._invoke(
            "secret", "secret_define_xml", "virSecretDefineXML", xml, flags, write=True
        )
        return result

    def num_of_secrets(self) -> int:
        """Number of secrets (``virConnectNumOfSecrets``)."""
        result: int = self._invoke("secret", "connect_num_of_secrets", "virConnectNumOfSecrets")
        return result

    def num_of_nwfilters(self) -> int:
        """Number of network filters (``virConnectNumOfNWFilters``)."""
        result: int = self._invoke(
            "nwfilter", "connect_num_of_nwfilters", "virConnectNumOfNWFilters"
        )
        return result

    def nwfilter_lookup_by_name(self, name: str) -> Any:
        """Find a network filter (``virNWFilterLookupByName``)."""
        return self._invoke("nwfilter", "nwfilter_lookup_by_name", "virNWFilterLookupByName", name)

    def list_all_interfaces(self, flags: int = 0) -> list[Any]:
        """Host interfaces (``virConnectListAllInterfaces``)."""
        return list(
            self._invoke(
                "interface", "connect_list_all_interfaces", "virConnectListAllInterfaces", flags
            )
        )

    def interface_lookup_by_name(self, name: str) -> Any:
        """Find a host interface (``virInterfaceLookupByName``)."""
        return self._invoke(
            "interface", "interface_lookup_by_name", "virInterfaceLookupByName", name
        )
