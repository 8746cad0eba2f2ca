"""A drop-in replacement for libvirt-python 9.0, with no C library.

Switch an application with one line::

    import virtcore.libvirt as libvirt

Module functions, classes, methods, argument names and defaults, return shapes,
error codes and messages, callback signatures and every ``VIR_*`` constant are
libvirt-python 9.0's. Each method is one call through virtcore's dispatch seam
(:mod:`virtcore.libvirt._base`), so whatever a virtcore driver implements is
available, and what no driver implements fails with ``VIR_ERR_NO_SUPPORT``
exactly like libvirt. Where virtcore behaves differently (events without an
event loop, enum members inside returned lists, ...), docs/migrating-from-libvirt-python.md
says so.

Integer constants are :mod:`virtcore.enums` members (``VIR_DOMAIN_RUNNING`` is
``DomainState.RUNNING``), equal to libvirt-python's integers; typed-parameter
names are strings.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import virtcore
from virtcore.auth import Auth, Credential
from virtcore.enums.libvirt_names import int_constants, string_constants
from virtcore.errors import VirtError
from virtcore.libvirt._children import virDomainCheckpoint, virDomainSnapshot
from virtcore.libvirt._connect import virConnect
from virtcore.libvirt._domain import virDomain
from virtcore.libvirt._errors import (
    libvirtError,
    raise_from,
    registerErrorHandler,
    reset_last_error,
    virGetLastError,
    virGetLastErrorCode,
    virGetLastErrorDomain,
    virGetLastErrorMessage,
    virResetLastError,
)
from virtcore.libvirt._eventloop import (
    _dispatchEventHandleCallback as _dispatchEventHandleCallback,
)
from virtcore.libvirt._eventloop import (
    _dispatchEventTimeoutCallback as _dispatchEventTimeoutCallback,
)
from virtcore.libvirt._eventloop import (
    _eventInvokeHandleCallback as _eventInvokeHandleCallback,
)
from virtcore.libvirt._eventloop import (
    _eventInvokeTimeoutCallback as _eventInvokeTimeoutCallback,
)
from virtcore.libvirt._eventloop import (
    virEventAddHandle,
    virEventAddTimeout,
    virEventInvokeFreeCallback,
    virEventRegisterDefaultImpl,
    virEventRegisterImpl,
    virEventRemoveHandle,
    virEventRemoveTimeout,
    virEventRunDefaultImpl,
    virEventUpdateHandle,
    virEventUpdateTimeout,
)
from virtcore.libvirt._host import virNodeDevice, virNWFilter, virNWFilterBinding, virSecret
from virtcore.libvirt._network import virInterface, virNetwork, virNetworkPort
from virtcore.libvirt._storage import virStoragePool, virStorageVol
from virtcore.libvirt._stream import virStream

logger = logging.getLogger(__name__)

_LIB_VERSION = 9000000
"""The libvirt version whose Python API this module reproduces (9.0.0)."""

# libvirt-python's typing aliases; libvirtaio evaluates some in annotations.
_T = TypeVar("_T")
_EventCB = Callable[[int, int, int, _T], None]
_EventAddHandleFunc = Callable[[int, int, _EventCB[Any], _T], int]
_EventUpdateHandleFunc = Callable[[int, int], None]
_EventRemoveHandleFunc = Callable[[int], int]
_TimerCB = Callable[[int, _T], None]
_EventAddTimeoutFunc = Callable[[int, _TimerCB[Any], _T], int]
_EventUpdateTimeoutFunc = Callable[[int, int], None]
_EventRemoveTimeoutFunc = Callable[[int], int]
_DomainCB = Callable[["virConnect", "virDomain", int, int, _T], int | None]
_BlkioParameter = dict[str, Any]
_MemoryParameter = dict[str, Any]
_SchedParameter = dict[str, Any]
_TypedParameter = dict[str, Any]

globals().update(int_constants())
globals().update(string_constants())

__all__ = [
    "getVersion",
    "libvirtError",
    "open",
    "openAuth",
    "openReadOnly",
    "registerErrorHandler",
    "virConnect",
    "virDomain",
    "virDomainCheckpoint",
    "virDomainSnapshot",
    "virEventAddHandle",
    "virEventAddTimeout",
    "virEventInvokeFreeCallback",
    "virEventRegisterDefaultImpl",
    "virEventRegisterImpl",
    "virEventRemoveHandle",
    "virEventRemoveTimeout",
    "virEventRunDefaultImpl",
    "virEventUpdateHandle",
    "virEventUpdateTimeout",
    "virGetLastError",
    "virGetLastErrorCode",
    "virGetLastErrorDomain",
    "virGetLastErrorMessage",
    "virInitialize",
    "virInterface",
    "virNWFilter",
    "virNWFilterBinding",
    "virNetwork",
    "virNetworkPort",
    "virNodeDevice",
    "virResetLastError",
    "virSecret",
    "virStoragePool",
    "virStorageVol",
    "virStream",
]
__all__.extend(int_constants())
__all__.extend(string_constants())


def __getattr__(name: str) -> Any:
    """Constants are installed at import; any other missing name is an AttributeError.

    Declared so that type checkers accept the ``VIR_*`` names set above.
    """
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _open(api: str, name: str | None, flags: int, auth: Auth | None) -> virConnect:
    reset_last_error()
    if not name:
        # libvirt's own variable comes first; virtcore's and probing follow.
        name = os.environ.get("LIBVIRT_DEFAULT_URI") or None
    try:
        conn = virtcore.open_auth(name, auth, flags)
    except VirtError as exc:
        raise raise_from(exc, api) from None
    return virConnect(_obj=conn)


def open(name: str | None = None) -> virConnect:
    """Open a read-write connection to the hypervisor at URI *name* (``virConnectOpen``).

    Without a URI, ``LIBVIRT_DEFAULT_URI`` names it, else ``VIRTCORE_DEFAULT_URI``,
    else the drivers are probed (see :func:`virtcore.open`).
    """
    return _open("virConnectOpen", name, 0, None)


def openReadOnly(name: str | None = None) -> virConnect:
    """Open a read-only connection: mutating calls fail with OPERATION_DENIED.

    (``virConnectOpenReadOnly``)
    """
    return _open("virConnectOpenReadOnly", name, 1, None)


def openAuth(uri: str, auth: list[Any], flags: int = 0) -> virConnect:
    """Open a connection, answering credential requests through *auth*.

    *auth* is ``[credtypes, callback, opaque]``. The callback is called as
    ``callback(creds, opaque)`` where *creds* holds one list per question,
    ``[type, prompt, challenge, defresult, result]``; it fills ``result`` (item
    4) and returns 0, or returns -1 to refuse. (``virConnectOpenAuth``)
    """
    credtypes = [int(t) for t in auth[0]] if auth and auth[0] else []
    callback = auth[1] if len(auth) > 1 else None
    opaque = auth[2] if len(auth) > 2 else None
    native_cb = _credential_callback(callback, opaque) if callback is not None else None
    return _open("virConnectOpenAuth", uri, flags, Auth(credtypes, native_cb))


def _credential_callback(
    callback: Callable[[list[list[Any]], Any], Any], opaque: Any
) -> Callable[[list[Credential]], int]:
    def ask(creds: list[Credential]) -> int:
        questions = [[int(c.type), c.prompt, c.challenge, c.default, None] for c in creds]
        try:
            ret = callback(questions, opaque)
        except Exception:
            # libvirt-python prints the exception and treats the call as refused.
            logger.exception("credential callback %r failed", callback)
            return -1
        ret = -1 if ret is None else int(ret)
        if ret == 0:
            for cred, answer in zip(creds, questions, strict=True):
                cred.result = None if answer[4] is None else str(answer[4])
        return ret

    return ask


def getVersion(name: str | None = None) -> int | tuple[int, int]:
    """The library version, or ``(library version, driver version)`` given a driver *name*.

    Versions are major*1000000 + minor*1000 + release, here libvirt 9.0.0's.
    """
    reset_last_error()
    if name is None:
        return _LIB_VERSION
    return (_LIB_VERSION, _LIB_VERSION)


def virInitialize() -> int:
    """Initialize the library; nothing to do here (kept for libvirt-python code). Returns 0."""
    return 0
