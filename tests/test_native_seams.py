"""Public native seams: removing event callbacks by kind, flushing events, sparse streams.

``Connection.event_deregister(callback_id, kind)`` and
``Connection.flush_events(timeout)`` let a layer built on the native API
(virtcore.libvirt is one) remove callbacks and wait for deliveries without
reaching into the connection; ``Stream.send_hole``, ``recv_hole`` and
``recv_flags`` pass sparse-stream calls to the driver's backend, and a
backend that lacks one (any call) reports libvirt's NO_SUPPORT naming the API.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import virtcore
from tests.fakedrivers import FakeConnectDriver, FakeHypervisor, plugin_of
from virtcore.connection import Connection
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConnectionClosedError, InvalidArgError, NoSupportError
from virtcore.events import EventKind
from virtcore.objects import Stream, StreamBackend
from virtcore.registry import Registry

SAFETY = 10.0
STOP_AT_HOLE = 1
HOLE = -3


@pytest.fixture
def conn(registry: Registry) -> Iterator[Connection]:
    hv = FakeHypervisor()
    registry.register(plugin_of(FakeConnectDriver(hypervisor=hv, with_network=True)), "fake")
    with virtcore.open("fake:///x", registry=registry) as c:
        yield c


class Dense(StreamBackend):
    """Data without holes: only ``recv`` (and ``send``) are implemented."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = data
        self.sent = bytearray()

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def recv(self, nbytes: int) -> bytes:
        chunk, self.data = self.data[:nbytes], self.data[nbytes:]
        return chunk


class Sparse(Dense):
    """Data, then a hole of 4096 bytes, then more data."""

    def __init__(self) -> None:
        super().__init__(b"ab")
        self.layout: list[bytes | int] = [b"ab", 4096, b"cd"]
        self.holes: list[tuple[int, int]] = []

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        head = self.layout[0]
        if isinstance(head, int):
            return HOLE
        self.layout.pop(0)
        return head

    def recv_hole(self, flags: int) -> int:
        hole = self.layout.pop(0)
        assert isinstance(hole, int)
        return hole

    def send_hole(self, length: int, flags: int) -> None:
        self.holes.append((length, flags))


class Inert(StreamBackend):
    """A backend implementing nothing at all."""


def _stream(conn: Connection, backend: StreamBackend) -> Stream:
    st = conn.new_stream()
    st.bind(backend)
    return st


# -- event_deregister ----------------------------------------------------------------------


def test_a_deregistered_callback_gets_no_more_events(conn: Connection) -> None:
    got: list[object] = []
    cid = conn.event_register(EventKind.DOMAIN, 0, lambda c, o, e: got.append(e))
    conn.event_deregister(cid)
    conn.domain_lookup_by_name("one").create()
    assert conn.flush_events(SAFETY)
    assert got == []


def test_deregistering_an_unknown_id_is_an_invalid_argument(conn: Connection) -> None:
    with pytest.raises(InvalidArgError) as info:
        conn.event_deregister(7, EventKind.NETWORK)
    assert info.value.message == "invalid argument: could not find event callback 7 for deletion"


def test_a_negative_id_names_the_kinds_api(conn: Connection) -> None:
    with pytest.raises(InvalidArgError) as info:
        conn.event_deregister(-1, EventKind.NETWORK)
    assert (info.value.message, info.value.domain) == (
        "callbackID in virConnectNetworkEventDeregisterAny must be zero or greater",
        ErrorDomain.NETWORK,
    )


def test_deregistering_on_a_closed_connection_names_the_kinds_api(conn: Connection) -> None:
    conn.close()
    with pytest.raises(ConnectionClosedError) as info:
        conn.event_deregister(0, EventKind.NETWORK)
    assert (info.value.message, info.value.domain) == (
        "invalid connection pointer in virConnectNetworkEventDeregisterAny",
        ErrorDomain.NETWORK,
    )


def test_the_kind_defaults_to_domain_events(conn: Connection) -> None:
    conn.close()
    with pytest.raises(ConnectionClosedError) as info:
        conn.event_deregister(0)
    assert "virConnectDomainEventDeregisterAny" in info.value.message


# -- flush_events --------------------------------------------------------------------------


def test_flush_returns_once_earlier_events_were_delivered(conn: Connection) -> None:
    got: list[tuple[object, ...]] = []
    conn.event_register(EventKind.DOMAIN, 0, lambda c, o, e: got.append(e.args))
    conn.domain_lookup_by_name("one").create()
    assert conn.flush_events(SAFETY) is True
    assert got == [(2, 0)]


def test_flush_from_inside_a_callback_does_not_wait_for_itself(conn: Connection) -> None:
    results: list[bool] = []
    done = threading.Event()

    def callback(c: object, o: object, e: object) -> None:
        results.append(conn.flush_events(SAFETY))
        done.set()

    conn.event_register(EventKind.DOMAIN, 0, callback)
    conn.domain_lookup_by_name("one").create()
    assert done.wait(SAFETY)
    assert results == [True]


def test_flush_on_a_closed_connection_has_nothing_to_wait_for(conn: Connection) -> None:
    conn.close()
    assert conn.flush_events(SAFETY) is True


# -- sparse streams -----------------------------------------------------------------------


def test_recv_flags_reports_a_hole_from_a_sparse_backend(conn: Connection) -> None:
    st = _stream(conn, Sparse())
    assert [st.recv_flags(10, STOP_AT_HOLE), st.recv_flags(10, STOP_AT_HOLE)] == [b"ab", HOLE]


def test_recv_hole_returns_the_backends_hole_length(conn: Connection) -> None:
    st = _stream(conn, Sparse())
    st.recv_flags(10, STOP_AT_HOLE)
    assert st.recv_hole() == 4096


def test_send_hole_reaches_the_backend_with_its_flags(conn: Connection) -> None:
    backend = Sparse()
    _stream(conn, backend).send_hole(8192, 0)
    assert backend.holes == [(8192, 0)]


@pytest.mark.parametrize(
    ("call", "api"),
    [
        (lambda st: st.send_hole(4096), "virStreamSendHole"),
        (lambda st: st.recv_hole(), "virStreamRecvHole"),
        (lambda st: st.recv_flags(4, STOP_AT_HOLE), "virStreamRecvFlags"),
        (lambda st: st.recv_flags(4, 0), "virStreamRecvFlags"),
    ],
)
def test_a_dense_backend_has_no_sparse_calls(conn: Connection, call: object, api: str) -> None:
    # libvirt's file streams (a test-driver screenshot, say) lack the same three.
    st = _stream(conn, Dense(b"abc"))
    with pytest.raises(NoSupportError) as info:
        call(st)  # type: ignore[operator]
    assert (info.value.code, info.value.domain, info.value.message) == (
        ErrorNumber.NO_SUPPORT,
        ErrorDomain.STREAMS,
        f"this function is not supported by the connection driver: {api}",
    )


@pytest.mark.parametrize(
    ("call", "api"),
    [
        (lambda st: st.send(b"x"), "virStreamSend"),
        (lambda st: st.recv(1), "virStreamRecv"),
    ],
)
def test_a_backend_without_data_calls_reports_no_support(
    conn: Connection, call: object, api: str
) -> None:
    st = _stream(conn, Inert())
    with pytest.raises(NoSupportError) as info:
        call(st)  # type: ignore[operator]
    assert info.value.message == f"this function is not supported by the connection driver: {api}"


def test_an_unbound_stream_supports_no_sparse_calls(conn: Connection) -> None:
    with pytest.raises(NoSupportError):
        conn.new_stream().send_hole(4096)


def test_sparse_calls_on_a_closed_connection_fail_as_closed(conn: Connection) -> None:
    st = _stream(conn, Sparse())
    conn.close()
    with pytest.raises(ConnectionClosedError):
        st.recv_hole()
