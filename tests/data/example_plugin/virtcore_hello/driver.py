"""A complete, tiny backend: two in-memory guests that can be started and stopped."""

from __future__ import annotations

import threading
import uuid

from virtcore import Domain, NoDomainError, OperationInvalidError
from virtcore.connection import Connection
from virtcore.driver import ConnectDriver, DriverTables, HypervisorDriver
from virtcore.enums.errors import ErrorDomain
from virtcore.uri import URI


class _Guest:
    def __init__(self, name: str) -> None:
        self.name = name
        self.uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"hello:{name}"))
        self.id = -1


class HelloHypervisor(HypervisorDriver):
    name = "HELLO"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guests = {n: _Guest(n) for n in ("alpha", "beta")}
        self._next_id = 1

    def _handle(self, conn: Connection, g: _Guest) -> Domain:
        return Domain(conn, g.name, g.uuid, g.id)

    def _guest(self, dom: Domain) -> _Guest:
        try:
            return self._guests[dom.name]
        except KeyError:
            raise NoDomainError(
                f"no domain with matching name '{dom.name}'", domain=ErrorDomain.NONE
            ) from None

    def connect_get_type(self, conn: Connection) -> str:
        return "HELLO"

    def connect_get_hostname(self, conn: Connection) -> str:
        return "hello-host"

    def connect_list_all_domains(self, conn: Connection, flags: int) -> list[Domain]:
        with self._lock:
            return [self._handle(conn, g) for g in self._guests.values()]

    def domain_lookup_by_name(self, conn: Connection, name: str) -> Domain:
        with self._lock:
            return self._handle(conn, self._guest(Domain(conn, name, "")))

    def domain_create_with_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        with self._lock:
            g = self._guest(dom)
            if g.id != -1:
                raise OperationInvalidError("domain is already running")
            g.id, self._next_id = self._next_id, self._next_id + 1

    def domain_destroy_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        with self._lock:
            g = self._guest(dom)
            if g.id == -1:
                raise OperationInvalidError("domain is not running")
            g.id = -1

    def domain_is_active(self, conn: Connection, dom: Domain) -> bool:
        with self._lock:
            return self._guest(dom).id != -1


class HelloConnectDriver(ConnectDriver):
    name = "hello"
    schemes = ("hello",)
    local_only = True

    def open(self, uri: URI | None, auth: object, flags: int) -> DriverTables | None:
        if uri is None or uri.path not in ("", "/"):
            return None  # not ours: let another driver try
        return DriverTables(hypervisor=HelloHypervisor())
