"""The network document: libvirt's checks, its exact output, an editable view that loses nothing.

Golden files (tests/data/xml/network/<case>.xml) were recorded from libvirt
9.0's test driver after ``net-define`` of <case>.input.xml, and errors.json
holds the errors libvirt raised for refused documents (both re-checked
against live libvirt by test_network_differential.py).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.network import NetworkXMLFlags
from virtcore.errors import VirtError, XMLError
from virtcore.xml.network import Network
from virtcore.xml.network_addr import (
    check_range,
    format_ip,
    format_mac,
    ip_prefix,
    parse_ip,
    parse_mac,
    parse_uuid,
    try_ip,
)
from virtcore.xml.network_forward import ForwardInterfaceDef
from virtcore.xml.parse import XMLParseError
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "network"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())


def golden(name: str) -> str:
    return (DATA / f"{name}.xml").read_text()


def source(name: str) -> str:
    return (DATA / f"{name}.input.xml").read_text()


def refusal(text: str) -> VirtError:
    with pytest.raises(VirtError) as info:
        Network.parse(text)
    return info.value


NAT = """<network>
  <name>demo</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <forward mode='nat'/>
  <bridge name='virbr7'/>
  <ip address='192.168.7.1' prefix='24'>
    <dhcp>
      <range start='192.168.7.2' end='192.168.7.254'/>
      <host mac='52:54:00:00:00:01' name='a' ip='192.168.7.10'/>
    </dhcp>
  </ip>
</network>
"""


# -- libvirt's output ------------------------------------------------------------------


def test_the_corpus_covers_every_forward_mode() -> None:
    modes = {Network.parse(source(name)).definition().forward.mode for name in CASES}
    assert modes == {"none", "nat", "route", "open", "bridge", "private", "vepa", "passthrough",
                     "hostdev"}  # fmt: skip
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_format_is_what_libvirt_prints_after_net_define(name: str) -> None:
    assert Network.parse(source(name)).format() == golden(name)


@pytest.mark.parametrize("name", CASES)
def test_formatted_network_validates_against_libvirts_schema(
    name: str, libvirt_schemas: Path
) -> None:
    validate(etree.fromstring(Network.parse(source(name)).format().encode()), "network.rng")


@pytest.mark.parametrize("name", CASES)
def test_formatting_is_a_fixed_point(name: str) -> None:
    text = Network.parse(source(name)).format()
    assert Network.parse(text).format() == text


def test_missing_uuid_is_generated_once_at_parse() -> None:
    network = Network.parse("<network><name>n</name></network>")
    assert network.uuid is not None and parse_uuid(network.uuid) is not None
    assert network.format() == network.format()


def test_live_connection_counts_are_not_read_from_input() -> None:
    network = Network.parse(
        "<network connections='3'><name>n</name><forward mode='bridge'>"
        "<interface dev='eth0' connections='2'/></forward></network>"
    )
    assert network.connections is None
    assert network.forward.interfaces[0].connections is None


def test_connection_counts_set_by_a_driver_show_unless_inactive() -> None:
    network = Network.parse(
        "<network><name>n</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
        "<forward mode='bridge'><interface dev='eth0'/></forward></network>"
    )
    network.connections = 3
    network.forward.interfaces[0].connections = 2
    assert "<network connections='3'>" in network.format()
    assert "<interface dev='eth0' connections='2'/>" in network.format()
    inactive = network.format(NetworkXMLFlags.INACTIVE)
    assert "connections" not in inactive


def test_inactive_format_hides_the_interfaces_expanded_from_a_pf() -> None:
    definition = Network.parse(
        "<network><name>n</name><forward mode='hostdev'><pf dev='eth0'/></forward></network>"
    ).definition()
    expanded = (ForwardInterfaceDef(dev="eth0v0"), ForwardInterfaceDef(dev="eth0v1"))
    live = dataclasses.replace(
        definition, forward=dataclasses.replace(definition.forward, interfaces=expanded)
    )
    assert "<interface dev='eth0v1'/>" in live.format()
    inactive = live.format(NetworkXMLFlags.INACTIVE)
    assert "<pf dev='eth0'/>" in inactive and "<interface" not in inactive


def test_metadata_keeps_one_element_per_namespace_and_drops_the_rest() -> None:
    text = Network.parse(
        "<network><name>n</name><metadata><a:x xmlns:a='urn:a'/><plain/><!-- c -->"
        "<b:y xmlns:b='urn:a'/><c:z xmlns:c='urn:c'>t</c:z></metadata></network>"
    ).format()
    assert '<a:x xmlns:a="urn:a"/>' in text
    assert '<c:z xmlns:c="urn:c">t</c:z>' in text
    assert "plain" not in text and "b:y" not in text and "<!--" not in text


def test_title_and_description_are_kept_in_the_tree_but_not_printed() -> None:
    network = Network.parse(
        "<network><name>n</name><title>T</title><description>D</description></network>"
    )
    assert (network.title, network.description) == ("T", "D")
    assert "<title>" not in network.format()
    assert "<title>T</title>" in network.to_string()


# -- libvirt's checks ------------------------------------------------------------------


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_refused_network_gets_libvirts_exact_error(case: dict[str, Any]) -> None:
    error = refusal(case["xml"])
    assert (int(error.code), int(error.domain), error.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_error_corpus_is_large_and_varied() -> None:
    assert len(ERRORS) >= 60
    assert len({(c["code"], c["domain"]) for c in ERRORS}) >= 8


def test_missing_name_is_no_name_error() -> None:
    error = refusal("<network/>")
    assert (error.code, error.domain) == (ErrorNumber.NO_NAME, ErrorDomain.NETWORK)
    assert error.message == "missing name information"


def test_syntax_errors_name_the_network_definition() -> None:
    with pytest.raises(XMLParseError) as info:
        Network.parse("<network><name>n</name")
    assert info.value.message.startswith("(network_definition):1:")
    assert info.value.domain == ErrorDomain.NETWORK


def test_wrong_root_element_is_refused() -> None:
    with pytest.raises(XMLError, match="expecting root element of 'network', not 'pool'"):
        Network.parse("<pool/>")


def test_schema_validation_is_available_on_request(libvirt_schemas: Path) -> None:
    with pytest.raises(XMLError) as info:
        Network.parse("<network><name>n</name><bogus/></network>", validate_schema=True)
    assert info.value.code == ErrorNumber.XML_INVALID_SCHEMA


def test_a_check_failure_leaves_the_document_untouched() -> None:
    network = Network.from_xml("<network><name>n</name><mtu size='x'/></network>")
    before = network.to_string()
    with pytest.raises(XMLError, match="Invalid mtu size 'x' in network 'n'"):
        network.check()
    assert network.to_string() == before


# -- the editable view -----------------------------------------------------------------


def test_typed_properties_read_the_document() -> None:
    network = Network.parse(NAT)
    assert network.name == "demo"
    assert network.forward.mode == "nat"
    assert network.bridge.name == "virbr7"
    assert network.ips[0].prefix == 24
    assert [h.name for h in network.ips[0].hosts] == ["a"]


def test_unknown_content_survives_edits_and_round_trips() -> None:
    network = Network.from_xml(
        "<network xmlns:x='urn:x'><name>n</name><x:extra a='1'/><future/>"
        "<ip address='10.0.0.1' prefix='8' newattr='v'/></network>"
    )
    network.mtu = 1400
    network.ips[0].prefix = 16
    text = network.to_string()
    assert "<x:extra a='1'/>" in text and "<future/>" in text and "newattr='v'" in text


def test_a_network_built_from_scratch_formats_like_libvirt() -> None:
    network = Network()
    network.name = "demo"
    network.uuid = "11111111-2222-3333-4444-555555555555"
    network.forward.mode = "nat"
    network.bridge.name = "virbr7"
    ip = network.ips.append()
    ip.address, ip.prefix = "192.168.7.1", 24
    dhcp_range = ip.ranges.append()
    dhcp_range.start, dhcp_range.end = "192.168.7.2", "192.168.7.254"
    host = ip.hosts.append()
    host.mac, host.name, host.ip = "52:54:00:00:00:01", "a", "192.168.7.10"
    assert network.to_string() == NAT
    assert network.format() == Network.parse(NAT).format()


def test_new_elements_land_where_libvirt_writes_them() -> None:
    network = Network.from_xml("<network><name>n</name><ip address='10.0.0.1'/></network>")
    network.mac = "52:54:00:00:00:09"
    network.forward.mode = "route"
    network.portgroups.append().name = "pg"
    order = [c.tag for c in network.element]
    assert order == ["name", "forward", "mac", "ip", "portgroup"]


def test_removing_the_last_dhcp_host_removes_the_empty_dhcp() -> None:
    network = Network.from_xml(
        "<network><name>n</name><ip address='10.0.0.1'><dhcp><host name='h' ip='10.0.0.2'/>"
        "</dhcp></ip></network>"
    )
    ip = network.ips[0]
    ip.hosts.remove(ip.hosts[0])
    assert "dhcp" not in network.to_string()


def test_metadata_can_be_replaced_and_removed() -> None:
    network = Network.parse("<network><name>n</name></network>")
    network.metadata = etree.fromstring("<metadata><a:b xmlns:a='urn:a'/></metadata>")
    assert '<a:b xmlns:a="urn:a"/>' in network.format()
    network.metadata = None
    assert "metadata" not in network.format()


def test_dns_host_names_are_read_and_appended() -> None:
    network = Network.from_xml(
        "<network><name>n</name><dns><host ip='10.0.0.5'><hostname>a</hostname></host>"
        "</dns></network>"
    )
    host = network.dns.hosts[0]
    host.add_hostname("b")
    assert host.hostnames == ["a", "b"]


# -- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1", "10.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("010.0.0.1", "8.0.0.1"),
        ("4294967295", "255.255.255.255"),
        ("1.2.65535", "1.2.255.255"),
        ("FD00:0:0::1", "fd00::1"),
        ("::2:3", "::0.2.0.3"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ("0:0:0:0:0:1:0:0", "::1:0:0"),
    ],
)
def test_ip_addresses_are_read_and_written_like_glibc(text: str, expected: str) -> None:
    address = try_ip(text)
    assert address is not None and format_ip(address) == expected


@pytest.mark.parametrize(
    "text",
    ["1.2.3.4 ", " 1.2.3.4", "256.1.1.1", "1.2.65536", "09", "0x", "1..2.3", "fe80::1%lo", ""],
)
def test_unreadable_ip_address_is_refused(text: str) -> None:
    assert try_ip(text) is None
    with pytest.raises(VirtError) as info:
        parse_ip(text)
    assert info.value.message == (
        f"Cannot parse socket address '{text}': Name or service not known"
    )


def test_address_of_the_wrong_family_gets_getaddrinfos_reason() -> None:
    with pytest.raises(VirtError, match="Address family for hostname not supported"):
        parse_ip("fd00::1", 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("52:54:0:a:B:c", "52:54:00:0a:0b:0c"), ("52:54:00:00:00:01 trailing", "52:54:00:00:00:01")],
)
def test_mac_addresses_are_normalised(text: str, expected: str) -> None:
    mac = parse_mac(text)
    assert mac is not None and format_mac(mac) == expected


@pytest.mark.parametrize(
    "text", ["zz", "52:54:00:00:00", "52:54:00:00:00:001", "+2:54:00:00:00:01"]
)
def test_malformed_mac_addresses_are_refused(text: str) -> None:
    assert parse_mac(text) is None


@pytest.mark.parametrize(
    "text",
    ["11111111-2222-3333-4444-555555555555", " 1111 1111-2222-3333-4444-555555555555 ",
     "11111111222233334444555555555555"],
)  # fmt: skip
def test_uuids_are_read_liberally(text: str) -> None:
    assert str(parse_uuid(text)) == "11111111-2222-3333-4444-555555555555"


def test_classful_prefix_applies_without_netmask_or_prefix() -> None:
    addresses = ("10.0.0.1", "172.16.0.1", "192.168.0.1", "224.0.0.1", "fd00::1")
    assert [ip_prefix(try_ip(a), None, 0) for a in addresses] == [8, 16, 24, -1, 64]


def test_range_checks_report_libvirts_internal_errors() -> None:
    start, end, net = try_ip("10.0.0.0"), try_ip("10.0.0.9"), try_ip("10.0.0.1")
    assert start and end and net
    with pytest.raises(VirtError, match="is the network address"):
        check_range(start, end, net, 24)
    assert check_range(try_ip("10.0.0.2") or start, end, net, 24) == 8


def test_pci_address_naming_only_a_function_is_taken_unchecked() -> None:
    network = Network.parse(
        "<network><name>n</name><forward mode='hostdev'>"
        "<address type='pci' domain='0' bus='0' slot='0' function='9'/></forward></network>"
    )
    assert (
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x00' function='0x9'/>"
        in network.format()
    )


def test_pci_address_with_a_slot_has_its_function_checked() -> None:
    error = refusal(
        "<network><name>n</name><forward mode='hostdev'>"
        "<address type='pci' domain='0' bus='0' slot='1' function='9'/></forward></network>"
    )
    assert isinstance(error, XMLError)
    assert str(error) == "XML error: Invalid PCI address function=0x9, must be <= 7"
