"""Stateful connection drivers serve clients only once their host is initialized."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import virtcore
from tests.fakedrivers import FakeHypervisor
from virtcore.auth import Auth
from virtcore.driver import ConnectDriver, DriverTables
from virtcore.errors import OperationTimeoutError
from virtcore.hookspecs import hookimpl
from virtcore.hosts import host_for, shutdown_hosts
from virtcore.registry import Registry
from virtcore.state import InitResult, StateContext, StateDriver
from virtcore.uri import URI


class GatedDriver(StateDriver):
    """Initialization that finishes only when the test opens the gate."""

    name = "gated"
    gate = threading.Event()
    started = threading.Event()
    initialized: list[str] = []

    def initialize(self, ctx: StateContext) -> InitResult:
        GatedDriver.started.set()
        ctx.defer(self._finish, name="reconnect")
        return InitResult.COMPLETE

    def _finish(self) -> None:
        assert GatedDriver.gate.wait(30)
        GatedDriver.initialized.append("reconnected")


class StatefulConnectDriver(ConnectDriver):
    name = "stateful"
    schemes = ("stateful",)
    embeddable = True

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def open(self, uri: URI | None, auth: Auth | None, flags: int) -> DriverTables | None:
        assert uri is not None
        host_for(privileged=False, root=uri.embed_root, registry=self.registry, timeout=30)
        return DriverTables(hypervisor=FakeHypervisor())


@pytest.fixture
def stateful(registry: Registry) -> Iterator[Registry]:
    GatedDriver.gate.clear()
    GatedDriver.started.clear()
    GatedDriver.initialized = []

    @hookimpl
    def virtcore_connect_drivers() -> Sequence[ConnectDriver]:
        return [StatefulConnectDriver(registry)]

    @hookimpl
    def virtcore_state_drivers() -> Sequence[Any]:
        return [GatedDriver]

    plugin = SimpleNamespace(
        virtcore_connect_drivers=virtcore_connect_drivers,
        virtcore_state_drivers=virtcore_state_drivers,
    )
    registry.register(plugin, "stateful")
    yield registry
    GatedDriver.gate.set()
    shutdown_hosts(30)


def test_open_waits_until_every_driver_finished_initializing(
    stateful: Registry, tmp_path: Path
) -> None:
    opened: list[str] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with virtcore.open(f"stateful:///embed?root={tmp_path}", registry=stateful) as conn:
                opened.append(f"served after {list(GatedDriver.initialized)}")
                conn.get_type()
        except BaseException as exc:
            errors.append(exc)

    clients = [threading.Thread(target=client) for _ in range(3)]
    for t in clients:
        t.start()
    assert GatedDriver.started.wait(30)
    assert opened == []  # initialization is not finished: nobody is served
    GatedDriver.gate.set()
    for t in clients:
        t.join(30)
    assert errors == []
    assert opened == ["served after ['reconnected']"] * 3


def test_one_host_per_root_is_shared_by_every_connection(
    stateful: Registry, tmp_path: Path
) -> None:
    GatedDriver.gate.set()
    a = host_for(privileged=False, root=tmp_path, registry=stateful, timeout=30)
    b = host_for(privileged=False, root=str(tmp_path) + "/.", registry=stateful, timeout=30)
    c = host_for(privileged=False, root=tmp_path / "other", registry=stateful, timeout=30)
    assert a is b
    assert a is not c


def test_a_host_that_does_not_become_ready_in_time_is_a_timeout(
    stateful: Registry, tmp_path: Path
) -> None:
    with pytest.raises(OperationTimeoutError):
        host_for(privileged=False, root=tmp_path, registry=stateful, timeout=0.05)
