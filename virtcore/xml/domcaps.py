"""The domain capabilities document (``<domainCapabilities>``), built and written like libvirt.

``virConnectGetDomainCapabilities`` describes what one emulator binary can
give a guest of one virtualization type, architecture and machine type. A
driver *builds* it from probed data; libvirt never reads it back.
:class:`DomainCapabilities` is therefore a builder - a typed view of a live
``<domainCapabilities>`` tree - and :meth:`DomainCapabilities.format` writes
exactly what ``virsh domcapabilities`` prints::

    caps = DomainCapabilities.new("/usr/bin/qemu-system-x86_64", "kvm", "x86_64",
                                  machine="pc-q35-7.2")
    caps.vcpu_max = 288
    caps.iothreads = True
    caps.os.supported = True
    caps.os.set_enum("firmware", ["efi"])
    caps.cpu.host_model.supported = True
    caps.cpu.host_model.model = "EPYC"
    caps.cpu.custom.add_model("qemu64", usable="yes", vendor="unknown")
    caps.devices.disk.set_enum("bus", ["scsi", "virtio"])
    caps.features.sev.supported = False

Whatever order the parts are filled in, :meth:`~DomainCapabilities.format`
writes them in libvirt's (:data:`DOMCAPS_ORDER`, through the ordering engine
shared with the host capabilities, :func:`virtcore.xml.capabilities.canonical_copy`)
and as libvirt does: a part with ``supported='no'`` is written empty, an
``<enum>`` without values is self-closing, elements libvirt 9.0 does not
know are left out. The result validates against ``domaincaps.rng``.

Every part is a :class:`Capability` - an element with ``supported='yes|no'``
and named ``<enum>`` value lists; the ones with more structure (the
firmware loader, the CPU modes, SEV and SGX) add typed properties.
:meth:`DomainCapabilities.parse` reads a recorded document (for instance a
driver's cached probe) and checks its typed values.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.xml.builder import (
    UINT,
    ULLONG,
    YESNO,
    XMLChild,
    XMLChildList,
    XMLNode,
    XMLProperty,
)
from virtcore.xml.capabilities import canonical_copy
from virtcore.xml.format import FormatRules, format_xml

__all__ = [
    "DEVICE_NAMES",
    "DOMCAPS_ORDER",
    "FEATURE_NAMES",
    "CPUCaps",
    "CPUMode",
    "Capability",
    "CustomCPUModel",
    "DeviceCaps",
    "DomainCapabilities",
    "EnumValues",
    "FeatureCaps",
    "HostModelFeature",
    "LoaderCaps",
    "OSCaps",
    "SEVCaps",
    "SGXCaps",
    "SGXSection",
]

logger = logging.getLogger(__name__)

DEVICE_NAMES = (
    "disk", "graphics", "video", "hostdev", "rng", "filesystem", "tpm", "redirdev", "channel",
)  # fmt: skip
"""Device kinds of ``<devices>``, in the order libvirt 9.0 writes them."""
FEATURE_NAMES = (
    "gic", "vmcoreinfo", "genid", "backingStoreInput", "backup", "s390-pv", "sev", "sgx",
    "hyperv",
)  # fmt: skip
"""Features of ``<features>``, in the order libvirt 9.0 writes them."""
CPU_MODES = ("host-passthrough", "maximum", "host-model", "custom")
"""CPU modes, in the order libvirt 9.0 writes them."""

_FEATURE_ATTRS = {"backingStoreInput": "backing_store_input", "s390-pv": "s390_pv"}
_CAPABILITY = ("@supported", "enum")
_ENUM = ("@name", "value")

DOMCAPS_ORDER: dict[str, tuple[str, ...]] = {
    "domainCapabilities": ("path", "domain", "machine", "arch", "vcpu", "iothreads", "os", "cpu",
                           "memoryBacking", "devices", "features"),
    "vcpu": ("@max",),
    "iothreads": ("@supported",),
    "os": ("@supported", "enum", "loader"),
    "os/enum": _ENUM,
    "os/loader": ("@supported", "value", "enum"),
    "os/loader/enum": _ENUM,
    "cpu": ("mode",),
    "cpu/mode": ("@name", "@supported", "enum", "model", "vendor", "feature"),
    "cpu/mode/enum": _ENUM,
    "cpu/mode/model": ("@fallback", "@usable", "@deprecated", "@vendor"),
    "cpu/mode/feature": ("@policy", "@name"),
    "memoryBacking": _CAPABILITY,
    "memoryBacking/enum": _ENUM,
    "devices": DEVICE_NAMES,
    **{f"devices/{name}": _CAPABILITY for name in DEVICE_NAMES},
    **{f"devices/{name}/enum": _ENUM for name in DEVICE_NAMES},
    "features": FEATURE_NAMES,
    **{f"features/{name}": ("@supported",) for name in FEATURE_NAMES},
    "features/gic": _CAPABILITY,
    "features/gic/enum": _ENUM,
    "features/hyperv": _CAPABILITY,
    "features/hyperv/enum": _ENUM,
    "features/sev": ("@supported", "cbitpos", "reducedPhysBits", "maxGuests", "maxESGuests"),
    "features/sgx": ("@supported", "flc", "sgx1", "sgx2", "section_size", "sections"),
    "features/sgx/section_size": ("@unit",),
    "features/sgx/sections": ("section",),
    "features/sgx/sections/section": ("@node", "@size", "@unit"),
}  # fmt: skip
"""What libvirt 9.0 writes, in its order, per element path below ``<domainCapabilities>``.

Same conventions as :data:`virtcore.xml.capabilities.CAPABILITIES_ORDER`.
"""

DOMCAPS_RULES = FormatRules()
"""``<domainCapabilities>`` has no layout quirks."""


class EnumValues(XMLNode):
    """``<enum name='...'>`` with its ``<value>`` list (possibly empty)."""

    TAG = "enum"
    name = XMLProperty("./@name")

    @property
    def values(self) -> list[str]:
        """The values, in document order."""
        return [str(v) for v in self.xpath("./value/text()")]

    @values.setter
    def values(self, values: Sequence[str]) -> None:
        element = self.element
        for old in element.findall("value"):
            element.remove(old)
        for value in values:
            etree.SubElement(element, "value").text = value


class Capability(XMLNode):
    """A part that is ``supported='yes|no'``, optionally with named value lists."""

    TAG = "capability"
    supported = XMLProperty("./@supported", YESNO)
    enums = XMLChildList(EnumValues, "./enum")

    def enum(self, name: str) -> list[str] | None:
        """The values of enum *name*, or None when there is no such enum."""
        for item in self.enums:
            if item.name == name:
                return item.values
        return None

    def set_enum(self, name: str, values: Sequence[str]) -> EnumValues:
        """Set enum *name* to *values* (an empty list writes ``<enum name='...'/>``).

        Setting an enum marks the part supported unless it was set otherwise.
        """
        if self.supported is None:
            self.supported = True
        for item in self.enums:
            if item.name == name:
                item.values = values
                return item
        item = self.enums.append()
        item.name = name
        item.values = values
        return item

    def enum_names(self) -> list[str]:
        """The names of the enums present, in document order."""
        return [str(item.name) for item in self.enums]


class LoaderCaps(Capability):
    """``<os><loader>``: firmware images found (``<value>``) and loader enums."""

    TAG = "loader"

    @property
    def values(self) -> list[str]:
        """Firmware image paths, in document order."""
        return [str(v) for v in self.xpath("./value/text()")]

    @values.setter
    def values(self, paths: Sequence[str]) -> None:
        element = self.element
        for old in element.findall("value"):
            element.remove(old)
        if self.supported is None:
            self.supported = True
        for path in paths:
            etree.SubElement(element, "value").text = path


class OSCaps(Capability):
    """``<os>``: the ``firmware`` enum and the loader."""

    TAG = "os"
    loader = XMLChild(LoaderCaps)


class HostModelFeature(XMLNode):
    """``<feature policy='require|disable' name='...'/>`` of the host-model CPU."""

    TAG = "feature"
    policy = XMLProperty("./@policy")
    name = XMLProperty("./@name")


class CustomCPUModel(XMLNode):
    """``<model usable='yes|no|unknown' deprecated='yes' vendor='...'>name</model>``."""

    TAG = "model"
    name = XMLProperty(".")
    usable = XMLProperty("./@usable")
    deprecated = XMLProperty("./@deprecated", YESNO)
    vendor = XMLProperty("./@vendor")


class CPUMode(Capability):
    """``<mode name='...' supported='...'>`` of ``<cpu>``.

    host-passthrough and maximum carry an enum of their migratable
    setting; host-model the expanded host CPU (model, vendor, features);
    custom the named models and whether each is usable.
    """

    TAG = "mode"
    name = XMLProperty("./@name")
    model = XMLProperty("./model")
    """The host-model CPU model name."""
    fallback = XMLProperty("./model/@fallback")
    vendor = XMLProperty("./vendor")
    features = XMLChildList(HostModelFeature, "./feature")

    @property
    def models(self) -> list[CustomCPUModel]:
        """The custom-mode CPU models, in document order."""
        return [CustomCPUModel.wrap(e) for e in self.xpath("./model[@usable]")]

    def add_feature(self, name: str, policy: str = "require") -> HostModelFeature:
        """Append a host-model feature with *policy* (``require`` or ``disable``)."""
        feature = self.features.append()
        feature.policy = policy
        feature.name = name
        return feature

    def add_model(
        self, name: str, *, usable: str = "yes", vendor: str = "unknown", deprecated: bool = False
    ) -> CustomCPUModel:
        """Append a custom-mode CPU model (*usable* is ``yes``, ``no`` or ``unknown``)."""
        model = CustomCPUModel()
        model.usable = usable
        model.vendor = vendor
        model.deprecated = True if deprecated else None
        model.name = name
        # Appended directly: custom models are told apart from the host
        # model by their usable= attribute, which the list path cannot create.
        self.element.append(model.element)
        return model


class CPUCaps(XMLNode):
    """``<cpu>``: its four modes (each always written, in libvirt's order)."""

    TAG = "cpu"
    host_passthrough = XMLChild(CPUMode, "./mode[@name='host-passthrough']")
    maximum = XMLChild(CPUMode, "./mode[@name='maximum']")
    host_model = XMLChild(CPUMode, "./mode[@name='host-model']")
    custom = XMLChild(CPUMode, "./mode[@name='custom']")


class DeviceCaps(XMLNode):
    """``<devices>``: one :class:`Capability` per device kind."""

    TAG = "devices"
    disk = XMLChild(Capability, "./disk")
    graphics = XMLChild(Capability, "./graphics")
    video = XMLChild(Capability, "./video")
    hostdev = XMLChild(Capability, "./hostdev")
    rng = XMLChild(Capability, "./rng")
    filesystem = XMLChild(Capability, "./filesystem")
    tpm = XMLChild(Capability, "./tpm")
    redirdev = XMLChild(Capability, "./redirdev")
    channel = XMLChild(Capability, "./channel")


class SEVCaps(Capability):
    """``<sev>``: AMD SEV parameters when supported."""

    TAG = "sev"
    cbitpos = XMLProperty("./cbitpos", UINT)
    reduced_phys_bits = XMLProperty("./reducedPhysBits", UINT)
    max_guests = XMLProperty("./maxGuests", UINT)
    max_es_guests = XMLProperty("./maxESGuests", UINT)


class SGXSection(XMLNode):
    """``<section node='N' size='S' unit='KiB'/>``: EPC memory of one NUMA node."""

    TAG = "section"
    node = XMLProperty("./@node", UINT)
    size = XMLProperty("./@size", ULLONG)
    unit = XMLProperty("./@unit")


class SGXCaps(Capability):
    """``<sgx>``: Intel SGX parameters when supported (sizes in KiB)."""

    TAG = "sgx"
    flc = XMLProperty("./flc", YESNO)
    sgx1 = XMLProperty("./sgx1", YESNO)
    sgx2 = XMLProperty("./sgx2", YESNO)
    _section_size = XMLProperty("./section_size", ULLONG)
    sections = XMLChildList(SGXSection, "./sections/section")

    @property
    def section_size(self) -> int | None:
        """Total EPC size in KiB."""
        return self._section_size

    @section_size.setter
    def section_size(self, size: int | None) -> None:
        self._section_size = size
        if size is not None:
            self._ensure("./section_size").set("unit", "KiB")

    def add_section(self, node: int, size: int) -> SGXSection:
        """Append the EPC section of NUMA *node* (*size* in KiB)."""
        section = self.sections.append()
        section.node = node
        section.size = size
        section.unit = "KiB"
        return section


class FeatureCaps(XMLNode):
    """``<features>``: one :class:`Capability` (or richer part) per feature."""

    TAG = "features"
    gic = XMLChild(Capability, "./gic")
    vmcoreinfo = XMLChild(Capability, "./vmcoreinfo")
    genid = XMLChild(Capability, "./genid")
    backing_store_input = XMLChild(Capability, "./backingStoreInput")
    backup = XMLChild(Capability, "./backup")
    s390_pv = XMLChild(Capability, "./s390-pv")
    sev = XMLChild(SEVCaps)
    sgx = XMLChild(SGXCaps)
    hyperv = XMLChild(Capability, "./hyperv")


class DomainCapabilities(XMLNode):
    """The ``<domainCapabilities>`` document: a live-tree builder and libvirt's formatter.

    ``DomainCapabilities()`` starts an empty document, :meth:`new` one with
    its identity; :meth:`parse` reads one.
    """

    TAG = "domainCapabilities"
    PARSE_URL = "(domain_capabilities)"
    ERROR_DOMAIN = ErrorDomain.CAPABILITIES
    SCHEMA = "domaincaps.rng"
    FORMAT_RULES = DOMCAPS_RULES
    XML_ORDER = {"": DOMCAPS_ORDER["domainCapabilities"]}

    path = XMLProperty("./path")
    domain = XMLProperty("./domain")
    machine = XMLProperty("./machine")
    arch = XMLProperty("./arch")
    vcpu_max = XMLProperty("./vcpu/@max", UINT)
    iothreads = XMLProperty("./iothreads/@supported", YESNO)
    os = XMLChild(OSCaps)
    cpu = XMLChild(CPUCaps)
    memory_backing = XMLChild(Capability, "./memoryBacking")
    devices = XMLChild(DeviceCaps)
    features = XMLChild(FeatureCaps)

    @classmethod
    def new(cls, path: str, domain: str, arch: str, *, machine: str | None = None) -> Self:
        """A document for emulator *path*, virtualization type *domain*, *arch* and *machine*."""
        caps = cls()
        caps.path = path
        caps.domain = domain
        caps.machine = machine
        caps.arch = arch
        return caps

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Read a domain capabilities document and check its typed values."""
        caps = cls.from_xml(text, validate_schema=validate_schema)
        caps.check()
        return caps

    def check(self) -> None:
        """Read every typed value once, raising libvirt's XML error for a malformed one."""
        _ = (self.vcpu_max, self.iothreads, self.os.supported, self.os.loader.supported)
        for mode in self.cpu_modes():
            _ = mode.supported
            for model in mode.models:
                _ = model.deprecated
        _ = self.memory_backing.supported
        for name in DEVICE_NAMES:
            _ = self.device(name).supported
        for name in FEATURE_NAMES:
            _ = self.feature(name).supported
        sev, sgx = self.features.sev, self.features.sgx
        _ = (sev.cbitpos, sev.reduced_phys_bits, sev.max_guests, sev.max_es_guests)
        _ = (sgx.flc, sgx.sgx1, sgx.sgx2, sgx.section_size)
        for section in sgx.sections:
            _ = (section.node, section.size)

    def cpu_modes(self) -> list[CPUMode]:
        """The CPU modes present, in document order."""
        return [CPUMode.wrap(e) for e in self.xpath("./cpu/mode")]

    def device(self, name: str) -> Capability:
        """The capability of device kind *name* (one of :data:`DEVICE_NAMES`)."""
        if name not in DEVICE_NAMES:
            raise KeyError(name)
        part: Capability = getattr(self.devices, name)
        return part

    def feature(self, name: str) -> Capability:
        """The capability of feature *name* (one of :data:`FEATURE_NAMES`)."""
        if name not in FEATURE_NAMES:
            raise KeyError(name)
        part: Capability = getattr(self.features, _FEATURE_ATTRS.get(name, name))
        return part

    def canonical_element(self) -> etree._Element:
        """The tree libvirt would print: ordered, verdicts filled in, unsupported parts emptied.

        A part without a ``supported=`` verdict is written as supported when
        it has content and unsupported otherwise; ``<cpu>`` always lists its
        four modes (custom mode is unsupported without models); a zero
        ``vcpu_max`` is left out.
        """
        out = canonical_copy(self.element, DOMCAPS_ORDER)
        vcpu = out.find("vcpu")
        if vcpu is not None and vcpu.get("max") in (None, "0"):
            # An unknown (zero) limit is not written.
            out.remove(vcpu)
        cpu = out.find("cpu")
        if cpu is not None:
            _complete_cpu(cpu)
        for node in list(out.iter()):
            if node.tag in _PARTS and node.get("supported") is None:
                # A part given content but no verdict is supported by that content.
                node.set("supported", "yes" if len(node) else "no")
                _attributes_order(node)
        for node in list(out.iter()):
            if node.get("supported") == "no":
                # libvirt writes nothing but the verdict for an unsupported part.
                for child in list(node):
                    node.remove(child)
                node.text = None
                kept = [(k, v) for k, v in node.attrib.items() if k in ("name", "supported")]
                node.attrib.clear()
                for key, value in kept:
                    node.set(key, value)
        return out

    def format(self, flags: int = 0) -> str:
        """The document exactly as ``virConnectGetDomainCapabilities`` prints it (no flags)."""
        return format_xml(self.canonical_element(), rules=DOMCAPS_RULES)

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)


# Elements whose supported= verdict libvirt always writes.
_PARTS = frozenset({"iothreads", "os", "loader", "mode", "memoryBacking", *DEVICE_NAMES,
                    *FEATURE_NAMES})  # fmt: skip


def _complete_cpu(cpu: etree._Element) -> None:
    """All four modes, in libvirt's order; the ones not probed are unsupported."""
    modes = {str(mode.get("name")): mode for mode in cpu.findall("mode")}
    for mode in cpu.findall("mode"):
        cpu.remove(mode)
    for name in CPU_MODES:
        found = modes.get(name)
        cpu.append(found if found is not None else etree.Element("mode", name=name))
    custom = modes.get("custom")
    if custom is not None and custom.find("model") is None:
        # libvirt reports custom mode only with models to offer.
        custom.set("supported", "no")


def _attributes_order(element: etree._Element) -> None:
    """Put ``name`` then ``supported`` first (supported may have been added last)."""
    items = [(str(key), str(value)) for key, value in element.attrib.items()]
    element.attrib.clear()
    rank = {"name": 0, "supported": 1}
    for key, value in sorted(items, key=lambda kv: rank.get(kv[0], 2)):
        element.set(key, value)
