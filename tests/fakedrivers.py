"""Purpose-built connection drivers for dispatch and connection tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from virtcore.auth import Auth, Credential
from virtcore.connection import Connection
from virtcore.driver import ConnectDriver, DriverTables, HypervisorDriver, NetworkDriver
from virtcore.enums.connect import ConnectCredentialType
from virtcore.errors import AuthFailedError, InternalError, NoDomainError, OperationInvalidError
from virtcore.events import Event, EventKind, EventSource, ObjectIdentity
from virtcore.hookspecs import hookimpl
from virtcore.objects import Domain, Network
from virtcore.uri import URI


class FakeHypervisor(HypervisorDriver):
    """A few in-memory domains with lifecycle events."""

    name = "FAKE"

    def __init__(self, source: EventSource | None = None) -> None:
        self.lock = threading.Lock()
        self.source = source if source is not None else EventSource()
        self.domains: dict[str, dict[str, Any]] = {}
        self.next_id = 1
        self.closed_for: list[Connection] = []
        for name in ("one", "two"):
            self.domains[name] = {"uuid": str(uuid.uuid4()), "id": -1}

    def event_source(self) -> EventSource:
        return self.source

    def connect_close(self, conn: Connection) -> None:
        self.closed_for.append(conn)

    def connect_get_type(self, conn: Connection) -> str:
        return "FAKE"

    def connect_get_hostname(self, conn: Connection) -> str:
        return "fakehost"

    def _dom(self, conn: Connection, name: str) -> Domain:
        try:
            rec = self.domains[name]
        except KeyError:
            raise NoDomainError() from None
        return Domain(conn, name, rec["uuid"], rec["id"])

    def connect_list_all_domains(self, conn: Connection, flags: int) -> list[Domain]:
        with self.lock:
            return [self._dom(conn, n) for n in sorted(self.domains)]

    def domain_lookup_by_name(self, conn: Connection, name: str) -> Domain:
        with self.lock:
            return self._dom(conn, name)

    def domain_create_with_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        with self.lock:
            rec = self.domains[dom.name]
            if rec["id"] != -1:
                raise OperationInvalidError("domain is already running")
            rec["id"] = self.next_id
            self.next_id += 1
            ident = ObjectIdentity(EventKind.DOMAIN, dom.name, rec["uuid"], rec["id"])
        self.source.emit(Event(EventKind.DOMAIN, 0, ident, (2, 0)))

    def domain_destroy_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        with self.lock:
            rec = self.domains[dom.name]
            if rec["id"] == -1:
                raise OperationInvalidError("domain is not running")
            ident = ObjectIdentity(EventKind.DOMAIN, dom.name, rec["uuid"], rec["id"])
            rec["id"] = -1
        self.source.emit(Event(EventKind.DOMAIN, 0, ident, (5, 1)))

    def domain_is_active(self, conn: Connection, dom: Domain) -> bool:
        with self.lock:
            return bool(self.domains[dom.name]["id"] != -1)

    def domain_get_xml_desc(self, conn: Connection, dom: Domain, flags: int) -> str:
        return f"<domain><name>{dom.name}</name></domain>"

    def domain_suspend(self, conn: Connection, dom: Domain) -> None:
        raise ValueError("driver bug")


class FakeNetworks(NetworkDriver):
    """One network, to exercise a secondary table."""

    def network_lookup_by_name(self, conn: Connection, name: str) -> Network:
        return Network(conn, name, "00000000-0000-0000-0000-000000000001")


@dataclass
class FakeConnectDriver(ConnectDriver):
    """A configurable connection driver recording what it was asked to open."""

    name: str = "fake"  # type: ignore[misc]
    schemes: tuple[str, ...] | None = ("fake",)  # type: ignore[misc]
    local_only: bool = False  # type: ignore[misc]
    remote_only: bool = False  # type: ignore[misc]
    embeddable: bool = False  # type: ignore[misc]
    decline: bool = False
    fail: bool = False
    probe_uri: str | None = None
    with_network: bool = False
    hypervisor: FakeHypervisor | None = None
    opened: list[URI | None] = field(default_factory=list)
    auth_seen: list[Auth | None] = field(default_factory=list)
    require_password: str | None = None

    def probe(self) -> str | None:
        return self.probe_uri

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        self.opened.append(uri)
        self.auth_seen.append(auth)
        if self.decline:
            return None
        if self.fail:
            raise InternalError(f"{self.name} refuses")
        if self.require_password is not None:
            cred = Credential(ConnectCredentialType.PASSPHRASE, "Password:")
            if auth is None:
                raise AuthFailedError("no credentials")
            auth.ask([cred])
            if cred.result != self.require_password:
                raise AuthFailedError("wrong password")
        hv = self.hypervisor if self.hypervisor is not None else FakeHypervisor()
        return DriverTables(hypervisor=hv, network=FakeNetworks() if self.with_network else None)

    __hash__ = object.__hash__


def plugin_of(*drivers: ConnectDriver) -> Any:
    """A plugin object whose hook returns *drivers*."""

    @hookimpl
    def virtcore_connect_drivers() -> Sequence[ConnectDriver]:
        return list(drivers)

    return SimpleNamespace(virtcore_connect_drivers=virtcore_connect_drivers)
