"""The test driver's hypervisor table: connection, node and domain calls.

Every method follows libvirt 9.0's ``src/test/test_driver.c`` behaviour as
observed through libvirt-python: the same preconditions, state transitions
(state and reason), domain ids, lifecycle events and errors (code, error
domain and wording, including which errors come from the test driver itself,
domain ``VIR_FROM_TEST``, and which from libvirt's generic domain code,
``VIR_FROM_DOMAIN``). Reboot emits no event, starting a domain that has a
managed save image boots it afresh (reason BOOTED) and drops the image, and
undefining a running domain leaves it running as a transient domain.

Save images use the test driver's format (``TestGuestMagic\\0``, a native
32-bit length, then the domain XML), so images written by libvirt's test
driver restore here and vice versa.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from virtcore.driver import HypervisorDriver
from virtcore.drivers.test.checkpoints import CheckpointCalls
from virtcore.drivers.test.devices import DeviceCalls
from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.domstats import StatsCalls
from virtcore.drivers.test.guest import GuestCalls
from virtcore.drivers.test.runtime import peek_runtime, runtime_of
from virtcore.drivers.test.snapshots import SnapshotCalls
from virtcore.drivers.test.state import DomainObj, TestState, check_flags, typed_state
from virtcore.drivers.test.tunables import TunableCalls
from virtcore.drivers.test.tuning import TuningCalls
from virtcore.drivers.test.xmlutil import parse_uuid
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListFlags
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventDefinedDetailType,
    DomainEventResumedDetailType,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
    DomainEventUndefinedDetailType,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ArgumentUnsupportedError,
    InternalError,
    InvalidArgError,
    NoDomainError,
    OperationInvalidError,
    OperationUnsupportedError,
    SystemCallError,
    VirtError,
)
from virtcore.objects import Domain

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.events import EventSource

__all__ = ["SAVE_MAGIC", "TestHypervisorDriver"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
SAVE_MAGIC = b"TestGuestMagic\0"
_MAX_SAVE_XML = 8192
SYSINFO = """\
<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
"""
_ALL_LIST_FILTERS = (1 << 16) - 1
# testNodeGetCPUStats's constants, in its parameter order.
NODE_CPU_STATS = {
    "user": 9797400000,
    "kernel": 34678723400000,
    "idle": 87264900000,
    "iowait": 763600000,
}


def _check_save_flags(flags: int) -> None:
    """libvirt's API-level check (before any driver code) on save/restore flags."""
    if flags & 0x2 and flags & 0x4:
        text = "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive"
        raise InvalidArgError(text, message=text, domain=_DOM)


def host_name() -> str:
    """The host's name the way libvirt's ``virGetHostname`` finds it.

    A name that is already qualified (contains a dot) or starts with
    ``localhost`` is returned as is; otherwise the resolver's canonical name
    is preferred when it gives a useful one.
    """
    name = socket.gethostname()
    if name.startswith("localhost") or "." in name:
        return name
    try:
        infos = socket.getaddrinfo(name, None, flags=socket.AI_CANONNAME)
    except OSError:
        return name
    for info in infos:
        canon = info[3]
        if canon and not canon.startswith("localhost"):
            return canon
    return name


class TestHypervisorDriver(
    SnapshotCalls,
    CheckpointCalls,
    TuningCalls,
    TunableCalls,
    StatsCalls,
    GuestCalls,
    DeviceCalls,
    HypervisorDriver,
):
    """Hypervisor table over one :class:`~virtcore.drivers.test.state.TestState`.

    The domain calls beyond the lifecycle live in mixins, one module each:
    :mod:`.snapshots`, :mod:`.checkpoints`, :mod:`.tuning` (metadata, rename,
    memory, vCPUs, pinning, IOThreads, perf events), :mod:`.tunables` (memory,
    NUMA, block I/O, bandwidth and I/O limit parameters), :mod:`.domstats`
    (statistics, block info, jobs), :mod:`.guest` (guest agent queries, keys,
    time, screenshots, power management) and :mod:`.devices` (hot-plug).
    """

    __test__ = False  # not a pytest test class
    name = "Test"

    def __init__(self, state: TestState, release: Callable[[], None] | None = None) -> None:
        self.state = state
        self._release = release
        with state.lock:
            # Snapshots a configuration file declares are loaded (and refused) at the first
            # open; later domains come from documents, which cannot declare any.
            if not state.runtimes_loaded:
                for obj in state:
                    runtime_of(state, obj)
                state.runtimes_loaded = True

    def event_source(self) -> EventSource:
        """Domain events of this host, shared by all its connections."""
        return self.state.events

    def connect_close(self, conn: Connection) -> None:
        """Drop this connection's reference to the host."""
        if self._release is not None:
            release, self._release = self._release, None
            release()

    # -- connection and node -------------------------------------------------

    def connect_get_type(self, conn: Connection) -> str:
        """``"TEST"``."""
        return "TEST"

    def connect_get_version(self, conn: Connection) -> int:
        """Hypervisor version 2 (printed as 0.0.2)."""
        return 2

    def connect_get_hostname(self, conn: Connection) -> str:
        """This machine's host name."""
        return host_name()

    def connect_get_max_vcpus(self, conn: Connection, type: str | None) -> int:
        """32, whatever the domain type."""
        return 32

    def connect_is_secure(self, conn: Connection) -> int:
        """In-process, hence secure."""
        return 1

    def connect_is_encrypted(self, conn: Connection) -> int:
        """Nothing travels over a wire."""
        return 0

    def connect_is_alive(self, conn: Connection) -> int:
        """Always alive while open."""
        return 1

    def connect_get_capabilities(self, conn: Connection) -> str:
        """The capabilities XML of this host."""
        with self.state.lock:
            return self.state.capabilities

    def connect_get_sysinfo(self, conn: Connection, flags: int) -> str:
        """A fixed SMBIOS block."""
        check_flags(flags, 0, "testConnectGetSysinfo")
        return SYSINFO

    def node_get_info(self, conn: Connection) -> tuple[str, int, int, int, int, int, int, int]:
        """``virNodeGetInfo`` in libvirt-python's order, memory in MiB."""
        with self.state.lock:
            n = self.state.node
            return (
                n.model,
                n.memory_kib // 1024,
                n.cpus,
                n.mhz,
                n.nodes,
                n.sockets,
                n.cores,
                n.threads,
            )

    def node_get_cells_free_memory(self, conn: Connection, start: int, maxcells: int) -> list[int]:
        """Per-cell memory; like libvirt's test driver it reports each cell's size."""
        with self.state.lock:
            cells = self.state.cells
            if start >= len(cells):
                raise InvalidArgError("Range exceeds available cells", domain=_TEST)
            return [cell.memory_kib for cell in cells[start : start + maxcells]]

    def node_get_free_memory(self, conn: Connection) -> int:
        """Sum of the cells' free memory."""
        with self.state.lock:
            return sum(cell.free_kib for cell in self.state.cells)

    def node_get_cpu_stats(self, conn: Connection, cpu_num: int, flags: int) -> dict[str, int]:
        """libvirt's fixed host CPU times in ns, whichever CPU is asked (``virNodeGetCPUStats``).

        Only a negative *cpu_num* other than -1 (all CPUs) is refused, as
        libvirt's public entry point does before reaching the driver.
        """
        if cpu_num < 0 and cpu_num != -1:
            text = "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value"
            raise InvalidArgError(text, message=text, domain=_DOM)
        check_flags(flags, 0, "testNodeGetCPUStats")
        return dict(NODE_CPU_STATS)

    def node_get_cpu_map(self, conn: Connection, flags: int) -> tuple[int, bytes, int]:
        """Eight CPUs of which 0, 2 and 4 are online (``virNodeGetCPUMap``)."""
        check_flags(flags, 0, "testNodeGetCPUMap")
        return 8, bytes([0x15]), 3

    def node_get_security_model(self, conn: Connection) -> tuple[str, str]:
        """Security model ``testSecurity`` with an empty DOI."""
        return ("testSecurity", "")

    # -- listing and lookup --------------------------------------------------

    def connect_list_all_domains(self, conn: Connection, flags: int) -> list[Domain]:
        """Domains matching the ``ConnectListAllDomainsFlags`` filter, by name."""
        check_flags(flags, _ALL_LIST_FILTERS, "testConnectListAllDomains")
        flags = int(flags)
        with self.state.lock:
            if not flags:
                return [Domain(conn, o.def_.name, o.def_.uuid, o.id) for o in self.state]
            return [
                self._handle(conn, o)
                for o in self.state
                if _matches(o, flags) and self._matches_moments(o, flags)
            ]

    def _matches_moments(self, obj: DomainObj, flags: int) -> bool:
        """The snapshot and checkpoint filters of ``virConnectListAllDomains``."""
        runtime = peek_runtime(self.state, obj)
        snapshots = runtime is not None and len(runtime.snapshots) > 0
        checkpoints = runtime is not None and len(runtime.checkpoints) > 0
        for yes, no, value in (
            (_HAS_SNAPSHOT, _NO_SNAPSHOT, snapshots),
            (_HAS_CHECKPOINT, _NO_CHECKPOINT, checkpoints),
        ):
            if flags & (yes | no) and not ((flags & yes and value) or (flags & no and not value)):
                return False
        return True

    def connect_list_domains(self, conn: Connection) -> list[int]:
        """Ids of the active domains, ascending."""
        with self.state.lock:
            return sorted([o.id for o in self.state if o.id != -1])

    def connect_num_of_domains(self, conn: Connection) -> int:
        """Number of active domains."""
        with self.state.lock:
            return sum(1 for o in self.state if o.is_active())

    def connect_list_defined_domains(self, conn: Connection) -> list[str]:
        """Names of the inactive domains, sorted."""
        with self.state.lock:
            return [o.def_.name for o in self.state if o.id == -1]

    def connect_num_of_defined_domains(self, conn: Connection) -> int:
        """Number of inactive domains."""
        with self.state.lock:
            return sum(1 for o in self.state if not o.is_active())

    def domain_lookup_by_name(self, conn: Connection, name: str) -> Domain:
        """The domain called *name*; NO_DOMAIN without detail otherwise."""
        with self.state.lock:
            obj = self.state.find_by_name(name)
            if obj is None:
                raise NoDomainError(domain=_TEST)
            return self._handle(conn, obj)

    def domain_lookup_by_uuid(self, conn: Connection, uuid: str) -> Domain:
        """The domain with *uuid* (any textual form libvirt accepts)."""
        canonical = parse_uuid(uuid)
        if canonical is None:
            raise InvalidArgError("Invalid UUID", message="Invalid UUID", domain=_DOM)
        with self.state.lock:
            obj = self.state.find_by_uuid(canonical)
            if obj is None:
                raise NoDomainError(domain=_TEST)
            return self._handle(conn, obj)

    def domain_lookup_by_id(self, conn: Connection, id: int) -> Domain:
        """The running domain with *id*."""
        if id < 0:
            text = "id in virDomainLookupByID must be zero or greater"
            raise InvalidArgError(text, message=text, domain=_DOM)
        with self.state.lock:
            obj = self.state.find_by_id(id)
            if obj is None:
                raise NoDomainError(domain=_TEST)
            return self._handle(conn, obj)

    # -- definition ----------------------------------------------------------

    def domain_define_xml_flags(self, conn: Connection, xml: str, flags: int) -> Domain:
        """Define or redefine a persistent domain; DEFINED/ADDED or DEFINED/UPDATED."""
        check_flags(flags, 1, "testDomainDefineXMLFlags")
        definition = DomainDef.parse(xml)
        if "\n" in definition.name:
            raise VirtError(
                "invalid char in name: \n", code=ErrorNumber.XML_DETAIL, domain=ErrorDomain.XML
            )
        with self.state.lock:
            obj, old = self.state.add_domain(definition)
            obj.persistent = True
            detail = (
                DomainEventDefinedDetailType.ADDED
                if old is None
                else DomainEventDefinedDetailType.UPDATED
            )
            self.state.emit_domain(obj, DomainEventType.DEFINED, detail)
            logger.debug("defined domain %s (%s)", obj.name, obj.uuid)
            return self._handle(conn, obj)

    def domain_undefine_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Remove the persistent config; a running domain becomes transient."""
        check_flags(flags, 0x3, "testDomainUndefineFlags")
        with self.state.lock:
            obj = self._obj(dom)
            if obj.has_managed_save and not flags & 0x1:
                raise OperationInvalidError(
                    "Refusing to undefine while domain managed save image exists", domain=_TEST
                )
            runtime = peek_runtime(self.state, obj)
            snapshots = len(runtime.snapshots) if runtime is not None else 0
            if not obj.is_active() and snapshots and not flags & 0x2:
                raise OperationInvalidError(
                    f"cannot delete inactive domain with {snapshots} snapshots", domain=_TEST
                )
            self.state.emit_domain(
                obj, DomainEventType.UNDEFINED, DomainEventUndefinedDetailType.REMOVED
            )
            obj.has_managed_save = False
            if obj.is_active():
                obj.persistent = False
            else:
                self.state.remove_domain(obj)

    # -- lifecycle -----------------------------------------------------------

    def domain_create_xml(self, conn: Connection, xml: str, flags: int) -> Domain:
        """Start a transient domain; STARTED/BOOTED."""
        check_flags(flags, 0x10, "testDomainCreateXML")
        definition = DomainDef.parse(xml)
        with self.state.lock:
            obj, _ = self.state.add_domain(definition, live=True, check_live=True)
            self.state.start_domain(obj, DomainRunningReason.BOOTED)
            self.state.emit_domain(
                obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED
            )
            return self._handle(conn, obj)

    def domain_create_with_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Start a defined domain with the next id; STARTED/BOOTED."""
        check_flags(flags, 0, "testDomainCreateWithFlags")
        with self.state.lock:
            obj = self._obj(dom)
            if obj.state != _SHUTOFF:
                raise InternalError(f"Domain '{dom.name}' is already running", domain=_TEST)
            self.state.start_domain(obj, DomainRunningReason.BOOTED)
            self.state.emit_domain(
                obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED
            )
            dom.set_id(obj.id)

    def domain_create_xml_with_files(
        self, conn: Connection, xml: str, files: list[int], flags: int
    ) -> Domain:
        """``virDomainCreateXMLWithFiles``: :meth:`domain_create_xml`; a test guest takes no
        descriptors, so *files* are ignored (libvirt's test driver does the same).
        """
        return self.domain_create_xml(conn, xml, flags)

    def domain_create_with_files(
        self, conn: Connection, dom: Domain, files: list[int], flags: int
    ) -> None:
        """``virDomainCreateWithFiles``: :meth:`domain_create_with_flags`, *files* ignored."""
        self.domain_create_with_flags(conn, dom, flags)

    def domain_destroy_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Stop an active domain at once; STOPPED/DESTROYED, transient domains vanish."""
        if flags:
            check_flags(flags, 0x1, "testDomainDestroyFlags")
        # A lifecycle call management code makes in bulk: _active, inlined.
        with self.state.lock:
            obj = self.state.by_uuid.get(dom.uuid)
            if obj is None or obj.id == -1:
                obj = self._active(dom)  # raises libvirt's error
            self._stop(obj, DomainShutoffReason.DESTROYED, DomainEventStoppedDetailType.DESTROYED)
            dom.set_id(obj.id)

    def domain_shutdown_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Shut down per ``on_poweroff``; STOPPED/SHUTDOWN when the domain stops."""
        check_flags(flags, 0, "testDomainShutdownFlags")
        with self.state.lock:
            obj = self._obj(dom)
            if obj.state == DomainState.SHUTOFF:
                raise InternalError(f"domain '{dom.name}' not running", domain=_TEST)
            self._lifecycle_action(obj, obj.def_.on_poweroff)
            dom.set_id(obj.id)

    def domain_reboot(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Reboot per ``on_reboot``; a restart keeps the id and emits nothing."""
        check_flags(flags, 0x1F, "testDomainReboot")
        with self.state.lock:
            obj = self._active(dom)
            self._lifecycle_action(obj, obj.def_.on_reboot)

    def domain_reset(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Reset an active domain (nothing observable changes)."""
        check_flags(flags, 0, "testDomainReset")
        with self.state.lock:
            self._active(dom)

    def domain_suspend(self, conn: Connection, dom: Domain) -> None:
        """Pause a running domain; SUSPENDED/PAUSED."""
        # Lifecycle calls management code makes in bulk: _obj and set_state, inlined.
        with self.state.lock:
            obj = self.state.by_uuid.get(dom.uuid) or self._obj(dom)
            if obj.state in {_SHUTOFF, _PAUSED}:
                raise InternalError(f"domain '{dom.name}' not running", domain=_TEST)
            obj.state, obj.reason = _PAUSED_USER
            self.state.emit_domain(
                obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.PAUSED
            )

    def domain_resume(self, conn: Connection, dom: Domain) -> None:
        """Resume a paused domain; RESUMED/UNPAUSED."""
        with self.state.lock:
            obj = self.state.by_uuid.get(dom.uuid) or self._obj(dom)
            if obj.state != _PAUSED:
                raise InternalError(f"domain '{dom.name}' not paused", domain=_TEST)
            obj.state, obj.reason = _RUNNING_UNPAUSED
            self.state.emit_domain(
                obj, DomainEventType.RESUMED, DomainEventResumedDetailType.UNPAUSED
            )

    def _stop(self, obj: DomainObj, reason: int, detail: int) -> None:
        self.state.stop_domain(obj, reason)
        self.state.emit_domain(obj, DomainEventType.STOPPED, detail)
        if not obj.persistent:
            self.state.remove_domain(obj)

    def _lifecycle_action(self, obj: DomainObj, action: str) -> None:
        if action in ("restart", "rename-restart"):
            obj.set_state(DomainState.RUNNING, DomainRunningReason.BOOTED)
            return
        self._stop(obj, DomainShutoffReason.SHUTDOWN, DomainEventStoppedDetailType.SHUTDOWN)

    # -- save and restore ----------------------------------------------------

    def domain_save_flags(
        self, conn: Connection, dom: Domain, path: str, dxml: str | None, flags: int
    ) -> None:
        """Write a save image to *path* and stop; STOPPED/SAVED."""
        _check_save_flags(flags)
        check_flags(flags, 0, "testDomainSaveFlags")
        if dxml:
            raise ArgumentUnsupportedError("xml modification unsupported", domain=_TEST)
        with self.state.lock:
            obj = self._active(dom)
            _write_image(path, obj.def_, obj.id)
            self._stop(obj, DomainShutoffReason.SAVED, DomainEventStoppedDetailType.SAVED)
            dom.set_id(obj.id)

    def domain_restore_flags(
        self, conn: Connection, path: str, dxml: str | None, flags: int
    ) -> None:
        """Start the domain saved in *path* with a new id; STARTED/RESTORED."""
        _check_save_flags(flags)
        check_flags(flags, 0, "testDomainRestoreFlags")
        if dxml:
            raise ArgumentUnsupportedError("xml modification unsupported", domain=_TEST)
        definition = _read_image(path)
        with self.state.lock:
            obj, _ = self.state.add_domain(definition, live=True, check_live=True)
            self.state.start_domain(obj, DomainRunningReason.RESTORED)
            self.state.emit_domain(
                obj, DomainEventType.STARTED, DomainEventStartedDetailType.RESTORED
            )

    def domain_managed_save(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Save to the managed image and stop; STOPPED/SAVED."""
        _check_save_flags(flags)
        check_flags(flags, 0x7, "testDomainManagedSave")
        with self.state.lock:
            obj = self._active(dom)
            if not obj.persistent:
                raise OperationInvalidError(
                    "cannot do managed save for transient domain", domain=_TEST
                )
            self._stop(obj, DomainShutoffReason.SAVED, DomainEventStoppedDetailType.SAVED)
            obj.has_managed_save = True
            dom.set_id(obj.id)

    def domain_has_managed_save_image(self, conn: Connection, dom: Domain, flags: int) -> int:
        """1 when a managed save image exists."""
        check_flags(flags, 0, "testDomainHasManagedSaveImage")
        with self.state.lock:
            return int(self._obj(dom).has_managed_save)

    def domain_save_image_get_xml_desc(self, conn: Connection, path: str, flags: int) -> str:
        """The definition stored in the save image at *path*."""
        check_flags(flags, 0x1, "testDomainSaveImageGetXMLDesc")
        return _read_image(path, ifnames=False).format(None)

    def domain_save_image_define_xml(
        self, conn: Connection, path: str, dxml: str, flags: int
    ) -> None:
        """Replace the definition stored in the save image at *path* with *dxml*."""
        _check_save_flags(flags)
        check_flags(flags, 0x6, "testDomainSaveImageDefineXML")
        _read_image(path, ifnames=False)
        _write_image(path, DomainDef.parse(dxml, ifnames=False), None)

    def domain_core_dump(self, conn: Connection, dom: Domain, to: str, flags: int) -> None:
        """``virDomainCoreDump``: a raw dump."""
        self.domain_core_dump_with_format(conn, dom, to, 0, flags)

    def domain_core_dump_with_format(
        self, conn: Connection, dom: Domain, to: str, dumpformat: int, flags: int
    ) -> None:
        """Write a dump header to *to*; ``CRASH`` then stops the domain (STOPPED/CRASHED).

        Like libvirt's test driver, the file is written before a format other
        than raw is refused.
        """
        check_flags(flags, 0x1, "testDomainCoreDumpWithFormat")
        with self.state.lock:
            obj = self._active(dom)
            try:
                fd = os.open(to, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            except OSError as exc:
                what = f"domain '{dom.name}' coredump: failed to open {to}"
                raise SystemCallError.from_os_error(what, exc, domain=_TEST) from None
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(SAVE_MAGIC)
            except OSError as exc:
                what = f"domain '{dom.name}' coredump: failed to write header to {to}"
                raise SystemCallError.from_os_error(what, exc, domain=_TEST) from None
            if dumpformat != 0:
                raise OperationUnsupportedError(
                    "kdump-compressed format is not supported here", domain=_TEST
                )
            if flags & 0x1:
                self._stop(obj, DomainShutoffReason.CRASHED, DomainEventStoppedDetailType.CRASHED)
                dom.set_id(-1)

    def domain_managed_save_remove(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Forget the managed save image."""
        check_flags(flags, 0, "testDomainManagedSaveRemove")
        with self.state.lock:
            self._obj(dom).has_managed_save = False

    # -- queries and settings ------------------------------------------------

    def domain_get_info(self, conn: Connection, dom: Domain) -> tuple[int, int, int, int, int]:
        """State, max memory, memory (KiB), vCPUs, and a clock-derived CPU time."""
        # The hottest query of all: the lookup and the clock of _obj/_clock_ns, inlined.
        state = self.state
        with state.lock:
            obj = state.by_uuid.get(dom.uuid)
            if obj is None:
                obj = self._obj(dom)  # raises NO_DOMAIN
            d = obj.def_
            return (
                obj.state,
                d.memory_kib,
                d.current_kib,
                d.vcpus_current,
                state.now_ns() // 1000 * 1000,
            )

    def domain_get_state(self, conn: Connection, dom: Domain, flags: int) -> tuple[int, int]:
        """State and reason."""
        if flags:
            check_flags(flags, 0, "testDomainGetState")
        state = self.state
        with state.lock:
            obj = state.by_uuid.get(dom.uuid)
            if obj is None:
                obj = self._obj(dom)  # raises NO_DOMAIN
            return obj.state, obj.reason

    def domain_get_xml_desc(self, conn: Connection, dom: Domain, flags: int) -> str:
        """Live XML, or with ``INACTIVE`` (2) the persistent definition."""
        if flags:
            check_flags(flags, 0x1 | 0x2 | 0x8, "testDomainGetXMLDesc")
        state = self.state
        with state.lock:
            obj = state.by_uuid.get(dom.uuid) or self._obj(dom)
            if flags & 0x2:
                return state.cached_format(obj.persistent_view(), None)
            return state.cached_format(obj.def_, obj.id if obj.id != -1 else None)

    def domain_get_os_type(self, conn: Connection, dom: Domain) -> str:
        """``"linux"``, as libvirt's test driver answers for every domain."""
        with self.state.lock:
            self._obj(dom)
        return "linux"

    def domain_get_max_memory(self, conn: Connection, dom: Domain) -> int:
        """Maximum memory in KiB."""
        with self.state.lock:
            return self._obj(dom).def_.memory_kib

    def domain_is_active(self, conn: Connection, dom: Domain) -> int:
        """1 while the domain has an id."""
        state = self.state
        with state.lock:
            obj = state.by_uuid.get(dom.uuid)
            if obj is None:
                obj = self._obj(dom)  # raises NO_DOMAIN
            return int(obj.id != -1)

    def domain_is_persistent(self, conn: Connection, dom: Domain) -> int:
        """1 for a defined domain."""
        with self.state.lock:
            return int(self._obj(dom).persistent)

    def domain_is_updated(self, conn: Connection, dom: Domain) -> int:
        """Always 0 in the test driver."""
        return 0

    def domain_get_autostart(self, conn: Connection, dom: Domain) -> int:
        """The autostart flag."""
        with self.state.lock:
            return int(self._obj(dom).autostart)

    def domain_set_autostart(self, conn: Connection, dom: Domain, autostart: bool) -> None:
        """Set the autostart flag (accepted on transient domains too)."""
        with self.state.lock:
            self._obj(dom).autostart = bool(autostart)


def _matches(obj: DomainObj, flags: int) -> bool:
    """``virDomainObjListFilter`` for one domain, but for the snapshot/checkpoint filters."""

    def pair(yes: int, no: int, value: bool) -> bool:
        if not flags & (yes | no):
            return True
        return bool((flags & yes and value) or (flags & no and not value))

    active = obj.is_active()
    if not pair(_LF.ACTIVE, _LF.INACTIVE, active):
        return False
    if not pair(_LF.PERSISTENT, _LF.TRANSIENT, obj.persistent):
        return False
    if flags & _LF.STATES:
        state = obj.state
        wanted = (
            (flags & _LF.RUNNING and state == _RUNNING)
            or (flags & _LF.PAUSED and state == _PAUSED)
            or (flags & _LF.SHUTOFF and state == _SHUTOFF)
            or (flags & _LF.OTHER and state not in (_RUNNING, _PAUSED, _SHUTOFF))
        )
        if not wanted:
            return False
    if not pair(_LF.MANAGEDSAVE, _LF.NO_MANAGEDSAVE, obj.has_managed_save):
        return False
    return pair(_LF.AUTOSTART, _LF.NO_AUTOSTART, obj.autostart)


class _LF:
    """The list filter flags as plain ints: IntFlag arithmetic costs a call per operator."""

    ACTIVE = int(ListFlags.ACTIVE)
    INACTIVE = int(ListFlags.INACTIVE)
    PERSISTENT = int(ListFlags.PERSISTENT)
    TRANSIENT = int(ListFlags.TRANSIENT)
    RUNNING = int(ListFlags.RUNNING)
    PAUSED = int(ListFlags.PAUSED)
    SHUTOFF = int(ListFlags.SHUTOFF)
    OTHER = int(ListFlags.OTHER)
    STATES = RUNNING | PAUSED | SHUTOFF | OTHER
    MANAGEDSAVE = int(ListFlags.MANAGEDSAVE)
    NO_MANAGEDSAVE = int(ListFlags.NO_MANAGEDSAVE)
    AUTOSTART = int(ListFlags.AUTOSTART)
    NO_AUTOSTART = int(ListFlags.NO_AUTOSTART)


_HAS_SNAPSHOT = int(ListFlags.HAS_SNAPSHOT)
_NO_SNAPSHOT = int(ListFlags.NO_SNAPSHOT)
_HAS_CHECKPOINT = int(ListFlags.HAS_CHECKPOINT)
_NO_CHECKPOINT = int(ListFlags.NO_CHECKPOINT)
_RUNNING = int(DomainState.RUNNING)
_PAUSED = int(DomainState.PAUSED)
_SHUTOFF = int(DomainState.SHUTOFF)
# What DomainObj.set_state stores for the states suspend and resume set.
_PAUSED_USER = typed_state(DomainState.PAUSED, DomainPausedReason.USER)
_RUNNING_UNPAUSED = typed_state(DomainState.RUNNING, DomainRunningReason.UNPAUSED)


def _write_image(path: str, definition: DomainDef, live_id: int | None) -> None:
    xml = definition.format(live_id).encode("utf-8")
    what = f"saving domain '{definition.name}' to '{path}'"
    try:
        fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"{what}: open failed", exc, domain=_TEST) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(SAVE_MAGIC + struct.pack("=i", len(xml)) + xml)
    except OSError as exc:
        try:
            os.unlink(path)
        except OSError:
            logger.debug("cannot remove incomplete save image %s", path)
        raise SystemCallError.from_os_error(f"{what}: write failed", exc, domain=_TEST) from None


def _read_image(path: str, *, ifnames: bool = True) -> DomainDef:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(SAVE_MAGIC))
            if len(magic) != len(SAVE_MAGIC):
                raise _short_read(f"incomplete save header in '{path}'")
            if magic != SAVE_MAGIC:
                raise InternalError("mismatched header magic", domain=_TEST)
            raw_len = fh.read(4)
            if len(raw_len) != 4:
                raise _short_read(f"failed to read metadata length in '{path}'")
            (length,) = struct.unpack("=i", raw_len)
            if length < 1 or length > _MAX_SAVE_XML:
                raise InternalError("length of metadata out of range", domain=_TEST)
            xml = fh.read(length)
            if len(xml) != length:
                raise _short_read(f"incomplete metadata in '{path}'")
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"cannot read domain image '{path}'", exc, domain=_TEST
        ) from None
    return DomainDef.parse(xml, ifnames=ifnames)


def _short_read(what: str) -> SystemCallError:
    # A short read leaves errno at 0, which libvirt reports as "Success".
    return SystemCallError(f"{what}: {os.strerror(0)}", domain=_TEST, int1=0)
