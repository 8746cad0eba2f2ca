"""The rules of a network filter (``<rule>``), read, checked and written as libvirt 9.0 does.

A ``<rule>`` carries an action, a direction, a priority and at most one
protocol: the first child element named after a protocol (``mac``, ``tcp``,
``icmpv6``, ``all-ipv6``, ...) decides it, and every later child of the same
name is merged into it. Each protocol has a fixed table of attributes,
each with the value types libvirt tries in turn (decimal before hex, numbers
before names); a value starting with ``$`` is a variable reference such as
``$IP``, ``$IP[2]`` or ``$IP[@1]``.

:func:`parse_rule` reproduces ``virNWFilterRuleParse``: the same accepted
spellings, the same canonical values (``protocol='6'`` becomes ``tcp``, masks
become prefix lengths, MAC addresses lower case), the same sign fix-ups
(``match='no'`` of a range start carried to its end) and the same errors, the
last failing attribute of an element being the one reported.
:meth:`RuleDef.to_element` writes the rule as ``virNWFilterRuleDefFormat``
does, splitting a protocol element where negated and plain attributes meet.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.network_addr import error, format_ip, format_mac, netmask_bits, parse_mac, try_ip
from virtcore.xml.network_netdev import add_element, raw_attr, strtoul_ui

__all__ = [
    "ACTIONS",
    "DIRECTIONS",
    "PROTOCOLS",
    "ItemDef",
    "RuleDef",
    "parse_rule",
    "parse_var_access",
]

logger = logging.getLogger(__name__)

_NWF = ErrorDomain.NWFILTER

ACTIONS = ("drop", "accept", "reject", "return", "continue")
DIRECTIONS = ("in", "out", "inout")
MIN_RULE_PRIORITY, MAX_RULE_PRIORITY = -1000, 1000
MAX_COMMENT_LENGTH = 256
MAX_IPSET_NAME_LENGTH = 32
MAX_ITERID = 1000
VALID_VARNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
VALID_IPSETNAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-+ ")

# Value types, as bits in libvirt's order: a value is tried against the
# types of its attribute from the lowest bit up.
U16, U8, U16_HEX, U8_HEX = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MACADDR, MACMASK, IPADDR, IPMASK = 1 << 4, 1 << 5, 1 << 6, 1 << 7
STRING, IPV6ADDR, IPV6MASK, STRINGCOPY = 1 << 8, 1 << 9, 1 << 10, 1 << 11
BOOLEAN, U32, U32_HEX, IPSETNAME, IPSETFLAGS = 1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16
_LAST = 1 << 17

_MAC_PROTOCOLS = {0x0806: "arp", 0x8035: "rarp", 0x0800: "ipv4", 0x86DD: "ipv6", 0x8100: "vlan"}
_ARP_OPCODES = {
    1: "Request", 2: "Reply", 3: "Request_Reverse", 4: "Reply_Reverse", 5: "DRARP_Request",
    6: "DRARP_Reply", 7: "DRARP_Error", 8: "InARP_Request", 9: "ARP_NAK",
}  # fmt: skip
_IP_PROTOCOLS = {
    6: "tcp", 17: "udp", 136: "udplite", 50: "esp", 51: "ah", 1: "icmp", 2: "igmp", 132: "sctp",
    58: "icmpv6",
}  # fmt: skip
_STATES = (("NEW", 2), ("ESTABLISHED", 4), ("RELATED", 8), ("INVALID", 16), ("NONE", 32))
_TCP_FLAGS = (
    ("FIN", 0x1), ("SYN", 0x2), ("RST", 0x4), ("PSH", 0x8), ("ACK", 0x10), ("URG", 0x20),
    ("ALL", 0x3F), ("NONE", 0x0),
)  # fmt: skip
_PORT_PROTOCOLS = (6, 17, 33, 132)


# -- attribute tables ------------------------------------------------------------------

Attr = tuple[str, int]

_MAC_COMMON: tuple[Attr, ...] = (
    ("srcmacaddr", MACADDR), ("srcmacmask", MACMASK), ("dstmacaddr", MACADDR),
    ("dstmacmask", MACMASK),
)  # fmt: skip
_COMMENT: Attr = ("comment", STRINGCOPY)
_U8X, _U16X, _U32X = U8 | U8_HEX, U16 | U16_HEX, U32 | U32_HEX
_PORTS: tuple[Attr, ...] = (
    ("srcportstart", _U16X), ("srcportend", _U16X), ("dstportstart", _U16X),
    ("dstportend", _U16X),
)  # fmt: skip


def _ip_common(addr: int, mask: int) -> tuple[Attr, ...]:
    # libvirt declares dstipto as an IPv4 address for the IPv6 protocols too.
    return (
        ("srcmacaddr", MACADDR), ("srcipaddr", addr), ("srcipmask", mask), ("dstipaddr", addr),
        ("dstipmask", mask), ("srcipfrom", addr), ("srcipto", addr), ("dstipfrom", addr),
        ("dstipto", IPADDR), ("dscp", _U8X), ("connlimit-above", U16), ("state", STRING),
        ("ipset", IPSETNAME), ("ipsetflags", IPSETFLAGS),
    )  # fmt: skip


_IP4, _IP6 = _ip_common(IPADDR, IPMASK), _ip_common(IPV6ADDR, IPV6MASK)
_STP_FIELDS = (
    ("type", _U8X), ("flags", _U8X), ("root-priority", _U16X), ("root-priority-hi", _U16X),
    ("root-address", MACADDR), ("root-address-mask", MACMASK), ("root-cost", _U32X),
    ("root-cost-hi", _U32X), ("sender-priority", _U16X), ("sender-priority-hi", _U16X),
    ("sender-address", MACADDR), ("sender-address-mask", MACMASK), ("port", _U16X),
    ("port-hi", _U16X), ("age", _U16X), ("age-hi", _U16X), ("max-age", _U16X),
    ("max-age-hi", _U16X), ("hello-time", _U16X), ("hello-time-hi", _U16X),
    ("forward-delay", _U16X), ("forward-delay-hi", _U16X),
)  # fmt: skip
_ARP = (
    *_MAC_COMMON, ("hwtype", _U16X), ("protocoltype", _U16X), ("opcode", _U16X | STRING),
    ("arpsrcmacaddr", MACADDR), ("arpdstmacaddr", MACADDR), ("arpsrcipaddr", IPADDR),
    ("arpsrcipmask", IPMASK), ("arpdstipaddr", IPADDR), ("arpdstipmask", IPMASK),
    ("gratuitous", BOOLEAN), _COMMENT,
)  # fmt: skip
_IPHDR_V4 = (
    *_MAC_COMMON, ("srcipaddr", IPADDR), ("srcipmask", IPMASK), ("dstipaddr", IPADDR),
    ("dstipmask", IPMASK), ("protocol", STRING | _U8X), *_PORTS, ("dscp", _U8X), _COMMENT,
)  # fmt: skip
_IPHDR_V6 = (
    *_MAC_COMMON, ("srcipaddr", IPV6ADDR), ("srcipmask", IPV6MASK), ("dstipaddr", IPV6ADDR),
    ("dstipmask", IPV6MASK), ("protocol", STRING | _U8X), *_PORTS, ("type", _U8X),
    ("typeend", _U8X), ("code", _U8X), ("codeend", _U8X), _COMMENT,
)  # fmt: skip

PROTOCOLS: dict[str, tuple[Attr, ...]] = {
    "arp": _ARP,
    "rarp": _ARP,
    "mac": (*_MAC_COMMON, ("protocolid", _U16X | STRING), _COMMENT),
    "vlan": (*_MAC_COMMON, ("vlanid", _U16X), ("encap-protocol", _U16X | STRING), _COMMENT),
    "stp": (("srcmacaddr", MACADDR), ("srcmacmask", MACMASK), *_STP_FIELDS, _COMMENT),
    "ip": _IPHDR_V4,
    "ipv6": _IPHDR_V6,
    "tcp": (*_IP4, *_PORTS, ("option", _U8X), ("flags", STRING), _COMMENT),
    "udp": (*_IP4, *_PORTS, _COMMENT),
    "udplite": (*_IP4, _COMMENT),
    "esp": (*_IP4, _COMMENT),
    "ah": (*_IP4, _COMMENT),
    "sctp": (*_IP4, *_PORTS, _COMMENT),
    "icmp": (*_IP4, ("type", _U8X), ("code", _U8X), _COMMENT),
    "all": (*_IP4, _COMMENT),
    "igmp": (*_IP4, _COMMENT),
    "tcp-ipv6": (*_IP6, *_PORTS, ("option", _U8X), _COMMENT),
    "udp-ipv6": (*_IP6, *_PORTS, _COMMENT),
    "udplite-ipv6": (*_IP6, _COMMENT),
    "esp-ipv6": (*_IP6, _COMMENT),
    "ah-ipv6": (*_IP6, _COMMENT),
    "sctp-ipv6": (*_IP6, *_PORTS, _COMMENT),
    "icmpv6": (*_IP6, ("type", _U8X), ("code", _U8X), _COMMENT),
    "all-ipv6": (*_IP6, _COMMENT),
}
"""Per protocol element, its attributes in libvirt's order (the output order)."""

_IP_SIGNS = (
    ("srcipmask", "srcipaddr"), ("dstipmask", "dstipaddr"), ("srcipto", "srcipfrom"),
    ("dstipto", "dstipfrom"),
)  # fmt: skip
_PORT_SIGNS = (
    ("srcportend", "srcportstart"), ("dstportstart", "srcportstart"),
    ("dstportend", "srcportstart"),
)  # fmt: skip
_MAC_SIGNS = (("srcmacmask", "srcmacaddr"), ("dstmacmask", "dstmacaddr"))
_STP_SIGNS = (
    ("srcmacmask", "srcmacaddr"), ("root-priority-hi", "root-priority"),
    ("root-address-mask", "root-address"), ("root-cost-hi", "root-cost"),
    ("sender-priority-hi", "sender-priority"), ("sender-address-mask", "sender-address"),
    ("port-hi", "port"), ("age-hi", "age"), ("max-age-hi", "max-age"),
    ("hello-time-hi", "hello-time"), ("forward-delay-hi", "forward-delay"),
)  # fmt: skip
_IPV6_SIGNS = (
    *_IP_SIGNS[:2], ("typeend", "type"), ("code", "type"), ("codeend", "type"),
)  # fmt: skip

# (target takes the sign of source) pairs and whether the ipset fix-up runs.
_FIXUPS: dict[str, tuple[tuple[tuple[str, str], ...], bool]] = {
    "mac": (_MAC_SIGNS, False),
    "vlan": (_MAC_SIGNS, False),
    "stp": (_STP_SIGNS, False),
    "ip": (_IP_SIGNS[:2], True),
    "ipv6": (_IPV6_SIGNS, True),
    "arp": ((), False),
    "rarp": ((), False),
    "all": (_IP_SIGNS, False),
    "all-ipv6": (_IP_SIGNS, False),
}
for _name in ("tcp", "udp", "sctp", "tcp-ipv6", "udp-ipv6", "sctp-ipv6"):
    _FIXUPS[_name] = ((*_IP_SIGNS, *_PORT_SIGNS), True)
for _name in ("udplite", "esp", "ah", "igmp", "udplite-ipv6", "esp-ipv6", "ah-ipv6"):
    _FIXUPS[_name] = (_IP_SIGNS, True)
for _name in ("icmp", "icmpv6"):
    _FIXUPS[_name] = ((*_IP_SIGNS, ("code", "type")), True)


# -- values ----------------------------------------------------------------------------


@dataclass
class ItemDef:
    """One attribute's value as libvirt keeps it (``nwItemDesc``).

    *value* is an int, MAC bytes, an address, a string, a bool or a tuple
    (TCP flags, ipset flags), depending on *datatype*; *var* is the
    canonical variable reference when the value is one.
    """

    datatype: int = 0
    value: Any = None
    negated: bool = False
    var: str | None = None


_VAR_INDEX = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def parse_var_access(text: str) -> str | None:
    """``virNWFilterVarAccessParse`` of *text* (without ``$``): its canonical form or None."""
    idx = 0
    while idx < len(text) and text[idx] in VALID_VARNAME:
        idx += 1
    name = text[:idx]
    if idx == len(text):
        return name
    if text[idx] != "[":
        return None
    rest = text[idx + 1 :].lstrip(" \t\n\v\f\r")
    iterator = rest.startswith("@")
    if iterator:
        rest = rest[1:]
    match = _VAR_INDEX.match(rest)
    if match is None:
        return None
    value = strtoul_ui(match.group(0))
    if value is None or not rest[match.end() :].lstrip(" \t\n\v\f\r").startswith("]"):
        return None
    if not iterator:
        return f"{name}[{value}]"
    if value > MAX_ITERID:
        return None
    return f"{name}[@{value}]" if value else name


def _parse_items(text: str, table: tuple[tuple[str, int], ...], sep: str) -> int | None:
    """``parseStringItems``: OR of the names (case-insensitive prefixes) in *text*."""
    flags, i = 0, 0
    while i < len(text):
        while i < len(text) and (text[i] in " \t\n\v\f\r" or text[i] == sep):
            i += 1
        if i >= len(text):
            break
        for name, bit in table:
            if text[i : i + len(name)].upper() == name:
                flags |= bit
                i += len(name)
                break
        else:
            return None
    return flags


def _print_items(table: tuple[tuple[str, int], ...], flags: int) -> str:
    names: list[str] = []
    mask = 1
    while flags:
        if mask & flags:
            names.extend(name for name, bit in table if bit == mask)
            flags ^= mask
        mask <<= 1
    return ",".join(names)


def _tcp_flags_text(flags: int) -> str:
    return "NONE" if flags == 0 else "ALL" if flags == 0x3F else _print_items(_TCP_FLAGS, flags)


def _contiguous(mask: bytes) -> bool:
    bits = "".join(f"{b:08b}" for b in mask)
    return "01" not in bits


def _validate(name: str, datatype: int, item: ItemDef, prop: str) -> bool:
    """The validators libvirt attaches to some attributes; may rewrite *item*."""
    value = item.value
    if name in ("protocolid", "encap-protocol"):
        if datatype == STRING:
            code = next((k for k, v in _MAC_PROTOCOLS.items() if v == prop.lower()), None)
            if code is None:
                return False
            item.value, item.datatype = code, U16
            return True
        return bool(value >= (0x600 if name == "protocolid" else 0x3C))
    if name == "vlanid":
        return bool(value <= 4095)
    if name == "opcode":
        if datatype == STRING:
            code = next((k for k, v in _ARP_OPCODES.items() if v.lower() == prop.lower()), None)
            if code is None:
                return False
            item.value, item.datatype = code, U16
        return True
    if name == "protocol":
        if datatype == STRING:
            code = next((k for k, v in _IP_PROTOCOLS.items() if v == prop.lower()), None)
            if code is None:
                return False
            item.value, item.datatype = code, U8_HEX
        return True
    if name == "dscp":
        return bool(value <= 63)
    if name == "state":
        flags = _parse_items(prop, _STATES, ",")
        if flags is None:
            return False
        item.value, item.datatype = (32 if flags & 32 else flags), U16
        return True
    if name == "flags" and datatype == STRING:
        mask_text, sep, flags_text = prop.partition("/")
        mask = _parse_items(mask_text, _TCP_FLAGS, ",")
        flags = _parse_items(flags_text, _TCP_FLAGS, ",")
        if not sep or mask is None or flags is None:
            return False
        item.value = (mask & 0x3F, flags & 0x3F)
        return True
    if name == "ipset":
        return len(prop.encode()) < MAX_IPSET_NAME_LENGTH and set(prop) <= VALID_IPSETNAME
    if name == "ipsetflags":
        parsed = _parse_ipset_flags(prop)
        item.value = parsed
        return parsed is not None
    if datatype == MACMASK:
        return _contiguous(value)
    return True


def _parse_ipset_flags(text: str) -> tuple[str, ...] | None:
    flags: list[str] = []
    idx = 0
    while len(flags) < 6:
        word = text[idx : idx + 3].lower()
        if word not in ("src", "dst"):
            return None
        flags.append(word)
        idx += 3
        if text[idx : idx + 1] != ",":
            break
        idx += 1
    return tuple(flags) if idx == len(text) else None


def _try_type(datatype: int, prop: str) -> tuple[bool, Any]:
    """Read *prop* as one value type: (success, value)."""
    if datatype in (U8, U8_HEX, U16, U16_HEX, U32, U32_HEX):
        base = 16 if datatype in (U8_HEX, U16_HEX, U32_HEX) else 10
        number = strtoul_ui(prop, base)
        limit = 0xFF if datatype in (U8, U8_HEX) else 0xFFFF if datatype in (U16, U16_HEX) else None
        if number is None or (limit is not None and number > limit):
            return False, None
        return True, number
    if datatype in (IPADDR, IPV6ADDR):
        address = try_ip(prop, 4 if datatype == IPADDR else 6)
        return address is not None, address
    if datatype in (IPMASK, IPV6MASK):
        width = 32 if datatype == IPMASK else 128
        number = strtoul_ui(prop)
        if number is not None:
            return number <= width, number
        mask = try_ip(prop, 4 if datatype == IPMASK else 6)
        if mask is None or netmask_bits(mask) < 0:
            return False, None
        return True, netmask_bits(mask)
    if datatype in (MACADDR, MACMASK):
        mac = parse_mac(prop)
        return mac is not None, mac
    if datatype == STRINGCOPY:
        return True, prop.encode()[:MAX_COMMENT_LENGTH].decode(errors="ignore")
    if datatype == BOOLEAN:
        return True, prop in ("true", "1", "yes")
    return True, prop  # STRING, IPSETNAME, IPSETFLAGS: the validator decides


def _parse_attribute(name: str, types: int, prop: str, old: ItemDef | None) -> ItemDef | None:
    """One attribute's value, tried against its types in libvirt's order; None if illegal."""
    if prop.startswith("$"):
        var = parse_var_access(prop[1:])
        if var is None:
            return None
        # The value of an earlier element survives in libvirt's union.
        return ItemDef(0, old.value if old is not None else None, var=var)
    datatype = 1
    while datatype < _LAST:
        if types & datatype:
            ok, value = _try_type(datatype, prop)
            if ok:
                item = ItemDef(datatype, value)
                return item if _validate(name, datatype, item, prop) else None
        datatype <<= 1
    return None


# -- rules -----------------------------------------------------------------------------


@dataclass
class RuleDef:
    """A rule as libvirt keeps it (``virNWFilterRuleDef``).

    *protocol* is None for a rule without protocol element; *items* maps the
    attributes set, in no particular order (output follows the protocol's
    table).
    """

    action: str
    direction: str
    priority: int = 500
    statematch: bool = True
    protocol: str | None = None
    items: dict[str, ItemDef] = field(default_factory=dict)

    def to_element(self, parent: etree._Element | None = None) -> etree._Element:
        """The canonical ``<rule>`` (``virNWFilterRuleDefFormat``)."""
        rule = add_element(
            parent,
            "rule",
            [("action", self.action), ("direction", self.direction),
             ("priority", str(self.priority)),
             ("statematch", None if self.statematch else "false")],
        )  # fmt: skip
        if self.protocol is not None:
            self._emit_protocol(rule)
        return rule

    def _emit_protocol(self, rule: etree._Element) -> None:
        assert self.protocol is not None
        table = PROTOCOLS[self.protocol]
        current: etree._Element | None = None
        shown_negated: bool | None = None
        index = 0
        while index < len(table):
            name = table[index][0]
            item = self.items.get(name)
            if item is None:
                index += 1
                continue
            if current is None:
                current = add_element(rule, self.protocol)
            if shown_negated is not None and shown_negated != item.negated:
                # A change of sign closes the element; the attribute opens the next.
                current, shown_negated = None, None
                continue
            if shown_negated is None and item.negated:
                current.set("match", "no")
            shown_negated = item.negated
            current.set(name, _format_item(name, item))
            index += 1
        if current is None and not rule.findall(self.protocol):
            add_element(rule, self.protocol)


def _format_item(name: str, item: ItemDef) -> str:
    if item.var is not None:
        return f"${item.var}"
    value, datatype = item.value, item.datatype
    if name in ("protocolid", "encap-protocol") and value in _MAC_PROTOCOLS:
        return _MAC_PROTOCOLS[value]
    if name == "opcode":
        return _ARP_OPCODES.get(value, str(value))
    if name == "protocol" and value in _IP_PROTOCOLS:
        return _IP_PROTOCOLS[value]
    if name == "state":
        return _print_items(_STATES, value)
    if name == "flags" and isinstance(value, tuple):
        return f"{_tcp_flags_text(value[0])}/{_tcp_flags_text(value[1])}"
    if name == "ipsetflags":
        return ",".join(value)
    if datatype in (U8_HEX, U16_HEX, U32_HEX):
        return f"0x{value:x}"
    if datatype in (MACADDR, MACMASK):
        return format_mac(value)
    if datatype in (IPADDR, IPV6ADDR):
        return format_ip(value)
    if datatype == BOOLEAN:
        return "true" if value else "false"
    return str(value)


def _illegal(name: str, prop: str) -> VirtError:
    return error(ErrorNumber.INTERNAL_ERROR, f"{name} has illegal value {prop}", _NWF)


def _parse_details(element: etree._Element, protocol: str, items: dict[str, ItemDef]) -> None:
    """``virNWFilterRuleDetailsParse``: every attribute; the last illegal one is reported."""
    negated = raw_attr(element, "match") == "no"
    failure: VirtError | None = None
    for name, types in PROTOCOLS[protocol]:
        prop = raw_attr(element, name)
        if prop is None:
            continue
        item = _parse_attribute(name, types, prop, items.get(name))
        if item is None:
            failure = _illegal(name, prop)
            continue
        item.negated = negated
        items[name] = item
    if failure is not None:
        raise failure


def _check_ports(protocol: str, items: dict[str, ItemDef]) -> None:
    """``virNWFilterRuleValidate``: ports on ip/ipv6 need a protocol that has ports."""
    if protocol not in ("ip", "ipv6"):
        return
    if not any(name in items for name, _ in _PORTS):
        return
    proto = items.get("protocol")
    if proto is None or (proto.value or 0) not in _PORT_PROTOCOLS:
        label = "IP" if protocol == "ip" else "IPv6"
        raise error(
            ErrorNumber.INTERNAL_ERROR,
            f"{label} rule with port specification requires protocol specification with "
            "protocol to be either one of tcp(6), udp(17), dccp(33), or sctp(132)",
            _NWF,
        )


def _fixup(protocol: str, items: dict[str, ItemDef]) -> None:
    """``virNWFilterRuleDefFixup``: range ends take the sign of their start."""
    signs, ipset = _FIXUPS[protocol]
    for target, source in signs:
        if target in items:
            items[target].negated = source in items and items[source].negated
    if ipset:
        if "ipset" in items and "ipsetflags" not in items:
            items["ipsetflags"] = ItemDef(IPSETFLAGS, ("src",))
        else:
            # libvirt drops both when both are given.
            items.pop("ipset", None)
            items.pop("ipsetflags", None)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def parse_rule(node: etree._Element) -> RuleDef:
    """``virNWFilterRuleParse``: libvirt's checks, in its order, and the rule it keeps."""
    action = raw_attr(node, "action")
    if action is None:
        raise error(ErrorNumber.INTERNAL_ERROR, "rule node requires action attribute", _NWF)
    if action not in ACTIONS:
        raise error(ErrorNumber.CONFIG_UNSUPPORTED, "unknown rule action attribute value", _NWF)
    direction = raw_attr(node, "direction")
    if direction is None:
        raise error(ErrorNumber.INTERNAL_ERROR, "rule node requires direction attribute", _NWF)
    if direction not in DIRECTIONS:
        raise error(ErrorNumber.CONFIG_UNSUPPORTED, "unknown rule direction attribute value", _NWF)
    rule = RuleDef(action, direction)
    prio = raw_attr(node, "priority")
    if prio is not None:
        try:
            value = units.parse_int(prio)
        except ValueError:
            value = None
        if value is not None and MIN_RULE_PRIORITY <= value <= MAX_RULE_PRIORITY:
            rule.priority = value
    statematch = raw_attr(node, "statematch")
    if statematch is not None and (statematch == "0" or statematch.lower() == "false"):
        rule.statematch = False
    for child in node.iterchildren(etree.Element):
        name = _local(child)
        if rule.protocol is None and name in PROTOCOLS:
            rule.protocol = name
        if name != rule.protocol:
            continue
        _parse_details(child, name, rule.items)
        _check_ports(name, rule.items)
    if rule.protocol is not None:
        _fixup(rule.protocol, rule.items)
    return rule
