"""The shortcuts of disk reading, checking and writing give libvirt's answers.

A disk's records (:class:`DiskDef`, :class:`StorageSource`) are made from a
copy of their defaults instead of the dataclass ``__init__``; the readers
count a disk's, driver's and target's attributes instead of listing them
to decide whether the optional ones need reading, and look for the rare
children only when one of them is there; the checks skip what cannot fail
for the fields a disk has; the writer builds a local image's ``<source>``
and the plain elements directly. Each shortcut must keep what the general
path gives: equal records with their own containers, the same values and
errors (and the first of several errors), the same output.
"""

from __future__ import annotations

import pytest

from tests.xml.device_snippets import devices, error, written
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import DomainDeviceContext
from virtcore.xml.domain.devices.address import DeviceInfo
from virtcore.xml.domain.devices.disk import Disk, DiskDef, new_disk
from virtcore.xml.domain.devices.source import (
    Encryption,
    StorageSource,
    new_source,
)
from virtcore.xml.domain.devices.support import DeviceContext, VirtioOptions, factory_fields
from virtcore.xml.parse import parse_document


def read(text: str) -> DiskDef:
    return Disk.from_string(text).parse(DeviceContext())


def disk_with(body: str, attrs: str = "type='file' device='disk'") -> str:
    return f"<disk {attrs}><source file='/a.img'/><target dev='vda' bus='virtio'/>{body}</disk>"


# -- the records -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "network", "none"])
def test_a_new_source_equals_the_dataclass_call(kind: str) -> None:
    made = new_source(kind)
    assert made == StorageSource(type=kind)
    assert list(vars(made)) == list(vars(StorageSource(type=kind)))


def test_new_sources_do_not_share_their_containers() -> None:
    first, second = new_source("file"), new_source("file")
    for name in factory_fields(StorageSource):
        assert getattr(first, name) is not getattr(second, name), name


def test_a_new_disk_equals_the_dataclass_call() -> None:
    src = StorageSource(type="block")
    assert new_disk(src, "lun") == DiskDef(src=src, device="lun")
    assert list(vars(new_disk(src))) == list(vars(DiskDef(src=src)))


def test_new_disks_do_not_share_their_containers() -> None:
    first, second = new_disk(new_source("file")), new_disk(new_source("file"))
    for name in factory_fields(DiskDef) - {"src"}:
        assert getattr(first, name) is not getattr(second, name), name


def test_a_disk_without_device_info_children_has_the_default_info() -> None:
    parsed = read(disk_with("<readonly/>"))
    assert parsed.info == DeviceInfo()


def test_device_info_without_its_children_is_the_default() -> None:
    node = parse_document(disk_with("<serial>s</serial>"))
    assert DeviceInfo.parse(node, DeviceContext(), boot=True) == DeviceInfo()


def test_a_disk_reads_its_boot_order_and_address() -> None:
    parsed = read(
        "<disk type='file' device='disk'><source file='/a'/><target dev='sda' bus='scsi'/>"
        "<boot order='2'/><address type='drive' controller='0' bus='0' target='0' unit='3'/>"
        "</disk>"
    )
    assert parsed.info.boot_order == 2
    assert parsed.info.address == {"controller": "0", "bus": "0", "target": "0", "unit": "3"}


# -- reading attributes ----------------------------------------------------------------------


def test_a_plain_driver_has_empty_virtio_options() -> None:
    parsed = read(disk_with("<driver name='qemu' type='qcow2'/>"))
    assert (parsed.driver_name, parsed.src.format) == ("qemu", "qcow2")
    assert parsed.virtio == VirtioOptions()
    assert parsed.driver == {}


def test_a_driver_option_beside_name_and_type_is_read() -> None:
    parsed = read(disk_with("<driver name='qemu' type='raw' cache='none' iommu='on'/>"))
    assert parsed.driver == {"cache": "none"}
    assert parsed.virtio == VirtioOptions(iommu=True)


def test_a_driver_option_alone_is_read() -> None:
    assert read(disk_with("<driver io='native'/>")).driver == {"io": "native"}


def test_a_driver_with_a_child_reads_its_metadata_cache() -> None:
    parsed = read(
        disk_with(
            "<driver name='qemu' type='qcow2'><metadata_cache>"
            "<max_size unit='KiB'>2</max_size></metadata_cache></driver>"
        )
    )
    assert parsed.metadata_cache == 2048


def test_an_aio_driver_type_is_a_raw_image() -> None:
    assert read(disk_with("<driver name='qemu' type='aio'/>")).src.format == "raw"


def test_an_unknown_driver_type_is_refused() -> None:
    exc = error(disk_with("<driver name='qemu' type='qcow3'/>"))
    assert exc.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert exc.message == "unsupported configuration: unknown driver format value 'qcow3'"


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ("type='none'", "Invalid value for attribute 'type' in element 'disk': 'none'."),
        ("type=''", "Invalid value for attribute 'type' in element 'disk': ''."),
        ("device='tape'", "Invalid value for attribute 'device' in element 'disk': 'tape'."),
    ],
)
def test_an_invalid_disk_type_or_device_is_refused(attrs: str, message: str) -> None:
    exc = error(disk_with("", attrs))
    assert exc.code == ErrorNumber.XML_ERROR
    assert exc.message == f"XML error: {message}"


def test_an_invalid_bus_is_refused() -> None:
    exc = error("<disk type='file'><source file='/a'/><target dev='vda' bus='none'/></disk>")
    assert (
        exc.message == "XML error: Invalid value for attribute 'bus' in element 'target': 'none'."
    )


def test_a_target_without_a_bus_reads_its_other_attributes() -> None:
    parsed = read(
        "<disk type='file' device='cdrom'><source file='/a'/>"
        "<target dev='hdc' rotation_rate='7200'/></disk>"
    )
    assert (parsed.dst, parsed.bus, parsed.rotation_rate) == ("hdc", "none", 7200)


def test_a_namespaced_attribute_makes_the_optional_ones_read() -> None:
    parsed = read(
        "<disk xmlns:x='urn:x' x:model='a' type='file' device='disk' model='virtio'>"
        "<source file='/a'/><target dev='vda' bus='virtio'/></disk>"
    )
    assert parsed.model == "virtio"


def test_a_startup_policy_is_read_from_the_source() -> None:
    parsed = read(
        "<disk type='file' device='cdrom'><source file='/a' startupPolicy='optional'/>"
        "<target dev='hdc' bus='ide'/></disk>"
    )
    assert parsed.src.startup_policy == "optional"


def test_a_source_with_an_empty_name_has_no_media() -> None:
    parsed = read("<disk type='file' device='cdrom'><source file=''/><target dev='hdc'/></disk>")
    assert parsed.src.path is None


def test_a_source_attribute_beside_the_path_is_read() -> None:
    parsed = read("<disk type='file'><source file='/a' fdgroup='g'/><target dev='vda'/></disk>")
    assert (parsed.src.path, parsed.src.fdgroup) == ("/a", "g")


def test_a_block_source_with_children_is_read_with_them() -> None:
    parsed = read(
        "<disk type='block'><source dev='/dev/sdb'><seclabel model='dac' relabel='no'/>"
        "</source><target dev='vda'/></disk>"
    )
    assert parsed.src.path == "/dev/sdb"
    assert len(parsed.src.seclabels) == 1


def test_a_disk_level_auth_error_comes_before_a_bus_error() -> None:
    exc = error(
        "<disk type='network'><source protocol='rbd' name='p/i'/>"
        "<auth><secret type='ceph' usage='x'/></auth><target dev='vda' bus='bogus'/></disk>"
    )
    assert exc.message == "XML error: missing username for auth"


def test_a_bus_error_comes_before_a_geometry_error() -> None:
    exc = error(
        "<disk type='file'><source file='/a'/><target dev='vda' bus='bogus'/>"
        "<geometry cyls='x' heads='1' secs='1'/></disk>"
    )
    assert "'bus'" in exc.message


def test_the_rare_children_are_read() -> None:
    parsed = read(
        disk_with(
            "<geometry cyls='1' heads='2' secs='3'/><blockio logical_block_size='512'/>"
            "<transient/><serial>S</serial><wwn>0x5000c50015ea71ac</wwn>"
            "<iotune><total_iops_sec>5</total_iops_sec></iotune>"
        )
    )
    assert parsed.geometry == (1, 2, 3)
    assert parsed.blockio == (512, 0)
    assert parsed.transient is True
    assert (parsed.serial, parsed.wwn) == ("S", "0x5000c50015ea71ac")
    assert parsed.iotune == {"total_iops_sec": 5}


# -- checks -------------------------------------------------------------------------------


def test_a_plain_disk_passes_the_checks() -> None:
    devices(disk_with("<driver name='qemu' type='raw'/>")).check(DomainDeviceContext())


def test_a_floppy_on_another_bus_is_refused() -> None:
    exc = error(
        "<disk type='file' device='floppy'><source file='/a'/><target dev='fda' bus='ide'/></disk>"
    )
    assert exc.message == "internal error: Invalid bus type 'ide' for floppy disk"


def test_a_hard_disk_on_the_floppy_bus_is_refused() -> None:
    exc = error("<disk type='file'><source file='/a'/><target dev='hda' bus='fdc'/></disk>")
    assert exc.message == "internal error: Invalid bus type 'fdc' for disk"


def test_a_removable_disk_outside_usb_is_refused() -> None:
    exc = error(
        "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi' removable='on'/></disk>"
    )
    assert exc.message == "XML error: removable is only valid for usb disks"


def test_a_hard_disk_with_a_cdrom_name_is_refused() -> None:
    exc = error(
        "<disk type='file'><source file='/a'/><target dev='cda' bus='virtio'/>"
        "<address type='pci' domain='0' bus='0' slot='5' function='0'/></disk>"
    )
    assert exc.message == "internal error: Invalid harddisk device name: cda"


def test_a_disk_driver_option_outside_virtio_is_refused() -> None:
    exc = error(
        "<disk type='file'><driver name='qemu' event_idx='on'/><source file='/a'/>"
        "<target dev='sda' bus='scsi'/></disk>"
    )
    assert exc.message == (
        "unsupported configuration: disk event_idx mode supported only for virtio bus"
    )


def test_a_lower_layer_of_the_chain_is_checked_when_the_top_has_no_secrets() -> None:
    disk = DiskDef(dst="vda", bus="virtio", src=StorageSource(type="file", path="/top"))
    base = StorageSource(type="file", path="/base", format="qcow2")
    base.encryption = Encryption("luks", cipher={"name": "aes", "size": "256"})
    disk.src.backing = base
    with pytest.raises(VirtError) as caught:
        disk.validate(DeviceContext())
    assert "supplying <cipher>" in caught.value.message


def test_a_hard_disk_without_media_is_refused() -> None:
    exc = error("<disk type='file'><target dev='vda' bus='virtio'/></disk>")
    assert exc.code == ErrorNumber.NO_SOURCE


# -- output -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "source", "expected"),
    [
        ("type='file'", "<source file='/a' startupPolicy='optional'/>", "file='/a'"),
        ("type='block'", "<source dev='/dev/sdb'/>", "dev='/dev/sdb'"),
        ("type='dir'", "<source dir='/srv'/>", "dir='/srv'"),
    ],
)
def test_a_local_source_is_written_with_its_path(attrs: str, source: str, expected: str) -> None:
    text = written(f"<disk {attrs} device='cdrom'>{source}<target dev='hdc' bus='ide'/></disk>")
    assert f"<source {expected}" in text


def test_a_startup_policy_follows_the_path() -> None:
    text = written(
        "<disk type='file' device='cdrom'><source file='/a' startupPolicy='optional'/>"
        "<target dev='hdc' bus='ide'/></disk>"
    )
    assert "<source file='/a' startupPolicy='optional'/>" in text


def test_an_empty_cdrom_has_no_source_element() -> None:
    text = written("<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>")
    assert "<source" not in text


def test_a_running_disk_source_writes_its_index() -> None:
    disk = DiskDef(dst="vda", bus="virtio", src=StorageSource(type="file", path="/a", index=3))
    source = disk.to_element().find("source")
    assert source is not None
    assert source.items() == [("file", "/a"), ("index", "3")]


def test_a_source_with_a_seclabel_is_written_with_it() -> None:
    text = written(
        "<disk type='file'><source file='/a'><seclabel model='dac' relabel='no'/></source>"
        "<target dev='vda' bus='virtio'/></disk>"
    )
    assert "<source file='/a'>\n" in text
    assert "<seclabel model='dac' relabel='no'/>" in text


def test_a_plain_disk_is_written_as_libvirt_writes_it() -> None:
    text = written(disk_with("<driver name='qemu' type='qcow2'/>"))
    assert text == (
        "<devices>\n"
        "  <disk type='file' device='disk'>\n"
        "    <driver name='qemu' type='qcow2'/>\n"
        "    <source file='/a.img'/>\n"
        "    <target dev='vda' bus='virtio'/>\n"
        "  </disk>\n"
        "</devices>\n"
    )


def test_the_optional_disk_elements_keep_libvirt_order() -> None:
    text = written(
        "<disk type='file' device='disk' snapshot='external'>"
        "<driver name='qemu' type='raw' cache='none' iommu='on'/><source file='/a'/>"
        "<target dev='vda' bus='virtio' rotation_rate='1'/>"
        "<product>P</product><serial>S</serial><transient/><blockio physical_block_size='4096'/>"
        "<geometry cyls='1' heads='2' secs='3' trans='lba'/><readonly/><shareable/>"
        "<iotune><read_iops_sec>4</read_iops_sec><group_name>g</group_name></iotune>"
        "<boot order='1'/><alias name='ua-x'/></disk>"
    )
    tags = [line.strip().split(" ")[0].split(">")[0] for line in text.splitlines()[2:-2]]
    assert tags == [
        "<driver",
        "<source",
        "<geometry",
        "<blockio",
        "<target",
        "<iotune",
        "<read_iops_sec",
        "<group_name",
        "</iotune",
        "<readonly/",
        "<shareable/",
        "<transient/",
        "<serial",
        "<product",
        "<boot",
        "<alias",
    ]
    assert "<driver name='qemu' type='raw' cache='none' iommu='on'/>" in text
    assert "snapshot='external'" in text


def test_device_info_is_written_in_libvirt_order() -> None:
    info = DeviceInfo(alias="ua-n", acpi_index=2, boot_order=1, rom_bar=True)
    info.set_drive(0, 0, 0, 1)
    assert [node.tag for node in info.elements()] == ["boot", "alias", "rom", "acpi", "address"]
