"""The QEMU state driver and the driver instance it initializes.

:class:`QemuDriver` is one driver instance on one host (libvirt's
``virQEMUDriver``): its directories, domain list, event source, capability
cache and the lookup into the storage driver. :class:`QemuStateDriver` is the
state driver ``"qemu"`` a :class:`~virtcore.state.Host` initializes:

1. take the :class:`~virtcore.store.DirectoryLock` of the runtime directory, so
   two processes never manage the same guests (the second gets an error naming
   the owner);
2. load the persistent definitions and autostart links of ``config_dir``;
3. load every status file of ``state_dir`` and reconnect to each guest whose
   QEMU still runs (pid alive and monitor answering); the others are marked
   shut off with libvirt's reason (``crashed``) and their status removed;
4. resolve the volume disks of reconnected guests lazily through
   ``ctx.lookup("storage", ...)``: a guest whose pool is gone keeps running,
   is marked (control state ``error``, a message in ``virDomainGetMessages``),
   gets a ``CONTROL_ERROR`` event and a log record - it is never killed;
5. once per host boot (:meth:`StateContext.should_autostart`), start the
   autostart guests in deferred work, after every driver's initialize.

:meth:`QemuStateDriver.cleanup` closes the monitors without stopping guests
and releases the directory lock.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from virtcore.enums.domain_events import DomainEventID, DomainEventType
from virtcore.errors import VirtError
from virtcore.events import Event, EventKind, EventSource, ObjectIdentity
from virtcore.state import InitResult, StateContext, StateDriver
from virtcore.store import ConfigStore, DirectoryLock, StatePaths
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.domobj import DomainList, DomainObj, VolumeInfo
from virtcore_qemu.paths import DRIVER_NAME, DomainPaths

if TYPE_CHECKING:
    from virtcore.state import Host
    from virtcore_qemu.caps import CapsCache
    from virtcore_qemu.caps_model import QemuCaps

__all__ = ["QemuDriver", "QemuStateDriver"]

log = logging.getLogger(__name__)


class QemuDriver:
    """One QEMU driver instance: the state every connection to a host shares."""

    def __init__(
        self, ctx: StateContext, paths: StatePaths, events: EventSource | None = None
    ) -> None:
        self.ctx = ctx
        self.paths = paths
        self.domains = DomainList()
        self.events = events if events is not None else EventSource()
        self.configs = ConfigStore(paths.config_dir, kind="domain")
        self.closing = False
        self._caps_cache: CapsCache | None = None
        self._caps_lock = threading.Lock()

    @property
    def host(self) -> Host:
        """The host this instance belongs to."""
        return self.ctx.host

    @property
    def privileged(self) -> bool:
        """True for ``qemu:///system``."""
        return self.ctx.privileged

    @property
    def embedded_root(self) -> Path | None:
        """The root of ``qemu:///embed?root=DIR``, else None."""
        return self.ctx.root

    def files(self, name: str) -> DomainPaths:
        """The files of domain *name*."""
        return DomainPaths(self.paths, name)

    # -- capabilities and definitions ---------------------------------------

    @property
    def caps_cache(self) -> CapsCache:
        """The capability cache of this instance (``<cache_dir>/capabilities``)."""
        from virtcore_qemu.caps import CapsCache

        with self._caps_lock:
            if self._caps_cache is None:
                self._caps_cache = CapsCache(self.paths.cache_dir / "capabilities")
            return self._caps_cache

    def caps(self, binary: str) -> QemuCaps:
        """The probed capabilities of *binary*, cached under ``cache_dir``."""
        return self.caps_cache.get(binary)

    def emulator_of(self, domain: DomainDef) -> str:
        """The emulator a definition names, or the one for its architecture."""
        from virtcore_qemu.caps import find_emulator

        emulator = domain.devices.emulator
        if emulator:
            return str(emulator)
        return find_emulator(str(domain.os.arch or "x86_64"))

    @property
    def nvram_dir(self) -> Path:
        """Where UEFI variable stores live (libvirt: ``/var/lib/libvirt/qemu/nvram``)."""
        return self.paths.data_dir / "nvram"

    def prepare(self, domain: DomainDef) -> None:
        """The qemu driver's define-time post-parse and validation (in place)."""
        from virtcore_qemu.postparse import DefinePaths, prepare_definition

        paths = DefinePaths(nvram_dir=str(self.nvram_dir))
        prepare_definition(domain, self.caps(self.emulator_of(domain)), paths)

    # -- storage ------------------------------------------------------------

    def translate_volume(self, pool: str, volume: str) -> VolumeInfo:
        """Resolve a volume disk through the storage state driver (waits until it is ready)."""
        lazy = self.ctx.lookup("storage", lambda drv: _translate(drv, pool, volume))
        return lazy.result()

    # -- events ---------------------------------------------------------------

    def emit(self, obj: DomainObj, event_id: int, args: tuple[Any, ...] = ()) -> None:
        """Queue a domain event for every connection to this host."""
        ident = ObjectIdentity(EventKind.DOMAIN, obj.name, obj.uuid, obj.id)
        self.events.emit(Event(kind=EventKind.DOMAIN, event_id=int(event_id), obj=ident, args=args))

    def emit_lifecycle(self, obj: DomainObj, event: DomainEventType, detail: int) -> None:
        """Queue a lifecycle event."""
        self.emit(obj, DomainEventID.LIFECYCLE, (int(event), int(detail)))

    # -- persistence ----------------------------------------------------------

    def save_config(self, obj: DomainObj) -> None:
        """Write the persistent definition atomically."""
        assert obj.config is not None
        self.configs.save(obj.name, obj.config.format(_INACTIVE | _SECURE))

    def save_status(self, obj: DomainObj) -> None:
        """Write the live status of a running guest atomically (not fsync'ed: it
        describes processes that cannot survive the host)."""
        from virtcore_qemu.process import status_record
        from virtcore_qemu.status import write_status

        if not obj.is_active() or obj.live is None:
            return
        write_status(self.files(obj.name).status, status_record(self, obj))


_INACTIVE = 0x2
_SECURE = 0x1


def _translate(drv: StateDriver, pool: str, volume: str) -> VolumeInfo:
    translate = getattr(drv, "translate_volume", None)
    if translate is None:
        raise VirtError(f"state driver '{drv.name}' cannot translate volumes")
    result: VolumeInfo = translate(pool, volume)
    return result


class QemuStateDriver(StateDriver):
    """State driver ``"qemu"``; see the module documentation."""

    name = DRIVER_NAME

    def __init__(self) -> None:
        #: Domain events of this host; exists before ``initialize`` so that
        #: events of the reconnection (``CONTROL_ERROR``) can be observed.
        self.events = EventSource()
        self.driver: QemuDriver | None = None
        self._lock: DirectoryLock | None = None

    def initialize(self, ctx: StateContext) -> InitResult:
        """Load, reconnect and (once per boot) autostart; see the module documentation."""
        from virtcore_qemu.process import autostart_all, load_configs, reconnect_all

        paths = ctx.paths()
        paths.ensure()
        lock = DirectoryLock(paths.state_dir, _owner_name())
        lock.acquire()
        try:
            driver = QemuDriver(ctx, paths, self.events)
            load_configs(driver)
            reconnect_all(driver)
            if ctx.should_autostart():
                ctx.defer(lambda: autostart_all(driver), name="qemu-autostart")
        except BaseException:
            lock.release()
            raise
        self.driver, self._lock = driver, lock
        log.debug("qemu driver initialized under %s", paths.state_dir)
        return InitResult.COMPLETE

    def cleanup(self) -> None:
        """Close every monitor (guests keep running) and release the directory."""
        from virtcore_qemu.process import detach_all

        driver, self.driver = self.driver, None
        if driver is not None:
            driver.closing = True
            detach_all(driver)
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()


def _owner_name() -> str:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return f"{program} (virtcore qemu driver)"
