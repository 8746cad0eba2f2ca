"""Storage-volume rules libvirt's storage driver applies before any backend runs.

libvirt's ``storageVolResize`` checks the requested capacity, and
``storageVolWipePattern`` the algorithm, the same way for every pool type;
virtcore's host storage driver and its test driver both follow them, through
this module, so the two cannot drift apart.
"""

from __future__ import annotations

from virtcore.enums.errors import ErrorDomain
from virtcore.enums.storage import StorageVolResizeFlags as Resize
from virtcore.enums.storage import StorageVolWipeAlgorithm
from virtcore.errors import InvalidArgError, OperationFailedError

__all__ = ["RESIZE_FLAGS", "check_wipe_algorithm", "resize_target"]

RESIZE_FLAGS = int(Resize.ALLOCATE | Resize.DELTA | Resize.SHRINK)


def resize_target(
    capacity: int, flags: int, *, current: int, allocation: int, available: int
) -> int:
    """The new capacity of a volume resized with *capacity* and *flags*.

    *current* and *allocation* describe the volume, *available* its pool.
    ``DELTA`` makes *capacity* relative (subtracted with ``SHRINK``); a result
    below the allocation, a shrink without ``SHRINK`` and an ``ALLOCATE`` the
    pool cannot hold fail with libvirt's errors.
    """
    if flags & Resize.DELTA:
        wanted = current - min(capacity, current) if flags & Resize.SHRINK else current + capacity
    else:
        wanted = capacity
    if wanted < allocation:
        raise InvalidArgError(
            "can't shrink capacity below existing allocation", domain=ErrorDomain.STORAGE
        )
    if wanted < current and not flags & Resize.SHRINK:
        raise InvalidArgError(
            "Can't shrink capacity below current capacity unless shrink flag explicitly specified",
            domain=ErrorDomain.STORAGE,
        )
    delta = wanted - allocation if flags & Resize.ALLOCATE else 0
    if delta > available:
        raise OperationFailedError(
            "Not enough space left in storage pool", domain=ErrorDomain.STORAGE
        )
    return wanted


def check_wipe_algorithm(algorithm: int) -> None:
    """Refuse an *algorithm* libvirt does not know, before the volume is looked up."""
    if not 0 <= algorithm < len(StorageVolWipeAlgorithm):
        raise InvalidArgError(
            f"wiping algorithm {algorithm} not supported", domain=ErrorDomain.STORAGE
        )
