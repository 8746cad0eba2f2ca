"""The plugin contract: hooks a virtcore plugin implements.

A plugin is a module (or object) with ``@hookimpl`` functions, registered under
the ``virtcore`` entry-point group (entry name = backend name) or, for the
built-in drivers, by virtcore itself through the very same plugin manager. The
plugin module must be cheap to import: heavy dependencies (SDKs, transports)
are imported lazily when a connection opens, so one broken backend never slows
down or hides the others.

Example (a complete backend registration)::

    from virtcore.hookspecs import hookimpl

    @hookimpl
    def virtcore_connect_drivers():
        from mybackend.driver import MyConnectDriver
        return [MyConnectDriver()]

Each hook's docstring below is its contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from virtcore.driver import ConnectDriver
    from virtcore.state import StateDriver

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "virtcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def virtcore_connect_drivers() -> Sequence[ConnectDriver]:
    """Return the connection drivers this plugin provides.

    Each is a :class:`virtcore.driver.ConnectDriver` instance declaring
    ``name``, ``schemes`` (``None`` = wildcard, tried after every driver that
    names schemes), ``local_only``, ``remote_only`` and ``embeddable``, and
    implementing ``open(uri, auth, flags)``, which returns the connection's
    :class:`~virtcore.driver.DriverTables`, returns ``None`` to decline (the
    next driver is tried), or raises a :class:`~virtcore.errors.VirtError` to
    fail the open (no further driver is tried).

    Drivers are probed in plugin registration order (built-ins first, then
    entry points in discovery order), wildcard drivers last. Called once per
    registry; the returned objects are shared by every connection, so keep
    per-connection state in the tables ``open`` returns.
    """
    raise NotImplementedError  # pragma: no cover - specification only


@hookspec
def virtcore_state_drivers() -> Sequence[Callable[[], StateDriver]]:
    """Return factories (usually the classes) of this plugin's state drivers.

    A :class:`virtcore.state.Host` calls each factory once to get a fresh
    :class:`~virtcore.state.StateDriver` per host (the system host, a session
    host, each embedded root), then initializes them in registration order
    under the lazy-lookup rule (DESIGN.md §4): lookups into another driver made
    during ``initialize`` resolve only after every driver finished
    initializing. Factories must not do work; ``initialize`` does.
    """
    raise NotImplementedError  # pragma: no cover - specification only
