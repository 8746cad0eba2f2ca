"""Resource tuning sections of a domain definition: ``<memtune>``, ``<blkiotune>``, ``<numatune>``.

:class:`ResourceTuning` parses them the way libvirt 9.0 does (memory limits in
any unit, kept in KiB; block I/O weights per device; the NUMA memory mode,
node set and placement) and writes them back in libvirt's form: limits in
KiB in the order hard, soft, guarantee, swap, unlimited ones left out;
devices whose figures are all zero left out; the NUMA node set written
with libvirt's range syntax, or ``placement='auto'``.

The same objects back ``virDomain{Get,Set}{Memory,Blkio,Numa}Parameters``
(:mod:`.tunables`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    child,
    children,
    elements,
    scaled_integer,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, XMLError

__all__ = [
    "BANDWIDTH_ATTRS",
    "BLKIO_FIELDS",
    "IOTUNE_FIELDS",
    "MEMTUNE_FIELDS",
    "NUMA_MODES",
    "UNLIMITED",
    "BlkioDevice",
    "NumaTune",
    "ResourceTuning",
    "normalize_bandwidth",
    "normalize_iotune",
    "write_device",
]

_DOM = ErrorDomain.DOMAIN

UNLIMITED = 9007199254740991
"""``VIR_DOMAIN_MEMORY_PARAM_UNLIMITED``: a memory limit that is not set (KiB)."""

MEMTUNE_FIELDS = ("hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit")
"""``<memtune>`` children in libvirt's output order."""

BLKIO_FIELDS = ("weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec", "write_bytes_sec")
"""Figures of a ``<blkiotune><device>``, in libvirt's output order."""

NUMA_MODES = ("strict", "preferred", "interleave", "restrictive")
"""``virDomainNumatuneMemMode`` names by value."""

IOTUNE_FIELDS = (
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec",
    "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
    "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec",
    "group_name", "total_bytes_sec_max_length", "read_bytes_sec_max_length",
    "write_bytes_sec_max_length", "total_iops_sec_max_length", "read_iops_sec_max_length",
    "write_iops_sec_max_length",
)  # fmt: skip
"""A disk's ``<iotune>`` children in libvirt's output order."""

BANDWIDTH_ATTRS = ("average", "peak", "floor", "burst")
"""Attributes of ``<inbound>``/``<outbound>`` in libvirt's output order."""


def normalize_iotune(iotune: etree._Element) -> None:
    """Put a disk's ``<iotune>`` in libvirt's form: known limits in order, zeros left out."""
    values = {sub.tag: (sub.text or "").strip() for sub in children(iotune)}
    # A group name set to "" through the API (text "" rather than None, which
    # the parser never produces) is still printed, as an empty element.
    blank_group = any(sub.tag == "group_name" and sub.text == "" for sub in children(iotune))
    for sub in list(iotune):
        iotune.remove(sub)
    for name in IOTUNE_FIELDS:
        value = values.get(name, "")
        if value and value != "0":
            etree.SubElement(iotune, name).text = value
        elif name == "group_name" and blank_group:
            etree.SubElement(iotune, name).text = ""


def write_device(out: XMLWriter, elem: etree._Element, keep_open: Sequence[str]) -> None:
    """Write a device as :meth:`XMLWriter.element` does, but print an API-set
    empty ``<group_name>`` as ``<group_name></group_name>`` the way libvirt does."""
    if not any(sub.text == "" for sub in elem.iter("group_name")):
        out.element(elem, keep_open=keep_open)
    elif elem.tag == "group_name":
        out.line("<group_name></group_name>")
    else:
        out.open(str(elem.tag), list(attributes(elem).items()))
        for sub in elements(elem):
            write_device(out, sub, keep_open)
        out.close(str(elem.tag))


def normalize_bandwidth(bandwidth: etree._Element) -> None:
    """Put an interface's ``<bandwidth>`` in libvirt's form: inbound first, attributes ordered."""
    rates = {sub.tag: dict(sub.attrib) for sub in children(bandwidth)}
    for sub in list(bandwidth):
        bandwidth.remove(sub)
    for direction in ("inbound", "outbound"):
        if direction not in rates:
            continue
        rate = etree.SubElement(bandwidth, direction)
        for name in BANDWIDTH_ATTRS:
            value = rates[direction].get(name)
            if value is not None and value != "0":
                rate.set(name, value)


@dataclass
class BlkioDevice:
    """One ``<blkiotune><device>``: a host block device and its figures (0: unset)."""

    path: str
    values: dict[str, int] = field(default_factory=dict)

    def value(self, name: str) -> int:
        """The figure *name* (one of :data:`BLKIO_FIELDS`), 0 when unset."""
        return self.values.get(name, 0)


@dataclass
class NumaTune:
    """``<numatune><memory>``: mode, node set and placement, plus other children kept as is."""

    mode: int = 0
    nodeset: frozenset[int] | None = None
    placement: str = "static"
    specified: bool = False
    rest: list[etree._Element] = field(default_factory=list)


def _memory_limit(elem: etree._Element, name: str) -> int:
    kib = -(-scaled_integer(elem, f"./memtune/{name}[1]", default_unit="KiB", domain=_DOM) // 1024)
    return min(kib, UNLIMITED)


def _number(text: str | None, what: str) -> int:
    raw = (text or "").strip()
    if not raw.isdigit():
        raise XMLError(f"invalid value for {what}: '{raw}'", domain=_DOM)
    return int(raw)


@dataclass
class ResourceTuning:
    """Memory limits, block I/O weights and NUMA memory tuning of one definition."""

    memtune: dict[str, int] = field(default_factory=dict)
    blkio_weight: int = 0
    blkio_devices: list[BlkioDevice] = field(default_factory=list)
    numa: NumaTune = field(default_factory=NumaTune)

    MODELLED = ("memtune", "blkiotune", "numatune")

    @classmethod
    def parse(cls, top: Mapping[str, etree._Element]) -> ResourceTuning:
        """The sections among *top* (a ``<domain>``'s first child of each name)."""
        from virtcore.drivers.test.domainparts import parse_cpuset

        tuning = cls()
        memtune = top.get("memtune")
        for name in MEMTUNE_FIELDS:
            elem = child(memtune, name) if memtune is not None else None
            if elem is not None:
                tuning.memtune[name] = _memory_limit(elem, name)
        blkio = top.get("blkiotune")
        if blkio is not None:
            weight = child(blkio, "weight")
            if weight is not None:
                tuning.blkio_weight = _number(weight.text, "blkio weight")
            for dev in children(blkio, "device"):
                path_elem = child(dev, "path")
                entry = BlkioDevice(path_elem.text or "" if path_elem is not None else "")
                for name in BLKIO_FIELDS:
                    value = child(dev, name)
                    if value is not None:
                        entry.values[name] = _number(value.text, f"blkio device {name}")
                tuning.blkio_devices.append(entry)
        numatune = top.get("numatune")
        if numatune is not None:
            vcpu = top.get("vcpu")
            auto = vcpu is not None and vcpu.get("placement") == "auto"
            numa = tuning.numa
            memory = child(numatune, "memory")
            numa.rest = [copy.deepcopy(e) for e in children(numatune) if e.tag != "memory"]
            if memory is not None:
                numa.specified = True
                mode = memory.get("mode", "strict")
                if mode not in NUMA_MODES:
                    raise ConfigUnsupportedError(f"Unsupported numatune mode '{mode}'", domain=_DOM)
                numa.mode = NUMA_MODES.index(mode)
                if memory.get("nodeset") is not None:
                    numa.nodeset = parse_cpuset(memory.get("nodeset", ""), "nodeset")
                placement = memory.get("placement")
                if placement is None:
                    placement = "static" if numa.nodeset is not None or not auto else "auto"
                numa.placement = placement
        return tuning

    def format_section(self, out: XMLWriter, tag: str) -> bool:
        """Write the section *tag* (one of :attr:`MODELLED`); False if *tag* is not ours."""
        if tag == "memtune":
            if not self.memtune:
                return True
            limits = [(n, self.memtune[n]) for n in MEMTUNE_FIELDS if n in self.memtune]
            limits = [(n, v) for n, v in limits if v != UNLIMITED]
            if limits:
                out.open("memtune")
                for name, value in limits:
                    out.text(name, value, [("unit", "KiB")])
                out.close("memtune")
        elif tag == "blkiotune":
            self._format_blkio(out)
        elif tag == "numatune":
            self._format_numa(out)
        else:
            return False
        return True

    def _format_blkio(self, out: XMLWriter) -> None:
        devices = [d for d in self.blkio_devices if any(d.value(n) for n in BLKIO_FIELDS)]
        if not self.blkio_weight and not devices:
            return
        out.open("blkiotune")
        if self.blkio_weight:
            out.text("weight", self.blkio_weight)
        for dev in devices:
            out.open("device")
            out.text("path", dev.path)
            for name in BLKIO_FIELDS:
                if dev.value(name):
                    out.text(name, dev.value(name))
            out.close("device")
        out.close("blkiotune")

    def _format_numa(self, out: XMLWriter) -> None:
        numa = self.numa
        if not numa.specified and not numa.rest:
            return
        from virtcore.drivers.test.domainparts import format_cpuset

        out.open("numatune")
        if numa.specified:
            attrs: list[tuple[str, str | int | None]] = [("mode", NUMA_MODES[numa.mode])]
            if numa.placement == "static" and numa.nodeset is not None:
                attrs.append(("nodeset", format_cpuset(numa.nodeset)))
            else:
                attrs.append(("placement", numa.placement))
            out.empty("memory", attrs)
        for elem in numa.rest:
            out.element(elem)
        out.close("numatune")
