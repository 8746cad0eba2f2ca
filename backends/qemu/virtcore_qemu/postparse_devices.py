"""Device defaults and default devices of the qemu driver's post-parse (x86_64).

:func:`device_post_parse` is ``qemuDomainDeviceDefPostParse`` for the
devices of an x86 guest: disks get the ``qemu`` driver and the ``raw``
format, interfaces the default NIC model, serial ports an ISA target,
USB and SCSI controllers their default model, QXL video its VGA memory.

:func:`add_default_devices` is ``qemuDomainDefAddDefaultDevices``: the PS/2
mouse and keyboard, the USB controller, the SATA controller of q35, the PCI
root (``pci-root`` on i440fx, ``pcie-root`` on q35), the virtio memory
balloon and the audio backend. It returns the controllers it added, in the
order libvirt appends them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import XMLError
from virtcore.xml.domain import Domain
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse_tree import (
    ControllerKey,
    DefinePaths,
    devices_element,
    is_i440fx,
    is_q35,
    sub,
)

__all__ = ["add_default_devices", "default_usb_model", "device_post_parse", "machine_of"]

logger = logging.getLogger(__name__)

_SERIAL_MODELS = {
    "isa-serial": "isa-serial",
    "usb-serial": "usb-serial",
    "pci-serial": "pci-serial",
}
_QXL_VGAMEM_KIB = 16384


def machine_of(domain: Domain) -> str:
    """The machine type of the (post-parsed) document."""
    node = domain.element.find("./os/type")
    return (node.get("machine") if node is not None else None) or ""


def default_usb_model(machine: str, caps: QemuCaps) -> str | None:
    """The USB controller model libvirt picks for this machine, or None for no controller."""
    if is_q35(machine):
        for model, qom in (("qemu-xhci", "qemu-xhci"), ("nec-xhci", "nec-usb-xhci")):
            if caps.has_device(qom):
                return model
        return None
    if caps.has_device("piix3-usb-uhci"):
        return "piix3-uhci"
    return None


def _default_net_model(caps: QemuCaps) -> str:
    """``qemuDomainDefaultNetModel`` for x86."""
    if caps.has_device("rtl8139"):
        return "rtl8139"
    if caps.has_device("e1000"):
        return "e1000"
    return "virtio"


def device_post_parse(domain: Domain, caps: QemuCaps, paths: DefinePaths) -> None:
    """Apply the qemu driver's per-device defaults to every device of *domain*."""
    devices = devices_element(domain)
    machine = machine_of(domain)
    for disk in devices.findall("./disk"):
        _disk_defaults(disk)
    for net in devices.findall("./interface"):
        if net.find("./model") is None and net.get("type") not in ("hostdev",):
            model = "virtio" if net.get("type") == "vhostuser" else _default_net_model(caps)
            target = net.find("./target")
            node = etree.Element("model")
            node.set("type", model)
            if target is not None:
                target.addnext(node)
            else:
                net.append(node)
    for serial in devices.findall("./serial"):
        _serial_defaults(serial)
    for controller in devices.findall("./controller"):
        kind = controller.get("type")
        if kind == "usb" and controller.get("model") is None:
            usb_model = default_usb_model(machine, caps)
            if usb_model is not None:
                controller.set("model", usb_model)
        elif kind == "scsi" and controller.get("model") is None:
            controller.set("model", "lsilogic" if caps.has_device("lsi53c895a") else "virtio-scsi")
    for tpm in devices.findall("./tpm"):
        if tpm.get("model") is None:
            tpm.set("model", "tpm-tis")
        _tpm_version(tpm, domain, machine)
    for channel in devices.findall("./channel[@type='unix']"):
        _drop_default_channel_path(channel, paths.channel_target_dir)
    for video in devices.findall("./video/model"):
        if video.get("type") == "qxl" and video.get("vgamem") is None:
            video.set("vgamem", str(_QXL_VGAMEM_KIB))


def _tpm_version(tpm: etree._Element, domain: Domain, machine: str) -> None:
    """``qemuDomainTPMDefPostParse``: an emulated TPM gets a version (1.2 and 2.0 differ).

    CRB and sPAPR interfaces and ARM ``virt`` machines only speak TPM 2.0;
    the others default to 1.2, as libvirt 9.0 decides it.
    """
    backend = tpm.find("./backend")
    if backend is None or backend.get("type") != "emulator" or backend.get("version"):
        return
    arm_virt = str(domain.os.arch or "") in ("aarch64", "armv6l", "armv7l") and (
        machine == "virt" or machine.startswith("virt-")
    )
    two = tpm.get("model") in ("tpm-crb", "tpm-spapr") or arm_virt
    backend.set("version", "2.0" if two else "1.2")


def _drop_default_channel_path(channel: etree._Element, directory: str) -> None:
    """``qemuDomainChrDefDropDefaultPath``: a generated guest agent socket path is forgotten.

    A virtio channel's socket under the driver's channel directory was made
    up by the driver at start; the inactive definition does not keep it, so
    the next start makes it again.
    """
    target = channel.find("./target")
    source = channel.find("./source")
    if target is None or source is None or target.get("type") != "virtio":
        return
    path = source.get("path") or ""
    if source.get("mode", "bind") == "bind" and path.startswith(directory.rstrip("/") + "/"):
        channel.remove(source)


def _disk_defaults(disk: etree._Element) -> None:
    """The ``qemu`` driver and, but for volumes, the ``raw`` format."""
    driver = disk.find("./driver")
    if driver is None:
        driver = etree.Element("driver")
        disk.insert(0, driver)
    if driver.get("name") is None:
        driver.set("name", "qemu")
    if driver.get("type") is None and disk.get("type") != "volume":
        driver.set("type", "raw")


def _serial_defaults(serial: etree._Element) -> None:
    """An x86 serial port is an ISA serial port unless its target says otherwise."""
    target = serial.find("./target")
    if target is None:
        target = sub(serial, "target")
    if target.get("type") is None:
        target.set("type", "isa-serial")
    model = _SERIAL_MODELS.get(target.get("type") or "")
    if model is not None and target.find("./model") is None:
        sub(target, "model", {"name": model})


def add_default_devices(
    domain: Domain, caps: QemuCaps, given: Collection[ControllerKey] = ()
) -> list[ControllerKey]:
    """Add the default devices of an x86 machine; return the controllers added, in order.

    *given* are the controllers the document itself gave: libvirt adds its
    default controllers before the generic implicit ones, so a default
    controller that the generic post-parse already created counts as added
    here, not there.
    """
    devices = devices_element(domain)
    machine = machine_of(domain)
    q35 = is_q35(machine)
    added: list[ControllerKey] = []
    _maybe_add_input(devices, "mouse", "ps2")
    _maybe_add_input(devices, "keyboard", "ps2")
    controllers = devices.findall("./controller")

    def find(kind: str, index: int) -> etree._Element | None:
        for cont in controllers:
            if cont.get("type") == kind and int(cont.get("index", "0")) == index:
                return cont
        return None

    usb_model = default_usb_model(machine, caps)
    if usb_model is not None and find("usb", 0) is None:
        sub(devices, "controller", {"type": "usb", "index": "0", "model": usb_model})
    if usb_model is not None and ("usb", 0) not in given:
        added.append(("usb", 0))
    if q35 and find("sata", 0) is None:
        sub(devices, "controller", {"type": "sata", "index": "0"})
    if q35 and ("sata", 0) not in given:
        added.append(("sata", 0))
    if not q35 and not is_i440fx(machine):
        # Other machines get no PCI root: whatever wants PCI then fails.
        _add_balloon_and_audio(devices)
        return added
    root_model = "pcie-root" if q35 else "pci-root"
    root = find("pci", 0)
    if ("pci", 0) not in given:
        added.append(("pci", 0))
    if root is None:
        sub(devices, "controller", {"type": "pci", "index": "0", "model": root_model})
    elif root.get("model") != root_model:
        raise XMLError(
            f"The PCI controller with index='0' must be model='{root_model}' for this "
            f"machine type, but model='{root.get('model')}' was found instead",
            domain=ErrorDomain.QEMU,
        )
    _add_balloon_and_audio(devices)
    return added


def _add_balloon_and_audio(devices: etree._Element) -> None:
    """The virtio memory balloon and the audio backend the graphics call for.

    ``qemuDomainDefAddDefaultAudioBackend``: SPICE carries the audio, VNC and
    no graphics get the ``none`` backend, SDL would use the host's.
    """
    if devices.find("./memballoon") is None:
        sub(devices, "memballoon", {"model": "virtio"})
    if devices.find("./audio") is not None:
        return
    passthrough = spice = False
    for graphics in devices.findall("./graphics"):
        kind = graphics.get("type")
        if kind == "vnc":
            passthrough = False  # qemu.conf's vnc_allow_host_audio defaults to off
        elif kind == "sdl":
            passthrough = True
        elif kind == "spice":
            spice = True
    if spice:
        sub(devices, "audio", {"id": "1", "type": "spice"})
    elif not passthrough:
        sub(devices, "audio", {"id": "1", "type": "none"})
    # Host audio passes through only with QEMU_AUDIO_DRV set for the daemon; without
    # it libvirt adds no backend at all.


def _maybe_add_input(devices: etree._Element, kind: str, bus: str) -> None:
    """``virDomainDefMaybeAddInput``: add an input unless one of that type and bus exists."""
    for node in devices.findall("./input"):
        if node.get("type") == kind and node.get("bus", "ps2") == bus:
            return
    sub(devices, "input", {"type": kind, "bus": bus})
