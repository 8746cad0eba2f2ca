"""Device text written straight from the records, for the shapes nearly every domain has.

The domain formatter (:mod:`virtcore.xml.domain.textformat`) writes a usual
domain without building output nodes for most of it. For the device kinds
here, :func:`write_device` gives a device's text directly when the device
has a shape its writer knows: a file, block or directory disk with a plain
driver, source and target; a controller without options; a network, bridge
or user interface with a MAC address, source, target and model; a pty
serial port and the console showing it; VNC graphics listening on an
address; a video card; a memory balloon. Every field a writer does not
write must then be at its dataclass default. That test covers every field
of the record the writer does not name (:class:`RestAtDefault`), so a field added
to a record later sends its devices to the general route until the writer
learns it. For anything else a writer returns None, and the caller writes
the device's ``to_element`` tree, whose text is the same: tests compare
both routes over every domain document of the suites.

A writer is called as ``writer(device, flags, indent, values)`` and returns
the element's text indented by *indent*, ending with a newline, attribute
values in single quotes and NOT escaped. Every value written that may need
escaping (anything free-form: paths, names, addresses) is appended to
*values*; the caller checks them all at once and sends the whole document
to the escaping route when one needs it (see
:func:`virtcore.xml.domain.outnode.needs_escaping`). Values checked against
a fixed set at parse time (types, buses, models) and numbers are not
appended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import MISSING, fields
from operator import attrgetter, itemgetter
from typing import Any

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain.devices.chardev import ChrDef
from virtcore.xml.domain.devices.controller import ControllerDef
from virtcore.xml.domain.devices.disk import DiskDef
from virtcore.xml.domain.devices.graphics import GraphicsDef, ListenDef
from virtcore.xml.domain.devices.interface import InterfaceDef
from virtcore.xml.domain.devices.memballoon import MemBalloonDef
from virtcore.xml.domain.devices.source import StorageSource
from virtcore.xml.domain.devices.support import DeviceDef, DeviceInfo, VirtioOptions

__all__ = ["WRITERS", "RestAtDefault", "write_console", "write_device", "write_info"]

logger = logging.getLogger(__name__)

_INACTIVE = int(DomainXMLFlags.INACTIVE)
_MIGRATABLE = int(DomainXMLFlags.MIGRATABLE)

Writer = Callable[[Any, int, str, list[str]], "str | None"]
"""``writer(device, flags, indent, values) -> text or None`` (see the module docstring)."""


class RestAtDefault:
    """The fields of a dataclass a writer does not write, and their defaults.

    ``rest.at_default(record)`` tells whether all of them are at their
    defaults, in one C-level look-up of every field and one tuple comparison.
    (Records made by ``common.fresh_record`` keep plain defaults on the class:
    fields are read as attributes, not from the instance dictionary.)
    """

    __slots__ = ("_expected", "_get", "_items", "names")

    def __init__(self, cls: type, written: Iterable[str]) -> None:
        handled = frozenset(written)
        names: list[str] = []
        defaults: list[object] = []
        for item in fields(cls):
            if item.name in handled:
                continue
            if item.default_factory is not MISSING:
                defaults.append(item.default_factory())
            elif item.default is not MISSING:
                defaults.append(item.default)
            else:
                raise TypeError(f"{cls.__name__}.{item.name} has no default: the writer must")
            names.append(item.name)
        self.names = tuple(names)
        """The fields that must be at their defaults."""
        if not names:
            raise TypeError(f"every field of {cls.__name__} is written: no test is needed")
        self._get = attrgetter(*names)
        self._items = itemgetter(*names)
        # Either getter of one name gives the value itself, of several a tuple.
        self._expected: object = defaults[0] if len(defaults) == 1 else tuple(defaults)

    def at_default(self, record: object) -> bool:
        """Whether every field of :attr:`names` of *record* is at its default."""
        try:
            # Records made by __init__ or from a template hold every field in their
            # dictionary, where look-ups cost less than attribute reads.
            return bool(self._items(record.__dict__) == self._expected)
        except KeyError:
            return bool(self._get(record) == self._expected)


# -- device info ----------------------------------------------------------------------------

_INFO_REST: dict[type, RestAtDefault] = {}
_INFO_WRITTEN = ("alias", "address_type", "address", "boot_order", "loadparm")


def write_info(info: DeviceInfo, indent: str, values: list[str]) -> str | None:
    """The ``<boot>``, ``<alias>`` and ``<address>`` lines of *info* at *indent*
    (``DeviceInfo.elements``), or None when it has anything else to write."""
    rest = _INFO_REST.get(info.__class__)
    if rest is None:
        written = [name for name in _INFO_WRITTEN if name in {f.name for f in fields(info)}]
        rest = _INFO_REST[info.__class__] = RestAtDefault(info.__class__, written)
    if not rest.at_default(info):
        return None
    text = ""
    boot_order = getattr(info, "boot_order", None)
    if boot_order:
        loadparm = getattr(info, "loadparm", None)
        if loadparm is not None:
            values.append(loadparm)
            text = f"{indent}<boot order='{boot_order}' loadparm='{loadparm}'/>\n"
        else:
            text = f"{indent}<boot order='{boot_order}'/>\n"
    alias = info.alias
    if alias is not None:
        values.append(alias)
        text += f"{indent}<alias name='{alias}'/>\n"
    kind = info.address_type
    if kind not in _NO_ADDRESS:
        attrs = ""
        for key, value in info.address.items():
            if value is not None:
                attrs += f" {key}='{value}'"
                values.append(value)
        text += f"{indent}<address type='{kind}'{attrs}/>\n"
    return text


_NO_ADDRESS = frozenset({"none", "virtio-s390"})
_NO_VIRTIO_OPTIONS = VirtioOptions()


def _plain_virtio(options: VirtioOptions | None) -> bool:
    """Whether *options* write nothing: a ``<driver>`` without virtio options reads as
    options all unset, which every kind writes as it writes none."""
    return options is None or options == _NO_VIRTIO_OPTIONS


# -- disks -----------------------------------------------------------------------------------

_DISK_REST = RestAtDefault(
    DiskDef,
    ("src", "device", "bus", "dst", "snapshot", "driver_name", "tray", "virtio", "info"),
)
_SOURCE_REST = RestAtDefault(
    StorageSource, ("type", "path", "format", "startup_policy", "readonly", "shared", "index")
)
_PATH_ATTRS = {"file": "file", "block": "dev", "dir": "dir"}


def _disk(disk: DiskDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``DiskDef.to_element`` of a local disk with a plain driver, source and target."""
    state = disk
    if not _DISK_REST.at_default(state) or not _plain_virtio(state.virtio):
        return None
    src = state.src
    source = src
    if not _SOURCE_REST.at_default(source):
        return None
    path_attr = _PATH_ATTRS.get(source.type)
    if path_attr is None:
        return None
    snapshot = state.snapshot
    if snapshot is not None and not (snapshot == "no" and source.readonly):
        return None
    inner = indent + "  "
    info = write_info(state.info, inner, values)
    if info is None:
        return None
    text = f"{indent}<disk type='{source.type}' device='{state.device}'>\n"
    name = state.driver_name
    fmt = source.format
    if name is not None or fmt is not None:
        attrs = ""
        if name is not None:
            values.append(name)
            attrs = f" name='{name}'"
        if fmt is not None:
            values.append(fmt)
            attrs += f" type='{fmt}'"
        text += f"{inner}<driver{attrs}/>\n"
    attrs = ""
    path = source.path
    if path is not None:
        values.append(path)
        attrs = f" {path_attr}='{path}'"
    if source.startup_policy:
        attrs += f" startupPolicy='{source.startup_policy}'"
    if source.index:
        attrs += f" index='{source.index}'"
    if attrs:
        text += f"{inner}<source{attrs}/>\n"
    dst = state.dst
    attrs = ""
    if dst is not None:
        values.append(dst)
        attrs = f" dev='{dst}'"
    attrs += f" bus='{state.bus}'"
    tray = state.tray
    if tray is not None and tray != "closed" and state.device in ("cdrom", "floppy"):
        attrs += f" tray='{tray}'"
    text += f"{inner}<target{attrs}/>\n"
    if source.readonly:
        text += f"{inner}<readonly/>\n"
    if source.shared:
        text += f"{inner}<shareable/>\n"
    return f"{text}{info}{indent}</disk>\n"


# -- controllers -------------------------------------------------------------------------------

_OPTIONED = frozenset({"pci", "xenbus"})
_PORTED = frozenset({"virtio-serial", "usb"})
_CONTROLLER_REST = RestAtDefault(
    ControllerDef, ("type", "index", "model", "ports", "vectors", "virtio", "info")
)


def _controller(
    controller: ControllerDef, flags: int, indent: str, values: list[str]
) -> str | None:
    """``ControllerDef.to_element`` of a controller without driver or PCI options."""
    state = controller
    kind = state.type
    if (
        kind in _OPTIONED
        or not _CONTROLLER_REST.at_default(state)
        or not _plain_virtio(state.virtio)
    ):
        return None
    info = write_info(state.info, indent + "  ", values)
    if info is None:
        return None
    attrs = f" type='{kind}' index='{state.index}'"
    model = state.model
    if model is not None:
        attrs += f" model='{model}'"
    if kind in _PORTED:
        if state.ports is not None:
            attrs += f" ports='{state.ports}'"
        if kind == "virtio-serial" and state.vectors is not None:
            attrs += f" vectors='{state.vectors}'"
    if not info:
        return f"{indent}<controller{attrs}/>\n"
    return f"{indent}<controller{attrs}>\n{info}{indent}</controller>\n"


# -- interfaces --------------------------------------------------------------------------------

_INTERFACE_WRITTEN = (
    "type", "mac", "mac_type", "mac_check", "source", "portid", "ifname", "model", "virtio",
    "info",
)  # fmt: skip
_INTERFACE_REST = RestAtDefault(InterfaceDef, _INTERFACE_WRITTEN)


def _interface(net: InterfaceDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``InterfaceDef.to_element`` of an interface with a MAC, source, target and model."""
    state = net
    if not _INTERFACE_REST.at_default(state) or not _plain_virtio(state.virtio):
        return None
    inner = indent + "  "
    info = write_info(state.info, inner, values)
    if info is None:
        return None
    kind = state.type
    attrs = ""
    mac = state.mac
    if mac is not None:
        values.append(mac)
        attrs = f" address='{mac}'"
    if state.mac_type is not None:
        attrs += f" type='{state.mac_type}'"
    check = state.mac_check
    if check is not None:
        attrs += " check='yes'" if check else " check='no'"
    text = f"{indent}<interface type='{kind}'>\n{inner}<mac{attrs}/>\n"
    attrs = ""
    for key, value in state.source:
        if value is not None:
            values.append(f"{value}")
            attrs += f" {key}='{value}'"
    portid = state.portid
    if kind == "network" and portid is not None and not flags & _INACTIVE:
        values.append(portid)
        attrs += f" portid='{portid}'"
    if attrs:
        text += f"{inner}<source{attrs}/>\n"
    ifname = state.ifname
    if ifname is not None:
        values.append(ifname)
        text += f"{inner}<target dev='{ifname}'/>\n"
    model = state.model
    if model is not None:
        values.append(model)
        text += f"{inner}<model type='{model}'/>\n"
    return f"{text}{info}{indent}</interface>\n"


# -- character devices ---------------------------------------------------------------------------

_CHR_REST = RestAtDefault(ChrDef, ("device_type", "source", "target_type", "port", "info"))
_PTY_REST: dict[type, RestAtDefault] = {}


def _plain_pty(device: ChrDef, flags: int) -> bool:
    """Whether *device* is a pty with nothing to write on the host side (no ``<source>``,
    ``<log>`` or ``tty``) and no target options."""
    source = device.source
    if source.type != "pty" or (source.path is not None and not flags & _INACTIVE):
        return False
    kind = device.source.__class__
    rest = _PTY_REST.get(kind)
    if rest is None:
        rest = _PTY_REST[kind] = RestAtDefault(kind, ("type", "path"))
    return rest.at_default(source) and _CHR_REST.at_default(device)


def _serial(device: ChrDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``ChrDef.to_element`` of a pty serial port without target model."""
    if device.device_type != "serial" or not _plain_pty(device, flags):
        return None
    inner = indent + "  "
    info = write_info(device.info, inner, values)
    if info is None:
        return None
    target_type = device.target_type
    kind = "" if target_type == "none" else f" type='{target_type}'"
    return (
        f"{indent}<serial type='pty'>\n{inner}<target{kind} port='{device.port}'/>\n"
        f"{info}{indent}</serial>\n"
    )


def write_console(
    device: ChrDef, serial: bool, flags: int, indent: str, values: list[str]
) -> str | None:
    """The text of a console (``Chardevs.console_elements``): with *serial*, *device* is
    the serial port the console shows (``ChrDef.console_element``), else the console
    itself; None unless it is a plain pty."""
    if not _plain_pty(device, flags):
        return None
    if not serial and device.device_type != "console":
        return None
    inner = indent + "  "
    info = write_info(device.info, inner, values)
    if info is None:
        return None
    target_type = "serial" if serial else device.target_type
    return (
        f"{indent}<console type='pty'>\n"
        f"{inner}<target type='{target_type}' port='{device.port}'/>\n"
        f"{info}{indent}</console>\n"
    )


# -- graphics, video, balloon -------------------------------------------------------------------

_GRAPHICS_REST = RestAtDefault(GraphicsDef, ("type", "listens", "port", "autoport", "info"))
_LISTEN_REST = RestAtDefault(ListenDef, ("type", "address"))


def _graphics(graphics: GraphicsDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``GraphicsDef.to_element`` of VNC graphics listening on one address."""
    state = graphics
    listens = state.listens
    if (
        state.type != "vnc"
        or len(listens) != 1
        or not _GRAPHICS_REST.at_default(state)
        or listens[0].type != "address"
        or not _LISTEN_REST.at_default(listens[0])
    ):
        return None
    inner = indent + "  "
    port = state.port
    autoport = state.autoport
    attrs = ""
    if port and (not autoport or not flags & _INACTIVE):
        attrs = f" port='{port}'"
    elif autoport:
        attrs = " port='-1'"
    attrs += " autoport='yes'" if autoport else " autoport='no'"
    address = listens[0].address
    if address is not None:
        values.append(address)
        attrs += f" listen='{address}'"
        listen = f"{inner}<listen type='address' address='{address}'/>\n"
    else:
        listen = f"{inner}<listen type='address'/>\n"
    # libvirt writes no device info for graphics (GraphicsDef.to_element neither).
    return f"{indent}<graphics type='vnc'{attrs}>\n{listen}{indent}</graphics>\n"


def _video(video: Any, flags: int, indent: str, values: list[str]) -> str | None:
    """``VideoDef.to_element`` of a card with a model and sizes only."""
    state = video
    rest = _VIDEO_REST.get(video.__class__)
    if rest is None:
        rest = _VIDEO_REST[video.__class__] = RestAtDefault(video.__class__, _VIDEO_WRITTEN)
    if not rest.at_default(state) or not _plain_virtio(state.virtio):
        return None
    inner = indent + "  "
    info = write_info(state.info, inner, values)
    if info is None:
        return None
    attrs = f" type='{state.type}'"
    for key in ("ram", "vram", "vram64", "vgamem", "heads"):
        value = getattr(state, key)
        if value:
            attrs += f" {key}='{value}'"
    if state.primary:
        attrs += " primary='yes'"
    return f"{indent}<video>\n{inner}<model{attrs}/>\n{info}{indent}</video>\n"


_VIDEO_WRITTEN = (
    "type", "primary", "ram", "vram", "vram64", "vgamem", "heads", "virtio", "info",
)  # fmt: skip
_VIDEO_REST: dict[type, RestAtDefault] = {}


def _memballoon(balloon: MemBalloonDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``MemBalloonDef.to_element`` of a balloon with a model only."""
    state = balloon
    if not _BALLOON_REST.at_default(state) or not _plain_virtio(state.virtio):
        return None
    info = write_info(state.info, indent + "  ", values)
    if info is None:
        return None
    if not info:
        return f"{indent}<memballoon model='{state.model}'/>\n"
    return f"{indent}<memballoon model='{state.model}'>\n{info}{indent}</memballoon>\n"


_BALLOON_REST = RestAtDefault(MemBalloonDef, ("model", "virtio", "info"))


def _video_class() -> type:
    from virtcore.xml.domain.devices.video import VideoDef

    return VideoDef


WRITERS: dict[type, Writer] = {
    DiskDef: _disk,
    ControllerDef: _controller,
    InterfaceDef: _interface,
    ChrDef: _serial,
    GraphicsDef: _graphics,
    _video_class(): _video,
    MemBalloonDef: _memballoon,
}
"""The writer of each device class (exact classes: a subclass may write more)."""


def write_device(device: DeviceDef, flags: int, indent: str, values: list[str]) -> str | None:
    """*device*'s text at *indent* when its writer knows its shape, else None."""
    writer = WRITERS.get(device.__class__)
    if writer is None:
        return None
    return writer(device, flags, indent, values)
