"""The host: initializes state drivers, runs deferred work, resolves lookups.

Phases (:class:`~virtcore.state.base.HostState`): INITIALIZING calls every
driver's ``initialize`` on the caller's thread in registration order and only
collects lookups and deferred work; RESOLVING starts each deferred job on its
own thread and resolves a lookup on the resolver thread as soon as its provider
is ready (every deferred job of the provider finished); READY once no job runs
and no lookup is queued. Threads forcing a lookup record "driver A waits for
driver B" edges; an edge that would close a cycle is refused with
:class:`~virtcore.errors.InternalError` instead of being waited on.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    OperationAbortedError,
    OperationInvalidError,
    OperationTimeoutError,
    VirtError,
)
from virtcore.state.base import (
    DEFAULT_WAIT_TIMEOUT,
    HostState,
    InitResult,
    StateContext,
    StateDriver,
    StateDriverError,
    StateFailure,
    missing_provider_error,
)
from virtcore.state.lazy import Lazy

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Job:
    name: str
    fn: Callable[[], None]


@dataclass(eq=False)
class _Slot:
    """Per-driver bookkeeping of a :class:`Host`."""

    driver: StateDriver
    result: InitResult | None = None  # None: initialize not called (yet)
    jobs: list[_Job] = field(default_factory=list)  # deferred, not yet started
    running: list[str] = field(default_factory=list)  # names of deferred jobs in flight
    ready: bool = False
    waiting: list[Lazy[Any]] = field(default_factory=list)  # lookups waiting for readiness

    @property
    def name(self) -> str:
        return self.driver.name


class _Attribution(threading.local):
    """Which host and driver the current thread works for (for cycle detection)."""

    host: Host | None = None
    driver: str | None = None
    resolver: bool = False


_current = _Attribution()


class Host:
    """The state drivers of one host, initialized together.

    *drivers* are in registration order; names must be unique and each kind
    provided by at most one driver (else :class:`~virtcore.errors.InvalidArgError`).
    *root* selects embedded mode and must be absolute, as in libvirt
    (:class:`~virtcore.errors.ConfigUnsupportedError` "root path must be absolute").
    *wait_timeout* bounds every wait given ``timeout=None``.
    """

    def __init__(
        self,
        drivers: Sequence[StateDriver],
        *,
        privileged: bool,
        root: str | Path | None = None,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self._slots: list[_Slot] = []
        self._by_name: dict[str, _Slot] = {}
        self._providers: dict[str, _Slot] = {}
        for driver in drivers:
            if not isinstance(driver, StateDriver) or not driver.name:
                raise InvalidArgError(f"not a named state driver: {driver!r}")
            if driver.name in self._by_name:
                raise InvalidArgError(f"state driver '{driver.name}' registered twice")
            slot = _Slot(driver)
            for kind in sorted(driver.provides):
                other = self._providers.get(kind)
                if other is not None:
                    raise InvalidArgError(
                        f"state drivers '{other.name}' and '{driver.name}' both provide '{kind}'"
                    )
                self._providers[kind] = slot
            self._slots.append(slot)
            self._by_name[driver.name] = slot
        if root is not None and not Path(root).is_absolute():
            raise ConfigUnsupportedError("root path must be absolute")
        if wait_timeout <= 0:
            raise InvalidArgError(f"wait timeout must be positive: {wait_timeout!r}")
        self._privileged = bool(privileged)
        self._root = Path(root) if root is not None else None
        self._wait_timeout = float(wait_timeout)
        self._cond = threading.Condition(threading.Lock())
        self._state = HostState.NEW
        self._failure: VirtError | None = None
        self._pending: list[Lazy[Any]] = []  # lookups made before the deferred phase
        self._queue: deque[Lazy[Any]] = deque()  # lookups whose provider is ready
        self._resolver: threading.Thread | None = None
        self._waits: dict[int, tuple[str, str]] = {}  # thread -> (waiting driver, provider)
        self._deferred_errors: list[StateFailure] = []

    # -- introspection -------------------------------------------------------------

    @property
    def state(self) -> HostState:
        """Where the host is in its lifecycle."""
        with self._cond:
            return self._state

    @property
    def privileged(self) -> bool:
        """True for a system instance."""
        return self._privileged

    @property
    def root(self) -> Path | None:
        """The embedding root, or None."""
        return self._root

    @property
    def wait_timeout(self) -> float:
        """Bound of waits given ``timeout=None``."""
        return self._wait_timeout

    @property
    def drivers(self) -> tuple[StateDriver, ...]:
        """The drivers in registration order."""
        return tuple(slot.driver for slot in self._slots)

    @property
    def failure(self) -> VirtError | None:
        """Why initialization failed, if it did."""
        with self._cond:
            return self._failure

    @property
    def deferred_errors(self) -> list[StateFailure]:
        """Failures of deferred work; they are logged and do not fail the host."""
        with self._cond:
            return list(self._deferred_errors)

    def driver(self, name: str) -> StateDriver:
        """The registered driver called *name*."""
        slot = self._by_name.get(name)
        if slot is None:
            raise InvalidArgError(f"no state driver named '{name}'")
        return slot.driver

    def init_result(self, name: str) -> InitResult | None:
        """What driver *name*'s initialize reported; None if it was not called."""
        self.driver(name)
        with self._cond:
            return self._by_name[name].result

    def provider(self, kind: str) -> StateDriver:
        """The driver serving *kind*; raises the missing-provider error if none does."""
        slot = self._providers.get(kind)
        with self._cond:
            skipped = slot is not None and slot.result is InitResult.SKIPPED
        if slot is None or skipped:
            raise missing_provider_error(kind, slot.name if slot is not None else None)
        return slot.driver

    def _provider_name(self, kind: str) -> str | None:
        slot = self._providers.get(kind)
        return slot.name if slot is not None else None

    # -- initialization ------------------------------------------------------------

    def initialize(self, timeout: float | None = None) -> None:
        """Initialize every driver, run deferred work, resolve lookups.

        Returns once the host is :attr:`HostState.READY`. Raises the failing
        driver's error (``InternalError("Initialization of <name> state driver
        failed")`` for a bare :attr:`InitResult.ERROR`), or
        :class:`~virtcore.errors.OperationTimeoutError` if the deferred phase
        outlasts *timeout* — the host then keeps going and :meth:`wait_ready`
        may be called again.
        """
        with self._cond:
            if self._state is not HostState.NEW:
                raise OperationInvalidError(
                    f"state drivers cannot be initialized twice (host is {self._state.value})"
                )
            self._state = HostState.INITIALIZING
        log.debug("initializing state drivers: %s", ", ".join(s.name for s in self._slots))
        for slot in self._slots:
            try:
                error = self._initialize_one(slot)
            except BaseException:
                self._abort(slot, InternalError(f"initialization of {slot.name} interrupted"))
                raise
            if error is not None:
                self._abort(slot, error)
                raise error
        self._enter_deferred_phase()
        self.wait_ready(timeout)

    def _initialize_one(self, slot: _Slot) -> VirtError | None:
        ctx = StateContext(self, slot.driver)
        saved = (_current.host, _current.driver)
        _current.host, _current.driver = self, slot.name
        result = InitResult.ERROR
        error: VirtError | None = None
        try:
            raw = slot.driver.initialize(ctx)
        except VirtError as exc:
            error = exc
        except Exception as exc:
            log.exception("state driver %s raised during initialize", slot.name)
            error = InternalError(f"Initialization of {slot.name} state driver failed: {exc}")
            error.__cause__ = exc
        else:
            try:
                result = InitResult(raw)
            except ValueError:
                error = InternalError(
                    f"state driver '{slot.name}' initialize returned an invalid result {raw!r}"
                )
            else:
                if result is InitResult.ERROR:
                    error = InternalError(f"Initialization of {slot.name} state driver failed")
        finally:
            _current.host, _current.driver = saved
        with self._cond:
            slot.result = InitResult.ERROR if error is not None else result
        if error is None:
            log.debug("state driver %s initialize: %s", slot.name, result.name)
        return error

    def _abort(self, failed: _Slot, error: VirtError) -> None:
        log.error("Initialization of %s state driver failed: %s", failed.name, error)
        with self._cond:
            self._state = HostState.FAILED
            self._failure = error
            abandoned, self._pending = self._pending, []
            for slot in self._slots:
                if slot.jobs:
                    log.debug("discarding deferred work of %s", slot.name)
                    slot.jobs = []
            self._cond.notify_all()
        for lazy in abandoned:
            lazy._settle(
                None,
                OperationAbortedError(
                    f"{lazy._describe()} abandoned: initialization of state driver "
                    f"'{failed.name}' failed"
                ),
            )
        for slot in reversed(self._slots):
            if slot.result is InitResult.COMPLETE:
                self._call(slot, "cleanup", slot.driver.cleanup)

    def _enter_deferred_phase(self) -> None:
        with self._cond:
            self._state = HostState.RESOLVING
            to_start: list[tuple[_Slot, _Job]] = []
            for slot in self._slots:
                jobs, slot.jobs = slot.jobs, []
                if slot.result is InitResult.SKIPPED:
                    if jobs:
                        log.debug("state driver %s skipped; dropping its deferred work", slot.name)
                    continue
                slot.ready = not jobs
                to_start.extend((slot, job) for job in jobs)
            pending, self._pending = self._pending, []
            for lazy in pending:
                self._route_locked(lazy)
            for slot, job in to_start:
                self._start_job_locked(slot, job)
            self._kick_locked()
            self._maybe_ready_locked()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until initialization (deferred work and lookups included) finished.

        Raises the initialization failure, :class:`~virtcore.errors.OperationInvalidError`
        once the host was shut down, or :class:`~virtcore.errors.OperationTimeoutError`.
        """
        limit = self._wait_timeout if timeout is None else timeout
        with self._cond:
            if self._state not in _SETTLED and self._is_internal_thread_locked():
                raise InternalError(
                    "wait_ready() called from inside state driver initialization would never return"
                )
            if not self._cond.wait_for(lambda: self._state in _SETTLED, limit):
                raise OperationTimeoutError(
                    f"state driver initialization did not complete within {limit:g}s; "
                    f"still waiting for: {self._describe_pending_locked()}"
                )
            if self._state is HostState.FAILED:
                assert self._failure is not None
                raise self._failure
            if self._state is HostState.STOPPED:
                raise OperationInvalidError("state drivers have been shut down")

    def _is_internal_thread_locked(self) -> bool:
        return _current.host is self and (_current.resolver or _current.driver is not None)

    def _describe_pending_locked(self) -> str:
        parts: list[str] = []
        if self._state is HostState.NEW:
            return "initialize() has not been called"
        for slot in self._slots:
            if slot.running:
                parts.append(f"{slot.name} ({', '.join(slot.running)})")
            elif slot.result is None:
                parts.append(f"{slot.name} (initialize)")
        if self._queue or self._resolver is not None:
            parts.append(f"lookups ({len(self._queue)} queued)")
        return ", ".join(parts) or "nothing"

    # -- lookups -------------------------------------------------------------------

    def lookup(self, kind: str, fn: Callable[[StateDriver], T]) -> Lazy[T]:
        """Look something up in the provider of *kind*.

        Once the host is ready this resolves immediately, running *fn* on the
        calling thread; earlier it resolves like :meth:`StateContext.lookup`.
        """
        return self._lookup(None, kind, fn)

    def _lookup(self, requester: str | None, kind: str, fn: Callable[[StateDriver], T]) -> Lazy[T]:
        lazy = Lazy(self, requester, kind, fn)
        with self._cond:
            state = self._state
            if state in (HostState.NEW, HostState.INITIALIZING):
                self._pending.append(lazy)
                return lazy
            if state is HostState.RESOLVING:
                self._route_locked(lazy)
                self._kick_locked()
                return lazy
        if state is HostState.READY:
            self._resolve(lazy)
        else:
            why = "failed to initialize" if state is HostState.FAILED else "have been shut down"
            lazy._settle(None, OperationInvalidError(f"{lazy._describe()}: state drivers {why}"))
        return lazy

    def _route_locked(self, lazy: Lazy[Any]) -> None:
        requester = self._by_name.get(lazy.requester or "")
        provider = self._providers.get(lazy.kind)
        if (
            (requester is not None and requester.result is InitResult.SKIPPED)
            or provider is None
            or provider.result is not InitResult.COMPLETE
            or provider.ready
        ):
            self._queue.append(lazy)
        else:
            provider.waiting.append(lazy)

    def _kick_locked(self) -> None:
        if self._queue and self._resolver is None:
            self._resolver = threading.Thread(
                target=self._resolver_main, name="virtcore-state-resolver", daemon=True
            )
            self._resolver.start()

    def _resolver_main(self) -> None:
        _current.host, _current.driver, _current.resolver = self, None, True
        while True:
            with self._cond:
                if not self._queue:
                    self._resolver = None
                    self._maybe_ready_locked()
                    return
                lazy = self._queue.popleft()
            self._resolve(lazy)

    def _resolve(self, lazy: Lazy[Any]) -> None:
        requester = self._by_name.get(lazy.requester or "")
        provider = self._providers.get(lazy.kind)
        if requester is not None and requester.result is InitResult.SKIPPED:
            lazy._settle(
                None,
                OperationAbortedError(
                    f"{lazy._describe()} abandoned: state driver '{requester.name}' "
                    "skipped initialization"
                ),
            )
        elif provider is None or provider.result is not InitResult.COMPLETE:
            lazy._settle(
                None, missing_provider_error(lazy.kind, provider.name if provider else None)
            )
        else:
            try:
                value = lazy._fn(provider.driver)
            except VirtError as exc:
                log.debug("%s failed: %s", lazy._describe(), exc)
                lazy._settle(None, exc)
            except Exception as exc:
                log.exception("%s raised", lazy._describe())
                error = InternalError(f"{lazy._describe()} raised {type(exc).__name__}: {exc}")
                error.__cause__ = exc
                lazy._settle(None, error)
            else:
                lazy._settle(value, None)

    def _begin_wait_locked(self, lazy: Lazy[Any]) -> None:
        if self._state is HostState.INITIALIZING:
            raise InternalError(
                f"{lazy._describe()} was forced during initialization; lookups resolve only "
                "after every state driver has initialized (use Lazy.then() or "
                "StateContext.defer())"
            )
        if _current.host is self and _current.resolver:
            raise InternalError(
                f"{lazy._describe()} cannot be waited for on the state resolver thread "
                "(use Lazy.then())"
            )
        waiter = _current.driver if _current.host is self else None
        provider = self._providers.get(lazy.kind)
        if (
            waiter is None
            or provider is None
            or provider.ready
            or provider.result is not InitResult.COMPLETE
        ):
            return
        path = self._wait_path_locked(provider.name, waiter)
        if path is not None:
            cycle = " -> ".join([waiter, *path])
            log.error("dependency cycle between state drivers: %s", cycle)
            raise InternalError(f"dependency cycle between state drivers: {cycle}")
        self._waits[threading.get_ident()] = (waiter, provider.name)

    def _end_wait_locked(self) -> None:
        self._waits.pop(threading.get_ident(), None)

    def _wait_path_locked(self, start: str, goal: str) -> list[str] | None:
        """Drivers from *start* to *goal* along "waits for" edges, or None."""
        edges: dict[str, set[str]] = {}
        for waiter, provider in self._waits.values():
            if not self._by_name[provider].ready:
                edges.setdefault(waiter, set()).add(provider)
        trail: dict[str, str | None] = {start: None}
        frontier = deque([start])
        while frontier:
            node = frontier.popleft()
            if node == goal:
                path: list[str] = []
                step: str | None = node
                while step is not None:
                    path.append(step)
                    step = trail[step]
                return path[::-1]
            for nxt in sorted(edges.get(node, ())):
                if nxt not in trail:
                    trail[nxt] = node
                    frontier.append(nxt)
        return None

    # -- deferred work -------------------------------------------------------------

    def _defer(self, requester: str, fn: Callable[[], None], name: str) -> None:
        job = _Job(name, fn)
        with self._cond:
            slot = self._by_name[requester]
            if self._state is HostState.INITIALIZING:
                slot.jobs.append(job)
                return
            if (
                self._state is HostState.RESOLVING
                and slot.result is InitResult.COMPLETE
                and not slot.ready
            ):
                self._start_job_locked(slot, job)
                return
            raise OperationInvalidError(
                f"state driver '{requester}' cannot defer '{name}': host is {self._state.value}"
                + (" and the driver is ready" if slot.ready else "")
            )

    def _start_job_locked(self, slot: _Slot, job: _Job) -> None:
        slot.running.append(job.name)
        thread = threading.Thread(
            target=self._run_job,
            args=(slot, job),
            name=f"virtcore-state-{slot.name}-{job.name}",
            daemon=True,
        )
        thread.start()

    def _run_job(self, slot: _Slot, job: _Job) -> None:
        _current.host, _current.driver = self, slot.name
        log.debug("running deferred %s of state driver %s", job.name, slot.name)
        try:
            job.fn()
        except VirtError as exc:
            self._record_deferred_error(slot, job, exc)
        except Exception as exc:
            log.exception("deferred %s of state driver %s raised", job.name, slot.name)
            error = InternalError(f"deferred {job.name} of state driver {slot.name} raised: {exc}")
            error.__cause__ = exc
            self._record_deferred_error(slot, job, error)
        finally:
            with self._cond:
                slot.running.remove(job.name)
                if not slot.running:
                    slot.ready = True
                    self._queue.extend(slot.waiting)
                    slot.waiting.clear()
                    self._kick_locked()
                    self._cond.notify_all()
                self._maybe_ready_locked()

    def _record_deferred_error(self, slot: _Slot, job: _Job, error: VirtError) -> None:
        log.error("deferred %s of state driver %s failed: %s", job.name, slot.name, error)
        with self._cond:
            self._deferred_errors.append(StateFailure(slot.name, job.name, error))

    def _maybe_ready_locked(self) -> None:
        if (
            self._state is HostState.RESOLVING
            and not self._queue
            and self._resolver is None
            and all(s.ready or s.result is InitResult.SKIPPED for s in self._slots)
        ):
            self._state = HostState.READY
            log.info("state drivers initialized")
            self._cond.notify_all()

    # -- after initialization ------------------------------------------------------

    def _active_slots(self) -> list[_Slot]:
        return [slot for slot in self._slots if slot.result is InitResult.COMPLETE]

    def _require_ready(self, operation: str) -> None:
        with self._cond:
            if self._state is not HostState.READY:
                raise OperationInvalidError(
                    f"cannot {operation} state drivers: host is {self._state.value}"
                )

    def _call(self, slot: _Slot, operation: str, fn: Callable[[], Any]) -> StateFailure | Any:
        """Run one driver hook; a failure is logged and returned, never raised."""
        try:
            return fn()
        except VirtError as exc:
            error = exc
        except Exception as exc:
            log.exception("state driver %s %s raised", slot.name, operation)
            error = InternalError(f"{operation} of {slot.name} state driver raised: {exc}")
            error.__cause__ = exc
        log.error("%s of %s state driver failed: %s", operation, slot.name, error)
        return StateFailure(slot.name, operation, error)

    def reload(self) -> None:
        """Reload every driver in registration order, continuing past failures.

        Raises :class:`StateDriverError` afterwards if any driver failed.
        """
        self._require_ready("reload")
        failures = [
            out
            for slot in self._active_slots()
            if isinstance(out := self._call(slot, "reload", slot.driver.reload), StateFailure)
        ]
        if failures:
            raise StateDriverError("reload", failures)

    def stop(self) -> bool:
        """Call every driver's stop in registration order; True if any did something.

        Failures do not stop the walk; they raise :class:`StateDriverError` at the end.
        """
        self._require_ready("stop")
        did_something = False
        failures: list[StateFailure] = []
        for slot in self._active_slots():
            out = self._call(slot, "stop", slot.driver.stop)
            if isinstance(out, StateFailure):
                failures.append(out)
            elif out:
                did_something = True
        if failures:
            raise StateDriverError("stop", failures)
        return did_something

    def shutdown(self, timeout: float | None = None) -> None:
        """Shut the drivers down: prepare, wait, then clean up in reverse order.

        ``shutdown_prepare`` runs forward and stops at the first failure;
        ``shutdown_wait`` runs forward over the drivers whose prepare succeeded
        and stops at the first failure; ``cleanup`` runs in reverse registration
        order over every initialized driver and continues past failures. A host
        still initializing is first waited for (up to *timeout*). Failures raise
        :class:`StateDriverError` at the end; the host is STOPPED regardless.
        """
        with self._cond:
            state = self._state
            if state is HostState.NEW:
                self._state = HostState.STOPPED
                self._cond.notify_all()
                return
            if state in (HostState.FAILED, HostState.STOPPED):
                return  # a failed host already cleaned up what it initialized
        if state is not HostState.READY:
            try:
                self.wait_ready(timeout)
            except VirtError:
                if self.state is HostState.FAILED:
                    return
                raise
        with self._cond:
            if self._state is not HostState.READY:
                return  # another thread shut down meanwhile
            self._state = HostState.STOPPED
            self._cond.notify_all()
        active = self._active_slots()
        failures: list[StateFailure] = []
        prepared: list[_Slot] = []
        for slot in active:
            out = self._call(slot, "shutdown_prepare", slot.driver.shutdown_prepare)
            if isinstance(out, StateFailure):
                failures.append(out)
                break
            prepared.append(slot)
        for slot in prepared:
            out = self._call(slot, "shutdown_wait", slot.driver.shutdown_wait)
            if isinstance(out, StateFailure):
                failures.append(out)
                break
        for slot in reversed(active):
            out = self._call(slot, "cleanup", slot.driver.cleanup)
            if isinstance(out, StateFailure):
                failures.append(out)
        log.info("state drivers shut down")
        if failures:
            raise StateDriverError("shutdown", failures)

    def __repr__(self) -> str:
        names = ", ".join(slot.name for slot in self._slots)
        return f"<Host [{names}] {self._state.value}>"


_SETTLED = frozenset({HostState.READY, HostState.FAILED, HostState.STOPPED})
