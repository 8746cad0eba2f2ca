"""The domain's direct text output (textformat, devices.textwrite) against the general route.

``format_definition`` writes the usual domain straight from its records;
every document must print exactly as ``build_element`` + ``serialize``
print it. The corpus tests compare both routes over every domain document
of the suites, with each flag; the perturbation tests change one field of
a device record at a time and require a writer either to decline the
device or to print what its ``to_element`` prints - so a field a writer
does not know cannot be dropped silently, and a field a writer leaves
untested as a setting of other types is shown not to matter. Further tests
pin the shortcuts for the usual records (device info, driver options, the
console showing a serial port) and for the parts around the devices.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.domain import Domain
from virtcore.xml.domain.checks import Definition
from virtcore.xml.domain.devices import textwrite
from virtcore.xml.domain.devices.address import DeviceInfo as AddressedInfo
from virtcore.xml.domain.devices.chardev import ChrDef
from virtcore.xml.domain.devices.disk import DiskDef
from virtcore.xml.domain.devices.support import DeviceDef, DeviceInfo, VirtioOptions
from virtcore.xml.domain.formatter import RULES, build_element, format_definition
from virtcore.xml.domain.outnode import compiled_rules, serialize, write_children
from virtcore.xml.domain.textformat import write_definition
from virtcore.xml.format import FormatRules

_DATA = Path(__file__).parents[1] / "data"
_QEMU_DATA = Path(__file__).parents[2] / "backends" / "qemu" / "tests" / "data"
CORPUS = sorted(
    [
        *(_DATA / "xml" / "domain").glob("*.xml"),
        *(_DATA / "xml").glob("devices_*/cases/*.xml"),
        *(_DATA / "testdriver" / "domains").glob("*.xml"),
        *_QEMU_DATA.glob("**/*.xml"),
    ]
)
FLAGS = (
    0,
    int(DomainXMLFlags.INACTIVE),
    int(DomainXMLFlags.SECURE),
    int(DomainXMLFlags.MIGRATABLE),
    int(DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE),
)
_INACTIVE = int(DomainXMLFlags.INACTIVE)


def domain_with(devices: str) -> str:
    """A small test-driver domain with *devices*."""
    return (
        "<domain type='test'><name>t</name><memory>1024</memory>"
        "<os><type>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )


def _definitions() -> Iterator[tuple[str, Definition]]:
    for path in CORPUS:
        text = path.read_bytes()
        if b"<domain" not in text[:400]:
            continue
        for live in (False, True):
            try:
                domain = Domain.parse(text, test_ifnames=True)
                yield f"{path.name} live={live}", domain._checked(live=live)
            except (VirtError, ValueError):
                continue


DEFINITIONS = list(_definitions())


def _general(definition: Definition, flags: int) -> str:
    return serialize(build_element(definition, flags), RULES)


def test_the_corpus_holds_hundreds_of_domain_definitions() -> None:
    assert len(DEFINITIONS) > 400


@pytest.mark.parametrize("flags", FLAGS)
def test_every_definition_prints_as_the_general_route_prints_it(flags: int) -> None:
    written = 0
    for label, definition in DEFINITIONS:
        text = write_definition(definition, flags, RULES)
        if text is None:
            continue
        written += 1
        assert text == _general(definition, flags), label
    # Most documents take the direct route; the rest prove the fallback.
    assert written > len(DEFINITIONS) // 2


def test_format_definition_gives_the_direct_text_when_there_is_one() -> None:
    for label, definition in DEFINITIONS[:50]:
        assert format_definition(definition, 0) == _general(definition, 0), label


def test_each_device_writer_writes_devices_of_the_corpus() -> None:
    seen: dict[str, int] = {}
    for _, definition in DEFINITIONS:
        assert definition.devices_def is not None
        for devices in definition.devices_def.by_tag.values():
            for device in devices:
                writer = textwrite.WRITERS.get(device.__class__)
                if writer is not None and writer(device, _INACTIVE, "    ", []) is not None:
                    seen[writer.__name__] = seen.get(writer.__name__, 0) + 1
    assert set(seen) == {w.__name__ for w in textwrite.WRITERS.values()}
    assert min(seen.values()) >= 5


def test_a_value_to_escape_sends_the_document_to_the_escaping_route() -> None:
    definition = Domain.parse(domain_with("<emulator>/usr/bin/a&amp;b</emulator>"))._checked()
    assert write_definition(definition, 0, RULES) is None
    assert "<emulator>/usr/bin/a&amp;b</emulator>" in format_definition(definition, 0)


def test_a_quote_in_a_disk_path_is_escaped() -> None:
    disk = (
        "<disk type='file' device='disk'><source file=\"/a'b.img\"/>"
        "<target dev='vda' bus='virtio'/></disk>"
    )
    definition = Domain.parse(domain_with(disk))._checked()
    assert write_definition(definition, 0, RULES) is None
    assert "file='/a&apos;b.img'" in format_definition(definition, 0)


def test_metadata_is_written_in_its_place_by_the_general_serializer() -> None:
    document = domain_with("").replace(
        "</name>", "</name><metadata><app:x xmlns:app='urn:app'>1</app:x></metadata>", 1
    )
    definition = Domain.parse(document)._checked()
    text = write_definition(definition, 0, RULES)
    assert text is not None and "<app:x" in text
    assert text == _general(definition, 0)


# -- perturbation of device records -------------------------------------------------------------


def _device_text(device: DeviceDef, flags: int) -> str:
    out: list[str] = []
    write_children(
        [device.to_element(flags)], "    ", ["domain", "devices"], out, [], compiled_rules(RULES)
    )
    return "".join(out).replace("\x00", "'")


def _variants(value: object, annotation: str) -> list[object]:
    """Values other than *value* a field of *annotation* may hold (simple types only)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 3, 0 if value else 7]
    if isinstance(value, str):
        return ["zz9"]
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return [tuple(v + 2 for v in value)]
    if isinstance(value, dict) and not value and "str" in annotation:
        return [{"queues": "2"}] if "int" not in annotation else []
    if value is None:
        found: list[object] = []
        if "bool" in annotation:
            found += [True, False]
        if "int" in annotation:
            found.append(5)
        if "str" in annotation and "dict" not in annotation and "list" not in annotation:
            found.append("zz9")
        return found
    return []


def _records(device: DeviceDef) -> Iterator[object]:
    """*device* and the records it holds that writers look into."""
    yield device
    for name in ("src", "source", "info"):
        inner = getattr(device, name, None)
        if dataclasses.is_dataclass(inner):
            yield inner
    listens = getattr(device, "listens", None)
    if listens:
        yield listens[0]


def _perturbed(device: DeviceDef) -> Iterator[tuple[str, DeviceDef]]:
    for index, record in enumerate(_records(device)):
        assert dataclasses.is_dataclass(record)
        for spec in dataclasses.fields(record):
            value = getattr(record, spec.name)
            for variant in _variants(value, str(spec.type)):
                changed = copy.deepcopy(device)
                target = list(_records(changed))[index]
                setattr(target, spec.name, variant)
                yield f"{type(record).__name__}.{spec.name}={variant!r}", changed


def _typical_devices() -> list[DeviceDef]:
    """A written device of each kind; of disks, one per source type written."""
    found: dict[tuple[type, str], DeviceDef] = {}
    for _, definition in DEFINITIONS:
        assert definition.devices_def is not None
        for devices in definition.devices_def.by_tag.values():
            for device in devices:
                kind = device.__class__
                key = (kind, device.src.type if isinstance(device, DiskDef) else "")
                if (
                    kind in textwrite.WRITERS
                    and key not in found
                    and textwrite.write_device(device, _INACTIVE, "    ", []) is not None
                ):
                    found[key] = device
    return list(found.values())


TYPICAL_DEVICES = _typical_devices()


def test_there_is_a_written_device_of_every_kind_to_perturb() -> None:
    assert {type(d) for d in TYPICAL_DEVICES} == set(textwrite.WRITERS)


def _device_id(device: DeviceDef) -> str:
    if isinstance(device, DiskDef):
        return f"DiskDef-{device.src.type}"
    return type(device).__name__


def test_a_disk_of_each_local_source_type_is_perturbed() -> None:
    types = {d.src.type for d in TYPICAL_DEVICES if isinstance(d, DiskDef)}
    assert types == {"file", "block", "dir"}


@pytest.mark.parametrize("device", TYPICAL_DEVICES, ids=_device_id)
@pytest.mark.parametrize("flags", [0, _INACTIVE, int(DomainXMLFlags.MIGRATABLE)])
def test_a_writer_declines_or_matches_to_element_whatever_field_changes(
    device: DeviceDef, flags: int
) -> None:
    checked = 0
    for label, changed in _perturbed(device):
        try:
            expected = _device_text(changed, flags)
        except (TypeError, AttributeError, KeyError, ValueError):
            continue  # a value to_element cannot take: nothing to compare
        written = textwrite.write_device(changed, flags, "    ", [])
        if written is not None:
            assert written == expected, label
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("flags", [0, _INACTIVE])
def test_console_writer_declines_or_matches_whatever_field_changes(flags: int) -> None:
    serials = [
        d
        for _, definition in DEFINITIONS
        if definition.devices_def is not None and definition.devices_def.chardevs is not None
        for d in definition.devices_def.chardevs.serials
        if textwrite.write_console(d, True, flags, "    ", []) is not None
    ]
    assert serials
    for label, changed in _perturbed(serials[0]):
        assert isinstance(changed, ChrDef)
        try:
            node = changed.console_element(flags)
        except (TypeError, AttributeError, KeyError, ValueError):
            continue
        out: list[str] = []
        write_children([node], "    ", ["domain", "devices"], out, [], compiled_rules(RULES))
        written = textwrite.write_console(changed, True, flags, "    ", [])
        if written is not None:
            assert written == "".join(out).replace("\x00", "'"), label


def _ignored_tests() -> list[textwrite.RestAtDefault]:
    return [
        rest
        for rest in vars(textwrite).values()
        if isinstance(rest, textwrite.RestAtDefault) and rest.ignored
    ]


def test_some_writers_leave_fields_of_other_types_untested() -> None:
    assert {rest.cls.__name__ for rest in _ignored_tests()} >= {"StorageSource", "GraphicsDef"}


def test_every_field_a_writer_leaves_untested_is_perturbed() -> None:
    # The perturbation tests prove an untested field does not change the text only
    # for the fields they change: each must have a value to change to.
    perturbed = {
        label.split("=", 1)[0] for device in TYPICAL_DEVICES for label, _ in _perturbed(device)
    }
    for rest in _ignored_tests():
        for name in rest.ignored:
            assert f"{rest.cls.__name__}.{name}" in perturbed


# -- the all-defaults tests ----------------------------------------------------------------------


@dataclasses.dataclass
class _Record:
    kind: str = "a"
    size: int = 0
    names: list[str] = dataclasses.field(default_factory=list)
    note: str | None = None


def test_rest_at_default_tests_every_field_not_written_nor_ignored() -> None:
    rest = textwrite.RestAtDefault(_Record, ("kind",), ignored=("note",))
    assert rest.names == ("size", "names")
    assert rest.at_default(_Record(kind="b", note="x"))
    assert not rest.at_default(_Record(size=1))
    assert not rest.at_default(_Record(names=["x"]))


def test_a_field_added_to_a_record_is_tested() -> None:
    @dataclasses.dataclass
    class Grown(_Record):
        added: bool = False

    rest = textwrite.RestAtDefault(Grown, ("kind",), ignored=("note",))
    assert "added" in rest.names
    assert not rest.at_default(Grown(added=True))


def test_rest_at_default_reads_fields_a_record_keeps_on_its_class() -> None:
    record = object.__new__(_Record)  # as common.fresh_record makes them: no dictionary entry
    record.names = []
    rest = textwrite.RestAtDefault(_Record, ("kind",))
    assert rest.at_default(record)
    record.size = 2
    assert not rest.at_default(record)


def test_rest_at_default_refuses_a_name_that_is_no_field() -> None:
    with pytest.raises(TypeError):
        textwrite.RestAtDefault(_Record, ("kind",), ignored=("colour",))


def test_a_device_info_at_its_defaults_writes_nothing() -> None:
    assert textwrite.write_info(DeviceInfo(), "      ", []) == ""
    assert textwrite.write_info(AddressedInfo(), "      ", []) == ""


def test_a_device_info_with_a_field_no_writer_knows_is_declined() -> None:
    @dataclasses.dataclass
    class Grown(AddressedInfo):
        added: str | None = None

    assert textwrite.write_info(Grown(), "      ", []) == ""
    assert textwrite.write_info(Grown(added="x"), "      ", []) is None


def test_a_device_info_whose_defaults_write_something_is_written() -> None:
    @dataclasses.dataclass
    class Aliased(DeviceInfo):
        alias: str | None = "ua-default"

    assert textwrite.write_info(Aliased(), "  ", []) == "  <alias name='ua-default'/>\n"


def test_driver_options_all_unset_write_nothing_and_others_are_declined() -> None:
    disk = next(d for d in TYPICAL_DEVICES if isinstance(d, DiskDef))
    plain = copy.deepcopy(disk)
    plain.virtio = VirtioOptions()
    assert textwrite.write_device(plain, 0, "    ", []) == textwrite.write_device(
        disk, 0, "    ", []
    )
    optioned = copy.deepcopy(disk)
    optioned.virtio = VirtioOptions(iommu=True)
    assert textwrite.write_device(optioned, 0, "    ", []) is None


# -- the document around the devices -------------------------------------------------------------


def _typical() -> Definition:
    return next(d for label, d in DEFINITIONS if "live=False" in label and d.devices_def)


def test_devices_of_a_table_lacking_kinds_are_written_in_libvirt_order() -> None:
    for label, definition in DEFINITIONS[:80]:
        devices = definition.devices_def
        assert devices is not None
        present = {tag: found for tag, found in devices.by_tag.items() if found}
        shuffled = dict(reversed(present.items()))
        for chardevs in (devices.chardevs, None):
            changed = dataclasses.replace(
                definition,
                devices_def=dataclasses.replace(devices, by_tag=shuffled, chardevs=chardevs),
            )
            text = write_definition(changed, 0, RULES)
            if text is not None:
                assert text == _general(changed, 0), label


@pytest.mark.parametrize(
    "lifecycle",
    [
        {"on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"},
        {"on_crash": "destroy", "on_reboot": "restart", "on_poweroff": "destroy"},
        {
            "on_poweroff": "destroy",
            "on_reboot": "restart",
            "on_crash": "destroy",
            "on_lockfailure": "pause",
        },
        {"on_poweroff": None, "on_reboot": "restart", "on_crash": None, "on_lockfailure": None},
        {"on_reboot": "destroy"},
        {},
    ],
)
def test_lifecycle_actions_print_as_the_general_route_prints_them(
    lifecycle: dict[str, str | None],
) -> None:
    definition = dataclasses.replace(_typical(), lifecycle=lifecycle)
    assert write_definition(definition, 0, RULES) == _general(definition, 0)


@pytest.mark.parametrize(
    "names", [["apic", "acpi"], ["pae", "apic", "acpi"], ["viridian", "privnet"], ["acpi"]]
)
def test_flag_features_are_written_in_libvirt_order(names: list[str]) -> None:
    definition = _typical()
    features = dataclasses.replace(
        definition.features, present=True, values=dict.fromkeys(names, "on")
    )
    changed = dataclasses.replace(definition, features=features)
    text = write_definition(changed, 0, RULES)
    assert text is not None
    assert text == _general(changed, 0)


def test_a_serial_port_with_an_alias_shows_it_in_its_console_too() -> None:
    devices = "<serial type='pty'><alias name='ua-port'/></serial><console type='pty'/>"
    definition = Domain.parse(domain_with(devices))._checked()
    text = write_definition(definition, 0, RULES)
    assert text is not None
    assert text.count("<alias name='ua-port'/>") == 2
    assert text == _general(definition, 0)


@pytest.mark.parametrize("flags", [0, _INACTIVE])
def test_a_console_from_the_serial_text_matches_the_console_writer(flags: int) -> None:
    serials = [
        d
        for _, definition in DEFINITIONS
        if definition.devices_def is not None and definition.devices_def.chardevs is not None
        for d in definition.devices_def.chardevs.serials
        if textwrite.write_serial(d, flags, "    ", []) is not None
    ]
    assert serials
    checked = 0
    for label, changed in _perturbed(serials[0]):
        assert isinstance(changed, ChrDef)
        written = textwrite.write_serial(changed, flags, "    ", [])
        if written is None:
            continue
        console = textwrite.serial_console(changed, written[1], "    ")
        assert console == textwrite.write_console(changed, True, flags, "    ", []), label
        checked += 1
    assert checked > 5


def test_output_rules_given_are_the_rules_applied() -> None:
    other = FormatRules(paired=frozenset({"entry"}))
    for rules in (RULES, other, RULES):
        applied = compiled_rules(rules)
        assert applied is compiled_rules(rules)
        assert set(applied.paired) == {p.rsplit("/", 1)[-1] for p in rules.paired}
    assert compiled_rules(FormatRules(paired=frozenset({"entry"}))).paired == {
        "entry": (("entry",),)
    }
