"""Event delivery: drivers emit, connections receive, on a virtcore thread.

libvirt only delivers domain, network, storage-pool, node-device and secret
events to an application that registered an event loop implementation before
opening the connection and keeps running it; forgetting either silently loses
every event. virtcore needs no such step: events are delivered on a process-wide
daemon thread that starts on first use, and can also be consumed with
``async for`` from any asyncio loop or with a blocking :meth:`EventStream.get`.

:class:`EventDispatcher` owns the delivery thread (``"virtcore-events"``). An
:class:`EventSource` belongs to a driver's state and is shared by every
connection to it; :meth:`EventSource.emit` never runs or waits for callbacks,
and an event nobody wants costs no thread hop. :class:`ConnectionEvents` holds
one connection's registrations over several sources (hypervisor, network,
storage, ... drivers), numbering callbacks like libvirt (first id 0, never
reused) and failing with libvirt's codes and wording.

Delivery contract:

* Callbacks run on the dispatcher thread, never in the emitter's thread.
* Events reach callbacks in emission order, per source and across all sources
  that share a dispatcher (the default dispatcher is shared by all of them).
* A registration receives the matching events emitted after :meth:`register`
  returned and none emitted after :meth:`deregister` (or ``close``) returned,
  even if they were already queued. A callback that is running at that moment
  on the dispatcher thread is not interrupted.
* A callback that raises is logged and does not affect other deliveries. It
  may register or deregister callbacks, close the connection and call
  :meth:`EventDispatcher.flush` without deadlocking.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import os
import re
import threading
import time
import uuid as _uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConnectionClosedError,
    InvalidArgError,
    OperationInvalidError,
    OperationTimeoutError,
)

__all__ = [
    "ConnectionEvent",
    "ConnectionEvents",
    "Event",
    "EventDispatcher",
    "EventKind",
    "EventSource",
    "EventStream",
    "ObjectIdentity",
]

logger = logging.getLogger(__name__)

DISPATCHER_THREAD_NAME = "virtcore-events"


class EventKind(enum.Enum):
    """The object class an event is about; each has its own event id space."""

    DOMAIN = "domain"
    NETWORK = "network"
    STORAGE_POOL = "storage_pool"
    NODE_DEVICE = "node_device"
    SECRET = "secret"


class _KindInfo(NamedTuple):
    register_api: str
    deregister_api: str
    id_count: int  # libvirt 9.0's VIR_<KIND>_EVENT_ID_LAST
    error_domain: ErrorDomain


def _kind_info(stem: str, id_count: int, error_domain: ErrorDomain) -> _KindInfo:
    api = f"virConnect{stem}Event"
    return _KindInfo(f"{api}RegisterAny", f"{api}DeregisterAny", id_count, error_domain)


_KIND_INFO: dict[EventKind, _KindInfo] = {
    EventKind.DOMAIN: _kind_info("Domain", 27, ErrorDomain.DOMAIN),
    EventKind.NETWORK: _kind_info("Network", 1, ErrorDomain.NETWORK),
    EventKind.STORAGE_POOL: _kind_info("StoragePool", 2, ErrorDomain.STORAGE),
    EventKind.NODE_DEVICE: _kind_info("NodeDevice", 2, ErrorDomain.NODEDEV),
    EventKind.SECRET: _kind_info("Secret", 2, ErrorDomain.SECRET),
}


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class ObjectIdentity:
    """Which object an event is about: enough to build a handle for it.

    ``uuid`` is kept canonical (lower case, dashed; ``""`` means none) and a
    malformed one raises :class:`~virtcore.errors.InvalidArgError`. ``id`` is a
    running domain's id (-1 when inactive or not a domain).
    """

    kind: EventKind
    name: str
    uuid: str | None = None
    id: int = -1
    usage_type: int = 0
    """A secret's ``virSecretUsageType`` (0 for every other kind of object)."""

    def __post_init__(self) -> None:
        if self.uuid == "":
            object.__setattr__(self, "uuid", None)
        elif self.uuid is not None and not _CANONICAL_UUID.fullmatch(self.uuid):
            try:
                canonical = str(_uuid.UUID(self.uuid))
            except ValueError:
                raise InvalidArgError(f"malformed uuid element '{self.uuid}'") from None
            object.__setattr__(self, "uuid", canonical)

    def same_object(self, other: ObjectIdentity) -> bool:
        """Whether *other* names the same object, the way libvirt filters events.

        Objects are compared by UUID when this identity has one, otherwise by
        name (node devices have no UUID). The domain id is ignored: it changes
        every time a domain starts.
        """
        if self.kind is not other.kind:
            return False
        if self.uuid is not None:
            return self.uuid == other.uuid
        return self.name == other.name


@dataclass(frozen=True, slots=True)
class Event:
    """One event as a driver emits it.

    ``event_id`` is libvirt's event id number for the kind (for domains
    ``VIR_DOMAIN_EVENT_ID_LIFECYCLE`` = 0, ``REBOOT`` = 1, ...); ``args`` are the
    event's payload in libvirt's callback order, e.g. ``(event_type, detail)``
    for a lifecycle event.
    """

    kind: EventKind
    event_id: int
    obj: ObjectIdentity
    args: tuple[Any, ...] = ()


_Work = tuple[Callable[..., object], tuple[object, ...]]

_DISPATCHERS: weakref.WeakSet[EventDispatcher] = weakref.WeakSet()


class EventDispatcher:
    """A daemon thread that runs submitted work one item at a time, in order.

    The thread starts on the first :meth:`submit` and stops on
    :meth:`shutdown`; a later :meth:`submit` starts a fresh one, so a shut-down
    dispatcher is never a trap. Work that raises is logged and skipped.
    """

    _default: ClassVar[EventDispatcher | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str = DISPATCHER_THREAD_NAME) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: deque[_Work] = deque()
        self._thread: threading.Thread | None = None
        self._stopping = False
        _DISPATCHERS.add(self)

    @classmethod
    def default(cls) -> EventDispatcher:
        """The process-wide dispatcher every :class:`EventSource` uses by default."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def in_dispatch_thread(self) -> bool:
        """Whether the caller is running on this dispatcher's thread."""
        thread = self._thread
        return thread is not None and thread is threading.current_thread()

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        """Queue ``fn(*args)`` to run on the delivery thread after earlier work."""
        with self._lock:
            self._queue.append((fn, args))
            if self._thread is None:
                self._start_locked()
            else:
                self._wakeup.notify()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until all work submitted before this call has run.

        Returns False if *timeout* seconds pass first. Called from the delivery
        thread itself (from a callback) it cannot wait for work queued behind
        the running callback, so it returns True at once instead of deadlocking.
        """
        if self.in_dispatch_thread():
            return True
        done = threading.Event()
        with self._lock:
            if self._thread is None:
                # Nothing runs and nothing is queued: no need to start a thread.
                return True
            self._queue.append((done.set, ()))
            self._wakeup.notify()
        return done.wait(timeout)

    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Run the work already queued, then stop the thread and wait for it.

        Called from the delivery thread it only asks the thread to stop once
        the queue is empty. A thread still busy after *timeout* is logged.
        """
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._stopping = True
            self._wakeup.notify()
        if thread is threading.current_thread():
            return
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("event dispatcher %r still busy after %s seconds", self._name, timeout)

    def _start_locked(self) -> None:
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread = thread
        self._stopping = False
        try:
            thread.start()
        except RuntimeError:
            # Leave the dispatcher startable: the next submit tries again.
            self._thread = None
            raise

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    if self._stopping:
                        self._thread = None
                        self._stopping = False
                        return
                    self._wakeup.wait()
                fn, args = self._queue.popleft()
            try:
                fn(*args)
            except Exception:
                logger.exception("event dispatcher work %r failed", fn)


def _reset_dispatchers_after_fork() -> None:
    # The child has no delivery thread, and its locks may have been held by a
    # parent thread; work queued by the parent belongs to the parent.
    EventDispatcher._default_lock = threading.Lock()
    for dispatcher in list(_DISPATCHERS):
        dispatcher._lock = threading.Lock()
        dispatcher._wakeup = threading.Condition(dispatcher._lock)
        dispatcher._queue = deque()
        dispatcher._thread = None
        dispatcher._stopping = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_dispatchers_after_fork)


# Runs in the emitter's thread: returns the work to do on the delivery thread
# for this event, or None when the subscriber does not want it.
_Selector = Callable[[Event], Callable[[], None] | None]
_Wants = Callable[[], bool] | None


def _run_deliveries(deliveries: list[Callable[[], None]]) -> None:
    for deliver in deliveries:
        try:
            deliver()
        except Exception:
            logger.exception("event delivery %r failed", deliver)


class EventSource:
    """Where a driver state emits its events; shared by all its connections.

    ``dispatcher`` defaults to :meth:`EventDispatcher.default`, looked up on
    first use so that creating a source starts nothing.
    """

    def __init__(self, dispatcher: EventDispatcher | None = None) -> None:
        self._dispatcher = dispatcher
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._selectors: dict[int, tuple[_Selector, _Wants]] = {}
        # Copy-on-write snapshots so emit() and wanted() read subscribers without locking.
        self._snapshot: tuple[_Selector, ...] = ()
        self._interest: tuple[_Wants, ...] = ()

    @property
    def dispatcher(self) -> EventDispatcher:
        """The dispatcher that delivers this source's events."""
        if self._dispatcher is None:
            self._dispatcher = EventDispatcher.default()
        return self._dispatcher

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens; a driver may skip building events otherwise."""
        return bool(self._snapshot)

    def wanted(self) -> bool:
        """Whether an event emitted now could reach anyone (a driver may skip building it)."""
        for wants in self._interest:  # noqa: SIM110 - any() over a generator costs more here
            if wants is None or wants():
                return True
        return False

    def emit(self, event: Event) -> None:
        """Queue *event* for delivery; returns without waiting for any callback.

        Subscribers are chosen now, in the caller's thread: an event nobody
        wants is dropped here without involving the delivery thread.
        """
        selectors = self._snapshot
        if not selectors:
            return
        deliveries = [d for d in (select(event) for select in selectors) if d is not None]
        if deliveries:
            self.dispatcher.submit(_run_deliveries, deliveries)

    def subscribe(self, listener: Callable[[Event], None]) -> int:
        """Call ``listener(event)`` on the delivery thread for every later event.

        Returns a token for :meth:`unsubscribe`.
        """

        def make_select(token: int) -> _Selector:
            def select(event: Event) -> Callable[[], None] | None:
                return lambda: self._call_listener(token, listener, event)

            return select

        return self._subscribe(make_select)

    def unsubscribe(self, token: int) -> None:
        """Stop a subscription; queued events are no longer delivered to it.

        Unknown or already removed tokens are ignored.
        """
        with self._lock:
            if self._selectors.pop(token, None) is not None:
                self._rebuild()

    def _subscribe(self, make_select: Callable[[int], _Selector], wants: _Wants = None) -> int:
        """Add a selector; *wants* says whether it may select anything now (None: always)."""
        with self._lock:
            token = next(self._tokens)
            self._selectors[token] = (make_select(token), wants)
            self._rebuild()
        return token

    def _rebuild(self) -> None:
        self._snapshot = tuple(select for select, _ in self._selectors.values())
        self._interest = tuple(wants for _, wants in self._selectors.values())

    def _call_listener(self, token: int, listener: Callable[[Event], None], event: Event) -> None:
        if token not in self._selectors:
            return
        try:
            listener(event)
        except Exception:
            logger.exception("event listener %r failed on %r", listener, event)


class ConnectionEvent(NamedTuple):
    """What an :class:`EventStream` yields: the object's handle and the event."""

    handle: object
    event: Event


_Sink = Callable[[object, Event], None]


@dataclass(eq=False, slots=True)
class _Registration:
    """One callback or stream of a connection, with its filter."""

    callback_id: int
    kind: EventKind | None
    event_ids: frozenset[int] | None
    obj: ObjectIdentity | None
    sink: _Sink
    on_remove: Callable[[], None] | None
    # Read without a lock on the delivery thread; cleared under the
    # connection's lock before deregister()/close() return.
    active: bool = True

    def matches(self, event: Event) -> bool:
        if self.kind is not None and event.kind is not self.kind:
            return False
        if self.event_ids is not None and event.event_id not in self.event_ids:
            return False
        return self.obj is None or self.obj.same_object(event.obj)


class ConnectionEvents:
    """The event registrations of one connection.

    ``owner`` is passed back to callbacks as their first argument (the
    connection); ``make_handle`` turns an event's :class:`ObjectIdentity` into
    the handle callbacks receive (a Domain, Network, ... object). Both are
    called on the delivery thread; the handle is built once per event and
    connection, and only when some registration wants the event.
    """

    def __init__(self, owner: object, make_handle: Callable[[ObjectIdentity], object]) -> None:
        self._owner = owner
        self._make_handle = make_handle
        self._lock = threading.Lock()
        self._registrations: dict[int, _Registration] = {}
        self._snapshot: tuple[_Registration, ...] = ()
        self._next_id = 0
        self._sources: list[tuple[EventSource, int]] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def attach(self, source: EventSource) -> None:
        """Receive the events *source* emits from now on; attaching twice is a no-op."""
        with self._lock:
            self._check_open("ConnectionEvents.attach")
            if any(attached is source for attached, _ in self._sources):
                return
            token = source._subscribe(lambda _token: self._select, self._has_registrations)
            self._sources.append((source, token))

    def detach(self, source: EventSource) -> None:
        """Stop receiving from *source*; events it already queued are dropped."""
        with self._lock:
            removed = [t for s, t in self._sources if s is source]
            self._sources = [(s, t) for s, t in self._sources if s is not source]
        for token in removed:
            source.unsubscribe(token)

    def register(
        self,
        kind: EventKind,
        event_id: int,
        callback: Callable[[object, object, Event], None],
        *,
        obj: ObjectIdentity | None = None,
    ) -> int:
        """Call ``callback(owner, handle, event)`` for matching events; return its id.

        With *obj*, only events about that object are delivered (by UUID, or by
        name for objects without one). Ids are unique within the connection,
        start at 0 like libvirt's and are never reused. An *event_id* outside
        libvirt 9.0's range for *kind* raises :class:`InvalidArgError` with
        libvirt's message.
        """
        info = _KIND_INFO[kind]
        self.validate_event_id(kind, event_id)
        self._check_obj(kind, obj, info.register_api)

        def sink(handle: object, event: Event) -> None:
            callback(self._owner, handle, event)

        ids = frozenset((event_id,))
        reg = self._add(kind, ids, obj, sink=sink, on_remove=None, api=info.register_api)
        logger.debug("registered %s event %d callback %d", kind.value, event_id, reg.callback_id)
        return reg.callback_id

    def deregister(self, callback_id: int, *, kind: EventKind = EventKind.DOMAIN) -> None:
        """Remove a callback (or end a stream) registered on this connection.

        Events already queued for it are not delivered after this returns. An
        unknown id raises :class:`InvalidArgError` ("could not find event
        callback N for deletion"); *kind* only names the libvirt API in the
        message for a negative id.
        """
        if callback_id < 0:
            info = _KIND_INFO[kind]
            text = f"callbackID in {info.deregister_api} must be zero or greater"
            raise InvalidArgError(text, message=text, domain=info.error_domain)
        with self._lock:
            self._check_open(_KIND_INFO[kind].deregister_api)
            reg = self._registrations.get(callback_id)
            if reg is None:
                raise InvalidArgError(f"could not find event callback {callback_id} for deletion")
            self._remove_locked(reg)
        logger.debug("deregistered event callback %d", callback_id)
        if reg.on_remove is not None:
            reg.on_remove()

    def stream(
        self,
        kind: EventKind | None = None,
        event_ids: Iterable[int] | None = None,
        *,
        obj: ObjectIdentity | None = None,
        maxsize: int = 0,
    ) -> EventStream:
        """Open an :class:`EventStream` of matching events.

        *kind* None means every kind (then *event_ids* must be None too, since
        ids are per kind; *obj* implies its own kind); *event_ids* None means
        every event id of the kind. *maxsize* bounds the stream's buffer (0:
        unbounded); see :class:`EventStream` for what happens when it is full.
        """
        if kind is None and obj is not None:
            kind = obj.kind
        ids: frozenset[int] | None = None
        if event_ids is not None:
            if kind is None:
                raise InvalidArgError("event ids need an event kind")
            ids = frozenset(event_ids)
            for event_id in sorted(ids):
                self.validate_event_id(kind, event_id)
        if kind is not None:
            self._check_obj(kind, obj, _KIND_INFO[kind].register_api)
        if maxsize < 0:
            raise InvalidArgError("maxsize in event stream must be zero or greater")
        stream = EventStream(self, maxsize)
        api = _KIND_INFO[kind].register_api if kind is not None else "ConnectionEvents.stream"
        reg = self._add(kind, ids, obj, sink=stream._push, on_remove=stream._finish, api=api)
        stream._callback_id = reg.callback_id
        return stream

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until events emitted so far by the attached sources are delivered."""
        with self._lock:
            dispatchers = {id(s.dispatcher): s.dispatcher for s, _ in self._sources}
        deadline = None if timeout is None else time.monotonic() + timeout
        for dispatcher in dispatchers.values():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not dispatcher.flush(left):
                return False
        return True

    def close(self) -> None:
        """Remove every registration and detach from every source.

        Events already queued for this connection are not delivered after this
        returns, and every stream ends. Closing twice is harmless.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            regs = list(self._registrations.values())
            for reg in regs:
                reg.active = False
            self._registrations.clear()
            self._snapshot = ()
            sources, self._sources = self._sources, []
        for source, token in sources:
            source.unsubscribe(token)
        for reg in regs:
            if reg.on_remove is not None:
                reg.on_remove()

    def _check_open(self, api: str) -> None:
        if self._closed:
            raise ConnectionClosedError(api)

    @staticmethod
    def validate_event_id(kind: EventKind, event_id: int) -> None:
        """Raise libvirt's :class:`InvalidArgError` if *event_id* is out of range for *kind*."""
        info = _KIND_INFO[kind]
        if event_id < 0:
            text = f"eventID in {info.register_api} must be zero or greater"
        elif event_id >= info.id_count:
            # libvirt-domain.c omits the function name the other kinds print.
            where = "" if kind is EventKind.DOMAIN else f" in {info.register_api}"
            text = f"eventID{where} must be less than {info.id_count}"
        else:
            return
        raise InvalidArgError(text, message=text, domain=info.error_domain)

    @staticmethod
    def _check_obj(kind: EventKind, obj: ObjectIdentity | None, api: str) -> None:
        if obj is not None and obj.kind is not kind:
            text = f"{obj.kind.value} '{obj.name}' cannot filter {kind.value} events in {api}"
            raise InvalidArgError(text)

    def _add(
        self,
        kind: EventKind | None,
        event_ids: frozenset[int] | None,
        obj: ObjectIdentity | None,
        *,
        sink: _Sink,
        on_remove: Callable[[], None] | None,
        api: str,
    ) -> _Registration:
        with self._lock:
            self._check_open(api)
            reg = _Registration(self._next_id, kind, event_ids, obj, sink, on_remove)
            self._next_id += 1
            self._registrations[reg.callback_id] = reg
            self._snapshot = tuple(self._registrations.values())
        return reg

    def _remove_locked(self, reg: _Registration) -> None:
        reg.active = False
        del self._registrations[reg.callback_id]
        self._snapshot = tuple(self._registrations.values())

    def _discard(self, callback_id: int) -> None:
        """Remove a registration if it is still there (used by streams closing)."""
        with self._lock:
            reg = self._registrations.get(callback_id)
            if reg is not None:
                self._remove_locked(reg)

    def _has_registrations(self) -> bool:
        return bool(self._snapshot)

    def _select(self, event: Event) -> Callable[[], None] | None:
        # Emitter's thread: decide now who gets the event, so registrations
        # made after emit() do not receive it.
        matched = [reg for reg in self._snapshot if reg.matches(event)]
        if not matched:
            return None
        return lambda: self._deliver(event, matched)

    def _deliver(self, event: Event, matched: list[_Registration]) -> None:
        handle: object = None
        have_handle = False
        for reg in matched:
            if not reg.active:
                continue
            if not have_handle:
                try:
                    handle = self._make_handle(event.obj)
                except Exception:
                    logger.exception("cannot build a handle for %r", event.obj)
                    return
                have_handle = True
            try:
                reg.sink(handle, event)
            except Exception:
                logger.exception("event callback %d failed on %r", reg.callback_id, event)


class EventStream:
    """Events of one connection as an iterator, for asyncio or blocking code.

    ``async for item in stream`` works in any asyncio loop; ``stream.get(t)``
    and ``for item in stream`` block the calling thread. Each item is a
    :class:`ConnectionEvent` and goes to exactly one consumer. Iteration ends
    when the stream or its connection is closed; buffered events are then
    dropped. ``async with`` / ``with`` close the stream on exit.

    With ``maxsize`` > 0 a consumer that falls behind loses the oldest buffered
    events, never the newest; :attr:`dropped` counts them. The delivery thread
    never waits for a consumer.
    """

    def __init__(self, events: ConnectionEvents, maxsize: int) -> None:
        self._events = events
        self._maxsize = maxsize
        self._callback_id = -1
        self._cond = threading.Condition(threading.Lock())
        self._items: deque[ConnectionEvent] = deque()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed = False
        self._dropped = 0

    @property
    def callback_id(self) -> int:
        """The stream's registration id; ``deregister(callback_id)`` ends it."""
        return self._callback_id

    @property
    def closed(self) -> bool:
        """Whether the stream has ended."""
        return self._closed

    @property
    def dropped(self) -> int:
        """How many events were discarded because the buffer was full."""
        return self._dropped

    def get(self, timeout: float | None = None) -> ConnectionEvent:
        """Take the next event, waiting up to *timeout* seconds (None: no limit).

        Raises :class:`OperationTimeoutError` when nothing arrives in time and
        :class:`OperationInvalidError` once the stream is closed.
        """
        item = self._take(timeout)
        if item is None:
            raise OperationInvalidError("event stream is closed")
        return item

    def close(self) -> None:
        """End the stream and remove its registration; buffered events are dropped."""
        self._events._discard(self._callback_id)
        self._finish()

    async def aclose(self) -> None:
        """Asynchronous spelling of :meth:`close`."""
        self.close()

    def __iter__(self) -> Iterator[ConnectionEvent]:
        return self

    def __next__(self) -> ConnectionEvent:
        item = self._take(None)
        if item is None:
            raise StopIteration
        return item

    def __aiter__(self) -> AsyncIterator[ConnectionEvent]:
        return self

    async def __anext__(self) -> ConnectionEvent:
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    raise StopAsyncIteration
                waiter: asyncio.Future[None] = loop.create_future()
                entry = (loop, waiter)
                self._waiters.append(entry)
            try:
                await waiter
            finally:
                with self._cond:
                    if entry in self._waiters:
                        self._waiters.remove(entry)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def _take(self, timeout: float | None) -> ConnectionEvent | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self._closed, timeout):
                raise OperationTimeoutError(f"no event received within {timeout} seconds")
            if self._items:
                return self._items.popleft()
            return None

    def _push(self, handle: object, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            if self._maxsize and len(self._items) >= self._maxsize:
                self._items.popleft()
                self._dropped += 1
                if self._dropped == 1:
                    logger.warning(
                        "event stream %d is full (%d); dropping its oldest events",
                        self._callback_id,
                        self._maxsize,
                    )
            self._items.append(ConnectionEvent(handle, event))
            self._cond.notify()
            waiters, self._waiters = self._waiters, []
        _wake(waiters)

    def _finish(self) -> None:
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        _wake(waiters)


def _wake(waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    for loop, waiter in waiters:
        try:
            loop.call_soon_threadsafe(_set_ready, waiter)
        except RuntimeError:
            # The consumer's loop is closed; nobody is left to wake.
            logger.debug("event stream waiter's loop is closed")


def _set_ready(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
