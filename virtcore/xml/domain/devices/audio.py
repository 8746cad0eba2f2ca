"""The ``<audio>`` backend: where the guest's sound cards play and record.

::

    <audio id='1' type='pulseaudio' timerPeriod='40' serverName='srv'>
      <input mixingEngine='yes' fixedSettings='yes' voices='1' bufferLength='100'
             name='in' streamName='mic' latency='10'>
        <settings frequency='44100' channels='2' format='s16'/>
      </input>
      <output name='out'/>
    </audio>

A ``<sound>`` device names its backend by ``id`` (checked against the
domain's audio ids). Each backend type reads its own attributes, on the
``<audio>`` element (``serverName``, ``driver``, ``path``) and on
``<input>``/``<output>`` (``dev``, ``bufferCount``, ...); anything another
type would read is dropped, as libvirt drops it, and so are an ``<alias>``
and an ``<address>``. ``<input>``/``<output>`` without settings are left
out. ``fixedSettings='yes'`` needs ``mixingEngine='yes'``, and
``<settings>`` need ``fixedSettings='yes'``. Two backends may not share an
id (:func:`check_audio_ids`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import UINT, XMLProperty
from virtcore.xml.domain.devices.address import DeviceInfo
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceModel,
    child,
    element,
    fail,
    prop,
    prop_enum,
    prop_tristate,
    prop_uint,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["TYPES", "Audio", "AudioDef", "AudioIO", "check_audio_ids"]

logger = logging.getLogger(__name__)

TYPES = (
    "none", "alsa", "coreaudio", "jack", "oss", "pulseaudio", "sdl", "spice", "file", "dbus",
)  # fmt: skip
"""``virDomainAudioType``."""
FORMATS = ("default", "s8", "u8", "s16", "u16", "s32", "u32", "f32")
SDL_DRIVERS = ("default", "esd", "alsa", "arts", "pulseaudio")

# The <input>/<output> attributes each backend type reads, in libvirt's output order.
_IO_ATTRS: dict[str, tuple[str, ...]] = {
    "alsa": ("dev",),
    "coreaudio": ("bufferCount",),
    "jack": ("serverName", "clientName", "connectPorts", "exactName"),
    "oss": ("dev", "bufferCount"),
    "pulseaudio": ("name", "streamName", "latency"),
    "sdl": ("bufferCount",),
}
_NUMBERS = ("bufferCount", "latency")
# The <audio> attribute each backend type reads.
_TOP_ATTR = {"pulseaudio": "serverName", "sdl": "driver", "file": "path"}


@dataclass
class AudioIO:
    """One direction of an audio backend (``virDomainAudioIOCommon`` and its backend part)."""

    mixing_engine: bool | None = None
    fixed_settings: bool | None = None
    voices: int = 0
    buffer_length: int = 0
    settings: list[tuple[str, str | int | None]] | None = None
    """``<settings>`` (frequency, channels, format), None without the element."""
    backend: dict[str, str | int] = field(default_factory=dict)

    def element(self, tag: str) -> OutNode | None:
        """``<input>``/``<output>``, or None when nothing is set."""
        attrs: list[tuple[str, str | int | None]] = [
            ("mixingEngine", yesno(self.mixing_engine)),
            ("fixedSettings", yesno(self.fixed_settings)),
            ("voices", self.voices or None),
            ("bufferLength", self.buffer_length or None),
            *self.backend.items(),
        ]
        kids = [element("settings", self.settings)] if self.settings is not None else []
        if not kids and all(value is None for _, value in attrs):
            return None
        return element(tag, attrs, kids)


@dataclass
class AudioDef(DeviceDef):
    """A parsed ``<audio>`` (``virDomainAudioDef``)."""

    type: str = "none"
    id: int = 0
    timer_period: int = 0
    attribute: str | None = None
    """The backend's ``<audio>`` attribute (``serverName``, ``driver`` or ``path``)."""
    input: AudioIO = field(default_factory=AudioIO)
    output: AudioIO = field(default_factory=AudioIO)
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """Audio backends carry no device info to check."""

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainAudioDefFormat``."""
        attrs: list[tuple[str, str | int | None]] = [
            ("id", self.id),
            ("type", self.type),
            ("timerPeriod", self.timer_period or None),
        ]
        name = _TOP_ATTR.get(self.type)
        if name is not None:
            attrs.append((name, self.attribute))
        kids = [self.input.element("input"), self.output.element("output")]
        return element("audio", attrs, kids)


def check_audio_ids(audios: list[AudioDef]) -> None:
    """Two audio backends may not use one id."""
    for i, audio in enumerate(audios):
        if any(other.id == audio.id for other in audios[i + 1 :]):
            fail(ErrorNumber.XML_ERROR, f"audio ID {audio.id} is used multiple times")


class Audio(DeviceModel):
    """An ``<audio>`` element: typed properties, and libvirt's parsing (:meth:`parse`)."""

    TAG = "audio"
    XML_ORDER = {
        "": ("@id", "@type", "@timerPeriod", "@serverName", "@driver", "@path", "input",
             "output"),
    }  # fmt: skip

    id = XMLProperty("./@id", UINT, doc="The id ``<sound>`` devices refer to.")
    type = XMLProperty("./@type", doc="``none``, ``alsa``, ``pulseaudio``, ``spice``, ...")
    timer_period = XMLProperty("./@timerPeriod", UINT, doc="Timer period in microseconds.")
    server_name = XMLProperty("./@serverName", doc="The PulseAudio server.")
    driver = XMLProperty("./@driver", doc="The SDL driver (``esd``, ``alsa``, ...).")
    path = XMLProperty("./@path", doc="The file a ``file`` backend writes.")

    def parse(self, ctx: DeviceContext | None = None) -> AudioDef:
        """``virDomainAudioDefParseXML``."""
        node = self.element
        audio = AudioDef()
        audio.type = prop_enum(node, "type", TYPES, required=True) or "none"
        audio.id = prop_uint(node, "id", required=True, nonzero=True) or 0
        audio.timer_period = prop_uint(node, "timerPeriod", nonzero=True) or 0
        nodes = (child(node, "input"), child(node, "output"))
        for io, io_node in zip((audio.input, audio.output), nodes, strict=True):
            if io_node is not None:
                _parse_common(io_node, io)
        name = _TOP_ATTR.get(audio.type)
        if name == "driver":
            audio.attribute = prop_enum(node, "driver", SDL_DRIVERS, nonzero=True)
        elif name is not None:
            audio.attribute = prop(node, name)
        for io, io_node in zip((audio.input, audio.output), nodes, strict=True):
            if io_node is not None:
                _parse_backend(io_node, audio.type, io)
        return audio


def _parse_common(node: etree._Element, io: AudioIO) -> None:
    """``virDomainAudioCommonParse``."""
    io.mixing_engine = prop_tristate(node, "mixingEngine")
    io.fixed_settings = prop_tristate(node, "fixedSettings")
    io.voices = prop_uint(node, "voices", nonzero=True) or 0
    io.buffer_length = prop_uint(node, "bufferLength", nonzero=True) or 0
    if io.fixed_settings and not io.mixing_engine:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "fixed audio settings requires mixing engine")
    settings = child(node, "settings")
    if settings is None:
        return
    if not io.fixed_settings:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            "audio settings specified without fixed settings flag",
        )
    frequency = prop_uint(settings, "frequency", nonzero=True)
    channels = prop_uint(settings, "channels", nonzero=True)
    fmt = prop_enum(settings, "format", FORMATS, nonzero=True)
    io.settings = [("frequency", frequency), ("channels", channels), ("format", fmt)]


def _parse_backend(node: etree._Element, kind: str, io: AudioIO) -> None:
    for name in _IO_ATTRS.get(kind, ()):
        if name in _NUMBERS:
            number = prop_uint(node, name)
            if number:
                io.backend[name] = number
        elif name == "exactName":
            exact = prop_tristate(node, name)
            if exact is not None:
                io.backend[name] = yesno(exact) or ""
        else:
            value = prop(node, name)
            if value is not None:
                io.backend[name] = value
