"""Virtual network commands: net-list, net-info, net-dumpxml, net-define, net-create,
net-start, net-destroy, net-undefine, net-autostart, net-update, net-dhcp-leases,
net-uuid, net-name.

Output and messages are virsh 9.0's (``Network default destroyed``, the
``net-update`` summaries without a trailing newline). ``--json`` documents
(see ``docs/cli.md``):

* ``net-list``: ``[{"name", "uuid", "active", "persistent", "autostart",
  "bridge"}]`` sorted by name;
* ``net-info``: ``{"name", "uuid", "active", "persistent", "autostart",
  "bridge"}``;
* ``net-dhcp-leases``: ``[{"expiry_time", "mac", "protocol", "ip_address",
  "prefix", "hostname", "client_id", "iaid"}]`` (``expiry_time`` in seconds
  since the epoch).
"""

from __future__ import annotations

import time
from typing import Any

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, yes_no
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, data, flag, integer, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.connect import ConnectListAllNetworksFlags as NetFlags
from virtcore.enums.network import (
    NetworkUpdateCommand,
    NetworkUpdateFlags,
    NetworkUpdateSection,
)
from virtcore.errors import VirtError
from virtcore.objects import Network

__all__: list[str] = []

_NETWORK = data("network", "network name or uuid", complete="network")


def _bridge(net: Network) -> str | None:
    try:
        return net.bridge_name() or None
    except VirtError:
        return None


def _autostart(net: Network) -> bool | None:
    try:
        return net.get_autostart()
    except VirtError:
        return None


def _record(net: Network) -> dict[str, Any]:
    return {
        "name": net.name,
        "uuid": net.uuid,
        "active": net.is_active(),
        "persistent": net.is_persistent(),
        "autostart": _autostart(net),
        "bridge": _bridge(net),
    }


@command(
    "net-list",
    "network",
    "list networks",
    "Returns list of networks.",
    [
        flag("inactive", "list inactive networks"),
        flag("all", "list inactive & active networks"),
        flag("persistent", "list persistent networks"),
        flag("transient", "list transient networks"),
        flag("autostart", "list networks with autostart enabled"),
        flag("no-autostart", "list networks with autostart disabled"),
        flag("uuid", "list uuid's only"),
        flag("name", "list network names only"),
        flag("table", "list table (default)"),
    ],
    json=True,
)
def cmd_net_list(ctx: Ctx, args: Args) -> bool:
    flags = NetFlags.ACTIVE
    if args.flag("inactive"):
        flags = NetFlags.INACTIVE
    if args.flag("all"):
        flags = NetFlags.ACTIVE | NetFlags.INACTIVE
    for name, value in (
        ("persistent", NetFlags.PERSISTENT),
        ("transient", NetFlags.TRANSIENT),
        ("autostart", NetFlags.AUTOSTART),
        ("no-autostart", NetFlags.NO_AUTOSTART),
    ):
        if args.flag(name):
            flags |= value
    if args.flag("table") + args.flag("name") + args.flag("uuid") > 1:
        raise CommandError("Only one argument from --table, --name and --uuid may be specified.")
    try:
        networks = ctx.conn.list_all_networks(int(flags))
    except VirtError as exc:
        raise CommandError("Failed to list networks", exc) from exc
    networks.sort(key=lambda n: n.name.lower())
    if args.flag("json"):
        ctx.json([_record(n) for n in networks])
    elif args.flag("uuid"):
        ctx.print("".join(f"{n.uuid}\n" for n in networks))
    elif args.flag("name"):
        ctx.print("".join(f"{n.name}\n" for n in networks))
    else:
        table = Table("Name", "State", "Autostart", "Persistent")
        for net in networks:
            autostart = _autostart(net)
            table.add(
                net.name,
                "active" if net.is_active() else "inactive",
                "no autostart" if autostart is None else yes_no(autostart),
                yes_no(net.is_persistent()),
            )
        ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "net-info",
    "network",
    "network information",
    "Returns basic information about the network",
    [_NETWORK],
    json=True,
)
def cmd_net_info(ctx: Ctx, args: Args) -> bool:
    net = ctx.network(args)
    if args.flag("json"):
        ctx.json(_record(net))
        return True
    lines = [("Name:", net.name), ("UUID:", net.uuid)]
    lines.append(("Active:", yes_no(net.is_active())))
    lines.append(("Persistent:", yes_no(net.is_persistent())))
    autostart = _autostart(net)
    lines.append(("Autostart:", "no autostart" if autostart is None else yes_no(autostart)))
    bridge = _bridge(net)
    if bridge:
        lines.append(("Bridge:", bridge))
    ctx.print("".join(f"{label:<15} {value}\n" for label, value in lines))
    return True


@command(
    "net-dumpxml",
    "network",
    "network information in XML",
    "Output the network information as an XML dump to stdout.",
    [
        _NETWORK,
        flag("inactive", "show inactive defined XML"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_net_dumpxml(ctx: Ctx, args: Args) -> bool:
    net = ctx.network(args)
    xml = net.xml_desc(1 if args.flag("inactive") else 0)
    dump_xml(ctx, xml, args.string("xpath"), args.flag("wrap"))
    return True


def _define_or_create(define: bool) -> None:
    verb, done = ("define", "defined") if define else ("create", "created")

    def handler(ctx: Ctx, args: Args) -> bool:
        path = args.require("file")
        flags = 1 if args.flag("validate") else 0
        xml = ctx.read_file(path)
        try:
            if define:
                net = ctx.conn.network_define_xml(xml, flags)
            else:
                net = ctx.conn.network_create_xml(xml, flags)
        except VirtError as exc:
            raise CommandError(f"Failed to {verb} network from {path}", exc) from exc
        ctx.extra(f"Network {net.name} {done} from {path}\n")
        return True

    command(
        f"net-{verb}",
        "network",
        "define an inactive persistent virtual network or modify an existing persistent one"
        " from an XML file"
        if define
        else "create a network from an XML file",
        "Define or modify a persistent virtual network." if define else "Create a network.",
        [
            data("file", "file containing an XML network description"),
            flag("validate", "validate the XML against the schema"),
        ],
    )(handler)


_define_or_create(True)
_define_or_create(False)


def _lifecycle(name: str, help: str, desc: str, *, verb: str, done: str, method: str) -> None:
    def handler(ctx: Ctx, args: Args) -> bool:
        given = args.require("network")
        net = ctx.network(args)
        try:
            getattr(net, method)()
        except VirtError as exc:
            raise CommandError(f"Failed to {verb} network {given}", exc) from exc
        ctx.extra(f"Network {given} {done}\n")
        return True

    command(name, "network", help, desc, [_NETWORK])(handler)


_lifecycle(
    "net-start",
    "start a (previously defined) inactive network",
    "Start a network.",
    verb="start",
    done="started",
    method="create",
)
_lifecycle(
    "net-destroy",
    "destroy (stop) a network",
    "Forcefully stop a given network.",
    verb="destroy",
    done="destroyed",
    method="destroy",
)
_lifecycle(
    "net-undefine",
    "undefine a persistent network",
    "Undefine the configuration for a persistent network.",
    verb="undefine",
    done="has been undefined",
    method="undefine",
)


@command(
    "net-autostart",
    "network",
    "autostart a network",
    "Configure a network to be automatically started at boot.",
    [_NETWORK, flag("disable", "disable autostarting")],
)
def cmd_net_autostart(ctx: Ctx, args: Args) -> bool:
    given = args.require("network")
    net = ctx.network(args)
    enable = not args.flag("disable")
    try:
        net.set_autostart(enable)
    except VirtError as exc:
        verb = "mark" if enable else "unmark"
        raise CommandError(f"failed to {verb} network {given} as autostarted", exc) from exc
    ctx.extra(f"Network {given} {'marked' if enable else 'unmarked'} as autostarted\n")
    return True


_UPDATE_COMMANDS = {"modify": 1, "delete": 2, "add-last": 3, "add-first": 4, "add": 3}
_SECTIONS = {
    s.name.lower().replace("_", "-"): s
    for s in NetworkUpdateSection
    if s is not NetworkUpdateSection.NONE
}


@command(
    "net-update",
    "network",
    "update parts of an existing network's configuration",
    "",
    [
        _NETWORK,
        data("command", "type of update (add-first, add-last (add), delete, or modify)"),
        data("section", "which section of network configuration to update"),
        data(
            "xml",
            "name of file containing xml (or, if it starts with '<', the complete xml element"
            " itself) to add/modify, or to be matched for search",
        ),
        integer("parent-index", "which parent object to search through"),
        flag("config", "affect next network startup"),
        flag("live", "affect running network"),
        flag("current", "affect current state of network"),
    ],
)
def cmd_net_update(ctx: Ctx, args: Args) -> bool:
    for first, second in (("current", "live"), ("current", "config")):
        if args.flag(first) and args.flag(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    net = ctx.network(args)
    command_name = args.require("command")
    if command_name not in _UPDATE_COMMANDS:
        raise CommandError(f"unrecognized command name '{command_name}'")
    section_name = args.require("section")
    section = _SECTIONS.get(section_name)
    if section is None:
        raise CommandError(f"unrecognized section name '{section_name}'")
    parent = args.number("parent-index")
    xml = args.require("xml")
    if not xml.startswith("<"):
        xml = ctx.read_file(xml)
    flags = int(NetworkUpdateFlags.CURRENT)
    if args.flag("config"):
        flags |= int(NetworkUpdateFlags.CONFIG)
    if args.flag("live"):
        flags |= int(NetworkUpdateFlags.LIVE)
    try:
        net.update(
            NetworkUpdateCommand(_UPDATE_COMMANDS[command_name]),
            section,
            -1 if parent is None else parent,
            xml,
            flags,
        )
    except VirtError as exc:
        raise CommandError(f"Failed to update network {net.name}", exc) from exc
    if args.flag("config"):
        what = "persistent config and live state" if args.flag("live") else "persistent config"
    elif args.flag("live") or net.is_active():
        what = "live state"
    else:
        what = "persistent config"
    ctx.extra(f"Updated network {net.name} {what}")
    return True


@command(
    "net-dhcp-leases",
    "network",
    "print lease info for a given network",
    "Print lease info for a given network",
    [_NETWORK, string("mac", "MAC address")],
    json=True,
)
def cmd_net_dhcp_leases(ctx: Ctx, args: Args) -> bool:
    mac = args.string("mac")
    given = args.require("network")
    net = ctx.network(args)
    try:
        leases = net.dhcp_leases(mac, 0)
    except VirtError as exc:
        raise CommandError(f"Failed to get leases info for {given}", exc) from exc
    leases.sort(key=lambda lease: lease.mac or "")
    if args.flag("json"):
        ctx.json(
            [
                {
                    "expiry_time": lease.expirytime,
                    "mac": lease.mac,
                    "protocol": {0: "ipv4", 1: "ipv6"}.get(lease.type),
                    "ip_address": lease.ipaddr,
                    "prefix": lease.prefix,
                    "hostname": lease.hostname,
                    "client_id": lease.clientid,
                    "iaid": lease.iaid,
                }
                for lease in leases
            ]
        )
        return True
    table = Table(
        "Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID"
    )
    for lease in leases:
        table.add(
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(lease.expirytime)),
            lease.mac or "-",
            {0: "ipv4", 1: "ipv6"}.get(lease.type, "-"),
            f"{lease.ipaddr}/{lease.prefix}",
            lease.hostname or "-",
            lease.clientid or "-",
        )
    ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "net-uuid",
    "network",
    "convert a network name to network UUID",
    "",
    [data("network", "network name", complete="network")],
)
def cmd_net_uuid(ctx: Ctx, args: Args) -> bool:
    net = ctx.network(args, by_uuid=False)
    ctx.print(f"{net.uuid}\n")
    return True


@command(
    "net-name",
    "network",
    "convert a network UUID to network name",
    "",
    [data("network", "network uuid", complete="network")],
)
def cmd_net_name(ctx: Ctx, args: Args) -> bool:
    net = ctx.network(args, by_name=False)
    ctx.print(f"{net.name}\n")
    return True
