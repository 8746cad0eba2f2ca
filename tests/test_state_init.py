"""Specification of state-driver initialization (virtcore.state).

The rule under test: secondary-driver lookups made during initialization
resolve lazily, once every driver's initialize has returned, against the
provider's fully initialized state (autostart and deferred work included).
The drivers used here live in tests/statedrivers.py.
"""

from __future__ import annotations

import itertools
import logging
import re
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from tests.statedrivers import (
    SAFETY_TIMEOUT,
    EagerDriver,
    GuestConfig,
    HypervisorDriver,
    Journal,
    MutualDriver,
    NetworkConfig,
    NetworkDriver,
    PoolConfig,
    ProcessTable,
    RecordingDriver,
    StorageDriver,
    launch_guest,
)
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoSupportError,
    OperationAbortedError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    VirtError,
)
from virtcore.state import (
    Host,
    HostState,
    InitResult,
    StateContext,
    StateDriver,
    StateDriverError,
)
from virtcore.store import StatePaths

ORDERS = list(itertools.permutations(["qemu", "storage", "network"]))
ORDER_IDS = ["-".join(order) for order in ORDERS]
AUTOSTART_MODES = ["initialize", "deferred"]

WEB = GuestConfig("web", "images", "web.qcow2", "default", "52:54:00:00:00:01")
DB = GuestConfig("db", "images", "db.qcow2", "default", "52:54:00:00:00:02", autostart=True)


def make_host(drivers: Sequence[StateDriver], root: Path) -> Host:
    return Host(drivers, privileged=False, root=root, wait_timeout=SAFETY_TIMEOUT)


class Worker(threading.Thread):
    """A thread that re-raises its target's exception on :meth:`finish`."""

    def __init__(self, target: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:
            self.error = exc

    def finish(self) -> None:
        self.join(SAFETY_TIMEOUT)
        assert not self.is_alive(), "worker did not finish"
        if self.error is not None:
            raise self.error


@dataclass
class Site:
    """A simulated host: storage, network and qemu drivers, one guest left running."""

    root: Path
    journal: Journal
    processes: ProcessTable
    storage: StorageDriver
    network: NetworkDriver
    qemu: HypervisorDriver
    web_pid: int

    def drivers(self, order: Sequence[str]) -> list[StateDriver]:
        by_name: dict[str, StateDriver] = {
            "qemu": self.qemu,
            "storage": self.storage,
            "network": self.network,
        }
        return [by_name[name] for name in order]

    def host(self, order: Sequence[str] = ("storage", "network", "qemu")) -> Host:
        return make_host(self.drivers(order), self.root)


def make_site(
    root: Path,
    *,
    autostart_in: Literal["initialize", "deferred"] = "initialize",
    pool_autostart: bool = True,
    kill_on_failure: bool = False,
    gate: threading.Event | None = None,
    gate_reached: threading.Event | None = None,
) -> Site:
    journal = Journal()
    processes = ProcessTable()
    pool = PoolConfig("images", "/srv/images", ("web.qcow2", "db.qcow2"), pool_autostart)
    storage = StorageDriver(
        journal, [pool], autostart_in=autostart_in, gate=gate, gate_reached=gate_reached
    )
    network = NetworkDriver(journal, [NetworkConfig("default", "virbr0")])
    qemu = HypervisorDriver(journal, processes, [WEB, DB], kill_on_failure=kill_on_failure)
    web_pid = launch_guest(root, processes, WEB)
    return Site(root, journal, processes, storage, network, qemu, web_pid)


def marker(root: Path, driver: str) -> Path:
    return StatePaths.for_driver(driver, privileged=False, root=root).state_dir / "autostarted"


# -- every registration order gives the same outcome -----------------------------------

order_params = pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
mode_params = pytest.mark.parametrize("autostart_in", AUTOSTART_MODES)


@order_params
@mode_params
def test_running_guest_is_never_killed_in_any_registration_order(
    tmp_path: Path, order: tuple[str, ...], autostart_in: Literal["initialize", "deferred"]
) -> None:
    # kill_on_failure is libvirt's reconnect policy: any false dependency
    # failure would kill the guest, so a surviving guest proves there was none.
    site = make_site(tmp_path, autostart_in=autostart_in, kill_on_failure=True)
    site.host(order).initialize()
    assert site.processes.is_alive(site.web_pid)
    assert site.processes.killed == []
    assert site.qemu.guests["web"].reason == "reconnected"


@order_params
@mode_params
def test_no_pool_not_active_failure_in_any_registration_order(
    tmp_path: Path, order: tuple[str, ...], autostart_in: Literal["initialize", "deferred"]
) -> None:
    site = make_site(tmp_path, autostart_in=autostart_in)
    site.host(order).initialize()
    assert site.qemu.errors() == []


@order_params
@mode_params
def test_guest_disk_and_port_resolve_in_any_registration_order(
    tmp_path: Path, order: tuple[str, ...], autostart_in: Literal["initialize", "deferred"]
) -> None:
    site = make_site(tmp_path, autostart_in=autostart_in)
    site.host(order).initialize()
    web = site.qemu.guests["web"]
    assert web.disk_path == "/srv/images/web.qcow2"
    assert web.port == "virbr0/52:54:00:00:00:01"


@order_params
@mode_params
def test_deferred_guest_autostart_gets_its_disk_in_any_registration_order(
    tmp_path: Path, order: tuple[str, ...], autostart_in: Literal["initialize", "deferred"]
) -> None:
    site = make_site(tmp_path, autostart_in=autostart_in)
    site.host(order).initialize()
    db = site.qemu.guests["db"]
    assert db.reason == "booted"
    assert db.pid is not None and site.processes.is_alive(db.pid)
    assert db.disk_path == "/srv/images/db.qcow2"


@order_params
def test_lookups_resolve_only_after_every_initialize_returned(
    tmp_path: Path, order: tuple[str, ...]
) -> None:
    site = make_site(tmp_path)
    site.host(order).initialize()
    resolved = site.journal.index("qemu", "disk web resolved")
    for name in order:
        assert site.journal.index(name, "initialized") < resolved


@order_params
def test_lookup_resolves_after_the_providers_deferred_autostart(
    tmp_path: Path, order: tuple[str, ...]
) -> None:
    site = make_site(tmp_path, autostart_in="deferred")
    site.host(order).initialize()
    journal = site.journal
    assert journal.index("storage", "autostart pool images") < journal.index(
        "qemu", "disk web resolved"
    )


def test_lookup_waits_while_the_providers_deferred_work_is_unfinished(tmp_path: Path) -> None:
    gate, reached = threading.Event(), threading.Event()
    site = make_site(tmp_path, autostart_in="deferred", gate=gate, gate_reached=reached)
    host = site.host(("qemu", "storage", "network"))
    init = Worker(host.initialize)
    init.start()
    assert reached.wait(SAFETY_TIMEOUT)
    # Storage's autostart is held at the gate: the disk lookup must still be pending.
    assert host.state is HostState.RESOLVING
    assert site.qemu.guests["web"].disk_path is None
    gate.set()
    init.finish()
    assert site.qemu.guests["web"].disk_path == "/srv/images/web.qcow2"


# -- a dependency that really fails degrades, never kills ------------------------------


def test_inactive_pool_degrades_the_guest_but_keeps_it_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path, pool_autostart=False)
    with caplog.at_level(logging.ERROR, logger="tests.statedrivers"):
        site.host().initialize()
    web = site.qemu.guests["web"]
    text = (
        "unsupported configuration: "
        "storage pool 'images' containing volume 'web.qcow2' is not active"
    )
    assert site.processes.is_alive(site.web_pid)
    assert web.reason == f"degraded: {text}"
    assert [e.detail for e in site.qemu.errors() if e.guest == "web"] == [f"disk: {text}"]
    assert any(text in record.getMessage() for record in caplog.records)


def test_libvirt_kill_policy_would_kill_the_guest_when_the_pool_is_really_inactive(
    tmp_path: Path,
) -> None:
    # The control for the permutation tests: their kill policy does fire on a real failure.
    site = make_site(tmp_path, pool_autostart=False, kill_on_failure=True)
    site.host().initialize()
    assert site.processes.killed == [site.web_pid]


def test_missing_storage_driver_degrades_the_guest_but_keeps_it_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path)
    host = make_host([site.network, site.qemu], tmp_path)
    with caplog.at_level(logging.ERROR, logger="tests.statedrivers"):
        host.initialize()
    web = site.qemu.guests["web"]
    text = "Failed to find a storage driver: no state driver provides 'storage'"
    assert site.processes.is_alive(site.web_pid)
    assert web.reason == f"degraded: {text}"
    assert web.port == "virbr0/52:54:00:00:00:01"
    assert [e.detail for e in site.qemu.errors() if e.guest == "web"] == [f"disk: {text}"]
    assert any(text in record.getMessage() for record in caplog.records)


def test_skipped_storage_driver_provides_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.storage.skip = True
    host = site.host()
    host.initialize()
    assert host.init_result("storage") is InitResult.SKIPPED
    assert site.processes.is_alive(site.web_pid)
    assert site.qemu.guests["web"].reason == (
        "degraded: Failed to find a storage driver: no state driver provides 'storage' "
        "(state driver 'storage' skipped initialization)"
    )


def test_missing_provider_error_carries_libvirts_driver_missing_code(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("a", Journal())], tmp_path)
    host.initialize()
    with pytest.raises(NoSupportError) as info:
        host.lookup("secret", lambda d: d.name).result()
    assert info.value.code == ErrorNumber.WAR_NO_SECRET
    assert info.value.domain == ErrorDomain.SECRET
    assert str(info.value) == (
        "Failed to find a secret storage driver: no state driver provides 'secret'"
    )


def test_missing_provider_of_a_custom_kind_is_no_support(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("a", Journal())], tmp_path)
    host.initialize()
    with pytest.raises(NoSupportError) as info:
        host.lookup("tpm", lambda d: d.name).result()
    assert info.value.code == ErrorNumber.NO_SUPPORT


def test_lookup_error_reaches_the_error_continuation(tmp_path: Path) -> None:
    def refuse(driver: StateDriver) -> str:
        raise ConfigUnsupportedError("pool is not active")

    host = make_host([RecordingDriver("pools", Journal(), provides=["storage"])], tmp_path)
    host.initialize()
    seen: list[VirtError] = []
    host.lookup("storage", refuse).then(lambda value: None, seen.append)
    assert [str(e) for e in seen] == ["unsupported configuration: pool is not active"]


def test_lookup_raising_a_non_virt_error_becomes_internal_error(tmp_path: Path) -> None:
    def broken(driver: StateDriver) -> str:
        raise KeyError("images")

    host = make_host([RecordingDriver("pools", Journal(), provides=["storage"])], tmp_path)
    host.initialize()
    with pytest.raises(InternalError, match="raised KeyError"):
        host.lookup("storage", broken).result()


# -- never a deadlock ------------------------------------------------------------------


@pytest.mark.parametrize("first", ["alpha", "beta"])
def test_dependency_cycle_in_deferred_work_fails_one_side_with_internal_error(
    tmp_path: Path, first: str
) -> None:
    alpha = MutualDriver("alpha", provides="a", needs="b")
    beta = MutualDriver("beta", provides="b", needs="a")
    drivers = [alpha, beta] if first == "alpha" else [beta, alpha]
    host = make_host(drivers, tmp_path)
    host.initialize()
    failed = [d for d in (alpha, beta) if d.outcome.error is not None]
    succeeded = [d for d in (alpha, beta) if d.outcome.error is None]
    assert len(failed) == 1
    error = failed[0].outcome.error
    assert isinstance(error, InternalError)
    assert re.fullmatch(
        r"internal error: dependency cycle between state drivers: "
        r"(alpha -> beta -> alpha|beta -> alpha -> beta)",
        str(error),
    )
    # The failing side finished, so the other side's lookup resolved normally.
    assert succeeded[0].outcome.value == failed[0].name
    assert host.state is HostState.READY


def test_three_driver_dependency_cycle_is_detected(tmp_path: Path) -> None:
    drivers = [
        MutualDriver("a", provides="ka", needs="kb"),
        MutualDriver("b", provides="kb", needs="kc"),
        MutualDriver("c", provides="kc", needs="ka"),
    ]
    make_host(drivers, tmp_path).initialize()
    errors = [str(d.outcome.error) for d in drivers if d.outcome.error is not None]
    assert len(errors) == 1
    assert re.fullmatch(
        r"internal error: dependency cycle between state drivers: "
        r"(a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)",
        errors[0],
    )


def test_deferred_work_waiting_on_its_own_driver_is_a_cycle(tmp_path: Path) -> None:
    solo = MutualDriver("solo", provides="k", needs="k")
    make_host([solo], tmp_path).initialize()
    assert str(solo.outcome.error) == (
        "internal error: dependency cycle between state drivers: solo -> solo"
    )


@pytest.mark.parametrize("provider_first", [True, False], ids=["provider-first", "eager-first"])
def test_forcing_a_lookup_during_initialize_raises_internal_error_naming_both_drivers(
    tmp_path: Path, provider_first: bool
) -> None:
    eager = EagerDriver("eager", needs="storage")
    pools = RecordingDriver("pools", Journal(), provides=["storage"])
    make_host([pools, eager] if provider_first else [eager, pools], tmp_path).initialize()
    error = eager.outcome.error
    assert isinstance(error, InternalError)
    assert "state driver 'eager'" in str(error)
    assert "state driver 'pools'" in str(error)
    assert "forced during initialization" in str(error)


def test_forcing_a_lookup_during_initialize_can_fail_the_host(tmp_path: Path) -> None:
    eager = EagerDriver("eager", needs="storage", propagate=True)
    pools = RecordingDriver("pools", Journal(), provides=["storage"])
    host = make_host([pools, eager], tmp_path)
    with pytest.raises(InternalError, match="forced during initialization"):
        host.initialize()
    assert host.state is HostState.FAILED


def test_lazy_result_times_out_with_operation_timeout_error(tmp_path: Path) -> None:
    gate, reached = threading.Event(), threading.Event()
    site = make_site(tmp_path, autostart_in="deferred", gate=gate, gate_reached=reached)
    host = site.host()
    init = Worker(host.initialize)
    init.start()
    assert reached.wait(SAFETY_TIMEOUT)
    lazy = host.lookup("storage", lambda d: d.name)
    try:
        # Storage is held at the gate, so this cannot resolve in any amount of time.
        with pytest.raises(OperationTimeoutError, match="Timed out during operation: waiting"):
            lazy.result(timeout=0.01)
    finally:
        gate.set()
    init.finish()
    assert lazy.result() == "storage"


def test_waiting_on_the_resolver_thread_raises_internal_error(tmp_path: Path) -> None:
    errors: list[VirtError] = []

    def chain(ctx: StateContext) -> None:
        def on_value(_: str) -> None:
            try:
                ctx.lookup("kb", lambda d: d.name).result(SAFETY_TIMEOUT)
            except VirtError as err:
                errors.append(err)

        ctx.lookup("kb", lambda d: d.name).then(on_value)

    journal = Journal()
    a = RecordingDriver("a", journal, on_initialize=chain)
    b = RecordingDriver("b", journal, provides=["kb"])
    make_host([a, b], tmp_path).initialize()
    assert len(errors) == 1
    assert isinstance(errors[0], InternalError)
    assert "resolver thread" in str(errors[0])


# -- client calls wait for initialization ----------------------------------------------


def test_clients_waiting_for_the_host_are_released_only_after_initialization(
    tmp_path: Path,
) -> None:
    gate, reached = threading.Event(), threading.Event()
    site = make_site(tmp_path, autostart_in="deferred", gate=gate, gate_reached=reached)
    host = site.host(("qemu", "network", "storage"))

    def client() -> None:
        host.wait_ready()
        site.journal.record("client", "released")

    clients = [Worker(client) for _ in range(3)]
    for worker in clients:
        worker.start()
    init = Worker(host.initialize)
    init.start()
    assert reached.wait(SAFETY_TIMEOUT)
    # Storage's autostart is held at the gate: nobody may be served yet.
    with pytest.raises(OperationTimeoutError):
        host.wait_ready(timeout=0.01)
    assert site.journal.events_of("client") == []
    gate.set()
    for worker in [init, *clients]:
        worker.finish()
    journal = site.journal
    first_release = journal.index("client", "released")
    assert journal.index("storage", "autostart pool images") < first_release
    assert journal.index("qemu", "disk web resolved") < first_release
    assert journal.index("qemu", "autostart db") < first_release
    assert journal.events_of("client") == ["released"] * 3


def test_clients_waiting_for_a_host_that_fails_get_the_failure(tmp_path: Path) -> None:
    journal = Journal()
    host = make_host([RecordingDriver("bad", journal, fail=["initialize"])], tmp_path)
    seen: list[BaseException] = []

    def client() -> None:
        try:
            host.wait_ready()
        except VirtError as err:
            seen.append(err)

    worker = Worker(client)
    worker.start()
    with pytest.raises(OperationFailedError):
        host.initialize()
    worker.finish()
    assert [str(e) for e in seen] == ["operation failed: bad initialize failed"]


def test_wait_ready_from_deferred_work_raises_instead_of_deadlocking(tmp_path: Path) -> None:
    seen: list[VirtError] = []
    holder: list[Host] = []

    def wait_for_host() -> None:
        try:
            holder[0].wait_ready()
        except VirtError as err:
            seen.append(err)

    host = make_host([RecordingDriver("a", Journal(), defer=wait_for_host)], tmp_path)
    holder.append(host)
    host.initialize()
    assert len(seen) == 1
    assert isinstance(seen[0], InternalError)


def test_deferring_work_after_initialization_is_invalid(tmp_path: Path) -> None:
    contexts: list[StateContext] = []
    host = make_host([RecordingDriver("a", Journal(), on_initialize=contexts.append)], tmp_path)
    host.initialize()
    with pytest.raises(OperationInvalidError, match="cannot defer 'late'"):
        contexts[0].defer(lambda: None, name="late")


def test_wait_ready_returns_at_once_when_ready(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("a", Journal())], tmp_path)
    host.initialize()
    host.wait_ready(timeout=0)
    assert host.state is HostState.READY


def test_lookup_after_ready_resolves_immediately(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("pools", Journal(), provides=["storage"])], tmp_path)
    host.initialize()
    lazy = host.lookup("storage", lambda d: d.name.upper())
    assert lazy.done()
    assert lazy.result(timeout=0) == "POOLS"


# -- initialization failure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "error_type", "message"),
    [
        ("raise", OperationFailedError, "operation failed: b initialize failed"),
        ("return", InternalError, "internal error: Initialization of b state driver failed"),
    ],
)
def test_initialize_failure_stops_the_walk_and_cleans_up_earlier_drivers_in_reverse(
    tmp_path: Path, how: str, error_type: type[VirtError], message: str
) -> None:
    journal = Journal()
    failing = (
        RecordingDriver("b", journal, fail=["initialize"])
        if how == "raise"
        else RecordingDriver("b", journal, init_result=InitResult.ERROR)
    )
    drivers = [RecordingDriver("z", journal), RecordingDriver("a", journal), failing]
    drivers.append(RecordingDriver("c", journal))
    host = make_host(drivers, tmp_path)
    with pytest.raises(error_type) as info:
        host.initialize()
    assert str(info.value) == message
    assert host.state is HostState.FAILED
    assert journal.actors_of("initialize") == ["z", "a", "b"]
    assert host.init_result("c") is None
    assert journal.actors_of("cleanup") == ["a", "z"]


def test_failed_host_reports_its_failure_to_later_waiters(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("bad", Journal(), fail=["initialize"])], tmp_path)
    with pytest.raises(OperationFailedError):
        host.initialize()
    with pytest.raises(OperationFailedError, match="bad initialize failed"):
        host.wait_ready()
    assert host.failure is not None


def test_pending_lookups_of_a_failed_host_are_abandoned_without_killing_guests(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path)
    broken = RecordingDriver("broken", site.journal, fail=["initialize"])
    host = make_host([site.storage, site.network, site.qemu, broken], tmp_path)
    with pytest.raises(OperationFailedError):
        host.initialize()
    web = site.qemu.guests["web"]
    assert site.processes.is_alive(site.web_pid)
    assert web.reason.startswith("degraded: operation aborted: ")
    assert "initialization of state driver 'broken' failed" in web.reason
    assert site.journal.actors_of("cleanup") == ["qemu", "network", "storage"]


def test_deferred_work_failure_is_recorded_and_does_not_fail_the_host(tmp_path: Path) -> None:
    def fail() -> None:
        raise OperationFailedError("autostart of pool 'images' failed")

    host = make_host([RecordingDriver("storage", Journal(), defer=fail)], tmp_path)
    host.initialize()
    assert host.state is HostState.READY
    [failure] = host.deferred_errors
    assert (failure.driver, failure.operation) == ("storage", "work")
    assert str(failure.error) == "operation failed: autostart of pool 'images' failed"


def test_initialize_cannot_run_twice(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("a", Journal())], tmp_path)
    host.initialize()
    with pytest.raises(OperationInvalidError):
        host.initialize()


def test_two_drivers_providing_the_same_kind_are_rejected(tmp_path: Path) -> None:
    journal = Journal()
    with pytest.raises(InvalidArgError, match="'p1' and 'p2' both provide 'storage'"):
        make_host(
            [
                RecordingDriver("p1", journal, provides=["storage"]),
                RecordingDriver("p2", journal, provides=["storage"]),
            ],
            tmp_path,
        )


def test_duplicate_driver_names_are_rejected(tmp_path: Path) -> None:
    journal = Journal()
    with pytest.raises(InvalidArgError, match="registered twice"):
        make_host([RecordingDriver("a", journal), RecordingDriver("a", journal)], tmp_path)


def test_relative_root_is_rejected_like_libvirt() -> None:
    with pytest.raises(ConfigUnsupportedError, match="root path must be absolute"):
        Host([], privileged=False, root="relative/dir")


# -- autostart once per boot -----------------------------------------------------------


def test_first_start_of_the_boot_autostarts(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    site.host().initialize()
    assert "autostart pool images" in site.journal.events_of("storage")
    assert site.qemu.guests["db"].reason == "booted"


def test_autostart_marker_is_created_with_mode_0600(tmp_path: Path) -> None:
    make_site(tmp_path).host().initialize()
    path = marker(tmp_path, "storage")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_restart_in_the_same_boot_does_not_autostart_again(tmp_path: Path) -> None:
    first = make_site(tmp_path)
    host = first.host()
    host.initialize()
    first.storage.stop_pool("images")  # the administrator stopped it on purpose
    host.shutdown()

    second = make_site(tmp_path)
    second.host().initialize()
    assert "autostart pool images" not in second.journal.events_of("storage")
    assert second.storage.active == set()
    assert second.qemu.guests["db"].pid is None


def test_restart_in_the_same_boot_keeps_live_state(tmp_path: Path) -> None:
    first = make_site(tmp_path)
    host = first.host()
    host.initialize()
    host.shutdown()

    second = make_site(tmp_path)
    second.host().initialize()
    assert second.storage.active == {"images"}
    assert second.qemu.guests["web"].disk_path == "/srv/images/web.qcow2"


def test_reboot_autostarts_again(tmp_path: Path) -> None:
    first = make_site(tmp_path)
    host = first.host()
    host.initialize()
    first.storage.stop_pool("images")
    host.shutdown()
    marker(tmp_path, "storage").unlink()  # the runtime dir is a tmpfs: reboot empties it

    second = make_site(tmp_path)
    second.host().initialize()
    assert "autostart pool images" in second.journal.events_of("storage")


def test_should_autostart_is_true_only_once(tmp_path: Path) -> None:
    answers: list[bool] = []

    def ask(ctx: StateContext) -> None:
        answers.extend([ctx.should_autostart(), ctx.should_autostart()])

    make_host([RecordingDriver("a", Journal(), on_initialize=ask)], tmp_path).initialize()
    assert answers == [True, False]


# -- reload, stop, shutdown ------------------------------------------------------------


def recording_host(
    root: Path, journal: Journal, **overrides: RecordingDriver
) -> tuple[Host, list[RecordingDriver]]:
    drivers = [overrides.get(name, RecordingDriver(name, journal)) for name in ("a", "b", "c")]
    host = make_host(drivers, root)
    host.initialize()
    return host, drivers


def test_reload_runs_in_registration_order(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(tmp_path, journal)
    host.reload()
    assert journal.actors_of("reload") == ["a", "b", "c"]


def test_reload_continues_past_a_failure_and_reports_it(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(tmp_path, journal, b=RecordingDriver("b", journal, fail=["reload"]))
    with pytest.raises(StateDriverError) as info:
        host.reload()
    assert journal.actors_of("reload") == ["a", "b", "c"]
    assert [(f.driver, f.operation) for f in info.value.failures] == [("b", "reload")]
    assert str(info.value) == (
        "operation failed: reload of state drivers failed: b reload: operation failed: "
        "b reload failed"
    )


def test_reload_before_initialization_is_invalid(tmp_path: Path) -> None:
    host = make_host([RecordingDriver("a", Journal())], tmp_path)
    with pytest.raises(OperationInvalidError):
        host.reload()


def test_stop_runs_in_order_and_reports_that_a_driver_did_something(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(tmp_path, journal, b=RecordingDriver("b", journal, stop_result=True))
    assert host.stop() is True
    assert journal.actors_of("stop") == ["a", "b", "c"]


def test_stop_reports_false_when_no_driver_did_anything(tmp_path: Path) -> None:
    host, _ = recording_host(tmp_path, Journal())
    assert host.stop() is False


def test_shutdown_prepares_and_waits_forward_then_cleans_up_in_reverse(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(tmp_path, journal)
    host.shutdown()
    shutdown_ops = {"shutdown_prepare", "shutdown_wait", "cleanup"}
    assert [e for e in journal.entries() if e[1] in shutdown_ops] == [
        ("a", "shutdown_prepare"),
        ("b", "shutdown_prepare"),
        ("c", "shutdown_prepare"),
        ("a", "shutdown_wait"),
        ("b", "shutdown_wait"),
        ("c", "shutdown_wait"),
        ("c", "cleanup"),
        ("b", "cleanup"),
        ("a", "cleanup"),
    ]
    assert host.state is HostState.STOPPED


def test_cleanup_runs_in_reverse_registration_order(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    host = site.host(("network", "qemu", "storage"))
    host.initialize()
    host.shutdown()
    assert site.journal.actors_of("cleanup") == ["storage", "qemu", "network"]


def test_shutdown_prepare_stops_at_the_first_failure(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(
        tmp_path, journal, b=RecordingDriver("b", journal, fail=["shutdown_prepare"])
    )
    with pytest.raises(StateDriverError):
        host.shutdown()
    assert journal.actors_of("shutdown_prepare") == ["a", "b"]
    assert journal.actors_of("shutdown_wait") == ["a"]
    assert journal.actors_of("cleanup") == ["c", "b", "a"]


def test_cleanup_continues_past_a_failure(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(tmp_path, journal, b=RecordingDriver("b", journal, fail=["cleanup"]))
    with pytest.raises(StateDriverError) as info:
        host.shutdown()
    assert journal.actors_of("cleanup") == ["c", "b", "a"]
    assert [(f.driver, f.operation) for f in info.value.failures] == [("b", "cleanup")]
    assert host.state is HostState.STOPPED


def test_skipped_driver_is_not_cleaned_up(tmp_path: Path) -> None:
    journal = Journal()
    host, _ = recording_host(
        tmp_path, journal, b=RecordingDriver("b", journal, init_result=InitResult.SKIPPED)
    )
    host.shutdown()
    assert journal.actors_of("cleanup") == ["c", "a"]


def test_lookups_after_shutdown_fail(tmp_path: Path) -> None:
    host, _ = recording_host(tmp_path, Journal())
    host.shutdown()
    with pytest.raises(OperationInvalidError, match="shut down"):
        host.lookup("storage", lambda d: d.name).result()


def test_abandoned_lookup_reports_operation_aborted(tmp_path: Path) -> None:
    seen: list[VirtError] = []

    def look(ctx: StateContext) -> None:
        ctx.lookup("storage", lambda d: d.name).then(lambda _: None, seen.append)

    journal = Journal()
    host = make_host(
        [
            RecordingDriver("a", journal, on_initialize=look),
            RecordingDriver("b", journal, fail=["initialize"]),
        ],
        tmp_path,
    )
    with pytest.raises(OperationFailedError):
        host.initialize()
    assert len(seen) == 1
    assert isinstance(seen[0], OperationAbortedError)
