"""Device addresses, aliases, boot order and ROM settings: what every device carries.

Every device element may end with the same children, which libvirt reads in
``virDomainDeviceInfoParseXML`` and writes in ``virDomainDeviceInfoFormat``,
in this order::

    <boot order='1' loadparm='A.B'/>          (disks, interfaces, hostdevs, redirdevs)
    <alias name='ua-disk0'/>
    <master startport='0'/>                   (USB companion controllers)
    <rom enabled='yes' bar='on' file='/x'/>   (interfaces, hostdevs)
    <acpi index='3'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>

Two views of this are provided:

* :class:`Address` - a typed view of an ``<address>`` element for programs
  (``addr.pci()``, ``addr.set_drive(0, 0, 0, 1)``);
* :class:`DeviceInfo` - the parsed form the device definitions keep, read
  with libvirt's checks and wording (``Invalid PCI address slot='0x20',
  must be <= 0x1F``; ``loadparm value '...' must be between 1 and 8
  characters``) and written back as libvirt writes it. It extends the
  shared :class:`~virtcore.xml.domain.devices.support.DeviceInfo` with boot
  order and ROM settings and libvirt's exact ``<master>`` and ``<zpci>``
  rules.

Aliases: on define (an inactive parse) libvirt keeps only *user* aliases,
``ua-`` followed by letters, digits, ``_`` and ``-``; other aliases are
silently dropped. Two devices may not share an alias (checked by the
``<devices>`` container with :func:`check_unique_aliases`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import ONOFF, UINT, Converter, XMLNode, XMLProperty
from virtcore.xml.domain.devices import support
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    child,
    element,
    fail,
    first_children,
    prop,
    prop_switch,
    prop_tristate,
    prop_uint,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "INFO_CHILDREN",
    "Address",
    "DeviceInfo",
    "DriveAddress",
    "PCIAddress",
    "check_unique_aliases",
    "is_user_alias",
]

logger = logging.getLogger(__name__)

_USER_ALIAS = re.compile(r"ua-[A-Za-z0-9_-]*\Z")
_LOADPARM = re.compile(r"[A-Z0-9. ]*\Z")


def is_user_alias(alias: str) -> bool:
    """Whether *alias* is a user alias libvirt keeps on define (``ua-`` + ``[A-Za-z0-9_-]``)."""
    return _USER_ALIAS.match(alias) is not None


class PCIAddress(NamedTuple):
    """A PCI address: domain, bus, slot and function numbers."""

    domain: int
    bus: int
    slot: int
    function: int


class DriveAddress(NamedTuple):
    """A drive address on a disk controller (IDE, SCSI, SATA, FDC)."""

    controller: int
    bus: int
    target: int
    unit: int


class _Base0Hex(Converter[int]):
    """A number read like C's ``strtoul(..., 0)``, written in hexadecimal (``0x05``)."""

    expected = "non-negative integer value"

    def __init__(self, width: int) -> None:
        self.width = width

    def parse(self, text: str) -> int:
        return units.parse_uint(text, 0)

    def format(self, value: int) -> str:
        return f"0x{value:0{self.width}x}"


class Address(XMLNode):
    """A device ``<address>`` element of any type.

    The attributes mean different things per ``type`` (``bus`` is a hex PCI
    bus or a decimal drive bus), so the generic properties are strings and
    :meth:`pci`, :meth:`drive` and their setters give typed access.
    """

    TAG = "address"
    XML_ORDER = {
        "": (
            "@type", "@domain", "@controller", "@cssid", "@ssid", "@devno", "@iobase",
            "@irq", "@bus", "@target", "@slot", "@function", "@unit", "@port",
            "@multifunction", "@reg", "@base", "zpci",
        ),
        "zpci": ("@uid", "@fid"),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="``pci``, ``drive``, ``usb``, ``ccw``, ...")
    domain = XMLProperty("./@domain", _Base0Hex(4), doc="PCI domain.")
    bus = XMLProperty("./@bus", doc="Bus number (hex for PCI, decimal otherwise).")
    slot = XMLProperty("./@slot", doc="PCI slot or CCID/DIMM slot.")
    function = XMLProperty("./@function", doc="PCI function.")
    multifunction = XMLProperty("./@multifunction", ONOFF, doc="PCI multifunction.")
    controller = XMLProperty("./@controller", UINT, doc="Drive/virtio-serial/CCID controller.")
    target = XMLProperty("./@target", UINT, doc="Drive target.")
    unit = XMLProperty("./@unit", UINT, doc="Drive unit.")
    port = XMLProperty("./@port", doc="USB port path (``1.2``) or virtio-serial port.")
    reg = XMLProperty("./@reg", doc="spapr-vio register (hex).")
    cssid = XMLProperty("./@cssid", doc="CCW channel subsystem id.")
    ssid = XMLProperty("./@ssid", doc="CCW subchannel set id.")
    devno = XMLProperty("./@devno", doc="CCW device number.")
    iobase = XMLProperty("./@iobase", doc="ISA I/O base (hex).")
    irq = XMLProperty("./@irq", doc="ISA interrupt (hex).")
    base = XMLProperty("./@base", doc="DIMM base address (hex).")
    zpci_uid = XMLProperty("./zpci/@uid", doc="zPCI user id.")
    zpci_fid = XMLProperty("./zpci/@fid", doc="zPCI function id.")

    def _number(self, name: str, base: int) -> int:
        text = self.element.get(name) if self.exists else None
        if text is None:
            return 0
        try:
            return units.parse_uint(text, base)
        except ValueError:
            fail(
                ErrorNumber.XML_ERROR,
                f"Invalid value for attribute '{name}' in element 'address': '{text}'. "
                "Expected non-negative integer value",
                ErrorDomain.XML,
            )

    def pci(self) -> PCIAddress | None:
        """The PCI address (numbers read as libvirt reads them), or None for other types.

        Host-side addresses (``<hostdev><source><address domain=...>``) have
        no ``type``; they read as PCI addresses too.
        """
        if self.type not in (None, "pci") or not self.exists:
            return None
        return PCIAddress(*(self._number(n, 0) for n in ("domain", "bus", "slot", "function")))

    def set_pci(self, domain: int, bus: int, slot: int, function: int = 0) -> None:
        """Make this a PCI address, written as libvirt writes one."""
        self._reset("pci")
        self.domain = domain
        self.bus = f"0x{bus:02x}"
        self.slot = f"0x{slot:02x}"
        self.function = f"0x{function}"

    def drive(self) -> DriveAddress | None:
        """The drive address, or None for other types."""
        if self.type != "drive":
            return None
        return DriveAddress(*(self._number(n, 10) for n in ("controller", "bus", "target", "unit")))

    def set_drive(self, controller: int, bus: int, target: int, unit: int) -> None:
        """Make this a drive address."""
        self._reset("drive")
        self.controller = controller
        self.bus = str(bus)
        self.target = target
        self.unit = unit

    def _reset(self, kind: str) -> None:
        node = self.element
        for name in list(node.attrib):
            del node.attrib[name]
        for kid in list(node):
            node.remove(kid)
        self.type = kind


INFO_CHILDREN = frozenset({"boot", "alias", "master", "rom", "acpi", "address"})
"""The children :meth:`DeviceInfo.parse` reads: a device with none of them has the
default :class:`DeviceInfo`."""


@dataclass
class DeviceInfo(support.DeviceInfo):
    """A device's parsed boot order, alias, USB master, ROM, ACPI index and address.

    ``boot_order`` and the ROM settings are only read for the devices
    libvirt reads them for (``boot=True``/``rom=True`` in :meth:`parse`).
    """

    boot_order: int | None = None
    loadparm: str | None = None
    rom_enabled: bool | None = None
    rom_bar: bool | None = None
    rom_file: str | None = None

    @classmethod
    def parse(
        cls,
        node: etree._Element,
        ctx: DeviceContext,
        *,
        boot: bool = False,
        rom: bool = False,
        kids: dict[str, etree._Element] | None = None,
    ) -> Self:
        """``virDomainDeviceInfoParseXML`` with libvirt's ``ALLOW_BOOT``/``ALLOW_ROM`` flags.

        *kids* is :func:`~virtcore.xml.domain.devices.support.first_children` of
        *node* when the caller has it already.
        """
        info = cls()
        if kids is None:
            if not len(node):
                return info  # nothing to read: no child element at all
            kids = first_children(node)
        if INFO_CHILDREN.isdisjoint(kids):
            return info  # most devices have none of them
        alias_node = kids.get("alias")
        alias = prop(alias_node, "name") if alias_node is not None else None
        if alias and (not ctx.inactive or is_user_alias(alias)):
            info.alias = alias
        master = kids.get("master")
        if master is not None:
            # virDomainDeviceUSBMasterParseXML: an absent start port is port 0.
            info.master_startport = prop_uint(master, "startport") or 0
        if boot:
            boot_node = kids.get("boot")
            if boot_node is not None:
                info._parse_boot(boot_node)
        if rom:
            rom_node = kids.get("rom")
            if rom_node is not None:
                info._parse_rom(rom_node)
        acpi = kids.get("acpi")
        if acpi is not None:
            info.acpi_index = prop_uint(acpi, "index", nonzero=True)
        address = kids.get("address")
        if address is not None:
            info._parse_address(address)
            if info.address_type == "pci":
                info._parse_zpci(address)
        return info

    def _parse_boot(self, node: etree._Element) -> None:
        self.boot_order = prop_uint(node, "order", required=True, nonzero=True)
        loadparm = prop(node, "loadparm")
        if loadparm is None:
            return
        # virStringToUpper also turns '-' into '_'.
        upper = loadparm.upper().replace("-", "_")
        if not 1 <= len(upper) <= 8:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                f"loadparm value '{upper}' must be between 1 and 8 characters",
            )
        if not _LOADPARM.match(upper):
            fail(
                ErrorNumber.INTERNAL_ERROR,
                f"invalid loadparm value '{upper}', expecting chars in set of "
                "[a-zA-Z0-9.] and blank spaces",
            )
        self.loadparm = upper

    def _parse_rom(self, node: etree._Element) -> None:
        self.rom_enabled = prop_tristate(node, "enabled")
        self.rom_bar = prop_switch(node, "bar")
        self.rom_file = prop(node, "file")
        if self.rom_enabled is False and (self.rom_bar is not None or self.rom_file is not None):
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "ROM tuning is not supported when ROM is disabled",
            )

    def _parse_zpci(self, address: etree._Element) -> None:
        zpci = child(address, "zpci")
        self.zpci = None
        if zpci is None:
            return
        uid = prop_uint(zpci, "uid", base=0)
        fid = prop_uint(zpci, "fid", base=0)
        if uid is not None or fid is not None:
            self.zpci = {"uid": f"0x{uid or 0:04x}", "fid": f"0x{fid or 0:08x}"}

    # -- drive addresses ------------------------------------------------------------

    @property
    def drive(self) -> DriveAddress | None:
        """The drive address, when the device has one."""
        if self.address_type != "drive":
            return None
        address = self.address
        return DriveAddress(
            int(address["controller"]),
            int(address["bus"]),
            int(address["target"]),
            int(address["unit"]),
        )

    def set_drive(self, controller: int, bus: int, target: int, unit: int) -> None:
        """Give the device a drive address (as libvirt's address assignment does)."""
        self.address_type = "drive"
        self.address = {
            "controller": str(controller),
            "bus": str(bus),
            "target": str(target),
            "unit": str(unit),
        }
        self.zpci = None

    # -- output ---------------------------------------------------------------------

    def elements(self) -> list[OutNode]:
        """``virDomainDeviceInfoFormat``: the elements libvirt appends to the device."""
        out: list[OutNode] = []
        if self.boot_order:
            out.append(element("boot", [("order", self.boot_order), ("loadparm", self.loadparm)]))
        if self.alias is not None:
            out.append(element("alias", [("name", self.alias)]))
        if self.master_startport is not None:
            out.append(element("master", [("startport", self.master_startport)]))
        if self.rom_enabled is not None or self.rom_bar is not None or self.rom_file is not None:
            attrs = [
                ("enabled", yesno(self.rom_enabled)),
                ("bar", support.onoff(self.rom_bar)),
                ("file", self.rom_file),
            ]
            out.append(element("rom", attrs))
        if self.acpi_index:
            out.append(element("acpi", [("index", self.acpi_index)]))
        if self.address_type not in ("none", "virtio-s390"):
            kids = [element("zpci", list(self.zpci.items()))] if self.zpci else []
            pairs = [("type", self.address_type), *self.address.items()]
            out.append(element("address", pairs, kids))
        return out


def check_unique_aliases(infos: Iterable[support.DeviceInfo]) -> None:
    """libvirt's ``non unique alias detected`` check across all devices of a domain.

    Only user aliases (``ua-``) must be unique (``virDomainDefValidateAliases``):
    the aliases of a running domain's status are the driver's own.
    """
    seen: set[str] = set()
    for info in infos:
        if info.alias is None or not info.alias.startswith("ua-"):
            continue
        if info.alias in seen:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"non unique alias detected: {info.alias}")
        seen.add(info.alias)
