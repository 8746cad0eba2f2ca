"""One device's QEMU objects as QMP commands: what hot-plug sends to a running guest.

:func:`device_objects` returns, for one device of a domain, the QMP
commands that create it on a running QEMU, in the order they must run
(back-ends first, ``device_add`` last): ``blockdev-add`` for each node of a
disk's image chain, ``netdev_add`` for an interface's back-end,
``chardev-add`` for a character device's back-end, ``object-add`` for an
RNG back-end, then ``device_add``. The arguments are produced by the same
code that writes the command line (``-blockdev``/``-netdev``/``-device``
JSON is what the QMP commands take; the ``-chardev`` keyval text is
translated into ``chardev-add``'s ``ChardevBackend``), with the same ids:
the device's alias (:mod:`.aliases`) and the names derived from it
(``hostnet0``, ``charserial0``, ``objrng0``). A disk's nodes are numbered as
the full command line numbers them unless *node_number* gives the number of
its top image (hot-plug: the next number no node of the running guest uses).

:func:`undo_command` names the QMP command that removes what one of these
commands created, for the rollback of a failed hot-plug and for detaching
(``blockdev-del``, ``netdev_del``, ``chardev-remove``, ``object-del``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from lxml import etree

from virtcore.xml.domain import Domain
from virtcore_qemu.command.aliases import device_aliases
from virtcore_qemu.command.blockdev import node_numbers, write_blockdevs
from virtcore_qemu.command.chardev import chardev_objects
from virtcore_qemu.command.common import Build, unsupported
from virtcore_qemu.command.context import CapsLike, CommandContext
from virtcore_qemu.command.disks import frontend
from virtcore_qemu.command.escape import json_arg
from virtcore_qemu.command.machine import effective_boot_indexes
from virtcore_qemu.command.misc import rng_objects
from virtcore_qemu.command.net import interface_objects

__all__ = ["HOTPLUG_KINDS", "QMPCall", "device_objects", "undo_command"]

logger = logging.getLogger(__name__)

#: Device kinds :func:`device_objects` can create on a running guest.
HOTPLUG_KINDS = ("disk", "interface", "serial", "channel", "console", "parallel", "rng")


@dataclass(frozen=True)
class QMPCall:
    """One QMP command and its arguments."""

    command: str
    arguments: dict[str, Any]


def device_objects(
    domain: Domain,
    device: etree._Element,
    caps: CapsLike,
    ctx: CommandContext,
    *,
    node_number: int | None = None,
) -> list[QMPCall]:
    """The QMP commands creating *device* (an element of *domain*'s ``<devices>``).

    *domain* is through ``prepare_definition`` (the device has its address)
    and the device has its alias (or gets the one the full command line
    would give it). Raises ``ConfigUnsupportedError`` for device kinds that
    cannot be created this way and for what the command line cannot write.
    """
    root = domain.element
    if device.getparent() is None or device.getparent() is not root.find("devices"):
        raise unsupported(f"<{device.tag}> is not a device of domain '{root.findtext('name')}'")
    build = Build(root=root, caps=caps, ctx=ctx, argv=[], aliases=device_aliases(root))
    build.boot_index.update(effective_boot_indexes(build))
    tag = device.tag
    if tag == "disk":
        return _disk(build, device, node_number)
    if tag == "interface":
        netdev, props = interface_objects(build, device)
        return [_call("netdev_add", netdev), _call("device_add", props)]
    if tag in ("serial", "channel", "console", "parallel"):
        position = list(root.iterfind(f"devices/{tag}")).index(device)
        objects = chardev_objects(build, device, position)
        if objects is None:
            raise unsupported("a console that is a serial port cannot be added on its own")
        backend, props = objects
        return [
            QMPCall("chardev-add", chardev_add_arguments(backend)),
            QMPCall("device_add", props),
        ]
    if tag == "rng":
        obj, props = rng_objects(build, device)
        return [_call("object-add", obj), _call("device_add", props)]
    raise unsupported(f"device '{tag}' cannot be added to a running guest")


def _disk(build: Build, disk: etree._Element, node_number: int | None) -> list[QMPCall]:
    if node_number is None:
        node_number = next(number for node, number in node_numbers(build) if node is disk)
    drive = write_blockdevs(build, disk, node_number)
    calls = [
        QMPCall("blockdev-add", json.loads(value))
        for option, value in zip(build.argv[::2], build.argv[1::2], strict=True)
        if option == "-blockdev"
    ]
    calls.append(_call("device_add", frontend(build, disk, drive)))
    return calls


def _call(command: str, props: dict[str, Any]) -> QMPCall:
    """*command* with *props* exactly as the command line's JSON has them (``None`` dropped)."""
    return QMPCall(command, json.loads(json_arg(props)))


def undo_command(call: QMPCall) -> QMPCall:
    """The QMP command that removes what *call* created."""
    args = call.arguments
    if call.command == "blockdev-add":
        return QMPCall("blockdev-del", {"node-name": args["node-name"]})
    if call.command == "netdev_add":
        return QMPCall("netdev_del", {"id": args["id"]})
    if call.command == "chardev-add":
        return QMPCall("chardev-remove", {"id": args["id"]})
    if call.command == "object-add":
        return QMPCall("object-del", {"id": args["id"]})
    if call.command == "device_add":
        return QMPCall("device_del", {"id": args["id"]})
    raise unsupported(f"QMP command '{call.command}' cannot be undone")


def _split_keyval(text: str) -> list[str]:
    """*text* split at the commas that separate properties (``,,`` is a literal comma)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == ",":
            if text[index + 1 : index + 2] == ",":
                current.append(",")
                index += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def chardev_add_arguments(backend: str) -> dict[str, Any]:
    """``chardev-add``'s arguments for a ``-chardev`` value (``pty,id=charserial0``)."""
    kind, *pairs = _split_keyval(backend)
    props = dict(pair.split("=", 1) for pair in pairs)
    ident = props.pop("id")
    data: dict[str, Any]
    if kind in ("pty", "null"):
        data = {}
    elif kind == "file":
        data = {"out": props["path"], "append": _flag(props.get("append"))}
    elif kind == "socket":
        if "path" in props:
            addr: dict[str, Any] = {"type": "unix", "data": {"path": props["path"]}}
        else:
            host, port = props["host"], props["port"]
            addr = {"type": "inet", "data": {"host": host, "port": port}}
        data = {
            "addr": addr,
            "telnet": _flag(props.get("telnet")),
            "server": _flag(props.get("server")) or False,
            "wait": _flag(props.get("wait")),
        }
    elif kind == "udp":
        remote = {"host": props.get("host") or "localhost", "port": props.get("port") or "0"}
        data = {"remote": {"type": "inet", "data": remote}}
        if props.get("localaddr") or props.get("localport"):
            local = {"host": props.get("localaddr") or "", "port": props.get("localport") or "0"}
            data["local"] = {"type": "inet", "data": local}
    elif kind == "pipe":
        data = {"device": props["path"]}
    elif kind == "tty":
        kind, data = "serial", {"device": props["path"]}
    else:
        raise unsupported(f"character device back-end '{kind}' cannot be added to a running guest")
    clean = {key: value for key, value in data.items() if value is not None}
    return {"id": ident, "backend": {"type": kind, "data": clean}}
