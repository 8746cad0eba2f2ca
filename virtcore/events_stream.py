"""Event streams: one connection's events as a blocking or ``async for`` iterator.

:class:`EventStream` is opened with :meth:`virtcore.events.ConnectionEvents.stream`
(``Connection.events()``) and importable from :mod:`virtcore.events`. The
delivery thread pushes into it and never waits for a consumer; asyncio
consumers are woken through their own loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from virtcore.errors import OperationInvalidError, OperationTimeoutError
from virtcore.events_types import ConnectionEvent, Event

if TYPE_CHECKING:
    from virtcore.events import ConnectionEvents

__all__ = ["EventStream"]

logger = logging.getLogger(__name__)


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
