"""Event and close callbacks: libvirt-python's signatures, delivered with or without a loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.compat.test_eventloop import RecordingLoop
from virtcore import libvirt
from virtcore.enums.connect import ConnectCloseReason
from virtcore.events import EventDispatcher

SAFETY = 10.0
DOMAIN_XML = (
    "<domain type='test'><name>{name}</name><memory>8192</memory><os><type>hvm</type></os></domain>"
)


class Recorder:
    """Collects callback invocations and the threads they ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.threads: list[threading.Thread] = []
        self.arrived = threading.Event()

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)
        self.threads.append(threading.current_thread())
        self.arrived.set()


def _flush() -> None:
    assert EventDispatcher.default().flush(SAFETY)


def test_lifecycle_callback_gets_conn_dom_event_detail_opaque(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, "opaque")
    conn.lookupByName("test").destroy()
    assert rec.arrived.wait(SAFETY)
    got_conn, dom, event, detail, opaque = rec.calls[0]
    assert (got_conn, dom.name(), event, detail, opaque) == (
        conn,
        "test",
        libvirt.VIR_DOMAIN_EVENT_STOPPED,
        libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
        "opaque",
    )


def test_callback_object_is_a_virdomain(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, None)
    conn.lookupByName("test").suspend()
    assert rec.arrived.wait(SAFETY)
    assert isinstance(rec.calls[0][1], libvirt.virDomain)


def test_without_a_loop_callbacks_run_on_virtcores_event_thread(
    conn: libvirt.virConnect,
) -> None:
    rec = Recorder()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, None)
    conn.lookupByName("test").destroy()
    assert rec.arrived.wait(SAFETY)
    assert rec.threads[0].name == "virtcore-events"


def test_register_returns_distinct_callback_ids(conn: libvirt.virConnect) -> None:
    first = conn.domainEventRegisterAny(None, 0, Recorder(), None)
    second = conn.domainEventRegisterAny(None, 1, Recorder(), None)
    assert (first, second) == (0, 1)


def test_deregistered_callback_gets_no_more_events(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, None)
    conn.domainEventDeregisterAny(cid)
    conn.lookupByName("test").destroy()
    _flush()
    assert rec.calls == []


def test_callback_for_one_domain_ignores_others(conn: libvirt.virConnect) -> None:
    other = conn.defineXML(DOMAIN_XML.format(name="other"))
    rec = Recorder()
    conn.domainEventRegisterAny(other, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, None)
    conn.lookupByName("test").destroy()
    other.create()
    assert rec.arrived.wait(SAFETY)
    _flush()
    assert [(c[1].name(), c[2]) for c in rec.calls] == [("other", libvirt.VIR_DOMAIN_EVENT_STARTED)]


def test_out_of_range_event_id_is_rejected_like_libvirt(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.domainEventRegisterAny(None, 99, Recorder(), None)
    assert (info.value.get_error_code(), str(info.value)) == (
        libvirt.VIR_ERR_INVALID_ARG,
        "eventID must be less than 27",
    )


def test_deregistering_an_unknown_id_fails_like_libvirt(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.domainEventDeregisterAny(5)
    assert info.value.err is not None
    assert info.value.err[:3] == (
        8,
        0,
        "invalid argument: could not find event callback 5 for deletion",
    )


def test_legacy_register_delivers_lifecycle_events(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.domainEventRegister(rec, "legacy")
    conn.lookupByName("test").destroy()
    assert rec.arrived.wait(SAFETY)
    _, dom, event, detail, opaque = rec.calls[0]
    assert (dom.name(), event, detail, opaque) == ("test", 5, 1, "legacy")


def test_legacy_deregister_stops_delivery(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.domainEventRegister(rec, None)
    conn.domainEventDeregister(rec)
    conn.lookupByName("test").destroy()
    _flush()
    assert rec.calls == []


def test_legacy_deregister_of_an_unknown_callback_raises_keyerror(
    conn: libvirt.virConnect,
) -> None:
    conn.domainEventRegister(Recorder(), None)
    with pytest.raises(KeyError):
        conn.domainEventDeregister(Recorder())


def test_legacy_deregister_without_any_registration_is_ignored(conn: libvirt.virConnect) -> None:
    conn.domainEventDeregister(Recorder())


def test_network_callbacks_register_and_deregister(conn: libvirt.virConnect) -> None:
    cid = conn.networkEventRegisterAny(
        None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, Recorder(), None
    )
    conn.networkEventDeregisterAny(cid)


def test_storage_pool_callback_can_filter_by_pool(conn: libvirt.virConnect) -> None:
    pool = conn.storagePoolLookupByName("default-pool")
    cid = conn.storagePoolEventRegisterAny(
        pool, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, Recorder(), None
    )
    conn.storagePoolEventDeregisterAny(cid)


def test_with_the_default_loop_callbacks_run_inside_run_default_impl(quiet: object) -> None:
    libvirt.virEventRegisterDefaultImpl()
    c = libvirt.open("test:///default")
    try:
        rec = Recorder()
        c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, rec, None)
        c.lookupByName("test").destroy()
        _flush()
        assert rec.calls == []  # queued until the application turns its loop
        libvirt.virEventAddTimeout(int(SAFETY * 1000), lambda t, o: None, None)
        while not rec.calls:
            libvirt.virEventRunDefaultImpl()
        assert rec.threads == [threading.current_thread()]
    finally:
        c.close()


def test_external_loop_gets_a_disabled_timeout_per_connection(quiet: object) -> None:
    loop = RecordingLoop()
    loop.register()
    c = libvirt.open("test:///default")
    try:
        c.domainEventRegisterAny(None, 0, Recorder(), None)
        assert [entry[0] for entry in loop.timeouts.values()] == [-1]
    finally:
        c.close()


def test_external_loop_timeout_is_armed_before_the_call_returns(quiet: object) -> None:
    loop = RecordingLoop()
    loop.register()
    c = libvirt.open("test:///default")
    try:
        rec = Recorder()
        c.domainEventRegisterAny(None, 0, rec, None)
        c.lookupByName("test").destroy()
        assert [entry[0] for entry in loop.timeouts.values()] == [0]
        loop.fire_due()
        assert [call[2:4] for call in rec.calls] == [(5, 1)]
        assert rec.threads == [threading.current_thread()]
    finally:
        c.close()


def test_external_loop_timeout_is_removed_with_the_last_callback(quiet: object) -> None:
    loop = RecordingLoop()
    loop.register()
    c = libvirt.open("test:///default")
    try:
        first = c.domainEventRegisterAny(None, 0, Recorder(), None)
        second = c.domainEventRegisterAny(None, 1, Recorder(), None)
        c.domainEventDeregisterAny(first)
        assert len(loop.timeouts) == 1
        c.domainEventDeregisterAny(second)
        assert loop.timeouts == {}
    finally:
        c.close()


def test_close_callback_registration_returns_zero(conn: libvirt.virConnect) -> None:
    assert conn.registerCloseCallback(Recorder(), None) == 0


def test_unregistering_without_a_close_callback_is_allowed(conn: libvirt.virConnect) -> None:
    conn.unregisterCloseCallback()


def test_close_callback_gets_conn_reason_opaque(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.registerCloseCallback(rec, "why")
    conn.native.report_closed(ConnectCloseReason.EOF)
    assert rec.arrived.wait(SAFETY)
    assert rec.calls == [(conn, libvirt.VIR_CONNECT_CLOSE_REASON_EOF, "why")]


def test_unregistered_close_callback_is_not_called(conn: libvirt.virConnect) -> None:
    rec = Recorder()
    conn.registerCloseCallback(rec, None)
    conn.unregisterCloseCallback()
    conn.native.report_closed(ConnectCloseReason.EOF)
    _flush()
    assert rec.calls == []
