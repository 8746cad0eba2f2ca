"""The state of one test host: its objects, domain ids, events and lock.

A :class:`TestState` is what libvirt's test driver calls ``testDriver``: the
node description, the domains, networks, pools, interfaces and node devices,
the next domain id and the event queue. ``test:///default`` shares one state
between all its connections; every configuration-file connection has its own.

Concurrency: one re-entrant lock per state (:attr:`TestState.lock`) guards
every object in it. Table methods hold it for the whole call, so each call is
atomic with respect to every other call on the same host, and events are
emitted (queued, never delivered) while it is held, so their order is the
order in which the state changed.

:class:`DomainObj` carries libvirt's ``virDomainObj`` semantics: a running
persistent domain has a live definition (``def_``) and a separate persistent
one (``new_def``) that becomes live again when it stops. libvirt copies the
definition when the domain starts; here the two are one object until either
is about to change or the persistent one is handed out
(:meth:`DomainObj.unshare`, :meth:`DomainObj.persistent_def`), when the copy
is made - for definitions whose copy formats exactly like them
(:meth:`DomainDef.copies_unchanged`; the others are copied at start, as
libvirt's copy re-orders some of their devices). A domain that only starts and
stops so never pays for a copy. Copies keep their ``<os>``, ``<features>`` and
``<clock>`` serialised until something reads them
(:meth:`DomainDef.defer_sections`), so that a live definition a stop drops
costs no tree to free.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.objxml import (
    InterfaceDef,
    NetworkDef,
    NodeDeviceDef,
    PoolDef,
    VolumeDef,
)
from virtcore.enums import domain as domain_enums
from virtcore.enums.domain import DomainRunningReason, DomainShutoffReason, DomainState
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, OperationFailedError, OperationInvalidError
from virtcore.events import Event, EventKind, EventSource, ObjectIdentity

__all__ = [
    "AuthUser",
    "CellInfo",
    "DomainObj",
    "InterfaceObj",
    "NetworkObj",
    "NodeInfo",
    "PoolObj",
    "TestState",
    "check_flags",
    "typed_state",
]

_DOM = ErrorDomain.DOMAIN

# The reason enumeration that goes with each domain state.
_REASONS: dict[DomainState, type[IntEnum]] = {
    DomainState.NOSTATE: domain_enums.DomainNostateReason,
    DomainState.RUNNING: domain_enums.DomainRunningReason,
    DomainState.BLOCKED: domain_enums.DomainBlockedReason,
    DomainState.PAUSED: domain_enums.DomainPausedReason,
    DomainState.SHUTDOWN: domain_enums.DomainShutdownReason,
    DomainState.SHUTOFF: domain_enums.DomainShutoffReason,
    DomainState.CRASHED: domain_enums.DomainCrashedReason,
    DomainState.PMSUSPENDED: domain_enums.DomainPMSuspendedReason,
}


def typed_state(state: int, reason: int) -> tuple[DomainState, int]:
    """*state* as :class:`DomainState` and *reason* as its state's reason enum."""
    key = (state, reason)
    found = _TYPED.get(key)
    if found is not None:
        return found
    typed = DomainState(state)
    try:
        found = typed, _REASONS[typed](reason)
    except ValueError:
        found = typed, int(reason)
    if len(_TYPED) < 1024:  # bounded: reasons outside the enums could otherwise pile up
        _TYPED[key] = found
    return found


# Enum construction costs microseconds and every state change converts a pair.
_TYPED: dict[tuple[int, int], tuple[DomainState, int]] = {}


def check_flags(flags: int, supported: int, function: str) -> None:
    """Reject flags outside *supported* the way libvirt's ``virCheckFlags`` does.

    The message names the driver function (``testDomainGetXMLDesc``) and,
    like libvirt's ``virReportInvalidArg``, carries no "invalid argument"
    prefix.
    """
    extra = (int(flags) & 0xFFFFFFFF) & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=ErrorDomain.TEST)


@dataclass
class NodeInfo:
    """``virNodeInfo`` as the test driver keeps it (memory in KiB)."""

    model: str = "i686"
    memory_kib: int = 3 * 1024 * 1024
    cpus: int = 16
    mhz: int = 1400
    nodes: int = 2
    sockets: int = 2
    cores: int = 2
    threads: int = 2


@dataclass
class CellInfo:
    """One NUMA cell of the default host (memory in KiB)."""

    memory_kib: int
    free_kib: int
    cpus: list[int]


@dataclass
class AuthUser:
    """A ``<auth><user password='...'>name</user></auth>`` entry of a config file."""

    name: str
    password: str | None


@dataclass
class DomainObj:
    """One domain and its runtime state (libvirt's ``virDomainObj``)."""

    def_: DomainDef
    new_def: DomainDef | None = None
    state: int = DomainState.SHUTOFF
    reason: int = DomainShutoffReason.UNKNOWN
    id: int = -1
    persistent: bool = False
    autostart: bool = False
    has_managed_save: bool = False
    index: TestState | None = field(default=None, repr=False, compare=False)
    """The host whose name index lists this domain (set when it is added)."""

    def replace_def(self, new: DomainDef) -> None:
        """Make *new* the live definition, keeping the host's name index true.

        A new definition may carry a new name (a snapshot revert); every
        replacement of ``def_`` goes through here, so that plain attribute
        writes (state, id, ...) stay cheap.
        """
        old = self.def_
        self.def_ = new
        if self.index is not None and old.name != new.name:
            self.index.renamed(self, old.name)

    @property
    def name(self) -> str:
        """The domain's name."""
        return self.def_.name

    @property
    def uuid(self) -> str:
        """The domain's UUID in canonical form."""
        return self.def_.uuid

    def is_active(self) -> bool:
        """Running, paused or otherwise not shut off (libvirt: it has an id)."""
        return self.id != -1

    def set_state(self, state: int, reason: int) -> None:
        """Record a state and its reason (kept as libvirt's enumerations)."""
        self.state, self.reason = typed_state(state, reason)

    def persistent_def(self) -> DomainDef:
        """The definition that survives a stop, the running domain's own (see :meth:`unshare`)."""
        self.unshare()
        return self.persistent_view()

    def persistent_view(self) -> DomainDef:
        """The persistent definition for reading only: it may be the live one itself."""
        return self.new_def if self.new_def is not None else self.def_

    def unshare(self) -> None:
        """Give a running domain a persistent definition of its own, before either changes.

        A started domain whose definition copies unchanged keeps one object
        as both its live and its persistent definition; whatever is about to
        change one of them, or hands the persistent one out, calls this
        first (under the host lock). The persistent one becomes the copy
        libvirt makes at start; the live one stays what it was.
        """
        if self.new_def is not None and self.new_def is self.def_:
            self.new_def = self.def_.copy()

    def assign_def(self, new: DomainDef, *, live: bool) -> DomainDef | None:
        """Install *new* (``virDomainObjAssignDef``); return the replaced persistent def.

        On a running domain the new definition becomes the persistent one;
        on an inactive domain *live* keeps the old one as persistent
        definition (a transient start over a defined domain).
        """
        if self.is_active():
            old = self.new_def
            self.new_def = new
            return old
        if live:
            if self.new_def is None:
                self.new_def = self.def_
            self.replace_def(new)
            return None
        old = self.def_
        self.replace_def(new)
        return old


@dataclass
class NetworkObj:
    """A virtual network and its runtime flags."""

    def_: NetworkDef
    active: bool = True
    persistent: bool = True
    autostart: bool = False


@dataclass
class PoolObj:
    """A storage pool, its volumes and runtime flags."""

    def_: PoolDef
    volumes: dict[str, VolumeDef] = field(default_factory=dict)
    active: bool = True
    persistent: bool = True
    autostart: bool = False


@dataclass
class InterfaceObj:
    """A host interface and whether it is up."""

    def_: InterfaceDef
    active: bool = True


GENERATIONS = itertools.count(1)
"""Where hosts draw their generations: one counter, so that no two hosts share a value."""


def _name_of(obj: DomainObj) -> str:
    return obj.def_.name


class TestState:
    """One test host. Build it with :func:`virtcore.drivers.test.config.build_state`."""

    __test__ = False  # not a pytest test class

    def __init__(self, source_path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.source_path = source_path
        self.node = NodeInfo()
        self.cells: list[CellInfo] = []
        self.capabilities = ""
        self.auth_users: list[AuthUser] = []
        self.events = EventSource()
        self._domains: dict[str, DomainObj] = {}
        self.by_uuid: Mapping[str, DomainObj] = self._domains
        """The domains by canonical UUID (read-only view for the hot lookups)."""
        # Lookups by name and listings are the hot calls of management code: an index
        # by name and the name-sorted list (rebuilt only after a change) keep them O(1).
        self._by_name: dict[str, DomainObj] = {}
        self._sorted: list[DomainObj] | None = None
        self.generation = next(GENERATIONS)
        """Changes whenever a call that may modify this host runs (see :meth:`begin_change`)."""
        self.changes_in_flight: list[None] = []
        """One entry per modifying call running now (see :meth:`begin_change`)."""
        self.extensions: dict[str, object] = {}
        """Per-host controls other modules attach (fault injector, deterministic mode)."""
        self.runtimes_loaded = False
        """Whether the domains' runtime records (declared snapshots) were loaded."""
        self.now_ns: Callable[[], int] = time.time_ns
        """The host's clock in nanoseconds (a virtual clock's in deterministic mode)."""
        self.networks: dict[str, NetworkObj] = {}
        self.pools: dict[str, PoolObj] = {}
        self.interfaces: dict[str, InterfaceObj] = {}
        self.nodedevs: dict[str, NodeDeviceDef] = {}
        self._ids = itertools.count(1)

    # -- change tracking -----------------------------------------------------------

    def begin_change(self) -> None:
        """A call that may modify the host starts: values derived from it are not reused.

        Formatted documents are cached per definition and :attr:`generation`
        (:meth:`cached_format`); a cache entry is made and used only while no
        modifying call is in flight, and every modifying call moves the
        generation on when it starts and when it ends. Appending, popping and
        drawing from the counter are atomic, so no lock is taken.
        """
        self.changes_in_flight.append(None)
        self.generation = next(GENERATIONS)

    def end_change(self) -> None:
        """The modifying call begun with :meth:`begin_change` has returned."""
        self.generation = next(GENERATIONS)
        self.changes_in_flight.pop()

    def touch(self) -> None:
        """Record a change made outside a driver call (fault injection, mishaps)."""
        self.begin_change()
        self.end_change()

    def cached_format(self, definition: DomainDef, live_id: int | None) -> str:
        """``definition.format(live_id)``, reused while the host has not changed."""
        cached = definition.formatted
        if (
            cached is not None
            and cached[0] == self.generation
            and cached[1] == live_id
            and not self.changes_in_flight
        ):
            return cached[2]
        text = definition.format(live_id)
        if not self.changes_in_flight:
            definition.formatted = (self.generation, live_id, text)
        return text

    # -- domains -------------------------------------------------------------

    def _ordered(self) -> list[DomainObj]:
        """The cached name-sorted list; never mutated in place, so iterating it is safe."""
        ordered = self._sorted
        if ordered is None:
            ordered = self._sorted = sorted(self._domains.values(), key=_name_of)
        return ordered

    def domains(self) -> list[DomainObj]:
        """Every domain, ordered by name (libvirt's order is its hash table's)."""
        return list(self._ordered())

    def __iter__(self) -> Iterator[DomainObj]:
        return iter(self._ordered())

    def find_by_uuid(self, uuid: str) -> DomainObj | None:
        """The domain with *uuid* (canonical form), if any."""
        return self._domains.get(uuid)

    def find_by_name(self, name: str) -> DomainObj | None:
        """The domain called *name*, if any."""
        return self._by_name.get(name)

    def rename_domain(self, obj: DomainObj, new_name: str) -> None:
        """Give *obj* (whose definition is its only one) the name *new_name*."""
        old = obj.name
        obj.def_.name = new_name
        self.renamed(obj, old)

    def renamed(self, obj: DomainObj, old_name: str) -> None:
        """Record that *obj*, formerly *old_name*, now has another name."""
        if self._by_name.get(old_name) is obj:
            del self._by_name[old_name]
        if self._domains.get(obj.uuid) is obj:
            self._by_name[obj.name] = obj
        self._sorted = None

    def find_by_id(self, dom_id: int) -> DomainObj | None:
        """The running domain with id *dom_id*, if any."""
        for obj in self._domains.values():
            if obj.id == dom_id and obj.is_active():
                return obj
        return None

    def add_domain(
        self, new: DomainDef, *, live: bool = False, check_live: bool = False
    ) -> tuple[DomainObj, DomainDef | None]:
        """Add or update a domain by UUID (``virDomainObjListAdd``).

        Returns the object and the persistent definition *new* replaced (None
        for a new domain). A UUID known under another name, a name known
        under another UUID, and (with *check_live*) an active or starting
        domain are refused with libvirt's errors.
        """
        existing = self._domains.get(new.uuid)
        if existing is not None:
            if existing.name != new.name:
                raise OperationFailedError(
                    f"domain '{existing.name}' is already defined with uuid {existing.uuid}",
                    domain=_DOM,
                )
            if check_live:
                if existing.is_active():
                    raise OperationInvalidError(
                        f"domain '{existing.name}' is already active", domain=_DOM
                    )
                if not existing.persistent:
                    raise OperationInvalidError(
                        f"domain '{existing.name}' is already being started", domain=_DOM
                    )
            return existing, existing.assign_def(new, live=live)
        clash = self.find_by_name(new.name)
        if clash is not None:
            raise OperationFailedError(
                f"domain '{new.name}' already exists with uuid {clash.uuid}", domain=_DOM
            )
        obj = DomainObj(def_=new, index=self)
        self._domains[new.uuid] = obj
        self._by_name[new.name] = obj
        self._sorted = None
        return obj, None

    def remove_domain(self, obj: DomainObj) -> None:
        """Forget a domain entirely."""
        if self._domains.get(obj.uuid) is obj:
            del self._domains[obj.uuid]
            self._sorted = None
        if self._by_name.get(obj.name) is obj:
            del self._by_name[obj.name]

    def start_domain(self, obj: DomainObj, reason: int = DomainRunningReason.BOOTED) -> None:
        """Mark *obj* running with a fresh id (``testDomainStartState``)."""
        obj.set_state(DomainState.RUNNING, reason)
        obj.id = next(self._ids)
        if obj.persistent and obj.new_def is None:
            live = obj.def_
            # Shared until either changes (DomainObj.unshare) when the copy would be equal.
            obj.new_def = live if live.copies_unchanged() else live.copy()
        # Stopping drops the live definition: keep its trees serialised until used.
        obj.def_.defer_sections()
        obj.has_managed_save = False

    def stop_domain(self, obj: DomainObj, reason: int) -> None:
        """Mark *obj* shut off; the persistent definition becomes live again."""
        # A definition still shared (DomainObj.unshare) simply stays.
        if obj.new_def is not None:
            obj.replace_def(obj.new_def)
            obj.new_def = None
        obj.set_state(DomainState.SHUTOFF, reason)
        obj.id = -1

    def emit_domain(self, obj: DomainObj, event_type: int, detail: int) -> None:
        """Queue a domain lifecycle event for every connection to this host."""
        if not self.events.wanted():
            return  # nobody registered: the event would be dropped unseen
        ident = ObjectIdentity(EventKind.DOMAIN, obj.name, obj.uuid, obj.id)
        self.events.emit(
            Event(kind=EventKind.DOMAIN, event_id=0, obj=ident, args=(int(event_type), int(detail)))
        )

    # -- secondary objects ---------------------------------------------------

    def add_network(self, new: NetworkDef) -> NetworkObj:
        """Add a network loaded from the configuration (active and persistent)."""
        for obj in self.networks.values():
            if obj.def_.uuid == new.uuid and obj.def_.name != new.name:
                raise OperationFailedError(
                    f"network '{obj.def_.name}' is already defined with uuid {new.uuid}",
                    domain=ErrorDomain.NETWORK,
                )
        if new.name in self.networks and self.networks[new.name].def_.uuid != new.uuid:
            raise OperationFailedError(
                f"network '{new.name}' already exists with uuid "
                f"{self.networks[new.name].def_.uuid}",
                domain=ErrorDomain.NETWORK,
            )
        obj = NetworkObj(new)
        self.networks[new.name] = obj
        return obj

    def add_pool(self, new: PoolDef) -> PoolObj:
        """Add a pool loaded from the configuration (active and persistent)."""
        if new.name in self.pools:
            raise OperationFailedError(
                f"pool '{new.name}' already exists", domain=ErrorDomain.STORAGE
            )
        obj = PoolObj(new)
        self.pools[new.name] = obj
        return obj

    def add_volume(self, pool: PoolObj, vol: VolumeDef) -> None:
        """Add a volume to *pool* and account for its allocation."""
        if vol.name in pool.volumes:
            raise OperationFailedError(
                f"volume '{vol.name}' already exists", domain=ErrorDomain.STORAGE
            )
        pool.volumes[vol.name] = vol
        pool.def_.allocation += vol.allocation

    def add_interface(self, new: InterfaceDef) -> InterfaceObj:
        """Add a host interface loaded from the configuration (active)."""
        obj = InterfaceObj(new)
        self.interfaces[new.name or ""] = obj
        return obj

    def add_nodedev(self, new: NodeDeviceDef) -> None:
        """Add (or replace) a node device."""
        self.nodedevs[new.name] = new
