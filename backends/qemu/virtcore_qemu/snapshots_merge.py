"""Deleting external snapshots: each overlay the snapshot created is merged into its base.

libvirt 9.0's ``qemuSnapshotDelete`` for an external snapshot *S* without
``METADATA_ONLY``: for every disk *S* snapshotted externally, the overlay *S*
created (``S.disks[i].source``) is committed into the image it was put on
(the disk's source in *S*'s own domain definition) and removed; the images
above it now sit on that base. Checks and errors, in libvirt's words:

* ``CHILDREN``/``CHILDREN_ONLY`` over external snapshots: "deletion of
  external children disk snapshots not supported" (or "... external and
  internal children ..." when both kinds are below);
* the overlay must be in the disk's current chain with the base right below
  it ("VM disk source and snapshot disk source are not the same", "snapshot
  VM disk source and parent disk source are not the same");
* the nearest ancestor snapshot of that disk must not be internal
  ("deleting external snapshot that has internal snapshot as parent not
  supported").

A running guest merges through QMP ``block-commit`` jobs: an overlay on top
of the chain with an active commit that is completed (``job-complete``) once
``ready``, one below with a plain commit; the overlay's block nodes are then
deleted. A shut-off guest merges with ``qemu-img commit`` and, for an image
above the overlay, ``qemu-img rebase -u`` onto the base (libvirt starts QEMU
paused for this; the result on disk is the same and no event is emitted in
either case).

Afterwards the overlay leaves every definition that mentions it: the live
and persistent disks (the base becomes the source when the overlay was the
top, otherwise the overlay drops out of the ``<backingStore>`` chain), and
the domains recorded in the other snapshots (an internal snapshot keeps the
source it was taken on, so deleting it later is refused as libvirt does).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConfigUnsupportedError,
    OperationFailedError,
    OperationUnsupportedError,
)
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.snapshots_external import is_external

if TYPE_CHECKING:
    from virtcore.xml.snapshot import SnapshotDef
    from virtcore_qemu.domobj import DomainObj
    from virtcore_qemu.qmp import QMPClient

__all__ = [
    "Merge",
    "check_children",
    "drop_overlay",
    "drop_overlay_text",
    "merge",
    "plan",
    "saved_disk",
    "without_terminator",
]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
QEMU_IMG = "qemu-img"
#: Seconds one commit may take.
COMMIT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Merge:
    """One disk's overlay to fold into its base, and the image above it (if any)."""

    target: str
    overlay: str
    base: str
    base_format: str
    above: str | None
    top: str


def check_children(snapshots: list[SnapshotDef], *, own: SnapshotDef, only: bool) -> None:
    """libvirt's refusal of ``CHILDREN``/``CHILDREN_ONLY`` over external snapshots."""
    external = sum(1 for s in snapshots if is_external(s))
    if external and external != len(snapshots):
        raise ConfigUnsupportedError(
            "deletion of external and internal children disk snapshots not supported",
            domain=_QEMU,
        )
    if external:
        raise ConfigUnsupportedError(
            "deletion of external children disk snapshots not supported", domain=_QEMU
        )
    if not only and is_external(own):
        raise ConfigUnsupportedError(
            "deletion of external disk snapshots with children not supported", domain=_QEMU
        )


def _disk_node(domain: DomainDef, target: str) -> etree._Element | None:
    for devices in domain.element.iterchildren("devices"):
        for disk in devices.iterchildren("disk"):
            if any(t.get("dev") == target for t in disk.iterchildren("target")):
                return disk
    return None


def _path(node: etree._Element) -> str | None:
    source = node.find("source")
    if source is None:
        return None
    return source.get("file") or source.get("dev")


def _chain(top: str) -> list[str]:
    """The image files of *top*'s backing chain, as qemu-img reads them (-U: QEMU may run)."""
    binary = shutil.which(QEMU_IMG) or f"/usr/bin/{QEMU_IMG}"
    proc = subprocess.run(
        [binary, "info", "-U", "--output=json", "--backing-chain", top],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise OperationFailedError(
            f"cannot read the backing chain of '{top}': {proc.stderr.strip()}", domain=_QEMU
        )
    return [str(layer.get("filename")) for layer in json.loads(proc.stdout)]


def _ancestor_for(
    snapshots: dict[str, SnapshotDef], snap: SnapshotDef, target: str
) -> SnapshotDef | None:
    """``qemuSnapshotFindParentSnapForDisk``: the nearest ancestor that snapshotted *target*."""
    parent = snap.parent_name
    while parent is not None and parent in snapshots:
        found = snapshots[parent]
        if any(d.name == target and d.snapshot not in (None, "no") for d in found.disks):
            return found
        parent = found.parent_name
    return None


def plan(obj: DomainObj, snapshots: dict[str, SnapshotDef], snap: SnapshotDef) -> list[Merge]:
    """``qemuSnapshotDeleteExternalPrepareData``: what to merge, after libvirt's checks."""
    domain = obj.definition
    recorded = DomainDef.parse(snap.domain) if snap.domain else None
    merges: list[Merge] = []
    for disk in snap.disks:
        if disk.snapshot != "external" or disk.source_file is None:
            continue
        saved = _disk_node(recorded, disk.name) if recorded is not None else None
        if saved is None:
            raise OperationFailedError(
                f"failed to find disk '{disk.name}' in snapshot VM XML", domain=_QEMU
            )
        current = _disk_node(domain, disk.name)
        top = _path(current) if current is not None else None
        if top is None:
            raise OperationFailedError(
                f"failed to find disk '{disk.name}' in the domain", domain=_QEMU
            )
        chain = _chain(top)
        if disk.source_file not in chain:
            raise OperationFailedError(
                "VM disk source and snapshot disk source are not the same", domain=_QEMU
            )
        index = chain.index(disk.source_file)
        base = _path(saved)
        if index + 1 >= len(chain) or chain[index + 1] != base:
            raise OperationFailedError(
                "snapshot VM disk source and parent disk source are not the same", domain=_QEMU
            )
        ancestor = _ancestor_for(snapshots, snap, disk.name)
        if ancestor is not None and not is_external(ancestor):
            raise OperationUnsupportedError(
                "deleting external snapshot that has internal snapshot as parent not supported",
                domain=_QEMU,
            )
        base_format = str(saved.xpath("string(./driver/@type)")) or "raw"
        above = chain[index - 1] if index > 0 else None
        assert base is not None
        merges.append(Merge(disk.name, disk.source_file, base, base_format, above, chain[0]))
    return merges


# -- merging -----------------------------------------------------------------------------


def _qemu_img(*args: str) -> None:
    binary = shutil.which(QEMU_IMG) or f"/usr/bin/{QEMU_IMG}"
    proc = subprocess.run(
        [binary, *args], capture_output=True, text=True, check=False, timeout=COMMIT_TIMEOUT
    )
    if proc.returncode != 0:
        raise OperationFailedError(
            f"qemu-img {' '.join(args)} failed: {proc.stderr.strip()}", domain=_QEMU
        )


def _nodes(monitor: QMPClient) -> list[dict[str, Any]]:
    return list(monitor.execute("query-named-block-nodes") or [])


def _format_node(nodes: list[dict[str, Any]], path: str) -> str:
    for node in nodes:
        if node.get("file") == path and node.get("drv") != "file":
            return str(node["node-name"])
    raise OperationFailedError(f"cannot find the block node of '{path}'", domain=_QEMU)


def _wait_job(monitor: QMPClient, job_id: str, target: str, *, complete: bool) -> None:
    """Run job *job_id* to its end (completing it once ``ready`` when *complete*)."""
    deadline = time.monotonic() + COMMIT_TIMEOUT
    delay = 0.002
    completed = False
    while True:
        jobs = monitor.execute("query-jobs") or []
        job = next((j for j in jobs if j.get("id") == job_id), None)
        status = job.get("status") if job is not None else "concluded"
        if status == "ready" and complete and not completed:
            monitor.execute("job-complete", {"id": job_id})
            completed = True
        elif status == "concluded":
            if job is not None:
                monitor.execute("job-dismiss", {"id": job_id})
                if "error" in job:
                    raise OperationFailedError(
                        f"block commit failed while deleting disk '{target}' snapshot: "
                        f"'{job['error']}'",
                        domain=_QEMU,
                    )
            return
        if time.monotonic() >= deadline:
            raise OperationFailedError(
                f"block commit failed while deleting disk '{target}' snapshot: 'timed out'",
                domain=_QEMU,
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _merge_active(monitor: QMPClient, item: Merge) -> None:
    nodes = _nodes(monitor)
    overlay = _format_node(nodes, item.overlay)
    base = _format_node(nodes, item.base)
    job_id = f"commit-{item.target}-{time.monotonic_ns()}"
    arguments: dict[str, Any] = {
        "job-id": job_id,
        "base-node": base,
        "auto-finalize": True,
        "auto-dismiss": False,
    }
    if item.above is None:
        arguments["device"] = overlay
    else:
        arguments["device"] = _format_node(nodes, item.top)
        arguments["top-node"] = overlay
    monitor.execute("block-commit", arguments)
    _wait_job(monitor, job_id, item.target, complete=item.above is None)
    # The overlay's own nodes are no longer in any chain: release them.
    for node in _nodes(monitor):
        if node.get("file") == item.overlay and node.get("drv") != "file":
            with contextlib.suppress(Exception):
                monitor.execute("blockdev-del", {"node-name": node["node-name"]})
    for node in _nodes(monitor):
        if node.get("file") == item.overlay:
            with contextlib.suppress(Exception):
                monitor.execute("blockdev-del", {"node-name": node["node-name"]})


def _merge_inactive(item: Merge) -> None:
    _qemu_img("commit", "-q", item.overlay)
    if item.above is not None:
        _qemu_img("rebase", "-u", "-b", item.base, "-F", item.base_format, item.above)


def merge(obj: DomainObj, merges: list[Merge]) -> None:
    """Fold every overlay of *merges* into its base and remove the overlay file."""
    for item in merges:
        if obj.is_active() and obj.monitor is not None and not obj.monitor.closed:
            _merge_active(obj.monitor, item)
        else:
            _merge_inactive(item)
        try:
            Path(item.overlay).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("Failed to remove snapshot image '%s': %s", item.overlay, exc)


# -- definitions -------------------------------------------------------------------------


def saved_disk(snap: SnapshotDef, target: str) -> etree._Element | None:
    """Disk *target* as *snap*'s own domain definition recorded it."""
    if snap.domain is None:
        return None
    return _disk_node(DomainDef.parse(snap.domain), target)


def without_terminator(saved: etree._Element | None) -> etree._Element | None:
    """*saved* without the empty ``<backingStore/>`` ending its chain.

    That terminator is what a running guest learnt from its images; a
    persistent definition never records it.
    """
    if saved is None:
        return None
    copied = _copy(saved)
    for node in list(copied.iter("backingStore")):
        parent = node.getparent()
        if parent is not None and len(node) == 0 and not node.attrib:
            parent.remove(node)
    return copied


def _remove_from_chain(disk: etree._Element, overlay: str) -> bool:
    holder = disk
    below = holder.find("backingStore")
    while below is not None:
        if _path(below) == overlay:
            deeper = below.find("backingStore")
            if deeper is not None:
                below.addprevious(deeper)
            holder.remove(below)
            return True
        holder, below = below, below.find("backingStore")
    return False


def drop_overlay(
    domain: DomainDef,
    target: str,
    overlay: str,
    saved: etree._Element | None,
    *,
    replace_source: bool = True,
) -> bool:
    """Take *overlay* out of disk *target* of *domain*; whether anything changed.

    When the overlay is the disk's source, the source becomes *saved*'s (the
    deleted snapshot's view of the disk, ``qemuSnapshotUpdateDisksSingle``) -
    unless not *replace_source*: libvirt leaves the images an internal
    snapshot was taken on as they were recorded.
    """
    disk = _disk_node(domain, target)
    if disk is None:
        return False
    if _path(disk) != overlay:
        return _remove_from_chain(disk, overlay)
    if saved is None or not replace_source:
        return False
    source = disk.find("source")
    assert source is not None
    old_chain = disk.find("backingStore")
    if old_chain is not None:
        disk.remove(old_chain)
    new_source = saved.find("source")
    if new_source is not None:
        source.addprevious(_copy(new_source))
    disk.remove(source)
    new_chain = saved.find("backingStore")
    if new_chain is not None and new_source is not None:
        placed = disk.find("source")
        assert placed is not None
        placed.addnext(_copy(new_chain))
    disk.set("type", saved.get("type") or "file")
    fmt = saved.xpath("string(./driver/@type)")
    driver = disk.find("driver")
    if driver is not None and fmt:
        driver.set("type", str(fmt))
    return True


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


def drop_overlay_text(
    xml: str | None,
    target: str,
    overlay: str,
    saved: etree._Element | None,
    *,
    replace_source: bool,
) -> str | None:
    """:func:`drop_overlay` on a recorded domain (text in, text out; None stays None)."""
    if xml is None:
        return None
    domain = DomainDef.parse(xml)
    if not drop_overlay(domain, target, overlay, saved, replace_source=replace_source):
        return xml
    return domain.format(0x2)
