"""The handle base class, the flags-to-API naming rule, and streams.

A handle holds identity only (name, UUID, id, ...) and a back-reference to its
:class:`~virtcore.connection.Connection`; state lives in the driver. Two handles
are equal when they name the same object through the same connection. Every
method goes through the connection, which raises
:class:`~virtcore.errors.NoSupportError` when the driver lacks the call,
:class:`~virtcore.errors.OperationDeniedError` for mutating calls on a
read-only connection and :class:`~virtcore.errors.ConnectionClosedError` after
``close()``.

Driver-table method names and the libvirt API each method reports in errors
are given explicitly at every call, so the mapping to libvirt stays greppable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import NoSupportError

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["Handle", "NamedUUIDHandle", "Stream", "StreamBackend", "api_for_flags"]


def api_for_flags(flags: int, plain: str, suffix: str = "Flags") -> str:
    """The libvirt API a call stands for: the plain one without flags, else its flags variant.

    libvirt-python's ``dom.destroy()`` is ``virDomainDestroy`` and
    ``dom.destroyFlags(f)`` is ``virDomainDestroyFlags``; errors name the one
    the caller's arguments correspond to.
    """
    if not flags:
        return plain
    return plain + ("WithFlags" if plain == "virDomainCreate" else suffix)


class Handle:
    """Base of all handles. ``_table`` names the driver table the handle's calls use."""

    _table: ClassVar[str] = "hypervisor"
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def connection(self) -> Connection:
        """The connection this handle was obtained from."""
        return self._conn

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _call(self, method: str, api: str, *args: Any, write: bool = False) -> Any:
        return self._conn._invoke(self._table, method, api, self, *args, write=write)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Handle)
            and other._conn is self._conn
            and other._key() == self._key()
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, id(self._conn), self._key()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._key()!r}>"


class NamedUUIDHandle(Handle):
    """Handles identified by name and UUID (networks, pools, nwfilters)."""

    __slots__ = ("_name", "_uuid")

    def __init__(self, conn: Connection, name: str, uuid: str) -> None:
        super().__init__(conn)
        self._name = name
        self._uuid = uuid

    def _key(self) -> tuple[Any, ...]:
        return (self._uuid,)

    @property
    def name(self) -> str:
        """The object's name."""
        return self._name

    @property
    def uuid(self) -> str:
        """The UUID in canonical text form."""
        return self._uuid


class Stream(Handle):
    """A data stream (volume upload/download, screenshots, consoles).

    A new stream is unbound; the call that uses it (e.g. a volume upload) binds
    a driver backend with :meth:`bind`. Calls on an unbound stream raise
    :class:`~virtcore.errors.NoSupportError`, like libvirt.
    """

    __slots__ = ("_backend", "_flags")

    def __init__(self, conn: Connection, flags: int = 0) -> None:
        super().__init__(conn)
        self._flags = flags
        self._backend: StreamBackend | None = None

    def _key(self) -> tuple[Any, ...]:
        return (id(self),)

    @property
    def flags(self) -> int:
        """The flags the stream was created with (e.g. non-blocking)."""
        return self._flags

    def bind(self, backend: StreamBackend) -> None:
        """Attach the driver-side implementation (drivers call this)."""
        self._backend = backend

    def _require(self, api: str) -> StreamBackend:
        self._conn._check_open(api, ErrorDomain.STREAMS)
        if self._backend is None:
            raise NoSupportError(api, domain=ErrorDomain.STREAMS)
        return self._backend

    def _delegate(self, api: str, method: str, *args: Any) -> Any:
        """``backend.<method>(*args)``; a method the backend lacks is NO_SUPPORT for *api*."""
        backend = self._require(api)
        try:
            return getattr(backend, method)(*args)
        except NotImplementedError:
            raise NoSupportError(api, domain=ErrorDomain.STREAMS) from None

    def send(self, data: bytes) -> int:
        """Write *data*; returns the number of bytes accepted (``virStreamSend``)."""
        sent: int = self._delegate("virStreamSend", "send", data)
        return sent

    def recv(self, nbytes: int) -> bytes:
        """Read up to *nbytes*; ``b""`` at end of stream (``virStreamRecv``)."""
        data: bytes = self._delegate("virStreamRecv", "recv", nbytes)
        return data

    def recv_flags(self, nbytes: int, flags: int = 0) -> bytes | int:
        """Like :meth:`recv`; with ``STOP_AT_HOLE`` returns -3 at a hole (``virStreamRecvFlags``).

        Only sparse backends have it; others raise
        :class:`~virtcore.errors.NoSupportError`, as libvirt's file streams do.
        """
        result: bytes | int = self._delegate("virStreamRecvFlags", "recv_flags", nbytes, flags)
        return result

    def recv_hole(self, flags: int = 0) -> int:
        """The length of the hole the stream is positioned at (``virStreamRecvHole``)."""
        length: int = self._delegate("virStreamRecvHole", "recv_hole", flags)
        return length

    def send_hole(self, length: int, flags: int = 0) -> None:
        """Make the receiving end skip *length* bytes, leaving a hole (``virStreamSendHole``)."""
        self._delegate("virStreamSendHole", "send_hole", length, flags)

    def finish(self) -> None:
        """Complete the transfer (``virStreamFinish``)."""
        self._require("virStreamFinish").finish()

    def abort(self) -> None:
        """Abandon the transfer (``virStreamAbort``)."""
        self._require("virStreamAbort").abort()


class StreamBackend:
    """Driver-side half of a :class:`Stream`; drivers subclass it.

    A method a backend leaves out raises :class:`NotImplementedError`, which
    the :class:`Stream` reports as ``VIR_ERR_NO_SUPPORT`` naming the libvirt
    API, like a libvirt stream driver without that callback. Backends of
    dense data (no holes) need only :meth:`send` and/or :meth:`recv`; sparse
    ones add :meth:`recv_flags`, :meth:`recv_hole` and :meth:`send_hole`.
    """

    def send(self, data: bytes) -> int:
        """Accept *data* from the client."""
        raise NotImplementedError

    def recv(self, nbytes: int) -> bytes:
        """Produce up to *nbytes* for the client."""
        raise NotImplementedError

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        """Produce up to *nbytes*, or -3 when *flags* ask to stop at a hole and one is next.

        Sparse backends only, like libvirt's stream drivers: a plain file
        stream has no ``streamRecvFlags`` and the call fails with NO_SUPPORT.
        """
        raise NotImplementedError

    def recv_hole(self, flags: int) -> int:
        """The length of the hole the stream is positioned at (sparse backends only)."""
        raise NotImplementedError

    def send_hole(self, length: int, flags: int) -> None:
        """Skip *length* bytes at the receiving end (sparse backends only)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Complete the transfer, reporting any deferred error."""

    def abort(self) -> None:
        """Abandon the transfer and release resources."""
