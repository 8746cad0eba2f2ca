"""Specification of the domain capabilities model (virtcore.xml.domcaps).

tests/data/xml/domcaps/ holds ``virsh domcapabilities`` outputs recorded
from a qemu session daemon (libvirt 9.0) for several emulators and machine
types. A driver builds this document from probed data, so each golden is
rebuilt here through the model's builder API - in an order different from
libvirt's - and must come out byte for byte; every golden also survives a
parse/format round trip and every output validates against domaincaps.rng.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml.domcaps import (
    DEVICE_NAMES,
    FEATURE_NAMES,
    Capability,
    DomainCapabilities,
)
from virtcore.xml.parse import parse_document
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "domcaps"
GOLDENS = sorted(p.name for p in DATA.glob("*.xml"))


def fill_part(part: Capability, source: etree._Element) -> None:
    """Give *part* the verdict and enums of *source* (enums in reverse, then reordered)."""
    part.supported = source.get("supported") == "yes"
    for enum in source.findall("enum"):
        part.set_enum(enum.get("name", ""), [])
    for enum in reversed(source.findall("enum")):
        part.set_enum(enum.get("name", ""), [v.text or "" for v in enum.findall("value")])


def build(golden: etree._Element) -> DomainCapabilities:
    """The golden's content built through the model API, features first, identity last."""
    caps = DomainCapabilities()
    for feature in golden.findall("features/*"):
        fill_part(caps.feature(feature.tag), feature)
    for device in golden.findall("devices/*"):
        fill_part(caps.device(device.tag), device)
    fill_part(caps.memory_backing, golden.find("memoryBacking"))  # type: ignore[arg-type]
    for source in reversed(golden.findall("cpu/mode")):
        modes = {"host-passthrough": caps.cpu.host_passthrough, "maximum": caps.cpu.maximum,
                 "host-model": caps.cpu.host_model, "custom": caps.cpu.custom}  # fmt: skip
        mode = modes[source.get("name", "")]
        fill_part(mode, source)
        for feature in source.findall("feature"):
            mode.add_feature(feature.get("name", ""), feature.get("policy", ""))
        for model in source.findall("model"):
            if model.get("usable") is None:
                mode.model = model.text
                mode.fallback = model.get("fallback")
            else:
                mode.add_model(model.text or "", usable=model.get("usable", ""),
                               vendor=model.get("vendor", ""),
                               deprecated=model.get("deprecated") == "yes")  # fmt: skip
        if source.find("vendor") is not None:
            mode.vendor = source.findtext("vendor")
    loader = golden.find("os/loader")
    assert loader is not None
    fill_part(caps.os.loader, loader)
    caps.os.loader.values = [v.text or "" for v in loader.findall("value")]
    fill_part(caps.os, golden.find("os"))  # type: ignore[arg-type]
    caps.iothreads = golden.find("iothreads").get("supported") == "yes"  # type: ignore[union-attr]
    caps.vcpu_max = int(golden.find("vcpu").get("max", ""))  # type: ignore[union-attr]
    caps.arch = golden.findtext("arch")
    caps.machine = golden.findtext("machine")
    caps.domain = golden.findtext("domain")
    caps.path = golden.findtext("path")
    return caps


@pytest.mark.parametrize("name", GOLDENS)
def test_built_document_formats_exactly_like_libvirt(name: str) -> None:
    text = (DATA / name).read_text()
    assert build(parse_document(text)).format() == text


@pytest.mark.parametrize("name", GOLDENS)
def test_parse_then_format_round_trips(name: str) -> None:
    text = (DATA / name).read_text()
    assert DomainCapabilities.parse(text, validate_schema=True).format() == text


@pytest.mark.parametrize("name", GOLDENS)
def test_built_document_validates_against_schema(name: str) -> None:
    caps = build(parse_document((DATA / name).read_text()))
    validate(parse_document(caps.format()))


def test_small_document_built_in_any_order() -> None:
    caps = DomainCapabilities()
    caps.features.sev.supported = False
    caps.devices.disk.set_enum("bus", ["scsi", "virtio"])
    caps.cpu.custom.add_model("qemu64", usable="yes", vendor="unknown")
    caps.vcpu_max = 4
    caps.arch = "x86_64"
    caps.path = "/usr/bin/qemu-system-x86_64"
    caps.domain = "kvm"
    assert caps.format() == (
        "<domainCapabilities>\n"
        "  <path>/usr/bin/qemu-system-x86_64</path>\n"
        "  <domain>kvm</domain>\n"
        "  <arch>x86_64</arch>\n"
        "  <vcpu max='4'/>\n"
        "  <cpu>\n"
        "    <mode name='host-passthrough' supported='no'/>\n"
        "    <mode name='maximum' supported='no'/>\n"
        "    <mode name='host-model' supported='no'/>\n"
        "    <mode name='custom' supported='yes'>\n"
        "      <model usable='yes' vendor='unknown'>qemu64</model>\n"
        "    </mode>\n"
        "  </cpu>\n"
        "  <devices>\n"
        "    <disk supported='yes'>\n"
        "      <enum name='bus'>\n"
        "        <value>scsi</value>\n"
        "        <value>virtio</value>\n"
        "      </enum>\n"
        "    </disk>\n"
        "  </devices>\n"
        "  <features>\n"
        "    <sev supported='no'/>\n"
        "  </features>\n"
        "</domainCapabilities>\n"
    )


def test_new_sets_the_identity() -> None:
    caps = DomainCapabilities.new("/usr/bin/qemu-system-i386", "qemu", "i686", machine="pc")
    assert (caps.path, caps.domain, caps.arch, caps.machine) == (
        "/usr/bin/qemu-system-i386", "qemu", "i686", "pc",
    )  # fmt: skip


def test_unsupported_part_is_written_without_content() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.devices.tpm.set_enum("model", ["tpm-tis"])
    caps.devices.tpm.supported = False
    assert "    <tpm supported='no'/>\n" in caps.format()


def test_empty_enum_is_self_closing() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.os.set_enum("firmware", [])
    assert "  <os supported='yes'>\n    <enum name='firmware'/>\n  </os>\n" in caps.format()


def test_set_enum_replaces_the_values() -> None:
    caps = DomainCapabilities()
    caps.devices.rng.set_enum("model", ["virtio"])
    caps.devices.rng.set_enum("model", ["virtio-transitional"])
    assert caps.devices.rng.enum("model") == ["virtio-transitional"]
    assert caps.devices.rng.enum_names() == ["model"]


def test_cpu_always_lists_four_modes_in_order() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.cpu.maximum.set_enum("maximumMigratable", ["on", "off"])
    names = [m.get("name") for m in caps.canonical_element().findall("cpu/mode")]
    assert names == ["host-passthrough", "maximum", "host-model", "custom"]


def test_host_model_features_keep_their_order() -> None:
    caps = DomainCapabilities()
    caps.cpu.host_model.add_feature("vme", "disable")
    caps.cpu.host_model.add_feature("acpi")
    assert [(f.name, f.policy) for f in caps.cpu.host_model.features] == [
        ("vme", "disable"), ("acpi", "require"),
    ]  # fmt: skip


def test_custom_models_are_read_back() -> None:
    caps = DomainCapabilities.parse((DATA / "qemu-session-x86_64-q35.xml").read_text())
    models = caps.cpu.custom.models
    assert (models[0].name, models[0].usable, models[0].vendor) == ("qemu64", "yes", "unknown")
    assert caps.cpu.host_model.model == "EPYC"


def test_sev_and_sgx_details_are_written_when_supported() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    sev = caps.features.sev
    sev.supported = True
    sev.max_es_guests, sev.max_guests, sev.reduced_phys_bits, sev.cbitpos = 0, 15, 1, 47
    sgx = caps.features.sgx
    sgx.supported = True
    sgx.add_section(0, 16384)
    sgx.section_size, sgx.sgx2, sgx.sgx1, sgx.flc = 16384, False, True, True
    text = caps.format()
    assert (
        "    <sev supported='yes'>\n      <cbitpos>47</cbitpos>\n"
        "      <reducedPhysBits>1</reducedPhysBits>\n      <maxGuests>15</maxGuests>\n"
        "      <maxESGuests>0</maxESGuests>\n    </sev>\n"
    ) in text
    assert (
        "    <sgx supported='yes'>\n      <flc>yes</flc>\n      <sgx1>yes</sgx1>\n"
        "      <sgx2>no</sgx2>\n      <section_size unit='KiB'>16384</section_size>\n"
        "      <sections>\n        <section node='0' size='16384' unit='KiB'/>\n"
        "      </sections>\n    </sgx>\n"
    ) in text
    validate(parse_document(text))


def test_unknown_content_survives_in_the_tree_but_is_not_written() -> None:
    text = (DATA / "qemu-session-i686.xml").read_text()
    caps = DomainCapabilities.parse(text.replace("<arch>", "<future/><arch>"))
    assert caps.xpath("./future")
    assert caps.format() == text


def test_malformed_vcpu_max_is_refused() -> None:
    with pytest.raises(VirtError):
        DomainCapabilities.parse(
            "<domainCapabilities><path>/q</path><domain>kvm</domain><arch>x86_64</arch>"
            "<vcpu max='many'/></domainCapabilities>"
        )


def test_every_device_and_feature_name_has_a_part() -> None:
    caps = DomainCapabilities()
    for name in DEVICE_NAMES:
        caps.device(name).supported = True
    for name in FEATURE_NAMES:
        caps.feature(name).supported = True
    out = caps.canonical_element()
    assert [e.tag for e in out.find("devices")] == list(DEVICE_NAMES)  # type: ignore[union-attr]
    assert [e.tag for e in out.find("features")] == list(FEATURE_NAMES)  # type: ignore[union-attr]


def test_unknown_device_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        DomainCapabilities().device("crypto")


def test_custom_mode_without_models_is_unsupported() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.cpu.custom.supported = True
    assert "    <mode name='custom' supported='no'/>\n" in caps.format()


def test_zero_vcpu_limit_is_not_written() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.vcpu_max = 0
    assert "<vcpu" not in caps.format()


def test_deprecated_model_is_marked_before_its_vendor() -> None:
    caps = DomainCapabilities.new("/usr/bin/q", "kvm", "x86_64")
    caps.cpu.custom.add_model("Icelake-Client", usable="no", vendor="Intel", deprecated=True)
    assert (
        "      <model usable='no' deprecated='yes' vendor='Intel'>Icelake-Client</model>\n"
    ) in caps.format()
