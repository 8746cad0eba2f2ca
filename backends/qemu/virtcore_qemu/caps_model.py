"""What one QEMU binary can do: the probed capabilities as an immutable value.

:class:`QemuCaps` is what :func:`virtcore_qemu.caps.probe` learns from a QEMU
binary over QMP and what :class:`virtcore_qemu.caps.CapsCache` persists as
JSON. It mirrors the parts of libvirt's ``virQEMUCaps`` that the driver uses:
the version (libvirt's encoding ``major * 1_000_000 + minor * 1000 + micro``),
the target architecture, the machine types (default first, as libvirt
reorders them; the ``none`` machine left out), the CPU models per accelerator
with their usability, the host-model CPU per accelerator, the QOM types, the
QMP commands, facts read from the QAPI schema (:attr:`QemuCaps.schema_flags`),
a few device property lists, and whether KVM is usable for this binary on
this host.

Contract: a :class:`QemuCaps` never changes after construction;
``QemuCaps.from_dict(caps.to_dict()) == caps``; :meth:`QemuCaps.from_dict`
raises :class:`ValueError`/:class:`KeyError`/:class:`TypeError` on a malformed
dictionary (the cache treats that as a miss, never as a crash).
:meth:`QemuCaps.canonical_machine` raises libvirt's
``VIR_ERR_CONFIG_UNSUPPORTED`` "Emulator '...' does not support machine type
'...'" for a machine the binary does not have.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError

__all__ = [
    "CPUModelInfo",
    "HostCPUInfo",
    "MachineInfo",
    "QemuCaps",
    "SEVInfo",
    "SGXInfo",
    "encode_version",
]

log = logging.getLogger(__name__)


def encode_version(major: int, minor: int, micro: int) -> int:
    """libvirt's integer QEMU version: 7.2.22 -> 7_002_022."""
    return major * 1_000_000 + minor * 1000 + micro


@dataclass(frozen=True)
class MachineInfo:
    """One machine type from ``query-machines``.

    *alias* is the short name QEMU points at this machine (``pc`` for
    ``pc-i440fx-7.2``); *is_default* marks QEMU's default machine.
    """

    name: str
    alias: str | None = None
    is_default: bool = False
    max_cpus: int = 0
    deprecated: bool = False
    hotplug_cpus: bool = False
    default_cpu_type: str | None = None
    default_ram_id: str | None = None
    numa_mem_supported: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "is_default": self.is_default,
            "max_cpus": self.max_cpus,
            "deprecated": self.deprecated,
            "hotplug_cpus": self.hotplug_cpus,
            "default_cpu_type": self.default_cpu_type,
            "default_ram_id": self.default_ram_id,
            "numa_mem_supported": self.numa_mem_supported,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MachineInfo:
        return cls(
            name=_str(data["name"]),
            alias=_opt_str(data.get("alias")),
            is_default=bool(data.get("is_default", False)),
            max_cpus=int(data.get("max_cpus", 0)),
            deprecated=bool(data.get("deprecated", False)),
            hotplug_cpus=bool(data.get("hotplug_cpus", False)),
            default_cpu_type=_opt_str(data.get("default_cpu_type")),
            default_ram_id=_opt_str(data.get("default_ram_id")),
            numa_mem_supported=bool(data.get("numa_mem_supported", False)),
        )


@dataclass(frozen=True)
class CPUModelInfo:
    """One CPU model from ``query-cpu-definitions`` under one accelerator.

    *usable* is None when QEMU did not say (no ``unavailable-features``);
    *blockers* are the features that make it unusable.
    """

    name: str
    typename: str | None = None
    usable: bool | None = None
    blockers: tuple[str, ...] = ()
    deprecated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "typename": self.typename,
            "usable": self.usable,
            "blockers": list(self.blockers),
            "deprecated": self.deprecated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CPUModelInfo:
        usable = data.get("usable")
        return cls(
            name=_str(data["name"]),
            typename=_opt_str(data.get("typename")),
            usable=None if usable is None else bool(usable),
            blockers=tuple(_str(b) for b in data.get("blockers", ())),
            deprecated=bool(data.get("deprecated", False)),
        )


@dataclass(frozen=True)
class HostCPUInfo:
    """The CPU QEMU offers a ``host-model`` guest under one accelerator.

    From the static expansion of ``max`` (TCG) or ``host`` (KVM) with
    non-migratable features included: the CPUID vendor string, the
    signature and the names (QEMU's spelling) of the features that are on.
    """

    vendor: str | None
    family: int
    model: int
    stepping: int
    features: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "family": self.family,
            "model": self.model,
            "stepping": self.stepping,
            "features": sorted(self.features),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostCPUInfo:
        return cls(
            vendor=_opt_str(data.get("vendor")),
            family=int(data["family"]),
            model=int(data["model"]),
            stepping=int(data["stepping"]),
            features=frozenset(_str(f) for f in data["features"]),
        )


@dataclass(frozen=True)
class SEVInfo:
    """AMD SEV parameters from ``query-sev-capabilities`` (KVM only)."""

    cbitpos: int
    reduced_phys_bits: int
    pdh: str = ""
    cert_chain: str = ""
    max_guests: int = 0
    max_es_guests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cbitpos": self.cbitpos,
            "reduced_phys_bits": self.reduced_phys_bits,
            "pdh": self.pdh,
            "cert_chain": self.cert_chain,
            "max_guests": self.max_guests,
            "max_es_guests": self.max_es_guests,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SEVInfo:
        return cls(
            cbitpos=int(data["cbitpos"]),
            reduced_phys_bits=int(data["reduced_phys_bits"]),
            pdh=_str(data.get("pdh", "")),
            cert_chain=_str(data.get("cert_chain", "")),
            max_guests=int(data.get("max_guests", 0)),
            max_es_guests=int(data.get("max_es_guests", 0)),
        )


@dataclass(frozen=True)
class SGXInfo:
    """Intel SGX from ``query-sgx-capabilities`` (KVM only); EPC sizes in bytes."""

    flc: bool
    sgx1: bool
    sgx2: bool
    sections: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flc": self.flc,
            "sgx1": self.sgx1,
            "sgx2": self.sgx2,
            "sections": [list(section) for section in self.sections],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SGXInfo:
        return cls(
            flc=bool(data["flc"]),
            sgx1=bool(data["sgx1"]),
            sgx2=bool(data["sgx2"]),
            sections=tuple((int(node), int(size)) for node, size in data["sections"]),
        )


@dataclass(frozen=True)
class QemuCaps:
    """The probed capabilities of one QEMU binary (see the module docstring)."""

    binary: str
    version: int
    arch: str
    machines: tuple[MachineInfo, ...]
    cpu_models: tuple[str, ...]
    devices: frozenset[str]
    commands: frozenset[str]
    kvm_usable: bool
    package: str = ""
    #: QEMU was built with KVM and the host has /dev/kvm (``query-kvm`` present).
    kvm_supported: bool = False
    #: ``query-cpu-definitions`` under TCG and (when usable) KVM, in QEMU's order.
    tcg_cpu_definitions: tuple[CPUModelInfo, ...] = ()
    kvm_cpu_definitions: tuple[CPUModelInfo, ...] = ()
    #: Facts from the QAPI schema and command-line options (see caps_schema).
    schema_flags: frozenset[str] = frozenset()
    #: Top-level command-line options QEMU knows (``query-command-line-options``).
    command_line_options: frozenset[str] = frozenset()
    tpm_models: tuple[str, ...] = ()
    tpm_types: tuple[str, ...] = ()
    migration_capabilities: tuple[str, ...] = ()
    #: Property names of selected device types (``device-list-properties``).
    device_properties: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sev: SEVInfo | None = None
    sgx: SGXInfo | None = None
    #: Hyper-V enlightenments QEMU offers (libvirt's names: ``spinlocks``...).
    hyperv_features: tuple[str, ...] = ()
    #: The host-model CPU under TCG and (when usable) KVM.
    tcg_host_cpu: HostCPUInfo | None = None
    kvm_host_cpu: HostCPUInfo | None = None

    def __hash__(self) -> int:
        # The device property mapping is not hashable; what identifies a
        # probe is enough for dictionaries and caches keyed by capabilities.
        return hash((self.binary, self.version, self.arch, self.kvm_usable, self.commands))

    # -- machines ---------------------------------------------------------

    def default_machine(self) -> str:
        """The machine QEMU uses when none is given (libvirt's preferred machine)."""
        for machine in self.machines:
            if machine.is_default:
                return machine.name
        # libvirt falls back to the first machine type QEMU listed.
        if self.machines:
            return self.machines[0].name
        raise ConfigUnsupportedError(
            f"Emulator '{self.binary}' does not support any machine type",
            domain=ErrorDomain.QEMU,
        )

    def machine(self, name: str) -> MachineInfo | None:
        """The machine called *name* (canonical name or alias), or None."""
        for machine in self.machines:
            if name in (machine.name, machine.alias):
                return machine
        return None

    def canonical_machine(self, name: str) -> str:
        """The canonical name of machine *name* (``pc`` -> ``pc-i440fx-7.2``)."""
        machine = self.machine(name)
        if machine is None:
            raise ConfigUnsupportedError(
                f"Emulator '{self.binary}' does not support machine type '{name}'",
                domain=ErrorDomain.QEMU,
            )
        return machine.name

    def is_machine_supported(self, name: str) -> bool:
        return self.machine(name) is not None

    # -- devices, commands, CPUs ------------------------------------------

    def has_device(self, qom_type: str) -> bool:
        return qom_type in self.devices

    def has_command(self, name: str) -> bool:
        return name in self.commands

    def has_flag(self, name: str) -> bool:
        """A fact derived from the QAPI schema or command-line options."""
        return name in self.schema_flags

    def device_has_property(self, qom_type: str, prop: str) -> bool:
        return prop in self.device_properties.get(qom_type, frozenset())

    def host_cpu(self, virttype: str) -> HostCPUInfo | None:
        """The host-model CPU as *virttype* ("kvm" or "qemu") offers it."""
        return self.kvm_host_cpu if virttype == "kvm" else self.tcg_host_cpu

    def cpu_definitions(self, virttype: str) -> tuple[CPUModelInfo, ...]:
        """CPU models as seen by *virttype* ("kvm" or "qemu")."""
        if virttype == "kvm":
            return self.kvm_cpu_definitions
        return self.tcg_cpu_definitions

    @property
    def major_minor(self) -> tuple[int, int]:
        return self.version // 1_000_000, (self.version // 1000) % 1000

    # -- persistence ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "binary": self.binary,
            "version": self.version,
            "arch": self.arch,
            "machines": [m.to_dict() for m in self.machines],
            "cpu_models": list(self.cpu_models),
            "devices": sorted(self.devices),
            "commands": sorted(self.commands),
            "kvm_usable": self.kvm_usable,
            "package": self.package,
            "kvm_supported": self.kvm_supported,
            "tcg_cpu_definitions": [c.to_dict() for c in self.tcg_cpu_definitions],
            "kvm_cpu_definitions": [c.to_dict() for c in self.kvm_cpu_definitions],
            "schema_flags": sorted(self.schema_flags),
            "command_line_options": sorted(self.command_line_options),
            "tpm_models": list(self.tpm_models),
            "tpm_types": list(self.tpm_types),
            "migration_capabilities": list(self.migration_capabilities),
            "device_properties": {k: sorted(v) for k, v in sorted(self.device_properties.items())},
            "sev": None if self.sev is None else self.sev.to_dict(),
            "sgx": None if self.sgx is None else self.sgx.to_dict(),
            "hyperv_features": list(self.hyperv_features),
            "tcg_host_cpu": None if self.tcg_host_cpu is None else self.tcg_host_cpu.to_dict(),
            "kvm_host_cpu": None if self.kvm_host_cpu is None else self.kvm_host_cpu.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QemuCaps:
        if not isinstance(data, Mapping):
            raise TypeError("capabilities must be a JSON object")
        sev = data.get("sev")
        props = data.get("device_properties", {})
        if not isinstance(props, Mapping):
            raise TypeError("device_properties must be a JSON object")
        return cls(
            binary=_str(data["binary"]),
            version=int(data["version"]),
            arch=_str(data["arch"]),
            machines=tuple(MachineInfo.from_dict(m) for m in data["machines"]),
            cpu_models=tuple(_str(c) for c in data["cpu_models"]),
            devices=frozenset(_str(d) for d in data["devices"]),
            commands=frozenset(_str(c) for c in data["commands"]),
            kvm_usable=bool(data["kvm_usable"]),
            package=_str(data.get("package", "")),
            kvm_supported=bool(data.get("kvm_supported", False)),
            tcg_cpu_definitions=tuple(
                CPUModelInfo.from_dict(c) for c in data.get("tcg_cpu_definitions", ())
            ),
            kvm_cpu_definitions=tuple(
                CPUModelInfo.from_dict(c) for c in data.get("kvm_cpu_definitions", ())
            ),
            schema_flags=frozenset(_str(f) for f in data.get("schema_flags", ())),
            command_line_options=frozenset(_str(o) for o in data.get("command_line_options", ())),
            tpm_models=tuple(_str(m) for m in data.get("tpm_models", ())),
            tpm_types=tuple(_str(t) for t in data.get("tpm_types", ())),
            migration_capabilities=tuple(_str(c) for c in data.get("migration_capabilities", ())),
            device_properties={_str(k): frozenset(_str(p) for p in v) for k, v in props.items()},
            sev=None if sev is None else SEVInfo.from_dict(sev),
            sgx=None if data.get("sgx") is None else SGXInfo.from_dict(data["sgx"]),
            hyperv_features=tuple(_str(f) for f in data.get("hyperv_features", ())),
            tcg_host_cpu=_host_cpu(data.get("tcg_host_cpu")),
            kvm_host_cpu=_host_cpu(data.get("kvm_host_cpu")),
        )


def _host_cpu(data: object) -> HostCPUInfo | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TypeError("a host CPU must be a JSON object")
    return HostCPUInfo.from_dict(data)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)
