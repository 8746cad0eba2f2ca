"""Hundreds of single-device documents, each as libvirt 9.0 treats it.

tests/data/xml/devices_a/snippets.txt holds device snippets - valid ones and
every kind of mistake, one libvirt rule each - and snippets.json what
libvirt's test driver made of each, defined in a minimal domain
(``oracle.py record-snippets``): the ``<devices>`` it wrote or the error it
raised. The models must give the same answer for every snippet. MAC
addresses libvirt generates at random are compared as a placeholder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.xml.devices_a_support import DATA, ORACLE, virtcore_devices
from tests.xml.oracle_support import run_script

SNIPPETS = [s.strip() for s in (DATA / "snippets.txt").read_text().split("\n=====\n")]
RECORDED: list[dict[str, object]] = json.loads((DATA / "snippets.json").read_text())
HEAD = (
    "<domain type='test'><name>snippet</name><memory>4194304</memory>"
    "<os><type>hvm</type></os><devices>"
)
TAIL = "</devices></domain>"
_MAC = re.compile(r"52:54:00(?::[0-9a-f]{2}){3}")


def _masked(outcome: object) -> object:
    if isinstance(outcome, str):
        return _MAC.sub("MAC", outcome)
    if isinstance(outcome, list | tuple):
        return [_masked(item) for item in outcome]
    return outcome


def _expected(index: int) -> object:
    recorded = RECORDED[index]
    if "error" in recorded:
        return _masked(recorded["error"])
    text = recorded["devices"]
    assert isinstance(text, str)
    # Unindent libvirt's element to a document of its own.
    return _masked("".join(line[2:] + "\n" for line in text.splitlines()))


def test_every_snippet_has_a_recorded_outcome() -> None:
    assert len(SNIPPETS) == len(RECORDED) >= 500


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_is_treated_as_libvirt_treats_it(index: int) -> None:
    mine = virtcore_devices(HEAD + SNIPPETS[index] + TAIL)
    assert _masked(mine) == _expected(index), SNIPPETS[index]


def test_libvirt_still_treats_the_snippets_as_recorded(tmp_path: Path) -> None:
    directory = tmp_path
    (directory / "snippets.txt").write_text((DATA / "snippets.txt").read_text())
    result = run_script(ORACLE, "record-snippets", str(directory))
    assert result.returncode == 0, result.stderr
    live = json.loads((directory / "snippets.json").read_text())
    assert [_masked(o.get("error") or o.get("devices")) for o in live] == [
        _masked(o.get("error") or o.get("devices")) for o in RECORDED
    ]
