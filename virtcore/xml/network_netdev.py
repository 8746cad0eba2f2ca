"""Network device settings shared by networks, port groups and network ports.

``<bandwidth>``, ``<vlan>``, ``<virtualport>`` and PCI ``<address>`` appear in
several of libvirt's documents (networks, their port groups, network ports,
storage adapters). Each is a model (an editable view of the element) whose
``parse()`` method applies libvirt 9.0's checks - same order, error codes,
domains and wording - and returns the frozen values libvirt keeps, which
``emit()`` writes back in libvirt's canonical form.

The module also holds the small readers every document model here uses to
read attributes the way libvirt's ``virXMLProp*`` helpers do
(:func:`prop_uint`, :func:`prop_tristate`, :func:`prop_enum`, ...) and
:func:`add_element`, which builds the canonical output trees.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml import units
from virtcore.xml.builder import (
    ONOFF,
    ULLONG,
    IntConverter,
    XMLChild,
    XMLChildList,
    XMLNode,
    XMLProperty,
)
from virtcore.xml.network_addr import error, format_uuid, parse_uuid

__all__ = [
    "Bandwidth",
    "BandwidthDef",
    "BandwidthRate",
    "PCIAddress",
    "PCIAddressDef",
    "RateDef",
    "VirtualPort",
    "VirtualPortDef",
    "Vlan",
    "VlanDef",
    "VlanTag",
    "add_element",
    "child_elements",
    "prop_enum",
    "prop_int",
    "prop_tristate",
    "prop_uint",
    "prop_ullong",
    "raw_attr",
    "strtoul_ui",
    "xpath_string",
    "xpath_uint",
]

logger = logging.getLogger(__name__)

_NONE = ErrorDomain.NONE


# -- reading attributes like virXMLProp* -----------------------------------------------


def raw_attr(element: etree._Element | None, name: str) -> str | None:
    """``virXMLPropString``: the attribute as written (empty included), None when absent."""
    if element is None:
        return None
    value = element.get(name)
    return None if value is None else str(value)


def xpath_string(node: XMLNode, expr: str) -> str | None:
    """``virXPathString``: the string value of *expr*, None when it is empty."""
    found = node.xpath(f"string({expr})")
    text = str(found[0]) if found else ""
    return text or None


def child_elements(element: etree._Element | None, tag: str) -> list[etree._Element]:
    """The child elements of *element* named *tag* (no namespace), in document order."""
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and c.tag == tag]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _prop_error(element: etree._Element, name: str, value: str, expected: str = "") -> XMLError:
    tail = f" {expected}" if expected else ""
    return XMLError(
        f"Invalid value for attribute '{name}' in element '{_local(element)}': '{value}'.{tail}",
        domain=ErrorDomain.XML,
    )


def _missing(element: etree._Element, name: str) -> XMLError:
    return XMLError(
        f"Missing required attribute '{name}' in element '{_local(element)}'",
        domain=ErrorDomain.XML,
    )


def _zero(element: etree._Element, name: str) -> XMLError:
    return XMLError(
        f"Invalid value for attribute '{name}' in element '{_local(element)}': "
        "Zero is not permitted",
        domain=ErrorDomain.XML,
    )


def prop_uint(
    element: etree._Element | None,
    name: str,
    *,
    base: int = 10,
    required: bool = False,
    nonzero: bool = False,
) -> int | None:
    """``virXMLPropUInt``: an unsigned int attribute, None when absent."""
    value = raw_attr(element, name)
    if element is None or value is None:
        if required and element is not None:
            raise _missing(element, name)
        return None
    try:
        number = units.parse_uint(value, base)
    except ValueError:
        raise _prop_error(element, name, value, "Expected non-negative integer value") from None
    if nonzero and number == 0:
        raise _zero(element, name)
    return number


def prop_ullong(
    element: etree._Element | None, name: str, *, base: int = 10, required: bool = False
) -> int | None:
    """``virXMLPropULongLong``: an unsigned long long attribute, None when absent."""
    value = raw_attr(element, name)
    if element is None or value is None:
        if required and element is not None:
            raise _missing(element, name)
        return None
    try:
        return units.parse_ullong(value, base)
    except ValueError:
        raise _prop_error(element, name, value, "Expected non-negative integer value") from None


def prop_int(
    element: etree._Element | None,
    name: str,
    *,
    nonnegative: bool = False,
    nonzero: bool = False,
) -> int | None:
    """``virXMLPropInt``: an int attribute, None when absent."""
    value = raw_attr(element, name)
    if element is None or value is None:
        return None
    try:
        number = units.parse_int(value)
    except ValueError:
        raise _prop_error(element, name, value, "Expected integer value") from None
    if nonnegative and number < 0:
        raise _prop_error(element, name, value, "Expected non-negative value")
    if nonzero and number == 0:
        raise _zero(element, name)
    return number


def prop_enum(
    element: etree._Element | None,
    name: str,
    values: Sequence[str],
    *,
    required: bool = False,
    nonzero: bool = True,
) -> str | None:
    """``virXMLPropEnum``: one of *values* (index 0 refused when *nonzero*), None when absent."""
    value = raw_attr(element, name)
    if element is None or value is None:
        if required and element is not None:
            raise _missing(element, name)
        return None
    if value not in values or (nonzero and value == values[0]):
        raise _prop_error(element, name, value)
    return value


def prop_tristate(element: etree._Element | None, name: str) -> bool | None:
    """``virXMLPropTristateBool``: ``yes``/``no`` as a bool, None when absent."""
    value = prop_enum(element, name, ("absent", "yes", "no"))
    return None if value is None else value == "yes"


def xpath_uint(text: str | None) -> int | None:
    """``virXPathUInt`` on an attribute's text: None when empty or not a plain unsigned int."""
    if not text:
        return None
    try:
        return units.parse_uint(text)
    except ValueError:
        return None


def strtoul_ui(text: str, base: int = 10) -> int | None:
    """``virStrToLong_ui``: an unsigned int where ``-N`` wraps around; None if unreadable."""
    try:
        value, _ = units.parse_c_integer(text, base)
    except ValueError:
        return None
    if value < 0:
        return None if -value > units.UINT_MAX else value & units.UINT_MAX
    return value if value <= units.UINT_MAX else None


def add_element(
    parent: etree._Element | None,
    tag: str,
    attrs: Sequence[tuple[str, str | None]] = (),
    text: str | None = None,
) -> etree._Element:
    """A new element (appended to *parent* if given); attributes valued None are left out."""
    element = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs:
        if value is not None:
            element.set(key, value)
    if text is not None:
        element.text = text
    return element


# -- <bandwidth> -----------------------------------------------------------------------


@dataclass(frozen=True)
class RateDef:
    """One direction of a bandwidth limit (kbytes/s, kbytes)."""

    average: int = 0
    peak: int = 0
    floor: int = 0
    burst: int = 0

    def emit(self, parent: etree._Element, tag: str) -> None:
        if not (self.average or self.floor):
            return
        add_element(
            parent,
            tag,
            [
                ("average", str(self.average) if self.average else None),
                ("peak", str(self.peak) if self.peak else None),
                ("floor", str(self.floor) if self.floor else None),
                ("burst", str(self.burst) if self.burst else None),
            ],
        )


class BandwidthRate(XMLNode):
    """``<inbound>`` or ``<outbound>``: average, peak and floor rates and burst size."""

    TAG = "inbound"
    average = XMLProperty("./@average", ULLONG)
    peak = XMLProperty("./@peak", ULLONG)
    floor = XMLProperty("./@floor", ULLONG)
    burst = XMLProperty("./@burst", ULLONG)

    def parse(self) -> RateDef:
        """``virNetDevBandwidthParseRate``'s checks and values."""
        element = self._find()
        average = raw_attr(element, "average")
        peak = raw_attr(element, "peak")
        burst = raw_attr(element, "burst")
        floor = raw_attr(element, "floor")

        def number(text: str | None, what: str) -> int:
            if text is None:
                return 0
            try:
                return units.parse_ullong(text)
            except ValueError:
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"could not convert bandwidth {what} value '{text}'",
                    _NONE,
                ) from None

        avg = number(average, "average")
        if average is None and floor is None:
            raise error(
                ErrorNumber.XML_DETAIL, "Missing mandatory average or floor attributes", _NONE
            )
        if (peak is not None or burst is not None) and average is None:
            raise error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "'peak' and 'burst' require 'average' attribute",
                _NONE,
            )
        return RateDef(avg, number(peak, "peak"), number(floor, "floor"), number(burst, "burst"))


@dataclass(frozen=True)
class BandwidthDef:
    """A parsed ``<bandwidth>``; a direction absent from the document is None."""

    inbound: RateDef | None
    outbound: RateDef | None
    class_id: int = 0

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent, "bandwidth", [("classID", str(self.class_id) if self.class_id else None)]
        )
        if self.inbound is not None:
            self.inbound.emit(element, "inbound")
        if self.outbound is not None:
            self.outbound.emit(element, "outbound")


class Bandwidth(XMLNode):
    """``<bandwidth>``: QoS limits for traffic to (inbound) and from (outbound) a guest."""

    TAG = "bandwidth"
    class_id = XMLProperty("./@classID", int)
    inbound = XMLChild(BandwidthRate, "./inbound")
    outbound = XMLChild(BandwidthRate, "./outbound")

    def parse(self, *, allow_floor: bool, allow_class_id: bool = False) -> BandwidthDef | None:
        """``virNetDevBandwidthParse``: the values, or None when no direction is given."""
        element = self._find()
        if element is None:
            return None
        class_id = 0
        text = raw_attr(element, "classID")
        if text is not None:
            if not allow_class_id:
                raise error(
                    ErrorNumber.XML_DETAIL,
                    "classID attribute not supported on <bandwidth> in this usage context",
                    _NONE,
                )
            parsed = strtoul_ui(text)
            if parsed is None:
                raise error(ErrorNumber.INTERNAL_ERROR, f"Unable to parse class id '{text}'", _NONE)
            class_id = parsed
        rates: dict[str, etree._Element] = {}
        for child in element:
            if not isinstance(child.tag, str) or child.tag not in ("inbound", "outbound"):
                continue
            if child.tag in rates:
                raise error(
                    ErrorNumber.XML_DETAIL, f"Only one child <{child.tag}> element allowed", _NONE
                )
            rates[child.tag] = child
        inbound = outbound = None
        if "inbound" in rates:
            inbound = BandwidthRate(rates["inbound"]).parse()
            if inbound.floor and not allow_floor:
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "floor attribute is not supported for this config",
                    _NONE,
                )
        if "outbound" in rates:
            outbound = BandwidthRate(rates["outbound"]).parse()
            if outbound.floor:
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "'floor' attribute allowed only in <inbound> element",
                    _NONE,
                )
        if inbound is None and outbound is None:
            return None
        return BandwidthDef(inbound, outbound, class_id)


# -- <vlan> ----------------------------------------------------------------------------

_NATIVE_MODES = ("default", "tagged", "untagged")


@dataclass(frozen=True)
class VlanDef:
    """A parsed ``<vlan>``: tags, trunk mode and the native tag's mode."""

    tags: tuple[int, ...]
    trunk: bool = False
    native_mode: str | None = None
    native_tag: int = 0

    def emit(self, parent: etree._Element) -> None:
        element = add_element(parent, "vlan", [("trunk", "yes" if self.trunk else None)])
        for tag in self.tags:
            native = self.native_mode if self.native_mode and tag == self.native_tag else None
            add_element(element, "tag", [("id", str(tag)), ("nativeMode", native)])


class VlanTag(XMLNode):
    """``<tag id='N' nativeMode='tagged|untagged'/>``."""

    TAG = "tag"
    id = XMLProperty("./@id", int)
    native_mode = XMLProperty("./@nativeMode")


class Vlan(XMLNode):
    """``<vlan trunk='yes'>`` with one ``<tag>`` per VLAN id."""

    TAG = "vlan"
    trunk = XMLProperty("./@trunk")
    tags = XMLChildList(VlanTag, "./tag")

    def parse(self) -> VlanDef | None:
        """``virNetDevVlanParse``'s checks and values (None when there is no ``<vlan>``)."""
        element = self._find()
        if element is None:
            return None
        tags = child_elements(element, "tag")
        if not tags:
            raise error(
                ErrorNumber.XML_ERROR,
                "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement",
                _NONE,
            )
        ids: list[int] = []
        native_mode: str | None = None
        native_tag = 0
        for tag in tags:
            tag_id = prop_uint(tag, "id", required=True)
            assert tag_id is not None
            if tag_id > 4095:
                raise error(
                    ErrorNumber.XML_ERROR, f"vlan tag id {tag_id} too large (maximum 4095)", _NONE
                )
            mode = prop_enum(tag, "nativeMode", _NATIVE_MODES)
            if mode is not None:
                if native_mode is not None:
                    raise error(ErrorNumber.XML_ERROR, "duplicate native vlan setting", _NONE)
                native_mode, native_tag = mode, tag_id
            ids.append(tag_id)
        trunk = len(ids) > 1
        text = xpath_string(self, "./@trunk")
        if text is not None:
            trunk = text.lower() == "yes"
            if not trunk:
                if len(ids) > 1:
                    raise error(
                        ErrorNumber.XML_ERROR,
                        f"invalid \"trunk='{text}'\" in <vlan> - trunk='yes' is required "
                        "for more than one vlan tag",
                        _NONE,
                    )
                if native_mode is not None:
                    raise error(
                        ErrorNumber.XML_ERROR,
                        "invalid configuration in <vlan> - \"trunk='no'\" is not allowed "
                        "with a native vlan id",
                        _NONE,
                    )
                if text.lower() != "no":
                    raise error(
                        ErrorNumber.XML_ERROR,
                        f"invalid \"trunk='{text}'\" in <vlan> - must be yes or no",
                        _NONE,
                    )
        return VlanDef(tuple(ids), trunk, native_mode, native_tag)


# -- <virtualport> ---------------------------------------------------------------------

VIRTUALPORT_TYPES = ("none", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet")
"""``virNetDevVPortProfile`` values; ``none`` is the absent type."""

_PROFILE_MAX = 40  # LIBVIRT_IFLA_VF_PORT_PROFILE_MAX, the terminating NUL included


@dataclass(frozen=True)
class VirtualPortDef:
    """A parsed ``<virtualport>``; unset parameters are None."""

    type: str | None = None
    manager_id: int | None = None
    type_id: int | None = None
    type_id_version: int | None = None
    instance_id: str | None = None
    profile_id: str | None = None
    interface_id: str | None = None

    def emit(self, parent: etree._Element) -> None:
        kind = self.type or "none"
        values = (
            self.manager_id,
            self.type_id,
            self.type_id_version,
            self.instance_id,
            self.profile_id,
            self.interface_id,
        )
        if all(v is None for v in values):
            if self.type is not None:
                add_element(parent, "virtualport", [("type", self.type)])
            return
        element = add_element(parent, "virtualport", [("type", self.type)])
        qbg = kind in ("802.1Qbg", "none")
        add_element(
            element,
            "parameters",
            [
                (
                    "managerid",
                    str(self.manager_id) if qbg and self.manager_id is not None else None,
                ),
                ("typeid", str(self.type_id) if qbg and self.type_id is not None else None),
                (
                    "typeidversion",
                    str(self.type_id_version) if qbg and self.type_id_version is not None else None,
                ),
                ("instanceid", self.instance_id if qbg else None),
                (
                    "interfaceid",
                    self.interface_id if kind in ("midonet", "openvswitch", "none") else None,
                ),
                (
                    "profileid",
                    self.profile_id if kind in ("openvswitch", "802.1Qbh", "none") else None,
                ),
            ],
        )


# Parameters each type may not carry, in the order libvirt looks for them.
_EXTRAS: dict[str, tuple[str, ...]] = {
    "802.1Qbg": ("profileid", "interfaceid"),
    "802.1Qbh": ("managerid", "typeid", "typeidversion", "instanceid", "interfaceid"),
    "openvswitch": ("managerid", "typeid", "typeidversion", "instanceid"),
}


class VirtualPort(XMLNode):
    """``<virtualport type='...'>`` with its ``<parameters>``."""

    TAG = "virtualport"
    type = XMLProperty("./@type")
    manager_id = XMLProperty("./parameters/@managerid")
    type_id = XMLProperty("./parameters/@typeid")
    type_id_version = XMLProperty("./parameters/@typeidversion")
    instance_id = XMLProperty("./parameters/@instanceid")
    interface_id = XMLProperty("./parameters/@interfaceid")
    profile_id = XMLProperty("./parameters/@profileid")

    def parse(self, *, require_type: bool = False) -> VirtualPortDef | None:
        """``virNetDevVPortProfileParse``'s checks and values (None without ``<virtualport>``)."""
        element = self._find()
        if element is None:
            return None

        def fail(detail: str) -> VirtError:
            return error(ErrorNumber.XML_ERROR, detail, _NONE)

        kind = raw_attr(element, "type")
        if kind is not None and kind not in VIRTUALPORT_TYPES[1:]:
            raise error(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown virtualport type {kind}", _NONE)
        if kind is None and require_type:
            raise fail("missing required virtualport type")
        params = next(
            (c for c in element if isinstance(c.tag, str) and c.tag == "parameters"), None
        )
        found = {
            name: raw_attr(params, name)
            for name in (
                "managerid",
                "typeid",
                "typeidversion",
                "instanceid",
                "profileid",
                "interfaceid",
            )
        }

        def number(name: str, limit: int, range_text: str) -> int | None:
            text = found[name]
            if text is None:
                return None
            value = strtoul_ui(text, 0)
            if value is None:
                raise fail(f"cannot parse value of {name} parameter")
            if value > limit:
                raise fail(range_text)
            return value

        manager = number("managerid", 0xFF, "value of managerid out of range")
        type_id = number("typeid", 0xFFFFFF, "value for typeid out of range")
        version = number("typeidversion", 0xFF, "value of typeidversion out of range")
        instance = interface = None
        if found["instanceid"] is not None:
            parsed = parse_uuid(found["instanceid"])
            if parsed is None:
                raise fail("cannot parse instanceid parameter as a uuid")
            instance = format_uuid(parsed)
        profile = found["profileid"]
        if profile is not None and len(profile.encode()) >= _PROFILE_MAX:
            raise fail("profileid parameter too long")
        if found["interfaceid"] is not None:
            parsed = parse_uuid(found["interfaceid"])
            if parsed is None:
                raise fail("cannot parse interfaceid parameter as a uuid")
            interface = format_uuid(parsed)
        result = VirtualPortDef(
            kind, manager, type_id, version, instance, profile or None, interface
        )
        present = {
            "managerid": manager is not None,
            "typeid": type_id is not None,
            "typeidversion": version is not None,
            "instanceid": instance is not None,
            "profileid": bool(profile),
            "interfaceid": interface is not None,
        }
        for extra in _EXTRAS.get(kind or "none", ()):
            if present[extra]:
                raise error(
                    ErrorNumber.XML_ERROR,
                    f"extra {extra} unsupported in <virtualport type='{kind}'>",
                    ErrorDomain.NET,
                )
        return result


# -- PCI addresses ---------------------------------------------------------------------


@dataclass(frozen=True)
class PCIAddressDef:
    """A parsed PCI address (``virPCIDeviceAddress``)."""

    domain: int = 0
    bus: int = 0
    slot: int = 0
    function: int = 0

    def emit(self, parent: etree._Element, *, with_type: bool) -> None:
        add_element(
            parent,
            "address",
            [
                ("type", "pci" if with_type else None),
                ("domain", f"0x{self.domain:04x}"),
                ("bus", f"0x{self.bus:02x}"),
                ("slot", f"0x{self.slot:02x}"),
                ("function", f"0x{self.function}"),
            ],
        )

    def text(self) -> str:
        """``0000:03:00.1``, as libvirt names a device in messages."""
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"


class _PCIField(IntConverter):
    """A PCI address field: read as C reads base 0 (``3``, ``0x03``), written in hex."""

    def __init__(self, width: int) -> None:
        super().__init__(units.parse_uint, base=0, expected="non-negative integer value")
        self.width = width

    def format(self, value: int) -> str:
        return f"0x{value:0{self.width}x}" if self.width else f"0x{value}"


class PCIAddress(XMLNode):
    """``<address domain='0x0000' bus='0x03' slot='0x00' function='0x1'/>``."""

    TAG = "address"
    type = XMLProperty("./@type")
    domain = XMLProperty("./@domain", _PCIField(4))
    bus = XMLProperty("./@bus", _PCIField(2))
    slot = XMLProperty("./@slot", _PCIField(2))
    function = XMLProperty("./@function", _PCIField(0))
    multifunction = XMLProperty("./@multifunction", ONOFF)

    def parse(self) -> PCIAddressDef:
        """``virPCIDeviceAddressParseXML``'s checks and values."""
        element = self._find()
        values = [
            prop_uint(element, name, base=0) or 0 for name in ("domain", "bus", "slot", "function")
        ]
        prop_enum(element, "multifunction", ("default", "on", "off"))
        address = PCIAddressDef(*values)
        # virPCIDeviceAddressIsEmpty looks at domain, bus and slot only: an
        # address naming just a function is taken as it stands, unchecked.
        if address.domain or address.bus or address.slot:

            def fail(detail: str) -> VirtError:
                return error(ErrorNumber.XML_ERROR, detail, _NONE)

            if address.bus > 0xFF:
                raise fail(f"Invalid PCI address bus='0x{address.bus:x}', must be <= 0xFF")
            if address.slot > 0x1F:
                raise fail(f"Invalid PCI address slot='0x{address.slot:x}', must be <= 0x1F")
            if address.function > 7:
                raise fail(f"Invalid PCI address function=0x{address.function:x}, must be <= 7")
        return address
