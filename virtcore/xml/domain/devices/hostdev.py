"""The ``<hostdev>`` device: host PCI, USB, SCSI, vhost-scsi and mediated devices for the guest.

::

    <hostdev mode='subsystem' type='pci' managed='yes'>
      <driver name='vfio'/>
      <source>
        <address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/>
      </source>
      <boot order='1'/>
      <rom bar='on'/>
    </hostdev>
    <hostdev mode='subsystem' type='usb'>
      <source startupPolicy='optional'>
        <vendor id='0x1234'/>
        <product id='0xbeef'/>
      </source>
    </hostdev>
    <hostdev mode='capabilities' type='storage'>
      <source><block>/dev/sdf1</block></source>
    </hostdev>

``mode='subsystem'`` (the default) covers ``pci``, ``usb``, ``scsi`` (a
host adapter address or an iSCSI LUN), ``scsi_host`` (vhost-scsi) and
``mdev``; ``mode='capabilities'`` covers ``storage``, ``misc`` and ``net``
(containers). libvirt writes ``managed='no'`` when it is not ``yes``.

The subsystem source (:class:`SubsysSource`) is shared with ``<interface
type='hostdev'>``, which writes it with the address type included. SCSI
hostdevs without an address get a drive address on the first free unit
(:meth:`HostdevDef.assign_address`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLChild, XMLProperty
from virtcore.xml.domain.devices.address import Address, DeviceInfo, DriveAddress
from virtcore.xml.domain.devices.netconf import IPInfo, parse_ip_info
from virtcore.xml.domain.devices.source import (
    StorageSource,
    auth_element,
    parse_auth,
    parse_host,
    valid_uuid,
)
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceModel,
    child,
    children,
    element,
    fail,
    optional_element,
    prop,
    prop_enum,
    prop_tristate,
    prop_uint,
    text_of,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "SUBSYS_TYPES",
    "Hostdev",
    "HostdevDef",
    "SubsysSource",
    "check_duplicate_hostdevs",
    "parse_subsys",
]

logger = logging.getLogger(__name__)

SUBSYS_TYPES = ("usb", "pci", "scsi", "scsi_host", "mdev")
CAPS_TYPES = ("storage", "misc", "net")
PCI_BACKENDS = ("default", "kvm", "vfio", "xen")
MDEV_MODELS = ("vfio-pci", "vfio-ccw", "vfio-ap")
_CAPS_CHILD = {"storage": "block", "misc": "char", "net": "interface"}
_MAX_SCSI_UNITS = 7
_SGIO = ("default", "filtered", "unfiltered")
_SECRET_USAGES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")


def _pci_attrs(numbers: tuple[int, int, int, int]) -> list[tuple[str, str | int | None]]:
    domain, bus, slot, function = numbers
    return [
        ("domain", f"0x{domain:04x}"),
        ("bus", f"0x{bus:02x}"),
        ("slot", f"0x{slot:02x}"),
        ("function", f"0x{function}"),
    ]


def parse_pci_numbers(node: etree._Element | None) -> tuple[int, int, int, int]:
    """``virPCIDeviceAddressParseXML`` for a host device address."""
    if node is None:
        return (0, 0, 0, 0)
    numbers = tuple(
        prop_uint(node, name, base=0) or 0 for name in ("domain", "bus", "slot", "function")
    )
    domain, bus, slot, function = numbers
    if domain or bus or slot:
        problem = None
        if bus > 0xFF:
            problem = f"Invalid PCI address bus='0x{bus:x}', must be <= 0xFF"
        elif slot > 0x1F:
            problem = f"Invalid PCI address slot='0x{slot:x}', must be <= 0x1F"
        elif function > 7:
            problem = f"Invalid PCI address function=0x{function:x}, must be <= 7"
        if problem:
            fail(ErrorNumber.XML_ERROR, problem, 0)
    return (domain, bus, slot, function)


@dataclass
class SubsysSource:
    """The source of a ``mode='subsystem'`` host device."""

    type: str
    managed: bool = False
    startup_policy: str | None = None
    pci: tuple[int, int, int, int] = (0, 0, 0, 0)
    pci_backend: str | None = None
    write_filtering: bool | None = None
    usb_vendor: int | None = None
    usb_product: int | None = None
    usb_bus: int = 0
    usb_device: int = 0
    scsi_adapter: str | None = None
    scsi_address: DriveAddress | None = None
    iscsi: StorageSource | None = None
    sgio: str | None = None
    rawio: bool | None = None
    wwpn: str | None = None
    model: str | None = None
    mdev_uuid: str | None = None
    display: bool | None = None
    ramfb: bool | None = None

    def driver_element(self) -> OutNode | None:
        """``<driver name=...>`` of a PCI host device (written before its source)."""
        if self.type == "pci" and self.pci_backend is not None:
            return element("driver", [("name", self.pci_backend)])
        return None

    def source_element(self, *, with_type: bool) -> OutNode | None:
        """``virDomainHostdevDefFormatSubsys``: the ``<source>`` element."""
        typed: list[tuple[str, str | int | None]] = [("type", self.type)] if with_type else []
        if self.type == "usb":
            kids: list[OutNode | None] = []
            if self.usb_vendor is not None:
                kids.append(element("vendor", [("id", f"0x{self.usb_vendor:04x}")]))
                kids.append(element("product", [("id", f"0x{self.usb_product or 0:04x}")]))
            if self.usb_bus or self.usb_device:
                attrs = [*typed, ("bus", self.usb_bus), ("device", self.usb_device)]
                kids.append(element("address", attrs))
            return optional_element("source", [("startupPolicy", self.startup_policy)], kids)
        if self.type == "pci":
            address = element("address", typed + _pci_attrs(self.pci))
            attrs = [("writeFiltering", yesno(self.write_filtering))]
            return element("source", attrs, [address])
        if self.type == "scsi":
            return self._scsi_source(with_type)
        if self.type == "scsi_host":
            return element("source", [("protocol", "vhost"), ("wwpn", self.wwpn)])
        return element("source", kids=[element("address", [("uuid", self.mdev_uuid)])])

    def _scsi_source(self, with_type: bool) -> OutNode:
        if self.iscsi is not None:
            src = self.iscsi
            host = src.hosts[0]
            kids: list[OutNode | None] = [
                element("host", [("name", host.name), ("port", host.port or None)])
            ]
            if src.auth is not None:
                kids.append(auth_element(src.auth))
            if src.initiator_iqn is not None:
                iqn = element("iqn", [("name", src.initiator_iqn)])
                kids.append(element("initiator", kids=[iqn]))
            return element("source", [("protocol", "iscsi"), ("name", src.path)], kids)
        address = self.scsi_address or DriveAddress(0, 0, 0, 0)
        attrs: list[tuple[str, str | int | None]] = [("type", "scsi")] if with_type else []
        attrs += [("bus", address.bus), ("target", address.target), ("unit", address.unit)]
        adapter = element("adapter", [("name", self.scsi_adapter)])
        return element("source", kids=[adapter, element("address", attrs)])

    def identity(self) -> tuple[object, ...]:
        """What makes two host devices the same device (``virDomainHostdevMatch``)."""
        if self.type == "pci":
            return ("pci", self.pci)
        if self.type == "usb":
            return ("usb", self.usb_vendor, self.usb_product, self.usb_bus, self.usb_device)
        if self.type == "scsi":
            if self.iscsi is not None:
                return ("iscsi", self.iscsi.hosts[0].name, self.iscsi.path)
            return ("scsi", self.scsi_adapter, self.scsi_address)
        if self.type == "scsi_host":
            return ("scsi_host", self.wwpn)
        return ("mdev", self.mdev_uuid)


def parse_subsys(node: etree._Element, kind: str | None) -> SubsysSource:
    """``virDomainHostdevDefParseXMLSubsys``: the subsystem source of *node*."""
    sub = SubsysSource(type="pci")
    sub.managed = prop(node, "managed") == "yes"
    model = prop(node, "model")
    if kind is None:
        fail(ErrorNumber.XML_ERROR, "missing source address type")
    if kind not in SUBSYS_TYPES:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown host device source address type '{kind}'")
    sub.type = kind
    source = child(node, "source")
    if source is None:
        fail(ErrorNumber.XML_ERROR, "Missing <source> element in hostdev device")
    if prop(source, "startupPolicy") is not None and kind != "usb":
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED, "Setting startupPolicy is only allowed for USB devices"
        )
    sgio = prop_enum(node, "sgio", _SGIO, nonzero=True)
    if sgio is not None:
        if kind != "scsi":
            fail(ErrorNumber.XML_ERROR, "sgio is only supported for scsi host device")
        sub.sgio = sgio
    rawio = prop_tristate(node, "rawio")
    if rawio is not None:
        if kind != "scsi":
            fail(ErrorNumber.XML_ERROR, "rawio is only supported for scsi host device")
        sub.rawio = rawio
    _parse_model(node, sub, model)
    if kind == "pci":
        _parse_pci(node, source, sub)
    elif kind == "usb":
        _parse_usb(source, sub)
    elif kind == "scsi":
        _parse_scsi(source, sub)
    elif kind == "scsi_host":
        _parse_scsi_host(source, sub)
    else:
        _parse_mdev(node, source, sub)
    return sub


def _parse_model(node: etree._Element, sub: SubsysSource, model: str | None) -> None:
    if model is not None:
        if sub.type not in ("scsi_host", "mdev"):
            fail(
                ErrorNumber.XML_ERROR,
                f"'model' attribute in <hostdev> is only supported when type='{sub.type}'",
            )
        allowed: tuple[str, ...] = (
            "default",
            "virtio",
            "virtio-transitional",
            "virtio-non-transitional",
        )
        if sub.type == "mdev":
            allowed = MDEV_MODELS
        sub.model = prop_enum(node, "model", allowed, nonzero=sub.type == "scsi_host")
    elif sub.type == "mdev":
        fail(ErrorNumber.XML_ERROR, "Missing required attribute 'model' in element 'hostdev'", 5)


def _parse_pci(node: etree._Element, source: etree._Element | None, sub: SubsysSource) -> None:
    address = child(source, "address") if source is not None else None
    sub.pci = parse_pci_numbers(address)
    if source is not None:
        sub.write_filtering = prop_tristate(source, "writeFiltering")
    driver = child(node, "driver")
    if driver is not None:
        backend = prop_enum(driver, "name", PCI_BACKENDS)
        sub.pci_backend = None if backend in (None, "default") else backend


def _parse_usb(source: etree._Element | None, sub: SubsysSource) -> None:
    if source is None:
        return
    policy = prop_enum(source, "startupPolicy", ("default", "mandatory", "requisite", "optional"))
    sub.startup_policy = None if policy in (None, "default") else policy
    vendor = child(source, "vendor")
    product = child(source, "product")
    if vendor is not None:
        sub.usb_vendor = prop_uint(vendor, "id", base=0, required=True, nonzero=True)
    if product is not None:
        sub.usb_product = prop_uint(product, "id", base=0, required=True)
    address = child(source, "address")
    if address is not None:
        sub.usb_bus = prop_uint(address, "bus", base=0, required=True) or 0
        sub.usb_device = prop_uint(address, "device", base=0, required=True) or 0
    if sub.usb_vendor is None and sub.usb_product is not None:
        fail(ErrorNumber.INTERNAL_ERROR, "missing vendor")
    if sub.usb_vendor is not None and sub.usb_product is None:
        fail(ErrorNumber.INTERNAL_ERROR, "missing product")


def _check_iscsi_secret(secret_type: str | None) -> None:
    """The secret of an iSCSI host device must be an iSCSI secret."""
    if secret_type not in _SECRET_USAGES:
        shown = "(null)" if secret_type is None else secret_type
        fail(ErrorNumber.CONFIG_UNSUPPORTED, f"invalid secret type {shown}")
    if secret_type != "iscsi":
        fail(ErrorNumber.INTERNAL_ERROR, f"hostdev invalid secret type '{secret_type}'")


def _parse_scsi(source: etree._Element | None, sub: SubsysSource) -> None:
    protocol = prop(source, "protocol") if source is not None else None
    if protocol is not None and protocol not in ("adapter", "iscsi"):
        fail(ErrorNumber.CONFIG_UNSUPPORTED, f"Unknown SCSI subsystem protocol '{protocol}'")
    if protocol == "iscsi":
        assert source is not None
        name = prop(source, "name")
        if name is None:
            fail(ErrorNumber.XML_ERROR, "missing iSCSI hostdev source path name")
        hosts = children(source, "host")
        if not hosts:
            fail(ErrorNumber.XML_ERROR, "missing the host address for the iSCSI hostdev")
        if len(hosts) > 1:
            fail(
                ErrorNumber.XML_ERROR,
                "only one source host address may be specified for the iSCSI hostdev",
            )
        host = hosts[0]
        iscsi = StorageSource(type="network", protocol="iscsi", path=name)
        iscsi.hosts = [parse_host(host)]
        auth = child(source, "auth")
        if auth is not None:
            iscsi.auth = parse_auth(auth)
        initiator = child(source, "initiator")
        iqn = child(initiator, "iqn") if initiator is not None else None
        iscsi.initiator_iqn = (prop(iqn, "name") or None) if iqn is not None else None
        if iscsi.auth is not None:
            _check_iscsi_secret(iscsi.auth.secret_type)
        sub.iscsi = iscsi
        return
    address = child(source, "address") if source is not None else None
    if address is None:
        fail(ErrorNumber.XML_ERROR, "'address' must be specified for scsi hostdev source")
    numbers = [prop_uint(address, n, required=True) or 0 for n in ("bus", "target", "unit")]
    adapter = child(source, "adapter") if source is not None else None
    name = (prop(adapter, "name") or None) if adapter is not None else None
    if name is None:
        fail(ErrorNumber.XML_ERROR, "'adapter' name must be specified for scsi hostdev source")
    sub.scsi_adapter = name
    sub.scsi_address = DriveAddress(0, numbers[0], numbers[1], numbers[2])


def _parse_scsi_host(source: etree._Element | None, sub: SubsysSource) -> None:
    protocol = prop(source, "protocol") if source is not None else None
    if protocol is None:
        fail(ErrorNumber.XML_ERROR, "Missing scsi_host subsystem protocol")
    if protocol != "vhost":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, f"Unknown scsi_host subsystem protocol '{protocol}'")
    assert source is not None
    wwpn = prop(source, "wwpn")
    if wwpn is None:
        fail(ErrorNumber.XML_ERROR, "missing vhost-scsi hostdev source wwpn")
    digits = wwpn[4:] if wwpn.startswith("naa.") else ""
    if len(digits) != 16 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        fail(ErrorNumber.XML_ERROR, "malformed 'wwpn' value")
    sub.wwpn = wwpn


def _parse_mdev(node: etree._Element, source: etree._Element | None, sub: SubsysSource) -> None:
    sub.display = _switch(node, "display")
    sub.ramfb = _switch(node, "ramfb")
    address = child(source, "address") if source is not None else None
    if address is None:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "Missing <address> element")
    uuid = prop(address, "uuid")
    if uuid is None:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "Missing 'uuid' attribute for element <address>")
    if not valid_uuid(uuid):
        fail(ErrorNumber.INTERNAL_ERROR, "Cannot parse uuid attribute of element <address>")
    digits = "".join(c for c in uuid if c not in "- ").lower()
    sub.mdev_uuid = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _switch(node: etree._Element, name: str) -> bool | None:
    value = prop_enum(node, name, ("default", "on", "off"), nonzero=True)
    return None if value is None else value == "on"


@dataclass
class HostdevDef(DeviceDef):
    """A parsed ``<hostdev>`` (``virDomainHostdevDef``)."""

    mode: str = "subsystem"
    subsys: SubsysSource | None = None
    caps_type: str | None = None
    caps_value: str | None = None
    caps_ip: IPInfo = field(default_factory=IPInfo)
    readonly: bool = False
    shareable: bool = False
    info: DeviceInfo = field(default_factory=DeviceInfo)

    @property
    def is_scsi(self) -> bool:
        """``virHostdevIsSCSIDevice``."""
        return self.subsys is not None and self.subsys.type == "scsi"

    def assign_address(self, used: set[DriveAddress]) -> None:
        """``virDomainHostdevAssignAddress``: the first free unit of the first controller."""
        if not self.is_scsi or self.info.address_type != "none":
            return
        controller = 0
        while True:
            for unit in range(_MAX_SCSI_UNITS):
                candidate = DriveAddress(controller, 0, 0, unit)
                if candidate not in used:
                    self.info.set_drive(*candidate)
                    used.add(candidate)
                    return
            controller += 1

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainHostdevDefValidate`` (the ``unassigned`` address type is allowed)."""
        _check_address(self)
        if self.subsys is not None and self.subsys.sgio == "unfiltered":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "unfiltered sgio is no longer supported")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainHostdevDefFormat``."""
        if self.subsys is not None:
            sub = self.subsys
            attrs: list[tuple[str, str | int | None]] = [
                ("mode", "subsystem"),
                ("type", sub.type),
                ("managed", "yes" if sub.managed else "no"),
            ]
            if sub.type == "scsi":
                attrs += [("sgio", sub.sgio), ("rawio", yesno(sub.rawio))]
            if sub.type in ("scsi_host", "mdev"):
                attrs.append(("model", sub.model))
            if sub.type == "mdev":
                attrs += [("display", _onoff(sub.display)), ("ramfb", _onoff(sub.ramfb))]
            kids = [sub.driver_element(), sub.source_element(with_type=False)]
        else:
            attrs = [("mode", "capabilities"), ("type", self.caps_type)]
            tag = _CAPS_CHILD[self.caps_type or "storage"]
            kids = [element("source", kids=[element(tag, text=self.caps_value)])]
            if self.caps_type == "net":
                kids.extend(self.caps_ip.elements())
        if self.readonly:
            kids.append(element("readonly"))
        if self.shareable:
            kids.append(element("shareable"))
        kids.extend(self.info.elements())
        return element("hostdev", attrs, kids)


def _onoff(value: bool | None) -> str | None:
    return None if value is None else ("on" if value else "off")


def check_duplicate_hostdevs(
    hostdevs: list[HostdevDef], interface_sources: Iterable[SubsysSource] = ()
) -> None:
    """``virDomainDefHostdevValidate``: no host device may be assigned twice.

    libvirt's list of host devices also holds the devices of ``<interface
    type='hostdev'>`` (added as those are parsed, before the ``<hostdev>``
    elements), given as *interface_sources*.
    """
    devices: list[SubsysSource | tuple[str | None, str | None]] = list(interface_sources)
    for hostdev in hostdevs:
        if hostdev.subsys is not None:
            devices.append(hostdev.subsys)
        else:
            devices.append((hostdev.caps_type, hostdev.caps_value))
    for i, first in enumerate(devices):
        for second in devices[i + 1 :]:
            if _same_device(first, second):
                fail(ErrorNumber.XML_ERROR, "Hostdev already exists in the domain configuration")


def _same_device(
    first: SubsysSource | tuple[str | None, str | None],
    second: SubsysSource | tuple[str | None, str | None],
) -> bool:
    """``virDomainHostdevMatch``."""
    if isinstance(first, tuple) or isinstance(second, tuple):
        # virDomainHostdevMatchCaps: the same block, char or interface.
        return first == second
    if first.type != second.type:
        return False
    if first.type == "usb":  # virDomainHostdevMatchSubsysUSB
        if first.usb_bus and first.usb_device:
            return (first.usb_bus, first.usb_device) == (second.usb_bus, second.usb_device)
        return (first.usb_vendor, first.usb_product) == (second.usb_vendor, second.usb_product)
    return first.identity() == second.identity()


class Hostdev(DeviceModel):
    """A ``<hostdev>`` element."""

    TAG = "hostdev"
    XML_ORDER = {
        "": ("@mode", "@type", "@managed", "@sgio", "@rawio", "@model", "driver", "source",
             "readonly", "shareable", "boot", "alias", "rom", "acpi", "address"),
    }  # fmt: skip

    mode = XMLProperty("./@mode", doc="``subsystem`` (default) or ``capabilities``.")
    type = XMLProperty("./@type", doc="``pci``, ``usb``, ``scsi``, ``scsi_host``, ``mdev``...")
    managed = XMLProperty("./@managed", doc="``yes`` to let libvirt detach the host device.")
    driver_name = XMLProperty("./driver/@name", doc="The PCI backend (``vfio``).")
    boot_order = XMLProperty("./boot/@order", doc="Position in the boot order.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The guest-side device address.")
    source_address = XMLChild(Address, "./source/address", doc="The host-side address.")

    def parse(self, ctx: DeviceContext | None = None) -> HostdevDef:
        """``virDomainHostdevDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        hostdev = HostdevDef()
        mode = prop(node, "mode")
        if mode is not None and mode not in ("subsystem", "capabilities"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown hostdev mode '{mode}'")
        kind = prop(node, "type")
        if mode == "capabilities":
            hostdev.mode = mode
            self._parse_caps(node, kind, hostdev)
        else:
            hostdev.subsys = parse_subsys(node, kind)
            if hostdev.subsys.type == "scsi":
                hostdev.readonly = child(node, "readonly") is not None
                hostdev.shareable = child(node, "shareable") is not None
        hostdev.info = DeviceInfo.parse(node, ctx, boot=True, rom=True)
        return hostdev

    @staticmethod
    def _parse_caps(node: etree._Element, kind: str | None, hostdev: HostdevDef) -> None:
        if kind is None:
            fail(ErrorNumber.XML_ERROR, "missing source address type")
        if kind not in CAPS_TYPES:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED, f"unknown host device source address type '{kind}'"
            )
        hostdev.caps_type = kind
        source = child(node, "source")
        if source is None:
            fail(ErrorNumber.XML_ERROR, "Missing <source> element in hostdev device")
        value = text_of(child(source, _CAPS_CHILD[kind]))
        if value is None:
            what = {"storage": "block", "misc": "char", "net": "interface"}[kind]
            device = {"storage": "storage", "misc": "character", "net": "net"}[kind]
            fail(ErrorNumber.XML_ERROR, f"Missing <{what}> element in hostdev {device} device")
        hostdev.caps_value = value
        if kind == "net":
            hostdev.caps_ip = parse_ip_info(node, "Domain hostdev device")


def _check_address(hostdev: HostdevDef) -> None:
    """The address types each kind of host device may use."""
    if hostdev.subsys is None:
        return
    kind = hostdev.subsys.type
    address = hostdev.info.address_type
    if kind == "pci" and address not in ("none", "pci", "unassigned"):
        fail(
            ErrorNumber.INTERNAL_ERROR,
            "PCI host devices must use 'pci' or 'unassigned' address type",
        )
    if kind == "scsi" and address not in ("none", "drive"):
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "SCSI host device must use 'drive' address type")
    if kind == "scsi_host" and address not in ("none", "pci", "ccw"):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "SCSI_host host device must use 'pci' or 'ccw' address type",
        )
