"""Devices that hand the guest something of the host: host devices, USB redirection,
smartcards and shared directories.

Written where libvirt 9.0 writes them in ``qemuBuildCommandLine``:

* CCID controllers (``usb-ccid``, ``ccidN``) right after the USB hubs, and
  smartcards (``smartcardN`` on ``ccidC.0``) after the network interfaces:
  ``ccid-card-passthru`` fed by chardev ``charsmartcardN``, or the host's
  reader through NSS (``ccid-card-emulated``, mode ``host``);
* shared directories after the disks: virtio-fs as ``vhost-user-fs-pci``
  (``fsN``) talking to the ``virtiofsd`` the driver starts on
  ``<lib_dir>/fsN-fs.sock`` (chardev ``chr-vu-fsN``), which needs shared
  guest memory; 9p as ``-fsdev local`` (``fsdev-fsN``, the access mode as
  ``security_model``, ``squash`` being ``none``) and ``virtio-9p-pci``;
* USB redirection (``usb-redir``, ``redirN``, chardev ``charredirN``, the
  ``<redirfilter>`` rules as ``filter``) after the watchdog;
* host devices after that: ``vfio-pci`` for PCI (``host`` is the
  ``DDDD:BB:SS.F`` address, ``rombar``/``romfile`` from ``<rom>``) and
  ``usb-host`` for USB (``hostdevice`` is ``/dev/bus/usb/BBB/DDD``); ids are
  ``hostdevN`` by position.

USB host devices named by vendor/product must first be found on the host,
which the driver does; here they are refused with libvirt's error.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import InternalError
from virtcore_qemu.command.chardev import chardev_backend
from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported, usb_props
from virtcore_qemu.command.escape import escape, json_arg, keyval
from virtcore_qemu.command.net import rom_props

__all__ = [
    "build_ccid_controllers",
    "build_filesystems",
    "build_hostdevs",
    "build_redirdevs",
    "build_smartcards",
]

logger = logging.getLogger(__name__)


def build_ccid_controllers(build: Build) -> None:
    """Append the CCID (smartcard reader) controllers."""
    for node in build.devices.findall("controller"):
        if node.get("type") != "ccid":
            continue
        props = {"driver": "usb-ccid", "id": f"ccid{attr_int(node, 'index')}"}
        props.update(usb_props(build, node))
        build.add("-device", json_arg(props))


def build_smartcards(build: Build) -> None:
    """Append each passthrough smartcard: its chardev and ``ccid-card-passthru``."""
    for card in build.devices.findall("smartcard"):
        mode = card.get("mode")
        address = card.find("address")
        bus = f"ccid{attr_int(address, 'controller')}.0"
        alias = build.alias(card)
        if mode == "host":
            props = {
                "driver": "ccid-card-emulated",
                "backend": "nss-emulated",
                "id": alias,
                "bus": bus,
            }
        elif mode == "passthrough":
            chardev = f"char{alias}"
            build.add("-chardev", chardev_backend(build, card, chardev))
            props = {"driver": "ccid-card-passthru", "chardev": chardev, "id": alias, "bus": bus}
        else:
            raise unsupported(f"smartcard mode '{mode}' is not supported")
        build.add("-device", json_arg(props))


_SECURITY_MODELS = {"passthrough": "passthrough", "mapped": "mapped", "squash": "none"}


def build_filesystems(build: Build) -> None:
    """Append each shared directory: virtio-fs, or 9p (``-fsdev`` + ``virtio-9p-pci``)."""
    for fs in build.devices.findall("filesystem"):
        if (fs.get("type") or "mount") != "mount":
            raise unsupported(f"filesystem type '{fs.get('type')}' is not supported")
        driver = fs.find("driver")
        kind = (driver.get("type") if driver is not None else None) or "path"
        alias = build.alias(fs)
        target = fs.find("target")
        tag = target.get("dir") if target is not None else None
        if kind == "virtiofs":
            _virtiofs(build, fs, alias, tag)
        elif kind == "path":
            _ninep(build, fs, alias, tag)
        else:
            raise unsupported(f"filesystem driver type '{kind}' is not supported")


def _virtiofs(build: Build, fs: etree._Element, alias: str, tag: str | None) -> None:
    if fs.find("readonly") is not None:
        raise unsupported("virtiofs does not yet support read-only mode")
    driver = fs.find("driver")
    chardev = f"chr-vu-{alias}"
    socket = build.ctx.lib_dir / f"{alias}-fs.sock"
    build.add("-chardev", f"socket,id={chardev},path={escape(socket)}")
    props: dict[str, Any] = {
        "driver": "vhost-user-fs-pci",
        "id": alias,
        "chardev": chardev,
        "queue-size": attr_int(driver, "queue") or None,
        "tag": tag,
        "bootindex": build.bootindex(fs),
        **pci_props(build, fs),
    }
    build.add("-device", json_arg(props))


def _ninep(build: Build, fs: etree._Element, alias: str, tag: str | None) -> None:
    mode = fs.get("accessmode") or "passthrough"
    model = _SECURITY_MODELS.get(mode)
    if model is None:
        raise unsupported(f"filesystem accessmode '{mode}' is not supported")
    driver = fs.find("driver")
    policy = driver.get("wrpolicy") if driver is not None else None
    source = fs.find("source")
    path = source.get("dir") if source is not None else None
    if not path:
        raise unsupported("9p filesystem without a source directory")
    fsdev = f"fsdev-{alias}"
    option = keyval(
        "local",
        [
            ("security_model", model),
            ("writeout", policy),
            ("id", fsdev),
            ("path", path),
        ],
    )
    if fs.find("readonly") is not None:
        option += ",readonly"
    build.add("-fsdev", option)
    props = {
        "driver": "virtio-9p-pci",
        "id": alias,
        "fsdev": fsdev,
        "mount_tag": tag,
        **pci_props(build, fs),
    }
    build.add("-device", json_arg(props))


def build_redirdevs(build: Build) -> None:
    """Append each USB redirection channel: its chardev and ``usb-redir``."""
    for redir in build.devices.findall("redirdev"):
        alias = build.alias(redir)
        if redir.get("bus") not in (None, "usb"):
            raise unsupported(f"redirected device bus '{redir.get('bus')}' is not supported")
        chardev = f"char{alias}"
        build.add("-chardev", chardev_backend(build, redir, chardev))
        props: dict[str, Any] = {
            "driver": "usb-redir",
            "chardev": chardev,
            "id": alias,
            "filter": _redir_filter(build),
            "bootindex": build.bootindex(redir),
            **usb_props(build, redir),
        }
        build.add("-device", json_arg(props))


def _redir_filter(build: Build) -> str | None:
    """``<redirfilter>`` as usb-redir's rules: ``class:vendor:product:version:allow|...``."""
    try:
        return _filter_rules(build)
    except ValueError:
        raise InternalError(
            "cannot parse USB redirection filter", domain=ErrorDomain.QEMU
        ) from None


def _filter_rules(build: Build) -> str | None:
    rules = []
    for usbdev in build.devices.findall("redirfilter/usbdev"):
        fields = []
        for name, width in (("class", 2), ("vendor", 4), ("product", 4)):
            value = usbdev.get(name)
            fields.append("-1" if value is None else f"0x{int(value, 16):0{width}X}")
        version = usbdev.get("version")
        if version is None:
            fields.append("-1")
        else:
            major, _, minor = version.partition(".")
            fields.append(f"0x{int(major, 16):02X}{int(minor or '0', 16):02X}")
        fields.append("1" if usbdev.get("allow") == "yes" else "0")
        rules.append(":".join(fields))
    return "|".join(rules) or None


def build_hostdevs(build: Build) -> None:
    """Append each PCI (``vfio-pci``) and USB (``usb-host``) host device."""
    for hostdev in build.devices.findall("hostdev"):
        if hostdev.get("mode") not in (None, "subsystem"):
            raise unsupported(f"hostdev mode '{hostdev.get('mode')}' is not supported")
        kind = hostdev.get("type")
        alias = build.alias(hostdev)
        if kind == "pci":
            props = _pci_hostdev(build, hostdev, alias)
        elif kind == "usb":
            props = _usb_hostdev(build, hostdev, alias)
        else:
            raise unsupported(f"hostdev subsystem type '{kind}' is not supported")
        build.add("-device", json_arg(props))


def _pci_hostdev(build: Build, hostdev: etree._Element, alias: str) -> dict[str, Any]:
    driver = hostdev.find("driver")
    backend = driver.get("name") if driver is not None else None
    if backend not in (None, "vfio"):
        raise unsupported(f"PCI passthrough type '{backend}' is not supported")
    source = hostdev.find("source/address")
    if source is None:
        raise unsupported("PCI host device is missing its source address")
    host = (
        f"{attr_int(source, 'domain'):04x}:{attr_int(source, 'bus'):02x}:"
        f"{attr_int(source, 'slot'):02x}.{attr_int(source, 'function')}"
    )
    props: dict[str, Any] = {
        "driver": "vfio-pci",
        "host": host,
        "id": alias,
        "bootindex": build.bootindex(hostdev),
        **pci_props(build, hostdev),
    }
    props.update(rom_props(hostdev))
    return props


def _usb_hostdev(build: Build, hostdev: etree._Element, alias: str) -> dict[str, Any]:
    address = hostdev.find("source/address")
    if address is None or not address.get("bus") or not address.get("device"):
        raise InternalError(
            "USB host device is missing bus/device information", domain=ErrorDomain.QEMU
        )
    path = f"/dev/bus/usb/{attr_int(address, 'bus'):03d}/{attr_int(address, 'device'):03d}"
    return {
        "driver": "usb-host",
        "hostdevice": path,
        "id": alias,
        "bootindex": build.bootindex(hostdev),
        **usb_props(build, hostdev),
    }
