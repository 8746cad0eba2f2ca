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

The elements are built as :class:`~virtcore.xml.domain.outnode.OutNode`
trees, written by :func:`~virtcore.xml.domain.outnode.serialize`: the text
is what :func:`~virtcore.xml.format.format_xml` gives for the equivalent
lxml tree, without building one.
"""

from __future__ import annotations

import logging
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
from virtcore.xml.domain.outnode import Embedded, OutNode, serialize
from virtcore.xml.domain.textformat import write_definition
from virtcore.xml.domain.tuning import (
    emit_blkiotune,
    emit_cputune,
    emit_numatune,
    emit_resource,
)
from virtcore.xml.domain.vcpu import emit_iothreads, emit_vcpus
from virtcore.xml.format import FormatRules

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


_INACTIVE = int(DomainXMLFlags.INACTIVE)

RULES = _rules()
"""The domain document's formatting quirks: libvirt writes these containers open even
when empty (``<hyperv mode='passthrough'>`` newline ``</hyperv>``)."""

DevicesFormatter = Callable[[etree._Element, Definition, int], OutNode | etree._Element]
"""Writes ``<devices>``: (source element, definition, flags) -> the output element (an
lxml element is written as the general formatter writes it)."""


def build_element(
    definition: Definition,
    flags: int = 0,
    *,
    devices_formatter: DevicesFormatter | None = None,
) -> OutNode:
    """The ``<domain>`` element libvirt would write for *definition*."""
    inactive = bool(int(flags) & _INACTIVE) or definition.id is None
    out = OutNode("domain", [("type", definition.virt_type)])
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
        out.append(Embedded(definition.metadata))
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
    if devices_formatter is not None:
        source = definition.devices
        if source is None:
            source = etree.Element("devices")
        given = devices_formatter(source, definition, int(flags))
        out.append(given if isinstance(given, OutNode) else Embedded(given))
    else:
        assert definition.devices_def is not None
        device_flags = int(flags) | (_INACTIVE if inactive else 0)
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
    """The text ``virDomainGetXMLDesc(flags)`` returns for *definition*.

    The usual definition is written straight from its records
    (:func:`~virtcore.xml.domain.textformat.write_definition`); any other, and
    any with a ``devices_formatter``, through :func:`build_element`.
    """
    if devices_formatter is None:
        text = write_definition(definition, int(flags), RULES)
        if text is not None:
            return text
    return serialize(build_element(definition, flags, devices_formatter=devices_formatter), RULES)
