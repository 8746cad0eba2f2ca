"""Host objects: ``virNodeDevice``, ``virSecret``, ``virNWFilter`` and ``virNWFilterBinding``."""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802, N803

from __future__ import annotations

from typing import Any

from virtcore.libvirt._base import Wrapped, status, uuid_bytes

__all__ = ["virNWFilter", "virNWFilterBinding", "virNodeDevice", "virSecret"]


class virNodeDevice(Wrapped):
    """A host device (libvirt-python's ``virNodeDevice``)."""

    _kind = "nodedev"

    def name(self) -> str:
        """The device's name (``virNodeDeviceGetName``)."""
        name: str = self._o.name
        return name

    def XMLDesc(self, flags: int = 0) -> str:
        """Fetch an XML document describing all aspects of the device
        (``virNodeDeviceGetXMLDesc``).
        """
        result: str = self._call("node_device_get_xml_desc", "virNodeDeviceGetXMLDesc", flags)
        return result

    def autostart(self) -> int:
        """Extract the autostart flag for a node device (``virNodeDeviceGetAutostart``)."""
        return status(self._call("node_device_get_autostart", "virNodeDeviceGetAutostart"))

    def create(self, flags: int = 0) -> int:
        """Start a defined node device: (``virNodeDeviceCreate``)."""
        return status(self._call("node_device_create", "virNodeDeviceCreate", flags, write=True))

    def destroy(self) -> int:
        """Destroy the device object (``virNodeDeviceDestroy``)."""
        return status(self._call("node_device_destroy", "virNodeDeviceDestroy", write=True))

    def detachFlags(self, driverName: str | None, flags: int = 0) -> int:
        """Detach the node device from the node itself so that it may be assigned to a guest domain
        (``virNodeDeviceDetachFlags``).
        """
        return status(
            self._call_in(
                "hypervisor",
                "node_device_detach_flags",
                "virNodeDeviceDetachFlags",
                driverName,
                flags,
                write=True,
            )
        )

    def dettach(self) -> int:
        """Detach the node device from the node itself so that it may be assigned to a guest domain
        (``virNodeDeviceDettach``).
        """
        return status(
            self._call_in("hypervisor", "node_device_dettach", "virNodeDeviceDettach", write=True)
        )

    def isActive(self) -> int:
        """Determine if the node device is currently active (``virNodeDeviceIsActive``)."""
        return status(self._call("node_device_is_active", "virNodeDeviceIsActive"))

    def isPersistent(self) -> int:
        """Determine if the node device has a persistent configuration which means it will still
        exist after shutting down (``virNodeDeviceIsPersistent``).
        """
        return status(self._call("node_device_is_persistent", "virNodeDeviceIsPersistent"))

    def listCaps(self) -> list[Any]:
        """List the node device's capabilities (``virNodeDeviceListCaps``)."""
        return list(self._call("node_device_list_caps", "virNodeDeviceListCaps"))

    def numOfCaps(self) -> int:
        """Accessor for the number of capabilities supported by the device
        (``virNodeDeviceNumOfCaps``).
        """
        return status(self._call("node_device_num_of_caps", "virNodeDeviceNumOfCaps"))

    def parent(self) -> str | None:
        """Accessor for the parent of the device (``virNodeDeviceGetParent``)."""
        result: str | None = self._call("node_device_get_parent", "virNodeDeviceGetParent")
        return result

    def reAttach(self) -> int:
        """Re-attach a previously detached node device to the node so that it may be used by the
        node again (``virNodeDeviceReAttach``).
        """
        return status(
            self._call_in(
                "hypervisor", "node_device_re_attach", "virNodeDeviceReAttach", write=True
            )
        )

    def reset(self) -> int:
        """Reset a previously detached node device to the node before or after assigning it to a
        guest (``virNodeDeviceReset``).
        """
        return status(
            self._call_in("hypervisor", "node_device_reset", "virNodeDeviceReset", write=True)
        )

    def setAutostart(self, autostart: int) -> int:
        """Configure the node device to be automatically started when the host machine boots or the
        parent device becomes available (``virNodeDeviceSetAutostart``).
        """
        return status(
            self._call(
                "node_device_set_autostart", "virNodeDeviceSetAutostart", autostart, write=True
            )
        )

    def undefine(self, flags: int = 0) -> int:
        """Undefine the device object (``virNodeDeviceUndefine``)."""
        return status(
            self._call("node_device_undefine", "virNodeDeviceUndefine", flags, write=True)
        )


class virSecret(Wrapped):
    """A secret (libvirt-python's ``virSecret``)."""

    _kind = "secret"

    def UUID(self) -> bytes:
        """The UUID as 16 raw bytes (``virSecretGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The UUID in text form (``virSecretGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def usageID(self) -> str:
        """What the secret is for: a volume path, a Ceph name, ... (``virSecretGetUsageID``)."""
        usage: str = self._o.usage_id
        return usage

    def usageType(self) -> int:
        """The ``VIR_SECRET_USAGE_TYPE_*`` value (``virSecretGetUsageType``)."""
        return int(self._o.usage_type)

    def XMLDesc(self, flags: int = 0) -> str:
        """Fetches an XML document describing attributes of the secret (``virSecretGetXMLDesc``)."""
        result: str = self._call("secret_get_xml_desc", "virSecretGetXMLDesc", flags)
        return result

    def setValue(self, value: bytes | str, flags: int = 0) -> int:
        """Associates a value with a secret (``virSecretSetValue``); text is stored as UTF-8."""
        data = value.encode() if isinstance(value, str) else bytes(value)
        return status(self._call("secret_set_value", "virSecretSetValue", data, flags, write=True))

    def undefine(self) -> int:
        """Deletes the specified secret (``virSecretUndefine``)."""
        return status(self._call("secret_undefine", "virSecretUndefine", write=True))

    def value(self, flags: int = 0) -> bytes:
        """Fetches the value associated with a secret (``virSecretGetValue``)."""
        return bytes(self._call("secret_get_value", "virSecretGetValue", flags, write=True))


class virNWFilter(Wrapped):
    """A network filter (libvirt-python's ``virNWFilter``)."""

    _kind = "nwfilter"

    def name(self) -> str:
        """The filter's name (``virNWFilterGetName``)."""
        name: str = self._o.name
        return name

    def UUID(self) -> bytes:
        """The UUID as 16 raw bytes (``virNWFilterGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The UUID in text form (``virNWFilterGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def XMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the network filter (``virNWFilterGetXMLDesc``)."""
        result: str = self._call("nwfilter_get_xml_desc", "virNWFilterGetXMLDesc", flags)
        return result

    def undefine(self) -> int:
        """Undefine the nwfilter object (``virNWFilterUndefine``)."""
        return status(self._call("nwfilter_undefine", "virNWFilterUndefine", write=True))


class virNWFilterBinding(Wrapped):
    """A binding of a filter to a port (libvirt-python's ``virNWFilterBinding``)."""

    _kind = "nwfilter"

    def portDev(self) -> str:
        """The port device (``virNWFilterBindingGetPortDev``)."""
        dev: str = self._o.port_dev
        return dev

    def filterName(self) -> str:
        """The bound filter's name (``virNWFilterBindingGetFilterName``)."""
        name: str = self._o.filter_name
        return name

    def XMLDesc(self, flags: int = 0) -> str:
        """Provide an XML description of the network filter (``virNWFilterBindingGetXMLDesc``)."""
        result: str = self._call(
            "nwfilter_binding_get_xml_desc", "virNWFilterBindingGetXMLDesc", flags
        )
        return result

    def delete(self) -> int:
        """Delete the binding object (``virNWFilterBindingDelete``)."""
        return status(self._call("nwfilter_binding_delete", "virNWFilterBindingDelete", write=True))
