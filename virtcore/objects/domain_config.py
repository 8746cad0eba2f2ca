"""Domain handle calls that change or read a domain's configuration.

Metadata, rename, memory and vCPU sizing, CPU pinning, IOThreads, the
scheduler, perf events, lifecycle actions, resource parameters (memory, NUMA,
block I/O, bandwidth, disk I/O limits) and device hot-plug. Every method
is one libvirt API (named in its docstring); ``flags`` take the
``VIR_DOMAIN_AFFECT_*`` values (:class:`~virtcore.enums.domain.DomainModificationImpact`)
where libvirt does.

CPU maps follow libvirt-python: a map is a tuple of booleans, one per host
CPU as ``virNodeGetCPUMap`` counts them, and maps given to pinning calls may
be any sequence of booleans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from virtcore.objects.base import Handle, api_for_flags
from virtcore.results import IOThreadInfo, VcpuInfo

__all__ = ["DomainConfigCalls", "bools_to_cpumap", "cpumap_to_bools"]


def bools_to_cpumap(cpus: Sequence[bool], maplen: int) -> bytes:
    """A libvirt cpumap of at least *maplen* bytes with CPU *n* set when ``cpus[n]``."""
    out = bytearray(max(maplen, (len(cpus) + 7) // 8))
    for cpu, used in enumerate(cpus):
        if used:
            out[cpu // 8] |= 1 << (cpu % 8)
    return bytes(out)


# The eight CPUs of each cpumap byte value, lowest bit first.
_BYTE_CPUS = tuple(tuple(bool(value >> bit & 1) for bit in range(8)) for value in range(256))


def cpumap_to_bools(cpumap: bytes, ncpus: int) -> tuple[bool, ...]:
    """The first *ncpus* bits of a libvirt cpumap as booleans (False past its end)."""
    table = _BYTE_CPUS
    bits = [cpu for value in cpumap[: (ncpus + 7) // 8] for cpu in table[value]]
    if len(bits) < ncpus:
        bits.extend([False] * (ncpus - len(bits)))
    return tuple(bits[:ncpus])


class DomainConfigCalls(Handle):
    """Configuration calls of :class:`~virtcore.objects.Domain`."""

    __slots__ = ()

    def _host_cpus(self) -> int:
        """How many CPUs maps cover: ``virNodeGetCPUMap``'s count, like libvirt-python."""
        cpus = self._conn._invoke("hypervisor", "node_get_cpu_map", "virNodeGetCPUMap", 0)[0]
        return int(cpus)

    # -- metadata and name --------------------------------------------------------------

    def metadata(self, type: int, uri: str | None = None, flags: int = 0) -> str:
        """Title, description or the element in namespace *uri* (``virDomainGetMetadata``)."""
        result: str = self._call("domain_get_metadata", "virDomainGetMetadata", type, uri, flags)
        return result

    def set_metadata(
        self,
        type: int,
        metadata: str | None,
        key: str | None = None,
        uri: str | None = None,
        flags: int = 0,
    ) -> None:
        """Set or (with *metadata* None) remove metadata (``virDomainSetMetadata``)."""
        self._call(
            "domain_set_metadata",
            "virDomainSetMetadata",
            type,
            metadata,
            key,
            uri,
            flags,
            write=True,
        )

    def rename(self, new_name: str, flags: int = 0) -> None:
        """Rename an inactive domain (``virDomainRename``); the handle keeps its old name."""
        self._call("domain_rename", "virDomainRename", new_name, flags, write=True)

    # -- memory and vCPUs ---------------------------------------------------------------

    def set_max_memory(self, memory: int) -> None:
        """Set the maximum memory in KiB (``virDomainSetMaxMemory``)."""
        self._call("domain_set_max_memory", "virDomainSetMaxMemory", memory, write=True)

    def vcpus_flags(self, flags: int = 0) -> int:
        """The vCPU count, or with ``VCPU_MAXIMUM`` the maximum (``virDomainGetVcpusFlags``)."""
        result: int = self._call("domain_get_vcpus_flags", "virDomainGetVcpusFlags", flags)
        return result

    def max_vcpus(self) -> int:
        """The running domain's maximum vCPU count (``virDomainGetMaxVcpus``)."""
        result: int = self._call("domain_get_max_vcpus", "virDomainGetMaxVcpus")
        return result

    def vcpus(self) -> tuple[list[VcpuInfo], list[tuple[bool, ...]]]:
        """Information and affinity of each online vCPU (``virDomainGetVcpus``)."""
        ncpus = self._host_cpus()
        nvcpus = self._call("domain_get_info", "virDomainGetInfo")[3]
        infos, maps = self._call("domain_get_vcpus", "virDomainGetVcpus", nvcpus, (ncpus + 7) // 8)
        return [VcpuInfo(*info) for info in infos], [cpumap_to_bools(m, ncpus) for m in maps]

    def vcpu_pin_info(self, flags: int = 0) -> list[tuple[bool, ...]]:
        """The affinity of each vCPU (``virDomainGetVcpuPinInfo``)."""
        ncpus = self._host_cpus()
        nvcpus = self._call("domain_get_info", "virDomainGetInfo")[3]
        maps = self._call(
            "domain_get_vcpu_pin_info",
            "virDomainGetVcpuPinInfo",
            nvcpus,
            (ncpus + 7) // 8,
            flags,
        )
        return [cpumap_to_bools(m, ncpus) for m in maps]

    def pin_vcpu(self, vcpu: int, cpumap: Sequence[bool], flags: int = 0) -> None:
        """Pin a vCPU to the host CPUs set in *cpumap* (``virDomainPinVcpuFlags``)."""
        data = bools_to_cpumap(cpumap, (self._host_cpus() + 7) // 8)
        if flags:
            self._call(
                "domain_pin_vcpu_flags", "virDomainPinVcpuFlags", vcpu, data, flags, write=True
            )
        else:
            self._call("domain_pin_vcpu", "virDomainPinVcpu", vcpu, data, write=True)

    def emulator_pin_info(self, flags: int = 0) -> tuple[bool, ...]:
        """The emulator threads' affinity (``virDomainGetEmulatorPinInfo``)."""
        ncpus = self._host_cpus()
        data = self._call(
            "domain_get_emulator_pin_info",
            "virDomainGetEmulatorPinInfo",
            (ncpus + 7) // 8,
            flags,
        )
        return cpumap_to_bools(data, ncpus)

    def pin_emulator(self, cpumap: Sequence[bool], flags: int = 0) -> None:
        """Pin the emulator threads (``virDomainPinEmulator``)."""
        data = bools_to_cpumap(cpumap, (self._host_cpus() + 7) // 8)
        self._call("domain_pin_emulator", "virDomainPinEmulator", data, flags, write=True)

    # -- IOThreads ----------------------------------------------------------------------

    def io_thread_info(self, flags: int = 0) -> list[IOThreadInfo]:
        """Each IOThread and its affinity (``virDomainGetIOThreadInfo``)."""
        ncpus = self._host_cpus()
        found = self._call("domain_get_iothread_info", "virDomainGetIOThreadInfo", flags)
        return [IOThreadInfo(number, cpumap_to_bools(data, ncpus)) for number, data in found]

    def add_io_thread(self, iothread_id: int, flags: int = 0) -> None:
        """Add an IOThread (``virDomainAddIOThread``)."""
        self._call("domain_add_iothread", "virDomainAddIOThread", iothread_id, flags, write=True)

    def del_io_thread(self, iothread_id: int, flags: int = 0) -> None:
        """Remove an IOThread (``virDomainDelIOThread``)."""
        self._call("domain_del_iothread", "virDomainDelIOThread", iothread_id, flags, write=True)

    def pin_io_thread(self, iothread_id: int, cpumap: Sequence[bool], flags: int = 0) -> None:
        """Pin an IOThread (``virDomainPinIOThread``)."""
        data = bools_to_cpumap(cpumap, (self._host_cpus() + 7) // 8)
        self._call(
            "domain_pin_iothread", "virDomainPinIOThread", iothread_id, data, flags, write=True
        )

    def set_io_thread_params(
        self, iothread_id: int, params: Mapping[str, Any], flags: int = 0
    ) -> None:
        """Set an IOThread's polling parameters (``virDomainSetIOThreadParams``)."""
        self._call(
            "domain_set_iothread_params",
            "virDomainSetIOThreadParams",
            iothread_id,
            dict(params),
            flags,
            write=True,
        )

    # -- scheduler, perf events, lifecycle actions --------------------------------------------

    def scheduler_type(self) -> tuple[str, int]:
        """The scheduler's name and parameter count (``virDomainGetSchedulerType``)."""
        name, count = self._call("domain_get_scheduler_type", "virDomainGetSchedulerType")
        return str(name), int(count)

    def scheduler_parameters(self, flags: int = 0) -> dict[str, Any]:
        """Scheduler parameters (``virDomainGetSchedulerParameters[Flags]``)."""
        if flags:
            return dict(
                self._call(
                    "domain_get_scheduler_parameters_flags",
                    "virDomainGetSchedulerParametersFlags",
                    flags,
                )
            )
        return dict(
            self._call("domain_get_scheduler_parameters", "virDomainGetSchedulerParameters")
        )

    def set_scheduler_parameters(self, params: Mapping[str, Any], flags: int = 0) -> None:
        """Set scheduler parameters (``virDomainSetSchedulerParameters[Flags]``)."""
        method = "domain_set_scheduler_parameters"
        api = api_for_flags(flags, "virDomainSetSchedulerParameters")
        if flags:
            self._call(method + "_flags", api, dict(params), flags, write=True)
        else:
            self._call(method, api, dict(params), write=True)

    def perf_events(self, flags: int = 0) -> dict[str, bool]:
        """Every perf event and whether it is enabled (``virDomainGetPerfEvents``)."""
        return dict(self._call("domain_get_perf_events", "virDomainGetPerfEvents", flags))

    def set_perf_events(self, params: Mapping[str, bool], flags: int = 0) -> None:
        """Enable or disable perf events (``virDomainSetPerfEvents``)."""
        self._call(
            "domain_set_perf_events", "virDomainSetPerfEvents", dict(params), flags, write=True
        )

    def set_lifecycle_action(self, type: int, action: int, flags: int = 0) -> None:
        """Choose what poweroff, reboot or crash does (``virDomainSetLifecycleAction``)."""
        self._call(
            "domain_set_lifecycle_action",
            "virDomainSetLifecycleAction",
            type,
            action,
            flags,
            write=True,
        )

    # -- resource parameters --------------------------------------------------------------

    def memory_parameters(self, flags: int = 0) -> dict[str, int]:
        """Memory limits in KiB (``virDomainGetMemoryParameters``)."""
        return dict(
            self._call("domain_get_memory_parameters", "virDomainGetMemoryParameters", flags)
        )

    def set_memory_parameters(self, params: Mapping[str, int], flags: int = 0) -> None:
        """Set memory limits in KiB (``virDomainSetMemoryParameters``)."""
        self._call(
            "domain_set_memory_parameters",
            "virDomainSetMemoryParameters",
            dict(params),
            flags,
            write=True,
        )

    def numa_parameters(self, flags: int = 0) -> dict[str, Any]:
        """NUMA memory mode and node set (``virDomainGetNumaParameters``)."""
        return dict(self._call("domain_get_numa_parameters", "virDomainGetNumaParameters", flags))

    def set_numa_parameters(self, params: Mapping[str, Any], flags: int = 0) -> None:
        """Set the NUMA memory mode and/or node set (``virDomainSetNumaParameters``)."""
        self._call(
            "domain_set_numa_parameters",
            "virDomainSetNumaParameters",
            dict(params),
            flags,
            write=True,
        )

    def blkio_parameters(self, flags: int = 0) -> dict[str, Any]:
        """Block I/O weight and device figures (``virDomainGetBlkioParameters``)."""
        return dict(self._call("domain_get_blkio_parameters", "virDomainGetBlkioParameters", flags))

    def set_blkio_parameters(self, params: Mapping[str, Any], flags: int = 0) -> None:
        """Set block I/O figures (``virDomainSetBlkioParameters``)."""
        self._call(
            "domain_set_blkio_parameters",
            "virDomainSetBlkioParameters",
            dict(params),
            flags,
            write=True,
        )

    def interface_parameters(self, device: str, flags: int = 0) -> dict[str, int]:
        """An interface's bandwidth limits (``virDomainGetInterfaceParameters``)."""
        return dict(
            self._call(
                "domain_get_interface_parameters",
                "virDomainGetInterfaceParameters",
                device,
                flags,
            )
        )

    def set_interface_parameters(
        self, device: str, params: Mapping[str, int], flags: int = 0
    ) -> None:
        """Set an interface's bandwidth limits (``virDomainSetInterfaceParameters``)."""
        self._call(
            "domain_set_interface_parameters",
            "virDomainSetInterfaceParameters",
            device,
            dict(params),
            flags,
            write=True,
        )

    def block_io_tune(self, disk: str, flags: int = 0) -> dict[str, Any]:
        """A disk's I/O limits (``virDomainGetBlockIoTune``)."""
        return dict(self._call("domain_get_block_io_tune", "virDomainGetBlockIoTune", disk, flags))

    def set_block_io_tune(self, disk: str, params: Mapping[str, Any], flags: int = 0) -> None:
        """Set a disk's I/O limits (``virDomainSetBlockIoTune``)."""
        self._call(
            "domain_set_block_io_tune",
            "virDomainSetBlockIoTune",
            disk,
            dict(params),
            flags,
            write=True,
        )

    # -- devices ------------------------------------------------------------------------

    def detach_device_alias(self, alias: str, flags: int = 0) -> None:
        """Detach the device with *alias* (``virDomainDetachDeviceAlias``)."""
        self._call(
            "domain_detach_device_alias", "virDomainDetachDeviceAlias", alias, flags, write=True
        )

    def update_device(self, xml: str, flags: int = 0) -> None:
        """Change a device's settings or media (``virDomainUpdateDeviceFlags``)."""
        self._call(
            "domain_update_device_flags", "virDomainUpdateDeviceFlags", xml, flags, write=True
        )
