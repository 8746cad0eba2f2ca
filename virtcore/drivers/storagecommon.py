"""Storage rules libvirt's storage driver and its test driver share.

libvirt checks pool listings (``virStoragePoolObjMatch``) and pool
definitions (``virStoragePoolObjListAdd``'s name/UUID clashes) in common
code; virtcore's host storage driver and its test driver both call these
functions, so the two follow one implementation of those rules.

Volume streams: the host driver's file streams and the test driver's
in-memory ones both derive from :class:`OneWayStream`. A transfer carries
data one way over a window of the volume (*offset*, *length*; 0:
unlimited), refuses the other direction with libvirt's stream errors, and
(:func:`window_room`) fails a write past the window with the fd stream's
``ENOSPC`` error after accepting what fits.
"""

from __future__ import annotations

import errno
import os
from abc import abstractmethod
from typing import TYPE_CHECKING, NamedTuple

from virtcore.enums.connect import ConnectListAllStoragePoolsFlags as ListFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import OperationFailedError, OperationInvalidError, VirtError
from virtcore.objects import StreamBackend

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = [
    "LIST_ALL_POOLS_FLAGS",
    "POOL_LIST_TYPES",
    "OneWayStream",
    "PoolIdentity",
    "PoolNameCalls",
    "check_pool_clash",
    "pool_listed",
    "window_room",
]

# The pool types in the order of ``VIR_CONNECT_LIST_STORAGE_POOLS_DIR`` (1 << 6) onwards.
POOL_LIST_TYPES: tuple[str, ...] = (
    "dir",
    "fs",
    "netfs",
    "logical",
    "disk",
    "iscsi",
    "scsi",
    "mpath",
    "rbd",
    "sheepdog",
    "gluster",
    "zfs",
    "vstorage",
    "iscsi-direct",
)
LIST_ALL_POOLS_FLAGS = (1 << 20) - 1
_TYPE_SHIFT = 6
_STORAGE = ErrorDomain.STORAGE
_STREAMS = ErrorDomain.STREAMS


def _passes(flags: int, yes: int, no: int, value: bool) -> bool:
    # Neither bit set: the pair does not filter; otherwise a set bit must match.
    if not flags & (yes | no):
        return True
    return bool((flags & yes and value) or (flags & no and not value))


def pool_listed(
    flags: int, *, active: bool, persistent: bool, autostart: bool, pool_type: str
) -> bool:
    """Whether a pool passes ``virConnectListAllStoragePools``'s filter *flags*."""
    if not (
        _passes(flags, ListFlags.ACTIVE, ListFlags.INACTIVE, active)
        and _passes(flags, ListFlags.PERSISTENT, ListFlags.TRANSIENT, persistent)
        and _passes(flags, ListFlags.AUTOSTART, ListFlags.NO_AUTOSTART, autostart)
    ):
        return False
    type_bits = int(flags) >> _TYPE_SHIFT
    return not type_bits or bool(type_bits & (1 << POOL_LIST_TYPES.index(pool_type)))


class PoolIdentity(NamedTuple):
    """What the clash checks need to know of an existing pool."""

    name: str
    uuid: str
    active: bool


def check_pool_clash(
    new_name: str,
    *,
    same_uuid: PoolIdentity | None,
    same_name: PoolIdentity | None,
    check_live: bool,
) -> None:
    """``virStoragePoolObjListAdd``'s name/UUID checks for a pool called *new_name*.

    *same_uuid* is the existing pool with the new definition's UUID,
    *same_name* the one with its name. A UUID held under another name, a name
    held under another UUID, and (with *check_live*) redefining a running
    pool fail with libvirt's errors.
    """
    if same_uuid is not None:
        if same_uuid.name != new_name:
            raise OperationFailedError(
                f"pool '{same_uuid.name}' is already defined with uuid {same_uuid.uuid}",
                domain=_STORAGE,
            )
        if check_live and same_uuid.active:
            raise OperationInvalidError(
                f"pool is already active as '{same_uuid.name}'", domain=_STORAGE
            )
    elif same_name is not None:
        raise OperationFailedError(
            f"pool '{new_name}' already exists with uuid {same_name.uuid}", domain=_STORAGE
        )


class PoolNameCalls:
    """The pre-``ListAll`` pool calls: names and counts of running or inactive pools.

    A storage driver mixes this in before :class:`~virtcore.driver.StorageDriver`
    and gives :meth:`_pool_names`.
    """

    def _pool_names(self, active: bool) -> list[str]:
        """Names of the running (*active*) or inactive pools, sorted."""
        raise NotImplementedError

    def connect_num_of_storage_pools(self, conn: Connection) -> int:
        """Number of running pools."""
        return len(self._pool_names(True))

    def connect_list_storage_pools(self, conn: Connection) -> list[str]:
        """Names of running pools."""
        return self._pool_names(True)

    def connect_num_of_defined_storage_pools(self, conn: Connection) -> int:
        """Number of inactive pools."""
        return len(self._pool_names(False))

    def connect_list_defined_storage_pools(self, conn: Connection) -> list[str]:
        """Names of inactive pools."""
        return self._pool_names(False)


def window_room(end: int | None, position: int, wanted: int) -> int:
    """How many of *wanted* bytes fit before *end* (``None``: no limit) from *position*.

    Wanting bytes when none fit fails as a full device does for an fd stream.
    """
    if end is None:
        return wanted
    room = end - position
    if room <= 0 and wanted:
        raise VirtError(
            f"cannot write to stream: {os.strerror(errno.ENOSPC)}",
            code=ErrorNumber.SYSTEM_ERROR,
            domain=_STREAMS,
            int1=errno.ENOSPC,
        )
    return min(room, wanted)


class OneWayStream(StreamBackend):
    """A volume transfer in one direction over ``[offset, offset + length)``.

    Subclasses override the direction they carry (``recv`` for downloads,
    ``send`` for uploads) and :meth:`_close`, which marks the stream closed
    and refuses a second close.
    """

    def __init__(self, offset: int, length: int, sparse: bool) -> None:
        self.position = offset
        self.end: int | None = offset + length if length else None
        self.sparse = sparse
        self.closed = False

    @abstractmethod
    def _close(self) -> None:
        """Close the stream; a stream already closed raises "stream is not open"."""

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
