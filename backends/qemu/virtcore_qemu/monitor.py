"""QEMU processes at the operating-system level: monitor socket, spawn, exit watch, kill.

* :class:`MonitorSocket` binds the listening monitor socket in the guest's
  private directory *before* QEMU starts and hands its descriptor to QEMU
  (``-chardev socket,fd=N``), so there is no window in which QEMU is running
  without a monitor, and no path-length limit: a path longer than ``sun_path``
  is reached through ``/proc/self/fd/<dirfd>/monitor.sock``, both to bind (under
  a temporary name, then renamed into place) and to connect.
* :func:`spawn` starts QEMU in its own session (``start_new_session``) so it
  outlives this process, with stdout/stderr appended to the guest's log.
* :class:`ProcessWatch` reports, once, that QEMU exited: a waiter thread on the
  :class:`subprocess.Popen` of a child (which also reaps it), or a ``pidfd``
  of a process started by an earlier owner of the state directory.
* :func:`kill_painfully` is libvirt's ``virProcessKillPainfully``: SIGTERM,
  wait (on a ``pidfd`` of its own: woken the moment QEMU exits), then
  SIGKILL if *force*.
* :func:`connect_monitor` opens the QMP session on such a socket.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from virtcore.errors import OperationFailedError, SystemCallError
from virtcore_qemu.paths import fits_sun_path
from virtcore_qemu.qmp import EventHandler, QMPClient

__all__ = [
    "MonitorSocket",
    "ProcessWatch",
    "connect_monitor",
    "kill_painfully",
    "pid_alive",
    "spawn",
]

log = logging.getLogger(__name__)

MONITOR_SOCKET = "monitor.sock"

#: How long ``kill_painfully`` waits after SIGTERM, then after SIGKILL (libvirt: 10 s + 5 s).
TERM_WAIT = 10.0
KILL_WAIT = 5.0


class MonitorSocket:
    """The listening monitor socket of one guest, bound before QEMU starts.

    Keep the object until QEMU has been spawned (the child inherits
    :attr:`fileno`), then :meth:`close` it: QEMU owns the listening socket.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MONITOR_SOCKET
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._bind()
            self._sock.listen(1)
        except BaseException:
            self._sock.close()
            raise
        # QEMU needs the descriptor without close-on-exec; Popen(pass_fds) arranges that.

    def _bind(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        temp = f".{MONITOR_SOCKET}.{os.getpid()}.tmp"
        dirfd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if fits_sun_path(self.directory / temp):
                address = str(self.directory / temp)
            else:
                address = f"/proc/self/fd/{dirfd}/{temp}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp, dir_fd=dirfd)
            try:
                self._sock.bind(address)
            except OSError as exc:
                raise SystemCallError.from_os_error(
                    f"Failed to bind socket to '{self.path}'", exc
                ) from exc
            # The socket appears under its final name only once it listens.
            os.chmod(temp, 0o600, dir_fd=dirfd)
            os.rename(temp, MONITOR_SOCKET, src_dir_fd=dirfd, dst_dir_fd=dirfd)
        finally:
            os.close(dirfd)

    def fileno(self) -> int:
        """The listening descriptor to pass to QEMU."""
        return self._sock.fileno()

    def close(self) -> None:
        """Close this process's copy of the listening socket."""
        self._sock.close()


def connect_monitor(
    path: Path,
    *,
    name: str,
    timeout: float,
    on_event: EventHandler | None,
    on_eof: Callable[[], None] | None,
    alive: Callable[[], bool] | None = None,
) -> QMPClient:
    """Open the QMP session on the monitor socket at *path*, however long the path."""
    if fits_sun_path(path):
        return QMPClient.connect(
            path, name=name, timeout=timeout, on_event=on_event, on_eof=on_eof, alive=alive
        )
    try:
        dirfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise SystemCallError.from_os_error(
            f"failed to connect to monitor socket '{path}'", exc
        ) from exc
    try:
        return QMPClient.connect(
            f"/proc/self/fd/{dirfd}/{path.name}",
            name=name,
            timeout=timeout,
            on_event=on_event,
            on_eof=on_eof,
            alive=alive,
        )
    finally:
        os.close(dirfd)


def spawn(
    argv: Sequence[str], *, log_path: Path, pass_fds: Sequence[int]
) -> subprocess.Popen[bytes]:
    """Start QEMU detached in its own session, output appended to *log_path*."""
    try:
        logfd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"failed to create logfile {log_path}", exc) from exc
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        header = f"{stamp}+0000: starting up\n" + " ".join(_shell_quote(a) for a in argv) + "\n"
        os.write(logfd, header.encode("utf-8", "replace"))
        env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        try:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=logfd,
                stderr=logfd,
                pass_fds=tuple(pass_fds),
                start_new_session=True,
                env=env,
                cwd="/",
            )
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"Cannot find QEMU binary {argv[0]}"
                if exc.errno == errno.ENOENT
                else f"Cannot run QEMU binary {argv[0]}",
                exc,
            ) from exc
    finally:
        os.close(logfd)


def _shell_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_=,./:@+%" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def pid_alive(pid: int) -> bool:
    """Whether a process (not a zombie) with *pid* exists."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    # The state letter follows the parenthesised command name.
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


class ProcessWatch:
    """Calls *on_exit* once when QEMU (pid *pid*) has exited.

    With *popen* (a child of this process) a thread waits for it and reaps it;
    otherwise a ``pidfd`` of *pid* is polled. :meth:`wait` blocks until exit.
    """

    def __init__(
        self,
        pid: int,
        on_exit: Callable[[], None],
        *,
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.pid = pid
        self._popen = popen
        self._on_exit = on_exit
        self._exited = threading.Event()
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC)
        self._pidfd: int | None = None
        if popen is None:
            try:
                self._pidfd = os.pidfd_open(pid)
            except ProcessLookupError:
                self._pidfd = None
        self._thread = threading.Thread(target=self._run, name=f"qemu-watch-{pid}", daemon=True)
        self._thread.start()

    @property
    def exited(self) -> bool:
        """True once QEMU has exited."""
        return self._exited.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for the exit; True if it happened."""
        return self._exited.wait(timeout)

    def detach(self) -> None:
        """Stop watching (QEMU keeps running); *on_exit* will not be called."""
        self._on_exit = _nothing
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")

    def _run(self) -> None:
        try:
            if self._popen is not None:
                self._wait_child(self._popen)
            elif self._pidfd is not None:
                self._wait_pidfd(self._pidfd)
        finally:
            detached = self._on_exit is _nothing
            if not detached:
                self._exited.set()
            for fd in (self._pidfd, self._stop_r, self._stop_w):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            if not detached:
                try:
                    self._on_exit()
                except Exception:
                    log.exception("handling the exit of QEMU process %d failed", self.pid)

    def _wait_child(self, popen: subprocess.Popen[bytes]) -> None:
        # A pidfd lets detach() interrupt the wait; waitpid reaps afterwards.
        try:
            fd = os.pidfd_open(popen.pid)
        except ProcessLookupError:
            popen.wait()
            return
        try:
            self._wait_pidfd(fd)
        finally:
            os.close(fd)
        if self._on_exit is not _nothing:
            popen.wait()

    def _wait_pidfd(self, fd: int) -> None:
        while True:
            ready, _, _ = select.select([fd, self._stop_r], [], [])
            if self._stop_r in ready or fd in ready:
                return


def _nothing() -> None:
    return None


def kill_painfully(pid: int, watch: ProcessWatch | None, *, force: bool) -> None:
    """SIGTERM, wait up to 10 s; then, if *force*, SIGKILL and wait up to 5 s more.

    Raises libvirt's ``"Failed to terminate process N with SIGTERM"`` (or
    ``SIGKILL``) system error if the process outlives that.
    """

    def gone(timeout: float) -> bool:
        if watch is not None and watch.exited:
            return True
        # The caller's own pidfd wakes it the moment QEMU exits, in parallel
        # with the watch thread that reaps it (no hand-off between threads).
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return True
        except OSError:
            return _poll_gone(pid, timeout)
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        return bool(ready)

    for signum, wait in ((signal.SIGTERM, TERM_WAIT), (signal.SIGKILL, KILL_WAIT)):
        if signum == signal.SIGKILL and not force:
            break
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"Failed to terminate process {pid} with SIG{signum.name[3:]}", exc
            ) from exc
        if gone(wait):
            return
    name = "SIGKILL" if force else "SIGTERM"
    busy = OSError(errno.EBUSY, os.strerror(errno.EBUSY))
    raise SystemCallError.from_os_error(f"Failed to terminate process {pid} with {name}", busy)


def _poll_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def read_pidfile(path: Path) -> int | None:
    """The pid QEMU wrote to *path*, if the file holds one."""
    try:
        text = path.read_text("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def require_alive(pid: int) -> None:
    """Raise libvirt's error for a guest whose QEMU vanished."""
    if not pid_alive(pid):
        raise OperationFailedError("domain is no longer running")
