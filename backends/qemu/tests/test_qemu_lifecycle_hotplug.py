"""Disk and NIC hot-plug on real QEMU guests (TCG).

SCSI disks leave QEMU at once on ``device_del``; PCI devices would wait for a
guest OS that these tiny guests do not have, so removals are tested on SCSI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qemu_guests import EventLog, guest_xml, make_raw_disk, pool_xml, volume_xml

from virtcore.connection import Connection
from virtcore.enums.domain_events import DomainEventID
from virtcore.errors import DeviceMissingError, OperationFailedError, OperationUnsupportedError
from virtcore.objects import Domain
from virtcore_qemu.state import QemuDriver

CONFIG = 0x2


def _guest(conn: Connection, root: Path) -> Domain:
    xml = guest_xml("g", disk_file=make_raw_disk(root / "a.img")).replace(
        "<devices>",
        "<features><acpi/></features><devices><controller type='scsi' model='virtio-scsi'/>",
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
