"""Event delivery threads and the sources drivers emit into.

:class:`EventDispatcher` runs submitted work in order on a daemon thread
(``"virtcore-events"``) that starts on first use and is reset in a forked
child. :class:`EventSource` belongs to a driver's state and is shared by every
connection to it: :meth:`EventSource.emit` picks the subscribers in the
emitter's thread and hands the deliveries to the dispatcher, never running or
waiting for a callback itself. Both are importable from :mod:`virtcore.events`,
whose documentation states the delivery contract.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from virtcore.events_types import Event

__all__ = ["DISPATCHER_THREAD_NAME", "EventDispatcher", "EventSource", "Selector", "Wants"]

logger = logging.getLogger(__name__)

DISPATCHER_THREAD_NAME = "virtcore-events"

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
Selector = Callable[[Event], Callable[[], None] | None]
Wants = Callable[[], bool] | None


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
        self._selectors: dict[int, tuple[Selector, Wants]] = {}
        # Copy-on-write snapshots so emit() and wanted() read subscribers without locking.
        self._snapshot: tuple[Selector, ...] = ()
        self._interest: tuple[Wants, ...] = ()

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

        def make_select(token: int) -> Selector:
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

    def _subscribe(self, make_select: Callable[[int], Selector], wants: Wants = None) -> int:
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
