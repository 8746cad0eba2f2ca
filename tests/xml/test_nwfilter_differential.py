"""Live differential tests: real libvirt 9.0 and virtcore agree on network filter documents.

tests/data/xml/nwfilter/oracle.py (run as root by the system interpreter
against python3-libvirt and a private libvirtd confined to its own mount
namespace, which it starts and stops) defines every golden input again:

* libvirt must still print the golden files, and virtcore the same text;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (each attribute in turn given an odd value)
  must get the same outcome from both: the same text, or the same error.

Without python3-libvirt, libvirtd or root these tests fail, unless
``VIRTCORE_ALLOW_NO_LIBVIRT=1`` turns them into skips.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.xml.oracle_support import oracle_json, require_libvirt, require_private_nwfilter_daemon
from tests.xml.test_network_differential import Outcome, masked, mutants, outcome_of
from virtcore.xml.nwfilter import Filter

DATA = Path(__file__).parent.parent / "data" / "xml" / "nwfilter"
ORACLE = DATA / "oracle.py"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
MUTANTS = [m for i, name in enumerate(CASES) for m in mutants(
    (DATA / f"{name}.input.xml").read_text(), 8, i)]  # fmt: skip


def nwfilter_oracle(*args: str, stdin: str | None = None) -> Any:
    """Run the nwfilter oracle under the system interpreter; decode its JSON answer."""
    require_libvirt()
    require_private_nwfilter_daemon()
    return oracle_json(ORACLE, *args, stdin=stdin)


def describe(text: str) -> str:
    """virtcore's description of the filter *text* defines."""
    return Filter.parse(text).format()


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(nwfilter_oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    return list(nwfilter_oracle("run", stdin=json.dumps([{"xml": c["xml"]} for c in ERRORS])))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    return list(nwfilter_oracle("run", stdin=json.dumps([{"xml": m} for m in MUTANTS])))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_document(dumps: dict[str, str], name: str) -> None:
    golden = (DATA / f"{name}.xml").read_text()
    assert masked({"ok": True, "xml": dumps[name]}) == masked({"ok": True, "xml": golden})


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    assert outcome_of(partial(describe, text)) == masked({"ok": True, "xml": dumps[name]})


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
    assert len(MUTANTS) >= 300
    differences = []
    for text, theirs in zip(MUTANTS, mutant_outcomes, strict=True):
        ours = outcome_of(partial(describe, text))
        if masked(theirs) != ours:
            differences.append((text, theirs, ours))
    assert differences == []
