"""QMP events mapped to domain state changes and virtcore domain events.

Each handler mirrors the one in libvirt 9.0's ``src/qemu/qemu_process.c``:

==================  ===========================================================
QMP event           effect
==================  ===========================================================
``SHUTDOWN``        state ``shutdown`` (reason unknown) and lifecycle
                    ``SHUTDOWN/GUEST|HOST|FINISHED`` unless a reboot is being
                    faked or ``on_poweroff`` is ``restart``; then QEMU is
                    reset and resumed (fake reboot) or killed. Its exit then
                    gives ``STOPPED/SHUTDOWN`` (state ``shutoff/shutdown``).
``STOP``            a running guest becomes ``paused`` with the reason the
                    caller set (``user`` for suspend, else ``unknown``) and
                    ``SUSPENDED/<detail>``; ignored while a shutdown pauses it.
``RESUME``          a guest not running becomes ``running`` with the reason the
                    caller set (``unpaused`` for resume, ``booted`` at start)
                    and ``RESUMED/<detail>``.
``RESET``           the ``REBOOT`` event (not while starting up).
``POWERDOWN``       nothing (libvirt has no handler for it).
``GUEST_PANICKED``  state ``crashed/panicked``, ``CRASHED/PANICKED``, then
                    ``on_crash``: destroy (``STOPPED/CRASHED``), restart
                    (fake reboot) or preserve.
``BLOCK_IO_ERROR``  ``IO_ERROR`` and ``IO_ERROR_REASON`` events; with action
                    ``stop`` a running guest becomes ``paused/ioerror`` with
                    ``SUSPENDED/IOERROR``.
``DEVICE_DELETED``  a detached device is gone: its backends are deleted, it leaves
                    the live definition, ``DEVICE_REMOVED`` with its alias; a
                    vCPU released after the unplug's wait lowers the live
                    ``<vcpu current>`` (QEMU's count) and the status is saved.
monitor EOF         unless being destroyed: ``shutoff/shutdown`` after a
                    ``SHUTDOWN`` event, else ``shutoff/crashed`` with
                    ``STOPPED/FAILED``; a transient domain disappears.
==================  ===========================================================

Handlers run on the monitor's event thread with the domain's lock; work that
needs the domain's job (stopping after EOF, a fake reboot, on_crash destroy)
runs on a thread of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from virtcore.enums.domain import (
    DomainCrashedReason,
    DomainPausedReason,
    DomainRunningReason,
    DomainShutdownReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventCrashedDetailType,
    DomainEventID,
    DomainEventIOErrorAction,
    DomainEventResumedDetailType,
    DomainEventShutdownDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.errors import VirtError
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.qmp import QMPEvent

if TYPE_CHECKING:
    from virtcore_qemu.state import QemuDriver

__all__ = ["apply_resume", "apply_stop", "monitor_callbacks"]

log = logging.getLogger(__name__)

_SUSPEND_DETAIL = {
    DomainPausedReason.MIGRATION: DomainEventSuspendedDetailType.MIGRATED,
    DomainPausedReason.IOERROR: DomainEventSuspendedDetailType.IOERROR,
    DomainPausedReason.WATCHDOG: DomainEventSuspendedDetailType.WATCHDOG,
    DomainPausedReason.FROM_SNAPSHOT: DomainEventSuspendedDetailType.FROM_SNAPSHOT,
    DomainPausedReason.POSTCOPY: DomainEventSuspendedDetailType.POSTCOPY,
    DomainPausedReason.POSTCOPY_FAILED: DomainEventSuspendedDetailType.POSTCOPY_FAILED,
}
_RESUME_DETAIL = {
    DomainRunningReason.MIGRATED: DomainEventResumedDetailType.MIGRATED,
    # libvirt reports a restore's resume as "from snapshot" too.
    DomainRunningReason.RESTORED: DomainEventResumedDetailType.FROM_SNAPSHOT,
    DomainRunningReason.FROM_SNAPSHOT: DomainEventResumedDetailType.FROM_SNAPSHOT,
    DomainRunningReason.POSTCOPY: DomainEventResumedDetailType.POSTCOPY,
    DomainRunningReason.POSTCOPY_FAILED: DomainEventResumedDetailType.POSTCOPY_FAILED,
}
_IO_ACTIONS = {
    "ignore": DomainEventIOErrorAction.NONE,
    "stop": DomainEventIOErrorAction.PAUSE,
    "report": DomainEventIOErrorAction.REPORT,
}


def monitor_callbacks(
    driver: QemuDriver, obj: DomainObj
) -> tuple[Callable[[QMPEvent], None], Callable[[], None]]:
    """The ``on_event``/``on_eof`` pair to give the monitor of *obj*."""

    def on_event(event: QMPEvent) -> None:
        handler = _HANDLERS.get(event.name)
        with obj.changed:
            if handler is not None and obj.is_active():
                handler(driver, obj, event)
            obj.seen[event.name] = obj.seen.get(event.name, 0) + 1
            if event.name == "DEVICE_DELETED" and event.data.get("device"):
                key = f"DEVICE_DELETED:{event.data['device']}"
                obj.seen[key] = obj.seen.get(key, 0) + 1
            obj.changed.notify_all()

    def on_eof() -> None:
        with obj.changed:
            # After every event of this monitor: waiters may rely on that order.
            obj.seen["EOF"] = obj.seen.get("EOF", 0) + 1
            obj.changed.notify_all()
        if driver.closing:
            return
        with obj.lock:
            if obj.being_destroyed or obj.monitor is None:
                log.debug("monitor of '%s' closed as expected", obj.name)
                return
        _in_thread(f"eof-{obj.name}", lambda: _handle_eof(driver, obj))

    return on_event, on_eof


def _in_thread(name: str, fn: Callable[[], None]) -> None:
    def run() -> None:
        try:
            fn()
        except VirtError as exc:
            log.error("%s failed: %s", name, exc)
        except Exception:
            log.exception("%s failed", name)

    threading.Thread(target=run, name=name, daemon=True).start()


def _handle_eof(driver: QemuDriver, obj: DomainObj) -> None:
    """``processMonitorEOFEvent``: the guest is gone; record why and clean up."""
    from virtcore_qemu.process import stop

    with obj.job():
        with obj.lock:
            if not obj.is_active() or obj.being_destroyed:
                return
            if obj.state == DomainState.SHUTDOWN:
                detail, reason = DomainEventStoppedDetailType.SHUTDOWN, DomainShutoffReason.SHUTDOWN
            else:
                log.debug("monitor of '%s' closed without SHUTDOWN; assuming a crash", obj.name)
                detail, reason = DomainEventStoppedDetailType.FAILED, DomainShutoffReason.CRASHED
        driver.emit_lifecycle(obj, DomainEventType.STOPPED, detail)
        stop(driver, obj, reason)


def apply_stop(driver: QemuDriver, obj: DomainObj) -> None:
    """The STOP transition (shared by the handler and a caller that saw no event)."""
    with obj.lock:
        reason = DomainPausedReason(obj.paused_reason)
        obj.paused_reason = int(DomainPausedReason.UNKNOWN)
        if obj.state != DomainState.RUNNING or obj.got_shutdown:
            return
        obj.set_state(DomainState.PAUSED, reason)
        detail = _SUSPEND_DETAIL.get(reason, DomainEventSuspendedDetailType.PAUSED)
        driver.emit_lifecycle(obj, DomainEventType.SUSPENDED, detail)
        driver.save_status(obj)


def apply_resume(driver: QemuDriver, obj: DomainObj) -> None:
    """The RESUME transition (shared by the handler and a caller that saw no event)."""
    with obj.lock:
        reason = DomainRunningReason.UNPAUSED
        if obj.running_reason != DomainRunningReason.UNKNOWN:
            reason = DomainRunningReason(obj.running_reason)
            obj.running_reason = int(DomainRunningReason.UNKNOWN)
        if obj.state == DomainState.RUNNING:
            return
        obj.set_state(DomainState.RUNNING, reason)
        detail = _RESUME_DETAIL.get(reason, DomainEventResumedDetailType.UNPAUSED)
        driver.emit_lifecycle(obj, DomainEventType.RESUMED, detail)
        driver.save_status(obj)


def _on_stop(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    apply_stop(driver, obj)


def _on_resume(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    apply_resume(driver, obj)


def _on_shutdown(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    if obj.state == DomainState.SHUTDOWN:
        return
    on_poweroff = _lifecycle(obj, "on_poweroff", "destroy")
    if not obj.fake_reboot and on_poweroff != "restart":
        obj.set_state(DomainState.SHUTDOWN, DomainShutdownReason.UNKNOWN)
        guest = event.data.get("guest")
        if guest is True:
            detail = DomainEventShutdownDetailType.GUEST
        elif guest is False:
            detail = DomainEventShutdownDetailType.HOST
        else:
            detail = DomainEventShutdownDetailType.FINISHED
        driver.emit_lifecycle(obj, DomainEventType.SHUTDOWN, detail)
        if not obj.being_destroyed:
            # A destroy removes the status file right after: writing it would
            # only delay the monitor's EOF the destroy waits for.
            driver.save_status(obj)
    else:
        obj.got_shutdown = True
    _shutdown_or_reboot(driver, obj)


def _shutdown_or_reboot(driver: QemuDriver, obj: DomainObj) -> None:
    """``qemuProcessShutdownOrReboot``: fake a reboot, or let QEMU go."""
    if obj.fake_reboot or _lifecycle(obj, "on_poweroff", "destroy") == "restart":
        _in_thread(f"reboot-{obj.name}", lambda: _fake_reboot(driver, obj))
    else:
        _kill_nowait(obj)


def _kill_nowait(obj: DomainObj) -> None:
    import os
    import signal

    if obj.pid:
        try:
            os.kill(obj.pid, signal.SIGTERM)
        except OSError as exc:
            log.debug("cannot signal QEMU of '%s': %s", obj.name, exc)


def _fake_reboot(driver: QemuDriver, obj: DomainObj) -> None:
    """``qemuProcessFakeReboot``: reset the machine and run its CPUs again."""
    from virtcore_qemu.process import run_cpus

    ok = False
    try:
        with obj.job():
            if not obj.is_active() or obj.monitor is None:
                log.error("guest '%s' unexpectedly quit", obj.name)
                return
            obj.monitor.execute("system_reset")
            reason = DomainRunningReason.BOOTED
            if obj.state == DomainState.CRASHED:
                reason = DomainRunningReason.CRASHED
            with obj.lock:
                obj.got_shutdown = False
            run_cpus(driver, obj, reason)
            driver.save_status(obj)
            ok = True
    finally:
        with obj.lock:
            obj.got_shutdown = False
            obj.fake_reboot = False
        if not ok and obj.is_active():
            _kill_nowait(obj)


def _on_reset(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    if obj.state == DomainState.PAUSED and obj.reason == DomainPausedReason.STARTING_UP:
        return
    driver.emit(obj, DomainEventID.REBOOT)
    obj.fake_reboot = False
    driver.save_status(obj)


def _on_panic(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    obj.set_state(DomainState.CRASHED, DomainCrashedReason.PANICKED)
    driver.emit_lifecycle(obj, DomainEventType.CRASHED, DomainEventCrashedDetailType.PANICKED)
    driver.save_status(obj)
    action = _lifecycle(obj, "on_crash", "destroy")
    if action in ("destroy", "coredump-destroy"):
        _in_thread(f"panic-{obj.name}", lambda: _destroy_crashed(driver, obj))
    elif action in ("restart", "coredump-restart"):
        obj.fake_reboot = True
        _shutdown_or_reboot(driver, obj)


def _destroy_crashed(driver: QemuDriver, obj: DomainObj) -> None:
    from virtcore_qemu.process import stop

    with obj.job():
        if not obj.is_active():
            return
        obj.being_destroyed = True
        try:
            driver.emit_lifecycle(
                obj, DomainEventType.STOPPED, DomainEventStoppedDetailType.CRASHED
            )
            stop(driver, obj, DomainShutoffReason.CRASHED)
        finally:
            obj.being_destroyed = False


def _on_io_error(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    data = event.data
    action = _IO_ACTIONS.get(str(data.get("action", "report")), DomainEventIOErrorAction.REPORT)
    reason = "enospc" if data.get("nospace") else str(data.get("reason", ""))
    alias = str(data.get("device") or "")
    node = str(data.get("node-name") or "")
    src, dev_alias = _disk_for(obj, alias, node)
    driver.emit(obj, DomainEventID.IO_ERROR, (src, dev_alias, int(action)))
    driver.emit(obj, DomainEventID.IO_ERROR_REASON, (src, dev_alias, int(action), reason))
    if action == DomainEventIOErrorAction.PAUSE and obj.state == DomainState.RUNNING:
        obj.set_state(DomainState.PAUSED, DomainPausedReason.IOERROR)
        driver.emit_lifecycle(
            obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.IOERROR
        )
        driver.save_status(obj)


def _disk_for(obj: DomainObj, alias: str, node: str) -> tuple[str, str]:
    """The source path and alias of the disk QEMU names (``drive-`` prefix optional)."""
    if obj.live is None:
        return "", ""
    wanted = alias.removeprefix("drive-")
    for disk in obj.live.devices.disks:
        if disk.alias and disk.alias in (wanted, alias):
            source = disk.source_file or disk.source_dev or disk.source_dir or ""
            if disk.type == "volume" and disk.source_pool and disk.source_volume:
                vol = obj.volumes.get((str(disk.source_pool), str(disk.source_volume)))
                source = vol.path if vol is not None else ""
            return str(source), str(disk.alias)
    return "", ""


def _on_device_deleted(driver: QemuDriver, obj: DomainObj, event: QMPEvent) -> None:
    alias = str(event.data.get("device") or "")
    if alias in obj.pending_vcpu_removals:
        _in_thread(f"remove-{alias}", lambda: _remove_vcpu(driver, obj, alias))
        return
    if alias not in obj.pending_removals:
        return  # not a device a detach asked for (or a backend without an id)
    _in_thread(f"remove-{alias}", lambda: _remove_device(driver, obj, alias))


def _remove_vcpu(driver: QemuDriver, obj: DomainObj, alias: str) -> None:
    """``qemuDomainRemoveVcpuAlias``: a vCPU the guest released after the unplug's wait."""
    from virtcore_qemu.vcpus import complete_vcpu_removal

    with obj.job():
        if obj.is_active():
            complete_vcpu_removal(driver, obj, alias)


def _remove_device(driver: QemuDriver, obj: DomainObj, alias: str) -> None:
    """``processDeviceDeletedEvent``: finish a removal the guest completed late."""
    from virtcore_qemu.hotplug import complete_removal

    with obj.job():
        if obj.is_active():
            complete_removal(driver, obj, alias)


def _lifecycle(obj: DomainObj, element: str, default: str) -> str:
    if obj.live is None:
        return default
    value = getattr(obj.live, element)
    return str(value) if value else default


_Handler = Callable[["QemuDriver", DomainObj, QMPEvent], None]

_HANDLERS: dict[str, _Handler] = {
    "SHUTDOWN": _on_shutdown,
    "STOP": _on_stop,
    "RESUME": _on_resume,
    "RESET": _on_reset,
    "GUEST_PANICKED": _on_panic,
    "BLOCK_IO_ERROR": _on_io_error,
    "DEVICE_DELETED": _on_device_deleted,
}
