"""Child lookups through the per-element index answer exactly as lxml's own walks do."""

from __future__ import annotations

import pytest
from lxml import etree

from virtcore.xml.childindex import (
    all_at,
    all_children,
    first_at,
    first_child,
    indexed_reading,
)

DOCUMENT = b"""<domain xmlns:q='urn:q'>
  <os><type n='1'/></os>
  <!-- a comment is no child element -->
  <os><type n='2'/><type n='3'/></os>
  <q:os><type n='4'/></q:os>
  <cputune><vcpupin n='5'/></cputune>
  <cputune><vcpupin n='6'/><vcpupin n='7'/></cputune>
  <name>x</name>
</domain>"""

NAMES = ["os", "name", "missing", "{urn:q}os", "*", "cputune"]
PATHS = ["os/type", "cputune/vcpupin", "missing/type", "os/missing", "os/type[2]", "{urn:q}os/type"]


def numbers(found: list[etree._Element] | etree._Element | None) -> list[str | None]:
    if found is None:
        return []
    items = found if isinstance(found, list) else [found]
    return [item.get("n") or item.tag for item in items]


@pytest.fixture
def root() -> etree._Element:
    return etree.fromstring(DOCUMENT)


@pytest.mark.parametrize("name", NAMES)
def test_first_child_answers_like_iterchildren(root: etree._Element, name: str) -> None:
    expected = next(root.iterchildren(name), None)
    with indexed_reading():
        assert first_child(root, name) is expected
    assert first_child(root, name) is expected


@pytest.mark.parametrize("name", NAMES)
def test_all_children_answers_like_iterchildren(root: etree._Element, name: str) -> None:
    expected = list(root.iterchildren(name))
    with indexed_reading():
        assert all_children(root, name) == expected
    assert all_children(root, name) == expected


@pytest.mark.parametrize("path", PATHS)
def test_first_at_answers_like_iterfind(root: etree._Element, path: str) -> None:
    expected = next(root.iterfind(path), None)
    with indexed_reading():
        assert numbers(first_at(root, path)) == numbers(expected)
    assert numbers(first_at(root, path)) == numbers(expected)


@pytest.mark.parametrize("path", PATHS)
def test_all_at_answers_like_iterfind_in_document_order(root: etree._Element, path: str) -> None:
    expected = list(root.iterfind(path))
    with indexed_reading():
        assert numbers(all_at(root, path)) == numbers(expected)
    assert numbers(all_at(root, path)) == numbers(expected)


def test_a_plain_name_finds_no_namespaced_element(root: etree._Element) -> None:
    with indexed_reading():
        assert [e.get("n") for e in all_at(root, "os/type")] == ["1", "2", "3"]


def test_a_changed_list_of_children_does_not_change_the_index(root: etree._Element) -> None:
    with indexed_reading():
        all_children(root, "name").clear()
        assert first_child(root, "name") is not None


def test_the_index_is_forgotten_when_the_block_ends(root: etree._Element) -> None:
    with indexed_reading():
        assert first_child(root, "title") is None
    etree.SubElement(root, "title")
    assert first_child(root, "title") is not None
    with indexed_reading():
        assert first_child(root, "title") is not None
