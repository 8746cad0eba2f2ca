"""USB redirection: ``<redirdev>``, the ``<redirfilter>`` rules and USB ``<hub>`` devices.

::

    <redirdev bus='usb' type='tcp'>
      <source mode='connect' host='localhost' service='4000'/>
      <protocol type='raw'/>
      <boot order='1'/>
    </redirdev>
    <redirdev bus='usb' type='spicevmc'/>
    <redirfilter>
      <usbdev class='0x08' vendor='0x1234' product='0xBEEF' version='2.00' allow='yes'/>
      <usbdev allow='no'/>
    </redirfilter>
    <hub type='usb'/>

A redirected device is a character device on the host side (its source is
a :class:`~virtcore.xml.domain.devices.chardev.ChrSourceDef`) and needs a
USB bus: libvirt refuses it when the domain has no USB controller (or only
``model='none'``). A domain has at most one ``<redirfilter>``; its rules are
written with upper-case hex ids and a BCD ``major.minor`` version, and an
empty filter is not written at all. libvirt writes a ``<redirdev>`` without
children as an open element (``<redirdev ...>`` and ``</redirdev>`` on
their own lines), which the ``<devices>`` formatting rules reproduce.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLChild, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.domain.devices.address import Address, DeviceInfo
from virtcore.xml.domain.devices.chardev import CHR_TYPES, ChrSourceDef
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceModel,
    children,
    element,
    fail,
    prop,
    prop_int,
    prop_tristate,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "USB_DISABLED_MESSAGE",
    "Hub",
    "HubDef",
    "RedirFilter",
    "RedirFilterDef",
    "RedirFilterRule",
    "Redirdev",
    "RedirdevDef",
]

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\Z")
USB_DISABLED_MESSAGE = "cannot add redirected USB device: USB is disabled for this domain"
"""libvirt's error (``VIR_ERR_CONFIG_UNSUPPORTED``) for a redirdev without a USB bus."""


@dataclass
class RedirdevDef(DeviceDef):
    """A parsed ``<redirdev>`` (``virDomainRedirdevDef``)."""

    source: ChrSourceDef = field(default_factory=ChrSourceDef)
    bus: str = "usb"
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainRedirdevDefValidate`` (the USB bus is checked by :func:`check_usb`)."""
        self.info.validate()

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainRedirdevDefFormat``."""
        kids = [*self.source.elements(flags), *self.info.elements()]
        return element("redirdev", [("bus", self.bus), ("type", self.source.type)], kids)


def check_usb(redirdevs: list[RedirdevDef], has_usb: bool) -> None:
    """Refuse redirected USB devices when the domain has no USB bus."""
    if redirdevs and not has_usb:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, USB_DISABLED_MESSAGE)


class Redirdev(DeviceModel):
    """A ``<redirdev>`` element."""

    TAG = "redirdev"
    XML_ORDER = {"": ("@bus", "@type", "source", "protocol", "boot", "alias", "address")}

    bus = XMLProperty("./@bus", doc="Always ``usb``.")
    type = XMLProperty("./@type", doc="The host side: ``spicevmc``, ``tcp``, ...")
    source_host = XMLProperty("./source/@host", doc="Host of a ``tcp`` source.")
    source_service = XMLProperty("./source/@service", doc="Port of a ``tcp`` source.")
    boot_order = XMLProperty("./boot/@order", int, doc="Position in the boot order.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The USB address.")

    def parse(self, ctx: DeviceContext | None = None) -> RedirdevDef:
        """``virDomainRedirdevDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        bus = prop(node, "bus")
        if bus is not None and bus != "usb":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown redirdev bus '{bus}'")
        kind = prop(node, "type")
        if kind is None:
            fail(ErrorNumber.INTERNAL_ERROR, "missing type in redirdev")
        if kind not in CHR_TYPES:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unknown redirdev character device type '{kind}'",
            )
        source = ChrSourceDef.parse(node, kind, ctx)
        info = DeviceInfo.parse(node, ctx, boot=True)
        redirdev = RedirdevDef(source=source, info=info)
        source.validate(ctx)
        return redirdev


# -- redirection filter -----------------------------------------------------------------


@dataclass
class RedirFilterDef(DeviceDef):
    """A parsed ``<redirfilter>``: (class, vendor, product, version, allow) per rule, -1 = any."""

    rules: list[tuple[int, int, int, int, bool]] = field(default_factory=list)
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """A filter has nothing to check once parsed."""

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainRedirFilterDefFormat`` (callers skip a filter without rules)."""
        kids = []
        for usb_class, vendor, product, version, allow in self.rules:
            attrs: list[tuple[str, str | int | None]] = [
                ("class", None if usb_class < 0 else f"0x{usb_class:02X}"),
                ("vendor", None if vendor < 0 else f"0x{vendor:04X}"),
                ("product", None if product < 0 else f"0x{product:04X}"),
                ("version", None if version < 0 else _format_version(version)),
                ("allow", "yes" if allow else "no"),
            ]
            kids.append(element("usbdev", attrs))
        return element("redirfilter", kids=kids)


def _format_version(bcd: int) -> str:
    major = ((bcd & 0xF000) >> 12) * 10 + ((bcd & 0x0F00) >> 8)
    minor = ((bcd & 0x00F0) >> 4) * 10 + (bcd & 0x000F)
    return f"{major}.{minor:02d}"


def _int(node: etree._Element, name: str) -> int:
    value = prop_int(node, name, base=0)
    return -1 if value is None else value


def _version(node: etree._Element) -> int:
    """The BCD form of ``major.minor`` (``1.1`` is 1.10), -1 for any version."""
    text = prop(node, "version")
    if text is None or text == "-1":
        return -1
    match = _VERSION.match(text)
    if match is None:
        fail(ErrorNumber.XML_ERROR, f"Cannot parse USB device version {text}")
    major = int(match.group(1))
    digits = match.group(2)
    minor = int(digits) * (10 if len(digits) == 1 else 1)
    return (major // 10) << 12 | (major % 10) << 8 | (minor // 10) << 4 | (minor % 10)


class RedirFilterRule(XMLNode):
    """A ``<usbdev>`` rule of a ``<redirfilter>``."""

    TAG = "usbdev"

    usb_class = XMLProperty("./@class", doc="USB class code (``0x08``), absent for any.")
    vendor = XMLProperty("./@vendor", doc="Vendor id (``0x1234``), absent for any.")
    product = XMLProperty("./@product", doc="Product id, absent for any.")
    version = XMLProperty("./@version", doc="Device version (``2.00``), absent for any.")
    allow = XMLProperty("./@allow", doc="``yes`` or ``no``.")


class RedirFilter(DeviceModel):
    """A ``<redirfilter>`` element."""

    TAG = "redirfilter"

    rules = XMLChildList(RedirFilterRule, "./usbdev", doc="The rules, first match wins.")

    def parse(self, ctx: DeviceContext | None = None) -> RedirFilterDef:
        """``virDomainRedirFilterDefParseXML``."""
        result = RedirFilterDef()
        for node in children(self.element, "usbdev"):
            usb_class = _int(node, "class")
            if usb_class != -1 and not 0 <= usb_class <= 0xFF:
                fail(
                    ErrorNumber.INTERNAL_ERROR,
                    f"Invalid USB Class code 0x{usb_class & 0xFFFFFFFF:x}",
                )
            vendor = _int(node, "vendor")
            product = _int(node, "product")
            version = _version(node)
            allow = prop_tristate(node, "allow", required=True)
            result.rules.append((usb_class, vendor, product, version, bool(allow)))
        return result


# -- hubs -----------------------------------------------------------------------------


@dataclass
class HubDef(DeviceDef):
    """A parsed ``<hub>`` (``virDomainHubDef``)."""

    type: str = "usb"
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainHubDefFormat``."""
        return element("hub", [("type", self.type)], self.info.elements())


class Hub(DeviceModel):
    """A ``<hub>`` element."""

    TAG = "hub"

    type = XMLProperty("./@type", doc="Always ``usb``.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The USB address.")

    def parse(self, ctx: DeviceContext | None = None) -> HubDef:
        """``virDomainHubDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        kind = prop(node, "type")
        if kind is None:
            fail(ErrorNumber.INTERNAL_ERROR, "missing hub device type")
        if kind != "usb":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown hub device type '{kind}'")
        return HubDef(type=kind, info=DeviceInfo.parse(node, ctx))
