"""libvirt's define-time processing of all the devices of a domain, and their output.

:func:`define_devices` takes a ``<devices>`` element through the three
steps of ``virDomainDefParseNode`` as far as devices are concerned and
returns a :class:`DevicesDef`:

1. **parse** (:func:`parse_devices`) - every device, kind by kind in
   ``virDomainDefParseXML``'s order, with the one-of-a-kind limits
   (``only a single watchdog device is supported``) and controllers kept
   sorted as libvirt inserts them;
2. **post-parse** (:func:`post_parse_devices`) - controller indexes, the
   per-device defaults in libvirt's device iteration order (disk buses and
   drive addresses, MAC addresses, SCSI hostdev addresses, ...), duplicate
   controller and boot order checks, and the implicit devices: disk, SCSI,
   virtio-serial and CCID controllers, the serial console and the video
   card of a domain with graphics;
3. **validate** (:func:`validate_devices`) - per-device checks, then the
   domain-wide ones (duplicate disk targets and drive addresses, unique
   aliases, duplicate host devices, a USB bus for redirected devices).

:meth:`DevicesDef.to_element` then writes ``<devices>`` as
``virDomainDefFormatInternal`` does. A domain that is not running is
always written as inactive (libvirt adds ``VIR_DOMAIN_XML_INACTIVE`` when
the domain has no id), which callers express with :data:`INACTIVE`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.childindex import children_by_name
from virtcore.xml.domain.devices.address import DriveAddress, check_unique_aliases
from virtcore.xml.domain.devices.audio import AudioDef, check_audio_ids
from virtcore.xml.domain.devices.chardev import Chardevs, chardev_copies, resolve_copies
from virtcore.xml.domain.devices.controller import (
    ControllerDef,
    assign_indexes,
    check_controllers,
    check_usb_masters,
    check_usb_none,
    ensure_controller,
    has_usb,
    insert_controller,
)
from virtcore.xml.domain.devices.disk import (
    DiskDef,
    check_duplicates,
    disk_name_index,
    expand_group_iotune,
)
from virtcore.xml.domain.devices.filesystem import FilesystemDef, check_filesystems
from virtcore.xml.domain.devices.hostdev import HostdevDef, check_duplicate_hostdevs
from virtcore.xml.domain.devices.interface import (
    InterfaceDef,
    MacGenerator,
    assign_test_ifnames,
    random_mac,
)
from virtcore.xml.domain.devices.iommu import IOMMUDef
from virtcore.xml.domain.devices.memory import MemoryDeviceDef, total_size
from virtcore.xml.domain.devices.panic import PanicDef, check_duplicate_models
from virtcore.xml.domain.devices.redirdev import RedirdevDef, RedirFilterDef, check_usb
from virtcore.xml.domain.devices.registry import (
    BY_TAG,
    FORMAT_ORDER,
    PARSE_ORDER,
    SINGLE,
    TPM_LIMIT,
)
from virtcore.xml.domain.devices.smartcard import SmartcardDef, assign_ccid_addresses
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    element,
    fail,
    text_of,
)
from virtcore.xml.domain.devices.video import VideoDef, resolve_videos
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "INACTIVE",
    "DevicesDef",
    "DomainDeviceContext",
    "define_devices",
    "finish_devices",
    "parse_devices",
    "post_parse_devices",
    "validate_devices",
]

logger = logging.getLogger(__name__)

_DISK_CONTROLLERS = (("scsi", "scsi"), ("fdc", "fdc"), ("ide", "ide"), ("sata", "sata"))
# virDomainDeviceInfoIterate's order, which is the order of post-parse and validation.
_ITERATION = (
    "disk", "interface", "sound", "hostdev", "video", "controller", "smartcard", "serial",
    "parallel", "channel", "console", "input", "filesystem", "watchdog", "memballoon", "hub",
    "shmem", "tpm", "panic", "memory", "redirdev", "rng", "iommu", "vsock", "audio",
)  # fmt: skip
_CHARDEVS = ("parallel", "serial", "console", "channel")
_CHARDEVS_SET = frozenset(_CHARDEVS)
_BOOTABLE = ("disk", "interface", "hostdev", "filesystem", "redirdev")
"""The kinds that may have a ``<boot order>``, in the order libvirt checks them."""
_POST_PARSED_APART = frozenset({"video", "parallel", "console", "channel"})
"""Kinds :func:`post_parse_devices` does not visit in its loop (``serial`` stands for all
the character devices)."""
_FORMAT_INDEX = {tag: index for index, tag in enumerate(FORMAT_ORDER)}
_D = TypeVar("_D", bound=DeviceDef)


@dataclass
class DomainDeviceContext(DeviceContext):
    """:class:`DeviceContext` plus what only whole-domain processing needs."""

    mac_generator: MacGenerator = random_mac
    """Makes the MAC address of an interface that has none (libvirt: random ``52:54:00``)."""
    memory_kib: int | None = None
    """The domain's ``<memory>`` in KiB, to check memory devices against (None: no check)."""
    test_ifnames: bool = False
    """Name interfaces without a target ``testnet<N>``, as libvirt's test driver does."""
    keep_controller_order: bool = False
    """Take the controllers in document order instead of sorting them as a parse does.

    libvirt sorts controllers by type and index only when it parses XML
    (``virDomainControllerInsertPreAlloced``); those a driver adds after the
    parse (``virDomainDefAddController``) are appended, and a definition
    that is never parsed again keeps that order - the live definition of a
    guest started from it, for one.
    """


@dataclass
class DevicesDef:
    """The devices of a domain after libvirt's processing, by element name."""

    emulator: str | None = None
    by_tag: dict[str, list[DeviceDef]] = field(
        default_factory=lambda: {tag: [] for tag in FORMAT_ORDER}
    )
    chardevs: Chardevs | None = None
    """The character devices after libvirt's port and console processing."""

    def __getitem__(self, tag: str) -> list[DeviceDef]:
        return self.by_tag[tag]

    @property
    def disks(self) -> list[DiskDef]:
        """The disks."""
        return [d for d in self.by_tag["disk"] if isinstance(d, DiskDef)]

    @property
    def controllers(self) -> list[ControllerDef]:
        """The controllers, in libvirt's order."""
        return [c for c in self.by_tag["controller"] if isinstance(c, ControllerDef)]

    @property
    def interfaces(self) -> list[InterfaceDef]:
        """The network interfaces."""
        return [n for n in self.by_tag["interface"] if isinstance(n, InterfaceDef)]

    @property
    def hostdevs(self) -> list[HostdevDef]:
        """The host devices."""
        return [h for h in self.by_tag["hostdev"] if isinstance(h, HostdevDef)]

    def all(self) -> Iterable[DeviceDef]:
        """Every device, in output order."""
        for tag in FORMAT_ORDER:
            yield from self._output(tag)

    def _output(self, tag: str) -> list[DeviceDef]:
        chardevs = self.chardevs
        if chardevs is not None and tag in _CHARDEVS:
            if tag == "console":
                return list(chardevs.consoles_to_format())
            if tag == "serial":
                return list(chardevs.serials)
            if tag == "parallel":
                return list(chardevs.parallels)
            return list(chardevs.channels)
        return self.by_tag[tag]

    def to_element(self, flags: int = 0) -> OutNode:
        """``<devices>`` as libvirt writes it for *flags* (``VIR_DOMAIN_XML_*``)."""
        out = element("devices")
        kids = out.children
        if self.emulator is not None:
            kids.append(element("emulator", text=self.emulator))
        chardevs = self.chardevs
        # Most kinds are absent: only those present are visited, in libvirt's order.
        by_tag = self.by_tag
        tags = [tag for tag, devices in by_tag.items() if devices and tag in _FORMAT_INDEX]
        if chardevs is not None:
            # Character devices are written from their resolved lists, not by_tag.
            tags.extend(tag for tag in _CHARDEVS if tag not in tags)
        if not tags:
            return out
        tags.sort(key=_FORMAT_INDEX.__getitem__)
        for tag in tags:
            if chardevs is not None and tag in _CHARDEVS_SET:
                if tag == "console":
                    kids += chardevs.console_elements(flags)
                    continue
                devices = self._output(tag)
            else:
                devices = by_tag[tag]
            for device in devices:
                kind = device.__class__
                shown = _ALWAYS_SHOWN.get(kind)
                if shown is None:
                    shown = _ALWAYS_SHOWN[kind] = _always_shown(kind)
                if not shown and (
                    device.hidden(flags)
                    or (isinstance(device, RedirFilterDef) and not device.rules)
                ):
                    continue
                kids.append(device.to_element(flags))
        return out


_ALWAYS_SHOWN: dict[type[DeviceDef], bool] = {}
"""Per device class, whether :meth:`DevicesDef.to_element` writes every device of it."""


def _always_shown(kind: type[DeviceDef]) -> bool:
    """Whether devices of *kind* are written whatever the flags and their content: the
    class keeps :meth:`DeviceDef.hidden` and is no redirection filter (which an empty
    rule list hides)."""
    return kind.hidden is DeviceDef.hidden and not issubclass(kind, RedirFilterDef)


# -- parse ----------------------------------------------------------------------------------


def _nodes(node: etree._Element) -> dict[str, list[etree._Element]]:
    """The child elements of *node* by name, as the read's child index groups them.

    Within :func:`~virtcore.xml.childindex.indexed_reading` the domain's
    reader has indexed ``<devices>`` already: its index is that table, and
    is only read. Elements in a namespace are kept under ``{uri}name``,
    which no device name matches.
    """
    return children_by_name(node)


def parse_devices(node: etree._Element, ctx: DeviceContext) -> DevicesDef:
    """Parse every device of ``<devices>`` *node* in libvirt's parse order."""
    nodes = _nodes(node)
    emulator = nodes.get("emulator")
    defs = _new_devices(text_of(emulator[0]) if emulator is not None else None)
    # Only the kinds present are visited, in libvirt's order; others are unknown elements.
    tags = sorted(nodes.keys() & _PARSE_INDEX.keys(), key=_PARSE_INDEX.__getitem__)
    if "controller" not in nodes:
        # As after parsing no controller (no kind parsed before controllers reads it).
        ctx.usb_disabled = False
    by_tag = defs.by_tag
    for tag in tags:
        items = nodes[tag]
        if len(items) > 1:
            single = SINGLE.get(tag)
            if single is not None:
                fail(*single)
            if tag == "tpm" and len(items) > 2:
                fail(*TPM_LIMIT)
        read = _READERS[tag]
        if tag not in _PARSED_APART:
            found = by_tag[tag]
            for item in items:
                found.append(read(item, ctx))
        elif tag == "disk":
            _read_disks(items, ctx, by_tag["disk"])
        else:
            for item in items:
                parsed = read(item, ctx)
                if tag == "controller":
                    assert isinstance(parsed, ControllerDef)
                    _add_controller(
                        defs, parsed, keep_order=getattr(ctx, "keep_controller_order", False)
                    )
                elif tag == "hostdev":
                    assert isinstance(parsed, HostdevDef)
                    _add_hostdev(defs, parsed, ctx)
                elif ctx.usb_disabled:  # a hub
                    fail(
                        ErrorNumber.CONFIG_UNSUPPORTED,
                        "Can't add USB hub: USB is disabled for this domain",
                    )
                else:
                    by_tag[tag].append(parsed)
            if tag == "controller":
                ctx.usb_disabled = any(
                    c.type == "usb" and c.model == "none" for c in defs.controllers
                )
    return defs


_PARSE_INDEX = {tag: index for index, tag in enumerate(PARSE_ORDER)}
_READERS = {tag: BY_TAG[tag].model.read for tag in PARSE_ORDER}
"""Each kind's reader (``DeviceModel.read``), looked up once."""
_PARSED_APART = frozenset({"controller", "disk", "hostdev", "hub"})
"""The kinds :func:`parse_devices` does more with than append them to their list."""


def _new_devices(emulator: str | None) -> DevicesDef:
    """``DevicesDef(emulator=emulator)``, without the generated ``__init__`` and its default
    factory: every domain read makes one."""
    defs = _new_object(DevicesDef)
    defs.__dict__ = {
        "emulator": emulator,
        "by_tag": {tag: [] for tag in FORMAT_ORDER},
        "chardevs": None,
    }
    return defs


_new_object = object.__new__


def _read_disks(items: list[etree._Element], ctx: DeviceContext, disks: list[DeviceDef]) -> None:
    """Read the ``<disk>`` elements *items* into *disks*, each inserted as
    ``virDomainDiskInsert`` inserts it: disks on one bus are kept in the order of their names.

    The bus is the one the document gives (libvirt infers missing buses
    later), so disks without a bus are ordered among themselves. A disk
    without a target name (refused later, by validation) goes last, and
    counts as index -1 for the disks inserted after it.

    libvirt looks at every disk of the bus; while the disks of each bus are
    in the order of their names, which holds until a disk without a name
    is appended, the last disk of the bus whose name does not come after
    the new one ends the search (no disk before it comes after the new
    one either).
    """
    read = _READERS["disk"]
    keys: list[tuple[str, int]] = []  # (bus, name index) of each disk of *disks*
    buses: set[str] = set()  # the buses of *disks*
    ordered = True  # the disks of each bus are in the order of their names
    for item in items:
        new = read(item, ctx)
        assert isinstance(new, DiskDef)
        bus = new.bus
        dst = new.dst
        if dst is None:
            disks.append(new)
            keys.append((bus, -1))
            buses.add(bus)
            ordered = False
            continue
        mine = disk_name_index(dst)
        if mine is None:
            mine = -1
        # Usually the disk goes last: it is the first of its bus, or the last disk is of its
        # bus and does not come after it in name order.
        if bus not in buses or (ordered and keys[-1][0] == bus and keys[-1][1] <= mine):
            disks.append(new)
            keys.append((bus, mine))
            buses.add(bus)
            continue
        insert_at = -1
        for position in range(len(keys) - 1, -1, -1):
            their_bus, theirs = keys[position]
            if their_bus != bus:
                continue
            if theirs > mine:
                insert_at = position
            elif insert_at == -1:
                insert_at = position + 1
                if ordered:
                    break
            elif ordered:
                break
        if insert_at == -1:
            disks.append(new)
            keys.append((bus, mine))
        else:
            disks.insert(insert_at, new)
            keys.insert(insert_at, (bus, mine))


def _add_hostdev(defs: DevicesDef, hostdev: HostdevDef, ctx: DeviceContext) -> None:
    if ctx.usb_disabled and hostdev.subsys is not None and hostdev.subsys.type == "usb":
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "Can't add host USB device: USB is disabled in this host",
        )
    defs.by_tag["hostdev"].append(hostdev)
    # libvirt adds the SCSI controllers of SCSI hostdevs as it parses them.
    controllers = defs.controllers
    _implicit_scsi_for_hostdevs(defs.hostdevs, controllers)
    defs.by_tag["controller"] = list(controllers)


def _add_controller(defs: DevicesDef, parsed: ControllerDef, *, keep_order: bool) -> None:
    controllers = defs.controllers
    if keep_order:
        controllers.append(parsed)
    else:
        insert_controller(controllers, parsed)
    check_usb_none(controllers)
    defs.by_tag["controller"] = list(controllers)


# -- post-parse ---------------------------------------------------------------------------


def post_parse_devices(defs: DevicesDef, ctx: DeviceContext) -> None:
    """libvirt's post-parse of the devices (``virDomainDefPostParse``)."""
    by_tag = defs.by_tag
    if not any(by_tag.values()):
        # Nothing to fill in, number, address or add controllers for.
        defs.chardevs = _resolve_chardevs(defs, ctx)
        return
    # A list of the domain's own (the implicit controllers are added to it).
    controllers = defs.controllers if by_tag["controller"] else []
    if controllers:
        assign_indexes(controllers)
    hostdevs = defs.hostdevs if by_tag["hostdev"] else []
    # The kinds in libvirt's iteration order: the disks, the kinds up to the host devices,
    # the host devices, the kinds up to the serial ports, the character devices together
    # (present or not), then the others. Video cards are handled with the implicit devices.
    disks = defs.disks if by_tag["disk"] else []
    if disks:
        if hostdevs:
            explicit = {h.info.drive for h in hostdevs if h.is_scsi and h.info.drive is not None}
        else:
            explicit = set()
        for disk in disks:
            disk.post_parse(ctx)
            disk.assign_address(explicit)
            if disk.group_name is not None:  # only grouped disks share limits
                expand_group_iotune(disk, disks)
    for tag in _BEFORE_HOSTDEVS:
        for device in by_tag[tag]:
            device.post_parse(ctx)
    if hostdevs:
        _hostdev_addresses(disks, hostdevs, ctx)
    for tag in _BEFORE_SERIALS:
        for device in by_tag[tag]:
            device.post_parse(ctx)
    defs.chardevs = _resolve_chardevs(defs, ctx)
    for tag in _AFTER_SERIALS:
        for device in by_tag[tag]:
            device.post_parse(ctx)
    if by_tag["interface"] and getattr(ctx, "test_ifnames", False):
        assign_test_ifnames(defs.interfaces)
    _common_checks(defs, controllers, ctx)
    _implicit_controllers(defs, disks, controllers)
    by_tag["controller"] = cast("list[DeviceDef]", controllers)  # a list of its own already
    for graphics in by_tag["graphics"]:
        graphics.post_parse(ctx)


def _between(first: str | None, last: str | None, *, skip: frozenset[str]) -> tuple[str, ...]:
    """The kinds of :data:`_ITERATION` after *first* and before *last* (None: from the start,
    to the end), without those of *skip*."""
    start = 0 if first is None else _ITERATION.index(first) + 1
    end = len(_ITERATION) if last is None else _ITERATION.index(last)
    return tuple(tag for tag in _ITERATION[start:end] if tag not in skip)


_BEFORE_HOSTDEVS = _between("disk", "hostdev", skip=_POST_PARSED_APART)
_BEFORE_SERIALS = _between("hostdev", "serial", skip=_POST_PARSED_APART)
_AFTER_SERIALS = _between("serial", None, skip=_POST_PARSED_APART)


def _hostdev_addresses(
    disks: list[DiskDef], hostdevs: list[HostdevDef], ctx: DeviceContext
) -> None:
    """``virDomainHostdevDefPostParse`` for every host device."""
    scsi_disks = {d.info.drive for d in disks if d.bus == "scsi" and d.info.drive is not None}
    used: set[DriveAddress] = set(scsi_disks)
    used.update(h.info.drive for h in hostdevs if h.is_scsi and h.info.drive is not None)
    for hostdev in hostdevs:
        hostdev.post_parse(ctx)
        if not hostdev.is_scsi:
            continue
        if hostdev.subsys is not None and hostdev.subsys.iscsi is not None:
            path = hostdev.subsys.iscsi.path or ""
            if "/" not in path:
                hostdev.subsys.iscsi.path = f"{path}/0"
        hostdev.assign_address(used)
        address = hostdev.info.drive
        if address is not None and address in scsi_disks:
            fail(
                ErrorNumber.XML_ERROR,
                f"SCSI host address controller='{address.controller}' bus='{address.bus}' "
                f"target='{address.target}' unit='{address.unit}' in use by a SCSI disk",
            )


def _resolve_chardevs(defs: DevicesDef, ctx: DeviceContext) -> Chardevs:
    """Ports, the serial console and ISA serial ports (``resolve_chardevs``), unvalidated."""
    by_tag = defs.by_tag
    # Most kinds are absent: no copying call for them.
    parallels = by_tag["parallel"]
    serials = by_tag["serial"]
    consoles = by_tag["console"]
    channels = by_tag["channel"]
    return resolve_copies(
        chardev_copies(parallels) if parallels else [],
        chardev_copies(serials) if serials else [],
        chardev_copies(consoles) if consoles else [],
        chardev_copies(channels) if channels else [],
        ctx,
    )


def _typed(devices: list[DeviceDef], kind: type[_D]) -> list[_D]:
    return [device for device in devices if isinstance(device, kind)]


def _common_checks(defs: DevicesDef, controllers: list[ControllerDef], ctx: DeviceContext) -> None:
    """The device checks of ``virDomainDefPostParseCommon``; *controllers* are those of
    *defs* (the caller has them already, before any implicit one is added)."""
    by_tag = defs.by_tag
    memory_kib = getattr(ctx, "memory_kib", None)
    if memory_kib is not None:
        memories = by_tag["memory"]
        # No memory device adds nothing: no filtering and summing for the usual domain.
        total = total_size(_typed(memories, MemoryDeviceDef)) if memories else 0
        if total > memory_kib:
            fail(
                ErrorNumber.XML_ERROR, "Total size of memory devices exceeds the total memory size"
            )
    if controllers:
        check_controllers(controllers)
    if by_tag["panic"]:
        check_duplicate_models(_typed(by_tag["panic"], PanicDef))
    seen: set[int] = set()
    for tag in _BOOTABLE:
        for device in by_tag[tag]:
            order = getattr(device.info, "boot_order", None)
            if not order:
                continue
            if order in seen:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"boot order '{order}' used for more than one device",
                )
            seen.add(order)


def _implicit_controllers(
    defs: DevicesDef, disks: list[DiskDef], controllers: list[ControllerDef]
) -> None:
    """``virDomainDefAddImplicitControllers``."""
    highest: dict[str, int] = {}
    for disk in disks:
        info = disk.info
        if info.address_type != "drive":
            continue  # no drive address: no controller it needs
        # Only the controller number matters: no whole DriveAddress is built for it.
        controller = int(info.address["controller"])
        if controller > highest.get(disk.bus, -1):
            highest[disk.bus] = controller
    if highest:
        for kind, bus in _DISK_CONTROLLERS:
            top = highest.get(bus)
            if top is not None:
                for index in range(top + 1):
                    ensure_controller(controllers, kind, index)
    chardevs = defs.chardevs
    if chardevs is not None and (chardevs.channels or chardevs.consoles):
        for dev in (*chardevs.channels, *chardevs.consoles):
            if dev.target_type != "virtio":
                continue
            index = 0
            if dev.info.address_type == "virtio-serial":
                index = int(dev.info.address.get("controller", "0"))
            ensure_controller(controllers, "virtio-serial", index)
    if defs.by_tag["smartcard"]:
        for index in assign_ccid_addresses(_typed(defs.by_tag["smartcard"], SmartcardDef)):
            ensure_controller(controllers, "ccid", index)
    if defs.by_tag["hostdev"]:
        _implicit_scsi_for_hostdevs(defs.hostdevs, controllers)


def _implicit_scsi_for_hostdevs(
    hostdevs: list[HostdevDef], controllers: list[ControllerDef]
) -> None:
    """``virDomainDefMaybeAddHostdevSCSIcontroller``.

    A hostdev without an address yet counts as on controller 0 (libvirt reads
    the zeroed address).
    """
    highest = -1
    model: str | None = None
    for hostdev in hostdevs:
        address = hostdev.info.drive
        controller = address.controller if address is not None else 0
        if not hostdev.is_scsi or controller <= highest:
            continue
        highest = controller
        found = next((c for c in controllers if c.type == "scsi" and c.index == controller), None)
        if found is not None and found.model is not None:
            model = found.model
    for index in range(highest + 1):
        ensure_controller(controllers, "scsi", index, model)


# -- validation ---------------------------------------------------------------------------


def validate_devices(defs: DevicesDef, ctx: DeviceContext) -> None:
    """libvirt's validation of the devices (``virDomainDefValidate``)."""
    by_tag = defs.by_tag
    if not any(by_tag.values()):
        return  # no device, and none added without graphics: nothing to check
    # Each device in libvirt's iteration order; the video cards (the implicit one too),
    # controllers, character devices and redirected devices with the checks that follow them.
    for tag in _VALIDATED_BEFORE_VIDEOS:
        for device in by_tag[tag]:
            device.validate(ctx)
    _resolve_videos(defs, bool(by_tag["graphics"]), ctx)
    controllers = by_tag["controller"]
    if controllers:
        for device in controllers:
            device.validate(ctx)
        check_usb_masters(defs.controllers)
    for device in by_tag["smartcard"]:
        device.validate(ctx)
    chardevs = defs.chardevs
    if chardevs is not None:
        for dev in chardevs.all():
            dev.validate(ctx)
    for tag in _VALIDATED_BEFORE_REDIRDEVS:
        for device in by_tag[tag]:
            device.validate(ctx)
    redirdevs = by_tag["redirdev"]
    if redirdevs:
        for device in redirdevs:
            device.validate(ctx)
        check_usb(
            [r for r in redirdevs if isinstance(r, RedirdevDef)],
            has_usb(defs.controllers),
        )
    for tag in _VALIDATED_LAST:
        for device in by_tag[tag]:
            device.validate(ctx)
    for device in by_tag["graphics"]:
        device.validate(ctx)
    for iommu in by_tag["iommu"]:
        if isinstance(iommu, IOMMUDef):
            iommu.validate_domain(ctx)
    if by_tag["disk"]:
        check_duplicates(defs.disks)
    interface_hostdevs = [
        n.hostdev
        for n in by_tag["interface"]
        if isinstance(n, InterfaceDef) and n.hostdev is not None
    ]
    if by_tag["hostdev"] or interface_hostdevs:
        check_duplicate_hostdevs(defs.hostdevs, interface_hostdevs)
    if _any_alias(by_tag):
        check_unique_aliases(_aliased(defs))
    if by_tag["filesystem"]:
        check_filesystems(_typed(by_tag["filesystem"], FilesystemDef))
    if by_tag["audio"]:
        check_audio_ids(_typed(by_tag["audio"], AudioDef))


_VALIDATED_APART = frozenset({"video", "controller", "smartcard", "redirdev", *_CHARDEVS})
_VALIDATED_BEFORE_VIDEOS = _between(None, "video", skip=_VALIDATED_APART)
_VALIDATED_BEFORE_REDIRDEVS = _between("serial", "redirdev", skip=_VALIDATED_APART)
_VALIDATED_LAST = _between("redirdev", None, skip=_VALIDATED_APART)


def _any_alias(by_tag: dict[str, list[DeviceDef]]) -> bool:
    """Whether some device has an alias: the resolved character devices are copies of the
    parsed ones or consoles without one, so the parsed devices tell."""
    # Most kinds are absent: skip their empty lists without entering a loop for each.
    for devices in filter(None, by_tag.values()):
        for device in devices:
            if device.info.alias is not None:
                return True
    return False


def _aliased(defs: DevicesDef) -> list[DeviceInfo]:
    """The infos that have an alias, as ``virDomainDefValidateAliases`` visits the devices.

    The console that stands for the first serial port shares that port's
    alias, so the port itself is skipped when the first console is one.
    """
    chardevs = defs.chardevs
    by_tag = defs.by_tag
    found: list[DeviceInfo] = []
    for tag in FORMAT_ORDER:
        devices: Sequence[DeviceDef]
        if chardevs is None or tag not in _CHARDEVS_SET:
            devices = by_tag[tag]
        elif tag == "serial":
            compat = bool(chardevs.consoles) and chardevs.consoles[0].target_type == "serial"
            devices = chardevs.serials[1:] if compat else chardevs.serials
        elif tag == "console":
            devices = chardevs.consoles
        elif tag == "parallel":
            devices = chardevs.parallels
        else:
            devices = chardevs.channels
        for device in devices:
            if device.info.alias is not None:
                found.append(device.info)
    return found


def finish_devices(defs: DevicesDef, ctx: DeviceContext) -> None:
    """What :func:`validate_devices` fills in (the video cards), without its checks."""
    if any(defs.by_tag.values()):
        _resolve_videos(defs, bool(defs.by_tag["graphics"]), ctx, validate=False)


def _resolve_videos(
    defs: DevicesDef, graphics: bool, ctx: DeviceContext, *, validate: bool = True
) -> None:
    """Defaults, the implicit video card and the primary video (``resolve_videos``)."""
    videos = _typed(defs.by_tag["video"], VideoDef)
    # resolve_videos returns a list of its own: kept as it is, without a copy.
    defs.by_tag["video"] = cast(
        "list[DeviceDef]", resolve_videos(videos, graphics=graphics, ctx=ctx, validate=validate)
    )


def define_devices(node: etree._Element, ctx: DeviceContext | None = None) -> DevicesDef:
    """Parse, post-parse and validate ``<devices>`` *node* as libvirt's define does."""
    ctx = dataclasses.replace(ctx) if ctx is not None else DomainDeviceContext()
    defs = parse_devices(node, ctx)
    post_parse_devices(defs, ctx)
    validate_devices(defs, ctx)
    return defs
