"""Fixtures for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.cli.differential")

from tests.cli.differential import write_files  # noqa: E402 - after the rewrite hook


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory holding the input files the command lines name."""
    write_files(tmp_path)
    return tmp_path
