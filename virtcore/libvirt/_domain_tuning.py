"""``virDomain`` tuning calls: typed parameters, CPU maps, vCPU and memory sizing.

These need more than passing arguments through (see :mod:`._convert`):

* Getters of typed parameters add ``VIR_TYPED_PARAM_STRING_OKAY`` to the
  flags, as libvirt's public API does; setters first read the current
  parameters with the caller's flags and check the new values against them,
  as libvirt-python does, so errors come from the same call.
* The scheduler calls ask for the scheduler type first (libvirt-python learns
  the parameter count from it).
* CPU maps are tuples of booleans here and packed bit maps in the driver.
* Calls from before flags (``pinVcpu``, ``setMemory``, ``setMaxMemory``,
  ``setVcpus``, the plain scheduler calls) reach their own driver method, or
  the flags variant with the flags libvirt's drivers apply when a driver only
  has that.
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from virtcore.libvirt._base import AFFECT_LIVE, MEM_MAXIMUM, Wrapped, status
from virtcore.libvirt._convert import (
    STRING_OKAY,
    check_params_given,
    host_cpu_count,
    pack_cpumap,
    typed_update,
    unpack_cpumap,
)

__all__ = ["DomainTuningCalls"]


class DomainTuningCalls(Wrapped):
    """``virDomain`` methods for typed parameters, CPU affinity and sizing."""

    __slots__ = ()

    # -- shared steps ----------------------------------------------------------------------

    def _typed(self, method: str, api: str, flags: int, *lead: Any) -> dict[str, Any]:
        """A typed-parameter getter: ``method(*lead, flags | STRING_OKAY)``."""
        return dict(self._call(method, api, *lead, flags | STRING_OKAY))

    def _update(
        self,
        getter: tuple[str, str],
        setter: tuple[str, str],
        lead: tuple[Any, ...],
        params: dict[str, Any],
        flags: int,
    ) -> int:
        """Read the current parameters, check *params* against them, then set them."""
        check_params_given(params)
        current = self._typed(getter[0], getter[1], flags, *lead)
        values = typed_update(params, current)
        return status(self._call(setter[0], setter[1], *lead, values, flags, write=True))

    def _scheduler_count(self) -> int:
        """How many scheduler parameters there are (``virDomainGetSchedulerType``)."""
        _, count = self._call("domain_get_scheduler_type", "virDomainGetSchedulerType")
        return int(count)

    def _cpus(self) -> int:
        return host_cpu_count(self._conn)

    # -- typed parameters ------------------------------------------------------------------

    def blkioParameters(self, flags: int = 0) -> dict[str, Any]:
        """Get the blkio parameters (``virDomainGetBlkioParameters``)."""
        return self._typed("domain_get_blkio_parameters", "virDomainGetBlkioParameters", flags)

    def setBlkioParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the blkio tunables (``virDomainSetBlkioParameters``)."""
        return self._update(
            ("domain_get_blkio_parameters", "virDomainGetBlkioParameters"),
            ("domain_set_blkio_parameters", "virDomainSetBlkioParameters"),
            (),
            params,
            flags,
        )

    def blockIoTune(self, disk: str, flags: int = 0) -> dict[str, Any]:
        """Get the I/O tunables for a block device (``virDomainGetBlockIoTune``)."""
        return self._typed("domain_get_block_io_tune", "virDomainGetBlockIoTune", flags, disk)

    def setBlockIoTune(self, disk: str, params: dict[str, Any], flags: int = 0) -> int:
        """Change the I/O tunables for a block device (``virDomainSetBlockIoTune``)."""
        return self._update(
            ("domain_get_block_io_tune", "virDomainGetBlockIoTune"),
            ("domain_set_block_io_tune", "virDomainSetBlockIoTune"),
            (disk,),
            params,
            flags,
        )

    def interfaceParameters(self, device: str, flags: int = 0) -> dict[str, Any]:
        """Get the bandwidth tunables for a interface device
        (``virDomainGetInterfaceParameters``).
        """
        return self._typed(
            "domain_get_interface_parameters", "virDomainGetInterfaceParameters", flags, device
        )

    def setInterfaceParameters(self, device: str, params: dict[str, Any], flags: int = 0) -> int:
        """Change the bandwidth tunables for a interface device
        (``virDomainSetInterfaceParameters``).
        """
        return self._update(
            ("domain_get_interface_parameters", "virDomainGetInterfaceParameters"),
            ("domain_set_interface_parameters", "virDomainSetInterfaceParameters"),
            (device,),
            params,
            flags,
        )

    def memoryParameters(self, flags: int = 0) -> dict[str, Any]:
        """Get the memory parameters (``virDomainGetMemoryParameters``)."""
        return self._typed("domain_get_memory_parameters", "virDomainGetMemoryParameters", flags)

    def setMemoryParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the memory tunables (``virDomainSetMemoryParameters``)."""
        return self._update(
            ("domain_get_memory_parameters", "virDomainGetMemoryParameters"),
            ("domain_set_memory_parameters", "virDomainSetMemoryParameters"),
            (),
            params,
            flags,
        )

    def numaParameters(self, flags: int = 0) -> dict[str, Any]:
        """Get the NUMA parameters (``virDomainGetNumaParameters``)."""
        return self._typed("domain_get_numa_parameters", "virDomainGetNumaParameters", flags)

    def setNumaParameters(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the NUMA tunables (``virDomainSetNumaParameters``)."""
        return self._update(
            ("domain_get_numa_parameters", "virDomainGetNumaParameters"),
            ("domain_set_numa_parameters", "virDomainSetNumaParameters"),
            (),
            params,
            flags,
        )

    def launchSecurityInfo(self, flags: int = 0) -> dict[str, Any]:
        """Get launch security info for a domain (``virDomainGetLaunchSecurityInfo``)."""
        return self._typed(
            "domain_get_launch_security_info", "virDomainGetLaunchSecurityInfo", flags
        )

    def perfEvents(self, flags: int = 0) -> dict[str, Any]:
        """Get all perf events setting (``virDomainGetPerfEvents``)."""
        return dict(self._call("domain_get_perf_events", "virDomainGetPerfEvents", flags))

    def setPerfEvents(self, params: dict[str, Any], flags: int = 0) -> int:
        """Enable or disable the particular list of perf events (``virDomainSetPerfEvents``)."""
        check_params_given(params)
        current = self._call("domain_get_perf_events", "virDomainGetPerfEvents", flags)
        values = typed_update(params, current)
        return status(
            self._call(
                "domain_set_perf_events", "virDomainSetPerfEvents", values, flags, write=True
            )
        )

    # -- the scheduler ---------------------------------------------------------------------

    def schedulerParameters(self) -> dict[str, Any]:
        """Get the scheduler parameters (``virDomainGetSchedulerParameters``)."""
        if not self._scheduler_count():
            return {}
        return dict(
            self._call_either(
                ("domain_get_scheduler_parameters", ()),
                ("domain_get_scheduler_parameters_flags", (0,)),
                "virDomainGetSchedulerParameters",
                write=False,
            )
        )

    def schedulerParametersFlags(self, flags: int = 0) -> dict[str, Any]:
        """Get the scheduler parameters (``virDomainGetSchedulerParametersFlags``)."""
        if not self._scheduler_count():
            return {}
        return self._typed(
            "domain_get_scheduler_parameters_flags",
            "virDomainGetSchedulerParametersFlags",
            flags,
        )

    def setSchedulerParameters(self, params: dict[str, Any]) -> int:
        """Change the scheduler parameters (``virDomainSetSchedulerParameters``)."""
        check_params_given(params)
        current: dict[str, Any] = {}
        if self._scheduler_count():
            current = dict(
                self._call_either(
                    ("domain_get_scheduler_parameters", ()),
                    ("domain_get_scheduler_parameters_flags", (0,)),
                    "virDomainGetSchedulerParameters",
                    write=False,
                )
            )
        values = typed_update(params, current)
        return status(
            self._call_either(
                ("domain_set_scheduler_parameters", (values,)),
                ("domain_set_scheduler_parameters_flags", (values, 0)),
                "virDomainSetSchedulerParameters",
            )
        )

    def setSchedulerParametersFlags(self, params: dict[str, Any], flags: int = 0) -> int:
        """Change the scheduler parameters (``virDomainSetSchedulerParametersFlags``)."""
        check_params_given(params)
        current: dict[str, Any] = {}
        if self._scheduler_count():
            current = self._typed(
                "domain_get_scheduler_parameters_flags",
                "virDomainGetSchedulerParametersFlags",
                flags,
            )
        values = typed_update(params, current)
        return status(
            self._call(
                "domain_set_scheduler_parameters_flags",
                "virDomainSetSchedulerParametersFlags",
                values,
                flags,
                write=True,
            )
        )

    # -- CPU affinity ----------------------------------------------------------------------

    def vcpus(self) -> tuple[list[tuple[int, int, int, int]], list[tuple[bool, ...]]]:
        """``([(number, state, cpuTime, cpu), ...], [cpumap, ...])`` for every vCPU
        (``virDomainGetVcpus``).
        """
        cpus = self._cpus()
        nvcpus = int(self._call("domain_get_info", "virDomainGetInfo")[3])
        infos, maps = self._call("domain_get_vcpus", "virDomainGetVcpus", nvcpus, (cpus + 7) // 8)
        # libvirt-python reports as many vCPUs as virDomainGetInfo counts.
        records: list[tuple[int, int, int, int]] = [tuple(info) for info in infos[:nvcpus]]
        bools = [unpack_cpumap(m, cpus) for m in maps[:nvcpus]]
        if len(records) < nvcpus or len(bools) < nvcpus:
            records += [(0, 0, 0, 0)] * (nvcpus - len(records))
            bools += [unpack_cpumap(b"", cpus)] * (nvcpus - len(bools))
        return records, bools

    def vcpuPinInfo(self, flags: int = 0) -> list[tuple[bool, ...]]:
        """The CPU affinity of every vCPU, one tuple of booleans each
        (``virDomainGetVcpuPinInfo``).
        """
        cpus = self._cpus()
        nvcpus = int(self._call("domain_get_info", "virDomainGetInfo")[3])
        maps = self._call(
            "domain_get_vcpu_pin_info", "virDomainGetVcpuPinInfo", nvcpus, (cpus + 7) // 8, flags
        )
        bools = [unpack_cpumap(m, cpus) for m in maps][:nvcpus]
        return bools + [unpack_cpumap(b"", cpus)] * (nvcpus - len(bools))

    def emulatorPinInfo(self, flags: int = 0) -> tuple[bool, ...]:
        """The CPU affinity of the emulator threads (``virDomainGetEmulatorPinInfo``)."""
        cpus = self._cpus()
        data = self._call(
            "domain_get_emulator_pin_info", "virDomainGetEmulatorPinInfo", (cpus + 7) // 8, flags
        )
        return unpack_cpumap(data, cpus)

    def ioThreadInfo(self, flags: int = 0) -> list[tuple[int, list[bool]]]:
        """``[(iothread_id, [bool per host CPU]), ...]`` (``virDomainGetIOThreadInfo``)."""
        cpus = self._cpus()
        found = self._call("domain_get_iothread_info", "virDomainGetIOThreadInfo", flags)
        return [(int(ident), list(unpack_cpumap(data, cpus))) for ident, data in found]

    def pinVcpu(self, vcpu: int, cpumap: tuple[bool, ...]) -> int:
        """Dynamically change the real CPUs which can be allocated to a virtual CPU
        (``virDomainPinVcpu``).
        """
        data = pack_cpumap(cpumap, self._cpus())
        return status(
            self._call_either(
                ("domain_pin_vcpu", (vcpu, data)),
                ("domain_pin_vcpu_flags", (vcpu, data, AFFECT_LIVE)),
                "virDomainPinVcpu",
            )
        )

    def pinVcpuFlags(self, vcpu: int, cpumap: tuple[bool, ...], flags: int = 0) -> int:
        """Dynamically change the real CPUs which can be allocated to a virtual CPU
        (``virDomainPinVcpuFlags``).
        """
        data = pack_cpumap(cpumap, self._cpus())
        return status(
            self._call(
                "domain_pin_vcpu_flags", "virDomainPinVcpuFlags", vcpu, data, flags, write=True
            )
        )

    def pinEmulator(self, cpumap: tuple[bool, ...], flags: int = 0) -> int:
        """Dynamically change the real CPUs which can be allocated to the emulator process of a
        domain (``virDomainPinEmulator``).
        """
        data = pack_cpumap(cpumap, self._cpus())
        return status(
            self._call("domain_pin_emulator", "virDomainPinEmulator", data, flags, write=True)
        )

    def pinIOThread(self, iothread_val: int, cpumap: tuple[bool, ...], flags: int = 0) -> int:
        """Dynamically change the real CPUs which can be allocated to an IOThread
        (``virDomainPinIOThread``).
        """
        data = pack_cpumap(cpumap, self._cpus())
        return status(
            self._call(
                "domain_pin_iothread",
                "virDomainPinIOThread",
                iothread_val,
                data,
                flags,
                write=True,
            )
        )

    # -- sizing ----------------------------------------------------------------------------

    def setMaxMemory(self, memory: int) -> int:
        """Dynamically change the maximum amount of physical memory allocated to a domain
        (``virDomainSetMaxMemory``).
        """
        return status(
            self._call_either(
                ("domain_set_max_memory", (memory,)),
                ("domain_set_memory_flags", (memory, MEM_MAXIMUM)),
                "virDomainSetMaxMemory",
            )
        )

    def setMemory(self, memory: int) -> int:
        """Dynamically change the target amount of physical memory allocated to a domain
        (``virDomainSetMemory``).
        """
        return status(
            self._call_either(
                ("domain_set_memory", (memory,)),
                ("domain_set_memory_flags", (memory, AFFECT_LIVE)),
                "virDomainSetMemory",
            )
        )

    def setVcpus(self, nvcpus: int) -> int:
        """Dynamically change the number of virtual CPUs used by the domain
        (``virDomainSetVcpus``).
        """
        return status(
            self._call_either(
                ("domain_set_vcpus", (nvcpus,)),
                ("domain_set_vcpus_flags", (nvcpus, AFFECT_LIVE)),
                "virDomainSetVcpus",
            )
        )
