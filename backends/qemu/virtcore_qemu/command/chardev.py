"""Character devices: serial and parallel ports, channels (guest agent) and consoles.

Each device gets a ``-chardev`` back-end (``charserial0``,
``charchannel0``, ``charconsole1``...) and a front-end ``-device``:
``isa-serial`` with its port ``index``; ``isa-parallel``; ``virtserialport`` on
``virtio-serialN.0`` with ``nr`` and ``name``; ``virtconsole``. A console
whose target is a serial port is that serial port and adds nothing.

Back-ends: ``pty``, ``file`` (``path``, ``append``), ``unix`` (``path``;
``server=on,wait=off`` in bind mode, the default), ``tcp`` (``host``,
``port``, ``server``/``wait`` in bind mode, ``telnet``), ``null``, ``udp``,
``pipe`` and ``dev``. A ``unix`` channel without a path listens under
``CommandContext.chardev_dir`` on a socket named after the channel
(``org.qemu.guest_agent.0``), like libvirt's per-domain channel directory.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, unsupported
from virtcore_qemu.command.controllers import controller_alias
from virtcore_qemu.command.escape import json_arg, keyval

__all__ = [
    "build_channels",
    "build_consoles",
    "build_parallels",
    "build_serials",
    "chardev_backend",
    "chardev_objects",
]

logger = logging.getLogger(__name__)


def chardev_backend(build: Build, node: etree._Element, chardev_id: str) -> str:
    """The ``-chardev`` value of device *node* (``pty,id=charserial0``)."""
    kind = node.get("type") or "pty"
    source = node.find("source")
    bind = source is None or (source.get("mode") or "bind") == "bind"
    pairs: list[tuple[str, object | None]] = [("id", chardev_id)]
    if kind in ("pty", "null", "vc", "stdio"):
        if kind in ("vc", "stdio"):
            raise unsupported(f"character device type '{kind}' is not supported")
        return keyval(kind, pairs)
    if kind == "file":
        path = source.get("path") if source is not None else None
        if not path:
            raise unsupported("file character device without a source path")
        append = source.get("append") if source is not None else None
        pairs += [("path", path), ("append", None if append is None else append == "on")]
        return keyval("file", pairs)
    if kind == "unix":
        path = source.get("path") if source is not None else None
        if not path:
            target = node.find("target")
            name = target.get("name") if target is not None else None
            if not name:
                raise unsupported("unix character device without a source path")
            path = str(build.ctx.chardev_dir / name)
        pairs.append(("path", path))
        if bind:
            pairs += [("server", True), ("wait", False)]
        return keyval("socket", pairs)
    if kind == "tcp":
        host = source.get("host") if source is not None else None
        service = source.get("service") if source is not None else None
        protocol = node.find("protocol")
        telnet = protocol is not None and protocol.get("type") == "telnet"
        pairs += [("host", host or "localhost"), ("port", service)]
        if telnet:
            pairs.append(("telnet", True))
        if bind:
            pairs += [("server", True), ("wait", False)]
        return keyval("socket", pairs)
    if kind == "udp":
        sources = node.findall("source")
        connect = next((s for s in sources if s.get("mode") == "connect"), None)
        local = next((s for s in sources if s.get("mode") == "bind"), None)
        pairs += [
            ("host", connect.get("host") if connect is not None else None),
            ("port", connect.get("service") if connect is not None else None),
            ("localaddr", local.get("host") if local is not None else None),
            ("localport", local.get("service") if local is not None else None),
        ]
        return keyval("udp", pairs)
    if kind in ("pipe", "dev"):
        path = source.get("path") if source is not None else None
        if not path:
            raise unsupported(f"{kind} character device without a source path")
        backend = "pipe" if kind == "pipe" else "tty"
        return keyval(backend, [*pairs, ("path", path)])
    raise unsupported(f"character device type '{kind}' is not supported")


def build_serials(build: Build) -> None:
    """Append the serial ports (``isa-serial``)."""
    for number, serial in enumerate(build.devices.findall("serial")):
        _add(build, chardev_objects(build, serial, number))


def build_parallels(build: Build) -> None:
    """Append the parallel ports (``isa-parallel``)."""
    for number, parallel in enumerate(build.devices.findall("parallel")):
        _add(build, chardev_objects(build, parallel, number))


def build_channels(build: Build) -> None:
    """Append the channels (``virtserialport`` on a virtio-serial controller)."""
    for number, channel in enumerate(build.devices.findall("channel")):
        _add(build, chardev_objects(build, channel, number))


def build_consoles(build: Build) -> None:
    """Append the consoles that are not a serial port (``virtconsole``)."""
    for number, console in enumerate(build.devices.findall("console")):
        objects = chardev_objects(build, console, number)
        if objects is not None:
            _add(build, objects)


def _add(build: Build, objects: tuple[str, dict[str, Any]] | None) -> None:
    assert objects is not None
    backend, props = objects
    build.add("-chardev", backend)
    build.add("-device", json_arg(props))


def chardev_objects(
    build: Build, node: etree._Element, number: int
) -> tuple[str, dict[str, Any]] | None:
    """The ``-chardev`` value and the ``-device`` properties of character device *node*.

    *number* is its position among its kind (a serial port's default port
    index, a channel's default port number). ``None`` for a console that is
    a serial port (nothing of its own on the command line).
    """
    alias = build.alias(node)
    chardev = f"char{alias}"
    target = node.find("target")
    props: dict[str, Any]
    if node.tag == "serial":
        kind = target.get("type") if target is not None else None
        model_node = target.find("model") if target is not None else None
        model = model_node.get("name") if model_node is not None else None
        if kind not in (None, "isa-serial") or model not in (None, "isa-serial"):
            raise unsupported(f"serial target type '{kind or model}' is not supported")
        port = attr_int(target, "port", number)
        props = {"driver": "isa-serial", "chardev": chardev, "id": alias, "index": port}
    elif node.tag == "parallel":
        props = {"driver": "isa-parallel", "chardev": chardev, "id": alias}
    elif node.tag == "channel":
        if target is None or target.get("type") != "virtio":
            kind = target.get("type") if target is not None else None
            raise unsupported(f"channel target type '{kind}' is not supported")
        address = node.find("address")
        serial_bus = controller_alias(build, "virtio-serial", attr_int(address, "controller"))
        props = {
            "driver": "virtserialport",
            "bus": f"{serial_bus}.{attr_int(address, 'bus')}",
            "nr": attr_int(address, "port", number + 1),
            "chardev": chardev,
            "id": alias,
            "name": target.get("name"),
        }
    elif node.tag == "console":
        kind = (target.get("type") if target is not None else None) or "serial"
        if kind == "serial":
            return None
        if kind != "virtio":
            raise unsupported(f"console target type '{kind}' is not supported")
        props = {"driver": "virtconsole", "chardev": chardev, "id": alias}
    else:
        raise unsupported(f"character device '{node.tag}' is not supported")
    return chardev_backend(build, node, chardev), props
