"""The QEMU connection driver and its hypervisor table.

URIs, as libvirt 9.0's ``qemuConnectOpen``:

* ``qemu:///system`` - the privileged host (state under /etc|/run|/var/lib/virtcore/qemu);
  only for root: anyone else gets libvirt's "unexpected qemu URI path
  '/system', try qemu:///session".
* ``qemu:///session`` - the calling user's host (XDG directories); as root it
  is, like libvirt's compatibility rule, served by the privileged host.
* ``qemu:///embed?root=DIR`` - a host whose whole state lives under DIR, in
  this process, no daemon.

``open`` gets the ready :class:`~virtcore.state.Host` for the mode from
:func:`virtcore.hosts.host_for` (initializing its state drivers on first use)
and returns the hypervisor table over the host's :class:`QemuDriver`, plus the
storage table of the same host.

The table's methods are libvirt's ``virHypervisorDriver`` fields in snake
case; lifecycle calls live in :mod:`virtcore_qemu.lifecycle`. Errors carry
libvirt's codes, the ``QEMU`` error domain and libvirt's wording.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from virtcore.driver import ConnectDriver, DriverTables, StorageDriver
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListFlags
from virtcore.enums.domain import DomainState
from virtcore.enums.domain_events import (
    DomainEventDefinedDetailType,
    DomainEventType,
    DomainEventUndefinedDetailType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, InvalidArgError, OperationInvalidError, VirtError
from virtcore.objects import Domain
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu import nodeinfo
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.hotplug import DeviceCalls
from virtcore_qemu.lifecycle import LifecycleCalls, check_flags
from virtcore_qemu.saverestore import SaveRestoreCalls
from virtcore_qemu.snapshots import SnapshotCalls
from virtcore_qemu.stats import StatsCalls
from virtcore_qemu.status import format_live
from virtcore_qemu.vcpus import VcpuHotplugCalls

if TYPE_CHECKING:
    from virtcore.auth import Auth
    from virtcore.connection import Connection
    from virtcore.events import EventSource
    from virtcore.state import Host
    from virtcore.uri import URI
    from virtcore_qemu.state import QemuDriver

__all__ = ["QemuConnectDriver", "QemuHypervisorDriver", "tables_for_host"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
_XML_INACTIVE = 0x2
_XML_SECURE = 0x1
_XML_MIGRATABLE = 0x8
_XML_UPDATE_CPU = 0x4
_ALL_LIST_FILTERS = (1 << 16) - 1
#: ``virConnectGetLibVersion``: the libvirt release whose behaviour is reproduced.
LIB_VERSION = 9_000_000


class QemuConnectDriver(ConnectDriver):
    """Opens ``qemu:///system``, ``qemu:///session`` and ``qemu:///embed?root=DIR``."""

    name = "QEMU"
    schemes = ("qemu",)
    local_only = True
    embeddable = True

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        """Validate the URI path as libvirt does and open the matching host."""
        from virtcore.hosts import host_for

        if uri is None:
            return None
        root = uri.embed_root if uri.is_embedded else None
        if uri.is_embedded:
            if root is None:
                return None
            host = host_for(privileged=False, root=root)
        else:
            privileged = os.geteuid() == 0
            _validate_path(uri.path, privileged)
            host = host_for(privileged=privileged)
        return tables_for_host(host)


def _validate_path(path: str, privileged: bool) -> None:
    """``virConnectValidateURIPath`` for entity ``qemu``."""
    if privileged:
        if path not in ("/system", "/session"):
            raise InternalError(f"unexpected qemu URI path '{path}', try qemu:///system")
    elif path != "/session":
        raise InternalError(f"unexpected qemu URI path '{path}', try qemu:///session")


def tables_for_host(host: Host) -> DriverTables:
    """The tables of a connection to *host* (which must run the ``qemu`` state driver)."""
    from virtcore_qemu.state import QemuStateDriver

    state = host.driver("qemu")
    if not isinstance(state, QemuStateDriver) or state.driver is None:
        raise InternalError("qemu state driver is not active", domain=_QEMU)
    return DriverTables(hypervisor=QemuHypervisorDriver(state.driver), storage=_storage_table(host))


def _storage_table(host: Host) -> StorageDriver | None:
    try:
        from virtcore.drivers.storage import storage_table_for

        return storage_table_for(host)
    except ImportError:  # a virtcore without the host storage driver
        log.debug("no storage driver: qemu connections have no storage table")
        return None


class QemuHypervisorDriver(
    DeviceCalls, VcpuHotplugCalls, SnapshotCalls, StatsCalls, SaveRestoreCalls, LifecycleCalls
):
    """The hypervisor table of one connection, over the host's :class:`QemuDriver`."""

    name = "QEMU"

    def __init__(self, driver: QemuDriver) -> None:
        self.driver = driver

    def event_source(self) -> EventSource:
        """Domain events of the host, shared by all its connections."""
        return self.driver.events

    # -- connection and node ------------------------------------------------------

    def connect_get_type(self, conn: Connection) -> str:
        """``"QEMU"``."""
        return "QEMU"

    def connect_get_version(self, conn: Connection) -> int:
        """The version of the host's default emulator (major*1000000+minor*1000+micro)."""
        from virtcore_qemu.caps import find_emulator

        return int(self.driver.caps(find_emulator("x86_64")).version)

    def connect_get_hostname(self, conn: Connection) -> str:
        """This machine's host name, qualified as libvirt's ``virGetHostname`` does."""
        from virtcore.drivers.test.hypervisor import host_name

        return host_name()

    def connect_get_capabilities(self, conn: Connection) -> str:
        """The host capabilities XML (every installed emulator's guests)."""
        from virtcore_qemu.capsxml import capabilities_xml

        return capabilities_xml(self.driver.caps_cache)

    def connect_get_domain_capabilities(  # noqa: PLR0917 - the table's calling convention
        self,
        conn: Connection,
        emulatorbin: str | None,
        arch: str | None,
        machine: str | None,
        virttype: str | None,
        flags: int,
    ) -> str:
        """The domain capabilities XML for one emulator, architecture, machine and type."""
        from virtcore_qemu.capsxml import domain_capabilities_xml

        return domain_capabilities_xml(
            self.driver.caps_cache, emulatorbin, arch, machine, virttype, flags
        )

    def connect_get_lib_version(self, conn: Connection) -> int:
        """The libvirt version whose behaviour this driver follows (9.0.0)."""
        return LIB_VERSION

    def connect_get_max_vcpus(self, conn: Connection, type: str | None) -> int:
        """``qemuConnectGetMaxVcpus``: 16 for ``qemu`` (or no type), the KVM limit for ``kvm``."""
        if type is None or type.lower() == "qemu":
            return 16
        if type.lower() == "kvm":
            return nodeinfo.kvm_max_vcpus()
        raise InvalidArgError(f"unknown type '{type}'", domain=_QEMU)

    def connect_get_sysinfo(self, conn: Connection, flags: int) -> str:
        """The host's SMBIOS tables as ``<sysinfo>`` (``qemuConnectGetSysinfo``)."""
        from virtcore_qemu.sysinfo import host_sysinfo_xml

        check_flags(flags, 0, "qemuConnectGetSysinfo")
        return host_sysinfo_xml()

    def node_get_info(self, conn: Connection) -> tuple[str, int, int, int, int, int, int, int]:
        """``virNodeGetInfo`` in libvirt-python's order, memory in MiB."""
        info = nodeinfo.node_info()
        return (
            info.model,
            info.memory_kib // 1024,
            info.cpus,
            info.mhz,
            info.nodes,
            info.sockets,
            info.cores,
            info.threads,
        )

    def node_get_cpu_stats(self, conn: Connection, cpu_num: int, flags: int) -> dict[str, int]:
        """Host CPU times in nanoseconds, of one CPU or (-1) of all."""
        return nodeinfo.cpu_stats(cpu_num, flags)

    def node_get_memory_stats(self, conn: Connection, cell_num: int, flags: int) -> dict[str, int]:
        """Host (or NUMA cell) memory figures in KiB."""
        return nodeinfo.memory_stats(cell_num, flags)

    def node_get_free_memory(self, conn: Connection) -> int:
        """Free host memory in bytes."""
        return nodeinfo.free_memory()

    def node_get_cells_free_memory(self, conn: Connection, start: int, maxcells: int) -> list[int]:
        """Free bytes of NUMA cells *start* onwards."""
        return nodeinfo.cells_free_memory(start, maxcells)

    def node_get_cpu_map(self, conn: Connection, flags: int) -> tuple[int, bytes, int]:
        """How many CPUs the host has, which are online, and how many."""
        return nodeinfo.cpu_map(flags)

    def connect_is_secure(self, conn: Connection) -> int:
        """In-process, hence secure."""
        return 1

    def connect_is_encrypted(self, conn: Connection) -> int:
        """Nothing travels over a wire."""
        return 0

    def connect_is_alive(self, conn: Connection) -> int:
        """Always alive while open."""
        return 1

    # -- listing and lookup ---------------------------------------------------------

    def connect_list_all_domains(self, conn: Connection, flags: int) -> list[Domain]:
        """Domains matching the ``ConnectListAllDomainsFlags`` filter."""
        check_flags(flags, _ALL_LIST_FILTERS, "qemuConnectListAllDomains")
        return [self._handle(conn, o) for o in self.driver.domains if _matches(o, int(flags))]

    def connect_list_domains(self, conn: Connection) -> list[int]:
        """Ids of the running domains."""
        return sorted(o.id for o in self.driver.domains if o.is_active())

    def connect_num_of_domains(self, conn: Connection) -> int:
        """Number of running domains."""
        return sum(1 for o in self.driver.domains if o.is_active())

    def connect_list_defined_domains(self, conn: Connection) -> list[str]:
        """Names of the inactive domains."""
        return [o.name for o in self.driver.domains if not o.is_active()]

    def connect_num_of_defined_domains(self, conn: Connection) -> int:
        """Number of inactive domains."""
        return sum(1 for o in self.driver.domains if not o.is_active())

    def domain_lookup_by_name(self, conn: Connection, name: str) -> Domain:
        """The domain called *name*."""
        return self._handle(conn, self.driver.domains.lookup_name(name))

    def domain_lookup_by_uuid(self, conn: Connection, uuid: str) -> Domain:
        """The domain with *uuid*."""
        from virtcore.xml.domain.common import format_uuid, parse_uuid

        raw = parse_uuid(uuid)
        if raw is None:
            raise InvalidArgError("Invalid UUID", message="Invalid UUID", domain=ErrorDomain.DOMAIN)
        canonical = format_uuid(raw)
        return self._handle(conn, self.driver.domains.lookup_uuid(canonical))

    def domain_lookup_by_id(self, conn: Connection, id: int) -> Domain:
        """The running domain with *id*."""
        if id < 0:
            text = "id in virDomainLookupByID must be zero or greater"
            raise InvalidArgError(text, message=text, domain=ErrorDomain.DOMAIN)
        return self._handle(conn, self.driver.domains.lookup_id(id))

    # -- definition -----------------------------------------------------------------

    def domain_define_xml_flags(self, conn: Connection, xml: str, flags: int) -> Domain:
        """Define or redefine a persistent domain; DEFINED/ADDED or DEFINED/UPDATED."""
        check_flags(flags, 0x1, "qemuDomainDefineXMLFlags")
        # libvirt validates after its qemu post-parse (defaults such as the USB
        # controller a redirdev needs are in by then): prepare() validates.
        definition = DomainDef.parse(xml, validate_schema=bool(flags & 0x1), validate=False)
        self.driver.prepare(definition)
        drv = self.driver
        with drv.domains.lock:
            existing = drv.domains.check_new(str(definition.name), str(definition.uuid), live=False)
            obj = existing if existing is not None else DomainObj(config=definition)
            with obj.lock:
                old_config, old_persistent = obj.config, obj.persistent
                obj.config, obj.persistent = definition, True
                try:
                    drv.save_config(obj)
                except VirtError:
                    obj.config, obj.persistent = old_config, old_persistent
                    raise
                if existing is None:
                    drv.domains.add(obj)
                if obj.is_active():
                    drv.save_status(obj)
        detail = (
            DomainEventDefinedDetailType.UPDATED
            if existing is not None and old_persistent
            else DomainEventDefinedDetailType.ADDED
        )
        drv.emit_lifecycle(obj, DomainEventType.DEFINED, detail)
        log.debug("defined domain %s (%s)", obj.name, obj.uuid)
        return self._handle(conn, obj)

    def domain_undefine_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Remove the persistent definition; a running domain becomes transient."""
        check_flags(flags, 0x7F, "qemuDomainUndefineFlags")
        obj = self._obj(dom)
        drv = self.driver
        with obj.job(), obj.lock:
            if not obj.persistent:
                raise OperationInvalidError("cannot undefine transient domain", domain=_QEMU)
            files = drv.files(obj.name)
            if obj.snapshots and not obj.is_active() and not flags & 0x2:
                raise OperationInvalidError(
                    f"cannot delete inactive domain with {len(obj.snapshots)} snapshots",
                    domain=_QEMU,
                )
            if obj.has_managed_save:
                if not flags & 0x1:
                    raise OperationInvalidError(
                        "Refusing to undefine while domain managed save image exists",
                        domain=_QEMU,
                    )
                try:
                    files.managed_save.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    from virtcore.errors import SystemCallError

                    raise SystemCallError.from_os_error(
                        f"Failed to remove managed save file '{files.managed_save}'", exc
                    ) from exc
                obj.has_managed_save = False
            if flags & 0x2:
                from virtcore_qemu.snapshots import forget_all

                forget_all(drv, obj)
            drv.configs.set_autostart(obj.name, False)
            drv.configs.delete(obj.name)
            obj.autostart = False
            drv.emit_lifecycle(
                obj, DomainEventType.UNDEFINED, DomainEventUndefinedDetailType.REMOVED
            )
            if obj.is_active():
                obj.persistent, obj.config = False, None
                drv.save_status(obj)
            else:
                drv.domains.remove(obj)

    # -- queries --------------------------------------------------------------------

    def domain_get_info(self, conn: Connection, dom: Domain) -> tuple[int, int, int, int, int]:
        """State, maximum and current memory (KiB), vCPUs and CPU time (ns)."""
        obj = self._obj(dom)
        with obj.lock:
            definition = obj.definition.definition()
            memory = definition.memory
            vcpus = sum(1 for v in definition.vcpus.vcpus if v.online)
            cpu_time = _cpu_time(obj.pid) if obj.is_active() else 0
            return (int(obj.state), memory.total, memory.current, vcpus, cpu_time)

    def domain_get_state(self, conn: Connection, dom: Domain, flags: int) -> tuple[int, int]:
        """State and reason."""
        check_flags(flags, 0, "qemuDomainGetState")
        obj = self._obj(dom)
        with obj.lock:
            return int(obj.state), int(obj.reason)

    def domain_get_control_info(
        self, conn: Connection, dom: Domain, flags: int
    ) -> tuple[int, int, int]:
        """The control state: ``error``/``internal`` for a guest degraded at reconnect."""
        check_flags(flags, 0, "qemuDomainGetControlInfo")
        obj = self._obj(dom)
        with obj.lock:
            obj.check_active()
            return int(obj.control), int(obj.control_reason), 0

    def domain_get_messages(self, conn: Connection, dom: Domain, flags: int) -> list[str]:
        """Messages about the domain, including what could not be resolved at reconnect."""
        check_flags(flags, 0x3, "qemuDomainGetMessages")
        obj = self._obj(dom)
        with obj.lock:
            return list(obj.messages)

    def domain_get_xml_desc(self, conn: Connection, dom: Domain, flags: int) -> str:
        """Live XML, or with ``INACTIVE`` the persistent definition."""
        check_flags(
            flags,
            _XML_SECURE | _XML_INACTIVE | _XML_UPDATE_CPU | _XML_MIGRATABLE,
            "qemuDomainGetXMLDesc",
        )
        obj = self._obj(dom)
        with obj.lock:
            if flags & _XML_INACTIVE and obj.config is not None:
                return obj.config.format(flags)
            if obj.is_active() and obj.live is not None and not flags & _XML_INACTIVE:
                return format_live(obj.live, flags)
            return obj.definition.format(flags)

    def domain_get_os_type(self, conn: Connection, dom: Domain) -> str:
        """The OS type (``hvm``)."""
        obj = self._obj(dom)
        with obj.lock:
            return str(obj.definition.os.type or "hvm")

    def domain_get_max_memory(self, conn: Connection, dom: Domain) -> int:
        """Maximum memory in KiB."""
        obj = self._obj(dom)
        with obj.lock:
            return int(obj.definition.definition().memory.total)

    def domain_is_active(self, conn: Connection, dom: Domain) -> int:
        """1 while QEMU runs."""
        return int(self._obj(dom).is_active())

    def domain_is_persistent(self, conn: Connection, dom: Domain) -> int:
        """1 for a defined domain."""
        return int(self._obj(dom).persistent)

    def domain_is_updated(self, conn: Connection, dom: Domain) -> int:
        """1 when the persistent definition differs from the running one."""
        obj = self._obj(dom)
        with obj.lock:
            if not obj.is_active() or obj.config is None or obj.live is None:
                return 0
            return int(obj.config.format(_XML_INACTIVE) != obj.live.format(_XML_INACTIVE))

    def domain_get_autostart(self, conn: Connection, dom: Domain) -> int:
        """The autostart flag."""
        return int(self._obj(dom).autostart)

    def domain_set_autostart(self, conn: Connection, dom: Domain, autostart: bool) -> None:
        """Create or remove the autostart link (persistent domains only)."""
        obj = self._obj(dom)
        with obj.job(), obj.lock:
            if not obj.persistent:
                raise OperationInvalidError(
                    "cannot set autostart for transient domain", domain=_QEMU
                )
            if obj.autostart != bool(autostart):
                self.driver.configs.set_autostart(obj.name, bool(autostart))
                obj.autostart = bool(autostart)
                self.driver.save_status(obj)

    # -- helpers --------------------------------------------------------------------

    def _obj(self, dom: Domain) -> DomainObj:
        return self.driver.domains.lookup_uuid(dom.uuid, dom.name)

    def _handle(self, conn: Connection, obj: DomainObj) -> Domain:
        return Domain(conn, obj.name, obj.uuid, obj.id)


def _cpu_time(pid: int) -> int:
    """utime + stime of *pid* in ns (libvirt reads the same from /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _matches(obj: DomainObj, flags: int) -> bool:
    """``virDomainObjListFilter`` for one domain (this driver keeps no checkpoints)."""

    def pair(yes: int, no: int, value: bool) -> bool:
        if not flags & (yes | no):
            return True
        return bool((flags & yes and value) or (flags & no and not value))

    if not pair(ListFlags.ACTIVE, ListFlags.INACTIVE, obj.is_active()):
        return False
    if not pair(ListFlags.PERSISTENT, ListFlags.TRANSIENT, obj.persistent):
        return False
    states = ListFlags.RUNNING | ListFlags.PAUSED | ListFlags.SHUTOFF | ListFlags.OTHER
    if flags & states:
        state = obj.state
        known = (DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF)
        if not (
            (flags & ListFlags.RUNNING and state == DomainState.RUNNING)
            or (flags & ListFlags.PAUSED and state == DomainState.PAUSED)
            or (flags & ListFlags.SHUTOFF and state == DomainState.SHUTOFF)
            or (flags & ListFlags.OTHER and state not in known)
        ):
            return False
    if not pair(ListFlags.MANAGEDSAVE, ListFlags.NO_MANAGEDSAVE, obj.has_managed_save):
        return False
    if not pair(ListFlags.AUTOSTART, ListFlags.NO_AUTOSTART, obj.autostart):
        return False
    if not pair(ListFlags.HAS_SNAPSHOT, ListFlags.NO_SNAPSHOT, bool(obj.snapshots)):
        return False
    return pair(ListFlags.HAS_CHECKPOINT, ListFlags.NO_CHECKPOINT, False)
