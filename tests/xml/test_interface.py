"""Host interface documents: virtcore defines and prints them exactly as libvirt 9.0 does.

The goldens of tests/data/xml/interface were recorded from libvirt 9.0's test
driver (``iface-define`` then ``iface-dumpxml``) by its oracle.py; errors.json
holds the documents libvirt refuses with its exact error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.errors import VirtError, XMLError
from virtcore.xml.interface import Interface
from virtcore.xml.parse import XMLParseError
from virtcore.xml.validate import XMLSchemaValidationError, validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "interface"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())


def _schema_valid(text: str) -> bool:
    try:
        validate(etree.fromstring(text.encode()), "interface.rng")
    except XMLSchemaValidationError:
        return False
    return True


def test_there_are_at_least_forty_golden_documents() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_format_prints_what_libvirt_prints(name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    assert Interface.parse(text).format() == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_formatting_twice_changes_nothing(name: str) -> None:
    golden = (DATA / f"{name}.xml").read_text()
    assert Interface.parse(golden).format() == golden


@pytest.mark.parametrize("name", CASES)
def test_output_of_a_schema_valid_document_is_schema_valid(
    libvirt_schemas: Path, name: str
) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    if _schema_valid(text):
        assert _schema_valid((DATA / f"{name}.xml").read_text())


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=[c["name"] for c in ERRORS])
def test_refused_documents_get_libvirts_error(index: int) -> None:
    case = ERRORS[index]
    with pytest.raises(VirtError) as caught:
        Interface.parse(case["xml"])
    assert (int(caught.value.code), int(caught.value.domain), caught.value.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_syntax_errors_name_the_interface_definition() -> None:
    with pytest.raises(XMLParseError, match=r"^\(interface_definition\):1: "):
        Interface.parse("<interface type='ethernet'")


def test_properties_read_the_live_tree() -> None:
    iface = Interface.parse((DATA / "eth-static-ipv4.input.xml").read_text())
    assert (iface.type, iface.name, iface.start_mode) == ("ethernet", "eth4", "onboot")
    proto = iface.protocols[0]
    assert (proto.family, proto.gateway) == ("ipv4", "192.168.1.1")
    assert [(ip.address, ip.prefix) for ip in proto.ips] == [("192.168.1.10", 24)]


def test_setting_a_property_changes_the_output() -> None:
    iface = Interface.parse("<interface type='ethernet' name='eth0'/>")
    iface.mtu = 9000
    iface.start_mode = "hotplug"
    iface.mac = "52:54:00:00:00:09"
    assert iface.format() == (
        "<interface type='ethernet' name='eth0'>\n"
        "  <start mode='hotplug'/>\n"
        "  <mtu size='9000'/>\n"
        "  <mac address='52:54:00:00:00:09'/>\n"
        "</interface>\n"
    )


def test_new_elements_land_in_libvirts_order() -> None:
    iface = Interface.parse("<interface type='ethernet' name='eth0'><mac address='x'/></interface>")
    iface.start_mode = "onboot"
    proto = iface.protocols.append()
    proto.family = "ipv4"
    proto.dhcp = True
    children = [etree.QName(c).localname for c in iface.element]
    assert children == ["start", "protocol", "mac"]


def test_bridge_members_are_interfaces() -> None:
    iface = Interface.parse((DATA / "bridge-stp-on.input.xml").read_text())
    assert [m.name for m in iface.bridge.interfaces] == ["eth1", "eth2"]
    member = iface.bridge.interfaces.append()
    member.type = "ethernet"
    member.name = "eth3"
    assert [m.name for m in iface.definition().members] == ["eth1", "eth2", "eth3"]


def test_bond_settings_are_typed() -> None:
    iface = Interface.parse((DATA / "bond-miimon.input.xml").read_text())
    assert (iface.bond.mode, iface.bond.miimon_freq, iface.bond.miimon_carrier) == (
        "balance-rr",
        100,
        "netif",
    )
    assert [m.name for m in iface.bond.interfaces] == ["eth0"]


def test_vlan_device_and_tag() -> None:
    iface = Interface.parse((DATA / "vlan-basic.input.xml").read_text())
    assert (iface.vlan.tag, iface.vlan.device) == ("100", "eth0")


def test_unknown_content_survives_in_the_tree_but_not_in_the_output() -> None:
    iface = Interface.parse((DATA / "eth-unknown-elements.input.xml").read_text())
    assert "<foo/>" in iface.to_string()
    assert "foo" not in iface.format()


def test_invalid_bridge_stp_yields_an_empty_bridge_as_in_libvirt() -> None:
    definition = Interface.parse((DATA / "bridge-bad-stp-empties.input.xml").read_text())
    assert definition.definition().members == ()
    assert definition.definition().delay is None


def test_schema_validation_on_request_refuses_what_the_schema_refuses(
    libvirt_schemas: Path,
) -> None:
    with pytest.raises(XMLError):
        Interface.parse("<interface type='vlan' name='v'><vlan tag='x'/></interface>",
                        validate_schema=True)  # fmt: skip
