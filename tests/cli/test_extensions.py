"""What virtcore adds to virsh: progress display, volume transfers, defaults and help texts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, run_virtcore
from virtcore.cli import main
from virtcore.cli.context import Ctx
from virtcore.cli.progress import TransferProgress, progress_enabled, run_job
from virtcore.drivers.test.driver import reset_default_host


class TerminalStream(io.StringIO):
    """A captured stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def run_with_terminal_stderr(argv: list[str], cwd: Path) -> tuple[str, str, int]:
    reset_default_host()
    out, err = io.StringIO(), TerminalStream()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        status = main(argv, out=out, err=err)
    finally:
        os.chdir(before)
        reset_default_host()
    return out.getvalue(), err.getvalue(), status


def test_save_progress_is_shown_by_default_on_a_terminal(workdir: Path) -> None:
    out, err, status = run_with_terminal_stderr(["-c", DEFAULT, "save test sv.img"], workdir)
    assert (out, err, status) == ("\nDomain 'test' saved to sv.img\n\n", "\rSave: [100 %]", 0)


def test_quiet_turns_the_default_progress_off(workdir: Path) -> None:
    _, err, _ = run_with_terminal_stderr(["-q", "-c", DEFAULT, "managedsave test"], workdir)
    assert err == ""


def test_save_without_terminal_shows_no_progress(workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "save test sv.img"], workdir)
    assert result.err == ""


def test_restore_verbose_progress_ends_its_line(workdir: Path) -> None:
    result = run_virtcore(
        ["-q", "-c", DEFAULT, "save test sv.img; restore sv.img --verbose"], workdir
    )
    assert result.err == "\nRestore: [100 %]\n"
    assert result.status == 0


def test_failed_job_leaves_no_completed_progress() -> None:
    err = TerminalStream()
    ctx = Ctx(io.StringIO(), err)

    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_job(ctx, "Save", True, fail)
    assert "100 %" not in err.getvalue()


def test_transfer_progress_redraws_only_when_the_percentage_changes() -> None:
    err = TerminalStream()
    ctx = Ctx(io.StringIO(), err)
    progress = TransferProgress(ctx, "Upload", 200, True)
    progress.advance(1)
    progress.advance(1)
    progress.advance(98)
    progress.finish()
    assert (
        err.getvalue() == "\rUpload: [  0 %]\rUpload: [  1 %]\rUpload: [ 50 %]\rUpload: [100 %]\n"
    )


def test_progress_is_off_for_pipes_unless_verbose() -> None:
    ctx = Ctx(io.StringIO(), io.StringIO())
    assert not progress_enabled(ctx, False)
    assert progress_enabled(ctx, True)


def test_volume_upload_then_download_round_trips_the_data(workdir: Path) -> None:
    payload = bytes(range(256)) * 16
    (workdir / "in.bin").write_bytes(payload)
    result = run_virtcore(
        [
            "-c",
            DEFAULT,
            "vol-create-as default-pool a.img 4K; "
            "vol-upload a.img in.bin --pool default-pool --verbose; "
            "vol-download a.img out.bin --pool default-pool",
        ],
        workdir,
    )
    assert result.status == 0, result.err
    assert (workdir / "out.bin").read_bytes() == payload
    assert result.err.endswith("Upload: [100 %]\n")


def test_volume_wipe_and_resize(workdir: Path) -> None:
    result = run_virtcore(
        [
            "-c",
            DEFAULT,
            "vol-create-as default-pool a.img 4K; vol-wipe a.img --pool default-pool; "
            "vol-resize a.img 8K --pool default-pool; vol-info a.img --pool default-pool --bytes",
        ],
        workdir,
    )
    assert result.out == (
        "Vol a.img created\n\n"
        "Vol a.img wiped\n\n"
        "Size of volume 'a.img' successfully changed to 8K\n\n"
        "Name:           a.img\nType:           file\n"
        "Capacity:       8192 bytes\nAllocation:     4096 bytes\n\n"
    )


def test_failed_download_removes_the_file_it_created(workdir: Path) -> None:
    result = run_virtcore(
        ["-c", DEFAULT, "vol-download nosuch out.bin --pool default-pool"], workdir
    )
    assert result.status == 1
    assert not (workdir / "out.bin").exists()


def test_default_uri_comes_from_the_environment(workdir: Path) -> None:
    reset_default_host()
    out = io.StringIO()
    status = main(["uri"], out=out, err=io.StringIO(), environ={"VIRTCORE_DEFAULT_URI": DEFAULT})
    reset_default_host()
    assert (out.getvalue(), status) == ("test:///default\n\n", 0)


def test_no_driver_for_an_unknown_scheme(workdir: Path) -> None:
    result = run_virtcore(["-c", "nosuchdrv:///x", "list"], workdir)
    assert result.err == (
        "error: failed to connect to the hypervisor\n"
        "error: no connection driver available for nosuchdrv:///x\n"
    )
    assert result.status == 1


def test_backends_needs_no_connection(workdir: Path) -> None:
    result = run_virtcore(["-c", "nosuchdrv:///x", "backends"], workdir)
    assert result.status == 0
    assert result.out.splitlines()[0].split() == ["Name", "Source", "Schemes", "Status"]


def test_help_lists_virtcore_commands_in_their_own_group(workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "help virtcore"], workdir)
    assert " virtcore extensions (help keyword 'virtcore'):" in result.out
    assert "    backends " in result.out


def test_usage_and_versions(workdir: Path) -> None:
    usage = run_virtcore(["-h"], workdir)
    assert usage.status == 0 and "virtcore [options]... <command> [args...]" in usage.out
    assert run_virtcore(["-v"], workdir).out == "9.0.0\n"
    assert run_virtcore(["--version=long"], workdir).out.startswith("virtcore command line tool ")


def test_timing_reports_each_command(workdir: Path) -> None:
    result = run_virtcore(["-t", "-c", DEFAULT, "uri"], workdir)
    assert result.out.startswith("test:///default\n\n(Time: ")
    assert result.out.endswith(" ms)\n\n")


def test_debug_level_sends_library_logs_to_stderr(workdir: Path) -> None:
    result = run_virtcore(["-d", "0", "-c", DEFAULT, "uri"], workdir)
    assert "running uri" in result.err


def test_log_file_records_commands(workdir: Path) -> None:
    log = workdir / "virtcore.log"
    run_virtcore(["-l", str(log), "-c", DEFAULT, "hostname"], workdir)
    assert "running hostname" in log.read_text()


def test_console_script_module_exits_with_the_command_status(workdir: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "virtcore", "-c", DEFAULT, "hostname"],
        capture_output=True,
        text=True,
        check=False,
    )
    failed = subprocess.run(
        [sys.executable, "-m", "virtcore", "-c", DEFAULT, "dominfo nosuch"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ok.stdout, ok.returncode) == ("vm\n\n", 0)
    assert (failed.stderr, failed.returncode) == ("error: failed to get domain 'nosuch'\n", 1)
