"""Live differential tests: real libvirt 9.0 and virtcore agree on network documents.

The system interpreter runs tests/data/xml/network/oracle.py against
python3-libvirt's ``test:///default`` driver:

* every golden input is defined again: libvirt must still print the golden
  file, and virtcore must print the same text;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (each attribute in turn given an odd value:
  empty, a word, a negative number, zero) must get the same outcome from
  both: the same text, or the same error code, domain and message.

Without python3-libvirt these tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
turns them into skips.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.xml.oracle_support import oracle_json
from virtcore.errors import VirtError
from virtcore.xml.network import Network

DATA = Path(__file__).parent.parent / "data" / "xml" / "network"
ORACLE = DATA / "oracle.py"
ODD_VALUES = ("", "x", "-1", "0", "07")
UUID = re.compile(r"<uuid>[0-9a-f-]{36}</uuid>")

Outcome = dict[str, Any]


def oracle(*args: str, stdin: str | None = None) -> Any:
    """Run the oracle script under the system interpreter and decode its JSON answer."""
    return oracle_json(ORACLE, *args, stdin=stdin)


def outcome_of(call: Callable[[], str]) -> Outcome:
    """What virtcore makes of a document, in the oracle's terms (random UUIDs masked)."""
    try:
        return {"ok": True, "xml": UUID.sub("<uuid/>", call())}
    except VirtError as exc:
        return {"ok": False, "code": int(exc.code), "domain": int(exc.domain),
                "message": exc.message}  # fmt: skip


def virtcore_outcome(text: str) -> Outcome:
    """What virtcore makes of the network document *text*."""
    return outcome_of(lambda: Network.parse(text).format())


def masked(outcome: Outcome) -> Outcome:
    """*outcome* with random UUIDs masked, for comparison."""
    if outcome.get("ok"):
        return {"ok": True, "xml": UUID.sub("<uuid/>", outcome["xml"])}
    return outcome


def mutants(text: str, limit: int, seed: int) -> Iterator[str]:
    """Up to *limit* copies of *text*, each with one attribute set to an odd value."""
    root = etree.fromstring(text.encode())
    places = [
        (index, name)
        for index, element in enumerate(root.iter(etree.Element))
        for name in element.attrib
    ]
    choices = [(index, name, value) for index, name in places for value in ODD_VALUES]
    random.Random(seed).shuffle(choices)
    for index, name, value in choices[:limit]:
        copy = etree.fromstring(text.encode())
        element = list(copy.iter(etree.Element))[index]
        element.set(name, value)
        yield etree.tostring(copy, encoding="unicode")


CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
MUTANTS = [
    m
    for i, name in enumerate(CASES)
    for m in mutants((DATA / f"{name}.input.xml").read_text(), 8, i)
]


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    cases = [{"kind": "network", "xml": c["xml"]} for c in ERRORS]
    return list(oracle("run", stdin=json.dumps(cases)))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    cases = [{"kind": "network", "xml": text} for text in MUTANTS]
    return list(oracle("run", stdin=json.dumps(cases)))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_network(dumps: dict[str, str], name: str) -> None:
    assert dumps[name] == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    assert Network.parse((DATA / f"{name}.input.xml").read_text()).format() == dumps[name]


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=[c["name"] for c in ERRORS])
def test_libvirt_still_refuses_with_the_recorded_error(
    error_outcomes: list[Outcome], index: int
) -> None:
    case = ERRORS[index]
    assert error_outcomes[index] == {
        "ok": False,
        "code": case["code"],
        "domain": case["domain"],
        "message": case["message"],
    }


def test_mutated_networks_get_the_same_outcome_from_both(
    mutant_outcomes: list[Outcome],
) -> None:
    assert len(MUTANTS) >= 300
    differences = [
        (text, theirs, ours)
        for text, theirs in zip(MUTANTS, mutant_outcomes, strict=True)
        if masked(theirs) != (ours := virtcore_outcome(text))
    ]
    assert differences == []
