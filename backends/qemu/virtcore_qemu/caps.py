"""QEMU capabilities: probing, the per-binary cache and emulator lookup.

The public face of the capabilities subsystem (the pieces live in
:mod:`~virtcore_qemu.caps_model`, :mod:`~virtcore_qemu.caps_probe` and
:mod:`~virtcore_qemu.caps_schema`):

* :class:`QemuCaps`, :class:`MachineInfo`, :class:`CPUModelInfo` — what a
  binary can do; :func:`probe` learns it from the binary over QMP.
* :class:`CapsCache` — libvirt's capabilities cache: one JSON file per binary
  under a cache directory, reused while the binary is unchanged (path, size,
  mtime, ctime, inode), the QEMU module directory is unchanged, the
  usability of ``/dev/kvm`` (and, with KVM, the kernel release and CPU
  microcode) is unchanged and the cache format and virtcore version are
  current;
  otherwise the binary is probed again. Thread-safe: concurrent lookups of
  one binary probe it once. A corrupt or foreign cache file is logged and
  replaced, never fatal.
* :func:`find_emulator` / :func:`installed_emulators` — libvirt's
  ``virQEMUCapsFindBinaryForArch``: ``qemu-system-<target>`` searched in
  ``PATH`` then ``/usr/bin``; unknown architectures and architectures no
  installed emulator serves get libvirt's ``VIR_ERR_INVALID_ARG`` texts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, SystemCallError, VirtError
from virtcore.store import atomic_write
from virtcore_qemu.caps_model import (
    CPUModelInfo,
    HostCPUInfo,
    MachineInfo,
    QemuCaps,
    SEVInfo,
    SGXInfo,
    encode_version,
)
from virtcore_qemu.caps_probe import (
    DEFAULT_PROBE_TIMEOUT,
    KVM_DEVICE,
    kvm_device_usable,
    probe,
)

__all__ = [
    "ARCH_WORDSIZE",
    "CACHE_FORMAT_VERSION",
    "DEFAULT_PROBE_TIMEOUT",
    "KVM_DEVICE",
    "BinaryFingerprint",
    "CPUModelInfo",
    "CapsCache",
    "HostCPUInfo",
    "MachineInfo",
    "QemuCaps",
    "SEVInfo",
    "SGXInfo",
    "encode_version",
    "find_emulator",
    "guest_is_native",
    "host_arch",
    "host_state",
    "installed_emulators",
    "kvm_device_usable",
    "probe",
    "qemu_target",
]

log = logging.getLogger(__name__)

#: Bumped whenever the cached JSON's shape or the probe's meaning changes.
CACHE_FORMAT_VERSION = 2

#: Where Debian's QEMU keeps its loadable modules (display, audio, block
#: drivers): installing one changes what the binary can do.
QEMU_MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/qemu", "/usr/lib/qemu", "/usr/lib64/qemu")

#: libvirt's architectures (virArch order) with their word sizes.
ARCH_WORDSIZE: dict[str, int] = {
    "alpha": 64, "armv6l": 32, "armv7l": 32, "armv7b": 32, "aarch64": 64, "cris": 32,
    "i686": 32, "ia64": 64, "lm32": 32, "loongarch64": 64, "m68k": 32, "microblaze": 32,
    "microblazeel": 32, "mips": 32, "mipsel": 32, "mips64": 64, "mips64el": 64,
    "openrisc": 32, "parisc": 32, "parisc64": 64, "ppc": 32, "ppcle": 32, "ppc64": 64,
    "ppc64le": 64, "ppcemb": 32, "riscv32": 32, "riscv64": 64, "s390": 32, "s390x": 64,
    "sh4": 32, "sh4eb": 64, "sparc": 32, "sparc64": 64, "unicore32": 32, "x86_64": 64,
    "xtensa": 32, "xtensaeb": 32,
}  # fmt: skip

_SEARCH_FALLBACK = ("/usr/bin",)


def host_arch() -> str:
    """This host's architecture in libvirt's naming."""
    machine = platform.machine()
    return {"i386": "i686", "i586": "i686", "amd64": "x86_64", "arm64": "aarch64"}.get(
        machine, machine
    )


def qemu_target(arch: str) -> str:
    """The ``qemu-system-*`` suffix for a libvirt architecture (i686 -> i386)."""
    return {"i686": "i386", "armv7l": "arm", "openrisc": "or1k"}.get(arch, arch)


def guest_is_native(host: str, guest: str) -> bool:
    """libvirt's virQEMUCapsGuestIsNative: can *guest* use KVM on *host*."""
    if host == guest:
        return True
    ppc64 = {"ppc64", "ppc64le"}
    return (
        (host == "x86_64" and guest == "i686")
        or (host == "aarch64" and guest == "armv7l")
        or (host in ppc64 and guest in ppc64)
    )


def _find_target_arch(host: str, guest: str) -> str:
    if guest_is_native(host, guest):
        guest = host
    if guest in ("ppc64", "ppc64le"):
        guest = "ppc64"
    return guest


def _search_path() -> list[str]:
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    dirs.extend(d for d in _SEARCH_FALLBACK if d not in dirs)
    return dirs


def _find_binary(name: str, dirs: Iterable[str]) -> str | None:
    for directory in dirs:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _binary_for_arch(arch: str, dirs: list[str], hostarch: str) -> str | None:
    # armv7l guests only get KVM on aarch64 hosts through qemu-system-aarch64.
    if hostarch == "aarch64" and arch == "armv7l":
        found = _find_binary(f"qemu-system-{qemu_target(hostarch)}", dirs)
        if found:
            return found
    found = _find_binary(f"qemu-system-{qemu_target(arch)}", dirs)
    if found:
        return found
    target = _find_target_arch(hostarch, arch)
    if target != arch:
        return _find_binary(f"qemu-system-{qemu_target(target)}", dirs)
    return None


def find_emulator(arch: str, *, hostarch: str | None = None) -> str:
    """The emulator libvirt picks for guests of *arch* on this host.

    Raises :class:`InvalidArgError` "unknown architecture: X" for a name
    libvirt does not know and "unable to find any emulator to serve 'X'
    architecture" when no installed ``qemu-system-*`` serves it.
    """
    if arch not in ARCH_WORDSIZE:
        raise InvalidArgError(f"unknown architecture: {arch}", domain=ErrorDomain.QEMU)
    found = _binary_for_arch(arch, _search_path(), hostarch or host_arch())
    if found is None:
        raise InvalidArgError(
            f"unable to find any emulator to serve '{arch}' architecture",
            domain=ErrorDomain.QEMU,
        )
    return found


def installed_emulators(*, hostarch: str | None = None) -> list[tuple[str, str]]:
    """``(arch, emulator)`` for every architecture an installed QEMU serves.

    In libvirt's architecture order, as ``virsh capabilities`` lists guests.
    """
    dirs = _search_path()
    host = hostarch or host_arch()
    result: list[tuple[str, str]] = []
    for arch in ARCH_WORDSIZE:
        found = _binary_for_arch(arch, dirs, host)
        if found is not None:
            result.append((arch, found))
    return result


# -- the cache ---------------------------------------------------------------


@dataclass(frozen=True)
class BinaryFingerprint:
    """What identifies one build of a binary on disk (libvirt's ctime check, widened)."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    module_dir_mtime_ns: int

    @classmethod
    def of(cls, path: str) -> BinaryFingerprint:
        try:
            st = os.stat(path)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"Cannot check QEMU binary {path}", exc, domain=ErrorDomain.QEMU
            ) from exc
        return cls(
            path=path,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            ctime_ns=st.st_ctime_ns,
            inode=st.st_ino,
            module_dir_mtime_ns=_module_dir_mtime(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "ctime_ns": self.ctime_ns,
            "inode": self.inode,
            "module_dir_mtime_ns": self.module_dir_mtime_ns,
        }


def _module_dir_mtime() -> int:
    for directory in QEMU_MODULE_DIRS:
        try:
            return os.stat(directory).st_mtime_ns
        except OSError:
            continue
    return 0


def _microcode() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            head = info.read(8192)
    except OSError:
        return None
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "microcode":
            return value.strip()
    return None


def host_state(kvm: bool) -> dict[str, Any]:
    """What besides the binary decides the probe: KVM, and with KVM the kernel and microcode.

    As in libvirt, a new kernel or CPU microcode changes what KVM offers
    (host-model CPU, CPU model usability), so it invalidates KVM probes.
    """
    if not kvm:
        return {"kvm": False}
    return {"kvm": True, "kernel": platform.release(), "microcode": _microcode()}


@dataclass
class _Entry:
    caps: QemuCaps
    fingerprint: BinaryFingerprint
    state: dict[str, Any]


class CapsCache:
    """Probed capabilities per binary, kept in memory and as JSON under *cache_dir*.

    *kvm_check* tells whether the host's KVM device is usable (injectable so
    tests can simulate a host without KVM); *probe_timeout* bounds each probe.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike[str],
        *,
        kvm_check: Callable[[], bool] = kvm_device_usable,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._kvm_check = kvm_check
        self._timeout = probe_timeout
        self._lock = threading.Lock()
        self._binary_locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, _Entry] = {}
        #: Number of probes run (observable so callers can tell hits from misses).
        self.probes = 0

    def get(self, binary: str | os.PathLike[str]) -> QemuCaps:
        """The capabilities of *binary*, probing it only when nothing valid is cached."""
        path = os.fspath(binary)
        with self._lock:
            lock = self._binary_locks.setdefault(path, threading.Lock())
        with lock:
            fingerprint = BinaryFingerprint.of(path)
            kvm = self._kvm_check()
            state = host_state(kvm)
            entry = self._entries.get(path)
            if entry is not None and entry.fingerprint == fingerprint and entry.state == state:
                return entry.caps
            caps = self._load(path, fingerprint, state)
            if caps is None:
                caps = probe(path, timeout=self._timeout, kvm_check=lambda: kvm)
                with self._lock:
                    self.probes += 1
                self._save(path, fingerprint, state, caps)
            self._entries[path] = _Entry(caps, fingerprint, state)
            return caps

    def cached(self) -> list[QemuCaps]:
        """Every capabilities set currently held in memory."""
        with self._lock:
            return [entry.caps for entry in self._entries.values()]

    def invalidate(self, binary: str | os.PathLike[str] | None = None) -> None:
        """Forget *binary* (or everything) in memory; the next get checks the file again."""
        with self._lock:
            if binary is None:
                self._entries.clear()
            else:
                self._entries.pop(os.fspath(binary), None)

    def cache_file(self, binary: str | os.PathLike[str]) -> Path:
        """The JSON file holding *binary*'s capabilities (named by its path's hash)."""
        digest = hashlib.sha256(os.fspath(binary).encode()).hexdigest()
        return self.cache_dir / f"{digest}.json"

    # -- persistence ------------------------------------------------------

    def _load(
        self, path: str, fingerprint: BinaryFingerprint, state: dict[str, Any]
    ) -> QemuCaps | None:
        file = self.cache_file(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read QEMU capabilities cache %s: %s", file, exc)
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            if data.get("format") != CACHE_FORMAT_VERSION:
                log.info("QEMU capabilities cache %s has an old format, re-probing", file)
                return None
            if data.get("virtcore_version") != _virtcore_version():
                log.info("QEMU capabilities cache %s written by another virtcore", file)
                return None
            if data.get("fingerprint") != fingerprint.to_dict():
                log.info("QEMU binary %s changed since it was probed, re-probing", path)
                return None
            if data.get("host") != state:
                log.info("KVM, kernel or microcode changed since %s was probed, re-probing", path)
                return None
            caps = QemuCaps.from_dict(data["caps"])
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("corrupt QEMU capabilities cache %s (%s), re-probing", file, exc)
            return None
        if caps.binary != path:
            log.warning("QEMU capabilities cache %s belongs to %s, re-probing", file, caps.binary)
            return None
        return caps

    def _save(
        self, path: str, fingerprint: BinaryFingerprint, state: dict[str, Any], caps: QemuCaps
    ) -> None:
        data = {
            "format": CACHE_FORMAT_VERSION,
            "virtcore_version": _virtcore_version(),
            "fingerprint": fingerprint.to_dict(),
            "host": state,
            "caps": caps.to_dict(),
        }
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(self.cache_file(path), json.dumps(data, indent=1) + "\n", mode=0o644)
        except (OSError, VirtError) as exc:
            # The probe result is still good for this process; only reuse
            # across restarts is lost.
            log.warning("cannot save QEMU capabilities for %s: %s", path, exc)


def _virtcore_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("virtcore-qemu")
    except metadata.PackageNotFoundError:
        return "unknown"
