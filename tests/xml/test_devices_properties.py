"""Every typed property of the device models reads something real.

Each property of :class:`Disk`, :class:`Interface`, ... must find a value
in at least one element of the recorded test documents
(tests/data/xml/devices_a/cases): a property whose XPath matches nothing
anywhere is either misspelt or untested, and fails here.
"""

from __future__ import annotations

import pytest

from tests.xml.devices_a_support import CASES
from virtcore.xml.builder import (
    ChildList,
    XMLChild,
    XMLChildList,
    XMLFlag,
    XMLNode,
    XMLProperty,
)
from virtcore.xml.domain.devices import (
    Address,
    Controller,
    Devices,
    Disk,
    Filesystem,
    Hostdev,
    Hub,
    Interface,
    Lease,
    Redirdev,
    RedirFilter,
)
from virtcore.xml.domain.devices.redirdev import RedirFilterRule
from virtcore.xml.parse import parse_document

MODELS: tuple[type[XMLNode], ...] = (
    Disk,
    Controller,
    Lease,
    Filesystem,
    Interface,
    Hostdev,
    Redirdev,
    RedirFilter,
    RedirFilterRule,
    Hub,
    Address,
)
MY_LISTS = (
    "disks", "controllers", "leases", "filesystems", "interfaces", "hostdevs", "redirdevs",
    "redirfilters", "hubs",
)  # fmt: skip


def _corpus() -> dict[str, list[XMLNode]]:
    found: dict[str, list[XMLNode]] = {model.__name__: [] for model in MODELS}
    found["Devices"] = []
    for path in sorted(CASES.glob("*.xml")):
        root = parse_document(path.read_text())
        node = root.find("devices")
        if node is None:
            continue
        found["Devices"].append(Devices(node))
        for model in MODELS:
            found[model.__name__].extend(model(e) for e in root.iter(model.TAG))
    return found


CORPUS = _corpus()


def _properties(model: type[XMLNode]) -> list[str]:
    names = []
    for name in dir(model):
        value = getattr(model, name, None)
        if isinstance(value, XMLProperty | XMLFlag | XMLChild | XMLChildList):
            names.append(name)
    return names


PROPERTIES = [(model, name) for model in MODELS for name in _properties(model)]


def _has_value(node: XMLNode, name: str) -> bool:
    value = getattr(node, name)
    if isinstance(value, XMLNode):
        return value.exists
    if isinstance(value, ChildList):
        return len(value) > 0
    return value not in (None, False)


@pytest.mark.parametrize(
    ("model", "name"), PROPERTIES, ids=[f"{m.__name__}.{n}" for m, n in PROPERTIES]
)
def test_property_finds_a_value_in_the_corpus(model: type[XMLNode], name: str) -> None:
    nodes = CORPUS[model.__name__]
    assert any(_has_value(node, name) for node in nodes), f"{model.__name__}.{name} never set"


@pytest.mark.parametrize("name", MY_LISTS)
def test_device_list_finds_devices_in_the_corpus(name: str) -> None:
    assert isinstance(getattr(Devices, name), XMLChildList)
    assert any(len(getattr(devices, name)) for devices in CORPUS["Devices"])


def test_every_model_has_properties() -> None:
    assert all(_properties(model) for model in MODELS)
