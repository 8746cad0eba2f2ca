"""virsh's command grammar: tokenizing command strings and parsing options."""

from __future__ import annotations

import pytest

from virtcore.cli.main import load_commands
from virtcore.cli.parser import (
    OptionError,
    ParseError,
    parse_argv,
    parse_string,
    scale_integer,
    tokenize,
)
from virtcore.errors import InvalidArgError, VirtError

load_commands()


def test_tokenize_splits_commands_on_semicolons_and_newlines() -> None:
    assert tokenize("uri; hostname\nlist --all") == [["uri"], ["hostname"], ["list", "--all"]]


def test_tokenize_drops_empty_commands() -> None:
    assert tokenize(";;uri;;") == [["uri"]]


def test_tokenize_honours_quotes_and_escapes() -> None:
    assert tokenize("echo 'a b' \"c d\" e\\ f") == [["echo", "a b", "c d", "e f"]]


def test_backslash_escapes_inside_double_quotes_only() -> None:
    assert tokenize(r"""echo "a\"b" 'c\d'""") == [["echo", 'a"b', "c\\d"]]


def test_hash_starts_a_comment_at_a_word_boundary() -> None:
    assert tokenize("echo a#b # rest; ignored\nuri") == [["echo", "a#b"], ["uri"]]


def test_backslash_newline_joins_lines() -> None:
    assert tokenize("list \\\n--all") == [["list", "--all"]]


def test_dangling_backslash_is_an_error() -> None:
    with pytest.raises(ParseError, match="dangling"):
        tokenize("echo a\\")


def test_unterminated_double_quote_is_an_error() -> None:
    with pytest.raises(ParseError, match='missing "'):
        tokenize('echo "abc')


def test_positional_words_fill_options_in_declaration_order() -> None:
    [parsed] = parse_string("setmem test 1G --live")
    args = parsed.args()
    assert args.require("domain") == "test"
    assert args.scaled("size", 1024) == 2**30
    assert args.flag("live") and not args.flag("config")


def test_named_option_is_skipped_by_positional_filling() -> None:
    [parsed] = parse_string("vol-create-as --name a.img default-pool 5M")
    args = parsed.args()
    assert (args.require("pool"), args.require("name"), args.require("capacity")) == (
        "default-pool",
        "a.img",
        "5M",
    )


def test_named_only_option_does_not_take_positional_words() -> None:
    with pytest.raises(ParseError, match="unexpected data '/x'"):
        parse_string("dumpxml test /x")


def test_double_dash_turns_option_lookalikes_into_data() -> None:
    [parsed] = parse_string("dominfo -- --all")
    assert parsed.args().require("domain") == "--all"


def test_argv_options_collect_every_remaining_word() -> None:
    [parsed] = parse_string("echo a --shell b c")
    assert parsed.args().argv("string") == ["a", "b", "c"]
    assert parsed.args().flag("shell")


def test_alias_with_value_sets_the_target_option() -> None:
    [parsed] = parse_string("attach-disk test /x vdb --shareable")
    assert parsed.args().string("mode") == "shareable"


def test_help_option_turns_a_command_into_help() -> None:
    [parsed] = parse_string("dominfo --help")
    assert parsed.command.name == "help"
    assert parsed.args().string("command") == "dominfo"


def test_argv_form_is_one_command_without_quoting() -> None:
    [parsed] = parse_argv(["echo", "a;b", "'c'"])
    assert parsed.args().argv("string") == ["a;b", "'c'"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("nosuch", "unknown command: 'nosuch'"),
        ("list --foo", "command 'list' doesn't support option --foo"),
        ("dominfo", "command 'dominfo' requires <domain> option"),
        ("setmem test", "command 'setmem' requires --size option"),
        ("dominfo a b", "unexpected data 'b'"),
        ("dominfo --domain", "expected syntax: --domain <string>"),
        ("setmem test --size", "expected syntax: --size <number>"),
        ("dominfo a --domain b", "option --domain already seen"),
        ("list --all=x", "invalid '=' after option --all"),
    ],
)
def test_parse_errors_use_virsh_wording(line: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_string(line)
    assert str(caught.value) == message


def test_empty_string_option_is_refused_when_read() -> None:
    [parsed] = parse_string("dominfo ''")
    with pytest.raises(OptionError, match="Option argument is empty"):
        parsed.args().require("domain")


@pytest.mark.parametrize("text", ["abc", "-1", "99999999999", "1.5", ""])
def test_malformed_numbers_are_refused(text: str) -> None:
    [parsed] = parse_argv(["setvcpus", "test", "--", text] if text else ["setvcpus", "test", ""])
    with pytest.raises(OptionError) as caught:
        parsed.args().unsigned("count")
    assert str(caught.value) == (
        f"Numeric value '{text}' for <count> option is malformed or out of range"
    )


def test_numbers_accept_leading_blanks_and_plus() -> None:
    [parsed] = parse_argv(["setvcpus", "test", " +3"])
    assert parsed.args().unsigned("count") == 3


@pytest.mark.parametrize(
    ("value", "suffix", "scale", "expected"),
    [
        (5, "", 1024, 5120),
        (5, "b", 1024, 5),
        (5, "KiB", 1, 5120),
        (5, "k", 1, 5120),
        (5, "KB", 1, 5000),
        (2, "M", 1, 2 * 1024**2),
        (1, "GiB", 1, 1024**3),
        (1, "GB", 1, 1000**3),
        (1, "e", 1, 1024**6),
    ],
)
def test_scale_integer_units(value: int, suffix: str, scale: int, expected: int) -> None:
    assert scale_integer(value, suffix, scale, 2**64 - 1) == expected


def test_scale_integer_rejects_unknown_suffix() -> None:
    with pytest.raises(InvalidArgError, match="unknown suffix 'X'"):
        scale_integer(1, "X", 1, 2**64 - 1)


def test_scale_integer_reports_overflow() -> None:
    with pytest.raises(VirtError, match="numerical overflow: value too large"):
        scale_integer(2**60, "G", 1, 2**64 - 1)


def test_scaled_option_error_carries_the_library_error() -> None:
    [parsed] = parse_string("setmem test 1X")
    with pytest.raises(OptionError) as caught:
        parsed.args().scaled("size", 1024)
    assert caught.value.cause is not None
    assert caught.value.cause.message == "invalid argument: unknown suffix 'X'"
