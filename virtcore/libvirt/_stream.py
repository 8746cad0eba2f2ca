"""``virStream``: data streams for volume upload/download, screenshots and consoles.

A stream is created unbound by ``virConnect.newStream()``; the call that uses
it (``virStorageVol.upload``, ``virDomain.screenshot``, ...) binds the driver's
backend to it. ``send``/``recv``/``finish``/``abort`` go to that backend; the
sparse calls (``sendHole``, ``recvHole``, ``recvFlags``) go to the native
stream's ``send_hole``/``recv_hole``/``recv_flags``: a backend without holes
never stops at one, and one that cannot make holes fails with
``VIR_ERR_NO_SUPPORT`` like a libvirt driver without sparse streams.
``sendAll``/``recvAll`` and their sparse variants are libvirt-python's own
loops, reproduced here with the same handler contracts.

Stream events (``eventAddCallback``) need a registered event loop, as in
libvirt. In-process backends never block, so a registered callback is called
on every loop iteration with the requested readable/writable conditions.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802, N803

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.event import EventHandleType
from virtcore.enums.stream import StreamRecvFlags
from virtcore.errors import VirtError
from virtcore.libvirt._base import Wrapped
from virtcore.libvirt._errors import error_for, libvirtError, raise_from, reset_last_error
from virtcore.libvirt._eventloop import current_impl

__all__ = ["STREAM_BUF_SIZE", "virStream"]

logger = logging.getLogger(__name__)

STREAM_BUF_SIZE = 262120
"""libvirt-python's ``virStorageVol.streamBufSize``: the chunk size of the ``*All`` loops."""
_HOLE = -3
_READY = int(EventHandleType.READABLE | EventHandleType.WRITABLE)


class virStream(Wrapped):
    """A data stream (libvirt-python's ``virStream``)."""

    _kind = "stream"

    def __init__(self, conn: Any, _obj: Any = None) -> None:
        self._bind(conn, _obj)
        self.cb: Callable[..., Any] | None = None
        self._event_timer: int | None = None
        self._events = 0

    def _do(self, api: str, method: str, *args: Any) -> Any:
        reset_last_error()
        try:
            return getattr(self._o, method)(*args)
        except VirtError as exc:
            raise raise_from(exc, api, self._conn) from None

    def send(self, data: bytes) -> int:
        """Write *data*; returns the number of bytes accepted (``virStreamSend``)."""
        sent: int = self._do("virStreamSend", "send", bytes(data))
        return sent

    def recv(self, nbytes: int) -> bytes:
        """Read up to *nbytes*; ``b""`` at the end of the stream (``virStreamRecv``)."""
        data: bytes = self._do("virStreamRecv", "recv", nbytes)
        return data

    def recvFlags(self, nbytes: int, flags: int = 0) -> bytes | int:
        """Like :meth:`recv`; with ``VIR_STREAM_RECV_STOP_AT_HOLE`` returns -3 at a hole.

        (``virStreamRecvFlags``)
        """
        result: bytes | int = self._do("virStreamRecvFlags", "recv_flags", nbytes, flags)
        return result

    def recvHole(self, flags: int = 0) -> int:
        """The length of the hole the stream is positioned at (``virStreamRecvHole``)."""
        length: int = self._do("virStreamRecvHole", "recv_hole", flags)
        return length

    def sendHole(self, length: int, flags: int = 0) -> int:
        """Skip *length* bytes at the receiving end, leaving a hole (``virStreamSendHole``)."""
        self._do("virStreamSendHole", "send_hole", length, flags)
        return 0

    def finish(self) -> int:
        """Complete the transfer, reporting any deferred error (``virStreamFinish``)."""
        self._remove_event_timer()
        self._do("virStreamFinish", "finish")
        return 0

    def abort(self) -> int:
        """Abandon the transfer (``virStreamAbort``)."""
        self._remove_event_timer()
        self._do("virStreamAbort", "abort")
        return 0

    # -- event callbacks -----------------------------------------------------

    def eventAddCallback(
        self, events: int, cb: Callable[[virStream, int, Any], object], opaque: Any
    ) -> None:
        """Call ``cb(stream, events, opaque)`` from the event loop while the stream is ready.

        (``virStreamEventAddCallback``)
        """
        impl = current_impl()
        if impl is None:
            raise error_for(
                ErrorNumber.INTERNAL_ERROR,
                "cannot add stream event callback without an event loop",
                "virStreamEventAddCallback",
                domain=ErrorDomain.STREAMS,
            )
        if self._event_timer is not None:
            raise error_for(
                ErrorNumber.INTERNAL_ERROR,
                "multiple stream callbacks not supported",
                "virStreamEventAddCallback",
                domain=ErrorDomain.STREAMS,
            )
        self.cb = cb
        self._events = int(events)

        def fire(_timer: int, _opaque: object) -> None:
            ready = self._events & _READY
            if ready and self.cb is not None:
                self.cb(self, ready, opaque)

        self._event_timer = impl.add_timeout(0, fire, None)

    def eventUpdateCallback(self, events: int) -> int:
        """Change the conditions the stream callback waits for
        (``virStreamEventUpdateCallback``).
        """
        if self._event_timer is None:
            raise error_for(
                ErrorNumber.INTERNAL_ERROR,
                "stream does not have a callback registered",
                "virStreamEventUpdateCallback",
                domain=ErrorDomain.STREAMS,
            )
        self._events = int(events)
        return 0

    def eventRemoveCallback(self) -> int:
        """Remove the stream callback (``virStreamEventRemoveCallback``)."""
        if self._event_timer is None:
            raise error_for(
                ErrorNumber.INTERNAL_ERROR,
                "stream does not have a callback registered",
                "virStreamEventRemoveCallback",
                domain=ErrorDomain.STREAMS,
            )
        self._remove_event_timer()
        return 0

    def _remove_event_timer(self) -> None:
        timer, self._event_timer = self._event_timer, None
        self.cb = None
        impl = current_impl()
        if timer is not None and impl is not None:
            impl.remove_timeout(timer)

    # -- libvirt-python's convenience loops -----------------------------------

    def recvAll(self, handler: Callable[[virStream, bytes, Any], Any], opaque: Any) -> None:
        """Receive everything, passing each chunk to ``handler(stream, data, opaque)``.

        A negative integer from the handler, or an exception, aborts the stream.
        """
        while True:
            got = self.recv(STREAM_BUF_SIZE)
            if not got:
                break
            try:
                ret = handler(self, got, opaque)
                if isinstance(ret, int) and ret < 0:
                    raise RuntimeError(f"recvAll handler returned {ret}")
            except BaseException:
                self._abort_quietly()
                raise

    def sendAll(self, handler: Callable[[virStream, int, Any], bytes], opaque: Any) -> None:
        """Send everything ``handler(stream, nbytes, opaque)`` produces, until it returns b""."""
        while True:
            try:
                got = handler(self, STREAM_BUF_SIZE, opaque)
            except BaseException:
                self._abort_quietly()
                raise
            if not got:
                break
            self.send(got)

    def sparseRecvAll(
        self,
        handler: Callable[[virStream, bytes, Any], Any],
        holeHandler: Callable[[virStream, int, Any], Any],
        opaque: Any,
    ) -> None:
        """Receive everything, calling ``holeHandler(stream, length, opaque)`` for holes."""
        while True:
            got = self.recvFlags(STREAM_BUF_SIZE, StreamRecvFlags.STOP_AT_HOLE)
            if got == _HOLE:
                length = self.recvHole()
                ret_hole = holeHandler(self, length, opaque)
                if isinstance(ret_hole, int) and ret_hole < 0:
                    self.abort()
                    raise RuntimeError(f"holeHandler handler returned {ret_hole}")
                continue
            if isinstance(got, int):
                raise ValueError(got)
            if not got:
                break
            ret_data = handler(self, got, opaque)
            if isinstance(ret_data, int) and ret_data < 0:
                self.abort()
                raise RuntimeError(f"sparseRecvAll handler returned {ret_data}")

    def sparseSendAll(
        self,
        handler: Callable[[virStream, int, Any], bytes | int],
        holeHandler: Callable[[virStream, Any], Any],
        skipHandler: Callable[[virStream, int, Any], int],
        opaque: Any,
    ) -> None:
        """Send everything, turning sections ``holeHandler`` reports as holes into ``sendHole``."""
        while True:
            in_data, section_len = holeHandler(self, opaque)
            if not in_data and section_len > 0:
                if self.sendHole(section_len) < 0 or skipHandler(self, section_len, opaque) < 0:
                    self.abort()
                continue
            want = min(STREAM_BUF_SIZE, section_len)
            got = handler(self, want, opaque)
            if isinstance(got, int):
                if got < 0:
                    self.abort()
                    raise RuntimeError(f"sparseSendAll handler returned {got}")
                break
            if not got:
                break
            self.send(got)

    def _abort_quietly(self) -> None:
        try:
            self.abort()
        except libvirtError:
            logger.debug("abort after a failed handler failed too", exc_info=True)
