"""Object handles: cheap value objects that dispatch to the connection's driver tables.

A handle holds identity only (name, UUID, id, ...) and a back-reference to its
:class:`~virtcore.connection.Connection`; state lives in the driver. Two handles
are equal when they name the same object through the same connection. Every
method goes through the connection, which raises
:class:`~virtcore.errors.NoSupportError` when the driver lacks the call,
:class:`~virtcore.errors.OperationDeniedError` for mutating calls on a
read-only connection and :class:`~virtcore.errors.ConnectionClosedError` after
``close()``.

Driver-table method names and the libvirt API each method reports in errors
are given explicitly at every call, so the mapping to libvirt stays greppable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from virtcore.results import DomainInfo, DomainStateInfo, StoragePoolInfo, StorageVolInfo

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = [
    "Domain",
    "DomainCheckpoint",
    "DomainSnapshot",
    "Handle",
    "Interface",
    "NWFilter",
    "NWFilterBinding",
    "Network",
    "NetworkPort",
    "NodeDevice",
    "Secret",
    "StoragePool",
    "StorageVol",
    "Stream",
]


def _api(flags: int, plain: str, suffix: str = "Flags") -> str:
    """The libvirt API a call stands for: the plain one without flags, else its flags variant.

    libvirt-python's ``dom.destroy()`` is ``virDomainDestroy`` and
    ``dom.destroyFlags(f)`` is ``virDomainDestroyFlags``; errors name the one
    the caller's arguments correspond to.
    """
    if not flags:
        return plain
    return plain + ("WithFlags" if plain == "virDomainCreate" else suffix)


class Handle:
    """Base of all handles. ``_table`` names the driver table the handle's calls use."""

    _table: ClassVar[str] = "hypervisor"
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def connection(self) -> Connection:
        """The connection this handle was obtained from."""
        return self._conn

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _call(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        return self._conn._invoke(self._table, method, api, self, *args, write=write)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Handle)
            and other._conn is self._conn
            and other._key() == self._key()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, id(self._conn), self._key()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._key()!r}>"


class Domain(Handle):
    """A domain (guest). ``id`` is -1 while inactive, as of the lookup."""

    __slots__ = ("_id", "_name", "_uuid")

    def __init__(self, conn: Connection, name: str, uuid: str, id: int = -1) -> None:
        super().__init__(conn)
        self._name = name
        self._uuid = uuid
        self._id = id

    def _key(self) -> tuple[Any, ...]:
        return (self._uuid,)

    @property
    def name(self) -> str:
        """The domain's name."""
        return self._name

    @property
    def uuid(self) -> str:
        """The UUID in canonical text form."""
        return self._uuid

    @property
    def id(self) -> int:
        """The runtime id, or -1 when inactive (kept current by this handle's own calls)."""
        return self._id

    def set_id(self, id: int) -> None:
        """For drivers: record the id after this handle started (or stopped, -1) the domain.

        libvirt updates the handle a start or stop call was made through; other
        handles of the same domain keep the id they were looked up with.
        """
        self._id = id

    # lifecycle
    def create(self, flags: int = 0) -> None:
        """Start a defined domain (``virDomainCreateWithFlags``)."""
        self._call("domain_create_with_flags", _api(flags, "virDomainCreate"), flags, write=True)

    def destroy(self, flags: int = 0) -> None:
        """Stop the domain immediately (``virDomainDestroyFlags``)."""
        self._call("domain_destroy_flags", _api(flags, "virDomainDestroy"), flags, write=True)

    def shutdown(self, flags: int = 0) -> None:
        """Ask the guest to shut down (``virDomainShutdownFlags``)."""
        self._call("domain_shutdown_flags", _api(flags, "virDomainShutdown"), flags, write=True)

    def reboot(self, flags: int = 0) -> None:
        """Ask the guest to reboot (``virDomainReboot``)."""
        self._call("domain_reboot", "virDomainReboot", flags, write=True)

    def reset(self, flags: int = 0) -> None:
        """Reset the virtual hardware (``virDomainReset``)."""
        self._call("domain_reset", "virDomainReset", flags, write=True)

    def suspend(self) -> None:
        """Pause the domain's vCPUs (``virDomainSuspend``)."""
        self._call("domain_suspend", "virDomainSuspend", write=True)

    def resume(self) -> None:
        """Resume a paused domain (``virDomainResume``)."""
        self._call("domain_resume", "virDomainResume", write=True)

    def undefine(self, flags: int = 0) -> None:
        """Remove the persistent configuration (``virDomainUndefineFlags``)."""
        self._call("domain_undefine_flags", _api(flags, "virDomainUndefine"), flags, write=True)

    def save(self, path: str, dxml: str | None = None, flags: int = 0) -> None:
        """Save the running state to *path* and stop (``virDomainSaveFlags``)."""
        self._call("domain_save_flags", "virDomainSaveFlags", path, dxml, flags, write=True)

    def managed_save(self, flags: int = 0) -> None:
        """Save to the driver-managed image (``virDomainManagedSave``)."""
        self._call("domain_managed_save", "virDomainManagedSave", flags, write=True)

    def has_managed_save_image(self, flags: int = 0) -> bool:
        """Whether a managed save image exists (``virDomainHasManagedSaveImage``)."""
        return bool(
            self._call("domain_has_managed_save_image", "virDomainHasManagedSaveImage", flags)
        )

    def managed_save_remove(self, flags: int = 0) -> None:
        """Delete the managed save image (``virDomainManagedSaveRemove``)."""
        self._call("domain_managed_save_remove", "virDomainManagedSaveRemove", flags, write=True)

    # queries
    def xml_desc(self, flags: int = 0) -> str:
        """The domain XML (``virDomainGetXMLDesc``)."""
        result: str = self._call("domain_get_xml_desc", "virDomainGetXMLDesc", flags)
        return result

    def info(self) -> DomainInfo:
        """State, memory, vCPUs and CPU time (``virDomainGetInfo``)."""
        return DomainInfo(*self._call("domain_get_info", "virDomainGetInfo"))

    def state(self, flags: int = 0) -> DomainStateInfo:
        """State and reason (``virDomainGetState``)."""
        return DomainStateInfo(*self._call("domain_get_state", "virDomainGetState", flags))

    def is_active(self) -> bool:
        """Whether the domain is running or paused (``virDomainIsActive``)."""
        return bool(self._call("domain_is_active", "virDomainIsActive"))

    def is_persistent(self) -> bool:
        """Whether the domain has a persistent configuration (``virDomainIsPersistent``)."""
        return bool(self._call("domain_is_persistent", "virDomainIsPersistent"))

    def is_updated(self) -> bool:
        """Whether the live config differs from the persistent one (``virDomainIsUpdated``)."""
        return bool(self._call("domain_is_updated", "virDomainIsUpdated"))

    def get_autostart(self) -> bool:
        """Whether the domain starts with the host (``virDomainGetAutostart``)."""
        return bool(self._call("domain_get_autostart", "virDomainGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Mark or unmark for autostart (``virDomainSetAutostart``)."""
        self._call("domain_set_autostart", "virDomainSetAutostart", bool(autostart), write=True)

    def os_type(self) -> str:
        """The guest OS type, e.g. ``"hvm"`` (``virDomainGetOSType``)."""
        result: str = self._call("domain_get_os_type", "virDomainGetOSType")
        return result

    def max_memory(self) -> int:
        """Maximum memory in KiB (``virDomainGetMaxMemory``)."""
        result: int = self._call("domain_get_max_memory", "virDomainGetMaxMemory")
        return result

    def set_memory(self, memory: int, flags: int = 0) -> None:
        """Set current memory in KiB (``virDomainSetMemoryFlags``)."""
        self._call("domain_set_memory_flags", "virDomainSetMemoryFlags", memory, flags, write=True)

    def set_vcpus(self, nvcpus: int, flags: int = 0) -> None:
        """Set the vCPU count (``virDomainSetVcpusFlags``)."""
        self._call("domain_set_vcpus_flags", "virDomainSetVcpusFlags", nvcpus, flags, write=True)

    def attach_device(self, xml: str, flags: int = 0) -> None:
        """Attach a device (``virDomainAttachDeviceFlags``)."""
        self._call(
            "domain_attach_device_flags", "virDomainAttachDeviceFlags", xml, flags, write=True
        )

    def detach_device(self, xml: str, flags: int = 0) -> None:
        """Detach a device (``virDomainDetachDeviceFlags``)."""
        self._call(
            "domain_detach_device_flags", "virDomainDetachDeviceFlags", xml, flags, write=True
        )

    def snapshot_create_xml(self, xml: str, flags: int = 0) -> DomainSnapshot:
        """Create a snapshot (``virDomainSnapshotCreateXML``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_create_xml", "virDomainSnapshotCreateXML", xml, flags, write=True
        )
        return result

    def snapshot_lookup_by_name(self, name: str, flags: int = 0) -> DomainSnapshot:
        """Find a snapshot (``virDomainSnapshotLookupByName``)."""
        result: DomainSnapshot = self._call(
            "domain_snapshot_lookup_by_name", "virDomainSnapshotLookupByName", name, flags
        )
        return result

    def list_all_snapshots(self, flags: int = 0) -> list[DomainSnapshot]:
        """Every snapshot (``virDomainListAllSnapshots``)."""
        return list(self._call("domain_list_all_snapshots", "virDomainListAllSnapshots", flags))


class _DomainChild(Handle):
    """Objects named within one domain (snapshots, checkpoints)."""

    __slots__ = ("_domain", "_name")

    def __init__(self, domain: Domain, name: str) -> None:
        super().__init__(domain.connection)
        self._domain = domain
        self._name = name

    def _key(self) -> tuple[Any, ...]:
        return (self._domain.uuid, self._name)

    @property
    def name(self) -> str:
        """The object's name, unique within its domain."""
        return self._name

    @property
    def domain(self) -> Domain:
        """The domain the object belongs to."""
        return self._domain


class DomainSnapshot(_DomainChild):
    """A snapshot of a domain."""

    __slots__ = ()

    def xml_desc(self, flags: int = 0) -> str:
        """Snapshot XML (``virDomainSnapshotGetXMLDesc``)."""
        result: str = self._call(
            "domain_snapshot_get_xml_desc", "virDomainSnapshotGetXMLDesc", flags
        )
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the snapshot (``virDomainSnapshotDelete``)."""
        self._call("domain_snapshot_delete", "virDomainSnapshotDelete", flags, write=True)

    def revert(self, flags: int = 0) -> None:
        """Revert the domain to this snapshot (``virDomainRevertToSnapshot``)."""
        self._call("domain_revert_to_snapshot", "virDomainRevertToSnapshot", flags, write=True)


class DomainCheckpoint(_DomainChild):
    """A checkpoint of a domain's disks."""

    __slots__ = ()

    def xml_desc(self, flags: int = 0) -> str:
        """Checkpoint XML (``virDomainCheckpointGetXMLDesc``)."""
        result: str = self._call(
            "domain_checkpoint_get_xml_desc", "virDomainCheckpointGetXMLDesc", flags
        )
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the checkpoint (``virDomainCheckpointDelete``)."""
        self._call("domain_checkpoint_delete", "virDomainCheckpointDelete", flags, write=True)


class _NamedUUIDHandle(Handle):
    """Handles identified by name and UUID (networks, pools, nwfilters)."""

    __slots__ = ("_name", "_uuid")

    def __init__(self, conn: Connection, name: str, uuid: str) -> None:
        super().__init__(conn)
        self._name = name
        self._uuid = uuid

    def _key(self) -> tuple[Any, ...]:
        return (self._uuid,)

    @property
    def name(self) -> str:
        """The object's name."""
        return self._name

    @property
    def uuid(self) -> str:
        """The UUID in canonical text form."""
        return self._uuid


class Network(_NamedUUIDHandle):
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


class StoragePool(_NamedUUIDHandle):
    """A storage pool."""

    _table = "storage"
    __slots__ = ()

    def create(self, flags: int = 0) -> None:
        """Start the pool (``virStoragePoolCreate``)."""
        self._call("storage_pool_create", "virStoragePoolCreate", flags, write=True)

    def build(self, flags: int = 0) -> None:
        """Build the pool's underlying storage (``virStoragePoolBuild``)."""
        self._call("storage_pool_build", "virStoragePoolBuild", flags, write=True)

    def destroy(self) -> None:
        """Stop the pool (``virStoragePoolDestroy``)."""
        self._call("storage_pool_destroy", "virStoragePoolDestroy", write=True)

    def delete(self, flags: int = 0) -> None:
        """Delete the pool's underlying storage (``virStoragePoolDelete``)."""
        self._call("storage_pool_delete", "virStoragePoolDelete", flags, write=True)

    def undefine(self) -> None:
        """Remove the persistent config (``virStoragePoolUndefine``)."""
        self._call("storage_pool_undefine", "virStoragePoolUndefine", write=True)

    def refresh(self, flags: int = 0) -> None:
        """Rescan volumes (``virStoragePoolRefresh``)."""
        self._call("storage_pool_refresh", "virStoragePoolRefresh", flags, write=True)

    def info(self) -> StoragePoolInfo:
        """State and sizes (``virStoragePoolGetInfo``)."""
        return StoragePoolInfo(*self._call("storage_pool_get_info", "virStoragePoolGetInfo"))

    def xml_desc(self, flags: int = 0) -> str:
        """Pool XML (``virStoragePoolGetXMLDesc``)."""
        result: str = self._call("storage_pool_get_xml_desc", "virStoragePoolGetXMLDesc", flags)
        return result

    def is_active(self) -> bool:
        """Whether the pool is running (``virStoragePoolIsActive``)."""
        return bool(self._call("storage_pool_is_active", "virStoragePoolIsActive"))

    def is_persistent(self) -> bool:
        """Whether the pool is defined (``virStoragePoolIsPersistent``)."""
        return bool(self._call("storage_pool_is_persistent", "virStoragePoolIsPersistent"))

    def get_autostart(self) -> bool:
        """Autostart flag (``virStoragePoolGetAutostart``)."""
        return bool(self._call("storage_pool_get_autostart", "virStoragePoolGetAutostart"))

    def set_autostart(self, autostart: bool) -> None:
        """Set the autostart flag (``virStoragePoolSetAutostart``)."""
        self._call(
            "storage_pool_set_autostart", "virStoragePoolSetAutostart", bool(autostart), write=True
        )

    def list_all_volumes(self, flags: int = 0) -> list[StorageVol]:
        """Every volume (``virStoragePoolListAllVolumes``)."""
        return list(
            self._call("storage_pool_list_all_volumes", "virStoragePoolListAllVolumes", flags)
        )

    def vol_lookup_by_name(self, name: str) -> StorageVol:
        """Find a volume by name (``virStorageVolLookupByName``)."""
        result: StorageVol = self._call(
            "storage_vol_lookup_by_name", "virStorageVolLookupByName", name
        )
        return result

    def vol_create_xml(self, xml: str, flags: int = 0) -> StorageVol:
        """Create a volume (``virStorageVolCreateXML``)."""
        result: StorageVol = self._call(
            "storage_vol_create_xml", "virStorageVolCreateXML", xml, flags, write=True
        )
        return result


class StorageVol(Handle):
    """A storage volume: pool name, volume name and key (usually the path)."""

    _table = "storage"
    __slots__ = ("_key_", "_name", "_pool")

    def __init__(self, conn: Connection, pool: str, name: str, key: str) -> None:
        super().__init__(conn)
        self._pool = pool
        self._name = name
        self._key_ = key

    def _key(self) -> tuple[Any, ...]:
        return (self._pool, self._name, self._key_)

    @property
    def name(self) -> str:
        """The volume's name."""
        return self._name

    @property
    def key(self) -> str:
        """The volume's unique key."""
        return self._key_

    @property
    def pool_name(self) -> str:
        """Name of the pool holding the volume."""
        return self._pool

    def info(self) -> StorageVolInfo:
        """Type and sizes (``virStorageVolGetInfo``)."""
        return StorageVolInfo(*self._call("storage_vol_get_info", "virStorageVolGetInfo"))

    def xml_desc(self, flags: int = 0) -> str:
        """Volume XML (``virStorageVolGetXMLDesc``)."""
        result: str = self._call("storage_vol_get_xml_desc", "virStorageVolGetXMLDesc", flags)
        return result

    def path(self) -> str:
        """The volume's path (``virStorageVolGetPath``)."""
        result: str = self._call("storage_vol_get_path", "virStorageVolGetPath")
        return result

    def delete(self, flags: int = 0) -> None:
        """Delete the volume (``virStorageVolDelete``)."""
        self._call("storage_vol_delete", "virStorageVolDelete", flags, write=True)


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


class NWFilter(_NamedUUIDHandle):
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


class Stream(Handle):
    """A data stream (volume upload/download, screenshots, consoles).

    A new stream is unbound; the call that uses it (e.g. a volume upload) binds
    a driver backend with :meth:`bind`. Calls on an unbound stream raise
    :class:`~virtcore.errors.NoSupportError`, like libvirt.
    """

    __slots__ = ("_backend", "_flags")

    def __init__(self, conn: Connection, flags: int = 0) -> None:
        super().__init__(conn)
        self._flags = flags
        self._backend: StreamBackend | None = None

    def _key(self) -> tuple[Any, ...]:
        return (id(self),)

    @property
    def flags(self) -> int:
        """The flags the stream was created with (e.g. non-blocking)."""
        return self._flags

    def bind(self, backend: StreamBackend) -> None:
        """Attach the driver-side implementation (drivers call this)."""
        self._backend = backend

    def _require(self, api: str) -> StreamBackend:
        from virtcore.enums.errors import ErrorDomain
        from virtcore.errors import NoSupportError

        self._conn._check_open(api, ErrorDomain.STREAMS)
        if self._backend is None:
            raise NoSupportError(api, domain=ErrorDomain.STREAMS)
        return self._backend

    def send(self, data: bytes) -> int:
        """Write *data*; returns the number of bytes accepted (``virStreamSend``)."""
        return self._require("virStreamSend").send(data)

    def recv(self, nbytes: int) -> bytes:
        """Read up to *nbytes*; ``b""`` at end of stream (``virStreamRecv``)."""
        return self._require("virStreamRecv").recv(nbytes)

    def finish(self) -> None:
        """Complete the transfer (``virStreamFinish``)."""
        self._require("virStreamFinish").finish()

    def abort(self) -> None:
        """Abandon the transfer (``virStreamAbort``)."""
        self._require("virStreamAbort").abort()


class StreamBackend:
    """Driver-side half of a :class:`Stream`; drivers subclass it."""

    def send(self, data: bytes) -> int:
        """Accept *data* from the client."""
        raise NotImplementedError

    def recv(self, nbytes: int) -> bytes:
        """Produce up to *nbytes* for the client."""
        raise NotImplementedError

    def finish(self) -> None:
        """Complete the transfer, reporting any deferred error."""

    def abort(self) -> None:
        """Abandon the transfer and release resources."""


HandleFactory = Callable[..., Handle]
