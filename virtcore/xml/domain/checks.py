"""Reading a domain document the way libvirt 9.0 does: checks, defaults, errors.

:func:`read_definition` walks a ``<domain>`` element in the order of
libvirt's ``virDomainDefParseXML`` - identity, OS type, title, security
labels, memory, vCPUs, IOThreads, tunables, CPU and NUMA, resources,
features, lifecycle, power management, perf, clock, boot options, devices,
system information, launch security, key wrapping, the test driver's
namespace - then applies libvirt's post-parse defaults and its validation
(``virDomainDefPostParse``, ``virDomainDefValidate``), the devices' steps
interleaved as in libvirt. Like libvirt's XPath expressions, the readers
take the first ``./os/type`` or every ``./cputune/vcpupin`` even when an
element is repeated. The first problem raises the error libvirt reports
for it, with libvirt's code, error domain and wording, e.g.:

* no ``<name>`` - ``VIR_ERR_NO_NAME`` "missing name information";
* a bad ``<uuid>`` - ``VIR_ERR_INTERNAL_ERROR`` "malformed uuid element";
* ``<memory>`` too large - ``VIR_ERR_OVERFLOW`` "value too large: 9E";
* an unknown OS type - ``VIR_ERR_CONFIG_UNSUPPORTED`` "unknown OS type 'x'";
* more current than maximum vCPUs - "maximum vCPU count must not be less
  than current vCPU count";
* an unknown lifecycle action - "unknown on_reboot action: x".

The result is a :class:`Definition`, the record
:mod:`virtcore.xml.domain.formatter` writes libvirt's output from. The
element itself is never modified.

Most documents have a few of the sections libvirt knows: the root's child
index (:func:`~virtcore.xml.childindex.children_by_name`) tells which are
there, the readers of absent ones are not called (their defaults are made
directly: such a reader could raise nothing) and a check whose section
holds nothing it looks at is not called either. Errors and their order stay
those of reading every section.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.childindex import children_by_name, in_indexed_reading, indexed_reading
from virtcore.xml.domain.clock import ClockInfo, check_timers, read_clock
from virtcore.xml.domain.common import (
    DOM,
    Grouped,
    child,
    internal,
    parse_uuid,
    text_of,
    unsupported,
    xml_error,
)
from virtcore.xml.domain.cpu import (
    CPUInfo,
    NumaInfo,
    check_numa_cpus,
    read_cpu,
    read_numa,
)
from virtcore.xml.domain.devices import (
    DevicesDef,
    DomainDeviceContext,
    context_for,
    finish_devices,
    parse_devices,
    post_parse_devices,
    validate_devices,
)
from virtcore.xml.domain.features import FeaturesInfo, read_features
from virtcore.xml.domain.memory import MemoryInfo, read_memory, validate_memory, validate_pages
from virtcore.xml.domain.misc import (
    TEST_ELEMENTS,
    LaunchSecurityData,
    SecLabelData,
    SysInfoData,
    TestNamespace,
    check_lifecycle,
    read_keywrap,
    read_launch_security,
    read_lifecycle,
    read_perf,
    read_pm,
    read_seclabels,
    read_sysinfo,
    read_test_namespace,
    sysinfo_uuid,
)
from virtcore.xml.domain.os import (
    OSInfo,
    check_boot,
    check_idmap,
    check_loader,
    check_os,
    default_boot,
    read_idmap,
    read_os,
    read_os_type,
)
from virtcore.xml.domain.tuning import (
    BlkioInfo,
    CPUTuneInfo,
    NumaTuneInfo,
    link_placement,
    read_blkiotune,
    read_cputune,
    read_memnodes,
    read_numatune,
    read_resource,
    validate_blkiotune,
    validate_cputune,
)
from virtcore.xml.domain.vcpu import (
    IOThreadInfo,
    Vcpus,
    finish_vcpus,
    read_iothreads,
    read_vcpus,
    validate_iothreads,
)

__all__ = ["VIRT_TYPES", "Definition", "UUIDFactory", "new_uuid", "read_definition"]

logger = logging.getLogger(__name__)

VIRT_TYPES = (
    "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware", "hyperv",
    "vbox", "phyp", "parallels", "bhyve", "vz", "hvf",
)  # fmt: skip
"""Domain types libvirt 9.0 knows (``none`` is refused like an unknown one)."""
_VIRT_TYPE_SET = frozenset(VIRT_TYPES)

UUIDFactory = Callable[[], bytes]
"""Makes the 16 bytes of a new UUID (``virUUIDGenerate``)."""


def new_uuid() -> bytes:
    """A random (version 4) UUID, as libvirt generates them."""
    return uuidlib.uuid4().bytes


@dataclass
class Definition:
    """A domain definition as libvirt 9.0 holds it after parsing (``virDomainDef``)."""

    virt_type: str
    id: int | None
    name: str
    uuid: bytes
    genid: bytes | None = None
    title: str | None = None
    description: str | None = None
    metadata: etree._Element | None = None
    memory: MemoryInfo = field(default_factory=MemoryInfo)
    blkio: BlkioInfo = field(default_factory=BlkioInfo)
    vcpus: Vcpus = field(default_factory=Vcpus)
    iothreads: IOThreadInfo = field(default_factory=IOThreadInfo)
    cputune: CPUTuneInfo = field(default_factory=CPUTuneInfo)
    numatune: NumaTuneInfo = field(default_factory=NumaTuneInfo)
    resource: tuple[str | None, str | None] | None = None
    sysinfo: list[SysInfoData] = field(default_factory=list)
    os: OSInfo = field(default_factory=OSInfo)
    idmap: tuple[list[tuple[int, int, int]], ...] = field(default_factory=lambda: ([], []))
    features: FeaturesInfo = field(default_factory=FeaturesInfo)
    cpu: CPUInfo = field(default_factory=CPUInfo)
    numa: NumaInfo = field(default_factory=NumaInfo)
    clock: ClockInfo = field(default_factory=ClockInfo)
    lifecycle: dict[str, str | None] = field(default_factory=dict)
    pm: tuple[bool | None, bool | None] = (None, None)
    perf: dict[str, bool] = field(default_factory=dict)
    seclabels: list[SecLabelData] = field(default_factory=list)
    keywrap: dict[str, bool] | None = None
    launch_security: LaunchSecurityData | None = None
    devices: etree._Element | None = None
    test: TestNamespace = field(default_factory=TestNamespace)
    """The test driver's settings (``test:runstate`` ...), never written back."""
    devices_def: DevicesDef | None = None
    """The devices after libvirt's processing."""


def _no_name() -> VirtError:
    return VirtError.from_code(ErrorNumber.NO_NAME, None, domain=DOM)


def _read_ids(
    root: etree._Element, index: Grouped, uuid_factory: UUIDFactory, inactive: bool
) -> tuple[str, int | None, str, bytes, bytes | None, bool]:
    """``virDomainDefParseIDs``: type, id, name, uuid and genid (*index*: root's children)."""
    virt_type = root.get("type")
    if virt_type is None:
        raise internal("missing domain type attribute")
    if virt_type not in _VIRT_TYPE_SET:
        raise unsupported(f"invalid domain type {virt_type}")
    ident: int | None = None
    if not inactive:
        raw_id = root.get("id")
        if raw_id is not None:
            try:
                ident = units.parse_int(raw_id)
            except ValueError:
                ident = None
    found = index.get("name")
    name = text_of(found[0]) if found is not None else None
    if not name:
        raise _no_name()
    found = index.get("uuid")
    text = text_of(found[0]) if found is not None else None
    generated = text is None
    if text is None:
        raw = uuid_factory()
    else:
        parsed = parse_uuid(text)
        if parsed is None:
            raise internal("malformed uuid element")
        raw = parsed
    genid: bytes | None = None
    genids = index.get("genid")
    if genids is not None:
        if len(genids) > 1:
            raise xml_error("element 'genid' can only appear once")
        genid_text = text_of(genids[0])
        if genid_text is None:
            genid = uuid_factory()
        else:
            parsed = parse_uuid(genid_text)
            if parsed is None:
                raise internal("malformed genid element")
            genid = parsed
    return virt_type, ident, name, raw, genid, generated


def _metadata(root: etree._Element) -> etree._Element | None:
    """``<metadata>`` keeping one namespaced element per namespace, as libvirt does."""
    metadata = child(root, "metadata")
    if metadata is None:
        return None
    seen: set[str] = set()
    kept: list[etree._Element] = []
    for node in metadata.iterchildren(etree.Element):
        namespace = etree.QName(node).namespace
        if not namespace or namespace in seen:
            continue
        seen.add(namespace)
        kept.append(node)
    return _copy_metadata(metadata, kept)


def _copy_metadata(metadata: etree._Element, kept: list[etree._Element]) -> etree._Element:
    """A detached copy of *metadata* holding *kept*, declaring what libvirt's copy declares.

    libvirt copies the element (``xmlCopyNode``): its own namespace
    declarations stay, and namespaces declared further up but used inside
    are declared on it, in order of first use.
    """
    parent = metadata.getparent()
    outside = parent.nsmap if parent is not None else {}
    declared = {p: u for p, u in metadata.nsmap.items() if p and outside.get(p) != u}
    for node in metadata.iter(etree.Element):
        used: list[tuple[str | None, str | None]] = [(node.prefix, etree.QName(node).namespace)]
        used += [
            (_attr_prefix(node, str(key)), etree.QName(str(key)).namespace)
            for key in node.attrib
            if str(key).startswith("{")
        ]
        for prefix, uri in used:
            if prefix and uri and prefix not in declared and outside.get(prefix) == uri:
                declared[prefix] = uri
    clone = etree.Element("metadata", nsmap=declared)
    for node in kept:
        duplicate = copy.deepcopy(node)
        duplicate.tail = None
        clone.append(duplicate)
    return clone


def _attr_prefix(node: etree._Element, key: str) -> str | None:
    uri = etree.QName(key).namespace
    return next((p for p, u in node.nsmap.items() if u == uri and p), None)


def read_definition(
    root: etree._Element,
    *,
    uuid_factory: UUIDFactory = new_uuid,
    inactive: bool = True,
    device_options: dict[str, Any] | None = None,
    validate: bool = True,
) -> Definition:
    """Read and check *root* (a ``<domain>`` element) as libvirt 9.0's define does.

    *uuid_factory* makes the UUID of a definition without one (and the
    generation id of an empty ``<genid/>``). With *inactive* (what
    ``virDomainDefineXML`` uses) the ``id`` attribute is ignored.
    *device_options* set fields of the devices' processing context
    (``mac_generator``, ``test_ifnames``, ``inactive``: False reads the
    devices as a running domain's status, keeping pty paths and aliases).

    Without *validate* only the parse and the post-parse run (libvirt's
    ``VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE``): a driver's own post-parse can
    then complete the definition before ``virDomainDefValidate`` checks it
    (read it again with *validate*). The defaults the validation step fills
    in as it goes (the primary video card) are still applied.

    The tree's child lookups go through an index
    (:class:`~virtcore.xml.childindex.indexed_reading`): the caller's, when it
    reads within a block of its own, else one made for the call.
    """
    if in_indexed_reading():
        return _read_definition(root, uuid_factory, inactive, device_options, validate)
    with indexed_reading():
        return _read_definition(root, uuid_factory, inactive, device_options, validate)


def _read_definition(
    root: etree._Element,
    uuid_factory: UUIDFactory,
    inactive: bool,
    device_options: dict[str, Any] | None,
    validate: bool,
) -> Definition:
    # Which sections the document has, from the index every reader shares: a reader
    # of a section that is absent would only look for it and return its default,
    # which is made here instead (each such reader raises nothing then).
    index = children_by_name(root)
    virt_type, ident, name, raw_uuid, genid, generated = _read_ids(
        root, index, uuid_factory, inactive
    )
    # The sections are read into locals and the record made once they are all there:
    # a record made first would build every section's default only to replace it.
    os_info = read_os_type(root, index)
    title = description = metadata = None
    if not _DESCRIBED.isdisjoint(index):
        title = text_of(root, "title")
        if title is not None and "\n" in title:
            raise xml_error("Domain title can't contain newlines")
        description = text_of(root, "description")
        metadata = _metadata(root)
    seclabels = read_seclabels(root) if "seclabel" in index else []
    memory = read_memory(root, index)
    vcpus = read_vcpus(root, index)
    iothreads = IOThreadInfo() if _IOTHREADS.isdisjoint(index) else read_iothreads(root)
    if _TUNED.isdisjoint(index):
        blkio = BlkioInfo()
        cputune = CPUTuneInfo()
        cpu = CPUInfo()
        numa = NumaInfo()
        if not vcpus.vcpus:  # no cells: only a count of zero vCPUs is refused
            check_numa_cpus(numa, 0)
        numatune = NumaTuneInfo()
        resource = None
    else:
        blkio = read_blkiotune(root)
        cputune = read_cputune(root, vcpus, iothreads)
        cpu = read_cpu(root)
        numa = read_numa(root)
        check_numa_cpus(numa, vcpus.maximum)
        numatune = read_numatune(root)
        read_memnodes(root, numatune, len(numa.cells))
        resource = read_resource(root)
    if numatune.present or vcpus.placement == "auto":  # else nothing to link
        link_placement(numatune, vcpus)
    features = read_features(root, index)
    lifecycle = read_lifecycle(root, index)
    pm = read_pm(root) if "pm" in index else (None, None)
    perf = read_perf(root) if "perf" in index else {}
    clock = read_clock(root, index)
    read_os(root, os_info, index)
    idmap = read_idmap(root) if "idmap" in index else ([], [])
    found = index.get("devices")
    # By position, in the order of the fields (tests pin it): a definition is made per
    # document, and positions cost less than names.
    definition = Definition(
        virt_type, ident, name, raw_uuid, genid, title, description, metadata,
        memory, blkio, vcpus, iothreads, cputune, numatune, resource,
        [],  # sysinfo, read after the devices
        os_info, idmap, features, cpu, numa, clock, lifecycle, pm, perf, seclabels,
        None, None,  # keywrap and launch security, read after the devices
        found[0] if found is not None else None,
    )  # fmt: skip
    ctx = _device_context(definition, device_options)
    source = definition.devices
    defs = parse_devices(source if source is not None else _NO_DEVICES, ctx)
    if "sysinfo" in index:
        definition.sysinfo = read_sysinfo(root, None if generated else raw_uuid)
        if generated:
            from_sysinfo = sysinfo_uuid(root)
            if from_sysinfo is not None:
                definition.uuid = from_sysinfo
    if "launchSecurity" in index:
        definition.launch_security = read_launch_security(root)
    if "keywrap" in index:
        definition.keywrap = read_keywrap(root)
    if not TEST_ELEMENTS.isdisjoint(index):
        definition.test = read_test_namespace(root)
    # The devices' post-parse (defaults, implicit controllers, addresses), then the domain's.
    post_parse_devices(defs, ctx)
    _post_parse(definition)
    definition.devices_def = defs
    if not validate:
        finish_devices(defs, ctx)  # the defaults of the validation step, without its checks
        return definition
    # The last step: no earlier one reads the context again, so it changes in place.
    ctx.memory_kib = definition.memory.total
    validate_devices(defs, ctx)
    _validate(definition)
    return definition


# Root children that only some documents have, each read by the readers skipped
# without them (see _read_definition).
_DESCRIBED = frozenset(("title", "description", "metadata"))
_IOTHREADS = frozenset(("iothreads", "defaultiothread", "iothreadids"))
_TUNED = frozenset(("blkiotune", "cputune", "cpu", "numatune", "resource"))
_NO_DEVICES = etree.Element("devices")
"""What a document without ``<devices>`` has: read, never changed (the tree is not)."""


_CONTEXT_FIELDS = frozenset(f.name for f in dataclasses.fields(DomainDeviceContext))


def _device_context(definition: Definition, options: dict[str, Any] | None) -> DomainDeviceContext:
    """The devices' processing context (:mod:`virtcore.xml.domain.devices`) for *definition*."""
    ctx = context_for(definition)  # a new context: its options are set in place
    source = definition.devices
    if source is not None:
        audios = children_by_name(source).get("audio")
        if audios is not None:
            audio_ids: set[int] = set()
            for audio in audios:
                try:
                    audio_ids.add(units.parse_int(audio.get("id") or ""))
                except ValueError:
                    continue
            if audio_ids:
                ctx.audio_ids = frozenset(audio_ids)
    if definition.seclabels:
        ctx.seclabel_relabel = {s.model: s.relabel for s in definition.seclabels if s.model}
    if options:
        for name, value in options.items():
            if name in _CONTEXT_FIELDS:
                setattr(ctx, name, value)
    return ctx


def _device_boot_order(devices: etree._Element | None) -> bool:
    if devices is None:
        return False
    # A device's <boot> is a grandchild of <devices>: lxml's search of the subtree
    # passes over everything else without making an element of it, which asking each
    # device would do (deeper <boot> elements, if any, are skipped by their place).
    for boot in devices.iterdescendants("boot"):
        parent = boot.getparent()
        if parent is not None and parent.getparent() is devices:
            return True
    return False


def _post_parse(definition: Definition) -> None:
    """``virDomainDefPostParse``: defaults that depend on several parts."""
    cells = definition.numa.cells
    validate_memory(definition.memory, len(cells), definition.numa.memory if cells else 0)
    vcpus = definition.vcpus
    if vcpus.individual:  # else no vCPU has a flag to fill in
        finish_vcpus(vcpus)
    os_info = definition.os
    if os_info.type == "exe":  # the only type with a check
        check_os(os_info)
    device_boot = _device_boot_order(definition.devices)
    if device_boot and os_info.boot:
        raise unsupported("per-device boot elements cannot be used together with os/boot elements")
    if not os_info.boot:  # else the boot order stands
        default_boot(os_info, device_boot)
    if "/" in definition.name:
        raise xml_error(f"name {definition.name} cannot contain '/'")


def _validate(definition: Definition) -> None:
    """``virDomainDefValidate``: checks across the whole definition.

    A check whose section holds nothing it looks at (no huge pages, no loader,
    no bandwidth values ...) cannot fail and is not called.
    """
    check_lifecycle(definition.lifecycle)
    memory = definition.memory
    if memory.pages:
        validate_pages(memory.pages, len(definition.numa.cells))
    os_info = definition.os
    if os_info.loader is not None:
        check_loader(os_info)
    cputune = definition.cputune
    if cputune.shares or cputune.values:
        validate_cputune(cputune)
    iothreads = definition.iothreads
    if iothreads.threads or iothreads.default is not None:
        validate_iothreads(iothreads)
    if os_info.bootmenu_timeout is not None or os_info.bios_reboot_timeout is not None:
        check_boot(os_info)
    if len(definition.blkio.devices) > 1:
        validate_blkiotune(definition.blkio)
    uids, gids = definition.idmap
    if uids or gids:
        check_idmap(definition.idmap)
    if definition.clock.timers:
        check_timers(definition.clock)
