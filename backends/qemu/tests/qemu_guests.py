"""Helpers for the QEMU driver tests: tiny TCG guests, event capture, QEMU cleanup.

Guests need no operating system: ``<domain type='qemu'>`` with 32 MiB, one
vCPU, a pty serial port and, when asked, a small raw disk. Every QEMU a test
starts under an embed root is recorded in ``<root>/run/qemu/<name>.pid``;
:func:`kill_guests` kills whatever is still running there, so fixtures can
guarantee nothing outlives a test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from virtcore.events import Event, EventSource

QEMU_IMG = "/usr/bin/qemu-img"

#: Safety bound of every wait in the tests; reaching it means a bug.
WAIT = 20.0


def guest_xml(
    name: str,
    *,
    disk_file: str | None = None,
    volume: tuple[str, str] | None = None,
    on_poweroff: str | None = None,
    uuid: str | None = None,
) -> str:
    """A tiny TCG guest; optionally with a raw file disk or a volume disk (``vda``)."""
    disks = ""
    if disk_file is not None:
        disks += (
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{disk_file}'/><target dev='vda' bus='virtio'/></disk>"
        )
    if volume is not None:
        pool, vol = volume
        disks += (
            "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
            f"<source pool='{pool}' volume='{vol}'/><target dev='vdb' bus='virtio'/></disk>"
        )
    extra = f"<uuid>{uuid}</uuid>" if uuid else ""
    lifecycle = f"<on_poweroff>{on_poweroff}</on_poweroff>" if on_poweroff else ""
    return (
        f"<domain type='qemu'><name>{name}</name>{extra}"
        "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        f"{lifecycle}"
        f"<devices>{disks}<serial type='pty'/></devices></domain>"
    )


def pool_xml(name: str, path: Path) -> str:
    """A ``dir`` storage pool at *path*."""
    return f"<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>"


def volume_xml(name: str, size_kib: int = 1024) -> str:
    """A raw volume of *size_kib* KiB."""
    return (
        f"<volume><name>{name}</name><capacity unit='KiB'>{size_kib}</capacity>"
        "<target><format type='raw'/></target></volume>"
    )


def make_raw_disk(path: Path, size: str = "1M") -> str:
    """Create a raw image with qemu-img; returns its path."""
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "raw", str(path), size], check=True)
    return str(path)


def guest_pids(root: Path) -> list[int]:
    """Every running QEMU whose log lives under embed root *root*.

    QEMU's stdout is ``<root>/log/qemu/<name>.log``; looking at the open
    files finds guests whatever state files say (or no longer say).
    """
    logs = str(root / "log" / "qemu") + "/"
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or not _is_qemu(int(proc.name)):
            continue
        with contextlib.suppress(OSError):
            if os.readlink(proc / "fd" / "1").startswith(logs):
                pids.append(int(proc.name))
    return pids


def pid_running(pid: int) -> bool:
    """Whether *pid* is a live (non-zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


def kill_guests(root: Path) -> None:
    """SIGKILL every QEMU running for embed root *root*."""
    for pid in guest_pids(root):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _is_qemu(pid: int) -> bool:
    try:
        return b"qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def wait_until(predicate: Any, timeout: float = WAIT) -> bool:
    """Poll *predicate* until true or *timeout*; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


class EventLog:
    """Domain events of an :class:`EventSource`, as ``(name, event_id, args)`` tuples."""

    def __init__(self, source: EventSource) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.events: list[tuple[str, int, tuple[Any, ...]]] = []
        self._source = source
        self._token = source.subscribe(self._add)

    def _add(self, event: Event) -> None:
        with self._cond:
            self.events.append((event.obj.name, event.event_id, tuple(event.args)))
            self._cond.notify_all()

    def close(self) -> None:
        """Stop recording."""
        self._source.unsubscribe(self._token)

    def lifecycle(self, name: str) -> list[tuple[int, int]]:
        """The lifecycle ``(event, detail)`` pairs of domain *name*, once emitted ones arrived."""
        self._source.dispatcher.flush(WAIT)
        with self._lock:
            return [(a[0], a[1]) for n, i, a in self.events if n == name and i == 0]

    def of(self, name: str, event_id: int) -> list[tuple[Any, ...]]:
        """The argument tuples of the events *event_id* of *name*."""
        with self._lock:
            return [a for n, i, a in self.events if n == name and i == event_id]

    def wait_for(self, name: str, event_id: int, args: tuple[Any, ...] | None = None) -> bool:
        """Wait until *name* got event *event_id* (with *args*, if given)."""

        def seen() -> bool:
            return any(
                n == name and i == event_id and (args is None or a == args)
                for n, i, a in self.events
            )

        with self._cond:
            return self._cond.wait_for(seen, WAIT)


# -- the restart scenario's first managing process -------------------------------------

#: Guests the first process leaves behind, and why.
VOLUME_GUEST = "vol-guest"  # disk = volume of the autostart pool 'vols'
FILE_GUEST = "file-guest"  # disk = a plain file
ORPHAN_GUEST = "orphan"  # disk = volume of pool 'gone', deleted after the guest started
STOPPED_GUEST = "stopped"  # autostart, but shut down on purpose


def child_main(root: str, mode: str) -> None:
    """Run as ``python -c``: start the scenario's guests under *root*, then exit or hang.

    *mode* ``exit`` returns normally (the process exits without stopping the
    guests); ``hang`` prints READY and sleeps until the test SIGKILLs it.
    """
    import sys

    import virtcore

    base = Path(root)
    with virtcore.open(f"qemu:///embed?root={root}") as conn:
        vols = conn.storage_pool_define_xml(pool_xml("vols", base / "pool-vols"))
        vols.build()
        vols.create()
        vols.set_autostart(True)
        vols.vol_create_xml(volume_xml("disk.img"))
        gone = conn.storage_pool_define_xml(pool_xml("gone", base / "pool-gone"))
        gone.build()
        gone.create()
        gone.vol_create_xml(volume_xml("g.img"))
        disk = make_raw_disk(base / "plain.img")
        for name, kwargs in (
            (VOLUME_GUEST, {"volume": ("vols", "disk.img")}),
            (FILE_GUEST, {"disk_file": disk}),
            (ORPHAN_GUEST, {"volume": ("gone", "g.img")}),
            (STOPPED_GUEST, {}),
        ):
            conn.domain_define_xml(guest_xml(name, **kwargs)).create()
        stopped = conn.domain_lookup_by_name(STOPPED_GUEST)
        stopped.set_autostart(True)
        stopped.destroy()
        gone.destroy()
        gone.undefine()
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        if mode == "hang":
            time.sleep(3600)


def run_child(root: Path, mode: str) -> subprocess.Popen[str]:
    """Start :func:`child_main` in a new Python process; returns once it printed READY."""
    import sys

    here = str(Path(__file__).resolve().parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import qemu_guests; "
        f"qemu_guests.child_main({str(root)!r}, {mode!r})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "READY":
        proc.kill()
        _, err = proc.communicate(timeout=WAIT)
        raise AssertionError(f"first managing process failed: {line}{err}")
    return proc
