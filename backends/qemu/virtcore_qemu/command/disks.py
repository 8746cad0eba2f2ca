"""Disks: a ``-blockdev`` pair (storage node + format node) and a ``-device`` per disk.

Like libvirt 9.0 with QEMU >= 4.2, each disk with media is opened with two
``-blockdev`` nodes: the storage node ``libvirt-N-storage`` (``file`` or
``host_device`` driver) and the format node ``libvirt-N-format`` (``raw``,
``qcow2``, ...) on top of it; the front-end ``-device`` names the format
node in ``drive``. ``N`` counts down: the first disk of the document gets the
number of disks (libvirt hands out node numbers as it prepares disks, last
first). An empty CD-ROM or floppy gets a front-end and no node.

Cache modes become ``cache.direct``/``cache.no-flush`` on both nodes and
``write-cache`` on the front-end (``qemuDomainDiskCachemodeFlags``);
``<readonly/>`` makes the format node read-only, ``<shareable/>`` sets
``share-rw``, ``discard``, ``io`` and ``<serial>`` are passed through.
Front-end ids follow libvirt: ``virtio-disk0``, ``ide0-1-0``, ``sata0-0-2``,
``scsi0-0-0-1`` (``scsi0-0-1`` on an LSI controller), ``usb-disk0``,
``fdc0-0-0``.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported, usb_props
from virtcore_qemu.command.controllers import controller_alias
from virtcore_qemu.command.escape import json_arg

__all__ = ["build_disks", "disk_index"]

logger = logging.getLogger(__name__)

# (direct, no-flush, write-cache) per cache mode.
_CACHE = {
    "none": (True, False, True),
    "writethrough": (False, False, False),
    "writeback": (False, False, True),
    "directsync": (True, False, False),
    "unsafe": (False, True, True),
}

_PREFIXES = ("vd", "hd", "sd", "fd", "xvd", "ubd")


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


def build_disks(build: Build) -> None:
    """Append ``-blockdev`` nodes and the ``-device`` of every disk."""
    disks = build.devices.findall("disk")
    for position, disk in enumerate(disks):
        node_number = len(disks) - position
        drive = _blockdevs(build, disk, node_number)
        build.add("-device", json_arg(_frontend(build, disk, drive)))


def _source(build: Build, disk: etree._Element) -> tuple[str, str, str | None] | None:
    """(storage driver, path, format) of the disk's media, or ``None`` when empty."""
    kind = disk.get("type") or "file"
    source = disk.find("source")
    driver = disk.find("driver")
    fmt = driver.get("type") if driver is not None else None
    if source is None:
        return None
    if kind == "file":
        path = source.get("file")
        storage = "file"
    elif kind == "block":
        path = source.get("dev")
        storage = "host_cdrom" if disk.get("device") == "cdrom" else "host_device"
    elif kind == "volume":
        key = (source.get("pool") or "", source.get("volume") or "")
        volume = build.ctx.volumes.get(key)
        if volume is None:
            raise unsupported(f"volume '{key[1]}' of pool '{key[0]}' has not been resolved")
        path = volume.path
        storage = {"file": "file", "block": "host_device"}.get(volume.disk_type, "")
        if not storage:
            raise unsupported(f"volumes of type '{volume.disk_type}' are not supported")
        fmt = fmt or volume.format
    else:
        raise unsupported(f"disk type '{kind}' is not supported")
    if not path:
        return None
    return storage, path, fmt


def _cache(disk: etree._Element) -> tuple[bool, bool, bool] | None:
    driver = disk.find("driver")
    mode = driver.get("cache") if driver is not None else None
    if mode in (None, "default"):
        return None
    flags = _CACHE.get(mode)
    if flags is None:
        raise unsupported(f"disk cache mode '{mode}' is not supported")
    return flags


def _blockdevs(build: Build, disk: etree._Element, number: int) -> str | None:
    found = _source(build, disk)
    if found is None:
        return None
    storage_driver, path, fmt = found
    driver = disk.find("driver")
    cache = _cache(disk)
    cache_props = None if cache is None else {"direct": cache[0], "no-flush": cache[1]}
    io = driver.get("io") if driver is not None else None
    discard = driver.get("discard") if driver is not None else None
    storage_name = f"libvirt-{number}-storage"
    format_name = f"libvirt-{number}-format"
    storage: dict[str, Any] = {"driver": storage_driver, "filename": path}
    if io in ("threads", "native", "io_uring"):
        storage["aio"] = io
    storage.update(
        {
            "node-name": storage_name,
            "cache": cache_props,
            "auto-read-only": True,
            "discard": "unmap",
        }
    )
    build.add("-blockdev", json_arg(storage))
    readonly = disk.find("readonly") is not None
    fmt_props: dict[str, Any] = {
        "node-name": format_name,
        "read-only": readonly,
        "discard": discard if discard in ("unmap", "ignore") else None,
        "cache": cache_props,
        "driver": fmt or "raw",
        "file": storage_name,
    }
    build.add("-blockdev", json_arg(fmt_props))
    return format_name


def _frontend(build: Build, disk: etree._Element, drive: str | None) -> dict[str, Any]:
    device = disk.get("device") or "disk"
    target = disk.find("target")
    bus = target.get("bus") if target is not None else None
    dev = (target.get("dev") if target is not None else None) or ""
    address = disk.find("address")
    controller = attr_int(address, "controller")
    drive_bus = attr_int(address, "bus")
    drive_target = attr_int(address, "target")
    unit = attr_int(address, "unit")
    props: dict[str, Any]
    if bus == "virtio":
        if device != "disk":
            raise unsupported(f"disk device '{device}' is not supported on bus 'virtio'")
        props = {"driver": "virtio-blk-pci", **pci_props(build, disk)}
        alias = f"virtio-disk{disk_index(dev)}"
    elif bus == "ide":
        props = {
            "driver": "ide-cd" if device == "cdrom" else "ide-hd",
            "bus": f"{controller_alias(build, 'ide', controller)}.{drive_bus}",
            "unit": unit,
        }
        alias = f"ide{controller}-{drive_bus}-{unit}"
    elif bus == "sata":
        props = {
            "driver": "ide-cd" if device == "cdrom" else "ide-hd",
            "bus": f"{controller_alias(build, 'sata', controller)}.{unit}",
        }
        alias = f"sata{controller}-{drive_bus}-{unit}"
    elif bus == "scsi":
        if device == "lun":
            raise unsupported("disk device 'lun' is not supported")
        scsi = build.controller("scsi", controller)
        driver = "scsi-cd" if device == "cdrom" else "scsi-hd"
        scsi_bus = controller_alias(build, "scsi", controller)
        if scsi is not None and (scsi.get("model") or "lsilogic") == "lsilogic":
            # The LSI controller has one bus of seven units: libvirt addresses
            # its disks by unit alone.
            alias = f"scsi{controller}-{drive_bus}-{unit}"
            props = {"driver": driver, "bus": f"{scsi_bus}.{drive_bus}", "scsi-id": unit}
        else:
            alias = f"scsi{controller}-{drive_bus}-{drive_target}-{unit}"
            props = {
                "driver": driver,
                "bus": f"{scsi_bus}.0",
                "channel": drive_bus,
                "scsi-id": drive_target,
                "lun": unit,
            }
        props["device_id"] = f"drive-{alias}"
    elif bus == "usb":
        if device != "disk":
            raise unsupported(f"disk device '{device}' is not supported on bus 'usb'")
        props = {"driver": "usb-storage", **usb_props(build, disk)}
        alias = f"usb-disk{disk_index(dev)}"
    elif bus == "fdc":
        props = {"driver": "floppy", "unit": unit}
        alias = f"fdc{controller}-{drive_bus}-{unit}"
    else:
        raise unsupported(f"disk bus '{bus}' is not supported")
    if disk.find("shareable") is not None:
        props["share-rw"] = True
    props["drive"] = drive
    props["id"] = alias
    props["bootindex"] = build.bootindex(disk)
    if bus == "usb":
        props["removable"] = target is not None and target.get("removable") == "on"
    cache = _cache(disk)
    if cache is not None and bus != "fdc":
        props["write-cache"] = "on" if cache[2] else "off"
    serial = disk.findtext("serial")
    if serial:
        props["serial"] = serial
    return props
