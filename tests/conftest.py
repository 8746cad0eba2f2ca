"""Shared fixtures for the core test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from virtcore.registry import Registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    """An empty registry (no built-ins, no entry points) to register purpose-built plugins."""
    yield Registry(builtins=False, autoload=False)
