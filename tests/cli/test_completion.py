"""Completion of commands, options and object names, and the shell completion scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, run_virtcore
from virtcore.cli.completion import complete_words, script
from virtcore.cli.context import Ctx
from virtcore.cli.main import load_commands
from virtcore.drivers.test.driver import reset_default_host

load_commands()


@pytest.fixture
def ctx() -> Iterator[Ctx]:
    import io

    reset_default_host()
    session = Ctx(io.StringIO(), io.StringIO(), uri=DEFAULT)
    yield session
    session.disconnect()
    reset_default_host()


def test_first_word_completes_command_names(ctx: Ctx) -> None:
    assert complete_words(ctx, ["net-inf"]) == ["net-info"]
    assert "dominfo" in complete_words(ctx, ["dom"])


def test_options_complete_after_a_dash(ctx: Ctx) -> None:
    assert complete_words(ctx, ["list", "--al"]) == ["--all"]


def test_options_already_given_are_not_offered_again(ctx: Ctx) -> None:
    assert "--all" not in complete_words(ctx, ["list", "--all", "--"])


def test_positional_domain_argument_completes_domain_names(ctx: Ctx) -> None:
    assert complete_words(ctx, ["dominfo", "t"]) == ["test"]


def test_named_option_value_completes_object_names(ctx: Ctx) -> None:
    assert complete_words(ctx, ["vol-list", "--pool", ""]) == ["default-pool"]
    assert complete_words(ctx, ["net-info", "d"]) == ["default"]


def test_volume_names_come_from_the_given_pool(ctx: Ctx) -> None:
    pool = ctx.conn.storage_pool_lookup_by_name("default-pool")
    pool.vol_create_xml("<volume><name>a.img</name><capacity>1</capacity></volume>")
    assert complete_words(ctx, ["vol-info", "--pool", "default-pool", ""]) == ["a.img"]
    assert complete_words(ctx, ["vol-info", "/def"]) == ["/default-pool/a.img"]


def test_snapshot_names_come_from_the_named_domain(ctx: Ctx) -> None:
    ctx.conn.domain_lookup_by_name("test").snapshot_create_xml(
        "<domainsnapshot><name>s1</name></domainsnapshot>"
    )
    assert complete_words(ctx, ["snapshot-info", "test", ""]) == ["s1"]


def test_help_completes_command_names(ctx: Ctx) -> None:
    assert complete_words(ctx, ["help", "snapshot-cu"]) == ["snapshot-current"]


def test_completion_restarts_after_a_semicolon(ctx: Ctx) -> None:
    assert complete_words(ctx, ["uri", ";", "hostn"]) == ["hostname"]


def test_no_connection_means_no_object_names() -> None:
    assert complete_words(None, ["dominfo", ""]) == []


def test_complete_command_prints_one_candidate_per_line(workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "complete", "--", "dominfo", ""], workdir)
    assert (result.out, result.status) == ("test\n", 0)


def test_complete_command_survives_a_bad_uri(workdir: Path) -> None:
    result = run_virtcore(["-c", "nosuch:///x", "complete", "--", "net-li"], workdir)
    assert (result.out, result.status) == ("net-list\n", 0)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_script_is_valid_bash(tmp_path: Path) -> None:
    path = tmp_path / "virtcore.bash"
    path.write_text(script("bash"))
    subprocess.run(["bash", "-n", str(path)], check=True)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_function_offers_domain_names(tmp_path: Path) -> None:
    path = tmp_path / "virtcore.bash"
    path.write_text(script("bash"))
    program = tmp_path / "virtcore"
    program.write_text(f'#!/bin/sh\nexec {sys.executable} -m virtcore "$@"\n')
    program.chmod(0o755)
    run = (
        f"source {path}; COMP_WORDS=({program} -c {DEFAULT} dominfo te); COMP_CWORD=4; "
        "_virtcore_complete; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    proc = subprocess.run(["bash", "-c", run], capture_output=True, text=True, check=True)
    assert proc.stdout == "test\n"


def test_zsh_script_registers_the_completion_function() -> None:
    text = script("zsh")
    assert text.startswith("#compdef virtcore\n")
    assert "compdef _virtcore virtcore" in text


def test_completion_command_prints_the_script(workdir: Path) -> None:
    result = run_virtcore(["completion", "zsh"], workdir)
    assert result.out == script("zsh") and result.status == 0


def test_completion_command_rejects_other_shells(workdir: Path) -> None:
    result = run_virtcore(["completion", "fish"], workdir)
    assert result.status == 1
    assert result.err == "error: unsupported shell 'fish': expected 'bash' or 'zsh'\n"
