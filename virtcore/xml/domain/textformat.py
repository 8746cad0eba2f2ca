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
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import attrgetter, itemgetter

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain.checks import Definition
from virtcore.xml.domain.clock import ClockInfo, emit_clock
from virtcore.xml.domain.common import format_uuid
from virtcore.xml.domain.cpu import emit_cpu
from virtcore.xml.domain.devices.chardev import Chardevs, ChrDef
from virtcore.xml.domain.devices.pipeline import (
    _ALWAYS_SHOWN,
    _CHARDEVS,
    DevicesDef,
    _always_shown,
)
from virtcore.xml.domain.devices.redirdev import RedirFilterDef
from virtcore.xml.domain.devices.registry import FORMAT_ORDER
from virtcore.xml.domain.devices.support import DeviceDef
from virtcore.xml.domain.devices.textwrite import (
    WRITERS,
    RestAtDefault,
    serial_console,
    write_console,
    write_device,
    write_serial,
)
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
_ONLINE = attrgetter("online")


class _Text:
    """The text being written, and the parts built as nodes waiting for their turn."""

    __slots__ = ("out", "pending", "rules", "serialized", "values")

    def __init__(self, rules: FormatRules) -> None:
        self.out: list[str] = []
        self.values: list[str] = []
        self.pending = OutNode("domain")
        """Top-level elements built by ``emit_*`` functions, written by :meth:`flush`."""
        self.rules = rules
        self.serialized = False
        """Whether nodes were written: their text quotes with NUL, to replace at the end."""

    def flush(self) -> None:
        """Write the pending elements (the general route's serializer, at depth 1)."""
        pending = self.pending.children
        if pending:
            write_children(
                pending, "  ", ["domain"], self.out, self.values, compiled_rules(self.rules)
            )
            pending.clear()
            self.serialized = True

    def nodes(self, nodes: list[OutNode], indent: str, path: list[str]) -> None:
        """Write *nodes*, children of the element *path* names, at *indent*."""
        write_children(nodes, indent, path, self.out, self.values, compiled_rules(self.rules))
        self.serialized = True


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
    written = "".join(text.out)
    return written.replace("\x00", "'") if text.serialized else written


def _write(definition: Definition, flags: int, text: _Text) -> None:
    inactive = bool(flags & _INACTIVE) or definition.id is None
    out = text.out
    values = text.values
    pending = text.pending
    waiting = pending.children  # what flush() would write
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
        if waiting:
            text.flush()
    memory = definition.memory
    if memory.max_memory or memory.slots:
        emit_memory(memory, pending, hotplug=True)
        if waiting:
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
        or not all(map(_ONLINE, vcpus.vcpus))
    ):
        emit_vcpus(vcpus, pending)
    else:
        if waiting:
            text.flush()
        placement = vcpus.placement
        attr = "" if placement is None else f" placement='{placement}'"
        out.append(f"  <vcpu{attr}>{vcpus.maximum}</vcpu>\n")
    iothreads = definition.iothreads
    emit_iothreads(iothreads, pending)
    emit_cputune(definition.cputune, vcpus, iothreads, pending)
    emit_numatune(definition.numatune, pending)
    emit_resource(definition.resource, pending)
    emit_sysinfo(definition.sysinfo, pending)
    os_info = definition.os
    if _OS_REST.at_default(os_info):
        if waiting:
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
        if waiting:
            text.flush()
        out.append(f"  <clock offset='{clock.offset}'/>\n")
    else:
        emit_clock(clock, pending)
    if waiting:
        text.flush()
    _write_lifecycle(definition.lifecycle, out)
    emit_pm(definition.pm, pending)
    emit_perf(definition.perf, pending)
    if waiting:
        text.flush()
    assert definition.devices_def is not None
    _write_devices(definition.devices_def, flags | (_INACTIVE if inactive else 0), text)
    emit_seclabels(definition.seclabels, pending)
    emit_keywrap(definition.keywrap, pending)
    emit_launch_security(definition.launch_security, pending)
    if waiting:
        text.flush()
    out.append("</domain>\n")


def _write_lifecycle(lifecycle: dict[str, str | None], out: list[str]) -> None:
    """The lifecycle actions set, in libvirt's order."""
    try:
        poweroff, reboot, crash, lockfailure = _LIFECYCLE_ACTIONS(lifecycle)
    except KeyError:
        pass
    else:
        if poweroff is not None and reboot is not None and crash is not None:
            # The usual domain: the three actions every definition has after its parse.
            text = (
                f"  <on_poweroff>{poweroff}</on_poweroff>\n  <on_reboot>{reboot}</on_reboot>\n"
                f"  <on_crash>{crash}</on_crash>\n"
            )
            if lockfailure is not None:
                text += f"  <on_lockfailure>{lockfailure}</on_lockfailure>\n"
            out.append(text)
            return
    for tag in _LIFECYCLE:
        action = lifecycle.get(tag)
        if action is not None:
            out.append(f"  <{tag}>{action}</{tag}>\n")


_LIFECYCLE_ACTIONS = itemgetter(*_LIFECYCLE)


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
    lines = [line for name, line in _FLAG_LINES if name in values]
    if len(lines) != len(values) or ("apic" in values and features.apic_eoi is not None):
        return False  # a feature with a value, or <apic eoi=>
    text.flush()
    text.out.append("  <features>\n" + "".join(lines) + "  </features>\n")
    return True


_FLAG_LINES = tuple(
    (name, f"    <{name}/>\n")
    for name in sorted((*_FLAG_SET, "apic"), key=_FEATURE_INDEX.__getitem__)
)
"""The features :func:`_write_features` writes, in libvirt's order, with their lines."""


def _write_devices(devices: DevicesDef, flags: int, text: _Text) -> None:
    """``DevicesDef.to_element`` written: known shapes directly, others as nodes."""
    out = text.out
    values = text.values
    emulator = devices.emulator
    if emulator is not None:
        values.append(emulator)
        out.append(f"  <devices>\n    <emulator>{emulator}</emulator>\n")
    else:
        out.append("  <devices>\n")
    chardevs = devices.chardevs
    writer_of = _SHOWN_WRITERS.get
    for found in _kinds(devices.by_tag, chardevs):
        if found is _CHARDEV_LISTS:
            assert chardevs is not None
            _write_chardevs(chardevs, flags, text)
            continue
        for device in found:
            writer = writer_of(device.__class__)
            if writer is None:
                _write_device(device, flags, text)
                continue
            written = writer(device, flags, "    ", values)
            if written is None:
                text.nodes([device.to_element(flags)], "    ", _DEVICES_PATH)
            else:
                out.append(written)
    out.append("  </devices>\n")


def _write_device(device: DeviceDef, flags: int, text: _Text) -> None:
    """Write *device* unless its kind hides it: directly when its writer knows its
    shape, else as its node."""
    kind = device.__class__
    shown = _ALWAYS_SHOWN.get(kind)
    if shown is None:
        shown = _ALWAYS_SHOWN[kind] = _always_shown(kind)
    if not shown and (
        device.hidden(flags) or (isinstance(device, RedirFilterDef) and not device.rules)
    ):
        return
    written = write_device(device, flags, "    ", text.values)
    if written is None:
        text.nodes([device.to_element(flags)], "    ", _DEVICES_PATH)
    else:
        text.out.append(written)


def _kinds(
    by_tag: dict[str, list[DeviceDef]], chardevs: Chardevs | None
) -> Iterable[Sequence[DeviceDef]]:
    """The lists of devices to write, in libvirt's order, most empty ones left out
    (:data:`_CHARDEV_LISTS` standing for the character devices when they are resolved:
    those are written from *chardevs*, not *by_tag*)."""
    try:
        if chardevs is None:
            return filter(None, _ALL_KINDS(by_tag))
        return chain(
            filter(None, _BEFORE_CHARDEVS(by_tag)),
            (_CHARDEV_LISTS,),
            filter(None, _AFTER_CHARDEVS(by_tag)),
        )
    except KeyError:  # a table of some kinds only: the kinds it lacks have no device
        kinds: list[Sequence[DeviceDef]] = [
            by_tag.get(tag, [])
            for tag in FORMAT_ORDER
            if chardevs is None or tag not in _CHARDEV_ORDER
        ]
        if chardevs is not None:
            kinds.insert(_FIRST_CHARDEV, _CHARDEV_LISTS)
        return kinds


_CHARDEV_LISTS: list[DeviceDef] = []
"""Stands for the resolved character devices in :func:`_kinds`."""


def _write_chardevs(chardevs: Chardevs, flags: int, text: _Text) -> None:
    """The serial and parallel ports, consoles and channels (``DevicesDef.to_element``
    from ``Chardevs``); a console showing a serial port written directly takes the
    port's text."""
    shown: list[str | None] = []  # per serial port, its info's text when written directly
    for serial in chardevs.serials:
        if serial.__class__ is ChrDef and _CHR_SHOWN:
            written = write_serial(serial, flags, "    ", text.values)
            if written is not None:
                text.out.append(written[0])
                shown.append(written[1])
                continue
            text.nodes([serial.to_element(flags)], "    ", _DEVICES_PATH)
        else:
            _write_device(serial, flags, text)
        shown.append(None)
    for parallel in chardevs.parallels:
        _write_device(parallel, flags, text)
    _write_consoles(chardevs, flags, text, shown)
    for channel in chardevs.channels:
        _write_device(channel, flags, text)


_DEVICES_PATH = ["domain", "devices"]
_SHOWN_WRITERS = {kind: writer for kind, writer in WRITERS.items() if _always_shown(kind)}
"""The device writers of the classes whose devices are always written (no ``hidden``)."""
_CHR_SHOWN = ChrDef in _SHOWN_WRITERS
_TagLists = Callable[[dict[str, list[DeviceDef]]], tuple[list[DeviceDef], ...]]
_CHARDEV_ORDER = ("serial", "parallel", "console", "channel")
"""The character devices' kinds as :func:`_kinds` gives them, consecutive in
``FORMAT_ORDER`` between the kinds before and after them."""
_FIRST_CHARDEV = FORMAT_ORDER.index(_CHARDEV_ORDER[0])
_AFTER_CHARDEV = _FIRST_CHARDEV + len(_CHARDEV_ORDER)
if FORMAT_ORDER[_FIRST_CHARDEV:_AFTER_CHARDEV] != _CHARDEV_ORDER or set(_CHARDEVS) != set(
    _CHARDEV_ORDER
):
    raise ImportError("the character devices are no longer consecutive in FORMAT_ORDER")
_ALL_KINDS: _TagLists = itemgetter(*FORMAT_ORDER)
_BEFORE_CHARDEVS: _TagLists = itemgetter(*FORMAT_ORDER[:_FIRST_CHARDEV])
_AFTER_CHARDEVS: _TagLists = itemgetter(*FORMAT_ORDER[_AFTER_CHARDEV:])


def _write_consoles(chardevs: Chardevs, flags: int, text: _Text, shown: list[str | None]) -> None:
    """``Chardevs.console_elements`` written; *shown* holds, per serial port, the text of
    its device info when the port was written directly."""
    serials = chardevs.serials
    hvm = chardevs.os_type == "hvm"
    for index, console in enumerate(chardevs.consoles):
        if hvm and console.target_type in ("serial", "none") and index < len(serials):
            device, serial = serials[index], True
            info = shown[index]
            if info is not None:
                text.out.append(serial_console(device, info, "    "))
                continue
        else:
            device, serial = console, False
        written = write_console(device, serial, flags, "    ", text.values)
        if written is not None:
            text.out.append(written)
            continue
        node = device.console_element(flags) if serial else device.to_element(flags)
        text.nodes([node], "    ", _DEVICES_PATH)
