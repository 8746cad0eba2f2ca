"""Fixtures of the QEMU backend tests: an embed root per test, its connection, its events.

Every fixture that can start QEMU guarantees, on teardown and even after a
failure, that the hosts this process built are shut down (monitors closed)
and that every QEMU recorded under the test's root is killed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu_guests import EventLog, kill_guests

import virtcore
from virtcore.connection import Connection
from virtcore.hosts import shutdown_hosts
from virtcore_qemu.driver import QemuHypervisorDriver
from virtcore_qemu.state import QemuDriver


@pytest.fixture
def embed_root() -> Iterator[Path]:
    """An empty embed root; every guest started under it is killed at teardown.

    A short directory of its own rather than one below ``tmp_path``: sockets
    bound under the root (virtiofsd's, for one) must fit ``sun_path``, and
    ``tmp_path`` grows with the test's name and the count of earlier runs.
    """
    root = Path(tempfile.mkdtemp(prefix="vq-", dir="/tmp"))
    try:
        yield root
    finally:
        shutdown_hosts()
        kill_guests(root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def conn(embed_root: Path) -> Iterator[Connection]:
    """A connection to ``qemu:///embed?root=<embed_root>``."""
    connection = virtcore.open(f"qemu:///embed?root={embed_root}")
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def qemu(conn: Connection) -> QemuDriver:
    """The driver instance behind *conn*."""
    table = conn.tables.hypervisor
    assert isinstance(table, QemuHypervisorDriver)
    return table.driver


@pytest.fixture
def events(qemu: QemuDriver) -> Iterator[EventLog]:
    """Every domain event of the host, recorded from now on."""
    log = EventLog(qemu.events)
    try:
        yield log
    finally:
        log.close()
