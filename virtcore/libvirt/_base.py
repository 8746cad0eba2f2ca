"""The dispatch seam of the compat layer: every libvirt-python method becomes one driver call.

A compat object (``virDomain``, ``virNetwork``, ...) wraps a native handle from
:mod:`virtcore.objects` and the ``virConnect`` it came from. A method call is
translated into ``Connection._invoke(table, driver_method, "virApiName", handle,
*args, write=...)`` — the same seam the native API uses — so any call a driver
implements works here at once, and a call no driver implements raises
``libvirtError`` with ``VIR_ERR_NO_SUPPORT`` naming the C API, like libvirt.

Driver methods are named after libvirt's driver fields in snake_case
(``nwfilterLookupByName`` -> ``nwfilter_lookup_by_name``) and receive the C
API's arguments in order (after the connection and the handle), which are
mostly libvirt-python's; where libvirt-python's C binding converts (CPU maps
to packed bytes, ``setTime``'s dictionary to seconds and nanoseconds, ...) the
compat layer does the same (:mod:`._convert`). They return handles of
:mod:`virtcore.objects` where libvirt-python returns objects, sequences where
it returns lists or tuples (the compat layer fixes the container type and
shape), dictionaries for typed parameters, ``None`` (reported as 0) for plain
success. tests/compat/test_driver_alignment.py holds every call to this.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.

from __future__ import annotations

import uuid as _uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from virtcore.errors import VirtError
from virtcore.libvirt._errors import ErrorTuple, _last, raise_from, reset_last_error

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.libvirt._callbacks import EventPump
    from virtcore.objects import Handle

__all__ = [
    "AFFECT_LIVE",
    "MEM_MAXIMUM",
    "ConnectionLike",
    "Wrapped",
    "native",
    "offers",
    "route",
    "status",
    "through",
    "uuid_str",
]

AFFECT_LIVE = 1
"""``VIR_DOMAIN_AFFECT_LIVE``: what libvirt's drivers apply for the pre-flags calls."""
MEM_MAXIMUM = 4
"""``VIR_DOMAIN_MEM_MAXIMUM``: ``virDomainSetMaxMemory`` is ``SetMemoryFlags`` with it."""


class ConnectionLike(Protocol):
    """What the seam needs from ``virConnect`` (avoids an import cycle)."""

    _c: Connection
    _pump: EventPump | None
    _last_error: ErrorTuple | None
    _routes: dict[tuple[str, str], bool]


class Wrapped:
    """Base of the compat object classes: a native handle and its ``virConnect``."""

    __slots__ = ("__weakref__", "_c", "_conn", "_o")
    _kind: ClassVar[str] = "hypervisor"

    _conn: Any
    _o: Any
    _c: Connection

    def __init__(self, conn: Any, _obj: Any = None) -> None:
        self._bind(conn, _obj)

    def _bind(self, conn: Any, obj: Handle | None) -> None:
        if obj is None:
            raise TypeError(f"Expected a wrapped C Object but got {type(obj)}")
        self._conn = conn
        self._o = obj
        self._c = conn._c

    def _call(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        """``tables.<this object's table>.<method>(conn, handle, *args)``."""
        # The hot path of the whole layer: kept to one frame around _invoke, and queries
        # pass no keyword argument (a keyword costs _invoke's call a dictionary).
        _last.err = None
        if write and self._conn._pump is not None:
            return self._call_in(self._kind, method, api, *args, write=True)
        try:
            if write:
                return self._c._invoke(self._kind, method, api, self._o, *args, write=True)
            return self._c._invoke(self._kind, method, api, self._o, *args)
        except VirtError as exc:
            raise raise_from(exc, api, self._conn) from None

    def _write(self, method: str, api: str, *args: Any) -> int:
        """A mutating call on this object's table, as libvirt-python's status integer.

        ``status(self._call(method, api, *args, write=True))`` in one frame: the
        lifecycle calls (create, suspend, resume, destroy, undefine) go through here.
        """
        _last.err = None
        if self._conn._pump is not None:
            return status(self._call_in(self._kind, method, api, *args, write=True))
        try:
            result = self._c._invoke(self._kind, method, api, self._o, *args, write=True)
        except VirtError as exc:
            raise raise_from(exc, api, self._conn) from None
        return 0 if result is None else int(result)

    def _call_in(self, kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
        """Like :meth:`_call` on table *kind* (e.g. node-device detach on the hypervisor)."""
        reset_last_error()
        pump = self._conn._pump if write else None
        if pump is not None:
            pump.enter_call()
        try:
            return self._c._invoke(kind, method, api, self._o, *args, write=write)
        except VirtError as exc:
            raise raise_from(exc, api, self._conn) from None
        finally:
            if pump is not None:
                pump.leave_call()

    def _call_either(
        self,
        plain: tuple[str, tuple[Any, ...]],
        variant: tuple[str, tuple[Any, ...]],
        api: str,
        *,
        write: bool = True,
    ) -> Any:
        """Call *plain* ``(method, args)`` if the driver has it, else the flags *variant*.

        libvirt dispatches a call from before flags existed (``virDomainSetMemory``)
        to its own driver entry; a driver that only has the flags variant
        (``domain_set_memory_flags``) gets that, with the flags libvirt's drivers
        apply for the plain call.
        """
        method, args = plain if route(self._conn, self._kind, plain[0], variant[0]) else variant
        return self._call(method, api, *args, write=write)

    def connect(self) -> Any:
        """The ``virConnect`` this object belongs to."""
        return self._conn

    def c_pointer(self) -> int:
        """A number identifying the underlying object (there is no C pointer here)."""
        return id(self._o)

    @property
    def native(self) -> Handle:
        """The virtcore handle behind this object (for mixing with the native API)."""
        handle: Handle = self._o
        return handle

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Wrapped) and other._o == self._o

    def __hash__(self) -> int:
        return hash(self._o)

    def __repr__(self) -> str:
        return f"<virtcore.libvirt.{type(self).__name__} object wrapping {self._o!r}>"


def through(
    conn: ConnectionLike, api: str, func: Callable[..., Any], *args: Any, write: bool = False
) -> Any:
    """``func(*args)``, a public native method, with *api*'s failures as ``libvirtError``.

    Calls whose C entry point checks arguments before the driver is asked
    (``virNodeGetCPUStats``'s ``cpuNum``, ``virDomainOpenConsole``'s stream)
    go through the native method that makes those checks instead of straight
    to the driver table.
    """
    reset_last_error()
    pump = conn._pump if write else None
    if pump is not None:
        pump.enter_call()
    try:
        return func(*args)
    except VirtError as exc:
        raise raise_from(exc, api, conn) from None
    finally:
        if pump is not None:
            pump.leave_call()


def offers(conn: Connection, kind: str, method: str) -> bool:
    """Whether *conn*'s table *kind* has driver method *method*."""
    table = conn.tables.get(kind)
    return table is not None and getattr(table, method, None) is not None


def route(conn: ConnectionLike, kind: str, plain: str, variant: str) -> bool:
    """Whether a call goes to driver method *plain* (True) or its flags *variant*.

    *plain* when the driver has it or lacks both (NO_SUPPORT then names the
    plain call); decided once per connection, since its tables never change.
    """
    key = (kind, plain)
    found = conn._routes.get(key)
    if found is None:
        found = offers(conn._c, kind, plain) or not offers(conn._c, kind, variant)
        conn._routes[key] = found
    return found


def status(result: Any) -> int:
    """libvirt-python's integer result: 0 for a plain success, the value otherwise."""
    return 0 if result is None else int(result)


def native(obj: Any) -> Any:
    """The native handle of a compat object argument (``None`` stays ``None``)."""
    if obj is None:
        return None
    if isinstance(obj, Wrapped):
        return obj._o
    # A virConnect passed as the destination of a migration.
    inner = getattr(obj, "_c", None)
    return inner if inner is not None else obj


def uuid_str(raw: bytes | str) -> str:
    """The canonical text form of a UUID given as libvirt's 16 raw bytes."""
    if isinstance(raw, str):
        return str(_uuid.UUID(raw))
    return str(_uuid.UUID(bytes=bytes(raw)))


def uuid_bytes(text: str) -> bytes:
    """libvirt's 16-byte form of a UUID string."""
    return _uuid.UUID(text).bytes
