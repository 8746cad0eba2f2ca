"""Disks: the ``-blockdev`` nodes of each disk (:mod:`.blockdev`) and its ``-device``.

The front-end names the top node of the disk's chain in ``drive`` (an
empty CD-ROM or floppy gets a front-end and no node). Cache modes become
``cache.direct``/``cache.no-flush`` on the nodes and ``write-cache`` on the
front-end (``qemuDomainDiskCachemodeFlags``); ``<readonly/>`` makes the
format node read-only, ``<shareable/>`` sets ``share-rw``; ``discard``,
``detect_zeroes``, ``io``, ``<serial>``, the I/O thread, virtio queues and
the error policies (``werror``/``rerror``) are passed through.
``device='lun'`` on SCSI is a ``scsi-block`` pass-through. ``<iotune>`` is
not on the command line: libvirt applies it over the monitor once QEMU runs.
Front-end ids follow libvirt: ``virtio-disk0``, ``ide0-1-0``, ``sata0-0-2``,
``scsi0-0-0-1`` (``scsi0-0-1`` on an LSI controller), ``usb-disk0``,
``fdc0-0-0``.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.aliases import disk_index
from virtcore_qemu.command.blockdev import disk_cache, node_numbers, write_blockdevs
from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported, usb_props
from virtcore_qemu.command.controllers import controller_alias
from virtcore_qemu.command.escape import json_arg

__all__ = ["build_disks", "disk_index", "frontend"]

logger = logging.getLogger(__name__)

_ERROR_POLICIES = {"stop": "stop", "report": "report", "ignore": "ignore", "enospace": "enospc"}


def build_disks(build: Build) -> None:
    """Append the ``-blockdev`` nodes and the ``-device`` of every disk."""
    for disk, first in node_numbers(build):
        drive = write_blockdevs(build, disk, first)
        build.add("-device", json_arg(frontend(build, disk, drive)))


def frontend(build: Build, disk: etree._Element, drive: str | None) -> dict[str, Any]:
    """The ``-device`` properties of *disk*, attached to node *drive* (``None``: no media)."""
    device = disk.get("device") or "disk"
    target = disk.find("target")
    bus = target.get("bus") if target is not None else None
    address = disk.find("address")
    controller = attr_int(address, "controller")
    drive_bus = attr_int(address, "bus")
    drive_target = attr_int(address, "target")
    unit = attr_int(address, "unit")
    alias = build.alias(disk)
    props: dict[str, Any]
    if bus == "virtio":
        if device != "disk":
            raise unsupported(f"disk device '{device}' is not supported on bus 'virtio'")
        driver_node = disk.find("driver")
        iothread = attr_int(driver_node, "iothread")
        props = {
            "driver": "virtio-blk-pci",
            "iothread": f"iothread{iothread}" if iothread else None,
            "num-queues": attr_int(driver_node, "queues") or None,
            "queue-size": attr_int(driver_node, "queue_size") or None,
            **pci_props(build, disk),
        }
    elif bus == "ide":
        props = {
            "driver": "ide-cd" if device == "cdrom" else "ide-hd",
            "bus": f"{controller_alias(build, 'ide', controller)}.{drive_bus}",
            "unit": unit,
        }
    elif bus == "sata":
        props = {
            "driver": "ide-cd" if device == "cdrom" else "ide-hd",
            "bus": f"{controller_alias(build, 'sata', controller)}.{unit}",
        }
    elif bus == "scsi":
        scsi = build.controller("scsi", controller)
        driver = {"cdrom": "scsi-cd", "lun": "scsi-block"}.get(device, "scsi-hd")
        scsi_bus = controller_alias(build, "scsi", controller)
        if scsi is not None and (scsi.get("model") or "lsilogic") == "lsilogic":
            # The LSI controller has one bus of seven units: libvirt addresses
            # its disks by unit alone.
            props = {"driver": driver, "bus": f"{scsi_bus}.{drive_bus}", "scsi-id": unit}
        else:
            props = {
                "driver": driver,
                "bus": f"{scsi_bus}.0",
                "channel": drive_bus,
                "scsi-id": drive_target,
                "lun": unit,
            }
        if device != "lun":
            # scsi-block passes the host LUN's own VPD pages through.
            props["device_id"] = f"drive-{alias}"
    elif device == "lun":
        raise unsupported("disk device='lun' is not supported for bus " + repr(bus))
    elif bus == "usb":
        if device != "disk":
            raise unsupported(f"disk device '{device}' is not supported on bus 'usb'")
        props = {"driver": "usb-storage", **usb_props(build, disk)}
    elif bus == "fdc":
        props = {"driver": "floppy", "unit": unit}
    else:
        raise unsupported(f"disk bus '{bus}' is not supported")
    if disk.find("shareable") is not None:
        props["share-rw"] = True
    props["drive"] = drive
    props["id"] = alias
    props["bootindex"] = build.bootindex(disk)
    if bus == "usb":
        props["removable"] = target is not None and target.get("removable") == "on"
    cache = disk_cache(disk)
    if cache is not None and bus != "fdc":
        props["write-cache"] = "on" if cache[2] else "off"
    serial = disk.findtext("serial")
    if serial:
        props["serial"] = serial
    props.update(_error_policies(disk))
    return props


def _error_policies(disk: etree._Element) -> dict[str, Any]:
    """``werror``/``rerror``: the read policy follows the write one unless it is enospace."""
    driver = disk.find("driver")
    if driver is None:
        return {}
    write = driver.get("error_policy")
    read = driver.get("rerror_policy")
    if read is None and write != "enospace":
        read = write
    props: dict[str, Any] = {}
    for key, value in (("werror", write), ("rerror", read)):
        if value is None or value == "default":
            continue
        if value not in _ERROR_POLICIES:
            raise unsupported(f"disk error policy '{value}' is not supported")
        props[key] = _ERROR_POLICIES[value]
    return props
