"""Specification of naming CPUs after libvirt's CPU map (caps_cpu, caps_hostcpu).

Decoding works on synthetic feature sets built from the map's own models,
so each rule (spellings, vendors, host strictness, hypervisor blockers,
signatures, libvirt's weighting) is pinned by a case whose answer follows
from that rule alone. Host CPUID reading runs on a synthetic register file.
The comparison with real libvirt on this host is in
test_qemu_caps_differential.
"""

from __future__ import annotations

import struct

import pytest

from virtcore_qemu.caps_cpu import candidate_weight, decode, libvirt_feature_names
from virtcore_qemu.caps_cpumap import X86_FEATURE_BITS, X86_FEATURES, X86_MODELS
from virtcore_qemu.caps_hostcpu import CPUIDReader, cpuid_features, read_host_cpu
from virtcore_qemu.caps_model import CPUModelInfo

MODELS = {model.name: model for model in X86_MODELS}


def test_map_data_is_complete() -> None:
    assert len(X86_FEATURES) == len(X86_FEATURE_BITS)
    assert all(model.features <= set(X86_FEATURES) for model in X86_MODELS)


def test_qemu_spellings_become_libvirts() -> None:
    names = libvirt_feature_names(["fxsr-opt", "pclmulqdq", "sse4-1", "lahf-lm", "no-such"])
    assert names == {"fxsr_opt", "pclmuldq", "sse4.1", "lahf_lm"}


def test_exact_model_features_decode_to_that_model() -> None:
    cpu = decode(MODELS["Westmere"].features, vendor="GenuineIntel", host=True)
    assert cpu is not None
    assert (cpu.model, cpu.vendor, cpu.required, cpu.disabled) == ("Westmere", "Intel", (), ())


def test_extra_features_are_required_in_map_order() -> None:
    cpu = decode(MODELS["Westmere"].features | {"xsave", "x2apic"}, vendor="GenuineIntel")
    assert cpu is not None
    assert cpu.required == ("x2apic", "xsave")


def test_models_of_another_vendor_are_not_considered() -> None:
    cpu = decode(MODELS["Westmere"].features, vendor="AuthenticAMD")
    assert cpu is not None
    assert MODELS[cpu.model].vendor in (None, "AMD")


def test_host_description_never_disables_features() -> None:
    features = MODELS["Westmere"].features - {"aes"}
    cpu = decode(features, vendor="GenuineIntel", host=True)
    assert cpu is not None
    assert cpu.disabled == ()
    assert cpu.model != "Westmere"


def test_guest_description_may_disable_features() -> None:
    features = MODELS["Haswell"].features - {"fma"}
    cpu = decode(features, vendor="GenuineIntel")
    assert cpu is not None
    assert (cpu.model, cpu.required, cpu.disabled) == ("Haswell", (), ("fma",))


def test_hypervisor_blockers_are_disabled_explicitly() -> None:
    offered = [CPUModelInfo("Westmere", usable=False, blockers=("x2apic",))]
    cpu = decode(MODELS["Westmere"].features, vendor="GenuineIntel", allowed=offered)
    assert cpu is not None
    assert cpu.disabled == ("x2apic",)


def test_only_models_the_hypervisor_offers_are_used() -> None:
    offered = [CPUModelInfo("Nehalem", usable=True)]
    cpu = decode(MODELS["Westmere"].features, vendor="GenuineIntel", allowed=offered)
    assert cpu is not None
    assert cpu.model == "Nehalem"


def test_matching_signature_beats_a_shorter_list() -> None:
    # Penryn (family 6, model 23) lacks a few of Nehalem's features; with
    # Penryn's signature the CPU is still called a Penryn.
    features = MODELS["Nehalem"].features
    (family, model, first, _last) = MODELS["Penryn"].signatures[0]
    cpu = decode(features, vendor="GenuineIntel", signature=(family, model, first), host=True)
    assert cpu is not None
    assert cpu.model == "Penryn"


def test_no_candidate_gives_none() -> None:
    assert decode({"fpu"}, vendor="GenuineIntel", allowed=[CPUModelInfo("no-such")]) is None


@pytest.mark.parametrize(
    ("required", "disabled", "weight"),
    [
        # Recorded from libvirt 9.0's debug log on QEMU 7.2 data.
        (18, 10, (43, 20)),
        (46, 2, (49, 2)),
        (43, 3, (49, 5)),
        (51, 0, (51, 0)),
    ],
)
def test_candidate_weight_matches_libvirt(
    required: int, disabled: int, weight: tuple[int, int]
) -> None:
    assert candidate_weight(required, disabled) == weight


def test_host_weight_is_the_plain_count() -> None:
    assert candidate_weight(10, 0, host=True) == (10, 0)


# -- reading CPUID -----------------------------------------------------------------


def _register_file(vendor: str, eax1: int, features: set[str]) -> dict[tuple[int, int], list[int]]:
    regs: dict[tuple[int, int], list[int]] = {}

    def leaf(key: tuple[int, int]) -> list[int]:
        return regs.setdefault(key, [0, 0, 0, 0])

    ebx, edx, ecx = struct.unpack("<3I", vendor.encode())
    leaf((0, 0))[:] = [0x10, ebx, ecx, edx]
    leaf((0x80000000, 0))[0] = 0x80000008
    leaf((1, 0))[0] = eax1
    index = {"eax": 0, "ebx": 1, "ecx": 2, "edx": 3}
    for name in features:
        bits = X86_FEATURE_BITS[name]
        leaf((bits.leaf, bits.subleaf))[index[bits.register]] |= bits.mask
    return regs


def _reader(regs: dict[tuple[int, int], list[int]]) -> CPUIDReader:
    def read(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
        a, b, c, d = regs.get((leaf, subleaf), [0, 0, 0, 0])
        return a, b, c, d

    return read


def test_cpuid_bits_become_features_vendor_and_signature() -> None:
    regs = _register_file("GenuineIntel", 0x000306C3, {"fpu", "avx2", "lm"})
    vendor, features, signature = cpuid_features(_reader(regs))
    assert vendor == "GenuineIntel"
    assert features == {"fpu", "avx2", "lm"}
    assert signature == (6, 60, 3)


def test_leaves_beyond_the_maximum_are_not_read() -> None:
    regs = _register_file("AuthenticAMD", 0x00A00F11, {"fpu"})
    regs[(0, 0)][0] = 1  # only leaves 0 and 1 exist
    bits = X86_FEATURE_BITS["avx2"]
    regs[(bits.leaf, bits.subleaf)] = [0xFFFFFFFF] * 4
    _vendor, features, signature = cpuid_features(_reader(regs))
    assert "avx2" not in features
    assert signature == (25, 1, 1)


def test_host_cpu_from_cpuid() -> None:
    regs = _register_file("GenuineIntel", 0x000206C2, set(MODELS["Westmere"].features))
    cpu = read_host_cpu(_reader(regs), with_tsc=False)
    assert cpu is not None
    assert (cpu.model, cpu.vendor, cpu.signature, cpu.features) == (
        "Westmere",
        "Intel",
        (6, 44, 2),
        (),
    )


def test_unreadable_cpuid_gives_no_host_cpu() -> None:
    def unreadable(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
        raise PermissionError(13, "Permission denied")

    assert read_host_cpu(unreadable) is None
