"""virsh compatibility of the domain commands on ``test:///default``.

Listing, identity and configuration commands, successful and failing, each
compared byte for byte with real virsh (see :mod:`tests.cli.differential`
for the masks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

# Listing and identity.
LISTING = {
    "list": "list",
    "list-all": "list --all",
    "list-inactive": "list --inactive",
    "list-title": "list --all --title",
    "list-names": "list --name",
    "list-uuids": "list --uuid",
    "list-ids": "list --id",
    "list-uuid-id-name": "list --all --name --uuid --id",
    "list-id-and-uuid": "list --id --uuid",
    "list-title-ignored-for-names": "list --title --name",
    "list-table-name-exclusive": "list --name --table",
    "list-table-id-exclusive": "list --id --table",
    "list-state-running": "list --state-running",
    "list-state-shutoff-after-destroy": "destroy test; list --state-shutoff",
    "list-filters-combined": "list --inactive --all --transient --persistent --state-other",
    "list-autostart": "autostart test; list --autostart; list --no-autostart",
    "list-managed-save-marker": "managedsave test; list --all --managed-save",
    "dominfo": "dominfo test",
    "dominfo-by-id": "dominfo 1",
    "dominfo-inactive": "destroy test; dominfo test",
    "dominfo-missing": "dominfo nosuch",
    "dominfo-missing-id": "dominfo 99",
    "domstate": "domstate test",
    "domstate-reason": "suspend test; domstate test --reason",
    "domid-by-uuid": "domid 6695eb01-f6a4-8304-79aa-97f2502e193f",
    "domid-not-by-id": "domid 1",
    "domname-by-id": "domname 1",
    "domname-not-by-name": "domname test",
    "domuuid": "domuuid test",
}

# Configuration.
CONFIGURATION = {
    "dumpxml": "dumpxml test",
    "dumpxml-inactive": "dumpxml test --inactive",
    "dumpxml-flags": "dumpxml test --security-info --migratable",
    "dumpxml-update-cpu-unsupported": "dumpxml test --update-cpu",
    "dumpxml-xpath-element": "dumpxml test --xpath /domain/name",
    "dumpxml-xpath-attribute": "dumpxml test --xpath //disk/target/@dev",
    "dumpxml-xpath-wrap": "dumpxml test --xpath //target --wrap",
    "dumpxml-xpath-subtree": "dumpxml test --xpath //devices",
    "dumpxml-xpath-union": "dumpxml test --xpath '//uuid|//name'",
    "dumpxml-xpath-text": "dumpxml test --xpath //name/text()",
    "dumpxml-xpath-empty": "dumpxml test --xpath //nosuch --wrap",
    "dumpxml-xpath-not-nodes": "dumpxml test --xpath 'count(//disk)'",
    "dumpxml-xpath-syntax-error": "dumpxml test --xpath '//['",
    "dumpxml-xpath-not-positional": "dumpxml test /x",
    "setmem-config-and-live": "setmem test 1024 --config; setmem test 512M --live; dominfo test",
    "setmem-above-maximum": "setmem test 100G",
    "setmem-exclusive": "setmem test 1024 --config --live; setmem test 1024 --current --live",
    "setmem-inactive": "destroy test; setmem test 1024",
    "setmaxmem-config": "setmaxmem test 1G --config; dumpxml test --inactive --xpath //memory",
    "setmaxmem-live-refused": "setmaxmem test 1G",
    "setvcpus-live": "setvcpus test 1; vcpucount test",
    "setvcpus-config-maximum": "setvcpus test 4 --config --maximum; vcpucount test",
    "setvcpus-guest-unsupported": "setvcpus test 1 --guest",
    "setvcpus-above-maximum": "setvcpus test 3 --live",
    "setvcpus-zero": "setvcpus test 0",
    "setvcpus-maximum-needs-config": "setvcpus test 1 --maximum",
    "desc-and-title": (
        "desc test; desc test --title; desc test 'hello world'; desc test; "
        "desc test --title --new-desc 'My T'; desc test --title; list --title"
    ),
    "desc-config": "desc test --live a b; desc test --config",
    "desc-exclusive": "desc test --current --live x",
    "metadata-missing": "metadata test http://x/y",
    "metadata-needs-key": "metadata test http://x/y --set '<a>b</a>'",
    "metadata-set-get-remove": (
        "metadata test http://x/y --key k --set '<a>b</a>'; metadata test http://x/y; "
        "dumpxml test --xpath //metadata; metadata test http://x/y --key k --remove; "
        "metadata test http://x/y"
    ),
    "metadata-exclusive": "metadata test http://x/y --remove --set x",
    "metadata-malformed": "metadata test http://x/y --key k --set 'notxml'",
    "domrename-active": "domrename test t2",
    "domrename": (
        "destroy test; domrename test t2; domrename t2 t2; "
        "domrename 6695eb01-f6a4-8304-79aa-97f2502e193f x; list --all"
    ),
}


@pytest.mark.parametrize("line", LISTING.values(), ids=LISTING.keys())
def test_listing_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time"])


@pytest.mark.parametrize("line", CONFIGURATION.values(), ids=CONFIGURATION.keys())
def test_configuration_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time"])
