"""Wiping volumes (``virStorageVolWipe``/``virStorageVolWipePattern``) of file pools.

``ZERO`` is libvirt's ``storageBackendVolWipeLocalFile``: a sparse file is
truncated to nothing and back to its size (the kernel then reads zeros);
any other volume has its allocation overwritten with zeros from the start,
in blocks of the file system's preferred size, and is synced.

libvirt runs the external ``scrub`` program for every other algorithm
(``scrub -f -p <alg> <path>``) and fails when it is not installed. virtcore
writes the same pass sequences itself, over the whole file, syncing after
each pass, so no extra program is needed:

========== =====================================================================
nnsa       random, random, 0x00
dod        random, 0x00, 0xff
bsi        0xff, 0xfe, 0xfd, 0xfb, 0xf7, 0xef, 0xdf, 0xbf, 0x7f
gutmann    4 random, the 27 fixed patterns of Gutmann's paper, 4 random
schneier   0x00, 0xff, 5 random
pfitzner7  7 random
pfitzner33 33 random
random     1 random
========== =====================================================================

``TRIM`` is refused as libvirt refuses it for files.
"""

from __future__ import annotations

import logging
import os
import stat

from virtcore.drivers.storage.common import open_fd, os_call
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.storage import StorageVolWipeAlgorithm as Alg
from virtcore.errors import ArgumentUnsupportedError, InvalidArgError, SystemCallError

__all__ = ["PASSES", "wipe_file"]

logger = logging.getLogger(__name__)

_STORAGE = ErrorDomain.STORAGE
_CHUNK = 1024 * 1024

_RANDOM: bytes = b""
"""A pass marker: fresh random data rather than a fixed pattern."""

_GUTMANN_FIXED: tuple[bytes, ...] = (
    b"\x55", b"\xaa", b"\x92\x49\x24", b"\x49\x24\x92", b"\x24\x92\x49", b"\x00", b"\x11",
    b"\x22", b"\x33", b"\x44", b"\x55", b"\x66", b"\x77", b"\x88", b"\x99", b"\xaa", b"\xbb",
    b"\xcc", b"\xdd", b"\xee", b"\xff", b"\x92\x49\x24", b"\x49\x24\x92", b"\x24\x92\x49",
    b"\x6d\xb6\xdb", b"\xb6\xdb\x6d", b"\xdb\x6d\xb6",
)  # fmt: skip

PASSES: dict[int, tuple[bytes, ...]] = {
    Alg.NNSA: (_RANDOM, _RANDOM, b"\x00"),
    Alg.DOD: (_RANDOM, b"\x00", b"\xff"),
    Alg.BSI: (b"\xff", b"\xfe", b"\xfd", b"\xfb", b"\xf7", b"\xef", b"\xdf", b"\xbf", b"\x7f"),
    Alg.GUTMANN: (_RANDOM,) * 4 + _GUTMANN_FIXED + (_RANDOM,) * 4,
    Alg.SCHNEIER: (b"\x00", b"\xff") + (_RANDOM,) * 5,
    Alg.PFITZNER7: (_RANDOM,) * 7,
    Alg.PFITZNER33: (_RANDOM,) * 33,
    Alg.RANDOM: (_RANDOM,),
}
"""The passes of each pattern algorithm, in order (``b""`` is a random pass)."""


def _write_all(fd: int, path: str, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.pwrite(fd, view, offset)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"Failed to write {len(view)} bytes to storage volume with path '{path}'",
                exc,
                domain=_STORAGE,
            ) from exc
        view, offset = view[written:], offset + written


def _sync(fd: int, path: str) -> None:
    os_call(f"cannot sync data to volume with path '{path}'", os.fsync, fd)


def _fill(fd: int, path: str, length: int, pattern: bytes, block: int) -> None:
    """Write *pattern* (repeated; random when empty) over the first *length* bytes."""
    offset = 0
    fixed = b""
    if pattern:
        fixed = (pattern * (block // len(pattern) + 1))[:block]
    while offset < length:
        size = min(block, length - offset)
        chunk = os.urandom(size) if not pattern else fixed[:size]
        _write_all(fd, path, chunk, offset)
        offset += size
    _sync(fd, path)


def wipe_file(path: str, algorithm: int, allocation: int) -> None:
    """Wipe the volume file at *path* with *algorithm* (see the module documentation)."""
    if algorithm == Alg.TRIM:
        raise ArgumentUnsupportedError("'trim' algorithm not supported", domain=_STORAGE)
    if algorithm != Alg.ZERO and algorithm not in PASSES:
        raise InvalidArgError(f"unsupported algorithm {algorithm}", domain=_STORAGE)
    fd = open_fd(path, os.O_RDWR, f"Failed to open storage volume with path '{path}'")
    try:
        st = os_call(f"Failed to stat storage volume with path '{path}'", os.fstat, fd)
        block = max(st.st_blksize, 4096)
        if algorithm != Alg.ZERO:
            size = st.st_size
            logger.debug("wiping '%s' with %d passes", path, len(PASSES[algorithm]))
            for pattern in PASSES[algorithm]:
                _fill(fd, path, size, pattern, max(block, _CHUNK))
            return
        if stat.S_ISREG(st.st_mode) and st.st_blocks < st.st_size // 512:
            _zero_sparse(fd, path, st.st_size)
        else:
            _fill(fd, path, allocation, b"\x00", block)
    finally:
        os.close(fd)


def _zero_sparse(fd: int, path: str, size: int) -> None:
    os_call(f"Failed to truncate volume with path '{path}' to 0 bytes", os.ftruncate, fd, 0)
    os_call(f"Failed to truncate volume with path '{path}' to {size} bytes", os.ftruncate, fd, size)
