"""The shortcuts of device output and reading give what the general code gives.

Output elements take the attribute lists they are given as their own,
optional elements keep absent attributes instead of filtering them, the
writer checks all values for characters to escape at once, ``<devices>``
skips the hidden-device checks of kinds that never hide and writes the
console showing a serial port without copying it, and readers make their
records from a copied set of defaults and skip blocks of children that
are absent. Each shortcut must keep libvirt's output and errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.domain.devices import Devices, DomainDeviceContext
from virtcore.xml.domain.devices.chardev import ChrDef, _stub_console
from virtcore.xml.domain.devices.graphics import GraphicsDef, _new_graphics
from virtcore.xml.domain.devices.interface import InterfaceDef, new_interface
from virtcore.xml.domain.devices.pipeline import define_devices
from virtcore.xml.domain.devices.support import (
    element,
    factory_fields,
    field_defaults,
    optional_element,
    prop_int,
    prop_uint,
    prop_ullong,
)
from virtcore.xml.domain.formatter import RULES
from virtcore.xml.domain.outnode import OutNode, serialize
from virtcore.xml.format import format_xml
from virtcore.xml.parse import parse_document

INACTIVE = int(DomainXMLFlags.INACTIVE)
MIGRATABLE = int(DomainXMLFlags.MIGRATABLE)


def written(body: str, flags: int = INACTIVE, *, inactive: bool = True) -> str:
    devices = Devices(parse_document(f"<devices>{body}</devices>"))
    return devices.format(flags, DomainDeviceContext(inactive=inactive))


def lines(*body: str) -> str:
    return "\n".join(["<devices>", *(f"  {line}" for line in body), "</devices>"]) + "\n"


def serialized(root: OutNode) -> str:
    text = serialize(root, RULES)
    assert text == format_xml(root.to_lxml(), rules=RULES)
    return text


# -- output nodes -------------------------------------------------------------------------


def test_an_element_keeps_the_attribute_list_it_is_given_unchanged_by_set() -> None:
    pairs: list[tuple[str, str | int | None]] = [("dev", "vda"), ("bus", None)]
    node = element("target", pairs)
    node.set("dev", "vdb")
    assert pairs == [("dev", "vda"), ("bus", None)]
    assert serialized(node) == "<target dev='vdb'/>\n"


def test_an_optional_element_with_only_absent_attributes_is_none() -> None:
    assert optional_element("driver", [("name", None), ("queues", None)]) is None


def test_an_optional_element_leaves_its_absent_attributes_out() -> None:
    node = optional_element("driver", [("name", None), ("queues", 4), ("txmode", None)])
    assert node is not None
    assert node.attrs == {"queues": "4"}
    assert serialized(node) == "<driver queues='4'/>\n"


def test_an_optional_element_with_a_child_but_no_attribute_is_written() -> None:
    node = optional_element("source", [("path", None)], [None, element("reconnect")])
    assert node is not None
    assert serialized(node) == "<source>\n  <reconnect/>\n</source>\n"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\x01b\x1fc", "abc"),
        ("tab\tnew\nline\rdel\x7f", "tab\tnew\nline\rdel\x7f"),
        ("caf\u00e9\x02", "caf\u00e9"),
    ],
)
def test_control_characters_of_values_are_dropped_in_ascii_and_other_text(
    value: str, shown: str
) -> None:
    # lxml refuses control characters: no equivalent tree to compare with.
    node = element("domain", (), [element("name", [("v", value)], text=value)])
    expected = f"<domain>\n  <name v='{shown}'>{shown}</name>\n</domain>\n"
    assert serialize(node, RULES) == expected


# -- the devices container ------------------------------------------------------------------


def test_a_serial_console_is_written_as_the_serial_port_it_shows() -> None:
    assert written("<serial type='pty'/><console type='pty'/>") == lines(
        "<serial type='pty'>",
        "  <target port='0'/>",
        "</serial>",
        "<console type='pty'>",
        "  <target type='serial' port='0'/>",
        "</console>",
    )


def test_a_running_serial_console_names_the_terminal_of_its_serial_port() -> None:
    body = (
        "<serial type='pty'><source path='/dev/pts/3'/><target port='1'/></serial>"
        "<console type='pty'><source path='/dev/pts/3'/></console>"
    )
    assert written(body, 0, inactive=False) == lines(
        "<serial type='pty'>",
        "  <source path='/dev/pts/3'/>",
        "  <target port='1'/>",
        "</serial>",
        "<console type='pty' tty='/dev/pts/3'>",
        "  <source path='/dev/pts/3'/>",
        "  <target type='serial' port='1'/>",
        "</console>",
    )


def test_the_console_element_equals_that_of_the_console_copy() -> None:
    body = "<serial type='file'><source path='/tmp/x' append='on'/></serial><console type='file'/>"
    defs = define_devices(parse_document(f"<devices>{body}</devices>"))
    assert defs.chardevs is not None
    consoles = defs.chardevs.consoles_to_format()
    made = defs.chardevs.console_elements(0)
    assert [serialize(node, RULES) for node in made] == [
        serialize(console.to_element(0), RULES) for console in consoles
    ]


def test_a_ps2_keyboard_is_still_hidden_in_migratable_output() -> None:
    body = "<input type='keyboard' bus='ps2'/><input type='mouse' bus='ps2'/>"
    assert written(body, INACTIVE | MIGRATABLE) == lines("<input type='mouse' bus='ps2'/>")


def test_an_empty_redirection_filter_is_still_left_out() -> None:
    assert written("<redirfilter/>") == "<devices>\n</devices>\n"


def test_devices_with_only_an_emulator_write_the_emulator() -> None:
    assert written("<emulator>/usr/bin/x</emulator>") == lines("<emulator>/usr/bin/x</emulator>")


def test_a_controller_writes_its_driver_only_when_it_has_one() -> None:
    body = (
        "<controller type='scsi' index='0' model='virtio-scsi'><driver iothread='2'/></controller>"
        "<controller type='ide' index='0'/>"
    )
    assert written(body) == lines(
        "<controller type='scsi' index='0' model='virtio-scsi'>",
        "  <driver iothread='2'/>",
        "</controller>",
        "<controller type='ide' index='0'/>",
    )


def test_inputs_write_their_source_and_driver_only_when_they_have_them() -> None:
    body = (
        "<input type='evdev'><source dev='/dev/input/event1' grab='all' repeat='on'/></input>"
        "<input type='tablet' bus='virtio'><driver iommu='on'/></input>"
        "<input type='mouse' bus='ps2'/>"
    )
    assert written(body) == lines(
        "<input type='evdev'>",
        "  <source dev='/dev/input/event1' grab='all' repeat='on'/>",
        "</input>",
        "<input type='tablet' bus='virtio'>",
        "  <driver iommu='on'/>",
        "</input>",
        "<input type='mouse' bus='ps2'/>",
    )


def test_a_memory_balloon_writes_its_virtio_driver_options() -> None:
    body = "<memballoon model='virtio'><driver iommu='on'/></memballoon>"
    assert written(body) == lines(
        "<memballoon model='virtio'>", "  <driver iommu='on'/>", "</memballoon>"
    )


# -- records made from defaults and blocks skipped --------------------------------------------


def test_a_new_interface_equals_the_dataclass_call() -> None:
    made = new_interface("bridge")
    made.info = InterfaceDef().info
    assert made == InterfaceDef(type="bridge")


def test_a_new_graphics_record_equals_the_dataclass_call() -> None:
    assert _new_graphics("spice") == GraphicsDef(type="spice")


def test_new_graphics_records_make_every_container_of_their_own() -> None:
    one, two = _new_graphics("vnc"), _new_graphics("vnc")
    for name in factory_fields(GraphicsDef):
        assert getattr(one, name) is not getattr(two, name), name


def test_the_console_stub_equals_the_dataclass_call() -> None:
    made = _stub_console()
    assert made == ChrDef(device_type="console", target_type="serial")
    assert made.source.seclabels is not _stub_console().source.seclabels


def test_new_interfaces_make_every_container_of_their_own() -> None:
    one, two = new_interface("network"), new_interface("network")
    made = factory_fields(InterfaceDef) - {"info"}  # the reader sets the info last
    for name in made:
        assert getattr(one, name) is not getattr(two, name), name


def test_field_defaults_leave_factory_fields_to_the_caller() -> None:
    @dataclasses.dataclass
    class Record:
        name: str
        size: int = 3
        items: list[int] = dataclasses.field(default_factory=list)

    assert field_defaults(Record) == {"name": None, "size": 3, "items": None}
    assert factory_fields(Record) == {"items"}


def test_interface_children_beyond_the_usual_ones_are_still_read() -> None:
    body = (
        "<interface type='network'><mac address='52:54:00:11:22:33'/>"
        "<source network='default'/><link state='down'/><mtu size='1500'/></interface>"
    )
    assert written(body) == lines(
        "<interface type='network'>",
        "  <mac address='52:54:00:11:22:33'/>",
        "  <source network='default'/>",
        "  <link state='down'/>",
        "  <mtu size='1500'/>",
        "</interface>",
    )


def test_an_invalid_link_state_alone_is_still_refused() -> None:
    body = "<interface type='user'><link state='sideways'/></interface>"
    with pytest.raises(VirtError, match="unknown interface link state 'sideways'"):
        written(body)


def test_a_virtio_interface_writes_its_driver_attributes() -> None:
    body = (
        "<interface type='user'><mac address='52:54:00:11:22:33'/>"
        "<model type='virtio'/><driver queues='4' iommu='on'/></interface>"
    )
    assert written(body) == lines(
        "<interface type='user'>",
        "  <mac address='52:54:00:11:22:33'/>",
        "  <model type='virtio'/>",
        "  <driver queues='4' iommu='on'/>",
        "</interface>",
    )


@pytest.mark.parametrize(("given", "read"), [("016384", "16384"), ("+8192", "8192")])
def test_video_sizes_are_read_as_the_c_reader_reads_them(given: str, read: str) -> None:
    body = f"<video><model type='vga' vram='{given}'/></video>"
    assert f"vram='{read}'" in written(body)


def test_a_video_size_beyond_an_unsigned_int_is_refused() -> None:
    body = "<video><model type='vga' vram='4294967296'/></video>"
    with pytest.raises(VirtError, match="cannot parse video vram '4294967296'"):
        written(body)


def test_a_namespaced_video_size_is_not_the_size() -> None:
    body = "<video><model xmlns:x='urn:x' type='vga' x:vram='4096'/></video>"
    assert "vram='16384'" in written(body)


def test_an_unknown_video_model_is_refused_before_a_bad_size() -> None:
    body = "<video><model type='nothing' vram='x'/></video>"
    with pytest.raises(VirtError, match="unknown video model 'nothing'"):
        written(body)


# -- number attributes ------------------------------------------------------------------------

_NUMBERS = [
    "0", "7", "007", "123456789", "1234567890", "2147483648", "4294967295", "4294967296",
    "18446744073709551616", "-1", "+5", " 5", "", "0x10", "12a", "\u0661",
]  # fmt: skip


def _read(reader: Callable[..., int | None], value: str, **flags: bool) -> int | str | None:
    node = etree.fromstring("<x/>")
    node.set("n", value)
    try:
        return reader(node, "n", **flags)
    except VirtError as err:
        return str(err)


@pytest.mark.parametrize("value", _NUMBERS)
def test_number_attributes_read_as_the_c_readers_read_them(value: str) -> None:
    for reader, convert, expected in (
        (prop_int, units.parse_int, "integer value"),
        (prop_uint, units.parse_uint, "non-negative integer value"),
        (prop_ullong, units.parse_ullong, "non-negative integer value"),
    ):
        try:
            wanted: int | str | None = convert(value, 10)
        except ValueError:
            wanted = (
                "XML error: Invalid value for attribute 'n' in element 'x': "
                f"'{value}'. Expected {expected}"
            )
        assert _read(reader, value) == wanted, reader.__name__


def test_zero_is_still_refused_where_it_is_not_permitted() -> None:
    assert _read(prop_uint, "000", nonzero=True) == (
        "XML error: Invalid value for attribute 'n' in element 'x': Zero is not permitted"
    )


def test_a_missing_required_number_is_still_reported() -> None:
    node = etree.fromstring("<x/>")
    with pytest.raises(VirtError, match="Missing required attribute 'n' in element 'x'"):
        prop_uint(node, "n", required=True)
