"""Domain monitoring commands: domblklist, domiflist, domblkstat, domifstat, dommemstat,
domblkinfo, domjobinfo, vcpucount, vcpuinfo, domdisplay, screenshot.

Output is virsh 9.0's: tables for the device lists, ``<device> <field>
<value>`` lines for statistics (``--human`` spells the fields out),
``%-15s`` label columns for info blocks. ``--json`` documents (see
``docs/cli.md``):

* ``domblklist``: ``[{"type", "device", "target", "source"}]`` (``source``
  is ``null`` for an empty drive);
* ``domiflist``: ``[{"interface", "type", "source", "model", "mac"}]``;
* ``domblkstat``/``domifstat``/``dommemstat``: field name to value;
* ``domblkinfo``: ``{"target", "capacity", "allocation", "physical"}`` in
  bytes (an array with ``--all``);
* ``domjobinfo``: the job's statistics, ``type`` as virsh names it;
* ``vcpucount``: ``{"maximum": {"config", "live"}, "current": {...}}``
  (a missing value is ``null``), or ``{"count"}`` with a selector;
* ``vcpuinfo``: ``[{"vcpu", "cpu", "state", "cpu_time_ns", "affinity"}]``
  with ``affinity`` a list of host CPU numbers.
"""

from __future__ import annotations

import os
import time
from typing import Any

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.format import Table, pretty_capacity
from virtcore.cli.parser import Args
from virtcore.cli.spec import command, data, flag, integer, string
from virtcore.enums.domain import DomainModificationImpact, DomainState, DomainVcpuFlags
from virtcore.enums.errors import ErrorNumber
from virtcore.errors import VirtError
from virtcore.objects import Domain

__all__: list[str] = []

_DOMAIN = data("domain", "domain name, id or uuid", complete="domain")


def _xml_root(dom: Domain, flags: int) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(dom.xml_desc(flags).encode(), parser)


def _text(node: Any, expr: str) -> str | None:
    value = str(node.xpath(f"string({expr})"))
    return value or None


@command(
    "domblklist",
    "monitor",
    "list all domain blocks",
    "Get the summary of block devices for a domain.",
    [
        _DOMAIN,
        flag("inactive", "get inactive rather than running configuration"),
        flag("details", "additionally display the type and device value"),
    ],
    json=True,
)
def cmd_domblklist(ctx: Ctx, args: Args) -> bool:
    details = args.flag("details")
    dom = ctx.domain(args)
    root = _xml_root(dom, 2 if args.flag("inactive") else 0)
    table = Table("Type", "Device", "Target", "Source") if details else Table("Target", "Source")
    records = []
    for disk in root.xpath("./devices/disk"):
        kind = _text(disk, "./@type")
        device = _text(disk, "./@device")
        target = _text(disk, "./target/@dev")
        if target is None:
            raise CommandError("unable to query block list")
        if kind == "nvme":
            addr = disk.find("./source/address")
            namespace = _text(disk, "./source/@namespace") or "0"
            source = None
            if addr is not None:
                source = (
                    f"nvme://{addr.get('domain', '')[2:]}:{addr.get('bus', '')[2:]}:"
                    f"{addr.get('slot', '')[2:]}.{addr.get('function', '')[2:]}/{namespace}"
                )
        else:
            source = _text(
                disk,
                "./source/@file|./source/@dev|./source/@dir|./source/@name|./source/@volume",
            )
        records.append({"type": kind, "device": device, "target": target, "source": source})
        if details:
            table.add(kind or "", device or "", target, source or "-")
        else:
            table.add(target, source or "-")
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print(table.render(header=not ctx.quiet))
    return True


@command(
    "domiflist",
    "monitor",
    "list all domain virtual interfaces",
    "Get the summary of virtual interfaces for a domain.",
    [_DOMAIN, flag("inactive", "get inactive rather than running configuration")],
    json=True,
)
def cmd_domiflist(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    root = _xml_root(dom, 2 if args.flag("inactive") else 0)
    table = Table("Interface", "Type", "Source", "Model", "MAC")
    records = []
    for iface in root.xpath("./devices/interface"):
        row = {
            "interface": _text(iface, "./target/@dev"),
            "type": _text(iface, "./@type"),
            "source": _text(
                iface,
                "./source/@bridge|./source/@dev|./source/@network|./source/@name|./source/@path",
            ),
            "model": _text(iface, "./model/@type"),
            "mac": _text(iface, "./mac/@address"),
        }
        records.append(row)
        table.add(*(value if value is not None else "-" for value in row.values()))
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print(table.render(header=not ctx.quiet))
    return True


_BLOCK_FIELDS = (
    ("rd_req", "number of read operations:"),
    ("rd_bytes", "number of bytes read:"),
    ("wr_req", "number of write operations:"),
    ("wr_bytes", "number of bytes written:"),
    ("errs", "error count:"),
)


@command(
    "domblkstat",
    "monitor",
    "get device block stats for a domain",
    "Get device block stats for a running domain. See man page or use --human for"
    " explanation of fields",
    [
        _DOMAIN,
        string("device", "block device"),
        flag("human", "print a more human readable output"),
    ],
    json=True,
)
def cmd_domblkstat(ctx: Ctx, args: Args) -> bool:
    name = args.require("domain")
    dom = ctx.find_domain(name)
    device = args.string("device") or ""
    try:
        stats = dom.block_stats(device)
    except VirtError as exc:
        raise CommandError(f"Failed to get block stats {name} {device}", exc) from exc
    if args.flag("json"):
        ctx.json({key: getattr(stats, key) for key, _ in _BLOCK_FIELDS if getattr(stats, key) >= 0})
        return True
    prefix = device
    if args.flag("human"):
        ctx.print(f"Device: {device}\n")
        prefix = ""
    for key, label in _BLOCK_FIELDS:
        value = getattr(stats, key)
        if value >= 0:
            field = f"{label:<31}" if args.flag("human") else key
            ctx.print(f"{prefix} {field} {value}\n")
    return True


_IF_FIELDS = (
    "rx_bytes",
    "rx_packets",
    "rx_errs",
    "rx_drop",
    "tx_bytes",
    "tx_packets",
    "tx_errs",
    "tx_drop",
)


@command(
    "domifstat",
    "monitor",
    "get network interface stats for a domain",
    "Get network interface stats for a running domain.",
    [
        _DOMAIN,
        data("interface", "interface device specified by name or MAC Address"),
    ],
    json=True,
)
def cmd_domifstat(ctx: Ctx, args: Args) -> bool:
    name = args.require("domain")
    dom = ctx.find_domain(name)
    device = args.require("interface")
    try:
        stats = dom.interface_stats(device)
    except VirtError as exc:
        raise CommandError(f"Failed to get interface stats {name} {device}", exc) from exc
    present = [(key, getattr(stats, key)) for key in _IF_FIELDS if getattr(stats, key) >= 0]
    if args.flag("json"):
        ctx.json(dict(present))
    else:
        ctx.print("".join(f"{device} {key} {value}\n" for key, value in present))
    return True


@command(
    "dommemstat",
    "monitor",
    "get memory statistics for a domain",
    "Get memory statistics for a running domain.",
    [
        _DOMAIN,
        integer("period", "period in seconds to set collection", positional=False),
        flag("config", "affect next boot"),
        flag("live", "affect running domain"),
        flag("current", "affect current domain"),
    ],
    json=True,
)
def cmd_dommemstat(ctx: Ctx, args: Args) -> bool:
    for first, second in (("current", "live"), ("current", "config")):
        if args.flag(first) and args.flag(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    flags = 0
    if args.flag("config"):
        flags |= int(DomainModificationImpact.CONFIG)
    if args.flag("live"):
        flags |= int(DomainModificationImpact.LIVE)
    name = args.require("domain")
    dom = ctx.find_domain(name)
    if not (args.flag("current") or args.flag("live") or args.flag("config")) and dom.is_active():
        flags |= int(DomainModificationImpact.LIVE)
    period = args.number("period")
    if period is not None:
        if period < 0:
            raise CommandError(f"Invalid collection period value '{period}'")
        try:
            dom.set_memory_stats_period(period, flags)
        except VirtError as exc:
            raise CommandError("Unable to change balloon collection period.", exc) from exc
        return True
    try:
        stats = dom.memory_stats()
    except VirtError as exc:
        raise CommandError(f"Failed to get memory statistics for domain {name}", exc) from exc
    if args.flag("json"):
        ctx.json(stats)
    else:
        ctx.print("".join(f"{key} {value}\n" for key, value in stats.items()))
    return True


def _blkinfo_cells(capacity: int, allocation: int, physical: int, human: bool) -> list[str]:
    if capacity == 0 and allocation == 0 and physical == 0:
        return ["-", "-", "-"]
    if not human:
        return [str(capacity), str(allocation), str(physical)]
    return [pretty_capacity(v, 3) for v in (capacity, allocation, physical)]


@command(
    "domblkinfo",
    "monitor",
    "domain block device size information",
    "Get block device size info for a domain.",
    [
        _DOMAIN,
        string("device", "block device"),
        flag("human", "Human readable output"),
        flag("all", "display all block devices info"),
    ],
    json=True,
)
def cmd_domblkinfo(ctx: Ctx, args: Args) -> bool:
    human = args.flag("human")
    dom = ctx.domain(args)
    device = args.string("device") if args.given("device") else None
    if not args.flag("all") and not device:
        raise CommandError("command 'domblkinfo' requires <device> option")
    if not args.flag("all"):
        assert device is not None
        info = dom.block_info(device)
        if args.flag("json"):
            ctx.json({"target": device, **info._asdict()})
            return True
        cells = _blkinfo_cells(info.capacity, info.allocation, info.physical, human)
        labels = ("Capacity:", "Allocation:", "Physical:")
        ctx.print("".join(f"{lab:<15} {val}\n" for lab, val in zip(labels, cells, strict=True)))
        return True
    active = dom.is_active()
    table = Table("Target", "Capacity", "Allocation", "Physical")
    records = []
    for disk in _xml_root(dom, 0).xpath("./devices/disk"):
        target = _text(disk, "./target/@dev") or ""
        figures = (0, 0, 0)
        if disk.find("./source") is not None:
            try:
                figures = tuple(dom.block_info(target))  # type: ignore[assignment]
            except VirtError as exc:
                networked = _text(disk, "./source/@protocol") is not None
                if not (networked and not active and exc.code == ErrorNumber.INTERNAL_ERROR):
                    raise
        records.append(
            dict(
                zip(
                    ("target", "capacity", "allocation", "physical"),
                    (target, *figures),
                    strict=True,
                )
            )
        )
        table.add(target, *_blkinfo_cells(*figures, human))
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print(table.render(header=not ctx.quiet))
    return True


_JOB_TYPES = ("None", "Bounded", "Unbounded", "Completed", "Failed", "Cancelled")


@command(
    "domjobinfo",
    "domain",
    "domain job information",
    "Returns information about jobs running on a domain.",
    [
        _DOMAIN,
        flag("completed", "return statistics of a recently completed job"),
        flag("keep-completed", "don't destroy statistics of a recently completed job when reading"),
        flag("anystats", "print statistics for any kind of job (even failed ones)"),
        flag("rawstats", "print the raw data returned by libvirt"),
    ],
    json=True,
)
def cmd_domjobinfo(ctx: Ctx, args: Args) -> bool:
    flags = (1 if args.flag("completed") else 0) | (2 if args.flag("keep-completed") else 0)
    dom = ctx.domain(args)
    try:
        stats = dom.job_stats(flags)
    except VirtError as exc:
        if exc.code != ErrorNumber.NO_SUPPORT:
            raise
        if flags or args.flag("rawstats"):
            raise CommandError(
                "Optional flags or --rawstats are not supported by the daemon", exc
            ) from exc
        info = dom.job_info()
        stats = {
            "type": info.type,
            "time_elapsed": info.time_elapsed,
            "time_remaining": info.time_remaining,
            "data_total": info.data_total,
            "data_processed": info.data_processed,
            "data_remaining": info.data_remaining,
            "memory_total": info.mem_total,
            "memory_processed": info.mem_processed,
            "memory_remaining": info.mem_remaining,
            "file_total": info.file_total,
            "file_processed": info.file_processed,
            "file_remaining": info.file_remaining,
        }
    job_type = int(stats.get("type", 0))
    type_name = _JOB_TYPES[job_type] if 0 <= job_type < len(_JOB_TYPES) else "unknown"
    if args.flag("json"):
        ctx.json({**{k: v for k, v in stats.items() if k != "type"}, "type": type_name})
        return True
    if args.flag("rawstats"):
        ctx.print(f"Job type: {job_type}\n\n")
        ctx.print("".join(f"{k}: {v}\n" for k, v in stats.items() if k != "type"))
        return True
    ctx.print(f"{'Job type:':<17} {type_name:<12}\n")
    if job_type == 0 or (job_type == 4 and not args.flag("anystats")):
        return True
    lines = [f"{'Time elapsed:':<17} {stats.get('time_elapsed', 0):<12} ms\n"]
    if job_type == 1:
        lines.append(f"{'Time remaining:':<17} {stats.get('time_remaining', 0):<12} ms\n")
    for group, title in (("data", "Data"), ("memory", "Memory"), ("file", "File")):
        figures = [
            int(stats.get(f"{group}_{part}", 0)) for part in ("processed", "remaining", "total")
        ]
        if any(figures):
            for part, value in zip(("processed:", "remaining:", "total:"), figures, strict=True):
                lines.append(f"{title + ' ' + part:<17} {pretty_capacity(value, 3)}\n")
    ctx.print("".join(lines))
    return True


def _vcpu_count(dom: Domain, flags: int, check_state: bool) -> int | None:
    """One vCPU figure, ``None`` when it does not apply to the domain's state."""
    if check_state and (
        (flags & DomainVcpuFlags.LIVE and not dom.is_active())
        or (flags & DomainVcpuFlags.CONFIG and not dom.is_persistent())
    ):
        return None
    try:
        return dom.vcpus_flags(flags)
    except VirtError as exc:
        if flags & DomainVcpuFlags.GUEST and exc.code in (
            ErrorNumber.NO_SUPPORT,
            ErrorNumber.INVALID_ARG,
        ):
            raise CommandError("Failed to retrieve vCPU count from the guest", exc) from exc
        raise


@command(
    "vcpucount",
    "domain",
    "domain vcpu counts",
    "Returns the number of virtual CPUs used by the domain.",
    [
        _DOMAIN,
        flag("maximum", "get maximum count of vcpus"),
        flag("active", "get number of currently active vcpus"),
        flag("live", "get value from running domain"),
        flag("config", "get value to be used on next boot"),
        flag("current", "get value according to current domain state"),
        flag("guest", "retrieve vcpu count from the guest instead of the hypervisor"),
    ],
    json=True,
)
def cmd_vcpucount(ctx: Ctx, args: Args) -> bool:
    opts = {n: args.flag(n) for n in ("maximum", "active", "live", "config", "current", "guest")}
    everything = not any(opts.values())
    # Before libvirt 0.9.4 --current meant "not --maximum"; virsh keeps that reading.
    if not opts["maximum"] and not opts["active"] and opts["current"]:
        opts["current"] = False
    for first, second in (
        ("live", "config"),
        ("current", "live"),
        ("current", "config"),
        ("active", "maximum"),
        ("guest", "config"),
    ):
        if opts[first] and opts[second]:
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    flags = 0
    for name, value in (
        ("live", DomainVcpuFlags.LIVE),
        ("config", DomainVcpuFlags.CONFIG),
        ("maximum", DomainVcpuFlags.MAXIMUM),
        ("guest", DomainVcpuFlags.GUEST),
    ):
        if opts[name]:
            flags |= int(value)
    dom = ctx.domain(args)
    if not everything:
        count = _vcpu_count(dom, flags, False)
        if args.flag("json"):
            ctx.json({"count": count})
        else:
            ctx.print(f"{count}\n")
        return True
    live = int(DomainVcpuFlags.LIVE)
    config = int(DomainVcpuFlags.CONFIG)
    maximum = int(DomainVcpuFlags.MAXIMUM)
    figures = {
        ("maximum", "config"): _vcpu_count(dom, config | maximum, True),
        ("maximum", "live"): _vcpu_count(dom, live | maximum, True),
        ("current", "config"): _vcpu_count(dom, config, True),
        ("current", "live"): _vcpu_count(dom, live, True),
    }
    if args.flag("json"):
        ctx.json(
            {
                which: {state: figures[(which, state)] for state in ("config", "live")}
                for which in ("maximum", "current")
            }
        )
        return True
    for (which, state), figure in figures.items():
        if figure is not None and figure > 0:
            ctx.print(f"{which:<12} {state:<12} {figure:>3}\n")
    return True


_VCPU_STATES = ("offline", "running", "blocked")


def _cpu_ranges(cpus: list[int]) -> str:
    parts = []
    start = prev = None
    for cpu in [*cpus, -2]:
        if start is None:
            start = prev = cpu
        elif prev is not None and cpu == prev + 1:
            prev = cpu
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = cpu
    return ",".join(parts)


@command(
    "vcpuinfo",
    "domain",
    "detailed domain vcpu information",
    "Returns basic information about the domain virtual CPUs.",
    [_DOMAIN, flag("pretty", "return human readable output")],
    json=True,
)
def cmd_vcpuinfo(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    ncpus = ctx.conn.get_cpu_map().cpus
    info = dom.info()
    infos: list[Any] | None
    try:
        infos, maps = dom.vcpus()
    except VirtError:
        if info.state != DomainState.SHUTOFF:
            raise
        infos = None
        maps = dom.vcpu_pin_info(int(DomainModificationImpact.CONFIG))
    records = []
    blocks = []
    for n, cpumap in enumerate(maps):
        used = [i for i, on in enumerate(cpumap[:ncpus]) if on]
        lines = [f"{'VCPU:':<15} {n}\n"]
        record: dict[str, Any] = {"vcpu": n, "cpu": None, "state": None, "cpu_time_ns": None}
        if infos is not None:
            vcpu = infos[n]
            state = _VCPU_STATES[vcpu.state] if 0 <= vcpu.state < 3 else "no state"
            lines.append(f"{'CPU:':<15} {vcpu.cpu}\n")
            lines.append(f"{'State:':<15} {state}\n")
            if vcpu.cpu_time:
                lines.append(f"{'CPU time:':<15} {vcpu.cpu_time / 1e9:.1f}s\n")
            record.update(cpu=vcpu.cpu, state=state, cpu_time_ns=vcpu.cpu_time)
        else:
            lines.append(f"{'CPU:':<15} N/A\n")
            lines.append(f"{'State:':<15} N/A\n")
            lines.append(f"{'CPU time':<15} N/A\n")
        if args.flag("pretty"):
            affinity = f"{_cpu_ranges(used)} (out of {ncpus})"
        else:
            affinity = "".join("y" if on else "-" for on in cpumap[:ncpus])
        lines.append(f"{'CPU Affinity:':<15} {affinity}\n")
        record["affinity"] = used
        records.append(record)
        blocks.append("".join(lines))
    if args.flag("json"):
        ctx.json(records)
    else:
        ctx.print("\n".join(blocks))
    return True


_SCHEMES = ("vnc", "spice", "rdp", "dbus")


@command(
    "domdisplay",
    "domain",
    "domain display connection URI",
    "Output the IP address and port number for the graphical display.",
    [
        _DOMAIN,
        flag("include-password", "includes the password into the connection URI if available"),
        string("type", 'select particular graphical display (e.g. "vnc", "spice", "rdp", "dbus")'),
        flag("all", "show all possible graphical displays"),
    ],
)
def cmd_domdisplay(ctx: Ctx, args: Args) -> bool:
    dom = ctx.domain(args)
    if not dom.is_active():
        raise CommandError("Domain is not running")
    wanted = args.string("type")
    show_all = args.flag("all")
    root = _xml_root(dom, 1 if args.flag("include-password") else 0)
    found = False
    for scheme in _SCHEMES:
        if not show_all and wanted is not None and wanted != scheme:
            continue
        graphics = root.find(f"./devices/graphics[@type='{scheme}']")
        if graphics is None:
            continue
        uri = _display_uri(scheme, graphics)
        if uri is None:
            continue
        ctx.print(uri + "\n")
        found = True
        if not show_all:
            break
    if not found:
        if wanted is not None:
            raise CommandError(f"No graphical display with type '{wanted}' found")
        raise CommandError("No graphical display found")
    return True


def _display_uri(scheme: str, graphics: Any) -> str | None:
    port = int(graphics.get("port", "0") or 0)
    tls_port = int(graphics.get("tlsPort", "0") or 0)
    listen = graphics.get("listen")
    listen_el = graphics.find("./listen")
    socket = graphics.get("socket") or (listen_el.get("socket") if listen_el is not None else None)
    if listen is None and listen_el is not None:
        listen = listen_el.get("address")
    if port <= 0 and tls_port <= 0 and not socket:
        return None
    password = graphics.get("passwd")
    uri = f"{scheme}+unix://" if socket else f"{scheme}://"
    if scheme == "vnc" and password:
        uri += f":{password}@"
    if socket:
        uri += socket
    elif not listen or listen in ("0.0.0.0", "::"):
        uri += "localhost"
    elif ":" in listen:
        uri += f"[{listen}]"
    else:
        uri += listen
    if port > 0 and not socket:
        uri += f":{port - 5900 if scheme == 'vnc' else port}"
    params = False
    if tls_port > 0:
        uri += f"?tls-port={tls_port}"
        params = True
    if scheme == "spice" and password:
        uri += ("&" if params else "?") + f"password={password}"
    return uri


_EXTENSIONS = {"image/x-portable-pixmap": ".ppm", "image/png": ".png"}


@command(
    "screenshot",
    "domain",
    "take a screenshot of a current domain console and store it into a file",
    "screenshot of a current domain console",
    [
        _DOMAIN,
        string("file", "where to store the screenshot"),
        integer("screen", "ID of a screen to take screenshot of"),
    ],
)
def cmd_screenshot(ctx: Ctx, args: Args) -> bool:
    path = args.string("file")
    screen = args.unsigned("screen") or 0
    name = args.require("domain")
    dom = ctx.find_domain(name)
    stream = ctx.conn.new_stream()
    try:
        mime = dom.screenshot(stream, screen, 0)
    except VirtError as exc:
        raise CommandError(f"could not take a screenshot of {name}", exc) from exc
    if path is None:
        stamp = time.strftime("%Y-%m-%d-%H:%M:%S", time.localtime())
        path = f"{dom.name}-{stamp}{_EXTENSIONS.get(mime, '')}"
    created = not os.path.exists(path)
    try:
        handle = open(path, "wb")  # noqa: SIM115 - closed below, removed on failure
    except OSError as exc:
        stream.abort()
        raise CommandError(f"cannot create file {path}") from exc
    try:
        with handle:
            while chunk := stream.recv(256 * 1024):
                handle.write(chunk)
        stream.finish()
    except (VirtError, OSError) as exc:
        if created:
            os.unlink(path)
        raise CommandError(f"could not receive data from domain {name}", exc) from exc
    ctx.extra(f"Screenshot saved to {path}, with type of {mime}")
    return True
