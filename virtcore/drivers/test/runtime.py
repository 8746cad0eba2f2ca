"""Per-domain runtime data of the test driver that is not part of a domain's XML.

libvirt's test driver keeps these in each domain's private data (and in the
snapshot and checkpoint lists that hang off ``virDomainObj``): the snapshot
and checkpoint trees, which guest file systems are frozen, the guest clock
the time calls read and set, and the IOThread polling parameters the
statistics report. :func:`runtime_of` returns the record for a domain object
of a host, creating it on first use.

Records are keyed by domain object identity, not by name or UUID: a domain
that is undefined and defined again is a new object and starts with no
snapshots, exactly as in libvirt. Records of domain objects that no longer
exist are dropped the next time the host's table is consulted.

A domain loaded from a test driver configuration file may carry
``<test:domainsnapshot>`` elements (inline, or ``file=`` relative to the
configuration file); its record starts with those snapshots, as
``testParseDomainSnapshots`` loads them: each must say with ``<active>``
whether it is current, at most one may be, and every parent must exist.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from virtcore.drivers.test.moments import MomentList
from virtcore.drivers.test.momentxml import CheckpointDef, SnapshotDef
from virtcore.drivers.test.xmlutil import parse_xml_file
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError

if TYPE_CHECKING:
    from virtcore.drivers.test.state import DomainObj, TestState

__all__ = ["GUEST_EPOCH", "DomainRuntime", "IOThreadStats", "peek_runtime", "runtime_of"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST

GUEST_EPOCH = 627319920
"""The guest clock's initial value in seconds, as in libvirt's test driver."""


@dataclass
class IOThreadStats:
    """Polling parameters of one IOThread as the statistics report them."""

    id: int
    poll_max_ns: int = 32768
    poll_grow: int = 0
    poll_shrink: int = 0


@dataclass
class DomainRuntime:
    """Everything the test driver remembers about a domain besides its definitions."""

    snapshots: MomentList[SnapshotDef] = field(default_factory=MomentList)
    checkpoints: MomentList[CheckpointDef] = field(default_factory=MomentList)
    frozen: list[bool] = field(default_factory=lambda: [False, False])
    seconds: int = GUEST_EPOCH
    nseconds: int = 0
    iothreads: list[IOThreadStats] = field(default_factory=list)

    def iothread(self, iothread_id: int) -> IOThreadStats | None:
        """The statistics record of *iothread_id*, if the API ever added that thread."""
        for stats in self.iothreads:
            if stats.id == iothread_id:
                return stats
        return None


_Entry = tuple["weakref.ref[DomainObj]", DomainRuntime]
_EXTENSION = "runtimes"
# Guards creating a host's table; each table is only used under its host's lock.
_TABLES_LOCK = threading.Lock()


def _table(state: TestState) -> dict[int, _Entry]:
    found = state.extensions.get(_EXTENSION)
    if found is None:
        with _TABLES_LOCK:
            found = state.extensions.setdefault(_EXTENSION, {})
    return cast("dict[int, _Entry]", found)


def peek_runtime(state: TestState, obj: DomainObj) -> DomainRuntime | None:
    """*obj*'s runtime record if it has one yet (nothing has been recorded otherwise)."""
    entry = _table(state).get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry[1]
    return None


def runtime_of(state: TestState, obj: DomainObj) -> DomainRuntime:
    """The runtime record of *obj* on host *state* (call with the host's lock held)."""
    table = _table(state)
    entry = table.get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry[1]
    if entry is not None or len(table) % 64 == 63:
        # A reused id, or time for a sweep: drop the records of vanished domains.
        for key in [k for k, (ref, _) in table.items() if ref() is None]:
            del table[key]
    record = DomainRuntime()
    _load_config_snapshots(state, obj, record)
    table[id(obj)] = (weakref.ref(obj), record)
    logger.debug("new runtime record for domain %s", obj.name)
    return record


def _load_config_snapshots(state: TestState, obj: DomainObj, record: DomainRuntime) -> None:
    nodes = obj.def_.namespace.snapshots
    if not nodes:
        return
    base = os.path.dirname(state.source_path or "")
    snaps = record.snapshots
    for node in nodes:
        reference = node.get("file")
        document = node
        if reference is not None:
            document = parse_xml_file(os.path.join(base, reference), domain=ErrorDomain.TEST)
        snap, current = SnapshotDef.from_internal(document)
        moment = snaps.assign(snap)
        if current:
            if snaps.current is not None:
                raise InternalError("more than one snapshot claims to be active", domain=_TEST)
            snaps.current = moment
    for moment in snaps.members():
        if moment.def_.parent_name is not None and snaps.find(moment.def_.parent_name) is None:
            raise InternalError(
                f"Snapshots have inconsistent relations for domain {obj.name}", domain=_TEST
            )
        snaps.link_parent(moment)
