"""Opening connections (URI dispatch) and the :class:`Connection` object.

:func:`open`, :func:`open_read_only` and :func:`open_auth` follow libvirt's
``virConnectOpenInternal`` (reference §3.1):

1. No URI: ``VIRTCORE_DEFAULT_URI``, else each driver's ``probe()`` in order;
   if still none, only wildcard drivers are tried.
2. The URI must parse and name a scheme ("URI '/x' does not include a driver
   name"); ``qemu://system``-style typos are refused with a hint.
3. ``scheme:///embed?root=/abs`` selects embedded mode: ``root`` is required
   and absolute, and only embeddable drivers of that scheme are tried.
4. Drivers are tried in registry order (wildcards last): ``local_only``
   drivers are skipped for URIs naming a server, named-scheme drivers for other
   schemes, ``remote_only`` drivers refuse server-less URIs. ``open`` returning
   ``None`` declines (next driver); raising fails the whole open.
5. Nobody accepted: "no connection driver available for <uri>".

A :class:`Connection` dispatches every call to its driver tables through one
seam, :meth:`Connection._invoke`, which enforces closed-connection and
read-only rules and turns a missing table or method into NO_SUPPORT.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, NoReturn

from virtcore.auth import Auth
from virtcore.connection.domains import DomainCalls
from virtcore.connection.host import HostObjectCalls
from virtcore.connection.networks import NetworkCalls
from virtcore.connection.storage import StorageCalls
from virtcore.driver import TABLE_KINDS, ConnectDriver, DriverTable, DriverTables
from virtcore.enums.connect import ConnectCloseReason, ConnectFlags
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConnectionClosedError,
    InternalError,
    InvalidArgError,
    NoConnectError,
    NoSupportError,
    OperationDeniedError,
    VirtError,
)
from virtcore.events import ConnectionEvents, Event, EventDispatcher, EventKind, ObjectIdentity
from virtcore.objects import Domain, Handle, Network, NodeDevice, Secret, StoragePool, Stream
from virtcore.registry import Registry, default_registry
from virtcore.uri import URI, default_uri, parse_connect_uri, validate_embedded

__all__ = ["CloseCallback", "Connection", "open", "open_auth", "open_read_only"]

logger = logging.getLogger(__name__)

CloseCallback = Callable[["Connection", ConnectCloseReason], None]

# The table that emits each kind of event, and the API named in errors.
_EVENT_APIS: dict[EventKind, tuple[str, str]] = {
    EventKind.DOMAIN: ("hypervisor", "virConnectDomainEventRegisterAny"),
    EventKind.NETWORK: ("network", "virConnectNetworkEventRegisterAny"),
    EventKind.STORAGE_POOL: ("storage", "virConnectStoragePoolEventRegisterAny"),
    EventKind.NODE_DEVICE: ("nodedev", "virConnectNodeDeviceEventRegisterAny"),
    EventKind.SECRET: ("secret", "virConnectSecretEventRegisterAny"),
}


def open(
    uri: str | None = None,
    flags: int = 0,
    *,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Open a read-write connection to *uri* (``virConnectOpen``)."""
    return _open(uri, None, flags, registry, environ)


def open_read_only(
    uri: str | None = None,
    *,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Open a read-only connection: every mutating call raises OPERATION_DENIED."""
    return _open(uri, None, ConnectFlags.RO, registry, environ)


def open_auth(
    uri: str | None,
    auth: Auth | None,
    flags: int = 0,
    *,
    registry: Registry | None = None,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Open a connection, answering credential requests with *auth* (``virConnectOpenAuth``)."""
    return _open(uri, auth, flags, registry, environ)


def _open(
    name: str | None,
    auth: Auth | None,
    flags: int,
    registry: Registry | None,
    environ: Mapping[str, str] | None,
) -> Connection:
    reg = registry if registry is not None else default_registry()
    env = os.environ if environ is None else environ
    flags = int(flags) & int(ConnectFlags.RO)  # libvirt keeps only the RO flag
    drivers = reg.connect_drivers()

    if not name:
        name = default_uri(env)
    if not name:
        for drv in drivers:
            probed = drv.probe()
            if probed:
                logger.debug("driver %s probed default URI %s", drv.name, probed)
                name = probed
                break

    uri: URI | None = None
    if name:
        uri = parse_connect_uri(name)
    embedded = uri is not None and uri.is_embedded
    if uri is not None and embedded:
        validate_embedded(uri)

    for drv in drivers:
        if uri is not None and drv.local_only and uri.has_server:
            continue
        if drv.schemes is not None:
            if uri is None or (embedded and not drv.embeddable) or uri.scheme not in drv.schemes:
                continue
        elif embedded:
            continue
        if drv.remote_only and (uri is None or not uri.has_server):
            raise InvalidArgError("URI is missing the server part", domain=ErrorDomain.NONE)
        logger.debug("trying connection driver %s for %s", drv.name, name)
        tables = _driver_open(drv, uri, auth, flags)
        if tables is None:
            logger.debug("driver %s declined %s", drv.name, name)
            continue
        return Connection(uri, drv, tables, flags)
    raise NoConnectError(name if name else "<null>")


def _driver_open(
    drv: ConnectDriver, uri: URI | None, auth: Auth | None, flags: int
) -> DriverTables | None:
    try:
        return drv.open(uri, auth, flags)
    except VirtError:
        raise
    except Exception as exc:
        logger.exception("connection driver %s failed unexpectedly", drv.name)
        raise InternalError(
            f"connection driver '{drv.name}' failed: {type(exc).__name__}: {exc}"
        ) from exc


class Connection(DomainCalls, NetworkCalls, StorageCalls, HostObjectCalls):
    """An open connection to a driver. Thread-safe; a context manager.

    Obtain one with :func:`virtcore.open`. Object lookups return handles
    (:mod:`virtcore.objects`) bound to this connection.
    """

    def __init__(
        self, uri: URI | None, driver: ConnectDriver, tables: DriverTables, flags: int
    ) -> None:
        self._uri = uri
        self._driver = driver
        self._tables = tables
        self._flags = flags
        self._ro = bool(flags & ConnectFlags.RO)
        self._lock = threading.Lock()
        self._closed = False
        # Per table kind, each driver method found so far (None: the table lacks it).
        # Looked up once per connection; a driver whose tables answer differently
        # later (see forget_driver_methods) has the lookups made again.
        self._bound: dict[str, dict[str, Callable[..., Any] | None]] = {}
        self._hypervisor_bound: dict[str, Callable[..., Any] | None] = self._bound.setdefault(
            "hypervisor", {}
        )
        """The hypervisor methods resolved so far (the ``_bound`` entry itself), so that the
        hottest compat queries can call a resolved method directly: see :meth:`_driver_failure`."""
        self._close_callbacks: dict[int, CloseCallback] = {}
        self._next_close_id = 0
        self._events = ConnectionEvents(self, self._make_handle)
        self._present = _present_tables(tables)
        sources: list[object] = []  # the tables of one host usually share one source
        for table in self._present:
            source = table.event_source()
            if source is not None and not any(source is known for known in sources):
                sources.append(source)
                self._events.attach(source)

    # -- the dispatch seam --------------------------------------------------

    def _check_open(self, api: str, domain: int) -> None:
        if self._closed:
            raise ConnectionClosedError(api, domain=domain)

    def _invoke(self, kind: str, method: str, api: str, *args: Any, write: bool = False) -> Any:
        """Call ``tables.<kind>.<method>(self, *args)`` under libvirt's rules."""
        # Every call of every handle comes through here: the common case costs two
        # dictionary lookups and two attribute tests; the error domain is worked out
        # only when a call is refused or fails.
        try:
            func = self._bound[kind][method]
        except KeyError:
            func = self._resolve(kind, method)
        if func is None or self._closed or (write and self._ro):
            self._refuse(kind, api, write)
        try:
            return func(self, *args)
        except VirtError:
            raise
        except Exception as exc:
            raise self._driver_failure(kind, api, exc) from exc

    def _driver_failure(self, kind: str, api: str, exc: Exception) -> InternalError:
        """The error for a driver method that failed with something other than a VirtError.

        A caller that calls a method of ``_hypervisor_bound`` itself (after checking
        that it is there and that the connection is open, as :meth:`_invoke`
        would; queries only) raises this for any other exception, so the result
        is the same as through :meth:`_invoke`.
        """
        logger.exception("driver %s failed in %s", self._driver.name, api)
        return InternalError(
            f"{api}: driver '{self._driver.name}' failed: {type(exc).__name__}: {exc}",
            domain=_api_domain(api, self._tables.get(kind), kind),
        )

    def _resolve(self, kind: str, method: str) -> Callable[..., Any] | None:
        """Find (and remember) table *kind*'s *method*."""
        table = self._tables.get(kind)
        func = getattr(table, method, None) if table is not None else None
        self._bound.setdefault(kind, {})[method] = func
        return func

    def forget_driver_methods(self) -> None:
        """For drivers: look every table method up again on its next call.

        A connection resolves each driver method once and keeps calling what
        it found. A driver whose tables hand out different callables as its
        circumstances change (the test driver's: its own methods while no
        fault rule is in force, checking wrappers once one is) calls this
        when they change. Safe from any thread: a call racing with it uses
        either the old or the new callable.
        """
        for found in self._bound.values():
            found.clear()

    def _refuse(self, kind: str, api: str, write: bool) -> NoReturn:
        """Raise why *api* cannot run: closed connection, read-only, or no such driver call."""
        domain = _api_domain(api, self._tables.get(kind), kind)
        self._check_open(api, domain)
        if write and self._ro:
            raise OperationDeniedError(f"read only access prevents {api}", domain=domain)
        raise NoSupportError(api, domain=domain)

    # -- lifecycle ----------------------------------------------------------

    @property
    def uri(self) -> str:
        """The URI the connection was opened with, formatted like libvirt."""
        return str(self._uri) if self._uri is not None else ""

    @property
    def parsed_uri(self) -> URI | None:
        """The parsed URI (``None`` for a wildcard driver opened without one)."""
        return self._uri

    @property
    def driver(self) -> ConnectDriver:
        """The connection driver that accepted the URI."""
        return self._driver

    @property
    def tables(self) -> DriverTables:
        """The driver tables this connection dispatches to."""
        return self._tables

    @property
    def read_only(self) -> bool:
        """Whether the connection was opened read-only."""
        return self._ro

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called or the driver reported the connection lost."""
        return self._closed

    def close(self) -> int:
        """Close the connection; later calls raise ConnectionClosedError. Idempotent."""
        with self._lock:
            if self._closed:
                return 0
            self._closed = True
        self._events.close()
        for table in self._present:
            try:
                table.connect_close(self)
            except Exception:
                logger.exception("driver %s failed to close a connection", self._driver.name)
        return 0

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def is_alive(self) -> bool:
        """Whether the connection is usable (``virConnectIsAlive``)."""
        if self._closed:
            return False
        probe = getattr(self._tables.hypervisor, "connect_is_alive", None)
        return True if probe is None else bool(probe(self))

    def is_secure(self) -> bool:
        """Whether the channel is secure against eavesdropping (``virConnectIsSecure``)."""
        return bool(self._hv("connect_is_secure", "virConnectIsSecure"))

    def is_encrypted(self) -> bool:
        """Whether the channel is encrypted (``virConnectIsEncrypted``)."""
        return bool(self._hv("connect_is_encrypted", "virConnectIsEncrypted"))

    def set_keepalive(self, interval: int, count: int) -> int:
        """Start keepalive probing (``virConnectSetKeepAlive``); remote drivers only."""
        result: int = self._hv("connect_set_keepalive", "virConnectSetKeepAlive", interval, count)
        return result

    def register_close_callback(self, callback: CloseCallback) -> int:
        """Call *callback(conn, reason)* when the connection is lost; returns an id.

        Local drivers never lose their connection, so their callbacks never
        fire; remote drivers report EOF, keepalive timeouts and errors.
        """
        with self._lock:
            self._check_open("virConnectRegisterCloseCallback", ErrorDomain.NONE)
            self._next_close_id += 1
            self._close_callbacks[self._next_close_id] = callback
            return self._next_close_id

    def unregister_close_callback(self, callback_id: int) -> None:
        """Remove a close callback (``virConnectUnregisterCloseCallback``)."""
        with self._lock:
            if self._close_callbacks.pop(callback_id, None) is None:
                raise InvalidArgError("A different callback was requested", domain=ErrorDomain.NONE)

    def report_closed(self, reason: ConnectCloseReason) -> None:
        """For drivers: the peer went away. Marks the connection closed and notifies."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            callbacks = list(self._close_callbacks.values())
        self._events.close()
        dispatcher = EventDispatcher.default()
        for cb in callbacks:
            dispatcher.submit(cb, self, reason)

    # -- host ---------------------------------------------------------------

    def get_type(self) -> str:
        """Hypervisor type name, e.g. ``"TEST"`` or ``"QEMU"`` (``virConnectGetType``)."""
        result: str = self._hv("connect_get_type", "virConnectGetType")
        return result

    def get_version(self) -> int:
        """Hypervisor version as major*1000000+minor*1000+micro (``virConnectGetVersion``)."""
        result: int = self._hv("connect_get_version", "virConnectGetVersion")
        return result

    def get_lib_version(self) -> int:
        """virtcore's libvirt-compatible library version (``virConnectGetLibVersion``)."""
        probe = getattr(self._tables.hypervisor, "connect_get_lib_version", None)
        self._check_open("virConnectGetLibVersion", ErrorDomain.DOMAIN)
        return int(probe(self)) if probe is not None else 9000000

    def get_hostname(self) -> str:
        """The host's name (``virConnectGetHostname``)."""
        result: str = self._hv("connect_get_hostname", "virConnectGetHostname")
        return result

    def get_capabilities(self) -> str:
        """Capabilities XML (``virConnectGetCapabilities``)."""
        result: str = self._hv("connect_get_capabilities", "virConnectGetCapabilities")
        return result

    def get_sysinfo(self, flags: int = 0) -> str:
        """Host SMBIOS information as XML (``virConnectGetSysinfo``)."""
        result: str = self._hv("connect_get_sysinfo", "virConnectGetSysinfo", flags)
        return result

    def get_max_vcpus(self, type: str | None = None) -> int:
        """Maximum vCPUs per guest (``virConnectGetMaxVcpus``)."""
        result: int = self._hv("connect_get_max_vcpus", "virConnectGetMaxVcpus", type)
        return result

    def get_info(self) -> Any:
        """Node information (``virNodeGetInfo``), a :class:`~virtcore.results.NodeInfo`."""
        from virtcore.results import NodeInfo

        return NodeInfo(*self._hv("node_get_info", "virNodeGetInfo"))

    def new_stream(self, flags: int = 0) -> Stream:
        """A new, unbound stream (``virStreamNew``)."""
        self._check_open("virStreamNew", ErrorDomain.STREAMS)
        return Stream(self, flags)

    # -- events -------------------------------------------------------------

    def event_register(
        self,
        kind: EventKind,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        *,
        obj: Handle | None = None,
    ) -> int:
        """Call *callback(conn, handle, event)* for matching events; returns an id.

        Callbacks run on virtcore's event thread, in emission order; no event
        loop needs registering. Valid on read-only connections.
        """
        table_kind, api = _EVENT_APIS[kind]
        table = self._tables.get(table_kind)
        domain = _api_domain(api, table, table_kind)
        self._check_open(api, domain)
        # libvirt validates the id before asking whether the driver has events.
        ConnectionEvents.validate_event_id(kind, event_id)
        if table is None or table.event_source() is None:
            raise NoSupportError(api, domain=domain)
        ident = _identity_of(obj) if obj is not None else None
        return self._events.register(kind, event_id, _adapt_callback(callback), obj=ident)

    def event_deregister(self, callback_id: int, kind: EventKind = EventKind.DOMAIN) -> None:
        """Remove a callback registered with :meth:`event_register`.

        *kind* only chooses the libvirt API named in errors (a closed
        connection, a negative id): ``virConnectNetworkEventDeregisterAny``
        for :attr:`EventKind.NETWORK`, and so on. An unknown id raises
        :class:`~virtcore.errors.InvalidArgError` ("could not find event
        callback N for deletion").
        """
        table_kind, register_api = _EVENT_APIS[kind]
        api = register_api.replace("RegisterAny", "DeregisterAny")
        self._check_open(api, _api_domain(api, self._tables.get(table_kind), table_kind))
        self._events.deregister(callback_id, kind=kind)

    def flush_events(self, timeout: float = 10.0) -> bool:
        """Wait until every event emitted so far has been passed to its callbacks.

        Returns ``False`` if *timeout* seconds pass first. Called from inside an
        event callback it returns ``True`` at once: events queued behind the
        running callback cannot be waited for from the thread that delivers them.
        """
        return self._events.flush(timeout)

    def domain_event_register_any(
        self,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        dom: Domain | None = None,
    ) -> int:
        """Register for domain events (``virConnectDomainEventRegisterAny``)."""
        return self.event_register(EventKind.DOMAIN, event_id, callback, obj=dom)

    def network_event_register_any(
        self,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        net: Network | None = None,
    ) -> int:
        """Register for network events (``virConnectNetworkEventRegisterAny``)."""
        return self.event_register(EventKind.NETWORK, event_id, callback, obj=net)

    def storage_pool_event_register_any(
        self,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        pool: StoragePool | None = None,
    ) -> int:
        """Register for storage pool events (``virConnectStoragePoolEventRegisterAny``)."""
        return self.event_register(EventKind.STORAGE_POOL, event_id, callback, obj=pool)

    def node_device_event_register_any(
        self,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        dev: NodeDevice | None = None,
    ) -> int:
        """Register for node device events (``virConnectNodeDeviceEventRegisterAny``)."""
        return self.event_register(EventKind.NODE_DEVICE, event_id, callback, obj=dev)

    def secret_event_register_any(
        self,
        event_id: int,
        callback: Callable[[Connection, Handle, Event], None],
        secret: Secret | None = None,
    ) -> int:
        """Register for secret events (``virConnectSecretEventRegisterAny``)."""
        return self.event_register(EventKind.SECRET, event_id, callback, obj=secret)

    def events(
        self,
        kind: EventKind | None = None,
        event_ids: list[int] | None = None,
        *,
        obj: Handle | None = None,
    ) -> Any:
        """An async (and blocking) iterator over events: ``async for ev in conn.events()``."""
        self._check_open("virConnectDomainEventRegisterAny", ErrorDomain.DOMAIN)
        ident = _identity_of(obj) if obj is not None else None
        return self._events.stream(kind, event_ids, obj=ident)

    def _make_handle(self, ident: ObjectIdentity) -> Handle:
        if ident.kind is EventKind.DOMAIN:
            return Domain(self, ident.name, ident.uuid or "", ident.id)
        if ident.kind is EventKind.NETWORK:
            return Network(self, ident.name, ident.uuid or "")
        if ident.kind is EventKind.STORAGE_POOL:
            return StoragePool(self, ident.name, ident.uuid or "")
        if ident.kind is EventKind.NODE_DEVICE:
            return NodeDevice(self, ident.name)
        return Secret(self, ident.uuid or "", ident.usage_type, ident.name)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("ro" if self.read_only else "rw")
        return f"<Connection {self.uri!r} driver={self._driver.name!r} {state}>"


def _present_tables(tables: DriverTables) -> tuple[DriverTable, ...]:
    """The tables set in *tables*, each once, in slot order (``DriverTables.present``)."""
    found: list[DriverTable] = []
    for kind in TABLE_KINDS:
        table = getattr(tables, kind)
        if table is not None and not any(table is known for known in found):
            found.append(table)
    return tuple(found)


def _identity_of(handle: Handle) -> ObjectIdentity:
    if isinstance(handle, Domain):
        return ObjectIdentity(EventKind.DOMAIN, handle.name, handle.uuid, handle.id)
    if isinstance(handle, Network):
        return ObjectIdentity(EventKind.NETWORK, handle.name, handle.uuid)
    if isinstance(handle, StoragePool):
        return ObjectIdentity(EventKind.STORAGE_POOL, handle.name, handle.uuid)
    if isinstance(handle, NodeDevice):
        return ObjectIdentity(EventKind.NODE_DEVICE, handle.name)
    if isinstance(handle, Secret):
        return ObjectIdentity(
            EventKind.SECRET, handle.usage_id, handle.uuid, usage_type=handle.usage_type
        )
    raise InvalidArgError(f"objects of type {type(handle).__name__} emit no events")


def _adapt_callback(
    callback: Callable[[Connection, Handle, Event], None],
) -> Callable[[object, object, Event], None]:
    def deliver(owner: object, handle: object, event: Event) -> None:
        assert isinstance(owner, Connection) and isinstance(handle, Handle)
        callback(owner, handle, event)

    return deliver


_API_DOMAIN_PREFIXES: tuple[tuple[str, ErrorDomain], ...] = (
    ("virDomainSnapshot", ErrorDomain.DOMAIN_SNAPSHOT),
    ("virDomainRevertToSnapshot", ErrorDomain.DOMAIN_SNAPSHOT),
    ("virDomainCheckpoint", ErrorDomain.DOMAIN_CHECKPOINT),
    ("virStream", ErrorDomain.STREAMS),
)


def _api_domain(api: str, table: DriverTable | None, kind: str) -> ErrorDomain:
    """The error domain libvirt reports for failures of public API *api*."""
    for prefix, domain in _API_DOMAIN_PREFIXES:
        if api.startswith(prefix):
            return domain
    if table is not None:
        return table.error_domain
    return _KIND_DOMAINS.get(kind, ErrorDomain.NONE)


_KIND_DOMAINS: dict[str, ErrorDomain] = {
    "hypervisor": ErrorDomain.DOMAIN,
    "network": ErrorDomain.NETWORK,
    "storage": ErrorDomain.STORAGE,
    "nodedev": ErrorDomain.NODEDEV,
    "secret": ErrorDomain.SECRET,
    "nwfilter": ErrorDomain.NWFILTER,
    "interface": ErrorDomain.INTERFACE,
}
