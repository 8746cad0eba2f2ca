"""Live differential tests: real libvirt 9.0 and virtcore agree on node device documents.

tests/data/xml/nodedev/oracle.py (run by the system interpreter against
python3-libvirt's test driver) loads every golden input again:

* libvirt must still print the golden files, and virtcore the same text;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (an attribute or an element's text in turn
  given an odd value) must get the same outcome from both: the same text,
  or the same error.

Without python3-libvirt these tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
turns them into skips.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.xml.oracle_support import oracle_json
from virtcore.errors import VirtError
from virtcore.xml.nodedev import NodeDevice

DATA = Path(__file__).parent.parent / "data" / "xml" / "nodedev"
ORACLE = DATA / "oracle.py"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
ODD_VALUES = ("", "x", "-1", "0", "07", "0x1f", " 3", "4294967296", "2.5", "render", "1")

Outcome = dict[str, Any]


def mutants(text: str, limit: int, seed: int) -> Iterator[str]:
    """Up to *limit* copies of *text*, each with one attribute or leaf text set to an odd value."""
    root = etree.fromstring(text.encode())
    elements = list(root.iter(etree.Element))
    places: list[tuple[int, str | None]] = [
        (index, str(name)) for index, element in enumerate(elements) for name in element.attrib
    ]
    places += [(index, None) for index, element in enumerate(elements) if not len(element)]
    choices = [(index, name, value) for index, name in places for value in ODD_VALUES]
    random.Random(seed).shuffle(choices)
    for index, name, value in choices[:limit]:
        copy = etree.fromstring(text.encode())
        element = list(copy.iter(etree.Element))[index]
        if name is None:
            element.text = value
        else:
            element.set(name, value)
        yield etree.tostring(copy, encoding="unicode")


MUTANTS = [m for i, name in enumerate(CASES) for m in mutants(
    (DATA / f"{name}.input.xml").read_text(), 10, i)]  # fmt: skip


def oracle(*args: str, stdin: str | None = None) -> Any:
    """Run the node device oracle under the system interpreter; decode its JSON answer."""
    return oracle_json(ORACLE, *args, stdin=stdin)


def virtcore_outcome(text: str) -> Outcome:
    """What virtcore makes of the device *text*, in the oracle's terms."""
    try:
        return {"ok": True, "xml": NodeDevice.parse(text).format()}
    except VirtError as exc:
        return {"ok": False, "code": int(exc.code), "domain": int(exc.domain),
                "message": exc.message}  # fmt: skip


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    return list(oracle("run", stdin=json.dumps([{"xml": c["xml"]} for c in ERRORS])))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    return list(oracle("run", stdin=json.dumps([{"xml": text} for text in MUTANTS])))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_document(dumps: dict[str, str], name: str) -> None:
    assert dumps[name] == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    assert NodeDevice.parse((DATA / f"{name}.input.xml").read_text()).format() == dumps[name]


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


def test_mutated_documents_get_the_same_outcome_from_both(
    mutant_outcomes: list[Outcome],
) -> None:
    assert len(MUTANTS) >= 400
    differences = []
    for text, theirs in zip(MUTANTS, mutant_outcomes, strict=True):
        ours = virtcore_outcome(text)
        if theirs != ours:
            differences.append((text, theirs, ours))
    assert differences == []
