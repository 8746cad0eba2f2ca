"""Live differential test: real libvirt 9.0 still agrees with the recordings, and with virtcore.

The system interpreter runs tests/data/xml/domain/domain_oracle.py against
python3-libvirt on ``test:///default``: every golden input is defined again
and printed plain, ``INACTIVE``, ``SECURE``, ``MIGRATABLE`` and with all
three, every refused document is defined again. libvirt's answers must equal the recordings and
virtcore's answers for the same documents. Without python3-libvirt these
tests fail, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` turns them into skips.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.xml.domain_error_cases import ERROR_CASES, DomainErrorCase
from tests.xml.domain_goldens import NAMES, golden, identity_from, run_oracle, source
from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.domain import Domain

INACTIVE = int(DomainXMLFlags.INACTIVE)
FLAGS = (
    0,
    INACTIVE,
    int(DomainXMLFlags.SECURE),
    int(DomainXMLFlags.MIGRATABLE),
    int(DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE | DomainXMLFlags.MIGRATABLE),
)


def _define(documents: list[str]) -> list[dict[str, Any]]:
    outcomes = run_oracle(documents, FLAGS)
    assert outcomes is not None, "libvirt crashed"
    return outcomes


@pytest.fixture(scope="module")
def printed() -> dict[str, dict[str, Any]]:
    outcomes = _define([source(name) for name in NAMES])
    return dict(zip(NAMES, outcomes, strict=True))


@pytest.fixture(scope="module")
def refused() -> dict[str, dict[str, Any]]:
    outcomes = _define([case.document for case in ERROR_CASES])
    return {case.name: outcome for case, outcome in zip(ERROR_CASES, outcomes, strict=True)}


def _same_but_identity(recorded: str, live: str) -> str:
    """*live* with the UUIDs libvirt generated this time replaced by the recorded ones."""
    for tag in ("uuid", "genid"):
        start, end = f"<{tag}>", f"</{tag}>"
        if start in recorded and start in live:
            old = live.split(start, 1)[1].split(end, 1)[0]
            new = recorded.split(start, 1)[1].split(end, 1)[0]
            live = live.replace(old, new)
    return live


@pytest.mark.parametrize("name", NAMES)
def test_libvirt_still_prints_the_recording(printed: dict[str, dict[str, Any]], name: str) -> None:
    outcome = printed[name]
    assert outcome["ok"], outcome
    for flag, inactive in (("0", False), (str(INACTIVE), True)):
        recorded = golden(name, inactive=inactive)
        assert _same_but_identity(recorded, outcome["xml"][flag]) == recorded


@pytest.mark.parametrize("name", NAMES)
def test_virtcore_prints_what_live_libvirt_prints(
    printed: dict[str, dict[str, Any]], name: str
) -> None:
    live = printed[name]["xml"]
    domain = Domain.parse(
        source(name), uuid_factory=identity_from(source(name), live["0"]), test_ifnames=True
    )
    for flags in FLAGS:
        assert domain.format(flags) == live[str(flags)], f"flags={flags}"


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_libvirt_still_refuses_as_recorded(
    refused: dict[str, dict[str, Any]], case: DomainErrorCase
) -> None:
    outcome = refused[case.name]
    assert not outcome["ok"]
    assert (outcome["code"], outcome["domain"], outcome["message"]) == (
        case.code,
        case.domain,
        case.message,
    )


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_virtcore_refuses_like_live_libvirt(
    refused: dict[str, dict[str, Any]], case: DomainErrorCase
) -> None:
    outcome = refused[case.name]
    with pytest.raises(VirtError) as caught:
        Domain.parse(case.document)
    error = caught.value
    assert (int(error.code), int(error.domain), error.message) == (
        outcome["code"],
        outcome["domain"],
        outcome["message"],
    )
