"""The shortcuts of the devices' parse, post-parse and validation keep libvirt's answers.

Disks are inserted in name order without comparing each new disk with every
disk of its bus, ``<devices>`` is read from the child index the domain's
reader made, device records are copied from their defaults, readers skip the
attributes and children an element does not have, the primary video card is
post-parsed again only when that can change it, and the character devices
are resolved from copies made once. Each test pins one of those against what
the general path gives.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from lxml import etree

from tests.xml.device_snippets import error, written
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.childindex import all_children, first_child, indexed_reading
from virtcore.xml.domain.devices import DomainDeviceContext
from virtcore.xml.domain.devices.chardev import (
    ChardevModel,
    ChrDef,
    ChrSourceDef,
    chardev_copies,
    resolve_chardevs,
    resolve_copies,
)
from virtcore.xml.domain.devices.controller import ControllerDef, check_usb_masters
from virtcore.xml.domain.devices.disk import DiskDef, disk_name_index, drive_address_for
from virtcore.xml.domain.devices.graphics import Graphics
from virtcore.xml.domain.devices.interface import InterfaceDef, assign_test_ifnames
from virtcore.xml.domain.devices.memballoon import MemBalloon, MemBalloonDef
from virtcore.xml.domain.devices.pipeline import parse_devices
from virtcore.xml.domain.devices.source import new_source, parse_source
from virtcore.xml.domain.devices.support import DeviceContext, DeviceInfo
from virtcore.xml.domain.devices.video import Video, VideoDef, resolve_videos

# -- disks kept in name order ----------------------------------------------------------------


def _libvirt_order(disks: list[DiskDef]) -> list[DiskDef]:
    """``virDomainDiskInsert`` applied to *disks* one by one, as libvirt writes it."""
    ordered: list[DiskDef] = []
    for new in disks:
        if new.dst is None:
            ordered.append(new)
            continue
        mine = disk_name_index(new.dst)
        mine = -1 if mine is None else mine
        insert_at = -1
        for position in range(len(ordered) - 1, -1, -1):
            current = ordered[position]
            if current.bus != new.bus:
                continue
            theirs = disk_name_index(current.dst or "")
            if (-1 if theirs is None else theirs) > mine:
                insert_at = position
            elif insert_at == -1:
                insert_at = position + 1
        if insert_at == -1:
            ordered.append(new)
        else:
            ordered.insert(insert_at, new)
    return ordered


def _disk_element(dst: str | None, bus: str | None, path: str = "/a") -> str:
    target = "" if dst is None else f"<target dev='{dst}'" + (f" bus='{bus}'/>" if bus else "/>")
    return f"<disk type='file'><source file='{path}'/>{target}</disk>"


_NAMES = ("vda", "vdb", "vdc", "vdaa", "vdz", "sda", "sdb", "hda", "hdc", "xyz", None)
_BUSES = ("virtio", "scsi", "ide", None)


@pytest.mark.parametrize("seed", range(200))
def test_disks_are_ordered_as_libvirt_inserts_them(seed: int) -> None:
    chance = random.Random(seed)
    picks = [(chance.choice(_NAMES), chance.choice(_BUSES)) for _ in range(chance.randint(1, 7))]
    node = etree.fromstring(
        "<devices>"
        + "".join(_disk_element(d, b, f"/{i}") for i, (d, b) in enumerate(picks))
        + "</devices>"
    )
    parsed = parse_devices(node, DomainDeviceContext()).by_tag["disk"]
    disks = [d for d in parsed if isinstance(d, DiskDef)]
    assert len(disks) == len(picks)
    in_document = sorted(disks, key=lambda d: int((d.src.path or "/0")[1:]))
    assert [d.src.path for d in disks] == [d.src.path for d in _libvirt_order(in_document)]


def test_a_disk_without_a_name_leaves_later_disks_ordered_among_all_of_their_bus() -> None:
    # After the unnamed disk (index -1), vda still goes before vdb, as libvirt puts it.
    node = etree.fromstring(
        "<devices>"
        + _disk_element("vdb", "virtio")
        + "<disk type='file'><source file='/none'/><target bus='virtio'/></disk>"
        + _disk_element("vda", "virtio")
        + "</devices>"
    )
    disks = parse_devices(node, DomainDeviceContext()).by_tag["disk"]
    assert [getattr(d, "dst", None) for d in disks] == ["vda", "vdb", None]


def test_after_a_disk_without_a_name_every_disk_of_the_bus_is_looked_at() -> None:
    # vda comes after vdc and the unnamed disk, but before vdb at the front.
    node = etree.fromstring(
        "<devices>"
        + _disk_element("vdb", "virtio")
        + "<disk type='file'><source file='/none'/><target bus='virtio'/></disk>"
        + _disk_element("vdc", "virtio")
        + _disk_element("vda", "virtio")
        + "</devices>"
    )
    disks = parse_devices(node, DomainDeviceContext()).by_tag["disk"]
    assert [getattr(d, "dst", None) for d in disks] == ["vda", "vdb", None, "vdc"]


def test_disks_of_two_buses_stay_grouped_by_bus() -> None:
    node = etree.fromstring(
        "<devices>"
        + _disk_element("vdb", "virtio")
        + _disk_element("hdc", "ide")
        + _disk_element("vda", "virtio")
        + _disk_element("vdc", "virtio")
        + "</devices>"
    )
    disks = parse_devices(node, DomainDeviceContext()).by_tag["disk"]
    assert [getattr(d, "dst", None) for d in disks] == ["vda", "vdb", "vdc", "hdc"]


# -- <devices> read from the child index ---------------------------------------------------


_BODY = (
    "<devices xmlns:x='urn:x'><!-- a comment --><x:disk/>"
    "<emulator>/usr/bin/qemu</emulator>"
    + _disk_element("vdb", "virtio")
    + _disk_element("vda", "virtio")
    + "<console type='pty'/><x:console/><unknown/><memballoon model='none'/></devices>"
)


def test_devices_read_within_an_indexed_read_are_those_read_without_it() -> None:
    plain = parse_devices(etree.fromstring(_BODY), DomainDeviceContext())
    node = etree.fromstring(_BODY)
    with indexed_reading():
        first_child(node, "audio")  # as the domain's reader asks, which indexes <devices>
        indexed = parse_devices(node, DomainDeviceContext())
    assert indexed == plain
    assert indexed.emulator == "/usr/bin/qemu"
    assert [len(indexed.by_tag[t]) for t in ("disk", "console", "memballoon")] == [2, 1, 1]


def test_reading_the_devices_leaves_the_child_index_as_it_was() -> None:
    node = etree.fromstring(_BODY)
    with indexed_reading():
        before = [e.tag for e in all_children(node, "disk")]
        parse_devices(node, DomainDeviceContext())
        after = [e.tag for e in all_children(node, "disk")]
    assert before == after == ["disk", "disk"]


# -- records made from their defaults -------------------------------------------------------


def test_a_bare_video_is_the_record_the_dataclass_makes() -> None:
    parsed = Video.read(etree.fromstring("<video/>"), DeviceContext())
    assert parsed == VideoDef()


def test_records_read_alike_share_no_container() -> None:
    ctx = DeviceContext()
    videos = [Video.read(etree.fromstring("<video/>"), ctx) for _ in range(2)]
    assert videos[0].info is not videos[1].info
    consoles = [ChardevModel.read(etree.fromstring("<console/>"), ctx) for _ in range(2)]
    assert consoles[0].source.seclabels is not consoles[1].source.seclabels
    assert consoles[0].info is not consoles[1].info
    balloons = [MemBalloon.read(etree.fromstring("<memballoon model='xen'/>"), ctx) for _ in "ab"]
    assert balloons[0].info is not balloons[1].info


def test_a_bare_memballoon_is_the_record_the_dataclass_makes() -> None:
    parsed = MemBalloon.read(etree.fromstring("<memballoon model='virtio'/>"), DeviceContext())
    assert parsed == MemBalloonDef(model="virtio")


def test_a_bare_console_has_the_source_and_info_the_dataclasses_make() -> None:
    parsed = ChardevModel.read(etree.fromstring("<console type='pty'/>"), DeviceContext())
    assert parsed == ChrDef(device_type="console", source=ChrSourceDef(type="pty"))


def test_a_console_with_only_a_comment_inside_reads_as_a_bare_one() -> None:
    ctx = DeviceContext()
    bare = ChardevModel.read(etree.fromstring("<console type='pty'/>"), ctx)
    nested = ChardevModel.read(etree.fromstring("<console type='pty'><!-- c --></console>"), ctx)
    assert bare == nested


def test_a_bare_channel_still_needs_a_target_type() -> None:
    with pytest.raises(VirtError) as caught:
        ChardevModel.read(etree.fromstring("<channel type='pty'/>"), DeviceContext())
    assert "target type must be specified for channel device" in caught.value.message


# -- attributes and children read only when present -----------------------------------------


def test_a_video_reads_only_the_model_attributes_of_no_namespace() -> None:
    parsed = Video.read(
        etree.fromstring(
            "<video xmlns:x='urn:x'><model type='vga' x:vram='4096' heads='2' primary='yes'/>"
            "<alias name='ua-v'/></video>"
        ),
        DeviceContext(),
    )
    assert (parsed.type, parsed.vram, parsed.heads, parsed.primary) == ("vga", 0, 2, True)
    assert parsed.info.alias == "ua-v"


def test_an_empty_video_size_counts_as_absent() -> None:
    parsed = Video.read(
        etree.fromstring("<video><model type='vga' vram=''/></video>"), DeviceContext()
    )
    assert parsed.vram == 0


def test_an_invalid_video_size_is_still_refused_in_libvirts_order() -> None:
    exc = error("<video><model type='vga' vram='x' heads='y'/></video>")
    assert exc.message == "XML error: cannot parse video vram 'x'"


def test_a_memballoon_with_a_switch_reads_it() -> None:
    parsed = MemBalloon.read(
        etree.fromstring("<memballoon model='virtio' autodeflate='on'/>"), DeviceContext()
    )
    assert (parsed.autodeflate, parsed.free_page_reporting) == (True, None)


def test_a_memballoon_with_children_reads_them() -> None:
    parsed = MemBalloon.read(
        etree.fromstring(
            "<memballoon model='virtio'><stats period='10'/><alias name='ua-b'/>"
            "<driver iommu='on'/></memballoon>"
        ),
        DeviceContext(),
    )
    assert (parsed.period, parsed.info.alias) == (10, "ua-b")
    assert parsed.virtio is not None and parsed.virtio.iommu is True


def test_a_memballoon_of_model_none_keeps_no_alias() -> None:
    parsed = MemBalloon.read(
        etree.fromstring("<memballoon model='none'><alias name='ua-b'/></memballoon>"),
        DeviceContext(),
    )
    assert parsed.info == DeviceInfo()


def test_a_memballoon_without_a_model_is_refused_before_its_switches() -> None:
    exc = error("<memballoon autodeflate='x'/>")
    assert "Missing required attribute 'model'" in exc.message


def test_an_interface_with_more_attributes_than_its_type_reads_them() -> None:
    out = written(
        "<interface type='network' trustGuestRxFilters='yes'>"
        "<mac address='52:54:00:00:00:01' type='static' check='no'/>"
        "<source network='default'/></interface>"
    )
    assert "trustGuestRxFilters='yes'" in out
    assert "<mac address='52:54:00:00:00:01' type='static' check='no'/>" in out


def test_an_invalid_mac_type_beside_the_address_is_refused() -> None:
    exc = error(
        "<interface type='network'><mac address='52:54:00:00:00:01' type='x'/>"
        "<source network='default'/></interface>"
    )
    assert exc.message == "XML error: Invalid value for attribute 'type' in element 'mac': 'x'."


def test_a_bare_local_source_says_there_is_nothing_more_to_read() -> None:
    ctx = DeviceContext()
    src = new_source("file")
    assert parse_source(etree.fromstring("<source file='/a'/>"), src, ctx) is False
    assert src.path == "/a"
    src = new_source("file")
    assert parse_source(etree.fromstring("<source file='/a' index='1'/>"), src, ctx) is True


def test_a_startup_policy_beside_the_path_is_read() -> None:
    out = written(
        "<disk type='file' device='cdrom'><source file='/a' startupPolicy='optional'/>"
        "<target dev='hdc' bus='ide'/></disk>"
    )
    assert "startupPolicy='optional'" in out


# -- graphics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"),
    [("5900", 5900), ("0005900", 5900), ("+5900", 5900), (" 5900", 5900), ("-0", 0)],
)
def test_a_vnc_port_reads_as_c_reads_it(port: str, expected: int) -> None:
    ctx = DeviceContext(inactive=False)
    parsed = Graphics.read(etree.fromstring(f"<graphics type='vnc' port='{port}'/>"), ctx)
    assert parsed.port == expected and parsed.autoport is False


def test_a_vnc_port_of_minus_one_asks_for_an_automatic_port() -> None:
    parsed = Graphics.read(
        etree.fromstring("<graphics type='vnc' port='-1'/>"), DeviceContext(inactive=False)
    )
    assert (parsed.port, parsed.autoport) == (-1, True)


@pytest.mark.parametrize("port", ["99999999999", "-", "5900x", ""])
def test_a_vnc_port_c_cannot_read_is_refused(port: str) -> None:
    with pytest.raises(VirtError) as caught:
        Graphics.read(etree.fromstring(f"<graphics type='vnc' port='{port}'/>"), DeviceContext())
    assert caught.value.message == f"internal error: cannot parse vnc port {port}"


def test_a_namespaced_port_is_no_port() -> None:
    parsed = Graphics.read(
        etree.fromstring("<graphics xmlns:x='urn:x' type='vnc' x:port='5'/>"),
        DeviceContext(inactive=False),
    )
    assert (parsed.port, parsed.autoport) == (0, True)


def test_a_vnc_display_with_a_legacy_listen_address_listens_there() -> None:
    parsed = Graphics.read(
        etree.fromstring("<graphics type='vnc' listen='127.0.0.1'/>"), DeviceContext()
    )
    assert [(li.type, li.address) for li in parsed.listens] == [("address", "127.0.0.1")]


def test_graphics_of_an_unknown_type_are_refused() -> None:
    for text in ("<graphics type='x'/>", "<graphics/>"):
        with pytest.raises(VirtError) as caught:
            Graphics.read(etree.fromstring(text), DeviceContext())
        assert caught.value.code in (ErrorNumber.XML_ERROR, ErrorNumber.INTERNAL_ERROR)


# -- the primary video card ------------------------------------------------------------------


def _videos(*models: str, graphics: bool = False) -> list[tuple[str, int, int, bool]]:
    ctx = DeviceContext()
    parsed = [Video.read(etree.fromstring(f"<video>{m}</video>"), ctx) for m in models]
    return [
        (v.type, v.ram, v.vram, v.primary)
        for v in resolve_videos(parsed, graphics=graphics, ctx=ctx)
    ]


def test_a_primary_video_whose_size_rounds_to_zero_gets_the_default_size() -> None:
    # Only the primary one is post-parsed twice, as in libvirt.
    model = "<model type='cirrus' vram='3000000000'/>"
    assert _videos(model, model) == [("cirrus", 0, 16384, True), ("cirrus", 0, 0, False)]


def test_a_primary_qxl_whose_ram_rounds_to_zero_gets_the_default_ram() -> None:
    assert _videos("<model type='qxl' ram='3000000000'/>") == [("qxl", 65536, 65536, True)]


def test_a_video_without_a_default_size_keeps_none() -> None:
    assert _videos("<model type='virtio'/>") == [("virtio", 0, 0, True)]


def test_graphics_without_a_video_get_the_default_primary_video() -> None:
    assert _videos(graphics=True) == [("cirrus", 0, 16384, True)]
    assert _videos() == []


def test_a_second_primary_video_is_refused() -> None:
    with pytest.raises(VirtError) as caught:
        _videos("<model type='vga' primary='yes'/>", "<model type='qxl' primary='yes'/>")
    assert caught.value.message == (
        "unsupported configuration: Only one primary video device is supported"
    )


# -- character devices -----------------------------------------------------------------------


def _console() -> ChrDef:
    return ChardevModel.read(etree.fromstring("<console type='pty'/>"), DeviceContext())


def test_resolving_leaves_the_parsed_devices_alone() -> None:
    console = _console()
    kept = dataclasses.replace(console)
    found = resolve_chardevs([], [], [console], [])
    assert console == kept
    assert [s.device_type for s in found.serials] == ["serial"]


def test_resolving_copies_changes_the_copies_in_place() -> None:
    console = _console()
    copies = chardev_copies([console])
    found = resolve_copies([], [], copies, [], DeviceContext())
    assert found.serials[0] is copies[0] or found.consoles is copies
    assert console.device_type == "console"


def test_only_character_devices_are_copied() -> None:
    console = _console()
    copies = chardev_copies([console, DiskDef()])
    assert copies == [console] and copies[0] is not console


def test_a_second_serial_console_is_refused() -> None:
    exc = error(
        "<console type='pty'><target type='serial'/></console>"
        "<console type='pty'><target type='serial'/></console>"
    )
    assert exc.message == ("unsupported configuration: Only the first console can be a serial port")


# -- post-parse helpers ------------------------------------------------------------------------


@pytest.mark.parametrize("bus", ["ide", "scsi", "sata", "fdc", "virtio", "usb"])
def test_a_disk_gets_the_drive_address_of_its_name(bus: str) -> None:
    disk = DiskDef(dst="sdk", bus=bus)
    disk.assign_address(set())
    expected = drive_address_for(bus, 10)
    assert disk.info.drive == expected


def test_a_scsi_disk_name_taken_by_a_host_device_is_refused() -> None:
    disk = DiskDef(dst="sdb", bus="scsi")
    taken = drive_address_for("scsi", 1)
    assert taken is not None
    with pytest.raises(VirtError) as caught:
        disk.assign_address({taken})
    assert "controller='0' bus='0' target='0' unit='1" in caught.value.message


def test_test_interface_names_skip_those_in_use() -> None:
    nets = [InterfaceDef(ifname=None), InterfaceDef(ifname="testnet1"), InterfaceDef(ifname=None)]
    assign_test_ifnames(nets)
    assert [n.ifname for n in nets] == ["testnet0", "testnet1", "testnet2"]


def test_usb_companions_without_a_master_are_refused() -> None:
    companion = ControllerDef(type="usb", index=0)
    companion.info.master_startport = 0
    with pytest.raises(VirtError):
        check_usb_masters([companion])
    check_usb_masters([])
    check_usb_masters([companion, ControllerDef(type="usb", index=0)])


# -- the device-info check before each device's own ------------------------------------------


_UNASSIGNED = "<address type='unassigned'/>"


@pytest.mark.parametrize(
    "body",
    [
        f"<disk type='file'><source file='/a'/><target dev='vda'/>{_UNASSIGNED}</disk>",
        f"<interface type='network'><source network='default'/>{_UNASSIGNED}</interface>",
        f"<video><model type='vga'/>{_UNASSIGNED}</video>",
        f"<serial type='pty'>{_UNASSIGNED}</serial>",
        f"<controller type='usb' index='0'>{_UNASSIGNED}</controller>",
        f"<memballoon model='virtio'>{_UNASSIGNED}</memballoon>",
    ],
)
def test_an_unassigned_address_is_refused_for_devices_that_are_no_hostdev(body: str) -> None:
    exc = error(body)
    assert exc.message == (
        "unsupported configuration: address of type 'unassigned' is supported only for hostdevs"
    )


def test_other_addresses_pass_the_device_info_check() -> None:
    out = written(
        "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/>"
        "<address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>"
    )
    assert "<address type='drive' controller='0' bus='0' target='0' unit='0'/>" in out
