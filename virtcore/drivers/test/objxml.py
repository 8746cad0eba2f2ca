"""Storage pool and volume, host interface and node device XML for the test driver.

Each ``*Def`` class reads the document libvirt's corresponding parser reads,
applies the defaults libvirt 9.0 applies when the test driver loads it (a
generated UUID, the test driver's fixed pool sizes, volume paths and keys
derived from the pool, each pool type's source requirements and default
formats), and formats it back exactly as libvirt does for the documents it
models. Parts that are not modelled (pool source hosts and devices, volume
permissions and backing stores, node device capabilities other than
``system`` and ``scsi_host``) are carried through in content and formatted in
libvirt's style. Network XML lives in :mod:`virtcore.drivers.test.netxml`;
:class:`NetworkDef` is re-exported here for the modules that load hosts.
"""

from __future__ import annotations

import copy
import re
import uuid as _uuid
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.netxml import NetworkDef
from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    child,
    child_text,
    children,
    parse_uuid,
    parse_xml,
    scaled_integer,
    words,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError, VirtError, XMLError

__all__ = [
    "DEFAULT_POOL_CAPACITY",
    "InterfaceDef",
    "NetworkDef",
    "NodeDeviceDef",
    "PoolDef",
    "VolumeDef",
    "sanitize_path",
]

DEFAULT_POOL_CAPACITY = 100 * 1024**3
"""Every pool the test driver loads reports 100 GiB, whatever its XML says."""

_STORAGE = ErrorDomain.STORAGE
_NODEDEV_KEEP_OPEN = ("hardware", "firmware")


def _uuid_of(elem: etree._Element, domain: int) -> str:
    text = child_text(elem, "uuid")
    if text is None:
        return str(_uuid.uuid4())
    parsed = parse_uuid(text)
    if parsed is None:
        raise XMLError("malformed uuid element", domain=domain)
    return parsed


# -- storage ------------------------------------------------------------------------------

_HOST, _DEVICE, _DIR, _ADAPTER, _NAME, _NETWORK = (1 << i for i in range(6))

_FILE_FORMATS = words(
    "none raw dir bochs cloop dmg iso vpc vdi fat vhd ploop cow qcow qcow2 qed vmdk luks"
)
_DISK_FORMATS = words("none linux fat16 fat32 linux-swap linux-lvm linux-raid extended")


@dataclass(frozen=True)
class _PoolType:
    """What ``virStoragePoolDefParseXML`` requires of a pool type and how it formats volumes."""

    required: int = 0
    source_formats: tuple[str, ...] = ()
    volume_formats: tuple[str, ...] = ()
    volume_type: int = 1  # virStorageVolType reported by the test driver's volume info


_POOL_TYPES: dict[str, _PoolType] = {
    "dir": _PoolType(volume_formats=_FILE_FORMATS, volume_type=0),
    "fs": _PoolType(
        _DEVICE,
        words("auto ext2 ext3 ext4 ufs iso9660 udf gfs gfs2 vfat hfs+ xfs ocfs2 vmfs"),
        _FILE_FORMATS,
        0,
    ),
    "netfs": _PoolType(_HOST | _DIR, words("auto nfs glusterfs cifs"), _FILE_FORMATS, 0),
    "logical": _PoolType(_NAME, words("unknown lvm2")),
    "disk": _PoolType(_DEVICE, words("unknown dos dvh gpt mac bsd pc98 sun lvm2"), _DISK_FORMATS),
    "iscsi": _PoolType(_HOST | _DEVICE),
    "scsi": _PoolType(_ADAPTER),
    "mpath": _PoolType(),
    "rbd": _PoolType(_HOST | _NETWORK | _NAME, volume_formats=_FILE_FORMATS, volume_type=3),
    "sheepdog": _PoolType(_HOST | _NETWORK | _NAME, volume_formats=_FILE_FORMATS, volume_type=3),
    "gluster": _PoolType(
        _HOST | _NETWORK | _NAME | _DIR, volume_formats=_FILE_FORMATS, volume_type=3
    ),
    "zfs": _PoolType(_NAME),
    "vstorage": _PoolType(_NAME, volume_formats=_FILE_FORMATS, volume_type=0),
    "iscsi-direct": _PoolType(_HOST | _DEVICE | _NETWORK, volume_type=3),
}
_SOURCE_ORDER = ("host", "device", "dir", "adapter", "name", "initiator", "auth", "vendor",
                 "product", "format")  # fmt: skip
_VOLUME_TYPES = words("file block dir network netdir ploop")


def sanitize_path(path: str) -> str:
    """``virFileSanitizePath``: no doubled or trailing slashes."""
    cleaned = re.sub(r"/{2,}", "/", path.strip())
    if cleaned == "/":
        return cleaned
    return cleaned.rstrip("/")


def _storage_size(elem: etree._Element) -> int:
    """A ``<capacity>``/``<allocation>`` in bytes (``virStorageSize``)."""
    raw = (elem.text or "").strip()
    if not re.fullmatch(r"[0-9]+", raw):
        raise XMLError("malformed capacity element", domain=ErrorDomain.STORAGE)
    unit = elem.get("unit")
    return scaled_integer(elem, f"./{elem.tag}", default_unit=unit or "bytes", domain=_STORAGE)


def _kept(elem: etree._Element) -> etree._Element:
    out = copy.deepcopy(elem)
    out.tail = None
    return out


@dataclass
class PoolDef:
    """A storage pool definition (``virStoragePoolDef``) with the test driver's sizes.

    ``source`` keeps the ``<source>`` children in libvirt's output order;
    ``target_path`` is None for network pools, which have no target.
    """

    name: str
    uuid: str
    pool_type: str
    target_path: str | None
    source: list[etree._Element] = field(default_factory=list)
    target_extra: list[etree._Element] = field(default_factory=list)
    capacity: int = DEFAULT_POOL_CAPACITY
    allocation: int = 0

    @classmethod
    def parse(cls, text: str) -> PoolDef:
        """Parse a pool document given to define or create."""
        root = parse_xml(text, "(storage_pool_definition)", domain=_STORAGE, root="pool")
        return cls.from_element(root)

    @classmethod
    def from_element(cls, root: etree._Element) -> PoolDef:
        """Parse a ``<pool>`` element (``virStoragePoolDefParseXML``)."""
        pool_type = root.get("type")
        if pool_type is None:
            raise XMLError(
                "Missing required attribute 'type' in element 'pool'", domain=ErrorDomain.XML
            )
        info = _POOL_TYPES.get(pool_type)
        if info is None:
            raise XMLError(
                f"Invalid value for attribute 'type' in element 'pool': '{pool_type}'.",
                domain=ErrorDomain.XML,
            )
        src = child(root, "source")
        found = {tag: children(src, tag) if src is not None else [] for tag in _SOURCE_ORDER}
        source_name = child_text(src, "name") if src is not None else None
        name = child_text(root, "name")
        if name is None and info.required & _NAME and source_name:
            name = source_name
        if not name:
            raise XMLError("missing pool source name element", domain=_STORAGE)
        if "/" in name:
            raise XMLError(f"name {name} cannot contain '/'", domain=_STORAGE)
        uuid = _uuid_of(root, _STORAGE)
        source: list[etree._Element] = []
        for tag in _SOURCE_ORDER[:-1]:
            source.extend(_kept(e) for e in found[tag][: 1 if tag == "name" else None])
        fmt = found["format"][0].get("type") if found["format"] else None
        if info.source_formats:
            fmt = fmt or info.source_formats[0 if pool_type != "logical" else 1]
            if fmt not in info.source_formats:
                raise ConfigUnsupportedError(f"unknown pool format type {fmt}", domain=_STORAGE)
            source.append(etree.Element("format", type=fmt))
        if info.required & _HOST and not found["host"]:
            raise XMLError("missing storage pool source host name", domain=_STORAGE)
        if info.required & _DIR and not found["dir"]:
            if pool_type != "gluster":
                raise XMLError("missing storage pool source path", domain=_STORAGE)
            _insert_source(source, etree.Element("dir", path="/"))
        if info.required & _NAME and not source_name:
            source_name = name
            _insert_source(source, _text_element("name", name))
        if info.required & _ADAPTER and not found["adapter"]:
            raise XMLError("missing storage pool source adapter", domain=_STORAGE)
        if info.required & _DEVICE and not found["device"]:
            raise XMLError("missing storage pool source device name", domain=_STORAGE)
        target = child(root, "target")
        path: str | None = None
        extra: list[etree._Element] = []
        if not info.required & _NETWORK:
            if pool_type == "logical":
                path = f"/dev/{source_name}"
            elif pool_type == "zfs":
                path = f"/dev/zvol/{source_name}"
            else:
                path = child_text(target, "path") if target is not None else None
                if not path:
                    raise XMLError("missing storage pool target path", domain=_STORAGE)
            path = sanitize_path(path)
            extra = (
                [_kept(e) for e in children(target, "permissions")] if target is not None else []
            )
        return cls(name, uuid, pool_type, path, source, extra)

    @property
    def available(self) -> int:
        """Free space in bytes."""
        return self.capacity - self.allocation

    @property
    def volume_type(self) -> int:
        """``virStorageVolType`` the test driver reports for this pool's volumes."""
        return _POOL_TYPES[self.pool_type].volume_type

    @property
    def volume_formats(self) -> tuple[str, ...]:
        """Volume formats the pool type knows (empty: volumes have no format)."""
        return _POOL_TYPES[self.pool_type].volume_formats

    def format(self) -> str:
        """The pool XML (``virStoragePoolGetXMLDesc``)."""
        out = XMLWriter()
        out.open("pool", [("type", self.pool_type)])
        out.text("name", self.name)
        out.text("uuid", self.uuid)
        out.text("capacity", self.capacity, [("unit", "bytes")])
        out.text("allocation", self.allocation, [("unit", "bytes")])
        out.text("available", self.available, [("unit", "bytes")])
        out.open("source")
        for sub in self.source:
            out.element(sub)
        out.close("source")
        if self.target_path is not None:
            out.open("target")
            out.text("path", self.target_path)
            for sub in self.target_extra:
                out.element(sub)
            out.close("target")
        out.close("pool")
        return out.getvalue()


def _insert_source(source: list[etree._Element], elem: etree._Element) -> None:
    rank = _SOURCE_ORDER.index(elem.tag)
    index = next((i for i, e in enumerate(source) if _SOURCE_ORDER.index(e.tag) > rank), None)
    source.insert(len(source) if index is None else index, elem)


def _text_element(tag: str, text: str) -> etree._Element:
    elem = etree.Element(tag)
    elem.text = text
    return elem


@dataclass
class VolumeDef:
    """A storage volume definition (``virStorageVolDef``) and, for streams, its content.

    ``content`` holds the bytes uploaded so far; everything else reads as zeros.
    ``holes`` lists the sorted, disjoint ranges ``(start, end)`` inside
    ``content`` that a sparse upload skipped: like a file's holes they read as
    zeros, and sparse downloads report them (and the unwritten part beyond
    ``content``) as holes instead of data.
    """

    name: str
    key: str
    path: str
    capacity: int
    allocation: int
    vol_type: str = "file"
    format_type: str | None = "raw"
    target_extra: list[etree._Element] = field(default_factory=list)
    backing: etree._Element | None = None
    content: bytearray = field(default_factory=bytearray, repr=False, compare=False)
    holes: list[tuple[int, int]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str, pool: PoolDef) -> VolumeDef:
        """Parse a volume document given to create a volume in *pool*."""
        root = parse_xml(text, "(storage_volume_definition)", domain=_STORAGE, root="volume")
        return cls.from_element(root, pool)

    @classmethod
    def from_element(cls, root: etree._Element, pool: PoolDef) -> VolumeDef:
        """Parse a ``<volume>`` of *pool*; path and key default like the test driver's."""
        name = child_text(root, "name")
        if not name:
            raise XMLError("missing volume name element", domain=_STORAGE)
        vol_type = root.get("type", "file")
        if vol_type not in _VOLUME_TYPES:
            raise ConfigUnsupportedError(f"unknown volume type '{vol_type}'", domain=_STORAGE)
        cap_elem = child(root, "capacity")
        if cap_elem is None:
            raise XMLError("missing capacity element", domain=_STORAGE)
        capacity = _storage_size(cap_elem)
        alloc_elem = child(root, "allocation")
        allocation = _storage_size(alloc_elem) if alloc_elem is not None else capacity
        target = child(root, "target")
        path = child_text(target, "path") if target is not None else None
        if not path:
            base = pool.target_path if pool.target_path is not None else "(null)"
            path = f"{base}/{name}"
        fmt = child(target, "format") if target is not None else None
        format_type: str | None = None
        if pool.volume_formats:
            format_type = fmt.get("type") if fmt is not None else None
            default = "raw" if pool.volume_formats is _FILE_FORMATS else "none"
            format_type = format_type or default
            if format_type not in pool.volume_formats:
                raise ConfigUnsupportedError(
                    f"unknown volume format type {format_type}", domain=_STORAGE
                )
        extra = [
            _kept(e)
            for e in (children(target) if target is not None else [])
            if e.tag in ("permissions", "compat", "features")
        ]
        extra.sort(key=lambda e: ("permissions", "compat", "features").index(e.tag))
        backing = child(root, "backingStore")
        if backing is not None:
            backing = _kept(backing)
            for fmt_elem in children(backing, "format"):
                # Pools without volume formats do not format backing stores' either.
                if not pool.volume_formats:
                    backing.remove(fmt_elem)
        key = child_text(root, "key") or path
        return cls(
            name,
            key,
            path,
            capacity,
            allocation,
            vol_type,
            format_type,
            extra,
            backing,
        )

    def clone(self, name: str) -> VolumeDef:
        """A copy of this volume's content and definition under another name."""
        out = copy.deepcopy(self)
        out.name = name
        return out

    def format(self) -> str:
        """The volume XML (``virStorageVolGetXMLDesc``)."""
        out = XMLWriter()
        out.open("volume", [("type", self.vol_type)])
        out.text("name", self.name)
        out.text("key", self.key)
        out.text("capacity", self.capacity, [("unit", "bytes")])
        out.text("allocation", self.allocation, [("unit", "bytes")])
        out.open("target")
        out.text("path", self.path)
        if self.format_type is not None:
            out.empty("format", [("type", self.format_type)])
        for sub in self.target_extra:
            out.element(sub)
        out.close("target")
        if self.backing is not None:
            out.element(self.backing)
        out.close("volume")
        return out.getvalue()


# -- host interfaces ----------------------------------------------------------


@dataclass
class InterfaceDef:
    """A host interface definition (``virInterfaceDef``)."""

    if_type: str
    name: str | None
    start_mode: str | None = None
    mtu: int | None = None
    mac: str | None = None
    protocols: list[etree._Element] = field(default_factory=list)
    link: dict[str, str] | None = None
    bridge_attrs: dict[str, str] = field(default_factory=dict)
    bond: etree._Element | None = None
    vlan: etree._Element | None = None
    members: list[InterfaceDef] = field(default_factory=list)

    @classmethod
    def from_element(cls, root: etree._Element, *, top: bool = True) -> InterfaceDef:
        """Parse an ``<interface>`` element (*top* is False for bridge/bond members)."""
        dom = ErrorDomain.INTERFACE
        if_type = root.get("type")
        if if_type is None:
            raise XMLError(
                "Missing required attribute 'type' in element 'interface'", domain=ErrorDomain.XML
            )
        if if_type not in ("ethernet", "bridge", "bond", "vlan"):
            raise XMLError(
                f"Invalid value for attribute 'type' in element 'interface': '{if_type}'.",
                domain=ErrorDomain.XML,
            )
        name = root.get("name")
        if name is None and if_type != "vlan":
            raise XMLError("interface has no name", domain=dom)
        start = child(root, "start")
        mtu = child(root, "mtu")
        mac = child(root, "mac")
        link = child(root, "link")
        iface = cls(
            if_type,
            name,
            start_mode=start.get("mode") if start is not None and top else None,
            mtu=int(mtu.get("size", "0")) if mtu is not None and top else None,
            mac=mac.get("address") if mac is not None else None,
            protocols=[copy.deepcopy(p) for p in children(root, "protocol")] if top else [],
            link=attributes(link) if link is not None else None,
        )
        container = child(root, if_type) if if_type in ("bridge", "bond") else None
        if container is not None:
            if if_type == "bridge":
                iface.bridge_attrs = attributes(container)
            else:
                iface.bond = copy.deepcopy(container)
            iface.members = [
                cls.from_element(m, top=False) for m in children(container, "interface")
            ]
        if if_type == "vlan":
            vlan = child(root, "vlan")
            if vlan is None or not vlan.get("tag"):
                raise InternalError("vlan misses the tag name", domain=dom)
            iface.vlan = copy.deepcopy(vlan)
        return iface

    def format(self, out: XMLWriter | None = None, *, top: bool = True) -> str:
        """The interface XML (``virInterfaceGetXMLDesc``)."""
        out = out if out is not None else XMLWriter()
        out.open("interface", [("type", self.if_type), ("name", self.name)])
        if top:
            if self.start_mode:
                out.empty("start", [("mode", self.start_mode)])
            if self.mtu:
                out.empty("mtu", [("size", self.mtu)])
            for proto in self.protocols:
                self._format_protocol(out, proto)
        if self.if_type != "bridge" and self.link:
            out.empty("link", [(k, self.link.get(k)) for k in ("speed", "state")])
        if self.if_type == "ethernet" and self.mac:
            out.empty("mac", [("address", self.mac)])
        elif self.if_type == "bridge":
            out.open("bridge", [(k, self.bridge_attrs.get(k)) for k in ("stp", "delay")])
            for member in self.members:
                member.format(out, top=False)
            out.close("bridge")
        elif self.if_type == "bond" and self.bond is not None:
            out.open("bond", [("mode", self.bond.get("mode"))])
            for sub in children(self.bond):
                if sub.tag != "interface":
                    out.element(sub)
            for member in self.members:
                member.format(out, top=False)
            out.close("bond")
        elif self.if_type == "vlan" and self.vlan is not None:
            dev = child(self.vlan, "interface")
            if dev is not None:
                out.open("vlan", [("tag", self.vlan.get("tag"))])
                out.empty("interface", [("name", dev.get("name"))])
                out.close("vlan")
            else:
                out.empty("vlan", [("tag", self.vlan.get("tag"))])
        out.close("interface")
        return out.getvalue()

    @staticmethod
    def _format_protocol(out: XMLWriter, proto: etree._Element) -> None:
        out.open("protocol", [("family", proto.get("family"))])
        if child(proto, "autoconf") is not None:
            out.empty("autoconf")
        dhcp = child(proto, "dhcp")
        if dhcp is not None:
            out.empty("dhcp", [("peerdns", dhcp.get("peerdns"))])
        for ip in children(proto, "ip"):
            if ip.get("address"):
                prefix = ip.get("prefix")
                shown = prefix if prefix not in (None, "0") else None
                out.empty("ip", [("address", ip.get("address")), ("prefix", shown)])
        route = child(proto, "route")
        if route is not None and route.get("gateway"):
            out.empty("route", [("gateway", route.get("gateway"))])
        out.close("protocol")


# -- node devices -------------------------------------------------------------


@dataclass
class NodeDeviceDef:
    """A host device definition (``virNodeDeviceDef``)."""

    name: str
    parent: str | None
    caps: list[etree._Element]

    @classmethod
    def from_element(cls, root: etree._Element) -> NodeDeviceDef:
        """Parse a ``<device>`` element."""
        dom = ErrorDomain.NODEDEV
        name = child_text(root, "name")
        if not name:
            raise VirtError(code=ErrorNumber.NO_NAME, domain=dom)
        caps = children(root, "capability")
        if not caps:
            raise InternalError(f"no device capabilities for '{name}'", domain=dom)
        normalized = [_normalize_capability(name, cap) for cap in caps]
        return cls(name, child_text(root, "parent") or None, normalized)

    def cap_types(self) -> list[str]:
        """Top-level capability names (``virNodeDeviceListCaps``)."""
        return [cap.get("type", "") for cap in self.caps]

    def all_cap_types(self) -> set[str]:
        """Capability names including nested ``fc_host`` and ``vport_ops`` (for filters)."""
        found = set(self.cap_types())
        for cap in self.caps:
            for sub in children(cap, "capability"):
                kind = sub.get("type", "")
                found.add("vports" if kind == "vport_ops" else kind)
        return found

    def format(self) -> str:
        """The device XML (``virNodeDeviceGetXMLDesc``)."""
        out = XMLWriter()
        out.open("device")
        out.text("name", self.name)
        if self.parent is not None:
            out.text("parent", self.parent)
        for cap in self.caps:
            out.element(cap, keep_open=_NODEDEV_KEEP_OPEN)
        out.close("device")
        return out.getvalue()


def _normalize_capability(devname: str, cap: etree._Element) -> etree._Element:
    kind = cap.get("type")
    dom = ErrorDomain.NODEDEV
    if kind == "system":
        hardware = child(cap, "hardware")
        if hardware is None or not child_text(hardware, "uuid"):
            raise InternalError(f"no system UUID supplied for '{devname}'", domain=dom)
        out = etree.Element("capability", type="system")
        product = child_text(cap, "product")
        if product:
            etree.SubElement(out, "product").text = product
        for section, fields in (
            ("hardware", ("vendor", "version", "serial", "uuid")),
            ("firmware", ("vendor", "version", "release_date")),
        ):
            src = child(cap, section)
            dst = etree.SubElement(out, section)
            for name in fields:
                text = child_text(src, name) if src is not None else None
                if text:
                    etree.SubElement(dst, name).text = text
        return out
    if kind == "scsi_host":
        host = child_text(cap, "host")
        if host is None or not host.strip().isdigit():
            raise XMLError(f"no SCSI host ID supplied for '{devname}'", domain=dom)
        out = etree.Element("capability", type="scsi_host")
        etree.SubElement(out, "host").text = host.strip()
        unique = child_text(cap, "unique_id")
        if unique is not None and unique.strip():
            etree.SubElement(out, "unique_id").text = unique.strip()
        for sub in children(cap, "capability"):
            if sub.get("type") == "fc_host":
                fc = etree.SubElement(out, "capability", type="fc_host")
                for name in ("wwnn", "wwpn", "fabric_wwn"):
                    text = child_text(sub, name)
                    if text:
                        etree.SubElement(fc, name).text = text.strip()
            elif sub.get("type") == "vport_ops":
                # The counts come from sysfs, which the test driver never reads.
                vp = etree.SubElement(out, "capability", type="vport_ops")
                etree.SubElement(vp, "max_vports").text = "0"
                etree.SubElement(vp, "vports").text = "0"
        return out
    return copy.deepcopy(cap)
