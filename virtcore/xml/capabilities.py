"""The host capabilities document (``<capabilities>``), built and written as libvirt 9.0 does.

libvirt never reads this document from users: a driver *builds* it from
probed data and ``virConnectGetCapabilities`` prints it. :class:`Capabilities`
is therefore mainly a builder - a typed view of a live ``<capabilities>``
tree whose :attr:`~Capabilities.host` (:mod:`virtcore.xml.capabilities_host`)
and :attr:`~Capabilities.guests` (:mod:`virtcore.xml.capabilities_guest`)
a driver fills in - and :meth:`Capabilities.format` writes exactly what
``virsh capabilities`` prints:

* elements and attributes in libvirt's order, whatever order they were
  created in; what libvirt does not know is left out;
* derived values filled in: ``<cells num=...>`` and ``<cpus num=...>``,
  ``<power_management/>`` and ``<iommu support='no'/>`` when unset, an
  empty guest ``<features>`` dropped;
* libvirt's layout: a blank line after each top-level section,
  ``<doi></doi>`` and an open ``<cells num='0'>`` when empty.

:meth:`Capabilities.parse` reads a recorded document back (for instance a
driver's cached probe) and checks what libvirt's own values guarantee: a
well-formed host UUID, numeric ids and sizes.

:func:`canonical_copy` (the ordering engine) is shared with the domain
capabilities model.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import XMLChild, XMLChildList, XMLNode
from virtcore.xml.capabilities_guest import GUEST_FEATURES, Guest
from virtcore.xml.capabilities_host import PM_TARGETS, Host
from virtcore.xml.format import CAPABILITIES_RULES, format_xml
from virtcore.xml.network_addr import format_uuid, parse_uuid

__all__ = [
    "CAPABILITIES_ORDER",
    "CAPS_RULES",
    "Capabilities",
    "canonical_copy",
]

logger = logging.getLogger(__name__)

CAPS_RULES = CAPABILITIES_RULES
"""Blank lines between sections, ``<doi></doi>``, ``<cells num='0'>`` written open."""

_CACHE_MONITOR = ("@level", "@reuseThreshold", "@maxMonitors", "feature")

CAPABILITIES_ORDER: dict[str, tuple[str, ...]] = {
    "capabilities": ("host", "guest", "pool"),
    "host": ("uuid", "cpu", "power_management", "iommu", "migration_features", "netprefix",
             "topology", "cache", "memory_bandwidth", "secmodel"),
    "host/cpu": ("arch", "features", "model", "vendor", "microcode", "signature", "counter",
                 "topology", "maxphysaddr", "feature", "pages"),
    "host/cpu/features": ("*",),
    "host/cpu/model": ("@fallback", "@vendor_id"),
    "host/cpu/microcode": ("@version",),
    "host/cpu/signature": ("@family", "@model", "@stepping"),
    "host/cpu/counter": ("@name", "@frequency", "@scaling"),
    "host/cpu/topology": ("@sockets", "@dies", "@cores", "@threads"),
    "host/cpu/maxphysaddr": ("@mode", "@bits", "@limit"),
    "host/cpu/feature": ("@policy", "@name"),
    "host/cpu/pages": ("@unit", "@size"),
    "host/power_management": PM_TARGETS,
    "host/iommu": ("@support",),
    "host/migration_features": ("live", "uri_transports"),
    "host/migration_features/uri_transports": ("uri_transport",),
    "host/topology": ("cells", "interconnects"),
    "host/topology/cells": ("@num", "cell"),
    "host/topology/cells/cell": ("@id", "memory", "pages", "distances", "cache", "cpus"),
    "host/topology/cells/cell/memory": ("@unit",),
    "host/topology/cells/cell/pages": ("@unit", "@size"),
    "host/topology/cells/cell/distances": ("sibling",),
    "host/topology/cells/cell/distances/sibling": ("@id", "@value"),
    "host/topology/cells/cell/cache": ("@level", "@associativity", "@policy", "size", "line"),
    "host/topology/cells/cell/cache/size": ("@value", "@unit"),
    "host/topology/cells/cell/cache/line": ("@value", "@unit"),
    "host/topology/cells/cell/cpus": ("@num", "cpu"),
    "host/topology/cells/cell/cpus/cpu": ("@id", "@socket_id", "@die_id", "@core_id",
                                          "@siblings"),
    "host/topology/interconnects": ("latency", "bandwidth"),
    "host/topology/interconnects/latency": ("@initiator", "@target", "@cache", "@type", "@value"),
    "host/topology/interconnects/bandwidth": ("@initiator", "@target", "@cache", "@type",
                                              "@value", "@unit"),
    "host/cache": ("bank", "monitor"),
    "host/cache/bank": ("@id", "@level", "@type", "@size", "@unit", "@cpus", "control"),
    "host/cache/bank/control": ("@granularity", "@min", "@unit", "@type", "@maxAllocs"),
    "host/cache/monitor": _CACHE_MONITOR,
    "host/cache/monitor/feature": ("@name",),
    "host/memory_bandwidth": ("node", "monitor"),
    "host/memory_bandwidth/node": ("@id", "@cpus", "control"),
    "host/memory_bandwidth/node/control": ("@granularity", "@min", "@maxAllocs"),
    "host/memory_bandwidth/monitor": _CACHE_MONITOR,
    "host/memory_bandwidth/monitor/feature": ("@name",),
    "host/secmodel": ("model", "doi", "baselabel"),
    "host/secmodel/baselabel": ("@type",),
    "guest": ("os_type", "arch", "features"),
    "guest/arch": ("@name", "wordsize", "emulator", "loader", "machine", "domain"),
    "guest/arch/machine": ("@canonical", "@maxCpus", "@deprecated"),
    "guest/arch/domain": ("@type", "emulator", "loader", "machine"),
    "guest/arch/domain/machine": ("@canonical", "@maxCpus"),
    "guest/features": GUEST_FEATURES,
    **{f"guest/features/{name}": ("@default", "@toggle") for name in GUEST_FEATURES},
    "pool": ("enum",),
    "pool/enum": ("@name", "value"),
}  # fmt: skip
"""What libvirt writes, in its order, per element path below ``<capabilities>``.

Each entry lists child element names and ``@attributes``; ``*`` keeps every
child in place. Elements of a listed path that the entry does not name are
not written; paths without an entry (text-only leaves) are copied as they are.
"""


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def canonical_copy(
    element: etree._Element, orders: Mapping[str, tuple[str, ...]], path: str = ""
) -> etree._Element:
    """A copy of *element* with children and attributes in the order *orders* gives.

    *orders* maps slash-separated paths (relative to the root, whose own
    entry is its name) to the names libvirt writes there; the copy keeps
    only those, in that order, stably (elements of one name keep their
    relative order). Comments and processing instructions are dropped.
    """
    here = path or _local(element)
    order = orders.get(here)
    out = etree.Element(element.tag)
    if order is None:
        for key, value in element.attrib.items():
            out.set(key, value)
        out.text = element.text
        for child in element:
            if isinstance(child.tag, str):
                out.append(copy.deepcopy(child))
        _strip_tails(out)
        return out
    for name in order:
        if name.startswith("@") and name[1:] in element.attrib:
            out.set(name[1:], element.attrib[name[1:]])
    children = [c for c in element if isinstance(c.tag, str)]
    if "*" in order:
        ranked = [(0, c) for c in children]
    else:
        names = [n for n in order if not n.startswith("@")]
        ranked = sorted(
            ((names.index(_local(c)), c) for c in children if _local(c) in names),
            key=lambda pair: pair[0],
        )
    for _, child in ranked:
        # The root's own entry is its name; paths below it leave the root out.
        child_path = f"{path}/{_local(child)}" if path else _local(child)
        out.append(canonical_copy(child, orders, child_path))
    if not children and element.text and element.text.strip():
        out.text = element.text
    return out


def _strip_tails(element: etree._Element) -> None:
    for node in element.iter():
        node.tail = None


def _xml_error(detail: str) -> VirtError:
    return VirtError.from_code(ErrorNumber.XML_ERROR, detail, domain=ErrorDomain.CAPABILITIES)


class Capabilities(XMLNode):
    """The ``<capabilities>`` document: a live-tree builder and libvirt's formatter.

    ``Capabilities()`` starts an empty document; :meth:`parse` reads one.
    """

    TAG = "capabilities"
    PARSE_URL = "(capabilities)"
    ERROR_DOMAIN = ErrorDomain.CAPABILITIES
    SCHEMA = "capability.rng"
    FORMAT_RULES = CAPS_RULES
    XML_ORDER = {"": ("host", "guest", "pool")}

    host = XMLChild(Host)
    guests = XMLChildList(Guest, "./guest")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Read a capabilities document and check the values libvirt guarantees."""
        caps = cls.from_xml(text, validate_schema=validate_schema)
        caps.check()
        return caps

    def check(self) -> None:
        """Raise an XML error for a malformed host UUID or a non-numeric id or size."""
        uuid_text = self.host.uuid
        if uuid_text is not None and parse_uuid(uuid_text) is None:
            raise _xml_error(f"malformed host uuid '{uuid_text}'")
        host_cpu = self.host.cpu
        for page in host_cpu.pages:
            _ = page.size
        for cell in self.host.cells:
            _ = (cell.id, cell.memory)
            for pages in cell.pages:
                _ = (pages.size, pages.count)
            for cpu in cell.cpus:
                _ = (cpu.id, cpu.socket_id, cpu.die_id, cpu.core_id)
        for guest in self.guests:
            if guest.os_type is None:
                raise _xml_error("missing guest OS type")
            _ = guest.wordsize
            for machine in guest.machines:
                _ = machine.max_cpus

    def add_guest(
        self,
        os_type: str,
        arch: str,
        *,
        wordsize: int,
        emulator: str | None = None,
        loader: str | None = None,
    ) -> Guest:
        """Append a guest (``virCapabilitiesAddGuest``) for *os_type* on *arch*."""
        guest = self.guests.append()
        guest.os_type = os_type
        guest.arch = arch
        guest.wordsize = wordsize
        if emulator is not None:
            guest.emulator = emulator
        if loader is not None:
            guest.loader = loader
        return guest

    def guest_for(self, os_type: str, arch: str | None = None) -> Guest | None:
        """The first guest of *os_type* (on *arch* if given), or None."""
        for guest in self.guests:
            if guest.os_type == os_type and (arch is None or guest.arch == arch):
                return guest
        return None

    @property
    def pool_types(self) -> list[str]:
        """Storage pool types listed under ``<pool><enum name='type'>``."""
        return [str(v) for v in self.xpath("./pool/enum[@name='type']/value/text()")]

    @pool_types.setter
    def pool_types(self, names: list[str]) -> None:
        self._remove("./pool")
        for name in names:
            enum = self._ensure("./pool/enum[@name='type']")
            etree.SubElement(enum, "value").text = name

    def canonical_element(self) -> etree._Element:
        """The tree libvirt would print: ordered, derived values filled in."""
        out = canonical_copy(self.element, CAPABILITIES_ORDER)
        host = out.find("host")
        if host is not None:
            _complete_host(host)
        for guest in out.findall("guest"):
            features = guest.find("features")
            if features is not None and len(features) == 0:
                guest.remove(features)
        return out

    def format(self, flags: int = 0) -> str:
        """The document exactly as ``virConnectGetCapabilities`` prints it (no flags)."""
        return format_xml(self.canonical_element(), rules=CAPS_RULES)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


def _complete_host(host: etree._Element) -> None:
    """Fill in what libvirt always prints and the counts it derives."""
    uuid_node = host.find("uuid")
    if uuid_node is not None and uuid_node.text:
        parsed = parse_uuid(uuid_node.text)
        if parsed is not None:
            uuid_node.text = format_uuid(parsed)
    cpu = host.find("cpu")
    if cpu is None:
        cpu = etree.Element("cpu")
        host.insert(1 if uuid_node is not None else 0, cpu)
    if host.find("power_management") is None:
        cpu.addnext(etree.Element("power_management"))
    if host.find("iommu") is None:
        iommu = etree.Element("iommu", support="no")
        pm = host.find("power_management")
        assert pm is not None
        pm.addnext(iommu)
    cells = host.find("topology/cells")
    if cells is not None:
        cells.set("num", str(len(cells.findall("cell"))))
        for cell in cells.findall("cell"):
            cpus = cell.find("cpus")
            if cpus is None:
                cpus = etree.SubElement(cell, "cpus")
            cpus.set("num", str(len(cpus.findall("cpu"))))
            _attributes_first(cpus, "num")
        _attributes_first(cells, "num")


def _attributes_first(element: etree._Element, name: str) -> None:
    """Move attribute *name* to the front (it may have been added last)."""
    items = list(element.attrib.items())
    element.attrib.clear()
    for key, value in sorted(items, key=lambda kv: kv[0] != name):
        element.set(key, value)
