"""The head of the command line: identity, machine, CPU, memory, monitor, clock, boot.

Written in libvirt's order (``qemuBuildCommandLine``): ``-name``, ``-S``,
``-machine``, ``-accel``, ``-cpu``, ``-m`` with its RAM backend object,
``-overcommit``, ``-smp``, ``-uuid``, ``-display none`` (no graphics),
``-no-user-config -nodefaults``, the monitor chardev and ``-mon``, ``-rtc``
and timer globals, ``-no-shutdown`` (libvirt always asks QEMU not to exit on
guest poweroff and applies ``on_poweroff`` itself), ``-no-acpi``, the power
management globals, ``-boot`` and direct kernel boot (``-kernel``,
``-initrd``, ``-append``, ``-dtb``). libvirt's ``-object secret`` master key is
not written: nothing here needs an encrypted secret.
"""

from __future__ import annotations

import datetime
import logging
import time

from lxml import etree

from virtcore.xml.units import parse_memory
from virtcore_qemu.command.common import Build, attr_int, unsupported
from virtcore_qemu.command.escape import escape, json_arg, keyval

__all__ = ["build_head", "effective_boot_indexes"]

logger = logging.getLogger(__name__)

_ON = {"require": "on", "force": "on", "optional": "on", "disable": "off", "forbid": "off"}
_TICK_POLICY = {"delay": "delay", "catchup": "slew", "discard": "discard"}


def build_head(build: Build) -> None:
    """Append everything up to and including ``-boot``."""
    root = build.root
    build.add(
        "-name", keyval(None, [("guest", root.findtext("name") or ""), ("debug-threads", True)])
    )
    build.add("-S")
    _machine(build)
    build.add("-accel", escape(build.ctx.accel))
    _cpu(build)
    _memory(build)
    _smp(build)
    uuid = root.findtext("uuid")
    if uuid:
        build.add("-uuid", escape(uuid))
    if build.devices.find("graphics") is None:
        build.add("-display", "none")
    build.add("-no-user-config", "-nodefaults")
    _monitor(build)
    _clock(build)
    build.add("-no-shutdown")
    if root.find("features/acpi") is None:
        build.add("-no-acpi")
    _power_management(build)
    _boot(build)


def _machine(build: Build) -> None:
    memory = build.root.find("memory")
    dump_core = memory.get("dumpCore") if memory is not None else None
    build.add(
        "-machine",
        keyval(
            build.machine,
            [
                ("usb", False),
                ("dump-guest-core", dump_core == "on"),
                ("memory-backend", "pc.ram"),
            ],
        ),
    )


def _cpu(build: Build) -> None:
    cpu = build.root.find("cpu")
    if cpu is None:
        return
    mode = cpu.get("mode") or "custom"
    if mode == "host-passthrough":
        model = "host"
    elif mode == "maximum":
        model = "max"
    elif mode == "host-model":
        raise unsupported("host-model CPU mode needs a probed host CPU model")
    else:
        model = (cpu.findtext("model") or "").strip()
        if not model:
            return
    features: list[tuple[str, object]] = []
    for feature in cpu.findall("feature"):
        name = feature.get("name")
        policy = feature.get("policy") or "require"
        if name:
            features.append((name, _ON.get(policy, "on")))
    build.add("-cpu", keyval(model, features))


def _kib(node: etree._Element | None) -> int:
    if node is None or not (node.text or "").strip():
        return 0
    return parse_memory(node.text, node.get("unit")) or 0


def _memory(build: Build) -> None:
    root = build.root
    total = _kib(root.find("memory"))
    build.add("-m", str(total // 1024))
    build.add(
        "-object",
        json_arg({"qom-type": "memory-backend-ram", "id": "pc.ram", "size": total * 1024}),
    )
    locked = root.find("memoryBacking/locked") is not None
    build.add("-overcommit", f"mem-lock={'on' if locked else 'off'}")


def _smp(build: Build) -> None:
    vcpu = build.root.find("vcpu")
    maximum = int((vcpu.text or "1").strip()) if vcpu is not None and vcpu.text else 1
    current = attr_int(vcpu, "current", maximum)
    topology = build.root.find("cpu/topology")
    pairs: list[tuple[str, object | None]] = []
    if current != maximum:
        pairs.append(("maxcpus", maximum))
    if topology is not None:
        pairs += [
            ("sockets", attr_int(topology, "sockets", 1)),
            ("dies", attr_int(topology, "dies", 1)),
            ("cores", attr_int(topology, "cores", 1)),
            ("threads", attr_int(topology, "threads", 1)),
        ]
    else:
        pairs += [("sockets", maximum), ("cores", 1), ("threads", 1)]
    build.add("-smp", keyval(current, pairs))


def _monitor(build: Build) -> None:
    ctx = build.ctx
    where: tuple[str, object] = (
        ("fd", ctx.monitor_fd) if ctx.monitor_fd is not None else ("path", ctx.monitor_path)
    )
    build.add(
        "-chardev",
        keyval("socket", [("id", "charmonitor"), where, ("server", True), ("wait", False)]),
    )
    build.add("-mon", "chardev=charmonitor,id=monitor,mode=control")


def _clock(build: Build) -> None:
    clock = build.root.find("clock")
    offset = clock.get("offset") if clock is not None else "utc"
    if offset == "localtime":
        base = "localtime"
    elif offset == "variable" and clock is not None:
        adjustment = attr_int(clock, "adjustment")
        if clock.get("basis") == "localtime":
            adjustment += time.localtime().tm_gmtoff
        moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=adjustment)
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    elif offset == "timezone" and clock is not None:
        raise unsupported("clock offset 'timezone' needs a TZ environment for QEMU")
    else:
        base = "utc"
    timers = {t.get("name"): t for t in clock.findall("timer")} if clock is not None else {}
    rtc = timers.get("rtc")
    driftfix = "slew" if rtc is not None and rtc.get("tickpolicy") == "catchup" else None
    build.add("-rtc", keyval(None, [("base", base), ("driftfix", driftfix)]))
    pit = timers.get("pit")
    policy = _TICK_POLICY.get(pit.get("tickpolicy") or "") if pit is not None else None
    if policy is not None:
        build.add("-global", f"kvm-pit.lost_tick_policy={policy}")


def _power_management(build: Build) -> None:
    owner = "ICH9-LPC" if build.is_q35 else "PIIX4_PM"
    for element, prop in (("suspend-to-mem", "disable_s3"), ("suspend-to-disk", "disable_s4")):
        node = build.root.find(f"pm/{element}")
        if node is not None and node.get("enabled") in ("yes", "no"):
            build.add("-global", f"{owner}.{prop}={1 if node.get('enabled') == 'no' else 0}")


def _boot(build: Build) -> None:
    os_node = build.root.find("os")
    menu = os_node.find("bootmenu") if os_node is not None else None
    bios = os_node.find("bios") if os_node is not None else None
    pairs: list[tuple[str, object | None]] = []
    if menu is not None and menu.get("enable") in ("yes", "no"):
        pairs.append(("menu", menu.get("enable") == "yes"))
        if menu.get("enable") == "yes" and menu.get("timeout"):
            pairs.append(("splash-time", attr_int(menu, "timeout")))
    if bios is not None and bios.get("rebootTimeout"):
        pairs.append(("reboot-timeout", attr_int(bios, "rebootTimeout")))
    pairs.append(("strict", True))
    build.add("-boot", keyval(None, pairs))
    build.boot_index.update(effective_boot_indexes(build))
    # -kernel, -initrd, -append and -dtb take their value whole (no keyval
    # parsing), so libvirt passes them unescaped and so does this.
    for element, option in (
        ("kernel", "-kernel"),
        ("initrd", "-initrd"),
        ("cmdline", "-append"),
        ("dtb", "-dtb"),
    ):
        value = os_node.findtext(element) if os_node is not None else None
        if value:
            build.add(option, value)


def effective_boot_indexes(build: Build) -> dict[str, int]:
    """``bootindex`` per device (keyed by :meth:`Build.key`), as libvirt derives it.

    Per-device ``<boot order=N/>`` wins; otherwise the position of each
    ``<os><boot dev=.../>`` entry (1-based) goes to the first cdrom, first
    disk, first floppy and first interface (``qemuProcessPrepareDeviceBootorder``).
    """
    indexes: dict[str, int] = {}
    devices = build.devices
    explicit = False
    for node in devices.iterchildren("*"):
        order = node.find("boot")
        if order is not None and order.get("order"):
            indexes[build.key(node)] = attr_int(order, "order")
            explicit = True
    if explicit:
        return indexes
    wanted: dict[str, int] = {}
    for position, boot in enumerate(build.root.findall("os/boot"), start=1):
        dev = boot.get("dev") or ""
        wanted[dev] = position
    kinds = {"cdrom": "cdrom", "disk": "hd", "lun": "hd", "floppy": "fd"}
    for disk in devices.findall("disk"):
        key = kinds.get(disk.get("device") or "disk")
        if key is not None and key in wanted:
            indexes[build.key(disk)] = wanted.pop(key)
    first_net = devices.find("interface")
    if first_net is not None and "network" in wanted:
        indexes[build.key(first_net)] = wanted["network"]
    return indexes
