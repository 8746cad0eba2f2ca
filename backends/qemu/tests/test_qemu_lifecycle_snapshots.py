"""Internal snapshots of real QEMU guests (TCG) on qcow2 images."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from qemu_guests import QEMU_IMG, EventLog, guest_xml, make_raw_disk

from virtcore.connection import Connection
from virtcore.enums.domain import DomainRunningReason, DomainShutoffReason, DomainState
from virtcore.enums.domain_events import (
    DomainEventDefinedDetailType,
    DomainEventID,
    DomainEventResumedDetailType,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventType,
)
from virtcore.errors import ConfigUnsupportedError, NoDomainSnapshotError, OperationInvalidError
from virtcore.hosts import shutdown_hosts
from virtcore.objects import Domain
from virtcore.state import Host
from virtcore_qemu.state import QemuStateDriver


def _qcow2_guest(conn: Connection, root: Path, *, start: bool = True) -> Domain:
    image = root / "d.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(image), "16M"], check=True)
    xml = guest_xml("g", disk_file=str(image)).replace("type='raw'", "type='qcow2'")
    dom = conn.domain_define_xml(xml)
    if start:
        dom.create()
    return dom


def _image_tags(root: Path) -> list[str]:
    out = subprocess.run(
        [QEMU_IMG, "snapshot", "-U", "-l", str(root / "d.qcow2")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split()[1] for line in out.splitlines()[2:] if line.strip()]


def _snapshot(dom: Domain, name: str) -> None:
    dom.snapshot_create_xml(f"<domainsnapshot><name>{name}</name></domainsnapshot>")


def test_snapshot_of_a_running_guest_lands_in_the_image(conn: Connection, embed_root: Path) -> None:
    dom = _qcow2_guest(conn, embed_root)
    _snapshot(dom, "s1")
    assert _image_tags(embed_root) == ["s1"]
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.UNPAUSED)
    assert "<state>running</state>" in dom.snapshot_lookup_by_name("s1").xml_desc()


def test_snapshots_form_a_tree_with_a_current_one(conn: Connection, embed_root: Path) -> None:
    dom = _qcow2_guest(conn, embed_root)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    s2 = dom.snapshot_lookup_by_name("s2")
    assert s2.get_parent().name == "s1"
    assert s2.is_current() and not dom.snapshot_lookup_by_name("s1").is_current()
    assert [s.name for s in dom.list_all_snapshots()] == ["s1", "s2"]
    assert [s.name for s in dom.list_all_snapshots(1)] == ["s1"]  # roots only


def test_revert_loads_the_snapshot_into_the_running_guest(
    conn: Connection, events: EventLog, embed_root: Path
) -> None:
    dom = _qcow2_guest(conn, embed_root)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    dom.snapshot_lookup_by_name("s1").revert()
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.FROM_SNAPSHOT)
    assert dom.snapshot_lookup_by_name("s1").is_current()
    # libvirt's sequence: the old QEMU stops, a new one starts from the snapshot.
    expected = [
        (DomainEventType.STOPPED, DomainEventStoppedDetailType.FROM_SNAPSHOT),
        (DomainEventType.STARTED, DomainEventStartedDetailType.FROM_SNAPSHOT),
        (DomainEventType.RESUMED, DomainEventResumedDetailType.FROM_SNAPSHOT),
        (DomainEventType.DEFINED, DomainEventDefinedDetailType.FROM_SNAPSHOT),
    ]
    assert events.wait_for("g", DomainEventID.LIFECYCLE, expected[-1])
    assert events.lifecycle("g")[-4:] == expected


def test_revert_of_a_stopped_guest_to_a_running_snapshot_starts_it(
    conn: Connection, embed_root: Path
) -> None:
    dom = _qcow2_guest(conn, embed_root)
    _snapshot(dom, "s1")
    dom.destroy()
    dom.snapshot_lookup_by_name("s1").revert()
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.FROM_SNAPSHOT)


def test_snapshot_of_a_stopped_guest_is_taken_with_qemu_img(
    conn: Connection, embed_root: Path
) -> None:
    dom = _qcow2_guest(conn, embed_root, start=False)
    _snapshot(dom, "off")
    assert _image_tags(embed_root) == ["off"]
    assert "<state>shutoff</state>" in dom.snapshot_lookup_by_name("off").xml_desc()
    dom.create()
    dom.snapshot_lookup_by_name("off").revert()
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.FROM_SNAPSHOT)


def test_delete_with_children_removes_the_subtree(conn: Connection, embed_root: Path) -> None:
    dom = _qcow2_guest(conn, embed_root)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    dom.snapshot_lookup_by_name("s1").delete(1)
    assert dom.list_all_snapshots() == []
    assert _image_tags(embed_root) == []
    assert not dom.has_current_snapshot()


def test_deleting_a_middle_snapshot_reparents_its_children(
    conn: Connection, embed_root: Path
) -> None:
    dom = _qcow2_guest(conn, embed_root)
    for name in ("s1", "s2", "s3"):
        _snapshot(dom, name)
    dom.snapshot_lookup_by_name("s2").delete()
    assert dom.snapshot_lookup_by_name("s3").get_parent().name == "s1"
    assert _image_tags(embed_root) == ["s1", "s3"]


def test_unknown_snapshot_and_missing_current_are_libvirts_errors(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    with pytest.raises(NoDomainSnapshotError) as err:
        dom.snapshot_lookup_by_name("nope")
    assert "no domain snapshot with matching name 'nope'" in str(err.value)
    with pytest.raises(NoDomainSnapshotError) as current:
        dom.snapshot_current()
    assert "the domain does not have a current snapshot" in str(current.value)


def test_raw_disks_cannot_hold_internal_snapshots(conn: Connection, embed_root: Path) -> None:
    dom = conn.domain_define_xml(guest_xml("g", disk_file=make_raw_disk(embed_root / "r.img")))
    dom.create()
    with pytest.raises(ConfigUnsupportedError) as err:
        _snapshot(dom, "s1")
    assert "internal snapshot for disk vda unsupported for storage type raw" in str(err.value)


def test_undefine_refuses_a_domain_with_snapshots_unless_told(
    conn: Connection, embed_root: Path
) -> None:
    dom = _qcow2_guest(conn, embed_root, start=False)
    _snapshot(dom, "off")
    with pytest.raises(OperationInvalidError) as err:
        dom.undefine()
    assert "cannot delete inactive domain with 1 snapshots" in str(err.value)
    dom.undefine(0x2)
    assert not (embed_root / "lib" / "qemu" / "snapshot" / "g").exists()


def test_snapshot_metadata_survives_a_new_host(conn: Connection, embed_root: Path) -> None:
    dom = _qcow2_guest(conn, embed_root, start=False)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    conn.close()
    shutdown_hosts()
    host = Host([QemuStateDriver()], privileged=False, root=embed_root)
    host.initialize()
    try:
        state = host.driver("qemu")
        assert isinstance(state, QemuStateDriver) and state.driver is not None
        obj = state.driver.domains.find_by_name("g")
        assert obj is not None
        assert sorted(obj.snapshots) == ["s1", "s2"]
        assert obj.current_snapshot == "s2"
        assert obj.snapshots["s2"].parent_name == "s1"
    finally:
        host.shutdown()
