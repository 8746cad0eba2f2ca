"""``virDomain``: a guest, with libvirt-python 9.0's methods.

The identity accessors (``name``, ``ID``, ``UUID``, ``UUIDString``) answer from
the handle like libvirt's; ``info()`` and ``state()`` return lists whose state
and reason items are :mod:`virtcore.enums` members (``DomainState``,
``DomainRunningReason``, ...), equal to libvirt-python's integers. Every other
method is one driver call (:mod:`._domain_calls_a`, :mod:`._domain_calls_b`), or
a few where libvirt-python itself makes several or reshapes the result
(:mod:`._domain_tuning`, :mod:`._domain_stats`).
"""

# libvirt-python's camelCase names and signatures are the API reproduced here.
# ruff: noqa: N801, N802

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from virtcore.enums.domain import (
    DomainBlockedReason,
    DomainCrashedReason,
    DomainNostateReason,
    DomainPausedReason,
    DomainPMSuspendedReason,
    DomainRunningReason,
    DomainShutdownReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.errors import VirtError
from virtcore.libvirt._base import ConnectionLike, route, uuid_bytes
from virtcore.libvirt._domain_calls_a import DomainCallsA
from virtcore.libvirt._domain_calls_b import DomainCallsB
from virtcore.libvirt._domain_stats import DomainStatsCalls
from virtcore.libvirt._domain_tuning import DomainTuningCalls
from virtcore.libvirt._errors import _last, raise_from

if TYPE_CHECKING:
    from virtcore.libvirt._connect import virConnect

__all__ = ["domain_state", "virDomain"]

_REASONS: dict[int, type[IntEnum]] = {
    DomainState.NOSTATE: DomainNostateReason,
    DomainState.RUNNING: DomainRunningReason,
    DomainState.BLOCKED: DomainBlockedReason,
    DomainState.PAUSED: DomainPausedReason,
    DomainState.SHUTDOWN: DomainShutdownReason,
    DomainState.SHUTOFF: DomainShutoffReason,
    DomainState.CRASHED: DomainCrashedReason,
    DomainState.PMSUSPENDED: DomainPMSuspendedReason,
}


def _typed_pair(state: DomainState, reason: int) -> list[int]:
    reasons = _REASONS.get(state)
    try:
        typed: int = reasons(reason) if reasons is not None else int(reason)
    except ValueError:
        typed = int(reason)
    return [state, typed]


# Every (state, reason) libvirt 9.0 defines, precomputed: state() is a hot call.
_PAIRS: dict[tuple[int, int], list[int]] = {
    (int(state), int(reason)): _typed_pair(state, int(reason))
    for state in DomainState
    for reason in (_REASONS.get(state) or ())
}
_STATES: dict[int, int] = {int(state): state for state in DomainState}


def domain_state(state: int, reason: int) -> list[int]:
    """``[state, reason]`` as enum members where the values are known to libvirt 9.0."""
    pair = _PAIRS.get((state, reason))
    if pair is not None:
        return list(pair)
    return [_STATES.get(state, int(state)), int(reason)]


class virDomain(DomainCallsA, DomainCallsB, DomainTuningCalls, DomainStatsCalls):
    """A domain (libvirt-python's ``virDomain``); obtained from a ``virConnect``."""

    def __init__(self, conn: ConnectionLike, _obj: Any = None) -> None:
        if _obj is None:
            self._bind(conn, _obj)  # raises libvirt-python's TypeError
        # Listings wrap thousands of handles: Wrapped._bind, inlined.
        self._conn = conn
        self._o = _obj
        self._c = conn._c

    def connect(self) -> virConnect:
        """The connection the domain was obtained from."""
        conn: virConnect = self._conn
        return conn

    def name(self) -> str:
        """The domain's name (``virDomainGetName``)."""
        name: str = self._o.name
        return name

    def ID(self) -> int:
        """The running domain's id, -1 when inactive as of the lookup (``virDomainGetID``)."""
        ident: int = self._o.id
        return ident

    def UUID(self) -> bytes:
        """The UUID as 16 raw bytes (``virDomainGetUUID``)."""
        return uuid_bytes(self._o.uuid)

    def UUIDString(self) -> str:
        """The UUID in text form (``virDomainGetUUIDString``)."""
        uuid: str = self._o.uuid
        return uuid

    def info(self) -> list[int]:
        """``[state, maxMemory KiB, memory KiB, nrVirtCpu, cpuTime ns]`` (``virDomainGetInfo``).

        The state is a ``DomainState`` member.
        """
        # Polled constantly by management code: Wrapped._call is inlined here, and in
        # the other hot calls below (state, isActive and the lifecycle calls). Once
        # Connection._invoke has resolved the driver method, these queries call it
        # themselves on an open connection (what _invoke would do, one frame less).
        _last.err = None
        c = self._c
        func = c._hypervisor_bound.get("domain_get_info")
        try:
            if func is None or c._closed:
                info = c._invoke("hypervisor", "domain_get_info", "virDomainGetInfo", self._o)
            else:
                info = func(c, self._o)
        except VirtError as exc:
            raise raise_from(exc, "virDomainGetInfo", self._conn) from None
        except Exception as exc:
            failure = c._driver_failure("hypervisor", "virDomainGetInfo", exc)
            raise raise_from(failure, "virDomainGetInfo", self._conn) from None
        state, max_kib, kib, vcpus, cpu_ns = info
        return [_STATES.get(state, state), max_kib, kib, vcpus, cpu_ns]

    def state(self, flags: int = 0) -> list[int]:
        """``[state, reason]`` as ``DomainState`` and its reason enum (``virDomainGetState``)."""
        _last.err = None
        c = self._c
        func = c._hypervisor_bound.get("domain_get_state")
        try:
            if func is None or c._closed:
                pair = c._invoke(
                    "hypervisor", "domain_get_state", "virDomainGetState", self._o, flags
                )
            else:
                pair = func(c, self._o, flags)
        except VirtError as exc:
            raise raise_from(exc, "virDomainGetState", self._conn) from None
        except Exception as exc:
            failure = c._driver_failure("hypervisor", "virDomainGetState", exc)
            raise raise_from(failure, "virDomainGetState", self._conn) from None
        known = _PAIRS.get(pair)  # domain_state(), inlined
        return known.copy() if known is not None else domain_state(*pair)

    def isActive(self) -> int:
        """Determine if the domain is currently running (``virDomainIsActive``)."""
        _last.err = None
        c = self._c
        func = c._hypervisor_bound.get("domain_is_active")
        try:
            if func is None or c._closed:
                result = c._invoke("hypervisor", "domain_is_active", "virDomainIsActive", self._o)
            else:
                result = func(c, self._o)
        except VirtError as exc:
            raise raise_from(exc, "virDomainIsActive", self._conn) from None
        except Exception as exc:
            failure = c._driver_failure("hypervisor", "virDomainIsActive", exc)
            raise raise_from(failure, "virDomainIsActive", self._conn) from None
        return 0 if result is None else int(result)

    def suspend(self) -> int:
        """Suspend an active domain (``virDomainSuspend``)."""
        _last.err = None  # Wrapped._write, inlined
        if self._conn._pump is not None:
            return self._write("domain_suspend", "virDomainSuspend")
        try:
            self._c._invoke("hypervisor", "domain_suspend", "virDomainSuspend", self._o, write=True)
        except VirtError as exc:
            raise raise_from(exc, "virDomainSuspend", self._conn) from None
        return 0

    def resume(self) -> int:
        """Resume a suspended domain (``virDomainResume``)."""
        _last.err = None  # Wrapped._write, inlined
        if self._conn._pump is not None:
            return self._write("domain_resume", "virDomainResume")
        try:
            self._c._invoke("hypervisor", "domain_resume", "virDomainResume", self._o, write=True)
        except VirtError as exc:
            raise raise_from(exc, "virDomainResume", self._conn) from None
        return 0

    def destroy(self) -> int:
        """Destroy the domain object (``virDomainDestroy``)."""
        _last.err = None  # Wrapped._write, inlined
        if self._conn._pump is None:
            try:
                if route(self._conn, "hypervisor", "domain_destroy", "domain_destroy_flags"):
                    self._c._invoke(
                        "hypervisor", "domain_destroy", "virDomainDestroy", self._o, write=True
                    )
                else:
                    self._c._invoke(
                        "hypervisor",
                        "domain_destroy_flags",
                        "virDomainDestroy",
                        self._o,
                        0,
                        write=True,
                    )
            except VirtError as exc:
                raise raise_from(exc, "virDomainDestroy", self._conn) from None
            return 0
        if route(self._conn, "hypervisor", "domain_destroy", "domain_destroy_flags"):
            return self._write("domain_destroy", "virDomainDestroy")
        return self._write("domain_destroy_flags", "virDomainDestroy", 0)
