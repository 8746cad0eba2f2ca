"""Snapshot calls of the test driver's hypervisor table.

Behaviour is libvirt 9.0's test driver as observed through libvirt-python,
including its peculiarities:

* Supported creation flags are ``REDEFINE``, ``CURRENT``, ``HALT``,
  ``QUIESCE``, ``ATOMIC``, ``LIVE`` and ``VALIDATE``; ``NO_METADATA``,
  ``DISK_ONLY`` and ``REUSE_EXT`` are refused as unsupported flags. A snapshot
  cannot be taken while the domain has checkpoints.
* Reverting to a snapshot of a running or paused domain always restarts the
  domain (``STOPPED``/``FROM_SNAPSHOT`` if it was active, then
  ``STARTED``/``FROM_SNAPSHOT`` with a new id, then ``SUSPENDED``/
  ``FROM_SNAPSHOT`` when the result is paused). Reverting to a shut-off
  snapshot with ``RUNNING`` or ``PAUSED`` reports ``STARTED`` (and
  ``SUSPENDED``) events but leaves the domain shut off, as libvirt does.
* Deleting supports ``CHILDREN`` and ``CHILDREN_ONLY``; ``METADATA_ONLY`` is an
  unsupported flag. Every snapshot has metadata.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from virtcore.drivers.test.domaincommon import (
    DomainTableBase,
    check_flags,
    exclusive_flags,
    required_flag,
)
from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.moments import Moment, MomentList
from virtcore.drivers.test.momentxml import SNAPSHOT_STATES, SnapshotDef
from virtcore.drivers.test.state import DomainObj
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.snapshot import (
    DomainSnapshotCreateFlags as Create,
)
from virtcore.enums.snapshot import (
    DomainSnapshotDeleteFlags as Delete,
)
from virtcore.enums.snapshot import (
    DomainSnapshotListFlags as ListFlags,
)
from virtcore.enums.snapshot import (
    DomainSnapshotRevertFlags as Revert,
)
from virtcore.errors import (
    InvalidArgError,
    NoDomainSnapshotError,
    OperationInvalidError,
    OperationUnsupportedError,
    VirtError,
)
from virtcore.objects import Domain, DomainSnapshot

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["SnapshotCalls"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_SNAP = ErrorDomain.DOMAIN_SNAPSHOT
_CREATE_FLAGS = (
    Create.REDEFINE
    | Create.CURRENT
    | Create.HALT
    | Create.QUIESCE
    | Create.ATOMIC
    | Create.LIVE
    | Create.VALIDATE
)
_LIST_FLAGS = 0x7FF  # ROOTS/DESCENDANTS, TOPOLOGICAL and every filter
_STATUS_FILTERS = ListFlags.INACTIVE | ListFlags.ACTIVE | ListFlags.DISK_ONLY
_LOCATION_FILTERS = ListFlags.INTERNAL | ListFlags.EXTERNAL
_METADATA_FILTERS = ListFlags.METADATA | ListFlags.NO_METADATA
Snapshots = MomentList[SnapshotDef]
Snap = Moment[SnapshotDef]


def _no_snapshot(text: str) -> NoDomainSnapshotError:
    return NoDomainSnapshotError(text, domain=_TEST)


def _live_state(snap: SnapshotDef) -> bool:
    return snap.state in ("running", "paused")


def _accept(flags: int) -> Callable[[Snap], bool] | None:
    """The per-snapshot filter of listing *flags*, or None when nothing can match."""
    if flags & _METADATA_FILTERS == ListFlags.NO_METADATA:
        return None
    status = int(flags & _STATUS_FILTERS)
    if status == _STATUS_FILTERS:
        status = 0
    location = int(flags & _LOCATION_FILTERS)
    if location == _LOCATION_FILTERS:
        location = 0

    def accept(moment: Snap) -> bool:
        snap = moment.def_
        if status:
            if not status & ListFlags.INACTIVE and snap.state == "shutoff":
                return False
            if not status & ListFlags.DISK_ONLY and snap.state == "disk-snapshot":
                return False
            if not status & ListFlags.ACTIVE and snap.state not in ("shutoff", "disk-snapshot"):
                return False
        if location & ListFlags.INTERNAL and snap.is_external:
            return False
        return not (location & ListFlags.EXTERNAL and not snap.is_external)

    return accept


class SnapshotCalls(DomainTableBase):
    """``virDomainSnapshot*`` and ``virDomainRevertToSnapshot`` on the test host."""

    def _snapshots(self, dom: Domain) -> tuple[DomainObj, Snapshots]:
        obj = self._obj(dom)
        return obj, self._runtime(obj).snapshots

    def _snap(self, snapshot: DomainSnapshot) -> tuple[DomainObj, Snapshots, Snap]:
        obj, snaps = self._snapshots(snapshot.domain)
        found = snaps.find(snapshot.name)
        if found is None:
            raise _no_snapshot(f"no domain snapshot with matching name '{snapshot.name}'")
        return obj, snaps, found

    def _select_snapshots(self, snaps: Snapshots, start: Snap | None, flags: int) -> list[Snap]:
        accept = _accept(flags)
        if accept is None:
            return []
        return snaps.select(
            start,
            descend=bool(flags & ListFlags.ROOTS),
            leaves=bool(flags & ListFlags.LEAVES),
            no_leaves=bool(flags & ListFlags.NO_LEAVES),
            accept=accept,
        )

    # -- creation -------------------------------------------------------------------

    def domain_snapshot_create_xml(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> DomainSnapshot:
        """Take (or with ``REDEFINE`` record) a snapshot; ``HALT`` stops the domain."""
        redefine_flag = (Create.REDEFINE, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE")
        required_flag(flags, (Create.CURRENT, "VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT"),
                      redefine_flag, _SNAP)  # fmt: skip
        for other, other_name in ((Create.NO_METADATA, "NO_METADATA"), (Create.HALT, "HALT")):
            exclusive_flags(flags, redefine_flag,
                            (other, f"VIR_DOMAIN_SNAPSHOT_CREATE_{other_name}"), _SNAP)  # fmt: skip
        check_flags(flags, _CREATE_FLAGS, "testDomainSnapshotCreateXML")
        redefine = bool(flags & Create.REDEFINE)
        with self.state.lock:
            obj, snaps = self._snapshots(dom)
            if len(self._runtime(obj).checkpoints):
                raise OperationUnsupportedError(
                    "cannot create snapshot while checkpoint exists", domain=_TEST
                )
            if not obj.persistent and flags & Create.HALT:
                raise OperationInvalidError(
                    "cannot halt after transient domain snapshot", domain=_TEST
                )
            snap = SnapshotDef.parse(xml, redefine=redefine, now=self._clock_ns() // 1_000_000_000)
            existing: Snap | None = None
            if redefine:
                existing = self._redefine_prep(obj, snaps, snap)
            else:
                snap.dom = obj.def_.copy()
                self._align(obj, snap)
            if existing is not None:
                snaps.replace_def(existing, snap)
                moment = existing
            else:
                moment = snaps.assign(snap)
            if not redefine:
                snap.parent_name = snaps.current_name
                if flags & Create.HALT and obj.is_active():
                    self.state.stop_domain(obj, DomainShutoffReason.FROM_SNAPSHOT)
                    self.state.emit_domain(
                        obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.FROM_SNAPSHOT
                    )
                    dom.set_id(-1)
            if not redefine or flags & Create.CURRENT:
                snaps.current = moment
            snaps.link_parent(moment)
            logger.debug("snapshot %s of domain %s created", snap.name, obj.name)
            return DomainSnapshot(dom, snap.name)

    @staticmethod
    def _align(obj: DomainObj, snap: SnapshotDef) -> None:
        snap.state = SNAPSHOT_STATES[obj.state]
        if snap.memory == "external":
            snap.align_disks(snap.dom, "external", False)
            return
        snap.memory = "no" if snap.state == "shutoff" else "internal"
        snap.align_disks(snap.dom, "internal", True)

    def _redefine_prep(self, obj: DomainObj, snaps: Snapshots, snap: SnapshotDef) -> Snap | None:
        """``virDomainSnapshotRedefinePrep``: checks, then the snapshot being replaced."""
        snaps.check_cycles(snap, obj.name)
        other = snaps.find(snap.name)
        if snap.dom is not None and snap.dom.uuid != obj.uuid:
            raise InvalidArgError(
                f"definition for snapshot {snap.name} must use uuid {obj.uuid}", domain=_SNAP
            )
        if other is not None:
            old = other.def_
            if _live_state(old) != _live_state(snap):
                raise InvalidArgError(
                    f"cannot change between online and offline snapshot state in snapshot "
                    f"{snap.name}",
                    domain=_SNAP,
                )
            if (old.state == "disk-snapshot") != (snap.state == "disk-snapshot"):
                raise InvalidArgError(
                    f"cannot change between disk only and full system in snapshot {snap.name}",
                    domain=_SNAP,
                )
        location = "external" if snap.state == "disk-snapshot" or snap.is_external else "internal"
        existing_dom = other.def_.dom if other is not None else None
        snap.align_disks(snap.dom or existing_dom, location, True)
        return other

    # -- listing and lookup ---------------------------------------------------------

    def domain_snapshot_num(self, conn: Connection, dom: Domain, flags: int) -> int:
        """How many snapshots match the ``DomainSnapshotListFlags`` filter."""
        check_flags(flags, _LIST_FLAGS, "testDomainSnapshotNum")
        with self.state.lock:
            return len(self._select_snapshots(self._snapshots(dom)[1], None, flags))

    def domain_snapshot_list_names(self, conn: Connection, dom: Domain, flags: int) -> list[str]:
        """Names of the matching snapshots, parents before children."""
        check_flags(flags, _LIST_FLAGS, "testDomainSnapshotListNames")
        with self.state.lock:
            return [m.name for m in self._select_snapshots(self._snapshots(dom)[1], None, flags)]

    def domain_list_all_snapshots(
        self, conn: Connection, dom: Domain, flags: int
    ) -> list[DomainSnapshot]:
        """Handles of the matching snapshots, parents before children."""
        check_flags(flags, _LIST_FLAGS, "testDomainListAllSnapshots")
        with self.state.lock:
            found = self._select_snapshots(self._snapshots(dom)[1], None, flags)
            return [DomainSnapshot(dom, m.name) for m in found]

    def domain_snapshot_num_children(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """How many children (or with ``DESCENDANTS`` descendants) match."""
        check_flags(flags, _LIST_FLAGS, "testDomainSnapshotNumChildren")
        with self.state.lock:
            _, snaps, snap = self._snap(snapshot)
            return len(self._select_snapshots(snaps, snap, flags))

    def domain_snapshot_list_children_names(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> list[str]:
        """Names of the matching children or descendants."""
        check_flags(flags, _LIST_FLAGS, "testDomainSnapshotListChildrenNames")
        with self.state.lock:
            _, snaps, snap = self._snap(snapshot)
            return [m.name for m in self._select_snapshots(snaps, snap, flags)]

    def domain_snapshot_list_all_children(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> list[DomainSnapshot]:
        """Handles of the matching children or descendants."""
        check_flags(flags, _LIST_FLAGS, "testDomainSnapshotListAllChildren")
        with self.state.lock:
            _, snaps, snap = self._snap(snapshot)
            found = self._select_snapshots(snaps, snap, flags)
            return [DomainSnapshot(snapshot.domain, m.name) for m in found]

    def domain_snapshot_lookup_by_name(
        self, conn: Connection, dom: Domain, name: str, flags: int
    ) -> DomainSnapshot:
        """The snapshot called *name*."""
        check_flags(flags, 0, "testDomainSnapshotLookupByName")
        with self.state.lock:
            found = self._snapshots(dom)[1].find(name)
            if found is None:
                raise _no_snapshot(f"no domain snapshot with matching name '{name}'")
            return DomainSnapshot(dom, found.name)

    def domain_has_current_snapshot(self, conn: Connection, dom: Domain, flags: int) -> int:
        """1 when the domain has a current snapshot."""
        check_flags(flags, 0, "testDomainHasCurrentSnapshot")
        with self.state.lock:
            return int(self._snapshots(dom)[1].current is not None)

    def domain_snapshot_current(self, conn: Connection, dom: Domain, flags: int) -> DomainSnapshot:
        """The current snapshot."""
        check_flags(flags, 0, "testDomainSnapshotCurrent")
        with self.state.lock:
            current = self._snapshots(dom)[1].current
            if current is None:
                raise _no_snapshot("the domain does not have a current snapshot")
            return DomainSnapshot(dom, current.name)

    def domain_snapshot_get_parent(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> DomainSnapshot:
        """The snapshot's parent."""
        check_flags(flags, 0, "testDomainSnapshotGetParent")
        with self.state.lock:
            _, _, snap = self._snap(snapshot)
            parent = snap.def_.parent_name
            if parent is None:
                raise _no_snapshot(f"snapshot '{snap.name}' does not have a parent")
            return DomainSnapshot(snapshot.domain, parent)

    def domain_snapshot_get_xml_desc(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> str:
        """The snapshot document (``SECURE`` is accepted; there is nothing secret to hide)."""
        check_flags(flags, 0x1, "testDomainSnapshotGetXMLDesc")
        with self.state.lock:
            _, _, snap = self._snap(snapshot)
            return snap.def_.format(snapshot.domain.uuid)

    def domain_snapshot_is_current(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """1 when the snapshot is the domain's current one."""
        check_flags(flags, 0, "testDomainSnapshotIsCurrent")
        with self.state.lock:
            _, snaps, snap = self._snap(snapshot)
            return int(snaps.current is snap)

    def domain_snapshot_has_metadata(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> int:
        """Always 1: every test-driver snapshot has metadata."""
        check_flags(flags, 0, "testDomainSnapshotHasMetadata")
        with self.state.lock:
            self._snap(snapshot)
            return 1

    # -- deletion and revert ------------------------------------------------------------

    def domain_snapshot_delete(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> None:
        """Delete the snapshot, its descendants (``CHILDREN``) or only them (``CHILDREN_ONLY``)."""
        exclusive_flags(flags, (Delete.CHILDREN, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN"),
                        (Delete.CHILDREN_ONLY, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY"),
                        _SNAP)  # fmt: skip
        check_flags(flags, Delete.CHILDREN | Delete.CHILDREN_ONLY, "testDomainSnapshotDelete")
        with self.state.lock:
            _, snaps, snap = self._snap(snapshot)
            snaps.delete(
                snap,
                children=bool(flags & Delete.CHILDREN),
                children_only=bool(flags & Delete.CHILDREN_ONLY),
            )

    def domain_revert_to_snapshot(
        self, conn: Connection, snapshot: DomainSnapshot, flags: int
    ) -> None:
        """Make the domain's state and definition the snapshot's (see the module notes)."""
        exclusive_flags(flags, (Revert.RUNNING, "VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING"),
                        (Revert.PAUSED, "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED"), _SNAP)  # fmt: skip
        check_flags(flags, Revert.RUNNING | Revert.PAUSED | Revert.FORCE,
                    "testDomainRevertToSnapshot")  # fmt: skip
        want_run = bool(flags & (Revert.RUNNING | Revert.PAUSED))
        with self.state.lock:
            obj, snaps, moment = self._snap(snapshot)
            snap = moment.def_
            if not obj.persistent and not _live_state(snap) and not want_run:
                raise OperationInvalidError(
                    "transient domain needs to request run or pause to revert to inactive snapshot",
                    domain=_TEST,
                )
            if snap.dom is None:
                # Only snapshots redefined without a domain lack one; FORCE cannot help.
                raise VirtError(
                    f"snapshot '{snap.name}' lacks domain '{obj.name}' rollback info",
                    code=ErrorNumber.SNAPSHOT_REVERT_RISKY,
                    domain=_TEST,
                )
            snaps.current = None
            config = snap.dom.copy()
            if _live_state(snap):
                self._revert_to_live(snapshot.domain, obj, snap, config, flags)
            else:
                self._revert_to_inactive(snapshot.domain, obj, config, flags)
            snaps.current = moment

    def _revert_to_live(
        self, dom: Domain, obj: DomainObj, snap: SnapshotDef, config: DomainDef, flags: int
    ) -> None:
        if obj.is_active():
            self._stop_for_revert(dom, obj)
        obj.assign_def(config, live=False)
        self.state.start_domain(obj, DomainRunningReason.FROM_SNAPSHOT)
        self._lifecycle(obj, DomainEventType.STARTED, DomainEventStartedDetailType.FROM_SNAPSHOT)
        if not flags & Revert.RUNNING and (snap.state == "paused" or flags & Revert.PAUSED):
            obj.set_state(DomainState.PAUSED, DomainPausedReason.FROM_SNAPSHOT)
            self._lifecycle(
                obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.FROM_SNAPSHOT
            )

    def _revert_to_inactive(
        self, dom: Domain, obj: DomainObj, config: DomainDef, flags: int
    ) -> None:
        obj.assign_def(config, live=False)
        if obj.is_active():
            self._stop_for_revert(dom, obj)
        if flags & (Revert.RUNNING | Revert.PAUSED):
            # libvirt announces the start without starting the domain.
            self._lifecycle(
                obj, DomainEventType.STARTED, DomainEventStartedDetailType.FROM_SNAPSHOT
            )
            if flags & Revert.PAUSED:
                self._lifecycle(
                    obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.FROM_SNAPSHOT
                )

    def _stop_for_revert(self, dom: Domain, obj: DomainObj) -> None:
        self.state.stop_domain(obj, DomainShutoffReason.FROM_SNAPSHOT)
        self._lifecycle(obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.FROM_SNAPSHOT)
        # Like libvirt, only a stop updates the handle's id; the restart does not.
        dom.set_id(-1)

    def _lifecycle(self, obj: DomainObj, event: int, detail: int) -> None:
        self.state.emit_domain(obj, event, detail)
