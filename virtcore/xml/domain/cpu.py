"""The guest CPU: ``<cpu>`` with its model, topology, features, cache and NUMA cells.

:class:`CPU` (with :class:`CPUFeature`, :class:`NumaCell`,
:class:`NumaDistance`) is a view of the live tree. :func:`read_cpu` and
:func:`read_numa` read the section as libvirt 9.0's ``virCPUDefParseXML``
and ``virDomainNumaDefParseXML`` do, raising its errors, and
:func:`emit_cpu` writes ``virCPUDefFormatBufFull``'s form:

* attributes ``mode`` (unless a plain custom CPU without model), ``match``
  (custom CPUs with a model; ``exact`` by default), ``check``,
  ``migratable``;
* ``<model fallback= vendor_id=>`` for custom CPUs with a model and
  host-model CPUs, ``<vendor>``, ``<topology>`` (all four counts, ``dies``
  defaulting to 1), ``<cache>``, ``<maxphysaddr>``, then each
  ``<feature policy= name=/>`` in document order;
* ``<numa>`` cells numbered from 0 with memory in KiB and their distances.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, XMLError
from virtcore.xml import units
from virtcore.xml.builder import UINT, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.childindex import first_child
from virtcore.xml.domain.common import (
    attr_bool,
    attr_enum,
    attr_int,
    attr_switch,
    attr_uint,
    child,
    children,
    format_bitmap,
    internal,
    invalid_attr,
    on_off,
    parse_bitmap,
    sub,
    text_of,
    unsupported,
    xml_error,
    yes_no,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "CPU",
    "CPUFeature",
    "CPUInfo",
    "NumaCell",
    "NumaDistance",
    "NumaInfo",
    "emit_cpu",
    "read_cpu",
    "read_numa",
]

logger = logging.getLogger(__name__)

CPU_DOMAIN = ErrorDomain.CPU


def _cpu_error(detail: str) -> XMLError:
    """An XML error from libvirt's CPU code (``VIR_FROM_CPU``)."""
    return XMLError(detail, domain=CPU_DOMAIN)


def _cpu_unsupported(detail: str) -> ConfigUnsupportedError:
    return ConfigUnsupportedError(detail, domain=CPU_DOMAIN)


MODES = ("custom", "host-model", "host-passthrough", "maximum")
MATCHES = ("minimum", "exact", "strict")
CHECKS = ("none", "partial", "full")
FALLBACKS = ("allow", "forbid")
POLICIES = ("force", "require", "optional", "disable", "forbid")
CACHE_MODES = ("emulate", "passthrough", "disable")
MEM_ACCESS = ("shared", "private")
LOCAL_DISTANCE = 10
UNREACHABLE = 255


class CPUFeature(XMLNode):
    """``<cpu><feature policy= name=/>``."""

    TAG = "feature"

    policy = XMLProperty("./@policy", doc="force, require, optional, disable or forbid.")
    name = XMLProperty("./@name")


class NumaDistance(XMLNode):
    """``<cell><distances><sibling id= value=/>``."""

    TAG = "sibling"

    id = XMLProperty("./@id", UINT)
    value = XMLProperty("./@value", UINT)


class NumaCell(XMLNode):
    """``<cpu><numa><cell id= cpus= memory= unit= memAccess= discard=/>``."""

    TAG = "cell"

    id = XMLProperty("./@id", UINT)
    cpus = XMLProperty("./@cpus")
    memory = XMLProperty("./@memory", doc="Size as written, in ``unit`` (KiB by default).")
    unit = XMLProperty("./@unit")
    mem_access = XMLProperty("./@memAccess")
    discard = XMLProperty("./@discard")
    distances = XMLChildList(NumaDistance, "./distances/sibling")


class CPU(XMLNode):
    """``<cpu>``: the CPU model and topology the guest sees."""

    TAG = "cpu"
    XML_ORDER = {
        "": (
            "@mode", "@match", "@check", "@migratable", "model", "vendor", "topology",
            "cache", "maxphysaddr", "feature", "numa",
        ),
        "model": ("@fallback", "@vendor_id"),
        "topology": ("@sockets", "@dies", "@cores", "@threads"),
    }  # fmt: skip

    mode = XMLProperty("./@mode", doc="custom, host-model, host-passthrough or maximum.")
    match = XMLProperty("./@match", doc="minimum, exact or strict.")
    check = XMLProperty("./@check", doc="none, partial or full.")
    migratable = XMLProperty("./@migratable")
    model = XMLProperty("./model")
    model_fallback = XMLProperty("./model/@fallback")
    model_vendor_id = XMLProperty("./model/@vendor_id")
    vendor = XMLProperty("./vendor")
    sockets = XMLProperty("./topology/@sockets", UINT)
    dies = XMLProperty("./topology/@dies", UINT)
    cores = XMLProperty("./topology/@cores", UINT)
    threads = XMLProperty("./topology/@threads", UINT)
    cache_level = XMLProperty("./cache/@level", UINT)
    cache_mode = XMLProperty("./cache/@mode")
    features = XMLChildList(CPUFeature, "./feature")
    cells = XMLChildList(NumaCell, "./numa/cell")


# -- reading ---------------------------------------------------------------------------


@dataclass
class CPUInfo:
    """``<cpu>`` as libvirt holds it (``present`` is False without the element)."""

    present: bool = False
    mode: str = "custom"
    mode_given: bool = False
    match: str | None = None
    check: str | None = None
    migratable: bool | None = None
    model: str | None = None
    fallback: str = "allow"
    vendor_id: str | None = None
    vendor: str | None = None
    topology: tuple[int, int, int, int] | None = None
    cache: tuple[int, str] | None = None
    maxphysaddr: tuple[str, int | None] | None = None
    features: list[tuple[str, str]] = field(default_factory=list)


def read_cpu(root: etree._Element) -> CPUInfo:
    """``virCPUDefParseXML`` for a guest CPU."""
    info = CPUInfo()
    cpu = first_child(root, "cpu")
    if cpu is None:
        return info
    info.present = True
    mode = cpu.get("mode")
    if mode is not None:
        if mode not in MODES:
            raise _cpu_unsupported(f"Invalid mode attribute '{mode}'")
        info.mode = mode
        info.mode_given = True
    match = attr_enum(cpu, "match", MATCHES) if info.mode == "custom" else None
    migratable = attr_switch(cpu, "migratable")
    if migratable is not None:
        if info.mode not in ("host-passthrough", "maximum"):
            raise _cpu_unsupported(
                "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode"
            )
        info.migratable = migratable
    info.check = attr_enum(cpu, "check", CHECKS)
    model = child(cpu, "model")
    info.model = text_of(model)
    if info.mode == "custom" and info.model is not None:
        info.match = match or "exact"
    if model is not None and info.mode in ("custom", "host-model"):
        fallback = model.get("fallback")
        if fallback:
            if fallback not in FALLBACKS:
                raise _cpu_unsupported("Invalid fallback attribute")
            info.fallback = fallback
        vendor_id = model.get("vendor_id")
        if vendor_id:
            if len(vendor_id) != 12:
                raise _cpu_error("vendor_id must be exactly 12 characters long")
            info.vendor_id = vendor_id
    info.vendor = text_of(cpu, "vendor")
    if info.vendor is not None and info.model is None:
        raise _cpu_error("CPU vendor specified without CPU model")
    _read_topology(cpu, info)
    _read_features(cpu, info)
    _read_cache(cpu, info)
    if info.mode == "custom" and info.model is None and info.check is not None:
        raise unsupported("check attribute specified for CPU with no model")
    return info


def _read_topology(cpu: etree._Element, info: CPUInfo) -> None:
    topology = child(cpu, "topology")
    if topology is None:
        return
    counts = []
    for name in ("sockets", "dies", "cores", "threads"):
        value = attr_uint(topology, name, required=name != "dies", nonzero=True)
        counts.append(value if value is not None else 1)
    info.topology = (counts[0], counts[1], counts[2], counts[3])


def _read_cache(cpu: etree._Element, info: CPUInfo) -> None:
    caches = children(cpu, "cache")
    if len(caches) > 1:
        raise _cpu_error("at most one CPU cache element may be specified")
    cache = caches[0] if caches else None
    if cache is not None:
        level = attr_int(cache, "level")
        mode = attr_enum(cache, "mode", CACHE_MODES, required=True)
        assert mode is not None
        info.cache = (level if level is not None else -1, mode)
    addr = child(cpu, "maxphysaddr")
    if addr is not None:
        mode = attr_enum(addr, "mode", ("emulate", "passthrough"), required=True)
        assert mode is not None
        bits = attr_int(addr, "bits")
        if bits is not None and bits < 0:
            raise invalid_attr(addr, "bits", addr.get("bits") or "", "non-negative value")
        info.maxphysaddr = (mode, bits)


def _read_features(cpu: etree._Element, info: CPUInfo) -> None:
    features = children(cpu, "feature")
    if features and info.model is None and info.mode == "custom":
        raise _cpu_error("Non-empty feature list specified without CPU model")
    seen: set[str] = set()
    for feature in features:
        policy = feature.get("policy")
        if policy is None:
            policy = "require"
        elif policy not in POLICIES:
            raise _cpu_unsupported("Invalid CPU feature policy")
        name = feature.get("name")
        if not name:
            raise _cpu_error("Invalid CPU feature name")
        if name in seen:
            raise _cpu_error(f"CPU feature '{name}' specified more than once")
        seen.add(name)
        info.features.append((policy, name))


@dataclass
class Cell:
    """One guest NUMA cell as libvirt holds it (memory in KiB)."""

    cpus: frozenset[int] | None
    memory: int
    mem_access: str | None = None
    discard: bool | None = None
    distances: dict[int, int] = field(default_factory=dict)
    pending: bool = False


@dataclass
class NumaInfo:
    """The guest NUMA cells (``<cpu><numa>``)."""

    cells: list[Cell] = field(default_factory=list)

    @property
    def memory(self) -> int:
        """Total memory of the cells in KiB."""
        return sum(cell.memory for cell in self.cells)


def read_numa(root: etree._Element) -> NumaInfo:
    """``virDomainNumaDefParseXML``: the cells, numbered from 0 in any document order."""
    info = NumaInfo()
    sections = children(root, "cpu")
    if not sections:
        return info
    # "cpu/numa[1]/cell": the cells of the first <numa> of every <cpu>.
    nodes = [
        cell
        for cpu in sections
        if (numa := first_child(cpu, "numa")) is not None
        for cell in children(numa, "cell")
    ]
    if not nodes:
        return info
    count = len(nodes)
    slots: list[Cell | None] = [None] * count
    for position, node in enumerate(nodes):
        ident = attr_uint(node, "id")
        index = ident if ident is not None else position
        existing = slots[index] if index < count else None
        if index >= count:
            raise xml_error(
                "Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous "
                "ranges or ranges not starting from 0 are not allowed"
            )
        if existing is not None and not existing.pending:
            raise xml_error(f"Duplicate NUMA cell info for cell id '{index}'")
        cpus_text = node.get("cpus")
        cpus = parse_bitmap(cpus_text) if cpus_text is not None else None
        memory = units.parse_scaled(
            node.get("memory"), node.get("unit"), where="./@memory", scale=1024, required=True
        )
        assert memory is not None
        cell = Cell(cpus, -(-memory // 1024))
        cell.mem_access = attr_enum(node, "memAccess", MEM_ACCESS)
        cell.discard = attr_bool(node, "discard")
        if existing is not None:
            cell.distances.update(existing.distances)
        for j, other in enumerate(slots):
            if (
                other is not None
                and j != index
                and cell.cpus
                and other.cpus
                and cell.cpus & other.cpus
            ):
                raise unsupported(f"NUMA cells {index} and {j} have overlapping vCPU ids")
        slots[index] = cell
        _read_distances(node, index, slots, count)
    info.cells = [cell if cell is not None else Cell(None, 0) for cell in slots]
    return info


def _read_distances(node: etree._Element, index: int, slots: list[Cell | None], count: int) -> None:
    """``<distances>``: a sibling's distance also applies the other way unless given."""
    cell = slots[index]
    assert cell is not None
    siblings = children(child(node, "distances"), "sibling")
    if not siblings:
        return
    cell.distances.setdefault(index, LOCAL_DISTANCE)
    for sibling in siblings:
        sid = attr_uint(sibling, "id", required=True)
        value = attr_uint(sibling, "value", required=True)
        assert sid is not None and value is not None
        if sid >= count:
            raise xml_error(
                f"'sibling_id {sid}' does not refer to a valid cell within NUMA 'cell id {index}'"
            )
        if (
            not LOCAL_DISTANCE <= value <= UNREACHABLE
            or (sid == index and value != LOCAL_DISTANCE)
            or (sid != index and value == LOCAL_DISTANCE)
        ):
            raise xml_error(
                f"'value {value}' is invalid for 'sibling id {sid}' under NUMA 'cell id {index}'"
            )
        cell.distances[sid] = value
        other = slots[sid]
        if other is None:
            # The sibling's own element comes later; keep what it inherits.
            other = slots[sid] = Cell(None, 0)
            other.pending = True
        other.distances.setdefault(sid, LOCAL_DISTANCE)
        other.distances.setdefault(index, value)


def check_numa_cpus(info: NumaInfo, max_vcpus: int) -> None:
    """The vCPUs the cells name must exist, each in one cell."""
    if not info.cells and max_vcpus > 0:
        return
    total = sum(len(c.cpus) for c in info.cells if c.cpus)
    if total > max_vcpus:
        raise internal("Number of CPUs in <numa> exceeds the <vcpu> count")
    highest = max((max(c.cpus) for c in info.cells if c.cpus), default=0)
    if highest >= max_vcpus:
        raise internal("CPU IDs in <numa> exceed the <vcpu> count")


# -- writing ---------------------------------------------------------------------------


def emit_cpu(info: CPUInfo, numa: NumaInfo, out: OutNode) -> None:
    """``<cpu>`` (nothing when it would be empty)."""
    if not info.present and not numa.cells:
        return
    attrs: list[tuple[str, str | int | None]] = []
    if info.present:
        if info.mode != "custom" or info.model is not None:
            attrs.append(("mode", info.mode))
        if info.model is not None and info.mode == "custom":
            attrs.append(("match", info.match or "exact"))
        attrs.append(("check", info.check))
        if info.mode in ("host-passthrough", "maximum"):
            attrs.append(("migratable", on_off(info.migratable)))
    cpu = OutNode("cpu")
    for name, value in attrs:
        if value is not None:
            cpu.set(name, str(value))
    if info.present:
        _emit_body(info, cpu)
    if numa.cells:
        _emit_numa(numa, cpu)
    if cpu.children or cpu.has_attributes():
        out.append(cpu)


def _emit_body(info: CPUInfo, cpu: OutNode) -> None:
    with_model = info.mode in ("custom", "host-model")
    fallback = info.mode == "host-model" or (info.mode == "custom" and info.model is not None)
    if (with_model and info.model is not None) or (fallback and info.vendor_id is not None):
        attrs: list[tuple[str, str | int | None]] = []
        if fallback:
            attrs = [("fallback", info.fallback), ("vendor_id", info.vendor_id)]
        text = info.model if with_model and info.model is not None else None
        sub(cpu, "model", attrs, text)
    if with_model and info.vendor is not None:
        sub(cpu, "vendor", text=info.vendor)
    if info.topology is not None:
        sockets, dies, cores, threads = info.topology
        sub(
            cpu,
            "topology",
            [("sockets", sockets), ("dies", dies), ("cores", cores), ("threads", threads)],
        )
    if info.cache is not None:
        level, mode = info.cache
        sub(cpu, "cache", [("level", level if level != -1 else None), ("mode", mode)])
    if info.maxphysaddr is not None:
        mode, bits = info.maxphysaddr
        sub(cpu, "maxphysaddr", [("mode", mode), ("bits", bits)])
    for policy, name in info.features:
        sub(cpu, "feature", [("policy", policy), ("name", name)])


def _emit_numa(numa: NumaInfo, cpu: OutNode) -> None:
    element = sub(cpu, "numa")
    for index, cell in enumerate(numa.cells):
        node = sub(
            element,
            "cell",
            [
                ("id", index),
                ("cpus", format_bitmap(cell.cpus) if cell.cpus else None),
                ("memory", cell.memory),
                ("unit", "KiB"),
                ("memAccess", cell.mem_access),
                ("discard", yes_no(cell.discard)),
            ],
        )
        if cell.distances:
            distances = sub(node, "distances")
            for sid in sorted(cell.distances):
                sub(distances, "sibling", [("id", sid), ("value", cell.distances[sid])])
