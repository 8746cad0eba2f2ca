"""The ``<sound>`` device: an emulated sound card and its codecs.

::

    <sound model='ich9'>
      <codec type='duplex'/>
      <codec type='micro'/>
      <audio id='1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </sound>

``model`` is required. Only the Intel HDA models (``ich6``, ``ich9``) have
codecs; libvirt ignores ``<codec>`` elements of the other models. ``<audio
id='N'/>`` names the ``<audio>`` backend the card plays through, which must
exist in the domain (:attr:`DeviceContext.audio_ids`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    children,
    element,
    fail,
    prop,
    prop_enum,
    prop_uint,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["CODECS", "MODELS", "Sound", "SoundDef", "check_audio_id"]

logger = logging.getLogger(__name__)

MODELS = ("sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "ich7")
"""``virDomainSoundModel``."""
CODECS = ("duplex", "micro", "output")
"""``virDomainSoundCodecType``."""
_WITH_CODECS = ("ich6", "ich9")


def check_audio_id(ctx: DeviceContext, audio_id: int) -> None:
    """``virDomainEnsureAudioID``: a device's ``<audio id>`` must name an ``<audio>``."""
    if audio_id and audio_id not in ctx.audio_ids:
        fail(ErrorNumber.XML_ERROR, f"no audio device with ID {audio_id}")


@dataclass
class SoundDef(DeviceDef):
    """A parsed ``<sound>`` (``virDomainSoundDef``)."""

    model: str
    codecs: list[str] = field(default_factory=list)
    audio_id: int = 0
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainSoundDefValidate``."""
        super().validate(ctx)
        check_audio_id(ctx, self.audio_id)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainSoundDefFormat``."""
        kids = [element("codec", [("type", codec)]) for codec in self.codecs]
        if self.audio_id > 0:
            kids.append(element("audio", [("id", self.audio_id)]))
        return element("sound", [("model", self.model)], [*kids, *self.info.elements()])


class Sound(DeviceModel):
    """A ``<sound>`` element."""

    TAG = "sound"
    XML_ORDER = {"": ("@model", "codec", "audio", "alias", "address")}

    model = XMLProperty("./@model", doc="The emulated card (``ich9``, ``ac97``, ``usb``, ...).")
    audio_id = XMLProperty("./audio/@id", int, doc="The ``<audio>`` backend it uses.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    @property
    def codecs(self) -> list[str | None]:
        """The ``type`` of each ``<codec>``, in document order."""
        return [prop(codec, "type") for codec in children(self.element, "codec")]

    def add_codec(self, codec: str) -> None:
        """Append a ``<codec type=...>`` after the existing ones."""
        node = self.element
        existing = children(node, "codec")
        new = etree.Element("codec", type=codec)
        if existing:
            existing[-1].addnext(new)
        else:
            node.insert(0, new)

    def parse(self, ctx: DeviceContext | None = None) -> SoundDef:
        """``virDomainSoundDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop_enum(node, "model", MODELS, required=True)
        assert model is not None
        result = SoundDef(model=model)
        if model in _WITH_CODECS:
            for codec in children(node, "codec"):
                kind = prop(codec, "type")
                if kind not in CODECS:
                    # libvirt prints a missing type through printf's "%s".
                    shown = "(null)" if kind is None else kind
                    fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown codec type '{shown}'")
                result.codecs.append(kind)
        audio = child(node, "audio")
        if audio is not None:
            result.audio_id = prop_uint(audio, "id", required=True, nonzero=True) or 0
        result.info = DeviceInfo.parse(node, ctx)
        return result
