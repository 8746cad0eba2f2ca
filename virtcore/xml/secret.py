"""The secret document (``<secret>``), read, checked and written as libvirt 9.0 does.

:class:`Secret` is a typed view of a live ``<secret>`` tree: the
``ephemeral``/``private`` flags, the UUID, a free-text description and the
``<usage>`` that names what the secret unlocks (a ``volume`` path, a
``ceph`` or ``tls`` or ``vtpm`` name, an ``iscsi`` target). Unknown content
stays in the tree and survives edits.

* :meth:`Secret.parse` runs the checks of libvirt's secret driver
  (``virSecretDefParseString``) in libvirt's order with its exact errors,
  and gives the document a fresh UUID when it has none, as
  ``virSecretDefineXML`` does;
* :meth:`Secret.definition` returns the values libvirt keeps
  (:class:`SecretDef`);
* :meth:`Secret.format` writes the document as ``virsh secret-dumpxml``
  prints it: both flags always spelled out, the canonical UUID, and only
  the usage element that belongs to the usage type.

A secret's *value* is not part of its XML; a driver stores it separately.
"""

from __future__ import annotations

import logging
import uuid as _uuid
from dataclasses import dataclass
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.builder import YESNO, XMLNode, XMLProperty
from virtcore.xml.format import format_xml
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import add_element, xpath_string

__all__ = [
    "SECRET_USAGE_TYPES",
    "USAGE_ID_ELEMENTS",
    "Secret",
    "SecretDef",
]

logger = logging.getLogger(__name__)

_SECRET = ErrorDomain.SECRET

SECRET_USAGE_TYPES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")
"""``virSecretUsageType`` in libvirt's order."""

USAGE_ID_ELEMENTS = {"volume": "volume", "ceph": "name", "iscsi": "target", "tls": "name",
                     "vtpm": "name"}  # fmt: skip
"""Per usage type, the ``<usage>`` child holding the usage id."""

_MISSING_USAGE_ID = {
    "volume": "volume usage specified, but volume path is missing",
    "ceph": "Ceph usage specified, but name is missing",
    "iscsi": "iSCSI usage specified, but target is missing",
    "tls": "TLS usage specified, but name is missing",
    "vtpm": "vTPM usage specified, but name is missing",
}


def _parse_yesno(value: str | None, attr: str) -> bool:
    """``virStringParseYesNo``: exactly ``yes`` or ``no``; absent (or empty) means no."""
    if value is None:
        return False
    if value not in ("yes", "no"):
        raise error(ErrorNumber.XML_ERROR, f"invalid value of '{attr}'", _SECRET)
    return value == "yes"


# -- the values libvirt keeps ----------------------------------------------------------


@dataclass(frozen=True)
class SecretDef:
    """The values libvirt keeps for a secret (``virSecretDef``).

    *usage_id* is the volume path, Ceph/TLS/vTPM name or iSCSI target; it is
    None exactly when *usage_type* is ``none``.
    """

    uuid: str
    ephemeral: bool = False
    private: bool = False
    description: str | None = None
    usage_type: str = "none"
    usage_id: str | None = None

    def to_element(self) -> etree._Element:
        """The canonical ``<secret>`` tree (``virSecretDefFormat``)."""
        root = add_element(
            None,
            "secret",
            [("ephemeral", "yes" if self.ephemeral else "no"),
             ("private", "yes" if self.private else "no")],
        )  # fmt: skip
        add_element(root, "uuid", text=self.uuid)
        if self.description is not None:
            add_element(root, "description", text=self.description)
        if self.usage_type != "none":
            usage = add_element(root, "usage", [("type", self.usage_type)])
            add_element(usage, USAGE_ID_ELEMENTS[self.usage_type], text=self.usage_id)
        return root

    def format(self) -> str:
        """The document exactly as libvirt 9.0 prints it."""
        return format_xml(self.to_element())


# -- the model -------------------------------------------------------------------------


class Secret(XMLNode):
    """A ``<secret>`` document: a view over its live tree.

    ``Secret.parse(text)`` defines a secret as libvirt does (checks
    included, UUID generated when missing); ``Secret.from_xml(text)`` only
    parses. ``format()`` is libvirt's output, ``to_string()`` the tree as
    it stands.
    """

    TAG = "secret"
    PARSE_URL = "(definition_of_secret)"
    ERROR_DOMAIN = ErrorDomain.SECRET
    SCHEMA = "secret.rng"
    XML_ORDER = {
        "": ("@ephemeral", "@private", "uuid", "description", "usage"),
        "usage": ("@type", "volume", "name", "target"),
    }

    ephemeral = XMLProperty("./@ephemeral", YESNO)
    private = XMLProperty("./@private", YESNO)
    uuid = XMLProperty("./uuid")
    description = XMLProperty("./description")
    usage_type = XMLProperty("./usage/@type")
    usage_volume = XMLProperty("./usage/volume")
    usage_name = XMLProperty("./usage/name")
    usage_target = XMLProperty("./usage/target")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Define a secret from *text* as ``virSecretDefineXML`` would.

        The checks run first; a document without ``<uuid>`` then receives a
        random one, so that the object keeps its identity from here on.
        """
        secret = cls.from_xml(text, validate_schema=validate_schema)
        secret.check()
        if xpath_string(secret, "./uuid") is None:
            for empty in secret.xpath("./uuid"):
                empty.getparent().remove(empty)
            secret.uuid = format_uuid(_uuid.uuid4())
        return secret

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    @property
    def usage_id(self) -> str | None:
        """The usage id of the usage type (volume path, name or target), None without usage."""
        kind = xpath_string(self, "./usage/@type")
        if kind not in USAGE_ID_ELEMENTS:
            return None
        return xpath_string(self, f"./usage/{USAGE_ID_ELEMENTS[kind]}")

    def definition(self) -> SecretDef:
        """``secretXMLParseNode``: libvirt's checks, in its order, and the values it keeps.

        A document without a UUID gets a random one here; use :meth:`parse`
        to keep it in the tree.
        """
        ephemeral = _parse_yesno(xpath_string(self, "./@ephemeral"), "ephemeral")
        private = _parse_yesno(xpath_string(self, "./@private"), "private")
        uuid_text = xpath_string(self, "./uuid")
        if uuid_text is None:
            uuid = format_uuid(_uuid.uuid4())
        else:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise error(ErrorNumber.INTERNAL_ERROR, "malformed uuid element", _SECRET)
            uuid = format_uuid(parsed)
        description = xpath_string(self, "./description")
        usage_type, usage_id = "none", None
        if self.xpath("./usage"):
            usage_type, usage_id = self._parse_usage()
        return SecretDef(uuid, ephemeral, private, description, usage_type, usage_id)

    def _parse_usage(self) -> tuple[str, str | None]:
        kind = xpath_string(self, "./usage/@type")
        if kind is None:
            raise error(ErrorNumber.XML_ERROR, "unknown secret usage type", _SECRET)
        if kind not in SECRET_USAGE_TYPES:
            raise error(
                ErrorNumber.CONFIG_UNSUPPORTED, f"unknown secret usage type {kind}", _SECRET
            )
        if kind == "none":
            return kind, None
        usage_id = xpath_string(self, f"./usage/{USAGE_ID_ELEMENTS[kind]}")
        if usage_id is None:
            raise error(ErrorNumber.INTERNAL_ERROR, _MISSING_USAGE_ID[kind], _SECRET)
        return kind, usage_id

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virSecretGetXMLDesc``)."""
        del flags  # virSecretGetXMLDesc accepts no flags
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)
