"""Shared fixtures for the core test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from virtcore.registry import Registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    """An empty registry (no built-ins, no entry points) to register purpose-built plugins."""
    yield Registry(builtins=False, autoload=False)


@pytest.fixture(scope="module")
def testdrv_registry() -> Registry:
    """The built-in plugins only (the test driver among them), no entry points."""
    return Registry(builtins=True, autoload=False)


@pytest.fixture
def fresh_default_host() -> Iterator[None]:
    """Start on a fresh ``test:///default`` host and leave no connection open."""
    from virtcore.drivers.test.driver import default_host_refcount, reset_default_host

    reset_default_host()
    yield
    assert default_host_refcount() == 0
