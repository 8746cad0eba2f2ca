"""The shell's own commands (virsh's "Virsh itself" group) and virtcore's additions.

``help``, ``echo``, ``quit``/``exit``, ``cd``, ``pwd`` and ``connect``
behave as in virsh 9.0. virtcore adds ``backends`` (the loaded hypervisor
backends, their URI schemes and load errors; ``--json``) and
``completion`` (prints the bash or zsh completion script), neither of
which needs a connection.
"""

from __future__ import annotations

import os
import re

from virtcore.cli.context import CommandError, Ctx, QuitShell
from virtcore.cli.format import Table
from virtcore.cli.parser import Args, split_commas
from virtcore.cli.spec import COMMANDS, GROUPS, argv, command, flag, render_help, string
from virtcore.registry import default_registry, describe

__all__: list[str] = []


@command(
    "help",
    "virsh",
    "print help",
    "Prints global help, command specific help, or help for a\n    group of related commands",
    [
        string(
            "command",
            "Prints global help, command specific help, or help for a group of related commands",
        )
    ],
)
def cmd_help(ctx: Ctx, args: Args) -> bool:
    name = args.string("command")
    if name is None:
        ctx.print("Grouped commands:\n\n")
        for group in GROUPS.values():
            if not group.commands:
                continue
            ctx.print(f" {group.title} (help keyword '{group.keyword}'):\n")
            for cmd_name in sorted(group.commands):
                ctx.print(f"    {cmd_name:<30} {COMMANDS[cmd_name].help}\n")
            ctx.print("\n")
        return True
    cmd = COMMANDS.get(name)
    if cmd is not None:
        ctx.print(render_help(cmd))
        return True
    for group in GROUPS.values():
        if name in (group.keyword, group.title):
            ctx.print(f" {group.title} (help keyword '{group.keyword}'):\n")
            for cmd_name in sorted(group.commands):
                ctx.print(f"    {cmd_name:<30} {COMMANDS[cmd_name].help}\n")
            return True
    raise CommandError(f"command or command group '{name}' doesn't exist")


_SHELL_SPECIAL = re.compile(r"[\r\t\n !\"#$&'()*;<>?\[\\\]^`{|}~]")


def _shell_quote(text: str) -> str:
    if not text:
        return "''"
    if not _SHELL_SPECIAL.search(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


@command(
    "echo",
    "virsh",
    "echo arguments. Used for internal testing.",
    "Echo back arguments, possibly with quoting. Used for internal testing.",
    [
        flag("shell", "escape for shell use"),
        flag("xml", "escape for XML use"),
        flag("split", "split each argument on ','; ',,' is an escape sequence"),
        flag("err", "output to stderr"),
        argv("string", "arguments to echo"),
    ],
)
def cmd_echo(ctx: Ctx, args: Args) -> bool:
    words = []
    for arg in args.argv("string"):
        if args.flag("split"):
            # Each piece of a split argument ends its own line, unescaped, like virsh.
            words.append("".join(piece + "\n" for piece in split_commas(arg)))
            continue
        text = _xml_escape(arg) if args.flag("xml") else arg
        words.append(_shell_quote(text) if args.flag("shell") else text)
    line = " ".join(words)
    if args.flag("err"):
        ctx.error(line)
    else:
        # No newline: the blank line printed after every command ends the output.
        ctx.print(line)
    return True


@command("quit", "virsh", "quit this interactive terminal", "")
def cmd_quit(ctx: Ctx, args: Args) -> bool:
    raise QuitShell


@command("exit", "virsh", "quit this interactive terminal", "")
def cmd_exit(ctx: Ctx, args: Args) -> bool:
    raise QuitShell


@command(
    "cd",
    "virsh",
    "change the current directory",
    "Change the current directory.",
    [string("dir", "directory to switch to (default: home or else root)")],
)
def cmd_cd(ctx: Ctx, args: Args) -> bool:
    if not ctx.interactive:
        raise CommandError("cd: command valid only in interactive mode")
    target = args.string("dir") or ctx.environ.get("HOME") or "/"
    try:
        os.chdir(target)
    except OSError as exc:
        raise CommandError(f"cd: {exc.strerror}: {target}") from exc
    return True


@command("pwd", "virsh", "print the current directory", "Print the current directory.")
def cmd_pwd(ctx: Ctx, args: Args) -> bool:
    ctx.print(os.getcwd() + "\n")
    return True


@command(
    "connect",
    "virsh",
    "(re)connect to hypervisor",
    "Connect to local hypervisor. This is built-in command after shell start up.",
    [
        string("name", "hypervisor connection URI"),
        flag("readonly", "read-only connection"),
    ],
)
def cmd_connect(ctx: Ctx, args: Args) -> bool:
    uri = args.string("name")
    ctx.connect(uri if uri is not None else ctx.uri, args.flag("readonly"))
    return True


@command(
    "backends",
    "virtcore",
    "list hypervisor backends, their URI schemes and load errors",
    "Lists the backends found through the 'virtcore' plugin entry points.",
    json=True,
    connect=False,
    extension=True,
)
def cmd_backends(ctx: Ctx, args: Args) -> bool:
    records = default_registry().plugins()
    if args.flag("json"):
        ctx.json(list(describe(records)))
        return True
    table = Table("Name", "Source", "Schemes", "Status")
    for rec in records:
        table.add(
            rec.name, rec.source, ", ".join(rec.schemes) or "-", "loaded" if rec.loaded else "error"
        )
    ctx.print(table.render(header=not ctx.quiet))
    failed = [r for r in records if not r.loaded]
    if failed:
        ctx.print("\n" + "".join(f"{r.name}: {r.error}\n" for r in failed))
    return True


@command(
    "completion",
    "virtcore",
    "print a shell completion script",
    "Prints the bash or zsh completion script for virtcore.",
    [string("shell", "bash or zsh")],
    connect=False,
    extension=True,
)
def cmd_completion(ctx: Ctx, args: Args) -> bool:
    from virtcore.cli.completion import script

    shell = args.string("shell") or "bash"
    try:
        ctx.print(script(shell))
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    ctx.skip_separator = True
    return True
