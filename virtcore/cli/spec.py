"""Command and option definitions of the ``virtcore`` shell, and the command table.

Every command is declared with virsh's option model so parsing, errors and
``help`` output match virsh 9.0:

* ``BOOL`` options are flags; ``INT`` and ``STRING`` options take a value;
  ``DATA`` options are required values that may be given by position;
  ``ARGV`` takes every remaining positional value; ``ALIAS`` maps an old
  option name onto another (``"size"``) or onto a value of another
  (``"mode=shareable"``) and is never documented.
* A non-bool option is *positional* unless declared ``positional=False``
  (virsh's ``VSH_OFLAG_REQ_OPT``): bare words fill the positional options
  in declaration order.
* ``json=True`` gives a command virtcore's ``--json`` flag (appended last).

Modules of this package declare their commands with :func:`command` at
import time; :data:`COMMANDS` is the resulting table and :data:`GROUPS`
lists virsh's command groups in virsh's order (``help`` lists each group's
commands alphabetically).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from virtcore.cli.context import Ctx
    from virtcore.cli.parser import Args

__all__ = [
    "COMMANDS",
    "GROUPS",
    "JSON_OPT",
    "Command",
    "Group",
    "Handler",
    "Opt",
    "OptType",
    "alias",
    "argv",
    "command",
    "data",
    "flag",
    "integer",
    "render_help",
    "string",
]


class OptType(enum.Enum):
    """virsh's option kinds (``VSH_OT_*``)."""

    BOOL = "bool"
    INT = "int"
    STRING = "string"
    DATA = "data"
    ARGV = "argv"
    ALIAS = "alias"


@dataclass(frozen=True)
class Opt:
    """One option of a command.

    *complete* names the kind of object whose names complete the option's
    value in the interactive shell (``"domain"``, ``"network"``, ...).
    """

    name: str
    type: OptType
    help: str = ""
    required: bool = False
    positional: bool = True
    empty_ok: bool = False
    target: str = ""
    complete: str | None = None
    hidden: bool = False

    @property
    def takes_value(self) -> bool:
        """Whether the option consumes a value (everything but flags)."""
        return self.type is not OptType.BOOL


Handler = Callable[["Ctx", "Args"], bool]


@dataclass(frozen=True)
class Command:
    """A shell command: its name, documentation, options and implementation.

    The handler returns ``True`` on success; failures raise
    :class:`~virtcore.cli.context.CommandError` or a
    :class:`~virtcore.errors.VirtError`.
    """

    name: str
    group: str
    help: str
    desc: str
    opts: tuple[Opt, ...]
    handler: Handler
    connect: bool = True
    extension: bool = False

    def option(self, name: str) -> Opt | None:
        """The option called *name*, if the command has one."""
        for opt in self.opts:
            if opt.name == name:
                return opt
        return None


@dataclass(frozen=True)
class Group:
    """A command group as virsh's ``help`` lists it."""

    keyword: str
    title: str
    commands: list[str] = field(default_factory=list)


GROUPS: dict[str, Group] = {
    g.keyword: g
    for g in (
        Group("domain", "Domain Management"),
        Group("monitor", "Domain Monitoring"),
        Group("events", "Domain Events"),
        Group("host", "Host and Hypervisor"),
        Group("interface", "Interface"),
        Group("filter", "Network Filter"),
        Group("network", "Networking"),
        Group("nodedev", "Node Device"),
        Group("secret", "Secret"),
        Group("snapshot", "Snapshot"),
        Group("pool", "Storage Pool"),
        Group("volume", "Storage Volume"),
        Group("virsh", "Virsh itself"),
        Group("virtcore", "virtcore extensions"),
    )
}

COMMANDS: dict[str, Command] = {}

JSON_OPT_NAME = "json"


# -- option constructors -------------------------------------------------------------


def flag(name: str, help: str) -> Opt:
    """A boolean flag ``--name``."""
    return Opt(name, OptType.BOOL, help)


def string(
    name: str,
    help: str,
    *,
    positional: bool = True,
    empty_ok: bool = False,
    complete: str | None = None,
) -> Opt:
    """An optional string option."""
    return Opt(
        name, OptType.STRING, help, positional=positional, empty_ok=empty_ok, complete=complete
    )


def data(name: str, help: str, *, empty_ok: bool = False, complete: str | None = None) -> Opt:
    """A required string option that may be given by position."""
    return Opt(name, OptType.DATA, help, required=True, empty_ok=empty_ok, complete=complete)


def integer(name: str, help: str, *, required: bool = False, positional: bool = True) -> Opt:
    """A numeric option."""
    return Opt(name, OptType.INT, help, required=required, positional=positional)


def argv(name: str, help: str, *, required: bool = False) -> Opt:
    """The option collecting every remaining positional value."""
    return Opt(name, OptType.ARGV, help, required=required)


def alias(name: str, target: str) -> Opt:
    """An undocumented old name for *target* (``"opt"`` or ``"opt=value"``)."""
    return Opt(name, OptType.ALIAS, target=target)


# Undocumented in ``help`` so virsh's help text stays byte-identical; see docs/cli.md.
JSON_OPT = Opt(JSON_OPT_NAME, OptType.BOOL, "print machine-readable JSON", hidden=True)


def command(
    name: str,
    group: str,
    help: str,
    desc: str = "",
    opts: tuple[Opt, ...] | list[Opt] = (),
    *,
    json: bool = False,
    connect: bool = True,
    extension: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of command *name*."""

    def register(handler: Handler) -> Handler:
        all_opts = tuple(opts) + ((JSON_OPT,) if json else ())
        if name in COMMANDS:
            raise ValueError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(
            name, group, help, desc, all_opts, handler, connect=connect, extension=extension
        )
        GROUPS[group].commands.append(name)
        return handler

    return register


# -- help ----------------------------------------------------------------------------


def _synopsis_items(cmd: Command) -> Iterator[str]:
    shortopt = False
    for opt in cmd.opts:
        if opt.hidden:
            continue
        if opt.type is OptType.BOOL:
            yield f"[--{opt.name}]"
        elif opt.type is OptType.INT:
            yield f"<{opt.name}>" if opt.required else f"[--{opt.name} <number>]"
            shortopt = shortopt or opt.positional
        elif opt.type is OptType.STRING:
            yield f"[--{opt.name} <string>]"
            shortopt = shortopt or opt.positional
        elif opt.type is OptType.DATA:
            yield f"<{opt.name}>" if opt.required else f"[<{opt.name}>]"
            shortopt = shortopt or opt.positional
        elif opt.type is OptType.ARGV:
            if shortopt:
                yield (
                    f"{{[--{opt.name}] <string>}}..."
                    if opt.required
                    else f"[[--{opt.name}] <string>]..."
                )
            else:
                yield f"<{opt.name}>..." if opt.required else f"[<{opt.name}>]..."


def _option_label(opt: Opt, shortopt: bool) -> str:
    if opt.type is OptType.BOOL:
        return f"--{opt.name}"
    if opt.type is OptType.INT:
        return f"[--{opt.name}] <number>" if opt.required else f"--{opt.name} <number>"
    if opt.type is OptType.STRING:
        return f"--{opt.name} <string>"
    if opt.type is OptType.DATA:
        return f"[--{opt.name}] <string>"
    return f"[--{opt.name}] <string>" if shortopt else f"<{opt.name}>"


def render_help(cmd: Command) -> str:
    """``help <command>`` output, laid out like virsh's."""
    out = ["  NAME\n", f"    {cmd.name} - {cmd.help}\n", "\n", "  SYNOPSIS\n"]
    out.append("    " + " ".join([cmd.name, *_synopsis_items(cmd)]) + "\n")
    out.append("\n")
    if cmd.desc:
        out.append("  DESCRIPTION\n")
        out.append(f"    {cmd.desc}\n")
        out.append("\n")
    documented = [o for o in cmd.opts if o.type is not OptType.ALIAS and not o.hidden]
    if documented:
        out.append("  OPTIONS\n")
        shortopt = False
        for opt in documented:
            if opt.type in (OptType.INT, OptType.STRING, OptType.DATA) and opt.positional:
                shortopt = True
            out.append(f"    {_option_label(opt, shortopt):<15}  {opt.help}\n")
        out.append("\n")
    return "".join(out)
