"""Probe a QEMU binary's capabilities over QMP, the way libvirt does.

:func:`probe` starts ``BINARY -S -no-user-config -nodefaults -nographic
-machine none,accel=tcg -qmp unix:SOCK,server=on,wait=off``, asks QMP what
the binary can do (version, commands, machines, CPU models, QOM types, the
QAPI schema, TPM and migration capabilities, selected device properties,
Hyper-V enlightenments, the host-model CPU of TCG's ``max`` model) and kills
it. When the host's ``/dev/kvm`` is usable and QEMU reports KVM support, a
second process with ``accel=kvm`` learns what changes under KVM (CPU model
usability, the ``host`` CPU, SEV, SGX) — libvirt probes both accelerators
too.

Contract: every process :func:`probe` starts is killed and reaped before it
returns, whatever happens. A binary that is missing or not executable raises
:class:`~virtcore.errors.SystemCallError` (libvirt's "Cannot check QEMU
binary" / "QEMU binary ... is not executable"); a QEMU that fails to start or
to answer raises :class:`~virtcore.errors.InternalError` "Failed to probe
capabilities for BINARY: ..." with QEMU's own error output.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, SystemCallError, VirtError
from virtcore_qemu.caps_hostcpu import read_cpuid
from virtcore_qemu.caps_model import (
    CPUModelInfo,
    HostCPUInfo,
    MachineInfo,
    QemuCaps,
    SEVInfo,
    SGXInfo,
    encode_version,
)
from virtcore_qemu.caps_schema import schema_flags
from virtcore_qemu.qmp import QMPClient, QMPCommandError

__all__ = [
    "DEFAULT_PROBE_TIMEOUT",
    "KVM_DEVICE",
    "kvm_device_usable",
    "probe",
    "read_sev_asids",
    "sev_guest_limits",
]

log = logging.getLogger(__name__)

#: Seconds one probe process may take in total.
DEFAULT_PROBE_TIMEOUT = 30.0

KVM_DEVICE = "/dev/kvm"

#: Device types whose property lists the driver consults (device-list-properties).
_DEVICE_PROPS = (
    "virtio-blk-pci", "virtio-net-pci", "virtio-scsi-pci", "virtio-balloon-pci",
    "virtio-gpu-pci", "virtio-vga", "virtio-rng-pci", "virtio-serial-pci",
    "virtio-iommu-pci", "vhost-user-fs-pci", "usb-redir", "usb-host", "usb-storage",
    "scsi-disk", "scsi-generic", "ide-hd", "ide-cd", "isa-fdc", "VGA", "vmware-svga",
    "qxl", "qxl-vga", "cirrus-vga", "bochs-display", "ramfb", "vfio-pci", "nec-usb-xhci",
    "qemu-xhci", "intel-iommu", "PIIX4_PM", "ICH9-LPC", "mch", "pcie-root-port",
    "pvpanic", "kvm-pit", "tpm-crb", "tpm-tis",
)  # fmt: skip
#: QOM object types whose properties matter (qom-list-properties).
_OBJECT_PROPS = (
    "memory-backend-file", "memory-backend-memfd", "memory-backend-ram", "iothread",
)  # fmt: skip


def kvm_device_usable(path: str = KVM_DEVICE) -> bool:
    """True when *path* opens read-write (libvirt's /dev/kvm access check)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


@dataclass
class _Accel:
    """What one probe process learned."""

    version: int = 0
    package: str = ""
    arch: str = ""
    commands: frozenset[str] = frozenset()
    machines: tuple[MachineInfo, ...] = ()
    cpu_definitions: tuple[CPUModelInfo, ...] = ()
    devices: frozenset[str] = frozenset()
    kvm_present: bool = False
    kvm_enabled: bool = False
    schema_flags: frozenset[str] = frozenset()
    command_line_options: frozenset[str] = frozenset()
    tpm_models: tuple[str, ...] = ()
    tpm_types: tuple[str, ...] = ()
    migration_capabilities: tuple[str, ...] = ()
    device_properties: dict[str, frozenset[str]] = field(default_factory=dict)
    sev: SEVInfo | None = None
    sgx: SGXInfo | None = None
    hyperv_features: tuple[str, ...] = ()
    host_cpu: HostCPUInfo | None = None


def probe(
    binary: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_PROBE_TIMEOUT,
    kvm_check: Callable[[], bool] = kvm_device_usable,
) -> QemuCaps:
    """Probe *binary* and return its capabilities (see the module docstring).

    *kvm_check* says whether this host's KVM device is usable; the KVM probe
    runs only when it returns True and QEMU has KVM support.
    """
    path = os.fspath(binary)
    _check_binary(path)
    tcg = _probe_process(path, "tcg", timeout)
    kvm: _Accel | None = None
    if tcg.kvm_present and kvm_check():
        try:
            kvm = _probe_process(path, "kvm", timeout)
        except VirtError as exc:
            # A host whose KVM refuses this binary runs it with TCG: libvirt
            # reports the domain type 'kvm' unavailable, it does not fail.
            log.warning("KVM probe of %s failed, KVM unavailable: %s", path, exc)
            kvm = None
        if kvm is not None and not kvm.kvm_enabled:
            kvm = None
    caps = QemuCaps(
        binary=path,
        version=tcg.version,
        arch=tcg.arch,
        machines=tcg.machines,
        cpu_models=tuple(c.name for c in tcg.cpu_definitions),
        devices=tcg.devices,
        commands=tcg.commands,
        kvm_usable=kvm is not None,
        package=tcg.package,
        kvm_supported=tcg.kvm_present,
        tcg_cpu_definitions=tcg.cpu_definitions,
        kvm_cpu_definitions=kvm.cpu_definitions if kvm is not None else (),
        schema_flags=tcg.schema_flags,
        command_line_options=tcg.command_line_options,
        tpm_models=tcg.tpm_models,
        tpm_types=tcg.tpm_types,
        migration_capabilities=tcg.migration_capabilities,
        device_properties=dict(tcg.device_properties),
        sev=kvm.sev if kvm is not None else None,
        sgx=kvm.sgx if kvm is not None else None,
        hyperv_features=tcg.hyperv_features,
        tcg_host_cpu=tcg.host_cpu,
        kvm_host_cpu=kvm.host_cpu if kvm is not None else None,
    )
    log.debug(
        "probed %s: version %d, arch %s, %d machines, kvm %s",
        path,
        caps.version,
        caps.arch,
        len(caps.machines),
        caps.kvm_usable,
    )
    return caps


def _check_binary(path: str) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"Cannot check QEMU binary {path}", exc, domain=ErrorDomain.QEMU
        ) from exc
    if not os.access(path, os.X_OK) or not (st.st_mode & 0o111):
        raise SystemCallError.from_os_error(
            f"QEMU binary {path} is not executable",
            OSError(errno.EACCES, os.strerror(errno.EACCES)),
            domain=ErrorDomain.QEMU,
        )


@contextlib.contextmanager
def _qemu_process(path: str, accel: str, timeout: float) -> Iterator[QMPClient]:
    workdir = tempfile.mkdtemp(prefix="virtcore-qemu-probe-")
    sock = Path(workdir, "qmp.sock")
    errlog = Path(workdir, "stderr.log")
    argv = [
        path, "-S", "-no-user-config", "-nodefaults", "-nographic",
        "-machine", f"none,accel={accel}",
        "-qmp", f"unix:{sock},server=on,wait=off",
    ]  # fmt: skip
    proc: subprocess.Popen[bytes] | None = None
    client: QMPClient | None = None
    try:
        with open(errlog, "wb") as err:
            # A clean environment: QEMU must not pick up the caller's display
            # or audio settings while being probed.
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=env,
                    cwd=workdir,
                    close_fds=True,
                    start_new_session=True,
                )
            except OSError as exc:
                raise SystemCallError.from_os_error(
                    f"cannot execute binary {path}", exc, domain=ErrorDomain.QEMU
                ) from exc
        running = proc
        try:
            client = QMPClient.connect(
                sock, name="probe", timeout=timeout, alive=lambda: running.poll() is None
            )
        except VirtError as exc:
            raise _probe_error(path, errlog, running, exc) from exc
        yield client
    finally:
        if client is not None:
            client.close()
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _probe_error(
    path: str, errlog: Path, proc: subprocess.Popen[bytes], exc: VirtError
) -> InternalError:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1.0)
    try:
        stderr = errlog.read_text(errors="replace").strip()
    except OSError:
        stderr = ""
    detail = stderr or (exc.detail or exc.message)
    return InternalError(
        f"Failed to probe capabilities for {path}: {detail}", domain=ErrorDomain.QEMU
    )


def _probe_process(path: str, accel: str, timeout: float) -> _Accel:
    with _qemu_process(path, accel, timeout) as qmp:
        try:
            return _query(qmp, accel, timeout)
        except QMPCommandError as exc:
            raise InternalError(
                f"Failed to probe capabilities for {path}: {exc.detail}", domain=ErrorDomain.QEMU
            ) from exc


def _query(qmp: QMPClient, accel: str, timeout: float) -> _Accel:
    result = _Accel()

    def run(command: str, arguments: dict[str, Any] | None = None) -> Any:
        return qmp.execute(command, arguments, timeout=timeout)

    def optional(command: str, arguments: dict[str, Any] | None = None) -> Any:
        # Commands QEMU may refuse depending on the accelerator or build
        # (SEV without KVM, TPM without backends): absence is the answer.
        if command not in result.commands:
            return None
        try:
            return run(command, arguments)
        except QMPCommandError as exc:
            log.debug("%s: %s", command, exc.desc)
            return None

    version = run("query-version")
    qemu = version.get("qemu", {})
    result.version = encode_version(
        int(qemu.get("major", 0)), int(qemu.get("minor", 0)), int(qemu.get("micro", 0))
    )
    result.package = str(version.get("package", "")).strip()
    result.commands = frozenset(str(c["name"]) for c in run("query-commands"))
    qemu_arch = str(run("query-target").get("arch", ""))
    result.arch = _libvirt_arch(qemu_arch)
    kvm = optional("query-kvm") or {}
    result.kvm_present = bool(kvm.get("present", False))
    result.kvm_enabled = bool(kvm.get("enabled", False))
    result.cpu_definitions = _cpu_definitions(optional("query-cpu-definitions") or [])
    result.host_cpu = _host_cpu(optional, result.arch, accel)
    if accel == "kvm":
        sev = optional("query-sev-capabilities")
        if isinstance(sev, dict):
            max_guests, max_es_guests = sev_guest_limits(read_sev_asids())
            result.sev = SEVInfo(
                cbitpos=int(sev.get("cbitpos", 0)),
                reduced_phys_bits=int(sev.get("reduced-phys-bits", 0)),
                pdh=str(sev.get("pdh", "")),
                cert_chain=str(sev.get("cert-chain", "")),
                max_guests=max_guests,
                max_es_guests=max_es_guests,
            )
        sgx = optional("query-sgx-capabilities")
        if isinstance(sgx, dict):
            result.sgx = SGXInfo(
                flc=bool(sgx.get("flc", False)),
                sgx1=bool(sgx.get("sgx1", False)),
                sgx2=bool(sgx.get("sgx2", False)),
                sections=tuple(
                    (int(section.get("node", 0)), int(section.get("size", 0)))
                    for section in sgx.get("sections", ())
                ),
            )
        return result
    result.machines = _machines(run("query-machines"))
    result.devices = frozenset(str(t["name"]) for t in run("qom-list-types"))
    schema = optional("query-qmp-schema")
    if schema is not None:
        result.schema_flags = schema_flags(schema)
    options = optional("query-command-line-options") or []
    result.command_line_options = frozenset(str(o.get("option", "")) for o in options)
    result.tpm_models = tuple(str(m) for m in optional("query-tpm-models") or ())
    result.tpm_types = tuple(str(t) for t in optional("query-tpm-types") or ())
    result.migration_capabilities = tuple(
        str(c.get("capability", "")) for c in optional("query-migrate-capabilities") or ()
    )
    props: dict[str, frozenset[str]] = {}
    for dev in _DEVICE_PROPS:
        if dev in result.devices:
            listing = optional("device-list-properties", {"typename": dev})
            if listing is not None:
                props[dev] = frozenset(str(p["name"]) for p in listing)
    for obj in _OBJECT_PROPS:
        if obj in result.devices:
            listing = optional("qom-list-properties", {"typename": obj})
            if listing is not None:
                props[obj] = frozenset(str(p["name"]) for p in listing)
    cpu_type = f"max-{qemu_arch}-cpu"
    if cpu_type in result.devices:
        listing = optional("qom-list-properties", {"typename": cpu_type})
        if listing is not None:
            props[cpu_type] = frozenset(str(p["name"]) for p in listing)
    result.device_properties = props
    result.hyperv_features = _hyperv_features(optional, result.arch)
    return result


#: libvirt's Hyper-V enlightenments (virDomainHyperv order).
HYPERV_FEATURES = (
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset",
    "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic",
)  # fmt: skip


def _hyperv_features(optional: Callable[..., Any], arch: str) -> tuple[str, ...]:
    """The enlightenments the full expansion of the ``max`` CPU model offers.

    A boolean ``hv-*`` property counts when on; a valued one (spinlock
    retries, vendor id) counts by being there, as in libvirt.
    """
    if arch not in ("x86_64", "i686"):
        return ()
    expansion = optional("query-cpu-model-expansion", {"type": "full", "model": {"name": "max"}})
    if not isinstance(expansion, dict):
        return ()
    props = expansion.get("model", {}).get("props", {})
    found = []
    for name in HYPERV_FEATURES:
        value = props.get("hv-" + name.replace("_", "-"))
        if value is None or value is False:
            continue
        found.append(name)
    return tuple(found)


def _host_cpu(optional: Callable[..., Any], arch: str, accel: str) -> HostCPUInfo | None:
    """The static expansion of the CPU a host-model guest gets (x86 only).

    ``migratable: false`` keeps features that would block migration (invtsc),
    as libvirt's reported host-model CPU does.
    """
    if arch not in ("x86_64", "i686"):
        return None
    name = "host" if accel == "kvm" else "max"
    expansion = optional(
        "query-cpu-model-expansion",
        {"type": "static", "model": {"name": name, "props": {"migratable": False}}},
    )
    if not isinstance(expansion, dict):
        return None
    props = expansion.get("model", {}).get("props", {})
    if not isinstance(props, dict):
        return None
    vendor = props.get("vendor")
    return HostCPUInfo(
        vendor=str(vendor) if isinstance(vendor, str) else None,
        family=int(props.get("family", 0)),
        model=int(props.get("model", 0)),
        stepping=int(props.get("stepping", 0)),
        features=frozenset(str(k) for k, v in props.items() if v is True),
    )


def read_sev_asids() -> tuple[int, int]:
    """(maximum SEV ASID, minimum SEV ASID) from CPUID 0x8000001F, (0, 0) if unknown."""
    try:
        _eax, _ebx, ecx, edx = read_cpuid(0x8000001F, 0)
    except OSError:
        return 0, 0
    return ecx, edx


def sev_guest_limits(asids: tuple[int, int]) -> tuple[int, int]:
    """(SEV guests, SEV-ES guests) the ASID ranges allow, as libvirt counts them.

    SEV-ES guests use ASIDs 1..min-1 and plain SEV guests min..max (AMD's
    SEV API, section 6.19.1).
    """
    max_asid, min_asid = asids
    if max_asid == 0 or min_asid == 0:
        return 0, 0
    return max_asid - min_asid + 1, min_asid - 1


def _libvirt_arch(qemu_arch: str) -> str:
    # QEMU names a few targets differently from libvirt's virArch.
    return {"i386": "i686", "arm": "armv7l", "or32": "or1k"}.get(qemu_arch, qemu_arch)


def _machines(raw: list[dict[str, Any]]) -> tuple[MachineInfo, ...]:
    machines: list[MachineInfo] = []
    for entry in raw:
        name = str(entry.get("name", ""))
        # libvirt hides the 'none' machine: it exists only for probing.
        if not name or name == "none":
            continue
        machines.append(
            MachineInfo(
                name=name,
                alias=str(entry["alias"]) if entry.get("alias") else None,
                is_default=bool(entry.get("is-default", False)),
                max_cpus=int(entry.get("cpu-max", 0)),
                deprecated=bool(entry.get("deprecated", False)),
                hotplug_cpus=bool(entry.get("hotpluggable-cpus", False)),
                default_cpu_type=str(entry["default-cpu-type"])
                if entry.get("default-cpu-type")
                else None,
                default_ram_id=str(entry["default-ram-id"])
                if entry.get("default-ram-id")
                else None,
                numa_mem_supported=bool(entry.get("numa-mem-supported", False)),
            )
        )
    # libvirt moves QEMU's default machine to the front (its "preferred"
    # machine), keeping the others in QEMU's order.
    for index, machine in enumerate(machines):
        if machine.is_default:
            machines.insert(0, machines.pop(index))
            break
    return tuple(machines)


def _cpu_definitions(raw: list[dict[str, Any]]) -> tuple[CPUModelInfo, ...]:
    models: list[CPUModelInfo] = []
    for entry in raw:
        blockers = entry.get("unavailable-features")
        models.append(
            CPUModelInfo(
                name=str(entry.get("name", "")),
                typename=str(entry["typename"]) if entry.get("typename") else None,
                usable=None if blockers is None else not blockers,
                blockers=tuple(str(b) for b in blockers or ()),
                deprecated=bool(entry.get("deprecated", False)),
            )
        )
    return tuple(models)
