"""The ``<host>`` section of the QEMU driver's capabilities, read from this machine.

:func:`fill_host` describes the host into a
:class:`virtcore.xml.capabilities_host.Host` the way libvirt's
``virQEMUCapsInit`` does: the host UUID, the CPU (architecture, vendor,
microcode, signature, topology, physical address bits, page sizes), power
management targets, IOMMU presence, QEMU's migration transports, the NUMA
topology (memory, page pools, distances and CPUs of each node), the shared
caches and the security model ``none``.

Everything is read from ``/proc`` and ``/sys`` (paths overridable through
*sysfs* / *procfs* for tests); missing files leave their part out, as libvirt
does on hosts that lack them.

The CPU model, its extra features and the TSC counter come from
:mod:`virtcore_qemu.caps_hostcpu` (CPUID decoded against libvirt's CPU map).

Known differences: the host UUID comes from SMBIOS when readable, else from
``/etc/machine-id`` (libvirt invents a random one each time the daemon
starts); no DAC security model is listed because virtcore runs guests
without one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from virtcore.xml.capabilities_host import Host
from virtcore_qemu.caps_hostcpu import HostCPU, read_host_cpu

__all__ = ["HostPaths", "fill_host", "host_uuid"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostPaths:
    """Where host facts are read (tests point these at a fake tree)."""

    sysfs: Path = Path("/sys")
    procfs: Path = Path("/proc")
    machine_id: Path = Path("/etc/machine-id")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def _parse_cpulist(text: str) -> list[int]:
    cpus: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        if "-" in part:
            low, high = part.split("-", 1)
            cpus.extend(range(int(low), int(high) + 1))
        else:
            cpus.append(int(part))
    return cpus


def host_uuid(paths: HostPaths = HostPaths()) -> str:
    """The host UUID: SMBIOS's when valid, else one derived from the machine id."""
    for candidate in (
        paths.sysfs / "devices/virtual/dmi/id/product_uuid",
        paths.sysfs / "class/dmi/id/product_uuid",
    ):
        text = _read(candidate)
        if text:
            try:
                value = uuidlib.UUID(text)
            except ValueError:
                continue
            # Firmware placeholders (all zeros or all ones) are not identities.
            if len(set(value.hex)) > 1:
                return str(value)
    machine = _read(paths.machine_id)
    if machine and re.fullmatch(r"[0-9a-f]{32}", machine):
        return str(uuidlib.UUID(machine))
    return str(uuidlib.uuid4())


def _cpuinfo(paths: HostPaths) -> dict[str, str]:
    text = _read(paths.procfs / "cpuinfo") or ""
    first: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if first:
                break
            continue
        key, _, value = line.partition(":")
        first.setdefault(key.strip(), value.strip())
    return first


def _page_sizes(paths: HostPaths) -> list[int]:
    sizes = [os.sysconf("SC_PAGE_SIZE") // 1024]
    try:
        names = sorted(os.listdir(paths.sysfs / "kernel/mm/hugepages"))
    except OSError:
        names = []
    huge = []
    for name in names:
        match = re.fullmatch(r"hugepages-(\d+)kB", name)
        if match:
            huge.append(int(match.group(1)))
    return sizes + sorted(huge)


@dataclass(frozen=True)
class _CPUPlace:
    cpu: int
    socket: int
    die: int
    core: int
    siblings: str | None


def _cpu_place(paths: HostPaths, cpu: int) -> _CPUPlace:
    topo = paths.sysfs / f"devices/system/cpu/cpu{cpu}/topology"
    return _CPUPlace(
        cpu=cpu,
        socket=_read_int(topo / "physical_package_id") or 0,
        die=_read_int(topo / "die_id") or 0,
        core=_read_int(topo / "core_id") or 0,
        siblings=_read(topo / "thread_siblings_list"),
    )


def _online_cpus(paths: HostPaths) -> list[int]:
    text = _read(paths.sysfs / "devices/system/cpu/online")
    if text:
        return _parse_cpulist(text)
    return list(range(os.cpu_count() or 1))


def _fill_cpu(host: Host, arch: str, paths: HostPaths, decoded: HostCPU | None) -> None:
    cpu = host.cpu
    cpu.arch = arch
    info = _cpuinfo(paths)
    if decoded is not None and decoded.model is not None:
        cpu.model = decoded.model
    if arch in ("x86_64", "i686"):
        vendor = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}.get(
            info.get("vendor_id", "")
        )
        if vendor:
            cpu.vendor = vendor
        microcode = info.get("microcode")
        if microcode:
            with contextlib.suppress(ValueError):
                cpu.microcode = int(microcode, 0)
        if decoded is not None:
            cpu.signature_family, cpu.signature_model, cpu.signature_stepping = decoded.signature
        else:
            try:
                cpu.signature_family = int(info["cpu family"])
                cpu.signature_model = int(info["model"])
                cpu.signature_stepping = int(info["stepping"])
            except (KeyError, ValueError):
                pass
        if decoded is not None and decoded.tsc is not None:
            cpu.counter_name = "tsc"
            cpu.counter_frequency = decoded.tsc.frequency
            cpu.counter_scaling = decoded.tsc.scaling
    places = [_cpu_place(paths, n) for n in _online_cpus(paths)]
    if places:
        sockets = {p.socket for p in places}
        dies = {(p.socket, p.die) for p in places}
        cores = {(p.socket, p.die, p.core) for p in places}
        cpu.sockets = len(sockets)
        cpu.dies = max(1, len(dies) // len(sockets))
        cpu.cores = max(1, len(cores) // len(dies))
        cpu.threads = max(1, len(places) // len(cores))
    match = re.search(r"(\d+) bits physical", info.get("address sizes", ""))
    if match and arch in ("x86_64", "i686"):
        cpu.maxphysaddr_mode = "emulate"
        cpu.maxphysaddr_bits = int(match.group(1))
    if decoded is not None:
        for name in decoded.features:
            cpu.add_feature(name)
    for size in _page_sizes(paths):
        cpu.add_page_size(size)


def _power_management() -> list[str]:
    # libvirt asks pm-utils; without it no suspend target is offered.
    tool = shutil.which("pm-is-supported")
    if tool is None:
        return []
    targets = []
    for target, option in (
        ("suspend_mem", "--suspend"),
        ("suspend_disk", "--hibernate"),
        ("suspend_hybrid", "--suspend-hybrid"),
    ):
        try:
            result = subprocess.run([tool, option], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0:
            targets.append(target)
    return targets


def _fill_numa(host: Host, paths: HostPaths) -> None:
    nodes_dir = paths.sysfs / "devices/system/node"
    try:
        names = os.listdir(nodes_dir)
    except OSError:
        names = []
    node_ids = sorted(int(n[4:]) for n in names if re.fullmatch(r"node\d+", n))
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    if not node_ids:
        return
    for node_id in node_ids:
        node = nodes_dir / f"node{node_id}"
        cell = host.cells.append()
        cell.id = node_id
        meminfo = _read(node / "meminfo") or ""
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
        total = int(match.group(1)) if match else 0
        cell.set_memory(total)
        huge: list[tuple[int, int]] = []
        try:
            entries = sorted(os.listdir(node / "hugepages"))
        except OSError:
            entries = []
        for entry in entries:
            size_match = re.fullmatch(r"hugepages-(\d+)kB", entry)
            if size_match:
                count = _read_int(node / "hugepages" / entry / "nr_hugepages") or 0
                huge.append((int(size_match.group(1)), count))
        huge.sort()
        # Ordinary pages are what hugepage pools leave of the node's memory.
        reserved = sum(size * count for size, count in huge)
        cell.add_pages(page_kib, max(0, total - reserved) // page_kib)
        for size, count in huge:
            cell.add_pages(size, count)
        distances = (_read(node / "distance") or "").split()
        for index, value in enumerate(distances):
            if index < len(node_ids):
                cell.add_distance(node_ids[index], int(value))
        cpulist = _read(node / "cpulist") or ""
        for cpu_id in _parse_cpulist(cpulist):
            place = _cpu_place(paths, cpu_id)
            cell.add_cpu(
                cpu_id,
                socket_id=place.socket,
                die_id=place.die,
                core_id=place.core,
                siblings=place.siblings,
            )


def _cache_size(text: str) -> tuple[int, str]:
    match = re.fullmatch(r"(\d+)([KMG]?)", text)
    if match is None:
        return 0, "B"
    value = int(match.group(1)) * {"": 1, "K": 1024, "M": 1 << 20, "G": 1 << 30}[match.group(2)]
    # libvirt prints the largest unit that divides the size exactly.
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1024)):
        if value % scale == 0:
            return value // scale, unit
    return value, "B"


def _fill_caches(host: Host, paths: HostPaths) -> None:
    seen: set[tuple[int, int, str]] = set()
    banks: list[tuple[int, int, str, str, str]] = []
    for cpu in _online_cpus(paths):
        base = paths.sysfs / f"devices/system/cpu/cpu{cpu}/cache"
        try:
            indexes = sorted(n for n in os.listdir(base) if n.startswith("index"))
        except OSError:
            continue
        for index in indexes:
            level = _read_int(base / index / "level")
            # Private (level 1 and 2) caches are not reported.
            if level is None or level < 3:
                continue
            kind = {"Unified": "both", "Data": "data", "Instruction": "code"}.get(
                _read(base / index / "type") or "", "both"
            )
            bank_id = _read_int(base / index / "id") or 0
            key = (level, bank_id, kind)
            if key in seen:
                continue
            seen.add(key)
            banks.append(
                (
                    bank_id,
                    level,
                    kind,
                    _read(base / index / "size") or "0",
                    _read(base / index / "shared_cpu_list") or "",
                )
            )
    for bank_id, level, kind, size_text, cpus in sorted(banks, key=lambda b: (b[1], b[0])):
        size, unit = _cache_size(size_text)
        bank = host.cache_banks.append()
        bank.id = bank_id
        bank.level = level
        bank.type = kind
        bank.size = size
        bank.unit = unit
        bank.cpus = cpus


def fill_host(
    host: Host,
    *,
    arch: str,
    uuid: str | None = None,
    paths: HostPaths = HostPaths(),
    cpu_reader: Callable[[], HostCPU | None] = read_host_cpu,
) -> None:
    """Describe this machine into *host* (see the module docstring).

    *cpu_reader* decodes the host CPU (x86 only; tests substitute it).
    """
    host.uuid = uuid or host_uuid(paths)
    decoded = cpu_reader() if arch in ("x86_64", "i686") else None
    _fill_cpu(host, arch, paths, decoded)
    host.power_management = _power_management()
    try:
        iommu = any(os.scandir(paths.sysfs / "kernel/iommu_groups"))
    except OSError:
        iommu = False
    host.iommu = iommu
    host.enable_migration(live=True, transports=["tcp", "rdma"])
    _fill_numa(host, paths)
    _fill_caches(host, paths)
    host.add_secmodel("none", "0")
