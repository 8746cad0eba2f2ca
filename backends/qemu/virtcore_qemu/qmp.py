"""A small synchronous QMP client: QEMU's JSON monitor over a UNIX socket.

QEMU listens on the monitor socket (``-chardev socket,server=on,wait=off``);
the driver connects, so a guest keeps running — and can be reconnected to by a
later process — whatever happens to the process that started it.

Contract:

* :meth:`QMPClient.connect` opens the socket (retrying while QEMU has not yet
  created it, up to *timeout*), reads the greeting and negotiates capabilities.
* :meth:`QMPClient.execute` sends one command and waits for its reply, matched
  by ``id``, so any number of threads may call it at once. A QMP ``error``
  reply raises :class:`QMPCommandError` (``VIR_ERR_INTERNAL_ERROR``, libvirt's
  "unable to execute QEMU command" text); a closed monitor raises
  :class:`MonitorClosedError` (``VIR_ERR_OPERATION_FAILED``); a reply slower
  than the timeout raises :class:`~virtcore.errors.OperationTimeoutError`.
  File descriptors go along with a command as ``SCM_RIGHTS`` (``getfd``,
  ``add-fd``).
* Events are delivered in order, on a dedicated thread, to the handler given
  to :meth:`connect` — never on the reader thread, so a handler may itself
  call :meth:`execute`.
* When QEMU closes the socket every pending call fails with
  :class:`MonitorClosedError`, then *on_eof* runs once (after the last event).

The client imports nothing outside the standard library and virtcore's errors.
"""

from __future__ import annotations

import array
import contextlib
import itertools
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InternalError,
    OperationFailedError,
    OperationTimeoutError,
    SystemCallError,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MonitorClosedError",
    "QMPClient",
    "QMPCommandError",
    "QMPEvent",
]

log = logging.getLogger(__name__)

#: Seconds a command may take before :class:`OperationTimeoutError`.
DEFAULT_TIMEOUT = 30.0

#: A greeting bigger than this is not QEMU's; replies may be large (schemas).
_MAX_LINE = 64 * 1024 * 1024


@dataclass(frozen=True)
class QMPEvent:
    """One asynchronous QMP event (``{"event": ..., "data": ..., "timestamp": ...}``)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    timestamp: float = 0.0


class QMPCommandError(InternalError):
    """QEMU answered a command with an ``error`` object.

    ``error_class`` is QMP's class (``GenericError``, ``DeviceNotFound``...) and
    ``desc`` its human-readable text.
    """

    def __init__(self, command: str, error_class: str, desc: str) -> None:
        super().__init__(
            f"unable to execute QEMU command '{command}': {desc}", domain=ErrorDomain.QEMU
        )
        self.command = command
        self.error_class = error_class
        self.desc = desc


class MonitorClosedError(OperationFailedError):
    """The monitor connection is gone (QEMU exited or closed it)."""

    def __init__(self, detail: str = "domain is no longer running") -> None:
        super().__init__(detail, domain=ErrorDomain.QEMU)


EventHandler = Callable[[QMPEvent], None]


class _Pending:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] | None = None


class QMPClient:
    """A connected, negotiated QMP session; build it with :meth:`connect`."""

    def __init__(
        self,
        sock: socket.socket,
        greeting: dict[str, Any],
        *,
        name: str,
        on_event: EventHandler | None,
        on_eof: Callable[[], None] | None,
    ) -> None:
        self._sock = sock
        self._file: Any = None
        self._name = name
        self.greeting = greeting
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._closed = threading.Event()
        self._on_event = on_event
        self._on_eof = on_eof
        self._events: queue.SimpleQueue[QMPEvent | None] = queue.SimpleQueue()
        self._reader = threading.Thread(
            target=self._read_loop, name=f"qmp-read-{name}", daemon=True
        )
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name=f"qmp-events-{name}", daemon=True
        )

    # -- construction -----------------------------------------------------

    @classmethod
    def connect(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str = "qemu",
        timeout: float = DEFAULT_TIMEOUT,
        on_event: EventHandler | None = None,
        on_eof: Callable[[], None] | None = None,
        alive: Callable[[], bool] | None = None,
    ) -> QMPClient:
        """Connect to the monitor at *path* and negotiate capabilities.

        While the socket does not exist yet (QEMU still starting) the connect is
        retried until *timeout*; *alive*, if given, is asked between tries so a
        QEMU that died early fails fast instead of waiting out the timeout.
        """
        deadline = time.monotonic() + timeout
        path = os.fspath(path)
        delay = 0.001
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                sock.close()
                if alive is not None and not alive():
                    raise MonitorClosedError(
                        "QEMU exited before its monitor socket became available"
                    ) from exc
                if time.monotonic() >= deadline:
                    raise OperationTimeoutError(
                        f"connecting to monitor socket '{path}'", domain=ErrorDomain.QEMU
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
            except OSError as exc:
                sock.close()
                raise SystemCallError.from_os_error(
                    f"failed to connect to monitor socket '{path}'", exc
                ) from exc
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            reader = sock.makefile("rb")
            greeting = _read_message(reader)
            if greeting is None or "QMP" not in greeting:
                raise InternalError(
                    f"unexpected greeting on monitor socket '{path}'", domain=ErrorDomain.QEMU
                )
            sock.sendall(b'{"execute":"qmp_capabilities","id":"caps"}\n')
            while True:
                reply = _read_message(reader)
                if reply is None:
                    raise MonitorClosedError("End of file from qemu monitor")
                if reply.get("id") == "caps":
                    break
            if "error" in reply:
                err = reply["error"]
                raise QMPCommandError("qmp_capabilities", err.get("class", ""), err.get("desc", ""))
            sock.settimeout(None)
        except TimeoutError as exc:
            sock.close()
            raise OperationTimeoutError(
                f"waiting for the QMP greeting on '{path}'", domain=ErrorDomain.QEMU
            ) from exc
        except BaseException:
            sock.close()
            raise
        # The buffered reader may already hold bytes past the negotiation
        # reply (an early event): the read loop carries on with it.
        client = cls(sock, greeting, name=name, on_event=on_event, on_eof=on_eof)
        client._file = reader
        client._reader.start()
        client._dispatcher.start()
        return client

    # -- commands ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the monitor connection is gone."""
        return self._closed.is_set()

    @property
    def version(self) -> tuple[int, int, int]:
        """QEMU's (major, minor, micro) from the greeting."""
        qemu = self.greeting.get("QMP", {}).get("version", {}).get("qemu", {})
        return (int(qemu.get("major", 0)), int(qemu.get("minor", 0)), int(qemu.get("micro", 0)))

    def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        fds: Sequence[int] = (),
    ) -> Any:
        """Run *command* and return its ``return`` value."""
        if self._closed.is_set():
            raise MonitorClosedError()
        cmd_id = f"{self._name}-{next(self._ids)}"
        msg: dict[str, Any] = {"execute": command, "id": cmd_id}
        if arguments:
            msg["arguments"] = arguments
        data = json.dumps(msg, separators=(",", ":")).encode() + b"\n"
        pending = _Pending()
        with self._pending_lock:
            self._pending[cmd_id] = pending
        try:
            with self._send_lock:
                try:
                    if fds:
                        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                        sent = self._sock.sendmsg([data], anc)
                        if sent < len(data):
                            self._sock.sendall(data[sent:])
                    else:
                        self._sock.sendall(data)
                except OSError as exc:
                    raise MonitorClosedError() from exc
            if not pending.done.wait(timeout):
                raise OperationTimeoutError(
                    f"waiting for QEMU to answer '{command}'", domain=ErrorDomain.QEMU
                )
        finally:
            with self._pending_lock:
                self._pending.pop(cmd_id, None)
        reply = pending.reply
        if reply is None:
            raise MonitorClosedError()
        if "error" in reply:
            err = reply["error"]
            raise QMPCommandError(command, str(err.get("class", "")), str(err.get("desc", "")))
        return reply.get("return")

    def close(self) -> None:
        """Close the connection (QEMU keeps running); pending calls fail."""
        if self._closed.is_set():
            return
        with contextlib.suppress(OSError):  # already disconnected by the peer
            self._sock.shutdown(socket.SHUT_RDWR)
        if threading.current_thread() is not self._reader:
            self._reader.join(5.0)

    def __enter__(self) -> QMPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- threads ----------------------------------------------------------

    def _read_loop(self) -> None:
        reader = self._file if self._file is not None else self._sock.makefile("rb")
        try:
            while True:
                try:
                    msg = _read_message(reader)
                except (OSError, ValueError) as exc:
                    log.debug("monitor %s: read failed: %s", self._name, exc)
                    msg = None
                if msg is None:
                    break
                if "event" in msg:
                    ts = msg.get("timestamp", {})
                    stamp = float(ts.get("seconds", 0)) + float(ts.get("microseconds", 0)) / 1e6
                    self._events.put(QMPEvent(str(msg["event"]), msg.get("data") or {}, stamp))
                    continue
                with self._pending_lock:
                    pending = self._pending.get(str(msg.get("id")))
                if pending is None:
                    log.debug("monitor %s: unmatched reply %r", self._name, msg)
                    continue
                pending.reply = msg
                pending.done.set()
        finally:
            self._closed.set()
            reader.close()
            self._sock.close()
            with self._pending_lock:
                waiting = list(self._pending.values())
            for pending in waiting:
                pending.done.set()
            self._events.put(None)

    def _dispatch_loop(self) -> None:
        while True:
            event = self._events.get()
            if event is None:
                break
            if self._on_event is None:
                continue
            try:
                self._on_event(event)
            except Exception:
                log.exception("monitor %s: event handler failed for %s", self._name, event.name)
        if self._on_eof is not None:
            try:
                self._on_eof()
            except Exception:
                log.exception("monitor %s: EOF handler failed", self._name)


def _read_message(reader: Any) -> dict[str, Any] | None:
    """The next JSON object from *reader*, or None at end of file."""
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            return None
        line = line.strip()
        if not line:
            continue
        value = json.loads(line)
        if not isinstance(value, dict):
            raise ValueError(f"QMP message is not an object: {line[:80]!r}")
        return value
