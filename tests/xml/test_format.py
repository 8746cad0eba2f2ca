"""libvirt's output format, byte for byte.

The golden files under tests/data/xml/format were written by libvirt 9.0
(python3-libvirt on test:///default, see tests/data/xml/libvirt_oracle.py):
``<name>.xml`` is what libvirt returned for ``<name>.input.xml``, a document
with the same content but formatted differently (double quotes, odd
indentation, comments, other entity spellings, an XML declaration).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from virtcore.xml.format import (
    CAPABILITIES_RULES,
    DOMAIN_RULES,
    FormatRules,
    escape,
    format_xml,
)
from virtcore.xml.parse import parse_document

GOLDEN = Path(__file__).parent.parent / "data" / "xml" / "format"
MANIFEST: dict[str, str] = json.loads((GOLDEN / "manifest.json").read_text())
WITH_INPUT = sorted(name for name, kind in MANIFEST.items() if kind != "capabilities")


def golden(name: str) -> str:
    return (GOLDEN / f"{name}.xml").read_text()


def render(text: str, rules: FormatRules | None = None) -> str:
    return format_xml(parse_document(text), rules=rules)


def test_there_are_at_least_ten_golden_documents() -> None:
    assert len(MANIFEST) >= 10


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_libvirt_output_reformats_to_itself(name: str) -> None:
    assert render(golden(name)) == golden(name)


@pytest.mark.parametrize("name", WITH_INPUT)
def test_differently_formatted_input_comes_out_as_libvirt_writes_it(name: str) -> None:
    source = (GOLDEN / f"{name}.input.xml").read_text()
    assert render(source) == golden(name)


# -- libvirt's own formatting ------------------------------------------------------


def test_attributes_are_single_quoted_and_escaped() -> None:
    assert render("""<a x="it's &quot;&lt;&amp;&gt;"/>""") == (
        "<a x='it&apos;s &quot;&lt;&amp;&gt;'/>\n"
    )


def test_text_escapes_quotes_too() -> None:
    assert render("<a>'\"</a>") == "<a>&apos;&quot;</a>\n"


def test_escape_drops_control_characters_but_keeps_line_breaks() -> None:
    assert escape("a\x01b\x1fc\td\ne\rf") == "abc\td\ne\rf"


def test_two_space_indentation_and_one_line_text_elements() -> None:
    assert render("<a><b><c>text</c><d/></b></a>") == (
        "<a>\n  <b>\n    <c>text</c>\n    <d/>\n  </b>\n</a>\n"
    )


def test_multi_line_text_is_written_as_is() -> None:
    assert render("<a><d>one\n  two</d></a>") == "<a>\n  <d>one\n  two</d>\n</a>\n"


def test_no_declaration_and_a_final_newline() -> None:
    text = render('<?xml version="1.0"?><a/>')
    assert text == "<a/>\n"


def test_comments_and_processing_instructions_are_dropped() -> None:
    assert render("<a><!-- c --><b/><?pi x?></a>") == "<a>\n  <b/>\n</a>\n"


def test_namespaces_used_anywhere_are_declared_on_the_root_after_attributes() -> None:
    text = render("<a k='v'><b><q:c xmlns:q='urn:q' q:x='1'/></b></a>")
    assert text == "<a k='v' xmlns:q='urn:q'>\n  <b>\n    <q:c q:x='1'/>\n  </b>\n</a>\n"


def test_unused_namespace_declarations_are_dropped() -> None:
    assert render("<a xmlns:q='urn:q'><b/></a>") == "<a>\n  <b/>\n</a>\n"


def test_default_namespace_is_declared_where_it_starts() -> None:
    assert render("<a><b xmlns='urn:d'><c/></b></a>") == (
        "<a>\n  <b xmlns='urn:d'>\n    <c/>\n  </b>\n</a>\n"
    )


def test_mixed_content_stays_on_one_line() -> None:
    assert render("<a><p>x<b>y</b>z</p></a>") == "<a>\n  <p>x<b>y</b>z</p>\n</a>\n"


def test_open_empty_rule_writes_an_open_element() -> None:
    rules = FormatRules(open_empty=frozenset({"a/devices"}))
    assert render("<a><devices>\n </devices></a>", rules) == (
        "<a>\n  <devices>\n  </devices>\n</a>\n"
    )


def test_open_empty_rule_matches_the_path_suffix_only() -> None:
    rules = FormatRules(open_empty=frozenset({"a/devices"}))
    assert render("<x><devices/></x>", rules) == "<x>\n  <devices/>\n</x>\n"


def test_paired_rule_writes_start_and_end_tags() -> None:
    rules = FormatRules(paired=frozenset({"doi"}))
    assert render("<a><doi/></a>", rules) == "<a>\n  <doi></doi>\n</a>\n"


def test_spaced_rule_separates_children_with_blank_lines() -> None:
    assert render("<capabilities><host/><guest/></capabilities>", CAPABILITIES_RULES) == (
        "<capabilities>\n\n  <host/>\n\n  <guest/>\n\n</capabilities>\n"
    )


def test_rules_default_by_root_element() -> None:
    assert (
        render("<domain><devices/></domain>") == "<domain>\n  <devices>\n  </devices>\n</domain>\n"
    )


def test_network_root_writes_empty_ip_and_portgroup_open_by_default() -> None:
    text = render(
        "<network><name>n1</name><ip address='192.168.100.1' netmask='255.255.255.0'/>"
        "<portgroup name='pg'/><bandwidth/></network>"
    )
    assert text == (
        "<network>\n  <name>n1</name>\n"
        "  <ip address='192.168.100.1' netmask='255.255.255.0'>\n  </ip>\n"
        "  <portgroup name='pg'>\n  </portgroup>\n"
        "  <bandwidth>\n  </bandwidth>\n</network>\n"
    )


def test_capabilities_root_writes_empty_numa_cells_open_by_default() -> None:
    text = render("<capabilities><host><topology><cells num='0'/></topology></host></capabilities>")
    assert text == (
        "<capabilities>\n\n  <host>\n    <topology>\n      <cells num='0'>\n"
        "      </cells>\n    </topology>\n  </host>\n\n</capabilities>\n"
    )


# -- opaque subtrees written by libxml2's serializer ----------------------------------


def test_native_subtree_uses_double_quotes_and_libxml2_escaping() -> None:
    text = render(
        "<domain><metadata><m:x xmlns:m='urn:m' a='é&#9;&#10;&#13;&quot;&apos;&lt;'>"
        "é &amp; &lt; &#13; ' \"</m:x></metadata></domain>"
    )
    assert text == (
        "<domain>\n  <metadata>\n"
        '    <m:x xmlns:m="urn:m" a="&#xE9;&#9;&#10;&#13;&quot;\'&lt;">'
        "é &amp; &lt; &#13; ' \"</m:x>\n"
        "  </metadata>\n</domain>\n"
    )


def test_native_subtree_keeps_comments_and_processing_instructions() -> None:
    text = render(
        "<domain><metadata><m:x xmlns:m='urn:m'><!-- c --><?p d?></m:x></metadata></domain>"
    )
    assert '<m:x xmlns:m="urn:m">\n      <!-- c -->\n      <?p d?>\n    </m:x>' in text


def test_native_subtree_declares_namespaces_from_outside_on_its_root() -> None:
    text = render("<domain xmlns:m='urn:m'><metadata><m:x/></metadata></domain>", DOMAIN_RULES)
    assert text == '<domain>\n  <metadata xmlns:m="urn:m">\n    <m:x/>\n  </metadata>\n</domain>\n'


def test_native_subtree_with_text_is_not_indented() -> None:
    text = render("<domain><metadata><m:x xmlns:m='urn:m'>t<m:y/></m:x></metadata></domain>")
    assert '<m:x xmlns:m="urn:m">t<m:y/></m:x>' in text


def test_native_indentation_stops_growing_at_sixty_spaces() -> None:
    depth = 35
    text = render(
        "<domain><metadata><m:a xmlns:m='urn:m'>" + "<b>" * depth + "</b>" * depth
        + "</m:a></metadata></domain>"
    )  # fmt: skip
    widths = {len(line) - len(line.lstrip(" ")) for line in text.splitlines()}
    assert max(widths) == 60
