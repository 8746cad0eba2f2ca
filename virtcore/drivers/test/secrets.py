"""Secrets on a test host, with the semantics of libvirt's secret driver.

libvirt's test driver has no secret driver (every call is ``NO_SUPPORT``);
virtcore's test hosts have one that behaves like ``secret_driver.c`` without
touching the disk:

* a secret is identified by UUID and, unless its usage type is ``none``, by
  its usage (type and id: volume path, Ceph/TLS/vTPM name, iSCSI target); a
  second secret for the same usage is refused, and so is redefining a secret
  for another usage or making a private secret public;
* redefinition keeps the value; ``ephemeral`` secrets behave like the others
  here (nothing is ever written to disk) and are listed by the ``EPHEMERAL``
  filter;
* reading a ``private`` secret's value is refused with ``INVALID_SECRET``
  ("secret is private"), as libvirt refuses it to clients that do not run
  with the daemon's own identity - which is how a test host treats its
  clients; reading a secret without a value is ``NO_SECRET``;
* events: ``LIFECYCLE`` (``DEFINED``/``UNDEFINED``, detail 0) on define and
  undefine, ``VALUE_CHANGED`` when a value is set.

Errors carry error domain ``VIR_FROM_SECRET`` (30), as the secret driver's do.
"""

from __future__ import annotations

import uuid as _uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.driver import SecretDriver
from virtcore.drivers.test.secondary import (
    HostExtension,
    SecondaryTable,
    emit,
    state_filter,
    uuid_or_invalid,
)
from virtcore.drivers.test.xmlutil import XMLWriter, child, child_text, parse_uuid, parse_xml
from virtcore.enums.connect import ConnectListAllSecretsFlags as ListFlags
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.enums.secret import SecretEventID, SecretEventLifecycleType, SecretUsageType
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoSecretError,
    VirtError,
    XMLError,
)
from virtcore.events import EventKind
from virtcore.objects import Secret

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["SecretDef", "TestSecretDriver"]

_SECRET = ErrorDomain.SECRET
_USAGE_TYPES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")
# Which element holds the usage id, and what libvirt calls it when it is missing.
_USAGE_IDS = {
    "volume": ("volume", "volume usage specified, but volume path is missing"),
    "ceph": ("name", "Ceph usage specified, but name is missing"),
    "iscsi": ("target", "iSCSI usage specified, but target is missing"),
    "tls": ("name", "TLS usage specified, but name is missing"),
    "vtpm": ("name", "vTPM usage specified, but name is missing"),
}


def _check_flags(flags: int, supported: int, function: str) -> None:
    extra = (int(flags) & 0xFFFFFFFF) & ~supported
    if extra:
        text = f"unsupported flags ({extra:#x}) in function {function}"
        raise InvalidArgError(text, message=text, domain=_SECRET)


def _yes_no(root: etree._Element, attr: str) -> bool:
    value = root.get(attr)
    if value is None:
        return False
    if value not in ("yes", "no"):
        raise XMLError(f"invalid value of '{attr}'", domain=_SECRET)
    return value == "yes"


@dataclass
class SecretDef:
    """A secret definition (``virSecretDef``); ``usage_id`` is None for usage ``none``."""

    uuid: str
    ephemeral: bool = False
    private: bool = False
    description: str | None = None
    usage_type: int = SecretUsageType.NONE
    usage_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> SecretDef:
        """Parse a ``<secret>`` document (``virSecretDefParse``)."""
        root = parse_xml(text, "(definition_of_secret)", domain=_SECRET, root="secret")
        ephemeral = _yes_no(root, "ephemeral")
        private = _yes_no(root, "private")
        uuid_text = child_text(root, "uuid")
        if uuid_text is None:
            uuid = str(_uuid.uuid4())
        else:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise InternalError("malformed uuid element", domain=_SECRET)
            uuid = parsed
        secret = cls(uuid, ephemeral, private, child_text(root, "description"))
        usage = child(root, "usage")
        if usage is not None:
            kind = usage.get("type")
            if kind is None:
                raise XMLError("unknown secret usage type", domain=_SECRET)
            if kind not in _USAGE_TYPES:
                raise ConfigUnsupportedError(f"unknown secret usage type {kind}", domain=_SECRET)
            secret.usage_type = _USAGE_TYPES.index(kind)
            if kind in _USAGE_IDS:
                tag, missing = _USAGE_IDS[kind]
                usage_id = child_text(usage, tag)
                if usage_id is None:
                    raise InternalError(missing, domain=_SECRET)
                secret.usage_id = usage_id
        return secret

    def format(self) -> str:
        """The secret XML (``virSecretGetXMLDesc``)."""
        out = XMLWriter()
        out.open(
            "secret",
            [("ephemeral", "yes" if self.ephemeral else "no"),
             ("private", "yes" if self.private else "no")],
        )  # fmt: skip
        out.text("uuid", self.uuid)
        if self.description is not None:
            out.text("description", self.description)
        if self.usage_type != SecretUsageType.NONE:
            kind = _USAGE_TYPES[self.usage_type]
            out.open("usage", [("type", kind)])
            out.text(_USAGE_IDS[kind][0], self.usage_id or "")
            out.close("usage")
        out.close("secret")
        return out.getvalue()


@dataclass
class _SecretObj:
    """A defined secret and its value (None until one is set)."""

    def_: SecretDef
    value: bytes | None = None


_SECRETS: HostExtension[dict[str, _SecretObj]] = HostExtension(dict)


class TestSecretDriver(SecondaryTable, SecretDriver):
    """Secrets of a test host (libvirt's secret driver semantics; see the module docs)."""

    def _secrets(self) -> dict[str, _SecretObj]:
        return _SECRETS.of(self.state)

    def _obj(self, secret: Secret) -> _SecretObj:
        found = self._secrets().get(secret.uuid)
        if found is None:
            raise NoSecretError(f"no secret with matching uuid '{secret.uuid}'", domain=_SECRET)
        return found

    @staticmethod
    def _handle(conn: Connection, d: SecretDef) -> Secret:
        return Secret(conn, d.uuid, d.usage_type, d.usage_id or "")

    def _emit(self, d: SecretDef, event_id: int, *args: int) -> None:
        emit(
            self.state,
            EventKind.SECRET,
            event_id,
            d.usage_id or "",
            d.uuid,
            *args,
            usage_type=d.usage_type,
        )

    def connect_num_of_secrets(self, conn: Connection) -> int:
        """Number of secrets."""
        with self.state.lock:
            return len(self._secrets())

    def connect_list_secrets(self, conn: Connection) -> list[str]:
        """UUIDs of the secrets."""
        with self.state.lock:
            return sorted(self._secrets())

    def connect_list_all_secrets(self, conn: Connection, flags: int) -> list[Secret]:
        """Secrets matching the ephemeral/private filters, by UUID."""
        _check_flags(flags, 0xF, "secretConnectListAllSecrets")
        with self.state.lock:
            return [
                self._handle(conn, o.def_)
                for _, o in sorted(self._secrets().items())
                if state_filter(
                    flags, ListFlags.EPHEMERAL, ListFlags.NO_EPHEMERAL, o.def_.ephemeral
                )
                and state_filter(flags, ListFlags.PRIVATE, ListFlags.NO_PRIVATE, o.def_.private)
            ]

    def secret_lookup_by_uuid(self, conn: Connection, uuid: str) -> Secret:
        """The secret with *uuid*."""
        canonical = uuid_or_invalid(uuid, _SECRET, "virSecretLookupByUUIDString")
        with self.state.lock:
            found = self._secrets().get(canonical)
            if found is None:
                raise NoSecretError(f"no secret with matching uuid '{canonical}'", domain=_SECRET)
            return self._handle(conn, found.def_)

    def secret_lookup_by_usage(self, conn: Connection, usage_type: int, usage_id: str) -> Secret:
        """The secret used for *usage_id* of *usage_type* (never one of usage ``none``)."""
        with self.state.lock:
            for _, obj in sorted(self._secrets().items()):
                d = obj.def_
                if d.usage_type == usage_type != SecretUsageType.NONE and d.usage_id == usage_id:
                    return self._handle(conn, d)
        raise NoSecretError(f"no secret with matching usage '{usage_id}'", domain=_SECRET)

    def secret_define_xml(self, conn: Connection, xml: str, flags: int) -> Secret:
        """Define or redefine a secret (``DEFINED``); see the module docs for the rules."""
        _check_flags(flags, 1, "secretDefineXML")
        new = SecretDef.parse(xml)
        with self.state.lock:
            secrets = self._secrets()
            existing = secrets.get(new.uuid)
            if existing is not None:
                if existing.def_.usage_id != new.usage_id:
                    raise InternalError(
                        f"a secret with UUID {new.uuid} is already defined for use with "
                        f"{existing.def_.usage_id}",
                        domain=_SECRET,
                    )
                if existing.def_.private and not new.private:
                    raise InternalError(
                        "cannot change private flag on existing secret", domain=_SECRET
                    )
                existing.def_ = new
            else:
                for _, other in sorted(secrets.items()):
                    d = other.def_
                    if (
                        d.usage_type == new.usage_type != SecretUsageType.NONE
                        and d.usage_id == new.usage_id
                    ):
                        raise InternalError(
                            f"a secret with UUID {d.uuid} already defined for use with "
                            f"{new.usage_id}",
                            domain=_SECRET,
                        )
                secrets[new.uuid] = _SecretObj(new)
            self._emit(new, SecretEventID.LIFECYCLE, SecretEventLifecycleType.DEFINED, 0)
            return self._handle(conn, new)

    def secret_get_xml_desc(self, conn: Connection, secret: Secret, flags: int) -> str:
        """The secret XML (never the value)."""
        _check_flags(flags, 0, "secretGetXMLDesc")
        with self.state.lock:
            return self._obj(secret).def_.format()

    def secret_set_value(self, conn: Connection, secret: Secret, value: bytes, flags: int) -> None:
        """Store the secret's value (``VALUE_CHANGED``)."""
        _check_flags(flags, 0, "secretSetValue")
        with self.state.lock:
            obj = self._obj(secret)
            obj.value = bytes(value)
            self._emit(obj.def_, SecretEventID.VALUE_CHANGED)

    def secret_get_value(self, conn: Connection, secret: Secret, flags: int) -> bytes:
        """The secret's value; refused for a private secret or one without a value."""
        _check_flags(flags, 0, "secretGetValue")
        with self.state.lock:
            obj = self._obj(secret)
            if obj.def_.private:
                raise VirtError(
                    "secret is private", code=ErrorNumber.INVALID_SECRET, domain=_SECRET
                )
            if obj.value is None:
                raise NoSecretError(
                    f"secret '{obj.def_.uuid}' does not have a value", domain=_SECRET
                )
            return obj.value

    def secret_undefine(self, conn: Connection, secret: Secret) -> None:
        """Delete the secret and its value (``UNDEFINED``)."""
        with self.state.lock:
            obj = self._obj(secret)
            del self._secrets()[obj.def_.uuid]
            self._emit(obj.def_, SecretEventID.LIFECYCLE, SecretEventLifecycleType.UNDEFINED, 0)
