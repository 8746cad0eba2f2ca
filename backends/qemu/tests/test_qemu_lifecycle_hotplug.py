"""Hot-plug of disks, NICs, channels, serial ports and RNGs on real QEMU guests (TCG).

Failed hot-plugs must leave nothing behind in QEMU (libvirt's rollback);
new devices get libvirt's aliases and node names after the guest's own.

SCSI disks leave QEMU at once on ``device_del``; PCI devices would wait for a
guest OS that these tiny guests do not have, so removals are tested on SCSI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qemu_guests import EventLog, guest_xml, make_raw_disk, pool_xml, volume_xml

from virtcore.connection import Connection
from virtcore.enums.domain_events import DomainEventID
from virtcore.errors import (
    DeviceMissingError,
    OperationFailedError,
    OperationInvalidError,
    OperationUnsupportedError,
    VirtError,
)
from virtcore.objects import Domain
from virtcore_qemu.state import QemuDriver

CONFIG = 0x2


def _guest(conn: Connection, root: Path, extra: str = "") -> Domain:
    xml = guest_xml("g", disk_file=make_raw_disk(root / "a.img")).replace(
        "<devices>",
        "<features><acpi/></features><devices><controller type='scsi' model='virtio-scsi'/>"
        + extra,
    )
    dom = conn.domain_define_xml(xml)
    dom.create()
    return dom


def _disk(path: str, target: str, bus: str) -> str:
    return (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{path}'/><target dev='{target}' bus='{bus}'/></disk>"
    )


def _peripherals(qemu: QemuDriver) -> set[str]:
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    entries = obj.monitor.execute("qom-list", {"path": "/machine/peripheral"})
    return {str(e["name"]) for e in entries}


def test_attached_scsi_disk_is_in_qemu_and_the_live_xml(
    conn: Connection, qemu: QemuDriver, events: EventLog, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    dom.attach_device(_disk(make_raw_disk(embed_root / "b.img"), "sdb", "scsi"))
    assert "scsi0-0-0-1" in _peripherals(qemu)
    assert "<alias name='scsi0-0-0-1'/>" in dom.xml_desc()
    assert events.wait_for("g", DomainEventID.DEVICE_ADDED, ("scsi0-0-0-1",))
    assert "sdb" not in dom.xml_desc(2)  # the persistent definition is untouched


def test_detached_scsi_disk_leaves_qemu_and_the_live_xml(
    conn: Connection, qemu: QemuDriver, events: EventLog, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    disk = _disk(make_raw_disk(embed_root / "b.img"), "sdb", "scsi")
    dom.attach_device(disk)
    dom.detach_device(disk)
    assert "scsi0-0-0-1" not in _peripherals(qemu)
    assert "sdb" not in dom.xml_desc()
    assert events.wait_for("g", DomainEventID.DEVICE_REMOVED, ("scsi0-0-0-1",))
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    nodes = [n["node-name"] for n in obj.monitor.execute("query-named-block-nodes")]
    assert sorted(nodes) == ["libvirt-1-format", "libvirt-1-storage"]


def test_virtio_disk_and_nic_are_hot_added_on_the_pci_bus(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    dom.attach_device(_disk(make_raw_disk(embed_root / "b.img"), "vdb", "virtio"))
    dom.attach_device("<interface type='user'><model type='virtio'/></interface>")
    assert {"virtio-disk1", "net0"} <= _peripherals(qemu)
    xml = dom.xml_desc()
    assert "<alias name='net0'/>" in xml and "<mac address='52:54:00:" in xml


def test_volume_disk_is_resolved_through_its_pool(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    pool = conn.storage_pool_define_xml(pool_xml("p", embed_root / "pool"))
    pool.build()
    pool.create()
    pool.vol_create_xml(volume_xml("v.img"))
    dom = _guest(conn, embed_root)
    dom.attach_device(
        "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
        "<source pool='p' volume='v.img'/><target dev='sdc' bus='scsi'/></disk>"
    )
    assert "scsi0-0-0-2" in _peripherals(qemu)


def test_a_taken_target_is_refused(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(OperationFailedError) as err:
        dom.attach_device(_disk(make_raw_disk(embed_root / "b.img"), "vda", "virtio"))
    assert str(err.value) == "operation failed: target vda already exists"


def test_other_devices_are_not_hot_pluggable(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(OperationUnsupportedError) as err:
        dom.attach_device("<sound model='ich6'/>")
    assert "live attach of device 'sound' is not supported" in str(err.value)


def test_detaching_an_unknown_disk_names_it(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(DeviceMissingError) as err:
        dom.detach_device(_disk("/nonexistent.img", "vdz", "virtio"))
    assert "disk vdz not found" in str(err.value)


def test_config_attach_and_detach_change_only_the_definition(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    disk = _disk(make_raw_disk(embed_root / "b.img"), "vdb", "virtio")
    dom.attach_device(disk, CONFIG)
    assert "vdb" in dom.xml_desc(2) and "vdb" not in dom.xml_desc()
    assert "vdb" in (embed_root / "etc" / "qemu" / "g.xml").read_text()
    dom.detach_device(disk, CONFIG)
    assert "vdb" not in dom.xml_desc(2)


def _node_names(qemu: QemuDriver) -> list[str]:
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    return sorted(n["node-name"] for n in obj.monitor.execute("query-named-block-nodes"))


def test_hot_added_disk_nodes_follow_the_guests_nodes(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    dom.attach_device(_disk(make_raw_disk(embed_root / "b.img"), "sdb", "scsi"))
    dom.attach_device(_disk(make_raw_disk(embed_root / "c.img"), "sdc", "scsi"))
    assert _node_names(qemu) == [
        "libvirt-1-format",
        "libvirt-1-storage",
        "libvirt-2-format",
        "libvirt-2-storage",
        "libvirt-3-format",
        "libvirt-3-storage",
    ]


def test_failed_device_add_removes_the_disk_nodes_again(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    # The guest's own image is write-locked by vda: QEMU refuses the device.
    with pytest.raises(VirtError) as err:
        dom.attach_device(_disk(str(embed_root / "a.img"), "sdb", "scsi"))
    assert "lock" in str(err.value)
    assert _node_names(qemu) == ["libvirt-1-format", "libvirt-1-storage"]
    assert "sdb" not in dom.xml_desc()
    assert "scsi0-0-0-1" not in _peripherals(qemu)


def test_failed_blockdev_add_removes_the_storage_node_again(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    disk = _disk(make_raw_disk(embed_root / "b.img"), "sdb", "scsi").replace(
        "type='raw'", "type='qcow2'"
    )
    with pytest.raises(VirtError) as err:
        dom.attach_device(disk)
    assert "qcow2" in str(err.value)
    assert _node_names(qemu) == ["libvirt-1-format", "libvirt-1-storage"]


def test_failed_nic_device_add_removes_its_netdev(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    # QEMU cannot load the option ROM: device_add fails after netdev_add.
    with pytest.raises(VirtError) as err:
        dom.attach_device(
            "<interface type='user'><model type='virtio'/>"
            f"<rom file='{embed_root / 'missing.rom'}'/></interface>"
        )
    assert "missing.rom" in str(err.value)
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    network = obj.monitor.execute("human-monitor-command", {"command-line": "info network"})
    assert "net0" not in _peripherals(qemu)
    assert "hostnet0" not in network
    # netdev_add of hostnet0 would fail with a duplicate id had it been left.
    dom.attach_device("<interface type='user'><model type='virtio'/></interface>")
    assert "net0" in _peripherals(qemu)


def test_hot_added_nic_takes_the_next_free_alias(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    dom.attach_device("<interface type='user'><model type='virtio'/></interface>")
    dom.attach_device("<interface type='user'><model type='e1000'/></interface>")
    assert {"net0", "net1"} <= _peripherals(qemu)
    assert "<alias name='net1'/>" in dom.xml_desc()


def _channel(path: Path, name: str = "org.example.0") -> str:
    return (
        f"<channel type='unix'><source mode='bind' path='{path}'/>"
        f"<target type='virtio' name='{name}'/></channel>"
    )


def _chardevs(qemu: QemuDriver) -> set[str]:
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    return {str(entry["label"]) for entry in obj.monitor.execute("query-chardev")}


def test_attached_channel_has_its_chardev_and_port(
    conn: Connection, qemu: QemuDriver, events: EventLog, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, "<controller type='virtio-serial'/>")
    dom.attach_device(_channel(embed_root / "ch.sock"))
    assert "channel0" in _peripherals(qemu)
    assert "charchannel0" in _chardevs(qemu)
    assert (embed_root / "ch.sock").is_socket()
    assert "<alias name='channel0'/>" in dom.xml_desc()
    assert events.wait_for("g", DomainEventID.DEVICE_ADDED, ("channel0",))


def test_detached_channel_leaves_qemu_with_its_chardev(
    conn: Connection, qemu: QemuDriver, events: EventLog, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, "<controller type='virtio-serial'/>")
    channel = _channel(embed_root / "ch.sock")
    dom.attach_device(channel)
    dom.detach_device(channel)
    assert events.wait_for("g", DomainEventID.DEVICE_REMOVED, ("channel0",))
    assert "channel0" not in _peripherals(qemu)
    assert "charchannel0" not in _chardevs(qemu)
    assert "org.example.0" not in dom.xml_desc()


def test_a_second_channel_takes_the_next_alias(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, "<controller type='virtio-serial'/>")
    dom.attach_device(_channel(embed_root / "a.sock", "org.example.a"))
    dom.attach_device(_channel(embed_root / "b.sock", "org.example.b"))
    assert {"channel0", "channel1"} <= _peripherals(qemu)
    assert {"charchannel0", "charchannel1"} <= _chardevs(qemu)


def test_an_equal_channel_is_refused(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root, "<controller type='virtio-serial'/>")
    dom.attach_device(_channel(embed_root / "ch.sock"))
    with pytest.raises(OperationInvalidError) as err:
        dom.attach_device(_channel(embed_root / "ch.sock"))
    assert "chardev already exists" in str(err.value)


def test_failed_serial_port_removes_its_chardev_again(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    before = _chardevs(qemu)
    # ISA devices cannot be hot-plugged: device_add fails after chardev-add.
    with pytest.raises(VirtError) as err:
        dom.attach_device("<serial type='null'><target port='1'/></serial>")
    assert "hotplug" in str(err.value)
    assert _chardevs(qemu) == before


def test_attached_rng_has_its_backend_object(
    conn: Connection, qemu: QemuDriver, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    dom.attach_device("<rng model='virtio'><backend model='builtin'/></rng>")
    obj = qemu.domains.find_by_name("g")
    assert obj is not None and obj.monitor is not None
    objects = {e["name"] for e in obj.monitor.execute("qom-list", {"path": "/objects"})}
    assert "objrng0" in objects
    assert "rng0" in _peripherals(qemu)


def test_detaching_an_unknown_channel_names_its_kind(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(DeviceMissingError) as err:
        dom.detach_device(_channel(embed_root / "nowhere.sock"))
    assert "chr type 'channel' device not present in domain configuration" in str(err.value)


def test_the_serial_console_cannot_be_detached(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(OperationUnsupportedError) as err:
        dom.detach_device("<console type='pty'><target type='serial' port='0'/></console>")
    assert "detaching of <console/> is unsupported" in str(err.value)
