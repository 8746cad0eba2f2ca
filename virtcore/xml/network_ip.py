"""A virtual network's addressing: ``<ip>`` with DHCP, and static ``<route>``.

The models here are views of a network's ``<ip>`` and ``<route>`` elements.
Their ``parse()`` methods apply libvirt 9.0's checks (``virNetworkIPDefParseXML``,
``virNetworkDHCPDefParseXML``, ``virNetDevIPRouteParseXML``) in libvirt's
order and with its exact errors, and return the values libvirt keeps
(:class:`IPDef`, :class:`RouteDef`), whose ``emit()`` writes them the way
``virNetworkIPDefFormat`` and ``virNetDevIPRouteFormat`` do: addresses
normalised (``10.1`` becomes ``10.0.0.1``), DHCP ranges before hosts, a
``<bootp>`` only inside a ``<dhcp>`` that has ranges or hosts.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from dataclasses import dataclass

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import UINT, ULLONG, YESNO, XMLChild, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.network_addr import (
    IPAddress,
    check_range,
    error,
    format_ip,
    ip_prefix,
    is_multicast_mac,
    mask_by_prefix,
    parse_ip,
    parse_mac,
    try_ip,
)
from virtcore.xml.network_netdev import (
    add_element,
    child_elements,
    prop_enum,
    prop_tristate,
    prop_uint,
    prop_ullong,
    raw_attr,
    xpath_string,
)

__all__ = [
    "IP",
    "DHCPHost",
    "DHCPHostDef",
    "DHCPRange",
    "DHCPRangeDef",
    "IPDef",
    "Lease",
    "LeaseDef",
    "Route",
    "RouteDef",
]

logger = logging.getLogger(__name__)

_NET = ErrorDomain.NETWORK
_LEASE_UNITS = ("seconds", "minutes", "hours")
_HOST_ID_CHARS = frozenset("0123456789abcdefABCDEF:")


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NET)


def _unsupported(detail: str) -> VirtError:
    return error(ErrorNumber.CONFIG_UNSUPPORTED, detail, _NET)


# -- DHCP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseDef:
    """A DHCP lease time; an expiry of 0 means the lease never expires."""

    expiry: int
    unit: str = "minutes"

    def emit(self, parent: etree._Element) -> None:
        if self.expiry == 0:
            add_element(parent, "lease", [("expiry", "0")])
        else:
            add_element(parent, "lease", [("expiry", str(self.expiry)), ("unit", self.unit)])


class Lease(XMLNode):
    """``<lease expiry='N' unit='seconds|minutes|hours'/>``."""

    TAG = "lease"
    expiry = XMLProperty("./@expiry", ULLONG)
    unit = XMLProperty("./@unit")

    @staticmethod
    def parse_element(element: etree._Element | None) -> LeaseDef | None:
        """``virNetworkDHCPLeaseTimeDefParseXML``: None without an expiry."""
        expiry = prop_ullong(element, "expiry", base=0)
        if expiry is None:
            return None
        unit = prop_enum(element, "unit", _LEASE_UNITS, nonzero=False) or "minutes"
        if (unit == "seconds" and 0 < expiry < 120) or (unit == "minutes" and 0 < expiry < 2):
            raise _unsupported("The minimum lease time should be greater than 2 minutes")
        return LeaseDef(expiry, unit)


def _first_child(element: etree._Element, tag: str) -> etree._Element | None:
    found = child_elements(element, tag)
    return found[0] if found else None


@dataclass(frozen=True)
class DHCPRangeDef:
    """A DHCP address range, its bounds normalised."""

    start: IPAddress
    end: IPAddress
    lease: LeaseDef | None = None

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent, "range", [("start", format_ip(self.start)), ("end", format_ip(self.end))]
        )
        if self.lease is not None:
            self.lease.emit(element)


class DHCPRange(XMLNode):
    """``<range start='...' end='...'>`` with an optional ``<lease>``."""

    TAG = "range"
    start = XMLProperty("./@start")
    end = XMLProperty("./@end")
    lease = XMLChild(Lease)

    def parse(self, network: str, ip: IPAddress, prefix: int) -> DHCPRangeDef:
        """Check the range against the ``<ip>`` it belongs to (address *ip*, *prefix*)."""
        element = self.element
        start_text = raw_attr(element, "start")
        end_text = raw_attr(element, "end")
        if start_text is None:
            raise _xml_error(f"Missing 'start' attribute in dhcp range for network '{network}'")
        start = parse_ip(start_text)
        if end_text is None:
            raise _xml_error(f"Missing 'end' attribute in dhcp range for network '{network}'")
        end = parse_ip(end_text)
        check_range(start, end, ip, prefix)
        return DHCPRangeDef(start, end, Lease.parse_element(_first_child(element, "lease")))


@dataclass(frozen=True)
class DHCPHostDef:
    """A static DHCP host; the MAC address and id are kept as written, as libvirt does."""

    mac: str | None = None
    id: str | None = None
    name: str | None = None
    ip: IPAddress | None = None
    lease: LeaseDef | None = None

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent,
            "host",
            [
                ("mac", self.mac),
                ("id", self.id),
                ("name", self.name),
                ("ip", format_ip(self.ip) if self.ip is not None else None),
            ],
        )
        if self.lease is not None:
            self.lease.emit(element)


class DHCPHost(XMLNode):
    """``<host mac='...' id='...' name='...' ip='...'>`` with an optional ``<lease>``."""

    TAG = "host"
    mac = XMLProperty("./@mac")
    id = XMLProperty("./@id")
    name = XMLProperty("./@name")
    ip = XMLProperty("./@ip")
    lease = XMLChild(Lease)

    def parse(self, network: str, ip_version: int, *, partial: bool = False) -> DHCPHostDef:
        """``virNetworkDHCPHostDefParseXML``; *partial* is the lookup form of network updates."""
        element = self.element
        mac = raw_attr(element, "mac")
        if mac is not None:
            if ip_version == 6:
                raise _xml_error(
                    f"Invalid to specify MAC address '{mac}' in network '{network}' "
                    "IPv6 static host definition"
                )
            parsed = parse_mac(mac)
            if parsed is None:
                raise _xml_error(f"Cannot parse MAC address '{mac}' in network '{network}'")
            if is_multicast_mac(parsed):
                raise _xml_error(
                    f"expected unicast mac address, found multicast '{mac}' in network '{network}'"
                )
        host_id = raw_attr(element, "id")
        if host_id is not None:
            bad = next((c for c in host_id if c not in _HOST_ID_CHARS), None)
            if bad is not None:
                raise _xml_error(
                    f"Invalid character '{bad}' in id '{host_id}' of network '{network}'"
                )
        name = raw_attr(element, "name")
        if name is not None and not (name[:1].isascii() and name[:1].isalnum()):
            raise _xml_error(f"Cannot use host name '{name}' in network '{network}'")
        ip_text = raw_attr(element, "ip")
        address = None
        if ip_text is not None:
            address = try_ip(ip_text)
            if address is None:
                raise _xml_error(
                    f"Invalid IP address in static host definition for network '{network}'"
                )
        if partial:
            if mac is None and name is None and ip_text is None:
                raise _xml_error(
                    "At least one of name, mac, or ip attribute must be specified for static "
                    f"host definition in network '{network}'"
                )
        else:
            if ip_version == 6:
                if host_id is None and name is None:
                    raise _xml_error(
                        f"Static host definition in IPv6 network '{network}' must have id or "
                        "name attribute"
                    )
            elif mac is None and name is None:
                raise _xml_error(
                    f"Static host definition in IPv4 network '{network}' must have mac or "
                    "name attribute"
                )
            if ip_text is None:
                raise _xml_error(
                    f"Missing IP address in static host definition for network '{network}'"
                )
        lease = Lease.parse_element(_first_child(element, "lease"))
        return DHCPHostDef(mac, host_id, name, address, lease)


# -- <ip> ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IPDef:
    """A parsed ``<ip>`` element."""

    address: IPAddress
    family: str | None = None
    netmask: IPAddress | None = None
    prefix: int = 0
    local_ptr: bool | None = None
    tftp_root: str | None = None
    ranges: tuple[DHCPRangeDef, ...] = ()
    hosts: tuple[DHCPHostDef, ...] = ()
    bootfile: str | None = None
    bootserver: IPAddress | None = None

    @property
    def prefix_length(self) -> int:
        """``virNetworkIPDefPrefix``: the effective prefix (-1 when there is none)."""
        return ip_prefix(self.address, self.netmask, self.prefix)

    @property
    def has_dhcp(self) -> bool:
        """Whether the element serves DHCP (has ranges or hosts)."""
        return bool(self.ranges or self.hosts)

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent,
            "ip",
            [
                ("family", self.family),
                ("address", format_ip(self.address)),
                ("netmask", format_ip(self.netmask) if self.netmask is not None else None),
                ("prefix", str(self.prefix) if self.prefix > 0 else None),
                ("localPtr", None if self.local_ptr is None else "yes" if self.local_ptr else "no"),
            ],
        )
        if self.tftp_root is not None:
            add_element(element, "tftp", [("root", self.tftp_root)])
        if self.has_dhcp:
            dhcp = add_element(element, "dhcp")
            for item in self.ranges:
                item.emit(dhcp)
            for host in self.hosts:
                host.emit(dhcp)
            if self.bootfile is not None:
                server = format_ip(self.bootserver) if self.bootserver is not None else None
                add_element(dhcp, "bootp", [("file", self.bootfile), ("server", server)])


class IP(XMLNode):
    """``<ip>``: an address of the network's bridge, with optional DHCP and TFTP service."""

    TAG = "ip"
    XML_ORDER = {
        "": ("@family", "@address", "@netmask", "@prefix", "@localPtr", "tftp", "dhcp"),
        "dhcp": ("range", "host", "bootp"),
    }

    family = XMLProperty("./@family")
    address = XMLProperty("./@address")
    netmask = XMLProperty("./@netmask")
    prefix = XMLProperty("./@prefix", UINT)
    local_ptr = XMLProperty("./@localPtr", YESNO)
    tftp_root = XMLProperty("./tftp/@root")
    ranges = XMLChildList(DHCPRange, "./dhcp/range")
    hosts = XMLChildList(DHCPHost, "./dhcp/host")
    bootp_file = XMLProperty("./dhcp/bootp/@file")
    bootp_server = XMLProperty("./dhcp/bootp/@server")

    def parse(self, network: str) -> IPDef:
        """``virNetworkIPDefParseXML``'s checks and values for the network named *network*."""
        element = self.element
        family = xpath_string(self, "./@family")
        address_text = xpath_string(self, "./@address")
        if address_text is None:
            raise _xml_error(f"Missing required address attribute in network '{network}'")
        address = try_ip(address_text)
        if address is None:
            raise _xml_error(f"Invalid address '{address_text}' in network '{network}'")
        netmask_text = xpath_string(self, "./@netmask")
        netmask = None
        if netmask_text is not None:
            netmask = try_ip(netmask_text)
            if netmask is None:
                raise _xml_error(f"Invalid netmask '{netmask_text}' in network '{network}'")
        prefix = prop_uint(element, "prefix") or 0
        local_ptr = prop_tristate(element, "localPtr")
        if family is None or family == "ipv4":
            if address.version != 4:
                raise _unsupported(
                    f"{family or 'no'} family specified for non-IPv4 address '{address_text}' "
                    f"in network '{network}'"
                )
            if netmask is not None:
                if netmask.version != 4:
                    raise _unsupported(
                        f"Invalid netmask '{netmask_text}' for address '{address_text}' in "
                        f"network '{network}' (both must be IPv4)"
                    )
                if prefix > 0:
                    raise _unsupported(
                        f"Network '{network}' IP address cannot have both a prefix and a netmask"
                    )
            elif prefix > 32:
                raise _unsupported(f"Invalid IPv4 prefix '{prefix}' in network '{network}'")
        elif family == "ipv6":
            if address.version != 6:
                raise _unsupported(
                    f"Family 'ipv6' specified for non-IPv6 address '{address_text}' in network "
                    f"'{network}'"
                )
            if netmask is not None:
                raise _unsupported(
                    f"netmask not allowed for IPv6 address '{address_text}' in network '{network}'"
                )
            if prefix > 128:
                raise _unsupported(f"Invalid IPv6 prefix '{prefix}' in network '{network}'")
        else:
            raise _xml_error(f"Unrecognized family '{family}' in network '{network}'")
        result = IPDef(address, family, netmask, prefix, local_ptr)
        dhcp = _first_child(element, "dhcp")
        if dhcp is not None:
            result = self._parse_dhcp(network, dhcp, result)
        if _first_child(element, "tftp") is not None:
            if address.version != 4:
                raise _unsupported(
                    f"Unsupported <tftp> element in an IPv6 element in network '{network}'"
                )
            root = xpath_string(self, "./tftp[1]/@root")
            result = dataclasses.replace(result, tftp_root=root)
        return result

    @staticmethod
    def _parse_dhcp(network: str, dhcp: etree._Element, ip: IPDef) -> IPDef:
        ranges: list[DHCPRangeDef] = []
        hosts: list[DHCPHostDef] = []
        bootfile, bootserver = ip.bootfile, ip.bootserver
        prefix = ip.prefix_length
        for child in [c for c in dhcp if isinstance(c.tag, str)]:
            if child.tag == "range":
                ranges.append(DHCPRange(child).parse(network, ip.address, prefix))
            elif child.tag == "host":
                hosts.append(DHCPHost(child).parse(network, ip.address.version))
            elif child.tag == "bootp" and ip.address.version == 4:
                file = raw_attr(child, "file")
                if file is None:
                    continue
                server = raw_attr(child, "server")
                bootfile = file
                bootserver = parse_ip(server) if server is not None else None
        return dataclasses.replace(
            ip, ranges=tuple(ranges), hosts=tuple(hosts), bootfile=bootfile, bootserver=bootserver
        )


# -- <route> ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteDef:
    """A static route through a gateway on the network."""

    address: IPAddress
    gateway: IPAddress
    family: str | None = None
    netmask: IPAddress | None = None
    prefix: int | None = None
    metric: int | None = None

    def emit(self, parent: etree._Element) -> None:
        add_element(
            parent,
            "route",
            [
                ("family", self.family),
                ("address", format_ip(self.address)),
                ("netmask", format_ip(self.netmask) if self.netmask is not None else None),
                ("prefix", str(self.prefix) if self.prefix is not None else None),
                ("gateway", format_ip(self.gateway)),
                ("metric", str(self.metric) if self.metric else None),
            ],
        )


class Route(XMLNode):
    """``<route address='...' prefix='...' gateway='...' metric='...'/>``."""

    TAG = "route"
    family = XMLProperty("./@family")
    address = XMLProperty("./@address")
    netmask = XMLProperty("./@netmask")
    prefix = XMLProperty("./@prefix", UINT)
    gateway = XMLProperty("./@gateway")
    metric = XMLProperty("./@metric", UINT)

    def parse(self, network: str) -> RouteDef:
        """``virNetDevIPRouteParseXML``'s checks and values."""
        element = self.element
        family = raw_attr(element, "family")
        address_text = raw_attr(element, "address")
        netmask_text = raw_attr(element, "netmask")
        gateway_text = raw_attr(element, "gateway")
        prefix = prop_uint(element, "prefix")
        metric = prop_uint(element, "metric", nonzero=True)

        def fail(detail: str) -> VirtError:
            return _xml_error(f"{network}: {detail}")

        if address_text is None:
            raise fail("Missing required address attribute in route definition")
        if gateway_text is None:
            raise fail("Missing required gateway attribute in route definition")
        address = try_ip(address_text)
        if address is None:
            raise fail(f"Bad network address '{address_text}' in route definition")
        gateway = try_ip(gateway_text)
        if gateway is None:
            raise fail(f"Bad gateway address '{gateway_text}' in route definition")
        netmask = None
        bits = 32
        if family is None or family == "ipv4":
            label = "No family" if family is None else "IPv4 family"
            if address.version != 4:
                raise fail(
                    f"{label} specified for non-IPv4 address '{address_text}' in route definition"
                )
            if gateway.version != 4:
                # libvirt names the address here, not the gateway.
                raise fail(
                    f"{label} specified for non-IPv4 gateway '{address_text}' in route definition"
                )
            if netmask_text is not None:
                netmask = try_ip(netmask_text)
                if netmask is None:
                    raise fail(f"Bad netmask address '{netmask_text}' in route definition")
                if netmask.version != 4:
                    raise fail(
                        f"Invalid netmask '{netmask_text}' for address '{address_text}' "
                        "(both must be IPv4)"
                    )
                if prefix is not None:
                    raise fail("Route definition cannot have both a prefix and a netmask")
        elif family == "ipv6":
            bits = 128
            if address.version != 6:
                raise fail(
                    f"ipv6 family specified for non-IPv6 address '{address_text}' in route "
                    "definition"
                )
            if netmask_text is not None:
                raise fail(
                    f"Specifying netmask invalid for IPv6 address '{address_text}' in route "
                    "definition"
                )
            if gateway.version != 6:
                raise fail(
                    f"ipv6 specified for non-IPv6 gateway address '{gateway_text}' in route "
                    "definition"
                )
        else:
            raise fail(f"Unrecognized family '{family}' in route definition")
        if (prefix or 0) > bits:
            raise fail(f"Invalid prefix {prefix} specified in route definition, must be 0 - {bits}")
        if netmask is not None:
            network_part: IPAddress | None = ipaddress.IPv4Address(int(address) & int(netmask))
        else:
            network_part = mask_by_prefix(address, prefix or 0)
        if network_part != address:
            raise fail(f"Address '{address_text}' in route definition is not a network address")
        return RouteDef(address, gateway, family, netmask, prefix, metric)
