"""The ``<panic>`` device: how the guest reports a kernel panic to the host.

::

    <panic model='isa'>
      <address type='isa' iobase='0x505'/>
    </panic>

``model`` is optional; a domain may have one panic device per model
(:func:`check_duplicate_models`). A ``<panic/>`` with neither model nor
address stays in the definition but libvirt does not write it out
(:meth:`PanicDef.hidden`) - the hypervisor driver picks the model when the
guest starts.

=============  ===========================================================
model          how the guest signals the panic
=============  ===========================================================
``isa``        the pvpanic ISA device (``<address type='isa' iobase=...>``)
``pseries``    the PAPR hypervisor call of ppc64 pSeries guests
``hyperv``     the Hyper-V crash MSRs (Windows guests)
``s390``       the s390 diagnose interface
=============  ===========================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import HEX, XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    element,
    fail,
    prop,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["MODELS", "Panic", "PanicDef", "check_duplicate_models"]

logger = logging.getLogger(__name__)

MODELS = ("default", "isa", "pseries", "hyperv", "s390")
"""``virDomainPanicModel`` (``default`` is written as no ``model`` at all)."""


@dataclass
class PanicDef(DeviceDef):
    """A parsed ``<panic>`` (``virDomainPanicDef``)."""

    model: str = "default"
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def hidden(self, flags: int = 0) -> bool:
        """A panic device with neither model nor address is not written at all."""
        return self.model == "default" and not self.info.elements()

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainPanicDefFormat``."""
        model = None if self.model == "default" else self.model
        return element("panic", [("model", model)], self.info.elements())


def check_duplicate_models(panics: Iterable[PanicDef]) -> None:
    """``virDomainDefRejectDuplicatePanics``: one panic device per model."""
    seen: set[str] = set()
    for panic in panics:
        if panic.model in seen:
            fail(ErrorNumber.XML_ERROR, f"Multiple panic devices with model '{panic.model}'")
        seen.add(panic.model)


class Panic(DeviceModel):
    """A ``<panic>`` element."""

    TAG = "panic"

    model = XMLProperty("./@model", doc="``isa``, ``pseries``, ``hyperv`` or ``s390``.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")
    address_type = XMLProperty("./address/@type", doc="``isa`` for the pvpanic device.")
    iobase = XMLProperty(
        "./address[@type='isa']/@iobase",
        HEX,
        doc="The pvpanic device's I/O port (``0x505`` by convention).",
    )

    def parse(self, ctx: DeviceContext | None = None) -> PanicDef:
        """``virDomainPanicDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        info = DeviceInfo.parse(node, ctx)
        model = prop(node, "model")
        if model is not None and model not in MODELS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown panic model '{model}'")
        return PanicDef(model=model or "default", info=info)
