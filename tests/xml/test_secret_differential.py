"""Live differential tests: real libvirt 9.0 and virtcore agree on secret documents.

tests/data/xml/secret/oracle.py (run by the system interpreter against
python3-libvirt and a private session libvirtd it starts and stops) defines
every golden input again:

* libvirt must still print the golden files, and virtcore the same text;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (an attribute or the UUID/usage text given an
  odd value) must get the same outcome from both: the same text, or the
  same error.

Without python3-libvirt or libvirtd these tests fail, unless
``VIRTCORE_ALLOW_NO_LIBVIRT=1`` turns them into skips.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.xml.oracle_support import oracle_json, require_libvirt, require_libvirtd
from tests.xml.test_network_differential import Outcome, masked, mutants, outcome_of
from virtcore.xml.secret import Secret

DATA = Path(__file__).parent.parent / "data" / "xml" / "secret"
ORACLE = DATA / "oracle.py"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
ODD_TEXTS = ("", " ", "x", "0123456789abcdef0123456789abcdef", "a&b")


def text_mutants(text: str, limit: int, seed: int) -> Iterator[str]:
    """Up to *limit* copies of *text*, each with one element's text set to an odd value."""
    root = etree.fromstring(text.encode())
    places = [i for i, e in enumerate(root.iter(etree.Element)) if e is not root and not len(e)]
    choices = [(index, value) for index in places for value in ODD_TEXTS]
    random.Random(seed).shuffle(choices)
    for index, value in choices[:limit]:
        copy = etree.fromstring(text.encode())
        list(copy.iter(etree.Element))[index].text = value
        yield etree.tostring(copy, encoding="unicode")


def _all_mutants() -> list[str]:
    found: list[str] = []
    for i, name in enumerate(CASES):
        text = (DATA / f"{name}.input.xml").read_text()
        found.extend(mutants(text, 4, i))
        found.extend(text_mutants(text, 4, i))
    return found


MUTANTS = _all_mutants()


def secret_oracle(*args: str, stdin: str | None = None) -> Any:
    """Run the secret oracle under the system interpreter; decode its JSON answer."""
    require_libvirt()
    require_libvirtd()
    return oracle_json(ORACLE, *args, stdin=stdin)


def describe(text: str) -> str:
    """virtcore's description of the secret *text* defines."""
    return Secret.parse(text).format()


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(secret_oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    return list(secret_oracle("run", stdin=json.dumps([{"xml": c["xml"]} for c in ERRORS])))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    return list(secret_oracle("run", stdin=json.dumps([{"xml": m} for m in MUTANTS])))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_document(dumps: dict[str, str], name: str) -> None:
    golden = (DATA / f"{name}.xml").read_text()
    assert masked({"ok": True, "xml": dumps[name]}) == masked({"ok": True, "xml": golden})


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    ours = outcome_of(partial(describe, text))
    assert ours == masked({"ok": True, "xml": dumps[name]})


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
    assert len(MUTANTS) >= 200
    differences = []
    for text, theirs in zip(MUTANTS, mutant_outcomes, strict=True):
        ours = outcome_of(partial(describe, text))
        if masked(theirs) != ours:
            differences.append((text, theirs, ours))
    assert differences == []
