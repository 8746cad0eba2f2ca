"""Differential tests: the device models write and refuse exactly what libvirt 9.0 does.

The corpus, tests/data/xml/devices_b/cases/*.xml, holds domain documents
built around the device kinds modelled here. libvirt's answer to each one -
its ``dumpxml`` of the defined domain (flags 0, SECURE, MIGRATABLE) and of the
same domain started (0, SECURE, INACTIVE, MIGRATABLE), or its error - is
recorded in golden.json by ``/usr/bin/python3
tests/data/xml/devices_b/devices_oracle.py record tests/data/xml/devices_b``
(add a case by adding its document to cases/ and recording again; documents
libvirt must refuse are named ``err-*``).

The recorded tests compare, device element by device element, the models'
output with libvirt's (see tests/xml/devices_b_pipeline.py) and the models'
errors with libvirt's code, error domain and message. The live test defines
the whole corpus on real libvirt again and requires the recorded answers; it
fails when python3-libvirt is missing, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.xml.devices_b_pipeline import TAGS, libvirt_devices, virtcore_devices
from tests.xml.oracle_support import oracle_json
from virtcore.xml.parse import parse_document

DATA = Path(__file__).parent.parent / "data" / "xml" / "devices_b"
ORACLE = DATA / "devices_oracle.py"

CASES: dict[str, str] = {p.stem: p.read_text() for p in sorted((DATA / "cases").glob("*.xml"))}
GOLDEN: dict[str, dict[str, Any]] = json.loads((DATA / "golden.json").read_text())
DEFINED = sorted(name for name, outcome in GOLDEN.items() if "xml" in outcome)
REFUSED = sorted(name for name, outcome in GOLDEN.items() if "error" in outcome)
VARIANTS = [(name, key) for name in DEFINED for key in sorted(GOLDEN[name]["xml"])]


def _flags(key: str) -> tuple[bool, int]:
    state, flags = key.split(":")
    return state == "running", int(flags)


def test_every_case_has_a_recorded_answer() -> None:
    assert sorted(CASES) == sorted(GOLDEN)


def test_the_corpus_has_at_least_forty_accepted_documents() -> None:
    assert len(DEFINED) >= 40


def test_every_modelled_device_kind_appears_in_accepted_documents() -> None:
    seen = {
        node.tag
        for name in DEFINED
        for node in parse_document(GOLDEN[name]["xml"]["defined:0"]).iterfind("devices/*")
    }
    assert set(TAGS) <= seen


def test_documents_named_err_are_exactly_the_refused_ones() -> None:
    assert sorted(name for name in CASES if name.startswith("err-")) == REFUSED


@pytest.mark.parametrize(("name", "key"), VARIANTS, ids=[f"{n}-{k}" for n, k in VARIANTS])
def test_models_write_what_libvirt_wrote(name: str, key: str) -> None:
    running, flags = _flags(key)
    expected = libvirt_devices(GOLDEN[name]["xml"][key])
    assert virtcore_devices(CASES[name], flags, running=running) == expected


@pytest.mark.parametrize("name", REFUSED)
def test_models_refuse_what_libvirt_refused(name: str) -> None:
    code, domain, message = GOLDEN[name]["error"]
    assert virtcore_devices(CASES[name]) == (code, domain, message)


# -- live ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live() -> dict[str, dict[str, Any]]:
    outcomes: dict[str, dict[str, Any]] = oracle_json(ORACLE, stdin=json.dumps(CASES))
    return outcomes


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_libvirt_still_answers_as_recorded(live: dict[str, dict[str, Any]], name: str) -> None:
    assert live[name] == GOLDEN[name]
