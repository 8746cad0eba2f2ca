"""Shared machinery of the device models: libvirt's readers, device info and output helpers.

Every device model of this package works in libvirt's three steps:

1. **parse** - :meth:`DeviceModel.parse` reads the live element as libvirt's
   ``vir*DefParseXML`` does and returns a *definition* (a dataclass such as
   ``WatchdogDef``), raising libvirt's errors with its exact codes, error
   domains and wording;
2. **post-parse and validation** - ``post_parse`` fills in the defaults
   libvirt adds and ``validate`` makes the checks of
   ``virDomainDeviceDefValidate``; what spans several devices (character
   device ports, the primary video, smartcard slots) is done by functions
   of the device modules that the ``<devices>`` container calls;
3. **format** - ``to_element(flags)`` builds the element libvirt prints for
   ``virDomainGetXMLDesc`` *flags* (``SECURE``, ``INACTIVE``,
   ``MIGRATABLE``); ``hidden(flags)`` tells when libvirt prints nothing.
   libvirt formats a domain that is not running as if ``INACTIVE`` were
   given, so the caller adds that flag for defined, inactive domains.

The readers reproduce ``virXMLPropString``/``virXMLPropEnum``/
``virXMLPropInt``/... (``src/util/virxml.c``; they live in
:mod:`virtcore.xml.domain.devices.props` and are re-exported here): their
errors are ``VIR_ERR_XML_ERROR`` in the XML error domain, e.g. ``XML
error: Invalid value for attribute 'model' in element 'watchdog': 'x'.``
:class:`DeviceInfo` reads and writes ``<alias>``, ``<master>``, ``<acpi>``
and ``<address>``; :class:`DeviceContext` carries what devices need to know
about their domain.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar, Self

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import XMLNode
from virtcore.xml.domain.devices.props import (
    as_c_int,
    child,
    children,
    fail,
    fail_unknown,
    first_children,
    parse_ui_wrapping,
    parse_uuid,
    prop,
    prop_enum,
    prop_int,
    prop_required,
    prop_switch,
    prop_tristate,
    prop_uint,
    prop_ullong,
    sanitize_path,
    text_of,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.format import FormatRules, format_xml

__all__ = [
    "DEVICE_RULES",
    "INACTIVE",
    "MIGRATABLE",
    "SECURE",
    "UNASSIGNED",
    "DeviceContext",
    "DeviceDef",
    "DeviceInfo",
    "DeviceModel",
    "Seclabel",
    "VirtioOptions",
    "as_c_int",
    "child",
    "children",
    "element",
    "fail",
    "fail_unknown",
    "first_children",
    "is_ppc64",
    "is_x86",
    "parse_ui_wrapping",
    "parse_uuid",
    "prop",
    "prop_enum",
    "prop_int",
    "prop_required",
    "prop_switch",
    "prop_tristate",
    "prop_uint",
    "prop_ullong",
    "sanitize_path",
    "text_of",
]

logger = logging.getLogger(__name__)

SECURE = int(DomainXMLFlags.SECURE)
INACTIVE = int(DomainXMLFlags.INACTIVE)
MIGRATABLE = int(DomainXMLFlags.MIGRATABLE)

DEVICE_RULES = FormatRules()
"""Device elements are written without document-level quirks."""

_X86 = frozenset({"i686", "x86_64"})
_PPC64 = frozenset({"ppc64", "ppc64le"})


def is_x86(arch: str | None) -> bool:
    """``ARCH_IS_X86``."""
    return arch in _X86


def is_ppc64(arch: str | None) -> bool:
    """``ARCH_IS_PPC64``."""
    return arch in _PPC64


# -- output helpers ----------------------------------------------------------------------


def element(
    tag: str,
    attrs: Iterable[tuple[str, str | int | None]] = (),
    kids: Iterable[OutNode | None] = (),
    text: str | None = None,
) -> OutNode:
    """A new element: attributes whose value is None and children that are None are left out.

    A list given as *attrs* becomes the node's own, uncopied (output nodes never change
    their pairs in place, and the output code builds a new list for each element).
    """
    node = _new_node(OutNode)
    node.tag = tag
    node.pairs = attrs if attrs.__class__ is list else list(attrs)
    node._attrs = None
    node.children = [kid for kid in kids if kid is not None] if kids else []
    node.text = text
    return node


# Elements are made by the thousand: the slots are filled without an __init__ call.
_new_node = OutNode.__new__


def optional_element(
    tag: str,
    attrs: Iterable[tuple[str, str | int | None]] = (),
    kids: Iterable[OutNode | None] = (),
) -> OutNode | None:
    """``virXMLFormatElement``: the element, or None when it has neither attributes nor children.

    A list given as *attrs* becomes the node's own, as with :func:`element`.
    """
    pairs = attrs if attrs.__class__ is list else list(attrs)
    inside = [kid for kid in kids if kid is not None] if kids else []
    if not inside:
        for pair in pairs:
            if pair[1] is not None:
                break
        else:
            return None
    node = _new_node(OutNode)
    node.tag = tag
    node.pairs = pairs
    node._attrs = None
    node.children = inside
    node.text = None
    return node


def field_defaults(cls: type) -> dict[str, object]:
    """Every field of dataclass *cls* at its default, in field order, those made by a default
    factory (and those without a default) as None.

    Readers of kinds with many fields copy it into a new record's ``__dict__`` and make the
    factory-made fields themselves, instead of running the generated ``__init__`` that sets
    the fields one by one; :func:`factory_fields` names the fields they must make.
    """
    return {f.name: None if f.default is MISSING else f.default for f in fields(cls)}


def factory_fields(cls: type) -> frozenset[str]:
    """The fields of dataclass *cls* whose default comes from a factory."""
    return frozenset(f.name for f in fields(cls) if f.default_factory is not MISSING)


def onoff(value: bool | None) -> str | None:
    """A tristate switch as libvirt writes it (None stays absent)."""
    return None if value is None else ("on" if value else "off")


def yesno(value: bool | None) -> str | None:
    """A tristate bool as libvirt writes it (None stays absent)."""
    return None if value is None else ("yes" if value else "no")


# -- shared sub-structures --------------------------------------------------------------


_VIRTIO_ATTRS = frozenset({"iommu", "ats", "packed", "page_per_vq"})


@dataclass
class VirtioOptions:
    """``<driver iommu= ats= packed= page_per_vq=>`` of virtio devices."""

    iommu: bool | None = None
    ats: bool | None = None
    packed: bool | None = None
    page_per_vq: bool | None = None

    @classmethod
    def parse(cls, driver: etree._Element | None) -> VirtioOptions | None:
        """``virDomainVirtioOptionsParseXML``."""
        if driver is None:
            return None
        if _VIRTIO_ATTRS.isdisjoint(driver.keys()):
            return cls()  # the usual <driver>: none of the options given
        return cls(
            iommu=prop_switch(driver, "iommu"),
            ats=prop_switch(driver, "ats"),
            packed=prop_switch(driver, "packed"),
            page_per_vq=prop_switch(driver, "page_per_vq"),
        )

    def attrs(self) -> list[tuple[str, str | int | None]]:
        """``virDomainVirtioOptionsFormat``."""
        return [
            ("iommu", onoff(self.iommu)),
            ("ats", onoff(self.ats)),
            ("packed", onoff(self.packed)),
            ("page_per_vq", onoff(self.page_per_vq)),
        ]

    def check_absent(self) -> None:
        """``virDomainCheckVirtioOptionsAreAbsent``, for devices that are not virtio."""
        for name, value in (("iommu", self.iommu), ("ats", self.ats), ("packed", self.packed)):
            if value is not None:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"{name} driver option is only supported for virtio devices",
                )
        if self.page_per_vq is not None:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "page_per_vq option is only supported for virtio devices",
            )


def virtio_attrs(options: VirtioOptions | None) -> list[tuple[str, str | int | None]]:
    """The ``<driver>`` attributes of *options* (none when absent)."""
    return options.attrs() if options is not None else []


@dataclass
class Seclabel:
    """A per-device ``<seclabel>`` override (``virSecurityDeviceLabelDef``)."""

    model: str | None = None
    relabel: bool = True
    labelskip: bool = False
    label: str | None = None

    @classmethod
    def parse_all(cls, node: etree._Element, inactive: bool) -> list[Seclabel]:
        """``virSecurityDeviceLabelDefParseXML`` for the ``<seclabel>`` children of *node*."""
        labels: list[Seclabel] = []
        for item in children(node, "seclabel"):
            model = prop(item, "model")
            if model is not None and any(s.model == model for s in labels):
                fail(ErrorNumber.XML_DETAIL, f"seclabel for model {model} is already provided")
            relabel = prop_tristate(item, "relabel")
            label = cls(model=model, relabel=relabel is not False)
            if not inactive:
                label.labelskip = bool(prop_tristate(item, "labelskip"))
            text = text_of(child(item, "label"))
            if text is not None and len(text) <= 4096:
                label.label = text
            if label.label is not None and not label.relabel:
                fail(
                    ErrorNumber.XML_ERROR,
                    "Cannot specify a label if relabelling is turned off. "
                    f"model={label.model or '(null)'}",
                )
            labels.append(label)
        return labels

    def to_element(self, flags: int) -> OutNode | None:
        """``virSecurityDeviceLabelDefFormat``."""
        if flags & INACTIVE and self.label is None and self.relabel:
            return None
        attrs: list[tuple[str, str | int | None]] = [("model", self.model)]
        if self.labelskip:
            attrs.append(("labelskip", "yes"))
        else:
            attrs.append(("relabel", yesno(self.relabel)))
        kids = [element("label", text=self.label)] if self.label is not None else []
        return element("seclabel", attrs, kids)


# -- device info ------------------------------------------------------------------------

ADDRESS_TYPES = (
    "none", "pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio",
    "virtio-s390", "ccw", "virtio-mmio", "isa", "dimm", "unassigned",
)  # fmt: skip
_USER_ALIAS = re.compile(r"ua-[A-Za-z0-9_-]*\Z")
UNASSIGNED = "unassigned"
"""The address type :meth:`DeviceInfo.validate` refuses (every other passes): devices
validated often look at it before calling."""


@dataclass
class DeviceInfo:
    """``<alias>``, ``<master>``, ``<acpi>`` and ``<address>`` (``virDomainDeviceInfo``).

    The address is kept as its type and its attribute values, already
    checked and normalised to what libvirt writes.
    """

    alias: str | None = None
    master_startport: int | None = None
    acpi_index: int | None = None
    address_type: str = "none"
    address: dict[str, str] = field(default_factory=dict)
    zpci: dict[str, str] | None = None

    @classmethod
    def parse(
        cls,
        node: etree._Element,
        ctx: DeviceContext,
        *,
        kids: dict[str, etree._Element] | None = None,
    ) -> Self:
        """``virDomainDeviceInfoParseXML``, without boot order or ROM (device kinds that have
        them use :class:`virtcore.xml.domain.devices.address.DeviceInfo`).

        *kids* is :func:`first_children` of *node* when the caller has it already.
        """
        info = cls()
        if kids is None:
            if not len(node):
                return info  # no child element: nothing to read
            kids = first_children(node)
        alias_node = kids.get("alias")
        alias = prop(alias_node, "name") if alias_node is not None else None
        # On define (an inactive parse) only user aliases survive.
        if alias and (not ctx.inactive or _USER_ALIAS.match(alias)):
            info.alias = alias
        master = kids.get("master")
        if master is not None:
            info.master_startport = prop_uint(master, "startport") or 0
        acpi = kids.get("acpi")
        if acpi is not None:
            info.acpi_index = prop_uint(acpi, "index", nonzero=True)
        address = kids.get("address")
        if address is not None:
            info._parse_address(address)
        return info

    def _parse_address(self, node: etree._Element) -> None:
        kind = prop(node, "type")
        if kind is None:
            fail(ErrorNumber.INTERNAL_ERROR, "No type specified for device address")
        if kind not in ADDRESS_TYPES or kind == "none":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown address type '{kind}'")
        self.address_type = kind
        parser = _ADDRESS_PARSERS.get(kind)
        if parser is not None:
            parser(self, node)

    def _pci(self, node: etree._Element) -> None:
        domain = prop_uint(node, "domain", base=0) or 0
        bus = prop_uint(node, "bus", base=0) or 0
        slot = prop_uint(node, "slot", base=0) or 0
        function = prop_uint(node, "function", base=0) or 0
        multi = prop_switch(node, "multifunction")
        if domain or bus or slot:
            problem = None
            if bus > 0xFF:
                problem = f"Invalid PCI address bus='0x{bus:x}', must be <= 0xFF"
            elif slot > 0x1F:
                problem = f"Invalid PCI address slot='0x{slot:x}', must be <= 0x1F"
            elif function > 7:
                problem = f"Invalid PCI address function=0x{function:x}, must be <= 7"
            if problem:
                fail(ErrorNumber.XML_ERROR, problem, ErrorDomain.NONE)
            self.address = {
                "domain": f"0x{domain:04x}",
                "bus": f"0x{bus:02x}",
                "slot": f"0x{slot:02x}",
                "function": f"0x{function}",
            }
        if multi is not None:
            self.address["multifunction"] = onoff(multi) or ""
        zpci = child(node, "zpci")
        if zpci is not None:
            uid = prop_uint(zpci, "uid", base=0)
            fid = prop_uint(zpci, "fid", base=0)
            if uid is not None or fid is not None:
                self.zpci = {"uid": f"0x{uid or 0:04x}", "fid": f"0x{fid or 0:08x}"}

    def _numbers(self, node: etree._Element, names: Sequence[str]) -> None:
        for name in names:
            self.address[name] = str(prop_uint(node, name) or 0)

    def _drive(self, node: etree._Element) -> None:
        self._numbers(node, ("controller", "bus", "target", "unit"))

    def _vioserial(self, node: etree._Element) -> None:
        self._numbers(node, ("controller", "bus", "port"))

    def _ccid(self, node: etree._Element) -> None:
        self._numbers(node, ("controller", "slot"))

    def _usb(self, node: etree._Element) -> None:
        port = prop(node, "port")
        ports: list[int] = []
        if port is not None:
            ports = _usb_port(port)
        self.address["bus"] = str(prop_uint(node, "bus") or 0)
        if ports and ports[0]:
            # libvirt writes the hub path up to the first zero.
            shown = []
            for number in ports:
                if not number:
                    break
                shown.append(str(number))
            self.address["port"] = ".".join(shown)

    def _spapr(self, node: etree._Element) -> None:
        reg = prop_ullong(node, "reg", base=16)
        if reg is not None:
            self.address["reg"] = f"0x{reg:08x}"

    def _ccw(self, node: etree._Element) -> None:
        values = [prop_uint(node, n, base=0) for n in ("cssid", "ssid", "devno")]
        cssid, ssid, devno = (v or 0 for v in values)
        if cssid > 0xFE or ssid > 3 or devno > 0xFFFF:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "Invalid specification for virtio ccw address: "
                f"cssid='0x{cssid:x}' ssid='0x{ssid:x}' devno='0x{devno:04x}'",
                ErrorDomain.DEVICE,
            )
        if any(v is None for v in values) and any(v is not None for v in values):
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "Invalid partial specification for virtio ccw address",
                ErrorDomain.DEVICE,
            )
        self.address = {"cssid": f"0x{cssid:x}", "ssid": f"0x{ssid:x}", "devno": f"0x{devno:04x}"}

    def _isa(self, node: etree._Element) -> None:
        iobase = prop_uint(node, "iobase", base=16) or 0
        irq = prop_uint(node, "irq", base=16) or 0
        if iobase:
            self.address["iobase"] = f"0x{iobase:x}"
        if irq:
            self.address["irq"] = f"0x{irq:x}"

    def _dimm(self, node: etree._Element) -> None:
        slot = prop_uint(node, "slot", required=True)
        base = prop_ullong(node, "base", base=16)
        self.address["slot"] = str(slot)
        if base:
            self.address["base"] = f"0x{base:x}"

    def _s390(self, node: etree._Element) -> None:
        fail(ErrorNumber.XML_ERROR, "virtio-s390 bus doesn't have an address")

    def validate(self) -> None:
        """``virDomainDeviceInfoValidate`` for a device that is not a hostdev."""
        if self.address_type == UNASSIGNED:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "address of type 'unassigned' is supported only for hostdevs",
            )

    def elements(self) -> list[OutNode]:
        """``virDomainDeviceInfoFormat``: the elements to append to the device."""
        out: list[OutNode] = []
        if self.alias is not None:
            out.append(element("alias", [("name", self.alias)]))
        if self.master_startport is not None:
            out.append(element("master", [("startport", self.master_startport)]))
        if self.acpi_index:
            out.append(element("acpi", [("index", self.acpi_index)]))
        if self.address_type in ("none", "virtio-s390"):
            return out
        kids = [element("zpci", list(self.zpci.items()))] if self.zpci else []
        out.append(element("address", [("type", self.address_type), *self.address.items()], kids))
        return out


def _usb_port(text: str) -> list[int]:
    ports: list[int] = []
    rest = text
    for _ in range(4):
        match = re.match(r"[ \t\n\v\f\r]*\+?[0-9]+", rest)
        if match is None:
            break
        try:
            ports.append(units.parse_uint(match.group()))
        except ValueError:
            break
        rest = rest[match.end() :]
        if not rest:
            return ports
        if rest[0] == ".":
            rest = rest[1:]
    fail(ErrorNumber.INTERNAL_ERROR, "Cannot parse <address> 'port' attribute", ErrorDomain.DEVICE)


_ADDRESS_PARSERS: dict[str, Callable[[DeviceInfo, etree._Element], None]] = {
    "pci": DeviceInfo._pci,
    "drive": DeviceInfo._drive,
    "virtio-serial": DeviceInfo._vioserial,
    "ccid": DeviceInfo._ccid,
    "usb": DeviceInfo._usb,
    "spapr-vio": DeviceInfo._spapr,
    "ccw": DeviceInfo._ccw,
    "isa": DeviceInfo._isa,
    "dimm": DeviceInfo._dimm,
    "virtio-s390": DeviceInfo._s390,
}


# -- context, definitions and models -----------------------------------------------------


@dataclass
class DeviceContext:
    """What parsing a device needs to know about its domain.

    The defaults describe a domain of libvirt's test driver: ``<domain
    type='test'>`` with ``<os><type>hvm</type></os>`` on i686, parsed as
    ``virDomainDefineXML`` parses (inactive).
    """

    os_type: str = "hvm"
    arch: str = "i686"
    virt_type: str = "test"
    inactive: bool = True
    audio_ids: frozenset[int] = frozenset()
    numa_nodes: int = 0
    ioapic_driver: str | None = None
    usb_disabled: bool = False
    seclabel_relabel: dict[str, bool] = field(default_factory=dict)
    """Domain ``<seclabel>`` models and whether each relabels (for per-device overrides)."""
    new_uuid: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    """Makes the UUIDs libvirt generates (ppc64 NVDIMMs); replace it for reproducible output."""


class DeviceDef:
    """A parsed device definition; subclasses are dataclasses."""

    info: DeviceInfo

    def post_parse(self, ctx: DeviceContext) -> None:
        """The defaults libvirt's per-device post-parse fills in (nothing by default)."""

    def validate(self, ctx: DeviceContext) -> None:
        """The checks of ``virDomainDeviceDefValidate`` for this device."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()

    def hidden(self, flags: int = 0) -> bool:
        """Whether libvirt leaves the device out of its output for *flags* (rarely)."""
        return False

    def to_element(self, flags: int = 0) -> OutNode:
        """The device element libvirt writes for *flags* (see :meth:`hidden`)."""
        raise NotImplementedError

    def format(self, flags: int = 0) -> str:
        """The device element as libvirt's text (empty when :meth:`hidden`)."""
        if self.hidden(flags):
            return ""
        return format_xml(self.to_element(flags), rules=DEVICE_RULES)


class DeviceModel(XMLNode):
    """Base of the device models: typed properties over the element, plus libvirt's pipeline.

    Subclasses set ``TAG`` and implement :meth:`parse`. :meth:`definition`
    runs the whole pipeline for the device alone (parse, post-parse,
    validate); :meth:`format` writes the result.
    """

    TAG: ClassVar[str] = ""

    def parse(self, ctx: DeviceContext | None = None) -> DeviceDef:
        """Read the element as libvirt's parser does; raises libvirt's errors."""
        raise NotImplementedError

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> DeviceDef:
        """:meth:`parse` of *node*; kinds read often do it without making a model first."""
        return cls(node).parse(ctx)

    def definition(self, ctx: DeviceContext | None = None) -> DeviceDef:
        """Parse, post-parse and validate the device as the only one of its domain."""
        ctx = ctx or DeviceContext()
        definition = self.parse(ctx)
        definition.post_parse(ctx)
        definition.validate(ctx)
        return definition

    def check(self, ctx: DeviceContext | None = None) -> None:
        """Raise the error libvirt would raise for this device (see :meth:`definition`)."""
        self.definition(ctx)

    def to_libvirt_element(
        self, flags: int = 0, ctx: DeviceContext | None = None
    ) -> etree._Element:
        """The element libvirt writes for this device (alone in its domain)."""
        return self.definition(ctx).to_element(flags).to_lxml()

    def format(self, flags: int = 0, ctx: DeviceContext | None = None) -> str:
        """libvirt's text for this device (alone in its domain), as ``dumpxml`` shows it.

        Empty when libvirt would leave the device out.
        """
        return self.definition(ctx).format(flags)

    to_libvirt_xml = format

    @classmethod
    def from_string(cls, text: str) -> Self:
        """Parse one device element from *text* (as libvirt's device XML APIs receive it)."""
        return cls.from_xml(text, url="(device_definition)")
