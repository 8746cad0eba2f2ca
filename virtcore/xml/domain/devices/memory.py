"""The ``<memory>`` device: hot-pluggable guest memory (DIMMs, NVDIMMs, virtio-pmem, virtio-mem).

::

    <memory model='dimm' access='shared' discard='yes'>
      <source>
        <nodemask>0-1</nodemask>
        <pagesize unit='KiB'>2048</pagesize>
      </source>
      <target>
        <size unit='KiB'>524288</size>
        <node>0</node>
      </target>
    </memory>
    <memory model='virtio-mem'>
      <target>
        <size unit='GiB'>2</size>
        <block unit='MiB'>2</block>
        <requested unit='MiB'>1024</requested>
      </target>
    </memory>

``model`` and ``<target><size>`` are required; sizes are read like the
domain's ``<memory>`` and written in KiB. ``<target><node>`` must name a
guest NUMA cell (:attr:`DeviceContext.numa_nodes`). virtio-pmem is always
``access='shared'``; NVDIMMs need a ``<path>`` and label sizes of at least
128 KiB; virtio-mem block sizes are powers of two of at least 2 MiB (the
usual transparent huge page size, which libvirt assumes when it cannot
read the host's) and the requested size a multiple of the block size.
The sum of the devices' sizes must fit in the domain's memory (checked by
the domain with :func:`total_size`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import XMLMemory, XMLProperty
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    element,
    fail,
    is_ppc64,
    optional_element,
    parse_uuid,
    prop,
    prop_enum,
    prop_tristate,
    text_of,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "ACCESS",
    "MODELS",
    "MemoryDevice",
    "MemoryDeviceDef",
    "format_bitmap",
    "parse_bitmap",
    "total_size",
]

logger = logging.getLogger(__name__)

MODELS = ("", "dimm", "nvdimm", "virtio-pmem", "virtio-mem", "sgx-epc")
"""``virDomainMemoryModel`` (the empty first value is refused)."""
ACCESS = ("default", "shared", "private")
"""``virDomainMemoryAccess``."""
THP_SIZE_KIB = 2048
"""The transparent huge page size libvirt falls back to (and that hosts usually have)."""
_BITMAP_LIMIT = 16384
_SPACE = " \t\n\v\f\r"


def parse_bitmap(text: str, limit: int = _BITMAP_LIMIT) -> set[int]:
    """``virBitmapParse``: ``"0-3,^2,7"`` as a set; ``INVALID_ARG`` when malformed."""

    def bad() -> None:
        fail(ErrorNumber.INVALID_ARG, f"Failed to parse bitmap '{text}'", ErrorDomain.NONE)

    bits: set[int] = set()
    cur = text.lstrip(_SPACE)
    number = re.compile(rf"[{_SPACE}]*[+-]?[0-9]+")
    if not cur:
        bad()
    while cur:
        negate = cur.startswith("^")
        if negate:
            cur = cur[1:]
        match = number.match(cur)
        if not cur[:1].isdigit() or match is None:
            bad()
            break
        start = units.parse_c_integer(match.group())[0]
        cur = cur[match.end() :].lstrip(_SPACE)
        if cur[:1] in (",", ""):
            if start >= limit:
                bad()
            (bits.discard if negate else bits.add)(start)
        elif cur[0] == "-":
            last_match = number.match(cur[1:].lstrip(_SPACE))
            if negate or last_match is None:
                bad()
                break
            last = units.parse_c_integer(last_match.group())[0]
            if last < start or last >= limit:
                bad()
            bits.update(range(start, last + 1))
            cur = cur[1:].lstrip(_SPACE)[last_match.end() :].lstrip(_SPACE)
        if cur.startswith(","):
            cur = cur[1:].lstrip(_SPACE)
        elif cur:
            bad()
    return bits


def format_bitmap(bits: Iterable[int]) -> str:
    """``virBitmapFormat``: ranges like ``0-3,7``."""
    ordered = sorted(set(bits))
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        start = end = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == end + 1:
            index += 1
            end = ordered[index]
        parts.append(str(start) if start == end else f"{start}-{end}")
        index += 1
    return ",".join(parts)


def _memory(node: etree._Element, path: str, *, required: bool = False) -> int:
    """``virDomainParseMemory`` of the element at *path* (``./size``, ``./label/size``)."""
    found = node.xpath(path)
    target = found[0] if isinstance(found, list) and found else None
    value = str(target.xpath("string()")) if isinstance(target, etree._Element) else None
    unit = prop(target, "unit") if isinstance(target, etree._Element) else None
    size = units.parse_memory(value or None, unit, where=path, required=required)
    return size or 0


@dataclass
class MemoryDeviceDef(DeviceDef):
    """A parsed ``<memory>`` device (``virDomainMemoryDef``); sizes in KiB."""

    model: str
    access: str | None = None
    discard: bool | None = None
    uuid: str | None = None
    nodemask: set[int] | None = None
    pagesize: int = 0
    path: str | None = None
    alignsize: int = 0
    pmem: bool = False
    size: int = 0
    node: int = -1
    labelsize: int = 0
    readonly: bool = False
    blocksize: int = 0
    requested: int = 0
    current: int = 0
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainMemoryDefPostParse``: shared virtio-pmem, a UUID for ppc64 NVDIMMs."""
        if self.model == "virtio-pmem" and self.access is None:
            self.access = "shared"
        if self.model == "nvdimm" and is_ppc64(ctx.arch) and self.uuid is None:
            self.uuid = ctx.new_uuid()

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainMemoryDefValidate``."""
        super().validate(ctx)
        if self.node != -1:
            if ctx.numa_nodes == 0:
                fail(
                    ErrorNumber.XML_DETAIL,
                    "can't add memory backend as guest has no NUMA nodes configured",
                )
            if self.node >= ctx.numa_nodes:
                fail(
                    ErrorNumber.XML_DETAIL,
                    f"can't add memory backend for guest node '{self.node}' as the guest "
                    f"has only '{ctx.numa_nodes}' NUMA nodes configured",
                )
        if self.model == "nvdimm":
            if self.path is None:
                fail(ErrorNumber.XML_DETAIL, "path is required for model 'nvdimm'")
            if self.discard:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, "discard is not supported for nvdimms")
            if is_ppc64(ctx.arch):
                if not self.labelsize:
                    fail(ErrorNumber.CONFIG_UNSUPPORTED, "label size is required for NVDIMM device")
            elif self.uuid is not None:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, "UUID is not supported for NVDIMM device")
        elif self.model == "virtio-pmem":
            if self.path is None:
                fail(ErrorNumber.XML_DETAIL, f"path is required for model '{self.model}'")
            if self.discard:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"discard is not supported for model '{self.model}'",
                )
            if self.access != "shared":
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "shared access mode required for virtio-pmem device",
                )
            if self.node != -1:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, "virtio-pmem does not support NUMA nodes")
        elif self.model == "virtio-mem":
            self._validate_virtio_mem()
        elif self.model == "sgx-epc" and self.info.address_type != "none":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"memory device address is not supported for model '{self.model}'",
            )

    def _validate_virtio_mem(self) -> None:
        if self.requested > self.size:
            fail(
                ErrorNumber.XML_DETAIL,
                f"requested size must be smaller than or equal to @size ({self.size}KiB)",
            )
        if self.blocksize & (self.blocksize - 1) or not self.blocksize:
            fail(ErrorNumber.XML_DETAIL, "block size must be a power of two")
        if self.blocksize < THP_SIZE_KIB:
            fail(
                ErrorNumber.XML_DETAIL,
                f"block size too small, must be at least {THP_SIZE_KIB}KiB",
            )
        if self.requested % self.blocksize:
            fail(
                ErrorNumber.XML_DETAIL,
                "requested size must be an integer multiple of block size",
            )

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainMemoryDefFormat``."""
        source: list[OutNode | None] = []
        if self.model in ("dimm", "virtio-mem", "sgx-epc") and self.nodemask is not None:
            source.append(element("nodemask", text=format_bitmap(self.nodemask)))
        if self.model in ("dimm", "virtio-mem") and self.pagesize:
            source.append(_kib("pagesize", self.pagesize))
        if self.model in ("nvdimm", "virtio-pmem") and self.path is not None:
            source.append(element("path", text=self.path))
        if self.model == "nvdimm":
            source.append(_kib("alignsize", self.alignsize) if self.alignsize else None)
            source.append(element("pmem") if self.pmem else None)
        target: list[OutNode | None] = [_kib("size", self.size)]
        if self.node >= 0:
            target.append(element("node", text=str(self.node)))
        if self.labelsize:
            target.append(element("label", (), [_kib("size", self.labelsize)]))
        if self.readonly:
            target.append(element("readonly"))
        if self.blocksize:
            target.append(_kib("block", self.blocksize))
            target.append(_kib("requested", self.requested))
            if not flags & INACTIVE:
                target.append(_kib("current", self.current))
        return element(
            "memory",
            [("model", self.model), ("access", self.access), ("discard", yesno(self.discard))],
            [
                element("uuid", text=self.uuid) if self.uuid else None,
                optional_element("source", (), source),
                element("target", (), target),
                *self.info.elements(),
            ],
        )


def _kib(tag: str, value: int) -> OutNode:
    return element(tag, [("unit", "KiB")], text=str(value))


def total_size(devices: Iterable[MemoryDeviceDef]) -> int:
    """The KiB the memory devices add up to (the domain's ``<memory>`` must hold them)."""
    return sum(device.size for device in devices)


class MemoryDevice(DeviceModel):
    """A ``<memory>`` device element."""

    TAG = "memory"
    XML_ORDER = {
        "": ("@model", "@access", "@discard", "uuid", "source", "target", "alias", "address"),
        "source": ("nodemask", "pagesize", "path", "alignsize", "pmem"),
        "target": ("size", "node", "label", "readonly", "block", "requested"),
    }

    model = XMLProperty(
        "./@model", doc="``dimm``, ``nvdimm``, ``virtio-pmem``, ``virtio-mem``, ..."
    )
    access = XMLProperty("./@access", doc="``shared`` or ``private``.")
    discard = XMLProperty("./@discard", doc="Discard memory on unplug (yes/no).")
    uuid = XMLProperty("./uuid", doc="NVDIMM UUID (ppc64).")
    source_path = XMLProperty("./source/path", doc="Backing file (nvdimm, virtio-pmem).")
    source_nodemask = XMLProperty("./source/nodemask", doc="Host NUMA nodes to allocate from.")
    source_pagesize = XMLMemory("./source/pagesize", where="./pagesize", doc="Page size (KiB).")
    target_size = XMLMemory("./target/size", where="./size", doc="Device size (KiB).")
    target_node = XMLProperty("./target/node", int, doc="Guest NUMA cell.")
    target_block = XMLMemory("./target/block", where="./block", doc="virtio-mem block (KiB).")
    target_requested = XMLMemory(
        "./target/requested", where="./requested", doc="virtio-mem requested size (KiB)."
    )
    label_size = XMLMemory("./target/label/size", where="./label/size", doc="NVDIMM label (KiB).")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> MemoryDeviceDef:
        """``virDomainMemoryDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop_enum(node, "model", MODELS, required=True, nonzero=True)
        assert model is not None
        result = MemoryDeviceDef(
            model=model,
            access=prop_enum(node, "access", ACCESS, nonzero=True),
            discard=prop_tristate(node, "discard"),
        )
        if model == "nvdimm":
            uuid = text_of(child(node, "uuid"))
            if uuid is not None:
                result.uuid = parse_uuid(uuid)
                if result.uuid is None:
                    fail(ErrorNumber.INTERNAL_ERROR, "malformed uuid element")
        source = child(node, "source")
        if source is not None:
            self._parse_source(source, result)
        target = child(node, "target")
        if target is None:
            fail(ErrorNumber.XML_ERROR, "missing <target> element for <memory> device")
        self._parse_target(target, result)
        result.info = DeviceInfo.parse(node, ctx)
        return result

    @staticmethod
    def _parse_source(source: etree._Element, result: MemoryDeviceDef) -> None:
        model = result.model
        if model in ("dimm", "virtio-mem"):
            result.pagesize = _memory(source, "./pagesize")
        if model in ("dimm", "virtio-mem", "sgx-epc"):
            nodemask = text_of(child(source, "nodemask"))
            if nodemask is not None:
                result.nodemask = parse_bitmap(nodemask)
                if not result.nodemask:
                    fail(
                        ErrorNumber.CONFIG_UNSUPPORTED,
                        f"Invalid value of 'nodemask': {nodemask}",
                    )
        if model in ("nvdimm", "virtio-pmem"):
            result.path = text_of(child(source, "path"))
        if model == "nvdimm":
            result.alignsize = _memory(source, "./alignsize")
            result.pmem = child(source, "pmem") is not None

    @staticmethod
    def _parse_target(target: etree._Element, result: MemoryDeviceDef) -> None:
        node_text = text_of(child(target, "node"))
        if node_text is not None:
            try:
                result.node = units.parse_int(node_text)
            except ValueError:
                result.node = -2
            if result.node < 0:
                fail(ErrorNumber.XML_ERROR, "invalid value of memory device node")
        result.size = _memory(target, "./size", required=True)
        if result.model == "nvdimm":
            result.labelsize = _memory(target, "./label/size")
            if result.labelsize and result.labelsize < 128:
                fail(ErrorNumber.XML_ERROR, "nvdimm label must be at least 128KiB")
            if result.labelsize >= result.size:
                fail(ErrorNumber.XML_ERROR, "label size must be smaller than NVDIMM size")
            result.readonly = child(target, "readonly") is not None
        elif result.model == "virtio-mem":
            result.blocksize = _memory(target, "./block")
            result.requested = _memory(target, "./requested")
