"""Specifications of the domain formatter's output tree and its writer.

:func:`~virtcore.xml.domain.outnode.serialize` must write exactly what
:func:`~virtcore.xml.format.format_xml` writes for the equivalent lxml tree:
each test states the expected text and checks the general formatter agrees.
"""

from __future__ import annotations

import pytest
from lxml import etree

from virtcore.xml.domain.devices.support import element, optional_element
from virtcore.xml.domain.formatter import RULES
from virtcore.xml.domain.outnode import Embedded, OutNode, serialize
from virtcore.xml.format import DOMAIN_RULES, FormatRules, format_xml

SPACED = FormatRules(spaced=frozenset({"capabilities"}))


def written(root: OutNode, rules: FormatRules = RULES) -> str:
    text = serialize(root, rules)
    assert text == format_xml(root.to_lxml(), rules=rules)
    return text


def domain(*kids: OutNode) -> OutNode:
    return element("domain", [("type", "test")], kids)


# -- attributes and text ----------------------------------------------------------------


def test_attributes_are_written_in_single_quotes_in_the_order_they_were_set() -> None:
    node = element("disk", [("type", "file"), ("device", "disk")])
    assert written(node) == "<disk type='file' device='disk'/>\n"


def test_setting_an_attribute_again_keeps_its_first_place() -> None:
    node = element("target", [("dev", "vda"), ("bus", "ide")])
    node.set("dev", "vdb")
    assert written(node) == "<target dev='vdb' bus='ide'/>\n"


def test_attributes_and_children_given_as_none_are_left_out() -> None:
    node = element("source", [("file", None), ("index", 2)], [None, element("x")])
    assert written(node) == "<source index='2'>\n  <x/>\n</source>\n"


def test_an_optional_element_without_attributes_or_children_is_none() -> None:
    assert optional_element("blockio", [("logical_block_size", None)], [None]) is None


def test_the_five_special_characters_of_attribute_values_become_entities() -> None:
    node = element("source", [("file", 'it\'s "x" & <y>')])
    assert written(node) == "<source file='it&apos;s &quot;x&quot; &amp; &lt;y&gt;'/>\n"


def test_the_five_special_characters_of_text_become_entities() -> None:
    node = element("title", text='it\'s "x" & <y>')
    assert written(node) == "<title>it&apos;s &quot;x&quot; &amp; &lt;y&gt;</title>\n"


def test_tabs_and_newlines_are_written_as_they_are() -> None:
    node = element("description", [("note", "a\tb")], text="tab\tand\nnewline")
    assert written(node) == "<description note='a\tb'>tab\tand\nnewline</description>\n"


def test_non_ascii_text_and_values_are_written_as_they_are() -> None:
    node = element("title", [("v", "caf\u00e9\u00a0x")], text="\u2028na\u00efve")
    assert written(node) == "<title v='caf\u00e9\u00a0x'>\u2028na\u00efve</title>\n"


def test_numbers_are_written_in_decimal() -> None:
    node = element("memory", [("unit", "KiB"), ("slots", 16)], text="1048576")
    assert written(node) == "<memory unit='KiB' slots='16'>1048576</memory>\n"


def test_control_characters_are_dropped() -> None:
    node = OutNode("name", [("a", "x\x01y")], None, "p\x1fq")
    assert serialize(node, RULES) == "<name a='xy'>pq</name>\n"


def test_escaping_in_a_deep_element_escapes_every_value_of_the_document() -> None:
    inner = element("c", [("v", "a&b")], text="plain")
    root = element("a", [("w", "x'y")], [element("b", kids=[inner]), element("d", text="<")])
    assert written(root) == (
        "<a w='x&apos;y'>\n  <b>\n    <c v='a&amp;b'>plain</c>\n  </b>\n  <d>&lt;</d>\n</a>\n"
    )


# -- layout and the formatting rules -----------------------------------------------------


def test_children_are_indented_by_two_spaces_per_level() -> None:
    root = domain(element("os", kids=[element("type", [("arch", "i686")], text="hvm")]))
    assert written(root) == (
        "<domain type='test'>\n  <os>\n    <type arch='i686'>hvm</type>\n  </os>\n</domain>\n"
    )


def test_an_empty_open_element_is_written_with_its_end_tag_on_the_next_line() -> None:
    assert written(domain(element("devices"))) == (
        "<domain type='test'>\n  <devices>\n  </devices>\n</domain>\n"
    )


def test_blank_text_does_not_keep_an_open_element_on_one_line() -> None:
    assert written(domain(element("devices", text="  \n "))) == (
        "<domain type='test'>\n  <devices>\n  </devices>\n</domain>\n"
    )


def test_an_open_element_with_text_is_written_on_one_line() -> None:
    assert written(domain(element("devices", text="x"))) == (
        "<domain type='test'>\n  <devices>x</devices>\n</domain>\n"
    )


def test_an_open_rule_for_a_path_applies_only_below_that_parent() -> None:
    features = element("features", kids=[element("hyperv", [("mode", "passthrough")])])
    elsewhere = element("cpu", kids=[element("hyperv")])
    assert written(domain(features, elsewhere)) == (
        "<domain type='test'>\n"
        "  <features>\n"
        "    <hyperv mode='passthrough'>\n"
        "    </hyperv>\n"
        "  </features>\n"
        "  <cpu>\n"
        "    <hyperv/>\n"
        "  </cpu>\n"
        "</domain>\n"
    )


def test_a_paired_element_is_written_with_its_end_tag_when_empty() -> None:
    strings = element("oemStrings", kids=[element("entry"), element("entry", text="x")])
    sysinfo = element("sysinfo", [("type", "smbios")], [strings])
    assert written(domain(sysinfo)) == (
        "<domain type='test'>\n"
        "  <sysinfo type='smbios'>\n"
        "    <oemStrings>\n"
        "      <entry></entry>\n"
        "      <entry>x</entry>\n"
        "    </oemStrings>\n"
        "  </sysinfo>\n"
        "</domain>\n"
    )


def test_a_spaced_element_separates_its_children_by_blank_lines() -> None:
    root = element("capabilities", kids=[element("host"), element("guest")])
    assert written(root, SPACED) == "<capabilities>\n\n  <host/>\n\n  <guest/>\n\n</capabilities>\n"


def test_an_empty_text_is_no_text() -> None:
    assert written(element("readonly", text="")) == "<readonly/>\n"


# -- elements copied from the input ---------------------------------------------------------


METADATA = (
    '<metadata xmlns:app="http://app.example/1">'
    '<app:info xmlns:app="http://app.example/1" a="1&#10;2">'
    "<app:item>x &amp; y</app:item><!-- kept --></app:info></metadata>"
)


def test_metadata_is_written_as_libxml2_writes_it() -> None:
    root = domain(element("name", text="n"), Embedded(etree.fromstring(METADATA)))
    assert written(root) == (
        "<domain type='test'>\n"
        "  <name>n</name>\n"
        '  <metadata xmlns:app="http://app.example/1">\n'
        '    <app:info a="1&#10;2">\n'
        "      <app:item>x &amp; y</app:item>\n"
        "      <!-- kept -->\n"
        "    </app:info>\n"
        "  </metadata>\n"
        "</domain>\n"
    )


def test_metadata_inside_a_document_is_written_as_its_detached_copy() -> None:
    document = etree.fromstring(
        '<domain xmlns:app="http://app.example/1"><metadata><app:x/></metadata></domain>'
    )
    metadata = document[0]
    text = serialize(domain(Embedded(metadata)), RULES)
    assert '<metadata xmlns:app="http://app.example/1">' in text
    assert metadata.getparent() is document


def test_an_output_element_at_a_native_path_is_written_as_libxml2_writes_it() -> None:
    root = domain(element("metadata", kids=[element("x", [("a", "it's")])]))
    assert written(root) == (
        "<domain type='test'>\n  <metadata>\n    <x a=\"it's\"/>\n  </metadata>\n</domain>\n"
    )


def test_a_copied_device_is_written_as_the_general_formatter_writes_it() -> None:
    raw = etree.fromstring(
        '<nvram xmlns:x="http://x.example/" x:flag="1" path="/p">text<b/>tail</nvram>'
    )
    devices = element("devices", kids=[Embedded(raw)])
    text = written(domain(devices))
    assert text.startswith("<domain type='test' xmlns:x='http://x.example/'>\n")
    assert "<nvram x:flag='1' path='/p'>text<b/>tail</nvram>" in text


def test_writing_leaves_copied_elements_where_they_were() -> None:
    parent = etree.fromstring("<devices><nvram path='/p'/></devices>")
    raw = parent[0]
    written(domain(element("devices", kids=[Embedded(raw)])))
    assert raw.getparent() is parent and raw.text is None


def test_text_beside_children_is_written_as_the_general_formatter_writes_it() -> None:
    node = element("a", kids=[element("b")], text="mixed")
    assert written(node) == "<a>mixed<b/></a>\n"


@pytest.mark.parametrize("rules", [RULES, DOMAIN_RULES, FormatRules()])
def test_deep_trees_are_written_whole(rules: FormatRules) -> None:
    node = element("leaf", [("v", "1")])
    for level in range(40):
        node = element(f"n{level % 3}", kids=[node])
    text = written(node, rules)
    assert text.count("<leaf v='1'/>") == 1
    assert "  " * 40 + "<leaf" in text


# -- the tree -----------------------------------------------------------------------------


def test_find_follows_a_path_of_child_names_to_the_first_match() -> None:
    first = element("seclabel", [("model", "dac")])
    root = element(
        "devices",
        kids=[
            element("disk", kids=[element("target")]),
            element("disk", kids=[element("source", kids=[first, element("seclabel")])]),
        ],
    )
    assert root.find("disk/source/seclabel") is first
    assert root.find("disk/driver") is None


def test_the_lxml_equivalent_has_the_same_names_attributes_text_and_children() -> None:
    root = element("a", [("x", "1"), ("y", "2")], [element("b", text="t"), element("c")])
    copy = root.to_lxml()
    assert etree.tostring(copy) == b'<a x="1" y="2"><b>t</b><c/></a>'


def test_an_embedded_elements_lxml_equivalent_is_a_copy() -> None:
    source = etree.fromstring("<nvram path='/p'/>")
    copy = Embedded(source).to_lxml()
    assert copy is not source and etree.tostring(copy) == etree.tostring(source)


def test_format_xml_writes_an_output_tree_with_the_rules_of_its_root() -> None:
    assert format_xml(domain(element("devices"))) == format_xml(
        domain(element("devices")).to_lxml()
    )
