"""Fixtures for the virtcore.libvirt tests: a fresh test:///default connection, clean globals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from virtcore import libvirt
from virtcore.drivers.test.driver import reset_default_host
from virtcore.libvirt import _eventloop


@pytest.fixture(autouse=True)
def _clean_globals() -> Iterator[None]:
    """Each test starts without an event loop, with the default error handler, no last error."""
    reset_default_host()
    libvirt.virResetLastError()
    yield
    libvirt.registerErrorHandler(None, None)
    libvirt.virResetLastError()
    _eventloop.reset_for_tests()
    reset_default_host()


@pytest.fixture
def quiet() -> list[tuple[object, tuple[object, ...]]]:
    """Silence libvirt's default stderr error printing; collects (ctx, err) instead."""
    seen: list[tuple[object, tuple[object, ...]]] = []
    libvirt.registerErrorHandler(lambda ctx, err: seen.append((ctx, err)), None)
    return seen


@pytest.fixture
def conn(quiet: list[tuple[object, tuple[object, ...]]]) -> Iterator[libvirt.virConnect]:
    """A read-write connection to a fresh test:///default host."""
    c = libvirt.open("test:///default")
    yield c
    c.close()
