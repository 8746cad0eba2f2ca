"""The ``<vsock>`` device: a host-guest socket (AF_VSOCK) with its context id.

::

    <vsock model='virtio'>
      <cid auto='no' address='3'/>
    </vsock>

Without ``<cid auto=...>`` libvirt decides: ``auto='no'`` when an address
is given, ``auto='yes'`` otherwise, and writes the decision out. Guest
context ids 1 and 2 are reserved (``guest CIDs must be >= 3``). A domain
has at most one vsock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import YESNO, XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    fail,
    optional_element,
    prop_enum,
    prop_tristate,
    prop_uint,
    virtio_attrs,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["MODELS", "ONLY_ONE_MESSAGE", "VSock", "VSockDef"]

logger = logging.getLogger(__name__)

MODELS = ("default", "virtio", "virtio-transitional", "virtio-non-transitional")
"""``virDomainVsockModel``."""
ONLY_ONE_MESSAGE = "only a single vsock device is supported"
"""libvirt's error (``VIR_ERR_XML_ERROR``) for a second ``<vsock>``."""


@dataclass
class VSockDef(DeviceDef):
    """A parsed ``<vsock>`` (``virDomainVsockDef``)."""

    model: str = "default"
    cid: int = 0
    auto_cid: bool | None = None
    virtio: VirtioOptions | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """``virDomainVsockDefPostParse``: decide ``auto``."""
        if self.auto_cid is None:
            self.auto_cid = self.cid == 0

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainVsockDefValidate``."""
        super().validate(ctx)
        if 0 < self.cid <= 2:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "guest CIDs must be >= 3")
        if self.model == "default" and self.virtio is not None:
            self.virtio.check_absent()

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainVsockDefFormat``."""
        cid = optional_element(
            "cid", [("auto", yesno(self.auto_cid)), ("address", self.cid or None)]
        )
        model = None if self.model == "default" else self.model
        return element(
            "vsock",
            [("model", model)],
            [cid, *self.info.elements(), optional_element("driver", virtio_attrs(self.virtio))],
        )


class VSock(DeviceModel):
    """A ``<vsock>`` element."""

    TAG = "vsock"
    XML_ORDER = {"": ("@model", "cid", "alias", "address", "driver")}

    model = XMLProperty("./@model", doc="``virtio`` (or a transitional variant).")
    cid_auto = XMLProperty("./cid/@auto", YESNO, doc="Whether libvirt picks the guest CID.")
    cid_address = XMLProperty("./cid/@address", int, doc="The guest context id (>= 3).")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> VSockDef:
        """``virDomainVsockDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        result = VSockDef(model=prop_enum(node, "model", MODELS) or "default")
        cid = child(node, "cid")
        if cid is not None:
            result.cid = prop_uint(cid, "address", nonzero=True) or 0
            result.auto_cid = prop_tristate(cid, "auto")
        result.info = DeviceInfo.parse(node, ctx)
        result.virtio = VirtioOptions.parse(child(node, "driver"))
        return result
