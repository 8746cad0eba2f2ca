"""Event and close callbacks of a ``virConnect``, delivered the way libvirt-python delivers them.

Callbacks are called exactly as libvirt-python calls them: ``cb(conn, obj,
*payload, opaque)`` where *payload* is the event's arguments in libvirt's
order (lifecycle: ``event, detail``; reboot: nothing; RTC change: ``offset``;
...), and close callbacks as ``cb(conn, reason, opaque)``.

Where they run:

* When the application registered an event loop (:func:`virEventRegisterDefaultImpl`
  or :func:`virEventRegisterImpl`) before registering the callback, it runs
  inside that loop, like libvirt: the connection adds one timeout to the loop
  (disabled, -1) while it has callbacks, arms it (0) when events are queued, and
  the timeout's callback delivers them. The timeout is removed when the last
  callback is deregistered, so ``libvirtaio``'s ``is_idle()`` behaves as with
  libvirt. With an external loop, events caused by a call are queued and the
  timeout armed by the calling thread before the call returns, as libvirt's
  drivers do; events arising on their own arm it from virtcore's event thread.
* Without a registered loop, callbacks run on virtcore's event thread. libvirt
  refuses to register them ("could not initialize domain event timer"); virtcore
  delivers them anyway, so events work with no loop at all.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from virtcore.errors import VirtError
from virtcore.events import EventKind
from virtcore.libvirt._errors import raise_from, reset_last_error
from virtcore.libvirt._eventloop import EventImpl, current_impl

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.events import Event
    from virtcore.objects import Handle

__all__ = ["ConnectionCallbacks", "EventPump"]

logger = logging.getLogger(__name__)

_FLUSH_TIMEOUT = 10.0
_REGISTER_APIS: dict[EventKind, str] = {
    EventKind.DOMAIN: "virConnectDomainEventRegisterAny",
    EventKind.NETWORK: "virConnectNetworkEventRegisterAny",
    EventKind.STORAGE_POOL: "virConnectStoragePoolEventRegisterAny",
    EventKind.NODE_DEVICE: "virConnectNodeDeviceEventRegisterAny",
    EventKind.SECRET: "virConnectSecretEventRegisterAny",
}
_DEREGISTER_APIS: dict[EventKind, str] = {
    kind: api.replace("RegisterAny", "DeregisterAny") for kind, api in _REGISTER_APIS.items()
}
_LIFECYCLE = 0


class EventPump:
    """One connection's queue of callbacks, emptied by a timeout of the registered loop."""

    def __init__(self, impl: EventImpl, native: Connection) -> None:
        self._impl = impl
        self._native = native
        self._lock = threading.Lock()
        self._queue: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()
        self._armed = False
        self._busy = 0
        self._closed = False
        self._timer = impl.add_timeout(-1, self._on_timer, None)

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        """Queue ``fn(*args)`` for the loop; called on virtcore's event thread."""
        with self._lock:
            if self._closed:
                return
            self._queue.append((fn, args))
            # An external loop need not be thread-safe: while a call through this
            # connection is in progress, its thread arms the timeout on return.
            if not self._armed and (self._impl.thread_safe or self._busy == 0):
                self._armed = True
                self._impl.update_timeout(self._timer, 0)

    def enter_call(self) -> None:
        """A mutating call through the connection starts (it may cause events)."""
        with self._lock:
            self._busy += 1

    def leave_call(self) -> None:
        """The call returned: queue what it caused and arm the timeout in this thread."""
        if not self._impl.thread_safe:
            self._native.flush_events(_FLUSH_TIMEOUT)
        with self._lock:
            self._busy -= 1
            if self._queue and not self._armed and not self._closed:
                self._armed = True
                self._impl.update_timeout(self._timer, 0)

    def _on_timer(self, timer: int, opaque: object) -> None:
        with self._lock:
            items = list(self._queue)
            self._queue.clear()
            self._armed = False
            if not self._closed:
                self._impl.update_timeout(self._timer, -1)
        for fn, args in items:
            try:
                fn(*args)
            except Exception:
                logger.exception("event callback %r failed", fn)

    def close(self) -> None:
        """Drop queued callbacks and remove the timeout from the loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
        try:
            self._impl.remove_timeout(self._timer)
        except Exception:
            logger.exception("event loop refused to remove timeout %d", self._timer)


Wrap = Callable[[Any, EventKind, Any], Any]
"""``wrap(conn, kind, handle)``: the compat object for an event's native handle."""


class ConnectionCallbacks:
    """The event and close callbacks of one ``virConnect``."""

    def __init__(self, owner: Any, native: Connection, wrap: Wrap) -> None:
        # Weak: the virConnect must stay collectable, since collecting it closes
        # the connection (libvirt-python's behaviour).
        self._owner_ref = weakref.ref(owner)
        self._native = native
        self._wrap = wrap
        self._lock = threading.Lock()
        self._pump: EventPump | None = None
        self._pump_users = 0
        self._by_id: dict[int, tuple[EventKind, bool]] = {}
        self._legacy: dict[Callable[..., Any], Any] = {}
        self._legacy_id: int | None = None
        self._close_id: int | None = None

    @property
    def _owner(self) -> Any:
        return self._owner_ref()

    @property
    def pump(self) -> EventPump | None:
        """The loop-delivery queue, while callbacks delivered by a loop exist."""
        return self._pump

    def _set_owner_pump(self, pump: EventPump | None) -> None:
        owner = self._owner
        if owner is not None:
            owner._pump = pump

    def _acquire_pump(self) -> EventPump | None:
        impl = current_impl()
        if impl is None:
            return None
        with self._lock:
            if self._pump is None:
                self._pump = EventPump(impl, self._native)
                self._set_owner_pump(self._pump)
            self._pump_users += 1
            return self._pump

    def _release_pump(self, used: bool) -> None:
        if not used:
            return
        with self._lock:
            self._pump_users -= 1
            pump = self._pump if self._pump_users == 0 else None
            if pump is not None:
                self._pump = None
                self._set_owner_pump(None)
        if pump is not None:
            pump.close()

    def _deliverer(self, pump: EventPump | None) -> Callable[..., None]:
        if pump is None:

            def direct(fn: Callable[..., object], *args: Any) -> None:
                fn(*args)

            return direct
        return pump.submit

    def register_any(
        self, kind: EventKind, obj: Any, event_id: int, cb: Callable[..., Any], opaque: Any
    ) -> int:
        """``<kind>EventRegisterAny``: returns libvirt's callback id."""
        api = _REGISTER_APIS[kind]
        reset_last_error()
        pump = self._acquire_pump()
        deliver = self._deliverer(pump)
        owner_ref, wrap = self._owner_ref, self._wrap

        def on_event(_conn: Connection, handle: Handle, event: Event) -> None:
            owner = owner_ref()
            if owner is not None:
                deliver(cb, owner, wrap(owner, kind, handle), *event.args, opaque)

        handle = obj._o if obj is not None else None
        try:
            callback_id = self._native.event_register(kind, event_id, on_event, obj=handle)
        except VirtError as exc:
            self._release_pump(pump is not None)
            raise raise_from(exc, api, self._owner) from None
        with self._lock:
            self._by_id[callback_id] = (kind, pump is not None)
        return callback_id

    def deregister_any(self, kind: EventKind, callback_id: int) -> None:
        """``<kind>EventDeregisterAny``."""
        api = _DEREGISTER_APIS[kind]
        reset_last_error()
        try:
            self._native.event_deregister(callback_id, kind)
        except VirtError as exc:
            raise raise_from(exc, api, self._owner) from None
        with self._lock:
            entry = self._by_id.pop(callback_id, None)
        self._release_pump(entry is not None and entry[1])

    # -- legacy lifecycle-only callbacks (virConnectDomainEventRegister) ---------

    def legacy_register(self, cb: Callable[..., Any], opaque: Any) -> None:
        """Add *cb* to the connection's lifecycle callbacks (one native registration)."""
        with self._lock:
            first = not self._legacy
            self._legacy[cb] = opaque
        if not first:
            return

        def dispatch(owner: Any, dom: Any, event: int, detail: int, _opaque: Any) -> None:
            for func, data in list(self._legacy.items()):
                func(owner, dom, event, detail, data)

        try:
            self._legacy_id = self.register_any(EventKind.DOMAIN, None, _LIFECYCLE, dispatch, None)
        except BaseException:
            with self._lock:
                self._legacy.pop(cb, None)
            raise

    def legacy_deregister(self, cb: Callable[..., Any]) -> None:
        """Remove *cb*; ``KeyError`` if it was never added (as libvirt-python)."""
        with self._lock:
            if not self._legacy and self._legacy_id is None:
                return
            del self._legacy[cb]
            last = not self._legacy
            callback_id, self._legacy_id = (self._legacy_id, None) if last else (None, None)
        if last and callback_id is not None:
            self.deregister_any(EventKind.DOMAIN, callback_id)

    # -- close callbacks -----------------------------------------------------

    def register_close(self, cb: Callable[..., Any], opaque: Any) -> int:
        """``registerCloseCallback``: ``cb(conn, reason, opaque)`` when the connection is lost.

        Delivered through the loop while the connection has loop-delivered event
        callbacks, else on virtcore's event thread.
        """
        owner_ref = self._owner_ref

        def on_close(_conn: Connection, reason: int) -> None:
            owner = owner_ref()
            if owner is not None:
                self._deliverer(self._pump)(cb, owner, reason, opaque)

        reset_last_error()
        try:
            with self._lock:
                previous, self._close_id = self._close_id, None
            if previous is not None:
                self._native.unregister_close_callback(previous)
            self._close_id = self._native.register_close_callback(on_close)
        except VirtError as exc:
            raise raise_from(exc, "virConnectRegisterCloseCallback", self._owner) from None
        return 0

    def unregister_close(self) -> None:
        """``unregisterCloseCallback``: forget the close callback, if any."""
        with self._lock:
            callback_id, self._close_id = self._close_id, None
        if callback_id is None:
            return
        reset_last_error()
        try:
            self._native.unregister_close_callback(callback_id)
        except VirtError as exc:
            raise raise_from(exc, "virConnectUnregisterCloseCallback", self._owner) from None

    def close(self) -> None:
        """The connection closed: stop delivering anything."""
        with self._lock:
            pump, self._pump = self._pump, None
            self._pump_users = 0
            self._by_id.clear()
            self._legacy.clear()
            self._legacy_id = None
        self._set_owner_pump(None)
        if pump is not None:
            pump.close()
