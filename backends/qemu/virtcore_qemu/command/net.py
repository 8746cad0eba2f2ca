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
(``net0``...), ``mac``, ``bootindex``, the PCI address and the ``<rom>``
(``rombar``, ``romfile``). The NIC's id is its alias (``net0``...), the
back-end's ``host`` + alias (``hostnet0``). A virtio NIC first gets its ``<driver>`` options:
``mq`` and ``vectors`` (2 per queue + 2) with several queues (one tap
descriptor each), ``rx_queue_size``/``tx_queue_size``, and ``host_mtu``
from ``<mtu>``.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported
from virtcore_qemu.command.escape import json_arg

__all__ = ["build_interfaces", "interface_objects", "rom_props"]

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
    for net in build.devices.findall("interface"):
        netdev_props, device_props = interface_objects(build, net)
        build.add("-netdev", json_arg(netdev_props))
        build.add("-device", json_arg(device_props))


def interface_objects(build: Build, net: etree._Element) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``-netdev`` and ``-device`` properties of *net* (``hostNET-ALIAS``, ``NET-ALIAS``)."""
    alias = build.alias(net)
    netdev = f"host{alias}"
    return _backend(build, net, netdev), _frontend(build, net, netdev, alias)


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


def _frontend(build: Build, net: etree._Element, netdev: str, alias: str) -> dict[str, Any]:
    model_node = net.find("model")
    model = (model_node.get("type") if model_node is not None else None) or "rtl8139"
    driver = _MODELS.get(model)
    if driver is None:
        raise unsupported(f"interface model '{model}' is not supported")
    mac_node = net.find("mac")
    mac = mac_node.get("address") if mac_node is not None else None
    props: dict[str, Any] = {"driver": driver}
    if model == "virtio":
        props.update(_virtio_options(build, net, netdev))
    elif net.find("mtu") is not None:
        raise unsupported(f"setting MTU is not supported for interface model '{model}'")
    props.update({"netdev": netdev, "id": alias, "mac": mac, "bootindex": build.bootindex(net)})
    props.update(pci_props(build, net))
    props.update(rom_props(net))
    return props


def _virtio_options(build: Build, net: etree._Element, netdev: str) -> dict[str, Any]:
    """Multiqueue, ring sizes and the host MTU of a virtio NIC (before its netdev)."""
    driver = net.find("driver")
    if driver is not None and driver.get("name") == "vhost":
        raise unsupported("vhost-net is not supported by the QEMU command line")
    queues = attr_int(driver, "queues", 1)
    props: dict[str, Any] = {}
    if queues > 1:
        if (net.get("type") or "user") == "user":
            raise unsupported(
                f"interface {_mac(net)} - multiqueue is not supported for network "
                "interfaces of type user"
            )
        fds = build.ctx.tap_fds.get(netdev, ())
        if len(fds) != queues:
            raise unsupported(f"interface {_mac(net)} needs {queues} tap devices, got {len(fds)}")
        # Two vectors per queue pair, one for config changes, one for control.
        props.update({"mq": True, "vectors": 2 * queues + 2})
    props["rx_queue_size"] = attr_int(driver, "rx_queue_size") or None
    props["tx_queue_size"] = attr_int(driver, "tx_queue_size") or None
    mtu = net.find("mtu")
    if mtu is not None:
        if (net.get("type") or "user") == "user":
            raise unsupported("setting MTU on interface type user is not supported yet")
        props["host_mtu"] = attr_int(mtu, "size")
    return props


def _mac(net: etree._Element) -> str:
    node = net.find("mac")
    return (node.get("address") if node is not None else None) or ""


def rom_props(device: etree._Element) -> dict[str, Any]:
    """``rombar``/``romfile`` of a PCI device's ``<rom>`` (``romfile`` empty: no ROM)."""
    rom = device.find("rom")
    if rom is None:
        return {}
    props: dict[str, Any] = {}
    if rom.get("bar") in ("on", "off"):
        props["rombar"] = 1 if rom.get("bar") == "on" else 0
    if rom.get("enabled") == "no":
        props["romfile"] = ""
    elif rom.get("file"):
        props["romfile"] = rom.get("file")
    return props
