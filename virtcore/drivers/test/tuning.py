"""Configuration calls of the test driver: metadata, rename, memory, vCPUs and CPU tuning.

Each call follows libvirt 9.0's test driver and the public API checks in
front of it (``src/libvirt-domain.c``), which are reproduced here so that
the same call fails the same way whichever layer refuses it: checks made by
the API layer carry no "invalid argument" prefix and report the
``VIR_FROM_DOMAIN`` error domain.

Live and persistent definitions are chosen with the ``VIR_DOMAIN_AFFECT_*``
flags exactly as libvirt's ``virDomainObjGetOneDef``/``virDomainObjGetDefs``
do. ``virDomainSetMetadata`` emits ``METADATA_CHANGE`` (event id 23) with the
metadata type and namespace URI, like libvirt; no other call here emits an
event except rename (``UNDEFINED``/``RENAMED`` then ``DEFINED``/``RENAMED``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from virtcore.drivers.test.domaincommon import (
    AFFECT_CONFIG,
    AFFECT_LIVE,
    CONFIG,
    DomainTableBase,
    api_error,
    bitmap_from_bytes,
    bitmap_to_bytes,
    check_flags,
    exclusive_affect,
    exclusive_flags,
    required_flag,
    validate_params,
)
from virtcore.drivers.test.domainparts import PERF_EVENTS, IOThreadID, metadata_get, metadata_set
from virtcore.drivers.test.runtime import IOThreadStats
from virtcore.enums.domain import DomainLifecycle, DomainMetadataType, DomainState
from virtcore.enums.domain_events import (
    DomainEventDefinedDetailType,
    DomainEventID,
    DomainEventType,
    DomainEventUndefinedDetailType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoDomainMetadataError,
    OperationInvalidError,
    XMLError,
)

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.domainxml import DomainDef
    from virtcore.objects import Domain

__all__ = ["TuningCalls"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
_AFFECT = AFFECT_LIVE | AFFECT_CONFIG
_MEM_MAXIMUM = 4
_VCPU_MAXIMUM = 4
_VCPU_GUEST = 8
_STRING_OKAY = 4
MAX_VCPUS = 32
_ACTIONS = ("destroy", "restart", "rename-restart", "preserve", "coredump-destroy",
            "coredump-restart")  # fmt: skip
_LIFECYCLES = ("poweroff", "reboot", "crash")
_IOTHREAD_PARAMS = {"poll_max_ns": "ullong", "poll_grow": "uint", "poll_shrink": "uint",
                    "thread_pool_min": "int", "thread_pool_max": "int"}  # fmt: skip


def _real_host_cpus() -> int:
    # libvirt sizes IOThread affinity by the real machine's CPU count.
    return os.cpu_count() or 1


def _last_bit(cpus: frozenset[int]) -> int:
    return max(cpus) if cpus else -1


class TuningCalls(DomainTableBase):
    """Metadata, rename, memory, vCPU, scheduler, pinning, IOThread and perf calls."""

    def _node_cpus(self) -> frozenset[int]:
        node = self.state.node
        return frozenset(range(node.nodes * node.sockets * node.cores * node.threads))

    # -- metadata -------------------------------------------------------------------

    def domain_get_metadata(
        self, conn: Connection, dom: Domain, type: int, uri: str | None, flags: int
    ) -> str:
        """Title, description, or the element stored under namespace *uri*."""
        exclusive_affect(flags)
        _check_metadata_uri(type, uri, "virDomainGetMetadata")
        check_flags(flags, _AFFECT, "testDomainGetMetadata")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            value: str | None
            if type == DomainMetadataType.DESCRIPTION:
                value = definition.description
            elif type == DomainMetadataType.TITLE:
                value = definition.title
            elif type == DomainMetadataType.ELEMENT:
                value = metadata_get(definition.tuning.metadata, uri or "")
            else:
                raise InvalidArgError(f"unknown metadata type '{type}'", domain=_DOM)
            if value is None:
                raise NoDomainMetadataError(
                    "Requested metadata element is not present", domain=_DOM
                )
            return value

    def domain_set_metadata(  # noqa: PLR0917 - libvirt's driver signature
        self,
        conn: Connection,
        dom: Domain,
        type: int,
        metadata: str | None,
        key: str | None,
        uri: str | None,
        flags: int,
    ) -> None:
        """Set (or remove, with *metadata* None or empty) a piece of metadata."""
        if type == DomainMetadataType.TITLE and metadata is not None and "\n" in metadata:
            raise api_error("metadata title can't contain newlines")
        if type in (DomainMetadataType.TITLE, DomainMetadataType.DESCRIPTION):
            for value, name in ((uri, "uri"), (key, "key")):
                if value is not None:
                    raise api_error(f"{name} in virDomainSetMetadata must be NULL")
        elif type == DomainMetadataType.ELEMENT:
            if uri is None:
                raise api_error("uri in virDomainSetMetadata must not be NULL")
            if metadata is not None and key is None:
                raise api_error("key in virDomainSetMetadata must not be NULL")
        check_flags(flags, _AFFECT, "testDomainSetMetadata")
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._defs(obj, flags)
            for definition in (live, persistent):
                if definition is not None:
                    _set_metadata(definition, type, metadata, key, uri)
            self._emit(obj, DomainEventID.METADATA_CHANGE, int(type), uri)

    # -- rename -----------------------------------------------------------------------

    def domain_rename(self, conn: Connection, dom: Domain, new_name: str, flags: int) -> None:
        """Rename a shut-off persistent domain; UNDEFINED/RENAMED then DEFINED/RENAMED."""
        if not new_name:
            raise api_error("string new_name in virDomainRename must not be empty")
        check_flags(flags, 0, "testDomainRename")
        with self.state.lock:
            obj = self._obj(dom)
            if obj.is_active():
                raise OperationInvalidError("cannot rename active domain", domain=_TEST)
            if not obj.persistent:
                raise OperationInvalidError("cannot rename a transient domain", domain=_TEST)
            if obj.state != DomainState.SHUTOFF:
                raise OperationInvalidError(
                    "domain has to be shutoff before renaming", domain=_TEST
                )
            if obj.name == new_name:
                raise OperationInvalidError("Can't rename domain to itself", domain=_DOM)
            if self.state.find_by_name(new_name) is not None:
                raise OperationInvalidError(
                    f"domain with name '{new_name}' already exists", domain=_DOM
                )
            if "/" in new_name:
                raise XMLError(f"name {new_name} cannot contain '/'", domain=_TEST)
            old = obj.name
            self.state.emit_domain(
                obj, DomainEventType.UNDEFINED, DomainEventUndefinedDetailType.RENAMED
            )
            self.state.rename_domain(obj, new_name)
            self.state.emit_domain(
                obj, DomainEventType.DEFINED, DomainEventDefinedDetailType.RENAMED
            )
            logger.debug("domain %s renamed to %s", old, new_name)

    # -- memory ---------------------------------------------------------------------

    def domain_set_memory(self, conn: Connection, dom: Domain, memory: int) -> None:
        """``virDomainSetMemory``: the live balloon size in KiB."""
        self._set_memory(dom, memory, AFFECT_LIVE, "virDomainSetMemory")

    def domain_set_max_memory(self, conn: Connection, dom: Domain, memory: int) -> None:
        """``virDomainSetMaxMemory``: the maximum (initial) memory in KiB."""
        self._set_memory(dom, memory, _MEM_MAXIMUM, "virDomainSetMaxMemory")

    def domain_set_memory_flags(
        self, conn: Connection, dom: Domain, memory: int, flags: int
    ) -> None:
        """Set the balloon size, or with ``MEM_MAXIMUM`` the maximum memory (KiB)."""
        exclusive_affect(flags)
        self._set_memory(dom, memory, flags, "virDomainSetMemoryFlags")

    def _set_memory(self, dom: Domain, memory: int, flags: int, api: str) -> None:
        if memory == 0:
            raise api_error(f"memory in {api} must not be zero")
        check_flags(flags, _AFFECT | _MEM_MAXIMUM, "testDomainSetMemoryFlags")
        with self.state.lock:
            definition, live = self._one_def(self._obj(dom), flags)
            if flags & _MEM_MAXIMUM:
                if live:
                    raise OperationInvalidError(
                        "cannot resize the maximum memory on an active domain", domain=_TEST
                    )
                definition.memory_kib = memory
                definition.current_kib = min(definition.current_kib, memory)
                return
            if memory > definition.memory_kib:
                raise InvalidArgError("cannot set memory higher than max memory", domain=_TEST)
            definition.current_kib = memory

    # -- vCPUs ------------------------------------------------------------------------

    def domain_set_vcpus(self, conn: Connection, dom: Domain, nvcpus: int) -> None:
        """``virDomainSetVcpus``: the live vCPU count."""
        if nvcpus == 0:
            raise api_error("nvcpus in virDomainSetVcpus must not be zero")
        self._set_vcpus(dom, nvcpus, AFFECT_LIVE)

    def domain_set_vcpus_flags(
        self, conn: Connection, dom: Domain, nvcpus: int, flags: int
    ) -> None:
        """Set the vCPU count, or with ``VCPU_MAXIMUM`` (needs CONFIG) the maximum."""
        required_flag(flags, (_VCPU_MAXIMUM, "VIR_DOMAIN_VCPU_MAXIMUM"), CONFIG, _DOM)
        exclusive_flags(flags, (_VCPU_GUEST, "VIR_DOMAIN_VCPU_GUEST"), CONFIG, _DOM)
        if nvcpus == 0:
            raise api_error("nvcpus in virDomainSetVcpusFlags must not be zero")
        self._set_vcpus(dom, nvcpus, flags)

    def _set_vcpus(self, dom: Domain, nvcpus: int, flags: int) -> None:
        check_flags(flags, _AFFECT | _VCPU_MAXIMUM, "testDomainSetVcpusFlags")
        if nvcpus > MAX_VCPUS:
            raise InvalidArgError(
                f"requested cpu amount exceeds maximum supported amount ({nvcpus} > {MAX_VCPUS})",
                domain=_TEST,
            )
        with self.state.lock:
            live, persistent = self._defs(self._obj(dom), flags)
            if live is not None and live.vcpus < nvcpus:
                raise InvalidArgError(
                    f"requested cpu amount exceeds maximum ({nvcpus} > {live.vcpus})",
                    domain=_TEST,
                )
            if persistent is not None and not flags & _VCPU_MAXIMUM and persistent.vcpus < nvcpus:
                raise InvalidArgError(
                    f"requested cpu amount exceeds maximum ({nvcpus} > {persistent.vcpus})",
                    domain=_TEST,
                )
            if live is not None:
                live.vcpus_current = nvcpus
            if persistent is not None:
                if flags & _VCPU_MAXIMUM:
                    persistent.vcpus = nvcpus
                    persistent.vcpus_current = min(persistent.vcpus_current, nvcpus)
                    pins = persistent.tuning.vcpupin
                    for vcpu in [v for v in pins if v >= nvcpus]:
                        del pins[vcpu]
                else:
                    persistent.vcpus_current = nvcpus

    def domain_get_vcpus_flags(self, conn: Connection, dom: Domain, flags: int) -> int:
        """The vCPU count, or with ``VCPU_MAXIMUM`` the maximum."""
        check_flags(flags, _AFFECT | _VCPU_MAXIMUM, "testDomainGetVcpusFlags")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            return definition.vcpus if flags & _VCPU_MAXIMUM else definition.vcpus_current

    def domain_get_max_vcpus(self, conn: Connection, dom: Domain) -> int:
        """``virDomainGetMaxVcpus``: the live maximum (the domain must be running)."""
        return self.domain_get_vcpus_flags(conn, dom, AFFECT_LIVE | _VCPU_MAXIMUM)

    def domain_get_vcpus(
        self, conn: Connection, dom: Domain, maxinfo: int, maplen: int
    ) -> tuple[list[tuple[int, int, int, int]], list[bytes]]:
        """(number, state, CPU time, CPU) of each online vCPU, and its affinity."""
        with self.state.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise OperationInvalidError(
                    "cannot list vcpus for an inactive domain", domain=_TEST
                )
            definition = obj.def_
            statbase = self._clock_ns() // 1000
            host = self._node_cpus()
            infos: list[tuple[int, int, int, int]] = []
            maps: list[bytes] = []
            for vcpu in range(min(maxinfo, definition.vcpus_current)):
                cpus = definition.tuning.vcpupin.get(vcpu) or definition.tuning.cpumask or host
                infos.append((vcpu, 1, statbase // 10, _last_bit(cpus)))
                maps.append(bitmap_to_bytes(cpus, maplen))
            return infos, maps

    def domain_pin_vcpu(self, conn: Connection, dom: Domain, vcpu: int, cpumap: bytes) -> None:
        """``virDomainPinVcpu``: pin a live vCPU."""
        self.domain_pin_vcpu_flags(conn, dom, vcpu, cpumap, 0)

    def domain_pin_vcpu_flags(
        self, conn: Connection, dom: Domain, vcpu: int, cpumap: bytes, flags: int
    ) -> None:
        """Pin an online vCPU of a running domain to the CPUs in *cpumap*."""
        check_flags(flags, 0, "testDomainPinVcpuFlags")
        with self.state.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise OperationInvalidError("cannot pin vcpus on an inactive domain", domain=_TEST)
            if vcpu >= obj.def_.vcpus_current:
                raise InvalidArgError(
                    f"requested vcpu '{vcpu}' is not present in the domain", domain=_TEST
                )
            obj.unshare()
            obj.def_.tuning.vcpupin[vcpu] = bitmap_from_bytes(cpumap)

    def domain_get_vcpu_pin_info(
        self, conn: Connection, dom: Domain, ncpumaps: int, maplen: int, flags: int
    ) -> list[bytes]:
        """Affinity of every vCPU (online or not) of the selected definition."""
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            host = self._node_cpus()
            maps = []
            for vcpu in range(min(definition.vcpus, ncpumaps)):
                cpus = definition.tuning.vcpupin.get(vcpu) or definition.tuning.cpumask or host
                maps.append(bitmap_to_bytes(cpus, maplen))
            return maps

    def domain_pin_emulator(self, conn: Connection, dom: Domain, cpumap: bytes, flags: int) -> None:
        """Pin the emulator threads to the CPUs in *cpumap*."""
        check_flags(flags, _AFFECT, "testDomainPinEmulator")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            cpus = bitmap_from_bytes(cpumap)
            if not cpus:
                raise InvalidArgError("Empty cpu list for pinning", domain=_TEST)
            definition.tuning.emulatorpin = cpus

    def domain_get_emulator_pin_info(
        self, conn: Connection, dom: Domain, maplen: int, flags: int
    ) -> bytes:
        """The emulator threads' affinity."""
        check_flags(flags, _AFFECT, "testDomainGetEmulatorPinInfo")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            tuning = definition.tuning
            cpus = tuning.emulatorpin or tuning.cpumask or self._node_cpus()
            return bitmap_to_bytes(cpus, maplen)

    # -- scheduler --------------------------------------------------------------------

    def domain_get_scheduler_type(self, conn: Connection, dom: Domain) -> tuple[str, int]:
        """The ``fair`` scheduler with one parameter (the domain is not even looked up)."""
        return "fair", 1

    def domain_get_scheduler_parameters(self, conn: Connection, dom: Domain) -> dict[str, int]:
        """``virDomainGetSchedulerParameters``: ``weight`` 50."""
        return self.domain_get_scheduler_parameters_flags(conn, dom, 0)

    def domain_get_scheduler_parameters_flags(
        self, conn: Connection, dom: Domain, flags: int
    ) -> dict[str, int]:
        """``weight`` 50, whatever was set (libvirt's test driver does not store it)."""
        check_flags(flags, 0, "testDomainGetSchedulerParametersFlags")
        with self.state.lock:
            self._obj(dom)
        return {"weight": 50}

    def domain_set_scheduler_parameters(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any]
    ) -> None:
        """``virDomainSetSchedulerParameters``."""
        self.domain_set_scheduler_parameters_flags(conn, dom, params, 0)

    def domain_set_scheduler_parameters_flags(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any], flags: int
    ) -> None:
        """Accept a ``weight`` (uint) and, like libvirt's test driver, keep nothing."""
        check_flags(flags, 0, "testDomainSetSchedulerParametersFlags")
        validate_params(params, {"weight": "uint"})
        with self.state.lock:
            self._obj(dom)

    # -- lifecycle actions and perf events ----------------------------------------------

    def domain_set_lifecycle_action(
        self, conn: Connection, dom: Domain, type: int, action: int, flags: int
    ) -> None:
        """Set what the guest's poweroff, reboot or crash does."""
        if not 0 <= type < len(_LIFECYCLES):
            raise InvalidArgError(f"invalid lifecycle type '{type}'", domain=_DOM)
        if not 0 <= action < len(_ACTIONS):
            raise InvalidArgError(f"invalid lifecycle action '{action}'", domain=_DOM)
        check_flags(flags, _AFFECT, "testDomainSetLifecycleAction")
        if type != DomainLifecycle.CRASH and action >= 4:
            raise ConfigUnsupportedError(
                f"Lifecycle event '{_LIFECYCLES[type]}' doesn't support '{_ACTIONS[action]}' "
                "action",
                domain=_DOM,
            )
        attr = ("on_poweroff", "on_reboot", "on_crash")[type]
        with self.state.lock:
            live, persistent = self._defs(self._obj(dom), flags)
            for definition in (live, persistent):
                if definition is not None:
                    setattr(definition, attr, _ACTIONS[action])

    def domain_set_perf_events(
        self, conn: Connection, dom: Domain, params: Mapping[str, Any], flags: int
    ) -> None:
        """Enable or disable perf events (boolean parameters named after the events)."""
        check_flags(flags, _AFFECT, "testDomainSetPerfEvents")
        validate_params(params, dict.fromkeys(PERF_EVENTS, "boolean"))
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            for name, enabled in params.items():
                definition.tuning.perf[name] = bool(enabled)

    def domain_get_perf_events(self, conn: Connection, dom: Domain, flags: int) -> dict[str, bool]:
        """Every perf event and whether it is enabled."""
        check_flags(flags, _AFFECT | _STRING_OKAY, "testDomainGetPerfEvents")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags & _AFFECT)
            return {name: definition.tuning.perf.get(name, False) for name in PERF_EVENTS}

    # -- IOThreads ----------------------------------------------------------------------

    def domain_get_iothread_info(
        self, conn: Connection, dom: Domain, flags: int
    ) -> list[tuple[int, bytes]]:
        """(id, affinity) of each IOThread; unpinned ones may run on every host CPU."""
        check_flags(flags, _AFFECT, "testDomainGetIOThreadInfo")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            host = frozenset(range(_real_host_cpus()))
            maplen = (max(_real_host_cpus(), 1) + 7) // 8
            out = []
            for thread in definition.tuning.iothreads:
                cpus = definition.tuning.iothreadpin.get(thread.id)
                cpus = cpus or definition.tuning.cpumask or host
                size = max(maplen, (_last_bit(cpus) + 8) // 8)
                out.append((thread.id, bitmap_to_bytes(cpus, size)))
            return out

    def domain_add_iothread(
        self, conn: Connection, dom: Domain, iothread_id: int, flags: int
    ) -> None:
        """Add an IOThread to the selected definitions."""
        check_flags(flags, _AFFECT, "testDomainAddIOThread")
        if iothread_id == 0:
            raise InvalidArgError("invalid value of 0 for iothread_id", domain=_TEST)
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._defs(obj, flags)
            targets = [d for d in (live, persistent) if d is not None]
            for definition in targets:
                if any(t.id == iothread_id for t in definition.tuning.iothreads):
                    raise InvalidArgError(
                        f"an IOThread is already using iothread_id '{iothread_id}'", domain=_DOM
                    )
            for definition in targets:
                definition.tuning.iothreads.append(IOThreadID(iothread_id))
            runtime = self._runtime(obj)
            if runtime.iothread(iothread_id) is None:
                runtime.iothreads.append(IOThreadStats(iothread_id))

    def domain_del_iothread(
        self, conn: Connection, dom: Domain, iothread_id: int, flags: int
    ) -> None:
        """Remove an IOThread from the selected definitions."""
        if iothread_id == 0:
            raise api_error("iothread_id in virDomainDelIOThread must not be zero")
        check_flags(flags, _AFFECT, "testDomainDelIOThread")
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._defs(obj, flags)
            targets = [d for d in (live, persistent) if d is not None]
            for definition in targets:
                if not any(t.id == iothread_id for t in definition.tuning.iothreads):
                    raise InvalidArgError(
                        f"cannot find IOThread '{iothread_id}' in iothreadids list", domain=_DOM
                    )
            for definition in targets:
                tuning = definition.tuning
                tuning.iothreads = [t for t in tuning.iothreads if t.id != iothread_id]
                tuning.iothreadpin.pop(iothread_id, None)
            runtime = self._runtime(obj)
            runtime.iothreads = [s for s in runtime.iothreads if s.id != iothread_id]

    def domain_pin_iothread(
        self, conn: Connection, dom: Domain, iothread_id: int, cpumap: bytes, flags: int
    ) -> None:
        """Pin an IOThread of the selected definition to the CPUs in *cpumap*."""
        check_flags(flags, _AFFECT, "testDomainPinIOThread")
        with self.state.lock:
            definition, _ = self._one_def(self._obj(dom), flags)
            if not any(t.id == iothread_id for t in definition.tuning.iothreads):
                raise InvalidArgError(f"iothreadid {iothread_id} not found", domain=_TEST)
            cpus = bitmap_from_bytes(cpumap)
            if not cpus:
                raise InvalidArgError("Empty iothread cpumap list for pinning", domain=_TEST)
            definition.tuning.iothreadpin[iothread_id] = cpus

    def domain_set_iothread_params(
        self,
        conn: Connection,
        dom: Domain,
        iothread_id: int,
        params: Mapping[str, Any],
        flags: int,
    ) -> None:
        """Set the polling parameters the statistics of an API-added IOThread report."""
        check_flags(flags, AFFECT_LIVE, "testDomainSetIOThreadParams")
        validate_params(params, _IOTHREAD_PARAMS)
        with self.state.lock:
            obj = self._obj(dom)
            definition, _ = self._one_def(obj, flags)
            if not any(t.id == iothread_id for t in definition.tuning.iothreads):
                raise InvalidArgError(
                    f"cannot find IOThread '{iothread_id}' in iothreadids", domain=_TEST
                )
            stats = self._runtime(obj).iothread(iothread_id)
            if stats is None:
                # libvirt 9.0 fails here without reporting why.
                text = "An error occurred, but the cause is unknown"
                raise InternalError(text, message=text, domain=ErrorDomain.NONE)
            stats.poll_max_ns = int(params.get("poll_max_ns", stats.poll_max_ns))
            stats.poll_grow = int(params.get("poll_grow", stats.poll_grow))
            stats.poll_shrink = int(params.get("poll_shrink", stats.poll_shrink))


def _check_metadata_uri(type: int, uri: str | None, api: str) -> None:
    if type in (DomainMetadataType.TITLE, DomainMetadataType.DESCRIPTION) and uri is not None:
        raise api_error(f"uri in {api} must be NULL")
    if type == DomainMetadataType.ELEMENT and uri is None:
        raise api_error(f"uri in {api} must not be NULL")


def _set_metadata(
    definition: DomainDef, type: int, metadata: str | None, key: str | None, uri: str | None
) -> None:
    """``virDomainDefSetMetadata`` on one definition."""
    if type == DomainMetadataType.DESCRIPTION:
        definition.description = metadata or None
    elif type == DomainMetadataType.TITLE:
        definition.title = metadata or None
    elif type == DomainMetadataType.ELEMENT:
        tuning = definition.tuning
        tuning.metadata = metadata_set(tuning.metadata, metadata, key, uri or "")
    else:
        raise InvalidArgError(f"unknown metadata type '{type}'", domain=_DOM)
