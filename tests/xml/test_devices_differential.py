"""The device models write exactly what libvirt 9.0 writes, and refuse what it refuses.

Every document of tests/data/xml/devices_a/cases was defined on libvirt's
test driver and its outcome recorded (see devices_a_support). These tests
require the models to reproduce each recorded ``<devices>`` element - for
the defined domain with the flags 0, SECURE and MIGRATABLE, and for the
started domain, live and persistent - or the recorded error, code, domain
and message alike. The same documents go through the domain model
too, whose output must be libvirt's whole document. The live tests define
the documents again on the installed libvirt and require the recorded
outcomes to still hold.
"""

from __future__ import annotations

import pytest
from lxml import etree

from tests.xml.devices_a_support import (
    GOLDEN,
    case_text,
    error_cases,
    formatted_cases,
    libvirt_devices,
    run_oracle,
    virtcore_devices,
)
from virtcore.errors import VirtError
from virtcore.xml.domain import Domain
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import XMLSchemaValidationError, validate

FORMATTED = formatted_cases()
ERRORS = error_cases()
SCHEMA_INVALID_INPUTS = frozenset({"disk-auth-type", "filesystem-volume", "open-empty-elements"})
"""Documents libvirt defines although its own schema refuses them (nobody asked it to
validate): ``<auth type=...>`` on disks, ``<filesystem type='volume'>``, empty rates and
sources. libvirt's output for them does not validate either."""
SCHEMA_CHECKED = sorted({n for n, _ in FORMATTED} - SCHEMA_INVALID_INPUTS)


def test_enough_documents_are_compared() -> None:
    documents = {name for name, _ in FORMATTED}
    assert len(documents) >= 40
    assert len(ERRORS) >= 40


@pytest.mark.parametrize(("name", "key"), FORMATTED, ids=[f"{n}-{k}" for n, k in FORMATTED])
def test_devices_are_written_as_libvirt_writes_them(name: str, key: str) -> None:
    expected = libvirt_devices(GOLDEN[name]["xml"][key])
    assert virtcore_devices(case_text(name), key) == expected


@pytest.mark.parametrize("name", ERRORS)
def test_invalid_devices_raise_libvirts_error(name: str) -> None:
    code, domain, message = GOLDEN[name]["error"]
    assert virtcore_devices(case_text(name)) == (code, domain, message)


DEFINED = [(name, key) for name, key in FORMATTED if key.startswith("defined:")]


@pytest.mark.parametrize(("name", "key"), DEFINED, ids=[f"{n}-{k}" for n, k in DEFINED])
def test_whole_documents_are_written_as_libvirt_writes_them(name: str, key: str) -> None:
    domain = Domain.parse(case_text(name), test_ifnames=True)
    assert domain.format(int(key.split(":")[1])) == GOLDEN[name]["xml"][key]


@pytest.mark.parametrize("name", ERRORS)
def test_whole_documents_with_invalid_devices_are_refused(name: str) -> None:
    with pytest.raises(VirtError) as caught:
        Domain.parse(case_text(name), test_ifnames=True)
    exc = caught.value
    assert [int(exc.code), int(exc.domain), exc.message] == GOLDEN[name]["error"]


@pytest.mark.usefixtures("libvirt_schemas")
@pytest.mark.parametrize("name", sorted(SCHEMA_INVALID_INPUTS))
def test_schema_exceptions_are_documents_the_schema_refuses(name: str) -> None:
    with pytest.raises(XMLSchemaValidationError):
        validate(parse_document(case_text(name)), "domain.rng")


@pytest.mark.usefixtures("libvirt_schemas")
@pytest.mark.parametrize("name", SCHEMA_CHECKED)
def test_written_devices_validate_against_libvirts_schema(name: str) -> None:
    # The devices the models write, in the domain libvirt wrote around them.
    document = parse_document(GOLDEN[name]["xml"]["defined:0"])
    mine = virtcore_devices(case_text(name))
    assert isinstance(mine, str)
    old = document.find("devices")
    assert old is not None
    old.addprevious(etree.fromstring(mine))
    document.remove(old)
    validate(document, "domain.rng")


@pytest.fixture(scope="module")
def live_outcomes() -> dict[str, dict[str, object]]:
    return run_oracle({name: case_text(name) for name in GOLDEN})


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_libvirt_still_does_what_was_recorded(
    live_outcomes: dict[str, dict[str, object]], name: str
) -> None:
    assert live_outcomes[name] == GOLDEN[name]
