"""libvirt's event-loop API: the default ``poll()`` loop and pluggable implementations.

libvirt-python applications either call :func:`virEventRegisterDefaultImpl` and
then run :func:`virEventRunDefaultImpl` in a loop (usually in a thread of their
own), or hand libvirt an external loop with :func:`virEventRegisterImpl` (six
callables; ``libvirtaio`` registers asyncio this way). Handles watch file
descriptors, timeouts fire after a period in milliseconds (0: on every
iteration, -1: disabled).

:class:`DefaultEventLoop` is a real ``poll()`` loop: callbacks run inside
:func:`virEventRunDefaultImpl`, in the thread that runs it, without the loop's
lock held (so they may add, update or remove handles and timeouts); changes
made from other threads wake a blocked iteration through a self-pipe; removed
entries release their opaque data (the optional free callback runs) once no
dispatch is using them.

The compat layer's own event delivery (:mod:`virtcore.libvirt._callbacks`)
uses :func:`current_impl`, which hides whether the default loop or an
application's implementation is registered.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803, PLR0917

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from virtcore.enums.event import EventHandleType
from virtcore.libvirt._errors import plain_error

__all__ = [
    "DefaultEventLoop",
    "EventImpl",
    "current_impl",
    "virEventAddHandle",
    "virEventAddTimeout",
    "virEventInvokeFreeCallback",
    "virEventRegisterDefaultImpl",
    "virEventRegisterImpl",
    "virEventRemoveHandle",
    "virEventRemoveTimeout",
    "virEventRunDefaultImpl",
    "virEventUpdateHandle",
    "virEventUpdateTimeout",
]

logger = logging.getLogger(__name__)

HandleCallback = Callable[[int, int, int, Any], object]
"""``cb(watch, fd, events, opaque)``."""
TimeoutCallback = Callable[[int, Any], object]
"""``cb(timer, opaque)``."""
FreeCallback = Callable[[Any], object]

_POLL_OF_EVENT = (
    (EventHandleType.READABLE, select.POLLIN),
    (EventHandleType.WRITABLE, select.POLLOUT),
    (EventHandleType.ERROR, select.POLLERR),
    (EventHandleType.HANGUP, select.POLLHUP),
)


def _to_poll(events: int) -> int:
    return sum(p for e, p in _POLL_OF_EVENT if events & e)


def _from_poll(revents: int) -> int:
    out = sum(int(e) for e, p in _POLL_OF_EVENT if revents & p)
    if revents & select.POLLNVAL:
        out |= int(EventHandleType.ERROR)
    return out


@dataclass(eq=False)
class _Watch:
    watch: int
    fd: int
    events: int
    cb: HandleCallback
    opaque: Any
    ff: FreeCallback | None
    deleted: bool = False


@dataclass(eq=False)
class _Timer:
    timer: int
    interval: int
    cb: TimeoutCallback
    opaque: Any
    ff: FreeCallback | None
    due: float = 0.0
    deleted: bool = False


@dataclass
class _Pending:
    freed: list[tuple[FreeCallback, Any]] = field(default_factory=list)


class DefaultEventLoop:
    """libvirt's default event implementation, built on ``select.poll``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[int, _Watch] = {}
        self._timers: dict[int, _Timer] = {}
        self._next_watch = 1
        self._next_timer = 1
        self._running: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    # -- registration (any thread) -------------------------------------------

    def add_handle(
        self, fd: int, events: int, cb: HandleCallback, opaque: Any, ff: FreeCallback | None = None
    ) -> int:
        """Watch *fd* for *events*; returns the watch id (ids start at 1)."""
        with self._lock:
            watch = self._next_watch
            self._next_watch += 1
            self._watches[watch] = _Watch(watch, fd, int(events), cb, opaque, ff)
        self._wake()
        return watch

    def update_handle(self, watch: int, events: int) -> None:
        """Change the events watched; an unknown watch is ignored, like libvirt."""
        with self._lock:
            entry = self._watches.get(watch)
            if entry is None or entry.deleted:
                logger.debug("update of unknown handle watch %d", watch)
                return
            entry.events = int(events)
        self._wake()

    def remove_handle(self, watch: int) -> int:
        """Stop watching; returns -1 for an unknown watch, else 0."""
        with self._lock:
            entry = self._watches.get(watch)
            if entry is None or entry.deleted:
                return -1
            entry.deleted = True
        self._wake()
        return 0

    def add_timeout(
        self, interval: int, cb: TimeoutCallback, opaque: Any, ff: FreeCallback | None = None
    ) -> int:
        """Fire *cb* every *interval* ms (0: every iteration, -1: disabled); returns its id."""
        with self._lock:
            timer = self._next_timer
            self._next_timer += 1
            self._timers[timer] = _Timer(
                timer, int(interval), cb, opaque, ff, time.monotonic() + max(interval, 0) / 1000
            )
        self._wake()
        return timer

    def update_timeout(self, timer: int, interval: int) -> None:
        """Change a timer's period, restarting it from now; an unknown timer is ignored."""
        with self._lock:
            entry = self._timers.get(timer)
            if entry is None or entry.deleted:
                logger.debug("update of unknown timer %d", timer)
                return
            entry.interval = int(interval)
            entry.due = time.monotonic() + max(interval, 0) / 1000
        self._wake()

    def remove_timeout(self, timer: int) -> int:
        """Delete a timer; returns -1 for an unknown timer, else 0."""
        with self._lock:
            entry = self._timers.get(timer)
            if entry is None or entry.deleted:
                return -1
            entry.deleted = True
        self._wake()
        return 0

    def _wake(self) -> None:
        if self._running is not None and self._running is not threading.current_thread():
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"\0")

    # -- one iteration (the loop thread) -------------------------------------

    def run_once(self) -> int:
        """Wait for the next due timer or ready handle and dispatch; returns 0.

        Blocks indefinitely when nothing is registered that could fire.
        """
        pending = _Pending()
        with self._lock:
            self._running = threading.current_thread()
            self._purge(pending)
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            fds: dict[int, int] = {}
            for entry in self._watches.values():
                if entry.events:
                    fds[entry.fd] = fds.get(entry.fd, 0) | _to_poll(entry.events)
            for fd, mask in fds.items():
                poller.register(fd, mask)
            timeout_ms = self._poll_timeout()
        self._release(pending)
        try:
            ready = poller.poll(timeout_ms)
        except InterruptedError:
            ready = []
        finally:
            self._running = None
        self._drain_wakeups(ready)
        self._dispatch_timers()
        self._dispatch_handles(ready)
        with self._lock:
            self._purge(pending)
        self._release(pending)
        return 0

    def _poll_timeout(self) -> int | None:
        due = [t.due for t in self._timers.values() if not t.deleted and t.interval >= 0]
        if not due:
            return None
        wait = min(due) - time.monotonic()
        return max(0, int(wait * 1000 + 0.999))

    def _drain_wakeups(self, ready: list[tuple[int, int]]) -> None:
        if any(fd == self._wake_r for fd, _ in ready):
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wake_r, 4096):
                    pass

    def _dispatch_timers(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                t
                for t in self._timers.values()
                if not t.deleted and t.interval >= 0 and t.due <= now
            ]
            for t in due:
                t.due = now + t.interval / 1000
        for t in due:
            # A callback may have removed a later timer of this batch.
            if not t.deleted:
                self._invoke(t.cb, t.timer, t.opaque)

    def _dispatch_handles(self, ready: list[tuple[int, int]]) -> None:
        revents = {fd: ev for fd, ev in ready if fd != self._wake_r}
        if not revents:
            return
        with self._lock:
            todo = [
                (
                    w,
                    _from_poll(revents[w.fd])
                    & (w.events | EventHandleType.ERROR | EventHandleType.HANGUP),
                )
                for w in self._watches.values()
                if not w.deleted and w.fd in revents
            ]
        for w, events in todo:
            if events and not w.deleted:
                self._invoke(w.cb, w.watch, w.fd, events, w.opaque)

    @staticmethod
    def _invoke(cb: Callable[..., object], *args: Any) -> None:
        try:
            cb(*args)
        except Exception:
            # libvirt-python prints and ignores exceptions raised by event callbacks.
            logger.exception("event loop callback %r failed", cb)

    def _purge(self, pending: _Pending) -> None:
        for table in (self._watches, self._timers):
            for key in [k for k, v in table.items() if v.deleted]:
                entry = table.pop(key)
                if entry.ff is not None:
                    pending.freed.append((entry.ff, entry.opaque))

    @staticmethod
    def _release(pending: _Pending) -> None:
        freed, pending.freed = pending.freed, []
        for ff, opaque in freed:
            DefaultEventLoop._invoke(ff, opaque)

    def close(self) -> None:
        """Release the wake-up pipe (the loop is unusable afterwards)."""
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


class EventImpl:
    """The registered implementation, default or external, behind one interface."""

    def __init__(
        self,
        add_handle: Callable[..., Any],
        update_handle: Callable[..., Any],
        remove_handle: Callable[..., Any],
        add_timeout: Callable[..., Any],
        update_timeout: Callable[..., Any],
        remove_timeout: Callable[..., Any],
        default: DefaultEventLoop | None = None,
    ) -> None:
        self.add_handle_fn = add_handle
        self.update_handle_fn = update_handle
        self.remove_handle_fn = remove_handle
        self.add_timeout_fn = add_timeout
        self.update_timeout_fn = update_timeout
        self.remove_timeout_fn = remove_timeout
        self.default = default

    @property
    def thread_safe(self) -> bool:
        """Whether any thread may call the implementation (the default loop: yes)."""
        return self.default is not None

    def add_handle(
        self, fd: int, events: int, cb: HandleCallback, opaque: Any, ff: FreeCallback | None = None
    ) -> int:
        """Register a handle; the callback receives the caller's own *opaque*."""
        if self.default is not None:
            return self.default.add_handle(fd, events, cb, opaque, ff)
        # External loops get libvirt-python's (callback, opaque, free) triple and call
        # back through _eventInvokeHandleCallback, exactly as with the C binding.
        return int(self.add_handle_fn(fd, events, _eventInvokeHandleCallback, (cb, opaque, ff)))

    def update_handle(self, watch: int, events: int) -> None:
        """Change the events a handle watches."""
        self.update_handle_fn(watch, events)

    def remove_handle(self, watch: int) -> int:
        """Unregister a handle."""
        result = self.remove_handle_fn(watch)
        return 0 if result is None else int(result)

    def add_timeout(
        self, interval: int, cb: TimeoutCallback, opaque: Any, ff: FreeCallback | None = None
    ) -> int:
        """Register a timeout."""
        if self.default is not None:
            return self.default.add_timeout(interval, cb, opaque, ff)
        return int(self.add_timeout_fn(interval, _eventInvokeTimeoutCallback, (cb, opaque, ff)))

    def update_timeout(self, timer: int, interval: int) -> None:
        """Change a timeout's period."""
        self.update_timeout_fn(timer, interval)

    def remove_timeout(self, timer: int) -> int:
        """Unregister a timeout."""
        result = self.remove_timeout_fn(timer)
        return 0 if result is None else int(result)


_impl_lock = threading.Lock()
_impl: EventImpl | None = None
_default_loop: DefaultEventLoop | None = None


def _get_default_loop() -> DefaultEventLoop:
    global _default_loop  # noqa: PLW0603 - libvirt's default loop is process-wide
    with _impl_lock:
        if _default_loop is None:
            _default_loop = DefaultEventLoop()
        return _default_loop


def current_impl() -> EventImpl | None:
    """The registered implementation, or ``None`` when the application registered none."""
    return _impl


def reset_for_tests() -> None:
    """Forget the registered implementation (libvirt has no such call; test suites only)."""
    global _impl, _default_loop
    with _impl_lock:
        loop, _impl, _default_loop = _default_loop, None, None
    if loop is not None:
        loop.close()


def virEventRegisterDefaultImpl() -> int:
    """Use the built-in ``poll()`` loop; run it with :func:`virEventRunDefaultImpl`. Returns 0."""
    global _impl  # noqa: PLW0603
    loop = _get_default_loop()
    impl = EventImpl(
        loop.add_handle,
        loop.update_handle,
        loop.remove_handle,
        loop.add_timeout,
        loop.update_timeout,
        loop.remove_timeout,
        default=loop,
    )
    with _impl_lock:
        _impl = impl
    logger.debug("default event loop registered")
    return 0


def virEventRegisterImpl(
    addHandle: Callable[..., Any],
    updateHandle: Callable[..., Any],
    removeHandle: Callable[..., Any],
    addTimeout: Callable[..., Any],
    updateTimeout: Callable[..., Any],
    removeTimeout: Callable[..., Any],
) -> None:
    """Use an external event loop given as its six operations.

    They are called with libvirt-python's arguments: ``addHandle(fd, events, cb,
    opaque)`` and ``addTimeout(timeout, cb, opaque)`` return an id; the loop
    later calls ``cb(watch, fd, events, opaque)`` / ``cb(timer, opaque)`` and,
    after removal, :func:`virEventInvokeFreeCallback` with the *opaque*.
    """
    global _impl  # noqa: PLW0603
    impl = EventImpl(
        addHandle, updateHandle, removeHandle, addTimeout, updateTimeout, removeTimeout
    )
    with _impl_lock:
        _impl = impl
    logger.debug("external event loop registered")


def _require_impl(api: str) -> EventImpl:
    impl = _impl
    if impl is None:
        raise plain_error(f"{api}() failed")
    return impl


def virEventRunDefaultImpl() -> int:
    """Run one iteration of the default loop, dispatching what is due; returns 0."""
    return _get_default_loop().run_once()


def virEventAddHandle(fd: int, events: int, cb: HandleCallback, opaque: Any) -> int:
    """Watch *fd*; ``cb(watch, fd, events, opaque)`` runs in the event loop."""
    watch = _require_impl("virEventAddHandle").add_handle(fd, events, cb, opaque)
    if watch < 0:
        raise plain_error("virEventAddHandle() failed")
    return watch


def virEventUpdateHandle(watch: int, events: int) -> None:
    """Change the events a handle watches (no effect without a registered loop)."""
    impl = _impl
    if impl is not None:
        impl.update_handle(watch, events)


def virEventRemoveHandle(watch: int) -> int:
    """Stop watching a handle; returns 0."""
    if _require_impl("virEventRemoveHandle").remove_handle(watch) < 0:
        raise plain_error("virEventRemoveHandle() failed")
    return 0


def virEventAddTimeout(timeout: int, cb: TimeoutCallback, opaque: Any) -> int:
    """Fire ``cb(timer, opaque)`` every *timeout* ms (0: every iteration, -1: disabled)."""
    timer = _require_impl("virEventAddTimeout").add_timeout(timeout, cb, opaque)
    if timer < 0:
        raise plain_error("virEventAddTimeout() failed")
    return timer


def virEventUpdateTimeout(timer: int, timeout: int) -> None:
    """Change a timer's period (no effect without a registered loop)."""
    impl = _impl
    if impl is not None:
        impl.update_timeout(timer, timeout)


def virEventRemoveTimeout(timer: int) -> int:
    """Delete a timer; returns 0."""
    if _require_impl("virEventRemoveTimeout").remove_timeout(timer) < 0:
        raise plain_error("virEventRemoveTimeout() failed")
    return 0


def virEventInvokeFreeCallback(opaque: Any) -> None:
    """Release the *opaque* an external loop received with a handle or timeout."""
    ff = opaque[2]
    if ff is not None:
        ff(opaque[1])


def _eventInvokeHandleCallback(
    watch: int, fd: int, event: int, opaque: Any, opaquecompat: Any = None
) -> None:
    """What an external loop calls for a ready handle (``opaque`` is the registered triple)."""
    if opaquecompat:
        # libvirt 0.9.2-era loops pass the callback and its opaque separately.
        opaque(watch, fd, event, opaquecompat)
        return
    opaque[0](watch, fd, event, opaque[1])


def _eventInvokeTimeoutCallback(timer: int, opaque: Any, opaquecompat: Any = None) -> None:
    """What an external loop calls for an expired timeout."""
    if opaquecompat:
        opaque(timer, opaquecompat)
        return
    opaque[0](timer, opaque[1])


def _dispatchEventHandleCallback(watch: int, fd: int, events: int, cbData: dict[str, Any]) -> int:
    """libvirt-python's dispatcher for ``{"cb": ..., "opaque": ...}`` handle data."""
    cbData["cb"](watch, fd, events, cbData["opaque"])
    return 0


def _dispatchEventTimeoutCallback(timer: int, cbData: dict[str, Any]) -> int:
    """libvirt-python's dispatcher for ``{"cb": ..., "opaque": ...}`` timeout data."""
    cbData["cb"](timer, cbData["opaque"])
    return 0
