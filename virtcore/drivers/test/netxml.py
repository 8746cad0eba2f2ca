"""Virtual network XML (``<network>``) for the test driver, as libvirt 9.0 reads and writes it.

:class:`NetworkDef` is a structured model of the parts ``virNetworkUpdate``
edits (IP addresses with their DHCP ranges and hosts, DNS records, forward
interfaces, port groups) and of everything libvirt 9.0's ``virNetworkDefFormat``
writes; the few parts it formats verbatim (``<vlan>``, ``<bandwidth>``,
``<virtualport>``, ``<port>``, PCI forward addresses) are carried through as
elements. Parsing applies libvirt's validation with its error codes and
wording (``Invalid address 'zz' in network 'n'``), and elements libvirt 9.0
does not know (including ``<title>`` and ``<description>``, which arrived in
9.7) are dropped, as libvirt drops them. The DHCP range check reproduces
``virSocketAddrGetRange``'s messages, which carry no error domain.

Parsing lives in :mod:`virtcore.drivers.test.netparse` and the section
editors behind ``virNetworkUpdate`` in :mod:`virtcore.drivers.test.netupdate`.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.xmlutil import XMLWriter, child, child_text, parse_uuid, parse_xml
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    VirtError,
    XMLError,
)

__all__ = [
    "DHCPHost",
    "DHCPRange",
    "DNSDef",
    "DNSHost",
    "DNSSrv",
    "DNSTxt",
    "IPAddress",
    "IPDef",
    "Lease",
    "NetworkDef",
    "NetworkPortDef",
    "PortGroup",
    "copy_child",
    "is_multicast",
    "parse_address",
    "parse_mac",
    "range_size",
    "socket_addr",
    "tristate",
    "uint_value",
    "xml_attr_error",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NET = ErrorDomain.NETWORK
_FORWARD_MODES = ("none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough",
                  "hostdev")  # fmt: skip
_L3_MODES = frozenset({"none", "nat", "route", "open"})
_MAC_RE = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")
_LEASE_UNITS = ("seconds", "minutes", "hours")


def xml_attr_error(attr: str, elem: str, value: str, expect: str = "") -> XMLError:
    """``virXMLProp*``'s "Invalid value for attribute" error (error domain XML)."""
    text = f"Invalid value for attribute '{attr}' in element '{elem}': '{value}'."
    if expect:
        text += f" {expect}"
    return XMLError(text, domain=ErrorDomain.XML)


def parse_address(text: str) -> IPAddress | None:
    """An IPv4 or IPv6 address (``virSocketAddrParse``), or None."""
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def socket_addr(text: str) -> IPAddress:
    """:func:`parse_address` or ``virSocketAddrParse``'s own error (which has no domain)."""
    found = parse_address(text)
    if found is None:
        raise VirtError(
            f"Cannot parse socket address '{text}': Name or service not known",
            code=ErrorNumber.SYSTEM_ERROR,
            domain=ErrorDomain.NONE,
        )
    return found


def parse_mac(text: str) -> str | None:
    """The canonical (lower-case, two digits per byte) form of a MAC address, or None."""
    if not _MAC_RE.fullmatch(text):
        return None
    return ":".join(f"{int(part, 16):02x}" for part in text.split(":"))


def is_multicast(mac: str) -> bool:
    return bool(int(mac[:2], 16) & 1)


def tristate(elem: etree._Element | None, attr: str) -> str | None:
    """A yes/no attribute (``virXMLPropTristateBool``)."""
    if elem is None:
        return None
    value = elem.get(attr)
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise xml_attr_error(attr, elem.tag, value)
    return value


def uint_value(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\s*\+?[0-9]+", text) else None


def _prefix_length(address: IPAddress, netmask: IPAddress | None, prefix: int) -> int:
    """``virSocketAddrGetIPPrefix``: explicit prefix, netmask bits, or the classful default."""
    if prefix > 0:
        return prefix
    if netmask is not None:
        return bin(int(netmask)).count("1")
    if isinstance(address, ipaddress.IPv4Address):
        first = int(address) >> 24
        if first < 128:
            return 8
        return 16 if first < 192 else 24
    return 64


def range_size(start: IPAddress, end: IPAddress, network: IPAddress, prefix: int) -> int:
    """Check a DHCP range the way ``virSocketAddrGetRange`` does; return its size."""
    if start.version != end.version:
        raise InternalError(f"mismatch of address family in range {start} - {end}")
    if start.version != network.version:
        raise InternalError(
            f"mismatch of address family in range {start} - {end} for network {network}"
        )
    net = ipaddress.ip_network(f"{network}/{prefix}", strict=False)
    if start not in net or end not in net:
        raise InternalError(
            f"range {start} - {end} is not entirely within network {network}/{prefix}"
        )
    size = int(end) - int(start) + 1
    if size <= 0:
        raise InternalError(f"range {start} - {end} is reversed ")
    return size


@dataclass
class Lease:
    """A ``<lease expiry='N' unit='...'/>`` of a DHCP range or host."""

    expiry: int
    unit: str = "minutes"

    @classmethod
    def parse(cls, elem: etree._Element | None) -> Lease | None:
        """The lease of a range or host element, if it has one."""
        lease = child(elem, "lease") if elem is not None else None
        if lease is None or lease.get("expiry") is None:
            return None
        raw = lease.get("expiry", "")
        expiry = uint_value(raw)
        if expiry is None:
            raise xml_attr_error("expiry", "lease", raw, "Expected non-negative integer value")
        unit = lease.get("unit", "minutes")
        if unit not in _LEASE_UNITS:
            raise xml_attr_error("unit", "lease", unit)
        if expiry and ((unit == "seconds" and expiry < 120) or (unit == "minutes" and expiry < 2)):
            raise ConfigUnsupportedError(
                "The minimum lease time should be greater than 2 minutes", domain=_NET
            )
        return cls(expiry, unit)

    def write(self, out: XMLWriter) -> None:
        """Write the ``<lease>`` element."""
        if self.expiry:
            out.empty("lease", [("expiry", self.expiry), ("unit", self.unit)])
        else:
            out.empty("lease", [("expiry", 0)])


@dataclass
class DHCPRange:
    """One ``<range start end>`` of a DHCP server."""

    start: IPAddress
    end: IPAddress
    lease: Lease | None = None


@dataclass
class DHCPHost:
    """One static ``<host>`` of a DHCP server (MAC kept as written, like libvirt)."""

    mac: str | None = None
    id: str | None = None
    name: str | None = None
    ip: IPAddress | None = None
    lease: Lease | None = None


@dataclass
class IPDef:
    """An ``<ip>`` element with its DHCP server."""

    address: IPAddress
    family: str | None = None
    netmask: IPAddress | None = None
    prefix: int = 0
    local_ptr: str | None = None
    tftp_root: str | None = None
    ranges: list[DHCPRange] = field(default_factory=list)
    hosts: list[DHCPHost] = field(default_factory=list)
    bootp_file: str | None = None
    bootp_server: IPAddress | None = None

    @property
    def prefix_length(self) -> int:
        """The network prefix length (``virNetworkIPDefPrefix``)."""
        return _prefix_length(self.address, self.netmask, self.prefix)

    @property
    def has_dhcp(self) -> bool:
        """Whether a DHCP server runs on this address."""
        return bool(self.ranges or self.hosts)


@dataclass
class DNSHost:
    """A DNS ``<host ip>`` record with its host names."""

    ip: IPAddress | None
    names: list[str] = field(default_factory=list)


@dataclass
class DNSSrv:
    """A DNS ``<srv>`` record (numbers 0 when unset)."""

    service: str | None = None
    protocol: str | None = None
    domain: str | None = None
    target: str | None = None
    port: int = 0
    priority: int = 0
    weight: int = 0


@dataclass
class DNSTxt:
    """A DNS ``<txt name value>`` record."""

    name: str
    value: str | None = None


@dataclass
class DNSDef:
    """The ``<dns>`` element."""

    enable: str | None = None
    forward_plain_names: str | None = None
    forwarders: list[tuple[str | None, IPAddress | None]] = field(default_factory=list)
    txts: list[DNSTxt] = field(default_factory=list)
    srvs: list[DNSSrv] = field(default_factory=list)
    hosts: list[DNSHost] = field(default_factory=list)


@dataclass
class PortGroup:
    """A ``<portgroup>``; its VLAN, virtual port and bandwidth are carried verbatim."""

    name: str
    default: bool = False
    trust_guest_rx_filters: str | None = None
    vlan: etree._Element | None = None
    virtualport: etree._Element | None = None
    bandwidth: etree._Element | None = None

    @classmethod
    def parse(cls, elem: etree._Element) -> PortGroup:
        """Read a ``<portgroup>`` (``virNetworkPortGroupParseXML``)."""
        name = elem.get("name")
        if name is None:
            raise XMLError("Missing required name attribute in portgroup", domain=_NET)
        return cls(
            name,
            (elem.get("default") or "").lower() == "yes",
            tristate(elem, "trustGuestRxFilters"),
            copy_child(elem, "vlan"),
            copy_child(elem, "virtualport"),
            copy_child(elem, "bandwidth"),
        )

    def write(self, out: XMLWriter) -> None:
        """Write the ``<portgroup>`` element (always as an open/close pair, like libvirt)."""
        out.open(
            "portgroup",
            [
                ("name", self.name),
                ("default", "yes" if self.default else None),
                ("trustGuestRxFilters", self.trust_guest_rx_filters),
            ],
        )
        for elem in (self.vlan, self.virtualport, self.bandwidth):
            if elem is not None:
                out.element(elem)
        out.close("portgroup")


@dataclass
class ForwardIf:
    """A ``<forward>`` ``<interface dev>`` and how many ports use it."""

    dev: str
    connections: int = 0


def copy_child(elem: etree._Element, tag: str) -> etree._Element | None:
    found = child(elem, tag)
    if found is None:
        return None
    kept = copy.deepcopy(found)
    kept.tail = None
    return kept


@dataclass
class NetworkDef:
    """A virtual network definition (``virNetworkDef``)."""

    name: str
    uuid: str
    ipv6: bool = False
    trust_guest_rx_filters: str | None = None
    metadata: etree._Element | None = None
    forward_mode: str = "none"
    forward_managed: bool = False
    forward_driver: str | None = None
    forward_ifs: list[ForwardIf] = field(default_factory=list)
    forward_addresses: list[etree._Element] = field(default_factory=list)
    forward_pf: str | None = None
    nat: etree._Element | None = None
    bridge_name: str | None = None
    bridge_zone: str | None = None
    stp: bool = True
    delay: int = 0
    mac_table_manager: str | None = None
    mtu: int = 0
    mac: str | None = None
    domain_name: str | None = None
    domain_local_only: str | None = None
    dns: DNSDef = field(default_factory=DNSDef)
    vlan: etree._Element | None = None
    bandwidth: etree._Element | None = None
    port: etree._Element | None = None
    ips: list[IPDef] = field(default_factory=list)
    routes: list[etree._Element] = field(default_factory=list)
    virtualport: etree._Element | None = None
    portgroups: list[PortGroup] = field(default_factory=list)
    connections: int = 0

    @classmethod
    def from_element(cls, root: etree._Element) -> NetworkDef:
        """Parse a ``<network>`` element (``virNetworkDefParseXML``)."""
        from virtcore.drivers.test.netparse import parse_network_element

        return parse_network_element(root)

    @classmethod
    def parse(cls, text: str, url: str = "(network_definition)") -> NetworkDef:
        """Parse a network document."""
        return cls.from_element(parse_xml(text, url, domain=_NET, root="network"))

    def copy(self, *, inactive: bool = True) -> NetworkDef:
        """A deep copy through a format/parse cycle, as ``virNetworkDefCopy`` makes it.

        *inactive* copies what the persistent definition keeps (a pool of
        forward interfaces is not, when a ``<pf>`` provides it). The runtime
        counters (connections of the network and its forward interfaces),
        which no document carries in, are kept.
        """
        clone = NetworkDef.parse(self.format(inactive=inactive))
        clone.connections = self.connections
        used = {f.dev: f.connections for f in self.forward_ifs}
        for iface in clone.forward_ifs:
            iface.connections = used.get(iface.dev, 0)
        return clone

    def ip_by_index(self, index: int, version: int | None = None) -> IPDef | None:
        """The *index*-th ``<ip>`` (of one IP *version*), as ``virNetworkDefGetIPByIndex``."""
        found = [ip for ip in self.ips if version is None or ip.address.version == version]
        return found[index] if 0 <= index < len(found) else None

    def format(self, *, inactive: bool = False) -> str:
        """The network XML (``virNetworkDefFormat``); *inactive* drops runtime counters."""
        out = XMLWriter()
        out.open(
            "network",
            [
                ("connections", self.connections if self.connections and not inactive else None),
                ("ipv6", "yes" if self.ipv6 else None),
                ("trustGuestRxFilters", self.trust_guest_rx_filters),
            ],
        )
        out.text("name", self.name)
        out.text("uuid", self.uuid)
        if self.metadata is not None and len(self.metadata):
            dumped = etree.tostring(self.metadata, pretty_print=True, encoding="unicode")
            for line in dumped.rstrip("\n").split("\n"):
                out.line(line)
        self._format_forward(out, inactive)
        if self.forward_mode in _L3_MODES or self.bridge_name or self.mac_table_manager:
            l3 = self.forward_mode in _L3_MODES
            out.empty(
                "bridge",
                [
                    ("name", self.bridge_name),
                    ("zone", self.bridge_zone),
                    ("stp", ("on" if self.stp else "off") if l3 else None),
                    ("delay", self.delay if l3 else None),
                    ("macTableManager", self.mac_table_manager),
                ],
            )
        if self.mtu:
            out.empty("mtu", [("size", self.mtu)])
        if self.mac is not None:
            out.empty("mac", [("address", self.mac)])
        if self.domain_name is not None:
            out.empty("domain", [("name", self.domain_name), ("localOnly", self.domain_local_only)])
        self._format_dns(out)
        for elem in (self.vlan, self.bandwidth, self.port):
            if elem is not None:
                out.element(elem)
        for ip in self.ips:
            _format_ip(out, ip)
        for route in self.routes:
            out.element(route)
        if self.virtualport is not None:
            out.element(self.virtualport)
        for group in self.portgroups:
            group.write(out)
        out.close("network")
        return out.getvalue()

    def _format_forward(self, out: XMLWriter, inactive: bool) -> None:
        if self.forward_mode == "none":
            return
        dev = self.forward_ifs[0].dev if self.forward_ifs and self.forward_pf is None else None
        attrs: list[tuple[str, str | int | None]] = [("dev", dev), ("mode", self.forward_mode)]
        if self.forward_mode == "hostdev":
            attrs.append(("managed", "yes" if self.forward_managed else "no"))
        show_ifs = bool(self.forward_ifs) and (self.forward_pf is None or not inactive)
        body = bool(
            self.forward_ifs
            or self.forward_addresses
            or self.forward_pf
            or self.forward_driver
            or (self.nat is not None and len(self.nat) + len(self.nat.attrib) > 0)
        )
        if not body:
            out.empty("forward", attrs)
            return
        out.open("forward", attrs)
        if self.forward_driver:
            out.empty("driver", [("name", self.forward_driver)])
        if self.forward_mode == "nat" and self.nat is not None:
            out.element(self.nat)
        if self.forward_pf is not None:
            out.empty("pf", [("dev", self.forward_pf)])
        if show_ifs:
            for iface in self.forward_ifs:
                conns = iface.connections if iface.connections and not inactive else None
                out.empty("interface", [("dev", iface.dev), ("connections", conns)])
        for address in self.forward_addresses:
            out.element(address)
        out.close("forward")

    def _format_dns(self, out: XMLWriter) -> None:
        dns = self.dns
        records = dns.forwarders or dns.hosts or dns.srvs or dns.txts
        if not (dns.enable or dns.forward_plain_names or records):
            return
        attrs = [("enable", dns.enable), ("forwardPlainNames", dns.forward_plain_names)]
        if not records:
            out.empty("dns", attrs)
            return
        out.open("dns", attrs)
        for domain, addr in dns.forwarders:
            out.empty("forwarder", [("domain", domain), ("addr", str(addr) if addr else None)])
        for txt in dns.txts:
            out.empty("txt", [("name", txt.name), ("value", txt.value)])
        for srv in dns.srvs:
            if srv.service and srv.protocol:
                out.empty(
                    "srv",
                    [
                        ("service", srv.service),
                        ("protocol", srv.protocol),
                        ("domain", srv.domain),
                        ("target", srv.target),
                        ("port", srv.port or None),
                        ("priority", srv.priority or None),
                        ("weight", srv.weight or None),
                    ],
                )
        for host in dns.hosts:
            out.open("host", [("ip", str(host.ip) if host.ip is not None else "")])
            for name in host.names:
                out.text("hostname", name)
            out.close("host")
        out.close("dns")


def _format_ip(out: XMLWriter, ip: IPDef) -> None:
    out.open(
        "ip",
        [
            ("family", ip.family),
            ("address", str(ip.address)),
            ("netmask", str(ip.netmask) if ip.netmask is not None else None),
            ("prefix", ip.prefix or None),
            ("localPtr", ip.local_ptr),
        ],
    )
    if ip.tftp_root is not None:
        out.empty("tftp", [("root", ip.tftp_root)])
    if ip.has_dhcp:
        out.open("dhcp")
        for rng in ip.ranges:
            attrs: list[tuple[str, str | int | None]] = [
                ("start", str(rng.start)),
                ("end", str(rng.end)),
            ]
            _format_with_lease(out, "range", attrs, rng.lease)
        for host in ip.hosts:
            attrs = [
                ("mac", host.mac),
                ("id", host.id),
                ("name", host.name),
                ("ip", str(host.ip) if host.ip is not None else None),
            ]
            _format_with_lease(out, "host", attrs, host.lease)
        if ip.bootp_file is not None:
            server = str(ip.bootp_server) if ip.bootp_server is not None else None
            out.empty("bootp", [("file", ip.bootp_file), ("server", server)])
        out.close("dhcp")
    out.close("ip")


def _format_with_lease(
    out: XMLWriter, tag: str, attrs: list[tuple[str, str | int | None]], lease: Lease | None
) -> None:
    if lease is None:
        out.empty(tag, attrs)
        return
    out.open(tag, attrs)
    lease.write(out)
    out.close(tag)


# -- network ports --------------------------------------------------------------------------

_PLUG_TYPES = ("none", "network", "bridge", "direct", "hostdev-pci")
_BANDWIDTH_ATTRS = ("average", "peak", "floor", "burst")


def _port_error(text: str) -> InternalError:
    return InternalError(text, domain=_NET)


@dataclass
class NetworkPortDef:
    """A network port (``virNetworkPortDef``): a guest interface's attachment to a network.

    ``bandwidth`` maps ``inbound``/``outbound`` to their rates (average, peak,
    floor, burst); the plug describes how the host connects the port.
    """

    uuid: str
    owner_name: str
    owner_uuid: str
    mac: str
    group: str | None = None
    virtualport: etree._Element | None = None
    bandwidth: dict[str, dict[str, int]] = field(default_factory=dict)
    vlan: etree._Element | None = None
    isolated: str | None = None
    trust_guest_rx_filters: str | None = None
    plug_type: str = "none"
    plug: dict[str, str] = field(default_factory=dict)
    plug_address: etree._Element | None = None

    @classmethod
    def parse(cls, text: str) -> NetworkPortDef:
        """Parse a ``<networkport>`` document (``virNetworkPortDefParseXML``)."""
        root = parse_xml(text, "(networkport_definition)", domain=_NET, root="networkport")
        uuid_text = child_text(root, "uuid")
        if uuid_text is None:
            raise _port_error("network port has no uuid")
        uuid = parse_uuid(uuid_text)
        if uuid is None:
            raise _port_error(f"Unable to parse UUID '{uuid_text}'")
        owner = child(root, "owner")
        owner_name = child_text(owner, "name") if owner is not None else None
        if owner_name is None:
            raise _port_error("network port has no owner name")
        owner_uuid_text = child_text(owner, "uuid") if owner is not None else None
        if owner_uuid_text is None:
            raise _port_error("network port has no owner UUID")
        owner_uuid = parse_uuid(owner_uuid_text)
        if owner_uuid is None:
            raise _port_error(f"Unable to parse UUID '{owner_uuid_text}'")
        mac_elem = child(root, "mac")
        mac_text = mac_elem.get("address") if mac_elem is not None else None
        if mac_text is None:
            raise _port_error("network port has no mac")
        mac = parse_mac(mac_text)
        if mac is None:
            raise _port_error(f"Unable to parse MAC '{mac_text}'")
        port = cls(uuid, owner_name, owner_uuid, mac, child_text(root, "group"))
        port.virtualport = copy_child(root, "virtualport")
        port.vlan = copy_child(root, "vlan")
        bandwidth = child(root, "bandwidth")
        if bandwidth is not None:
            port.bandwidth = _parse_bandwidth(bandwidth)
        port.isolated = tristate(child(root, "port"), "isolated")
        port.trust_guest_rx_filters = tristate(child(root, "rxfilters"), "trustGuest")
        port._parse_plug(child(root, "plug"))
        return port

    def _parse_plug(self, plug: etree._Element | None) -> None:
        if plug is None or plug.get("type") is None:
            return
        kind = plug.get("type", "")
        if kind not in _PLUG_TYPES:
            raise xml_attr_error("type", "plug", kind)
        self.plug_type = kind
        if kind in ("network", "bridge"):
            if plug.get("bridge") is None:
                raise XMLError("Missing network port bridge name", domain=_NET)
            self.plug["bridge"] = plug.get("bridge", "")
            manager = plug.get("macTableManager")
            if manager is not None:
                if manager not in ("kernel", "libvirt"):
                    raise XMLError(
                        f"Invalid macTableManager setting '{manager}' in network port",
                        domain=_NET,
                    )
                self.plug["macTableManager"] = manager
        elif kind == "direct":
            if plug.get("dev") is None:
                raise XMLError("Missing network port link device name", domain=_NET)
            self.plug["dev"] = plug.get("dev", "")
            self.plug["mode"] = plug.get("mode", "vepa")
        elif kind == "hostdev-pci":
            managed = tristate(plug, "managed")
            if managed is not None:
                self.plug["managed"] = managed
            address = child(plug, "address")
            if address is None:
                raise XMLError("Missing network port PCI address", domain=_NET)
            self.plug_address = copy.deepcopy(address)
            self.plug_address.tail = None

    def format(self) -> str:
        """The port XML (``virNetworkPortGetXMLDesc``)."""
        out = XMLWriter()
        out.open("networkport")
        out.text("uuid", self.uuid)
        out.open("owner")
        out.text("name", self.owner_name)
        out.text("uuid", self.owner_uuid)
        out.close("owner")
        if self.group is not None:
            out.text("group", self.group)
        out.empty("mac", [("address", self.mac)])
        if self.virtualport is not None:
            out.element(self.virtualport)
        if self.bandwidth:
            out.open("bandwidth")
            for direction in ("inbound", "outbound"):
                rates = self.bandwidth.get(direction)
                if rates:
                    out.empty(direction, [(k, rates.get(k)) for k in _BANDWIDTH_ATTRS])
            out.close("bandwidth")
        if self.vlan is not None:
            out.element(self.vlan)
        if self.isolated is not None:
            out.empty("port", [("isolated", self.isolated)])
        if self.trust_guest_rx_filters is not None:
            out.empty("rxfilters", [("trustGuest", self.trust_guest_rx_filters)])
        if self.plug_type in ("network", "bridge"):
            attrs = [("bridge", self.plug.get("bridge"))]
            attrs.append(("macTableManager", self.plug.get("macTableManager")))
            out.empty("plug", [("type", self.plug_type), *attrs])
        elif self.plug_type == "direct":
            attrs = [("dev", self.plug.get("dev")), ("mode", self.plug.get("mode"))]
            out.empty("plug", [("type", self.plug_type), *attrs])
        elif self.plug_type == "hostdev-pci":
            out.open("plug", [("type", self.plug_type), ("managed", self.plug.get("managed"))])
            if self.plug_address is not None:
                out.element(self.plug_address)
            out.close("plug")
        out.close("networkport")
        return out.getvalue()


def _parse_bandwidth(elem: etree._Element) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for direction in ("inbound", "outbound"):
        rates = child(elem, direction)
        if rates is None:
            continue
        parsed: dict[str, int] = {}
        for name in _BANDWIDTH_ATTRS:
            raw = rates.get(name)
            if raw is None:
                continue
            value = uint_value(raw)
            if value is None:
                raise XMLError(f"could not convert bandwidth {name} value '{raw}'", domain=_NET)
            parsed[name] = value
        if parsed:
            out[direction] = parsed
    return out
