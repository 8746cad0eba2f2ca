"""Network filter binding documents: virtcore reads, checks and prints them as libvirt 9.0 does.

The refused documents of tests/data/xml/nwfilter/binding_errors.json and
their exact errors were recorded from libvirt 9.0's nwfilter driver
(``nwfilter-binding-create``). libvirt cannot create an accepted binding
without instantiating firewall rules, so the expected output follows
``virNWFilterBindingDefFormatBuf`` and libvirt's binding schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml.nwfilter_binding import FilterBinding, FilterBindingDef
from virtcore.xml.parse import XMLParseError
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "nwfilter"
ERRORS: list[dict[str, Any]] = json.loads((DATA / "binding_errors.json").read_text())

BINDING = """<filterbinding>
  <mac address='52:54:00:AB:cd:1'/>
  <portdev name='vnet0'/>
  <filterref filter='clean-traffic'>
    <parameter name='MAC' value='52:54:00:ab:cd:01'/>
    <parameter name='IP' value='10.0.0.2'/>
    <parameter name='IP' value='10.0.0.1'/>
    <parameter name='BAD' value='a b'/>
  </filterref>
  <owner>
    <uuid>C0FFEE00000040008000000000000000</uuid>
    <name>guest &amp; co</name>
  </owner>
  <linkdev name='eth0'/>
  <extra/>
</filterbinding>
"""

CANONICAL = """<filterbinding>
  <owner>
    <name>guest &amp; co</name>
    <uuid>c0ffee00-0000-4000-8000-000000000000</uuid>
  </owner>
  <portdev name='vnet0'/>
  <linkdev name='eth0'/>
  <mac address='52:54:00:ab:cd:01'/>
  <filterref filter='clean-traffic'>
    <parameter name='IP' value='10.0.0.2'/>
    <parameter name='IP' value='10.0.0.1'/>
    <parameter name='MAC' value='52:54:00:ab:cd:01'/>
  </filterref>
</filterbinding>
"""


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=[c["name"] for c in ERRORS])
def test_refused_bindings_get_libvirts_error(index: int) -> None:
    case = ERRORS[index]
    with pytest.raises(VirtError) as caught:
        FilterBinding.parse(case["xml"])
    assert (int(caught.value.code), int(caught.value.domain), caught.value.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_syntax_errors_name_the_binding_definition() -> None:
    with pytest.raises(XMLParseError, match=r"^\(nwfilterbinding_definition\):1: "):
        FilterBinding.parse("<filterbinding")


def test_format_writes_libvirts_order_and_canonical_values() -> None:
    assert FilterBinding.parse(BINDING).format() == CANONICAL


def test_formatting_twice_changes_nothing() -> None:
    assert FilterBinding.parse(CANONICAL).format() == CANONICAL


def test_output_is_schema_valid(libvirt_schemas: Path) -> None:
    validate(etree.fromstring(CANONICAL.encode()), "nwfilterbinding.rng")


def test_linkdev_is_optional() -> None:
    text = CANONICAL.replace("  <linkdev name='eth0'/>\n", "")
    assert FilterBinding.parse(text).definition().linkdev is None
    assert FilterBinding.parse(text).format() == text


def test_a_filterref_without_parameters_is_written_empty() -> None:
    definition = FilterBindingDef(
        owner_name="g",
        owner_uuid="c0ffee00-0000-4000-8000-000000000000",
        portdev="vnet1",
        mac="52:54:00:00:00:01",
        filter="no-ip-spoofing",
    )
    assert definition.format().splitlines()[-2] == "  <filterref filter='no-ip-spoofing'/>"


def test_definition_holds_the_values_libvirt_keeps() -> None:
    definition = FilterBinding.parse(BINDING).definition()
    assert (definition.owner_name, definition.portdev, definition.mac) == (
        "guest & co",
        "vnet0",
        "52:54:00:ab:cd:01",
    )
    assert definition.params == (("IP", ("10.0.0.2", "10.0.0.1")), ("MAC", ("52:54:00:ab:cd:01",)))


def test_properties_read_and_edit_the_live_tree() -> None:
    binding = FilterBinding.parse(CANONICAL)
    assert (binding.portdev, binding.filter, binding.owner_uuid) == (
        "vnet0",
        "clean-traffic",
        "c0ffee00-0000-4000-8000-000000000000",
    )
    assert [p.name for p in binding.parameters] == ["IP", "IP", "MAC"]
    binding.portdev = "vnet7"
    binding.linkdev = None
    text = binding.format()
    assert "<portdev name='vnet7'/>" in text
    assert "linkdev" not in text


def test_unknown_content_survives_in_the_tree_but_not_in_the_output() -> None:
    binding = FilterBinding.parse(BINDING)
    assert "<extra/>" in binding.to_string()
    assert "extra" not in binding.format()
