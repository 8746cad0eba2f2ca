"""Small helpers for editing a domain document's tree during the qemu post-parse.

The post-parse and address assignment work on the document's ``lxml`` tree
(the :class:`~virtcore.xml.domain.Domain` model is a view over it): they add
device elements and ``<address>`` children the way libvirt adds them to its
in-memory definition. These helpers keep that editing uniform: where a new
child goes, how a PCI address is written, how a controller is named.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from virtcore.xml.domain import Domain
from virtcore.xml.domain.devices.controller import ControllerDef

__all__ = [
    "ControllerKey",
    "DefinePaths",
    "PCIAddress",
    "address_of",
    "controller_keys",
    "devices_element",
    "is_i440fx",
    "is_q35",
    "set_address",
    "sub",
]

ControllerKey = tuple[str, int]
"""A controller's identity: (type, index)."""


@dataclass(frozen=True)
class DefinePaths:
    """The driver's directories that show in a defined domain (qemu.conf's defaults).

    A virtio channel socket under *channel_target_dir* is the driver's own
    and is not kept; a read-only UEFI loader gets its variable store in
    *nvram_dir*. The defaults are those of ``qemu:///system``.
    """

    channel_target_dir: str = "/var/lib/libvirt/qemu/channel/target"
    nvram_dir: str = "/var/lib/libvirt/qemu/nvram"


@dataclass(frozen=True, order=True)
class PCIAddress:
    """A PCI address on domain 0 (libvirt's ``virPCIDeviceAddress``)."""

    bus: int
    slot: int
    function: int = 0

    def attributes(self) -> dict[str, str]:
        """The ``<address type='pci'>`` attributes libvirt writes."""
        return {
            "type": "pci",
            "domain": "0x0000",
            "bus": f"0x{self.bus:02x}",
            "slot": f"0x{self.slot:02x}",
            "function": f"0x{self.function:x}",
        }


def is_q35(machine: str | None) -> bool:
    """``qemuDomainIsQ35``: the machine is a q35 (ICH9/PCIe) machine."""
    return machine is not None and (machine == "q35" or machine.startswith("pc-q35"))


def is_i440fx(machine: str | None) -> bool:
    """``qemuDomainIsI440FX``: the machine is an i440fx (PIIX3/PCI) machine."""
    return machine is not None and (
        machine == "pc" or machine.startswith(("pc-i440fx", "pc-0.", "pc-1."))
    )


def sub(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None) -> etree._Element:
    """Append a new ``<tag>`` child with *attrib* to *parent*."""
    child = etree.SubElement(parent, tag)
    for name, value in (attrib or {}).items():
        child.set(name, value)
    return child


def devices_element(domain: Domain) -> etree._Element:
    """The ``<devices>`` element, created when the document has none."""
    root = domain.element
    devices = root.find("./devices")
    if devices is None:
        devices = sub(root, "devices")
    return devices


def controller_keys(controllers: Iterable[ControllerDef]) -> list[ControllerKey]:
    """The (type, index) of each controller, in order."""
    return [(c.type, c.index) for c in controllers]


def address_of(device: etree._Element) -> etree._Element | None:
    """The device's ``<address>`` child, if it has one."""
    return device.find("./address")


def _int(text: str | None) -> int:
    if text is None:
        return 0
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def pci_address_of(device: etree._Element) -> PCIAddress | None:
    """The device's PCI address, or None when it has no ``<address type='pci'>``."""
    address = address_of(device)
    if address is None or address.get("type") != "pci":
        return None
    return PCIAddress(
        _int(address.get("bus")), _int(address.get("slot")), _int(address.get("function"))
    )


def set_address(
    device: etree._Element, attributes: dict[str, str], *, multifunction: str | None = None
) -> None:
    """Give *device* an ``<address>`` with *attributes* (replacing an empty one)."""
    address = address_of(device)
    if address is None:
        address = etree.Element("address")
        device.append(address)
    address.attrib.clear()
    for name, value in attributes.items():
        address.set(name, value)
    if multifunction is not None:
        address.set("multifunction", multifunction)
