"""Storage pool commands: pool-list, pool-info, pool-dumpxml, pool-define, pool-define-as,
pool-create, pool-create-as, pool-build, pool-start, pool-destroy, pool-delete,
pool-undefine, pool-refresh, pool-autostart, pool-uuid, pool-name.

Output follows virsh 9.0, including ``pool-list --name``'s names padded to
20 columns and ``pool-define-as``'s hand-built XML. ``--json`` documents (see
``docs/cli.md``):

* ``pool-list``: ``[{"name", "uuid", "state", "persistent", "autostart",
  "capacity", "allocation", "available"}]`` sorted by name, sizes in bytes
  (``null`` for an inactive pool);
* ``pool-info``: the same fields for one pool.
"""

from __future__ import annotations

from typing import Any

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, pretty_capacity, yes_no
from virtcore.cli.parser import Args, split_commas
from virtcore.cli.spec import Opt, command, data, flag, string
from virtcore.cli.xmlview import dump_xml
from virtcore.enums.connect import ConnectListAllStoragePoolsFlags as PoolFlags
from virtcore.enums.storage import StoragePoolBuildFlags, StoragePoolCreateFlags, StoragePoolState
from virtcore.errors import VirtError
from virtcore.objects import StoragePool

__all__ = ["pool_state_name"]

_POOL = data("pool", "pool name or uuid", complete="pool")

_STATES = ("inactive", "building", "running", "degraded", "inaccessible")

_TYPES = {
    "dir": PoolFlags.DIR,
    "fs": PoolFlags.FS,
    "netfs": PoolFlags.NETFS,
    "logical": PoolFlags.LOGICAL,
    "disk": PoolFlags.DISK,
    "iscsi": PoolFlags.ISCSI,
    "iscsi-direct": PoolFlags.ISCSI_DIRECT,
    "scsi": PoolFlags.SCSI,
    "mpath": PoolFlags.MPATH,
    "rbd": PoolFlags.RBD,
    "sheepdog": PoolFlags.SHEEPDOG,
    "gluster": PoolFlags.GLUSTER,
    "zfs": PoolFlags.ZFS,
    "vstorage": PoolFlags.VSTORAGE,
}


def pool_state_name(state: int) -> str:
    """virsh's name of a pool state."""
    return _STATES[state] if 0 <= state < len(_STATES) else "unknown"


def _autostart(pool: StoragePool) -> bool | None:
    try:
        return pool.get_autostart()
    except VirtError:
        return None


def _record(pool: StoragePool) -> dict[str, Any]:
    info = pool.info()
    running = info.state in (StoragePoolState.RUNNING, StoragePoolState.DEGRADED)
    return {
        "name": pool.name,
        "uuid": pool.uuid,
        "state": pool_state_name(int(info.state)),
        "persistent": pool.is_persistent(),
        "autostart": _autostart(pool),
        "capacity": info.capacity if running else None,
        "allocation": info.allocation if running else None,
        "available": info.available if running else None,
    }


@command(
    "pool-list",
    "pool",
    "list pools",
    "Returns list of pools.",
    [
        flag("inactive", "list inactive pools"),
        flag("all", "list inactive & active pools"),
        flag("transient", "list transient pools"),
        flag("persistent", "list persistent pools"),
        flag("autostart", "list pools with autostart enabled"),
        flag("no-autostart", "list pools with autostart disabled"),
        string("type", "only list pool of specified type(s) (if supported)"),
        flag("details", "display extended details for pools"),
        flag("uuid", "list UUID of active pools only"),
        flag("name", "list name of active pools only"),
    ],
    json=True,
)
def cmd_pool_list(ctx: Ctx, args: Args) -> bool:
    details = args.flag("details")
    for other in ("uuid", "name"):
        if details and args.flag(other):
            raise CommandError(f"Options --details and --{other} are mutually exclusive")
    flags = PoolFlags.ACTIVE
    if args.flag("inactive"):
        flags = PoolFlags.INACTIVE
    if args.flag("all"):
        flags = PoolFlags.ACTIVE | PoolFlags.INACTIVE
    for name, value in (
        ("persistent", PoolFlags.PERSISTENT),
        ("transient", PoolFlags.TRANSIENT),
        ("autostart", PoolFlags.AUTOSTART),
        ("no-autostart", PoolFlags.NO_AUTOSTART),
    ):
        if args.flag(name):
            flags |= value
    types = args.string("type")
    if types is not None:
        for item in split_commas(types):
            if item not in _TYPES:
                raise CommandError(f"Invalid pool type '{item}'")
            flags |= _TYPES[item]
    try:
        pools = ctx.conn.list_all_storage_pools(int(flags))
    except VirtError as exc:
        raise CommandError("Failed to list pools", exc) from exc
    pools.sort(key=lambda p: p.name.lower())
    if args.flag("json"):
        ctx.json([_record(p) for p in pools])
        return True
    if not details and (args.flag("uuid") or args.flag("name")):
        for pool in pools:
            line = ""
            if args.flag("uuid"):
                line += f"{pool.uuid:<36}" + (" " if args.flag("name") else "")
            if args.flag("name"):
                line += f"{pool.name:<20}"
            ctx.print(line + "\n")
        return True
    headers = ["Name", "State", "Autostart"]
    if details:
        headers += ["Persistent", "Capacity", "Allocation", "Available"]
    table = Table(*headers)
    for pool in pools:
        autostart = _autostart(pool)
        auto_text = "no autostart" if autostart is None else yes_no(autostart)
        try:
            info = pool.info()
        except VirtError:
            ctx.error("Failed to get pool information")
            row = [pool.name, "unknown", auto_text]
            if details:
                row += [yes_no(pool.is_persistent()), "unknown", "unknown", "unknown"]
            table.add(*row)
            continue
        if not details:
            table.add(pool.name, "active" if pool.is_active() else "inactive", auto_text)
            continue
        if info.state in (StoragePoolState.RUNNING, StoragePoolState.DEGRADED):
            sizes = [pretty_capacity(v) for v in (info.capacity, info.allocation, info.available)]
        else:
            sizes = ["-", "-", "-"]
        table.add(
            pool.name,
            pool_state_name(int(info.state)),
            auto_text,
            yes_no(pool.is_persistent()),
            *sizes,
        )
    ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "pool-info",
    "pool",
    "storage pool information",
    "Returns basic information about the storage pool.",
    [_POOL, flag("bytes", "Return pool info in bytes")],
    json=True,
)
def cmd_pool_info(ctx: Ctx, args: Args) -> bool:
    pool = ctx.pool(args)
    if args.flag("json"):
        ctx.json(_record(pool))
        return True
    lines = [("Name:", pool.name), ("UUID:", pool.uuid)]
    info = pool.info()
    lines.append(("State:", pool_state_name(int(info.state))))
    lines.append(("Persistent:", yes_no(pool.is_persistent())))
    autostart = _autostart(pool)
    lines.append(("Autostart:", "no autostart" if autostart is None else yes_no(autostart)))
    if info.state in (StoragePoolState.RUNNING, StoragePoolState.DEGRADED):
        for label, value in (
            ("Capacity:", info.capacity),
            ("Allocation:", info.allocation),
            ("Available:", info.available),
        ):
            lines.append((label, str(value) if args.flag("bytes") else pretty_capacity(value)))
    ctx.print("".join(f"{label:<15} {value}\n" for label, value in lines))
    return True


@command(
    "pool-dumpxml",
    "pool",
    "pool information in XML",
    "Output the pool information as an XML dump to stdout.",
    [
        _POOL,
        flag("inactive", "show inactive defined XML"),
        string("xpath", "xpath expression to filter the XML document", positional=False),
        flag("wrap", "wrap xpath results in an common root element"),
    ],
)
def cmd_pool_dumpxml(ctx: Ctx, args: Args) -> bool:
    pool = ctx.pool(args)
    xml = pool.xml_desc(1 if args.flag("inactive") else 0)
    dump_xml(ctx, xml, args.string("xpath"), args.flag("wrap"))
    return True


_BUILD_OPTS = [
    flag("build", "build the pool as normal"),
    flag("no-overwrite", "do not overwrite any existing data"),
    flag("overwrite", "overwrite any existing data"),
]


def _create_flags(args: Args) -> int:
    if args.flag("overwrite") and args.flag("no-overwrite"):
        raise CommandError("Options --overwrite and --no-overwrite are mutually exclusive")
    flags = 0
    if args.flag("build"):
        flags |= int(StoragePoolCreateFlags.WITH_BUILD)
    if args.flag("overwrite"):
        flags |= int(StoragePoolCreateFlags.WITH_BUILD_OVERWRITE)
    if args.flag("no-overwrite"):
        flags |= int(StoragePoolCreateFlags.WITH_BUILD_NO_OVERWRITE)
    return flags


@command(
    "pool-define",
    "pool",
    "define an inactive persistent storage pool or modify an existing persistent one from an"
    " XML file",
    "Define or modify a persistent storage pool.",
    [
        data("file", "file containing an XML pool description"),
        flag("validate", "validate the XML against the schema"),
    ],
)
def cmd_pool_define(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = 1 if args.flag("validate") else 0
    xml = ctx.read_file(path)
    try:
        pool = ctx.conn.storage_pool_define_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to define pool from {path}", exc) from exc
    ctx.extra(f"Pool {pool.name} defined from {path}\n")
    return True


@command(
    "pool-create",
    "pool",
    "create a pool from an XML file",
    "Create a pool.",
    [data("file", "file containing an XML pool description"), *_BUILD_OPTS],
)
def cmd_pool_create(ctx: Ctx, args: Args) -> bool:
    path = args.require("file")
    flags = _create_flags(args)
    xml = ctx.read_file(path)
    try:
        pool = ctx.conn.storage_pool_create_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to create pool from {path}", exc) from exc
    ctx.extra(f"Pool {pool.name} created from {path}\n")
    return True


_AS_OPTS: list[Opt] = [
    data("name", "name of the pool"),
    data("type", "type of the pool"),
    flag("print-xml", "print XML document, but don't define/create"),
    string("source-host", "source-host for underlying storage"),
    string("source-path", "source path for underlying storage"),
    string("source-dev", "source device for underlying storage"),
    string("source-name", "source name for underlying storage"),
    string("target", "target for underlying storage"),
    string("source-format", "format for underlying storage"),
    string("auth-type", "auth type to be used for underlying storage"),
    string("auth-username", "auth username to be used for underlying storage"),
    string("secret-usage", "auth secret usage to be used for underlying storage"),
    string("secret-uuid", "auth secret UUID to be used for underlying storage"),
    string("adapter-name", "adapter name to be used for underlying storage"),
    string("adapter-wwnn", "adapter wwnn to be used for underlying storage"),
    string("adapter-wwpn", "adapter wwpn to be used for underlying storage"),
    string("adapter-parent", "adapter parent scsi_hostN to be used for underlying vHBA storage"),
    string(
        "adapter-parent-wwnn",
        "adapter parent scsi_hostN wwnn to be used for underlying vHBA storage",
    ),
    string(
        "adapter-parent-wwpn",
        "adapter parent scsi_hostN wwpn to be used for underlying vHBA storage",
    ),
    string(
        "adapter-parent-fabric-wwn",
        "adapter parent scsi_hostN fabric_wwn to be used for underlying vHBA storage",
    ),
    string("source-protocol-ver", "nfsvers value for NFS pool mount option"),
    string("source-initiator", "initiator iqn for underlying storage"),
]


def _pool_xml(args: Args) -> tuple[str, str]:
    """virsh's pool document built from ``pool-define-as``/``pool-create-as`` options."""
    if args.given("secret-usage") and args.given("secret-uuid"):
        raise CommandError("Options --secret-usage and --secret-uuid are mutually exclusive")
    name, kind = args.require("name"), args.require("type")
    o = {opt.name: args.string(opt.name) for opt in _AS_OPTS[3:]}
    lines = [f"<pool type='{kind}'>\n", f"  <name>{name}</name>\n"]
    has_adapter = bool(o["adapter-wwnn"] and o["adapter-wwpn"]) or bool(o["adapter-name"])
    source_keys: tuple[str, ...] = ("source-host", "source-path", "source-dev", "source-initiator")
    source_keys += ("source-format", "source-name")
    if any(o[k] for k in source_keys) or has_adapter:
        src = ["  <source>\n"]
        if o["source-host"]:
            src.append(f"    <host name='{o['source-host']}'/>\n")
        if o["source-path"]:
            src.append(f"    <dir path='{o['source-path']}'/>\n")
        if o["source-dev"]:
            src.append(f"    <device path='{o['source-dev']}'/>\n")
        if o["source-initiator"]:
            src += [
                "    <initiator>\n",
                f"      <iqn name='{o['source-initiator']}'/>\n",
                "    </initiator>\n",
            ]
        if o["adapter-wwnn"] and o["adapter-wwpn"]:
            parent = ""
            if o["adapter-parent"]:
                parent = f" parent='{o['adapter-parent']}'"
            elif o["adapter-parent-wwnn"] and o["adapter-parent-wwpn"]:
                parent = (
                    f" parent_wwnn='{o['adapter-parent-wwnn']}'"
                    f" parent_wwpn='{o['adapter-parent-wwpn']}'"
                )
            elif o["adapter-parent-fabric-wwn"]:
                parent = f" parent_fabric_wwn='{o['adapter-parent-fabric-wwn']}'"
            src.append(
                f"    <adapter type='fc_host'{parent} wwnn='{o['adapter-wwnn']}'"
                f" wwpn='{o['adapter-wwpn']}'/>\n"
            )
        elif o["adapter-name"]:
            src.append(f"    <adapter type='scsi_host' name='{o['adapter-name']}'/>\n")
        if o["auth-type"] and o["auth-username"] and (o["secret-usage"] or o["secret-uuid"]):
            secret = (
                f"usage='{o['secret-usage']}'"
                if o["secret-usage"]
                else f"uuid='{o['secret-uuid']}'"
            )
            src += [
                f"    <auth type='{o['auth-type']}' username='{o['auth-username']}'>\n",
                f"      <secret {secret}/>\n",
                "    </auth>\n",
            ]
        if o["source-format"]:
            src.append(f"    <format type='{o['source-format']}'/>\n")
        if o["source-name"]:
            src.append(f"    <name>{o['source-name']}</name>\n")
        if o["source-protocol-ver"]:
            src.append(f"    <protocol ver='{o['source-protocol-ver']}'/>\n")
        src.append("  </source>\n")
        lines += src
    if o["target"]:
        lines += ["  <target>\n", f"    <path>{o['target']}</path>\n", "  </target>\n"]
    lines.append("</pool>\n")
    return name, "".join(lines)


@command("pool-define-as", "pool", "define a pool from a set of args", "Define a pool.", _AS_OPTS)
def cmd_pool_define_as(ctx: Ctx, args: Args) -> bool:
    name, xml = _pool_xml(args)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    try:
        ctx.conn.storage_pool_define_xml(xml, 0)
    except VirtError as exc:
        raise CommandError(f"Failed to define pool {name}", exc) from exc
    ctx.extra(f"Pool {name} defined\n")
    return True


@command(
    "pool-create-as",
    "pool",
    "create a pool from a set of args",
    "Create a pool.",
    [*_AS_OPTS, *_BUILD_OPTS],
)
def cmd_pool_create_as(ctx: Ctx, args: Args) -> bool:
    flags = _create_flags(args)
    name, xml = _pool_xml(args)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    try:
        ctx.conn.storage_pool_create_xml(xml, flags)
    except VirtError as exc:
        raise CommandError(f"Failed to create pool {name}", exc) from exc
    ctx.extra(f"Pool {name} created\n")
    return True


def _pool_action(
    name: str, help: str, desc: str, *, verb: str, done: str, extra: list[Opt]
) -> None:
    def handler(ctx: Ctx, args: Args) -> bool:
        given = args.require("pool")
        if verb == "start":
            flags = _create_flags(args)
        elif verb == "build":
            flags = (int(StoragePoolBuildFlags.OVERWRITE) if args.flag("overwrite") else 0) | (
                int(StoragePoolBuildFlags.NO_OVERWRITE) if args.flag("no-overwrite") else 0
            )
        else:
            flags = 0
        pool = ctx.pool(args)
        try:
            if verb == "start":
                pool.create(flags)
            elif verb == "build":
                pool.build(flags)
            elif verb in ("delete", "refresh"):
                getattr(pool, verb)(0)
            else:
                getattr(pool, verb)()
        except VirtError as exc:
            raise CommandError(f"Failed to {verb} pool {given}", exc) from exc
        ctx.extra(f"Pool {given} {done}\n")
        return True

    command(name, "pool", help, desc, [_POOL, *extra])(handler)


_pool_action(
    "pool-build",
    "build a pool",
    "Build a given pool.",
    verb="build",
    done="built",
    extra=_BUILD_OPTS[1:],
)
_pool_action(
    "pool-start",
    "start a (previously defined) inactive pool",
    "Start a pool.",
    verb="start",
    done="started",
    extra=_BUILD_OPTS,
)
_pool_action(
    "pool-destroy",
    "destroy (stop) a pool",
    "Forcefully stop a given pool. Raw data in the pool is untouched",
    verb="destroy",
    done="destroyed",
    extra=[],
)
_pool_action(
    "pool-delete", "delete a pool", "Delete a given pool.", verb="delete", done="deleted", extra=[]
)
_pool_action(
    "pool-undefine",
    "undefine an inactive pool",
    "Undefine the configuration for an inactive pool.",
    verb="undefine",
    done="has been undefined",
    extra=[],
)
_pool_action(
    "pool-refresh",
    "refresh a pool",
    "Refresh a given pool.",
    verb="refresh",
    done="refreshed",
    extra=[],
)


@command(
    "pool-autostart",
    "pool",
    "autostart a pool",
    "Configure a pool to be automatically started at boot.",
    [_POOL, flag("disable", "disable autostarting")],
)
def cmd_pool_autostart(ctx: Ctx, args: Args) -> bool:
    given = args.require("pool")
    pool = ctx.pool(args)
    enable = not args.flag("disable")
    try:
        pool.set_autostart(enable)
    except VirtError as exc:
        verb = "mark" if enable else "unmark"
        raise CommandError(f"failed to {verb} pool {given} as autostarted", exc) from exc
    ctx.extra(f"Pool {given} {'marked' if enable else 'unmarked'} as autostarted\n")
    return True


@command("pool-uuid", "pool", "convert a pool name to pool UUID", "", [_POOL])
def cmd_pool_uuid(ctx: Ctx, args: Args) -> bool:
    ctx.print(f"{ctx.pool(args, by_uuid=False).uuid}\n")
    return True


@command("pool-name", "pool", "convert a pool UUID to pool name", "", [_POOL])
def cmd_pool_name(ctx: Ctx, args: Args) -> bool:
    ctx.print(f"{ctx.pool(args, by_name=False).name}\n")
    return True
