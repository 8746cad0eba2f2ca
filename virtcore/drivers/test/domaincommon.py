"""Shared plumbing of the test driver's domain calls.

:class:`DomainTableBase` is the base of every mixin that makes up
:class:`~virtcore.drivers.test.hypervisor.TestHypervisorDriver`: it finds the
domain object behind a handle (``testDomObjFromDomain``), picks the live or
persistent definition the ``VIR_DOMAIN_AFFECT_*`` flags select
(``virDomainObjGetOneDefState`` and ``virDomainObjGetDefs``), emits events,
validates typed parameters like ``virTypedParamsValidate``, and reads the
host's clock (the virtual clock of deterministic mode when one is set, which
then drives snapshot times and the clock-derived statistics).

The helpers raise libvirt's errors with libvirt's error domains: lookups
fail in the test driver's domain (``VIR_FROM_TEST``), definition selection
and state checks in the domain configuration layer (``VIR_FROM_DOMAIN``).
Callers hold the host lock (:attr:`TestState.lock`) around every use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from virtcore.drivers.test.runtime import DomainRuntime, runtime_of
from virtcore.drivers.test.state import DomainObj, TestState
from virtcore.drivers.test.state import check_flags as _check_flags
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    InvalidArgError,
    NoDomainError,
    OperationInvalidError,
)
from virtcore.events import Event, EventKind, ObjectIdentity
from virtcore.objects import Domain

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.domainxml import DomainDef

__all__ = [
    "AFFECT_CONFIG",
    "AFFECT_LIVE",
    "CONFIG",
    "LIVE",
    "DomainTableBase",
    "api_error",
    "bitmap_from_bytes",
    "bitmap_to_bytes",
    "check_flags",
    "exclusive_affect",
    "exclusive_flags",
    "required_flag",
    "validate_params",
]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
AFFECT_LIVE = 1
AFFECT_CONFIG = 2
_PARAM_TYPE_NAMES = {
    "int": "int",
    "uint": "uint",
    "llong": "llong",
    "ullong": "ullong",
    "double": "double",
    "boolean": "boolean",
    "string": "string",
}


def check_flags(flags: int, supported: int, function: str) -> None:
    """``virCheckFlags`` that also takes flag enums (whose ``~`` would drop unknown bits)."""
    _check_flags(int(flags), int(supported), function)


def api_error(text: str, domain: int = _DOM) -> InvalidArgError:
    """An argument error raised by libvirt's public API layer (no "invalid argument" prefix)."""
    return InvalidArgError(text, message=text, domain=domain)


def exclusive_flags(flags: int, a: tuple[int, str], b: tuple[int, str], domain: int) -> None:
    """``VIR_EXCLUSIVE_FLAGS_GOTO``: refuse flags *a* and *b* (value, C name) together."""
    if flags & a[0] and flags & b[0]:
        raise api_error(f"Flags '{a[1]}' and '{b[1]}' are mutually exclusive", domain)


def required_flag(flags: int, a: tuple[int, str], b: tuple[int, str], domain: int) -> None:
    """``VIR_REQUIRE_FLAG_GOTO``: flag *a* needs flag *b* (each a value and its C name)."""
    if flags & a[0] and not flags & b[0]:
        raise api_error(f"Flag '{b[1]}' is required by flag '{a[1]}'", domain)


LIVE = (AFFECT_LIVE, "VIR_DOMAIN_AFFECT_LIVE")
CONFIG = (AFFECT_CONFIG, "VIR_DOMAIN_AFFECT_CONFIG")


def exclusive_affect(flags: int) -> None:
    """The API-level check many calls make on ``AFFECT_LIVE | AFFECT_CONFIG``."""
    exclusive_flags(flags, LIVE, CONFIG, _DOM)


def bitmap_from_bytes(cpumap: bytes) -> frozenset[int]:
    """CPU numbers set in a libvirt cpumap (bit *n* of byte *n // 8*)."""
    return frozenset(
        byte_no * 8 + bit
        for byte_no, value in enumerate(cpumap)
        for bit in range(8)
        if value & (1 << bit)
    )


def bitmap_to_bytes(cpus: frozenset[int] | set[int], maplen: int) -> bytes:
    """A *maplen*-byte cpumap with *cpus* set (CPUs beyond the map are dropped)."""
    out = bytearray(maplen)
    for cpu in cpus:
        if cpu < maplen * 8:
            out[cpu // 8] |= 1 << (cpu % 8)
    return bytes(out)


class DomainTableBase:
    """Lookup, definition selection and event helpers shared by the domain mixins."""

    state: TestState

    # -- objects ----------------------------------------------------------------------

    def _handle(self, conn: Connection, obj: DomainObj) -> Domain:
        return Domain(conn, obj.name, obj.uuid, obj.id)

    def _obj(self, dom: Domain) -> DomainObj:
        obj = self.state.by_uuid.get(dom.uuid)
        if obj is None:
            raise NoDomainError(
                f"no domain with matching uuid '{dom.uuid}' ({dom.name})", domain=_TEST
            )
        return obj

    def _active(self, dom: Domain) -> DomainObj:
        obj = self._obj(dom)
        if not obj.is_active():
            raise OperationInvalidError("domain is not running", domain=_DOM)
        return obj

    def _runtime(self, obj: DomainObj) -> DomainRuntime:
        return runtime_of(self.state, obj)

    def _clock_ns(self) -> int:
        """The host's time in nanoseconds: its virtual clock in deterministic mode."""
        return self.state.now_ns()

    # -- which definition ---------------------------------------------------------------

    @staticmethod
    def _impact(obj: DomainObj, flags: int) -> int:
        """``virDomainObjUpdateModificationImpact``: resolve CURRENT and check the targets."""
        flags = int(flags)
        if not flags & (AFFECT_LIVE | AFFECT_CONFIG):
            flags |= AFFECT_LIVE if obj.is_active() else AFFECT_CONFIG
        if not obj.is_active() and flags & AFFECT_LIVE:
            raise OperationInvalidError("domain is not running", domain=_DOM)
        if not obj.persistent and flags & AFFECT_CONFIG:
            raise OperationInvalidError(
                "transient domains do not have any persistent config", domain=_DOM
            )
        return flags

    def _one_def(self, obj: DomainObj, flags: int) -> tuple[DomainDef, bool]:
        """The definition one of LIVE/CONFIG selects, and whether it is the live one."""
        exclusive_affect(flags)
        flags = self._impact(obj, flags)
        if obj.is_active() and flags & AFFECT_CONFIG:
            return obj.persistent_def(), False
        obj.unshare()  # the caller may change what it gets
        return obj.def_, bool(flags & AFFECT_LIVE)

    def _defs(self, obj: DomainObj, flags: int) -> tuple[DomainDef | None, DomainDef | None]:
        """(live, persistent) definitions LIVE and CONFIG select (``virDomainObjGetDefs``)."""
        flags = self._impact(obj, flags)
        obj.unshare()  # the caller may change what it gets
        live = obj.def_ if flags & AFFECT_LIVE else None
        persistent = obj.persistent_def() if flags & AFFECT_CONFIG else None
        return live, persistent

    # -- events -----------------------------------------------------------------------

    def _emit(self, obj: DomainObj, event_id: int, *args: Any) -> None:
        """Queue a domain event other than a lifecycle one."""
        ident = ObjectIdentity(EventKind.DOMAIN, obj.name, obj.uuid, obj.id)
        self.state.events.emit(
            Event(kind=EventKind.DOMAIN, event_id=int(event_id), obj=ident, args=tuple(args))
        )


def validate_params(params: Mapping[str, Any], allowed: Mapping[str, str]) -> None:
    """``virTypedParamsValidate``: names must be known and values of the declared type.

    *allowed* maps each parameter name to its libvirt type name (``uint``,
    ``ullong``, ``string``, ``boolean``, ...).
    """
    for name, value in params.items():
        kind = allowed.get(name)
        if kind is None:
            raise ArgumentUnsupportedError(
                f"parameter '{name}' not supported", domain=ErrorDomain.NONE
            )
        if not _type_matches(kind, value):
            raise InvalidArgError(
                f"invalid type '{_type_name(value)}' for parameter '{name}', expected "
                f"'{_PARAM_TYPE_NAMES[kind]}'",
                domain=ErrorDomain.NONE,
            )


def _type_matches(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool | int)
    if kind == "string":
        return isinstance(value, str)
    if kind == "double":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if kind in ("uint", "ullong"):
        return 0 <= value < (2**32 if kind == "uint" else 2**64)
    return -(2**63) <= value < 2**63


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "llong"
    if isinstance(value, float):
        return "double"
    return "string"
