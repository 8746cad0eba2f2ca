"""Network settings shared by interfaces: bandwidth, VLANs, virtual ports, IP addresses and routes.

These sub-elements of ``<interface>`` are libvirt's ``netdev_*_conf`` and
``virNetDevIP*`` parts, read and written as libvirt 9.0 does:

* ``<bandwidth>`` with ``<inbound>``/``<outbound>`` rates (``average``,
  ``peak``, ``floor``, ``burst``; a zero average drops the rate);
* ``<vlan trunk='yes'>`` with ``<tag id='42' nativeMode='untagged'/>``;
* ``<virtualport type='openvswitch'><parameters .../></virtualport>``,
  whose missing ids libvirt generates (injectable through *uuid_factory*);
* ``<ip address='192.0.2.5' prefix='24'/>`` and ``<route .../>``, addresses
  written in canonical form with their family;
* ``<filterref>`` and its parameters (sorted by name, as libvirt keeps them).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.domain.devices.source import valid_uuid
from virtcore.xml.domain.devices.support import (
    child,
    children,
    element,
    fail,
    prop,
    prop_enum,
    prop_uint,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.network_addr import IPAddress, format_ip, try_ip
from virtcore.xml.units import UINT_MAX, parse_c_integer, parse_uint, parse_ullong

__all__ = [
    "Bandwidth",
    "IPInfo",
    "VirtualPort",
    "Vlan",
    "filterref_element",
    "parse_bandwidth",
    "parse_filterref",
    "parse_ip_info",
    "parse_virtualport",
    "parse_vlan",
]

logger = logging.getLogger(__name__)

UUIDFactory = Callable[[], str]
_VPORT_TYPES = ("802.1Qbg", "802.1Qbh", "openvswitch", "midonet")
_VPORT_PARAMS = ("managerid", "typeid", "typeidversion", "instanceid", "interfaceid", "profileid")
_VPORT_ALLOWED = {
    "802.1Qbg": ("managerid", "typeid", "typeidversion", "instanceid"),
    "802.1Qbh": ("profileid",),
    "openvswitch": ("interfaceid", "profileid"),
    "midonet": ("interfaceid",),
}
_VPORT_REQUIRED = {
    "802.1Qbg": ("managerid", "typeid", "typeidversion", "instanceid"),
    "802.1Qbh": ("profileid",),
    "openvswitch": ("interfaceid",),
    "midonet": ("interfaceid",),
}


# -- bandwidth ---------------------------------------------------------------------------


@dataclass
class Bandwidth:
    """``<bandwidth>``: inbound and outbound rates, each (average, peak, floor, burst)."""

    inbound: dict[str, int] | None = None
    outbound: dict[str, int] | None = None

    def to_element(self) -> OutNode:
        """``virNetDevBandwidthFormat``."""
        kids = []
        for tag, rate in (("inbound", self.inbound), ("outbound", self.outbound)):
            if rate is not None:
                attrs = [(name, rate.get(name) or None) for name in ("average", "peak", "floor")]
                attrs.append(("burst", rate.get("burst") or None))
                kids.append(element(tag, attrs))
        return element("bandwidth", kids=kids)


def _parse_rate(node: etree._Element) -> dict[str, int]:
    rate: dict[str, int] = {}
    average = prop(node, "average")
    floor = prop(node, "floor")
    if average is None and floor is None:
        fail(
            ErrorNumber.XML_DETAIL,
            "Missing mandatory average or floor attributes",
            ErrorDomain.NONE,
        )
    if (prop(node, "peak") is not None or prop(node, "burst") is not None) and average is None:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "'peak' and 'burst' require 'average' attribute",
            ErrorDomain.NONE,
        )
    for name in ("average", "peak", "burst", "floor"):
        text = prop(node, name)
        if text is None:
            continue
        try:
            rate[name] = parse_ullong(text)
        except ValueError:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"could not convert bandwidth {name} value '{text}'",
                ErrorDomain.NONE,
            )
    return rate


def parse_bandwidth(node: etree._Element, *, allow_floor: bool = True) -> Bandwidth | None:
    """``virNetDevBandwidthParse``; None for a ``<bandwidth>`` without rates.

    *allow_floor* is false for interfaces not connected to a libvirt network.
    """
    if not children(node, "inbound") and not children(node, "outbound"):
        return None
    bandwidth = Bandwidth()
    for tag in ("inbound", "outbound"):
        nodes = children(node, tag)
        if len(nodes) > 1:
            fail(
                ErrorNumber.XML_DETAIL, f"Only one child <{tag}> element allowed", ErrorDomain.NONE
            )
        if not nodes:
            continue
        rate = _parse_rate(nodes[0])
        if tag == "outbound" and rate.get("floor"):
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "'floor' attribute allowed only in <inbound> element",
                ErrorDomain.NONE,
            )
        # A zero average means "no limit": the rate is dropped (unless a floor is set).
        if rate.get("average") or rate.get("floor"):
            setattr(bandwidth, tag, rate)
    if bandwidth.inbound is not None and bandwidth.inbound.get("floor") and not allow_floor:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "floor attribute is not supported for this config",
            ErrorDomain.NONE,
        )
    return bandwidth


# -- VLANs -------------------------------------------------------------------------------


@dataclass
class Vlan:
    """``<vlan>``: tags, trunking and the native tag's mode."""

    tags: list[int] = field(default_factory=list)
    trunk: bool = False
    native_mode: str | None = None
    native_tag: int | None = None

    def to_element(self) -> OutNode | None:
        """``virNetDevVlanFormat``."""
        if not self.tags:
            return None
        kids = []
        for tag in self.tags:
            mode = self.native_mode if tag == self.native_tag else None
            kids.append(element("tag", [("id", tag), ("nativeMode", mode)]))
        trunk = "yes" if self.trunk or len(self.tags) > 1 else None
        return element("vlan", [("trunk", trunk)], kids)


def parse_vlan(node: etree._Element) -> Vlan:
    """``virNetDevVlanParse``."""
    vlan = Vlan()
    tags = children(node, "tag")
    if not tags:
        fail(
            ErrorNumber.XML_ERROR,
            "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement",
            ErrorDomain.NONE,
        )
    for tag in tags:
        number = prop_uint(tag, "id", required=True) or 0
        if number > 4095:
            fail(
                ErrorNumber.XML_ERROR,
                f"vlan tag id {number} too large (maximum 4095)",
                ErrorDomain.NONE,
            )
        mode = prop_enum(tag, "nativeMode", ("default", "tagged", "untagged"), nonzero=True)
        if mode is not None:
            if vlan.native_mode is not None:
                fail(ErrorNumber.XML_ERROR, "duplicate native vlan setting", ErrorDomain.NONE)
            vlan.native_mode = mode
            vlan.native_tag = number
        vlan.tags.append(number)
    trunk = prop(node, "trunk") or None  # XPath string(): empty is absent
    if trunk is None:
        vlan.trunk = len(vlan.tags) > 1
    elif len(vlan.tags) > 1:
        if trunk != "yes":
            fail(
                ErrorNumber.XML_ERROR,
                f"invalid \"trunk='{trunk}'\" in <vlan> - trunk='yes' is required for more "
                "than one vlan tag",
                ErrorDomain.NONE,
            )
        vlan.trunk = True
    elif trunk in ("yes", "no"):
        vlan.trunk = trunk == "yes"
    else:
        fail(
            ErrorNumber.XML_ERROR,
            f"invalid \"trunk='{trunk}'\" in <vlan> - must be yes or no",
            ErrorDomain.NONE,
        )
    return vlan


# -- virtual ports ---------------------------------------------------------------------


@dataclass
class VirtualPort:
    """``<virtualport>``: an 802.1Qbg/Qbh, Open vSwitch or MidoNet port profile."""

    type: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def to_element(self) -> OutNode:
        """``virNetDevVPortProfileFormat``."""
        attrs = [(name, self.params.get(name)) for name in _VPORT_PARAMS]
        kids = [element("parameters", attrs)] if self.params else []
        return element("virtualport", [("type", self.type)], kids)


def parse_virtualport(
    node: etree._Element, *, require_all: bool, uuid_factory: UUIDFactory | None = None
) -> VirtualPort:
    """``virNetDevVPortProfileParse`` with ``GENERATE_MISSING_DEFAULTS``.

    *require_all* is libvirt's ``REQUIRE_ALL_ATTRIBUTES | REQUIRE_TYPE`` (for
    bridge, direct and hostdev interfaces); network interfaces may leave
    the type and parameters to their network.
    """
    make_uuid = uuid_factory or (lambda: str(uuidlib.uuid4()))
    port = VirtualPort()
    kind = prop(node, "type")
    if kind is not None:
        if kind not in _VPORT_TYPES:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED, f"unknown virtualport type {kind}", ErrorDomain.NONE
            )
        port.type = kind
    elif require_all:
        fail(ErrorNumber.XML_ERROR, "missing required virtualport type", ErrorDomain.NONE)
    params = child(node, "parameters")
    for name in _VPORT_PARAMS:
        value = prop(params, name) if params is not None else None
        if value is None:
            continue
        if name in ("managerid", "typeid", "typeidversion"):
            value = str(_vport_number(name, value))
        if name in ("instanceid", "interfaceid") and not valid_uuid(value):
            fail(
                ErrorNumber.XML_ERROR,
                f"cannot parse {name} parameter as a uuid",
                ErrorDomain.NONE,
            )
        if name == "profileid":
            if len(value) >= 40:
                fail(ErrorNumber.XML_ERROR, "profileid parameter too long", ErrorDomain.NONE)
            if not value:  # an empty profile id is no profile id
                continue
        port.params[name] = value
    # Generate the ids libvirt generates when they are missing.
    if port.type in (None, "openvswitch") and "interfaceid" not in port.params:
        port.params["interfaceid"] = make_uuid()
    if port.type in (None, "802.1Qbg") and "instanceid" not in port.params:
        port.params["instanceid"] = make_uuid()
    if port.type is not None:
        allowed = _VPORT_ALLOWED[port.type]
        for name in _VPORT_PARAMS:
            if name in port.params and name not in allowed:
                fail(
                    ErrorNumber.XML_ERROR,
                    f"extra {name} unsupported in <virtualport type='{port.type}'>",
                    ErrorDomain.NET,
                )
        if require_all:
            for name in _VPORT_REQUIRED[port.type]:
                if name not in port.params:
                    fail(
                        ErrorNumber.XML_ERROR,
                        f"missing {name} in <virtualport type='{port.type}'>",
                        ErrorDomain.NET,
                    )
    return port


def _vport_number(name: str, value: str) -> int:
    """A numeric 802.1Qbg parameter: ``virStrToLong_ui`` in base 0, then its range."""
    limits = {"managerid": 255, "typeid": 0xFFFFFF, "typeidversion": 255}
    try:
        number, negative = parse_c_integer(value, 0)
    except ValueError:
        number, negative = UINT_MAX + 1, False
    if negative:  # "-N" wraps around, as strtoul does, when N fits an unsigned int
        number = -number if -number > UINT_MAX else number & UINT_MAX
    if not 0 <= number <= UINT_MAX:
        fail(ErrorNumber.XML_ERROR, f"cannot parse value of {name} parameter", ErrorDomain.NONE)
    if number > limits[name]:
        fail(ErrorNumber.XML_ERROR, f"value of {name} out of range", ErrorDomain.NONE)
    return number


# -- IP addresses and routes ------------------------------------------------------------


@dataclass
class IPInfo:
    """``<ip>`` addresses and ``<route>`` entries (``virNetDevIPInfo``)."""

    ips: list[list[tuple[str, str | int | None]]] = field(default_factory=list)
    routes: list[list[tuple[str, str | int | None]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ips or self.routes)

    def elements(self) -> list[OutNode]:
        """``virDomainNetIPInfoFormat``."""
        return [element("ip", attrs) for attrs in self.ips] + [
            element("route", attrs) for attrs in self.routes
        ]


def _address(text: str, family: str | None) -> tuple[str, str] | None:
    """Canonical text and family of an IP address (``virSocketAddrParse``)."""
    parsed = try_ip(text, {"ipv4": 4, "ipv6": 6}.get(family or ""))
    if parsed is None:
        return None
    return format_ip(parsed), "ipv4" if parsed.version == 4 else "ipv6"


def _parse_ip(node: etree._Element) -> list[tuple[str, str | int | None]]:
    """``virDomainNetIPParseXML``."""
    text = prop(node, "address")
    if text is None:
        fail(ErrorNumber.XML_ERROR, "Missing required address in <ip>")
    family = prop(node, "family")
    parsed = _address(text, family if family in ("ipv4", "ipv6") else None)
    if parsed is None:
        fail(ErrorNumber.XML_ERROR, f"Invalid address '{text}' in <ip>")
    address, kind = parsed
    attrs: list[tuple[str, str | int | None]] = [("address", address), ("family", kind)]
    prefix = prop(node, "prefix")
    if prefix is not None:
        try:
            number = parse_uint(prefix)
        except ValueError:
            number = -1
        if not 0 <= number <= (32 if kind == "ipv4" else 128):
            fail(ErrorNumber.XML_ERROR, f"Invalid prefix value '{prefix}' in <ip>")
        attrs.append(("prefix", number or None))
    peer = prop(node, "peer")
    if peer is not None:
        parsed_peer = _address(peer, None)
        if parsed_peer is None:
            fail(ErrorNumber.INVALID_ARG, f"Invalid peer '{peer}' in <ip>")
        attrs.append(("peer", parsed_peer[0]))
    return attrs


def _parse_route(node: etree._Element, where: str) -> list[tuple[str, str | int | None]]:
    """``virNetDevIPRouteParseXML``; *where* starts libvirt's messages (``guest interface``)."""

    def route_error(detail: str) -> NoReturn:
        fail(ErrorNumber.XML_ERROR, f"{where}: {detail}", ErrorDomain.NETWORK)

    family = prop(node, "family")
    address = prop(node, "address")
    netmask = prop(node, "netmask")
    gateway = prop(node, "gateway")
    prefix = prop_uint(node, "prefix")
    metric = prop_uint(node, "metric", nonzero=True)
    if address is None:
        route_error("Missing required address attribute in route definition")
    if gateway is None:
        route_error("Missing required gateway attribute in route definition")
    net = _ip(address)
    if net is None:
        route_error(f"Bad network address '{address}' in route definition")
    via = _ip(gateway)
    if via is None:
        route_error(f"Bad gateway address '{gateway}' in route definition")
    mask = None
    if family is None or family == "ipv4":
        name = "No" if family is None else "IPv4"
        if net.version != 4:
            route_error(
                f"{name} family specified for non-IPv4 address '{address}' in route definition"
            )
        if via.version != 4:
            route_error(
                f"{name} family specified for non-IPv4 gateway '{gateway}' in route definition"
            )
        if netmask is not None:
            mask = _ip(netmask)
            if mask is None:
                route_error(f"Bad netmask address '{netmask}' in route definition")
            if mask.version != 4:
                route_error(
                    f"Invalid netmask '{netmask}' for address '{address}' (both must be IPv4)"
                )
            if prefix is not None:
                route_error("Route definition cannot have both a prefix and a netmask")
        if (prefix or 0) > 32:
            route_error(f"Invalid prefix {prefix} specified in route definition, must be 0 - 32")
    elif family == "ipv6":
        if net.version != 6:
            route_error(
                f"ipv6 family specified for non-IPv6 address '{address}' in route definition"
            )
        if netmask is not None:
            route_error(
                f"Specifying netmask invalid for IPv6 address '{address}' in route definition"
            )
        if via.version != 6:
            route_error(
                f"ipv6 specified for non-IPv6 gateway address '{gateway}' in route definition"
            )
        if (prefix or 0) > 128:
            route_error(f"Invalid prefix {prefix} specified in route definition, must be 0 - 128")
    else:
        route_error(f"Unrecognized family '{family}' in route definition")
    bits = net.max_prefixlen
    if mask is not None:  # virSocketAddrMask
        network = int(net) & int(mask)
    else:  # virSocketAddrMaskByPrefix
        network = int(net) & ~((1 << (bits - (prefix or 0))) - 1) & ((1 << bits) - 1)
    if network != int(net):
        route_error(f"Address '{address}' in route definition is not a network address")
    return [
        ("family", family),
        ("address", format_ip(net)),
        ("netmask", format_ip(mask) if mask is not None else None),
        ("prefix", prefix),
        ("gateway", format_ip(via)),
        ("metric", metric),
    ]


def _ip(text: str) -> IPAddress | None:
    return try_ip(text)


def parse_ip_info(holder: etree._Element, where: str = "guest interface") -> IPInfo:
    """The ``<ip>`` and ``<route>`` children of *holder* (``virDomainNetIPInfoParseXML``).

    *where* names the addresses in libvirt's route errors: ``guest
    interface`` or ``interface host IP``.
    """
    info = IPInfo()
    if not len(holder):
        return info  # no child element: neither addresses nor routes
    info.ips = [_parse_ip(node) for node in children(holder, "ip")]
    info.routes = [_parse_route(node, where) for node in children(holder, "route")]
    return info


# -- network filters --------------------------------------------------------------------


_VAR_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_VAR_VALUE = _VAR_NAME | {".", ":"}


def parse_filterref(node: etree._Element) -> tuple[str | None, list[tuple[str, str]]]:
    """``<filterref filter=...>`` and its ``<parameter name= value=>`` children."""
    params: list[tuple[str, str]] = []
    for param in children(node, "parameter"):
        name = prop(param, "name")
        value = prop(param, "value")
        if name is None or value is None:
            continue
        # virNWFilterParseParamAttributes skips bad names and values silently.
        if all(c in _VAR_NAME for c in name) and value and all(c in _VAR_VALUE for c in value):
            params.append((name, value))
    return prop(node, "filter"), params


def filterref_element(name: str, params: list[tuple[str, str]]) -> OutNode:
    """``virNWFilterFormatParamAttributes``: parameters sorted by name (stable)."""
    ordered = sorted(params, key=lambda item: item[0])
    kids = [element("parameter", [("name", n), ("value", v)]) for n, v in ordered]
    return element("filterref", [("filter", name)], kids)
