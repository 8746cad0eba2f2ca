"""Private test hosts: isolated in-memory hosts, shareable by name within the process.

``test:///default`` is one host for the whole process, and a
``test:///path.xml`` connection has a host nobody else can reach. Tests want
something in between: a fresh host of their own that several connections
share. :func:`create_host` builds one - from the default host's objects or
from a configuration file - and registers it under a name; it is then opened
with the URI in :attr:`PrivateHost.uri`::

    test:///default?private=NAME          a copy of the default host
    test:///abs/path/node.xml?private=NAME   a host loaded from that file

Every connection to that URI shares the host (objects and events), exactly
like ``test:///default`` connections share theirs, until
:meth:`PrivateHost.discard` unregisters it; connections still open keep
working on it. Opening a ``?private=`` URI whose name is not registered, or
whose path is not the one the host was made from, fails with
``VIR_ERR_INVALID_ARG`` (error domain ``VIR_FROM_TEST``). (libvirt ignores query parameters on ``test:///``
URIs; ``private`` is virtcore's extension.)
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from virtcore.drivers.test.determinism import Determinism, determinism
from virtcore.drivers.test.faults import FaultInjector, injector
from virtcore.drivers.test.state import TestState
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import AlreadyExistsError, InvalidArgError

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.registry import Registry

__all__ = ["PRIVATE_PARAM", "PrivateHost", "acquire_private", "create_host", "lookup_host"]

logger = logging.getLogger(__name__)

PRIVATE_PARAM = "private"
"""The URI query parameter naming a private host."""

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_lock = threading.Lock()
_hosts: dict[str, PrivateHost] = {}
_counter = itertools.count(1)


class PrivateHost:
    """A registered private test host. Use :func:`create_host` to make one.

    A context manager: leaving the ``with`` block discards the host.
    """

    def __init__(self, name: str, origin: str, state: TestState) -> None:
        self._name = name
        self._origin = origin
        self._state = state
        self._discarded = False

    @property
    def name(self) -> str:
        """The name the host is registered under."""
        return self._name

    @property
    def origin(self) -> str:
        """``/default`` or the absolute path of the configuration file it was loaded from."""
        return self._origin

    @property
    def uri(self) -> str:
        """The URI that opens a connection to this host."""
        return f"test://{self._origin}?{PRIVATE_PARAM}={self._name}"

    @property
    def state(self) -> TestState:
        """The host's state (the test driver's internal model)."""
        return self._state

    @property
    def faults(self) -> FaultInjector:
        """The host's fault injector."""
        return injector(self._state)

    @property
    def determinism(self) -> Determinism:
        """The host's deterministic-mode controls."""
        return determinism(self._state)

    @property
    def discarded(self) -> bool:
        """Whether :meth:`discard` was called."""
        return self._discarded

    def open(self, *, read_only: bool = False, registry: Registry | None = None) -> Connection:
        """A new connection to this host."""
        import virtcore

        if read_only:
            return virtcore.open_read_only(self.uri, registry=registry)
        return virtcore.open(self.uri, registry=registry)

    def discard(self) -> None:
        """Unregister the host; new opens of its URI fail, open connections carry on."""
        with _lock:
            if _hosts.get(self._name) is self:
                del _hosts[self._name]
            self._discarded = True
        logger.debug("discarded private test host %s", self._name)

    def __enter__(self) -> PrivateHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()

    def __repr__(self) -> str:
        return f"<PrivateHost {self.uri!r}>"


def create_host(
    config: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    seed: int | str | None = None,
    clock: float | datetime | bool | None = None,
) -> PrivateHost:
    """Build and register a private host.

    *config* is a test driver configuration file (``None``: the objects of
    ``test:///default``); the file's own ``virtcore`` extension elements
    apply (:mod:`virtcore.drivers.test.extconfig`). *name* defaults to a
    unique ``hostN``. *seed* turns on seeded identifier generation before any
    object is loaded; *clock* gives the host a virtual clock starting at that
    time (``True``: the default start). The keyword settings override the
    file's.
    """
    if name is None:
        with _lock:
            while True:
                name = f"host{next(_counter)}"
                if name not in _hosts:
                    break
    elif not _NAME_RE.fullmatch(name):
        raise InvalidArgError(f"invalid private test host name '{name}'", domain=ErrorDomain.TEST)
    if config is None:
        from virtcore.drivers.test.config import default_state

        origin = "/default"
        state = default_state()
        if seed is not None:
            determinism(state).set_seed(seed)
    else:
        from virtcore.drivers.test.extconfig import load_host

        origin = os.path.abspath(os.fspath(config))
        if origin == "/default":
            raise InvalidArgError(
                "'/default' cannot name a configuration file", domain=ErrorDomain.TEST
            )
        state = load_host(origin, seed=seed)
    if clock is not None and clock is not False:
        determinism(state).enable_clock(None if clock is True else clock)
    host = PrivateHost(name, origin, state)
    with _lock:
        if name in _hosts:
            raise AlreadyExistsError(
                f"a private test host named '{name}' exists already", domain=ErrorDomain.TEST
            )
        _hosts[name] = host
    logger.debug("created private test host %s from %s", name, origin)
    return host


def lookup_host(name: str) -> PrivateHost | None:
    """The registered private host called *name*, if any."""
    with _lock:
        return _hosts.get(name)


def acquire_private(name: str, path: str) -> TestState:
    """The state of private host *name* for a connection to ``test://<path>?private=<name>``."""
    host = lookup_host(name)
    if host is None:
        raise InvalidArgError(f"no private test host named '{name}'", domain=ErrorDomain.TEST)
    if os.path.normpath(path) != host.origin:
        raise InvalidArgError(
            f"private test host '{name}' was made from '{host.origin}', not '{path}'",
            domain=ErrorDomain.TEST,
        )
    return host.state
