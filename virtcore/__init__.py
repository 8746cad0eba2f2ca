"""virtcore: libvirt rebuilt in pure Python.

Open a connection with a libvirt URI and work with typed handles::

    import virtcore

    with virtcore.open("test:///default") as conn:
        for dom in conn.list_all_domains():
            print(dom.name, dom.state())

Errors are :class:`~virtcore.errors.VirtError` subclasses carrying libvirt's
codes; hypervisor backends are plugins (see :mod:`virtcore.hookspecs`).
"""

import logging

from virtcore.auth import Auth, Credential
from virtcore.connection import Connection, open, open_auth, open_read_only
from virtcore.errors import (
    ConnectionClosedError,
    InvalidArgError,
    NoDomainError,
    NoSupportError,
    NotFoundError,
    OperationDeniedError,
    OperationInvalidError,
    OperationTimeoutError,
    VirtError,
    XMLError,
)
from virtcore.events import Event, EventKind
from virtcore.hookspecs import hookimpl
from virtcore.objects import (
    Domain,
    DomainCheckpoint,
    DomainSnapshot,
    Interface,
    Network,
    NetworkPort,
    NodeDevice,
    NWFilter,
    NWFilterBinding,
    Secret,
    StoragePool,
    StorageVol,
    Stream,
)
from virtcore.uri import URI

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "URI",
    "Auth",
    "Connection",
    "ConnectionClosedError",
    "Credential",
    "Domain",
    "DomainCheckpoint",
    "DomainSnapshot",
    "Event",
    "EventKind",
    "Interface",
    "InvalidArgError",
    "NWFilter",
    "NWFilterBinding",
    "Network",
    "NetworkPort",
    "NoDomainError",
    "NoSupportError",
    "NodeDevice",
    "NotFoundError",
    "OperationDeniedError",
    "OperationInvalidError",
    "OperationTimeoutError",
    "Secret",
    "StoragePool",
    "StorageVol",
    "Stream",
    "VirtError",
    "XMLError",
    "__version__",
    "hookimpl",
    "open",
    "open_auth",
    "open_read_only",
]
