"""External disk-only snapshots: each selected disk continues in a new qcow2 overlay.

libvirt 9.0's ``qemuSnapshotCreateXML`` with ``DISK_ONLY`` (or, for a shut-off
guest, any snapshot whose document asks for ``<disk snapshot='external'>``):

* the snapshot document's disks are aligned to the domain's
  (``virDomainSnapshotAlignDisks`` with the external default): a disk not
  named takes its own ``snapshot`` attribute, an empty drive ``no``; an
  external disk without a ``<source>`` gets ``<image minus suffix>.<snapshot>``
  beside its image (``virDomainSnapshotDefAssignExternalNames``);
* ``qemuSnapshotPrepare``'s checks, in its order and with its texts: overlay
  format qcow2 (the default) or qed, an existing non-empty overlay refused
  unless ``REUSE_EXT`` (which in turn needs it to exist), internal disks
  refused on a running guest, nothing selected, internal and external mixed;
* a running guest: for each disk the overlay file is created, opened with
  ``blockdev-add`` (protocol node), formatted by a ``blockdev-create`` job
  (qcow2 over the current image, same virtual size), opened as a format node
  with no backing yet, and one QMP ``transaction`` of ``blockdev-snapshot``
  actions installs every overlay at once (hence ``ATOMIC`` always holds); on
  failure the new nodes are deleted and the files removed. ``QUIESCE`` needs
  the guest agent, which this driver never connects: libvirt's "QEMU guest
  agent is not configured" (or "... not connected" when a channel exists);
* a shut-off guest: ``qemu-img create -f qcow2 -o backing_fmt=F,backing_file=P``
  for each disk (nothing created with ``REUSE_EXT``); files created before a
  failure are removed;
* the disk's source becomes the overlay, ``<driver type='qcow2'/>``; the old
  source becomes its ``<backingStore>`` in the live definition and in the
  persistent one when that disk had the same source (a shut-off guest keeps
  the old source as backing only when it already had a known chain, as
  libvirt does).

The snapshot's state is ``disk-snapshot`` (running) or ``shutoff``, its
memory ``no``; a running persistent guest's snapshot also records the
persistent definition (``<inactiveDomain>``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.enums.domain import DomainState
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ArgumentUnsupportedError,
    ConfigUnsupportedError,
    InternalError,
    OperationFailedError,
    OperationInvalidError,
    SystemCallError,
    VirtError,
    XMLError,
)
from virtcore.xml.snapshot import SnapshotDef, SnapshotDiskDef
from virtcore_qemu.chain import complete_disk_chain, next_index

if TYPE_CHECKING:
    from virtcore.xml.domain import Domain as DomainDef
    from virtcore_qemu.domobj import DomainObj
    from virtcore_qemu.qmp import QMPClient

__all__ = [
    "ExternalDisk",
    "align_disks",
    "check_offline_memory",
    "create_active",
    "create_inactive",
    "is_external",
    "prepare",
]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
# Alignment and overlay naming are libvirt's snapshot_conf code: its error domain.
_SNAP_CONF = ErrorDomain.DOMAIN_SNAPSHOT
_AGENT_CHANNEL = "org.qemu.guest_agent.0"
_OVERLAY_FORMATS = ("qcow2", "qed")
QEMU_IMG = "qemu-img"
#: Seconds one ``blockdev-create`` or ``qemu-img create`` may take.
CREATE_TIMEOUT = 120.0


def is_external(snap: SnapshotDef) -> bool:
    """``virDomainSnapshotIsExternal``: external memory or any external disk."""
    return snap.memory == "external" or any(d.snapshot == "external" for d in snap.disks)


def check_offline_memory(snap: SnapshotDef) -> None:
    """The parser's rule for offline and disk-only documents: no memory state."""
    if snap.memory not in (None, "no"):
        raise XMLError(
            "memory state cannot be saved with offline or disk-only snapshot",
            domain=ErrorDomain.DOMAIN_SNAPSHOT,
        )


# -- alignment ---------------------------------------------------------------------------


def _disk_nodes(domain: DomainDef) -> list[etree._Element]:
    return [n for d in domain.element.iterchildren("devices") for n in d.iterchildren("disk")]


def _target(node: etree._Element) -> str:
    return str(node.xpath("string(./target/@dev)"))


def _source_path(node: etree._Element) -> str | None:
    found = str(node.xpath("string(./source/@file|./source/@dev|./source/@dir|./source/@name)"))
    return found or None


def _find(nodes: list[etree._Element], name: str) -> etree._Element | None:
    """``virDomainDiskByName``: by target first, else by source path."""
    for node in nodes:
        if _target(node) == name:
            return node
    for node in nodes:
        if str(node.xpath("string(./source/@file|./source/@dev)")) == name:
            return node
    return None


def align_disks(snap: SnapshotDef, domain: DomainDef) -> tuple[SnapshotDiskDef, ...]:
    """``virDomainSnapshotAlignDisks`` (external default) and the default overlay names."""
    nodes = _disk_nodes(domain)
    if len(snap.disks) > len(nodes):
        raise ConfigUnsupportedError(
            "too many disk snapshot requests for domain", domain=_SNAP_CONF
        )
    chosen: dict[str, SnapshotDiskDef] = {}
    for disk in snap.disks:
        node = _find(nodes, disk.name)
        if node is None:
            raise ConfigUnsupportedError(f"no disk named '{disk.name}'", domain=_SNAP_CONF)
        target = _target(node)
        if target in chosen:
            raise ConfigUnsupportedError(f"disk '{disk.name}' specified twice", domain=_SNAP_CONF)
        mode = disk.snapshot or node.get("snapshot") or "external"
        if disk.source_file is not None and mode != "external":
            raise ConfigUnsupportedError(
                f"file '{disk.source_file}' for disk '{disk.name}' requires use of external "
                "snapshot mode",
                domain=_SNAP_CONF,
            )
        chosen[target] = replace(disk, name=target, snapshot=mode)
    aligned: list[SnapshotDiskDef] = []
    for node in nodes:
        target = _target(node)
        if target in chosen:
            aligned.append(chosen[target])
        elif _source_path(node) is None:
            aligned.append(SnapshotDiskDef(target, "no"))
        else:
            aligned.append(SnapshotDiskDef(target, node.get("snapshot") or "external"))
    return _assign_names(snap, aligned, nodes)


def _assign_names(
    snap: SnapshotDef, disks: list[SnapshotDiskDef], nodes: list[etree._Element]
) -> tuple[SnapshotDiskDef, ...]:
    """``virDomainSnapshotDefAssignExternalNames``."""
    named: list[SnapshotDiskDef] = []
    for disk, node in zip(disks, nodes, strict=True):
        if disk.snapshot != "external" or disk.source_file is not None:
            named.append(disk)
            continue
        if disk.type != "file":
            raise ConfigUnsupportedError(
                f"cannot generate external snapshot name for disk '{disk.name}' on a "
                f"'{disk.type}' device",
                domain=_SNAP_CONF,
            )
        origin = _source_path(node)
        if origin is None:
            raise ConfigUnsupportedError(
                f"cannot generate external snapshot name for disk '{disk.name}' without source",
                domain=_SNAP_CONF,
            )
        try:
            regular = stat.S_ISREG(os.stat(origin).st_mode)
        except OSError:
            regular = False
        if not regular:
            raise ConfigUnsupportedError(
                f"source for disk '{disk.name}' is not a regular file; refusing to generate "
                "external snapshot name",
                domain=_SNAP_CONF,
            )
        head, dot, tail = origin.rpartition(".")
        stem = head if dot and "/" not in tail else origin
        path = f"{stem}.{snap.name}"
        clash = next((d for d in named if d.source_file == path), None)
        if clash is not None:
            raise ConfigUnsupportedError(
                f"cannot generate external snapshot name for disk '{disk.name}': collision "
                f"with disk '{clash.name}'",
                domain=_SNAP_CONF,
            )
        named.append(replace(disk, source_file=path))
    return tuple(named)


# -- preparation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExternalDisk:
    """One disk to continue in an overlay: its target, current image and new image."""

    target: str
    image: str
    image_format: str
    overlay: str
    overlay_format: str


def _disk_image(obj: DomainObj, node: etree._Element) -> tuple[str | None, str, str]:
    """(path, format, storage type) of a domain disk, volumes resolved."""
    kind = node.get("type") or "file"
    path = _source_path(node)
    fmt = str(node.xpath("string(./driver/@type)")) or "raw"
    if kind == "volume":
        pool = str(node.xpath("string(./source/@pool)"))
        volume = str(node.xpath("string(./source/@volume)"))
        resolved = obj.volumes.get((pool, volume))
        if resolved is not None:
            return resolved.path, resolved.format or fmt, resolved.disk_type
    return path, fmt, kind


def prepare(
    obj: DomainObj, snap: SnapshotDef, domain: DomainDef, *, active: bool, reuse: bool
) -> list[ExternalDisk]:
    """``qemuSnapshotPrepare`` for a disk-only snapshot; the disks to snapshot."""
    nodes = _disk_nodes(domain)
    found_internal = forbid_internal = False
    external: list[ExternalDisk] = []
    for disk, node in zip(snap.disks, nodes, strict=True):
        if disk.snapshot == "internal":
            found_internal = True
            if active:
                raise ConfigUnsupportedError(
                    "active qemu domains require external disk snapshots; disk "
                    f"{disk.name} requested internal",
                    domain=_QEMU,
                )
        elif disk.snapshot == "external":
            fmt = disk.driver_type or "qcow2"
            if fmt not in _OVERLAY_FORMATS:
                raise ConfigUnsupportedError(
                    f"external snapshot format for disk {disk.name} is unsupported: {fmt}",
                    domain=_QEMU,
                )
            path, image_fmt, kind = _disk_image(obj, node)
            _check_disk_kind(node, disk, kind, active=active)
            assert disk.source_file is not None
            _check_overlay_file(disk.name, disk.source_file, reuse=reuse)
            assert path is not None
            external.append(ExternalDisk(disk.name, path, image_fmt, disk.source_file, fmt))
        elif _source_path(node) is not None and node.find("readonly") is None:
            forbid_internal = True
    if not found_internal and not external:
        raise ConfigUnsupportedError("nothing selected for snapshot", domain=_QEMU)
    if found_internal and forbid_internal:
        raise ConfigUnsupportedError(
            "internal and full system snapshots require all disks to be selected for snapshot",
            domain=_QEMU,
        )
    if active and not external:
        raise ConfigUnsupportedError(
            "disk-only snapshots require at least one disk to be selected for snapshot",
            domain=_QEMU,
        )
    if found_internal and external:
        raise ConfigUnsupportedError(
            "mixing internal and external targets for a snapshot is not yet supported",
            domain=_QEMU,
        )
    return external


def _check_disk_kind(
    node: etree._Element, disk: SnapshotDiskDef, kind: str, *, active: bool
) -> None:
    if active:
        if node.get("device") == "lun":
            raise ConfigUnsupportedError(
                "external active snapshots are not supported on scsi passthrough devices",
                domain=_QEMU,
            )
        if disk.type not in ("file", "block"):
            raise InternalError(
                f"external active snapshots are not supported on '{disk.type}' disks",
                domain=_QEMU,
            )
        return
    for what in (kind, disk.type):
        if what not in ("file", "block"):
            raise InternalError(
                f"external inactive snapshots are not supported on '{what}' disks", domain=_QEMU
            )


def _check_overlay_file(name: str, path: str, *, reuse: bool) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        if reuse:
            raise SystemCallError.from_os_error(
                f"missing existing file for disk {name}: {path}", exc, domain=_QEMU
            ) from exc
        return
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"unable to stat for disk {name}: {path}", exc, domain=_QEMU
        ) from exc
    if not stat.S_ISBLK(info.st_mode) and info.st_size and not reuse:
        raise ConfigUnsupportedError(
            f"external snapshot file for disk {name} already exists and is not a block device: "
            f"{path}",
            domain=_QEMU,
        )


def check_quiesce(obj: DomainObj) -> None:
    """``qemuDomainAgentAvailable``: this driver never connects a guest agent."""
    if obj.state != DomainState.RUNNING:
        raise OperationInvalidError("domain is not running", domain=_QEMU)
    domain = obj.definition
    names = [
        target.get("name")
        for devices in domain.element.iterchildren("devices")
        for channel in devices.iterchildren("channel")
        for target in channel.iterchildren("target")
    ]
    if _AGENT_CHANNEL in names:
        raise VirtError(
            "QEMU guest agent is not connected", code=ErrorNumber.AGENT_UNRESPONSIVE, domain=_QEMU
        )
    raise ArgumentUnsupportedError("QEMU guest agent is not configured", domain=_QEMU)


# -- the domain definitions --------------------------------------------------------------


def switch_to_overlay(
    domain: DomainDef, disk: ExternalDisk, *, keep_backing: bool, live: bool = False
) -> None:
    """Make *disk* of *domain* use its overlay, the old source becoming its backing store.

    In a running domain's definition (*live*) the overlay takes the next
    storage source number and the old image keeps its own as a backing
    layer; a chain not known yet below it is read from the images, so the
    live XML ends in ``<backingStore/>`` as libvirt's does.
    """
    node = next((n for n in _disk_nodes(domain) if _target(n) == disk.target), None)
    if node is None:
        return
    source = node.find("source")
    old_backing = node.find("backingStore")
    backing = etree.Element("backingStore", type=node.get("type") or "file")
    number = next_index(domain) if live else 0
    if live and source is not None and source.get("index"):
        backing.set("index", source.get("index") or "")
    etree.SubElement(backing, "format", type=disk.image_format)
    if source is not None:
        moved = copy.deepcopy(source)
        for attr in ("index", "startupPolicy"):
            if attr in moved.attrib:
                del moved.attrib[attr]
        backing.append(moved)
    if old_backing is not None:
        backing.append(copy.deepcopy(old_backing))
        node.remove(old_backing)
    new_source = etree.Element("source", file=disk.overlay)
    if number:
        new_source.set("index", str(number))
    if source is not None:
        source.addnext(new_source)
        node.remove(source)
    else:
        node.insert(0, new_source)
    node.set("type", "file")
    driver = node.find("driver")
    if driver is None:
        driver = etree.Element("driver", name="qemu")
        node.insert(0, driver)
    driver.set("type", disk.overlay_format)
    if keep_backing and (source is not None):
        new_source.addnext(backing)
    if live:
        # QEMU already writes to the overlay: a chain that cannot be read stays open.
        try:
            complete_disk_chain(domain, node)
        except VirtError as exc:
            log.warning("backing chain of disk '%s' left unknown: %s", disk.target, exc)


def same_source(domain: DomainDef, target: str, path: str) -> bool:
    """Whether *domain*'s disk *target* uses the image *path* (libvirt's same-location test)."""
    node = next((n for n in _disk_nodes(domain) if _target(n) == target), None)
    return node is not None and _source_path(node) == path


# -- a shut-off guest --------------------------------------------------------------------


def _escape_comma(text: str) -> str:
    return text.replace(",", ",,")


def create_inactive(disks: list[ExternalDisk], *, reuse: bool) -> None:
    """``qemuSnapshotCreateInactiveExternal``'s images (none with *reuse*)."""
    if reuse:
        return
    binary = shutil.which(QEMU_IMG) or f"/usr/bin/{QEMU_IMG}"
    created: list[str] = []
    try:
        for disk in disks:
            existed = os.path.exists(disk.overlay)
            options = f"backing_fmt={disk.image_format},backing_file={_escape_comma(disk.image)}"
            argv = [binary, "create", "-f", disk.overlay_format, "-o", options, disk.overlay]
            if not existed:
                created.append(disk.overlay)
            proc = subprocess.run(
                argv, capture_output=True, text=True, check=False, timeout=CREATE_TIMEOUT
            )
            if proc.returncode != 0:
                detail = proc.stderr.strip() or f"exit status {proc.returncode}"
                raise OperationFailedError(
                    f"Child process ({' '.join(argv)}) unexpected exit status "
                    f"{proc.returncode}: {detail}",
                    domain=_QEMU,
                )
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                os.unlink(path)
                log.warning("removed the partial snapshot image '%s'", path)
        raise


# -- a running guest ---------------------------------------------------------------------


_NODE_NUMBER = re.compile(r"^libvirt-(\d+)-")


def _node_names(monitor: QMPClient) -> list[dict[str, Any]]:
    return list(monitor.execute("query-named-block-nodes") or [])


def _top_node(nodes: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """The format node QEMU has open for *path* at the top of a disk's chain."""
    backing_of = {str(n.get("backing_file") or "") for n in nodes}
    candidates = [n for n in nodes if n.get("file") == path and n.get("drv") != "file"]
    for node in candidates:
        if path not in backing_of or not node.get("ro"):
            return node
    if candidates:
        return candidates[0]
    raise InternalError(f"cannot find the block node of '{path}'", domain=_QEMU)


def _run_create_job(monitor: QMPClient, name: str, options: dict[str, Any]) -> None:
    job_id = f"create-{name}"
    monitor.execute("blockdev-create", {"job-id": job_id, "options": options})
    deadline = time.monotonic() + CREATE_TIMEOUT
    delay = 0.002
    while True:
        jobs = monitor.execute("query-jobs") or []
        job = next((j for j in jobs if j.get("id") == job_id), None)
        if job is not None and job.get("status") == "concluded":
            monitor.execute("job-dismiss", {"id": job_id})
            if "error" in job:
                raise OperationFailedError(
                    f"failed to format image '{options.get('file')}': {job['error']}",
                    domain=_QEMU,
                )
            return
        if time.monotonic() >= deadline:
            raise OperationFailedError(f"formatting of '{name}' did not finish", domain=_QEMU)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def create_active(obj: DomainObj, disks: list[ExternalDisk], *, reuse: bool) -> None:
    """Install every overlay of *disks* in the running QEMU (one transaction)."""
    monitor = obj.monitor
    if monitor is None or monitor.closed:
        raise OperationInvalidError("domain is not running", domain=ErrorDomain.DOMAIN)
    nodes = _node_names(monitor)
    numbers = [int(m.group(1)) for n in nodes if (m := _NODE_NUMBER.match(str(n["node-name"])))]
    next_number = max(numbers, default=0) + 1
    added: list[str] = []
    created: list[str] = []
    actions: list[dict[str, Any]] = []
    try:
        for disk in disks:
            top = _top_node(nodes, disk.image)
            storage = f"libvirt-{next_number}-storage"
            fmt = f"libvirt-{next_number}-format"
            next_number += 1
            if not reuse and not os.path.exists(disk.overlay):
                fd = os.open(disk.overlay, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.close(fd)
                created.append(disk.overlay)
            monitor.execute(
                "blockdev-add",
                {
                    "driver": "file",
                    "filename": disk.overlay,
                    "node-name": storage,
                    "auto-read-only": True,
                    "discard": "unmap",
                },
            )
            added.append(storage)
            if not reuse:
                size = int((top.get("image") or {}).get("virtual-size", 0))
                _run_create_job(
                    monitor,
                    fmt,
                    {
                        "driver": disk.overlay_format,
                        "file": storage,
                        "size": size,
                        "backing-file": disk.image,
                        "backing-fmt": disk.image_format,
                    },
                )
            monitor.execute(
                "blockdev-add",
                {"driver": disk.overlay_format, "node-name": fmt, "file": storage, "backing": None},
            )
            added.append(fmt)
            actions.append(
                {"type": "blockdev-snapshot", "data": {"node": top["node-name"], "overlay": fmt}}
            )
        monitor.execute("transaction", {"actions": actions})
    except BaseException:
        for name in reversed(added):
            with contextlib.suppress(Exception):
                monitor.execute("blockdev-del", {"node-name": name})
        for path in created:
            with contextlib.suppress(OSError):
                Path(path).unlink()
        raise
    log.info("guest '%s' continues in %d new overlay(s)", obj.name, len(disks))
