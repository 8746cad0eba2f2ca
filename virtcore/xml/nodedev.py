"""The node device document (``<device>``), read, checked and written as libvirt 9.0 does.

:class:`NodeDevice` is a typed view of a live ``<device>`` tree - name,
sysfs path, device nodes, parent, driver and its ``<capability>`` elements;
unknown content stays in the tree.

* :meth:`NodeDevice.parse` runs ``virNodeDeviceDefParseXML``'s checks in
  libvirt's order with its exact errors, either for an existing host device
  (the default; how the test driver loads its devices) or for a device to be
  created (``nodedev-create``: no name, no SCSI host numbers);
* :meth:`NodeDevice.definition` returns the values libvirt keeps
  (:class:`NodeDeviceDef` with one frozen value per capability, see
  :mod:`virtcore.xml.nodedev_caps`);
* :meth:`NodeDevice.format` writes the document as ``virsh nodedev-dumpxml``
  prints it on libvirt 9.0's test driver.

libvirt does not keep the ``<driver>`` of a definition, and keeps the
parent's WWNs without printing them, so none of them appear in the output.
libvirt writes a few values unescaped (mdev attributes, remote port names);
they are escaped here so that the output stays well-formed XML. The ``vpd``
capability of PCI devices (vital product data) is refused as unsupported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import prop_enum, raw_attr
from virtcore.xml.nodedev_caps import (
    CAPABILITY_TYPES,
    Capability,
    MdevType,
    NetCap,
    PCICap,
    SCSICap,
    SCSIHostCap,
    SCSITargetCap,
    SystemCap,
    TextBuffer,
    USBDeviceCap,
    USBInterfaceCap,
    children,
    emit_mdev_types,
    escape,
    parse_mdev_types,
    xstring,
)

__all__ = [
    "NEW_DEVICE_NAME",
    "APCardCap",
    "APMatrixCap",
    "APQueueCap",
    "CCWCap",
    "CSSCap",
    "DRMCap",
    "MdevCap",
    "NodeDevice",
    "NodeDeviceCapability",
    "NodeDeviceDef",
    "StorageCap",
    "parse_capability",
    "parse_device",
]

logger = logging.getLogger(__name__)

_NODEDEV = ErrorDomain.NODEDEV
DRM_TYPES = ("primary", "control", "render")
NEW_DEVICE_NAME = "new device"
"""The name libvirt gives a device definition passed to ``nodedev-create``."""


def _internal(detail: str) -> VirtError:
    return error(ErrorNumber.INTERNAL_ERROR, detail, _NODEDEV)


def _xml(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NODEDEV)


def _unsupported(detail: str) -> VirtError:
    return error(ErrorNumber.CONFIG_UNSUPPORTED, detail, _NODEDEV)


# -- storage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageCap:
    """``storage``: block device, bus, drive type, model, vendor, serial and size/media."""

    block: str
    bus: str | None = None
    drive_type: str | None = None
    model: str | None = None
    vendor: str | None = None
    serial: str | None = None
    size: int = 0
    removable: bool = False
    media_available: bool = False
    media_size: int = 0
    media_label: str | None = None
    hotpluggable: bool = False
    type: str = "storage"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> StorageCap:
        """``virNodeDevCapStorageParseXML``."""
        block = xstring(node, "./block[1]")
        if block is None:
            raise _internal(f"no block device path supplied for '{name}'")
        removable = hotpluggable = available = False
        media_size = 0
        media_label = None
        for cap in children(node, "capability"):
            kind = raw_attr(cap, "type")
            if kind is None:
                raise _internal(f"missing storage capability type for '{name}'")
            if kind == "hotpluggable":
                hotpluggable = True
            elif kind == "removable":
                removable = True
                available = available or bool(cap.xpath("count(./media_available[. = '1']) > 0"))
                media_label = xstring(cap, "./media_label[1]")
                media_size = _ullong(cap, "./media_size[1]", name, "removable media size")
            else:
                raise _internal(f"unknown storage capability type '{kind}' for '{name}'")
        size = 0 if removable else _ullong(node, "./size[1]", name, "size")
        return cls(
            block=block,
            bus=xstring(node, "./bus[1]"),
            drive_type=xstring(node, "./drive_type[1]"),
            model=xstring(node, "./model[1]"),
            vendor=xstring(node, "./vendor[1]"),
            serial=xstring(node, "./serial[1]"),
            size=size,
            removable=removable,
            media_available=available,
            media_size=media_size,
            media_label=media_label,
            hotpluggable=hotpluggable,
        )

    def emit(self, buf: TextBuffer) -> None:
        buf.text("block", self.block)
        buf.text("bus", self.bus)
        buf.text("drive_type", self.drive_type)
        buf.text("model", self.model)
        buf.text("vendor", self.vendor)
        buf.text("serial", self.serial)
        if self.removable:
            buf.open("<capability type='removable'>")
            buf.line(f"<media_available>{int(self.media_available)}</media_available>")
            buf.line(f"<media_size>{self.media_size}</media_size>")
            buf.text("media_label", self.media_label)
            buf.close("</capability>")
        else:
            buf.line(f"<size>{self.size}</size>")
        if self.hotpluggable:
            buf.line("<capability type='hotpluggable'/>")


def _ullong(node: etree._Element, expr: str, name: str, what: str) -> int:
    """``virNodeDevCapsDefParseULongLong``."""
    text = xstring(node, expr)
    if text is None:
        raise _internal(f"no {what} supplied for '{name}'")
    try:
        return units.parse_ullong(text)
    except ValueError:
        raise _internal(f"invalid {what} supplied for '{name}'") from None


# -- drm, mdev -------------------------------------------------------------------------


@dataclass(frozen=True)
class DRMCap:
    """``drm``: the DRM node type (primary, control or render)."""

    drm_type: str
    type: str = "drm"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> DRMCap:
        """``virNodeDevCapDRMParseXML``."""
        kind = str(node.xpath("string(./type[1])"))
        if kind not in DRM_TYPES:
            # A missing or empty type is named as C prints a NULL string.
            raise _unsupported(f"unknown drm type '{kind or '(null)'}' for '{name}'")
        return cls(kind)

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<type>{self.drm_type}</type>")


@dataclass(frozen=True)
class MdevCap:
    """``mdev``: a mediated device's type, UUID, IOMMU group and vendor attributes."""

    mdev_type: str
    uuid: str | None = None
    iommu_group: int = 0
    attributes: tuple[tuple[str, str], ...] = ()
    type: str = "mdev"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> MdevCap:
        """``virNodeDevCapMdevParseXML``."""
        kind = xstring(node, "./type[1]/@id")
        if kind is None:
            raise _unsupported(f"missing type id attribute for '{name}'")
        uuid = None
        text = xstring(node, "./uuid[1]")
        if text is not None:
            parsed = parse_uuid(text)
            if parsed is None:
                raise _internal(f"Invalid uuid '{text}' for new mdev device")
            uuid = format_uuid(parsed)
        group = 0
        number = xstring(node, "./iommuGroup[1]/@number")
        if number is not None:
            try:
                group = units.parse_uint(number)
            except ValueError:
                raise _internal(f"invalid iommuGroup number attribute for '{name}'") from None
        attributes = []
        for attr in children(node, "attr"):
            attr_name, value = xstring(attr, "./@name"), xstring(attr, "./@value")
            if attr_name is None or value is None:
                # libvirt reports this but keeps the device, without the attribute.
                logger.debug("mdev attribute missing name or value in '%s'", name)
                continue
            attributes.append((attr_name, value))
        return cls(kind, uuid, group, tuple(attributes))

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<type id='{escape(self.mdev_type)}'/>")
        buf.text("uuid", self.uuid)
        buf.line(f"<iommuGroup number='{self.iommu_group}'/>")
        for attr_name, value in self.attributes:
            buf.line(f"<attr name='{escape(attr_name)}' value='{escape(value)}'/>")


# -- ccw, css, ap_card, ap_queue, ap_matrix --------------------------------------------


def _ccw_field(node: etree._Element, tag: str, name: str, base: int) -> int:
    text = xstring(node, f"./{tag}[1]")
    if text is None:
        raise _unsupported(f"missing {tag} value for '{name}'")
    try:
        return units.parse_uint(text, base)
    except ValueError:
        raise _unsupported(f"invalid {tag} value '{text}' for '{name}'") from None


def _parse_ccw_address(node: etree._Element, name: str) -> tuple[int, int, int]:
    """``virNodeDevCCWDeviceAddressParseXML``: (cssid, ssid, devno)."""
    return (
        _ccw_field(node, "cssid", name, 0),
        _ccw_field(node, "ssid", name, 0),
        _ccw_field(node, "devno", name, 16),
    )


def _emit_ccw_address(buf: TextBuffer, address: tuple[int, int, int]) -> None:
    cssid, ssid, devno = address
    buf.line(f"<cssid>0x{cssid:x}</cssid>")
    buf.line(f"<ssid>0x{ssid:x}</ssid>")
    buf.line(f"<devno>0x{devno:04x}</devno>")


@dataclass(frozen=True)
class CCWCap:
    """``ccw``: an s390 channel device's address."""

    address: tuple[int, int, int]
    type: str = "ccw"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> CCWCap:
        """``virNodeDevCapCCWParseXML``."""
        return cls(_parse_ccw_address(node, name))

    def emit(self, buf: TextBuffer) -> None:
        _emit_ccw_address(buf, self.address)


def _mdev_types_of(node: etree._Element) -> tuple[MdevType, ...] | None:
    """The ``mdev_types`` nested capability of a css or ap_matrix device."""
    types = None
    for cap in children(node, "capability"):
        kind = raw_attr(cap, "type")
        if kind is None:
            raise _xml("Missing capability type")
        if kind == "mdev_types":
            types = (types or ()) + parse_mdev_types(cap)
    return types


@dataclass(frozen=True)
class CSSCap:
    """``css``: an s390 subchannel's address, its channel device and mdev types."""

    address: tuple[int, int, int]
    channel_dev_addr: tuple[int, int, int] | None = None
    mdev_types: tuple[MdevType, ...] | None = None
    type: str = "css"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> CSSCap:
        """``virNodeDevCapCSSParseXML``."""
        address = _parse_ccw_address(node, name)
        types = _mdev_types_of(node)
        channel = None
        found = children(node, "channel_dev_addr")
        if found:
            channel = _parse_ccw_address(found[0], name)
        return cls(address, channel, types)

    def emit(self, buf: TextBuffer) -> None:
        _emit_ccw_address(buf, self.address)
        if self.channel_dev_addr is not None:
            buf.open("<channel_dev_addr>")
            _emit_ccw_address(buf, self.channel_dev_addr)
            buf.close("</channel_dev_addr>")
        if self.mdev_types is not None:
            emit_mdev_types(buf, self.mdev_types)


def _ap_value(node: etree._Element, tag: str, name: str) -> int:
    text = xstring(node, f"./{tag}[1]")
    if text is None:
        raise _unsupported(f"missing {tag} value for '{name}'")
    try:
        return units.parse_uint(text, 0)
    except ValueError:
        raise _unsupported(f"invalid {tag} value '{text}' for '{name}'") from None


@dataclass(frozen=True)
class APCardCap:
    """``ap_card``: an s390 crypto adapter."""

    adapter: int
    type: str = "ap_card"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> APCardCap:
        """``virNodeDevCapAPCardParseXML``."""
        return cls(_ap_value(node, "ap-adapter", name))

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<ap-adapter>0x{self.adapter:02x}</ap-adapter>")


@dataclass(frozen=True)
class APQueueCap:
    """``ap_queue``: an s390 crypto adapter and its domain (0-255)."""

    adapter: int
    domain: int
    type: str = "ap_queue"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> APQueueCap:
        """``virNodeDevCapAPQueueParseXML``."""
        adapter = _ap_value(node, "ap-adapter", name)
        domain = _ap_value(node, "ap-domain", name)
        if domain > 255:
            text = xstring(node, "./ap-domain[1]")
            raise _unsupported(f"ap-domain value '{text}' is out of range for '{name}'")
        return cls(adapter, domain)

    def emit(self, buf: TextBuffer) -> None:
        buf.line(f"<ap-adapter>0x{self.adapter:02x}</ap-adapter>")
        buf.line(f"<ap-domain>0x{self.domain:04x}</ap-domain>")


@dataclass(frozen=True)
class APMatrixCap:
    """``ap_matrix``: the s390 crypto matrix and its mdev types."""

    mdev_types: tuple[MdevType, ...] | None = None
    type: str = "ap_matrix"

    @classmethod
    def parse(cls, node: etree._Element, name: str) -> APMatrixCap:
        """``virNodeDevCapAPMatrixParseXML``."""
        del name
        return cls(_mdev_types_of(node))

    def emit(self, buf: TextBuffer) -> None:
        if self.mdev_types is not None:
            emit_mdev_types(buf, self.mdev_types)


# -- dispatch --------------------------------------------------------------------------

_PARSERS: dict[str, Callable[[etree._Element, str], Capability]] = {
    "system": SystemCap.parse,
    "pci": PCICap.parse,
    "usb_device": USBDeviceCap.parse,
    "usb": USBInterfaceCap.parse,
    "net": NetCap.parse,
    "scsi_target": SCSITargetCap.parse,
    "scsi": SCSICap.parse,
    "storage": StorageCap.parse,
    "drm": DRMCap.parse,
    "mdev": MdevCap.parse,
    "ccw": CCWCap.parse,
    "css": CSSCap.parse,
    "ap_card": APCardCap.parse,
    "ap_queue": APQueueCap.parse,
    "ap_matrix": APMatrixCap.parse,
}


def parse_capability(node: etree._Element, name: str, *, create: bool = False) -> Capability:
    """``virNodeDevCapsDefParseXML``: one top-level ``<capability>`` of device *name*."""
    kind = prop_enum(node, "type", CAPABILITY_TYPES, required=True, nonzero=False)
    assert kind is not None
    if kind == "scsi_host":
        return SCSIHostCap.parse(node, name, create=create)
    parser = _PARSERS.get(kind)
    if parser is None:
        # Types only ever reported by the host (fc_host, vports, vdpa, ...).
        raise _internal(f"unknown capability type '{CAPABILITY_TYPES.index(kind)}' for '{name}'")
    return parser(node, name)


# -- the values libvirt keeps ----------------------------------------------------------


@dataclass(frozen=True)
class NodeDeviceDef:
    """The values libvirt keeps for a node device (``virNodeDeviceDef``)."""

    name: str
    capabilities: tuple[Capability, ...]
    path: str | None = None
    devnode: str | None = None
    devlinks: tuple[str, ...] = ()
    parent: str | None = None
    parent_wwnn: str | None = None
    parent_wwpn: str | None = None
    parent_fabric_wwn: str | None = None

    def capability(self, kind: str) -> Capability | None:
        """The first capability of type *kind*, if any."""
        return next((c for c in self.capabilities if c.type == kind), None)

    def format(self) -> str:
        """The document exactly as libvirt 9.0 prints it (``virNodeDeviceDefFormat``)."""
        buf = TextBuffer()
        buf.open("<device>")
        buf.text("name", self.name)
        buf.text("path", self.path)
        buf.text("devnode", self.devnode, " type='dev'")
        for link in self.devlinks:
            buf.text("devnode", link, " type='link'")
        buf.text("parent", self.parent)
        for cap in self.capabilities:
            buf.open(f"<capability type='{cap.type}'>")
            cap.emit(buf)
            buf.close("</capability>")
        buf.close("</device>")
        return buf.getvalue()


def parse_device(node: etree._Element, *, create: bool = False) -> NodeDeviceDef:
    """``virNodeDeviceDefParseXML``: libvirt's checks, in its order, and the values it keeps."""
    if create:
        name = NEW_DEVICE_NAME
    else:
        found = xstring(node, "./name[1]")
        if found is None:
            raise VirtError(
                None,
                code=ErrorNumber.NO_NAME,
                domain=_NODEDEV,
                message="missing name information",
            )
        name = found
    devnode = None
    devlinks = []
    for element in children(node, "devnode"):
        kind = prop_enum(element, "type", ("dev", "link"), required=True, nonzero=False)
        content = str(element.xpath("string(.)"))
        if kind == "dev":
            devnode = content
        else:
            devlinks.append(content)
    wwnn = xstring(node, "./parent[1]/@wwnn")
    wwpn = xstring(node, "./parent[1]/@wwpn")
    if wwnn is not None and wwpn is None:
        raise _xml(f"when providing parent wwnn='{wwnn}', the wwpn must also be provided")
    if wwnn is None and wwpn is not None:
        raise _xml(f"when providing parent wwpn='{wwpn}', the wwnn must also be provided")
    caps = children(node, "capability")
    if not caps:
        raise _internal(f"no device capabilities for '{name}'")
    return NodeDeviceDef(
        name=name,
        capabilities=tuple(parse_capability(c, name, create=create) for c in caps),
        path=xstring(node, "./path[1]"),
        devnode=devnode,
        devlinks=tuple(devlinks),
        parent=xstring(node, "./parent[1]"),
        parent_wwnn=wwnn,
        parent_wwpn=wwpn,
        parent_fabric_wwn=xstring(node, "./parent[1]/@fabric_wwn"),
    )


# -- the model -------------------------------------------------------------------------


class NodeDeviceCapability(XMLNode):
    """A top-level ``<capability type=>`` of a device; its content depends on the type."""

    TAG = "capability"
    type = XMLProperty("./@type")


class NodeDevice(XMLNode):
    """A ``<device>`` document: a view over its live tree.

    ``NodeDevice.parse(text)`` reads a host device as libvirt does (checks
    included); ``NodeDevice.from_xml(text)`` only parses. ``format()`` is
    libvirt's output, ``to_string()`` the tree as it stands.
    """

    TAG = "device"
    PARSE_URL = "(node_device_definition)"
    ERROR_DOMAIN = ErrorDomain.NODEDEV
    SCHEMA = "nodedev.rng"
    XML_ORDER = {"": ("name", "path", "devnode", "parent", "driver", "capability")}

    name = XMLProperty("./name")
    path = XMLProperty("./path")
    parent = XMLProperty("./parent")
    parent_wwnn = XMLProperty("./parent/@wwnn")
    parent_wwpn = XMLProperty("./parent/@wwpn")
    parent_fabric_wwn = XMLProperty("./parent/@fabric_wwn")
    driver = XMLProperty("./driver/name")
    capabilities = XMLChildList(NodeDeviceCapability, "./capability")

    @classmethod
    def parse(
        cls, text: str | bytes, *, create: bool = False, validate_schema: bool = False
    ) -> Self:
        """Read a device from *text* as libvirt does.

        By default as a host device (``virNodeDeviceDefParse`` for an
        existing device); with *create* as a definition given to
        ``virNodeDeviceCreateXML``/``virNodeDeviceDefineXML``.
        """
        device = cls.from_xml(text, validate_schema=validate_schema)
        device.check(create=create)
        return device

    def check(self, *, create: bool = False) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition(create=create)

    def definition(self, *, create: bool = False) -> NodeDeviceDef:
        """The values libvirt keeps, after its checks (see :func:`parse_device`)."""
        return parse_device(self.element, create=create)

    @property
    def devnodes(self) -> list[tuple[str, str]]:
        """The ``<devnode>`` elements as (type, path) pairs, in document order."""
        return [
            (str(e.get("type", "")), str(e.xpath("string(.)")))
            for e in children(self.element, "devnode")
        ]

    @property
    def capability_types(self) -> list[str]:
        """The types of the top-level capabilities, in document order."""
        return [c.type or "" for c in self.capabilities]

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virNodeDeviceGetXMLDesc``)."""
        del flags  # virNodeDeviceGetXMLDesc accepts no flags
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)
