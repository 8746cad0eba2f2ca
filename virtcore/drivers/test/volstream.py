"""Volume upload and download streams of the test driver, as libvirt's storage driver runs them.

libvirt's test driver has no ``virStorageVolUpload``/``virStorageVolDownload``;
these follow the storage driver with a file-backed ("dir") pool, where the
transfer is an fd stream on the volume's file:

* a download reads the volume from *offset* for *length* bytes (0: to the
  end of its capacity); never-written parts read as zeros;
* an upload writes from *offset*, at most *length* bytes (0: unlimited); a
  write past the limit fails like the fd stream (``cannot write to stream:
  No space left on device``) after accepting what fits; writing past the
  capacity grows the volume, as it grows a raw file, and the pool's
  allocation follows;
* closing an upload (finish or abort) refreshes the pool, which emits the
  pool's ``REFRESH`` event;
* a stream that was finished or aborted refuses further use, and a transfer
  whose pool stopped or whose volume was deleted fails on its next call.

With ``VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM`` / ``..._UPLOAD_SPARSE_STREAM``
holes travel as holes, with the semantics a libvirt client sees on a sparse
volume stream:

* a sparse download is a sequence of data and hole sections: the volume's
  holes (:attr:`~virtcore.drivers.test.objxml.VolumeDef.holes`) and its
  never-written tail are holes. ``recv_flags`` with ``STOP_AT_HOLE`` returns
  -3 at a hole, and ``recv_hole`` then reports (and skips) the hole's length;
  a plain ``recv`` at a hole returns that many zeros instead. A receive never
  crosses from one section into the next;
* ``send_hole`` on a sparse upload does what the file stream does: seek
  forward by the length (clipped to the upload's window) and truncate the
  volume there, so the skipped part beyond the old end becomes a hole and
  anything after the new end is cut off;
* on dense streams the hole calls are not supported (``VIR_ERR_NO_SUPPORT``),
  as on a local file stream.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from virtcore.drivers.storagecommon import OneWayStream, window_room
from virtcore.drivers.test.objxml import VolumeDef
from virtcore.drivers.test.secondary import emit
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.storage import StoragePoolEventID
from virtcore.errors import (
    InvalidArgError,
    NoStorageVolError,
    OperationInvalidError,
    VirtError,
)
from virtcore.events import EventKind

if TYPE_CHECKING:
    from virtcore.drivers.test.state import PoolObj, TestState

__all__ = ["VolumeDownload", "VolumeUpload", "cut_holes", "fill_holes", "section_at"]

logger = logging.getLogger(__name__)

_STREAMS = ErrorDomain.STREAMS


_STOP_AT_HOLE = 1  # VIR_STREAM_RECV_STOP_AT_HOLE
_AT_HOLE = -3  # what virStreamRecvFlags returns at a hole


def _refuse_flags(flags: int, supported: int, function: str) -> None:
    extra = flags & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=_STREAMS)


def fill_holes(vol: VolumeDef, start: int, stop: int) -> None:
    """Data was written to ``[start, stop)``: no hole remains there."""
    kept: list[tuple[int, int]] = []
    for low, high in vol.holes:
        if high <= start or low >= stop:
            kept.append((low, high))
            continue
        if low < start:
            kept.append((low, start))
        if high > stop:
            kept.append((stop, high))
    vol.holes = kept


def cut_holes(vol: VolumeDef, size: int) -> None:
    """The volume's content now ends at *size*: forget the holes past it."""
    vol.holes = [(low, min(high, size)) for low, high in vol.holes if low < size]


def section_at(vol: VolumeDef, position: int, stop: int) -> tuple[bool, int]:
    """``(in data, length)`` of the section of *vol* at *position*, up to *stop*."""
    for low, high in vol.holes:
        if low <= position < high:
            return False, min(high, stop) - position
        if low > position:
            if position >= len(vol.content):
                break
            return True, min(low, len(vol.content), stop) - position
    if position >= len(vol.content):
        return False, stop - position
    return True, min(len(vol.content), stop) - position


class _VolumeStream(OneWayStream):
    """What uploads and downloads share: the volume they move data for, and closing."""

    def __init__(  # noqa: PLR0917 - the transfer's whole description
        self,
        state: TestState,
        pool: str,
        volume: str,
        offset: int,
        length: int,
        sparse: bool = False,
    ) -> None:
        super().__init__(offset, length, sparse)
        self.state = state
        self.pool = pool
        self.volume = volume

    def _target(self) -> tuple[PoolObj, VolumeDef]:
        """The pool and volume, still there and usable; call under the host lock."""
        if self.closed:
            raise OperationInvalidError("stream is not open", domain=_STREAMS)
        pool = self.state.pools.get(self.pool)
        if pool is None or not pool.active:
            raise OperationInvalidError(
                f"storage pool '{self.pool}' is not active", domain=_STREAMS
            )
        vol = pool.volumes.get(self.volume)
        if vol is None:
            raise NoStorageVolError(
                f"no storage vol with matching name '{self.volume}'", domain=_STREAMS
            )
        return pool, vol

    def _close(self) -> None:
        with self.state.lock:
            if self.closed:
                raise OperationInvalidError("stream is not open", domain=_STREAMS)
            self.closed = True


class VolumeDownload(_VolumeStream):
    """The sending side of ``virStorageVolDownload``."""

    def _stop(self, vol: VolumeDef) -> int:
        return vol.capacity if self.end is None else min(self.end, vol.capacity)

    def recv(self, nbytes: int) -> bytes:
        """Up to *nbytes* of the volume; ``b""`` once the range is read."""
        chunk = self.recv_flags(nbytes, 0) if self.sparse else self._recv(nbytes)
        assert isinstance(chunk, bytes)
        return chunk

    def _recv(self, nbytes: int) -> bytes:
        if nbytes < 0:
            raise VirtError("negative read size", code=ErrorNumber.INVALID_ARG, domain=_STREAMS)
        with self.state.lock:
            _, vol = self._target()
            count = max(min(nbytes, self._stop(vol) - self.position), 0)
            chunk = bytes(vol.content[self.position : self.position + count])
            chunk += bytes(count - len(chunk))
            self.position += count
            return chunk

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        """Up to *nbytes* of the current section; -3 at a hole with ``STOP_AT_HOLE``."""
        if not self.sparse:
            raise NotImplementedError
        _refuse_flags(flags, _STOP_AT_HOLE, "virNetClientStreamRecvPacket")
        if nbytes < 0:
            raise VirtError("negative read size", code=ErrorNumber.INVALID_ARG, domain=_STREAMS)
        with self.state.lock:
            _, vol = self._target()
            stop = self._stop(vol)
            if self.position >= stop:
                return b""
            in_data, length = section_at(vol, self.position, stop)
            if not in_data and flags & _STOP_AT_HOLE:
                return _AT_HOLE
            count = min(nbytes, length)
            chunk = bytes(vol.content[self.position : self.position + count]) if in_data else b""
            chunk += bytes(count - len(chunk))
            self.position += count
            return chunk

    def recv_hole(self, flags: int) -> int:
        """The length of the hole at the current position (0 in data), which is then skipped."""
        if not self.sparse:
            raise NotImplementedError
        _refuse_flags(flags, 0, "virStreamRecvHole")
        with self.state.lock:
            _, vol = self._target()
            stop = self._stop(vol)
            if self.position >= stop:
                return 0
            in_data, length = section_at(vol, self.position, stop)
            if in_data:
                return 0
            self.position += length
            return length


class VolumeUpload(_VolumeStream):
    """The receiving side of ``virStorageVolUpload``."""

    def send(self, data: bytes) -> int:
        """Write *data* at the current position; returns how much was accepted."""
        with self.state.lock:
            pool, vol = self._target()
            chunk = bytes(data[: window_room(self.end, self.position, len(data))])
            start, stop = self.position, self.position + len(chunk)
            if len(vol.content) < stop:
                vol.content.extend(bytes(stop - len(vol.content)))
            vol.content[start:stop] = chunk
            fill_holes(vol, start, stop)
            self.position = stop
            vol.capacity = max(vol.capacity, stop)
            if stop > vol.allocation:
                pool.def_.allocation += stop - vol.allocation
                vol.allocation = stop
            return len(chunk)

    def send_hole(self, length: int, flags: int) -> None:
        """Skip *length* bytes and truncate the volume there, as the file stream does."""
        if not self.sparse:
            raise NotImplementedError
        _refuse_flags(flags, 0, "virFDStreamSendHole")
        if length <= 0:
            text = "length in virFDStreamSendHole must be greater than zero"
            raise InvalidArgError(text, message=text, domain=_STREAMS)
        with self.state.lock:
            pool, vol = self._target()
            if self.end is not None:
                length = min(length, self.end - self.position)
            size = self.position + length
            old_size = len(vol.content)
            if size < old_size:
                del vol.content[size:]
                cut_holes(vol, size)
            elif size > old_size:
                vol.content.extend(bytes(size - old_size))
                if vol.holes and vol.holes[-1][1] == old_size:
                    vol.holes[-1] = (vol.holes[-1][0], size)  # one hole, as SEEK_HOLE sees it
                else:
                    vol.holes.append((old_size, size))
            self.position = size
            # ftruncate() makes the file exactly this long: the volume's capacity follows.
            vol.capacity = size
            if vol.allocation > size:
                pool.def_.allocation -= vol.allocation - size
                vol.allocation = size

    def _refresh(self) -> None:
        with self.state.lock:
            pool = self.state.pools.get(self.pool)
            if pool is not None and pool.active:
                emit(
                    self.state,
                    EventKind.STORAGE_POOL,
                    StoragePoolEventID.REFRESH,
                    pool.def_.name,
                    pool.def_.uuid,
                )

    def finish(self) -> None:
        """Complete the upload; the pool is refreshed."""
        self._close()
        self._refresh()
        logger.debug("upload to %s/%s finished", self.pool, self.volume)

    def abort(self) -> None:
        """Abandon the upload (what was written stays); the pool is refreshed."""
        self._close()
        self._refresh()
