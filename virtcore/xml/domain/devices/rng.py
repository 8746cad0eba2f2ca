"""The ``<rng>`` device: a virtio random number generator and the host entropy it reads.

::

    <rng model='virtio'>
      <rate bytes='1234' period='2000'/>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <rng model='virtio'>
      <backend model='egd' type='tcp'>
        <source mode='connect' host='1.2.3.4' service='1234'/>
        <protocol type='raw'/>
      </backend>
    </rng>
    <rng model='virtio'>
      <backend model='builtin'/>
    </rng>

``model`` and exactly one ``<backend>`` with a ``model`` are required. The
``random`` backend reads ``/dev/random`` unless it names another file; the
``egd`` backend is a character device (see
:class:`~virtcore.xml.domain.devices.chardev.ChrSourceDef`). ``<rate
period>`` only counts when ``bytes`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.chardev import CHR_TYPES, ChrSourceDef
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    VirtioOptions,
    child,
    children,
    element,
    fail,
    optional_element,
    prop,
    text_of,
    virtio_attrs,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["BACKENDS", "MODELS", "RNG", "RNGDef"]

logger = logging.getLogger(__name__)

MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
"""``virDomainRNGModel``."""
BACKENDS = ("random", "egd", "builtin")
"""``virDomainRNGBackend``."""
DEFAULT_SOURCE = "/dev/random"


@dataclass
class RNGDef(DeviceDef):
    """A parsed ``<rng>`` (``virDomainRNGDef``)."""

    model: str
    backend: str
    rate: int = 0
    period: int = 0
    file: str | None = None
    chardev: ChrSourceDef | None = None
    virtio: VirtioOptions | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainRNGDefPostParse``: the ``random`` backend defaults to ``/dev/random``."""
        if self.backend == "random" and self.file is None:
            self.file = DEFAULT_SOURCE

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainRNGDefValidate``."""
        super().validate(ctx)
        if self.backend == "egd" and self.chardev is not None:
            self.chardev.validate(ctx)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainRNGDefFormat``."""
        rate = None
        if self.rate:
            rate = element("rate", [("bytes", self.rate), ("period", self.period or None)])
        if self.backend == "egd" and self.chardev is not None:
            backend = element(
                "backend",
                [("model", "egd"), ("type", self.chardev.type)],
                self.chardev.elements(flags),
            )
        else:
            text = self.file if self.backend == "random" else None
            backend = element("backend", [("model", self.backend)], text=text)
        return element(
            "rng",
            [("model", self.model)],
            [
                rate,
                backend,
                optional_element("driver", virtio_attrs(self.virtio)),
                *self.info.elements(),
            ],
        )


def _xpath_uint(node: etree._Element | None, name: str) -> int | None:
    """``virXPathUInt`` of an attribute: None when absent or empty, ValueError when bad."""
    if node is None:
        return None
    text = prop(node, name)
    if not text:
        return None
    return units.parse_uint(text)


class RNG(DeviceModel):
    """An ``<rng>`` element."""

    TAG = "rng"
    XML_ORDER = {"": ("@model", "rate", "backend", "driver", "alias", "address")}

    model = XMLProperty("./@model", doc="``virtio`` (or a transitional variant).")
    rate_bytes = XMLProperty("./rate/@bytes", int, doc="Bytes allowed per period.")
    rate_period = XMLProperty("./rate/@period", int, doc="The period in milliseconds.")
    backend_model = XMLProperty("./backend/@model", doc="``random``, ``egd`` or ``builtin``.")
    backend_type = XMLProperty("./backend/@type", doc="The egd backend's character device type.")
    source_file = XMLProperty("./backend[@model='random']", doc="The random backend's file.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> RNGDef:
        """``virDomainRNGDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop(node, "model")
        if model is None:
            fail(ErrorNumber.XML_ERROR, "missing RNG device model")
        if model not in MODELS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown RNG model '{model}'")
        rate_node = child(node, "rate")
        rate = period = 0
        try:
            rate = _xpath_uint(rate_node, "bytes") or 0
        except ValueError:
            fail(ErrorNumber.XML_ERROR, "invalid RNG rate bytes value")
        if rate:
            try:
                period = _xpath_uint(rate_node, "period") or 0
            except ValueError:
                fail(ErrorNumber.XML_ERROR, "invalid RNG rate period value")
        backends = children(node, "backend")
        if len(backends) != 1:
            fail(ErrorNumber.XML_ERROR, "only one RNG backend is supported")
        backend_node = backends[0]
        backend = prop(backend_node, "model")
        if backend is None:
            fail(ErrorNumber.XML_ERROR, "missing RNG device backend model")
        if backend not in BACKENDS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown RNG backend model '{backend}'")
        result = RNGDef(model=model, backend=backend, rate=rate, period=period)
        if backend == "random":
            result.file = text_of(backend_node)
        elif backend == "egd":
            kind = prop(backend_node, "type")
            if kind is None:
                fail(ErrorNumber.XML_ERROR, "missing EGD backend type")
            if kind not in CHR_TYPES:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown backend type '{kind}' for egd")
            result.chardev = ChrSourceDef.parse(backend_node, kind, ctx)
        result.info = DeviceInfo.parse(node, ctx)
        result.virtio = VirtioOptions.parse(child(node, "driver"))
        return result
