"""Shared helpers of the device model tests: the recorded libvirt outcomes and the oracle.

tests/data/xml/devices_a/cases holds domain documents; golden.json holds
what libvirt 9.0's test driver made of each (recorded with
``/usr/bin/python3 tests/data/xml/devices_a/oracle.py record
tests/data/xml/devices_a``): the error, or the ``dumpxml`` variants
``defined:0``, ``defined:1`` (SECURE), ``defined:8`` (MIGRATABLE),
``running:0`` and ``running:2`` (INACTIVE, which shows the persistent copy
libvirt makes when the domain starts).

:func:`virtcore_devices` computes the same from the device models, and
:func:`libvirt_devices` cuts the ``<devices>`` element out of libvirt's
text, so the two compare as text.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from lxml import etree

from tests.xml.oracle_support import oracle_json
from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import (
    DOMAIN_DEVICE_RULES,
    Devices,
    DomainDeviceContext,
    context_from_element,
)
from virtcore.xml.format import format_xml
from virtcore.xml.parse import parse_document

DATA = Path(__file__).parent.parent / "data" / "xml" / "devices_a"
CASES = DATA / "cases"
GOLDEN: dict[str, dict[str, Any]] = json.loads((DATA / "golden.json").read_text())
ORACLE = DATA / "oracle.py"

_DEVICES = re.compile(r"^  <devices(?:/>|>\n.*?^  </devices>)\n", re.S | re.M)

Outcome = str | tuple[int, int, str]
"""Formatted ``<devices>``, or libvirt's (code, domain, message)."""


def case_text(name: str) -> str:
    """The input document of case *name*."""
    return (CASES / f"{name}.xml").read_text()


def formatted_cases() -> list[tuple[str, str]]:
    """Every (case, variant) whose recorded outcome is a document."""
    return [
        (name, key)
        for name, outcome in sorted(GOLDEN.items())
        for key in sorted(outcome.get("xml", {}))
    ]


def error_cases() -> list[str]:
    """Every case libvirt refuses."""
    return [name for name, outcome in sorted(GOLDEN.items()) if "error" in outcome]


def libvirt_devices(dumpxml: str) -> str:
    """The ``<devices>`` element of libvirt's *dumpxml*, unindented to a document of its own."""
    found = _DEVICES.search(dumpxml)
    assert found is not None, dumpxml
    return "".join(line[2:] + "\n" for line in found.group(0).splitlines())


def context_of(text: str) -> tuple[etree._Element, DomainDeviceContext]:
    """The ``<devices>`` element of domain *text* and the test driver's device context."""
    root = parse_document(text)
    devices = root.find("devices")
    assert devices is not None
    ctx = dataclasses.replace(context_from_element(root), test_ifnames=True)
    return devices, ctx


def virtcore_devices(text: str, key: str = "defined:0") -> Outcome:
    """What the models make of domain *text* for the golden variant *key*."""
    state, raw_flags = key.split(":")
    flags = int(raw_flags)
    devices, ctx = context_of(text)
    try:
        if state == "defined":
            # A domain that is not running is always written as inactive.
            element = Devices(devices).to_libvirt_element(flags | DomainXMLFlags.INACTIVE, ctx)
        elif flags & DomainXMLFlags.INACTIVE:
            # libvirt's persistent copy of a started domain went through its
            # own XML and back (virDomainDefCopy).
            copy_flags = DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE
            copied = Devices(devices).to_libvirt_element(int(copy_flags), ctx)
            element = Devices(copied).to_libvirt_element(flags, ctx)
        else:
            element = Devices(devices).to_libvirt_element(flags, ctx)
    except VirtError as exc:
        return (int(exc.code), int(exc.domain), exc.message)
    return format_xml(element, rules=DOMAIN_DEVICE_RULES)


def run_oracle(cases: dict[str, str]) -> dict[str, dict[str, Any]]:
    """libvirt's outcome for each named domain document (see oracle.py)."""
    outcomes: dict[str, dict[str, Any]] = oracle_json(ORACLE, stdin=json.dumps(cases))
    return outcomes
