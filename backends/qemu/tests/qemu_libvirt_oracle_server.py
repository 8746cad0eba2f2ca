"""The request server of the qemu oracle: python3-libvirt behind JSON lines.

Run by ``/usr/bin/python3`` (which has python3-libvirt) as
``qemu_libvirt_oracle_server.py SOCKET``; started and spoken to by
``qemu_libvirt_oracle.QemuOracle``. It holds one connection to the private
daemon at ``qemu:///system?socket=SOCKET``, reads one JSON request per line on
stdin (``{"op": NAME, ...arguments}``) and writes one JSON reply per line:
``{"result": ...}`` or ``{"error": [code, domain, message]}`` for a libvirt
error. It exits when stdin closes. Holding the connection keeps the daemon's
idle timeout from expiring while a test session still needs it.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO


def _lines(stream: TextIO) -> Iterator[str]:
    while True:
        line = stream.readline()
        if not line:
            return
        yield line


def serve(socket: str, requests: TextIO, replies: TextIO) -> None:
    """Answer requests from *requests* on *replies* until end of input."""
    libvirt: Any = importlib.import_module("libvirt")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open(f"qemu:///system?socket={socket}")

    def define_and_dump(xml: str, inactive: bool) -> str:
        dom = conn.defineXML(xml)
        try:
            flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
            text: str = dom.XMLDesc(flags)
            return text
        finally:
            dom.undefine()

    operations: dict[str, Callable[..., Any]] = {
        "ping": conn.getVersion,
        "define_and_dump": define_and_dump,
        "to_native": lambda xml: conn.domainXMLToNative("qemu-argv", xml, 0),
        "capabilities": conn.getCapabilities,
        "domcaps": lambda emulator, arch, machine, virttype: conn.getDomainCapabilities(
            emulator or None, arch or None, machine or None, virttype or None, 0
        ),
    }
    try:
        for line in _lines(requests):
            request = json.loads(line)
            op = operations[request.pop("op")]
            try:
                reply: dict[str, Any] = {"result": op(**request)}
            except libvirt.libvirtError as exc:
                reply = {
                    "error": [
                        exc.get_error_code(),
                        exc.get_error_domain(),
                        exc.get_error_message(),
                    ]
                }
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin, sys.stdout)
