"""Validation of a parsed ``<disk>`` (``virDomainDiskDefValidate``).

The checks run in libvirt's order, so a document with several problems
reports the same one libvirt does: the target, the source chain
(authentication, encryption), the LUN rules, ``<iotune>``, the address
against the bus, the virtio-only settings, the vhost-user restrictions, the
target properties and finally the missing media of a hard disk.

    >>> from virtcore.xml.domain.devices.disk import DiskDef
    >>> disk = DiskDef(dst="vda", bus="virtio")
    >>> validate_disk(disk)
    Traceback (most recent call last):
    ...
    virtcore.errors.VirtError: missing source information for device vda
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices.support import fail

if TYPE_CHECKING:
    from virtcore.xml.domain.devices.disk import DiskDef
    from virtcore.xml.domain.devices.source import StorageSource

__all__ = ["is_empty", "validate_disk", "validate_source_chain"]

_DRIVE_BUSES = ("ide", "fdc", "scsi", "sata")
_HARDDISK_PREFIXES = ("hd", "sd", "vd", "xvd", "ubd")
_AUTH_UNSUPPORTED = ("nbd", "sheepdog", "gluster", "tftp", "vxhs", "nfs")
_SECRET_USAGES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")
_LOCAL_TYPES = ("file", "block", "dir")
_VENDOR_LEN = 8
_PRODUCT_LEN = 16
# (driver attribute, name in the message) in virDomainDiskVhostUserValidate's order.
_VHOSTUSER_DRIVER = (
    ("cache", "cache"),
    ("error_policy", "error_policy"),
    ("rerror_policy", "error_policy"),
    ("io", "io"),
    ("ioeventfd", "ioeventfd"),
    ("copy_on_read", "copy_on_read"),
    ("discard", "discard"),
    ("iothread", "iothread"),
    ("detect_zeroes", "detect_zeroes"),
)


def is_empty(src: StorageSource) -> bool:
    """``virStorageSourceIsEmpty``: no media (a CD-ROM drive without a disc)."""
    if src.type in _LOCAL_TYPES:
        return src.path is None
    if src.type == "network":
        return src.protocol in (None, "none")
    if src.type == "volume":
        return src.pool is None
    if src.type == "nvme":
        return not src.nvme_address
    if src.type == "vhostuser":
        return src.path is None
    return False


def validate_source_chain(src: StorageSource | None) -> None:
    """``virDomainDiskDefValidateSource``: every layer, the top one first."""
    while src is not None:
        _validate_layer(src)
        src = src.backing


def _validate_layer(src: StorageSource) -> None:
    """``virDomainDiskDefValidateSourceChainOne``."""
    auth = src.auth
    if src.type == "network" and auth is not None:
        if src.protocol in _AUTH_UNSUPPORTED:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"authentication is not supported for protocol '{src.protocol}'",
            )
        if auth.secret_type not in _SECRET_USAGES:
            shown = "<null>" if auth.secret_type is None else auth.secret_type
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown secret type '{shown}'")
        if (src.protocol == "iscsi" and auth.secret_type != "iscsi") or (
            src.protocol == "rbd" and auth.secret_type != "ceph"
        ):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"invalid secret type '{auth.secret_type}'")
    encryption = src.encryption
    if encryption is not None and encryption.format == "luks" and encryption.cipher:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "supplying <cipher> for domain disk definition is unnecessary",
        )


def validate_disk(disk: DiskDef) -> None:
    """``virDomainDiskDefValidate`` (the device-info checks run before it).

    Each check that needs more than a look at one or two fields is behind a
    test of the fields it concerns, so that a plain disk is passed quickly.
    """
    dst = disk.dst
    if dst is None:
        _check_target(disk)
    src = disk.src
    if src.backing is not None or src.auth is not None or src.encryption is not None:
        validate_source_chain(src)
    if disk.sgio == "unfiltered":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "unfiltered sgio is no longer supported")
    device = disk.device
    if device == "lun":
        _validate_lun(src)
    elif src.reservations is not None or disk.rawio is not None or disk.sgio is not None:
        _validate_not_lun(disk)
    if disk.iotune:
        _validate_iotune(disk.iotune)
    bus = disk.bus
    address_type = disk.info.address_type
    if address_type != "none" and not _address_fits_bus(bus, address_type):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"Invalid address type '{address_type}' for the disk '{dst}' with the bus type '{bus}'",
        )
    if bus != "virtio" and (disk.model is not None or disk.driver or disk.virtio is not None):
        _validate_not_virtio(disk)
    if src.type == "vhostuser":
        _validate_vhostuser(disk)
    if disk.tray is not None and device not in ("cdrom", "floppy"):
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "tray is only valid for cdrom and floppy")
    if disk.vendor is not None or disk.product is not None:
        _validate_strings(disk)
    if device == "floppy" or bus == "fdc" or disk.removable is not None:
        _validate_bus(disk)
    if src.startup_policy is not None:
        _validate_startup_policy(disk)
    if disk.wwn is not None and not _valid_wwn(disk.wwn):
        fail(ErrorNumber.INTERNAL_ERROR, f"Malformed wwn: {disk.wwn}", ErrorDomain.NONE)
    if not (device in ("disk", "lun") and dst is not None and dst.startswith(_HARDDISK_PREFIXES)):
        _validate_name(disk)
    # Only CD-ROMs and floppies may be empty (no media); a LUN without a source
    # was already refused above.
    if device == "disk" and is_empty(src):
        fail(ErrorNumber.NO_SOURCE, dst or "")


def _check_target(disk: DiskDef) -> None:
    if disk.dst is not None:
        return
    src = disk.src
    detail = disk.source_path
    if src.pool is not None:
        detail = f"pool = '{src.pool}', volume = '{src.volume}'"
    raise VirtError.from_code(ErrorNumber.NO_TARGET, detail, domain=ErrorDomain.DOMAIN)


def _validate_lun(src: StorageSource) -> None:
    """``virDomainDiskDefSourceLUNValidate``."""
    if src.type == "network":
        if src.protocol != "iscsi":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"disk device='lun' is not supported for protocol='{src.protocol or 'none'}'",
            )
    elif src.type not in ("block", "volume"):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "disk device='lun' is only valid for block type disk source",
        )
    if src.format not in (None, "none", "raw"):
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "disk device 'lun' must use 'raw' format")
    if src.slices:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "disk device 'lun' doesn't support storage slice")
    if src.encryption is not None and src.encryption.format != "default":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "disk device 'lun' doesn't support encryption")


def _validate_not_lun(disk: DiskDef) -> None:
    if disk.src.reservations is not None:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "<reservations/> allowed only for lun devices")
    if disk.rawio is not None:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "rawio can be used only with device='lun'")
    if disk.sgio is not None:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "sgio can be used only with device='lun'")


def _validate_iotune(values: dict[str, int]) -> None:
    for suffix in ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"):
        if values.get(f"total_{suffix}") and (
            values.get(f"read_{suffix}") or values.get(f"write_{suffix}")
        ):
            fail(
                ErrorNumber.XML_ERROR,
                f"total and read/write {suffix} cannot be set at the same time",
            )


def _address_fits_bus(bus: str, address_type: str) -> bool:
    """``virDomainDiskAddressDiskBusCompatibility``."""
    if address_type == "none":
        return True
    if bus in _DRIVE_BUSES:
        return address_type == "drive"
    if bus == "usb":
        return address_type == "usb"
    return True


def _validate_not_virtio(disk: DiskDef) -> None:
    if disk.model is not None:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"disk model '{disk.model}' not supported for bus '{disk.bus}'",
        )
    if disk.driver.get("queues"):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "queues attribute in disk driver element is only supported by virtio-blk",
        )
    for name in ("event_idx", "ioeventfd"):
        if name in disk.driver:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"disk {name} mode supported only for virtio bus")
    if disk.virtio is not None:
        disk.virtio.check_absent()


def _validate_vhostuser(disk: DiskDef) -> None:
    """``virDomainDiskVhostUserValidate``."""
    if disk.bus != "virtio":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "vhostuser disk supports only virtio bus")
    if disk.snapshot != "no":
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "only snapshot=no is supported with vhostuser disk")
    for attribute, name in _VHOSTUSER_DRIVER:
        if attribute in disk.driver:
            _vhostuser_unsupported(name)
    src = disk.src
    unsupported = (
        ("metadata_cache", bool(disk.metadata_cache)),
        ("iotune", disk.group_name is not None or disk.has_iotune()),
        ("backingStore", src.backing is not None),
        ("encryption", src.encryption is not None),
        ("readonly", src.readonly),
        ("shareable", src.shared),
        ("transient", disk.transient),
        ("serial", disk.serial is not None),
        ("wwn", disk.wwn is not None),
        ("vendor", disk.vendor is not None),
        ("product", disk.product is not None),
        ("auth", src.auth is not None),
        ("geometry", any(disk.geometry) or disk.trans is not None),
        ("blockio", any(disk.blockio)),
    )
    for name, present in unsupported:
        if present:
            _vhostuser_unsupported(name)


def _vhostuser_unsupported(name: str) -> None:
    fail(ErrorNumber.CONFIG_UNSUPPORTED, f"{name} is not supported with vhostuser disk")


def _validate_strings(disk: DiskDef) -> None:
    for name, value, limit in (
        ("vendor", disk.vendor, _VENDOR_LEN),
        ("product", disk.product, _PRODUCT_LEN),
    ):
        if value is None:
            continue
        if not value.isprintable() or not value.isascii():
            fail(ErrorNumber.XML_ERROR, f"disk {name} is not printable string")
        if len(value) > limit:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"disk {name} is more than {limit} characters")


def _validate_bus(disk: DiskDef) -> None:
    if disk.device == "floppy" and disk.bus != "fdc":
        fail(ErrorNumber.INTERNAL_ERROR, f"Invalid bus type '{disk.bus}' for floppy disk")
    if disk.device != "floppy" and disk.bus == "fdc":
        fail(ErrorNumber.INTERNAL_ERROR, f"Invalid bus type '{disk.bus}' for disk")
    if disk.removable is not None and disk.bus != "usb":
        fail(ErrorNumber.XML_ERROR, "removable is only valid for usb disks")


def _validate_startup_policy(disk: DiskDef) -> None:
    """``virDomainDiskDefValidateStartupPolicy``."""
    policy = disk.src.startup_policy
    if policy is None:
        return
    if disk.src.type not in ("volume", *_LOCAL_TYPES):
        fail(
            ErrorNumber.XML_ERROR,
            f"disk startupPolicy '{policy}' is not allowed for disk of '{disk.src.type}' type",
        )
    if policy == "requisite" and disk.device not in ("cdrom", "floppy"):
        fail(
            ErrorNumber.XML_ERROR,
            "disk startupPolicy 'requisite' is allowed only for cdrom or floppy",
        )


def _valid_wwn(wwn: str) -> bool:
    """``virValidateWWN``: 16 hex digits, optionally after ``0x``."""
    digits = wwn[2:] if wwn[:2] in ("0x", "0X") else wwn
    return len(digits) == 16 and all(c in "0123456789abcdefABCDEF" for c in digits)


def _validate_name(disk: DiskDef) -> None:
    dst = disk.dst or ""
    if disk.device in ("disk", "lun") and not dst.startswith(_HARDDISK_PREFIXES):
        fail(ErrorNumber.INTERNAL_ERROR, f"Invalid harddisk device name: {dst}")
    if disk.device == "floppy" and not dst.startswith("fd"):
        fail(ErrorNumber.INTERNAL_ERROR, f"Invalid floppy device name: {dst}")
