"""The ``event`` command: wait for domain events and print them as virsh does.

``event --list`` names the 27 domain event types; ``event --event TYPE`` or
``event --all`` registers for events (optionally of one ``--domain``) and
prints the first one, or every one with ``--loop``, until ``--timeout``
seconds pass or the user interrupts. Each line is virsh 9.0's
(``event 'lifecycle' for domain 'test': Stopped Destroyed``), optionally
prefixed by a timestamp (``--timestamp``). The command then prints
``events received: N`` and, like virsh, fails when no event arrived.

:func:`format_event` renders one event and is usable on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, flag, integer, string
from virtcore.errors import VirtError
from virtcore.events import Event, EventKind

__all__ = ["EVENT_NAMES", "format_event"]

EVENT_NAMES = (
    "lifecycle",
    "reboot",
    "rtc-change",
    "watchdog",
    "io-error",
    "graphics",
    "io-error-reason",
    "control-error",
    "block-job",
    "disk-change",
    "tray-change",
    "pm-wakeup",
    "pm-suspend",
    "balloon-change",
    "pm-suspend-disk",
    "device-removed",
    "block-job-2",
    "tunable",
    "agent-lifecycle",
    "device-added",
    "migration-iteration",
    "job-completed",
    "device-removal-failed",
    "metadata-change",
    "block-threshold",
    "memory-failure",
    "memory-device-size-change",
)

_LIFECYCLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Defined", ("Added", "Updated", "Renamed", "Snapshot")),
    ("Undefined", ("Removed", "Renamed")),
    ("Started", ("Booted", "Migrated", "Restored", "Snapshot", "Event wakeup")),
    (
        "Suspended",
        (
            "Paused",
            "Migrated",
            "I/O Error",
            "Watchdog",
            "Restored",
            "Snapshot",
            "API error",
            "Post-copy",
            "Post-copy Error",
        ),
    ),
    ("Resumed", ("Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error")),
    (
        "Stopped",
        ("Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot"),
    ),
    ("Shutdown", ("Finished", "Finished after guest request", "Finished after host request")),
    ("PMSuspended", ("Memory", "Disk")),
    ("Crashed", ("Panicked", "Crashloaded")),
)


def _pick(names: Sequence[str], index: Any) -> str:
    try:
        i = int(index)
    except (TypeError, ValueError):
        return "unknown"
    return names[i] if 0 <= i < len(names) else "unknown"


def _text(value: Any) -> str:
    return "(null)" if value is None else str(value)


def _params(params: Any) -> str:
    items = params.items() if isinstance(params, dict) else []
    return "".join(f"\t{key}: {value}\n" for key, value in items)


def _address(addr: Any) -> str:
    if isinstance(addr, dict):
        family = _pick(("IPv4", "IPv6", "unix"), addr.get("family"))
        return f"{family} {_text(addr.get('node'))} {_text(addr.get('service'))}"
    return _text(addr)


_WATCHDOG = ("no-op", "reset", "poweroff", "shutdown", "debug", "inject-nmi")
_IO_ACTIONS = ("no-op", "pause", "report")
_JOB_TYPES = (
    "Unknown job",
    "Block Pull",
    "Block Copy",
    "Block Commit",
    "Active Block Commit",
    "Backup",
)
_JOB_STATUS = ("completed", "failed", "canceled", "ready")


def _detail(name: str, dom: str, args: Sequence[Any]) -> str:
    a = list(args) + [None] * 5
    head = f"event '{name}' for domain '{dom}'"
    simple = {
        "reboot": "",
        "control-error": "",
        "pm-wakeup": "pmwakeup",
        "pm-suspend": "pmsuspend",
        "pm-suspend-disk": "pmsuspend-disk",
    }
    if name in simple:
        return f"event '{simple[name] or name}' for domain '{dom}'\n"
    if name == "lifecycle":
        event_name, details = (
            _LIFECYCLE[int(a[0])] if 0 <= int(a[0] or 0) < len(_LIFECYCLE) else ("unknown", ())
        )
        return f"{head}: {event_name} {_pick(details, a[1])}\n"
    if name == "rtc-change":
        return f"{head}: {a[0]}\n"
    if name == "watchdog":
        return f"{head}: {_pick(_WATCHDOG, a[0])}\n"
    if name == "io-error":
        return f"{head}: {_text(a[0])} ({_text(a[1])}) {_pick(_IO_ACTIONS, a[2])}\n"
    if name == "io-error-reason":
        return (
            f"{head}: {_text(a[0])} ({_text(a[1])}) {_pick(_IO_ACTIONS, a[2])} due to "
            f"{_text(a[3])}\n"
        )
    if name == "graphics":
        subject = "".join(f" {t}={n}" for t, n in (a[4] or []))
        return (
            f"{head}: {_pick(('connect', 'initialize', 'disconnect'), a[0])} "
            f"local[{_address(a[1])}] remote[{_address(a[2])}] {_text(a[3])}{subject}\n"
        )
    if name in ("block-job", "block-job-2"):
        return f"{head}: {_pick(_JOB_TYPES, a[1])} for {_text(a[0])} {_pick(_JOB_STATUS, a[2])}\n"
    if name == "disk-change":
        reason = _pick(("changed", "dropped"), a[3])
        change = f"{_text(a[0])} -> {_text(a[1])}: {reason}"
        return f"event '{name}' for domain '{dom}' disk {_text(a[2])}: {change}\n"
    if name == "tray-change":
        tray = _pick(("opened", "closed"), a[1])
        return f"event '{name}' for domain '{dom}' disk {_text(a[0])}: {tray}\n"
    if name == "balloon-change":
        return f"{head}: {a[0]}KiB\n"
    if name in ("device-removed", "device-added", "device-removal-failed"):
        return f"{head}: {_text(a[0])}\n"
    if name in ("tunable", "job-completed"):
        return f"{head}:\n{_params(a[0])}"
    if name == "agent-lifecycle":
        state = _pick(("unknown", "connected", "disconnected"), a[0])
        reason = _pick(("unknown", "domain started", "channel event"), a[1])
        return f"{head}: state: '{state}' reason: '{reason}'\n"
    if name == "migration-iteration":
        return f"{head}: iteration: '{a[0]}'\n"
    if name == "metadata-change":
        return (
            f"{head}: type {_pick(('description', 'title', 'element'), a[0])}, uri {_text(a[1])}\n"
        )
    if name == "block-threshold":
        return f"{head}: dev: {_text(a[0])}({_text(a[1])}) {a[2]} {a[3]}\n"
    if name == "memory-failure":
        flags = int(a[2] or 0)
        return (
            f"{head}:\nrecipient: {_pick(('hypervisor', 'guest'), a[0])}\n"
            f"action: {_pick(('ignore', 'inject', 'fatal', 'reset'), a[1])}\n"
            f"flags:\n\taction required: {int(bool(flags & 1))}\n"
            f"\trecursive: {int(bool(flags & 2))}\n"
        )
    if name == "memory-device-size-change":
        return f"{head}:\nalias: {_text(a[0])}\nsize: {a[1]}\n"
    return f"{head}\n"


def format_event(event_id: int, domain: str, args: Sequence[Any]) -> str:
    """One domain event as virsh prints it, newline included."""
    name = EVENT_NAMES[event_id] if 0 <= event_id < len(EVENT_NAMES) else "unknown"
    return _detail(name, domain, args)


class _Waiter:
    """Collects events on the dispatcher thread and wakes the command when done."""

    def __init__(self, ctx: Ctx, loop: bool, timestamp: bool) -> None:
        self.ctx = ctx
        self.loop = loop
        self.timestamp = timestamp
        self.count = 0
        self.done = threading.Event()
        self.lock = threading.Lock()

    def callback(self, event_id: int) -> Callable[[Any, Any, Event], None]:
        def deliver(conn: Any, dom: Any, event: Event) -> None:
            text = format_event(event_id, getattr(dom, "name", "?"), event.args)
            with self.lock:
                if not self.loop and self.count:
                    return
                if self.timestamp:
                    now = time.time()
                    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
                    text = f"{stamp}.{int(now * 1000) % 1000:03d}+0000: {text}"
                self.ctx.print(text)
                self.ctx.out.flush()
                self.count += 1
                if not self.loop:
                    self.done.set()

        return deliver


@command(
    "event",
    "events",
    "Domain Events",
    "List event types, or wait for domain events to occur",
    [
        string("domain", "filter by domain name, id or uuid", complete="domain"),
        string("event", "which event type to wait for"),
        flag("all", "wait for all events instead of just one type"),
        flag("loop", "loop until timeout or interrupt, rather than one-shot"),
        integer("timeout", "timeout seconds"),
        flag("list", "list valid event types"),
        flag("timestamp", "show timestamp for each printed event"),
    ],
)
def cmd_event(ctx: Ctx, args: Args) -> bool:
    for first, second in (("all", "event"), ("list", "all"), ("list", "event")):
        if args.given(first) and args.given(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    if args.flag("list"):
        ctx.print("".join(f"{name}\n" for name in EVENT_NAMES))
        return True
    wanted = args.string("event")
    if wanted is not None:
        if wanted not in EVENT_NAMES:
            raise CommandError(f"unknown event type {wanted}")
        ids = [EVENT_NAMES.index(wanted)]
    elif args.flag("all"):
        ids = list(range(len(EVENT_NAMES)))
    else:
        raise CommandError("one of --list, --all, or --event <type> is required")
    timeout = args.unsigned("timeout")
    if timeout is not None and (timeout == 0 or timeout > (2**31 - 1) // 1000):
        raise CommandError(
            f"Numeric value '{timeout}' for <timeout> option is malformed or out of range"
        )
    dom = ctx.domain(args) if args.given("domain") else None
    waiter = _Waiter(ctx, args.flag("loop"), args.flag("timestamp"))
    registered: list[int] = []
    conn = ctx.conn
    try:
        for position, event_id in enumerate(ids):
            try:
                registered.append(
                    conn.event_register(
                        EventKind.DOMAIN, event_id, waiter.callback(event_id), obj=dom
                    )
                )
            except VirtError:
                # Like virsh: with --all, ids the server does not know are skipped.
                if not position:
                    raise
        try:
            finished = waiter.done.wait(timeout) if timeout is not None else _wait_forever(waiter)
        except KeyboardInterrupt:
            ctx.print("event loop interrupted\n")
        else:
            if not finished:
                ctx.print("event loop timed out\n")
    finally:
        for callback_id in registered:
            try:
                conn.event_deregister(callback_id)
            except VirtError:
                continue
    with waiter.lock:
        count = waiter.count
    ctx.print(f"events received: {count}\n")
    return count > 0


def _wait_forever(waiter: _Waiter) -> bool:
    # Short waits keep the main thread responsive to Ctrl-C.
    while not waiter.done.wait(0.5):
        continue
    return True
