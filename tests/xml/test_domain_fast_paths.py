"""The quick ways of reading and printing a domain give what the general ones give.

Printing writes the formatter's output tree directly; it must produce
exactly the text :func:`~virtcore.xml.format.format_xml` produces for the
equivalent lxml tree with the domain rules, for every recorded document
and for the characters that need escaping (apostrophes, quotes, tabs,
newlines).
"""

from __future__ import annotations

import pytest
from lxml import etree

from tests.xml.domain_goldens import NAMES, golden, identity_from, source
from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Definition, Domain
from virtcore.xml.domain.common import parse_uuid
from virtcore.xml.domain.formatter import RULES, build_element, format_definition
from virtcore.xml.format import format_xml

# Defined on libvirt 9.0's test driver; LIBVIRT_OUTPUT is what virDomainGetXMLDesc returned.
TRICKY = """<domain type='test'>
  <name>tricky</name>
  <uuid>0c7fb3c2-8f38-4cb4-9b5c-6c5a2b7b0e11</uuid>
  <title>it's "quoted" &amp; &lt;b&gt;</title>
  <description>tab\tand
newline</description>
  <memory>65536</memory>
  <os><type>hvm</type></os>
  <features><hyperv mode='passthrough'/></features>
  <devices>
    <disk type='file' device='disk'>
      <source file="/var/lib/it's &quot;x&quot;.img"/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""
LIBVIRT_OUTPUT = """<domain type='test'>
  <name>tricky</name>
  <uuid>0c7fb3c2-8f38-4cb4-9b5c-6c5a2b7b0e11</uuid>
  <title>it&apos;s &quot;quoted&quot; &amp; &lt;b&gt;</title>
  <description>tab\tand
newline</description>
  <memory unit='KiB'>65536</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <hyperv mode='passthrough'>
    </hyperv>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/it&apos;s &quot;x&quot;.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def defined(name: str) -> Domain:
    text = source(name)
    return Domain.parse(text, uuid_factory=identity_from(text, golden(name)), test_ifnames=True)


@pytest.mark.parametrize("flags", [0, DomainXMLFlags.INACTIVE])
@pytest.mark.parametrize("name", NAMES)
def test_printing_gives_the_general_formatters_text(name: str, flags: int) -> None:
    definition = defined(name).definition()
    general = format_xml(build_element(definition, flags).to_lxml(), rules=RULES)
    assert format_definition(definition, flags) == general


def test_characters_escaped_differently_by_libxml2_come_out_as_libvirt_writes_them() -> None:
    assert Domain.parse(TRICKY).format() == LIBVIRT_OUTPUT


def test_printing_twice_gives_the_same_text() -> None:
    domain = Domain.parse(TRICKY)
    assert domain.format() == domain.format()


def test_printing_leaves_the_elements_it_is_given_as_they_were() -> None:
    devices = etree.Element("devices")  # written open, "<devices>" newline "</devices>"

    def given(source: etree._Element, definition: Definition, flags: int) -> etree._Element:
        return devices

    text = format_definition(Domain.parse(TRICKY).definition(), devices_formatter=given)
    assert "  <devices>\n  </devices>\n" in text
    assert devices.text is None


@pytest.mark.parametrize(
    "text",
    [
        "0c7fb3c2-8f38-4cb4-9b5c-6c5a2b7b0e11",
        "0C7FB3C2-8F38-4CB4-9B5C-6C5A2B7B0E11",
        "  0c7fb3c28f384cb49b5c6c5a2b7b0e11 ",
        "0c-7f-b3-c2-8f-38-4c-b4-9b-5c-6c-5a-2b-7b-0e-11",
    ],
)
def test_uuid_spellings_read_as_the_same_bytes(text: str) -> None:
    assert parse_uuid(text) == bytes.fromhex("0c7fb3c28f384cb49b5c6c5a2b7b0e11")


@pytest.mark.parametrize(
    "text", ["0c7fb3c2-8f38-4cb4-9b5c-6c5a2b7b0e1", "0c7fb3c2-8f38-4cb4-9b5c-6c5a2b7b0e11\nx"]
)
def test_malformed_uuids_are_refused(text: str) -> None:
    assert parse_uuid(text) is None
