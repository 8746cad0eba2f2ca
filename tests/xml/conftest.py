"""Fixtures shared by the XML layer tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.libvirt_oracle import ALLOW_ENV
from virtcore.xml.validate import DEFAULT_SCHEMA_DIR, SCHEMA_DIR_ENV


@pytest.fixture
def libvirt_schemas(monkeypatch: pytest.MonkeyPatch) -> Path:
    """libvirt's installed RelaxNG schemas (package libvirt0), in use for validation.

    Missing schemas fail the test, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``
    turns that into a skip, as for the other tests that need libvirt.
    """
    monkeypatch.delenv(SCHEMA_DIR_ENV, raising=False)
    if not (DEFAULT_SCHEMA_DIR / "domain.rng").is_file():
        if os.environ.get(ALLOW_ENV) == "1":
            pytest.skip(f"libvirt's schemas are not installed and {ALLOW_ENV}=1")
        pytest.fail(
            f"libvirt's schemas are missing from {DEFAULT_SCHEMA_DIR}; install libvirt0 "
            f"or set {ALLOW_ENV}=1"
        )
    return DEFAULT_SCHEMA_DIR
