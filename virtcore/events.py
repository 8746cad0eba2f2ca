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

The implementation is split by concern: :mod:`virtcore.events_types` (event
values), :mod:`virtcore.events_dispatch` (delivery thread and sources),
:mod:`virtcore.events_stream` (iteration) and this module (a connection's
registrations); every public name is importable from here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from virtcore.errors import ConnectionClosedError, InvalidArgError
from virtcore.events_dispatch import DISPATCHER_THREAD_NAME, EventDispatcher, EventSource
from virtcore.events_stream import EventStream
from virtcore.events_types import KIND_INFO, ConnectionEvent, Event, EventKind, ObjectIdentity

__all__ = [
    "DISPATCHER_THREAD_NAME",
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
        info = KIND_INFO[kind]
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
            info = KIND_INFO[kind]
            text = f"callbackID in {info.deregister_api} must be zero or greater"
            raise InvalidArgError(text, message=text, domain=info.error_domain)
        with self._lock:
            self._check_open(KIND_INFO[kind].deregister_api)
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
            self._check_obj(kind, obj, KIND_INFO[kind].register_api)
        if maxsize < 0:
            raise InvalidArgError("maxsize in event stream must be zero or greater")
        stream = EventStream(self, maxsize)
        api = KIND_INFO[kind].register_api if kind is not None else "ConnectionEvents.stream"
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
        info = KIND_INFO[kind]
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
