"""The ``<lease>`` device: a lock the domain holds while it runs (sanlock and friends).

::

    <lease>
      <lockspace>somearea</lockspace>
      <key>somekey</key>
      <target path='/some/lease/path' offset='1024'/>
    </lease>

``key`` and ``target path`` are required; an ``offset`` of 0 is left out
when libvirt writes the lease. A lease without a ``<lockspace>`` is refused
with libvirt's (unhelpful) ``An error occurred, but the cause is unknown``,
exactly as libvirt 9.0 refuses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml.builder import ULLONG, XMLProperty
from virtcore.xml.domain.devices.address import DeviceInfo
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceModel,
    child,
    element,
    fail,
    prop,
    prop_ullong,
    text_of,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["Lease", "LeaseDef"]

logger = logging.getLogger(__name__)

_UNKNOWN_CAUSE = "An error occurred, but the cause is unknown"


@dataclass
class LeaseDef(DeviceDef):
    """A parsed ``<lease>`` (``virDomainLeaseDef``)."""

    lockspace: str
    key: str
    path: str
    offset: int = 0
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """Leases carry no device info to check."""

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainLeaseDefFormat``."""
        target = element("target", [("path", self.path), ("offset", self.offset or None)])
        kids = [
            element("lockspace", text=self.lockspace),
            element("key", text=self.key),
            target,
        ]
        return element("lease", kids=kids)


class Lease(DeviceModel):
    """A ``<lease>`` element."""

    TAG = "lease"

    lockspace = XMLProperty("./lockspace", doc="The lock space the key lives in.")
    key = XMLProperty("./key", doc="The lease's key.")
    target_path = XMLProperty("./target/@path", doc="The file holding the lease.")
    target_offset = XMLProperty("./target/@offset", ULLONG, doc="Offset of the lease in it.")

    def parse(self, ctx: DeviceContext | None = None) -> LeaseDef:
        """``virDomainLeaseDefParseXML``."""
        node = self.element
        lockspace = text_of(child(node, "lockspace"))
        key = text_of(child(node, "key"))
        target = child(node, "target")
        offset = 0
        path = None
        if target is not None:
            path = prop(target, "path")
            offset = prop_ullong(target, "offset") or 0
        if key is None:
            fail(ErrorNumber.XML_ERROR, "Missing 'key' element for lease")
        if target is None:
            fail(ErrorNumber.XML_ERROR, "Missing 'target' element for lease")
        if path is None:
            fail(ErrorNumber.XML_ERROR, "Missing 'path' attribute to 'target' element for lease")
        if lockspace is None:
            # libvirt fails here without reporting why.
            raise VirtError(
                code=ErrorNumber.INTERNAL_ERROR, domain=ErrorDomain.NONE, message=_UNKNOWN_CAUSE
            )
        return LeaseDef(lockspace=lockspace, key=key, path=path, offset=offset)
