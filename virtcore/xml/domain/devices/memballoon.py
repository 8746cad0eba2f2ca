"""The ``<memballoon>`` device: the memory balloon the host uses to reclaim guest memory.

::

    <memballoon model='virtio' autodeflate='on' freePageReporting='on'>
      <stats period='10'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
      <driver iommu='on'/>
    </memballoon>

``model`` is required (``virtio``, ``xen``, ``none`` and the virtio
transitional variants). ``<stats period>`` is read as a C integer in any
base; a negative period means no statistics. The address of a ``none``
balloon is ignored. A domain has at most one balloon.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.xml import units
from virtcore.xml.builder import ONOFF, IntConverter, XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    field_defaults,
    onoff,
    optional_element,
    prop_enum,
    prop_int,
    prop_switch,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["MODELS", "ONLY_ONE_MESSAGE", "MemBalloon", "MemBalloonDef"]

logger = logging.getLogger(__name__)

MODELS = ("virtio", "xen", "none", "virtio-transitional", "virtio-non-transitional")
"""``virDomainMemballoonModel``."""
ONLY_ONE_MESSAGE = "only a single memory balloon device is supported"
"""libvirt's error (``VIR_ERR_INTERNAL_ERROR``) for a second ``<memballoon>``."""


@dataclass
class MemBalloonDef(DeviceDef):
    """A parsed ``<memballoon>`` (``virDomainMemballoonDef``)."""

    model: str
    autodeflate: bool | None = None
    free_page_reporting: bool | None = None
    period: int = 0
    virtio: VirtioOptions | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainMemballoonDefFormat``."""
        kids: list[OutNode | None] = (
            [element("stats", [("period", self.period)])] if self.period else []
        )
        kids += self.info.elements()
        if self.virtio is not None:
            kids.append(optional_element("driver", self.virtio.attrs()))
        return element(
            "memballoon",
            [
                ("model", self.model),
                ("autodeflate", onoff(self.autodeflate)),
                ("freePageReporting", onoff(self.free_page_reporting)),
            ],
            kids,
        )


class MemBalloon(DeviceModel):
    """A ``<memballoon>`` element."""

    TAG = "memballoon"
    XML_ORDER = {
        "": ("@model", "@autodeflate", "@freePageReporting", "stats", "alias", "address", "driver")
    }

    model = XMLProperty("./@model", doc="``virtio``, ``xen`` or ``none``.")
    autodeflate = XMLProperty("./@autodeflate", ONOFF, doc="Deflate on guest OOM.")
    free_page_reporting = XMLProperty(
        "./@freePageReporting", ONOFF, doc="Return freed guest pages to the host."
    )
    stats_period = XMLProperty(
        "./stats/@period",
        IntConverter(units.parse_int, base=0),
        doc="Statistics period in seconds (read in any C base, as libvirt reads it).",
    )
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> MemBalloonDef:
        """``virDomainMemballoonDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> MemBalloonDef:
        """:meth:`parse` of *node*, without a model around it."""
        model = prop_enum(node, "model", MODELS, required=True)
        assert model is not None
        result = _new_memballoon(model)
        # The usual balloon has model= alone: the switches are only looked for beside it.
        if len(node.attrib) != 1:
            result.autodeflate = prop_switch(node, "autodeflate")
            result.free_page_reporting = prop_switch(node, "freePageReporting")
        if not len(node):
            # No child element: no statistics, device info or driver to read.
            result.info = DeviceInfo()
            return result
        stats = child(node, "stats")
        if stats is not None:
            result.period = max(prop_int(stats, "period", base=0) or 0, 0)
        result.info = DeviceInfo.parse(node, ctx) if model != "none" else DeviceInfo()
        result.virtio = VirtioOptions.parse(child(node, "driver"))
        return result


_MEMBALLOON_TEMPLATE = field_defaults(MemBalloonDef)
_new_object = object.__new__


def _new_memballoon(model: str) -> MemBalloonDef:
    """``MemBalloonDef(model=model)`` without the generated ``__init__``: the fields copied
    at once from their defaults, but the device info, which the reader sets (None until
    then)."""
    made = _new_object(MemBalloonDef)
    values = _MEMBALLOON_TEMPLATE.copy()
    values["model"] = model
    made.__dict__ = values
    return made
