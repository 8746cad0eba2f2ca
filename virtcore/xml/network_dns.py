"""A virtual network's DNS service: ``<dns>`` with forwarders, TXT, SRV and host records.

:class:`DNS` is a view of the ``<dns>`` element; :meth:`DNS.parse` applies
libvirt 9.0's checks (``virNetworkDNSDefParseXML`` and the record parsers it
calls) and returns a :class:`DNSDef`, which ``emit()`` writes back the way
``virNetworkDNSDefFormat`` does: forwarders, then TXT, SRV and host records,
whatever their order in the document, and nothing at all for a ``<dns>``
that carries no setting. Each record model's ``parse()`` also takes the
*partial* flag libvirt uses when a network update only names a record to
delete.

libvirt 9.0 neither reads a forwarder's ``port`` nor checks records for
line breaks; both arrived in later releases, and so they are ignored here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import YESNO, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.network_addr import IPAddress, error, format_ip, try_ip
from virtcore.xml.network_netdev import (
    add_element,
    child_elements,
    prop_tristate,
    raw_attr,
    xpath_uint,
)

__all__ = [
    "DNS",
    "DNSDef",
    "DNSForwarder",
    "DNSForwarderDef",
    "DNSHost",
    "DNSHostDef",
    "DNSSrv",
    "DNSSrvDef",
    "DNSTxt",
    "DNSTxtDef",
]

logger = logging.getLogger(__name__)

_NET = ErrorDomain.NETWORK
_PROTOCOL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/")
_SERVICE_CHARS = _PROTOCOL_CHARS | frozenset("_*")


def _detail(text: str) -> VirtError:
    return error(ErrorNumber.XML_DETAIL, text, _NET)


def _yesno(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


@dataclass(frozen=True)
class DNSForwarderDef:
    """Where dnsmasq forwards queries (for one *domain*, or all)."""

    domain: str | None = None
    addr: IPAddress | None = None

    def emit(self, parent: etree._Element) -> None:
        add_element(
            parent,
            "forwarder",
            [("domain", self.domain), ("addr", format_ip(self.addr) if self.addr else None)],
        )


class DNSForwarder(XMLNode):
    """``<forwarder domain='...' addr='...'/>``."""

    TAG = "forwarder"
    domain = XMLProperty("./@domain")
    addr = XMLProperty("./@addr")

    def parse(self, network: str) -> DNSForwarderDef:
        """The forwarder's values; an address or a domain is required."""
        element = self.element
        addr_text = raw_attr(element, "addr")
        addr = None
        if addr_text is not None:
            addr = try_ip(addr_text)
            if addr is None:
                raise error(
                    ErrorNumber.XML_ERROR,
                    f"Invalid forwarder IP address '{addr_text}' in network '{network}'",
                    _NET,
                )
        domain = raw_attr(element, "domain")
        if addr_text is None and domain is None:
            raise error(
                ErrorNumber.XML_ERROR,
                "Invalid forwarder element, must contain at least one of addr or domain",
                _NET,
            )
        return DNSForwarderDef(domain, addr)


@dataclass(frozen=True)
class DNSTxtDef:
    """A TXT record."""

    name: str
    value: str | None = None

    def emit(self, parent: etree._Element) -> None:
        add_element(parent, "txt", [("name", self.name), ("value", self.value)])


class DNSTxt(XMLNode):
    """``<txt name='...' value='...'/>``."""

    TAG = "txt"
    name = XMLProperty("./@name")
    value = XMLProperty("./@value")

    def parse(self, network: str, *, partial: bool = False) -> DNSTxtDef:
        """``virNetworkDNSTxtDefParseXML``."""
        element = self.element
        name = raw_attr(element, "name")
        if name is None:
            raise _detail(f"missing required name attribute in DNS TXT record of network {network}")
        if " " in name or "," in name:
            raise _detail(
                f"prohibited character in DNS TXT record name '{name}' of network {network}"
            )
        value = raw_attr(element, "value")
        if value is None and not partial:
            raise _detail(
                f"missing required value attribute in DNS TXT record named '{name}' of "
                f"network {network}"
            )
        return DNSTxtDef(name, value)


@dataclass(frozen=True)
class DNSSrvDef:
    """An SRV record; numbers left out of the document are 0."""

    service: str | None
    protocol: str | None
    domain: str | None = None
    target: str | None = None
    port: int = 0
    priority: int = 0
    weight: int = 0

    def emit(self, parent: etree._Element) -> None:
        if self.service is None or self.protocol is None:
            return
        add_element(
            parent,
            "srv",
            [
                ("service", self.service),
                ("protocol", self.protocol),
                ("domain", self.domain),
                ("target", self.target),
                ("port", str(self.port) if self.port else None),
                ("priority", str(self.priority) if self.priority else None),
                ("weight", str(self.weight) if self.weight else None),
            ],
        )


class DNSSrv(XMLNode):
    """``<srv service='...' protocol='...' domain='...' target='...' port='...'/>``."""

    TAG = "srv"
    service = XMLProperty("./@service")
    protocol = XMLProperty("./@protocol")
    domain = XMLProperty("./@domain")
    target = XMLProperty("./@target")
    port = XMLProperty("./@port", int)
    priority = XMLProperty("./@priority", int)
    weight = XMLProperty("./@weight", int)

    def parse(self, network: str, *, partial: bool = False) -> DNSSrvDef:
        """``virNetworkDNSSrvDefParseXML``."""
        element = self.element
        service = raw_attr(element, "service")
        if service is None and not partial:
            raise _detail(
                f"missing required service attribute in DNS SRV record of network '{network}'"
            )
        if service is not None and any(c not in _SERVICE_CHARS for c in service):
            raise _detail(
                f"invalid character in service attribute '{service}' in DNS SRV record of "
                f"network '{network}'"
            )
        protocol = raw_attr(element, "protocol")
        if protocol is None and not partial:
            raise _detail(
                f"missing required protocol attribute in DNS SRV record '{service}' of "
                f"network '{network}'"
            )
        if protocol is not None and any(c not in _PROTOCOL_CHARS for c in protocol):
            raise _detail(
                f"invalid character in protocol attribute '{protocol}' in DNS SRV record of "
                f"network '{network}'"
            )
        domain = raw_attr(element, "domain")
        target = raw_attr(element, "target")
        numbers: dict[str, int] = {}
        for name, label, limit in (
            ("port", "invalid", 65535),
            ("priority", "Invalid", 65535),
            ("weight", "invalid", 65535),
        ):
            text = element.get(name)
            if not text:
                numbers[name] = 0
                continue
            value = xpath_uint(text)
            if value is not None and target is None:
                raise _detail(
                    f"DNS SRV {name} attribute not permitted without target for service "
                    f"'{service}' in network '{network}'"
                )
            if value is None or value > limit or (name == "port" and value < 1):
                raise _detail(
                    f"{label} DNS SRV {name} attribute for service '{service}' in network "
                    f"'{network}'"
                )
            numbers[name] = value
        return DNSSrvDef(service, protocol, domain, target, **numbers)


@dataclass(frozen=True)
class DNSHostDef:
    """A host record: an address and its names."""

    ip: IPAddress | None
    names: tuple[str, ...] = ()

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent, "host", [("ip", format_ip(self.ip) if self.ip is not None else "")]
        )
        for name in self.names:
            add_element(element, "hostname", text=name)


class DNSHost(XMLNode):
    """``<host ip='...'>`` with one ``<hostname>`` per name."""

    TAG = "host"
    ip = XMLProperty("./@ip")

    @property
    def hostnames(self) -> list[str]:
        """The names of the record, in document order."""
        return [str(e.xpath("string()")) for e in child_elements(self._find(), "hostname")]

    def add_hostname(self, name: str) -> None:
        """Append a ``<hostname>``."""
        add_element(self.element, "hostname", text=name)

    def parse(self, network: str, *, partial: bool = False) -> DNSHostDef:
        """``virNetworkDNSHostDefParseXML``."""
        element = self.element
        ip_text = raw_attr(element, "ip")
        if ip_text is None and not partial:
            raise _detail(f"Missing IP address in network '{network}' DNS HOST record")
        address = None
        if ip_text is not None:
            address = try_ip(ip_text)
            if address is None:
                raise _detail(f"Invalid IP address in network '{network}' DNS HOST record")
        names: list[str] = []
        for hostname in child_elements(element, "hostname"):
            # An element without any content is skipped; one whose content
            # comes to nothing (a comment, say) is refused.
            if not (len(hostname) or hostname.text):
                continue
            text = str(hostname.xpath("string()"))
            if not text:
                raise _detail(f"Missing hostname in network '{network}' DNS HOST record")
            names.append(text)
        if not names and not partial:
            raise _detail(f"Missing hostname in network '{network}' DNS HOST record")
        if address is None and not names:
            raise _detail(f"Missing ip and hostname in network '{network}' DNS HOST record")
        return DNSHostDef(address, tuple(names))


@dataclass(frozen=True)
class DNSDef:
    """A parsed ``<dns>``."""

    enable: bool | None = None
    forward_plain_names: bool | None = None
    forwarders: tuple[DNSForwarderDef, ...] = ()
    txts: tuple[DNSTxtDef, ...] = ()
    srvs: tuple[DNSSrvDef, ...] = ()
    hosts: tuple[DNSHostDef, ...] = ()

    def emit(self, parent: etree._Element) -> None:
        records = self.forwarders or self.hosts or self.srvs or self.txts
        if self.enable is None and self.forward_plain_names is None and not records:
            return
        element = add_element(
            parent,
            "dns",
            [
                ("enable", _yesno(self.enable)),
                ("forwardPlainNames", _yesno(self.forward_plain_names)),
            ],
        )
        for forwarder in self.forwarders:
            forwarder.emit(element)
        for txt in self.txts:
            txt.emit(element)
        for srv in self.srvs:
            srv.emit(element)
        for host in self.hosts:
            host.emit(element)


class DNS(XMLNode):
    """``<dns enable='yes|no' forwardPlainNames='yes|no'>`` and its records."""

    TAG = "dns"
    XML_ORDER = {"": ("@enable", "@forwardPlainNames", "forwarder", "txt", "srv", "host")}

    enable = XMLProperty("./@enable", YESNO)
    forward_plain_names = XMLProperty("./@forwardPlainNames", YESNO)
    forwarders = XMLChildList(DNSForwarder, "./forwarder")
    txts = XMLChildList(DNSTxt, "./txt")
    srvs = XMLChildList(DNSSrv, "./srv")
    hosts = XMLChildList(DNSHost, "./host")

    def parse(self, network: str) -> DNSDef:
        """``virNetworkDNSDefParseXML``'s checks and values (empty without ``<dns>``)."""
        element = self._find()
        if element is None:
            return DNSDef()
        enable = prop_tristate(element, "enable")
        plain = prop_tristate(element, "forwardPlainNames")
        forwarders = tuple(
            DNSForwarder(e).parse(network) for e in child_elements(element, "forwarder")
        )
        hosts = tuple(DNSHost(e).parse(network) for e in child_elements(element, "host"))
        srvs = tuple(DNSSrv(e).parse(network) for e in child_elements(element, "srv"))
        txts = tuple(DNSTxt(e).parse(network) for e in child_elements(element, "txt"))
        if enable is False and (forwarders or hosts or srvs or txts):
            raise error(ErrorNumber.XML_ERROR, f"Extra data in disabled network '{network}'", _NET)
        return DNSDef(enable, plain, forwarders, txts, srvs, hosts)
