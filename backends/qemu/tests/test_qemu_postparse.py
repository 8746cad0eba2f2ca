"""The qemu driver's define-time post-parse: virtcore against libvirt's recorded output.

Every case of ``data/define`` (see ``qemu_define_cases``) is parsed,
given to :func:`virtcore_qemu.postparse.define_domain` with this
machine's probed QEMU capabilities and printed inactive; the text must equal
what libvirt 9.0 printed after ``virsh define``, or the error must be
libvirt's (code, domain, message). ``test_qemu_postparse_oracle`` checks the
recordings against the live daemon. The behaviour tests below pin single
rules with small documents.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from qemu_define_cases import DefineCase, define_cases, emulator_caps_lookup

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import ConfigUnsupportedError, VirtError, XMLError
from virtcore.xml.domain import Domain
from virtcore_qemu.caps import probe
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse import define_domain, prepare_definition

QEMU = "/usr/bin/qemu-system-x86_64"
CASES = define_cases()
SUCCESSES = [c for c in CASES if c.expected_xml_path.exists()]
FAILURES = [c for c in CASES if c.expected_error_path.exists()]


@pytest.fixture(scope="module")
def caps() -> QemuCaps:
    if not Path(QEMU).exists():
        pytest.fail(f"{QEMU} is required")
    return probe(QEMU)


@pytest.fixture(scope="module")
def caps_for(caps: QemuCaps) -> Callable[[str], QemuCaps]:
    """The capabilities of the emulator libvirt picks for a document's architecture."""
    return emulator_caps_lookup(caps)


def prepared(text: str, caps: QemuCaps) -> Domain:
    return define_domain(text, caps)


def dumped(text: str, caps: QemuCaps) -> str:
    return prepared(text, caps).format(DomainXMLFlags.INACTIVE)


def diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "libvirt", "virtcore", lineterm=""
    )
    return "\n".join(lines)


def domain_xml(devices: str = "", *, machine: str = "pc", extra: str = "") -> str:
    return f"""<domain type='qemu'>
  <name>t</name>
  <uuid>6f1a3b2c-1111-4222-8333-944445555666</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='{machine}'>hvm</type></os>
  {extra}
  <devices>{devices}</devices>
</domain>"""


def test_there_are_enough_cases() -> None:
    assert len(SUCCESSES) >= 40
    assert len(FAILURES) >= 5
    assert {c.name.split("-")[0] for c in SUCCESSES} >= {"i440fx", "q35"}


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
def test_define_prints_what_libvirt_prints(
    case: DefineCase, caps_for: Callable[[str], QemuCaps]
) -> None:
    expected = case.expected_xml
    assert expected is not None
    actual = dumped(case.text, caps_for(case.text))
    assert actual == expected, diff(expected, actual)


@pytest.mark.parametrize("case", FAILURES, ids=lambda c: c.name)
def test_define_fails_as_libvirt_fails(
    case: DefineCase, caps_for: Callable[[str], QemuCaps]
) -> None:
    with pytest.raises(VirtError) as raised:
        dumped(case.text, caps_for(case.text))
    error = raised.value
    assert (int(error.code), int(error.domain), error.message) == case.expected_error


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
def test_preparing_twice_keeps_every_device_and_address(case: DefineCase, caps: QemuCaps) -> None:
    domain = prepared(case.text, caps)
    first = Domain.from_xml(domain.format(DomainXMLFlags.INACTIVE))
    prepare_definition(domain, caps)
    second = Domain.from_xml(domain.format(DomainXMLFlags.INACTIVE))

    def devices(d: Domain) -> list[bytes]:
        nodes = d.element.findall("./devices/*")
        return sorted(etree.tostring(n) for n in nodes)

    assert devices(second) == devices(first)


def test_missing_machine_is_the_emulators_default(caps: QemuCaps) -> None:
    text = domain_xml().replace(" machine='pc'", "")
    domain = prepared(text, caps)
    assert domain.os.machine == caps.default_machine()


def test_machine_alias_becomes_the_canonical_machine(caps: QemuCaps) -> None:
    assert prepared(domain_xml(machine="q35"), caps).os.machine == caps.canonical_machine("q35")


def test_emulator_is_filled_in(caps: QemuCaps) -> None:
    assert prepared(domain_xml(), caps).devices.emulator == caps.binary


def test_domain_without_cpu_gets_the_machines_default_model(caps: QemuCaps) -> None:
    domain = prepared(domain_xml(), caps)
    model = domain.element.find("./cpu/model")
    assert model is not None and model.text == "qemu64"
    assert model.get("fallback") == "forbid"


def test_i440fx_usb_controller_is_the_piix3_function(caps: QemuCaps) -> None:
    out = dumped(domain_xml(), caps)
    assert (
        "<controller type='usb' index='0' model='piix3-uhci'>\n"
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>"
    ) in out


def test_q35_gets_root_ports_and_one_spare(caps: QemuCaps) -> None:
    domain = prepared(domain_xml(machine="q35"), caps)
    ports = domain.element.findall("./devices/controller[@model='pcie-root-port']")
    # The USB controller, the balloon, and a spare for hotplug.
    assert len(ports) == 3
    assert domain.element.find("./devices/controller[@type='sata']/address") is not None


def test_default_nic_model_is_rtl8139(caps: QemuCaps) -> None:
    devices = "<interface type='user'><mac address='52:54:00:00:00:01'/></interface>"
    domain = prepared(domain_xml(devices), caps)
    model = domain.element.find("./devices/interface/model")
    assert model is not None and model.get("type") == "rtl8139"


def test_virtio_channels_take_ports_from_one(caps: QemuCaps) -> None:
    devices = (
        "<channel type='pty'><target type='virtio' name='a.b'/></channel>"
        "<channel type='pty'><target type='virtio' name='a.c'/></channel>"
    )
    domain = prepared(domain_xml(devices), caps)
    ports = [a.get("port") for a in domain.element.findall("./devices/channel/address")]
    assert ports == ["1", "2"]


def test_kvm_is_refused_when_kvm_is_unusable(caps: QemuCaps) -> None:
    without_kvm = dataclasses.replace(caps, kvm_usable=False)
    text = domain_xml().replace("type='qemu'", "type='kvm'")
    with pytest.raises(ConfigUnsupportedError, match="does not support virt type 'kvm'"):
        prepared(text, without_kvm)


def test_kvm_is_accepted_when_kvm_is_usable(caps: QemuCaps) -> None:
    with_kvm = dataclasses.replace(caps, kvm_usable=True)
    text = domain_xml().replace("type='qemu'", "type='kvm'")
    assert prepared(text, with_kvm).virt_type == "kvm"


def test_guest_arch_the_emulator_cannot_run_is_refused(caps: QemuCaps) -> None:
    text = domain_xml().replace("arch='x86_64'", "arch='aarch64'")
    with pytest.raises(ConfigUnsupportedError, match="No emulator found for arch 'aarch64'"):
        prepared(text, caps)


def test_document_without_devices_gets_the_default_devices(caps: QemuCaps) -> None:
    text = domain_xml().replace("<devices></devices>", "")
    domain = prepared(text, caps)
    assert domain.element.find("./devices/memballoon/address") is not None


def test_ide_on_q35_is_refused(caps: QemuCaps) -> None:
    devices = "<controller type='ide' index='0'/>"
    with pytest.raises(ConfigUnsupportedError, match="IDE controllers are unsupported"):
        prepared(domain_xml(devices, machine="q35"), caps)


def test_a_pci_address_used_twice_is_refused(caps: QemuCaps) -> None:
    address = "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
    devices = (
        f"<interface type='user'><mac address='52:54:00:00:00:01'/>{address}</interface>"
        f"<interface type='user'><mac address='52:54:00:00:00:02'/>{address}</interface>"
    )
    with pytest.raises(XMLError, match=r"Attempted double use of PCI Address 0000:00:05\.0"):
        prepared(domain_xml(devices), caps)


def test_redirdev_is_validated_after_the_default_usb_controller_is_added(caps: QemuCaps) -> None:
    redirdev = "<redirdev bus='usb' type='tcp'><source host='h' service='4000'/></redirdev>"

    domain = define_domain(domain_xml(redirdev), caps)

    assert domain.element.find("./devices/controller[@type='usb']") is not None
    assert domain.element.find("./devices/redirdev/address[@type='usb']") is not None


def test_vnc_audio_reference_is_validated_after_the_default_audio_backend(
    caps: QemuCaps,
) -> None:
    graphics = "<graphics type='vnc' port='-1'><audio id='1'/></graphics>"

    text = define_domain(domain_xml(graphics), caps).format(DomainXMLFlags.INACTIVE)

    assert "<audio id='1' type='none'/>" in text


def test_usb_devices_without_a_usb_bus_are_refused_by_the_qemu_driver(caps: QemuCaps) -> None:
    devices = (
        "<controller type='usb' model='none'/>"
        "<redirdev bus='usb' type='tcp'><source host='h' service='4000'/></redirdev>"
    )

    with pytest.raises(ConfigUnsupportedError) as raised:
        define_domain(domain_xml(devices, machine="q35"), caps)
    assert raised.value.message == (
        "unsupported configuration: USB is disabled for this domain, "
        "but USB devices are present in the domain XML"
    )


def test_virtio_consoles_keep_their_ports_beside_the_serial_console(caps: QemuCaps) -> None:
    devices = (
        "<serial type='pty'/>"
        "<console type='pty'><target type='virtio'/></console>"
        "<console type='pty'><target type='virtio'/></console>"
    )

    text = dumped(domain_xml(devices), caps)

    assert "<target type='virtio' port='0'/>" in text
    assert "<target type='virtio' port='1'/>" in text
    assert "<target type='virtio' port='2'/>" not in text


def test_zero_rate_bandwidth_stays_printed_empty(caps: QemuCaps) -> None:
    interface = (
        "<interface type='bridge'><source bridge='ovsbr0'/>"
        "<virtualport type='openvswitch'/>"
        "<bandwidth><inbound average='0'/></bandwidth></interface>"
    )

    text = dumped(domain_xml(interface), caps)

    assert "<bandwidth>\n      </bandwidth>" in text
