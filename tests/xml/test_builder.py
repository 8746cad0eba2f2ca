"""The model framework: typed properties over a live tree that keeps what it does not model."""

from __future__ import annotations

import enum
from typing import ClassVar, Self, cast

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml.builder import (
    HEX,
    ONOFF,
    UINT,
    YESNO,
    EnumConverter,
    IntConverter,
    XMLChild,
    XMLChildList,
    XMLFlag,
    XMLMemory,
    XMLNode,
    XMLProperty,
    XMLScaled,
)
from virtcore.xml.format import DOMAIN_RULES
from virtcore.xml.units import parse_uint
from virtcore.xml.validate import XMLSchemaValidationError


class Placement(enum.Enum):
    STATIC = "static"
    AUTO = "auto"


class OS(XMLNode):
    TAG = "os"
    type = XMLProperty("./type")
    arch = XMLProperty("./type/@arch")
    machine = XMLProperty("./type/@machine")
    boot = XMLProperty("./boot/@dev")


class Disk(XMLNode):
    TAG = "disk"
    type = XMLProperty("./@type")
    device = XMLProperty("./@device")
    source = XMLProperty("./source/@file")
    target = XMLProperty("./target/@dev")
    bus = XMLProperty("./target/@bus")
    readonly = XMLFlag("./readonly")

    @classmethod
    def wrap(cls, element: etree._Element) -> Self:
        if cls is Disk and element.get("device") == "cdrom":
            return cast(Self, CDROM(element))
        return cls(element)


class CDROM(Disk):
    pass


class Arg(XMLNode):
    TAG = "qemu:arg"
    value = XMLProperty("./@value")


class Domain(XMLNode):
    TAG = "domain"
    PARSE_URL = "(domain_definition)"
    SCHEMA = "domain.rng"
    FORMAT_RULES = DOMAIN_RULES
    KEEP_EMPTY = frozenset({"devices"})
    virt_type = XMLProperty("./@type")
    id = XMLProperty("./@id", int)
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    title = XMLProperty("./title", default="")
    memory = XMLMemory("./memory")
    vcpus = XMLProperty("./vcpu", UINT)
    placement = XMLProperty("./vcpu/@placement", EnumConverter(Placement))
    os = XMLChild(OS)
    acpi = XMLFlag("./features/acpi")
    pae = XMLFlag("./features/pae")
    hap = XMLProperty("./features/hap/@state", ONOFF)
    disks = XMLChildList(Disk, "./devices/disk")
    cdroms = XMLChildList(Disk, "./devices/disk[@device='cdrom']")
    args = XMLChildList(Arg, "./qemu:commandline/qemu:arg")


class Volume(XMLNode):
    TAG = "volume"
    capacity = XMLScaled("./capacity", unit="bytes")
    allocation = XMLScaled("./allocation", unit="bytes", default_unit="KiB")
    slot = XMLProperty("./address/@slot", IntConverter(parse_uint, base=16, prefix="0x", width=2))
    sparse = XMLProperty("./target/@sparse", YESNO)


class Ordered(XMLNode):
    TAG = "root"
    XML_ORDER: ClassVar[dict[str, tuple[str, ...]]] = {"": ("@b", "@a", "second", "first")}
    a = XMLProperty("./@a")
    b = XMLProperty("./@b")
    first = XMLProperty("./first")
    second = XMLProperty("./second")


SAMPLE = """<domain type='kvm' id='7' xmlns:app='urn:app'>
  <name>guest</name>
  <metadata><app:data app:flag='1'><app:deep>kept</app:deep></app:data></metadata>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static'>4</vcpu>
  <os><type arch='x86_64'>hvm</type><unknown-os-child/></os>
  <devices>
    <disk type='file' device='disk' vendor-extension='x'>
      <source file='/a.img'/><target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
    <mystery answer='42'/>
  </devices>
  <future-element>text</future-element>
</domain>"""


@pytest.fixture
def dom() -> Domain:
    return Domain.from_xml(SAMPLE)


# -- reading -------------------------------------------------------------------------


def test_properties_read_text_attributes_and_converted_values(dom: Domain) -> None:
    name: str | None = dom.name
    vcpus: int | None = dom.vcpus
    assert (dom.virt_type, name, dom.id, vcpus) == ("kvm", "guest", 7, 4)
    assert dom.placement is Placement.STATIC


def test_absent_value_reads_as_none_or_the_default(dom: Domain) -> None:
    assert dom.uuid is None
    assert dom.title == ""


def test_memory_reads_in_kib_whatever_the_unit(dom: Domain) -> None:
    assert dom.memory == 2 * 1024 * 1024


def test_invalid_attribute_value_gets_libvirts_wording() -> None:
    dom = Domain.from_xml("<domain id='seven'/>")
    with pytest.raises(XMLError) as info:
        _ = dom.id
    assert info.value.message == (
        "XML error: Invalid value for attribute 'id' in element 'domain': 'seven'. "
        "Expected integer value"
    )
    assert info.value.domain == ErrorDomain.XML


def test_invalid_element_value_names_the_xpath() -> None:
    dom = Domain.from_xml("<domain><vcpu>-1</vcpu></domain>")
    with pytest.raises(XMLError) as info:
        _ = dom.vcpus
    assert info.value.message == "XML error: Invalid value '-1' for element or attribute './vcpu'"


def test_enum_value_outside_the_enum_is_invalid() -> None:
    dom = Domain.from_xml("<domain><vcpu placement='sideways'>1</vcpu></domain>")
    with pytest.raises(XMLError) as info:
        _ = dom.placement
    assert info.value.message.endswith("in element 'vcpu': 'sideways'.")


def test_memory_overflow_is_reported_like_libvirt() -> None:
    dom = Domain.from_xml("<domain><memory unit='E'>8</memory></domain>")
    with pytest.raises(VirtError) as info:
        _ = dom.memory
    assert info.value.code == ErrorNumber.OVERFLOW
    assert info.value.message == "numerical overflow: value too large: 8E"


# -- writing -------------------------------------------------------------------------


def test_setting_edits_the_live_tree(dom: Domain) -> None:
    element = dom.element
    dom.name = "renamed"
    assert element.findtext("name") == "renamed"


def test_new_element_lands_in_declaration_order(dom: Domain) -> None:
    dom.uuid = "11111111-2222-3333-4444-555555555555"
    names = [child.tag for child in dom.element if isinstance(child.tag, str)]
    assert names.index("uuid") == names.index("name") + 1


def test_missing_path_is_created_in_canonical_order() -> None:
    dom = Domain()
    dom.pae = True
    dom.acpi = True
    dom.name = "n"
    assert dom.to_string() == (
        "<domain>\n  <name>n</name>\n  <features>\n    <acpi/>\n    <pae/>\n  </features>\n"
        "</domain>\n"
    )


def test_new_attribute_lands_in_canonical_order(dom: Domain) -> None:
    dom.os.machine = "pc-q35"
    type_element = dom.os.element.find("type")
    assert type_element is not None
    assert list(type_element.attrib) == ["arch", "machine"]


def test_explicit_order_overrides_declaration_order() -> None:
    node = Ordered()
    node.first = "1"
    node.a = "a"
    node.second = "2"
    node.b = "b"
    assert node.to_string() == (
        "<root b='b' a='a'>\n  <second>2</second>\n  <first>1</first>\n</root>\n"
    )


def test_memory_is_written_in_kib(dom: Domain) -> None:
    dom.memory = 1048576
    assert "<memory unit='KiB'>1048576</memory>" in dom.to_string()


def test_converted_values_are_written_in_libvirts_spelling() -> None:
    dom = Domain()
    dom.hap = True
    dom.placement = Placement.AUTO
    dom.vcpus = 2
    text = dom.to_string()
    assert "<hap state='on'/>" in text
    assert "<vcpu placement='auto'>2</vcpu>" in text


def test_setting_none_removes_the_node_and_emptied_containers(dom: Domain) -> None:
    dom.hap = False
    dom.hap = None
    assert dom.element.find("features") is None


def test_deleting_removes_an_attribute(dom: Domain) -> None:
    del dom.placement
    vcpu = dom.element.find("vcpu")
    assert vcpu is not None
    assert len(vcpu.attrib) == 0


def test_keep_empty_containers_survive_removal() -> None:
    dom = Domain.from_xml("<domain><devices><disk/></devices></domain>")
    dom.disks.clear()
    assert dom.to_string() == "<domain>\n  <devices>\n  </devices>\n</domain>\n"


def test_unknown_content_survives_edits(dom: Domain) -> None:
    dom.name = "edited"
    dom.vcpus = 8
    dom.os.type = "xen"
    dom.disks[0].target = "vdb"
    text = dom.to_string()
    for kept in (
        '<metadata xmlns:app="urn:app">',
        '<app:data app:flag="1">',
        "<app:deep>kept</app:deep>",
        "<unknown-os-child/>",
        "vendor-extension='x'",
        "<mystery answer='42'/>",
        "<future-element>text</future-element>",
    ):
        assert kept in text


def test_flag_reflects_presence(dom: Domain) -> None:
    assert dom.disks[1].readonly is True
    dom.disks[1].readonly = False
    assert dom.disks[1].readonly is False
    assert dom.element.find("devices/disk/readonly") is None


def test_deleting_a_flag_removes_its_node_and_emptied_container(dom: Domain) -> None:
    dom.acpi = True
    del dom.acpi
    assert dom.element.find("features") is None


def test_scaled_size_reads_units_and_writes_its_own() -> None:
    volume = Volume.from_xml(
        "<volume><capacity unit='G'>1</capacity><allocation>4</allocation></volume>"
    )
    assert (volume.capacity, volume.allocation) == (1024**3, 4096)
    volume.capacity = 2048
    assert "<capacity unit='bytes'>2048</capacity>" in volume.to_string()


def test_hex_and_yes_no_round_trip() -> None:
    volume = Volume()
    volume.slot = 10
    volume.sparse = False
    assert (volume.slot, volume.sparse) == (10, False)
    assert "<address slot='0x0a'/>" in volume.to_string()
    assert "sparse='no'" in volume.to_string()


def test_hex_constant_formats_with_prefix() -> None:
    assert HEX.format(255) == "0xff"
    assert HEX.parse("0x1F") == 31


def test_bool_is_refused_as_a_plain_type() -> None:
    with pytest.raises(TypeError):
        XMLProperty("./x", bool)


# -- sub-objects -----------------------------------------------------------------------


def test_child_reads_through_to_its_element(dom: Domain) -> None:
    assert dom.os.exists
    assert (dom.os.type, dom.os.arch) == ("hvm", "x86_64")


def test_absent_child_reads_as_absent_and_is_created_on_write() -> None:
    dom = Domain.from_xml("<domain><name>n</name><devices/></domain>")
    assert not dom.os.exists
    assert dom.os.type is None
    dom.os.type = "hvm"
    assert [c.tag for c in dom.element] == ["name", "os", "devices"]


def test_child_uses_the_parents_knowledge_of_order(dom: Domain) -> None:
    dom.os.boot = "hd"
    assert [c.tag for c in dom.os.element] == ["type", "boot", "unknown-os-child"]


def test_assigning_a_child_replaces_the_current_one(dom: Domain) -> None:
    new_os = OS()
    new_os.type = "exe"
    dom.os = new_os
    assert dom.os.type == "exe"
    assert len(dom.element.findall("os")) == 1
    assert new_os.element.getparent() is dom.element


def test_deleting_a_child_removes_its_element(dom: Domain) -> None:
    del dom.os
    assert dom.element.find("os") is None
    assert not dom.os.exists


# -- lists -----------------------------------------------------------------------------


def test_list_reads_every_item_in_document_order(dom: Domain) -> None:
    assert [d.target for d in dom.disks] == ["vda", "hdc"]
    assert len(dom.disks) == 2


def test_list_items_pick_their_class_through_wrap(dom: Domain) -> None:
    assert [type(d) for d in dom.disks] == [Disk, CDROM]


def test_list_with_predicate_sees_only_matching_items(dom: Domain) -> None:
    assert [d.target for d in dom.cdroms] == ["hdc"]


def test_appended_item_lands_after_existing_items(dom: Domain) -> None:
    disk = dom.disks.append()
    disk.target = "vdb"
    devices = dom.element.find("devices")
    assert devices is not None
    assert [c.tag for c in devices] == ["disk", "disk", "disk", "mystery"]
    assert dom.disks[2].target == "vdb"


def test_appending_to_a_predicate_list_sets_the_predicate(dom: Domain) -> None:
    cdrom = dom.cdroms.append()
    assert cdrom.device == "cdrom"
    assert len(dom.cdroms) == 2


def test_insert_places_the_item_at_the_index(dom: Domain) -> None:
    disk = Disk()
    disk.target = "sda"
    dom.disks.insert(0, disk)
    assert [d.target for d in dom.disks] == ["sda", "vda", "hdc"]


def test_first_item_creates_the_container_after_its_predecessors() -> None:
    dom = Domain.from_xml(
        "<domain><name>n</name><vcpu>1</vcpu><on_crash>destroy</on_crash><qemu:commandline "
        "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'/></domain>"
    )
    dom.disks.append().target = "vda"
    tags = [c.tag for c in dom.element]
    assert tags.index("devices") == tags.index("vcpu") + 1


def test_removed_item_stays_usable_as_its_own_document(dom: Domain) -> None:
    disk = dom.disks[0]
    dom.disks.remove(disk)
    assert len(dom.disks) == 1
    assert disk.element.getparent() is None
    assert disk.to_string().startswith("<disk type='file' device='disk' vendor-extension='x'>")


def test_pop_and_move(dom: Domain) -> None:
    dom.disks.move(dom.disks[1], 0)
    assert [d.target for d in dom.disks] == ["hdc", "vda"]
    popped = dom.disks.pop()
    assert popped.target == "vda"
    assert [d.target for d in dom.disks] == ["hdc"]


def test_membership_and_index_compare_elements(dom: Domain) -> None:
    second = dom.disks[1]
    assert second in dom.disks
    assert dom.disks.index(second) == 1
    assert Disk() not in dom.disks


def test_removing_a_foreign_item_is_an_error(dom: Domain) -> None:
    with pytest.raises(ValueError):
        dom.disks.remove(Disk())


def test_clearing_the_last_namespaced_items_removes_their_container(dom: Domain) -> None:
    dom.args.append().value = "-S"
    dom.args.clear()
    assert "commandline" not in dom.to_string()


def test_namespaced_items_are_declared_on_the_root(dom: Domain) -> None:
    dom.args.append().value = "-s"
    text = dom.to_string()
    assert text.startswith(
        "<domain type='kvm' id='7' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
    )
    assert "  <qemu:commandline>\n    <qemu:arg value='-s'/>\n  </qemu:commandline>\n" in text


# -- documents ----------------------------------------------------------------------


def test_new_document_starts_from_the_tag() -> None:
    assert Domain().to_string() == "<domain/>\n"


def test_wrong_root_is_refused() -> None:
    with pytest.raises(XMLError) as info:
        Domain.from_xml("<network/>")
    assert info.value.message == "XML error: expecting root element of 'domain', not 'network'"


def test_syntax_errors_name_the_models_url() -> None:
    with pytest.raises(XMLError) as info:
        Domain.from_xml("<domain><name>x</nam></domain>")
    assert info.value.message.startswith("(domain_definition):1: Opening and ending tag mismatch")


@pytest.mark.usefixtures("libvirt_schemas")
def test_schema_validation_on_request() -> None:
    with pytest.raises(XMLSchemaValidationError):
        Domain.from_xml("<domain type='test'><name>x</name><bogus/></domain>", validate_schema=True)


def test_copy_is_independent(dom: Domain) -> None:
    clone = dom.copy()
    clone.name = "clone"
    assert dom.name == "guest"
    assert clone.name == "clone"
