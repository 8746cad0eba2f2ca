"""The ``<disk>`` device: virtual disks, CD-ROMs, floppies and SCSI LUNs.

::

    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native'/>
      <source file='/var/lib/libvirt/images/vm.qcow2'/>
      <backingStore type='file'>
        <format type='raw'/>
        <source file='/var/lib/libvirt/images/base.img'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <iotune><total_iops_sec>400</total_iops_sec></iotune>
      <serial>WD-1234</serial>
      <boot order='1'/>
      <alias name='ua-root'/>
    </disk>

:class:`Disk` gives typed access to the element; :meth:`Disk.parse` reads it
as libvirt 9.0's ``virDomainDiskDefParseXML`` does and returns a
:class:`DiskDef`, whose ``post_parse`` applies libvirt's defaults (the bus
inferred from the target name - ``hd*`` IDE, ``sd*`` SCSI, ``vd*`` virtio,
``xvd*`` Xen, ``ubd*`` UML, floppies on ``fdc``; CD-ROMs read-only; the
drive address of IDE/SCSI/SATA/floppy disks, derived from the target name
as :func:`drive_address_for` computes it) and ``validate`` makes
``virDomainDiskDefValidate``'s checks (in :mod:`.disk_check`). A disk
without a ``<source>`` element becomes a ``type='file'`` disk, as in
libvirt. Checks spanning several disks -
duplicate targets (``target 'vda' duplicated for disk sources '/a' and
'/b'``) and duplicate drive addresses - are in :func:`check_duplicates`.

Disks are read, checked and written for every domain document, several per
domain: the reader makes its records with :func:`new_disk` and
:func:`~virtcore.xml.domain.devices.source.new_source` (copies of the
defaults, equal to what the dataclasses' ``__init__`` makes) and reads the
optional attributes and children only when the element has some; the
writer looks at the rarely set fields only when one of them is set.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import UINT, XMLChild, XMLFlag, XMLProperty
from virtcore.xml.domain.devices.address import (
    INFO_CHILDREN,
    Address,
    DeviceInfo,
    DriveAddress,
)
from virtcore.xml.domain.devices.disk_check import validate_disk
from virtcore.xml.domain.devices.source import (
    STORAGE_FORMATS,
    STORAGE_TYPES,
    StorageSource,
    auth_element,
    backing_store_node,
    new_source,
    parse_auth,
    parse_backing_store,
    parse_encryption,
    parse_source,
)
from virtcore.xml.domain.devices.support import (
    UNASSIGNED,
    DeviceContext,
    DeviceDef,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    fail,
    field_defaults,
    first_children,
    onoff,
    prop,
    prop_enum,
    prop_switch,
    prop_tristate,
    prop_uint,
    text_of,
    virtio_attrs,
    yesno,
)
from virtcore.xml.domain.outnode import AttrValue, OutNode
from virtcore.xml.units import ULLONG_MAX, parse_scaled, parse_ullong

__all__ = [
    "BUSES",
    "DEVICES",
    "IOTUNE_FIELDS",
    "Disk",
    "DiskDef",
    "check_duplicates",
    "disk_name_index",
    "drive_address_for",
    "new_disk",
]

logger = logging.getLogger(__name__)

DEVICES = ("disk", "cdrom", "floppy", "lun")
BUSES = ("none", "ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd")
MODELS = ("default", "virtio", "virtio-transitional", "virtio-non-transitional")
SNAPSHOTS = ("default", "no", "internal", "external", "manual")
SGIO = ("default", "filtered", "unfiltered")
TRAYS = ("closed", "open")
TRANSLATIONS = ("default", "none", "auto", "lba")
STARTUP_POLICIES = ("default", "mandatory", "requisite", "optional")
CACHE_MODES = ("default", "none", "writethrough", "writeback", "directsync", "unsafe")
ERROR_POLICIES = ("default", "stop", "report", "ignore", "enospace")
IO_MODES = ("default", "native", "threads", "io_uring")
DISCARD = ("default", "unmap", "ignore")
DETECT_ZEROES = ("default", "off", "on", "unmap")
IOTUNE_FIELDS = (
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
    "total_iops_sec", "read_iops_sec", "write_iops_sec",
    "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
    "size_iops_sec",
    "total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
    "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length",
)  # fmt: skip
"""``<iotune>`` fields in libvirt's order (``group_name`` is written after ``size_iops_sec``)."""
_DRIVER_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("error_policy", ERROR_POLICIES),
    ("rerror_policy", ERROR_POLICIES),
    ("io", IO_MODES),
)
_DISK_PREFIXES = ("fd", "hd", "vd", "sd", "xvd", "ubd")
_BUS_BY_PREFIX = (("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("xvd", "xen"), ("ubd", "uml"))


@functools.lru_cache(maxsize=1024)
def disk_name_index(name: str) -> int | None:
    """``virDiskNameToIndex``: ``vda`` -> 0, ``sdb`` -> 1, ``hdaa`` -> 26; None if unknown.

    Cached: disks are ordered by it while a domain is read, several times each.
    """
    rest = next((name[len(p) :] for p in _DISK_PREFIXES if name.startswith(p)), None)
    if rest is None:
        return None
    index = 0
    letters = 0
    while letters < len(rest) and "a" <= rest[letters] <= "z":
        index = (index + (1 if letters else 0)) * 26 + ord(rest[letters]) - ord("a")
        letters += 1
    digits = rest[letters:]
    if not letters or (digits and not digits.isdigit()) or not digits.isascii():
        return None
    return index


def drive_address_for(bus: str, index: int) -> DriveAddress | None:
    """The drive address libvirt gives the disk number *index* on *bus* (narrow SCSI)."""
    numbers = _drive_numbers(bus, index)
    return None if numbers is None else DriveAddress(*numbers)


def _drive_numbers(bus: str, index: int) -> tuple[int, int, int, int] | None:
    """:func:`drive_address_for` as a plain tuple (equal to the address, and hashed alike)."""
    if bus == "scsi":
        return (index // 7, 0, 0, index % 7)
    if bus == "ide":
        return (index // 4, (index % 4) // 2, 0, index % 2)
    if bus == "sata":
        return (index // 6, 0, 0, index % 6)
    if bus == "fdc":
        return (index // 2, 0, 0, index % 2)
    return None


@dataclass
class DiskDef(DeviceDef):
    """A parsed ``<disk>`` (``virDomainDiskDef``)."""

    src: StorageSource = field(default_factory=StorageSource)
    device: str = "disk"
    bus: str = "none"
    dst: str | None = None
    model: str | None = None
    rawio: bool | None = None
    sgio: str | None = None
    snapshot: str | None = None
    driver_name: str | None = None
    driver: dict[str, str] = field(default_factory=dict)
    metadata_cache: int | None = None
    virtio: VirtioOptions | None = None
    disk_auth: bool = False
    disk_encryption: bool = False
    tray: str | None = None
    removable: bool | None = None
    rotation_rate: int = 0
    geometry: tuple[int, int, int] = (0, 0, 0)
    trans: str | None = None
    blockio: tuple[int, int] = (0, 0)
    transient: bool = False
    transient_share_backing: bool | None = None
    iotune: dict[str, int] = field(default_factory=dict)
    group_name: str | None = None
    serial: str | None = None
    wwn: str | None = None
    vendor: str | None = None
    product: str | None = None
    backend_domain: str | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    @property
    def source_path(self) -> str | None:
        """``virDomainDiskGetSource``: for gluster and rbd, the image without its pool."""
        src = self.src
        if src.type == "network" and src.protocol in ("gluster", "rbd") and src.path:
            return src.path.split("/", 1)[1]
        if src.type == "vhostuser":  # libvirt keeps the socket apart from the path
            return None
        return src.path

    # -- post-parse -------------------------------------------------------------------

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainDiskDefPostParse`` without the address (see :meth:`assign_address`)."""
        src = self.src
        dst = self.dst
        if dst is not None and dst.startswith("ioemu:"):
            dst = self.dst = dst[len("ioemu:") :]
        if self.device == "cdrom":
            src.readonly = True
        if self.bus == "none":
            self.bus = "ide"
            if self.device == "floppy":
                self.bus = "fdc"
            elif dst is not None:
                self.bus = next((b for p, b in _BUS_BY_PREFIX if dst.startswith(p)), "ide")
        if self.snapshot is None and src.readonly:
            self.snapshot = "no"
        kind = src.type
        if kind in _LOCAL_TYPES:
            pass  # none of the defaults below concern a local image
        elif kind == "network":
            if src.protocol == "iscsi" and src.path and "/" not in src.path:
                src.path += "/0"
        elif kind == "nvme":
            if src.nvme_managed is None:
                src.nvme_managed = True
        elif kind == "vhostuser" and self.snapshot is None:
            self.snapshot = "no"
        if src.fdgroup is not None:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"driver does not support FD passing for disk '{self.dst}'",
            )

    def assign_address(self, used_by_hostdevs: set[DriveAddress]) -> None:
        """``virDomainDiskDefAssignAddress``: a drive address derived from the target name."""
        dst = self.dst
        info = self.info
        if info.address_type != "none" or dst is None:
            return
        index = disk_name_index(dst)
        if index is None:
            fail(ErrorNumber.XML_ERROR, f"Unknown disk name '{dst}' and no address specified")
        address = _drive_numbers(self.bus, index)
        if address is None:
            return  # no drive address on this bus
        controller, bus, target, unit = address
        if self.bus == "scsi" and address in used_by_hostdevs:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"using disk target name '{self.dst}' conflicts with SCSI host device address "
                f"controller='{controller}' bus='{bus}' target='{target}' unit='{unit}",
            )
        info.set_drive(controller, bus, target, unit)

    # -- validation -------------------------------------------------------------------

    def validate(self, ctx: DeviceContext) -> None:
        """The device-info checks, then ``virDomainDiskDefValidate`` (see :mod:`.disk_check`)."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()
        validate_disk(self)

    # -- output -----------------------------------------------------------------------

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainDiskDefFormat``."""
        src = self.src
        snapshot = self.snapshot
        if snapshot == "no" and src.readonly:
            snapshot = None
        pairs: list[tuple[str, AttrValue]] = [("type", src.type), ("device", self.device)]
        if (
            self.model is not None
            or self.rawio is not None
            or self.sgio is not None
            or snapshot is not None
        ):
            pairs += [
                ("model", self.model),
                ("rawio", yesno(self.rawio)),
                ("sgio", self.sgio),
                ("snapshot", snapshot),
            ]
        kids: list[OutNode] = []
        driver = self._driver_element()
        if driver is not None:
            kids.append(driver)
        if src.auth is not None and self.disk_auth:
            kids.append(auth_element(src.auth))
        source = src.source_element(
            flags,
            skip_auth=self.disk_auth,
            skip_encryption=self.disk_encryption,
            with_index=True,
        )
        if source is not None:
            kids.append(source)
        if src.backing is not None:
            backing = backing_store_node(src, flags)
            if backing is not None:
                kids.append(backing)
        if (
            self.backend_domain is not None
            or self.geometry != _NO_GEOMETRY
            or self.blockio != _NO_BLOCKIO
        ):
            self._hardware_elements(kids)
        kids.append(OutNode("target", self._target_attrs()))
        if self.iotune or self.group_name is not None:
            iotune = self._iotune_element()
            if iotune is not None:
                kids.append(iotune)
        if src.readonly:
            kids.append(OutNode("readonly"))
        if src.shared:
            kids.append(OutNode("shareable"))
        if (
            self.transient
            or self.serial is not None
            or self.wwn is not None
            or self.vendor is not None
            or self.product is not None
        ):
            self._identity_elements(kids)
        if src.encryption is not None and self.disk_encryption:
            kids.append(src.encryption.to_element())
        kids += self.info.elements()
        return OutNode("disk", pairs, kids)

    def _hardware_elements(self, kids: list[OutNode]) -> None:
        """``<backenddomain>``, ``<geometry>`` and ``<blockio>``, those that are set."""
        if self.backend_domain is not None:
            kids.append(element("backenddomain", [("name", self.backend_domain)]))
        cyls, heads, secs = self.geometry
        if cyls and heads and secs:
            geometry = [("cyls", cyls), ("heads", heads), ("secs", secs), ("trans", self.trans)]
            kids.append(element("geometry", geometry))
        logical, physical = self.blockio
        if logical or physical:
            blockio = [
                ("logical_block_size", logical or None),
                ("physical_block_size", physical or None),
            ]
            kids.append(element("blockio", blockio))

    def _identity_elements(self, kids: list[OutNode]) -> None:
        """``<transient>``, then the texts that identify the disk to the guest."""
        if self.transient:
            kids.append(
                element("transient", [("shareBacking", yesno(self.transient_share_backing))])
            )
        for tag, text in (
            ("serial", self.serial),
            ("wwn", self.wwn),
            ("vendor", self.vendor),
            ("product", self.product),
        ):
            if text is not None:
                kids.append(element(tag, text=text))

    def _driver_element(self) -> OutNode | None:
        pairs: list[tuple[str, AttrValue]] = []
        if self.driver_name is not None:
            pairs.append(("name", self.driver_name))
        fmt = self.src.format
        if fmt is not None:
            pairs.append(("type", fmt))
        driver = self.driver
        if driver:
            for name in _DRIVER_ATTR_ORDER:
                value = driver.get(name)
                if value is not None:
                    pairs.append((name, value))
        virtio = self.virtio
        if virtio is not None and (
            virtio.iommu is not None
            or virtio.ats is not None
            or virtio.packed is not None
            or virtio.page_per_vq is not None
        ):
            pairs += [pair for pair in virtio_attrs(virtio) if pair[1] is not None]
        if self.metadata_cache is not None:
            size = element("max_size", [("unit", "bytes")], text=str(self.metadata_cache))
            return OutNode("driver", pairs, [element("metadata_cache", kids=[size])])
        return OutNode("driver", pairs) if pairs else None

    def _target_attrs(self) -> list[tuple[str, AttrValue]]:
        pairs: list[tuple[str, AttrValue]] = [("dev", self.dst), ("bus", self.bus)]
        tray = self.tray
        if tray is not None and tray != "closed" and self.device in ("cdrom", "floppy"):
            pairs.append(("tray", tray))
        if self.removable is not None and self.bus == "usb":
            pairs.append(("removable", onoff(self.removable)))
        if self.rotation_rate:
            pairs.append(("rotation_rate", self.rotation_rate))
        return pairs

    def _iotune_element(self) -> OutNode | None:
        if not self.iotune and self.group_name is None:
            return None
        kids = []
        for name in IOTUNE_FIELDS:
            value = self.iotune.get(name)
            if value:
                kids.append(element(name, text=str(value)))
            if name == "size_iops_sec" and self.group_name is not None:
                kids.append(element("group_name", text=self.group_name))
        return element("iotune", kids=kids) if kids else None

    def has_iotune(self) -> bool:
        """``virDomainBlockIoTuneInfoHasAny``."""
        return any(self.iotune.values())


_DISK_TEMPLATE = field_defaults(DiskDef)
"""Every :class:`DiskDef` field at its default (the containers made by :func:`new_disk`)."""
_new_disk_object = object.__new__
_NO_GEOMETRY = (0, 0, 0)
_NO_BLOCKIO = (0, 0)
_LOCAL_TYPES = ("file", "block", "dir")


def new_disk(src: StorageSource, device: str = "disk") -> DiskDef:
    """``DiskDef(src=src, device=device)``, made without running the dataclass ``__init__``.

    Every disk read makes one; the generated ``__init__`` sets thirty fields
    one by one, while this copies them all at once. The result is equal to
    the ``DiskDef`` call, with its own containers and device info.
    """
    disk = _new_disk_object(DiskDef)
    values = _DISK_TEMPLATE.copy()
    values["src"] = src
    values["device"] = device
    values["driver"] = {}
    values["iotune"] = {}
    values["info"] = DeviceInfo()
    disk.__dict__ = values
    return disk


_DRIVER_ATTR_ORDER = (
    "cache", "error_policy", "rerror_policy", "io", "ioeventfd", "event_idx", "copy_on_read",
    "discard", "iothread", "detect_zeroes", "queues", "queue_size",
)  # fmt: skip


def check_duplicates(disks: list[DiskDef]) -> None:
    """libvirt's checks for duplicate disk targets and drive addresses."""
    targets = {disk.dst for disk in disks}
    if len(targets) == len(disks):
        drived = [d for d in disks if d.info.address_type == "drive"]
        # A single drive address cannot be duplicated: no address is built for it.
        if len(drived) < 2 or len({(d.bus, d.info.drive) for d in drived}) == len(drived):
            return  # nothing duplicated: no pair to find and report
    for i, disk in enumerate(disks):
        for other in disks[i + 1 :]:
            if disk.dst == other.dst:
                fail(
                    ErrorNumber.XML_ERROR,
                    f"target '{disk.dst}' duplicated for disk sources "
                    f"'{disk.source_path or '<null>'}' and '{other.source_path or '<null>'}'",
                )
    for i, disk in enumerate(disks):
        address = disk.info.drive
        if address is None:
            continue
        for other in disks[i + 1 :]:
            if other.bus == disk.bus and other.info.drive == address:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"Found duplicate drive address for disk with target name '{disk.dst}' "
                    f"controller='{address.controller}' bus='{address.bus}' "
                    f"target='{address.target}' unit='{address.unit}'",
                )


class Disk(DeviceModel):
    """A ``<disk>`` element: typed properties, and libvirt's parsing (:meth:`parse`)."""

    TAG = "disk"
    XML_ORDER = {
        "": (
            "@type", "@device", "@model", "@rawio", "@sgio", "@snapshot", "driver", "auth",
            "source", "backingStore", "backenddomain", "geometry", "blockio", "target",
            "iotune", "readonly", "shareable", "transient", "serial", "wwn", "vendor",
            "product", "encryption", "boot", "alias", "address",
        ),
        "driver": (
            "@name", "@type", "@cache", "@error_policy", "@rerror_policy", "@io",
            "@ioeventfd", "@event_idx", "@copy_on_read", "@discard", "@iothread",
            "@detect_zeroes", "@queues", "@queue_size",
        ),
        "source": (
            "@file", "@dev", "@dir", "@protocol", "@name", "@pool", "@volume", "@mode",
            "@startupPolicy", "host", "snapshot", "config", "auth", "encryption",
        ),
        "target": ("@dev", "@bus", "@tray", "@removable", "@rotation_rate"),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="``file``, ``block``, ``dir``, ``network``, ``volume``...")
    device = XMLProperty("./@device", doc="``disk`` (default), ``cdrom``, ``floppy``, ``lun``.")
    driver_name = XMLProperty("./driver/@name", doc="The backend driver (``qemu``).")
    driver_type = XMLProperty("./driver/@type", doc="The image format (``raw``, ``qcow2``...).")
    driver_cache = XMLProperty("./driver/@cache", doc="The cache mode.")
    driver_io = XMLProperty("./driver/@io", doc="The I/O mode (``native``, ``threads``...).")
    source_file = XMLProperty("./source/@file", doc="The image of a ``file`` disk.")
    source_dev = XMLProperty("./source/@dev", doc="The block device of a ``block`` disk.")
    source_dir = XMLProperty("./source/@dir", doc="The directory of a ``dir`` disk.")
    source_protocol = XMLProperty("./source/@protocol", doc="The protocol of a network disk.")
    source_name = XMLProperty("./source/@name", doc="The image name of a network disk.")
    source_pool = XMLProperty("./source/@pool", doc="The storage pool of a ``volume`` disk.")
    source_volume = XMLProperty("./source/@volume", doc="The volume of a ``volume`` disk.")
    startup_policy = XMLProperty("./source/@startupPolicy", doc="What to do if it is missing.")
    target_dev = XMLProperty("./target/@dev", doc="The device name in the guest (``vda``).")
    target_bus = XMLProperty("./target/@bus", doc="The bus (``virtio``, ``scsi``, ``ide``...).")
    readonly = XMLFlag("./readonly", doc="Read-only to the guest.")
    shareable = XMLFlag("./shareable", doc="Shared between domains.")
    transient = XMLFlag("./transient", doc="Changes are discarded when the domain stops.")
    serial = XMLProperty("./serial", doc="The serial number the guest sees.")
    wwn = XMLProperty("./wwn", doc="The World Wide Name of the disk.")
    boot_order = XMLProperty("./boot/@order", UINT, doc="Position in the boot order.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The device address.")

    @property
    def source_path(self) -> str | None:
        """The file, device, directory or network name of the source, whatever the type."""
        for value in (self.source_file, self.source_dev, self.source_dir, self.source_name):
            if value is not None:
                return value
        return None

    def parse(self, ctx: DeviceContext | None = None) -> DiskDef:
        """``virDomainDiskDefParseXML``: the definition, with libvirt's parse-time errors."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> DiskDef:
        """:meth:`parse` of *node*, without a model around it."""
        # A disk is asked for some thirty children, most of them absent: one pass finds them.
        kids = first_children(node)
        get = kids.get
        # Valid values are recognised here; an invalid one goes to the prop_* reader, which
        # reports libvirt's error.
        kind_attr = node.get("type")
        kind = "file"
        if kind_attr is not None:
            if kind_attr not in _SOURCE_TYPES:
                prop_enum(node, "type", STORAGE_TYPES, nonzero=True)
            kind = kind_attr
        src = new_source(kind)
        source = get("source")
        if source is not None:
            if parse_source(source, src, ctx) and source.get("startupPolicy") is not None:
                src.startup_policy = prop_enum(
                    source, "startupPolicy", STARTUP_POLICIES, nonzero=True
                )
        else:
            # Without a <source> element libvirt resets the type to a file.
            src.type = "file"
        if "backingStore" in kids:
            parse_backing_store(node, src, ctx)
        device_attr = node.get("device")
        device = "disk"
        if device_attr is not None:
            if device_attr not in DEVICES:
                prop_enum(node, "device", DEVICES)
            device = device_attr
        disk = new_disk(src, device)
        # Only type= and device= (counted without a list of the names): nothing more to read.
        if len(node.attrib) != (kind_attr is not None) + (device_attr is not None):
            model = prop_enum(node, "model", MODELS)
            disk.model = None if model == "default" else model
            disk.snapshot = prop_enum(node, "snapshot", SNAPSHOTS, nonzero=True)
            disk.rawio = prop_tristate(node, "rawio")
            disk.sgio = prop_enum(node, "sgio", SGIO, nonzero=True)
        driver = get("driver")
        if driver is not None:
            _parse_driver(driver, disk)
        # The children most disks lack, looked for only when one of them is there.
        rare = not _RARE_CHILDREN.isdisjoint(kids)
        if rare and ("auth" in kids or "encryption" in kids):
            cls._parse_disk_level(kids, disk)
        target = get("target")
        if target is not None:
            dst = disk.dst = target.get("dev")
            bus = target.get("bus")
            if bus is not None:
                if bus not in _BUS_NAMES:
                    prop_enum(target, "bus", BUSES, nonzero=True)
                disk.bus = bus
            if len(target.attrib) != (dst is not None) + (bus is not None):
                cls._parse_target_options(target, disk)
        if rare:
            _parse_rare_children(kids, disk)
        if "readonly" in kids:
            src.readonly = True
        if "shareable" in kids:
            src.shared = True
        if not INFO_CHILDREN.isdisjoint(kids):
            disk.info = DeviceInfo.parse(node, ctx, boot=True, kids=kids)
        return disk

    @staticmethod
    def _parse_disk_level(kids: dict[str, etree._Element], disk: DiskDef) -> None:
        auth = kids.get("auth")
        if auth is not None:
            if disk.src.auth is not None:
                fail(ErrorNumber.XML_ERROR, "an <auth> definition already found for disk source")
            disk.src.auth = parse_auth(auth)
            disk.disk_auth = True
        encryption = kids.get("encryption")
        if encryption is not None:
            if disk.src.encryption is not None:
                fail(
                    ErrorNumber.XML_ERROR,
                    "an <encryption> definition already found for disk source",
                )
            disk.src.encryption = parse_encryption(encryption)
            disk.disk_encryption = True

    @staticmethod
    def _parse_target_options(target: etree._Element, disk: DiskDef) -> None:
        tray = prop_enum(target, "tray", TRAYS)
        disk.tray = None if tray == "closed" else tray
        disk.removable = prop_switch(target, "removable")
        disk.rotation_rate = prop_uint(target, "rotation_rate") or 0


def _parse_rare_children(kids: dict[str, etree._Element], disk: DiskDef) -> None:
    """The children after ``<target>`` most disks lack, in libvirt's order of reading."""
    get = kids.get
    geometry = get("geometry")
    if geometry is not None:
        _parse_geometry(geometry, disk)
    blockio = get("blockio")
    if blockio is not None:
        disk.blockio = (
            prop_uint(blockio, "logical_block_size") or 0,
            prop_uint(blockio, "physical_block_size") or 0,
        )
    transient = get("transient")
    if transient is not None:
        disk.transient = True
        disk.transient_share_backing = prop_tristate(transient, "shareBacking")
    iotune = get("iotune")
    if iotune is not None:
        _parse_iotune(iotune, disk)
    backend = get("backenddomain")
    if backend is not None:
        disk.backend_domain = prop(backend, "name")
    for name in _TEXT_CHILDREN:
        text_node = get(name)
        if text_node is not None:
            setattr(disk, name, text_of(text_node))


_SOURCE_TYPES = frozenset(STORAGE_TYPES[1:])
"""The values of ``<disk type>`` (``none`` only ends a backing chain)."""
_BUS_NAMES = frozenset(BUSES[1:])
"""The values of ``<target bus>``."""
_FORMATS = frozenset(STORAGE_FORMATS[1:])
"""The values of ``<driver type>`` besides ``aio``."""
_RARE_CHILDREN = frozenset(
    {
        "auth", "encryption", "geometry", "blockio", "transient", "iotune", "backenddomain",
        "serial", "wwn", "vendor", "product",
    }
)  # fmt: skip
"""The children :func:`_parse_rare_children` and ``_parse_disk_level`` read."""
_TEXT_CHILDREN = ("serial", "wwn", "vendor", "product")
"""The children read as text, in libvirt's order; each names its :class:`DiskDef` field."""


def _parse_driver(driver: etree._Element, disk: DiskDef) -> None:
    """``virDomainDiskDefDriverParseXML`` and ``virDomainDiskDefDriverSourceParseXML``."""
    name = driver.get("name")
    fmt = driver.get("type")
    nested = len(driver) != 0
    # The usual <driver name= type=> has none of the options: nothing else to look for.
    if nested or len(driver.attrib) != (name is not None) + (fmt is not None):
        disk.virtio = VirtioOptions.parse(driver)
        _parse_driver_options(driver, disk)
    else:
        disk.virtio = VirtioOptions()
    disk.driver_name = name
    if fmt is not None:
        if fmt == "aio":
            disk.src.format = "raw"
        elif fmt not in _FORMATS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown driver format value '{fmt}'")
        else:
            disk.src.format = fmt
    metadata = child(driver, "metadata_cache") if nested else None
    size = child(metadata, "max_size") if metadata is not None else None
    if size is not None:
        disk.metadata_cache = parse_scaled(
            text_of(size),
            prop(size, "unit"),
            where="./metadata_cache/max_size",
            scale=1,
            limit=ULLONG_MAX,
        )


def _parse_driver_options(driver: etree._Element, disk: DiskDef) -> None:
    cache = prop_enum(driver, "cache", CACHE_MODES)
    if cache is not None and cache != "default":
        disk.driver["cache"] = cache
    for name, values in _DRIVER_ENUMS:
        value = prop_enum(driver, name, values, nonzero=True)
        if value is not None:
            disk.driver[name] = value
    if disk.driver.get("rerror_policy") == "enospace":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "Invalid disk read error policy: 'enospace'")
    for name in ("ioeventfd", "event_idx", "copy_on_read"):
        switch = prop_switch(driver, name)
        if switch is not None:
            disk.driver[name] = "on" if switch else "off"
    for name, values in (("discard", DISCARD), ("detect_zeroes", DETECT_ZEROES)):
        value = prop_enum(driver, name, values, nonzero=True)
        if value is not None:
            disk.driver[name] = value
    for name in ("iothread", "queues", "queue_size"):
        number = prop_uint(driver, name, nonzero=name == "iothread")
        if number:
            disk.driver[name] = str(number)


def _parse_geometry(geometry: etree._Element, disk: DiskDef) -> None:
    disk.geometry = (
        prop_uint(geometry, "cyls") or 0,
        prop_uint(geometry, "heads") or 0,
        prop_uint(geometry, "secs") or 0,
    )
    disk.trans = prop_enum(geometry, "trans", TRANSLATIONS, nonzero=True)


def _parse_iotune(iotune: etree._Element, disk: DiskDef) -> None:
    """``virDomainDiskDefIotuneParse``."""
    for name in IOTUNE_FIELDS:
        text = text_of(child(iotune, name))
        if text is None:
            continue
        try:
            disk.iotune[name] = parse_ullong(text)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, f"disk iotune field '{name}' must be an integer")
    disk.group_name = text_of(child(iotune, "group_name"))


def expand_group_iotune(disk: DiskDef, disks: list[DiskDef]) -> None:
    """``virDomainDiskExpandGroupIoTune``: take the limits of another disk of the same group."""
    if disk.group_name is None or disk.has_iotune():
        return
    for other in disks:
        if other.group_name == disk.group_name and other.has_iotune():
            disk.iotune = dict(other.iotune)
            return
