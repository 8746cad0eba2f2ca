"""virsh compatibility of network, storage, interface and node device commands.

Each command line runs through real virsh and virtcore on a fresh
``test:///default`` host and must print the same bytes and exit the same way
(see :mod:`tests.cli.differential`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

NETWORKS = {
    "net-list-forms": (
        "net-list; net-list --all; net-list --inactive; net-list --name; net-list --uuid; "
        "net-list --persistent --transient"
    ),
    "net-list-exclusive": "net-list --name --uuid",
    "net-info-and-conversions": (
        "net-info default; net-uuid default; net-name dd8fe884-6c02-601e-7551-cca97df1c5df"
    ),
    "net-name-needs-uuid": "net-name default",
    "net-dumpxml": "net-dumpxml default",
    "net-dumpxml-xpath": "net-dumpxml default --xpath //ip/@address",
    "net-dumpxml-inactive-unsupported": "net-dumpxml default --inactive",
    "net-define-start-autostart-undefine": (
        "net-define net2.xml; net-list --all; net-start net2; net-autostart net2; "
        "net-list --all --autostart; net-info net2; net-autostart net2 --disable; "
        "net-destroy net2; net-undefine net2; net-list --all"
    ),
    "net-create-transient": (
        "net-create net2.xml; net-list --all; net-info net2; net-destroy net2; net-list --all"
    ),
    "net-start-running-destroy-undefine": (
        "net-start default; net-destroy default; net-destroy default; net-undefine default; "
        "net-list --all"
    ),
    "net-update-from-file": (
        "net-update default add ip-dhcp-host host.xml --live; net-dumpxml default; "
        "net-update default delete ip-dhcp-host host.xml --live"
    ),
    "net-update-inline-config": (
        "net-update default add ip-dhcp-host "
        '\'<host mac="52:54:00:00:00:08" ip="192.168.122.8"/>\' --config'
    ),
    "net-update-current": (
        "net-update default add ip-dhcp-host host.xml; "
        "net-update default modify ip-dhcp-host host.xml"
    ),
    "net-update-bad-command": "net-update default bogus ip-dhcp-host host.xml",
    "net-update-bad-section": "net-update default add bogus host.xml",
    "net-define-malformed": "net-define bad.xml",
    "net-define-missing-file": "net-define nosuch.xml",
    "net-missing": "net-info nosuch; net-start nosuch",
    "net-uuid-shaped-name": "net-info 00000000-0000-0000-0000-00000000000x",
}

POOLS = {
    "pool-list-forms": (
        "pool-list --details; pool-list --all --details; pool-list --name; pool-list --uuid; "
        "pool-list --name --uuid"
    ),
    "pool-list-types": "pool-list --type dir; pool-list --type logical,dir --all",
    "pool-list-bad-type": "pool-list --type bogus",
    "pool-list-exclusive": "pool-list --details --name",
    "pool-info-and-conversions": (
        "pool-info default-pool; pool-info default-pool --bytes; pool-uuid default-pool; "
        "pool-name dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
    ),
    "pool-uuid-needs-name": "pool-uuid dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
    "pool-dumpxml": "pool-dumpxml default-pool",
    "pool-dumpxml-inactive-unsupported": "pool-dumpxml default-pool --inactive --xpath //path",
    "pool-lifecycle": (
        "pool-define pool2.xml; pool-list --all --details; pool-info pool2; pool-build pool2; "
        "pool-start pool2; pool-list --details; pool-refresh pool2; pool-autostart pool2; "
        "pool-destroy pool2; pool-delete pool2; pool-undefine pool2; pool-list --all"
    ),
    "pool-create-transient": (
        "pool-create pool2.xml; pool-list --all; pool-destroy pool2; pool-list --all"
    ),
    "pool-create-build-unsupported": "pool-create pool2.xml --build",
    "pool-define-as-print": "pool-define-as p3 dir --target /tmp/p3 --print-xml",
    "pool-define-as": "pool-define-as p3 dir --target /tmp/p3; pool-info p3; pool-start p3 --build",
    "pool-define-as-netfs": (
        "pool-define-as p4 netfs --source-host h --source-path /exp --target /mnt "
        "--source-format nfs --print-xml"
    ),
    "pool-define-as-logical": (
        "pool-define-as p5 logical --source-dev /dev/sdb --source-name vg --print-xml"
    ),
    "pool-define-as-iscsi-auth": (
        "pool-define-as p6 iscsi --source-host h --source-dev iqn.x --auth-type chap "
        "--auth-username u --secret-usage s --print-xml"
    ),
    "pool-define-as-scsi-host": "pool-define-as p7 scsi --adapter-name host0 --print-xml",
    "pool-define-as-fc-host": (
        "pool-define-as p8 scsi --adapter-wwnn 20000000c9831b4b --adapter-wwpn 10000000c9831b4b "
        "--adapter-parent host1 --print-xml"
    ),
    "pool-define-as-positional": "pool-create-as p3 dir h /src dev name /tmp/p3 --print-xml",
    "pool-define-as-exclusive": "pool-define-as x dir --secret-usage a --secret-uuid b",
    "pool-create-as": "pool-create-as p3 dir --target /tmp/p3; pool-list --all --details",
    "pool-state-errors": (
        "pool-start default-pool; pool-destroy default-pool; pool-destroy default-pool; "
        "pool-undefine default-pool"
    ),
    "pool-delete-active": "pool-delete default-pool",
    "pool-build-flags-unsupported": "pool-build default-pool --overwrite --no-overwrite",
    "pool-missing": "pool-info nosuch",
    "pool-autostart": (
        "pool-autostart default-pool; pool-info default-pool; pool-autostart default-pool --disable"
    ),
}

VOLUMES = {
    "vol-create-list-info": (
        "vol-create default-pool vol.xml; vol-list default-pool; vol-list default-pool --details; "
        "vol-info v1.img --pool default-pool; vol-info /default-pool/v1.img; vol-info v1.img; "
        "vol-info --bytes /default-pool/v1.img"
    ),
    "vol-create-as-print": (
        "vol-create-as default-pool a.img 5M --allocation 1M --format qcow2 --print-xml"
    ),
    "vol-create-as-and-conversions": (
        "vol-create-as default-pool a.img 5M; vol-list default-pool --details; "
        "vol-path a.img --pool default-pool; vol-key /default-pool/a.img; "
        "vol-name /default-pool/a.img; vol-pool /default-pool/a.img; "
        "vol-pool /default-pool/a.img --uuid; vol-dumpxml a.img default-pool"
    ),
    "vol-clone-and-create-from": (
        "vol-create-as default-pool a.img 5M; vol-clone a.img b.img --pool default-pool; "
        "vol-clone /default-pool/a.img c.img --print-xml; "
        "vol-create-from default-pool vol2.xml a.img --inputpool default-pool; "
        "vol-list default-pool --details"
    ),
    "vol-delete-twice": (
        "vol-create-as default-pool a.img 5M; vol-delete a.img --pool default-pool; "
        "vol-delete a.img --pool default-pool; vol-list default-pool"
    ),
    "vol-create-as-duplicate": (
        "vol-create-as default-pool a.img 5M; vol-create-as default-pool a.img 5M"
    ),
    "vol-size-malformed": "vol-create-as default-pool a.img bogus",
    "vol-size-bad-suffix": "vol-create-as default-pool a.img 5X",
    "vol-size-negative": "vol-create-as default-pool a.img -5",
    "vol-allocation-malformed": "vol-create-as default-pool a.img 5M --allocation x",
    "vol-backing-missing": "vol-create-as default-pool a.img 5M --backing-vol nosuch",
    "vol-backing": (
        "vol-create-as default-pool a.img 5M; vol-create-as default-pool b.img 1M "
        "--backing-vol a.img --backing-vol-format raw --print-xml"
    ),
    "vol-create-missing-file": "vol-create default-pool nosuch.xml",
    "vol-create-missing-pool": "vol-create nosuch vol.xml",
    "vol-list-missing-pool": "vol-list nosuch",
    "vol-wipe-bad-algorithm": (
        "vol-create-as default-pool a.img 5M; vol-wipe a.img --pool default-pool --algorithm bogus"
    ),
    "vol-resize-negative-needs-shrink": (
        "vol-create-as default-pool a.img 5M; vol-resize a.img -1M --pool default-pool"
    ),
    "vol-resize-bad-suffix": (
        "vol-create-as default-pool a.img 5M; vol-resize a.img 1Q --pool default-pool"
    ),
    "vol-upload-missing-file": (
        "vol-create-as default-pool a.img 5M; vol-upload a.img nosuchfile --pool default-pool"
    ),
    "vol-download-bad-target": (
        "vol-create-as default-pool a.img 5M; "
        "vol-download a.img /nonexistent/dir/x --pool default-pool"
    ),
    "vol-upload-negative-offset": (
        "vol-create-as default-pool a.img 5M; "
        "vol-upload a.img vol.xml --pool default-pool --offset -1"
    ),
    "vol-name-needs-key": "vol-create-as default-pool a.img 5M; vol-name a.img; vol-pool a.img",
}

HOST_OBJECTS = {
    "iface-list-and-conversions": (
        "iface-list --all; iface-list --inactive; iface-mac eth1; "
        "iface-name aa:bb:cc:dd:ee:ff; iface-name eth1; iface-mac aa:bb:cc:dd:ee:ff"
    ),
    "iface-list": "iface-list",
    "iface-dumpxml-by-mac": "iface-dumpxml aa:bb:cc:dd:ee:ff",
    "iface-dumpxml-inactive-unsupported": "iface-dumpxml eth1 --inactive",
    "iface-missing-name": "iface-dumpxml nosuch",
    "iface-missing-mac": "iface-dumpxml 00:11:22:33:44:55",
    "nodedev-list-unsupported-flags": "nodedev-list --all; nodedev-list --tree",
    "nodedev-list-cap": "nodedev-list --cap scsi_host",
    "nodedev-list-bad-cap": "nodedev-list --cap bogus",
    "nodedev-list-inactive": "nodedev-list --inactive",
    "nodedev-dumpxml": "nodedev-dumpxml computer; nodedev-dumpxml scsi_host11 --xpath //parent",
    "nodedev-dumpxml-by-wwn": "nodedev-dumpxml 2000000012341234,1000000012341234",
    "nodedev-dumpxml-bad-wwn": "nodedev-dumpxml a,b",
    "nodedev-dumpxml-by-prefixed-wwn": "nodedev-dumpxml 0x2000000012341234,0x1000000012341234",
    "nodedev-dumpxml-short-wwn": "nodedev-dumpxml 2000000012341234,100000001234123",
    "nodedev-dumpxml-three-values": "nodedev-dumpxml a,b,c",
    "nodedev-dumpxml-escaped-comma": "nodedev-dumpxml 2000000012341234,,1000000012341234",
    "nodedev-dumpxml-empty-wwns": "nodedev-dumpxml ,",
    "nodedev-destroy": "nodedev-destroy scsi_host1; nodedev-list; nodedev-destroy scsi_host1",
    "nodedev-destroy-name-alias": "nodedev-destroy --name scsi_host1",
    "nodedev-destroy-by-wwn": "nodedev-destroy 2000000012341234,1000000012341234",
    "nodedev-destroy-malformed": "nodedev-destroy a,b,c; nodedev-destroy x,2000000012341234",
    "nodedev-destroy-missing": "nodedev-destroy nosuch; nodedev-destroy",
    "nodedev-missing": "nodedev-dumpxml nosuch",
}


@pytest.mark.parametrize("line", NETWORKS.values(), ids=NETWORKS.keys())
def test_network_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)


@pytest.mark.parametrize("line", POOLS.values(), ids=POOLS.keys())
def test_pool_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["random-uuid"])


@pytest.mark.parametrize("line", VOLUMES.values(), ids=VOLUMES.keys())
def test_volume_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)


@pytest.mark.parametrize("line", HOST_OBJECTS.values(), ids=HOST_OBJECTS.keys())
def test_host_object_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)
