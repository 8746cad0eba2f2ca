"""Guest memory: ``<memory>``, ``<maxMemory>``, ``<currentMemory>``, tunables and backing.

Views (:class:`MemoryBacking`, :class:`HugePage`, :class:`MemTune`) give
typed access to the live tree. :func:`read_memory` reads the section the way
libvirt 9.0 does (``virDomainDefParseMemory`` and the memory tunables),
raising libvirt's errors, and :func:`emit_memory` and friends write
libvirt's canonical form:

* sizes are kept in KiB (rounded up) and written ``unit='KiB'``;
* ``<currentMemory>`` is the balloon size, clamped to ``<memory>`` and
  filled in from it when absent or zero;
* ``<maxMemory>`` needs both a size and a non-zero ``slots`` count;
* memtune limits are unlimited unless given (unlimited ones are not
  written), ``min_guarantee`` is written when non-zero;
* ``<memoryBacking>`` children come out in libvirt's order, ``<hugepages/>``
  alone stands for the default page size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.errors import XMLDetailError
from virtcore.xml import units
from virtcore.xml.builder import (
    ONOFF,
    UINT,
    ULLONG,
    XMLChildList,
    XMLFlag,
    XMLMemory,
    XMLNode,
    XMLProperty,
    XMLScaled,
)
from virtcore.xml.childindex import children_by_name
from virtcore.xml.domain.common import (
    DOM,
    Grouped,
    attr_switch,
    child,
    children,
    format_bitmap,
    fresh_record,
    memory_kib,
    on_off,
    parse_cpuset,
    read_uint,
    string_value,
    sub,
    unsupported,
    xml_error,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "MEMORY_UNLIMITED",
    "HugePage",
    "MemTune",
    "MemoryBacking",
    "MemoryInfo",
    "emit_memory",
    "emit_memory_backing",
    "emit_memtune",
    "read_memory",
    "validate_memory",
]

logger = logging.getLogger(__name__)

MEMORY_UNLIMITED = 9007199254740991
"""``VIR_DOMAIN_MEMORY_PARAM_UNLIMITED``: a memtune limit that is not set, in KiB."""

SOURCE_TYPES = ("file", "anonymous", "memfd")
ACCESS_MODES = ("shared", "private")
ALLOCATION_MODES = ("immediate", "ondemand")


# -- views -----------------------------------------------------------------------------


class HugePage(XMLNode):
    """``<memoryBacking><hugepages><page size= unit= nodeset=/>``."""

    TAG = "page"

    size = XMLProperty("./@size", ULLONG, doc="Page size as written (in ``unit``).")
    unit = XMLProperty("./@unit", doc="Unit of ``size`` (KiB when absent).")
    nodeset = XMLProperty("./@nodeset", doc="Guest NUMA nodes the page size applies to.")
    size_kib = XMLScaled("./@size", unit="KiB", unit_xpath="./@unit", where="./@size")


class MemoryBacking(XMLNode):
    """``<memoryBacking>``: how guest memory is backed on the host."""

    TAG = "memoryBacking"

    hugepages = XMLFlag("./hugepages", doc="Whether huge pages back the memory.")
    pages = XMLChildList(HugePage, "./hugepages/page")
    nosharepages = XMLFlag("./nosharepages")
    locked = XMLFlag("./locked")
    source_type = XMLProperty("./source/@type", doc="file, anonymous or memfd.")
    access_mode = XMLProperty("./access/@mode", doc="shared or private.")
    allocation_mode = XMLProperty("./allocation/@mode", doc="immediate or ondemand.")
    allocation_threads = XMLProperty("./allocation/@threads", UINT)
    discard = XMLFlag("./discard")


class MemTune(XMLNode):
    """``<memtune>``: memory limits, in KiB."""

    TAG = "memtune"

    hard_limit = XMLMemory("./hard_limit", where="./memtune/hard_limit[1]")
    soft_limit = XMLMemory("./soft_limit", where="./memtune/soft_limit[1]")
    min_guarantee = XMLMemory("./min_guarantee", where="./memtune/min_guarantee[1]")
    swap_hard_limit = XMLMemory("./swap_hard_limit", where="./memtune/swap_hard_limit[1]")


# The domain's own memory properties live on the Domain model; these are
# shared with it so both read sizes identically.
MEMORY = XMLMemory("./memory", where="./memory[1]", capped=True)
MAX_MEMORY = XMLMemory("./maxMemory", where="./maxMemory[1]")
CURRENT_MEMORY = XMLMemory("./currentMemory", where="./currentMemory[1]", capped=True)
DUMP_CORE = XMLProperty("./memory/@dumpCore", ONOFF)


# -- reading ---------------------------------------------------------------------------


@dataclass
class Page:
    """One parsed huge page size."""

    size: int
    nodes: frozenset[int] | None


@dataclass
class MemoryInfo:
    """The memory section as libvirt holds it (sizes in KiB)."""

    total: int = 0
    current: int = 0
    max_memory: int = 0
    slots: int = 0
    dump_core: bool | None = None
    hard_limit: int = MEMORY_UNLIMITED
    soft_limit: int = MEMORY_UNLIMITED
    min_guarantee: int = 0
    swap_hard_limit: int = MEMORY_UNLIMITED
    backing: bool = False
    pages: list[Page] = field(default_factory=list)
    hugepages: bool = False
    nosharepages: bool = False
    locked: bool = False
    source: str | None = None
    access: str | None = None
    allocation: str | None = None
    allocation_threads: int = 0
    discard: bool = False


def _size(element: etree._Element | None, where: str, *, capped: bool = False) -> int:
    if element is None:
        return 0
    value = memory_kib(string_value(element), element.get("unit"), where=where, capped=capped)
    return value or 0


def _limit(root: etree._Element, tag: str) -> int:
    element = child(root, f"memtune/{tag}")
    if element is None:
        return MEMORY_UNLIMITED
    where = f"./memtune/{tag}[1]"
    size = units.parse_scaled(
        string_value(element),
        element.get("unit"),
        where=where,
        scale=1024,
        limit=MEMORY_UNLIMITED << 10,
    )
    return MEMORY_UNLIMITED if size is None else -(-size // 1024)


def read_memory(root: etree._Element, index: Grouped | None = None) -> MemoryInfo:
    """The memory section of *root*, checked as ``virDomainDefParseMemory`` checks it.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    info = fresh_record(MemoryInfo)
    if index is None:
        index = children_by_name(root)
    found = index.get("memory")
    if found is not None:
        memory = found[0]
        size = memory_kib(
            string_value(memory), memory.get("unit"), where="./memory[1]", capped=True
        )
        if size:
            info.total = size
        if memory.get("dumpCore") is not None:
            info.dump_core = attr_switch(memory, "dumpCore")
    found = index.get("maxMemory")
    if found is not None:
        max_memory = found[0]
        info.max_memory = _size(max_memory, "./maxMemory[1]")
        slots = max_memory.get("slots")
        if slots:
            try:
                info.slots = read_uint(slots)
            except ValueError:
                raise xml_error("Failed to parse memory slot count") from None
    found = index.get("currentMemory")
    if found is not None:
        current = found[0]
        size = memory_kib(
            string_value(current), current.get("unit"), where="./currentMemory[1]", capped=True
        )
        if size:
            info.current = size
    if "memoryBacking" in index:
        _read_backing(root, info)
    if "memtune" in index:
        # Without <memtune> the limits keep their defaults: unlimited, no guarantee.
        for tag in ("hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit"):
            value = _limit(root, tag)
            setattr(info, tag, 0 if tag == "min_guarantee" and value == MEMORY_UNLIMITED else value)
    return info


def _read_backing(root: etree._Element, info: MemoryInfo) -> None:
    info.backing = True
    if child(root, "memoryBacking/hugepages") is not None:
        info.hugepages = True
        for page in children(root, "memoryBacking/hugepages/page"):
            info.pages.append(_read_page(page))
    info.nosharepages = child(root, "memoryBacking/nosharepages") is not None
    info.locked = child(root, "memoryBacking/locked") is not None
    for tag, attr, values in (
        ("source", "type", SOURCE_TYPES),
        ("access", "mode", ACCESS_MODES),
        ("allocation", "mode", ALLOCATION_MODES),
    ):
        element = child(root, f"memoryBacking/{tag}")
        value = (element.get(attr) or None) if element is not None else None
        if value is not None and value not in values:
            raise unsupported(f"unknown memoryBacking/{tag}/{attr} '{value}'")
        setattr(info, tag, value)
    allocation = child(root, "memoryBacking/allocation")
    threads = allocation.get("threads") if allocation is not None else None
    if threads:
        try:
            info.allocation_threads = units.parse_uint(threads)
        except ValueError:
            raise xml_error("Failed to parse memory allocation threads") from None
    info.discard = child(root, "memoryBacking/discard") is not None


def _read_page(page: etree._Element) -> Page:
    size = units.parse_scaled(
        page.get("size"), page.get("unit"), where="./@size", scale=1024, required=True
    )
    assert size is not None
    if size == 0:
        raise XMLDetailError("hugepage size can't be zero", domain=DOM)
    nodeset = page.get("nodeset")
    nodes = parse_cpuset(nodeset, "nodeset") if nodeset is not None else None
    return Page(-(-size // 1024), nodes)


def validate_memory(info: MemoryInfo, numa_cells: int, numa_memory: int) -> None:
    """The post-parse checks of the memory section (``virDomainDefPostParseMemory`` & co).

    *numa_memory* is the total of the guest NUMA cells (KiB), which stands in
    for a missing ``<memory>``.
    """
    if info.total == 0:
        info.total = numa_memory
    if info.total == 0:
        raise xml_error("Memory size must be specified via <memory> or in the <numa> configuration")
    if info.current == 0 or info.current > info.total:
        info.current = info.total
    if (info.max_memory == 0) != (info.slots == 0):
        raise xml_error("both maximum memory size and memory slot count must be specified")
    if info.max_memory and info.max_memory < info.total:
        raise xml_error("maximum memory size must be equal or greater than the actual memory size")
    if info.pages:
        strip_default_node(info, numa_cells)


def validate_pages(pages: list[Page], numa_cells: int) -> None:
    """``virDomainDefMemtuneValidate``: page sizes per NUMA node."""
    for i, page in enumerate(pages):
        for other in pages[:i]:
            if page.nodes is not None and other.nodes is not None and page.nodes & other.nodes:
                raise XMLDetailError(
                    f"nodeset attribute of hugepages of sizes {page.size} and {other.size} "
                    "intersect",
                    domain=DOM,
                )
            if page.nodes is None and other.nodes is None:
                raise XMLDetailError(
                    f"two master hugepages detected: {page.size} and {other.size}", domain=DOM
                )
        if page.nodes is None:
            continue
        beyond = sorted(n for n in page.nodes if n >= numa_cells)
        if beyond:
            raise XMLDetailError(f"hugepages: node {beyond[0]} not found", domain=DOM)


def strip_default_node(info: MemoryInfo, numa_cells: int) -> None:
    """Drop ``nodeset='0'`` from page sizes of a guest without NUMA nodes.

    libvirt treats such a page size as the default for the whole guest.
    """
    if numa_cells:
        return
    for page in info.pages:
        if page.nodes == frozenset({0}):
            page.nodes = None


# -- writing ---------------------------------------------------------------------------


def emit_memory(info: MemoryInfo, out: OutNode, hotplug: bool) -> None:
    """``<maxMemory>``, ``<memory>`` and ``<currentMemory>`` in libvirt's form."""
    if hotplug:
        sub(out, "maxMemory", [("slots", info.slots or None), ("unit", "KiB")], info.max_memory)
    sub(out, "memory", [("dumpCore", on_off(info.dump_core)), ("unit", "KiB")], info.total)
    sub(out, "currentMemory", [("unit", "KiB")], info.current)


def emit_memtune(info: MemoryInfo, out: OutNode) -> None:
    """``<memtune>`` with the limits that are set (nothing when none is)."""
    if (
        info.hard_limit >= MEMORY_UNLIMITED
        and info.soft_limit >= MEMORY_UNLIMITED
        and not info.min_guarantee
        and info.swap_hard_limit >= MEMORY_UNLIMITED
    ):
        return
    values = [
        ("hard_limit", info.hard_limit if info.hard_limit < MEMORY_UNLIMITED else None),
        ("soft_limit", info.soft_limit if info.soft_limit < MEMORY_UNLIMITED else None),
        ("min_guarantee", info.min_guarantee or None),
        (
            "swap_hard_limit",
            info.swap_hard_limit if info.swap_hard_limit < MEMORY_UNLIMITED else None,
        ),
    ]
    present = [(tag, value) for tag, value in values if value is not None]
    if not present:
        return
    memtune = sub(out, "memtune")
    for tag, value in present:
        sub(memtune, tag, [("unit", "KiB")], value)


def emit_memory_backing(info: MemoryInfo, out: OutNode) -> None:
    """``<memoryBacking>`` (nothing when it would be empty)."""
    if not (
        info.hugepages
        or info.nosharepages
        or info.locked
        or info.source
        or info.access
        or info.allocation
        or info.allocation_threads
        or info.discard
    ):
        return  # nothing to write: no element at all
    backing = OutNode("memoryBacking")
    if info.hugepages:
        hugepages = sub(backing, "hugepages")
        for page in info.pages:
            nodeset = format_bitmap(page.nodes) if page.nodes is not None else None
            sub(hugepages, "page", [("size", page.size), ("unit", "KiB"), ("nodeset", nodeset)])
    if info.nosharepages:
        sub(backing, "nosharepages")
    if info.locked:
        sub(backing, "locked")
    if info.source:
        sub(backing, "source", [("type", info.source)])
    if info.access:
        sub(backing, "access", [("mode", info.access)])
    if info.allocation or info.allocation_threads:
        sub(
            backing,
            "allocation",
            [("mode", info.allocation), ("threads", info.allocation_threads or None)],
        )
    if info.discard:
        sub(backing, "discard")
    if len(backing):
        out.append(backing)
