"""Process-wide hosts: one initialized set of state drivers per (privilege, root).

Stateful connection drivers (qemu, storage, network, ...) do not own their
state drivers; the host does. A driver's ``open`` calls :func:`host_for` with
the connection's mode — privileged (``/system``), unprivileged (``/session``)
or embedded (``?root=DIR``) — and gets the :class:`~virtcore.state.Host`
holding every registered state driver for that mode. The first call creates
the host and starts its initialization on a background thread; every call
waits (bounded) until initialization, deferred work and lazy lookups are done.
That is how client calls are served only after initialization completes
(DESIGN.md §4, rule 4), whichever thread or URI arrives first.

:func:`shutdown_hosts` stops every host (reverse-order cleanup), for embedders
and tests.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from virtcore.registry import Registry, default_registry
from virtcore.state import Host, HostState

__all__ = ["host_for", "shutdown_hosts"]

logger = logging.getLogger(__name__)

_HostKey = tuple[bool, str | None, int]

_hosts: dict[_HostKey, Host] = {}
_lock = threading.Lock()


def host_for(
    *,
    privileged: bool,
    root: str | Path | None = None,
    registry: Registry | None = None,
    timeout: float | None = None,
) -> Host:
    """The ready host for this mode, created and initialized on first use.

    Raises the host's initialization failure, or
    :class:`~virtcore.errors.OperationTimeoutError` if it is not ready within
    *timeout* (default: the host's own wait timeout).
    """
    reg = registry if registry is not None else default_registry()
    root_key = os.path.realpath(root) if root is not None else None
    key: _HostKey = (privileged, root_key, id(reg))
    with _lock:
        host = _hosts.get(key)
        if host is None or host.state in (HostState.FAILED, HostState.STOPPED):
            drivers = [factory() for factory in reg.state_driver_factories()]
            host = Host(drivers, privileged=privileged, root=root)
            _hosts[key] = host
            thread = threading.Thread(
                target=_initialize, args=(host,), name="virtcore-host-init", daemon=True
            )
            thread.start()
    host.wait_ready(timeout)
    return host


def _initialize(host: Host) -> None:
    try:
        host.initialize()
    except Exception:
        # The failure is kept by the host and raised to every waiter.
        logger.exception("host initialization failed")


def shutdown_hosts(timeout: float | None = None) -> None:
    """Shut down every host this process created (cleanup in reverse driver order)."""
    with _lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        if host.state is HostState.READY:
            host.shutdown(timeout)
