"""The network port document (``<networkport>``): a guest NIC's reservation on a network.

libvirt's network driver creates a port for every guest interface plugged
into one of its networks (``virNetworkPortCreateXML``) and keeps it as a
``<networkport>`` document: the port's UUID, the owning guest, the MAC
address, QoS and VLAN settings, and how the NIC is plugged (into a bridge,
a macvtap ``direct`` device or a PCI host device).

:class:`NetworkPort` is a typed view of such a document. :meth:`~NetworkPort.definition`
applies the checks of libvirt 9.0's ``virNetworkPortDefParseXML`` with its
exact errors, :meth:`~NetworkPort.format` writes the document as
``virNetworkPortDefFormat`` does, and :meth:`NetworkPort.parse` does both
checks and parsing, like ``virNetworkPortCreateXML``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import YESNO, XMLChild, XMLNode, XMLProperty
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.network_addr import error, format_mac, format_uuid, parse_mac, parse_uuid
from virtcore.xml.network_netdev import (
    Bandwidth,
    BandwidthDef,
    PCIAddress,
    PCIAddressDef,
    VirtualPort,
    VirtualPortDef,
    Vlan,
    VlanDef,
    add_element,
    child_elements,
    prop_enum,
    prop_tristate,
    raw_attr,
    xpath_string,
)

__all__ = ["PLUG_TYPES", "NetworkPort", "NetworkPortDef", "PlugDef"]

logger = logging.getLogger(__name__)

PLUG_TYPES = ("none", "network", "bridge", "direct", "hostdev-pci")
"""``virNetworkPortPlugType`` values; ``none`` is a port that is not plugged."""

_MAC_TABLE_MANAGERS = ("default", "kernel", "libvirt")
_MACVLAN_MODES = ("vepa", "private", "bridge", "passthrough")
_DRIVER_NAMES = ("default", "kvm", "vfio")
_NET = ErrorDomain.NETWORK
_RULES = FormatRules(open_empty=frozenset({"bandwidth"}))


def _internal(detail: str) -> VirtError:
    return error(ErrorNumber.INTERNAL_ERROR, detail, _NET)


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NET)


@dataclass(frozen=True)
class PlugDef:
    """How the port is plugged; fields not used by the plug type stay None."""

    type: str = "none"
    bridge: str | None = None
    mac_table_manager: str | None = None
    dev: str | None = None
    mode: str = "vepa"
    managed: bool | None = None
    driver: str | None = None
    address: PCIAddressDef | None = None

    def emit(self, parent: etree._Element) -> None:
        if self.type == "none":
            return
        if self.type in ("network", "bridge"):
            add_element(
                parent,
                "plug",
                [
                    ("type", self.type),
                    ("bridge", self.bridge),
                    ("macTableManager", self.mac_table_manager),
                ],
            )
        elif self.type == "direct":
            add_element(
                parent, "plug", [("type", self.type), ("dev", self.dev), ("mode", self.mode)]
            )
        else:
            managed = None if self.managed is None else "yes" if self.managed else "no"
            element = add_element(parent, "plug", [("type", self.type), ("managed", managed)])
            if self.driver is not None:
                add_element(element, "driver", [("name", self.driver)])
            (self.address or PCIAddressDef()).emit(element, with_type=False)


@dataclass(frozen=True)
class NetworkPortDef:
    """The values libvirt keeps for a port (``virNetworkPortDef``)."""

    uuid: str
    owner_name: str
    owner_uuid: str
    mac: str
    group: str | None = None
    virtualport: VirtualPortDef | None = None
    bandwidth: BandwidthDef | None = None
    vlan: VlanDef | None = None
    isolated: bool | None = None
    trust_guest_rx_filters: bool | None = None
    plug: PlugDef = PlugDef()

    def to_element(self) -> etree._Element:
        """The canonical ``<networkport>`` tree (``virNetworkPortDefFormatBuf``)."""
        root = add_element(None, "networkport")
        add_element(root, "uuid", text=self.uuid)
        owner = add_element(root, "owner")
        add_element(owner, "name", text=self.owner_name)
        add_element(owner, "uuid", text=self.owner_uuid)
        if self.group is not None:
            add_element(root, "group", text=self.group)
        add_element(root, "mac", [("address", self.mac)])
        if self.virtualport is not None:
            self.virtualport.emit(root)
        if self.bandwidth is not None:
            self.bandwidth.emit(root)
        if self.vlan is not None:
            self.vlan.emit(root)
        if self.isolated is not None:
            add_element(root, "port", [("isolated", "yes" if self.isolated else "no")])
        if self.trust_guest_rx_filters is not None:
            trust = "yes" if self.trust_guest_rx_filters else "no"
            add_element(root, "rxfilters", [("trustGuest", trust)])
        self.plug.emit(root)
        return root

    def format(self) -> str:
        """The document as libvirt 9.0 writes it."""
        return format_xml(self.to_element(), rules=_RULES)


class NetworkPort(XMLNode):
    """A ``<networkport>`` document: a typed view over its live tree."""

    TAG = "networkport"
    PARSE_URL = "(networkport_definition)"
    ERROR_DOMAIN = ErrorDomain.NETWORK
    SCHEMA = "networkport.rng"
    FORMAT_RULES = _RULES
    XML_ORDER = {
        "": ("uuid", "owner", "group", "mac", "virtualport", "bandwidth", "vlan", "port",
             "rxfilters", "plug"),
        "plug": ("@type", "@bridge", "@macTableManager", "@dev", "@mode", "@managed", "driver",
                 "address"),
    }  # fmt: skip

    uuid = XMLProperty("./uuid")
    owner_name = XMLProperty("./owner/name")
    owner_uuid = XMLProperty("./owner/uuid")
    group = XMLProperty("./group", doc="The port group of the network the port belongs to.")
    mac = XMLProperty("./mac/@address")
    virtualport = XMLChild(VirtualPort)
    bandwidth = XMLChild(Bandwidth)
    vlan = XMLChild(Vlan)
    isolated = XMLProperty("./port/@isolated", YESNO)
    trust_guest_rx_filters = XMLProperty("./rxfilters/@trustGuest", YESNO)
    plug_type = XMLProperty("./plug/@type")
    plug_bridge = XMLProperty("./plug/@bridge")
    plug_mac_table_manager = XMLProperty("./plug/@macTableManager")
    plug_dev = XMLProperty("./plug/@dev")
    plug_mode = XMLProperty("./plug/@mode")
    plug_managed = XMLProperty("./plug/@managed", YESNO)
    plug_driver = XMLProperty("./plug/driver/@name")
    plug_address = XMLChild(PCIAddress, "./plug/address")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Parse and check *text* as ``virNetworkPortCreateXML`` does."""
        port = cls.from_xml(text, validate_schema=validate_schema)
        port.check()
        return port

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    def definition(self) -> NetworkPortDef:
        """``virNetworkPortDefParseXML``: libvirt's checks and the values it keeps."""
        root = self.element
        uuid = self._uuid("./uuid", "network port has no uuid")
        owner_name = xpath_string(self, "./owner/name")
        if owner_name is None:
            raise _internal("network port has no owner name")
        owner_uuid = self._uuid("./owner/uuid", "network port has no owner UUID")
        group = xpath_string(self, "./group")
        virtualport = self.virtualport.parse()
        mac_text = xpath_string(self, "./mac/@address")
        if mac_text is None:
            raise _internal("network port has no mac")
        mac = parse_mac(mac_text)
        if mac is None:
            raise _internal(f"Unable to parse MAC '{mac_text}'")
        bandwidth = self.bandwidth.parse(allow_floor=True, allow_class_id=True)
        vlan = self.vlan.parse()
        isolated = prop_tristate(next(iter(child_elements(root, "port")), None), "isolated")
        rxfilters = next(iter(child_elements(root, "rxfilters")), None)
        trust = prop_tristate(rxfilters, "trustGuest")
        plug = self._plug(next(iter(child_elements(root, "plug")), None))
        return NetworkPortDef(
            uuid,
            owner_name,
            owner_uuid,
            format_mac(mac),
            group,
            virtualport,
            bandwidth,
            vlan,
            isolated,
            trust,
            plug,
        )

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 writes it (``virNetworkPortGetXMLDesc``)."""
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)

    def _uuid(self, path: str, missing: str) -> str:
        text = xpath_string(self, path)
        if text is None:
            raise _internal(missing)
        parsed = parse_uuid(text)
        if parsed is None:
            raise _internal(f"Unable to parse UUID '{text}'")
        return format_uuid(parsed)

    def _plug(self, plug: etree._Element | None) -> PlugDef:
        kind = prop_enum(plug, "type", PLUG_TYPES, nonzero=False)
        if plug is None or kind is None or kind == "none":
            return PlugDef()
        if kind in ("network", "bridge"):
            bridge = raw_attr(plug, "bridge")
            if bridge is None:
                raise _xml_error("Missing network port bridge name")
            manager = raw_attr(plug, "macTableManager")
            if manager is not None and manager not in _MAC_TABLE_MANAGERS[1:]:
                raise _xml_error(f"Invalid macTableManager setting '{manager}' in network port")
            return PlugDef(kind, bridge=bridge, mac_table_manager=manager)
        if kind == "direct":
            dev = raw_attr(plug, "dev")
            if dev is None:
                raise _xml_error("Missing network port link device name")
            mode = raw_attr(plug, "mode")
            if mode is not None and mode not in _MACVLAN_MODES:
                raise _xml_error(f"Invalid mode setting '{mode}' in network port")
            return PlugDef(kind, dev=dev, mode=mode or "vepa")
        managed = prop_tristate(plug, "managed")
        driver = xpath_string(self, "./plug/driver/@name")
        if driver is not None and driver not in _DRIVER_NAMES[1:]:
            raise _xml_error("Missing network port driver name")
        addresses = child_elements(plug, "address")
        if not addresses:
            raise _xml_error("Missing network port PCI address")
        address = PCIAddress(addresses[0]).parse()
        return PlugDef(kind, managed=managed, driver=driver, address=address)
