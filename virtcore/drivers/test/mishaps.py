"""Things that happen to guests on their own: crashes and disk I/O errors.

libvirt's test driver has no way to make a guest crash or hit an I/O error,
so these follow what libvirt's QEMU driver reports for the real events
(``qemu_driver.c`` ``processGuestPanicEvent``, ``qemu_process.c``
``qemuProcessHandleMonitorEOF`` / ``qemuProcessHandleIOError``). Both change
the domain through the host's state, under its lock, so every connection sees
the new state at once (``getState``, ``getInfo``, listings) and receives the
events.

**Crash**, :func:`crash_domain`:

* ``panic`` (the default) - the guest kernel panics (a pvpanic device
  reports it). The domain enters ``CRASHED/PANICKED`` with a
  ``CRASHED/PANICKED`` lifecycle event, then its ``<on_crash>`` action runs:
  ``destroy`` and ``coredump-destroy`` stop it (``SHUTOFF/CRASHED``,
  ``STOPPED/CRASHED`` event; a transient domain disappears), ``restart``,
  ``rename-restart`` and ``coredump-restart`` reset it in place (same id; a
  ``REBOOT`` event, then ``RUNNING/CRASHED`` with a ``RESUMED/UNPAUSED``
  event), ``preserve`` leaves it ``CRASHED/PANICKED``. Only a running
  domain can panic. With the default ``on_crash`` the final state is what
  libvirt's test driver gives ``virDomainCoreDumpWithFormat(VIR_DUMP_CRASH)``.
* ``emulator`` - the hypervisor process dies: ``SHUTOFF/CRASHED`` with a
  ``STOPPED/FAILED`` event, whatever ``<on_crash>`` says. Any active domain
  can lose its emulator.

Crashing a domain that is not active (or, for a panic, not running) fails
like libvirt's state checks: ``VIR_ERR_OPERATION_INVALID`` "domain is not
running" (error domain ``VIR_FROM_DOMAIN``).

**I/O error**, :func:`io_error`: the domain's disk reports an error. An
``IO_ERROR`` event (source path, device alias, action) and an
``IO_ERROR_REASON`` event (the same plus the reason, ``"enospc"`` for a full
disk, ``""`` otherwise in QEMU's reports) are emitted; with the ``pause``
action (the default, like ``error_policy='stop'``) a running domain then
becomes ``PAUSED/IOERROR`` with a ``SUSPENDED/IOERROR`` event, and
``virDomainResume`` resumes it. The device alias is the disk's ``<alias
name>`` when its XML has one, else its target device name (the test driver
assigns no aliases).
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, NamedTuple

from lxml import etree

from virtcore.drivers.test.determinism import find_domain
from virtcore.drivers.test.state import DomainObj, TestState
from virtcore.enums.domain import (
    DomainCrashedReason,
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventCrashedDetailType,
    DomainEventID,
    DomainEventIOErrorAction,
    DomainEventResumedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InvalidArgError, OperationInvalidError
from virtcore.events import Event, EventKind, ObjectIdentity
from virtcore.objects import Domain

if TYPE_CHECKING:
    from virtcore.objects import Handle

__all__ = ["CrashCause", "DiskIdentity", "crash_domain", "disk_identity", "io_error"]

logger = logging.getLogger(__name__)

_DESTROY_ACTIONS = frozenset({"destroy", "coredump-destroy"})
_RESTART_ACTIONS = frozenset({"restart", "rename-restart", "coredump-restart"})
_SOURCE_ATTRS = ("file", "dev", "dir", "name", "volume")


class CrashCause(enum.StrEnum):
    """How a domain crashes."""

    PANIC = "panic"
    """The guest kernel panicked; the domain's ``<on_crash>`` action applies."""
    EMULATOR = "emulator"
    """The hypervisor process died; the domain stops."""


def _not_running() -> OperationInvalidError:
    return OperationInvalidError("domain is not running", domain=ErrorDomain.DOMAIN)


def _emit(state: TestState, obj: DomainObj, event_id: int, args: tuple[object, ...]) -> None:
    ident = ObjectIdentity(EventKind.DOMAIN, obj.name, obj.uuid, obj.id)
    state.events.emit(Event(kind=EventKind.DOMAIN, event_id=int(event_id), obj=ident, args=args))


def _stop(state: TestState, obj: DomainObj, detail: int) -> None:
    state.stop_domain(obj, DomainShutoffReason.CRASHED)
    state.emit_domain(obj, DomainEventType.STOPPED, detail)
    if not obj.persistent:
        state.remove_domain(obj)


def crash_domain(state: TestState, dom: Handle | str, cause: CrashCause = CrashCause.PANIC) -> None:
    """Crash the domain *dom* (a handle, name or UUID) on *state*; see the module documentation.

    A domain handle passed in has its id updated, as libvirt updates the
    handle a stop is made through (``virDomainCoreDumpWithFormat`` with
    ``VIR_DUMP_CRASH`` in its test driver).
    """
    with state.lock:
        obj = find_domain(state, _key(dom))
        if not obj.is_active():
            raise _not_running()
        if cause is CrashCause.EMULATOR:
            logger.debug("emulator of domain %s died", obj.name)
            _stop(state, obj, DomainEventStoppedDetailType.FAILED)
        else:
            _panic(state, obj)
        if isinstance(dom, Domain):
            dom.set_id(obj.id)
        state.touch()


def _panic(state: TestState, obj: DomainObj) -> None:
    if obj.state != DomainState.RUNNING:
        raise _not_running()
    action = obj.def_.on_crash
    logger.debug("domain %s panicked (on_crash %s)", obj.name, action)
    obj.set_state(DomainState.CRASHED, DomainCrashedReason.PANICKED)
    state.emit_domain(obj, DomainEventType.CRASHED, DomainEventCrashedDetailType.PANICKED)
    if action in _DESTROY_ACTIONS:
        _stop(state, obj, DomainEventStoppedDetailType.CRASHED)
    elif action in _RESTART_ACTIONS:
        _emit(state, obj, DomainEventID.REBOOT, ())
        obj.set_state(DomainState.RUNNING, DomainRunningReason.CRASHED)
        state.emit_domain(obj, DomainEventType.RESUMED, DomainEventResumedDetailType.UNPAUSED)


class DiskIdentity(NamedTuple):
    """A disk as I/O error events name it."""

    path: str
    """The disk's source (file, device, directory or network name); ``""`` if none."""
    alias: str
    """The device alias, or the target device name when the disk has no alias."""


def disk_identity(obj: DomainObj, disk: str | None) -> DiskIdentity:
    """The source path and alias of *disk* (target, source or alias; default the first disk).

    A domain without disks yields ``("", "")``, as QEMU's report for an
    unknown device does; a *disk* the domain does not have is
    ``VIR_ERR_INVALID_ARG``.
    """
    root = etree.fromstring(obj.def_.format(obj.id if obj.is_active() else None).encode())
    disks = root.findall("./devices/disk")
    for elem in disks:
        source = elem.find("source")
        target = elem.find("target")
        alias = elem.find("alias")
        path = next(
            (source.get(a, "") for a in _SOURCE_ATTRS if source is not None and source.get(a)), ""
        )
        dev = target.get("dev", "") if target is not None else ""
        name = alias.get("name", "") if alias is not None else ""
        if disk is None or disk in (path, dev, name):
            return DiskIdentity(path, name or dev)
    if disk is None:
        return DiskIdentity("", "")
    raise InvalidArgError(f"domain '{obj.name}' has no disk '{disk}'", domain=ErrorDomain.TEST)


def io_error(
    state: TestState,
    dom: Handle | str,
    *,
    disk: str | None = None,
    action: int = DomainEventIOErrorAction.PAUSE,
    reason: str = "enospc",
) -> None:
    """Report an I/O error on a disk of the active domain *dom*; see the module documentation.

    *action* is a :class:`~virtcore.enums.domain_events.DomainEventIOErrorAction`:
    ``PAUSE`` pauses a running domain, ``REPORT`` and ``NONE`` only emit the
    events.
    """
    act = DomainEventIOErrorAction(action)
    with state.lock:
        obj = find_domain(state, _key(dom))
        if not obj.is_active():
            raise _not_running()
        ident = disk_identity(obj, disk)
        logger.debug("I/O error on %s of domain %s (%s)", ident.path, obj.name, reason)
        _emit(state, obj, DomainEventID.IO_ERROR, (ident.path, ident.alias, int(act)))
        _emit(
            state, obj, DomainEventID.IO_ERROR_REASON, (ident.path, ident.alias, int(act), reason)
        )
        if act == DomainEventIOErrorAction.PAUSE and obj.state == DomainState.RUNNING:
            obj.set_state(DomainState.PAUSED, DomainPausedReason.IOERROR)
            state.emit_domain(
                obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.IOERROR
            )
        state.touch()


def _key(dom: Handle | str) -> str:
    if isinstance(dom, str):
        return dom
    uuid = getattr(dom, "uuid", None)
    if not isinstance(uuid, str):
        raise InvalidArgError(f"{dom!r} is not a domain", domain=ErrorDomain.TEST)
    return uuid
