"""State drivers and host initialization.

A host runs *state drivers*: hypervisor drivers (qemu, lxc, ...) and the
secondary drivers they rely on (storage, network, secret, nodedev, nwfilter,
interface). Each driver's :meth:`StateDriver.initialize` loads its configs and
live status, reconnects to what still runs and, once per host boot, autostarts
what is marked autostart — libvirt's ``stateInitialize``.

libvirt orders drivers by registration order only, and once killed healthy
guests because qemu reconnected them before the storage driver had autostarted
the pool holding their disks. :class:`Host` replaces ordering-by-luck with one
rule:

    Secondary-driver lookups made during initialization resolve lazily, once
    every initialize has returned, against the provider's fully initialized
    state: its own autostart included and, if the provider deferred work with
    :meth:`StateContext.defer`, after that work finished.

Contract, as the tests pin it down:

* :meth:`Host.initialize` calls ``initialize`` in registration order. A driver
  that raises or returns :attr:`InitResult.ERROR` stops the walk (later drivers
  stay uninitialized), the host becomes :attr:`HostState.FAILED` and the drivers
  that completed are cleaned up in reverse order. The failing driver is not
  cleaned up by the host: like libvirt's drivers, it undoes its own partial work.
* :meth:`StateContext.lookup` returns a :class:`Lazy`. Forcing it while the host
  is still calling ``initialize`` raises :class:`~virtcore.errors.InternalError`
  naming both drivers rather than deadlocking; use :meth:`Lazy.then` or
  :meth:`StateContext.defer` instead.
* Deferred work runs on its own thread after every ``initialize`` returned
  (:attr:`HostState.RESOLVING`); it may force lookups. Waits between drivers
  form a wait-for graph; a wait that would close a cycle raises
  ``InternalError("dependency cycle between state drivers: a -> b -> a")``.
* A lookup of a kind nobody provides (or whose provider returned
  :attr:`InitResult.SKIPPED`) fails with :class:`~virtcore.errors.NoSupportError`
  carrying libvirt's dedicated "driver missing" code for the kind
  (``VIR_WAR_NO_STORAGE`` "Failed to find a storage driver", ``VIR_WAR_NO_NETWORK``,
  ``VIR_WAR_NO_NODE``, ``VIR_WAR_NO_SECRET``, ``VIR_WAR_NO_NWFILTER``,
  ``VIR_WAR_NO_INTERFACE``; ``VIR_ERR_NO_SUPPORT`` for other kinds) and the
  detail "no state driver provides 'storage'".
* Every lazy resolves exactly once; continuations registered with
  :meth:`Lazy.then` run on the host's resolver thread (or at once if already
  resolved), including when the host fails and its pending lookups are abandoned
  (:class:`~virtcore.errors.OperationAbortedError`).
* :meth:`Host.wait_ready` lets client calls wait until all of this is finished.
* :meth:`Host.reload`, :meth:`Host.stop` and :meth:`Host.shutdown` follow
  libvirt's ``virStateReload``/``virStateStop``/``virStateShutdownPrepare``/
  ``virStateShutdownWait``/``virStateCleanup`` (cleanup in reverse order).
* :meth:`StateContext.should_autostart` is libvirt's ``virDriverShouldAutostart``:
  an ``autostarted`` marker (mode 0600) in the driver's runtime state directory
  makes autostart happen once per host boot.

Every blocking wait is bounded; ``timeout=None`` means the host's
``wait_timeout`` (:data:`DEFAULT_WAIT_TIMEOUT` unless given).
"""

from virtcore.state.base import (
    DEFAULT_WAIT_TIMEOUT,
    SECONDARY_KINDS,
    HostState,
    InitResult,
    StateContext,
    StateDriver,
    StateDriverError,
    StateFailure,
)
from virtcore.state.host import Host
from virtcore.state.lazy import Lazy

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "SECONDARY_KINDS",
    "Host",
    "HostState",
    "InitResult",
    "Lazy",
    "StateContext",
    "StateDriver",
    "StateDriverError",
    "StateFailure",
]
