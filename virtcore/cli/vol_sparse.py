"""The local-file ends of ``vol-upload`` and ``vol-download``, holes included.

virsh 9.0 moves volume data with libvirt's stream helpers and its own
callbacks (``virshStreamSource``, ``virshStreamInData``,
``virshStreamSourceSkip``, ``virshStreamSink``, ``virshStreamSkip``); this
module is their counterpart on virtcore's native
:class:`~virtcore.objects.Stream`:

* :func:`upload_file` is ``virStreamSendAll`` (every byte of the local file
  is sent) or, with ``sparse``, ``virStreamSparseSendAll``: the local file's
  data and hole sections are found with ``SEEK_DATA``/``SEEK_HOLE`` (as
  libvirt's ``virFileInData`` does), data is sent and each hole becomes one
  ``send_hole`` call, so the volume gets a hole where the file has one. A
  block device has no holes: it is read as data to its end.
* :func:`download_file` with ``sparse`` is ``virStreamSparseRecvAll``:
  ``recv_flags(STOP_AT_HOLE)`` yields data, which is written, or -3, after
  which ``recv_hole`` gives the hole's length and the local file is extended
  past it with ``lseek`` + ``ftruncate``, so it stays sparse; on a block
  device zeros are written instead, since its unwritten blocks do not read
  as zeros. Without ``sparse`` the stream is read with plain ``recv`` and
  every byte is written: a dense copy (virsh reaches the same result with
  ``virStreamSparseRecvAll`` on a stream that never reports a hole).

Every byte moved, data or hole, is reported to the
:class:`~virtcore.cli.progress.TransferProgress`, so the percentage follows
the position in the file. When the transfer fails the stream is aborted (so
the driver releases the volume) and the error propagates: the stream's own
:class:`~virtcore.errors.VirtError`, or a
:class:`~virtcore.errors.SystemCallError` naming the local file and the
system error (where virsh, which loses the cause, prints "An error occurred,
but the cause is unknown").
"""

from __future__ import annotations

import errno
import logging
import os
import stat

from virtcore.cli.context import CommandError
from virtcore.cli.progress import TransferProgress
from virtcore.enums.stream import StreamRecvFlags
from virtcore.errors import InternalError, SystemCallError, VirtError
from virtcore.objects import Stream

__all__ = ["STREAM_CHUNK", "LocalFile", "abort_quietly", "download_file", "upload_file"]

logger = logging.getLogger(__name__)

STREAM_CHUNK = 262120
"""Bytes per stream call: libvirt's ``VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX``, its helpers' chunk."""

_HOLE = -3
_BLOCK_SECTION = 1024 * 1024
_ZEROS = bytes(1024 * 1024)


class LocalFile:
    """The local file of a transfer: its descriptor, path and whether it is a block device."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self.fd = fd
        try:
            info = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            raise CommandError(f"unable to stat {path}") from exc
        self.is_block = stat.S_ISBLK(info.st_mode)
        self.size = info.st_size
        self.closed = False

    @classmethod
    def open_source(cls, path: str) -> LocalFile:
        """The file ``vol-upload`` reads, with virsh's message when it cannot be opened."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise CommandError(f"cannot read {path}") from exc
        return cls(path, fd)

    @classmethod
    def open_target(cls, path: str) -> tuple[LocalFile, bool]:
        """The file ``vol-download`` writes, and whether this call created it.

        Like virsh: create it exclusively, else truncate the existing one
        (so a failed download removes only a file it created).
        """
        flags = os.O_WRONLY | os.O_CLOEXEC
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise CommandError(f"cannot create {path}") from exc
        else:
            return cls(path, fd), True
        try:
            fd = os.open(path, flags | os.O_TRUNC)
        except OSError as exc:
            raise CommandError(f"cannot create {path}") from exc
        return cls(path, fd), False

    def close(self) -> None:
        """Close the descriptor; virsh's "cannot close file" when that fails (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            os.close(self.fd)
        except OSError as exc:
            raise CommandError(f"cannot close file {self.path}") from exc

    def _failure(self, what: str, exc: OSError) -> SystemCallError:
        return SystemCallError.from_os_error(f"{what} '{self.path}'", exc)

    def read(self, nbytes: int) -> bytes:
        """Up to *nbytes* from the position (``virshStreamSource``); ``b""`` at the end."""
        try:
            return os.read(self.fd, nbytes)
        except OSError as exc:
            raise self._failure("unable to read from", exc) from exc

    def write(self, data: bytes) -> None:
        """All of *data* at the position (``virshStreamSink``)."""
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            raise self._failure("unable to write to", exc) from exc

    def section(self) -> tuple[bool, int]:
        """``(in_data, length)`` of the section at the position (``virshStreamInData``).

        At the end of the file: ``(False, 0)``. A trailing hole is reported
        up to the end of the file. The position is left unchanged.
        """
        if self.is_block:
            # Always data; the length is only a bound, reading stops at the end anyway.
            return True, _BLOCK_SECTION
        try:
            here = os.lseek(self.fd, 0, os.SEEK_CUR)
        except OSError as exc:
            raise self._failure("unable to get current position in", exc) from exc
        try:
            return self._section_at(here)
        finally:
            try:
                os.lseek(self.fd, here, os.SEEK_SET)
            except OSError as exc:
                raise self._failure("unable to restore position in", exc) from exc

    def _section_at(self, here: int) -> tuple[bool, int]:
        try:
            data = os.lseek(self.fd, here, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise self._failure("unable to seek to data in", exc) from exc
            # No data from here on: a trailing hole, or the end itself.
            try:
                end = os.lseek(self.fd, 0, os.SEEK_END)
            except OSError as end_exc:
                raise self._failure("unable to seek to the end of", end_exc) from end_exc
            return False, max(end - here, 0)
        if data > here:
            return False, data - here
        try:
            hole = os.lseek(self.fd, data, os.SEEK_HOLE)
        except OSError as exc:
            raise self._failure("unable to seek to hole in", exc) from exc
        return True, hole - data

    def skip_source(self, length: int) -> None:
        """Move past a hole the upload sent as a hole (``virshStreamSourceSkip``)."""
        try:
            os.lseek(self.fd, length, os.SEEK_CUR)
        except OSError as exc:
            raise self._failure("unable to skip hole in", exc) from exc

    def skip_target(self, length: int) -> None:
        """Leave a hole of *length* bytes at the position (``virshStreamSkip``)."""
        if self.is_block:
            while length:
                count = min(length, len(_ZEROS))
                self.write(_ZEROS[:count])
                length -= count
            return
        try:
            end = os.lseek(self.fd, length, os.SEEK_CUR)
            os.ftruncate(self.fd, end)
        except OSError as exc:
            raise self._failure("unable to leave a hole in", exc) from exc


def abort_quietly(stream: Stream) -> None:
    """Abort *stream* after a failure, keeping that failure the one reported."""
    try:
        stream.abort()
    except VirtError:
        logger.debug("aborting the stream after a failed transfer failed too", exc_info=True)


def _send(stream: Stream, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[stream.send(bytes(view)) :]


def upload_file(stream: Stream, local: LocalFile, sparse: bool, progress: TransferProgress) -> None:
    """Send the rest of *local* through *stream*; holes become holes when *sparse*."""
    try:
        if sparse:
            _send_sparse(stream, local, progress)
            return
        while chunk := local.read(STREAM_CHUNK):
            _send(stream, chunk)
            progress.advance(len(chunk))
    except BaseException:
        abort_quietly(stream)
        raise


def _send_sparse(stream: Stream, local: LocalFile, progress: TransferProgress) -> None:
    pending = 0  # bytes left in the data section being sent
    while True:
        if not pending:
            in_data, length = local.section()
            if not in_data and length:
                stream.send_hole(length, 0)
                local.skip_source(length)
                progress.advance(length)
                continue
            pending = length
        chunk = local.read(min(STREAM_CHUNK, pending))
        if not chunk:
            return
        _send(stream, chunk)
        # A block device's section is only a bound: never let it go negative.
        pending = max(pending - len(chunk), 0)
        progress.advance(len(chunk))


def download_file(
    stream: Stream, local: LocalFile, sparse: bool, progress: TransferProgress
) -> None:
    """Write everything *stream* yields into *local*; holes stay holes when *sparse*."""
    try:
        while True:
            if sparse:
                got = stream.recv_flags(STREAM_CHUNK, int(StreamRecvFlags.STOP_AT_HOLE))
                if isinstance(got, int):
                    if got != _HOLE:
                        raise InternalError(f"unexpected stream receive result {got}")
                    length = stream.recv_hole(0)
                    local.skip_target(length)
                    progress.advance(length)
                    continue
            else:
                got = stream.recv(STREAM_CHUNK)
            if not got:
                return
            local.write(got)
            progress.advance(len(got))
    except BaseException:
        abort_quietly(stream)
        raise
