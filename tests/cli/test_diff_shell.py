"""virsh compatibility of the shell itself: global options, parsing, errors, help.

Each case runs one command line through real ``virsh`` and through virtcore
on a fresh ``test:///default`` host and requires byte-identical standard
output and error and the same exit status (see :mod:`tests.cli.differential`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, assert_same

# Global options and exit status.
GLOBAL_OPTIONS = {
    "connect-option-before-command": ["-c", DEFAULT, "uri"],
    "long-connect-with-equals": [f"--connect={DEFAULT}", "hostname"],
    "unknown-short-option": ["-x"],
    "unknown-long-option": ["--foo"],
    "connect-missing-argument": ["-c"],
    "escape-missing-argument": ["-c", DEFAULT, "-e"],
    "escape-invalid": ["-c", DEFAULT, "-e", "ab", "uri"],
    "escape-caret-letter": ["-c", DEFAULT, "-e", "^a", "uri"],
    "debug-not-numeric": ["-d", "x", "-c", DEFAULT, "uri"],
    "debug-out-of-range": ["-d", "5", "-c", DEFAULT, "uri"],
    "keepalive-invalid": ["-k", "x"],
    "keepalive-count-negative": ["-K", "-1"],
    "keepalive-unsupported-by-driver": ["-c", DEFAULT, "-k", "3", "uri"],
    "quiet-drops-blank-lines": ["-q", "-c", DEFAULT, "uri; uri"],
    "quiet-drops-table-header": ["-q", "-c", DEFAULT, "list"],
    "quiet-error": ["-q", "-c", DEFAULT, "dominfo nosuch"],
    "readonly-refuses-changes": ["-r", "-c", DEFAULT, "destroy test"],
    "readonly-allows-queries": ["-r", "-c", DEFAULT, "list --all"],
    "argv-form-one-command": ["-c", DEFAULT, "list", "--all"],
    "argv-form-extra-data": ["-c", DEFAULT, "uri", "extra"],
    "test-uri-without-path": ["-c", "test:///", "list"],
    "empty-command-string": ["-c", DEFAULT, ""],
    "short-version": ["-v"],
}

# The command grammar: quoting, separators, comments and option errors.
PARSING = {
    "unsupported-option": "list --foo",
    "missing-required-data": "dominfo",
    "unexpected-data": "dominfo a b",
    "option-without-value": "dominfo --domain",
    "unknown-command": "nosuchcmd",
    "option-given-twice": "dominfo test --domain x",
    "missing-required-number": "setmem test",
    "empty-option-value": "dominfo ''",
    "number-malformed": "setvcpus test abc",
    "number-negative": "setvcpus test -- -1",
    "number-too-large": "setvcpus test 99999999999",
    "equals-after-flag": "list --all=yes",
    "equals-form-value": "dominfo --domain=test",
    "double-dash-makes-data": "dominfo -- --all",
    "backslash-kept-in-single-quotes": "dominfo 'a\\'",
    "unterminated-double-quote": 'dominfo "a',
    "unterminated-single-quote": "dominfo 'a",
    "empty-commands-between-separators": "uri;;uri",
    "comment-ends-command": "uri # comment",
    "quoting-and-escapes": 'echo "a b" c\\ d',
    "parse-error-runs-nothing": "uri; list --bad",
    "status-of-last-command-fails": "uri; dominfo nosuch",
    "status-of-last-command-succeeds": "dominfo nosuch; uri",
    "scaled-size-bad-suffix": "setmem test 1X",
    "scaled-size-overflow": "setmem test 99999999999999999999G",
    "scaled-size-leading-space": "setmem test ' 5'",
    "help-option-shows-help": "dominfo test --help",
    "help-option-with-bad-option": "list --help --bad",
    "quit-stops-the-line": "uri; quit; uri",
    "option-alias": "setmem test --kilobytes 1048576; dominfo test",
}

# Shell built-ins.
BUILTINS = {
    "help-command": "help dominfo",
    "help-command-without-options": "help uri",
    "help-many-options": "help list",
    "help-of-help": "help help",
    "help-ignores-stray-options": "help list --all",
    "help-unknown": "help nosuch",
    "help-required-number": "help setmem",
    "help-argv-option": "help echo",
    "help-multiline-description": "help managedsave",
    "help-named-only-options": "help vol-create-as",
    "help-trailing-argv": "help snapshot-create-as",
    "echo-shell-quoting": "echo --shell a 'b c' '' \"it's\"",
    "echo-xml-escaping": "echo --xml '<a&b>' \"'\" '\"'",
    "echo-split": "echo --split a,b,,c d",
    "echo-to-stderr": "echo --err x y; uri",
    "cd-outside-interactive-mode": "cd /tmp",
    "connect-reconnects": "connect; uri",
    "connect-readonly": f"connect {DEFAULT} --readonly; destroy test",
}


@pytest.mark.parametrize("argv", GLOBAL_OPTIONS.values(), ids=GLOBAL_OPTIONS.keys())
def test_global_options_match_virsh(argv: list[str], workdir: Path) -> None:
    assert_same(argv, workdir)


@pytest.mark.parametrize("line", PARSING.values(), ids=PARSING.keys())
def test_command_parsing_matches_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["cpu-time"])


@pytest.mark.parametrize("line", BUILTINS.values(), ids=BUILTINS.keys())
def test_builtin_commands_match_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir)
