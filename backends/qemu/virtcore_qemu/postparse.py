"""The qemu driver's define-time post-parse: what ``virsh define`` adds to a QEMU domain.

:func:`define_domain` parses a document as libvirt 9.0's qemu driver
defines it on x86_64: :meth:`~virtcore.xml.domain.Domain.parse` without
validation, then :func:`prepare_definition`, which turns the parsed
:class:`~virtcore.xml.domain.Domain` into what the driver holds after
``virDomainDefineXML``, following
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
* every address (:func:`virtcore_qemu.address.assign_addresses`): PCI
  slots, auto-added PCI controllers, USB ports, virtio-serial ports;
* then, as ``virDomainDefValidate`` runs after every post-parse, the
  qemu-specific validation errors (:mod:`.validate`) and libvirt's own
  (:meth:`~virtcore.xml.domain.Domain.validate`).

The model is changed in place. Afterwards ``domain.format(INACTIVE)`` is
what ``virsh dumpxml --inactive`` prints after the define, including the
order libvirt keeps controllers in (those it adds are appended after the
ones the document gave). That order holds until the document changes; a
document read back is ordered as libvirt orders it when it reads a saved
configuration. Calling the function again on its own result changes
nothing in the document.
"""

from __future__ import annotations

import copy
import logging
import re

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Definition, Domain
from virtcore.xml.domain.formatter import format_definition
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

__all__ = ["DefinePaths", "define_domain", "is_i440fx", "is_q35", "prepare_definition"]

logger = logging.getLogger(__name__)

_CPU_TYPE_SUFFIX = re.compile(r"-[a-z0-9_]+-cpu$")


def define_domain(
    text: str | bytes,
    caps: QemuCaps,
    paths: DefinePaths | None = None,
    *,
    validate_schema: bool = False,
) -> Domain:
    """What ``virDomainDefineXML`` makes of *text* on the qemu driver, in libvirt's order.

    The document is parsed with libvirt's generic post-parse but not yet
    validated, completed by :func:`prepare_definition` (the driver's
    post-parse, then the validation), so a document relying on what the
    driver adds - a redirected USB device without a USB controller - is
    accepted as libvirt accepts it. *validate_schema* checks *text*
    against libvirt's RelaxNG schema first (``VIR_DOMAIN_DEFINE_VALIDATE``).
    """
    domain = Domain.parse(text, validate_schema=validate_schema, validate=False)
    prepare_definition(domain, caps, paths)
    return domain


def prepare_definition(domain: Domain, caps: QemuCaps, paths: DefinePaths | None = None) -> None:
    """Apply the qemu driver's define-time post-parse, addresses and validation to *domain*.

    *caps* are the capabilities of the emulator for the guest's architecture;
    *paths* the driver's directories (``qemu:///system``'s by default).
    *domain* comes from ``Domain.parse(..., validate=False)`` (see
    :func:`define_domain`); a document that was already validated works
    too but refuses what libvirt would only accept once the driver's
    defaults are in. Validation comes last, as in ``virDomainDefParseNode``:
    the driver's domain checks, its device checks, then libvirt's own.
    """
    paths = paths if paths is not None else DefinePaths()
    original = domain.definition(validate=False)
    tree_count = len(domain.element.findall("./devices/controller"))
    before = (
        [(c.type, c.index) for c in original.devices_def.controllers]
        if original.devices_def is not None
        else []
    )
    explicit, generic_implicit = before[:tree_count], before[tree_count:]
    disk_order = [d.dst for d in original.devices_def.disks] if original.devices_def else []

    _domain_post_parse(domain, caps, paths)
    _materialize(domain)
    device_post_parse(domain, caps, paths)
    added = add_default_devices(domain, caps, set(explicit))
    order = [*explicit, *added, *generic_implicit]
    # libvirt assigns addresses in the post-parse, before it validates.
    added_pci = assign_addresses(domain, caps, order)
    validate_domain(domain, caps)
    validate_definition(domain, caps)
    _keep_order(domain, domain.validate(), [*order, *added_pci], disk_order)


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
    text = format_definition(domain.definition(validate=False), flags)
    fresh = Domain.from_xml(text).element
    root = domain.element
    _drop_compat_console(root, fresh)
    _keep_empty_bandwidth(root, fresh)
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


def _drop_compat_console(original: etree._Element, fresh: etree._Element) -> None:
    """Leave out the console libvirt's output shows for the first serial port.

    ``virDomainDefAddConsoleCompat`` puts a console standing for the serial
    port before the document's own consoles, which keep the ports they
    were numbered with (``<target type='virtio' port='0'/>``). Read back,
    every console is numbered by its position, so the document's consoles
    would move up by one; without the stand-in, reading the document adds
    it again and the numbering stays libvirt's.
    """
    devices = fresh.find("./devices")
    consoles = fresh.findall("./devices/console")
    if devices is not None and len(consoles) > len(original.findall("./devices/console")):
        devices.remove(consoles[0])


def _keep_empty_bandwidth(original: etree._Element, fresh: etree._Element) -> None:
    """Keep the rates of a ``<bandwidth>`` that libvirt prints empty.

    A rate with a zero average (``<inbound average='0'/>``) is kept by
    libvirt but not printed, so it writes ``<bandwidth>`` without children;
    read back, such a ``<bandwidth>`` means none at all. The document's own
    element (interfaces keep their order) still reads as libvirt read it.
    """
    sources = original.findall("./devices/interface")
    written = fresh.findall("./devices/interface")
    for source, output in zip(sources, written, strict=False):
        empty = output.find("./bandwidth")
        kept = source.find("./bandwidth")
        if empty is not None and len(empty) == 0 and kept is not None:
            output.replace(empty, copy.deepcopy(kept))


def _keep_order(
    domain: Domain,
    definition: Definition,
    order: list[ControllerKey],
    disk_order: list[str | None],
) -> None:
    """Hold controllers and disks in the order libvirt keeps them after the define.

    libvirt sorts the controllers a document gives as it reads them and
    appends those it adds itself; it sorts disks by name within a bus, and
    a disk that had no bus was sorted before it got one. Reading the
    document back would sort them all again, so the checked *definition*
    is reordered and kept with the document.
    """
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
    domain.keep_definition(definition)
