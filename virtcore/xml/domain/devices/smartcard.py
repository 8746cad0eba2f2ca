"""The ``<smartcard>`` device: a CCID smartcard reader, from the host or passed through.

::

    <smartcard mode='host'/>
    <smartcard mode='host-certificates'>
      <certificate>cert1</certificate>
      <certificate>cert2</certificate>
      <certificate>cert3</certificate>
      <database>/etc/pki/nssdb/</database>
    </smartcard>
    <smartcard mode='passthrough' type='tcp'>
      <source mode='bind' host='127.0.0.1' service='2001'/>
      <protocol type='raw'/>
    </smartcard>

``mode`` is required; ``host-certificates`` needs exactly three
certificates and an absolute database path; ``passthrough`` is a character
device (``type`` plus ``<source>``). Every smartcard sits on a CCID
controller: :func:`assign_ccid_addresses` gives those without an address
the next free slot of controller 0, as libvirt does on define.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.chardev import ChrSourceDef, chr_type
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    child,
    children,
    element,
    fail,
    fail_unknown,
    prop,
    prop_enum,
    text_of,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["MODES", "Smartcard", "SmartcardDef", "assign_ccid_addresses"]

logger = logging.getLogger(__name__)

MODES = ("host", "host-certificates", "passthrough")
"""``virDomainSmartcardType``."""
CERTIFICATES = 3


@dataclass
class SmartcardDef(DeviceDef):
    """A parsed ``<smartcard>`` (``virDomainSmartcardDef``)."""

    mode: str
    certificates: list[str] = field(default_factory=list)
    database: str | None = None
    passthrough: ChrSourceDef | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainSmartcardDefValidate``."""
        super().validate(ctx)
        if self.info.address_type not in ("none", "ccid"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "Controllers must use the 'ccid' address type")
        if self.mode == "passthrough" and self.passthrough is not None:
            self.passthrough.validate(ctx)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainSmartcardDefFormat``."""
        kids: list[OutNode | None] = []
        attrs: list[tuple[str, str | int | None]] = [("mode", self.mode)]
        if self.mode == "host-certificates":
            kids += [element("certificate", text=c) for c in self.certificates]
            if self.database is not None:
                kids.append(element("database", text=self.database))
        elif self.passthrough is not None:
            kids += self.passthrough.elements(flags)
            attrs.append(("type", self.passthrough.type))
        return element("smartcard", attrs, [*kids, *self.info.elements()])

    @property
    def ccid_controller(self) -> int | None:
        """The CCID controller index of the address, if it has one."""
        if self.info.address_type != "ccid":
            return None
        return int(self.info.address.get("controller", "0"))


def assign_ccid_addresses(smartcards: Sequence[SmartcardDef]) -> list[int]:
    """``virDomainDefMaybeAddSmartcardController``: address every smartcard.

    Smartcards without an address get ``<address type='ccid'
    controller='0' slot='N'/>`` with the slot after the highest one used on
    controller 0. Returns, per smartcard, the CCID controller index the
    domain needs (the container adds missing ``<controller type='ccid'>``).
    """
    needed: list[int] = []
    for card in smartcards:
        if card.info.address_type == "ccid":
            needed.append(card.ccid_controller or 0)
            continue
        if card.info.address_type == "none":
            highest = -1
            for other in smartcards:
                if other.ccid_controller == 0:
                    highest = max(highest, int(other.info.address.get("slot", "0")))
            card.info.address_type = "ccid"
            card.info.address = {"controller": "0", "slot": str(highest + 1)}
        needed.append(0)
    return needed


class Smartcard(DeviceModel):
    """A ``<smartcard>`` element."""

    TAG = "smartcard"
    XML_ORDER = {
        "": ("@mode", "@type", "certificate", "database", "source", "protocol", "alias", "address")
    }

    mode = XMLProperty("./@mode", doc="``host``, ``host-certificates`` or ``passthrough``.")
    type = XMLProperty("./@type", doc="The passthrough character device type.")
    database = XMLProperty("./database", doc="NSS database directory (host-certificates).")
    source_mode = XMLProperty("./source/@mode", doc="Passthrough socket mode.")
    source_host = XMLProperty("./source/@host", doc="Passthrough TCP host.")
    source_service = XMLProperty("./source/@service", doc="Passthrough TCP port.")
    source_path = XMLProperty("./source/@path", doc="Passthrough path.")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    @property
    def certificates(self) -> list[str]:
        """The ``<certificate>`` texts (host-certificates)."""
        return [text_of(c) or "" for c in children(self.element, "certificate")]

    def parse(self, ctx: DeviceContext | None = None) -> SmartcardDef:
        """``virDomainSmartcardDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        mode = prop_enum(node, "mode", MODES, required=True)
        assert mode is not None
        result = SmartcardDef(mode=mode)
        if mode == "host-certificates":
            certificates = children(node, "certificate")
            if len(certificates) != CERTIFICATES:
                fail(
                    ErrorNumber.XML_ERROR, "host-certificates mode needs exactly three certificates"
                )
            result.certificates = [str(c.xpath("string()")) for c in certificates]
            database = child(node, "database")
            if database is not None:
                text = str(database.xpath("string(./text())"))
                if not text:
                    # libvirt's parser gives up here without reporting anything.
                    fail_unknown()
                if not text.startswith("/"):
                    fail(ErrorNumber.XML_ERROR, f"expecting absolute path: {text}")
                result.database = text
        elif mode == "passthrough":
            if prop(node, "type") is None:
                fail(
                    ErrorNumber.XML_ERROR,
                    "passthrough mode requires a character device type attribute",
                )
            result.passthrough = ChrSourceDef.parse(node, chr_type(node), ctx)
        result.info = DeviceInfo.parse(node, ctx)
        return result

    def definition(self, ctx: DeviceContext | None = None) -> SmartcardDef:
        """Parse, address (as the domain's only smartcard) and validate."""
        ctx = ctx or DeviceContext()
        result = self.parse(ctx)
        assign_ccid_addresses([result])
        result.validate(ctx)
        return result
