"""Object handles: cheap value objects that dispatch to the connection's driver tables.

A handle holds identity only (name, UUID, id, ...) and a back-reference to its
:class:`~virtcore.connection.Connection`; state lives in the driver. Two handles
are equal when they name the same object through the same connection. One
module per family: :mod:`.domain`, :mod:`.network`, :mod:`.storage`,
:mod:`.host`; :mod:`.base` holds the shared base class and streams.
"""

from virtcore.objects.base import Handle, Stream, StreamBackend
from virtcore.objects.domain import Domain, DomainCheckpoint, DomainSnapshot
from virtcore.objects.host import Interface, NodeDevice, NWFilter, NWFilterBinding, Secret
from virtcore.objects.network import Network, NetworkPort
from virtcore.objects.storage import StoragePool, StorageVol

__all__ = [
    "Domain",
    "DomainCheckpoint",
    "DomainSnapshot",
    "Handle",
    "Interface",
    "NWFilter",
    "NWFilterBinding",
    "Network",
    "NetworkPort",
    "NodeDevice",
    "Secret",
    "StoragePool",
    "StorageVol",
    "Stream",
    "StreamBackend",
]
