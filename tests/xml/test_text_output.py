"""The domain's direct text output (textformat, devices.textwrite) against the general route.

``format_definition`` writes the usual domain straight from its records;
every document must print exactly as ``build_element`` + ``serialize``
print it. The corpus tests compare both routes over every domain document
of the suites, with each flag; the perturbation tests change one field of
a device record at a time and require a writer either to decline the
device or to print what its ``to_element`` prints - so a field a writer
does not know cannot be dropped silently.
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
from virtcore.xml.domain.devices.chardev import ChrDef
from virtcore.xml.domain.devices.support import DeviceDef
from virtcore.xml.domain.formatter import RULES, build_element, format_definition
from virtcore.xml.domain.outnode import compiled_rules, serialize, write_children
from virtcore.xml.domain.textformat import write_definition

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
    found: dict[type, DeviceDef] = {}
    for _, definition in DEFINITIONS:
        assert definition.devices_def is not None
        for devices in definition.devices_def.by_tag.values():
            for device in devices:
                kind = device.__class__
                if (
                    kind in textwrite.WRITERS
                    and kind not in found
                    and textwrite.write_device(device, _INACTIVE, "    ", []) is not None
                ):
                    found[kind] = device
    return list(found.values())


TYPICAL_DEVICES = _typical_devices()


def test_there_is_a_written_device_of_every_kind_to_perturb() -> None:
    assert {type(d) for d in TYPICAL_DEVICES} == set(textwrite.WRITERS)


@pytest.mark.parametrize("device", TYPICAL_DEVICES, ids=lambda d: type(d).__name__)
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
