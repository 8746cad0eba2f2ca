"""Run the device models of this package over a whole domain document, as libvirt's define does.

The ``<devices>`` container and the domain model live elsewhere; this helper
does for the tests what they do for the device kinds modelled here
(character devices, input, graphics, video, sound, smartcard, rng,
watchdog, memballoon, tpm, panic, shmem, memory, iommu, vsock): parse them
in libvirt's parse order, apply the domain-wide steps (ports and the
console alias, videos, smartcard slots, the one-of-a-kind limits), validate
them in libvirt's validation order and format them in libvirt's output
order. :func:`libvirt_devices` picks the same elements out of libvirt's
``dumpxml`` so that the two can be compared element by element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.domain.devices.chardev import (
    Channel,
    ChrDef,
    Console,
    Parallel,
    Serial,
    resolve_chardevs,
)
from virtcore.xml.domain.devices.graphics import Graphics
from virtcore.xml.domain.devices.input import Input
from virtcore.xml.domain.devices.iommu import IOMMU, IOMMUDef
from virtcore.xml.domain.devices.iommu import ONLY_ONE_MESSAGE as ONE_IOMMU
from virtcore.xml.domain.devices.memballoon import ONLY_ONE_MESSAGE as ONE_BALLOON
from virtcore.xml.domain.devices.memballoon import MemBalloon
from virtcore.xml.domain.devices.memory import MemoryDevice, MemoryDeviceDef, total_size
from virtcore.xml.domain.devices.panic import Panic, PanicDef, check_duplicate_models
from virtcore.xml.domain.devices.rng import RNG
from virtcore.xml.domain.devices.shmem import Shmem
from virtcore.xml.domain.devices.smartcard import Smartcard, SmartcardDef, assign_ccid_addresses
from virtcore.xml.domain.devices.sound import Sound
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    SECURE,
    DeviceContext,
    DeviceDef,
    DeviceModel,
    fail,
)
from virtcore.xml.domain.devices.tpm import MAX_MESSAGE as TPM_MAX
from virtcore.xml.domain.devices.tpm import TPM
from virtcore.xml.domain.devices.video import Video, VideoDef, resolve_videos
from virtcore.xml.domain.devices.vsock import ONLY_ONE_MESSAGE as ONE_VSOCK
from virtcore.xml.domain.devices.vsock import VSock
from virtcore.xml.domain.devices.watchdog import ONLY_ONE_MESSAGE as ONE_WATCHDOG
from virtcore.xml.domain.devices.watchdog import Watchdog
from virtcore.xml.format import format_xml
from virtcore.xml.parse import parse_document

TAGS = (
    "smartcard", "serial", "parallel", "console", "channel", "input", "tpm", "graphics",
    "sound", "video", "watchdog", "memballoon", "rng", "panic", "shmem", "memory", "iommu",
    "vsock",
)  # fmt: skip
"""The device kinds modelled here, in the order libvirt writes them."""

D = TypeVar("D", bound=DeviceDef)

Outcome = list[str] | tuple[int, int, str]
"""Formatted device elements, or libvirt's (code, domain, message)."""


def context_for(root: etree._Element) -> DeviceContext:
    """What the devices need to know about the domain *root*."""
    os_type = root.findtext("os/type") or "hvm"
    arch_node = root.find("os/type")
    arch = arch_node.get("arch") if arch_node is not None else None
    ioapic = root.find("features/ioapic")
    return DeviceContext(
        os_type=os_type,
        arch=arch or "i686",
        virt_type=root.get("type") or "test",
        audio_ids=frozenset(int(a.get("id", "0")) for a in root.findall("devices/audio")),
        numa_nodes=len(root.findall("cpu/numa/cell")),
        ioapic_driver=ioapic.get("driver") if ioapic is not None else None,
        usb_disabled=any(
            c.get("type") == "usb" and c.get("model") == "none"
            for c in root.findall("devices/controller")
        ),
    )


@dataclass
class _Parsed:
    by_tag: dict[str, list[DeviceDef]]
    graphics: bool


def _parse_all(root: etree._Element, ctx: DeviceContext) -> _Parsed:
    devices = root.find("devices")
    found: dict[str, list[DeviceDef]] = {tag: [] for tag in TAGS}

    def each(tag: str, model: type[DeviceModel]) -> list[DeviceDef]:
        nodes = devices.findall(tag) if devices is not None else []
        return [model(node).parse(ctx) for node in nodes]

    def single(tag: str, model: type[DeviceModel], message: str, code: int) -> None:
        nodes = devices.findall(tag) if devices is not None else []
        if len(nodes) > 1:
            fail(code, message)
        found[tag] = [model(node).parse(ctx) for node in nodes]

    # libvirt's parse order (virDomainDefParseXML), so that the first error wins.
    found["smartcard"] = each("smartcard", Smartcard)
    found["parallel"] = each("parallel", Parallel)
    found["serial"] = each("serial", Serial)
    found["console"] = each("console", Console)
    found["channel"] = each("channel", Channel)
    found["input"] = each("input", Input)
    found["graphics"] = each("graphics", Graphics)
    found["sound"] = each("sound", Sound)
    found["video"] = each("video", Video)
    single("watchdog", Watchdog, ONE_WATCHDOG, ErrorNumber.INTERNAL_ERROR)
    single("memballoon", MemBalloon, ONE_BALLOON, ErrorNumber.INTERNAL_ERROR)
    found["rng"] = each("rng", RNG)
    if devices is not None and len(devices.findall("tpm")) > 2:
        fail(ErrorNumber.XML_ERROR, TPM_MAX)
    found["tpm"] = each("tpm", TPM)
    found["panic"] = each("panic", Panic)
    found["shmem"] = each("shmem", Shmem)
    found["memory"] = each("memory", MemoryDevice)
    single("iommu", IOMMU, ONE_IOMMU, ErrorNumber.XML_ERROR)
    single("vsock", VSock, ONE_VSOCK, ErrorNumber.XML_ERROR)
    return _Parsed(found, bool(found["graphics"]))


def _of(found: dict[str, list[DeviceDef]], tag: str, kind: type[D]) -> list[D]:
    """The parsed devices of *tag*, as the definitions they are."""
    devices = [device for device in found[tag] if isinstance(device, kind)]
    assert len(devices) == len(found[tag])
    return devices


def _memory_kib(root: etree._Element) -> int:
    node = root.find("memory")
    if node is None:
        return 0
    return units.parse_memory(node.text, node.get("unit")) or 0


def virtcore_devices(text: str, flags: int = 0, *, running: bool = False) -> Outcome:
    """The device elements of *text* as the models write them, or the error they raise.

    *text* is defined, as by ``virDomainDefineXML``; with *running* it is also
    started first. A running domain's persistent definition (what ``dumpxml
    --inactive`` shows) is, in libvirt, a copy made through XML when it starts:
    parse(format(definition, SECURE)), parsed inactive and without validation.
    """
    try:
        if running and flags & INACTIVE:
            text = _persistent_copy(text)
            return _format(_process(parse_document(text), validate=False), flags)
        if not running:
            flags |= INACTIVE
        return _format(_process(parse_document(text)), flags)
    except VirtError as exc:
        return (int(exc.code), int(exc.domain), exc.message)


def _persistent_copy(text: str) -> str:
    root = parse_document(text)
    formatted = _format(_process(root), SECURE)
    devices = root.find("devices")
    assert devices is not None
    for node in list(devices):
        if isinstance(node.tag, str) and node.tag in TAGS:
            devices.remove(node)
    for item in formatted:
        devices.append(parse_document(item))
    return format_xml(root)


def _process(root: etree._Element, *, validate: bool = True) -> dict[str, list[DeviceDef]]:
    """Parse, post-parse and (optionally) validate; the devices in output order per kind."""
    ctx = context_for(root)
    parsed = _parse_all(root, ctx)
    found = parsed.by_tag
    chardevs = resolve_chardevs(
        _of(found, "parallel", ChrDef),
        _of(found, "serial", ChrDef),
        _of(found, "console", ChrDef),
        _of(found, "channel", ChrDef),
        ctx,
        validate=validate,
    )
    check_duplicate_models(_of(found, "panic", PanicDef))
    hotplug = total_size(_of(found, "memory", MemoryDeviceDef))
    if hotplug > _memory_kib(root):
        fail(ErrorNumber.XML_ERROR, "Total size of memory devices exceeds the total memory size")
    if hotplug == _memory_kib(root):
        fail(
            ErrorNumber.XML_ERROR,
            "Memory size must be specified via <memory> or in the <numa> configuration",
        )
    for tag in ("input", "sound", "graphics", "watchdog", "memballoon", "rng", "tpm", "panic",
                "shmem", "memory", "iommu", "vsock"):  # fmt: skip
        for device in found[tag]:
            device.post_parse(ctx)
    assign_ccid_addresses(_of(found, "smartcard", SmartcardDef))
    videos = resolve_videos(
        _of(found, "video", VideoDef), graphics=parsed.graphics, ctx=ctx, validate=validate
    )
    if validate:
        # libvirt's device iteration order.
        for tag in ("sound", "smartcard", "input", "watchdog", "memballoon", "rng", "shmem",
                    "tpm", "panic", "memory", "iommu", "vsock", "graphics"):  # fmt: skip
            for device in found[tag]:
                device.validate(ctx)
        for iommu in found["iommu"]:
            assert isinstance(iommu, IOMMUDef)
            iommu.validate_domain(ctx)
    output: dict[str, list[DeviceDef]] = dict(found)
    output["serial"] = list(chardevs.serials)
    output["parallel"] = list(chardevs.parallels)
    output["console"] = list(chardevs.consoles_to_format())
    output["channel"] = list(chardevs.channels)
    output["video"] = list(videos)
    return output


def _format(output: dict[str, list[DeviceDef]], flags: int) -> list[str]:
    return [
        device.format(flags) for tag in TAGS for device in output[tag] if not device.hidden(flags)
    ]


def libvirt_devices(dumpxml: str) -> list[str]:
    """The elements of the modelled kinds in libvirt's *dumpxml*, each formatted alone."""
    root = parse_document(dumpxml)
    devices = root.find("devices")
    if devices is None:
        return []
    return [format_xml(node) for node in devices if isinstance(node.tag, str) and node.tag in TAGS]
