"""State-driver results, the driver base class and the context given to ``initialize``.

Package-internal layout: :mod:`virtcore.state` re-exports the public names;
:class:`StateContext` forwards lookups and deferred work to its
:class:`~virtcore.state.host.Host`.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import NoSupportError, OperationFailedError, SystemCallError, VirtError
from virtcore.store import StatePaths

if TYPE_CHECKING:
    from virtcore.state.host import Host
    from virtcore.state.lazy import Lazy

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Bound, in seconds, of every wait whose caller passed ``timeout=None``.
DEFAULT_WAIT_TIMEOUT = 300.0

#: Secondary kinds hypervisor drivers look up, with the libvirt code and error
#: domain reported when no state driver provides them.
_MISSING_PROVIDER: dict[str, tuple[ErrorNumber, ErrorDomain]] = {
    "storage": (ErrorNumber.WAR_NO_STORAGE, ErrorDomain.STORAGE),
    "network": (ErrorNumber.WAR_NO_NETWORK, ErrorDomain.NETWORK),
    "nodedev": (ErrorNumber.WAR_NO_NODE, ErrorDomain.NODEDEV),
    "secret": (ErrorNumber.WAR_NO_SECRET, ErrorDomain.SECRET),
    "nwfilter": (ErrorNumber.WAR_NO_NWFILTER, ErrorDomain.NWFILTER),
    "interface": (ErrorNumber.WAR_NO_INTERFACE, ErrorDomain.INTERFACE),
}

#: The secondary kinds libvirt knows; drivers may also provide kinds of their own.
SECONDARY_KINDS: frozenset[str] = frozenset(_MISSING_PROVIDER)

_AUTOSTART_MARKER = "autostarted"


class InitResult(enum.IntEnum):
    """What :meth:`StateDriver.initialize` reports (libvirt's ``virDrvStateInitResult``)."""

    ERROR = -1
    SKIPPED = 0
    COMPLETE = 1


class HostState(enum.Enum):
    """Lifecycle of a :class:`Host`."""

    NEW = "new"
    INITIALIZING = "initializing"  # calling initialize() in registration order
    RESOLVING = "resolving"  # deferred work running, lazy lookups resolving
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


class StateFailure(NamedTuple):
    """One driver's failure inside a host-wide operation."""

    driver: str
    operation: str
    error: VirtError


class StateDriverError(OperationFailedError):
    """A host-wide operation (reload, stop, shutdown) failed in one or more drivers.

    The operation still ran on every driver libvirt's semantics call for;
    :attr:`failures` lists what went wrong, in the order it happened.
    """

    def __init__(self, operation: str, failures: Sequence[StateFailure]) -> None:
        text = "; ".join(f"{f.driver} {f.operation}: {f.error}" for f in failures)
        super().__init__(f"{operation} of state drivers failed: {text}")
        self.operation = operation
        self.failures = list(failures)


class StateDriver:
    """Base class of stateful drivers; subclasses override what they need.

    ``name`` identifies the driver (``"qemu"``, ``"storage"``); ``provides``
    names the secondary kinds other drivers may look up in it (see
    :data:`SECONDARY_KINDS`). Methods report failure by raising
    :class:`~virtcore.errors.VirtError`.
    """

    name: str = ""
    provides: frozenset[str] = frozenset()

    def initialize(self, ctx: StateContext) -> InitResult:
        """Load configs and live status, reconnect, autostart once per boot.

        Return :attr:`InitResult.SKIPPED` when the driver does not apply to this
        host; raise or return :attr:`InitResult.ERROR` to fail the host.
        """
        return InitResult.COMPLETE

    def cleanup(self) -> None:
        """Release everything ``initialize`` acquired."""

    def reload(self) -> None:
        """Re-read configuration (SIGHUP)."""

    def stop(self) -> bool:
        """Prepare for host shutdown or session logout; True if it did something."""
        return False

    def shutdown_prepare(self) -> None:
        """First phase of a graceful shutdown: stop accepting new work."""

    def shutdown_wait(self) -> None:
        """Second phase of a graceful shutdown: drain outstanding work."""


class StateContext:
    """What a driver's :meth:`StateDriver.initialize` gets from the host."""

    def __init__(self, host: Host, driver: StateDriver) -> None:
        self._host = host
        self._driver = driver

    @property
    def host(self) -> Host:
        """The host initializing this driver."""
        return self._host

    @property
    def driver(self) -> StateDriver:
        """The driver this context belongs to."""
        return self._driver

    @property
    def privileged(self) -> bool:
        """True for a system instance, False for a per-user session."""
        return self._host.privileged

    @property
    def root(self) -> Path | None:
        """The embedding root directory, or None outside embedded mode."""
        return self._host.root

    def paths(self, name: str | None = None) -> StatePaths:
        """The directories of driver *name* (default: this driver) on this host."""
        return StatePaths.for_driver(
            name or self._driver.name, privileged=self.privileged, root=self.root
        )

    def lookup(self, kind: str, fn: Callable[[StateDriver], T]) -> Lazy[T]:
        """Look something up in the provider of *kind*; *fn* runs once it is ready."""
        return self._host._lookup(self._driver.name, kind, fn)

    def defer(self, fn: Callable[[], None], *, name: str) -> None:
        """Run *fn* on its own thread after every ``initialize`` returned.

        The driver counts as ready — lookups into it resolve — only once all its
        deferred work finished. Deferred work may itself force lookups.
        """
        self._host._defer(self._driver.name, fn, name)

    def should_autostart(self) -> bool:
        """True the first time per host boot, False afterwards.

        Creates ``autostarted`` (mode 0600) in this driver's runtime state
        directory, which lives on a tmpfs and so vanishes at reboot. Creation is
        exclusive, so two processes racing cannot both autostart.
        """
        state_dir = self.paths().state_dir
        marker = state_dir / _AUTOSTART_MARKER
        try:
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"cannot create directory '{state_dir}'", exc
            ) from exc
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            log.debug("Autostart file %s exists, skipping autostart", marker)
            return False
        except OSError as exc:
            raise SystemCallError.from_os_error(f"Failed to create '{marker}'", exc) from exc
        try:
            os.fchmod(fd, 0o600)  # the umask must not widen or narrow the marker
        finally:
            os.close(fd)
        log.debug("Created %s, autostarting %s", marker, self._driver.name)
        return True


def missing_provider_error(kind: str, skipped: str | None) -> NoSupportError:
    """The error of a lookup of *kind* that no initialized driver serves.

    *skipped* names the provider that returned :attr:`InitResult.SKIPPED`, if any.
    """
    code, domain = _MISSING_PROVIDER.get(kind, (ErrorNumber.NO_SUPPORT, ErrorDomain.NONE))
    detail = f"no state driver provides '{kind}'"
    if skipped is not None:
        detail += f" (state driver '{skipped}' skipped initialization)"
    return NoSupportError(detail, code=code, domain=domain)
