"""The cheap paths of a domain parse behave exactly like the general ones they replace.

A parse reuses its thread's XML parser, answers child lookups from an index,
reads the document once unless an interface lacks a MAC address, reads the
generated UUID's place directly, and keeps the definition, with a snapshot
of the tree that later changes are detected against once the tree is handed
out. Each of these must be invisible: the same answers, the same
errors, and a definition read again whenever the tree changed.
"""

from __future__ import annotations

import threading

import pytest
from lxml import etree

from virtcore.errors import VirtError, XMLError
from virtcore.xml.childindex import (
    all_at,
    all_children,
    first_at,
    first_child,
    indexed_reading,
)
from virtcore.xml.domain import Domain
from virtcore.xml.parse import XMLParseError, parse_document

UUID = "12345678-1234-5678-1234-567812345678"


def document(body: str = "", *, uuid: str | None = f"<uuid>{UUID}</uuid>") -> str:
    return (
        f"<domain type='test'><name>vm</name>{uuid or ''}"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os>"
        f"<devices>{body}</devices></domain>"
    )


INTERFACE = "<interface type='network'><mac address='52:54:00:00:00:01'/>" + (
    "<source network='default'/></interface>"
)

# -- change detection -----------------------------------------------------------------------


def test_an_attribute_changed_in_the_tree_after_parse_is_printed() -> None:
    domain = Domain.parse(document())

    domain.element.set("type", "qemu")

    assert domain.format().startswith("<domain type='qemu'>")


def test_a_text_changed_in_the_tree_after_parse_is_printed() -> None:
    domain = Domain.parse(document())

    domain.element.find("name").text = "renamed"  # type: ignore[union-attr]

    assert "<name>renamed</name>" in domain.format()


def test_an_element_added_to_the_tree_after_parse_is_printed() -> None:
    domain = Domain.parse(document())

    etree.SubElement(domain.element, "title").text = "added"

    assert "<title>added</title>" in domain.format()


def test_a_change_that_breaks_the_document_raises_on_format() -> None:
    domain = Domain.parse(document())
    domain.format()

    domain.element.remove(domain.element.find("name"))  # type: ignore[arg-type]

    with pytest.raises(VirtError, match="missing name information"):
        domain.format()


def test_a_definition_read_again_is_kept_for_the_next_format() -> None:
    domain = Domain.parse(document())
    domain.element.find("name").text = "renamed"  # type: ignore[union-attr]
    first = domain.format()
    kept = domain.__dict__["_kept_definitions"][False][1]

    assert domain.format() == first
    assert domain.__dict__["_kept_definitions"][False][1] is kept


def test_the_parse_keeps_the_definition_of_the_tree_it_completed() -> None:
    domain = Domain.parse(document(uuid=None), uuid_factory=lambda: bytes(range(16)))
    kept = domain.__dict__["_kept_definitions"][False][1]

    domain.format()

    assert domain.__dict__["_kept_definitions"][False][1] is kept


# -- what the parse stores in the tree ----------------------------------------------------


@pytest.mark.parametrize("uuid", [None, "<uuid/>", "<uuid></uuid>"])
def test_a_missing_or_empty_uuid_is_stored_from_the_factory(uuid: str | None) -> None:
    domain = Domain.parse(document(uuid=uuid), uuid_factory=lambda: bytes(range(16)))

    assert domain.uuid == "00010203-0405-0607-0809-0a0b0c0d0e0f"


def test_a_written_uuid_stays_as_written() -> None:
    written = UUID.replace("-", "").upper()

    domain = Domain.parse(document(uuid=f"<uuid>{written}</uuid>"))

    assert domain.uuid == written


def test_an_interface_without_a_mac_gets_one_before_it_is_read() -> None:
    body = "<interface type='network'><source network='default'/></interface>"

    domain = Domain.parse(document(body), mac_generator=lambda: "52:54:00:aa:bb:cc")

    assert "<mac address='52:54:00:aa:bb:cc'/>" in domain.format()


def test_an_interface_with_a_mac_keeps_it() -> None:
    domain = Domain.parse(document(INTERFACE), mac_generator=lambda: "52:54:00:aa:bb:cc")

    assert "<mac address='52:54:00:00:00:01'/>" in domain.format()


def test_a_generated_interface_name_is_stored_in_a_new_target() -> None:
    domain = Domain.parse(document(INTERFACE), test_ifnames=True)

    targets = domain.element.findall("devices/interface/target")

    assert [t.get("dev") for t in targets] == ["testnet0"]


def test_an_interface_named_in_the_document_keeps_its_name() -> None:
    body = INTERFACE.replace("</interface>", "<target dev='mine'/></interface>")

    domain = Domain.parse(document(body), test_ifnames=True)

    assert [t.get("dev") for t in domain.element.findall("devices/interface/target")] == ["mine"]


# -- the child index ------------------------------------------------------------------------

TREE = b"""<domain xmlns:q='urn:q'>
  <os><type n='1'/><!-- c --><type n='2'/></os>
  <q:os><type n='3'/></q:os>
  <metadata><app><x n='4'/></app></metadata>
  <devices><disk><target n='5'/></disk><disk><target n='6'/></disk></devices>
  <name>x</name>
</domain>"""


def numbers(found: list[etree._Element]) -> list[str | None]:
    return [item.get("n") for item in found]


@pytest.fixture
def root() -> etree._Element:
    return etree.fromstring(TREE)


def test_an_indexed_tree_answers_like_lxml(root: etree._Element) -> None:
    os = root[0]
    with indexed_reading():
        assert first_child(root, "os") is os
        assert numbers(all_children(os, "type")) == ["1", "2"]
        assert first_child(root, "{urn:q}os") is root[1]
        assert numbers(all_at(root, "devices/disk/target")) == ["5", "6"]
        assert numbers(all_at(root, "metadata/app/x")) == ["4"]
        assert first_at(root, "{urn:q}os/type") is root[1][0]  # walked, as lxml does
        assert first_child(root, "*") is os


def test_a_leaf_answers_that_it_has_no_children(root: etree._Element) -> None:
    with indexed_reading():
        name = first_child(root, "name")
        assert name is not None
        assert first_child(name, "x") is None
        assert all_children(name, "*") == []
        assert first_at(name, "x/y") is None


def test_a_nested_block_keeps_what_the_outer_block_indexed(root: etree._Element) -> None:
    with indexed_reading():
        first_child(root, "os")
        with indexed_reading():
            first_child(root[0], "type")
        etree.SubElement(root, "title")  # a change the outer index does not see
        assert first_child(root, "title") is None
    assert first_child(root, "title") is not None


def test_the_index_is_forgotten_when_a_block_fails(root: etree._Element) -> None:
    with pytest.raises(RuntimeError), indexed_reading():
        first_child(root, "title")
        raise RuntimeError
    etree.SubElement(root, "title")
    assert first_child(root, "title") is not None


def test_a_tree_changed_after_its_reading_answers_like_lxml(root: etree._Element) -> None:
    with indexed_reading():
        first_at(root, "devices/disk/target")
        all_at(root, "os/type")
    root.remove(root[0])
    assert numbers(all_at(root, "os/type")) == []
    root.remove(root.find("devices"))  # type: ignore[arg-type]
    assert first_at(root, "devices/disk/target") is None


def test_another_thread_changing_a_tree_after_the_block_sees_lxml(root: etree._Element) -> None:
    with indexed_reading():
        first_child(root, "name")
    seen: list[etree._Element | None] = []

    def change_and_ask() -> None:
        etree.SubElement(root, "title")
        seen.append(first_child(root, "title"))

    thread = threading.Thread(target=change_and_ask)
    thread.start()
    thread.join()

    assert seen[0] is not None


def test_outside_any_block_nothing_is_indexed(root: etree._Element) -> None:
    assert first_child(root, "os") is root[0]
    etree.SubElement(root, "title")
    assert first_child(root, "title") is not None


def test_a_list_returned_is_the_callers_own(root: etree._Element) -> None:
    with indexed_reading():
        all_children(root[0], "type").clear()
        all_at(root, "os/type").clear()
        assert numbers(all_children(root[0], "type")) == ["1", "2"]
        assert numbers(all_at(root, "os/type")) == ["1", "2"]


# -- the parser -----------------------------------------------------------------------------


def test_a_syntax_error_leaves_nothing_behind_for_the_next_parse() -> None:
    with pytest.raises(XMLParseError):
        parse_document("<domain><name>x</domain>")

    assert parse_document("<domain><name>x</name></domain>").findtext("name") == "x"


def test_each_syntax_error_is_reported_for_its_own_document() -> None:
    with pytest.raises(XMLParseError, match="expected '>'"):
        parse_document("<domain><name>x</name")
    with pytest.raises(XMLParseError, match="Opening and ending tag mismatch: a line 1 and b"):
        parse_document("<domain><a></b></domain>")


def test_threads_parsing_at_once_each_get_their_own_document() -> None:
    results: dict[int, str | None] = {}

    def parse(n: int) -> None:
        for _ in range(50):
            root = parse_document(f"<domain><name>vm{n}</name></domain>")
            results[n] = root.findtext("name")

    threads = [threading.Thread(target=parse, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {n: f"vm{n}" for n in range(4)}


def test_a_document_starting_with_its_root_is_no_doctype() -> None:
    assert parse_document("<domain/>").tag == "domain"
    with pytest.raises(XMLError, match="DOCTYPE"):
        parse_document("<!-- c --><!DOCTYPE domain><domain/>")
