"""The shortcuts of device reading give what the general readers give.

Devices are read from a one-pass table of their children
(:func:`~virtcore.xml.domain.devices.support.first_children`), skip the
optional attributes and blocks they do not have, and check the whole
domain with set-based pre-checks. Each shortcut must keep libvirt's
answers: the first element of a name wins, elements in a namespace and
comments do not count, optional attributes beside the usual ones are
still read and still refused when invalid, and duplicates are still
reported with the same pair.
"""

from __future__ import annotations

import pytest
from lxml import etree

from tests.xml.device_snippets import error, written
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.childindex import indexed_reading
from virtcore.xml.domain.common import child
from virtcore.xml.domain.devices import DomainDeviceContext
from virtcore.xml.domain.devices.address import DeviceInfo
from virtcore.xml.domain.devices.chardev import ChardevModel, Console, resolve_chardevs
from virtcore.xml.domain.devices.disk import Disk, DiskDef, check_duplicates
from virtcore.xml.domain.devices.interface import parse_mac
from virtcore.xml.domain.devices.pipeline import define_devices
from virtcore.xml.domain.devices.registry import KINDS
from virtcore.xml.domain.devices.support import DeviceContext, VirtioOptions, first_children
from virtcore.xml.parse import parse_document

# -- the table of first children ---------------------------------------------------------


def test_the_first_element_of_a_name_wins() -> None:
    node = etree.fromstring("<disk><serial>one</serial><target/><serial>two</serial></disk>")
    assert first_children(node)["serial"].text == "one"


def test_comments_and_processing_instructions_are_no_children() -> None:
    node = etree.fromstring("<disk><!-- serial --><?serial x?><serial>s</serial></disk>")
    assert list(first_children(node)) == ["serial"]


def test_an_element_in_a_namespace_is_not_found_by_its_plain_name() -> None:
    node = etree.fromstring(
        "<disk xmlns:x='urn:x'><x:serial>ns</x:serial><serial>s</serial></disk>"
    )
    kids = first_children(node)
    assert kids["serial"].text == "s"
    assert kids["{urn:x}serial"].text == "ns"


def test_an_element_without_children_has_an_empty_table() -> None:
    assert first_children(etree.fromstring("<disk type='file'>text</disk>")) == {}


@pytest.mark.parametrize("indexed", [False, True])
def test_the_table_answers_as_child_does(indexed: bool) -> None:
    node = etree.fromstring(
        "<disk xmlns:x='urn:x'><!-- c --><x:target/><driver name='a'/><target dev='vda'/>"
        "<driver name='b'/><boot order='1'/></disk>"
    )
    names = ("driver", "target", "boot", "alias", "serial", "x:target")
    if indexed:
        with indexed_reading():
            expected = {name: child(node, name) for name in names}
    else:
        expected = {name: child(node, name) for name in names}
    kids = first_children(node)
    assert {name: kids.get(name) for name in names} == expected


def test_device_info_reads_the_same_from_the_table() -> None:
    node = etree.fromstring(
        "<disk><boot order='2'/><alias name='ua-a'/><address type='drive' controller='0' "
        "bus='0' target='0' unit='1'/><alias name='ua-b'/></disk>"
    )
    ctx = DeviceContext()
    from_node = DeviceInfo.parse(node, ctx, boot=True)
    from_table = DeviceInfo.parse(node, ctx, boot=True, kids=first_children(node))
    assert from_node == from_table
    assert (from_table.alias, from_table.boot_order) == ("ua-a", 2)


# -- disks ---------------------------------------------------------------------------------


def test_a_disk_reads_its_first_serial_only() -> None:
    parsed = Disk.from_string(
        "<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/>"
        "<serial>first</serial><serial>second</serial></disk>"
    ).parse(DeviceContext())
    assert parsed.serial == "first"


def test_a_namespaced_readonly_does_not_make_the_disk_read_only() -> None:
    parsed = Disk.from_string(
        "<disk type='file' xmlns:x='urn:x'><source file='/a'/><target dev='vda'/>"
        "<x:readonly/></disk>"
    ).parse(DeviceContext())
    assert parsed.src.readonly is False


def test_an_optional_disk_attribute_is_read_without_the_usual_ones() -> None:
    parsed = Disk.from_string(
        "<disk snapshot='external'><source file='/a'/><target dev='vda' tray='open'/></disk>"
    ).parse(DeviceContext())
    assert (parsed.snapshot, parsed.tray) == ("external", "open")


def test_an_invalid_optional_attribute_beside_the_usual_ones_is_refused() -> None:
    exc = error(
        "<disk type='file' device='disk' sgio='x'><source file='/a'/>"
        "<target dev='vda' bus='virtio'/></disk>"
    )
    assert exc.message == "XML error: Invalid value for attribute 'sgio' in element 'disk': 'x'."


def test_an_invalid_optional_target_attribute_beside_dev_and_bus_is_refused() -> None:
    exc = error(
        "<disk type='file' device='cdrom'><source file='/a'/>"
        "<target dev='hdc' bus='ide' rotation_rate='x'/></disk>"
    )
    assert exc.code == ErrorNumber.XML_ERROR
    assert "rotation_rate" in exc.message


def test_a_source_with_children_still_has_its_seclabels_read() -> None:
    parsed = Disk.from_string(
        "<disk type='file'><source file='/a'><seclabel model='dac' relabel='no'/></source>"
        "<target dev='vda'/></disk>"
    ).parse(DeviceContext())
    assert [(s.model, s.relabel) for s in parsed.src.seclabels] == [("dac", False)]


def test_a_bare_source_has_no_seclabels() -> None:
    parsed = Disk.from_string(
        "<disk type='file'><source file='/a'/><target dev='vda'/></disk>"
    ).parse(DeviceContext())
    assert parsed.src.seclabels == []


def test_duplicate_targets_are_reported_with_the_first_pair() -> None:
    disks = [DiskDef(dst=name) for name in ("vda", "vdb", "vdb", "vda")]
    for disk, path in zip(disks, ("/a", "/b", "/c", "/d"), strict=True):
        disk.src.path = path
    with pytest.raises(VirtError) as caught:
        check_duplicates(disks)
    assert caught.value.message == (
        "XML error: target 'vda' duplicated for disk sources '/a' and '/d'"
    )


def test_duplicate_drive_addresses_on_one_bus_are_reported() -> None:
    disks = [DiskDef(dst="sda", bus="scsi"), DiskDef(dst="sdb", bus="scsi")]
    for disk in disks:
        disk.info.set_drive(0, 0, 0, 1)
    with pytest.raises(VirtError) as caught:
        check_duplicates(disks)
    assert "Found duplicate drive address for disk with target name 'sda'" in (caught.value.message)


def test_one_drive_address_on_two_buses_is_no_duplicate() -> None:
    disks = [DiskDef(dst="sda", bus="scsi"), DiskDef(dst="hda", bus="ide")]
    for disk in disks:
        disk.info.set_drive(0, 0, 0, 0)
    check_duplicates(disks)


# -- interfaces and virtio options ----------------------------------------------------------


def test_a_canonical_mac_is_kept_as_written() -> None:
    assert parse_mac("52:54:00:12:34:56") == "52:54:00:12:34:56"


def test_a_mac_in_capitals_or_short_digits_is_canonicalised() -> None:
    assert parse_mac("52:54:00:AB:3:0c") == "52:54:00:ab:03:0c"


def test_a_canonical_multicast_mac_is_refused() -> None:
    with pytest.raises(VirtError) as caught:
        parse_mac("01:00:5e:00:00:01")
    assert caught.value.message == (
        "XML error: expected unicast mac address, found multicast '01:00:5e:00:00:01'"
    )


def test_an_interface_reads_its_first_mac_and_ignores_a_namespaced_one() -> None:
    out = written(
        "<interface type='network' xmlns:x='urn:x'><x:mac address='52:54:00:00:00:09'/>"
        "<mac address='52:54:00:00:00:01'/><mac address='52:54:00:00:00:02'/>"
        "<source network='default'/></interface>"
    )
    assert "<mac address='52:54:00:00:00:01'/>" in out
    assert "00:09" not in out and "00:02" not in out


def test_guest_addresses_of_an_interface_are_still_read() -> None:
    out = written("<interface type='ethernet'><ip address='192.168.0.2' prefix='24'/></interface>")
    assert "<ip address='192.168.0.2' family='ipv4' prefix='24'/>" in out


def test_a_plain_driver_has_no_virtio_options() -> None:
    driver = etree.fromstring("<driver name='qemu' type='raw'/>")
    assert VirtioOptions.parse(driver) == VirtioOptions()


def test_virtio_options_beside_the_usual_attributes_are_read() -> None:
    driver = etree.fromstring("<driver name='qemu' iommu='on' packed='off'/>")
    assert VirtioOptions.parse(driver) == VirtioOptions(iommu=True, packed=False)


# -- character devices and the whole domain -------------------------------------------------


def test_resolving_character_devices_leaves_the_parsed_ones_unchanged() -> None:
    console = Console(etree.fromstring("<console type='pty'/>")).parse(DeviceContext())
    before = dict(vars(console))
    resolved = resolve_chardevs([], [], [console], [], validate=False)
    assert vars(console) == before
    assert resolved.serials and resolved.serials[0] is not console


def test_a_namespaced_device_tag_is_read_by_its_local_name() -> None:
    node = etree.fromstring("<x:console xmlns:x='urn:x' type='pty'/>")
    assert ChardevModel(node).parse(DeviceContext()).device_type == "console"


def test_the_first_emulator_is_kept_and_unknown_elements_are_ignored() -> None:
    node = parse_document(
        "<devices><emulator>/a</emulator><unknown/><emulator>/b</emulator>"
        "<memballoon model='none'/></devices>"
    )
    defs = define_devices(node)
    assert defs.emulator == "/a"
    assert len(defs["memballoon"]) == 1


def test_a_hub_is_refused_when_usb_is_disabled() -> None:
    exc = error("<controller type='usb' model='none'/><hub type='usb'/>")
    assert exc.message == (
        "unsupported configuration: Can't add USB hub: USB is disabled for this domain"
    )


def test_a_hub_is_accepted_without_any_controller() -> None:
    ctx = DomainDeviceContext(usb_disabled=True)
    defs = define_devices(parse_document("<devices><hub type='usb'/></devices>"), ctx)
    assert len(defs["hub"]) == 1


def test_user_aliases_of_different_kinds_must_differ() -> None:
    exc = error(
        "<disk type='file' device='disk'><source file='/a'/><target dev='vda' bus='virtio'/>"
        "<alias name='ua-x'/></disk><video><model type='vga'/><alias name='ua-x'/></video>"
    )
    assert exc.message == "unsupported configuration: non unique alias detected: ua-x"


def test_user_aliases_of_character_devices_must_differ() -> None:
    exc = error(
        "<channel type='pty'><target type='virtio' name='a'/><alias name='ua-x'/></channel>"
        "<channel type='pty'><target type='virtio' name='b'/><alias name='ua-x'/></channel>"
    )
    assert exc.message == "unsupported configuration: non unique alias detected: ua-x"


def test_a_serial_console_shares_its_ports_alias() -> None:
    written_out = written("<serial type='pty'><alias name='ua-s'/></serial><console type='pty'/>")
    assert written_out.count("<alias name='ua-s'/>") == 2


# -- graphics -------------------------------------------------------------------------------


def test_a_vnc_display_with_more_than_the_usual_attributes_has_them_read() -> None:
    out = written("<graphics type='vnc' port='-1' autoport='yes' keymap='de' websocket='5700'/>")
    assert "websocket='5700'" in out and "keymap='de'" in out


def test_an_invalid_vnc_share_policy_is_refused() -> None:
    exc = error("<graphics type='vnc' autoport='yes' sharePolicy='x'/>")
    assert exc.message == (
        "XML error: Invalid value for attribute 'sharePolicy' in element 'graphics': 'x'."
    )


def test_a_vnc_display_with_children_has_its_audio_read() -> None:
    exc = error("<graphics type='vnc' autoport='yes'><audio id='0'/></graphics>")
    assert exc.code == ErrorNumber.XML_ERROR
    assert "Zero is not permitted" in exc.message


# -- reading without a model ------------------------------------------------------------------

SAMPLES = {
    "disk": "<disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc'/>"
    "<readonly/><alias name='ua-cd'/></disk>",
    "interface": "<interface type='network'><mac address='52:54:00:00:00:01'/>"
    "<source network='default'/><model type='virtio'/></interface>",
    "console": "<console type='pty'><target type='serial'/></console>",
    "graphics": "<graphics type='vnc' port='5901' keymap='fr'/>",
    "video": "<video><model type='qxl' ram='65536' heads='2'/><alias name='ua-v'/></video>",
    "memballoon": "<memballoon model='virtio'><stats period='10'/></memballoon>",
    "watchdog": "<watchdog model='i6300esb' action='reset'/>",
}


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_reading_an_element_gives_what_its_model_parses(tag: str) -> None:
    model = next(kind.model for kind in KINDS if kind.tag == tag)
    node = etree.fromstring(SAMPLES[tag])
    assert model.read(node, DeviceContext()) == model(node).parse(DeviceContext())
