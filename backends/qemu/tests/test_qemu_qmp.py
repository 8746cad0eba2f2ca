"""The QMP client against a real QEMU (TCG, no guest code)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import OperationTimeoutError
from virtcore_qemu.qmp import MonitorClosedError, QMPClient, QMPCommandError, QMPEvent

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"


@pytest.fixture
def qemu(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    sock = tmp_path / "monitor.sock"
    proc = subprocess.Popen(
        [
            QEMU, "-S", "-nodefaults", "-display", "none", "-machine", "none",
            "-accel", "tcg",
            "-chardev", f"socket,id=mon,path={sock},server=on,wait=off",
            "-mon", "chardev=mon,mode=control",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc, sock
    finally:
        proc.kill()
        proc.wait()


def test_connect_negotiates_and_reports_the_qemu_version(
    qemu: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, sock = qemu
    with QMPClient.connect(sock, alive=lambda: proc.poll() is None, timeout=10) as client:
        major, minor, _ = client.version
        assert (major, minor) >= (7, 0)
        assert client.execute("query-status")["status"] == "prelaunch"


def test_error_reply_raises_libvirts_internal_error(
    qemu: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, sock = qemu
    with QMPClient.connect(sock, alive=lambda: proc.poll() is None, timeout=10) as client:
        with pytest.raises(QMPCommandError) as info:
            client.execute("no-such-command")
    err = info.value
    assert err.code == ErrorNumber.INTERNAL_ERROR
    assert err.domain == ErrorDomain.QEMU
    assert err.error_class == "CommandNotFound"
    assert err.message.startswith(
        "internal error: unable to execute QEMU command 'no-such-command': "
    )


def test_concurrent_commands_get_their_own_replies(
    qemu: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, sock = qemu
    results: list[str] = []
    with QMPClient.connect(sock, alive=lambda: proc.poll() is None, timeout=10) as client:

        def worker() -> None:
            for _ in range(20):
                results.append(client.execute("query-status")["status"])
                assert client.execute("query-name") == {}

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert results == ["prelaunch"] * 80


def test_events_reach_the_handler_and_eof_follows_them(
    qemu: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, sock = qemu
    events: list[QMPEvent] = []
    eof = threading.Event()
    client = QMPClient.connect(
        sock, alive=lambda: proc.poll() is None, timeout=10,
        on_event=events.append, on_eof=eof.set,
    )  # fmt: skip
    client.execute("quit")
    assert eof.wait(10)
    assert [e.name for e in events] == ["SHUTDOWN"]
    assert events[0].data["reason"] == "host-qmp-quit"
    assert events[0].timestamp > 0
    assert client.closed
    with pytest.raises(MonitorClosedError) as info:
        client.execute("query-status")
    assert info.value.code == ErrorNumber.OPERATION_FAILED


def test_a_handler_may_issue_commands(qemu: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, sock = qemu
    seen: list[str] = []
    done = threading.Event()

    def handler(event: QMPEvent) -> None:
        seen.append(client.execute("query-status")["status"])
        done.set()

    client = QMPClient.connect(
        sock, alive=lambda: proc.poll() is None, timeout=10, on_event=handler
    )
    with client:
        client.execute("cont")
        assert done.wait(10)
    assert seen == ["running"]


def test_passing_a_file_descriptor(
    qemu: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, sock = qemu
    fd = os.open(tmp_path / "blob", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with QMPClient.connect(sock, alive=lambda: proc.poll() is None, timeout=10) as client:
            client.execute("getfd", {"fdname": "save"}, fds=[fd])
            client.execute("closefd", {"fdname": "save"})
            with pytest.raises(QMPCommandError):
                client.execute("closefd", {"fdname": "save"})
    finally:
        os.close(fd)


def test_a_missing_socket_times_out(tmp_path: Path) -> None:
    with pytest.raises(OperationTimeoutError):
        QMPClient.connect(tmp_path / "none.sock", timeout=0.2)


def test_a_dead_qemu_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(MonitorClosedError):
        QMPClient.connect(tmp_path / "none.sock", timeout=30, alive=lambda: False)
