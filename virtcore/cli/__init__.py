"""The ``virtcore`` command: a virsh-compatible shell (growing) plus virtcore's own commands.

``main(argv)`` parses global options (``-c/--connect``, ``-r/--readonly``,
``-q/--quiet``) and runs one command. Errors are printed in virsh's format
(``error: <context>`` then ``error: <libvirt message>``) and give exit status 1;
this is the only place in virtcore that prints or exits.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

import virtcore
from virtcore.errors import VirtError
from virtcore.registry import default_registry, describe

__all__ = ["main"]


def _cmd_backends(args: argparse.Namespace, out: TextIO) -> int:
    records = default_registry().plugins()
    if args.json:
        json.dump(list(describe(records)), out, indent=2)
        out.write("\n")
        return 0
    rows = [
        (
            r.name,
            r.source,
            ", ".join(r.schemes) or "-",
            "loaded" if r.loaded else "error",
        )
        for r in records
    ]
    header = ("Name", "Source", "Schemes", "Status")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = "   ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out.write(" " + line.rstrip() + "\n")
    out.write("-" * (len(line) + 2) + "\n")
    for row in rows:
        out.write(" " + "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
    failed = [r for r in records if not r.loaded]
    if failed:
        out.write("\n")
        for r in failed:
            out.write(f"{r.name}: {r.error}\n")
    return 0


def _cmd_uri(args: argparse.Namespace, out: TextIO) -> int:
    with _connect(args) as conn:
        out.write(conn.uri + "\n\n")
    return 0


def _cmd_hostname(args: argparse.Namespace, out: TextIO) -> int:
    with _connect(args) as conn:
        out.write(conn.get_hostname() + "\n\n")
    return 0


def _connect(args: argparse.Namespace) -> virtcore.Connection:
    try:
        if args.readonly:
            return virtcore.open_read_only(args.connect)
        return virtcore.open(args.connect)
    except VirtError as exc:
        raise _CommandError("failed to connect to the hypervisor", exc) from exc


class _CommandError(Exception):
    """A failure to report as virsh does: a context line, then libvirt's message."""

    def __init__(self, context: str, cause: VirtError | None = None) -> None:
        super().__init__(context)
        self.context = context
        self.cause = cause


_COMMANDS: dict[str, tuple[Callable[[argparse.Namespace, TextIO], int], str]] = {
    "backends": (_cmd_backends, "list loaded backends, their URI schemes and load errors"),
    "uri": (_cmd_uri, "print the hypervisor canonical URI"),
    "hostname": (_cmd_hostname, "print the hypervisor hostname"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="virtcore", description="virtcore management shell")
    parser.add_argument("-c", "--connect", metavar="URI", help="hypervisor connection URI")
    parser.add_argument("-r", "--readonly", action="store_true", help="read-only connection")
    parser.add_argument("-q", "--quiet", action="store_true", help="quiet mode")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in _COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text)
        if name == "backends":
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(stdout)
        return 0
    func, _ = _COMMANDS[args.command]
    try:
        return func(args, stdout)
    except _CommandError as exc:
        stderr.write(f"error: {exc.context}\n")
        if exc.cause is not None:
            stderr.write(f"error: {exc.cause.message}\n")
        return 1
    except VirtError as exc:
        stderr.write(f"error: {exc.message}\n")
        return 1
