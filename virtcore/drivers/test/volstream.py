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

Streams are dense: the ``SPARSE_STREAM`` flag is accepted and data is sent
without holes.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import TYPE_CHECKING

from virtcore.drivers.test.objxml import VolumeDef
from virtcore.drivers.test.secondary import emit
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.storage import StoragePoolEventID
from virtcore.errors import (
    NoStorageVolError,
    OperationInvalidError,
    VirtError,
)
from virtcore.events import EventKind
from virtcore.objects import StreamBackend

if TYPE_CHECKING:
    from virtcore.drivers.test.state import PoolObj, TestState

__all__ = ["VolumeDownload", "VolumeUpload"]

logger = logging.getLogger(__name__)

_STREAMS = ErrorDomain.STREAMS


class _VolumeStream(StreamBackend):
    """What uploads and downloads share: the volume they move data for, and closing."""

    def __init__(self, state: TestState, pool: str, volume: str, offset: int, length: int) -> None:
        self.state = state
        self.pool = pool
        self.volume = volume
        self.position = offset
        self.end = offset + length if length else None
        self.closed = False

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

    def send(self, data: bytes) -> int:
        """Streams carry data one way; a download accepts none."""
        raise OperationInvalidError("cannot send data to a download stream", domain=_STREAMS)

    def recv(self, nbytes: int) -> bytes:
        """Streams carry data one way; an upload produces none."""
        raise OperationInvalidError("cannot receive data from an upload stream", domain=_STREAMS)

    def finish(self) -> None:
        """Complete the transfer."""
        self._close()

    def abort(self) -> None:
        """Abandon the transfer."""
        self._close()


class VolumeDownload(_VolumeStream):
    """The sending side of ``virStorageVolDownload``."""

    def recv(self, nbytes: int) -> bytes:
        """Up to *nbytes* of the volume; ``b""`` once the range is read."""
        if nbytes < 0:
            raise VirtError("negative read size", code=ErrorNumber.INVALID_ARG, domain=_STREAMS)
        with self.state.lock:
            _, vol = self._target()
            stop = vol.capacity if self.end is None else min(self.end, vol.capacity)
            count = max(min(nbytes, stop - self.position), 0)
            chunk = bytes(vol.content[self.position : self.position + count])
            chunk += bytes(count - len(chunk))
            self.position += count
            return chunk


class VolumeUpload(_VolumeStream):
    """The receiving side of ``virStorageVolUpload``."""

    def send(self, data: bytes) -> int:
        """Write *data* at the current position; returns how much was accepted."""
        with self.state.lock:
            pool, vol = self._target()
            room = len(data) if self.end is None else self.end - self.position
            if room <= 0 and data:
                raise VirtError(
                    f"cannot write to stream: {os.strerror(errno.ENOSPC)}",
                    code=ErrorNumber.SYSTEM_ERROR,
                    domain=_STREAMS,
                )
            chunk = bytes(data[:room])
            start, stop = self.position, self.position + len(chunk)
            if len(vol.content) < stop:
                vol.content.extend(bytes(stop - len(vol.content)))
            vol.content[start:stop] = chunk
            self.position = stop
            vol.capacity = max(vol.capacity, stop)
            if stop > vol.allocation:
                pool.def_.allocation += stop - vol.allocation
                vol.allocation = stop
            return len(chunk)

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
