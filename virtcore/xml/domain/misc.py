"""Smaller parts of a domain: lifecycle actions, ``<pm>``, ``<perf>``, ``<sysinfo>``,
``<seclabel>``, ``<keywrap>`` and ``<launchSecurity>``.

Each part has a view class for typed access to the live tree, a ``read_*``
function that checks it as libvirt 9.0 does (with its error codes and
wording) and an ``emit_*`` function that writes libvirt's form: lifecycle
actions with their defaults, power management and perf events in
libvirt's order, SMBIOS entries in their fixed order per block, security
labels with their implied ``relabel``, ciphers ``aes`` before ``dea`` and
the SEV policy as four hex digits.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, XMLDetailError, XMLError
from virtcore.xml import units
from virtcore.xml.builder import YESNO, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.childindex import children_by_name, first_child
from virtcore.xml.domain.common import (
    DOM,
    Grouped,
    attr_bool,
    attr_enum,
    attr_switch,
    child,
    children,
    on_off,
    parse_uuid,
    string_value,
    sub,
    text_of,
    unsupported,
    xml_error,
    yes_no,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "PERF_EVENTS",
    "TEST_ELEMENTS",
    "KeyWrap",
    "LaunchSecurity",
    "PowerManagement",
    "SecLabel",
    "SysInfo",
    "SysInfoEntry",
    "emit_keywrap",
    "emit_launch_security",
    "emit_lifecycle",
    "emit_perf",
    "emit_pm",
    "emit_seclabels",
    "emit_sysinfo",
    "read_keywrap",
    "read_launch_security",
    "read_lifecycle",
    "read_perf",
    "read_pm",
    "read_seclabels",
    "read_sysinfo",
    "read_test_namespace",
]

logger = logging.getLogger(__name__)

LIFECYCLE_ACTIONS = (
    "destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart",
)  # fmt: skip
LOCK_FAILURE_ACTIONS = ("poweroff", "restart", "pause", "ignore")
LIFECYCLE_DEFAULTS = {"on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"}
PERF_EVENTS = (
    "cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references", "cache_misses",
    "branch_instructions", "branch_misses", "bus_cycles", "stalled_cycles_frontend",
    "stalled_cycles_backend", "ref_cpu_cycles", "cpu_clock", "task_clock", "page_faults",
    "context_switches", "cpu_migrations", "page_faults_min", "page_faults_maj",
    "alignment_faults", "emulation_faults",
)  # fmt: skip
SMBIOS_BLOCKS = {
    "bios": ("vendor", "version", "date", "release"),
    "system": ("manufacturer", "product", "version", "serial", "uuid", "sku", "family"),
    "baseBoard": ("manufacturer", "product", "version", "serial", "asset", "location"),
    "chassis": ("manufacturer", "version", "serial", "asset", "sku"),
}
SECLABEL_TYPES = ("dynamic", "static", "none")
_BIOS_DATE = re.compile(r"\d{2}/\d{2}/\d{2}(\d{2})?$")


# -- views -----------------------------------------------------------------------------


class PowerManagement(XMLNode):
    """``<pm>``: whether the guest may suspend to memory or disk."""

    TAG = "pm"

    suspend_to_mem = XMLProperty("./suspend-to-mem/@enabled", YESNO)
    suspend_to_disk = XMLProperty("./suspend-to-disk/@enabled", YESNO)


class SysInfoEntry(XMLNode):
    """``<entry name=>value</entry>`` of a ``<sysinfo>`` block."""

    TAG = "entry"

    name = XMLProperty("./@name")
    file = XMLProperty("./@file")
    value = XMLProperty(".")


class SysInfo(XMLNode):
    """``<sysinfo type='smbios|fwcfg'>``: firmware tables presented to the guest."""

    TAG = "sysinfo"

    type = XMLProperty("./@type")
    bios = XMLChildList(SysInfoEntry, "./bios/entry")
    system = XMLChildList(SysInfoEntry, "./system/entry")
    base_board = XMLChildList(SysInfoEntry, "./baseBoard/entry")
    chassis = XMLChildList(SysInfoEntry, "./chassis/entry")
    oem_strings = XMLChildList(SysInfoEntry, "./oemStrings/entry")
    entries = XMLChildList(SysInfoEntry, "./entry")


class SecLabel(XMLNode):
    """``<seclabel type= model= relabel=>``: a security driver's label."""

    TAG = "seclabel"

    type = XMLProperty("./@type", doc="dynamic, static or none.")
    model = XMLProperty("./@model")
    relabel = XMLProperty("./@relabel", YESNO)
    label = XMLProperty("./label")
    imagelabel = XMLProperty("./imagelabel")
    baselabel = XMLProperty("./baselabel")


class KeyWrap(XMLNode):
    """``<keywrap>``: s390 cryptographic key wrapping."""

    TAG = "keywrap"

    aes = XMLProperty("./cipher[@name='aes']/@state")
    dea = XMLProperty("./cipher[@name='dea']/@state")


class LaunchSecurity(XMLNode):
    """``<launchSecurity type=>``: AMD SEV or s390 protected virtualisation."""

    TAG = "launchSecurity"

    type = XMLProperty("./@type", doc="sev or s390-pv.")
    kernel_hashes = XMLProperty("./@kernelHashes", YESNO)
    cbitpos = XMLProperty("./cbitpos")
    reduced_phys_bits = XMLProperty("./reducedPhysBits")
    policy = XMLProperty("./policy")
    dh_cert = XMLProperty("./dhCert")
    session = XMLProperty("./session")


# -- lifecycle -------------------------------------------------------------------------


def read_lifecycle(root: etree._Element, index: Grouped | None = None) -> dict[str, str | None]:
    """``on_poweroff``, ``on_reboot``, ``on_crash`` and ``on_lockfailure``.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    actions: dict[str, str | None] = {}
    if index is None:
        index = children_by_name(root)
    for tag in ("on_reboot", "on_poweroff", "on_crash"):
        found = index.get(tag)
        value = (string_value(found[0]) or None) if found is not None else None
        if value is None:
            actions[tag] = LIFECYCLE_DEFAULTS[tag]
            continue
        if value not in LIFECYCLE_ACTIONS:
            raise unsupported(f"unknown {tag} action: {value}")
        actions[tag] = value
    found = index.get("on_lockfailure")
    value = text_of(found[0]) if found is not None else None
    if value is not None and value not in LOCK_FAILURE_ACTIONS:
        raise unsupported(f"unknown on_lockfailure action: {value}")
    actions["on_lockfailure"] = value
    return actions


def check_lifecycle(actions: dict[str, str | None]) -> None:
    """``virDomainDefLifecycleActionValidate``: coredump actions only on crash."""
    for tag, event in (("on_poweroff", "poweroff"), ("on_reboot", "reboot")):
        action = actions[tag]
        if action in ("coredump-destroy", "coredump-restart"):
            raise unsupported(f"Lifecycle event '{event}' doesn't support '{action}' action")


def emit_lifecycle(actions: dict[str, str | None], out: OutNode) -> None:
    """The lifecycle actions, ``on_lockfailure`` only when set."""
    for tag in ("on_poweroff", "on_reboot", "on_crash", "on_lockfailure"):
        action = actions.get(tag)
        if action is not None:
            sub(out, tag, text=action)


# -- pm and perf -----------------------------------------------------------------------


def read_pm(root: etree._Element) -> tuple[bool | None, bool | None]:
    """``<pm>``: (suspend-to-mem, suspend-to-disk), None when unset."""
    if first_child(root, "pm") is None:
        return None, None
    values: list[bool | None] = []
    for tag in ("suspend-to-mem", "suspend-to-disk"):
        element = child(root, f"pm/{tag}")
        values.append(attr_bool(element, "enabled") if element is not None else None)
    return values[0], values[1]


def emit_pm(pm: tuple[bool | None, bool | None], out: OutNode) -> None:
    """``<pm>`` (nothing when both are unset)."""
    if pm == (None, None):
        return
    element = sub(out, "pm")
    for tag, value in zip(("suspend-to-mem", "suspend-to-disk"), pm, strict=True):
        if value is not None:
            sub(element, tag, [("enabled", yes_no(value))])


def read_perf(root: etree._Element) -> dict[str, bool]:
    """``<perf>``: event name -> enabled."""
    events: dict[str, bool] = {}
    if first_child(root, "perf") is None:
        return events
    for event in children(root, "perf/event"):
        name = attr_enum(event, "name", PERF_EVENTS, required=True)
        enabled = attr_bool(event, "enabled", required=True)
        assert name is not None and enabled is not None
        if name in events:
            raise xml_error(f"perf event '{name}' was already specified")
        events[name] = enabled
    return events


def emit_perf(events: dict[str, bool], out: OutNode) -> None:
    """``<perf>`` in libvirt's event order."""
    if not events:
        return
    perf = sub(out, "perf")
    for name in PERF_EVENTS:
        if name in events:
            sub(perf, "event", [("name", name), ("enabled", yes_no(events[name]))])


# -- sysinfo ---------------------------------------------------------------------------


@dataclass
class SysInfoData:
    """One ``<sysinfo>`` as libvirt holds it."""

    type: str
    blocks: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    oem: list[str] = field(default_factory=list)
    fwcfg: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def read_sysinfo(root: etree._Element, uuid: bytes | None) -> list[SysInfoData]:
    """Every ``<sysinfo>``; a system UUID must match the domain's."""
    result: list[SysInfoData] = []
    for element in children(root, "sysinfo"):
        kind = attr_enum(element, "type", ("smbios", "fwcfg"), required=True)
        assert kind is not None
        data = SysInfoData(kind)
        if kind == "fwcfg":
            for entry in children(element, "entry"):
                name = entry.get("name")
                if name is None:
                    raise xml_error("Firmware entry is missing 'name' attribute")
                file, value = entry.get("file"), text_of(entry)
                if file is None and value is None:
                    raise xml_error("Firmware entry must have either value or 'file' attribute")
                data.fwcfg.append((name, file, value if file is None else None))
        else:
            _read_smbios(element, data, uuid)
        result.append(data)
    return result


def _read_smbios(element: etree._Element, data: SysInfoData, uuid: bytes | None) -> None:
    for block, names in SMBIOS_BLOCKS.items():
        for node in children(element, block):
            entries: dict[str, etree._Element] = {}
            for entry in children(node, "entry"):
                entries.setdefault(entry.get("name") or "", entry)
            values = {}
            for name in names:
                value = text_of(entries.get(name))
                if value is not None:
                    values[name] = value
            if block == "bios" and "date" in values and not _BIOS_DATE.match(values["date"]):
                raise XMLDetailError("Invalid BIOS 'date' format", domain=DOM)
            if block == "system" and "uuid" in values:
                raw = parse_uuid(values["uuid"])
                if raw is None:
                    raise XMLDetailError("malformed <sysinfo> uuid element", domain=DOM)
                if uuid is not None and raw != uuid:
                    raise XMLDetailError("UUID mismatch between <uuid> and <sysinfo>", domain=DOM)
            if values:
                data.blocks.setdefault(block, []).append(values)
            if block in ("bios", "system", "chassis"):
                break
    oem = child(element, "oemStrings")
    if oem is not None:
        data.oem.extend(text_of(entry) or "" for entry in children(oem, "entry"))


def emit_sysinfo(sysinfos: list[SysInfoData], out: OutNode) -> None:
    """Each ``<sysinfo>``, SMBIOS entries in their fixed order."""
    for data in sysinfos:
        element = sub(out, "sysinfo", [("type", data.type)])
        for name, file, value in data.fwcfg:
            sub(element, "entry", [("name", name), ("file", file)], value)
        for block, names in SMBIOS_BLOCKS.items():
            for values in data.blocks.get(block, []):
                node = sub(element, block)
                for name in names:
                    if name in values:
                        sub(node, "entry", [("name", name)], values[name])
        if data.oem:
            oem = sub(element, "oemStrings")
            for value in data.oem:
                sub(oem, "entry", text=value)


def sysinfo_uuid(root: etree._Element) -> bytes | None:
    """The SMBIOS system UUID, which stands in for a missing domain UUID."""
    for element in children(root, "sysinfo"):
        for system in children(element, "system"):
            for entry in children(system, "entry"):
                if entry.get("name") == "uuid":
                    return parse_uuid(text_of(entry) or "")
    return None


# -- seclabel --------------------------------------------------------------------------


@dataclass
class SecLabelData:
    """One ``<seclabel>`` as libvirt holds it."""

    type: str
    model: str | None
    relabel: bool
    label: str | None = None
    imagelabel: str | None = None
    baselabel: str | None = None


def read_seclabels(root: etree._Element) -> list[SecLabelData]:
    """``virSecurityLabelDefsParseXML`` for an inactive definition.

    A label without ``type`` is the driver's default and is not kept.
    """
    elements = children(root, "seclabel")
    result: list[SecLabelData] = []
    models: set[str] = set()
    for element in elements:
        kind = attr_enum(element, "type", SECLABEL_TYPES)
        model = element.get("model")
        if len(elements) > 1 and model is None:
            raise xml_error("missing security model when using multiple labels")
        if model is not None:
            if model in models:
                raise XMLDetailError(f"seclabel for model {model} is already provided", domain=DOM)
            models.add(model)
        if kind is None:
            continue
        relabel = attr_bool(element, "relabel")
        if relabel is None:
            relabel = kind == "dynamic"
        if kind == "dynamic" and not relabel:
            raise unsupported("dynamic label type must use resource relabeling")
        if kind == "none" and relabel:
            raise unsupported("resource relabeling is not compatible with 'none' label type")
        data = SecLabelData(kind, model, relabel)
        if kind == "static":
            data.label = text_of(element, "label")
            if data.label is None:
                raise xml_error("security label is missing")
        if kind == "dynamic":
            data.baselabel = text_of(element, "baselabel")
        result.append(data)
    return result


def emit_seclabels(labels: list[SecLabelData], out: OutNode) -> None:
    """Each ``<seclabel>``."""
    for data in labels:
        attrs: list[tuple[str, str | int | None]] = [("type", data.type), ("model", data.model)]
        if data.type == "none":
            sub(out, "seclabel", attrs)
            continue
        attrs.append(("relabel", yes_no(data.relabel)))
        element = sub(out, "seclabel", attrs)
        if data.label is not None:
            sub(element, "label", text=data.label)
        if data.relabel and data.imagelabel is not None:
            sub(element, "imagelabel", text=data.imagelabel)
        if data.type == "dynamic" and data.baselabel is not None:
            sub(element, "baselabel", text=data.baselabel)


# -- keywrap and launchSecurity --------------------------------------------------------


def read_keywrap(root: etree._Element) -> dict[str, bool] | None:
    """``<keywrap>``: cipher name -> state."""
    if first_child(root, "keywrap") is None:
        return None
    ciphers: dict[str, bool] = {}
    for cipher in children(root, "keywrap/cipher"):
        name = attr_enum(cipher, "name", ("aes", "dea"), required=True)
        state = attr_switch(cipher, "state", required=True)
        assert name is not None and state is not None
        if name in ciphers:
            raise InternalError(
                f"A domain definition can have no more than one cipher node with name {name}",
                domain=DOM,
            )
        ciphers[name] = state
    return ciphers or None


def emit_keywrap(ciphers: dict[str, bool] | None, out: OutNode) -> None:
    """``<keywrap>`` with ``aes`` before ``dea``."""
    if not ciphers:
        return
    keywrap = sub(out, "keywrap")
    for name in ("aes", "dea"):
        if name in ciphers:
            sub(keywrap, "cipher", [("name", name), ("state", on_off(ciphers[name]))])


@dataclass
class LaunchSecurityData:
    """``<launchSecurity>`` as libvirt holds it."""

    type: str
    kernel_hashes: bool | None = None
    cbitpos: int | None = None
    reduced_phys_bits: int | None = None
    policy: int = 0
    dh_cert: str | None = None
    session: str | None = None


def _sev_number(element: etree._Element, tag: str, words: str) -> int | None:
    text = text_of(element, tag)
    if text is None:
        return None
    try:
        return units.parse_uint(text)
    except ValueError:
        raise xml_error(f"Invalid format for launch security {words}") from None


def read_launch_security(root: etree._Element) -> LaunchSecurityData | None:
    """``<launchSecurity>``: AMD SEV settings or s390 protected virtualisation."""
    element = first_child(root, "launchSecurity")
    if element is None:
        return None
    kind = attr_enum(element, "type", ("sev", "s390-pv"), required=True)
    assert kind is not None
    data = LaunchSecurityData(kind)
    if kind != "sev":
        return data
    data.kernel_hashes = attr_bool(element, "kernelHashes")
    policy = text_of(element, "policy")
    if policy is None:
        raise xml_error("failed to get launch security policy")
    try:
        data.policy = units.parse_uint(policy, 16)
    except ValueError:
        raise xml_error("failed to get launch security policy") from None
    data.cbitpos = _sev_number(element, "cbitpos", "cbitpos")
    data.reduced_phys_bits = _sev_number(element, "reducedPhysBits", "reduced-phys-bits")
    data.dh_cert = text_of(element, "dhCert")
    data.session = text_of(element, "session")
    return data


@dataclass
class TestNamespace:
    """The test driver's own settings (``test:runstate``, ``test:transient``, ...)."""

    __test__ = False  # not a pytest test class

    runstate: int = 1
    transient: bool = False
    has_managed_save: bool = False


TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
_DOMAIN_STATES = 8
_SHUTOFF = 5


def _test_error(detail: str) -> XMLError:
    return XMLError(detail, domain=ErrorDomain.TEST)


_TRANSIENT = f"{{{TEST_NS}}}transient"
_MANAGED_SAVE = f"{{{TEST_NS}}}hasmanagedsave"
_RUNSTATE = f"{{{TEST_NS}}}runstate"
TEST_ELEMENTS = frozenset((_TRANSIENT, _MANAGED_SAVE, _RUNSTATE))
"""The root children :func:`read_test_namespace` reads: without them its result is the default."""


def read_test_namespace(root: etree._Element) -> TestNamespace:
    """``testDomainDefNamespaceParse``: the elements of libvirt's test driver namespace.

    They are read, checked and never written back, as libvirt does.
    """
    data = TestNamespace()
    data.transient = first_child(root, _TRANSIENT) is not None
    data.has_managed_save = first_child(root, _MANAGED_SAVE) is not None
    runstate = first_child(root, _RUNSTATE)
    text = string_value(runstate) if runstate is not None else ""
    if text:
        try:
            data.runstate = units.parse_uint(text)
        except ValueError:
            raise _test_error("invalid runstate") from None
        if data.runstate >= _DOMAIN_STATES:
            raise _test_error(f"runstate '{data.runstate}' out of range'")
    if data.transient and data.runstate == _SHUTOFF:
        raise _test_error("transient domain cannot have runstate 'shutoff'")
    if data.has_managed_save and data.runstate != _SHUTOFF:
        raise _test_error("domain with managedsave data can only have runstate 'shutoff'")
    return data


def emit_launch_security(data: LaunchSecurityData | None, out: OutNode) -> None:
    """``<launchSecurity>``."""
    if data is None:
        return
    element = sub(out, "launchSecurity", [("type", data.type)])
    if data.type != "sev":
        return
    if data.kernel_hashes is not None:
        element.set("kernelHashes", yes_no(data.kernel_hashes) or "")
    if data.cbitpos is not None:
        sub(element, "cbitpos", text=data.cbitpos)
    if data.reduced_phys_bits is not None:
        sub(element, "reducedPhysBits", text=data.reduced_phys_bits)
    sub(element, "policy", text=f"0x{data.policy:04x}")
    if data.dh_cert is not None:
        sub(element, "dhCert", text=data.dh_cert)
    if data.session is not None:
        sub(element, "session", text=data.session)
