"""Specification of the QEMU driver's capabilities documents (virtcore_qemu.capsxml).

The real QEMU is probed once (TCG only, through a cache shared by the
module), so the documents do not depend on this machine having KVM. Host
facts come from a fake /sys and /proc tree; firmware descriptors from a
temporary directory. Every document validates against libvirt's schemas.
The comparison with real libvirt is in test_qemu_caps_differential.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from lxml import etree
from qemu_capsprobe import QEMU, QEMU_I386, child, elements, no_kvm, texts

import virtcore_qemu.caps as caps_module
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InvalidArgError, VirtError
from virtcore.xml.capabilities import Capabilities
from virtcore.xml.domcaps import DomainCapabilities
from virtcore_qemu.caps import CapsCache, MachineInfo, QemuCaps, SEVInfo, SGXInfo
from virtcore_qemu.caps_domcaps import DomcapsTarget, HostFacts, build_domain_capabilities
from virtcore_qemu.caps_firmware import load_descriptors
from virtcore_qemu.caps_host import HostPaths
from virtcore_qemu.caps_hostcpu import HostCPU, TSCInfo
from virtcore_qemu.caps_probe import sev_guest_limits
from virtcore_qemu.capsxml import capabilities_xml, domain_capabilities_xml, guest_machines


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> CapsCache:
    return CapsCache(tmp_path_factory.mktemp("caps"), kvm_check=no_kvm)


@pytest.fixture(scope="module")
def facts() -> HostFacts:
    return HostFacts(firmware=(), tpm_versions=("1.2", "2.0"), vfio=False, kvm_max_vcpus=None)


def domcaps(
    cache: CapsCache,
    facts: HostFacts,
    *,
    emulatorbin: str | None = None,
    arch: str | None = None,
    machine: str | None = None,
    virttype: str | None = None,
) -> etree._Element:
    text = domain_capabilities_xml(cache, emulatorbin, arch, machine, virttype, facts=facts)
    DomainCapabilities.parse(text, validate_schema=True)
    return etree.fromstring(text)


def enum(doc: etree._Element, part: str, name: str) -> list[str]:
    return texts(doc, f"{part}/enum[@name='{name}']/value/text()")


# -- guest machine lists ---------------------------------------------------------


def _caps_with(*machines: MachineInfo) -> QemuCaps:
    return QemuCaps(
        binary="/q",
        version=7_002_000,
        arch="x86_64",
        machines=machines,
        cpu_models=(),
        devices=frozenset(),
        commands=frozenset(),
        kvm_usable=False,
    )


def test_alias_is_listed_with_its_canonical_machine_first() -> None:
    caps = _caps_with(MachineInfo("pc-i440fx-7.2", "pc", True, 255), MachineInfo("isapc", None))
    assert guest_machines(caps) == [
        ("pc-i440fx-7.2", None, 255, False),
        ("pc", "pc-i440fx-7.2", 255, False),
        ("isapc", None, 0, False),
    ]


def test_canonical_machine_is_not_listed_twice() -> None:
    caps = _caps_with(MachineInfo("pc-q35-7.2", "q35"), MachineInfo("pc-q35-7.2"))
    names = [entry[0] for entry in guest_machines(caps)]
    assert names == ["q35", "pc-q35-7.2"]


# -- the capabilities document ----------------------------------------------------


@pytest.fixture
def fake_host(tmp_path: Path) -> HostPaths:
    sysfs, procfs = tmp_path / "sys", tmp_path / "proc"
    files = {
        "devices/system/cpu/online": "0-1",
        "devices/system/node/node0/meminfo": "Node 0 MemTotal:        4194304 kB\n",
        "devices/system/node/node0/distance": "10",
        "devices/system/node/node0/cpulist": "0-1",
        "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages": "4",
        "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages": "4",
    }
    for cpu in (0, 1):
        base = f"devices/system/cpu/cpu{cpu}"
        files[f"{base}/topology/physical_package_id"] = "0"
        files[f"{base}/topology/die_id"] = "0"
        files[f"{base}/topology/core_id"] = str(cpu)
        files[f"{base}/topology/thread_siblings_list"] = str(cpu)
        files[f"{base}/cache/index3/level"] = "3"
        files[f"{base}/cache/index3/type"] = "Unified"
        files[f"{base}/cache/index3/id"] = "0"
        files[f"{base}/cache/index3/size"] = "16384K"
        files[f"{base}/cache/index3/shared_cpu_list"] = "0-1"
    for name, text in files.items():
        (sysfs / name).parent.mkdir(parents=True, exist_ok=True)
        (sysfs / name).write_text(text + "\n")
    procfs.mkdir()
    (procfs / "cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
        "stepping\t: 7\nmicrocode\t: 0x5003604\naddress sizes\t: 46 bits physical, "
        "48 bits virtual\n\nprocessor\t: 1\n"
    )
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n")
    return HostPaths(sysfs=sysfs, procfs=procfs, machine_id=machine_id)


@pytest.fixture
def host_caps(cache: CapsCache, fake_host: HostPaths) -> etree._Element:
    text = capabilities_xml(
        cache,
        emulators=[("i686", QEMU_I386), ("x86_64", QEMU)],
        paths=fake_host,
        cpu_reader=no_cpuid,
    )
    Capabilities.parse(text, validate_schema=True)
    return etree.fromstring(text)


def no_cpuid() -> HostCPU | None:
    """A host whose CPUID cannot be read."""
    return None


def test_decoded_host_cpu_is_described(cache: CapsCache, fake_host: HostPaths) -> None:
    decoded = HostCPU(
        model="Westmere",
        vendor="Intel",
        signature=(6, 44, 2),
        features=("vme", "x2apic"),
        tsc=TSCInfo(frequency=2_000_000_000, scaling=False),
    )
    text = capabilities_xml(cache, emulators=[], paths=fake_host, cpu_reader=lambda: decoded)
    cpu = child(etree.fromstring(text), "host/cpu")
    assert cpu.findtext("model") == "Westmere"
    assert child(cpu, "signature").get("model") == "44"
    assert texts(cpu, "feature/@name") == ["vme", "x2apic"]
    assert dict(child(cpu, "counter").items()) == {
        "name": "tsc",
        "frequency": "2000000000",
        "scaling": "no",
    }


def test_host_uuid_falls_back_to_the_machine_id(host_caps: etree._Element) -> None:
    assert host_caps.findtext("host/uuid") == "01234567-89ab-cdef-0123-456789abcdef"


def test_host_cpu_is_described_from_cpuinfo_and_sysfs(host_caps: etree._Element) -> None:
    cpu = child(host_caps, "host/cpu")
    assert cpu.findtext("arch") == caps_module.host_arch()
    assert cpu.findtext("vendor") == "Intel"
    assert child(cpu, "microcode").get("version") == str(0x5003604)
    assert {str(k): str(v) for k, v in child(cpu, "signature").attrib.items()} == {
        "family": "6",
        "model": "85",
        "stepping": "7",
    }
    assert {str(k): str(v) for k, v in child(cpu, "topology").attrib.items()} == {
        "sockets": "1",
        "dies": "1",
        "cores": "2",
        "threads": "1",
    }
    assert child(cpu, "maxphysaddr").get("bits") == "46"


def test_numa_cell_counts_small_pages_net_of_hugepages(host_caps: etree._Element) -> None:
    cell = child(host_caps, "host/topology/cells/cell")
    pages = {p.get("size"): p.text for p in cell.findall("pages")}
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    assert pages == {str(page_kib): str((4194304 - 4 * 2048) // page_kib), "2048": "4"}
    assert [c.get("siblings") for c in cell.findall("cpus/cpu")] == ["0", "1"]


def test_shared_cache_is_reported_in_its_largest_exact_unit(host_caps: etree._Element) -> None:
    bank = child(host_caps, "host/cache/bank")
    assert (bank.get("size"), bank.get("unit"), bank.get("cpus")) == ("16", "MiB", "0-1")


def test_security_model_is_none(host_caps: etree._Element) -> None:
    assert texts(host_caps, "host/secmodel/model/text()") == ["none"]


def test_migration_transports_are_qemus(host_caps: etree._Element) -> None:
    assert texts(host_caps, "host/migration_features/uri_transports/uri_transport/text()") == [
        "tcp",
        "rdma",
    ]


def test_one_guest_per_emulator_with_wordsize(host_caps: etree._Element) -> None:
    guests = [
        (child(g, "arch").get("name"), g.findtext("arch/wordsize"), g.findtext("arch/emulator"))
        for g in host_caps.findall("guest")
    ]
    assert guests == [("i686", "32", QEMU_I386), ("x86_64", "64", QEMU)]


def test_guest_lists_alias_machines_with_canonical(host_caps: etree._Element) -> None:
    machines = host_caps.findall("guest[2]/arch/machine")
    assert [(m.text, m.get("canonical")) for m in machines[:2]] == [
        ("pc-i440fx-7.2", None),
        ("pc", "pc-i440fx-7.2"),
    ]
    assert "none" not in [m.text for m in machines]


def test_guest_without_kvm_offers_only_qemu(host_caps: etree._Element) -> None:
    assert texts(host_caps, "guest[2]/arch/domain/@type") == ["qemu"]


def test_i686_guest_has_pae_features(host_caps: etree._Element) -> None:
    assert [f.tag for f in child(host_caps, "guest[1]/features")][:2] == ["pae", "nonpae"]
    assert host_caps.find("guest[2]/features/pae") is None


def test_unprobeable_emulator_is_left_out(
    cache: CapsCache, fake_host: HostPaths, tmp_path: Path
) -> None:
    text = capabilities_xml(
        cache,
        emulators=[("x86_64", str(tmp_path / "missing")), ("i686", QEMU_I386)],
        paths=fake_host,
        cpu_reader=no_cpuid,
    )
    assert texts(etree.fromstring(text), "guest/arch/@name") == ["i686"]


# -- domain capabilities ------------------------------------------------------------


def test_domcaps_default_is_qemus_default_machine(cache: CapsCache, facts: HostFacts) -> None:
    doc = domcaps(cache, facts)
    assert doc.findtext("path") == QEMU
    assert doc.findtext("domain") == "qemu"
    assert doc.findtext("machine") == "pc-i440fx-7.2"
    assert doc.findtext("arch") == "x86_64"
    assert child(doc, "vcpu").get("max") == "255"


def test_domcaps_machine_alias_is_canonicalised(cache: CapsCache, facts: HostFacts) -> None:
    doc = domcaps(cache, facts, machine="q35")
    assert doc.findtext("machine") == "pc-q35-7.2"
    assert child(doc, "vcpu").get("max") == "288"


def test_q35_has_sata_but_no_builtin_ide(cache: CapsCache, facts: HostFacts) -> None:
    buses = enum(domcaps(cache, facts, machine="q35"), "devices/disk", "bus")
    assert buses == ["fdc", "scsi", "virtio", "usb", "sata"]


def test_i440fx_has_builtin_ide(cache: CapsCache, facts: HostFacts) -> None:
    assert enum(domcaps(cache, facts), "devices/disk", "bus")[0] == "ide"


def test_tcg_has_no_host_passthrough(cache: CapsCache, facts: HostFacts) -> None:
    doc = domcaps(cache, facts)
    assert texts(doc, "cpu/mode[@name='host-passthrough']/@supported") == ["no"]
    assert texts(doc, "cpu/mode[@name='maximum']/@supported") == ["yes"]


def test_custom_models_are_the_cpu_map_ones_qemu_has(cache: CapsCache, facts: HostFacts) -> None:
    doc = domcaps(cache, facts)
    models = elements(doc, "cpu/mode[@name='custom']/model")
    names = [m.text for m in models]
    assert "qemu64" in names and "EPYC" in names
    assert "max" not in names and "qemu64-v1" not in names
    epyc = next(m for m in models if m.text == "EPYC")
    assert epyc.get("vendor") == "AMD"
    assert next(m for m in models if m.text == "qemu64").get("usable") == "yes"


def test_tpm_versions_follow_swtpm(cache: CapsCache) -> None:
    without = HostFacts(firmware=(), tpm_versions=None, vfio=False, kvm_max_vcpus=None)
    doc = domcaps(cache, without)
    assert doc.find("devices/tpm/enum[@name='backendVersion']") is None
    assert enum(doc, "devices/tpm", "backendModel") == ["passthrough", "emulator", "external"]


def test_firmware_descriptors_decide_loaders(cache: CapsCache, tmp_path: Path) -> None:
    code = tmp_path / "CODE.fd"
    code.write_text("")
    secure = tmp_path / "CODE.secboot.fd"
    secure.write_text("")
    fwdir = tmp_path / "firmware"
    fwdir.mkdir()
    for name, path, features, machines in (
        ("50-secure.json", secure, ["requires-smm", "secure-boot"], ["pc-q35-*"]),
        ("60-plain.json", code, [], ["pc-i440fx-*", "pc-q35-*"]),
    ):
        descriptor = {
            "interface-types": ["uefi"],
            "mapping": {"device": "flash", "executable": {"filename": str(path)}},
            "targets": [{"architecture": "x86_64", "machines": machines}],
            "features": features,
        }
        (fwdir / name).write_text(json.dumps(descriptor))
    facts = HostFacts(
        firmware=tuple(load_descriptors([str(fwdir)])),
        tpm_versions=None,
        vfio=False,
        kvm_max_vcpus=None,
    )
    q35 = domcaps(cache, facts, machine="q35")
    assert texts(q35, "os/loader/value/text()") == [str(secure), str(code)]
    assert enum(q35, "os/loader", "secure") == ["yes", "no"]
    assert enum(q35, "os", "firmware") == ["efi"]
    pc = domcaps(cache, facts, machine="pc")
    assert texts(pc, "os/loader/value/text()") == [str(code)]
    assert enum(pc, "os/loader", "secure") == ["no"]


def test_empty_descriptor_masks_a_system_one(tmp_path: Path) -> None:
    system, admin = tmp_path / "usr", tmp_path / "etc"
    system.mkdir()
    admin.mkdir()
    (system / "60-x.json").write_text(json.dumps({"interface-types": ["bios"]}))
    (admin / "60-x.json").write_text("")
    assert load_descriptors([str(system), str(admin)]) == []


def test_malformed_descriptor_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "10-bad.json").write_text("{")
    (tmp_path / "20-good.json").write_text(json.dumps({"interface-types": ["bios"]}))
    assert [d.interfaces for d in load_descriptors([str(tmp_path)])] == [("bios",)]


def _kvm_target(caps: QemuCaps) -> DomcapsTarget:
    return DomcapsTarget(
        dataclasses.replace(caps, kvm_usable=True), "x86_64", "kvm", "pc-i440fx-7.2"
    )


def test_sev_is_described_with_its_guest_limits(cache: CapsCache, facts: HostFacts) -> None:
    sev = SEVInfo(cbitpos=47, reduced_phys_bits=1, max_guests=15, max_es_guests=494)
    caps = dataclasses.replace(cache.get(QEMU), sev=sev)
    doc = etree.fromstring(build_domain_capabilities(_kvm_target(caps), facts).format())
    assert texts(doc, "features/sev/@supported") == ["yes"]
    assert [doc.findtext(f"features/sev/{name}") for name in ("cbitpos", "maxESGuests")] == [
        "47",
        "494",
    ]


def test_sgx_sections_are_reported_in_kib(cache: CapsCache, facts: HostFacts) -> None:
    sgx = SGXInfo(flc=False, sgx1=True, sgx2=False, sections=((0, 64 << 20),))
    caps = dataclasses.replace(cache.get(QEMU), sgx=sgx)
    doc = etree.fromstring(build_domain_capabilities(_kvm_target(caps), facts).format())
    assert doc.findtext("features/sgx/sgx1") == "yes"
    assert doc.findtext("features/sgx/section_size") == str(64 << 10)
    assert texts(doc, "features/sgx/sections/section/@size") == [str(64 << 10)]


def test_sev_and_sgx_need_kvm(cache: CapsCache, facts: HostFacts) -> None:
    sev = SEVInfo(cbitpos=47, reduced_phys_bits=1)
    caps = dataclasses.replace(cache.get(QEMU), sev=sev)
    target = DomcapsTarget(caps, "x86_64", "qemu", "pc-i440fx-7.2")
    doc = etree.fromstring(build_domain_capabilities(target, facts).format())
    assert texts(doc, "features/sev/@supported") == ["no"]


@pytest.mark.parametrize(
    ("asids", "limits"), [((509, 16), (494, 15)), ((0, 0), (0, 0)), ((15, 0), (0, 0))]
)
def test_sev_guest_limits_follow_the_asid_ranges(
    asids: tuple[int, int], limits: tuple[int, int]
) -> None:
    assert sev_guest_limits(asids) == limits


# -- domain capabilities errors ------------------------------------------------------


def _error(
    cache: CapsCache,
    facts: HostFacts,
    *,
    emulatorbin: str | None = None,
    arch: str | None = None,
    machine: str | None = None,
    virttype: str | None = None,
) -> VirtError:
    with pytest.raises(VirtError) as info:
        domain_capabilities_xml(cache, emulatorbin, arch, machine, virttype, facts=facts)
    assert info.value.domain == ErrorDomain.QEMU
    return info.value


def test_unknown_virttype(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, virttype="bogus", arch="also-bogus")
    assert isinstance(err, InvalidArgError)
    assert err.message == "invalid argument: unknown virttype: bogus"


def test_unknown_arch(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, arch="bogus")
    assert err.message == "invalid argument: unknown architecture: bogus"


def test_arch_without_emulator(
    cache: CapsCache, facts: HostFacts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(caps_module, "_SEARCH_FALLBACK", ())
    err = _error(cache, facts, arch="aarch64")
    assert isinstance(err, ConfigUnsupportedError)
    assert err.message == (
        "unsupported configuration: unable to find any emulator to serve 'aarch64' architecture"
    )


def test_kvm_without_kvm(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, virttype="kvm", machine="nope")
    assert err.message == (
        f"invalid argument: the accel 'kvm' is not supported by '{QEMU}' on this host"
    )


def test_unsupported_machine(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, machine="none", virttype="xen")
    assert err.message == (
        f"invalid argument: the machine 'none' is not supported by emulator '{QEMU}'"
    )


def test_emulator_of_another_arch(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, emulatorbin=QEMU_I386, arch="x86_64", virttype="xen")
    assert err.message == (
        f"invalid argument: Emulator '{QEMU_I386}' does not support arch 'x86_64'"
    )


def test_x86_64_emulator_serves_i686(cache: CapsCache, facts: HostFacts) -> None:
    doc = domcaps(cache, facts, emulatorbin=QEMU, arch="i686")
    assert (doc.findtext("path"), doc.findtext("arch")) == (QEMU, "i686")


def test_foreign_virttype(cache: CapsCache, facts: HostFacts) -> None:
    err = _error(cache, facts, virttype="xen")
    assert err.message == f"invalid argument: Emulator '{QEMU}' does not support virt type 'xen'"


def test_flags_are_refused(cache: CapsCache, facts: HostFacts) -> None:
    with pytest.raises(InvalidArgError) as info:
        domain_capabilities_xml(cache, flags=1, facts=facts)
    assert info.value.code == ErrorNumber.INVALID_ARG
    assert info.value.message == (
        "unsupported flags (0x1) in function qemuConnectGetDomainCapabilities"
    )


# -- emulator lookup -----------------------------------------------------------------


@pytest.fixture
def fake_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(caps_module, "_SEARCH_FALLBACK", ())
    return tmp_path


def _install(directory: Path, name: str) -> str:
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_find_emulator_searches_path(fake_path: Path) -> None:
    found = _install(fake_path, "qemu-system-x86_64")
    assert caps_module.find_emulator("x86_64", hostarch="x86_64") == found


def test_i686_prefers_qemu_system_i386(fake_path: Path) -> None:
    _install(fake_path, "qemu-system-x86_64")
    i386 = _install(fake_path, "qemu-system-i386")
    assert caps_module.find_emulator("i686", hostarch="x86_64") == i386


def test_i686_falls_back_to_the_native_x86_64_emulator(fake_path: Path) -> None:
    x86_64 = _install(fake_path, "qemu-system-x86_64")
    assert caps_module.find_emulator("i686", hostarch="x86_64") == x86_64


def test_non_executable_candidate_is_skipped(fake_path: Path) -> None:
    (fake_path / "qemu-system-x86_64").write_text("")
    with pytest.raises(InvalidArgError):
        caps_module.find_emulator("x86_64", hostarch="x86_64")


def test_find_emulator_unknown_arch() -> None:
    with pytest.raises(InvalidArgError) as info:
        caps_module.find_emulator("z80")
    assert info.value.message == "invalid argument: unknown architecture: z80"


def test_installed_emulators_in_libvirt_arch_order(fake_path: Path) -> None:
    x86_64 = _install(fake_path, "qemu-system-x86_64")
    aarch64 = _install(fake_path, "qemu-system-aarch64")
    i386 = _install(fake_path, "qemu-system-i386")
    assert caps_module.installed_emulators(hostarch="x86_64") == [
        ("aarch64", aarch64),
        ("i686", i386),
        ("x86_64", x86_64),
    ]
