"""The device elements the models write validate against libvirt's RelaxNG schema.

For each accepted corpus document and recorded flag variant, the elements
libvirt wrote for the modelled device kinds are replaced by the models' own
output and the document is validated with libvirt's domain.rng. libvirt
itself writes back a few constructs its schema refuses when a document
contained them (a ``<master>`` element on an input device, an alias on a
passthrough smartcard); the requirement is therefore that the models' output
validates exactly when libvirt's does - which holds for all but two corpus
documents that exist to pin those constructs down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.xml.devices_b_pipeline import TAGS, virtcore_devices
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import XMLSchemaValidationError, validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "devices_b"
GOLDEN: dict[str, dict[str, Any]] = json.loads((DATA / "golden.json").read_text())
VARIANTS = [
    (name, key)
    for name, outcome in sorted(GOLDEN.items())
    if "xml" in outcome
    for key in outcome["xml"]
]
SCHEMA_INVALID_IN_LIBVIRT_TOO = {"addresses-variety", "smartcard-passthrough-unix"}


def _valid(document: etree._Element) -> bool:
    try:
        validate(document, "domain.rng")
    except XMLSchemaValidationError:
        return False
    return True


def _with_model_devices(name: str, key: str) -> etree._Element:
    state, flags = key.split(":")
    ours = virtcore_devices(
        (DATA / "cases" / f"{name}.xml").read_text(), int(flags), running=state == "running"
    )
    assert isinstance(ours, list)
    document = parse_document(GOLDEN[name]["xml"][key])
    devices = document.find("devices")
    assert devices is not None
    for node in list(devices):
        if node.tag in TAGS:
            devices.remove(node)
    for text in ours:
        devices.append(parse_document(text))
    return document


@pytest.mark.parametrize(("name", "key"), VARIANTS, ids=[f"{n}-{k}" for n, k in VARIANTS])
def test_the_models_output_is_schema_valid_when_libvirts_is(
    libvirt_schemas: Path, name: str, key: str
) -> None:
    libvirt_valid = _valid(parse_document(GOLDEN[name]["xml"][key]))
    assert _valid(_with_model_devices(name, key)) == libvirt_valid
    assert libvirt_valid == (name not in SCHEMA_INVALID_IN_LIBVIRT_TOO)
