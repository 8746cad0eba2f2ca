"""USB ports and virtio-serial ports as the qemu driver assigns them on define.

:func:`assign_usb_addresses` is ``qemuDomainAssignUSBAddresses``: every USB
controller that is not a USB2 companion offers its ports (the ``ports``
attribute, or the model's count: 2 for UHCI, 6 for EHCI, 4 for NEC XHCI,
15 for QEMU XHCI...); ports in use by explicit addresses are reserved, then
USB devices without an address take the first free port of the first
controller, by index, in libvirt's device order (hubs, host devices,
disks, smartcard readers, inputs, serial ports, redirected devices, sound
cards). A USB hub is added when there are more USB devices than ports;
USB devices in a domain whose only USB controller is ``model='none'`` are
refused.

:func:`assign_virtio_serial_addresses` is
``qemuDomainAssignVirtioSerialAddresses``: virtio channels without a port
take the first free port (from 1) of their controller, or of the first
virtio-serial controller with room.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, XMLError
from virtcore_qemu.postparse_tree import set_address, sub

__all__ = ["assign_usb_addresses", "assign_virtio_serial_addresses"]

logger = logging.getLogger(__name__)

_USB_PORTS = {
    "piix3-uhci": 2,
    "piix4-uhci": 2,
    "vt82c686b-uhci": 2,
    "ich9-ehci1": 6,
    "ehci": 6,
    "pci-ohci": 3,
    "nec-xhci": 4,
    "qemu-xhci": 15,
    "qusb1": 4,
    "qusb2": 8,
}
_USB2_COMPANIONS = frozenset({"ich9-uhci1", "ich9-uhci2", "ich9-uhci3"})
_VIRTIO_SERIAL_PORTS = 31
_HUB_PORTS = 8


def _index(node: etree._Element) -> int:
    return int(node.get("index", "0"))


def _usb_devices(devices: etree._Element) -> Iterator[etree._Element]:
    """The USB devices in ``virDomainUSBDeviceDefForeach``'s order (hubs excluded)."""
    for net in devices.findall("./interface[@type='hostdev']"):
        source = net.find("./source/address")
        if source is not None and source.get("type") == "usb":
            yield net
    for hostdev in devices.findall("./hostdev"):
        if hostdev.get("type") == "usb":
            yield hostdev
    for disk in devices.findall("./disk"):
        target = disk.find("./target")
        if target is not None and target.get("bus") == "usb":
            yield disk
    yield from devices.findall("./controller[@type='ccid']")
    for node in devices.findall("./input"):
        if node.get("bus") == "usb":
            yield node
    for serial in devices.findall("./serial"):
        target = serial.find("./target")
        if target is not None and target.get("type") == "usb-serial":
            yield serial
    for redir in devices.findall("./redirdev"):
        if redir.get("bus", "usb") == "usb":
            yield redir
    for sound in devices.findall("./sound"):
        if sound.get("model") == "usb":
            yield sound


@dataclass
class _Hub:
    """The ports of a USB controller or hub; a port may hold a hub."""

    used: list[bool]
    hubs: dict[int, _Hub] = field(default_factory=dict)

    def mark(self, path: list[int]) -> None:
        if not path or not 0 < path[0] <= len(self.used):
            return
        if len(path) == 1:
            self.used[path[0] - 1] = True
        elif path[0] in self.hubs:
            self.hubs[path[0]].mark(path[1:])

    def free_port(self) -> list[int] | None:
        """``virDomainUSBAddressFindFreePort``: this level first, then the hubs below."""
        if False in self.used:
            return [self.used.index(False) + 1]
        for port in sorted(self.hubs):
            below = self.hubs[port].free_port()
            if below is not None:
                return [port, *below]
        return None

    def count(self) -> int:
        return len(self.used) + sum(hub.count() for hub in self.hubs.values())


def _usb_path(address: etree._Element) -> list[int]:
    return [int(part) for part in address.get("port", "").split(".") if part.isdigit()]


def assign_usb_addresses(devices: etree._Element) -> None:
    """Give every USB device (and hub) without an address a USB port."""
    buses: dict[int, _Hub] = {}
    for cont in devices.findall("./controller[@type='usb']"):
        model = cont.get("model")
        if model in _USB2_COMPANIONS or model in (None, "none"):
            continue
        count = int(cont.get("ports") or _USB_PORTS.get(model, 0))
        buses[_index(cont)] = _Hub([False] * count)
    usb_devices = list(_usb_devices(devices))
    if not buses:
        _check_usb_enabled(devices, usb_devices)
        return
    hubs = [h for h in devices.findall("./hub") if h.get("type") == "usb"]
    if not hubs and len(usb_devices) > sum(hub.count() for hub in buses.values()):
        hubs.append(sub(devices, "hub", {"type": "usb"}))
    placed = [
        (device, address)
        for device in [*hubs, *usb_devices]
        if (address := device.find("./address")) is not None
        and address.get("type") == "usb"
        and address.get("port")
    ]
    # Hubs first, outermost first, so the ports below them exist.
    placed.sort(key=lambda item: (item[0].tag != "hub", len(_usb_path(item[1]))))
    for device, address in placed:
        bus = buses.get(int(address.get("bus", "0")))
        if bus is None:
            continue
        _check_hub_path(bus, address)
        bus.mark(_usb_path(address))
        if device.tag == "hub":
            _attach_hub(buses, [int(address.get("bus", "0")), *_usb_path(address)])
    for hub in hubs:
        if hub.find("./address") is None:
            path = _assign(buses, hub)
            if path is not None:
                _attach_hub(buses, path)
    for device in usb_devices:
        if device.find("./address") is None and _assign(buses, device) is None:
            logger.debug("no free USB port for %s", device.tag)
            return


def _check_usb_enabled(devices: etree._Element, usb_devices: list[etree._Element]) -> None:
    """``qemuDomainUSBAddressAddHubs``: USB devices need a USB controller that is not ``none``."""
    has_usb = any(
        cont.get("model") != "none" for cont in devices.findall("./controller[@type='usb']")
    )
    hubs = [h for h in devices.findall("./hub") if h.get("type") == "usb"]
    if (usb_devices or hubs) and not has_usb:
        raise ConfigUnsupportedError(
            "USB is disabled for this domain, but USB devices are present in the domain XML",
            domain=ErrorDomain.QEMU,
        )


def _check_hub_path(bus: _Hub, address: etree._Element) -> None:
    """A port below a hub (``1.2``) needs a hub on the ports above it."""
    path = _usb_path(address)
    node = bus
    for depth, port in enumerate(path[:-1]):
        below = node.hubs.get(port)
        if below is None:
            raise XMLError(
                f"there is no hub at port {'.'.join(str(p) for p in path[: depth + 1])} "
                f"in USB address bus: {address.get('bus', '0')} port: {address.get('port')}",
                domain=ErrorDomain.DOMAIN,
            )
        node = below


def _attach_hub(buses: dict[int, _Hub], path: list[int]) -> None:
    bus, ports = path[0], path[1:]
    node = buses.get(bus)
    for port in ports[:-1]:
        if node is None:
            return
        node = node.hubs.get(port)
    if node is not None and ports:
        node.hubs[ports[-1]] = _Hub([False] * _HUB_PORTS)


def _assign(buses: dict[int, _Hub], device: etree._Element) -> list[int] | None:
    for index in sorted(buses):
        path = buses[index].free_port()
        if path is not None:
            buses[index].mark(path)
            port = ".".join(str(p) for p in path)
            set_address(device, {"type": "usb", "bus": str(index), "port": port})
            return [index, *path]
    return None


def assign_virtio_serial_addresses(devices: etree._Element) -> None:
    """Give every virtio channel without a port a virtio-serial port."""
    controllers: dict[int, list[bool]] = {}
    for cont in devices.findall("./controller[@type='virtio-serial']"):
        count = int(cont.get("ports") or _VIRTIO_SERIAL_PORTS)
        controllers[_index(cont)] = [False] * (count + 1)
    channels = [
        chan
        for chan in devices.findall("./channel")
        if (target := chan.find("./target")) is not None and target.get("type") == "virtio"
    ]
    pending: list[tuple[etree._Element, int | None]] = []
    for chan in channels:
        address = chan.find("./address")
        if address is not None and address.get("type") == "virtio-serial":
            controller = int(address.get("controller", "0"))
            port = address.get("port")
            if port is not None:
                slots = controllers.get(controller)
                if slots is not None and int(port) < len(slots):
                    slots[int(port)] = True
                continue
            pending.append((chan, controller))
        elif address is None:
            pending.append((chan, None))
    for chan, wanted in pending:
        candidates = [wanted] if wanted is not None else sorted(controllers)
        for controller in candidates:
            slots = controllers.get(controller, [])
            free = next((p for p in range(1, len(slots)) if not slots[p]), None)
            if free is not None:
                slots[free] = True
                set_address(
                    chan,
                    {
                        "type": "virtio-serial",
                        "controller": str(controller),
                        "bus": "0",
                        "port": str(free),
                    },
                )
                break
        else:
            raise XMLError("Unable to find a free virtio-serial port", domain=ErrorDomain.QEMU)
