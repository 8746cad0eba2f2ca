"""Purpose-built state drivers for the host initialization tests.

They model a small host just far enough to exercise :mod:`virtcore.state`:

* :class:`ProcessTable` stands in for the kernel's process list: guests are
  process records that can be spawned, probed and killed.
* :class:`Journal` records, in order and across threads, what every driver did,
  so tests can assert orderings without sleeping.
* :class:`StorageDriver` (``"storage"``) holds pools of volumes. A pool becomes
  active only through the driver's own autostart — inside ``initialize``, in
  deferred work, or in deferred work held at a gate the test opens.
* :class:`NetworkDriver` (``"network"``) hands out ports on active networks.
* :class:`HypervisorDriver` (``"qemu"``) reconnects guests recorded as running
  in status files under its state directory, resolving each guest's disk and
  NIC through lazy lookups. A dependency that cannot be resolved degrades the
  guest (state reason ``"degraded: <error>"``, an error event, a log record) but
  never kills it — unless built with ``kill_on_failure``, libvirt's policy, which
  the tests use to prove that no false failure ever happens.
* :class:`MutualDriver` forces, from deferred work, a lookup into another driver
  (dependency cycles); :class:`EagerDriver` forces one inside ``initialize``.
* :class:`RecordingDriver` records lifecycle calls and fails on request.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    NoNetworkError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    VirtError,
)
from virtcore.state import InitResult, Lazy, StateContext, StateDriver
from virtcore.store import StatePaths

log = logging.getLogger(__name__)

#: Safety net for every wait in these drivers; reaching it means a bug, not slowness.
SAFETY_TIMEOUT = 10.0


class Journal:
    """A thread-safe, ordered record of ``(actor, event)`` entries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str]] = []

    def record(self, actor: str, event: str) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append((actor, event))

    def entries(self) -> list[tuple[str, str]]:
        """A snapshot of every entry so far."""
        with self._lock:
            return list(self._entries)

    def events_of(self, actor: str) -> list[str]:
        """The events *actor* recorded, in order."""
        return [event for who, event in self.entries() if who == actor]

    def actors_of(self, event: str) -> list[str]:
        """Who recorded *event*, in order."""
        return [who for who, what in self.entries() if what == event]

    def index(self, actor: str, event: str) -> int:
        """Position of the first ``(actor, event)``; AssertionError if absent."""
        entries = self.entries()
        try:
            return entries.index((actor, event))
        except ValueError:
            raise AssertionError(f"{(actor, event)!r} not in journal {entries!r}") from None


class ProcessTable:
    """The simulated host's processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_pid = 4000
        self._alive: dict[int, str] = {}
        self.killed: list[int] = []

    def spawn(self, name: str) -> int:
        """Start a process; returns its pid."""
        with self._lock:
            pid = self._next_pid
            self._next_pid += 1
            self._alive[pid] = name
            return pid

    def is_alive(self, pid: int) -> bool:
        """True while the process runs."""
        with self._lock:
            return pid in self._alive

    def kill(self, pid: int) -> None:
        """Terminate the process."""
        with self._lock:
            self._alive.pop(pid, None)
            self.killed.append(pid)


def _paths(driver: str, root: Path) -> StatePaths:
    return StatePaths.for_driver(driver, privileged=False, root=root)


# -- storage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolConfig:
    """A storage pool: a directory of volumes."""

    name: str
    target: str
    volumes: tuple[str, ...]
    autostart: bool = True


class StorageDriver(StateDriver):
    """Pools whose activation happens only in the driver's own autostart."""

    name = "storage"
    provides = frozenset({"storage"})

    def __init__(
        self,
        journal: Journal,
        pools: Sequence[PoolConfig],
        *,
        autostart_in: Literal["initialize", "deferred"] = "initialize",
        skip: bool = False,
        gate: threading.Event | None = None,
        gate_reached: threading.Event | None = None,
    ) -> None:
        self.journal = journal
        self.configs = {pool.name: pool for pool in pools}
        self.autostart_in = autostart_in
        self.skip = skip
        self.gate = gate
        self.gate_reached = gate_reached
        self.active: set[str] = set()
        self._state_dir: Path | None = None

    def initialize(self, ctx: StateContext) -> InitResult:
        self.journal.record(self.name, "initialize")
        if self.skip:
            self.journal.record(self.name, "skipped")
            return InitResult.SKIPPED
        self._state_dir = ctx.paths().state_dir
        # Live status survives a daemon restart (it is in the runtime dir).
        self.active = {
            name for name in self.configs if (self._state_dir / f"{name}.active").exists()
        }
        if ctx.should_autostart():
            if self.autostart_in == "deferred":
                ctx.defer(self._autostart, name="autostart")
            else:
                self._autostart()
        self.journal.record(self.name, "initialized")
        return InitResult.COMPLETE

    def _autostart(self) -> None:
        if self.gate is not None:
            if self.gate_reached is not None:
                self.gate_reached.set()
            if not self.gate.wait(SAFETY_TIMEOUT):
                raise OperationTimeoutError("storage autostart gate never opened")
        for pool in self.configs.values():
            if pool.autostart and pool.name not in self.active:
                self.start_pool(pool.name)
                self.journal.record(self.name, f"autostart pool {pool.name}")

    def start_pool(self, name: str) -> None:
        """Activate pool *name* and persist its live status."""
        assert self._state_dir is not None
        self._state_dir.mkdir(parents=True, exist_ok=True)
        (self._state_dir / f"{name}.active").touch()
        self.active.add(name)

    def stop_pool(self, name: str) -> None:
        """Deactivate pool *name* (an administrator's ``pool-destroy``)."""
        assert self._state_dir is not None
        (self._state_dir / f"{name}.active").unlink(missing_ok=True)
        self.active.discard(name)

    def volume_path(self, pool: str, volume: str) -> str:
        """The path of *volume* in *pool*, which must be active."""
        config = self.configs.get(pool)
        if config is None:
            raise NoStoragePoolError(
                f"no storage pool with matching name '{pool}'", domain=ErrorDomain.STORAGE
            )
        if pool not in self.active:
            raise ConfigUnsupportedError(
                f"storage pool '{pool}' containing volume '{volume}' is not active",
                domain=ErrorDomain.STORAGE,
            )
        if volume not in config.volumes:
            raise NoStorageVolError(
                f"no storage vol with matching name '{volume}'", domain=ErrorDomain.STORAGE
            )
        return f"{config.target}/{volume}"

    def cleanup(self) -> None:
        self.journal.record(self.name, "cleanup")


# -- network ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkConfig:
    """A virtual network on a bridge."""

    name: str
    bridge: str
    autostart: bool = True


class NetworkDriver(StateDriver):
    """Networks that allocate ports only while active."""

    name = "network"
    provides = frozenset({"network"})

    def __init__(self, journal: Journal, networks: Sequence[NetworkConfig]) -> None:
        self.journal = journal
        self.configs = {net.name: net for net in networks}
        self.active: set[str] = set()

    def initialize(self, ctx: StateContext) -> InitResult:
        self.journal.record(self.name, "initialize")
        if ctx.should_autostart():
            for net in self.configs.values():
                if net.autostart:
                    self.active.add(net.name)
                    self.journal.record(self.name, f"autostart network {net.name}")
        self.journal.record(self.name, "initialized")
        return InitResult.COMPLETE

    def allocate_port(self, network: str, mac: str) -> str:
        """A port for *mac* on *network*, which must be active."""
        config = self.configs.get(network)
        if config is None:
            raise NoNetworkError(
                f"no network with matching name '{network}'", domain=ErrorDomain.NETWORK
            )
        if network not in self.active:
            raise OperationInvalidError(
                f"network '{network}' is not active", domain=ErrorDomain.NETWORK
            )
        return f"{config.bridge}/{mac}"

    def cleanup(self) -> None:
        self.journal.record(self.name, "cleanup")


# -- hypervisor ------------------------------------------------------------------------


@dataclass(frozen=True)
class GuestConfig:
    """A persistent guest definition: one volume disk, one network NIC."""

    name: str
    pool: str
    volume: str
    network: str
    mac: str
    autostart: bool = False


@dataclass
class Guest:
    """A guest as the hypervisor driver tracks it."""

    config: GuestConfig
    pid: int | None = None
    reason: str = "shutoff"
    disk_path: str | None = None
    port: str | None = None


@dataclass(frozen=True)
class GuestEvent:
    """An event the hypervisor emitted."""

    kind: Literal["error", "started", "stopped"]
    guest: str
    detail: str


def launch_guest(root: Path, processes: ProcessTable, config: GuestConfig) -> int:
    """Leave *config* running as a previous daemon run would have: process + status file."""
    pid = processes.spawn(config.name)
    state_dir = _paths(HypervisorDriver.name, root).state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / f"{config.name}.json").write_text(json.dumps({"name": config.name, "pid": pid}))
    return pid


def _storage(driver: StateDriver) -> StorageDriver:
    if not isinstance(driver, StorageDriver):
        raise InternalError(f"'{driver.name}' is not the storage driver")
    return driver


def _network(driver: StateDriver) -> NetworkDriver:
    if not isinstance(driver, NetworkDriver):
        raise InternalError(f"'{driver.name}' is not the network driver")
    return driver


class HypervisorDriver(StateDriver):
    """Reconnects running guests and autostarts defined ones, like qemu."""

    name = "qemu"

    def __init__(
        self,
        journal: Journal,
        processes: ProcessTable,
        guests: Sequence[GuestConfig],
        *,
        kill_on_failure: bool = False,
    ) -> None:
        self.journal = journal
        self.processes = processes
        self.guests = {config.name: Guest(config) for config in guests}
        self.kill_on_failure = kill_on_failure
        self.events: list[GuestEvent] = []
        self._events_lock = threading.Lock()

    def initialize(self, ctx: StateContext) -> InitResult:
        self.journal.record(self.name, "initialize")
        state_dir = ctx.paths().state_dir
        for status in sorted(state_dir.glob("*.json")):
            record = json.loads(status.read_text())
            guest = self.guests[record["name"]]
            if self.processes.is_alive(record["pid"]):
                self._reconnect(ctx, guest, record["pid"])
        if ctx.should_autostart():
            ctx.defer(lambda: self._autostart(ctx), name="autostart")
        self.journal.record(self.name, "initialized")
        return InitResult.COMPLETE

    def _reconnect(self, ctx: StateContext, guest: Guest, pid: int) -> None:
        guest.pid, guest.reason = pid, "reconnected"
        self.journal.record(self.name, f"reconnect {guest.config.name}")
        self._disk(ctx, guest).then(
            lambda path: self._set_disk(guest, path),
            lambda err: self._dependency_failed(guest, "disk", err),
        )
        self._nic(ctx, guest).then(
            lambda port: self._set_port(guest, port),
            lambda err: self._dependency_failed(guest, "interface", err),
        )

    @staticmethod
    def _disk(ctx: StateContext, guest: Guest) -> Lazy[str]:
        config = guest.config
        return ctx.lookup("storage", lambda d: _storage(d).volume_path(config.pool, config.volume))

    @staticmethod
    def _nic(ctx: StateContext, guest: Guest) -> Lazy[str]:
        config = guest.config
        return ctx.lookup(
            "network", lambda d: _network(d).allocate_port(config.network, config.mac)
        )

    def _set_disk(self, guest: Guest, path: str) -> None:
        guest.disk_path = path
        self.journal.record(self.name, f"disk {guest.config.name} resolved")

    def _set_port(self, guest: Guest, port: str) -> None:
        guest.port = port
        self.journal.record(self.name, f"interface {guest.config.name} resolved")

    def _dependency_failed(self, guest: Guest, what: str, err: VirtError) -> None:
        name = guest.config.name
        self._emit(GuestEvent("error", name, f"{what}: {err}"))
        if self.kill_on_failure and guest.pid is not None:
            log.error("guest %s: cannot resolve %s: %s; killing it", name, what, err)
            self.processes.kill(guest.pid)
            guest.pid, guest.reason = None, f"shutoff: {err}"
            self._emit(GuestEvent("stopped", name, "daemon"))
            return
        log.error("guest %s: cannot resolve %s: %s; keeping it running", name, what, err)
        if not guest.reason.startswith("degraded"):
            guest.reason = f"degraded: {err}"

    def _autostart(self, ctx: StateContext) -> None:
        for guest in self.guests.values():
            if not guest.config.autostart or guest.pid is not None:
                continue
            try:
                disk = self._disk(ctx, guest).result(SAFETY_TIMEOUT)
                port = self._nic(ctx, guest).result(SAFETY_TIMEOUT)
            except VirtError as err:
                self._emit(GuestEvent("error", guest.config.name, f"autostart: {err}"))
                guest.reason = f"shutoff: autostart failed: {err}"
                continue
            guest.pid = self.processes.spawn(guest.config.name)
            guest.disk_path, guest.port, guest.reason = disk, port, "booted"
            self._emit(GuestEvent("started", guest.config.name, "booted"))
            self.journal.record(self.name, f"autostart {guest.config.name}")

    def _emit(self, event: GuestEvent) -> None:
        with self._events_lock:
            self.events.append(event)

    def errors(self) -> list[GuestEvent]:
        """The error events emitted so far."""
        with self._events_lock:
            return [event for event in self.events if event.kind == "error"]

    def cleanup(self) -> None:
        self.journal.record(self.name, "cleanup")


# -- drivers for ordering, failures and cycles -----------------------------------------


LifecycleOp = Literal[
    "initialize", "cleanup", "reload", "stop", "shutdown_prepare", "shutdown_wait"
]


class RecordingDriver(StateDriver):
    """Records every lifecycle call; fails the operations named in *fail*.

    ``init_result`` is what ``initialize`` returns when it does not fail;
    ``defer`` is work deferred from ``initialize``.
    """

    def __init__(
        self,
        name: str,
        journal: Journal,
        *,
        provides: Iterable[str] = (),
        init_result: InitResult = InitResult.COMPLETE,
        fail: Iterable[LifecycleOp] = (),
        stop_result: bool = False,
        on_initialize: Callable[[StateContext], None] | None = None,
        defer: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.provides = frozenset(provides)
        self.journal = journal
        self.init_result = init_result
        self.fail = frozenset(fail)
        self.stop_result = stop_result
        self.on_initialize = on_initialize
        self.deferred = defer

    def _record(self, op: LifecycleOp) -> None:
        self.journal.record(self.name, op)
        if op in self.fail:
            raise OperationFailedError(f"{self.name} {op} failed")

    def initialize(self, ctx: StateContext) -> InitResult:
        self._record("initialize")
        if self.on_initialize is not None:
            self.on_initialize(ctx)
        if self.deferred is not None:
            ctx.defer(self.deferred, name="work")
        return self.init_result

    def cleanup(self) -> None:
        self._record("cleanup")

    def reload(self) -> None:
        self._record("reload")

    def stop(self) -> bool:
        self._record("stop")
        return self.stop_result

    def shutdown_prepare(self) -> None:
        self._record("shutdown_prepare")

    def shutdown_wait(self) -> None:
        self._record("shutdown_wait")


@dataclass
class Outcome:
    """What a forced lookup produced: a value or an error."""

    value: str | None = None
    error: VirtError | None = None
    done: threading.Event = field(default_factory=threading.Event)


class MutualDriver(StateDriver):
    """Provides *provides*; its deferred work forces a lookup of *needs*."""

    def __init__(self, name: str, *, provides: str, needs: str) -> None:
        self.name = name
        self.provides = frozenset({provides})
        self.needs = needs
        self.outcome = Outcome()

    def initialize(self, ctx: StateContext) -> InitResult:
        ctx.defer(lambda: self._bootstrap(ctx), name="bootstrap")
        return InitResult.COMPLETE

    def _bootstrap(self, ctx: StateContext) -> None:
        try:
            self.outcome.value = ctx.lookup(self.needs, lambda d: d.name).result(SAFETY_TIMEOUT)
        except VirtError as err:
            self.outcome.error = err
        finally:
            self.outcome.done.set()


class EagerDriver(StateDriver):
    """Forces a lookup of *needs* inside ``initialize`` (which must not hang)."""

    def __init__(self, name: str, *, needs: str, propagate: bool = False) -> None:
        self.name = name
        self.needs = needs
        self.propagate = propagate
        self.outcome = Outcome()

    def initialize(self, ctx: StateContext) -> InitResult:
        lazy = ctx.lookup(self.needs, lambda d: d.name)
        try:
            self.outcome.value = lazy.result(SAFETY_TIMEOUT)
        except VirtError as err:
            self.outcome.error = err
            if self.propagate:
                raise
        return InitResult.COMPLETE
