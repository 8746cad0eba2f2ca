"""Domain XML for the test driver: parsing, libvirt's defaults, and libvirt's formatting.

:meth:`DomainDef.parse` reads a ``<domain>`` document the way libvirt 9.0
does with ``VIR_DOMAIN_DEF_PARSE_INACTIVE`` for its test driver, reports
libvirt's errors (codes, domains and wording) for the checks it models, and
fills in libvirt's defaults: a generated UUID, ``currentMemory`` clamped to
``memory``, ``vcpu placement='static'``, the default architecture ``i686``,
``<boot dev='hd'/>`` for HVM guests without boot order, ``<clock
offset='utc'/>``, lifecycle actions, generated MAC addresses and ``testnetN``
interface names, drive addresses for IDE/SCSI/SATA/floppy disks and the
implicit disk controllers they need (device normalization lives in
:mod:`.devicenorm`).

:meth:`DomainDef.format` writes the document in libvirt's element order with
its formatting quirks (``<devices>`` and other containers are never
self-closed). Elements that are not modelled are kept verbatim in content and
re-emitted in libvirt's position for known names; unknown top-level elements
survive at the end of the document (libvirt itself drops them). Elements in
the test driver's namespace (``test:runstate``, ``test:transient``,
``test:hasmanagedsave``) are read into :class:`TestNamespace` and not
written back, exactly like libvirt; ``test:domainsnapshot`` elements are
kept for :mod:`.runtime`, which turns them into the domain's snapshots. The
sections the tuning calls change (``<metadata>``, IOThreads, ``<cputune>``,
``<perf>``) are modelled by :class:`~.domainparts.DomainTuning`; the other
top-level sections are read by :mod:`.domainsections`.

A definition may keep ``<os>``, ``<features>`` and ``<clock>`` as their
serialisation (:meth:`DomainDef.defer_sections`: copies and running domains'
live definitions do); reading the attribute rebuilds the tree on first use and
:meth:`DomainDef.format` writes kept text without building one.
"""

from __future__ import annotations

import copy
import threading
import uuid as _uuid
from collections.abc import Callable
from dataclasses import dataclass, field, is_dataclass
from typing import Any, cast

from lxml import etree

from virtcore.drivers.test.devicenorm import DEVICE_ORDER, normalize_devices
from virtcore.drivers.test.domainparts import DomainTuning, format_cpuset
from virtcore.drivers.test.domainsections import (
    CRASH_ACTIONS,
    POWEROFF_ACTIONS,
    TEST_NAMESPACE,
    TOP_ORDER,
    VIRT_TYPES,
    TestNamespace,
    TopLevel,
    os_section,
    parse_action,
    parse_clock,
    parse_features,
    parse_memory,
    parse_namespace,
    parse_os,
    parse_vcpu,
    top_text,
)
from virtcore.drivers.test.resources import write_device
from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    child,
    elements,
    escape,
    format_element,
    format_serialised,
    needs_escape,
    parse_xml,
    require_uuid,
    restore_element,
    restore_text,
    words,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    VirtError,
    XMLError,
)

__all__ = ["DEVICE_ORDER", "TEST_NAMESPACE", "DomainDef", "TestNamespace"]

_DOM = ErrorDomain.DOMAIN

# Top-level elements DomainDef models itself (the rest is carried through).
MODELLED = words("name uuid title description memory currentMemory vcpu os clock features devices")
KEEP_OPEN = ("devices", "bandwidth")
# Top-level elements the parser models itself (the rest are kept as they are).
_MODELLED = frozenset((*MODELLED, "on_poweroff", "on_reboot", "on_crash", *DomainTuning.MODELLED))


# The sections held as trees that a definition may keep serialised until used.
DEFERRABLE = ("os_elem", "features", "clock")


_IMMUTABLE = (str, int, float, frozenset, bytes, type(None))
_SHARED = frozenset({str, int, bool, float, frozenset, bytes, type(None)})


def _duplicate(value: Any) -> Any:
    """A deep copy of parsed definition data (containers, dataclasses, elements).

    Much cheaper than :func:`copy.deepcopy` for the shapes a definition holds:
    immutable values are shared and dataclasses are rebuilt field by field.
    """
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is list:
        return [_duplicate(item) for item in value]
    if kind is dict:
        return {key: _duplicate(item) for key, item in value.items()}
    if isinstance(value, etree._Element):
        return copy.deepcopy(value)
    if isinstance(value, _IMMUTABLE):  # enumerations
        return value
    if is_dataclass(value) and hasattr(value, "__dict__"):
        dup = object.__new__(kind)
        vars(dup).update({name: _duplicate(item) for name, item in vars(value).items()})
        return dup
    return copy.deepcopy(value)


@dataclass
class DomainDef:
    """One parsed and normalised domain definition."""

    virt_type: str
    name: str
    uuid: str
    memory_kib: int
    current_kib: int
    vcpus: int
    vcpus_current: int
    os_type: str
    os_arch: str
    sections: dict[str, etree._Element | bytes | str | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Where the ``os_elem``, ``features`` and ``clock`` properties keep their values: a
    tree, ``None``, the tree's serialisation until first use (:meth:`defer_sections`),
    or - for the plain ``<os>`` and ``<clock>`` most definitions have - the section's
    text as libvirt writes it in a domain, which the parser makes without building a
    tree and :meth:`format` copies. Reading the attribute builds the tree from
    either. Before the fields it serves, so that ``__init__`` creates it first."""
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "destroy"
    title: str | None = None
    description: str | None = None
    vcpu_attrs: dict[str, str] = field(default_factory=dict)
    os_elem: etree._Element | None = None
    clock: etree._Element | None = None
    features: etree._Element | None = None
    devices: list[etree._Element] = field(default_factory=list)
    passthrough: dict[str, list[etree._Element]] = field(default_factory=dict)
    unknown: list[etree._Element] = field(default_factory=list)
    namespace: TestNamespace = field(default_factory=TestNamespace)
    tuning: DomainTuning = field(default_factory=DomainTuning)
    formatted: tuple[int, int | None, str] | None = field(default=None, repr=False, compare=False)
    """``(host generation, live id, text)`` of the last :meth:`format` a host cached."""
    copied_from: str | None = field(default=None, repr=False, compare=False)
    """For a definition :meth:`copy` made: the document it was parsed from."""

    def kept_sections(self) -> frozenset[str]:
        """The sections held serialised or as text right now (by attribute name)."""
        return frozenset(
            name for name, value in self.sections.items() if type(value) in (bytes, str)
        )

    def defer_sections(self) -> None:
        """Keep ``<os>``, ``<features>`` and ``<clock>`` serialised until something uses them.

        A running domain's live definition is mostly left alone and dropped
        when the domain stops; holding these sections as immutable text instead
        of lxml trees makes that drop cheap (no tree to free) while the live
        definition still shares nothing with the persistent one. Reading one of
        the attributes rebuilds its tree, once; assigning one replaces what was
        kept.
        """
        sections = self.sections
        for name, value in sections.items():
            if value is not None and not isinstance(value, (bytes, str)):
                sections[name] = etree.tostring(value, with_tail=False)

    # -- parsing -------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | bytes, *, ifnames: bool = True) -> DomainDef:
        """Parse a domain XML document (``virDomainDefParseString``).

        With *ifnames* (the default) interfaces without a host-side name get
        ``testnetN``, as the test driver's define, create and restore calls
        do; ``ifnames=False`` parses like libvirt's bare parser.
        """
        root = parse_xml(text, "(domain_definition)", domain=_DOM, root="domain")
        return cls.from_element(root, ifnames=ifnames)

    @classmethod
    def from_element(cls, root: etree._Element, *, ifnames: bool = True) -> DomainDef:
        """Build a definition from an already parsed ``<domain>`` element."""
        virt_type = root.get("type")
        if virt_type is None:
            raise InternalError("missing domain type attribute", domain=_DOM)
        if virt_type not in VIRT_TYPES:
            raise ConfigUnsupportedError(f"invalid domain type {virt_type}", domain=_DOM)
        namespace = parse_namespace(root)
        # The first child of each name, as child() would find it: one pass instead of a
        # search per section.
        top: TopLevel = {}
        for sub in root:
            tag = sub.tag
            if type(tag) is str and tag not in top:
                top[tag] = sub

        name = top_text(top, "name")
        if not name:
            raise VirtError(code=ErrorNumber.NO_NAME, domain=_DOM)
        uuid_elem = top.get("uuid")
        uuid = require_uuid(uuid_elem.text or "") if uuid_elem is not None else None
        title = top_text(top, "title")
        if title is not None and "\n" in title:
            raise XMLError("Domain title can't contain newlines", domain=_DOM)

        memory_kib, current_kib = parse_memory(top)
        vcpus, vcpus_current, vcpu_attrs = parse_vcpu(top)
        os_src, os_type, os_arch = parse_os(top)
        actions = {
            tag: parse_action(top, tag, default, allowed)
            for tag, default, allowed in (
                ("on_poweroff", "destroy", POWEROFF_ACTIONS),
                ("on_reboot", "restart", POWEROFF_ACTIONS),
                ("on_crash", "destroy", CRASH_ACTIONS),
            )
        }
        modelled = _MODELLED
        tuning = DomainTuning.parse(top, vcpu_attrs.get("cpuset"))
        passthrough: dict[str, list[etree._Element]] = {}
        unknown: list[etree._Element] = []
        for sub in elements(root):
            if sub.tag.startswith("{"):
                if not sub.tag.startswith("{" + TEST_NAMESPACE + "}"):
                    unknown.append(copy.deepcopy(sub))
                continue
            if sub.tag in modelled:
                continue
            if sub.tag in TOP_ORDER:
                passthrough.setdefault(sub.tag, []).append(copy.deepcopy(sub))
            else:
                unknown.append(copy.deepcopy(sub))

        devices_elem = top.get("devices")
        devices = normalize_devices(devices_elem, ifnames=ifnames)
        default_boot = (
            os_type == "hvm"
            and next(os_src.iterchildren("boot"), None) is None
            and not any(child(dev, "boot") is not None for dev in devices)
        )
        os_kept = os_section(os_src, os_type, os_arch, default_boot)

        if "/" in name:
            raise XMLError(f"name {name} cannot contain '/'", domain=_DOM)
        clock = parse_clock(top)
        definition = cls(
            virt_type=virt_type,
            name=name,
            uuid=uuid if uuid is not None else str(_uuid.uuid4()),
            memory_kib=memory_kib,
            current_kib=current_kib,
            vcpus=vcpus,
            vcpus_current=vcpus_current,
            os_type=os_type,
            os_arch=os_arch,
            on_poweroff=actions["on_poweroff"],
            on_reboot=actions["on_reboot"],
            on_crash=actions["on_crash"],
            title=title,
            description=top_text(top, "description"),
            vcpu_attrs=vcpu_attrs,
            features=parse_features(top),
            devices=devices,
            passthrough=passthrough,
            unknown=unknown,
            namespace=namespace,
            tuning=tuning,
        )
        # Plain sections are kept as their text (see DomainDef.sections).
        definition.sections["os_elem"] = os_kept
        definition.sections["clock"] = clock
        return definition

    def copy(self) -> DomainDef:
        """An independent copy, made like libvirt's ``virDomainDefCopy``.

        libvirt copies a definition by formatting and parsing it again, so
        the copy is normalised once more: disks whose bus was implied by
        their name are now ordered by their explicit bus, for instance.
        """
        text = self.format()
        if self.copied_from == text:
            # This definition was parsed from the very document it formats to now, and
            # everything in it but the test namespace (taken from self below) and caches
            # is written by format(): parsing the document again would rebuild it as is.
            clone = self.duplicate()
        else:
            root = parse_xml(text, "(domain_definition)", domain=_DOM, root="domain")
            clone = DomainDef.from_element(root)
            clone.copied_from = text
        clone.unknown = _duplicate(self.unknown)
        clone.namespace = _duplicate(self.namespace)
        # Copies are kept (a stopped domain's persistent definition, snapshots) far more
        # than they are changed: they start with their sections serialised.
        clone.defer_sections()
        return clone

    def copies_unchanged(self) -> bool:
        """Whether :meth:`copy` is sure to format exactly like this definition.

        libvirt's copy (format, then parse) is a fixed point except for disk
        order: the parser groups disks by the bus their document states,
        and a formatted document states every bus, so a second disk may
        move (see :func:`~virtcore.drivers.test.devicenorm.normalize_devices`).
        With at most one disk nothing can move.
        """
        disks = 0
        for dev in self.devices:
            if dev.tag == "disk":
                disks += 1
                if disks > 1:
                    return False
        return True

    def duplicate(self) -> DomainDef:
        """A structural deep copy: equal to this definition, sharing nothing mutable."""
        dup = object.__new__(DomainDef)
        fields = {name: _duplicate(value) for name, value in vars(self).items()}
        fields["formatted"] = None
        vars(dup).update(fields)
        return dup

    def replace_devices(self, devices: list[etree._Element]) -> None:
        """Install *devices*, normalised as the parser would (addresses, controllers, names)."""
        holder = etree.Element("devices")
        holder.extend(copy.deepcopy(dev) for dev in devices)
        self.devices = normalize_devices(holder)

    # -- formatting ----------------------------------------------------------

    def format(self, live_id: int | None = None) -> str:
        """The document as ``virDomainGetXMLDesc`` prints it.

        *live_id* is the running domain's id (printed as ``id='N'``); pass
        ``None`` for an inactive definition or ``VIR_DOMAIN_XML_INACTIVE``.
        """
        untuned = self.tuning.writes_nothing()
        if untuned and not self.passthrough and not self.unknown:
            return self._format_plain(live_id)
        return self._format_sections(live_id, untuned)

    def _format_sections(self, live_id: int | None, untuned: bool) -> str:
        """:meth:`format` section by section (*untuned*: the tuning writes nothing)."""
        out = XMLWriter()
        out.open("domain", [("type", self.virt_type), ("id", live_id)])
        passthrough = self.passthrough
        # One dispatch per top-level section, in libvirt's order (TOP_ORDER).
        for tag, write in _TOP_WRITERS_UNTUNED if untuned else _TOP_WRITERS:
            if write is not None:
                write(self, out, tag)
            elif passthrough:
                for elem in passthrough.get(tag, ()):
                    out.element(elem)
        for elem in self.unknown:
            out.element(elem)
        out.close("domain")
        return out.getvalue()

    def _format_plain(self, live_id: int | None) -> str:
        """:meth:`format` for a definition with nothing carried through and no tuning.

        Most definitions: the text of the modelled sections (``_PLAIN_ORDER``,
        i.e. TOP_ORDER less everything else) built directly, with no writer
        and no per-section dispatch; the output is the same byte for byte.
        """
        texts: tuple[str | None, ...] = (
            *(self.virt_type, self.name, self.uuid),
            *(self.on_poweroff, self.on_reboot, self.on_crash),
        )
        # One escape check for them all: nearly always there is nothing to escape.
        if None in texts or needs_escape("".join(cast("tuple[str, ...]", texts))):
            texts = tuple(None if text is None else escape(text) for text in texts)
        virt_type, name, uuid, on_poweroff, on_reboot, on_crash = texts
        live = "" if live_id is None else f" id='{live_id}'"
        # The usual document is a handful of f-strings: the lines are joined at once.
        parts = [f"<domain type='{virt_type}'{live}>"]
        add = parts.append
        if name is not None:
            add(f"  <name>{name}</name>")
        if uuid is not None:
            add(f"  <uuid>{uuid}</uuid>")
        if self.title is not None:
            add(f"  <title>{escape(self.title)}</title>")
        if self.description is not None:
            add(f"  <description>{escape(self.description)}</description>")
        if self.tuning.cpumask is None and not self.vcpu_attrs and self.vcpus_current == self.vcpus:
            add(
                f"  <memory unit='KiB'>{self.memory_kib}</memory>\n"
                f"  <currentMemory unit='KiB'>{self.current_kib}</currentMemory>\n"
                f"  <vcpu placement='static'>{self.vcpus}</vcpu>"
            )
        else:
            add(
                f"  <memory unit='KiB'>{self.memory_kib}</memory>\n"
                f"  <currentMemory unit='KiB'>{self.current_kib}</currentMemory>"
            )
            vcpu = XMLWriter(2)
            self._write_vcpu(vcpu, "vcpu")
            add(vcpu.getvalue()[:-1])
        sections = self.sections
        for section in DEFERRABLE:
            kept = sections[section]
            if isinstance(kept, str):
                add(kept)
            elif isinstance(kept, bytes):
                add(format_serialised(kept, 2))
            elif kept is not None:
                add(format_element(kept, 2))
        if on_poweroff is not None and on_reboot is not None and on_crash is not None:
            add(
                f"  <on_poweroff>{on_poweroff}</on_poweroff>\n"
                f"  <on_reboot>{on_reboot}</on_reboot>\n"
                f"  <on_crash>{on_crash}</on_crash>"
            )
        else:
            for tag, value in (
                ("on_poweroff", on_poweroff),
                ("on_reboot", on_reboot),
                ("on_crash", on_crash),
            ):
                if value is not None:
                    add(f"  <{tag}>{value}</{tag}>")
        if self.devices:
            devices = XMLWriter(2)
            self._write_devices(devices, "devices")
            add(devices.getvalue()[:-1])
            add("</domain>\n")
        else:
            add("  <devices>\n  </devices>\n</domain>\n")
        return "\n".join(parts)

    def _format_top(self, out: XMLWriter, tag: str) -> None:
        """Write the top-level section *tag* (used for sections without a dedicated writer)."""
        if self.tuning.format_section(out, tag):
            return
        for elem in self.passthrough.get(tag, ()):
            out.element(elem)

    def _write_vcpu(self, out: XMLWriter, tag: str) -> None:
        cpumask = self.tuning.cpumask
        attrs = [
            ("placement", self.vcpu_attrs.get("placement", "static")),
            ("cpuset", format_cpuset(cpumask) if cpumask is not None else None),
        ]
        if self.vcpus_current != self.vcpus:
            attrs.append(("current", str(self.vcpus_current)))
        out.text("vcpu", self.vcpus, attrs)

    def _write_devices(self, out: XMLWriter, tag: str) -> None:
        out.open("devices")
        for dev in self.devices:
            write_device(out, dev, KEEP_OPEN)
        out.close("devices")


_RESTORING = threading.Lock()


def _section_property(name: str) -> property:
    """The attribute *name* of a definition: the instance's value, else its kept text rebuilt.

    A property only on these sections (the generated ``__init__`` keeps the
    defaults itself and assigns through it): a ``__getattr__``, or reading the
    instance ``__dict__``, would slow down every other attribute read.
    """

    def get(definition: DomainDef) -> etree._Element | None:
        value = definition.sections[name]
        if value is None or isinstance(value, etree._Element):
            return value
        # Rebuilt once; a concurrent first use keeps one tree.
        elem = restore_element(value) if type(value) is bytes else restore_text(str(value))
        with _RESTORING:
            value = definition.sections[name]
            if value is None or isinstance(value, etree._Element):
                return value
            definition.sections[name] = elem
        return elem

    def put(definition: DomainDef, value: etree._Element | None) -> None:
        definition.sections[name] = value

    return property(get, put)


for _section in DEFERRABLE:
    setattr(DomainDef, _section, _section_property(_section))


def _write_optional_text(attr: str) -> Callable[[DomainDef, XMLWriter, str], None]:
    def write(definition: DomainDef, out: XMLWriter, tag: str) -> None:
        value = getattr(definition, attr)
        if value is not None:
            out.text(tag, value)

    return write


def _write_section(name: str) -> Callable[[DomainDef, XMLWriter, str], None]:
    def write(definition: DomainDef, out: XMLWriter, tag: str) -> None:
        kept = definition.sections[name]
        if type(kept) is str:
            out.lines(kept)
        elif kept is not None:
            out.element(getattr(definition, name))

    return write


def _write_kib(attr: str) -> Callable[[DomainDef, XMLWriter, str], None]:
    def write(definition: DomainDef, out: XMLWriter, tag: str) -> None:
        out.line(f"<{tag} unit='KiB'>{getattr(definition, attr)}</{tag}>")

    return write


_SPECIAL_WRITERS: dict[str, Callable[[DomainDef, XMLWriter, str], None]] = {
    "name": _write_optional_text("name"),
    "uuid": _write_optional_text("uuid"),
    "title": _write_optional_text("title"),
    "description": _write_optional_text("description"),
    "memory": _write_kib("memory_kib"),
    "currentMemory": _write_kib("current_kib"),
    "vcpu": DomainDef._write_vcpu,
    "os": _write_section("os_elem"),
    "features": _write_section("features"),
    "clock": _write_section("clock"),
    "on_poweroff": _write_optional_text("on_poweroff"),
    "on_reboot": _write_optional_text("on_reboot"),
    "on_crash": _write_optional_text("on_crash"),
    "devices": DomainDef._write_devices,
}
# None: a section only ever carried through verbatim (written inline by format()).
_TOP_WRITERS: tuple[tuple[str, Callable[[DomainDef, XMLWriter, str], None] | None], ...] = tuple(
    (
        tag,
        _SPECIAL_WRITERS.get(tag)
        or (DomainDef._format_top if tag in DomainTuning.MODELLED else None),
    )
    for tag in TOP_ORDER
)
# The same for definitions whose tuning writes nothing: the tuning sections are skipped.
_TOP_WRITERS_UNTUNED = tuple(
    (tag, write) for tag, write in _TOP_WRITERS if tag not in DomainTuning.MODELLED
)
# ... and without anything carried through: the sections DomainDef._format_plain writes.
_PLAIN_ORDER = tuple(tag for tag, write in _TOP_WRITERS_UNTUNED if write is not None)
