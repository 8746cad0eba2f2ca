"""Specification of virtcore.events: delivery thread, sources, connections, streams."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConnectionClosedError,
    InvalidArgError,
    OperationInvalidError,
    OperationTimeoutError,
)
from virtcore.events import (
    ConnectionEvent,
    ConnectionEvents,
    Event,
    EventDispatcher,
    EventKind,
    EventSource,
    ObjectIdentity,
)

# Safety net for waits that normally end at once; never a measured duration.
SAFETY = 10.0

LIFECYCLE = 0
REBOOT = 1

VM1 = ObjectIdentity(EventKind.DOMAIN, "vm1", "6695eb01-f6a4-8304-79aa-97f2502e193f", 1)
VM2 = ObjectIdentity(EventKind.DOMAIN, "vm2", "dd8fe884-6c02-601e-7551-cca97df1c5df", 2)
NET = ObjectIdentity(EventKind.NETWORK, "default", "8fd4a3e4-4e4e-4a86-8fbd-2ce0d0c2b4a9")
DEV = ObjectIdentity(EventKind.NODE_DEVICE, "scsi_host1")


def lifecycle(obj: ObjectIdentity = VM1, event_type: int = 2, detail: int = 0) -> Event:
    return Event(EventKind.DOMAIN, LIFECYCLE, obj, (event_type, detail))


class Handle:
    """What make_handle builds in these tests: a stand-in for a Domain object."""

    def __init__(self, ident: ObjectIdentity) -> None:
        self.ident = ident


class Recorder:
    """A callback that records (owner, handle, event, thread) per invocation."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, object, Event]] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, owner: object, handle: object, event: Event) -> None:
        self.calls.append((owner, handle, event))
        self.threads.append(threading.current_thread())

    @property
    def events(self) -> list[Event]:
        return [event for _, _, event in self.calls]


class CountingDispatcher(EventDispatcher):
    """A dispatcher that counts how often work was handed to it."""

    def __init__(self) -> None:
        super().__init__(name="test-events")
        self.submitted = 0

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        self.submitted += 1
        super().submit(fn, *args)


@pytest.fixture
def dispatcher() -> Iterator[CountingDispatcher]:
    d = CountingDispatcher()
    yield d
    d.shutdown(SAFETY)


@pytest.fixture
def source(dispatcher: EventDispatcher) -> EventSource:
    return EventSource(dispatcher)


@pytest.fixture
def conn(source: EventSource) -> Iterator[ConnectionEvents]:
    events = ConnectionEvents("conn", Handle)
    events.attach(source)
    yield events
    events.close()


@dataclass
class World:
    """One driver source on a private dispatcher, with one attached connection."""

    dispatcher: CountingDispatcher
    source: EventSource
    conn: ConnectionEvents

    def settle(self) -> None:
        settle(self.dispatcher)


@pytest.fixture
def w(dispatcher: CountingDispatcher, source: EventSource, conn: ConnectionEvents) -> World:
    return World(dispatcher, source, conn)


def hold(dispatcher: EventDispatcher) -> threading.Event:
    """Park the delivery thread until the returned event is set."""
    release = threading.Event()
    parked = threading.Event()

    def park() -> None:
        parked.set()
        release.wait(SAFETY)

    dispatcher.submit(park)
    assert parked.wait(SAFETY)
    return release


def settle(dispatcher: EventDispatcher) -> None:
    assert dispatcher.flush(SAFETY)


# --- ObjectIdentity and Event ---------------------------------------------


def test_object_identity_stores_uuid_in_canonical_form() -> None:
    ident = ObjectIdentity(EventKind.DOMAIN, "vm", "6695EB01F6A4830479AA97F2502E193F")
    assert ident.uuid == "6695eb01-f6a4-8304-79aa-97f2502e193f"


def test_object_identity_treats_an_empty_uuid_as_none() -> None:
    assert ObjectIdentity(EventKind.SECRET, "usage", "").uuid is None


def test_object_identity_rejects_a_malformed_uuid() -> None:
    with pytest.raises(InvalidArgError):
        ObjectIdentity(EventKind.DOMAIN, "vm", "not-a-uuid")


def test_object_identity_matches_by_uuid_ignoring_name_and_id() -> None:
    renamed_and_restarted = ObjectIdentity(EventKind.DOMAIN, "other", VM1.uuid, 7)
    assert VM1.same_object(renamed_and_restarted)
    assert not VM1.same_object(VM2)


def test_object_identity_without_uuid_matches_by_name() -> None:
    assert DEV.same_object(ObjectIdentity(EventKind.NODE_DEVICE, "scsi_host1"))
    assert not DEV.same_object(ObjectIdentity(EventKind.NODE_DEVICE, "scsi_host2"))


def test_object_identity_of_another_kind_never_matches() -> None:
    assert not DEV.same_object(ObjectIdentity(EventKind.SECRET, "scsi_host1"))


def test_events_are_immutable_values() -> None:
    assert lifecycle() == lifecycle()
    with pytest.raises(AttributeError):
        lifecycle().event_id = 1  # type: ignore[misc]


# --- EventDispatcher --------------------------------------------------------


def test_default_dispatcher_is_one_per_process() -> None:
    assert EventDispatcher.default() is EventDispatcher.default()


def test_default_dispatcher_runs_work_on_a_daemon_thread_named_virtcore_events() -> None:
    seen: list[threading.Thread] = []
    default = EventDispatcher.default()
    default.submit(lambda: seen.append(threading.current_thread()))
    settle(default)
    assert seen[0].name == "virtcore-events"
    assert seen[0].daemon
    assert seen[0] is not threading.current_thread()


def test_dispatcher_runs_work_in_submission_order(w: World) -> None:
    order: list[int] = []
    for i in range(100):
        w.dispatcher.submit(order.append, i)
    w.settle()
    assert order == list(range(100))


def test_flush_reports_false_while_earlier_work_is_still_running(w: World) -> None:
    release = hold(w.dispatcher)
    assert w.dispatcher.flush(0.05) is False
    release.set()
    assert w.dispatcher.flush(SAFETY) is True


def test_flush_returns_after_work_submitted_before_it_has_run(w: World) -> None:
    done: list[str] = []
    release = hold(w.dispatcher)
    w.dispatcher.submit(done.append, "work")
    threading.Timer(0.01, release.set).start()
    assert w.dispatcher.flush(SAFETY)
    assert done == ["work"]


def test_flush_on_an_idle_dispatcher_starts_no_thread() -> None:
    idle = EventDispatcher(name="idle-events")
    assert idle.flush(SAFETY)
    assert not any(t.name == "idle-events" for t in threading.enumerate())


def test_flush_from_the_dispatcher_thread_returns_true_without_deadlock(w: World) -> None:
    results: list[bool] = []
    w.dispatcher.submit(lambda: results.append(w.dispatcher.flush(SAFETY)))
    w.dispatcher.submit(lambda: None)
    w.settle()
    assert results == [True]


def test_failing_work_is_logged_and_later_work_still_runs(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[int] = []

    def boom() -> None:
        raise RuntimeError("boom")

    w.dispatcher.submit(boom)
    w.dispatcher.submit(done.append, 1)
    with caplog.at_level(logging.ERROR, logger="virtcore.events"):
        w.settle()
    assert done == [1]
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_shutdown_runs_queued_work_and_stops_the_thread(w: World) -> None:
    done: list[int] = []
    threads: list[threading.Thread] = []
    release = hold(w.dispatcher)
    w.dispatcher.submit(lambda: threads.append(threading.current_thread()))
    w.dispatcher.submit(done.append, 1)
    release.set()
    w.dispatcher.shutdown(SAFETY)
    assert done == [1]
    assert not threads[0].is_alive()


def test_dispatcher_starts_a_fresh_thread_when_used_after_shutdown(w: World) -> None:
    w.dispatcher.submit(lambda: None)
    w.dispatcher.shutdown(SAFETY)
    done: list[int] = []
    w.dispatcher.submit(done.append, 2)
    w.settle()
    assert done == [2]


# --- EventSource -------------------------------------------------------------


def test_emit_without_subscribers_does_not_involve_the_dispatcher(
    source: EventSource, dispatcher: CountingDispatcher
) -> None:
    source.emit(lifecycle())
    assert dispatcher.submitted == 0
    assert not source.has_subscribers


def test_emit_that_no_registration_matches_does_not_involve_the_dispatcher(w: World) -> None:
    w.conn.register(EventKind.NETWORK, LIFECYCLE, Recorder())
    w.source.emit(lifecycle())
    assert w.dispatcher.submitted == 0


def test_listener_runs_on_the_dispatcher_thread_not_the_emitters(w: World) -> None:
    threads: list[threading.Thread] = []
    w.source.subscribe(lambda ev: threads.append(threading.current_thread()))
    w.source.emit(lifecycle())
    w.settle()
    assert threads[0] is not threading.current_thread()
    assert threads[0].name == "test-events"


def test_emit_returns_while_a_listener_is_still_blocked(w: World) -> None:
    release = threading.Event()
    received: list[Event] = []

    def slow(ev: Event) -> None:
        release.wait(SAFETY)
        received.append(ev)

    w.source.subscribe(slow)
    w.source.emit(lifecycle(detail=0))
    w.source.emit(lifecycle(detail=1))
    assert received == []  # both emits returned while slow() was still waiting
    release.set()
    w.settle()
    assert [ev.args for ev in received] == [(2, 0), (2, 1)]


def test_unsubscribed_listener_gets_no_event_that_was_already_queued(w: World) -> None:
    received: list[Event] = []
    token = w.source.subscribe(received.append)
    release = hold(w.dispatcher)
    w.source.emit(lifecycle())
    w.source.unsubscribe(token)
    release.set()
    w.settle()
    assert received == []


def test_listener_subscribed_after_emit_does_not_get_that_event(w: World) -> None:
    early: list[Event] = []
    late: list[Event] = []
    w.source.subscribe(early.append)
    release = hold(w.dispatcher)
    w.source.emit(lifecycle())
    w.source.subscribe(late.append)
    release.set()
    w.settle()
    assert len(early) == 1
    assert late == []


def test_unsubscribing_an_unknown_token_is_harmless(w: World) -> None:
    w.source.unsubscribe(12345)


def test_concurrent_emit_from_eight_threads_loses_nothing_and_keeps_each_threads_order(
    w: World,
) -> None:
    received: list[Event] = []
    w.source.subscribe(received.append)
    per_thread = 500
    start = threading.Barrier(8)

    def emitter(n: int) -> None:
        obj = ObjectIdentity(EventKind.DOMAIN, f"vm{n}")
        start.wait(SAFETY)
        for i in range(per_thread):
            w.source.emit(Event(EventKind.DOMAIN, LIFECYCLE, obj, (n, i)))

    threads = [threading.Thread(target=emitter, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SAFETY)
    w.settle()
    assert len(received) == 8 * per_thread
    for n in range(8):
        assert [ev.args[1] for ev in received if ev.args[0] == n] == list(range(per_thread))


def test_events_from_two_sources_sharing_a_dispatcher_arrive_in_emission_order(w: World) -> None:
    hypervisor, network = EventSource(w.dispatcher), EventSource(w.dispatcher)
    events = ConnectionEvents("conn", Handle)
    events.attach(hypervisor)
    events.attach(network)
    rec = Recorder()
    events.register(EventKind.DOMAIN, LIFECYCLE, rec)
    events.register(EventKind.NETWORK, LIFECYCLE, rec)
    net_started = Event(EventKind.NETWORK, LIFECYCLE, NET, (2, 0))
    hypervisor.emit(lifecycle(detail=0))
    network.emit(net_started)
    hypervisor.emit(lifecycle(detail=1))
    w.settle()
    assert rec.events == [lifecycle(detail=0), net_started, lifecycle(detail=1)]


def test_source_without_a_dispatcher_uses_the_default_one() -> None:
    assert EventSource().dispatcher is EventDispatcher.default()


# --- ConnectionEvents: registration ------------------------------------------


def test_first_callback_id_is_zero_like_libvirt(w: World) -> None:
    assert w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder()) == 0


def test_callback_ids_increase_across_kinds_and_are_never_reused(w: World) -> None:
    first = w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    second = w.conn.register(EventKind.DOMAIN, REBOOT, Recorder())
    third = w.conn.register(EventKind.NETWORK, LIFECYCLE, Recorder())
    w.conn.deregister(first)
    fourth = w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    assert [first, second, third, fourth] == [0, 1, 2, 3]


def test_deregistering_an_unknown_id_fails_with_libvirts_error(w: World) -> None:
    with pytest.raises(InvalidArgError) as info:
        w.conn.deregister(99)
    assert str(info.value) == "invalid argument: could not find event callback 99 for deletion"
    assert info.value.code == ErrorNumber.INVALID_ARG
    assert info.value.domain == ErrorDomain.NONE


def test_deregistering_an_id_twice_fails_the_second_time(w: World) -> None:
    callback_id = w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    w.conn.deregister(callback_id)
    with pytest.raises(InvalidArgError, match="could not find event callback 0 for deletion"):
        w.conn.deregister(callback_id)


def test_deregistering_a_negative_id_fails_like_libvirt(w: World) -> None:
    with pytest.raises(InvalidArgError) as info:
        w.conn.deregister(-1)
    assert str(info.value) == (
        "callbackID in virConnectDomainEventDeregisterAny must be zero or greater"
    )
    assert info.value.domain == ErrorDomain.DOMAIN


@pytest.mark.parametrize(
    ("kind", "event_id", "message", "domain"),
    [
        (EventKind.DOMAIN, 27, "eventID must be less than 27", ErrorDomain.DOMAIN),
        (
            EventKind.DOMAIN,
            -1,
            "eventID in virConnectDomainEventRegisterAny must be zero or greater",
            ErrorDomain.DOMAIN,
        ),
        (
            EventKind.NETWORK,
            1,
            "eventID in virConnectNetworkEventRegisterAny must be less than 1",
            ErrorDomain.NETWORK,
        ),
        (
            EventKind.STORAGE_POOL,
            2,
            "eventID in virConnectStoragePoolEventRegisterAny must be less than 2",
            ErrorDomain.STORAGE,
        ),
        (
            EventKind.NODE_DEVICE,
            2,
            "eventID in virConnectNodeDeviceEventRegisterAny must be less than 2",
            ErrorDomain.NODEDEV,
        ),
        (
            EventKind.SECRET,
            2,
            "eventID in virConnectSecretEventRegisterAny must be less than 2",
            ErrorDomain.SECRET,
        ),
    ],
)
def test_event_id_outside_libvirts_range_is_rejected_with_libvirts_message(
    w: World, kind: EventKind, event_id: int, message: str, domain: ErrorDomain
) -> None:
    with pytest.raises(InvalidArgError) as info:
        w.conn.register(kind, event_id, Recorder())
    assert str(info.value) == message
    assert info.value.domain == domain


def test_last_valid_domain_event_id_is_accepted(w: World) -> None:
    w.conn.register(EventKind.DOMAIN, 26, Recorder())


def test_object_filter_of_another_kind_is_rejected(w: World) -> None:
    with pytest.raises(InvalidArgError):
        w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder(), obj=NET)


def test_register_on_a_closed_connection_fails(w: World) -> None:
    w.conn.close()
    with pytest.raises(ConnectionClosedError):
        w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())


def test_attach_on_a_closed_connection_fails(w: World) -> None:
    w.conn.close()
    with pytest.raises(ConnectionClosedError):
        w.conn.attach(w.source)


# --- ConnectionEvents: delivery ------------------------------------------------


def test_callback_gets_the_owner_a_handle_for_the_object_and_the_event(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.source.emit(lifecycle(VM2, 5, 1))
    w.settle()
    [(owner, handle, event)] = rec.calls
    assert owner == "conn"
    assert isinstance(handle, Handle)
    assert handle.ident == VM2
    assert event.args == (5, 1)


def test_callback_runs_on_the_dispatcher_thread(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.source.emit(lifecycle())
    w.settle()
    assert rec.threads[0].name == "test-events"


def test_callback_only_gets_its_kind_and_event_id(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, REBOOT, rec)
    w.source.emit(lifecycle())
    w.source.emit(Event(EventKind.NETWORK, REBOOT, NET))
    reboot = Event(EventKind.DOMAIN, REBOOT, VM1)
    w.source.emit(reboot)
    w.settle()
    assert rec.events == [reboot]


def test_callback_with_an_object_filter_only_gets_that_objects_events(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec, obj=VM2)
    w.source.emit(lifecycle(VM1))
    w.source.emit(lifecycle(VM2))
    w.settle()
    assert rec.events == [lifecycle(VM2)]


def test_object_filter_without_uuid_selects_by_name(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.NODE_DEVICE, LIFECYCLE, rec, obj=DEV)
    other = Event(EventKind.NODE_DEVICE, LIFECYCLE, ObjectIdentity(EventKind.NODE_DEVICE, "x"))
    mine = Event(EventKind.NODE_DEVICE, LIFECYCLE, DEV, (0, 0))
    w.source.emit(other)
    w.source.emit(mine)
    w.settle()
    assert rec.events == [mine]


def test_several_callbacks_for_one_event_share_one_handle(w: World) -> None:
    made: list[ObjectIdentity] = []

    def make_handle(ident: ObjectIdentity) -> Handle:
        made.append(ident)
        return Handle(ident)

    events = ConnectionEvents("c", make_handle)
    events.attach(w.source)
    first, second = Recorder(), Recorder()
    events.register(EventKind.DOMAIN, LIFECYCLE, first)
    events.register(EventKind.DOMAIN, LIFECYCLE, second)
    w.source.emit(lifecycle())
    w.settle()
    assert made == [VM1]
    assert first.calls[0][1] is second.calls[0][1]


def test_failing_handle_factory_is_logged_and_later_events_still_arrive(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    def make_handle(ident: ObjectIdentity) -> object:
        if ident == VM1:
            raise LookupError("gone")
        return Handle(ident)

    events = ConnectionEvents("c", make_handle)
    events.attach(w.source)
    rec = Recorder()
    events.register(EventKind.DOMAIN, LIFECYCLE, rec)
    with caplog.at_level(logging.ERROR, logger="virtcore.events"):
        w.source.emit(lifecycle(VM1))
        w.source.emit(lifecycle(VM2))
        w.settle()
    assert rec.events == [lifecycle(VM2)]
    assert any(r.exc_info and "gone" in str(r.exc_info[1]) for r in caplog.records)


def test_raising_callback_is_logged_and_does_not_stop_later_deliveries(
    w: World, caplog: pytest.LogCaptureFixture
) -> None:
    def bad(owner: object, handle: object, event: Event) -> None:
        raise ValueError("callback bug")

    after = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, bad)
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, after)
    with caplog.at_level(logging.ERROR, logger="virtcore.events"):
        w.source.emit(lifecycle(detail=0))
        w.source.emit(lifecycle(detail=1))
        w.settle()
    assert len(after.calls) == 2
    failures = [r for r in caplog.records if r.exc_info and "callback bug" in str(r.exc_info[1])]
    assert len(failures) == 2


def test_deregistered_callback_gets_no_event_that_was_already_queued(w: World) -> None:
    rec = Recorder()
    callback_id = w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    release = hold(w.dispatcher)
    w.source.emit(lifecycle())
    w.conn.deregister(callback_id)
    release.set()
    w.settle()
    assert rec.calls == []


def test_callback_registered_after_emit_does_not_get_that_event(w: World) -> None:
    early, late = Recorder(), Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, early)
    release = hold(w.dispatcher)
    w.source.emit(lifecycle())
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, late)
    release.set()
    w.settle()
    assert len(early.calls) == 1
    assert late.calls == []


def test_callback_may_deregister_itself(w: World) -> None:
    calls: list[Event] = []
    ids: list[int] = []

    def once(owner: object, handle: object, event: Event) -> None:
        calls.append(event)
        w.conn.deregister(ids[0])

    ids.append(w.conn.register(EventKind.DOMAIN, LIFECYCLE, once))
    w.source.emit(lifecycle(detail=0))
    w.source.emit(lifecycle(detail=1))
    w.settle()
    assert calls == [lifecycle(detail=0)]


def test_callback_may_register_another_callback_which_gets_later_events(w: World) -> None:
    added = Recorder()
    registered = threading.Event()

    def adder(owner: object, handle: object, event: Event) -> None:
        if not registered.is_set():
            w.conn.register(EventKind.DOMAIN, REBOOT, added)
            registered.set()

    w.conn.register(EventKind.DOMAIN, LIFECYCLE, adder)
    w.source.emit(lifecycle())
    w.settle()
    reboot = Event(EventKind.DOMAIN, REBOOT, VM1)
    w.source.emit(reboot)
    w.settle()
    assert added.events == [reboot]


def test_callback_may_call_flush_without_deadlock(w: World) -> None:
    results: list[bool] = []

    def flusher(owner: object, handle: object, event: Event) -> None:
        results.append(w.dispatcher.flush(SAFETY))
        results.append(w.conn.flush(SAFETY))

    w.conn.register(EventKind.DOMAIN, LIFECYCLE, flusher)
    w.source.emit(lifecycle())
    w.settle()
    assert results == [True, True]


def test_callback_may_emit_an_event_which_is_delivered_after_it_returns(w: World) -> None:
    order: list[str] = []
    reboot = Event(EventKind.DOMAIN, REBOOT, VM1)

    def on_lifecycle(owner: object, handle: object, event: Event) -> None:
        w.source.emit(reboot)
        order.append("lifecycle done")

    w.conn.register(EventKind.DOMAIN, LIFECYCLE, on_lifecycle)
    w.conn.register(EventKind.DOMAIN, REBOOT, lambda o, h, e: order.append("reboot"))
    w.source.emit(lifecycle())
    w.settle()
    w.settle()
    assert order == ["lifecycle done", "reboot"]


def test_two_connections_to_one_source_both_receive(w: World) -> None:
    first, second = ConnectionEvents("a", Handle), ConnectionEvents("b", Handle)
    rec_a, rec_b = Recorder(), Recorder()
    for events, rec in ((first, rec_a), (second, rec_b)):
        events.attach(w.source)
        events.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.source.emit(lifecycle())
    w.settle()
    assert [owner for owner, _, _ in rec_a.calls + rec_b.calls] == ["a", "b"]


def test_attaching_the_same_source_twice_delivers_each_event_once(w: World) -> None:
    w.conn.attach(w.source)
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.source.emit(lifecycle())
    w.settle()
    assert len(rec.calls) == 1


def test_detached_source_delivers_nothing_more(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.conn.detach(w.source)
    w.source.emit(lifecycle())
    w.settle()
    assert rec.calls == []
    assert not w.source.has_subscribers


def test_close_drops_events_already_queued_for_the_connection(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    release = hold(w.dispatcher)
    w.source.emit(lifecycle())
    w.conn.close()
    release.set()
    w.settle()
    assert rec.calls == []


def test_close_detaches_from_every_source(w: World) -> None:
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    w.conn.close()
    assert w.conn.closed
    assert not w.source.has_subscribers
    w.source.emit(lifecycle())
    assert w.dispatcher.submitted == 0


def test_close_does_not_affect_other_connections(w: World) -> None:
    other = ConnectionEvents("other", Handle)
    other.attach(w.source)
    rec = Recorder()
    other.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    w.conn.close()
    w.source.emit(lifecycle())
    w.settle()
    assert len(rec.calls) == 1


def test_closing_twice_is_harmless(w: World) -> None:
    w.conn.close()
    w.conn.close()
    assert w.conn.closed


def test_callback_may_close_its_own_connection(w: World) -> None:
    later = Recorder()

    def closer(owner: object, handle: object, event: Event) -> None:
        w.conn.close()

    w.conn.register(EventKind.DOMAIN, LIFECYCLE, closer)
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, later)
    w.source.emit(lifecycle())
    w.settle()
    assert later.calls == []


def test_connection_flush_waits_for_delivery_of_emitted_events(w: World) -> None:
    rec = Recorder()
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, rec)
    w.source.emit(lifecycle())
    assert w.conn.flush(SAFETY)
    assert len(rec.calls) == 1


def test_no_event_loop_registration_is_needed_with_the_default_dispatcher() -> None:
    source = EventSource()
    events = ConnectionEvents("conn", Handle)
    events.attach(source)
    received = threading.Event()
    events.register(EventKind.DOMAIN, LIFECYCLE, lambda c, h, e: received.set())
    source.emit(lifecycle())
    try:
        assert received.wait(SAFETY)
    finally:
        events.close()


# --- EventStream ---------------------------------------------------------------


def test_stream_get_returns_handle_and_event_in_emission_order(w: World) -> None:
    with w.conn.stream(EventKind.DOMAIN) as stream:
        w.source.emit(lifecycle(detail=0))
        w.source.emit(lifecycle(detail=1))
        first, second = stream.get(SAFETY), stream.get(SAFETY)
    assert isinstance(first, ConnectionEvent)
    assert isinstance(first.handle, Handle)
    assert [first.event, second.event] == [lifecycle(detail=0), lifecycle(detail=1)]


def test_stream_get_raises_operation_timeout_when_nothing_arrives(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    with pytest.raises(OperationTimeoutError, match=r"^Timed out during operation: "):
        stream.get(0.01)


def test_stream_get_on_a_closed_stream_raises_operation_invalid(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    stream.close()
    with pytest.raises(OperationInvalidError):
        stream.get(SAFETY)


def test_stream_uses_a_callback_id_from_the_connections_sequence(w: World) -> None:
    w.conn.register(EventKind.DOMAIN, LIFECYCLE, Recorder())
    assert w.conn.stream(EventKind.DOMAIN).callback_id == 1


def test_stream_only_yields_the_requested_event_ids(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN, [REBOOT])
    reboot = Event(EventKind.DOMAIN, REBOOT, VM1)
    w.source.emit(lifecycle())
    w.source.emit(reboot)
    assert stream.get(SAFETY).event == reboot


def test_stream_for_an_object_only_yields_that_objects_events(w: World) -> None:
    stream = w.conn.stream(obj=VM2)
    w.source.emit(lifecycle(VM1))
    w.source.emit(lifecycle(VM2))
    assert stream.get(SAFETY).event == lifecycle(VM2)


def test_stream_without_kind_yields_every_kind(w: World) -> None:
    stream = w.conn.stream()
    net_event = Event(EventKind.NETWORK, LIFECYCLE, NET, (2, 0))
    w.source.emit(net_event)
    w.source.emit(lifecycle())
    assert [stream.get(SAFETY).event, stream.get(SAFETY).event] == [net_event, lifecycle()]


def test_stream_event_ids_without_a_kind_are_rejected(w: World) -> None:
    with pytest.raises(InvalidArgError):
        w.conn.stream(event_ids=[LIFECYCLE])


def test_stream_with_out_of_range_event_id_is_rejected(w: World) -> None:
    with pytest.raises(InvalidArgError, match="must be less than 1"):
        w.conn.stream(EventKind.NETWORK, [1])


def test_full_stream_drops_its_oldest_events_and_counts_them(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN, maxsize=2)
    for detail in range(5):
        w.source.emit(lifecycle(detail=detail))
    w.settle()
    assert stream.dropped == 3
    assert [stream.get(SAFETY).event.args[1] for _ in range(2)] == [3, 4]


def test_sync_iteration_ends_when_the_connection_closes(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    seen: list[Event] = []
    got_one = threading.Event()

    def consume() -> None:
        for item in stream:
            seen.append(item.event)
            got_one.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    w.source.emit(lifecycle())
    assert got_one.wait(SAFETY)
    w.conn.close()
    consumer.join(SAFETY)
    assert not consumer.is_alive()
    assert seen == [lifecycle()]


def test_deregistering_a_streams_id_ends_the_stream(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    w.conn.deregister(stream.callback_id)
    assert stream.closed
    assert list(stream) == []


def test_closing_a_stream_removes_its_registration(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    stream.close()
    with pytest.raises(InvalidArgError):
        w.conn.deregister(stream.callback_id)
    w.source.emit(lifecycle())
    assert w.dispatcher.submitted == 0


def test_closing_a_stream_drops_events_it_buffered(w: World) -> None:
    stream = w.conn.stream(EventKind.DOMAIN)
    w.source.emit(lifecycle())
    w.settle()
    stream.close()
    assert list(stream) == []


def test_async_iteration_receives_events_emitted_from_another_thread(w: World) -> None:
    async def main() -> list[Event]:
        received: list[Event] = []
        async with w.conn.stream(EventKind.DOMAIN) as stream:

            def emit_three() -> None:
                for detail in range(3):
                    w.source.emit(lifecycle(detail=detail))

            emitter = threading.Thread(target=emit_three)
            emitter.start()
            async for item in stream:
                received.append(item.event)
                if len(received) == 3:
                    break
            emitter.join(SAFETY)
        return received

    received = asyncio.run(asyncio.wait_for(main(), SAFETY))
    assert [ev.args[1] for ev in received] == [0, 1, 2]


def test_async_iteration_stops_when_the_connection_closes(w: World) -> None:
    async def main() -> list[Event]:
        received: list[Event] = []
        stream = w.conn.stream(EventKind.DOMAIN)
        threading.Thread(target=w.source.emit, args=(lifecycle(),)).start()
        async for item in stream:
            received.append(item.event)
            # The loop is now waiting for a next event; close() must end it.
            threading.Thread(target=w.conn.close).start()
        return received

    assert asyncio.run(asyncio.wait_for(main(), SAFETY)) == [lifecycle()]


def test_async_iteration_of_a_closed_stream_ends_at_once(w: World) -> None:
    async def main() -> list[ConnectionEvent]:
        stream = w.conn.stream(EventKind.DOMAIN)
        await stream.aclose()
        return [item async for item in stream]

    assert asyncio.run(asyncio.wait_for(main(), SAFETY)) == []


def test_async_with_unsubscribes_on_exit(w: World) -> None:
    async def main() -> int:
        async with w.conn.stream(EventKind.DOMAIN) as stream:
            return stream.callback_id

    callback_id = asyncio.run(main())
    with pytest.raises(InvalidArgError):
        w.conn.deregister(callback_id)
    w.source.emit(lifecycle())
    assert w.dispatcher.submitted == 0


def test_cancelled_async_consumer_leaves_the_stream_usable(w: World) -> None:
    async def main() -> Event:
        stream = w.conn.stream(EventKind.DOMAIN)
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        threading.Thread(target=w.source.emit, args=(lifecycle(),)).start()
        item = await stream.__anext__()
        return item.event

    assert asyncio.run(asyncio.wait_for(main(), SAFETY)) == lifecycle()
