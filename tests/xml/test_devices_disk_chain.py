"""Disk backing chains in a running domain's XML: the ``index`` numbers libvirt prints.

libvirt numbers a running domain's storage sources (``<source index='N'/>``,
``<backingStore index='M'>``); it reads the numbers back from status XML only
(a definition being defined or created never keeps them) and prints the
source's number even in the inactive XML of a running domain, while backing
layers detected from the images are left out of the inactive XML.
"""

from __future__ import annotations

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain import Domain
from virtcore.xml.domain.devices.source import (
    DETECTED_MARK,
    StorageSource,
    backing_store_element,
)

INACTIVE = int(DomainXMLFlags.INACTIVE)

CHAIN = (
    "<source file='/img/top.qcow2' index='{top}'/>"
    "<backingStore type='file' index='{below}'><format type='qcow2'/>"
    "<source file='/img/base.qcow2'/><backingStore/></backingStore>"
)


def domain_xml(disk_body: str, *, running: bool = True) -> str:
    ident = " id='4'" if running else ""
    return (
        f"<domain type='qemu'{ident}><name>d</name><memory>65536</memory>"
        "<os><type arch='x86_64'>hvm</type></os><devices>"
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>{disk_body}"
        "<target dev='vda' bus='virtio'/></disk></devices></domain>"
    )


def disk_text(xml: str) -> str:
    start, end = xml.index("<disk"), xml.index("</disk>")
    return xml[start:end]


def test_status_xml_keeps_the_source_and_backing_numbers() -> None:
    live = Domain.parse(domain_xml(CHAIN.format(top=3, below=7)), inactive=False)
    text = disk_text(live.format(live=True))
    assert "<source file='/img/top.qcow2' index='3'/>" in text
    assert "<backingStore type='file' index='7'>" in text
    assert "<source file='/img/base.qcow2'/>" in text


def test_a_defined_definition_drops_the_numbers() -> None:
    defined = Domain.parse(domain_xml(CHAIN.format(top=3, below=7), running=False))
    text = disk_text(defined.format())
    assert "index=" not in text
    assert "<backingStore type='file'>" in text


def test_invalid_numbers_are_ignored_on_define() -> None:
    defined = Domain.parse(domain_xml(CHAIN.format(top="abc", below="x9"), running=False))
    assert "index=" not in disk_text(defined.format())


def test_the_inactive_xml_of_a_running_domain_keeps_the_source_number() -> None:
    live = Domain.parse(domain_xml(CHAIN.format(top=1, below=2)), inactive=False)
    text = disk_text(live.format(INACTIVE, live=True))
    assert "<source file='/img/top.qcow2' index='1'/>" in text
    # A layer given in the XML (not detected) stays, with its number.
    assert "<backingStore type='file' index='2'>" in text


@pytest.mark.parametrize(
    ("top", "below", "message"),
    [
        ("abc", "2", "XML error: invalid storage source index 'abc'"),
        ("-1", "2", "XML error: invalid storage source index '-1'"),
        ("4294967296", "2", "XML error: invalid storage source index '4294967296'"),
        ("1", "x9", "XML error: invalid disk index 'x9'"),
    ],
)
def test_a_malformed_number_in_status_xml_is_refused(top: str, below: str, message: str) -> None:
    with pytest.raises(VirtError) as caught:
        Domain.parse(domain_xml(CHAIN.format(top=top, below=below)), inactive=False).format(
            live=True
        )
    assert caught.value.code == ErrorNumber.XML_ERROR
    assert caught.value.message == message


def test_detected_layers_are_left_out_of_the_inactive_xml() -> None:
    top = StorageSource(type="file", path="/img/top.qcow2", format="qcow2", index=1)
    top.backing = StorageSource(
        type="file", path="/img/base.qcow2", format="qcow2", index=2, detected=True
    )
    top.backing.backing = StorageSource(type="none", detected=True)
    assert backing_store_element(top, INACTIVE) is None
    live = backing_store_element(top, 0)
    assert live is not None
    assert (live.get("type"), live.get("index")) == ("file", "2")
    terminator = live.find("backingStore")
    assert terminator is not None and len(terminator) == 0 and not terminator.attrib


def test_a_backing_layer_never_prints_an_index_on_its_source() -> None:
    top = StorageSource(type="file", path="/img/top.qcow2", format="qcow2", index=1)
    top.backing = StorageSource(type="file", path="/img/base.qcow2", format="qcow2", index=5)
    element = backing_store_element(top, 0)
    assert element is not None
    source = element.find("source")
    assert source is not None and source.get("index") is None


def test_a_layer_marked_detected_in_the_tree_stays_out_of_the_inactive_xml() -> None:
    marked = CHAIN.format(top=1, below=2).replace(
        "<backingStore type='file' index='2'>",
        f"<backingStore xmlns:rt='{DETECTED_MARK[1:].split('}')[0]}' rt:detected='yes' "
        "type='file' index='2'>",
    )
    live = Domain.parse(domain_xml(marked), inactive=False)
    inactive = disk_text(live.format(INACTIVE, live=True))
    assert "<source file='/img/top.qcow2' index='1'/>" in inactive
    assert "backingStore" not in inactive
    printed = disk_text(live.format(live=True))
    assert "<backingStore type='file' index='2'>" in printed
    assert "detected" not in printed


def test_the_mark_means_nothing_in_a_definition() -> None:
    marked = CHAIN.format(top=1, below=2).replace(
        "<backingStore type='file' index='2'>",
        f"<backingStore xmlns:rt='{DETECTED_MARK[1:].split('}')[0]}' rt:detected='yes' "
        "type='file' index='2'>",
    )
    defined = Domain.parse(domain_xml(marked, running=False))
    assert "<backingStore type='file'>" in disk_text(defined.format())
