"""External disk-only snapshots of real QEMU guests (TCG), checked with real qemu-img."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from qemu_guests import QEMU_IMG, guest_xml

import virtcore
from virtcore.connection import Connection
from virtcore.enums.domain import DomainRunningReason, DomainState
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ArgumentUnsupportedError,
    ConfigUnsupportedError,
    InvalidArgError,
    NoDomainSnapshotError,
    OperationUnsupportedError,
    SystemCallError,
    VirtError,
    XMLError,
)
from virtcore.hosts import shutdown_hosts
from virtcore.objects import Domain

DISK_ONLY = 1 << 4
NO_METADATA = 1 << 2
REUSE_EXT = 1 << 5
QUIESCE = 1 << 6
ATOMIC = 1 << 7
LIST_INTERNAL = 1 << 8
LIST_EXTERNAL = 1 << 9
DELETE_CHILDREN = 1 << 0
DELETE_METADATA_ONLY = 1 << 1
QEMU_IMG_IO = "/usr/bin/qemu-io"
XML_INACTIVE = 0x2


def _guest(conn: Connection, root: Path, *, start: bool = True, extra: str = "") -> Domain:
    image = root / "d.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(image), "16M"], check=True)
    xml = guest_xml("g", disk_file=str(image)).replace("type='raw'", "type='qcow2'")
    if extra:
        xml = xml.replace("</devices>", extra + "</devices>")
    dom = conn.domain_define_xml(xml)
    if start:
        dom.create()
    return dom


def _chain(path: Path) -> list[str]:
    """The image files of *path*'s backing chain, top first, as qemu-img reads them."""
    out = subprocess.run(
        [QEMU_IMG, "info", "-U", "--output=json", "--backing-chain", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [str(layer["filename"]) for layer in json.loads(out)]


def _snap(dom: Domain, name: str, flags: int = DISK_ONLY, disks: str = "") -> None:
    body = f"<disks>{disks}</disks>" if disks else ""
    dom.snapshot_create_xml(
        f"<domainsnapshot><name>{name}</name>{body}</domainsnapshot>", flags=flags
    )


def _disk_source(xml: str) -> str:
    start = xml.index("<source file='") + len("<source file='")
    return xml[start : xml.index("'", start)]


def test_running_guest_continues_in_an_overlay_on_the_old_image(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    overlay = embed_root / "d.s1"
    assert _chain(overlay) == [str(overlay), str(embed_root / "d.qcow2")]
    assert _disk_source(dom.xml_desc()) == str(overlay)
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)


def test_overlay_is_written_by_the_running_guest_afterwards(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    # QEMU holds the overlay's write lock: the running guest really uses it.
    probe = subprocess.run(
        [QEMU_IMG, "info", str(embed_root / "d.s1")], capture_output=True, text=True, check=False
    )
    assert probe.returncode != 0
    assert "lock" in probe.stderr


def test_persistent_definition_gets_the_overlay_with_its_backing_store(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    inactive = dom.xml_desc(XML_INACTIVE)
    assert (
        f"<source file='{embed_root}/d.s1'/>\n"
        "      <backingStore type='file'>\n"
        "        <format type='qcow2'/>\n"
        f"        <source file='{embed_root}/d.qcow2'/>\n"
        "      </backingStore>"
    ) in inactive


def test_second_snapshot_stacks_a_third_layer(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    _snap(dom, "s2")
    assert _chain(embed_root / "d.s2") == [
        str(embed_root / "d.s2"),
        str(embed_root / "d.s1"),
        str(embed_root / "d.qcow2"),
    ]
    assert dom.snapshot_lookup_by_name("s2").get_parent().name == "s1"


def test_snapshot_document_records_the_external_disk(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    xml = dom.snapshot_lookup_by_name("s1").xml_desc()
    assert "<state>disk-snapshot</state>" in xml
    assert "<memory snapshot='no'/>" in xml
    assert (
        "<disk name='vda' snapshot='external' type='file'>\n"
        "      <driver type='qcow2'/>\n"
        f"      <source file='{embed_root}/d.s1'/>\n"
        "    </disk>"
    ) in xml
    assert "<inactiveDomain type='qemu'>" in xml


def test_shut_off_guest_gets_its_overlay_from_qemu_img(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root, start=False)
    _snap(dom, "off")
    overlay = embed_root / "d.off"
    assert _chain(overlay) == [str(overlay), str(embed_root / "d.qcow2")]
    xml = dom.xml_desc(XML_INACTIVE)
    assert _disk_source(xml) == str(overlay)
    assert "<backingStore" not in xml  # libvirt keeps no chain it did not know
    assert "<state>shutoff</state>" in dom.snapshot_lookup_by_name("off").xml_desc()


def test_guest_boots_from_the_overlay_of_its_shut_off_snapshot(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, start=False)
    _snap(dom, "off")
    dom.create()
    assert _disk_source(dom.xml_desc()) == str(embed_root / "d.off")


def test_external_disk_on_a_shut_off_guest_needs_no_disk_only_flag(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, start=False)
    target = embed_root / "chosen.qcow2"
    _snap(dom, "x", 0, f"<disk name='vda' snapshot='external'><source file='{target}'/></disk>")
    assert _chain(target) == [str(target), str(embed_root / "d.qcow2")]


def test_explicit_overlay_path_is_used(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    target = embed_root / "mine.qcow2"
    _snap(dom, "s1", DISK_ONLY | ATOMIC, f"<disk name='vda'><source file='{target}'/></disk>")
    assert _chain(target) == [str(target), str(embed_root / "d.qcow2")]


def test_reuse_ext_installs_a_prepared_overlay(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    target = embed_root / "pre.qcow2"
    base = embed_root / "d.qcow2"
    subprocess.run(
        [QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(target)],
        check=True,
    )
    disk = f"<disk name='vda'><source file='{target}'/></disk>"
    _snap(dom, "s1", DISK_ONLY | REUSE_EXT, disk)
    assert _disk_source(dom.xml_desc()) == str(target)


def test_reuse_ext_without_the_file_is_libvirts_system_error(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    missing = embed_root / "nope.qcow2"
    with pytest.raises(SystemCallError) as err:
        _snap(
            dom, "s1", DISK_ONLY | REUSE_EXT, f"<disk name='vda'><source file='{missing}'/></disk>"
        )
    assert err.value.message == (
        f"missing existing file for disk vda: {missing}: No such file or directory"
    )


def test_existing_overlay_file_is_refused_without_reuse(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    image = embed_root / "d.qcow2"
    with pytest.raises(ConfigUnsupportedError) as err:
        _snap(dom, "s1", DISK_ONLY, f"<disk name='vda'><source file='{image}'/></disk>")
    assert err.value.message == (
        "unsupported configuration: external snapshot file for disk vda already exists and "
        f"is not a block device: {image}"
    )


def test_raw_overlay_format_is_refused(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(ConfigUnsupportedError, match="is unsupported: raw"):
        _snap(dom, "s1", DISK_ONLY, "<disk name='vda'><driver type='raw'/></disk>")


def test_internal_disk_on_a_running_guest_is_refused(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(ConfigUnsupportedError, match="requested internal"):
        _snap(dom, "s1", DISK_ONLY, "<disk name='vda' snapshot='internal'/>")


def test_no_disk_selected_is_nothing_to_snapshot(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(ConfigUnsupportedError, match="nothing selected for snapshot"):
        _snap(dom, "s1", DISK_ONLY, "<disk name='vda' snapshot='no'/>")


def test_memory_with_disk_only_is_an_xml_error(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(XMLError) as err:
        dom.snapshot_create_xml(
            "<domainsnapshot><name>m</name><memory snapshot='internal'/></domainsnapshot>",
            flags=DISK_ONLY,
        )
    assert err.value.domain == ErrorDomain.DOMAIN_SNAPSHOT
    assert "memory state cannot be saved with offline or disk-only snapshot" in err.value.message


def test_quiesce_without_disk_only_is_an_invalid_argument(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(InvalidArgError) as err:
        _snap(dom, "q", QUIESCE)
    assert err.value.message == (
        "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required by flag "
        "'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'"
    )


def test_quiesce_without_a_guest_agent_is_refused_and_changes_nothing(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(ArgumentUnsupportedError) as err:
        _snap(dom, "q", DISK_ONLY | QUIESCE)
    assert err.value.message == "argument unsupported: QEMU guest agent is not configured"
    assert not (embed_root / "d.q").exists()
    assert dom.snapshot_num() == 0


def test_quiesce_with_an_unconnected_agent_channel_is_unresponsive(
    conn: Connection, embed_root: Path
) -> None:
    channel = (
        f"<channel type='unix'><source mode='bind' path='{embed_root}/agent.sock'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
    )
    dom = _guest(conn, embed_root, extra=channel)
    with pytest.raises(VirtError) as err:
        _snap(dom, "q", DISK_ONLY | QUIESCE)
    assert err.value.code == ErrorNumber.AGENT_UNRESPONSIVE
    assert err.value.message == "Guest agent is not responding: QEMU guest agent is not connected"


def test_no_metadata_snapshot_changes_the_disk_but_keeps_no_record(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "nm", DISK_ONLY | NO_METADATA)
    assert _disk_source(dom.xml_desc()) == str(embed_root / "d.nm")
    assert dom.snapshot_list_names() == []
    with pytest.raises(NoDomainSnapshotError):
        dom.snapshot_lookup_by_name("nm")


def test_revert_to_an_external_snapshot_is_libvirts_unsupported_error(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    with pytest.raises(ConfigUnsupportedError) as err:
        dom.snapshot_lookup_by_name("s1").revert()
    assert err.value.message == (
        "unsupported configuration: revert to external snapshot not supported yet"
    )
    assert err.value.domain == ErrorDomain.QEMU


def test_listing_tells_external_from_internal(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "ext")
    _snap(dom, "int", 0)
    assert dom.snapshot_list_names(LIST_EXTERNAL) == ["ext"]
    assert dom.snapshot_list_names(LIST_INTERNAL) == ["int"]


def test_metadata_only_delete_keeps_the_overlay(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    dom.snapshot_lookup_by_name("s1").delete(DELETE_METADATA_ONLY)
    assert dom.snapshot_list_names() == []
    assert _disk_source(dom.xml_desc()) == str(embed_root / "d.s1")


def test_deleting_a_middle_snapshot_commits_its_overlay_into_its_base(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    for name in ("a", "b", "c"):
        _snap(dom, name)
    dom.snapshot_lookup_by_name("b").delete()
    assert _chain(embed_root / "d.c") == [
        str(embed_root / "d.c"),
        str(embed_root / "d.a"),
        str(embed_root / "d.qcow2"),
    ]
    assert not (embed_root / "d.b").exists()
    assert dom.snapshot_lookup_by_name("c").get_parent().name == "a"


def test_deleting_the_top_snapshot_pivots_the_running_guest_to_the_base(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "a")
    _snap(dom, "b")
    dom.snapshot_lookup_by_name("b").delete()
    assert _disk_source(dom.xml_desc()) == str(embed_root / "d.a")
    assert _disk_source(dom.xml_desc(XML_INACTIVE)) == str(embed_root / "d.a")
    assert not (embed_root / "d.b").exists()
    assert dom.snapshot_current().name == "a"


def test_merged_data_reaches_the_base_image(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root, start=False)
    _snap(dom, "a")
    overlay = embed_root / "d.a"
    subprocess.run(
        [QEMU_IMG_IO, "-c", "write -P 0x5a 0 64k", str(overlay)], check=True, capture_output=True
    )
    dom.snapshot_lookup_by_name("a").delete()
    read = subprocess.run(
        [QEMU_IMG_IO, "-c", "read -P 0x5a 0 64k", str(embed_root / "d.qcow2")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Pattern verification failed" not in read.stdout
    assert _disk_source(dom.xml_desc(XML_INACTIVE)) == str(embed_root / "d.qcow2")


def test_deleting_a_shut_off_snapshot_rebases_the_image_above(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root, start=False)
    _snap(dom, "a")
    _snap(dom, "b")
    dom.snapshot_lookup_by_name("a").delete()
    assert _chain(embed_root / "d.b") == [str(embed_root / "d.b"), str(embed_root / "d.qcow2")]
    assert not (embed_root / "d.a").exists()


def test_deleting_external_children_is_refused(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "a")
    _snap(dom, "b")
    with pytest.raises(ConfigUnsupportedError) as err:
        dom.snapshot_lookup_by_name("a").delete(DELETE_CHILDREN)
    assert err.value.message == (
        "unsupported configuration: deletion of external children disk snapshots not supported"
    )
    assert sorted(dom.snapshot_list_names()) == ["a", "b"]


def test_external_snapshot_metadata_survives_a_new_host(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root, start=False)
    _snap(dom, "a")
    before = dom.snapshot_lookup_by_name("a").xml_desc()
    conn.close()
    shutdown_hosts()
    again = virtcore.open(f"qemu:///embed?root={embed_root}")
    try:
        dom = again.domain_lookup_by_name("g")
        assert dom.snapshot_lookup_by_name("a").xml_desc() == before
        assert dom.snapshot_list_names(LIST_EXTERNAL) == ["a"]
        assert _disk_source(dom.xml_desc(XML_INACTIVE)) == str(embed_root / "d.a")
    finally:
        again.close()


def test_domain_listing_filters_on_having_snapshots(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root, start=False)
    has_snapshot, no_snapshot = 1 << 12, 1 << 13
    assert conn.list_all_domains(no_snapshot)[0].name == "g"
    _snap(dom, "a")
    assert [d.name for d in conn.list_all_domains(has_snapshot)] == ["g"]
    assert conn.list_all_domains(no_snapshot) == []


def test_unknown_disk_is_the_snapshot_parsers_error(conn: Connection, embed_root: Path) -> None:
    dom = _guest(conn, embed_root)
    with pytest.raises(ConfigUnsupportedError) as err:
        _snap(dom, "u", DISK_ONLY, "<disk name='vdz'/>")
    assert err.value.message == "unsupported configuration: no disk named 'vdz'"
    assert err.value.domain == ErrorDomain.DOMAIN_SNAPSHOT


def test_internal_snapshot_of_an_image_no_longer_in_use_cannot_be_deleted(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "int", 0)
    _snap(dom, "ext")
    with pytest.raises(OperationUnsupportedError) as err:
        dom.snapshot_lookup_by_name("int").delete()
    assert err.value.message == (
        "Operation not supported: disk image 'vda' for internal snapshot 'int' is not the "
        "same as disk image currently used by VM"
    )
    dom.snapshot_lookup_by_name("int").delete(DELETE_METADATA_ONLY)
    assert dom.snapshot_list_names() == ["ext"]


@pytest.mark.parametrize("running", [True, False], ids=["running", "shut-off"])
def test_raw_image_gets_a_qcow2_overlay_that_names_its_format(
    conn: Connection, embed_root: Path, running: bool
) -> None:
    image = embed_root / "d.img"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "raw", str(image), "1M"], check=True)
    dom = conn.domain_define_xml(guest_xml("g", disk_file=str(image)))
    if running:
        dom.create()
    _snap(dom, "s")
    info = subprocess.run(
        [QEMU_IMG, "info", "-U", "--output=json", str(embed_root / "d.s")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    layer = json.loads(info)
    assert (layer["format"], layer["backing-filename-format"]) == ("qcow2", "raw")
    assert layer["virtual-size"] == 1024 * 1024


# -- the live XML's backing chain ----------------------------------------------------


def test_live_xml_after_a_snapshot_ends_the_chain_as_libvirt_does(
    conn: Connection, embed_root: Path
) -> None:
    dom = _guest(conn, embed_root)
    _snap(dom, "s1")
    live = dom.xml_desc()
    disk = live[live.index("<disk") : live.index("</disk>")]
    assert f"<source file='{embed_root}/d.s1' index='" in disk
    assert (
        "        <format type='qcow2'/>\n"
        f"        <source file='{embed_root}/d.qcow2'/>\n"
        "        <backingStore/>\n"
        "      </backingStore>"
    ) in disk


def _numbered_guest(images: Path) -> str:
    top, base, raw = images / "top.qcow2", images / "b.qcow2", images / "r.img"
    for argv in (
        ["-f", "qcow2", str(base), "1M"],
        ["-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)],
        ["-f", "raw", str(raw), "1M"],
    ):
        subprocess.run([QEMU_IMG, "create", "-q", *argv], check=True)
    disks = (
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{top}'/><target dev='vda' bus='virtio'/></disk>"
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{raw}'/><target dev='vdb' bus='virtio'/></disk>"
    )
    return (
        "<domain type='qemu'><name>ext-chain</name><memory unit='MiB'>32</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        f"<emulator>/usr/bin/qemu-system-x86_64</emulator>{disks}"
        "<controller type='usb' model='none'/><memballoon model='none'/></devices></domain>"
    )


def _chains(xml: str) -> list[str]:
    from lxml import etree

    root = etree.fromstring(xml.encode())
    return [
        "".join(
            etree.tostring(node).decode()
            for node in disk
            if isinstance(node.tag, str) and node.tag in ("source", "backingStore")
        )
        for disk in root.iterfind("devices/disk")
    ]


def test_overlays_are_numbered_after_the_chains_as_libvirt_numbers_them(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from qemu_libvirt_oracle import shared_qemu_oracle

    from virtcore.xml.domain import Domain as DomainDef
    from virtcore_qemu.chain import fill_live_chains
    from virtcore_qemu.snapshots_external import ExternalDisk, switch_to_overlay

    oracle = shared_qemu_oracle(tmp_path_factory)
    xml = _numbered_guest(tmp_path)
    path = tmp_path / "guest.xml"
    path.write_text(xml)
    created = oracle.virsh("create", "--paused", str(path))
    assert created.returncode == 0, created.stderr
    try:
        made = oracle.virsh("snapshot-create-as", "ext-chain", "s1", "--disk-only")
        assert made.returncode == 0, made.stderr
        expected = oracle.virsh("dumpxml", "ext-chain", check=True).stdout
    finally:
        oracle.virsh("destroy", "ext-chain")
    live = DomainDef.parse(xml.replace("type='qemu'>", "type='qemu' id='1'>", 1), inactive=False)
    fill_live_chains(live)
    for target, image, fmt in (("vda", "top.qcow2", "qcow2"), ("vdb", "r.img", "raw")):
        stem = image.rsplit(".", 1)[0]
        disk = ExternalDisk(target, str(tmp_path / image), fmt, f"{tmp_path}/{stem}.s1", "qcow2")
        switch_to_overlay(live, disk, keep_backing=True, live=True)
    assert _chains(live.format(live=True)) == _chains(expected)
