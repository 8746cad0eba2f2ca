"""The host side of character devices: ``type``, ``<source>``, ``<protocol>`` and ``<log>``.

A :class:`ChrSourceDef` is what a serial port, parallel port, console or
channel (:mod:`virtcore.xml.domain.devices.chardev`) connects to on the
host - a pty, a file, a TCP or UDP endpoint, a UNIX socket, a SPICE port
and so on - and is shared with the smartcard passthrough, the RNG ``egd``
backend and the external TPM. Parsing (``virDomainChrSourceDefParseXML``),
the checks of ``virDomainChrSourceDefValidate`` and the output
(``virDomainChrSourceDefFormat``) live here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    DeviceContext,
    Seclabel,
    child,
    children,
    element,
    fail,
    field_defaults,
    onoff,
    optional_element,
    prop,
    prop_enum,
    prop_switch,
    prop_tristate,
    prop_uint,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

if TYPE_CHECKING:
    from virtcore.xml.domain.devices.chardev import ChrDef

__all__ = [
    "CHR_TYPES",
    "MOUSE_MODES",
    "TCP_PROTOCOLS",
    "ChrSourceDef",
    "chr_type",
    "new_source",
]

logger = logging.getLogger(__name__)

CHR_TYPES = (
    "null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
    "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus",
)  # fmt: skip
"""``virDomainChrType``: what the host connects the device to."""
TCP_PROTOCOLS = ("raw", "telnet", "telnets", "tls")
MOUSE_MODES = ("default", "server", "client")
_CHANNEL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass
class ChrSourceDef:
    """The host side of a character device (``virDomainChrSourceDef``)."""

    type: str = "pty"
    path: str | None = None
    append: bool | None = None
    listen: bool = False
    host: str | None = None
    service: str | None = None
    tls: bool | None = None
    reconnect: bool | None = None
    reconnect_timeout: int = 0
    protocol: str = "raw"
    bind_host: str | None = None
    bind_service: str | None = None
    connect_host: str | None = None
    connect_service: str | None = None
    channel: str | None = None
    master: str | None = None
    slave: str | None = None
    clipboard: bool | None = None
    mouse: str | None = None
    logfile: str | None = None
    logappend: bool | None = None
    seclabels: list[Seclabel] = field(default_factory=list)

    @classmethod
    def parse(
        cls, node: etree._Element, kind: str, ctx: DeviceContext, *, seclabels: bool = False
    ) -> ChrSourceDef:
        """``virDomainChrSourceDefParseXML`` for the children of *node*, of type *kind*.

        *seclabels* reads ``<seclabel>`` overrides inside ``<source>`` (only
        the four character devices have them).
        """
        src = new_source(kind) if cls is ChrSourceDef else cls(type=kind)
        if not len(node):
            return src  # no child element: no source, log or protocol to read
        sources = children(node, "source")
        if len(sources) > 1 and kind != "udp":
            fail(
                ErrorNumber.XML_ERROR,
                "only one source element is allowed for character device",
            )
        if len(sources) > 2:
            fail(
                ErrorNumber.XML_ERROR,
                "only two source elements are allowed for character device",
            )
        if sources:
            src._parse_source(sources, ctx)
            if seclabels:
                src.seclabels = Seclabel.parse_all(sources[0], ctx.inactive)
        logs = children(node, "log")
        if len(logs) > 1:
            fail(ErrorNumber.XML_ERROR, "only one log element is allowed for character device")
        if logs:
            src.logfile = prop(logs[0], "file")
            src.logappend = prop_switch(logs[0], "append")
        protocols = children(node, "protocol")
        if len(protocols) > 1:
            fail(
                ErrorNumber.XML_ERROR,
                "only one protocol element is allowed for character device",
            )
        if protocols and kind == "tcp":
            protocol = prop(protocols[0], "type")
            if protocol is not None:
                if protocol not in TCP_PROTOCOLS:
                    fail(ErrorNumber.CONFIG_UNSUPPORTED, f"Unknown protocol '{protocol}'")
                src.protocol = protocol
        return src

    def _parse_source(self, sources: Sequence[etree._Element], ctx: DeviceContext) -> None:
        first = sources[0]
        kind = self.type
        if kind == "file":
            self.path = prop(first, "path")
            self.append = prop_switch(first, "append")
        elif kind == "pty":
            # A pty's path is only read from live XML.
            if not ctx.inactive:
                self.path = prop(first, "path")
        elif kind in ("dev", "pipe"):
            self.path = prop(first, "path")
        elif kind == "unix":
            self.listen = _mode(first) == "bind"
            self.path = prop(first, "path")
            self._parse_reconnect(first)
        elif kind == "udp":
            for source in sources:
                self._parse_udp(source)
        elif kind == "tcp":
            self.listen = _mode(first) == "bind"
            self.host = prop(first, "host")
            self.service = prop(first, "service")
            self.tls = prop_tristate(first, "tls")
            self._parse_reconnect(first)
        elif kind in ("spiceport", "dbus"):
            self.channel = prop(first, "channel")
        elif kind == "nmdm":
            self.master = prop(first, "master")
            self.slave = prop(first, "slave")
        elif kind == "qemu-vdagent":
            clipboard = child(first, "clipboard")
            if clipboard is not None:
                self.clipboard = prop_tristate(clipboard, "copypaste", required=True)
            mouse = child(first, "mouse")
            if mouse is not None:
                self.mouse = prop_enum(mouse, "mode", MOUSE_MODES, required=True, nonzero=True)

    def _parse_udp(self, source: etree._Element) -> None:
        mode = _mode(source)
        if mode == "connect" and self.connect_host is None and self.connect_service is None:
            self.connect_host = prop(source, "host")
            self.connect_service = prop(source, "service")
        elif mode == "bind" and self.bind_host is None and self.bind_service is None:
            self.bind_host = prop(source, "host")
            self.bind_service = prop(source, "service")

    def _parse_reconnect(self, source: etree._Element) -> None:
        reconnect = child(source, "reconnect")
        if reconnect is None:
            return
        self.reconnect = prop_tristate(reconnect, "enabled")
        if self.reconnect:
            self.reconnect_timeout = prop_uint(reconnect, "timeout", required=True) or 0

    def same_as(self, other: ChrSourceDef) -> bool:
        """``virDomainChrSourceDefIsEqual``: whether both connect the same host side."""
        if self.type != other.type:
            return False
        kind = self.type
        if kind == "file":
            return self.append == other.append and self.path == other.path
        if kind in ("pty", "dev", "pipe"):
            return self.path == other.path
        if kind == "nmdm":
            return (self.master, self.slave) == (other.master, other.slave)
        if kind == "udp":
            mine = (self.bind_host, self.bind_service, self.connect_host, self.connect_service)
            theirs = (
                other.bind_host,
                other.bind_service,
                other.connect_host,
                other.connect_service,
            )
            return mine == theirs
        if kind in ("tcp", "unix"):
            common = (
                self.listen == other.listen
                and self.reconnect == other.reconnect
                and self.reconnect_timeout == other.reconnect_timeout
            )
            if kind == "unix":
                return common and self.path == other.path
            return (
                common
                and self.protocol == other.protocol
                and (self.host, self.service) == (other.host, other.service)
            )
        if kind in ("spiceport", "dbus"):
            return self.channel == other.channel
        if kind == "qemu-vdagent":
            return (self.clipboard, self.mouse) == (other.clipboard, other.mouse)
        return True

    def validate(self, ctx: DeviceContext, device: ChrDef | None = None) -> None:
        """``virDomainChrSourceDefValidate``; *device* is the character device, if any."""
        kind = self.type
        if kind == "pty" and not self.seclabels:
            return  # the usual console: none of the checks below concerns a pty
        if kind in ("file", "dev", "pipe") and self.path is None:
            fail(ErrorNumber.INTERNAL_ERROR, "Missing source path attribute for char device")
        if kind == "nmdm" and (self.master is None) != (self.slave is None):
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "Should define both master and slave path attributes for nmdm device",
            )
        if kind == "tcp":
            if self.host is None:
                fail(ErrorNumber.INTERNAL_ERROR, "Missing source host attribute for char device")
            if self.service is None:
                fail(
                    ErrorNumber.INTERNAL_ERROR,
                    "Missing source service attribute for char device",
                )
        if kind == "udp" and self.connect_service is None:
            fail(ErrorNumber.INTERNAL_ERROR, "Missing source service attribute for char device")
        if kind == "unix" and self.path is None:
            # Only virtio and xen channels may have their socket path made up.
            auto_path = (
                device is not None
                and device.device_type == "channel"
                and device.target_type in ("xen", "virtio")
            )
            if not auto_path:
                fail(ErrorNumber.INTERNAL_ERROR, "Missing source path attribute for char device")
        if kind in ("tcp", "unix") and self.listen and self.reconnect is not None:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "chardev reconnect is possible only for connect mode",
            )
        if kind in ("spiceport", "dbus"):
            if self.channel is None:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "Missing source channel attribute for char device",
                )
            if not set(self.channel) <= _CHANNEL_NAME_CHARS:
                fail(
                    ErrorNumber.INVALID_ARG,
                    "Invalid character in source channel for char device",
                )
        for label in self.seclabels:
            if ctx.seclabel_relabel.get(label.model or "") is False:
                fail(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    "label overrides require relabeling to be enabled at the domain level",
                )

    def elements(self, flags: int) -> list[OutNode]:
        """``virDomainChrSourceDefFormat``: ``<source>``, ``<protocol>`` and ``<log>``."""
        kind = self.type
        if kind == "pty" and self.logfile is None and (self.path is None or flags & INACTIVE):
            return []  # the usual pty: nothing to write on the host side
        out: list[OutNode | None] = []
        attrs: list[tuple[str, str | int | None]]
        if kind == "qemu-vdagent":
            kids = []
            if self.clipboard is not None:
                kids.append(element("clipboard", [("copypaste", yesno(self.clipboard))]))
            if self.mouse is not None:
                kids.append(element("mouse", [("mode", self.mouse)]))
            out.append(optional_element("source", (), kids))
        elif kind in ("pty", "dev", "file", "pipe"):
            if kind != "pty" or (self.path is not None and not flags & INACTIVE):
                append = onoff(self.append) if kind == "file" else None
                out.append(
                    optional_element(
                        "source",
                        [("path", self.path), ("append", append)],
                        [label.to_element(flags) for label in self.seclabels],
                    )
                )
        elif kind == "nmdm":
            out.append(element("source", [("master", self.master), ("slave", self.slave)]))
        elif kind == "udp":
            if self.bind_service is not None or self.bind_host is not None:
                attrs = [("mode", "bind"), ("host", self.bind_host)]
                out.append(element("source", [*attrs, ("service", self.bind_service)]))
            if self.connect_service is not None or self.connect_host is not None:
                attrs = [("mode", "connect"), ("host", self.connect_host)]
                out.append(element("source", [*attrs, ("service", self.connect_service)]))
        elif kind == "tcp":
            # libvirt hides tls only for a value taken from its own
            # configuration, which a defined domain never has.
            attrs = [
                ("mode", "bind" if self.listen else "connect"),
                ("host", self.host),
                ("service", self.service),
                ("tls", yesno(self.tls)),
            ]
            out.append(element("source", attrs, [self._reconnect()]))
            out.append(element("protocol", [("type", self.protocol)]))
        elif kind == "unix":
            if self.path is not None:
                attrs = [("mode", "bind" if self.listen else "connect"), ("path", self.path)]
                labels = [label.to_element(flags) for label in self.seclabels]
                out.append(element("source", attrs, [*labels, self._reconnect()]))
        elif kind in ("spiceport", "dbus"):
            out.append(element("source", [("channel", self.channel)]))
        if self.logfile is not None:
            out.append(element("log", [("file", self.logfile), ("append", onoff(self.logappend))]))
        return [e for e in out if e is not None]

    def _reconnect(self) -> OutNode | None:
        if self.reconnect is None:
            return None
        timeout = self.reconnect_timeout if self.reconnect else None
        return element("reconnect", [("enabled", yesno(self.reconnect)), ("timeout", timeout)])


def _mode(source: etree._Element) -> str:
    mode = prop(source, "mode")
    if mode is None:
        return "connect"
    if mode not in ("connect", "bind"):
        fail(
            ErrorNumber.XML_ERROR,
            f"Invalid value for attribute 'mode' in element 'source': '{mode}'.",
            ErrorDomain.XML,
        )
    return mode


def chr_type(node: etree._Element, attribute: str = "type") -> str:
    """The character device type of *node* (``pty`` when absent), checked."""
    kind = prop(node, attribute)
    if kind is None:
        return "pty"
    if kind not in CHR_TYPES:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"unknown type presented to host for character device: {kind}",
        )
    return kind


_SOURCE_TEMPLATE = field_defaults(ChrSourceDef)
_new_object = object.__new__


def new_source(kind: str) -> ChrSourceDef:
    """``ChrSourceDef(type=kind)``, without running the dataclass ``__init__`` (every
    character device has one): the fields copied at once from their defaults."""
    source = _new_object(ChrSourceDef)
    values = _SOURCE_TEMPLATE.copy()
    values["type"] = kind
    values["seclabels"] = []
    source.__dict__ = values
    return source
