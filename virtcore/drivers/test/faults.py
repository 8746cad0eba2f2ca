"""Fault injection for test hosts: failing, slow and held calls, and lost connections.

Management code has to survive a hypervisor that fails, stalls, crashes
guests and drops connections; libvirt's test driver can do none of that.
Every test host (``test:///default``, a configuration-file host, a private
host) has a :class:`FaultInjector`, reachable from any connection to it::

    from virtcore.drivers.test import faults

    inj = faults.injector(conn)
    inj.fail("virDomainCreateWithFlags", OperationFailedError("no space left"), times=1)
    inj.delay("virDomainGetInfo", 0.5)
    inj.crash(dom)                       # see virtcore.drivers.test.mishaps
    inj.lose_connection(conn)

**Rules.** :meth:`FaultInjector.fail`, :meth:`~FaultInjector.delay`,
:meth:`~FaultInjector.hold`, :meth:`~FaultInjector.disconnect` and
:meth:`~FaultInjector.on_call` add a rule (a :class:`Fault`) that applies to
calls made through every connection to the host. A rule names the call by
its libvirt API name (``"virDomainCreateWithFlags"``) or by the driver method
(``"domain_create_with_flags"``); an API name also covers its flag-less and
``Flags``/``WithFlags`` variants, which reach the same driver method
(``"virDomainCreate"`` and ``"virDomainCreateWithFlags"`` name the same
call), and ``*``/``?``/``[...]`` patterns match several (``"virDomain*"``).
Every rule takes the same trigger options:

* ``times`` - fire at most this many times (``None``: every time);
* ``after`` - let this many matching calls through first;
* ``probability`` and ``seed`` - fire on each eligible call with this
  probability, drawn from a generator seeded with *seed* (or, without one,
  from the host's deterministic seed when it has one, else at random);
* ``target`` - only calls about this object: a handle, a name or a UUID,
  compared with the call's first argument;
* ``connection`` - only calls made through this connection.

Every rule that matches a call counts it. Of the rules that fire, delays,
holds and actions take effect in the order the rules were added, then the
first failure is raised; the call itself runs only if none failed. A rule
that has fired ``times`` times is spent and removed.

**Lost connections.** :meth:`FaultInjector.lose_connection` reports a
connection closed, as a remote client does when its daemon goes away: its
close callbacks fire with the given :class:`~virtcore.enums.connect.ConnectCloseReason`,
its event callbacks stop, and every later call raises
:class:`~virtcore.errors.ConnectionClosedError`. A call that is in flight when
the connection goes (a :meth:`~FaultInjector.disconnect` rule) fails the way
libvirt's remote client reports it: for ``EOF``, ``VIR_ERR_SYSTEM_ERROR`` "End of
file while reading data: Input/output error"; for ``ERROR``,
``VIR_ERR_SYSTEM_ERROR`` "Cannot recv data: Connection reset by peer"; for
``KEEPALIVE`` and ``CLIENT``, ``VIR_ERR_INTERNAL_ERROR`` "client socket is
closed" - all in error domain ``VIR_FROM_RPC``.

Faults can also be declared in a configuration file; see
:mod:`virtcore.drivers.test.extconfig`.
"""

from __future__ import annotations

import copy
import errno
import fnmatch
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from virtcore.drivers.test.determinism import determinism, resolve_state
from virtcore.drivers.test.state import TestState
from virtcore.enums.connect import ConnectCloseReason
from virtcore.enums.domain_events import DomainEventIOErrorAction
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    OperationTimeoutError,
    SystemCallError,
    VirtError,
)

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.driver import DriverTables
    from virtcore.objects import Handle

__all__ = [
    "DEFAULT_HOLD_TIMEOUT",
    "CallInfo",
    "ConnectionSession",
    "ErrorLike",
    "Fault",
    "FaultInjector",
    "Hold",
    "in_flight_error",
    "injector",
    "session_of",
]

logger = logging.getLogger(__name__)

ErrorLike = VirtError | type[VirtError] | int | None
"""What a failing call raises: an error (raised as a copy each time), an error
class or a libvirt error code (built with the rule's message and error domain),
or ``None`` for an internal error."""

DEFAULT_HOLD_TIMEOUT = 60.0
"""How long a held call waits for :meth:`Hold.release` before it fails."""


class CallInfo(NamedTuple):
    """A call as a rule sees it: the driver method, the connection and the arguments."""

    method: str
    connection: Connection
    args: tuple[Any, ...]

    @property
    def target(self) -> Handle | None:
        """The object the call is about (its first argument when that is a handle)."""
        from virtcore.objects import Handle

        first = self.args[0] if self.args else None
        return first if isinstance(first, Handle) else None


def in_flight_error(reason: ConnectCloseReason) -> VirtError:
    """The error a call in flight gets from libvirt's remote client when the connection goes."""
    if reason == ConnectCloseReason.EOF:
        detail = f"End of file while reading data: {os.strerror(errno.EIO)}"
        return SystemCallError(detail, domain=ErrorDomain.RPC, int1=errno.EIO)
    if reason == ConnectCloseReason.ERROR:
        detail = f"Cannot recv data: {os.strerror(errno.ECONNRESET)}"
        return SystemCallError(detail, domain=ErrorDomain.RPC, int1=errno.ECONNRESET)
    return InternalError("client socket is closed", domain=ErrorDomain.RPC)


# -- naming calls ---------------------------------------------------------------------


def _normalise(name: str) -> str:
    """``virDomainCreateWithFlags`` or ``domain_create_with_flags``: ``domaincreatewithflags``."""
    if name.startswith("vir") and (name[3:4].isupper() or name[3:4] in ("*", "?", "[")):
        name = name[3:]
    return name.replace("_", "").lower()


class _CallMatcher:
    """Whether a driver method is one a rule names; answers are cached per method."""

    def __init__(self, pattern: str) -> None:
        if not pattern or not pattern.strip():
            raise InvalidArgError("a fault needs the name of a call", domain=ErrorDomain.TEST)
        self.pattern = pattern
        norm = _normalise(pattern.strip())
        self._wild = any(ch in norm for ch in "*?[")
        self._norm = norm
        self._names = {norm, norm + "flags", norm + "withflags"}
        if norm.endswith("uuidstring"):
            self._names.add(norm[: -len("string")])
        self._cache: dict[str, bool] = {}

    def __call__(self, method: str) -> bool:
        hit = self._cache.get(method)
        if hit is None:
            norm = _normalise(method)
            hit = fnmatch.fnmatchcase(norm, self._norm) if self._wild else norm in self._names
            self._cache[method] = hit
        return hit


def _target_keys(target: Handle | str | None) -> frozenset[str] | None:
    if target is None:
        return None
    if isinstance(target, str):
        return frozenset({target, target.lower()})
    keys = {str(getattr(target, attr)) for attr in ("uuid", "name") if getattr(target, attr, None)}
    return frozenset(keys)


# -- connections ----------------------------------------------------------------------


class ConnectionSession:
    """One connection's standing with its host, shared by its intercepted tables.

    The connection becomes known (bound) the first time it makes a call
    through the driver or is passed to :meth:`FaultInjector.lose_connection`.
    """

    __slots__ = ("__weakref__", "_conn", "bound", "closed", "pending_loss", "state", "tables")

    def __init__(self, state: TestState, tables: DriverTables) -> None:
        self.state = state
        self.tables = tables
        self._conn: weakref.ref[Connection] | None = None
        self.bound = False
        """Whether the connection has been seen."""
        self.closed = False
        self.pending_loss: ConnectCloseReason | None = None

    @property
    def connection(self) -> Connection | None:
        """The connection, once bound and while it exists."""
        return self._conn() if self._conn is not None else None

    def bind(self, conn: Connection) -> None:
        """Remember the connection these tables serve.

        Its queries may then skip the checking wrappers: the connection is
        told to look its driver methods up again.
        """
        if self._conn is None:
            self._conn = weakref.ref(conn)
            self.bound = True
            conn.forget_driver_methods()

    def reroute(self) -> None:
        """Have the connection look its driver methods up again (the rules changed)."""
        conn = self.connection
        if conn is not None:
            conn.forget_driver_methods()

    def release(self, conn: Connection) -> None:
        """Drop the connection's hold on the host, as closing it would."""
        for table in self.tables.present():
            try:
                table.connect_close(conn)
            except Exception:
                logger.exception("test driver table failed to release a lost connection")


# -- rules ------------------------------------------------------------------------------

_Effect = Callable[[CallInfo, ConnectionSession], VirtError | None]


class Fault:
    """One rule of a :class:`FaultInjector`: which calls it applies to and what it does."""

    def __init__(
        self,
        owner: FaultInjector,
        kind: str,
        call: str,
        effect: _Effect,
        *,
        times: int | None,
        after: int,
        probability: float,
        seed: int | str | None,
        target: Handle | str | None,
        connection: Connection | None,
    ) -> None:
        if times is not None and times < 1:
            raise InvalidArgError(f"times must be at least 1, not {times}", domain=ErrorDomain.TEST)
        if after < 0:
            raise InvalidArgError(f"after must not be negative: {after}", domain=ErrorDomain.TEST)
        if not 0.0 <= probability <= 1.0:
            raise InvalidArgError(
                f"probability {probability} is outside 0.0-1.0", domain=ErrorDomain.TEST
            )
        self._owner = owner
        self.kind = kind
        """What the rule does: ``fail``, ``delay``, ``hold``, ``disconnect`` or ``action``."""
        self.call = call
        """The call name or pattern the rule was given."""
        self.times = times
        self.after = after
        self.probability = probability
        self._matcher = _CallMatcher(call)
        self._effect = effect
        self._targets = _target_keys(target)
        self._conn = weakref.ref(connection) if connection is not None else None
        self._rng: random.Random | None = None
        if probability < 1.0:
            derived = owner._derived_random(seed)
            self._rng = derived if derived is not None else random.Random()
        self._calls = 0
        self._hits = 0
        self._active = True

    @property
    def calls(self) -> int:
        """How many calls matched the rule (including those it let through)."""
        return self._calls

    @property
    def hits(self) -> int:
        """How many times the rule fired."""
        return self._hits

    @property
    def active(self) -> bool:
        """False once the rule is spent or removed."""
        return self._active

    def remove(self) -> None:
        """Withdraw the rule; calls it is holding are released."""
        self._owner._remove(self)

    def _matches(self, method: str, conn: Connection, args: tuple[Any, ...]) -> bool:
        if not self._matcher(method):
            return False
        if self._conn is not None and self._conn() is not conn:
            return False
        if self._targets is not None:
            first = args[0] if args else None
            if isinstance(first, str):
                return first in self._targets
            keys = (getattr(first, "uuid", None), getattr(first, "name", None))
            return any(key is not None and key in self._targets for key in keys)
        return True

    def _fires(self) -> bool:
        """Count a matching call and decide whether the rule fires (owner's lock held)."""
        self._calls += 1
        if self._calls <= self.after:
            return False
        if self._rng is not None and self._rng.random() >= self.probability:
            return False
        self._hits += 1
        if self.times is not None and self._hits >= self.times:
            self._active = False
        return True

    def _stop(self) -> None:
        self._active = False

    def __repr__(self) -> str:
        state = "active" if self._active else "spent"
        return f"<Fault {self.kind} {self.call!r} hits={self._hits} {state}>"


class Hold(Fault):
    """A rule that stops matching calls until :meth:`release` (see :meth:`FaultInjector.hold`)."""

    def __init__(self, owner: FaultInjector, call: str, timeout: float, **trigger: Any) -> None:
        super().__init__(owner, "hold", call, self._hold, **trigger)
        self._timeout = timeout
        self._released = threading.Event()
        self._cond = threading.Condition()
        self._entered = 0
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """How many calls are being held right now."""
        with self._cond:
            return self._waiting

    def wait_held(self, count: int = 1, timeout: float | None = None) -> bool:
        """Wait until *count* calls in all have reached the hold; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._entered >= count, timeout)

    def release(self) -> None:
        """Let the held calls (and any later ones) proceed; the rule stays until spent."""
        self._released.set()

    def _stop(self) -> None:
        super()._stop()
        self._released.set()

    def _hold(self, info: CallInfo, session: ConnectionSession) -> VirtError | None:
        with self._cond:
            self._entered += 1
            self._waiting += 1
            self._cond.notify_all()
        try:
            released = self._released.wait(self._timeout)
        finally:
            with self._cond:
                self._waiting -= 1
        if released:
            return None
        return OperationTimeoutError(
            f"held call {info.method} was not released within {self._timeout} seconds",
            domain=ErrorDomain.TEST,
        )


def _error_factory(
    error: ErrorLike, message: str | None, error_domain: int | None
) -> Callable[[CallInfo], VirtError]:
    domain = ErrorDomain.TEST if error_domain is None else error_domain
    if isinstance(error, VirtError):
        if message is not None or error_domain is not None:
            raise InvalidArgError(
                "give either an error or its message and domain, not both",
                domain=ErrorDomain.TEST,
            )
        prototype = error
        return lambda info: copy.copy(prototype)

    def detail(info: CallInfo) -> str:
        return message if message is not None else f"injected fault in {info.method}"

    if isinstance(error, type) and issubclass(error, VirtError):
        cls = error
        return lambda info: cls(detail(info), domain=domain)
    if error is None:
        return lambda info: InternalError(detail(info), domain=domain)
    if isinstance(error, int):
        code = int(error)
        return lambda info: VirtError.from_code(code, detail(info), domain=domain)
    raise InvalidArgError(f"not an error: {error!r}", domain=ErrorDomain.TEST)


# -- the injector -----------------------------------------------------------------------


class FaultInjector:
    """The fault rules of one test host, and the means to lose its connections.

    Thread-safe. Obtain it with :func:`injector`. Crashing domains and I/O
    errors are :meth:`crash` and :meth:`io_error` (implemented in
    :mod:`virtcore.drivers.test.mishaps`).
    """

    def __init__(self, state: TestState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._sessions: weakref.WeakSet[ConnectionSession] = weakref.WeakSet()
        self.active = False
        """Whether any rule is in force (read without locking on every call)."""
        self.sleep: Callable[[float], None] = time.sleep
        """How :meth:`delay` rules wait; replaceable, e.g. to record the delays."""

    @property
    def state(self) -> TestState:
        """The host this injector belongs to."""
        return self._state

    # -- adding rules ----------------------------------------------------------

    def fail(
        self,
        call: str,
        error: ErrorLike = None,
        *,
        message: str | None = None,
        error_domain: int | None = None,
        times: int | None = None,
        after: int = 0,
        probability: float = 1.0,
        seed: int | str | None = None,
        target: Handle | str | None = None,
        connection: Connection | None = None,
    ) -> Fault:
        """Make matching calls raise *error* instead of running.

        *error* is a :class:`~virtcore.errors.VirtError` (each failure raises
        a copy), an error class or a libvirt error code (built with *message*
        and *error_domain*, default ``VIR_FROM_TEST``), or ``None`` for
        ``VIR_ERR_INTERNAL_ERROR``; without *message* the detail names the
        driver method.
        """
        build = _error_factory(error, message, error_domain)

        def effect(info: CallInfo, session: ConnectionSession) -> VirtError:
            return build(info)

        trigger = _trigger(
            times=times, after=after, probability=probability, seed=seed, target=target,
            connection=connection,
        )  # fmt: skip
        return self._add(Fault(self, "fail", call, effect, **trigger))

    def delay(
        self,
        call: str,
        seconds: float,
        *,
        times: int | None = None,
        after: int = 0,
        probability: float = 1.0,
        seed: int | str | None = None,
        target: Handle | str | None = None,
        connection: Connection | None = None,
    ) -> Fault:
        """Make matching calls take *seconds* longer (waiting before the call runs).

        The wait happens outside the host's lock, so other calls proceed
        meanwhile, as they would against a slow hypervisor.
        """
        if seconds < 0:
            raise InvalidArgError(f"a delay cannot be negative: {seconds}", domain=ErrorDomain.TEST)

        def effect(info: CallInfo, session: ConnectionSession) -> None:
            self.sleep(seconds)

        trigger = _trigger(
            times=times, after=after, probability=probability, seed=seed, target=target,
            connection=connection,
        )  # fmt: skip
        return self._add(Fault(self, "delay", call, effect, **trigger))

    def hold(
        self,
        call: str,
        *,
        timeout: float = DEFAULT_HOLD_TIMEOUT,
        times: int | None = 1,
        after: int = 0,
        probability: float = 1.0,
        seed: int | str | None = None,
        target: Handle | str | None = None,
        connection: Connection | None = None,
    ) -> Hold:
        """Stop matching calls before they run until the returned :class:`Hold` is released.

        For deterministic concurrency tests: start the call in a thread,
        :meth:`Hold.wait_held`, act, then :meth:`Hold.release`. A call held
        longer than *timeout* seconds fails with ``VIR_ERR_OPERATION_TIMEOUT``.
        """
        trigger = _trigger(
            times=times, after=after, probability=probability, seed=seed, target=target,
            connection=connection,
        )  # fmt: skip
        hold = Hold(self, call, timeout, **trigger)
        self._add(hold)
        return hold

    def disconnect(
        self,
        call: str,
        reason: ConnectCloseReason = ConnectCloseReason.EOF,
        *,
        times: int | None = 1,
        after: int = 0,
        probability: float = 1.0,
        seed: int | str | None = None,
        target: Handle | str | None = None,
        connection: Connection | None = None,
    ) -> Fault:
        """Lose the calling connection when a matching call is made; the call fails.

        See the module documentation for the error the call gets.
        """
        loss = ConnectCloseReason(reason)

        def effect(info: CallInfo, session: ConnectionSession) -> VirtError:
            self._lose(session, loss)
            return in_flight_error(loss)

        trigger = _trigger(
            times=times, after=after, probability=probability, seed=seed, target=target,
            connection=connection,
        )  # fmt: skip
        return self._add(Fault(self, "disconnect", call, effect, **trigger))

    def on_call(
        self,
        call: str,
        action: Callable[[CallInfo], object],
        *,
        times: int | None = None,
        after: int = 0,
        probability: float = 1.0,
        seed: int | str | None = None,
        target: Handle | str | None = None,
        connection: Connection | None = None,
    ) -> Fault:
        """Run ``action(CallInfo)`` before matching calls, e.g. to crash a domain mid-operation.

        The action runs outside the host's lock and may use the injector and
        the connection; an error it raises fails the call.
        """

        def effect(info: CallInfo, session: ConnectionSession) -> VirtError | None:
            try:
                action(info)
            except VirtError as exc:
                return exc
            return None

        trigger = _trigger(
            times=times, after=after, probability=probability, seed=seed, target=target,
            connection=connection,
        )  # fmt: skip
        return self._add(Fault(self, "action", call, effect, **trigger))

    @property
    def faults(self) -> list[Fault]:
        """The rules in force, in the order they were added."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Withdraw every rule (held calls are released)."""
        with self._lock:
            faults, self._faults = self._faults, []
            self.active = False
        for fault in faults:
            fault._stop()

    # -- immediate mishaps -----------------------------------------------------

    def crash(self, dom: Handle | str, cause: str = "panic") -> None:
        """Crash a running domain; see :func:`virtcore.drivers.test.mishaps.crash_domain`."""
        from virtcore.drivers.test.mishaps import CrashCause, crash_domain

        crash_domain(self._state, dom, CrashCause(cause))

    def io_error(
        self,
        dom: Handle | str,
        *,
        disk: str | None = None,
        action: int = DomainEventIOErrorAction.PAUSE,
        reason: str = "enospc",
    ) -> None:
        """Report a disk I/O error; see :func:`virtcore.drivers.test.mishaps.io_error`."""
        from virtcore.drivers.test.mishaps import io_error

        io_error(self._state, dom, disk=disk, action=action, reason=reason)

    def lose_connection(
        self, conn: Connection, reason: ConnectCloseReason = ConnectCloseReason.EOF
    ) -> None:
        """Report *conn* closed with *reason*: close callbacks fire, later calls fail."""
        session = session_of(conn)
        if session is None or session.state is not self._state:
            raise InvalidArgError(
                "the connection does not lead to this test host", domain=ErrorDomain.TEST
            )
        session.bind(conn)
        self._lose(session, ConnectCloseReason(reason))

    def lose_all_connections(self, reason: ConnectCloseReason = ConnectCloseReason.EOF) -> int:
        """Lose every open connection to the host; returns how many were lost at once.

        A connection that has not made any call yet is not known to the
        host: it is lost when it makes its next call (which fails as a call
        in flight would).
        """
        loss = ConnectCloseReason(reason)
        with self._lock:
            sessions = list(self._sessions)
        lost = 0
        for session in sessions:
            if session.closed:
                continue
            if session.bound:
                self._lose(session, loss)
                lost += 1
            else:
                session.pending_loss = loss
        return lost

    # -- plumbing for the intercepted tables ------------------------------------

    def attach(self, session: ConnectionSession) -> None:
        """Start tracking a new connection's session."""
        with self._lock:
            self._sessions.add(session)

    def detach(self, session: ConnectionSession) -> None:
        """Stop tracking a closed connection's session."""
        with self._lock:
            self._sessions.discard(session)

    def before_call(
        self, session: ConnectionSession, method: str, conn: Connection, args: tuple[Any, ...]
    ) -> None:
        """Apply the rules to a call about to run; raise what it must fail with."""
        if session.pending_loss is not None and not session.closed:
            loss = session.pending_loss
            self._lose(session, loss)
            raise in_flight_error(loss)
        if not self.active:
            return
        with self._lock:
            fired = [f for f in self._faults if f._matches(method, conn, args) and f._fires()]
            if any(not f.active for f in fired):
                self._faults = [f for f in self._faults if f.active]
                self.active = bool(self._faults)
        if not fired:
            return
        info = CallInfo(method, conn, args)
        failure: VirtError | None = None
        for fault in fired:
            outcome = fault._effect(info, session)
            if outcome is not None and failure is None:
                failure = outcome
        if failure is not None:
            logger.debug("injected failure into %s: %s", method, failure.message)
            raise failure

    # -- internals ---------------------------------------------------------------

    def reroute(self) -> None:
        """Make every connection to the host look its driver methods up again.

        Queries of bound connections bypass the checking wrappers while no
        rule is in force (see :mod:`virtcore.drivers.test.intercept`); this
        ends that once a rule or a virtual clock comes into force.
        """
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.reroute()

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
            self.active = True
        self.reroute()
        logger.debug("added %r", fault)
        return fault

    def _remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]
            self.active = bool(self._faults)
        fault._stop()

    def _derived_random(self, seed: int | str | None) -> random.Random | None:
        if seed is not None:
            return random.Random(seed)
        with self._lock:
            index = len(self._faults)
        return determinism(self._state).derived_random(f"fault:{index}")

    def _lose(self, session: ConnectionSession, reason: ConnectCloseReason) -> None:
        conn = session.connection
        if session.closed:
            return
        session.closed = True
        session.pending_loss = None
        self.detach(session)
        if conn is None:
            return
        logger.debug("test host lost connection %r (%s)", conn, reason.name)
        conn.report_closed(reason)
        session.release(conn)

    def __repr__(self) -> str:
        return f"<FaultInjector faults={len(self._faults)}>"


def _trigger(
    *,
    times: int | None,
    after: int,
    probability: float,
    seed: int | str | None,
    target: Handle | str | None,
    connection: Connection | None,
) -> dict[str, Any]:
    return {
        "times": times,
        "after": after,
        "probability": probability,
        "seed": seed,
        "target": target,
        "connection": connection,
    }


def session_of(conn: Connection) -> ConnectionSession | None:
    """The session of a connection whose tables are intercepted, else ``None``."""
    session = getattr(conn.tables.hypervisor, "session", None)
    return session if isinstance(session, ConnectionSession) else None


_registry_lock = threading.Lock()
_EXTENSION = "faults"


def injector(target: object) -> FaultInjector:
    """The fault injector of the host behind *target*: a ``test:///`` connection or host.

    Raises :class:`~virtcore.errors.InvalidArgError` for other objects.
    """
    state = resolve_state(target)
    found = state.extensions.get(_EXTENSION)
    if isinstance(found, FaultInjector):
        return found  # every call and every open asks: no lock once it exists
    with _registry_lock:
        found = state.extensions.get(_EXTENSION)
        if not isinstance(found, FaultInjector):
            found = FaultInjector(state)
            state.extensions[_EXTENSION] = found
    return found
