"""Network filter commands: nwfilter-list, nwfilter-define, nwfilter-dumpxml,
nwfilter-undefine.

Filters are found by UUID, then by name. Output is virsh 9.0's; on a driver
without a network filter implementation the commands fail with virsh's
messages ("Failed to count network filters" and the library's
NO_SUPPORT error). ``--json`` document of ``nwfilter-list`` (see
``docs/cli.md``): ``[{"uuid", "name"}]`` sorted by name.
"""

from __future__ import annotations

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, data, flag, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.objects import NWFilter

__all__: list[str] = []

_NWFILTER = data("nwfilter", "network filter name or uuid", complete="nwfilter")


def _list(ctx: Ctx) -> list[NWFilter]:
    try:
        return ctx.conn.list_all_nwfilters(0)
    except VirtError as exc:
        if exc.code != ErrorNumber.NO_SUPPORT:
            raise CommandError("Failed to list network filters", exc) from exc
    # Drivers without the "list all" call: count, then name, like virsh's fallback.
    try:
        ctx.conn.num_of_nwfilters()
    except VirtError as exc:
        raise CommandError("Failed to count network filters", exc) from exc
    try:
        names = ctx.conn.list_nwfilters()
    except VirtError as exc:
        raise CommandError("Failed to list network filters", exc) from exc
    return [ctx.conn.nwfilter_lookup_by_name(name) for name in names]


@command(
    "nwfilter-list",
    "filter",
    "list network filters",
    "Returns list of network filters.",
    json=True,
)
def cmd_nwfilter_list(ctx: Ctx, args: Args) -> bool:
    filters = sorted(_list(ctx), key=lambda f: f.name.lower())
    if args.flag("json"):
        ctx.json([{"uuid": f.uuid, "name": f.name} for f in filters])
        return True
    table = Table("UUID", "Name")
    for nwfilter in filters:
        table.add(nwfilter.uuid, nwfilter.name)
    ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "nwfilter-define",
    "filter",
    "define or update a network filter from an XML file",
    "Define a new network filter or update an existing one.",
    [
        data("file", "file containing an XML network filter description"),
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_nwfilter_define(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = 1 if args.flag("validate") else 0
    xml = ctx.read_file(path)
    try:
        nwfilter = ctx.conn.nwfilter_define_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to define network filter from {path}", exc) from exc
    ctx.extra(f"Network filter {nwfilter.name} defined from {path}\n")
    return True


@command(
    "nwfilter-dumpxml",
    "filter",
    "network filter information in XML",
    "Output the network filter information as an XML dump to stdout.",
    [
        _NWFILTER,
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_nwfilter_dumpxml(ctx: Ctx, args: Args) -> bool:
    nwfilter = ctx.nwfilter(args)
    dump_xml(ctx, nwfilter.xml_desc(0), args.string("xpath"), args.flag("wrap"))
    return True


@command(
    "nwfilter-undefine",
    "filter",
    "undefine a network filter",
    "Undefine a given network filter.",
    [_NWFILTER],
)
def cmd_nwfilter_undefine(ctx: Ctx, args: Args) -> bool:
    given = args.require("nwfilter")
    nwfilter = ctx.nwfilter(args)
    try:
        nwfilter.undefine()
    except VirtError as exc:
        raise CommandError(f"Failed to undefine network filter {given}", exc) from exc
    ctx.extra(f"Network filter {given} undefined\n")
    return True
