"""The domain document: :class:`Domain`, a typed view of ``<domain>`` with libvirt's rules.

A :class:`Domain` wraps the live lxml tree of a ``<domain>`` document.
Its properties read and edit the tree in place (see docs/xml-models.md);
whatever the model does not describe - newer elements, ``<metadata>``,
``qemu:commandline`` - stays in the tree and survives :meth:`to_string`.

On top of the view, the class behaves like libvirt's domain configuration
code for a driver:

* :meth:`Domain.parse` reads untrusted text, checks it as libvirt 9.0's
  ``virDomainDefineXML`` does, devices included (raising libvirt's errors,
  codes and wording), and stores in the document what libvirt generates on
  define: a missing UUID or generation id, missing MAC addresses;
* :meth:`Domain.format` (alias :meth:`Domain.to_libvirt_xml`) returns
  exactly what ``virDomainGetXMLDesc`` prints for the definition - libvirt's
  element order, defaults and spelling, with the ``VIR_DOMAIN_XML_*`` flags;
* :meth:`Domain.definition` is the checked
  :class:`~virtcore.xml.domain.checks.Definition` record (effective values:
  vCPU counts, memory sizes, lifecycle actions).

UUID and MAC generation are injectable (``uuid_factory``,
``mac_generator``) so tests are deterministic. ``Domain.devices`` is the
devices model (:class:`~virtcore.xml.domain.devices.Devices`).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from typing import Any, Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import VirtError
from virtcore.xml.builder import (
    INT,
    UINT,
    XMLChild,
    XMLChildList,
    XMLNode,
    XMLProperty,
)
from virtcore.xml.childindex import all_children
from virtcore.xml.domain.checks import Definition, UUIDFactory, new_uuid, read_definition
from virtcore.xml.domain.clock import Clock
from virtcore.xml.domain.common import format_uuid
from virtcore.xml.domain.cpu import CPU
from virtcore.xml.domain.devices import Devices
from virtcore.xml.domain.devices.interface import Interface
from virtcore.xml.domain.features import Features
from virtcore.xml.domain.formatter import RULES, DevicesFormatter, format_definition
from virtcore.xml.domain.memory import (
    CURRENT_MEMORY,
    DUMP_CORE,
    MAX_MEMORY,
    MEMORY,
    MemoryBacking,
    MemTune,
)
from virtcore.xml.domain.misc import (
    KeyWrap,
    LaunchSecurity,
    PowerManagement,
    SecLabel,
    SysInfo,
)
from virtcore.xml.domain.os import OS, IDMap
from virtcore.xml.domain.tuning import BlkioTune, CPUTune, NumaTune, Resource
from virtcore.xml.domain.vcpu import DefaultIOThread, IOThreadID, VcpuInfo
from virtcore.xml.node import _string_value
from virtcore.xml.paths import insert_element

__all__ = ["TOP_ORDER", "Domain"]

logger = logging.getLogger(__name__)

TOP_ORDER = (
    "@type", "@id", "name", "uuid", "genid", "title", "description", "metadata", "maxMemory",
    "memory", "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus",
    "iothreads", "iothreadids", "defaultiothread", "cputune", "numatune", "resource",
    "sysinfo", "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock",
    "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices",
    "seclabel", "keywrap", "launchSecurity",
)  # fmt: skip
"""The order libvirt writes the children of ``<domain>`` in."""


_LIVE_DEVICES = {"inactive": False}
"""Device options reading a running domain's devices (libvirt's status parse)."""


_TEST_IFNAMES: dict[str, Any] = {"test_ifnames": True}
"""Device options naming interfaces as libvirt's test driver does (never changed)."""


class _MacMissing(Exception):
    """An interface without a MAC address was reached by the first read of a parse."""


def _no_mac() -> str:
    """The MAC generator of a parse's first read: the tree must have the address first."""
    raise _MacMissing


_FIRST_READ: dict[str, Any] = {"mac_generator": _no_mac}
"""Device options of a parse's first read (never changed)."""

_FIRST_READ_TEST_IFNAMES: dict[str, Any] = {"mac_generator": _no_mac, "test_ifnames": True}
"""Device options of a parse's first read naming interfaces (never changed)."""


_UNSEALING = threading.RLock()
"""Held while a just-parsed tree is completed on its first hand-out (:meth:`Domain._find`)."""


def _snapshot(root: etree._Element) -> str:
    """The whole tree as text: a kept definition stands while this stays the same.

    Any change to an element, attribute, text, comment or namespace
    declaration below *root* changes the serialization (the unicode form is
    the cheapest lxml writes).
    """
    return etree.tostring(root, encoding="unicode")


def _macs_missing(root: etree._Element) -> bool:
    """Whether an interface lacks ``<mac address=...>`` (as the model's look would find)."""
    for devices in all_children(root, "devices"):
        for interface in all_children(devices, "interface"):
            for mac in all_children(interface, "mac"):
                if mac.get("address") is not None:
                    break
            else:
                return True
    return False


class Domain(XMLNode):
    """A ``<domain>`` document: typed properties over the live tree plus libvirt's rules."""

    TAG = "domain"
    PARSE_URL = "(domain_definition)"
    ERROR_DOMAIN = ErrorDomain.DOMAIN
    SCHEMA = "domain.rng"
    FORMAT_RULES = RULES
    KEEP_EMPTY = frozenset({"devices"})
    XML_ORDER = {"": TOP_ORDER, "maxMemory": ("@slots", "@unit"), "memory": ("@dumpCore", "@unit")}

    virt_type = XMLProperty("./@type", doc="The hypervisor type (``test``, ``kvm``, ...).")
    id = XMLProperty("./@id", INT, doc="The id of a running domain.")
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    genid = XMLProperty("./genid", doc="The VM generation id (may be empty: generate one).")
    title = XMLProperty("./title")
    description = XMLProperty("./description")
    max_memory = MAX_MEMORY
    max_memory_slots = XMLProperty("./maxMemory/@slots", UINT)
    memory = MEMORY
    memory_dump_core = DUMP_CORE
    current_memory = CURRENT_MEMORY
    blkiotune = XMLChild(BlkioTune)
    memtune = XMLChild(MemTune)
    memory_backing = XMLChild(MemoryBacking)
    vcpus = XMLProperty("./vcpu", UINT, doc="The maximum number of vCPUs.")
    vcpu_placement = XMLProperty("./vcpu/@placement")
    vcpu_cpuset = XMLProperty("./vcpu/@cpuset")
    vcpus_current = XMLProperty("./vcpu/@current", UINT)
    vcpu_list = XMLChildList(VcpuInfo, "./vcpus/vcpu")
    iothreads = XMLProperty("./iothreads", UINT)
    iothread_ids = XMLChildList(IOThreadID, "./iothreadids/iothread")
    default_iothread = XMLChild(DefaultIOThread)
    cputune = XMLChild(CPUTune)
    numatune = XMLChild(NumaTune)
    resource = XMLChild(Resource)
    sysinfo = XMLChildList(SysInfo, "./sysinfo")
    bootloader = XMLProperty("./bootloader")
    bootloader_args = XMLProperty("./bootloader_args")
    os = XMLChild(OS)
    idmap = XMLChild(IDMap)
    features = XMLChild(Features)
    cpu = XMLChild(CPU)
    clock = XMLChild(Clock)
    on_poweroff = XMLProperty("./on_poweroff")
    on_reboot = XMLProperty("./on_reboot")
    on_crash = XMLProperty("./on_crash")
    on_lockfailure = XMLProperty("./on_lockfailure")
    pm = XMLChild(PowerManagement)
    seclabels = XMLChildList(SecLabel, "./seclabel")
    keywrap = XMLChild(KeyWrap)
    launch_security = XMLChild(LaunchSecurity)
    devices = XMLChild(Devices, doc="The ``<devices>`` container and its device lists.")

    @property
    def metadata(self) -> etree._Element | None:
        """The ``<metadata>`` element itself (opaque application data), if present."""
        found = self._evaluate("./metadata")
        return found if isinstance(found, etree._Element) else None

    @property
    def perf_events(self) -> dict[str, bool]:
        """``<perf>`` events as name -> enabled."""
        events: dict[str, bool] = {}
        for event in self.xpath("./perf/event"):
            name, enabled = event.get("name"), event.get("enabled")
            if name and enabled in ("yes", "no"):
                events[name] = enabled == "yes"
        return events

    # -- libvirt's behaviour ----------------------------------------------------------

    @classmethod
    def parse(
        cls,
        text: str | bytes,
        *,
        uuid_factory: UUIDFactory = new_uuid,
        mac_generator: Callable[[], str] | None = None,
        validate_schema: bool = False,
        inactive: bool = True,
        test_ifnames: bool = False,
        validate: bool = True,
    ) -> Self:
        """Parse and check *text* as libvirt 9.0's ``virDomainDefineXML`` does.

        Raises libvirt's errors (syntax, schema with *validate_schema*, and
        every check of :func:`~virtcore.xml.domain.checks.read_definition`,
        devices included). What libvirt generates on define is stored in the
        document, so the definition keeps it: a missing ``<uuid>`` (and an
        empty ``<genid/>``) from *uuid_factory*, missing interface MAC
        addresses from *mac_generator* (random ``52:54:00`` addresses by
        default) and, with *test_ifnames*, the ``testnet<N>`` names libvirt's
        test driver gives interfaces without a target. With *inactive* the
        ``id`` attribute is dropped, as libvirt ignores it.

        libvirt parses, then runs the post-parse (its own and the driver's
        callbacks), then validates (``virDomainDefValidate``). A driver with
        a post-parse of its own passes ``validate=False``, completes the
        document and then calls :meth:`validate`: a definition that relies
        on the driver's defaults (a USB controller the driver adds) is then
        accepted as libvirt accepts it, and errors come in libvirt's order.
        """
        domain = cls.from_xml(text, validate_schema=validate_schema)
        root = domain.element
        # The usual document gives every interface its MAC address: it is read once, by a
        # read that stops at the first interface without one (the generator is the
        # caller's only once the addresses are in the tree, as libvirt's define keeps
        # them). The factory's UUIDs are recorded, so that a read made again gets them.
        made: list[bytes] = []

        def recording() -> bytes:
            value = uuid_factory()
            made.append(value)
            return value

        options = _FIRST_READ_TEST_IFNAMES if test_ifnames else _FIRST_READ
        try:
            definition: Definition | None = read_definition(
                root,
                uuid_factory=recording,
                inactive=inactive,
                device_options=options,
                validate=validate,
            )
        except _MacMissing:
            definition = None
        except VirtError:
            if not _macs_missing(root):
                raise
            definition = None  # the read of the completed tree raises what libvirt does
        if definition is None:
            if mac_generator is not None:
                domain.devices.assign_macs(mac_generator)
            else:
                domain.devices.assign_macs()
            replay = iter(made)

            def replaying() -> bytes:
                value = next(replay, None)
                return uuid_factory() if value is None else value

            definition = read_definition(
                root,
                uuid_factory=replaying,
                inactive=inactive,
                device_options=_TEST_IFNAMES if test_ifnames else None,
                validate=validate,
            )
        # No one but this method has touched the tree yet: the definition is kept without
        # the snapshot that detects later changes, and what the define stores in the tree
        # (the generated UUID and names, the id dropped) is written, until someone can see
        # the tree (_find).
        domain.__dict__["_kept_definitions"] = {False: (None, definition, validate)}
        domain.__dict__["_unstored"] = (definition, test_ifnames, inactive)
        domain._sealed = True
        return domain

    def _store_generated(self, definition: Definition, test_ifnames: bool, inactive: bool) -> None:
        """Write into the tree what :meth:`parse` generated for *definition*."""
        root = self._element
        assert root is not None
        if test_ifnames:
            self._store_ifnames(definition)
        # What the uuid property reads (the first <uuid>'s string value), without its XPath.
        uuid_node = next(root.iterchildren("uuid"), None)
        if uuid_node is None or not _string_value(uuid_node).strip():
            self.uuid = format_uuid(definition.uuid)
        if definition.genid is not None and not self.genid:
            self.genid = format_uuid(definition.genid)
        if inactive and root.get("id") is not None:
            del self.id

    def validate(self) -> Definition:
        """Validate the document as it is now (libvirt's ``virDomainDefValidate``).

        The step after a driver's post-parse of a document parsed with
        ``validate=False``. Raises libvirt's error for the first problem;
        otherwise returns the checked definition and keeps it (see
        :meth:`keep_definition`).
        """
        definition = self.definition()
        self.keep_definition(definition)
        return definition

    def keep_definition(
        self, definition: Definition, *, validated: bool = True, live: bool = False
    ) -> None:
        """Keep *definition* as what this document defines, until the tree changes.

        :meth:`format` and :meth:`check` use the kept definition instead of
        reading the tree again. A driver whose processing holds more than
        the tree can say keeps its result this way: libvirt's qemu driver,
        for one, appends the controllers it adds after those of the
        document, an order that reading the document back would sort away.
        Any change to the tree discards the kept definition. *validated*
        says whether *definition* went through validation (an unvalidated
        one is validated again before it is formatted); *live* whether it
        was read as a running domain's definition (:meth:`definition`).
        """
        kept: dict[bool, tuple[str | None, Definition, bool]] = self.__dict__.setdefault(
            "_kept_definitions", {}
        )
        kept[live] = (_snapshot(self.element), definition, validated)

    _sealed = False
    """Whether the tree is as :meth:`parse` read it, unseen by anyone else: its kept
    definition then has no snapshot yet, and what the parse generated is not in the tree
    yet (see :meth:`_find`)."""

    def _find(self) -> etree._Element | None:
        """The element, as :class:`~virtcore.xml.node.XMLNode` finds it.

        Every way to the tree - :attr:`element`, the properties, the child
        models, XPath queries - passes here. A tree just parsed is handed
        out for the first time here: what the parse generated (UUID,
        generation id, interface names; the ``id`` dropped) is written into
        it, then the snapshot its kept definition is compared with (to
        notice changes) is taken, before any change.
        """
        if self._sealed:
            # One thread completes the tree while others wait; the writes below come back
            # here (the lock is re-entrant) and find the tree being completed.
            with _UNSEALING:
                if self._sealed and not self.__dict__.get("_unsealing"):
                    self.__dict__["_unsealing"] = True
                    try:
                        self._unseal()
                    finally:
                        del self.__dict__["_unsealing"]
                    self._sealed = False
        return super()._find()

    def _unseal(self) -> None:
        """Write what the parse generated into the tree, then take the kept definition's
        snapshot (see :meth:`_find`)."""
        unstored = self.__dict__.pop("_unstored", None)
        if unstored is not None:
            self._store_generated(*unstored)
        kept = self.__dict__.get("_kept_definitions")
        if kept and self._element is not None:
            snapshot = _snapshot(self._element)
            for live, (text, definition, validated) in list(kept.items()):
                if text is None:
                    kept[live] = (snapshot, definition, validated)

    def __copy__(self) -> Self:
        """A model sharing this one's tree: the tree counts as handed out (see :meth:`_find`)."""
        self._find()
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """A model of a copy of this one's tree, completed first (see :meth:`_find`): what
        the parse generated is then in the tree that is copied."""
        self._find()
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            clone.__dict__[key] = copy.deepcopy(value, memo)
        return clone

    def _checked(self, *, live: bool = False) -> Definition:
        """The validated definition of the current tree, read again only when it changed."""
        kept: dict[bool, tuple[str | None, Definition, bool]] = self.__dict__.setdefault(
            "_kept_definitions", {}
        )
        cached = kept.get(live)
        if self._sealed and cached is not None and cached[2]:
            return cached[1]  # nothing could change the tree since parse() kept it
        snapshot = _snapshot(self.element)
        if cached is not None and cached[2] and cached[0] == snapshot:
            return cached[1]
        definition = self.definition(live=live)
        # Reading the definition leaves the tree as it is: the snapshot still holds.
        kept[live] = (snapshot, definition, True)
        return definition

    def _store_ifnames(self, definition: Definition) -> None:
        """Write the interface names the devices' processing generated into the tree."""
        if definition.devices_def is None:
            return
        parsed = definition.devices_def.interfaces
        if not parsed:
            return
        devices = definition.devices  # the first <devices> of this tree, as read
        if devices is None:
            return
        # The elements of Devices.interfaces, looked at directly; the new <target> goes
        # where the Interface model would put it, without building a view per interface.
        for node, net in zip(all_children(devices, "interface"), parsed, strict=False):
            ifname = net.ifname
            if not ifname:
                continue
            target: etree._Element | None = None
            # lxml's own search: no index of the interface's children is built for it.
            for candidate in node.iterchildren("target"):
                if candidate.get("dev") is not None:
                    break  # named in the document
                if target is None:
                    target = candidate
            else:
                if target is None:
                    # Made in this document (a lone element would get a document of its
                    # own), then moved to its place.
                    target = etree.SubElement(node, "target")
                    insert_element(node, target, Interface._order(()))
                target.set("dev", ifname)

    def definition(
        self, *, uuid_factory: UUIDFactory = new_uuid, live: bool = False, validate: bool = True
    ) -> Definition:
        """The checked definition libvirt would hold for this document.

        With *live* the document is read as libvirt reads a running
        domain's status (no ``VIR_DOMAIN_DEF_PARSE_INACTIVE``): what exists
        only while the guest runs - the ``<source path>`` of a pty
        serial port or console, device ``<alias>`` names, the ports of
        autoport graphics, generated interface names (``vnet0``) - is
        kept instead of dropped as on define. Without *validate* the
        validation step is skipped (see :meth:`parse`).
        """
        options: dict[str, Any] = dict(_LIVE_DEVICES) if live else {}
        if self.controller_order_kept:
            options["keep_controller_order"] = True
        return read_definition(
            self.element,
            uuid_factory=uuid_factory,
            inactive=False,
            device_options=options or None,
            validate=validate,
        )

    @property
    def controller_order_kept(self) -> bool:
        """Whether controllers are read in document order (:meth:`keep_controller_order`)."""
        return bool(self.__dict__.get("_controller_order_kept", False))

    def keep_controller_order(self, keep: bool = True) -> None:
        """Read this document's controllers in the order they are written, unsorted.

        libvirt sorts controllers by type and index when it parses a
        definition, but a driver's post-parse appends the controllers it adds
        (the PCIe root and its ports, a USB or SATA controller), and a
        definition libvirt keeps in memory is never sorted again: the live
        definition of a started guest shows that order. A document marked
        here (a running guest's, made from the persistent one) keeps it
        through every change, as libvirt's does; a new parse of its text
        sorts again, as libvirt's re-parse (``virDomainDefCopy``) does.
        """
        self.__dict__["_controller_order_kept"] = keep
        self.__dict__.pop("_kept_definitions", None)

    def check(self) -> None:
        """Raise libvirt's error if libvirt would refuse this document."""
        self._checked()

    def format(
        self,
        flags: int = 0,
        *,
        devices_formatter: DevicesFormatter | None = None,
        live: bool = False,
    ) -> str:
        """What ``virDomainGetXMLDesc(flags)`` prints for this definition.

        *flags* are ``VIR_DOMAIN_XML_*`` values
        (:class:`~virtcore.enums.domain.DomainXMLFlags`); the ``id``
        attribute is written for a running domain (one whose tree has an
        ``id``) unless ``INACTIVE`` is given. With *live* the document is a
        running domain's definition (see :meth:`definition`): without
        ``INACTIVE`` its runtime data (pty paths, aliases, graphics ports)
        is printed as libvirt prints ``vm->def``. Raises libvirt's error
        when the document is not a valid definition.
        """
        return format_definition(
            self._checked(live=live), flags, devices_formatter=devices_formatter
        )

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)

    def canonical(self, flags: int = 0) -> Self:
        """A new document holding libvirt's form of this definition (:meth:`format` parsed)."""
        return type(self).from_xml(self.format(flags))
