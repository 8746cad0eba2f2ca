"""The interactive shell, driven through a pseudo-terminal and through a pipe."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT
from virtcore.cli import main
from virtcore.drivers.test.driver import reset_default_host

PROMPT = b"virtcore # "
SAFETY_TIMEOUT = 30.0


class Terminal:
    """A virtcore shell on the slave side of a pseudo-terminal."""

    def __init__(self, home: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache")}
        env.pop("VIRTCORE_DEFAULT_URI", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "virtcore", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.transcript = b""

    def read_until(self, marker: bytes) -> bytes:
        """Output up to and including *marker* (the safety timeout only guards a hang)."""
        start = len(self.transcript)
        while marker not in self.transcript[start:]:
            ready, _, _ = select.select([self.master], [], [], SAFETY_TIMEOUT)
            if not ready:
                raise AssertionError(f"no {marker!r} in {self.transcript[start:]!r}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"shell ended before {marker!r}: {self.transcript!r}")
            self.transcript += chunk
        return self.transcript[start:]

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> int:
        status = self.proc.wait(timeout=SAFETY_TIMEOUT)
        os.close(self.master)
        return status


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path, "-c", DEFAULT)
    term.read_until(PROMPT)
    yield term
    if term.proc.poll() is None:
        term.proc.kill()
        term.proc.wait()


def test_tab_completes_a_domain_name(terminal: Terminal) -> None:
    terminal.send(b"dominfo te\t")
    assert terminal.read_until(b"test").endswith(b"dominfo test")
    terminal.send(b"\n")
    assert b"UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f" in terminal.read_until(PROMPT)


def test_tab_completes_a_command_name(terminal: Terminal) -> None:
    terminal.send(b"net-inf\t")
    terminal.read_until(b"net-info")
    terminal.send(b" default\n")
    assert b"Bridge:         virbr0" in terminal.read_until(PROMPT)


def test_tab_completes_an_option(terminal: Terminal) -> None:
    terminal.send(b"list --al\t\n")
    assert b" 1    test   running" in terminal.read_until(PROMPT)


def test_a_failing_command_does_not_end_the_shell(terminal: Terminal) -> None:
    terminal.send(b"nosuchcmd\n")
    assert b"error: unknown command: 'nosuchcmd'" in terminal.read_until(PROMPT)
    terminal.send(b"dominfo nosuch\n")
    assert b"error: failed to get domain 'nosuch'" in terminal.read_until(PROMPT)
    terminal.send(b"hostname\n")
    assert b"vm" in terminal.read_until(PROMPT)


def test_quit_ends_the_shell_successfully(terminal: Terminal) -> None:
    terminal.send(b"quit\n")
    assert terminal.close() == 0


def test_history_is_saved_on_exit(tmp_path: Path) -> None:
    term = Terminal(tmp_path, "-c", DEFAULT)
    term.read_until(PROMPT)
    term.send(b"hostname\n")
    term.read_until(PROMPT)
    term.send(b"exit\n")
    assert term.close() == 0
    history = (tmp_path / "cache" / "virtcore" / "history").read_text()
    assert "hostname" in history.splitlines()


def test_readonly_prompt(tmp_path: Path) -> None:
    term = Terminal(tmp_path, "-r", "-c", DEFAULT)
    term.read_until(b"virtcore > ")
    term.send(b"quit\n")
    assert term.close() == 0


def test_piped_input_is_echoed_like_a_terminal_transcript() -> None:
    reset_default_host()
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["-c", DEFAULT], out=out, err=err, stdin=io.StringIO("uri\ndominfo nosuch\nhostname\n")
    )
    reset_default_host()
    assert status == 0
    assert out.getvalue() == (
        "Welcome to virtcore, the virtualization interactive terminal.\n\n"
        "Type:  'help' for help with commands\n"
        "       'quit' to quit\n\n"
        "virtcore # uri\ntest:///default\n\n"
        "virtcore # dominfo nosuch\n\n"
        "virtcore # hostname\nvm\n\n"
        "virtcore # \n"
    )
    assert err.getvalue() == "error: failed to get domain 'nosuch'\n"


def test_quiet_shell_has_no_banner(tmp_path: Path) -> None:
    reset_default_host()
    out = io.StringIO()
    main(["-q", "-c", DEFAULT], out=out, err=io.StringIO(), stdin=io.StringIO("quit\n"))
    reset_default_host()
    assert out.getvalue() == "virtcore # quit\n\n"


def test_cd_works_in_the_shell(tmp_path: Path) -> None:
    reset_default_host()
    out = io.StringIO()
    before = os.getcwd()
    try:
        main(
            ["-q", "-c", DEFAULT],
            out=out,
            err=io.StringIO(),
            stdin=io.StringIO(f"cd {tmp_path}\npwd\n"),
        )
    finally:
        os.chdir(before)
        reset_default_host()
    assert f"{tmp_path}\n" in out.getvalue()


def test_state_carries_across_shell_lines() -> None:
    reset_default_host()
    out = io.StringIO()
    main(
        ["-q", "-c", DEFAULT],
        out=out,
        err=io.StringIO(),
        stdin=io.StringIO("destroy test\ndomstate test\n"),
    )
    reset_default_host()
    assert "virtcore # domstate test\nshut off\n" in out.getvalue()
