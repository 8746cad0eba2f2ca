"""What the test driver keeps to answer hot calls quickly never shows stale state.

The host caches each definition's formatted document (per host generation),
indexes domains by name, keeps them sorted for listings and skips building
events nobody listens to (:mod:`virtcore.drivers.test.state`,
:mod:`virtcore.drivers.test.intercept`). Each test changes the host one way
and checks that the next answer reflects it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import virtcore
import virtcore.drivers.test.plugin as test_plugin
from virtcore import errors
from virtcore.connection import Connection
from virtcore.drivers.test import domainxml
from virtcore.drivers.test import driver as test_driver
from virtcore.drivers.test.determinism import resolve_state
from virtcore.drivers.test.domainxml import DomainDef
from virtcore.drivers.test.faults import injector
from virtcore.drivers.test.state import DomainObj
from virtcore.drivers.test.xmlutil import format_element, parse_xml
from virtcore.enums.domain import DomainMetadataType
from virtcore.events import Event, EventDispatcher, EventKind
from virtcore.objects import Domain, Handle
from virtcore.registry import Registry

SAFETY_TIMEOUT = 10.0


def doc(name: str, memory: int = 4096) -> str:
    return (
        f"<domain type='test'><name>{name}</name><memory>{memory}</memory>"
        "<vcpu>1</vcpu><os><type>hvm</type></os></domain>"
    )


@pytest.fixture(scope="module")
def reg() -> Registry:
    """A registry with the built-in test plugin."""
    registry = Registry(builtins=True, autoload=False)
    if not any(rec.name == "test" and rec.loaded for rec in registry.plugins()):
        registry.register(test_plugin, "test")
    return registry


@pytest.fixture
def conn(reg: Registry) -> Iterator[Connection]:
    """A connection to a fresh ``test:///default`` host."""
    test_driver.reset_default_host()
    with virtcore.open("test:///default", registry=reg) as c:
        yield c
    assert test_driver.default_host_refcount() == 0


def test_an_unchanged_description_is_served_again_without_formatting(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("a"))
    assert dom.xml_desc() is dom.xml_desc()


def test_the_description_follows_a_modifying_call(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("a"))
    before = dom.xml_desc()
    dom.set_metadata(DomainMetadataType.TITLE, "changed")
    after = dom.xml_desc()
    assert "<title>changed</title>" in after and "<title>" not in before


def test_the_description_follows_a_change_made_through_another_connection(
    conn: Connection, reg: Registry
) -> None:
    dom = conn.domain_define_xml(doc("a"))
    dom.xml_desc()
    with virtcore.open("test:///default", registry=reg) as other:
        other.domain_define_xml(
            doc("a", memory=8192).replace("<name>", "<uuid>" + dom.uuid + "</uuid><name>")
        )
    assert "<memory unit='KiB'>8192</memory>" in dom.xml_desc()


def test_the_description_follows_start_and_stop(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("a"))
    assert "id=" not in dom.xml_desc()
    dom.create()
    assert f"<domain type='test' id='{dom.id}'>" in dom.xml_desc()
    dom.destroy()
    assert "id=" not in dom.xml_desc()


def test_the_description_follows_a_crash_injected_from_python(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("a"))
    dom.create()
    assert "id=" in dom.xml_desc()
    injector(conn).crash(dom, "emulator")
    assert "id=" not in dom.xml_desc()


def test_lookups_and_listings_follow_a_rename(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("b"))
    conn.domain_define_xml(doc("c"))
    dom.rename("z")
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("b")
    assert conn.domain_lookup_by_name("z").uuid == dom.uuid
    assert [d.name for d in conn.list_all_domains()] == ["c", "test", "z"]
    assert conn.list_defined_domains() == ["c", "z"]


def test_listings_follow_defines_and_undefines(conn: Connection) -> None:
    first = conn.domain_define_xml(doc("m"))
    assert [d.name for d in conn.list_all_domains()] == ["m", "test"]
    conn.domain_define_xml(doc("a"))
    first.undefine()
    assert [d.name for d in conn.list_all_domains()] == ["a", "test"]
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("m")


def test_a_transient_domain_leaves_the_name_index_when_it_stops(conn: Connection) -> None:
    dom = conn.domain_create_xml(doc("t"))
    dom.destroy()
    with pytest.raises(errors.NoDomainError):
        conn.domain_lookup_by_name("t")
    conn.domain_define_xml(doc("t"))  # the name is free again
    assert conn.domain_lookup_by_name("t").name == "t"


def test_a_host_nobody_listens_to_still_delivers_to_a_later_registration(
    conn: Connection,
) -> None:
    dom = conn.domain_define_xml(doc("a"))
    dom.create()  # no registration yet: the event is dropped
    seen: list[tuple[str, tuple[object, ...]]] = []

    def on_event(c: Connection, handle: Handle, event: Event) -> None:
        assert isinstance(handle, Domain)
        seen.append((handle.name, event.args))

    conn.event_register(EventKind.DOMAIN, 0, on_event)
    dom.suspend()
    assert EventDispatcher.default().flush(SAFETY_TIMEOUT)
    assert seen == [("a", (3, 0))]


def test_a_modifying_call_moves_the_hosts_generation_on(conn: Connection) -> None:
    state = resolve_state(conn)
    before = state.generation
    conn.domain_define_xml(doc("a"))
    assert state.generation > before


def test_concurrent_readers_never_keep_a_stale_description(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("a"))
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            dom.xml_desc()

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for n in range(200):
            dom.set_metadata(DomainMetadataType.TITLE, f"t{n}")
            assert f"<title>t{n}</title>" in dom.xml_desc()
    finally:
        stop.set()
        for thread in readers:
            thread.join(SAFETY_TIMEOUT)
    assert "<title>t199</title>" in dom.xml_desc()


# -- definition copies ------------------------------------------------------------------------

# Disks whose bus is implied by their names: the first format+parse reorders them by bus,
# so a definition and its first copy differ, and only later copies are fixed points.
DISKS = (
    "<domain type='test'><name>disks</name><memory>4096</memory><os><type>hvm</type></os>"
    "<devices><disk type='file'><source file='/b.img'/><target dev='vdb'/></disk>"
    "<disk type='file'><source file='/h.img'/><target dev='hda'/></disk>"
    "<disk type='file'><source file='/s.img'/><target dev='sda' bus='virtio'/></disk>"
    "<interface type='user'/></devices></domain>"
)


def _reparsed(definition: DomainDef) -> DomainDef:
    """What libvirt's copy gives: the definition formatted and parsed again."""
    return DomainDef.from_element(parse_xml(definition.format(), "(test)", root="domain"))


def test_every_copy_formats_like_a_parse_of_its_original() -> None:
    original = DomainDef.parse(DISKS)
    first = original.copy()
    second = first.copy()
    third = second.copy()
    assert first.format() != original.format()
    assert first.format() == _reparsed(original).format()
    assert second.format() == _reparsed(first).format() == third.format()


def test_a_copy_shares_no_element_with_its_original() -> None:
    first = DomainDef.parse(DISKS).copy()
    second = first.copy()
    second.devices[0].set("device", "cdrom")
    assert second.os_elem is not first.os_elem
    assert first.format() != second.format()
    assert first.copy().format() == _reparsed(first).format()


def test_a_changed_definition_is_copied_through_its_document() -> None:
    first = DomainDef.parse(DISKS).copy()
    first.memory_kib = 8192
    assert first.copy().format() == _reparsed(first).format()
    assert "<memory unit='KiB'>8192</memory>" in first.copy().format()


_DATA = Path(__file__).parent / "data"
# Every domain document of the XML and test-driver suites.
CORPUS = sorted(
    [
        *(_DATA / "xml" / "domain").glob("*.input.xml"),
        *(_DATA / "xml").glob("devices_*/cases/*.xml"),
        *(_DATA / "testdriver" / "domains").glob("*.xml"),
    ]
)


def test_definitions_said_to_copy_unchanged_do() -> None:
    # A running domain shares one definition as live and persistent on this promise.
    checked = 0
    for path in CORPUS:
        try:
            definition = DomainDef.parse(path.read_bytes())
        except errors.VirtError:
            continue
        if definition.copies_unchanged():
            assert definition.copy().format() == definition.format(), path.name
            checked += 1
    assert checked > 300


def test_a_definition_with_several_disks_may_change_when_copied() -> None:
    assert not DomainDef.parse(DISKS).copies_unchanged()


def test_a_started_domain_shares_its_definition_until_a_live_change(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("shared"))
    dom.create()
    obj = resolve_state(conn).find_by_name("shared")
    assert obj is not None and obj.new_def is obj.def_
    dom.set_metadata(DomainMetadataType.TITLE, "live title", None, None, 1)  # AFFECT_LIVE
    assert obj.new_def is not obj.def_
    assert "<title>live title</title>" in dom.xml_desc()
    assert "<title>" not in dom.xml_desc(2)  # VIR_DOMAIN_XML_INACTIVE


def test_a_live_vcpu_pin_does_not_reach_the_persistent_definition(conn: Connection) -> None:
    dom = conn.domain_define_xml(doc("pinned"))
    dom.create()
    dom.pin_vcpu(0, [True])
    assert "<vcpupin vcpu='0' cpuset='0'/>" in dom.xml_desc()
    assert "vcpupin" not in dom.xml_desc(2)
    dom.destroy()
    assert "vcpupin" not in dom.xml_desc()


def test_a_stopped_domain_with_implied_disk_buses_shows_libvirts_copy(
    conn: Connection,
) -> None:
    # libvirt copies the definition at start; the copy, re-ordered, is what remains.
    dom = conn.domain_define_xml(DISKS)
    before = dom.xml_desc()
    dom.create()
    dom.destroy()
    assert dom.xml_desc() == _reparsed(DomainDef.parse(before)).format() != before


def test_restarting_a_domain_keeps_its_inactive_document(conn: Connection) -> None:
    dom = conn.domain_define_xml(DISKS)
    documents = []
    for _ in range(3):
        dom.create()
        documents.append(dom.xml_desc(2))
        dom.destroy()
        documents.append(dom.xml_desc(0))
    assert len(set(documents)) == 1


# Definitions that take the direct formatting path (nothing carried through, no tuning),
# each stressing one of its sections.
PLAIN_DOCUMENTS = (
    doc("plain"),
    "<domain type='test'><name>a&amp;b</name><title>t &lt;1&gt;</title>"
    "<description>it's</description><memory>4096</memory><currentMemory>2048</currentMemory>"
    "<vcpu current='1'>2</vcpu><os><type arch='x86_64'>hvm</type></os>"
    "<features><acpi/><pae/></features><clock offset='localtime'/>"
    "<on_crash>restart</on_crash></domain>",
    "<domain type='test'><name>pinned</name><memory>4096</memory>"
    "<vcpu cpuset='0-1'>2</vcpu><os><type>hvm</type></os>"
    "<devices><disk type='file' device='disk'><source file='/a.img'/>"
    "<target dev='hda'/></disk><interface type='network'><source network='default'/>"
    "</interface></devices></domain>",
)


@pytest.mark.parametrize("text", PLAIN_DOCUMENTS)
@pytest.mark.parametrize("live_id", [None, 7])
def test_direct_formatting_writes_what_the_section_writers_write(
    text: str, live_id: int | None
) -> None:
    definition = DomainDef.parse(text)
    assert definition.tuning.writes_nothing()
    assert not definition.passthrough
    assert definition.format(live_id) == definition._format_sections(live_id, untuned=True)


def test_direct_formatting_covers_every_section_left_without_tuning() -> None:
    assert (
        *("name", "uuid", "title", "description", "memory", "currentMemory", "vcpu"),
        *("os", "features", "clock", "on_poweroff", "on_reboot", "on_crash", "devices"),
    ) == domainxml._PLAIN_ORDER


def test_a_tuned_definition_is_formatted_section_by_section() -> None:
    text = doc("tuned").replace("<vcpu>", "<memtune><hard_limit>1024</hard_limit></memtune><vcpu>")
    definition = DomainDef.parse(text)
    assert not definition.tuning.writes_nothing()
    assert "<hard_limit unit='KiB'>1024</hard_limit>" in definition.format()


def test_equal_subtrees_in_other_namespaces_format_apart() -> None:
    first = parse_xml("<a xmlns:x='urn:one'><x:b/></a>", "(test)")
    second = parse_xml("<a xmlns:x='urn:two'><x:b/></a>", "(test)")
    assert format_element(first[0]) == "<x:b xmlns:x='urn:one'/>"
    assert format_element(second[0]) == "<x:b xmlns:x='urn:two'/>"


def test_a_subtree_formats_at_each_indentation_it_is_written_at() -> None:
    elem = parse_xml("<os><type>hvm</type></os>", "(test)")
    assert format_element(elem, 0) == "<os>\n  <type>hvm</type>\n</os>"
    assert format_element(elem, 4) == "    <os>\n      <type>hvm</type>\n    </os>"


RICH = (
    "<domain type='test'><name>rich</name><memory>4096</memory><vcpu>1</vcpu>"
    "<os><type>hvm</type><boot dev='network'/></os><features><acpi/><pae/></features>"
    "<clock offset='variable' adjustment='10'><timer name='rtc' tickpolicy='catchup'/></clock>"
    "</domain>"
)


def _rich(conn: Connection) -> DomainObj:
    obj = resolve_state(conn).find_by_name("rich")
    assert obj is not None
    return obj


def test_a_started_domain_keeps_its_live_sections_serialised(conn: Connection) -> None:
    dom = conn.domain_define_xml(RICH)
    dom.create()
    live = _rich(conn).def_
    assert live.kept_sections() == {"os_elem", "features", "clock"}


def test_a_started_domain_describes_the_same_sections_as_its_definition(conn: Connection) -> None:
    dom = conn.domain_define_xml(RICH)
    before = dom.xml_desc()
    dom.create()
    assert dom.xml_desc().replace(f" id='{dom.id}'", "") == before
    dom.destroy()
    assert dom.xml_desc() == before


def test_reading_a_kept_section_rebuilds_it_once(conn: Connection) -> None:
    conn.domain_define_xml(RICH).create()
    live = _rich(conn).def_
    clock = live.clock
    assert clock is not None
    assert (clock.get("adjustment"), live.clock is clock) == ("10", True)
    assert live.kept_sections() == {"os_elem", "features"}


def test_changing_the_live_os_section_leaves_the_persistent_one_alone(conn: Connection) -> None:
    dom = conn.domain_define_xml(RICH)
    dom.create()
    obj = _rich(conn)
    obj.unshare()  # what every change of a running domain's definition does first
    os_elem = obj.def_.os_elem
    assert os_elem is not None
    os_elem[1].set("dev", "cdrom")  # [0] is <type>
    obj.def_.formatted = None
    assert "<boot dev='cdrom'/>" in dom.xml_desc()
    assert "<boot dev='network'/>" in dom.xml_desc(2)  # VIR_DOMAIN_XML_INACTIVE


PLAIN_SECTIONS = [
    "<os><type>hvm</type></os>",
    "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>",
    "<os><type machine='a&amp;b&apos;c'>hvm</type><boot dev='network'/></os><clock/>",
    "<os><type>linux</type></os><clock offset='localtime'/>",
    "<os><type>xen</type><boot dev='fd'></boot></os><clock offset='timezone'/>",
]


def _define_def(text: str) -> DomainDef:
    return DomainDef.parse(
        f"<domain type='test'><name>plain</name><memory>4096</memory>{text}</domain>"
    )


@pytest.mark.parametrize("sections", PLAIN_SECTIONS)
def test_plain_os_and_clock_are_kept_as_text(sections: str) -> None:
    definition = _define_def(sections)
    assert definition.kept_sections() == {"os_elem", "clock"}


@pytest.mark.parametrize("sections", PLAIN_SECTIONS)
def test_plain_sections_format_as_their_trees_do(sections: str) -> None:
    definition = _define_def(sections)
    kept_text = definition.format()
    assert definition.os_elem is not None and definition.clock is not None  # builds the trees
    assert definition.kept_sections() == set()
    assert definition.format() == kept_text


@pytest.mark.parametrize(
    "sections",
    [
        "<os firmware='efi'><type>hvm</type></os>",
        "<os><type>hvm</type><kernel>/k</kernel></os>",
        "<os><type>hvm</type><boot dev='hd'><x/></boot></os>",
        "<os><type>hvm</type></os><clock offset='utc'><timer name='rtc'/></clock>",
        "<os><type>hvm</type></os><clock offset='variable'/>",
        "<os><type>hvm</type></os><clock offset='utc' adjustment='reset'/>",
    ],
)
def test_other_sections_are_kept_as_trees(sections: str) -> None:
    definition = _define_def(sections)
    kept = definition.kept_sections()
    assert "os_elem" not in kept or "clock" not in kept
    text = definition.format()
    definition.defer_sections()
    definition.formatted = None
    assert definition.format() == text


def test_a_tree_built_from_kept_text_is_the_section() -> None:
    definition = _define_def("<os><type machine='pc'>hvm</type><boot dev='cdrom'/></os>")
    os_elem = definition.os_elem
    assert os_elem is not None
    assert [(e.tag, dict(e.attrib), e.text) for e in os_elem] == [
        ("type", {"arch": "i686", "machine": "pc"}, "hvm"),
        ("boot", {"dev": "cdrom"}, None),
    ]
    assert definition.os_elem is os_elem
    os_elem[1].set("dev", "network")
    assert "<boot dev='network'/>" in definition.format()


def test_a_missing_attribute_of_a_definition_is_still_an_attribute_error() -> None:
    definition = DomainDef.parse(doc("plain"))
    definition.defer_sections()
    assert not hasattr(definition, "no_such_section")
