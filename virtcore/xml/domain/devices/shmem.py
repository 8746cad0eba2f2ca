"""The ``<shmem>`` device: shared memory between guests (or with the host) via ivshmem.

::

    <shmem name='my_shmem0' role='peer'>
      <model type='ivshmem-doorbell'/>
      <size unit='M'>4</size>
      <server path='/tmp/socket-shmem0'/>
      <msi vectors='32' ioeventfd='on'/>
    </shmem>

``name`` is required and may not contain ``/`` nor be ``.`` or ``..``. The
model defaults to ``ivshmem`` (always written out); ``role`` is ignored for
that model. ``<size>`` is in bytes unless a unit says otherwise and is
written in MiB, rounded down. ``<msi>`` needs a ``<server>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import IntConverter, XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    element,
    fail,
    onoff,
    prop,
    prop_enum,
    prop_switch,
    prop_uint,
    sanitize_path,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["MODELS", "ROLES", "Shmem", "ShmemDef"]

logger = logging.getLogger(__name__)

MODELS = ("ivshmem", "ivshmem-plain", "ivshmem-doorbell")
"""``virDomainShmemModel``."""
ROLES = ("default", "master", "peer")
"""``virDomainShmemRole``."""


@dataclass
class ShmemDef(DeviceDef):
    """A parsed ``<shmem>`` (``virDomainShmemDef``)."""

    name: str
    model: str = "ivshmem"
    role: str | None = None
    size: int = 0
    server: bool = False
    server_path: str | None = None
    msi: bool = False
    msi_vectors: int = 0
    msi_ioeventfd: bool | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainShmemDefValidate``."""
        super().validate(ctx)
        if "/" in self.name:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "shmem name cannot include '/' character")
        if self.name in (".", ".."):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"shmem name cannot be equal to '{self.name}'")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainShmemDefFormat``."""
        kids: list[OutNode | None] = [element("model", [("type", self.model)])]
        if self.size:
            kids.append(element("size", [("unit", "M")], text=str(self.size >> 20)))
        if self.server:
            kids.append(element("server", [("path", self.server_path)]))
        if self.msi:
            vectors = self.msi_vectors or None
            kids.append(
                element("msi", [("vectors", vectors), ("ioeventfd", onoff(self.msi_ioeventfd))])
            )
        return element(
            "shmem", [("name", self.name), ("role", self.role)], [*kids, *self.info.elements()]
        )


class Shmem(DeviceModel):
    """A ``<shmem>`` element."""

    TAG = "shmem"
    XML_ORDER = {"": ("@name", "@role", "model", "size", "server", "msi", "alias", "address")}

    name = XMLProperty("./@name", doc="The shared memory object's name.")
    role = XMLProperty("./@role", doc="``master`` or ``peer`` (ivshmem-plain/-doorbell).")
    model = XMLProperty(
        "./model/@type", doc="``ivshmem``, ``ivshmem-plain`` or ``ivshmem-doorbell``."
    )
    server_path = XMLProperty("./server/@path", doc="The ivshmem server's socket.")
    msi_vectors = XMLProperty(
        "./msi/@vectors",
        IntConverter(units.parse_uint, base=0, expected="non-negative integer value"),
        doc="Number of MSI vectors.",
    )
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    @property
    def size(self) -> int | None:
        """The size in bytes (``<size>``, bytes unless ``unit`` says otherwise)."""
        node = child(self.element, "size")
        if node is None:
            return None
        return units.parse_scaled(node.text, prop(node, "unit"), where="./size[1]", scale=1)

    @size.setter
    def size(self, value: int | None) -> None:
        node = child(self.element, "size")
        if value is None:
            if node is not None:
                self.element.remove(node)
            return
        if node is None:
            node = etree.SubElement(self.element, "size")
            model = child(self.element, "model")
            if model is not None:
                model.addnext(node)
        node.attrib.clear()
        node.set("unit", "B")
        node.text = str(value)

    def parse(self, ctx: DeviceContext | None = None) -> ShmemDef:
        """``virDomainShmemDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model_node = child(node, "model")
        model = "ivshmem"
        if model_node is not None:
            model = prop_enum(model_node, "type", MODELS) or "ivshmem"
        name = prop(node, "name")
        if name is None:
            fail(ErrorNumber.XML_ERROR, "shmem element must contain 'name' attribute")
        result = ShmemDef(name=name, model=model)
        if model != "ivshmem":
            result.role = prop_enum(node, "role", ROLES, nonzero=True)
        size = child(node, "size")
        if size is not None:
            value = units.parse_scaled(
                str(size.xpath("string()")), prop(size, "unit"), where="./size[1]", scale=1
            )
            result.size = value or 0
        server = child(node, "server")
        if server is not None:
            result.server = True
            path = prop(server, "path")
            result.server_path = sanitize_path(path) if path is not None else None
        msi = child(node, "msi")
        if msi is not None:
            result.msi = True
            result.msi_vectors = prop_uint(msi, "vectors", base=0) or 0
            result.msi_ioeventfd = prop_switch(msi, "ioeventfd")
        if result.msi and not result.server:
            fail(ErrorNumber.XML_ERROR, "msi option is only supported with a server")
        result.info = DeviceInfo.parse(node, ctx)
        return result
