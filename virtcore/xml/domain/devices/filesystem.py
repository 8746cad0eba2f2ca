"""The ``<filesystem>`` device: a host directory, image or pool volume shared with the guest.

::

    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs' queue='1024'/>
      <binary path='/usr/libexec/virtiofsd' xattr='on'>
        <cache mode='always'/>
      </binary>
      <source dir='/srv/share'/>
      <target dir='share'/>
      <readonly/>
    </filesystem>

Types: ``mount`` (``<source dir>``, or ``<source socket>`` for an external
virtiofsd), ``bind``, ``block`` (``dev``), ``file``, ``template``
(``name``), ``ram`` (``usage`` with ``units``, written in KiB) and
``volume`` (``pool`` and ``volume``). libvirt fills in
``accessmode='passthrough'`` unless a virtiofsd socket is given; the
``<binary>`` element only exists for ``virtiofs`` and a boot order only for
``virtiofs`` filesystems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import XMLChild, XMLFlag, XMLProperty
from virtcore.xml.domain.devices.address import Address, DeviceInfo
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    fail,
    onoff,
    optional_element,
    prop,
    prop_enum,
    prop_switch,
    prop_uint,
    text_of,
    virtio_attrs,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.units import parse_int, parse_scaled, parse_ullong, unit_multiplier

__all__ = ["TYPES", "Filesystem", "FilesystemDef", "check_filesystems"]

logger = logging.getLogger(__name__)

TYPES = ("mount", "block", "file", "template", "ram", "bind", "volume")
ACCESS_MODES = ("default", "passthrough", "mapped", "squash")
DRIVERS = ("default", "path", "handle", "loop", "nbd", "ploop", "virtiofs")
MODELS = ("default", "virtio", "virtio-transitional", "virtio-non-transitional")
MULTIDEVS = ("default", "remap", "forbid", "warn")
_FORMATS = (
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd",
    "ploop", "cow", "qcow", "qcow2", "qed", "vmdk", "luks",
)  # fmt: skip
_SOURCE_ATTR = {
    "mount": "dir", "bind": "dir", "block": "dev", "file": "file", "template": "name",
}  # fmt: skip


@dataclass
class FilesystemDef(DeviceDef):
    """A parsed ``<filesystem>`` (``virDomainFSDef``)."""

    type: str = "mount"
    accessmode: str | None = None
    model: str | None = None
    multidevs: str | None = None
    fmode: int | None = None
    dmode: int | None = None
    driver_type: str | None = None
    driver_format: str | None = None
    wrpolicy: str | None = None
    queue: int = 0
    virtio: VirtioOptions | None = None
    binary: dict[str, str] = field(default_factory=dict)
    binary_children: list[tuple[str, list[tuple[str, str | int | None]]]] = field(
        default_factory=list
    )
    source: str | None = None
    socket: str | None = None
    pool: str | None = None
    volume: str | None = None
    usage: int = 0
    target: str | None = None
    readonly: bool = False
    hard_limit: int | None = None
    soft_limit: int | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainFSDefPostParse``: passthrough unless an external virtiofsd is used."""
        if self.accessmode is None and self.socket is None:
            self.accessmode = "passthrough"

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainFSDefValidate`` and the device-info checks."""
        self.info.validate()
        if self.info.boot_order and self.driver_type != "virtiofs":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "boot order is only supported for virtiofs")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainFSDefFormat``."""
        attrs: list[tuple[str, str | int | None]] = [
            ("type", self.type),
            ("accessmode", self.accessmode),
            ("model", self.model),
            ("multidevs", self.multidevs),
            ("fmode", None if self.fmode is None else f"{self.fmode:04o}"),
            ("dmode", None if self.dmode is None else f"{self.dmode:04o}"),
        ]
        driver: list[tuple[str, str | int | None]] = []
        if self.driver_type is not None:
            driver = [
                ("type", self.driver_type),
                ("format", self.driver_format),
                ("wrpolicy", self.wrpolicy),
                ("queue", self.queue or None),
            ]
        kids: list[OutNode | None] = [
            optional_element("driver", driver + virtio_attrs(self.virtio))
        ]
        if self.driver_type == "virtiofs":
            binary_kids = [element(tag, attrs_) for tag, attrs_ in self.binary_children]
            kids.append(optional_element("binary", list(self.binary.items()), binary_kids))
        kids.append(element("source", self._source_attrs()))
        kids.append(element("target", [("dir", self.target)]))
        if self.readonly:
            kids.append(element("readonly"))
        kids.extend(self.info.elements())
        for tag, value in (
            ("space_hard_limit", self.hard_limit),
            ("space_soft_limit", self.soft_limit),
        ):
            if value:
                kids.append(element(tag, [("unit", "bytes")], text=str(value)))
        return element("filesystem", attrs, kids)

    def _source_attrs(self) -> list[tuple[str, str | int | None]]:
        if self.type == "ram":
            return [("usage", self.usage // 1024), ("units", "KiB")]
        if self.type == "volume":
            return [("pool", self.pool), ("volume", self.volume)]
        if self.type == "mount" and self.socket is not None:
            return [("socket", self.socket)]
        return [(_SOURCE_ATTR[self.type], self.source)]


class Filesystem(DeviceModel):
    """A ``<filesystem>`` element."""

    TAG = "filesystem"
    XML_ORDER = {
        "": ("@type", "@accessmode", "@model", "@multidevs", "@fmode", "@dmode", "driver",
             "binary", "source", "target", "readonly", "boot", "alias", "address",
             "space_hard_limit", "space_soft_limit"),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="``mount`` (default), ``block``, ``file``, ``ram``...")
    accessmode = XMLProperty("./@accessmode", doc="``passthrough``, ``mapped`` or ``squash``.")
    driver_type = XMLProperty("./driver/@type", doc="``path``, ``handle``, ``virtiofs``...")
    source_dir = XMLProperty("./source/@dir", doc="The shared host directory.")
    target_dir = XMLProperty("./target/@dir", doc="The mount tag or guest directory.")
    readonly = XMLFlag("./readonly", doc="Exported read-only.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address = XMLChild(Address, doc="The device address.")

    def parse(self, ctx: DeviceContext | None = None) -> FilesystemDef:
        """``virDomainFSDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        fs = FilesystemDef(type=prop_enum(node, "type", TYPES) or "mount")
        if prop(node, "accessmode"):  # an empty value is the default
            fs.accessmode = prop_enum(node, "accessmode", ACCESS_MODES, nonzero=True)
        model = prop_enum(node, "model", MODELS)
        fs.model = None if model in (None, "default") else model
        multidevs = prop_enum(node, "multidevs", MULTIDEVS)
        fs.multidevs = None if multidevs in (None, "default") else multidevs
        fs.fmode = _mode(node, "fmode")
        fs.dmode = _mode(node, "dmode")
        driver = child(node, "driver")
        if driver is not None:
            _parse_driver(driver, fs)
        binary = child(node, "binary")
        if fs.driver_type == "virtiofs" and binary is not None:
            _parse_binary(binary, fs)
        _parse_source(child(node, "source"), fs)
        target = child(node, "target")
        fs.target = prop(target, "dir") if target is not None else None
        fs.readonly = child(node, "readonly") is not None
        for name in ("space_hard_limit", "space_soft_limit"):
            holder = child(node, name)
            size = None
            if holder is not None:
                size = parse_scaled(
                    text_of(holder), prop(holder, "unit"), where=f"./{name}[1]", scale=1
                )
            setattr(fs, "hard_limit" if name == "space_hard_limit" else "soft_limit", size)
        has_source = fs.source is not None or fs.socket is not None
        if fs.type not in ("ram", "volume") and not has_source:
            raise VirtError.from_code(ErrorNumber.NO_SOURCE, fs.target, domain=ErrorDomain.DOMAIN)
        if not fs.target:  # an empty directory counts as missing
            detail = fs.source if fs.source is not None else fs.socket
            raise VirtError.from_code(ErrorNumber.NO_TARGET, detail, domain=ErrorDomain.DOMAIN)
        fs.info = DeviceInfo.parse(node, ctx, boot=True)
        return fs


def _mode(node: etree._Element, name: str) -> int | None:
    value = prop_uint(node, name, base=8)
    if value is not None and value > 0o777:
        fail(ErrorNumber.XML_ERROR, f"invalid {name}: '0{value:o}'")
    return value


def _parse_driver(driver: etree._Element, fs: FilesystemDef) -> None:
    kind = prop_enum(driver, "type", DRIVERS)
    fs.driver_type = None if kind in (None, "default") else kind
    fmt = prop(driver, "format")
    if fmt is not None:
        if fmt not in _FORMATS[1:]:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown driver format value '{fmt}'")
        fs.driver_format = fmt
    wrpolicy = prop_enum(driver, "wrpolicy", ("default", "immediate"))
    fs.wrpolicy = None if wrpolicy in (None, "default") else wrpolicy
    queue = prop(driver, "queue")
    if queue is not None:
        try:
            fs.queue = parse_ullong(queue)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, f"cannot parse queue size '{queue}' for virtiofs")
    fs.virtio = VirtioOptions.parse(driver)


def _parse_binary(binary: etree._Element, fs: FilesystemDef) -> None:
    path = prop(binary, "path")
    if path is not None:
        fs.binary["path"] = path
    xattr = prop_switch(binary, "xattr")
    if xattr is not None:
        fs.binary["xattr"] = onoff(xattr) or ""
    cache = child(binary, "cache")
    if cache is not None:
        mode = prop_enum(cache, "mode", ("default", "none", "always"), nonzero=True)
        if mode is not None:
            fs.binary_children.append(("cache", [("mode", mode)]))
    sandbox = child(binary, "sandbox")
    if sandbox is not None:
        mode = prop_enum(sandbox, "mode", ("default", "namespace", "chroot"), nonzero=True)
        if mode is not None:
            fs.binary_children.append(("sandbox", [("mode", mode)]))
    lock = child(binary, "lock")
    if lock is not None:
        posix = prop_switch(lock, "posix")
        flock = prop_switch(lock, "flock")
        if posix is not None or flock is not None:
            attrs: list[tuple[str, str | int | None]] = [
                ("posix", onoff(posix)),
                ("flock", onoff(flock)),
            ]
            fs.binary_children.append(("lock", attrs))
    pool = child(binary, "thread_pool")
    text = prop(pool, "size") if pool is not None else None
    if text:  # read as a C int; a negative size is "not set"
        try:
            size = parse_int(text)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, f"cannot parse thread pool size '{text}' for virtiofs")
        if size >= 0:
            fs.binary_children.append(("thread_pool", [("size", size)]))


def _parse_source(source: etree._Element | None, fs: FilesystemDef) -> None:
    if fs.type == "ram":
        usage = prop(source, "usage") if source is not None else None
        if usage is None:
            fail(ErrorNumber.XML_ERROR, "missing 'usage' attribute for RAM filesystem")
        try:
            amount = parse_ullong(usage)
        except ValueError:
            fail(ErrorNumber.XML_ERROR, f"cannot parse usage '{usage}' for RAM filesystem")
        units = prop(source, "units") if source is not None else None
        fs.usage = amount * (unit_multiplier(units) if units else 1024)
        return
    if source is None:
        return
    if fs.type == "volume":
        fs.pool = prop(source, "pool")
        fs.volume = prop(source, "volume")
        if (fs.pool is None) != (fs.volume is None):
            fail(
                ErrorNumber.XML_ERROR,
                "'pool' and 'volume' must be specified together for 'pool' type source",
            )
        return
    fs.source = prop(source, _SOURCE_ATTR[fs.type])
    if fs.type == "mount" and fs.source is None:
        fs.socket = prop(source, "socket")


def check_filesystems(filesystems: list[FilesystemDef]) -> None:
    """``virDomainDefFSValidate``: two virtiofs shares may not use one mount tag."""
    seen: set[str | None] = set()
    for fs in filesystems:
        if fs.driver_type != "virtiofs":
            continue
        if fs.target in seen:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"filesystem target '{fs.target}' specified twice",
            )
        seen.add(fs.target)
