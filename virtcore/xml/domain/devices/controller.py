"""The ``<controller>`` device: the buses other devices plug into.

::

    <controller type='scsi' index='0' model='virtio-scsi'>
      <driver queues='4' iothread='1'/>
    </controller>
    <controller type='usb' index='0' model='ich9-uhci1'>
      <master startport='0'/>
    </controller>
    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='1' port='0x10'/>
    </controller>

:meth:`Controller.parse` reads a controller as libvirt 9.0's
``virDomainControllerDefParseXML`` does. The domain-wide rules live here
too, used by the ``<devices>`` container: the order libvirt keeps
controllers in (:func:`insert_controller`, sorted by type and index as
they are parsed; implicit ones appended), the indexes it assigns to
controllers that have none (:func:`assign_indexes`), the implicit
controllers it adds for disks, hostdevs, channels and smartcards
(:func:`ensure_controller`), and its checks for duplicate indexes and USB
companions (:func:`check_controllers`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import INT, XMLChild, XMLProperty
from virtcore.xml.domain.devices.address import Address, DeviceInfo
from virtcore.xml.domain.devices.support import (
    UNASSIGNED,
    DeviceContext,
    DeviceDef,
    DeviceModel,
    VirtioOptions,
    child,
    children,
    element,
    fail,
    field_defaults,
    onoff,
    optional_element,
    prop,
    prop_enum,
    prop_int,
    prop_switch,
    prop_uint,
    text_of,
    virtio_attrs,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.units import parse_int, parse_scaled

__all__ = [
    "MODELS",
    "TYPES",
    "Controller",
    "ControllerDef",
    "assign_indexes",
    "check_controllers",
    "ensure_controller",
    "insert_controller",
]

logger = logging.getLogger(__name__)

TYPES = ("ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb", "pci", "xenbus", "isa")
"""``virDomainControllerType``."""
MODELS: dict[str, tuple[str, ...]] = {
    "scsi": (
        "auto", "buslogic", "lsilogic", "lsisas1068", "vmpvscsi", "ibmvscsi", "virtio-scsi",
        "lsisas1078", "virtio-transitional", "virtio-non-transitional", "ncr53c90",
        "am53c974", "dc390",
    ),
    "usb": (
        "piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2",
        "ich9-uhci3", "vt82c686b-uhci", "pci-ohci", "nec-xhci", "qusb1", "qusb2",
        "qemu-xhci", "none",
    ),
    "pci": (
        "pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge", "pcie-to-pci-bridge",
        "pcie-root-port", "pcie-switch-upstream-port", "pcie-switch-downstream-port",
        "pci-expander-bus", "pcie-expander-bus",
    ),
    "ide": ("piix3", "piix4", "ich6"),
    "virtio-serial": ("virtio", "virtio-transitional", "virtio-non-transitional"),
    "isa": (),
}  # fmt: skip
"""Model names per controller type (types missing here take no model)."""
PCI_MODEL_NAMES = (
    "none", "pci-bridge", "i82801b11-bridge", "ioh3420", "x3130-upstream",
    "xio3130-downstream", "pxb", "pxb-pcie", "pcie-root-port", "spapr-pci-host-bridge",
    "pcie-pci-bridge",
)  # fmt: skip
_COMPANION_PORTS = {"ich9-uhci1": 0, "ich9-uhci2": 2, "ich9-uhci3": 4}
_USB2 = ("ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3")
_VIRTIO_SCSI = ("virtio-scsi", "virtio-transitional", "virtio-non-transitional")


@dataclass
class ControllerDef(DeviceDef):
    """A parsed ``<controller>`` (``virDomainControllerDef``); ``index`` -1 until assigned."""

    type: str
    index: int = -1
    model: str | None = None
    ports: int | None = None
    vectors: int | None = None
    max_grant_frames: int | None = None
    max_event_channels: int | None = None
    driver: dict[str, str] = field(default_factory=dict)
    iothread: int = 0
    virtio: VirtioOptions | None = None
    model_name: str | None = None
    target: dict[str, str] = field(default_factory=dict)
    numa_node: int | None = None
    pcihole64: int | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    @property
    def is_usb2(self) -> bool:
        """Whether this is one of the ICH9 USB2 controllers (EHCI and its UHCI companions)."""
        return self.type == "usb" and self.model in _USB2

    def validate(self, ctx: DeviceContext) -> None:
        """The device-info checks, then ``virDomainControllerDefValidate``."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()
        if self.type != "pci":
            return
        if self.model in ("pci-root", "pcie-root") and self.info.address_type != "none":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "pci-root and pcie-root controllers should not have an address",
            )
        if self.index > 255:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"PCI controller index {self.index} too high, maximum is 255",
            )
        target = {name: int(value, 0) for name, value in self.target.items() if name != "hotplug"}
        if "index" in target:
            self._check_range("target index", target["index"], 0, 30)
            if (self.index == 0) != (target["index"] == 0):
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "Only the PCI controller with index 0 can have target index 0, and vice versa",
                )
        for name, low, high in (
            ("chassisNr", 1, 255),
            ("chassis", 0, 255),
            ("port", 0, 255),
            ("busNr", 1, 254),
        ):
            if name in target:
                self._check_range(name, target[name], low, high)
        if self.numa_node is not None and self.index == 0:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "The PCI controller with index=0 can't be associated with a NUMA node",
            )

    @staticmethod
    def _check_range(label: str, value: int, low: int, high: int) -> None:
        if not low <= value <= high:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"PCI controller {label} '{value}' out of range - must be {low}-{high}",
            )

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainControllerDefPostParse``."""
        if self.iothread and self.model not in _VIRTIO_SCSI:
            fail(
                ErrorNumber.XML_ERROR,
                "'iothread' attribute only supported for virtio scsi controllers",
            )

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainControllerDefFormat``."""
        attrs: list[tuple[str, str | int | None]] = [
            ("type", self.type),
            ("index", self.index),
            ("model", self.model),
        ]
        if self.type in ("virtio-serial", "usb"):
            attrs.append(("ports", self.ports))
        if self.type == "virtio-serial":
            attrs.append(("vectors", self.vectors))
        if self.type == "xenbus":
            attrs += [
                ("maxGrantFrames", self.max_grant_frames),
                ("maxEventChannels", self.max_event_channels),
            ]
        kids: list[OutNode | None] = []
        if self.type == "pci":
            if self.model_name is not None:
                kids.append(element("model", [("name", self.model_name)]))
            if self.target or self.numa_node is not None:
                node = (
                    [element("node", text=str(self.numa_node))]
                    if self.numa_node is not None
                    else []
                )
                kids.append(element("target", list(self.target.items()), node))
        if self.driver or self.iothread or self.virtio is not None:
            driver: list[tuple[str, str | int | None]] = [
                (name, self.driver.get(name)) for name in _DRIVER_ORDER
            ]
            driver.append(("iothread", self.iothread or None))
            kids.append(optional_element("driver", driver + virtio_attrs(self.virtio)))
        kids += self.info.elements()
        if self.type == "pci" and self.pcihole64 is not None:
            kids.append(element("pcihole64", [("unit", "KiB")], text=str(self.pcihole64)))
        return element("controller", attrs, kids)


_DRIVER_ORDER = ("queues", "cmd_per_lun", "max_sectors", "ioeventfd")
_TARGET_ORDER = ("chassisNr", "chassis", "port", "busNr", "index", "hotplug")


class Controller(DeviceModel):
    """A ``<controller>`` element."""

    TAG = "controller"
    XML_ORDER = {
        "": ("@type", "@index", "@model", "@ports", "@vectors", "model", "target", "driver",
             "alias", "master", "address", "pcihole64"),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="The bus type (``scsi``, ``usb``, ``pci``, ...).")
    index = XMLProperty("./@index", INT, doc="The controller number among its type.")
    model = XMLProperty("./@model", doc="The emulated hardware (``virtio-scsi``, ...).")
    ports = XMLProperty("./@ports", INT, doc="Ports of a USB or virtio-serial controller.")
    queues = XMLProperty("./driver/@queues", INT, doc="Virtqueues of a virtio-scsi controller.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The device address.")

    def parse(self, ctx: DeviceContext | None = None) -> ControllerDef:
        """``virDomainControllerDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> ControllerDef:
        """:meth:`parse` of *node*, without a model around it."""
        kind = prop_enum(node, "type", TYPES) or "ide"
        cont = ControllerDef(type=kind)
        model = prop(node, "model")
        if model is not None:
            if model not in MODELS.get(kind, ()):
                fail(ErrorNumber.CONFIG_UNSUPPORTED, f"Unknown model type '{model}'")
            cont.model = model
        index = prop_int(node, "index", nonnegative=True)
        cont.index = -1 if index is None else index
        driver = child(node, "driver")
        if driver is not None:
            cls._parse_driver(driver, cont)
        _parse_pci_children(node, cont)
        if not (kind == "usb" and model == "none"):
            cont.info = DeviceInfo.parse(node, ctx)
        ports = prop_int(node, "ports", nonnegative=True)
        if kind == "virtio-serial":
            cont.ports = ports
            cont.vectors = prop_int(node, "vectors", nonnegative=True)
        elif kind == "usb":
            cont.ports = ports
            startport = _COMPANION_PORTS.get(model or "")
            if startport is not None and cont.info.master_startport is None:
                cont.info.master_startport = startport
        elif kind == "xenbus":
            cont.max_grant_frames = prop_int(node, "maxGrantFrames", nonnegative=True)
            cont.max_event_channels = prop_int(node, "maxEventChannels", nonnegative=True)
        if kind == "pci":
            cls._parse_pci(node, cont)
        return cont

    @staticmethod
    def _parse_driver(driver: etree._Element, cont: ControllerDef) -> None:
        for name in ("queues", "cmd_per_lun", "max_sectors"):
            number = prop_uint(driver, name)
            if number:
                cont.driver[name] = str(number)
        ioeventfd = prop_switch(driver, "ioeventfd")
        if ioeventfd is not None:
            cont.driver["ioeventfd"] = onoff(ioeventfd) or ""
        cont.iothread = prop_uint(driver, "iothread") or 0
        cont.virtio = VirtioOptions.parse(driver)

    @staticmethod
    def _parse_pci(node: etree._Element, cont: ControllerDef) -> None:
        if cont.model in ("pci-root", "pcie-root"):
            hole = child(node, "pcihole64")
            if hole is not None:
                size = parse_scaled(
                    text_of(hole), prop(hole, "unit"), where="./pcihole64", scale=1024
                )
                if size is not None:
                    cont.pcihole64 = -(-size // 1024)


def _parse_pci_children(node: etree._Element, cont: ControllerDef) -> None:
    models = children(node, "model")
    targets = children(node, "target")
    if len(models) > 1:
        fail(
            ErrorNumber.XML_ERROR,
            "Multiple <model> elements in controller definition not allowed",
        )
    if len(targets) > 1:
        fail(
            ErrorNumber.XML_ERROR,
            "Multiple <target> elements in controller definition not allowed",
        )
    if cont.type != "pci":
        return
    if models:
        name = prop_enum(models[0], "name", PCI_MODEL_NAMES)
        cont.model_name = None if name == "none" else name
    if not targets:
        return
    target = targets[0]
    for name in _TARGET_ORDER:
        if name == "hotplug":
            hotplug = prop_switch(target, "hotplug")
            if hotplug is not None:
                cont.target["hotplug"] = onoff(hotplug) or ""
            continue
        value = prop_int(target, name, base=0, nonnegative=True)
        if value is not None:
            cont.target[name] = f"0x{value:x}" if name == "port" else str(value)
    numa = text_of(child(target, "node"))
    if numa is not None:
        try:
            cont.numa_node = parse_int(numa)
        except ValueError:
            cont.numa_node = -1
        if cont.numa_node < 0:
            fail(ErrorNumber.XML_ERROR, "invalid NUMA node in target")


# -- domain-wide rules --------------------------------------------------------------------


def insert_controller(controllers: list[ControllerDef], new: ControllerDef) -> None:
    """``virDomainControllerInsertPreAlloced``: keep controllers grouped and ordered by index."""
    insert_at = -1
    for position in range(len(controllers) - 1, -1, -1):
        current = controllers[position]
        if current.type != new.type:
            continue
        if new.index == -1:
            insert_at = position + 1
            break
        if current.index > new.index or (
            new.info.master_startport is None
            and current.info.master_startport is not None
            and current.index == new.index
        ):
            insert_at = position
        elif insert_at == -1:
            insert_at = position + 1
    if insert_at == -1:
        controllers.append(new)
    else:
        controllers.insert(insert_at, new)


def _unused_index(controllers: Sequence[ControllerDef], kind: str) -> int:
    used = {c.index for c in controllers if c.type == kind}
    index = 0
    while index in used:
        index += 1
    return index


def assign_indexes(controllers: list[ControllerDef]) -> None:
    """``virDomainAssignControllerIndexes``: the lowest free index, USB2 companions grouped."""
    for position, cont in enumerate(controllers):
        if cont.index != -1:
            continue
        prev: ControllerDef | None = None
        if position > 0 and cont.is_usb2:
            candidates = [c for c in controllers[:position] if c.type == "usb"]
            prev = candidates[-1] if candidates else None
            if prev is not None and not prev.is_usb2:
                prev = None
            if prev is not None and any(
                c.type == "usb" and c.index == prev.index and c.model == cont.model
                for c in controllers
            ):
                prev = None
            if prev is not None:
                cont.index = prev.index
        if prev is None:
            cont.index = _unused_index(controllers, cont.type)


def ensure_controller(
    controllers: list[ControllerDef], kind: str, index: int, model: str | None = None
) -> None:
    """``virDomainDefMaybeAddController``: append controller *kind*/*index* if it is missing."""
    for cont in controllers:
        if cont.type == kind and cont.index == index:
            return
    controllers.append(_new_controller(kind, index, model))


_CONTROLLER_TEMPLATE = field_defaults(ControllerDef)
_new_object = object.__new__


def _new_controller(kind: str, index: int, model: str | None) -> ControllerDef:
    """``ControllerDef(type=kind, index=index, model=model)`` without the generated
    ``__init__`` (most domains get an implicit controller; the record has many fields)."""
    cont = _new_object(ControllerDef)
    values = _CONTROLLER_TEMPLATE.copy()
    values["type"] = kind
    values["index"] = index
    values["model"] = model
    values["driver"] = {}
    values["target"] = {}
    values["info"] = DeviceInfo()
    cont.__dict__ = values
    return cont


def check_controllers(controllers: Sequence[ControllerDef]) -> None:
    """Duplicate indexes (``virDomainDefRejectDuplicateControllers``) and USB companions."""
    seen: set[tuple[str, int]] = set()
    for cont in controllers:
        if cont.type == "usb":
            continue
        key = (cont.type, cont.index)
        if key in seen:
            fail(
                ErrorNumber.XML_ERROR,
                f"Multiple '{cont.type}' controllers with index '{cont.index}'",
            )
        seen.add(key)


def check_usb_masters(controllers: Sequence[ControllerDef]) -> None:
    """USB companion controllers need a controller that is no companion."""
    usb = [c for c in controllers if c.type == "usb"]
    if usb and all(c.info.master_startport is not None for c in usb):
        fail(ErrorNumber.XML_DETAIL, "No master USB controller specified")


def check_usb_none(controllers: Sequence[ControllerDef]) -> None:
    """A ``model='none'`` USB controller excludes any other USB controller."""
    usb_none = False
    usb_other = False
    for cont in controllers:
        if cont.type != "usb":
            continue
        if cont.model == "none":
            if usb_other:
                fail(
                    ErrorNumber.XML_DETAIL,
                    "Can't add another USB controller: USB is disabled for this domain",
                )
            usb_none = True
        else:
            if usb_none:
                fail(
                    ErrorNumber.XML_DETAIL,
                    "Can't add another USB controller: USB is disabled for this domain",
                )
            usb_other = True


def has_usb(controllers: Sequence[ControllerDef]) -> bool:
    """``virDomainDefHasUSB``: a USB controller that is not ``model='none'``."""
    return any(c.type == "usb" and c.model != "none" for c in controllers)
