"""Shared pieces of the command line builders: the build state, XML reads, device addresses.

:class:`Build` is the state one :func:`~virtcore_qemu.command.build_command`
call threads through the per-family builders: the domain element, caps,
context, the argv being written and facts several families need (the
machine type, controller aliases, the effective boot indexes).

Addresses are written the way libvirt's ``qemuBuildDeviceAddressProps``
writes them: a PCI address becomes ``bus`` (the alias of the bus's
controller: ``pci.0`` or ``pcie.0`` for the root, ``pci.N`` otherwise),
``multifunction`` and ``addr`` (``0xSLOT`` or ``0xSLOT.0xFN``); a USB address
becomes ``bus`` ``usb.0`` (controller alias + ``.0``) and ``port``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InternalError
from virtcore_qemu.command.context import CapsLike, CommandContext

__all__ = [
    "Build",
    "attr_int",
    "pci_props",
    "unsupported",
    "usb_props",
]

logger = logging.getLogger(__name__)


def unsupported(detail: str) -> ConfigUnsupportedError:
    """libvirt's "unsupported configuration: ..." error of the QEMU driver."""
    return ConfigUnsupportedError(detail, domain=ErrorDomain.QEMU)


def attr_int(node: etree._Element | None, name: str, default: int = 0) -> int:
    """Attribute *name* of *node* as libvirt reads numbers (``0x`` hex allowed)."""
    if node is None:
        return default
    raw = node.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw, 0)
    except ValueError:
        raise InternalError(
            f"cannot parse {name} '{raw}' of <{node.tag}>", domain=ErrorDomain.QEMU
        ) from None


@dataclass
class Build:
    """The state of one command line being built."""

    root: etree._Element
    caps: CapsLike
    ctx: CommandContext
    argv: list[str] = field(default_factory=list)
    boot_index: dict[str, int] = field(default_factory=dict)
    """Effective boot index of devices, keyed by :meth:`key`."""
    aliases: dict[etree._Element, str] = field(default_factory=dict)
    """Every device's alias (:mod:`.aliases`): its QEMU id."""

    def alias(self, node: etree._Element) -> str:
        """The alias (QEMU id) of device *node*."""
        alias = self.aliases.get(node)
        if alias is None:
            raise InternalError(f"<{node.tag}> device has no alias", domain=ErrorDomain.QEMU)
        return alias

    @property
    def devices(self) -> etree._Element:
        """``<devices>`` (an empty element when the domain has none)."""
        node = self.root.find("devices")
        return node if node is not None else etree.Element("devices")

    @property
    def machine(self) -> str:
        """The machine type (``pc-i440fx-7.2``)."""
        node = self.root.find("os/type")
        value = node.get("machine") if node is not None else None
        return value or "pc"

    @property
    def is_q35(self) -> bool:
        """Whether the machine is a Q35 (PCIe) machine."""
        return "q35" in self.machine

    def key(self, node: etree._Element) -> str:
        """A stable key of a device element (its path in the document)."""
        return str(node.getroottree().getpath(node))

    def bootindex(self, node: etree._Element) -> int | None:
        """The effective ``bootindex`` of a device, if it has one."""
        return self.boot_index.get(self.key(node)) or None

    def add(self, *args: str) -> None:
        """Append *args* to the command line."""
        self.argv.extend(args)

    def controller(self, kind: str, index: int) -> etree._Element | None:
        """The ``<controller type=kind index=index>`` element, if any."""
        for node in self.devices.findall("controller"):
            if node.get("type") == kind and attr_int(node, "index") == index:
                return node
        return None

    def pci_bus_alias(self, bus: int) -> str:
        """The QEMU id of PCI bus *bus*."""
        node = self.controller("pci", bus)
        if node is not None and node in self.aliases:
            return self.aliases[node]
        if bus == 0:
            return "pcie.0" if self.is_q35 else "pci.0"
        return f"pci.{bus}"

    def usb_alias(self, index: int) -> str:
        """The QEMU id of USB controller *index* (``usb`` for the first)."""
        node = self.controller("usb", index)
        if node is not None and node in self.aliases:
            return self.aliases[node]
        return "usb" if index == 0 else f"usb{index}"


def pci_props(build: Build, node: etree._Element) -> dict[str, Any]:
    """``bus``/``multifunction``/``addr`` of a device's PCI ``<address>``; ``{}`` if none."""
    address = node.find("address")
    if address is None or address.get("type") != "pci":
        return {}
    slot = attr_int(address, "slot")
    function = attr_int(address, "function")
    props: dict[str, Any] = {"bus": build.pci_bus_alias(attr_int(address, "bus"))}
    if address.get("multifunction") == "on":
        props["multifunction"] = True
    props["addr"] = f"0x{slot:x}" if function == 0 else f"0x{slot:x}.0x{function:x}"
    return props


def usb_props(build: Build, node: etree._Element) -> dict[str, Any]:
    """``bus``/``port`` of a device's USB ``<address>``; ``{}`` if none."""
    address = node.find("address")
    if address is None or address.get("type") != "usb":
        return {}
    props: dict[str, Any] = {"bus": f"{build.usb_alias(attr_int(address, 'bus'))}.0"}
    if address.get("port"):
        props["port"] = address.get("port")
    return props
