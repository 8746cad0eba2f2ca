"""The ``<graphics>`` device: how the guest's display is shown (VNC, SPICE, SDL, RDP, ...).

::

    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='secret'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <graphics type='spice' autoport='yes' defaultMode='secure'>
      <listen type='network' network='default'/>
      <channel name='main' mode='secure'/>
      <image compression='auto_glz'/>
      <gl enable='yes' rendernode='/dev/dri/renderD128'/>
    </graphics>
    <graphics type='egl-headless'>
      <gl rendernode='/dev/dri/renderD128'/>
    </graphics>

What libvirt does on define and this module reproduces:

* ``port='-1'`` (or no port) means ``autoport='yes'``, and an automatic
  port is forgotten (written back as ``port='-1'`` for VNC, ``port='0'``
  for RDP, not at all for SPICE);
* every VNC, SPICE and RDP display has at least one ``<listen>``: the
  legacy ``listen``/``socket`` attributes become the first one, and the
  first listen address is also written as the ``listen`` attribute;
* a SPICE display with no ports and ``autoport='no'`` listens nowhere
  (``<listen type='none'/>``);
* the password is written only with ``VIR_DOMAIN_XML_SECURE``; its expiry
  time is normalised to ``YYYY-MM-DDTHH:MM:SS`` (UTC).

Graphics devices have no address nor alias.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import XMLChildList, XMLNode, XMLProperty
from virtcore.xml.domain.devices.sound import check_audio_id
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    MIGRATABLE,
    SECURE,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    children,
    element,
    fail,
    field_defaults,
    onoff,
    prop,
    prop_enum,
    prop_int,
    prop_switch,
    prop_tristate,
    prop_uint,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["LISTEN_TYPES", "TYPES", "Graphics", "GraphicsDef", "Listen", "ListenDef"]

logger = logging.getLogger(__name__)

TYPES = ("sdl", "vnc", "rdp", "desktop", "spice", "egl-headless", "dbus")
"""``virDomainGraphicsType``."""
LISTEN_TYPES = ("none", "address", "network", "socket")
"""``virDomainGraphicsListenType``."""
AUTH_CONNECTED = ("default", "fail", "disconnect", "keep")
SHARE_POLICIES = ("default", "allow-exclusive", "force-shared", "ignore")
CHANNEL_NAMES = (
    "main", "display", "inputs", "cursor", "playback", "record", "smartcard", "usbredir",
)  # fmt: skip
CHANNEL_MODES = ("any", "secure", "insecure")
IMAGE_COMPRESSION = ("default", "auto_glz", "auto_lz", "quic", "glz", "lz", "off")
JPEG_COMPRESSION = ("default", "auto", "never", "always")
ZLIB_COMPRESSION = ("default", "auto", "never", "always")
STREAMING_MODES = ("default", "filter", "all", "off")
MOUSE_MODES = ("default", "server", "client")
VNC_CLOSING_INDENT = 4
"""Indentation of ``</graphics>`` inside a domain document."""
_NUM = r"([ \t\n\v\f\r]*[+-]?[0-9]+)"
_VALID_TO = re.compile(rf"{_NUM}-{_NUM}-{_NUM}T{_NUM}:{_NUM}:{_NUM}\Z")


@dataclass
class ListenDef:
    """A parsed ``<listen>`` (``virDomainGraphicsListenDef``)."""

    type: str = "address"
    address: str | None = None
    network: str | None = None
    socket: str | None = None

    def to_element(self, flags: int) -> OutNode:
        """``virDomainGraphicsListenDefFormat``."""
        address = None
        if self.type == "address" or (self.type == "network" and not flags & INACTIVE):
            address = self.address
        return element(
            "listen",
            [
                ("type", self.type),
                ("address", address),
                ("network", self.network if self.type == "network" else None),
                ("socket", self.socket if self.type == "socket" else None),
            ],
        )


@dataclass
class GraphicsDef(DeviceDef):
    """A parsed ``<graphics>`` (``virDomainGraphicsDef``)."""

    type: str
    listens: list[ListenDef] = field(default_factory=list)
    port: int = 0
    tls_port: int = 0
    autoport: bool = False
    websocket: int = 0
    websocket_generated: bool = False
    share_policy: str | None = None
    power_control: bool | None = None
    keymap: str | None = None
    audio_id: int = 0
    passwd: str | None = None
    valid_to: str | None = None
    connected: str | None = None
    fullscreen: bool = False
    xauth: str | None = None
    display: str | None = None
    gl: bool | None = None
    rendernode: str | None = None
    replace_user: bool = False
    multi_user: bool = False
    default_mode: str = "any"
    channels: dict[str, str] = field(default_factory=dict)
    spice_options: dict[str, str] = field(default_factory=dict)
    p2p: bool = False
    address: str | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainDefPostParseGraphics``: a SPICE display without ports listens nowhere."""
        if self.type != "spice" or not self.listens:
            return
        first = self.listens[0]
        if first.type == "address" and not self.port and not self.tls_port and not self.autoport:
            first.type = "none"
            first.address = None

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainGraphicsDefValidate``."""
        if self.type in ("vnc", "spice", "rdp"):
            for listen in self.listens:
                if listen.type == "network" and listen.network is None:
                    fail(
                        ErrorNumber.XML_ERROR,
                        "'network' attribute is required for listen type 'network'",
                    )
        if self.type == "vnc":
            check_audio_id(ctx, self.audio_id)
        elif self.type == "dbus" and self.p2p and self.address is not None:
            fail(ErrorNumber.XML_ERROR, "D-Bus p2p with an address is not supported")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainGraphicsDefFormat``."""
        attrs: list[tuple[str, str | int | None]] = [("type", self.type)]
        kids: list[OutNode | None] = []
        first = self.listens[0] if self.listens else None
        kind = self.type
        if kind == "vnc":
            attrs += self._vnc_attrs(first, flags)
        elif kind == "sdl":
            attrs += [("display", self.display), ("xauth", self.xauth)]
            attrs.append(("fullscreen", "yes" if self.fullscreen else None))
            if self.gl is not None:
                kids.append(element("gl", [("enable", yesno(self.gl))]))
        elif kind == "rdp":
            port = self.port or (0 if self.autoport else None)
            attrs += [
                ("port", port),
                ("autoport", "yes" if self.autoport else None),
                ("replaceUser", "yes" if self.replace_user else None),
                ("multiUser", "yes" if self.multi_user else None),
                ("listen", _listen_attr(first, flags)),
            ]
        elif kind == "desktop":
            attrs += [("display", self.display), ("fullscreen", "yes" if self.fullscreen else None)]
        elif kind == "spice":
            attrs += self._spice_attrs(first, flags)
        elif kind == "egl-headless":
            if self.rendernode is not None:
                kids.append(element("gl", [("rendernode", self.rendernode)]))
        elif kind == "dbus":
            attrs += [("p2p", "yes" if self.p2p else None), ("address", self.address)]
            if self.gl is not None:
                kids.append(
                    element("gl", [("enable", yesno(self.gl)), ("rendernode", self.rendernode)])
                )
            if self.audio_id > 0:
                kids.append(element("audio", [("id", self.audio_id)]))
        for listen in self.listens:
            if flags & MIGRATABLE and (
                (kind == "vnc" and listen.type == "socket" and listen.socket is not None)
                or (kind == "spice" and listen.type == "none")
            ):
                continue
            kids.append(listen.to_element(flags))
        if kind == "spice":
            kids += self._spice_children()
        if kind == "vnc" and self.audio_id > 0:
            kids.append(element("audio", [("id", self.audio_id)]))
        node = element("graphics", attrs, kids)
        if kind == "vnc" and not len(node):
            # libvirt always opens a VNC element; with nothing inside (a user
            # socket in migratable XML) the closing tag lands on its own line,
            # indented for <domain><devices><graphics>.
            node.text = "\n" + " " * VNC_CLOSING_INDENT
        return node

    def _auth_attrs(self, flags: int) -> list[tuple[str, str | int | None]]:
        if self.passwd is None:
            return []
        return [
            ("passwd", self.passwd if flags & SECURE else None),
            ("passwdValidTo", self.valid_to),
            ("connected", self.connected),
        ]

    def _vnc_attrs(self, first: ListenDef | None, flags: int) -> list[tuple[str, str | int | None]]:
        attrs: list[tuple[str, str | int | None]] = []
        if first is not None and first.type == "socket":
            attrs.append(("socket", first.socket))
        elif first is not None and first.type in ("address", "network"):
            port: int | None = None
            if self.port and (not self.autoport or not flags & INACTIVE):
                port = self.port
            elif self.autoport:
                port = -1
            websocket: int | None = self.websocket or None
            if self.websocket_generated and flags & INACTIVE:
                websocket = -1
            attrs += [
                ("port", port),
                ("autoport", "yes" if self.autoport else "no"),
                ("websocket", websocket),
                ("listen", _listen_attr(first, flags)),
            ]
        share = None if self.share_policy in (None, "default") else self.share_policy
        attrs += [
            ("keymap", self.keymap),
            ("sharePolicy", share),
            ("powerControl", yesno(self.power_control)),
            *self._auth_attrs(flags),
        ]
        return attrs

    def _spice_attrs(
        self, first: ListenDef | None, flags: int
    ) -> list[tuple[str, str | int | None]]:
        attrs: list[tuple[str, str | int | None]] = []
        if first is not None and first.type in ("address", "network"):
            attrs += [
                ("port", self.port or None),
                ("tlsPort", self.tls_port or None),
                ("autoport", "yes" if self.autoport else "no"),
                ("listen", _listen_attr(first, flags)),
            ]
        elif first is not None and first.type == "none" and flags & MIGRATABLE:
            attrs.append(("autoport", "no"))
        default_mode = None if self.default_mode == "any" else self.default_mode
        attrs += [("keymap", self.keymap), ("defaultMode", default_mode)]
        return attrs + self._auth_attrs(flags)

    def _spice_children(self) -> list[OutNode | None]:
        kids: list[OutNode | None] = []
        for name in CHANNEL_NAMES:
            mode = self.channels.get(name, "any")
            if mode != "any":
                kids.append(element("channel", [("name", name), ("mode", mode)]))
        options = self.spice_options
        for tag, attr in (
            ("image", "compression"),
            ("jpeg", "compression"),
            ("zlib", "compression"),
            ("playback", "compression"),
            ("streaming", "mode"),
            ("mouse", "mode"),
            ("clipboard", "copypaste"),
            ("filetransfer", "enable"),
        ):
            if tag in options:
                kids.append(element(tag, [(attr, options[tag])]))
        if self.gl is not None:
            kids.append(
                element("gl", [("enable", yesno(self.gl)), ("rendernode", self.rendernode)])
            )
        return kids


def _listen_attr(first: ListenDef | None, flags: int) -> str | None:
    """``virDomainGraphicsListenDefFormatAddr``: the legacy ``listen`` attribute."""
    if first is None:
        return None
    if first.type == "network" and flags & (INACTIVE | MIGRATABLE):
        return None
    return first.address


def _valid_to(text: str) -> str:
    """libvirt's reading and re-writing of ``passwdValidTo``."""
    match = _VALID_TO.match(text)
    numbers: list[int] = []
    if match is not None:
        try:
            numbers = [units.parse_int(part) for part in match.groups()]
        except ValueError:
            numbers = []
    if not numbers:
        fail(
            ErrorNumber.INTERNAL_ERROR,
            f"cannot parse password validity time '{text}', expect YYYY-MM-DDTHH:MM:SS",
        )
    year, month, day, hour, minute, second = numbers
    try:
        when = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:
        # GLib gives no date for impossible fields; libvirt then uses the epoch.
        when = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return (
        f"{when.year}-{when.month:02d}-{when.day:02d}"
        f"T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )


class Listen(XMLNode):
    """A ``<listen>`` element of a graphics device."""

    TAG = "listen"

    type = XMLProperty("./@type", doc="``address``, ``network``, ``socket`` or ``none``.")
    address = XMLProperty("./@address", doc="The address to listen on.")
    network = XMLProperty("./@network", doc="A virtual network whose address to use.")
    socket = XMLProperty("./@socket", doc="A UNIX socket path.")


_GRAPHICS_TEMPLATE = field_defaults(GraphicsDef)
_new_object = object.__new__


def _new_graphics(kind: str) -> GraphicsDef:
    """``GraphicsDef(type=kind)``, made without running the dataclass ``__init__``: the
    fields copied at once from their defaults, the containers made here."""
    made = _new_object(GraphicsDef)
    values = _GRAPHICS_TEMPLATE.copy()
    values["type"] = kind
    values["listens"] = []
    values["channels"] = {}
    values["spice_options"] = {}
    values["info"] = DeviceInfo()
    made.__dict__ = values
    return made


class Graphics(DeviceModel):
    """A ``<graphics>`` element."""

    TAG = "graphics"
    XML_ORDER = {
        "": (
            "@type", "@port", "@tlsPort", "@autoport", "@websocket", "@listen", "@socket",
            "@keymap", "@sharePolicy", "@defaultMode", "@passwd", "@passwdValidTo", "listen",
            "channel", "image", "jpeg", "zlib", "playback", "streaming", "mouse", "clipboard",
            "filetransfer", "gl", "audio",
        ),
    }  # fmt: skip

    type = XMLProperty("./@type", doc="``vnc``, ``spice``, ``sdl``, ``rdp``, ``egl-headless``, ...")
    port = XMLProperty("./@port", int, doc="TCP port (-1: chosen automatically).")
    tls_port = XMLProperty("./@tlsPort", int, doc="SPICE TLS port.")
    autoport = XMLProperty("./@autoport", doc="``yes`` to pick ports automatically.")
    listen = XMLProperty("./@listen", doc="Legacy listen address.")
    passwd = XMLProperty("./@passwd", doc="Password (shown only with the SECURE flag).")
    passwd_valid_to = XMLProperty("./@passwdValidTo", doc="Password expiry, UTC.")
    keymap = XMLProperty("./@keymap", doc="Keyboard map (``en-us``, ...).")
    websocket = XMLProperty("./@websocket", int, doc="VNC websocket port.")
    share_policy = XMLProperty("./@sharePolicy", doc="VNC sharing policy.")
    default_mode = XMLProperty("./@defaultMode", doc="SPICE default channel mode.")
    display = XMLProperty("./@display", doc="X display (sdl, desktop).")
    gl_enable = XMLProperty("./gl/@enable", doc="OpenGL (yes/no).")
    gl_rendernode = XMLProperty("./gl/@rendernode", doc="DRM render node.")
    audio_id = XMLProperty("./audio/@id", int, doc="The ``<audio>`` backend (vnc, dbus).")
    listens = XMLChildList(Listen, "./listen")

    def parse(self, ctx: DeviceContext | None = None) -> GraphicsDef:
        """``virDomainGraphicsDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> GraphicsDef:
        """:meth:`parse` of *node*, without a model around it."""
        # The attributes at once: a display has several, read by the listens and the type.
        attrs = cast("dict[str, str]", dict(node.items()))
        kind = attrs.get("type")
        if kind is None or kind not in TYPES:
            kind = prop_enum(node, "type", TYPES, required=True)  # raises libvirt's error
            assert kind is not None
        result = _new_graphics(kind)
        if kind in ("vnc", "rdp", "spice"):
            result.listens = _parse_listens(node, attrs, result, ctx)
        if kind == "vnc":
            _parse_vnc(node, attrs, result, ctx)
        else:
            _PARSERS[kind](node, result, ctx)
        return result


def _parse_listens(
    node: etree._Element, attrs: dict[str, str], result: GraphicsDef, ctx: DeviceContext
) -> list[ListenDef]:
    """The ``<listen>`` children of *node* (*attrs*: its attributes), or the one its
    legacy ``listen``/``socket`` attribute makes."""
    # Without child elements (the usual display) there is no <listen> to look for.
    listens = (
        [
            _parse_listen(item, result.type, node if index == 0 else None, ctx)
            for index, item in enumerate(children(node, "listen"))
        ]
        if len(node)
        else []
    )
    socket_path = attrs.get("socket") if result.type == "vnc" else None
    if socket_path is not None:
        legacy = ListenDef(type="socket", socket=socket_path)
    else:
        legacy = ListenDef(type="address", address=attrs.get("listen") or None)
    if not listens:
        listens.append(legacy)
    elif listens[0].type in ("address", "network") and legacy.type == "socket":
        listens[0] = legacy
    return listens


def _parse_listen(
    node: etree._Element, graphics: str, parent: etree._Element | None, ctx: DeviceContext
) -> ListenDef:
    """``virDomainGraphicsListenDefParseXML``."""
    address, network, socket_path = (
        prop(node, "address"),
        prop(node, "network"),
        prop(node, "socket"),
    )
    address_compat = prop(parent, "listen") if parent is not None else None
    socket_compat = prop(parent, "socket") if parent is not None else None
    kind = prop_enum(node, "type", LISTEN_TYPES, required=True)
    assert kind is not None
    if kind in ("socket", "none") and graphics not in ("vnc", "spice"):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"listen type '{kind}' is not available for graphics type '{graphics}'",
        )
    if kind == "address":
        if address is not None and address_compat is not None and address != address_compat:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"graphics 'listen' attribute '{address_compat}' must match 'address' "
                f"attribute of first listen element (found '{address}')",
            )
        if address is None:
            address = address_compat
    if kind == "socket":
        if socket_path is not None and socket_compat is not None and socket_path != socket_compat:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"graphics 'socket' attribute '{socket_compat}' must match 'socket' "
                f"attribute of first listen element (found '{socket_path}')",
            )
        if socket_path is None:
            socket_path = socket_compat
    result = ListenDef(type=kind)
    if address and (kind == "address" or (kind == "network" and not ctx.inactive)):
        result.address = address
    if network:
        if kind != "network":
            fail(
                ErrorNumber.XML_ERROR,
                "'network' attribute is valid only for listen type 'network'",
            )
        result.network = network
    if socket_path:
        if kind != "socket":
            fail(
                ErrorNumber.XML_ERROR,
                "'socket' attribute is valid only for listen type 'socket'",
            )
        result.socket = socket_path
    return result


def _parse_port(port: str | None, result: GraphicsDef, what: str) -> bool:
    """Read *port* (the ``port`` attribute); True when it asks for an automatic port."""
    if port is None:
        return True
    digits = port[1:] if port[:1] == "-" else port
    if len(digits) <= _PLAIN_DIGITS and digits.isascii() and digits.isdigit():
        # A few plain digits, maybe negative (the usual, -1 among them): C's value at once.
        result.port = int(port)
        return result.port == -1
    try:
        result.port = units.parse_int(port)
    except ValueError:
        fail(ErrorNumber.INTERNAL_ERROR, f"cannot parse {what} port {port}")
    return result.port == -1


_PLAIN_DIGITS = 9
"""Up to this many decimal digits fit a C ``int`` whatever the sign."""


def _parse_auth(node: etree._Element, result: GraphicsDef) -> None:
    """``virDomainGraphicsAuthDefParseXML``."""
    connected = prop(node, "connected")
    result.passwd = prop(node, "passwd")
    if result.passwd is None:
        return
    valid_to = prop(node, "passwdValidTo")
    if valid_to is not None:
        result.valid_to = _valid_to(valid_to)
    if connected is not None:
        if connected not in AUTH_CONNECTED[1:]:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown connected value {connected}")
        if result.type == "vnc" and connected != "keep":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "VNC supports connected='keep' only")
        result.connected = connected


def _audio(node: etree._Element) -> int:
    audio = child(node, "audio")
    if audio is None:
        return 0
    return prop_uint(audio, "id", required=True, nonzero=True) or 0


_PLAIN_VNC = frozenset({"type", "port", "autoport", "listen", "socket"})
"""The attributes of the usual VNC display: the port's, and the listens' (read apart)."""


def _parse_vnc(
    node: etree._Element, attrs: dict[str, str], result: GraphicsDef, ctx: DeviceContext
) -> None:
    """A VNC display's own attributes and children (*attrs*: the attributes of *node*)."""
    port = attrs.get("port")
    if _parse_port(port, result, "vnc"):
        result.autoport = True
        if ctx.inactive or port is None:
            result.port = 0
    autoport = attrs.get("autoport")
    if autoport in ("yes", "no"):
        result.autoport = autoport == "yes"
    if autoport is not None and result.autoport and ctx.inactive:
        result.port = 0
    if not len(node) and _PLAIN_VNC.issuperset(attrs):
        return  # none of the attributes and children below: their defaults stand
    result.websocket = prop_int(node, "websocket") or 0
    result.websocket_generated = prop(node, "websocketGenerated") == "yes"
    result.share_policy = prop_enum(node, "sharePolicy", SHARE_POLICIES)
    result.power_control = prop_tristate(node, "powerControl")
    result.keymap = prop(node, "keymap")
    result.audio_id = _audio(node)
    _parse_auth(node, result)


def _parse_sdl(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    result.fullscreen = bool(prop_tristate(node, "fullscreen"))
    result.xauth = prop(node, "xauth")
    result.display = prop(node, "display")
    gl = child(node, "gl")
    if gl is not None:
        result.gl = prop_tristate(gl, "enable", required=True)


def _parse_rdp(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    if _parse_port(prop(node, "port"), result, "rdp"):
        result.autoport = True
    if prop(node, "autoport") == "yes":
        result.autoport = True
    if result.autoport and ctx.inactive:
        result.port = 0
    result.replace_user = prop(node, "replaceUser") == "yes"
    result.multi_user = prop(node, "multiUser") == "yes"


def _parse_desktop(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    result.fullscreen = bool(prop_tristate(node, "fullscreen"))
    result.display = prop(node, "display")


def _parse_spice(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    result.port = prop_int(node, "port") or 0
    result.tls_port = prop_int(node, "tlsPort") or 0
    result.autoport = bool(prop_tristate(node, "autoport"))
    result.default_mode = prop_enum(node, "defaultMode", CHANNEL_MODES) or "any"
    if result.port == -1 and result.tls_port == -1:
        result.autoport = True
    if result.autoport and ctx.inactive:
        result.port = result.tls_port = 0
    result.keymap = prop(node, "keymap")
    _parse_auth(node, result)
    for channel in children(node, "channel"):
        name = prop_enum(channel, "name", CHANNEL_NAMES, required=True)
        mode = prop_enum(channel, "mode", CHANNEL_MODES, required=True)
        assert name is not None and mode is not None
        result.channels[name] = mode
    options = result.spice_options
    for tag, attr, values in (
        ("image", "compression", IMAGE_COMPRESSION),
        ("jpeg", "compression", JPEG_COMPRESSION),
        ("zlib", "compression", ZLIB_COMPRESSION),
    ):
        found = child(node, tag)
        if found is not None:
            options[tag] = prop_enum(found, attr, values, required=True, nonzero=True) or ""
    playback = child(node, "playback")
    if playback is not None:
        options["playback"] = onoff(prop_switch(playback, "compression", required=True)) or ""
    streaming = child(node, "streaming")
    if streaming is not None:
        mode = prop_enum(streaming, "mode", STREAMING_MODES, required=True, nonzero=True)
        options["streaming"] = mode or ""
    clipboard = child(node, "clipboard")
    if clipboard is not None:
        options["clipboard"] = yesno(prop_tristate(clipboard, "copypaste", required=True)) or ""
    transfer = child(node, "filetransfer")
    if transfer is not None:
        options["filetransfer"] = yesno(prop_tristate(transfer, "enable", required=True)) or ""
    gl = child(node, "gl")
    if gl is not None:
        result.rendernode = prop(gl, "rendernode")
        result.gl = prop_tristate(gl, "enable", required=True)
    mouse = child(node, "mouse")
    if mouse is not None:
        options["mouse"] = prop_enum(mouse, "mode", MOUSE_MODES, required=True, nonzero=True) or ""


def _parse_egl(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    gl = child(node, "gl")
    if gl is not None:
        result.rendernode = prop(gl, "rendernode")


def _parse_dbus(node: etree._Element, result: GraphicsDef, ctx: DeviceContext) -> None:
    result.p2p = prop_tristate(node, "p2p") is True
    result.address = prop(node, "address")
    gl = child(node, "gl")
    if gl is not None:
        result.rendernode = prop(gl, "rendernode")
        result.gl = prop_tristate(gl, "enable", required=True)
    result.audio_id = _audio(node)


_PARSERS: dict[str, Callable[[etree._Element, GraphicsDef, DeviceContext], None]] = {
    "sdl": _parse_sdl,
    "rdp": _parse_rdp,
    "desktop": _parse_desktop,
    "spice": _parse_spice,
    "egl-headless": _parse_egl,
    "dbus": _parse_dbus,
}
"""The reader of each graphics type's own attributes and children (VNC's apart: it reads
the attributes the display's reader has read already)."""
