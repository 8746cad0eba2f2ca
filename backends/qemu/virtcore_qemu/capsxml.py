"""The QEMU driver's capabilities documents: ``virsh capabilities`` and ``domcapabilities``.

:func:`capabilities_xml` writes the ``<capabilities>`` document of
``virConnectGetCapabilities``: the host (:mod:`virtcore_qemu.caps_host`) and
one ``<guest>`` per installed emulator (:func:`~virtcore_qemu.caps.installed_emulators`),
each with its word size, emulator, machine types as libvirt lists them
(:func:`guest_machines`: QEMU's default machine first, an alias written
with ``canonical=`` right after its canonical machine), the domain types
(``qemu``; ``kvm`` too when KVM is usable and the guest is native to the
host) and the guest features libvirt reports for the architecture.

:func:`domain_capabilities_xml` writes ``virConnectGetDomainCapabilities``
(:mod:`virtcore_qemu.caps_domcaps`), raising libvirt's errors for a bad
request; *flags* must be 0.

Both read QEMU's capabilities through a :class:`~virtcore_qemu.caps.CapsCache`,
so repeated calls do not start QEMU again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, VirtError
from virtcore.xml.capabilities import Capabilities
from virtcore.xml.capabilities_guest import Guest
from virtcore_qemu.caps import (
    ARCH_WORDSIZE,
    CapsCache,
    QemuCaps,
    guest_is_native,
    host_arch,
    installed_emulators,
)
from virtcore_qemu.caps_domcaps import (
    HostFacts,
    build_domain_capabilities,
    lookup_default,
)
from virtcore_qemu.caps_host import HostPaths, fill_host
from virtcore_qemu.caps_hostcpu import HostCPU, read_host_cpu

__all__ = [
    "build_capabilities",
    "capabilities_xml",
    "domain_capabilities_xml",
    "guest_machines",
]

log = logging.getLogger(__name__)

_X86 = ("x86_64", "i686")


def guest_machines(caps: QemuCaps) -> list[tuple[str, str | None, int, bool]]:
    """``(name, canonical, max_cpus, deprecated)`` in libvirt's capabilities order.

    libvirt lists each machine under its alias when it has one (naming the
    machine as ``canonical``) and then makes sure every canonical name has
    an entry of its own, inserted just before the alias's.
    """
    entries: list[tuple[str, str | None, int, bool]] = []
    for machine in caps.machines:
        if machine.alias:
            entries.append((machine.alias, machine.name, machine.max_cpus, machine.deprecated))
        else:
            entries.append((machine.name, None, machine.max_cpus, machine.deprecated))
    index = 0
    while index < len(entries):
        _name, canonical, max_cpus, deprecated = entries[index]
        if canonical is None or any(e[0] == canonical for e in entries):
            index += 1
            continue
        entries.insert(index, (canonical, None, max_cpus, deprecated))
        index += 2
    return entries


def _add_guest(doc: Capabilities, arch: str, caps: QemuCaps, hostarch: str) -> Guest:
    guest = doc.add_guest("hvm", arch, wordsize=ARCH_WORDSIZE[arch], emulator=caps.binary)
    for name, canonical, max_cpus, deprecated in guest_machines(caps):
        guest.add_machine(name, canonical=canonical, max_cpus=max_cpus, deprecated=deprecated)
    guest.add_domain("qemu")
    if caps.kvm_usable and guest_is_native(hostarch, arch):
        guest.add_domain("kvm")
    if arch == "i686":
        guest.set_feature("pae")
        guest.set_feature("nonpae")
    if arch in _X86 or arch == "aarch64":
        guest.set_feature("acpi", default="on", toggle=True)
    if arch in _X86:
        guest.set_feature("apic", default="on", toggle=False)
    guest.set_feature("cpuselection")
    guest.set_feature("deviceboot")
    guest.set_feature("disksnapshot", default="on", toggle=False)
    return guest


def build_capabilities(
    cache: CapsCache,
    *,
    emulators: Sequence[tuple[str, str]] | None = None,
    host_uuid: str | None = None,
    paths: HostPaths | None = None,
    cpu_reader: Callable[[], HostCPU | None] = read_host_cpu,
) -> Capabilities:
    """The ``<capabilities>`` model: this host and a guest per emulator.

    *emulators* (``(arch, binary)`` pairs) defaults to every installed
    ``qemu-system-*``; a binary that cannot be probed is logged and left
    out, as libvirt does.
    """
    hostarch = host_arch()
    doc = Capabilities()
    fill_host(
        doc.host,
        arch=hostarch,
        uuid=host_uuid,
        paths=paths or HostPaths(),
        cpu_reader=cpu_reader,
    )
    pairs = installed_emulators(hostarch=hostarch) if emulators is None else emulators
    for arch, binary in pairs:
        try:
            caps = cache.get(binary)
        except VirtError as exc:
            # One broken emulator must not hide the others.
            log.warning("cannot probe %s for %s guests: %s", binary, arch, exc)
            continue
        _add_guest(doc, arch, caps, hostarch)
    return doc


def capabilities_xml(
    cache: CapsCache,
    *,
    emulators: Sequence[tuple[str, str]] | None = None,
    host_uuid: str | None = None,
    paths: HostPaths | None = None,
    cpu_reader: Callable[[], HostCPU | None] = read_host_cpu,
) -> str:
    """``virsh capabilities`` for the QEMU driver (see :func:`build_capabilities`)."""
    return build_capabilities(
        cache, emulators=emulators, host_uuid=host_uuid, paths=paths, cpu_reader=cpu_reader
    ).format()


def domain_capabilities_xml(  # noqa: PLR0917 - virConnectGetDomainCapabilities' arguments
    cache: CapsCache,
    emulatorbin: str | None = None,
    arch: str | None = None,
    machine: str | None = None,
    virttype: str | None = None,
    flags: int = 0,
    *,
    facts: HostFacts | None = None,
) -> str:
    """``virsh domcapabilities`` for the QEMU driver, with libvirt's errors."""
    extra = int(flags) & 0xFFFFFFFF
    if extra:
        text = f"unsupported flags ({extra:#x}) in function qemuConnectGetDomainCapabilities"
        raise InvalidArgError(text, message=text, domain=ErrorDomain.QEMU)
    target = lookup_default(cache, emulatorbin, arch, machine, virttype)
    return build_domain_capabilities(target, facts).format()
