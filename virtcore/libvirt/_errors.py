"""libvirt-python's error model: ``libvirtError``, the per-thread last error, error handlers.

libvirt keeps the last error of each thread; every public API clears it on entry and,
on failure, stores the new error and "dispatches" it: the handler registered with
:func:`registerErrorHandler` is called as ``f(ctx, err)``, or, when none is
registered, libvirt's default handler prints ``libvirt: <Domain> error : <message>``
to stderr. The raised :class:`libvirtError` reads that stored error, exactly as
libvirt-python's does, so code that inspects ``e.err``, :func:`virGetLastError`
or the ``get_*`` accessors sees the same values.

In virtcore the failure starts as a :class:`~virtcore.errors.VirtError` raised
by the native layer; :func:`raise_from` turns it into the stored error tuple and
the :class:`libvirtError` (keeping the original as ``virt_error``). Nothing here
depends on a process-wide "last error": the store is thread-local.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from virtcore.enums.errors import ErrorLevel
from virtcore.errors import VirtError, error_domain_name, format_message

if TYPE_CHECKING:
    from virtcore.libvirt._base import ConnectionLike

__all__ = [
    "ErrorTuple",
    "libvirtError",
    "raise_from",
    "registerErrorHandler",
    "reset_last_error",
    "virGetLastError",
    "virGetLastErrorCode",
    "virGetLastErrorDomain",
    "virGetLastErrorMessage",
    "virResetLastError",
]

logger = logging.getLogger(__name__)

ErrorTuple = tuple[int, int, str, int, str | None, str | None, str | None, int, int]
"""``(code, domain, message, level, str1, str2, str3, int1, int2)`` as libvirt-python gives it."""


class _LastError(threading.local):
    err: ErrorTuple | None = None


_last = _LastError()
_handler_lock = threading.Lock()
_handler: tuple[Callable[[Any, ErrorTuple], object], Any] | None = None


class libvirtError(Exception):
    """The exception every failing call raises, with libvirt-python 9.0's interface.

    ``libvirtError(defmsg)`` takes the calling thread's last error, if any, as
    :attr:`err` and its message as the exception text; otherwise the text is
    *defmsg* and :attr:`err` is ``None``. Errors raised by virtcore also carry
    the native :class:`~virtcore.errors.VirtError` as :attr:`virt_error`.
    """

    err: ErrorTuple | None
    virt_error: VirtError | None

    def __init__(self, defmsg: str) -> None:
        err = _last.err
        Exception.__init__(self, defmsg if err is None else err[2])
        self.err = err
        self.virt_error = None

    def get_error_code(self) -> int | None:
        """The ``VIR_ERR_*`` code, or ``None``."""
        return None if self.err is None else self.err[0]

    def get_error_domain(self) -> int | None:
        """The ``VIR_FROM_*`` subsystem, or ``None``."""
        return None if self.err is None else self.err[1]

    def get_error_message(self) -> str | None:
        """The full message, or ``None``."""
        return None if self.err is None else self.err[2]

    def get_error_level(self) -> int | None:
        """The ``VIR_ERR_WARNING``/``VIR_ERR_ERROR`` level, or ``None``."""
        return None if self.err is None else self.err[3]

    def get_str1(self) -> str | None:
        """libvirt's ``str1``: the message template of the code."""
        return None if self.err is None else self.err[4]

    def get_str2(self) -> str | None:
        """libvirt's ``str2``: usually the driver's detail text."""
        return None if self.err is None else self.err[5]

    def get_str3(self) -> str | None:
        """libvirt's ``str3``."""
        return None if self.err is None else self.err[6]

    def get_int1(self) -> int | None:
        """libvirt's ``int1`` (errno for system errors), or ``None``."""
        return None if self.err is None else self.err[7]

    def get_int2(self) -> int | None:
        """libvirt's ``int2``, or ``None``."""
        return None if self.err is None else self.err[8]


def error_tuple(exc: VirtError) -> ErrorTuple:
    """The libvirt-python error tuple for a native error."""
    str1 = exc.str1
    if str1 is None:
        # libvirt stores the code's message template, "%s" standing for the detail.
        str1 = format_message(exc.code, "%s" if exc.detail else None)
    return (
        int(exc.code),
        int(exc.domain),
        exc.message,
        int(exc.level),
        str1,
        exc.str2,
        exc.str3,
        exc.int1,
        exc.int2,
    )


def raise_from(exc: VirtError, api: str, conn: ConnectionLike | None = None) -> libvirtError:
    """Record *exc* as the thread's last error, dispatch it, and build the libvirtError.

    The caller raises the result (``raise raise_from(exc, api) from None``).
    """
    err = error_tuple(exc)
    _last.err = err
    if conn is not None:
        conn._last_error = err
    _dispatch(err)
    result = libvirtError(f"{api}() failed")
    result.virt_error = exc
    return result


def set_last_error(err: ErrorTuple | None) -> None:
    """Store *err* as the calling thread's last error (no dispatch)."""
    _last.err = err


def reset_last_error() -> None:
    """Clear the calling thread's last error, as every public libvirt API does on entry."""
    _last.err = None


def _dispatch(err: ErrorTuple) -> None:
    handler = _handler
    if handler is None:
        _default_handler(err)
        return
    func, ctx = handler
    try:
        func(ctx, err)
    except Exception:
        # libvirt-python prints and swallows an exception raised by the handler.
        logger.exception("error handler %r failed", func)


def _default_handler(err: ErrorTuple) -> None:
    level = "warning" if err[3] == ErrorLevel.WARNING else "error"
    domain = error_domain_name(err[1]) if err[1] else ""
    # libvirt's virDefaultErrorFunc: the handler of last resort writes to stderr.
    sys.stderr.write(f"libvirt: {domain} {level} : {err[2]}\n")


def registerErrorHandler(f: Callable[[Any, ErrorTuple], object] | None, ctx: Any) -> int:
    """Call ``f(ctx, err)`` for every error instead of printing it; returns 1.

    ``registerErrorHandler(None, None)`` restores the default handler, which
    prints ``libvirt: <Domain> error : <message>`` to stderr like libvirt's.
    """
    global _handler  # noqa: PLW0603 - libvirt's handler is process-wide
    with _handler_lock:
        # As in libvirt-python, a None function means "print", whatever the context.
        _handler = None if f is None else (f, ctx)
    return 1


def virGetLastError() -> ErrorTuple | None:
    """The calling thread's last error tuple, or ``None``."""
    return _last.err


def virGetLastErrorCode() -> int:
    """The last error's code (``VIR_ERR_OK``, 0, when there is none)."""
    err = _last.err
    return 0 if err is None else err[0]


def virGetLastErrorDomain() -> int:
    """The last error's domain (``VIR_FROM_NONE``, 0, when there is none)."""
    err = _last.err
    return 0 if err is None else err[1]


def virGetLastErrorMessage() -> str:
    """The last error's message (``"no error"`` when there is none)."""
    err = _last.err
    return "no error" if err is None else err[2]


def virResetLastError() -> None:
    """Forget the calling thread's last error."""
    _last.err = None


def error_for(code: int, detail: str | None, api: str, *, domain: int = 0) -> libvirtError:
    """Build, record and dispatch an error raised by the compat layer itself."""
    exc = VirtError.from_code(code, detail, domain=domain)
    return raise_from(exc, api)


def plain_error(defmsg: str) -> libvirtError:
    """A libvirtError with no stored error, like libvirt-python's own Python-level checks."""
    _last.err = None
    return libvirtError(defmsg)
