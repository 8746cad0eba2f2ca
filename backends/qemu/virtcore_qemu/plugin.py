"""Plugin registration of the QEMU backend (entry point ``qemu`` in group ``virtcore``).

Cheap to import: the driver modules are imported only when the hooks are called.

* :func:`virtcore_connect_drivers` - the connection driver for ``qemu:///system``,
  ``qemu:///session`` and ``qemu:///embed?root=DIR``;
* :func:`virtcore_state_drivers` - the state driver ``"qemu"`` each host
  initializes (configs, status, reconnect, autostart).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from virtcore.hookspecs import hookimpl

if TYPE_CHECKING:
    from virtcore.driver import ConnectDriver
    from virtcore.state import StateDriver

__all__ = ["virtcore_connect_drivers", "virtcore_state_drivers"]


@hookimpl
def virtcore_connect_drivers() -> list[ConnectDriver]:
    """The QEMU connection driver."""
    from virtcore_qemu.driver import QemuConnectDriver

    return [QemuConnectDriver()]


@hookimpl
def virtcore_state_drivers() -> list[Callable[[], StateDriver]]:
    """The QEMU state driver's factory."""
    from virtcore_qemu.state import QemuStateDriver

    return [QemuStateDriver]
