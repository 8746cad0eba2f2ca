"""Controllers: PCI bridges and root ports, USB, SCSI, IDE/SATA, virtio-serial; USB hubs.

libvirt writes controllers by type in a fixed order (PCI, USB, SCSI, IDE,
SATA, FDC, virtio-serial; ``qemuBuildControllersCommandLine``) and, within a
type, in document order. Controllers the machine provides are not written:
the PCI/PCIe root, the primary IDE controller and floppy controller of an
i440fx machine, the primary SATA controller of a Q35 machine.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported, usb_props
from virtcore_qemu.command.escape import json_arg

__all__ = ["build_controllers", "build_hubs", "controller_alias"]

logger = logging.getLogger(__name__)

_ORDER = ("pci", "usb", "scsi", "ide", "sata", "fdc", "virtio-serial")

_PCI_DRIVERS = {
    "pci-bridge": "pci-bridge",
    "pcie-root-port": "pcie-root-port",
    "pcie-to-pci-bridge": "pcie-pci-bridge",
    "dmi-to-pci-bridge": "i82801b11-bridge",
    "pcie-switch-upstream-port": "x3130-upstream",
    "pcie-switch-downstream-port": "xio3130-downstream",
    "pci-expander-bus": "pxb",
    "pcie-expander-bus": "pxb-pcie",
}

_USB_DRIVERS = {
    "piix3-uhci": "piix3-usb-uhci",
    "piix4-uhci": "piix4-usb-uhci",
    "ehci": "usb-ehci",
    "ich9-ehci1": "ich9-usb-ehci1",
    "ich9-uhci1": "ich9-usb-uhci1",
    "ich9-uhci2": "ich9-usb-uhci2",
    "ich9-uhci3": "ich9-usb-uhci3",
    "vt82c686b-uhci": "vt82c686b-usb-uhci",
    "pci-ohci": "pci-ohci",
    "nec-xhci": "nec-usb-xhci",
    "qemu-xhci": "qemu-xhci",
}

_SCSI_DRIVERS = {
    "virtio-scsi": "virtio-scsi-pci",
    "lsilogic": "lsi",
    "lsisas1068": "mptsas1068",
    "lsisas1078": "megasas",
}


def controller_alias(build: Build, kind: str, index: int) -> str:
    """The QEMU id libvirt gives controller *kind* number *index*."""
    node = build.controller(kind, index)
    if node is not None and node in build.aliases:
        return build.aliases[node]
    if kind == "pci":
        return build.pci_bus_alias(index)
    if kind == "usb":
        return build.usb_alias(index)
    if kind == "sata" and index == 0 and build.is_q35:
        return "ide"
    if kind == "ide" and index == 0 and not build.is_q35:
        return "ide"
    return f"{kind}{index}"


def build_controllers(build: Build) -> None:
    """Append the ``-device`` of every controller QEMU does not create itself."""
    controllers = build.devices.findall("controller")
    for kind in _ORDER:
        for node in controllers:
            if node.get("type") != kind:
                continue
            props = _controller(build, kind, node)
            if props is not None:
                build.add("-device", json_arg(props))
    known = set(_ORDER) | {"ccid", "xenbus", "isa"}
    for node in controllers:
        if node.get("type") not in known:
            raise unsupported(f"controller type '{node.get('type')}' is not supported")


def _controller(build: Build, kind: str, node: etree._Element) -> dict[str, Any] | None:
    index = attr_int(node, "index")
    model = node.get("model")
    alias = controller_alias(build, kind, index)
    if kind == "pci":
        return _pci(build, node, index, model)
    if kind == "usb":
        if model == "none":
            return None
        model = model or ("qemu-xhci" if build.is_q35 else "piix3-uhci")
        driver = _USB_DRIVERS.get(model)
        if driver is None:
            raise unsupported(f"USB controller model '{model}' is not supported")
        props: dict[str, Any] = {"driver": driver}
        ports = node.get("ports")
        if ports and model in ("qemu-xhci", "nec-xhci"):
            props["p2"] = int(ports)
            props["p3"] = int(ports)
        props["id"] = alias
        props.update(pci_props(build, node))
        return props
    if kind == "scsi":
        model = model or "lsilogic"
        driver = _SCSI_DRIVERS.get(model)
        if driver is None:
            raise unsupported(f"SCSI controller model '{model}' is not supported")
        return {"driver": driver, **_scsi_options(node, model, alias), **pci_props(build, node)}
    if kind == "ide":
        if index == 0 and not build.is_q35:
            return None
        raise unsupported("only the machine's built-in IDE controller is supported")
    if kind == "sata":
        if index == 0 and build.is_q35:
            return None
        return {"driver": "ahci", "id": alias, **pci_props(build, node)}
    if kind == "fdc":
        return None
    # virtio-serial
    props = {"driver": "virtio-serial-pci", "id": build.alias(node)}
    if node.get("ports"):
        props["max_ports"] = attr_int(node, "ports")
    if node.get("vectors"):
        props["vectors"] = attr_int(node, "vectors")
    props.update(pci_props(build, node))
    return props


def _scsi_options(node: etree._Element, model: str, alias: str) -> dict[str, Any]:
    """``iothread``, ``id`` and the virtio-scsi ``<driver>`` tuning, in libvirt's order."""
    options = node.find("driver")
    if options is None or not options.attrib:
        return {"id": alias}
    if model != "virtio-scsi":
        raise unsupported(f"<driver> options are not supported on SCSI controller '{model}'")
    iothread = attr_int(options, "iothread")
    ioeventfd = options.get("ioeventfd")
    return {
        "iothread": f"iothread{iothread}" if iothread else None,
        "id": alias,
        "num_queues": attr_int(options, "queues") or None,
        "cmd_per_lun": attr_int(options, "cmd_per_lun") or None,
        "max_sectors": attr_int(options, "max_sectors") or None,
        "ioeventfd": None if ioeventfd not in ("on", "off") else ioeventfd == "on",
    }


def _pci(
    build: Build, node: etree._Element, index: int, model: str | None
) -> dict[str, Any] | None:
    if model in (None, "pci-root", "pcie-root"):
        return None
    driver = _PCI_DRIVERS.get(model)
    if driver is None:
        raise unsupported(f"PCI controller model '{model}' is not supported")
    target = node.find("target")
    props: dict[str, Any] = {"driver": driver}
    if model == "pci-bridge":
        props["chassis_nr"] = attr_int(target, "chassisNr", index)
    elif model in ("pcie-root-port", "pcie-switch-downstream-port"):
        props["port"] = attr_int(target, "port")
        props["chassis"] = attr_int(target, "chassis", index)
    elif model in ("pci-expander-bus", "pcie-expander-bus"):
        props["bus_nr"] = attr_int(target, "busNr")
    props["id"] = build.pci_bus_alias(index)
    props.update(pci_props(build, node))
    return props


def build_hubs(build: Build) -> None:
    """Append the USB hubs (``<hub type='usb'>``)."""
    for node in build.devices.findall("hub"):
        if node.get("type") != "usb":
            raise unsupported(f"hub type '{node.get('type')}' is not supported")
        build.add(
            "-device",
            json_arg({"driver": "usb-hub", "id": build.alias(node), **usb_props(build, node)}),
        )
