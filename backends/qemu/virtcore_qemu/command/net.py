"""Interfaces: a ``-netdev`` back-end and a NIC ``-device`` front-end per ``<interface>``.

Back-ends: ``user`` is QEMU's built-in slirp (``{"type":"user"}``);
``ethernet``, ``bridge`` and ``network`` are tap devices. libvirt opens the
taps itself and passes file descriptors (``"fd":"N"``, ``"fds":"N:M"`` with
several queues); when the context supplies them (``CommandContext.tap_fds``,
keyed by the netdev id) this does the same. Without descriptors an
``ethernet`` interface names its tap (``ifname``, no scripts) and a
``bridge`` interface uses QEMU's bridge helper; a ``network`` interface
cannot be written without descriptors, the network driver decides its tap.

Front-ends: ``virtio`` -> ``virtio-net-pci``, ``e1000``, ``e1000e``,
``rtl8139`` (libvirt's default model), ... with ``netdev``, ``id``
(``net0``...), ``mac``, ``bootindex`` and the PCI address.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, pci_props, unsupported
from virtcore_qemu.command.escape import json_arg

__all__ = ["build_interfaces"]

logger = logging.getLogger(__name__)

_MODELS = {
    "virtio": "virtio-net-pci",
    "e1000": "e1000",
    "e1000e": "e1000e",
    "rtl8139": "rtl8139",
    "ne2k_pci": "ne2k_pci",
    "pcnet": "pcnet",
    "vmxnet3": "vmxnet3",
    "i82559er": "i82559er",
}


def build_interfaces(build: Build) -> None:
    """Append ``-netdev`` and ``-device`` for every interface."""
    for number, net in enumerate(build.devices.findall("interface")):
        netdev = f"hostnet{number}"
        build.add("-netdev", json_arg(_backend(build, net, netdev)))
        build.add("-device", json_arg(_frontend(build, net, netdev, number)))


def _backend(build: Build, net: etree._Element, netdev: str) -> dict[str, Any]:
    kind = net.get("type") or "user"
    fds = list(build.ctx.tap_fds.get(netdev, ()))
    if kind == "user":
        return {"type": "user", "id": netdev}
    if kind not in ("ethernet", "bridge", "network"):
        raise unsupported(f"interface type '{kind}' is not supported")
    if fds:
        props: dict[str, Any] = {"type": "tap"}
        if len(fds) == 1:
            props["fd"] = str(fds[0])
        else:
            props["fds"] = ":".join(str(fd) for fd in fds)
        props["id"] = netdev
        return props
    if kind == "ethernet":
        target = net.find("target")
        ifname = target.get("dev") if target is not None else None
        return {
            "type": "tap",
            "ifname": ifname,
            "script": "no",
            "downscript": "no",
            "id": netdev,
        }
    if kind == "bridge":
        source = net.find("source")
        bridge = source.get("bridge") if source is not None else None
        if not bridge:
            raise unsupported("bridge interface without a source bridge")
        return {"type": "bridge", "br": bridge, "id": netdev}
    raise unsupported("an interface of type 'network' needs a tap device from the network driver")


def _frontend(build: Build, net: etree._Element, netdev: str, number: int) -> dict[str, Any]:
    model_node = net.find("model")
    model = (model_node.get("type") if model_node is not None else None) or "rtl8139"
    driver = _MODELS.get(model)
    if driver is None:
        raise unsupported(f"interface model '{model}' is not supported")
    mac_node = net.find("mac")
    mac = mac_node.get("address") if mac_node is not None else None
    props: dict[str, Any] = {
        "driver": driver,
        "netdev": netdev,
        "id": f"net{number}",
        "mac": mac,
        "bootindex": build.bootindex(net),
    }
    props.update(pci_props(build, net))
    return props
