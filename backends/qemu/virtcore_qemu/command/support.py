"""What the command line can express: refuse the rest instead of dropping it silently.

libvirt's XML has far more settings than this package writes. A setting
that would change QEMU's command line but is not written here must not be
ignored - the guest would start with different hardware than its
definition says - so :func:`check_supported` walks the domain first and
raises ``ConfigUnsupportedError`` (VIR_ERR_CONFIG_UNSUPPORTED, QEMU domain)
naming the first element it cannot honour.

Settings that never reach the command line (cgroup tuning, ``<on_crash>``,
``<perf>``, security labels, metadata) are accepted as they are; the driver
applies them elsewhere - so are those libvirt applies over the monitor once
QEMU runs: disk ``<iotune>`` and online hotpluggable vCPUs. Where libvirt
has its own error for a setting (unfiltered ``sgio``, read-only virtiofs,
multiqueue or an MTU on a user interface) its wording is used.
"""

from __future__ import annotations

import logging

from lxml import etree

from virtcore_qemu.command.common import unsupported

__all__ = ["SUPPORTED_DEVICES", "check_supported"]

logger = logging.getLogger(__name__)

_COMMON = frozenset({"address", "alias", "boot"})

SUPPORTED_DEVICES: dict[str, frozenset[str]] = {
    "emulator": frozenset(),
    "disk": _COMMON | {"driver", "source", "target", "readonly", "shareable", "serial",
                       "backingStore", "iotune"},
    "controller": _COMMON | {"model", "target", "driver"},
    "interface": _COMMON | {"mac", "source", "target", "model", "link", "driver", "mtu", "rom"},
    "serial": _COMMON | {"source", "target", "protocol"},
    "console": _COMMON | {"source", "target", "protocol"},
    "channel": _COMMON | {"source", "target", "protocol"},
    "input": _COMMON,
    "graphics": frozenset({"listen", "audio"}),
    "audio": frozenset(),
    "video": _COMMON | {"model"},
    "hub": _COMMON,
    "watchdog": _COMMON,
    "memballoon": _COMMON | {"stats"},
    "rng": _COMMON | {"backend", "rate"},
    "memory": _COMMON | {"source", "target"},
    "sound": _COMMON | {"codec", "audio"},
    "panic": frozenset({"address", "alias"}),
    "iommu": frozenset({"driver", "alias"}),
    "vsock": _COMMON | {"cid"},
    "shmem": _COMMON | {"model", "size", "server", "msi"},
    "parallel": _COMMON | {"source", "target"},
    "redirdev": _COMMON | {"source", "protocol"},
    "smartcard": _COMMON | {"source", "protocol"},
    "hostdev": _COMMON | {"source", "driver", "rom"},
    "filesystem": _COMMON | {"driver", "source", "target", "readonly", "binary"},
    "redirfilter": frozenset({"usbdev"}),
    "tpm": _COMMON | {"backend"},
}  # fmt: skip
"""Device elements the command line writes, with the child elements it reads."""

_DRIVER_ATTRIBUTES = {
    "disk": frozenset(
        {
            "name",
            "type",
            "cache",
            "io",
            "discard",
            "iothread",
            "detect_zeroes",
            "error_policy",
            "rerror_policy",
            "copy_on_read",
            "queues",
            "queue_size",
        }
    ),
    "iommu": frozenset({"intremap", "caching_mode", "eim", "iotlb", "aw_bits"}),
    "controller": frozenset({"queues", "iothread", "cmd_per_lun", "max_sectors", "ioeventfd"}),
    "hostdev": frozenset({"name"}),
    "interface": frozenset({"name", "queues", "rx_queue_size", "tx_queue_size"}),
    "filesystem": frozenset({"type", "queue", "wrpolicy"}),
}

_ANY: frozenset[str] = frozenset()
_DEVICE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "shmem": frozenset({"name"}),
    "filesystem": frozenset({"type", "accessmode"}),
}
"""Attributes of devices whose unknown ones would change the command line."""

_TOP = frozenset(
    {
        "name", "uuid", "title", "description", "metadata", "memory", "currentMemory",
        "vcpu", "os", "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash",
        "on_lockfailure", "pm", "devices", "seclabel", "blkiotune", "memtune", "cputune",
        "numatune", "resource", "perf", "memoryBacking", "sysinfo", "iothreads",
        "iothreadids", "vcpus", "maxMemory", "genid", "defaultiothread",
    }
)  # fmt: skip
_OS = frozenset(
    {
        "type", "boot", "bootmenu", "bios", "kernel", "initrd", "cmdline", "dtb", "loader",
        "nvram", "smbios", "firmware",
    }
)  # fmt: skip
# <os><firmware> holds the wishes the firmware selection already answered with a <loader>.
_FEATURES = frozenset(
    {"acpi", "apic", "pae", "ioapic", "hyperv", "kvm", "pmu", "vmport", "smm", "pvspinlock"}
)
_CPU = frozenset({"model", "vendor", "topology", "feature", "numa"})
_NUMA_CELL = frozenset({"id", "cpus", "memory", "unit", "memAccess"})
_MEMORY_SOURCE = frozenset({"path", "alignsize", "pmem"})
_MEMORY_TARGET = frozenset({"size", "node", "label", "readonly"})
_TIMERS = frozenset({"rtc", "pit", "hpet", "kvmclock", "hypervclock", "tsc"})


def _first_other(node: etree._Element | None, allowed: frozenset[str]) -> str | None:
    if node is None:
        return None
    for child in node.iterchildren("*"):
        if child.tag not in allowed:
            return str(child.tag)
    return None


def check_supported(root: etree._Element) -> None:
    """Raise ``ConfigUnsupportedError`` for the first setting the command line cannot write."""
    other = _first_other(root, _TOP)
    if other is not None:
        raise unsupported(f"<{other}> is not supported by the QEMU command line")
    for path, allowed in (("os", _OS), ("features", _FEATURES), ("cpu", _CPU)):
        other = _first_other(root.find(path), allowed)
        if other is not None:
            raise unsupported(f"<{path}><{other}> is not supported by the QEMU command line")
    _check_numa(root)
    for iothread in root.iterfind("iothreadids/iothread"):
        if set(iothread.attrib) - {"id", "thread_pool_min", "thread_pool_max"} or len(iothread):
            raise unsupported("<iothread> tuning is not supported by the QEMU command line")
    _check_numatune(root)
    _check_sysinfo(root)
    backing = root.find("memoryBacking")
    if _first_other(backing, frozenset({"locked", "source", "access"})) is not None:
        raise unsupported("<memoryBacking> other than <locked/> and memfd is not supported")
    source = root.find("memoryBacking/source")
    kind = source.get("type") if source is not None else None
    if kind not in (None, "anonymous", "memfd"):
        # File backing lives in libvirt's memory_backing_dir on the host.
        raise unsupported(f"memory backing source '{kind}' is not supported")
    if root.find("memoryBacking/access") is not None and kind != "memfd":
        # Shared anonymous memory is a file in memory_backing_dir too.
        raise unsupported("<memoryBacking><access> needs <source type='memfd'/>")
    for timer in root.iterfind("clock/timer"):
        if timer.get("name") not in _TIMERS:
            raise unsupported(f"clock timer '{timer.get('name')}' is not supported")
        if timer.get("name") == "tsc" and timer.get("mode") not in (None, "auto"):
            raise unsupported(f"tsc timer mode '{timer.get('mode')}' is not supported")
    devices = root.find("devices")
    if devices is None:
        return
    for device in devices.iterchildren("*"):
        tag = str(device.tag)
        children = SUPPORTED_DEVICES.get(tag)
        if children is None:
            raise unsupported(f"<{tag}> devices are not supported by the QEMU driver")
        other = _first_other(device, children)
        if other is not None:
            raise unsupported(f"<{tag}><{other}> is not supported by the QEMU driver")
        driver = device.find("driver")
        attributes = _DRIVER_ATTRIBUTES.get(tag)
        if driver is not None:
            extra = {str(name) for name in driver.attrib} - (attributes or set())
            if extra:
                raise unsupported(
                    f"<{tag}><driver {sorted(extra)[0]}=...> is not supported by the QEMU driver"
                )
        if tag == "disk":
            _check_disk(device)
        extra = {str(name) for name in device.attrib} - _DEVICE_ATTRIBUTES.get(tag, _ANY)
        if _DEVICE_ATTRIBUTES.get(tag) is not None and extra:
            first = sorted(extra)[0]
            raise unsupported(f"<{tag} {first}=...> is not supported by the QEMU driver")
        scsi = device.get("type") == "scsi"
        if tag == "controller" and driver is not None and driver.attrib and not scsi:
            raise unsupported(
                f"<driver> options of {device.get('type')} controllers are not supported"
            )
        if tag == "memory":
            _check_memory_device(device)
        if tag == "filesystem":
            _check_filesystem(device)
        model = device.find("model")
        if tag == "video" and model is not None:
            _check_video_model(model)


#: virtiofsd settings of ``<filesystem><binary>`` (the daemon's options, not QEMU's).
_FS_BINARY = frozenset({"cache", "sandbox", "lock", "thread_pool"})
_FS_BINARY_ATTRIBUTES = frozenset({"path", "xattr"})


def _check_filesystem(fs: etree._Element) -> None:
    binary = fs.find("binary")
    if binary is None:
        return
    other = _first_other(binary, _FS_BINARY)
    if other is not None:
        raise unsupported(f"<filesystem><binary><{other}> is not supported by the QEMU driver")
    extra = sorted({str(name) for name in binary.attrib} - _FS_BINARY_ATTRIBUTES)
    if extra:
        raise unsupported(
            f"<filesystem><binary {extra[0]}=...> is not supported by the QEMU driver"
        )


def _check_numa(root: etree._Element) -> None:
    numa = root.find("cpu/numa")
    if numa is None:
        return
    for cell in numa.iterchildren("*"):
        extra = {str(name) for name in cell.attrib} - _NUMA_CELL
        if cell.tag != "cell" or extra:
            what = f"cell {sorted(extra)[0]}" if extra else str(cell.tag)
            raise unsupported(f"NUMA {what} is not supported by the QEMU command line")
        other = _first_other(cell, frozenset({"distances"}))
        if other is not None:
            raise unsupported(f"NUMA cell <{other}> is not supported by the QEMU command line")
        source = root.find("memoryBacking/source")
        if cell.get("memAccess") and (source is None or source.get("type") != "memfd"):
            # Shared anonymous memory is a file in memory_backing_dir.
            raise unsupported("NUMA cell memAccess needs <memoryBacking><source type='memfd'/>")


def _check_memory_device(device: etree._Element) -> None:
    model = device.get("model")
    if model not in ("dimm", "nvdimm"):
        raise unsupported(f"memory device model '{model}' is not supported by the QEMU driver")
    # libvirt backs such DIMMs with files in its own memory_backing_dir.
    for name in ("discard", *(("access",) if model == "dimm" else ())):
        if device.get(name):
            raise unsupported(f"<memory {name}=...> is not supported by the QEMU driver")
    for path, allowed in (("source", _MEMORY_SOURCE), ("target", _MEMORY_TARGET)):
        other = _first_other(device.find(path), allowed)
        if other is not None:
            raise unsupported(f"<memory><{path}><{other}> is not supported by the QEMU driver")
    if model == "dimm" and device.find("source") is not None:
        raise unsupported("<memory model='dimm'><source> is not supported by the QEMU driver")


_BACKING_CHILDREN = frozenset({"format", "source", "backingStore"})
_NETWORK_SOURCE = frozenset({"host", "initiator"})


def _check_disk(disk: etree._Element) -> None:
    if disk.get("sgio") == "unfiltered":
        raise unsupported("unfiltered sgio is no longer supported")
    element: etree._Element | None = disk
    while element is not None:
        source = element.find("source")
        if source is not None:
            network = element.get("type") == "network"
            other = _first_other(source, _NETWORK_SOURCE if network else frozenset())
            if other is not None:
                raise unsupported(f"disk <source><{other}> is not supported by the QEMU driver")
            extra = {str(name) for name in source.attrib} - {"protocol", "name"}
            if network and extra:
                first = sorted(extra)[0]
                raise unsupported(f"network disk <source {first}=...> is not supported")
        element = element.find("backingStore")
        other = _first_other(element, _BACKING_CHILDREN)
        if other is not None:
            raise unsupported(f"<backingStore><{other}> is not supported by the QEMU driver")


def _check_video_model(model: etree._Element) -> None:
    other = _first_other(model, frozenset({"acceleration"}))
    if other is not None:
        raise unsupported(f"<video><model><{other}> is not supported by the QEMU driver")
    acceleration = model.find("acceleration")
    if acceleration is None:
        return
    extra = {str(name) for name in acceleration.attrib} - {"accel3d"}
    if extra:
        raise unsupported(f"video acceleration '{sorted(extra)[0]}' is not supported")
    if acceleration.get("accel3d") == "yes" and model.get("type") != "virtio":
        raise unsupported(f"3d acceleration is not supported for '{model.get('type')}' video")


def _check_numatune(root: etree._Element) -> None:
    numatune = root.find("numatune")
    if numatune is None:
        return
    other = _first_other(numatune, frozenset({"memory", "memnode"}))
    if other is not None:
        raise unsupported(f"<numatune><{other}> is not supported by the QEMU command line")
    if numatune.find("memnode") is not None and root.find("cpu/numa/cell") is None:
        raise unsupported("<numatune><memnode> needs guest NUMA cells")


_SYSINFO_SMBIOS = frozenset({"bios", "system", "baseBoard", "chassis", "oemStrings"})


def _check_sysinfo(root: etree._Element) -> None:
    for sysinfo in root.iterfind("sysinfo"):
        kind = sysinfo.get("type")
        allowed = {"smbios": _SYSINFO_SMBIOS, "fwcfg": frozenset({"entry"})}.get(kind or "")
        if allowed is None:
            raise unsupported(f"sysinfo type '{kind}' is not supported by the QEMU command line")
        other = _first_other(sysinfo, allowed)
        if other is not None:
            raise unsupported(f"<sysinfo><{other}> is not supported by the QEMU command line")
