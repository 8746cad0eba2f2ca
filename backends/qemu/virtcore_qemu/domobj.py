"""The QEMU driver's domain objects and the list that holds them.

A :class:`DomainObj` is libvirt's ``virDomainObj`` plus the qemu driver's
private data: the persistent definition (``newDef`` while running), the live
definition of a running guest, state and reason, id, QEMU's pid, the monitor,
the process watch and the bookkeeping the QMP event handlers need
(``fake_reboot``, ``paused_reason``, ``running_reason``, ``being_destroyed``).

Locking: each object has its own re-entrant lock guarding its fields, and a
job lock serialising modifying API calls (libvirt's job model: a second job
waits up to :data:`JOB_WAIT` seconds, then fails with libvirt's timeout
error). :class:`DomainList` has one lock for the name/uuid/id indexes. Lock
order: list lock, then object lock; a job is always taken before the object lock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from virtcore.enums.domain import (
    DomainControlErrorReason,
    DomainControlState,
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    NoDomainError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
)
from virtcore.xml.domain import Domain as DomainDef
from virtcore.xml.snapshot import SnapshotDef

if TYPE_CHECKING:
    from virtcore_qemu.monitor import ProcessWatch
    from virtcore_qemu.qmp import QMPClient

__all__ = ["JOB_WAIT", "DomainList", "DomainObj", "VolumeInfo"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU

#: Seconds a modifying call waits for another job on the same domain (libvirt: 30 s).
JOB_WAIT = 30.0


class VolumeInfo(Protocol):
    """What the storage driver's ``translate_volume`` returns (``TranslatedVolume``)."""

    @property
    def disk_type(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str | None: ...
    @property
    def pool_type(self) -> str: ...


@dataclass(eq=False)
class DomainObj:
    """One domain known to the driver (see the module documentation)."""

    config: DomainDef | None
    """The persistent definition (None for a transient domain)."""
    live: DomainDef | None = None
    """The running definition; None while inactive."""
    state: DomainState = DomainState.SHUTOFF
    reason: int = int(DomainShutoffReason.UNKNOWN)
    id: int = -1
    pid: int = 0
    autostart: bool = False
    persistent: bool = True
    monitor: QMPClient | None = None
    watch: ProcessWatch | None = None
    volumes: dict[tuple[str, str], VolumeInfo] = field(default_factory=dict)
    control: DomainControlState = DomainControlState.OK
    control_reason: DomainControlErrorReason = DomainControlErrorReason.NONE
    messages: list[str] = field(default_factory=list)
    being_destroyed: bool = False
    fake_reboot: bool = False
    got_shutdown: bool = False
    paused_reason: int = int(DomainPausedReason.UNKNOWN)
    running_reason: int = int(DomainRunningReason.UNKNOWN)
    has_managed_save: bool = False
    snapshots: dict[str, SnapshotDef] = field(default_factory=dict, repr=False)
    pending_removals: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)
    """Devices asked to leave (by alias) and the QEMU backends to delete once they did."""
    pending_vcpu_removals: set[str] = field(default_factory=set, repr=False)
    """Ids of vCPUs asked to leave whose ``DEVICE_DELETED`` has not been handled yet."""
    current_snapshot: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _job: threading.Lock = field(default_factory=threading.Lock, repr=False)
    seen: dict[str, int] = field(default_factory=dict, repr=False)
    """How many QMP events of each name the handlers have processed."""
    changed: threading.Condition = field(init=False, repr=False)
    """Notified (with :attr:`lock`) whenever an event was processed or QEMU exited."""

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_event(self, name: str, after: int, timeout: float) -> bool:
        """Wait until more than *after* events called *name* were processed."""
        with self.changed:
            return self.changed.wait_for(lambda: self.seen.get(name, 0) > after, timeout)

    @property
    def definition(self) -> DomainDef:
        """The definition in effect: the live one while running, else the persistent one."""
        if self.live is not None:
            return self.live
        assert self.config is not None, "an inactive domain always has a config"
        return self.config

    @property
    def name(self) -> str:
        """The domain's name."""
        return str(self.definition.name)

    @property
    def uuid(self) -> str:
        """The domain's UUID in canonical form."""
        return str(self.definition.uuid).lower()

    def is_active(self) -> bool:
        """True while QEMU runs (libvirt: the domain has an id)."""
        return self.id != -1

    def set_state(self, state: DomainState, reason: int) -> None:
        """Record a new state and reason."""
        self.state = state
        self.reason = int(reason)

    def check_active(self) -> None:
        """libvirt's ``virDomainObjCheckActive`` (an error of the domain config subsystem)."""
        if not self.is_active():
            raise OperationInvalidError("domain is not running", domain=ErrorDomain.DOMAIN)

    @contextlib.contextmanager
    def job(self, timeout: float = JOB_WAIT) -> Iterator[None]:
        """Hold this domain's modifying job (libvirt's ``virDomainObjBeginJob``)."""
        if not self._job.acquire(timeout=timeout):
            raise OperationTimeoutError(
                "cannot acquire state change lock (held by another job)", domain=_QEMU
            )
        try:
            yield
        finally:
            self._job.release()


class DomainList:
    """Every domain of one driver instance, indexed by UUID, name and id."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._by_uuid: dict[str, DomainObj] = {}
        self._by_name: dict[str, DomainObj] = {}
        self._next_id = 1

    def __iter__(self) -> Iterator[DomainObj]:
        with self.lock:
            return iter(sorted(self._by_uuid.values(), key=lambda o: o.name))

    def __len__(self) -> int:
        with self.lock:
            return len(self._by_uuid)

    def allocate_id(self) -> int:
        """The next domain id; ids are never reused within a driver instance."""
        with self.lock:
            dom_id = self._next_id
            self._next_id += 1
            return dom_id

    def note_id(self, dom_id: int) -> None:
        """Make sure later ids are above *dom_id* (reconnected guests keep theirs)."""
        with self.lock:
            self._next_id = max(self._next_id, dom_id + 1)

    def find_by_name(self, name: str) -> DomainObj | None:
        """The domain called *name*, if any."""
        with self.lock:
            return self._by_name.get(name)

    def find_by_uuid(self, uuid: str) -> DomainObj | None:
        """The domain with *uuid* (canonical form), if any."""
        with self.lock:
            return self._by_uuid.get(uuid.lower())

    def find_by_id(self, dom_id: int) -> DomainObj | None:
        """The running domain with *dom_id*, if any."""
        with self.lock:
            for obj in self._by_uuid.values():
                if obj.id == dom_id and dom_id != -1:
                    return obj
            return None

    def lookup_name(self, name: str) -> DomainObj:
        """``qemuDomainLookupByName``'s object or its error."""
        obj = self.find_by_name(name)
        if obj is None:
            raise NoDomainError(f"no domain with matching name '{name}'", domain=_QEMU)
        return obj

    def lookup_uuid(self, uuid: str, name: str | None = None) -> DomainObj:
        """The domain a handle refers to, or libvirt's NO_DOMAIN error."""
        obj = self.find_by_uuid(uuid)
        if obj is None:
            if name is None:
                raise NoDomainError(f"no domain with matching uuid '{uuid}'", domain=_QEMU)
            raise NoDomainError(f"no domain with matching uuid '{uuid}' ({name})", domain=_QEMU)
        return obj

    def lookup_id(self, dom_id: int) -> DomainObj:
        """``qemuDomainLookupByID``'s object or its error."""
        obj = self.find_by_id(dom_id)
        if obj is None:
            raise NoDomainError(f"no domain with matching id {dom_id}", domain=_QEMU)
        return obj

    def check_new(self, name: str, uuid: str, *, live: bool) -> DomainObj | None:
        """libvirt's ``virDomainObjListAdd`` checks; the existing object for *uuid*, if any.

        With *live* (``virDomainCreateXML``) an active domain of that UUID is refused.
        """
        with self.lock:
            existing = self._by_uuid.get(uuid.lower())
            if existing is not None:
                if existing.name != name:
                    raise OperationFailedError(
                        f"domain '{existing.name}' is already defined with uuid {uuid}",
                        domain=_QEMU,
                    )
                if live and existing.is_active():
                    raise OperationInvalidError(f"domain '{name}' is already active", domain=_QEMU)
                return existing
            other = self._by_name.get(name)
            if other is not None:
                raise OperationFailedError(
                    f"domain '{name}' already exists with uuid {other.uuid}", domain=_QEMU
                )
            return None

    def add(self, obj: DomainObj) -> None:
        """Index a new object."""
        with self.lock:
            self._by_uuid[obj.uuid] = obj
            self._by_name[obj.name] = obj

    def remove(self, obj: DomainObj) -> None:
        """Forget *obj* (an undefined or stopped transient domain)."""
        with self.lock:
            if self._by_uuid.get(obj.uuid) is obj:
                del self._by_uuid[obj.uuid]
            if self._by_name.get(obj.name) is obj:
                del self._by_name[obj.name]
