"""The test driver's network, storage, node device and interface tables (read side).

Lookups, listings with libvirt's filter flags, XML and state queries, with
the test driver's errors: every "not found" error carries error domain
``VIR_FROM_TEST`` (12) and libvirt's detail text (``no network with matching
name 'x'``). Like libvirt 9.0's test driver, node device listing accepts the
capability filters but not the ``ACTIVE``/``INACTIVE`` ones, and no XML flag
is accepted by any of these objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from virtcore.driver import InterfaceDriver, NetworkDriver, NodeDeviceDriver, StorageDriver
from virtcore.drivers.test.objxml import NodeDeviceDef, VolumeDef
from virtcore.drivers.test.state import (
    InterfaceObj,
    NetworkObj,
    PoolObj,
    TestState,
    check_flags,
)
from virtcore.drivers.test.xmlutil import parse_uuid, words
from virtcore.enums.connect import ConnectListAllNetworksFlags as NetFlags
from virtcore.enums.connect import ConnectListAllStoragePoolsFlags as PoolFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.storage import StoragePoolState
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    NoInterfaceError,
    NoNetworkError,
    NoNodeDeviceError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationInvalidError,
    VirtError,
)
from virtcore.objects import Interface, Network, NodeDevice, StoragePool, StorageVol

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.events import EventSource

__all__ = [
    "NODEDEV_CAP_NAMES",
    "TestInterfaceDriver",
    "TestNetworkDriver",
    "TestNodeDeviceDriver",
    "TestStorageDriver",
]

_TEST = ErrorDomain.TEST

NODEDEV_CAP_NAMES = words(
    "system pci usb_device usb net scsi_host scsi_target scsi storage fc_host vports "
    "scsi_generic drm mdev_types mdev ccw css vdpa ap_card ap_queue ap_matrix vpd"
)
"""Capability names in ``ConnectListAllNodeDeviceFlags`` bit order."""

_POOL_TYPES = words(
    "dir fs netfs logical disk iscsi scsi mpath rbd sheepdog gluster zfs vstorage iscsi-direct"
)


def _uuid_or_invalid(uuid: str, domain: int) -> str:
    canonical = parse_uuid(uuid)
    if canonical is None:
        raise InvalidArgError("Invalid UUID", message="Invalid UUID", domain=domain)
    return canonical


def _state_filter(flags: int, active_bit: int, inactive_bit: int, active: bool) -> bool:
    if not flags & (active_bit | inactive_bit):
        return True
    return bool((flags & active_bit and active) or (flags & inactive_bit and not active))


class _Table:
    """Shared plumbing: the host state and its event source."""

    __test__ = False  # not a pytest test class

    def __init__(self, state: TestState) -> None:
        self.state = state

    def event_source(self) -> EventSource:
        """The host's event source (shared with the hypervisor table)."""
        return self.state.events


class TestNetworkDriver(_Table, NetworkDriver):
    """Virtual networks of a test host."""

    def _net(self, net: Network) -> NetworkObj:
        for obj in self.state.networks.values():
            if obj.def_.uuid == net.uuid:
                return obj
        raise NoNetworkError(f"no network with matching uuid '{net.uuid}'", domain=_TEST)

    def _handle(self, conn: Connection, obj: NetworkObj) -> Network:
        return Network(conn, obj.def_.name, obj.def_.uuid)

    def connect_list_all_networks(self, conn: Connection, flags: int) -> list[Network]:
        """Networks matching the filter flags, by name."""
        check_flags(flags, 0x3F, "testConnectListAllNetworks")
        with self.state.lock:
            out = []
            for name in sorted(self.state.networks):
                obj = self.state.networks[name]
                if (
                    _state_filter(flags, NetFlags.ACTIVE, NetFlags.INACTIVE, obj.active)
                    and _state_filter(
                        flags, NetFlags.PERSISTENT, NetFlags.TRANSIENT, obj.persistent
                    )
                    and _state_filter(
                        flags, NetFlags.AUTOSTART, NetFlags.NO_AUTOSTART, obj.autostart
                    )
                ):
                    out.append(self._handle(conn, obj))
            return out

    def connect_num_of_networks(self, conn: Connection) -> int:
        """Number of active networks."""
        return len(self.connect_list_networks(conn))

    def connect_list_networks(self, conn: Connection) -> list[str]:
        """Names of active networks."""
        with self.state.lock:
            return sorted(n for n, o in self.state.networks.items() if o.active)

    def connect_num_of_defined_networks(self, conn: Connection) -> int:
        """Number of inactive networks."""
        return len(self.connect_list_defined_networks(conn))

    def connect_list_defined_networks(self, conn: Connection) -> list[str]:
        """Names of inactive networks."""
        with self.state.lock:
            return sorted(n for n, o in self.state.networks.items() if not o.active)

    def network_lookup_by_name(self, conn: Connection, name: str) -> Network:
        """The network called *name*."""
        with self.state.lock:
            obj = self.state.networks.get(name)
            if obj is None:
                raise NoNetworkError(f"no network with matching name '{name}'", domain=_TEST)
            return self._handle(conn, obj)

    def network_lookup_by_uuid(self, conn: Connection, uuid: str) -> Network:
        """The network with *uuid*."""
        canonical = _uuid_or_invalid(uuid, ErrorDomain.NETWORK)
        with self.state.lock:
            for obj in self.state.networks.values():
                if obj.def_.uuid == canonical:
                    return self._handle(conn, obj)
        raise NoNetworkError(f"no network with matching uuid '{canonical}'", domain=_TEST)

    def network_get_xml_desc(self, conn: Connection, net: Network, flags: int) -> str:
        """The network XML."""
        check_flags(flags, 0, "testNetworkGetXMLDesc")
        with self.state.lock:
            return self._net(net).def_.format()

    def network_is_active(self, conn: Connection, net: Network) -> int:
        """1 when the network is running."""
        with self.state.lock:
            return int(self._net(net).active)

    def network_is_persistent(self, conn: Connection, net: Network) -> int:
        """1 when the network is defined."""
        with self.state.lock:
            return int(self._net(net).persistent)

    def network_get_autostart(self, conn: Connection, net: Network) -> int:
        """The autostart flag."""
        with self.state.lock:
            return int(self._net(net).autostart)

    def network_get_bridge_name(self, conn: Connection, net: Network) -> str:
        """The host bridge of the network."""
        with self.state.lock:
            obj = self._net(net)
            if not obj.def_.bridge_name:
                raise InternalError(
                    f"network '{obj.def_.name}' does not have a bridge name.", domain=_TEST
                )
            return obj.def_.bridge_name


class TestStorageDriver(_Table, StorageDriver):
    """Storage pools and volumes of a test host."""

    def _pool(self, pool: StoragePool) -> PoolObj:
        for obj in self.state.pools.values():
            if obj.def_.uuid == pool.uuid:
                return obj
        raise NoStoragePoolError(f"no storage pool with matching uuid '{pool.uuid}'", domain=_TEST)

    def _vol(self, vol: StorageVol) -> tuple[PoolObj, VolumeDef]:
        pool = self.state.pools.get(vol.pool_name)
        found = pool.volumes.get(vol.name) if pool is not None else None
        if pool is None or found is None:
            raise NoStorageVolError(f"no storage vol with matching name '{vol.name}'", domain=_TEST)
        return pool, found

    def _handle(self, conn: Connection, obj: PoolObj) -> StoragePool:
        return StoragePool(conn, obj.def_.name, obj.def_.uuid)

    def connect_list_all_storage_pools(self, conn: Connection, flags: int) -> list[StoragePool]:
        """Pools matching the filter flags (state, persistence, autostart, type), by name."""
        check_flags(flags, (1 << 20) - 1, "testConnectListAllStoragePools")
        type_bits = int(flags) >> 6
        with self.state.lock:
            out = []
            for name in sorted(self.state.pools):
                obj = self.state.pools[name]
                if not (
                    _state_filter(flags, PoolFlags.ACTIVE, PoolFlags.INACTIVE, obj.active)
                    and _state_filter(
                        flags, PoolFlags.PERSISTENT, PoolFlags.TRANSIENT, obj.persistent
                    )
                    and _state_filter(
                        flags, PoolFlags.AUTOSTART, PoolFlags.NO_AUTOSTART, obj.autostart
                    )
                ):
                    continue
                if type_bits:
                    kind = obj.def_.pool_type
                    bit = _POOL_TYPES.index(kind) if kind in _POOL_TYPES else -1
                    if bit < 0 or not type_bits & (1 << bit):
                        continue
                out.append(self._handle(conn, obj))
            return out

    def connect_num_of_storage_pools(self, conn: Connection) -> int:
        """Number of active pools."""
        return len(self.connect_list_storage_pools(conn))

    def connect_list_storage_pools(self, conn: Connection) -> list[str]:
        """Names of active pools."""
        with self.state.lock:
            return sorted(n for n, o in self.state.pools.items() if o.active)

    def connect_num_of_defined_storage_pools(self, conn: Connection) -> int:
        """Number of inactive pools."""
        return len(self.connect_list_defined_storage_pools(conn))

    def connect_list_defined_storage_pools(self, conn: Connection) -> list[str]:
        """Names of inactive pools."""
        with self.state.lock:
            return sorted(n for n, o in self.state.pools.items() if not o.active)

    def storage_pool_lookup_by_name(self, conn: Connection, name: str) -> StoragePool:
        """The pool called *name*."""
        with self.state.lock:
            obj = self.state.pools.get(name)
            if obj is None:
                raise NoStoragePoolError(
                    f"no storage pool with matching name '{name}'", domain=_TEST
                )
            return self._handle(conn, obj)

    def storage_pool_lookup_by_uuid(self, conn: Connection, uuid: str) -> StoragePool:
        """The pool with *uuid*."""
        canonical = _uuid_or_invalid(uuid, ErrorDomain.STORAGE)
        with self.state.lock:
            for obj in self.state.pools.values():
                if obj.def_.uuid == canonical:
                    return self._handle(conn, obj)
        raise NoStoragePoolError(f"no storage pool with matching uuid '{canonical}'", domain=_TEST)

    def storage_pool_get_info(
        self, conn: Connection, pool: StoragePool
    ) -> tuple[int, int, int, int]:
        """State, capacity, allocation and available bytes."""
        with self.state.lock:
            obj = self._pool(pool)
            state = StoragePoolState.RUNNING if obj.active else StoragePoolState.INACTIVE
            d = obj.def_
            return int(state), d.capacity, d.allocation, d.available

    def storage_pool_get_xml_desc(self, conn: Connection, pool: StoragePool, flags: int) -> str:
        """The pool XML."""
        check_flags(flags, 0, "testStoragePoolGetXMLDesc")
        with self.state.lock:
            return self._pool(pool).def_.format()

    def storage_pool_is_active(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool is running."""
        with self.state.lock:
            return int(self._pool(pool).active)

    def storage_pool_is_persistent(self, conn: Connection, pool: StoragePool) -> int:
        """1 when the pool is defined."""
        with self.state.lock:
            return int(self._pool(pool).persistent)

    def storage_pool_get_autostart(self, conn: Connection, pool: StoragePool) -> int:
        """The autostart flag."""
        with self.state.lock:
            return int(self._pool(pool).autostart)

    def _active_pool(self, pool: StoragePool) -> PoolObj:
        obj = self._pool(pool)
        if not obj.active:
            raise OperationInvalidError(
                f"storage pool '{obj.def_.name}' is not active", domain=_TEST
            )
        return obj

    def storage_pool_num_of_volumes(self, conn: Connection, pool: StoragePool) -> int:
        """Number of volumes in an active pool."""
        with self.state.lock:
            return len(self._active_pool(pool).volumes)

    def storage_pool_list_volumes(self, conn: Connection, pool: StoragePool) -> list[str]:
        """Volume names of an active pool."""
        with self.state.lock:
            return sorted(self._active_pool(pool).volumes)

    def storage_pool_list_all_volumes(
        self, conn: Connection, pool: StoragePool, flags: int
    ) -> list[StorageVol]:
        """Volumes of an active pool, by name."""
        check_flags(flags, 0, "testStoragePoolListAllVolumes")
        with self.state.lock:
            obj = self._active_pool(pool)
            return [
                StorageVol(conn, obj.def_.name, v.name, v.key)
                for _, v in sorted(obj.volumes.items())
            ]

    def storage_vol_lookup_by_name(
        self, conn: Connection, pool: StoragePool, name: str
    ) -> StorageVol:
        """The volume called *name* in *pool*."""
        with self.state.lock:
            obj = self._active_pool(pool)
            vol = obj.volumes.get(name)
            if vol is None:
                raise NoStorageVolError(f"no storage vol with matching name '{name}'", domain=_TEST)
            return StorageVol(conn, obj.def_.name, vol.name, vol.key)

    def _find_vol(self, conn: Connection, attr: str, value: str) -> StorageVol:
        with self.state.lock:
            for name in sorted(self.state.pools):
                obj = self.state.pools[name]
                if not obj.active:
                    continue
                for vol in obj.volumes.values():
                    if getattr(vol, attr) == value:
                        return StorageVol(conn, obj.def_.name, vol.name, vol.key)
        raise NoStorageVolError(f"no storage vol with matching {attr} '{value}'", domain=_TEST)

    def storage_vol_lookup_by_key(self, conn: Connection, key: str) -> StorageVol:
        """The volume with *key* in any active pool."""
        return self._find_vol(conn, "key", key)

    def storage_vol_lookup_by_path(self, conn: Connection, path: str) -> StorageVol:
        """The volume at *path* in any active pool."""
        return self._find_vol(conn, "path", path)

    def storage_vol_get_info(self, conn: Connection, vol: StorageVol) -> tuple[int, int, int]:
        """Type, capacity and allocation in bytes."""
        with self.state.lock:
            _, found = self._vol(vol)
            return found.type_number, found.capacity, found.allocation

    def storage_vol_get_xml_desc(self, conn: Connection, vol: StorageVol, flags: int) -> str:
        """The volume XML."""
        check_flags(flags, 0, "testStorageVolGetXMLDesc")
        with self.state.lock:
            return self._vol(vol)[1].format()

    def storage_vol_get_path(self, conn: Connection, vol: StorageVol) -> str:
        """The volume's path."""
        with self.state.lock:
            return self._vol(vol)[1].path


class TestNodeDeviceDriver(_Table, NodeDeviceDriver):
    """Host devices of a test host."""

    def _dev(self, name: str) -> NodeDeviceDef:
        dev = self.state.nodedevs.get(name)
        if dev is None:
            raise NoNodeDeviceError(f"no node device with matching name '{name}'", domain=_TEST)
        return dev

    def _matching(self, cap: str | None) -> list[str]:
        return sorted(
            n for n, d in self.state.nodedevs.items() if cap is None or cap in d.all_cap_types()
        )

    def connect_list_all_node_devices(self, conn: Connection, flags: int) -> list[NodeDevice]:
        """Devices having any of the requested capabilities (all without filter)."""
        check_flags(flags, (1 << len(NODEDEV_CAP_NAMES)) - 1, "testConnectListAllNodeDevices")
        wanted = {name for bit, name in enumerate(NODEDEV_CAP_NAMES) if flags & (1 << bit)}
        with self.state.lock:
            return [
                NodeDevice(conn, name)
                for name in self._matching(None)
                if not wanted or wanted & self.state.nodedevs[name].all_cap_types()
            ]

    def node_num_of_devices(self, conn: Connection, cap: str | None, flags: int) -> int:
        """Number of devices with capability *cap* (all when None)."""
        return len(self.node_list_devices(conn, cap, flags))

    def node_list_devices(self, conn: Connection, cap: str | None, flags: int) -> list[str]:
        """Names of devices with capability *cap* (all when None)."""
        check_flags(flags, 0, "testNodeListDevices")
        with self.state.lock:
            return self._matching(cap)

    def node_device_lookup_by_name(self, conn: Connection, name: str) -> NodeDevice:
        """The device called *name*."""
        with self.state.lock:
            self._dev(name)
            return NodeDevice(conn, name)

    def node_device_get_xml_desc(self, conn: Connection, dev: NodeDevice, flags: int) -> str:
        """The device XML."""
        check_flags(flags, 0, "testNodeDeviceGetXMLDesc")
        with self.state.lock:
            return self.state.nodedevs[self._checked(dev)].format()

    def node_device_get_parent(self, conn: Connection, dev: NodeDevice) -> str | None:
        """The parent device's name, None for the root device."""
        with self.state.lock:
            return self.state.nodedevs[self._checked(dev)].parent

    def node_device_num_of_caps(self, conn: Connection, dev: NodeDevice) -> int:
        """Number of top-level capabilities."""
        return len(self.node_device_list_caps(conn, dev))

    def node_device_list_caps(self, conn: Connection, dev: NodeDevice) -> list[str]:
        """Top-level capability names."""
        with self.state.lock:
            return self.state.nodedevs[self._checked(dev)].cap_types()

    def _checked(self, dev: NodeDevice) -> str:
        self._dev(dev.name)
        return dev.name


class TestInterfaceDriver(_Table, InterfaceDriver):
    """Host interfaces of a test host."""

    def _iface(self, iface: Interface) -> InterfaceObj:
        obj = self.state.interfaces.get(iface.name)
        if obj is None:
            raise NoInterfaceError(f"no interface with matching name '{iface.name}'", domain=_TEST)
        return obj

    def _handle(self, conn: Connection, obj: InterfaceObj) -> Interface:
        return Interface(conn, obj.def_.name or "", (obj.def_.mac or "").lower())

    def connect_list_all_interfaces(self, conn: Connection, flags: int) -> list[Interface]:
        """Interfaces matching the active/inactive filter, by name."""
        check_flags(flags, 0x3, "testConnectListAllInterfaces")
        with self.state.lock:
            return [
                self._handle(conn, o)
                for _, o in sorted(self.state.interfaces.items())
                if _state_filter(flags, 2, 1, o.active)
            ]

    def connect_num_of_interfaces(self, conn: Connection) -> int:
        """Number of active interfaces."""
        return len(self.connect_list_interfaces(conn))

    def connect_list_interfaces(self, conn: Connection) -> list[str]:
        """Names of active interfaces."""
        with self.state.lock:
            return sorted(n for n, o in self.state.interfaces.items() if o.active)

    def connect_num_of_defined_interfaces(self, conn: Connection) -> int:
        """Number of inactive interfaces."""
        return len(self.connect_list_defined_interfaces(conn))

    def connect_list_defined_interfaces(self, conn: Connection) -> list[str]:
        """Names of inactive interfaces."""
        with self.state.lock:
            return sorted(n for n, o in self.state.interfaces.items() if not o.active)

    def interface_lookup_by_name(self, conn: Connection, name: str) -> Interface:
        """The interface called *name*."""
        with self.state.lock:
            obj = self.state.interfaces.get(name)
            if obj is None:
                raise NoInterfaceError(f"no interface with matching name '{name}'", domain=_TEST)
            return self._handle(conn, obj)

    def interface_lookup_by_mac_string(self, conn: Connection, mac: str) -> Interface:
        """The interface with MAC address *mac* (case-insensitive)."""
        with self.state.lock:
            found = [
                o
                for _, o in sorted(self.state.interfaces.items())
                if (o.def_.mac or "").lower() == mac.lower()
            ]
        if not found:
            raise NoInterfaceError(f"no interface with matching mac '{mac}'", domain=_TEST)
        if len(found) > 1:
            raise VirtError(
                "multiple interfaces with matching MAC address",
                code=ErrorNumber.MULTIPLE_INTERFACES,
                domain=_TEST,
            )
        return self._handle(conn, found[0])

    def interface_get_xml_desc(self, conn: Connection, iface: Interface, flags: int) -> str:
        """The interface XML."""
        check_flags(flags, 0, "testInterfaceGetXMLDesc")
        with self.state.lock:
            return self._iface(iface).def_.format()

    def interface_is_active(self, conn: Connection, iface: Interface) -> int:
        """1 when the interface is up."""
        with self.state.lock:
            return int(self._iface(iface).active)
