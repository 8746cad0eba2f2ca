"""Disks: the typed model, libvirt's defaults and addresses, and its errors."""

from __future__ import annotations

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml.domain.devices import Devices, DomainDeviceContext
from virtcore.xml.domain.devices.address import DriveAddress
from virtcore.xml.domain.devices.disk import Disk, disk_name_index, drive_address_for
from virtcore.xml.parse import parse_document

INACTIVE = int(DomainXMLFlags.INACTIVE)


def devices(body: str) -> Devices:
    return Devices(parse_document(f"<devices>{body}</devices>"))


def written(body: str, flags: int = INACTIVE) -> str:
    return devices(body).format(flags, DomainDeviceContext())


def error(body: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    return caught.value


# -- the typed model ----------------------------------------------------------------


def test_properties_read_the_element() -> None:
    disk = Disk.from_string(
        "<disk type='file' device='cdrom'><source file='/a.iso'/>"
        "<target dev='hdc' bus='ide'/><readonly/><boot order='2'/></disk>"
    )
    assert (disk.type, disk.device, disk.source_file) == ("file", "cdrom", "/a.iso")
    assert (disk.target_dev, disk.target_bus, disk.readonly, disk.boot_order) == (
        "hdc",
        "ide",
        True,
        2,
    )
    assert disk.source_path == "/a.iso"


def test_setting_properties_keeps_what_the_model_does_not_know() -> None:
    disk = Disk.from_string(
        "<disk type='file' x-unknown='1'><source file='/a'/><target dev='vda'/><vendorx/></disk>"
    )
    disk.driver_type = "qcow2"
    disk.serial = "S1"
    assert disk.to_string() == (
        "<disk type='file' x-unknown='1'>\n"
        "  <driver type='qcow2'/>\n"
        "  <source file='/a'/>\n"
        "  <target dev='vda'/>\n"
        "  <serial>S1</serial>\n"
        "  <vendorx/>\n"
        "</disk>\n"
    )


def test_new_disks_land_after_the_existing_ones() -> None:
    devs = devices("<disk type='file'/><controller type='ide'/>")
    disk = devs.disks.append()
    disk.target_dev = "vdb"
    assert [e.tag for e in devs.element] == ["disk", "disk", "controller"]


# -- defaults libvirt fills in -----------------------------------------------------------


@pytest.mark.parametrize(
    ("dev", "bus"),
    [("hda", "ide"), ("sdb", "scsi"), ("vdc", "virtio"), ("xvdd", "xen"), ("ubda", "uml")],
)
def test_the_bus_is_inferred_from_the_target_name(dev: str, bus: str) -> None:
    definition = devices(f"<disk><source file='/a'/><target dev='{dev}'/></disk>").definition()
    assert definition.disks[0].bus == bus


def test_floppies_default_to_the_floppy_controller_bus() -> None:
    text = written("<disk device='floppy'><source file='/a'/><target dev='hda'/></disk>")
    assert "<target dev='hda' bus='fdc'/>" in text


def test_cdroms_are_read_only() -> None:
    text = written("<disk device='cdrom'><target dev='hdc'/></disk>")
    assert "<readonly/>" in text


@pytest.mark.parametrize(
    ("name", "index"), [("vda", 0), ("sdb", 1), ("hdz", 25), ("sdaa", 26), ("vdb3", 1)]
)
def test_disk_names_number_disks_like_libvirt(name: str, index: int) -> None:
    assert disk_name_index(name) == index


@pytest.mark.parametrize("name", ["vd", "sdA", "mmcblk0", "hd1a", "foo"])
def test_names_libvirt_cannot_number(name: str) -> None:
    assert disk_name_index(name) is None


@pytest.mark.parametrize(
    ("bus", "index", "address"),
    [
        ("scsi", 8, DriveAddress(1, 0, 0, 1)),
        ("ide", 3, DriveAddress(0, 1, 0, 1)),
        ("sata", 7, DriveAddress(1, 0, 0, 1)),
        ("fdc", 3, DriveAddress(1, 0, 0, 1)),
        ("virtio", 3, None),
    ],
)
def test_drive_addresses_follow_from_the_disk_number(
    bus: str, index: int, address: DriveAddress | None
) -> None:
    assert drive_address_for(bus, index) == address


def test_controllers_are_added_for_the_drive_addresses() -> None:
    text = written("<disk><source file='/a'/><target dev='sdi'/></disk>")
    assert "<address type='drive' controller='1' bus='0' target='0' unit='1'/>" in text
    assert "<controller type='scsi' index='0'/>" in text
    assert "<controller type='scsi' index='1'/>" in text


def test_disks_are_ordered_by_name_within_a_bus() -> None:
    definition = devices(
        "<disk><source file='/c'/><target dev='vdc'/></disk>"
        "<disk><source file='/a'/><target dev='vda'/></disk>"
        "<disk><source file='/s'/><target dev='sda' bus='sata'/></disk>"
    ).definition()
    assert [d.dst for d in definition.disks] == ["vda", "vdc", "sda"]


def test_iscsi_names_without_a_lun_get_lun_zero() -> None:
    text = written(
        "<disk type='network'><source protocol='iscsi' name='iqn.x'><host name='h'/></source>"
        "<target dev='sda'/></disk>"
    )
    assert "<source protocol='iscsi' name='iqn.x/0'>" in text
    assert "<host name='h' port='3260'/>" in text


def test_http_cookies_are_secret() -> None:
    body = (
        "<disk type='network' device='cdrom'><source protocol='http' name='/i.iso'>"
        "<host name='h'/><cookies><cookie name='k'>v</cookie></cookies></source>"
        "<target dev='hdc'/></disk>"
    )
    assert "<cookie" not in written(body)
    assert "<cookie name='k'>v</cookie>" in written(body, INACTIVE | DomainXMLFlags.SECURE)


def test_an_encryption_without_secrets_is_written_open() -> None:
    text = written(
        "<disk><source file='/a'><encryption format='luks'/></source><target dev='vda'/></disk>"
    )
    assert "<encryption format='luks'>\n      </encryption>" in text


def test_group_iotune_is_shared() -> None:
    definition = devices(
        "<disk><source file='/a'/><target dev='vda'/>"
        "<iotune><group_name>g</group_name></iotune></disk>"
        "<disk><source file='/b'/><target dev='vdb'/><iotune><group_name>g</group_name>"
        "<read_iops_sec>7</read_iops_sec></iotune></disk>"
    ).definition()
    assert definition.disks[0].iotune == {"read_iops_sec": 7}


# -- errors ------------------------------------------------------------------------------


def test_duplicate_targets_name_both_sources() -> None:
    exc = error(
        "<disk><source file='/a'/><target dev='vda'/></disk>"
        "<disk><source file='/b'/><target dev='vda'/></disk>"
    )
    assert isinstance(exc, XMLError)
    assert exc.message == "XML error: target 'vda' duplicated for disk sources '/a' and '/b'"
    assert exc.domain == ErrorDomain.DOMAIN


def test_a_disk_without_target_is_no_target() -> None:
    exc = error("<disk><source file='/a'/></disk>")
    assert exc.code == ErrorNumber.NO_TARGET
    assert exc.message == "missing target information for device /a"


def test_a_disk_without_source_is_no_source() -> None:
    exc = error("<disk><target dev='vda'/></disk>")
    assert exc.code == ErrorNumber.NO_SOURCE
    assert exc.message == "missing source information for device vda"


def test_unknown_enumeration_values_are_xml_errors_of_the_xml_domain() -> None:
    exc = error("<disk type='foo'><source file='/a'/><target dev='vda'/></disk>")
    assert (exc.code, exc.domain) == (ErrorNumber.XML_ERROR, ErrorDomain.XML)
    assert exc.message == "XML error: Invalid value for attribute 'type' in element 'disk': 'foo'."


def test_unknown_names_without_address_are_refused() -> None:
    exc = error("<disk><source file='/a'/><target dev='xyz'/></disk>")
    assert exc.message == "XML error: Unknown disk name 'xyz' and no address specified"
