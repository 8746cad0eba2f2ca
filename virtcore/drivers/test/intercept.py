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
3. with a virtual clock, replaces ``virDomainGetInfo``'s CPU time.

A method the table lacks stays missing (the connection reports NO_SUPPORT),
attributes that are not public methods (``state``) are the table's own, and
the wrappers are made once per method and connection. When neither rules nor
determinism are in use a call costs one extra function frame.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from virtcore.driver import DriverTable, DriverTables
from virtcore.drivers.test.determinism import Determinism, determinism
from virtcore.drivers.test.faults import ConnectionSession, FaultInjector, injector
from virtcore.drivers.test.state import TestState

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.events import EventSource

__all__ = ["InterceptedTable", "wrap_tables"]

logger = logging.getLogger(__name__)


def _xml_role(method: str) -> str | None:
    """Which identifiers a method's XML argument may lack: an object's, a device's, or none."""
    if "define_xml" in method or "create_xml" in method:
        return "object"
    if "device" in method and ("attach" in method or "update" in method):
        return "device"
    return None


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
        target = self.__dict__.get("_target")
        if target is None or name.startswith("__"):
            raise AttributeError(name)
        value = getattr(target, name)
        if name.startswith("_") or not callable(value):
            return value
        wrapped = self._intercept(name, value)
        self.__dict__[name] = wrapped
        return wrapped

    def _intercept(self, method: str, func: Callable[..., Any]) -> Callable[..., Any]:
        session = self.session
        faults = self._faults
        det = self._det
        role = _xml_role(method)
        device = role == "device"
        domain_info = method == "domain_get_info"

        # Every call pays for these wrappers, so each method gets only the checks it needs.
        if role is None and not domain_info:

            def call(conn: Connection, *args: Any) -> Any:
                if not session.bound:
                    session.bind(conn)
                if faults.active or session.pending_loss is not None:
                    faults.before_call(session, method, conn, args)
                return func(conn, *args)

        else:

            def call(conn: Connection, *args: Any) -> Any:
                if not session.bound:
                    session.bind(conn)
                if faults.active or session.pending_loss is not None:
                    faults.before_call(session, method, conn, args)
                if role is not None and det.seed is not None:
                    args = _complete_args(det, args, device)
                result = func(conn, *args)
                if domain_info and det.clock is not None:
                    result = det.domain_info(args[0], result)
                return result

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
    for slot in fields(tables):
        table = getattr(tables, slot.name)
        if table is None:
            continue
        proxy = proxies.get(id(table))
        if proxy is None:
            proxy = _proxy_class(type(table))(table, session, faults, det)
            proxies[id(table)] = proxy
        slots[slot.name] = proxy
    return DriverTables(**slots)
