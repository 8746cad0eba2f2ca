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
learns it; the only fields left out are those named as settings of other
types, which the shape written never shows (and which the perturbation tests
change to prove it). For anything else a writer returns None, and the caller
writes the device's ``to_element`` tree, whose text is the same: tests compare
both routes over every domain document of the suites.

The usual record is recognised cheaply: a device info or a pty source at
its defaults by one comparison of its dictionary with that of a default
instance, virtio options all unset likewise.

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
from virtcore.xml.domain.common import default_record
from virtcore.xml.domain.devices.chardev import ChrDef
from virtcore.xml.domain.devices.controller import ControllerDef
from virtcore.xml.domain.devices.disk import DiskDef
from virtcore.xml.domain.devices.graphics import GraphicsDef, ListenDef
from virtcore.xml.domain.devices.interface import InterfaceDef
from virtcore.xml.domain.devices.memballoon import MemBalloonDef
from virtcore.xml.domain.devices.source import StorageSource
from virtcore.xml.domain.devices.support import DeviceDef, DeviceInfo, VirtioOptions

__all__ = [
    "WRITERS",
    "RestAtDefault",
    "serial_console",
    "write_console",
    "write_device",
    "write_info",
    "write_serial",
]

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

    *ignored* names the fields the shape a writer accepts never shows: those
    ``to_element`` reads only for other types (the network settings of a local
    disk's source, SPICE's settings for VNC graphics). They are not tested; the
    perturbation tests change each of them on a written device and require the
    text to stay that of ``to_element``. Every other field, a field added later
    among them, is tested.
    """

    __slots__ = ("at_default", "cls", "ignored", "names")

    def __init__(self, cls: type, written: Iterable[str], ignored: Iterable[str] = ()) -> None:
        handled = frozenset(written)
        self.cls = cls
        self.ignored = tuple(ignored)
        """The fields not tested (see the class docstring)."""
        known = {item.name for item in fields(cls)}
        for name in (*handled, *self.ignored):
            if name not in known:
                raise TypeError(f"{cls.__name__} has no field {name}")
        skipped = handled | frozenset(self.ignored)
        names: list[str] = []
        defaults: list[object] = []
        for item in fields(cls):
            if item.name in skipped:
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
        self.at_default = _at_default(names, defaults)
        """``at_default(record)``: whether every field of :attr:`names` of *record* is at
        its default."""


def _at_default(names: list[str], defaults: list[object]) -> Callable[[object], bool]:
    """The test of :attr:`RestAtDefault.at_default`: a closure, which is called for
    nearly every record written, without the look-ups of a method."""
    get = attrgetter(*names)
    items = itemgetter(*names)
    # Either getter of one name gives the value itself, of several a tuple.
    expected: object = defaults[0] if len(defaults) == 1 else tuple(defaults)

    def at_default(record: object) -> bool:
        try:
            # Records made by __init__ or from a template hold every field in their
            # dictionary, where look-ups cost less than attribute reads.
            same: bool = items(record.__dict__) == expected
        except KeyError:
            same = get(record) == expected
        return same

    return at_default


def _default_dict(cls: type) -> dict[str, object]:
    """The instance dictionary ``cls()`` has: every field at its default."""
    return dict(vars(default_record(cls)))


# -- device info ----------------------------------------------------------------------------

_INFO_REST: dict[type, RestAtDefault] = {}
_INFO_WRITTEN = ("alias", "address_type", "address", "boot_order", "loadparm")
_EMPTY_INFO: dict[type, dict[str, object] | None] = {}
"""Per device-info class, the dictionary of an instance at its defaults when such an
instance writes nothing (None otherwise): one dictionary comparison then stands for
the whole test of the usual device's info."""


def write_info(info: DeviceInfo, indent: str, values: list[str]) -> str | None:
    """The ``<boot>``, ``<alias>`` and ``<address>`` lines of *info* at *indent*
    (``DeviceInfo.elements``), or None when it has anything else to write."""
    kind = info.__class__
    try:
        empty = _EMPTY_INFO[kind]
    except KeyError:
        empty = _EMPTY_INFO[kind] = _empty_info(kind)
    if info.__dict__ == empty:
        return ""
    rest = _INFO_REST.get(kind)
    if rest is None:
        written = [name for name in _INFO_WRITTEN if name in {f.name for f in fields(info)}]
        rest = _INFO_REST[kind] = RestAtDefault(kind, written)
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
    address_type = info.address_type
    if address_type not in _NO_ADDRESS:
        attrs = ""
        for key, value in info.address.items():
            if value is not None:
                attrs += f" {key}='{value}'"
                values.append(value)
        text += f"{indent}<address type='{address_type}'{attrs}/>\n"
    return text


def _empty_info(kind: type) -> dict[str, object] | None:
    """The dictionary of a *kind* at its defaults, when such an info writes nothing."""
    _EMPTY_INFO[kind] = None  # the general test, for the probe below
    empty = _default_dict(kind)
    probe: DeviceInfo = object.__new__(kind)
    probe.__dict__.update(empty)
    return empty if write_info(probe, "", []) == "" else None


_NO_ADDRESS = frozenset({"none", "virtio-s390"})
_NO_VIRTIO_OPTIONS = VirtioOptions()
_NO_VIRTIO_DICT = _default_dict(VirtioOptions)


def _plain_virtio(options: VirtioOptions) -> bool:
    """Whether *options* write nothing: a ``<driver>`` without virtio options reads as
    options all unset, which every kind writes as it writes none. Their dictionary is
    compared first, at a fraction of the cost of the generated ``__eq__``."""
    if options.__class__ is VirtioOptions and options.__dict__ == _NO_VIRTIO_DICT:
        return True
    return bool(options == _NO_VIRTIO_OPTIONS)


# -- disks -----------------------------------------------------------------------------------

_DISK_REST = RestAtDefault(
    DiskDef,
    ("src", "device", "bus", "dst", "snapshot", "driver_name", "tray", "virtio", "info"),
    # Whether the source's auth and encryption are written in the disk: the writer
    # takes sources without either.
    ignored=("disk_auth", "disk_encryption"),
)
_SOURCE_REST = RestAtDefault(
    StorageSource,
    ("type", "path", "format", "startup_policy", "readonly", "shared", "index"),
    # Settings of network, volume, vhost-user and NVMe sources, and the detected flag
    # of backing layers: StorageSource.source_element reads none for a local source.
    ignored=(
        "protocol", "query", "tls", "tls_hostname", "snapshot", "config_file",
        "initiator_iqn", "ssl_verify", "readahead", "timeout", "nfs_user", "nfs_group",
        "pool", "volume", "mode", "fdgroup", "reconnect_enabled", "reconnect_timeout",
        "nvme_managed", "nvme_namespace", "nvme_address", "detected",
    ),
)  # fmt: skip
_PATH_ATTRS = {"file": "file", "block": "dev", "dir": "dir"}


def _disk(disk: DiskDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``DiskDef.to_element`` of a local disk with a plain driver, source and target."""
    virtio = disk.virtio
    if (virtio is not None and not _plain_virtio(virtio)) or not _DISK_REST.at_default(disk):
        return None
    source = disk.src
    path_attr = _PATH_ATTRS.get(source.type)
    if path_attr is None or not _SOURCE_REST.at_default(source):
        return None
    readonly = source.readonly
    snapshot = disk.snapshot
    if snapshot is not None and not (snapshot == "no" and readonly):
        return None
    inner = indent + "  "
    info = write_info(disk.info, inner, values)
    if info is None:
        return None
    name = disk.driver_name
    fmt = source.format
    if name is not None:
        if fmt is not None:
            values += (name, fmt)
            driver = f"{inner}<driver name='{name}' type='{fmt}'/>\n"
        else:
            values.append(name)
            driver = f"{inner}<driver name='{name}'/>\n"
    elif fmt is not None:
        values.append(fmt)
        driver = f"{inner}<driver type='{fmt}'/>\n"
    else:
        driver = ""
    path = source.path
    if path is not None:
        values.append(path)
        attrs = f" {path_attr}='{path}'"
    else:
        attrs = ""
    if source.startup_policy:
        attrs += f" startupPolicy='{source.startup_policy}'"
    if source.index:
        attrs += f" index='{source.index}'"
    dst = disk.dst
    if dst is not None:
        values.append(dst)
        target = f"{inner}<target dev='{dst}' bus='{disk.bus}'"
    else:
        target = f"{inner}<target bus='{disk.bus}'"
    device = disk.device
    tray = disk.tray
    if tray is not None and tray != "closed" and device in ("cdrom", "floppy"):
        target += f" tray='{tray}'"
    if readonly:
        target += f"/>\n{inner}<readonly/>\n"
    else:
        target += "/>\n"
    if source.shared:
        target += f"{inner}<shareable/>\n"
    return (
        f"{indent}<disk type='{source.type}' device='{device}'>\n{driver}"
        + (f"{inner}<source{attrs}/>\n" if attrs else "")
        + f"{target}{info}{indent}</disk>\n"
    )


# -- controllers -------------------------------------------------------------------------------

_OPTIONED = frozenset({"pci", "xenbus"})
_PORTED = frozenset({"virtio-serial", "usb"})
_CONTROLLER_REST = RestAtDefault(
    ControllerDef,
    ("type", "index", "model", "ports", "vectors", "virtio", "info"),
    # The settings of PCI and Xen bus controllers, which the writer declines.
    ignored=("max_grant_frames", "max_event_channels", "model_name", "numa_node", "pcihole64"),
)


def _controller(
    controller: ControllerDef, flags: int, indent: str, values: list[str]
) -> str | None:
    """``ControllerDef.to_element`` of a controller without driver or PCI options."""
    kind = controller.type
    virtio = controller.virtio
    if (
        kind in _OPTIONED
        or (virtio is not None and not _plain_virtio(virtio))
        or not _CONTROLLER_REST.at_default(controller)
    ):
        return None
    info = write_info(controller.info, indent + "  ", values)
    if info is None:
        return None
    model = controller.model
    if model is not None:
        attrs = f" type='{kind}' index='{controller.index}' model='{model}'"
    else:
        attrs = f" type='{kind}' index='{controller.index}'"
    if kind in _PORTED:
        if controller.ports is not None:
            attrs += f" ports='{controller.ports}'"
        if kind == "virtio-serial" and controller.vectors is not None:
            attrs += f" vectors='{controller.vectors}'"
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
    virtio = net.virtio
    if (virtio is not None and not _plain_virtio(virtio)) or not _INTERFACE_REST.at_default(net):
        return None
    inner = indent + "  "
    info = write_info(net.info, inner, values)
    if info is None:
        return None
    kind = net.type
    mac = net.mac
    if mac is not None:
        values.append(mac)
        attrs = f" address='{mac}'"
    else:
        attrs = ""
    if net.mac_type is not None:
        attrs += f" type='{net.mac_type}'"
    check = net.mac_check
    if check is not None:
        attrs += " check='yes'" if check else " check='no'"
    text = f"{indent}<interface type='{kind}'>\n{inner}<mac{attrs}/>\n"
    attrs = ""
    for key, value in net.source:
        if value is not None:
            shown = f"{value}"
            values.append(shown)
            attrs += f" {key}='{shown}'"
    portid = net.portid
    if kind == "network" and portid is not None and not flags & _INACTIVE:
        values.append(portid)
        attrs += f" portid='{portid}'"
    if attrs:
        text += f"{inner}<source{attrs}/>\n"
    ifname = net.ifname
    if ifname is not None:
        values.append(ifname)
        text += f"{inner}<target dev='{ifname}'/>\n"
    model = net.model
    if model is not None:
        values.append(model)
        text += f"{inner}<model type='{model}'/>\n"
    return f"{text}{info}{indent}</interface>\n"


# -- character devices ---------------------------------------------------------------------------

_CHR_REST = RestAtDefault(
    ChrDef,
    ("device_type", "source", "target_type", "port", "info"),
    # A channel's target settings: ChrDef.to_element reads them for channels only.
    ignored=("target_name", "target_address", "target_port", "state"),
)
_PTY_REST: dict[type, RestAtDefault] = {}
_PLAIN_PTY: dict[type, dict[str, object] | None] = {}
"""Per source class, the dictionary of a source at its defaults when that is a pty
without path (None otherwise): the usual source passes in one comparison."""


def _plain_pty(device: ChrDef, flags: int) -> bool:
    """Whether *device* is a pty with nothing to write on the host side (no ``<source>``,
    ``<log>`` or ``tty``) and no target options."""
    source = device.source
    kind = source.__class__
    try:
        plain = _PLAIN_PTY[kind]
    except KeyError:
        plain = _PLAIN_PTY[kind] = _default_dict(kind)
        if plain.get("type") != "pty" or plain.get("path") is not None:
            plain = _PLAIN_PTY[kind] = None
    if source.__dict__ != plain:
        if source.type != "pty" or (source.path is not None and not flags & _INACTIVE):
            return False
        rest = _PTY_REST.get(kind)
        if rest is None:
            rest = _PTY_REST[kind] = RestAtDefault(kind, ("type", "path"))
        if not rest.at_default(source):
            return False
    return _CHR_REST.at_default(device)


def _serial(device: ChrDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``ChrDef.to_element`` of a pty serial port without target model."""
    written = write_serial(device, flags, indent, values)
    return None if written is None else written[0]


def write_serial(
    device: ChrDef, flags: int, indent: str, values: list[str]
) -> tuple[str, str] | None:
    """The text of a pty serial port without target model (``ChrDef.to_element``) and
    the text of its device info, or None.

    A console showing the port has that info: :func:`serial_console` writes it
    from the info text without testing the port again.
    """
    if device.device_type != "serial" or not _plain_pty(device, flags):
        return None
    inner = indent + "  "
    info = write_info(device.info, inner, values)
    if info is None:
        return None
    target_type = device.target_type
    if target_type == "none":
        target = f"{inner}<target port='{device.port}'/>\n"
    else:
        target = f"{inner}<target type='{target_type}' port='{device.port}'/>\n"
    return f"{indent}<serial type='pty'>\n{target}{info}{indent}</serial>\n", info


def serial_console(device: ChrDef, info: str, indent: str) -> str:
    """``write_console(device, True, ...)`` of a serial port :func:`write_serial` wrote
    with the same flags and indent, *info* the info text it gave."""
    return (
        f"{indent}<console type='pty'>\n"
        f"{indent}  <target type='serial' port='{device.port}'/>\n"
        f"{info}{indent}</console>\n"
    )


def write_console(
    device: ChrDef, serial: bool, flags: int, indent: str, values: list[str]
) -> str | None:
    """The text of a console (``Chardevs.console_elements``): with *serial*, *device* is
    the serial port the console shows (``ChrDef.console_element``), else the console
    itself; None unless it is a plain pty."""
    if (not serial and device.device_type != "console") or not _plain_pty(device, flags):
        return None
    inner = indent + "  "
    info = write_info(device.info, inner, values)
    if info is None:
        return None
    if serial:
        return serial_console(device, info, indent)
    return (
        f"{indent}<console type='pty'>\n"
        f"{inner}<target type='{device.target_type}' port='{device.port}'/>\n"
        f"{info}{indent}</console>\n"
    )


# -- graphics, video, balloon -------------------------------------------------------------------

_GRAPHICS_REST = RestAtDefault(
    GraphicsDef,
    ("type", "listens", "port", "autoport", "info"),
    # The settings of the other graphics types, which GraphicsDef.to_element reads
    # for those types only.
    ignored=(
        "tls_port", "fullscreen", "xauth", "display", "gl", "rendernode", "replace_user",
        "multi_user", "default_mode", "channels", "spice_options", "p2p", "address",
    ),
)  # fmt: skip
_LISTEN_REST = RestAtDefault(ListenDef, ("type", "address"))


def _graphics(graphics: GraphicsDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``GraphicsDef.to_element`` of VNC graphics listening on one address."""
    listens = graphics.listens
    if graphics.type != "vnc" or len(listens) != 1:
        return None
    listen = listens[0]
    if (
        listen.type != "address"
        or not _GRAPHICS_REST.at_default(graphics)
        or not _LISTEN_REST.at_default(listen)
    ):
        return None
    port = graphics.port
    autoport = graphics.autoport
    if port and (not autoport or not flags & _INACTIVE):
        attrs = f" port='{port}' autoport='yes'" if autoport else f" port='{port}' autoport='no'"
    elif autoport:
        attrs = " port='-1' autoport='yes'"
    else:
        attrs = " autoport='no'"
    address = listen.address
    # libvirt writes no device info for graphics (GraphicsDef.to_element neither).
    if address is None:
        return (
            f"{indent}<graphics type='vnc'{attrs}>\n"
            f"{indent}  <listen type='address'/>\n{indent}</graphics>\n"
        )
    values.append(address)
    return (
        f"{indent}<graphics type='vnc'{attrs} listen='{address}'>\n"
        f"{indent}  <listen type='address' address='{address}'/>\n{indent}</graphics>\n"
    )


def _video(video: Any, flags: int, indent: str, values: list[str]) -> str | None:
    """``VideoDef.to_element`` of a card with a model and sizes only."""
    rest = _VIDEO_REST.get(video.__class__)
    if rest is None:
        rest = _VIDEO_REST[video.__class__] = RestAtDefault(video.__class__, _VIDEO_WRITTEN)
    virtio = video.virtio
    if (virtio is not None and not _plain_virtio(virtio)) or not rest.at_default(video):
        return None
    inner = indent + "  "
    info = write_info(video.info, inner, values)
    if info is None:
        return None
    attrs = f" type='{video.type}'"
    if video.ram:
        attrs += f" ram='{video.ram}'"
    if video.vram:
        attrs += f" vram='{video.vram}'"
    if video.vram64:
        attrs += f" vram64='{video.vram64}'"
    if video.vgamem:
        attrs += f" vgamem='{video.vgamem}'"
    if video.heads:
        attrs += f" heads='{video.heads}'"
    if video.primary:
        attrs += " primary='yes'"
    return f"{indent}<video>\n{inner}<model{attrs}/>\n{info}{indent}</video>\n"


_VIDEO_WRITTEN = (
    "type", "primary", "ram", "vram", "vram64", "vgamem", "heads", "virtio", "info",
)  # fmt: skip
_VIDEO_REST: dict[type, RestAtDefault] = {}


def _memballoon(balloon: MemBalloonDef, flags: int, indent: str, values: list[str]) -> str | None:
    """``MemBalloonDef.to_element`` of a balloon with a model only."""
    virtio = balloon.virtio
    if (virtio is not None and not _plain_virtio(virtio)) or not _BALLOON_REST.at_default(balloon):
        return None
    info = write_info(balloon.info, indent + "  ", values)
    if info is None:
        return None
    if not info:
        return f"{indent}<memballoon model='{balloon.model}'/>\n"
    return f"{indent}<memballoon model='{balloon.model}'>\n{info}{indent}</memballoon>\n"


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
