"""The top-level sections of a test-driver domain: read, checked and normalised.

The readers :class:`~virtcore.drivers.test.domainxml.DomainDef` uses for
everything but the devices and the tuning sections: name-level texts, the test
driver's own namespace (:class:`TestNamespace`), memory, ``<vcpu>``, ``<os>``,
the lifecycle actions, ``<clock>`` and ``<features>``, with libvirt 9.0's
errors and defaults. ``<os>`` and ``<clock>`` come back as the text libvirt
writes for them when they are plain (most definitions), else as normalised
trees; see ``DomainDef.sections``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.devicenorm import insert_ordered
from virtcore.drivers.test.xmlutil import (
    attributes,
    child,
    children,
    escape,
    local_name,
    scaled_integer,
    words,
)
from virtcore.enums.domain import DomainState
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InternalError, XMLError

__all__ = [
    "ARCHES",
    "BOOT_DEVS",
    "CLOCK_OFFSETS",
    "CRASH_ACTIONS",
    "DEFAULT_ARCH",
    "FEATURE_ORDER",
    "OS_ORDER",
    "OS_TYPES",
    "POWEROFF_ACTIONS",
    "TEST_NAMESPACE",
    "TOP_ORDER",
    "VIRT_TYPES",
    "TestNamespace",
    "TopLevel",
    "os_section",
    "parse_action",
    "parse_clock",
    "parse_features",
    "parse_memory",
    "parse_namespace",
    "parse_os",
    "parse_vcpu",
    "top_text",
]

TEST_NAMESPACE = "http://libvirt.org/schemas/domain/test/1.0"
_ANY_TEST_ELEMENT = f"{{{TEST_NAMESPACE}}}*"
DEFAULT_ARCH = "i686"
_DOM = ErrorDomain.DOMAIN

VIRT_TYPES = frozenset(
    words("none qemu kqemu kvm xen lxc uml openvz test vmware hyperv vbox phyp parallels bhyve vz")
)
ARCHES = frozenset(
    words(
        "none alpha armv6l armv7l armv7b aarch64 cris i686 ia64 lm32 loongarch64 m68k microblaze "
        "microblazeel mips mipsel mips64 mips64el openrisc parisc parisc64 ppc ppcle ppc64 "
        "ppc64le ppcemb riscv32 riscv64 s390 s390x sh4 sh4eb sparc sparc64 unicore32 x86_64 "
        "xtensa xtensaeb"
    )
)
OS_TYPES = frozenset({"hvm", "xen", "linux", "exe", "uml", "xenpvh"})
BOOT_DEVS = frozenset({"fd", "hd", "cdrom", "network"})
POWEROFF_ACTIONS = frozenset({"destroy", "restart", "rename-restart", "preserve"})
CRASH_ACTIONS = POWEROFF_ACTIONS | {"coredump-destroy", "coredump-restart"}
CLOCK_OFFSETS = frozenset({"utc", "localtime", "variable", "timezone", "absolute"})

TOP_ORDER = words(
    "name uuid genid title description metadata maxMemory memory currentMemory blkiotune "
    "memtune memoryBacking vcpu vcpus iothreads iothreadids defaultiothread cputune numatune "
    "resource sysinfo bootloader bootloader_args os idmap features cpu clock on_poweroff "
    "on_reboot on_crash on_lockfailure pm perf devices seclabel keywrap launchSecurity"
)
OS_ORDER = words(
    "type firmware init initarg initenv initdir inituser initgroup loader nvram kernel initrd "
    "cmdline shim dtb root acpi boot bootmenu smbios bios"
)
FEATURE_ORDER = words(
    "acpi apic pae hap viridian privnet hyperv kvm pvspinlock capabilities pmu vmport gic smm "
    "ioapic hpt vmcoreinfo htm nested-hv msrs ccf-assist xen cfpc sbbc ibs tcg async-teardown"
)

TopLevel = dict[str, etree._Element]
"""The first top-level child of each (un-namespaced) name."""


@dataclass
class TestNamespace:
    """The test driver's own per-domain settings (only used in configuration files)."""

    __test__ = False  # not a pytest test class

    runstate: int = DomainState.RUNNING
    transient: bool = False
    has_managed_save: bool = False
    snapshots: list[etree._Element] = field(default_factory=list)
    """``<test:domainsnapshot>`` elements (inline documents or ``file=`` references)."""


# -- helpers ----------------------------------------------------------------


def top_text(top: TopLevel, tag: str) -> str | None:
    elem = top.get(tag)
    return None if elem is None else (elem.text or "")


def parse_namespace(root: etree._Element) -> TestNamespace:
    # One pass over the children in the test namespace (filtered in C; documents that
    # do not use the namespace, i.e. nearly all, cost next to nothing).
    found: dict[str, list[etree._Element]] = {}
    for elem in root.iterchildren(_ANY_TEST_ELEMENT):
        found.setdefault(local_name(elem), []).append(elem)
    data = TestNamespace(
        transient="transient" in found,
        has_managed_save="hasmanagedsave" in found,
        snapshots=[copy.deepcopy(e) for e in found.get("domainsnapshot", ())],
    )
    runstate = found["runstate"][0] if "runstate" in found else None
    if runstate is not None:
        raw = (runstate.text or "").strip()
        if not raw.isdigit():
            raise XMLError("invalid runstate", domain=ErrorDomain.TEST)
        value = int(raw)
        if value >= len(DomainState):  # VIR_DOMAIN_LAST
            raise XMLError(f"runstate '{value}' out of range'", domain=ErrorDomain.TEST)
        data.runstate = value
    if data.transient and data.runstate == DomainState.SHUTOFF:
        raise XMLError("transient domain cannot have runstate 'shutoff'", domain=ErrorDomain.TEST)
    if data.has_managed_save and data.runstate != DomainState.SHUTOFF:
        raise XMLError(
            "domain with managedsave data can only have runstate 'shutoff'",
            domain=ErrorDomain.TEST,
        )
    return data


def parse_memory(top: TopLevel) -> tuple[int, int]:
    memory = 0
    elem = top.get("memory")
    if elem is not None:
        memory = -(-scaled_integer(elem, "./memory[1]", default_unit="KiB", domain=_DOM) // 1024)
    if memory == 0:
        raise XMLError(
            "Memory size must be specified via <memory> or in the <numa> configuration",
            domain=_DOM,
        )
    current = memory
    elem = top.get("currentMemory")
    if elem is not None:
        value = scaled_integer(elem, "./currentMemory[1]", default_unit="KiB", domain=_DOM)
        current = -(-value // 1024)
        if current == 0 or current > memory:
            current = memory
    return memory, current


def parse_vcpu(top: TopLevel) -> tuple[int, int, dict[str, str]]:
    elem = top.get("vcpu")
    if elem is None:
        return 1, 1, {}
    raw = (elem.text or "").strip()
    if not raw.isdigit():
        raise XMLError("maximum vcpus count must be an integer", domain=_DOM)
    vcpus = int(raw)
    current = vcpus
    if elem.get("current") is not None:
        cur_raw = elem.get("current", "").strip()
        if not cur_raw.isdigit():
            raise XMLError("current vcpus count must be an integer", domain=_DOM)
        current = int(cur_raw)
    if vcpus == 0:
        # libvirt 9.0 reports a zero vCPU count through its NUMA consistency check.
        raise InternalError("CPU IDs in <numa> exceed the <vcpu> count", domain=_DOM)
    if current > vcpus:
        raise ConfigUnsupportedError(
            "maximum vCPU count must not be less than current vCPU count", domain=_DOM
        )
    attrs = {k: v for k, v in attributes(elem).items() if k in ("placement", "cpuset")}
    return vcpus, current, attrs


_OS_RANK = {tag: i for i, tag in enumerate(OS_ORDER)}
_FEATURE_RANK = {tag: i for i, tag in enumerate(FEATURE_ORDER)}


def parse_os(top: TopLevel) -> tuple[etree._Element, str, str]:
    """Check ``<os>``: returns the element, its OS type and its architecture."""
    src = top.get("os")
    type_elem = child(src, "type") if src is not None else None
    if src is None or type_elem is None or not (type_elem.text or "").strip():
        raise XMLError("an os <type> must be specified", domain=_DOM)
    os_type = (type_elem.text or "").strip()
    if os_type not in OS_TYPES:
        raise ConfigUnsupportedError(f"unknown OS type '{os_type}'", domain=_DOM)
    if os_type == "exe" and child(src, "init") is None:
        raise XMLError("init binary must be specified", domain=_DOM)
    arch = type_elem.get("arch") or DEFAULT_ARCH
    if arch not in ARCHES:
        raise ConfigUnsupportedError(f"Unknown architecture {arch}", domain=_DOM)
    for boot in children(src, "boot"):
        if boot.get("dev") not in BOOT_DEVS:
            raise XMLError(
                f"Invalid value for attribute 'dev' in element 'boot': '{boot.get('dev', '')}'.",
                domain=ErrorDomain.XML,
            )
    return src, os_type, arch


def os_section(
    src: etree._Element, os_type: str, arch: str, default_boot: bool
) -> str | etree._Element:
    """The normalised ``<os>`` of a checked *src*: its text when plain, else a tree.

    Plain is what most definitions have: ``<type>`` and ``<boot dev=.../>``
    elements only. *default_boot* adds libvirt's ``<boot dev='hd'/>``.
    """
    type_elem = next(src.iterchildren("type"))
    machine = type_elem.get("machine")
    machine_attr = f" machine='{escape(machine)}'" if machine else ""
    boots: list[str] = []
    for sub in src:
        tag = sub.tag
        if tag == "type":
            continue
        if tag != "boot" or len(sub) or sub.text is not None or len(sub.attrib) != 1:
            boots = []
            break
        boots.append(f"\n    <boot dev='{sub.get('dev')}'/>")
    else:
        if src.get("firmware") is None:
            if default_boot:
                boots.append("\n    <boot dev='hd'/>")
            return (
                f"  <os>\n    <type arch='{arch}'{machine_attr}>{os_type}</type>"
                f"{''.join(boots)}\n  </os>"
            )
    out = etree.Element("os", {k: v for k, v in attributes(src).items() if k == "firmware"})
    type_attrs = {"arch": arch}
    if machine:
        type_attrs["machine"] = machine
    new_type = etree.SubElement(out, "type", type_attrs)
    new_type.text = os_type
    rest = [copy.deepcopy(sub) for sub in children(src) if sub.tag != "type"]
    if len(rest) > 1:
        rest.sort(key=lambda e: _OS_RANK.get(e.tag, len(OS_ORDER)))
    out.extend(rest)
    if default_boot:
        insert_ordered(out, etree.Element("boot", dev="hd"), OS_ORDER)
    return out


def parse_action(top: TopLevel, tag: str, default: str, allowed: frozenset[str]) -> str:
    value = top_text(top, tag)
    if value is None:
        return default
    value = value.strip()
    if value not in allowed:
        raise ConfigUnsupportedError(f"unknown {tag} action: {value}", domain=_DOM)
    return value


_CLOCK_ATTRS = ("adjustment", "basis", "timezone", "start")


def parse_clock(top: TopLevel) -> str | etree._Element:
    """The normalised ``<clock>``: its text when it is only an offset, else a tree."""
    src = top.get("clock")
    if src is None:
        return "  <clock offset='utc'/>"
    offset = src.get("offset", "utc")
    if offset not in CLOCK_OFFSETS:
        raise ConfigUnsupportedError(f"unknown clock offset '{offset}'", domain=_DOM)
    if (
        offset != "variable"
        and not any(src.get(name) is not None for name in _CLOCK_ATTRS)
        and not children(src)
    ):
        return f"  <clock offset='{offset}'/>"
    out = etree.Element("clock", offset=offset)
    for name in _CLOCK_ATTRS:
        value = src.get(name)
        if name == "basis" and offset == "variable" and value is None:
            value = "utc"
        if value is not None:
            out.set(name, value)
    out.extend(copy.deepcopy(sub) for sub in children(src))
    return out


def parse_features(top: TopLevel) -> etree._Element | None:
    src = top.get("features")
    if src is None:
        return None
    rank = _FEATURE_RANK
    feats = children(src)
    for feat in feats:
        if feat.tag not in rank:
            raise ConfigUnsupportedError(f"unexpected feature '{feat.tag}'", domain=_DOM)
    out = etree.Element("features")
    out.extend(copy.deepcopy(f) for f in sorted(feats, key=lambda e: rank[e.tag]))
    return out
