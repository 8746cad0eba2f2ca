"""Network, storage pool and volume, host interface and node device XML for the test driver.

Each ``*Def`` class reads the document libvirt's corresponding parser reads,
applies the defaults libvirt 9.0 applies when the test driver loads it (a
generated UUID, ``stp='on' delay='0'`` on routed and NAT bridges, the test
driver's fixed pool sizes, volume paths and keys derived from the pool), and
formats it back exactly as libvirt does for the documents it models. Parts
that are not modelled (NAT port ranges, DNS, pool sources, node device
capabilities other than ``system`` and ``scsi_host``) are carried through in
content and formatted in libvirt's style.
"""

from __future__ import annotations

import copy
import uuid as _uuid
from dataclasses import dataclass, field

from lxml import etree

from virtcore.drivers.test.xmlutil import (
    XMLWriter,
    attributes,
    child,
    child_text,
    children,
    parse_uuid,
    scaled_integer,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InternalError, VirtError, XMLError

__all__ = [
    "DEFAULT_POOL_CAPACITY",
    "InterfaceDef",
    "NetworkDef",
    "NodeDeviceDef",
    "PoolDef",
    "VolumeDef",
]

DEFAULT_POOL_CAPACITY = 100 * 1024**3
"""Every pool the test driver loads reports 100 GiB, whatever its XML says."""

_STP_FORWARD_MODES = frozenset({"none", "nat", "route", "open"})
_NODEDEV_KEEP_OPEN = ("hardware", "firmware")


def _name(elem: etree._Element, what: str, domain: int) -> str:
    name = child_text(elem, "name")
    if not name:
        raise XMLError(f"missing {what} name element", domain=domain)
    return name.strip()


def _uuid_of(elem: etree._Element, domain: int) -> str:
    text = child_text(elem, "uuid")
    if text is None:
        return str(_uuid.uuid4())
    parsed = parse_uuid(text)
    if parsed is None:
        raise XMLError(
            f"malformed uuid element '{text}'" if text else "malformed uuid element", domain=domain
        )
    return parsed


# -- networks -----------------------------------------------------------------


@dataclass
class NetworkDef:
    """A virtual network definition (``virNetworkDef``)."""

    name: str
    uuid: str
    forward_mode: str = "none"
    bridge: dict[str, str] = field(default_factory=dict)
    forward: etree._Element | None = None
    mac: str | None = None
    rest: list[etree._Element] = field(default_factory=list)

    @classmethod
    def from_element(cls, root: etree._Element) -> NetworkDef:
        """Parse a ``<network>`` element."""
        dom = ErrorDomain.NETWORK
        name = _name(root, "network", dom)
        if "/" in name:
            raise XMLError(f"name {name} cannot contain '/'", domain=dom)
        forward_src = child(root, "forward")
        mode = "none"
        forward = None
        if forward_src is not None:
            mode = forward_src.get("mode", "nat")
            forward = etree.Element("forward")
            if forward_src.get("dev"):
                forward.set("dev", forward_src.get("dev", ""))
            forward.set("mode", mode)
            for name_, value in forward_src.attrib.items():
                if name_ not in ("dev", "mode"):
                    forward.set(name_, value)
            forward.extend(copy.deepcopy(sub) for sub in children(forward_src))
            if forward_src.get("dev") and child(forward, "interface") is None:
                etree.SubElement(forward, "interface", dev=forward_src.get("dev", ""))
        ips = children(root, "ip")
        if mode in ("nat", "route") and not ips:
            raise XMLError(
                f"{mode} forwarding requested, but no IP address provided for network '{name}'",
                domain=dom,
            )
        bridge_src = child(root, "bridge")
        bridge: dict[str, str] = {}
        if bridge_src is not None and bridge_src.get("name"):
            bridge["name"] = bridge_src.get("name", "")
        if mode in _STP_FORWARD_MODES:
            stp = bridge_src.get("stp", "on") if bridge_src is not None else "on"
            bridge["stp"] = "off" if stp == "off" else "on"
            bridge["delay"] = bridge_src.get("delay", "0") if bridge_src is not None else "0"
        mac_elem = child(root, "mac")
        mac = mac_elem.get("address", "").lower() if mac_elem is not None else None
        skip = {"name", "uuid", "forward", "bridge", "mac"}
        rest = [copy.deepcopy(sub) for sub in children(root) if sub.tag not in skip]
        return cls(name, _uuid_of(root, dom), mode, bridge, forward, mac, rest)

    @property
    def bridge_name(self) -> str | None:
        """The host bridge the network uses, if it names one."""
        return self.bridge.get("name")

    def format(self) -> str:
        """The network XML (``virNetworkGetXMLDesc``)."""
        out = XMLWriter()
        out.open("network")
        out.text("name", self.name)
        out.text("uuid", self.uuid)
        for elem in self.rest:
            if elem.tag == "metadata":
                out.element(elem)
        if self.forward is not None:
            out.element(self.forward)
        if self.bridge:
            out.empty("bridge", [(k, self.bridge.get(k)) for k in ("name", "stp", "delay")])
        order = ("mtu", "mac", "domain", "dns", "ip", "route")
        for tag in order:
            if tag == "mac" and self.mac is not None:
                out.empty("mac", [("address", self.mac)])
            for elem in self.rest:
                if elem.tag == tag:
                    out.element(elem, keep_open=("ip",))
        for elem in self.rest:
            if elem.tag not in order and elem.tag != "metadata":
                out.element(elem)
        out.close("network")
        return out.getvalue()


# -- storage ------------------------------------------------------------------


@dataclass
class VolumeDef:
    """A storage volume definition (``virStorageVolDef``)."""

    name: str
    key: str
    path: str
    capacity: int
    allocation: int
    vol_type: str = "file"
    format_type: str = "raw"

    @classmethod
    def from_element(cls, root: etree._Element, pool: PoolDef) -> VolumeDef:
        """Parse a ``<volume>`` of *pool*; path and key default like the test driver's."""
        dom = ErrorDomain.STORAGE
        name = _name(root, "volume", dom)
        cap_elem = child(root, "capacity")
        if cap_elem is None:
            raise XMLError("missing capacity element", domain=dom)
        capacity = scaled_integer(cap_elem, "./capacity[1]", default_unit="bytes", domain=dom)
        alloc_elem = child(root, "allocation")
        allocation = capacity
        if alloc_elem is not None:
            allocation = scaled_integer(
                alloc_elem, "./allocation[1]", default_unit="bytes", domain=dom
            )
        target = child(root, "target")
        path = child_text(target, "path") if target is not None else None
        if not path:
            path = f"{pool.target_path}/{name}"
        fmt = child(target, "format") if target is not None else None
        format_type = fmt.get("type", "raw") if fmt is not None else "raw"
        key = child_text(root, "key") or path
        return cls(name, key, path, capacity, allocation, root.get("type", "file"), format_type)

    @property
    def type_number(self) -> int:
        """``virStorageVolType`` of the volume."""
        kinds = ("file", "block", "dir", "network", "netdir", "ploop")
        return kinds.index(self.vol_type) if self.vol_type in kinds else 0

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
        out.empty("format", [("type", self.format_type)])
        out.close("target")
        out.close("volume")
        return out.getvalue()


@dataclass
class PoolDef:
    """A storage pool definition (``virStoragePoolDef``) with the test driver's sizes."""

    name: str
    uuid: str
    pool_type: str
    target_path: str
    source: etree._Element | None = None
    target_extra: list[etree._Element] = field(default_factory=list)
    capacity: int = DEFAULT_POOL_CAPACITY
    allocation: int = 0

    @classmethod
    def from_element(cls, root: etree._Element) -> PoolDef:
        """Parse a ``<pool>`` element."""
        dom = ErrorDomain.STORAGE
        pool_type = root.get("type")
        if not pool_type:
            raise XMLError("storage pool missing type attribute", domain=dom)
        name = _name(root, "pool", dom)
        target = child(root, "target")
        path = child_text(target, "path") if target is not None else None
        if not path:
            raise XMLError("missing storage pool target path", domain=dom)
        extra = (
            [copy.deepcopy(s) for s in children(target) if s.tag != "path"]
            if target is not None
            else []
        )
        source = child(root, "source")
        return cls(
            name,
            _uuid_of(root, dom),
            pool_type,
            path.strip(),
            copy.deepcopy(source) if source is not None else None,
            extra,
        )

    @property
    def available(self) -> int:
        """Free space in bytes."""
        return self.capacity - self.allocation

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
        if self.source is not None:
            for sub in children(self.source):
                out.element(sub)
        out.close("source")
        out.open("target")
        out.text("path", self.target_path)
        for sub in self.target_extra:
            out.element(sub)
        out.close("target")
        out.close("pool")
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
        if if_type not in ("ethernet", "bridge", "bond", "vlan"):
            raise XMLError(
                "interface has unsupported type"
                if if_type
                else "interface misses the type attribute",
                domain=dom,
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
            raise XMLError(f"no device capabilities for '{name}'", domain=dom)
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
