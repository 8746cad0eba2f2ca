"""A drop-in replacement for libvirt-python 9.0's ``libvirt_qemu`` module.

``import virtcore.libvirt_qemu as libvirt_qemu`` next to
``import virtcore.libvirt as libvirt``. Each function is one call through the
connection's dispatch seam to the hypervisor table method named after libvirt's
driver field; a driver without QEMU-specific support answers
``VIR_ERR_NO_SUPPORT`` like libvirt:

* ``qemuMonitorCommand`` → ``domain_qemu_monitor_command(conn, dom, cmd, flags)``
* ``qemuMonitorCommandWithFiles`` → ``domain_qemu_monitor_command_with_files(conn, dom,
  cmd, files, flags)`` returning ``(output, files)``
* ``qemuAgentCommand`` → ``domain_qemu_agent_command(conn, dom, cmd, timeout, flags)``
* ``qemuAttach`` → ``domain_qemu_attach(conn, pid, flags)`` returning a domain handle
* ``qemuMonitorEventRegister`` → ``connect_domain_qemu_monitor_event_register(conn, dom,
  event, callback, flags)`` returning an id; the driver calls ``callback(dom_handle,
  event, seconds, micros, details)`` and the application's callback receives
  ``cb(conn, dom, event, seconds, micros, details, opaque)``
* ``qemuMonitorEventDeregister`` → ``connect_domain_qemu_monitor_event_deregister(conn, id)``
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N802, N803, PLR0917

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from virtcore.errors import VirtError
from virtcore.libvirt import virConnect, virDomain
from virtcore.libvirt._errors import raise_from, reset_last_error

__all__ = [
    "VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE",
    "VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX",
    "VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK",
    "VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT",
    "VIR_DOMAIN_QEMU_AGENT_COMMAND_MIN",
    "VIR_DOMAIN_QEMU_AGENT_COMMAND_NOWAIT",
    "VIR_DOMAIN_QEMU_AGENT_COMMAND_SHUTDOWN",
    "VIR_DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT",
    "VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP",
    "qemuAgentCommand",
    "qemuAttach",
    "qemuMonitorCommand",
    "qemuMonitorCommandWithFiles",
    "qemuMonitorEventDeregister",
    "qemuMonitorEventRegister",
]

VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX = 1
VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE = 2
VIR_DOMAIN_QEMU_AGENT_COMMAND_BLOCK = -2
VIR_DOMAIN_QEMU_AGENT_COMMAND_MIN = -2
VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT = -1
VIR_DOMAIN_QEMU_AGENT_COMMAND_NOWAIT = 0
VIR_DOMAIN_QEMU_AGENT_COMMAND_SHUTDOWN = 60
VIR_DOMAIN_QEMU_MONITOR_COMMAND_DEFAULT = 0
VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP = 1

MonitorEventCallback = Callable[[virConnect, virDomain, str, int, int, str, Any], object]


def _invoke(conn: virConnect, method: str, api: str, *args: Any, write: bool = True) -> Any:
    reset_last_error()
    try:
        return conn._c._invoke("hypervisor", method, api, *args, write=write)
    except VirtError as exc:
        raise raise_from(exc, api, conn) from None


def qemuMonitorCommand(domain: virDomain, cmd: str, flags: int) -> str:
    """Send *cmd* to the domain's QEMU monitor (QMP, or HMP with the HMP flag); returns the reply.

    (``virDomainQemuMonitorCommand``)
    """
    reply: str = _invoke(
        domain.connect(),
        "domain_qemu_monitor_command",
        "virDomainQemuMonitorCommand",
        domain._o,
        cmd,
        flags,
    )
    return reply


def qemuMonitorCommandWithFiles(
    domain: virDomain,
    cmd: str,
    files: list[int] = [],  # noqa: B006 - libvirt-python's signature; never mutated
    flags: int = 0,
) -> tuple[str, list[IO[Any]]]:
    """Like :func:`qemuMonitorCommand`, passing file descriptors; returns ``(reply, files)``.

    (``virDomainQemuMonitorCommandWithFiles``)
    """
    reply, out_files = _invoke(
        domain.connect(),
        "domain_qemu_monitor_command_with_files",
        "virDomainQemuMonitorCommandWithFiles",
        domain._o,
        cmd,
        list(files),
        flags,
    )
    return str(reply), list(out_files)


def qemuAgentCommand(domain: virDomain, cmd: str, timeout: int, flags: int) -> str:
    """Send a guest agent command, waiting up to *timeout* seconds (or a ``COMMAND_*`` value).

    (``virDomainQemuAgentCommand``)
    """
    reply: str = _invoke(
        domain.connect(),
        "domain_qemu_agent_command",
        "virDomainQemuAgentCommand",
        domain._o,
        cmd,
        timeout,
        flags,
    )
    return reply


def qemuAttach(conn: virConnect, pid_value: int, flags: int) -> virDomain:
    """Adopt an externally started QEMU process as a domain (``virDomainQemuAttach``)."""
    handle = _invoke(conn, "domain_qemu_attach", "virDomainQemuAttach", pid_value, flags)
    return virDomain(conn, _obj=handle)


def qemuMonitorEventRegister(
    conn: virConnect,
    dom: virDomain | None,
    event: str | None,
    cb: MonitorEventCallback,
    opaque: Any,
    flags: int = 0,
) -> int:
    """Call ``cb(conn, dom, event, seconds, micros, details, opaque)`` for QEMU monitor events.

    *event* filters by name (a regular expression with the REGEX flag); returns
    the callback id. (``virConnectDomainQemuMonitorEventRegister``)
    """

    def on_event(handle: Any, name: str, seconds: int, micros: int, details: str) -> None:
        cb(conn, virDomain(conn, _obj=handle), name, seconds, micros, details, opaque)

    callback_id: int = _invoke(
        conn,
        "connect_domain_qemu_monitor_event_register",
        "virConnectDomainQemuMonitorEventRegister",
        dom._o if dom is not None else None,
        event,
        on_event,
        flags,
        write=False,
    )
    return callback_id


def qemuMonitorEventDeregister(conn: virConnect, callbackID: int) -> None:
    """Remove a QEMU monitor event callback (``virConnectDomainQemuMonitorEventDeregister``)."""
    _invoke(
        conn,
        "connect_domain_qemu_monitor_event_deregister",
        "virConnectDomainQemuMonitorEventDeregister",
        callbackID,
        write=False,
    )
