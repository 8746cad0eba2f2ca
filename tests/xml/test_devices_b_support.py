"""Specifications of the shared device machinery: libvirt's readers, device info, helpers."""

from __future__ import annotations

import pytest
from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, VirtError, XMLError
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceInfo,
    Seclabel,
    VirtioOptions,
    parse_uuid,
    prop_enum,
    prop_int,
    prop_switch,
    prop_tristate,
    prop_uint,
    sanitize_path,
)
from virtcore.xml.format import format_xml


def node(text: str) -> etree._Element:
    return etree.fromstring(text)


def formatted(info: DeviceInfo) -> list[str]:
    return [format_xml(e).strip() for e in info.elements()]


# -- readers ---------------------------------------------------------------------------


def test_a_missing_required_attribute_is_an_xml_error_of_the_xml_domain() -> None:
    with pytest.raises(XMLError) as caught:
        prop_enum(node("<sound/>"), "model", ("ich9",), required=True)
    assert caught.value.domain == ErrorDomain.XML
    assert (
        caught.value.message == "XML error: Missing required attribute 'model' in element 'sound'"
    )


def test_an_unknown_enum_value_is_quoted_with_a_final_dot() -> None:
    with pytest.raises(XMLError, match=r"'model' in element 'sound': 'x'\.$"):
        prop_enum(node("<sound model='x'/>"), "model", ("ich9",))


def test_nonzero_enums_refuse_their_first_value() -> None:
    with pytest.raises(XMLError, match="'default'"):
        prop_enum(node("<tpm model='default'/>"), "model", ("default", "tpm-tis"), nonzero=True)


def test_tristates_refuse_the_word_default() -> None:
    with pytest.raises(XMLError):
        prop_tristate(node("<x a='default'/>"), "a")


def test_tristate_switches_read_on_and_off() -> None:
    element = node("<x a='on' b='off'/>")
    assert (prop_switch(element, "a"), prop_switch(element, "b"), prop_switch(element, "c")) == (
        True,
        False,
        None,
    )


def test_unsigned_attributes_refuse_a_minus_sign() -> None:
    with pytest.raises(XMLError, match=r"'-1'\. Expected non-negative integer value$"):
        prop_uint(node("<x n='-1'/>"), "n")


def test_nonzero_numbers_refuse_zero_without_quoting_it() -> None:
    with pytest.raises(XMLError) as caught:
        prop_uint(node("<vsock n='0'/>"), "n", nonzero=True)
    assert caught.value.message.endswith("in element 'vsock': Zero is not permitted")


def test_base_zero_reads_hexadecimal_and_octal_like_strtol() -> None:
    assert prop_int(node("<x a='0x10' b='010'/>"), "a", base=0) == 16
    assert prop_int(node("<x a='0x10' b='010'/>"), "b", base=0) == 8


# -- helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("/foo///bar/", "/foo/bar"),
        ("//host/share", "//host/share"),
        ("///x", "/x"),
        ("/", "/"),
        ("http://a//b", "http://a//b"),
    ],
)
def test_paths_are_sanitized_like_libvirt_sanitizes_them(path: str, clean: str) -> None:
    assert sanitize_path(path) == clean


def test_uuids_may_have_dashes_and_blanks_anywhere_between_digit_pairs() -> None:
    assert (
        parse_uuid(" 32EE7E76-2178 47a1ab7b269e6e3480-15 ")
        == "32ee7e76-2178-47a1-ab7b-269e6e348015"
    )


def test_a_short_uuid_is_no_uuid() -> None:
    assert parse_uuid("32ee7e76-2178-47a1-ab7b-269e6e3480") is None


def test_virtio_options_on_a_device_that_is_not_virtio_are_refused() -> None:
    with pytest.raises(ConfigUnsupportedError, match="ats driver option is only supported"):
        VirtioOptions(ats=True).check_absent()


def test_a_seclabel_without_label_is_left_out_of_inactive_output() -> None:
    label = Seclabel(model="dac", relabel=True)
    assert label.to_element(int(DomainXMLFlags.INACTIVE)) is None
    assert label.to_element(0) is not None


# -- device info -----------------------------------------------------------------------


def test_define_keeps_only_user_aliases() -> None:
    ctx = DeviceContext()
    assert DeviceInfo.parse(node("<x><alias name='net0'/></x>"), ctx).alias is None
    assert DeviceInfo.parse(node("<x><alias name='ua-net0'/></x>"), ctx).alias == "ua-net0"


def test_a_live_parse_keeps_any_alias() -> None:
    info = DeviceInfo.parse(node("<x><alias name='net0'/></x>"), DeviceContext(inactive=False))
    assert info.alias == "net0"


def test_pci_addresses_are_written_in_full_and_in_hex() -> None:
    info = DeviceInfo.parse(
        node("<x><address type='pci' slot='10' function='2'/></x>"), DeviceContext()
    )
    assert formatted(info) == [
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x2'/>"
    ]


def test_a_pci_slot_above_0x1f_is_refused_with_libvirts_words() -> None:
    with pytest.raises(VirtError) as caught:
        DeviceInfo.parse(node("<x><address type='pci' slot='0x20'/></x>"), DeviceContext())
    assert (caught.value.code, caught.value.message) == (
        ErrorNumber.XML_ERROR,
        "XML error: Invalid PCI address slot='0x20', must be <= 0x1F",
    )


def test_usb_ports_are_written_up_to_the_first_zero() -> None:
    info = DeviceInfo.parse(
        node("<x><address type='usb' bus='1' port='2.0.3'/></x>"), DeviceContext()
    )
    assert formatted(info) == ["<address type='usb' bus='1' port='2'/>"]


def test_an_address_without_type_is_an_internal_error() -> None:
    with pytest.raises(VirtError, match="No type specified for device address"):
        DeviceInfo.parse(node("<x><address/></x>"), DeviceContext())


def test_unassigned_addresses_are_for_hostdevs_only() -> None:
    info = DeviceInfo.parse(node("<x><address type='unassigned'/></x>"), DeviceContext())
    with pytest.raises(ConfigUnsupportedError, match="supported only for hostdevs"):
        info.validate()


def test_device_info_is_written_alias_master_acpi_then_address() -> None:
    text = (
        "<x><address type='isa' iobase='0x3f8'/><acpi index='2'/>"
        "<master startport='1'/><alias name='ua-a'/></x>"
    )
    assert [e.tag for e in DeviceInfo.parse(node(text), DeviceContext()).elements()] == [
        "alias",
        "master",
        "acpi",
        "address",
    ]
