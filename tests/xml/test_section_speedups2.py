"""Reading a domain skips the work its document gives no occasion for, and nothing else.

:func:`~virtcore.xml.domain.checks.read_definition` asks the root's child
index (:func:`~virtcore.xml.childindex.children_by_name`) which sections
are there: the readers of absent sections are not called and their
defaults are made in place, checks whose section holds nothing they look
at are not called, and a document that starts with its root element is
not searched for a DOCTYPE. Each shortcut must give what the full work
gives: the same records, the same errors, in the same order.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from virtcore.errors import VirtError, XMLError
from virtcore.xml import childindex
from virtcore.xml.childindex import (
    children_by_name,
    group_by_name,
    in_indexed_reading,
    indexed_reading,
)
from virtcore.xml.domain import checks
from virtcore.xml.domain.checks import Definition, read_definition
from virtcore.xml.domain.clock import read_clock
from virtcore.xml.domain.common import default_record, fresh_record
from virtcore.xml.domain.cpu import read_cpu, read_numa
from virtcore.xml.domain.devices import DomainDeviceContext, context_for
from virtcore.xml.domain.features import read_features
from virtcore.xml.domain.memory import read_memory
from virtcore.xml.domain.misc import (
    read_keywrap,
    read_launch_security,
    read_lifecycle,
    read_perf,
    read_pm,
    read_seclabels,
    read_sysinfo,
    read_test_namespace,
)
from virtcore.xml.domain.os import OSInfo, read_idmap, read_os, read_os_type
from virtcore.xml.domain.tuning import read_blkiotune, read_numatune, read_resource
from virtcore.xml.domain.vcpu import read_iothreads, read_vcpus
from virtcore.xml.parse import parse_document

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
UUID = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"


def _domain(body: str, *, ns: str = "") -> str:
    return (
        f"<domain type='test'{ns}><name>d</name><uuid>{UUID}</uuid>"
        f"<memory>1024</memory>{body}</domain>"
    )


def _root(body: str, *, ns: str = "") -> etree._Element:
    return parse_document(_domain(body, ns=ns))


def _definition(body: str, **kwargs: Any) -> Definition:
    return read_definition(_root(body), **kwargs)


def _error(body: str, **kwargs: Any) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as caught:
        _definition(body, **kwargs)
    return caught.value.code, caught.value.domain, caught.value.message


HVM = "<os><type>hvm</type></os>"

# Each guarded reader, the Definition field it fills, and a section that makes it read.
Reader = Callable[[etree._Element], object]
GUARDED: list[tuple[str, Reader, str]] = [
    ("seclabels", read_seclabels, "<seclabel type='none' model='dac'/>"),
    ("iothreads", read_iothreads, "<iothreads>2</iothreads>"),
    ("iothreads", read_iothreads, "<iothreadids><iothread id='3'/></iothreadids>"),
    ("iothreads", read_iothreads, "<defaultiothread thread_pool_min='1' thread_pool_max='2'/>"),
    ("blkio", read_blkiotune, "<blkiotune><weight>300</weight></blkiotune>"),
    ("cpu", read_cpu, "<cpu mode='host-model'/>"),
    (
        "numa",
        read_numa,
        "<cpu><numa><cell id='0' cpus='0' memory='1024'/></numa></cpu>",
    ),
    ("numatune", read_numatune, "<numatune><memory nodeset='0'/></numatune>"),
    ("resource", read_resource, "<resource><partition>/m</partition></resource>"),
    ("pm", read_pm, "<pm><suspend-to-mem enabled='no'/></pm>"),
    ("perf", read_perf, "<perf><event name='cmt' enabled='yes'/></perf>"),
    (
        "idmap",
        read_idmap,
        "<idmap><uid start='0' target='10' count='5'/><gid start='0' target='10' count='5'/>"
        "</idmap>",
    ),
    ("keywrap", read_keywrap, "<keywrap><cipher name='aes' state='on'/></keywrap>"),
    ("launch_security", read_launch_security, "<launchSecurity type='s390-pv'/>"),
]


@pytest.mark.parametrize(("field", "reader", "section"), GUARDED)
def test_a_section_that_is_absent_gets_what_its_reader_would_give(
    field: str, reader: Reader, section: str
) -> None:
    root = _root(HVM)
    definition = read_definition(root)
    with indexed_reading():
        assert getattr(definition, field) == reader(root)


@pytest.mark.parametrize(("field", "reader", "section"), GUARDED)
def test_a_section_that_is_present_is_read(field: str, reader: Reader, section: str) -> None:
    root = _root(HVM + section)
    definition = read_definition(root)
    with indexed_reading():
        expected = reader(root)
    default = getattr(read_definition(_root(HVM)), field)
    assert getattr(definition, field) == expected
    assert expected != default


def test_absent_sysinfo_and_test_settings_are_the_defaults() -> None:
    root = _root(HVM)
    definition = read_definition(root)
    assert definition.sysinfo == read_sysinfo(root, None) == []
    assert definition.test == read_test_namespace(root)


def test_sysinfo_is_read_and_its_uuid_stands_in_for_a_missing_one() -> None:
    system = "a1b2c3d4-0000-1111-2222-333344445555"
    text = (
        "<domain type='test'><name>d</name><memory>1024</memory>" + HVM + "<sysinfo type='smbios'>"
        f"<system><entry name='uuid'>{system}</entry></system></sysinfo></domain>"
    )
    definition = read_definition(parse_document(text))
    assert definition.sysinfo[0].blocks["system"] == [{"uuid": system}]
    assert definition.uuid.hex() == system.replace("-", "")


def test_the_test_driver_settings_are_read_when_present() -> None:
    body = HVM + "<test:runstate>5</test:runstate>"
    definition = read_definition(_root(body, ns=f" xmlns:test='{TEST_NS}'"))
    assert definition.test.runstate == 5


def test_a_title_and_description_are_read_when_present() -> None:
    definition = _definition(HVM + "<description>about</description>")
    assert (definition.title, definition.description) == (None, "about")


def test_a_title_with_a_newline_is_refused_even_alone() -> None:
    assert _error(HVM + "<title>a\nb</title>")[2] == (
        "XML error: Domain title can't contain newlines"
    )


def test_zero_vcpus_are_refused_without_any_numa_section() -> None:
    assert _error(HVM + "<vcpu>0</vcpu>")[2] == (
        "internal error: CPU IDs in <numa> exceed the <vcpu> count"
    )


def test_automatic_vcpu_placement_implies_automatic_memory_placement() -> None:
    definition = _definition(HVM + "<vcpu placement='auto'>2</vcpu>")
    assert (definition.numatune.present, definition.numatune.placement) == (True, "auto")
    assert definition.vcpus.placement == "auto"


def test_automatic_memory_placement_implies_automatic_vcpu_placement() -> None:
    definition = _definition(HVM + "<numatune><memory placement='auto'/></numatune>")
    assert definition.vcpus.placement == "auto"


# Each check _validate calls only when its section holds something to check.
CHECKED = [
    (
        "<memoryBacking><hugepages><page size='2048'/><page size='1048576'/></hugepages>"
        "</memoryBacking>",
        "two master hugepages detected: 1048576 and 2048",
    ),
    ("<os><type>hvm</type><loader readonly='yes'/></os>", "no loader path specified"),
    ("<cputune><shares>1</shares></cputune>", "Value of cputune 'shares' must be in range"),
    ("<cputune><period>10</period></cputune>", "Value of cputune 'period' must be in range"),
    ("<iothreads>1</iothreads><defaultiothread thread_pool_max='0'/>", "thread_pool_max"),
    (
        "<iothreadids><iothread id='1' thread_pool_max='0'/></iothreadids>",
        "thread_pool_max must be a positive integer",
    ),
    (
        "<os><type>hvm</type><bootmenu enable='yes' timeout='70000'/></os>",
        "invalid value for boot menu timeout",
    ),
    ("<os><type>hvm</type><bios rebootTimeout='-2'/></os>", "invalid value for rebootTimeout"),
    (
        "<blkiotune><device><path>/a</path></device><device><path>/a</path></device></blkiotune>",
        "duplicate blkio device path '/a'",
    ),
    ("<idmap><uid start='0' target='1' count='1'/></idmap>", "uid and gid should be mapped both"),
    ("<clock offset='utc'><timer name='rtc' frequency='5'/></clock>", "timer rtc doesn't support"),
    ("<on_reboot>coredump-destroy</on_reboot>", "Lifecycle event 'reboot' doesn't support"),
]


@pytest.mark.parametrize(("body", "message"), CHECKED)
def test_a_validation_check_runs_when_its_section_has_something(body: str, message: str) -> None:
    os_part = "" if "<os>" in body else HVM
    assert message in _error(os_part + body)[2]


@pytest.mark.parametrize(("body", "message"), CHECKED)
def test_a_validation_check_waits_for_validation(body: str, message: str) -> None:
    os_part = "" if "<os>" in body else HVM
    try:
        _definition(os_part + body, validate=False)
    except VirtError as error:
        assert message not in error.message


def test_an_individual_vcpu_gets_its_hotplug_flag_in_post_parse() -> None:
    body = HVM + "<vcpu current='1'>2</vcpu><vcpus><vcpu id='0' enabled='yes'/>"
    body += "<vcpu id='1' enabled='no'/></vcpus>"
    definition = _definition(body)
    assert [v.hotpluggable for v in definition.vcpus.vcpus] == [False, True]


def test_an_exe_guest_still_needs_its_init() -> None:
    assert _error("<os><type>exe</type></os>")[2] == "XML error: init binary must be specified"


def test_an_hvm_guest_without_boot_order_boots_from_disk() -> None:
    assert _definition(HVM).os.boot == ["hd"]


def test_an_os_boot_order_and_device_boot_elements_are_refused_together() -> None:
    body = "<os><type>hvm</type><boot dev='hd'/></os><devices><disk type='file' device='disk'>"
    body += "<source file='/a'/><target dev='vda'/><boot order='1'/></disk></devices>"
    assert "per-device boot elements cannot be used together" in _error(body)[2]


# -- the OS type ------------------------------------------------------------------------------


def test_the_os_type_after_a_comment_is_found() -> None:
    info = read_os_type(_root("<os><!-- x --><boot dev='hd'/><type arch='x86_64'>hvm</type></os>"))
    assert (info.type, info.arch) == ("hvm", "x86_64")


def test_the_os_type_in_a_later_os_is_found() -> None:
    info = read_os_type(_root("<os><boot dev='hd'/></os><os><type machine='pc'>xen</type></os>"))
    assert (info.type, info.machine) == ("xen", "pc")


def test_a_namespaced_os_type_is_not_the_os_type() -> None:
    root = _root("<os><x:type xmlns:x='urn:x'>hvm</x:type></os>")
    with pytest.raises(XMLError, match="an os <type> must be specified"):
        read_os_type(root)


def test_the_os_is_read_the_same_with_or_without_the_index() -> None:
    body = (
        "<os><type>hvm</type><boot dev='cdrom'/><kernel>/k</kernel></os><os><boot dev='fd'/></os>"
    )
    root = _root(body)
    with indexed_reading():
        index = children_by_name(root)
        first = read_os_type(root, index)
        read_os(root, first, index)
    second = read_os_type(root)
    read_os(root, second)
    assert first == second
    assert first.boot == ["cdrom", "fd"]


@pytest.mark.parametrize(
    "reader", [read_memory, read_vcpus, read_features, read_lifecycle, read_clock]
)
def test_a_section_reads_the_same_with_or_without_the_index(reader: Any) -> None:
    root = _root(
        "<currentMemory>512</currentMemory><vcpu current='1'>2</vcpu><features><acpi/></features>"
        "<clock offset='localtime'/><on_crash>restart</on_crash>" + HVM
    )
    with indexed_reading():
        assert reader(root, children_by_name(root)) == reader(root)


# -- the definition record ------------------------------------------------------------------


def test_the_definition_fields_keep_the_order_the_reader_passes_them_in() -> None:
    names = [f.name for f in dataclasses.fields(Definition)]
    assert names == [
        "virt_type", "id", "name", "uuid", "genid", "title", "description", "metadata",
        "memory", "blkio", "vcpus", "iothreads", "cputune", "numatune", "resource",
        "sysinfo", "os", "idmap", "features", "cpu", "numa", "clock", "lifecycle", "pm",
        "perf", "seclabels", "keywrap", "launch_security", "devices", "test", "devices_def",
    ]  # fmt: skip


def test_a_definition_holds_each_section_in_its_own_field() -> None:
    root = _root(HVM + "<vcpu>3</vcpu><devices/>")
    definition = read_definition(root)
    assert definition.name == "d"
    assert definition.uuid.hex() == UUID.replace("-", "")
    assert definition.memory.total == 1024
    assert definition.vcpus.maximum == 3
    assert definition.os.type == "hvm"
    assert definition.sysinfo == []
    assert definition.keywrap is None
    assert definition.launch_security is None
    assert definition.devices is root.find("devices")
    assert definition.devices_def is not None


def test_a_definition_without_devices_has_none_and_leaves_the_stand_in_empty() -> None:
    for _ in range(2):
        definition = _definition(HVM)
        assert definition.devices is None
        assert definition.devices_def is not None
        assert not any(definition.devices_def.all())
    assert len(checks._NO_DEVICES) == 0
    assert not checks._NO_DEVICES.attrib


# -- the device context -----------------------------------------------------------------------


def test_the_device_context_takes_what_the_definition_has() -> None:
    definition = _definition(
        "<os><type arch='x86_64'>hvm</type></os><features><ioapic driver='qemu'/></features>"
    )
    ctx = context_for(definition)
    expected = DomainDeviceContext(
        virt_type="test", os_type="hvm", arch="x86_64", memory_kib=1024, numa_nodes=0,
        ioapic_driver="qemu",
    )  # fmt: skip
    assert ctx == expected


def test_the_device_context_of_something_else_keeps_the_defaults() -> None:
    assert context_for(object()) == DomainDeviceContext()


def test_each_device_context_is_a_new_one() -> None:
    definition = _definition(HVM)
    first, second = context_for(definition), context_for(definition)
    assert first is not second
    assert first.seclabel_relabel is not second.seclabel_relabel


# -- the child index --------------------------------------------------------------------------


def test_children_by_name_groups_as_group_by_name_does() -> None:
    body = HVM + "<!-- c --><x:e xmlns:x='urn:x'/><?pi x?><on_crash>destroy</on_crash><os/>"
    root = _root(body)
    expected = group_by_name((root,))
    assert list(expected) == ["name", "uuid", "memory", "os", "{urn:x}e", "on_crash"]
    assert len(expected["os"]) == 2
    assert children_by_name(root) == expected
    with indexed_reading():
        assert children_by_name(root) == expected


def test_children_by_name_is_the_blocks_index_within_a_block() -> None:
    root = _root(HVM)
    with indexed_reading():
        assert children_by_name(root) is children_by_name(root)


def test_children_by_name_is_new_each_time_outside_any_block() -> None:
    root = _root(HVM)
    assert children_by_name(root) is not children_by_name(root)


def test_a_block_is_known_to_be_open_only_within_it() -> None:
    assert not in_indexed_reading()
    with indexed_reading():
        assert in_indexed_reading()
    assert not in_indexed_reading()


def test_a_definition_read_within_a_block_uses_that_blocks_index() -> None:
    root = _root(HVM)
    with indexed_reading():
        os_element = root.find("os")
        assert os_element is not None
        read_definition(root)
        assert os_element in childindex._INDEXES  # indexed by the reading, kept by the block
    assert os_element not in childindex._INDEXES


def test_a_definition_read_outside_any_block_leaves_no_index_behind() -> None:
    root = _root(
        HVM + "<devices><disk type='file'><source file='/a'/><target dev='vda'/></disk></devices>"
    )
    read_definition(root)
    assert not any(e.getroottree().getroot() is root for e in childindex._INDEXES)


def test_children_by_name_of_a_leaf_is_empty() -> None:
    with indexed_reading():
        assert children_by_name(etree.Element("leaf")) == {}


# -- the DOCTYPE check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "prolog",
    [
        "",
        "<?xml version='1.0'?>\n",
        "\n",
        "<!-- c -->",
        "\ufeff",
    ],
)
def test_a_doctype_is_refused_after_any_prolog(prolog: str) -> None:
    text = prolog + "<!DOCTYPE domain [<!ENTITY e 'x'>]><domain type='test'/>"
    with pytest.raises(XMLError, match="DOCTYPE and entity declarations are not allowed"):
        parse_document(text)


@pytest.mark.parametrize("prolog", ["", "<?xml version='1.0'?>\n", "\n", "<!-- c -->", "<?pi x?>"])
def test_a_document_without_doctype_parses_after_any_prolog(prolog: str) -> None:
    assert parse_document(prolog + "<domain type='test'/>").tag == "domain"


# -- records at their defaults ----------------------------------------------------------------


def _stamp() -> list[int]:
    return [1]


@dataclasses.dataclass
class _Sample:
    number: int = 3
    items: list[int] = dataclasses.field(default_factory=list)
    names: dict[str, int] = dataclasses.field(default_factory=dict)
    stamp: list[int] = dataclasses.field(default_factory=_stamp)
    label: str | None = None


@dataclasses.dataclass
class _Required:
    number: int


@pytest.mark.parametrize("make", [default_record, fresh_record])
def test_a_record_at_its_defaults_equals_one_made_by_its_constructor(make: Any) -> None:
    assert make(_Sample) == _Sample()
    assert make(OSInfo) == OSInfo()


@pytest.mark.parametrize("make", [default_record, fresh_record])
def test_a_record_at_its_defaults_makes_each_mutable_default_anew(make: Any) -> None:
    first, second = make(_Sample), make(_Sample)
    assert first.stamp == [1]
    for name in ("items", "names", "stamp"):
        assert getattr(first, name) is not getattr(second, name)


def test_a_default_record_holds_every_field_as_its_constructor_does() -> None:
    assert list(vars(default_record(_Sample)).items()) == list(vars(_Sample()).items())
    assert list(vars(default_record(OSInfo))) == list(vars(OSInfo()))


def test_a_fresh_record_holds_only_the_fields_made_by_factories() -> None:
    assert set(vars(fresh_record(_Sample))) == {"items", "names", "stamp"}


@pytest.mark.parametrize("make", [default_record, fresh_record])
def test_a_record_with_a_field_without_default_cannot_be_made(make: Any) -> None:
    with pytest.raises(TypeError, match=r"_Required\.number has no default"):
        make(_Required)


@pytest.mark.parametrize("make", [default_record, fresh_record])
def test_a_record_at_its_defaults_copies_and_pickles_like_any_other(make: Any) -> None:
    record = make(OSInfo)
    assert copy.deepcopy(record) == OSInfo()
    assert pickle.loads(pickle.dumps(record)) == OSInfo()
    assert dataclasses.replace(record, arch="x86_64") == OSInfo(arch="x86_64")
