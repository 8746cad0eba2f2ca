"""Live differential tests: real libvirt 9.0 and virtcore agree on pool and volume documents.

tests/data/xml/network/oracle.py (run by the system interpreter against
python3-libvirt's ``test:///default``) defines every pool golden input and
creates every volume golden input in the test driver's ``default-pool``:

* libvirt must still print the golden files, and virtcore the same text
  once the sizes (pools) and path/key (volumes) the test driver fills in
  are set on the model, as a driver sets them;
* every refused document of errors.json must still get the recorded error;
* mutants of the golden inputs (each attribute in turn given an odd value)
  must get the same outcome from both.

Without python3-libvirt these tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
turns them into skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.xml.test_network_differential import Outcome, masked, mutants, oracle, outcome_of
from tests.xml.test_storage_pool import as_test_driver
from tests.xml.test_storage_vol import in_default_pool
from virtcore.errors import VirtError
from virtcore.xml.storage_pool import StoragePool
from virtcore.xml.storage_vol import StorageVolume

DATA = Path(__file__).parent.parent / "data" / "xml" / "storage"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("*.input.xml"))
ERRORS: list[dict[str, Any]] = json.loads((DATA / "errors.json").read_text())
TEST_DRIVER_POOL_SIZE = 100 * 1024**3


def kind_of(name: str) -> str:
    return "pool" if name.startswith("pool-") else "volume"


def describe(kind: str, text: str) -> str:
    """virtcore's description of a pool defined / volume created on the test driver."""
    if kind == "pool":
        return as_test_driver(StoragePool.parse(text)).format()
    volume = StorageVolume.parse(text)
    allocation = volume.definition().allocation
    if allocation > TEST_DRIVER_POOL_SIZE:
        # The test driver's own check, reported from its error domain (TEST).
        raise VirtError.from_code(
            1, f"Not enough free space in pool for volume '{volume.name}'", domain=12
        )
    return in_default_pool(volume).format()


def virtcore_outcome(kind: str, text: str) -> Outcome:
    """What virtcore makes of the document *text* of *kind*."""
    return outcome_of(lambda: describe(kind, text))


MUTANTS = [
    (kind_of(name), m)
    for i, name in enumerate(CASES)
    for m in mutants((DATA / f"{name}.input.xml").read_text(), 6, i)
]


@pytest.fixture(scope="module")
def dumps() -> dict[str, str]:
    return dict(oracle("dump", str(DATA)))


@pytest.fixture(scope="module")
def error_outcomes() -> list[Outcome]:
    cases = [{"kind": c["kind"], "xml": c["xml"]} for c in ERRORS]
    return list(oracle("run", stdin=json.dumps(cases)))


@pytest.fixture(scope="module")
def mutant_outcomes() -> list[Outcome]:
    cases = [{"kind": kind, "xml": text} for kind, text in MUTANTS]
    return list(oracle("run", stdin=json.dumps(cases)))


@pytest.mark.parametrize("name", CASES)
def test_libvirt_still_prints_the_golden_document(dumps: dict[str, str], name: str) -> None:
    assert dumps[name] == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_virtcore_prints_what_live_libvirt_prints(dumps: dict[str, str], name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    assert describe(kind_of(name), text) == dumps[name]


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
    for (kind, text), theirs in zip(MUTANTS, mutant_outcomes, strict=True):
        ours = virtcore_outcome(kind, text)
        if masked(theirs) != ours:
            differences.append((text, theirs, ours))
    assert differences == []
