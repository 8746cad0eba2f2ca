"""Character devices: ``<serial>``, ``<parallel>``, ``<console>`` and ``<channel>``.

::

    <serial type='tcp'>
      <source mode='bind' host='0.0.0.0' service='2445'/>
      <protocol type='telnet'/>
      <target type='isa-serial' port='1'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/qga.sock'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>

The host side (``type`` and ``<source>``, ``<protocol>``, ``<log>``) is a
:class:`~virtcore.xml.domain.devices.chardev_source.ChrSourceDef` (in its own
module, re-exported here), shared with the smartcard passthrough, the RNG ``egd``
backend and the external TPM. The guest side is the ``<target>``: a port
for serial, parallel and console devices, a name (``virtio``, ``xen``) or an
IPv4 address and port (``guestfwd``) for channels.

Ports and the console are decided for the whole domain, not per device;
:func:`resolve_chardevs` does what libvirt does on define:

* parallel ports and consoles are numbered while parsing, missing serial
  ports after the ISA serial ports are placed;
* the first ``<console>`` of an HVM guest is an alias of the first
  ``<serial>``: a lone console becomes a serial port, a lone serial port
  gets a console, and the console is written as a copy of the serial port
  with ``<target type='serial'>`` (:meth:`Chardevs.consoles_to_format`).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.chardev_source import (
    CHR_TYPES,
    ChrSourceDef,
    chr_type,
    new_source,
)
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    SECURE,
    UNASSIGNED,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    as_c_int,
    child,
    element,
    fail,
    field_defaults,
    is_x86,
    parse_ui_wrapping,
    prop,
    prop_enum,
    prop_uint,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "CHR_TYPES",
    "Channel",
    "ChardevModel",
    "Chardevs",
    "ChrDef",
    "ChrSourceDef",
    "Console",
    "Parallel",
    "Serial",
    "chardev_copies",
    "chr_type",
    "resolve_chardevs",
    "resolve_copies",
]

logger = logging.getLogger(__name__)

SERIAL_TARGETS = (
    "none", "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial",
    "system-serial", "sclp-serial", "isa-debug",
)  # fmt: skip
SERIAL_MODELS = (
    "none", "isa-serial", "usb-serial", "pci-serial", "spapr-vty", "pl011",
    "sclpconsole", "sclplmconsole", "16550a", "isa-debugcon",
)  # fmt: skip
CHANNEL_TARGETS = ("none", "guestfwd", "virtio", "xen")
CONSOLE_TARGETS = (
    "none", "serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm",
)  # fmt: skip
DEVICE_STATES = ("default", "connected", "disconnected")
_TARGETS = {"serial": SERIAL_TARGETS, "channel": CHANNEL_TARGETS, "console": CONSOLE_TARGETS}
_MAX_ISA_SERIAL_PORTS = 4


# -- the devices ------------------------------------------------------------------------


@dataclass
class ChrDef(DeviceDef):
    """A parsed character device (``virDomainChrDef``)."""

    device_type: str
    source: ChrSourceDef = field(default_factory=ChrSourceDef)
    target_type: str = "none"
    target_model: str = "none"
    port: int = -1
    target_name: str | None = None
    target_address: str | None = None
    target_port: int | None = None
    state: str = "default"
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainChrDefValidate``."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()
        self.source.validate(ctx, self)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainChrDefFormat``."""
        # A running domain's pty console also names its terminal on the element itself.
        tty = (
            self.source.path
            if self.device_type == "console" and self.source.type == "pty" and not flags & INACTIVE
            else None
        )
        return element(
            self.device_type,
            [("type", self.source.type), ("tty", tty)],
            [*self.source.elements(flags), self._target(flags), *self.info.elements()],
        )

    def console_element(self, flags: int) -> OutNode:
        """The element of the console showing this serial port: :meth:`to_element` of a copy
        whose device type is ``console`` and target type ``serial``."""
        source = self.source
        tty = source.path if source.type == "pty" and not flags & INACTIVE else None
        return element(
            "console",
            [("type", source.type), ("tty", tty)],
            [
                *source.elements(flags),
                element("target", [("type", "serial"), ("port", self.port)]),
                *self.info.elements(),
            ],
        )

    def _target(self, flags: int) -> OutNode:
        kind = self.device_type
        if kind == "channel":
            attrs: list[tuple[str, str | int | None]] = [("type", self.target_type)]
            if self.target_type == "guestfwd":
                attrs += [("address", self.target_address), ("port", self.target_port)]
            elif self.target_type in ("xen", "virtio"):
                attrs.append(("name", self.target_name))
                # libvirt tests its inactive *parse* flag here, whose bit is
                # the SECURE bit of the format flags.
                if self.target_type == "virtio" and self.state != "default" and not flags & SECURE:
                    attrs.append(("state", self.state))
            return element("target", attrs)
        if kind == "console":
            return element("target", [("type", self.target_type), ("port", self.port)])
        if kind == "serial":
            target_type = None if self.target_type == "none" else self.target_type
            kids = []
            if self.target_model != "none":
                kids.append(element("model", [("name", self.target_model)]))
            return element("target", [("type", target_type), ("port", self.port)], kids)
        return element("target", [("port", self.port)])


class ChardevModel(DeviceModel):
    """What the four character device elements share."""

    XML_ORDER = {
        "": ("@type", "source", "protocol", "log", "target", "alias", "address"),
        "source": ("@mode", "@host", "@path", "@service", "@channel", "@append", "@tls"),
        "target": ("@type", "@name", "@address", "@port", "model"),
    }

    type = XMLProperty("./@type", doc="The host side: ``pty``, ``file``, ``unix``, ``tcp``, ...")
    source_path = XMLProperty("./source/@path", doc="File, device, pipe or socket path.")
    source_mode = XMLProperty("./source/@mode", doc="``bind`` (listen) or ``connect``.")
    source_host = XMLProperty("./source/@host", doc="TCP/UDP host.")
    source_service = XMLProperty("./source/@service", doc="TCP/UDP port.")
    source_channel = XMLProperty("./source/@channel", doc="spiceport/dbus channel name.")
    protocol = XMLProperty("./protocol/@type", doc="TCP protocol: raw, telnet, telnets, tls.")
    log_file = XMLProperty("./log/@file", doc="A file receiving the device's output.")
    target_type = XMLProperty("./target/@type", doc="Guest side type (``virtio``, ...).")
    target_port = XMLProperty("./target/@port", int, doc="Guest port number.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> ChrDef:
        """``virDomainChrDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> ChrDef:
        """:meth:`parse` of *node*, without a model around it."""
        kind = chr_type(node)
        device = node.tag.rpartition("}")[2]  # the local name (etree.QName's, cheaper)
        if device not in ("parallel", "serial", "console", "channel"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown character device type: {device}")
        result = _read_record(device)
        # Without child elements (a bare console, say) there is no target, source or device
        # info to read: the record's defaults stand.
        nested = len(node) != 0
        target = child(node, "target") if nested else None
        if target is not None:
            _parse_target(result, target, ctx)
        else:
            result.target_type = _default_target(device)
        if nested:
            result.source = ChrSourceDef.parse(node, kind, ctx, seclabels=True)
        else:
            result.source = new_source(kind)
        if kind == "spicevmc" and result.target_type != "virtio":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "spicevmc device type only supports virtio")
        result.info = DeviceInfo.parse(node, ctx) if nested else DeviceInfo()
        if (
            device == "serial"
            and result.target_type == "usb-serial"
            and result.info.address_type not in ("none", "usb")
        ):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "usb-serial requires address of usb type")
        return result

    def definition(self, ctx: DeviceContext | None = None) -> ChrDef:
        """The device as the only character device of its domain (ports assigned)."""
        ctx = ctx or DeviceContext()
        parsed = self.parse(ctx)
        lists: dict[str, list[ChrDef]] = {
            "parallel": [],
            "serial": [],
            "console": [],
            "channel": [],
        }
        lists[parsed.device_type].append(parsed)
        found = resolve_chardevs(
            lists["parallel"], lists["serial"], lists["console"], lists["channel"], ctx
        )
        if parsed.device_type == "console":
            return found.consoles_to_format()[0]
        return {"parallel": found.parallels, "serial": found.serials, "channel": found.channels}[
            parsed.device_type
        ][0]


_CHR_TEMPLATE = field_defaults(ChrDef)
_new_object = object.__new__


def _read_record(device: str) -> ChrDef:
    """``ChrDef(device_type=device)`` for :meth:`ChardevModel.read`, without running the
    dataclass ``__init__``: the fields at their defaults, but the source and the device
    info, which the reader sets (None until then, instead of records thrown away)."""
    made = _new_object(ChrDef)
    values = _CHR_TEMPLATE.copy()
    values["device_type"] = device
    made.__dict__ = values
    return made


def _default_target(device: str) -> str:
    if device == "channel":
        fail(ErrorNumber.XML_ERROR, f"target type must be specified for {device} device")
    return "none"


def _parse_target(result: ChrDef, target: etree._Element, ctx: DeviceContext) -> None:
    device = result.device_type
    kind = prop(target, "type")
    if kind is None:
        result.target_type = _default_target(device)
    elif device in _TARGETS:
        if kind not in _TARGETS[device]:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unknown target type '{kind}' specified for character device",
            )
        result.target_type = kind
    model_node = child(target, "model")
    model = prop(model_node, "name") if model_node is not None else None
    if model and device == "serial":
        if model not in SERIAL_MODELS:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unknown target model '{model}' specified for character device",
            )
        result.target_model = model
    if device == "channel":
        if result.target_type == "guestfwd":
            result.target_address = _guestfwd_address(prop(target, "address"))
            result.target_port = prop_uint(target, "port", required=True)
        elif result.target_type in ("xen", "virtio"):
            result.target_name = prop(target, "name")
            if result.target_type == "virtio" and not ctx.inactive:
                state = prop_enum(target, "state", DEVICE_STATES, nonzero=True)
                result.state = state or "default"
        return
    port = prop(target, "port")
    if port is None:
        return
    try:
        result.port = as_c_int(parse_ui_wrapping(port))
    except ValueError:
        fail(ErrorNumber.XML_ERROR, f"Invalid port number: {port}")


def _guestfwd_address(text: str | None) -> str:
    if text is None:
        fail(ErrorNumber.XML_ERROR, "guestfwd channel does not define a target address")
    try:
        found = socket.getaddrinfo(text, None, socket.AF_UNSPEC, 0, 0, socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        fail(
            ErrorNumber.SYSTEM_ERROR,
            f"Cannot parse socket address '{text}': {exc.strerror}",
            ErrorDomain.NONE,
        )
    family, _, _, _, sockaddr = found[0]
    if family != socket.AF_INET:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "guestfwd channel only supports IPv4 addresses")
    return str(sockaddr[0])


class Serial(ChardevModel):
    """A ``<serial>`` port."""

    TAG = "serial"
    target_model = XMLProperty("./target/model/@name", doc="The emulated serial device model.")


class Parallel(ChardevModel):
    """A ``<parallel>`` port."""

    TAG = "parallel"


class Console(ChardevModel):
    """A ``<console>``; the first one of an HVM guest stands for the first serial port."""

    TAG = "console"


class Channel(ChardevModel):
    """A ``<channel>``: a named (``virtio``, ``xen``) or forwarded (``guestfwd``) stream."""

    TAG = "channel"
    target_name = XMLProperty("./target/@name", doc="Channel name seen by the guest.")
    target_address = XMLProperty("./target/@address", doc="guestfwd IPv4 address.")


# -- the domain's character devices together -------------------------------------------------


@dataclass
class Chardevs:
    """The character devices of a domain after libvirt's define-time processing."""

    parallels: list[ChrDef]
    serials: list[ChrDef]
    consoles: list[ChrDef]
    channels: list[ChrDef]
    os_type: str = "hvm"

    def consoles_to_format(self) -> list[ChrDef]:
        """The consoles as written: a serial-type console shows its serial port."""
        out: list[ChrDef] = []
        for index, console in enumerate(self.consoles):
            if (
                self.os_type == "hvm"
                and console.target_type in ("serial", "none")
                and index < len(self.serials)
            ):
                out.append(_as_console(self.serials[index]))
            else:
                out.append(console)
        return out

    def console_elements(self, flags: int) -> list[OutNode]:
        """The elements of :meth:`consoles_to_format`, without copying the serial ports shown."""
        out: list[OutNode] = []
        serials = self.serials
        hvm = self.os_type == "hvm"
        for index, console in enumerate(self.consoles):
            if hvm and console.target_type in ("serial", "none") and index < len(serials):
                out.append(serials[index].console_element(flags))
            else:
                out.append(console.to_element(flags))
        return out

    def all(self) -> list[ChrDef]:
        """Every device in libvirt's iteration order (serials, parallels, channels, consoles)."""
        return [*self.serials, *self.parallels, *self.channels, *self.consoles]


def _as_console(serial: ChrDef) -> ChrDef:
    """*serial* written as the console showing it: a shallow copy, as ``replace`` makes,
    without running the dataclass's ``__init__`` (the devices are printed often)."""
    shown = object.__new__(type(serial))
    shown.__dict__.update(serial.__dict__)
    shown.device_type = "console"
    shown.target_type = "serial"
    return shown


def _copy(dev: ChrDef) -> ChrDef:
    """A shallow copy of *dev*, as ``dataclasses.replace(dev)`` makes (:class:`ChrDef` has no
    ``__post_init__`` and no field left out of ``__init__``), without the keyword call."""
    copied = _new_object(dev.__class__)
    copied.__dict__ = dev.__dict__.copy()
    return copied


def resolve_chardevs(
    parallels: Sequence[ChrDef],
    serials: Sequence[ChrDef],
    consoles: Sequence[ChrDef],
    channels: Sequence[ChrDef],
    ctx: DeviceContext | None = None,
    *,
    validate: bool = True,
) -> Chardevs:
    """libvirt's define-time processing of parsed character devices (in document order).

    Numbers parallel ports and consoles as the parser does, makes the first
    console and serial port aliases (``virDomainDefAddConsoleCompat``),
    places ISA serial ports and fills in missing ports
    (``virDomainChrDefPostParse``) and, with *validate*, validates every
    device. Raises libvirt's errors; the inputs are not modified.
    """
    ctx = ctx or DeviceContext()
    result = resolve_copies(
        chardev_copies(parallels),
        chardev_copies(serials),
        chardev_copies(consoles),
        chardev_copies(channels),
        ctx,
    )
    if validate:
        for dev in result.all():
            dev.validate(ctx)
    return result


def chardev_copies(devices: Sequence[object]) -> list[ChrDef]:
    """Shallow copies of the character devices among *devices*, for :func:`resolve_copies`."""
    # Most kinds are absent: no copying loop for them.
    return [_copy(d) for d in devices if isinstance(d, ChrDef)] if devices else []


def resolve_copies(
    par: list[ChrDef],
    ser: list[ChrDef],
    con: list[ChrDef],
    chan: list[ChrDef],
    ctx: DeviceContext,
) -> Chardevs:
    """:func:`resolve_chardevs` without validation, of lists of devices the caller owns
    (:func:`chardev_copies`): the lists and their devices are changed in place and kept
    by the result."""
    if par:
        for index, dev in enumerate(par):
            if dev.port == -1:
                dev.port = max((p.port for p in par[:index]), default=-1) + 1
    for index, dev in enumerate(con):
        dev.port = index
    if ser:  # only serial ports are placed on the ISA bus
        _isa_serial_ports(ser)
    for dev in [*ser, *par, *chan, *con]:
        _post_parse_one(dev, ser, par, con, ctx)
    _console_compat(ser, con, ctx)
    if ser:
        _post_parse_one(ser[0], ser, par, con, ctx)
    return Chardevs(par, ser, con, chan, ctx.os_type)


def _isa_serial_ports(serials: list[ChrDef]) -> None:
    used: set[int] = set()
    count = 0
    for dev in serials:
        if dev.target_type != "isa-serial":
            continue
        count += 1
        if count > _MAX_ISA_SERIAL_PORTS or dev.port >= _MAX_ISA_SERIAL_PORTS:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                f"Maximum supported number of ISA serial ports is '{_MAX_ISA_SERIAL_PORTS}'",
            )
        if dev.port != -1:
            if dev.port in used:
                fail(ErrorNumber.INTERNAL_ERROR, f"target port '{dev.port}' already allocated")
            used.add(dev.port)
    for dev in serials:
        if dev.target_type == "isa-serial" and dev.port == -1:
            free = next(p for p in range(_MAX_ISA_SERIAL_PORTS) if p not in used)
            dev.port = free
            used.add(free)


def _post_parse_one(
    dev: ChrDef,
    serials: list[ChrDef],
    parallels: list[ChrDef],
    consoles: list[ChrDef],
    ctx: DeviceContext,
) -> None:
    if dev.device_type == "console" and dev.target_type == "none":
        dev.target_type = "serial"
    if dev.device_type == "serial" and dev.target_type == "isa-debug" and not is_x86(ctx.arch):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "isa-debug serial type only valid on x86 architecture",
        )
    if dev.port != -1:
        return
    kind = dev.device_type
    same = (
        serials
        if kind == "serial"
        else parallels
        if kind == "parallel"
        else consoles
        if kind == "console"
        else None
    )
    if same is not None:
        dev.port = max((d.port for d in same), default=-1) + 1


def _console_compat(serials: list[ChrDef], consoles: list[ChrDef], ctx: DeviceContext) -> None:
    if len(consoles) > 1:
        for console in consoles[1:]:
            if console.target_type == "serial":
                fail(ErrorNumber.CONFIG_UNSUPPORTED, "Only the first console can be a serial port")
    hvm = ctx.os_type == "hvm"
    if consoles and hvm and consoles[0].target_type in ("serial", "none"):
        if not serials:
            serial = consoles[0]
            serial.device_type = "serial"
            serial.target_type = "none"
            serial.port = 0
            serials.append(serial)
            consoles[0] = _stub_console()
        elif not serials[0].source.same_as(consoles[0].source):
            consoles[0] = _stub_console()
    elif hvm and serials and serials[0].target_type in (
        "isa-serial", "spapr-vio-serial", "system-serial", "sclp-serial", "none",
    ):  # fmt: skip
        consoles.insert(0, _stub_console())


def _stub_console() -> ChrDef:
    """``ChrDef(device_type="console", target_type="serial")`` (every domain with a serial
    console makes one), without running the dataclass ``__init__`` of the record and of
    its source."""
    made = _read_record("console")
    made.target_type = "serial"
    made.source = new_source("pty")
    made.info = DeviceInfo()
    return made
