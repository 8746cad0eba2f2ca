"""The network port document: every plug type round-trips in libvirt's form, bad ports are refused.

libvirt's test driver has no network ports, so these documents are checked
against libvirt 9.0's rules as ``virNetworkPortDefParseXML`` and
``virNetworkPortDefFormatBuf`` apply them, and against its RelaxNG schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.networkport import NetworkPort
from virtcore.xml.validate import validate

HEAD = """<networkport>
  <uuid>6a3b1c2d-0000-4000-8000-000000000001</uuid>
  <owner>
    <name>guest1</name>
    <uuid>6a3b1c2d-0000-4000-8000-0000000000aa</uuid>
  </owner>
"""

CANONICAL = {
    "unplugged": HEAD + "  <mac address='52:54:00:00:00:01'/>\n</networkport>\n",
    "network": HEAD
    + """  <group>web</group>
  <mac address='52:54:00:00:00:02'/>
  <bandwidth classID='7'>
    <inbound average='1000' peak='4000' floor='2000' burst='1024'/>
    <outbound average='128' peak='256' burst='512'/>
  </bandwidth>
  <vlan trunk='yes'>
    <tag id='2'/>
    <tag id='3' nativeMode='untagged'/>
  </vlan>
  <port isolated='yes'/>
  <rxfilters trustGuest='yes'/>
  <plug type='network' bridge='virbr0' macTableManager='libvirt'/>
</networkport>
""",
    "bridge": HEAD
    + """  <mac address='52:54:00:00:00:03'/>
  <virtualport type='openvswitch'>
    <parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f' profileid='gold'/>
  </virtualport>
  <plug type='bridge' bridge='br0'/>
</networkport>
""",
    "direct": HEAD
    + """  <mac address='52:54:00:00:00:04'/>
  <virtualport type='802.1Qbg'>
    <parameters managerid='11' typeid='1193047' typeidversion='2'/>
  </virtualport>
  <plug type='direct' dev='eth0' mode='passthrough'/>
</networkport>
""",
    "hostdev-pci": HEAD
    + """  <mac address='52:54:00:00:00:05'/>
  <plug type='hostdev-pci' managed='no'>
    <driver name='vfio'/>
    <address domain='0x0001' bus='0x02' slot='0x03' function='0x4'/>
  </plug>
</networkport>
""",
}


def refusal(text: str) -> VirtError:
    with pytest.raises(VirtError) as info:
        NetworkPort.parse(text)
    return info.value


def port(body: str) -> str:
    return HEAD + body + "</networkport>\n"


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_port_formats_to_itself(name: str) -> None:
    assert NetworkPort.parse(CANONICAL[name]).format() == CANONICAL[name]


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_formatted_port_validates_against_libvirts_schema(name: str, libvirt_schemas: Path) -> None:
    text = NetworkPort.parse(CANONICAL[name]).format()
    validate(etree.fromstring(text.encode()), "networkport.rng")


def test_values_are_normalised_and_defaults_filled_in() -> None:
    text = NetworkPort.parse(
        "<networkport><plug type='direct' dev='eth1'/><mac address='52:54:0:A:B:C'/>"
        "<owner><uuid>6A3B1C2D00004000800000000000AAAA</uuid><name>g</name></owner>"
        "<uuid> 6a3b1c2d-0000-4000-8000-000000000002 </uuid></networkport>"
    ).format()
    assert text == (
        "<networkport>\n  <uuid>6a3b1c2d-0000-4000-8000-000000000002</uuid>\n  <owner>\n"
        "    <name>g</name>\n    <uuid>6a3b1c2d-0000-4000-8000-00000000aaaa</uuid>\n"
        "  </owner>\n  <mac address='52:54:00:0a:0b:0c'/>\n"
        "  <plug type='direct' dev='eth1' mode='vepa'/>\n</networkport>\n"
    )


def test_unknown_content_survives_in_the_tree_only() -> None:
    document = NetworkPort.from_xml(CANONICAL["bridge"].replace("<plug", "<future/><plug"))
    assert "<future/>" in document.to_string()
    assert "future" not in document.format()


def test_properties_edit_the_port() -> None:
    document = NetworkPort.parse(CANONICAL["unplugged"])
    document.plug_type = "bridge"
    document.plug_bridge = "br7"
    document.isolated = True
    assert document.format() == CANONICAL["unplugged"].replace(
        "</networkport>",
        "  <port isolated='yes'/>\n  <plug type='bridge' bridge='br7'/>\n</networkport>",
    )


@pytest.mark.parametrize(
    ("text", "code", "domain", "message"),
    [
        ("<networkport/>", ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK,
         "internal error: network port has no uuid"),
        ("<networkport><uuid>x</uuid></networkport>", ErrorNumber.INTERNAL_ERROR,
         ErrorDomain.NETWORK, "internal error: Unable to parse UUID 'x'"),
        (HEAD.replace("<name>guest1</name>", "") + "</networkport>", ErrorNumber.INTERNAL_ERROR,
         ErrorDomain.NETWORK, "internal error: network port has no owner name"),
        (port(""), ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK,
         "internal error: network port has no mac"),
        (port("<mac address='zz'/>"), ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK,
         "internal error: Unable to parse MAC 'zz'"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='bridge'/>"), ErrorNumber.XML_ERROR,
         ErrorDomain.NETWORK, "XML error: Missing network port bridge name"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='network' bridge='b' "
              "macTableManager='x'/>"), ErrorNumber.XML_ERROR, ErrorDomain.NETWORK,
         "XML error: Invalid macTableManager setting 'x' in network port"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='direct'/>"), ErrorNumber.XML_ERROR,
         ErrorDomain.NETWORK, "XML error: Missing network port link device name"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='direct' dev='e' mode='x'/>"),
         ErrorNumber.XML_ERROR, ErrorDomain.NETWORK,
         "XML error: Invalid mode setting 'x' in network port"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='hostdev-pci'/>"),
         ErrorNumber.XML_ERROR, ErrorDomain.NETWORK,
         "XML error: Missing network port PCI address"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='hostdev-pci'><driver name='xen'/>"
              "<address bus='1'/></plug>"), ErrorNumber.XML_ERROR, ErrorDomain.NETWORK,
         "XML error: Missing network port driver name"),
        (port("<mac address='52:54:00:00:00:01'/><plug type='bogus'/>"), ErrorNumber.XML_ERROR,
         ErrorDomain.XML, "XML error: Invalid value for attribute 'type' in element 'plug': "
         "'bogus'."),
        (port("<mac address='52:54:00:00:00:01'/><bandwidth><outbound floor='1'/></bandwidth>"),
         ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE,
         "unsupported configuration: 'floor' attribute allowed only in <inbound> element"),
        (port("<mac address='52:54:00:00:00:01'/><rxfilters trustGuest='maybe'/>"),
         ErrorNumber.XML_ERROR, ErrorDomain.XML,
         "XML error: Invalid value for attribute 'trustGuest' in element 'rxfilters': 'maybe'."),
    ],
)  # fmt: skip
def test_refused_port_gets_libvirts_error(text: str, code: int, domain: int, message: str) -> None:
    error = refusal(text)
    assert (error.code, error.domain, error.message) == (code, domain, message)


def test_floor_and_class_id_are_allowed_on_ports() -> None:
    definition = NetworkPort.parse(CANONICAL["network"]).definition()
    assert definition.bandwidth is not None and definition.bandwidth.class_id == 7
    assert definition.bandwidth.inbound is not None and definition.bandwidth.inbound.floor == 2000
