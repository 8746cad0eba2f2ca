"""Host device and host interface commands: nodedev-list, nodedev-dumpxml, nodedev-destroy,
iface-list, iface-dumpxml, iface-mac, iface-name.

``nodedev-list`` filters by capability (``--cap net,scsi_host``) and draws
the device hierarchy with ``--tree``; ``nodedev-dumpxml`` and
``nodedev-destroy`` take a device name or a ``WWNN,WWPN`` pair naming an
``fc_host`` SCSI host (``virNodeDeviceLookupSCSIHostByWWN``); ``iface-*`` commands find an interface
by MAC address when the argument is one, else by name. Output is virsh
9.0's. ``--json`` documents (see ``docs/cli.md``):

* ``nodedev-list``: ``[{"name", "parent", "capabilities"}]`` sorted by name;
* ``iface-list``: ``[{"name", "active", "mac"}]`` sorted by name.
"""

from __future__ import annotations

import re
from typing import Any

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, tree_lines
from virtcore.cli.parser import Args, split_commas
from virtcore.cli.spec import alias, command, data, flag, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.connect import ConnectListAllInterfacesFlags as IfaceFlags
from virtcore.enums.connect import ConnectListAllNodeDeviceFlags as DevFlags
from virtcore.errors import InternalError, VirtError
from virtcore.objects import Interface, NodeDevice

__all__: list[str] = []

# virNodeDevCapType names, in the order of the CAP_* listing flags.
_CAPS = (
    "system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi",
    "storage", "fc_host", "vports", "scsi_generic", "drm", "mdev_types", "mdev", "ccw",
    "css", "vdpa", "ap_card", "ap_queue", "ap_matrix", "vpd",
)  # fmt: skip

_WWN = re.compile(r"(0x)?[0-9a-fA-F]{16}")
_MAC = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")


def _parent(dev: NodeDevice) -> str | None:
    try:
        return dev.parent()
    except VirtError:
        return None


@command(
    "nodedev-list",
    "nodedev",
    "enumerate devices on this host",
    "",
    [
        flag("tree", "list devices in a tree"),
        string("cap", "capability names, separated by comma"),
        flag("inactive", "list inactive devices"),
        flag("all", "list inactive & active devices"),
    ],
    json=True,
)
def cmd_nodedev_list(ctx: Ctx, args: Args) -> bool:
    tree = args.flag("tree")
    caps_text = args.string("cap") if args.given("cap") else None
    caps = split_commas(caps_text) if caps_text else []
    if caps and tree:
        raise CommandError("Options --tree and --cap are incompatible")
    if args.flag("inactive") and args.flag("all"):
        raise CommandError("Option --inactive is incompatible with --all")
    if args.flag("inactive"):
        flags = int(DevFlags.INACTIVE)
    elif args.flag("all"):
        flags = int(DevFlags.INACTIVE | DevFlags.ACTIVE)
    else:
        flags = int(DevFlags.ACTIVE)
    for cap in caps:
        if cap not in _CAPS:
            raise CommandError("Invalid capability type")
        flags |= 1 << _CAPS.index(cap)
    try:
        devices = ctx.conn.list_all_node_devices(flags)
    except VirtError as exc:
        raise CommandError("Failed to list node devices", exc) from exc
    devices.sort(key=lambda d: d.name.lower())
    if args.flag("json"):
        ctx.json(
            [{"name": d.name, "parent": _parent(d), "capabilities": d.list_caps()} for d in devices]
        )
    elif tree:
        ctx.print(tree_lines([d.name for d in devices], [_parent(d) for d in devices]))
    else:
        ctx.print("".join(f"{d.name}\n" for d in devices))
    return True


@command(
    "nodedev-dumpxml",
    "nodedev",
    "node device details in XML",
    "Output the node device details as an XML dump to stdout.",
    [
        data("device", "device name or wwn pair in 'wwnn,wwpn' format", complete="nodedev"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_nodedev_dumpxml(ctx: Ctx, args: Args) -> bool:
    dev = _find_device(ctx, args.require("device"))
    dump_xml(ctx, dev.xml_desc(0), args.string("xpath"), args.flag("wrap"))
    return True


@command(
    "nodedev-destroy",
    "nodedev",
    "destroy (stop) a device on the node",
    "Destroy a device on the node.  Note that this command destroys devices on the physical host",
    [
        alias("name", "device"),
        data("device", "device name or wwn pair in 'wwnn,wwpn' format", complete="nodedev"),
    ],
)
def cmd_nodedev_destroy(ctx: Ctx, args: Args) -> bool:
    value = args.require("device")
    dev = _find_device(ctx, value)
    try:
        dev.destroy()
    except VirtError as exc:
        raise CommandError(f"Failed to destroy node device '{value}'", exc) from exc
    ctx.extra(f"Destroyed node device '{value}'\n")
    return True


def _find_device(ctx: Ctx, value: str) -> NodeDevice:
    """The device named *value*, or the SCSI host of the ``WWNN,WWPN`` pair it holds.

    As virsh does, a value with a comma must be exactly two valid WWNs (16 hex
    digits, optionally after ``0x``); each is checked before the lookup.
    """
    if "," not in value:
        try:
            return ctx.conn.node_device_lookup_by_name(value)
        except VirtError as exc:
            raise CommandError(f"Could not find matching device '{value}'", exc) from exc
    parts = split_commas(value)
    if len(parts) != 2:
        raise CommandError(f"Malformed device value '{value}'")
    for wwn in parts:
        if not _WWN.fullmatch(wwn):
            raise CommandError(None, InternalError(f"Malformed wwn: {wwn}"))
    try:
        return ctx.conn.node_device_lookup_scsi_host_by_wwn(parts[0], parts[1], 0)
    except VirtError as exc:
        raise CommandError(f"Could not find matching device '{value}'", exc) from exc


def _interface(ctx: Ctx, args: Args, *, by_name: bool = True, by_mac: bool = True) -> Interface:
    name = args.require("interface")
    is_mac = bool(_MAC.fullmatch(name))
    try:
        if not is_mac and by_name:
            return ctx.conn.interface_lookup_by_name(name)
        if is_mac and by_mac:
            return ctx.conn.interface_lookup_by_mac_string(name)
    except VirtError as exc:
        raise CommandError(f"failed to get interface '{name}'", exc) from exc
    raise CommandError(f"failed to get interface '{name}'")


@command(
    "iface-list",
    "interface",
    "list physical host interfaces",
    "Returns list of physical host interfaces.",
    [
        flag("inactive", "list inactive interfaces"),
        flag("all", "list inactive & active interfaces"),
    ],
    json=True,
)
def cmd_iface_list(ctx: Ctx, args: Args) -> bool:
    flags = IfaceFlags.ACTIVE
    if args.flag("inactive"):
        flags = IfaceFlags.INACTIVE
    if args.flag("all"):
        flags = IfaceFlags.INACTIVE | IfaceFlags.ACTIVE
    try:
        ifaces = ctx.conn.list_all_interfaces(int(flags))
    except VirtError as exc:
        raise CommandError("Failed to list interfaces", exc) from exc
    ifaces.sort(key=lambda i: i.name.lower())
    records: list[dict[str, Any]] = [
        {"name": i.name, "active": i.is_active(), "mac": i.mac} for i in ifaces
    ]
    if args.flag("json"):
        ctx.json(records)
        return True
    table = Table("Name", "State", "MAC Address")
    for rec in records:
        table.add(rec["name"], "active" if rec["active"] else "inactive", rec["mac"])
    ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "iface-dumpxml",
    "interface",
    "interface information in XML",
    "Output the physical host interface information as an XML dump to stdout.",
    [
        data("interface", "interface name or MAC address", complete="interface"),
        flag("inactive", "show inactive defined XML"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_iface_dumpxml(ctx: Ctx, args: Args) -> bool:
    iface = _interface(ctx, args)
    xml = iface.xml_desc(1 if args.flag("inactive") else 0)
    dump_xml(ctx, xml, args.string("xpath"), args.flag("wrap"))
    return True


@command(
    "iface-mac",
    "interface",
    "convert an interface name to interface MAC address",
    "",
    [data("interface", "interface name", complete="interface")],
)
def cmd_iface_mac(ctx: Ctx, args: Args) -> bool:
    ctx.print(_interface(ctx, args, by_mac=False).mac + "\n")
    return True


@command(
    "iface-name",
    "interface",
    "convert an interface MAC address to interface name",
    "",
    [data("interface", "interface mac", complete="interface")],
)
def cmd_iface_name(ctx: Ctx, args: Args) -> bool:
    ctx.print(_interface(ctx, args, by_name=False).name + "\n")
    return True
