"""Writing a domain definition exactly as libvirt 9.0 writes it.

:func:`format_definition` turns a :class:`~virtcore.xml.domain.checks.Definition`
into the text ``virDomainGetXMLDesc`` returns, following
``virDomainDefFormatInternalSetRootName``: the elements come in libvirt's
fixed order whatever the order of the input, every value in its canonical
spelling (sizes in KiB, CPU sets as ranges, defaults filled in, unset
values left out) and the text formatted by
:func:`virtcore.xml.format.format_xml` with the domain rules (single
quotes, two-space indentation, ``<devices>`` written open, ``<metadata>``
as libxml2 writes it).

Flags are libvirt's ``VIR_DOMAIN_XML_*`` (:class:`~virtcore.enums.domain.DomainXMLFlags`):
``INACTIVE`` leaves out the ``id`` of a running domain; the flags also go
to the devices, where ``SECURE`` shows passwords and ``MIGRATABLE`` leaves
out what a migration destination works out itself. For the parts described
here libvirt 9.0's ``MIGRATABLE`` output is the same as its plain output.
``<devices>`` is written by the devices model
(:mod:`virtcore.xml.domain.devices`), or by a ``devices_formatter`` given
by the caller.

The text is what :func:`~virtcore.xml.format.format_xml` would produce; to
get it cheaply the output tree usually goes through libxml2's serializer
(its double quotes turned into libvirt's single ones), and only trees whose
content the two serializers escape differently take the slower writers.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain.checks import Definition
from virtcore.xml.domain.clock import emit_clock
from virtcore.xml.domain.common import format_uuid, sub
from virtcore.xml.domain.cpu import emit_cpu
from virtcore.xml.domain.devices import DOMAIN_DEVICE_RULES
from virtcore.xml.domain.features import emit_features
from virtcore.xml.domain.memory import emit_memory, emit_memory_backing, emit_memtune
from virtcore.xml.domain.misc import (
    emit_keywrap,
    emit_launch_security,
    emit_lifecycle,
    emit_perf,
    emit_pm,
    emit_seclabels,
    emit_sysinfo,
)
from virtcore.xml.domain.os import emit_bootloader, emit_idmap, emit_os
from virtcore.xml.domain.tuning import (
    emit_blkiotune,
    emit_cputune,
    emit_numatune,
    emit_resource,
)
from virtcore.xml.domain.vcpu import emit_iothreads, emit_vcpus
from virtcore.xml.format import FormatRules, escape, format_xml

__all__ = ["RULES", "DevicesFormatter", "build_element", "format_definition"]

logger = logging.getLogger(__name__)


def _rules() -> FormatRules:
    base = DOMAIN_DEVICE_RULES
    return FormatRules(
        native=base.native,
        open_empty=base.open_empty
        | {"domain/features/hyperv", "domain/features/kvm", "domain/features/xen"},
        spaced=base.spaced,
        paired=base.paired | {"sysinfo/oemStrings/entry"},
    )


RULES = _rules()
"""The domain document's formatting quirks: libvirt writes these containers open even
when empty (``<hyperv mode='passthrough'>`` newline ``</hyperv>``)."""

DevicesFormatter = Callable[[etree._Element, Definition, int], etree._Element]
"""Writes ``<devices>``: (source element, definition, flags) -> the output element."""


def build_element(
    definition: Definition,
    flags: int = 0,
    *,
    devices_formatter: DevicesFormatter | None = None,
) -> etree._Element:
    """The ``<domain>`` element libvirt would write for *definition*."""
    inactive = bool(flags & DomainXMLFlags.INACTIVE) or definition.id is None
    out = etree.Element("domain")
    out.set("type", definition.virt_type)
    if not inactive and definition.id is not None:
        out.set("id", str(definition.id))
    sub(out, "name", text=definition.name)
    sub(out, "uuid", text=format_uuid(definition.uuid))
    if definition.genid is not None:
        sub(out, "genid", text=format_uuid(definition.genid))
    if definition.title is not None:
        sub(out, "title", text=definition.title)
    if definition.description is not None:
        sub(out, "description", text=definition.description)
    if definition.metadata is not None:
        out.append(copy.deepcopy(definition.metadata))
    memory = definition.memory
    emit_memory(memory, out, hotplug=bool(memory.max_memory or memory.slots))
    emit_blkiotune(definition.blkio, out)
    emit_memtune(memory, out)
    emit_memory_backing(memory, out)
    emit_vcpus(definition.vcpus, out)
    emit_iothreads(definition.iothreads, out)
    emit_cputune(definition.cputune, definition.vcpus, definition.iothreads, out)
    emit_numatune(definition.numatune, out)
    emit_resource(definition.resource, out)
    emit_sysinfo(definition.sysinfo, out)
    emit_bootloader(definition.os, out)
    emit_os(definition.os, out)
    emit_idmap(definition.idmap, out)
    emit_features(definition.features, out)
    emit_cpu(definition.cpu, definition.numa, out)
    emit_clock(definition.clock, out)
    emit_lifecycle(definition.lifecycle, out)
    emit_pm(definition.pm, out)
    emit_perf(definition.perf, out)
    source = definition.devices if definition.devices is not None else etree.Element("devices")
    if devices_formatter is not None:
        out.append(devices_formatter(source, definition, int(flags)))
    else:
        assert definition.devices_def is not None
        device_flags = int(flags) | (DomainXMLFlags.INACTIVE if inactive else 0)
        out.append(definition.devices_def.to_element(device_flags))
    emit_seclabels(definition.seclabels, out)
    emit_keywrap(definition.keywrap, out)
    emit_launch_security(definition.launch_security, out)
    return out


def format_definition(
    definition: Definition,
    flags: int = 0,
    *,
    devices_formatter: DevicesFormatter | None = None,
) -> str:
    """The text ``virDomainGetXMLDesc(flags)`` returns for *definition*."""
    element = build_element(definition, flags, devices_formatter=devices_formatter)
    fast = _SERIALIZER.serialized(element)
    if fast is None:
        fast = _Writer(RULES).document(element)
    return fast if fast is not None else format_xml(element, rules=RULES)


class _Writer:
    """A quick writer for trees libvirt formats itself (no namespaces, no mixed content).

    It produces exactly what :func:`~virtcore.xml.format.format_xml` produces
    for such trees and gives up (returns None) on anything else - a
    ``<metadata>`` copy, a namespaced element, mixed content - which is then
    left to :func:`~virtcore.xml.format.format_xml`.
    """

    def __init__(self, rules: FormatRules) -> None:
        self.open_empty = [tuple(entry.split("/")) for entry in rules.open_empty]
        self.paired = [tuple(entry.split("/")) for entry in rules.paired]
        self.special = {path[-1] for path in self.open_empty + self.paired}
        self.native = {entry.split("/")[-1] for entry in rules.native}
        self.out: list[str] = []

    def serialized(self, root: etree._Element) -> str | None:
        """The text of *root* through libxml2's serializer, or None when that cannot tell.

        libxml2's indented output has libvirt's shape except for the quotes
        and a few escapes, and it is far cheaper than walking the tree here.
        The empty elements libvirt writes open or paired get, for the time
        of the call, the text that makes libxml2 write them so. Whatever
        could make the two differ - mixed content, namespaces, comments,
        native subtrees, apostrophes, quotes in text, characters libxml2
        writes as references, deep nesting - sends the tree to
        :meth:`document` instead.
        """
        if (self.native and next(root.iter(*self.native), None) is not None) or _MIXED_OR_DEEP(
            root
        ):
            return None
        changed: list[tuple[etree._Element, str | None]] = []
        paired = 0
        try:
            for element in root.iter(*self.special):
                if len(element):
                    continue
                path = [str(element.tag)]
                path.extend(str(parent.tag) for parent in element.iterancestors())
                path.reverse()
                text = element.text
                if self._matches(self.open_empty, path):
                    if not (text or "").strip():
                        changed.append((element, text))
                        element.text = "\n" + "  " * (len(path) - 1)
                elif not text and self._matches(self.paired, path):
                    changed.append((element, text))
                    element.text = ""
                    paired += 1
            out = etree.tostring(root, pretty_print=True, encoding=str, with_tail=False)
        finally:
            for element, text in changed:
                element.text = text
        attributes = _ATTRIBUTES(root)
        if (
            not isinstance(attributes, float)
            or "'" in out
            or "xmlns" in out
            or "<!--" in out
            or "<?" in out
            or _REFERENCE.search(out) is not None
            or out.count('"') != 2 * int(attributes)
            or out.count("></") != paired
        ):
            return None
        return out.replace('"', "'")

    def document(self, root: etree._Element) -> str | None:
        """The text of *root*, or None when the general formatter is needed."""
        try:
            self._element(root, "", [str(root.tag)])
        except _Unsupported:
            return None
        self.out.append("\n")
        return "".join(self.out)

    @staticmethod
    def _matches(entries: list[tuple[str, ...]], path: list[str]) -> bool:
        for wanted in entries:
            if len(wanted) <= len(path) and tuple(path[-len(wanted) :]) == wanted:
                return True
        return False

    def _element(self, element: etree._Element, indent: str, path: list[str]) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag[0] == "{" or tag in self.native:
            raise _Unsupported
        out = self.out
        out.append("<" + tag)
        for key, value in element.items():
            name, text = str(key), str(value)
            if name[0] == "{":
                raise _Unsupported
            out.append(f" {name}='{_escape(text)}'")
        if len(element) == 0:
            text = element.text or ""
            special = tag in self.special
            open_empty = special and self._matches(self.open_empty, path)
            if text and not (open_empty and not text.strip()):
                out.append(f">{_escape(text)}</{tag}>")
            elif open_empty:
                out.append(f">\n{indent}</{tag}>")
            elif special and self._matches(self.paired, path):
                out.append(f"></{tag}>")
            else:
                out.append("/>")
            return
        if (element.text or "").strip():
            raise _Unsupported
        out.append(">\n")
        inner = indent + "  "
        for node in element:
            if not isinstance(node.tag, str) or (node.tail or "").strip():
                raise _Unsupported
            out.append(inner)
            path.append(node.tag)
            self._element(node, inner, path)
            path.pop()
            out.append("\n")
        out.append(f"{indent}</{tag}>")


_SERIALIZER = _Writer(RULES)
"""Serializes through libxml2 (:meth:`_Writer.serialized` keeps no state)."""

# libxml2 writes text beside child elements (and tails) as they are, unindented.
_MIXED_OR_DEEP = etree.XPath(
    "boolean(descendant-or-self::*[*]/text()) or boolean(./" + "*/" * 24 + "*)"
)
_ATTRIBUTES = etree.XPath("count(descendant-or-self::*/@*)")
# Anything but the three entities both writers use: &quot;, &apos;, &#10; ...
_REFERENCE = re.compile("&(?!amp;|lt;|gt;)")
_PLAIN = re.compile("[&<>\"'\x01-\x08\x0b\x0c\x0e-\x1f]")


def _escape(text: str) -> str:
    """:func:`~virtcore.xml.format.escape`, skipped for the usual text needing none."""
    return escape(text) if _PLAIN.search(text) else text


class _Unsupported(Exception):
    """The tree needs the general formatter."""
