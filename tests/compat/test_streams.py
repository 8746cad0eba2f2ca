"""virStream: the calls, and libvirt-python's sendAll/recvAll loops including sparse ones."""

from __future__ import annotations

import pytest

from virtcore import libvirt
from virtcore.objects import Stream, StreamBackend

HOLE = -3


class MemoryBackend(StreamBackend):
    """A driver-side stream over bytes; ``layout`` mixes data chunks and hole lengths."""

    def __init__(self, layout: list[bytes | int] | None = None) -> None:
        self.received = bytearray()
        self.holes: list[int] = []
        self.layout = list(layout or [])
        self.finished = False
        self.aborted = False

    def send(self, data: bytes) -> int:
        self.received += data
        return len(data)

    def recv(self, nbytes: int) -> bytes:
        while self.layout and isinstance(self.layout[0], int):
            self.layout.pop(0)
        if not self.layout:
            return b""
        chunk = self.layout.pop(0)
        assert isinstance(chunk, bytes)
        return chunk[:nbytes]

    def recv_flags(self, nbytes: int, flags: int) -> bytes | int:
        if self.layout and isinstance(self.layout[0], int):
            return HOLE
        return self.recv(nbytes)

    def recv_hole(self, flags: int) -> int:
        hole = self.layout.pop(0)
        assert isinstance(hole, int)
        return hole

    def send_hole(self, length: int, flags: int) -> None:
        self.holes.append(length)

    def finish(self) -> None:
        self.finished = True

    def abort(self) -> None:
        self.aborted = True


def _stream(conn: libvirt.virConnect, backend: StreamBackend) -> libvirt.virStream:
    st = conn.newStream(0)
    native = st.native
    assert isinstance(native, Stream)
    native.bind(backend)
    return st


def test_new_stream_is_a_virstream(conn: libvirt.virConnect) -> None:
    assert isinstance(conn.newStream(), libvirt.virStream)


def test_unbound_stream_is_not_supported(conn: libvirt.virConnect) -> None:
    with pytest.raises(libvirt.libvirtError) as info:
        conn.newStream().send(b"x")
    assert info.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT


def test_send_returns_the_bytes_accepted(conn: libvirt.virConnect) -> None:
    assert _stream(conn, MemoryBackend()).send(b"abc") == 3


def test_finish_and_abort_return_zero(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    st = _stream(conn, backend)
    assert (st.finish(), st.abort(), backend.finished, backend.aborted) == (0, 0, True, True)


def test_send_all_sends_until_the_handler_returns_nothing(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    chunks = [b"one", b"two", b""]
    _stream(conn, backend).sendAll(lambda st, n, opaque: opaque.pop(0), chunks)
    assert bytes(backend.received) == b"onetwo"


def test_send_all_aborts_when_the_handler_raises(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()

    def handler(st: libvirt.virStream, nbytes: int, opaque: object) -> bytes:
        raise OSError("disk gone")

    with pytest.raises(OSError):
        _stream(conn, backend).sendAll(handler, None)
    assert backend.aborted


def test_recv_all_passes_every_chunk(conn: libvirt.virConnect) -> None:
    got: list[bytes] = []
    st = _stream(conn, MemoryBackend([b"ab", b"cd"]))
    st.recvAll(lambda s, data, opaque: opaque.append(data), got)
    assert got == [b"ab", b"cd"]


def test_recv_all_aborts_when_the_handler_fails(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend([b"ab"])
    with pytest.raises(RuntimeError, match="returned -1"):
        _stream(conn, backend).recvAll(lambda s, data, opaque: -1, None)
    assert backend.aborted


def test_sparse_recv_all_reports_holes(conn: libvirt.virConnect) -> None:
    events: list[object] = []
    st = _stream(conn, MemoryBackend([b"ab", 4096, b"cd"]))
    st.sparseRecvAll(
        lambda s, data, opaque: opaque.append(data),
        lambda s, length, opaque: opaque.append(length),
        events,
    )
    assert events == [b"ab", 4096, b"cd"]


def test_sparse_send_all_turns_holes_into_send_hole(conn: libvirt.virConnect) -> None:
    backend = MemoryBackend()
    sections = [(True, 2), (False, 4096), (True, 2), (True, 0)]
    data = [b"ab", b"cd"]

    def hole_handler(st: libvirt.virStream, opaque: object) -> tuple[bool, int]:
        return sections.pop(0)

    _stream(conn, backend).sparseSendAll(
        lambda st, n, opaque: data.pop(0) if n else b"",
        hole_handler,
        lambda st, length, opaque: 0,
        None,
    )
    assert (bytes(backend.received), backend.holes) == (b"abcd", [4096])


def test_stream_callbacks_need_an_event_loop(conn: libvirt.virConnect) -> None:
    st = _stream(conn, MemoryBackend())
    with pytest.raises(libvirt.libvirtError):
        st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, lambda *a: None, None)


def test_stream_callback_runs_in_the_default_loop(conn: libvirt.virConnect) -> None:
    libvirt.virEventRegisterDefaultImpl()
    st = _stream(conn, MemoryBackend())
    seen: list[tuple[object, ...]] = []
    st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, lambda *a: seen.append(a), "o")
    libvirt.virEventRunDefaultImpl()
    st.eventRemoveCallback()
    assert seen == [(st, libvirt.VIR_STREAM_EVENT_READABLE, "o")]
