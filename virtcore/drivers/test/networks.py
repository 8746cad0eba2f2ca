"""The test driver's network table: libvirt 9.0's test driver semantics, plus ports and leases.

Lifecycle, as ``testNetwork*`` implements it:

* define (``DEFINED``) adds an inactive persistent network or replaces the
  persistent definition of an existing one (the live one, if running, is
  kept); create-XML (``STARTED``) starts a transient network or a defined
  inactive one with a new live definition; create (``STARTED``) starts a
  defined network; destroy (``STOPPED``) stops a network - even one that is
  not running, as libvirt's test driver does - and removes a transient one;
  undefine (``UNDEFINED``) removes an inactive network.
* As in the test driver, stopping does not swap the persistent definition
  back in: after define-while-running and destroy, the XML still shows the
  old live definition, and a later ``CONFIG`` update starts from the saved
  persistent one.
* ``virNetworkUpdate`` follows ``virNetworkObjUpdate``: ``CURRENT`` means
  ``LIVE`` when running else ``CONFIG``; ``LIVE`` needs a running network,
  ``CONFIG`` a persistent one; each affected definition is edited on a copy
  (:mod:`.netupdate`) and replaced only if the edit succeeds.

Beyond libvirt's test driver, which lacks them, the table follows libvirt's
network driver (``bridge_driver.c``):

* network ports: created on a running network (plug type ``none`` unless
  ``RECLAIM``), given a plug derived from the forward mode, counted in the
  network's ``connections``; deleted with the port API or when the network
  stops;
* DHCP leases: every running domain's interface on the network leases the
  address ``virDomainInterfaceAddresses`` reports for it on the test host
  (a static DHCP host entry for its MAC wins), with host name
  ``<domain>host`` and an expiry one hour after the host's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from virtcore.driver import NetworkDriver
from virtcore.drivers.test.netupdate import update_section
from virtcore.drivers.test.netxml import IPDef, NetworkDef, NetworkPortDef, parse_mac
from virtcore.drivers.test.secondary import SecondaryTable, emit, state_filter, uuid_or_invalid
from virtcore.drivers.test.state import NetworkObj, TestState, check_flags
from virtcore.drivers.test.xmlutil import child
from virtcore.enums.connect import ConnectListAllNetworksFlags as NetFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.network import NetworkEventLifecycleType as NetEvent
from virtcore.enums.network import NetworkPortCreateFlags as PortFlags
from virtcore.enums.network import NetworkUpdateFlags as UpdateFlags
from virtcore.errors import (
    AlreadyExistsError,
    ArgumentUnsupportedError,
    InternalError,
    InvalidArgError,
    NoNetworkError,
    NoNetworkPortError,
    OperationFailedError,
    OperationInvalidError,
    VirtError,
)
from virtcore.events import EventKind
from virtcore.objects import Network, NetworkPort

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["NetworkRecord", "TestNetworkDriver", "add_network"]

_TEST = ErrorDomain.TEST
_NET = ErrorDomain.NETWORK
_LEASE_SECONDS = 3600
_PORT_PARAMS = (
    ("inbound.average", "inbound", "average"),
    ("inbound.peak", "inbound", "peak"),
    ("inbound.floor", "inbound", "floor"),
    ("inbound.burst", "inbound", "burst"),
    ("outbound.average", "outbound", "average"),
    ("outbound.peak", "outbound", "peak"),
    ("outbound.burst", "outbound", "burst"),
)


@dataclass
class NetworkRecord(NetworkObj):
    """A network with libvirt's second definition and its ports.

    ``def_`` is the live definition (the only one of an inactive network
    unless a stop left a persistent one behind in ``new_def``).
    """

    new_def: NetworkDef | None = None
    ports: dict[str, NetworkPortDef] = field(default_factory=dict)

    def persistent_def(self) -> NetworkDef:
        """The definition a ``CONFIG`` change edits (``virNetworkObjGetPersistentDef``)."""
        return self.new_def if self.new_def is not None else self.def_


def _find(state: TestState, *, uuid: str | None = None, name: str | None = None) -> NetworkRecord:
    """The network by UUID or name (no error), upgraded to a record if need be."""
    for key, obj in state.networks.items():
        if (uuid is not None and obj.def_.uuid == uuid) or (name is not None and key == name):
            if isinstance(obj, NetworkRecord):
                return obj
            record = NetworkRecord(obj.def_, obj.active, obj.persistent, obj.autostart)
            state.networks[key] = record
            return record
    raise KeyError(uuid or name)


def add_network(state: TestState, new: NetworkDef, *, live: bool = False) -> NetworkRecord:
    """Add or update a network like ``virNetworkObjAssignDef``; the caller holds the lock.

    *live* installs *new* as the running definition (create) rather than the
    persistent one (define), and refuses a network that is already running.
    """
    try:
        obj = _find(state, uuid=new.uuid)
    except KeyError:
        for other in state.networks.values():
            if other.def_.name == new.name:
                raise OperationFailedError(
                    f"network '{new.name}' already exists with uuid {other.def_.uuid}",
                    domain=_NET,
                ) from None
        record = NetworkRecord(new, active=False, persistent=not live)
        state.networks[new.name] = record
        return record
    if obj.def_.name != new.name:
        raise OperationFailedError(
            f"network '{obj.def_.name}' is already defined with uuid {obj.def_.uuid}", domain=_NET
        )
    if live:
        if obj.active:
            raise OperationInvalidError(
                f"network is already active as '{obj.def_.name}'", domain=_NET
            )
        if obj.persistent and obj.new_def is None:
            obj.new_def = obj.def_
        obj.def_ = new
    else:
        if obj.active:
            obj.new_def = new
        else:
            obj.new_def = None
            obj.def_ = new
        obj.persistent = True
    return obj


class TestNetworkDriver(SecondaryTable, NetworkDriver):
    """Virtual networks of a test host."""

    # -- lookups ------------------------------------------------------------------------

    def _by_name(self, name: str) -> NetworkRecord:
        try:
            return _find(self.state, name=name)
        except KeyError:
            raise NoNetworkError(f"no network with matching name '{name}'", domain=_TEST) from None

    def _by_uuid(self, uuid: str) -> NetworkRecord:
        try:
            return _find(self.state, uuid=uuid)
        except KeyError:
            raise NoNetworkError(f"no network with matching uuid '{uuid}'", domain=_TEST) from None

    def _handle(self, conn: Connection, obj: NetworkObj) -> Network:
        return Network(conn, obj.def_.name, obj.def_.uuid)

    def _emit(self, obj: NetworkObj, event: int) -> None:
        emit(self.state, EventKind.NETWORK, 0, obj.def_.name, obj.def_.uuid, event, 0)

    def connect_list_all_networks(self, conn: Connection, flags: int) -> list[Network]:
        """Networks matching the filter flags, by name."""
        check_flags(flags, 0x3F, "testConnectListAllNetworks")
        with self.state.lock:
            return [
                self._handle(conn, obj)
                for _, obj in sorted(self.state.networks.items())
                if state_filter(flags, NetFlags.ACTIVE, NetFlags.INACTIVE, obj.active)
                and state_filter(flags, NetFlags.PERSISTENT, NetFlags.TRANSIENT, obj.persistent)
                and state_filter(flags, NetFlags.AUTOSTART, NetFlags.NO_AUTOSTART, obj.autostart)
            ]

    def _names(self, active: bool) -> list[str]:
        with self.state.lock:
            return sorted(n for n, o in self.state.networks.items() if o.active == active)

    def connect_num_of_networks(self, conn: Connection) -> int:
        """Number of active networks."""
        return len(self._names(True))

    def connect_list_networks(self, conn: Connection) -> list[str]:
        """Names of active networks."""
        return self._names(True)

    def connect_num_of_defined_networks(self, conn: Connection) -> int:
        """Number of inactive networks."""
        return len(self._names(False))

    def connect_list_defined_networks(self, conn: Connection) -> list[str]:
        """Names of inactive networks."""
        return self._names(False)

    def network_lookup_by_name(self, conn: Connection, name: str) -> Network:
        """The network called *name*."""
        with self.state.lock:
            return self._handle(conn, self._by_name(name))

    def network_lookup_by_uuid(self, conn: Connection, uuid: str) -> Network:
        """The network with *uuid*."""
        canonical = uuid_or_invalid(uuid, _NET, "virNetworkLookupByUUIDString")
        with self.state.lock:
            return self._handle(conn, self._by_uuid(canonical))

    # -- lifecycle ------------------------------------------------------------------------

    def network_define_xml_flags(self, conn: Connection, xml: str, flags: int) -> Network:
        """Define a persistent network, or update the persistent definition (``DEFINED``)."""
        check_flags(flags, 1, "testNetworkDefineXMLFlags")
        new = NetworkDef.parse(xml)
        with self.state.lock:
            obj = add_network(self.state, new)
            self._emit(obj, NetEvent.DEFINED)
            return Network(conn, new.name, new.uuid)

    def network_create_xml_flags(self, conn: Connection, xml: str, flags: int) -> Network:
        """Start a network from *xml*, transient unless already defined (``STARTED``)."""
        check_flags(flags, 1, "testNetworkCreateXMLFlags")
        new = NetworkDef.parse(xml)
        with self.state.lock:
            obj = add_network(self.state, new, live=True)
            obj.active = True
            self._emit(obj, NetEvent.STARTED)
            return Network(conn, new.name, new.uuid)

    def network_create(self, conn: Connection, net: Network) -> None:
        """Start a defined network (``STARTED``)."""
        with self.state.lock:
            obj = self._by_name(net.name)
            if obj.active:
                raise OperationInvalidError(
                    f"Network '{net.name}' is already running", domain=_TEST
                )
            obj.active = True
            self._emit(obj, NetEvent.STARTED)

    def network_destroy(self, conn: Connection, net: Network) -> None:
        """Stop a network (``STOPPED``); a transient one disappears. Its ports are deleted."""
        with self.state.lock:
            obj = self._by_name(net.name)
            obj.active = False
            obj.ports.clear()
            obj.def_.connections = 0
            for iface in obj.def_.forward_ifs:
                iface.connections = 0
            self._emit(obj, NetEvent.STOPPED)
            if not obj.persistent:
                self.state.networks.pop(obj.def_.name, None)

    def network_undefine(self, conn: Connection, net: Network) -> None:
        """Remove an inactive network (``UNDEFINED``)."""
        with self.state.lock:
            obj = self._by_name(net.name)
            if obj.active:
                raise OperationInvalidError(f"Network '{net.name}' is still running", domain=_TEST)
            emit(self.state, EventKind.NETWORK, 0, net.name, net.uuid, NetEvent.UNDEFINED, 0)
            self.state.networks.pop(obj.def_.name, None)

    def network_update(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        net: Network,
        command: int,
        section: int,
        parent_index: int,
        xml: str,
        flags: int,
    ) -> None:
        """Edit one section of the live and/or persistent definition (``virNetworkUpdate``)."""
        check_flags(flags, int(UpdateFlags.LIVE | UpdateFlags.CONFIG), "testNetworkUpdate")
        with self.state.lock:
            obj = self._by_uuid(net.uuid)
            if not flags & (UpdateFlags.LIVE | UpdateFlags.CONFIG):
                flags |= UpdateFlags.LIVE if obj.active else UpdateFlags.CONFIG
            if flags & UpdateFlags.LIVE and not obj.active:
                raise OperationInvalidError("network is not running", domain=_NET)
            if flags & UpdateFlags.CONFIG:
                if not obj.persistent:
                    raise OperationInvalidError(
                        "cannot change persistent config of a transient network", domain=_NET
                    )
                if obj.active and obj.new_def is None:
                    obj.new_def = obj.def_.copy()
            live = config = None
            if flags & UpdateFlags.LIVE:
                live = obj.def_.copy(inactive=False)
                update_section(live, command, section, parent_index, xml)
                live.copy(inactive=False)  # a final format/parse cycle refuses invalid results
            if flags & UpdateFlags.CONFIG:
                config = obj.persistent_def().copy()
                update_section(config, command, section, parent_index, xml)
                config.copy()
            if config is not None:
                if obj.active:
                    obj.new_def = config
                else:
                    obj.def_ = config
            if live is not None:
                obj.def_ = live

    # -- queries ----------------------------------------------------------------------------

    def network_get_xml_desc(self, conn: Connection, net: Network, flags: int) -> str:
        """The live network XML."""
        check_flags(flags, 0, "testNetworkGetXMLDesc")
        with self.state.lock:
            return self._by_name(net.name).def_.format()

    def network_is_active(self, conn: Connection, net: Network) -> int:
        """1 when the network is running."""
        with self.state.lock:
            return int(self._by_uuid(net.uuid).active)

    def network_is_persistent(self, conn: Connection, net: Network) -> int:
        """1 when the network is defined."""
        with self.state.lock:
            return int(self._by_uuid(net.uuid).persistent)

    def network_get_autostart(self, conn: Connection, net: Network) -> int:
        """The autostart flag."""
        with self.state.lock:
            return int(self._by_name(net.name).autostart)

    def network_set_autostart(self, conn: Connection, net: Network, autostart: int) -> None:
        """Set the autostart flag (accepted on transient networks, as in the test driver)."""
        with self.state.lock:
            self._by_name(net.name).autostart = bool(autostart)

    def network_get_bridge_name(self, conn: Connection, net: Network) -> str:
        """The host bridge of the network."""
        with self.state.lock:
            obj = self._by_name(net.name)
            if not obj.def_.bridge_name:
                raise InternalError(
                    f"network '{obj.def_.name}' does not have a bridge name.", domain=_TEST
                )
            return obj.def_.bridge_name

    # -- DHCP leases ------------------------------------------------------------------------

    def network_get_dhcp_leases(
        self, conn: Connection, net: Network, mac: str | None, flags: int
    ) -> list[dict[str, Any]]:
        """Leases of the network's DHCP server, as libvirt-python's dictionaries."""
        check_flags(flags, 0, "testNetworkGetDHCPLeases")
        wanted = None
        if mac is not None:
            wanted = parse_mac(mac)
            if wanted is None:
                raise VirtError(f"invalid MAC: {mac}", code=ErrorNumber.INVALID_MAC, domain=_NET)
        from virtcore.drivers.test.determinism import host_time_ns

        with self.state.lock:
            obj = self._by_uuid(net.uuid)
            ip = obj.def_.ips[0] if obj.def_.ips else None
            if not obj.active or ip is None or not ip.has_dhcp:
                return []
            expiry = host_time_ns(self.state) // 1_000_000_000 + _LEASE_SECONDS
            leases = []
            for dom in sorted(self.state.domains(), key=lambda d: d.id):
                if not dom.is_active():
                    continue
                nics = [d for d in dom.def_.devices if d.tag == "interface"]
                for index, nic in enumerate(nics):
                    source = child(nic, "source")
                    mac_elem = child(nic, "mac")
                    nic_mac = (
                        parse_mac(mac_elem.get("address", "")) if mac_elem is not None else None
                    )
                    if (
                        nic.get("type") != "network"
                        or source is None
                        or source.get("network") != obj.def_.name
                        or nic_mac is None
                        or (wanted is not None and nic_mac != wanted)
                    ):
                        continue
                    address = _lease_address(ip, nic_mac, 20 * (dom.id - 1) + index + 1)
                    leases.append(
                        {
                            "iface": obj.def_.bridge_name or "",
                            "expirytime": expiry,
                            "type": 0 if ip.address.version == 4 else 1,
                            "mac": nic_mac,
                            "iaid": None,
                            "ipaddr": address,
                            "prefix": ip.prefix_length,
                            "hostname": f"{dom.name}host",
                            "clientid": None,
                        }
                    )
            return leases

    # -- ports --------------------------------------------------------------------------------

    def _port(self, port: NetworkPort) -> tuple[NetworkRecord, NetworkPortDef]:
        obj = self._by_uuid(port.network.uuid)
        found = obj.ports.get(port.uuid)
        if found is None:
            raise NoNetworkPortError(
                f"Network port with UUID {port.uuid} does not exist", domain=_NET
            )
        return obj, found

    def network_list_all_ports(
        self, conn: Connection, net: Network, flags: int
    ) -> list[NetworkPort]:
        """The network's ports, by UUID."""
        check_flags(flags, 0, "testNetworkListAllPorts")
        with self.state.lock:
            obj = self._by_uuid(net.uuid)
            return [NetworkPort(net, uuid) for uuid in sorted(obj.ports)]

    def network_port_lookup_by_uuid(self, conn: Connection, net: Network, uuid: str) -> NetworkPort:
        """The port with *uuid* on the network."""
        canonical = uuid_or_invalid(uuid, _NET, "virNetworkPortLookupByUUIDString")
        with self.state.lock:
            obj = self._by_uuid(net.uuid)
            if canonical not in obj.ports:
                raise NoNetworkPortError(
                    f"Network port with UUID {canonical} does not exist", domain=_NET
                )
            return NetworkPort(net, canonical)

    def network_port_create_xml(
        self, conn: Connection, net: Network, xml: str, flags: int
    ) -> NetworkPort:
        """Allocate a port on a running network (``networkPortCreateXML``)."""
        check_flags(flags, int(PortFlags.RECLAIM | PortFlags.VALIDATE), "testNetworkPortCreateXML")
        with self.state.lock:
            obj = self._by_uuid(net.uuid)
            port = NetworkPortDef.parse(xml)
            if not obj.active:
                raise OperationInvalidError(f"network '{obj.def_.name}' is not active", domain=_NET)
            if port.plug_type == "none" and flags & PortFlags.RECLAIM:
                raise InvalidArgError("Port reclaim requested but plug type is none", domain=_NET)
            if port.plug_type != "none" and not flags & PortFlags.RECLAIM:
                raise InvalidArgError("Port allocation requires plug type none", domain=_NET)
            if port.uuid in obj.ports:
                raise AlreadyExistsError(
                    f"Network port with UUID {port.uuid} already exists",
                    code=ErrorNumber.NETWORK_PORT_EXIST,
                    domain=_NET,
                )
            if port.plug_type == "none":
                _plug(obj.def_, port)
            _account(obj.def_, port, +1)
            obj.ports[port.uuid] = port
            return NetworkPort(net, port.uuid)

    def network_port_get_xml_desc(self, conn: Connection, port: NetworkPort, flags: int) -> str:
        """The port XML."""
        check_flags(flags, 0, "testNetworkPortGetXMLDesc")
        with self.state.lock:
            return self._port(port)[1].format()

    def network_port_delete(self, conn: Connection, port: NetworkPort, flags: int) -> None:
        """Release a port."""
        check_flags(flags, 0, "testNetworkPortDelete")
        with self.state.lock:
            obj, found = self._port(port)
            _account(obj.def_, found, -1)
            del obj.ports[found.uuid]

    def network_port_get_parameters(
        self, conn: Connection, port: NetworkPort, flags: int
    ) -> dict[str, int]:
        """The port's bandwidth limits as libvirt's typed parameters (0 when unset)."""
        check_flags(flags, 0, "testNetworkPortGetParameters")
        with self.state.lock:
            found = self._port(port)[1]
            return {
                key: found.bandwidth.get(direction, {}).get(rate, 0)
                for key, direction, rate in _PORT_PARAMS
            }

    def network_port_set_parameters(
        self, conn: Connection, port: NetworkPort, params: dict[str, int], flags: int
    ) -> None:
        """Change the port's bandwidth limits (0 removes a limit)."""
        check_flags(flags, 0, "testNetworkPortSetParameters")
        known = {key: (direction, rate) for key, direction, rate in _PORT_PARAMS}
        for key, value in params.items():
            if key not in known:
                raise ArgumentUnsupportedError(f"parameter '{key}' not supported", domain=_NET)
            if not isinstance(value, int) or not 0 <= value < 2**32:
                raise InvalidArgError(f"invalid value for parameter '{key}'", domain=_NET)
        with self.state.lock:
            found = self._port(port)[1]
            for key, value in params.items():
                direction, rate = known[key]
                rates = found.bandwidth.setdefault(direction, {})
                if value:
                    rates[rate] = value
                else:
                    rates.pop(rate, None)
                if not rates:
                    del found.bandwidth[direction]


def _lease_address(ip: IPDef, mac: str, offset: int) -> str:
    for host in ip.hosts:
        if host.mac is not None and parse_mac(host.mac) == mac and host.ip is not None:
            return str(host.ip)
    base = ip.ranges[0].start if ip.ranges else ip.address
    return str(type(base)(int(base) + offset))


def _plug(net: NetworkDef, port: NetworkPortDef) -> None:
    """Give a new port the plug ``networkAllocatePort`` would give it."""
    mode = net.forward_mode
    if mode in ("none", "nat", "route", "open"):
        port.plug_type = "network"
        port.plug = {"bridge": net.bridge_name or ""}
    elif mode == "bridge" and net.bridge_name:
        port.plug_type = "bridge"
        port.plug = {"bridge": net.bridge_name}
    elif mode == "hostdev" or not net.forward_ifs:
        raise OperationFailedError(
            f"network '{net.name}' uses a direct/hostdev mode, but has no forward dev and no "
            "interface pool",
            domain=_NET,
        )
    else:
        least = min(net.forward_ifs, key=lambda f: f.connections)
        port.plug_type = "direct"
        port.plug = {"dev": least.dev, "mode": mode}
    if net.mac_table_manager and port.plug_type in ("network", "bridge"):
        port.plug["macTableManager"] = net.mac_table_manager


def _account(net: NetworkDef, port: NetworkPortDef, delta: int) -> None:
    net.connections = max(net.connections + delta, 0)
    if port.plug_type == "direct":
        for iface in net.forward_ifs:
            if iface.dev == port.plug.get("dev"):
                iface.connections = max(iface.connections + delta, 0)
