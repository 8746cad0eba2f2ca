"""The device kinds of ``<devices>``: their element names, models and libvirt's orders.

libvirt 9.0 reads, processes and writes the devices of a domain kind by
kind, and the order matters: the first error wins while parsing and the
kinds are written in a fixed order (``virDomainDefFormatInternal``)::

    emulator disk controller lease filesystem interface smartcard serial
    parallel console channel input tpm graphics sound audio video hostdev
    redirdev redirfilter hub watchdog memballoon rng panic shmem memory
    iommu vsock

:data:`KINDS` lists every kind with its model class. The kind that has
no model (``<nvram>``) gets a :class:`RawDevice` model,
which keeps the element as it is. :data:`PARSE_ORDER` is ``virDomainDefParseXML``'s order and
:data:`SINGLE` the kinds a domain may hold at most once (with libvirt's
error).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.domain.devices.address import DeviceInfo
from virtcore.xml.domain.devices.audio import Audio
from virtcore.xml.domain.devices.chardev import Channel, Console, Parallel, Serial
from virtcore.xml.domain.devices.controller import Controller
from virtcore.xml.domain.devices.disk import Disk
from virtcore.xml.domain.devices.filesystem import Filesystem
from virtcore.xml.domain.devices.graphics import Graphics
from virtcore.xml.domain.devices.hostdev import Hostdev
from virtcore.xml.domain.devices.input import Input
from virtcore.xml.domain.devices.interface import Interface
from virtcore.xml.domain.devices.iommu import IOMMU
from virtcore.xml.domain.devices.iommu import ONLY_ONE_MESSAGE as ONE_IOMMU
from virtcore.xml.domain.devices.lease import Lease
from virtcore.xml.domain.devices.memballoon import ONLY_ONE_MESSAGE as ONE_BALLOON
from virtcore.xml.domain.devices.memballoon import MemBalloon
from virtcore.xml.domain.devices.memory import MemoryDevice
from virtcore.xml.domain.devices.panic import Panic
from virtcore.xml.domain.devices.redirdev import Hub, Redirdev, RedirFilter
from virtcore.xml.domain.devices.rng import RNG
from virtcore.xml.domain.devices.shmem import Shmem
from virtcore.xml.domain.devices.smartcard import Smartcard
from virtcore.xml.domain.devices.sound import Sound
from virtcore.xml.domain.devices.support import DeviceContext, DeviceDef, DeviceModel
from virtcore.xml.domain.devices.tpm import MAX_MESSAGE as TPM_MAX
from virtcore.xml.domain.devices.tpm import TPM
from virtcore.xml.domain.devices.video import Video
from virtcore.xml.domain.devices.vsock import ONLY_ONE_MESSAGE as ONE_VSOCK
from virtcore.xml.domain.devices.vsock import VSock
from virtcore.xml.domain.devices.watchdog import ONLY_ONE_MESSAGE as ONE_WATCHDOG
from virtcore.xml.domain.devices.watchdog import Watchdog
from virtcore.xml.domain.outnode import Embedded, OutNode

__all__ = [
    "FORMAT_ORDER",
    "KINDS",
    "PARSE_ORDER",
    "SINGLE",
    "Kind",
    "RawDevice",
    "RawDeviceDef",
]

logger = logging.getLogger(__name__)


@dataclass
class RawDeviceDef(DeviceDef):
    """A device kind without a model: the element is written back as it was read."""

    node: etree._Element
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """Nothing is known about the device, so nothing is checked."""

    def to_element(self, flags: int = 0) -> OutNode:
        """A copy of the element without comments and foreign namespaces."""
        return Embedded(_clean_copy(self.node))


def _clean_copy(node: etree._Element) -> etree._Element:
    fresh = copy.deepcopy(node)
    for item in list(fresh.iter()):
        if not isinstance(item.tag, str) or item.tag.startswith("{"):
            parent = item.getparent()
            if parent is not None:
                parent.remove(item)
    return fresh


class RawDevice(DeviceModel):
    """The model of a device kind nothing describes (yet)."""

    TAG = "device"

    def parse(self, ctx: DeviceContext | None = None) -> RawDeviceDef:
        """Keep the element as it is."""
        return RawDeviceDef(node=self.element)


def _raw(tag: str) -> type[DeviceModel]:
    return type(f"Raw_{tag}", (RawDevice,), {"TAG": tag, "__doc__": f"A ``<{tag}>`` element."})


@dataclass(frozen=True)
class Kind:
    """One device kind: its element name, the ``Devices`` list name and its model."""

    tag: str
    attr: str
    model: type[DeviceModel]


KINDS: tuple[Kind, ...] = (
    Kind("disk", "disks", Disk),
    Kind("controller", "controllers", Controller),
    Kind("lease", "leases", Lease),
    Kind("filesystem", "filesystems", Filesystem),
    Kind("interface", "interfaces", Interface),
    Kind("smartcard", "smartcards", Smartcard),
    Kind("serial", "serials", Serial),
    Kind("parallel", "parallels", Parallel),
    Kind("console", "consoles", Console),
    Kind("channel", "channels", Channel),
    Kind("input", "inputs", Input),
    Kind("tpm", "tpms", TPM),
    Kind("graphics", "graphics", Graphics),
    Kind("sound", "sounds", Sound),
    Kind("audio", "audios", Audio),
    Kind("video", "videos", Video),
    Kind("hostdev", "hostdevs", Hostdev),
    Kind("redirdev", "redirdevs", Redirdev),
    Kind("redirfilter", "redirfilters", RedirFilter),
    Kind("hub", "hubs", Hub),
    Kind("watchdog", "watchdogs", Watchdog),
    Kind("memballoon", "memballoons", MemBalloon),
    Kind("rng", "rngs", RNG),
    Kind("panic", "panics", Panic),
    Kind("shmem", "shmems", Shmem),
    Kind("memory", "memories", MemoryDevice),
    Kind("iommu", "iommus", IOMMU),
    Kind("vsock", "vsocks", VSock),
    Kind("nvram", "nvrams", _raw("nvram")),
)
"""Every device kind (see :data:`FORMAT_ORDER` for the order libvirt writes them in)."""

BY_TAG = {kind.tag: kind for kind in KINDS}

FORMAT_ORDER = (
    "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial",
    "parallel", "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video",
    "hostdev", "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng", "nvram",
    "panic", "shmem", "memory", "iommu", "vsock",
)  # fmt: skip
"""``virDomainDefFormatInternal``'s order (after ``<emulator>``)."""

PARSE_ORDER = (
    "disk", "controller", "lease", "filesystem", "interface", "smartcard", "parallel",
    "serial", "console", "channel", "input", "graphics", "sound", "audio", "video", "hostdev",
    "watchdog", "memballoon", "rng", "tpm", "nvram", "hub", "redirdev", "redirfilter", "panic",
    "shmem", "memory", "iommu", "vsock",
)  # fmt: skip
"""``virDomainDefParseXML``'s order: the first error in this order is the one reported."""


SINGLE: dict[str, tuple[int, str]] = {
    "watchdog": (ErrorNumber.INTERNAL_ERROR, ONE_WATCHDOG),
    "memballoon": (ErrorNumber.INTERNAL_ERROR, ONE_BALLOON),
    "redirfilter": (
        ErrorNumber.INTERNAL_ERROR,
        "only one set of redirection filter rule is supported",
    ),
    "iommu": (ErrorNumber.XML_ERROR, ONE_IOMMU),
    "vsock": (ErrorNumber.XML_ERROR, ONE_VSOCK),
}
"""Kinds a domain holds at most once, with the (code, message) of libvirt's error."""

TPM_LIMIT = (ErrorNumber.XML_ERROR, TPM_MAX)
"""libvirt's error for more than two TPMs."""
