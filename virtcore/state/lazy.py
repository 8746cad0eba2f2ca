"""Lazy handles: the eventual result of a lookup into another state driver.

A :class:`Lazy` resolves exactly once, to a value or a
:class:`~virtcore.errors.VirtError`. Resolution, waiting rules and cycle
detection belong to the :class:`~virtcore.state.host.Host` that created it; the
handle shares the host's lock so that state checks and waits are atomic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from virtcore.errors import OperationTimeoutError, VirtError

if TYPE_CHECKING:
    from virtcore.state.base import StateDriver
    from virtcore.state.host import Host

log = logging.getLogger(__name__)

T = TypeVar("T")


class Lazy(Generic[T]):
    """The eventual result of a lookup into another state driver.

    Created by :meth:`StateContext.lookup` or :meth:`Host.lookup`; resolves
    exactly once, to a value or to a :class:`~virtcore.errors.VirtError`.
    """

    def __init__(
        self, host: Host, requester: str | None, kind: str, fn: Callable[[StateDriver], T]
    ) -> None:
        self._host = host
        self._requester = requester
        self._kind = kind
        self._fn = fn
        self._resolved = False
        self._value: T | None = None
        self._error: VirtError | None = None
        self._callbacks: list[tuple[Callable[[T], None], Callable[[VirtError], None] | None]] = []

    @property
    def kind(self) -> str:
        """The secondary kind looked up."""
        return self._kind

    @property
    def requester(self) -> str | None:
        """The driver that asked, or None for a lookup made through the host."""
        return self._requester

    def done(self) -> bool:
        """True once the lookup resolved (to a value or an error)."""
        with self._host._cond:
            return self._resolved

    def result(self, timeout: float | None = None) -> T:
        """The looked-up value; raises the lookup's error.

        Raises :class:`~virtcore.errors.InternalError` when forced while the host
        is still calling ``initialize`` or from the resolver thread, or when the
        wait would close a dependency cycle between drivers;
        :class:`~virtcore.errors.OperationTimeoutError` after *timeout* seconds.
        """
        host = self._host
        limit = host.wait_timeout if timeout is None else timeout
        with host._cond:
            if not self._resolved:
                host._begin_wait_locked(self)
                try:
                    if not host._cond.wait_for(lambda: self._resolved, limit):
                        raise OperationTimeoutError(f"waiting {limit:g}s for {self._describe()}")
                finally:
                    host._end_wait_locked()
            if self._error is not None:
                raise self._error
            return cast(T, self._value)

    def then(
        self,
        on_value: Callable[[T], None],
        on_error: Callable[[VirtError], None] | None = None,
    ) -> None:
        """Call *on_value* (or *on_error*) once resolved.

        Runs on the host's resolver thread, or right away on the calling thread
        if the lookup has already resolved. Exceptions from the callbacks are
        logged, never propagated into the host.
        """
        with self._host._cond:
            if not self._resolved:
                self._callbacks.append((on_value, on_error))
                return
        self._run_callback(on_value, on_error)

    def _describe(self) -> str:
        who = f"state driver '{self._requester}'" if self._requester else "the host"
        provider = self._host._provider_name(self._kind)
        target = f"state driver '{provider}'" if provider else "no provider"
        return f"the '{self._kind}' lookup of {who} ({target})"

    def _settle(self, value: T | None, error: VirtError | None) -> None:
        with self._host._cond:
            if self._resolved:
                return
            self._value, self._error, self._resolved = value, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._host._cond.notify_all()
        for on_value, on_error in callbacks:
            self._run_callback(on_value, on_error)

    def _run_callback(
        self, on_value: Callable[[T], None], on_error: Callable[[VirtError], None] | None
    ) -> None:
        try:
            if self._error is None:
                on_value(cast(T, self._value))
            elif on_error is not None:
                on_error(self._error)
            else:
                log.warning("%s failed with no error handler: %s", self._describe(), self._error)
        except Exception:
            log.exception("continuation of %s raised", self._describe())

    def __repr__(self) -> str:
        if not self._resolved:
            status = "pending"
        elif self._error is not None:
            status = f"error={self._error!r}"
        else:
            status = f"value={self._value!r}"
        return f"<Lazy {self._kind!r} for {self._requester!r}: {status}>"
