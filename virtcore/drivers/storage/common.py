"""Small helpers the host storage driver's modules share: flag checks, error texts, opening.

Errors follow libvirt 9.0's storage driver (``storage_driver.c``): lookups
report ``VIR_ERR_NO_STORAGE_POOL``/``VIR_ERR_NO_STORAGE_VOL`` with the
driver's exact detail, state checks ``VIR_ERR_OPERATION_INVALID``, all in the
``VIR_FROM_STORAGE`` error domain.
"""

from __future__ import annotations

import os
import uuid as _uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    InvalidArgError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationInvalidError,
    SystemCallError,
)

if TYPE_CHECKING:
    from virtcore.xml.storage_pool import PermissionsDef

__all__ = [
    "STORAGE",
    "canonical_uuid",
    "check_flags",
    "exclusive_flags",
    "no_pool_name",
    "no_volume_name",
    "open_fd",
    "os_call",
    "pool_active",
    "pool_not_active",
    "set_mode",
    "set_owner",
    "volume_building",
]

STORAGE = ErrorDomain.STORAGE
_P = ParamSpec("_P")
_T = TypeVar("_T")


def check_flags(flags: int, supported: int, function: str) -> None:
    """libvirt's ``virCheckFlags``: unknown bits fail naming the driver *function*."""
    extra = (int(flags) & 0xFFFFFFFF) & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=STORAGE)


def exclusive_flags(flags: int, first: tuple[int, str], second: tuple[int, str]) -> None:
    """libvirt's ``VIR_EXCLUSIVE_FLAGS_RET``: two flags that must not be combined."""
    if flags & first[0] and flags & second[0]:
        # virReportInvalidArg: the text carries no "invalid argument" prefix.
        text = f"Flags '{first[1]}' and '{second[1]}' are mutually exclusive"
        raise InvalidArgError(text, message=text, domain=STORAGE)


def canonical_uuid(text: str, api: str) -> str:
    """*text* as a canonical UUID, or libvirt's error for the public API *api*."""
    try:
        return str(_uuid.UUID(text.strip()))
    except (ValueError, AttributeError):
        detail = f"uuidstr in {api} must be a valid UUID"
        raise InvalidArgError(detail, message=detail, domain=STORAGE) from None


def no_pool_name(name: str) -> NoStoragePoolError:
    """``no storage pool with matching name 'NAME'``."""
    return NoStoragePoolError(f"no storage pool with matching name '{name}'", domain=STORAGE)


def no_volume_name(name: str) -> NoStorageVolError:
    """``no storage vol with matching name 'NAME'``."""
    return NoStorageVolError(f"no storage vol with matching name '{name}'", domain=STORAGE)


def pool_not_active(name: str) -> OperationInvalidError:
    """``storage pool 'NAME' is not active``."""
    return OperationInvalidError(f"storage pool '{name}' is not active", domain=STORAGE)


def pool_active(name: str, what: str = "already active") -> OperationInvalidError:
    """``storage pool 'NAME' is already active`` (or ``is still active``)."""
    return OperationInvalidError(f"storage pool '{name}' is {what}", domain=STORAGE)


def volume_building(name: str) -> OperationInvalidError:
    """``volume 'NAME' is still being allocated.``"""
    return OperationInvalidError(f"volume '{name}' is still being allocated.", domain=STORAGE)


def open_fd(path: str, flags: int, what: str, *, mode: int = 0o777, domain: int = STORAGE) -> int:
    """``os.open`` of *path* (close-on-exec); a failure reports ``<what>: <strerror>``."""
    try:
        return os.open(path, flags | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise SystemCallError.from_os_error(what, exc, domain=domain) from exc


def os_call(what: str, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``func(*args, **kwargs)``; an ``OSError`` reports ``<what>: <strerror>`` (storage)."""
    try:
        return func(*args, **kwargs)
    except OSError as exc:
        raise SystemCallError.from_os_error(what, exc, domain=STORAGE) from exc


def set_owner(path: str, perms: PermissionsDef, *, domain: int = STORAGE) -> None:
    """Give *path* the owner and group of *perms* (unset ones stay as they are)."""
    uid = -1 if perms.owner is None else perms.owner
    gid = -1 if perms.group is None else perms.group
    if uid == -1 and gid == -1:
        return
    try:
        os.chown(path, uid, gid)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"cannot chown '{path}' to ({uid}, {gid})", exc, domain=domain
        ) from exc


def set_mode(path: str, mode: int, *, domain: int = STORAGE) -> None:
    """``chmod`` *path* to *mode*."""
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"cannot set mode of '{path}' to {mode:04o}", exc, domain=domain
        ) from exc
