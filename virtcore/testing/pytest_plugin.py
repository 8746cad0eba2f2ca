"""The virtcore pytest plugin: an isolated test hypervisor per test.

Installed with virtcore and loaded by pytest through the ``pytest11`` entry
point ``virtcore``. Each test that asks for these fixtures gets a private
in-memory test host (:mod:`virtcore.drivers.test.private`) of its own -
never the process-wide ``test:///default`` - discarded when the test ends.

Fixtures (function scope):

* ``virtcore_host`` - the test's :class:`~virtcore.drivers.test.private.PrivateHost`:
  the objects of ``test:///default`` (domain ``test``, network ``default``,
  ...), or those of the file named by the ``virtcore_config`` marker.
* ``virtcore_conn`` - a connection to it, closed after the test.
* ``virtcore_open`` - a function opening further connections to the host
  (``virtcore_open(read_only=True)``), each closed after the test.
* ``virtcore_domains`` - a :class:`~virtcore.testing.factory.DomainFactory` on
  ``virtcore_conn``; its domains are removed after the test.
* ``virtcore_faults`` - the host's :class:`~virtcore.drivers.test.faults.FaultInjector`.
* ``virtcore_events`` - an :class:`~virtcore.testing.recorder.EventRecorder`
  on ``virtcore_conn``.
* ``virtcore_deterministic`` - the host's
  :class:`~virtcore.drivers.test.determinism.Determinism`, with identifier
  generation seeded (seed 0) from the start and a virtual clock.

Markers:

* ``@pytest.mark.virtcore_config("path/to/node.xml")`` - build the host from
  that test driver configuration file, relative to the test file's directory.
* ``@pytest.mark.virtcore_deterministic(seed=0, start=None, cpu_load=1.0)`` -
  make the host deterministic with these settings (also without requesting
  the ``virtcore_deterministic`` fixture).

This module imports virtcore's driver code only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.determinism import Determinism
    from virtcore.drivers.test.faults import FaultInjector
    from virtcore.drivers.test.private import PrivateHost
    from virtcore.testing.factory import DomainFactory
    from virtcore.testing.recorder import EventRecorder

__all__ = [
    "DEFAULT_SEED",
    "pytest_configure",
    "virtcore_conn",
    "virtcore_deterministic",
    "virtcore_domains",
    "virtcore_events",
    "virtcore_faults",
    "virtcore_host",
    "virtcore_open",
]

DEFAULT_SEED = 0
"""The identifier seed of deterministic hosts unless the marker names another."""

_CONFIG_MARKER = "virtcore_config"
_DETERMINISTIC = "virtcore_deterministic"


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's markers."""
    config.addinivalue_line(
        "markers",
        f"{_CONFIG_MARKER}(path): build the test's virtcore host from this test driver "
        "configuration file (relative to the test file)",
    )
    config.addinivalue_line(
        "markers",
        f"{_DETERMINISTIC}(seed=0, start=None, cpu_load=1.0): seeded identifiers and a "
        "virtual clock on the test's virtcore host",
    )


def _config_path(request: pytest.FixtureRequest) -> Path | None:
    marker = request.node.get_closest_marker(_CONFIG_MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        pytest.fail(f"@pytest.mark.{_CONFIG_MARKER} takes one path", pytrace=False)
    path = Path(marker.args[0])
    if not path.is_absolute():
        path = Path(request.node.path).parent / path
    return path


def _deterministic_settings(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    marker = request.node.get_closest_marker(_DETERMINISTIC)
    if marker is None and _DETERMINISTIC not in request.fixturenames:
        return None
    settings: dict[str, Any] = {"seed": DEFAULT_SEED, "start": None, "cpu_load": 1.0}
    if marker is not None:
        unknown = set(marker.kwargs) - set(settings)
        if marker.args or unknown:
            pytest.fail(
                f"@pytest.mark.{_DETERMINISTIC} takes the keywords seed, start and cpu_load",
                pytrace=False,
            )
        settings.update(marker.kwargs)
    return settings


@pytest.fixture
def virtcore_host(request: pytest.FixtureRequest) -> Iterator[PrivateHost]:
    """A private test host for this test, from the default objects or the marker's file."""
    from virtcore.drivers.test.private import create_host

    settings = _deterministic_settings(request)
    seed = settings["seed"] if settings is not None else None
    host = create_host(_config_path(request), seed=seed)
    if settings is not None:
        host.determinism.enable_clock(settings["start"], load=settings["cpu_load"])
    try:
        yield host
    finally:
        host.faults.clear()
        host.discard()


@pytest.fixture
def virtcore_conn(virtcore_host: PrivateHost) -> Iterator[Connection]:
    """A read-write connection to the test's host."""
    conn = virtcore_host.open()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def virtcore_open(virtcore_host: PrivateHost) -> Iterator[Callable[..., Connection]]:
    """``open(read_only=False)``: another connection to the test's host, closed afterwards."""
    opened: list[Connection] = []

    def open_connection(*, read_only: bool = False) -> Connection:
        conn = virtcore_host.open(read_only=read_only)
        opened.append(conn)
        return conn

    try:
        yield open_connection
    finally:
        for conn in opened:
            conn.close()


@pytest.fixture
def virtcore_domains(
    virtcore_host: PrivateHost, virtcore_conn: Connection
) -> Iterator[DomainFactory]:
    """Makes domains on ``virtcore_conn``; they are destroyed and undefined afterwards."""
    from virtcore.testing.factory import DomainFactory

    factory = DomainFactory(virtcore_conn)
    try:
        yield factory
    finally:
        # The test is over: its fault rules must not get in the way of the cleanup.
        virtcore_host.faults.clear()
        factory.cleanup()


@pytest.fixture
def virtcore_faults(virtcore_host: PrivateHost) -> FaultInjector:
    """The fault injector of the test's host (its rules end with the test)."""
    return virtcore_host.faults


@pytest.fixture
def virtcore_events(virtcore_conn: Connection) -> Iterator[EventRecorder]:
    """Records lifecycle, reboot and I/O error events seen by ``virtcore_conn``."""
    from virtcore.testing.recorder import EventRecorder

    recorder = EventRecorder(virtcore_conn)
    try:
        yield recorder
    finally:
        recorder.close()


@pytest.fixture
def virtcore_deterministic(virtcore_host: PrivateHost) -> Determinism:
    """The host's deterministic-mode controls: seeded identifiers and a virtual clock."""
    return virtcore_host.determinism
