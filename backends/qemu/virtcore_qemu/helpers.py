"""Helper daemons a guest needs beside QEMU: ``swtpm`` for an emulated TPM, ``virtiofsd``.

libvirt 9.0 starts them in ``qemuExtDevicesStart`` before QEMU and stops them
in ``qemuExtDevicesStop`` after it; so does :func:`start_helpers` /
:func:`stop_helpers`. Both daemons also exit on their own once QEMU has gone
(``swtpm --terminate``, virtiofsd on the vhost-user hang-up), so a guest that
crashed while nobody watched leaves none behind; :func:`stop_helpers` still
ends what its pid files name (SIGTERM, SIGKILL after :data:`STOP_WAIT`) and
waits for it, so every exit path - destroy, shutdown, a failed start - ends
them, and a start right after finds the TPM state free.

TPM emulator (``qemu_tpm.c``), for ``<tpm><backend type='emulator'/>``:

* state: ``<data_dir>/swtpm/<uuid>/tpm2`` (``tpm1.2`` for version 1.2);
  created and manufactured with ``swtpm_setup`` (EK, EK and platform
  certificates, locked NVRAM) on its first use only; the
  certificates' local CA of an embedded root lives under
  ``<data_dir>/swtpm-localca`` rather than in the host's ``/var/lib``;
* control socket and pid file: ``<state_dir>/swtpm/<id>-<name>-swtpm.sock``
  and ``.pid``; log: ``<log_dir>/<name>-swtpm.log``;
* errors: libvirt's ``Could not run '/usr/bin/swtpm_setup'. exitstatus: N;
  Check error log 'LOG' for details.``, ``Could not start 'swtpm'.
  exitstatus: N, error: TEXT`` and ``swtpm didn't show up``.

virtio-fs (``qemu_virtiofs.c``), for ``<filesystem><driver type='virtiofs'/>``:

* the daemon is the ``<binary path>`` of the filesystem or, as libvirt
  finds it, the first ``"type": "fs"`` vhost-user descriptor
  (:data:`VHOST_USER_DIRS`); none: ``Unable to find a satisfying virtiofsd``
  (VIR_ERR_OPERATION_FAILED); the path found is written into the live
  definition (``<binary path=.../>``), as libvirt shows it;
* it gets the listening socket ``<lib_dir>/fsN-fs.sock`` (bound here, passed
  as ``--fd``) and ``-o source=DIR`` with the cache, xattr, flock and POSIX
  lock options; log ``<log_dir>/<name>-fsN-virtiofsd.log``; pid file
  ``<state_dir>/<id>-<name>-fsN-virtiofsd.pid``; a daemon gone right away is
  ``virtiofsd died unexpectedly``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError, OperationFailedError, SystemCallError
from virtcore.store import StatePaths
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.paths import fits_sun_path, short_name

__all__ = [
    "VHOST_USER_DIRS",
    "StartedHelpers",
    "start_helpers",
    "stop_helpers",
    "tpm_emulators",
    "virtiofs_filesystems",
]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU

#: vhost-user back-end descriptors, least specific first (libvirt's qemuInteropFetchConfigs).
VHOST_USER_DIRS: tuple[str, ...] = ("/usr/share/qemu/vhost-user", "/etc/qemu/vhost-user")
#: How long a helper may take to write its pid file (libvirt: 1 s for swtpm).
PIDFILE_WAIT = 1.0
#: How long a helper may take to exit after SIGTERM (then after SIGKILL).
STOP_WAIT = 2.0
#: How long ``swtpm_setup`` may take to manufacture a TPM.
SETUP_TIMEOUT = 60.0

_SWTPM_LOCALCA_OPTIONS = "/etc/swtpm-localca.options"


@dataclass
class StartedHelpers:
    """What :func:`start_helpers` started for one QEMU start."""

    tpm_socket: Path | None = None
    pids: tuple[int, ...] = ()


def tpm_emulators(domain: DomainDef) -> list[etree._Element]:
    """The ``<tpm>`` devices of *domain* backed by the emulator."""
    return [
        tpm
        for tpm in domain.element.iterfind("devices/tpm")
        if (backend := tpm.find("backend")) is not None and backend.get("type") == "emulator"
    ]


def virtiofs_filesystems(domain: DomainDef) -> list[tuple[str, etree._Element]]:
    """``(alias, element)`` of each virtio-fs ``<filesystem>`` (aliases ``fsN`` by position)."""
    found = []
    for number, fs in enumerate(domain.element.iterfind("devices/filesystem")):
        driver = fs.find("driver")
        if driver is not None and driver.get("type") == "virtiofs":
            found.append((f"fs{number}", fs))
    return found


def _short(dom_id: int, name: str) -> str:
    """``virDomainDefGetShortName``: ``<id>-<name cut to 20 characters>``."""
    return f"{dom_id}-{short_name(name)}"


# -- start ---------------------------------------------------------------------------


def start_helpers(
    paths: StatePaths, domain: DomainDef, dom_id: int, lib_dir: Path, *, embedded: bool
) -> StartedHelpers:
    """Start every helper *domain* needs; on failure the ones started are stopped."""
    started = StartedHelpers()
    if not tpm_emulators(domain) and not virtiofs_filesystems(domain):
        return started
    try:
        for tpm in tpm_emulators(domain)[:1]:
            socket_path, pid = _start_swtpm(paths, domain, dom_id, tpm, embedded=embedded)
            started.tpm_socket = socket_path
            started.pids += (pid,)
        for alias, fs in virtiofs_filesystems(domain):
            started.pids += (_start_virtiofsd(paths, domain, dom_id, lib_dir, alias=alias, fs=fs),)
    except BaseException:
        stop_helpers(paths, domain, dom_id, lib_dir)
        raise
    return started


def _tpm_paths(paths: StatePaths, name: str, dom_id: int) -> tuple[Path, Path, Path]:
    run = paths.state_dir / "swtpm"
    short = _short(dom_id, name)
    return (
        run / f"{short}-swtpm.sock",
        run / f"{short}-swtpm.pid",
        paths.log_dir / (f"{name}-swtpm.log"),
    )


def _start_swtpm(
    paths: StatePaths, domain: DomainDef, dom_id: int, tpm: etree._Element, *, embedded: bool
) -> tuple[Path, int]:
    """``qemuTPMEmulatorStart``: manufacture the TPM on first use, start ``swtpm``."""
    name, uuid = str(domain.name), str(domain.uuid).lower()
    backend = tpm.find("backend")
    version = (backend.get("version") if backend is not None else None) or "2.0"
    swtpm = _binary("swtpm")
    sock, pidfile, logfile = _tpm_paths(paths, name, dom_id)
    if not fits_sun_path(sock):
        raise InternalError(f"UNIX socket path '{sock}' too long", domain=_QEMU)
    storage = paths.data_dir / "swtpm" / uuid / ("tpm2" if version == "2.0" else "tpm1.2")
    for directory in (sock.parent, paths.log_dir, storage.parent):
        directory.mkdir(mode=0o711, parents=True, exist_ok=True)
    created = not storage.exists()
    storage.mkdir(mode=0o700, exist_ok=True)
    try:
        if created:
            _run_swtpm_setup(
                paths,
                storage,
                name=name,
                uuid=uuid,
                logfile=logfile,
                version=version,
                embedded=embedded,
            )
        for stale in (sock, pidfile):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        argv = [
            swtpm,
            "socket",
            "--daemon",
            "--ctrl",
            f"type=unixio,path={sock},mode=0600",
            "--tpmstate",
            f"dir={storage},mode=0600",
            "--log",
            f"file={logfile}",
            "--terminate",
        ]
        if version == "2.0":
            argv.append("--tpm2")
        argv += ["--pid", f"file={pidfile}"]
        _log_command(logfile, argv)
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            start_new_session=True,
            check=False,
            timeout=SETUP_TIMEOUT,
        )
        if proc.returncode != 0:
            error = proc.stderr.decode("utf-8", "replace").strip()
            raise InternalError(
                f"Could not start 'swtpm'. exitstatus: {proc.returncode}, error: {error}",
                domain=_QEMU,
            )
        pid = _wait_pidfile(pidfile, PIDFILE_WAIT)
        if pid is None or not sock.exists():
            raise InternalError("swtpm didn't show up", domain=_QEMU)
    except BaseException:
        if created:
            shutil.rmtree(storage.parent, ignore_errors=True)
        raise
    log.debug("swtpm of '%s' runs as pid %d on %s", name, pid, sock)
    return sock, pid


def _run_swtpm_setup(
    paths: StatePaths,
    storage: Path,
    *,
    name: str,
    uuid: str,
    logfile: Path,
    version: str,
    embedded: bool,
) -> None:
    """``qemuTPMEmulatorRunSetup``: create the EK and its certificates."""
    setup = _binary("swtpm_setup")
    argv = [setup]
    if version == "2.0":
        argv.append("--tpm2")
    argv += [
        "--tpm-state",
        str(storage),
        "--vmid",
        f"{name}:{uuid}",
        "--logfile",
        str(logfile),
        "--createek",
        "--create-ek-cert",
        "--create-platform-cert",
        "--lock-nvram",
        "--not-overwrite",
    ]
    if embedded:
        argv += ["--config", str(_private_localca(paths))]
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
            timeout=SETUP_TIMEOUT,
        )
        status = proc.returncode
    except subprocess.TimeoutExpired:
        status = -1
    if status != 0:
        raise InternalError(
            f"Could not run '{setup}'. exitstatus: {status}; "
            f"Check error log '{logfile}' for details.",
            domain=_QEMU,
        )


def _private_localca(paths: StatePaths) -> Path:
    """A ``swtpm_setup`` configuration whose certificate authority lives under *paths*."""
    ca = paths.data_dir / "swtpm-localca"
    ca.mkdir(mode=0o700, parents=True, exist_ok=True)
    setup_conf, ca_conf = ca / "swtpm_setup.conf", ca / "swtpm-localca.conf"
    if not setup_conf.exists():
        ca_conf.write_text(
            f"statedir = {ca}\nsigningkey = {ca}/signkey.pem\n"
            f"issuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n"
        )
        options = ""
        if os.path.exists(_SWTPM_LOCALCA_OPTIONS):
            options = f"create_certs_tool_options = {_SWTPM_LOCALCA_OPTIONS}\n"
        tool = shutil.which("swtpm_localca") or "/usr/bin/swtpm_localca"
        setup_conf.write_text(
            f"create_certs_tool = {tool}\ncreate_certs_tool_config = {ca_conf}\n{options}"
            "active_pcr_banks = sha256\n"
        )
    return setup_conf


def _start_virtiofsd(
    paths: StatePaths,
    domain: DomainDef,
    dom_id: int,
    lib_dir: Path,
    *,
    alias: str,
    fs: etree._Element,
) -> int:
    """``qemuVirtioFSStart``: bind the vhost-user socket, start the daemon on it."""
    name = str(domain.name)
    binary_node = fs.find("binary")
    binary = binary_node.get("path") if binary_node is not None else None
    if not binary:
        binary = _find_virtiofsd()
        # The live definition names the daemon found, as libvirt's does.
        if binary_node is None:
            binary_node = etree.Element("binary")
            anchor = fs.find("driver")
            if anchor is not None:
                anchor.addnext(binary_node)
            else:
                fs.insert(0, binary_node)
        binary_node.set("path", binary)
    source = fs.find("source")
    source_dir = (source.get("dir") if source is not None else None) or ""
    sock_path = lib_dir / f"{alias}-fs.sock"
    pidfile = paths.state_dir / f"{_short(dom_id, name)}-{alias}-virtiofsd.pid"
    logfile = paths.log_dir / f"{name}-{alias}-virtiofsd.log"
    listener = _listen(sock_path)
    try:
        argv = [binary, f"--fd={listener.fileno()}", "-o", _virtiofsd_options(fs, source_dir)]
        pool = fs.find("binary/thread_pool")
        if pool is not None and pool.get("size"):
            argv.append(f"--thread-pool-size={pool.get('size')}")
        logfd = os.open(logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            _log_command(logfile, argv)
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=logfd,
                stderr=logfd,
                pass_fds=(listener.fileno(),),
                start_new_session=True,
                cwd="/",
            )
        except OSError as exc:
            raise SystemCallError.from_os_error(f"Cannot run {binary}", exc) from exc
        finally:
            os.close(logfd)
    finally:
        listener.close()
    # The daemon is this process's child: reap it whenever it ends.
    threading.Thread(target=popen.wait, name=f"virtiofsd-{popen.pid}", daemon=True).start()
    _write_pidfile(pidfile, popen.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(0.05)
    if popen.poll() is not None:
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
        raise OperationFailedError("virtiofsd died unexpectedly", domain=_QEMU)
    log.debug("virtiofsd of '%s' (%s) runs as pid %d", name, alias, popen.pid)
    return popen.pid


def _virtiofsd_options(fs: etree._Element, source_dir: str) -> str:
    options = "source=" + source_dir.replace(",", ",,")
    binary = fs.find("binary")
    cache = binary.find("cache") if binary is not None else None
    if cache is not None and cache.get("mode"):
        options += f",cache={cache.get('mode')}"
    sandbox = binary.find("sandbox") if binary is not None else None
    if sandbox is not None and sandbox.get("mode"):
        options += f",sandbox={sandbox.get('mode')}"
    if binary is not None:
        xattr = binary.get("xattr")
        if xattr in ("on", "off"):
            options += ",xattr" if xattr == "on" else ",no_xattr"
        lock = binary.find("lock")
        if lock is not None:
            for attr, option in (("flock", "flock"), ("posix", "posix_lock")):
                value = lock.get(attr)
                if value in ("on", "off"):
                    options += f",{'' if value == 'on' else 'no_'}{option}"
    return options


def _find_virtiofsd() -> str:
    """``qemuVhostUserFillDomainFS``: the first vhost-user descriptor of type ``fs``."""
    chosen: dict[str, Path] = {}
    for directory in VHOST_USER_DIRS:
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name.endswith(".json") and entry.is_file():
                    chosen[entry.name] = Path(entry.path)
    for file_name in sorted(chosen):
        try:
            data = json.loads(chosen[file_name].read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:
            log.warning("ignoring malformed vhost-user descriptor %s: %s", file_name, exc)
            continue
        if isinstance(data, dict) and data.get("type") == "fs" and data.get("binary"):
            return str(data["binary"])
    raise OperationFailedError("Unable to find a satisfying virtiofsd", domain=_QEMU)


def _listen(path: Path) -> socket.socket:
    if not fits_sun_path(path):
        raise InternalError(f"UNIX socket path '{path}' too long", domain=_QEMU)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        sock.listen(1)
    except OSError as exc:
        sock.close()
        raise SystemCallError.from_os_error(
            f"Failed to bind socket to '{path}'", exc, domain=_QEMU
        ) from exc
    return sock


# -- stop ----------------------------------------------------------------------------


def stop_helpers(paths: StatePaths, domain: DomainDef, dom_id: int, lib_dir: Path | None) -> None:
    """``qemuExtDevicesStop``: end the helpers of the guest that ran with *dom_id*."""
    name = str(domain.name)
    if tpm_emulators(domain):
        sock, pidfile, _logfile = _tpm_paths(paths, name, dom_id)
        _terminate(pidfile, "swtpm")
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
    for alias, _fs in virtiofs_filesystems(domain):
        pidfile = paths.state_dir / f"{_short(dom_id, name)}-{alias}-virtiofsd.pid"
        _terminate(pidfile, "virtiofsd")
        if lib_dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (lib_dir / f"{alias}-fs.sock").unlink()


def _terminate(pidfile: Path, program: str) -> None:
    """End the *program* whose pid *pidfile* holds, if it still runs; remove the file.

    SIGTERM, then SIGKILL if it is still there after :data:`STOP_WAIT` seconds.
    """
    pid = _read_pid(pidfile)
    with contextlib.suppress(FileNotFoundError):
        pidfile.unlink()
    if pid is None or not _runs(pid, program):
        return
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                return
            except OSError as exc:
                log.warning("cannot stop %s (pid %d): %s", program, pid, exc)
                return
            # Wait, so that a start right after this one finds the TPM state unlocked.
            ready, _, _ = select.select([pidfd], [], [], STOP_WAIT)
            if ready:
                return
        log.warning("%s (pid %d) outlived SIGKILL", program, pid)
    finally:
        os.close(pidfd)


def _runs(pid: int, program: str) -> bool:
    """Whether *pid* is a live *program* (a recycled pid must not be signalled)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    argv0 = cmdline.split(b"\0", 1)[0]
    return state not in (b"Z", b"X") and os.path.basename(argv0).startswith(program.encode())


# -- small pieces --------------------------------------------------------------------


def _binary(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/bin:/usr/sbin")
    if found is None:
        missing = OSError(errno.ENOENT, os.strerror(errno.ENOENT))
        raise SystemCallError.from_os_error(f"Unable to find '{program}' binary in $PATH", missing)
    return found


def _log_command(logfile: Path, argv: Sequence[str]) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    with contextlib.suppress(OSError), open(logfile, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp}+0000: starting up\n{' '.join(argv)}\n")


def _read_pid(pidfile: Path) -> int | None:
    try:
        text = pidfile.read_text("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _wait_pidfile(pidfile: Path, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        pid = _read_pid(pidfile)
        if pid is not None and _runs(pid, "swtpm"):
            return pid
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _write_pidfile(pidfile: Path, pid: int) -> None:
    try:
        pidfile.write_text(f"{pid}\n", encoding="ascii")
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"Failed to write pid file '{pidfile}'", exc, domain=_QEMU
        ) from exc
