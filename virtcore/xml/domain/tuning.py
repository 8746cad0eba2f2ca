"""Resource tuning: ``<cputune>``, ``<blkiotune>``, ``<numatune>`` and ``<resource>``.

Views (:class:`CPUTune`, :class:`VcpuPin`, :class:`BlkioTune`,
:class:`BlkioDevice`, :class:`NumaTune`, :class:`MemNode`,
:class:`Resource`) give typed access to the live tree. The ``read_*``
functions read each part as libvirt 9.0 does - with its checks and error
messages - into small records the ``emit_*`` functions write back in
libvirt's form: pins keyed by vCPU or IOThread and written in that order,
scheduler settings split per vCPU/IOThread, CPU sets in range syntax,
``numatune`` modes defaulted to ``strict`` and tied to automatic vCPU
placement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InvalidArgError, VirtError, XMLDetailError, XMLError
from virtcore.xml import units
from virtcore.xml.builder import LLONG, UINT, ULLONG, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.childindex import first_child
from virtcore.xml.domain.common import (
    DOM,
    attr_enum,
    attr_int,
    attr_uint,
    child,
    children,
    format_bitmap,
    internal,
    parse_bitmap,
    parse_cpuset,
    parse_uint_wrapping,
    parse_ullong_wrapping,
    sub,
    text_of,
    unsupported,
    xml_error,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.domain.vcpu import IOThreadInfo, Vcpus

__all__ = [
    "BlkioDevice",
    "BlkioTune",
    "CPUTune",
    "MemNode",
    "NumaTune",
    "Resource",
    "VcpuPin",
    "emit_blkiotune",
    "emit_cputune",
    "emit_numatune",
    "emit_resource",
    "read_blkiotune",
    "read_cputune",
    "read_numatune",
    "read_resource",
]

logger = logging.getLogger(__name__)

NUMA_MODES = ("strict", "preferred", "interleave", "restrictive")
SCHEDULERS = ("batch", "idle", "fifo", "rr")
CACHE_TYPES = ("both", "code", "data")
SHARES_RANGE = (2, 262144)
PERIOD_RANGE = (1000, 1000000)
QUOTA_RANGE = (1000, 17592186044415)


# -- views -----------------------------------------------------------------------------


class VcpuPin(XMLNode):
    """``<cputune><vcpupin vcpu= cpuset=/>``."""

    TAG = "vcpupin"

    vcpu = XMLProperty("./@vcpu", UINT)
    cpuset = XMLProperty("./@cpuset")


class CPUTune(XMLNode):
    """``<cputune>``: CPU shares, bandwidth, pinning and scheduling."""

    TAG = "cputune"

    shares = XMLProperty("./shares", ULLONG)
    period = XMLProperty("./period", ULLONG)
    quota = XMLProperty("./quota", LLONG)
    global_period = XMLProperty("./global_period", ULLONG)
    global_quota = XMLProperty("./global_quota", LLONG)
    emulator_period = XMLProperty("./emulator_period", ULLONG)
    emulator_quota = XMLProperty("./emulator_quota", LLONG)
    iothread_period = XMLProperty("./iothread_period", ULLONG)
    iothread_quota = XMLProperty("./iothread_quota", LLONG)
    vcpupins = XMLChildList(VcpuPin, "./vcpupin")
    emulatorpin = XMLProperty("./emulatorpin/@cpuset")


class BlkioDevice(XMLNode):
    """``<blkiotune><device>``: per-device I/O limits."""

    TAG = "device"

    path = XMLProperty("./path")
    weight = XMLProperty("./weight", UINT)
    read_iops_sec = XMLProperty("./read_iops_sec", UINT)
    write_iops_sec = XMLProperty("./write_iops_sec", UINT)
    read_bytes_sec = XMLProperty("./read_bytes_sec", ULLONG)
    write_bytes_sec = XMLProperty("./write_bytes_sec", ULLONG)


class BlkioTune(XMLNode):
    """``<blkiotune>``: block I/O weight and per-device limits."""

    TAG = "blkiotune"

    weight = XMLProperty("./weight", UINT)
    devices = XMLChildList(BlkioDevice, "./device")


class MemNode(XMLNode):
    """``<numatune><memnode cellid= mode= nodeset=/>``."""

    TAG = "memnode"

    cellid = XMLProperty("./@cellid", UINT)
    mode = XMLProperty("./@mode")
    nodeset = XMLProperty("./@nodeset")


class NumaTune(XMLNode):
    """``<numatune>``: host NUMA placement of guest memory."""

    TAG = "numatune"

    mode = XMLProperty("./memory/@mode")
    placement = XMLProperty("./memory/@placement")
    nodeset = XMLProperty("./memory/@nodeset")
    memnodes = XMLChildList(MemNode, "./memnode")


class Resource(XMLNode):
    """``<resource>``: resource partition and Fibre Channel application id."""

    TAG = "resource"

    partition = XMLProperty("./partition")
    appid = XMLProperty("./fibrechannel/@appid")


# -- cputune ---------------------------------------------------------------------------


@dataclass
class Resctrl:
    """One ``<cachetune>``/``<memorytune>`` allocation."""

    vcpus: frozenset[int]
    caches: list[tuple[int, int, str, int]] = field(default_factory=list)
    cache_monitors: list[frozenset[int]] = field(default_factory=list)
    nodes: list[tuple[int, int]] = field(default_factory=list)
    memory_monitors: list[frozenset[int]] = field(default_factory=list)


@dataclass
class CPUTuneInfo:
    """The ``<cputune>`` settings that are not kept per vCPU or IOThread."""

    shares: int | None = None
    values: dict[str, int] = field(default_factory=dict)
    emulatorpin: frozenset[int] | None = None
    emulatorsched: tuple[str, int | None] | None = None
    resctrls: list[Resctrl] = field(default_factory=list)


_BANDWIDTH = (
    ("period", "period", False),
    ("quota", "quota", True),
    ("global_period", "global period", False),
    ("global_quota", "global quota", True),
    ("emulator_period", "emulator period", False),
    ("emulator_quota", "emulator quota", True),
    ("iothread_period", "iothread period", False),
    ("iothread_quota", "iothread quota", True),
)
_OUTPUT_ORDER = (
    "period",
    "quota",
    "global_period",
    "global_quota",
    "emulator_period",
    "emulator_quota",
    "iothread_period",
    "iothread_quota",
)


def read_cputune(root: etree._Element, vcpus: Vcpus, iothreads: IOThreadInfo) -> CPUTuneInfo:
    """``<cputune>``: bandwidth values, pins and schedulers (stored on *vcpus*/*iothreads*).

    Like libvirt's XPaths, the reading spans every ``<cputune>`` element.
    """
    info = CPUTuneInfo()
    if first_child(root, "cputune") is None:
        return info
    if child(root, "cputune/shares") is not None:
        try:
            info.shares = units.parse_ullong(text_of(root, "cputune/shares") or "")
        except ValueError:
            raise xml_error("can't parse cputune shares value") from None
    for tag, words, signed in _BANDWIDTH:
        text = text_of(root, f"cputune/{tag}")
        if text is None:
            continue
        try:
            value = units.parse_llong(text) if signed else units.parse_ullong(text)
        except ValueError:
            raise xml_error(f"can't parse cputune {words} value") from None
        if value:
            info.values[tag] = value
    _read_vcpupins(root, vcpus)
    pins = children(root, "cputune/emulatorpin")
    if len(pins) > 1:
        raise xml_error("only one emulatorpin is supported")
    if pins:
        cpuset = pins[0].get("cpuset")
        if cpuset is None:
            raise internal("missing cpuset for emulatorpin")
        info.emulatorpin = parse_cpuset(cpuset)
    _read_iothreadpins(root, iothreads)
    _read_scheds(root, vcpus, iothreads, info)
    _read_resctrls(root, info, vcpus.maximum)
    return info


def _read_vcpupins(root: etree._Element, vcpus: Vcpus) -> None:
    for pin in children(root, "cputune/vcpupin"):
        ident = attr_uint(pin, "vcpu", required=True)
        assert ident is not None
        if ident >= vcpus.maximum:
            logger.warning("Ignoring vcpupin for missing vcpus")
            continue
        target = vcpus.vcpus[ident]
        if target.pin is not None:
            raise internal(f"duplicate vcpupin for vcpu '{ident}'")
        cpuset = pin.get("cpuset")
        if cpuset is None:
            raise internal("missing cpuset for vcpupin")
        target.pin = parse_cpuset(cpuset)


def _read_iothreadpins(root: etree._Element, iothreads: IOThreadInfo) -> None:
    for pin in children(root, "cputune/iothreadpin"):
        ident = attr_uint(pin, "iothread", required=True)
        assert ident is not None
        target = iothreads.find(ident)
        if target is None:
            raise unsupported(f"Cannot find 'iothread' : {ident}")
        if target.pin is not None:
            raise internal(f"duplicate iothreadpin for same iothread '{ident}'")
        cpuset = pin.get("cpuset")
        if cpuset is None:
            raise internal("missing cpuset for iothreadpin")
        target.pin = parse_cpuset(cpuset)


def _sched(element: etree._Element) -> tuple[str, int | None]:
    policy = attr_enum(element, "scheduler", SCHEDULERS, required=True)
    assert policy is not None
    priority = None
    if policy in ("fifo", "rr"):
        priority = attr_int(element, "priority", required=True)
    return policy, priority


def _read_scheds(
    root: etree._Element, vcpus: Vcpus, iothreads: IOThreadInfo, info: CPUTuneInfo
) -> None:
    for name, attr in (("vcpu", "vcpus"), ("iothread", "iothreads")):
        seen: set[int] = set()
        for element in children(root, f"cputune/{name}sched"):
            text = element.get(attr)
            if text is None:
                raise xml_error(f"Missing attribute '{attr}' in element '{name}sched'")
            ids = parse_bitmap(text)
            if not ids:
                raise unsupported(f"'{attr}' scheduler bitmap '{text}' is empty")
            if ids & seen:
                raise XMLDetailError(
                    f"'{name}sched' attributes '{attr}' must not overlap", domain=DOM
                )
            seen |= ids
            sched = _sched(element)
            for ident in sorted(ids):
                if name == "vcpu":
                    if ident >= vcpus.maximum:
                        raise unsupported(f"vCPU '{ident}' is not present in domain definition")
                    vcpus.vcpus[ident].sched = sched
                else:
                    thread = iothreads.find(ident)
                    if thread is None:
                        raise unsupported(f"Cannot find 'iothread' : {ident}")
                    thread.sched = sched
    emulator = children(root, "cputune/emulatorsched")
    if len(emulator) > 1:
        raise xml_error("only one emulatorsched is supported")
    if emulator:
        info.emulatorsched = _sched(emulator[0])


def _read_resctrls(root: etree._Element, info: CPUTuneInfo, max_vcpus: int) -> None:
    """``<cachetune>`` then ``<memorytune>`` elements; the same vCPUs share an allocation."""
    for kind in ("cachetune", "memorytune"):
        for element in children(root, f"cputune/{kind}"):
            text = element.get("vcpus")
            if text is None:
                raise xml_error(f"Missing {kind} attribute 'vcpus'")
            try:
                vcpus = frozenset(v for v in parse_bitmap(text) if v < max_vcpus)
            except VirtError:
                raise xml_error(f"Invalid {kind} attribute 'vcpus' value '{text}'") from None
            if not vcpus:
                # libvirt drops allocations for vCPUs the domain does not have.
                continue
            resctrl = next((r for r in info.resctrls if r.vcpus == vcpus), None)
            if (
                resctrl is not None
                and kind == "cachetune"
                and (resctrl.caches or resctrl.cache_monitors)
            ):
                raise xml_error("Identical vcpus in cachetunes found")
            if resctrl is None:
                if any(r.vcpus & vcpus for r in info.resctrls):
                    raise xml_error("Overlapping vcpus in resctrls")
                resctrl = Resctrl(vcpus)
                info.resctrls.append(resctrl)
            if kind == "cachetune":
                _read_cachetune(element, resctrl)
            else:
                _read_memorytune(element, resctrl)


def _read_cachetune(element: etree._Element, resctrl: Resctrl) -> None:
    for item in element.iterchildren("cache", "monitor"):
        if item.tag == "monitor":
            level = attr_uint(item, "level", required=True)
            if level != 3:
                raise xml_error(f"Invalid monitor cache level '{level}'")
            resctrl.cache_monitors.append(_monitor(item, resctrl, resctrl.cache_monitors))
            continue
        ident = attr_uint(item, "id", required=True)
        level = attr_uint(item, "level", required=True)
        kind = attr_enum(item, "type", CACHE_TYPES, required=True)
        size = units.parse_scaled(
            item.get("size"), item.get("unit"), where="./@size", scale=1024, required=True
        )
        assert ident is not None and level is not None and kind and size is not None
        if any(c[:3] == (ident, level, kind) for c in resctrl.caches):
            raise XMLError(
                f"Colliding cache allocations for cache level '{level}' id '{ident}', "
                f"type '{kind}'",
                domain=ErrorDomain.RESCTRL,
            )
        resctrl.caches.append((ident, level, kind, size))


def _read_memorytune(element: etree._Element, resctrl: Resctrl) -> None:
    for item in element.iterchildren("node", "monitor"):
        if item.tag == "monitor":
            resctrl.memory_monitors.append(_monitor(item, resctrl, resctrl.memory_monitors))
            continue
        ident = attr_uint(item, "id", required=True)
        bandwidth = attr_uint(item, "bandwidth", required=True)
        assert ident is not None and bandwidth is not None
        if any(node == ident for node, _ in resctrl.nodes):
            raise XMLError(
                f"Memory Bandwidth already defined for node {ident}", domain=ErrorDomain.RESCTRL
            )
        resctrl.nodes.append((ident, bandwidth))


def _monitor(
    item: etree._Element, resctrl: Resctrl, existing: list[frozenset[int]]
) -> frozenset[int]:
    """A ``<monitor>``'s vCPUs, which must be some of the allocation's and not repeat."""
    text = item.get("vcpus")
    if text is None:
        raise xml_error("Missing monitor attribute 'vcpus'")
    try:
        vcpus = parse_bitmap(text)
    except VirtError:
        raise xml_error(f"Invalid monitor attribute 'vcpus' value '{text}'") from None
    if not vcpus <= resctrl.vcpus:
        raise InvalidArgError("Monitor vcpus conflicts with allocation", domain=DOM)
    if vcpus in existing:
        raise InvalidArgError("Identical vcpus found in same type monitors", domain=DOM)
    return vcpus


def validate_cputune(info: CPUTuneInfo) -> None:
    """``virDomainDefCputuneValidate``: shares, periods and quotas in cgroup ranges."""
    if not info.shares and not info.values:
        return
    if info.shares and not SHARES_RANGE[0] <= info.shares <= SHARES_RANGE[1]:
        raise unsupported(
            f"Value of cputune 'shares' must be in range [{SHARES_RANGE[0]}, {SHARES_RANGE[1]}]"
        )
    for tag in ("period", "global_period", "emulator_period", "iothread_period"):
        value = info.values.get(tag, 0)
        if value > 0 and not PERIOD_RANGE[0] <= value <= PERIOD_RANGE[1]:
            raise unsupported(
                f"Value of cputune '{tag}' must be in range [{PERIOD_RANGE[0]}, {PERIOD_RANGE[1]}]"
            )
    for tag in ("quota", "global_quota", "emulator_quota", "iothread_quota"):
        value = info.values.get(tag, 0)
        if value > 0 and not QUOTA_RANGE[0] <= value <= QUOTA_RANGE[1]:
            raise unsupported(
                f"Value of cputune '{tag}' must be in range [{QUOTA_RANGE[0]}, {QUOTA_RANGE[1]}]"
            )


def _pretty_size(size: int) -> tuple[int, str]:
    """``virFormatIntPretty``: the largest binary unit *size* (bytes) is a multiple of."""
    unit = "B"
    for name in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size and size % 1024 == 0:
            size //= 1024
            unit = name
        else:
            break
    return size, unit


def _emit_sched(
    parent: OutNode, name: str, sched: tuple[str, int | None], ident: int | None
) -> None:
    policy, priority = sched
    sub(
        parent,
        f"{name}sched",
        [(f"{name}s", ident), ("scheduler", policy), ("priority", priority)],
    )


def emit_cputune(info: CPUTuneInfo, vcpus: Vcpus, iothreads: IOThreadInfo, out: OutNode) -> None:
    """``<cputune>`` in libvirt's order (nothing when it would be empty)."""
    if (
        info.shares is None
        and not info.values
        and info.emulatorpin is None
        and info.emulatorsched is None
        and not info.resctrls
        and not iothreads.threads
        and all(vcpu.pin is None and vcpu.sched is None for vcpu in vcpus.vcpus)
    ):
        return  # the usual domain: nothing tuned
    cputune = OutNode("cputune")
    if info.shares is not None:
        sub(cputune, "shares", text=info.shares)
    for tag in _OUTPUT_ORDER:
        if tag in info.values:
            sub(cputune, tag, text=info.values[tag])
    for index, vcpu in enumerate(vcpus.vcpus):
        if vcpu.pin is not None:
            sub(cputune, "vcpupin", [("vcpu", index), ("cpuset", format_bitmap(vcpu.pin))])
    if info.emulatorpin is not None:
        sub(cputune, "emulatorpin", [("cpuset", format_bitmap(info.emulatorpin))])
    for thread in iothreads.threads:
        if thread.pin is not None:
            sub(
                cputune,
                "iothreadpin",
                [("iothread", thread.id), ("cpuset", format_bitmap(thread.pin))],
            )
    if info.emulatorsched is not None:
        _emit_sched(cputune, "emulator", info.emulatorsched, None)
    for index, vcpu in enumerate(vcpus.vcpus):
        if vcpu.sched is not None:
            _emit_sched(cputune, "vcpu", vcpu.sched, index)
    for thread in iothreads.threads:
        if thread.sched is not None:
            _emit_sched(cputune, "iothread", thread.sched, thread.id)
    for resctrl in info.resctrls:
        if not resctrl.caches and not resctrl.cache_monitors:
            continue
        tune = sub(cputune, "cachetune", [("vcpus", format_bitmap(resctrl.vcpus))])
        for ident, level, kind, size in resctrl.caches:
            short, unit = _pretty_size(size)
            sub(
                tune,
                "cache",
                [("id", ident), ("level", level), ("type", kind), ("size", short), ("unit", unit)],
            )
        for monitored in resctrl.cache_monitors:
            sub(tune, "monitor", [("level", 3), ("vcpus", format_bitmap(monitored))])
    for resctrl in info.resctrls:
        if not resctrl.nodes and not resctrl.memory_monitors:
            continue
        tune = sub(cputune, "memorytune", [("vcpus", format_bitmap(resctrl.vcpus))])
        for ident, bandwidth in resctrl.nodes:
            sub(tune, "node", [("id", ident), ("bandwidth", bandwidth)])
        for monitored in resctrl.memory_monitors:
            sub(tune, "monitor", [("vcpus", format_bitmap(monitored))])
    if len(cputune):
        out.append(cputune)


# -- blkiotune -------------------------------------------------------------------------


@dataclass
class BlkioInfo:
    """``<blkiotune>`` as libvirt holds it."""

    weight: int = 0
    devices: list[tuple[str, list[int]]] = field(default_factory=list)


_BLKIO_FIELDS = (
    ("weight", "weight", False),
    ("read_iops_sec", "read iops sec", False),
    ("write_iops_sec", "write iops sec", False),
    ("read_bytes_sec", "read bytes sec", True),
    ("write_bytes_sec", "write bytes sec", True),
)


def read_blkiotune(root: etree._Element) -> BlkioInfo:
    """``<blkiotune>``: the weight (bad values ignored, as libvirt does) and devices."""
    info = BlkioInfo()
    if first_child(root, "blkiotune") is None:
        return info
    weight = text_of(root, "blkiotune/weight")
    if weight is not None:
        try:
            info.weight = units.parse_uint(weight)
        except ValueError:
            logger.debug("ignoring unreadable blkiotune weight %r", weight)
    for device in children(root, "blkiotune/device"):
        path = text_of(device, "path")
        if path is None:
            raise unsupported("missing per-device path")
        values = [0, 0, 0, 0, 0]
        for index, (tag, words, wide) in enumerate(_BLKIO_FIELDS):
            text = text_of(device, tag)
            if text is None:
                continue
            try:
                values[index] = parse_ullong_wrapping(text) if wide else parse_uint_wrapping(text)
            except ValueError:
                raise unsupported(f"could not parse {words} {text}") from None
        info.devices.append((path, values))
    return info


def validate_blkiotune(info: BlkioInfo) -> None:
    """``virDomainDefTunablesValidate``: each device path once."""
    if len(info.devices) < 2:
        return
    seen: set[str] = set()
    for path, _ in info.devices:
        if path in seen:
            raise unsupported(f"duplicate blkio device path '{path}'")
        seen.add(path)


def emit_blkiotune(info: BlkioInfo, out: OutNode) -> None:
    """``<blkiotune>`` (nothing when it would be empty)."""
    if not info.weight and not info.devices:
        return
    blkio = OutNode("blkiotune")
    if info.weight:
        sub(blkio, "weight", text=info.weight)
    for path, values in info.devices:
        if not any(values):
            continue
        device = sub(blkio, "device")
        sub(device, "path", text=path)
        for (tag, _, _), value in zip(_BLKIO_FIELDS, values, strict=True):
            if value:
                sub(device, tag, text=value)
    if len(blkio):
        out.append(blkio)


# -- numatune --------------------------------------------------------------------------


@dataclass
class NumaTuneInfo:
    """``<numatune>`` as libvirt holds it."""

    present: bool = False
    mode: str = "strict"
    placement: str | None = None
    nodeset: frozenset[int] | None = None
    memnodes: dict[int, tuple[str, frozenset[int]]] = field(default_factory=dict)


def read_numatune(root: etree._Element) -> NumaTuneInfo:
    """``virDomainNumatuneParseXML``: the memory policy (cells are checked later)."""
    info = NumaTuneInfo()
    numatunes = children(root, "numatune")
    if not numatunes:
        return info
    if len(numatunes) > 1:
        raise xml_error("only one numatune is supported")
    memory = first_child(numatunes[0], "memory")
    if memory is not None:
        info.present = True
        mode = memory.get("mode")
        if mode is not None:
            if mode not in NUMA_MODES:
                raise unsupported(f"Unsupported NUMA memory tuning mode '{mode}'")
            info.mode = mode
        placement = memory.get("placement")
        if placement is not None and placement not in ("static", "auto"):
            raise unsupported(f"Unsupported NUMA memory placement mode '{placement}'")
        nodeset = memory.get("nodeset")
        if nodeset is not None:
            info.nodeset = parse_cpuset(nodeset, "nodeset")
        if placement == "auto":
            info.nodeset = None
        elif placement is None and info.nodeset is None:
            placement = "static"
        info.placement = placement or "static"
        if info.placement == "static" and info.nodeset is None:
            raise unsupported(
                "nodeset for NUMA memory tuning must be set if 'placement' is 'static'"
            )
    return info


def read_memnodes(root: etree._Element, info: NumaTuneInfo, cells: int) -> None:
    """``<memnode>`` entries, which need guest NUMA cells to refer to."""
    if first_child(root, "numatune") is None:
        return
    memnodes = children(root, "numatune/memnode")
    if not memnodes:
        return
    if info.placement == "auto":
        raise unsupported("Per-node binding is not compatible with automatic NUMA placement.")
    if cells == 0:
        raise xml_error("Element 'memnode' is invalid without any guest NUMA cells")
    for memnode in memnodes:
        cellid = attr_uint(memnode, "cellid", required=True)
        assert cellid is not None
        if cellid >= cells:
            raise xml_error(
                "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell"
            )
        if cellid in info.memnodes:
            raise xml_error(f"Multiple memnode elements with cellid {cellid}")
        mode = attr_enum(memnode, "mode", NUMA_MODES) or "strict"
        nodeset = memnode.get("nodeset")
        if nodeset is None:
            raise xml_error("Missing required nodeset attribute in memnode element")
        info.memnodes[cellid] = (mode, parse_bitmap(nodeset))


def link_placement(info: NumaTuneInfo, vcpus: Vcpus) -> None:
    """Automatic placement of vCPUs and of memory imply each other."""
    if info.present and info.placement == "auto" and not vcpus.placement_given:
        vcpus.placement = "auto"
    if vcpus.placement == "auto":
        if not info.present:
            info.present = True
            info.mode = "strict"
            info.placement = "auto"
        vcpus.cpumask = None


def emit_numatune(info: NumaTuneInfo, out: OutNode) -> None:
    """``<numatune>`` (nothing when no policy is set)."""
    if not info.present and not info.memnodes:
        return
    numatune = sub(out, "numatune")
    if info.present:
        if info.placement == "auto":
            sub(numatune, "memory", [("mode", info.mode), ("placement", "auto")])
        else:
            nodeset = format_bitmap(info.nodeset or ())
            sub(numatune, "memory", [("mode", info.mode), ("nodeset", nodeset)])
    for cellid in sorted(info.memnodes):
        mode, nodes = info.memnodes[cellid]
        sub(
            numatune,
            "memnode",
            [("cellid", cellid), ("mode", mode), ("nodeset", format_bitmap(nodes))],
        )


# -- resource --------------------------------------------------------------------------


def _unknown_error() -> VirtError:
    # libvirt fails here without reporting why; this is what its callers see.
    return VirtError(
        message="An error occurred, but the cause is unknown",
        code=ErrorNumber.INTERNAL_ERROR,
        domain=ErrorDomain.NONE,
    )


def read_resource(root: etree._Element) -> tuple[str | None, str | None] | None:
    """``<resource>``: (partition, Fibre Channel appid), None when absent."""
    resources = children(root, "resource")
    if not resources:
        return None
    if len(resources) > 1:
        raise xml_error("only one resource element is supported")
    resource = resources[0]
    partition = text_of(resource, "partition")
    channel = child(resource, "fibrechannel")
    appid = (channel.get("appid") or None) if channel is not None else None
    if partition is None and appid is None:
        raise _unknown_error()
    if appid is not None:
        if not appid.isprintable() or not appid.isascii():
            raise xml_error("Fibre Channel 'appid' is not a printable string")
        if not 1 <= len(appid) <= 128:
            raise InvalidArgError(
                "Fibre Channel 'appid' string length must be between [1, 128]", domain=DOM
            )
    return partition, appid


def emit_resource(resource: tuple[str | None, str | None] | None, out: OutNode) -> None:
    """``<resource>``."""
    if resource is None:
        return
    partition, appid = resource
    element = sub(out, "resource")
    if partition is not None:
        sub(element, "partition", text=partition)
    if appid is not None:
        sub(element, "fibrechannel", [("appid", appid)])
