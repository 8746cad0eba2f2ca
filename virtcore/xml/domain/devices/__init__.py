"""The devices of a domain (``<devices>``): typed models, libvirt's processing and output.

:class:`Devices` is the typed view of the ``<devices>`` element: the
``<emulator>`` and one live list per device kind (``disks``,
``controllers``, ``interfaces``, ``hostdevs``, ...), whose items are the
device models of this package (:class:`~.disk.Disk`,
:class:`~.interface.Interface`, ...). Like every model it edits the tree in
place and keeps whatever it does not describe.

What libvirt does with the devices when a domain is defined - parsing with
its errors, defaults, implicit controllers, addresses, validation - is
:meth:`Devices.definition` (see :mod:`.pipeline`), and what it prints is
:meth:`Devices.format`. For the domain model, :func:`format_devices` and
:func:`check_devices` do the same from a ``<devices>`` element and the
domain's definition.

libvirt writes a few device elements open even when they end up empty
(``<redirdev ...>`` then ``</redirdev>``); :data:`DOMAIN_DEVICE_RULES` are
the domain formatting rules with those quirks added.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.domain.devices.address import Address
from virtcore.xml.domain.devices.audio import Audio
from virtcore.xml.domain.devices.chardev import Channel, Console, Parallel, Serial
from virtcore.xml.domain.devices.controller import Controller
from virtcore.xml.domain.devices.disk import Disk
from virtcore.xml.domain.devices.filesystem import Filesystem
from virtcore.xml.domain.devices.graphics import Graphics
from virtcore.xml.domain.devices.hostdev import Hostdev
from virtcore.xml.domain.devices.input import Input
from virtcore.xml.domain.devices.interface import Interface, MacGenerator, random_mac
from virtcore.xml.domain.devices.iommu import IOMMU
from virtcore.xml.domain.devices.lease import Lease
from virtcore.xml.domain.devices.memballoon import MemBalloon
from virtcore.xml.domain.devices.memory import MemoryDevice
from virtcore.xml.domain.devices.panic import Panic
from virtcore.xml.domain.devices.pipeline import (
    DevicesDef,
    DomainDeviceContext,
    define_devices,
    finish_devices,
    parse_devices,
    post_parse_devices,
    validate_devices,
)
from virtcore.xml.domain.devices.redirdev import Hub, Redirdev, RedirFilter
from virtcore.xml.domain.devices.registry import FORMAT_ORDER
from virtcore.xml.domain.devices.rng import RNG
from virtcore.xml.domain.devices.shmem import Shmem
from virtcore.xml.domain.devices.smartcard import Smartcard
from virtcore.xml.domain.devices.sound import Sound
from virtcore.xml.domain.devices.support import DeviceContext
from virtcore.xml.domain.devices.tpm import TPM
from virtcore.xml.domain.devices.video import Video
from virtcore.xml.domain.devices.vsock import VSock
from virtcore.xml.domain.devices.watchdog import Watchdog
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.format import DOMAIN_RULES, FormatRules, format_xml
from virtcore.xml.units import parse_memory

__all__ = [
    "DOMAIN_DEVICE_RULES",
    "IOMMU",
    "RNG",
    "TPM",
    "Address",
    "Audio",
    "Channel",
    "Console",
    "Controller",
    "Devices",
    "DevicesDef",
    "Disk",
    "DomainDeviceContext",
    "Filesystem",
    "Graphics",
    "Hostdev",
    "Hub",
    "Input",
    "Interface",
    "Lease",
    "MemBalloon",
    "MemoryDevice",
    "Panic",
    "Parallel",
    "RedirFilter",
    "Redirdev",
    "Serial",
    "Shmem",
    "Smartcard",
    "Sound",
    "VSock",
    "Video",
    "Watchdog",
    "check_devices",
    "context_for",
    "context_from_element",
    "define_devices",
    "finish_devices",
    "format_devices",
    "parse_devices",
    "post_parse_devices",
    "validate_devices",
]

logger = logging.getLogger(__name__)

_GENERATED = ("vnet", "macvtap", "macvlan")

DOMAIN_DEVICE_RULES = FormatRules(
    native=DOMAIN_RULES.native,
    open_empty=DOMAIN_RULES.open_empty
    | {
        "devices",
        "redirdev",
        "devices/hostdev",
        "source/encryption",
        "disk/encryption",
        "interface/bandwidth",
    },
    spaced=DOMAIN_RULES.spaced,
    paired=DOMAIN_RULES.paired,
)
"""The domain formatting rules plus the device elements libvirt writes open when empty."""


class Devices(XMLNode):
    """The ``<devices>`` element of a domain.

    ``devices.disks.append()`` adds a ``<disk>`` after the existing disks,
    ``devices.interfaces[0].mac_address`` reads a MAC address, and so on;
    :meth:`definition` and :meth:`format` apply libvirt's processing.
    """

    TAG = "devices"
    XML_ORDER = {"": ("emulator", *FORMAT_ORDER)}

    emulator = XMLProperty("./emulator", doc="The device model binary (``/usr/bin/qemu-kvm``).")
    disks = XMLChildList(Disk, "./disk", doc="The ``<disk>`` devices.")
    controllers = XMLChildList(Controller, "./controller", doc="The ``<controller>`` devices.")
    leases = XMLChildList(Lease, "./lease", doc="The ``<lease>`` devices.")
    filesystems = XMLChildList(Filesystem, "./filesystem", doc="The ``<filesystem>`` devices.")
    interfaces = XMLChildList(Interface, "./interface", doc="The ``<interface>`` devices.")
    smartcards = XMLChildList(Smartcard, "./smartcard", doc="The ``<smartcard>`` devices.")
    serials = XMLChildList(Serial, "./serial", doc="The ``<serial>`` devices.")
    parallels = XMLChildList(Parallel, "./parallel", doc="The ``<parallel>`` devices.")
    consoles = XMLChildList(Console, "./console", doc="The ``<console>`` devices.")
    channels = XMLChildList(Channel, "./channel", doc="The ``<channel>`` devices.")
    inputs = XMLChildList(Input, "./input", doc="The ``<input>`` devices.")
    tpms = XMLChildList(TPM, "./tpm", doc="The ``<tpm>`` devices.")
    graphics = XMLChildList(Graphics, "./graphics", doc="The ``<graphics>`` devices.")
    sounds = XMLChildList(Sound, "./sound", doc="The ``<sound>`` devices.")
    audios = XMLChildList(Audio, "./audio", doc="The ``<audio>`` backends.")
    videos = XMLChildList(Video, "./video", doc="The ``<video>`` devices.")
    hostdevs = XMLChildList(Hostdev, "./hostdev", doc="The ``<hostdev>`` devices.")
    redirdevs = XMLChildList(Redirdev, "./redirdev", doc="The ``<redirdev>`` devices.")
    redirfilters = XMLChildList(RedirFilter, "./redirfilter", doc="The ``<redirfilter>``.")
    hubs = XMLChildList(Hub, "./hub", doc="The ``<hub>`` devices.")
    watchdogs = XMLChildList(Watchdog, "./watchdog", doc="The ``<watchdog>`` device.")
    memballoons = XMLChildList(MemBalloon, "./memballoon", doc="The ``<memballoon>``.")
    rngs = XMLChildList(RNG, "./rng", doc="The ``<rng>`` devices.")
    panics = XMLChildList(Panic, "./panic", doc="The ``<panic>`` devices.")
    shmems = XMLChildList(Shmem, "./shmem", doc="The ``<shmem>`` devices.")
    memories = XMLChildList(MemoryDevice, "./memory", doc="The ``<memory>`` devices.")
    iommus = XMLChildList(IOMMU, "./iommu", doc="The ``<iommu>`` device.")
    vsocks = XMLChildList(VSock, "./vsock", doc="The ``<vsock>`` device.")

    def definition(self, ctx: DeviceContext | None = None) -> DevicesDef:
        """The devices after libvirt's define-time processing; raises libvirt's errors."""
        return define_devices(self.element, ctx)

    def check(self, ctx: DeviceContext | None = None) -> None:
        """Raise the error libvirt would raise for these devices on define, if any."""
        self.definition(ctx)

    def assign_macs(self, generator: MacGenerator = random_mac) -> list[str]:
        """Give every interface without a MAC address one, in the tree; returns them.

        libvirt generates a missing MAC address once, at define time, and
        keeps it. Call this on the document a driver stores so that every
        later formatting shows the same address.
        """
        made: list[str] = []
        for interface in self.interfaces:
            if interface.mac_address is None:
                interface.mac_address = generator()
                made.append(interface.mac_address)
        return made

    def assign_test_ifnames(self, prefix: str = "testnet") -> list[str]:
        """Name each interface without a target ``<prefix><N>`` in the tree.

        This is the test driver's ``testDomainGenerateIfnames``; call it on
        the document a driver stores. Target names libvirt generated for an
        earlier run (``vnet*``, ``macvtap*``, ``macvlan*`` of managed
        devices) do not count: libvirt forgets them on define. Returns the
        names given.
        """
        interfaces = list(self.interfaces)
        keep: list[str | None] = []
        for interface in interfaces:
            name = interface.target_dev
            node = interface.element.find("target")
            unmanaged = node is not None and node.get("managed") == "no"
            if name is not None and name.startswith(_GENERATED) and not unmanaged:
                name = None
            keep.append(name)
        made: list[str] = []
        for interface, name in zip(interfaces, keep, strict=True):
            if name is not None:
                continue
            number = 0
            while f"{prefix}{number}" in keep:
                number += 1
            interface.target_dev = f"{prefix}{number}"
            keep[keep.index(None)] = interface.target_dev
            made.append(interface.target_dev)
        return made

    def to_libvirt_element(
        self, flags: int = 0, ctx: DeviceContext | None = None
    ) -> etree._Element:
        """The ``<devices>`` element libvirt writes (``flags``: ``VIR_DOMAIN_XML_*``)."""
        return self.definition(ctx).to_element(flags).to_lxml()

    def format(self, flags: int = 0, ctx: DeviceContext | None = None) -> str:
        """libvirt's text for ``<devices>`` (as a document of its own)."""
        return format_xml(self.definition(ctx).to_element(flags), rules=DOMAIN_DEVICE_RULES)

    to_libvirt_xml = format


def context_for(definition: Any) -> DomainDeviceContext:
    """The device context of a domain definition (``virtcore.xml.domain``'s ``Definition``).

    Reads what it can find - virtualization type, OS type and architecture,
    memory, NUMA cells, the I/O APIC driver - and keeps the test-driver
    defaults for the rest.
    """
    # A context at its defaults, then what the definition has set in place: cheaper
    # than passing the values by name, and once per document.
    ctx = DomainDeviceContext()
    value = getattr(definition, "virt_type", None)
    if isinstance(value, str):
        ctx.virt_type = value
    os_info = getattr(definition, "os", None)
    if os_info is not None:
        value = getattr(os_info, "type", None)
        if isinstance(value, str):
            ctx.os_type = value
        value = getattr(os_info, "arch", None)
        if isinstance(value, str):
            ctx.arch = value
    total = getattr(getattr(definition, "memory", None), "total", None)
    if isinstance(total, int):
        ctx.memory_kib = total
    cells = getattr(getattr(definition, "numa", None), "cells", None)
    if isinstance(cells, list):
        ctx.numa_nodes = len(cells)
    ioapic = getattr(getattr(definition, "features", None), "ioapic_driver", None)
    if isinstance(ioapic, str):
        ctx.ioapic_driver = ioapic
    return ctx


def context_from_element(root: etree._Element) -> DomainDeviceContext:
    """The device context of the ``<domain>`` element *root*, read directly from the XML.

    For documents that have not been through the domain model: the
    virtualization type, OS type and architecture, memory size, NUMA cells,
    I/O APIC driver and audio backends.
    """
    os_type = root.find("os/type")
    ioapic = root.find("features/ioapic")
    updates: dict[str, Any] = {
        "virt_type": root.get("type") or "test",
        "os_type": (os_type.text or "hvm") if os_type is not None else "hvm",
        "numa_nodes": len(root.findall("cpu/numa/cell")),
    }
    if os_type is not None and os_type.get("arch"):
        updates["arch"] = os_type.get("arch")
    if ioapic is not None and ioapic.get("driver"):
        updates["ioapic_driver"] = ioapic.get("driver")
    memory = root.find("memory")
    if memory is not None:
        updates["memory_kib"] = parse_memory(memory.text, memory.get("unit"))
    devices = root.find("devices")
    if devices is not None:
        updates["audio_ids"] = _audio_ids(devices)
    return dataclasses.replace(DomainDeviceContext(), **updates)


def _audio_ids(source: etree._Element) -> frozenset[int]:
    ids: set[int] = set()
    for node in source.findall("audio"):
        try:
            ids.add(int(node.get("id", "")))
        except ValueError:
            continue
    return frozenset(ids)


def check_devices(source: etree._Element, definition: Any = None) -> DevicesDef:
    """libvirt's define-time processing of ``<devices>`` *source* for *definition*.

    Raises the error libvirt raises for the devices, if any. Interfaces
    without a MAC address get one from the context's generator; use
    :meth:`Devices.assign_macs` first to make it part of the document.
    """
    ctx = context_for(definition) if definition is not None else DomainDeviceContext()
    ctx = dataclasses.replace(ctx, audio_ids=_audio_ids(source))
    return define_devices(source, ctx)


def format_devices(source: etree._Element, definition: Any, flags: int) -> OutNode:
    """``<devices>`` as libvirt writes it, for the domain formatter.

    A domain without an id is not running, and libvirt then always writes
    its inactive form.
    """
    if getattr(definition, "id", None) is None:
        flags |= DomainXMLFlags.INACTIVE
    return check_devices(source, definition).to_element(int(flags))
