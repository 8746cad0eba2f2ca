"""Recording the domain events a connection receives, and waiting for them without sleeping.

Events reach callbacks on virtcore's event thread, after the call that caused
them has returned. :class:`EventRecorder` registers for a set of domain event
ids, keeps what arrives, and lets a test either wait until the events queued
so far are delivered (:meth:`EventRecorder.drain`) or wait for a condition
(:meth:`EventRecorder.wait_for`)::

    events = EventRecorder(conn)
    dom.create()
    assert events.drain() == [RecordedEvent("vm1", 0, (2, 0))]   # STARTED/BOOTED
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from virtcore.enums.domain_events import DomainEventID
from virtcore.events import Event, EventDispatcher

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.objects import Handle

__all__ = ["DEFAULT_TIMEOUT", "EventRecorder", "RecordedEvent"]

DEFAULT_TIMEOUT = 10.0
"""How long the recorder waits by default: a safety net, never a timing assumption."""

RECORDED_IDS = (
    DomainEventID.LIFECYCLE,
    DomainEventID.REBOOT,
    DomainEventID.IO_ERROR,
    DomainEventID.IO_ERROR_REASON,
)
"""The domain events a recorder registers for unless told otherwise."""


class RecordedEvent(NamedTuple):
    """One delivered domain event: the domain's name, the event id and its callback arguments.

    For a lifecycle event (id 0) *args* is ``(event type, detail)``.
    """

    domain: str
    event_id: int
    args: tuple[Any, ...]


class EventRecorder:
    """Collects the domain events *conn* receives for *event_ids*. Thread-safe."""

    def __init__(self, conn: Connection, event_ids: Iterable[int] = RECORDED_IDS) -> None:
        self._conn = conn
        self._cond = threading.Condition()
        self._events: list[RecordedEvent] = []
        self._callback_ids = [
            conn.domain_event_register_any(int(event_id), self._on_event) for event_id in event_ids
        ]

    def _on_event(self, conn: Connection, dom: Handle, event: Event) -> None:
        record = RecordedEvent(event.obj.name, event.event_id, tuple(event.args))
        with self._cond:
            self._events.append(record)
            self._cond.notify_all()

    @property
    def events(self) -> list[RecordedEvent]:
        """Every event delivered so far (and not yet drained)."""
        with self._cond:
            return list(self._events)

    def lifecycle(self, domain: str | None = None) -> list[tuple[int, int]]:
        """The ``(event type, detail)`` pairs delivered so far, of *domain* or of all domains."""
        return [
            (int(ev.args[0]), int(ev.args[1]))
            for ev in self.events
            if ev.event_id == DomainEventID.LIFECYCLE and domain in (None, ev.domain)
        ]

    def flush(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every event queued before this call has been delivered."""
        if not EventDispatcher.default().flush(timeout):
            raise TimeoutError(f"events were not delivered within {timeout} seconds")

    def drain(self, timeout: float = DEFAULT_TIMEOUT) -> list[RecordedEvent]:
        """:meth:`flush`, then return the events delivered so far and forget them."""
        self.flush(timeout)
        with self._cond:
            out, self._events = self._events, []
            return out

    def wait_for(
        self, predicate: Callable[[list[RecordedEvent]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> bool:
        """Wait until ``predicate(events)`` holds for the events delivered; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(list(self._events)), timeout)

    def close(self) -> None:
        """Stop recording (a closed or lost connection needs nothing undone)."""
        ids, self._callback_ids = self._callback_ids, []
        if self._conn.closed:
            return
        for callback_id in ids:
            self._conn.event_deregister(callback_id)

    def __enter__(self) -> EventRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
