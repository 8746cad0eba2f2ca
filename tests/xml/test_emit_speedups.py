"""The domain-level steps around reading and printing keep libvirt's behaviour.

Per-device ``<boot>`` elements are found by a search of the ``<devices>``
subtree: only a device's own ``<boot>`` (a grandchild of ``<devices>``, in
no namespace) counts, as when each device is asked. The test driver's
interface names are written into the document while its child index is
still there: each interface gets ``<target dev=...>`` at the place the
interface model orders it, in the document itself, whether the MAC
addresses came with the document or were generated.
"""

from __future__ import annotations

import pytest
from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml.domain import Domain
from virtcore.xml.domain.checks import _device_boot_order

DOMAIN = """<domain type='test'>
  <name>d</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory>65536</memory>
  <os><type>hvm</type>{os_boot}</os>
  <devices>{devices}</devices>
</domain>"""

MAC = "<mac address='52:54:00:12:34:56'/>"


def _devices(body: str) -> etree._Element:
    return etree.fromstring(f"<devices xmlns:x='urn:x'>{body}</devices>")


def test_a_device_boot_element_is_found() -> None:
    assert _device_boot_order(_devices("<disk/><disk><source/><boot order='1'/></disk>"))


def test_devices_without_boot_elements_have_no_boot_order() -> None:
    assert not _device_boot_order(_devices("<disk><source/></disk><!-- c --><video/>"))


def test_a_boot_element_directly_in_devices_is_no_device_boot() -> None:
    assert not _device_boot_order(_devices("<boot/>"))


def test_a_boot_element_deeper_in_a_device_is_no_device_boot() -> None:
    assert not _device_boot_order(_devices("<hostdev><source><boot/></source></hostdev>"))


def test_a_namespaced_boot_element_is_no_device_boot() -> None:
    assert not _device_boot_order(_devices("<disk><x:boot/></disk>"))


def test_no_devices_element_has_no_boot_order() -> None:
    assert not _device_boot_order(None)


def test_device_and_os_boot_together_are_refused() -> None:
    text = DOMAIN.format(
        os_boot="<boot dev='hd'/>",
        devices=(
            "<disk type='file'><source file='/a.img'/><target dev='vda'/><boot order='1'/></disk>"
        ),
    )
    with pytest.raises(VirtError, match="per-device boot elements cannot be used together"):
        Domain.parse(text)


def _interface_targets(domain: Domain) -> list[str | None]:
    return [target.get("dev") for target in domain.element.iterfind("devices/interface/target")]


def test_the_test_driver_names_are_stored_in_the_document() -> None:
    interfaces = f"<interface type='user'>{MAC}</interface>" * 2
    domain = Domain.parse(DOMAIN.format(os_boot="", devices=interfaces), test_ifnames=True)
    assert _interface_targets(domain) == ["testnet0", "testnet1"]


def test_a_stored_target_goes_where_the_interface_model_orders_it() -> None:
    body = f"<interface type='user'>{MAC}<model type='virtio'/></interface>"
    domain = Domain.parse(DOMAIN.format(os_boot="", devices=body), test_ifnames=True)
    interface = domain.element.find("devices/interface")
    assert interface is not None
    assert [node.tag for node in interface] == ["mac", "target", "model"]


def test_a_target_without_a_name_gets_the_name() -> None:
    body = f"<interface type='user'>{MAC}<target/></interface>"
    domain = Domain.parse(DOMAIN.format(os_boot="", devices=body), test_ifnames=True)
    assert _interface_targets(domain) == ["testnet0"]


def test_names_are_stored_for_interfaces_whose_mac_was_generated() -> None:
    body = "<interface type='user'/>"
    domain = Domain.parse(
        DOMAIN.format(os_boot="", devices=body),
        test_ifnames=True,
        mac_generator=lambda: "52:54:00:00:00:01",
    )
    assert _interface_targets(domain) == ["testnet0"]
    assert "<mac address='52:54:00:00:00:01'/>" in domain.format()


def test_stored_names_are_printed_and_kept_through_a_new_parse() -> None:
    body = f"<interface type='user'>{MAC}</interface>"
    domain = Domain.parse(DOMAIN.format(os_boot="", devices=body), test_ifnames=True)
    text = domain.format()
    assert "<target dev='testnet0'/>" in text
    assert Domain.parse(text, test_ifnames=True).format() == text


def test_without_the_test_driver_names_no_target_is_stored() -> None:
    body = f"<interface type='user'>{MAC}</interface>"
    domain = Domain.parse(DOMAIN.format(os_boot="", devices=body))
    assert _interface_targets(domain) == []
