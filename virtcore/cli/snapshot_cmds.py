"""Domain snapshot commands: snapshot-create, snapshot-create-as, snapshot-list,
snapshot-current, snapshot-info, snapshot-dumpxml, snapshot-revert, snapshot-delete,
snapshot-parent.

Output follows virsh 9.0 (several messages end without a newline, relying
on the blank line printed after every command; ``--tree`` draws the
snapshot hierarchy with virsh's rails). ``--json`` documents (see
``docs/cli.md``):

* ``snapshot-list``: ``[{"name", "creation_time", "state", "parent"}]``
  (``creation_time`` in seconds since the epoch, ``parent`` ``null`` for a
  root), in the same order as the table;
* ``snapshot-info``: ``{"name", "domain", "current", "state", "location",
  "parent", "children", "descendants", "metadata"}``.
"""

from __future__ import annotations

import time
from typing import Any

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, tree_lines, yes_no
from virtcore.cli.parser import Args, split_commas
from virtcore.cli.spec import argv, command, data, flag, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.snapshot import (
    DomainSnapshotCreateFlags,
    DomainSnapshotDeleteFlags,
    DomainSnapshotListFlags,
    DomainSnapshotRevertFlags,
)
from virtcore.errors import VirtError
from virtcore.objects import Domain, DomainSnapshot

__all__: list[str] = []

_DOMAIN = data("domain", "domain name, id or uuid", complete="domain")

_CREATE_FLAGS = (
    ("redefine", DomainSnapshotCreateFlags.REDEFINE),
    ("current", DomainSnapshotCreateFlags.CURRENT),
    ("no-metadata", DomainSnapshotCreateFlags.NO_METADATA),
    ("halt", DomainSnapshotCreateFlags.HALT),
    ("disk-only", DomainSnapshotCreateFlags.DISK_ONLY),
    ("reuse-external", DomainSnapshotCreateFlags.REUSE_EXT),
    ("quiesce", DomainSnapshotCreateFlags.QUIESCE),
    ("atomic", DomainSnapshotCreateFlags.ATOMIC),
    ("live", DomainSnapshotCreateFlags.LIVE),
    ("validate", DomainSnapshotCreateFlags.VALIDATE),
)

_COMMON_CREATE = [
    flag("no-metadata", "take snapshot but create no metadata"),
    flag("halt", "halt domain after snapshot is created"),
    flag("disk-only", "capture disk state but not vm state"),
    flag("reuse-external", "reuse any existing external files"),
    flag("quiesce", "quiesce guest's file systems"),
    flag("atomic", "require atomic operation"),
    flag("live", "take a live snapshot"),
    flag("validate", "validate the XML against the schema"),
]


def _create_flags(args: Args) -> int:
    flags = 0
    for name, value in _CREATE_FLAGS:
        if args.command.option(name) is not None and args.flag(name):
            flags |= int(value)
    return flags


def _create(ctx: Ctx, dom: Domain, xml: str, flags: int, source: str | None) -> bool:
    snap = dom.snapshot_create_xml(xml, flags)
    if source is not None:
        ctx.extra(f"Domain snapshot {snap.name} created from '{source}'")
    else:
        ctx.extra(f"Domain snapshot {snap.name} created")
    return True


@command(
    "snapshot-create",
    "snapshot",
    "Create a snapshot from XML",
    "Create a snapshot (disk and RAM) from XML",
    [
        _DOMAIN,
        string("xmlfile", "domain snapshot XML"),
        flag("redefine", "redefine metadata for existing snapshot"),
        flag("current", "with redefine, set current snapshot"),
        *_COMMON_CREATE,
    ],
)
def cmd_snapshot_create(ctx: Ctx, args: Args) -> bool:
    flags = _create_flags(args)
    dom = ctx.domain(args)
    source = args.string("xmlfile")
    xml = "<domainsnapshot/>" if source is None else ctx.read_file(source)
    return _create(ctx, dom, xml, flags, source)


def _esc(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _memspec(text: str) -> str:
    snapshot = file = None
    for item in split_commas(text):
        if snapshot is None and item.startswith("snapshot="):
            snapshot = item[len("snapshot=") :]
        elif file is None and item.startswith("file="):
            file = item[len("file=") :]
        elif file is None and item.startswith("/"):
            file = item
        else:
            raise CommandError(f"unable to parse memspec: {text}")
    attrs = "".join(f" {k}='{_esc(v)}'" for k, v in (("snapshot", snapshot), ("file", file)) if v)
    return f"  <memory{attrs}/>\n"


def _diskspec(text: str) -> list[str]:
    items = split_commas(text)
    name, rest = items[0], items[1:]
    found: dict[str, str] = {}
    for item in rest:
        key = item.split("=", 1)[0]
        if key not in ("snapshot", "driver", "stype", "file") or key in found or "=" not in item:
            raise CommandError(f"unable to parse diskspec: {text}")
        found[key] = item.split("=", 1)[1]
    stype = found.get("stype")
    if stype is not None and stype not in ("block", "file"):
        raise CommandError(f"Unknown storage type: '{stype}'")
    head = f"    <disk name='{_esc(name)}'"
    if "snapshot" in found:
        head += f" snapshot='{found['snapshot']}'"
    if stype:
        head += f" type='{stype}'"
    if "driver" not in found and "file" not in found:
        return [head + "/>\n"]
    lines = [head + ">\n"]
    if "driver" in found:
        lines.append(f"      <driver type='{found['driver']}'/>\n")
    if "file" in found:
        attr = "dev" if stype == "block" else "file"
        lines.append(f"      <source {attr}='{_esc(found['file'])}'/>\n")
    lines.append("    </disk>\n")
    return lines


@command(
    "snapshot-create-as",
    "snapshot",
    "Create a snapshot from a set of args",
    "Create a snapshot (disk and RAM) from arguments",
    [
        _DOMAIN,
        string("name", "name of snapshot"),
        string("description", "description of snapshot"),
        flag("print-xml", "print XML document rather than create"),
        *_COMMON_CREATE,
        string("memspec", "memory attributes: [file=]name[,snapshot=type]", positional=False),
        argv(
            "diskspec",
            "disk attributes: disk[,snapshot=type][,driver=type][,stype=type][,file=name]",
        ),
    ],
)
def cmd_snapshot_create_as(ctx: Ctx, args: Args) -> bool:
    flags = _create_flags(args)
    dom = ctx.domain(args)
    name, desc = args.string("name"), args.string("description")
    lines = ["<domainsnapshot>\n"]
    if name is not None:
        lines.append(f"  <name>{_esc(name)}</name>\n")
    if desc is not None:
        lines.append(f"  <description>{_esc(desc)}</description>\n")
    memspec = args.string("memspec")
    if memspec is not None:
        lines.append(_memspec(memspec))
    disks = args.argv("diskspec")
    if disks:
        lines.append("  <disks>\n")
        for spec in disks:
            lines += _diskspec(spec)
        lines.append("  </disks>\n")
    lines.append("</domainsnapshot>\n")
    xml = "".join(lines)
    if args.flag("print-xml"):
        ctx.print(xml + "\n")
        return True
    return _create(ctx, dom, xml, flags, None)


def _lookup(ctx: Ctx, args: Args, dom: Domain, opt: str) -> DomainSnapshot:
    """virsh's snapshot selection: ``--<opt> NAME`` or ``--current``, not both."""
    name = args.string(opt)
    current = args.flag("current")
    if current and name is not None:
        raise CommandError(f"--{opt} and --current are mutually exclusive")
    if name is not None:
        return ctx.snapshot(dom, name)
    if current:
        try:
            return dom.snapshot_current()
        except VirtError as exc:
            raise CommandError(None, exc) from exc
    raise CommandError(f"--{opt} or --current is required")


def _parse(xml: str) -> Any:
    return etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))


_LIST_FILTERS = (
    ("leaves", DomainSnapshotListFlags.LEAVES),
    ("no-leaves", DomainSnapshotListFlags.NO_LEAVES),
    ("inactive", DomainSnapshotListFlags.INACTIVE),
    ("active", DomainSnapshotListFlags.ACTIVE),
    ("disk-only", DomainSnapshotListFlags.DISK_ONLY),
    ("internal", DomainSnapshotListFlags.INTERNAL),
    ("external", DomainSnapshotListFlags.EXTERNAL),
)


def _parent_name(snap: DomainSnapshot) -> str | None:
    try:
        return snap.get_parent().name
    except VirtError as exc:
        if exc.code == ErrorNumber.NO_DOMAIN_SNAPSHOT:
            return None
        raise


@command(
    "snapshot-list",
    "snapshot",
    "List snapshots for a domain",
    "Snapshot List",
    [
        _DOMAIN,
        flag("parent", "add a column showing parent snapshot"),
        flag("roots", "list only snapshots without parents"),
        flag("leaves", "list only snapshots without children"),
        flag("no-leaves", "list only snapshots that are not leaves (with children)"),
        flag("metadata", "list only snapshots that have metadata that would prevent undefine"),
        flag("no-metadata", "list only snapshots that have no metadata managed by libvirt"),
        flag("inactive", "filter by snapshots taken while inactive"),
        flag("active", "filter by snapshots taken while active (full system snapshots)"),
        flag("disk-only", "filter by disk-only snapshots"),
        flag("internal", "filter by internal snapshots"),
        flag("external", "filter by external snapshots"),
        flag("tree", "list snapshots in a tree"),
        string("from", "limit list to children of given snapshot"),
        flag("current", "limit list to children of current snapshot"),
        flag("descendants", "with --from, list all descendants"),
        flag("name", "list snapshot names only"),
        flag("topological", "sort list topologically rather than by name"),
    ],
    json=True,
)
def cmd_snapshot_list(ctx: Ctx, args: Args) -> bool:
    opt = {n: args.flag(n) for n in ("parent", "roots", "tree", "name", "current")}
    opt["from"] = args.given("from")
    for first, second in (
        ("tree", "name"),
        ("parent", "roots"),
        ("parent", "tree"),
        ("roots", "tree"),
        ("roots", "from"),
        ("roots", "current"),
    ):
        if opt[first] and opt[second]:
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    flags = 0
    for name, value in _LIST_FILTERS:
        if args.flag(name):
            if opt["tree"]:
                raise CommandError(f"--{name} and --tree are mutually exclusive")
            flags |= int(value)
    if args.flag("topological"):
        flags |= int(DomainSnapshotListFlags.TOPOLOGICAL)
    if opt["roots"]:
        flags |= int(DomainSnapshotListFlags.ROOTS)
    if args.flag("metadata"):
        flags |= int(DomainSnapshotListFlags.METADATA)
    if args.flag("no-metadata"):
        flags |= int(DomainSnapshotListFlags.NO_METADATA)
    if args.flag("descendants"):
        if not opt["from"] and not opt["current"]:
            raise CommandError("--descendants requires either --from or --current")
        flags |= int(DomainSnapshotListFlags.DESCENDANTS)
    dom = ctx.domain(args)
    start = None
    if opt["from"] or opt["current"]:
        start = _lookup(ctx, args, dom, "from")
    if start is not None:
        if opt["tree"]:
            flags |= int(DomainSnapshotListFlags.DESCENDANTS)
        snaps = start.list_all_children(flags)
        if opt["tree"]:
            snaps.insert(0, start)
    else:
        snaps = dom.list_all_snapshots(flags)
    if not flags & DomainSnapshotListFlags.TOPOLOGICAL:
        snaps.sort(key=lambda s: s.name.lower())
    if opt["tree"]:
        parents = [None if s == start else _parent_name(s) for s in snaps]
        ctx.print(tree_lines([s.name for s in snaps], parents))
        return True
    if opt["name"] and not args.flag("json"):
        ctx.print("".join(f"{s.name}\n" for s in snaps))
        return True
    table = Table("Name", "Creation Time", "State", *(["Parent"] if opt["parent"] else []))
    records = []
    for snap in snaps:
        try:
            root = _parse(snap.xml_desc(0))
        except VirtError:
            continue
        parent = str(root.xpath("string(/domainsnapshot/parent/name)")) or None
        state = str(root.xpath("string(/domainsnapshot/state)"))
        created = str(root.xpath("string(/domainsnapshot/creationTime)"))
        if not state or not created.lstrip("-").isdigit():
            continue
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(int(created)))
        records.append(
            {"name": snap.name, "creation_time": int(created), "state": state, "parent": parent}
        )
        if opt["parent"]:
            table.add(snap.name, stamp, state, parent or "")
        else:
            table.add(snap.name, stamp, state)
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "snapshot-current",
    "snapshot",
    "Get or set the current snapshot",
    "Get or set the current snapshot",
    [
        _DOMAIN,
        flag("name", "list the name, rather than the full xml"),
        flag("security-info", "include security sensitive information in XML dump"),
        string("snapshotname", "name of existing snapshot to make current"),
    ],
)
def cmd_snapshot_current(ctx: Ctx, args: Args) -> bool:
    if args.flag("name") and args.given("snapshotname"):
        raise CommandError("Options --name and --snapshotname are mutually exclusive")
    dom = ctx.domain(args)
    xml_flags = 1 if args.flag("security-info") else 0
    wanted = args.string("snapshotname")
    if wanted is not None:
        snap = ctx.snapshot(dom, wanted)
        xml = snap.xml_desc(1)
        flags = int(DomainSnapshotCreateFlags.REDEFINE | DomainSnapshotCreateFlags.CURRENT)
        if "<state>disk-snapshot</state>" in xml:
            flags |= int(DomainSnapshotCreateFlags.DISK_ONLY)
        dom.snapshot_create_xml(xml, flags)
        ctx.extra(f"Snapshot {wanted} set as current")
        return True
    if not dom.has_current_snapshot():
        raise CommandError(f"domain '{dom.name}' has no current snapshot")
    snap = dom.snapshot_current()
    ctx.print(snap.name if args.flag("name") else snap.xml_desc(xml_flags))
    return True


@command(
    "snapshot-info",
    "snapshot",
    "snapshot information",
    "Returns basic information about a snapshot.",
    [
        _DOMAIN,
        string("snapshotname", "snapshot name"),
        flag("current", "info on current snapshot"),
    ],
    json=True,
)
def cmd_snapshot_info(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    snap = _lookup(ctx, args, dom, "snapshotname")
    current = snap.is_current()
    root = _parse(snap.xml_desc(0))
    state = str(root.xpath("string(/domainsnapshot/state)"))
    if not state:
        raise CommandError("unexpected problem reading snapshot xml")
    external = root.xpath(
        "count(/domainsnapshot/memory[@snapshot='external'] | "
        "/domainsnapshot/disks/disk[@snapshot='external'])"
    )
    parent = str(root.xpath("string(/domainsnapshot/parent/name)")) or None
    children = snap.num_children(0)
    descendants = snap.num_children(int(DomainSnapshotListFlags.DESCENDANTS))
    metadata = snap.has_metadata()
    location = "external" if external else "internal"
    if args.flag("json"):
        ctx.json(
            {
                "name": snap.name,
                "domain": dom.name,
                "current": current,
                "state": state,
                "location": location,
                "parent": parent,
                "children": children,
                "descendants": descendants,
                "metadata": metadata,
            }
        )
        return True
    rows = [
        ("Name:", snap.name),
        ("Domain:", dom.name),
        ("Current:", yes_no(current)),
        ("State:", state),
        ("Location:", location),
        ("Parent:", parent or "-"),
        ("Children:", str(children)),
        ("Descendants:", str(descendants)),
        ("Metadata:", yes_no(metadata)),
    ]
    ctx.print("".join(f"{label:<15} {value}\n" for label, value in rows))
    return True


@command(
    "snapshot-dumpxml",
    "snapshot",
    "Dump XML for a domain snapshot",
    "Snapshot Dump XML",
    [
        _DOMAIN,
        data("snapshotname", "snapshot name"),
        flag("security-info", "include security sensitive information in XML dump"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_snapshot_dumpxml(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    snap = ctx.snapshot(dom, args.require("snapshotname"))
    xml = snap.xml_desc(1 if args.flag("security-info") else 0)
    dump_xml(ctx, xml, args.string("xpath"), args.flag("wrap"))
    return True


@command(
    "snapshot-revert",
    "snapshot",
    "Revert a domain to a snapshot",
    "Revert domain to snapshot",
    [
        _DOMAIN,
        string("snapshotname", "snapshot name"),
        flag("current", "revert to current snapshot"),
        flag("running", "after reverting, change state to running"),
        flag("paused", "after reverting, change state to paused"),
        flag("force", "try harder on risky reverts"),
        flag("reset-nvram", "re-initialize NVRAM from its pristine template"),
    ],
)
def cmd_snapshot_revert(ctx: Ctx, args: Args) -> bool:
    flags = 0
    for name, value in (
        ("running", DomainSnapshotRevertFlags.RUNNING),
        ("paused", DomainSnapshotRevertFlags.PAUSED),
        ("reset-nvram", DomainSnapshotRevertFlags.RESET_NVRAM),
    ):
        if args.flag(name):
            flags |= int(value)
    dom = ctx.domain(args)
    snap = _lookup(ctx, args, dom, "snapshotname")
    try:
        try:
            snap.revert(flags)
        except VirtError as exc:
            # Older servers reverted riskily by default; only force when told it matters.
            if not args.flag("force") or exc.code != ErrorNumber.SNAPSHOT_REVERT_RISKY:
                raise
            snap.revert(flags | int(DomainSnapshotRevertFlags.FORCE))
    except VirtError as exc:
        raise CommandError(f"Failed to revert snapshot {snap.name}", exc) from exc
    ctx.extra(f"Domain snapshot {snap.name} reverted\n")
    return True


@command(
    "snapshot-delete",
    "snapshot",
    "Delete a domain snapshot",
    "Snapshot Delete",
    [
        _DOMAIN,
        string("snapshotname", "snapshot name"),
        flag("current", "delete current snapshot"),
        flag("children", "delete snapshot and all children"),
        flag("children-only", "delete children but not snapshot"),
        flag("metadata", "delete only libvirt metadata, leaving snapshot contents behind"),
    ],
)
def cmd_snapshot_delete(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    snap = _lookup(ctx, args, dom, "snapshotname")
    flags = 0
    for name, value in (
        ("children", DomainSnapshotDeleteFlags.CHILDREN),
        ("children-only", DomainSnapshotDeleteFlags.CHILDREN_ONLY),
        ("metadata", DomainSnapshotDeleteFlags.METADATA_ONLY),
    ):
        if args.flag(name):
            flags |= int(value)
    try:
        snap.delete(flags)
    except VirtError as exc:
        raise CommandError(f"Failed to delete snapshot {snap.name}", exc) from exc
    if flags & DomainSnapshotDeleteFlags.CHILDREN_ONLY:
        ctx.extra(f"Domain snapshot {snap.name} children deleted\n")
    else:
        ctx.extra(f"Domain snapshot {snap.name} deleted\n")
    return True


@command(
    "snapshot-parent",
    "snapshot",
    "Get the name of the parent of a snapshot",
    "Extract the snapshot's parent, if any",
    [
        _DOMAIN,
        string("snapshotname", "find parent of snapshot name"),
        flag("current", "find parent of current snapshot"),
    ],
)
def cmd_snapshot_parent(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    snap = _lookup(ctx, args, dom, "snapshotname")
    parent = _parent_name(snap)
    if parent is None:
        raise CommandError(f"snapshot '{snap.name}' has no parent")
    ctx.print(parent)
    return True
