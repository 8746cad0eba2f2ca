"""Domain capabilities of a QEMU binary (``virsh domcapabilities``), as libvirt builds them.

Two steps, as in libvirt's ``qemuConnectGetDomainCapabilities``:

:func:`lookup_default` resolves the request — emulator binary, architecture,
machine type and virtualization type, each optional — against the
capabilities cache, with libvirt's defaults (the host architecture, the
emulator serving it, QEMU's default machine, ``kvm`` when KVM is usable)
and libvirt's errors in libvirt's order: an unknown virttype or architecture,
no emulator for the architecture, an accelerator this host lacks, an
unsupported machine, an architecture the emulator does not run, a virttype
the emulator does not offer.

:func:`build_domain_capabilities` fills a
:class:`virtcore.xml.domcaps.DomainCapabilities` from the probed
:class:`~virtcore_qemu.caps_model.QemuCaps` and host facts (firmware
descriptors, swtpm, VFIO, KVM's vCPU limit), each part decided by the QEMU
capability libvirt 9.0 consults for it.

The ``host-model`` CPU is QEMU's host-model CPU named after libvirt's CPU
map (:mod:`virtcore_qemu.caps_cpu`); custom-mode models are QEMU's models
that the map knows.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, InvalidArgError
from virtcore.xml.domain.checks import VIRT_TYPES
from virtcore.xml.domcaps import DomainCapabilities
from virtcore_qemu.caps import (
    ARCH_WORDSIZE,
    KVM_DEVICE,
    CapsCache,
    QemuCaps,
    find_emulator,
    host_arch,
)
from virtcore_qemu.caps_cpu import DecodedCPU, decode
from virtcore_qemu.caps_cpumap import X86_MODELS
from virtcore_qemu.caps_firmware import (
    DEFAULT_LOADERS,
    FirmwareDescriptor,
    load_descriptors,
    supported_firmware,
)

__all__ = [
    "DomcapsTarget",
    "HostFacts",
    "build_domain_capabilities",
    "emulator_supports_arch",
    "kvm_max_vcpus",
    "lookup_default",
]

log = logging.getLogger(__name__)

#: Custom-mode models are QEMU's models that libvirt's CPU map knows, with
#: the map's vendor.
_MAP_VENDORS: dict[str, str | None] = {model.name: model.vendor for model in X86_MODELS}

_X86 = frozenset({"x86_64", "i686"})
#: Virtualization types that need a hardware accelerator.
_ACCELERATED = frozenset({"kvm", "hvf"})

# KVM_CHECK_EXTENSION and the capabilities giving the vCPU limit (linux/kvm.h).
_KVM_CHECK_EXTENSION = 0xAE03
_KVM_CAP_NR_VCPUS = 9
_KVM_CAP_MAX_VCPUS = 66


@dataclass(frozen=True)
class DomcapsTarget:
    """A resolved domain capabilities request."""

    caps: QemuCaps
    arch: str
    virttype: str
    machine: str


def emulator_supports_arch(caps: QemuCaps, arch: str) -> bool:
    """libvirt's virQEMUCapsIsArchSupported: the binary's arch or a compatible one."""
    if arch == caps.arch:
        return True
    compatible = {
        ("x86_64", "i686"),
        ("aarch64", "armv7l"),
        ("armv7l", "armv6l"),
        ("ppc64", "ppc64le"),
    }
    return (caps.arch, arch) in compatible


def lookup_default(
    cache: CapsCache,
    emulatorbin: str | None = None,
    arch: str | None = None,
    machine: str | None = None,
    virttype: str | None = None,
) -> DomcapsTarget:
    """Resolve a domcapabilities request with libvirt's defaults and errors."""
    wanted_type: str | None = None
    if virttype:
        if virttype not in VIRT_TYPES and virttype != "none":
            raise InvalidArgError(f"unknown virttype: {virttype}", domain=ErrorDomain.QEMU)
        wanted_type = None if virttype == "none" else virttype
    hostarch = host_arch()
    target_arch = hostarch
    if arch:
        if arch not in ARCH_WORDSIZE:
            raise InvalidArgError(f"unknown architecture: {arch}", domain=ErrorDomain.QEMU)
        target_arch = arch
    binary = emulatorbin
    if not binary:
        try:
            binary = find_emulator(target_arch, hostarch=hostarch)
        except InvalidArgError as exc:
            raise ConfigUnsupportedError(
                f"unable to find any emulator to serve '{target_arch}' architecture",
                domain=ErrorDomain.QEMU,
            ) from exc
    caps = cache.get(binary)
    caps_type = "kvm" if caps.kvm_usable else "qemu"
    if wanted_type is None:
        wanted_type = caps_type
    if wanted_type in _ACCELERATED and caps_type == "qemu":
        raise InvalidArgError(
            f"the accel '{wanted_type}' is not supported by '{binary}' on this host",
            domain=ErrorDomain.QEMU,
        )
    if machine:
        found = caps.machine(machine)
        if found is None:
            raise InvalidArgError(
                f"the machine '{machine}' is not supported by emulator '{binary}'",
                domain=ErrorDomain.QEMU,
            )
        resolved_machine = found.name
    else:
        resolved_machine = caps.default_machine()
    if not emulator_supports_arch(caps, target_arch):
        raise InvalidArgError(
            f"Emulator '{binary}' does not support arch '{target_arch}'",
            domain=ErrorDomain.QEMU,
        )
    if wanted_type != "qemu" and not (wanted_type == "kvm" and caps.kvm_usable):
        raise InvalidArgError(
            f"Emulator '{binary}' does not support virt type '{wanted_type}'",
            domain=ErrorDomain.QEMU,
        )
    return DomcapsTarget(caps, target_arch, wanted_type, resolved_machine)


# -- host facts ----------------------------------------------------------------


@dataclass(frozen=True)
class HostFacts:
    """What the host (not QEMU) contributes to domain capabilities."""

    firmware: tuple[FirmwareDescriptor, ...]
    tpm_versions: tuple[str, ...] | None
    vfio: bool
    kvm_max_vcpus: int | None

    @classmethod
    def probe(cls) -> HostFacts:
        return cls(
            firmware=tuple(load_descriptors()),
            tpm_versions=swtpm_versions(),
            vfio=_vfio_usable(),
            kvm_max_vcpus=kvm_max_vcpus(),
        )


def kvm_max_vcpus(device: str = KVM_DEVICE) -> int | None:
    """KVM's vCPU limit per guest (``KVM_CAP_MAX_VCPUS``), or None without KVM."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        for cap in (_KVM_CAP_MAX_VCPUS, _KVM_CAP_NR_VCPUS):
            with contextlib.suppress(OSError):
                value = fcntl.ioctl(fd, _KVM_CHECK_EXTENSION, cap)
                if value > 0:
                    return value
        return None
    finally:
        os.close(fd)


def swtpm_versions() -> tuple[str, ...] | None:
    """TPM versions swtpm can emulate, or None when swtpm is not installed."""
    paths = [shutil.which(tool) for tool in ("swtpm", "swtpm_setup", "swtpm_ioctl")]
    if not all(paths):
        return None
    setup = str(paths[1])
    try:
        stamp = os.stat(setup).st_mtime_ns
    except OSError:
        return None
    return _swtpm_setup_versions(setup, stamp)


@functools.lru_cache(maxsize=4)
def _swtpm_setup_versions(setup: str, _stamp: int) -> tuple[str, ...]:
    # Keyed on the binary's mtime, like libvirt's swtpm capability cache.
    try:
        out = subprocess.run(
            [setup, "--print-capabilities"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        features = json.loads(out.stdout).get("features", [])
    except (OSError, ValueError, subprocess.TimeoutExpired, AttributeError) as exc:
        log.warning("cannot read %s capabilities: %s", setup, exc)
        return ()
    versions = []
    if "tpm-1.2" in features:
        versions.append("1.2")
    if "tpm-2.0" in features:
        versions.append("2.0")
    return tuple(versions)


def _vfio_usable() -> bool:
    try:
        return any(os.scandir("/sys/kernel/iommu_groups"))
    except OSError:
        return False


# -- machine type predicates (qemu_domain.c) -----------------------------------


def machine_is_i440fx(machine: str, arch: str) -> bool:
    if arch not in _X86:
        return False
    return machine == "pc" or machine.startswith(("pc-0.", "pc-1.", "pc-i440fx-", "rhel"))


def machine_has_builtin_ide(machine: str, arch: str) -> bool:
    return machine_is_i440fx(machine, arch) or machine in ("malta", "sun4u", "g3beige")


def machine_is_pseries(machine: str, arch: str) -> bool:
    return arch in ("ppc64", "ppc64le") and (machine == "pseries" or machine.startswith("pseries-"))


# -- building --------------------------------------------------------------------


def build_domain_capabilities(
    target: DomcapsTarget, facts: HostFacts | None = None
) -> DomainCapabilities:
    """The ``<domainCapabilities>`` model for a resolved request."""
    if facts is None:
        facts = HostFacts.probe()
    caps, arch, virttype, machine = target.caps, target.arch, target.virttype, target.machine
    doc = DomainCapabilities.new(caps.binary, virttype, arch, machine=machine)
    info = caps.machine(machine)
    max_cpus = info.max_cpus if info is not None else 0
    if virttype == "kvm" and facts.kvm_max_vcpus and max_cpus:
        max_cpus = min(max_cpus, facts.kvm_max_vcpus)
    doc.vcpu_max = max_cpus
    doc.iothreads = caps.has_device("iothread")
    _fill_os(doc, caps, arch, machine, facts)
    _fill_cpu(doc, caps, arch, virttype)
    _fill_memory_backing(doc, caps)
    _fill_devices(doc, caps, arch, machine, facts)
    _fill_features(doc, caps, arch, virttype)
    return doc


def _fill_os(
    doc: DomainCapabilities, caps: QemuCaps, arch: str, machine: str, facts: HostFacts
) -> None:
    doc.os.supported = True
    fw = supported_firmware(arch, machine, facts.firmware)
    doc.os.set_enum("firmware", fw.kinds)
    loader = doc.os.loader
    loader.supported = True
    images: Sequence[str] = fw.loaders or tuple(code for code, _vars in DEFAULT_LOADERS)
    unique: list[str] = []
    for path in images:
        if os.path.exists(path) and path not in unique:
            unique.append(path)
    loader.values = unique
    loader.set_enum("type", ["rom", "pflash"])
    loader.set_enum("readonly", ["yes", "no"])
    loader.set_enum("secure", ["yes", "no"] if fw.secure else ["no"])


def _fill_cpu(doc: DomainCapabilities, caps: QemuCaps, arch: str, virttype: str) -> None:
    cpu = doc.cpu
    migratable = caps.device_has_property(f"max-{_qemu_cpu_arch(caps.arch)}-cpu", "migratable")
    passthrough = cpu.host_passthrough
    passthrough.name = "host-passthrough"
    if virttype == "kvm" and caps.kvm_usable:
        passthrough.supported = True
        if migratable:
            passthrough.set_enum("hostPassthroughMigratable", ["on", "off"])
    else:
        passthrough.supported = False
    maximum = cpu.maximum
    maximum.name = "maximum"
    if "max" in caps.cpu_models:
        maximum.supported = True
        if migratable:
            maximum.set_enum("maximumMigratable", ["on", "off"])
    else:
        maximum.supported = False
    host_model = cpu.host_model
    host_model.name = "host-model"
    decoded = _host_model(caps, arch, virttype)
    if decoded is None:
        host_model.supported = False
    else:
        host_model.supported = True
        host_model.model = decoded.model
        host_model.fallback = "forbid"
        host_model.vendor = decoded.vendor
        for name in decoded.required:
            host_model.add_feature(name, "require")
        for name in decoded.disabled:
            host_model.add_feature(name, "disable")
    custom = cpu.custom
    custom.name = "custom"
    known = _MAP_VENDORS if arch in _X86 else {}
    added = False
    for model in caps.cpu_definitions(virttype):
        if model.name not in known:
            continue
        usable = "unknown" if model.usable is None else ("yes" if model.usable else "no")
        custom.add_model(
            model.name,
            usable=usable,
            vendor=known[model.name] or "unknown",
            deprecated=model.deprecated,
        )
        added = True
    custom.supported = added


def _host_model(caps: QemuCaps, arch: str, virttype: str) -> DecodedCPU | None:
    info = caps.host_cpu(virttype)
    if info is None or arch not in _X86:
        return None
    return decode(
        info.features,
        vendor=info.vendor,
        signature=(info.family, info.model, info.stepping),
        allowed=caps.cpu_definitions(virttype) or None,
    )


def _qemu_cpu_arch(arch: str) -> str:
    return {"i686": "i386"}.get(arch, arch)


def _fill_memory_backing(doc: DomainCapabilities, caps: QemuCaps) -> None:
    sources = ["file", "anonymous"]
    if caps.has_device("memory-backend-memfd"):
        sources.append("memfd")
    doc.memory_backing.supported = True
    doc.memory_backing.set_enum("sourceType", sources)


def _virtio_models(caps: QemuCaps) -> list[str]:
    models = ["virtio"]
    transitional = caps.has_device("virtio-blk-pci-transitional") or any(
        "disable-legacy" in props for props in caps.device_properties.values()
    )
    if transitional:
        models += ["virtio-transitional", "virtio-non-transitional"]
    return models


def _fill_devices(
    doc: DomainCapabilities, caps: QemuCaps, arch: str, machine: str, facts: HostFacts
) -> None:
    devices = doc.devices
    pseries = machine_is_pseries(machine, arch)
    disk = devices.disk
    disk.supported = True
    disk.set_enum("diskDevice", ["disk", "cdrom"] + ([] if pseries else ["floppy"]) + ["lun"])
    buses = []
    if machine_has_builtin_ide(machine, arch):
        buses.append("ide")
    if not pseries:
        buses.append("fdc")
    buses += ["scsi", "virtio"]
    if caps.has_device("usb-storage"):
        buses.append("usb")
    if caps.has_device("ich9-ahci"):
        buses.append("sata")
    disk.set_enum("bus", buses)
    disk.set_enum("model", _virtio_models(caps))

    graphics = devices.graphics
    graphics.supported = True
    kinds = [
        kind
        for kind, flag in (
            ("sdl", "sdl"),
            ("vnc", "vnc"),
            ("spice", "spice"),
            ("egl-headless", "egl-headless"),
            ("dbus", "display-dbus"),
        )
        if caps.has_flag(flag)
    ]
    graphics.set_enum("type", kinds)

    video = devices.video
    video.supported = True
    video_models = [
        model
        for model, qom in (
            ("vga", "VGA"),
            ("cirrus", "cirrus-vga"),
            ("vmvga", "vmware-svga"),
            ("qxl", "qxl"),
            ("virtio", "virtio-gpu-pci"),
        )
        if caps.has_device(qom) or (model == "virtio" and caps.has_device("virtio-gpu-device"))
    ]
    video_models.append("none")
    video_models += [
        m for m, q in (("bochs", "bochs-display"), ("ramfb", "ramfb")) if caps.has_device(q)
    ]
    video.set_enum("modelType", video_models)

    hostdev = devices.hostdev
    hostdev.supported = True
    hostdev.set_enum("mode", ["subsystem"])
    hostdev.set_enum("startupPolicy", ["default", "mandatory", "requisite", "optional"])
    hostdev.set_enum("subsysType", ["usb", "pci", "scsi"])
    hostdev.set_enum("capsType", [])
    vfio = facts.vfio and caps.has_device("vfio-pci")
    hostdev.set_enum("pciBackend", ["default", "vfio"] if vfio else [])

    rng = devices.rng
    if caps.has_device("virtio-rng-pci") or caps.has_device("virtio-rng-device"):
        rng.supported = True
        rng.set_enum("model", _virtio_models(caps))
        rng.set_enum(
            "backendModel",
            [
                name
                for name, qom in (
                    ("random", "rng-random"),
                    ("egd", "rng-egd"),
                    ("builtin", "rng-builtin"),
                )
                if caps.has_device(qom)
            ],
        )
    else:
        rng.supported = False

    filesystem = devices.filesystem
    filesystem.supported = True
    drivers = ["path", "handle"]
    if caps.has_device("vhost-user-fs-device"):
        drivers.append("virtiofs")
    filesystem.set_enum("driverType", drivers)

    _fill_tpm(doc, caps, facts)

    redirdev = devices.redirdev
    redirdev.supported = caps.has_device("usb-redir")
    if redirdev.supported:
        redirdev.set_enum("bus", ["usb"])

    channel = devices.channel
    channel.supported = True
    channel.set_enum(
        "type", ["pty", "unix"] + (["spicevmc"] if caps.has_flag("chardev-spicevmc") else [])
    )


def _fill_tpm(doc: DomainCapabilities, caps: QemuCaps, facts: HostFacts) -> None:
    tpm = doc.devices.tpm
    passthrough = "passthrough" in caps.tpm_types
    emulator = "emulator" in caps.tpm_types
    if not (passthrough or emulator):
        tpm.supported = False
        return
    tpm.supported = True
    models = [
        name
        for name, qom in (
            ("tpm-tis", "tpm-tis"),
            ("tpm-crb", "tpm-crb"),
            ("tpm-spapr", "tpm-spapr"),
            ("spapr-tpm-proxy", "spapr-tpm-proxy"),
        )
        if qom in caps.tpm_models or caps.has_device(qom)
    ]
    tpm.set_enum("model", models)
    backends = (["passthrough"] if passthrough else []) + (
        ["emulator", "external"] if emulator else []
    )
    tpm.set_enum("backendModel", backends)
    if facts.tpm_versions is not None:
        tpm.set_enum("backendVersion", facts.tpm_versions)


def _fill_features(doc: DomainCapabilities, caps: QemuCaps, arch: str, virttype: str) -> None:
    features = doc.features
    features.gic.supported = False
    features.vmcoreinfo.supported = caps.has_device("vmcoreinfo")
    features.genid.supported = caps.has_device("vmgenid")
    features.backing_store_input.supported = caps.has_flag("blockdev")
    features.backup.supported = caps.has_flag("incremental-backup")
    sev = features.sev
    if caps.sev is not None and caps.has_device("sev-guest") and virttype == "kvm":
        sev.supported = True
        sev.cbitpos = caps.sev.cbitpos
        sev.reduced_phys_bits = caps.sev.reduced_phys_bits
        sev.max_guests = caps.sev.max_guests
        sev.max_es_guests = caps.sev.max_es_guests
    else:
        sev.supported = False
    sgx = features.sgx
    if caps.sgx is not None and caps.has_device("sgx-epc") and virttype == "kvm":
        sgx.supported = True
        sgx.flc = caps.sgx.flc
        sgx.sgx1 = caps.sgx.sgx1
        sgx.sgx2 = caps.sgx.sgx2
        # libvirt reports EPC sizes in KiB.
        sgx.section_size = sum(size for _node, size in caps.sgx.sections) // 1024
        for node, size in caps.sgx.sections:
            sgx.add_section(node, size // 1024)
    else:
        sgx.supported = False
    if arch in _X86 and caps.hyperv_features:
        features.hyperv.supported = True
        features.hyperv.set_enum("features", caps.hyperv_features)
    else:
        features.hyperv.supported = False
