"""``start --console`` and ``create --console``: attaching the terminal to a guest console.

On a terminal, virtcore prints what virsh prints and fails the same way on
``test:///default`` (whose driver has no consoles), compared byte for byte
through a pseudo-terminal. A driver that does open consoles is simulated by
giving the test driver a console backend: keystrokes reach the guest, guest
output reaches the terminal, and the escape character ends the session.
"""

from __future__ import annotations

import io
import os
import pty
import queue
import shutil
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from tests.cli.differential import DEFAULT, Result
from tests.libvirt_oracle import oracle_missing
from virtcore.cli import main
from virtcore.cli.console import escape_byte, run_console
from virtcore.cli.context import CommandError, Ctx
from virtcore.drivers.test.driver import reset_default_host
from virtcore.drivers.test.hypervisor import TestHypervisorDriver
from virtcore.objects import Stream, StreamBackend

SAFETY_TIMEOUT = 30.0
POLL_SECONDS = 0.01

# Command lines run with standard input on a terminal, through virsh and virtcore.
ON_A_TERMINAL = {
    "start-console-unsupported": ["-c", DEFAULT, "destroy test; start test --console"],
    "create-console-unsupported": ["-c", DEFAULT, "create new.xml --console; list"],
    "console-other-escape": ["-e", "^x", "-c", DEFAULT, "create new.xml --console"],
    "console-quiet": ["-q", "-c", DEFAULT, "destroy test; start test --console"],
}


def _run_on_terminal(command: list[str], cwd: Path) -> Result:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            command,
            cwd=cwd,
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=SAFETY_TIMEOUT,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith(("VIRSH_", "LIBVIRT_"))},
        )
    finally:
        os.close(slave)
        os.close(master)
    return Result(proc.stdout, proc.stderr, proc.returncode)


@pytest.mark.parametrize("argv", ON_A_TERMINAL.values(), ids=ON_A_TERMINAL.keys())
def test_console_on_a_terminal_matches_virsh(argv: list[str], workdir: Path) -> None:
    virsh = shutil.which("virsh")
    if virsh is None:
        oracle_missing("virsh (libvirt-clients)")
    expected = _run_on_terminal([virsh, *argv], workdir)
    actual = _run_on_terminal([sys.executable, "-m", "virtcore", *argv], workdir)
    assert actual == expected


def test_escape_sequences_name_control_characters() -> None:
    assert (escape_byte("^]"), escape_byte("^x"), escape_byte("q")) == (0x1D, 0x18, ord("q"))


class GuestConsole(StreamBackend):
    """The guest end of a console: records keystrokes, replays queued output."""

    def __init__(self, output: list[bytes]) -> None:
        self.keystrokes = bytearray()
        self.output: queue.Queue[bytes] = queue.Queue()
        for chunk in output:
            self.output.put(chunk)
        self.closed_by: str | None = None

    def send(self, data: bytes) -> int:
        self.keystrokes += data
        return len(data)

    def recv(self, nbytes: int) -> bytes:
        return self.output.get(timeout=SAFETY_TIMEOUT)

    def finish(self) -> None:
        self.closed_by = "finish"
        self.output.put(b"")

    def abort(self) -> None:
        self.closed_by = "abort"
        self.output.put(b"")


@pytest.fixture
def guest(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[GuestConsole]:
    """The test driver with consoles: each opened console is this guest."""
    console = GuestConsole([b"login: "])

    def domain_open_console(self: TestHypervisorDriver, *args: object) -> None:
        # (conn, dom, dev_name, stream, flags), as the connection passes them.
        stream = args[3]
        assert isinstance(stream, Stream)
        stream.bind(console)

    monkeypatch.setattr(
        TestHypervisorDriver, "domain_open_console", domain_open_console, raising=False
    )
    monkeypatch.chdir(workdir)
    reset_default_host()
    yield console
    reset_default_host()


def _type_once_raw(master: int, slave: int, typed: bytes) -> None:
    """Type *typed* once the console has put the terminal in raw mode.

    Switching to raw mode discards type-ahead (as in virsh), so typing earlier
    would be lost.
    """
    polls = int(SAFETY_TIMEOUT / POLL_SECONDS)
    for _ in range(polls):
        if not termios.tcgetattr(slave)[3] & termios.ICANON:
            os.write(master, typed)
            return
        time.sleep(POLL_SECONDS)


def _run_with_terminal_input(line: str, typed: bytes, *options: str) -> tuple[int, str, str]:
    """Run *line* in-process, typing *typed* on the terminal that is its standard input."""
    master, slave = pty.openpty()
    out, err = io.StringIO(), io.StringIO()
    terminal: TextIO = os.fdopen(slave, "r", closefd=True)
    typist = threading.Thread(target=_type_once_raw, args=(master, slave, typed), daemon=True)
    if typed:
        typist.start()
    try:
        status = main([*options, "-c", DEFAULT, line], out=out, err=err, stdin=terminal)
    finally:
        terminal.close()
        os.close(master)
    return status, out.getvalue(), err.getvalue()


def test_start_console_carries_keystrokes_to_the_guest(guest: GuestConsole) -> None:
    status, _, _ = _run_with_terminal_input("destroy test; start test --console", b"root\r\x1d")
    assert (status, bytes(guest.keystrokes)) == (0, b"root\r")


def test_start_console_shows_guest_output(guest: GuestConsole) -> None:
    _, out, _ = _run_with_terminal_input("destroy test; start test --console", b"\x1d")
    assert out.endswith(
        "Domain 'test' started\nConnected to domain 'test'\n"
        "Escape character is ^] (Ctrl + ])\nlogin: \n"
    )


def test_escape_character_finishes_the_console_stream(guest: GuestConsole) -> None:
    _run_with_terminal_input("create new.xml --console", b"\x1d", "-q")
    assert guest.closed_by == "finish"


def test_keystrokes_after_the_escape_character_are_not_sent(guest: GuestConsole) -> None:
    _run_with_terminal_input("destroy test; start test --console", b"ab\x18cd", "-e", "^x")
    assert bytes(guest.keystrokes) == b"ab"


def test_console_ends_when_the_guest_closes_it(guest: GuestConsole) -> None:
    guest.output.put(b"bye\n")
    guest.output.put(b"")
    status, out, _ = _run_with_terminal_input("destroy test; start test --console", b"")
    assert (status, out.endswith("login: bye\n\n")) == (0, True)


def test_console_of_a_stopped_domain_is_refused(guest: GuestConsole) -> None:
    ctx = Ctx(io.StringIO(), io.StringIO(), uri=DEFAULT)
    dom = ctx.conn.domain_lookup_by_name("test")
    dom.destroy()
    with pytest.raises(CommandError, match=r"^The domain is not running$"):
        run_console(ctx, dom)
