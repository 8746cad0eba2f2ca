"""Guest memory and vCPU layout: ``-m``, ``-smp``, I/O threads, NUMA cells, memory devices.

Written as libvirt 9.0 writes them (``qemuBuildMemCommandLine``,
``qemuBuildSmpCommandLine``, ``qemuBuildIOThreadCommandLine``,
``qemuBuildNumaCommandLine``, ``qemuBuildMemoryDeviceCommandLine``):

* ``-m``: the initial memory in MiB, or ``size=Nk,slots=S,maxmem=Mk`` when
  ``<maxMemory>`` enables memory hotplug. Without NUMA cells the RAM is the
  ``pc.ram`` ``memory-backend-ram`` object the machine names in
  ``memory-backend``; with cells each cell gets its own ``ram-nodeN``
  backend and ``-numa node`` (then ``-numa dist`` for every pair when
  distances are given).
* ``-smp``: only the vCPUs that are online and not hotpluggable are started;
  hotpluggable online vCPUs are added over the monitor once QEMU runs.
* I/O threads: one ``iothread`` object per ``<iothreadids>`` entry (ids
  ``1..N`` when only ``<iothreads>N`` is given) with its thread pool sizes,
  then the ``main-loop`` object for ``<defaultiothread>``.
* Memory devices (``<memory model='dimm'|'nvdimm'>``): a backend object
  ``mem<alias>`` then the ``pc-dimm``/``nvdimm`` device, the alias being the
  model and the DIMM slot (``dimm2``), after the controllers. Sizes are
  aligned as libvirt aligns them (RAM and cells up to 1 MiB, modules up to
  2 MiB, the hotplug maximum down to 1 MiB).
* ``<numatune>``: each RAM backend (``pc.ram``, a cell's, a module's, by
  the cell's ``<memnode>`` first) gets ``host-nodes`` and ``policy`` (strict
  is ``bind``); ``restrictive`` is left to cgroups. A preallocated backend
  bound to host nodes preallocates from a ``thread-context`` on those nodes.
* With ``<memoryBacking><source type='memfd'/>`` RAM backends are
  ``memory-backend-memfd``, shared by ``<access>`` or a cell's ``memAccess``.

Memory backed by host files libvirt chooses itself (``access``/``discard``
on a DIMM, hugepages, ``<memoryBacking><source>``) is refused by
:mod:`.support`: the path would be this host's and not the definition's.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError
from virtcore.xml.units import parse_memory
from virtcore_qemu.command.common import Build, attr_int, unsupported
from virtcore_qemu.command.escape import json_arg, keyval

__all__ = [
    "build_iothreads",
    "build_memory",
    "build_memory_devices",
    "build_numa",
    "build_smp",
    "cpu_ranges",
    "has_numa",
    "host_policy",
    "iothread_ids",
]

logger = logging.getLogger(__name__)

_LOCAL_DISTANCE = 10
_REMOTE_DISTANCE = 20
# qemuDomainAlignMemorySizes on x86: RAM and cells round up to 1 MiB, the
# hotplug maximum down to 1 MiB, memory modules up to 2 MiB.
_RAM_ALIGN_KIB = 1024
_MODULE_ALIGN_KIB = 2048


def _round_up(value: int, align: int) -> int:
    return -(-value // align) * align


def kib(node: etree._Element | None) -> int:
    """A memory size element's value in KiB (0 when absent or empty)."""
    if node is None or not (node.text or "").strip():
        return 0
    return parse_memory(node.text, node.get("unit")) or 0


def _cell_kib(cell: etree._Element) -> int:
    return _round_up(parse_memory(cell.get("memory"), cell.get("unit")) or 0, _RAM_ALIGN_KIB)


def module_kib(mem: etree._Element) -> int:
    """A memory device's size as QEMU gets it (rounded up to the module alignment)."""
    return _round_up(kib(mem.find("target/size")), _MODULE_ALIGN_KIB)


def has_numa(build: Build) -> bool:
    """Whether the domain has guest NUMA cells."""
    return build.root.find("cpu/numa/cell") is not None


def _cells(build: Build) -> list[etree._Element]:
    return build.root.findall("cpu/numa/cell")


def _memory_devices(build: Build) -> list[etree._Element]:
    return build.devices.findall("memory")


def _initial_kib(build: Build) -> int:
    """``virDomainDefGetMemoryInitial``: the sum of the cells, else memory minus devices."""
    cells = _cells(build)
    if cells:
        return sum(_cell_kib(cell) for cell in cells)
    total = kib(build.root.find("memory"))
    devices = sum(kib(mem.find("target/size")) for mem in _memory_devices(build))
    return _round_up(total - devices, _RAM_ALIGN_KIB)


def build_memory(build: Build) -> None:
    """Append ``-m``, the ``pc.ram`` backend (without NUMA) and ``-overcommit``."""
    root = build.root
    initial = _initial_kib(build)
    maximum = root.find("maxMemory")
    build.add("-m")
    if maximum is not None and kib(maximum) > 0:
        maxmem = kib(maximum) // _RAM_ALIGN_KIB * _RAM_ALIGN_KIB
        build.add(f"size={initial}k,slots={attr_int(maximum, 'slots')},maxmem={maxmem}k")
    else:
        build.add(str(initial // 1024))
    if not has_numa(build):
        build.add("-object", json_arg(_ram_backend(build, "pc.ram", initial)))
    locked = root.find("memoryBacking/locked") is not None
    build.add("-overcommit", f"mem-lock={'on' if locked else 'off'}")


def _ram_backend(
    build: Build, ident: str, size_kib: int, cell: etree._Element | None = None
) -> dict[str, Any]:
    """A guest RAM backend: anonymous memory, or memfd (shareable with vhost-user daemons)."""
    source = build.root.find("memoryBacking/source")
    policy = host_policy(build, attr_int(cell, "id") if cell is not None else None)
    if source is None or source.get("type") != "memfd":
        return {"qom-type": "memory-backend-ram", "id": ident, "size": size_kib * 1024, **policy}
    access = build.root.find("memoryBacking/access")
    mode = (cell.get("memAccess") if cell is not None else None) or (
        access.get("mode") if access is not None else None
    )
    return {
        "qom-type": "memory-backend-memfd",
        "id": ident,
        "share": None if mode is None else mode == "shared",
        # libvirt keeps the RAM block id QEMU gave the main RAM before memfd,
        # for migration; NUMA cells never had it.
        "x-use-canonical-path-for-ramblock-id": False if ident == "pc.ram" else None,
        "size": size_kib * 1024,
        **policy,
    }


_POLICIES = {"strict": "bind", "preferred": "preferred", "interleave": "interleave"}


def host_policy(build: Build, cell: int | None) -> dict[str, Any]:
    """``host-nodes``/``policy`` of a RAM backend from ``<numatune>`` (a cell's memnode first).

    ``restrictive`` leaves the backend alone: cgroups confine the memory.
    """
    numatune = build.root.find("numatune")
    if numatune is None:
        return {}
    memory = numatune.find("memory")
    memnode = None
    if cell is not None:
        memnode = next(
            (node for node in numatune.findall("memnode") if attr_int(node, "cellid") == cell),
            None,
        )
    chosen = memnode if memnode is not None else memory
    if chosen is None:
        return {}
    if chosen.get("placement") == "auto":
        raise InternalError(
            "Advice from numad is needed in case of automatic numa placement",
            domain=ErrorDomain.QEMU,
        )
    mode = chosen.get("mode") or "strict"
    nodeset = chosen.get("nodeset")
    if mode == "restrictive" or not nodeset:
        return {}
    if mode not in _POLICIES:
        raise unsupported(f"numatune mode '{mode}' is not supported")
    nodes = sorted(_cpuset(nodeset))
    return {"host-nodes": nodes, "policy": _POLICIES[mode]}


def build_smp(build: Build) -> None:
    """Append ``-smp``: the cold-plugged vCPU count, the maximum and the topology."""
    vcpu = build.root.find("vcpu")
    maximum = int((vcpu.text or "1").strip()) if vcpu is not None and vcpu.text else 1
    current = attr_int(vcpu, "current", maximum)
    entries = build.root.findall("vcpus/vcpu")
    if entries:
        # Hotpluggable online vCPUs are hot-plugged after start, not cold-plugged.
        current = sum(
            1
            for entry in entries
            if entry.get("enabled") == "yes" and entry.get("hotpluggable") != "yes"
        )
    topology = build.root.find("cpu/topology")
    pairs: list[tuple[str, object | None]] = []
    if current != maximum:
        pairs.append(("maxcpus", maximum))
    if topology is not None:
        pairs += [
            ("sockets", attr_int(topology, "sockets", 1)),
            ("dies", attr_int(topology, "dies", 1)),
            ("cores", attr_int(topology, "cores", 1)),
            ("threads", attr_int(topology, "threads", 1)),
        ]
    else:
        pairs += [("sockets", maximum), ("cores", 1), ("threads", 1)]
    build.add("-smp", keyval(current, pairs))


def iothread_ids(build: Build) -> list[int]:
    """The domain's I/O thread ids: ``<iothreadids>`` or ``1..<iothreads>``."""
    listed = [attr_int(node, "id") for node in build.root.findall("iothreadids/iothread")]
    if listed:
        return listed
    text = (build.root.findtext("iothreads") or "0").strip()
    return list(range(1, int(text) + 1)) if text.isdigit() else []


def _pool(node: etree._Element | None) -> dict[str, Any]:
    if node is None:
        return {}
    return {
        "thread-pool-min": attr_int(node, "thread_pool_min", -1)
        if node.get("thread_pool_min")
        else None,
        "thread-pool-max": attr_int(node, "thread_pool_max", -1)
        if node.get("thread_pool_max")
        else None,
    }


def build_iothreads(build: Build) -> None:
    """Append one ``iothread`` object per I/O thread, then the main loop's pool sizes."""
    listed = {attr_int(node, "id"): node for node in build.root.findall("iothreadids/iothread")}
    for ident in iothread_ids(build):
        props = {"qom-type": "iothread", "id": f"iothread{ident}", **_pool(listed.get(ident))}
        build.add("-object", json_arg(props))
    default = build.root.find("defaultiothread")
    if default is not None and (default.get("thread_pool_min") or default.get("thread_pool_max")):
        build.add(
            "-object", json_arg({"qom-type": "main-loop", "id": "main-loop", **_pool(default)})
        )


def _cpuset(text: str) -> set[int]:
    """libvirt's bitmap syntax (``0,2-3,^2``) as a set of numbers."""
    numbers: set[int] = set()
    try:
        for raw in text.split(","):
            part = raw.strip()
            if not part:
                continue
            if part.startswith("^"):
                numbers.discard(int(part[1:]))
            elif "-" in part:
                first, last = part.split("-", 1)
                numbers.update(range(int(first), int(last) + 1))
            else:
                numbers.add(int(part))
    except ValueError:
        raise InternalError(f"cannot parse bitmap '{text}'", domain=ErrorDomain.QEMU) from None
    return numbers


def cpu_ranges(text: str) -> list[str]:
    """A cpuset (``0,2-3``) as the ranges libvirt writes, one ``cpus=`` each."""
    ordered = sorted(_cpuset(text))
    ranges: list[str] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        ranges.append(str(first) if first == last else f"{first}-{last}")
        start = end + 1
    return ranges


def build_numa(build: Build) -> None:
    """Append each cell's ``ram-nodeN`` backend and ``-numa node``, then the distances."""
    cells = _cells(build)
    for number, cell in enumerate(cells):
        backend = f"ram-node{number}"
        build.add("-object", json_arg(_ram_backend(build, backend, _cell_kib(cell), cell)))
        pairs: list[tuple[str, object | None]] = [("nodeid", number)]
        pairs += [("cpus", part) for part in cpu_ranges(cell.get("cpus") or "")]
        pairs.append(("memdev", backend))
        build.add("-numa", keyval("node", pairs))
    if not any(cell.find("distances/sibling") is not None for cell in cells):
        return
    for source, cell in enumerate(cells):
        siblings = {
            attr_int(sibling, "id"): attr_int(sibling, "value")
            for sibling in cell.findall("distances/sibling")
        }
        if not siblings:
            continue
        for target in range(len(cells)):
            value = siblings.get(target) or (
                _LOCAL_DISTANCE if source == target else _REMOTE_DISTANCE
            )
            build.add("-numa", f"dist,src={source},dst={target},val={value}")


def _explicit_slot(mem: etree._Element) -> int | None:
    address = mem.find("address")
    if address is None or address.get("type") != "dimm" or not address.get("slot"):
        return None
    return attr_int(address, "slot")


def _dimm_slots(build: Build) -> list[int]:
    """The DIMM slot of each memory device: its address, else the lowest free slot."""
    devices = _memory_devices(build)
    explicit = [_explicit_slot(mem) for mem in devices]
    taken = {slot for slot in explicit if slot is not None}
    slots: list[int] = []
    for given in explicit:
        slot = given
        if slot is None:
            slot = min(set(range(len(devices) + len(taken) + 1)) - taken)
            taken.add(slot)
        slots.append(slot)
    return slots


def build_memory_devices(build: Build) -> None:
    """Append the backend object and the device of every ``<memory>`` device."""
    for mem, slot in zip(_memory_devices(build), _dimm_slots(build), strict=True):
        model = mem.get("model") or ""
        if model not in ("dimm", "nvdimm"):
            raise unsupported(f"memory device model '{model}' is not supported")
        alias = build.alias(mem)
        backend = f"mem{alias}"
        props = _backend(build, mem, model, backend)
        if props.get("prealloc") and "host-nodes" in props:
            # Preallocation threads run on the backend's host nodes.
            context = f"tc-{backend}"
            build.add(
                "-object",
                json_arg(
                    {
                        "qom-type": "thread-context",
                        "id": context,
                        "node-affinity": props["host-nodes"],
                    }
                ),
            )
            props["prealloc-context"] = context
        build.add("-object", json_arg(props))
        build.add("-device", json_arg(_device(mem, model, alias, backend, slot)))


def _backend(build: Build, mem: etree._Element, model: str, backend: str) -> dict[str, Any]:
    size = module_kib(mem) * 1024
    node = mem.findtext("target/node")
    policy = host_policy(build, int(node) if node is not None and node.strip() else None)
    if model == "dimm":
        return {"qom-type": "memory-backend-ram", "id": backend, "size": size, **policy}
    path = (mem.findtext("source/path") or "").strip()
    if not path:
        raise unsupported("nvdimm memory device needs a <source><path>")
    pmem = mem.find("source/pmem") is not None
    access = mem.get("access")
    props: dict[str, Any] = {"qom-type": "memory-backend-file", "id": backend, "mem-path": path}
    if access in ("shared", "private"):
        props["share"] = access == "shared"
    if not pmem:
        # A file-backed NVDIMM without pmem is filled in at start, as libvirt asks.
        props["prealloc"] = True
    props["size"] = size
    align = mem.find("source/alignsize")
    if align is not None:
        props["align"] = kib(align) * 1024
    if pmem:
        props["pmem"] = True
    props.update(policy)
    return props


def _device(mem: etree._Element, model: str, alias: str, backend: str, slot: int) -> dict[str, Any]:
    props: dict[str, Any] = {"driver": "pc-dimm" if model == "dimm" else "nvdimm"}
    node = mem.findtext("target/node")
    if node is not None and node.strip():
        props["node"] = int(node)
    label = mem.find("target/label/size")
    if label is not None:
        props["label-size"] = kib(label) * 1024
    if mem.find("target/readonly") is not None:
        props["unarmed"] = True
    props.update({"memdev": backend, "id": alias, "slot": slot})
    address = mem.find("address")
    if address is not None and address.get("base"):
        props["addr"] = attr_int(address, "base")
    return props
