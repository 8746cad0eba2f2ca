"""Per-object jobs: libvirt's model for serialising state changes on one object.

Every stateful object (a domain, mostly) owns one :class:`ObjectJobs`. It holds
the object's lock (:attr:`ObjectJobs.lock`, a re-entrant lock kept only for
short critical sections) and the *job* slots layered on top of it, as libvirt's
``virDomainObjBeginJob`` family does:

* a **synchronous job** (:class:`JobKind`): at most one per object at a time.
  Any call that changes the object, or talks to the hypervisor on its behalf,
  runs inside one. A second caller waits up to a timeout
  (:data:`DEFAULT_JOB_WAIT`, libvirt's ``VIR_JOB_WAIT_TIME`` of 30 s) and then
  fails with :class:`~virtcore.errors.OperationTimeoutError`, worded exactly as
  libvirt words it: ``Timed out during operation: cannot acquire state change
  lock (held by monitor=virDomainSuspend)``. The holder is named by the
  ``owner`` string the caller passed (the public API name, e.g.
  ``"virDomainSuspend"``, the way libvirt records ``remoteDispatchDomainSuspend``);
* an **agent job** (:class:`AgentJobKind`): serialises calls into a guest agent.
  It is independent of the synchronous job, so a slow guest agent never blocks
  the hypervisor monitor and vice versa (libvirt's ``virDomainObjBeginAgentJob``);
* an **asynchronous job** (:class:`AsyncJobKind`): a long operation (migration,
  save, dump, snapshot, backup, start) that spans many steps. While it is active
  only the synchronous jobs in its *mask* may start (by default ``QUERY``,
  ``DESTROY`` and ``ABORT``; ``DESTROY`` can never be masked out); the async job's
  own steps run as ``ASYNC_NESTED`` jobs.

Read-only calls that only look at the driver's in-memory state (``info``,
``XMLDesc`` of an inactive object, lookups, listings) take **no job at all**:
they take :attr:`ObjectJobs.lock` for the few microseconds it takes to copy the
state out. Because a job is a logical claim and not a held mutex, the object
lock is free while a job runs, so such queries never block behind a job. A
``QUERY`` job is only for queries that must talk to the hypervisor.

``DESTROY`` jobs wait for the running synchronous job like any other; a driver
that must stop a guest quickly makes the running job fail fast first (kill the
process, close the monitor), as libvirt's ``qemuProcessBeginStopJob`` does, and
then asks for the job. Waiters are served first come, first served among those
that can run, so a steady stream of short jobs cannot starve a waiter.

A thread that already holds a job and asks for another job on the same object
would wait for itself; that is a programming error and raises
:class:`~virtcore.errors.InternalError` at once instead of hanging.

Example::

    jobs = ObjectJobs("vm1")
    with jobs.job(JobKind.MODIFY, owner="virDomainSuspend"):
        ...  # talk to the hypervisor, update state under jobs.lock
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from types import TracebackType

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    OperationFailedError,
    OperationTimeoutError,
)

__all__ = [
    "DEFAULT_JOB_MASK",
    "DEFAULT_JOB_WAIT",
    "AgentJobInfo",
    "AgentJobKind",
    "AsyncJobHandle",
    "AsyncJobInfo",
    "AsyncJobKind",
    "JobHandle",
    "JobInfo",
    "JobKind",
    "ObjectJobs",
]

logger = logging.getLogger(__name__)

#: Seconds a job request waits for the object before giving up (libvirt: 30 s).
DEFAULT_JOB_WAIT = 30.0


class JobKind(IntEnum):
    """Synchronous job kinds, with libvirt's ``virDomainJob`` values."""

    NONE = 0
    QUERY = 1
    DESTROY = 2
    SUSPEND = 3
    MODIFY = 4
    ABORT = 5
    MIGRATION_OP = 6
    MODIFY_MIGRATION_SAFE = 7
    ASYNC = 8
    ASYNC_NESTED = 9

    @property
    def label(self) -> str:
        """libvirt's name for the kind, as shown in its logs (``"async nested"``)."""
        return _JOB_LABELS[self]


_JOB_LABELS = {
    JobKind.NONE: "none",
    JobKind.QUERY: "query",
    JobKind.DESTROY: "destroy",
    JobKind.SUSPEND: "suspend",
    JobKind.MODIFY: "modify",
    JobKind.ABORT: "abort",
    JobKind.MIGRATION_OP: "migration operation",
    JobKind.MODIFY_MIGRATION_SAFE: "modify migration safe",
    JobKind.ASYNC: "async",
    JobKind.ASYNC_NESTED: "async nested",
}

# Kinds a caller may ask for through ObjectJobs.job(); NONE and ASYNC are
# bookkeeping values (ASYNC is what begin_async() occupies).
_SYNC_KINDS = frozenset(JobKind) - {JobKind.NONE, JobKind.ASYNC}

#: Synchronous jobs allowed during an async job unless its mask says otherwise
#: (libvirt's ``VIR_JOB_DEFAULT_MASK``).
DEFAULT_JOB_MASK: frozenset[JobKind] = frozenset({JobKind.QUERY, JobKind.DESTROY, JobKind.ABORT})


class AgentJobKind(IntEnum):
    """Guest-agent job kinds, with libvirt's ``virDomainAgentJob`` values."""

    NONE = 0
    QUERY = 1
    MODIFY = 2

    @property
    def label(self) -> str:
        """libvirt's name for the kind (``"query"``)."""
        return self.name.lower()


class AsyncJobKind(IntEnum):
    """Asynchronous job kinds, with libvirt's ``virDomainAsyncJob`` values."""

    NONE = 0
    MIGRATION_OUT = 1
    MIGRATION_IN = 2
    SAVE = 3
    DUMP = 4
    SNAPSHOT = 5
    START = 6
    BACKUP = 7

    @property
    def label(self) -> str:
        """libvirt's name for the kind (``"migration out"``)."""
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class JobInfo:
    """The synchronous job an object is running.

    ``started`` is a :func:`time.monotonic` timestamp; ``thread_id`` the
    :func:`threading.get_ident` of the thread that began it.
    """

    kind: JobKind
    owner: str
    started: float
    thread_id: int


@dataclass(frozen=True)
class AgentJobInfo:
    """The guest-agent job an object is running (see :class:`JobInfo`)."""

    kind: AgentJobKind
    owner: str
    started: float
    thread_id: int


@dataclass(frozen=True)
class AsyncJobInfo:
    """The asynchronous job an object is running.

    ``allowed`` is the mask of synchronous kinds that may run meanwhile;
    ``thread_id`` is ``None`` once the starting thread released ownership
    (:meth:`ObjectJobs.release_async`).
    """

    kind: AsyncJobKind
    owner: str
    started: float
    allowed: frozenset[JobKind]
    thread_id: int | None
    abort_requested: bool = False


@dataclass(eq=False)
class _Request:
    """One pending request, queued while it waits (compared by identity)."""

    job: JobKind
    agent: AgentJobKind
    async_kind: AsyncJobKind
    owner: str
    thread_id: int = field(default_factory=threading.get_ident)

    def conflicts(self, other: _Request) -> bool:
        """Whether both requests compete for the same slot."""
        both_job = self.job is not JobKind.NONE and other.job is not JobKind.NONE
        both_agent = self.agent is not AgentJobKind.NONE and other.agent is not AgentJobKind.NONE
        return both_job or both_agent

    def describe(self) -> str:
        if self.job is JobKind.ASYNC:
            return f"async job '{self.async_kind.label}' ({self.owner})"
        parts = []
        if self.job is not JobKind.NONE:
            parts.append(f"job '{self.job.label}'")
        if self.agent is not AgentJobKind.NONE:
            parts.append(f"agent job '{self.agent.label}'")
        return f"{' and '.join(parts)} ({self.owner})"


class JobHandle:
    """A synchronous and/or agent job held on an object; end it exactly once.

    Returned by :meth:`ObjectJobs.begin`; also a context manager that ends the
    job on exit. :meth:`ObjectJobs.job` wraps both steps.
    """

    def __init__(
        self, jobs: ObjectJobs, info: JobInfo | None, agent_info: AgentJobInfo | None
    ) -> None:
        self._jobs = jobs
        self.info = info
        self.agent_info = agent_info
        self._ended = False

    @property
    def kind(self) -> JobKind:
        """The synchronous kind held (``NONE`` for an agent-only job)."""
        return self.info.kind if self.info is not None else JobKind.NONE

    @property
    def agent(self) -> AgentJobKind:
        """The agent kind held (``NONE`` when no agent job was requested)."""
        return self.agent_info.kind if self.agent_info is not None else AgentJobKind.NONE

    @property
    def owner(self) -> str:
        """The API name the job was begun for."""
        held = self.info if self.info is not None else self.agent_info
        assert held is not None  # a handle always holds at least one slot
        return held.owner

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` has run."""
        return self._ended

    def end(self) -> None:
        """Release the job and wake the waiters; ending twice is an InternalError."""
        self._jobs._end(self)
        self._ended = True

    def __enter__(self) -> JobHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._ended:
            self.end()

    def __repr__(self) -> str:
        return f"<JobHandle {self.kind.label}/{self.agent.label} owner={self.owner!r}>"


class AsyncJobHandle:
    """The asynchronous job begun by :meth:`ObjectJobs.begin_async`.

    A context manager that ends the async job on exit; :meth:`end` ends it
    explicitly (possibly from another thread, e.g. when a migration finishes
    in a later call). A handle only ever acts on the job it began.
    """

    def __init__(self, jobs: ObjectJobs, info: AsyncJobInfo, token: object) -> None:
        self._jobs = jobs
        self._token = token
        self.kind = info.kind
        self.owner = info.owner
        self.started = info.started

    @property
    def active(self) -> bool:
        """Whether this async job is still running."""
        return self._jobs._async_is(self._token)

    @property
    def abort_requested(self) -> bool:
        """Whether :meth:`ObjectJobs.request_abort` asked this job to stop."""
        current = self._jobs.active_async
        return self.active and current is not None and current.abort_requested

    def nested(self, *, timeout: float | None = None) -> JobHandle:
        """Begin an ``ASYNC_NESTED`` job for one step of this async job."""
        return self._jobs.begin(JobKind.ASYNC_NESTED, owner=self.owner, timeout=timeout)

    def set_allowed(self, allowed: Iterable[JobKind]) -> None:
        """Replace the mask of synchronous jobs allowed meanwhile."""
        self._jobs.set_async_mask(allowed)

    def end(self) -> None:
        """End the async job (see :meth:`ObjectJobs.end_async`)."""
        self._jobs._end_async(self._token)

    def __enter__(self) -> AsyncJobHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.active:
            self.end()


class ObjectJobs:
    """The lock and job slots of one object (see the module documentation).

    *name* only labels log messages. *default_timeout* replaces
    :data:`DEFAULT_JOB_WAIT` for this object; *max_queued* (0 = unlimited)
    bounds the jobs begun but not yet ended, like libvirt's ``max_queued``
    setting (``DESTROY`` and async jobs are exempt). *error_domain* is the
    subsystem reported in errors (``ErrorDomain.QEMU`` for the qemu driver).
    *lock* lets the object share an existing re-entrant lock.
    """

    def __init__(
        self,
        name: str = "",
        *,
        default_timeout: float = DEFAULT_JOB_WAIT,
        max_queued: int = 0,
        error_domain: ErrorDomain = ErrorDomain.NONE,
        lock: threading.RLock | None = None,
    ) -> None:
        _check_timeout(default_timeout)
        if max_queued < 0:
            raise InvalidArgError(f"max_queued must be >= 0, not {max_queued}")
        self.name = name
        self.default_timeout = default_timeout
        self.max_queued = max_queued
        self.error_domain = error_domain
        self.lock = lock if lock is not None else threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._active: JobInfo | None = None
        self._agent: AgentJobInfo | None = None
        self._async: AsyncJobInfo | None = None
        self._async_token: object | None = None
        self._waiters: list[_Request] = []
        self._queued = 0

    # -- inspection ---------------------------------------------------------

    @property
    def active(self) -> JobInfo | None:
        """The running synchronous job, or ``None``."""
        with self.lock:
            return self._active

    @property
    def active_agent(self) -> AgentJobInfo | None:
        """The running guest-agent job, or ``None``."""
        with self.lock:
            return self._agent

    @property
    def active_async(self) -> AsyncJobInfo | None:
        """The running asynchronous job, or ``None``."""
        with self.lock:
            return self._async

    @property
    def waiting(self) -> int:
        """How many requests are currently waiting for a slot."""
        with self.lock:
            return len(self._waiters)

    @property
    def queued(self) -> int:
        """Jobs begun and not yet ended, waiters included (libvirt's ``jobsQueued``)."""
        with self.lock:
            return self._queued

    # -- synchronous and agent jobs -----------------------------------------

    def begin(
        self,
        kind: JobKind,
        *,
        owner: str,
        timeout: float | None = None,
        agent: AgentJobKind = AgentJobKind.NONE,
    ) -> JobHandle:
        """Wait for and take a job; the caller must :meth:`JobHandle.end` it.

        *kind* may be ``JobKind.NONE`` when only an *agent* job is wanted.
        *timeout* (seconds, ``0`` = do not wait) defaults to the object's.
        Raises :class:`OperationTimeoutError` when the wait runs out,
        :class:`OperationFailedError` when ``max_queued`` is exceeded and
        :class:`InternalError` when the calling thread already holds a
        conflicting job on this object.
        """
        kind, agent = JobKind(kind), AgentJobKind(agent)
        if kind is not JobKind.NONE and kind not in _SYNC_KINDS:
            raise InvalidArgError(f"job kind '{kind.label}' cannot be begun directly")
        if kind is JobKind.NONE and agent is AgentJobKind.NONE:
            raise InvalidArgError("neither a job nor an agent job was requested")
        req = _Request(kind, agent, AsyncJobKind.NONE, owner)
        with self._cond:
            self._acquire(req, timeout)
            now = time.monotonic()
            info = agent_info = None
            if kind is not JobKind.NONE:
                info = self._active = JobInfo(kind, owner, now, req.thread_id)
            if agent is not AgentJobKind.NONE:
                agent_info = self._agent = AgentJobInfo(agent, owner, now, req.thread_id)
        logger.debug("%s: started %s", self.name, req.describe())
        return JobHandle(self, info, agent_info)

    @contextmanager
    def job(
        self,
        kind: JobKind,
        *,
        owner: str,
        timeout: float | None = None,
        agent: AgentJobKind = AgentJobKind.NONE,
    ) -> Iterator[JobHandle]:
        """Hold a job for the ``with`` block (see :meth:`begin`)."""
        handle = self.begin(kind, owner=owner, timeout=timeout, agent=agent)
        try:
            yield handle
        finally:
            if not handle.ended:
                handle.end()

    @contextmanager
    def agent_job(
        self, kind: AgentJobKind, *, owner: str, timeout: float | None = None
    ) -> Iterator[JobHandle]:
        """Hold a guest-agent job (no synchronous job) for the ``with`` block."""
        with self.job(JobKind.NONE, owner=owner, timeout=timeout, agent=kind) as handle:
            yield handle

    # -- asynchronous jobs --------------------------------------------------

    def begin_async(
        self,
        kind: AsyncJobKind,
        owner: str,
        allowed: Iterable[JobKind] | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncJobHandle:
        """Start a long job; until it ends only *allowed* synchronous jobs may run.

        *allowed* defaults to :data:`DEFAULT_JOB_MASK`; ``DESTROY`` is always
        added. Waits like :meth:`begin` for the running synchronous job and any
        other async job to end.
        """
        kind = AsyncJobKind(kind)
        if kind is AsyncJobKind.NONE:
            raise InvalidArgError("async job kind 'none' cannot be begun")
        mask = _make_mask(allowed)
        req = _Request(JobKind.ASYNC, AgentJobKind.NONE, kind, owner)
        token = object()
        with self._cond:
            self._acquire(req, timeout)
            info = self._async = AsyncJobInfo(kind, owner, time.monotonic(), mask, req.thread_id)
            self._async_token = token
        logger.debug("%s: started async job %s (%s)", self.name, kind.label, owner)
        return AsyncJobHandle(self, info, token)

    @contextmanager
    def async_job(
        self,
        kind: AsyncJobKind,
        owner: str,
        allowed: Iterable[JobKind] | None = None,
        *,
        timeout: float | None = None,
    ) -> Iterator[AsyncJobHandle]:
        """Hold an async job for the ``with`` block (see :meth:`begin_async`)."""
        handle = self.begin_async(kind, owner, allowed, timeout=timeout)
        try:
            yield handle
        finally:
            if handle.active:
                handle.end()

    def set_async_mask(self, allowed: Iterable[JobKind]) -> None:
        """Change which synchronous jobs may run during the async job."""
        mask = _make_mask(allowed)
        with self._cond:
            current = self._require_async("set the async job mask")
            self._async = dataclasses.replace(current, allowed=mask)
            self._cond.notify_all()

    def request_abort(self) -> bool:
        """Flag the async job to stop at its next check; ``False`` if none runs."""
        with self._cond:
            if self._async is None:
                return False
            self._async = dataclasses.replace(self._async, abort_requested=True)
            return True

    def release_async(self) -> None:
        """Detach the async job from the calling thread while it stays active.

        For jobs that outlive the call that began them (an incoming migration
        finishes in a later call, possibly served by the same worker thread):
        after this the thread may wait for other jobs without being treated as
        re-entering its own.
        """
        with self._cond:
            current = self._require_async("release the async job")
            self._async = dataclasses.replace(current, thread_id=None)

    def end_async(self) -> None:
        """End the async job and wake every waiter it held back."""
        self._end_async(None)

    # -- internals ----------------------------------------------------------

    def _async_is(self, token: object) -> bool:
        with self.lock:
            return self._async is not None and self._async_token is token

    def _end_async(self, token: object | None) -> None:
        with self._cond:
            current = self._require_async("end the async job")
            if token is not None and token is not self._async_token:
                raise InternalError(
                    f"async job ({current.owner}) on {self._label()} is not the one "
                    "this handle began",
                    domain=self.error_domain,
                )
            self._async = None
            self._async_token = None
            self._queued -= 1
            self._cond.notify_all()
        logger.debug("%s: ended async job %s (%s)", self.name, current.kind.label, current.owner)

    def _require_async(self, what: str) -> AsyncJobInfo:
        if self._async is None:
            raise InternalError(f"cannot {what}: no async job is active", domain=self.error_domain)
        return self._async

    def _acquire(self, req: _Request, timeout: float | None) -> None:
        """Wait until *req* may start; the caller holds the lock and takes the slots."""
        wait = self.default_timeout if timeout is None else _check_timeout(timeout)
        deadline = time.monotonic() + wait
        self._check_reentry(req)
        self._queued += 1
        exempt = req.job in (JobKind.ASYNC, JobKind.DESTROY)
        if self.max_queued and not exempt and self._queued > self.max_queued:
            self._queued -= 1
            raise self._failure(req, timed_out=False)
        self._waiters.append(req)
        granted = False
        try:
            while not self._may_start(req):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._failure(req, timed_out=True)
                self._cond.wait(min(remaining, threading.TIMEOUT_MAX))
            granted = True
        finally:
            self._waiters.remove(req)
            if not granted:
                self._queued -= 1
            # Leaving the queue (granted or not) can unblock those behind us.
            self._cond.notify_all()

    def _end(self, handle: JobHandle) -> None:
        with self._cond:
            held_job = handle.info is None or self._active is handle.info
            held_agent = handle.agent_info is None or self._agent is handle.agent_info
            if handle.ended or not (held_job and held_agent):
                raise InternalError(
                    f"job '{handle.kind.label}' ({handle.owner}) was already ended",
                    domain=self.error_domain,
                )
            if handle.info is not None:
                self._active = None
            if handle.agent_info is not None:
                self._agent = None
            self._queued -= 1
            # Every waiter re-checks: what it waits for depends on several slots.
            self._cond.notify_all()
        logger.debug(
            "%s: ended job %s/%s (%s)",
            self.name,
            handle.kind.label,
            handle.agent.label,
            handle.owner,
        )

    def _allowed_now(self, kind: JobKind) -> bool:
        return self._async is None or kind in self._async.allowed

    def _available(self, req: _Request) -> bool:
        """Whether the slots *req* needs are free right now."""
        if req.job is JobKind.ASYNC:
            return self._active is None and self._async is None
        if req.job is not JobKind.NONE:
            if self._active is not None:
                return False
            if req.job is not JobKind.ASYNC_NESTED and not self._allowed_now(req.job):
                return False
        return req.agent is AgentJobKind.NONE or self._agent is None

    def _may_start(self, req: _Request) -> bool:
        """Available, and no earlier waiter that could run wants the same slot."""
        if not self._available(req):
            return False
        for other in self._waiters:
            if other is req:
                return True
            if other.conflicts(req) and self._available(other):
                return False
        return True

    def _check_reentry(self, req: _Request) -> None:
        me = req.thread_id
        clash: str | None = None
        if req.job is not JobKind.NONE and self._active and self._active.thread_id == me:
            clash = f"job '{self._active.kind.label}' ({self._active.owner})"
        elif req.agent is not AgentJobKind.NONE and self._agent and self._agent.thread_id == me:
            clash = f"agent job '{self._agent.kind.label}' ({self._agent.owner})"
        elif self._async is not None and self._async.thread_id == me:
            blocked_by_own_async = req.job is JobKind.ASYNC or (
                req.job not in (JobKind.NONE, JobKind.ASYNC_NESTED)
                and not self._allowed_now(req.job)
            )
            if blocked_by_own_async:
                clash = f"async job '{self._async.kind.label}' ({self._async.owner})"
        if clash is not None:
            raise InternalError(
                f"{req.describe()} requested on {self._label()} by a thread that already "
                f"holds its {clash}; it would wait for itself",
                domain=self.error_domain,
            )
        if req.job is JobKind.ASYNC_NESTED:
            if self._async is None:
                raise InternalError(
                    f"nested job ({req.owner}) requested on {self._label()} "
                    "without an active async job",
                    domain=self.error_domain,
                )
            if self._async.thread_id not in (None, me):
                logger.warning(
                    "%s: nested job for async job '%s' begun by a thread that does not own it",
                    self.name,
                    self._async.kind.label,
                )

    def _label(self) -> str:
        return f"'{self.name}'" if self.name else "the object"

    def _failure(
        self, req: _Request, *, timed_out: bool
    ) -> OperationTimeoutError | OperationFailedError:
        """libvirt's error for a job that could not start, naming the blockers."""
        now = time.monotonic()
        logger.warning(
            "Cannot start %s for %s; current job is (%s, %s, %s) owned by (%s, %s, %s) "
            "for (%.0fs, %.0fs, %.0fs)",
            req.describe(),
            self._label(),
            self._active.kind.label if self._active else "none",
            self._agent.kind.label if self._agent else "none",
            self._async.kind.label if self._async else "none",
            self._active.owner if self._active else "-",
            self._agent.owner if self._agent else "-",
            self._async.owner if self._async else "-",
            now - self._active.started if self._active else 0.0,
            now - self._agent.started if self._agent else 0.0,
            now - self._async.started if self._async else 0.0,
        )
        blocker: str | None = None
        agent_blocker: str | None = None
        if req.job is not JobKind.NONE:
            # A job the async mask lets through is blocked by the running
            # synchronous job; any other by the async job itself.
            if req.job is JobKind.ASYNC_NESTED or self._allowed_now(req.job):
                blocker = self._active.owner if self._active else None
            else:
                blocker = self._async.owner if self._async else None
        if req.agent is not AgentJobKind.NONE and self._agent is not None:
            agent_blocker = self._agent.owner
        if blocker and agent_blocker:
            held = f" (held by monitor={blocker} agent={agent_blocker})"
        elif blocker:
            held = f" (held by monitor={blocker})"
        elif agent_blocker:
            held = f" (held by agent={agent_blocker})"
        else:
            held = ""
        if timed_out:
            return OperationTimeoutError(
                f"cannot acquire state change lock{held}", domain=self.error_domain
            )
        return OperationFailedError(
            f"cannot acquire state change lock{held} due to max_queued limit",
            domain=self.error_domain,
        )


def _check_timeout(timeout: float) -> float:
    if not timeout >= 0:  # also rejects NaN
        raise InvalidArgError(f"job wait timeout must be >= 0 seconds, not {timeout}")
    return timeout


def _make_mask(allowed: Iterable[JobKind] | None) -> frozenset[JobKind]:
    if allowed is None:
        return DEFAULT_JOB_MASK
    mask = frozenset(JobKind(kind) for kind in allowed)
    bad = mask - (_SYNC_KINDS - {JobKind.ASYNC_NESTED})
    if bad:
        names = ", ".join(sorted(kind.label for kind in bad))
        raise InvalidArgError(f"job kinds cannot be allowed during an async job: {names}")
    # libvirt: a destroy can never be masked out.
    return mask | {JobKind.DESTROY}
