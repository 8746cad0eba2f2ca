"""The qemu driver's define-time post-parse: what ``virsh define`` adds to a QEMU domain.

:func:`prepare_definition` turns a parsed :class:`~virtcore.xml.domain.Domain`
(libvirt's generic checks already passed) into what libvirt 9.0's qemu
driver holds after ``virDomainDefineXML`` on x86_64, following
``qemuDomainDefPostParse``, ``qemuDomainDefAddDefaultDevices``,
``qemuDomainDeviceDefPostParse`` and ``qemuDomainAssignAddresses``:

* the domain: the architecture of the emulator, the canonical machine type
  (``pc`` -> ``pc-i440fx-7.2``), the ``<emulator>``, the machine's default
  CPU model for a domain without one;
* what libvirt's generic post-parse adds (consoles, implicit disk
  controllers, the default video card...) is written into the document, so
  the document holds every device;
* the devices (:mod:`.postparse_devices`): disk driver and format, the
  default NIC model, ISA serial targets, controller models, video memory,
  and the default devices (USB controller, SATA on q35, the PCI root,
  PS/2 mouse and keyboard, the memory balloon, the audio backend);
* the qemu-specific validation errors (:mod:`.validate`);
* every address (:func:`virtcore_qemu.address.assign_addresses`): PCI
  slots, auto-added PCI controllers, USB ports, virtio-serial ports.

The model is changed in place. Afterwards ``domain.format(INACTIVE)`` is
what ``virsh dumpxml --inactive`` prints after the define, including the
order libvirt keeps controllers in (those it adds are appended after the
ones the document gave). That order holds until the document changes; a
document read back is ordered as libvirt orders it when it reads a saved
configuration. Calling the function again on its own result changes
nothing in the document.
"""

from __future__ import annotations

import logging
import re

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Domain
from virtcore_qemu.address import assign_addresses
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse_devices import add_default_devices, device_post_parse
from virtcore_qemu.postparse_tree import (
    ControllerKey,
    DefinePaths,
    controller_keys,
    devices_element,
    is_i440fx,
    is_q35,
    sub,
)
from virtcore_qemu.validate import check_emulator, validate_definition, validate_domain

__all__ = ["DefinePaths", "is_i440fx", "is_q35", "prepare_definition"]

logger = logging.getLogger(__name__)

_CPU_TYPE_SUFFIX = re.compile(r"-[a-z0-9_]+-cpu$")


def prepare_definition(domain: Domain, caps: QemuCaps, paths: DefinePaths | None = None) -> None:
    """Apply the qemu driver's define-time post-parse, validation and addresses to *domain*.

    *caps* are the capabilities of the emulator for the guest's architecture;
    *paths* the driver's directories (``qemu:///system``'s by default).
    """
    paths = paths if paths is not None else DefinePaths()
    domain.check()
    original = domain.definition()
    tree_count = len(domain.element.findall("./devices/controller"))
    before = (
        [(c.type, c.index) for c in original.devices_def.controllers]
        if original.devices_def is not None
        else []
    )
    explicit, generic_implicit = before[:tree_count], before[tree_count:]
    disk_order = [d.dst for d in original.devices_def.disks] if original.devices_def else []

    _domain_post_parse(domain, caps, paths)
    validate_domain(domain, caps)
    _materialize(domain)
    device_post_parse(domain, caps, paths)
    added = add_default_devices(domain, caps, set(explicit))
    order = [*explicit, *added, *generic_implicit]
    # libvirt assigns addresses in the post-parse, before it validates.
    added_pci = assign_addresses(domain, caps, order)
    validate_definition(domain, caps)
    _keep_order(domain, [*order, *added_pci], disk_order)


def _domain_post_parse(domain: Domain, caps: QemuCaps, paths: DefinePaths) -> None:
    """Architecture, machine type, emulator and default CPU (``qemuDomainDefPostParse``)."""
    root = domain.element
    os_type = root.find("./os/type")
    if os_type is None:
        os_node = root.find("./os")
        if os_node is None:
            os_node = sub(root, "os")
        os_type = etree.Element("type")
        os_type.text = "hvm"
        os_node.insert(0, os_type)
    if not os_type.get("arch"):
        os_type.set("arch", caps.arch)
    check_emulator(
        os_type.get("arch") or caps.arch,
        domain.virt_type or "",
        caps,
        (os_type.text or "hvm").strip(),
    )
    machine = os_type.get("machine")
    if not machine:
        os_type.set("machine", caps.default_machine())
    elif (info := caps.machine(machine)) is not None:
        # An unknown machine type is kept: libvirt lets the devices decide.
        os_type.set("machine", info.name)
    devices = devices_element(domain)
    emulator = devices.find("./emulator")
    if emulator is None or not (emulator.text or "").strip():
        if emulator is None:
            emulator = etree.Element("emulator")
            devices.insert(0, emulator)
        emulator.text = caps.binary
    _default_cpu(domain, caps, os_type.get("machine") or "")
    _default_nvram(domain, paths)


def _default_nvram(domain: Domain, paths: DefinePaths) -> None:
    """A read-only pflash loader without a variable store gets ``NAME_VARS.fd``."""
    loader = domain.element.find("./os/loader")
    if loader is None or loader.get("type") != "pflash" or loader.get("readonly") != "yes":
        return
    if domain.element.find("./os/nvram") is not None:
        return
    nvram = etree.Element("nvram")
    nvram.text = f"{paths.nvram_dir.rstrip('/')}/{domain.name}_VARS.fd"
    loader.addnext(nvram)


def _default_cpu(domain: Domain, caps: QemuCaps, machine: str) -> None:
    """``qemuDomainDefSetDefaultCPU``: the machine's default CPU model for a bare ``<cpu>``."""
    root = domain.element
    cpu = root.find("./cpu")
    if cpu is not None and (
        cpu.get("mode", "custom") != "custom" or cpu.find("./model") is not None
    ):
        _default_cpu_check(cpu, domain.virt_type or "qemu")
        return
    info = caps.machine(machine)
    cpu_type = info.default_cpu_type if info is not None else None
    if not cpu_type:
        return
    # QOM names a CPU model "<model>-<target>-cpu" (qemu64-x86_64-cpu, qemu32-i386-cpu).
    model = _CPU_TYPE_SUFFIX.sub("", cpu_type)
    known = {c.name for c in caps.cpu_definitions(domain.virt_type or "qemu")}
    if known and model not in known:
        logger.debug("the default CPU %s of %s is not a known model", model, machine)
        return
    if cpu is None:
        cpu = etree.Element("cpu")
        clock = root.find("./clock")
        if clock is not None:
            clock.addprevious(cpu)
        else:
            root.append(cpu)
    cpu.set("mode", "custom")
    cpu.set("match", cpu.get("match", "exact"))
    cpu.set("check", cpu.get("check", "none"))
    node = etree.Element("model")
    node.set("fallback", "forbid")
    node.text = model
    cpu.insert(0, node)


def _default_cpu_check(cpu: etree._Element, virt_type: str) -> None:
    """``qemuDomainDefCPUPostParse``: the default ``check`` of each CPU mode."""
    mode = cpu.get("mode", "custom")
    if mode == "host-passthrough" and cpu.get("migratable") is None:
        cpu.set("migratable", "on")
    if cpu.get("check") is not None:
        return
    if mode in ("host-passthrough", "maximum"):
        cpu.set("check", "none")
    elif mode == "host-model":
        cpu.set("check", "partial")
    elif cpu.find("./model") is not None:
        cpu.set("check", "none" if virt_type == "qemu" else "partial")


def _materialize(domain: Domain) -> None:
    """Write what libvirt's generic post-parse added into the document itself.

    The generic layer adds devices (a console for a serial port, implicit
    disk controllers, the default video card) and defaults when it reads the
    document; the qemu driver works on the result, and gives those devices
    addresses, so they must exist in the document.
    """
    flags = DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE
    fresh = Domain.from_xml(domain.format(flags)).element
    root = domain.element
    running_id = root.get("id")
    root.attrib.clear()
    for name, value in fresh.attrib.items():
        root.set(name, value)
    if running_id is not None:
        root.set("id", running_id)
    for child in list(root):
        root.remove(child)
    for child in list(fresh):
        root.append(child)


def _keep_order(domain: Domain, order: list[ControllerKey], disk_order: list[str | None]) -> None:
    """Hold controllers and disks in the order libvirt keeps them after the define.

    libvirt sorts the controllers a document gives as it reads them and
    appends those it adds itself; it sorts disks by name within a bus, and
    a disk that had no bus was sorted before it got one. Reading the
    document back would sort them all again, so the checked definition is
    reordered and kept with the document.
    """
    definition = domain.definition()
    devices_def = definition.devices_def
    if devices_def is None:
        return
    rank: dict[ControllerKey, int] = {}
    for key in order:
        rank.setdefault(key, len(rank))
    present = controller_keys(devices_def.controllers)
    for key in present:
        rank.setdefault(key, len(rank))
    controllers = sorted(devices_def.controllers, key=lambda c: rank[(c.type, c.index)])
    devices_def.by_tag["controller"] = list(controllers)
    disk_rank = {dst: position for position, dst in enumerate(disk_order)}
    devices_def.by_tag["disk"] = sorted(
        devices_def.by_tag["disk"],
        key=lambda d: disk_rank.get(getattr(d, "dst", None), len(disk_rank)),
    )
    domain._remember(definition)
