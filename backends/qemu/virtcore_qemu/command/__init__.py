"""Domain XML -> QEMU command line, the way libvirt 9.0's ``qemu_command.c`` writes it.

``build_command(domain, caps, ctx)`` returns the argv (``argv[0]`` is the
emulator) for a domain that has been through
:func:`virtcore_qemu.postparse.prepare_definition` - defaults filled in,
controllers and addresses assigned - so it only translates; it does not
invent devices. The order, option spelling and ids are libvirt's
(``virsh domxml-to-native qemu-argv`` prints the same text, modulo host
paths, file descriptors and the differences listed in
``backends/qemu/tests/data/argv/DIFFERENCES.md``).

Every XML value reaches argv through :mod:`.escape`: keyval options have
``,`` doubled and JSON options are JSON-quoted, so no value can add an
option or a property. Devices this builder cannot write raise
``ConfigUnsupportedError`` (VIR_ERR_CONFIG_UNSUPPORTED) instead of being
dropped.

Modules: :mod:`.machine` (head: name, firmware, machine, monitor, clock,
boot), :mod:`.cpu` (``-cpu`` and its hypervisor flags), :mod:`.memory`
(``-m``, ``-smp``, I/O threads, NUMA, DIMMs), :mod:`.controllers`,
:mod:`.disks` with :mod:`.blockdev` (image chains), :mod:`.net`, :mod:`.chardev`,
:mod:`.graphics` (inputs, audio, VNC, video, sound cards),
:mod:`.passthrough` (host devices, USB redirection, smartcards, virtio-fs, 9p),
:mod:`.platform` (IOMMU, TPM, panic, ivshmem, vsock), :mod:`.misc`
(watchdog, balloon, RNG, sandbox), :mod:`.support` (what cannot be written),
:mod:`.aliases` (libvirt's device aliases: every ``-device`` id, and the
``<alias>`` of the live XML through :func:`assign_aliases`) and
:mod:`.device` (one device's objects as QMP commands, for hot-plug).
"""

from __future__ import annotations

import logging

from virtcore.xml.domain import Domain
from virtcore_qemu.command.aliases import assign_aliases, device_aliases, new_device_alias
from virtcore_qemu.command.chardev import (
    build_channels,
    build_consoles,
    build_parallels,
    build_serials,
)
from virtcore_qemu.command.common import Build, unsupported
from virtcore_qemu.command.context import CapsLike, CommandContext, VolumeLike
from virtcore_qemu.command.controllers import build_controllers, build_hubs
from virtcore_qemu.command.disks import build_disks
from virtcore_qemu.command.escape import escape, json_arg, keyval
from virtcore_qemu.command.graphics import (
    build_audio,
    build_graphics,
    build_inputs,
    build_sounds,
    build_video,
)
from virtcore_qemu.command.machine import build_head
from virtcore_qemu.command.memory import build_memory_devices
from virtcore_qemu.command.misc import (
    build_balloon,
    build_rngs,
    build_sandbox,
    build_tail,
    build_watchdogs,
)
from virtcore_qemu.command.net import build_interfaces
from virtcore_qemu.command.passthrough import (
    build_ccid_controllers,
    build_filesystems,
    build_hostdevs,
    build_redirdevs,
    build_smartcards,
)
from virtcore_qemu.command.platform import (
    build_iommu,
    build_panic,
    build_shmems,
    build_tpms,
    build_vsock,
)
from virtcore_qemu.command.support import SUPPORTED_DEVICES, check_supported

__all__ = [
    "SUPPORTED_DEVICES",
    "CapsLike",
    "CommandContext",
    "VolumeLike",
    "assign_aliases",
    "build_command",
    "device_aliases",
    "escape",
    "json_arg",
    "keyval",
    "new_device_alias",
]

logger = logging.getLogger(__name__)


def build_command(domain: Domain, caps: CapsLike, ctx: CommandContext) -> list[str]:
    """The QEMU argv for *domain* (already through ``prepare_definition``).

    Raises ``ConfigUnsupportedError`` for devices or settings that cannot be
    written (:func:`~.support.check_supported`).
    """
    root = domain.element
    if root.get("type") not in ("qemu", "kvm"):
        raise unsupported(f"domain type '{root.get('type')}' is not a QEMU domain")
    check_supported(root)
    emulator = root.findtext("devices/emulator") or caps.binary
    build = Build(root=root, caps=caps, ctx=ctx, argv=[emulator], aliases=device_aliases(root))
    build_head(build)
    build_iommu(build)
    build_controllers(build)
    build_memory_devices(build)
    build_hubs(build)
    build_ccid_controllers(build)
    build_disks(build)
    build_filesystems(build)
    build_interfaces(build)
    build_smartcards(build)
    build_serials(build)
    build_parallels(build)
    build_channels(build)
    build_consoles(build)
    build_tpms(build)
    build_inputs(build)
    build_audio(build)
    build_graphics(build)
    build_video(build)
    build_sounds(build)
    build_watchdogs(build)
    build_redirdevs(build)
    build_hostdevs(build)
    build_balloon(build)
    build_rngs(build)
    build_sandbox(build)
    build_panic(build)
    build_shmems(build)
    build_vsock(build)
    build_tail(build)
    logger.debug("command line for %s: %s", root.findtext("name"), build.argv)
    return build.argv


# The escape helpers are re-exported as the one public quoting API.
_ = (escape, json_arg, keyval)
