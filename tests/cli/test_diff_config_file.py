"""virsh compatibility on a host loaded from a configuration file (``test:///path.xml``).

``tests/data/cli/node.xml`` describes a host unlike the default one:
several domains in every state (running, paused, shut off, shut off with a
managed save image), names that sort case-insensitively, a title and
description, a bridge interface, a pool with volumes and a host interface.
Each command line must print the same bytes through real virsh and virtcore.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

NODE = Path(__file__).resolve().parent.parent / "data" / "cli" / "node.xml"
URI = f"test://{NODE}"

CASES = {
    "list-all": "list --all",
    "list-title": "list --all --title",
    "list-managed-save": "list --all --managed-save",
    "list-paused-names": "list --state-paused --name",
    "list-inactive-uuids": "list --inactive --uuid",
    "list-state-shutoff-alone": "list --state-shutoff --state-paused",
    "list-state-shutoff-all": "list --state-shutoff --state-running --all",
    "list-with-managed-save": "list --with-managed-save --all --name",
    "list-ids-and-names": "list --all --id --name",
    "dominfo-running": "dominfo web1",
    "dominfo-shut-off": "dominfo db1",
    "dominfo-paused": "dominfo Alpha",
    "domstate-reasons": "domstate Alpha --reason; domstate saved1 --reason",
    "nodeinfo": "nodeinfo",
    "freecell-all": "freecell --all",
    "capabilities": "capabilities",
    "domblklist-details": "domblklist web1 --details",
    "domiflist": "domiflist web1",
    "desc-and-title": "desc web1; desc web1 --title",
    "networks": "net-list --all; net-info lan",
    "interfaces": "iface-list --all",
    "pools": "pool-list --all --details; pool-info pool-a",
    "volumes": (
        "vol-list pool-a --details; vol-info web1.img --pool pool-a; "
        "vol-dumpxml data.qcow2 --pool pool-a"
    ),
    "start-shut-off": "start db1; list",
    "start-from-managed-save": "start saved1; list --all",
    "dumpxml": "dumpxml web1",
    "domblkinfo-all": "domblkinfo web1 --all",
    "vcpuinfo": "vcpuinfo web1",
}


@pytest.mark.parametrize("line", CASES.values(), ids=CASES.keys())
def test_commands_on_a_configured_host_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time"], uri=URI)
