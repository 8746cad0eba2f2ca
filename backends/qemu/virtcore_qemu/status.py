"""The live status XML of a running guest: ``<state_dir>/<name>.xml``.

The document follows libvirt's ``<domstatus>`` layout, so a reader of one
recognises the other::

    <domstatus state='running' reason='booted' pid='4242'>
      <monitor path='/var/lib/virtcore/qemu/domain-1-g/monitor.sock' type='unix'/>
      <libDir path='/var/lib/virtcore/qemu/domain-1-g'/>
      <virtcore persistent='yes' autostart='no' control='ok'>
        <volume pool='p' volume='v' type='file' path='/p/v' format='raw' pooltype='dir'/>
        <message>...</message>
      </virtcore>
      <domain type='qemu' id='1'> ... the live definition ... </domain>
    </domstatus>

State and reason are libvirt's names (``virDomainStateTypeToString``,
``virDomainStateReasonToString``). The ``<virtcore>`` element is this driver's
private data (libvirt keeps the equivalent in its own private elements). The
file is replaced atomically (:func:`replace_status_text`: temporary file and
rename, without fsync - it cannot outlive the processes it describes) after
every change of a running guest, and removed when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from virtcore.enums.domain import (
    DomainControlState,
    DomainCrashedReason,
    DomainPausedReason,
    DomainPMSuspendedReason,
    DomainRunningReason,
    DomainShutdownReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.errors import InternalError, SystemCallError
from virtcore.store import read_text
from virtcore.xml.domain import Domain as DomainDef

__all__ = [
    "StatusRecord",
    "StoredVolume",
    "format_live",
    "format_status",
    "parse_status",
    "replace_status_text",
    "write_status",
]

log = logging.getLogger(__name__)

_STATE_NAMES = {
    DomainState.NOSTATE: "nostate",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "blocked",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "shutdown",
    DomainState.SHUTOFF: "shutoff",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "pmsuspended",
}

# libvirt's reason spellings, per state (src/conf/domain_conf.c VIR_ENUM_IMPL).
_REASONS: dict[DomainState, tuple[str, ...]] = {
    DomainState.NOSTATE: ("unknown",),
    DomainState.RUNNING: (
        "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
        "migration canceled", "save canceled", "wakeup", "crashed", "post-copy",
        "post-copy failed",
    ),
    DomainState.BLOCKED: ("unknown",),
    DomainState.PAUSED: (
        "unknown", "user", "migration", "save", "dump", "ioerror", "watchdog",
        "from snapshot", "shutdown", "snapshot", "panicked", "starting up", "post-copy",
        "post-copy failed",
    ),
    DomainState.SHUTDOWN: ("unknown", "user"),
    DomainState.SHUTOFF: (
        "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
        "from snapshot", "daemon",
    ),
    DomainState.CRASHED: ("unknown", "panicked"),
    DomainState.PMSUSPENDED: ("unknown",),
}  # fmt: skip

# Sanity: the tables above cover every reason enum value.
assert len(_REASONS[DomainState.RUNNING]) == len(DomainRunningReason)
assert len(_REASONS[DomainState.PAUSED]) == len(DomainPausedReason)
assert len(_REASONS[DomainState.SHUTOFF]) == len(DomainShutoffReason)
assert len(_REASONS[DomainState.SHUTDOWN]) == len(DomainShutdownReason)
assert len(_REASONS[DomainState.CRASHED]) == len(DomainCrashedReason)
assert len(_REASONS[DomainState.PMSUSPENDED]) == len(DomainPMSuspendedReason)


@dataclass(frozen=True)
class StoredVolume:
    """A volume disk's translation as recorded when the guest started."""

    pool: str
    volume: str
    disk_type: str
    path: str
    format: str | None
    pool_type: str


@dataclass
class StatusRecord:
    """What a status file says about a running guest."""

    state: DomainState
    reason: int
    pid: int
    monitor: Path
    lib_dir: Path
    live: DomainDef
    persistent: bool = True
    autostart: bool = False
    control: DomainControlState = DomainControlState.OK
    volumes: list[StoredVolume] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def format_live(domain: DomainDef, flags: int = 0) -> str:
    """The XML of a running guest's definition, runtime data included.

    Pty paths, device aliases and graphics ports exist only while the guest
    runs; the definition is formatted as live XML (libvirt's ``vm->def``),
    so they are kept unless *flags* has ``INACTIVE``.
    """
    return domain.format(flags, live=True)


def state_name(state: DomainState) -> str:
    """libvirt's name of *state*."""
    return _STATE_NAMES[state]


def reason_name(state: DomainState, reason: int) -> str:
    """libvirt's name of *reason* in *state*."""
    names = _REASONS[state]
    return names[reason] if 0 <= reason < len(names) else "unknown"


def format_status(record: StatusRecord) -> str:
    """The status document for *record*."""
    root = etree.Element(
        "domstatus",
        state=state_name(record.state),
        reason=reason_name(record.state, record.reason),
        pid=str(record.pid),
    )
    etree.SubElement(root, "monitor", path=str(record.monitor), type="unix")
    etree.SubElement(root, "libDir", path=str(record.lib_dir))
    private = etree.SubElement(
        root,
        "virtcore",
        persistent="yes" if record.persistent else "no",
        autostart="yes" if record.autostart else "no",
        control=record.control.name.lower(),
    )
    for vol in record.volumes:
        attrs = {
            "pool": vol.pool,
            "volume": vol.volume,
            "type": vol.disk_type,
            "path": vol.path,
            "pooltype": vol.pool_type,
        }
        if vol.format is not None:
            attrs["format"] = vol.format
        etree.SubElement(private, "volume", attrs)
    for message in record.messages:
        etree.SubElement(private, "message").text = message
    root.append(etree.fromstring(format_live(record.live).encode("utf-8")))
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


def write_status(path: Path, record: StatusRecord) -> None:
    """Write the status file atomically (see :func:`replace_status_text`)."""
    replace_status_text(path, format_status(record))


def replace_status_text(path: Path, text: str) -> None:
    """Replace the status file *path* with *text*: atomic, deliberately not fsync'ed.

    A status file describes QEMU processes, which cannot outlive the host:
    after a power loss there is nothing left for it to describe, so
    durability buys nothing, while the two fsyncs of
    :func:`~virtcore.store.atomic_write` cost milliseconds on every state
    change (a destroy's ``SHUTDOWN`` among them). Atomicity is what a
    reconnecting process needs - it sees the old or the new document, never
    a mix - and the rename gives it.
    """
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, 0o600)
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot write status file '{path}'", exc) from exc
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def parse_status(path: Path) -> StatusRecord | None:
    """Read the status file at *path*; None if it does not exist.

    A file that cannot be understood raises :class:`InternalError` naming it.
    """
    text = read_text(path)
    if text is None:
        return None
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(text.encode("utf-8"), parser)
        if root.tag != "domstatus":
            raise ValueError("root element is not <domstatus>")
        state = _parse_state(root.get("state", ""))
        reason_text = root.get("reason", "unknown")
        reasons = _REASONS[state]
        reason = reasons.index(reason_text) if reason_text in reasons else 0
        pid = int(root.get("pid", "0"))
        monitor = root.find("monitor")
        lib_dir = root.find("libDir")
        domain = root.find("domain")
        if monitor is None or lib_dir is None or domain is None:
            raise ValueError("missing <monitor>, <libDir> or <domain>")
        live = DomainDef.parse(etree.tostring(domain), inactive=False)
        record = StatusRecord(
            state=state,
            reason=reason,
            pid=pid,
            monitor=Path(monitor.get("path", "")),
            lib_dir=Path(lib_dir.get("path", "")),
            live=live,
        )
        private = root.find("virtcore")
        if private is not None:
            record.persistent = private.get("persistent", "yes") == "yes"
            record.autostart = private.get("autostart", "no") == "yes"
            control = private.get("control", "ok").upper()
            if control in DomainControlState.__members__:
                record.control = DomainControlState[control]
            for vol in private.findall("volume"):
                record.volumes.append(
                    StoredVolume(
                        pool=vol.get("pool", ""),
                        volume=vol.get("volume", ""),
                        disk_type=vol.get("type", "file"),
                        path=vol.get("path", ""),
                        format=vol.get("format"),
                        pool_type=vol.get("pooltype", ""),
                    )
                )
            record.messages = [m.text or "" for m in private.findall("message")]
        return record
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InternalError(f"failed to read status file '{path}': {exc}") from exc


def _parse_state(text: str) -> DomainState:
    for state, name in _STATE_NAMES.items():
        if name == text:
            return state
    raise ValueError(f"unknown state '{text}'")
