"""Intercepted driver tables: where fault rules and deterministic mode meet the calls.

:class:`~virtcore.drivers.test.driver.TestConnectDriver` hands every new
connection its tables through :func:`wrap_tables`: each table is replaced by
an :class:`InterceptedTable` that forwards everything to it. A
:class:`~virtcore.connection.Connection` finds table methods with
``getattr(table, method)``; the intercepted table answers with a wrapper that,
around the real method:

1. binds the connection to its :class:`~virtcore.drivers.test.faults.ConnectionSession`
   (so the host can lose it) and applies the host's fault rules
   (:meth:`~virtcore.drivers.test.faults.FaultInjector.before_call`);
2. in seeded deterministic mode, completes the XML document of define,
   create and device attach/update calls with generated identifiers
   (:meth:`~virtcore.drivers.test.determinism.Determinism.complete_text`);
3. with a virtual clock, replaces ``virDomainGetInfo``'s CPU time;
4. brackets every call not in :data:`READ_ONLY_METHODS` with
   :meth:`~virtcore.drivers.test.state.TestState.begin_change` and
   ``end_change``, so that documents the host caches are never served stale.

A method the table lacks stays missing (the connection reports NO_SUPPORT),
attributes that are not public methods (``state``) are the table's own, and
the wrappers are made once per method and connection. While no rule is in
force, queries (:data:`READ_ONLY_METHODS`) of a connection the host knows go
to the driver's own methods, without any wrapper (``virDomainGetInfo`` only
while no virtual clock runs), and other calls get a wrapper doing step 4 alone:
adding a rule, starting the clock or binding a connection makes its
connection look its methods up again
(:meth:`~virtcore.connection.Connection.forget_driver_methods`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from virtcore.driver import TABLE_KINDS, DriverTable, DriverTables
from virtcore.drivers.test.determinism import Determinism, determinism
from virtcore.drivers.test.faults import ConnectionSession, FaultInjector, injector
from virtcore.drivers.test.state import GENERATIONS, TestState

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.events import EventSource

__all__ = ["READ_ONLY_METHODS", "InterceptedTable", "wrap_tables"]

logger = logging.getLogger(__name__)


def _xml_role(method: str) -> str | None:
    """Which identifiers a method's XML argument may lack: an object's, a device's, or none."""
    if "define_xml" in method or "create_xml" in method:
        return "object"
    if "device" in method and ("attach" in method or "update" in method):
        return "device"
    return None


# Calls that never modify a host. Every other call is bracketed by
# TestState.begin_change/end_change, which keeps cached documents honest; a call
# missing here only costs that bookkeeping, a modifying call listed here would
# let a stale document out, so only plain queries belong here.
READ_ONLY_METHODS = frozenset(
    {
        "connect_get_capabilities",
        "connect_get_hostname",
        "connect_get_max_vcpus",
        "connect_get_sysinfo",
        "connect_get_type",
        "connect_get_version",
        "connect_is_alive",
        "connect_is_encrypted",
        "connect_is_secure",
        "connect_list_all_domains",
        "connect_list_defined_domains",
        "connect_list_domains",
        "connect_num_of_defined_domains",
        "connect_num_of_domains",
        "domain_get_autostart",
        "domain_get_cpu_stats",
        "domain_get_info",
        "domain_get_max_memory",
        "domain_get_memory_parameters",
        "domain_get_os_type",
        "domain_get_state",
        "domain_get_vcpus",
        "domain_get_vcpus_flags",
        "domain_get_xml_desc",
        "domain_has_managed_save_image",
        "domain_is_active",
        "domain_is_persistent",
        "domain_is_updated",
        "domain_lookup_by_id",
        "domain_lookup_by_name",
        "domain_lookup_by_uuid",
        "domain_memory_stats",
        "node_get_cells_free_memory",
        "node_get_cpu_map",
        "node_get_cpu_stats",
        "node_get_free_memory",
        "node_get_info",
        "node_get_security_model",
    }
)


def _complete_args(det: Determinism, args: tuple[Any, ...], device: bool) -> tuple[Any, ...]:
    for index, arg in enumerate(args):
        if isinstance(arg, str) and arg.lstrip().startswith("<"):
            done = det.complete_text(arg, device=device)
            if done is arg:
                return args
            return (*args[:index], done, *args[index + 1 :])
    return args


class InterceptedTable(DriverTable):
    """A driver table standing in for another; see the module documentation.

    It overrides every method :class:`~virtcore.driver.DriverTable` defines,
    so that none of them shadows the forwarding.
    """

    def __init__(
        self,
        target: DriverTable,
        session: ConnectionSession,
        faults: FaultInjector,
        det: Determinism,
    ) -> None:
        self._target = target
        self._faults = faults
        self._det = det
        self.session = session
        """The connection's standing with the host, shared by its tables."""

    @property
    def target(self) -> DriverTable:
        """The table calls are forwarded to."""
        return self._target

    def event_source(self) -> EventSource | None:
        """The wrapped table's event source."""
        return self._target.event_source()

    def connect_close(self, conn: Connection) -> None:
        """Forward the close; the host forgets the connection."""
        try:
            self._target.connect_close(conn)
        finally:
            if not self.session.closed:
                self.session.closed = True
                self._faults.detach(self.session)

    def __getattr__(self, name: str) -> Any:
        # Not cached in the instance: whether a query goes to the driver's own
        # method or to a wrapper changes with the rules (see _quiet).
        target = self.__dict__.get("_target")
        if target is None or name.startswith("__"):
            raise AttributeError(name)
        value = getattr(target, name)
        if name.startswith("_") or not callable(value):
            return value
        quiet = self._quiet()
        if (
            quiet
            and name in READ_ONLY_METHODS
            and (name != "domain_get_info" or self._det.clock is None)
        ):
            return value
        key = (name, quiet)
        wrappers: dict[tuple[str, bool], Callable[..., Any]] = self.__dict__.setdefault(
            "_wrappers", {}
        )
        wrapped = wrappers.get(key)
        if wrapped is None:
            wrapped = wrappers.setdefault(key, self._intercept(name, value, quiet=quiet))
        return wrapped

    def _quiet(self) -> bool:
        """Whether calls need no fault or connection checks right now.

        So it is once the connection is known to the host, while no fault
        rule is in force and no loss is pending: a query (other than
        ``virDomainGetInfo`` under a virtual clock) then goes straight to the
        driver, and other calls keep only the wrapper's bookkeeping. The
        connection keeps what it was given until the fault injector, the
        clock or the binding tells it to look again
        (:meth:`~virtcore.connection.Connection.forget_driver_methods`).
        """
        session = self.session
        return (
            session.bound
            and not session.closed
            and session.pending_loss is None
            and not self._faults.active
        )

    def _intercept(
        self, method: str, func: Callable[..., Any], *, quiet: bool = False
    ) -> Callable[..., Any]:
        """The wrapper of *method*; *quiet* leaves out the fault and connection checks."""
        session = self.session
        faults = self._faults
        det = self._det
        role = _xml_role(method)
        device = role == "device"
        domain_info = method == "domain_get_info"

        state = session.state

        def check(conn: Connection, args: tuple[Any, ...]) -> None:
            """Bind the connection, then apply the fault rules and any pending loss."""
            if not session.bound:
                session.bind(conn)
            if faults.active or session.pending_loss is not None:
                faults.before_call(session, method, conn, args)

        # Every call pays for these wrappers, so each method gets only the checks it needs.
        if method in READ_ONLY_METHODS and not domain_info and role is None:

            def call(conn: Connection, *args: Any) -> Any:
                check(conn, args)
                return func(conn, *args)

        elif domain_info:

            def call(conn: Connection, *args: Any) -> Any:
                check(conn, args)
                result = func(conn, *args)
                if det.clock is not None:
                    result = det.domain_info(args[0], result)
                return result

        elif role is None:
            # TestState.begin_change/end_change, inlined: lifecycle calls are hot.
            in_flight = state.changes_in_flight

            def bracketed(conn: Connection, *args: Any) -> Any:
                in_flight.append(None)
                state.generation = next(GENERATIONS)
                try:
                    return func(conn, *args)
                finally:
                    state.generation = next(GENERATIONS)
                    in_flight.pop()

            if quiet:
                call = bracketed
            else:

                def call(conn: Connection, *args: Any) -> Any:
                    check(conn, args)
                    return bracketed(conn, *args)

        else:

            def call(conn: Connection, *args: Any) -> Any:
                check(conn, args)
                if det.seed is not None:
                    args = _complete_args(det, args, device)
                state.begin_change()
                try:
                    return func(conn, *args)
                finally:
                    state.end_change()

        return functools.update_wrapper(call, func)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._target!r}>"


_proxy_classes: dict[type[DriverTable], type[InterceptedTable]] = {}


def _proxy_class(cls: type[DriverTable]) -> type[InterceptedTable]:
    """A subclass of :class:`InterceptedTable` presenting *cls*'s kind, error domain and name."""
    found = _proxy_classes.get(cls)
    if found is not None:
        return found
    attrs: dict[str, Any] = {
        "kind": cls.kind,
        "error_domain": cls.error_domain,
        "__module__": __name__,
        "__doc__": f"{cls.__name__} with fault injection and deterministic mode.",
    }
    if hasattr(cls, "name"):
        attrs["name"] = cls.name
    made = type(f"Intercepted{cls.__name__}", (InterceptedTable,), attrs)
    # Racing threads may both build one; either serves equally well.
    return _proxy_classes.setdefault(cls, made)


def wrap_tables(state: TestState, tables: DriverTables) -> DriverTables:
    """*tables* for one new connection to *state*, each intercepted (a shared table once)."""
    faults = injector(state)
    det = determinism(state)
    session = ConnectionSession(state, tables)
    faults.attach(session)
    proxies: dict[int, InterceptedTable] = {}
    slots: dict[str, Any] = {}
    for kind in TABLE_KINDS:
        table = getattr(tables, kind)
        if table is None:
            continue
        proxy = proxies.get(id(table))
        if proxy is None:
            proxy = _proxy_class(type(table))(table, session, faults, det)
            proxies[id(table)] = proxy
        slots[kind] = proxy
    return DriverTables(**slots)
