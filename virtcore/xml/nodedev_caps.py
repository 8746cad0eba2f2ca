"""The capabilities of a node device document, read and written as libvirt 9.0 does.

Each ``<capability type=...>`` of a ``<device>`` becomes one frozen value
(:class:`SystemCap`, :class:`PCICap`, ...) through :func:`parse_capability`,
which runs ``virNodeDevCapsDefParseXML``'s checks in libvirt's order with its
exact errors. Every value writes itself with ``emit(buffer)`` into a
:class:`TextBuffer`, line by line as ``virNodeDeviceDefFormat`` does; the
text is produced directly rather than through a tree because libvirt's
output has quirks a serializer would lose (``<product id='0x0001' />`` with
a space, ``<firmware>`` written open when empty).

Integers follow C: ``%d`` of an unsigned value prints it as a signed
``int``, hexadecimal ids are read with ``strtoul`` rules (``0x`` optional).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Protocol

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import (
    PCIAddressDef,
    prop_enum,
    prop_int,
    prop_uint,
    raw_attr,
)

__all__ = [
    "CAPABILITY_TYPES",
    "NET_FEATURES",
    "Capability",
    "MdevType",
    "NetCap",
    "PCICap",
    "PCIELinkDef",
    "SCSICap",
    "SCSIHostCap",
    "SCSITargetCap",
    "SystemCap",
    "TextBuffer",
    "USBDeviceCap",
    "USBInterfaceCap",
    "c_int",
    "children",
    "emit_mdev_types",
    "escape",
    "parse_mdev_types",
    "xstring",
]

logger = logging.getLogger(__name__)

_NODEDEV = ErrorDomain.NODEDEV

CAPABILITY_TYPES = (
    "system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi",
    "storage", "fc_host", "vports", "scsi_generic", "drm", "mdev_types", "mdev", "ccw",
    "css", "vdpa", "ap_card", "ap_queue", "ap_matrix", "vpd",
)  # fmt: skip
"""``virNodeDevCapType`` in libvirt's order (error messages use the index)."""
NET_FEATURES = (
    "rx", "tx", "sg", "tso", "gso", "gro", "lro", "rxvlan", "txvlan", "ntuple", "rxhash",
    "rdma", "txudptnl", "switchdev",
)  # fmt: skip
NET_SUBTYPES = ("80203", "80211")
DRM_TYPES = ("primary", "control", "render")
PCIE_LINK_SPEEDS = ("", "2.5", "5", "8", "16", "32", "64")
PCI_HEADER_TYPES = ("endpoint", "pci-bridge", "cardbus-bridge")
LINK_STATES = (
    "", "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
)  # fmt: skip
_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;"}


def escape(text: str) -> str:
    """``virBufferEscapeString``: XML-escape *text*, dropping control characters."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 and char not in "\t\n\r":
            continue
        else:
            out.append(char)
    return "".join(out)


def c_int(value: int) -> int:
    """An unsigned 32-bit value as C's ``%d`` prints it."""
    return value - (1 << 32) if value > units.INT_MAX else value


class TextBuffer:
    """A ``virBuffer`` with auto-indentation: whole lines, two spaces per level."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._indent = 0

    def line(self, text: str) -> None:
        """Append one line at the current indentation."""
        self._lines.append(" " * self._indent + text)

    def text(self, tag: str, value: str | None, attrs: str = "") -> None:
        """``<tag attrs>value</tag>`` with *value* escaped; nothing when *value* is None."""
        if value is not None:
            self.line(f"<{tag}{attrs}>{escape(value)}</{tag}>")

    def open(self, text: str) -> None:
        """Append a start tag line and indent what follows."""
        self.line(text)
        self._indent += 2

    def close(self, text: str) -> None:
        """Unindent and append an end tag line."""
        self._indent -= 2
        self.line(text)

    def getvalue(self) -> str:
        """Everything written, one newline-terminated line each."""
        return "".join(f"{line}\n" for line in self._lines)


class Capability(Protocol):
    """What every capability value offers."""

    @property
    def type(self) -> str: ...

    def emit(self, buf: TextBuffer) -> None: ...


# -- reading values like libvirt's XPath helpers ---------------------------------------


def _internal(detail: str) -> VirtError:
    return error(ErrorNumber.INTERNAL_ERROR, detail, _NODEDEV)


def _xml(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NODEDEV)


def _unsupported(detail: str) -> VirtError:
    return error(ErrorNumber.CONFIG_UNSUPPORTED, detail, _NODEDEV)


def xstring(node: etree._Element, expr: str) -> str | None:
    """``virXPathString``: the string value of *expr*, None when it is empty."""
    value = str(node.xpath(f"string({expr})"))
    return value or None


def _xuint(node: etree._Element, expr: str, name: str, what: str, base: int = 10) -> int:
    """``virNodeDevCapsDefParseUInt``: "no ..." when missing, "invalid ..." when unreadable."""
    text = xstring(node, expr)
    if text is None:
        raise _internal(f"no {what} supplied for '{name}'")
    try:
        return units.parse_uint(text, base)
    except ValueError:
        raise _internal(f"invalid {what} supplied for '{name}'") from None


def _xint_optional(node: etree._Element, expr: str, message: str) -> int | None:
    """``virNodeDevCapsDefParseIntOptional``: None when missing, *message* when invalid."""
    text = xstring(node, expr)
    if text is None:
        return None
    try:
        return units.parse_int(text)
    except ValueError:
        raise _internal(message) from None


def children(node: etree._Element, tag: str) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str) and c.tag == tag]


def _first(node: etree._Element, tag: str) -> etree._Element | None:
    found = children(node, tag)
    return found[0] if found else None


def _pci_address(node: etree._Element) -> PCIAddressDef:
    """``virPCIDeviceAddressParseXML``: attributes read base 0, checked unless all zero.

    As in libvirt, an address whose domain, bus and slot are all zero counts
    as empty and is not checked, whatever its function.
    """
    domain, bus, slot, function = (
        prop_uint(node, attr, base=0) or 0 for attr in ("domain", "bus", "slot", "function")
    )
    prop_enum(node, "multifunction", ("default", "on", "off"))
    if domain or bus or slot:
        if bus > 0xFF:
            raise _xml_none(f"Invalid PCI address bus='0x{bus:x}', must be <= 0xFF")
        if slot > 0x1F:
            raise _xml_none(f"Invalid PCI address slot='0x{slot:x}', must be <= 0x1F")
        if function > 7:
            raise _xml_none(f"Invalid PCI address function=0x{function:x}, must be <= 7")
    return PCIAddressDef(domain, bus, slot, function)


def _xml_none(detail: str) -> VirtError:
    # virpci.c reports in no particular domain.
    return error(ErrorNumber.XML_ERROR, detail, ErrorDomain.NONE)


def _emit_pci_address(buf: TextBuffer, addr: PCIAddressDef) -> None:
    buf.line(
        f"<address domain='0x{addr.domain:04x}' bus='0x{addr.bus:02x}' "
        f"slot='0x{addr.slot:02x}' function='0x{addr.function}'/>"
    )


# -- mediated device types (pci, css, ap_matrix) ---------------------------------------


@dataclass(frozen=True)
class MdevType:
    """One ``<type id=>`` a parent device can create mediated devices of."""

    id: str
    device_api: str
    available_instances: int
    name: str | None = None


def parse_mdev_types(node: etree._Element) -> tuple[MdevType, ...]:
    types = []
    for item in children(node, "type"):
        type_id = xstring(item, "./@id[1]")
        if type_id is None:
            raise _xml("missing 'id' attribute for mediated device's <type> element")
        api = xstring(item, "./deviceAPI[1]")
        if api is None:
            raise _xml(f"missing device API for mediated device type '{type_id}'")
        text = xstring(item, "./availableInstances")
        try:
            available = units.parse_uint(text or "")
        except ValueError:
            raise _xml(
                f"missing number of available instances for mediated device type '{type_id}'"
            ) from None
        types.append(MdevType(type_id, api, available, xstring(item, "./name")))
    return tuple(types)


def emit_mdev_types(buf: TextBuffer, types: tuple[MdevType, ...]) -> None:
    if not types:
        return
    buf.open("<capability type='mdev_types'>")
    for item in types:
        buf.open(f"<type id='{escape(item.id)}'>")
        buf.text("name", item.name)
        buf.text("deviceAPI", item.device_api)
        buf.line(f"<availableInstances>{item.available_instances}</availableInstances>")
        buf.close("</type>")
    buf.close("</capability>")


# -- system ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemCap:
    """``system``: product, hardware (vendor, version, serial, UUID) and firmware."""

    uuid: str
    product: str | None = None
    hw_vendor: str | None = None
    hw_version: str | None = None
    hw_serial: str | None = None
    fw_vendor: str | None = None
    fw_version: str | None = None
    fw_release_date: str | None = None
    type: str = "system"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> SystemCap:
        """``virNodeDevCapSystemParseXML``."""
        text = xstring(node, "./hardware/uuid[1]")
        if text is None:
            raise _internal(f"no system UUID supplied for '{name}'")
        uuid = parse_uuid(text)
        if uuid is None:
            raise _internal(f"malformed uuid element for '{name}'")
        return cls(
            uuid=format_uuid(uuid),
            product=xstring(node, "./product[1]"),
            hw_vendor=xstring(node, "./hardware/vendor[1]"),
            hw_version=xstring(node, "./hardware/version[1]"),
            hw_serial=xstring(node, "./hardware/serial[1]"),
            fw_vendor=xstring(node, "./firmware/vendor[1]"),
            fw_version=xstring(node, "./firmware/version[1]"),
            fw_release_date=xstring(node, "./firmware/release_date[1]"),
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.text("product", self.product)
        buf.open("<hardware>")
        buf.text("vendor", self.hw_vendor)
        buf.text("version", self.hw_version)
        buf.text("serial", self.hw_serial)
        buf.line(f"<uuid>{self.uuid}</uuid>")
        buf.close("</hardware>")
        buf.open("<firmware>")
        buf.text("vendor", self.fw_vendor)
        buf.text("version", self.fw_version)
        buf.text("release_date", self.fw_release_date)
        buf.close("</firmware>")


# -- pci -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PCIELinkDef:
    """A PCI Express ``<link validity=>``: port (-1 unset), speed and width."""

    width: int
    speed: str = ""
    port: int = -1

    @classmethod
    def parse(cls, node: etree._Element) -> PCIELinkDef:
        """``virPCIEDeviceInfoLinkParseXML``."""
        width = prop_uint(node, "width", base=0, required=True)
        assert width is not None
        speed = prop_enum(node, "speed", PCIE_LINK_SPEEDS, nonzero=False) or ""
        port = prop_int(node, "port")
        return cls(width, speed, -1 if port is None else port)

    def emit(self, buf: TextBuffer, validity: str) -> None:
        port = f" port='{self.port}'" if self.port >= 0 else ""
        speed = f" speed='{self.speed}'" if self.speed else ""
        buf.line(f"<link validity='{validity}'{port}{speed} width='{c_int(self.width)}'/>")


@dataclass(frozen=True)
class PCICap:
    """``pci``: address, ids, SR-IOV functions, mdev types, IOMMU group, NUMA node, PCIe."""

    domain: int
    bus: int
    slot: int
    function: int
    vendor: int
    product: int
    klass: int = -1
    vendor_name: str | None = None
    product_name: str | None = None
    phys_function: PCIAddressDef | None = None
    virt_functions: tuple[PCIAddressDef, ...] | None = None
    max_virt_functions: int = 0
    header_type: str | None = None
    mdev_types: tuple[MdevType, ...] | None = None
    iommu_group: int = 0
    iommu_devices: tuple[PCIAddressDef, ...] = ()
    numa_node: int = -1
    pcie: tuple[PCIELinkDef | None, PCIELinkDef | None] | None = None
    type: str = "pci"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> PCICap:
        """``virNodeDevCapPCIDevParseXML``."""
        klass = -1
        text = xstring(node, "./class[1]")
        if text is not None:
            try:
                klass = units.parse_int(text, 16)
            except ValueError:
                klass = 0x1000000
            if klass > 0xFFFFFF:
                raise _internal(f"invalid PCI class supplied for '{name}'")
        domain, bus, slot, function = (
            _xuint(node, f"./{field}[1]", name, f"PCI {field} ID")
            for field in ("domain", "bus", "slot", "function")
        )
        vendor = _xuint(node, "./vendor[1]/@id", name, "PCI vendor ID", 16)
        product = _xuint(node, "./product[1]/@id", name, "PCI product ID", 16)
        pci = cls(
            domain=domain,
            bus=bus,
            slot=slot,
            function=function,
            vendor=vendor,
            product=product,
            klass=klass,
            vendor_name=xstring(node, "./vendor[1]"),
            product_name=xstring(node, "./product[1]"),
        )
        for cap in children(node, "capability"):
            pci = pci._with_capability(cap)
        group = _first(node, "iommuGroup")
        if group is not None:
            number = prop_uint(group, "number", required=True)
            assert number is not None
            devices = tuple(_pci_address(a) for a in children(group, "address"))
            pci = replace(pci, iommu_group=number, iommu_devices=devices)
        numa = _xint_optional(
            node, "./numa[1]/@node", f"invalid NUMA node ID supplied for '{name}'"
        )
        if numa is not None:
            pci = replace(pci, numa_node=numa)
        express = _first(node, "pci-express")
        if express is not None:
            links: list[PCIELinkDef | None] = []
            for validity in ("cap", "sta"):
                found = [e for e in children(express, "link") if e.get("validity") == validity]
                links.append(PCIELinkDef.parse(found[0]) if found else None)
            pci = replace(pci, pcie=(links[0], links[1]))
        return pci

    def _with_capability(self, node: etree._Element) -> PCICap:
        """``virNodeDevPCICapabilityParseXML``: this capability with one nested one added."""
        kind = raw_attr(node, "type")
        if kind is None:
            raise _xml("Missing capability type")
        if kind == "phys_function":
            address = _first(node, "address")
            if address is None:
                raise _xml("Missing address in 'phys_function' capability")
            return replace(self, phys_function=_pci_address(address))
        if kind == "virt_functions":
            max_count = raw_attr(node, "maxCount") or None
            maximum = self.max_virt_functions
            if max_count is not None:
                try:
                    maximum = units.parse_uint(max_count)
                except ValueError:
                    raise _xml("Malformed 'maxCount' parameter") from None
            # Repeated elements add up, as libvirt's counters do (libvirt itself
            # mishandles a second virt_functions list).
            added = tuple(_pci_address(a) for a in children(node, "address"))
            functions = (self.virt_functions or ()) + added
            return replace(self, virt_functions=functions, max_virt_functions=maximum)
        if kind == "mdev_types":
            types = (self.mdev_types or ()) + parse_mdev_types(node)
            return replace(self, mdev_types=types)
        if kind == "vpd":
            raise _unsupported("the 'vpd' capability of PCI devices is not supported")
        if kind in PCI_HEADER_TYPES[1:] and self.header_type is None:
            # The first bridge type wins; "endpoint" and unknown types change nothing.
            return replace(self, header_type=kind)
        return self

    def emit(self, buf: TextBuffer) -> None:
        if self.klass >= 0:
            buf.line(f"<class>0x{self.klass:06x}</class>")
        buf.line(f"<domain>{c_int(self.domain)}</domain>")
        buf.line(f"<bus>{self.bus}</bus>")
        buf.line(f"<slot>{self.slot}</slot>")
        buf.line(f"<function>{self.function}</function>")
        for tag, ident, label in (
            ("product", self.product, self.product_name),
            ("vendor", self.vendor, self.vendor_name),
        ):
            head = f"<{tag} id='0x{ident:04x}'"
            buf.line(f"{head}>{escape(label)}</{tag}>" if label is not None else f"{head}/>")
        if self.phys_function is not None:
            buf.open("<capability type='phys_function'>")
            _emit_pci_address(buf, self.phys_function)
            buf.close("</capability>")
        if self.virt_functions is not None:
            head = "<capability type='virt_functions'"
            if self.max_virt_functions:
                head += f" maxCount='{self.max_virt_functions}'"
            if not self.virt_functions:
                buf.line(f"{head}/>")
            else:
                buf.open(f"{head}>")
                for addr in self.virt_functions:
                    _emit_pci_address(buf, addr)
                buf.close("</capability>")
        if self.header_type is not None:
            buf.line(f"<capability type='{self.header_type}'/>")
        if self.mdev_types is not None:
            emit_mdev_types(buf, self.mdev_types)
        if self.iommu_devices:
            buf.open(f"<iommuGroup number='{c_int(self.iommu_group)}'>")
            for addr in self.iommu_devices:
                _emit_pci_address(buf, addr)
            buf.close("</iommuGroup>")
        if self.numa_node >= 0:
            buf.line(f"<numa node='{self.numa_node}'/>")
        if self.pcie is not None:
            cap, sta = self.pcie
            if cap is None and sta is None:
                buf.line("<pci-express/>")
                return
            buf.open("<pci-express>")
            if cap is not None:
                cap.emit(buf, "cap")
            if sta is not None:
                sta.emit(buf, "sta")
            buf.close("</pci-express>")


# -- usb_device, usb -------------------------------------------------------------------


@dataclass(frozen=True)
class USBDeviceCap:
    """``usb_device``: bus and device numbers, vendor and product."""

    bus: int
    device: int
    vendor: int
    product: int
    vendor_name: str | None = None
    product_name: str | None = None
    type: str = "usb_device"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> USBDeviceCap:
        """``virNodeDevCapUSBDevParseXML``."""
        return cls(
            bus=_xuint(node, "./bus[1]", name, "USB bus number"),
            device=_xuint(node, "./device[1]", name, "USB device number"),
            vendor=_xuint(node, "./vendor[1]/@id", name, "USB vendor ID", 16),
            product=_xuint(node, "./product[1]/@id", name, "USB product ID", 16),
            vendor_name=xstring(node, "./vendor[1]"),
            product_name=xstring(node, "./product[1]"),
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<bus>{c_int(self.bus)}</bus>")
        buf.line(f"<device>{c_int(self.device)}</device>")
        for tag, ident, label in (
            ("product", self.product, self.product_name),
            ("vendor", self.vendor, self.vendor_name),
        ):
            head = f"<{tag} id='0x{ident:04x}'"
            # libvirt writes a space before "/>" here, unlike for PCI.
            buf.line(f"{head}>{escape(label)}</{tag}>" if label is not None else f"{head} />")


@dataclass(frozen=True)
class USBInterfaceCap:
    """``usb``: interface number, class, subclass, protocol and description."""

    number: int
    klass: int
    subclass: int
    protocol: int
    description: str | None = None
    type: str = "usb"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> USBInterfaceCap:
        """``virNodeDevCapUSBInterfaceParseXML``."""
        return cls(
            number=_xuint(node, "./number[1]", name, "USB interface number"),
            klass=_xuint(node, "./class[1]", name, "USB interface class"),
            subclass=_xuint(node, "./subclass[1]", name, "USB interface subclass"),
            protocol=_xuint(node, "./protocol[1]", name, "USB interface protocol"),
            description=xstring(node, "./description[1]"),
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<number>{c_int(self.number)}</number>")
        buf.line(f"<class>{c_int(self.klass)}</class>")
        buf.line(f"<subclass>{c_int(self.subclass)}</subclass>")
        buf.line(f"<protocol>{c_int(self.protocol)}</protocol>")
        buf.text("description", self.description)


# -- net -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetCap:
    """``net``: interface name, MAC address, link, offload features and 802.3/802.11."""

    interface: str
    address: str | None = None
    link_speed: int = 0
    link_state: str = ""
    features: frozenset[str] = frozenset()
    subtype: str | None = None
    type: str = "net"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> NetCap:
        """``virNodeDevCapNetParseXML``."""
        interface = xstring(node, "./interface[1]")
        if interface is None:
            raise _internal(f"no network interface supplied for '{name}'")
        features = set()
        for feature in children(node, "feature"):
            fname = raw_attr(feature, "name")
            if fname is None:
                raise _xml("missing network device feature name")
            if fname not in NET_FEATURES:
                raise _xml(f"unknown network device feature '{fname}'")
            features.add(fname)
        subtype = xstring(node, "./capability/@type")
        if subtype is not None and subtype not in NET_SUBTYPES:
            raise _unsupported(f"invalid network type supplied for '{name}'")
        speed, state = 0, ""
        link = _first(node, "link")
        if link is not None:
            state = prop_enum(link, "state", LINK_STATES, nonzero=False) or ""
            speed = prop_uint(link, "speed") or 0
        return cls(
            interface=interface,
            address=xstring(node, "./address[1]"),
            link_speed=speed,
            link_state=state,
            features=frozenset(features),
            subtype=subtype,
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.text("interface", self.interface)
        buf.text("address", self.address)
        if self.link_speed or self.link_state:
            speed = f" speed='{self.link_speed}'" if self.link_speed else ""
            state = f" state='{self.link_state}'" if self.link_state else ""
            buf.line(f"<link{speed}{state}/>")
        for feature in NET_FEATURES:
            if feature in self.features:
                buf.line(f"<feature name='{feature}'/>")
        if self.subtype is not None:
            buf.line(f"<capability type='{self.subtype}'/>")


# -- scsi_host, scsi_target, scsi ------------------------------------------------------


@dataclass(frozen=True)
class SCSIHostCap:
    """``scsi_host``: host number, unique id, Fibre Channel names and vport operations."""

    host: int
    unique_id: int = -1
    fc_host: tuple[str, str, str | None] | None = None
    vport_ops: bool = False
    type: str = "scsi_host"

    @classmethod
    def parse(cls, node: etree._Element, name: str, *, create: bool = False) -> SCSIHostCap:
        """``virNodeDevCapSCSIHostParseXML``; numbers are only read for an existing device."""
        host, unique_id = 0, None
        if not create:
            host = _xuint(node, "./host[1]", name, "SCSI host ID")
            unique_id = _xint_optional(
                node, "./unique_id[1]", f"invalid unique_id supplied for '{name}'"
            )
            unique_id = -1 if unique_id is None else unique_id
        fc_host = None
        vport_ops = False
        for cap in children(node, "capability"):
            kind = raw_attr(cap, "type")
            if kind is None:
                raise _internal(f"missing SCSI host capability type for '{name}'")
            if kind == "vport_ops":
                vport_ops = True
            elif kind == "fc_host":
                # libvirt would generate a WWN for the hypervisor type, which a
                # host device read from a definition does not have.
                wwnn = xstring(cap, "./wwnn[1]")
                if wwnn is None:
                    raise _internal(f"no WWNN supplied for '{name}', and auto-generation failed")
                wwpn = xstring(cap, "./wwpn[1]")
                if wwpn is None:
                    raise _internal(f"no WWPN supplied for '{name}', and auto-generation failed")
                fc_host = (wwnn, wwpn, xstring(cap, "./fabric_wwn[1]"))
            else:
                raise _internal(f"unknown SCSI host capability type '{kind}' for '{name}'")
        return cls(host, 0 if unique_id is None else unique_id, fc_host, vport_ops)

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<host>{c_int(self.host)}</host>")
        if self.unique_id != -1:
            buf.line(f"<unique_id>{self.unique_id}</unique_id>")
        if self.fc_host is not None:
            wwnn, wwpn, fabric = self.fc_host
            buf.open("<capability type='fc_host'>")
            buf.text("wwnn", wwnn)
            buf.text("wwpn", wwpn)
            buf.text("fabric_wwn", fabric)
            buf.close("</capability>")
        if self.vport_ops:
            # The counts come from sysfs on a real host; a definition has none.
            buf.open("<capability type='vport_ops'>")
            buf.line("<max_vports>0</max_vports>")
            buf.line("<vports>0</vports>")
            buf.close("</capability>")


@dataclass(frozen=True)
class SCSITargetCap:
    """``scsi_target``: target name and Fibre Channel remote port."""

    target: str
    fc_remote_port: tuple[str, str] | None = None
    type: str = "scsi_target"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> SCSITargetCap:
        """``virNodeDevCapSCSITargetParseXML``."""
        target = xstring(node, "./target[1]")
        if target is None:
            raise _internal(f"no target name supplied for '{name}'")
        rport = None
        for cap in children(node, "capability"):
            kind = raw_attr(cap, "type")
            if kind is None:
                raise _internal(f"missing type for SCSI target capability for '{name}'")
            if kind != "fc_remote_port":
                raise _internal(f"unknown SCSI target capability type '{kind}' for '{name}'")
            port = xstring(cap, "./rport[1]")
            if port is None:
                raise _internal(f"missing rport name for '{name}'")
            wwpn = xstring(cap, "./wwpn[1]")
            if wwpn is None:
                raise _internal(f"missing wwpn identifier for '{name}'")
            rport = (port, wwpn)
        return cls(target, rport)

    def emit(self, buf: TextBuffer) -> None:
        buf.text("target", self.target)
        if self.fc_remote_port is not None:
            # libvirt writes these two unescaped; escaping keeps the output well-formed.
            buf.open("<capability type='fc_remote_port'>")
            buf.line(f"<rport>{escape(self.fc_remote_port[0])}</rport>")
            buf.line(f"<wwpn>{escape(self.fc_remote_port[1])}</wwpn>")
            buf.close("</capability>")


@dataclass(frozen=True)
class SCSICap:
    """``scsi``: host, bus, target and LUN numbers and the device type."""

    host: int
    bus: int
    target: int
    lun: int
    scsi_type: str | None = None
    type: str = "scsi"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> SCSICap:
        """``virNodeDevCapSCSIParseXML``."""
        return cls(
            host=_xuint(node, "./host[1]", name, "SCSI host ID"),
            bus=_xuint(node, "./bus[1]", name, "SCSI bus ID"),
            target=_xuint(node, "./target[1]", name, "SCSI target ID"),
            lun=_xuint(node, "./lun[1]", name, "SCSI LUN ID"),
            scsi_type=xstring(node, "./type[1]"),
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<host>{c_int(self.host)}</host>")
        buf.line(f"<bus>{c_int(self.bus)}</bus>")
        buf.line(f"<target>{c_int(self.target)}</target>")
        buf.line(f"<lun>{c_int(self.lun)}</lun>")
        buf.text("type", self.scsi_type)
