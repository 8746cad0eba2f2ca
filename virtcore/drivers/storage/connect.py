"""The ``storage`` connection driver: ``storage:///system``, ``/session`` and ``/embed``.

Like libvirt's storage driver (``storageConnectDriver``), the scheme is
local-only and embeddable, and the connection's hypervisor table is the small
one libvirt's ``storageHypervisorDriver`` is: the connection is always alive,
secure and unencrypted (it is in-process), its type is ``storage`` and its
capabilities list the pool types the driver supports. Other hypervisor calls
(host name, version, domains) fail with ``VIR_ERR_NO_SUPPORT`` as they do in
libvirt.

``open`` gets the host for the URI's mode through
:func:`virtcore.hosts.host_for` (which waits until every state driver of the
host has finished initializing) and returns that host's
:class:`~.table.StorageTable`. As in libvirt, root may open ``/system`` only
and other users ``/session`` only (the same host ``qemu:///...`` opens); any
other path fails with "unexpected storage URI path"; a host without an
initialized storage state driver fails with "storage state driver is not
active".
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from virtcore.driver import ConnectDriver, DriverTables, HypervisorDriver
from virtcore.drivers.storage.common import check_flags
from virtcore.drivers.storage.state import SUPPORTED_POOL_TYPES
from virtcore.enums.connect import ConnectFlags
from virtcore.errors import InternalError

if TYPE_CHECKING:
    from virtcore.auth import Auth
    from virtcore.connection import Connection
    from virtcore.registry import Registry
    from virtcore.uri import URI

__all__ = ["StorageConnectDriver", "StorageHypervisorTable"]

logger = logging.getLogger(__name__)


class StorageHypervisorTable(HypervisorDriver):
    """The hypervisor table of a storage-only connection (``storageHypervisorDriver``)."""

    name = "storage"

    def connect_get_type(self, conn: Connection) -> str:
        """``storage``: libvirt reports the driver's name for drivers without a type call."""
        return "storage"

    def connect_is_alive(self, conn: Connection) -> int:
        """An in-process connection is alive until closed."""
        return 1

    def connect_is_secure(self, conn: Connection) -> int:
        """An in-process connection cannot be eavesdropped on."""
        return 1

    def connect_is_encrypted(self, conn: Connection) -> int:
        """Nothing crosses a wire, so nothing is encrypted."""
        return 0

    def connect_get_capabilities(self, conn: Connection) -> str:
        """The pool types the driver supports (``storageConnectGetCapabilities``)."""
        values = "".join(f"      <value>{t}</value>\n" for t in SUPPORTED_POOL_TYPES)
        return (
            "<capabilities>\n\n  <pool>\n    <enum name='type'>\n"
            f"{values}    </enum>\n  </pool>\n\n</capabilities>\n"
        )


class StorageConnectDriver(ConnectDriver):
    """Opens ``storage:///...`` connections on the host storage driver."""

    name = "storage"
    schemes = ("storage",)
    local_only = True
    embeddable = True

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        """The storage tables of the host this URI names."""
        from virtcore.drivers.storage import storage_table_for
        from virtcore.hosts import host_for

        check_flags(flags, int(ConnectFlags.RO), "storageConnectOpen")
        if uri is None:
            return None
        if uri.is_embedded:
            root = uri.embed_root
            host = host_for(privileged=False, root=root, registry=self.registry)
        else:
            # As libvirt's virConnectValidateURIPath: root serves /system only,
            # other users /session only; both share the host of qemu:///...
            privileged = os.geteuid() == 0
            path = uri.path or ""
            wanted = "/system" if privileged else "/session"
            if path != wanted:
                raise InternalError(f"unexpected storage URI path '{path}', try storage://{wanted}")
            host = host_for(privileged=privileged, registry=self.registry)
        table = storage_table_for(host)
        if table is None:
            raise InternalError("storage state driver is not active")
        return DriverTables(hypervisor=StorageHypervisorTable(), storage=table)
