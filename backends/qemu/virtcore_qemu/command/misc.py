"""SMBIOS and fw_cfg tables, watchdogs, the balloon, RNGs and the closing options.

* ``<sysinfo type='smbios'>`` with ``<os><smbios mode='sysinfo'/>``: one
  ``-smbios type=N,...`` per table (0 BIOS, 1 system, 2 base boards, 3
  chassis, 11 OEM strings) with the fields in libvirt's order, after
  ``-uuid``; ``<sysinfo type='fwcfg'>`` entries as ``-fw_cfg
  name=...,string=...|file=...`` (values escaped, which libvirt 9.0 forgets
  for fw_cfg strings).

* Watchdog: ``i6300esb`` (PCI) or ``ib700`` (ISA) and ``-watchdog-action``
  (``dump`` is written ``pause``: libvirt pauses the guest, dumps, resumes).
* Balloon: ``virtio-balloon-pci`` (``balloon0``) unless the model is
  ``none``; the statistics period is set over QMP after start, not here.
* RNG: ``-object rng-random``/``rng-builtin`` (``objrngN``) and
  ``virtio-rng-pci`` with the rate limit.
* ``-sandbox`` with libvirt's default seccomp policy and, last,
  ``-msg timestamp=on``.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported
from virtcore_qemu.command.escape import escape, json_arg, keyval

__all__ = [
    "build_balloon",
    "build_rngs",
    "build_sandbox",
    "build_sysinfo",
    "build_tail",
    "build_watchdogs",
    "rng_objects",
]

logger = logging.getLogger(__name__)

_WATCHDOG_ACTIONS = {
    "reset": "reset",
    "shutdown": "shutdown",
    "poweroff": "poweroff",
    "pause": "pause",
    "none": "none",
    "dump": "pause",
    "inject-nmi": "inject-nmi",
}


_SMBIOS_TABLES = (
    ("bios", 0, ("vendor", "version", "date", "release")),
    ("system", 1, ("manufacturer", "product", "version", "serial", "uuid", "sku", "family")),
    ("baseBoard", 2, ("manufacturer", "product", "version", "serial", "asset", "location")),
    ("chassis", 3, ("manufacturer", "version", "serial", "asset", "sku")),
)


def build_sysinfo(build: Build) -> None:
    """Append the ``-smbios`` tables and ``-fw_cfg`` entries of ``<sysinfo>``."""
    mode_node = build.root.find("os/smbios")
    mode = mode_node.get("mode") if mode_node is not None else None
    if mode == "host":
        raise unsupported("SMBIOS mode 'host' needs the host's SMBIOS tables")
    for sysinfo in build.root.findall("sysinfo"):
        kind = sysinfo.get("type")
        if kind == "smbios" and mode == "sysinfo":
            _smbios(build, sysinfo)
    for sysinfo in build.root.findall("sysinfo"):
        if sysinfo.get("type") == "fwcfg":
            for entry in sysinfo.findall("entry"):
                source = ("file", entry.get("file")) if entry.get("file") else None
                value = source or ("string", entry.text or "")
                build.add("-fw_cfg", keyval(None, [("name", entry.get("name")), value]))


def _smbios(build: Build, sysinfo: etree._Element) -> None:
    for tag, table, fields in _SMBIOS_TABLES:
        for node in sysinfo.findall(tag):
            entries = {entry.get("name"): entry.text or "" for entry in node.findall("entry")}
            pairs = [(field, entries.get(field)) for field in fields]
            if any(value is not None for _, value in pairs):
                build.add("-smbios", keyval(f"type={table}", pairs))
    strings = sysinfo.findall("oemStrings/entry")
    if strings:
        build.add("-smbios", keyval("type=11", [("value", entry.text or "") for entry in strings]))


def build_watchdogs(build: Build) -> None:
    """Append the watchdog device and its action."""
    for node in build.devices.findall("watchdog"):
        model = node.get("model")
        props: dict[str, Any]
        if model == "i6300esb":
            props = {"driver": "i6300esb", "id": build.alias(node), **pci_props(build, node)}
        elif model == "ib700":
            props = {"driver": "ib700", "id": build.alias(node)}
        else:
            raise unsupported(f"watchdog model '{model}' is not supported")
        build.add("-device", json_arg(props))
        action = _WATCHDOG_ACTIONS.get(node.get("action") or "reset")
        if action is None:
            raise unsupported(f"watchdog action '{node.get('action')}' is not supported")
        build.add("-watchdog-action", escape(action))


def build_balloon(build: Build) -> None:
    """Append the memory balloon."""
    node = build.devices.find("memballoon")
    if node is None or node.get("model") == "none":
        return
    if node.get("model") not in (None, "virtio"):
        raise unsupported(f"memballoon model '{node.get('model')}' is not supported")
    props: dict[str, Any] = {"driver": "virtio-balloon-pci", "id": build.alias(node)}
    if node.get("autodeflate") in ("on", "off"):
        props["deflate-on-oom"] = node.get("autodeflate") == "on"
    if node.get("freePageReporting") in ("on", "off"):
        props["free-page-reporting"] = node.get("freePageReporting") == "on"
    props.update(pci_props(build, node))
    build.add("-device", json_arg(props))


def build_rngs(build: Build) -> None:
    """Append each RNG back-end object and its ``virtio-rng-pci``."""
    for node in build.devices.findall("rng"):
        obj, props = rng_objects(build, node)
        build.add("-object", json_arg(obj))
        build.add("-device", json_arg(props))


def rng_objects(build: Build, node: etree._Element) -> tuple[dict[str, Any], dict[str, Any]]:
    """The back-end ``-object`` (``objrngN``) and the ``-device`` properties of an RNG."""
    alias = build.alias(node)
    if node.get("model") != "virtio":
        raise unsupported(f"rng model '{node.get('model')}' is not supported")
    backend = node.find("backend")
    kind = backend.get("model") if backend is not None else None
    obj: dict[str, Any]
    if kind == "random":
        path = ((backend.text if backend is not None else None) or "/dev/random").strip()
        obj = {"qom-type": "rng-random", "id": f"obj{alias}", "filename": path}
    elif kind == "builtin":
        obj = {"qom-type": "rng-builtin", "id": f"obj{alias}"}
    else:
        raise unsupported(f"rng backend model '{kind}' is not supported")
    rate = node.find("rate")
    props: dict[str, Any] = {"driver": "virtio-rng-pci", "rng": f"obj{alias}", "id": alias}
    if rate is not None:
        props["max-bytes"] = attr_int(rate, "bytes")
        props["period"] = attr_int(rate, "period", 1000)
    props.update(pci_props(build, node))
    return obj, props


def build_sandbox(build: Build) -> None:
    """Append the seccomp sandbox with libvirt's default policy."""
    build.add(
        "-sandbox",
        "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    )


def build_tail(build: Build) -> None:
    """Append the message option libvirt ends with."""
    build.add("-msg", "timestamp=on")
