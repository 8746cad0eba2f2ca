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
from virtcore.errors import (
    ConfigUnsupportedError,
    NoDomainSnapshotError,
    OperationInvalidError,
    VirtError,
)
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


# -- REDEFINE and CURRENT ----------------------------------------------------------------

REDEFINE, CURRENT, NO_METADATA, HALT, DISK_ONLY = 1, 2, 4, 8, 16
DELETE_METADATA_ONLY = 2
GUEST_UUID = "11111111-2222-3333-4444-555555555555"


def _saved_pair(conn: Connection, root: Path) -> tuple[Domain, str, str]:
    """A shut-off guest whose snapshots s1 <- s2 were dumped, then their metadata dropped."""
    dom = _qcow2_guest(conn, root, start=False)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    s1 = dom.snapshot_lookup_by_name("s1").xml_desc()
    s2 = dom.snapshot_lookup_by_name("s2").xml_desc()
    dom.snapshot_lookup_by_name("s2").delete(DELETE_METADATA_ONLY)
    dom.snapshot_lookup_by_name("s1").delete(DELETE_METADATA_ONLY)
    return dom, s1, s2


def _metadata(root: Path, name: str) -> str:
    return (root / "lib" / "qemu" / "snapshot" / "g" / f"{name}.xml").read_text()


def test_redefine_restores_dropped_metadata_as_it_was(conn: Connection, embed_root: Path) -> None:
    dom, s1, s2 = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE)
    dom.snapshot_create_xml(s2, REDEFINE)
    assert dom.snapshot_lookup_by_name("s1").xml_desc() == s1
    assert dom.snapshot_lookup_by_name("s2").xml_desc() == s2
    assert dom.snapshot_lookup_by_name("s2").get_parent().name == "s1"
    assert _image_tags(embed_root) == ["s1", "s2"]  # the images are not touched


def test_redefine_without_current_leaves_no_current_snapshot(
    conn: Connection, embed_root: Path
) -> None:
    dom, s1, _ = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE)
    assert not dom.has_current_snapshot()
    assert "<active>0</active>" in _metadata(embed_root, "s1")


def test_redefine_with_current_moves_the_marker(conn: Connection, embed_root: Path) -> None:
    dom, s1, s2 = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE | CURRENT)
    dom.snapshot_create_xml(s2, REDEFINE | CURRENT)
    assert dom.snapshot_current().name == "s2"
    assert "<active>1</active>" in _metadata(embed_root, "s2")
    assert "<active>0</active>" in _metadata(embed_root, "s1")


def test_redefining_an_existing_snapshot_keeps_its_children_and_current_marker(
    conn: Connection, embed_root: Path
) -> None:
    dom, s1, s2 = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE | CURRENT)
    dom.snapshot_create_xml(s2, REDEFINE)
    described = s1.replace("<name>s1</name>", "<name>s1</name>\n  <description>new</description>")
    dom.snapshot_create_xml(described, REDEFINE)
    s1_now = dom.snapshot_lookup_by_name("s1")
    assert "<description>new</description>" in s1_now.xml_desc()
    assert s1_now.is_current()
    assert [c.name for c in s1_now.list_all_children()] == ["s2"]


def test_a_replacement_without_domain_keeps_the_recorded_one(
    conn: Connection, embed_root: Path
) -> None:
    dom, s1, _ = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE)
    start, end = s1.index("  <domain type="), s1.index("</domain>") + len("</domain>\n")
    dom.snapshot_create_xml(s1[:start] + s1[end:], REDEFINE)
    assert dom.snapshot_lookup_by_name("s1").xml_desc() == s1


def test_redefined_metadata_survives_a_new_host(conn: Connection, embed_root: Path) -> None:
    dom, s1, s2 = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE | CURRENT)
    dom.snapshot_create_xml(s2, REDEFINE)
    conn.close()
    shutdown_hosts()
    host = Host([QemuStateDriver()], privileged=False, root=embed_root)
    host.initialize()
    try:
        state = host.driver("qemu")
        assert isinstance(state, QemuStateDriver) and state.driver is not None
        obj = state.driver.domains.find_by_name("g")
        assert obj is not None
        assert (sorted(obj.snapshots), obj.current_snapshot) == (["s1", "s2"], "s1")
    finally:
        host.shutdown()


def _mutations(s1: str, s2: str, uuid: str) -> list[tuple[str, str, int]]:
    """(case, document, flags) of refused redefinitions; s1 and s2 are redefined first."""
    state = "<state>shutoff</state>"
    creation = s1[s1.index("  <creationTime>") : s1.index("</creationTime>") + 16]
    renamed = s1.replace("<name>s1</name>", "<name>s3</name>", 1)
    other_uuid = uuid[:-1] + ("1" if uuid.endswith("0") else "0")
    return [
        ("own parent", s1.replace(state, f"{state}<parent><name>s1</name></parent>"), 0),
        ("cycle", s1.replace(state, f"{state}<parent><name>s2</name></parent>"), 0),
        ("unknown parent", s2.replace("<name>s1</name>", "<name>nope</name>"), 0),
        ("online", s1.replace(state, "<state>running</state>"), 0),
        ("disk-only state", s1.replace(state, "<state>disk-snapshot</state>"), 0),
        ("uuid", s1.replace(f"<uuid>{uuid}</uuid>", f"<uuid>{other_uuid}</uuid>"), 0),
        ("no name", s1.replace("<name>s1</name>", "", 1), 0),
        ("no creation time", s1.replace(creation, ""), 0),
        ("no domain", renamed[: renamed.index("  <domain type=")] + "</domainsnapshot>\n", 0),
        ("disk-only flag", s1.replace("<name>s1</name>", "<name>s4</name>", 1), DISK_ONLY),
        ("slash", s1.replace("<name>s1</name>", "<name>a/b</name>", 1), 0),
    ]


def _errors(dom: Domain, s1: str, s2: str, uuid: str) -> dict[str, str]:
    found = {}
    for case, doc, flags in _mutations(s1, s2, uuid):
        with pytest.raises(VirtError) as caught:
            dom.snapshot_create_xml(doc, REDEFINE | flags)
        found[case] = caught.value.message
    return found


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (CURRENT, "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag "
                  "'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'"),
        (REDEFINE | NO_METADATA, "Flags 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' and "
                                 "'VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA' are mutually exclusive"),
        (REDEFINE | HALT, "Flags 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' and "
                          "'VIR_DOMAIN_SNAPSHOT_CREATE_HALT' are mutually exclusive"),
    ],
)  # fmt: skip
def test_redefine_flag_rules(conn: Connection, embed_root: Path, flags: int, message: str) -> None:
    dom = _qcow2_guest(conn, embed_root, start=False)
    with pytest.raises(VirtError) as caught:
        dom.snapshot_create_xml("<domainsnapshot/>", flags)
    assert caught.value.message == message


def test_refused_redefinitions_name_the_problem(conn: Connection, embed_root: Path) -> None:
    dom, s1, s2 = _saved_pair(conn, embed_root)
    dom.snapshot_create_xml(s1, REDEFINE)
    dom.snapshot_create_xml(s2, REDEFINE)
    uuid = dom.uuid
    errors = _errors(dom, s1, s2, uuid)
    assert errors["own parent"] == "invalid argument: cannot set moment s1 as its own parent"
    assert errors["cycle"] == "invalid argument: parent s2 would create cycle to s1"
    assert errors["uuid"] == f"invalid argument: definition for snapshot s1 must use uuid {uuid}"
    assert errors["no domain"] == "internal error: missing domain in snapshot"
    assert sorted(s.name for s in dom.list_all_snapshots()) == ["s1", "s2"]


def test_refused_redefinitions_match_libvirt(
    conn: Connection, embed_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from qemu_libvirt_oracle import shared_qemu_oracle

    oracle = shared_qemu_oracle(tmp_path_factory)
    image = embed_root / "d.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(image), "16M"], check=True)
    xml = (
        guest_xml("g", disk_file=str(image), uuid=GUEST_UUID)
        .replace("type='raw'", "type='qcow2'")
        .replace("<devices>", "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>")
    )
    dom = conn.domain_define_xml(xml)
    _snapshot(dom, "s1")
    _snapshot(dom, "s2")
    s1 = dom.snapshot_lookup_by_name("s1").xml_desc()
    s2 = dom.snapshot_lookup_by_name("s2").xml_desc()
    ours = _errors(dom, s1, s2, GUEST_UUID)
    work = embed_root / "oracle"
    work.mkdir()
    (work / "g.xml").write_text(xml)
    assert oracle.virsh("define", str(work / "g.xml")).returncode == 0
    try:
        theirs = {}
        for name, doc in (("s1", s1), ("s2", s2)):
            (work / name).write_text(doc)
            made = oracle.virsh("snapshot-create", "g", str(work / name), "--redefine")
            assert made.returncode == 0, made.stderr
        for case, doc, flags in _mutations(s1, s2, GUEST_UUID):
            (work / "doc").write_text(doc)
            extra = ["--disk-only"] if flags & DISK_ONLY else []
            done = oracle.virsh("snapshot-create", "g", str(work / "doc"), "--redefine", *extra)
            assert done.returncode != 0, case
            theirs[case] = done.stderr.strip().splitlines()[-1].removeprefix("error: ")
    finally:
        oracle.virsh("undefine", "g", "--snapshots-metadata")
    assert ours == theirs
