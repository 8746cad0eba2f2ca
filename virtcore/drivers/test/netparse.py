"""Parsing virtual network XML the way libvirt 9.0's ``virNetworkDefParseXML`` does.

Checks run in libvirt's order, so the first problem of a document is the one
reported, with libvirt's code and wording. The record parsers
(:func:`parse_dhcp_range`, :func:`parse_dhcp_host`, :func:`parse_dns_host`,
:func:`parse_dns_srv`, :func:`parse_dns_txt`) are shared with
``virNetworkUpdate`` (:mod:`virtcore.drivers.test.netupdate`), which parses
single records, optionally *partial* ones that only identify a record to
delete.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import uuid as _uuid

from lxml import etree

from virtcore.drivers.test.netxml import (
    DHCPHost,
    DHCPRange,
    DNSDef,
    DNSHost,
    DNSSrv,
    DNSTxt,
    ForwardIf,
    IPAddress,
    IPDef,
    Lease,
    NetworkDef,
    PortGroup,
    copy_child,
    is_multicast,
    parse_address,
    parse_mac,
    range_size,
    socket_addr,
    tristate,
    uint_value,
    xml_attr_error,
)
from virtcore.drivers.test.xmlutil import child, child_text, children, elements, parse_uuid
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError, VirtError, XMLError

__all__ = [
    "parse_dhcp_host",
    "parse_dhcp_range",
    "parse_dns_host",
    "parse_dns_srv",
    "parse_dns_txt",
    "parse_network",
    "parse_network_element",
]

_NET = ErrorDomain.NETWORK
_FORWARD_MODES = ("none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough",
                  "hostdev")  # fmt: skip


def parse_network(text: str) -> NetworkDef:
    """Parse a network document given to define or create."""
    return NetworkDef.parse(text)


def parse_network_element(root: etree._Element) -> NetworkDef:
    """Parse a ``<network>`` element."""
    return _Parser(root).parse()


def parse_dhcp_range(net: str, ip: IPDef, elem: etree._Element) -> DHCPRange:
    """A ``<range>`` of *ip*'s DHCP server (``virNetworkDHCPRangeDefParseXML``)."""
    start = elem.get("start")
    if start is None:
        raise XMLError(f"Missing 'start' attribute in dhcp range for network '{net}'", domain=_NET)
    start_addr = socket_addr(start)
    end = elem.get("end")
    if end is None:
        raise XMLError(f"Missing 'end' attribute in dhcp range for network '{net}'", domain=_NET)
    end_addr = socket_addr(end)
    range_size(start_addr, end_addr, ip.address, ip.prefix_length)
    return DHCPRange(start_addr, end_addr, Lease.parse(elem))


def parse_dhcp_host(net: str, ip: IPDef, elem: etree._Element, *, partial: bool) -> DHCPHost:
    """A static ``<host>`` of *ip*'s DHCP server (``virNetworkDHCPHostDefParseXML``).

    *partial* accepts a host naming only some of MAC, name and IP (for deletion).
    """
    v6 = ip.address.version == 6
    mac = elem.get("mac")
    if mac is not None:
        if v6:
            raise XMLError(
                f"Invalid to specify MAC address '{mac}' in network '{net}' IPv6 static host "
                "definition",
                domain=_NET,
            )
        canonical = parse_mac(mac)
        if canonical is None:
            raise XMLError(f"Cannot parse MAC address '{mac}' in network '{net}'", domain=_NET)
        if is_multicast(canonical):
            raise XMLError(
                f"expected unicast mac address, found multicast '{mac}' in network '{net}'",
                domain=_NET,
            )
    host_id = elem.get("id")
    if host_id is not None:
        bad = re.search(r"[^0-9a-fA-F:]", host_id)
        if bad:
            raise XMLError(
                f"Invalid character '{bad.group(0)}' in id '{host_id}' of network '{net}'",
                domain=_NET,
            )
    name = elem.get("name")
    if name is not None and not (name[:1].isascii() and name[:1].isalnum()):
        raise XMLError(f"Cannot use host name '{name}' in network '{net}'", domain=_NET)
    ip_text = elem.get("ip")
    addr = parse_address(ip_text) if ip_text is not None else None
    if ip_text is not None and addr is None:
        raise XMLError(
            f"Invalid IP address in static host definition for network '{net}'", domain=_NET
        )
    if partial:
        if not (mac or name or ip_text):
            raise XMLError(
                "At least one of name, mac, or ip attribute must be specified for static host "
                f"definition in network '{net}' ",
                domain=_NET,
            )
    else:
        if v6 and not (host_id or name):
            raise XMLError(
                f"Static host definition in IPv6 network '{net}' must have id or name attribute",
                domain=_NET,
            )
        if not v6 and not (mac or name):
            raise XMLError(
                f"Static host definition in IPv4 network '{net}' must have mac or name attribute",
                domain=_NET,
            )
        if ip_text is None:
            raise XMLError(
                f"Missing IP address in static host definition for network '{net}'", domain=_NET
            )
    return DHCPHost(mac, host_id, name, addr, Lease.parse(elem))


def _detail(text: str) -> VirtError:
    return VirtError(text, code=ErrorNumber.XML_DETAIL, domain=_NET)


def parse_dns_host(net: str, elem: etree._Element, *, partial: bool) -> DNSHost:
    """A DNS ``<host>`` record (``virNetworkDNSHostDefParseXML``)."""
    names = [sub.text or "" for sub in children(elem, "hostname")]
    if any(not name for name in names) or (not names and not partial):
        raise _detail(f"Missing hostname in network '{net}' DNS HOST record")
    ip_text = elem.get("ip")
    addr: IPAddress | None = None
    if ip_text is not None:
        addr = parse_address(ip_text)
        if addr is None:
            raise _detail(f"Invalid IP address in network '{net}' DNS HOST record")
    else:
        if not partial:
            raise _detail(f"Missing IP address in network '{net}' DNS HOST record")
        if not names:
            raise _detail(f"Missing ip and hostname in network '{net}' DNS HOST record")
    return DNSHost(addr, names)


_PROTOCOL_CHARS = re.compile(r"[A-Za-z0-9+/-]*")
_SERVICE_CHARS = re.compile(r"[A-Za-z0-9_+/*-]*")


def parse_dns_srv(net: str, elem: etree._Element, *, partial: bool) -> DNSSrv:
    """A DNS ``<srv>`` record (``virNetworkDNSSrvDefParseXML``)."""
    service = elem.get("service")
    if service is None and not partial:
        raise _detail(f"missing required service attribute in DNS SRV record of network '{net}'")
    if service is not None:
        if len(service) > 15:
            raise _detail(
                f"service attribute '{service}' in network '{net}' is too long, limit is 15 bytes"
            )
        if not _SERVICE_CHARS.fullmatch(service):
            raise _detail(
                f"invalid character in service attribute '{service}' in DNS SRV record of "
                f"network '{net}'"
            )
    protocol = elem.get("protocol")
    if protocol is None and not partial:
        raise _detail(
            f"missing required protocol attribute in DNS SRV record '{service}' of network '{net}'"
        )
    if protocol is not None and not _PROTOCOL_CHARS.fullmatch(protocol):
        raise _detail(
            f"invalid character in protocol attribute '{protocol}' in DNS SRV record of "
            f"network '{net}'"
        )
    srv = DNSSrv(service, protocol, elem.get("domain"), elem.get("target"))
    for attr, limit, label in (("port", 65535, "invalid"), ("priority", 65535, "Invalid"),
                               ("weight", 65535, "invalid")):  # fmt: skip
        raw = elem.get(attr)
        if raw is None:
            continue
        if srv.target is None:
            raise _detail(
                f"DNS SRV {attr} attribute not permitted without target for service "
                f"'{service}' in network '{net}'"
            )
        value = uint_value(raw)
        if value is None or value > limit or (attr == "port" and value < 1):
            raise _detail(
                f"{label} DNS SRV {attr} attribute for service '{service}' in network '{net}'"
            )
        setattr(srv, attr, value)
    return srv


def parse_dns_txt(net: str, elem: etree._Element, *, partial: bool) -> DNSTxt:
    """A DNS ``<txt>`` record (``virNetworkDNSTxtDefParseXML``)."""
    name = elem.get("name")
    if name is None:
        raise _detail(f"missing required name attribute in DNS TXT record of network {net}")
    if " " in name or "," in name:
        raise _detail(f"prohibited character in DNS TXT record name '{name}' of network {net}")
    value = elem.get("value")
    if value is None and not partial:
        raise _detail(
            f"missing required value attribute in DNS TXT record named '{name}' of network {net}"
        )
    return DNSTxt(name, value)


class _Parser:
    """Reads one ``<network>`` element, in ``virNetworkDefParseXML``'s order."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.name = ""

    def parse(self) -> NetworkDef:
        root = self.root
        name = child_text(root, "name")
        if not name:
            raise VirtError(code=ErrorNumber.NO_NAME, domain=_NET)
        if "/" in name:
            raise VirtError(
                "invalid char in name: /", code=ErrorNumber.XML_DETAIL, domain=ErrorDomain.XML
            )
        self.name = name
        uuid_text = child_text(root, "uuid")
        if uuid_text is None:
            uuid = str(_uuid.uuid4())
        else:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise InternalError("malformed uuid element", domain=_NET)
            uuid = parsed
        net = NetworkDef(name, uuid)
        ipv6 = root.get("ipv6")
        if ipv6 is not None:
            if ipv6 not in ("yes", "no"):
                raise XMLError(f"Invalid ipv6 setting '{ipv6}' in network '{name}'", domain=_NET)
            net.ipv6 = ipv6 == "yes"
        net.trust_guest_rx_filters = tristate(root, "trustGuestRxFilters")
        domain = child(root, "domain")
        if domain is not None:
            net.domain_name = domain.get("name")
            net.domain_local_only = tristate(domain, "localOnly")
        net.bandwidth = copy_child(root, "bandwidth")
        net.vlan = copy_child(root, "vlan")
        port = child(root, "port")
        if port is not None and tristate(port, "isolated") is not None:
            net.port = etree.Element("port", isolated=port.get("isolated", ""))
        self._bridge(net)
        self._mac_and_mtu(net)
        dns = child(root, "dns")
        if dns is not None:
            net.dns = self._dns(dns)
        net.virtualport = copy_child(root, "virtualport")
        net.portgroups = [PortGroup.parse(elem) for elem in children(root, "portgroup")]
        net.ips = [self._ip(elem) for elem in children(root, "ip")]
        net.routes = [self._route(net, elem) for elem in children(root, "route")]
        forward = child(root, "forward")
        if forward is not None:
            self._forward(net, forward)
        self._check_mode(net)
        meta = child(root, "metadata")
        if meta is not None:
            net.metadata = _sanitized_metadata(meta)
        return net

    def _bridge(self, net: NetworkDef) -> None:
        bridge = child(self.root, "bridge")
        if bridge is None:
            return
        net.bridge_name = bridge.get("name")
        net.bridge_zone = bridge.get("zone")
        net.stp = bridge.get("stp") != "off"
        delay = bridge.get("delay")
        if delay is not None:
            value = uint_value(delay)
            if value is None:
                raise XMLError(f"Invalid delay value in network '{self.name}'", domain=_NET)
            net.delay = value
        manager = bridge.get("macTableManager")
        if manager is not None:
            if manager not in ("kernel", "libvirt"):
                raise XMLError(
                    f"Invalid macTableManager setting '{manager}' in network '{self.name}'",
                    domain=_NET,
                )
            net.mac_table_manager = manager

    def _mac_and_mtu(self, net: NetworkDef) -> None:
        mac_elem = child(self.root, "mac")
        address = mac_elem.get("address") if mac_elem is not None else None
        if address is not None:
            mac = parse_mac(address)
            if mac is None:
                raise XMLError(
                    f"Invalid bridge mac address '{address}' in network '{self.name}'",
                    domain=_NET,
                )
            if is_multicast(mac):
                raise XMLError(
                    f"Invalid multicast bridge mac address '{address}' in network '{self.name}'",
                    domain=_NET,
                )
            net.mac = mac
        mtu_elem = child(self.root, "mtu")
        size = mtu_elem.get("size") if mtu_elem is not None else None
        if size is not None:
            value = uint_value(size)
            if value is None or value >= 2**32:
                raise XMLError(f"Invalid mtu size '{size}' in network '{self.name}'", domain=_NET)
            net.mtu = value

    def _dns(self, elem: etree._Element) -> DNSDef:
        name = self.name
        dns = DNSDef(tristate(elem, "enable"), tristate(elem, "forwardPlainNames"))
        for fwd in children(elem, "forwarder"):
            addr_text = fwd.get("addr")
            addr = parse_address(addr_text) if addr_text is not None else None
            if addr_text is not None and addr is None:
                raise XMLError(
                    f"Invalid forwarder IP address '{addr_text}' in network '{name}'", domain=_NET
                )
            if addr is None and fwd.get("domain") is None:
                raise XMLError(
                    "Invalid forwarder element, must contain at least one of addr or domain",
                    domain=_NET,
                )
            dns.forwarders.append((fwd.get("domain"), addr))
        dns.hosts = [parse_dns_host(name, h, partial=False) for h in children(elem, "host")]
        dns.srvs = [parse_dns_srv(name, s, partial=False) for s in children(elem, "srv")]
        dns.txts = [parse_dns_txt(name, t, partial=False) for t in children(elem, "txt")]
        if dns.enable == "no" and (dns.forwarders or dns.hosts or dns.srvs or dns.txts):
            raise XMLError(f"Extra data in disabled network '{name}'", domain=_NET)
        return dns

    def _ip(self, elem: etree._Element) -> IPDef:
        name = self.name
        family = elem.get("family")
        address_text = elem.get("address")
        if address_text is None:
            raise XMLError(f"Missing required address attribute in network '{name}'", domain=_NET)
        address = parse_address(address_text)
        if address is None:
            raise XMLError(f"Invalid address '{address_text}' in network '{name}'", domain=_NET)
        netmask_text = elem.get("netmask")
        netmask = parse_address(netmask_text) if netmask_text is not None else None
        if netmask_text is not None and netmask is None:
            raise XMLError(f"Invalid netmask '{netmask_text}' in network '{name}'", domain=_NET)
        prefix_text = elem.get("prefix")
        prefix = 0
        if prefix_text is not None:
            value = uint_value(prefix_text)
            if value is None:
                raise xml_attr_error(
                    "prefix", "ip", prefix_text, "Expected non-negative integer value"
                )
            prefix = value
        ip = IPDef(address, family, netmask, prefix, tristate(elem, "localPtr"))
        self._check_family(ip, address_text, netmask_text)
        dhcp = child(elem, "dhcp")
        if dhcp is not None:
            ip.ranges = [parse_dhcp_range(name, ip, r) for r in children(dhcp, "range")]
            ip.hosts = [parse_dhcp_host(name, ip, h, partial=False) for h in children(dhcp, "host")]
            bootp = child(dhcp, "bootp")
            # libvirt 9.0 ignores a <bootp> without a file.
            if bootp is not None and address.version == 4 and bootp.get("file") is not None:
                ip.bootp_file = bootp.get("file")
                server = bootp.get("server")
                if server is not None:
                    ip.bootp_server = socket_addr(server)
        tftp = child(elem, "tftp")
        if tftp is not None:
            if address.version != 4:
                raise ConfigUnsupportedError(
                    f"Unsupported <tftp> element in an IPv6 element in network '{name}'",
                    domain=_NET,
                )
            ip.tftp_root = tftp.get("root")
        return ip

    def _check_family(self, ip: IPDef, address: str, netmask: str | None) -> None:
        name = self.name
        if ip.family is None or ip.family == "ipv4":
            if ip.address.version != 4:
                raise ConfigUnsupportedError(
                    f"{'no' if ip.family is None else 'ipv4'} family specified for non-IPv4 "
                    f"address '{address}' in network '{name}'",
                    domain=_NET,
                )
            if netmask is not None:
                if ip.netmask is None or ip.netmask.version != 4:
                    raise ConfigUnsupportedError(
                        f"Invalid netmask '{netmask}' for address '{address}' in network "
                        f"'{name}' (both must be IPv4)",
                        domain=_NET,
                    )
                if ip.prefix > 0:
                    raise ConfigUnsupportedError(
                        f"Network '{name}' IP address cannot have both a prefix and a netmask",
                        domain=_NET,
                    )
            elif ip.prefix > 32:
                raise ConfigUnsupportedError(
                    f"Invalid IPv4 prefix '{ip.prefix}' in network '{name}'", domain=_NET
                )
        elif ip.family == "ipv6":
            if ip.address.version != 6:
                raise ConfigUnsupportedError(
                    f"Family 'ipv6' specified for non-IPv6 address '{address}' in network '{name}'",
                    domain=_NET,
                )
            if netmask is not None:
                raise ConfigUnsupportedError(
                    f"netmask not allowed for IPv6 address '{address}' in network '{name}'",
                    domain=_NET,
                )
            if ip.prefix > 128:
                raise ConfigUnsupportedError(
                    f"Invalid IPv6 prefix '{ip.prefix}' in network '{name}'", domain=_NET
                )
        else:
            raise XMLError(f"Unrecognized family '{ip.family}' in network '{name}'", domain=_NET)

    def _route(self, net: NetworkDef, elem: etree._Element) -> etree._Element:
        route = etree.Element("route")
        for attr in ("family", "address", "netmask", "prefix", "gateway", "metric"):
            if elem.get(attr) is not None:
                route.set(attr, elem.get(attr, ""))
        gateway = parse_address(elem.get("gateway") or "")
        if gateway is None:
            raise ConfigUnsupportedError(
                f"Missing or invalid gateway in route definition in network '{net.name}'",
                domain=_NET,
            )
        for ip in net.ips:
            if ip.address.version != gateway.version:
                continue
            subnet = ipaddress.ip_network(f"{ip.address}/{ip.prefix_length}", strict=False)
            if gateway in subnet:
                return route
        raise ConfigUnsupportedError(
            f"unreachable static route gateway '{gateway}' specified for network '{net.name}'",
            domain=_NET,
        )

    def _forward(self, net: NetworkDef, elem: etree._Element) -> None:
        name = self.name
        mode = elem.get("mode", "nat")
        if mode not in _FORWARD_MODES:
            raise ConfigUnsupportedError(f"unknown forwarding type '{mode}'", domain=_NET)
        net.forward_mode = mode
        net.forward_managed = (elem.get("managed") or "").lower() == "yes"
        driver = child(elem, "driver")
        if driver is not None and driver.get("name") is not None:
            if driver.get("name") not in ("kvm", "vfio"):
                raise ConfigUnsupportedError(
                    f"Unknown forward <driver name='{driver.get('name')}'/> in network {name}",
                    domain=_NET,
                )
            net.forward_driver = driver.get("name")
        nats = children(elem, "nat")
        if len(nats) > 1:
            raise XMLError(
                f"Only one <nat> element is allowed in <forward> of network {name}", domain=_NET
            )
        if nats:
            if mode != "nat":
                raise XMLError(
                    "The <nat> element can only be used when <forward> 'mode' is 'nat' in "
                    f"network {name}",
                    domain=_NET,
                )
            net.nat = copy.deepcopy(nats[0])
            net.nat.tail = None
        addresses = children(elem, "address")
        pfs = children(elem, "pf")
        dev = elem.get("dev")
        ifaces = children(elem, "interface")
        if dev is not None and (addresses or pfs):
            raise XMLError(
                "the <forward> 'dev' attribute cannot be used when <address> or <pf> "
                "sub-elements are present in network %s",
                domain=_NET,
            )
        if ifaces or dev is not None:
            devs = [dev] if dev is not None else []
            for index, iface in enumerate(ifaces):
                idev = iface.get("dev")
                if idev is None:
                    raise XMLError(
                        f"Missing required dev attribute in <forward> <interface> element of "
                        f"network {name}",
                        domain=_NET,
                    )
                if index == 0 and dev is not None:
                    if idev != dev:
                        raise XMLError(
                            f"<forward dev='{dev}'> must match first <interface dev='{idev}'/> "
                            f"in network {name}",
                            domain=_NET,
                        )
                    continue
                if idev in devs:
                    raise XMLError(
                        f"interface '{idev}' can only be listed once in network {name}",
                        domain=_NET,
                    )
                devs.append(idev)
            net.forward_ifs = [ForwardIf(d) for d in devs]
        elif addresses:
            for address in addresses:
                kept = copy.deepcopy(address)
                kept.tail = None
                net.forward_addresses.append(kept)
        elif len(pfs) > 1:
            raise XMLError(
                f"Only one <pf> element is allowed in <forward> of network {name}", domain=_NET
            )
        elif pfs:
            pf_dev = pfs[0].get("dev")
            if pf_dev is None:
                raise XMLError(
                    f"Missing required dev attribute in <pf> element of network '{name}'",
                    domain=_NET,
                )
            net.forward_pf = pf_dev

    def _check_mode(self, net: NetworkDef) -> None:
        mode, name = net.forward_mode, self.name
        bridge = child(self.root, "bridge")
        if mode in ("route", "nat", "open"):
            if not net.ips:
                raise XMLError(
                    f"{mode} forwarding requested, but no IP address provided for network '{name}'",
                    domain=_NET,
                )
            if len(net.forward_ifs) > 1:
                raise XMLError(
                    f"multiple forwarding interfaces specified for network '{name}', only one "
                    "is supported",
                    domain=_NET,
                )
            if mode == "open" and net.forward_ifs:
                raise XMLError(
                    f"forward dev not allowed for network '{name}' with forward mode='{mode}'",
                    domain=_NET,
                )
        elif mode != "none":
            if mode != "bridge":
                checks = (
                    ("bridge name", net.bridge_name),
                    ("bridge zone", net.bridge_zone),
                    ("bridge macTableManager setting", net.mac_table_manager),
                )
                for what, value in checks:
                    if value:
                        raise XMLError(
                            f"{what} not allowed in {mode} mode (network '{name}')", domain=_NET
                        )
            stp_given = bridge is not None and bridge.get("stp") is not None
            if net.delay or stp_given or net.bridge_zone:
                raise XMLError(
                    "bridge delay/stp/zone options only allowed in route, nat, and isolated "
                    f"mode, not in {mode} (network '{name}')",
                    domain=_NET,
                )
            if net.bridge_name and (net.forward_ifs or net.forward_pf):
                raise XMLError(
                    f"A network with forward mode='{mode}' can specify a bridge name or a "
                    f"forward dev, but not both (network '{name}')",
                    domain=_NET,
                )
            if net.mtu:
                raise XMLError(
                    "mtu size only allowed in open, route, nat, and isolated mode, not in "
                    f"{mode} (network '{name}')",
                    domain=_NET,
                )


def _sanitized_metadata(src: etree._Element) -> etree._Element:
    """``<metadata>`` keeping one namespaced child per namespace URI (libvirt's sanitizing)."""
    out = etree.Element("metadata")
    seen: set[str] = set()
    for sub in elements(src):
        tag: str = sub.tag
        if not tag.startswith("{"):
            continue
        uri = tag[1:].partition("}")[0]
        if uri in seen:
            continue
        seen.add(uri)
        kept = copy.deepcopy(sub)
        kept.tail = None
        out.append(kept)
    for node in out.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node is not out and node.tail is not None and not node.tail.strip():
            node.tail = None
    return out
