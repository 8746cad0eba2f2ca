"""Internal snapshots: memory and disks saved inside the guest's qcow2 images.

A running (or paused) guest is snapshotted with QMP's ``snapshot-save`` job:
the CPUs are paused (``SUSPENDED/PAUSED``), the memory goes into the first
qcow2 disk and every qcow2 disk gets an internal snapshot named after the
snapshot, then the CPUs run again (``RESUMED/UNPAUSED``), as libvirt's qemu
driver does around ``savevm``. A shut-off guest's disks are snapshotted with
``qemu-img snapshot -c``. Every disk must be qcow2 (libvirt's error
otherwise), and a running guest needs at least one, to hold its memory.

Reverting follows libvirt 9.0's event sequence: a running guest is stopped
(``STOPPED/FROM_SNAPSHOT``); for a snapshot with memory a fresh QEMU is
started from the snapshot's definition (``STARTED/FROM_SNAPSHOT``), the
snapshot is loaded with ``snapshot-load`` and the guest is left running
(``RESUMED/FROM_SNAPSHOT``) or paused (``SUSPENDED/FROM_SNAPSHOT``) as the
snapshot was, unless ``RUNNING``/``PAUSED`` say otherwise; for a shut-off
snapshot the disk snapshots are applied with ``qemu-img snapshot -a``. The
persistent definition becomes the snapshot's (``DEFINED/FROM_SNAPSHOT``). Deleting removes
the snapshot from the images (``snapshot-delete`` or ``qemu-img snapshot
-d``) unless ``METADATA_ONLY``; ``CHILDREN``/``CHILDREN_ONLY`` delete
descendants; children of a deleted snapshot move to its parent.

External disk-only snapshots (``DISK_ONLY``, or external ``<disk>``s asked of
a shut-off guest) are taken by :mod:`virtcore_qemu.snapshots_external`;
deleting one merges its overlays back (:mod:`virtcore_qemu.snapshots_merge`);
reverting to one is libvirt 9.0's "revert to external snapshot not supported
yet". ``NO_METADATA`` takes a snapshot without recording it; ``REDEFINE``
(with ``CURRENT``) records a snapshot document without taking anything
(:mod:`virtcore_qemu.snapshots_redefine`).

Metadata lives in ``<data_dir>/snapshot/<domain>/<snapshot>.xml`` (libvirt's
layout), written atomically, with ``<active>1</active>`` on the current one.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore.driver import HypervisorDriver
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventDefinedDetailType,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.snapshot import DomainSnapshotCreateFlags as Create
from virtcore.enums.snapshot import DomainSnapshotDeleteFlags as Delete
from virtcore.enums.snapshot import DomainSnapshotListFlags as ListFlags
from virtcore.enums.snapshot import DomainSnapshotRevertFlags as Revert
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoDomainSnapshotError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    OperationUnsupportedError,
    VirtError,
)
from virtcore.objects import Domain, DomainSnapshot
from virtcore.store import atomic_write, read_text, safe_object_path
from virtcore.xml.domain import Domain as DomainDef
from virtcore.xml.snapshot import DomainSnapshot as SnapshotDoc
from virtcore.xml.snapshot import SnapshotDef
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.lifecycle import check_flags
from virtcore_qemu.snapshots_redefine import check_create_flags, check_name, prepare_redefine

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore_qemu.state import QemuDriver

__all__ = ["SnapshotCalls", "forget_all", "load_snapshots"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
# libvirt reports snapshot lookups from its qemu driver.
_SNAP = ErrorDomain.QEMU
QEMU_IMG = "qemu-img"
#: Seconds a snapshot job may take.
JOB_TIMEOUT = 600.0
_CREATE_FLAGS = int(
    Create.REDEFINE
    | Create.CURRENT
    | Create.HALT
    | Create.NO_METADATA
    | Create.DISK_ONLY
    | Create.REUSE_EXT
    | Create.QUIESCE
    | Create.ATOMIC
)
_LIST_FLAGS = 0x7FF
_DELETE_FLAGS = int(Delete.CHILDREN | Delete.METADATA_ONLY | Delete.CHILDREN_ONLY)
_REVERT_FLAGS = int(Revert.RUNNING | Revert.PAUSED | Revert.FORCE)


# -- metadata --------------------------------------------------------------------------


def _snapshot_dir(driver: QemuDriver, obj: DomainObj) -> Path:
    return safe_object_path(driver.paths.data_dir / "snapshot", obj.name, "")


def _write(driver: QemuDriver, obj: DomainObj, snap: SnapshotDef) -> None:
    directory = _snapshot_dir(driver, obj)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    assert snap.name is not None
    current = obj.current_snapshot == snap.name
    atomic_write(
        safe_object_path(directory, snap.name), snap.format(internal=True, current=current)
    )


def _remove(driver: QemuDriver, obj: DomainObj, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        safe_object_path(_snapshot_dir(driver, obj), name).unlink()


def forget_all(driver: QemuDriver, obj: DomainObj) -> None:
    """Drop every snapshot's metadata (undefine with ``SNAPSHOTS_METADATA``)."""
    shutil.rmtree(_snapshot_dir(driver, obj), ignore_errors=True)
    obj.snapshots.clear()
    obj.current_snapshot = None


def load_snapshots(driver: QemuDriver, obj: DomainObj) -> None:
    """Load the snapshot metadata of *obj* (bad files are logged and skipped)."""
    directory = _snapshot_dir(driver, obj)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.xml")):
        try:
            text = read_text(path)
            if text is None:
                continue
            snap = SnapshotDoc.parse(text, redefine=True).definition(redefine=True)
            active = etree.fromstring(text.encode("utf-8")).findtext("active")
        except (VirtError, etree.XMLSyntaxError) as exc:
            log.error("Failed to load snapshot '%s' of '%s': %s", path.name, obj.name, exc)
            continue
        assert snap.name is not None
        obj.snapshots[snap.name] = snap
        if active == "1":
            obj.current_snapshot = snap.name


def _is_external(snap: SnapshotDef) -> bool:
    from virtcore_qemu.snapshots_external import is_external

    return is_external(snap)


def _check_same_images(obj: DomainObj, snap: SnapshotDef) -> None:
    """An internal snapshot lives in the images it was taken on: the running guest must
    still use them (libvirt's check before deleting it)."""
    from virtcore_qemu.snapshots_merge import saved_disk

    live = obj.live
    assert live is not None
    for disk in snap.disks:
        if disk.snapshot in (None, "no"):
            continue
        recorded = saved_disk(snap, disk.name)
        current = next((d for d in live.devices.disks if str(d.target_dev) == disk.name), None)
        if recorded is None or current is None:
            continue
        was = recorded.find("source")
        was_path = (was.get("file") or was.get("dev")) if was is not None else None
        if was_path != current.source_path:
            raise OperationUnsupportedError(
                f"disk image '{disk.name}' for internal snapshot '{snap.name}' is not the same "
                "as disk image currently used by VM",
                domain=_QEMU,
            )


# -- disks -----------------------------------------------------------------------------


def _qcow2_paths(obj: DomainObj) -> list[str]:
    """The images of the guest's disks; libvirt's error for a disk that is not qcow2."""
    domain = obj.live if obj.live is not None else obj.config
    assert domain is not None
    paths = []
    for disk in domain.devices.disks:
        source = disk.source_file or disk.source_dev
        fmt = disk.driver_type
        if disk.type == "volume" and disk.source_pool and disk.source_volume:
            vol = obj.volumes.get((str(disk.source_pool), str(disk.source_volume)))
            if vol is not None:
                source, fmt = vol.path, vol.format
        if not source:
            continue  # an empty drive holds nothing to snapshot
        if fmt != "qcow2":
            raise ConfigUnsupportedError(
                f"internal snapshot for disk {disk.target_dev} unsupported for storage type "
                f"{fmt or 'raw'}",
                domain=_QEMU,
            )
        paths.append(str(source))
    return paths


def _format_nodes(obj: DomainObj, paths: list[str]) -> list[str]:
    """The qcow2 format node names QEMU uses for *paths*."""
    assert obj.monitor is not None
    nodes: dict[str, str] = {}
    for entry in obj.monitor.execute("query-named-block-nodes") or []:
        if entry.get("drv") == "qcow2":
            nodes.setdefault(str(entry.get("file", "")), str(entry.get("node-name", "")))
    missing = [p for p in paths if p not in nodes]
    if missing:
        raise InternalError(f"cannot find the block node of '{missing[0]}'", domain=_QEMU)
    return [nodes[p] for p in paths]


def _qemu_img(*args: str) -> None:
    binary = shutil.which(QEMU_IMG) or f"/usr/bin/{QEMU_IMG}"
    proc = subprocess.run(
        [binary, *args], capture_output=True, text=True, check=False, timeout=JOB_TIMEOUT
    )
    if proc.returncode != 0:
        raise OperationFailedError(
            f"qemu-img {' '.join(args)} failed: {proc.stderr.strip()}", domain=_QEMU
        )


def _run_job(obj: DomainObj, command: str, arguments: dict[str, Any]) -> None:
    """Run a QMP job to its end; its error becomes libvirt's operation failure."""
    assert obj.monitor is not None
    job_id = f"{command}-{time.monotonic_ns()}"
    obj.monitor.execute(command, {"job-id": job_id, **arguments})
    deadline = time.monotonic() + JOB_TIMEOUT
    delay = 0.002
    while True:
        jobs = obj.monitor.execute("query-jobs") or []
        job = next((j for j in jobs if j.get("id") == job_id), None)
        if job is not None and job.get("status") == "concluded":
            obj.monitor.execute("job-dismiss", {"id": job_id})
            if "error" in job:
                raise OperationFailedError(
                    f"{command} of '{obj.name}' failed: {job['error']}", domain=_QEMU
                )
            return
        if time.monotonic() >= deadline:
            raise OperationTimeoutError(f"waiting for {command} of '{obj.name}'", domain=_QEMU)
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


# -- the table -------------------------------------------------------------------------


class SnapshotCalls(HypervisorDriver):
    """``virDomainSnapshot*`` and ``virDomainRevertToSnapshot`` of the QEMU table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    def _snap(self, snapshot: DomainSnapshot) -> tuple[DomainObj, SnapshotDef]:
        obj = self._obj(snapshot.domain)
        found = obj.snapshots.get(snapshot.name)
        if found is None:
            raise NoDomainSnapshotError(
                f"no domain snapshot with matching name '{snapshot.name}'", domain=_SNAP
            )
        return obj, found

    # -- creation --------------------------------------------------------------------

    def domain_snapshot_create_xml(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> DomainSnapshot:
        """Take a snapshot: internal (memory and disks) or, with ``DISK_ONLY`` or external
        disks on a shut-off guest, external disk-only (:mod:`virtcore_qemu.snapshots_external`).
        """
        check_create_flags(flags)
        check_flags(flags, _CREATE_FLAGS, "qemuDomainSnapshotCreateXML")
        if flags & Create.QUIESCE and not flags & Create.DISK_ONLY:
            text = (
                "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required by flag "
                "'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'"
            )
            raise InvalidArgError(text, message=text, domain=_QEMU)
        if flags & Create.REDEFINE:
            return self._redefine(dom, xml, flags)
        obj = self._obj(dom)
        if not obj.persistent and flags & Create.HALT:
            raise OperationInvalidError("cannot halt after transient domain snapshot", domain=_QEMU)
        doc = SnapshotDoc.parse(xml)
        with obj.job():
            if not obj.persistent and not obj.is_active():
                raise OperationInvalidError("domain is not running", domain=ErrorDomain.DOMAIN)
            requested = doc.definition()
            external_disks = any(d.snapshot == "external" for d in requested.disks)
            if flags & Create.DISK_ONLY or (not obj.is_active() and external_disks):
                return self._create_external(dom, obj, doc, flags)
            active = obj.is_active()
            paths = _qcow2_paths(obj)
            state = obj.state
            # The guest's definition as libvirt copies it (an inactive re-parse, so no
            # layers detected from the images and no runtime numbers).
            snap = doc.create(obj.definition.format(0x2, live=active), running=active)
            if state == DomainState.PAUSED:
                snap = replace(snap, state="paused")
            name = snap.name
            assert name is not None
            self._check_new_name(obj, name, flags)
            snap = replace(snap, parent_name=obj.current_snapshot)
            if active:
                self._save_active(obj, name, paths)
            else:
                for path in paths:
                    _qemu_img("snapshot", "-c", name, path)
            self._record(obj, snap, flags)
            if flags & Create.HALT and obj.is_active():
                self._stop(obj)
            return DomainSnapshot(dom, name)

    def _redefine(self, dom: Domain, xml: str, flags: int) -> DomainSnapshot:
        """``REDEFINE`` (see :mod:`virtcore_qemu.snapshots_redefine`): record, take nothing."""
        obj = self._obj(dom)
        with obj.job():
            snap, _replaced = prepare_redefine(obj.snapshots, obj.uuid, xml, flags)
            name = snap.name
            assert name is not None
            obj.snapshots[name] = snap
            previous = obj.current_snapshot
            if flags & Create.CURRENT:
                obj.current_snapshot = name
            _write(self.driver, obj, snap)
            if previous not in (None, name) and obj.current_snapshot == name:
                _write(self.driver, obj, obj.snapshots[str(previous)])
            return DomainSnapshot(dom, name)

    def _check_new_name(self, obj: DomainObj, name: str, flags: int) -> None:
        """libvirt's rules for a new snapshot's name (it names the metadata file)."""
        check_name(name, flags)
        if name in obj.snapshots:
            raise OperationInvalidError(f"domain snapshot '{name}' already exists", domain=_SNAP)

    def _record(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """Keep *snap* as the current snapshot, unless ``NO_METADATA``."""
        if flags & Create.NO_METADATA:
            return
        name = snap.name
        assert name is not None
        previous = obj.current_snapshot
        obj.snapshots[name] = snap
        obj.current_snapshot = name
        _write(self.driver, obj, snap)
        if previous is not None and previous in obj.snapshots:
            _write(self.driver, obj, obj.snapshots[previous])

    def _create_external(
        self, dom: Domain, obj: DomainObj, doc: SnapshotDoc, flags: int
    ) -> DomainSnapshot:
        """An external disk-only snapshot (see :mod:`virtcore_qemu.snapshots_external`)."""
        from virtcore_qemu import snapshots_external as ext

        active = obj.is_active()
        reuse = bool(flags & Create.REUSE_EXT)
        base = doc.definition()
        ext.check_offline_memory(base)
        now = int(time.time())
        name = base.name if base.name is not None else str(now)
        self._check_new_name(obj, name, flags)
        if obj.state == DomainState.PMSUSPENDED:
            raise OperationUnsupportedError(
                "qemu doesn't support taking snapshots of PMSUSPENDED guests", domain=_QEMU
            )
        domain = obj.definition
        inactive = obj.config.format(0x2) if active and obj.config is not None else None
        snap = replace(
            base,
            name=name,
            state="disk-snapshot" if active else "shutoff",
            creation_time=now,
            memory="no",
            domain=DomainDef.parse(domain.format(0x2, live=active)).format(0x2),
            inactive_domain=inactive,
            parent_name=obj.current_snapshot,
        )
        snap = replace(snap, disks=ext.align_disks(snap, domain))
        disks = ext.prepare(obj, snap, domain, active=active, reuse=reuse)
        snap = replace(
            snap,
            disks=tuple(
                replace(d, driver_type=d.driver_type or "qcow2") if d.snapshot == "external" else d
                for d in snap.disks
            ),
        )
        if active:
            if flags & Create.QUIESCE:
                ext.check_quiesce(obj)
            ext.create_active(obj, disks, reuse=reuse)
            assert obj.live is not None
            for disk in disks:
                if obj.config is not None and ext.same_source(obj.config, disk.target, disk.image):
                    ext.switch_to_overlay(obj.config, disk, keep_backing=True)
                ext.switch_to_overlay(obj.live, disk, keep_backing=True, live=True)
            self.driver.save_status(obj)
        else:
            ext.create_inactive(disks, reuse=reuse)
            assert obj.config is not None
            for disk in disks:
                has_chain = obj.config.element.xpath(
                    f"./devices/disk[target/@dev='{disk.target}']/backingStore/source"
                )
                ext.switch_to_overlay(obj.config, disk, keep_backing=bool(has_chain) and not reuse)
        if obj.persistent:
            self.driver.save_config(obj)
        self._record(obj, snap, flags)
        if flags & Create.HALT and obj.is_active():
            self._stop(obj)
        return DomainSnapshot(dom, name)

    def _save_active(self, obj: DomainObj, name: str, paths: list[str]) -> None:
        from virtcore_qemu.process import pause_cpus, run_cpus

        if not paths:
            raise ConfigUnsupportedError(
                "internal snapshot of a running domain needs a qcow2 disk to hold its memory",
                domain=_QEMU,
            )
        nodes = _format_nodes(obj, paths)
        resume = obj.state == DomainState.RUNNING
        if resume:
            pause_cpus(self.driver, obj, DomainPausedReason.SAVE)
        try:
            _run_job(obj, "snapshot-save", {"tag": name, "vmstate": nodes[0], "devices": nodes})
        finally:
            if resume and obj.is_active():
                run_cpus(self.driver, obj, DomainRunningReason.UNPAUSED)

    def _stop(self, obj: DomainObj) -> None:
        """``qemuProcessStop`` with reason ``from snapshot``: monitor closed first, so
        QEMU's own SHUTDOWN on the signal is not reported (as in libvirt)."""
        from virtcore_qemu.process import stop

        stop(self.driver, obj, DomainShutoffReason.FROM_SNAPSHOT)
        self.driver.emit_lifecycle(
            obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.FROM_SNAPSHOT
        )

    # -- queries ---------------------------------------------------------------------

    def _select(self, obj: DomainObj, parent: str | None, flags: int) -> list[str]:
        """Names of the snapshots under *parent* (None: the roots) the flags select."""
        # ROOTS and DESCENDANTS share a bit: roots only for a domain, recursion for a snapshot.
        if parent is None:
            recurse = not flags & ListFlags.ROOTS
        else:
            recurse = bool(flags & ListFlags.DESCENDANTS)
        found: list[str] = []

        def walk(of: str | None) -> None:
            for name in sorted(n for n, s in obj.snapshots.items() if s.parent_name == of):
                found.append(name)
                if recurse:
                    walk(name)

        walk(parent)
        return [n for n in found if self._accept(obj, n, flags)]

    def _accept(self, obj: DomainObj, name: str, flags: int) -> bool:
        snap = obj.snapshots[name]
        has_children = any(s.parent_name == name for s in obj.snapshots.values())
        if flags & ListFlags.LEAVES and has_children:
            return False
        if flags & ListFlags.NO_LEAVES and not has_children:
            return False
        if flags & ListFlags.NO_METADATA and not flags & ListFlags.METADATA:
            return False
        status = flags & (ListFlags.INACTIVE | ListFlags.ACTIVE | ListFlags.DISK_ONLY)
        if status:
            wanted = (
                (flags & ListFlags.INACTIVE and snap.state == "shutoff")
                or (flags & ListFlags.DISK_ONLY and snap.state == "disk-snapshot")
                or (flags & ListFlags.ACTIVE and snap.state in ("running", "paused"))
            )
            if not wanted:
                return False
        location = flags & (ListFlags.INTERNAL | ListFlags.EXTERNAL)
        if location:
            external = _is_external(snap)
            return bool(
                (flags & ListFlags.EXTERNAL and external)
                or (flags & ListFlags.INTERNAL and not external)
            )
        return True

    def domain_snapshot_num(self, conn: Connection, dom: Domain, flags: int) -> int:
        """How many snapshots the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainSnapshotNum")
        return len(self._select(self._obj(dom), None, flags))

    def domain_snapshot_list_names(self, conn: Connection, dom: Domain, flags: int) -> list[str]:
        """Names of the snapshots the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainSnapshotListNames")
        return self._select(self._obj(dom), None, flags)

    def domain_list_all_snapshots(
        self, conn: Connection, dom: Domain, flags: int
    ) -> list[DomainSnapshot]:
        """The snapshots the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainListAllSnapshots")
        return [DomainSnapshot(dom, n) for n in self._select(self._obj(dom), None, flags)]

    def domain_snapshot_num_children(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """How many children (or descendants) the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainSnapshotNumChildren")
        obj, snap = self._snap(snapshot)
        return len(self._select(obj, snap.name, flags))

    def domain_snapshot_list_children_names(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> list[str]:
        """Names of the children (or descendants) the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainSnapshotListChildrenNames")
        obj, snap = self._snap(snapshot)
        return self._select(obj, snap.name, flags)

    def domain_snapshot_list_all_children(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> list[DomainSnapshot]:
        """The children (or descendants) the flags select."""
        check_flags(flags, _LIST_FLAGS, "qemuDomainSnapshotListAllChildren")
        obj, snap = self._snap(snapshot)
        return [DomainSnapshot(snapshot.domain, n) for n in self._select(obj, snap.name, flags)]

    def domain_snapshot_lookup_by_name(
        self, conn: Connection, dom: Domain, name: str, flags: int
    ) -> DomainSnapshot:
        """The snapshot called *name*."""
        check_flags(flags, 0, "qemuDomainSnapshotLookupByName")
        handle = DomainSnapshot(dom, name)
        self._snap(handle)
        return handle

    def domain_has_current_snapshot(self, conn: Connection, dom: Domain, flags: int) -> int:
        """1 when the domain has a current snapshot."""
        check_flags(flags, 0, "qemuDomainHasCurrentSnapshot")
        return int(self._obj(dom).current_snapshot is not None)

    def domain_snapshot_current(self, conn: Connection, dom: Domain, flags: int) -> DomainSnapshot:
        """The current snapshot."""
        check_flags(flags, 0, "qemuDomainSnapshotCurrent")
        current = self._obj(dom).current_snapshot
        if current is None:
            raise NoDomainSnapshotError("the domain does not have a current snapshot", domain=_SNAP)
        return DomainSnapshot(dom, current)

    def domain_snapshot_get_parent(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> DomainSnapshot:
        """The parent snapshot."""
        check_flags(flags, 0, "qemuDomainSnapshotGetParent")
        _obj, snap = self._snap(snapshot)
        if snap.parent_name is None:
            raise NoDomainSnapshotError(
                f"snapshot '{snap.name}' does not have a parent", domain=_SNAP
            )
        return DomainSnapshot(snapshot.domain, snap.parent_name)

    def domain_snapshot_get_xml_desc(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> str:
        """The snapshot document."""
        check_flags(flags, 0x1, "qemuDomainSnapshotGetXMLDesc")
        _obj, snap = self._snap(snapshot)
        return snap.format(flags)

    def domain_snapshot_is_current(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """1 for the current snapshot."""
        check_flags(flags, 0, "qemuDomainSnapshotIsCurrent")
        obj, snap = self._snap(snapshot)
        return int(obj.current_snapshot == snap.name)

    def domain_snapshot_has_metadata(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """Every snapshot this driver knows has metadata."""
        check_flags(flags, 0, "qemuDomainSnapshotHasMetadata")
        self._snap(snapshot)
        return 1

    # -- revert and delete -----------------------------------------------------------

    def domain_revert_to_snapshot(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> None:
        """Bring the guest back to the snapshot (see the module documentation)."""
        from virtcore_qemu.process import run_cpus, start

        check_flags(flags, _REVERT_FLAGS, "qemuDomainRevertToSnapshot")
        obj, snap = self._snap(snapshot)
        dom = snapshot.domain
        if _is_external(snap):
            raise ConfigUnsupportedError(
                "revert to external snapshot not supported yet", domain=_QEMU
            )
        with obj.job():
            name = snap.name
            assert name is not None
            saved = DomainDef.parse(snap.domain) if snap.domain else None
            if obj.is_active():
                self._stop(obj)  # libvirt reloads every snapshot into a fresh QEMU
            if saved is not None and obj.persistent:
                obj.config = saved
            paths = _qcow2_paths(obj)
            if snap.state in ("running", "paused"):
                live = DomainDef.parse((saved or obj.definition).format(0x2))
                start(self.driver, obj, paused=True, live=live)
                self.driver.emit_lifecycle(
                    obj, DomainEventType.STARTED, DomainEventStartedDetailType.FROM_SNAPSHOT
                )
                nodes = _format_nodes(obj, _qcow2_paths(obj))
                _run_job(obj, "snapshot-load", {"tag": name, "vmstate": nodes[0], "devices": nodes})
                running = snap.state == "running"
                if flags & Revert.RUNNING:
                    running = True
                elif flags & Revert.PAUSED:
                    running = False
                if running:
                    run_cpus(self.driver, obj, DomainRunningReason.FROM_SNAPSHOT)
                else:
                    obj.set_state(DomainState.PAUSED, DomainPausedReason.FROM_SNAPSHOT)
                    self.driver.emit_lifecycle(
                        obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.FROM_SNAPSHOT
                    )
                self.driver.save_status(obj)
            else:
                for path in paths:
                    _qemu_img("snapshot", "-a", name, path)
                if flags & (Revert.RUNNING | Revert.PAUSED):
                    start(self.driver, obj, paused=bool(flags & Revert.PAUSED))
                    self.driver.emit_lifecycle(
                        obj, DomainEventType.STARTED, DomainEventStartedDetailType.FROM_SNAPSHOT
                    )
            if saved is not None and obj.persistent:
                self.driver.save_config(obj)
                self.driver.emit_lifecycle(
                    obj, DomainEventType.DEFINED, DomainEventDefinedDetailType.FROM_SNAPSHOT
                )
            previous, obj.current_snapshot = obj.current_snapshot, name
            _write(self.driver, obj, snap)
            if previous is not None and previous != name and previous in obj.snapshots:
                _write(self.driver, obj, obj.snapshots[previous])
            dom.set_id(obj.id)

    def domain_snapshot_delete(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> None:
        """Delete the snapshot (and/or its descendants) from the images and the metadata."""
        check_flags(flags, _DELETE_FLAGS, "qemuDomainSnapshotDelete")
        obj, snap = self._snap(snapshot)
        with obj.job():
            assert snap.name is not None
            descendants = self._select(obj, snap.name, int(ListFlags.DESCENDANTS))
            victims: list[str] = []
            if flags & (Delete.CHILDREN | Delete.CHILDREN_ONLY):
                victims.extend(reversed(descendants))
            if not flags & Delete.CHILDREN_ONLY:
                victims.append(snap.name)
            children = bool(flags & (Delete.CHILDREN | Delete.CHILDREN_ONLY))
            if not flags & Delete.METADATA_ONLY:
                below = [obj.snapshots[n] for n in descendants]
                if children and (
                    any(_is_external(s) for s in below)
                    or (_is_external(snap) and not flags & Delete.CHILDREN_ONLY)
                ):
                    from virtcore_qemu.snapshots_merge import check_children

                    check_children(below, own=snap, only=bool(flags & Delete.CHILDREN_ONLY))
                if not _is_external(snap) and obj.is_active():
                    _check_same_images(obj, snap)
                if _is_external(snap) and not children:
                    self._merge_external(obj, snap)
                else:
                    for name in victims:
                        self._delete_from_images(obj, name)
            for name in victims:
                self._forget(obj, name)

    def _merge_external(self, obj: DomainObj, snap: SnapshotDef) -> None:
        """Fold *snap*'s overlays into their bases (:mod:`virtcore_qemu.snapshots_merge`)."""
        from virtcore_qemu import snapshots_merge as sm

        merges = sm.plan(obj, obj.snapshots, snap)
        sm.merge(obj, merges)
        if not obj.is_active():
            # libvirt merges with a paused QEMU it then stops: the reason it leaves
            obj.set_state(DomainState.SHUTOFF, DomainShutoffReason.SHUTDOWN)
        touched: set[str] = set()
        for item in merges:
            saved = sm.saved_disk(snap, item.target)
            persistent = sm.without_terminator(saved)
            for domain, view in ((obj.live, saved), (obj.config, persistent)):
                if domain is not None:
                    sm.drop_overlay(domain, item.target, item.overlay, view)
            for name, other in list(obj.snapshots.items()):
                if other is snap:
                    continue
                external = _is_external(other)
                updated = replace(
                    other,
                    domain=sm.drop_overlay_text(
                        other.domain, item.target, item.overlay, saved, replace_source=external
                    ),
                    inactive_domain=sm.drop_overlay_text(
                        other.inactive_domain,
                        item.target,
                        item.overlay,
                        persistent,
                        replace_source=external,
                    ),
                )
                if updated != other:
                    obj.snapshots[name] = updated
                    touched.add(name)
        if obj.is_active():
            self.driver.save_status(obj)
        if obj.persistent:
            self.driver.save_config(obj)
        for name in touched:
            _write(self.driver, obj, obj.snapshots[name])

    def _delete_from_images(self, obj: DomainObj, name: str) -> None:
        paths = _qcow2_paths(obj)
        if obj.is_active():
            _run_job(obj, "snapshot-delete", {"tag": name, "devices": _format_nodes(obj, paths)})
        else:
            for path in paths:
                _qemu_img("snapshot", "-d", name, path)

    def _forget(self, obj: DomainObj, name: str) -> None:
        snap = obj.snapshots.pop(name)
        _remove(self.driver, obj, name)
        for child, child_def in list(obj.snapshots.items()):
            if child_def.parent_name == name:
                obj.snapshots[child] = replace(child_def, parent_name=snap.parent_name)
                _write(self.driver, obj, obj.snapshots[child])
        if obj.current_snapshot == name:
            obj.current_snapshot = snap.parent_name
            if snap.parent_name is not None and snap.parent_name in obj.snapshots:
                _write(self.driver, obj, obj.snapshots[snap.parent_name])
