"""Specifications of the device models as objects: typed properties, edits, libvirt's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import ConfigUnsupportedError, VirtError, XMLError
from virtcore.xml.builder import XMLChildList, XMLNode
from virtcore.xml.domain.devices.chardev import Channel, ChardevModel, Console, Serial
from virtcore.xml.domain.devices.graphics import Graphics
from virtcore.xml.domain.devices.input import Input, InputDef
from virtcore.xml.domain.devices.iommu import IOMMU
from virtcore.xml.domain.devices.memballoon import MemBalloon
from virtcore.xml.domain.devices.memory import MemoryDevice
from virtcore.xml.domain.devices.panic import Panic
from virtcore.xml.domain.devices.rng import RNG
from virtcore.xml.domain.devices.shmem import Shmem
from virtcore.xml.domain.devices.smartcard import Smartcard
from virtcore.xml.domain.devices.sound import Sound
from virtcore.xml.domain.devices.support import DeviceContext, DeviceModel
from virtcore.xml.domain.devices.tpm import TPM
from virtcore.xml.domain.devices.video import Video, VideoDef
from virtcore.xml.domain.devices.vsock import VSock
from virtcore.xml.domain.devices.watchdog import Watchdog, WatchdogDef
from virtcore.xml.parse import XMLParseError, parse_document

SECURE = int(DomainXMLFlags.SECURE)
INACTIVE = int(DomainXMLFlags.INACTIVE)
MIGRATABLE = int(DomainXMLFlags.MIGRATABLE)

MODELS: list[type[DeviceModel]] = [
    ChardevModel, Serial, Channel, Graphics, Input, Video, Sound, Smartcard, RNG, Watchdog,
    MemBalloon, TPM, Panic, Shmem, MemoryDevice, IOMMU, VSock,
]  # fmt: skip
DATA = Path(__file__).parent.parent / "data" / "xml" / "devices_b"


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


# -- reading and editing ---------------------------------------------------------------


def test_typed_properties_read_the_live_element() -> None:
    graphics = Graphics.from_string("<graphics type='vnc' port='5901' keymap='de'/>")
    assert (graphics.type, graphics.port, graphics.keymap) == ("vnc", 5901, "de")


def test_setting_a_property_creates_the_element_it_needs() -> None:
    memory = MemoryDevice.from_string("<memory model='dimm'/>")
    memory.target_size = 524288
    assert memory.to_string() == (
        "<memory model='dimm'>\n  <target>\n    <size unit='KiB'>524288</size>\n"
        "  </target>\n</memory>\n"
    )


def test_new_children_go_where_libvirt_writes_them() -> None:
    serial = Serial.from_string(
        "<serial type='pty'><target port='0'/><alias name='ua-s'/></serial>"
    )
    serial.log_file = "/tmp/log"
    serial.source_path = "/dev/pts/1"
    assert [child.tag for child in serial.element] == ["source", "log", "target", "alias"]


def test_unknown_content_survives_edits_and_round_trips() -> None:
    text = (
        "<watchdog model='ib700' x:extra='1' xmlns:x='urn:x'><x:note>n</x:note><future/></watchdog>"
    )
    watchdog = Watchdog.from_string(text)
    watchdog.action = "pause"
    again = Watchdog.from_string(watchdog.to_string())
    assert again.action == "pause"
    assert again.xpath("./future") and again.xpath("./*[local-name()='note']")


def test_libvirts_output_drops_what_libvirt_does_not_know() -> None:
    watchdog = Watchdog.from_string("<watchdog model='ib700'><future/></watchdog>")
    assert watchdog.format() == "<watchdog model='ib700' action='reset'/>\n"


def test_graphics_listens_are_a_live_list() -> None:
    graphics = Graphics.from_string("<graphics type='vnc'/>")
    listen = graphics.listens.append()
    listen.type = "address"
    listen.address = "127.0.0.1"
    assert lines(graphics.format()) == [
        "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>",
        "<listen type='address' address='127.0.0.1'/>",
        "</graphics>",
    ]


def test_sound_codecs_are_added_after_the_existing_ones() -> None:
    sound = Sound.from_string(
        "<sound model='ich9'><codec type='duplex'/><alias name='ua-s'/></sound>"
    )
    sound.add_codec("micro")
    assert sound.codecs == ["duplex", "micro"]
    assert [child.tag for child in sound.element] == ["codec", "codec", "alias"]


def test_shmem_size_reads_units_and_writes_bytes() -> None:
    shmem = Shmem.from_string("<shmem name='s'><size unit='M'>4</size></shmem>")
    assert shmem.size == 4 * 1024 * 1024
    shmem.size = 8 * 1024 * 1024
    assert "<size unit='M'>8</size>" in shmem.format()


def test_a_device_document_with_bad_syntax_names_the_device_definition() -> None:
    with pytest.raises(XMLParseError, match=r"\(device_definition\)"):
        Watchdog.from_string("<watchdog model='ib700'>")


def test_a_device_model_refuses_a_document_of_another_element() -> None:
    with pytest.raises(VirtError, match="expecting root element of 'watchdog'"):
        Watchdog.from_string("<panic/>")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_typed_property_is_exercised_by_the_accepted_corpus(model: type[DeviceModel]) -> None:
    golden = json.loads((DATA / "golden.json").read_text())
    elements = [
        node
        for path in sorted((DATA / "cases").glob("*.xml"))
        if "xml" in golden[path.stem]
        for node in parse_document(path.read_text()).iterfind("devices/*")
        if isinstance(node.tag, str)
    ]
    owners = [m for m in MODELS if issubclass(m, model) and m.TAG] or [model]
    for name, descriptor in vars(model).items():
        if not hasattr(descriptor, "xpath"):
            continue
        values = [
            getattr(owner(node), name)
            for owner in owners
            for node in elements
            if node.tag == owner.TAG
        ]
        if isinstance(descriptor, XMLChildList):
            values = [len(v) or None for v in values]
        assert any(v not in (None, "", []) for v in values), f"{model.__name__}.{name}"


# -- libvirt's output for one device ---------------------------------------------------


def test_graphics_passwords_are_written_only_with_the_secure_flag() -> None:
    graphics = Graphics.from_string("<graphics type='vnc' passwd='secret'/>")
    assert "passwd" not in graphics.format()
    assert "passwd='secret'" in graphics.format(SECURE)


def test_password_expiry_is_normalised_to_utc_iso_form() -> None:
    graphics = Graphics.from_string(
        "<graphics type='spice' passwd='p' passwdValidTo='2010-1-2T3:4:5'/>"
    )
    assert "passwdValidTo='2010-01-02T03:04:05'" in graphics.format()


def test_an_automatic_vnc_port_is_written_as_minus_one() -> None:
    assert (
        Graphics.from_string("<graphics type='vnc' port='5900' autoport='yes'/>")
        .format()
        .startswith("<graphics type='vnc' port='-1' autoport='yes'>")
    )


def test_a_spice_display_without_ports_listens_nowhere() -> None:
    assert (
        "<listen type='none'/>"
        in Graphics.from_string("<graphics type='spice' autoport='no'/>").format()
    )


def test_ps2_keyboards_are_left_out_of_migratable_xml() -> None:
    keyboard = Input.from_string("<input type='keyboard'/>")
    assert keyboard.format(INACTIVE) == "<input type='keyboard' bus='ps2'/>\n"
    assert keyboard.format(MIGRATABLE) == ""


@pytest.mark.parametrize(
    ("ctx", "bus"),
    [
        (DeviceContext(), "ps2"),
        (DeviceContext(arch="ppc64"), "usb"),
        (DeviceContext(arch="s390x"), "virtio"),
        (DeviceContext(os_type="xen"), "xen"),
    ],
)
def test_a_mouse_without_bus_gets_the_domains_default(ctx: DeviceContext, bus: str) -> None:
    definition = Input.from_string("<input type='mouse'/>").definition(ctx)
    assert isinstance(definition, InputDef)
    assert definition.bus == bus


def test_a_tablet_on_the_ps2_bus_is_refused() -> None:
    with pytest.raises(VirtError, match="ps2 bus does not support tablet input device"):
        Input.from_string("<input type='tablet' bus='ps2'/>").check()


@pytest.mark.parametrize(
    ("ctx", "model"),
    [
        (DeviceContext(), "cirrus"),
        (DeviceContext(arch="ppc64"), "vga"),
        (DeviceContext(os_type="xen"), "xen"),
    ],
)
def test_a_video_without_model_gets_the_test_drivers_default(
    ctx: DeviceContext, model: str
) -> None:
    definition = Video.from_string("<video/>").definition(ctx)
    assert isinstance(definition, VideoDef)
    assert definition.type == model


def test_video_memory_is_rounded_up_to_a_power_of_two() -> None:
    assert (
        "vram='131072'"
        in Video.from_string("<video><model type='vga' vram='70000'/></video>").format()
    )


def test_a_lone_video_is_the_primary_one() -> None:
    assert "primary='yes'" in Video.from_string("<video><model type='qxl'/></video>").format()


def test_a_lone_console_is_written_as_the_serial_ports_alias() -> None:
    assert lines(Console.from_string("<console type='pty'/>").format()) == [
        "<console type='pty'>",
        "<target type='serial' port='0'/>",
        "</console>",
    ]


def test_a_channel_needs_a_target_type() -> None:
    with pytest.raises(XMLError, match="target type must be specified for channel device"):
        Channel.from_string("<channel type='pty'/>").check()


def test_a_guestfwd_address_is_written_in_canonical_form() -> None:
    channel = Channel.from_string(
        "<channel type='pty'><target type='guestfwd' address='10.1' port='1'/></channel>"
    )
    assert "address='10.0.0.1'" in channel.format()


def test_a_lone_smartcard_takes_slot_zero_of_ccid_controller_zero() -> None:
    assert (
        "<address type='ccid' controller='0' slot='0'/>"
        in Smartcard.from_string("<smartcard mode='host'/>").format()
    )


def test_the_random_backend_reads_dev_random_by_default() -> None:
    text = RNG.from_string("<rng model='virtio'><backend model='random'/></rng>").format()
    assert "<backend model='random'>/dev/random</backend>" in text


def test_a_negative_stats_period_means_no_statistics() -> None:
    balloon = MemBalloon.from_string("<memballoon model='virtio'><stats period='-1'/></memballoon>")
    assert balloon.format() == "<memballoon model='virtio'/>\n"


def test_pcr_banks_are_written_once_each_in_libvirts_order() -> None:
    tpm = TPM.from_string(
        "<tpm><backend type='emulator' version='2.0'><active_pcr_banks>"
        "<sha512/><sha1/><sha512/></active_pcr_banks></backend></tpm>"
    )
    assert [b.tag for b in tpm.to_libvirt_element().iter("sha1", "sha256", "sha384", "sha512")] == [
        "sha1",
        "sha512",
    ]


def test_a_passthrough_tpm_defaults_to_dev_tpm0() -> None:
    assert (
        "<device path='/dev/tpm0'/>"
        in TPM.from_string("<tpm><backend type='passthrough'/></tpm>").format()
    )


def test_a_panic_device_without_model_or_address_is_not_written() -> None:
    assert Panic.from_string("<panic/>").format() == ""


def test_virtio_pmem_memory_is_shared() -> None:
    memory = MemoryDevice.from_string(
        "<memory model='virtio-pmem'><source><path>/p</path></source>"
        "<target><size>1024</size></target></memory>"
    )
    assert memory.format().startswith("<memory model='virtio-pmem' access='shared'>")


def test_ppc64_nvdimms_get_a_generated_uuid() -> None:
    ctx = DeviceContext(arch="ppc64", new_uuid=lambda: "00000000-0000-0000-0000-000000000001")
    memory = MemoryDevice.from_string(
        "<memory model='nvdimm'><source><path>/n</path></source><target>"
        "<size>1024</size><label><size>128</size></label></target></memory>"
    )
    assert "<uuid>00000000-0000-0000-0000-000000000001</uuid>" in memory.format(ctx=ctx)


def test_virtio_mem_current_size_is_shown_only_for_running_domains() -> None:
    memory = MemoryDevice.from_string(
        "<memory model='virtio-mem'><target><size unit='MiB'>64</size>"
        "<block unit='MiB'>2</block><requested unit='MiB'>32</requested></target></memory>"
    )
    assert "<current" in memory.format()
    assert "<current" not in memory.format(INACTIVE)


def test_interrupt_remapping_needs_the_split_ioapic() -> None:
    iommu = IOMMU.from_string("<iommu model='intel'><driver intremap='on'/></iommu>")
    with pytest.raises(ConfigUnsupportedError, match=r"ioapic driver='qemu'"):
        iommu.check()
    iommu.check(DeviceContext(ioapic_driver="qemu"))


@pytest.mark.parametrize(("cid", "auto"), [("<cid address='5'/>", "no"), ("", "yes")])
def test_vsock_auto_cid_is_decided_and_written(cid: str, auto: str) -> None:
    assert f"auto='{auto}'" in VSock.from_string(f"<vsock model='virtio'>{cid}</vsock>").format()


def test_definitions_are_independent_of_the_live_element() -> None:
    watchdog = Watchdog.from_string("<watchdog model='ib700'/>")
    definition = watchdog.definition()
    watchdog.model = "i6300esb"
    assert isinstance(definition, WatchdogDef)
    assert definition.model == "ib700"


def test_device_models_are_xml_nodes_usable_in_containers() -> None:
    container = etree.fromstring(
        "<devices><rng model='virtio'><backend model='builtin'/></rng></devices>"
    )
    assert isinstance(RNG(container[0]), XMLNode)
    assert RNG(container[0]).backend_model == "builtin"
