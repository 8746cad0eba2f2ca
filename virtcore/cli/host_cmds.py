"""Host and hypervisor commands: uri, version, hostname, sysinfo, capabilities, node figures.

Output follows virsh 9.0 byte for byte (``nodeinfo``'s ``%-20s`` labels,
``freecell``'s ``%5s: %10llu KiB`` columns, ``nodecpustats``' percentages
sampled one second apart). ``--json`` documents (see ``docs/cli.md``):

* ``version``: ``library``, ``api``, ``hypervisor_type``, ``hypervisor_version``
  (``null`` when the driver cannot tell) and, with ``--daemon``, ``daemon``.
* ``nodeinfo``: ``cpu_model``, ``cpus``, ``mhz``, ``sockets``,
  ``cores_per_socket``, ``threads_per_core``, ``numa_cells``, ``memory_kib``.
* ``freecell``: ``cells`` (``cell``, ``free_kib``) and ``total_kib``.
* ``nodememstats``: field name to KiB; ``nodecpustats``: field name to
  nanoseconds, or with ``--percent`` to a percentage (``null`` when the
  counters did not move between the two samples).
* ``maxvcpus``: ``max_vcpus``; ``hostname``: ``hostname``; ``uri``: ``uri``.
"""

from __future__ import annotations

import logging
import math
import threading

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import c_float
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, flag, integer, string
from virtcore.cli.xmlview import elements, parse_xml, text_of
from virtcore.connection.host import ALL_CELLS, ALL_CPUS
from virtcore.errors import VirtError

__all__: list[str] = []

logger = logging.getLogger(__name__)

COMPAT_VERSION = (9, 0, 0)


def _version_text(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


@command("uri", "host", "print the hypervisor canonical URI", "", json=True)
def cmd_uri(ctx: Ctx, args: Args) -> bool:
    uri = ctx.conn.uri
    if args.flag("json"):
        ctx.json({"uri": uri})
    else:
        ctx.print(uri + "\n")
    return True


@command(
    "version",
    "host",
    "show version",
    "Display the system version information.",
    [flag("daemon", "report daemon version too")],
    json=True,
)
def cmd_version(ctx: Ctx, args: Args) -> bool:
    conn = ctx.conn
    library = "{}.{}.{}".format(*COMPAT_VERSION)
    hv_type = conn.get_type()
    hv_version = conn.get_version()
    doc: dict[str, object] = {
        "library": library,
        "api": f"{hv_type} {library}",
        "hypervisor_type": hv_type,
        "hypervisor_version": _version_text(hv_version) if hv_version else None,
    }
    lines = [
        f"Compiled against library: libvirt {library}\n",
        f"Using library: libvirt {library}\n",
        f"Using API: {hv_type} {library}\n",
    ]
    if hv_version == 0:
        lines.append(f"Cannot extract running {hv_type} hypervisor version\n")
    else:
        lines.append(f"Running hypervisor: {hv_type} {_version_text(hv_version)}\n")
    if args.flag("daemon"):
        daemon = _version_text(conn.get_lib_version())
        doc["daemon"] = daemon
        lines.append(f"Running against daemon: {daemon}\n")
    if args.flag("json"):
        ctx.json(doc)
    else:
        ctx.print("".join(lines))
    return True


@command("hostname", "host", "print the hypervisor hostname", "", json=True)
def cmd_hostname(ctx: Ctx, args: Args) -> bool:
    name = ctx.conn.get_hostname()
    if args.flag("json"):
        ctx.json({"hostname": name})
    else:
        ctx.print(name + "\n")
    return True


@command(
    "sysinfo",
    "host",
    "print the hypervisor sysinfo",
    "output an XML string for the hypervisor sysinfo, if available",
)
def cmd_sysinfo(ctx: Ctx, args: Args) -> bool:
    try:
        ctx.print(ctx.conn.get_sysinfo(0))
    except VirtError as exc:
        raise CommandError("failed to get sysinfo", exc) from exc
    return True


@command("capabilities", "host", "capabilities", "Returns capabilities of hypervisor/driver.")
def cmd_capabilities(ctx: Ctx, args: Args) -> bool:
    try:
        ctx.print(ctx.conn.get_capabilities() + "\n")
    except VirtError as exc:
        raise CommandError("failed to get capabilities", exc) from exc
    return True


@command(
    "domcapabilities",
    "host",
    "domain capabilities",
    "Returns capabilities of emulator with respect to host and libvirt.",
    [
        string("virttype", "virtualization type (/domain/@type)"),
        string("emulatorbin", "path to emulator binary (/domain/devices/emulator)"),
        string("arch", "domain architecture (/domain/os/type/@arch)"),
        string("machine", "machine type (/domain/os/type/@machine)"),
    ],
)
def cmd_domcapabilities(ctx: Ctx, args: Args) -> bool:
    virttype = args.string("virttype")
    emulator = args.string("emulatorbin")
    arch = args.string("arch")
    machine = args.string("machine")
    try:
        xml = ctx.conn.get_domain_capabilities(emulator, arch, machine, virttype)
    except VirtError as exc:
        raise CommandError("failed to get emulator capabilities", exc) from exc
    ctx.print(xml)
    return True


@command(
    "nodeinfo", "host", "node information", "Returns basic information about the node.", json=True
)
def cmd_nodeinfo(ctx: Ctx, args: Args) -> bool:
    try:
        info = ctx.conn.get_info()
    except VirtError as exc:
        raise CommandError("failed to get node information", exc) from exc
    if args.flag("json"):
        ctx.json(
            {
                "cpu_model": info.model,
                "cpus": info.cpus,
                "mhz": info.mhz,
                "sockets": info.sockets,
                "cores_per_socket": info.cores,
                "threads_per_core": info.threads,
                "numa_cells": info.nodes,
                "memory_kib": info.memory * 1024,
            }
        )
        return True
    rows = [
        ("CPU model:", info.model),
        ("CPU(s):", info.cpus),
        ("CPU frequency:", f"{info.mhz} MHz"),
        ("CPU socket(s):", info.sockets),
        ("Core(s) per socket:", info.cores),
        ("Thread(s) per core:", info.threads),
        ("NUMA cell(s):", info.nodes),
        ("Memory size:", f"{info.memory * 1024} KiB"),
    ]
    ctx.print("".join(f"{label:<20} {value}\n" for label, value in rows))
    return True


@command(
    "nodememstats",
    "host",
    "Prints memory stats of the node.",
    "Returns memory stats of the node, in kilobytes.",
    [integer("cell", "prints specified cell statistics only.")],
    json=True,
)
def cmd_nodememstats(ctx: Ctx, args: Args) -> bool:
    cell = args.number("cell")
    try:
        stats = ctx.conn.get_memory_stats(ALL_CELLS if cell is None else cell)
    except VirtError as exc:
        raise CommandError("Unable to get number of memory stats", exc) from exc
    if args.flag("json"):
        ctx.json(stats)
    else:
        ctx.print("".join(f"{name:<7}: {value:>20} KiB\n" for name, value in stats.items()))
    return True


# virsh's fields in output order: (virNodeGetCPUStats name, label).
_CPU_FIELDS = (
    ("user", "user:"),
    ("kernel", "system:"),
    ("idle", "idle:"),
    ("iowait", "iowait:"),
    ("intr", "intr:"),
)
_UTILIZATION = "utilization"
_ULLONG = 1 << 64


@command(
    "nodecpustats",
    "host",
    "Prints cpu stats of the node.",
    "Returns cpu stats of the node, in nanoseconds.",
    [
        integer("cpu", "prints specified cpu statistics only."),
        flag("percent", "prints by percentage during 1 second."),
    ],
    json=True,
)
def cmd_nodecpustats(ctx: Ctx, args: Args) -> bool:
    cpu = args.number("cpu")
    cpu_num = ALL_CPUS if cpu is None else cpu
    percent = args.flag("percent")
    try:
        first = ctx.conn.get_cpu_stats(cpu_num)
    except VirtError as exc:
        raise CommandError("Unable to get number of cpu stats", exc) from exc
    if not first:
        return True
    counters = dict(first)
    if percent and _UTILIZATION not in first:
        # virsh samples twice, one second apart, to turn counters into percentages;
        # only the fields of the first sample take part.
        threading.Event().wait(1.0)
        try:
            second = ctx.conn.get_cpu_stats(cpu_num)
        except VirtError as exc:
            raise CommandError("Unable to get node cpu stats", exc) from exc
        counters = {
            key: (second[key] - value) % _ULLONG if key in second else value
            for key, value in counters.items()
        }
    if not percent:
        present = [(label, counters[key]) for key, label in _CPU_FIELDS if key in counters]
        if args.flag("json"):
            ctx.json({label.rstrip(":"): value for label, value in present})
        else:
            ctx.print("".join(f"{label:<15} {value:>20}\n" for label, value in present))
        return True
    if _UTILIZATION in counters:
        usage = counters[_UTILIZATION]
        idle = (100 - usage) % _ULLONG
        if args.flag("json"):
            ctx.json({"usage": usage, "idle": idle})
        else:
            # virsh prints these with "%5.1llu": an integer, at least one digit.
            ctx.print(f"{'usage:':<15} {usage:>5}%\n{'idle:':<15} {idle:>5}%\n")
        return True
    total = float(sum(counters.get(key, 0) for key, _ in _CPU_FIELDS))
    busy = float(counters.get("user", 0) + counters.get("kernel", 0))
    rows = [("usage:", _ratio(busy, total))]
    rows += [
        (label, _ratio(float(counters[key]), total))
        for key, label in _CPU_FIELDS
        if key in counters
    ]
    if args.flag("json"):
        # JSON has no NaN or infinity: a share of no elapsed time is null.
        ctx.json(
            {label.rstrip(":"): value if math.isfinite(value) else None for label, value in rows}
        )
    else:
        ctx.print("".join(f"{label:<15} {c_float(value, 1):>5}%\n" for label, value in rows))
    return True


def _ratio(part: float, total: float) -> float:
    """``part / total * 100`` with C's IEEE results (0/0 is -nan in glibc's printing)."""
    if total == 0:
        return -float("nan") if part == 0 else float("inf") * (1 if part > 0 else -1)
    return part / total * 100


@command(
    "freecell",
    "host",
    "NUMA free memory",
    "display available free memory for the NUMA cell.",
    [
        integer("cellno", "NUMA cell number"),
        flag("all", "show free memory for all NUMA cells"),
    ],
    json=True,
)
def cmd_freecell(ctx: Ctx, args: Args) -> bool:
    show_all = args.flag("all")
    if show_all and args.given("cellno"):
        raise CommandError("Options --all and --cellno are mutually exclusive")
    cell = args.number("cellno")
    conn = ctx.conn
    if show_all:
        cells = _numa_cells(ctx)
        free = []
        for cell_id in cells:
            try:
                free.append(conn.get_cells_free_memory(cell_id, 1)[0])
            except (VirtError, IndexError) as exc:
                raise CommandError(
                    f"failed to get free memory for NUMA node number: {cell_id}",
                    exc if isinstance(exc, VirtError) else None,
                ) from exc
        total = sum(free)
        if args.flag("json"):
            ctx.json(
                {
                    "cells": [
                        {"cell": c, "free_kib": f // 1024} for c, f in zip(cells, free, strict=True)
                    ],
                    "total_kib": total // 1024,
                }
            )
            return True
        ctx.print(
            "".join(f"{c:>5}: {f // 1024:>10} KiB\n" for c, f in zip(cells, free, strict=True))
        )
        ctx.extra("--------------------\n")
        ctx.extra(f"{'Total':>5}: {total // 1024:>10} KiB\n")
        return True
    if cell is None:
        memory = conn.get_free_memory()
        if memory == 0:
            return False
        if args.flag("json"):
            ctx.json({"total_kib": memory // 1024})
        else:
            ctx.print(f"Total: {memory // 1024} KiB\n")
        return True
    values = conn.get_cells_free_memory(cell, 1)
    if len(values) != 1:
        return False
    if args.flag("json"):
        ctx.json({"cells": [{"cell": cell, "free_kib": values[0] // 1024}]})
    else:
        ctx.print(f"{cell}: {values[0] // 1024} KiB\n")
    return True


def _numa_cells(ctx: Ctx) -> list[int]:
    try:
        root = parse_xml(ctx.conn.get_capabilities())
    except (VirtError, etree.XMLSyntaxError) as exc:
        raise CommandError("unable to get node capabilities") from exc
    cells = []
    for node in elements(root, "/capabilities/host/topology/cells/cell"):
        value = node.get("id", "")
        if not value.isdigit():
            raise CommandError("conversion from string failed")
        cells.append(int(value))
    return cells


@command(
    "maxvcpus",
    "host",
    "connection vcpu maximum",
    "Show maximum number of virtual CPUs for guests on this connection.",
    [string("type", "domain type")],
    json=True,
)
def cmd_maxvcpus(ctx: Ctx, args: Args) -> bool:
    virttype = args.string("type")
    conn = ctx.conn
    count = -1
    try:
        caps = conn.get_domain_capabilities(virttype=virttype)
        found = text_of(parse_xml(caps), "./vcpu[1]/@max")
        if found.isdigit():
            count = int(found)
    except (VirtError, etree.XMLSyntaxError):
        logger.debug("domain capabilities unavailable; asking for the connection maximum")
    if count < 0:
        count = conn.get_max_vcpus(virttype)
    if args.flag("json"):
        ctx.json({"max_vcpus": count})
    else:
        ctx.print(f"{count}\n")
    return True
