"""Device addresses as the qemu driver assigns them on define (``qemuDomainAssignAddresses``).

:func:`assign_addresses` gives every device of a post-parsed x86 domain
that needs one the address libvirt 9.0 gives it, writing ``<address>``
elements into the document:

* virtio-serial ports for virtio channels (:mod:`.address_usb`);
* PCI addresses (``qemuDomainAssignPCIAddresses``): the chipset's fixed
  slots first (i440fx: the PIIX3 in slot 1 with the IDE controller at 1.1
  and the UHCI USB controller at 1.2, the primary video card in slot 2;
  q35: the SATA controller at 0x1f.2, ICH9 USB2 controllers in slot 0x1d,
  a dmi-to-pci-bridge at 0x1e, ICH9 sound at 0x1b, the primary video card
  at 1.0), then the devices in libvirt's order (PCI controllers,
  interfaces, sound cards, other controllers, virtio disks, PCI host
  devices, the balloon, RNGs, watchdogs, video cards, shared memory,
  virtio inputs, vsock, PCI serial ports). PCIe-capable devices (virtio,
  e1000e, XHCI) need a PCIe port on q35, conventional ones a PCI bridge.
  On q35 a first
  counting pass finds how many ``pcie-root-port`` (and
  ``pcie-to-pci-bridge``) controllers are needed, plus one spare root port
  for hotplug when the document gave no PCI controllers of its own; those
  controllers are added to the document and then placed like the rest.
  PCI controllers get their model names, chassis and port numbers;
* USB ports (:mod:`.address_usb`).

Explicit addresses are kept and reserved. The function returns the
(type, index) of the controllers it added, in the order libvirt appends
them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import XMLError
from virtcore.xml.domain import Domain
from virtcore_qemu.address_pci import PCIAddressSet
from virtcore_qemu.address_usb import assign_usb_addresses, assign_virtio_serial_addresses
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse_devices import machine_of
from virtcore_qemu.postparse_tree import (
    ControllerKey,
    PCIAddress,
    devices_element,
    is_q35,
    pci_address_of,
    set_address,
    sub,
)

__all__ = ["assign_addresses"]

logger = logging.getLogger(__name__)

_VIRTIO_MODELS = frozenset({"virtio", "virtio-transitional", "virtio-non-transitional"})
_PCIE_NICS = frozenset({"virtio", "virtio-transitional", "virtio-non-transitional", "e1000e"})
_NON_PCI_NICS = frozenset({"usb-net", "spapr-vlan", "smc91c111", "lan9118"})
_ISA_SOUND = frozenset({"pcspk", "sb16", "usb"})
_PCIE_CONTROLLERS = {
    ("usb", "qemu-xhci"),
    ("usb", "nec-xhci"),
    ("scsi", "virtio-scsi"),
    ("scsi", "virtio-transitional"),
    ("scsi", "virtio-non-transitional"),
    ("virtio-serial", None),
    ("virtio-serial", "virtio"),
}
_USB2_FUNCTIONS = {"ich9-ehci1": 7, "ich9-uhci1": 0, "ich9-uhci2": 1, "ich9-uhci3": 2}
_PRIMARY_VIDEO_PCI = frozenset({"vga", "cirrus", "qxl", "virtio", "bochs", "vmvga"})
_PCI_MODEL_NAMES = {
    "pci-bridge": "pci-bridge",
    "dmi-to-pci-bridge": "i82801b11-bridge",
    "pcie-root-port": "pcie-root-port",
    "pcie-switch-upstream-port": "x3130-upstream",
    "pcie-switch-downstream-port": "xio3130-downstream",
    "pci-expander-bus": "pxb",
    "pcie-expander-bus": "pxb-pcie",
    "pcie-to-pci-bridge": "pcie-pci-bridge",
}


@dataclass
class _Wanted:
    """A device that wants a PCI address, and the kind of slot it fits."""

    node: etree._Element
    kind: str
    function: int = 0
    companion_of: tuple[str, int] | None = None


def _index(node: etree._Element) -> int:
    return int(node.get("index", "0"))


def _wants_pci(node: etree._Element) -> bool:
    address = node.find("./address")
    return address is None or (address.get("type") == "pci" and address.get("slot") is None)


def assign_addresses(
    domain: Domain, caps: QemuCaps, controller_order: list[ControllerKey] | None = None
) -> list[ControllerKey]:
    """Assign every missing address of *domain*; return the controllers added.

    Controllers are visited in *controller_order* (libvirt's order of its
    definition's controllers; by default the document's), and their
    elements are rearranged in that order.
    """
    devices = devices_element(domain)
    if controller_order is not None:
        order_controllers(devices, controller_order)
    assign_virtio_serial_addresses(devices)
    _assign_spapr_vio(devices)
    added = _assign_pci(devices, machine_of(domain))
    assign_usb_addresses(devices)
    return added


def order_controllers(devices: etree._Element, order: list[ControllerKey]) -> None:
    """Rearrange the ``<controller>`` elements as *order* lists them (others after)."""
    rank: dict[ControllerKey, int] = {}
    for key in order:
        rank.setdefault(key, len(rank))
    nodes = devices.findall("./controller")
    if not nodes:
        return
    ordered = sorted(nodes, key=lambda c: rank.get((c.get("type") or "", _index(c)), len(rank)))
    anchor = nodes[0].getprevious()
    for node in nodes:
        devices.remove(node)
    for offset, node in enumerate(ordered):
        if anchor is None:
            devices.insert(offset, node)
        else:
            anchor.addnext(node)
            anchor = node


def _assign_spapr_vio(devices: etree._Element) -> None:
    """``qemuDomainAssignSpaprVIOAddresses``: sPAPR VIO devices get VIO addresses anywhere."""
    used: set[int] = set()
    wanted: list[tuple[etree._Element, int]] = []
    for cont in devices.findall("./controller[@type='scsi']"):
        if cont.get("model") == "ibmvscsi":
            wanted.append((cont, 0x2000))
    for net in devices.findall("./interface"):
        model = net.find("./model")
        if model is not None and model.get("type") == "spapr-vlan":
            wanted.append((net, 0x1000))
    for node, _ in wanted:
        address = node.find("./address")
        if address is not None and address.get("type") == "spapr-vio" and address.get("reg"):
            used.add(int(address.get("reg", "0"), 0))
    for node, default in wanted:
        if node.find("./address") is not None:
            continue
        reg = default
        while reg in used:
            reg += 1
        used.add(reg)
        set_address(node, {"type": "spapr-vio", "reg": f"0x{reg:08x}"})


# -- PCI ---------------------------------------------------------------------------------


def _pci_buses(devices: etree._Element) -> dict[int, str]:
    return {_index(c): c.get("model", "") for c in devices.findall("./controller[@type='pci']")}


def _assign_pci(devices: etree._Element, machine: str) -> list[ControllerKey]:
    q35 = is_q35(machine)
    buses = _pci_buses(devices)
    if not buses:
        if any(True for _ in _wanted(devices, q35)):
            raise XMLError("No PCI buses available", domain=ErrorDomain.DOMAIN)
        return []
    user_max = max(buses)
    added: list[ControllerKey] = []
    counting = PCIAddressSet(buses, dry_run=True, q35=q35)
    _reserve_existing(devices, counting)
    fixed = _reserve_chipset(devices, counting, q35, assign=False)
    if not q35 and not all(bus.fully_reserved() for bus in counting.buses):
        # Room for a bridge to come, so later hotplug can add one.
        counting.next_address("pci")
    groups: set[tuple[str, int]] = set()
    for wanted in _wanted(devices, q35):
        if wanted.node in fixed or wanted.companion_of in groups:
            continue
        if wanted.companion_of is not None:
            groups.add(wanted.companion_of)
        counting.next_address(wanted.kind, function=wanted.function)
    if q35 and user_max <= 0 and len(counting.buses) > user_max + 1:
        # A spare root port for hotplug.
        counting.next_address("pcie")
    for bus in counting.buses[user_max + 1 :]:
        sub(devices, "controller", {"type": "pci", "index": str(bus.index), "model": bus.model})
        added.append(("pci", bus.index))

    final = PCIAddressSet(_pci_buses(devices), dry_run=False, q35=q35)
    _reserve_existing(devices, final)
    final_fixed = _reserve_chipset(devices, final, q35, assign=True)
    placed: dict[tuple[str, int], PCIAddress] = {}
    for wanted in _wanted(devices, q35):
        if wanted.node in final_fixed:
            continue
        if wanted.companion_of is not None and wanted.companion_of in placed:
            first = placed[wanted.companion_of]
            address = PCIAddress(first.bus, first.slot, wanted.function)
            final.reserve(address)
        else:
            address = final.next_address(wanted.kind, function=wanted.function)
            if wanted.companion_of is not None:
                placed[wanted.companion_of] = address
        set_address(wanted.node, address.attributes())
    _mark_multifunction(devices, final)
    _pci_controller_options(devices)
    return added


def _all_with_addresses(devices: etree._Element) -> Iterator[etree._Element]:
    for node in devices:
        if isinstance(node.tag, str) and node.find("./address") is not None:
            yield node


def _reserve_existing(devices: etree._Element, addrs: PCIAddressSet) -> None:
    for node in _all_with_addresses(devices):
        address = pci_address_of(node)
        if address is not None and not _wants_pci(node):
            addrs.reserve(address, aggregate=node.get("model") == "pcie-root-port")


def _reserve_chipset(
    devices: etree._Element, addrs: PCIAddressSet, q35: bool, *, assign: bool
) -> list[etree._Element]:
    """The chipset's fixed slots (``qemuDomainValidateDevicePCISlots{PIIX3,Q35}``).

    Returns the devices placed there (with *assign*, their addresses are written).
    """
    fixed: list[etree._Element] = []
    primary = _primary_video(devices)
    usb2_index: int | None = None
    if q35:
        addrs.reserve(PCIAddress(0, 0x1F, 0), whole=True)
        for cont in devices.findall("./controller"):
            kind, index, model = cont.get("type"), _index(cont), cont.get("model")
            if kind == "sata" and index == 0 and _wants_pci(cont):
                fixed.append(cont)
                if assign:
                    set_address(cont, PCIAddress(0, 0x1F, 2).attributes())
            elif kind == "usb" and model in _USB2_FUNCTIONS and _wants_pci(cont):
                # The first set of USB2 controllers sits in the ICH9's slot 0x1d.
                if usb2_index is None:
                    usb2_index = index
                if index != usb2_index:
                    continue
                fixed.append(cont)
                function = _USB2_FUNCTIONS[model]
                addrs.reserve(PCIAddress(0, 0x1D, function))
                if assign:
                    set_address(
                        cont,
                        PCIAddress(0, 0x1D, function).attributes(),
                        multifunction="on" if model == "ich9-uhci1" else None,
                    )
        for cont in devices.findall("./controller[@type='pci']"):
            if cont.get("model") == "dmi-to-pci-bridge" and _wants_pci(cont):
                slot = PCIAddress(0, 0x1E, 0)
                if addrs.bus(0) is not None and addrs.buses[0].slot_free(0x1E):
                    addrs.reserve(slot)
                    fixed.append(cont)
                    if assign:
                        set_address(cont, slot.attributes())
                break
        for sound in devices.findall("./sound"):
            if sound.get("model") == "ich9" and _wants_pci(sound):
                slot = PCIAddress(0, 0x1B, 0)
                if addrs.buses[0].slot_free(0x1B):
                    addrs.reserve(slot)
                    fixed.append(sound)
                    if assign:
                        set_address(sound, slot.attributes())
                break
        video_slot = PCIAddress(0, 1, 0)
    else:
        addrs.reserve(PCIAddress(0, 1, 0), whole=True)
        for cont in devices.findall("./controller"):
            kind, index, model = cont.get("type"), _index(cont), cont.get("model")
            if not _wants_pci(cont) or index != 0:
                continue
            if kind == "ide":
                fixed.append(cont)
                if assign:
                    set_address(cont, PCIAddress(0, 1, 1).attributes())
            elif kind == "usb" and model == "piix3-uhci":
                fixed.append(cont)
                if assign:
                    set_address(cont, PCIAddress(0, 1, 2).attributes())
        video_slot = PCIAddress(0, 2, 0)
    if primary is not None and _wants_pci(primary):
        bus = addrs.bus(0)
        fixed.append(primary)
        if bus is not None and bus.slot_free(video_slot.slot):
            addrs.reserve(video_slot)
        else:
            # The primary card still comes before every other device.
            video_slot = addrs.next_address(_video_kind(primary, q35))
        if assign:
            set_address(primary, video_slot.attributes())
    return fixed


def _video_kind(video: etree._Element, q35: bool) -> str:
    card = video.find("./model")
    return "pcie" if q35 and card is not None and card.get("type") == "virtio" else "pci"


def _primary_video(devices: etree._Element) -> etree._Element | None:
    videos = devices.findall("./video")
    if not videos:
        return None
    primary = next(
        (v for v in videos if (m := v.find("./model")) is not None and m.get("primary") == "yes"),
        videos[0],
    )
    model = primary.find("./model")
    if model is None or model.get("type") not in _PRIMARY_VIDEO_PCI:
        return None
    return primary


def _pci_controller_kind(model: str | None, q35: bool) -> str:
    """The kind of slot a PCI controller of *model* plugs into."""
    kinds = {
        "pcie-root-port": "root-port",
        "pcie-to-pci-bridge": "pcie-to-pci-bridge",
        "dmi-to-pci-bridge": "dmi-to-pci-bridge",
        "pci-bridge": "pci-bridge",
    }
    return kinds.get(model or "", "pcie" if q35 else "pci")


def _wanted(devices: etree._Element, q35: bool) -> Iterator[_Wanted]:
    """The devices without a PCI address, in the order libvirt assigns them."""
    pcie = "pcie" if q35 else "pci"
    controllers = devices.findall("./controller")
    for cont in controllers:
        model = cont.get("model")
        if cont.get("type") != "pci" or model in ("pci-root", "pcie-root") or not _wants_pci(cont):
            continue
        yield _Wanted(cont, _pci_controller_kind(model, q35))
    for fs in devices.findall("./filesystem"):
        if _wants_pci(fs):
            yield _Wanted(fs, pcie)
    for net in devices.findall("./interface"):
        nic = net.find("./model")
        nic_model = nic.get("type") if nic is not None else None
        if net.get("type") == "hostdev" or nic_model in _NON_PCI_NICS or not _wants_pci(net):
            continue
        yield _Wanted(net, pcie if nic_model in _PCIE_NICS else "pci")
    for sound in devices.findall("./sound"):
        if sound.get("model") in _ISA_SOUND or not _wants_pci(sound):
            continue
        yield _Wanted(sound, "pci")
    for cont in controllers:
        ctype, cmodel = cont.get("type"), cont.get("model")
        if ctype in ("pci", "fdc", "ccid", "xenbus", "ide") or not _wants_pci(cont):
            continue
        if ctype == "usb" and cmodel in (None, "none"):
            continue
        if ctype == "sata" and q35 and _index(cont) == 0:
            continue
        if ctype == "usb" and cmodel in _USB2_FUNCTIONS:
            function = _USB2_FUNCTIONS[cmodel or ""]
            yield _Wanted(cont, "pci", function, companion_of=("usb", _index(cont)))
            continue
        yield _Wanted(cont, pcie if (ctype, cmodel) in _PCIE_CONTROLLERS else "pci")
    for disk in devices.findall("./disk"):
        target = disk.find("./target")
        if target is not None and target.get("bus") == "virtio" and _wants_pci(disk):
            yield _Wanted(disk, pcie)
    # Interfaces of type hostdev are host devices too, listed before the others.
    for net in devices.findall("./interface[@type='hostdev']"):
        source = net.find("./source/address")
        if source is not None and source.get("type", "pci") == "pci" and _wants_pci(net):
            yield _Wanted(net, pcie)
    for hostdev in devices.findall("./hostdev"):
        if hostdev.get("type") == "pci" and _wants_pci(hostdev):
            yield _Wanted(hostdev, pcie)
    for balloon in devices.findall("./memballoon"):
        if balloon.get("model") in _VIRTIO_MODELS and _wants_pci(balloon):
            yield _Wanted(balloon, pcie)
    for rng in devices.findall("./rng"):
        if rng.get("model") in _VIRTIO_MODELS and _wants_pci(rng):
            yield _Wanted(rng, pcie)
    for watchdog in devices.findall("./watchdog"):
        if watchdog.get("model") == "i6300esb" and _wants_pci(watchdog):
            yield _Wanted(watchdog, "pci")
    for video in devices.findall("./video"):
        card = video.find("./model")
        card_model = card.get("type") if card is not None else None
        if card_model in (None, "none") or not _wants_pci(video):
            continue
        yield _Wanted(video, _video_kind(video, q35))
    for shmem in devices.findall("./shmem"):
        if _wants_pci(shmem):
            yield _Wanted(shmem, "pci")
    for node in devices.findall("./input"):
        if node.get("bus") == "virtio" and _wants_pci(node):
            yield _Wanted(node, pcie)
    for vsock in devices.findall("./vsock"):
        if vsock.get("model", "virtio") in _VIRTIO_MODELS and _wants_pci(vsock):
            yield _Wanted(vsock, pcie)
    for serial in devices.findall("./serial"):
        target = serial.find("./target")
        if target is not None and target.get("type") == "pci-serial" and _wants_pci(serial):
            yield _Wanted(serial, "pci")


def _mark_multifunction(devices: etree._Element, addrs: PCIAddressSet) -> None:
    """Function 0 of a slot with several functions in use gets ``multifunction='on'``."""
    shared = addrs.set_all_multifunction()
    for node in _all_with_addresses(devices):
        address = pci_address_of(node)
        if address is None or address.function != 0:
            continue
        element = node.find("./address")
        assert element is not None
        if (address.bus, address.slot) in shared and element.get("multifunction") is None:
            element.set("multifunction", "on")


def _pci_controller_options(devices: etree._Element) -> None:
    """Model names, chassis and ports of PCI controllers (after their addresses)."""
    for cont in devices.findall("./controller[@type='pci']"):
        model = cont.get("model") or ""
        index = _index(cont)
        name = _PCI_MODEL_NAMES.get(model)
        if name is not None and cont.find("./model") is None:
            node = etree.Element("model")
            node.set("name", name)
            cont.insert(0, node)
        address = pci_address_of(cont)
        target = cont.find("./target")
        if model == "pci-bridge":
            target = target if target is not None else sub(cont, "target")
            target.set("chassisNr", target.get("chassisNr", str(index)))
        elif model in ("pcie-root-port", "pcie-switch-downstream-port") and address is not None:
            target = target if target is not None else sub(cont, "target")
            target.set("chassis", target.get("chassis", str(index)))
            port = (
                (address.slot << 3) + address.function
                if model == "pcie-root-port"
                else address.slot
            )
            target.set("port", target.get("port", f"0x{port:x}"))
