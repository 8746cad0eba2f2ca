"""The shortcuts of device post-parse and validation give libvirt's answers.

Implicit controllers are made without the dataclass constructor, the
controller a drive address needs is read without building the whole
address, video defaults skip the rounding of an absent size, and the
qxl-only sizes are looked at one by one only when one is set, a single
drive address is not checked for duplicates and a plain pty source skips
the source checks. Each must keep the values and the first error of the
general path.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from tests.xml.device_snippets import error
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices.chardev import ChrSourceDef
from virtcore.xml.domain.devices.controller import ControllerDef, ensure_controller
from virtcore.xml.domain.devices.disk import DiskDef
from virtcore.xml.domain.devices.pipeline import define_devices
from virtcore.xml.domain.devices.support import DeviceContext, Seclabel
from virtcore.xml.domain.devices.video import VideoDef
from virtcore.xml.parse import parse_document

_FILE_DISK = "<disk type='file' device='disk'><source file='/{name}'/>{target}</disk>"


def _defined(body: str) -> dict[str, list[object]]:
    defs = define_devices(parse_document(f"<devices>{body}</devices>"))
    return {tag: list(devices) for tag, devices in defs.by_tag.items()}


# -- implicit controllers --------------------------------------------------------------------


def test_an_added_controller_equals_the_constructed_one() -> None:
    controllers: list[ControllerDef] = []
    ensure_controller(controllers, "scsi", 2, "virtio-scsi")
    made = controllers[0]
    expected = ControllerDef(type="scsi", index=2, model="virtio-scsi")
    assert made == expected
    assert [f.name for f in fields(made)] == list(vars(made))


def test_added_controllers_do_not_share_their_containers() -> None:
    controllers: list[ControllerDef] = []
    ensure_controller(controllers, "ide", 0)
    ensure_controller(controllers, "ide", 1)
    first, second = controllers
    first.driver["queues"] = "1"
    first.target["chassis"] = "1"
    first.info.alias = "ide0"
    assert second.driver == {} and second.target == {} and second.info.alias is None


def test_a_present_controller_is_not_added_again() -> None:
    controllers = [ControllerDef(type="ide", index=0)]
    ensure_controller(controllers, "ide", 0)
    assert len(controllers) == 1


def test_a_drive_address_adds_every_controller_up_to_its_own() -> None:
    disk = _FILE_DISK.format(
        name="a",
        target="<target dev='sda' bus='scsi'/>"
        "<address type='drive' controller='2' bus='0' target='0' unit='0'/>",
    )
    controllers = _defined(disk)["controller"]
    scsi = [c for c in controllers if isinstance(c, ControllerDef) and c.type == "scsi"]
    assert [c.index for c in scsi] == [0, 1, 2]


def test_a_disk_named_on_an_ide_bus_gets_its_controller() -> None:
    defined = _defined(_FILE_DISK.format(name="a", target="<target dev='hdc' bus='ide'/>"))
    (disk,) = defined["disk"]
    assert isinstance(disk, DiskDef) and disk.info.address["controller"] == "0"
    assert [(c.type, c.index) for c in defined["controller"] if isinstance(c, ControllerDef)] == [
        ("ide", 0)
    ]


# -- grouped I/O limits ----------------------------------------------------------------------


def test_a_grouped_disk_without_limits_takes_those_of_its_group() -> None:
    limited = _FILE_DISK.format(
        name="a",
        target="<target dev='vda' bus='virtio'/>"
        "<iotune><total_bytes_sec>100</total_bytes_sec><group_name>g</group_name></iotune>",
    )
    bare = _FILE_DISK.format(
        name="b",
        target="<target dev='vdb' bus='virtio'/><iotune><group_name>g</group_name></iotune>",
    )
    disks = _defined(limited + bare)["disk"]
    assert [d.iotune for d in disks if isinstance(d, DiskDef)] == [
        {"total_bytes_sec": 100},
        {"total_bytes_sec": 100},
    ]


# -- video defaults and checks ---------------------------------------------------------------


def test_a_video_without_ram_keeps_no_ram() -> None:
    video = VideoDef(type="vga", vram=1000)
    video.post_parse(DeviceContext())
    assert (video.ram, video.vram) == (0, 1024)


def test_a_qxl_ram_is_rounded_up_to_a_power_of_two() -> None:
    video = VideoDef(type="qxl", ram=3000, vram=4096)
    video.post_parse(DeviceContext())
    assert (video.ram, video.vram) == (4096, 4096)


@pytest.mark.parametrize("name", ["ram", "vram64", "vgamem"])
def test_a_qxl_only_size_is_refused_on_another_model(name: str) -> None:
    exc = error(f"<video><model type='vga' {name}='1024'/></video>")
    assert exc.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert str(exc).endswith(f"{name} attribute only supported for video type qxl")


def test_the_first_qxl_only_size_is_the_one_reported() -> None:
    exc = error("<video><model type='vga' vgamem='1024' ram='1024'/></video>")
    assert str(exc).endswith("ram attribute only supported for video type qxl")


# -- duplicate disks -------------------------------------------------------------------------


def _drive_disk(name: str, dev: str, unit: int) -> str:
    return _FILE_DISK.format(
        name=name,
        target=f"<target dev='{dev}' bus='scsi'/>"
        f"<address type='drive' controller='0' bus='0' target='0' unit='{unit}'/>",
    )


def test_a_single_drive_address_is_no_duplicate() -> None:
    (disk,) = _defined(_drive_disk("a", "sda", 3))["disk"]
    assert isinstance(disk, DiskDef) and disk.info.address["unit"] == "3"


def test_two_disks_on_one_drive_address_are_refused() -> None:
    exc = error(_drive_disk("a", "sda", 1) + _drive_disk("b", "sdb", 1))
    assert exc.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert "Found duplicate drive address for disk with target name 'sda'" in str(exc)


def test_a_named_disk_and_an_addressed_one_on_its_address_are_refused() -> None:
    named = _FILE_DISK.format(name="a", target="<target dev='sdb' bus='scsi'/>")
    exc = error(named + _drive_disk("b", "sdc", 1))
    assert "Found duplicate drive address for disk with target name 'sdb'" in str(exc)


# -- character device sources ----------------------------------------------------------------


def test_a_pty_source_label_still_needs_relabeling() -> None:
    source = ChrSourceDef(type="pty", seclabels=[Seclabel(model="selinux")])
    ctx = DeviceContext(seclabel_relabel={"selinux": False})
    with pytest.raises(VirtError) as caught:
        source.validate(ctx)
    assert caught.value.code == ErrorNumber.CONFIG_UNSUPPORTED


def test_a_plain_pty_source_is_valid() -> None:
    ChrSourceDef(type="pty").validate(DeviceContext(seclabel_relabel={"selinux": False}))
