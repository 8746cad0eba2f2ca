"""The head of the command line: identity, firmware, machine, CPU, memory, clock, boot.

Written in libvirt's order (``qemuBuildCommandLine``): ``-name``, ``-S``, the
firmware flash nodes, ``-machine`` (with ``vmport``, ``smm``,
``kernel_irqchip``, ``nvdimm``, the RAM backend and the flash nodes),
``-accel``, the SMM TSEG size, ``-cpu`` (:mod:`.cpu`), ``-bios``, then
memory, ``-smp``, I/O threads and NUMA cells (:mod:`.memory`), ``-uuid``,
SMBIOS and fw_cfg tables (:mod:`.misc`), the ``vmgenid`` device, ``-display
none`` (no graphics), ``-no-user-config -nodefaults``, the monitor chardev
and ``-mon``, ``-pidfile`` (QEMU writes the pid; libvirt writes it itself),
``-rtc`` and timer globals, ``-no-hpet``, ``-no-shutdown``
(libvirt always asks QEMU not to exit on guest poweroff and applies
``on_poweroff`` itself), ``-no-acpi``, the power management globals,
``-boot`` and direct kernel boot (``-kernel``, ``-initrd``, ``-append``,
``-dtb``). libvirt's ``-object secret`` master key is not written: nothing
here needs an encrypted secret.

Firmware: libvirt 9.0 opens a ``<loader type='pflash'>`` and its ``<nvram>``
varstore as block nodes (``qemuBuildPflashBlockdevCommandLine``):
``libvirt-pflash0-storage``/``-format`` for the code (read-only when the
loader is), ``libvirt-pflash1-*`` for the variables (writable), named in
``-machine pflash0=...,pflash1=...``; a ``secure='yes'`` loader adds ``-global
driver=cfi.pflash01,property=secure,value=on`` (only SMM may write the
flash). A ROM loader is ``-bios PATH``.
Copying the ``<nvram template>`` into place before the first start is the
driver's business: here the varstore path is only opened.
"""

from __future__ import annotations

import datetime
import logging
import time

from lxml import etree

from virtcore.xml.units import parse_memory
from virtcore_qemu.command.common import Build, attr_int, unsupported
from virtcore_qemu.command.cpu import build_cpu
from virtcore_qemu.command.escape import escape, json_arg, keyval
from virtcore_qemu.command.memory import (
    build_iothreads,
    build_memory,
    build_numa,
    build_smp,
    has_numa,
)
from virtcore_qemu.command.misc import build_sysinfo

__all__ = ["build_head", "effective_boot_indexes"]

logger = logging.getLogger(__name__)

_TICK_POLICY = {"delay": "delay", "catchup": "slew", "discard": "discard"}


def build_head(build: Build) -> None:
    """Append everything up to and including ``-boot``."""
    root = build.root
    build.add(
        "-name", keyval(None, [("guest", root.findtext("name") or ""), ("debug-threads", True)])
    )
    build.add("-S")
    build_pflash(build)
    _machine(build)
    build.add("-accel", escape(build.ctx.accel))
    _tseg(build)
    build_cpu(build)
    build_bios(build)
    build_memory(build)
    build_smp(build)
    build_iothreads(build)
    build_numa(build)
    uuid = root.findtext("uuid")
    if uuid:
        build.add("-uuid", escape(uuid))
    build_sysinfo(build)
    genid = root.findtext("genid")
    if genid is not None:
        if not genid.strip():
            raise unsupported("<genid> has no GUID: the definition was not completed")
        build.add(
            "-device", json_arg({"driver": "vmgenid", "guid": genid.strip(), "id": "vmgenid0"})
        )
    if build.devices.find("graphics") is None:
        build.add("-display", "none")
    build.add("-no-user-config", "-nodefaults")
    _monitor(build)
    _clock(build)
    if any(
        timer.get("name") == "hpet" and timer.get("present") == "no"
        for timer in root.iterfind("clock/timer")
    ):
        build.add("-no-hpet")
    build.add("-no-shutdown")
    if root.find("features/acpi") is None:
        build.add("-no-acpi")
    _power_management(build)
    _boot(build)


def _machine(build: Build) -> None:
    memory = build.root.find("memory")
    dump_core = memory.get("dumpCore") if memory is not None else None
    nvdimm = any(mem.get("model") == "nvdimm" for mem in build.devices.findall("memory"))
    ioapic = build.root.find("features/ioapic")
    driver = ioapic.get("driver") if ioapic is not None else None
    irqchip = {"qemu": "split", "kvm": "on"}.get(driver or "")
    features = build.root.find("features")
    states = {
        name: _switch(features.find(name) if features is not None else None)
        for name in ("vmport", "smm")
    }
    pairs: list[tuple[str, object | None]] = [
        ("usb", False),
        ("vmport", states["vmport"]),
        ("smm", states["smm"]),
        ("kernel_irqchip", irqchip),
        ("dump-guest-core", dump_core == "on"),
        ("nvdimm", True if nvdimm else None),
        # With NUMA cells the RAM is the cells' backends, not one pc.ram object.
        ("memory-backend", None if has_numa(build) else "pc.ram"),
        *pflash_machine_props(build),
    ]
    build.add("-machine", keyval(build.machine, pairs))


def _switch(node: etree._Element | None) -> bool | None:
    state = node.get("state") if node is not None else None
    return None if state not in ("on", "off") else state == "on"


def _tseg(build: Build) -> None:
    tseg = build.root.find("features/smm/tseg")
    if tseg is None or not (tseg.text or "").strip():
        return
    mib = (parse_memory(tseg.text, tseg.get("unit") or "MiB") or 0) // 1024
    build.add("-global", f"mch.extended-tseg-mbytes={mib}")


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
    # libvirt writes the pidfile itself (it forks QEMU through virCommand's
    # daemonize); here QEMU is spawned directly and writes (and locks) its
    # own, which is what a reconnect checks the recorded pid against.
    build.add("-pidfile", str(ctx.pidfile))


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


# -- firmware ---------------------------------------------------------------------


def _loader(build: Build) -> etree._Element | None:
    loader = build.root.find("os/loader")
    if loader is None or not (loader.text or "").strip():
        return None
    return loader


def _flash_images(build: Build) -> list[tuple[str, bool]]:
    """(path, read-only) of ``pflash0`` and, with a varstore, ``pflash1``."""
    loader = _loader(build)
    if loader is None or loader.get("type") != "pflash":
        return []
    images = [((loader.text or "").strip(), loader.get("readonly") == "yes")]
    nvram = (build.root.findtext("os/nvram") or "").strip()
    if nvram:
        images.append((nvram, False))
    return images


def build_pflash(build: Build) -> None:
    """Append the storage and format node of each flash image."""
    for unit, (path, readonly) in enumerate(_flash_images(build)):
        storage = f"libvirt-pflash{unit}-storage"
        build.add(
            "-blockdev",
            json_arg(
                {
                    "driver": "file",
                    "filename": path,
                    "node-name": storage,
                    "auto-read-only": True,
                    "discard": "unmap",
                }
            ),
        )
        build.add(
            "-blockdev",
            json_arg(
                {
                    "node-name": f"libvirt-pflash{unit}-format",
                    "read-only": readonly,
                    "driver": "raw",
                    "file": storage,
                }
            ),
        )


def pflash_machine_props(build: Build) -> list[tuple[str, object | None]]:
    """The ``-machine`` properties naming the flash format nodes."""
    return [
        (f"pflash{unit}", f"libvirt-pflash{unit}-format")
        for unit in range(len(_flash_images(build)))
    ]


def build_bios(build: Build) -> None:
    """Append ``-bios`` for a ROM loader; a secure flash loader's ``-global``."""
    loader = _loader(build)
    if loader is None:
        return
    if loader.get("type") == "pflash":
        if loader.get("secure") == "yes":
            # Only SMM code may write the code flash: what keeps Secure Boot's keys safe.
            build.add("-global", "driver=cfi.pflash01,property=secure,value=on")
        return
    if loader.get("type") not in (None, "rom"):
        return
    # -bios takes its value whole (no keyval parsing), like libvirt writes it.
    build.add("-bios", (loader.text or "").strip())
