"""The Domain model: typed properties over the live tree, and libvirt's define semantics.

Reading and writing properties edits the tree in place and never drops what
the model does not describe; :meth:`Domain.parse` behaves like libvirt's
define (checks, generated identity), :meth:`Domain.format` like
``virDomainGetXMLDesc``.
"""

from __future__ import annotations

import uuid

import pytest

from tests.xml.domain_goldens import golden, identity_from, source
from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import ConfigUnsupportedError, VirtError
from virtcore.xml.domain import (
    CPU,
    OS,
    Clock,
    Domain,
    Features,
    format_domain,
    parse_domain,
)
from virtcore.xml.domain.devices import Devices
from virtcore.xml.domain.os import FIRMWARE_SELECTED_MARK

MINIMAL = (
    "<domain type='test'><name>vm</name><memory unit='MiB'>512</memory>"
    "<os><type>hvm</type></os></domain>"
)
FIXED = uuid.UUID("12345678-1234-5678-1234-567812345678")


def fixed_uuid() -> bytes:
    return FIXED.bytes


def minimal(**replacements: str) -> str:
    text = MINIMAL
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


# -- define semantics ------------------------------------------------------------------


def test_parse_stores_the_generated_uuid_in_the_document() -> None:
    domain = Domain.parse(MINIMAL, uuid_factory=fixed_uuid)
    assert domain.uuid == str(FIXED)


def test_generated_uuid_is_stable_across_formats() -> None:
    domain = Domain.parse(MINIMAL)
    assert domain.format() == domain.format()


def test_default_uuid_factory_makes_random_version_4_uuids() -> None:
    first = Domain.parse(MINIMAL).uuid
    second = Domain.parse(MINIMAL).uuid
    assert first is not None and second is not None
    assert first != second
    assert uuid.UUID(first).version == 4


def test_given_uuid_is_written_in_canonical_form() -> None:
    domain = Domain.parse(
        minimal(
            **{"<name>vm</name>": "<name>vm</name><uuid>ABCDEF0123456789ABCDEF0123456789</uuid>"}
        )
    )
    assert "<uuid>abcdef01-2345-6789-abcd-ef0123456789</uuid>" in domain.format()


def test_empty_genid_is_generated_by_the_factory() -> None:
    values = iter([FIXED.bytes, uuid.UUID(int=7).bytes])
    domain = Domain.parse(
        minimal(**{"</name>": "</name><genid/>"}), uuid_factory=lambda: next(values)
    )
    assert domain.genid == str(uuid.UUID(int=7))
    assert f"<genid>{uuid.UUID(int=7)}</genid>" in domain.format()


def test_parse_ignores_the_id_of_the_document() -> None:
    domain = Domain.parse(minimal(**{"type='test'": "type='test' id='5'"}))
    assert domain.id is None
    assert " id=" not in domain.format()


def test_running_domain_id_is_written_unless_inactive() -> None:
    domain = Domain.parse(MINIMAL, uuid_factory=fixed_uuid)
    domain.id = 7
    assert domain.format().startswith("<domain type='test' id='7'>\n")
    assert domain.format(DomainXMLFlags.INACTIVE).startswith("<domain type='test'>\n")


def test_secure_and_migratable_output_of_the_domain_parts_is_the_plain_output() -> None:
    domain = Domain.parse(source("domain-firmware-efi"))
    plain = domain.format()
    assert domain.format(DomainXMLFlags.MIGRATABLE) == plain
    assert domain.format(DomainXMLFlags.SECURE) == plain


_FIRMWARE_WISHES = (
    "<firmware><feature enabled='no' name='secure-boot'/>"
    "<feature enabled='yes' name='enrolled-keys'/></firmware>"
)


def test_firmware_features_without_firmware_attribute_are_dropped_like_libvirt() -> None:
    domain = Domain.parse(minimal(**{"<type>hvm</type>": "<type>hvm</type>" + _FIRMWARE_WISHES}))
    assert "<firmware>" not in domain.format()


def test_firmware_features_of_a_chosen_firmware_are_kept() -> None:
    domain = Domain.parse(minimal(**{"<type>hvm</type>": "<type>hvm</type>" + _FIRMWARE_WISHES}))
    wishes = domain.element.find("os/firmware")
    assert wishes is not None
    wishes.set(FIRMWARE_SELECTED_MARK, "yes")
    printed = domain.format()
    assert (
        "    <firmware>\n"
        "      <feature enabled='yes' name='enrolled-keys'/>\n"
        "      <feature enabled='no' name='secure-boot'/>\n"
        "    </firmware>\n"
    ) in printed
    assert "selected" not in printed


def test_format_fills_in_libvirt_defaults() -> None:
    printed = Domain.parse(MINIMAL, uuid_factory=fixed_uuid).format()
    assert printed == (
        "<domain type='test'>\n"
        "  <name>vm</name>\n"
        f"  <uuid>{FIXED}</uuid>\n"
        "  <memory unit='KiB'>524288</memory>\n"
        "  <currentMemory unit='KiB'>524288</currentMemory>\n"
        "  <vcpu placement='static'>1</vcpu>\n"
        "  <os>\n"
        "    <type arch='i686'>hvm</type>\n"
        "    <boot dev='hd'/>\n"
        "  </os>\n"
        "  <clock offset='utc'/>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>restart</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        "  </devices>\n"
        "</domain>\n"
    )


def test_definition_holds_effective_values() -> None:
    extra = "<currentMemory>9999999</currentMemory><vcpu current='1'>3</vcpu>"
    domain = Domain.parse(minimal(**{"</memory>": "</memory>" + extra}))
    definition = domain.definition()
    assert definition.memory.total == 524288
    assert definition.memory.current == 524288
    assert (definition.vcpus.maximum, definition.vcpus.current) == (3, 1)
    assert definition.lifecycle["on_crash"] == "destroy"
    assert definition.os.arch == "i686"


def test_canonical_returns_libvirts_form_as_a_model() -> None:
    domain = Domain.parse(
        minimal(**{"<memory unit='MiB'>512</memory>": "<memory unit='GiB'>1</memory>"})
    )
    canonical = domain.canonical()
    assert canonical.xpath("string(./memory/@unit)") == ["KiB"]
    assert canonical.memory == 1048576
    assert canonical.to_string() == domain.format()


def test_check_refuses_what_libvirt_refuses() -> None:
    domain = Domain.from_xml(
        minimal(
            **{"<os><type>hvm</type></os>": "<os><type>hvm</type></os><on_reboot>x</on_reboot>"}
        )
    )
    with pytest.raises(ConfigUnsupportedError, match="unknown on_reboot action: x"):
        domain.check()


def test_format_refuses_an_invalid_edit() -> None:
    domain = Domain.parse(MINIMAL)
    domain.vcpus = 2
    domain.vcpus_current = 4
    with pytest.raises(VirtError, match="maximum vCPU count must not be less"):
        domain.format()


def test_parse_domain_and_format_domain_are_shortcuts() -> None:
    assert parse_domain(MINIMAL, uuid_factory=fixed_uuid).uuid == str(FIXED)
    assert (
        format_domain(MINIMAL, uuid_factory=fixed_uuid)
        == Domain.parse(MINIMAL, uuid_factory=fixed_uuid).format()
    )


def test_goldens_replay_libvirts_generated_identity() -> None:
    text = source("domain-no-uuid")
    printed = golden("domain-no-uuid")
    assert Domain.parse(text, uuid_factory=identity_from(text, printed)).format() == printed


# -- the live tree ---------------------------------------------------------------------


def test_unknown_content_survives_a_round_trip_but_not_libvirts_output() -> None:
    text = source("domain-dropped-content")
    domain = Domain.from_xml(text)
    kept = domain.to_string()
    assert "qemu:commandline" in kept
    assert "<unknownElement attr='x'/>" in kept
    printed = domain.format()
    assert "qemu" not in printed
    assert "unknownElement" not in printed


def test_editing_a_property_keeps_unknown_content() -> None:
    domain = Domain.from_xml(source("domain-dropped-content"))
    domain.name = "renamed"
    domain.memory = 2048
    text = domain.to_string()
    assert "<name>renamed</name>" in text
    assert "<memory unit='KiB'>2048</memory>" in text
    assert "qemu:arg value='-s'" in text


def test_sizes_are_read_in_kib() -> None:
    domain = Domain.from_xml(
        minimal(**{"</memory>": "</memory><currentMemory unit='MB'>100</currentMemory>"})
    )
    assert domain.memory == 524288
    assert domain.current_memory == 97657


def test_new_document_is_built_in_libvirts_order() -> None:
    domain = Domain()
    domain.virt_type = "test"
    domain.os.type = "hvm"
    domain.vcpus = 2
    domain.memory = 1024
    domain.name = "built"
    domain.uuid = str(FIXED)
    assert domain.to_string() == (
        "<domain type='test'>\n"
        "  <name>built</name>\n"
        f"  <uuid>{FIXED}</uuid>\n"
        "  <memory unit='KiB'>1024</memory>\n"
        "  <vcpu>2</vcpu>\n"
        "  <os>\n"
        "    <type>hvm</type>\n"
        "  </os>\n"
        "</domain>\n"
    )
    assert "<vcpu placement='static'>2</vcpu>" in domain.format()


def test_os_view_edits_boot_order_and_architecture() -> None:
    domain = Domain.parse(MINIMAL, uuid_factory=fixed_uuid)
    os: OS = domain.os
    os.arch = "x86_64"
    os.machine = "q35"
    os.boot_devices.append().dev = "cdrom"
    os.boot_devices.append().dev = "hd"
    assert os.boot_order == ["cdrom", "hd"]
    printed = domain.format()
    assert "<type arch='x86_64' machine='q35'>hvm</type>" in printed
    assert "<boot dev='cdrom'/>\n    <boot dev='hd'/>" in printed


def test_features_view_switches_features() -> None:
    domain = Domain.parse(MINIMAL)
    features: Features = domain.features
    features.apic = True
    features.acpi = True
    features.vmport = False
    features.hyperv.relaxed = True
    assert features.names() == ["acpi", "apic", "hyperv", "vmport"]
    assert (
        "  <features>\n    <acpi/>\n    <apic/>\n    <hyperv mode='custom'>\n"
        "      <relaxed state='on'/>\n    </hyperv>\n    <vmport state='off'/>\n  </features>\n"
    ) in domain.format()


def test_cpu_view_adds_features_in_document_order() -> None:
    domain = Domain.parse(MINIMAL)
    cpu: CPU = domain.cpu
    cpu.model = "Haswell"
    feature = cpu.features.append()
    feature.name = "avx"
    feature.policy = "require"
    assert domain.to_string().count("<feature policy='require' name='avx'/>") == 1
    assert "<cpu mode='custom' match='exact'>" in domain.format()


def test_clock_view_reads_timers() -> None:
    domain = Domain.from_xml(source("domain-clock-timers"))
    clock: Clock = domain.clock
    assert clock.offset == "localtime"
    assert [timer.name for timer in clock.timers][:3] == ["rtc", "pit", "hpet"]
    assert clock.timers[0].catchup_limit == 10000


def test_removing_a_section_removes_its_element() -> None:
    domain = Domain.from_xml(source("domain-features-basic"))
    del domain.features
    assert "<features>" not in domain.to_string()


def test_devices_container_is_kept_when_emptied() -> None:
    domain = Domain.from_xml(
        minimal(**{"</os>": "</os><devices><emulator>/bin/x</emulator></devices>"})
    )
    domain.xpath("./devices/emulator")[0].getparent().remove(domain.xpath("./devices/emulator")[0])
    assert domain.devices.exists


def test_perf_events_and_metadata_are_exposed() -> None:
    domain = Domain.from_xml(source("domain-lifecycle"))
    assert domain.perf_events == {"page_faults": True, "cmt": False, "cpu_cycles": True}
    with_metadata = Domain.from_xml(source("domain-metadata"))
    assert with_metadata.metadata is not None
    assert Domain.from_xml(MINIMAL).metadata is None


# -- devices ---------------------------------------------------------------------------

WITH_NIC = minimal(
    **{
        "</os>": "</os><devices><interface type='network'><source network='default'/>"
        "</interface></devices>"
    }
)


def test_missing_mac_address_is_generated_on_parse_and_kept() -> None:
    domain = Domain.parse(WITH_NIC, mac_generator=lambda: "52:54:00:00:00:01")
    assert domain.xpath("string(./devices/interface/mac/@address)") == ["52:54:00:00:00:01"]
    assert "<mac address='52:54:00:00:00:01'/>" in domain.format()
    assert domain.format() == domain.format()


def test_test_driver_interface_names_are_stored_when_asked() -> None:
    plain = Domain.parse(WITH_NIC)
    named = Domain.parse(WITH_NIC, test_ifnames=True)
    assert plain.xpath("./devices/interface/target") == []
    assert named.xpath("string(./devices/interface/target/@dev)") == ["testnet0"]


def test_devices_are_the_devices_model() -> None:
    domain = Domain.from_xml(source("domain-devices-simple"))
    devices = domain.devices
    assert isinstance(devices, Devices)
    assert [disk.target_dev for disk in devices.disks] == ["hdc", "vda"]


def test_device_errors_are_raised_on_parse() -> None:
    broken = minimal(**{"</os>": "</os><devices><disk type='file'/></devices>"})
    with pytest.raises(VirtError):
        Domain.parse(broken)
