"""The host interface document (``<interface>``), read, checked and written as libvirt 9.0 does.

:class:`Interface` is a typed view of a live ``<interface>`` tree - a
physical ``ethernet`` device, a ``bridge``, a ``bond`` or a ``vlan`` with
its start mode, MTU, link, MAC address and IPv4/IPv6 protocol settings;
unknown content stays in the tree.

* :meth:`Interface.parse` runs ``virInterfaceDefParseString``'s checks in
  libvirt's order with its exact errors (``iface-define``);
* :meth:`Interface.definition` returns the values libvirt keeps
  (:class:`InterfaceDef`, recursive for bridge and bond members);
* :meth:`Interface.format` writes the document as ``virsh iface-dumpxml``
  prints it on libvirt 9.0's test driver: only what libvirt understood,
  in its order, start mode/MTU/protocols on the top-level interface only.

libvirt reads several values as opaque strings (MAC address, bridge delay,
VLAN tag, IP addresses, gateways, the ARP target) and writes them back
without checking them. One deliberate difference: libvirt writes those
strings without escaping them; they are escaped here so that the output
stays well-formed XML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml import units
from virtcore.xml.builder import UINT, XMLChild, XMLChildList, XMLFlag, XMLNode, XMLProperty
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.network_addr import error
from virtcore.xml.network_netdev import (
    add_element,
    child_elements,
    prop_enum,
    prop_tristate,
    prop_uint,
    raw_attr,
)

__all__ = [
    "BOND_MODES",
    "INTERFACE_RULES",
    "INTERFACE_TYPES",
    "LINK_STATES",
    "START_MODES",
    "Interface",
    "InterfaceBond",
    "InterfaceBridge",
    "InterfaceDef",
    "InterfaceIP",
    "InterfaceProtocol",
    "InterfaceVlan",
    "ProtocolDef",
]

logger = logging.getLogger(__name__)

_IFACE = ErrorDomain.INTERFACE

INTERFACE_TYPES = ("ethernet", "bridge", "bond", "vlan")
"""``virInterfaceType`` in libvirt's order."""
START_MODES = ("none", "onboot", "hotplug")
BOND_MODES = (
    "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb",
    "balance-alb",
)  # fmt: skip
MII_CARRIERS = ("ioctl", "netif")
ARP_VALIDATE = ("active", "backup", "all")
LINK_STATES = (
    "", "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
)  # fmt: skip
"""``virNetDevIfState``; the empty name stands for "not set"."""
MAX_MTU = 100000

INTERFACE_RULES = FormatRules(
    open_empty=frozenset({"protocol", "bridge", "bond", "bridge/interface", "bond/interface"})
)
"""libvirt writes these open even when empty (the top-level ``<interface>`` too)."""


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _IFACE)


def _first(element: etree._Element | None, tag: str) -> etree._Element | None:
    found = child_elements(element, tag)
    return found[0] if found else None


def _string(element: etree._Element | None, tag: str, attr: str) -> str | None:
    """``virXPathString("string(./tag/@attr)")``: None when absent or empty."""
    value = raw_attr(_first(element, tag), attr)
    return value or None


def _xpath_int(element: etree._Element | None, tag: str, attr: str) -> int | None:
    """``virXPathInt`` on ``string(./tag/@attr)``; -1 stands for "missing", ValueError invalid."""
    text = _string(element, tag, attr)
    if text is None:
        return None
    return units.parse_int(text)


# -- the values libvirt keeps ----------------------------------------------------------


@dataclass(frozen=True)
class ProtocolDef:
    """One ``<protocol>``: its family and addressing (``virInterfaceProtocolDef``)."""

    family: str
    autoconf: bool = False
    dhcp: bool = False
    peerdns: bool | None = None
    ips: tuple[tuple[str, int], ...] = ()
    gateway: str | None = None

    def emit(self, parent: etree._Element) -> None:
        proto = add_element(parent, "protocol", [("family", self.family)])
        if self.autoconf:
            add_element(proto, "autoconf")
        if self.dhcp:
            peerdns = None if self.peerdns is None else ("yes" if self.peerdns else "no")
            add_element(proto, "dhcp", [("peerdns", peerdns)])
        for address, prefix in self.ips:
            add_element(
                proto, "ip", [("address", address), ("prefix", str(prefix) if prefix else None)]
            )
        if self.gateway is not None:
            add_element(proto, "route", [("gateway", self.gateway)])


@dataclass(frozen=True)
class InterfaceDef:
    """The values libvirt keeps for an interface (``virInterfaceDef``).

    Type-specific fields are None (or empty) for the other types; *members*
    are the interfaces of a bridge or a bond.
    """

    type: str
    name: str
    start_mode: str | None = None
    mtu: int = 0
    protocols: tuple[ProtocolDef, ...] = ()
    link_speed: int = 0
    link_state: str = ""
    mac: str | None = None
    stp: bool | None = None
    delay: str | None = None
    members: tuple[InterfaceDef, ...] = ()
    bond_mode: str | None = None
    miimon: tuple[int, int, int, str | None] | None = None
    arpmon: tuple[int, str, str | None] | None = None
    vlan_tag: str | None = None
    vlan_device: str | None = None

    def to_element(self, top_level: bool = True) -> etree._Element:
        """The canonical ``<interface>`` tree (``virInterfaceDefDevFormat``)."""
        root = add_element(None, "interface", [("type", self.type), ("name", self.name)])
        if top_level:
            if self.start_mode is not None:
                add_element(root, "start", [("mode", self.start_mode)])
            if self.mtu:
                add_element(root, "mtu", [("size", str(self.mtu))])
            for proto in self.protocols:
                proto.emit(root)
        if self.type != "bridge" and (self.link_speed or self.link_state):
            add_element(
                root,
                "link",
                [("speed", str(self.link_speed) if self.link_speed else None),
                 ("state", self.link_state or None)],
            )  # fmt: skip
        if self.type == "ethernet" and self.mac is not None:
            add_element(root, "mac", [("address", self.mac)])
        elif self.type == "bridge":
            stp = None if self.stp is None else ("on" if self.stp else "off")
            bridge = add_element(root, "bridge", [("stp", stp), ("delay", self.delay)])
            for member in self.members:
                bridge.append(member.to_element(top_level=False))
        elif self.type == "bond":
            bond = add_element(root, "bond", [("mode", self.bond_mode)])
            if self.miimon is not None:
                freq, down, up, carrier = self.miimon
                add_element(
                    bond,
                    "miimon",
                    [("freq", str(freq)), ("downdelay", str(down) if down > 0 else None),
                     ("updelay", str(up) if up > 0 else None), ("carrier", carrier)],
                )  # fmt: skip
            elif self.arpmon is not None:
                interval, target, validate = self.arpmon
                add_element(
                    bond,
                    "arpmon",
                    [("interval", str(interval)), ("target", target), ("validate", validate)],
                )
            for member in self.members:
                bond.append(member.to_element(top_level=False))
        elif self.type == "vlan":
            vlan = add_element(root, "vlan", [("tag", self.vlan_tag)])
            if self.vlan_device is not None:
                add_element(vlan, "interface", [("name", self.vlan_device)])
        return root

    def format(self) -> str:
        """The document exactly as libvirt 9.0 prints it (``virInterfaceDefFormat``)."""
        root = self.to_element()
        if not len(root):
            # The top-level element is written open even when empty.
            head = format_xml(root, rules=INTERFACE_RULES).rstrip("\n")[: -len("/>")]
            return f"{head}>\n</interface>\n"
        return format_xml(root, rules=INTERFACE_RULES)


# -- the model -------------------------------------------------------------------------


class InterfaceIP(XMLNode):
    """An ``<ip address= prefix=>`` of a protocol."""

    TAG = "ip"
    address = XMLProperty("./@address")
    prefix = XMLProperty("./@prefix", int)


class InterfaceProtocol(XMLNode):
    """A ``<protocol family=>``: DHCP, IPv6 autoconfiguration, addresses and gateway."""

    TAG = "protocol"
    family = XMLProperty("./@family")
    autoconf = XMLFlag("./autoconf")
    dhcp = XMLFlag("./dhcp")
    peerdns = XMLProperty("./dhcp/@peerdns")
    ips = XMLChildList(InterfaceIP, "./ip")
    gateway = XMLProperty("./route/@gateway")


class InterfaceBridge(XMLNode):
    """A bridge's ``<bridge>``: STP, forward delay and the member interfaces."""

    TAG = "bridge"
    stp = XMLProperty("./@stp")
    delay = XMLProperty("./@delay")
    interfaces: XMLChildList[Interface]


class InterfaceBond(XMLNode):
    """A bond's ``<bond>``: mode, MII or ARP monitoring and the member interfaces."""

    TAG = "bond"
    mode = XMLProperty("./@mode")
    miimon_freq = XMLProperty("./miimon/@freq", int)
    miimon_downdelay = XMLProperty("./miimon/@downdelay", int)
    miimon_updelay = XMLProperty("./miimon/@updelay", int)
    miimon_carrier = XMLProperty("./miimon/@carrier")
    arpmon_interval = XMLProperty("./arpmon/@interval", int)
    arpmon_target = XMLProperty("./arpmon/@target")
    arpmon_validate = XMLProperty("./arpmon/@validate")
    interfaces: XMLChildList[Interface]


class InterfaceVlan(XMLNode):
    """A VLAN's ``<vlan tag=>`` and the device it sits on."""

    TAG = "vlan"
    tag = XMLProperty("./@tag")
    device = XMLProperty("./interface/@name")


class Interface(XMLNode):
    """An ``<interface>`` document (or a bridge/bond member): a view over its live tree.

    ``Interface.parse(text)`` defines an interface as libvirt does (checks
    included); ``Interface.from_xml(text)`` only parses. ``format()`` is
    libvirt's output, ``to_string()`` the tree as it stands.
    """

    TAG = "interface"
    PARSE_URL = "(interface_definition)"
    ERROR_DOMAIN = ErrorDomain.INTERFACE
    SCHEMA = "interface.rng"
    FORMAT_RULES = INTERFACE_RULES
    XML_ORDER = {
        "": ("@type", "@name", "start", "mtu", "protocol", "link", "mac", "bridge", "bond",
             "vlan"),
    }  # fmt: skip

    type = XMLProperty("./@type")
    name = XMLProperty("./@name")
    start_mode = XMLProperty("./start/@mode")
    mtu = XMLProperty("./mtu/@size", UINT)
    protocols = XMLChildList(InterfaceProtocol, "./protocol")
    link_speed = XMLProperty("./link/@speed", UINT)
    link_state = XMLProperty("./link/@state")
    mac = XMLProperty("./mac/@address")
    bridge = XMLChild(InterfaceBridge)
    bond = XMLChild(InterfaceBond)
    vlan = XMLChild(InterfaceVlan)

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Define an interface from *text* as ``virInterfaceDefineXML`` would."""
        interface = cls.from_xml(text, validate_schema=validate_schema)
        interface.check()
        return interface

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    def definition(self) -> InterfaceDef:
        """``virInterfaceDefParseXML``: libvirt's checks, in its order, and the values it keeps."""
        return _parse_interface(self.element, None)

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virInterfaceGetXMLDesc``)."""
        del flags  # VIR_INTERFACE_XML_INACTIVE changes nothing in a stored definition
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


InterfaceBridge.interfaces = XMLChildList(Interface, "./interface")
InterfaceBridge.interfaces.__set_name__(InterfaceBridge, "interfaces")
InterfaceBond.interfaces = XMLChildList(Interface, "./interface")
InterfaceBond.interfaces.__set_name__(InterfaceBond, "interfaces")


# -- libvirt's parser ------------------------------------------------------------------

_ALLOWED_MEMBERS = {"bond": ("ethernet",), "bridge": ("ethernet", "bond", "vlan")}


def _parse_interface(node: etree._Element, parent_type: str | None) -> InterfaceDef:
    kind = prop_enum(node, "type", INTERFACE_TYPES, required=True, nonzero=False)
    assert kind is not None
    if parent_type is not None and kind not in _ALLOWED_MEMBERS.get(parent_type, ()):
        raise _xml_error(f"interface has unsupported type '{kind}'")
    name = raw_attr(node, "name")
    if name is None:
        raise _xml_error("interface has no name")
    start_mode = None
    mtu = 0
    protocols: tuple[ProtocolDef, ...] = ()
    if parent_type is None:
        start_mode = _string(node, "start", "mode")
        if start_mode is not None and start_mode not in START_MODES:
            raise _xml_error(f"unknown interface startmode {start_mode}")
        mtu = _parse_mtu(node)
        protocols = tuple(_parse_protocol(p) for p in child_elements(node, "protocol"))
    link_speed, link_state = 0, ""
    link = _first(node, "link")
    if kind != "bridge" and link is not None:
        link_state = prop_enum(link, "state", LINK_STATES, nonzero=False) or ""
        link_speed = prop_uint(link, "speed") or 0
    common = InterfaceDef(
        type=kind,
        name=name,
        start_mode=start_mode,
        mtu=mtu,
        protocols=protocols,
        link_speed=link_speed,
        link_state=link_state,
    )
    if kind == "ethernet":
        return replace(common, mac=_string(node, "mac", "address"))
    if kind == "bridge":
        return _parse_bridge(node, common)
    if kind == "bond":
        return _parse_bond(node, common)
    return _parse_vlan(node, common)


def _parse_mtu(node: etree._Element) -> int:
    text = _string(node, "mtu", "size")
    if text is None:
        return 0
    try:
        value = units.parse_uint(text)
    except ValueError:
        # virXPathUInt fails without a message of its own.
        raise VirtError(
            None,
            code=ErrorNumber.INTERNAL_ERROR,
            domain=ErrorDomain.NONE,
            message="An error occurred, but the cause is unknown",
        ) from None
    if value > MAX_MTU:
        raise _xml_error(
            f"value of the 'size' attribute of 'mtu' element must be at most {MAX_MTU}"
        )
    return value


def _parse_protocol(node: etree._Element) -> ProtocolDef:
    family = raw_attr(node, "family")
    if family is None:
        raise _xml_error("protocol misses the family attribute")
    if family not in ("ipv4", "ipv6"):
        raise _xml_error(f"unsupported protocol family '{family}'")
    gateway = _string(node, "route", "gateway")
    autoconf = family == "ipv6" and _first(node, "autoconf") is not None
    dhcp_node = _first(node, "dhcp")
    peerdns = prop_tristate(dhcp_node, "peerdns")
    ips: list[tuple[str, int]] = []
    for ip in child_elements(node, "ip"):
        address = raw_attr(ip, "address")
        if address is None:
            continue
        prefix = _prop_int_base0(ip, "prefix")
        ips.append((address, prefix))
    return ProtocolDef(family, autoconf, dhcp_node is not None, peerdns, tuple(ips), gateway)


def _prop_int_base0(node: etree._Element, name: str) -> int:
    """``virXMLPropInt`` with base 0 (``0x`` hexadecimal, ``0`` octal); 0 when absent."""
    text = raw_attr(node, name)
    if text is None:
        return 0
    try:
        return units.parse_int(text, 0)
    except ValueError:
        raise XMLError(
            f"Invalid value for attribute '{name}' in element 'ip': '{text}'. "
            "Expected integer value",
            domain=ErrorDomain.XML,
        ) from None


def _parse_bridge(node: etree._Element, common: InterfaceDef) -> InterfaceDef:
    bridge = _first(node, "bridge")
    if bridge is None:
        raise _xml_error("bridge interface misses the bridge element")
    stp_text = raw_attr(bridge, "stp")
    stp = None
    if stp_text is not None:
        if stp_text not in ("on", "off"):
            # libvirt reports the error yet accepts the interface, with an empty bridge.
            logger.debug("bridge interface stp should be on or off got %s", stp_text)
            return common
        stp = stp_text == "on"
    members = tuple(_parse_interface(m, "bridge") for m in child_elements(bridge, "interface"))
    return replace(common, stp=stp, delay=raw_attr(bridge, "delay"), members=members)


def _parse_bond(node: etree._Element, common: InterfaceDef) -> InterfaceDef:
    bond = _first(node, "bond")
    if bond is None:
        raise _xml_error("bond interface misses the bond element")
    mode = raw_attr(bond, "mode") or None
    if mode is not None and mode not in BOND_MODES:
        raise _xml_error(f"unknown bonding mode {mode}")
    members = tuple(_parse_interface(m, "bond") for m in child_elements(bond, "interface"))
    miimon = arpmon = None
    if _first(bond, "miimon") is not None:
        miimon = _parse_miimon(bond)
    elif _first(bond, "arpmon") is not None:
        arpmon = _parse_arpmon(bond)
    return replace(common, bond_mode=mode, members=members, miimon=miimon, arpmon=arpmon)


def _bond_int(bond: etree._Element, tag: str, attr: str, message: str, *, required: bool) -> int:
    try:
        value = _xpath_int(bond, tag, attr)
    except ValueError:
        raise _xml_error(message) from None
    if value is None:
        if required:
            raise _xml_error(message)
        return 0
    return value


def _parse_miimon(bond: etree._Element) -> tuple[int, int, int, str | None]:
    freq = _bond_int(
        bond, "miimon", "freq", "bond interface miimon freq missing or invalid", required=True
    )
    down = _bond_int(
        bond, "miimon", "downdelay", "bond interface miimon downdelay invalid", required=False
    )
    up = _bond_int(
        bond, "miimon", "updelay", "bond interface miimon updelay invalid", required=False
    )
    carrier = _string(bond, "miimon", "carrier")
    if carrier is not None and carrier not in MII_CARRIERS:
        raise _xml_error(f"unknown mii bonding carrier {carrier}")
    return freq, down, up, carrier


def _parse_arpmon(bond: etree._Element) -> tuple[int, str, str | None]:
    interval = _bond_int(
        bond,
        "arpmon",
        "interval",
        "bond interface arpmon interval missing or invalid",
        required=True,
    )
    target = _string(bond, "arpmon", "target")
    if target is None:
        raise _xml_error("bond interface arpmon target missing")
    validate = _string(bond, "arpmon", "validate")
    if validate is not None and validate not in ARP_VALIDATE:
        raise _xml_error(f"unknown arp bonding validate {validate}")
    return interval, target, validate


def _parse_vlan(node: etree._Element, common: InterfaceDef) -> InterfaceDef:
    vlan = _first(node, "vlan")
    if vlan is None:
        raise _xml_error("vlan interface misses the vlan element")
    tag = raw_attr(vlan, "tag") or None
    if tag is None:
        raise _xml_error("vlan interface misses the tag attribute")
    device = _string(vlan, "interface", "name")
    if device is None:
        raise _xml_error("vlan interface misses name attribute")
    return replace(common, vlan_tag=tag, vlan_device=device)
