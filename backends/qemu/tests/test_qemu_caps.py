"""Specification of QEMU capabilities probing and its model (virtcore_qemu.caps).

The real QEMU 7.2 is probed once per session with TCG only
(:mod:`qemu_capsprobe`); the tests read what that probe learned. Probe
failures are provoked with binaries that are missing, not executable or not
QEMU.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from qemu_capsprobe import QEMU, no_kvm, tcg_caps

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError, SystemCallError
from virtcore_qemu.caps import (
    MachineInfo,
    QemuCaps,
    encode_version,
    kvm_device_usable,
    probe,
)


@pytest.fixture(scope="module")
def caps() -> QemuCaps:
    return tcg_caps()


# -- what the probe learns ------------------------------------------------------


def test_version_uses_libvirts_integer_encoding(caps: QemuCaps) -> None:
    assert caps.version // 1_000_000 == 7
    assert caps.version == encode_version(*caps.major_minor, caps.version % 1000)


def test_arch_is_named_the_libvirt_way(caps: QemuCaps) -> None:
    assert caps.arch == "x86_64"


def test_i386_binary_reports_libvirts_i686() -> None:
    assert tcg_caps("/usr/bin/qemu-system-i386").arch == "i686"


def test_default_machine_is_the_one_qemu_marks_default(caps: QemuCaps) -> None:
    assert caps.default_machine() == "pc-i440fx-7.2"


def test_default_machine_is_listed_first(caps: QemuCaps) -> None:
    assert caps.machines[0].name == caps.default_machine()
    assert caps.machines[0].is_default


def test_the_probing_none_machine_is_hidden(caps: QemuCaps) -> None:
    assert caps.machine("none") is None


def test_machine_limits_come_from_qemu(caps: QemuCaps) -> None:
    q35 = caps.machine("pc-q35-7.2")
    assert q35 is not None
    assert q35.max_cpus == 288
    assert q35.alias == "q35"


def test_deprecated_machines_are_marked(caps: QemuCaps) -> None:
    old = caps.machine("pc-i440fx-1.4")
    assert old is not None and old.deprecated


def test_commands_and_qom_types_are_known(caps: QemuCaps) -> None:
    assert caps.has_command("query-cpus-fast")
    assert not caps.has_command("no-such-command")
    assert caps.has_device("virtio-blk-pci")
    assert not caps.has_device("no-such-device")


def test_cpu_models_exclude_nothing_qemu_lists(caps: QemuCaps) -> None:
    assert {"qemu64", "max", "host", "EPYC"} <= set(caps.cpu_models)


def test_tcg_cpu_usability_comes_with_blockers(caps: QemuCaps) -> None:
    by_name = {m.name: m for m in caps.tcg_cpu_definitions}
    assert by_name["qemu64"].usable is True
    assert by_name["Haswell"].usable is False
    assert by_name["Haswell"].blockers


def test_schema_facts_are_derived(caps: QemuCaps) -> None:
    assert caps.has_flag("vnc")
    assert caps.has_flag("blockdev")
    assert not caps.has_flag("no-such-fact")


def test_device_properties_are_listed(caps: QemuCaps) -> None:
    assert caps.device_has_property("virtio-blk-pci", "num-queues")
    assert not caps.device_has_property("virtio-blk-pci", "no-such-prop")


def test_tpm_backends_are_listed(caps: QemuCaps) -> None:
    assert "emulator" in caps.tpm_types
    assert "tpm-crb" in caps.tpm_models


def test_hyperv_enlightenments_with_values_are_offered_under_tcg(caps: QemuCaps) -> None:
    assert caps.hyperv_features == ("spinlocks", "vendor_id")


def test_kvm_absent_makes_kvm_unusable(caps: QemuCaps) -> None:
    assert caps.kvm_usable is False
    assert caps.kvm_cpu_definitions == ()


def test_missing_kvm_device_is_unusable(tmp_path: Path) -> None:
    assert kvm_device_usable(str(tmp_path / "kvm")) is False


# -- machine names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("pc", "pc-i440fx-7.2"), ("q35", "pc-q35-7.2"), ("pc-q35-6.2", "pc-q35-6.2")],
)
def test_canonical_machine_resolves_aliases(caps: QemuCaps, given: str, canonical: str) -> None:
    assert caps.canonical_machine(given) == canonical


def test_unknown_machine_gets_libvirts_error(caps: QemuCaps) -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        caps.canonical_machine("pc-nonexistent")
    assert info.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert info.value.domain == ErrorDomain.QEMU
    assert info.value.message == (
        f"unsupported configuration: Emulator '{QEMU}' does not support machine type "
        "'pc-nonexistent'"
    )


def test_caps_without_default_machine_fall_back_to_the_first() -> None:
    caps = QemuCaps(
        binary="/x",
        version=7_002_000,
        arch="x86_64",
        machines=(MachineInfo("a"), MachineInfo("b")),
        cpu_models=(),
        devices=frozenset(),
        commands=frozenset(),
        kvm_usable=False,
    )
    assert caps.default_machine() == "a"


# -- serialisation --------------------------------------------------------------


def test_dict_round_trip_is_lossless(caps: QemuCaps) -> None:
    assert QemuCaps.from_dict(caps.to_dict()) == caps


def test_from_dict_rejects_a_malformed_field(caps: QemuCaps) -> None:
    data = caps.to_dict()
    data["machines"] = [{"name": 5}]
    with pytest.raises(TypeError):
        QemuCaps.from_dict(data)


def test_from_dict_rejects_a_missing_field(caps: QemuCaps) -> None:
    data = caps.to_dict()
    del data["commands"]
    with pytest.raises(KeyError):
        QemuCaps.from_dict(data)


def test_caps_are_hashable_and_equal_copies_hash_alike(caps: QemuCaps) -> None:
    copy = QemuCaps.from_dict(caps.to_dict())
    assert {caps: 1}[copy] == 1


def test_caps_are_immutable(caps: QemuCaps) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.kvm_usable = True  # type: ignore[misc]


# -- probe failures ----------------------------------------------------------------


def test_missing_binary_is_a_system_error(tmp_path: Path) -> None:
    missing = tmp_path / "qemu-system-x86_64"
    with pytest.raises(SystemCallError) as info:
        probe(missing, kvm_check=no_kvm)
    assert info.value.message == f"Cannot check QEMU binary {missing}: No such file or directory"


def test_non_executable_binary_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "qemu"
    plain.write_text("")
    with pytest.raises(SystemCallError) as info:
        probe(plain, kvm_check=no_kvm)
    assert info.value.message == f"QEMU binary {plain} is not executable: Permission denied"


def test_binary_that_is_not_qemu_fails_the_probe_with_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "qemu"
    fake.write_text("#!/bin/sh\necho 'not a QEMU at all' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(InternalError) as info:
        probe(fake, kvm_check=no_kvm, timeout=10)
    assert info.value.message == (
        f"internal error: Failed to probe capabilities for {fake}: not a QEMU at all"
    )


def test_probe_leaves_no_process_behind(tmp_path: Path) -> None:
    before = _qemu_children()
    probe(QEMU, kvm_check=no_kvm)
    # Guests other fixtures started may come and go; none may be new.
    assert _qemu_children() - before == set()


def _qemu_children() -> set[int]:
    mine = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == mine and "qemu" in stat:
            found.add(int(entry))
    return found
