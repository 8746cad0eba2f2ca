"""What the command line can express: refuse the rest instead of dropping it silently.

libvirt's XML has far more settings than this package writes. A setting
that would change QEMU's command line but is not written here must not be
ignored - the guest would start with different hardware than its
definition says - so :func:`check_supported` walks the domain first and
raises ``ConfigUnsupportedError`` (VIR_ERR_CONFIG_UNSUPPORTED, QEMU domain)
naming the first element it cannot honour.

Settings that never reach the command line (cgroup tuning, ``<on_crash>``,
``<perf>``, security labels, metadata) are accepted as they are; the driver
applies them elsewhere.
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
                       "backingStore"},
    "controller": _COMMON | {"model", "target"},
    "interface": _COMMON | {"mac", "source", "target", "model", "link"},
    "serial": _COMMON | {"source", "target", "protocol"},
    "console": _COMMON | {"source", "target", "protocol"},
    "channel": _COMMON | {"source", "target", "protocol"},
    "input": _COMMON,
    "graphics": frozenset({"listen"}),
    "audio": frozenset(),
    "video": _COMMON | {"model"},
    "hub": _COMMON,
    "watchdog": _COMMON,
    "memballoon": _COMMON | {"stats"},
    "rng": _COMMON | {"backend", "rate"},
}  # fmt: skip
"""Device elements the command line writes, with the child elements it reads."""

_DRIVER_ATTRIBUTES = {
    "disk": frozenset({"name", "type", "cache", "io", "discard"}),
}

_TOP = frozenset(
    {
        "name", "uuid", "title", "description", "metadata", "memory", "currentMemory",
        "vcpu", "os", "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash",
        "on_lockfailure", "pm", "devices", "seclabel", "blkiotune", "memtune", "cputune",
        "numatune", "resource", "perf", "memoryBacking", "sysinfo", "iothreads",
    }
)  # fmt: skip
_OS = frozenset({"type", "boot", "bootmenu", "bios", "kernel", "initrd", "cmdline", "dtb"})
_FEATURES = frozenset({"acpi", "apic", "pae"})
_CPU = frozenset({"model", "vendor", "topology", "feature"})
_TIMERS = frozenset({"rtc", "pit"})


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
    if root.findtext("iothreads", "0").strip() not in ("", "0"):
        raise unsupported("<iothreads> are not supported by the QEMU command line")
    backing = root.find("memoryBacking")
    if _first_other(backing, frozenset({"locked"})) is not None:
        raise unsupported("<memoryBacking> other than <locked/> is not supported")
    for timer in root.iterfind("clock/timer"):
        if timer.get("name") not in _TIMERS:
            raise unsupported(f"clock timer '{timer.get('name')}' is not supported")
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
        backing_store = device.find("backingStore")
        if backing_store is not None and (len(backing_store) or backing_store.get("type")):
            raise unsupported("disk backing chains (<backingStore>) are not supported")
        model = device.find("model")
        if tag == "video" and model is not None and len(model):
            raise unsupported("<video><model> options are not supported by the QEMU driver")
