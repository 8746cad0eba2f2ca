"""Fixtures of the host storage driver tests: embedded hosts on real directories.

Each test gets its own registry holding only the storage plugin, so hosts
are isolated from other installed backends and from each other. A "process"
is a :class:`StorageHost`: opening it initializes a host on the root,
closing it shuts the host down (releasing the state directory as an exiting
process would); :meth:`StorageHost.reboot` removes the runtime directory as a
reboot empties ``/run``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import virtcore
from virtcore.connection import Connection
from virtcore.driver import ConnectDriver
from virtcore.drivers.storage import StorageConnectDriver, StorageStateDriver
from virtcore.hookspecs import hookimpl
from virtcore.hosts import host_for
from virtcore.objects import StoragePool
from virtcore.registry import Registry
from virtcore.state import Host


class _Plugin:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @hookimpl
    def virtcore_connect_drivers(self) -> Sequence[ConnectDriver]:
        return [StorageConnectDriver(self.registry)]

    @hookimpl
    def virtcore_state_drivers(self) -> Sequence[Any]:
        return [StorageStateDriver]


def storage_registry() -> Registry:
    """A registry with only the storage plugin, bound to itself."""
    registry = Registry(builtins=False, autoload=False)
    registry.register(_Plugin(registry), "storage")
    return registry


class StorageHost:
    """One simulated process using ``storage:///embed?root=ROOT``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry = storage_registry()
        self.uri = f"storage:///embed?root={root}"
        self.connections: list[Connection] = []
        self._host: Host | None = None

    def open(self) -> Connection:
        conn = virtcore.open(self.uri, registry=self.registry)
        self.connections.append(conn)
        if self._host is None:
            self._host = host_for(
                privileged=False, root=self.root, registry=self.registry, timeout=30
            )
        return conn

    @property
    def host(self) -> Host:
        assert self._host is not None, "open a connection first"
        return self._host

    @property
    def driver(self) -> StorageStateDriver:
        found = self.host.driver("storage")
        assert isinstance(found, StorageStateDriver)
        return found

    def exit(self) -> None:
        """Close every connection and shut the host down, as an exiting process does."""
        for conn in self.connections:
            conn.close()
        self.connections.clear()
        if self._host is not None:
            self._host.shutdown(timeout=30)

    def reboot(self) -> None:
        """Forget runtime state as a host reboot does (``/run`` is a tmpfs)."""
        shutil.rmtree(self.root / "run", ignore_errors=True)


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[list[StorageHost]]:
    """Every :class:`StorageHost` a test makes, shut down afterwards."""
    made: list[StorageHost] = []
    yield made
    for host in made:
        host.exit()


@pytest.fixture
def new_host(tmp_path: Path, hosts: list[StorageHost]) -> Any:
    """Make a new simulated process on the test's root directory."""

    def make() -> StorageHost:
        host = StorageHost(tmp_path / "root")
        hosts.append(host)
        return host

    return make


@pytest.fixture
def conn(new_host: Any) -> Connection:
    """A connection to a fresh embedded storage host."""
    host: StorageHost = new_host()
    return host.open()


def dir_pool_xml(name: str, path: Path | str, extra: str = "") -> str:
    """A directory pool document."""
    return f"<pool type='dir'><name>{name}</name><target><path>{path}</path>{extra}</target></pool>"


@pytest.fixture
def pool_dir(tmp_path: Path) -> Path:
    """Where the test's pool lives (not yet created)."""
    return tmp_path / "images"


@pytest.fixture
def pool(conn: Connection, pool_dir: Path) -> StoragePool:
    """A defined, built and running directory pool ``images``."""
    obj = conn.storage_pool_define_xml(dir_pool_xml("images", pool_dir))
    obj.build()
    obj.create()
    return obj


def vol_xml(name: str, capacity: int = 1048576, *, fmt: str = "raw", extra: str = "") -> str:
    """A volume document with a capacity in bytes."""
    return (
        f"<volume><name>{name}</name><capacity>{capacity}</capacity>{extra}"
        f"<target><format type='{fmt}'/></target></volume>"
    )
