"""Specification of the domain checkpoint model (virtcore.xml.checkpoint).

tests/data/xml/checkpoint/ holds documents given to libvirt 9.0's test
driver (``checkpoint-create`` on its running domain ``test`` or on a
domain with two disks and a cdrom, some after earlier checkpoints, some
with ``REDEFINE``; options in cases.json) and libvirt's outcomes
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
from virtcore.enums.checkpoint import DomainCheckpointCreateFlags as Create
from virtcore.errors import VirtError
from virtcore.xml.checkpoint import DomainCheckpoint
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "checkpoint"
DOMAIN = Path(__file__).parent.parent / "data" / "testdriver" / "domain-test-inactive.xml"
OPTIONS: dict[str, dict[str, Any]] = json.loads((DATA / "cases.json").read_text())
OUTCOMES: dict[str, dict[str, Any]] = json.loads((DATA / "outcomes.json").read_text())
CLOCK = 1700000000
TIME = re.compile(r"<creationTime>(\d+)</creationTime>")


def domain_for(options: dict[str, Any]) -> str:
    """The definition of the domain a case runs against."""
    if options.get("domain"):
        return (DATA / f"domain-{options['domain']}.xml").read_text()
    return DOMAIN.read_text()


def virtcore_outcome(text: str, options: dict[str, Any]) -> dict[str, Any]:
    """What virtcore makes of a checkpoint document, in the oracle's terms."""
    before: list[str] = options.get("before", [])
    try:
        ckpt = DomainCheckpoint.parse(
            text, redefine=bool(options.get("flags", 0) & Create.REDEFINE)
        )
        if options.get("flags", 0) & Create.REDEFINE:
            ckptdef = ckpt.redefine(before)
        else:
            ckptdef = ckpt.create(domain_for(options), current=before[-1] if before else None,
                                  known_checkpoints=before, clock=lambda: CLOCK)  # fmt: skip
        return {"ok": True, "xml": ckptdef.format(options.get("xml_flags", 0))}
    except VirtError as exc:
        return {"ok": False, "code": int(exc.code), "domain": int(exc.domain),
                "message": exc.message}  # fmt: skip


def clocked(outcome: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """*outcome* with libvirt's wall-clock time (creation time, generated names) set to CLOCK."""
    if not outcome["ok"] or options.get("flags", 0) & Create.REDEFINE:
        return outcome
    found = TIME.search(outcome["xml"])
    assert found is not None
    return {"ok": True, "xml": outcome["xml"].replace(found.group(1), str(CLOCK))}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_same_outcome_as_libvirt(name: str) -> None:
    text = (DATA / f"{name}.input.xml").read_text()
    options = OPTIONS.get(name, {})
    assert virtcore_outcome(text, options) == clocked(OUTCOMES[name], options)


def test_golden_files_match_recorded_outcomes() -> None:
    for name, outcome in OUTCOMES.items():
        if outcome["ok"]:
            assert (DATA / f"{name}.xml").read_text() == outcome["xml"]


def test_enough_documents_are_recorded() -> None:
    assert len(OUTCOMES) >= 20


@pytest.mark.parametrize("name", sorted(n for n, o in OUTCOMES.items() if o["ok"]))
def test_formatted_document_validates_against_schema(name: str) -> None:
    validate(parse_document((DATA / f"{name}.xml").read_text()))


def test_missing_name_comes_from_the_clock() -> None:
    made = DomainCheckpoint.parse("<domaincheckpoint/>").create(
        DOMAIN.read_text(), clock=lambda: 42
    )
    assert (made.name, made.creation_time) == ("42", 42)


def test_disks_default_to_a_bitmap_named_after_the_checkpoint() -> None:
    made = DomainCheckpoint.parse("<domaincheckpoint><name>c</name></domaincheckpoint>").create(
        DOMAIN.read_text(), clock=lambda: 1
    )
    assert [(d.name, d.checkpoint, d.bitmap) for d in made.disks] == [("vda", "bitmap", "c")]


def test_unlisted_disks_get_no_bitmap_when_some_disk_is_listed() -> None:
    text = "<domaincheckpoint><disks><disk name='vdb'/></disks></domaincheckpoint>"
    made = DomainCheckpoint.parse(text).create(domain_for({"domain": "two-disks"}), clock=lambda: 1)
    assert [(d.name, d.checkpoint) for d in made.disks] == [
        ("vda", "no"), ("vdb", "bitmap"), ("hdc", "no"),
    ]  # fmt: skip


def test_current_checkpoint_becomes_the_parent() -> None:
    made = DomainCheckpoint.parse("<domaincheckpoint/>").create(
        DOMAIN.read_text(), current="older", clock=lambda: 1
    )
    assert made.parent_name == "older"


def test_taken_name_is_refused() -> None:
    with pytest.raises(VirtError, match="domain moment c already exists"):
        DomainCheckpoint.parse("<domaincheckpoint><name>c</name></domaincheckpoint>").create(
            DOMAIN.read_text(), known_checkpoints=["c"], clock=lambda: 1
        )


def test_no_domain_flag_leaves_the_domain_out() -> None:
    made = DomainCheckpoint.parse("<domaincheckpoint/>").create(DOMAIN.read_text(), clock=lambda: 1)
    assert "<domain " in made.format()
    assert "<domain " not in made.format(2)


def test_unknown_element_fails_schema_validation() -> None:
    with pytest.raises(VirtError, match="Element domaincheckpoint has extra content: bogus"):
        DomainCheckpoint.parse("<domaincheckpoint><bogus/></domaincheckpoint>")


def test_redefine_without_creation_time_is_refused() -> None:
    with pytest.raises(VirtError, match="missing creationTime from existing checkpoint"):
        DomainCheckpoint.parse("<domaincheckpoint><name>a</name></domaincheckpoint>", redefine=True)


def test_redefine_cannot_name_itself_as_parent() -> None:
    text = ("<domaincheckpoint><name>a</name><parent><name>a</name></parent>"
            "<creationTime>5</creationTime></domaincheckpoint>")  # fmt: skip
    with pytest.raises(VirtError, match="cannot set moment a as its own parent"):
        DomainCheckpoint.parse(text, redefine=True).redefine(["a"])


def test_properties_edit_the_live_tree() -> None:
    ckpt = DomainCheckpoint.parse("<domaincheckpoint><name>a</name></domaincheckpoint>")
    ckpt.description = "note"
    disk = ckpt.disks.append()
    disk.name = "vda"
    disk.bitmap = "b"
    assert ckpt.to_string() == (
        "<domaincheckpoint>\n  <name>a</name>\n  <description>note</description>\n"
        "  <disks>\n    <disk name='vda' bitmap='b'/>\n  </disks>\n</domaincheckpoint>\n"
    )


def test_live_libvirt_agrees() -> None:
    live = oracle_json(DATA / "oracle.py", "dump", str(DATA), timeout=120)
    assert sorted(live) == sorted(OUTCOMES)
    for name, outcome in live.items():
        text = (DATA / f"{name}.input.xml").read_text()
        options = OPTIONS.get(name, {})
        assert virtcore_outcome(text, options) == clocked(outcome, options), name


def test_redefined_checkpoint_with_its_domain_gets_aligned_disks() -> None:
    text = (DATA / "redefine-with-parent.input.xml").read_text()
    ckpt = DomainCheckpoint.parse(text, redefine=True).redefine(["base"])
    assert [(d.name, d.checkpoint, d.bitmap) for d in ckpt.disks] == [("vda", "bitmap", "r5")]


def test_redefined_checkpoint_without_domain_keeps_its_disks() -> None:
    text = (DATA / "redefine-disk-no.input.xml").read_text()
    ckpt = DomainCheckpoint.parse(text, redefine=True).redefine()
    assert [(d.name, d.checkpoint) for d in ckpt.disks] == [("vda", "no")]
