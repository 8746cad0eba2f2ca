"""The test driver's connection driver: ``test:///default`` and ``test:///path.xml``.

URI rules, as libvirt 9.0's ``testConnectOpen``:

* ``test:///default`` - the process-wide default host. It is built when the
  first connection opens and shared, reference-counted, by every connection
  (so an event caused through one connection is seen on all of them); when the
  last connection closes it is discarded and the next open starts afresh.
* ``test:///abs/path/file.xml`` - a host loaded from that configuration file,
  private to the connection.
* ``test:///`` or an empty path - ``VIR_ERR_INVALID_ARG`` "testOpen: supply a
  path or use test:///default" (error domain TEST).
* URIs naming a server are not for this driver (``local_only``).

A configuration file with an ``<auth>`` section makes the open ask for a
user name (credential ``AUTHNAME``) and, unless the user has no password,
a password (``PASSPHRASE``) through the caller's :class:`~virtcore.auth.Auth`.

virtcore's extensions: ``test:///default?private=NAME`` and
``test:///path.xml?private=NAME`` open the private host registered under
``NAME`` (:mod:`.private`), shared by all its connections; a configuration
file may carry virtcore's extension elements (:mod:`.extconfig`); and every
connection's tables are intercepted (:mod:`.intercept`) for fault injection
(:mod:`.faults`) and deterministic mode (:mod:`.determinism`).

This module imports only lightweight parts of virtcore; the XML machinery is
loaded when a connection opens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from virtcore.driver import ConnectDriver, DriverTables
from virtcore.enums.connect import ConnectCredentialType
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import AuthFailedError, InvalidArgError

if TYPE_CHECKING:
    from virtcore.auth import Auth
    from virtcore.drivers.test.state import TestState
    from virtcore.uri import URI

__all__ = ["TestConnectDriver", "default_host_refcount", "reset_default_host"]

logger = logging.getLogger(__name__)

_default_lock = threading.Lock()
_default_state: TestState | None = None
_default_refs = 0


def _acquire_default() -> TestState:
    global _default_state, _default_refs  # noqa: PLW0603 - libvirt's shared defaultPrivconn
    with _default_lock:
        if _default_state is None:
            from virtcore.drivers.test.config import default_state

            _default_state = default_state()
        _default_refs += 1
        return _default_state


def _release_default(state: TestState) -> None:
    global _default_state, _default_refs  # noqa: PLW0603
    with _default_lock:
        if state is not _default_state:
            return
        _default_refs -= 1
        if _default_refs <= 0:
            logger.debug("last test:///default connection closed; discarding the host")
            _default_state = None
            _default_refs = 0


def default_host_refcount() -> int:
    """How many open connections share the ``test:///default`` host (0: none exists)."""
    with _default_lock:
        return _default_refs


def reset_default_host() -> None:
    """Make the next ``test:///default`` open build a fresh host (for test suites).

    Connections that are already open keep the host they share, unaffected;
    they are simply no longer counted. libvirt has no such call: there the
    default host is only renewed once every connection to it has closed.
    """
    global _default_state, _default_refs  # noqa: PLW0603
    with _default_lock:
        if _default_state is not None:
            logger.debug("detaching the test:///default host from %d connection(s)", _default_refs)
        _default_state = None
        _default_refs = 0


def _authenticate(state: TestState, auth: Auth | None) -> None:
    """``testConnectAuthenticate``: check the caller against the file's ``<auth>`` users."""
    if not state.auth_users:
        return
    from virtcore.auth import Credential

    if auth is None:
        raise InvalidArgError("Missing authentication credentials", domain=ErrorDomain.AUTH)
    ask_user = Credential(
        ConnectCredentialType.AUTHNAME, "Enter username for localhost", challenge="localhost"
    )
    auth.ask([ask_user], domain=ErrorDomain.AUTH)
    username = ask_user.result
    user = next((u for u in state.auth_users if u.name == username), None)
    password: str | None = None
    if user is None or user.password is not None:
        # Ask even for an unknown user, so the outcome does not reveal which part was wrong.
        ask_pass = Credential(
            ConnectCredentialType.PASSPHRASE,
            f"Enter {username}'s password for localhost",
            challenge="localhost",
        )
        auth.ask([ask_pass], domain=ErrorDomain.AUTH)
        password = ask_pass.result
    if (
        user is None
        or username is None
        or (user.password is not None and password != user.password)
    ):
        raise AuthFailedError(
            "authentication failed, see test XML for the correct username/password",
            domain=ErrorDomain.TEST,
        )
    logger.debug("test driver user %s authenticated", username)


class TestConnectDriver(ConnectDriver):
    """Opens ``test:///...`` connections; see the module documentation for the rules."""

    __test__ = False  # not a pytest test class
    name = "test"
    schemes = ("test",)
    local_only = True
    remote_only = False
    embeddable = False

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        """Open the default host or load a configuration file."""
        if uri is None:
            return None
        path = uri.path
        if path in ("", "/"):
            raise InvalidArgError(
                "testOpen: supply a path or use test:///default", domain=ErrorDomain.TEST
            )
        private = dict(uri.query).get("private")
        if private is not None:
            from virtcore.drivers.test.private import acquire_private

            state = acquire_private(private, path)

            def release() -> None:
                logger.debug("closed a connection to private test host %s", private)

        elif path == "/default":
            state = _acquire_default()

            def release() -> None:
                _release_default(state)

        else:
            from virtcore.drivers.test.extconfig import load_host

            state = load_host(path)

            def release() -> None:
                logger.debug("closed test host %s", path)

        try:
            _authenticate(state, auth)
        except BaseException:
            release()
            raise
        from virtcore.drivers.test.intercept import wrap_tables

        return wrap_tables(state, _tables(state, release))


def _tables(state: TestState, release: Callable[[], None]) -> DriverTables:
    from virtcore.drivers.test.hypervisor import TestHypervisorDriver
    from virtcore.drivers.test.secondary import (
        TestInterfaceDriver,
        TestNetworkDriver,
        TestNodeDeviceDriver,
        TestNWFilterDriver,
        TestSecretDriver,
        TestStorageDriver,
    )

    return DriverTables(
        hypervisor=TestHypervisorDriver(state, release),
        network=TestNetworkDriver(state),
        storage=TestStorageDriver(state),
        nodedev=TestNodeDeviceDriver(state),
        interface=TestInterfaceDriver(state),
        secret=TestSecretDriver(state),
        nwfilter=TestNWFilterDriver(state),
    )
