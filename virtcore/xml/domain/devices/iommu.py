"""The ``<iommu>`` device: an emulated IOMMU and its driver options.

::

    <iommu model='intel'>
      <driver intremap='on' caching_mode='on' eim='on' iotlb='on' aw_bits='48'/>
    </iommu>

``model`` is required (``intel``, ``smmuv3``, ``virtio``); only ``intel``
takes driver options and only ``virtio`` may have an address. Interrupt
remapping needs the split I/O APIC (``<ioapic driver='qemu'/>`` in the
domain features, :attr:`DeviceContext.ioapic_driver`) and ``eim`` needs
interrupt remapping. A domain has at most one IOMMU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import ONOFF, XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    element,
    fail,
    onoff,
    optional_element,
    prop_enum,
    prop_switch,
    prop_uint,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["IOMMU", "MODELS", "ONLY_ONE_MESSAGE", "IOMMUDef"]

logger = logging.getLogger(__name__)

MODELS = ("intel", "smmuv3", "virtio")
"""``virDomainIOMMUModel``."""
ONLY_ONE_MESSAGE = "only a single IOMMU device is supported"
"""libvirt's error (``VIR_ERR_XML_ERROR``) for a second ``<iommu>``."""


@dataclass
class IOMMUDef(DeviceDef):
    """A parsed ``<iommu>`` (``virDomainIOMMUDef``)."""

    model: str
    intremap: bool | None = None
    caching_mode: bool | None = None
    eim: bool | None = None
    iotlb: bool | None = None
    aw_bits: int = 0
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainIOMMUDefValidate`` and the domain's ``virDomainDefIOMMUValidate``."""
        super().validate(ctx)
        options = (self.intremap, self.caching_mode, self.eim, self.iotlb)
        if self.model in ("smmuv3", "virtio") and (
            any(o is not None for o in options) or self.aw_bits
        ):
            fail(
                ErrorNumber.XML_ERROR,
                f"iommu model '{self.model}' doesn't support additional attributes",
            )
        if self.model in ("smmuv3", "intel") and self.info.address_type != "none":
            fail(ErrorNumber.XML_ERROR, f"iommu model '{self.model}' can't have address")

    def validate_domain(self, ctx: DeviceContext) -> None:
        """The checks libvirt makes on the domain as a whole (after every device)."""
        if self.intremap and ctx.ioapic_driver != "qemu":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')",
            )
        if self.eim and not self.intremap:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "IOMMU eim requires interrupt remapping to be enabled",
            )

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainIOMMUDefFormat``."""
        driver = optional_element(
            "driver",
            [
                ("intremap", onoff(self.intremap)),
                ("caching_mode", onoff(self.caching_mode)),
                ("eim", onoff(self.eim)),
                ("iotlb", onoff(self.iotlb)),
                ("aw_bits", self.aw_bits or None),
            ],
        )
        return element("iommu", [("model", self.model)], [driver, *self.info.elements()])


class IOMMU(DeviceModel):
    """An ``<iommu>`` element."""

    TAG = "iommu"
    XML_ORDER = {"": ("@model", "driver", "alias", "address")}

    model = XMLProperty("./@model", doc="``intel``, ``smmuv3`` or ``virtio``.")
    intremap = XMLProperty("./driver/@intremap", ONOFF, doc="Interrupt remapping.")
    caching_mode = XMLProperty("./driver/@caching_mode", ONOFF, doc="VT-d caching mode.")
    eim = XMLProperty("./driver/@eim", ONOFF, doc="Extended interrupt mode.")
    iotlb = XMLProperty("./driver/@iotlb", ONOFF, doc="Device IOTLB.")
    aw_bits = XMLProperty("./driver/@aw_bits", int, doc="Address width in bits.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> IOMMUDef:
        """``virDomainIOMMUDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop_enum(node, "model", MODELS, required=True)
        assert model is not None
        result = IOMMUDef(model=model)
        driver = child(node, "driver")
        if driver is not None:
            result.intremap = prop_switch(driver, "intremap")
            result.caching_mode = prop_switch(driver, "caching_mode")
            result.iotlb = prop_switch(driver, "iotlb")
            result.eim = prop_switch(driver, "eim")
            result.aw_bits = prop_uint(driver, "aw_bits") or 0
        result.info = DeviceInfo.parse(node, ctx)
        return result

    def definition(self, ctx: DeviceContext | None = None) -> IOMMUDef:
        """Parse and validate, including the domain-wide IOMMU checks."""
        ctx = ctx or DeviceContext()
        result = self.parse(ctx)
        result.validate(ctx)
        result.validate_domain(ctx)
        return result
