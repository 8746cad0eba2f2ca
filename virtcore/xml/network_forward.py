"""How a virtual network reaches the outside: ``<forward>`` and its children.

:class:`Forward` is a view of the network's ``<forward>`` element - the mode
(``nat``, ``route``, ``open``, ``bridge``, ``private``, ``vepa``,
``passthrough``, ``hostdev``), the pool of host interfaces or PCI devices,
the SR-IOV physical function, the NAT address and port ranges and the
hostdev driver. :meth:`Forward.parse` applies the checks of libvirt 9.0's
``virNetworkForwardDefParseXML`` (with its quirks: the dev-attribute error
names the network as a literal ``%s``) and returns a :class:`ForwardDef`,
which writes itself as ``virNetworkDefFormatBuf`` does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import INT, YESNO, XMLChild, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.network_addr import IPAddress, check_range, error, format_ip, try_ip
from virtcore.xml.network_netdev import (
    PCIAddress,
    PCIAddressDef,
    add_element,
    child_elements,
    prop_tristate,
    raw_attr,
    strtoul_ui,
    xpath_string,
    xpath_uint,
)

__all__ = [
    "FORWARD_MODES",
    "Forward",
    "ForwardDef",
    "ForwardInterface",
    "ForwardInterfaceDef",
    "ForwardNAT",
    "NATDef",
]

logger = logging.getLogger(__name__)

FORWARD_MODES = (
    "none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev",
)  # fmt: skip
"""``virNetworkForwardType`` values; ``none`` is an isolated network (no ``<forward>``)."""

_DRIVER_NAMES = ("default", "kvm", "vfio")
_ADDRESS_TYPES = ("none", "pci", "netdev")
_NET = ErrorDomain.NETWORK


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _NET)


@dataclass(frozen=True)
class ForwardInterfaceDef:
    """One device of the forward pool: a host interface (*dev*) or a PCI device (*pci*)."""

    dev: str | None = None
    pci: PCIAddressDef | None = None
    connections: int = 0


@dataclass(frozen=True)
class NATDef:
    """``<nat>``: the SNAT address range, the port range and IPv6 masquerading."""

    start: IPAddress | None = None
    end: IPAddress | None = None
    port_start: int = 0
    port_end: int = 0
    ipv6: bool | None = None

    @property
    def is_set(self) -> bool:
        """Whether any setting differs from libvirt's defaults."""
        return bool(self.start or self.end or self.port_start or self.port_end) or (
            self.ipv6 is not None
        )

    def emit(self, parent: etree._Element) -> None:
        if not self.is_set:
            return
        ipv6 = None if self.ipv6 is None else "yes" if self.ipv6 else "no"
        element = add_element(parent, "nat", [("ipv6", ipv6)])
        if self.start is not None:
            add_element(
                element,
                "address",
                [
                    ("start", format_ip(self.start)),
                    ("end", format_ip(self.end) if self.end is not None else None),
                ],
            )
        if self.port_start or self.port_end:
            add_element(
                element,
                "port",
                [
                    ("start", str(self.port_start)),
                    ("end", str(self.port_end) if self.port_end else None),
                ],
            )


@dataclass(frozen=True)
class ForwardDef:
    """A parsed ``<forward>``; an isolated network has mode ``none``."""

    mode: str = "none"
    managed: bool = False
    driver: str | None = None
    interfaces: tuple[ForwardInterfaceDef, ...] = ()
    pf: str | None = None
    nat: NATDef = field(default_factory=NATDef)

    @property
    def dev(self) -> str | None:
        """``virNetworkDefForwardIf(def, 0)``: the first host interface, if any."""
        if self.interfaces and self.interfaces[0].dev is not None:
            return self.interfaces[0].dev
        return None

    def emit(self, parent: etree._Element, *, inactive: bool) -> None:
        if self.mode == "none":
            return
        attrs: list[tuple[str, str | None]] = [
            ("dev", None if self.pf is not None else self.dev),
            ("mode", self.mode),
        ]
        if self.mode == "hostdev":
            attrs.append(("managed", "yes" if self.managed else "no"))
        element = add_element(parent, "forward", attrs)
        if self.driver is not None:
            add_element(element, "driver", [("name", self.driver)])
        if self.mode == "nat":
            self.nat.emit(element)
        if self.pf is not None:
            add_element(element, "pf", [("dev", self.pf)])
        if self.interfaces and (self.pf is None or not inactive):
            for item in self.interfaces:
                if item.dev is not None:
                    connections = (
                        str(item.connections) if item.connections > 0 and not inactive else None
                    )
                    add_element(
                        element, "interface", [("dev", item.dev), ("connections", connections)]
                    )
                elif item.pci is not None:
                    item.pci.emit(element, with_type=True)


class ForwardInterface(XMLNode):
    """``<interface dev='eth0'/>`` of a forward pool (``connections`` is live state)."""

    TAG = "interface"
    dev = XMLProperty("./@dev")
    connections = XMLProperty("./@connections", INT)


class ForwardNAT(XMLNode):
    """``<nat>``: ``<address start end/>``, ``<port start end/>`` and ``ipv6``."""

    TAG = "nat"
    ipv6 = XMLProperty("./@ipv6", YESNO)
    address_start = XMLProperty("./address/@start")
    address_end = XMLProperty("./address/@end")
    port_start = XMLProperty("./port/@start", int)
    port_end = XMLProperty("./port/@end", int)

    def parse(self, network: str, mode: str) -> NATDef:
        """``virNetworkForwardNatDefParseXML``'s checks and values."""
        element = self.element
        if mode != "nat":
            raise _xml_error(
                "The <nat> element can only be used when <forward> 'mode' is 'nat' in "
                f"network {network}"
            )
        ipv6 = prop_tristate(element, "ipv6")
        addresses = child_elements(element, "address")
        start_text = end_text = None
        if len(addresses) > 1:
            raise _xml_error(
                f"Only one <address> element is allowed in <nat> in <forward> in network {network}"
            )
        if addresses:
            start_text = raw_attr(addresses[0], "start")
            if start_text is None:
                raise _xml_error(
                    "missing 'start' attribute in <address> element in <nat> in <forward> in "
                    f"network {network}"
                )
            end_text = raw_attr(addresses[0], "end")
            if end_text is None:
                raise _xml_error(
                    "missing 'end' attribute in <address> element in <nat> in <forward> in "
                    f"network {network}"
                )
        start = end = None
        if start_text is not None:
            start = try_ip(start_text, 4)
            if start is None:
                raise _xml_error(
                    f"Bad ipv4 start address '{start_text}' in <nat> in <forward> in network "
                    f"'{network}'"
                )
        if end_text is not None:
            end = try_ip(end_text, 4)
            if end is None:
                raise _xml_error(
                    f"Bad ipv4 end address '{end_text}' in <nat> in <forward> in network "
                    f"'{network}'"
                )
        if start is not None and end is not None:
            check_range(start, end)
        ports = child_elements(element, "port")
        port_start = port_end = 0
        if len(ports) > 1:
            raise _xml_error(
                f"Only one <port> element is allowed in <nat> in <forward> in network {network}"
            )
        if ports:
            for which in ("start", "end"):
                text = ports[0].get(which)
                value = xpath_uint(text)
                if value is None or value > 65535 or (which == "end" and value < port_start):
                    raise error(
                        ErrorNumber.XML_DETAIL,
                        f"Missing or invalid '{which}' attribute in <port> in <nat> in "
                        f"<forward> in network {network}",
                        _NET,
                    )
                if which == "start":
                    port_start = value
                else:
                    port_end = value
        return NATDef(start, end, port_start, port_end, ipv6)


class Forward(XMLNode):
    """``<forward mode='...' dev='...' managed='...'>`` of a network."""

    TAG = "forward"
    XML_ORDER = {
        "": ("@dev", "@mode", "@managed", "driver", "nat", "pf", "interface", "address"),
    }

    dev = XMLProperty("./@dev")
    mode = XMLProperty("./@mode")
    managed = XMLProperty("./@managed", YESNO)
    driver = XMLProperty("./driver/@name")
    nat = XMLChild(ForwardNAT)
    pf = XMLProperty("./pf/@dev")
    interfaces = XMLChildList(ForwardInterface, "./interface")
    addresses = XMLChildList(PCIAddress, "./address")

    def parse(self, network: str) -> ForwardDef:
        """``virNetworkForwardDefParseXML``'s checks and values (mode ``none`` if absent)."""
        element = self._find()
        if element is None:
            return ForwardDef()
        mode = xpath_string(self, "./@mode") or "nat"
        if mode not in FORWARD_MODES:
            raise error(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown forwarding type '{mode}'", _NET)
        managed_text = xpath_string(self, "./@managed")
        managed = managed_text is not None and managed_text.lower() == "yes"
        driver = xpath_string(self, "./driver/@name")
        if driver is not None and driver not in _DRIVER_NAMES[1:]:
            raise error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"Unknown forward <driver name='{driver}'/> in network {network}",
                _NET,
            )
        interfaces = child_elements(element, "interface")
        addresses = child_elements(element, "address")
        pfs = child_elements(element, "pf")
        nats = child_elements(element, "nat")
        nat = NATDef()
        if len(nats) > 1:
            raise _xml_error(f"Only one <nat> element is allowed in <forward> of network {network}")
        if nats:
            nat = ForwardNAT(nats[0]).parse(network, mode)
        dev = xpath_string(self, "./@dev")
        if dev is not None and (addresses or pfs):
            # libvirt 9.0 forgets to fill in the network name here.
            raise _xml_error(
                "the <forward> 'dev' attribute cannot be used when <address> or <pf> "
                "sub-elements are present in network %s"
            )
        devices: list[ForwardInterfaceDef] = []
        pf = None
        if interfaces or dev is not None:
            devices = self._parse_interfaces(network, dev, interfaces)
        elif addresses:
            devices = self._parse_addresses(network, addresses)
        elif len(pfs) > 1:
            raise _xml_error(f"Only one <pf> element is allowed in <forward> of network {network}")
        elif pfs:
            pf = raw_attr(pfs[0], "dev")
            if pf is None:
                raise _xml_error(
                    f"Missing required dev attribute in <pf> element of network '{network}'"
                )
        return ForwardDef(mode, managed, driver, tuple(devices), pf, nat)

    @staticmethod
    def _parse_interfaces(
        network: str, dev: str | None, interfaces: list[etree._Element]
    ) -> list[ForwardInterfaceDef]:
        devices: list[ForwardInterfaceDef] = []
        if dev is not None:
            devices.append(ForwardInterfaceDef(dev=dev))
        for index, item in enumerate(interfaces):
            name = raw_attr(item, "dev")
            if name is None:
                raise _xml_error(
                    "Missing required dev attribute in <forward> <interface> element of "
                    f"network {network}"
                )
            connections = _connections(item)
            if index == 0 and dev is not None:
                if name != dev:
                    raise _xml_error(
                        f"<forward dev='{dev}'> must match first <interface dev='{name}'/> in "
                        f"network {network}"
                    )
                devices[0] = ForwardInterfaceDef(dev=dev, connections=connections)
                continue
            if any(d.dev == name for d in devices[:index]):
                raise _xml_error(f"interface '{name}' can only be listed once in network {network}")
            devices.append(ForwardInterfaceDef(dev=name, connections=connections))
        return devices

    @staticmethod
    def _parse_addresses(
        network: str, addresses: list[etree._Element]
    ) -> list[ForwardInterfaceDef]:
        devices: list[ForwardInterfaceDef] = []
        for item in addresses:
            kind = raw_attr(item, "type")
            if kind is None:
                raise _xml_error(f"missing address type in network {network}")
            if kind not in _ADDRESS_TYPES:
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"unknown address type '{kind}' in network {network}",
                    _NET,
                )
            if kind != "pci":
                raise _xml_error(f"unsupported address type '{kind}' in network {network}")
            address = PCIAddress(item).parse()
            if any(d.pci == address for d in devices):
                raise _xml_error(
                    f"PCI device '{address.text()}' can only be listed once in network {network}"
                )
            devices.append(ForwardInterfaceDef(pci=address))
        return devices


def _connections(element: etree._Element) -> int:
    """The live ``connections`` count a driver stored on the element (0 when absent)."""
    text = element.get("connections")
    if not text:
        return 0
    value = strtoul_ui(text)
    return value if value is not None and value <= 0x7FFFFFFF else 0
