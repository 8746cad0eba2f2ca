"""Specification of the domain snapshot model (virtcore.xml.snapshot).

tests/data/xml/snapshot/ holds 42 documents given to libvirt 9.0's test
driver (``snapshot-create`` on its running or shut-off domain ``test``,
some with ``REDEFINE``; options in cases.json) and libvirt's outcomes
(outcomes.json: the text it printed or its error). virtcore must give the
same outcome for each; the live test re-runs the oracle and fails without
python3-libvirt unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.xml.oracle_support import oracle_json
from virtcore.errors import VirtError
from virtcore.xml.snapshot import DomainSnapshot

DATA = Path(__file__).parent.parent / "data" / "xml" / "snapshot"
DOMAIN = Path(__file__).parent.parent / "data" / "testdriver" / "domain-test-inactive.xml"
OPTIONS: dict[str, dict[str, Any]] = json.loads((DATA / "cases.json").read_text())
OUTCOMES: dict[str, dict[str, Any]] = json.loads((DATA / "outcomes.json").read_text())
CLOCK = 1700000000
TIME = re.compile(r"<creationTime>\d+</creationTime>")


def virtcore_outcome(text: str, options: dict[str, Any]) -> dict[str, Any]:
    """What virtcore makes of a snapshot document, in the oracle's terms."""
    try:
        snap = DomainSnapshot.from_xml(text)
        if options.get("flags", 0) & 1:
            snapdef = snap.redefine()
        else:
            snapdef = snap.create(DOMAIN.read_text(), running=not options.get("shutoff"),
                                  clock=lambda: CLOCK)  # fmt: skip
        return {"ok": True, "xml": snapdef.format(options.get("xml_flags", 0))}
    except VirtError as exc:
        return {"ok": False, "code": int(exc.code), "domain": int(exc.domain),
                "message": exc.message}  # fmt: skip


def clocked(outcome: dict[str, Any], generated_name: bool) -> dict[str, Any]:
    """*outcome* with libvirt's wall-clock time replaced by the test clock."""
    if not outcome["ok"]:
        return outcome
    text = TIME.sub(f"<creationTime>{CLOCK}</creationTime>", outcome["xml"])
    if generated_name:
        text = re.sub(r"<name>\d+</name>", f"<name>{CLOCK}</name>", text, count=1)
    return {"ok": True, "xml": text}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_same_outcome_as_libvirt(name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    expected = clocked(OUTCOMES[name], name == "empty")
    assert virtcore_outcome(text, OPTIONS.get(name, {})) == expected


def test_golden_files_match_recorded_outcomes() -> None:
    for name, outcome in OUTCOMES.items():
        if outcome["ok"]:
            assert (DATA / f"{name}.xml").read_text() == outcome["xml"]


def test_missing_name_comes_from_the_clock() -> None:
    snap = DomainSnapshot.parse("<domainsnapshot/>").create(DOMAIN.read_text(), clock=lambda: 42)
    assert snap.name == "42"
    assert snap.creation_time == 42


def test_running_domain_gets_internal_memory_and_disks() -> None:
    snap = DomainSnapshot.parse("<domainsnapshot><name>a</name></domainsnapshot>")
    made = snap.create(DOMAIN.read_text(), clock=lambda: 1)
    assert (made.state, made.memory) == ("running", "internal")
    assert [(d.name, d.snapshot) for d in made.disks] == [("vda", "internal")]


def test_shut_off_domain_gets_no_memory_state() -> None:
    snap = DomainSnapshot.parse("<domainsnapshot><name>a</name></domainsnapshot>")
    made = snap.create(DOMAIN.read_text(), running=False, clock=lambda: 1)
    assert (made.state, made.memory) == ("shutoff", "no")


def test_disk_named_by_path_is_renamed_to_its_target() -> None:
    text = "<domainsnapshot><disks><disk name='/guest/diskimage1'/></disks></domainsnapshot>"
    made = DomainSnapshot.parse(text).create(DOMAIN.read_text(), clock=lambda: 1)
    assert made.disks[0].name == "vda"


def test_embedded_domain_is_the_inactive_definition() -> None:
    made = DomainSnapshot.parse("<domainsnapshot/>").create(DOMAIN.read_text(), clock=lambda: 1)
    text = made.format()
    assert "  <domain type='test'>\n    <name>test</name>\n" in text
    assert "<domain type='test' id=" not in text


def test_internal_format_records_whether_current() -> None:
    made = DomainSnapshot.parse("<domainsnapshot/>").create(DOMAIN.read_text(), clock=lambda: 1)
    assert made.format(internal=True, current=True).endswith(
        "  <active>1</active>\n</domainsnapshot>\n"
    )


def test_properties_edit_the_live_tree() -> None:
    snap = DomainSnapshot.parse("<domainsnapshot><name>a</name><future/></domainsnapshot>")
    snap.description = "note"
    disk = snap.disks.append()
    disk.name = "vda"
    disk.snapshot = "internal"
    assert snap.to_string() == (
        "<domainsnapshot>\n  <name>a</name>\n  <description>note</description>\n"
        "  <disks>\n    <disk name='vda' snapshot='internal'/>\n  </disks>\n  <future/>\n"
        "</domainsnapshot>\n"
    )


def test_redefine_without_name_is_refused() -> None:
    with pytest.raises(VirtError, match="a redefined snapshot must have a name"):
        DomainSnapshot.parse("<domainsnapshot/>", redefine=True)


def test_live_libvirt_agrees() -> None:
    live = oracle_json(DATA / "oracle.py", "dump", str(DATA), timeout=120)
    for name, outcome in live.items():
        text = (DATA / f"{name}.input.xml").read_text()
        expected = clocked(outcome, name == "empty")
        assert virtcore_outcome(text, OPTIONS.get(name, {})) == expected, name
