"""Controllers: libvirt's order, index assignment, implicit controllers and checks."""

from __future__ import annotations

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import Controller, Devices, DomainDeviceContext
from virtcore.xml.domain.devices.controller import ControllerDef, assign_indexes, insert_controller
from virtcore.xml.parse import parse_document

INACTIVE = int(DomainXMLFlags.INACTIVE)


def devices(body: str) -> Devices:
    return Devices(parse_document(f"<devices>{body}</devices>"))


def controllers(body: str) -> list[tuple[str, int, str | None]]:
    definition = devices(body).definition(DomainDeviceContext())
    return [(c.type, c.index, c.model) for c in definition.controllers]


def error(body: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    return caught.value


def test_parsed_controllers_are_sorted_by_index_within_their_type() -> None:
    assert controllers(
        "<controller type='scsi' index='1'/><controller type='ide' index='1'/>"
        "<controller type='scsi' index='0' model='lsilogic'/>"
    ) == [("scsi", 0, "lsilogic"), ("scsi", 1, None), ("ide", 1, None)]


def test_implicit_controllers_are_appended() -> None:
    assert controllers(
        "<controller type='ide' index='1'/><disk><source file='/a'/><target dev='hda'/></disk>"
    ) == [("ide", 1, None), ("ide", 0, None)]


def test_controllers_without_index_get_the_lowest_free_one() -> None:
    assert controllers(
        "<controller type='scsi'/><controller type='ide' index='3'/>"
        "<controller type='scsi'/><controller type='ide'/>"
    ) == [("scsi", 0, None), ("scsi", 1, None), ("ide", 3, None), ("ide", 0, None)]


def test_usb2_companions_share_the_index_of_their_master() -> None:
    assert controllers(
        "<controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci1'/>"
        "<controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci1'/>"
    ) == [
        ("usb", 0, "ich9-ehci1"),
        ("usb", 0, "ich9-uhci1"),
        ("usb", 1, "ich9-ehci1"),
        ("usb", 1, "ich9-uhci1"),
    ]


def test_companions_get_their_default_start_port() -> None:
    text = devices(
        "<controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci3'/>"
    ).format(INACTIVE)
    assert "<master startport='4'/>" in text


def test_insertion_puts_a_new_controller_before_higher_indexes() -> None:
    existing = [ControllerDef(type="sata", index=0), ControllerDef(type="sata", index=2)]
    insert_controller(existing, ControllerDef(type="sata", index=1))
    assign_indexes(existing)
    assert [c.index for c in existing] == [0, 1, 2]


def test_scsi_hostdevs_add_controllers_of_the_model_in_use() -> None:
    assert controllers(
        "<controller type='scsi' index='2' model='virtio-scsi'/>"
        "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
        "<address bus='0' target='0' unit='0'/></source>"
        "<address type='drive' controller='2' bus='0' target='0' unit='0'/></hostdev>"
    ) == [("scsi", 2, "virtio-scsi"), ("scsi", 0, "virtio-scsi"), ("scsi", 1, "virtio-scsi")]


def test_pci_target_values_are_written_as_libvirt_writes_them() -> None:
    text = devices(
        "<controller type='pci' index='1' model='pcie-root-port'>"
        "<target port='16' chassis='0x2' hotplug='off'/></controller>"
    ).format(INACTIVE)
    assert "<target chassis='2' port='0x10' hotplug='off'/>" in text


def test_duplicate_indexes_are_refused_except_for_usb() -> None:
    exc = error("<controller type='sata' index='0'/><controller type='sata' index='0'/>")
    assert exc.message == "XML error: Multiple 'sata' controllers with index '0'"
    assert (
        len(controllers("<controller type='usb' index='0'/><controller type='usb' index='0'/>"))
        == 2
    )


def test_usb_none_excludes_other_usb_controllers() -> None:
    exc = error("<controller type='usb' model='none'/><controller type='usb' model='ehci'/>")
    assert exc.code == ErrorNumber.XML_DETAIL
    assert exc.message == "Can't add another USB controller: USB is disabled for this domain"


def test_unknown_models_are_unsupported() -> None:
    exc = error("<controller type='usb' model='bogus'/>")
    assert exc.message == "unsupported configuration: Unknown model type 'bogus'"


def test_the_model_exposes_typed_properties() -> None:
    cont = Controller.from_string(
        "<controller type='scsi' index='1' model='virtio-scsi'><driver queues='4'/></controller>"
    )
    assert (cont.type, cont.index, cont.model, cont.queues) == ("scsi", 1, "virtio-scsi", 4)
    cont.queues = 8
    assert "<driver queues='8'/>" in cont.to_string()
