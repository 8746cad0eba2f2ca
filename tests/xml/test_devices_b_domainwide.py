"""Specifications of what libvirt decides for a domain's devices together.

Character device ports and the console alias (:func:`resolve_chardevs`),
videos (:func:`resolve_videos`), smartcard slots (:func:`assign_ccid_addresses`)
and the one-panic-per-model rule - each as libvirt's define applies it.
"""

from __future__ import annotations

import pytest

from virtcore.errors import ConfigUnsupportedError, VirtError, XMLError
from virtcore.xml.domain.devices.chardev import (
    Channel,
    ChrDef,
    Console,
    Parallel,
    Serial,
    resolve_chardevs,
)
from virtcore.xml.domain.devices.panic import PanicDef, check_duplicate_models
from virtcore.xml.domain.devices.smartcard import Smartcard, SmartcardDef, assign_ccid_addresses
from virtcore.xml.domain.devices.support import DeviceContext
from virtcore.xml.domain.devices.video import Video, VideoDef, resolve_videos


def serial(text: str) -> ChrDef:
    return Serial.from_string(text).parse()


def console(text: str) -> ChrDef:
    return Console.from_string(text).parse()


def parallel(text: str) -> ChrDef:
    return Parallel.from_string(text).parse()


def video(text: str) -> VideoDef:
    result = Video.from_string(text).parse()
    assert isinstance(result, VideoDef)
    return result


def smartcard(text: str) -> SmartcardDef:
    result = Smartcard.from_string(text).parse()
    assert isinstance(result, SmartcardDef)
    return result


# -- character devices -----------------------------------------------------------------


def test_a_lone_console_becomes_the_first_serial_port() -> None:
    found = resolve_chardevs(
        [], [], [console("<console type='tcp'><source host='h' service='1'/></console>")], []
    )
    assert [(d.device_type, d.source.type, d.port) for d in found.serials] == [("serial", "tcp", 0)]


def test_a_lone_serial_port_gets_a_console_alias() -> None:
    found = resolve_chardevs([], [serial("<serial type='pty'/>")], [], [])
    written = found.consoles_to_format()
    assert [(d.device_type, d.target_type, d.port) for d in written] == [("console", "serial", 0)]


def test_a_console_that_differs_from_the_serial_port_is_written_as_the_serial_port() -> None:
    found = resolve_chardevs(
        [],
        [serial("<serial type='file'><source path='/s'/></serial>")],
        [console("<console type='pty'/>")],
        [],
    )
    assert [d.source.type for d in found.consoles_to_format()] == ["file"]


def test_a_virtio_console_is_kept_behind_the_serial_alias() -> None:
    found = resolve_chardevs(
        [],
        [serial("<serial type='pty'/>")],
        [console("<console type='pty'><target type='virtio'/></console>")],
        [],
    )
    assert [d.target_type for d in found.consoles_to_format()] == ["serial", "virtio"]


def test_consoles_other_than_the_first_cannot_be_serial() -> None:
    with pytest.raises(ConfigUnsupportedError, match="Only the first console can be a serial port"):
        resolve_chardevs(
            [],
            [],
            [
                console("<console type='pty'/>"),
                console("<console type='pty'><target type='serial'/></console>"),
            ],
            [],
        )


def test_non_hvm_guests_have_no_console_alias() -> None:
    found = resolve_chardevs(
        [], [], [console("<console type='pty'/>")], [], DeviceContext(os_type="xen")
    )
    assert (found.serials, [d.target_type for d in found.consoles_to_format()]) == ([], ["serial"])


def test_parallel_ports_continue_after_the_highest_one_before_them() -> None:
    ports = [
        parallel("<parallel type='pty'/>"),
        parallel("<parallel type='pty'><target port='4'/></parallel>"),
        parallel("<parallel type='pty'/>"),
    ]
    assert [d.port for d in resolve_chardevs(ports, [], [], []).parallels] == [0, 4, 5]


def test_isa_serial_ports_fill_the_free_slots() -> None:
    ports = [
        serial("<serial type='pty'><target type='isa-serial'/></serial>"),
        serial("<serial type='pty'><target type='isa-serial' port='0'/></serial>"),
    ]
    assert [d.port for d in resolve_chardevs([], ports, [], []).serials] == [1, 0]


def test_two_isa_serial_ports_cannot_share_a_port() -> None:
    twice = [serial("<serial type='pty'><target type='isa-serial' port='1'/></serial>")] * 2
    with pytest.raises(VirtError, match="target port '1' already allocated"):
        resolve_chardevs([], twice, [], [])


def test_resolving_does_not_change_the_parsed_devices() -> None:
    alone = serial("<serial type='pty'/>")
    resolve_chardevs([], [alone], [], [])
    assert alone.port == -1


def test_validation_of_character_devices_can_be_skipped() -> None:
    broken = serial("<serial type='dev'/>")
    with pytest.raises(VirtError, match="Missing source path attribute for char device"):
        resolve_chardevs([], [broken], [], [])
    assert resolve_chardevs([], [broken], [], [], validate=False).serials


def test_a_unix_channel_of_virtio_may_leave_its_path_to_the_hypervisor() -> None:
    channel = Channel.from_string(
        "<channel type='unix'><target type='virtio' name='n'/></channel>"
    ).parse()
    assert resolve_chardevs([], [], [], [channel]).channels[0].source.path is None


# -- videos ----------------------------------------------------------------------------


def test_a_primary_video_moves_to_the_front() -> None:
    videos = resolve_videos(
        [
            video("<video><model type='qxl'/></video>"),
            video("<video><model type='vga' primary='yes'/></video>"),
        ]
    )
    assert [(v.type, v.primary) for v in videos] == [("vga", True), ("qxl", False)]


def test_graphics_without_video_get_the_default_video() -> None:
    videos = resolve_videos([], graphics=True)
    assert [(v.type, v.vram, v.heads, v.primary) for v in videos] == [("cirrus", 16384, 1, True)]


def test_no_graphics_and_no_video_means_no_video() -> None:
    assert resolve_videos([]) == []


def test_a_leading_none_video_keeps_only_its_alias() -> None:
    [only] = resolve_videos(
        [video("<video><model type='none' vram='8'/><alias name='ua-v'/></video>")]
    )
    assert (only.type, only.vram, only.heads, only.primary, only.info.alias) == (
        "none",
        0,
        0,
        False,
        "ua-v",
    )


def test_two_primary_videos_are_refused() -> None:
    with pytest.raises(ConfigUnsupportedError, match="Only one primary video device is supported"):
        resolve_videos(
            [
                video("<video><model type='vga' primary='yes'/></video>"),
                video("<video><model type='qxl' primary='yes'/></video>"),
            ]
        )


def test_video_memory_defaults_depend_on_the_hypervisor() -> None:
    [vbox] = resolve_videos(
        [video("<video><model type='vga'/></video>")], ctx=DeviceContext(virt_type="vbox")
    )
    assert vbox.vram == 8192


# -- smartcards and panics ---------------------------------------------------------------


def test_smartcards_without_address_take_the_next_slot_of_controller_zero() -> None:
    cards = [
        smartcard(
            "<smartcard mode='host'><address type='ccid' controller='0' slot='3'/></smartcard>"
        ),
        smartcard("<smartcard mode='host'/>"),
    ]
    assert assign_ccid_addresses(cards) == [0, 0]
    assert cards[1].info.address == {"controller": "0", "slot": "4"}


def test_smartcards_report_the_ccid_controllers_they_need() -> None:
    cards = [
        smartcard(
            "<smartcard mode='host'><address type='ccid' controller='2' slot='0'/></smartcard>"
        )
    ]
    assert assign_ccid_addresses(cards) == [2]


def test_two_panic_devices_of_one_model_are_refused() -> None:
    with pytest.raises(XMLError, match="Multiple panic devices with model 'isa'"):
        check_duplicate_models([PanicDef(model="isa"), PanicDef(model="isa")])
