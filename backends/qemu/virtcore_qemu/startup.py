"""Host resources opened before QEMU starts and settings applied once it runs.

Before the command line is built, :func:`open_vsock` does libvirt 9.0's
``qemuProcessOpenVhostVsock`` for a ``<vsock>``: ``/dev/vhost-vsock``
(:data:`VHOST_VSOCK_DEVICE`) is opened - or the start fails with libvirt's
``unable to open vhost-vsock device`` (VIR_ERR_CONFIG_UNSUPPORTED) - and the
guest CID is claimed on it: the given ``<cid address>``, or with
``<cid auto='yes'>`` the first free one from 3 up, written into the live
definition. The descriptor goes to QEMU (``vhostfd``).

After QEMU answers on its monitor and before its CPUs run,
:func:`apply_after_start` does what ``qemuProcessLaunch`` does there, in
libvirt's order:

1. ``qemuProcessSetupHotpluggableVcpus``: every ``<vcpu enabled='yes'
   hotpluggable='yes'>`` (in ``order``) is added with ``device_add`` of the
   slot ``query-hotpluggable-cpus`` gives its id (slots in topology order;
   ids ``vcpu<N>``) - the command line only cold-plugs the others;
2. ``qemuProcessSetupBalloon``: with ``<stats period='N'>`` the balloon's
   ``guest-stats-polling-interval`` is set (``qom-set``), then the balloon
   target is ``<currentMemory>``;
3. ``qemuProcessSetupDiskThrottlingBlockdev``: each disk with an ``<iotune>``
   gets ``block_set_io_throttle`` on its front-end (``id``; a virtio disk's
   ``<id>/virtio-backend``, as libvirt's QOM name), the limits named as QEMU
   names them.

Front-end ids are read from the command line QEMU was started with, so they
are exactly the ones QEMU knows.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import logging
import os
import struct
from collections.abc import Sequence
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InternalError, SystemCallError
from virtcore.xml.domain import Domain as DomainDef
from virtcore.xml.units import parse_memory
from virtcore_qemu.qmp import QMPClient

__all__ = ["VHOST_VSOCK_DEVICE", "apply_after_start", "open_vsock"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU

#: The vhost-vsock character device (libvirt opens the same path).
VHOST_VSOCK_DEVICE = "/dev/vhost-vsock"
#: ``_IOW(VHOST_VIRTIO, 0x60, __u64)``: claim a guest CID on a vhost-vsock descriptor.
VHOST_VSOCK_SET_GUEST_CID = 0x4008AF60
#: The lowest CID a guest may have (0-2 are the hypervisor, local and host).
_CID_MIN = 3
_CID_MAX = 0xFFFFFFFF

_DISK_FRONTENDS = frozenset(
    {"virtio-blk-pci", "ide-hd", "ide-cd", "scsi-hd", "scsi-cd", "scsi-block", "usb-storage",
     "floppy"}
)  # fmt: skip

#: ``<iotune>`` children and the ``block_set_io_throttle`` argument each becomes.
_IOTUNE = (
    ("total_bytes_sec", "bps"),
    ("read_bytes_sec", "bps_rd"),
    ("write_bytes_sec", "bps_wr"),
    ("total_iops_sec", "iops"),
    ("read_iops_sec", "iops_rd"),
    ("write_iops_sec", "iops_wr"),
    ("total_bytes_sec_max", "bps_max"),
    ("read_bytes_sec_max", "bps_rd_max"),
    ("write_bytes_sec_max", "bps_wr_max"),
    ("total_iops_sec_max", "iops_max"),
    ("read_iops_sec_max", "iops_rd_max"),
    ("write_iops_sec_max", "iops_wr_max"),
    ("size_iops_sec", "iops_size"),
    ("total_bytes_sec_max_length", "bps_max_length"),
    ("read_bytes_sec_max_length", "bps_rd_max_length"),
    ("write_bytes_sec_max_length", "bps_wr_max_length"),
    ("total_iops_sec_max_length", "iops_max_length"),
    ("read_iops_sec_max_length", "iops_rd_max_length"),
    ("write_iops_sec_max_length", "iops_wr_max_length"),
)
#: Arguments QEMU requires even when zero.
_IOTUNE_REQUIRED = ("bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr")


# -- vsock ---------------------------------------------------------------------------


def open_vsock(domain: DomainDef) -> int | None:
    """Open ``/dev/vhost-vsock`` and claim the guest's CID; None without a ``<vsock>``."""
    vsock = domain.element.find("devices/vsock")
    if vsock is None:
        return None
    try:
        fd = os.open(VHOST_VSOCK_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigUnsupportedError("unable to open vhost-vsock device", domain=_QEMU) from exc
    try:
        cid = vsock.find("cid")
        if cid is None:
            cid = etree.SubElement(vsock, "cid")
        if cid.get("auto") == "yes" or not cid.get("address"):
            cid.set("address", str(_acquire_cid(fd)))
        else:
            _set_cid(fd, int(cid.get("address") or "0"), "failed to set guest cid")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _set_cid(fd: int, cid: int, what: str) -> None:
    try:
        fcntl.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, struct.pack("=Q", cid))
    except OSError as exc:
        raise SystemCallError.from_os_error(what, exc) from exc


def _acquire_cid(fd: int) -> int:
    """``virVsockAcquireGuestCid``: the first CID from 3 up no other guest holds."""
    for cid in range(_CID_MIN, _CID_MAX):
        try:
            fcntl.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, struct.pack("=Q", cid))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                continue
            raise SystemCallError.from_os_error("failed to acquire guest cid", exc) from exc
        return cid
    raise InternalError("could not find a free guest cid")


# -- after start ---------------------------------------------------------------------


def apply_after_start(monitor: QMPClient, live: DomainDef, argv: Sequence[str]) -> None:
    """vCPU hot-plug, balloon and disk throttling of a guest paused before its first run."""
    devices = _device_args(argv)
    _plug_vcpus(monitor, live)
    _setup_balloon(monitor, live, devices)
    _throttle_disks(monitor, live, devices)


def _device_args(argv: Sequence[str]) -> list[dict[str, Any]]:
    found = []
    for option, value in itertools.pairwise(argv):
        if option == "-device" and value.startswith("{"):
            with contextlib.suppress(ValueError):
                parsed = json.loads(value)
                if isinstance(parsed, dict):
                    found.append(parsed)
    return found


def _plug_vcpus(monitor: QMPClient, live: DomainDef) -> None:
    entries = [
        vcpu
        for vcpu in live.element.iterfind("vcpus/vcpu")
        if vcpu.get("enabled") == "yes" and vcpu.get("hotpluggable") == "yes"
    ]
    if not entries:
        return
    slots = list(monitor.execute("query-hotpluggable-cpus") or [])
    slots.sort(key=_topology_key)
    entries.sort(key=lambda v: (int(v.get("order") or 0), int(v.get("id") or 0)))
    for vcpu in entries:
        index = int(vcpu.get("id") or 0)
        if index >= len(slots):
            raise InternalError(f"vCPU {index} has no hot-pluggable slot in QEMU", domain=_QEMU)
        slot = slots[index]
        props = dict(slot.get("props") or {})
        monitor.execute("device_add", {"driver": slot["type"], "id": f"vcpu{index}", **props})
    log.debug("guest '%s': %d hot-pluggable vCPUs added", live.name, len(entries))


def _topology_key(slot: dict[str, Any]) -> tuple[int, ...]:
    """libvirt's order of QEMU's CPU slots (``qemuMonitorQueryHotpluggableCpusEntrySort``)."""
    props = slot.get("props") or {}
    return tuple(int(props.get(key, 0)) for key in ("socket-id", "die-id", "core-id", "thread-id"))


def _setup_balloon(monitor: QMPClient, live: DomainDef, devices: list[dict[str, Any]]) -> None:
    balloon = live.element.find("devices/memballoon")
    if balloon is None or (balloon.get("model") or "virtio") == "none":
        return
    qom_id = next(
        (d.get("id") for d in devices if str(d.get("driver", "")).startswith("virtio-balloon")),
        None,
    )
    if not qom_id:
        return
    stats = balloon.find("stats")
    period = int(stats.get("period") or 0) if stats is not None else 0
    if period:
        monitor.execute(
            "qom-set",
            {
                "path": f"/machine/peripheral/{qom_id}",
                "property": "guest-stats-polling-interval",
                "value": period,
            },
        )
    current = live.element.find("currentMemory")
    memory = live.element.find("memory")
    node = current if current is not None else memory
    if node is None:
        return
    kib = parse_memory(node.text, node.get("unit")) or 0
    if kib:
        monitor.execute("balloon", {"value": kib * 1024})


def _throttle_disks(monitor: QMPClient, live: DomainDef, devices: list[dict[str, Any]]) -> None:
    frontends = [d for d in devices if d.get("driver") in _DISK_FRONTENDS]
    disks = live.element.findall("devices/disk")
    for disk, frontend in zip(disks, frontends, strict=False):
        iotune = disk.find("iotune")
        if iotune is None or not frontend.get("drive"):
            continue
        arguments = _iotune_arguments(iotune)
        if arguments is None:
            continue
        qom = str(frontend["id"])
        if str(frontend["driver"]).startswith("virtio-blk"):
            # The block backend belongs to the virtio device inside the PCI proxy.
            qom += "/virtio-backend"
        monitor.execute("block_set_io_throttle", {"id": qom, **arguments})


def _iotune_arguments(iotune: etree._Element) -> dict[str, Any] | None:
    """``block_set_io_throttle`` arguments of an ``<iotune>``; None when it sets nothing."""
    arguments: dict[str, Any] = dict.fromkeys(_IOTUNE_REQUIRED, 0)
    set_any = False
    for element, name in _IOTUNE:
        text = (iotune.findtext(element) or "").strip()
        if text.isdigit() and int(text):
            arguments[name] = int(text)
            set_any = True
    group = (iotune.findtext("group_name") or "").strip()
    if group:
        arguments["group"] = group
    return arguments if set_any else None
