"""Connections dispatch to driver tables under libvirt's rules."""

from __future__ import annotations

import threading

import pytest

import virtcore
from tests.fakedrivers import FakeConnectDriver, FakeHypervisor, plugin_of
from virtcore.enums.connect import ConnectCloseReason
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConnectionClosedError,
    InternalError,
    InvalidArgError,
    NoDomainError,
    NoSupportError,
    OperationDeniedError,
)
from virtcore.events import Event, EventDispatcher, EventKind
from virtcore.objects import Domain, Handle
from virtcore.objects.domain_config import bools_to_cpumap, cpumap_to_bools
from virtcore.registry import Registry


@pytest.fixture
def fake(registry: Registry) -> FakeConnectDriver:
    drv = FakeConnectDriver(with_network=True)
    registry.register(plugin_of(drv), "fake")
    return drv


def test_lookups_return_handles_bound_to_the_connection(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        dom = conn.domain_lookup_by_name("one")
        assert isinstance(dom, Domain)
        assert dom.connection is conn
        assert dom.name == "one" and dom.id == -1


def test_handles_are_equal_when_they_name_the_same_object(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        assert conn.domain_lookup_by_name("one") == conn.domain_lookup_by_name("one")
        assert conn.domain_lookup_by_name("one") != conn.domain_lookup_by_name("two")
        assert len({conn.domain_lookup_by_name("one"), conn.domain_lookup_by_name("one")}) == 1


def test_driver_errors_reach_the_caller_unchanged(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        with pytest.raises(NoDomainError) as info:
            conn.domain_lookup_by_name("nosuch")
        assert info.value.code == ErrorNumber.NO_DOMAIN


def test_missing_driver_method_is_no_support_naming_the_api(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        with pytest.raises(NoSupportError) as info:
            conn.set_keepalive(5, 3)
    assert info.value.message == (
        "this function is not supported by the connection driver: virConnectSetKeepAlive"
    )
    assert info.value.domain == ErrorDomain.DOMAIN


def test_missing_secondary_table_is_no_support_in_that_subsystem(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        with pytest.raises(NoSupportError) as info:
            conn.secret_lookup_by_uuid("00000000-0000-0000-0000-000000000000")
    assert info.value.domain == ErrorDomain.SECRET
    assert info.value.message.endswith(": virSecretLookupByUUID")


def test_secondary_tables_dispatch_when_present(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        assert conn.network_lookup_by_name("default").name == "default"


def test_read_only_connections_refuse_mutating_calls(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open_read_only("fake:///x", registry=registry) as conn:
        dom = conn.domain_lookup_by_name("one")
        with pytest.raises(OperationDeniedError) as info:
            dom.create()
        assert info.value.code == ErrorNumber.OPERATION_DENIED
        assert info.value.message == (
            "operation forbidden: read only access prevents virDomainCreate"
        )
        with pytest.raises(OperationDeniedError) as info:
            dom.create(1)
        assert info.value.message.endswith("prevents virDomainCreateWithFlags")
        assert not dom.is_active()
        assert "<name>one</name>" in dom.xml_desc()


def test_read_only_check_comes_before_the_driver_is_asked(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open_read_only("fake:///x", registry=registry) as conn:
        with pytest.raises(OperationDeniedError):
            conn.domain_define_xml("<domain/>")  # the fake has no define: denial wins


def test_calls_after_close_raise_invalid_connection(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    conn = virtcore.open("fake:///x", registry=registry)
    dom = conn.domain_lookup_by_name("one")
    conn.close()
    with pytest.raises(ConnectionClosedError) as info:
        conn.get_type()
    assert info.value.code == ErrorNumber.INVALID_CONN
    assert info.value.message == "invalid connection pointer in virConnectGetType"
    with pytest.raises(ConnectionClosedError):
        dom.is_active()
    assert not conn.is_alive()


def test_close_is_idempotent_and_tells_each_table_once(registry: Registry) -> None:
    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")
    conn = virtcore.open("fake:///x", registry=registry)
    assert conn.close() == 0
    assert conn.close() == 0
    assert hv.closed_for == [conn]


def test_context_manager_closes_the_connection(registry: Registry, fake: FakeConnectDriver) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        assert conn.is_alive()
    assert conn.closed


def test_unexpected_driver_exceptions_become_internal_errors(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        with pytest.raises(InternalError) as info:
            conn.domain_lookup_by_name("one").suspend()
    assert "virDomainSuspend" in info.value.message
    assert isinstance(info.value.__cause__, ValueError)


def test_close_callbacks_fire_when_the_driver_reports_the_connection_lost(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    conn = virtcore.open("fake:///x", registry=registry)
    fired = threading.Event()
    seen: list[tuple[object, int]] = []

    def on_close(c: virtcore.Connection, reason: ConnectCloseReason) -> None:
        seen.append((c, reason))
        fired.set()

    conn.register_close_callback(on_close)
    conn.report_closed(ConnectCloseReason.KEEPALIVE)
    assert fired.wait(10)
    assert seen == [(conn, ConnectCloseReason.KEEPALIVE)]
    assert not conn.is_alive()


def test_unregistering_an_unknown_close_callback_is_invalid(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn, pytest.raises(InvalidArgError):
        conn.unregister_close_callback(42)


def test_domain_events_reach_callbacks_without_an_event_loop(registry: Registry) -> None:
    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")
    got: list[tuple[str, int, tuple[object, ...]]] = []
    with virtcore.open("fake:///x", registry=registry) as conn:

        def on_event(c: virtcore.Connection, obj: Handle, ev: Event) -> None:
            assert c is conn and isinstance(obj, Domain)
            got.append((obj.name, obj.id, ev.args))

        conn.domain_event_register_any(0, on_event)
        dom = conn.domain_lookup_by_name("one")
        dom.create()
        conn.domain_lookup_by_name("one").destroy()
        assert EventDispatcher.default().flush(10)
    assert got == [("one", 1, (2, 0)), ("one", 1, (5, 1))]


def test_event_registration_is_per_object_when_asked(registry: Registry) -> None:
    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")
    got: list[str] = []
    with virtcore.open("fake:///x", registry=registry) as conn:
        two = conn.domain_lookup_by_name("two")
        conn.domain_event_register_any(0, lambda c, o, e: got.append(o.name), two)  # type: ignore[attr-defined]
        conn.domain_lookup_by_name("one").create()
        conn.domain_lookup_by_name("two").create()
        assert EventDispatcher.default().flush(10)
    assert got == ["two"]


def test_event_ids_beyond_libvirts_range_are_invalid(
    registry: Registry, fake: FakeConnectDriver
) -> None:
    with virtcore.open("fake:///x", registry=registry) as conn:
        with pytest.raises(InvalidArgError) as info:
            conn.domain_event_register_any(27, lambda c, o, e: None)
    assert info.value.message == ("eventID must be less than 27")


def test_events_stop_after_close(registry: Registry) -> None:
    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")
    got: list[str] = []
    conn = virtcore.open("fake:///x", registry=registry)
    conn.event_register(EventKind.DOMAIN, 0, lambda c, o, e: got.append("x"))
    conn.close()
    with virtcore.open("fake:///x", registry=registry) as other:
        other.domain_lookup_by_name("one").create()
    assert EventDispatcher.default().flush(10)
    assert got == []


def test_events_can_be_iterated_with_async_for(registry: Registry) -> None:
    import asyncio

    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv)), "fake")

    async def consume(conn: virtcore.Connection) -> list[tuple[str, tuple[object, ...]]]:
        got: list[tuple[str, tuple[object, ...]]] = []
        async with conn.events(EventKind.DOMAIN, [0]) as stream:
            starter = threading.Thread(target=conn.domain_lookup_by_name("one").create)
            starter.start()
            async for item in stream:
                assert isinstance(item.handle, Domain)
                got.append((item.handle.name, item.event.args))
                break
            starter.join()
        return got

    with virtcore.open("fake:///x", registry=registry) as conn:
        assert asyncio.run(asyncio.wait_for(consume(conn), 30)) == [("one", (2, 0))]


def test_cpumap_bits_read_lowest_first() -> None:
    assert cpumap_to_bools(b"\x05\x80", 16) == (
        *(True, False, True, False, False, False, False, False),
        *(False, False, False, False, False, False, False, True),
    )


def test_cpumap_shorter_than_the_host_reads_the_rest_as_unset() -> None:
    assert cpumap_to_bools(b"\x01", 10) == (True, *[False] * 9)


def test_cpumap_longer_than_the_host_is_cut() -> None:
    assert cpumap_to_bools(b"\xff\xff", 3) == (True, True, True)


def test_cpumap_round_trips_through_bools() -> None:
    cpus = (False, True, True, False, False, False, False, False, True)
    assert cpumap_to_bools(bools_to_cpumap(cpus, 2), len(cpus)) == cpus
