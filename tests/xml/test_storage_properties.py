"""Every modelled property of the storage documents is exercised, read and written.

The same two checks as for the network documents (test_network_properties):
some document of the corpus (the pool and volume golden inputs, the pool
capabilities golden) gives each property a node to read, and each property
writes and reads back its value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.xml.test_network_properties import (
    check_round_trip,
    missing_properties,
    reachable,
    round_trip_cases,
)
from virtcore.xml.builder import XMLChild, XMLChildList, XMLNode
from virtcore.xml.storage_caps import StoragePoolCapabilities
from virtcore.xml.storage_pool import StoragePool
from virtcore.xml.storage_vol import StorageVolume

DATA = Path(__file__).parent.parent / "data" / "xml" / "storage"
ROOTS: list[type[XMLNode]] = [StoragePool, StorageVolume, StoragePoolCapabilities]


def corpus(pattern: str) -> list[str]:
    return [p.read_text() for p in sorted(DATA.glob(pattern))]


def test_every_property_is_exercised_by_the_corpus() -> None:
    assert (
        missing_properties(
            [
                (StoragePool, corpus("pool-*.input.xml")),
                (StorageVolume, corpus("vol-*.input.xml")),
                (StoragePoolCapabilities, corpus("storagepool-capabilities.xml")),
            ]
        )
        == []
    )


@pytest.mark.parametrize(("cls", "desc"), list(round_trip_cases(ROOTS)))
def test_property_writes_and_reads_back(cls: type[XMLNode], desc: Any) -> None:
    check_round_trip(cls, desc)


@pytest.mark.parametrize("root", ROOTS)
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
