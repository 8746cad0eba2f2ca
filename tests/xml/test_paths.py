"""Canonical insertion of elements (virtcore.xml.paths.insert_element)."""

from __future__ import annotations

from lxml import etree

from virtcore.xml.paths import insert_element

ORDER = ("@type", "mac", "source", "target", "model", "address")


def _names(parent: etree._Element) -> list[str]:
    return [str(child.tag) for child in parent]


def _interface(*names: str) -> etree._Element:
    parent = etree.Element("interface")
    for name in names:
        etree.SubElement(parent, name)
    return parent


def test_a_new_element_goes_after_the_last_sibling_that_precedes_it() -> None:
    parent = _interface("mac", "source", "model")
    insert_element(parent, etree.SubElement(parent, "target"), ORDER)
    assert _names(parent) == ["mac", "source", "target", "model"]


def test_a_new_element_goes_before_the_first_sibling_that_follows_it() -> None:
    parent = _interface("model", "address")
    insert_element(parent, etree.SubElement(parent, "mac"), ORDER)
    assert _names(parent) == ["mac", "model", "address"]


def test_an_element_the_order_does_not_name_goes_last() -> None:
    parent = _interface("mac", "model")
    insert_element(parent, etree.SubElement(parent, "unknown"), ORDER)
    assert _names(parent) == ["mac", "model", "unknown"]


def test_the_same_order_given_again_places_by_the_same_ranks() -> None:
    for _ in range(3):
        parent = _interface("mac", "model")
        insert_element(parent, etree.SubElement(parent, "target"), ORDER)
        assert _names(parent) == ["mac", "target", "model"]


def test_an_order_given_as_a_list_is_read_afresh_each_time() -> None:
    order = list(ORDER)
    parent = _interface("mac", "model")
    insert_element(parent, etree.SubElement(parent, "target"), order)
    order.remove("target")
    order.append("target")  # now after everything
    parent = _interface("mac", "model")
    insert_element(parent, etree.SubElement(parent, "target"), order)
    assert _names(parent) == ["mac", "model", "target"]


def test_equal_orders_that_are_different_tuples_rank_alike() -> None:
    other = tuple(list(ORDER))
    parent = _interface("source", "model")
    insert_element(parent, etree.SubElement(parent, "target"), other)
    assert _names(parent) == ["source", "target", "model"]
