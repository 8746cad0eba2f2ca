"""Network interfaces: MAC addresses, target names, sub-elements and libvirt's checks."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import Devices, DomainDeviceContext
from virtcore.xml.domain.devices.interface import Interface, parse_mac, random_mac
from virtcore.xml.parse import parse_document

INACTIVE = int(DomainXMLFlags.INACTIVE)
MAC = "<mac address='52:54:00:12:34:56'/>"


def devices(body: str) -> Devices:
    return Devices(parse_document(f"<devices>{body}</devices>"))


def written(body: str, ctx: DomainDeviceContext | None = None, flags: int = INACTIVE) -> str:
    return devices(body).format(flags, ctx or DomainDeviceContext(test_ifnames=True))


def error(body: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    return caught.value


# -- MAC addresses ------------------------------------------------------------------------


def test_a_missing_mac_comes_from_the_generator() -> None:
    ctx = DomainDeviceContext(mac_generator=lambda: "52:54:00:aa:bb:cc")
    assert "<mac address='52:54:00:aa:bb:cc'/>" in written("<interface type='user'/>", ctx)


def test_generated_macs_use_libvirts_prefix() -> None:
    macs = {random_mac() for _ in range(20)}
    assert all(parse_mac(mac) == mac and mac.startswith("52:54:00:") for mac in macs)
    assert len(macs) > 1


def test_macs_are_written_in_canonical_form() -> None:
    assert parse_mac("52:54:0:A:b:1") == "52:54:00:0a:0b:01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("52-54-00-00-00-01", "unable to parse mac address '52-54-00-00-00-01'"),
        ("01:54:00:00:00:01", "expected unicast mac address, found multicast '01:54:00:00:00:01'"),
    ],
)
def test_bad_macs_are_refused(text: str, message: str) -> None:
    exc = error(f"<interface type='user'><mac address='{text}'/></interface>")
    assert (exc.code, exc.domain, exc.message) == (
        ErrorNumber.XML_ERROR,
        ErrorDomain.DOMAIN,
        f"XML error: {message}",
    )


def test_assign_macs_writes_the_generated_address_into_the_document() -> None:
    devs = devices(f"<interface type='user'/><interface type='user'>{MAC}</interface>")
    counter = itertools.count()
    made = devs.assign_macs(lambda: f"52:54:00:00:00:{next(counter):02x}")
    assert made == ["52:54:00:00:00:00"]
    assert [i.mac_address for i in devs.interfaces] == ["52:54:00:00:00:00", "52:54:00:12:34:56"]


# -- target names -------------------------------------------------------------------------


def test_names_libvirt_generated_are_forgotten_on_define() -> None:
    text = written(f"<interface type='user'>{MAC}<target dev='vnet3'/></interface>")
    assert "<target dev='testnet0'/>" in text


def test_unmanaged_taps_keep_their_names() -> None:
    body = f"<interface type='ethernet'>{MAC}<target dev='vnet3' managed='no'/></interface>"
    assert "<target dev='vnet3' managed='no'/>" in written(body)


def test_test_driver_names_skip_names_in_use() -> None:
    text = written(
        f"<interface type='user'>{MAC}</interface>"
        f"<interface type='user'>{MAC}<target dev='testnet0'/></interface>"
    )
    assert text.index("testnet1") < text.index("testnet0")


def test_without_the_test_driver_step_no_target_is_written() -> None:
    text = written(f"<interface type='user'>{MAC}</interface>", DomainDeviceContext())
    assert "<target" not in text


# -- sub-elements ------------------------------------------------------------------------


def test_driver_settings_are_written_for_virtio_models_only() -> None:
    virtio = written(
        f"<interface type='user'>{MAC}<model type='virtio'/><driver name='vhost' queues='2'/>"
        "</interface>"
    )
    e1000 = written(
        f"<interface type='user'>{MAC}<model type='e1000'/><driver name='vhost'/></interface>"
    )
    assert "<driver name='vhost' queues='2'/>" in virtio
    assert "<driver" not in e1000


def test_a_queue_count_of_one_means_no_multiqueue() -> None:
    body = f"<interface type='user'>{MAC}<model type='virtio'/><driver queues='1'/></interface>"
    assert "<driver" not in written(body)


def test_filter_parameters_are_sorted_by_name() -> None:
    text = written(
        f"<interface type='bridge'>{MAC}<source bridge='br0'/><filterref filter='f'>"
        "<parameter name='IP' value='2'/><parameter name='A' value='x'/>"
        "<parameter name='IP' value='1'/></filterref></interface>"
    )
    assert text.index("name='A'") < text.index("value='2'") < text.index("value='1'")


def test_missing_virtualport_ids_come_from_the_uuid_factory() -> None:
    ctx = dataclasses.replace(
        DomainDeviceContext(), new_uuid=lambda: "0" * 8 + "-1111-2222-3333-" + "4" * 12
    )
    text = written(
        f"<interface type='bridge'>{MAC}<source bridge='br0'/>"
        "<virtualport type='openvswitch'/></interface>",
        ctx,
    )
    assert "<parameters interfaceid='00000000-1111-2222-3333-444444444444'/>" in text


def test_ip_addresses_are_written_canonically_with_their_family() -> None:
    text = written(f"<interface type='ethernet'>{MAC}<ip address='2001:DB8:0::05'/></interface>")
    assert "<ip address='2001:db8::5' family='ipv6'/>" in text


def test_port_ids_are_only_kept_for_running_domains() -> None:
    body = (
        f"<interface type='network'>{MAC}"
        "<source network='n' portid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></interface>"
    )
    live = DomainDeviceContext(inactive=False)
    assert "portid" not in written(body, flags=0)
    assert "portid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'" in written(body, live, flags=0)
    assert "portid" not in written(body, live, flags=INACTIVE)


def test_an_empty_rate_leaves_an_open_bandwidth_element() -> None:
    text = written(
        f"<interface type='bridge'>{MAC}<source bridge='b'/>"
        "<bandwidth><inbound average='0'/></bandwidth></interface>"
    )
    assert "<bandwidth>\n    </bandwidth>" in text


def test_hostdev_interfaces_write_the_address_type() -> None:
    text = written(
        f"<interface type='hostdev' managed='yes'>{MAC}<source>"
        "<address type='pci' domain='0' bus='1' slot='2' function='3'/></source></interface>"
    )
    assert "<interface type='hostdev' managed='yes'>" in text
    assert "<address type='pci' domain='0x0000' bus='0x01' slot='0x02' function='0x3'/>" in text


# -- checks -----------------------------------------------------------------------------


def test_floor_is_only_for_network_interfaces() -> None:
    exc = error(
        f"<interface type='bridge'>{MAC}<source bridge='b'/>"
        "<bandwidth><inbound average='1' floor='2'/></bandwidth></interface>"
    )
    assert (
        exc.message == "unsupported configuration: floor attribute is not supported for this config"
    )
    assert exc.domain == ErrorDomain.NONE


def test_bridge_interfaces_need_a_source() -> None:
    exc = error(f"<interface type='bridge'>{MAC}</interface>")
    assert exc.message == "XML error: interface type='bridge' requires a 'source' element"


def test_the_model_exposes_typed_properties() -> None:
    iface = Interface.from_string(
        f"<interface type='bridge'>{MAC}<source bridge='br0'/><model type='virtio'/>"
        "<mtu size='9000'/><link state='down'/></interface>"
    )
    assert (iface.type, iface.source_bridge, iface.model_type) == ("bridge", "br0", "virtio")
    assert (iface.mtu, iface.link_state, iface.mac_address) == (9000, "down", "52:54:00:12:34:56")
    iface.link_state = "up"
    assert "<link state='up'/>" in iface.to_string()


def test_test_driver_names_can_be_written_into_the_document() -> None:
    devs = devices(
        f"<interface type='user'>{MAC}<target dev='vnet0'/></interface>"
        f"<interface type='user'>{MAC}<target dev='testnet0'/></interface>"
        f"<interface type='user'>{MAC}</interface>"
    )
    assert devs.assign_test_ifnames() == ["testnet1", "testnet2"]
    assert [i.target_dev for i in devs.interfaces] == ["testnet1", "testnet0", "testnet2"]
    again = devs.format(INACTIVE, DomainDeviceContext(test_ifnames=True))
    assert again == devs.format(INACTIVE, DomainDeviceContext())
