"""Every modelled property of the network documents is exercised, read and written.

Two checks per model property, so that a property nobody tests cannot creep in:

* coverage: some document of the test corpus (the golden inputs and the
  network port samples) carries a node the property reads;
* round trip: assigning a value through the property writes the tree and
  reads back the same value, and deleting it removes the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.xml.test_networkport import CANONICAL as PORTS
from virtcore.xml.builder import (
    BoolConverter,
    IntConverter,
    XMLChild,
    XMLChildList,
    XMLFlag,
    XMLNode,
    XMLProperty,
    XMLScaled,
)
from virtcore.xml.network import Network
from virtcore.xml.networkport import NetworkPort

DATA = Path(__file__).parent.parent / "data" / "xml" / "network"

Descriptor = Any


def reachable(root: type[XMLNode]) -> list[tuple[type[XMLNode], Descriptor]]:
    """Every (model class, descriptor) reachable from *root* through sub-objects."""
    found: list[tuple[type[XMLNode], Descriptor]] = []
    seen: set[type[XMLNode]] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for desc in cls._descriptors:
            found.append((cls, desc))
            child = desc.child_class()
            if child is not None:
                pending.append(child)
    return found


def exercised(root: type[XMLNode], documents: Iterable[str]) -> set[tuple[str, str]]:
    """The (class, property) pairs some document gives a node to read."""
    covered: set[tuple[str, str]] = set()

    def visit(node: XMLNode) -> None:
        for desc in type(node)._descriptors:
            if not node.xpath(desc.xpath):
                continue
            covered.add((type(node).__name__, desc.name))
            if isinstance(desc, XMLChild):
                visit(getattr(node, desc.name))
            elif isinstance(desc, XMLChildList):
                for item in getattr(node, desc.name):
                    visit(item)

    for text in documents:
        visit(root.from_xml(text))
    return covered


def sample(desc: Descriptor) -> Any:
    """A value the property can hold."""
    if isinstance(desc, XMLScaled):
        return 4096
    if isinstance(desc, XMLFlag):
        return True
    if isinstance(desc.conv, BoolConverter):
        return True
    if isinstance(desc.conv, IntConverter):
        return 7
    return "sample"


def round_trip_cases(roots: Iterable[type[XMLNode]]) -> Iterator[Any]:
    for root in roots:
        for cls, desc in reachable(root):
            if isinstance(desc, XMLProperty | XMLFlag):
                yield pytest.param(cls, desc, id=f"{cls.__name__}.{desc.name}")


def check_round_trip(cls: type[XMLNode], desc: Descriptor) -> None:
    node = cls()
    value = sample(desc)
    setattr(node, desc.name, value)
    assert getattr(node, desc.name) == value
    assert node.xpath(desc.xpath)
    delattr(node, desc.name)
    assert not node.xpath(desc.xpath)


NETWORK_DOCUMENTS = [p.read_text() for p in sorted(DATA.glob("*.input.xml"))]
PORT_DOCUMENTS = list(PORTS.values())


def missing_properties(corpora: Iterable[tuple[type[XMLNode], list[str]]]) -> list[tuple[str, str]]:
    """Properties of the models reachable from the roots that no document exercises.

    Sub-objects shared by several documents (bandwidth, PCI addresses, ...)
    count as covered when any of the corpora exercises them.
    """
    required: set[tuple[str, str]] = set()
    covered: set[tuple[str, str]] = set()
    for root, documents in corpora:
        required |= {(cls.__name__, desc.name) for cls, desc in reachable(root)}
        covered |= exercised(root, documents)
    return sorted(required - covered)


def test_every_property_is_exercised_by_the_corpus() -> None:
    assert missing_properties([(Network, NETWORK_DOCUMENTS), (NetworkPort, PORT_DOCUMENTS)]) == []


@pytest.mark.parametrize(("cls", "desc"), list(round_trip_cases([Network, NetworkPort])))
def test_property_writes_and_reads_back(cls: type[XMLNode], desc: Descriptor) -> None:
    check_round_trip(cls, desc)


@pytest.mark.parametrize("root", [Network, NetworkPort])
def test_sub_objects_and_lists_create_their_elements(root: type[XMLNode]) -> None:
    for cls, desc in reachable(root):
        node = cls()
        if isinstance(desc, XMLChildList):
            item = getattr(node, desc.name).append()
            assert len(getattr(node, desc.name)) == 1 and item.exists
        elif isinstance(desc, XMLChild):
            child = getattr(node, desc.name)
            assert isinstance(child, desc.child_class()) and not child.exists
            assert child.element is not None and child.exists
