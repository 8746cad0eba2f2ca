"""Domain listing and identity commands: list, dominfo, domstate, domid, domname, domuuid.

Also the state and reason names virsh prints (``shut off``, ``paused
(user)``), shared with the other domain command modules.

``--json`` documents (see ``docs/cli.md``):

* ``list``: an array of ``{"id": int|null, "name", "uuid", "state",
  "persistent", "autostart", "managed_save", "title"}`` in virsh's order
  (running domains by id, then inactive ones by name), filtered by the
  same options.
* ``dominfo``: ``id`` (``null`` when inactive), ``name``, ``uuid``,
  ``os_type``, ``state``, ``vcpus``, ``cpu_time_ns``, ``max_memory_kib``,
  ``used_memory_kib``, ``persistent``, ``autostart``, ``managed_save``,
  ``security_model``, ``security_doi``, ``security_label``,
  ``security_enforcing`` (the four security fields are ``null`` when the
  host has no security model), ``messages`` (tainting and deprecation
  notes, usually empty).
* ``domstate``: ``state``, ``state_code``, ``reason``, ``reason_code``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, data, flag
from virtcore.enums.connect import ConnectListAllDomainsFlags as ListFlags
from virtcore.enums.domain import DomainMetadataType, DomainState
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError

if TYPE_CHECKING:
    from virtcore.objects import Domain

__all__ = ["domain_description", "reason_name", "state_name"]

_STATES = {
    DomainState.NOSTATE: "no state",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "idle",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "in shutdown",
    DomainState.SHUTOFF: "shut off",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "pmsuspended",
}

_REASONS: dict[int, tuple[str, ...]] = {
    DomainState.NOSTATE: ("unknown",),
    DomainState.RUNNING: (
        "unknown",
        "booted",
        "migrated",
        "restored",
        "from snapshot",
        "unpaused",
        "migration canceled",
        "save canceled",
        "event wakeup",
        "crashed",
        "post-copy",
        "post-copy failed",
    ),
    DomainState.BLOCKED: ("unknown",),
    DomainState.PAUSED: (
        "unknown",
        "user",
        "migrating",
        "saving",
        "dumping",
        "I/O error",
        "watchdog",
        "from snapshot",
        "shutting down",
        "creating snapshot",
        "crashed",
        "starting up",
        "post-copy",
        "post-copy failed",
    ),
    DomainState.SHUTDOWN: ("unknown", "user"),
    DomainState.SHUTOFF: (
        "unknown",
        "shutdown",
        "destroyed",
        "crashed",
        "migrated",
        "saved",
        "failed",
        "from snapshot",
        "daemon",
    ),
    DomainState.CRASHED: ("unknown", "panicked"),
    DomainState.PMSUSPENDED: ("unknown",),
}


def state_name(state: int) -> str:
    """virsh's name of a domain state (``virshDomainStateToString``)."""
    for known, name in _STATES.items():
        if known == state:
            return name
    return "no state"


def reason_name(state: int, reason: int) -> str:
    """virsh's name of the reason a state was entered."""
    names = _REASONS.get(state, ())
    return names[reason] if 0 <= reason < len(names) else "unknown"


def domain_description(dom: Domain, title: bool, flags: int = 0) -> str:
    """The domain's title or description, ``""`` when it has none."""
    kind = DomainMetadataType.TITLE if title else DomainMetadataType.DESCRIPTION
    try:
        return dom.metadata(kind, None, flags)
    except VirtError as exc:
        if exc.code == ErrorNumber.NO_DOMAIN_METADATA:
            return ""
        raise


def _sort_key_cmp(a: Domain, b: Domain) -> int:
    if a.id >= 0 and b.id >= 0:
        return (a.id > b.id) - (a.id < b.id)
    if a.id >= 0:
        return -1
    if b.id >= 0:
        return 1
    left, right = a.name.casefold(), b.name.casefold()
    return (left > right) - (left < right)


_LIST_FILTERS = (
    ("persistent", ListFlags.PERSISTENT),
    ("transient", ListFlags.TRANSIENT),
    ("with-managed-save", ListFlags.MANAGEDSAVE),
    ("without-managed-save", ListFlags.NO_MANAGEDSAVE),
    ("autostart", ListFlags.AUTOSTART),
    ("no-autostart", ListFlags.NO_AUTOSTART),
    ("with-snapshot", ListFlags.HAS_SNAPSHOT),
    ("without-snapshot", ListFlags.NO_SNAPSHOT),
    ("with-checkpoint", ListFlags.HAS_CHECKPOINT),
    ("without-checkpoint", ListFlags.NO_CHECKPOINT),
    ("state-running", ListFlags.RUNNING),
    ("state-paused", ListFlags.PAUSED),
    ("state-shutoff", ListFlags.SHUTOFF),
    ("state-other", ListFlags.OTHER),
)


@command(
    "list",
    "monitor",
    "list domains",
    "Returns list of domains.",
    [
        flag("inactive", "list inactive domains"),
        flag("all", "list inactive & active domains"),
        flag("transient", "list transient domains"),
        flag("persistent", "list persistent domains"),
        flag("with-snapshot", "list domains with existing snapshot"),
        flag("without-snapshot", "list domains without a snapshot"),
        flag("with-checkpoint", "list domains with existing checkpoint"),
        flag("without-checkpoint", "list domains without a checkpoint"),
        flag("state-running", "list domains in running state"),
        flag("state-paused", "list domains in paused state"),
        flag("state-shutoff", "list domains in shutoff state"),
        flag("state-other", "list domains in other states"),
        flag("autostart", "list domains with autostart enabled"),
        flag("no-autostart", "list domains with autostart disabled"),
        flag("with-managed-save", "list domains with managed save state"),
        flag("without-managed-save", "list domains without managed save"),
        flag("uuid", "list uuid's only"),
        flag("name", "list domain names only"),
        flag("id", "list domain IDs only"),
        flag("table", "list table (default)"),
        flag("managed-save", "mark inactive domains with managed save state"),
        flag("title", "show domain title"),
    ],
    json=True,
)
def cmd_list(ctx: Ctx, args: Args) -> bool:
    flags = ListFlags.ACTIVE
    # virsh lists inactive domains only for --state-shutoff unless --all is given.
    if args.flag("inactive") or args.flag("state-shutoff"):
        flags = ListFlags.INACTIVE
    if args.flag("all"):
        flags = ListFlags.INACTIVE | ListFlags.ACTIVE
    for name, value in _LIST_FILTERS:
        if args.flag(name):
            flags |= value
    for other in ("name", "uuid", "id"):
        if args.flag("table") and args.flag(other):
            raise CommandError(f"Options --table and --{other} are mutually exclusive")
    try:
        domains = ctx.conn.list_all_domains(int(flags))
    except VirtError as exc:
        raise CommandError("Failed to list domains", exc) from exc
    domains.sort(key=functools.cmp_to_key(_sort_key_cmp))
    if args.flag("json"):
        ctx.json([_list_record(dom) for dom in domains])
        return True
    opt_uuid, opt_name, opt_id = args.flag("uuid"), args.flag("name"), args.flag("id")
    if opt_uuid or opt_name or opt_id:
        for dom in domains:
            id_text = str(dom.id) if dom.id >= 0 else "-"
            if opt_id and dom.id < 0 and not opt_uuid and not opt_name:
                continue
            parts = []
            if opt_uuid:
                parts.append(dom.uuid)
            if opt_id:
                parts.append(id_text)
            if opt_name:
                parts.append(dom.name)
            ctx.print(" ".join(parts) + "\n")
        return True
    title = args.flag("title")
    table = Table("Id", "Name", "State", "Title") if title else Table("Id", "Name", "State")
    for dom in domains:
        try:
            state = int(dom.state().state)
        except VirtError:
            continue  # removed while listing
        label = state_name(state)
        if (
            args.flag("managed-save")
            and state == DomainState.SHUTOFF
            and dom.has_managed_save_image()
        ):
            label = "saved"
        id_text = str(dom.id) if dom.id >= 0 else "-"
        if title:
            table.add(id_text, dom.name, label, domain_description(dom, True).split("\n")[0])
        else:
            table.add(id_text, dom.name, label)
    ctx.print(table.render(header=not ctx.quiet))
    return True


def _list_record(dom: Domain) -> dict[str, Any]:
    return {
        "id": dom.id if dom.id >= 0 else None,
        "name": dom.name,
        "uuid": dom.uuid,
        "state": state_name(int(dom.state().state)),
        "persistent": dom.is_persistent(),
        "autostart": dom.get_autostart(),
        "managed_save": dom.has_managed_save_image(),
        "title": domain_description(dom, True),
    }


@command(
    "dominfo",
    "monitor",
    "domain information",
    "Returns basic information about the domain.",
    [data("domain", "domain name, id or uuid", complete="domain")],
    json=True,
)
def cmd_dominfo(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    doc: dict[str, Any] = {
        "id": dom.id if dom.id >= 0 else None,
        "name": dom.name,
        "uuid": dom.uuid,
    }
    lines = [("Id:", str(dom.id) if dom.id >= 0 else "-"), ("Name:", dom.name), ("UUID:", dom.uuid)]
    ok = True
    try:
        os_type = dom.os_type()
        lines.append(("OS Type:", os_type))
        doc["os_type"] = os_type
    except VirtError:
        doc["os_type"] = None
    failure: VirtError | None = None
    try:
        info = dom.info()
    except VirtError as exc:
        ok, failure = False, exc
    else:
        lines.append(("State:", state_name(int(info.state))))
        lines.append(("CPU(s):", str(info.nr_virt_cpu)))
        if info.cpu_time:
            lines.append(("CPU time:", f"{info.cpu_time / 1e9:.1f}s"))
        if info.max_memory != 2**32 - 1:
            lines.append(("Max memory:", f"{info.max_memory} KiB"))
        else:
            lines.append(("Max memory:", "no limit"))
        lines.append(("Used memory:", f"{info.memory} KiB"))
        doc.update(
            state=state_name(int(info.state)),
            vcpus=info.nr_virt_cpu,
            cpu_time_ns=info.cpu_time,
            max_memory_kib=info.max_memory,
            used_memory_kib=info.memory,
        )
    persistent = _maybe(dom.is_persistent)
    lines.append(("Persistent:", "unknown" if persistent is None else _yes(persistent)))
    doc["persistent"] = persistent
    autostart = _maybe(dom.get_autostart)
    if autostart is not None:
        lines.append(("Autostart:", "enable" if autostart else "disable"))
    doc["autostart"] = autostart
    managed = _maybe(dom.has_managed_save_image)
    lines.append(("Managed save:", "unknown" if managed is None else _yes(managed)))
    doc["managed_save"] = managed
    doc.update(security_model=None, security_doi=None, security_label=None, security_enforcing=None)
    try:
        model, doi = ctx.conn.get_security_model()
    except VirtError as exc:
        if exc.code != ErrorNumber.NO_SUPPORT:
            raise
        model = doi = ""
    if model:
        lines.append(("Security model:", model))
        lines.append(("Security DOI:", doi))
        doc.update(security_model=model, security_doi=doi)
        label = dom.security_label()
        if label.label:
            enforcing = "enforcing" if label.enforcing else "permissive"
            lines.append(("Security label:", f"{label.label} ({enforcing})"))
            doc.update(security_label=label.label, security_enforcing=bool(label.enforcing))
    messages = _messages(dom)
    for i, message in enumerate(messages):
        lines.append(("Messages:" if i == 0 else "", message))
    doc["messages"] = messages
    if args.flag("json"):
        if failure is not None:
            raise CommandError(None, failure)
        ctx.json(doc)
        return True
    ctx.print("".join(f"{label:<15} {value}\n" for label, value in lines))
    if failure is not None:
        raise CommandError(None, failure)
    return ok


def _messages(dom: Domain) -> list[str]:
    """Tainting and deprecation messages; drivers without them have none."""
    try:
        return dom.messages(0)
    except VirtError as exc:
        if exc.code in (ErrorNumber.NO_SUPPORT, ErrorNumber.OPERATION_INVALID):
            return []
        raise


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _maybe(call: Any) -> bool | None:
    try:
        return bool(call())
    except VirtError:
        return None


@command(
    "domstate",
    "monitor",
    "domain state",
    "Returns state about a domain.",
    [
        data("domain", "domain name, id or uuid", complete="domain"),
        flag("reason", "also print reason for the state"),
    ],
    json=True,
)
def cmd_domstate(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    state, reason = (int(v) for v in dom.state())
    if args.flag("json"):
        ctx.json(
            {
                "state": state_name(state),
                "state_code": state,
                "reason": reason_name(state, reason),
                "reason_code": reason,
            }
        )
    elif args.flag("reason"):
        ctx.print(f"{state_name(state)} ({reason_name(state, reason)})\n")
    else:
        ctx.print(f"{state_name(state)}\n")
    return True


@command(
    "domid",
    "domain",
    "convert a domain name or UUID to domain id",
    "",
    [data("domain", "domain name or uuid", complete="domain")],
)
def cmd_domid(ctx: Ctx, args: Args) -> bool:
    dom = ctx.find_domain(args.require("domain"), by_id=False)
    ctx.print(f"{dom.id}\n" if dom.id >= 0 else "-\n")
    return True


@command(
    "domname",
    "domain",
    "convert a domain id or UUID to domain name",
    "",
    [data("domain", "domain id or uuid", complete="domain")],
)
def cmd_domname(ctx: Ctx, args: Args) -> bool:
    dom = ctx.find_domain(args.require("domain"), by_name=False)
    ctx.print(f"{dom.name}\n")
    return True


@command(
    "domuuid",
    "domain",
    "convert a domain name or id to domain UUID",
    "",
    [data("domain", "domain id or name", complete="domain")],
)
def cmd_domuuid(ctx: Ctx, args: Args) -> bool:
    dom = ctx.find_domain(args.require("domain"), by_uuid=False)
    ctx.print(f"{dom.uuid}\n")
    return True
