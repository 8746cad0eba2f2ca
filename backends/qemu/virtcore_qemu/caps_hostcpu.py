"""The host's own x86 CPU, named after libvirt's CPU map (``<capabilities><host><cpu>``).

libvirt describes the host CPU from its CPUID data (``virCPUx86GetHost``):
the vendor and signature, the features the CPU map knows (plus the
``IA32_ARCH_CAPABILITIES`` MSR bits when the CPU has that MSR), decoded into a
model and the features beyond it (:func:`virtcore_qemu.caps_cpu.decode`,
host rules); with an invariant TSC, KVM is asked for the TSC frequency.

CPUID is read through the kernel's ``/dev/cpu/0/cpuid`` (and the MSR through
``/dev/cpu/0/msr``), which needs root; without access :func:`read_host_cpu`
returns None and the capabilities carry no CPU model, as libvirt's do when
it cannot decode the host CPU.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from virtcore_qemu.caps_cpu import VENDORS, decode
from virtcore_qemu.caps_cpumap import X86_FEATURE_BITS

__all__ = [
    "CPUIDReader",
    "HostCPU",
    "TSCInfo",
    "cpuid_features",
    "read_cpuid",
    "read_host_cpu",
    "tsc_info",
]

log = logging.getLogger(__name__)

CPUID_DEVICE = "/dev/cpu/0/cpuid"
MSR_DEVICE = "/dev/cpu/0/msr"
_REGISTERS = ("eax", "ebx", "ecx", "edx")
_ARCH_CAPABILITIES_MSR = 0x10A

# linux/kvm.h
_KVM_CREATE_VM = 0xAE01
_KVM_CREATE_VCPU = 0xAE41
_KVM_GET_TSC_KHZ = 0xAEA3
_KVM_CHECK_EXTENSION = 0xAE03
_KVM_CAP_TSC_CONTROL = 60

CPUIDReader = Callable[[int, int], tuple[int, int, int, int]]


@dataclass(frozen=True)
class TSCInfo:
    """The invariant TSC: its frequency in Hz and whether KVM can scale it."""

    frequency: int
    scaling: bool


@dataclass(frozen=True)
class HostCPU:
    """The host CPU as libvirt's capabilities describe it."""

    model: str | None
    vendor: str | None
    signature: tuple[int, int, int]
    features: tuple[str, ...]
    tsc: TSCInfo | None


def read_cpuid(leaf: int, subleaf: int, device: str = CPUID_DEVICE) -> tuple[int, int, int, int]:
    """(eax, ebx, ecx, edx) of CPUID *leaf*/*subleaf* on CPU 0; OSError if unreadable."""
    fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    try:
        raw = os.pread(fd, 16, (subleaf << 32) | leaf)
    finally:
        os.close(fd)
    eax, ebx, ecx, edx = struct.unpack("<4I", raw)
    return eax, ebx, ecx, edx


def _vendor_string(regs: tuple[int, int, int, int]) -> str:
    _eax, ebx, ecx, edx = regs
    return struct.pack("<3I", ebx, edx, ecx).decode("ascii", errors="replace")


def _signature(eax: int) -> tuple[int, int, int]:
    # libvirt's x86DataToSignatureFull: extended family and model folded in.
    family = ((eax >> 8) & 0xF) + ((eax >> 20) & 0xFF)
    model = ((eax >> 4) & 0xF) | ((eax >> 12) & 0xF0)
    return family, model, eax & 0xF


def cpuid_features(read: CPUIDReader) -> tuple[str, set[str], tuple[int, int, int]]:
    """(vendor string, map features present, signature) from a CPUID reader."""
    basic = read(0, 0)
    max_basic = basic[0]
    max_extended = read(0x80000000, 0)[0]
    cache: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    present: set[str] = set()
    for name, bits in X86_FEATURE_BITS.items():
        if bits.kind != "cpuid":
            continue
        limit = max_extended if bits.leaf >= 0x80000000 else max_basic
        if bits.leaf > limit:
            continue
        key = (bits.leaf, bits.subleaf)
        if key not in cache:
            cache[key] = read(*key)
        value = cache[key][_REGISTERS.index(bits.register)]
        if value & bits.mask == bits.mask:
            present.add(name)
    signature = _signature(read(1, 0)[0]) if max_basic >= 1 else (0, 0, 0)
    return _vendor_string(basic), present, signature


def _msr_features(msr_device: str) -> set[str]:
    try:
        fd = os.open(msr_device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return set()
    try:
        (value,) = struct.unpack("<Q", os.pread(fd, 8, _ARCH_CAPABILITIES_MSR))
    except (OSError, struct.error):
        return set()
    finally:
        os.close(fd)
    return {
        name
        for name, bits in X86_FEATURE_BITS.items()
        if bits.kind == "msr"
        and bits.leaf == _ARCH_CAPABILITIES_MSR
        and value & bits.mask == bits.mask
    }


def tsc_info(kvm_device: str = "/dev/kvm") -> TSCInfo | None:
    """KVM's view of the TSC: a throw-away VM's vCPU is asked its frequency."""
    fds: list[int] = []
    try:
        kvm = os.open(kvm_device, os.O_RDWR | os.O_CLOEXEC)
        fds.append(kvm)
        vm = fcntl.ioctl(kvm, _KVM_CREATE_VM, 0)
        fds.append(vm)
        vcpu = fcntl.ioctl(vm, _KVM_CREATE_VCPU, 0)
        fds.append(vcpu)
        khz = fcntl.ioctl(vcpu, _KVM_GET_TSC_KHZ, 0)
        scaling = fcntl.ioctl(kvm, _KVM_CHECK_EXTENSION, _KVM_CAP_TSC_CONTROL)
    except OSError as exc:
        log.debug("cannot read the TSC frequency through KVM: %s", exc)
        return None
    finally:
        for fd in reversed(fds):
            with contextlib.suppress(OSError):
                os.close(fd)
    return TSCInfo(frequency=khz * 1000, scaling=scaling > 0)


def read_host_cpu(
    read: CPUIDReader | None = None,
    *,
    msr_device: str = MSR_DEVICE,
    with_tsc: bool = True,
) -> HostCPU | None:
    """This host's CPU decoded as libvirt does, or None when CPUID is unreadable."""
    try:
        vendor, present, signature = cpuid_features(read or read_cpuid)
    except OSError as exc:
        log.debug("cannot read CPUID: %s", exc)
        return None
    if "arch-capabilities" in present:
        present |= _msr_features(msr_device)
    decoded = decode(present, vendor=vendor, signature=signature, host=True)
    tsc = tsc_info() if with_tsc and "invtsc" in present else None
    return HostCPU(
        model=decoded.model if decoded else None,
        vendor=VENDORS.get(vendor),
        signature=signature,
        features=decoded.required if decoded else (),
        tsc=tsc,
    )
