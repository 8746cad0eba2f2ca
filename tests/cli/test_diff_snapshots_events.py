"""virsh compatibility of the snapshot and event commands.

Snapshot cases run whole scenarios (create, list, tree, current, revert,
delete); event cases cover listing, option checks and a wait that times out.
See :mod:`tests.cli.differential` for the masks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

SNAPSHOTS = {
    "snapshot-create-and-list": (
        "snapshot-create-as test s1 'first one'; snapshot-create-as test s2; "
        "snapshot-create test snap.xml; snapshot-list test; snapshot-list test --parent; "
        "snapshot-list test --tree; snapshot-list test --name; snapshot-list test --roots; "
        "snapshot-list test --leaves; snapshot-list test --from s1; "
        "snapshot-list test --from s1 --descendants --name; snapshot-list test --current; "
        "snapshot-list test --topological --name"
    ),
    "snapshot-current-info-parent": (
        "snapshot-create-as test s1; snapshot-create-as test s2; snapshot-current test --name; "
        "snapshot-current test s1; snapshot-current test --name; snapshot-info test s1; "
        "snapshot-info test --current; snapshot-parent test s2; snapshot-parent test s1; "
        "snapshot-dumpxml test s1 --xpath //name"
    ),
    "snapshot-dumpxml": "snapshot-create-as test s1; snapshot-dumpxml test s1",
    "snapshot-revert-and-delete": (
        "snapshot-create-as test s1; snapshot-revert test s1; "
        "snapshot-revert test --current --paused; list; snapshot-delete test s1; "
        "snapshot-list test"
    ),
    "snapshot-delete-children": (
        "snapshot-create-as test s1; snapshot-create-as test s2; "
        "snapshot-delete test s1 --children; snapshot-list test"
    ),
    "snapshot-delete-children-only": (
        "snapshot-create-as test s1; snapshot-create-as test s2; "
        "snapshot-delete test s1 --children-only; snapshot-list test --name"
    ),
    "snapshot-create-as-print": (
        "snapshot-create-as test --print-xml --name x --description d "
        "--memspec file=/tmp/m,snapshot=external --diskspec vda,snapshot=external,file=/tmp/d "
        "--diskspec vdb,snapshot=no"
    ),
    "snapshot-create-as-bad-memspec": "snapshot-create-as test --memspec bogus=1 --print-xml",
    "snapshot-create-unnamed": "snapshot-create test; snapshot-list test --name",
    "snapshot-create-halt": "snapshot-create-as test s1 --halt; list --all",
    "snapshot-create-disk-only-unsupported": "snapshot-create-as test s1 --disk-only",
    "snapshot-tree-from": (
        "snapshot-create-as test s1; snapshot-create-as test s2; "
        "snapshot-list test --tree --from s1; snapshot-list test --roots --tree; "
        "snapshot-list test --leaves --tree"
    ),
    "snapshot-state-filters": (
        "snapshot-create-as test s1; destroy test; snapshot-create-as test s2; "
        "snapshot-list test --inactive --name; snapshot-list test --active --name; "
        "snapshot-list test --descendants"
    ),
    "snapshot-no-current": "snapshot-current test",
    "snapshot-missing": "snapshot-dumpxml test nosuch; snapshot-info test nosuch",
    "snapshot-name-or-current-required": (
        "snapshot-delete test; snapshot-revert test; snapshot-parent test"
    ),
    "snapshot-name-and-current-exclusive": (
        "snapshot-create-as test s1; snapshot-info test s1 --current"
    ),
}

EVENTS = {
    "event-list": "event --list",
    "event-timeout-without-events": "event --all --timeout 1",
    "event-type-required": "event --timeout 1",
    "event-unknown-type": "event --event bogus",
    "event-all-and-event-exclusive": "event --all --event lifecycle",
    "event-list-and-all-exclusive": "event --list --all",
    "event-zero-timeout": "event --all --timeout 0",
    "event-missing-domain": "event --all --domain nosuch --timeout 1",
    "event-first-positional-is-domain": "event lifecycle --timeout 1 --domain test",
}


@pytest.mark.parametrize("line", SNAPSHOTS.values(), ids=SNAPSHOTS.keys())
def test_snapshot_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["snapshot-time"])


@pytest.mark.parametrize("line", EVENTS.values(), ids=EVENTS.keys())
def test_event_command_matches_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)
