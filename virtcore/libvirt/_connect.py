"""``virConnect``: a connection, with libvirt-python 9.0's methods.

Hand-written here: the connection's lifecycle (``close``, context manager,
closing when garbage-collected like libvirt-python's), identity queries the
native connection answers itself (``getURI``, ``getLibVersion``,
``isAlive``), streams, bulk statistics, and all event and close callback
registration (see :mod:`virtcore.libvirt._callbacks` for where callbacks run).
Everything else is one driver call each (:mod:`._connect_calls`).
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802, N803

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

from virtcore.connection import Connection
from virtcore.errors import VirtError
from virtcore.events import EventKind
from virtcore.libvirt._base import status
from virtcore.libvirt._callbacks import ConnectionCallbacks, EventPump
from virtcore.libvirt._connect_objects import ConnectObjectCalls
from virtcore.libvirt._domain import virDomain
from virtcore.libvirt._errors import ErrorTuple, plain_error, raise_from, reset_last_error
from virtcore.libvirt._host import virNodeDevice, virSecret
from virtcore.libvirt._network import virNetwork
from virtcore.libvirt._storage import virStoragePool
from virtcore.libvirt._stream import virStream

__all__ = ["virConnect"]

logger = logging.getLogger(__name__)

_EVENT_CLASSES: dict[EventKind, type[Any]] = {
    EventKind.DOMAIN: virDomain,
    EventKind.NETWORK: virNetwork,
    EventKind.STORAGE_POOL: virStoragePool,
    EventKind.NODE_DEVICE: virNodeDevice,
    EventKind.SECRET: virSecret,
}


def _wrap_event_object(conn: virConnect, kind: EventKind, handle: Any) -> Any:
    return _EVENT_CLASSES[kind](conn, _obj=handle)


class virConnect(ConnectObjectCalls):
    """A connection (libvirt-python's ``virConnect``); obtain one with ``open()``."""

    def __init__(self, _obj: Any = None) -> None:
        if not isinstance(_obj, Connection):
            raise TypeError(f"Expected a wrapped C Object but got {type(_obj)}")
        self._o: Connection | None = _obj
        self._c = _obj
        self._pump: EventPump | None = None
        self._last_error: ErrorTuple | None = None
        self._routes: dict[tuple[str, str], bool] = {}
        self._callbacks = ConnectionCallbacks(self, _obj, _wrap_event_object)

    @property
    def native(self) -> Connection:
        """The virtcore :class:`~virtcore.connection.Connection` behind this object."""
        return self._c

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> int:
        """Close the connection; later calls fail with "invalid connection pointer".

        Returns 0 (libvirt returns the number of remaining references).
        (``virConnectClose``)
        """
        reset_last_error()
        self._callbacks.close()
        self._o = None
        return self._c.close()

    def __enter__(self) -> virConnect:
        return self

    def __exit__(
        self,
        exc_type_: type[BaseException] | None,
        exc_value_: BaseException | None,
        traceback_: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # libvirt-python releases the connection when the object is collected;
        # test:///default's shared state depends on it.
        try:
            if not self._c.closed:
                self._callbacks.close()
                self._c.close()
        except Exception:
            logger.debug("closing a collected connection failed", exc_info=True)

    def c_pointer(self) -> int:
        """A number identifying the underlying connection (there is no C pointer here)."""
        return id(self._c)

    # -- answered by the native connection -----------------------------------

    def getURI(self) -> str:
        """The connection's URI, canonical as libvirt formats it (``virConnectGetURI``)."""
        reset_last_error()
        if self._c.closed:
            # No driver answers this; the seam reports the closed connection.
            self._call("connect_get_uri", "virConnectGetURI")
        return self._c.uri

    def getType(self) -> str:
        """The hypervisor type, e.g. ``"TEST"`` or ``"QEMU"`` (``virConnectGetType``)."""
        result: str = self._call("connect_get_type", "virConnectGetType")
        return result

    def getVersion(self) -> int:
        """The hypervisor version, major*1000000 + minor*1000 + micro (``virConnectGetVersion``)."""
        return status(self._call("connect_get_version", "virConnectGetVersion"))

    def getLibVersion(self) -> int:
        """The libvirt-compatible library version (``virConnectGetLibVersion``)."""
        reset_last_error()
        try:
            return self._c.get_lib_version()
        except VirtError as exc:
            raise raise_from(exc, "virConnectGetLibVersion", self) from None

    def isAlive(self) -> int:
        """1 while the connection is usable, else 0 (``virConnectIsAlive``)."""
        reset_last_error()
        return int(self._c.is_alive())

    def getInfo(self) -> list[Any]:
        """``[model, memory MiB, cpus, mhz, nodes, sockets, cores, threads]``
        (``virNodeGetInfo``).
        """
        return list(self._call("node_get_info", "virNodeGetInfo"))

    def newStream(self, flags: int = 0) -> virStream:
        """A new stream, bound later by the call that uses it (``virStreamNew``)."""
        reset_last_error()
        try:
            return virStream(self, _obj=self._c.new_stream(flags))
        except VirtError as exc:
            raise raise_from(exc, "virStreamNew", self) from None

    def setKeepAlive(self, interval: int, count: int) -> int:
        """Start keepalive probing; drivers without a peer report NO_SUPPORT.

        (``virConnectSetKeepAlive``)
        """
        return status(
            self._call("connect_set_keepalive", "virConnectSetKeepAlive", interval, count)
        )

    def virConnGetLastError(self) -> ErrorTuple | None:
        """The last error reported on this connection, or ``None``."""
        return self._last_error

    def virConnResetLastError(self) -> None:
        """Forget this connection's last error."""
        self._last_error = None

    # -- bulk statistics -------------------------------------------------------

    def getAllDomainStats(
        self, stats: int = 0, flags: int = 0
    ) -> list[tuple[virDomain, dict[str, Any]]]:
        """``[(domain, {"state.state": 1, ...}), ...]`` for every matching domain.

        (``virConnectGetAllDomainStats``)
        """
        records = self._call(
            "connect_get_all_domain_stats", "virConnectGetAllDomainStats", None, stats, flags
        )
        return [(virDomain(self, _obj=handle), dict(params)) for handle, params in records]

    def domainListGetStats(
        self, doms: list[virDomain], stats: int = 0, flags: int = 0
    ) -> list[tuple[virDomain, dict[str, Any]]]:
        """Statistics for the given domains (``virDomainListGetStats``)."""
        handles = []
        for dom in doms:
            if not isinstance(dom, virDomain):
                raise plain_error("domain list contains non-domain elements")
            handles.append(dom._o)
        records = self._call(
            "connect_get_all_domain_stats", "virDomainListGetStats", handles, stats, flags
        )
        return [(virDomain(self, _obj=handle), dict(params)) for handle, params in records]

    # -- close callbacks -------------------------------------------------------

    def registerCloseCallback(self, cb: Callable[..., Any], opaque: Any) -> int:
        """Call ``cb(conn, reason, opaque)`` when the connection is lost; replaces any earlier one.

        (``virConnectRegisterCloseCallback``)
        """
        return self._callbacks.register_close(cb, opaque)

    def unregisterCloseCallback(self) -> None:
        """Remove the close callback (``virConnectUnregisterCloseCallback``)."""
        self._callbacks.unregister_close()

    # -- events ------------------------------------------------------------------

    def domainEventRegister(self, cb: Callable[..., Any], opaque: Any) -> None:
        """Legacy: ``cb(conn, dom, event, detail, opaque)`` for every lifecycle event.

        (``virConnectDomainEventRegister``)
        """
        self._callbacks.legacy_register(cb, opaque)

    def domainEventDeregister(self, cb: Callable[..., Any]) -> None:
        """Legacy: remove a callback added with :meth:`domainEventRegister`."""
        self._callbacks.legacy_deregister(cb)

    def domainEventRegisterAny(
        self,
        dom: virDomain | None,
        eventID: int,
        cb: Callable[..., Any],
        opaque: Any,
    ) -> int:
        """Call ``cb(conn, dom, *payload, opaque)`` for *eventID*; returns the callback id.

        (``virConnectDomainEventRegisterAny``)
        """
        return self._callbacks.register_any(EventKind.DOMAIN, dom, eventID, cb, opaque)

    def domainEventDeregisterAny(self, callbackID: int) -> None:
        """Remove a domain event callback (``virConnectDomainEventDeregisterAny``)."""
        self._callbacks.deregister_any(EventKind.DOMAIN, callbackID)

    def networkEventRegisterAny(
        self,
        net: virNetwork | None,
        eventID: int,
        cb: Callable[..., Any],
        opaque: Any,
    ) -> int:
        """Call ``cb(conn, net, *payload, opaque)`` for *eventID*; returns the callback id.

        (``virConnectNetworkEventRegisterAny``)
        """
        return self._callbacks.register_any(EventKind.NETWORK, net, eventID, cb, opaque)

    def networkEventDeregisterAny(self, callbackID: int) -> None:
        """Remove a network event callback (``virConnectNetworkEventDeregisterAny``)."""
        self._callbacks.deregister_any(EventKind.NETWORK, callbackID)

    def storagePoolEventRegisterAny(
        self,
        pool: virStoragePool | None,
        eventID: int,
        cb: Callable[..., Any],
        opaque: Any,
    ) -> int:
        """Call ``cb(conn, pool, *payload, opaque)`` for *eventID*; returns the callback id.

        (``virConnectStoragePoolEventRegisterAny``)
        """
        return self._callbacks.register_any(EventKind.STORAGE_POOL, pool, eventID, cb, opaque)

    def storagePoolEventDeregisterAny(self, callbackID: int) -> None:
        """Remove a storage pool event callback (``virConnectStoragePoolEventDeregisterAny``)."""
        self._callbacks.deregister_any(EventKind.STORAGE_POOL, callbackID)

    def nodeDeviceEventRegisterAny(
        self,
        dev: virNodeDevice | None,
        eventID: int,
        cb: Callable[..., Any],
        opaque: Any,
    ) -> int:
        """Call ``cb(conn, dev, *payload, opaque)`` for *eventID*; returns the callback id.

        (``virConnectNodeDeviceEventRegisterAny``)
        """
        return self._callbacks.register_any(EventKind.NODE_DEVICE, dev, eventID, cb, opaque)

    def nodeDeviceEventDeregisterAny(self, callbackID: int) -> None:
        """Remove a node device event callback (``virConnectNodeDeviceEventDeregisterAny``)."""
        self._callbacks.deregister_any(EventKind.NODE_DEVICE, callbackID)

    def secretEventRegisterAny(
        self,
        secret: virSecret | None,
        eventID: int,
        cb: Callable[..., Any],
        opaque: Any,
    ) -> int:
        """Call ``cb(conn, secret, *payload, opaque)`` for *eventID*; returns the callback id.

        (``virConnectSecretEventRegisterAny``)
        """
        return self._callbacks.register_any(EventKind.SECRET, secret, eventID, cb, opaque)

    def secretEventDeregisterAny(self, callbackID: int) -> None:
        """Remove a secret event callback (``virConnectSecretEventDeregisterAny``)."""
        self._callbacks.deregister_any(EventKind.SECRET, callbackID)

    def __repr__(self) -> str:
        return f"<virtcore.libvirt.virConnect object wrapping {self._c!r}>"
