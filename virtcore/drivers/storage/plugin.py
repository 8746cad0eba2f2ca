"""Plugin registration of the built-in host storage driver (scheme ``storage``).

The registry imports this module at start-up, so it stays cheap: the driver
modules are imported only when a hook is called.
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
    """The ``storage:///...`` connection driver."""
    from virtcore.drivers.storage.connect import StorageConnectDriver

    return [StorageConnectDriver()]


@hookimpl
def virtcore_state_drivers() -> list[Callable[[], StateDriver]]:
    """The storage state driver, one per host."""
    from virtcore.drivers.storage.state import StorageStateDriver

    return [StorageStateDriver]
