"""Live differential tests: real libvirt 9.0 and virtcore agree on host interface documents.

tests/data/xml/interface/oracle.py (run by the system interpreter against
python3-libvirt's test driver) defines every golden input again:

* libvirt must still print the golden files, and virtcore the same text;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (each attribute in turn given an odd value)
  must get the same outcome from both: the same text, or the same error.

Without python3-libvirt these tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
turns them into skips.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.xml.oracle_support import oracle_json
from tests.xml.test_network_differential import Outcome, masked, mutants, outcome_of
from virtcore.xml.interface import Interface

DATA = Path(__file__).parent.parent / "data" / "xml" / "interface"
ORACLE = DATA / "oracle.py"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
MUTANTS = [m for i, name in enumerate(CASES) for m in mutants(
    (DATA / f"{name}.input.xml").read_text(), 8, i)]  # fmt: skip


def host_oracle(*args: str, stdin: str | None = None) -> Any:
    """Run the host-document oracle under the system interpreter; decode its JSON answer."""
    return oracle_json(ORACLE, *args, stdin=stdin)


def describe(text: str) -> str:
    """virtcore's description of the interface *text* defines."""
    return Interface.parse(text).format()


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(host_oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    cases = [{"kind": "interface", "xml": c["xml"]} for c in ERRORS]
    return list(host_oracle("run", stdin=json.dumps(cases)))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    cases = [{"kind": "interface", "xml": text} for text in MUTANTS]
    return list(host_oracle("run", stdin=json.dumps(cases)))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_document(dumps: dict[str, str], name: str) -> None:
    assert dumps[name] == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    assert Interface.parse(text).format() == dumps[name]


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
