"""The section editors behind ``virNetworkUpdate``, with libvirt 9.0's rules and wording.

:func:`update_section` parses the update document (named
``network_update_xml`` in syntax errors, as libvirt names it) and applies one
``virNetworkUpdateCommand`` to one ``virNetworkUpdateSection`` of a
:class:`~virtcore.drivers.test.netxml.NetworkDef`, in place. It mirrors
``virNetworkDefUpdateSection``:

* ``bridge``, ``domain``, ``ip``, ``forward`` and ``forward pf`` cannot be
  updated (``OPERATION_UNSUPPORTED``);
* DHCP hosts are matched by MAC, name or IP (all given attributes must match
  for a deletion) and can be modified in place; DHCP ranges, forward
  interfaces and DNS records can only be added or deleted;
* additions refuse duplicates, and DHCP entries go to the ``<ip>`` at
  *parent_index* or, with -1, to the one already serving DHCP (else the first
  IPv4, else the first IPv6 address);
* a second IP address of a family may not serve DHCP;
* port groups are matched by name and at most one may be the default.

The caller works on a copy and keeps it only if the edit succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from virtcore.drivers.test.netparse import (
    parse_dhcp_host,
    parse_dhcp_range,
    parse_dns_host,
    parse_dns_srv,
    parse_dns_txt,
)
from virtcore.drivers.test.netxml import ForwardIf, IPDef, NetworkDef, PortGroup, parse_mac
from virtcore.drivers.test.xmlutil import parse_xml
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.network import NetworkUpdateCommand as Cmd
from virtcore.enums.network import NetworkUpdateSection as Section
from virtcore.errors import OperationInvalidError, OperationUnsupportedError, XMLError

__all__ = ["update_section"]

T = TypeVar("T")
Editor = Callable[[NetworkDef, int, int, etree._Element], None]

_NET = ErrorDomain.NETWORK
_ADD = (Cmd.ADD_FIRST, Cmd.ADD_LAST)
_FIXED_SECTIONS = {
    Section.BRIDGE: "bridge",
    Section.DOMAIN: "domain",
    Section.IP: "ip",
    Section.FORWARD: "forward",
    Section.FORWARD_PF: "forward pf",
}


def _unknown_command(command: int) -> OperationUnsupportedError:
    return OperationUnsupportedError(
        f"unrecognized network update command code {command}", domain=_NET
    )


def _invalid(text: str) -> OperationInvalidError:
    return OperationInvalidError(text, domain=_NET)


def _expect(net: NetworkDef, node: etree._Element, tag: str) -> None:
    if node.tag != tag:
        raise XMLError(
            f"unexpected element <{node.tag}>, expecting <{tag}>, while updating network "
            f"'{net.name}'",
            domain=_NET,
        )


def _insert(items: list[T], item: T, command: int) -> None:
    items.insert(0 if command == Cmd.ADD_FIRST else len(items), item)


def update_section(
    net: NetworkDef, command: int, section: int, parent_index: int, xml: str
) -> None:
    """Apply *command* to *section* of *net* with the record in *xml* (``virNetworkUpdate``)."""
    node = parse_xml(xml, "network_update_xml", domain=_NET)
    if section in _FIXED_SECTIONS:
        raise OperationUnsupportedError(
            f"can't update '{_FIXED_SECTIONS[Section(section)]}' section of network '{net.name}'",
            domain=_NET,
        )
    editors: dict[int, Editor] = {
        Section.IP_DHCP_HOST: _dhcp_host,
        Section.IP_DHCP_RANGE: _dhcp_range,
        Section.FORWARD_INTERFACE: _forward_interface,
        Section.PORTGROUP: _portgroup,
        Section.DNS_HOST: _dns_host,
        Section.DNS_TXT: _dns_txt,
        Section.DNS_SRV: _dns_srv,
    }
    editor = editors.get(section)
    if editor is None:
        raise OperationUnsupportedError("can't update unrecognized section of network", domain=_NET)
    editor(net, command, parent_index, node)


# -- DHCP -----------------------------------------------------------------------------------


def _ip_for(net: NetworkDef, parent_index: int) -> IPDef:
    """The ``<ip>`` a DHCP edit applies to (``virNetworkIPDefByIndex``)."""
    if parent_index >= 0:
        found = net.ip_by_index(parent_index)
        if found is None:
            raise _invalid(
                f"couldn't update dhcp host entry - no <ip> element found at index "
                f"{parent_index} in network '{net.name}'"
            )
        return found
    for ip in net.ips:
        if ip.has_dhcp:
            return ip
    found = net.ip_by_index(0, 4) or net.ip_by_index(0, 6)
    if found is None:
        raise _invalid(
            f"couldn't update dhcp host entry - no <ip> element found in network '{net.name}'"
        )
    return found


def _check_single_dhcp(net: NetworkDef, ip: IPDef) -> None:
    for other in net.ips:
        if other is not ip and other.address.version == ip.address.version and other.has_dhcp:
            raise _invalid(
                "dhcp is supported only for a single "
                f"{'IPv4' if ip.address.version == 4 else 'IPv6'} address on each network"
            )


def _same_mac(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and parse_mac(a) == parse_mac(b)


def _dhcp_host(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    _expect(net, node, "host")
    ip = _ip_for(net, parent_index)
    partial = command == Cmd.DELETE
    host = parse_dhcp_host(net.name, ip, node, partial=partial)
    if not partial and (host.ip is None or host.ip.version != ip.address.version):
        raise _invalid(
            "the address family of a host entry IP must match the address family of the dhcp "
            "element's parent"
        )
    ip_text = str(host.ip) if host.ip is not None else "unknown"
    if command == Cmd.MODIFY:
        for index, old in enumerate(ip.hosts):
            if (
                _same_mac(host.mac, old.mac)
                or (host.ip is not None and host.ip == old.ip)
                or (host.name is not None and host.name == old.name)
            ):
                ip.hosts[index] = host
                return
        raise _invalid(
            f"couldn't locate an existing dhcp host entry with \"mac='{host.mac or 'unknown'}'\" "
            f"\"name='{host.name}'\" \"ip='{ip_text}'\" in network '{net.name}'"
        )
    if command in _ADD:
        _check_single_dhcp(net, ip)
        for old in ip.hosts:
            if (
                _same_mac(host.mac, old.mac)
                or (host.name is not None and host.name == old.name)
                or (host.ip is not None and host.ip == old.ip)
            ):
                raise _invalid(
                    f"there is an existing dhcp host entry in network '{net.name}' that matches "
                    f"\"<host mac='{host.mac or 'unknown'}' name='{host.name}' ip='{ip_text}'/>\""
                )
        _insert(ip.hosts, host, command)
        return
    if command == Cmd.DELETE:
        for index, old in enumerate(ip.hosts):
            if (
                (host.mac is None or old.mac is None or parse_mac(host.mac) == parse_mac(old.mac))
                and (host.name is None or host.name == old.name)
                and (host.ip is None or host.ip == old.ip)
            ):
                del ip.hosts[index]
                return
        raise _invalid(f"couldn't locate a matching dhcp host entry in network '{net.name}'")
    raise _unknown_command(command)


def _dhcp_range(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    _expect(net, node, "range")
    ip = _ip_for(net, parent_index)
    if command == Cmd.MODIFY:
        raise OperationUnsupportedError(
            "dhcp ranges cannot be modified, only added or deleted", domain=_NET
        )
    rng = parse_dhcp_range(net.name, ip, node)
    if rng.start.version != ip.address.version:
        raise _invalid(
            "the address family of a dhcp range must match the address family of the dhcp "
            "element's parent"
        )
    found = next(
        (i for i, r in enumerate(ip.ranges) if r.start == rng.start and r.end == rng.end), None
    )
    if command in _ADD:
        _check_single_dhcp(net, ip)
        if found is not None:
            raise _invalid(
                f"there is an existing dhcp range entry in network '{net.name}' that matches "
                f"\"<range start='{rng.start}' end='{rng.end}'/>\""
            )
        _insert(ip.ranges, rng, command)
        return
    if command == Cmd.DELETE:
        if found is None:
            raise _invalid(f"couldn't locate a matching dhcp range entry in network '{net.name}'")
        del ip.ranges[found]
        return
    raise _unknown_command(command)


# -- forward interfaces and port groups -----------------------------------------------------


def _forward_interface(
    net: NetworkDef, command: int, parent_index: int, node: etree._Element
) -> None:
    _expect(net, node, "interface")
    if command == Cmd.MODIFY:
        raise OperationUnsupportedError(
            "forward interface entries cannot be modified, only added or deleted", domain=_NET
        )
    dev = node.get("dev")
    if dev is None:
        raise XMLError("missing dev attribute in <interface> element", domain=_NET)
    found = next((i for i, f in enumerate(net.forward_ifs) if f.dev == dev), None)
    if command in _ADD:
        if found is not None:
            raise _invalid(
                f"there is an existing interface entry in network '{net.name}' that matches "
                f"\"<interface dev='{dev}'>\""
            )
        _insert(net.forward_ifs, ForwardIf(dev), command)
        return
    if command == Cmd.DELETE:
        if found is None:
            raise _invalid(
                f"couldn't find an interface entry in network '{net.name}' matching "
                f"<interface dev='{dev}'>"
            )
        connections = net.forward_ifs[found].connections
        if connections > 0:
            raise _invalid(
                f"unable to delete interface '{dev}' in network '{net.name}'. It is currently "
                f"being used by {connections} domains."
            )
        del net.forward_ifs[found]
        return
    raise _unknown_command(command)


def _portgroup(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    _expect(net, node, "portgroup")
    group = PortGroup.parse(node)
    by_name = next((i for i, g in enumerate(net.portgroups) if g.name == group.name), None)
    default = next((i for i, g in enumerate(net.portgroups) if g.default), None)
    if by_name is None and command in (Cmd.MODIFY, Cmd.DELETE):
        raise _invalid(
            f"couldn't find a portgroup entry in network '{net.name}' matching "
            f"<portgroup name='{group.name}'>"
        )
    if by_name is not None and command in _ADD:
        raise _invalid(
            f"there is an existing portgroup entry in network '{net.name}' that matches "
            f"\"<portgroup name='{group.name}'>\""
        )
    if command != Cmd.DELETE and group.default and default is not None and default != by_name:
        raise _invalid(
            f"a different portgroup entry in network '{net.name}' is already set as the "
            "default. Only one default is allowed."
        )
    if command == Cmd.MODIFY and by_name is not None:
        net.portgroups[by_name] = group
    elif command in _ADD:
        _insert(net.portgroups, group, command)
    elif command == Cmd.DELETE and by_name is not None:
        del net.portgroups[by_name]
    else:
        raise _unknown_command(command)


# -- DNS ------------------------------------------------------------------------------------


def _dns_host(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    if command == Cmd.MODIFY:
        raise OperationUnsupportedError(
            "DNS HOST records cannot be modified, only added or deleted", domain=_NET
        )
    _expect(net, node, "host")
    adding = command in _ADD
    host = parse_dns_host(net.name, node, partial=not adding)
    matches = []
    for index, old in enumerate(net.dns.hosts):
        hit = host.ip is not None and host.ip == old.ip
        # Adding checks only addresses: several addresses may share a host name.
        if not adding and not hit:
            hit = any(name in old.names for name in host.names)
        if hit:
            matches.append(index)
    if adding:
        if matches:
            raise _invalid(
                "there is already at least one DNS HOST record with a matching field in "
                f"network {net.name}"
            )
        _insert(net.dns.hosts, host, command)
        return
    if command == Cmd.DELETE:
        if not matches:
            raise _invalid(f"couldn't locate a matching DNS HOST record in network {net.name}")
        if len(matches) > 1:
            raise _invalid(f"multiple matching DNS HOST records were found in network {net.name}")
        del net.dns.hosts[matches[0]]
        return
    raise _unknown_command(command)


def _dns_srv(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    if command == Cmd.MODIFY:
        raise OperationUnsupportedError(
            "DNS SRV records cannot be modified, only added or deleted", domain=_NET
        )
    _expect(net, node, "srv")
    adding = command in _ADD
    srv = parse_dns_srv(net.name, node, partial=not adding)
    matches = [
        index
        for index, old in enumerate(net.dns.srvs)
        if all(
            mine is None or mine == theirs
            for mine, theirs in (
                (srv.domain, old.domain),
                (srv.service, old.service),
                (srv.protocol, old.protocol),
                (srv.target, old.target),
            )
        )
    ]
    if adding:
        if matches:
            raise _invalid(
                "there is already at least one DNS SRV record matching all specified fields in "
                f"network {net.name}"
            )
        _insert(net.dns.srvs, srv, command)
        return
    if command == Cmd.DELETE:
        if not matches:
            raise _invalid(f"couldn't locate a matching DNS SRV record in network {net.name}")
        if len(matches) > 1:
            raise _invalid(
                "multiple DNS SRV records matching all specified fields were found in network "
                f"{net.name}"
            )
        del net.dns.srvs[matches[0]]
        return
    raise _unknown_command(command)


def _dns_txt(net: NetworkDef, command: int, parent_index: int, node: etree._Element) -> None:
    if command == Cmd.MODIFY:
        raise OperationUnsupportedError(
            "DNS TXT records cannot be modified, only added or deleted", domain=_NET
        )
    _expect(net, node, "txt")
    adding = command in _ADD
    txt = parse_dns_txt(net.name, node, partial=not adding)
    found = next((i for i, t in enumerate(net.dns.txts) if t.name == txt.name), None)
    if adding:
        if found is not None:
            raise _invalid(
                f"there is already a DNS TXT record with name '{txt.name}' in network {net.name}"
            )
        _insert(net.dns.txts, txt, command)
        return
    if command == Cmd.DELETE:
        if found is None:
            raise _invalid(f"couldn't locate a matching DNS TXT record in network {net.name}")
        del net.dns.txts[found]
        return
    raise _unknown_command(command)
