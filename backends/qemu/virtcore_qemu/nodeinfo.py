"""Host facts the QEMU driver reports, read from ``/proc`` and ``/sys`` as libvirt 9.0 does.

* :func:`node_info` is ``virCapabilitiesGetNodeInfo``: the architecture,
  memory (the NUMA nodes' ``MemTotal`` summed, else the physical pages), the
  online CPUs, the first ``cpu MHz`` of ``/proc/cpuinfo`` and the topology
  libvirt derives per NUMA node (``virHostCPUGetInfoPopulateLinux``): nodes,
  the most sockets of a node, cores of a socket and threads of a core; a
  topology whose product is not the CPU count is reported as one node, one
  socket, one thread and a core per CPU, as libvirt does.
* :func:`cpu_stats` (``/proc/stat``, nanoseconds: ``kernel`` = system + irq +
  softirq, ``user`` = user + nice, ``idle``, ``iowait``), :func:`memory_stats`
  (``/proc/meminfo`` for the host, the node's ``meminfo`` for a cell),
  :func:`cells_free_memory`, :func:`free_memory` and :func:`cpu_map`, with
  libvirt's errors (reported from no particular driver: error domain none).
* :func:`kvm_max_vcpus` asks ``/dev/kvm`` (``KVM_CAP_MAX_VCPUS``, then
  ``KVM_CAP_NR_VCPUS``, then 4) - libvirt's ``getMaxVcpus("kvm")``.

Paths are overridable through :class:`NodePaths` so tests can feed fixed trees.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, InvalidArgError, SystemCallError

__all__ = [
    "NodeInfo",
    "NodePaths",
    "cells_free_memory",
    "check_host_flags",
    "cpu_map",
    "cpu_stats",
    "free_memory",
    "kvm_max_vcpus",
    "memory_stats",
    "node_info",
]

log = logging.getLogger(__name__)

_NONE = ErrorDomain.NONE
_NODE_DIR = re.compile(r"^node(\d+)$")
_CPU_DIR = re.compile(r"^cpu(\d+)$")
_KVM_CHECK_EXTENSION = 0xAE03
_KVM_CAP_NR_VCPUS = 9
_KVM_CAP_MAX_VCPUS = 66
#: Nanoseconds per ``/proc/stat`` tick (``USER_HZ``).
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class NodePaths:
    """Where the host's facts are read from."""

    sysfs: Path = Path("/sys/devices/system")
    procfs: Path = Path("/proc")
    kvm: Path = Path("/dev/kvm")


@dataclass(frozen=True)
class NodeInfo:
    """``virNodeInfo`` with memory in KiB."""

    model: str
    memory_kib: int
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int


def check_host_flags(flags: int, function: str) -> None:
    """``virCheckFlags(0)`` of the host helpers, whose errors name no driver."""
    extra = int(flags) & 0xFFFFFFFF
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=_NONE)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _cpulist(text: str | None) -> set[int]:
    """A sysfs CPU list (``0-3,8``) as a set."""
    found: set[int] = set()
    for part in (text or "").strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def _numbered(directory: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    found = [(int(m.group(1)), e) for e in entries if (m := pattern.match(e.name))]
    return sorted(found)


# -- node information --------------------------------------------------------------------


def _mhz(paths: NodePaths) -> int:
    """The first ``cpu MHz`` line, its integer part (``virHostCPUParseFrequency``)."""
    for line in (_read(paths.procfs / "cpuinfo") or "").splitlines():
        if line.startswith("cpu MHz"):
            _, _, value = line.partition(":")
            match = re.match(r"\s*(\d+)", value)
            if match:
                return int(match.group(1))
    return 0


def _memory_kib(paths: NodePaths) -> int:
    """``virHostMemGetInfo``: the NUMA nodes' memory, else the physical pages."""
    total = 0
    nodes = _numbered(paths.sysfs / "node", _NODE_DIR)
    for _number, node in nodes:
        fields = _node_meminfo(node)
        total += fields.get("MemTotal", 0)
    if nodes and total:
        return total
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024


def _topology(
    directory: Path, cpu_root: Path, present: set[int], online: set[int]
) -> tuple[int, int, int, int, int]:
    """``virHostCPUParseNode``: (cpus, sockets, cores, threads, offline) of one node."""
    sockets: dict[int, set[int]] = {}
    threads = cpus = offline = 0
    for number, _entry in _numbered(directory, _CPU_DIR):
        if number not in present:
            continue
        if number not in online:
            offline += 1
            continue
        cpus += 1
        topology = cpu_root / f"cpu{number}" / "topology"
        socket = _read_int(topology / "physical_package_id") or 0
        core = _read_int(topology / "core_id") or 0
        sockets.setdefault(socket, set()).add(core)
        siblings = _cpulist(_read(topology / "thread_siblings_list")) or {number}
        threads = max(threads, len(siblings))
    cores = max((len(c) for c in sockets.values()), default=0)
    return cpus, len(sockets), cores, threads, offline


def node_info(paths: NodePaths = NodePaths()) -> NodeInfo:
    """``virNodeGetInfo`` of this host (see the module documentation)."""
    cpu_root = paths.sysfs / "cpu"
    present = _cpulist(_read(cpu_root / "present"))
    online = _cpulist(_read(cpu_root / "online"))
    nodes = cpus = sockets = cores = threads = offline = 0
    for _number, node in _numbered(paths.sysfs / "node", _NODE_DIR):
        nodes += 1
        n_cpus, n_sockets, n_cores, n_threads, n_offline = _topology(
            node, cpu_root, present, online
        )
        cpus += n_cpus
        offline += n_offline
        sockets, cores, threads = (
            max(sockets, n_sockets),
            max(cores, n_cores),
            max(threads, n_threads),
        )
    if not (cpus and nodes):
        nodes = 1
        cpus, sockets, cores, threads, offline = _topology(cpu_root, cpu_root, present, online)
    if cpus == 0:
        raise InternalError("no CPUs found", domain=_NONE)
    if sockets == 0:
        raise InternalError("no sockets found", domain=_NONE)
    if threads == 0:
        raise InternalError("no threads found", domain=_NONE)
    if nodes * sockets * cores * threads != cpus + offline:
        # libvirt's answer for topologies nodeinfo cannot express
        nodes, sockets, cores, threads = 1, 1, cpus + offline, 1
    return NodeInfo(
        os.uname().machine, _memory_kib(paths), cpus, _mhz(paths), nodes, sockets, cores, threads
    )


# -- statistics ----------------------------------------------------------------------------


def cpu_stats(cpu_num: int, flags: int, paths: NodePaths = NodePaths()) -> dict[str, int]:
    """``virHostCPUGetStats``: times of CPU *cpu_num* (-1: all) in nanoseconds."""
    check_host_flags(flags, "virHostCPUGetStats")
    wanted = "cpu" if cpu_num == -1 else f"cpu{cpu_num}"
    for line in (_read(paths.procfs / "stat") or "").splitlines():
        fields = line.split()
        if not fields or fields[0] != wanted:
            continue
        values = [int(v) for v in fields[1:8]] + [0] * 7
        user, nice, system, idle, iowait, irq, softirq = values[:7]
        return {
            "kernel": (system + irq + softirq) * _TICK_NS,
            "user": (user + nice) * _TICK_NS,
            "idle": idle * _TICK_NS,
            "iowait": iowait * _TICK_NS,
        }
    text = "Invalid cpuNum in virHostCPUGetStatsLinux"
    raise InvalidArgError(text, message=text, domain=_NONE)


def _meminfo(text: str | None, prefix: str = "") -> dict[str, int]:
    """``Name: N kB`` lines (after *prefix*, e.g. ``Node 0 ``) in KiB."""
    fields: dict[str, int] = {}
    for line in (text or "").splitlines():
        if not line.startswith(prefix):
            continue
        name, _, rest = line[len(prefix) :].partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])
    return fields


def _node_meminfo(node: Path) -> dict[str, int]:
    return _meminfo(_read(node / "meminfo"), f"Node {node.name[4:]} ")


def memory_stats(cell_num: int, flags: int, paths: NodePaths = NodePaths()) -> dict[str, int]:
    """``virHostMemGetStats``: the host's (-1) or a NUMA cell's memory, in KiB."""
    check_host_flags(flags, "virHostMemGetStats")
    if cell_num == -1:
        fields = _meminfo(_read(paths.procfs / "meminfo"))
        names: list[tuple[str, str]] = [
            ("total", "MemTotal"),
            ("free", "MemFree"),
            ("buffers", "Buffers"),
            ("cached", "Cached"),
        ]
    else:
        nodes = _numbered(paths.sysfs / "node", _NODE_DIR)
        highest = nodes[-1][0] if nodes else 0
        if cell_num > highest:
            text = f"cellNum in virHostMemGetStats must be less than or equal to {highest}"
            raise InvalidArgError(text, message=text, domain=_NONE)
        node = dict(nodes).get(cell_num)
        fields = _node_meminfo(node) if node is not None else {}
        names = [("total", "MemTotal"), ("free", "MemFree")]
    return {key: fields.get(name, 0) for key, name in names}


def _cells(paths: NodePaths) -> list[tuple[int, Path]]:
    return _numbered(paths.sysfs / "node", _NODE_DIR)


def cells_free_memory(start: int, maxcells: int, paths: NodePaths = NodePaths()) -> list[int]:
    """``virHostMemGetCellsFree``: free bytes of cells *start*.. (at most *maxcells*)."""
    cells = _cells(paths)
    highest = cells[-1][0] if cells else 0
    if start > highest:
        raise InternalError(f"start cell {start} out of range (0-{highest})", domain=_NONE)
    by_number = dict(cells)
    result = []
    for number in range(start, min(highest + 1, start + maxcells)):
        node = by_number.get(number)
        free = _node_meminfo(node).get("MemFree", 0) if node is not None else 0
        result.append(free * 1024)
    return result


def free_memory(paths: NodePaths = NodePaths()) -> int:
    """``virHostMemGetFreeMemory``: free bytes, summed over the NUMA cells."""
    cells = _cells(paths)
    if cells:
        return sum(_node_meminfo(node).get("MemFree", 0) * 1024 for _n, node in cells)
    return _meminfo(_read(paths.procfs / "meminfo")).get("MemFree", 0) * 1024


def cpu_map(flags: int, paths: NodePaths = NodePaths()) -> tuple[int, bytes, int]:
    """``virHostCPUGetMap``: (CPU count, online bitmap, online count)."""
    check_host_flags(flags, "virHostCPUGetMap")
    cpu_root = paths.sysfs / "cpu"
    present = _cpulist(_read(cpu_root / "present"))
    online = _cpulist(_read(cpu_root / "online"))
    count = max(present | online, default=-1) + 1
    bitmap = bytearray((count + 7) // 8)
    for cpu in online:
        bitmap[cpu // 8] |= 1 << (cpu % 8)
    return count, bytes(bitmap), len(online)


def kvm_max_vcpus(paths: NodePaths = NodePaths()) -> int:
    """``virHostCPUGetKVMMaxVCPUs``."""
    try:
        fd = os.open(paths.kvm, os.O_RDONLY)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Unable to open {paths.kvm}", exc) from exc
    try:
        for capability in (_KVM_CAP_MAX_VCPUS, _KVM_CAP_NR_VCPUS):
            try:
                answer = fcntl.ioctl(fd, _KVM_CHECK_EXTENSION, capability)
            except OSError:
                answer = -1
            if answer > 0:
                return int(answer)
        return 4
    finally:
        os.close(fd)
