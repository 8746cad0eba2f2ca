"""Domain XML for the test driver: parsing, libvirt's defaults, and libvirt's formatting.

:meth:`DomainDef.parse` reads a ``<domain>`` document the way libvirt 9.0
does with ``VIR_DOMAIN_DEF_PARSE_INACTIVE`` for its test driver, reports
libvirt's errors (codes, domains and wording) for the checks it models, and
fills in libvirt's defaults: a generated UUID, ``currentMemory`` clamped to
``memory``, ``vcpu placement='static'``, the default architecture ``i686``,
``<boot dev='hd'/>`` for HVM guests without boot order, ``<clock
offset='utc'/>``, lifecycle actions, generated MAC addresses and ``testnetN``
interface names, drive addresses for IDE/SCSI/SATA/floppy disks and the
implicit disk controllers they need.

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
``<perf>``) are modelled by :class:`~.domainparts.DomainTuning`.
"""

from __future__ import annotations

import copy
import random
import re
import uuid as _uuid
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.domainparts import DomainTuning, format_cpuset
from virtcore.drivers.test.resources import normalize_bandwidth, normalize_iotune, write_device
from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    child,
    children,
    elements,
    local_name,
    parse_xml,
    require_uuid,
    scaled_integer,
    words,
)
from virtcore.enums.domain import DomainState
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    VirtError,
    XMLError,
)

__all__ = ["TEST_NAMESPACE", "DomainDef", "TestNamespace"]

TEST_NAMESPACE = "http://libvirt.org/schemas/domain/test/1.0"
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
DEVICE_ORDER = words(
    "emulator disk controller lease filesystem interface smartcard serial parallel channel "
    "console input tpm graphics sound audio video hostdev redirdev redirfilter hub watchdog "
    "memballoon rng nvram panic shmem memory iommu vsock crypto"
)
DEVICE_RANK = {tag: i for i, tag in enumerate(DEVICE_ORDER)}
DEVINFO_ORDER = ("boot", "alias", "master", "rom", "acpi", "address")
DISK_ORDER = (
    words(
        "driver auth source backingStore backenddomain geometry blockio mirror target iotune "
        "readonly shareable transient serial wwn vendor product encryption"
    )
    + DEVINFO_ORDER
)
NET_ORDER = (
    words(
        "mac source vlan virtualport bandwidth port ip route script downscript backenddomain "
        "target guest model driver backend filterref tune teaming link mtu coalesce"
    )
    + DEVINFO_ORDER
)
# Top-level elements DomainDef models itself (the rest is carried through).
MODELLED = words("name uuid title description memory currentMemory vcpu os clock features devices")
KEEP_OPEN = ("devices", "bandwidth")
# Interface names libvirt treats as generated (dropped from inactive definitions).
GENERATED_IFNAME_PREFIXES = ("vnet", "macvtap", "macvlan")
# Disk buses that get drive addresses, with their units per controller.
DRIVE_UNITS = {"ide": 4, "fdc": 2, "scsi": 7, "sata": 6}
DISK_BUS_BY_PREFIX = (
    ("hd", "ide"),
    ("sd", "scsi"),
    ("vd", "virtio"),
    ("xvd", "xen"),
    ("ubd", "uml"),
    ("fd", "fdc"),
)
_MAC_RE = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")


@dataclass
class TestNamespace:
    """The test driver's own per-domain settings (only used in configuration files)."""

    __test__ = False  # not a pytest test class

    runstate: int = DomainState.RUNNING
    transient: bool = False
    has_managed_save: bool = False
    snapshots: list[etree._Element] = field(default_factory=list)
    """``<test:domainsnapshot>`` elements (inline documents or ``file=`` references)."""


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
        namespace = _parse_namespace(root)

        name = _text(root, "name")
        if not name:
            raise VirtError(code=ErrorNumber.NO_NAME, domain=_DOM)
        uuid_elem = child(root, "uuid")
        uuid = require_uuid(uuid_elem.text or "") if uuid_elem is not None else None
        title = _text(root, "title")
        if title is not None and "\n" in title:
            raise XMLError("Domain title can't contain newlines", domain=_DOM)

        memory_kib, current_kib = _parse_memory(root)
        vcpus, vcpus_current, vcpu_attrs = _parse_vcpu(root)
        os_elem, os_type, os_arch = _parse_os(root)
        actions = {
            tag: _parse_action(root, tag, default, allowed)
            for tag, default, allowed in (
                ("on_poweroff", "destroy", POWEROFF_ACTIONS),
                ("on_reboot", "restart", POWEROFF_ACTIONS),
                ("on_crash", "destroy", CRASH_ACTIONS),
            )
        }
        modelled = set(MODELLED) | set(actions) | set(DomainTuning.MODELLED)
        tuning = DomainTuning.parse(root, vcpu_attrs.get("cpuset"))
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

        devices_elem = child(root, "devices")
        devices = _normalize_devices(devices_elem, ifnames=ifnames)
        if os_type == "hvm" and not children(os_elem, "boot"):
            has_boot_order = any(child(dev, "boot") is not None for dev in devices)
            if not has_boot_order:
                _insert_ordered(os_elem, etree.Element("boot", dev="hd"), OS_ORDER)

        if "/" in name:
            raise XMLError(f"name {name} cannot contain '/'", domain=_DOM)
        return cls(
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
            description=_text(root, "description"),
            vcpu_attrs=vcpu_attrs,
            os_elem=os_elem,
            clock=_parse_clock(root),
            features=_parse_features(root),
            devices=devices,
            passthrough=passthrough,
            unknown=unknown,
            namespace=namespace,
            tuning=tuning,
        )

    def copy(self) -> DomainDef:
        """An independent copy, made like libvirt's ``virDomainDefCopy``.

        libvirt copies a definition by formatting and parsing it again, so
        the copy is normalised once more: disks whose bus was implied by
        their name are now ordered by their explicit bus, for instance.
        """
        clone = DomainDef.from_element(
            parse_xml(self.format(), "(domain_definition)", domain=_DOM, root="domain")
        )
        clone.unknown = copy.deepcopy(self.unknown)
        clone.namespace = copy.deepcopy(self.namespace)
        return clone

    def replace_devices(self, devices: list[etree._Element]) -> None:
        """Install *devices*, normalised as the parser would (addresses, controllers, names)."""
        holder = etree.Element("devices")
        holder.extend(copy.deepcopy(dev) for dev in devices)
        self.devices = _normalize_devices(holder)

    # -- formatting ----------------------------------------------------------

    def format(self, live_id: int | None = None) -> str:
        """The document as ``virDomainGetXMLDesc`` prints it.

        *live_id* is the running domain's id (printed as ``id='N'``); pass
        ``None`` for an inactive definition or ``VIR_DOMAIN_XML_INACTIVE``.
        """
        out = XMLWriter()
        out.open("domain", [("type", self.virt_type), ("id", live_id)])
        for tag in TOP_ORDER:
            self._format_top(out, tag)
        for elem in self.unknown:
            out.element(elem)
        out.close("domain")
        return out.getvalue()

    def _format_top(self, out: XMLWriter, tag: str) -> None:
        if tag == "name":
            out.text("name", self.name)
        elif tag == "uuid":
            out.text("uuid", self.uuid)
        elif tag == "title" and self.title is not None:
            out.text("title", self.title)
        elif tag == "description" and self.description is not None:
            out.text("description", self.description)
        elif tag == "memory":
            out.text("memory", self.memory_kib, [("unit", "KiB")])
        elif tag == "currentMemory":
            out.text("currentMemory", self.current_kib, [("unit", "KiB")])
        elif tag == "vcpu":
            cpumask = self.tuning.cpumask
            attrs = [
                ("placement", self.vcpu_attrs.get("placement", "static")),
                ("cpuset", format_cpuset(cpumask) if cpumask is not None else None),
            ]
            if self.vcpus_current != self.vcpus:
                attrs.append(("current", str(self.vcpus_current)))
            out.text("vcpu", self.vcpus, attrs)
        elif tag == "os" and self.os_elem is not None:
            out.element(self.os_elem)
        elif tag == "features" and self.features is not None:
            out.element(self.features)
        elif tag == "clock" and self.clock is not None:
            out.element(self.clock)
        elif tag in ("on_poweroff", "on_reboot", "on_crash"):
            out.text(tag, getattr(self, tag))
        elif self.tuning.format_section(out, tag):
            return
        elif tag == "devices":
            out.open("devices")
            for dev in self.devices:
                write_device(out, dev, KEEP_OPEN)
            out.close("devices")
        else:
            for elem in self.passthrough.get(tag, ()):
                out.element(elem)


# -- helpers ----------------------------------------------------------------


def _text(root: etree._Element, tag: str) -> str | None:
    elem = child(root, tag)
    return None if elem is None else (elem.text or "")


def _parse_namespace(root: etree._Element) -> TestNamespace:
    ns = {"test": TEST_NAMESPACE}
    data = TestNamespace(
        transient=bool(root.xpath("boolean(./test:transient)", namespaces=ns)),
        has_managed_save=bool(root.xpath("boolean(./test:hasmanagedsave)", namespaces=ns)),
        snapshots=[copy.deepcopy(e) for e in root.findall(f"{{{TEST_NAMESPACE}}}domainsnapshot")],
    )
    runstate = root.find(f"{{{TEST_NAMESPACE}}}runstate")
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


def _parse_memory(root: etree._Element) -> tuple[int, int]:
    memory = 0
    elem = child(root, "memory")
    if elem is not None:
        memory = -(-scaled_integer(elem, "./memory[1]", default_unit="KiB", domain=_DOM) // 1024)
    if memory == 0:
        raise XMLError(
            "Memory size must be specified via <memory> or in the <numa> configuration",
            domain=_DOM,
        )
    current = memory
    elem = child(root, "currentMemory")
    if elem is not None:
        value = scaled_integer(elem, "./currentMemory[1]", default_unit="KiB", domain=_DOM)
        current = -(-value // 1024)
        if current == 0 or current > memory:
            current = memory
    return memory, current


def _parse_vcpu(root: etree._Element) -> tuple[int, int, dict[str, str]]:
    elem = child(root, "vcpu")
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


def _parse_os(root: etree._Element) -> tuple[etree._Element, str, str]:
    src = child(root, "os")
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
    out = etree.Element("os", {k: v for k, v in attributes(src).items() if k == "firmware"})
    type_attrs = {"arch": arch}
    if type_elem.get("machine"):
        type_attrs["machine"] = type_elem.get("machine", "")
    new_type = etree.SubElement(out, "type", type_attrs)
    new_type.text = os_type
    rest = [copy.deepcopy(sub) for sub in children(src) if sub.tag != "type"]
    rank = {tag: i for i, tag in enumerate(OS_ORDER)}
    rest.sort(key=lambda e: rank.get(e.tag, len(OS_ORDER)))
    out.extend(rest)
    return out, os_type, arch


def _parse_action(root: etree._Element, tag: str, default: str, allowed: frozenset[str]) -> str:
    value = _text(root, tag)
    if value is None:
        return default
    value = value.strip()
    if value not in allowed:
        raise ConfigUnsupportedError(f"unknown {tag} action: {value}", domain=_DOM)
    return value


def _parse_clock(root: etree._Element) -> etree._Element:
    src = child(root, "clock")
    if src is None:
        return etree.Element("clock", offset="utc")
    offset = src.get("offset", "utc")
    if offset not in CLOCK_OFFSETS:
        raise ConfigUnsupportedError(f"unknown clock offset '{offset}'", domain=_DOM)
    out = etree.Element("clock", offset=offset)
    for name in ("adjustment", "basis", "timezone", "start"):
        value = src.get(name)
        if name == "basis" and offset == "variable" and value is None:
            value = "utc"
        if value is not None:
            out.set(name, value)
    out.extend(copy.deepcopy(sub) for sub in children(src))
    return out


def _parse_features(root: etree._Element) -> etree._Element | None:
    src = child(root, "features")
    if src is None:
        return None
    rank = {tag: i for i, tag in enumerate(FEATURE_ORDER)}
    feats = children(src)
    for feat in feats:
        if feat.tag not in rank:
            raise ConfigUnsupportedError(f"unexpected feature '{feat.tag}'", domain=_DOM)
    out = etree.Element("features")
    out.extend(copy.deepcopy(f) for f in sorted(feats, key=lambda e: rank[e.tag]))
    return out


def _insert_ordered(parent: etree._Element, elem: etree._Element, order: tuple[str, ...]) -> None:
    rank = {tag: i for i, tag in enumerate(order)}
    mine = rank.get(local_name(elem), len(order))
    for pos, sub in enumerate(parent):
        if rank.get(local_name(sub), len(order)) > mine:
            parent.insert(pos, elem)
            return
    parent.append(elem)


def _set_attrs(elem: etree._Element, order: tuple[str, ...], updates: dict[str, str]) -> None:
    """Apply *updates* to *elem*'s attributes, then put them in libvirt's *order*."""
    attrs = attributes(elem)
    attrs.update(updates)
    elem.attrib.clear()
    for name in order:
        if name in attrs:
            elem.set(name, attrs.pop(name))
    for name, value in attrs.items():
        elem.set(name, value)


def _reordered(
    src: etree._Element,
    order: tuple[str, ...],
    attr_order: tuple[str, ...],
    defaults: dict[str, str] | None = None,
) -> etree._Element:
    """A copy of *src* with attributes and children in libvirt's order."""
    out = etree.Element(src.tag)
    updates = {k: v for k, v in (defaults or {}).items() if src.get(k) is None}
    out.attrib.update(src.attrib)
    _set_attrs(out, attr_order, updates)
    rank = {tag: i for i, tag in enumerate(order)}
    subs = [copy.deepcopy(s) for s in src if isinstance(s.tag, str)]
    subs.sort(key=lambda e: rank.get(local_name(e), len(order)))
    out.extend(normalize_address(s) if s.tag == "address" else s for s in subs)
    return out


def normalize_address(src: etree._Element) -> etree._Element:
    """A device ``<address>`` with libvirt's number formatting."""
    kind = src.get("type")
    if kind == "pci":
        out = etree.Element("address", type="pci")
        widths = (("domain", "0x%04x"), ("bus", "0x%02x"), ("slot", "0x%02x"), ("function", "0x%x"))
        for name, fmt in widths:
            out.set(name, fmt % _int_attr(src, name))
        if src.get("multifunction"):
            out.set("multifunction", src.get("multifunction", ""))
        return out
    if kind == "drive":
        out = etree.Element("address", type="drive")
        for name in ("controller", "bus", "target", "unit"):
            out.set(name, str(_int_attr(src, name)))
        return out
    return copy.deepcopy(src)


def _int_attr(elem: etree._Element, name: str) -> int:
    """An address number read like C's ``strtoul(..., 0)``: hex, octal or decimal."""
    raw = elem.get(name, "0").strip().lower()
    if raw.startswith("0x"):
        base = 16
    elif len(raw) > 1 and raw.startswith("0"):
        base = 8
    else:
        base = 10
    try:
        return int(raw, base)
    except ValueError:
        raise XMLError(f"Cannot parse <address> '{name}' attribute", domain=_DOM) from None


def _disk_index(dev: str) -> int:
    """libvirt's ``virDiskNameToIndex``: ``hda`` → 0, ``sdb`` → 1, ``sdaa`` → 26."""
    for prefix in ("fd", "hd", "vd", "sd", "xvd", "ubd"):
        if dev.startswith(prefix):
            letters = dev[len(prefix) :].rstrip("0123456789")
            break
    else:
        return -1
    idx = 0
    for ch in letters:
        if not "a" <= ch <= "z":
            return -1
        idx = idx * 26 + (ord(ch) - ord("a") + 1)
    return idx - 1


def _drive_address(bus: str, idx: int) -> tuple[int, int, int]:
    """(controller, bus, unit) libvirt's ``virDomainDiskDefAssignAddress`` picks."""
    if bus == "ide":
        return idx // 4, (idx % 4) // 2, idx % 2
    per_controller = DRIVE_UNITS[bus]
    return idx // per_controller, 0, idx % per_controller


def _normalize_disk(src: etree._Element) -> tuple[etree._Element, str]:
    """The disk with libvirt's defaults and drive address, and its target name."""
    disk = _reordered(
        src,
        DISK_ORDER,
        ("type", "device", "model", "rawio", "sgio", "snapshot"),
        {"type": "file", "device": "disk"},
    )
    target = child(disk, "target")
    source = child(disk, "source")
    if target is None or not target.get("dev"):
        detail = None
        if source is not None:
            detail = source.get("file") or source.get("dev") or source.get("dir")
        raise VirtError(detail, code=ErrorNumber.NO_TARGET, domain=_DOM)
    dev = target.get("dev", "")
    if disk.get("device") == "floppy" and not dev.startswith("fd"):
        raise InternalError(f"Invalid floppy device name: {dev}", domain=_DOM)
    if disk.get("device") != "floppy" and dev.startswith("fd"):
        raise InternalError(f"Invalid harddisk device name: {dev}", domain=_DOM)
    for iotune in children(disk, "iotune"):
        normalize_iotune(iotune)
    if disk.get("device") == "cdrom" and child(disk, "readonly") is None:
        # libvirt's parser makes every CD-ROM read-only, and formats it so.
        _insert_ordered(disk, etree.Element("readonly"), DISK_ORDER)
    needs_source = disk.get("device") in ("disk", "lun") and disk.get("type") in ("file", "block")
    if source is None and needs_source:
        raise VirtError(dev, code=ErrorNumber.NO_SOURCE, domain=_DOM)
    bus = target.get("bus") or next((b for p, b in DISK_BUS_BY_PREFIX if dev.startswith(p)), "ide")
    _set_attrs(target, ("dev", "bus", "tray", "removable", "rotation_rate"), {"bus": bus})
    address = child(disk, "address")
    if address is None and bus in DRIVE_UNITS:
        index = _disk_index(dev)
        if index < 0:
            raise XMLError(f"Unknown disk name '{dev}' and no address specified", domain=_DOM)
        controller, bus_no, unit = _drive_address(bus, index)
        etree.SubElement(
            disk,
            "address",
            type="drive",
            controller=str(controller),
            bus=str(bus_no),
            target="0",
            unit=str(unit),
        )
    elif address is not None and bus in DRIVE_UNITS and address.get("type") == "pci":
        raise ConfigUnsupportedError(
            f"Invalid address type 'pci' for the disk '{dev}' with the bus type '{bus}'",
            domain=_DOM,
        )
    return disk, dev


def _parse_mac(text: str) -> str:
    if not _MAC_RE.fullmatch(text):
        raise XMLError(f"unable to parse mac address '{text}'", domain=_DOM)
    octets = [int(part, 16) for part in text.split(":")]
    formatted = ":".join(f"{o:02x}" for o in octets)
    if octets[0] & 1:
        raise XMLError(f"expected unicast mac address, found multicast '{text}'", domain=_DOM)
    return formatted


def _normalize_interface(src: etree._Element) -> etree._Element:
    net = _reordered(src, NET_ORDER, ("type", "trustGuestRxFilters"), {"type": "user"})
    if net.get("type") == "network" and child(net, "source") is None:
        raise XMLError("interface type='network' requires a 'source' element", domain=_DOM)
    mac = child(net, "mac")
    if mac is None or mac.get("address") is None:
        generated = "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))
        if mac is None:
            mac = etree.Element("mac")
            net.insert(0, mac)
        mac.set("address", generated)
    else:
        mac.set("address", _parse_mac(mac.get("address", "")))
    source = child(net, "source")
    if source is not None and net.get("type") == "network":
        keep = {k: source.get(k) for k in ("network", "portgroup", "portid")}
        source.attrib.clear()
        for name, value in keep.items():
            if value is not None:
                source.set(name, value)
    target = child(net, "target")
    if target is not None and target.get("dev", "").startswith(GENERATED_IFNAME_PREFIXES):
        net.remove(target)
    for bandwidth in children(net, "bandwidth"):
        normalize_bandwidth(bandwidth)
    for ip in children(net, "ip"):
        # libvirt writes the family it infers and drops the element's content.
        address = ip.get("address", "")
        family = ip.get("family") or ("ipv6" if ":" in address else "ipv4")
        attrs = {"address": address, "family": family, "prefix": ip.get("prefix"),
                 "peer": ip.get("peer")}  # fmt: skip
        ip.attrib.clear()
        for name, value in attrs.items():
            if value is not None:
                ip.set(name, value)
        for sub in list(ip):
            ip.remove(sub)
    return net


def _normalize_devices(
    devices_elem: etree._Element | None, *, ifnames: bool = True
) -> list[etree._Element]:
    disks: list[tuple[str | None, int, etree._Element]] = []
    others: list[etree._Element] = []
    for src in children(devices_elem) if devices_elem is not None else []:
        if src.tag == "disk":
            target = child(src, "target")
            explicit_bus = target.get("bus") if target is not None else None
            disk, dev = _normalize_disk(src)
            _insert_disk(disks, (explicit_bus, _disk_index(dev), disk))
        elif src.tag == "interface":
            others.append(_normalize_interface(src))
        elif src.tag == "memballoon":
            attr_order = ("model", "autodeflate", "freePageReporting")
            others.append(_reordered(src, ("stats", *DEVINFO_ORDER), attr_order))
        else:
            others.append(_reordered(src, DEVINFO_ORDER, ("type",)))
    devices = [disk for _, _, disk in disks] + others
    _add_implicit_controllers(devices)
    if ifnames:
        _generate_ifnames(devices)
    # Stable: disks keep their insertion order, other devices their document order.
    devices.sort(key=lambda dev: DEVICE_RANK.get(dev.tag, len(DEVICE_RANK)))
    return devices


def _insert_disk(
    disks: list[tuple[str | None, int, etree._Element]],
    entry: tuple[str | None, int, etree._Element],
) -> None:
    """Insert a disk where libvirt's parser does (``virDomainDiskInsertPreAlloced``).

    Going backwards over the disks parsed so far on the same bus (as written in
    the document, unset counting as a bus of its own), the new disk goes before
    the earliest one with a higher index, else right after the last one.
    """
    bus, index, _ = entry
    insert_at = -1
    for pos in range(len(disks) - 1, -1, -1):
        other_bus, other_index, _ = disks[pos]
        if other_bus != bus:
            continue
        if other_index > index:
            insert_at = pos
        elif insert_at == -1:
            insert_at = pos + 1
    if insert_at == -1:
        disks.append(entry)
    else:
        disks.insert(insert_at, entry)


def _add_implicit_controllers(devices: list[etree._Element]) -> None:
    """Add the disk controllers libvirt adds implicitly, SCSI, FDC, IDE, SATA in that order."""
    for bus in ("scsi", "fdc", "ide", "sata"):
        highest = -1
        for dev in devices:
            target = child(dev, "target") if dev.tag == "disk" else None
            address = child(dev, "address") if dev.tag == "disk" else None
            if target is None or target.get("bus") != bus or address is None:
                continue
            if address.get("type") == "drive":
                highest = max(highest, int(address.get("controller", "0")))
        for index in range(highest + 1):
            exists = any(
                dev.tag == "controller"
                and dev.get("type") == bus
                and dev.get("index", "0") == str(index)
                for dev in devices
            )
            if not exists:
                devices.append(etree.Element("controller", type=bus, index=str(index)))


def _generate_ifnames(devices: list[etree._Element]) -> None:
    """Name NICs without a host-side name ``testnetN`` (libvirt's testDomainGenerateIfnames)."""
    nets = [d for d in devices if d.tag == "interface"]
    used = set()
    for net in nets:
        target = child(net, "target")
        if target is not None:
            used.add(target.get("dev"))
    for net in nets:
        if child(net, "target") is not None:
            continue
        counter = 0
        while f"testnet{counter}" in used:
            counter += 1
        name = f"testnet{counter}"
        used.add(name)
        _insert_ordered(net, etree.Element("target", dev=name), NET_ORDER)
