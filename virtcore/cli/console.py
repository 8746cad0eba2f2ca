"""Attaching the terminal to a guest console, as virsh 9.0's ``start --console`` and
``create --console`` do.

:func:`run_console` follows virsh's ``cmdRunConsole``: the domain must be
running ("The domain is not running"), standard input must be a terminal
("Cannot run interactive console without a controlling TTY"), then
"Connected to domain 'NAME'" and the escape-character line are printed
(unless ``-q``), and the console is opened with ``virDomainOpenConsole``.
A driver without consoles fails there with libvirt's NO_SUPPORT error. Once
open, bytes flow both ways with the terminal in raw mode until the escape
character (``-e``, ``^]`` by default) is typed or the guest side ends the
stream; the terminal's settings are always restored.
"""

from __future__ import annotations

import logging
import os
import select
import termios
import threading
import tty
from collections.abc import Callable
from typing import BinaryIO

from virtcore.cli.context import CommandError, Ctx
from virtcore.enums.domain import DomainState
from virtcore.errors import VirtError
from virtcore.objects import Domain, Stream

__all__ = ["escape_byte", "run_console"]

logger = logging.getLogger(__name__)

_CHUNK = 1024
# How often the terminal loop looks whether the guest side has ended.
_POLL_SECONDS = 0.1
# How long output already on its way from the guest may take to be written after closing.
_DRAIN_SECONDS = 1.0


def escape_byte(escape: str) -> int:
    """The byte the escape sequence *escape* stands for: ``^]`` is Ctrl+], ``x`` is x."""
    if len(escape) == 2 and escape[0] == "^":
        return ord(escape[1].upper()) ^ 0x40
    return ord(escape[0])


def run_console(ctx: Ctx, dom: Domain, dev_name: str | None = None, flags: int = 0) -> None:
    """Attach the terminal to *dom*'s console until the escape character or end of stream.

    Raises :class:`CommandError` with virsh's wording when the console cannot
    be used; libvirt errors from opening it are passed through unchanged.
    """
    try:
        state = dom.state().state
    except VirtError as exc:
        raise CommandError("Unable to get domain status", exc) from exc
    if state == DomainState.SHUTOFF:
        raise CommandError("The domain is not running")
    if not ctx.stdin.isatty():
        raise CommandError("Cannot run interactive console without a controlling TTY")
    ctx.extra(f"Connected to domain '{dom.name}'\n")
    ctx.extra(f"Escape character is {ctx.escape}")
    if ctx.escape.startswith("^"):
        ctx.extra(f" (Ctrl + {ctx.escape[1:2]})")
    ctx.extra("\n")
    ctx.out.flush()
    stream = ctx.conn.new_stream(0)
    dom.open_console(dev_name, stream, flags)
    _copy_both_ways(stream, ctx.stdin.fileno(), _terminal_writer(ctx), escape_byte(ctx.escape))


def _terminal_writer(ctx: Ctx) -> Callable[[bytes], None]:
    """Writes guest bytes to standard output as they are, or decoded for a text-only stream."""
    buffer: BinaryIO | None = getattr(ctx.out, "buffer", None)

    def write(data: bytes) -> None:
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            ctx.out.write(data.decode("utf-8", errors="replace"))
            ctx.out.flush()

    return write


class _GuestToTerminal(threading.Thread):
    """Copies what the guest writes to the terminal until the stream ends or fails."""

    def __init__(self, stream: Stream, write: Callable[[bytes], None]) -> None:
        super().__init__(name="virtcore-console", daemon=True)
        self.stream = stream
        self.write = write
        self.ended = threading.Event()
        self.failure: VirtError | None = None

    def run(self) -> None:
        try:
            while True:
                data = self.stream.recv(_CHUNK)
                if not data:
                    return
                self.write(data)
        except VirtError as exc:
            self.failure = exc
        finally:
            self.ended.set()


def _copy_both_ways(
    stream: Stream, fd_in: int, write: Callable[[bytes], None], escape: int
) -> None:
    reader = _GuestToTerminal(stream, write)
    reader.start()
    saved = termios.tcgetattr(fd_in)
    graceful = True
    try:
        tty.setraw(fd_in)
        while not reader.ended.is_set():
            ready, _, _ = select.select([fd_in], [], [], _POLL_SECONDS)
            if not ready:
                continue
            data = os.read(fd_in, _CHUNK)
            if not data:
                break
            cut = data.find(bytes([escape]))
            if cut >= 0:
                if cut:
                    stream.send(data[:cut])
                break
            stream.send(data)
    except VirtError:
        graceful = False
        raise
    finally:
        termios.tcsetattr(fd_in, termios.TCSAFLUSH, saved)
        _close(stream, graceful and reader.failure is None)
    # Let output the guest sent before the stream closed reach the terminal.
    reader.join(_DRAIN_SECONDS)
    if reader.failure is not None:
        raise reader.failure


def _close(stream: Stream, graceful: bool) -> None:
    try:
        if graceful:
            stream.finish()
        else:
            stream.abort()
    except VirtError:
        logger.debug("console stream did not close cleanly", exc_info=True)
