"""Hypervisor features: ``<features>`` and its Hyper-V, KVM, Xen and capability sets.

:class:`Features` (with :class:`HyperV` and :class:`KVMFeatures`) is a view
of the live tree. :func:`read_features` reads the section as libvirt 9.0's
``virDomainFeaturesDefParse`` does and :func:`emit_features` writes it in
libvirt's order - the order of its feature enumeration, not the document's:

* ``acpi``, ``pae``, ``viridian``, ``privnet`` are bare flags;
* ``apic`` (with ``eoi``), ``gic`` (with ``version``) are switched on by
  presence;
* ``hap``, ``pmu``, ``pvspinlock``, ``vmport``, ``smm``, ``vmcoreinfo``,
  ``htm``, ``nested-hv``, ``ccf-assist`` carry ``state='on|off'`` (``on``
  when absent);
* ``hyperv``, ``kvm`` and ``xen`` list their enlightenments in enumeration
  order with a mandatory ``state``;
* ``ioapic``, ``hpt``, ``msrs``, ``cfpc``, ``sbbc``, ``ibs``, ``tcg`` and
  ``capabilities`` have their own attributes.

An element libvirt does not know is refused with ``unexpected feature``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import ONOFF, UINT, XMLFlag, XMLNode, XMLProperty
from virtcore.xml.childindex import children_by_name
from virtcore.xml.domain.common import (
    Grouped,
    attr_enum,
    attr_switch,
    attr_uint,
    child,
    fresh_record,
    on_off,
    string_value,
    sub,
    unsupported,
    xml_error,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["FEATURES", "Features", "FeaturesInfo", "HyperV", "KVMFeatures", "emit_features"]

logger = logging.getLogger(__name__)

FEATURES = (
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock",
    "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm",
    "nested-hv", "msrs", "ccf-assist", "xen", "cfpc", "sbbc", "ibs", "tcg",
)  # fmt: skip
"""libvirt 9.0's ``virDomainFeature`` enumeration: the order features are written in."""
_FEATURE_INDEX = {name: index for index, name in enumerate(FEATURES)}
FLAGS = ("acpi", "pae", "viridian", "privnet")
STATE_REQUIRED = ("htm", "nested-hv", "ccf-assist")
STATEFUL = (
    "hap", "pmu", "pvspinlock", "vmport", "smm", "vmcoreinfo", "htm", "nested-hv", "ccf-assist",
)  # fmt: skip
_FLAG_SET = frozenset(FLAGS)
_STATEFUL_SET = frozenset(STATEFUL)
HYPERV = (
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset",
    "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic",
)  # fmt: skip
KVM = ("hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring")
XEN = ("e820_host", "passthrough")
CAPABILITIES = (
    "audit_control", "audit_write", "block_suspend", "chown", "dac_override",
    "dac_read_search", "fowner", "fsetid", "ipc_lock", "ipc_owner", "kill", "lease",
    "linux_immutable", "mac_admin", "mac_override", "mknod", "net_admin",
    "net_bind_service", "net_broadcast", "net_raw", "setgid", "setfcap", "setpcap",
    "setuid", "sys_admin", "sys_boot", "sys_chroot", "sys_module", "sys_nice",
    "sys_pacct", "sys_ptrace", "sys_rawio", "sys_resource", "sys_time", "sys_tty_config",
    "syslog", "wake_alarm",
)  # fmt: skip
GIC_VERSIONS = ("host", "2", "3")
IOAPIC_DRIVERS = ("qemu", "kvm")
HPT_RESIZING = ("enabled", "disabled", "required")
TRIPLE = {
    "cfpc": ("broken", "workaround", "fixed"),
    "sbbc": ("broken", "workaround", "fixed"),
    "ibs": ("broken", "workaround", "fixed-ibs", "fixed-ccd", "fixed-na"),
}
SPINLOCKS_MIN = 4095


class HyperV(XMLNode):
    """``<features><hyperv mode=>``: Hyper-V enlightenments."""

    TAG = "hyperv"

    mode = XMLProperty("./@mode", doc="custom or passthrough.")
    relaxed = XMLProperty("./relaxed/@state", ONOFF)
    vapic = XMLProperty("./vapic/@state", ONOFF)
    spinlocks = XMLProperty("./spinlocks/@state", ONOFF)
    spinlocks_retries = XMLProperty("./spinlocks/@retries", UINT)
    vpindex = XMLProperty("./vpindex/@state", ONOFF)
    runtime = XMLProperty("./runtime/@state", ONOFF)
    synic = XMLProperty("./synic/@state", ONOFF)
    stimer = XMLProperty("./stimer/@state", ONOFF)
    stimer_direct = XMLProperty("./stimer/direct/@state", ONOFF)
    reset = XMLProperty("./reset/@state", ONOFF)
    vendor_id = XMLProperty("./vendor_id/@state", ONOFF)
    vendor_id_value = XMLProperty("./vendor_id/@value")
    frequencies = XMLProperty("./frequencies/@state", ONOFF)
    reenlightenment = XMLProperty("./reenlightenment/@state", ONOFF)
    tlbflush = XMLProperty("./tlbflush/@state", ONOFF)
    ipi = XMLProperty("./ipi/@state", ONOFF)
    evmcs = XMLProperty("./evmcs/@state", ONOFF)
    avic = XMLProperty("./avic/@state", ONOFF)


class KVMFeatures(XMLNode):
    """``<features><kvm>``: KVM paravirtualisation features."""

    TAG = "kvm"

    hidden = XMLProperty("./hidden/@state", ONOFF)
    hint_dedicated = XMLProperty("./hint-dedicated/@state", ONOFF)
    poll_control = XMLProperty("./poll-control/@state", ONOFF)
    pv_ipi = XMLProperty("./pv-ipi/@state", ONOFF)
    dirty_ring = XMLProperty("./dirty-ring/@state", ONOFF)
    dirty_ring_size = XMLProperty("./dirty-ring/@size", UINT)


class Features(XMLNode):
    """``<features>``: hypervisor features of the guest."""

    TAG = "features"
    XML_ORDER = {"": FEATURES}

    acpi = XMLFlag("./acpi")
    apic = XMLFlag("./apic")
    apic_eoi = XMLProperty("./apic/@eoi", ONOFF)
    pae = XMLFlag("./pae")
    hap = XMLProperty("./hap/@state", ONOFF)
    viridian = XMLFlag("./viridian")
    privnet = XMLFlag("./privnet")
    pvspinlock = XMLProperty("./pvspinlock/@state", ONOFF)
    pmu = XMLProperty("./pmu/@state", ONOFF)
    vmport = XMLProperty("./vmport/@state", ONOFF)
    gic_version = XMLProperty("./gic/@version")
    smm = XMLProperty("./smm/@state", ONOFF)
    ioapic_driver = XMLProperty("./ioapic/@driver")
    vmcoreinfo = XMLProperty("./vmcoreinfo/@state", ONOFF)
    msrs_unknown = XMLProperty("./msrs/@unknown")

    @property
    def hyperv(self) -> HyperV:
        """The ``<hyperv>`` enlightenments (created when first set)."""
        return HyperV._anchored(self, "./hyperv")

    @property
    def kvm(self) -> KVMFeatures:
        """The ``<kvm>`` features (created when first set)."""
        return KVMFeatures._anchored(self, "./kvm")

    def names(self) -> list[str]:
        """The features present, in document order."""
        return [str(node.tag) for node in self.xpath("./*") if isinstance(node.tag, str)]


@dataclass
class FeaturesInfo:
    """``<features>`` as libvirt holds it: per feature, its value."""

    present: bool = False
    values: dict[str, str] = field(default_factory=dict)
    apic_eoi: bool | None = None
    gic_version: str | None = None
    smm_tseg: int | None = None
    hpt_resizing: str | None = None
    hpt_maxpagesize: int = 0
    hyperv_mode: str = "custom"
    hyperv: dict[str, bool] = field(default_factory=dict)
    spinlocks: int = 0
    vendor_id: str | None = None
    stimer_direct: bool | None = None
    kvm: dict[str, bool] = field(default_factory=dict)
    dirty_ring_size: int = 0
    xen: dict[str, bool] = field(default_factory=dict)
    xen_passthrough_mode: str | None = None
    capabilities: dict[str, bool] = field(default_factory=dict)
    tb_cache: int | None = None

    @property
    def ioapic_driver(self) -> str | None:
        """The I/O APIC driver (``qemu`` or ``kvm``), which some devices depend on."""
        return self.values.get("ioapic")


def read_features(root: etree._Element, index: Grouped | None = None) -> FeaturesInfo:
    """``virDomainFeaturesDefParse``: every feature element, in document order.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    info = fresh_record(FeaturesInfo)
    sections = (index if index is not None else children_by_name(root)).get("features")
    if sections is None:
        return info
    info.present = True
    values = info.values
    # What iterfind("features/*") yields: every element below every <features>.
    for features in sections:
        for node in features:
            name = node.tag
            if name.__class__ is not str:  # a comment or processing instruction
                continue
            if name in _FLAG_SET:  # the most common ones, set by their presence alone
                values[name] = "on"
            elif name in _FEATURE_INDEX:
                _read_one(name, node, info)
            else:  # unknown, or in a namespace
                raise unsupported(f"unexpected feature '{etree.QName(node).localname}'")
    if values.get("smm") == "on":
        _read_tseg(root, info)
    if "capabilities" in values:
        _read_capabilities(root, info)
    return info


def _read_tseg(root: etree._Element, info: FeaturesInfo) -> None:
    """The SMM TSEG size of an enabled ``<smm>`` (read after the other features)."""
    tseg = child(root, "features/smm/tseg")
    if tseg is None:
        return
    info.smm_tseg = units.parse_scaled(
        string_value(tseg),
        tseg.get("unit"),
        where="string(./features/smm/tseg)",
        scale=1024 * 1024,
        required=True,
    )


def _read_one(name: str, node: etree._Element, info: FeaturesInfo) -> None:
    if name in _FLAG_SET:
        info.values[name] = "on"
    elif name in _STATEFUL_SET:
        state = attr_switch(node, "state", required=name in STATE_REQUIRED)
        info.values[name] = "on" if state is None or state else "off"
    elif name == "apic":
        if node.get("eoi") is not None:
            info.apic_eoi = attr_switch(node, "eoi")
        info.values[name] = "on"
    elif name == "gic":
        info.gic_version = attr_enum(node, "version", GIC_VERSIONS)
        info.values[name] = "on"
    elif name == "ioapic":
        driver = attr_enum(node, "driver", IOAPIC_DRIVERS)
        if driver is not None:
            info.values[name] = driver
    elif name == "hpt":
        info.hpt_resizing = attr_enum(node, "resizing", HPT_RESIZING)
        maxpage = child(node, "maxpagesize")
        if maxpage is not None:
            try:
                size = units.parse_scaled(
                    string_value(maxpage),
                    maxpage.get("unit"),
                    where="./features/hpt/maxpagesize",
                    scale=1024,
                    required=True,
                )
            except VirtError:
                raise unsupported("Unable to parse HPT maxpagesize setting") from None
            info.hpt_maxpagesize = -(-(size or 0) // 1024)
        info.values[name] = "on"
    elif name == "msrs":
        unknown = attr_enum(node, "unknown", ("ignore", "fault"), required=True)
        assert unknown is not None
        info.values[name] = unknown
    elif name in TRIPLE:
        value = attr_enum(node, "value", TRIPLE[name])
        if value is not None:
            info.values[name] = value
    elif name == "capabilities":
        policy = attr_enum(node, "policy", ("default", "allow", "deny"))
        info.values["capabilities"] = policy or "default"
    elif name == "hyperv":
        _read_hyperv(node, info)
    elif name == "kvm":
        _read_kvm(node, info)
    elif name == "xen":
        _read_xen(node, info)
    elif name == "tcg":
        cache = child(node, "tb-cache")
        if cache is not None:
            size = units.parse_scaled(
                string_value(cache),
                cache.get("unit"),
                where="./tb-cache",
                scale=1024,
                required=True,
            )
            info.tb_cache = -(-(size or 0) // 1024)
        info.values[name] = "on"


def _read_capabilities(root: etree._Element, info: FeaturesInfo) -> None:
    """The process capabilities of an LXC guest (read after the other features)."""
    for cap in root.iterfind("features/capabilities/*"):
        if cap.tag not in CAPABILITIES:
            raise unsupported(f"unexpected capability feature '{cap.tag}'")
        state = attr_switch(cap, "state")
        info.capabilities[str(cap.tag)] = state is None or state


def _state(node: etree._Element) -> bool:
    state = attr_switch(node, "state", required=True)
    assert state is not None
    return state


def _read_hyperv(node: etree._Element, info: FeaturesInfo) -> None:
    mode = attr_enum(node, "mode", ("custom", "passthrough"))
    info.hyperv_mode = mode or "custom"
    info.values["hyperv"] = info.hyperv_mode
    for item in node.iterchildren(etree.Element):
        if item.tag not in HYPERV:
            raise unsupported(f"unsupported HyperV Enlightenment feature: {item.tag}")
        state = _state(item)
        info.hyperv[str(item.tag)] = state
        if not state:
            continue
        if item.tag == "spinlocks":
            retries = attr_uint(item, "retries", required=True)
            assert retries is not None
            if retries < SPINLOCKS_MIN:
                raise xml_error("HyperV spinlock retry count must be at least 4095")
            info.spinlocks = retries
        elif item.tag == "vendor_id":
            value = item.get("value")
            if value is None:
                raise xml_error("missing 'value' attribute for HyperV feature 'vendor_id'")
            if len(value) > 12:
                raise xml_error("HyperV vendor_id value must not be more than 12 characters.")
            info.vendor_id = value
        elif item.tag == "stimer":
            direct = child(item, "direct")
            if direct is not None:
                info.stimer_direct = _state(direct)


def _read_kvm(node: etree._Element, info: FeaturesInfo) -> None:
    info.values["kvm"] = "on"
    for item in node.iterchildren(etree.Element):
        if item.tag not in KVM:
            raise unsupported(f"unsupported KVM feature: {item.tag}")
        state = _state(item)
        info.kvm[str(item.tag)] = state
        if item.tag == "dirty-ring" and state:
            size = attr_uint(item, "size", required=True)
            assert size is not None
            if size & (size - 1) or not 1024 <= size <= 65536:
                raise xml_error("dirty ring must be power of 2 and ranges [1024, 65536]")
            info.dirty_ring_size = size


def _read_xen(node: etree._Element, info: FeaturesInfo) -> None:
    info.values["xen"] = "on"
    for item in node.iterchildren(etree.Element):
        if item.tag not in XEN:
            raise unsupported(f"unsupported Xen feature: {item.tag}")
        state = _state(item)
        info.xen[str(item.tag)] = state
        if item.tag == "passthrough" and state:
            info.xen_passthrough_mode = attr_enum(item, "mode", ("sync_pt", "share_pt"))


def _pretty(size: int) -> tuple[int, str]:
    unit = "B"
    for name in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size and size % 1024 == 0:
            size //= 1024
            unit = name
        else:
            break
    return size, unit


def emit_features(info: FeaturesInfo, out: OutNode) -> None:
    """``<features>`` in libvirt's enumeration order (nothing when none is set)."""
    values = info.values
    if not values:
        return
    features = sub(out, "features")  # taken back below if nothing is written in it
    # Usually two or three are set: visit those, in libvirt's order.
    index = _FEATURE_INDEX
    names = [n for n in values if n in index]
    if len(names) > 1:
        names.sort(key=index.__getitem__)
    for name in names:
        value = values[name]
        if name in _FLAG_SET:
            sub(features, name)
        elif name == "smm":
            smm = sub(features, name, [("state", value)])
            if value == "on" and info.smm_tseg is not None:
                size, unit = _pretty(info.smm_tseg)
                sub(smm, "tseg", [("unit", unit)], size)
        elif name in _STATEFUL_SET:
            sub(features, name, [("state", value)])
        elif name == "apic":
            sub(features, name, [("eoi", on_off(info.apic_eoi))])
        elif name == "gic":
            sub(features, name, [("version", info.gic_version)])
        elif name == "ioapic":
            sub(features, name, [("driver", value)])
        elif name == "hpt":
            hpt = sub(features, name, [("resizing", info.hpt_resizing)])
            if info.hpt_maxpagesize:
                sub(hpt, "maxpagesize", [("unit", "KiB")], info.hpt_maxpagesize)
        elif name == "msrs":
            sub(features, name, [("unknown", value)])
        elif name in TRIPLE:
            sub(features, name, [("value", value)])
        elif name == "capabilities":
            _emit_capabilities(info, features)
        elif name == "hyperv":
            _emit_hyperv(info, features)
        elif name == "kvm":
            kvm = sub(features, "kvm")
            for item in KVM:
                if item in info.kvm:
                    size = info.dirty_ring_size if item == "dirty-ring" else 0
                    sub(kvm, item, [("state", on_off(info.kvm[item])), ("size", size or None)])
        elif name == "xen":
            xen = sub(features, "xen")
            for item in XEN:
                if item in info.xen:
                    mode = info.xen_passthrough_mode if item == "passthrough" else None
                    sub(xen, item, [("state", on_off(info.xen[item])), ("mode", mode)])
        elif name == "tcg" and info.tb_cache:
            tcg = sub(features, "tcg")
            sub(tcg, "tb-cache", [("unit", "KiB")], info.tb_cache)
    if not features.children:
        out.children.pop()


def _emit_capabilities(info: FeaturesInfo, features: OutNode) -> None:
    policy = info.values["capabilities"]
    if policy == "default" and not info.capabilities:
        return
    caps = sub(features, "capabilities", [("policy", policy)])
    for cap in CAPABILITIES:
        if cap in info.capabilities:
            sub(caps, cap, [("state", on_off(info.capabilities[cap]))])


def _emit_hyperv(info: FeaturesInfo, features: OutNode) -> None:
    hyperv = sub(features, "hyperv", [("mode", info.hyperv_mode)])
    for item in HYPERV:
        if item not in info.hyperv:
            continue
        state = info.hyperv[item]
        attrs: list[tuple[str, str | int | None]] = [("state", on_off(state))]
        if state and item == "spinlocks":
            attrs.append(("retries", info.spinlocks))
        if state and item == "vendor_id":
            attrs.append(("value", info.vendor_id))
        element = sub(hyperv, item, attrs)
        if state and item == "stimer" and info.stimer_direct:
            sub(element, "direct", [("state", "on")])
