"""The quick ways the domain's sections are read give what the general readers give.

Plain decimal numbers and the usual unit spellings are read directly
(:func:`~virtcore.xml.domain.common.read_uint`,
:func:`~virtcore.xml.domain.common.memory_kib`), everything else by
:mod:`virtcore.xml.units`; a section's children are grouped by name in one
pass (:func:`~virtcore.xml.domain.common.group_children`) instead of one
path lookup per child; sections a document does not have are skipped at
once. Each must answer exactly as libvirt's XPath-driven readers do,
repeated sections and odd spellings included.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import MISSING
from typing import Any

import pytest
from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.childindex import indexed_reading
from virtcore.xml.domain import Domain
from virtcore.xml.domain.common import (
    fresh_record,
    group_children,
    memory_kib,
    read_uint,
    read_ullong,
    sub,
)
from virtcore.xml.domain.cpu import NumaInfo, check_numa_cpus, read_numa
from virtcore.xml.domain.features import FeaturesInfo
from virtcore.xml.domain.memory import MemoryInfo
from virtcore.xml.domain.os import OSInfo
from virtcore.xml.domain.outnode import OutNode

NUMBERS = [
    "0", "1", "012", "4294967295", "4294967296", "18446744073709551615",
    "18446744073709551616", " 7", "+7", "-1", "-0", "0x10", "1e3", "", "x",
    "\u0661\u0662", "\u00b2", "7 ", "0" * 30 + "7", "1" * 5000,
]  # fmt: skip
SIZES = [
    "1", "1024", "0", "012", "9007199254740991", "9007199254740992", "8589934591",
    "18446744073709551615", "99999999999999999999", " 5", "+5", "-5", "", "1.5",
    "0" * 30 + "5", "1" * 5000,
]  # fmt: skip
UNITS = [None, "", "KiB", "k", "K", "kib", "MiB", "M", "m", "GiB", "G", "TiB", "PiB", "EiB",
         "E", "e", "KB", "MB", "EB", "b", "B", "bytes", "byte", "XB", "Ki", "kB"]  # fmt: skip


def _outcome(read: object, *args: object, **kwargs: object) -> object:
    try:
        return read(*args, **kwargs)  # type: ignore[operator]
    except (ValueError, VirtError) as error:
        detail = (error.code, error.domain, error.message) if isinstance(error, VirtError) else ""
        return (type(error), detail)


@pytest.mark.parametrize("text", NUMBERS)
def test_unsigned_ints_read_as_strtoul_reads_them(text: str) -> None:
    assert _outcome(read_uint, text) == _outcome(units.parse_uint, text)


@pytest.mark.parametrize("text", NUMBERS)
def test_unsigned_long_longs_read_as_strtoull_reads_them(text: str) -> None:
    assert _outcome(read_ullong, text) == _outcome(units.parse_ullong, text)


@pytest.mark.parametrize("capped", [False, True])
@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("value", SIZES)
def test_memory_sizes_read_as_libvirt_reads_them(
    value: str, unit: str | None, capped: bool
) -> None:
    where = "./memory[1]"
    expected = _outcome(units.parse_memory, value, unit, where=where, capped=capped)
    assert _outcome(memory_kib, value, unit, where=where, capped=capped) == expected


def test_children_are_grouped_by_name_across_sections_in_document_order() -> None:
    root = etree.fromstring(
        "<d xmlns:x='urn:x'><os><boot dev='a'/><!-- c --><type/><boot dev='b'/><x:boot/></os>"
        "<os><boot dev='c'/><?pi x?></os></d>"
    )
    grouped = group_children(root.iterchildren("os"))
    assert grouped["boot"] == list(root.iterfind("os/boot"))
    assert [b.get("dev") for b in grouped["boot"]] == ["a", "b", "c"]
    assert sorted(grouped) == sorted(["boot", "type", "{urn:x}boot"])


def test_a_list_of_attributes_becomes_the_nodes_own() -> None:
    parent = OutNode("os")
    attrs: list[tuple[str, str | int | None]] = [("dev", "hd")]
    node = sub(parent, "boot", attrs)
    assert node.pairs is attrs
    assert parent.children == [node]


def test_other_attribute_iterables_are_copied() -> None:
    node = sub(OutNode("os"), "boot", (("dev", "hd"),))
    assert node.pairs == [("dev", "hd")]


def _domain(body: str) -> str:
    return f"<domain type='test'><name>x</name><memory>1024</memory>{body}</domain>"


def _printed(body: str) -> str:
    return Domain.parse(_domain(body)).format()


def test_the_os_type_in_a_later_os_element_counts() -> None:
    printed = _printed("<os/><os><type arch='x86_64'>hvm</type><kernel>/k</kernel></os>")
    assert "<type arch='x86_64'>hvm</type>" in printed
    assert "<kernel>/k</kernel>" in printed


def test_boot_devices_of_every_os_element_count_up_to_four() -> None:
    body = (
        "<os><type>hvm</type><boot dev='fd'/><boot dev='cdrom'/></os>"
        "<os><boot dev='hd'/><boot dev='network'/><boot dev='bogus'/></os>"
    )
    printed = _printed(body)
    assert printed.count("<boot dev=") == 4


def test_a_fifth_boot_device_is_not_even_checked() -> None:
    body = "<os><type>hvm</type>" + "<boot dev='hd'/>" * 4 + "<boot dev='bogus'/></os>"
    assert _printed(body).count("<boot dev='hd'/>") == 4


def test_an_unknown_boot_device_is_refused_in_libvirts_words() -> None:
    with pytest.raises(VirtError, match="Invalid value for attribute 'dev' in element 'boot'"):
        _printed("<os><type>hvm</type><boot dev='floppy'/></os>")


def test_a_missing_boot_device_is_refused_in_libvirts_words() -> None:
    with pytest.raises(VirtError, match="Missing required attribute 'dev' in element 'boot'"):
        _printed("<os><type>hvm</type><boot/></os>")


def test_features_ignore_comments_but_refuse_namespaced_elements() -> None:
    printed = _printed("<os><type>hvm</type></os><features><!-- c --><acpi/></features>")
    assert "<features>\n    <acpi/>\n  </features>" in printed
    with pytest.raises(VirtError, match="unexpected feature 'acpi'"):
        _printed("<os><type>hvm</type></os><features><x:acpi xmlns:x='urn:x'/></features>")


def test_timers_of_every_clock_element_are_read() -> None:
    body = "<os><type>hvm</type></os><clock offset='utc'/><clock><timer name='rtc'/></clock>"
    assert "<timer name='rtc'/>" in _printed(body)


def test_numa_cells_come_from_the_first_numa_of_every_cpu() -> None:
    root = etree.fromstring(
        "<domain><cpu><numa><cell cpus='0' memory='1'/></numa><numa><cell memory='9'/></numa>"
        "</cpu><cpu><numa><cell id='1' cpus='1' memory='2'/></numa></cpu></domain>"
    )
    with indexed_reading():
        cells = read_numa(root).cells
    assert [cell.memory for cell in cells] == [1, 2]


def test_no_numa_cells_and_no_vcpus_is_still_refused() -> None:
    check_numa_cpus(NumaInfo(), 1)
    with pytest.raises(VirtError, match="CPU IDs in <numa> exceed the <vcpu> count"):
        check_numa_cpus(NumaInfo(), 0)


def test_a_domain_without_tuning_sections_prints_none() -> None:
    printed = _printed("<os><type>hvm</type></os>")
    for tag in ("cputune", "blkiotune", "memtune", "memoryBacking", "numatune", "cpu", "pm"):
        assert f"<{tag}" not in printed


def test_an_empty_memory_backing_prints_nothing() -> None:
    assert "memoryBacking" not in _printed("<os><type>hvm</type></os><memoryBacking/>")


def test_features_with_nothing_to_print_leave_no_element_behind() -> None:
    printed = _printed("<os><type>hvm</type></os><features><tcg/></features>")
    assert "features" not in printed
    assert "  </os>\n  <clock offset='utc'/>\n" in printed


def test_offline_vcpus_are_counted_as_current() -> None:
    printed = _printed("<vcpu current='1'>3</vcpu><os><type>hvm</type></os>")
    assert "<vcpu placement='static' current='1'>3</vcpu>" in printed


RECORDS = [OSInfo, MemoryInfo, FeaturesInfo]


@pytest.mark.parametrize("record", RECORDS)
def test_a_fresh_record_equals_one_made_by_its_constructor(record: Any) -> None:
    assert fresh_record(record) == record()
    assert repr(fresh_record(record)) == repr(record())


@pytest.mark.parametrize("record", RECORDS)
def test_a_fresh_record_makes_every_mutable_default_anew(record: Any) -> None:
    mutable = {f.name for f in dataclasses.fields(record) if f.default_factory is not MISSING}
    first, second = fresh_record(record), fresh_record(record)
    assert set(vars(first)) == mutable
    for name in mutable:
        assert getattr(first, name) is not getattr(second, name)


@pytest.mark.parametrize("record", RECORDS)
def test_a_fresh_record_copies_and_pickles_like_any_other(record: Any) -> None:
    fresh = fresh_record(record)
    assert copy.deepcopy(fresh) == record()
    assert pickle.loads(pickle.dumps(fresh)) == record()
    assert dataclasses.replace(fresh) == record()
