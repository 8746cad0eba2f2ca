"""What :func:`~virtcore_qemu.command.build_command` needs besides the domain and the caps.

:class:`CommandContext` carries the host-side facts a command line depends
on that are not in the domain XML: the monitor socket (or an inherited file
descriptor), the pidfile, the per-domain private directory, the accelerator,
resolved ``type='volume'`` disks, pre-opened tap devices and the directory for
guest-agent and channel sockets. The driver fills it in for each start.

The caps and translated-volume types are described structurally
(:class:`CapsLike`, :class:`VolumeLike`) so this package depends only on the
attributes it reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = ["CapsLike", "CommandContext", "VolumeLike"]

logger = logging.getLogger(__name__)


class CapsLike(Protocol):
    """The parts of :class:`virtcore_qemu.caps.QemuCaps` the command line reads."""

    @property
    def binary(self) -> str:
        """The emulator binary the capabilities were probed from."""
        ...


class VolumeLike(Protocol):
    """A storage volume resolved for a disk (``virtcore.drivers.storage.TranslatedVolume``)."""

    @property
    def disk_type(self) -> str:
        """``file``, ``block``, ``dir`` or ``network``: how QEMU opens the volume."""
        ...

    @property
    def path(self) -> str:
        """The path QEMU opens."""
        ...

    @property
    def format(self) -> str | None:
        """The volume's image format (``raw``, ``qcow2``), if known."""
        ...


@dataclass(frozen=True)
class CommandContext:
    """Host-side inputs of one QEMU command line.

    ``monitor_fd`` (when set) is passed as ``-chardev socket,fd=N``: the
    driver created and bound the socket and QEMU inherits it; otherwise QEMU
    listens on ``monitor_path``. ``volumes`` maps ``(pool, volume)`` of disks
    with ``type='volume'`` to their resolved form. ``tap_fds`` maps an
    interface's netdev id (``hostnet0``...) to pre-opened tap file
    descriptors, as libvirt passes them; interfaces of type ``network`` need
    one. ``vnc_ports`` gives, in ``<graphics>`` order, the TCP port chosen for
    VNC displays with ``autoport='yes'``; without one QEMU is asked to find a
    free display itself. ``chardev_dir`` holds the sockets of channels that
    name no path (the guest agent's). ``vsock_fd`` is the open
    ``/dev/vhost-vsock`` descriptor a ``<vsock>`` needs; ``tpm_socket`` the
    control socket of the ``swtpm`` started for an emulated TPM. virtio-fs
    daemons listen in ``lib_dir`` (``fs0-fs.sock``).
    """

    monitor_path: Path
    pidfile: Path
    lib_dir: Path
    chardev_dir: Path
    accel: str = "tcg"
    monitor_fd: int | None = None
    volumes: Mapping[tuple[str, str], VolumeLike] = field(default_factory=dict)
    tap_fds: Mapping[str, Sequence[int]] = field(default_factory=dict)
    vnc_ports: Sequence[int] = ()
    vsock_fd: int | None = None
    tpm_socket: Path | None = None
