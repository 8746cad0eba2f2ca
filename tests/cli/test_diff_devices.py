"""virsh compatibility of the device hot-plug commands.

libvirt's test driver cannot hot-plug devices, so the cases cover what virsh
does before asking the driver: building device XML (``--print-xml``),
finding devices in the domain XML and rejecting bad options. See
:mod:`tests.cli.differential`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import assert_same

DEVICES = {
    "attach-device-exclusive": "attach-device test disk.xml --current --live",
    "attach-device-missing-file": "attach-device test nosuch.xml",
    "attach-disk-print": "attach-disk test /var/lib/y.img vdc --print-xml",
    "attach-disk-print-every-option": (
        "attach-disk test /dev/sdb vdd --targetbus scsi --driver qemu --subdriver raw "
        "--cache none --io native --type cdrom --mode readonly --sourcetype block --serial S1 "
        "--wwn 5000c50015ea71ad --alias ua-x --address pci:0000.00.0a.0 --print-xml"
    ),
    "attach-disk-print-needs-no-domain": "attach-disk nosuch /x vdb --print-xml",
    "attach-disk-shareable-alias": "attach-disk test /x vdb --shareable --print-xml",
    "attach-disk-bad-mode": "attach-disk test /x vdb --mode shared",
    "attach-disk-bad-address": "attach-disk test /x vdb --address bogus",
    "attach-disk-bad-wwn": "attach-disk test /x vdb --wwn bad --print-xml",
    "attach-disk-scsi-address": "attach-disk test /x sdb --address scsi:0.0.1 --print-xml",
    "attach-disk-ide-address": "attach-disk test /x hdb --address ide:0.1.0 --print-xml",
    "attach-disk-ccw-address": "attach-disk test /x vdb --address ccw:0.0.0001 --print-xml",
    "attach-disk-wrong-address-kind": "attach-disk test /x sdb --address pci:0000.00.0a.0",
    "attach-disk-bad-source-type": "attach-disk test /x vdb --sourcetype bogus --print-xml",
    "attach-disk-network-needs-protocol": "attach-disk test /x vdb --sourcetype network",
    "attach-disk-network": (
        "attach-disk test /x vdb --source-protocol nbd --source-host-name h:10809 --print-xml"
    ),
    "attach-disk-host-needs-protocol": "attach-disk test /x vdb --source-host-name h",
    "attach-disk-multifunction": (
        "attach-disk test /x vdb --rawio --multifunction --address pci:0000.00.0a.0 "
        "--iothread 1 --print-xml"
    ),
    "attach-interface-print": "attach-interface test network default --print-xml",
    "attach-interface-print-every-option": (
        "attach-interface test bridge br0 --mac 52:54:00:aa:bb:cc --model virtio --target vnet9 "
        "--alias ua-n --inbound 100,200,300 --outbound 50 --script /bin/x --print-xml"
    ),
    "attach-interface-print-needs-no-domain": "attach-interface nosuch network default --print-xml",
    "attach-interface-bad-type": "attach-interface test bogus x",
    "attach-interface-user-type": "attach-interface test user x --print-xml",
    "attach-interface-bad-source-mode": "attach-interface test direct eth0 --source-mode bridge",
    "attach-interface-hostdev": "attach-interface test hostdev 0000:00:19.0 --managed --print-xml",
    "attach-interface-vhostuser-needs-mode": "attach-interface test vhostuser /tmp/s --print-xml",
    "attach-interface-vhostuser": (
        "attach-interface test vhostuser /tmp/s --source-mode client --print-xml"
    ),
    "attach-interface-inbound-needs-average": (
        "attach-interface test network default --inbound 0,1 --print-xml"
    ),
    "attach-interface-outbound-floor": (
        "attach-interface test network default --outbound 1,2,3,4 --print-xml"
    ),
    "attach-interface-rate-malformed": "attach-interface test network default --inbound x",
    "attach-interface-rate-too-long": "attach-interface test network default --inbound 1,2,3,4,5",
    "detach-interface-print": "detach-interface test network --print-xml",
    "detach-interface-wrong-type": "detach-interface test bridge",
    "detach-interface-wrong-mac": "detach-interface test network --mac 52:54:00:11:22:33",
    "detach-disk-print": "detach-disk test vda --print-xml",
    "detach-disk-print-by-source": "detach-disk test /guest/diskimage1 --print-xml --config",
    "detach-disk-missing": "detach-disk test nosuch",
}


@pytest.mark.parametrize("line", DEVICES.values(), ids=DEVICES.keys())
def test_device_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)
