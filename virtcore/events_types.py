"""Event values: what an event is about and what it carries.

:class:`EventKind` names the object class (each has its own event id space),
:class:`ObjectIdentity` the object, :class:`Event` one emitted event and
:class:`ConnectionEvent` what an event stream yields. ``KIND_INFO`` records,
per kind, libvirt 9.0's registration API names, id range and error domain.
All are importable from :mod:`virtcore.events`.
"""

from __future__ import annotations

import enum
import re
import uuid as _uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError

__all__ = ["KIND_INFO", "ConnectionEvent", "Event", "EventKind", "KindInfo", "ObjectIdentity"]


class EventKind(enum.Enum):
    """The object class an event is about; each has its own event id space."""

    DOMAIN = "domain"
    NETWORK = "network"
    STORAGE_POOL = "storage_pool"
    NODE_DEVICE = "node_device"
    SECRET = "secret"


class KindInfo(NamedTuple):
    register_api: str
    deregister_api: str
    id_count: int  # libvirt 9.0's VIR_<KIND>_EVENT_ID_LAST
    error_domain: ErrorDomain


def _kind_info(stem: str, id_count: int, error_domain: ErrorDomain) -> KindInfo:
    api = f"virConnect{stem}Event"
    return KindInfo(f"{api}RegisterAny", f"{api}DeregisterAny", id_count, error_domain)


KIND_INFO: dict[EventKind, KindInfo] = {
    EventKind.DOMAIN: _kind_info("Domain", 27, ErrorDomain.DOMAIN),
    EventKind.NETWORK: _kind_info("Network", 1, ErrorDomain.NETWORK),
    EventKind.STORAGE_POOL: _kind_info("StoragePool", 2, ErrorDomain.STORAGE),
    EventKind.NODE_DEVICE: _kind_info("NodeDevice", 2, ErrorDomain.NODEDEV),
    EventKind.SECRET: _kind_info("Secret", 2, ErrorDomain.SECRET),
}


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class ObjectIdentity:
    """Which object an event is about: enough to build a handle for it.

    ``uuid`` is kept canonical (lower case, dashed; ``""`` means none) and a
    malformed one raises :class:`~virtcore.errors.InvalidArgError`. ``id`` is a
    running domain's id (-1 when inactive or not a domain).
    """

    kind: EventKind
    name: str
    uuid: str | None = None
    id: int = -1
    usage_type: int = 0
    """A secret's ``virSecretUsageType`` (0 for every other kind of object)."""

    def __post_init__(self) -> None:
        if self.uuid == "":
            object.__setattr__(self, "uuid", None)
        elif self.uuid is not None and not _CANONICAL_UUID.fullmatch(self.uuid):
            try:
                canonical = str(_uuid.UUID(self.uuid))
            except ValueError:
                raise InvalidArgError(f"malformed uuid element '{self.uuid}'") from None
            object.__setattr__(self, "uuid", canonical)

    def same_object(self, other: ObjectIdentity) -> bool:
        """Whether *other* names the same object, the way libvirt filters events.

        Objects are compared by UUID when this identity has one, otherwise by
        name (node devices have no UUID). The domain id is ignored: it changes
        every time a domain starts.
        """
        if self.kind is not other.kind:
            return False
        if self.uuid is not None:
            return self.uuid == other.uuid
        return self.name == other.name


@dataclass(frozen=True, slots=True)
class Event:
    """One event as a driver emits it.

    ``event_id`` is libvirt's event id number for the kind (for domains
    ``VIR_DOMAIN_EVENT_ID_LIFECYCLE`` = 0, ``REBOOT`` = 1, ...); ``args`` are the
    event's payload in libvirt's callback order, e.g. ``(event_type, detail)``
    for a lifecycle event.
    """

    kind: EventKind
    event_id: int
    obj: ObjectIdentity
    args: tuple[Any, ...] = ()


class ConnectionEvent(NamedTuple):
    """What an :class:`EventStream` yields: the object's handle and the event."""

    handle: object
    event: Event
