"""What a parsed domain shows must not depend on how parse and format get their speed.

``Domain.parse`` keeps its definition and writes what the define generates
(UUID, generation id, interface names, the dropped ``id``) into the tree the
first time the tree is handed out; ``Domain.format`` writes the usual domain
straight from its records. Neither may change what a caller sees: the same
text for every flag set, the same errors in the same order, the same tree,
the same calls of the caller's generators, after any copy or change between
parse and format, from any thread. The expected values are those the model
has always given for these documents.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

import pytest
from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.domain.model import Domain

SECURE = int(DomainXMLFlags.SECURE)
INACTIVE = int(DomainXMLFlags.INACTIVE)
MIGRATABLE = int(DomainXMLFlags.MIGRATABLE)

UUID = "33654eae-9af9-517d-a5fd-60981b1670fa"
FIXED_UUID = "11111111-1111-1111-1111-111111111111"

HEAD = "<domain type='test'><name>n</name><memory>1024</memory><os><type>hvm</type></os>"
"""A domain up to its devices, without a UUID."""
NAMED_HEAD = HEAD.replace("</name>", f"</name><uuid>{UUID}</uuid>")
"""The same with a UUID."""

MIXED_INTERFACES = (
    HEAD + "<devices>"
    "<interface type='network'><source network='default'/></interface>"
    "<interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/>"
    "<target dev='vnet0'/><model type='virtio'/></interface>"
    "<interface type='user'><model type='e1000'/></interface>"
    "</devices></domain>"
)

ONE_INTERFACE = (
    NAMED_HEAD + "<devices><interface type='user'><mac address='52:54:00:a0:00:20'/>"
    "</interface></devices></domain>"
)


def _usual(devices: str, *, uuid: str = UUID, boot: bool = True, head: str = "") -> str:
    """libvirt's text of a domain named ``n`` with 1 MiB and one vCPU around *devices*."""
    boot_line = "    <boot dev='hd'/>\n" if boot else ""
    return (
        f"<domain type='test'{head}>\n"
        "  <name>n</name>\n"
        f"  <uuid>{uuid}</uuid>\n"
        "  <memory unit='KiB'>1024</memory>\n"
        "  <currentMemory unit='KiB'>1024</currentMemory>\n"
        "  <vcpu placement='static'>1</vcpu>\n"
        "  <os>\n"
        "    <type arch='i686'>hvm</type>\n"
        f"{boot_line}"
        "  </os>\n"
        "  <clock offset='utc'/>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>restart</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        f"{devices}"
        "  </devices>\n"
        "</domain>\n"
    )


def _tree(domain: Domain) -> str:
    return etree.tostring(domain.element, encoding="unicode")


def _fixed_uuid() -> bytes:
    return b"\x11" * 16


def _counted_uuids() -> tuple[Callable[[], bytes], list[bytes]]:
    """A UUID factory giving 2121..., 2222..., ... and the list of what it gave."""
    made: list[bytes] = []

    def make() -> bytes:
        made.append(bytes([0x21 + len(made)]) * 16)
        return made[-1]

    return make, made


def _counted_macs() -> tuple[Callable[[], str], list[str]]:
    """A MAC generator giving 52:54:00:00:00:01, ...:02, ... and the list of what it gave."""
    made: list[str] = []

    def make() -> str:
        made.append(f"52:54:00:00:00:{len(made) + 1:02x}")
        return made[-1]

    return make, made


def _error(text: str | bytes, **options: object) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as caught:
        Domain.parse(text, **options)  # type: ignore[arg-type]
    return int(caught.value.code), int(caught.value.domain), caught.value.message


# -- what the define generates --------------------------------------------------------------


def test_interfaces_with_and_without_mac_get_generated_addresses_and_names() -> None:
    uuids, made_uuids = _counted_uuids()
    macs, made_macs = _counted_macs()

    domain = Domain.parse(
        MIXED_INTERFACES, uuid_factory=uuids, mac_generator=macs, test_ifnames=True
    )

    assert domain.format() == _usual(
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:00:00:01'/>\n"
        "      <source network='default'/>\n"
        "      <target dev='testnet0'/>\n"
        "    </interface>\n"
        "    <interface type='bridge'>\n"
        "      <mac address='52:54:00:aa:bb:cc'/>\n"
        "      <source bridge='br0'/>\n"
        "      <target dev='testnet1'/>\n"
        "      <model type='virtio'/>\n"
        "    </interface>\n"
        "    <interface type='user'>\n"
        "      <mac address='52:54:00:00:00:02'/>\n"
        "      <target dev='testnet2'/>\n"
        "      <model type='e1000'/>\n"
        "    </interface>\n",
        uuid="21212121-2121-2121-2121-212121212121",
    )
    assert (len(made_uuids), len(made_macs)) == (1, 2)


def test_generated_values_are_in_the_tree_handed_out_after_parse() -> None:
    uuids, _ = _counted_uuids()
    macs, _ = _counted_macs()

    domain = Domain.parse(
        MIXED_INTERFACES, uuid_factory=uuids, mac_generator=macs, test_ifnames=True
    )

    assert _tree(domain) == (
        '<domain type="test"><name>n</name><uuid>21212121-2121-2121-2121-212121212121</uuid>'
        "<memory>1024</memory><os><type>hvm</type></os><devices>"
        '<interface type="network"><mac address="52:54:00:00:00:01"/>'
        '<source network="default"/><target dev="testnet0"/></interface>'
        '<interface type="bridge"><mac address="52:54:00:aa:bb:cc"/><source bridge="br0"/>'
        '<target dev="vnet0"/><model type="virtio"/></interface>'
        '<interface type="user"><mac address="52:54:00:00:00:02"/><target dev="testnet2"/>'
        '<model type="e1000"/></interface></devices></domain>'
    )


def test_tree_looked_at_first_agrees_with_the_text_formatted_after() -> None:
    domain = Domain.parse(
        MIXED_INTERFACES,
        uuid_factory=_fixed_uuid,
        mac_generator=lambda: "52:54:00:00:00:09",
        test_ifnames=True,
    )

    assert domain.xpath("string(./uuid)") == [FIXED_UUID]
    names = [target.get("dev") for target in domain.xpath("./devices/interface/target")]
    assert names == ["testnet0", "vnet0", "testnet2"]
    assert "<target dev='testnet1'/>" in domain.format()
    assert domain.format().count("52:54:00:00:00:09") == 2


def test_uuid_and_generation_id_come_from_one_factory_sequence() -> None:
    uuids, made = _counted_uuids()
    text = (
        "<domain type='test'><name>n</name><genid/><memory>1024</memory>"
        "<os><type>hvm</type></os><devices><interface type='user'/></devices></domain>"
    )

    domain = Domain.parse(text, uuid_factory=uuids, mac_generator=lambda: "52:54:00:00:00:01")

    assert "  <genid>22222222-2222-2222-2222-222222222222</genid>\n" in domain.format()
    assert len(made) == 2
    assert (domain.uuid, domain.genid) == (
        "21212121-2121-2121-2121-212121212121",
        "22222222-2222-2222-2222-222222222222",
    )


def test_inactive_parse_drops_the_id_from_tree_and_text() -> None:
    text = NAMED_HEAD.replace("type='test'", "type='test' id='5'") + "</domain>"

    domain = Domain.parse(text)

    assert domain.format() == _usual("")
    assert _tree(domain) == (
        f'<domain type="test"><name>n</name><uuid>{UUID}</uuid><memory>1024</memory>'
        "<os><type>hvm</type></os></domain>"
    )


def test_running_parse_keeps_the_id_unless_inactive_output_is_asked() -> None:
    text = NAMED_HEAD.replace("type='test'", "type='test' id='5'") + "</domain>"

    domain = Domain.parse(text, inactive=False)

    assert domain.format() == _usual("", head=" id='5'")
    assert domain.format(INACTIVE) == _usual("")
    assert 'id="5"' in _tree(domain)


# -- generators and errors ----------------------------------------------------------------------


def test_error_before_an_interface_without_mac_comes_after_its_address_is_made() -> None:
    uuids, made_uuids = _counted_uuids()
    macs, made_macs = _counted_macs()
    text = (
        HEAD + "<devices><disk type='file'><target dev='vda' bus='bogus'/></disk>"
        "<interface type='user'/></devices></domain>"
    )

    error = _error(text, uuid_factory=uuids, mac_generator=macs)

    assert error == (
        27,
        5,
        "XML error: Invalid value for attribute 'bus' in element 'target': 'bogus'.",
    )
    assert (len(made_uuids), len(made_macs)) == (1, 1)


def test_error_after_interfaces_without_mac_comes_after_their_addresses_are_made() -> None:
    uuids, made_uuids = _counted_uuids()
    macs, made_macs = _counted_macs()
    text = (
        HEAD + "<devices><interface type='user'/><interface type='user'/>"
        "<watchdog model='bogus'/></devices></domain>"
    )

    error = _error(text, uuid_factory=uuids, mac_generator=macs)

    assert error == (67, 20, "unsupported configuration: unknown watchdog model 'bogus'")
    assert (len(made_uuids), len(made_macs)) == (1, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            b"<?xml version='1.0' encoding='UTF-8'?>\n<domain type='test'><name>n</name>"
            b"\xff</domain>",
            (
                35,
                20,
                "(domain_definition):2: Input is not proper UTF-8, indicate encoding !\n"
                "Bytes: 0xFF 0x3C 0x2F 0x64\n"
                "<domain type='test'><name>n</name>\udcff</domain>\n"
                "----------------------------------^",
            ),
            id="undecodable-after-declaration",
        ),
        pytest.param(
            "<domain type='test'><name>n</name></domain> trailing",
            (
                35,
                20,
                "(domain_definition):1: Extra content at the end of the document\n"
                "<domain type='test'><name>n</name></domain> trailing\n"
                "--------------------------------------------^",
            ),
            id="content-after-root",
        ),
        pytest.param(
            "\ufeff<!DOCTYPE domain><domain type='test'/>",
            (
                27,
                20,
                "XML error: DOCTYPE and entity declarations are not allowed in (domain_definition)",
            ),
            id="doctype-after-bom",
        ),
    ],
)
def test_syntax_errors_stay_those_of_libvirt(
    text: str | bytes, expected: tuple[int, int, str]
) -> None:
    assert _error(text) == expected


# -- output of unusual shapes -------------------------------------------------------------------


def test_values_needing_escapes_in_every_written_place() -> None:
    text = (
        f"<domain type='test'><name>a&amp;b'c</name><uuid>{UUID}</uuid>"
        '<title>t&lt;1&gt; "q"</title><description>d\u00e9j\u00e0\nline2</description>'
        "<memory>1024</memory><os><type>hvm</type></os><devices>"
        "<disk type='file' device='disk'><source file='/var/a&amp;b/\u00e9 x.img'/>"
        "<target dev='vda' bus='virtio'/></disk>"
        "<interface type='bridge'><mac address='52:54:00:aa:bb:cc'/>"
        "<source bridge='br&amp;0'/><target dev='t\u00e9p'/></interface>"
        "</devices></domain>"
    )

    expected = (
        _usual(
            "    <disk type='file' device='disk'>\n"
            "      <source file='/var/a&amp;b/\u00e9 x.img'/>\n"
            "      <target dev='vda' bus='virtio'/>\n"
            "    </disk>\n"
            "    <interface type='bridge'>\n"
            "      <mac address='52:54:00:aa:bb:cc'/>\n"
            "      <source bridge='br&amp;0'/>\n"
            "      <target dev='t\u00e9p'/>\n"
            "    </interface>\n"
        )
        .replace(
            "  <name>n</name>\n",
            "  <name>a&amp;b&apos;c</name>\n",
        )
        .replace(
            "</uuid>\n",
            "</uuid>\n  <title>t&lt;1&gt; &quot;q&quot;</title>\n"
            "  <description>d\u00e9j\u00e0\nline2</description>\n",
        )
    )
    assert Domain.parse(text).format() == expected


SERIALS_AND_CONSOLES = _usual(
    "    <controller type='virtio-serial' index='0'/>\n"
    "    <serial type='pty'>\n"
    "      <target port='0'/>\n"
    "    </serial>\n"
    "    <serial type='file'>\n"
    "      <source path='/tmp/s1'/>\n"
    "      <target port='1'/>\n"
    "    </serial>\n"
    "    <console type='pty'>\n"
    "      <target type='serial' port='0'/>\n"
    "    </console>\n"
    "    <console type='pty'>\n"
    "      <target type='virtio' port='1'/>\n"
    "    </console>\n"
    "    <channel type='unix'>\n"
    "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
    "    </channel>\n"
)


@pytest.mark.parametrize("flags", [0, INACTIVE])
def test_several_serial_ports_and_consoles(flags: int) -> None:
    text = (
        NAMED_HEAD + "<devices>"
        "<serial type='pty'><target port='0'/></serial>"
        "<serial type='file'><source path='/tmp/s1'/><target port='1'/></serial>"
        "<console type='pty'><target type='serial' port='0'/></console>"
        "<console type='pty'><target type='virtio' port='1'/></console>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "</devices></domain>"
    )

    assert Domain.parse(text).format(flags) == SERIALS_AND_CONSOLES


LIVE = (
    f"<domain type='test' id='3'><name>n</name><uuid>{UUID}</uuid><memory>1024</memory>"
    "<os><type>hvm</type></os><devices>"
    "<serial type='pty'><source path='/dev/pts/4'/><target port='0'/><alias name='serial0'/>"
    "</serial>"
    "<console type='pty' tty='/dev/pts/4'><source path='/dev/pts/4'/>"
    "<target type='serial' port='0'/><alias name='serial0'/></console>"
    "<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>"
    "<listen type='address' address='127.0.0.1'/></graphics>"
    "<interface type='network'><mac address='52:54:00:aa:bb:cc'/>"
    "<source network='default'/><target dev='vnet3'/><alias name='net0'/></interface>"
    "</devices></domain>"
)
LIVE_VIDEO = (
    "    <video>\n      <model type='cirrus' vram='16384' heads='1' primary='yes'/>\n    </video>\n"
)
LIVE_INTERFACE = (
    "    <interface type='network'>\n"
    "      <mac address='52:54:00:aa:bb:cc'/>\n"
    "      <source network='default'/>\n"
)


def test_running_definition_keeps_its_runtime_data() -> None:
    domain = Domain.parse(LIVE, inactive=False)

    assert domain.format(live=True) == _usual(
        LIVE_INTERFACE + "      <target dev='vnet3'/>\n"
        "      <alias name='net0'/>\n"
        "    </interface>\n"
        "    <serial type='pty'>\n"
        "      <source path='/dev/pts/4'/>\n"
        "      <target port='0'/>\n"
        "      <alias name='serial0'/>\n"
        "    </serial>\n"
        "    <console type='pty' tty='/dev/pts/4'>\n"
        "      <source path='/dev/pts/4'/>\n"
        "      <target type='serial' port='0'/>\n"
        "      <alias name='serial0'/>\n"
        "    </console>\n"
        "    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>\n"
        "      <listen type='address' address='127.0.0.1'/>\n"
        "    </graphics>\n" + LIVE_VIDEO,
        head=" id='3'",
    )


def test_running_definition_printed_inactive_drops_ports_and_pty_paths() -> None:
    domain = Domain.parse(LIVE, inactive=False)

    assert domain.format(INACTIVE, live=True) == _usual(
        LIVE_INTERFACE + "      <target dev='vnet3'/>\n"
        "      <alias name='net0'/>\n"
        "    </interface>\n"
        "    <serial type='pty'>\n"
        "      <target port='0'/>\n"
        "      <alias name='serial0'/>\n"
        "    </serial>\n"
        "    <console type='pty'>\n"
        "      <target type='serial' port='0'/>\n"
        "      <alias name='serial0'/>\n"
        "    </console>\n"
        "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>\n"
        "      <listen type='address' address='127.0.0.1'/>\n"
        "    </graphics>\n" + LIVE_VIDEO
    )


def test_document_of_a_running_domain_defined_again_forgets_runtime_data() -> None:
    domain = Domain.parse(LIVE, inactive=False)

    assert domain.format() == _usual(
        LIVE_INTERFACE + "    </interface>\n"
        "    <serial type='pty'>\n"
        "      <target port='0'/>\n"
        "    </serial>\n"
        "    <console type='pty'>\n"
        "      <target type='serial' port='0'/>\n"
        "    </console>\n"
        "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>\n"
        "      <listen type='address' address='127.0.0.1'/>\n"
        "    </graphics>\n" + LIVE_VIDEO,
        head=" id='3'",
    )


GRAPHICS = (
    NAMED_HEAD + "<devices>"
    "<graphics type='vnc' port='-1' autoport='yes' passwd='s3cr&amp;t' listen='127.0.0.1'>"
    "<listen type='address' address='127.0.0.1'/><listen type='network' network='default'/>"
    "</graphics>"
    "<graphics type='spice' autoport='yes'><listen type='address'/></graphics>"
    "</devices></domain>"
)


@pytest.mark.parametrize(
    ("flags", "password"),
    [(0, ""), (SECURE, " passwd='s3cr&amp;t'"), (MIGRATABLE, "")],
)
def test_graphics_with_several_listens(flags: int, password: str) -> None:
    assert Domain.parse(GRAPHICS).format(flags) == _usual(
        f"    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'{password}>\n"
        "      <listen type='address' address='127.0.0.1'/>\n"
        "      <listen type='network' network='default'/>\n"
        "    </graphics>\n"
        "    <graphics type='spice' autoport='yes'>\n"
        "      <listen type='address'/>\n"
        "    </graphics>\n" + LIVE_VIDEO
    )


@pytest.mark.parametrize("flags", [0, MIGRATABLE])
def test_disks_with_optional_children_sorted_by_name(flags: int) -> None:
    text = (
        NAMED_HEAD + "<devices>"
        "<disk type='file' device='disk'>"
        "<driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>"
        "<source file='/v/a.img'/><backingStore/><target dev='vdb' bus='virtio'/>"
        "<iotune><total_bytes_sec>1000</total_bytes_sec></iotune><serial>S1</serial>"
        "<boot order='1'/><shareable/><alias name='ua-disk1'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/></disk>"
        "<disk type='file' device='cdrom'><source file='/v/c.iso'/>"
        "<target dev='hdc' bus='ide' tray='open'/><readonly/></disk>"
        "<disk type='block' device='disk'><source dev='/dev/sdb'/>"
        "<target dev='vda' bus='virtio'/></disk>"
        "</devices></domain>"
    )

    assert Domain.parse(text).format(flags) == _usual(
        "    <disk type='block' device='disk'>\n"
        "      <source dev='/dev/sdb'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>\n"
        "      <source file='/v/a.img'/>\n"
        "      <backingStore/>\n"
        "      <target dev='vdb' bus='virtio'/>\n"
        "      <iotune>\n"
        "        <total_bytes_sec>1000</total_bytes_sec>\n"
        "      </iotune>\n"
        "      <shareable/>\n"
        "      <serial>S1</serial>\n"
        "      <boot order='1'/>\n"
        "      <alias name='ua-disk1'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <source file='/v/c.iso'/>\n"
        "      <target dev='hdc' bus='ide' tray='open'/>\n"
        "      <readonly/>\n"
        "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>\n"
        "    </disk>\n"
        "    <controller type='ide' index='0'/>\n",
        boot=False,
    )


FOREIGN = (
    f"<domain type='test' xmlns:x='urn:x'><name>n</name><uuid>{UUID}</uuid>"
    "<memory>1024</memory><os><type>hvm</type></os>"
    "<devices><!-- first --><x:disk type='file'/><disk type='file'><source file='/a'/>"
    "<target dev='vda'/></disk><?pi here?><x:interface/><interface type='user'/><unknown/>"
    "</devices><x:meta a='1'/></domain>"
)


def test_foreign_elements_and_comments_among_devices_are_ignored() -> None:
    domain = Domain.parse(FOREIGN, mac_generator=lambda: "52:54:00:00:00:07", test_ifnames=True)

    assert domain.format() == _usual(
        "    <disk type='file' device='disk'>\n"
        "      <source file='/a'/>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "    <interface type='user'>\n"
        "      <mac address='52:54:00:00:00:07'/>\n"
        "      <target dev='testnet0'/>\n"
        "    </interface>\n"
    )
    assert _tree(domain) == (
        f'<domain xmlns:x="urn:x" type="test"><name>n</name><uuid>{UUID}</uuid>'
        "<memory>1024</memory><os><type>hvm</type></os><devices><!-- first -->"
        '<x:disk type="file"/><disk type="file"><source file="/a"/><target dev="vda"/></disk>'
        '<?pi here?><x:interface/><interface type="user"><mac address="52:54:00:00:00:07"/>'
        '<target dev="testnet0"/></interface><unknown/></devices><x:meta a="1"/></domain>'
    )


# -- changes between parse and format -----------------------------------------------------------


def test_unvalidated_parse_completed_then_validated() -> None:
    text = (
        NAMED_HEAD + "<devices><disk type='file'><source file='/a'/>"
        "<target dev='sda' bus='scsi'/></disk></devices></domain>"
    )
    domain = Domain.parse(text, validate=False)
    devices = domain.element.find("devices")
    assert devices is not None
    etree.SubElement(devices, "controller", type="usb", index="0", model="none")

    domain.validate()

    assert domain.format() == _usual(
        "    <disk type='file' device='disk'>\n"
        "      <source file='/a'/>\n"
        "      <target dev='sda' bus='scsi'/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='0'/>\n"
        "    </disk>\n"
        "    <controller type='usb' index='0' model='none'/>\n"
        "    <controller type='scsi' index='0'/>\n"
    )


def test_kept_controller_order_right_after_parse() -> None:
    text = (
        NAMED_HEAD + "<devices><controller type='usb' index='0'/>"
        "<controller type='pci' index='0' model='pci-root'/><controller type='ide' index='0'/>"
        "</devices></domain>"
    )
    domain = Domain.parse(text)

    domain.keep_controller_order()

    assert domain.format() == _usual(
        "    <controller type='usb' index='0'/>\n"
        "    <controller type='pci' index='0' model='pci-root'/>\n"
        "    <controller type='ide' index='0'/>\n"
    )


def test_changes_to_tree_and_model_right_after_parse_are_formatted() -> None:
    domain = Domain.parse(
        MIXED_INTERFACES, uuid_factory=_fixed_uuid, mac_generator=lambda: "52:54:00:00:00:09"
    )
    name = domain.element.find("name")
    assert name is not None

    name.text = "renamed"
    domain.devices.interfaces[0].mac_address = "52:54:00:00:00:0a"

    assert domain.format() == _usual(
        "    <interface type='network'>\n"
        "      <mac address='52:54:00:00:00:0a'/>\n"
        "      <source network='default'/>\n"
        "    </interface>\n"
        "    <interface type='bridge'>\n"
        "      <mac address='52:54:00:aa:bb:cc'/>\n"
        "      <source bridge='br0'/>\n"
        "      <model type='virtio'/>\n"
        "    </interface>\n"
        "    <interface type='user'>\n"
        "      <mac address='52:54:00:00:00:09'/>\n"
        "      <model type='e1000'/>\n"
        "    </interface>\n",
        uuid=FIXED_UUID,
    ).replace("<name>n</name>", "<name>renamed</name>")


# -- copies ---------------------------------------------------------------------------------------


def test_deep_copy_of_a_fresh_parse_holds_the_generated_interface_name() -> None:
    domain = Domain.parse(ONE_INTERFACE, test_ifnames=True)

    clone = copy.deepcopy(domain)

    assert clone.devices.interfaces[0].target_dev == "testnet0"
    assert '<target dev="testnet0"/>' in _tree(clone)


def test_deep_copy_of_a_fresh_parse_changed_then_formatted_keeps_the_interface_name() -> None:
    domain = Domain.parse(ONE_INTERFACE, test_ifnames=True)

    clone = copy.deepcopy(domain)
    clone.name = "m"

    assert "<target dev='testnet0'/>" in clone.format()


def test_deep_copy_of_a_looked_at_parse_holds_the_generated_interface_name() -> None:
    domain = Domain.parse(ONE_INTERFACE, test_ifnames=True)
    domain.element  # noqa: B018 - the tree handed out before the copy

    clone = copy.deepcopy(domain)

    assert clone.devices.interfaces[0].target_dev == "testnet0"


def test_shallow_copy_of_a_fresh_parse_shares_the_completed_tree() -> None:
    domain = Domain.parse(ONE_INTERFACE, test_ifnames=True)

    clone = copy.copy(domain)

    assert clone.element is domain.element
    assert '<target dev="testnet0"/>' in _tree(clone)
    assert clone.format() == domain.format()


# -- threads --------------------------------------------------------------------------------------


def test_threads_formatting_one_fresh_parse_agree() -> None:
    domain = Domain.parse(
        MIXED_INTERFACES,
        uuid_factory=_fixed_uuid,
        mac_generator=lambda: "52:54:00:00:00:09",
        test_ifnames=True,
    )
    texts: list[str] = []
    threads = [threading.Thread(target=lambda: texts.append(domain.format())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(texts) == {domain.format()}
    assert f"<uuid>{FIXED_UUID}</uuid>" in texts[0]


class _SlowUUIDDomain(Domain):
    """A domain whose UUID, once armed, waits for :attr:`release` before it is stored:
    another thread then acts while the first hand-out of the tree is under way."""

    entered: threading.Event
    release: threading.Event

    @property
    def uuid(self) -> str | None:
        return Domain.uuid.__get__(self, Domain)

    @uuid.setter
    def uuid(self, value: str | None) -> None:
        entered = self.__dict__.get("entered")
        if entered is not None:
            entered.set()
            self.release.wait(5)
        Domain.uuid.__set__(self, value)


def _first_hand_out_under_way(action: Callable[[Domain], object]) -> object:
    """What *action* gives for a fresh parse without ``<uuid>`` while another thread is
    handing the tree out for the first time (storing the generated UUID).

    *action* runs in a thread of its own: where it waits for the hand-out to end, the
    hand-out is let go on after a moment and *action* then finishes.
    """
    domain = _SlowUUIDDomain.parse(HEAD + "</domain>", uuid_factory=_fixed_uuid)
    release = domain.__dict__["release"] = threading.Event()
    entered = domain.__dict__["entered"] = threading.Event()
    results: list[object] = []
    reader = threading.Thread(target=lambda: domain.element)
    actor = threading.Thread(target=lambda: results.append(action(domain)))
    reader.start()
    try:
        entered.wait(0.5)  # never set where the tree is complete when parse returns
        actor.start()
        actor.join(0.2)
    finally:
        release.set()
        reader.join()
    actor.join()
    return results[0]


def test_format_while_another_thread_first_reads_the_tree_keeps_the_generated_uuid() -> None:
    text = _first_hand_out_under_way(lambda domain: domain.format())

    assert f"<uuid>{FIXED_UUID}</uuid>" in str(text)


def test_tree_read_while_another_thread_first_reads_it_has_the_generated_uuid() -> None:
    found = _first_hand_out_under_way(lambda domain: domain.xpath("string(./uuid)"))

    assert found == [FIXED_UUID]
