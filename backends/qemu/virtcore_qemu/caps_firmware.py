"""QEMU firmware descriptors: which firmware images fit a machine type.

QEMU ships JSON descriptors (``docs/interop/firmware.json``) in
``/usr/share/qemu/firmware``; an administrator may add or mask some in
``/etc/qemu/firmware`` and a user in ``$XDG_CONFIG_HOME/qemu/firmware``. As
in libvirt (``qemu_firmware.c``), a file name found in a more specific
directory replaces the same name in a less specific one, an empty file masks
it, and the descriptors are used in file-name order.

:func:`supported_firmware` answers, for an architecture and a (canonical)
machine type, which firmware kinds are available automatically (``bios``,
``efi``), whether a Secure Boot capable image (one requiring SMM) exists and
which executable images fit. A malformed descriptor is logged and skipped.
When no descriptor fits, callers fall back to :data:`DEFAULT_LOADERS`, the
image list libvirt 9.0 was built with on Debian.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LOADERS",
    "FIRMWARE_DIRS",
    "FirmwareDescriptor",
    "SupportedFirmware",
    "load_descriptors",
    "supported_firmware",
]

log = logging.getLogger(__name__)

#: System descriptor directories, least specific first.
FIRMWARE_DIRS = ("/usr/share/qemu/firmware", "/etc/qemu/firmware")

#: libvirt's built-in loader list (code image, variables template) on Debian.
DEFAULT_LOADERS: tuple[tuple[str, str], ...] = (
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"),
    ("/usr/share/AAVMF/AAVMF32_CODE.fd", "/usr/share/AAVMF/AAVMF32_VARS.fd"),
)


@dataclass(frozen=True)
class FirmwareDescriptor:
    """The parts of one descriptor that capabilities reporting needs."""

    path: str
    interfaces: tuple[str, ...]
    device: str
    executable: str | None
    nvram_template: str | None
    targets: tuple[tuple[str, tuple[str, ...]], ...]
    features: tuple[str, ...]

    def matches(self, arch: str, machine: str) -> bool:
        """True when a target names *arch* and a machine glob matches *machine*."""
        for target_arch, machines in self.targets:
            if target_arch != arch:
                continue
            if any(fnmatch.fnmatchcase(machine, pattern) for pattern in machines):
                return True
        return False


@dataclass(frozen=True)
class SupportedFirmware:
    """What the descriptors offer one machine type."""

    kinds: tuple[str, ...]
    secure: bool
    loaders: tuple[str, ...]


def _user_dir() -> str | None:
    if os.geteuid() == 0:
        return None
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "qemu", "firmware")


def _descriptor_files(dirs: Sequence[str]) -> list[Path]:
    chosen: dict[str, Path] = {}
    for directory in dirs:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".json") and entry.is_file():
                # A later (more specific) directory overrides the same name.
                chosen[entry.name] = Path(entry.path)
    return [chosen[name] for name in sorted(chosen) if chosen[name].stat().st_size > 0]


def _parse(path: Path) -> FirmwareDescriptor:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    mapping = data.get("mapping") or {}
    device = str(mapping.get("device", ""))
    executable: str | None = None
    nvram: str | None = None
    if device == "flash":
        executable = (mapping.get("executable") or {}).get("filename")
        nvram = (mapping.get("nvram-template") or {}).get("filename")
    elif device == "memory":
        executable = mapping.get("filename")
    targets = tuple(
        (str(t["architecture"]), tuple(str(m) for m in t.get("machines", ())))
        for t in data.get("targets", ())
    )
    return FirmwareDescriptor(
        path=str(path),
        interfaces=tuple(str(i) for i in data.get("interface-types", ())),
        device=device,
        executable=str(executable) if executable else None,
        nvram_template=str(nvram) if nvram else None,
        targets=targets,
        features=tuple(str(f) for f in data.get("features", ())),
    )


def load_descriptors(dirs: Sequence[str] | None = None) -> list[FirmwareDescriptor]:
    """Every usable descriptor, in libvirt's order (malformed ones are skipped)."""
    if dirs is None:
        user = _user_dir()
        dirs = (*FIRMWARE_DIRS, user) if user else FIRMWARE_DIRS
    found = []
    for path in _descriptor_files(dirs):
        try:
            found.append(_parse(path))
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("ignoring malformed firmware descriptor %s: %s", path, exc)
    return found


def supported_firmware(
    arch: str, machine: str, descriptors: Sequence[FirmwareDescriptor]
) -> SupportedFirmware:
    """The firmware kinds, Secure Boot ability and images fitting *arch*/*machine*."""
    kinds: set[str] = set()
    secure = False
    loaders: list[str] = []
    for descriptor in descriptors:
        if not descriptor.matches(arch, machine):
            continue
        if "uefi" in descriptor.interfaces:
            kinds.add("efi")
        if "bios" in descriptor.interfaces:
            kinds.add("bios")
        if "requires-smm" in descriptor.features:
            secure = True
        if descriptor.executable:
            loaders.append(descriptor.executable)
    return SupportedFirmware(
        kinds=tuple(k for k in ("bios", "efi") if k in kinds),
        secure=secure,
        loaders=tuple(loaders),
    )
