"""The virtual network document (``<network>``), read, checked and written as libvirt 9.0 does.

:class:`Network` is a typed view of a live ``<network>`` tree: every property
reads or edits the tree, and whatever the model does not describe (newer
elements, foreign namespaces, ``<metadata>`` content) stays in it, so
:meth:`~virtcore.xml.builder.XMLNode.to_string` gives the document back
with nothing lost.

What libvirt makes of a document is a different matter, and two methods
reproduce it:

* :meth:`Network.definition` applies the checks of ``virNetworkDefParseXML``
  in libvirt's order and raises its exact errors (``XML error: Invalid
  address 'zz' in network 'n'``, with code and error domain); it returns
  the values libvirt keeps (:class:`NetworkDef`);
* :meth:`Network.format` writes those values exactly as ``virsh net-dumpxml``
  prints them after ``net-define`` on libvirt 9.0's test driver: defaults
  filled in (``<bridge stp='on' delay='0'/>``, ``mode='nat'``), addresses
  normalised, elements in libvirt's order, unknown content (including
  ``<title>``/``<description>``, which libvirt 9.0 does not know) dropped.
  ``flags`` takes :class:`~virtcore.enums.network.NetworkXMLFlags`;
  ``INACTIVE`` leaves out the live ``connections`` counts and a hostdev
  pool's expanded interface list.

:meth:`Network.parse` is the define path: parse the text, run the checks,
give the network a UUID if it has none and drop the ``connections``
attributes libvirt never reads from input (drivers set them).

Deliberate differences from libvirt 9.0: values it writes without escaping
(the DNS domain name, port group names, DHCP host names and ids, a
virtualport's profile id) are escaped, so the output stays well-formed XML
where libvirt's would not be; IPv6 addresses with a zone index
(``fe80::1%eth0``), which depend on the host's interfaces, are refused.
"""

from __future__ import annotations

import copy
import logging
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.network import NetworkXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.builder import (
    INT,
    ONOFF,
    UINT,
    YESNO,
    XMLChild,
    XMLChildList,
    XMLNode,
    XMLProperty,
)
from virtcore.xml.format import NETWORK_RULES, FormatRules, format_xml
from virtcore.xml.network_addr import (
    error,
    format_ip,
    format_mac,
    format_uuid,
    is_multicast_mac,
    mask_by_prefix,
    parse_mac,
    parse_uuid,
)
from virtcore.xml.network_dns import DNS, DNSDef
from virtcore.xml.network_forward import Forward, ForwardDef
from virtcore.xml.network_ip import IP, IPDef, Route, RouteDef
from virtcore.xml.network_netdev import (
    Bandwidth,
    BandwidthDef,
    VirtualPort,
    VirtualPortDef,
    Vlan,
    VlanDef,
    add_element,
    child_elements,
    prop_tristate,
    strtoul_ui,
    xpath_string,
)
from virtcore.xml.units import ULLONG_MAX, parse_c_integer

__all__ = [
    "NETWORK_RULES",
    "Bridge",
    "BridgeDef",
    "Network",
    "NetworkDef",
    "NetworkDomain",
    "PortGroup",
    "PortGroupDef",
    "sanitized_metadata",
]

logger = logging.getLogger(__name__)

_NET = ErrorDomain.NETWORK
_MAC_TABLE_MANAGERS = ("default", "kernel", "libvirt")
_BRIDGED_MODES = frozenset({"none", "nat", "route", "open"})


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NET)


def _yesno(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


def sanitized_metadata(metadata: etree._Element | None) -> etree._Element | None:
    """A copy of ``<metadata>`` as libvirt keeps it (``virXMLNodeSanitizeNamespaces``).

    Only namespaced child elements survive, the first one of each namespace;
    text, comments and elements without a namespace are dropped.
    """
    if metadata is None:
        return None
    kept = copy.deepcopy(metadata)
    kept.tail = None
    kept.text = None
    seen: set[str] = set()
    for child in list(kept):
        namespace = etree.QName(child).namespace if isinstance(child.tag, str) else None
        if namespace is None or namespace in seen:
            kept.remove(child)
            continue
        seen.add(namespace)
        child.tail = None
    return kept


# -- bridge, domain, port groups -------------------------------------------------------


@dataclass(frozen=True)
class BridgeDef:
    """The network's bridge device settings."""

    name: str | None = None
    zone: str | None = None
    stp: bool = True
    delay: int = 0
    mac_table_manager: str | None = None
    stp_given: bool = False


class Bridge(XMLNode):
    """``<bridge name='virbr0' zone='...' stp='on' delay='0' macTableManager='...'/>``."""

    TAG = "bridge"
    name = XMLProperty("./@name")
    zone = XMLProperty("./@zone")
    stp = XMLProperty("./@stp", ONOFF, doc="Spanning tree; libvirt reads anything but off as on.")
    delay = XMLProperty("./@delay", int)
    mac_table_manager = XMLProperty("./@macTableManager")


class NetworkDomain(XMLNode):
    """``<domain name='example.com' localOnly='yes'/>``: the DNS domain of the network."""

    TAG = "domain"
    name = XMLProperty("./@name")
    local_only = XMLProperty("./@localOnly", YESNO)
    register = XMLProperty("./@register", YESNO)


@dataclass(frozen=True)
class PortGroupDef:
    """A parsed ``<portgroup>``."""

    name: str
    default: bool = False
    trust_guest_rx_filters: bool | None = None
    virtualport: VirtualPortDef | None = None
    bandwidth: BandwidthDef | None = None
    vlan: VlanDef | None = None

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent,
            "portgroup",
            [
                ("name", self.name),
                ("default", "yes" if self.default else None),
                ("trustGuestRxFilters", _yesno(self.trust_guest_rx_filters)),
            ],
        )
        if self.vlan is not None:
            self.vlan.emit(element)
        if self.virtualport is not None:
            self.virtualport.emit(element)
        if self.bandwidth is not None:
            self.bandwidth.emit(element)


class PortGroup(XMLNode):
    """``<portgroup name='...' default='yes'>`` with its vlan, virtualport and bandwidth."""

    TAG = "portgroup"
    XML_ORDER = {
        "": ("@name", "@default", "@trustGuestRxFilters", "vlan", "virtualport", "bandwidth")
    }

    name = XMLProperty("./@name")
    default = XMLProperty("./@default", YESNO)
    trust_guest_rx_filters = XMLProperty("./@trustGuestRxFilters", YESNO)
    vlan = XMLChild(Vlan)
    virtualport = XMLChild(VirtualPort)
    bandwidth = XMLChild(Bandwidth)

    def parse(self) -> PortGroupDef:
        """``virNetworkPortGroupParseXML``'s checks and values."""
        element = self.element
        name = xpath_string(self, "./@name")
        if name is None:
            raise _xml_error("Missing required name attribute in portgroup")
        default = (xpath_string(self, "./@default") or "").lower() == "yes"
        trust = prop_tristate(element, "trustGuestRxFilters")
        virtualport = self.virtualport.parse()
        bandwidth = self.bandwidth.parse(allow_floor=False)
        vlan = self.vlan.parse()
        return PortGroupDef(name, default, trust, virtualport, bandwidth, vlan)


# -- the network -----------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkDef:
    """The values libvirt keeps for a network (``virNetworkDef``)."""

    name: str
    uuid: str | None = None
    connections: int = 0
    ipv6: bool = False
    trust_guest_rx_filters: bool | None = None
    metadata: etree._Element | None = None
    forward: ForwardDef = field(default_factory=ForwardDef)
    bridge: BridgeDef = field(default_factory=BridgeDef)
    mtu: int = 0
    mac: str | None = None
    domain: str | None = None
    domain_local_only: bool | None = None
    dns: DNSDef = field(default_factory=DNSDef)
    vlan: VlanDef | None = None
    bandwidth: BandwidthDef | None = None
    port_isolated: bool | None = None
    ips: tuple[IPDef, ...] = ()
    routes: tuple[RouteDef, ...] = ()
    virtualport: VirtualPortDef | None = None
    portgroups: tuple[PortGroupDef, ...] = ()

    def to_element(self, flags: int = 0) -> etree._Element:
        """The canonical ``<network>`` tree (``virNetworkDefFormatBuf``)."""
        inactive = bool(flags & NetworkXMLFlags.INACTIVE)
        root = add_element(
            None,
            "network",
            [
                (
                    "connections",
                    str(self.connections) if self.connections > 0 and not inactive else None,
                ),
                ("ipv6", "yes" if self.ipv6 else None),
                ("trustGuestRxFilters", _yesno(self.trust_guest_rx_filters)),
            ],
        )
        add_element(root, "name", text=self.name)
        add_element(root, "uuid", text=self.uuid or format_uuid(_uuid.uuid4()))
        if self.metadata is not None:
            root.append(copy.deepcopy(self.metadata))
        self.forward.emit(root, inactive=inactive)
        bridge = self.bridge
        bridged = self.forward.mode in _BRIDGED_MODES
        if bridged or bridge.name is not None or bridge.mac_table_manager is not None:
            add_element(
                root,
                "bridge",
                [
                    ("name", bridge.name),
                    ("zone", bridge.zone),
                    ("stp", ("on" if bridge.stp else "off") if bridged else None),
                    ("delay", str(bridge.delay) if bridged else None),
                    ("macTableManager", bridge.mac_table_manager),
                ],
            )
        if self.mtu:
            add_element(root, "mtu", [("size", str(self.mtu))])
        if self.mac is not None:
            add_element(root, "mac", [("address", self.mac)])
        if self.domain is not None:
            add_element(
                root,
                "domain",
                [("name", self.domain), ("localOnly", _yesno(self.domain_local_only))],
            )
        self.dns.emit(root)
        if self.vlan is not None:
            self.vlan.emit(root)
        if self.bandwidth is not None:
            self.bandwidth.emit(root)
        if self.port_isolated is not None:
            add_element(root, "port", [("isolated", _yesno(self.port_isolated))])
        for ip in self.ips:
            ip.emit(root)
        for route in self.routes:
            route.emit(root)
        if self.virtualport is not None:
            self.virtualport.emit(root)
        for group in self.portgroups:
            group.emit(root)
        return root

    def format(self, flags: int = 0) -> str:
        """The document as libvirt 9.0 prints it."""
        return format_xml(self.to_element(flags), rules=NETWORK_RULES)


class Network(XMLNode):
    """A ``<network>`` document: a typed view over its live tree.

    ``Network.parse(text)`` defines a network as libvirt does (checks
    included); ``Network.from_xml(text)`` only parses; ``Network()`` starts
    an empty one. ``format(flags)`` is libvirt's output, ``to_string()`` the
    tree as it stands.
    """

    TAG = "network"
    PARSE_URL = "(network_definition)"
    ERROR_DOMAIN = ErrorDomain.NETWORK
    SCHEMA = "network.rng"
    FORMAT_RULES = FormatRules(native=frozenset({"metadata"}))
    XML_ORDER = {
        "": ("@connections", "@ipv6", "@trustGuestRxFilters", "name", "uuid", "title",
             "description", "metadata", "forward", "bridge", "mtu", "mac", "domain", "dns",
             "vlan", "bandwidth", "port", "ip", "route", "virtualport", "portgroup"),
    }  # fmt: skip

    connections = XMLProperty("./@connections", INT, doc="Live count of guests using the network.")
    ipv6 = XMLProperty("./@ipv6", YESNO, doc="Allow guest-to-guest IPv6 without a gateway.")
    trust_guest_rx_filters = XMLProperty("./@trustGuestRxFilters", YESNO)
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    title = XMLProperty("./title", doc="Short description (not kept by libvirt 9.0).")
    description = XMLProperty("./description", doc="Long description (not kept by libvirt 9.0).")
    forward = XMLChild(Forward)
    bridge = XMLChild(Bridge)
    mtu = XMLProperty("./mtu/@size", UINT)
    mac = XMLProperty("./mac/@address")
    domain = XMLChild(NetworkDomain)
    dns = XMLChild(DNS)
    vlan = XMLChild(Vlan)
    bandwidth = XMLChild(Bandwidth)
    port_isolated = XMLProperty("./port/@isolated", YESNO)
    ips = XMLChildList(IP, "./ip")
    routes = XMLChildList(Route, "./route")
    virtualport = XMLChild(VirtualPort)
    portgroups = XMLChildList(PortGroup, "./portgroup")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Define a network from *text* as ``virNetworkDefineXML`` would.

        Syntax and the semantic checks raise libvirt's errors; a missing
        UUID is generated; ``connections`` attributes are dropped.
        """
        network = cls.from_xml(text, validate_schema=validate_schema)
        network.check()
        if xpath_string(network, "./uuid[1]") is None:
            network.uuid = format_uuid(_uuid.uuid4())
        network.drop_live_state()
        return network

    @property
    def metadata(self) -> etree._Element | None:
        """The first ``<metadata>`` element (opaque application data), or None."""
        found = child_elements(self._find(), "metadata")
        return found[0] if found else None

    @metadata.setter
    def metadata(self, value: etree._Element | None) -> None:
        current = self.metadata
        if current is not None:
            parent = current.getparent()
            assert parent is not None
            parent.remove(current)
        if value is not None:
            # Create the element at its canonical place, then swap the copy in.
            holder = self._ensure("./metadata")
            parent = holder.getparent()
            assert parent is not None
            parent.replace(holder, copy.deepcopy(value))

    def drop_live_state(self) -> None:
        """Remove the ``connections`` counts, which libvirt never reads from a document."""
        element = self.element
        holders = [element]
        for forward in child_elements(element, "forward"):
            holders.extend(child_elements(forward, "interface"))
        for holder in holders:
            if "connections" in holder.attrib:
                del holder.attrib["connections"]

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    def definition(self) -> NetworkDef:
        """``virNetworkDefParseXML``: libvirt's checks, in its order, and the values it keeps."""
        root = self.element
        name = xpath_string(self, "./name[1]")
        if name is None:
            raise error(ErrorNumber.NO_NAME, None, _NET)
        if "/" in name:
            raise error(ErrorNumber.XML_DETAIL, "invalid char in name: /", ErrorDomain.XML)
        uuid_text = xpath_string(self, "./uuid[1]")
        uuid = None
        if uuid_text is not None:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise error(ErrorNumber.INTERNAL_ERROR, "malformed uuid element", _NET)
            uuid = format_uuid(parsed)
        ipv6_text = xpath_string(self, "./@ipv6")
        if ipv6_text is not None and ipv6_text not in ("yes", "no"):
            raise _xml_error(f"Invalid ipv6 setting '{ipv6_text}' in network '{name}'")
        trust = prop_tristate(root, "trustGuestRxFilters")
        domain_node = next(iter(child_elements(root, "domain")), None)
        domain = domain_node.get("name") if domain_node is not None else None
        local_only = prop_tristate(domain_node, "localOnly")
        bandwidth = self.bandwidth.parse(allow_floor=False)
        vlan = self.vlan.parse()
        port = next(iter(child_elements(root, "port")), None)
        port_isolated = prop_tristate(port, "isolated")
        bridge = self._bridge(name)
        mac = self._mac(name)
        mtu = 0
        mtu_text = xpath_string(self, "./mtu/@size")
        if mtu_text is not None:
            parsed_mtu = strtoul_ui(mtu_text)
            if parsed_mtu is None:
                raise _xml_error(f"Invalid mtu size '{mtu_text}' in network '{name}'")
            mtu = parsed_mtu
        dns = self.dns.parse(name)
        virtualport = self.virtualport.parse(require_type=True)
        portgroups = tuple(group.parse() for group in self.portgroups)
        ips = tuple(ip.parse(name) for ip in self.ips)
        routes = tuple(route.parse(name) for route in self.routes)
        _check_gateways(name, ips, routes)
        forward = self.forward.parse(name)
        _check_mode(name, forward, bridge, ips, mtu)
        metadata = sanitized_metadata(self.metadata)
        return NetworkDef(
            name=name,
            uuid=uuid,
            connections=_count(root.get("connections")),
            ipv6=ipv6_text == "yes",
            trust_guest_rx_filters=trust,
            metadata=metadata,
            forward=forward,
            bridge=bridge,
            mtu=mtu,
            mac=mac,
            domain=domain,
            domain_local_only=local_only,
            dns=dns,
            vlan=vlan,
            bandwidth=bandwidth,
            port_isolated=port_isolated,
            ips=ips,
            routes=routes,
            virtualport=virtualport,
            portgroups=portgroups,
        )

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virNetworkGetXMLDesc``)."""
        return self.definition().format(flags)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)

    def _bridge(self, name: str) -> BridgeDef:
        bridge_name = xpath_string(self, "./bridge[1]/@name")
        zone = xpath_string(self, "./bridge[1]/@zone")
        stp = xpath_string(self, "./bridge[1]/@stp")
        delay = 0
        delay_text = xpath_string(self, "./bridge[1]/@delay")
        if delay_text is not None:
            try:
                value, negative = _c_ulong(delay_text)
            except ValueError:
                raise _xml_error(f"Invalid delay value in network '{name}'") from None
            if negative:
                raise _xml_error(f"Invalid delay value in network '{name}'")
            delay = value
        manager = xpath_string(self, "./bridge[1]/@macTableManager")
        if manager is not None and manager not in _MAC_TABLE_MANAGERS[1:]:
            raise _xml_error(f"Invalid macTableManager setting '{manager}' in network '{name}'")
        return BridgeDef(bridge_name, zone, stp != "off", delay, manager, stp is not None)

    def _mac(self, name: str) -> str | None:
        text = xpath_string(self, "./mac[1]/@address")
        if text is None:
            return None
        mac = parse_mac(text)
        if mac is None:
            raise _xml_error(f"Invalid bridge mac address '{text}' in network '{name}'")
        if is_multicast_mac(mac):
            raise _xml_error(f"Invalid multicast bridge mac address '{text}' in network '{name}'")
        return format_mac(mac)


def _c_ulong(text: str) -> tuple[int, bool]:
    value, negative = parse_c_integer(text)
    if abs(value) > ULLONG_MAX:
        raise ValueError(text)
    return value, negative


def _count(text: str | None) -> int:
    if not text:
        return 0
    value = strtoul_ui(text)
    return value if value is not None and value <= 0x7FFFFFFF else 0


def _check_gateways(name: str, ips: tuple[IPDef, ...], routes: tuple[RouteDef, ...]) -> None:
    """Every static route's gateway must be on one of the network's subnets."""
    for route in routes:
        reachable = False
        for ip in ips:
            if route.gateway.version != ip.address.version:
                continue
            prefix = ip.prefix_length
            network = mask_by_prefix(ip.address, prefix)
            if network is not None and network == mask_by_prefix(route.gateway, prefix):
                reachable = True
                break
        if not reachable:
            raise error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unreachable static route gateway '{format_ip(route.gateway)}' specified for "
                f"network '{name}'",
                _NET,
            )


def _check_mode(
    name: str, forward: ForwardDef, bridge: BridgeDef, ips: tuple[IPDef, ...], mtu: int
) -> None:
    """The checks of the forward mode against the rest of the definition."""
    mode = forward.mode
    if mode in ("nat", "route", "open"):
        if not ips:
            raise _xml_error(
                f"{mode} forwarding requested, but no IP address provided for network '{name}'"
            )
        if len(forward.interfaces) > 1:
            raise _xml_error(
                f"multiple forwarding interfaces specified for network '{name}', only one is "
                "supported"
            )
    elif mode != "none":
        if mode != "bridge":
            for what, value in (
                ("bridge name", bridge.name),
                ("bridge zone", bridge.zone),
                ("bridge macTableManager setting", bridge.mac_table_manager),
            ):
                if value is not None:
                    raise _xml_error(f"{what} not allowed in {mode} mode (network '{name}')")
        if bridge.delay or bridge.stp_given or bridge.zone is not None:
            raise _xml_error(
                "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, "
                f"not in {mode} (network '{name}')"
            )
        if bridge.name is not None and (forward.interfaces or forward.pf is not None):
            raise _xml_error(
                f"A network with forward mode='{mode}' can specify a bridge name or a forward "
                f"dev, but not both (network '{name}')"
            )
    if mtu and mode not in _BRIDGED_MODES:
        raise _xml_error(
            "mtu size only allowed in open, route, nat, and isolated mode, not in "
            f"{mode} (network '{name}')"
        )
