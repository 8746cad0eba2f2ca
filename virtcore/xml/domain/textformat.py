"""The domain's text written straight from its definition, for the usual domain.

:func:`~virtcore.xml.domain.formatter.format_definition` first tries
:func:`write_definition`, which writes the text of the parts of a domain
nearly every definition has in their usual form - the names, memory and
vCPU counts, a plain ``<os>``, flag features, a UTC or local clock, the
lifecycle actions and the common devices
(:mod:`virtcore.xml.domain.devices.textwrite`) - without building output
nodes. Every other part is built by its ``emit_*`` function or the
device's ``to_element`` as before and written by the same serializer
(:func:`~virtcore.xml.domain.outnode.write_children`) in its place. The
text is identical to the general route's (``build_element`` then
``serialize``); tests compare the two over every domain document of the
suites.

Values are written unescaped and collected; when any of them needs
escaping, or a part needs the general formatter, :func:`write_definition`
returns None and the caller takes the general route for the whole document.
"""

from __future__ import annotations

import logging

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain.checks import Definition
from virtcore.xml.domain.clock import ClockInfo, emit_clock
from virtcore.xml.domain.common import format_uuid
from virtcore.xml.domain.cpu import emit_cpu
from virtcore.xml.domain.devices.chardev import Chardevs
from virtcore.xml.domain.devices.pipeline import (
    _ALWAYS_SHOWN,
    _CHARDEVS,
    _CHARDEVS_SET,
    _FORMAT_INDEX,
    DevicesDef,
    _always_shown,
)
from virtcore.xml.domain.devices.redirdev import RedirFilterDef
from virtcore.xml.domain.devices.textwrite import RestAtDefault, write_console, write_device
from virtcore.xml.domain.features import _FEATURE_INDEX, _FLAG_SET, FeaturesInfo, emit_features
from virtcore.xml.domain.memory import emit_memory, emit_memory_backing, emit_memtune
from virtcore.xml.domain.misc import (
    emit_keywrap,
    emit_launch_security,
    emit_perf,
    emit_pm,
    emit_seclabels,
    emit_sysinfo,
)
from virtcore.xml.domain.os import OSInfo, emit_bootloader, emit_idmap, emit_os
from virtcore.xml.domain.outnode import (
    Embedded,
    FormatFallback,
    OutNode,
    compiled_rules,
    needs_escaping,
    write_children,
)
from virtcore.xml.domain.tuning import emit_blkiotune, emit_cputune, emit_numatune, emit_resource
from virtcore.xml.domain.vcpu import emit_iothreads, emit_vcpus
from virtcore.xml.format import FormatRules

__all__ = ["write_definition"]

logger = logging.getLogger(__name__)

_INACTIVE = int(DomainXMLFlags.INACTIVE)
_OS_REST = RestAtDefault(OSInfo, ("type", "arch", "machine", "boot"))
_CLOCK_REST = RestAtDefault(ClockInfo, ("offset",))
_LIFECYCLE = ("on_poweroff", "on_reboot", "on_crash", "on_lockfailure")


class _Text:
    """The text being written, and the parts built as nodes waiting for their turn."""

    __slots__ = ("out", "pending", "rules", "values")

    def __init__(self, rules: FormatRules) -> None:
        self.out: list[str] = []
        self.values: list[str] = []
        self.pending = OutNode("domain")
        """Top-level elements built by ``emit_*`` functions, written by :meth:`flush`."""
        self.rules = compiled_rules(rules)

    def flush(self) -> None:
        """Write the pending elements (the general route's serializer, at depth 1)."""
        pending = self.pending.children
        if pending:
            write_children(pending, "  ", ["domain"], self.out, self.values, self.rules)
            pending.clear()

    def nodes(self, nodes: list[OutNode], indent: str, path: list[str]) -> None:
        """Write *nodes*, children of the element *path* names, at *indent*."""
        write_children(nodes, indent, path, self.out, self.values, self.rules)


def write_definition(definition: Definition, flags: int, rules: FormatRules) -> str | None:
    """The text ``virDomainGetXMLDesc(flags)`` returns for *definition*, or None when it
    needs the general route (an escaped value, a part only the general formatter writes).

    *rules* are the domain document's formatting rules (``formatter.RULES``).
    """
    text = _Text(rules)
    try:
        _write(definition, flags, text)
    except FormatFallback:
        return None
    if needs_escaping("".join(text.values)):
        return None
    return "".join(text.out).replace("\x00", "'")


def _write(definition: Definition, flags: int, text: _Text) -> None:
    inactive = bool(flags & _INACTIVE) or definition.id is None
    out = text.out
    values = text.values
    pending = text.pending
    name = definition.name
    values.append(name)
    ident = "" if inactive or definition.id is None else f" id='{definition.id}'"
    head = (
        f"<domain type='{definition.virt_type}'{ident}>\n"
        + (f"  <name>{name}</name>\n" if name else "  <name/>\n")
        + f"  <uuid>{format_uuid(definition.uuid)}</uuid>\n"
    )
    if definition.genid is not None:
        head += f"  <genid>{format_uuid(definition.genid)}</genid>\n"
    if definition.title is not None:
        values.append(definition.title)
        head += f"  <title>{definition.title}</title>\n" if definition.title else "  <title/>\n"
    if definition.description is not None:
        description = definition.description
        values.append(description)
        head += (
            f"  <description>{description}</description>\n"
            if description
            else ("  <description/>\n")
        )
    out.append(head)
    if definition.metadata is not None:
        pending.append(Embedded(definition.metadata))
        text.flush()
    memory = definition.memory
    if memory.max_memory or memory.slots:
        emit_memory(memory, pending, hotplug=True)
        text.flush()
    else:
        dump = memory.dump_core
        dump_attr = "" if dump is None else (" dumpCore='on'" if dump else " dumpCore='off'")
        out.append(
            f"  <memory{dump_attr} unit='KiB'>{memory.total}</memory>\n"
            f"  <currentMemory unit='KiB'>{memory.current}</currentMemory>\n"
        )
    emit_blkiotune(definition.blkio, pending)
    emit_memtune(memory, pending)
    emit_memory_backing(memory, pending)
    vcpus = definition.vcpus
    if (
        vcpus.individual
        or (vcpus.cpumask is not None and vcpus.placement == "static")
        or not all(vcpu.online for vcpu in vcpus.vcpus)
    ):
        emit_vcpus(vcpus, pending)
    else:
        text.flush()
        placement = vcpus.placement
        attr = "" if placement is None else f" placement='{placement}'"
        out.append(f"  <vcpu{attr}>{vcpus.maximum}</vcpu>\n")
    emit_iothreads(definition.iothreads, pending)
    emit_cputune(definition.cputune, definition.vcpus, definition.iothreads, pending)
    emit_numatune(definition.numatune, pending)
    emit_resource(definition.resource, pending)
    emit_sysinfo(definition.sysinfo, pending)
    os_info = definition.os
    if _OS_REST.at_default(os_info):
        text.flush()
        _write_os(os_info, out, values)
    else:
        emit_bootloader(os_info, pending)
        emit_os(os_info, pending)
    emit_idmap(definition.idmap, pending)
    features = definition.features
    if not _write_features(features, text):
        emit_features(features, pending)
    emit_cpu(definition.cpu, definition.numa, pending)
    clock = definition.clock
    if clock.offset in ("utc", "localtime") and _CLOCK_REST.at_default(clock):
        text.flush()
        out.append(f"  <clock offset='{clock.offset}'/>\n")
    else:
        emit_clock(clock, pending)
    text.flush()
    lifecycle = definition.lifecycle
    for tag in _LIFECYCLE:
        action = lifecycle.get(tag)
        if action is not None:
            out.append(f"  <{tag}>{action}</{tag}>\n")
    emit_pm(definition.pm, pending)
    emit_perf(definition.perf, pending)
    text.flush()
    assert definition.devices_def is not None
    _write_devices(definition.devices_def, flags | (_INACTIVE if inactive else 0), text)
    emit_seclabels(definition.seclabels, pending)
    emit_keywrap(definition.keywrap, pending)
    emit_launch_security(definition.launch_security, pending)
    text.flush()
    out.append("</domain>\n")


def _write_os(info: OSInfo, out: list[str], values: list[str]) -> None:
    """``emit_os`` of an ``<os>`` holding its type and boot devices only."""
    attrs = ""
    if info.arch is not None:
        attrs = f" arch='{info.arch}'"
    if info.machine is not None:
        values.append(info.machine)
        attrs += f" machine='{info.machine}'"
    os_type = info.type
    values.append(os_type)
    lines = (
        f"  <os>\n    <type{attrs}>{os_type}</type>\n"
        if os_type
        else f"  <os>\n    <type{attrs}/>\n"
    )
    for dev in info.boot:
        lines += f"    <boot dev='{dev}'/>\n"
    out.append(lines + "  </os>\n")


def _write_features(features: FeaturesInfo, text: _Text) -> bool:
    """``emit_features`` when every feature set is a flag (``<acpi/>``, ``<apic/>`` without
    ``eoi``); False, writing nothing, otherwise."""
    values = features.values
    if not values:
        return True  # nothing to write
    names = []
    for name in values:
        if name not in _FLAG_SET and (name != "apic" or features.apic_eoi is not None):
            return False
        names.append(name)
    if len(names) > 1:
        names.sort(key=_FEATURE_INDEX.__getitem__)
    text.flush()
    text.out.append(
        "  <features>\n" + "".join(f"    <{name}/>\n" for name in names) + "  </features>\n"
    )
    return True


def _write_devices(devices: DevicesDef, flags: int, text: _Text) -> None:
    """``DevicesDef.to_element`` written: known shapes directly, others as nodes."""
    out = text.out
    values = text.values
    out.append("  <devices>\n")
    if devices.emulator is not None:
        values.append(devices.emulator)
        out.append(f"    <emulator>{devices.emulator}</emulator>\n")
    chardevs = devices.chardevs
    by_tag = devices.by_tag
    tags = [tag for tag, found in by_tag.items() if found and tag in _FORMAT_INDEX]
    if chardevs is not None:
        tags.extend(tag for tag in _CHARDEVS if tag not in tags)
    tags.sort(key=_FORMAT_INDEX.__getitem__)
    path = ["domain", "devices"]
    for tag in tags:
        if chardevs is not None and tag in _CHARDEVS_SET:
            if tag == "console":
                _write_consoles(chardevs, flags, text)
                continue
            found = devices._output(tag)
        else:
            found = by_tag[tag]
        for device in found:
            kind = device.__class__
            shown = _ALWAYS_SHOWN.get(kind)
            if shown is None:
                shown = _ALWAYS_SHOWN[kind] = _always_shown(kind)
            if not shown and (
                device.hidden(flags) or (isinstance(device, RedirFilterDef) and not device.rules)
            ):
                continue
            written = write_device(device, flags, "    ", values)
            if written is None:
                text.nodes([device.to_element(flags)], "    ", path)
            else:
                out.append(written)
    out.append("  </devices>\n")


def _write_consoles(chardevs: Chardevs, flags: int, text: _Text) -> None:
    """``Chardevs.console_elements`` written."""
    serials = chardevs.serials
    hvm = chardevs.os_type == "hvm"
    for index, console in enumerate(chardevs.consoles):
        if hvm and console.target_type in ("serial", "none") and index < len(serials):
            shown, serial = serials[index], True
        else:
            shown, serial = console, False
        written = write_console(shown, serial, flags, "    ", text.values)
        if written is not None:
            text.out.append(written)
            continue
        node = shown.console_element(flags) if serial else shown.to_element(flags)
        text.nodes([node], "    ", ["domain", "devices"])
