"""Domain XML sections the tuning calls edit: metadata, IOThreads, CPU tuning, perf events.

These are the parts of a ``<domain>`` document that libvirt 9.0's test
driver changes at run time (``virDomainSetMetadata``, ``virDomainAddIOThread``,
``virDomainPinVcpu``, ``virDomainPinEmulator``, ``virDomainSetPerfEvents``),
parsed into a :class:`DomainTuning` and formatted back in libvirt's order and
spelling:

* ``<metadata>`` keeps only namespaced children, one per namespace URI (the
  first wins), exactly as ``virXMLNodeSanitizeNamespaces`` does, and is
  written the way libxml2 dumps it: double-quoted attributes, namespace
  declarations before attributes, no indentation inside mixed content.
* ``<iothreads>``/``<iothreadids>``: ids the document does not list are
  filled in from 1 upwards ("autofill"); ``<iothreadids>`` is only written
  once some id was given explicitly or added through the API.
* ``<cputune>``: ``vcpupin``, ``emulatorpin`` and ``iothreadpin`` are kept as
  CPU sets and formatted with libvirt's range syntax (``0-2,5``); the other
  children are carried through in libvirt's order.
* ``<perf>``: events in libvirt's enumeration order.

``<memtune>``, ``<blkiotune>`` and ``<numatune>`` are modelled in
:mod:`.resources`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.resources import ResourceTuning
from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    children,
    elements,
    parse_xml,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, XMLError

__all__ = [
    "CPUTUNE_ORDER",
    "PERF_EVENTS",
    "DomainTuning",
    "IOThreadID",
    "format_cpuset",
    "metadata_get",
    "metadata_set",
    "parse_cpuset",
]

_DOM = ErrorDomain.DOMAIN

PERF_EVENTS = (
    "cmt",
    "mbmt",
    "mbml",
    "cpu_cycles",
    "instructions",
    "cache_references",
    "cache_misses",
    "branch_instructions",
    "branch_misses",
    "bus_cycles",
    "stalled_cycles_frontend",
    "stalled_cycles_backend",
    "ref_cpu_cycles",
    "cpu_clock",
    "task_clock",
    "page_faults",
    "context_switches",
    "cpu_migrations",
    "page_faults_min",
    "page_faults_maj",
    "alignment_faults",
    "emulation_faults",
)
"""Perf event names in libvirt's ``virPerfEventType`` order."""

CPUTUNE_ORDER = (
    "shares",
    "global_period",
    "global_quota",
    "period",
    "quota",
    "emulator_period",
    "emulator_quota",
    "iothread_period",
    "iothread_quota",
    "vcpupin",
    "emulatorpin",
    "iothreadpin",
    "vcpusched",
    "iothreadsched",
    "emulatorsched",
    "cachetune",
    "memorytune",
)
_CPUTUNE_RANK = {name: i for i, name in enumerate(CPUTUNE_ORDER)}
_CPUSET_PART = re.compile(r"\s*(\^?)\s*(\d+)\s*(?:-\s*(\d+)\s*)?")
# libvirt's VIR_DOMAIN_CPUMASK_LEN: the highest CPU number a set may name.
CPUMASK_LEN = 8192


def parse_cpuset(text: str, what: str = "cpuset") -> frozenset[int]:
    """CPU numbers of a libvirt bitmap string such as ``0-3,^2,8`` (``virBitmapParse``)."""
    cpus: set[int] = set()
    if not text.strip():
        raise XMLError(f"Invalid value of '{what}': {text}", domain=_DOM)
    for part in text.split(","):
        match = _CPUSET_PART.fullmatch(part)
        if match is None:
            raise XMLError(f"Invalid value of '{what}': {text}", domain=_DOM)
        negate, start_s, end_s = match.groups()
        start = int(start_s)
        end = int(end_s) if end_s is not None else start
        if end < start or end >= CPUMASK_LEN or (negate and end_s is not None):
            raise XMLError(f"Invalid value of '{what}': {text}", domain=_DOM)
        span = set(range(start, end + 1))
        if negate:
            cpus -= span
        else:
            cpus |= span
    return frozenset(cpus)


def format_cpuset(cpus: frozenset[int] | set[int]) -> str:
    """``virBitmapFormat``: sorted CPU numbers with runs written as ``a-b``."""
    out: list[str] = []
    ordered = sorted(cpus)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


# -- metadata ---------------------------------------------------------------------


def _namespace(elem: etree._Element) -> str | None:
    tag: object = elem.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].partition("}")[0]
    return None


def _drop_blank_text(elem: etree._Element) -> None:
    """Remove whitespace-only text between elements (libxml2 without kept blanks)."""
    for node in elem.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node is not elem and node.tail is not None and not node.tail.strip():
            node.tail = None


def parse_metadata(src: etree._Element) -> etree._Element:
    """A sanitised copy of a ``<metadata>`` element (``virXMLNodeSanitizeNamespaces``)."""
    out = etree.Element("metadata")
    seen: set[str] = set()
    for sub in elements(src):
        uri = _namespace(sub)
        if uri is None or uri in seen:
            continue
        seen.add(uri)
        kept = copy.deepcopy(sub)
        kept.tail = None
        out.append(kept)
    _drop_blank_text(out)
    return out


def format_metadata(out: XMLWriter, meta: etree._Element) -> None:
    """Write ``<metadata>`` as libvirt does, through libxml2's formatted dump."""
    dumped = etree.tostring(meta, pretty_print=True, encoding="unicode").rstrip("\n")
    for line in dumped.split("\n"):
        out.line(line)


def _inject_namespace(elem: etree._Element, uri: str, key: str) -> etree._Element:
    """*elem* rebuilt with every namespace-less element moved into *uri* as prefix *key*."""
    nsmap = {k: v for k, v in elem.nsmap.items() if k is not None}
    nsmap[key] = uri

    def rebuild(src: etree._Element, parent: etree._Element | None) -> etree._Element:
        local = etree.QName(src).localname
        tag = f"{{{_namespace(src) or uri}}}{local}"
        node = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag)
        for name, value in src.attrib.items():
            node.set(name, value)
        node.text = src.text
        node.tail = src.tail if parent is not None else None
        for sub in src:
            if isinstance(sub.tag, str):
                rebuild(sub, node)
        return node

    return rebuild(elem, None)


def _valid_ncname(key: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][\w.\-]*", key) is not None


def metadata_set(
    meta: etree._Element | None, xml: str | None, key: str | None, uri: str
) -> etree._Element | None:
    """The ``<metadata>`` element after setting (or, with *xml* None, removing) *uri*'s element.

    Mirrors ``virDomainDefSetMetadata`` for ``VIR_DOMAIN_METADATA_ELEMENT``:
    the new element takes the place of any element in the same namespace
    and is appended last.
    """
    new: etree._Element | None = None
    if xml is not None:
        root = parse_xml(xml, "(metadata_xml)", domain=_DOM)
        if key is None or not _valid_ncname(key):
            raise InternalError(
                "failed to validate prefix for a new XML namespace", domain=ErrorDomain.XML
            )
        new = _inject_namespace(root, uri, key)
        _drop_blank_text(new)
        if meta is None:
            meta = etree.Element("metadata")
    if meta is None:
        return None
    for sub in list(meta):
        if _namespace(sub) == uri:
            meta.remove(sub)
    if new is not None:
        meta.append(new)
    return meta


def metadata_get(meta: etree._Element | None, uri: str) -> str | None:
    """The element stored under *uri*, without its namespace, as libxml2 dumps it."""
    if meta is None:
        return None
    for sub in meta:
        if _namespace(sub) != uri:
            continue

        def strip(src: etree._Element, parent: etree._Element | None) -> etree._Element:
            local = etree.QName(src).localname
            ns = _namespace(src)
            tag = local if ns == uri or ns is None else f"{{{ns}}}{local}"
            if parent is None:
                # Declarations of other namespaces stay, as libxml2 keeps the node's nsDef.
                kept = {p: u for p, u in src.nsmap.items() if p is not None and u != uri}
                node = etree.Element(tag, nsmap=kept)
            else:
                node = etree.SubElement(parent, tag)
            for name, value in src.attrib.items():
                node.set(name, value)
            node.text = src.text
            node.tail = src.tail if parent is not None else None
            for grandchild in src:
                if isinstance(grandchild.tag, str):
                    strip(grandchild, node)
            return node

        plain = strip(sub, None)
        return etree.tostring(plain, pretty_print=True, encoding="unicode").rstrip("\n")
    return None


# -- IOThreads ----------------------------------------------------------------------


@dataclass
class IOThreadID:
    """One ``<iothread>`` of ``<iothreadids>``; *autofill* when libvirt made the id up."""

    id: int
    autofill: bool = False
    attrs: dict[str, str] = field(default_factory=dict)
    content: list[etree._Element] = field(default_factory=list)


def _parse_iothreads(top: Mapping[str, etree._Element]) -> list[IOThreadID]:
    count = 0
    count_elem = top.get("iothreads")
    if count_elem is not None:
        raw = (count_elem.text or "").strip()
        if not raw.isdigit():
            raise XMLError(f"invalid iothreads count '{raw}'", domain=_DOM)
        count = int(raw)
    ids: list[IOThreadID] = []
    ids_elem = top.get("iothreadids")
    for node in children(ids_elem, "iothread") if ids_elem is not None else []:
        raw_id = node.get("id")
        if raw_id is None:
            raise XMLError("Missing required attribute 'id' in element 'iothread'", domain=_DOM)
        if not raw_id.strip().isdigit() or int(raw_id) == 0:
            raise XMLError(
                f"Invalid value for attribute 'id' in element 'iothread': '{raw_id}'. "
                "Expected non-zero value",
                domain=ErrorDomain.XML,
            )
        number = int(raw_id)
        if any(known.id == number for known in ids):
            raise XMLError(f"duplicate iothread id '{number}' found", domain=_DOM)
        extra = {k: v for k, v in attributes(node).items() if k != "id"}
        ids.append(IOThreadID(number, False, extra, [copy.deepcopy(s) for s in children(node)]))
    candidate = 1
    while len(ids) < count:
        while any(known.id == candidate for known in ids):
            candidate += 1
        ids.append(IOThreadID(candidate, autofill=True))
        candidate += 1
    return ids


# -- the whole set ------------------------------------------------------------------


@dataclass
class DomainTuning:
    """The run-time tunable sections of a domain definition."""

    metadata: etree._Element | None = None
    iothreads: list[IOThreadID] = field(default_factory=list)
    cpumask: frozenset[int] | None = None
    vcpupin: dict[int, frozenset[int]] = field(default_factory=dict)
    emulatorpin: frozenset[int] | None = None
    iothreadpin: dict[int, frozenset[int]] = field(default_factory=dict)
    cputune_rest: list[etree._Element] = field(default_factory=list)
    perf: dict[str, bool] = field(default_factory=dict)
    resources: ResourceTuning = field(default_factory=ResourceTuning)

    MODELLED = ("metadata", "iothreads", "iothreadids", "cputune", "perf", *ResourceTuning.MODELLED)

    @classmethod
    def parse(cls, top: Mapping[str, etree._Element], cpuset: str | None) -> DomainTuning:
        """The sections among *top* (a ``<domain>``'s first child of each name); *cpuset* is
        ``<vcpu cpuset>``."""
        tuning = cls(iothreads=_parse_iothreads(top), resources=ResourceTuning.parse(top))
        meta = top.get("metadata")
        if meta is not None:
            tuning.metadata = parse_metadata(meta)
        if cpuset is not None:
            tuning.cpumask = parse_cpuset(cpuset)
        cputune = top.get("cputune")
        for sub in children(cputune) if cputune is not None else []:
            if sub.tag == "vcpupin":
                tuning.vcpupin[_int_attr(sub, "vcpu")] = parse_cpuset(sub.get("cpuset", ""))
            elif sub.tag == "emulatorpin":
                tuning.emulatorpin = parse_cpuset(sub.get("cpuset", ""))
            elif sub.tag == "iothreadpin":
                number = _int_attr(sub, "iothread")
                tuning.iothreadpin[number] = parse_cpuset(sub.get("cpuset", ""))
            else:
                tuning.cputune_rest.append(copy.deepcopy(sub))
        perf = top.get("perf")
        for event in children(perf, "event") if perf is not None else []:
            name = event.get("name", "")
            if name not in PERF_EVENTS:
                raise XMLError(f"Invalid value for attribute 'name' in element 'event': '{name}'")
            tuning.perf[name] = event.get("enabled") == "yes"
        return tuning

    def writes_nothing(self) -> bool:
        """True when :meth:`format_section` writes nothing for any of :attr:`MODELLED`.

        Most definitions tune nothing; their formatting skips every section at once.
        """
        res = self.resources
        return not (
            self.metadata is not None
            or self.iothreads
            or self.vcpupin
            or self.emulatorpin is not None
            or self.iothreadpin
            or self.cputune_rest
            or self.perf
            or res.memtune
            or res.blkio_weight
            or res.blkio_devices
            or res.numa.specified
            or res.numa.rest
        )

    def format_section(self, out: XMLWriter, tag: str) -> bool:
        """Write the section *tag* (one of :attr:`MODELLED`); False if *tag* is not ours."""
        if self.resources.format_section(out, tag):
            return True
        if tag == "metadata":
            if self.metadata is not None:
                format_metadata(out, self.metadata)
        elif tag == "iothreads":
            if self.iothreads:
                out.text("iothreads", len(self.iothreads))
        elif tag == "iothreadids":
            if self.iothreads and any(
                not t.autofill or t.attrs or t.content for t in self.iothreads
            ):
                out.open("iothreadids")
                for thread in self.iothreads:
                    attrs = [("id", str(thread.id)), *thread.attrs.items()]
                    if thread.content:
                        out.open("iothread", attrs)
                        for sub in thread.content:
                            out.element(sub)
                        out.close("iothread")
                    else:
                        out.empty("iothread", attrs)
                out.close("iothreadids")
        elif tag == "cputune":
            self._format_cputune(out)
        elif tag == "perf":
            if self.perf:
                out.open("perf")
                for name in PERF_EVENTS:
                    if name in self.perf:
                        enabled = "yes" if self.perf[name] else "no"
                        out.empty("event", [("name", name), ("enabled", enabled)])
                out.close("perf")
        else:
            return False
        return True

    def _format_cputune(self, out: XMLWriter) -> None:
        if not (self.cputune_rest or self.vcpupin or self.iothreadpin) and self.emulatorpin is None:
            return  # nothing to write (most domains): skip building the ordering
        rank = _CPUTUNE_RANK
        entries: list[tuple[int, int, etree._Element | tuple[str, list[tuple[str, str]]]]] = []
        for pos, elem in enumerate(self.cputune_rest):
            entries.append((rank.get(elem.tag, len(rank)), pos, elem))
        for vcpu, cpus in sorted(self.vcpupin.items()):
            attrs = [("vcpu", str(vcpu)), ("cpuset", format_cpuset(cpus))]
            entries.append((rank["vcpupin"], vcpu, ("vcpupin", attrs)))
        if self.emulatorpin is not None:
            pin = [("cpuset", format_cpuset(self.emulatorpin))]
            entries.append((rank["emulatorpin"], 0, ("emulatorpin", pin)))
        # libvirt writes IOThread pins in the order of <iothreadids>.
        order = {thread.id: pos for pos, thread in enumerate(self.iothreads)}
        for number, cpus in self.iothreadpin.items():
            attrs = [("iothread", str(number)), ("cpuset", format_cpuset(cpus))]
            position = order.get(number, len(order) + number)
            entries.append((rank["iothreadpin"], position, ("iothreadpin", attrs)))
        if not entries:
            return
        out.open("cputune")
        for _, _, item in sorted(entries, key=lambda e: (e[0], e[1])):
            if isinstance(item, tuple):
                out.empty(item[0], item[1])
            else:
                out.element(item)
        out.close("cputune")


def _int_attr(elem: etree._Element, name: str) -> int:
    raw = elem.get(name)
    if raw is None or not raw.strip().isdigit():
        raise XMLError(f"missing or invalid '{name}' attribute in <{elem.tag}>", domain=_DOM)
    return int(raw)
