"""Credentials of storage sources: ``<auth>``, ``<encryption>`` and the secrets they name.

:func:`parse_auth` and :func:`parse_encryption` read them as libvirt's
``virStorageAuthDefParse`` and ``virStorageEncryptionParseNode`` do (checks,
codes and wording); :func:`auth_element` and :meth:`Encryption.to_element`
write them back, secret UUIDs in canonical form. :func:`valid_uuid` is
``virUUIDParse``'s test, shared with the other device readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.domain.devices.support import (
    child,
    children,
    element,
    fail,
    prop,
    prop_enum,
    prop_uint,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "Auth",
    "Encryption",
    "auth_element",
    "parse_auth",
    "parse_encryption",
    "valid_uuid",
]

_ENCRYPTION_FORMATS = ("default", "qcow", "luks", "luks2", "luks-any")
_ENCRYPTION_ENGINES = ("default", "qemu", "librbd")
_HEX = "0123456789abcdefABCDEF"


def valid_uuid(text: str) -> bool:
    """Whether *text* reads as a UUID the way ``virUUIDParse`` reads one."""
    pos = 0
    digits = 0
    stripped = text.strip(" \t\n\v\f\r")
    while digits < 32:
        if pos >= len(stripped):
            return False
        char = stripped[pos]
        if char in "- ":
            pos += 1
            continue
        if char not in _HEX or pos + 1 >= len(stripped) or stripped[pos + 1] not in _HEX:
            return False
        pos += 2
        digits += 2
    return pos == len(stripped)


# -- auth and secrets --------------------------------------------------------------------


@dataclass
class Auth:
    """``<auth>``: a user name and the libvirt secret holding the password."""

    username: str
    auth_type: str | None = None
    secret_type: str | None = None
    secret_uuid: str | None = None
    secret_usage: str | None = None


def _parse_secret_lookup(node: etree._Element) -> tuple[str | None, str | None]:
    """``virSecretLookupParseSecret``: the secret's uuid or usage."""
    uuid = prop(node, "uuid")
    usage = prop(node, "usage")
    if uuid is None and usage is None:
        fail(ErrorNumber.XML_ERROR, "missing secret uuid or usage attribute", ErrorDomain.NONE)
    if uuid is not None and usage is not None:
        fail(ErrorNumber.XML_ERROR, "either secret uuid or usage expected", ErrorDomain.NONE)
    if uuid is not None and not valid_uuid(uuid):
        fail(ErrorNumber.XML_ERROR, f"invalid secret uuid '{uuid}'", ErrorDomain.NONE)
    return uuid, usage


def parse_auth(node: etree._Element) -> Auth:
    """``virStorageAuthDefParse``."""
    # libvirt reads both attributes through XPath string(), where empty is absent.
    username = prop(node, "username") or None
    if username is None:
        fail(ErrorNumber.XML_ERROR, "missing username for auth", ErrorDomain.STORAGE)
    auth_type = prop(node, "type") or None
    if auth_type == "none":  # the default, not written back
        auth_type = None
    if auth_type is not None and auth_type not in ("chap", "ceph"):
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED, f"unknown auth type '{auth_type}'", ErrorDomain.STORAGE
        )
    secret = child(node, "secret")
    if secret is None:
        fail(ErrorNumber.XML_ERROR, "Missing <secret> element in auth", ErrorDomain.STORAGE)
    uuid, usage = _parse_secret_lookup(secret)
    return Auth(username, auth_type, prop(secret, "type"), uuid, usage)


def _secret_element(secret_type: str | None, uuid: str | None, usage: str | None) -> OutNode:
    # libvirt stores the UUID parsed and writes it back in canonical form.
    if uuid is not None:
        uuid = _canonical_uuid(uuid)
    return element("secret", [("type", secret_type), ("uuid", uuid), ("usage", usage)])


def _canonical_uuid(text: str) -> str:
    digits = "".join(c for c in text if c in _HEX).lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def auth_element(auth: Auth) -> OutNode:
    """``virStorageAuthDefFormat``."""
    secret = _secret_element(auth.secret_type, auth.secret_uuid, auth.secret_usage)
    return element("auth", [("type", auth.auth_type), ("username", auth.username)], [secret])


# -- encryption ----------------------------------------------------------------------------


@dataclass
class Encryption:
    """``<encryption>`` of a storage source (``virStorageEncryption``)."""

    format: str
    engine: str | None = None
    secrets: list[tuple[str | None, str | None]] = field(default_factory=list)
    """(uuid, usage) of each ``<secret type='passphrase'>``."""
    cipher: dict[str, str] | None = None
    ivgen: dict[str, str] | None = None

    def to_element(self) -> OutNode:
        """``virStorageEncryptionFormat``."""
        kids = [_secret_element("passphrase", uuid, usage) for uuid, usage in self.secrets]
        # libvirt writes the cipher of LUKS encryption only.
        if self.cipher is not None and self.format == "luks":
            kids.append(element("cipher", list(self.cipher.items())))
            if self.ivgen is not None:
                kids.append(element("ivgen", list(self.ivgen.items())))
        return element("encryption", [("format", self.format), ("engine", self.engine)], kids)


def parse_encryption(node: etree._Element) -> Encryption:
    """``virStorageEncryptionParseNode``."""
    fmt = prop(node, "format") or None  # XPath string(): empty is absent
    if fmt is None:
        fail(ErrorNumber.XML_ERROR, "unknown volume encryption format", ErrorDomain.STORAGE)
    if fmt not in _ENCRYPTION_FORMATS:
        fail(
            ErrorNumber.CONFIG_UNSUPPORTED,
            f"unknown volume encryption format type {fmt}",
            ErrorDomain.STORAGE,
        )
    engine = prop_enum(node, "engine", _ENCRYPTION_ENGINES, nonzero=True)
    enc = Encryption(fmt, engine)
    for secret in children(node, "secret"):
        kind = prop(secret, "type")
        if kind is None:
            fail(
                ErrorNumber.XML_ERROR,
                "unknown volume encryption secret type",
                ErrorDomain.STORAGE,
            )
        if kind != "passphrase":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unknown volume encryption secret type {kind}",
                ErrorDomain.STORAGE,
            )
        enc.secrets.append(_parse_secret_lookup(secret))
    cipher = child(node, "cipher")
    if cipher is not None:
        enc.cipher = _encryption_info(cipher, ("name", "size", "mode", "hash"), "cipher")
        ivgen = child(node, "ivgen")
        if ivgen is not None:
            enc.ivgen = _encryption_info(ivgen, ("name", "hash"), "ivgen")
    return enc


def _encryption_info(node: etree._Element, names: tuple[str, ...], what: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        value = prop(node, name)
        if value is None and name in ("name", "size"):
            fail(ErrorNumber.XML_ERROR, f"missing {what} {name}", ErrorDomain.STORAGE)
        if value is not None:
            values[name] = value
    if "size" in values:
        size = prop_uint(node, "size")
        values["size"] = str(size)
    return values
