"""Volume upload and download streams of the host storage driver (libvirt's fd streams).

``virStorageVolDownload`` binds a :class:`FileDownload` reading the volume's
file from *offset* for *length* bytes (0: to the end of the file);
``virStorageVolUpload`` binds a :class:`FileUpload` writing into the
existing file from *offset*, at most *length* bytes (0: unlimited). A write
past the limit fails as libvirt's fd stream does ("cannot write to stream:
No space left on device") after accepting what fits.

With the ``SPARSE_STREAM`` flag the streams are sparse, as libvirt's are:

* a download finds the file's data and holes with ``SEEK_DATA``/``SEEK_HOLE``;
  ``recv_flags(n, STOP_AT_HOLE)`` returns ``-3`` when positioned at a hole and
  :meth:`FileDownload.recv_hole` then reports (and skips) its length; plain
  ``recv`` expands holes into zeros;
* an upload's ``send_hole(length)`` leaves a hole: the range is deallocated
  (``fallocate(PUNCH_HOLE)``, zeros written where the file system cannot
  punch) and the file grows when the hole ends past its end, so a sparse
  image stays sparse and old data under a hole never shows through.

Without the flag the hole calls fail with ``VIR_ERR_NO_SUPPORT`` like a plain
fd stream's. Closing an upload (finish or abort) calls the driver back so it
refreshes the pool, which emits the pool's ``REFRESH`` event as libvirt's
refresh thread does. A stream that was finished or aborted refuses further use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import threading
from collections.abc import Callable

from virtcore.drivers.storagecommon import OneWayStream, window_room
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.stream import StreamRecvFlags
from virtcore.errors import InvalidArgError, OperationInvalidError, SystemCallError, VirtError

__all__ = ["FileDownload", "FileUpload"]

logger = logging.getLogger(__name__)

_STREAMS = ErrorDomain.STREAMS
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_ZEROS = bytes(1024 * 1024)


def _libc_fallocate() -> Callable[[int, int, int, int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    func = libc.fallocate
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
    func.restype = ctypes.c_int
    result: Callable[[int, int, int, int], int] = func
    return result


_fallocate = _libc_fallocate()


def _open(path: str, flags: int) -> int:
    try:
        return os.open(path, flags | os.O_CLOEXEC)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Unable to open stream for '{path}'", exc) from exc


class _FileStream(OneWayStream):
    """What both directions share: the open file and closing it."""

    def __init__(self, path: str, offset: int, length: int, sparse: bool, flags: int) -> None:
        super().__init__(offset, length, sparse)
        self.path = path
        self.fd = _open(path, flags)
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self.closed:
            raise OperationInvalidError("stream is not open", domain=_STREAMS)

    def _close(self) -> None:
        with self._lock:
            self._check()
            self.closed = True
            os.close(self.fd)


class FileDownload(_FileStream):
    """The sending side of ``virStorageVolDownload``."""

    def __init__(self, path: str, offset: int, length: int, sparse: bool) -> None:
        super().__init__(path, offset, length, sparse, os.O_RDONLY)

    def _stop(self) -> int:
        size = os.fstat(self.fd).st_size
        return size if self.end is None else min(self.end, size)

    def _hole_at(self, stop: int) -> int:
        """Length of the hole starting at the position (0 when data comes first)."""
        try:
            data = os.lseek(self.fd, self.position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole up to the end of the file
                return max(stop - self.position, 0)
            if exc.errno == errno.EINVAL:  # no SEEK_DATA here: all data
                return 0
            raise SystemCallError.from_os_error(
                f"unable to seek in '{self.path}'", exc, domain=_STREAMS
            ) from exc
        return max(min(data, stop) - self.position, 0)

    def _data_end(self, stop: int) -> int:
        try:
            hole = os.lseek(self.fd, self.position, os.SEEK_HOLE)
        except OSError:
            return stop
        return min(hole, stop)

    def _read(self, nbytes: int, stop: int) -> bytes:
        count = max(min(nbytes, stop - self.position), 0)
        if count == 0:
            return b""
        try:
            chunk = os.pread(self.fd, count, self.position)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"unable to read from '{self.path}'", exc, domain=_STREAMS
            ) from exc
        self.position += len(chunk)
        return chunk

    def recv(self, nbytes: int) -> bytes:
        """Up to *nbytes* of the volume (holes read as zeros); ``b""`` at the end."""
        if nbytes < 0:
            raise VirtError("negative read size", code=ErrorNumber.INVALID_ARG, domain=_STREAMS)
        with self._lock:
            self._check()
            return self._read(nbytes, self._stop())

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        """Like :meth:`recv`; with ``STOP_AT_HOLE`` returns -3 at a hole and stops before one."""
        if not self.sparse:
            raise NotImplementedError
        if flags & ~int(StreamRecvFlags.STOP_AT_HOLE):
            text = f"unsupported flags ({flags & ~1:#x}) in function virStreamRecvFlags"
            raise InvalidArgError(text, message=text, domain=_STREAMS)
        with self._lock:
            self._check()
            stop = self._stop()
            if not flags & StreamRecvFlags.STOP_AT_HOLE:
                return self._read(nbytes, stop)
            if self.position < stop and self._hole_at(stop) > 0:
                return -3
            return self._read(nbytes, self._data_end(stop))

    def recv_hole(self, flags: int) -> int:
        """The length of the hole at the position, which the stream then skips."""
        if not self.sparse:
            raise NotImplementedError
        with self._lock:
            self._check()
            length = self._hole_at(self._stop())
            self.position += length
            return length


class FileUpload(_FileStream):
    """The receiving side of ``virStorageVolUpload``."""

    def __init__(
        self,
        path: str,
        offset: int,
        length: int,
        sparse: bool,
        on_close: Callable[[], None],
    ) -> None:
        # Not O_CREAT: the volume's file must exist, as libvirt requires.
        super().__init__(path, offset, length, sparse, os.O_WRONLY)
        self._on_close = on_close

    def send(self, data: bytes) -> int:
        """Write *data* at the position; returns how much was accepted."""
        with self._lock:
            self._check()
            count = window_room(self.end, self.position, len(data))
            view = memoryview(data)[:count]
            try:
                while view:
                    written = os.pwrite(self.fd, view, self.position)
                    view = view[written:]
                    self.position += written
            except OSError as exc:
                raise SystemCallError.from_os_error(
                    "cannot write to stream", exc, domain=_STREAMS
                ) from exc
            return count

    def send_hole(self, length: int, flags: int) -> None:
        """Leave a hole of *length* bytes at the position."""
        if not self.sparse:
            raise NotImplementedError
        if length < 0:
            raise InvalidArgError("Invalid hole length", domain=_STREAMS)
        with self._lock:
            self._check()
            length = window_room(self.end, self.position, length)
            start, stop = self.position, self.position + length
            try:
                size = os.fstat(self.fd).st_size
                if start < size:
                    self._deallocate(start, min(stop, size) - start)
                if stop > size:
                    os.ftruncate(self.fd, stop)
            except OSError as exc:
                raise SystemCallError.from_os_error("unable to seek", exc, domain=_STREAMS) from exc
            self.position = stop

    def _deallocate(self, start: int, length: int) -> None:
        if _fallocate is not None:
            mode = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
            if _fallocate(self.fd, mode, start, length) == 0:
                return
            logger.debug(
                "cannot punch a hole in '%s': %s", self.path, os.strerror(ctypes.get_errno())
            )
        offset = start
        while offset < start + length:
            chunk = min(len(_ZEROS), start + length - offset)
            offset += os.pwrite(self.fd, _ZEROS[:chunk], offset)

    def _sync_and_close(self) -> None:
        with self._lock:
            self._check()
            self.closed = True
            try:
                os.fsync(self.fd)
            except OSError as exc:
                logger.warning("cannot sync '%s': %s", self.path, exc.strerror)
            finally:
                os.close(self.fd)
        self._on_close()

    def finish(self) -> None:
        """Complete the upload; the pool is refreshed."""
        self._sync_and_close()
        logger.debug("upload to '%s' finished", self.path)

    def abort(self) -> None:
        """Abandon the upload (what was written stays); the pool is refreshed."""
        self._sync_and_close()
