"""Guest processes: start, stop, reconnect and autostart (libvirt's ``qemu_process.c``).

Every function here expects the caller to hold the domain's job
(:meth:`DomainObj.job`) except the ``*_all`` functions, which take the jobs
themselves. Contract:

* :func:`start` translates volume disks through the storage driver (libvirt's
  error for an inactive pool), selects the firmware and prepares the UEFI
  variable store (:mod:`virtcore_qemu.firmware`), opens ``/dev/vhost-vsock``
  (:mod:`virtcore_qemu.startup`), starts the helper daemons - swtpm,
  virtiofsd (:mod:`virtcore_qemu.helpers`) - names every device
  (:func:`virtcore_qemu.command.assign_aliases`: libvirt's ``<alias>``, the
  QEMU ids), builds the command line with
  :func:`virtcore_qemu.command.build_command`, binds the monitor socket,
  spawns QEMU with ``-S`` in its own session, connects QMP, records pty paths
  and virtio channel states from ``query-chardev``, hot-plugs online
  hot-pluggable vCPUs, sets up the balloon and disk I/O limits, and runs
  the CPUs (``cont``) unless asked to start paused. Any failure kills
  QEMU, stops the helpers and leaves the domain shut off (reason
  ``failed``); the error raised is libvirt's.
* :func:`stop` is ``qemuProcessStop``: monitor closed, QEMU killed if still
  there and reaped, helpers stopped, status file, pid file and private
  directory removed, the domain marked shut off with the given reason; a
  transient domain disappears.
* :func:`reconnect_all` re-attaches to guests a previous owner of the state
  directory started (see :mod:`virtcore_qemu.state`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from virtcore.enums.domain import (
    DomainControlErrorReason,
    DomainControlState,
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventID,
    DomainEventStartedDetailType,
    DomainEventType,
)
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, OperationInvalidError, VirtError
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.domobj import DomainObj, VolumeInfo
from virtcore_qemu.monitor import (
    MONITOR_SOCKET,
    MonitorSocket,
    ProcessWatch,
    connect_monitor,
    kill_painfully,
    pid_alive,
    read_pidfile,
    spawn,
)
from virtcore_qemu.status import StatusRecord, StoredVolume, parse_status

if TYPE_CHECKING:
    from virtcore_qemu.state import QemuDriver

__all__ = [
    "autostart_all",
    "detach_all",
    "load_configs",
    "reconnect_all",
    "start",
    "status_record",
    "stop",
]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU

#: Seconds to wait for QEMU's monitor at start and at reconnect.
MONITOR_TIMEOUT = 30.0
RECONNECT_TIMEOUT = 10.0
#: Seconds to wait for the QMP event that acknowledges ``stop``/``cont``.
EVENT_WAIT = 5.0


# -- loading -------------------------------------------------------------------


def load_configs(driver: QemuDriver) -> None:
    """Load every persistent definition and autostart link (bad files are logged, skipped)."""
    from virtcore_qemu.snapshots import load_snapshots

    for name in driver.configs.names():
        text = driver.configs.load(name)
        if text is None:
            continue
        try:
            config = DomainDef.parse(text)
            if config.name != name:
                raise InternalError(
                    f"Domain config filename '{name}.xml' does not match domain name "
                    f"'{config.name}'"
                )
            driver.domains.check_new(str(config.name), str(config.uuid), live=False)
        except VirtError as exc:
            log.error("Failed to load config for domain '%s': %s", name, exc)
            continue
        obj = DomainObj(config=config, autostart=driver.configs.is_autostart(name))
        if driver.files(name).managed_save.exists():
            obj.has_managed_save = True
        load_snapshots(driver, obj)
        driver.domains.add(obj)


def reconnect_all(driver: QemuDriver) -> None:
    """Reconnect every guest recorded as running; mark the others shut off."""
    state_dir = driver.paths.state_dir
    for path in sorted(state_dir.glob("*.xml")):
        try:
            record = parse_status(path)
        except VirtError as exc:
            log.error("Failed to load status of '%s': %s", path.name, exc)
            continue
        if record is None:
            continue
        obj = _object_for_status(driver, record)
        if obj is None:
            continue
        _reconnect(driver, obj, record)


def _object_for_status(driver: QemuDriver, record: StatusRecord) -> DomainObj | None:
    name, uuid = str(record.live.name), str(record.live.uuid).lower()
    obj = driver.domains.find_by_uuid(uuid)
    if obj is None:
        if driver.domains.find_by_name(name) is not None:
            log.error("status of '%s' conflicts with a defined domain of another uuid", name)
            return None
        obj = DomainObj(config=None, persistent=False)
        obj.live = record.live
        driver.domains.add(obj)
    elif not record.persistent:
        obj.persistent = True  # defined again while the earlier owner ran it transiently
    return obj


def _reconnect(driver: QemuDriver, obj: DomainObj, record: StatusRecord) -> None:
    """``qemuProcessReconnect`` for one guest (no job needed: no client is served yet)."""
    files = driver.files(obj.name if obj.config is not None else str(record.live.name))
    dom_id = record.live.id if record.live.id is not None else -1
    obj.live, obj.id, obj.pid = record.live, int(dom_id), record.pid
    obj.set_state(record.state, record.reason)
    obj.messages = list(record.messages)
    driver.domains.note_id(obj.id)
    pid = record.pid
    recorded = read_pidfile(files.pidfile)
    client = None
    if pid_alive(pid) and recorded in (None, pid):
        from virtcore_qemu.events import monitor_callbacks

        on_event, on_eof = monitor_callbacks(driver, obj)
        try:
            client = connect_monitor(
                record.monitor,
                name=f"{obj.name}-{obj.id}",
                timeout=RECONNECT_TIMEOUT,
                on_event=on_event,
                on_eof=on_eof,
                alive=lambda: pid_alive(pid),
            )
        except VirtError as exc:
            log.warning("cannot reconnect to the monitor of '%s': %s", obj.name, exc)
    if client is None:
        # QEMU is gone (or is not ours): libvirt, with -no-shutdown, says "crashed".
        log.warning("guest '%s' (pid %d) is no longer running", obj.name, pid)
        _forget_running(driver, obj, DomainShutoffReason.CRASHED, lib_dir=record.lib_dir)
        return
    obj.monitor = client
    obj.watch = ProcessWatch(pid, lambda: _process_exited(obj))
    try:
        _refresh_state(driver, obj)
    except VirtError as exc:
        log.warning("cannot query the state of '%s': %s", obj.name, exc)
    if not obj.is_active():
        return
    for vol in record.volumes:
        obj.volumes[(vol.pool, vol.volume)] = vol
    for pool, volume, target in _volume_disks(obj.live):
        _resolve_volume_lazily(driver, obj, pool, volume, target)
    driver.save_status(obj)
    log.info("reconnected to guest '%s' (id %d, pid %d)", obj.name, obj.id, pid)


def _resolve_volume_lazily(
    driver: QemuDriver, obj: DomainObj, pool: str, volume: str, target: str
) -> None:
    from virtcore_qemu.state import _translate

    def resolved(vol: VolumeInfo) -> None:
        with obj.lock:
            if obj.is_active():
                obj.volumes[(pool, volume)] = vol
                driver.save_status(obj)

    def failed(err: VirtError) -> None:
        mark_degraded(driver, obj, f"disk '{target}' (volume '{volume}' of pool '{pool}'): {err}")

    lazy = driver.ctx.lookup("storage", lambda drv: _translate(drv, pool, volume))
    lazy.then(resolved, failed)


def mark_degraded(driver: QemuDriver, obj: DomainObj, what: str) -> None:
    """Keep a running guest whose dependency failed: mark it, emit an error event, log it."""
    with obj.lock:
        if not obj.is_active():
            return
        obj.control = DomainControlState.ERROR
        obj.control_reason = DomainControlErrorReason.INTERNAL
        obj.messages.append(f"unresolved at reconnect: {what}")
        log.error("guest '%s' keeps running but is degraded: %s", obj.name, what)
        driver.emit(obj, DomainEventID.CONTROL_ERROR)
        driver.save_status(obj)


def _refresh_state(driver: QemuDriver, obj: DomainObj) -> None:
    """``qemuProcessUpdateState``: align the recorded state with QEMU's run state."""
    assert obj.monitor is not None
    status = obj.monitor.execute("query-status")
    running = bool(status.get("running"))
    qstatus = str(status.get("status", ""))
    if qstatus == "shutdown":
        # The guest shut down while nobody watched (-no-shutdown kept QEMU alive).
        obj.set_state(DomainState.SHUTDOWN, 0)
        kill_painfully(obj.pid, obj.watch, force=True)
        stop(driver, obj, DomainShutoffReason.SHUTDOWN)
        return
    if running and obj.state != DomainState.RUNNING:
        obj.set_state(DomainState.RUNNING, DomainRunningReason.UNPAUSED)
    elif not running and obj.state == DomainState.RUNNING:
        obj.set_state(DomainState.PAUSED, _paused_reason(qstatus))


def _paused_reason(qstatus: str) -> DomainPausedReason:
    return {
        "io-error": DomainPausedReason.IOERROR,
        "watchdog": DomainPausedReason.WATCHDOG,
        "save-vm": DomainPausedReason.SAVE,
        "postmigrate": DomainPausedReason.MIGRATION,
        "inmigrate": DomainPausedReason.MIGRATION,
        "finish-migrate": DomainPausedReason.MIGRATION,
        "guest-panicked": DomainPausedReason.CRASHED,
        "prelaunch": DomainPausedReason.STARTING_UP,
    }.get(qstatus, DomainPausedReason.UNKNOWN)


def _process_exited(obj: DomainObj) -> None:
    with obj.changed:
        obj.changed.notify_all()


def _volume_disks(domain: DomainDef) -> list[tuple[str, str, str]]:
    found = []
    for disk in domain.devices.disks:
        if disk.type == "volume" and disk.source_pool and disk.source_volume:
            found.append((str(disk.source_pool), str(disk.source_volume), str(disk.target_dev)))
    return found


def detach_all(driver: QemuDriver) -> None:
    """Close every monitor and stop watching; the guests keep running."""
    for obj in list(driver.domains):
        with obj.lock:
            client, obj.monitor = obj.monitor, None
            watch, obj.watch = obj.watch, None
        if watch is not None:
            watch.detach()
        if client is not None:
            client.close()


def autostart_all(driver: QemuDriver) -> None:
    """Start every inactive autostart domain (deferred work, once per host boot)."""
    for obj in list(driver.domains):
        if not obj.autostart or obj.is_active():
            continue
        try:
            with obj.job():
                if obj.is_active():
                    continue
                start(driver, obj, paused=False)
                driver.emit_lifecycle(
                    obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED
                )
        except VirtError as exc:
            log.error("Failed to autostart VM '%s': %s", obj.name, exc)


# -- start and stop --------------------------------------------------------------


def translate_volumes(driver: QemuDriver, domain: DomainDef) -> dict[tuple[str, str], VolumeInfo]:
    """Resolve every volume disk of *domain* (libvirt's errors for missing or inactive pools)."""
    volumes: dict[tuple[str, str], VolumeInfo] = {}
    for pool, volume, _target in _volume_disks(domain):
        if (pool, volume) not in volumes:
            volumes[(pool, volume)] = driver.translate_volume(pool, volume)
    return volumes


def start(
    driver: QemuDriver,
    obj: DomainObj,
    *,
    paused: bool,
    reason: DomainRunningReason = DomainRunningReason.BOOTED,
    live: DomainDef | None = None,
    incoming_fd: int | None = None,
    reset_nvram: bool = False,
) -> None:
    """``qemuProcessStart``: see the module documentation. Caller holds the job.

    With *incoming_fd*, QEMU loads its state from that descriptor (a save
    image positioned at its migration stream) before the CPUs may run.
    *reset_nvram* copies the UEFI variable store from its template again.
    """
    from virtcore_qemu.chain import fill_live_chains
    from virtcore_qemu.command import CommandContext, assign_aliases, build_command
    from virtcore_qemu.firmware import fill_firmware, prepare_nvram
    from virtcore_qemu.helpers import start_helpers
    from virtcore_qemu.startup import apply_after_start, open_vsock

    if obj.is_active():
        raise OperationInvalidError("domain is already running", domain=_QEMU)
    if live is None:
        assert obj.config is not None
        live = DomainDef.parse(obj.config.format(), inactive=True)
        if incoming_fd is None:
            # libvirt starts from the definition as the driver completed it (controllers
            # it appended stay last) while its persistent copy is a sorted re-parse.
            live.keep_controller_order()
            obj.config = DomainDef.parse(obj.config.format())
    elif incoming_fd is None:
        live.keep_controller_order()
    emulator = driver.emulator_of(live)
    caps = driver.caps(emulator)
    volumes = translate_volumes(driver, live)
    if incoming_fd is None:
        # A restored guest keeps the firmware its image was saved with.
        fill_firmware(live, driver.nvram_dir, reset_nvram=reset_nvram)
    prepare_nvram(live, reset_nvram=reset_nvram)
    fill_live_chains(live)
    files = driver.files(str(live.name))
    dom_id = driver.domains.allocate_id()
    lib_dir = files.lib_dir(dom_id)
    for directory in (driver.paths.state_dir, driver.paths.log_dir, driver.paths.data_dir):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.rmtree(lib_dir, ignore_errors=True)
    lib_dir.mkdir(mode=0o700)
    files.chardev_dir(dom_id).mkdir(mode=0o700)
    with contextlib.suppress(FileNotFoundError):
        files.pidfile.unlink()
    live.id = dom_id
    with obj.lock:
        obj.live, obj.id, obj.volumes = live, dom_id, dict(volumes)
        obj.set_state(DomainState.PAUSED, DomainPausedReason.STARTING_UP)
        obj.control, obj.messages = DomainControlState.OK, []
    vsock_fd: int | None = None
    try:
        vsock_fd = open_vsock(live)
        helpers = start_helpers(
            driver.paths, live, dom_id, lib_dir, embedded=driver.embedded_root is not None
        )
        sock = MonitorSocket(lib_dir)
        try:
            accel = "kvm" if live.virt_type == "kvm" else "tcg"
            ctx = CommandContext(
                monitor_fd=sock.fileno(),
                monitor_path=sock.path,
                pidfile=files.pidfile,
                lib_dir=lib_dir,
                accel=accel,
                volumes=volumes,
                chardev_dir=files.chardev_dir(dom_id),
                vsock_fd=vsock_fd,
                tpm_socket=helpers.tpm_socket,
            )
            # libvirt names every device before building the command line
            # (qemuAssignDeviceAliases): the names are QEMU's ids and the live XML shows them.
            assign_aliases(live)
            argv = build_command(live, caps, ctx)
            if incoming_fd is not None:
                argv += ["-incoming", "defer"]
            pass_fds = (sock.fileno(),) if vsock_fd is None else (sock.fileno(), vsock_fd)
            popen = spawn(argv, log_path=files.log, pass_fds=pass_fds)
        finally:
            sock.close()
            if vsock_fd is not None:
                os.close(vsock_fd)
                vsock_fd = None
        obj.pid = popen.pid
        obj.watch = ProcessWatch(popen.pid, lambda: _process_exited(obj), popen=popen)
        _connect_new(driver, obj, sock.path, files.log, lambda: popen.poll() is None)
        _fill_live_data(obj)
        assert obj.monitor is not None
        apply_after_start(obj.monitor, live, argv)
        if incoming_fd is not None:
            _migrate_incoming(obj, incoming_fd)
        if paused:
            obj.set_state(DomainState.PAUSED, DomainPausedReason.USER)
        else:
            run_cpus(driver, obj, reason)
        driver.save_status(obj)
    except BaseException:
        if vsock_fd is not None:
            os.close(vsock_fd)
        with contextlib.suppress(VirtError):
            stop(driver, obj, DomainShutoffReason.FAILED)
        raise
    log.info("started guest '%s' (id %d, pid %d)", obj.name, obj.id, obj.pid)


def _connect_new(
    driver: QemuDriver, obj: DomainObj, path: Path, log_path: Path, alive: Any
) -> None:
    from virtcore_qemu.events import monitor_callbacks

    on_event, on_eof = monitor_callbacks(driver, obj)
    try:
        obj.monitor = connect_monitor(
            path,
            name=f"{obj.name}-{obj.id}",
            timeout=MONITOR_TIMEOUT,
            on_event=on_event,
            on_eof=on_eof,
            alive=alive,
        )
    except VirtError as exc:
        if obj.watch is not None:
            obj.watch.wait(2.0)
        tail = _log_tail(log_path)
        if not alive() or tail:
            raise InternalError(
                f"process exited while connecting to monitor: {tail}", domain=_QEMU
            ) from exc
        raise


def _migrate_incoming(obj: DomainObj, fd: int) -> None:
    """Load the guest's state from *fd* (``migrate-incoming`` on a passed descriptor)."""
    from virtcore_qemu.saverestore import wait_migration

    assert obj.monitor is not None
    obj.monitor.execute("getfd", {"fdname": "incoming"}, fds=(fd,))
    obj.monitor.execute("migrate-incoming", {"uri": "fd:incoming"})
    wait_migration(obj, incoming=True)


def _log_tail(path: Path, limit: int = 4096) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    lines = data.decode("utf-8", "replace").splitlines()
    # The part after the last "starting up" header is this start's output.
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].endswith(": starting up"):
            lines = lines[i + 2 :]
            break
    return "\n".join(line for line in lines if line.strip()).strip()


def _fill_live_data(obj: DomainObj) -> None:
    """Record what QEMU reports of the character devices (``query-chardev``) in the live XML.

    The pty paths QEMU allocated, and the state of virtio channels
    (``connected`` when the guest opened its end), as libvirt's
    ``qemuProcessRefreshChannelVirtioState`` records them.
    """
    assert obj.monitor is not None and obj.live is not None
    chardevs = obj.monitor.execute("query-chardev")
    ptys: dict[str, str] = {}
    opened: dict[str, bool] = {}
    for entry in chardevs or []:
        label = str(entry.get("label", ""))
        filename = str(entry.get("filename", ""))
        if filename.startswith("pty:"):
            ptys[label] = filename[4:]
        if "frontend-open" in entry:
            opened[label] = bool(entry["frontend-open"])
    devices = obj.live.devices
    for kind, group in (
        ("serial", devices.serials),
        ("parallel", devices.parallels),
        ("channel", devices.channels),
        ("console", devices.consoles),
    ):
        for index, dev in enumerate(group):
            if dev.type != "pty":
                continue
            label = f"char{dev.alias}" if dev.alias else f"char{kind}{index}"
            path = ptys.get(label)
            if path is None and kind == "console" and devices.serials:
                path = ptys.get("charserial0")
            if path is not None:
                dev.source_path = path
    for channel in obj.live.element.iterfind("devices/channel"):
        target, alias = channel.find("target"), channel.find("alias")
        if target is None or alias is None or target.get("type") != "virtio":
            continue
        state = opened.get(f"char{alias.get('name')}")
        if state is not None:
            target.set("state", "connected" if state else "disconnected")


def run_cpus(driver: QemuDriver, obj: DomainObj, reason: DomainRunningReason) -> None:
    """``qemuProcessStartCPUs``: ``cont``, the state change done by the RESUME handler."""
    from virtcore_qemu.events import apply_resume

    assert obj.monitor is not None
    with obj.lock:
        obj.running_reason = int(reason)
        before = obj.seen.get("RESUME", 0)
    obj.monitor.execute("cont")
    if not obj.wait_event("RESUME", before, EVENT_WAIT):
        apply_resume(driver, obj)


def pause_cpus(driver: QemuDriver, obj: DomainObj, reason: DomainPausedReason) -> None:
    """``qemuProcessStopCPUs``: ``stop``, the state change done by the STOP handler."""
    from virtcore_qemu.events import apply_stop

    assert obj.monitor is not None
    with obj.lock:
        obj.paused_reason = int(reason)
        before = obj.seen.get("STOP", 0)
    obj.monitor.execute("stop")
    if not obj.wait_event("STOP", before, EVENT_WAIT):
        apply_stop(driver, obj)


def stop(driver: QemuDriver, obj: DomainObj, reason: DomainShutoffReason) -> None:
    """``qemuProcessStop``: see the module documentation. Caller holds the job."""
    with obj.lock:
        client, obj.monitor = obj.monitor, None
        watch = obj.watch
        pid = obj.pid
    if client is not None:
        client.close()
    if pid and (watch is None or not watch.exited) and pid_alive(pid):
        try:
            kill_painfully(pid, watch, force=True)
        except VirtError as exc:
            log.error("cannot kill QEMU of '%s': %s", obj.name, exc)
    if watch is not None:
        watch.wait(5.0)
    lib_dir = driver.files(obj.name).lib_dir(obj.id) if obj.id != -1 else None
    _forget_running(driver, obj, reason, lib_dir=lib_dir)


def _forget_running(
    driver: QemuDriver, obj: DomainObj, reason: DomainShutoffReason, *, lib_dir: Path | None
) -> None:
    from virtcore_qemu.helpers import stop_helpers

    files = driver.files(obj.name)
    if obj.live is not None and obj.id != -1:
        stop_helpers(driver.paths, obj.live, obj.id, lib_dir)
    for path in (files.status, files.pidfile):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    if lib_dir is not None:
        _remove_lib_dir(lib_dir)
    with obj.lock:
        obj.set_state(DomainState.SHUTOFF, reason)
        obj.id, obj.pid, obj.watch, obj.monitor = -1, 0, None, None
        obj.volumes = {}
        obj.control, obj.control_reason = DomainControlState.OK, DomainControlErrorReason.NONE
        obj.messages = []
        obj.fake_reboot = obj.got_shutdown = False
        if obj.persistent and obj.config is not None:
            obj.live = None
        else:
            driver.domains.remove(obj)
        obj.changed.notify_all()


def _remove_lib_dir(lib_dir: Path) -> None:
    """Remove a guest's private directory; its usual content without a tree walk."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(lib_dir / MONITOR_SOCKET)
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(lib_dir / "channel")
    try:
        os.rmdir(lib_dir)
    except FileNotFoundError:
        pass
    except OSError:
        # Something else was left there (channel sockets, helper sockets).
        shutil.rmtree(lib_dir, ignore_errors=True)


def status_record(driver: QemuDriver, obj: DomainObj) -> StatusRecord:
    """What the status file of a running *obj* holds."""
    assert obj.live is not None
    files = driver.files(obj.name)
    lib_dir = files.lib_dir(obj.id)
    return StatusRecord(
        state=obj.state,
        reason=obj.reason,
        pid=obj.pid,
        monitor=lib_dir / "monitor.sock",
        lib_dir=lib_dir,
        live=obj.live,
        persistent=obj.persistent,
        autostart=obj.autostart,
        control=obj.control,
        volumes=[
            StoredVolume(pool, volume, v.disk_type, v.path, v.format, v.pool_type)
            for (pool, volume), v in sorted(obj.volumes.items())
        ],
        messages=list(obj.messages),
    )
