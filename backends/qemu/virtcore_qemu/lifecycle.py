"""Lifecycle calls of the QEMU hypervisor table: create, start, shutdown, reboot, reset,
suspend, resume, destroy.

Each follows libvirt 9.0's ``qemu_driver.c``: the same preconditions and
errors (``domain is not running``, ``domain is already running``, ...), the
same QMP commands (``system_powerdown``, ``system_reset``, ``stop``, ``cont``)
and the same lifecycle events, most of which come from the QMP event handlers
of :mod:`virtcore_qemu.events`:

* start: ``RESUMED/UNPAUSED`` (CPUs started) then ``STARTED/BOOTED``; with
  ``START_PAUSED``: ``STARTED/BOOTED`` then ``SUSPENDED/PAUSED``;
* suspend: ``SUSPENDED/PAUSED`` (state ``paused/user``); suspending a paused
  guest is a no-op;
* resume: ``RESUMED/UNPAUSED``; a running guest gives "domain is already running";
* shutdown and reboot ask the guest over ACPI; reboot with ``on_reboot``
  ``destroy`` or ``preserve`` becomes a shutdown;
* destroy: SIGTERM, up to 10 s, then SIGKILL unless ``GRACEFUL``; QEMU's
  own ``SHUTDOWN`` on SIGTERM gives ``SHUTDOWN/HOST``, then ``STOPPED/DESTROYED``
  (libvirt's sequence); a transient domain disappears.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from virtcore.driver import HypervisorDriver
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    InvalidArgError,
    OperationFailedError,
    OperationInvalidError,
)
from virtcore.objects import Domain
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.domobj import DomainObj

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore_qemu.qmp import QMPClient
    from virtcore_qemu.state import QemuDriver

__all__ = ["LifecycleCalls", "check_flags"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU

_START_PAUSED = 0x1
_START_AUTODESTROY = 0x2
_START_BYPASS_CACHE = 0x4
_START_FORCE_BOOT = 0x8
_START_VALIDATE = 0x10
_START_RESET_NVRAM = 0x20
_DESTROY_GRACEFUL = 0x1
_POWER_ACPI = 0x1
_POWER_AGENT = 0x2


def check_flags(flags: int, supported: int, function: str) -> None:
    """Refuse flags outside *supported* the way libvirt's ``virCheckFlags`` does."""
    extra = (int(flags) & 0xFFFFFFFF) & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=_QEMU)


class LifecycleCalls(HypervisorDriver):
    """Lifecycle methods of the QEMU hypervisor table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    # -- start ------------------------------------------------------------------------

    def domain_create_xml(self, conn: Connection, xml: str, flags: int) -> Domain:
        """Start a transient domain (or the persistent one with that UUID, with this XML)."""
        from virtcore_qemu import process

        check_flags(
            flags, _START_PAUSED | _START_AUTODESTROY | _START_VALIDATE, "qemuDomainCreateXML"
        )
        # Validated by prepare(), after the qemu post-parse, as libvirt orders it.
        definition = DomainDef.parse(
            xml, validate_schema=bool(flags & _START_VALIDATE), validate=False
        )
        drv = self.driver
        drv.prepare(definition)
        with drv.domains.lock:
            existing = drv.domains.check_new(str(definition.name), str(definition.uuid), live=True)
            obj = existing
            if obj is None:
                obj = DomainObj(config=None, persistent=False, live=definition)
                drv.domains.add(obj)
        with obj.job():
            if obj.is_active():
                raise OperationInvalidError(
                    f"domain '{definition.name}' is already active", domain=_QEMU
                )
            live = DomainDef.parse(definition.format(), inactive=True)
            process.start(drv, obj, paused=bool(flags & _START_PAUSED), live=live)
            self._emit_started(obj, bool(flags & _START_PAUSED))
            return Domain(conn, obj.name, obj.uuid, obj.id)

    def domain_create_with_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Start a defined domain; STARTED/BOOTED."""
        from virtcore_qemu import process
        from virtcore_qemu.saverestore import managed_restore

        check_flags(
            flags,
            _START_PAUSED
            | _START_AUTODESTROY
            | _START_BYPASS_CACHE
            | _START_FORCE_BOOT
            | _START_RESET_NVRAM,
            "qemuDomainCreateWithFlags",
        )
        obj = self._obj(dom)
        with obj.job():
            if obj.is_active():
                raise OperationInvalidError("domain is already running", domain=_QEMU)
            if not managed_restore(self.driver, obj, flags):
                process.start(
                    self.driver,
                    obj,
                    paused=bool(flags & _START_PAUSED),
                    reset_nvram=bool(flags & _START_RESET_NVRAM),
                )
                self._emit_started(obj, bool(flags & _START_PAUSED))
            dom.set_id(obj.id)

    def _emit_started(self, obj: DomainObj, paused: bool) -> None:
        self.driver.emit_lifecycle(
            obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED
        )
        if paused:
            self.driver.emit_lifecycle(
                obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.PAUSED
            )

    # -- stop -------------------------------------------------------------------------

    def domain_destroy_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Kill QEMU (SIGTERM, then SIGKILL unless GRACEFUL); STOPPED/DESTROYED."""
        from virtcore_qemu import process
        from virtcore_qemu.monitor import kill_painfully

        check_flags(flags, _DESTROY_GRACEFUL | 0x2, "qemuDomainDestroyFlags")
        obj = self._obj(dom)
        with obj.lock:
            # Mark first so the EOF the kill causes is not taken for a crash.
            was_destroying, obj.being_destroyed = obj.being_destroyed, True
            eof_before = obj.seen.get("EOF", 0)
            had_monitor = obj.monitor is not None
        try:
            if obj.is_active() and obj.pid:
                kill_painfully(obj.pid, obj.watch, force=not flags & _DESTROY_GRACEFUL)
                if had_monitor:
                    # QEMU's last events (SHUTDOWN on SIGTERM) are handled before STOPPED.
                    obj.wait_event("EOF", eof_before, 5.0)
            with obj.job():
                obj.check_active()
                process.stop(self.driver, obj, DomainShutoffReason.DESTROYED)
                self.driver.emit_lifecycle(
                    obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.DESTROYED
                )
                dom.set_id(-1)
        finally:
            with obj.lock:
                obj.being_destroyed = was_destroying

    def domain_shutdown_flags(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Press the ACPI power button (``system_powerdown``); on_poweroff decides the rest."""
        check_flags(flags, _POWER_ACPI | _POWER_AGENT, "qemuDomainShutdownFlags")
        obj = self._obj(dom)
        with obj.job():
            if obj.state != DomainState.RUNNING or not obj.is_active():
                raise OperationInvalidError("domain is not running", domain=_QEMU)
            self._require_acpi(flags)
            with obj.lock:
                obj.fake_reboot = False
            self._monitor(obj).execute("system_powerdown")

    def domain_reboot(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Reboot through ACPI: a shutdown the driver turns into reset + resume."""
        check_flags(flags, _POWER_ACPI | _POWER_AGENT, "qemuDomainReboot")
        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            self._require_acpi(flags)
            on_reboot = str(obj.definition.on_reboot or "restart")
            is_reboot = on_reboot not in ("destroy", "preserve")
            if not is_reboot:
                log.info("Domain on_reboot setting overridden, shutting down")
            with obj.lock:
                obj.fake_reboot = is_reboot
            self._monitor(obj).execute("system_powerdown")

    def _require_acpi(self, flags: int) -> None:
        if flags & _POWER_AGENT and not flags & _POWER_ACPI:
            raise ArgumentUnsupportedError("QEMU guest agent is not configured", domain=_QEMU)

    def domain_reset(self, conn: Connection, dom: Domain, flags: int) -> None:
        """Reset the machine (``system_reset``); the REBOOT event follows."""
        check_flags(flags, 0, "qemuDomainReset")
        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            with obj.lock:
                before = obj.seen.get("RESET", 0)
            self._monitor(obj).execute("system_reset")
            obj.wait_event("RESET", before, 5.0)
            with obj.lock:
                if obj.state == DomainState.CRASHED:
                    obj.set_state(DomainState.PAUSED, DomainPausedReason.CRASHED)
                self.driver.save_status(obj)

    # -- pause ------------------------------------------------------------------------

    def domain_suspend(self, conn: Connection, dom: Domain) -> None:
        """Pause the vCPUs; SUSPENDED/PAUSED (a paused guest stays as it is)."""
        from virtcore_qemu.process import pause_cpus

        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            if obj.state == DomainState.PMSUSPENDED:
                raise OperationInvalidError("domain is pmsuspended", domain=_QEMU)
            if obj.state != DomainState.PAUSED:
                self._monitor(obj)
                pause_cpus(self.driver, obj, DomainPausedReason.USER)
            self.driver.save_status(obj)

    def domain_resume(self, conn: Connection, dom: Domain) -> None:
        """Run the vCPUs again; RESUMED/UNPAUSED."""
        from virtcore_qemu.process import run_cpus

        obj = self._obj(dom)
        with obj.job():
            obj.check_active()
            state = obj.state
            if state == DomainState.PMSUSPENDED:
                raise OperationInvalidError("domain is pmsuspended", domain=_QEMU)
            if state == DomainState.RUNNING:
                raise OperationInvalidError("domain is already running", domain=_QEMU)
            if state in (DomainState.PAUSED, DomainState.CRASHED):
                self._monitor(obj)
                run_cpus(self.driver, obj, DomainRunningReason.UNPAUSED)
            self.driver.save_status(obj)

    def _monitor(self, obj: DomainObj) -> QMPClient:
        """The monitor of a running guest, or libvirt's error when QEMU is gone."""
        client = obj.monitor
        if client is None or client.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        return client
