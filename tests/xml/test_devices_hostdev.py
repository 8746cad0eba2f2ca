"""Host devices: sources of every kind, SCSI addresses and libvirt's checks."""

from __future__ import annotations

from tests.xml.device_snippets import devices, error, written
from virtcore.enums.errors import ErrorNumber
from virtcore.xml.domain.devices import Hostdev
from virtcore.xml.domain.devices.address import PCIAddress

PCI = "<source><address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/></source>"


def scsi(unit: int, address: str = "") -> str:
    return (
        "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
        f"<address bus='0' target='0' unit='{unit}'/></source>{address}</hostdev>"
    )


def test_hostdevs_are_unmanaged_unless_said_otherwise() -> None:
    assert "<hostdev mode='subsystem' type='pci' managed='no'>" in written(
        f"<hostdev type='pci' managed='maybe'>{PCI}</hostdev>"
    )


def test_scsi_hostdevs_take_the_first_unit_no_disk_uses() -> None:
    definition = devices(
        "<disk><source file='/a'/><target dev='sda'/></disk>"
        "<disk><source file='/c'/><target dev='sdc'/></disk>" + scsi(0) + scsi(1)
    ).definition()
    units = [h.info.drive.unit for h in definition.hostdevs if h.info.drive is not None]
    assert units == [1, 3]


def test_an_address_used_by_a_scsi_disk_is_refused() -> None:
    address = "<address type='drive' controller='0' bus='0' target='0' unit='0'/>"
    exc = error(
        "<disk><source file='/a'/><target dev='sda'/>" + address + "</disk>" + scsi(0, address)
    )
    assert exc.message == (
        "XML error: SCSI host address controller='0' bus='0' target='0' unit='0' "
        "in use by a SCSI disk"
    )


def test_usb_ids_are_written_as_four_hex_digits() -> None:
    text = written(
        "<hostdev mode='subsystem' type='usb'><source><vendor id='4660'/><product id='1'/>"
        "</source></hostdev>"
    )
    assert "<vendor id='0x1234'/>" in text
    assert "<product id='0x0001'/>" in text


def test_a_usb_source_without_anything_leaves_an_open_element() -> None:
    text = written("<hostdev mode='subsystem' type='usb'><source/></hostdev>")
    assert "<hostdev mode='subsystem' type='usb' managed='no'>\n  </hostdev>" in text


def test_mediated_device_uuids_are_written_in_lower_case() -> None:
    text = written(
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
        "<address uuid='C2177883-F1BB-47F0-914D-32A22E3A8804'/></source></hostdev>"
    )
    assert "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/>" in text


def test_the_same_host_device_twice_is_refused() -> None:
    exc = error(f"<hostdev type='pci'>{PCI}</hostdev><hostdev type='pci'>{PCI}</hostdev>")
    assert exc.message == "XML error: Hostdev already exists in the domain configuration"


def test_pci_hostdevs_need_a_pci_address() -> None:
    exc = error(f"<hostdev type='pci'>{PCI}<address type='drive'/></hostdev>")
    assert exc.code == ErrorNumber.INTERNAL_ERROR
    assert exc.message == (
        "internal error: PCI host devices must use 'pci' or 'unassigned' address type"
    )


def test_startup_policies_are_only_for_usb() -> None:
    exc = error("<hostdev type='pci'><source startupPolicy='optional'/></hostdev>")
    assert exc.message == (
        "unsupported configuration: Setting startupPolicy is only allowed for USB devices"
    )


def test_the_model_gives_typed_access_to_the_host_address() -> None:
    hostdev = Hostdev.from_string(f"<hostdev mode='subsystem' type='pci'>{PCI}</hostdev>")
    assert hostdev.source_address.pci() == PCIAddress(0, 6, 2, 0)
    hostdev.address.set_pci(0, 0, 5)
    assert (
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
        in hostdev.to_string()
    )
