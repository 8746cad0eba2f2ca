"""Device aliases: the names libvirt gives a running guest's devices, and QEMU's ids.

libvirt names every device of a guest it starts (``qemuAssignDeviceAliases``
in ``qemu_alias.c``) and shows the name as ``<alias name='...'/>`` in the live
XML; the same name is the device's QEMU id (``-device ...,id=ALIAS``), and
its back-ends are named after it (``hostnet0`` for ``net0``, ``charserial0``
for ``serial0``). :func:`device_aliases` computes them, in libvirt's order
and with libvirt's rules; :func:`assign_aliases` writes them into a live
definition; :func:`new_device_alias` names one device about to be hot-plugged
(``qemuAssignDeviceAlias``: the next free number of its kind).

A device that already has an alias keeps it (a user alias ``ua-...`` of the
definition, or the alias a live definition recorded), and numbered aliases
of the same kind that are taken are skipped, as libvirt does. The command
line builder (:func:`virtcore_qemu.command.build_command`) uses these same
aliases as ids, so the argv and the live XML agree.

Rules (libvirt 9.0):

* disks with a drive address: ``<bus><controller>-<bus>-<unit>`` (SCSI
  disks on controllers other than LSI: ``scsi<c>-<b>-<target>-<unit>``);
  otherwise ``<bus>-disk<N>`` from the target name (``virtio-disk0``,
  ``usb-disk1``);
* interfaces ``net<N>`` (``hostdev<N>`` for ``type='hostdev'``), file
  systems ``fs<N>``, RNGs ``rng<N>``, host devices ``hostdev<N>``: the next
  number not taken;
* sounds, redirdevs, videos, inputs, hubs, shmems, smartcards, watchdogs,
  TPMs, character devices: the position among their kind (``sound0``,
  ``redir0``, ``video0``, ``input0``, ``hub0``, ``shmem0``, ``smartcard0``,
  ``watchdog0``, ``tpm0``, ``serial0``, ``parallel0``, ``channel0``,
  ``console0``); a hot-plugged one takes the next number not taken;
* controllers: ``pci.N`` (``pcie.0`` for a PCIe root), ``ide`` for the
  built-in IDE of i440FX machines and the built-in SATA of Q35 machines,
  ``usb`` for USB controller 0, ``scsi`` for an ``ncr53c90`` SCSI controller
  0, else ``<type><index>`` (``virtio-serial0``, ``scsi0``, ``usb1``);
* ``balloon0`` (not for ``model='none'``), ``vsock0``,
  ``iommu0``; DIMMs ``dimm<slot>``/``nvdimm<slot>``, virtio memory devices
  ``virtiomem<N>``/``virtiopmem<N>``.

The console that is the first serial port (``<target type='serial'>``)
shows that port's alias in libvirt's live XML (libvirt formats it from the
serial port's definition); its own alias is never used on the command line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError
from virtcore.xml.domain import Domain
from virtcore_qemu.command.common import attr_int, unsupported

__all__ = [
    "alias_of",
    "assign_aliases",
    "device_aliases",
    "disk_index",
    "new_device_alias",
    "set_alias",
]

logger = logging.getLogger(__name__)

_PREFIXES = ("vd", "hd", "sd", "fd", "xvd", "ubd")

#: Device kinds with an alias, in the order libvirt assigns them.
ALIASED = (
    "disk",
    "interface",
    "filesystem",
    "sound",
    "hostdev",
    "redirdev",
    "video",
    "controller",
    "input",
    "parallel",
    "serial",
    "channel",
    "console",
    "hub",
    "shmem",
    "smartcard",
    "watchdog",
    "memballoon",
    "rng",
    "tpm",
    "memory",
    "vsock",
    "iommu",
)

_POSITIONAL = {
    "sound": "sound",
    "redirdev": "redir",
    "video": "video",
    "input": "input",
    "hub": "hub",
    "smartcard": "smartcard",
    "tpm": "tpm",
    "parallel": "parallel",
    "serial": "serial",
    "channel": "channel",
    "console": "console",
    "shmem": "shmem",
    "watchdog": "watchdog",
}
_NEXT_FREE = {"filesystem": "fs", "rng": "rng"}


def disk_index(target: str) -> int:
    """The number libvirt derives from a target name: ``vda`` -> 0, ``sdab`` -> 27."""
    for prefix in _PREFIXES:
        if target.startswith(prefix):
            letters = target[len(prefix) :]
            break
    else:
        raise unsupported(f"invalid disk target name '{target}'")
    number = 0
    for char in letters:
        if not "a" <= char <= "z":
            raise unsupported(f"invalid disk target name '{target}'")
        number = number * 26 + (ord(char) - ord("a") + 1)
    return number - 1


def alias_of(node: etree._Element) -> str | None:
    """The ``<alias name>`` recorded on a device element, if any."""
    alias = node.find("alias")
    name = alias.get("name") if alias is not None else None
    return name or None


def set_alias(node: etree._Element, alias: str) -> None:
    """Record *alias* on device *node* (before its ``<address>``, where libvirt writes it)."""
    existing = node.find("alias")
    if existing is not None:
        existing.set("name", alias)
        return
    element = etree.Element("alias", name=alias)
    address = node.find("address")
    if address is not None:
        address.addprevious(element)
    else:
        node.append(element)


def _is_q35(root: etree._Element) -> bool:
    node = root.find("os/type")
    return "q35" in ((node.get("machine") if node is not None else None) or "")


def _numbered(names: Iterable[str | None], prefix: str) -> int:
    """The first number after every ``<prefix><N>`` in *names* (libvirt's "next free")."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    top = 0
    for name in names:
        match = pattern.fullmatch(name or "")
        if match is not None:
            top = max(top, int(match.group(1)) + 1)
    return top


class _Aliases:
    """One assignment pass over a ``<devices>`` element."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        devices = root.find("devices")
        self.devices = devices if devices is not None else etree.Element("devices")
        self.names: dict[etree._Element, str] = {}

    def of(self, node: etree._Element) -> str | None:
        return self.names.get(node) or alias_of(node)

    def kind(self, tag: str) -> list[etree._Element]:
        return self.devices.findall(tag)

    def taken(self, tags: Iterable[str]) -> list[str | None]:
        return [self.of(node) for tag in tags for node in self.kind(tag)]

    def run(self) -> dict[etree._Element, str]:
        for tag in ALIASED:
            for position, node in enumerate(self.kind(tag)):
                if alias_of(node) is not None:
                    self.names[node] = str(alias_of(node))
                    continue
                alias = self.compute(node, position)
                if alias is not None:
                    self.names[node] = alias
        return self.names

    def compute(self, node: etree._Element, position: int | None) -> str | None:
        """The alias of *node*; *position* is its place among its kind (``None``: new)."""
        tag = node.tag
        if tag == "disk":
            return self.disk(node)
        if tag == "interface":
            if node.get("type") == "hostdev":
                return f"hostdev{_numbered(self.taken(('hostdev', 'interface')), 'hostdev')}"
            return f"net{_numbered(self.taken(('interface',)), 'net')}"
        if tag == "hostdev":
            return f"hostdev{_numbered(self.taken(('hostdev', 'interface')), 'hostdev')}"
        if tag in _NEXT_FREE:
            prefix = _NEXT_FREE[tag]
            return f"{prefix}{_numbered(self.taken((tag,)), prefix)}"
        if tag in _POSITIONAL:
            prefix = _POSITIONAL[tag]
            if position is None:
                # A new device takes the next free number; a console also
                # counts the serial aliases consoles may show.
                names = self.taken((tag,))
                number = _numbered(names, prefix)
                if tag == "console":
                    number = max(number, _numbered(names, "serial"))
                position = number
            return f"{prefix}{position}"
        if tag == "controller":
            return self.controller(node)
        if tag == "memballoon":
            return None if node.get("model") == "none" else "balloon0"
        if tag == "memory":
            return self.memory(node)
        if tag in ("vsock", "iommu"):
            return f"{tag}0"
        return None

    def disk(self, disk: etree._Element) -> str:
        target = disk.find("target")
        bus = (target.get("bus") if target is not None else None) or ""
        address = disk.find("address")
        if address is not None and address.get("type") == "drive":
            controller = attr_int(address, "controller")
            drive_bus = attr_int(address, "bus")
            unit = attr_int(address, "unit")
            if bus == "scsi" and self.scsi_model(controller) != "lsilogic":
                return f"scsi{controller}-{drive_bus}-{attr_int(address, 'target')}-{unit}"
            return f"{bus}{controller}-{drive_bus}-{unit}"
        dev = (target.get("dev") if target is not None else None) or ""
        return f"{bus}-disk{disk_index(dev)}"

    def scsi_model(self, index: int) -> str:
        for node in self.kind("controller"):
            if node.get("type") == "scsi" and attr_int(node, "index") == index:
                return node.get("model") or "lsilogic"
        raise InternalError(
            f"Unable to find a SCSI controller for idx={index}", domain=ErrorDomain.QEMU
        )

    def controller(self, node: etree._Element) -> str:
        kind = node.get("type") or ""
        index = attr_int(node, "index")
        model = node.get("model")
        if kind == "pci":
            return f"pcie.{index}" if model == "pcie-root" else f"pci.{index}"
        if index == 0:
            if kind == "ide" and not _is_q35(self.root):
                return "ide"
            if kind == "sata" and _is_q35(self.root):
                return "ide"
            if kind == "usb":
                return "usb"
            if kind == "scsi" and model == "ncr53c90":
                return "scsi"
        return f"{kind}{index}"

    def dimm_slot(self, node: etree._Element) -> int:
        """The DIMM slot of *node*: its address, else the lowest slot no device names."""
        devices = self.kind("memory")
        explicit = [_explicit_slot(mem) for mem in devices]
        if node not in devices:
            devices, explicit = [*devices, node], [*explicit, _explicit_slot(node)]
        taken = {slot for slot in explicit if slot is not None}
        for mem, given in zip(devices, explicit, strict=True):
            slot = given
            if slot is None:
                slot = min(set(range(len(devices) + len(taken) + 1)) - taken)
                taken.add(slot)
            if mem is node:
                return slot
        raise InternalError("memory device not found", domain=ErrorDomain.QEMU)

    def memory(self, node: etree._Element) -> str:
        model = node.get("model") or ""
        prefix = {
            "dimm": "dimm",
            "nvdimm": "nvdimm",
            "virtio-pmem": "virtiopmem",
            "virtio-mem": "virtiomem",
        }.get(model)
        if prefix is None:
            raise unsupported(f"memory device model '{model}' is not supported")
        if model in ("dimm", "nvdimm"):
            return f"{prefix}{self.dimm_slot(node)}"
        return f"{prefix}{_numbered(self.taken(('memory',)), prefix)}"


def _explicit_slot(mem: etree._Element) -> int | None:
    address = mem.find("address")
    if address is None or address.get("type") != "dimm" or not address.get("slot"):
        return None
    return attr_int(address, "slot")


def device_aliases(root: etree._Element) -> dict[etree._Element, str]:
    """Every aliased device element of the ``<domain>`` *root* with its alias."""
    return _Aliases(root).run()


def assign_aliases(domain: Domain) -> None:
    """Write libvirt's ``<alias>`` into every device of *domain* that has none.

    For the live definition of a guest being started, after
    ``prepare_definition`` (addresses assigned) and before
    :func:`~virtcore_qemu.command.build_command`. Idempotent. The console
    that is the first serial port gets that port's alias.
    """
    root = domain.element
    names = device_aliases(root)
    for node, alias in names.items():
        if alias_of(node) is None:
            set_alias(node, alias)
    devices = root.find("devices")
    if devices is None:
        return
    serials = devices.findall("serial")
    for console in devices.findall("console")[:1]:
        target = console.find("target")
        kind = (target.get("type") if target is not None else None) or "serial"
        if kind == "serial" and serials:
            port = attr_int(target, "port")
            serial = next(
                (s for s in serials if attr_int(s.find("target"), "port") == port), serials[0]
            )
            shown = alias_of(serial)
            if shown is not None:
                set_alias(console, shown)


def new_device_alias(domain: Domain, device: etree._Element) -> str:
    """The alias libvirt gives *device*, about to be added to the running *domain*.

    ``qemuAssignDeviceAlias`` for hot-plug: the devices of *domain* keep
    their aliases and *device* takes the next free one of its kind. *device*
    must already carry its final address (disks: target and drive address).
    """
    existing = alias_of(device)
    if existing is not None:
        return existing
    assigner = _Aliases(domain.element)
    assigner.run()
    # The device may already sit in *domain* (a prepared copy): it is not taken.
    assigner.names.pop(device, None)
    alias = assigner.compute(device, None)
    if alias is None:
        raise unsupported(f"device '{device.tag}' has no QEMU alias")
    return alias
