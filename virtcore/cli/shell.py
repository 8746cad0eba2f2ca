"""The interactive ``virtcore`` shell (run without a command).

On a terminal the shell uses readline: line editing, a history kept in
``$XDG_CACHE_HOME/virtcore/history`` (``~/.cache/virtcore/history``; the
last 500 lines) and tab completion of command names, options and object
names (:mod:`virtcore.cli.completion`). Without a terminal it reads lines
from standard input and echoes them after the prompt, as virsh does, so a
transcript reads the same either way.

Each line may hold several ``;``-separated commands. A failing command
prints its error and the shell carries on; ``quit``, ``exit`` or end of
input leave it with status 0. The prompt is ``virtcore # `` (``virtcore >
`` on a read-only connection).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TextIO

from virtcore.cli.completion import complete_words
from virtcore.cli.context import Ctx, QuitShell
from virtcore.cli.main import run_commands
from virtcore.cli.parser import ParseError, parse_string

__all__ = ["BANNER", "HISTORY_SIZE", "history_path", "run_shell"]

logger = logging.getLogger(__name__)

BANNER = (
    "Welcome to virtcore, the virtualization interactive terminal.\n"
    "\n"
    "Type:  'help' for help with commands\n"
    "       'quit' to quit\n"
    "\n"
)
HISTORY_SIZE = 500


def history_path(environ: dict[str, str]) -> Path:
    """Where the shell keeps its history."""
    cache = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".cache"
    )
    return Path(cache) / "virtcore" / "history"


def _prompt(ctx: Ctx) -> str:
    return "virtcore > " if ctx.readonly else "virtcore # "


def _split_for_completion(line: str) -> list[str]:
    """The words of *line* as the completer sees them; the last may be empty."""
    words: list[str] = []
    current = ""
    quote = ""
    for char in line:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "'\"":
            quote = char
        elif char in " \t":
            if current:
                words.append(current)
            current = ""
        elif char == ";":
            if current:
                words.append(current)
            words.append(";")
            current = ""
        else:
            current += char
    words.append(current)
    return words


class _Readline:
    """readline set-up: completion and history, when a terminal is in use."""

    def __init__(self, ctx: Ctx) -> None:
        import readline

        self.ctx = ctx
        self.readline = readline
        self.matches: list[str] = []
        self.history = history_path(ctx.environ)
        readline.set_completer_delims(" \t\n;")
        readline.set_completer(self.complete)
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")
        readline.set_history_length(HISTORY_SIZE)
        try:
            readline.read_history_file(self.history)
        except OSError:
            logger.debug("no shell history at %s", self.history)

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            line = self.readline.get_line_buffer()[: self.readline.get_endidx()]
            try:
                self.matches = complete_words(self.ctx, _split_for_completion(line))
            except Exception:  # a completer exception would be swallowed by readline anyway
                logger.debug("completion failed", exc_info=True)
                self.matches = []
        return self.matches[state] if state < len(self.matches) else None

    def save(self) -> None:
        try:
            self.history.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(self.history)
        except OSError:
            logger.debug("cannot save shell history to %s", self.history)


def _read_line(ctx: Ctx, stdin: TextIO, editing: _Readline | None) -> str | None:
    prompt = _prompt(ctx)
    if editing is not None:
        try:
            return input(prompt)
        except EOFError:
            return None
    ctx.out.write(prompt)
    ctx.out.flush()
    line = stdin.readline()
    if not line:
        return None
    line = line.rstrip("\n")
    ctx.out.write(line + "\n")  # what a terminal would have echoed
    return line


def run_shell(ctx: Ctx, stdin: TextIO) -> int:
    """Run the interactive shell until ``quit`` or end of input; returns 0."""
    ctx.interactive = True
    ctx.extra(BANNER)
    editing = None
    if stdin.isatty() and ctx.out.isatty():
        try:
            editing = _Readline(ctx)
        except ImportError:
            logger.debug("readline unavailable; plain line input")
    try:
        while True:
            try:
                line = _read_line(ctx, stdin, editing)
            except KeyboardInterrupt:
                ctx.out.write("\n")
                continue
            if line is None:
                break
            if not line.strip():
                continue
            try:
                commands = parse_string(line)
            except ParseError as exc:
                ctx.error(str(exc))
                continue
            try:
                run_commands(ctx, commands)
            except QuitShell:
                break
            except KeyboardInterrupt:
                ctx.out.write("\n")
    finally:
        ctx.out.write("\n")
        ctx.out.flush()
        if editing is not None:
            editing.save()
    return 0
