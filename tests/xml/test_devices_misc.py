"""Leases, filesystems, USB redirection, device addresses and the ``<devices>`` container."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import (
    Address,
    Devices,
    DomainDeviceContext,
    Lease,
    format_devices,
)
from virtcore.xml.domain.devices.address import DriveAddress, PCIAddress, is_user_alias
from virtcore.xml.domain.devices.registry import BY_TAG, FORMAT_ORDER, RawDevice
from virtcore.xml.parse import parse_document

INACTIVE = int(DomainXMLFlags.INACTIVE)
USB = "<controller type='usb' model='qemu-xhci'/>"


def devices(body: str) -> Devices:
    return Devices(parse_document(f"<devices>{body}</devices>"))


def written(body: str, ctx: DomainDeviceContext | None = None) -> str:
    return devices(body).format(INACTIVE, ctx or DomainDeviceContext())


def error(body: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    return caught.value


# -- leases and filesystems ------------------------------------------------------------


def test_a_zero_lease_offset_is_left_out() -> None:
    text = written(
        "<lease><lockspace>s</lockspace><key>k</key><target path='/p' offset='0'/></lease>"
    )
    assert "<target path='/p'/>" in text


def test_a_lease_without_lockspace_fails_as_libvirt_fails() -> None:
    exc = error("<lease><key>k</key><target path='/p'/></lease>")
    assert (exc.code, exc.domain) == (ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE)
    assert exc.message == "An error occurred, but the cause is unknown"


def test_lease_properties_read_and_write_the_element() -> None:
    lease = Lease.from_string("<lease><key>k</key><target path='/p' offset='512'/></lease>")
    assert (lease.key, lease.target_path, lease.target_offset) == ("k", "/p", 512)
    lease.lockspace = "area"
    assert lease.to_string().startswith("<lease>\n  <lockspace>area</lockspace>\n  <key>")


def test_filesystems_default_to_passthrough() -> None:
    text = written("<filesystem><source dir='/a'/><target dir='b'/></filesystem>")
    assert "<filesystem type='mount' accessmode='passthrough'>" in text


def test_an_external_virtiofsd_has_no_access_mode() -> None:
    text = written(
        "<filesystem><driver type='virtiofs'/><source socket='/s'/><target dir='t'/></filesystem>"
    )
    assert "<filesystem type='mount'>" in text


def test_ram_filesystems_are_sized_in_kib() -> None:
    text = written(
        "<filesystem type='ram'><source usage='2' units='GiB'/><target dir='/m'/></filesystem>"
    )
    assert "<source usage='2097152' units='KiB'/>" in text


def test_file_modes_are_written_in_octal() -> None:
    text = written(
        "<filesystem fmode='644' dmode='0755'><source dir='/a'/><target dir='b'/></filesystem>"
    )
    assert "fmode='0644' dmode='0755'" in text


# -- USB redirection ----------------------------------------------------------------------


def test_a_redirdev_without_children_is_written_open() -> None:
    text = written(USB + "<redirdev bus='usb' type='spicevmc'/>")
    assert "<redirdev bus='usb' type='spicevmc'>\n  </redirdev>" in text


def test_redirected_devices_need_usb() -> None:
    exc = error("<redirdev bus='usb' type='spicevmc'/>")
    assert exc.message == (
        "unsupported configuration: cannot add redirected USB device: USB is disabled "
        "for this domain"
    )


def test_filter_rules_are_written_in_libvirts_notation() -> None:
    text = written(
        USB + "<redirfilter><usbdev class='8' vendor='0x15e1' product='-1' version='1.1' "
        "allow='yes'/></redirfilter>"
    )
    assert "<usbdev class='0x08' vendor='0x15E1' version='1.10' allow='yes'/>" in text


def test_an_empty_filter_is_not_written() -> None:
    assert "redirfilter" not in written(USB + "<redirfilter/>")


# -- addresses and aliases -----------------------------------------------------------------


def test_pci_addresses_read_numbers_like_strtoul() -> None:
    address = Address.from_xml("<address type='pci' domain='0' bus='0x01' slot='010'/>")
    assert address.pci() == PCIAddress(0, 1, 8, 0)
    assert address.drive() is None


def test_drive_addresses_are_set_whole() -> None:
    address = Address.from_xml("<address type='pci' slot='3' multifunction='on'/>")
    address.set_drive(1, 0, 0, 2)
    assert address.drive() == DriveAddress(1, 0, 0, 2)
    assert address.to_string() == (
        "<address type='drive' controller='1' bus='0' target='0' unit='2'/>\n"
    )


@pytest.mark.parametrize(("alias", "kept"), [("ua-disk_0", True), ("ua-", True), ("ua-a b", False)])
def test_user_aliases(alias: str, kept: bool) -> None:
    assert is_user_alias(alias) is kept


def test_other_aliases_are_dropped_on_define_but_kept_live() -> None:
    body = "<disk><source file='/a'/><target dev='vda'/><alias name='virtio-disk0'/></disk>"
    assert "<alias" not in written(body)
    live = devices(body).format(0, DomainDeviceContext(inactive=False))
    assert "<alias name='virtio-disk0'/>" in live


def test_pci_addresses_out_of_range_are_refused() -> None:
    exc = error(
        "<disk><source file='/a'/><target dev='vda'/><address type='pci' slot='0x20'/></disk>"
    )
    assert (exc.code, exc.domain) == (ErrorNumber.XML_ERROR, ErrorDomain.NONE)
    assert exc.message == "XML error: Invalid PCI address slot='0x20', must be <= 0x1F"


# -- the container ---------------------------------------------------------------------------


def test_kinds_are_written_in_libvirts_order() -> None:
    text = written(
        "<hub type='usb'/><lease><lockspace>s</lockspace><key>k</key><target path='/p'/></lease>"
        + USB
        + "<emulator>/usr/bin/qemu</emulator><disk><source file='/a'/><target dev='vda'/></disk>"
    )
    tags = [e.tag for e in etree.fromstring(text)]
    assert tags == ["emulator", "disk", "controller", "lease", "hub"]
    assert all(tag in FORMAT_ORDER for tag in tags[1:])


def test_kinds_without_a_model_are_kept_as_they_are() -> None:
    assert issubclass(BY_TAG["nvram"].model, RawDevice)
    assert "<nvram>\n    <x a='1'/>\n  </nvram>" in written("<nvram><x a='1'/></nvram>")


def test_audio_backends_keep_what_their_type_reads() -> None:
    text = written(
        "<audio type='pulseaudio' id='1' path='/x' serverName='s'><alias name='ua-a'/>"
        "<input name='n' dev='d' bufferCount='2'/><output/></audio>"
    )
    assert "<audio id='1' type='pulseaudio' serverName='s'>" in text
    assert "<input name='n'/>" in text
    assert "output" not in text and "alias" not in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<audio id='1'/>", "XML error: Missing required attribute 'type' in element 'audio'"),
        (
            "<audio id='0' type='none'/>",
            "XML error: Invalid value for attribute 'id' in element 'audio': Zero is not permitted",
        ),
        (
            "<audio id='1' type='none'><input fixedSettings='yes'/></audio>",
            "unsupported configuration: fixed audio settings requires mixing engine",
        ),
        (
            "<audio id='1' type='none'><input><settings/></input></audio>",
            "unsupported configuration: audio settings specified without fixed settings flag",
        ),
        (
            "<audio id='2' type='none'/><audio id='1' type='none'/><audio id='2' type='spice'/>",
            "XML error: audio ID 2 is used multiple times",
        ),
    ],
)
def test_audio_backends_are_checked_like_libvirt(body: str, message: str) -> None:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    assert caught.value.message == message


def test_the_domain_formatter_writes_inactive_domains_as_inactive() -> None:
    source = parse_document(
        "<devices><disk><source file='/a'><seclabel model='dac' relabel='yes'/></source>"
        "<target dev='vda'/></disk></devices>"
    )
    stopped = format_devices(source, SimpleNamespace(id=None), 0)
    running = format_devices(source, SimpleNamespace(id=3), 0)
    assert stopped.find("disk/source/seclabel") is None
    assert running.find("disk/source/seclabel") is not None


def test_the_devices_list_of_each_kind_is_live() -> None:
    devs = devices(USB)
    devs.interfaces.append().mac_address = "52:54:00:00:00:01"
    devs.emulator = "/usr/bin/qemu"
    assert [e.tag for e in devs.element] == ["emulator", "controller", "interface"]
