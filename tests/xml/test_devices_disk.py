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
    text = written("<disk device='floppy'><source file='/a'/><target dev='fda'/></disk>")
    assert "<target dev='fda' bus='fdc'/>" in text


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


# -- validation order, as libvirt 9 validates -------------------------------------------

VHOSTUSER = (
    "<disk type='vhostuser' device='{device}'><driver name='qemu' type='raw'{driver}/>"
    "<source type='unix' path='/tmp/s'/><target dev='vda' bus='virtio'/>{extra}</disk>"
)


def test_a_disk_without_source_element_becomes_a_file_disk() -> None:
    text = written("<disk type='network' device='cdrom'><target dev='hdc'/></disk>")
    assert "<disk type='file' device='cdrom'>" in text


def test_a_lun_without_source_is_not_a_block_device() -> None:
    exc = error("<disk type='block' device='lun'><target dev='sda' bus='scsi'/></disk>")
    assert exc.message == (
        "unsupported configuration: disk device='lun' is only valid for block type disk source"
    )


def test_a_lun_with_an_empty_source_is_accepted() -> None:
    text = written("<disk type='block' device='lun'><source/><target dev='sda' bus='scsi'/></disk>")
    assert "<disk type='block' device='lun'>" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<driver name='qemu' type='qcow2'/><source dev='/a'/>",
            "disk device 'lun' must use 'raw' format",
        ),
        (
            "<source dev='/a'><slices><slice type='storage' offset='0' size='9'/></slices>"
            "</source>",
            "disk device 'lun' doesn't support storage slice",
        ),
        (
            "<source dev='/a'><encryption format='luks'><secret type='passphrase' "
            "uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption></source>",
            "disk device 'lun' doesn't support encryption",
        ),
    ],
)
def test_lun_sources_are_raw_whole_and_clear(body: str, message: str) -> None:
    exc = error(f"<disk type='block' device='lun'>{body}<target dev='sda' bus='scsi'/></disk>")
    assert exc.message == f"unsupported configuration: {message}"


def test_authentication_is_refused_for_some_protocols() -> None:
    exc = error(
        "<disk type='file'><source file='/a'/><backingStore type='network'><format type='raw'/>"
        "<source protocol='nbd' name='x'><host name='h'/><auth username='u'>"
        "<secret type='ceph' usage='x'/></auth></source></backingStore>"
        "<target dev='vda'/></disk>"
    )
    assert (
        exc.message
        == "unsupported configuration: authentication is not supported for protocol 'nbd'"
    )


def test_secret_types_are_checked_for_network_disks_only() -> None:
    text = written(
        "<disk><auth username='u'><secret type='bogus' usage='x'/></auth>"
        "<source file='/a'/><target dev='vda'/></disk>"
    )
    assert "<secret type='bogus' usage='x'/>" in text
    exc = error(
        "<disk type='network'><source protocol='rbd' name='p/x'><host name='h'/>"
        "<auth username='u'><secret type='iscsi' usage='x'/></auth></source>"
        "<target dev='vda'/></disk>"
    )
    assert exc.message == "unsupported configuration: invalid secret type 'iscsi'"


def test_the_cipher_of_qcow_encryption_is_dropped() -> None:
    text = written(
        "<disk><source file='/a'/><target dev='vda'/><encryption format='qcow'>"
        "<secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
        "<cipher name='aes' size='256'/></encryption></disk>"
    )
    assert "cipher" not in text


def test_validation_errors_follow_the_order_of_the_disks() -> None:
    exc = error(
        "<disk><source file='/a'/><target dev='vda'/><vendor>123456789</vendor></disk>"
        "<disk><source file='/b'/><target bus='virtio'/></disk>"
        "<disk><source file='/c'/><target dev='vdb' sgio='unfiltered'/></disk>"
    )
    assert exc.message == "unsupported configuration: disk vendor is more than 8 characters"


def test_a_disk_without_target_is_validated_last() -> None:
    exc = error(
        "<disk><source file='/b'/><target dev='vdb'/><vendor>123456789</vendor></disk>"
        "<disk><source file='/c'/><target bus='virtio'/></disk>"
        "<disk><source file='/a'/><target dev='vda'/></disk>"
    )
    assert exc.message == "unsupported configuration: disk vendor is more than 8 characters"


@pytest.mark.parametrize(
    ("device", "dev", "message"),
    [
        ("floppy", "hda", "Invalid floppy device name: hda"),
        ("disk", "fda", "Invalid harddisk device name: fda"),
    ],
)
def test_device_names_match_the_device(device: str, dev: str, message: str) -> None:
    bus = "fdc" if device == "floppy" else "sata"
    exc = error(
        f"<disk device='{device}'><source file='/a'/><target dev='{dev}' bus='{bus}'/></disk>"
    )
    assert exc.message == f"internal error: {message}"


def test_startup_policies_need_local_or_pool_storage() -> None:
    exc = error(
        "<disk type='nvme'><source type='pci' managed='yes' namespace='1' "
        "startupPolicy='optional'><address domain='0x0000' bus='0x01' slot='0x00' "
        "function='0x0'/></source><target dev='vda'/></disk>"
    )
    assert exc.message == (
        "XML error: disk startupPolicy 'optional' is not allowed for disk of 'nvme' type"
    )


@pytest.mark.parametrize(
    ("device", "driver", "extra", "what"),
    [
        ("disk", " cache='none'", "", "cache"),
        ("disk", " rerror_policy='stop'", "", "error_policy"),
        ("disk", " copy_on_read='off'", "", "copy_on_read"),
        ("disk", "", "<iotune><group_name>g</group_name></iotune>", "iotune"),
        ("disk", "", "<serial>abc</serial>", "serial"),
        ("disk", "", "<geometry cyls='0' heads='0' secs='0' trans='lba'/>", "geometry"),
        ("cdrom", "", "", "readonly"),
    ],
)
def test_vhostuser_disks_refuse_what_the_backend_cannot_do(
    device: str, driver: str, extra: str, what: str
) -> None:
    exc = error(VHOSTUSER.format(device=device, driver=driver, extra=extra))
    assert exc.message == f"unsupported configuration: {what} is not supported with vhostuser disk"


def test_vhostuser_disks_need_the_virtio_bus_and_no_snapshots() -> None:
    body = VHOSTUSER.format(device="disk", driver="", extra="")
    exc = error(body.replace("bus='virtio'", "bus='scsi'").replace("vda", "sda"))
    assert exc.message == "unsupported configuration: vhostuser disk supports only virtio bus"
    exc = error(body.replace("device='disk'", "device='disk' snapshot='external'"))
    assert exc.message == (
        "unsupported configuration: only snapshot=no is supported with vhostuser disk"
    )
