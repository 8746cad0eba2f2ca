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

Modules: :mod:`.machine` (head: name, machine, CPU, memory, monitor, clock,
boot), :mod:`.controllers`, :mod:`.disks`, :mod:`.net`, :mod:`.chardev`,
:mod:`.graphics` (inputs, audio, VNC, video), :mod:`.misc` (watchdog,
balloon, RNG, sandbox), :mod:`.support` (what cannot be written).
"""

from __future__ import annotations

import logging

from virtcore.xml.domain import Domain
from virtcore_qemu.command.chardev import build_channels, build_consoles, build_serials
from virtcore_qemu.command.common import Build, unsupported
from virtcore_qemu.command.context import CapsLike, CommandContext, VolumeLike
from virtcore_qemu.command.controllers import build_controllers, build_hubs
from virtcore_qemu.command.disks import build_disks
from virtcore_qemu.command.escape import escape, json_arg, keyval
from virtcore_qemu.command.graphics import build_audio, build_graphics, build_inputs, build_video
from virtcore_qemu.command.machine import build_head
from virtcore_qemu.command.misc import build_balloon, build_rngs, build_tail, build_watchdogs
from virtcore_qemu.command.net import build_interfaces
from virtcore_qemu.command.support import SUPPORTED_DEVICES, check_supported

__all__ = [
    "SUPPORTED_DEVICES",
    "CapsLike",
    "CommandContext",
    "VolumeLike",
    "build_command",
    "escape",
    "json_arg",
    "keyval",
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
    build = Build(root=root, caps=caps, ctx=ctx, argv=[emulator])
    build_head(build)
    build_controllers(build)
    build_hubs(build)
    build_disks(build)
    build_interfaces(build)
    build_serials(build)
    build_channels(build)
    build_consoles(build)
    build_inputs(build)
    build_audio(build)
    build_graphics(build)
    build_video(build)
    build_watchdogs(build)
    build_balloon(build)
    build_rngs(build)
    build_tail(build)
    logger.debug("command line for %s: %s", root.findtext("name"), build.argv)
    return build.argv


# The escape helpers are re-exported as the one public quoting API.
_ = (escape, json_arg, keyval)
