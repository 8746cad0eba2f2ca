"""virsh's command-line grammar: tokenizing, option parsing and typed option values.

Two input forms exist, as in virsh:

* a *command string* (one argument on the process command line, or a line
  typed in the interactive shell): split with shell-like quoting, ``\\``
  escapes, ``;`` or newlines between commands and ``#`` comments
  (:func:`tokenize`);
* an *argument vector* (several process arguments): one command, each
  argument one token, no quoting and no separators.

:func:`parse_commands` turns tokens into :class:`ParsedCommand` objects
following virsh's rules: ``--opt value``, ``--opt=value``, bare words fill
the command's positional options in declaration order, ``--`` makes every
later word data, ``--help`` turns any command into ``help <command>``, and
every error message is virsh's. The whole input is parsed before anything
runs, so one syntax error means no command runs.

:class:`Args` gives handlers typed access to option values with virsh's
validation messages (numbers, scaled sizes, empty strings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from virtcore.cli.spec import COMMANDS, Command, Opt, OptType
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import InvalidArgError, VirtError

__all__ = [
    "Args",
    "OptionError",
    "ParseError",
    "ParsedCommand",
    "parse_argv",
    "parse_commands",
    "parse_string",
    "scale_integer",
    "split_commas",
    "tokenize",
]

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
ULLONG_MAX = 2**64 - 1


class ParseError(Exception):
    """A syntax error in a command line; nothing of that line runs."""


class OptionError(Exception):
    """An option value a handler rejected (virsh prints it and the command fails).

    *cause* carries a libvirt-level error virsh reports after its own line,
    e.g. the unknown-suffix message of a scaled number.
    """

    def __init__(self, message: str, cause: VirtError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


# -- tokenizing ----------------------------------------------------------------------

_BLANKS = " \t"
_SEPARATORS = ";\n"


def tokenize(text: str) -> list[list[str]]:
    """Split a command string into commands, each a list of words.

    Raises :class:`ParseError` for a dangling backslash or an unterminated
    double quote (an unterminated single quote simply runs to the end, as in
    virsh). Empty commands between separators are dropped.
    """
    commands: list[list[str]] = []
    current: list[str] = []
    pos = 0
    end = len(text)
    while True:
        while pos < end and (
            text[pos] in _BLANKS or (text[pos] == "\\" and text[pos + 1 : pos + 2] == "\n")
        ):
            pos += 2 if text[pos] == "\\" else 1
        if pos >= end:
            break
        char = text[pos]
        if char in _SEPARATORS or char == "#":
            if char == "#":
                while pos < end and text[pos] != "\n":
                    pos += 1
            pos += 1
            if current:
                commands.append(current)
            current = []
            continue
        word, pos = _read_word(text, pos)
        current.append(word)
    if current:
        commands.append(current)
    return commands


def _read_word(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    single = double = False
    end = len(text)
    while pos < end:
        char = text[pos]
        if not single and not double and (char in _BLANKS or char in _SEPARATORS):
            break
        if not double and char == "'":
            single = not single
            pos += 1
            continue
        if not single and char == "\\":
            pos += 1
            if pos >= end:
                raise ParseError("dangling \\")
            if text[pos] == "\n":
                pos += 1
                continue
        elif not single and char == '"':
            double = not double
            pos += 1
            continue
        out.append(text[pos])
        pos += 1
    if double:
        raise ParseError('missing "')
    return "".join(out), pos


def split_commas(text: str) -> list[str]:
    """Split on ``,`` with ``,,`` standing for a literal comma (virsh's list options)."""
    pieces = [""]
    i = 0
    while i < len(text):
        if text[i] == ",":
            if text[i + 1 : i + 2] == ",":
                pieces[-1] += ","
                i += 2
                continue
            pieces.append("")
        else:
            pieces[-1] += text[i]
        i += 1
    return pieces


# -- parsing -------------------------------------------------------------------------


@dataclass
class ParsedCommand:
    """A command with its options, ready to run."""

    command: Command
    values: list[tuple[Opt, str | None]]

    def args(self) -> Args:
        """Typed access to the option values."""
        return Args(self.command, self.values)


def parse_string(text: str, commands: dict[str, Command] | None = None) -> list[ParsedCommand]:
    """Parse a command string (see :func:`tokenize`)."""
    return parse_commands(tokenize(text), commands)


def parse_argv(
    words: Sequence[str], commands: dict[str, Command] | None = None
) -> list[ParsedCommand]:
    """Parse one command given as separate process arguments (no quoting, no ``;``)."""
    return parse_commands([list(words)], commands)


def parse_commands(
    token_lists: list[list[str]], commands: dict[str, Command] | None = None
) -> list[ParsedCommand]:
    """Parse tokenized commands; raises :class:`ParseError` at the first error."""
    table = COMMANDS if commands is None else commands
    # A command whose first word starts with '#' is a comment, as in virsh.
    return [_parse_one(words, table) for words in token_lists if words and words[0][:1] != "#"]


def _parse_one(words: list[str], table: dict[str, Command]) -> ParsedCommand:
    name = words[0]
    cmd = table.get(name)
    if cmd is None:
        raise ParseError(f"unknown command: '{name}'")
    positional = [
        o for o in cmd.opts if o.takes_value and o.positional and o.type is not OptType.ALIAS
    ]
    seen: set[str] = set()
    filled: set[str] = set()
    values: list[tuple[Opt, str | None]] = []
    data_only = False
    wants_help = False
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        if not data_only and word[:2] == "--" and word[2:3].isascii() and word[2:3].isalnum():
            opt_name, eq, inline = word[2:].partition("=")
            inline_value: str | None = inline if eq else None
            if opt_name == "help":
                if inline_value is not None:
                    raise ParseError("invalid '=' after option --help")
                wants_help = True
                continue
            opt, inline_value = _find_option(cmd, opt_name, inline_value)
            if opt is None:
                continue
            if opt.name in seen and opt.type is not OptType.ARGV:
                raise ParseError(f"option --{opt.name} already seen")
            seen.add(opt.name)
            if opt.type is OptType.BOOL:
                if inline_value is not None:
                    raise ParseError(f"invalid '=' after option --{opt.name}")
                values.append((opt, None))
                continue
            if inline_value is None:
                if i >= len(words):
                    kind = "number" if opt.type is OptType.INT else "string"
                    raise ParseError(f"expected syntax: --{opt.name} <{kind}>")
                inline_value = words[i]
                i += 1
            if opt.type is not OptType.ARGV:
                filled.add(opt.name)
            values.append((opt, inline_value))
            continue
        if not data_only and word == "--":
            data_only = True
            continue
        target = next((o for o in positional if o.name not in filled), None)
        if target is None:
            if cmd.name == "help":
                continue
            raise ParseError(f"unexpected data '{word}'")
        if target.type is not OptType.ARGV:
            filled.add(target.name)
        seen.add(target.name)
        values.append((target, word))
    if wants_help:
        help_cmd = table["help"]
        command_opt = help_cmd.opts[0]
        return ParsedCommand(help_cmd, [(command_opt, cmd.name)])
    for opt in cmd.opts:
        if opt.required and opt.name not in seen:
            if opt.type in (OptType.DATA, OptType.ARGV):
                raise ParseError(f"command '{cmd.name}' requires <{opt.name}> option")
            raise ParseError(f"command '{cmd.name}' requires --{opt.name} option")
    return ParsedCommand(cmd, values)


def _find_option(cmd: Command, name: str, inline: str | None) -> tuple[Opt | None, str | None]:
    """Resolve ``--name`` (following aliases); ``None`` only for ``help``'s stray options."""
    opt = cmd.option(name)
    if opt is not None and opt.type is OptType.ALIAS:
        target, eq, value = opt.target.partition("=")
        if eq:
            if inline is not None:
                raise ParseError(f"invalid '=' after option --{opt.name}")
            inline = value
        opt = cmd.option(target)
    if opt is None:
        if cmd.name == "help":
            return None, inline
        raise ParseError(f"command '{cmd.name}' doesn't support option --{name}")
    return opt, inline


# -- typed access --------------------------------------------------------------------

_NUMBER_RE = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def _c_integer(text: str, *, allow_negative: bool) -> tuple[int, str] | None:
    """strtol-style prefix parse: the value and the unparsed rest, or None."""
    match = _NUMBER_RE.match(text)
    if match is None:
        return None
    sign, digits = match.groups()
    if sign == "-" and not allow_negative:
        return None
    value = int(digits)
    return (-value if sign == "-" else value), text[match.end() :]


_SCALES = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def scale_integer(value: int, suffix: str, scale: int, limit: int) -> int:
    """Apply a size suffix (``KiB``, ``M``, ``GB``, ``b``...) like libvirt's virScaleInteger.

    An empty suffix multiplies by *scale*. Raises :class:`InvalidArgError`
    for an unknown suffix and an OVERFLOW error above *limit*.
    """
    if not suffix:
        factor = scale
    elif suffix.lower() in ("b", "byte", "bytes"):
        factor = 1
    else:
        if len(suffix) == 1 or suffix[1:].lower() == "ib":
            base = 1024
        elif suffix[1].lower() == "b" and len(suffix) == 2:
            base = 1000
        else:
            raise InvalidArgError(f"unknown suffix '{suffix}'")
        power = _SCALES.get(suffix[0].lower())
        if power is None:
            raise InvalidArgError(f"unknown suffix '{suffix}'")
        factor = base**power
    if value and value > limit // factor:
        raise VirtError(f"value too large: {value}{suffix}", code=ErrorNumber.OVERFLOW)
    return value * factor


class Args:
    """The options a command was given, with virsh's typed accessors."""

    def __init__(self, command: Command, values: list[tuple[Opt, str | None]]) -> None:
        self.command = command
        self._values = values

    def _raw(self, name: str) -> str | None:
        for opt, value in self._values:
            if opt.name == name:
                return value
        return None

    def given(self, name: str) -> bool:
        """Whether option *name* appears on the command line."""
        return any(opt.name == name for opt, _ in self._values)

    def flag(self, name: str) -> bool:
        """Whether boolean option *name* was given."""
        return self.given(name)

    def string(self, name: str) -> str | None:
        """A string option's value (``None`` if absent); empty values are refused."""
        if not self.given(name):
            return None
        value = self._raw(name) or ""
        opt = self.command.option(name)
        if not value and not (opt is not None and opt.empty_ok):
            raise OptionError(f"Failed to get option '{name}': Option argument is empty")
        return value

    def string_quiet(self, name: str) -> str | None:
        """A string option's value, an empty one read as absent (``vshCommandOptStringQuiet``)."""
        value = self._raw(name) if self.given(name) else None
        return value or None

    def require(self, name: str) -> str:
        """A string option the parser guarantees is present (required options)."""
        value = self.string(name)
        if value is None:
            raise OptionError(f"Failed to get option '{name}': Mandatory option not present")
        return value

    def argv(self, name: str) -> list[str]:
        """Every value given to an ``ARGV`` option, in order."""
        return [value or "" for opt, value in self._values if opt.name == name]

    def number(self, name: str, *, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
        """An integer option within [*minimum*, *maximum*] (``None`` if absent)."""
        text = self._raw(name)
        if text is None:
            return None
        parsed = _c_integer(text, allow_negative=minimum < 0)
        if parsed is None or parsed[1] or not minimum <= parsed[0] <= maximum:
            # virsh reports an empty number as malformed too, not as an empty argument.
            raise OptionError(
                f"Numeric value '{text}' for <{name}> option is malformed or out of range"
            )
        return parsed[0]

    def unsigned(self, name: str, *, maximum: int = UINT_MAX) -> int | None:
        """A non-negative integer option (``vshCommandOptUInt`` and wider)."""
        return self.number(name, minimum=0, maximum=maximum)

    def scaled(self, name: str, scale: int, limit: int = ULLONG_MAX) -> int | None:
        """A size with an optional unit suffix, in bytes; *scale* applies without suffix."""
        text = self._raw(name)
        if text is None:
            return None
        parsed = _c_integer(text, allow_negative=False)
        malformed = (
            f"Scaled numeric value '{text}' for <{name}> option is malformed or out of range"
        )
        if parsed is None or parsed[0] > ULLONG_MAX:
            raise OptionError(malformed)
        try:
            return scale_integer(parsed[0], parsed[1], scale, limit)
        except VirtError as exc:
            raise OptionError(malformed, exc) from exc
