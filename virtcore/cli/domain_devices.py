"""Device hot-plug commands: attach-device, detach-device, update-device, attach-disk,
attach-interface, detach-disk, detach-interface.

``attach-disk`` and ``attach-interface`` build the device XML exactly as
virsh 9.0 writes it (``--print-xml`` shows it without needing the domain);
``detach-disk`` finds the disk by target or source path and
``detach-interface`` the interface by type and optional MAC address, and
both send the device element as it appears in the domain XML. Flags follow
virsh: ``--persistent`` means ``--config`` plus ``--live`` when the domain
runs, and without any of ``--current/--live/--config`` the flag-less API
(which drivers apply to the running domain) is used.
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any

from lxml import etree

from virtcore.cli.context import CommandError, Ctx
from virtcore.cli.parser import Args
from virtcore.cli.spec import alias, command, data, flag, string
from virtcore.cli.xmlview import elements, parse_xml
from virtcore.enums.domain import DomainDeviceModifyFlags, DomainXMLFlags
from virtcore.errors import InternalError, VirtError
from virtcore.objects import Domain

__all__: list[str] = []

_DOMAIN = data("domain", "domain name, id or uuid", complete="domain")
_IMPACT = [
    flag("persistent", "make live change persistent"),
    flag("config", "affect next boot"),
    flag("live", "affect running domain"),
    flag("current", "affect current domain"),
]
_LIVE = int(DomainDeviceModifyFlags.LIVE)
_CONFIG = int(DomainDeviceModifyFlags.CONFIG)


def _impact(args: Args) -> int:
    for first, second in (("persistent", "current"), ("current", "live"), ("current", "config")):
        if args.flag(first) and args.flag(second):
            raise CommandError(f"Options --{first} and --{second} are mutually exclusive")
    flags = 0
    if args.flag("config") or args.flag("persistent"):
        flags |= _CONFIG
    if args.flag("live"):
        flags |= _LIVE
    return flags


def _effective(args: Args, dom: Domain, flags: int) -> int:
    """Add LIVE for --persistent on a running domain; the flag-less API means LIVE."""
    if args.flag("persistent") and dom.is_active():
        flags |= _LIVE
    if flags == 0 and not args.flag("current"):
        return _LIVE
    return flags


def _device_command(verb: str, past: str, method: str, extra: list[Any]) -> None:
    def handler(ctx: Ctx, args: Args) -> bool:
        flags = _impact(args)
        dom = ctx.domain(args)
        flags = _effective(args, dom, flags)
        if args.flag("force"):
            flags |= int(DomainDeviceModifyFlags.FORCE)
        path = args.require("file")
        xml = ctx.read_file(path)
        try:
            getattr(dom, method)(xml, flags)
        except VirtError as exc:
            raise CommandError(f"Failed to {verb} device from {path}", exc) from exc
        ctx.extra(f"Device {past} successfully\n")
        return True

    title = verb.capitalize()
    command(
        f"{verb}-device",
        "domain",
        f"{verb} device from an XML file",
        f"{title} device from an XML <file>" + ("" if verb == "detach" else "."),
        [_DOMAIN, data("file", "XML file"), *_IMPACT, *extra],
    )(handler)


_device_command("attach", "attached", "attach_device", [])
_device_command("detach", "detached", "detach_device", [])
_device_command("update", "updated", "update_device", [flag("force", "force device update")])


def _esc(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _element(name: str, attrs: str, children: list[str], indent: int) -> list[str]:
    """virXMLFormatElement: nothing when empty, ``<x .../>`` or ``<x ...>`` + children."""
    pad = " " * indent
    if not attrs and not children:
        return []
    if not children:
        return [f"{pad}<{name}{attrs}/>\n"]
    return [f"{pad}<{name}{attrs}>\n", *children, f"{pad}</{name}>\n"]


def _valid_wwn(wwn: str) -> bool:
    digits = wwn[2:] if wwn.startswith("0x") else wwn
    return len(digits) == 16 and all(c in "0123456789abcdefABCDEF" for c in digits)


def _address_parts(text: str, count: int, base: int) -> list[int] | None:
    parts = text.split(".")
    if len(parts) != count:
        return None
    try:
        return [int(p, base) for p in parts]
    except ValueError:
        return None


def _disk_address(target: str, text: str, multifunction: bool) -> str:
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("pci", "scsi", "ide", "ccw", "usb", "sata"):
        raise CommandError("Invalid address.")
    counts = {"pci": (4, 16), "ccw": (3, 16), "usb": (2, 10)}
    count, base = counts.get(kind, (3, 10))
    parts = _address_parts(rest, count, base)
    if parts is None:
        raise CommandError("Invalid address.")
    if target.startswith("vd"):
        if kind == "pci":
            extra = " multifunction='on'" if multifunction else ""
            return (
                f"<address type='pci' domain='0x{parts[0]:04x}' bus='0x{parts[1]:02x}' "
                f"slot='0x{parts[2]:02x}' function='0x{parts[3]:x}'{extra}/>\n"
            )
        if kind == "ccw":
            return (
                f"<address type='ccw' cssid='0x{parts[0]:02x}' ssid='0x{parts[1]:x}' "
                f"devno='0x{parts[2]:04x}'/>\n"
            )
        raise CommandError("expecting a pci:0000.00.00.00 or ccw:00.0.0000 address.")
    if target.startswith("sd"):
        if kind in ("scsi", "sata"):
            return (
                f"<address type='drive' controller='{parts[0]}' bus='{parts[1]}' "
                f"unit='{parts[2]}'/>\n"
            )
        if kind == "usb":
            return f"<address type='usb' bus='{parts[0]}' port='{parts[1]}'/>\n"
        raise CommandError("expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.")
    if target.startswith("hd"):
        if kind == "ide":
            return (
                f"<address type='drive' controller='{parts[0]}' bus='{parts[1]}' "
                f"unit='{parts[2]}'/>\n"
            )
        raise CommandError("expecting an ide:00.00.00 address.")
    return ""


_SOURCE_TYPES = ("file", "block", "network")


def _disk_xml(args: Args) -> str:
    for option in ("source-host-name", "source-host-transport", "source-host-socket"):
        if args.given(option) and not args.given("source-protocol"):
            raise CommandError(f"Option --source-protocol is required by option --{option}")
    if args.given("source-host-socket") and not args.given("source-host-transport"):
        raise CommandError(
            "Option --source-host-transport is required by option --source-host-socket"
        )
    if args.given("source-host-name") and args.given("source-host-socket"):
        raise CommandError(
            "Options --source-host-name and --source-host-socket are mutually exclusive"
        )
    opt = {
        name: args.string(name)
        for name in (
            "source", "target", "driver", "subdriver", "type", "iothread", "cache", "io",
            "mode", "serial", "wwn", "address", "targetbus", "alias", "sourcetype",
            "source-protocol", "source-host-name", "source-host-transport", "source-host-socket",
        )
    }  # fmt: skip
    source = opt["source"]
    target = opt["target"] or ""
    kind = opt["sourcetype"]
    if kind is not None and kind not in _SOURCE_TYPES:
        raise CommandError(f"Unknown source type: '{kind}'")
    if kind is None:
        if opt["source-protocol"]:
            kind = "network"
        elif source and _is_block_device(source):
            kind = "block"
        else:
            kind = "file"
    if (kind == "network") != bool(opt["source-protocol"]):
        raise CommandError("--source-protocol option requires --sourcetype network")
    mode = opt["mode"]
    if mode is not None and mode not in ("readonly", "shareable"):
        raise CommandError(f"No support for {mode} in command 'attach-disk'")
    wwn = opt["wwn"]
    if wwn is not None and not _valid_wwn(wwn):
        raise CommandError(None, InternalError(f"Malformed wwn: {wwn}"))

    def attrs(*pairs: tuple[str, str | None]) -> str:
        return "".join(f" {k}='{_esc(v)}'" for k, v in pairs if v is not None)

    disk_attrs = f" type='{kind}'" + attrs(("device", opt["type"]))
    if args.flag("rawio"):
        disk_attrs += " rawio='yes'"
    children = _element(
        "driver",
        attrs(
            ("name", opt["driver"]),
            ("type", opt["subdriver"]),
            ("iothread", opt["iothread"]),
            ("cache", opt["cache"]),
            ("io", opt["io"]),
        ),
        [],
        2,
    )
    source_children: list[str] = []
    if kind == "file":
        source_attrs = attrs(("file", source))
    elif kind == "block":
        source_attrs = attrs(("dev", source))
    else:
        source_attrs = attrs(("protocol", opt["source-protocol"]), ("name", source))
        host = opt["source-host-name"]
        port = None
        if host is not None and ":" in host:
            host, port = host.split(":", 1)
        source_children = _element(
            "host",
            attrs(
                ("transport", opt["source-host-transport"]),
                ("socket", opt["source-host-socket"]),
                ("name", host),
                ("port", port),
            ),
            [],
            4,
        )
    children += _element("source", source_attrs, source_children, 2)
    bus = f" bus='{opt['targetbus']}'" if opt["targetbus"] else ""
    children.append(f"  <target dev='{target}'{bus}/>\n")
    if mode:
        children.append(f"  <{mode}/>\n")
    if opt["serial"]:
        children.append(f"  <serial>{opt['serial']}</serial>\n")
    if opt["alias"]:
        children.append(f"  <alias name='{opt['alias']}'/>\n")
    if wwn:
        children.append(f"  <wwn>{wwn}</wwn>\n")
    if opt["address"]:
        address = _disk_address(target, opt["address"], args.flag("multifunction"))
        if address:
            children.append("  " + address)
    return "".join(_element("disk", disk_attrs, children, 0))


def _is_block_device(path: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False


@command(
    "attach-disk",
    "domain",
    "attach disk device",
    "Attach new disk device.",
    [
        _DOMAIN,
        data("source", "source of disk device or name of network disk"),
        data("target", "target of disk device"),
        string("targetbus", "target bus of disk device"),
        string("driver", "driver of disk device"),
        string("subdriver", "subdriver of disk device"),
        string("iothread", "IOThread to be used by supported device"),
        string("cache", "cache mode of disk device"),
        string("io", "io policy of disk device"),
        string("type", "target device type"),
        string("mode", "mode of device reading and writing"),
        string("sourcetype", "type of source (block|file|network)"),
        string("serial", "serial of disk device"),
        string("wwn", "wwn of disk device"),
        string("alias", "custom alias name of disk device"),
        flag("rawio", "needs rawio capability"),
        string("address", "address of disk device"),
        flag("multifunction", "use multifunction pci under specified address"),
        flag("print-xml", "print XML document rather than attach the disk"),
        string("source-protocol", "protocol used by disk device source"),
        string("source-host-name", "host name for source of disk device"),
        string("source-host-transport", "host transport for source of disk device"),
        string("source-host-socket", "host socket for source of disk device"),
        *_IMPACT,
        alias("shareable", "mode=shareable"),
    ],
)
def cmd_attach_disk(ctx: Ctx, args: Args) -> bool:
    flags = _impact(args)
    xml = _disk_xml(args)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    dom = ctx.domain(args)
    try:
        dom.attach_device(xml, _effective(args, dom, flags))
    except VirtError as exc:
        raise CommandError("Failed to attach disk", exc) from exc
    ctx.extra("Disk attached successfully\n")
    return True


_NET_TYPES = (
    "user", "ethernet", "vhostuser", "server", "client", "mcast", "network", "bridge",
    "internal", "direct", "hostdev", "udp", "vdpa", "null", "vds",
)  # fmt: skip


def _rate(text: str) -> list[int]:
    fields = text.split(",")
    if len(fields) > 4:
        raise CommandError(f"Rate string '{text}' has too many fields")
    values = []
    for name, field in zip(("average", "peak", "burst", "floor"), fields, strict=False):
        if field and not re.fullmatch(r"\s*\+?[0-9]+", field):
            raise CommandError(f"field '{name}' is malformed")
        values.append(int(field) if field else 0)
    return values + [0] * (4 - len(values))


def _interface_xml(args: Args) -> str:
    kind = args.require("type")
    source = args.require("source")
    opt = {n: args.string(n) for n in ("target", "mac", "script", "model", "alias")}
    inbound_text, outbound_text = args.string("inbound"), args.string("outbound")
    mode = args.string("source-mode")
    if kind not in _NET_TYPES or kind == "user":
        raise CommandError(f"No support for {kind} in command 'attach-interface'")
    if mode is not None and mode not in ("server", "client"):
        raise CommandError(f"Invalid source mode: {mode}")
    inbound = outbound = None
    if inbound_text is not None:
        inbound = _rate(inbound_text)
        if not inbound[0] and not inbound[3]:
            raise CommandError("either inbound average or floor is mandatory")
    if outbound_text is not None:
        outbound = _rate(outbound_text)
        if not outbound[0]:
            raise CommandError("outbound average is mandatory")
        if outbound[3]:
            raise CommandError("outbound floor is unsupported yet")
    managed = " managed='yes'" if args.flag("managed") else ""
    lines = [f"<interface type='{kind}'{managed}>\n"]
    if kind in ("network", "bridge"):
        lines.append(f"  <source {kind}='{source}'/>\n")
    elif kind == "direct":
        lines.append(f"  <source dev='{source}'/>\n")
    elif kind == "hostdev":
        match = re.fullmatch(r"([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)\.([0-7])", source)
        if match is None:
            raise CommandError(f"cannot parse pci address '{source}' for network interface")
        dom, bus, slot, fn = (int(g, 16) for g in match.groups())
        lines += [
            "  <source>\n",
            f"    <address type='pci' domain='0x{dom:04x}' bus='0x{bus:02x}' "
            f"slot='0x{slot:02x}' function='0x{fn}'/>\n",
            "  </source>\n",
        ]
    elif kind == "vhostuser":
        if mode is None:
            raise CommandError("source-mode is mandatory")
        lines.append(f"  <source type='unix' path='{source}' mode='{mode}'/>\n")
    else:
        raise CommandError(f"No support for {kind} in command 'attach-interface'")
    for name, element, attr in (
        ("target", "target", "dev"),
        ("mac", "mac", "address"),
        ("script", "script", "path"),
        ("model", "model", "type"),
        ("alias", "alias", "name"),
    ):
        if opt[name] is not None:
            lines.append(f"  <{element} {attr}='{opt[name]}'/>\n")
    if inbound_text is not None or outbound_text is not None:
        lines.append("  <bandwidth>\n")
        if inbound is not None and (inbound[0] or inbound[3]):
            in_names = ("average", "peak", "burst", "floor")
            rendered = "".join(f" {n}='{v}'" for n, v in zip(in_names, inbound, strict=True) if v)
            lines.append(f"    <inbound{rendered}/>\n")
        if outbound is not None and outbound[0]:
            out_names = ("average", "peak", "burst")
            rendered = "".join(
                f" {n}='{v}'" for n, v in zip(out_names, outbound, strict=False) if v
            )
            lines.append(f"    <outbound{rendered}/>\n")
        lines.append("  </bandwidth>\n")
    lines.append("</interface>\n")
    return "".join(lines)


@command(
    "attach-interface",
    "domain",
    "attach network interface",
    "Attach new network interface.",
    [
        _DOMAIN,
        data("type", "network interface type"),
        data("source", "source of network interface"),
        string("target", "target network name"),
        string("mac", "MAC address"),
        string("script", "script used to bridge network interface"),
        string("model", "model type"),
        string("alias", "custom alias name of interface device"),
        string("inbound", "control domain's incoming traffics"),
        string("outbound", "control domain's outgoing traffics"),
        *_IMPACT,
        flag("print-xml", "print XML document rather than attach the interface"),
        flag("managed", "libvirt will automatically detach/attach the device from/to host"),
        string("source-mode", "mode attribute of <source/> element"),
    ],
)
def cmd_attach_interface(ctx: Ctx, args: Args) -> bool:
    flags = _impact(args)
    xml = _interface_xml(args)
    if args.flag("print-xml"):
        ctx.print(xml)
        return True
    dom = ctx.domain(args)
    try:
        dom.attach_device(xml, _effective(args, dom, flags))
    except VirtError as exc:
        raise CommandError("Failed to attach interface", exc) from exc
    ctx.extra("Interface attached successfully\n")
    return True


def _node_text(node: etree._Element) -> str:
    return etree.tostring(node, with_tail=False, encoding="unicode")


def _find_disk(xml: str, path: str) -> str:
    for disk in elements(parse_xml(xml), "/domain/devices/disk"):
        for child in disk:
            value = None
            if child.tag == "source":
                for attr in ("file", "dev", "dir", "name"):
                    if child.get(attr) is not None:
                        value = child.get(attr)
                        break
            elif child.tag == "target":
                value = child.get("dev")
            if value == path:
                for backing in disk.findall("backingStore"):
                    disk.remove(backing)
                return _node_text(disk)
    raise CommandError(f"No disk found whose source path or target is {path}")


@command(
    "detach-disk",
    "domain",
    "detach disk device",
    "Detach disk device.",
    [
        _DOMAIN,
        data("target", "target of disk device"),
        *_IMPACT,
        flag("print-xml", "print XML document rather than detach the disk"),
    ],
)
def cmd_detach_disk(ctx: Ctx, args: Args) -> bool:
    flags = _impact(args)
    dom = ctx.domain(args)
    target = args.require("target")
    query = int(DomainXMLFlags.INACTIVE) if flags == _CONFIG else 0
    doc = dom.xml_desc(query)
    flags = _effective(args, dom, flags)
    disk_xml = _find_disk(doc, target)
    if args.flag("print-xml"):
        ctx.print(disk_xml)
        return True
    try:
        dom.detach_device(disk_xml, flags)
    except VirtError as exc:
        raise CommandError("Failed to detach disk", exc) from exc
    ctx.extra("Disk detached successfully\n")
    return True


def _mac_equal(a: str | None, b: str) -> bool:
    if a is None:
        return False
    parse = [p.lower().lstrip("0") or "0" for p in re.split(r"[:-]", a)]
    other = [p.lower().lstrip("0") or "0" for p in re.split(r"[:-]", b)]
    return parse == other


def _find_interface(xml: str, kind: str, mac: str | None) -> str:
    nodes = [
        n for n in elements(parse_xml(xml), "/domain/devices/interface") if n.get("type") == kind
    ]
    if not nodes:
        raise CommandError(f"No interface found whose type is {kind}")
    if mac is None:
        if len(nodes) > 1:
            raise CommandError(
                f"Domain has {len(nodes)} interfaces. Please specify which one to detach "
                "using --mac"
            )
        return _node_text(nodes[0])
    matches = [n for n in nodes if any(_mac_equal(m.get("address"), mac) for m in n.findall("mac"))]
    if len(matches) > 1:
        raise CommandError(
            f"Domain has multiple interfaces matching MAC address {mac}. You must use "
            "detach-device and specify the device pci address to remove it."
        )
    if not matches:
        raise CommandError(f"No interface with MAC address {mac} was found")
    return _node_text(matches[0])


@command(
    "detach-interface",
    "domain",
    "detach network interface",
    "Detach network interface.",
    [
        _DOMAIN,
        data("type", "network interface type"),
        string("mac", "MAC address"),
        *_IMPACT,
        flag("print-xml", "print XML document rather than detach the interface"),
    ],
)
def cmd_detach_interface(ctx: Ctx, args: Args) -> bool:
    flags = _impact(args)
    dom = ctx.domain(args)
    kind = args.require("type")
    mac = args.string("mac")
    flags = _effective(args, dom, flags)
    targets: list[tuple[int, int]] = []  # (XML query flags, detach flags)
    if flags & _CONFIG:
        targets.append((int(DomainXMLFlags.INACTIVE), _CONFIG))
    if flags & _LIVE or not flags:
        targets.append((0, flags & ~_CONFIG if flags & _CONFIG else flags))
    try:
        for query, detach_flags in targets:
            device = _find_interface(dom.xml_desc(query), kind, mac)
            if args.flag("print-xml"):
                ctx.print(device)
                return True
            dom.detach_device(device, detach_flags)
    except CommandError as exc:
        ctx.error(exc.message or "")
        raise CommandError("Failed to detach interface", exc.cause) from exc
    except VirtError as exc:
        raise CommandError("Failed to detach interface", exc) from exc
    ctx.extra("Interface detached successfully\n")
    return True
