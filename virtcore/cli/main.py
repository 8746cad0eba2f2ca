"""The ``virtcore`` entry point: global options, one-shot and interactive modes.

``virtcore [options] [command_string | command args...]`` behaves like
``virsh``:

* Global options (parsed like virsh's ``getopt``, stopping at the first
  non-option): ``-c/--connect URI``, ``-r/--readonly``, ``-q/--quiet``,
  ``-d/--debug N`` (0-4, lower is chattier), ``-e/--escape C``,
  ``-k/--keepalive-interval N``, ``-K/--keepalive-count N``,
  ``-l/--log FILE``, ``-t/--timing``, ``-h/--help``, ``-v``, ``-V``,
  ``--version[=short|long]``. Without ``-c`` the URI comes from
  ``VIRTCORE_DEFAULT_URI`` (then driver probing).
* One argument is a command string (``'destroy test; start test'``);
  several arguments are one command with its options; none starts the
  interactive shell (:mod:`virtcore.cli.shell`).
* The whole input is parsed before anything runs; then commands run in
  order, each followed by a blank line (``-q`` drops it), and the exit
  status is that of the last command: 0 on success, 1 on failure. Errors
  go to standard error as ``error: <what failed>`` and ``error: <why>``.

This is the only module of virtcore that exits or writes to the process's
standard streams.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from virtcore.cli.context import CommandError, Ctx, QuitShell
from virtcore.cli.parser import OptionError, ParsedCommand, ParseError, parse_argv, parse_string
from virtcore.cli.spec import COMMANDS, GROUPS
from virtcore.errors import VirtError

__all__ = [
    "COMMAND_MODULES",
    "LIBVIRT_COMPAT_VERSION",
    "Options",
    "load_commands",
    "main",
    "parse_global_options",
    "run_commands",
]

logger = logging.getLogger(__name__)

LIBVIRT_COMPAT_VERSION = "9.0.0"

# Command families register themselves with virtcore.cli.spec on import.
COMMAND_MODULES = (
    "virtcore.cli.domain_devices",
    "virtcore.cli.domain_life",
    "virtcore.cli.domain_config",
    "virtcore.cli.domain_cmds",
    "virtcore.cli.domain_monitor",
    "virtcore.cli.event_cmds",
    "virtcore.cli.host_cmds",
    "virtcore.cli.nodedev_cmds",
    "virtcore.cli.nwfilter_cmds",
    "virtcore.cli.net_cmds",
    "virtcore.cli.secret_cmds",
    "virtcore.cli.snapshot_cmds",
    "virtcore.cli.pool_cmds",
    "virtcore.cli.vol_cmds",
    "virtcore.cli.shell_cmds",
    "virtcore.cli.completion",
)


def load_commands() -> None:
    """Import every command module so the command table is complete (idempotent)."""
    for module in COMMAND_MODULES:
        importlib.import_module(module)


_LONG_OPTS: dict[str, tuple[str, str]] = {
    # long name: (short letter, argument: "req" | "none" | "opt")
    "connect": ("c", "req"),
    "debug": ("d", "req"),
    "escape": ("e", "req"),
    "help": ("h", "none"),
    "keepalive-interval": ("k", "req"),
    "keepalive-count": ("K", "req"),
    "log": ("l", "req"),
    "quiet": ("q", "none"),
    "readonly": ("r", "none"),
    "timing": ("t", "none"),
    "version": ("\0", "opt"),
}
_SHORT_WITH_ARG = set("cdekKl")
_SHORT_FLAGS = set("hqrtvV")
_LONG_BY_SHORT = {short: name for name, (short, _) in _LONG_OPTS.items()}


class UsageError(Exception):
    """A bad global option: printed as ``error: ...``, exit status 1."""


@dataclass
class Options:
    """The global options of one invocation."""

    uri: str | None = None
    readonly: bool = False
    quiet: bool = False
    timing: bool = False
    debug: int | None = None
    escape: str = "^]"
    keepalive_interval: int | None = None
    keepalive_count: int | None = None
    logfile: str | None = None
    show: str | None = None  # "help", "short" or "long": print and exit
    command: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _allowed_escape(value: str) -> bool:
    if len(value) == 1:
        return value != "^"
    return (
        len(value) == 2 and value[0] == "^" and ("a" <= value[1] <= "z" or "@" <= value[1] <= "_")
    )


def _c_int(text: str, base: int = 10) -> int | None:
    try:
        return int(text.strip(), base)
    except ValueError:
        return None


def _apply(opts: Options, letter: str, value: str | None, spelled: str) -> None:
    if letter == "c":
        opts.uri = value
    elif letter == "d":
        level = _c_int(value or "")
        if level is None:
            raise UsageError(f"option {spelled} takes a numeric argument")
        if not 0 <= level <= 4:
            opts.warnings.append(f"ignoring debug level {level} out of range [0-4]")
        else:
            opts.debug = level
    elif letter == "e":
        if not _allowed_escape(value or ""):
            raise UsageError(f"Invalid string '{value}' for escape sequence")
        opts.escape = value or ""
    elif letter in "kK":
        number = _c_int(value or "", 0)
        if number is None:
            raise UsageError(f"Invalid value for option {spelled}")
        if number < 0:
            raise UsageError(f"option {spelled} requires a positive integer argument")
        if letter == "k":
            opts.keepalive_interval = number
        else:
            opts.keepalive_count = number
    elif letter == "l":
        opts.logfile = value
    elif letter == "h":
        opts.show = "help"
    elif letter == "q":
        opts.quiet = True
    elif letter == "r":
        opts.readonly = True
    elif letter == "t":
        opts.timing = True
    elif letter == "v":
        opts.show = "short"
    elif letter == "V":
        opts.show = "long"


def parse_global_options(argv: Sequence[str]) -> Options:
    """Parse the options before the command, with virsh's messages on error."""
    opts = Options()
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            name, eq, inline = arg[2:].partition("=")
            matches = [n for n in _LONG_OPTS if n == name] or [
                n for n in _LONG_OPTS if n.startswith(name) and name
            ]
            if len(matches) != 1:
                raise UsageError(f"unsupported option '{arg}'. See --help.")
            long_name = matches[0]
            letter, kind = _LONG_OPTS[long_name]
            value: str | None = inline if eq else None
            if kind == "none" and eq:
                raise UsageError(f"unsupported option '{arg}'. See --help.")
            if kind == "req" and value is None:
                if i + 1 >= len(args):
                    raise UsageError(f"option '-{letter}'/'--{long_name}' requires an argument")
                i += 1
                value = args[i]
            i += 1
            if long_name == "version":
                if value in (None, "short"):
                    opts.show = "short"
                elif value == "long":
                    opts.show = "long"
                else:
                    raise UsageError(f"unknown option '{value}' for --version")
                continue
            _apply(opts, letter, value, f"--{long_name}")
            continue
        if arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                letter = arg[j]
                if letter in _SHORT_WITH_ARG:
                    value = arg[j + 1 :]
                    if not value:
                        if i + 1 >= len(args):
                            raise UsageError(
                                f"option '-{letter}'/'--{_LONG_BY_SHORT[letter]}' "
                                "requires an argument"
                            )
                        i += 1
                        value = args[i]
                    _apply(opts, letter, value, f"-{letter}")
                    break
                if letter not in _SHORT_FLAGS:
                    raise UsageError(f"unsupported option '-{letter}'. See --help.")
                _apply(opts, letter, None, f"-{letter}")
                j += 1
            i += 1
            continue
        break
    opts.command = args[i:]
    return opts


def _usage() -> str:
    lines = [
        "",
        "virtcore [options]... [<command_string>]",
        "virtcore [options]... <command> [args...]",
        "",
        "  options:",
        "    -c | --connect=URI      hypervisor connection URI",
        "    -d | --debug=NUM        debug level [0-4]",
        "    -e | --escape <char>    set escape sequence for console",
        "    -h | --help             this help",
        "    -k | --keepalive-interval=NUM",
        "                            keepalive interval in seconds, 0 for disable",
        "    -K | --keepalive-count=NUM",
        "                            number of possible missed keepalive messages",
        "    -l | --log=FILE         output logging to file",
        "    -q | --quiet            quiet mode",
        "    -r | --readonly         connect readonly",
        "    -t | --timing           print timing information",
        "    -v                      short version",
        "    -V                      long version",
        "         --version[=TYPE]   version, TYPE is short or long (default short)",
        "  commands (non interactive mode):",
        "",
    ]
    for group in GROUPS.values():
        if not group.commands:
            continue
        lines.append(f" {group.title} (help keyword '{group.keyword}')")
        lines.extend(f"    {name:<30} {COMMANDS[name].help}" for name in sorted(group.commands))
        lines.append("")
    lines.append("  (specify help <group> for details about the commands in the group)")
    lines.append("")
    lines.append("  (specify help <command> for details about the command)")
    lines.append("")
    lines.append("  Listing and info commands also accept --json (see docs/cli.md).")
    lines.append("")
    return "\n".join(lines) + "\n"


def _long_version() -> str:
    from virtcore import __version__
    from virtcore.registry import default_registry

    schemes = sorted({s for r in default_registry().plugins() for s in r.schemes})
    return (
        f"virtcore command line tool {__version__} "
        f"(libvirt {LIBVIRT_COMPAT_VERSION} compatible)\n"
        "\n"
        "Backends loaded for URI schemes:\n"
        f" {' '.join(schemes) or '-'}\n"
    )


def _setup_logging(opts: Options, err: TextIO) -> list[logging.Handler]:
    handlers: list[logging.Handler] = []
    root = logging.getLogger("virtcore")
    if opts.debug is not None:
        # virsh's levels: 0 debug, 1 info, 2 notice, 3 warning, 4 error.
        level = [logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING, logging.ERROR]
        handler: logging.Handler = logging.StreamHandler(err)
        handler.setLevel(level[opts.debug])
        handlers.append(handler)
    if opts.logfile is not None:
        handler = logging.FileHandler(opts.logfile, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("[%(asctime)s virtcore %(process)d] %(message)s"))
        handlers.append(handler)
    for h in handlers:
        root.addHandler(h)
    if handlers:
        root.setLevel(min(h.level for h in handlers))
    return handlers


def run_one(ctx: Ctx, parsed: ParsedCommand) -> bool:
    """Run one parsed command, printing its errors and the separator after it."""
    ctx.skip_separator = False
    started = time.monotonic()
    logger.debug("running %s", parsed.command.name)
    try:
        ok = parsed.command.handler(ctx, parsed.args())
    except CommandError as exc:
        for line in exc.lines():
            ctx.error(line)
        ok = False
    except OptionError as exc:
        ctx.error(exc.message)
        if exc.cause is not None:
            ctx.error(exc.cause.message)
        ok = False
    except VirtError as exc:
        ctx.error(exc.message)
        ok = False
    if not ctx.skip_separator:
        if ctx.timing:
            ctx.extra(f"\n(Time: {(time.monotonic() - started) * 1000:.3f} ms)\n\n")
        else:
            ctx.extra("\n")
    ctx.out.flush()
    return ok


def run_commands(ctx: Ctx, commands: list[ParsedCommand]) -> bool:
    """Run commands in order; the result is the last one's (``False`` for none)."""
    ok = False
    for parsed in commands:
        ok = run_one(ctx, parsed)
    return ok


def _connect_at_start(ctx: Ctx, opts: Options) -> bool:
    try:
        ctx.connect(opts.uri, opts.readonly)
    except CommandError as exc:
        for line in exc.lines():
            ctx.error(line)
        return False
    if opts.keepalive_interval is not None or opts.keepalive_count is not None:
        try:
            ctx.conn.set_keepalive(opts.keepalive_interval or 5, opts.keepalive_count or 6)
        except VirtError as exc:
            ctx.error("Cannot setup keepalive on connection as requested, disconnecting")
            ctx.error("failed to connect to the hypervisor")
            ctx.error(exc.message)
            ctx.disconnect()
            return False
    return True


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    """Run the ``virtcore`` command line; returns the exit status."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    load_commands()
    try:
        opts = parse_global_options(args)
    except UsageError as exc:
        stderr.write(f"error: {exc}\n")
        return 1
    for warning in opts.warnings:
        stderr.write(f"error: {warning}\n")
    if opts.show == "help":
        stdout.write(_usage())
        return 0
    if opts.show == "short":
        stdout.write(LIBVIRT_COMPAT_VERSION + "\n")
        return 0
    if opts.show == "long":
        stdout.write(_long_version())
        return 0
    env = dict(os.environ) if environ is None else environ
    ctx = Ctx(
        stdout,
        stderr,
        uri=opts.uri,
        readonly=opts.readonly,
        quiet=opts.quiet,
        timing=opts.timing,
        escape=opts.escape,
        environ=env,
        stdin=stdin,
    )
    handlers = _setup_logging(opts, stderr)
    try:
        return _run(ctx, opts, stdin)
    finally:
        ctx.disconnect()
        for handler in handlers:
            logging.getLogger("virtcore").removeHandler(handler)
            handler.close()


def _run(ctx: Ctx, opts: Options, stdin: TextIO | None) -> int:
    if not opts.command:
        from virtcore.cli.shell import run_shell

        if not _connect_at_start(ctx, opts):
            return 1
        return run_shell(ctx, stdin if stdin is not None else sys.stdin)
    try:
        if len(opts.command) == 1:
            commands = parse_string(opts.command[0])
        else:
            commands = parse_argv(opts.command)
    except ParseError as exc:
        ctx.error(str(exc))
        return 1
    needs_connection = any(parsed.command.connect for parsed in commands) or not commands
    if needs_connection and not _connect_at_start(ctx, opts):
        return 1
    try:
        return 0 if run_commands(ctx, commands) else 1
    except QuitShell:
        return 0
