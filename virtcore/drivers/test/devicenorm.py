"""Device normalization of the test driver's domain documents, as libvirt's parser does it.

:func:`normalize_devices` turns the ``<devices>`` of a parsed document into
libvirt's normal form: devices in libvirt's order (:data:`DEVICE_ORDER`),
attributes and children of disks and interfaces in libvirt's order, PCI and
drive addresses with libvirt's number formatting, drive addresses assigned to
IDE/SCSI/SATA/floppy disks with the implicit controllers they need, generated
MAC addresses, and ``testnetN`` names for interfaces without a host-side name.
Errors carry libvirt's codes, domains and wording.
"""

from __future__ import annotations

import copy
import random
import re

from lxml import etree

from virtcore.drivers.test.resources import normalize_bandwidth, normalize_iotune
from virtcore.drivers.test.xmlutil import attributes, child, children, local_name, words
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError, VirtError, XMLError

__all__ = ["DEVICE_ORDER", "insert_ordered", "normalize_address", "normalize_devices"]

_DOM = ErrorDomain.DOMAIN

DEVICE_ORDER = words(
    "emulator disk controller lease filesystem interface smartcard serial parallel channel "
    "console input tpm graphics sound audio video hostdev redirdev redirfilter hub watchdog "
    "memballoon rng nvram panic shmem memory iommu vsock crypto"
)
DEVICE_RANK = {tag: i for i, tag in enumerate(DEVICE_ORDER)}
DEVINFO_ORDER = ("boot", "alias", "master", "rom", "acpi", "address")
DISK_ORDER = (
    words(
        "driver auth source backingStore backenddomain geometry blockio mirror target iotune "
        "readonly shareable transient serial wwn vendor product encryption"
    )
    + DEVINFO_ORDER
)
NET_ORDER = (
    words(
        "mac source vlan virtualport bandwidth port ip route script downscript backenddomain "
        "target guest model driver backend filterref tune teaming link mtu coalesce"
    )
    + DEVINFO_ORDER
)
# Interface names libvirt treats as generated (dropped from inactive definitions).
GENERATED_IFNAME_PREFIXES = ("vnet", "macvtap", "macvlan")
# Disk buses that get drive addresses, with their units per controller.
DRIVE_UNITS = {"ide": 4, "fdc": 2, "scsi": 7, "sata": 6}
DISK_BUS_BY_PREFIX = (
    ("hd", "ide"),
    ("sd", "scsi"),
    ("vd", "virtio"),
    ("xvd", "xen"),
    ("ubd", "uml"),
    ("fd", "fdc"),
)
_MAC_RE = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")


def insert_ordered(parent: etree._Element, elem: etree._Element, order: tuple[str, ...]) -> None:
    """Insert *elem* into *parent* before the first child that *order* puts after it."""
    rank = {tag: i for i, tag in enumerate(order)}
    mine = rank.get(local_name(elem), len(order))
    for pos, sub in enumerate(parent):
        if rank.get(local_name(sub), len(order)) > mine:
            parent.insert(pos, elem)
            return
    parent.append(elem)


def _set_attrs(elem: etree._Element, order: tuple[str, ...], updates: dict[str, str]) -> None:
    """Apply *updates* to *elem*'s attributes, then put them in libvirt's *order*."""
    attrs = attributes(elem)
    attrs.update(updates)
    elem.attrib.clear()
    for name in order:
        if name in attrs:
            elem.set(name, attrs.pop(name))
    for name, value in attrs.items():
        elem.set(name, value)


def _reordered(
    src: etree._Element,
    order: tuple[str, ...],
    attr_order: tuple[str, ...],
    defaults: dict[str, str] | None = None,
) -> etree._Element:
    """A copy of *src* with attributes and children in libvirt's order."""
    out = etree.Element(src.tag)
    updates = {k: v for k, v in (defaults or {}).items() if src.get(k) is None}
    out.attrib.update(src.attrib)
    _set_attrs(out, attr_order, updates)
    rank = {tag: i for i, tag in enumerate(order)}
    subs = [copy.deepcopy(s) for s in src if isinstance(s.tag, str)]
    subs.sort(key=lambda e: rank.get(local_name(e), len(order)))
    out.extend(normalize_address(s) if s.tag == "address" else s for s in subs)
    return out


def normalize_address(src: etree._Element) -> etree._Element:
    """A device ``<address>`` with libvirt's number formatting."""
    kind = src.get("type")
    if kind == "pci":
        out = etree.Element("address", type="pci")
        widths = (("domain", "0x%04x"), ("bus", "0x%02x"), ("slot", "0x%02x"), ("function", "0x%x"))
        for name, fmt in widths:
            out.set(name, fmt % _int_attr(src, name))
        if src.get("multifunction"):
            out.set("multifunction", src.get("multifunction", ""))
        return out
    if kind == "drive":
        out = etree.Element("address", type="drive")
        for name in ("controller", "bus", "target", "unit"):
            out.set(name, str(_int_attr(src, name)))
        return out
    return copy.deepcopy(src)


def _int_attr(elem: etree._Element, name: str) -> int:
    """An address number read like C's ``strtoul(..., 0)``: hex, octal or decimal."""
    raw = elem.get(name, "0").strip().lower()
    if raw.startswith("0x"):
        base = 16
    elif len(raw) > 1 and raw.startswith("0"):
        base = 8
    else:
        base = 10
    try:
        return int(raw, base)
    except ValueError:
        raise XMLError(f"Cannot parse <address> '{name}' attribute", domain=_DOM) from None


def _disk_index(dev: str) -> int:
    """libvirt's ``virDiskNameToIndex``: ``hda`` → 0, ``sdb`` → 1, ``sdaa`` → 26."""
    for prefix in ("fd", "hd", "vd", "sd", "xvd", "ubd"):
        if dev.startswith(prefix):
            letters = dev[len(prefix) :].rstrip("0123456789")
            break
    else:
        return -1
    idx = 0
    for ch in letters:
        if not "a" <= ch <= "z":
            return -1
        idx = idx * 26 + (ord(ch) - ord("a") + 1)
    return idx - 1


def _drive_address(bus: str, idx: int) -> tuple[int, int, int]:
    """(controller, bus, unit) libvirt's ``virDomainDiskDefAssignAddress`` picks."""
    if bus == "ide":
        return idx // 4, (idx % 4) // 2, idx % 2
    per_controller = DRIVE_UNITS[bus]
    return idx // per_controller, 0, idx % per_controller


def _normalize_disk(src: etree._Element) -> tuple[etree._Element, str]:
    """The disk with libvirt's defaults and drive address, and its target name."""
    disk = _reordered(
        src,
        DISK_ORDER,
        ("type", "device", "model", "rawio", "sgio", "snapshot"),
        {"type": "file", "device": "disk"},
    )
    target = child(disk, "target")
    source = child(disk, "source")
    if target is None or not target.get("dev"):
        detail = None
        if source is not None:
            detail = source.get("file") or source.get("dev") or source.get("dir")
        raise VirtError(detail, code=ErrorNumber.NO_TARGET, domain=_DOM)
    dev = target.get("dev", "")
    if disk.get("device") == "floppy" and not dev.startswith("fd"):
        raise InternalError(f"Invalid floppy device name: {dev}", domain=_DOM)
    if disk.get("device") != "floppy" and dev.startswith("fd"):
        raise InternalError(f"Invalid harddisk device name: {dev}", domain=_DOM)
    for iotune in children(disk, "iotune"):
        normalize_iotune(iotune)
    if disk.get("device") == "cdrom" and child(disk, "readonly") is None:
        # libvirt's parser makes every CD-ROM read-only, and formats it so.
        insert_ordered(disk, etree.Element("readonly"), DISK_ORDER)
    needs_source = disk.get("device") in ("disk", "lun") and disk.get("type") in ("file", "block")
    if source is None and needs_source:
        raise VirtError(dev, code=ErrorNumber.NO_SOURCE, domain=_DOM)
    bus = target.get("bus") or next((b for p, b in DISK_BUS_BY_PREFIX if dev.startswith(p)), "ide")
    _set_attrs(target, ("dev", "bus", "tray", "removable", "rotation_rate"), {"bus": bus})
    address = child(disk, "address")
    if address is None and bus in DRIVE_UNITS:
        index = _disk_index(dev)
        if index < 0:
            raise XMLError(f"Unknown disk name '{dev}' and no address specified", domain=_DOM)
        controller, bus_no, unit = _drive_address(bus, index)
        etree.SubElement(
            disk,
            "address",
            type="drive",
            controller=str(controller),
            bus=str(bus_no),
            target="0",
            unit=str(unit),
        )
    elif address is not None and bus in DRIVE_UNITS and address.get("type") == "pci":
        raise ConfigUnsupportedError(
            f"Invalid address type 'pci' for the disk '{dev}' with the bus type '{bus}'",
            domain=_DOM,
        )
    return disk, dev


def _parse_mac(text: str) -> str:
    if not _MAC_RE.fullmatch(text):
        raise XMLError(f"unable to parse mac address '{text}'", domain=_DOM)
    octets = [int(part, 16) for part in text.split(":")]
    formatted = ":".join(f"{o:02x}" for o in octets)
    if octets[0] & 1:
        raise XMLError(f"expected unicast mac address, found multicast '{text}'", domain=_DOM)
    return formatted


def _normalize_interface(src: etree._Element) -> etree._Element:
    net = _reordered(src, NET_ORDER, ("type", "trustGuestRxFilters"), {"type": "user"})
    if net.get("type") == "network" and child(net, "source") is None:
        raise XMLError("interface type='network' requires a 'source' element", domain=_DOM)
    mac = child(net, "mac")
    if mac is None or mac.get("address") is None:
        generated = "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))
        if mac is None:
            mac = etree.Element("mac")
            net.insert(0, mac)
        mac.set("address", generated)
    else:
        mac.set("address", _parse_mac(mac.get("address", "")))
    source = child(net, "source")
    if source is not None and net.get("type") == "network":
        keep = {k: source.get(k) for k in ("network", "portgroup", "portid")}
        source.attrib.clear()
        for name, value in keep.items():
            if value is not None:
                source.set(name, value)
    target = child(net, "target")
    if target is not None and target.get("dev", "").startswith(GENERATED_IFNAME_PREFIXES):
        net.remove(target)
    for bandwidth in children(net, "bandwidth"):
        normalize_bandwidth(bandwidth)
    for ip in children(net, "ip"):
        # libvirt writes the family it infers and drops the element's content.
        address = ip.get("address", "")
        family = ip.get("family") or ("ipv6" if ":" in address else "ipv4")
        attrs = {"address": address, "family": family, "prefix": ip.get("prefix"),
                 "peer": ip.get("peer")}  # fmt: skip
        ip.attrib.clear()
        for name, value in attrs.items():
            if value is not None:
                ip.set(name, value)
        for sub in list(ip):
            ip.remove(sub)
    return net


def normalize_devices(
    devices_elem: etree._Element | None, *, ifnames: bool = True
) -> list[etree._Element]:
    disks: list[tuple[str | None, int, etree._Element]] = []
    others: list[etree._Element] = []
    for src in children(devices_elem) if devices_elem is not None else []:
        if src.tag == "disk":
            target = child(src, "target")
            explicit_bus = target.get("bus") if target is not None else None
            disk, dev = _normalize_disk(src)
            _insert_disk(disks, (explicit_bus, _disk_index(dev), disk))
        elif src.tag == "interface":
            others.append(_normalize_interface(src))
        elif src.tag == "memballoon":
            attr_order = ("model", "autodeflate", "freePageReporting")
            others.append(_reordered(src, ("stats", *DEVINFO_ORDER), attr_order))
        else:
            others.append(_reordered(src, DEVINFO_ORDER, ("type",)))
    devices = [disk for _, _, disk in disks] + others
    _add_implicit_controllers(devices)
    if ifnames:
        _generate_ifnames(devices)
    # Stable: disks keep their insertion order, other devices their document order.
    devices.sort(key=lambda dev: DEVICE_RANK.get(dev.tag, len(DEVICE_RANK)))
    return devices


def _insert_disk(
    disks: list[tuple[str | None, int, etree._Element]],
    entry: tuple[str | None, int, etree._Element],
) -> None:
    """Insert a disk where libvirt's parser does (``virDomainDiskInsertPreAlloced``).

    Going backwards over the disks parsed so far on the same bus (as written in
    the document, unset counting as a bus of its own), the new disk goes before
    the earliest one with a higher index, else right after the last one.
    """
    bus, index, _ = entry
    insert_at = -1
    for pos in range(len(disks) - 1, -1, -1):
        other_bus, other_index, _ = disks[pos]
        if other_bus != bus:
            continue
        if other_index > index:
            insert_at = pos
        elif insert_at == -1:
            insert_at = pos + 1
    if insert_at == -1:
        disks.append(entry)
    else:
        disks.insert(insert_at, entry)


def _add_implicit_controllers(devices: list[etree._Element]) -> None:
    """Add the disk controllers libvirt adds implicitly, SCSI, FDC, IDE, SATA in that order."""
    for bus in ("scsi", "fdc", "ide", "sata"):
        highest = -1
        for dev in devices:
            target = child(dev, "target") if dev.tag == "disk" else None
            address = child(dev, "address") if dev.tag == "disk" else None
            if target is None or target.get("bus") != bus or address is None:
                continue
            if address.get("type") == "drive":
                highest = max(highest, int(address.get("controller", "0")))
        for index in range(highest + 1):
            exists = any(
                dev.tag == "controller"
                and dev.get("type") == bus
                and dev.get("index", "0") == str(index)
                for dev in devices
            )
            if not exists:
                devices.append(etree.Element("controller", type=bus, index=str(index)))


def _generate_ifnames(devices: list[etree._Element]) -> None:
    """Name NICs without a host-side name ``testnetN`` (libvirt's testDomainGenerateIfnames)."""
    nets = [d for d in devices if d.tag == "interface"]
    used = set()
    for net in nets:
        target = child(net, "target")
        if target is not None:
            used.add(target.get("dev"))
    for net in nets:
        if child(net, "target") is not None:
            continue
        counter = 0
        while f"testnet{counter}" in used:
            counter += 1
        name = f"testnet{counter}"
        used.add(name)
        insert_ordered(net, etree.Element("target", dev=name), NET_ORDER)
