"""Plugin registration of the built-in test driver (scheme ``test``).

The registry imports this module at start-up, so it stays cheap: the driver
itself (and lxml) is imported only when the hook is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from virtcore.hookspecs import hookimpl

if TYPE_CHECKING:
    from virtcore.driver import ConnectDriver

__all__ = ["virtcore_connect_drivers"]


@hookimpl
def virtcore_connect_drivers() -> list[ConnectDriver]:
    """The test driver's connection driver, serving ``test:///...`` URIs."""
    from virtcore.drivers.test.driver import TestConnectDriver

    return [TestConnectDriver()]
