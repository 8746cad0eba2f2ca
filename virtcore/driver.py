"""Connection drivers and the driver tables a connection dispatches to.

This mirrors libvirt's ``virConnectDriver`` record (reference §1): a
:class:`ConnectDriver` claims URI schemes and opens connections; a successful
``open`` returns :class:`DriverTables`, one mandatory hypervisor table and
optional secondary tables (network, storage, nodedev, secret, nwfilter,
interface).

Table methods are named after libvirt's driver-struct fields in snake_case
(``connectNumOfDomains`` → ``connect_num_of_domains``, ``domainCreateWithFlags``
→ ``domain_create_with_flags``) and take the :class:`~virtcore.connection.Connection`
as first argument, then the object handle where libvirt passes one, then the
call's arguments. A table simply does not define what it does not support: the
connection turns a missing table or method into
:class:`~virtcore.errors.NoSupportError` naming the public API
("this function is not supported by the connection driver: virConnectNumOfSecrets").
Methods return handles (:mod:`virtcore.objects`) built with the connection they
were given, plain values, or raise :class:`~virtcore.errors.VirtError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from virtcore.enums.errors import ErrorDomain

if TYPE_CHECKING:
    from virtcore.auth import Auth
    from virtcore.connection import Connection
    from virtcore.events import EventSource
    from virtcore.uri import URI

__all__ = [
    "TABLE_KINDS",
    "ConnectDriver",
    "DriverTable",
    "DriverTables",
    "HypervisorDriver",
    "InterfaceDriver",
    "NWFilterDriver",
    "NetworkDriver",
    "NodeDeviceDriver",
    "SecretDriver",
    "StorageDriver",
]


class DriverTable:
    """Base of every driver table.

    ``error_domain`` is the subsystem libvirt reports for the public APIs that
    dispatch to this kind of table (e.g. ``VIR_FROM_SECRET`` for
    ``virSecretLookupByUUID``), used for NO_SUPPORT, read-only and
    closed-connection errors raised on the table's behalf.
    """

    kind: ClassVar[str] = ""
    error_domain: ClassVar[ErrorDomain] = ErrorDomain.NONE

    def event_source(self) -> EventSource | None:
        """The source this table's objects emit events into, if any."""
        return None

    def connect_close(self, conn: Connection) -> None:
        """Release per-connection resources; called once when the connection closes."""


class HypervisorDriver(DriverTable):
    """The mandatory table: connection, node and domain calls (``virHypervisorDriver``)."""

    kind = "hypervisor"
    error_domain = ErrorDomain.DOMAIN
    name: ClassVar[str] = ""
    """Driver name as libvirt's hypervisor table names it (``"Test"``, ``"QEMU"``)."""


class NetworkDriver(DriverTable):
    """Virtual networks and network ports (``virNetworkDriver``)."""

    kind = "network"
    error_domain = ErrorDomain.NETWORK


class StorageDriver(DriverTable):
    """Storage pools and volumes (``virStorageDriver``)."""

    kind = "storage"
    error_domain = ErrorDomain.STORAGE


class NodeDeviceDriver(DriverTable):
    """Host devices (``virNodeDeviceDriver``)."""

    kind = "nodedev"
    error_domain = ErrorDomain.NODEDEV


class SecretDriver(DriverTable):
    """Secrets (``virSecretDriver``)."""

    kind = "secret"
    error_domain = ErrorDomain.SECRET


class NWFilterDriver(DriverTable):
    """Network filters and their bindings (``virNWFilterDriver``)."""

    kind = "nwfilter"
    error_domain = ErrorDomain.NWFILTER


class InterfaceDriver(DriverTable):
    """Host network interfaces (``virInterfaceDriver``)."""

    kind = "interface"
    error_domain = ErrorDomain.INTERFACE


TABLE_KINDS: tuple[str, ...] = (
    "hypervisor",
    "network",
    "storage",
    "nodedev",
    "secret",
    "nwfilter",
    "interface",
)
"""The table slots of a connection, in libvirt's order."""


@dataclass
class DriverTables:
    """What a successful :meth:`ConnectDriver.open` returns."""

    hypervisor: HypervisorDriver
    network: NetworkDriver | None = None
    storage: StorageDriver | None = None
    nodedev: NodeDeviceDriver | None = None
    secret: SecretDriver | None = None
    nwfilter: NWFilterDriver | None = None
    interface: InterfaceDriver | None = None

    def get(self, kind: str) -> DriverTable | None:
        """The table in slot *kind* (one of :data:`TABLE_KINDS`), or ``None``."""
        if kind not in TABLE_KINDS:
            raise KeyError(kind)
        table: DriverTable | None = getattr(self, kind)
        return table

    def present(self) -> Iterator[DriverTable]:
        """Every table that is set, each object once (a table may fill two slots)."""
        seen: list[DriverTable] = []
        for kind in TABLE_KINDS:
            table: DriverTable | None = getattr(self, kind)
            if table is not None and not any(table is known for known in seen):
                seen.append(table)
                yield table


class ConnectDriver:
    """A connection driver: claims URIs and opens connections (``virConnectDriver``).

    Subclasses set the class attributes and implement :meth:`open`:

    * ``name`` - shown by ``virtcore backends`` and in logs.
    * ``schemes`` - URI schemes claimed, compared exactly (``"test+unix"`` is
      not ``"test"``); ``None`` is a wildcard, tried after every driver that
      lists schemes (and for a missing URI); an empty tuple claims nothing.
    * ``local_only`` - skipped for URIs that name a server.
    * ``remote_only`` - requires a server part ("URI is missing the server part").
    * ``embeddable`` - may serve ``scheme:///embed?root=/abs/dir``.
    """

    name: ClassVar[str] = ""
    schemes: ClassVar[tuple[str, ...] | None] = ()
    local_only: ClassVar[bool] = False
    remote_only: ClassVar[bool] = False
    embeddable: ClassVar[bool] = False

    def probe(self) -> str | None:
        """Offer a default URI when the caller gave none (``connectURIProbe``)."""
        return None

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        """Open a connection to *uri* (``None`` only for wildcard drivers).

        Return the tables on success, ``None`` to decline (the next driver is
        tried), or raise :class:`~virtcore.errors.VirtError` to fail the open.
        """
        raise NotImplementedError(f"{type(self).__name__}.open")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} schemes={self.schemes!r}>"
